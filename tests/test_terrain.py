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
from corridors.layers.region import raster_path
from corridors.network import terrain
from corridors.network.terrain import (
    DEFAULT_THRESHOLDS,
    TerrainThresholds,
    add_terrain,
    classify_terrain,
    coarse_dem_agreement,
    dem_paths_default,
    sample_points,
    terrain_details,
)
from shapely.geometry import LineString, MultiLineString

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


#: 5 arc-minutes, the pixel of the embedded coarse DEM (about 8.6 km × 9.2 km at 21.5° N).
CPX = 1 / 12


def coarse_ramp(tmp_path: Path, relief_m: float, lat: float = 21.46) -> Path:
    """Coarse DEM rising eastwards so that its relief over ± 5 km at ``lat`` is ``relief_m``.

    A bilinear surface reproduces a plane exactly, so the relief in the window is the rise per
    pixel times the window width in pixels (10 km over the pixel width at that latitude).
    """
    px_w = CPX * 111_320 * math.cos(math.radians(lat))
    per_px = relief_m * px_w / (2 * terrain.RELIEF_HALF_WINDOW_M)
    elev = np.tile(20.0 + per_px * np.arange(12), (12, 1))
    return write_dem(tmp_path / f"ramp{int(relief_m)}.tif", elev, 105.0, 22.0, CPX)


# A north-south line across the coarse grid at lon 105.45-105.50, lat 21.46 (pixel row 6).
COARSE_EDGE = LineString([(105.44, 21.46), (105.49, 21.46)])


def test_coarse_relief_thresholds(tmp_path):
    # the documented boundaries: flat < 100 m, hilly 100-200 m, mountainous >= 200 m
    assert (DEFAULT_THRESHOLDS.relief_flat_max_m, DEFAULT_THRESHOLDS.relief_hilly_max_m) == (
        100.0, 200.0)
    for relief, expected in [(60.0, "flat"), (95.0, "flat"), (105.0, "hilly"),
                             (190.0, "hilly"), (210.0, "mountainous"), (600.0, "mountainous")]:
        dem = coarse_ramp(tmp_path, relief)
        d = terrain_details(edges_of(COARSE_EDGE), [dem])
        assert d["terrain"].iloc[0] == expected, relief
        assert d["share_" + expected].iloc[0] == 1.0
    # the index itself: exact relief of the interpolated plane
    with rasterio.open(coarse_ramp(tmp_path, 150.0)) as src:
        _, x, y = sample_points(edges_of(COARSE_EDGE))
        values, kind = terrain._index_with(src, x, y)
    assert kind == "relief"
    assert values == pytest.approx(150.0, rel=0.01)
    th = TerrainThresholds(relief_flat_max_m=50.0)
    assert classify_terrain(edges_of(COARSE_EDGE), [coarse_ramp(tmp_path, 60.0)],
                            thresholds=th).iloc[0] == "hilly"


def range_dem(tmp_path: Path, px: float, west: float, east: float, height: float = 1200.0
              ) -> Path:
    """A plain at 20 m with a north-south mountain range where pixel centres lie in [west, east]."""
    n = round(1.0 / px)
    lon = 105.0 + (np.arange(n) + 0.5) * px
    elev = np.full((n, n), 20.0)
    elev[:, (lon >= west) & (lon <= east)] = height
    return write_dem(tmp_path / f"range{n}.tif", elev, 105.0, 22.0, px)


@pytest.mark.parametrize("px", [CPX, 1 / 120])  # 5 arc-minutes (~9 km), 30 arc-seconds (~1 km)
def test_plain_beside_a_range_is_flat_road_across_it_is_mountainous(tmp_path, px, monkeypatch):
    # a 1,200 m range of 5' pixels centred at lon 105.625 (column 7, 105.583-105.667), i.e.
    # 9-19 km east of the plain road COARSE_EDGE (lon 105.44-105.49)
    dem = range_dem(tmp_path, px, 105.59, 105.66)
    across = LineString([(105.56, 21.46), (105.69, 21.46)])
    d = terrain_details(edges_of(COARSE_EDGE, across), [dem])
    assert list(d["terrain"]) == ["flat", "mountainous"]
    assert d["share_flat"].iloc[0] == 1.0
    # with the former ~27 km window (3 x 3 pixels of 5') the same plain road reads mountainous
    monkeypatch.setattr(terrain, "RELIEF_HALF_WINDOW_M", 13_500.0)
    assert classify_terrain(edges_of(COARSE_EDGE), [dem]).iloc[0] == "mountainous"


def test_relief_index_on_fine_dems(tmp_path):
    # planes of 2 %, 5 % and 8 %: relief over 10 km of 200, 500 and 800 m; all flat by slope
    assert (DEFAULT_THRESHOLDS.fine_relief_flat_max_m,
            DEFAULT_THRESHOLDS.fine_relief_hilly_max_m) == (350.0, 650.0)
    for slope, expected in [(0.02, "flat"), (0.05, "hilly"), (0.08, "mountainous")]:
        dem = write_dem(tmp_path / f"p{slope}.tif", tilted((480, 480), slope, PX_W_M),
                        105.3, 21.7, PX)
        assert classify_terrain(edges_of(EDGE), [dem]).iloc[0] == "flat"
        d = terrain_details(edges_of(EDGE), [dem], fine_index="relief")
        assert d["terrain"].iloc[0] == expected, slope
        out = add_terrain(edges_of(EDGE), [dem], fine_index="relief")
        assert out["terrain"].iloc[0] == expected
    with pytest.raises(ValueError, match="fine_index"):
        classify_terrain(edges_of(EDGE), [dem], fine_index="curvature")


def test_bilinear_relief_is_exact_on_a_peak():
    # one peak of 900 m at a node (column 2, row 2) on a plain at 0 m
    elev = np.zeros((5, 5))
    elev[2, 2] = 900.0
    u, v = np.array([2.3, 1.0, 2.0]), np.array([1.8, 2.0, 1.2])
    relief = terrain._relief_bilinear(elev, u, v, np.array([0.5, 0.5, 0.6]), 0.5)
    # window holding the node: 900 minus the lowest corner (2.8, 1.3), 900 * 0.2 * 0.3;
    # windows that reach half-way (1.5, 2) and 70 % of the way (2, 1.7) to the node
    assert relief == pytest.approx([900.0 - 54.0, 450.0, 630.0])
    # brute force: the maximum over a dense set of points of the window
    rng = np.random.default_rng(1)
    elev = rng.uniform(0, 1000, (8, 8))
    for _ in range(50):
        cu, cv, hu, hv = rng.uniform(1, 6), rng.uniform(1, 6), rng.uniform(0.1, 1.5), 0.7
        gu, gv = np.meshgrid(np.linspace(cu - hu, cu + hu, 301), np.linspace(cv - hv, cv + hv, 301))
        z = terrain._bilinear(elev, gu.ravel(), gv.ravel())
        exact = terrain._relief_bilinear(elev, np.array([cu]), np.array([cv]), np.array([hu]), hv)
        assert exact[0] >= z.max() - z.min() - 1e-9
        assert exact[0] == pytest.approx(z.max() - z.min(), rel=0.02)


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
    # Sa Pa is outside it: the 5-arc-minute DEM reads a relief (± 5 km) of 730-1,090 m there
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


def test_agreement_with_srtm_on_the_embedded_tile():
    # measured (python -m corridors.network.terrain):
    # road edges 70.9 %, road samples 67.0 %, grid 62.0 %
    a = coarse_dem_agreement()
    assert a.reference == "slope"
    assert a.agreement["road_edges"] >= 0.68
    assert a.agreement["road_samples"] >= 0.64
    assert a.agreement["grid"] >= 0.59
    assert a.kappa["grid"] >= 0.31
    edges = a.confusion["road_edges"]
    assert edges.to_numpy().sum() == 110
    assert edges.to_numpy().trace() / 110 == pytest.approx(a.agreement["road_edges"])
    # the coarse DEM errs on the steep side: it almost never calls a hilly road flat
    assert edges.loc["hilly", "flat"] + edges.loc["mountainous", ["flat", "hilly"]].sum() <= 2
    same_index = coarse_dem_agreement(reference="relief")
    assert same_index.agreement["road_edges"] >= 0.79  # measured 81.8 %
    assert "road_edges: n = 110" in a.report()
