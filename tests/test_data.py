"""The embedded dataset loads, is complete and carries its sources."""

import numpy as np
import pytest
import rasterio
from corridors.layers import (
    LAYERS,
    RASTERS,
    attribution_text,
    raster_path,
    read_layer,
    read_sources,
)


def test_every_layer_loads_in_wgs84_and_is_registered():
    sources = read_sources()["layers"]
    for name in LAYERS:
        gdf = read_layer(name)
        assert len(gdf) > 0, name
        assert gdf.crs.to_epsg() == 4326, name
        assert name in sources and sources[name]["licence"] and sources[name]["attribution"]


def test_unknown_layer_lists_valid_names():
    with pytest.raises(KeyError, match="provinces_2025"):
        read_layer("provinces")


def test_province_editions():
    old, new = read_layer("provinces_2024"), read_layer("provinces_2025")
    assert len(old) == 21
    assert len(new) == 14
    assert (old["group"] == "northern_midlands_mountains").sum() == 14
    # the merged provinces are unions of the old ones: same total area
    area_old = old.to_crs(32648).area.sum()
    area_new = new.to_crs(32648).area.sum()
    assert area_new == pytest.approx(area_old, rel=1e-6)
    lao_cai = new.set_index("name").loc["Lào Cai"]
    assert lao_cai["merged_from"] == "Lào Cai; Yên Bái"
    assert set(new["name"]) >= {"Tuyên Quang", "Phú Thọ", "Thái Nguyên", "Bắc Ninh", "Hải Phòng"}
    assert "Hà Giang" not in set(new["name"])


def test_border_lengths_match_source():
    border = read_layer("border").set_index("neighbour")
    km = border.to_crs(32648).length / 1000
    assert km["CHN"] == pytest.approx(1380, rel=0.02)
    assert km["LAO"] == pytest.approx(1022, rel=0.02)


def test_roads_carry_vietnamese_refs():
    roads = read_layer("roads")
    refs = set(roads["ref"].dropna())
    assert {"QL2", "QL3", "QL4A", "QL6", "QL34"} <= refs
    assert set(roads["level"].dropna()) <= {"national", "provincial", "district"}


def test_rasters_open_with_crs_and_expected_content():
    for name in RASTERS:
        with rasterio.open(raster_path(name)) as ds:
            assert ds.crs.to_epsg() == 4326
    with rasterio.open(raster_path("population")) as ds:
        pop = ds.read(1, masked=True)
        assert float(np.ma.sum(pop)) == pytest.approx(36.3e6, rel=0.02)
    with rasterio.open(raster_path("dem_srtm")) as ds:
        assert ds.bounds.left == pytest.approx(105, abs=0.01)
        assert ds.bounds.top == pytest.approx(22, abs=0.01)


def test_attribution_names_every_licensor():
    text = attribution_text()
    for needle in ("OpenStreetMap", "geoBoundaries", "WorldPop", "SRTM", "airportsdata", "pvlib",
                   "giaothong", "CC-BY-SA-4.0"):
        assert needle in text
