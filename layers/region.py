"""The embedded regional dataset: vector layers of ``data/region.gpkg`` and rasters of ``data/``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd
from corridors.layers.datadir import data_dir

#: Vector layers of ``data/region.gpkg`` and what each holds.
LAYERS: dict[str, str] = {
    "provinces_2024": "the 21 provinces of the study, boundaries before 1 July 2025",
    "provinces_2025": "the merged provinces in force since 1 July 2025",
    "border": "Vietnam–China and Vietnam–Laos land border lines",
    "roads": "named national, provincial and district roads (giaothong)",
    "railways_giaothong": "named national railway lines (giaothong)",
    "railways_osm": "OSM railways, 2018",
    "places_osm": "OSM cities and towns, 2018",
    "transport_points": "OSM railway stations, bus stations and ferry terminals, 2018",
    "peaks": "OSM named peaks, 2018",
    "airports": "aerodromes with ICAO/IATA codes (airportsdata)",
}

#: Rasters of ``data/`` by name.
RASTERS: dict[str, str] = {
    "population": "worldpop_2020_1km.tif",
    "dem_srtm": "srtm3_N21E105.tif",
    "dem_coarse": "dem_5arcmin.tif",
}

GPKG_NAME = "region.gpkg"


def region_gpkg() -> Path:
    """Return the path of the embedded GeoPackage."""
    return data_dir() / GPKG_NAME


@lru_cache(maxsize=32)
def _read_cached(path: str, name: str, mtime: float) -> gpd.GeoDataFrame:
    return gpd.read_file(path, layer=name, engine="pyogrio")


def read_layer(name: str) -> gpd.GeoDataFrame:
    """Read one vector layer of the embedded dataset.

    Parameters
    ----------
    name : str
        A key of :data:`LAYERS`, for example ``"roads"`` or ``"provinces_2025"``.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer in WGS 84 (EPSG:4326). A fresh copy: callers may modify it.

    Raises
    ------
    KeyError
        If ``name`` is not a layer of the dataset (the message lists the valid names).
    """
    if name not in LAYERS:
        raise KeyError(f"unknown layer {name!r}; valid layers: {', '.join(sorted(LAYERS))}")
    path = region_gpkg()
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run scripts/prepare_data.py")
    return _read_cached(str(path), name, path.stat().st_mtime).copy()


def raster_path(name: str) -> Path:
    """Return the path of an embedded raster.

    Parameters
    ----------
    name : str
        A key of :data:`RASTERS`: ``"population"`` (people per 1 km pixel, 2020),
        ``"dem_srtm"`` (m, one SRTM tile) or ``"dem_coarse"`` (m, 5 arc-minutes).

    Returns
    -------
    pathlib.Path
        Path of the GeoTIFF.
    """
    if name not in RASTERS:
        raise KeyError(f"unknown raster {name!r}; valid rasters: {', '.join(sorted(RASTERS))}")
    return data_dir() / RASTERS[name]
