"""Reading an ``.osm.pbf`` extract with pyrosm into the raw tables of one OSM file.

:func:`read_pbf` returns a :class:`corridors.layers.osm_selection.RawLayers`; the cut to the
area and the splitting into edges are :func:`corridors.layers.osm.read_osm`'s.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable
from pathlib import Path

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
    check_coverage,
    column_name,
    empty_lines,
    empty_points,
)

#: Margin (degrees) added around the requested area when asking pyrosm for data, so that the
#: segments crossing the area's edge arrive whole.
READ_MARGIN_DEG = 0.05


def read_pbf(path: Path, area: shapely.Geometry | None) -> RawLayers:
    """Read the layers of a PBF file with pyrosm, within ``area`` plus a margin."""
    import pyrosm

    header_extent = _pbf_header_extent(path)
    if area is not None and header_extent is not None:
        check_coverage(path, area, header_extent)
    read_box = None
    if area is not None:
        w, s, e, n = area.bounds
        m = READ_MARGIN_DEG
        read_box = [w - m, s - m, e + m, n + m]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            osm = pyrosm.OSM(str(path), bounding_box=read_box)
            return RawLayers(
                roads=_pyrosm_lines(osm, {"highway": list(ROAD_HIGHWAYS)}, ROAD_TAGS),
                railways=_pyrosm_lines(osm, _bracket("railway", RAILWAY_TYPES), RAIL_TAGS),
                waterways=_pyrosm_lines(osm, _bracket("waterway", WATERWAY_TYPES), WATER_TAGS),
                stations=_pyrosm_points(osm, {"railway": list(STATION_TYPES)}, STATION_TAGS,
                                        nodes_only=True),
                aerodromes=aerodrome_table(_pyrosm_points(osm, {"aeroway": ["aerodrome"]},
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


def _pyrosm_lines(osm, custom_filter: dict | str, tags: tuple[str, ...]) -> Lines:
    """Segments, way tags and node coordinates of one line layer read with pyrosm."""
    res = osm.get_network(network_type="driving", custom_filter=custom_filter, nodes=True,
                          extra_attributes=list(tags))
    if res is None or res[1] is None or len(res[1]) == 0:
        return empty_lines(tags)
    nodes, edges = res
    seg = pd.DataFrame({"way_id": edges["id"].to_numpy(np.int64),
                        "u": edges["u"].to_numpy(np.int64), "v": edges["v"].to_numpy(np.int64)})
    seg["seq"] = seg.groupby("way_id", sort=False).cumcount()
    ways = edges.drop_duplicates("id")
    tag_table = pd.DataFrame({t: _tag_column(ways, t) for t in tags})
    tag_table.index = pd.Index(ways["id"].to_numpy(np.int64), name="way_id")
    coords = pd.DataFrame({"x": nodes["lon"].to_numpy(float), "y": nodes["lat"].to_numpy(float)},
                          index=pd.Index(nodes["id"].to_numpy(np.int64), name="node"))
    return Lines(seg, tag_table, coords[~coords.index.duplicated()])


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
        return empty_points(tags)
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    osm_type = gdf["osm_type"] if "osm_type" in gdf.columns else pd.Series("node", gdf.index)
    data = {"osm_id": gdf["id"].to_numpy(np.int64), "osm_type": osm_type.astype(str).to_numpy()}
    data.update({column_name(t): _tag_column(gdf, t) for t in tags})
    return gpd.GeoDataFrame(data, geometry=_centroids(gdf.geometry.to_numpy()), crs="EPSG:4326")


def _centroids(geoms: np.ndarray) -> np.ndarray:
    """Points for any geometries: points kept, lines and areas replaced by their centroid."""
    return np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.centroid(geoms))
