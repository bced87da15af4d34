"""Travel-time surfaces: a regular grid over the study area, isochrones, node-level savings.

The grid's cells (:data:`CELL_DEG` degrees, about 2 km) are attached once to the nearest ordinary
road (:func:`corridors.analysis.population.attach`); the time of every cell from an origin (or to
the
nearest of a set of destinations) is then one vector operation over the node times of a single
search. Isochrones are the cells within each cutoff, polygonised (rasterio), so that they include
the off-network access at 20 km/h rather than a fixed buffer. The same surfaces are written as
GeoTIFF rasters by the exports.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio.features
import shapely
from affine import Affine

from corridors.analysis.access import KEY_DESTINATIONS, origins
from corridors.analysis.population import Attachment, attach, point_times
from corridors.build.analysis_network import AnalysisNetwork
from corridors.core.constants import METRIC_CRS
from corridors.layers.region import read_layer

#: Cell size of the grid, degrees (about 2.2 km east-west and north-south at 21° N).
CELL_DEG = 0.02
CUTOFFS_H = (1, 2, 4, 8)


@dataclass(frozen=True)
class TimeGrid:
    """A regular lon/lat grid over the 21 provinces, attached to the roads.

    Attributes
    ----------
    transform : affine.Affine
        Pixel to lon/lat (EPSG:4326) transform.
    shape : tuple of int
        (rows, columns).
    cells : numpy.ndarray
        Flat indices of the cells inside the study area.
    attachment : Attachment
    """

    transform: Affine
    shape: tuple[int, int]
    cells: np.ndarray
    attachment: Attachment

    def fill(self, values: np.ndarray) -> np.ndarray:
        """Return a 2-D array with ``values`` at the study-area cells and NaN elsewhere."""
        out = np.full(self.shape[0] * self.shape[1], np.nan)
        out[self.cells] = values
        return out.reshape(self.shape)


def time_grid(net: AnalysisNetwork, cell_deg: float = CELL_DEG) -> TimeGrid:
    """Build the grid over the 21 provinces and attach its cells to the network's roads."""
    area = shapely.union_all(read_layer("provinces_2024").geometry.values)
    west, south, east, north = area.bounds
    cols = int(np.ceil((east - west) / cell_deg))
    rows = int(np.ceil((north - south) / cell_deg))
    transform = Affine(cell_deg, 0, west, 0, -cell_deg, north)
    inside = rasterio.features.geometry_mask([area], (rows, cols), transform, invert=True)
    cells = np.flatnonzero(inside.ravel())
    r, c = np.divmod(cells, cols)
    # Affine maps arrays of columns and rows too; its annotations only say a pair of floats
    xs, ys = transform * (c + 0.5, r + 0.5)  # type: ignore[operator]
    pts = gpd.GeoSeries(gpd.points_from_xy(xs, ys), crs="EPSG:4326")
    return TimeGrid(transform, (rows, cols), cells, attach(net, pts))


def surface(grid: TimeGrid, net: AnalysisNetwork, node_time_h: np.ndarray,
            profile: str = "car") -> np.ndarray:
    """Return the 2-D time surface (h; NaN outside the area, inf where unreachable)."""
    return grid.fill(point_times(grid.attachment, net.router(profile), node_time_h))


def time_to_nearest(grid: TimeGrid, net: AnalysisNetwork, place_ids: list[str],
                    profile: str = "car") -> np.ndarray:
    """Return the surface of the time to the nearest of some places (hours)."""
    nodes = [n for n in (net.node_of(p) for p in place_ids) if n is not None]
    times, _ = net.router(profile).nearest(nodes)
    return surface(grid, net, times, profile)


def polygons(grid: TimeGrid, times: np.ndarray, cutoffs_h=CUTOFFS_H) -> list:
    """Return, per cutoff, the (multi)polygon of the cells within it (EPSG:4326)."""
    out = []
    for cut in cutoffs_h:
        mask = np.isfinite(times) & (times <= cut)
        shapes = [shapely.geometry.shape(g) for g, v in rasterio.features.shapes(
            mask.astype(np.uint8), mask=mask, transform=grid.transform) if v == 1]
        out.append(shapely.union_all(shapes) if shapes else shapely.Polygon())
    return out


def gate_isochrones(grid: TimeGrid, net: AnalysisNetwork, profile: str = "car",
                    cutoffs_h=CUTOFFS_H) -> gpd.GeoDataFrame:
    """Return the isochrones of every gate and BGEZ (one row per origin and cutoff).

    Columns: ``scenario``, ``profile``, ``id``, ``name``, ``kind``, ``gate_id``, ``cutoff_h``,
    ``area_km2``, geometry (EPSG:4326).
    """
    router = net.router(profile)
    items = origins(net)
    places = net.place_nodes  # origins() holds only gates present in the network
    gate_nodes = sorted({places[g.id] for _, g in items})
    dist, _ = router.search(gate_nodes)
    by_gate = {}
    for row, node in zip(dist, gate_nodes, strict=True):
        by_gate[node] = polygons(grid, surface(grid, net, row, profile), cutoffs_h)
    rows = []
    for item, gate in items:
        for cut, geom in zip(cutoffs_h, by_gate[places[gate.id]], strict=True):
            rows.append({"scenario": net.label, "profile": profile, "id": item.id,
                         "name": item.name_vi, "kind": item.kind, "gate_id": gate.id,
                         "cutoff_h": cut, "geometry": geom})
    out = gpd.GeoDataFrame(rows, columns=["scenario", "profile", "id", "name", "kind", "gate_id",
                                          "cutoff_h", "geometry"],
                           geometry="geometry", crs="EPSG:4326")
    out["area_km2"] = (out.to_crs(METRIC_CRS).area / 1e6).round(1)
    return out


def node_times(net: AnalysisNetwork, profile: str = "car") -> pd.DataFrame:
    """Return, per node, the time (h) to each key destination (one column per destination)."""
    router = net.router(profile)
    out = pd.DataFrame(index=pd.Index(router.node_ids, name="node"))
    for key, pid in KEY_DESTINATIONS.items():
        node = net.node_of(pid)
        if node is not None:
            out[f"time_h_to_{key}"] = router.nearest([node])[0]
    return out


def node_savings(a: AnalysisNetwork, b: AnalysisNetwork, profile: str = "car"
                 ) -> gpd.GeoDataFrame:
    """Return the nodes of both networks with their times in each and the saving (h, %).

    Only road-side nodes present in both years are kept (points where a planner would stand).
    """
    ta, tb = node_times(a, profile), node_times(b, profile)
    common = ta.index.intersection(tb.index)
    nodes = b.tables.nodes.loc[common]
    keep = nodes["kind"].isin(["junction", "gate", "place", "port", "dry_port", "airport"])
    out = gpd.GeoDataFrame(nodes.loc[keep, ["kind", "name", "place_id", "geometry"]],
                           geometry="geometry", crs="EPSG:4326")
    for col in tb.columns:
        va, vb = ta.loc[out.index, col], tb.loc[out.index, col]
        dest = col.removeprefix("time_h_to_")
        out[f"time_h_{a.label}_to_{dest}"] = va
        out[f"time_h_{b.label}_to_{dest}"] = vb
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"saving_h_to_{dest}"] = va - vb
            out[f"saving_pct_to_{dest}"] = 100 * (va - vb) / va
    reach = np.isfinite(out.filter(like="time_h_").to_numpy()).all(axis=1)
    return out[reach].reset_index()
