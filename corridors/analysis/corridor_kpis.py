"""Economic corridors: travel time and quality of the route through their ordered places.

For each corridor and scenario: end-to-end time and length through its places in order, average
speed, share of the length on expressway, detour index (network length over the straight lines
between consecutive places), and the slowest stretch (the leg with the lowest average speed).
A place that is not a node of the network (an inline point of a provincial corridor) is taken at
the nearest road node, and the snap distance is reported.
"""

from __future__ import annotations

import functools

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod
from scipy.spatial import cKDTree

from corridors.build.analysis_network import AnalysisNetwork
from corridors.catalog.model import Corridor, Waypoint

_GEOD = Geod(ellps="WGS84")


def _road_node_index(net: AnalysisNetwork) -> tuple[np.ndarray, cKDTree, np.ndarray]:
    e = net.tables.edges
    road = e[(e["mode"] == "road") & (e["class"] != "expressway") & e["project"].isna()]
    ids = np.unique(road[["u", "v"]].to_numpy())
    xy = net.tables.nodes.loc[ids, ["x", "y"]].to_numpy()
    lat0 = np.deg2rad(np.mean(xy[:, 1]))
    scaled = np.c_[xy[:, 0] * np.cos(lat0), xy[:, 1]]  # near-isotropic degrees for the search
    return ids, cKDTree(scaled), np.array([np.cos(lat0), 1.0])


def stop_nodes(net: AnalysisNetwork, corridor: Corridor, road_index=None
               ) -> list[tuple[Waypoint, int, float]]:
    """Return each stop of a corridor with its node and the snap distance (km, 0 for places).

    ``road_index``, a function returning :func:`_road_node_index` of ``net``, lets many calls
    share one index.
    """
    nodes = net.place_nodes
    ids, tree, scale = None, None, None
    out = []
    for s in corridor.stops:
        if s.place_id and s.place_id in nodes:
            out.append((s, nodes[s.place_id], 0.0))
            continue
        if tree is None or ids is None:
            ids, tree, scale = road_index() if road_index else _road_node_index(net)
        _, i = tree.query(np.array([s.lon, s.lat]) * scale)
        n = int(ids[i])
        x, y = net.tables.nodes.loc[n, ["x", "y"]]
        out.append((s, n, _GEOD.inv(s.lon, s.lat, x, y)[2] / 1000))
    return out


def corridor_kpis(net: AnalysisNetwork, profile: str = "car") -> gpd.GeoDataFrame:
    """Return one row per corridor with its KPIs and route geometry (EPSG:4326).

    Columns: ``scenario``, ``profile``, ``id``, ``name``, ``name_vi``, ``kind``, ``stops``,
    ``time_h``, ``length_km``, ``avg_speed_kmh``, ``expressway_share`` (0–1),
    ``straight_km`` (sum of straight lines between consecutive stops), ``detour_index``,
    ``slowest_stretch``, ``slowest_stretch_kmh``, ``max_snap_km``, ``reachable``.
    """
    router = net.router(profile)
    rows = []
    road_index = functools.cache(lambda: _road_node_index(net))  # built once, if needed
    for c in net.catalog.corridors.values():
        stops = stop_nodes(net, c, road_index)
        legs, geoms, ok = [], [], True
        for (a, na, _), (b, nb, _) in zip(stops[:-1], stops[1:], strict=True):
            r = router.route(na, nb) if na != nb else None
            straight = _GEOD.inv(a.lon, a.lat, b.lon, b.lat)[2] / 1000
            if na != nb and r is None:
                ok = False
                legs.append((a, b, np.inf, np.inf, 0.0, straight))
                continue
            t = r.time_h if r else 0.0
            km = r.length_km if r else 0.0
            xw = r.km_by_class.get("road:expressway", 0.0) if r else 0.0
            legs.append((a, b, t, km, xw, straight))
            if r is not None and r.geometry is not None:
                geoms.append(r.geometry)
        time_h = sum(x[2] for x in legs)
        length = sum(x[3] for x in legs)
        straight = sum(x[5] for x in legs)
        speeds = [(x[3] / x[2] if x[2] > 0 else np.inf, x) for x in legs]
        slow_speed, slow = min(speeds, key=lambda s: s[0])
        slow_name = f"{slow[0].name_vi or slow[0].name} – {slow[1].name_vi or slow[1].name}"
        rows.append({
            "scenario": net.label, "profile": profile, "id": c.id, "name": c.name,
            "name_vi": c.name_vi, "kind": c.kind,
            "stops": " – ".join(s.name_vi or s.name for s in c.stops),
            "time_h": time_h, "length_km": length,
            "avg_speed_kmh": length / time_h if ok and time_h > 0 else np.nan,
            "expressway_share": sum(x[4] for x in legs) / length if ok and length else np.nan,
            "straight_km": straight,
            "detour_index": length / straight if ok and straight > 0 else np.nan,
            "slowest_stretch": slow_name,
            "slowest_stretch_kmh": slow_speed if np.isfinite(slow_speed) else np.nan,
            "max_snap_km": max(s[2] for s in stops),
            "reachable": ok,
            "geometry": shapely.union_all(geoms) if geoms else None,
        })
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def corridor_table(kpis: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return the KPIs without geometry, rounded for people."""
    out = pd.DataFrame(kpis.drop(columns="geometry"))
    return out.round({"time_h": 2, "length_km": 1, "avg_speed_kmh": 1, "expressway_share": 3,
                      "straight_km": 1, "detour_index": 2, "slowest_stretch_kmh": 1,
                      "max_snap_km": 1})
