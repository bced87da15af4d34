"""People and travel times: WorldPop pixels attached to the road network once, then timed fast.

Each populated 1 km pixel is attached to the nearest ordinary road (not an expressway: nobody
joins an expressway between its entrances) at a point a fraction of the way along that road
edge. The time from an origin to a pixel is the time to the better end of that edge plus the
time along it to the point, plus the off-network access leg at :data:`ACCESS_SPEED_KMH`
(assumption: local roads and tracks by motorbike or car). With the times of one search, the
people within 2, 4 and 8 hours of a gate, or the population-weighted time to Hà Nội of a
province, are vector sums over the pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely

from corridors.build.analysis_network import AnalysisNetwork
from corridors.core.constants import METRIC_CRS
from corridors.layers.region import raster_path, read_layer
from corridors.network.routing import Router

#: Speed of the off-network access leg from a pixel to its road (km/h; assumption).
ACCESS_SPEED_KMH = 20.0


def _pixels() -> gpd.GeoDataFrame:
    with rasterio.open(raster_path("population")) as ds:
        band = ds.read(1, masked=True)
        rows, cols = np.nonzero(~np.ma.getmaskarray(band) & (band.filled(0) > 0))
        xs, ys = rasterio.transform.xy(ds.transform, rows, cols)
        people = band.data[rows, cols].astype(float)
    return gpd.GeoDataFrame({"people": people}, geometry=gpd.points_from_xy(xs, ys),
                            crs="EPSG:4326")


@dataclass(frozen=True)
class Attachment:
    """Points attached to the nearest ordinary road edge of a network.

    Attributes
    ----------
    u, v : numpy.ndarray
        Node ids of the edge each point is attached to.
    frac : numpy.ndarray
        Position of the attachment along the edge from ``u`` (0–1).
    edge_time_h : dict
        Timing (car, truck) to the edge's travel time, hours.
    access_h : numpy.ndarray
        Time of the off-network leg at :data:`ACCESS_SPEED_KMH`, hours.
    """

    u: np.ndarray
    v: np.ndarray
    frac: np.ndarray
    edge_time_h: dict[str, np.ndarray]
    access_h: np.ndarray


def attach(net: AnalysisNetwork, points: gpd.GeoSeries) -> Attachment:
    """Attach points (EPSG:4326) to the nearest ordinary road (no expressway, no project edge).

    The attachment roads are present in every year and variant of a master network, so one
    attachment serves them all.
    """
    e = net.tables.edges
    roads = e[(e["mode"] == "road") & (e["class"] != "expressway") & e["project"].isna()]
    lines = roads.geometry.to_crs(METRIC_CRS).values
    pts = points.to_crs(METRIC_CRS).values
    tree = shapely.STRtree(lines)
    (ip, ie), dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    order = np.argsort(ip)
    ip, ie, dist = ip[order], ie[order], dist[order]
    if len(ip) != len(pts):
        raise ValueError("some points could not be attached to a road")
    chosen = roads.iloc[ie]
    return Attachment(
        u=chosen["u"].to_numpy(dtype=np.int64), v=chosen["v"].to_numpy(dtype=np.int64),
        frac=np.asarray(shapely.line_locate_point(lines[ie], pts, normalized=True), dtype=float),
        edge_time_h={p: chosen[f"time_h_{p}"].to_numpy(dtype=float) for p in ("car", "truck")},
        access_h=dist / 1000 / ACCESS_SPEED_KMH,
    )


def point_times(att: Attachment, router: Router, node_time_h: np.ndarray) -> np.ndarray:
    """Return the time (h) of every attached point, given the times of every router node."""
    idx = router._index
    tu = node_time_h[idx.reindex(att.u).to_numpy(dtype=float).astype(np.int64)]
    tv = node_time_h[idx.reindex(att.v).to_numpy(dtype=float).astype(np.int64)]
    te = att.edge_time_h[router.timing]
    return np.minimum(tu + att.frac * te, tv + (1 - att.frac) * te) + att.access_h


@dataclass(frozen=True)
class PopulationGrid:
    """Populated pixels attached to road edges.

    Attributes
    ----------
    people : numpy.ndarray
        People per pixel (WorldPop 2020, UN-adjusted).
    attachment : Attachment
        Where each pixel joins the roads.
    province_2024, province_2025 : numpy.ndarray
        Province of each pixel before and after the July 2025 merger ("" outside the 21).
    """

    people: np.ndarray
    attachment: Attachment
    province_2024: np.ndarray
    province_2025: np.ndarray

    @property
    def total(self) -> float:
        """People on the grid."""
        return float(self.people.sum())


def population_grid(net: AnalysisNetwork) -> PopulationGrid:
    """Attach the study area's populated pixels to the ordinary roads of a network.

    Pixels outside the 21 provinces are left out. The same grid serves every variant of a
    master network (the attachment roads are present in all of them).
    """
    px = _pixels()
    old = read_layer("provinces_2024")[["name", "geometry"]]
    table = net.catalog.provinces.set_index("province_2024")["province_2025"]
    px = gpd.sjoin(px, old, how="inner", predicate="within").drop(columns="index_right")
    px = px.reset_index(drop=True)
    att = attach(net, px.geometry)
    return PopulationGrid(
        people=px["people"].to_numpy(), attachment=att,
        province_2024=px["name"].to_numpy().astype(str),
        province_2025=px["name"].map(table).to_numpy().astype(str),
    )


def pixel_times(grid: PopulationGrid, router: Router, node_time_h: np.ndarray) -> np.ndarray:
    """Return the time (h) of every pixel, given the times of every node of ``router``.

    ``node_time_h`` is one row of :meth:`network.routing.Router.search` (from an origin) or the
    times of :meth:`network.routing.Router.nearest` (to a set of destinations).
    """
    return point_times(grid.attachment, router, node_time_h)


def people_within(grid: PopulationGrid, times_h: np.ndarray, cutoffs_h=(2, 4, 8)
                  ) -> dict[float, float]:
    """Return the people whose pixel time is within each cutoff (hours)."""
    return {c: float(grid.people[times_h <= c].sum()) for c in cutoffs_h}


def weighted_time_by_province(grid: PopulationGrid, times_h: np.ndarray) -> pd.DataFrame:
    """Return the population-weighted mean time (h) per province, both editions.

    Returns
    -------
    pandas.DataFrame
        Columns edition (2024 or 2025), province, people, time_h (weighted mean over the
        pixels that can reach), people_unreached.
    """
    ok = np.isfinite(times_h)
    rows = []
    for edition, names in (("2024", grid.province_2024), ("2025", grid.province_2025)):
        df = pd.DataFrame({"province": names, "people": grid.people,
                           "pt": np.where(ok, grid.people * np.where(ok, times_h, 0), 0),
                           "reached": np.where(ok, grid.people, 0)})
        g = df.groupby("province").sum()
        for name, r in g.iterrows():
            rows.append({"edition": edition, "province": name, "people": round(r["people"]),
                         "time_h": r["pt"] / r["reached"] if r["reached"] else np.inf,
                         "people_unreached": round(r["people"] - r["reached"])})
    return pd.DataFrame(rows)
