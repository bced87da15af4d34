"""Terrain class of road edges (flat, hilly, mountainous) from elevation rasters (DEMs).

Method
------
1. **Samples.** Each road edge is projected to the metric CRS of the project (EPSG:32648, WGS 84 /
   UTM 48N, :data:`corridors.core.constants.METRIC_CRS`) and sampled every ~250 m
   (:data:`SAMPLE_STEP_M`): an edge of length L gets ``n = ceil(L / 250 m)`` points at the
   middles of n equal parts (a short edge gets one point, its middle).
2. **Best DEM per sample.** The DEMs are taken in priority order, finest first: user-supplied
   tiles (SRTM, Copernicus GLO-30/90 …, any GeoTIFF in EPSG:4326 or another CRS; sample points
   are reprojected with pyproj), then the embedded SRTM 3-arc-second tile (lat 21–22, lon
   105–106), then the embedded 5-arc-minute DEM that covers the whole region. A sample is taken
   by the first DEM whose pixel under it holds a valid elevation (not nodata, e.g. an SRTM
   void); the others are skipped for that sample.
3. **Terrain index.** The index depends on the DEM's pixel size:

   * *fine DEMs* (pixel ≤ 250 m, :data:`FINE_MAX_PIXEL_M`): the **mean ground slope** (percent)
     in a window of about 500 m (±250 m, :data:`HALF_WINDOW_M`; 5 × 5 pixels of SRTM3, 17 × 17
     of a 1-arc-second DEM) centred on the sample. Slopes come from central differences of the
     elevations with pixel sizes in metres (for a geographic raster, 111,320 m × cos(latitude)
     per degree of longitude and 110,574 m per degree of latitude). With
     ``fine_index="relief"`` fine DEMs use the relief index below instead (max − min of the
     pixels in the same ± 5 km window), so that both DEMs can be compared on one index.
   * *coarse DEMs* (larger pixels): the **local relief** (max − min elevation, metres) of the
     DEM **bilinearly interpolated** between its pixel centres, in a square window of **± 5 km**
     (10 km × 10 km, :data:`RELIEF_HALF_WINDOW_M`) centred on the sample. The relief is exact,
     not sampled: a bilinear surface is linear along each row and column of a cell, so its
     extremes over the window lie at the window corners, the grid nodes inside it and the
     crossings of its sides with the grid lines, which are all evaluated. Slopes are
     meaningless at ~9 km, but relief over a few km still separates the delta from the
     midlands and the mountains. (Formerly the index was the relief of the 3 × 3 pixels
     around the sample, a ~27 km window that reached mountain ranges far from the road.)

4. **Thresholds** (:class:`TerrainThresholds`). TCVN 4054:2005 (the note to its design-speed
   table) classes terrain by the prevailing natural cross-slope of hillsides: *plain & hill*
   ≤ 30 %, *mountain* > 30 %. The mountain threshold of the slope index is therefore **30 %**.
   TCVN 4054 gives plain and hill one design speed and does not split them; the flat / hilly
   boundary of **10 %** follows the common geometric-design convention (level terrain up to about
   10 % cross-slope, rolling 10–25/30 %) and sits well above the 2–4 % that SRTM noise produces on
   the Hà Nội plain. A 90 m DEM smooths hillsides, so its slopes read somewhat lower than the
   true cross-slope: borderline mountain roads tend to come out hilly, never the reverse.

   *Reference for the relief thresholds.* The relief thresholds were calibrated on the SRTM
   tile against its **slope classes**, not against relief on SRTM: the slope classes are the
   TCVN 4054 criterion and the classes the pipeline actually gives wherever a fine DEM exists,
   so agreement with them measures what matters (would an edge get the same class, and speed,
   with only the coarse DEM?). Relief on SRTM is itself only a proxy for slope and would need
   its own calibration; it is reported as well, to separate the loss due to the coarse DEM from
   the loss due to the index. The search (:func:`calibrate_relief_thresholds`) runs over a grid
   of points every 0.01° over the tile less 0.05° at its sides (8,274 points, all land, of which
   60 % flat, 24 % hilly, 15 % mountainous on SRTM slope) and maximises Cohen's kappa; raw
   agreement would be maximised by calling everything flat.

   * **Coarse DEM relief: flat < 100 m, hilly 100–200 m, mountainous ≥ 200 m.** The best kappa
     is at 100 / 170 m (0.342); 200 m was kept (kappa 0.335 on the grid, better on the roads:
     0.34 against 0.33 on samples, 71 % against 69 % of edges) as the round number, the DEM's
     elevations coming in 28 m steps. The thresholds are far below what SRTM relief needs,
     because the 5-arc-minute DEM flattens peaks (Tam Đảo, 1,590 m, reads ~590 m).
   * **Fine DEM relief** (``fine_index="relief"``): **flat < 350 m, hilly 350–650 m,
     mountainous ≥ 650 m** (best kappa, 0.41, on the same grid, 50 m steps).

   *Measured agreement* (``python -m corridors.network.terrain``, which prints
   :func:`coarse_dem_agreement` for both references). Roads: the embedded national roads inside
   the tile less 0.05°, cut into 110 pieces of about 5 km (533 km, 2,186 samples). Against the
   **SRTM slope classes**: road samples 67.0 % (kappa 0.34), road edges **70.9 %** (78 of 110,
   kappa 0.42), grid 62.0 % (kappa 0.34). Road edges, rows SRTM, columns coarse DEM::

                    flat  hilly  mountainous
       flat           60     19            6
       hilly           1     17            6
       mountainous     0      0            1

   The coarse DEM errs on the steep side: nearly every disagreement is an SRTM-flat or -hilly
   road in a valley of the midlands that the coarse DEM calls steeper; it almost never calls a
   hilly or mountainous road flat. Against **SRTM relief in the same ± 5 km window** (same
   index, each DEM with its thresholds): road samples 80.2 % (kappa 0.65), road edges 81.8 %
   (kappa 0.68), grid 66.6 % (kappa 0.46). For comparison, the former 3 × 3 relief (200 / 400 m)
   gave against SRTM slope 66.7 % of road samples (kappa 0.29), 70.9 % of road edges and 60.8 %
   of the grid (kappa 0.28). Around Sa Pa the ± 5 km relief of the coarse DEM is 730–1,090 m,
   on the Red River delta 0–20 m.
5. **Edge class.** Each sample is classed with the thresholds of its DEM's index; the edge takes
   the median class of its samples (the *prevailing* terrain, as TCVN 4054 words it; ties go to
   the steeper class). ``terrain_source`` names the DEM(s) that supplied the samples, most samples
   first, joined by ``+`` (e.g. ``srtm3_N21E105.tif+dem_5arcmin.tif`` for an edge that leaves the
   SRTM tile). Long edges that cross from one terrain into another get a single class: split
   them first where that matters.

Edges that are not roads (a ``mode`` column other than ``road``) and edges no DEM covers get an
empty terrain, which :func:`network.speeds.assign_speeds` treats as *hilly*.

Speed: elevations are read once per DEM block (2,048 × 2,048 pixels plus a margin) that holds
samples, and indexed with numpy; 10^4 edges take about a second on the embedded DEMs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import rasterio
import rasterio.warp
import shapely
import shapely.ops
from corridors.layers.region import raster_path
from corridors.network.schema import TERRAINS
from rasterio.windows import Window
from scipy import ndimage

from corridors.core.constants import METRIC_CRS

#: Distance between samples along an edge, metres.
SAMPLE_STEP_M = 250.0
#: Largest pixel (metres) for which the slope index is used; coarser DEMs use relief.
FINE_MAX_PIXEL_M = 250.0
#: Half-width of the slope window around a sample, metres.
HALF_WINDOW_M = 250.0
#: Half-width of the relief window around a sample, metres (the window is 10 km × 10 km).
RELIEF_HALF_WINDOW_M = 5000.0
#: Terrain indices offered on fine DEMs (``fine_index``): mean slope (default) or relief.
FINE_INDICES = ("slope", "relief")
#: Rows and columns of a DEM read at once.
BLOCK_PX = 2048
#: Samples per chunk of the exact relief (memory: about 2 kB per sample while it runs).
_RELIEF_CHUNK = 100_000
#: Metres per degree of latitude and of longitude at the equator.
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0
#: Raster file suffixes read from a folder given in ``dem_paths``.
DEM_SUFFIXES = (".tif", ".tiff")


@dataclass(frozen=True)
class TerrainThresholds:
    """Class boundaries of the terrain indices.

    Attributes
    ----------
    slope_flat_max_pct : float
        Fine DEMs: mean slope below this (percent) is flat.
    slope_hilly_max_pct : float
        Fine DEMs: mean slope below this (percent) is hilly, at or above mountainous
        (TCVN 4054:2005: mountain terrain has cross-slopes over 30 %).
    relief_flat_max_m : float
        Coarse DEMs: relief (± 5 km window of the bilinear surface) below this (metres) is flat.
    relief_hilly_max_m : float
        Coarse DEMs: relief below this (metres) is hilly, at or above mountainous.
    fine_relief_flat_max_m : float
        Fine DEMs with ``fine_index="relief"``: relief (± 5 km window of the pixels) below this
        (metres) is flat.
    fine_relief_hilly_max_m : float
        Fine DEMs with ``fine_index="relief"``: relief below this (metres) is hilly, at or above
        mountainous.
    """

    slope_flat_max_pct: float = 10.0
    slope_hilly_max_pct: float = 30.0
    relief_flat_max_m: float = 100.0
    relief_hilly_max_m: float = 200.0
    fine_relief_flat_max_m: float = 350.0
    fine_relief_hilly_max_m: float = 650.0


DEFAULT_THRESHOLDS = TerrainThresholds()


def dem_paths_default() -> list[Path]:
    """Return the embedded DEMs in priority order.

    Returns
    -------
    list of pathlib.Path
        The SRTM 3-arc-second tile (lat 21–22, lon 105–106) then the 5-arc-minute DEM of the
        whole region. Put user tiles before them: ``[*my_tiles, *dem_paths_default()]``.
    """
    return [raster_path("dem_srtm"), raster_path("dem_coarse")]


def _expand(dem_paths: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in dem_paths:
        path = Path(p)
        if path.is_dir():
            out.extend(sorted(f for f in path.iterdir() if f.suffix.lower() in DEM_SUFFIXES))
        elif path.exists():
            out.append(path)
        else:
            raise FileNotFoundError(f"DEM not found: {path}")
    if not out:
        raise ValueError("no DEM given (dem_paths is empty or its folders hold no GeoTIFF)")
    return out


def sample_points(edges: gpd.GeoDataFrame, step_m: float = SAMPLE_STEP_M
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return points every ``step_m`` metres along each edge, in EPSG:32648.

    Parameters
    ----------
    edges : geopandas.GeoDataFrame
        Lines (LineString or MultiLineString); a frame without a CRS is taken as EPSG:4326.
    step_m : float
        Spacing of the samples, metres.

    Returns
    -------
    pos : numpy.ndarray of int
        Position (0-based row number in ``edges``) of the edge of each sample.
    x, y : numpy.ndarray of float
        Coordinates of the samples in EPSG:32648, metres.
    """
    if step_m <= 0:
        raise ValueError(f"step_m must be positive (got {step_m})")
    gs = edges.geometry
    if gs.crs is None:
        gs = gs.set_crs("EPSG:4326")
    geoms = gs.to_crs(METRIC_CRS).to_numpy()
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    lengths = np.where(valid, shapely.length(np.where(valid, geoms, None)), 0.0)
    lengths = np.nan_to_num(lengths)
    counts = np.where(valid, np.maximum(1, np.ceil(lengths / step_m)), 0).astype(int)
    pos = np.repeat(np.arange(len(geoms)), counts)
    if len(pos) == 0:
        return pos, np.empty(0), np.empty(0)
    starts = np.cumsum(counts) - counts
    k = np.arange(len(pos)) - np.repeat(starts, counts)
    dist = (k + 0.5) * lengths[pos] / counts[pos]
    pts = shapely.line_interpolate_point(geoms[pos], dist)
    xy = shapely.get_coordinates(pts)
    return pos, xy[:, 0], xy[:, 1]


def _pixel_size_m(src: rasterio.io.DatasetReader, lat: np.ndarray | float
                  ) -> tuple[np.ndarray | float, float]:
    """Return pixel width and height in metres (width per latitude for geographic rasters)."""
    t = src.transform
    if t.b != 0 or t.d != 0:
        raise ValueError(f"{src.name}: rotated rasters are not supported")
    if src.crs is None:
        raise ValueError(f"{src.name}: raster has no CRS")
    if src.crs.is_geographic:
        return (abs(t.a) * M_PER_DEG_LON * np.cos(np.radians(lat)),
                abs(t.e) * M_PER_DEG_LAT)
    factor = src.crs.linear_units_factor[1]
    return abs(t.a) * factor, abs(t.e) * factor


def _read_block(src: rasterio.io.DatasetReader, r0: int, r1: int, c0: int, c1: int
                ) -> np.ndarray:
    arr = src.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True)
    out = arr.astype(float).filled(np.nan)
    return out


def _window_mean(values: np.ndarray, rows: np.ndarray, cols: np.ndarray, half: int
                 ) -> np.ndarray:
    """NaN-aware mean of ``values`` in (2 half + 1)² windows at (rows, cols) (integral images)."""
    finite = np.isfinite(values)
    s = np.zeros((values.shape[0] + 1, values.shape[1] + 1))
    c = np.zeros_like(s)
    s[1:, 1:] = np.cumsum(np.cumsum(np.where(finite, values, 0.0), 0), 1)
    c[1:, 1:] = np.cumsum(np.cumsum(finite, 0), 1)
    ra = np.clip(rows - half, 0, values.shape[0])
    rb = np.clip(rows + half + 1, 0, values.shape[0])
    ca = np.clip(cols - half, 0, values.shape[1])
    cb = np.clip(cols + half + 1, 0, values.shape[1])
    total = s[rb, cb] - s[ra, cb] - s[rb, ca] + s[ra, ca]
    count = c[rb, cb] - c[ra, cb] - c[rb, ca] + c[ra, ca]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def _slope_pct(elev: np.ndarray, px_x: np.ndarray, px_y: float) -> np.ndarray:
    """Slope magnitude (percent) of a block; ``px_x`` is the pixel width per row, metres."""
    if elev.shape[0] < 2 or elev.shape[1] < 2:
        return np.full(elev.shape, np.nan)
    dzdr, dzdc = np.gradient(elev)
    return 100.0 * np.hypot(dzdc / px_x[:, None], dzdr / px_y)


def _bilinear(elev: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of ``elev`` at pixel-centre coordinates (column ``u``, row ``v``).

    Coordinates are clamped to the array (the surface is extended flat beyond its outer pixel
    centres); nodata (NaN) neighbours are left out and the weights of the others renormalised.
    """
    h, w = elev.shape
    u = np.clip(u, 0.0, w - 1.0)
    v = np.clip(v, 0.0, h - 1.0)
    c0 = np.minimum(np.floor(u).astype(np.int64), max(w - 2, 0))
    r0 = np.minimum(np.floor(v).astype(np.int64), max(h - 2, 0))
    c1 = np.minimum(c0 + 1, w - 1)
    r1 = np.minimum(r0 + 1, h - 1)
    fu, fv = u - c0, v - r0
    flat = elev.ravel()
    corners = ((r0 * w + c0, (1 - fu) * (1 - fv)), (r0 * w + c1, fu * (1 - fv)),
               (r1 * w + c0, (1 - fu) * fv), (r1 * w + c1, fu * fv))
    if np.isfinite(elev).all():  # the common case: no nodata to leave out
        return sum(flat[i] * wt for i, wt in corners)
    total = np.zeros(np.shape(u))
    weight = np.zeros(np.shape(u))
    for i, wt in corners:
        z = flat[i]
        ok = np.isfinite(z)
        total += np.where(ok, z * wt, 0.0)
        weight += np.where(ok, wt, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight > 1e-9, total / np.maximum(weight, 1e-12), np.nan)


def _candidates(centre: np.ndarray, half: np.ndarray, k: int) -> np.ndarray:
    """Window ends ``centre ± half`` and the grid lines (integers) between them, (n, k) array.

    A bilinear surface is linear along every row and column of a cell, so its extremes over a
    rectangle made of whole or partial cells lie at the corners of those pieces: the products
    of these candidates along columns and rows. Unused slots repeat the lower end.
    """
    lo, hi = centre - half, centre + half
    inner = np.floor(lo)[:, None] + 1 + np.arange(k - 2)[None, :]
    inner = np.where(inner < hi[:, None], inner, lo[:, None])
    return np.hstack([lo[:, None], hi[:, None], inner])


def _relief_bilinear(elev: np.ndarray, u: np.ndarray, v: np.ndarray, half_u: np.ndarray,
                     half_v: float) -> np.ndarray:
    """Exact relief (max − min) of the bilinear surface in windows ``u ± half_u, v ± half_v``.

    Samples are taken in chunks of :data:`_RELIEF_CHUNK`: each needs (n, ku × kv) temporaries,
    gigabytes for the millions of samples of a region-scale extract.
    """
    if len(u) > _RELIEF_CHUNK:
        half_u = np.broadcast_to(half_u, u.shape)
        return np.concatenate([
            _relief_bilinear(elev, u[i:i + _RELIEF_CHUNK], v[i:i + _RELIEF_CHUNK],
                             half_u[i:i + _RELIEF_CHUNK], half_v)
            for i in range(0, len(u), _RELIEF_CHUNK)])
    # the two ends and at most ceil(width) grid lines strictly between them
    ku = int(np.ceil(2 * float(np.max(half_u, initial=0.0)))) + 2
    kv = int(np.ceil(2 * half_v)) + 2
    cu = _candidates(u, np.broadcast_to(half_u, u.shape), ku)
    cv = _candidates(v, np.full(v.shape, half_v), kv)
    z = _bilinear(elev, np.repeat(cu, kv, axis=1), np.tile(cv, (1, ku)))
    finite = np.isfinite(z)
    hi = np.where(finite, z, -np.inf).max(axis=1)
    lo = np.where(finite, z, np.inf).min(axis=1)
    return np.where(finite.any(axis=1), hi - lo, np.nan)


def _relief_pixels(elev: np.ndarray, rows: np.ndarray, cols: np.ndarray, half_r: int,
                   half_c: int) -> np.ndarray:
    """Max − min of the pixels in (2 half_r + 1) × (2 half_c + 1) windows, NaN-aware."""
    size = (2 * half_r + 1, 2 * half_c + 1)
    finite = np.isfinite(elev)
    hi = ndimage.maximum_filter(np.where(finite, elev, -np.inf), size=size, mode="nearest")
    lo = ndimage.minimum_filter(np.where(finite, elev, np.inf), size=size, mode="nearest")
    out = hi[rows, cols] - lo[rows, cols]
    return np.where(np.isfinite(out), out, np.nan)


def _index_with(src: rasterio.io.DatasetReader, x: np.ndarray, y: np.ndarray,
                fine_index: str = "slope") -> tuple[np.ndarray, str]:
    """Terrain index of metric points on one DEM (NaN where the DEM does not cover them).

    Returns the values and the index they hold: ``"slope"`` (percent, fine DEMs with
    ``fine_index="slope"``), ``"relief_fine"`` (metres, fine DEMs with ``fine_index="relief"``)
    or ``"relief"`` (metres, coarse DEMs).
    """
    if fine_index not in FINE_INDICES:
        raise ValueError(f"fine_index must be one of {FINE_INDICES} (got {fine_index!r})")
    values = np.full(len(x), np.nan)
    centre_lat = src.xy(src.height // 2, src.width // 2)[1] if src.crs.is_geographic else 0.0
    px_w, px_h = _pixel_size_m(src, centre_lat)
    fine = max(float(px_w), px_h) <= FINE_MAX_PIXEL_M
    kind = ("slope" if fine_index == "slope" else "relief_fine") if fine else "relief"
    if len(x) == 0:
        return values, kind
    transformer = pyproj.Transformer.from_crs(METRIC_CRS, src.crs, always_xy=True)
    px, py = transformer.transform(x, y)
    inv = ~src.transform
    px, py = np.asarray(px), np.asarray(py)
    colf = inv.a * px + inv.b * py + inv.c
    rowf = inv.d * px + inv.e * py + inv.f
    with np.errstate(invalid="ignore"):
        rows = np.floor(rowf)
        cols = np.floor(colf)
    inside = (np.isfinite(rows) & np.isfinite(cols) & (rows >= 0) & (rows < src.height)
              & (cols >= 0) & (cols < src.width))
    if not inside.any():
        return values, kind
    rows = np.where(inside, rows, 0).astype(np.int64)
    cols = np.where(inside, cols, 0).astype(np.int64)

    if kind == "slope":
        half = max(1, int(HALF_WINDOW_M // max(float(px_w), px_h)))
        margin = half + 2
    else:  # relief windows of ± RELIEF_HALF_WINDOW_M
        half_c = max(1, round(RELIEF_HALF_WINDOW_M / float(px_w)))
        half_r = max(1, round(RELIEF_HALF_WINDOW_M / px_h))
        margin = max(half_c, half_r) + 2

    idx = np.flatnonzero(inside)
    block_id = (rows[idx] // BLOCK_PX) * (src.width // BLOCK_PX + 1) + cols[idx] // BLOCK_PX
    order = np.argsort(block_id, kind="stable")
    idx, block_id = idx[order], block_id[order]
    bounds = np.flatnonzero(np.diff(block_id)) + 1
    for group in np.split(idx, bounds):
        br, bc = rows[group[0]] // BLOCK_PX, cols[group[0]] // BLOCK_PX
        r0 = max(0, br * BLOCK_PX - margin)
        r1 = min(src.height, (br + 1) * BLOCK_PX + margin)
        c0 = max(0, bc * BLOCK_PX - margin)
        c1 = min(src.width, (bc + 1) * BLOCK_PX + margin)
        elev = _read_block(src, r0, r1, c0, c1)
        lr, lc = rows[group] - r0, cols[group] - c0
        valid = np.isfinite(elev[lr, lc])
        if kind == "slope":
            if src.crs.is_geographic:
                t = src.transform
                lats = t.f + t.e * (np.arange(r0, r1) + 0.5)
                pw, ph = _pixel_size_m(src, lats)
            else:
                pw, ph = _pixel_size_m(src, 0.0)
                pw = np.full(r1 - r0, pw)
            index = _window_mean(_slope_pct(elev, np.asarray(pw), ph), lr, lc, half)
        elif kind == "relief_fine":
            index = _relief_pixels(elev, lr, lc, half_r, half_c)
        else:
            # pixel-centre coordinates in the block; window half-widths in pixels at each
            # sample's latitude (geographic rasters) so that the window is ± R metres
            u = colf[group] - 0.5 - c0
            v = rowf[group] - 0.5 - r0
            if src.crs.is_geographic:
                pw, ph = _pixel_size_m(src, np.asarray(py)[group])
            else:
                pw, ph = _pixel_size_m(src, 0.0)
            half_u = RELIEF_HALF_WINDOW_M / np.broadcast_to(np.asarray(pw, dtype=float),
                                                            u.shape)
            index = _relief_bilinear(elev, u, v, half_u, RELIEF_HALF_WINDOW_M / ph)
        ok = valid & np.isfinite(index)
        values[group[ok]] = index[ok]
    return values, kind


def _limits(kind: str, th: TerrainThresholds) -> tuple[float, float]:
    if kind == "slope":
        return th.slope_flat_max_pct, th.slope_hilly_max_pct
    if kind == "relief_fine":
        return th.fine_relief_flat_max_m, th.fine_relief_hilly_max_m
    return th.relief_flat_max_m, th.relief_hilly_max_m


def _codes(values: np.ndarray, kind: str, th: TerrainThresholds) -> np.ndarray:
    """Terrain code (0 flat, 1 hilly, 2 mountainous, -1 not covered) of index values."""
    codes = np.full(len(values), -1, dtype=int)
    ok = np.isfinite(values)
    codes[ok] = np.digitize(values[ok], _limits(kind, th))
    return codes


def _classify_with(src: rasterio.io.DatasetReader, x: np.ndarray, y: np.ndarray,
                   th: TerrainThresholds, fine_index: str = "slope") -> np.ndarray:
    """Terrain code (0 flat, 1 hilly, 2 mountainous, -1 not covered) of metric points."""
    values, kind = _index_with(src, x, y, fine_index)
    return _codes(values, kind, th)


def _sample_codes(edges: gpd.GeoDataFrame, paths: Sequence[Path], step_m: float,
                  th: TerrainThresholds, fine_index: str
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the samples of road edges, their terrain code and the DEM (position) giving it."""
    n = len(edges)
    is_road = np.ones(n, dtype=bool)
    if "mode" in edges.columns:
        is_road = edges["mode"].astype(str).to_numpy() == "road"
    pos, x, y = sample_points(edges[is_road] if not is_road.all() else edges, step_m)
    pos = np.flatnonzero(is_road)[pos]

    codes = np.full(len(x), -1, dtype=int)
    src_idx = np.full(len(x), -1, dtype=int)
    for k, path in enumerate(paths):
        todo = np.flatnonzero(codes < 0)
        if len(todo) == 0:
            break
        with rasterio.open(path) as src:
            got = _classify_with(src, x[todo], y[todo], th, fine_index)
        hit = got >= 0
        codes[todo[hit]] = got[hit]
        src_idx[todo[hit]] = k
    return pos, codes, src_idx


def _edge_codes(pos: np.ndarray, codes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-edge class counts (n × 3) and median class (upper median; -1 without samples)."""
    covered = codes >= 0
    counts = np.zeros((n, 3), dtype=int)
    np.add.at(counts, (pos[covered], codes[covered]), 1)
    total = counts.sum(axis=1)
    # upper median of the sample classes: first class whose cumulative count exceeds n // 2
    cum = np.cumsum(counts, axis=1)
    median = np.argmax(cum > (total // 2)[:, None], axis=1)
    return counts, np.where(total > 0, median, -1)


def terrain_details(edges: gpd.GeoDataFrame, dem_paths: Sequence[str | Path] | None = None,
                    step_m: float = SAMPLE_STEP_M,
                    thresholds: TerrainThresholds | None = None,
                    fine_index: str = "slope") -> pd.DataFrame:
    """Classify the terrain of road edges and report how each class was reached.

    Parameters
    ----------
    edges : geopandas.GeoDataFrame
        Edges (LineString or MultiLineString, EPSG:4326 or any CRS; none set means EPSG:4326).
        Where a ``mode`` column exists only ``road`` edges are classified.
    dem_paths : sequence of str or pathlib.Path, optional
        DEM GeoTIFFs in priority order, finest first; a folder stands for all its ``.tif`` files
        (sorted by name). Default :func:`dem_paths_default`.
    step_m : float
        Spacing of the elevation samples along each edge, metres.
    thresholds : TerrainThresholds, optional
        Class boundaries; default :data:`DEFAULT_THRESHOLDS`.
    fine_index : {"slope", "relief"}
        Index used on fine DEMs (pixels ≤ 250 m): the mean slope in ± 250 m (default, the
        TCVN 4054 criterion) or the relief in ± 5 km, the index of coarse DEMs (to compare
        both DEMs on one index). Coarse DEMs always use relief.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``edges``, with ``terrain`` (flat / hilly / mountainous, or ``""`` for
        non-road edges and edges no DEM covers), ``terrain_source`` (file names of the DEMs that
        supplied the samples, most samples first, joined by ``+``; ``""`` if none),
        ``n_samples`` (samples covered by a DEM) and ``share_flat``, ``share_hilly``,
        ``share_mountainous`` (shares of those samples in each class).
    """
    th = thresholds or DEFAULT_THRESHOLDS
    paths = _expand(dem_paths if dem_paths is not None else dem_paths_default())
    n = len(edges)
    pos, codes, src_idx = _sample_codes(edges, paths, step_m, th, fine_index)
    counts, median = _edge_codes(pos, codes, n)
    total = counts.sum(axis=1)
    terrain = np.where(median >= 0, np.array(TERRAINS, dtype=object)[np.maximum(median, 0)], "")

    covered = codes >= 0
    names = [p.name for p in paths]
    per_src = np.zeros((n, len(paths)), dtype=int)
    np.add.at(per_src, (pos[covered], src_idx[covered]), 1)
    sources = []
    for row in per_src:
        used = [i for i in np.argsort(-row, kind="stable") if row[i] > 0]
        sources.append("+".join(names[i] for i in used))

    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(total[:, None] > 0, counts / np.maximum(total, 1)[:, None], np.nan)
    return pd.DataFrame({
        "terrain": terrain, "terrain_source": sources, "n_samples": total,
        "share_flat": shares[:, 0], "share_hilly": shares[:, 1],
        "share_mountainous": shares[:, 2],
    }, index=edges.index)


def classify_terrain(edges: gpd.GeoDataFrame, dem_paths: Sequence[str | Path] | None = None,
                     step_m: float = SAMPLE_STEP_M,
                     thresholds: TerrainThresholds | None = None,
                     fine_index: str = "slope") -> pd.Series:
    """Return the terrain class of each road edge.

    Parameters
    ----------
    edges : geopandas.GeoDataFrame
        Edges; see :func:`terrain_details`.
    dem_paths : sequence of str or pathlib.Path, optional
        DEMs in priority order; default :func:`dem_paths_default`.
    step_m : float
        Spacing of the elevation samples, metres.
    thresholds : TerrainThresholds, optional
        Class boundaries; default :data:`DEFAULT_THRESHOLDS`.
    fine_index : {"slope", "relief"}
        Index of fine DEMs; see :func:`terrain_details`.

    Returns
    -------
    pandas.Series
        ``terrain`` indexed like ``edges``: ``"flat"``, ``"hilly"``, ``"mountainous"``, or
        ``""`` for non-road edges and edges outside every DEM. The DEM that decided each edge is
        in :func:`terrain_details` (``terrain_source``), which :func:`add_terrain` also writes.
    """
    details = terrain_details(edges, dem_paths, step_m, thresholds, fine_index)
    return details["terrain"].rename("terrain")


def add_terrain(edges: gpd.GeoDataFrame, dem_paths: Sequence[str | Path] | None = None,
                overwrite: bool = False, step_m: float = SAMPLE_STEP_M,
                thresholds: TerrainThresholds | None = None,
                fine_index: str = "slope") -> gpd.GeoDataFrame:
    """Return a copy of ``edges`` with ``terrain`` and ``terrain_source`` filled from DEMs.

    Parameters
    ----------
    edges : geopandas.GeoDataFrame
        Edges; see :func:`terrain_details`.
    dem_paths : sequence of str or pathlib.Path, optional
        DEMs in priority order; default :func:`dem_paths_default`.
    overwrite : bool
        If False (default), edges that already have a terrain (e.g. set by a catalog entry or an
        earlier call) keep it, with their ``terrain_source`` where one is recorded, else
        ``"given"``; if True every road edge is reclassified.
    step_m : float
        Spacing of the elevation samples, metres.
    thresholds : TerrainThresholds, optional
        Class boundaries; default :data:`DEFAULT_THRESHOLDS`.
    fine_index : {"slope", "relief"}
        Index of fine DEMs; see :func:`terrain_details`.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame with ``terrain`` and ``terrain_source`` columns.
    """
    out = edges.copy()
    if "terrain" in out.columns and not overwrite:
        current = out["terrain"].fillna("").astype(str).str.strip()
        keep = current.isin(TERRAINS).to_numpy()
    else:
        current = pd.Series("", index=out.index)
        keep = np.zeros(len(out), dtype=bool)
    todo = np.flatnonzero(~keep)
    details = terrain_details(out.iloc[todo], dem_paths, step_m, thresholds, fine_index)
    terrain = current.to_numpy(dtype=object).copy()
    source = np.where(keep, "given", "").astype(object)
    if "terrain_source" in out.columns:  # a kept terrain keeps the DEM that decided it
        before = out["terrain_source"].fillna("").astype(str).to_numpy(dtype=object)
        source = np.where(keep & (before != ""), before, source).astype(object)
    terrain[todo] = details["terrain"].to_numpy()
    source[todo] = details["terrain_source"].to_numpy()
    out["terrain"] = terrain
    out["terrain_source"] = source
    return out


@dataclass(frozen=True)
class DemAgreement:
    """Agreement of the coarse DEM's terrain classes with a fine DEM's, where both exist.

    Attributes
    ----------
    reference : str
        Index of the fine DEM taken as the truth: ``"slope"`` (mean slope in ± 250 m, the
        TCVN 4054 criterion and the index used wherever a fine DEM exists) or ``"relief"``.
    half_window_m : float
        Half-width of the relief window, metres.
    thresholds : TerrainThresholds
        Class boundaries used on both DEMs.
    confusion : dict of str to pandas.DataFrame
        Confusion matrices (rows: fine DEM class, columns: coarse DEM class, counts) of
        ``"road_samples"`` (samples every 250 m along the road pieces), ``"road_edges"`` (the
        pieces, each classed by the median of its samples) and ``"grid"`` (a regular grid of
        points over the fine DEM, i.e. all land, roads or not).
    agreement : dict of str to float
        Share of each set on the diagonal (0–1).
    kappa : dict of str to float
        Cohen's kappa of each set (agreement beyond chance; 0 = chance, 1 = perfect).
    """

    reference: str
    half_window_m: float
    thresholds: TerrainThresholds
    confusion: dict[str, pd.DataFrame]
    agreement: dict[str, float]
    kappa: dict[str, float]

    def report(self) -> str:
        """Return the figures as text (the confusion matrices and both scores per set)."""
        th = self.thresholds
        ref_limits = (f"flat < {th.slope_flat_max_pct:g} %, hilly < {th.slope_hilly_max_pct:g} %"
                      if self.reference == "slope" else
                      f"± {self.half_window_m / 1000:g} km, flat < {th.fine_relief_flat_max_m:g} m,"
                      f" hilly < {th.fine_relief_hilly_max_m:g} m")
        lines = [f"Coarse DEM relief (± {self.half_window_m / 1000:g} km, flat < "
                 f"{th.relief_flat_max_m:g} m, hilly < {th.relief_hilly_max_m:g} m) against the "
                 f"fine DEM's {self.reference} classes ({ref_limits})"]
        for name, cm in self.confusion.items():
            n = int(cm.to_numpy().sum())
            lines.append(f"\n{name}: n = {n}, agreement {100 * self.agreement[name]:.1f} %, "
                         f"kappa {self.kappa[name]:.2f} (rows fine DEM, columns coarse DEM)")
            lines.append(cm.to_string())
        return "\n".join(lines)


def _confusion(ref: np.ndarray, got: np.ndarray) -> tuple[pd.DataFrame, float, float]:
    cm = np.zeros((3, 3), dtype=int)
    np.add.at(cm, (ref, got), 1)
    n = cm.sum()
    po = np.trace(cm) / n if n else np.nan
    pe = (cm.sum(axis=0) * cm.sum(axis=1)).sum() / n**2 if n else np.nan
    kappa = (po - pe) / (1 - pe) if n and pe < 1 else np.nan
    frame = pd.DataFrame(cm, index=pd.Index(TERRAINS, name="fine"),
                         columns=pd.Index(TERRAINS, name="coarse"))
    return frame, float(po), float(kappa)


def _road_pieces(bounds: tuple[float, float, float, float], piece_km: float) -> gpd.GeoDataFrame:
    """Embedded roads inside ``bounds`` (lon/lat), cut into pieces of about ``piece_km``."""
    from corridors.layers.region import read_layer

    west, south, east, north = bounds
    roads = read_layer("roads").to_crs("EPSG:4326")
    clipped = gpd.clip(roads, shapely.box(west, south, east, north)).explode(index_parts=False)
    lines = clipped.to_crs(METRIC_CRS).geometry
    lines = lines[lines.geom_type == "LineString"].to_numpy()
    pieces = []
    for line in lines:
        n = max(1, round(line.length / (piece_km * 1000)))
        pieces += [shapely.ops.substring(line, line.length * k / n, line.length * (k + 1) / n)
                   for k in range(n)]
    return gpd.GeoDataFrame({"mode": ["road"] * len(pieces)}, geometry=pieces, crs=METRIC_CRS)


def coarse_dem_agreement(fine_dem: str | Path | None = None, coarse_dem: str | Path | None = None,
                         edges: gpd.GeoDataFrame | None = None,
                         thresholds: TerrainThresholds | None = None,
                         reference: str = "slope", piece_km: float = 5.0,
                         grid_step_deg: float = 0.01) -> DemAgreement:
    """Measure how often the coarse DEM gives the fine DEM's terrain class.

    Parameters
    ----------
    fine_dem, coarse_dem : str or pathlib.Path, optional
        Default the embedded SRTM tile and 5-arc-minute DEM.
    edges : geopandas.GeoDataFrame, optional
        Road edges to compare; default the embedded national and provincial roads inside the
        fine DEM less a margin of 0.05° (so that its ± 5 km windows stay inside it), cut into
        pieces of about ``piece_km``. Samples that either DEM misses are left out.
    thresholds : TerrainThresholds, optional
        Class boundaries; default :data:`DEFAULT_THRESHOLDS`.
    reference : {"slope", "relief"}
        Index of the fine DEM taken as the truth (see :class:`DemAgreement`).
    piece_km : float
        Length of the default road pieces, km.
    grid_step_deg : float
        Spacing of the grid of points over the fine DEM, degrees.

    Returns
    -------
    DemAgreement
        Confusion matrices, agreement and kappa on road samples, road edges and the grid.

    Examples
    --------
    >>> a = coarse_dem_agreement()
    >>> round(100 * a.agreement["road_edges"])
    71
    """
    th = thresholds or DEFAULT_THRESHOLDS
    fine_path = Path(fine_dem) if fine_dem is not None else raster_path("dem_srtm")
    coarse_path = Path(coarse_dem) if coarse_dem is not None else raster_path("dem_coarse")
    margin = 0.05
    with rasterio.open(fine_path) as src:
        west, south, east, north = rasterio.warp.transform_bounds(src.crs, "EPSG:4326",
                                                                  *src.bounds)
    west, south, east, north = west + margin, south + margin, east - margin, north - margin
    if edges is None:
        edges = _road_pieces((west, south, east, north), piece_km)
    pos, x, y = sample_points(edges)
    lon, lat = np.meshgrid(np.arange(west, east, grid_step_deg),
                           np.arange(south, north, grid_step_deg))
    to_metric = pyproj.Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
    gx, gy = (np.asarray(v) for v in to_metric.transform(lon.ravel(), lat.ravel()))
    xs, ys = np.concatenate([x, gx]), np.concatenate([y, gy])
    with rasterio.open(fine_path) as src:
        ref = _classify_with(src, xs, ys, th, reference)
    with rasterio.open(coarse_path) as src:
        got = _classify_with(src, xs, ys, th, "slope")
    ok = (ref >= 0) & (got >= 0)
    ns = len(x)
    road_ok, grid_ok = ok[:ns], ok[ns:]
    _, ref_edge = _edge_codes(pos[road_ok], ref[:ns][road_ok], len(edges))
    _, got_edge = _edge_codes(pos[road_ok], got[:ns][road_ok], len(edges))
    has = ref_edge >= 0
    sets = {"road_samples": (ref[:ns][road_ok], got[:ns][road_ok]),
            "road_edges": (ref_edge[has], got_edge[has]),
            "grid": (ref[ns:][grid_ok], got[ns:][grid_ok])}
    confusion, agreement, kappa = {}, {}, {}
    for name, (a, b) in sets.items():
        confusion[name], agreement[name], kappa[name] = _confusion(a, b)
    return DemAgreement(reference, RELIEF_HALF_WINDOW_M, th, confusion, agreement, kappa)


def calibrate_relief_thresholds(fine_dem: str | Path | None = None,
                                coarse_dem: str | Path | None = None, dem: str = "coarse",
                                step_m: float = 10.0, grid_step_deg: float = 0.01
                                ) -> tuple[float, float, float]:
    """Search the relief thresholds that best reproduce the fine DEM's slope classes.

    The search runs over the grid of points of :func:`coarse_dem_agreement` (all land of the
    fine DEM, which holds far more hilly and mountainous ground than its roads) and maximises
    Cohen's kappa, not the raw agreement: two thirds of the points are flat, so calling
    everything flat would already agree in most of them.

    Parameters
    ----------
    fine_dem, coarse_dem : str or pathlib.Path, optional
        Default the embedded SRTM tile and 5-arc-minute DEM.
    dem : {"coarse", "fine"}
        Relief of which DEM to calibrate (``"fine"``: the relief of ``fine_index="relief"``).
    step_m : float
        Step of the thresholds searched, metres.
    grid_step_deg : float
        Spacing of the grid of points, degrees.

    Returns
    -------
    tuple of float
        The flat / hilly boundary, the hilly / mountainous boundary (metres) and the kappa.
    """
    fine_path = Path(fine_dem) if fine_dem is not None else raster_path("dem_srtm")
    coarse_path = Path(coarse_dem) if coarse_dem is not None else raster_path("dem_coarse")
    with rasterio.open(fine_path) as src:
        west, south, east, north = rasterio.warp.transform_bounds(src.crs, "EPSG:4326",
                                                                  *src.bounds)
    lon, lat = np.meshgrid(np.arange(west + 0.05, east - 0.05, grid_step_deg),
                           np.arange(south + 0.05, north - 0.05, grid_step_deg))
    to_metric = pyproj.Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
    x, y = (np.asarray(v) for v in to_metric.transform(lon.ravel(), lat.ravel()))
    with rasterio.open(fine_path) as src:
        ref = _classify_with(src, x, y, DEFAULT_THRESHOLDS, "slope")
    with rasterio.open(fine_path if dem == "fine" else coarse_path) as src:
        relief, _ = _index_with(src, x, y, "relief")
    ok = (ref >= 0) & np.isfinite(relief)
    ref, relief = ref[ok], relief[ok]
    top = float(np.max(relief, initial=0.0)) + step_m
    best = (np.nan, np.nan, -np.inf)
    for lo in np.arange(step_m, top, step_m):
        for hi in np.arange(lo + step_m, top + step_m, step_m):
            kappa = _confusion(ref, np.digitize(relief, (lo, hi)))[2]
            if kappa > best[2]:
                best = (float(lo), float(hi), kappa)
    return best


def main() -> None:
    """Print the agreement of the embedded coarse DEM with the SRTM tile (both references)."""
    for reference in FINE_INDICES:
        print(coarse_dem_agreement(reference=reference).report(), end="\n\n")


if __name__ == "__main__":
    main()
