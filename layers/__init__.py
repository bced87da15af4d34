"""Reading and writing geodata: the embedded regional dataset, OSM extracts, rasters, exports."""

from corridors.layers.attribution import attribution_text, read_sources
from corridors.layers.datadir import data_dir
from corridors.layers.region import LAYERS, RASTERS, raster_path, read_layer

__all__ = [
    "LAYERS",
    "RASTERS",
    "attribution_text",
    "data_dir",
    "raster_path",
    "read_layer",
    "read_sources",
]
