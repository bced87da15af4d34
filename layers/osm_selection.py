"""What is read from OpenStreetMap, and for which area.

The tags and classes kept per layer, the file types read, the area a caller asks for (a bbox, a
polygon, or both) and the raw tables every reader returns (:class:`RawLayers`), before
:func:`corridors.layers.osm.read_osm` cuts them to the area and splits them into edges. Shared by
the PBF and XML readers, the Overpass download and :mod:`corridors.layers.osm`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon, box

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

Bbox = tuple[float, float, float, float]


class OsmReadError(ValueError):
    """An OSM file that cannot be read: its message names the file and the cause."""


@dataclass
class Lines:
    """Ways of one layer before splitting.

    ``seg``: way_id, seq, u, v (consecutive node pairs in way order); ``tags``: tag columns
    indexed by way id; ``coords``: x, y indexed by node id.
    """

    seg: pd.DataFrame
    tags: pd.DataFrame
    coords: pd.DataFrame


@dataclass
class RawLayers:
    """Everything a reader returns, before the cut to the area and the splitting."""

    roads: Lines
    railways: Lines
    waterways: Lines
    stations: gpd.GeoDataFrame
    aerodromes: gpd.GeoDataFrame
    borders: gpd.GeoDataFrame
    extent: Bbox | None


def requested_area(what: str, bbox: Bbox | None,
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


def fmt_bounds(bounds: Iterable[float]) -> str:
    """Format ``(west, south, east, north)`` for a message."""
    w, s, e, n = bounds
    return f"lon {w:.4f}..{e:.4f}, lat {s:.4f}..{n:.4f}"


def check_coverage(path: Path, area: shapely.Geometry | None, extent: Bbox | None) -> None:
    """Raise when the requested area lies wholly outside the extract's extent."""
    if area is None or extent is None:
        return
    if not area.intersects(box(*extent)):
        raise OsmReadError(
            f"OSM file {path} does not cover the requested area ({fmt_bounds(area.bounds)}): "
            f"the extract covers {fmt_bounds(extent)}")


def column_name(tag: str) -> str:
    """Column name for a tag (``aerodrome:type`` → ``aerodrome_type``)."""
    return tag.replace(":", "_")


def aerodrome_table(points: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the aerodrome table with its documented columns."""
    return points[["osm_id", "osm_type", "name", "icao", "iata", "aerodrome_type",
                   "geometry"]].reset_index(drop=True)


def empty_lines(tags: tuple[str, ...]) -> Lines:
    """Return a layer without ways."""
    seg = pd.DataFrame({c: np.array([], np.int64) for c in ("way_id", "u", "v", "seq")})
    tag_table = pd.DataFrame({t: pd.Series([], dtype=object) for t in tags},
                             index=pd.Index([], dtype=np.int64, name="way_id"))
    coords = pd.DataFrame({"x": np.array([], float), "y": np.array([], float)},
                          index=pd.Index([], dtype=np.int64, name="node"))
    return Lines(seg, tag_table, coords)


def empty_points(tags: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Return a point layer without rows."""
    data = {"osm_id": np.array([], np.int64), "osm_type": pd.Series([], dtype=object)}
    data.update({column_name(t): pd.Series([], dtype=object) for t in tags})
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
