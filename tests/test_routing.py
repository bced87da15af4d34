"""The routing engine (network.routing.Router) against networkx and against answers known by hand.

Synthetic networks are canonical node and edge tables (network.schema) built here; the real ones
are the embedded networks of 2025 and 2030.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from corridors.network.routing import Router
from corridors.network.schema import ROUTING_PROFILES
from pyproj import Transformer
from shapely.geometry import LineString, Point

from corridors.core.constants import METRIC_CRS

TO_LONLAT = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)
#: Origin of the synthetic networks in the metric CRS (near 21.5 N, 105 E).
X0, Y0 = 500_000.0, 2_380_000.0


# -- helpers ---------------------------------------------------------------------------------------
def make_tables(edges, n=None, xy=None, kinds=None):
    """Canonical node and edge tables from ``(u, v, time_h, km[, mode, class])`` tuples.

    Nodes stand at ``xy`` (metres in the metric CRS; default 1 km apart on a west-east line) and
    each edge is drawn straight from ``u`` to ``v``.
    """
    rows = [(*e, "road", "national")[:6] if len(e) == 4 else tuple(e) for e in edges]
    if n is None:
        n = max(max(r[0], r[1]) for r in rows) + 1
    xy = np.asarray(xy, dtype=float) if xy is not None else np.column_stack(
        [X0 + 1000.0 * np.arange(n), np.full(n, Y0)])
    lon, lat = TO_LONLAT.transform(xy[:, 0], xy[:, 1])
    nodes = gpd.GeoDataFrame(
        {"x": lon, "y": lat, "kind": list(kinds) if kinds is not None else ["junction"] * n,
         "name": None, "place_id": None, "source": "test"},
        geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326",
        index=pd.Index(np.arange(n, dtype=np.int64), name="node"))
    u = [r[0] for r in rows]
    v = [r[1] for r in rows]
    t = np.array([r[2] for r in rows], dtype=float)
    edges_df = gpd.GeoDataFrame(
        {"u": u, "v": v, "key": 0, "mode": [r[4] for r in rows], "class": [r[5] for r in rows],
         "length_km": [r[3] for r in rows], "time_h_car": t, "time_h_truck": 1.5 * t,
         "cost_vnd_truck": 0.0},
        geometry=[LineString([(lon[a], lat[a]), (lon[b], lat[b])]) for a, b in zip(u, v,
                                                                                    strict=True)],
        crs="EPSG:4326")
    return nodes, edges_df


def random_edges(rng, n, m, parallel=0.1):
    """Random directed edges with float times and independent float lengths (no ties)."""
    u = rng.integers(0, n, m)
    v = rng.integers(0, n, m)
    keep = u != v
    u, v = u[keep], v[keep]
    k = int(parallel * len(u))  # parallel copies of some edges, with other times and lengths
    u, v = np.concatenate([u, u[:k]]), np.concatenate([v, v[:k]])
    t = rng.uniform(0.01, 1.0, len(u))
    km = rng.uniform(0.5, 60.0, len(u))
    return [(int(a), int(b), float(c), float(d)) for a, b, c, d in zip(u, v, t, km, strict=True)]


def to_digraph(edges, profile="car"):
    """networkx DiGraph of a profile's modes keeping, of parallel edges, the fastest."""
    timing, modes = ROUTING_PROFILES[profile]
    G = nx.DiGraph()
    for u, v, t, km, mode in zip(edges["u"], edges["v"], edges[f"time_h_{timing}"],
                                 edges["length_km"], edges["mode"], strict=True):
        if mode not in modes or not np.isfinite(t):
            continue
        old = G.get_edge_data(u, v)
        if old is None or t < old["time"]:
            G.add_edge(int(u), int(v), time=float(t), length=float(km))
    return G


def unique_path_lengths(G, source, tol=1e-7):
    """Times from ``source`` and, where the fastest path is unique, its length (else NaN)."""
    dist = nx.single_source_dijkstra_path_length(G, source, weight="time")
    length = {source: 0.0}
    for v in sorted(dist, key=dist.get):
        if v == source:
            continue
        tight = [u for u in G.predecessors(v)
                 if u in dist and dist[u] + G[u][v]["time"] <= dist[v] + tol]
        if len(tight) == 1 and not np.isnan(length[tight[0]]):
            length[v] = length[tight[0]] + G[tight[0]][v]["length"]
        else:
            length[v] = np.nan
    return dist, length


def check_against_networkx(nodes, edges, sources, targets, profile="car"):
    router = Router(nodes, edges, profile)
    G = to_digraph(edges, profile)
    time_h, length_km = router.matrix(sources, targets)
    compared = reachable = 0
    for i, s in enumerate(sources):
        dist, length = unique_path_lengths(G, s) if s in G else ({s: 0.0}, {s: 0.0})
        want_t = np.array([dist.get(t, np.inf) for t in targets])
        np.testing.assert_allclose(time_h[i], want_t, rtol=0, atol=1e-6)
        assert np.array_equal(np.isinf(time_h[i]), np.isinf(want_t))
        assert np.array_equal(np.isinf(length_km[i]), np.isinf(want_t))
        want_km = np.array([length.get(t, np.inf) for t in targets])
        sure = ~np.isnan(want_km) & np.isfinite(want_km)
        np.testing.assert_allclose(length_km[i, sure], want_km[sure], rtol=1e-9, atol=1e-9)
        compared += int(sure.sum())
        reachable += int(np.isfinite(want_km).sum())
    return compared, reachable


# -- agreement with networkx -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def net25(base_builds):
    return base_builds[2025].tables


@pytest.fixture(scope="module")
def net30(base_builds):
    return base_builds[2030].tables


@pytest.mark.parametrize(("year", "profile"), [(2025, "car"), (2025, "passenger"),
                                               (2030, "truck"), (2030, "freight")])
def test_matrix_agrees_with_networkx_on_the_real_network(year, profile, net25, net30):
    t = net25 if year == 2025 else net30
    rng = np.random.default_rng(year)
    ids = t.nodes.index.to_numpy()
    sources = rng.choice(ids, 25, replace=False).tolist()
    gates = t.nodes.index[t.nodes["kind"] == "gate"].tolist()
    targets = ids.tolist()  # every node: pairs of all kinds, reachable or not
    compared, reachable = check_against_networkx(t.nodes, t.edges, sources + gates[:5],
                                                 targets, profile)
    assert reachable > 30 * 100
    assert compared > 0.5 * reachable  # most pairs have one fastest path: their km checked


@pytest.mark.parametrize("seed", range(6))
def test_matrix_agrees_with_networkx_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 400))
    edges = random_edges(rng, n, int(rng.integers(n, 6 * n)))
    nodes, e = make_tables(edges, n=n, xy=np.column_stack([rng.uniform(4e5, 6e5, n),
                                                           rng.uniform(2.3e6, 2.4e6, n)]))
    sources = rng.choice(n, min(n, 20), replace=False).tolist()
    targets = rng.choice(n, min(n, 50), replace=False).tolist()
    compared, reachable = check_against_networkx(nodes, e, sources, targets)
    assert compared > 0.5 * reachable


# -- small graphs with known answers ---------------------------------------------------------------
def diamond():
    """0 -> 1 -> 3 fast (1 h, 80 km); 0 -> 2 -> 3 slow but short (2 h, 60 km); 4 isolated."""
    return make_tables([(0, 1, 0.5, 40.0), (1, 3, 0.5, 40.0),
                        (0, 2, 1.0, 30.0), (2, 3, 1.0, 30.0)], n=5)


def test_diamond_fastest_branch():
    time_h, km = Router(*diamond()).matrix([0], [3])
    assert time_h[0, 0] == pytest.approx(1.0, abs=1e-9)
    assert km[0, 0] == pytest.approx(80.0, abs=1e-9)
    route = Router(*diamond()).route(0, 3)
    assert route.nodes == [0, 1, 3]
    assert route.time_h == pytest.approx(1.0) and route.length_km == pytest.approx(80.0)


def test_weight_length_takes_the_shortest_km_path():
    router = Router(*diamond(), weight="length")
    time_h, km = router.matrix([0], [3])
    assert km[0, 0] == pytest.approx(60.0, abs=1e-9)
    assert time_h[0, 0] == pytest.approx(2.0, abs=1e-9)
    assert router.route(0, 3).nodes == [0, 2, 3]


def test_truck_profile_uses_truck_times():
    time_h, _ = Router(*diamond(), profile="truck").matrix([0], [3])
    assert time_h[0, 0] == pytest.approx(1.5, abs=1e-9)


def test_unreachable_is_inf():
    router = Router(*diamond())
    time_h, km = router.matrix([0, 4], [4, 3])
    assert np.isinf(time_h[0, 0]) and np.isinf(km[0, 0])  # 0 -> 4
    assert np.isinf(time_h[1, 1]) and np.isinf(km[1, 1])  # 4 -> 3
    assert time_h[1, 0] == 0 and km[1, 0] == 0  # 4 -> 4
    assert router.route(0, 4) is None


def test_one_way_edge_is_respected():
    router = Router(*make_tables([(0, 1, 0.3, 20.0)]))
    time_h, _ = router.matrix([0, 1], [0, 1])
    assert time_h[0, 1] == pytest.approx(0.3)
    assert np.isinf(time_h[1, 0])
    assert router.route(1, 0) is None


def test_parallel_edges_keep_the_fastest():
    edges = [(0, 1, 1.0, 10.0), (0, 1, 0.5, 30.0), (0, 1, 0.8, 5.0)]
    time_h, km = Router(*make_tables(edges)).matrix([0], [1])
    assert time_h[0, 0] == pytest.approx(0.5) and km[0, 0] == pytest.approx(30.0)
    route = Router(*make_tables(edges)).route(0, 1)
    assert route.edge_rows == [1] and route.length_km == pytest.approx(30.0)
    time_h, km = Router(*make_tables(edges), weight="length").matrix([0], [1])
    assert km[0, 0] == pytest.approx(5.0) and time_h[0, 0] == pytest.approx(0.8)


def test_zero_time_transfer_edge_still_connects():
    edges = [(0, 1, 0.5, 40.0), (1, 2, 0.0, 0.2, "transfer", "road_rail"),
             (2, 3, 0.7, 60.0, "rail", "metre")]
    router = Router(*make_tables(edges), "passenger")
    time_h, km = router.matrix([0, 1], [2, 3])
    assert time_h[1, 0] == pytest.approx(0.0, abs=1e-8)  # the 0 h edge alone
    np.testing.assert_allclose(time_h[0], [0.5, 1.2], atol=1e-8)
    np.testing.assert_allclose(km[0], [40.2, 100.2], atol=1e-9)
    route = router.route(0, 3)
    assert route.nodes == [0, 1, 2, 3] and route.transfers == 1


def test_unknown_node_raises_naming_it():
    with pytest.raises(KeyError, match="99"):
        Router(*diamond()).matrix([99])


def test_bad_profile_or_weight():
    with pytest.raises(ValueError, match="profile"):
        Router(*diamond(), profile="bike")
    with pytest.raises(ValueError, match="weight"):
        Router(*diamond(), weight="cost")


# -- routes ----------------------------------------------------------------------------------------
def multimodal_line():
    """A west-east corridor: road, a border gate, road, transfer, rail, transfer, road.

    Node positions are cumulative km along the line, so each edge's length_km is its drawn
    length. A slow direct road 0 -> 7 is never the fastest.
    """
    km = [0.0, 10.0, 30.0, 35.0, 35.5, 65.5, 66.0, 76.0]
    kinds = ["place", "junction", "gate", "junction", "station", "station", "junction", "place"]
    xy = np.column_stack([X0 + 1000.0 * np.array(km), np.full(len(km), Y0)])
    legs = [(0, 1, "road", "national", 60.0), (1, 2, "road", "expressway", 90.0),
            (2, 3, "road", "national", 50.0), (3, 4, "transfer", "road_rail", None),
            (4, 5, "rail", "metre", 40.0), (5, 6, "transfer", "road_rail", None),
            (6, 7, "road", "provincial", 40.0)]
    edges = [(a, b, (km[b] - km[a]) / s if s else 0.25, km[b] - km[a], m, c)
             for a, b, m, c, s in legs]
    edges.append((0, 7, 10.0, 76.0, "road", "local"))
    return make_tables(edges, xy=xy, kinds=kinds)


def test_route_breakdown():
    nodes, edges = multimodal_line()
    route = Router(nodes, edges, "passenger").route(0, 7)
    assert route.nodes == list(range(8))
    assert route.length_km == pytest.approx(76.0)
    assert sum(route.km_by_mode.values()) == pytest.approx(route.length_km, abs=1e-3)
    assert sum(route.km_by_class.values()) == pytest.approx(route.length_km, abs=1e-3)
    assert route.km_by_mode == pytest.approx({"road": 45.0, "rail": 30.0, "transfer": 1.0})
    assert route.km_by_class["road:expressway"] == pytest.approx(20.0)
    assert route.transfers == 2
    assert route.border_crossings == 1  # the gate in the middle
    want_h = 10 / 60 + 20 / 90 + 5 / 50 + 0.25 + 30 / 40 + 0.25 + 10 / 40
    assert route.time_h == pytest.approx(want_h)
    time_h, km = Router(nodes, edges, "passenger").matrix([0], [7])
    assert time_h[0, 0] == pytest.approx(route.time_h, abs=1e-9)
    assert km[0, 0] == pytest.approx(route.length_km, abs=1e-9)


def test_route_geometry_is_a_line_of_the_route_length():
    nodes, edges = multimodal_line()
    route = Router(nodes, edges, "passenger").route(0, 7)
    assert isinstance(route.geometry, LineString)
    metric = gpd.GeoSeries([route.geometry], crs="EPSG:4326").to_crs(METRIC_CRS).iloc[0]
    assert metric.length / 1000 == pytest.approx(route.length_km, rel=1e-4)
    lon0, lat0 = nodes.loc[0, ["x", "y"]]
    lon7, lat7 = nodes.loc[7, ["x", "y"]]
    ends = {route.geometry.coords[0], route.geometry.coords[-1]}
    assert ends == {(lon0, lat0), (lon7, lat7)}


def test_gates_at_the_ends_are_not_crossings():
    nodes, edges = multimodal_line()
    router = Router(nodes, edges, "passenger")
    assert router.route(2, 7).border_crossings == 0  # starts at the gate
    assert router.route(0, 2).border_crossings == 0  # ends at it
    assert router.route(1, 3).border_crossings == 1
    assert router.route(3, 7).transfers == 2 and router.route(3, 7).border_crossings == 0


def test_car_and_truck_stay_off_the_rail():
    nodes, edges = multimodal_line()
    for profile in ("car", "truck"):
        route = Router(nodes, edges, profile).route(0, 7)
        assert route.nodes == [0, 7] and route.km_by_mode == {"road": 76.0}
    assert Router(nodes, edges, "freight").route(0, 7).km_by_mode["rail"] == pytest.approx(30)


def test_route_to_itself():
    nodes, edges = multimodal_line()
    route = Router(nodes, edges, "passenger").route(3, 3)
    assert route.nodes == [3] and route.time_h == 0 and route.length_km == 0


# -- nearest facility ------------------------------------------------------------------------------
def test_nearest_on_a_line_with_two_targets():
    rng = np.random.default_rng(7)
    n = 21
    seg_h = rng.uniform(0.1, 1.0, n - 1)  # random: no node is equally far from both
    edges = [e for i in range(n - 1) for e in ((i, i + 1, seg_h[i], 10.0),
                                               (i + 1, i, seg_h[i], 10.0))]
    a, b = 4, 15
    time_h, which = Router(*make_tables(edges, n=n)).nearest([a, b])
    pos = np.concatenate([[0.0], np.cumsum(seg_h)])  # hours from node 0 along the line
    to_a, to_b = np.abs(pos - pos[a]), np.abs(pos - pos[b])
    np.testing.assert_array_equal(which, np.where(to_a < to_b, a, b))
    np.testing.assert_allclose(time_h, np.minimum(to_a, to_b), atol=1e-8)


def test_nearest_measures_the_time_to_the_target_not_from_it():
    # one-way 0 -> 1 -> 2; target 2: node 0 reaches it, but it reaches nobody
    edges = [(0, 1, 0.5, 1.0), (1, 2, 0.25, 1.0), (3, 2, 5.0, 1.0)]
    time_h, which = Router(*make_tables(edges, n=5)).nearest([2])
    np.testing.assert_allclose(time_h[:4], [0.75, 0.25, 0.0, 5.0], atol=1e-8)
    assert which.tolist() == [2, 2, 2, 2, -1] and np.isinf(time_h[4])


# -- planner invariant -----------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(20))
def test_a_new_edge_never_lengthens_a_shortest_time(seed):
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(10, 80))
    edges = random_edges(rng, n, int(rng.integers(n, 4 * n)))
    before, _ = Router(*make_tables(edges, n=n)).matrix(range(n))
    for _ in range(3):  # a few projects, each on top of the last
        a, b = rng.choice(n, 2, replace=False)
        edges.append((int(a), int(b), float(rng.uniform(0.001, 2.0)), 5.0))
        after, _ = Router(*make_tables(edges, n=n)).matrix(range(n))
        assert np.all(after <= before + 1e-12)
        assert after[a, b] <= edges[-1][2] + 1e-9  # and the project's own pair gains it
        before = after


# -- isochrones ------------------------------------------------------------------------------------
def straight_road(n_seg=20, seg_km=10.0, speed_kmh=50.0):
    """A two-way west-east road of ``n_seg`` segments at a known speed."""
    edges = [e for i in range(n_seg) for e in ((i, i + 1, seg_km / speed_kmh, seg_km),
                                               (i + 1, i, seg_km / speed_kmh, seg_km))]
    xy = np.column_stack([X0 + 1000 * seg_km * np.arange(n_seg + 1), np.full(n_seg + 1, Y0)])
    return make_tables(edges, xy=xy)


def test_isochrones_on_a_straight_road():
    nodes, edges = straight_road()  # 200 km at 50 km/h; origin in the middle (100 km)
    iso = Router(nodes, edges).isochrones(10, cutoffs_h=(0.9, 1, 2), buffer_m=2000)
    assert iso["cutoff_h"].tolist() == [0.9, 1, 2]
    assert iso["area_km2"].is_monotonic_increasing
    assert iso["area_km2"].iloc[0] < iso["area_km2"].iloc[1] < iso["area_km2"].iloc[2]
    shapes = iso.to_crs(METRIC_CRS).geometry.tolist()
    centre = X0 + 100_000

    def at(km_east):
        return Point(centre + 1000 * km_east, Y0)

    reach = {0.9: 45.0, 1: 50.0, 2: 100.0}  # km reachable each way
    for cut, shape in zip([0.9, 1, 2], shapes, strict=True):
        r = reach[cut]
        for side in (-1, 1):
            assert shape.contains(at(side * (r - 1))), (cut, side)  # reachable
            assert not shape.contains(at(side * (r + 3))), (cut, side)  # beyond (+ 2 km buffer)
        assert not shape.contains(Point(centre, Y0 + 3000))  # off the road, past the buffer
        # a 2 km buffer around 2r km of road: 4 km wide, with round ends
        assert shape.area / 1e6 == pytest.approx(2 * r * 4 + np.pi * 4, rel=0.02)


def test_isochrone_needs_time_weight():
    with pytest.raises(ValueError, match="time"):
        Router(*straight_road(), weight="length").isochrones(0)


# -- pointer doubling on deep trees ----------------------------------------------------------------
def test_along_on_a_deep_path_is_exact():
    n = 5000
    rng = np.random.default_rng(3)
    km = rng.integers(1, 20, n - 1).astype(float)  # integers: every order of summing is exact
    hours = rng.uniform(0.01, 0.1, n - 1)
    edges = list(zip(range(n - 1), range(1, n), hours, km, strict=True))
    router = Router(*make_tables(edges, n=n))
    time_h, length_km = router.matrix([0, 2500])
    want_km = np.concatenate([[0.0], np.cumsum(km)])
    np.testing.assert_array_equal(length_km[0], want_km)
    np.testing.assert_array_equal(length_km[1, 2500:], want_km[2500:] - want_km[2500])
    assert np.isinf(length_km[1, :2500]).all()
    want_h = np.concatenate([[0.0], np.cumsum(hours)])
    np.testing.assert_allclose(router.along(router.search([0])[1], "time")[0], want_h,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(time_h[0], want_h, rtol=0, atol=1e-9)  # no drift over 5,000 edges


def test_along_with_float_lengths_and_a_branching_tree():
    rng = np.random.default_rng(11)
    n = 3000
    parent = np.concatenate([[0], [rng.integers(max(0, i - 5), i) for i in range(1, n)]])
    km = rng.uniform(0.1, 30.0, n)
    edges = [(int(parent[i]), i, 1.0, float(km[i])) for i in range(1, n)]
    _, length_km = Router(*make_tables(edges, n=n)).matrix([0])
    want = np.zeros(n)
    for i in range(1, n):  # parents come first
        want[i] = want[parent[i]] + km[i]
    np.testing.assert_allclose(length_km[0], want, rtol=1e-12)


def test_matrix_targets_select_columns():
    nodes, edges = multimodal_line()
    router = Router(nodes, edges, "passenger")
    full_t, full_km = router.matrix([0, 3])
    t, km = router.matrix([0, 3], [7, 5, 0])
    np.testing.assert_array_equal(t, full_t[:, [7, 5, 0]])
    np.testing.assert_array_equal(km, full_km[:, [7, 5, 0]])


def test_geometry_of_straight_road_is_simple():
    nodes, edges = straight_road(n_seg=3)
    route = Router(nodes, edges).route(0, 3)
    assert shapely.get_num_coordinates(route.geometry) == 4
