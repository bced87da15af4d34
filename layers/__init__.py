"""Reading and writing geodata: the embedded regional dataset, OSM extracts, rasters, exports."""

from layers.attribution import attribution_text, read_sources
from layers.datadir import data_dir
from layers.region import LAYERS, RASTERS, raster_path, read_layer

__all__ = [
    "LAYERS",
    "RASTERS",
    "attribution_text",
    "data_dir",
    "raster_path",
    "read_layer",
    "read_sources",
]
