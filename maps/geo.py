"""Turning result tables into small GeoJSON for the maps.

Geometries are simplified (a tolerance in degrees: 0.0005° is about 50 m) and their coordinates
rounded to 5 decimals (about 1 m), which keeps the HTML maps small without a visible change.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

#: Coordinate decimals kept in the maps (1e-5° ≈ 1 m).
DECIMALS = 5


def clean_value(v: Any) -> Any:
    """Return a JSON-safe Python value (NaN and NA become None, numpy scalars plain)."""
    if v is None:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if v is pd.NA or v is pd.NaT:
        return None
    return v


def small_geometry(geom, tolerance: float = 0.0, decimals: int = DECIMALS):
    """Return a geometry simplified by ``tolerance`` (degrees), coordinates rounded."""
    if geom is None or geom.is_empty:
        return None
    if tolerance:
        simpler = geom.simplify(tolerance, preserve_topology=geom.geom_type.endswith("Polygon"))
        geom = simpler if not simpler.is_empty else geom
    return shapely.transform(geom, lambda c: np.round(c, decimals))


def features(frame: gpd.GeoDataFrame, props: Callable[[Any], dict], tolerance: float = 0.0,
             decimals: int = DECIMALS) -> list[dict]:
    """Return GeoJSON features of a frame, one per row with a geometry.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Rows in EPSG:4326.
    props : callable
        Row (a namedtuple of ``frame.itertuples()``) to the feature's properties.
    tolerance : float
        Simplification tolerance, degrees.
    decimals : int
        Coordinate decimals kept (5: about 1 m; coarse layers need fewer).
    """
    out = []
    geoms = frame.geometry.to_numpy()
    for row, geom in zip(frame.itertuples(index=False), geoms, strict=True):
        g = small_geometry(geom, tolerance, decimals)
        if g is None:
            continue
        out.append({"type": "Feature", "geometry": mapping(g),
                    "properties": {k: clean_value(v) for k, v in props(row).items()}})
    return out


def collection(feats: Iterable[dict]) -> dict:
    """Return a GeoJSON FeatureCollection of features."""
    return {"type": "FeatureCollection", "features": list(feats)}


def undirected_edges(edges: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return one row per link of a network table that has one row per direction of travel.

    An edge and its reverse (same end nodes, mode, class, source, and the same midpoint: the
    reverse runs along the same line) become one row, the first met; the result keeps the
    columns of ``edges``.
    """
    if edges.empty:
        return edges.copy()
    a = np.minimum(edges["u"].to_numpy(), edges["v"].to_numpy())
    b = np.maximum(edges["u"].to_numpy(), edges["v"].to_numpy())
    mid = shapely.line_interpolate_point(edges.geometry.to_numpy(), 0.5, normalized=True)
    key = pd.DataFrame({"a": a, "b": b, "mode": edges["mode"].to_numpy(),
                        "class": edges["class"].to_numpy(),
                        "source": edges["source"].astype(str).to_numpy(),
                        "x": np.round(shapely.get_x(mid), 6),
                        "y": np.round(shapely.get_y(mid), 6)})
    return edges[~key.duplicated().to_numpy()]
