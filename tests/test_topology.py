"""Loose lines made routable (network.topology.node_lines): dangling ends snapped, lines split at
junctions and crossings, components bridged; on lines drawn here, in metres (UTM 48N) unless
said otherwise, with the report of what moved.

The lines are a few hundred metres to a few km long, so most tests pass a snapping tolerance of
100 m (the default, 1 km, is meant for national roads drawn line by line): with it, the free end
of every line here would be snapped onto the nearest other end.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import pytest
from corridors.network.topology import node_lines
from shapely.geometry import LineString, MultiLineString

from corridors.core.constants import METRIC_CRS

TOL = {"tolerance_m": 100, "bridge_m": 500}

# A point in the study area in UTM 48N (about 21.7 N, 105.6 E).
X0, Y0 = 600_000.0, 2_400_000.0


def _lines(*coords, crs=METRIC_CRS, **attrs) -> gpd.GeoDataFrame:
    geoms = [LineString([(X0 + x, Y0 + y) for x, y in c]) for c in coords]
    return gpd.GeoDataFrame({"ref": [f"L{i}" for i in range(len(geoms))], **attrs},
                            geometry=geoms, crs=crs)


def _graph(seg: gpd.GeoDataFrame) -> nx.Graph:
    g = nx.Graph()
    g.add_edges_from(zip(seg["u_xy"], seg["v_xy"], strict=True))
    return g


def _at(x, y):
    """The node key of a point (1 m grid)."""
    return (round(X0 + x), round(Y0 + y))


def test_lines_meeting_end_to_end_are_left_as_they_are():
    seg, rep = node_lines(_lines([(0, 0), (1000, 0)], [(1000, 0), (1000, 700)]), **TOL)
    assert (rep.lines, rep.ends_moved, rep.largest_move_m) == (2, 0, 0.0)
    assert (rep.components_before, rep.components_after, rep.segments) == (1, 1, 2)
    assert rep.connectors == 0 and not seg["snap_connector"].any()
    assert list(seg["ref"]) == ["L0", "L1"] and seg.crs == METRIC_CRS
    assert seg.length.sum() == pytest.approx(1700)


def test_an_end_on_another_line_splits_it_there():
    seg, rep = node_lines(_lines([(0, 0), (1000, 0)], [(400, 0), (400, 600)]), **TOL)
    assert (rep.ends_moved, rep.segments, rep.components_before) == (0, 3, 1)
    assert sorted(round(s.length) for s in seg.geometry) == [400, 600, 600]
    assert _graph(seg).degree[_at(400, 0)] == 3  # a T-junction
    assert list(seg["ref"]).count("L0") == 2


def test_a_dangling_end_short_of_a_road_is_moved_onto_it():
    seg, rep = node_lines(_lines([(0, 0), (1000, 0)], [(400, 30), (400, 600)]), **TOL)
    assert (rep.ends_moved, rep.largest_move_m) == (1, 30.0)
    assert (rep.components_before, rep.components_after, rep.segments) == (2, 1, 3)
    branch = seg[seg["ref"] == "L1"].geometry.iloc[0]
    assert branch.coords[0] == (X0 + 400, Y0)  # its end lies on the road now
    assert nx.is_connected(_graph(seg))


def test_two_dangling_ends_meet_instead_of_swapping_places():
    seg, rep = node_lines(_lines([(0, 0), (1000, 0)], [(1010, 5), (2000, 0)]), **TOL)
    # the first end moves onto the second, which stays: one move of about 11 m
    assert rep.ends_moved == 1 and rep.largest_move_m == pytest.approx(11.2, abs=0.05)
    assert rep.components_after == 1 and rep.segments == 2
    a, b = seg.geometry
    assert a.coords[-1] == b.coords[0] == (X0 + 1010, Y0 + 5)


def test_crossing_lines_are_split_at_the_crossing():
    seg, rep = node_lines(_lines([(0, 0), (1000, 1000)], [(0, 1000), (1000, 0)]), **TOL)
    assert rep.ends_moved == 0 and rep.segments == 4 and rep.components_before == 1
    assert _graph(seg).degree[_at(500, 500)] == 4


def test_a_gap_wider_than_the_tolerance_is_bridged_by_a_connector():
    lines = _lines([(0, 0), (1000, 0)], [(3000, 0), (4000, 0)])
    seg, rep = node_lines(lines, tolerance_m=1000, bridge_m=5000)
    assert (rep.ends_moved, rep.components_before, rep.components_after) == (0, 2, 1)
    assert (rep.connectors, rep.longest_connector_m) == (1, 2000.0)
    conn = seg[seg["snap_connector"]]
    assert len(conn) == 1 and conn.length.iloc[0] == pytest.approx(2000)
    assert conn["ref"].isna().all()  # a connector carries no source attributes
    # with a bridge shorter than the gap the two stay apart, as reported
    _, rep = node_lines(lines, tolerance_m=1000, bridge_m=1500)
    assert (rep.components_after, rep.connectors, rep.longest_connector_m) == (2, 0, 0.0)


def test_distances_are_metres_whatever_the_input_crs():
    metric = _lines([(0, 0), (1000, 0)], [(400, 300), (400, 900)])
    degrees = metric.to_crs("EPSG:4326")
    _, near = node_lines(degrees, tolerance_m=250, bridge_m=0)
    assert near.ends_moved == 0 and near.components_after == 2  # 300 m > 250 m: no snap
    seg, far = node_lines(degrees, tolerance_m=350, bridge_m=0)
    assert far.ends_moved == 1 and far.largest_move_m == pytest.approx(300, abs=0.5)
    assert seg.crs == METRIC_CRS and far.components_after == 1


@pytest.mark.filterwarnings("ignore:GeoSeries.notna:UserWarning")
def test_multi_part_lines_are_exploded_and_empty_ones_dropped():
    multi = MultiLineString([[(X0, Y0), (X0 + 500, Y0)], [(X0 + 500, Y0), (X0 + 500, Y0 + 500)]])
    gdf = gpd.GeoDataFrame({"ref": ["M", "E"]}, geometry=[multi, LineString()], crs=METRIC_CRS)
    seg, rep = node_lines(gdf, **TOL)
    assert rep.lines == 2 and rep.segments == 2 and list(seg["ref"]) == ["M", "M"]
    assert rep.components_after == 1


def test_the_default_tolerance_joins_a_road_ending_within_1_km():
    """The giaothong roads stop short of the road they join by up to about a kilometre."""
    seg, rep = node_lines(_lines([(0, 0), (5000, 0)], [(2500, 900), (2500, 6000)]))
    assert (rep.ends_moved, rep.largest_move_m, rep.components_after) == (1, 900.0, 1)
    assert _graph(seg).degree[_at(2500, 0)] == 3


@pytest.mark.xfail(strict=True, reason="node_lines snaps both free ends of a line shorter than "
                   "the tolerance onto other ends: the lines collapse and no segment is left")
def test_two_short_crossing_roads_are_never_collapsed():
    seg, rep = node_lines(_lines([(0, 0), (1000, 1000)], [(0, 1000), (1000, 0)]))
    assert rep.segments == 4 and rep.components_after == 1
