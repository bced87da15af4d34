"""Reading an OSM XML extract (``.osm``, ``.xml``, optionally ``.gz``/``.bz2``) into raw tables.

A streaming parse with the standard library keeps the nodes of the selected ways and the
selected nodes only. :func:`read_xml` returns a
:class:`corridors.layers.osm_selection.RawLayers`, as the PBF reader does.
"""

from __future__ import annotations

import bz2
import gzip
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from corridors.layers.osm_selection import (
    AERODROME_TAGS,
    BORDER_TAGS,
    RAIL_TAGS,
    RAILWAY_TYPES,
    ROAD_HIGHWAYS,
    ROAD_TAGS,
    STATION_TAGS,
    STATION_TYPES,
    WATER_TAGS,
    WATERWAY_TYPES,
    Bbox,
    Lines,
    OsmReadError,
    RawLayers,
    aerodrome_table,
    column_name,
    empty_lines,
    empty_points,
)
from shapely.geometry import Point, Polygon


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


def read_xml(path: Path) -> RawLayers:
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
    return RawLayers(
        roads=_xml_lines(content, "highway", ROAD_HIGHWAYS, ROAD_TAGS),
        railways=_xml_lines(content, "railway", RAILWAY_TYPES, RAIL_TAGS),
        waterways=_xml_lines(content, "waterway", WATERWAY_TYPES, WATER_TAGS),
        stations=_xml_node_points(content, "railway", STATION_TYPES, STATION_TAGS),
        aerodromes=aerodrome_table(_xml_aerodromes(content)),
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
               tags: tuple[str, ...]) -> Lines:
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
        return empty_lines(tags)
    seg = pd.DataFrame({"way_id": np.array(way_ids, np.int64), "u": np.array(us, np.int64),
                        "v": np.array(vs, np.int64), "seq": np.array(seqs, np.int64)})
    tag_table = pd.DataFrame([r for _, r in tag_rows], columns=list(tags),
                             index=pd.Index([w for w, _ in tag_rows], name="way_id",
                                            dtype=np.int64))
    ids = np.fromiter(used, np.int64, len(used))
    xy = np.array([content.coords[i] for i in ids], float).reshape(-1, 2)
    coords = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]}, index=pd.Index(ids, name="node"))
    return Lines(seg, tag_table, coords)


def _xml_node_points(content: _XmlContent, key: str, values: tuple[str, ...],
                     tags: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Tagged nodes whose ``key`` is one of ``values``, as points."""
    rows = [(nid, t) for nid, t in content.node_tags.items() if t.get(key) in values]
    if not rows:
        return empty_points(tags)
    data = {"osm_id": np.array([n for n, _ in rows], np.int64), "osm_type": "node"}
    data.update({column_name(t): [r.get(t) for _, r in rows] for t in tags})
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
        return empty_points(AERODROME_TAGS)
    data = {"osm_id": np.array([r[0] for r in rows], np.int64),
            "osm_type": [r[1] for r in rows]}
    data.update({column_name(t): [r[2].get(t) for r in rows] for t in AERODROME_TAGS})
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
