"""Single-band GeoTIFF surfaces (rasterio): written on their grid or reprojected.

NaN and infinite cells are written as :data:`NODATA`; the band carries its description and
unit, the dataset its tags (attribution, provenance). Reprojection uses nearest neighbour, so
every written value is a value of the source grid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.transform import array_bounds
from rasterio.warp import Resampling, calculate_default_transform, reproject

#: The no-data value of the written rasters.
NODATA = -9999.0


def to_crs(values: np.ndarray, transform: Affine, src_crs: str, dst_crs: str,
           resolution: float | None = None) -> tuple[np.ndarray, Affine]:
    """Reproject a 2-D float array (NaN = no data) by nearest neighbour.

    Parameters
    ----------
    values : numpy.ndarray
    transform : affine.Affine
        Pixel to ``src_crs`` coordinates.
    src_crs, dst_crs : str
    resolution : float, optional
        Cell size in ``dst_crs`` units; default: about the source's.

    Returns
    -------
    (numpy.ndarray, affine.Affine)
        The values (NaN outside) and their transform.
    """
    rows, cols = values.shape
    west, south, east, north = array_bounds(rows, cols, transform)
    dst_transform, width, height = calculate_default_transform(
        src_crs, dst_crs, cols, rows, west, south, east, north, resolution=resolution)
    out = np.full((height, width), np.nan, dtype="float64")
    reproject(np.where(np.isfinite(values), values, np.nan), out, src_transform=transform,
              src_crs=src_crs, dst_transform=dst_transform, dst_crs=dst_crs,
              resampling=Resampling.nearest, src_nodata=np.nan, dst_nodata=np.nan)
    return out, dst_transform


def write_geotiff(path: str | Path, values: np.ndarray, transform: Affine, crs: str,
                  description: str, unit: str, tags: dict[str, str] | None = None) -> Path:
    """Write one band as a tiled, DEFLATE-compressed float32 GeoTIFF.

    Parameters
    ----------
    path : str or pathlib.Path
    values : numpy.ndarray
        2-D; NaN and ±inf are written as :data:`NODATA`.
    transform : affine.Affine
    crs : str
    description : str
        The band's description.
    unit : str
        The band's unit (for example ``"h"``).
    tags : dict, optional
        Dataset metadata.

    Returns
    -------
    pathlib.Path
    """
    data = np.where(np.isfinite(values), values, NODATA).astype("float32")
    profile = {"driver": "GTiff", "width": data.shape[1], "height": data.shape[0], "count": 1,
               "dtype": "float32", "crs": CRS.from_user_input(crs), "transform": transform,
               "nodata": NODATA, "compress": "deflate", "predictor": 3, "tiled": True,
               "blockxsize": 256, "blockysize": 256}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.set_band_description(1, description)
        dst.set_band_unit(1, unit)
        if tags:
            dst.update_tags(**tags)
    return Path(path)
