"""Turn loose line data into a routable topology: snap dangling ends, split lines at junctions.

Source data such as the giaothong national roads are drawn line by line: about three ends in four
meet another end exactly, the rest stop short of (or overshoot) the road they join. This module
moves each dangling end onto the nearest end or line within a tolerance, splits lines where ends
land on them and where lines cross, and returns segments between junctions, with a report of what
it moved. All work is in a metric CRS (EPSG:32648 by default), never in degrees.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
import shapely.ops
from scipy.spatial import cKDTree
from shapely.geometry import LineString, Point
from shapely.ops import substring

from corridors.core.constants import METRIC_CRS

#: Coordinates closer than this (m) are the same node.
NODE_GRID_M = 1.0


@dataclass(frozen=True)
class SnapReport:
    """What :func:`node_lines` changed.

    Attributes
    ----------
    lines : int
        Input lines (after exploding multi-part geometries).
    ends_moved : int
        Dangling ends moved onto another end or line.
    largest_move_m : float
        The largest move, metres.
    components_before, components_after : int
        Connected components before snapping (ends joined only where they coincide within
        1 m, or lie on another line) and after snapping and bridging.
    segments : int
        Segments in the result.
    connectors : int
        Straight connectors added to join components (see ``bridge_m``).
    longest_connector_m : float
        The longest connector, metres.
    """

    lines: int
    ends_moved: int
    largest_move_m: float
    components_before: int
    components_after: int
    segments: int
    connectors: int = 0
    longest_connector_m: float = 0.0


def _key(x: float, y: float) -> tuple[int, int]:
    return (round(x / NODE_GRID_M), round(y / NODE_GRID_M))


def _components(segments: list[LineString]) -> int:
    g = nx.Graph()
    for s in segments:
        g.add_edge(_key(*s.coords[0]), _key(*s.coords[-1]))
    return nx.number_connected_components(g)


def _split(lines: list[LineString], cuts: list[set[float]]) -> list[tuple[int, LineString]]:
    """Cut each line at its cut distances (m along it); return (line index, piece)."""
    pieces = []
    for i, (line, at) in enumerate(zip(lines, cuts, strict=True)):
        stops = sorted({0.0, line.length, *(d for d in at if 0 < d < line.length)})
        for a, b in zip(stops[:-1], stops[1:], strict=True):
            if b - a >= NODE_GRID_M or (a == 0 and b == line.length):
                pieces.append((i, substring(line, a, b)))
    return pieces


def _node_at(lines: list[LineString], cuts: list[set[float]]
             ) -> tuple[list[tuple[int, LineString]], int]:
    """Split at cut points and at crossings; return pieces and the number of components."""
    tree = shapely.STRtree(lines)
    left, right = tree.query(lines, predicate="intersects")
    for a, b in zip(left, right, strict=True):
        if a >= b:
            continue
        inter = lines[a].intersection(lines[b])
        for part in getattr(inter, "geoms", [inter]):
            if part.is_empty:
                continue
            # crossings give points; collinear overlaps give lines, cut at their ends
            if part.geom_type == "Point":
                pts = [part]
            elif part.geom_type == "LineString":
                pts = [Point(part.coords[0]), Point(part.coords[-1])]
            else:
                pts = []
            for pt in pts:
                cuts[a].add(lines[a].project(pt))
                cuts[b].add(lines[b].project(pt))
    pieces = _split(lines, cuts)
    return pieces, _components([p for _, p in pieces])


def _bridge(lines: list[LineString], cuts: list[set[float]], tolerance_m: float
            ) -> tuple[list[tuple[int, LineString]], int, int, float]:
    """Join every component lying within ``tolerance_m`` of another by a straight connector.

    Connectors are appended to ``lines`` (so their index is ``>= len`` of the input). Returns the
    pieces, the components left, the number of connectors and the longest, m.

    Each round joins the component nearest to another (the largest excepted) by its nearest
    points. Which component that is comes from one spatial-index query of the line pairs within
    ``tolerance_m`` that belong to different components, not from the distance of every
    component to the union of all the others; only the chosen one is measured against that
    union, for its connector.
    """
    bridges, longest = 0, 0.0
    for _ in range(len(lines)):  # each round merges one component; bounded for safety
        pieces, n_comp = _node_at(lines, [set(c) for c in cuts])
        if n_comp == 1:
            return pieces, n_comp, bridges, longest
        g = nx.Graph()
        for i, p in pieces:
            g.add_edge(_key(*p.coords[0]), _key(*p.coords[-1]), line=i)
        comps = sorted(nx.connected_components(g), key=len, reverse=True)
        members = [[d["line"] for _, _, d in g.subgraph(c).edges(data=True)] for c in comps]
        comp_of = np.full(len(lines), -1)
        for ci, ms in enumerate(members):
            comp_of[ms] = ci
        tree = shapely.STRtree(lines)
        arr = np.asarray(lines, dtype=object)
        outer = np.flatnonzero(comp_of > 0)  # the lines of every component but the largest
        hit, right = tree.query(arr[outer], predicate="dwithin", distance=tolerance_m)
        left = outer[hit]
        keep = (comp_of[right] >= 0) & (comp_of[left] != comp_of[right])
        if not keep.any():
            return pieces, n_comp, bridges, longest
        left, right = left[keep], right[keep]
        gap = shapely.distance(arr[left], arr[right])
        # the nearest component; on a tie the larger one (lower index), as a scan in order would
        order = np.lexsort((comp_of[left], gap))
        ci = int(comp_of[left[order[0]]])
        geom = shapely.union_all([lines[i] for i in members[ci]])
        rest = shapely.union_all([shapely.union_all([lines[i] for i in members[j]])
                                  for j in range(len(comps)) if j != ci])
        d = geom.distance(rest)
        a, b = shapely.ops.nearest_points(geom, rest)
        for pt in (a, b):  # cut the lines the connector lands on
            for j in tree.query(pt, predicate="dwithin", distance=NODE_GRID_M):
                if lines[j].distance(pt) <= NODE_GRID_M:
                    cuts[j].add(lines[j].project(pt))
        lines.append(LineString([a, b]))
        cuts.append(set())
        bridges += 1
        longest = max(longest, d)
    return pieces, n_comp, bridges, longest


def node_lines(gdf: gpd.GeoDataFrame, tolerance_m: float = 1000.0, bridge_m: float = 5000.0,
               metric_crs: str = METRIC_CRS) -> tuple[gpd.GeoDataFrame, SnapReport]:
    """Snap dangling ends and split lines into segments between junctions.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Lines (LineString or MultiLineString) with any attributes, in any CRS.
    tolerance_m : float, default 1000
        A dangling end moves to the nearest other end within this distance (m), else onto the
        nearest other line within it; ends farther from everything stay where they are.
    bridge_m : float, default 5000
        After snapping, a component lying within this distance (m) of another is joined to it
        by a straight connector segment (``snap_connector`` True), nearest first.
    metric_crs : str, default "EPSG:32648"
        CRS in which distances are measured.

    Returns
    -------
    segments : geopandas.GeoDataFrame
        One row per segment, in ``metric_crs``, with the attributes of the line it comes from,
        and ``u_xy``, ``v_xy`` (end coordinates on the node grid).
    report : SnapReport
        Ends moved, largest move and components before and after.
    """
    src = gdf.to_crs(metric_crs).explode(index_parts=False).reset_index(drop=True)
    src = src[src.geometry.notna() & ~src.geometry.is_empty & (src.length > 0)]
    src = src.reset_index(drop=True)
    lines: list[LineString] = list(src.geometry.values)
    n = len(lines)

    # components before: exact topology only (ends within 1 m, ends lying on lines)
    _, comps_before = _node_at(lines, [set() for _ in range(n)])

    ends = np.array([[ln.coords[0], ln.coords[-1]] for ln in lines]).reshape(-1, 2)
    tree_pts = cKDTree(ends)
    tree_lines = shapely.STRtree(lines)
    new_ends = ends.copy()
    moved, largest = 0, 0.0
    cuts: list[set[float]] = [set() for _ in range(n)]
    # Ends another end has already snapped onto: they stay, so that two dangling ends that are
    # each other's nearest meet instead of swapping places.
    anchored: set[int] = set()
    # An end is dangling if no other end coincides with it and it lies on no other line.
    for k, (x, y) in enumerate(ends):
        li = k // 2
        if k in anchored:
            continue
        near = [j for j in tree_pts.query_ball_point((x, y), NODE_GRID_M) if j // 2 != li]
        pt = Point(x, y)
        on_line = [j for j in tree_lines.query(pt.buffer(NODE_GRID_M)) if j != li
                   and lines[j].distance(pt) <= NODE_GRID_M]
        if near or on_line:
            for j in on_line:  # T-junction: split the other line there
                cuts[j].add(lines[j].project(pt))
            continue
        cand = [j for j in tree_pts.query_ball_point((x, y), tolerance_m) if j // 2 != li]
        if cand:
            j = min(cand, key=lambda j: np.hypot(*(ends[j] - ends[k])))
            target = new_ends[j]
            anchored.add(j)
        else:
            lj = [j for j in tree_lines.query(pt.buffer(tolerance_m)) if j != li]
            if not lj:
                continue
            j = min(lj, key=lambda j: lines[j].distance(pt))
            dist = lines[j].distance(pt)
            if dist > tolerance_m:
                continue
            d_along = lines[j].project(pt)
            cuts[j].add(d_along)
            target = np.array(lines[j].interpolate(d_along).coords[0])
        move = float(np.hypot(*(target - ends[k])))
        new_ends[k] = target
        moved += 1
        largest = max(largest, move)

    moved_lines = []
    for i, ln in enumerate(lines):
        coords = list(ln.coords)
        coords[0] = tuple(new_ends[2 * i])
        coords[-1] = tuple(new_ends[2 * i + 1])
        moved_lines.append(LineString(coords))
    pieces, comps_after, bridges, longest_bridge = _bridge(moved_lines, cuts, bridge_m)

    attrs = src.drop(columns="geometry")
    # connectors (index >= n) carry no source attributes
    attrs = gpd.pd.concat([attrs, gpd.pd.DataFrame(index=range(n, len(moved_lines)))],
                          ignore_index=True)
    attrs["snap_connector"] = [i >= n for i in range(len(moved_lines))]
    rows = attrs.iloc[[i for i, _ in pieces]].reset_index(drop=True)
    seg = gpd.GeoDataFrame(rows, geometry=[p for _, p in pieces], crs=metric_crs)
    seg["u_xy"] = [_key(*p.coords[0]) for _, p in pieces]
    seg["v_xy"] = [_key(*p.coords[-1]) for _, p in pieces]
    report = SnapReport(lines=n, ends_moved=moved, largest_move_m=round(largest, 1),
                        components_before=comps_before, components_after=comps_after,
                        segments=len(seg), connectors=bridges,
                        longest_connector_m=round(longest_bridge, 1))
    return seg, report
