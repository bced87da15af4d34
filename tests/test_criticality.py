"""Criticality of road links for gate access (corridors.analysis.criticality).

Small networks in the canonical schema, with answers worked out by hand; a brute-force check
(close every link, rebuild the router) on a random grid; and the embedded 2025 network.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from corridors.network.assemble import AssemblyReport
from corridors.network.build import NetworkTables
from corridors.network.routing import Router
from shapely.geometry import LineString

from corridors.analysis.criticality import COLUMNS, critical_links, criticality_summary
from corridors.build.analysis_network import AnalysisNetwork
from corridors.catalog.model import Catalog, Place

GATE, HN = "gate_test", "city_ha_noi"


# -- helpers ---------------------------------------------------------------------------------------
def place(pid, kind):
    return Place(id=pid, name=pid.title(), name_vi=pid, kind=kind, lat=21.0, lon=105.0,
                 province="P", province_2025="P", source="test", location_method="test",
                 location_confidence="high")


def make_net(roads, n, places=None, label="test"):
    """An AnalysisNetwork from two-way roads ``(a, b, time_h[, class, source, bend])``.

    Each road gives the rows a→b and b→a with the same geometry (reversed); nodes stand 0.01°
    apart on a line, and ``bend`` (degrees north) draws the road through a midpoint off the line,
    so that two roads between the same nodes can differ in geometry. ``places`` maps place ids
    to nodes (default: the gate on node 0, Hà Nội on the last node).
    """
    places = places or {GATE: 0, HN: n - 1}
    x = 105.0 + 0.01 * np.arange(n)
    y = np.full(n, 21.0)
    pid = [None] * n
    for p, node in places.items():
        pid[node] = p
    nodes = gpd.GeoDataFrame(
        {"x": x, "y": y, "kind": ["gate" if p == GATE else "junction" for p in pid],
         "name": None, "place_id": pid, "source": "test"},
        geometry=gpd.points_from_xy(x, y), crs="EPSG:4326",
        index=pd.Index(np.arange(n, dtype=np.int64), name="node"))
    rows = []
    for i, road in enumerate(roads):
        a, b, t = road[:3]
        cls = road[3] if len(road) > 3 else "national"
        src = road[4] if len(road) > 4 else f"giaothong:gt_{i}"
        bend = road[5] if len(road) > 5 else 0.0
        pts = [(x[a], y[a])] + ([((x[a] + x[b]) / 2, 21.0 + bend)] if bend else []) + [(x[b], y[b])]
        line = LineString(pts)
        for u, v, g in ((a, b, line), (b, a, line.reverse())):
            rows.append({"u": u, "v": v, "key": 0, "mode": "road", "class": cls,
                         "length_km": 50.0 * t, "time_h_car": t, "time_h_truck": 1.5 * t,
                         "cost_vnd_truck": 0.0, "source": src, "name": f"Road {src}",
                         "ref": src.split(":")[-1].upper(), "geometry": g})
    edges = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    tables = NetworkTables(year=2025, nodes=nodes, edges=edges, assembly=AssemblyReport())
    kinds = {p: ("border_gate" if p.startswith("gate") else "city") for p in places}
    catalog = Catalog(places={p: place(p, k) for p, k in kinds.items()}, projects={}, links={},
                      corridors={}, provinces=pd.DataFrame())
    return AnalysisNetwork(label, tables, catalog)


def links_of(table):
    return set(table["link_id"])


# -- hand-made networks ----------------------------------------------------------------------------
def test_path_graph_every_road_link_disconnects():
    # gate 0 -join- 1 -QL- 2 -QL- 3 (Hà Nội); the join connector is never closed by default
    net = make_net([(0, 1, 0.1, "connector", "join"), (1, 2, 1.0), (2, 3, 2.0)], 4)
    t = critical_links(net)
    assert list(t.columns) == COLUMNS
    assert isinstance(t, gpd.GeoDataFrame) and t.crs.to_epsg() == 4326
    assert links_of(t) == {"1-2", "2-3"}
    assert t["disconnects"].all()
    assert np.isinf(t["closed_time_h"]).all() and np.isinf(t["delay_h"]).all()
    assert (t["rank"] == 1).all()
    assert t["base_time_h"].to_numpy() == pytest.approx(3.1)
    middle = t[t["link_id"] == "1-2"].iloc[0]
    assert (middle["u"], middle["v"]) == (1, 2)  # in the direction of the gate's path
    assert middle["edge_source"] == "giaothong:gt_1" and middle["road_ref"] == "GT_1"
    assert middle["length_km"] == pytest.approx(50.0)
    assert middle["geometry"].equals(LineString([(105.01, 21.0), (105.02, 21.0)]))
    assert (t["scenario"] == "test").all() and (t["gate_id"] == GATE).all()
    assert (t["destination"] == HN).all()
    # the connector is a link too when asked for
    assert "0-1" in links_of(critical_links(net, exclude_classes=()))


def test_ring_closure_forces_the_known_detour():
    # fastest 0-1-2-3 = 3 h; bypasses 0-2 (3 h) and 1-3 (2.5 h) are never on it
    roads = [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (0, 2, 3.0), (1, 3, 2.5)]
    t = critical_links(make_net(roads, 4)).set_index("link_id")
    assert set(t.index) == {"0-1", "1-2", "2-3"}          # not 0-2, not 1-3
    assert not t["disconnects"].any()
    assert t["base_time_h"].to_numpy() == pytest.approx(3.0)
    # close 0-1: 0-2-3 = 4 h; close 1-2 or 2-3: 0-1-3 = 3.5 h
    assert t.loc["0-1", "closed_time_h"] == pytest.approx(4.0)
    assert t.loc["0-1", "delay_h"] == pytest.approx(1.0)
    assert t.loc["1-2", "delay_h"] == pytest.approx(0.5)
    assert t.loc["2-3", "delay_h"] == pytest.approx(0.5)
    assert t["rank"].to_dict() == {"0-1": 1, "1-2": 2, "2-3": 2}


def test_top_keeps_the_worst_and_all_disconnections():
    # gate 0 -a- 1 (a bridge) then the ring of the previous test shifted by one node
    roads = [(0, 1, 0.5), (1, 2, 1.0), (2, 3, 1.0), (3, 4, 1.0), (1, 3, 3.0), (2, 4, 2.5)]
    # ranks: 0-1 cuts the gate off (1); 1-2 → 1-3-4, delay 1 h (2); 2-3 and 3-4 → 0.5 h (3)
    assert links_of(critical_links(make_net(roads, 5), top=1)) == {"0-1"}
    t = critical_links(make_net(roads, 5), top=2)
    assert links_of(t) == {"0-1", "1-2"}
    assert t.set_index("link_id")["disconnects"].to_dict() == {"0-1": True, "1-2": False}
    assert t.set_index("link_id")["rank"].to_dict() == {"0-1": 1, "1-2": 2}
    assert set(critical_links(make_net(roads, 5), top=3)["rank"]) == {1, 2, 3}
    assert len(critical_links(make_net(roads, 5), top=None)) == 4


def test_links_off_the_fastest_path_never_appear():
    # a long loop 1-4-5-2 beside the fast road 1-2 and a dead-end spur 2-6
    roads = [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (1, 4, 1.0), (4, 5, 1.0), (5, 2, 1.0),
             (2, 6, 0.2)]
    t = critical_links(make_net(roads, 7, {GATE: 0, HN: 3}), top=None)
    assert links_of(t) == {"0-1", "1-2", "2-3"}
    assert t.set_index("link_id").loc["1-2", "delay_h"] == pytest.approx(2.0)


def test_parallel_twins_close_together():
    # 1-2 is one road digitised twice (QL1A fast, QL45 slightly slower, same geometry) and a
    # distinct old road (other geometry, 3 h). Closing the road closes both twins: the trip
    # takes the old road (delay 2 h), not the twin (which would give 0.1 h).
    roads = [(0, 1, 0.5), (1, 2, 1.0, "national", "giaothong:ql1a"),
             (1, 2, 1.1, "national", "giaothong:ql45"),
             (1, 2, 3.0, "provincial", "giaothong:old", 0.01)]
    net = make_net(roads, 3)
    assert len(net.router().graph.data) == 4  # the router keeps one entry per direction
    t = critical_links(net).set_index("link_id")
    assert set(t.index) == {"0-1", "1-2/0"}
    row = t.loc["1-2/0"]
    assert row["edge_source"] == "giaothong:ql1a;giaothong:ql45"
    assert row["road_ref"] == "QL1A / QL45"
    assert not row["disconnects"]
    assert row["closed_time_h"] == pytest.approx(3.5)
    assert row["delay_h"] == pytest.approx(2.0)
    # without the old road the twins are a bridge: closing them cuts the gate off
    t2 = critical_links(make_net(roads[:3], 3)).set_index("link_id")
    assert bool(t2.loc["1-2", "disconnects"]) and math.isinf(t2.loc["1-2", "closed_time_h"])


def test_two_distinct_parallel_roads_are_not_a_bridge():
    roads = [(0, 1, 1.0), (0, 1, 1.5, "national", "giaothong:b", 0.01), (1, 2, 1.0)]
    t = critical_links(make_net(roads, 3)).set_index("link_id")
    assert t.loc["0-1/0", "delay_h"] == pytest.approx(0.5)
    assert not t.loc["0-1/0", "disconnects"]
    assert bool(t.loc["1-2", "disconnects"])


def test_profiles_and_destinations():
    roads = [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (0, 2, 3.0), (1, 3, 2.5)]
    net = make_net(roads, 4, {GATE: 0, HN: 3, "town_x": 2})
    t = critical_links(net, profile="truck", destinations=["town_x"])
    assert set(t["destination"]) == {"town_x"} and (t["profile"] == "truck").all()
    # to node 2: 0-1-2 = 1.5 + 1.5 h by truck; closing either link → 0-2 (4.5 h)
    assert t.set_index("link_id")["delay_h"].to_dict() == pytest.approx({"0-1": 1.5, "1-2": 1.5})
    with pytest.raises(KeyError, match="nowhere"):
        critical_links(net, destinations=["nowhere"])


def test_an_unreachable_pair_is_listed_and_the_reachable_one_still_ranked():
    # gate 0 - 1 - Hà Nội 2; gate_cut 3 - 4 on an island of its own
    net = make_net([(0, 1, 1.0), (1, 2, 1.0), (3, 4, 1.0)], 5,
                   {GATE: 0, HN: 2, "gate_cut": 3})
    t = critical_links(net)
    assert list(t.columns) == COLUMNS
    assert t.attrs["unreachable"] == [("gate_cut", HN)]
    assert set(t["gate_id"]) == {GATE} and links_of(t) == {"0-1", "1-2"}
    assert t["disconnects"].all()
    summary = criticality_summary(t)
    assert len(summary) == 2 and set(summary["link_id"]) == {"0-1", "1-2"}
    # nothing reachable at all: no row, but every pair listed
    alone = critical_links(make_net([(0, 1, 1.0), (2, 3, 1.0)], 4))
    assert alone.empty and list(alone.columns) == COLUMNS
    assert alone.attrs["unreachable"] == [(GATE, HN)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_closing_every_link_and_rebuilding(seed):
    """Exactness: brute force over every road link, not only those on the fastest paths."""
    rng = np.random.default_rng(seed)
    side = 5
    roads = []
    for r in range(side):
        for c in range(side):
            i = r * side + c
            if c + 1 < side:
                roads.append((i, i + 1, float(rng.uniform(0.1, 1.0))))
            if r + 1 < side and rng.random() < 0.6:
                roads.append((i, i + side, float(rng.uniform(0.1, 1.0))))
    roads += [(roads[k][0], roads[k][1], roads[k][2] + 0.05, "national", f"twin:{k}")
              for k in range(0, len(roads), 7)]
    places = {GATE: 0, "gate_two": 12, HN: side * side - 1, "town_x": side * (side - 1)}
    net = make_net(roads, side * side, places)
    dests = [HN, "town_x"]
    got = critical_links(net, destinations=dests, top=None)

    edges = net.tables.edges
    gates = [g.id for g in net.gates()]
    src = [places[g] for g in gates]
    tgt = [places[d] for d in dests]
    base, _ = net.router().matrix(src, tgt)
    twin_of = {f"twin:{k}": f"giaothong:gt_{k}" for k in range(0, len(roads), 7)}
    link = edges["source"].replace(twin_of)
    expected = {}
    for s in link.unique():
        closed, _ = Router(net.tables.nodes, edges[link != s], "car").matrix(src, tgt)
        for i, g in enumerate(gates):
            for j, d in enumerate(dests):
                if closed[i, j] - base[i, j] > 1e-6:
                    expected[(g, d, s.split(":")[-1])] = closed[i, j] - base[i, j]
    mine = {(r.gate_id, r.destination, r.edge_source.split(";")[0].split(":")[-1]): r.delay_h
            for r in got.itertuples()}
    assert mine.keys() == expected.keys()
    for k, delay in expected.items():
        assert mine[k] == pytest.approx(delay, rel=1e-9, abs=1e-7)


def _brute_force(net, roads, twin_of, places, dests):
    """Close every road link (its rows in both directions and its twins), rebuild, re-route."""
    edges = net.tables.edges
    gates = [g.id for g in net.gates()]
    src = [places[g] for g in gates]
    tgt = [places[d] for d in dests]
    base, _ = net.router().matrix(src, tgt)
    link = edges["source"].replace(twin_of)
    expected = {}
    for s in link[edges["class"] != "connector"].unique():
        closed, _ = Router(net.tables.nodes, edges[link != s], "car").matrix(src, tgt)
        for i, g in enumerate(gates):
            for j, d in enumerate(dests):
                if closed[i, j] - base[i, j] > 1e-6:
                    expected[(g, d, s.split(":")[-1])] = closed[i, j] - base[i, j]
    return expected


@pytest.mark.parametrize("seed", [3, 4, 5, 6])
def test_pruned_searches_agree_with_brute_force_on_random_graphs(seed):
    """Exactness of the bounded detour searches on random sparse graphs.

    Long detours (beyond the first search limit), disconnections, twins, distinct parallel
    roads and connectors (never closed, may carry detours) all occur.
    """
    rng = np.random.default_rng(seed)
    n = 40
    roads = [(i, i + 1, float(rng.uniform(0.05, 0.5))) for i in range(n - 1)]  # a spine
    for _ in range(30):
        a, b = sorted(int(x) for x in rng.choice(n, 2, replace=False))
        roads.append((a, b, float(rng.uniform(0.05, 4.0))))
    k0 = len(roads)
    for k in rng.choice(k0, 6, replace=False):  # twins: same road under another source
        a, b, t = roads[k][:3]
        roads.append((a, b, t + 0.01, "national", f"twin:{k}"))
    for k in rng.choice(k0, 4, replace=False):  # distinct slower roads between the same nodes
        a, b, t = roads[k][:3]
        roads.append((a, b, 3 * t, "provincial", f"giaothong:alt_{k}", 0.02))
    for k in range(3):  # connectors: schematic joins, never closed
        a, b = sorted(int(x) for x in rng.choice(n, 2, replace=False))
        roads.append((a, b, float(rng.uniform(0.5, 2.0)), "connector", f"join:{k}"))
    places = {GATE: 0, "gate_two": int(rng.integers(1, n // 2)), HN: n - 1,
              "town_x": int(rng.integers(n // 2, n - 1))}
    net = make_net(roads, n, places)
    dests = [HN, "town_x"]
    got = critical_links(net, destinations=dests, top=None)
    twin_of = {f"twin:{k}": f"giaothong:gt_{k}" for k in range(k0)}
    expected = _brute_force(net, roads, twin_of, places, dests)
    mine = {(r.gate_id, r.destination, r.edge_source.split(";")[0].split(":")[-1]): r.delay_h
            for r in got.itertuples()}
    assert mine.keys() == expected.keys()
    assert expected  # the graphs do have critical links
    for k, delay in expected.items():
        assert mine[k] == pytest.approx(delay, rel=1e-9, abs=1e-7)
    assert got.attrs["closures"] > 0


@pytest.mark.parametrize("seed", range(5))
def test_bridges_equal_networkx_on_random_multigraphs(seed):
    import networkx as nx

    from corridors.analysis.criticality import _bridges

    rng = np.random.default_rng(seed)
    n = 60
    ends = [(i, int(rng.integers(0, i))) for i in range(1, n)]  # a random tree ...
    ends += [tuple(int(x) for x in rng.choice(n, 2, replace=False)) for _ in range(15)]
    ends += [ends[int(k)] for k in rng.choice(len(ends), 5)]  # ... cycles and parallel edges
    ends += [(1000 + k, 1001 + k) for k in range(0, 6, 2)]  # other components
    ends = np.array([(min(a, b), max(a, b)) for a, b in ends], dtype=np.int64)
    G = nx.MultiGraph()
    G.add_edges_from((int(a), int(b), k) for k, (a, b) in enumerate(ends))
    pairs = set(nx.bridges(G))
    want = np.array([(a, b) in pairs or (b, a) in pairs for a, b in ends.tolist()])
    got = _bridges(ends)
    np.testing.assert_array_equal(got, want)
    assert 0 < got.sum() < len(ends)


def test_long_detour_beyond_the_first_limit():
    # base 0-1-2 = 1 h; closing 1-2 leaves 1-3-2 (10 h): far beyond the bounded first search
    roads = [(0, 1, 0.5), (1, 2, 0.5), (1, 3, 5.0), (3, 2, 5.0)]
    t = critical_links(make_net(roads, 4, {GATE: 0, HN: 2})).set_index("link_id")
    assert t.loc["1-2", "closed_time_h"] == pytest.approx(10.5)
    assert t.loc["1-2", "delay_h"] == pytest.approx(9.5)
    assert bool(t.loc["0-1", "disconnects"])


def test_summary_counts_gates_and_delays():
    t = pd.DataFrame({
        "scenario": "s", "gate_id": ["g1", "g1", "g2", "g2", "g3"],
        "destination": ["a", "b", "a", "a", "a"],
        "link_id": ["L1", "L1", "L1", "L2", "L2"],
        "edge_source": ["x", "x", "x", "y", "y"], "road_name": "R", "road_ref": "R",
        "road_class": "national", "u": 1, "v": 2, "length_km": 1.0,
        "delay_h": [np.inf, 0.5, 2.0, 0.25, 3.0],
        "disconnects": [True, False, False, False, False]})
    s = criticality_summary(t).set_index("link_id")
    assert s.loc["L1"][["gates_affected", "gates_disconnected", "pairs_affected",
                        "pairs_disconnected"]].tolist() == [2, 1, 3, 1]
    assert s.loc["L1", "max_delay_h"] == pytest.approx(2.0)
    assert s.loc["L1", "total_delay_h"] == pytest.approx(2.5)
    assert s.loc["L2", "gates_disconnected"] == 0
    assert s.loc["L2", "total_delay_h"] == pytest.approx(3.25)
    assert s["rank"].to_dict() == {"L1": 1, "L2": 2}
    assert "geometry" not in s


# -- the embedded 2025 network ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def table25(base_builds):
    r = base_builds[2025]
    # Vietnam's network, as the run uses it: no detour through China or Laos
    net = AnalysisNetwork("2025", r.tables, r.catalog).domestic()
    return net, critical_links(net, top=None)


def test_real_2025_every_gate_has_rows_for_ha_noi(table25):
    net, t = table25
    assert t.attrs["unreachable"] == []
    hn = t[t["destination"] == HN]
    assert set(hn["gate_id"]) == {g.id for g in net.gates()}
    assert (hn.groupby("gate_id")["rank"].min() == 1).all()
    assert (t["scenario"] == "2025").all() and t.crs.to_epsg() == 4326
    assert t.geometry.notna().all() and (t.geom_type == "LineString").all()
    # the base time is the router's time
    r = net.router("car")
    g = net.gates()[0]
    base, _ = r.matrix([net.node_of(g.id)], [net.node_of(HN)])
    assert hn[hn["gate_id"] == g.id]["base_time_h"].iloc[0] == pytest.approx(base[0, 0])
    # no connectors closed by default; every row a real delay; infinities iff disconnections
    assert not (t["road_class"] == "connector").any()
    assert (t["delay_h"] > 0).all()
    assert (np.isinf(t["closed_time_h"]) == t["disconnects"]).all()


def test_real_2025_remote_gates_hang_on_single_roads(table25):
    _, t = table25
    cut = t[(t["destination"] == HN) & t["disconnects"]]
    refs = cut.groupby("gate_id")["road_ref"].apply(set)
    # Cao Bằng's gates hang on QL34 / ĐT203, Hữu Nghị on QL4A, Mường Khương on QL40 (Trà Lĩnh
    # no longer: phase 1 of the Đồng Đăng – Trà Lĩnh expressway, open since December 2025,
    # gives it a second way out)
    for gate in ("gate_ly_van", "gate_po_peo", "gate_soc_giang"):
        assert refs[gate] & {"QL34", "ĐT203"}
    assert "QL4A" in refs["gate_huu_nghi"]
    assert "QL40" in refs["gate_muong_khuong"]
    # the big gates of the Lào Cai and Móng Cái areas have detours for every single closure
    for gate in ("gate_lao_cai_road", "gate_kim_thanh", "gate_mong_cai", "gate_tay_trang"):
        assert gate not in refs.index
    s = criticality_summary(t)
    # a single closure on QL34 still cuts several of Cao Bằng's gates off
    assert s["gates_disconnected"].max() >= 2
    assert s["rank"].tolist() == list(range(1, len(s) + 1))
