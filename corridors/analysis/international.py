"""International analyses: foreign cities to Hà Nội, the seaports and BGEZs; gate catchments.

Origins are the foreign cities of :data:`ORIGINS` (Kunming, Nanning, Dongxing, Oudomxay);
destinations Hà Nội, the Hải Phòng (Đình Vũ) and Cái Lân seaports and every BGEZ (at its gate).
Each pair is routed for road freight (the ``truck`` profile) and rail freight:

* **road**: the fastest truck route, through whichever gate is fastest;
* **rail**: the ``freight`` profile with road kept to the first and last mile: road edges weigh
  :data:`RAIL_ROAD_WEIGHT` × their time when the route is chosen, and the times reported are the
  true ones. A pair that no railway serves better comes out with few or no rail km.

Every route reports its time (h), length (km), rail and road km, the handling, clearance and
gauge-change cost (VND per TEU: the model has no per-km freight rate), the gates used, the
crossings and the breaks of gauge (:func:`network.crossings.route_border_summary`).

:func:`gate_catchments` gives each gate's catchment on the other side: for every foreign city,
the gate it reaches Hà Nội through fastest and by how much the next gate is slower.
:func:`attribution_od` feeds the international rail pairs to
:func:`corridors.analysis.attribution.attribute_projects` (its ``extra_od`` argument), so that what
a
project (the standard-gauge railway) brings Kunming → Hải Phòng rail freight shows there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from corridors.build.analysis_network import AnalysisNetwork
from corridors.network.build import MasterNetwork, NetworkTables, tables_for_projects
from corridors.network.crossings import route_border_summary
from corridors.network.routing import Route, Router

__all__ = ["DESTINATIONS", "MODES", "ORIGINS", "RAIL_ROAD_WEIGHT", "attribution_od",
           "gate_catchments", "international_od", "route_international"]

#: Foreign origins of the OD table (cross_border.yaml ids).
ORIGINS = ("xb_kunming", "xb_nanning", "xb_dongxing", "xb_oudomxay")
#: Fixed destinations; every BGEZ of the catalog is added.
DESTINATIONS = ("city_ha_noi", "seaport_hai_phong", "seaport_cai_lan")
#: Road freight and rail freight.
MODES = ("road", "rail")
#: Rail freight: road edges weigh this many times their truck time when the route is chosen
#: (road only as first and last mile; a method choice, the reported times are the true ones).
RAIL_ROAD_WEIGHT = 10.0
#: The pairs the attribution follows (rail freight).
ATTRIBUTION_PAIRS = (("xb_kunming", "seaport_hai_phong"), ("xb_nanning", "city_ha_noi"))


_OD_COLUMNS = ["year", "scenario", "origin", "origin_name", "origin_local", "destination",
               "destination_name", "mode", "reachable", "time_h", "length_km", "rail_km",
               "road_km", "cost_vnd_teu", "gates", "crossings", "gauge_breaks"]


def _edges_for(edges: pd.DataFrame, mode: str, gates: Iterable[str] | None) -> pd.DataFrame:
    """Return the edges a mode routes on: other gates closed, road weighed for rail."""
    out = edges
    if gates is not None and "gate_id" in edges:
        shut = edges["gate_id"].notna() & ~edges["gate_id"].isin(set(gates))
        if shut.any():
            out = out.copy()
            out.loc[shut, ["time_h_truck", "time_h_car"]] = np.inf
    if mode == "rail":
        out = out.copy() if out is edges else out
        road = out["mode"].to_numpy() == "road"
        out["time_h_truck"] = np.where(road, out["time_h_truck"] * RAIL_ROAD_WEIGHT,
                                       out["time_h_truck"])
    return out


def route_international(tables: NetworkTables, origin: int, destination: int, mode: str = "road",
                        gates: Iterable[str] | None = None) -> dict | None:
    """Route one pair by road or rail freight; None when unreachable.

    Parameters
    ----------
    tables : NetworkTables
        A year's network (with the foreign links: :mod:`corridors.catalog.cross_border`).
    origin, destination : int
        Node ids.
    mode : {"road", "rail"}
        Road freight (truck) or rail freight (road only as first and last mile).
    gates : iterable of str, optional
        Only these Vietnamese gates may be crossed (a route restricted to a set of gates).

    Returns
    -------
    dict or None
        ``time_h`` (h), ``length_km``, ``rail_km``, ``road_km`` (km), ``cost_vnd_teu``,
        ``gates`` (list), ``crossings``, ``gauge_breaks``, and ``route`` (the
        :class:`network.routing.Route`, its ``time_h`` the true time).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    edges = tables.edges.reset_index(drop=True)
    routed = _edges_for(edges, mode, gates)
    r = Router(tables.nodes, routed, "truck" if mode == "road" else "freight").route(
        origin, destination)
    if r is None:
        return None
    true_h = float(edges["time_h_truck"].to_numpy()[r.edge_rows].sum())
    r = Route(r.nodes, r.edge_rows, true_h, r.length_km, r.km_by_mode, r.km_by_class,
              r.transfers, r.border_crossings, r.geometry)
    summary = route_border_summary(edges, r.edge_rows)
    return {"time_h": true_h, "length_km": r.length_km,
            "rail_km": r.km_by_mode.get("rail", 0.0), "road_km": r.km_by_mode.get("road", 0.0),
            **summary, "route": r}


def _destinations(net: AnalysisNetwork) -> list[tuple[str, str, int]]:
    """(id, name, node) of the fixed destinations and of every BGEZ (at its gate)."""
    out = []
    for pid in DESTINATIONS:
        node = net.node_of(pid)
        if node is not None:
            out.append((pid, net.catalog.places[pid].name_vi, node))
    for p in sorted(net.catalog.places.values(), key=lambda p: p.id):
        if p.kind != "bgez":
            continue
        gate = net.bgez_gate(p)
        node = net.node_of(gate.id) if gate is not None else None
        if node is not None:
            out.append((p.id, p.name_vi, node))
    return out


def international_od(net: AnalysisNetwork, year: int | None = None,
                     origins: Sequence[str] = ORIGINS, modes: Sequence[str] = MODES,
                     gates: Iterable[str] | None = None) -> pd.DataFrame:
    """Return the international OD table of one network.

    Parameters
    ----------
    net : AnalysisNetwork
        A year's network whose catalog holds the foreign places (``catalog.foreign``).
    year : int, optional
        Written in the ``year`` column (default the tables' year).
    origins : sequence of str
        Foreign place ids.
    modes : sequence of str
        ``road`` and/or ``rail``.
    gates : iterable of str, optional
        Restrict every route to these gates.

    Returns
    -------
    pandas.DataFrame
        One row per origin, destination and mode: ``year``, ``scenario``, ``origin``,
        ``origin_name`` (Vietnamese), ``origin_local``, ``destination``, ``destination_name``,
        ``mode``, ``reachable``, ``time_h``, ``length_km``, ``rail_km``, ``road_km``,
        ``cost_vnd_teu``, ``gates`` (ids joined by ``;``), ``crossings``, ``gauge_breaks``,
        and the route's ``geometry`` (a GeoDataFrame, EPSG:4326; the CSV drops it).
    """
    foreign = net.catalog.foreign
    rows = []
    dests = _destinations(net)
    for oid in origins:
        if oid not in foreign or (onode := net.node_of(oid)) is None:
            continue
        o = foreign[oid]
        for did, dname, dnode in dests:
            for mode in modes:
                res = route_international(net.tables, onode, dnode, mode, gates)
                row = {"year": year if year is not None else net.tables.year,
                       "scenario": net.label, "origin": oid, "origin_name": o.name_vi,
                       "origin_local": o.attrs.get("name_local", ""), "destination": did,
                       "destination_name": dname, "mode": mode, "reachable": res is not None}
                if res is not None:
                    row.update({k: res[k] for k in ("time_h", "length_km", "rail_km", "road_km",
                                                    "cost_vnd_teu", "crossings",
                                                    "gauge_breaks")},
                               gates=";".join(res["gates"]), geometry=res["route"].geometry)
                rows.append(row)
    frame = pd.DataFrame(rows, columns=[*_OD_COLUMNS, "geometry"])
    return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")


def gate_catchments(net: AnalysisNetwork, destination: str = "city_ha_noi") -> pd.DataFrame:
    """Each gate's catchment on the other side: the gate every foreign city uses fastest.

    For every foreign city and every road gate with a crossing, the truck route to
    ``destination`` restricted to that gate; the fastest gate is the city's, and the margin
    (h) is how much slower the next gate is.

    Returns
    -------
    pandas.DataFrame
        ``scenario``, ``city``, ``city_name``, ``gate``, ``gate_name``, ``time_h``,
        ``rank`` (1 = the gate that serves the city fastest), ``margin_h`` (rank 1 only).
    """
    edges = net.tables.edges
    if "gate_id" not in edges:
        return pd.DataFrame()
    road_gates = sorted(set(edges.loc[edges["gate_id"].notna() & (edges["mode"] == "transfer"),
                                      "gate_id"]))
    dnode = net.node_of(destination)
    rows = []
    for p in net.catalog.foreign.values():
        onode = net.node_of(p.id)
        if p.kind != "foreign_city" or onode is None or dnode is None:
            continue
        times = []
        for g in road_gates:
            res = route_international(net.tables, onode, dnode, "road", [g])
            if res is not None and res["gates"] == [g]:
                times.append((res["time_h"], g))
        times.sort()
        for k, (t, g) in enumerate(times):
            rows.append({"scenario": net.label, "city": p.id, "city_name": p.name_vi, "gate": g,
                         "gate_name": net.catalog.places[g].name_vi, "time_h": t, "rank": k + 1,
                         "margin_h": (times[1][0] - t) if k == 0 and len(times) > 1 else None})
    return pd.DataFrame(rows)


def attribution_od(master: MasterNetwork, pairs: Sequence[tuple[str, str]] = ATTRIBUTION_PAIRS,
                   mode: str = "rail") -> Callable[[set[str], set[str], str], dict[str, float]]:
    """Return the ``extra_od`` of :func:`corridors.analysis.attribution.attribute_projects`.

    Returns a function of (projects open in year A, in year B, project) giving
    ``removed_intl_hours`` (the hours the pairs lose, summed, when the project is removed from
    B) and ``added_intl_hours`` (what they gain when it alone is added to A), by ``mode``
    freight; pairs unreachable in either variant are left out of both, as in the attribution.
    """
    nodes = master.nodes
    ids = nodes["place_id"].astype(object)
    node_of = {str(p): int(n) for n, p in zip(nodes.index, ids, strict=True) if pd.notna(p)}
    use = [(node_of[a], node_of[b]) for a, b in pairs if a in node_of and b in node_of]
    cache: dict[frozenset[str], np.ndarray] = {}

    def times(active: set[str]) -> np.ndarray:
        if not use:  # no pair in this network (an OSM extract: no foreign links)
            return np.array([])
        key = frozenset(active)
        if key not in cache:
            t = tables_for_projects(master, set(active), 0)
            out = []
            for a, b in use:
                res = route_international(t, a, b, mode) if a in t.nodes.index \
                    and b in t.nodes.index else None
                out.append(res["time_h"] if res else np.inf)
            cache[key] = np.array(out)
        return cache[key]

    def saving(worse: np.ndarray, better: np.ndarray) -> float:
        ok = np.isfinite(worse) & np.isfinite(better)
        return float((worse[ok] - better[ok]).sum())

    def extra(in_a: set[str], in_b: set[str], project: str) -> dict[str, float]:
        return {"removed_intl_hours": saving(times(in_b - {project}), times(in_b)),
                "added_intl_hours": saving(times(in_a), times(in_a | {project}))}

    return extra
