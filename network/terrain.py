"""Terrain class of road edges (flat, hilly, mountainous) from elevation rasters (DEMs).

Method
------
1. **Samples.** Each road edge is projected to the metric CRS of the project (EPSG:32648, WGS 84 /
   UTM 48N, :data:`network.schema.METRIC_CRS`) and sampled every ~250 m
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
     per degree of longitude and 110,574 m per degree of latitude).
   * *coarse DEMs* (larger pixels): the **local relief** (max − min elevation, metres) of the
     3 × 3 pixel neighbourhood of the pixel under the sample (about 27 km × 27 km for the
     5-arc-minute DEM). Slopes are meaningless at ~9 km, but relief still separates the delta
     from the midlands and the mountains.

4. **Thresholds** (:class:`TerrainThresholds`). TCVN 4054:2005 (the note to its design-speed
   table) classes terrain by the prevailing natural cross-slope of hillsides: *plain & hill*
   ≤ 30 %, *mountain* > 30 %. The mountain threshold of the slope index is therefore **30 %**.
   TCVN 4054 gives plain and hill one design speed and does not split them; the flat / hilly
   boundary of **10 %** follows the common geometric-design convention (level terrain up to about
   10 % cross-slope, rolling 10–25/30 %) and sits well above the 2–4 % that SRTM noise produces on
   the Hà Nội plain. A 90 m DEM smooths hillsides, so its slopes read somewhat lower than the
   true cross-slope: borderline mountain roads tend to come out hilly, never the reverse.

   The relief thresholds of coarse DEMs — **flat < 200 m, hilly 200–400 m, mountainous ≥ 400 m**
   — were calibrated against the slope classes of the SRTM tile. Over the 100 pixels of the
   5-arc-minute DEM inside the tile, the majority slope class of each pixel's footprint agrees
   with the relief class in 68 % of pixels (the best split found, > 196 m and > 420 m, reaches
   70 %; the DEM's elevations come in 28 m steps, so round numbers were kept). On the 34 pieces
   (> 2 km) of the embedded national and provincial roads inside the tile, the coarse DEM gives
   the same edge class as SRTM for 30 (88 %); the 4 others are SRTM-flat roads that the coarse
   DEM calls hilly or mountainous (the 27 km window reaches the Tam Đảo and Ba Vì ranges beside
   the plain), so the coarse DEM errs on the steep side. Around Sa Pa the 3 × 3 relief is
   1,400–1,700 m, on the Red River delta 0–56 m.
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
import shapely
from rasterio.windows import Window

from layers.region import raster_path
from network.schema import METRIC_CRS, TERRAINS

#: Distance between samples along an edge, metres.
SAMPLE_STEP_M = 250.0
#: Largest pixel (metres) for which the slope index is used; coarser DEMs use relief.
FINE_MAX_PIXEL_M = 250.0
#: Half-width of the slope window around a sample, metres.
HALF_WINDOW_M = 250.0
#: Rows and columns of a DEM read at once.
BLOCK_PX = 2048
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
        Coarse DEMs: 3 × 3 relief below this (metres) is flat.
    relief_hilly_max_m : float
        Coarse DEMs: 3 × 3 relief below this (metres) is hilly, at or above mountainous.
    """

    slope_flat_max_pct: float = 10.0
    slope_hilly_max_pct: float = 30.0
    relief_flat_max_m: float = 200.0
    relief_hilly_max_m: float = 400.0


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


def _relief(elev: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Max − min of the 3 × 3 neighbourhood (clipped at the block edge), NaN-aware."""
    stack = []
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            r = np.clip(rows + dr, 0, elev.shape[0] - 1)
            c = np.clip(cols + dc, 0, elev.shape[1] - 1)
            stack.append(elev[r, c])
    vals = np.vstack(stack)
    finite = np.isfinite(vals)
    hi = np.where(finite, vals, -np.inf).max(axis=0)
    lo = np.where(finite, vals, np.inf).min(axis=0)
    return np.where(finite.any(axis=0), hi - lo, np.nan)


def _classify_with(src: rasterio.io.DatasetReader, x: np.ndarray, y: np.ndarray,
                   th: TerrainThresholds) -> np.ndarray:
    """Terrain code (0 flat, 1 hilly, 2 mountainous, -1 not covered) of metric points."""
    codes = np.full(len(x), -1, dtype=int)
    if len(x) == 0:
        return codes
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
        return codes
    rows = np.where(inside, rows, 0).astype(np.int64)
    cols = np.where(inside, cols, 0).astype(np.int64)

    centre_lat = src.xy(src.height // 2, src.width // 2)[1] if src.crs.is_geographic else 0.0
    px_w, px_h = _pixel_size_m(src, centre_lat)
    fine = max(float(px_w), px_h) <= FINE_MAX_PIXEL_M
    half = max(1, int(HALF_WINDOW_M // max(float(px_w), px_h))) if fine else 1
    margin = half + 2

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
        if fine:
            if src.crs.is_geographic:
                t = src.transform
                lats = t.f + t.e * (np.arange(r0, r1) + 0.5)
                pw, ph = _pixel_size_m(src, lats)
            else:
                pw, ph = _pixel_size_m(src, 0.0)
                pw = np.full(r1 - r0, pw)
            index = _window_mean(_slope_pct(elev, np.asarray(pw), ph), lr, lc, half)
            limits = (th.slope_flat_max_pct, th.slope_hilly_max_pct)
        else:
            index = _relief(elev, lr, lc)
            limits = (th.relief_flat_max_m, th.relief_hilly_max_m)
        ok = valid & np.isfinite(index)
        codes[group[ok]] = np.digitize(index[ok], limits)
    return codes


def terrain_details(edges: gpd.GeoDataFrame, dem_paths: Sequence[str | Path] | None = None,
                    step_m: float = SAMPLE_STEP_M,
                    thresholds: TerrainThresholds | None = None) -> pd.DataFrame:
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
            got = _classify_with(src, x[todo], y[todo], th)
        hit = got >= 0
        codes[todo[hit]] = got[hit]
        src_idx[todo[hit]] = k

    covered = codes >= 0
    counts = np.zeros((n, 3), dtype=int)
    np.add.at(counts, (pos[covered], codes[covered]), 1)
    total = counts.sum(axis=1)
    # upper median of the sample classes: first class whose cumulative count exceeds n // 2
    cum = np.cumsum(counts, axis=1)
    median = np.argmax(cum > (total // 2)[:, None], axis=1)
    terrain = np.where(total > 0, np.array(TERRAINS, dtype=object)[median], "")

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
                     thresholds: TerrainThresholds | None = None) -> pd.Series:
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

    Returns
    -------
    pandas.Series
        ``terrain`` indexed like ``edges``: ``"flat"``, ``"hilly"``, ``"mountainous"``, or
        ``""`` for non-road edges and edges outside every DEM. The DEM that decided each edge is
        in :func:`terrain_details` (``terrain_source``), which :func:`add_terrain` also writes.
    """
    details = terrain_details(edges, dem_paths, step_m, thresholds)
    return details["terrain"].rename("terrain")


def add_terrain(edges: gpd.GeoDataFrame, dem_paths: Sequence[str | Path] | None = None,
                overwrite: bool = False, step_m: float = SAMPLE_STEP_M,
                thresholds: TerrainThresholds | None = None) -> gpd.GeoDataFrame:
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
    details = terrain_details(out.iloc[todo], dem_paths, step_m, thresholds)
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
