"""The year's graph as OSMnx expects it (network.graph.to_graph), on the embedded networks.

OSMnx must validate it, route a car on it as the toolkit's car router does (same nodes, same
time), read back its GraphML, and never drive a car over a railway.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import osmnx as ox
import pytest
from corridors.network.graph import car_graph, read_graphml, to_graph, write_graphml
from corridors.network.routing import Router
from shapely.geometry import LineString

from corridors.analysis.locate import locate
from corridors.build.analysis_network import AnalysisNetwork
from corridors.build.pipeline import build_networks

YEARS = (2025, 2030)
#: Car trips between places, as ``corridors route`` names them.
TRIPS = [("Hà Nội", "Lào Cai"), ("Hà Nội", "Lạng Sơn"), ("Lào Cai", "Hà Nội"),
         ("huu nghi", "seaport_hai_phong")]  # the last ends through a port's road transfer


@pytest.fixture(scope="module")
def nets():
    """Both years from one master network, each with its graph and the toolkit's car router."""
    out = {}
    for year, res in build_networks(list(YEARS)).items():
        net = AnalysisNetwork(str(year), res.tables, res.catalog)
        out[year] = (net, to_graph(res.tables.nodes, res.tables.edges, year=year))
    return out


def _ox_route(G, o, d):
    """OSMnx's fastest car route and its time (h): the path, and the edges route_to_gdf picks."""
    path = ox.routing.shortest_path(G, o, d, weight="travel_time")
    if path is None:
        return None, None
    gdf = ox.routing.route_to_gdf(G, path, weight="travel_time")
    return path, float(gdf["travel_time"].sum()) / 3600.0


@pytest.mark.parametrize("year", YEARS)
def test_validate_graph_passes_and_every_edge_has_osmnx_attributes(nets, year):
    net, G = nets[year]
    ox.convert.validate_graph(G, strict=True)
    edges = net.tables.edges
    assert G.number_of_edges() == len(edges) and G.number_of_nodes() == len(net.tables.nodes)
    car_modes = {"road", "transfer"}
    for _, _, d in G.edges(data=True):
        for attr in ("length", "speed_kph", "travel_time"):
            assert type(d[attr]) is float, (attr, d[attr])
        assert isinstance(d["osmid"], int)
        assert d["length"] == pytest.approx(d["length_km"] * 1000.0)
        if d["mode"] in car_modes:
            assert d["travel_time"] == pytest.approx(d["time_h_car"] * 3600.0, rel=1e-12)
            assert d["speed_kph"] == d["speed_kmh_car"]
            # fixed times (transfers, border clearance) come on top of length / speed
            assert d["travel_time"] >= d["length"] / (d["speed_kph"] / 3.6) - 1e-6
        else:
            assert d["travel_time"] == math.inf and d["speed_kph"] == 0.0
    osm = [d for _, _, d in G.edges(data=True) if d["source"].startswith("osm:way/")]
    assert osm and all(d["osmid"] == int(d["source"][8:]) for d in osm)
    counts = nx.get_node_attributes(G, "street_count")
    assert len(counts) == G.number_of_nodes()
    assert all(type(c) is int and c >= 0 for c in counts.values())
    # a two-way road is one street at each end, not two
    hn = net.node_of("city_ha_noi")
    assert counts[hn] == len({w for w in nx.all_neighbors(G, hn)
                              if any(d["mode"] in car_modes for d in
                                     [*G.get_edge_data(hn, w, default={}).values(),
                                      *G.get_edge_data(w, hn, default={}).values()])})


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("trip", TRIPS, ids=lambda t: f"{t[0]}-{t[1]}")
def test_osmnx_route_equals_the_toolkit_car_route(nets, year, trip):
    net, G = nets[year]
    o, d = (locate(net, p).node for p in trip)
    want = net.router("car").route(o, d)  # what `corridors route FROM TO` reports
    path, hours = _ox_route(G, o, d)
    assert path == want.nodes
    assert abs(hours - want.time_h) < 1e-6
    # the car view routes the same
    assert ox.routing.shortest_path(car_graph(G), o, d, weight="travel_time") == want.nodes


def test_graphml_round_trip_through_osmnx(nets, tmp_path):
    net, G = nets[2030]
    path = write_graphml(G, tmp_path / "network_2030.graphml")
    H = ox.load_graphml(path)
    ox.convert.validate_graph(H, strict=True)
    assert H.number_of_edges() == G.number_of_edges()
    assert H.graph["crs"] == "EPSG:4326" and H.graph["year"] == 2030
    o, d = net.node_of("city_ha_noi"), net.node_of("city_lao_cai")
    want_path, want_h = _ox_route(G, o, d)
    got_path, got_h = _ox_route(H, o, d)
    assert got_path == want_path and abs(got_h - want_h) < 1e-9
    for u, v, k, e in G.edges(keys=True, data=True):
        h = H.edges[u, v, k]
        for attr in ("length", "speed_kph", "travel_time"):
            assert type(h[attr]) is float and h[attr] == e[attr], attr
        assert h["osmid"] == e["osmid"] and isinstance(h["geometry"], LineString)
        assert h["geometry"].equals_exact(e["geometry"], 0)
    assert all(type(c) is int for c in nx.get_node_attributes(H, "street_count").values())
    # the toolkit's reader types its own columns too
    R = read_graphml(path)
    for u, v, k, e in list(G.edges(keys=True, data=True))[:200]:
        r = R.edges[u, v, k]
        assert r["time_h_car"] == e["time_h_car"] and r["schematic"] is e["schematic"]
        assert r["length_km"] == e["length_km"] and r["mode"] == e["mode"]


def test_a_car_never_drives_on_a_railway(nets):
    net, G = nets[2025]
    t = net.tables
    router = Router(t.nodes, t.edges, "car")
    counts = nx.get_node_attributes(G, "street_count")
    rail = t.edges[(t.edges["mode"] == "rail")]
    # a railway between two stations a car reaches: the train beats any road between them
    fast = rail[rail["u"].map(counts).gt(0) & rail["v"].map(counts).gt(0)]
    row = fast.loc[fast["time_h_car"].idxmin()]
    path, hours = _ox_route(G, int(row.u), int(row.v))
    want = router.route(int(row.u), int(row.v))
    assert path == want.nodes and abs(hours - want.time_h) < 1e-6
    assert hours > 10 * row.time_h_car  # the railway was not taken
    modes = ox.routing.route_to_gdf(G, path, weight="travel_time")["mode"]
    assert set(modes) <= {"road", "transfer"}

    # a node reached by rail alone: no car route in the toolkit, none on the car view, and
    # only an infinite time on the whole graph
    o = net.node_of("city_ha_noi")
    rail_only = next(n for n, c in counts.items()
                     if c == 0 and G.in_degree(n) > 0
                     and all(d["mode"] == "rail" for _, _, d in G.in_edges(n, data=True)))
    assert router.route(o, rail_only) is None
    assert ox.routing.shortest_path(car_graph(G), o, rail_only, weight="travel_time") is None
    path = ox.routing.shortest_path(G, o, rail_only, weight="travel_time")
    assert nx.path_weight(G, path, "travel_time") == math.inf
    assert np.isinf(ox.routing.route_to_gdf(G, path, weight="travel_time")["travel_time"]).any()
