"""Built-up areas on road edges: the share of each road edge that runs through a town or city.

Published door-to-door times include leaving and entering cities (Hà Nội's streets, ring roads
and expressway entrances), where traffic is far slower than on the open road.
:func:`add_urban_share` gives every road edge the share of its length (0 to 1) inside the
built-up area, and :func:`network.speeds.assign_speeds` drives that share at the urban speed of
``data/speeds.yaml`` (``road.urban``).

Built-up area: WorldPop 2020 1 km pixels with at least :data:`URBAN_DENSITY_PER_KM2` people per
km², the density of an *urban centre* in the degree of urbanisation of the UN Statistical
Commission (2020), which applies 1,500 inhabitants per km² to 1 km grid cells. Edges are sampled
every :data:`SAMPLE_STEP_M` metres; the share is the fraction of samples inside.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from pyproj import Transformer

from layers.region import raster_path
from network.schema import METRIC_CRS

#: People per km² from which a 1 km pixel is built-up (UN degree of urbanisation, urban centre).
URBAN_DENSITY_PER_KM2 = 1500.0
#: Distance between samples along an edge, metres.
SAMPLE_STEP_M = 250.0


def urban_share(edges: gpd.GeoDataFrame, raster: str | Path | None = None,
                threshold: float = URBAN_DENSITY_PER_KM2, metric_crs: str = METRIC_CRS
                ) -> np.ndarray:
    """Return, for each edge, the share of its length inside the built-up area (0 to 1).

    Parameters
    ----------
    edges : geopandas.GeoDataFrame
        Edges with a geometry (any CRS).
    raster : path, optional
        A population-density raster (people per pixel of about 1 km²); default the embedded
        WorldPop 2020 1 km grid.
    threshold : float
        People per km² from which a pixel is built-up.
    metric_crs : str
        CRS in which samples are spaced.

    Returns
    -------
    numpy.ndarray
        One share per edge (0 for edges without geometry or outside the raster).
    """
    out = np.zeros(len(edges))
    if not len(edges):
        return out
    geom = edges.geometry.to_crs(metric_crs).values
    ok = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
    lengths = np.where(ok, shapely.length(geom), 0.0)
    counts = np.maximum(1, np.ceil(lengths / SAMPLE_STEP_M)).astype(int)
    owner = np.repeat(np.arange(len(edges)), counts)
    # sample at the middles of n equal parts
    frac = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + 0.5) \
        / np.repeat(counts, counts)
    keep = ok[owner]
    pts = shapely.line_interpolate_point(geom[owner[keep]], frac[keep], normalized=True)
    with rasterio.open(raster or raster_path("population")) as src:
        to_r = Transformer.from_crs(metric_crs, src.crs, always_xy=True)
        x, y = to_r.transform(shapely.get_x(pts), shapely.get_y(pts))
        band = src.read(1, masked=True).filled(0).astype(float)
        rows, cols = rasterio.transform.rowcol(src.transform, x, y)
        rows, cols = np.asarray(rows), np.asarray(cols)
        inside = (rows >= 0) & (rows < src.height) & (cols >= 0) & (cols < src.width)
        # people per pixel -> per km² (pixels of a geographic grid shrink with latitude)
        lat = Transformer.from_crs(metric_crs, "EPSG:4326", always_xy=True).transform(
            shapely.get_x(pts), shapely.get_y(pts))[1]
        res_x, res_y = src.res
        if src.crs and src.crs.is_geographic:
            km2 = (res_x * 111.32 * np.cos(np.radians(lat))) * (res_y * 110.574)
        else:
            km2 = np.full(len(pts), res_x * res_y / 1e6)
        density = np.zeros(len(pts))
        density[inside] = band[rows[inside], cols[inside]] / km2[inside]
    hit = pd.Series((density >= threshold).astype(float)).groupby(owner[keep]).mean()
    out[hit.index.to_numpy()] = hit.to_numpy()
    return out


def add_urban_share(edges: gpd.GeoDataFrame, raster: str | Path | None = None,
                    threshold: float = URBAN_DENSITY_PER_KM2) -> gpd.GeoDataFrame:
    """Return ``edges`` with ``urban_share`` (0 to 1) on road edges (0 on the others).

    See :func:`urban_share` for the parameters.
    """
    out = edges.copy()
    share = np.zeros(len(out))
    road = (out["mode"] == "road").to_numpy()
    if road.any():
        share[road] = urban_share(out[road], raster, threshold)
    out["urban_share"] = share
    return out
