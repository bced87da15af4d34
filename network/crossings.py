"""The other side of the border: foreign links, gate crossings and changes of gauge.

:func:`attach_foreign` adds to a master network (:mod:`network.build`) what lies beyond the
border gates, from plain specs (:class:`ForeignNetwork`; the planning domain turns its catalog
``data/catalog/cross_border.yaml`` into them):

* **foreign places and links**: a road node per place, a rail node per place and gauge; each
  link drawn through its waypoints, its official length governing (schematic geometry), or,
  without one, the median ratio official / straight length of the foreign links of its mode;
  road speeds by the rules of :func:`network.speeds.assign_speeds`, rail speeds the link's own;
* **crossings**: one edge per direction between a Vietnamese gate and the other side. Road
  crossings (``transfer`` / ``border``) start at the gate's node; rail crossings (mode ``rail``)
  join the Vietnamese railway of their gauge (metre: the nearest metre-gauge node; standard: the
  rail side of the gate that a standard-gauge project brings; dual: the standard-gauge rail of the
  dual-gauge line, below). Their time is the clearance of ``border_clearance`` in the speed table,
  by mode, gate class, profile and direction (entry into Vietnam, exit), times a factor;
* **changes of gauge**: an edge each way between the standard-gauge and the metre-gauge nodes of
  a place, costing ``gauge_change`` (time and cost per change);
* **the standard-gauge rail of the dual-gauge line**: standard-gauge wagons that cross at Đồng
  Đăng run on a copy of the dual-gauge line (its own nodes, the same times); they leave it at its
  terminal (a road↔rail transfer) or change gauge where it meets a metre-gauge line, so that a
  route pays the break of gauge at the end of the dual gauge and domestic metre-gauge trains are
  untouched.

Every added edge carries ``crossing`` (the crossing id), ``gate_id`` (the Vietnamese gate),
``direction`` (``entry``/``exit``) or ``gauge_change`` (the change id) where it is one, so that
routes count them (:func:`route_border_summary`). Every added node and edge has a ``source``
starting with :data:`SOURCE_PREFIX`: :func:`added_edges` selects them all, :func:`foreign_edges`
the network beyond the border alone (not the crossings, the changes of gauge nor the
standard-gauge rail of the dual-gauge line, which lie in Vietnam). Crossings and changes of gauge
are transfers in all but name: a fixed time (clearance, change of gauge) plus their length at
their speed (the yard speed; a rail crossing's train speed). Nothing here changes an existing
edge: a route that involves no foreign link is the same as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd
from corridors.network.speeds import SpeedTable, assign_speeds, load_speed_table
from pyproj import Geod
from shapely.geometry import LineString

__all__ = ["Crossing", "ForeignLink", "ForeignNetwork", "ForeignPlace", "GaugeChange",
           "added_edges", "attach_foreign", "domestic_tables", "foreign_edges",
           "route_border_summary",
           "DIRECTIONS", "SOURCE_PREFIX"]

_GEOD = Geod(ellps="WGS84")
#: entry = into Vietnam (foreign side -> gate), exit = out of Vietnam.
DIRECTIONS = ("entry", "exit")
#: A rail crossing joins the Vietnamese railway within this distance of its gate (km).
MAX_RAIL_JOIN_KM = 10.0
#: Shortest drawn rail crossing (km): the border station's tracks.
MIN_CROSSING_KM = 0.5
#: Special value of :attr:`GaugeChange.at`: every end of the dual-gauge line.
DUAL_END = "dual_gauge_end"
#: ``source`` of every node and edge :func:`attach_foreign` adds starts with this.
SOURCE_PREFIX = "cross_border:"
#: Source id (after the prefix) of the standard-gauge copy of the dual-gauge line.
DUAL_TRACK = "dual_standard_track"


@dataclass(frozen=True)
class ForeignPlace:
    """A place beyond the border: city, border post or station (degrees, WGS 84)."""

    id: str
    name: str
    kind: str
    lon: float
    lat: float
    rail_terminal: bool = False


@dataclass(frozen=True)
class ForeignLink:
    """A road or railway beyond the border, drawn through foreign places.

    Attributes
    ----------
    length_km : float or None
        Official length (km), governing the schematic geometry.
    freight_kmh, passenger_kmh : float or None
        Rail average running speeds (km/h) of freight and passenger trains.
    """

    id: str
    name: str
    mode: str
    link_class: str
    place_ids: tuple[str, ...]
    length_km: float | None = None
    open_year: int | None = None
    terrain: str | None = None
    design_speed_kmh: float | None = None
    freight_kmh: float | None = None
    passenger_kmh: float | None = None


@dataclass(frozen=True)
class Crossing:
    """A gate crossing: the Vietnamese gate, the foreign place it leads to, and how.

    Attributes
    ----------
    gate_id : str
        Catalog id of the Vietnamese gate (its node's ``place_id``).
    gate_class : str
        international, main or secondary (the clearance row).
    gate_lon, gate_lat : float
        The gate (degrees), where a rail crossing joins the Vietnamese railway.
    mode : str
        road or rail.
    gauge : str or None
        Rail only: metre, standard or dual (the Vietnamese track it joins).
    project : str or None
        The project whose edges it needs (present only with it), e.g. a standard-gauge railway.
    profiles : tuple of str
        Who may cross (car, truck).
    clearance_factor : float
        Multiplies the clearance time (a scenario: 0.5 halves it).
    clearance_h : dict
        Profile to hours, replacing the table's clearance (both directions).
    """

    id: str
    gate_id: str
    gate_class: str
    gate_lon: float
    gate_lat: float
    foreign_id: str
    mode: str
    gauge: str | None = None
    length_km: float | None = None
    project: str | None = None
    profiles: tuple[str, ...] = ("car", "truck")
    clearance_factor: float = 1.0
    clearance_h: Mapping[str, float] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class GaugeChange:
    """Where trains change gauge: a foreign place id, a gate id, or :data:`DUAL_END`."""

    id: str
    at: str


@dataclass(frozen=True)
class ForeignNetwork:
    """Everything :func:`attach_foreign` inserts.

    Attributes
    ----------
    gate_points : dict
        Vietnamese gate id to (lon, lat), where a gauge change ``at`` a gate happens.
    dual_terminal : tuple of float or None
        (lon, lat) of the terminal of the standard-gauge rail of the dual-gauge line.
    """

    places: tuple[ForeignPlace, ...]
    links: tuple[ForeignLink, ...]
    crossings: tuple[Crossing, ...]
    gauge_changes: tuple[GaugeChange, ...] = ()
    gate_points: Mapping[str, tuple[float, float]] = field(default_factory=dict, compare=False,
                                                           hash=False)
    dual_terminal: tuple[float, float] | None = None


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(_GEOD.inv(a[0], a[1], b[0], b[1])[2]) / 1000.0


def _figure(node: Mapping, *keys: str) -> float:
    for k in keys:
        node = node[k]
    return float(node["value"] if isinstance(node, Mapping) else node)


class _Inserter:
    """Collects new nodes and edges with ids after the master's."""

    def __init__(self, nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, table: SpeedTable):
        self.nodes, self.edges, self.table = nodes, edges, table
        self.next_id = int(nodes.index.max()) + 1
        self.new_nodes: list[dict] = []
        self.new_edges: list[dict] = []
        self.xy: dict[int, tuple[float, float]] = {}
        self.road: dict[str, int] = {}
        self.rail: dict[tuple[str, str], int] = {}

    def node(self, lon: float, lat: float, kind: str, name: str, place_id: str | None,
             source: str) -> int:
        nid = self.next_id
        self.next_id += 1
        self.new_nodes.append({"node": nid, "x": lon, "y": lat, "kind": kind, "name": name,
                               "place_id": place_id, "source": source, "project": None})
        self.xy[nid] = (lon, lat)
        return nid

    def coords(self, nid: int) -> tuple[float, float]:
        if nid in self.xy:
            return self.xy[nid]
        rec = self.nodes.loc[nid]
        return float(rec["x"]), float(rec["y"])

    def edge(self, u: int, v: int, mode: str, cls: str, km: float, source: str, **extra) -> None:
        a, b = self.coords(u), self.coords(v)
        self.new_edges.append({"u": u, "v": v, "key": 0, "mode": mode, "class": cls,
                               "length_km": km, "source": source, "schematic": True,
                               "geometry": LineString([a, b]), "urban_share": 0.0, **extra})

    def both(self, u: int, v: int, mode: str, cls: str, km: float, source: str,
             **extra) -> None:
        self.edge(u, v, mode, cls, km, source, **extra)
        self.edge(v, u, mode, cls, km, source, **extra)


def _nearest(nodes: pd.DataFrame, ids: np.ndarray, lon: float, lat: float
             ) -> tuple[int, float]:
    """Return the node of ``ids`` nearest to (lon, lat), and its distance (km)."""
    xy = nodes.loc[ids, ["x", "y"]].to_numpy(dtype=float)
    d = _GEOD.inv(np.full(len(xy), lon), np.full(len(xy), lat), xy[:, 0], xy[:, 1])[2] / 1000
    i = int(np.argmin(d))
    return int(ids[i]), float(d[i])


def _circuity(links: Sequence[ForeignLink], straight: Mapping[str, float], mode: str) -> float:
    """Median official / straight length of the foreign links of ``mode`` that have one."""
    ratios = [lk.length_km / straight[lk.id] for lk in links
              if lk.mode == mode and lk.length_km and straight[lk.id] > 0]
    return float(np.median(ratios)) if ratios else 1.0


def attach_foreign(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, spec: ForeignNetwork,
                   table: SpeedTable | None = None, speed_overrides: Mapping | None = None
                   ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return the master's nodes and edges with the other side of the border added.

    Parameters
    ----------
    nodes, edges : geopandas.GeoDataFrame
        A master network (:class:`network.build.MasterNetwork`), speeds and times assigned.
    spec : ForeignNetwork
        Foreign places and links, crossings, changes of gauge.
    table : SpeedTable, optional
        Default ``data/speeds.yaml``; its ``border_clearance`` and ``gauge_change`` sections
        give the times (h) and costs (VND per TEU) of crossings and changes of gauge.
    speed_overrides : mapping, optional
        Scenario speeds, applied to the foreign roads as to the others.

    Returns
    -------
    nodes, edges : geopandas.GeoDataFrame
        New tables: the input rows unchanged, then the added ones (``crossing``, ``gate_id``,
        ``direction`` and ``gauge_change`` columns mark the edges of crossings and changes).

    Raises
    ------
    ValueError
        If a crossing's gate is not a node of the network, or a rail crossing finds no
        Vietnamese track of its gauge within :data:`MAX_RAIL_JOIN_KM`.
    """
    table = table if table is not None else load_speed_table()
    ins = _Inserter(nodes, edges, table)
    places = {p.id: p for p in spec.places}
    for p in spec.places:
        kind = "station" if p.kind == "station" else "place"
        ins.road[p.id] = ins.node(p.lon, p.lat, kind, p.name, p.id, f"{SOURCE_PREFIX}{p.id}")

    def rail_node(pid: str, gauge: str) -> int:
        if (pid, gauge) not in ins.rail:
            p = places[pid]
            ins.rail[(pid, gauge)] = nid = ins.node(p.lon, p.lat, "station",
                                                    f"{p.name} ({gauge} gauge)", None,
                                                    f"{SOURCE_PREFIX}{p.id}")
            if p.rail_terminal or p.kind == "station":
                rr = table.transfer["road_rail"]
                ins.both(ins.road[pid], nid, "transfer", "road_rail", 0.0,
                         f"{SOURCE_PREFIX}{p.id}", time_h_car=rr["time_h_car"],
                         time_h_truck=rr["time_h_truck"], cost_vnd_truck=rr["cost_vnd_teu"],
                         speed_kmh_car=table.yard_speed_kmh,
                         speed_kmh_truck=table.yard_speed_kmh)
        return ins.rail[(pid, gauge)]

    straight = {lk.id: sum(_km((places[a].lon, places[a].lat), (places[b].lon, places[b].lat))
                           for a, b in zip(lk.place_ids[:-1], lk.place_ids[1:], strict=True))
                for lk in spec.links}
    circuity = {m: _circuity(spec.links, straight, m) for m in ("road", "rail")}
    road_rows: list[int] = []
    for lk in spec.links:
        scale = (lk.length_km / straight[lk.id] if lk.length_km and straight[lk.id] > 0
                 else circuity[lk.mode])
        ids = [ins.road[p] if lk.mode == "road" else rail_node(p, lk.link_class)
               for p in lk.place_ids]
        for a, b in zip(ids[:-1], ids[1:], strict=True):
            km = _km(ins.coords(a), ins.coords(b)) * scale
            extra: dict[str, object] = {"name": lk.name, "open_year": lk.open_year, "project": None,
                     "length_basis": "official" if lk.length_km else "circuity"}
            if lk.mode == "road":
                road_rows += [len(ins.new_edges), len(ins.new_edges) + 1]
                extra.update(terrain=lk.terrain, design_speed_kmh=lk.design_speed_kmh,
                             terrain_source="catalog")
            else:
                if lk.passenger_kmh is None or lk.freight_kmh is None:  # validated in the catalog
                    raise ValueError(f"foreign railway {lk.id}: no running speeds")
                extra.update(speed_kmh_car=lk.passenger_kmh, speed_kmh_truck=lk.freight_kmh,
                             time_h_car=km / lk.passenger_kmh, time_h_truck=km / lk.freight_kmh,
                             cost_vnd_truck=0.0)
            ins.both(a, b, lk.mode, lk.link_class, km, f"{SOURCE_PREFIX}{lk.id}", **extra)

    sg_copy = _dual_standard_track(ins, edges, spec) if any(
        c.mode == "rail" and c.gauge == "dual" for c in spec.crossings) else {}
    project_year = edges.loc[edges["project"].notna(), ["project", "open_year"]] \
        .groupby("project")["open_year"].min().to_dict()
    for c in spec.crossings:
        _crossing(ins, c, rail_node, sg_copy, project_year)
    for g in spec.gauge_changes:
        _gauge_change(ins, g, spec, sg_copy)

    new = gpd.GeoDataFrame(ins.new_edges, geometry="geometry", crs=edges.crs)
    if road_rows:
        road = assign_speeds(new.iloc[road_rows], table, speed_overrides)
        for col in ("speed_kmh_car", "speed_kmh_truck", "time_h_car", "time_h_truck",
                    "cost_vnd_truck"):
            new.loc[new.index[road_rows], col] = road[col].to_numpy()
    add_nodes = gpd.GeoDataFrame(ins.new_nodes, geometry=gpd.points_from_xy(
        [n["x"] for n in ins.new_nodes], [n["y"] for n in ins.new_nodes]), crs=nodes.crs
    ).set_index("node")
    out_nodes = pd.concat([nodes, add_nodes[[c for c in add_nodes.columns]]])
    out_edges = pd.concat([edges, new], ignore_index=True)
    return (gpd.GeoDataFrame(out_nodes, geometry="geometry", crs=nodes.crs),
            gpd.GeoDataFrame(out_edges, geometry="geometry", crs=edges.crs))


def _clearance(table: SpeedTable, mode: str, gate_class: str, profile: str,
               direction: str) -> float:
    """Clearance hours of the speed table's ``border_clearance``."""
    sec = table.raw["border_clearance"][mode]
    row = sec.get(gate_class, sec.get("international")) if mode == "road" else sec
    return _figure(row, profile, direction)


def _crossing(ins: _Inserter, c: Crossing, rail_node, sg_copy: Mapping[int, int],
              project_year: Mapping[str, float]) -> None:
    table = ins.table
    gate = ins.nodes.index[ins.nodes["place_id"].astype(object) == c.gate_id]
    if len(gate) == 0:
        raise ValueError(f"crossing {c.id}: gate {c.gate_id!r} is not a node of the network")
    if c.mode == "road":
        vn, foreign = int(gate[0]), ins.road[c.foreign_id]
        mode, cls = "transfer", "border"
        km = c.length_km or MIN_CROSSING_KM
        run_car = run_truck = km / table.yard_speed_kmh
        kmh = {"car": table.yard_speed_kmh, "truck": table.yard_speed_kmh}
    else:
        if c.gauge is None:  # validated in the catalog
            raise ValueError(f"crossing {c.id}: a railway crossing needs a gauge")
        vn = _rail_side(ins, c, sg_copy)
        foreign = rail_node(c.foreign_id, "standard" if c.gauge == "dual" else c.gauge)
        mode, cls = "rail", c.gauge
        km = c.length_km or max(_km(ins.coords(vn), ins.coords(foreign)), MIN_CROSSING_KM)
        speeds = table.rail_kmh["standard" if c.gauge == "dual" else c.gauge]
        run_car, run_truck = km / speeds["car"], km / speeds["truck"]
        kmh = {"car": speeds["car"], "truck": speeds["truck"]}
    cost = _figure(table.raw["border_clearance"][c.mode], "cost_vnd_teu")
    year = project_year.get(c.project) if c.project else None
    for direction, (u, v) in zip(DIRECTIONS, ((foreign, vn), (vn, foreign)), strict=True):
        times = {}
        for profile, run in (("car", run_car), ("truck", run_truck)):
            if profile not in c.profiles:
                times[profile] = np.inf
                continue
            hours = c.clearance_h.get(profile)
            if hours is None:
                hours = _clearance(table, c.mode, c.gate_class, profile, direction)
            times[profile] = run + hours * c.clearance_factor
        ins.edge(u, v, mode, cls, km, f"{SOURCE_PREFIX}{c.id}", crossing=c.id, gate_id=c.gate_id,
                 direction=direction, project=c.project, open_year=year,
                 time_h_car=times["car"], time_h_truck=times["truck"],
                 speed_kmh_car=kmh["car"], speed_kmh_truck=kmh["truck"],
                 cost_vnd_truck=cost if np.isfinite(times["truck"]) else 0.0,
                 name=f"{c.gate_id} crossing ({direction})")


def _rail_side(ins: _Inserter, c: Crossing, sg_copy: Mapping[int, int]) -> int:
    """Return the Vietnamese rail node a rail crossing joins."""
    nodes, edges = ins.nodes, ins.edges
    if c.gauge == "standard":
        ids = nodes.index[(nodes["source"].astype(str) == f"catalog:{c.gate_id}")
                          & (nodes["kind"] == "station")].to_numpy()
    elif c.gauge == "dual":
        ids = np.fromiter(sg_copy.values(), dtype=np.int64)
        xy = {nid: ins.coords(nid) for nid in ids}
        best = min(ids, key=lambda n: _km(xy[n], (c.gate_lon, c.gate_lat))) if len(ids) else None
        if best is None or _km(xy[best], (c.gate_lon, c.gate_lat)) > MAX_RAIL_JOIN_KM:
            raise ValueError(f"crossing {c.id}: no dual-gauge track within "
                             f"{MAX_RAIL_JOIN_KM:g} km of {c.gate_id}")
        return int(best)
    else:
        rail = edges[(edges["mode"] == "rail") & (edges["class"] == c.gauge)
                     & edges["project"].isna()]
        ids = np.unique(rail[["u", "v"]].to_numpy())
    if len(ids) == 0:
        raise ValueError(f"crossing {c.id}: no {c.gauge}-gauge track near {c.gate_id}")
    nid, d = _nearest(nodes, ids, c.gate_lon, c.gate_lat)
    if d > MAX_RAIL_JOIN_KM:
        raise ValueError(f"crossing {c.id}: the nearest {c.gauge}-gauge track lies {d:.1f} km "
                         f"from {c.gate_id} (at most {MAX_RAIL_JOIN_KM:g} km)")
    return nid


def _dual_standard_track(ins: _Inserter, edges: gpd.GeoDataFrame, spec: ForeignNetwork
                         ) -> dict[int, int]:
    """Copy the dual-gauge line as the standard-gauge rail; return original -> copy node ids.

    The copy has the line's lengths and times; its terminal is joined to the nearest road by a
    road↔rail transfer (the only way on or off it but its ends' changes of gauge).
    """
    dual = edges[(edges["mode"] == "rail") & (edges["class"] == "dual") & edges["project"].isna()]
    copy: dict[int, int] = {}
    for nid in np.unique(dual[["u", "v"]].to_numpy()):
        x, y = ins.coords(int(nid))
        copy[int(nid)] = ins.node(x, y, "station", "dual-gauge line (standard-gauge rail)", None,
                                  f"{SOURCE_PREFIX}{DUAL_TRACK}")
    cols = ["length_km", "speed_kmh_car", "speed_kmh_truck", "time_h_car", "time_h_truck"]
    for row in dual[["u", "v", "source", *cols]].itertuples(index=False):
        ins.edge(copy[row.u], copy[row.v], "rail", "dual", float(row.length_km),
                 f"{SOURCE_PREFIX}{DUAL_TRACK}:{row.source}", cost_vnd_truck=0.0,
                 **{c: float(getattr(row, c)) for c in cols[1:]})
    if spec.dual_terminal is not None and copy:
        lon, lat = spec.dual_terminal
        term = min(copy.values(), key=lambda n: _km(ins.coords(n), (lon, lat)))
        road = edges[(edges["mode"] == "road") & (edges["class"] != "expressway")]
        rid, d = _nearest(ins.nodes, np.unique(road[["u", "v"]].to_numpy()), *ins.coords(term))
        rr = ins.table.transfer["road_rail"]
        km = d * 1.3  # the join connectors' circuity (network.assemble.CONNECTOR_CIRCUITY)
        extra_car, extra_truck = km / ins.table.yard_speed_kmh, km / ins.table.yard_speed_kmh
        ins.both(term, rid, "transfer", "road_rail", km,
                 f"{SOURCE_PREFIX}{DUAL_TRACK}:terminal",
                 time_h_car=rr["time_h_car"] + extra_car,
                 time_h_truck=rr["time_h_truck"] + extra_truck, cost_vnd_truck=rr["cost_vnd_teu"],
                 speed_kmh_car=ins.table.yard_speed_kmh, speed_kmh_truck=ins.table.yard_speed_kmh)
    return copy


def _gauge_change(ins: _Inserter, g: GaugeChange, spec: ForeignNetwork,
                  sg_copy: Mapping[int, int]) -> None:
    gc = ins.table.raw["gauge_change"]
    extra = {"time_h_car": _figure(gc, "time_h_car"), "time_h_truck": _figure(gc, "time_h_truck"),
             "cost_vnd_truck": _figure(gc, "cost_vnd_teu"), "gauge_change": g.id,
             "speed_kmh_car": ins.table.yard_speed_kmh,
             "speed_kmh_truck": ins.table.yard_speed_kmh}
    pairs: list[tuple[int, int]] = []
    if g.at in {p.id for p in spec.places}:
        if (g.at, "standard") in ins.rail and (g.at, "metre") in ins.rail:
            pairs.append((ins.rail[(g.at, "standard")], ins.rail[(g.at, "metre")]))
    elif g.at == DUAL_END:
        e = ins.edges[(ins.edges["mode"] == "rail") & ins.edges["project"].isna()]
        dual = set(np.unique(e.loc[e["class"] == "dual", ["u", "v"]].to_numpy()))
        metre = set(np.unique(e.loc[e["class"] == "metre", ["u", "v"]].to_numpy()))
        pairs += [(sg_copy[n], n) for n in sorted(dual & metre) if n in sg_copy]
    elif g.at in spec.gate_points and sg_copy:
        lon, lat = spec.gate_points[g.at]
        orig = min(sg_copy, key=lambda n: _km(ins.coords(n), (lon, lat)))
        pairs.append((sg_copy[orig], orig))
    for a, b in pairs:
        ins.both(a, b, "rail", "standard", 0.0, f"{SOURCE_PREFIX}{g.id}", **extra)


def added_edges(edges: pd.DataFrame) -> pd.Series:
    """Return a boolean mask of the edges :func:`attach_foreign` added (all of them)."""
    return edges["source"].astype(str).str.startswith(SOURCE_PREFIX)


def foreign_edges(edges: pd.DataFrame) -> pd.Series:
    """Return a boolean mask of the edges beyond the border: foreign roads, railways, stations.

    Crossings, changes of gauge and the standard-gauge rail of the dual-gauge line are left out
    (they lie at or inside the Vietnamese border).
    """
    out = added_edges(edges)
    out &= ~edges["source"].astype(str).str.startswith(SOURCE_PREFIX + DUAL_TRACK)
    for col in ("crossing", "gauge_change"):
        if col in edges:
            out &= edges[col].isna()
    return out


def domestic_tables(tables):
    """Return a year's :class:`network.build.NetworkTables` without what lies across the border.

    Every node and edge :func:`attach_foreign` added is left out: the network as it was before,
    for the analyses whose detours must stay in Vietnam (a road closure is not bypassed by
    leaving the country and coming back through another gate).
    """
    nodes, edges = tables.nodes, tables.edges
    keep_nodes = ~nodes["source"].astype(str).str.startswith(SOURCE_PREFIX).to_numpy()
    return replace(tables, nodes=nodes[keep_nodes], edges=edges[~added_edges(edges).to_numpy()])


def route_border_summary(edges: pd.DataFrame, rows: Sequence[int]) -> dict:
    """Crossings, gates and changes of gauge along a route.

    Parameters
    ----------
    edges : pandas.DataFrame
        The edge table the route's ``edge_rows`` index (by position).
    rows : sequence of int
        :attr:`network.routing.Route.edge_rows`.

    Returns
    -------
    dict
        ``crossings`` (int), ``gates`` (Vietnamese gate ids in order), ``gauge_breaks`` (int:
        one per change of gauge) and ``cost_vnd_teu`` (handling, clearance and gauge changes
        along the route, VND per TEU).
    """
    sel = edges.iloc[list(rows)]
    crossing = sel["crossing"] if "crossing" in sel else pd.Series(dtype=object)
    gates = [str(g) for g in sel.loc[crossing.notna(), "gate_id"]] if len(crossing) else []
    breaks = int(sel["gauge_change"].notna().sum()) if "gauge_change" in sel else 0
    cost = pd.to_numeric(sel["cost_vnd_truck"], errors="coerce").fillna(0).sum()
    return {"crossings": len(gates), "gates": gates, "gauge_breaks": breaks,
            "cost_vnd_teu": float(cost)}
