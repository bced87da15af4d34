"""Built-up areas on road edges: the share of each road edge that runs through a town or city.

Published door-to-door times include leaving and entering cities (Hà Nội's streets, ring roads
and expressway entrances), where traffic is far slower than on the open road.
:func:`add_urban_share` gives every road edge the share of its length (0 to 1) inside the
built-up area, and :func:`network.speeds.assign_speeds` drives that share at the urban speed of
``data/speeds.yaml`` (``road.urban``).

Built-up area: the *urban centres* of the degree of urbanisation endorsed by the UN Statistical
Commission (2020), on the WorldPop 2020 1 km grid: clusters of contiguous pixels (4-connected)
with at least :data:`URBAN_DENSITY_PER_KM2` people per km² and at least
:data:`URBAN_CENTRE_MIN_PEOPLE` people in all. The population threshold matters in the Red River
delta, whose villages reach 1,500 people per km² without being towns. Edges are sampled every
:data:`SAMPLE_STEP_M` metres; the share is the fraction of samples inside.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from corridors.layers.region import raster_path
from corridors.network.terrain import SAMPLE_STEP_M, sample_points
from pyproj import Transformer
from scipy import ndimage

from corridors.core.constants import METRIC_CRS

#: People per km² from which a 1 km pixel is built-up (UN degree of urbanisation, urban centre).
URBAN_DENSITY_PER_KM2 = 1500.0
#: People a cluster of dense pixels must hold to be an urban centre.
URBAN_CENTRE_MIN_PEOPLE = 50_000.0


def urban_centres(people: np.ndarray, transform, crs, threshold: float = URBAN_DENSITY_PER_KM2,
                  min_people: float = URBAN_CENTRE_MIN_PEOPLE) -> np.ndarray:
    """Return the mask of the pixels of a population grid that lie in an urban centre.

    Parameters
    ----------
    people : numpy.ndarray
        People per pixel.
    transform : affine.Affine
        The grid's transform.
    crs : rasterio.crs.CRS
        The grid's CRS (pixel areas are computed per row on a geographic grid).
    threshold : float
        People per km² of a dense pixel.
    min_people : float
        People of a cluster of dense pixels for it to be an urban centre.

    Returns
    -------
    numpy.ndarray of bool
    """
    res_x, res_y = abs(transform.a), abs(transform.e)
    if crs is not None and crs.is_geographic:
        lat = transform.f + transform.e * (np.arange(people.shape[0]) + 0.5)
        km2 = (res_x * 111.32 * np.cos(np.radians(lat)) * res_y * 110.574)[:, None]
    else:
        km2 = res_x * res_y / 1e6
    dense = people / km2 >= threshold
    labels, n = ndimage.label(dense)
    if not n:
        return dense
    total = ndimage.sum(people, labels, index=np.arange(1, n + 1))
    keep = np.concatenate([[False], total >= min_people])
    return keep[labels]


def urban_share(edges: gpd.GeoDataFrame, raster: str | Path | None = None,
                threshold: float = URBAN_DENSITY_PER_KM2) -> np.ndarray:
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

    Returns
    -------
    numpy.ndarray
        One share per edge (0 for edges without geometry or outside the raster).
    """
    out = np.zeros(len(edges))
    if not len(edges):
        return out
    owner, mx, my = sample_points(edges, SAMPLE_STEP_M)  # the terrain module's samples
    with rasterio.open(raster or raster_path("population")) as src:
        to_r = Transformer.from_crs(METRIC_CRS, src.crs, always_xy=True)
        x, y = to_r.transform(mx, my)
        band = src.read(1, masked=True).filled(0).astype(float)
        rows, cols = rasterio.transform.rowcol(src.transform, x, y)
        rows, cols = np.asarray(rows), np.asarray(cols)
        inside = (rows >= 0) & (rows < src.height) & (cols >= 0) & (cols < src.width)
        centre = urban_centres(band, src.transform, src.crs, threshold)
        hit_px = np.zeros(len(owner), dtype=bool)
        hit_px[inside] = centre[rows[inside], cols[inside]]
    hit = pd.Series(hit_px.astype(float)).groupby(owner).mean()
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
