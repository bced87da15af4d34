"""True lengths for a generalised road skeleton: official route lengths, circuity by terrain.

The embedded roads (giaothong) are generalised lines: they cut the hairpins of mountain roads and
the bends of the others, so their drawn length is shorter than the road. Two corrections, in
this order:

1. **Official sections.** Where an official length is sourced between two points of a national
   route (``data/catalog/route_lengths.yaml``: QL6 Km0 Hà Đông – Hòa Bình Km63 – Sơn La Km321 –
   Mường Lay; QL3 Yên Viên – Tà Lùng; QL4A Đồng Đăng – Cao Bằng), the edges of the route between
   the two points are found (shortest path over the route's own edges) and scaled so that the
   section's length equals the official one.
2. **Circuity by terrain.** The same sections give, by least squares, one factor per terrain
   class (flat, hilly, mountainous) such that ``official ≈ Σ factor[t] × drawn km in t``; every
   other road edge of the skeleton is multiplied by the factor of its terrain. The factors are
   derived from the sections, never set by hand, and bounded to
   [:data:`MIN_FACTOR`, :data:`MAX_FACTOR`]; a class with too little drawn length in the sections
   to be fitted (:data:`MIN_FIT_KM`) takes the factor of the nearest fitted class.

OSM extracts follow the real roads and are not corrected. Connectors and catalog links have
their own lengths (:mod:`network.assemble`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from corridors.network.schema import TERRAINS
from pyproj import Transformer
from scipy.optimize import lsq_linear

from corridors.core.constants import METRIC_CRS

#: Bounds of a fitted circuity factor (unitless). Below 1 a road would be shorter than its
#: drawing; 1.6 is beyond the circuity of the region's worst mountain passes measured here.
MIN_FACTOR, MAX_FACTOR = 1.0, 1.6
#: A terrain class needs at least this many drawn km across the sections to be fitted.
MIN_FIT_KM = 20.0
#: A section's end farther than this (km) from its route's edges is not used.
MAX_END_KM = 10.0
#: A section whose path runs less than this share on its route is not used (a gap in the data).
MIN_ON_ROUTE = 0.8
#: Edges off the named route cost this many times their length when the route's own edges do
#: not connect the two ends (gaps in the data are crossed, but the route is preferred).
OFF_ROUTE_PENALTY = 10.0
#: Classes of the skeleton that take the circuity factor (not connectors, links or expressways).
SCALED_CLASSES = ("national", "provincial", "district", "local")
_TERRAIN_ORDER = ("flat", "hilly", "mountainous")


@dataclass(frozen=True)
class RouteSection:
    """An official length between two points of a route.

    Attributes
    ----------
    id : str
    ref : str
        The route's reference as the road edges carry it (``QL6``).
    start, end : tuple of float
        (lon, lat) of the two ends, degrees.
    length_km : float
        The official length between them, km.
    source : str
    """

    id: str
    ref: str
    start: tuple[float, float]
    end: tuple[float, float]
    length_km: float
    source: str


@dataclass
class LengthReport:
    """What :func:`true_lengths` measured and changed.

    Attributes
    ----------
    sections : list of dict
        Per section: id, ref, official_km, drawn_km, ratio, on_route_share, km by terrain,
        or a ``skipped`` reason.
    factors : dict
        Terrain class to circuity factor (unitless), with ``fitted`` classes listed.
    edges_scaled_by_section, edges_scaled_by_terrain : int
        Road edges (both directions counted) scaled each way.
    """

    sections: list[dict] = field(default_factory=list)
    factors: dict[str, float] = field(default_factory=dict)
    fitted: list[str] = field(default_factory=list)
    edges_scaled_by_section: int = 0
    edges_scaled_by_terrain: int = 0


def _section_rows(edges: pd.DataFrame, sec: RouteSection, metric_crs: str
                  ) -> tuple[list[int], float, float, str | None]:
    """Return the edge rows (one direction) of a section, its drawn km, on-route share, reason.

    Each end is taken at the nearest point of the route's edges (of any scalable road when the
    route is farther than :data:`MAX_END_KM`); the path between them prefers the route's edges.
    The edges at the ends count only for the part of them inside the section.
    """
    road = edges[(edges["mode"] == "road") & edges["class"].isin(SCALED_CLASSES)]
    if not (road["ref"] == sec.ref).any():
        return [], 0.0, 0.0, f"no road edge carries ref {sec.ref}"
    geom = gpd.GeoSeries(road.geometry.values, index=road.index, crs="EPSG:4326"
                         ).to_crs(metric_crs)
    to_m = Transformer.from_crs("EPSG:4326", metric_crs, always_xy=True)
    G = nx.Graph()
    for row, u, v, km, ref in zip(road.index, road["u"], road["v"], road["length_km"],
                                  road["ref"], strict=True):
        w = km if ref == sec.ref else km * OFF_ROUTE_PENALTY
        if not G.has_edge(u, v) or G[u][v]["weight"] > w:
            G.add_edge(u, v, weight=w, row=row)
    own = (road["ref"] == sec.ref).to_numpy()
    ends = []
    for k, (lon, lat) in enumerate((sec.start, sec.end)):
        pt = shapely.Point(to_m.transform(lon, lat))
        dist = geom.distance(pt).to_numpy()
        cand = np.where(own & (dist <= MAX_END_KM * 1000))[0]
        if not len(cand):
            cand = np.where(dist <= MAX_END_KM * 1000)[0]
        if not len(cand):
            return [], 0.0, 0.0, f"an end lies {dist.min() / 1000:.1f} km from any road"
        i = int(cand[np.argmin(dist[cand])])
        row = road.index[i]
        line = geom.iloc[i]
        frac = line.project(pt) / line.length if line.length else 0.0
        u, v, km = road.at[row, "u"], road.at[row, "v"], float(road["length_km"].loc[row])
        end = ("end", k)
        G.add_edge(end, u, weight=frac * km, row=row, part=frac)
        G.add_edge(end, v, weight=(1 - frac) * km, row=row, part=1 - frac)
        ends.append(end)
    try:
        path = nx.shortest_path(G, ends[0], ends[1], weight="weight")
    except nx.NetworkXNoPath:
        return [], 0.0, 0.0, f"the ends are not connected by {sec.ref} or other roads"
    rows, drawn, on = [], 0.0, 0.0
    for a, b in zip(path[:-1], path[1:], strict=True):
        d = G[a][b]
        km = float(edges["length_km"].loc[d["row"]]) * d.get("part", 1.0)
        drawn += km
        on += km if edges.at[d["row"], "ref"] == sec.ref else 0.0
        rows.append(d["row"])
    return list(dict.fromkeys(rows)), drawn, on / drawn if drawn else 0.0, None


def _terrain(edges: pd.DataFrame) -> pd.Series:
    t = edges["terrain"] if "terrain" in edges else pd.Series(None, index=edges.index)
    return t.where(t.isin(TERRAINS), "hilly")


def fit_circuity(km_by_terrain: Sequence[dict[str, float]], official_km: Sequence[float]
                 ) -> tuple[dict[str, float], list[str]]:
    """Fit one circuity factor per terrain class to official section lengths.

    Parameters
    ----------
    km_by_terrain : sequence of dict
        Per section, the drawn km in each terrain class.
    official_km : sequence of float
        Per section, the official length, km.

    Returns
    -------
    factors : dict
        Terrain class to factor (unitless), within [MIN_FACTOR, MAX_FACTOR].
    fitted : list of str
        The classes fitted; the others take the nearest fitted class's factor.
    """
    total = {t: sum(k.get(t, 0.0) for k in km_by_terrain) for t in _TERRAIN_ORDER}
    fitted = [t for t in _TERRAIN_ORDER if total[t] >= MIN_FIT_KM]
    factors: dict[str, float] = {}
    if fitted and official_km:
        A = np.array([[k.get(t, 0.0) for t in fitted] for k in km_by_terrain])
        # the km of unfitted classes count at the bound's midpoint, not as zero
        rest = np.array([sum(k.get(t, 0.0) for t in _TERRAIN_ORDER if t not in fitted)
                         for k in km_by_terrain])
        official = np.asarray(official_km, dtype=float)
        b = official - rest * (MIN_FACTOR + MAX_FACTOR) / 2
        # relative residuals: circuity varies from route to route, so each section is one
        # observation of the ratio (in km, the longest section would decide alone: QL6 Hòa
        # Bình – Sơn La, 258 km, outweighed the 18 km of flat QL3 and set the flat factor)
        w = 1.0 / official
        sol = lsq_linear(A * w[:, None], b * w, bounds=(MIN_FACTOR, MAX_FACTOR))
        factors = {t: round(float(f), 3) for t, f in zip(fitted, sol.x, strict=True)}
    for i, t in enumerate(_TERRAIN_ORDER):
        if t not in factors:
            near = sorted(fitted, key=lambda s: abs(_TERRAIN_ORDER.index(s) - i))
            factors[t] = factors[near[0]] if near else MIN_FACTOR
    return factors, fitted


def true_lengths(edges: pd.DataFrame, sections: Sequence[RouteSection],
                 metric_crs: str = METRIC_CRS) -> tuple[pd.DataFrame, LengthReport]:
    """Scale the road edges of a generalised skeleton to true lengths.

    Parameters
    ----------
    edges : pandas.DataFrame
        Edge table (both directions) with ``u``, ``v``, ``mode``, ``class``, ``ref``,
        ``length_km`` and ``terrain``.
    sections : sequence of RouteSection
        Official lengths between points of routes.
    metric_crs : str

    Returns
    -------
    edges : pandas.DataFrame
        A copy with ``length_km`` corrected and ``length_drawn_km`` (the drawn length) and
        ``length_basis`` (``section:<id>``, ``circuity:<terrain>`` or empty) added.
    report : LengthReport
    """
    edges = edges.copy()
    edges["length_drawn_km"] = edges["length_km"]
    edges["length_basis"] = None
    report = LengthReport()
    terrain = _terrain(edges)
    pair = pd.Series(list(zip(edges[["u", "v"]].min(axis=1), edges[["u", "v"]].max(axis=1),
                              edges["source"], strict=True)), index=edges.index)
    found = []
    for sec in sections:
        rows, drawn, share, why = _section_rows(edges, sec, metric_crs)
        if why is None and share < MIN_ON_ROUTE:
            why = (f"only {share:.0%} of the path between the ends is on {sec.ref}: the route is "
                   "not continuous in the data")
        if why:
            report.sections.append({"id": sec.id, "ref": sec.ref, "official_km": sec.length_km,
                                    "skipped": why})
            continue
        km = edges.loc[rows, "length_km"].astype(float)
        by_terrain = (km / km.sum() * drawn).groupby(terrain.loc[rows]).sum()
        by_t = {str(t): v for t, v in by_terrain.items()}
        found.append((sec, rows, by_t, drawn))
        report.sections.append({
            "id": sec.id, "ref": sec.ref, "official_km": sec.length_km,
            "drawn_km": round(drawn, 1), "ratio": round(sec.length_km / drawn, 3),
            "on_route_share": round(share, 3),
            "drawn_km_by_terrain": {t: round(v, 1) for t, v in by_t.items()},
            "source": sec.source})
    factors, fitted = fit_circuity([f[2] for f in found], [f[0].length_km for f in found])
    report.factors, report.fitted = factors, fitted
    scalable = (edges["mode"] == "road") & edges["class"].isin(SCALED_CLASSES)
    done = pd.Series(False, index=edges.index)
    for sec, rows, _, drawn in found:
        keys = set(pair.loc[rows])
        hit = pair.isin(keys) & scalable & ~done
        edges.loc[hit, "length_km"] *= sec.length_km / drawn
        edges.loc[hit, "length_basis"] = f"section:{sec.id}"
        done |= hit
    rest = scalable & ~done
    edges.loc[rest, "length_km"] *= terrain.loc[rest].map(factors).to_numpy(dtype=float)
    edges.loc[rest, "length_basis"] = "circuity:" + terrain.loc[rest]
    report.edges_scaled_by_section = int(done.sum())
    report.edges_scaled_by_terrain = int(rest.sum())
    return edges, report
