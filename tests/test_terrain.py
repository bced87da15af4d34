"""Terrain classes of road edges from DEM rasters (network.terrain)."""

from __future__ import annotations

import math
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from shapely.geometry import LineString, MultiLineString

from layers.region import raster_path
from network.terrain import (
    TerrainThresholds,
    add_terrain,
    classify_terrain,
    dem_paths_default,
    sample_points,
    terrain_details,
)

#: 3 arc-seconds, the SRTM3 pixel.
PX = 1 / 1200
#: Metres per pixel of longitude at 21.5° N.
PX_W_M = PX * 111_320 * math.cos(math.radians(21.5))


def write_dem(path: Path, elev: np.ndarray, west: float, north: float, px: float,
              crs: str = "EPSG:4326", nodata: float = -32768) -> Path:
    with rasterio.open(path, "w", driver="GTiff", width=elev.shape[1], height=elev.shape[0],
                       count=1, dtype="float32", crs=crs, nodata=nodata,
                       transform=Affine(px, 0.0, west, 0.0, -px, north)) as dst:
        dst.write(elev.astype("float32"), 1)
    return path


def tilted(shape: tuple[int, int], slope: float, px_m: float) -> np.ndarray:
    """Plane rising eastwards with the given slope (rise / run)."""
    cols = np.arange(shape[1], dtype=float)
    return np.tile(100.0 + slope * px_m * cols, (shape[0], 1))


def edges_of(*lines, modes=None) -> gpd.GeoDataFrame:
    data = {"mode": modes or ["road"] * len(lines)}
    return gpd.GeoDataFrame(data, geometry=list(lines), crs="EPSG:4326")


# An edge of about 5 km, west to east, inside the box lon 105.3-105.7, lat 21.3-21.7.
EDGE = LineString([(105.45, 21.5), (105.50, 21.5)])


def test_flat_plane_is_flat(tmp_path):
    dem = write_dem(tmp_path / "flat.tif", np.full((480, 480), 12.0), 105.3, 21.7, PX)
    d = terrain_details(edges_of(EDGE), [dem])
    assert d["terrain"].iloc[0] == "flat"
    assert d["terrain_source"].iloc[0] == "flat.tif"
    # about 5.2 km sampled every 250 m
    assert d["n_samples"].iloc[0] == len(sample_points(edges_of(EDGE))[0]) == 21


def test_steep_plane_is_mountainous_moderate_is_hilly(tmp_path):
    steep = write_dem(tmp_path / "steep.tif", tilted((480, 480), 0.5, PX_W_M), 105.3, 21.7, PX)
    mid = write_dem(tmp_path / "mid.tif", tilted((480, 480), 0.2, PX_W_M), 105.3, 21.7, PX)
    assert classify_terrain(edges_of(EDGE), [steep]).iloc[0] == "mountainous"
    assert classify_terrain(edges_of(EDGE), [mid]).iloc[0] == "hilly"


def test_dem_in_another_crs(tmp_path):
    # a 20 % plane in UTM 48N (metres), around the edge
    x0, y0 = 546_000.0, 2_385_000.0  # about 105.45 E, 21.56 N
    dem = write_dem(tmp_path / "utm.tif", tilted((400, 400), 0.2, 30.0), x0, y0, 30.0,
                    crs="EPSG:32648")
    d = terrain_details(edges_of(EDGE), [dem])
    assert d["terrain"].iloc[0] == "hilly"
    assert d["terrain_source"].iloc[0] == "utm.tif"


def test_half_covered_edge_uses_fallback_for_the_rest(tmp_path):
    # fine steep raster covering lon 105.30-105.475 only (the western half of EDGE)
    fine = write_dem(tmp_path / "fine.tif", tilted((480, 210), 0.5, PX_W_M), 105.3, 21.7, PX)
    # coarse 5-arc-minute raster over the whole box, flat
    coarse = write_dem(tmp_path / "coarse.tif", np.full((12, 12), 20.0), 105.0, 22.0, 1 / 12)
    d = terrain_details(edges_of(EDGE), [fine, coarse])
    sources = d["terrain_source"].iloc[0].split("+")
    assert sorted(sources) == ["coarse.tif", "fine.tif"]
    assert d["share_mountainous"].iloc[0] == pytest.approx(0.5, abs=0.1)
    assert d["share_flat"].iloc[0] == pytest.approx(0.5, abs=0.1)
    # the fallback alone decides an edge outside the fine raster
    east = LineString([(105.55, 21.5), (105.60, 21.5)])
    d2 = terrain_details(edges_of(east), [fine, coarse])
    assert d2["terrain_source"].iloc[0] == "coarse.tif"
    assert d2["terrain"].iloc[0] == "flat"


def test_voids_fall_through_to_the_next_dem(tmp_path):
    elev = tilted((480, 480), 0.5, PX_W_M)
    elev[:, :] = -32768  # all void
    void = write_dem(tmp_path / "void.tif", elev, 105.3, 21.7, PX)
    flat = write_dem(tmp_path / "flat.tif", np.full((480, 480), 12.0), 105.3, 21.7, PX)
    d = terrain_details(edges_of(EDGE), [void, flat])
    assert d["terrain_source"].iloc[0] == "flat.tif"


def test_coarse_relief_thresholds(tmp_path):
    # coarse pixels (~9 km): relief of 600 m around the edge -> mountainous, 300 m -> hilly
    for relief, expected in [(600.0, "mountainous"), (300.0, "hilly"), (84.0, "flat")]:
        elev = np.zeros((12, 12))
        elev[::2, ::2] = relief
        dem = write_dem(tmp_path / f"c{int(relief)}.tif", elev, 105.0, 22.0, 1 / 12)
        assert classify_terrain(edges_of(EDGE), [dem]).iloc[0] == expected
    th = TerrainThresholds(relief_flat_max_m=50.0)
    assert classify_terrain(edges_of(EDGE), [dem], thresholds=th).iloc[0] == "hilly"


def test_non_roads_and_uncovered_edges_are_empty(tmp_path):
    dem = write_dem(tmp_path / "flat.tif", np.full((480, 480), 12.0), 105.3, 21.7, PX)
    far = LineString([(103.0, 22.0), (103.1, 22.0)])
    d = terrain_details(edges_of(EDGE, EDGE, far, modes=["road", "rail", "road"]), [dem])
    assert list(d["terrain"]) == ["flat", "", ""]
    assert list(d["terrain_source"]) == ["flat.tif", "", ""]
    assert list(d["n_samples"]) == [d["n_samples"].iloc[0], 0, 0]


def test_multilines_folders_and_index_kept(tmp_path):
    folder = tmp_path / "tiles"
    folder.mkdir()
    write_dem(folder / "a.tif", np.full((480, 480), 12.0), 105.3, 21.7, PX)
    multi = MultiLineString([[(105.40, 21.5), (105.42, 21.5)], [(105.45, 21.5), (105.47, 21.5)]])
    edges = edges_of(EDGE, multi)
    edges.index = [10, 20]
    s = classify_terrain(edges, [folder])
    assert list(s.index) == [10, 20]
    assert list(s) == ["flat", "flat"]
    with pytest.raises(FileNotFoundError):
        classify_terrain(edges, [tmp_path / "missing.tif"])


def test_add_terrain_keeps_given_values(tmp_path):
    steep = write_dem(tmp_path / "steep.tif", tilted((480, 480), 0.5, PX_W_M), 105.3, 21.7, PX)
    edges = edges_of(EDGE, EDGE)
    edges["terrain"] = ["flat", None]
    out = add_terrain(edges, [steep])
    assert list(out["terrain"]) == ["flat", "mountainous"]
    assert list(out["terrain_source"]) == ["given", "steep.tif"]
    assert "terrain_source" not in edges.columns
    again = add_terrain(edges, [steep], overwrite=True)
    assert list(again["terrain"]) == ["mountainous", "mountainous"]
    # a second pass keeps both the classes and the DEMs that decided them
    twice = add_terrain(out, [steep])
    assert list(twice["terrain_source"]) == ["given", "steep.tif"]


def test_sample_spacing():
    line = gpd.GeoDataFrame(geometry=[LineString([(105.0, 21.0), (105.0, 21.009)])],
                            crs="EPSG:4326")  # about 1 km north
    pos, x, y = sample_points(line, 250.0)
    assert len(pos) == 4
    assert np.allclose(np.diff(y), np.diff(y)[0])
    assert 240 < np.diff(y)[0] < 260


def test_default_dems_are_embedded():
    paths = dem_paths_default()
    assert paths == [raster_path("dem_srtm"), raster_path("dem_coarse")]
    assert all(p.exists() for p in paths)


def test_embedded_dems_hanoi_plain_and_sa_pa():
    hanoi = LineString([(105.85, 21.03), (105.80, 21.20)])
    sapa = LineString([(103.84, 22.33), (103.90, 22.40)])
    d = terrain_details(edges_of(hanoi, sapa))
    # the Hà Nội plain lies inside the SRTM tile, which decides it
    assert d["terrain"].iloc[0] == "flat"
    assert d["terrain_source"].iloc[0] == "srtm3_N21E105.tif"
    # Sa Pa is outside it: the 5-arc-minute DEM reads a 3 x 3 relief of 1,400-1,700 m there
    assert d["terrain"].iloc[1] == "mountainous"
    assert d["terrain_source"].iloc[1] == "dem_5arcmin.tif"
    assert d["share_mountainous"].iloc[1] == 1.0


def test_ten_thousand_edges_are_fast():
    rng = np.random.default_rng(0)
    lon = rng.uniform(102.5, 107.5, 10_000)
    lat = rng.uniform(20.5, 23.0, 10_000)
    lines = [LineString([(a, b), (a + 0.01, b + 0.005)]) for a, b in zip(lon, lat, strict=True)]
    edges = edges_of(*lines)
    start = time.perf_counter()
    s = classify_terrain(edges)
    elapsed = time.perf_counter() - start
    assert s.isin(["flat", "hilly", "mountainous", ""]).all()
    assert (s != "").mean() > 0.95  # the rest lie in the Gulf of Tonkin (DEM nodata)
    assert elapsed < 30, elapsed
