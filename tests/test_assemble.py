"""Assembly of the master network: how towns are joined to the roads that pass them."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from corridors.network.assemble import PLACE_SERVE_KM, assemble
from corridors.network.backbone import Backbone, both_directions, empty_columns
from corridors.network.specs import Facility, LinkSpec
from shapely.geometry import LineString


def _backbone(roads: list[tuple[str, str, list[tuple[float, float]]]]) -> Backbone:
    """A backbone of straight roads: (ref, class, [(lon, lat), (lon, lat)])."""
    nodes, edges = [], []
    for k, (ref, cls, (a, b)) in enumerate(roads):
        u, v = 2 * k, 2 * k + 1
        nodes += [{"node": u, "x": a[0], "y": a[1], "kind": "junction", "source": "backbone"},
                  {"node": v, "x": b[0], "y": b[1], "kind": "junction", "source": "backbone"}]
        line = LineString([a, b])
        km = gpd.GeoSeries([line], crs="EPSG:4326").to_crs(32648).length.iloc[0] / 1000
        edges.append({"u": u, "v": v, "key": 0, "mode": "road", "class": cls, "ref": ref,
                      "length_km": km, "source": f"test:{ref}", "geometry": line})
    n = pd.DataFrame(nodes).set_index("node")
    n = gpd.GeoDataFrame(n, geometry=gpd.points_from_xy(n["x"], n["y"]), crs="EPSG:4326")
    e = gpd.GeoDataFrame(edges, geometry="geometry", crs="EPSG:4326")
    return Backbone(n, both_directions(empty_columns(e)), {})


def _joins(edges: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame, place: str) -> set[str]:
    """Return the refs of the roads a place's join connectors reach."""
    node = nodes.index[nodes["place_id"] == place][0]
    joins = edges[(edges["source"] == "join") & (edges["u"] == node)]
    reached = set(joins["v"])
    on = edges[(edges["source"].str.startswith("test:")) & (edges["u"].isin(reached))]
    return set(on["ref"])


def test_a_town_between_two_roads_is_joined_to_both():
    # QL12 0.9 km west of the town, ĐT279 0.1 km east (Điện Biên Phủ), an expressway 1 km east
    # and a national road 5 km away
    lat0, lat1 = 21.30, 21.45
    roads = [("QL12", "national", [(103.008, lat0), (103.008, lat1)]),
             ("ĐT279", "provincial", [(103.018, lat0), (103.018, lat1)]),
             ("CT", "expressway", [(103.027, lat0), (103.027, lat1)]),
             ("QL2E", "national", [(103.065, lat0), (103.065, lat1)])]
    town = Facility("town_dbp", "Điện Biên Phủ", "place", 103.017, 21.386)
    gate = Facility("gate_x", "Gate", "gate", 103.017, 21.32)
    nodes, edges, _ = assemble(_backbone(roads), [town, gate], [])
    assert _joins(edges, nodes, "town_dbp") == {"QL12", "ĐT279"}
    # a gate keeps its one join to the nearest road
    assert _joins(edges, nodes, "gate_x") == {"ĐT279"}
    assert PLACE_SERVE_KM < 5


def test_a_point_on_a_road_keeps_a_single_join():
    roads = [("QL6", "national", [(105.0, 20.0), (105.2, 20.0)])]
    town = Facility("town_a", "A", "place", 105.1, 20.001)
    nodes, edges, _ = assemble(_backbone(roads), [town], [])
    node = nodes.index[nodes["place_id"] == "town_a"][0]
    assert ((edges["source"] == "join") & (edges["u"] == node)).sum() == 1


def test_a_waypoint_shared_by_two_projects_keeps_each_ones_join():
    # two expressway sections of different projects meet at a waypoint beside QL6: the waypoint
    # is joined to QL6 once per project, so that it is joined in every year one of them is open
    roads = [("QL6", "national", [(105.0, 20.0), (105.4, 20.0)])]
    shared = (105.2, 20.01)
    west = LinkSpec("p_west", "west", "road", "expressway", ((105.0, 20.2), shared),
                    open_year=2028)
    east = LinkSpec("p_east", "east", "road", "expressway", (shared, (105.4, 20.2)),
                    open_year=2029)
    nodes, edges, _ = assemble(_backbone(roads), [], [west, east])
    at = nodes.index[(nodes["x"] == shared[0]) & (nodes["y"] == shared[1])]
    assert len(at) == 1
    joins = edges[(edges["source"] == "join") & (edges["u"] == at[0])]
    assert sorted(joins["project"]) == ["p_east", "p_west"]
    assert joins["v"].nunique() == 1  # the same point of QL6
