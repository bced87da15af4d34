"""The quality report of a network build: what it holds, what it could not place, what is cut off.

Figures, per build:

* km by mode and class (each road counted once, not once per direction) of the network in
  Vietnam; the network beyond the border (:mod:`network.crossings`) apart, with its crossings;
* the snapping report of the backbone (ends moved, largest move, components before and after);
* connected components of the whole network and of the road network;
* catalog items placed (links, facilities) and not modelled, each with its reason; items outside
  an OSM extract; facilities and waypoints joined from farther than 5 km;
* every gate, provincial capital, port, dry port and airport that cannot be reached by road from
  Hà Nội (exceptions listed);
* what the network gained since the base year (links, facilities, km by mode and class);
* detours: pairs of capitals and road gates whose car route is far longer than the straight line,
  and catalog road links that no pair of the places they serve routes over
  (:mod:`corridors.build.detours`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

from corridors.build.detours import BAND_JUNCTION_KM, ROAD_GAP_KM, route_text, routing_checks
from corridors.build.network_inputs import NotModelled
from corridors.catalog.model import Catalog
from corridors.network.backbone import Backbone
from corridors.network.build import NetworkTables
from corridors.network.crossings import added_edges, foreign_edges
from corridors.network.specs import LinkSpec

#: Facilities and waypoints joined from farther than this (km) are listed.
FAR_JOIN_KM = 5.0
#: Edges usable "by road": roads and the access transfers of facilities.
ROAD_ACCESS = {"road_air", "road_water", "road_dry_port"}
ORIGIN = "city_ha_noi"
#: Rows of the detour table in the Markdown (the JSON lists them all).
MD_DETOUR_ROWS = 60


def km_by_mode_class(edges: pd.DataFrame) -> pd.DataFrame:
    """Return km by mode and class, each two-way link counted once (km)."""
    e = edges[["u", "v", "mode", "class", "length_km"]]
    pairs = pd.MultiIndex.from_arrays([e["u"].to_numpy(), e["v"].to_numpy()])
    reverse = pd.MultiIndex.from_arrays([e["v"].to_numpy(), e["u"].to_numpy()])
    # an edge whose reverse exists counts half, so the pair adds up to one length
    weight = np.where(reverse.isin(pairs), 0.5, 1.0)
    out = (e.assign(km=e["length_km"] * weight).groupby(["mode", "class"], dropna=False)["km"]
           .sum().round(1).reset_index().rename(columns={"km": "length_km"}))
    return out


class _Sparse:
    """A directed graph of node ids as a scipy CSR matrix (what networkx would count, fast).

    The nodes are ``nodes`` (if given) and every end of ``u`` → ``v``, as
    ``networkx.DiGraph.add_edges_from`` adds them.
    """

    def __init__(self, u: np.ndarray, v: np.ndarray, nodes: np.ndarray | None = None):
        ids = np.concatenate([u, v] if nodes is None else [np.asarray(nodes), u, v])
        self.ids = np.unique(ids.astype(np.int64))
        n = len(self.ids)
        iu, iv = np.searchsorted(self.ids, u), np.searchsorted(self.ids, v)
        self.graph = csr_matrix((np.ones(len(iu), dtype=np.int8), (iu, iv)), shape=(n, n))

    def __len__(self) -> int:
        return len(self.ids)

    def weak_components(self) -> int:
        """Return the number of weakly connected components."""
        return int(connected_components(self.graph, directed=True, connection="weak")[0]) \
            if len(self.ids) else 0

    def reach(self, origin: int) -> set[int]:
        """Return the node ids reachable from ``origin`` (itself included; empty if absent)."""
        i = np.searchsorted(self.ids, origin)
        if i >= len(self.ids) or self.ids[i] != origin:
            return set()
        return set(self.ids[breadth_first_order(self.graph, int(i), directed=True,
                                                return_predecessors=False)].tolist())


def _road_sparse(tables: NetworkTables) -> _Sparse:
    """Return the road graph (roads and the access transfers of facilities)."""
    e = tables.edges
    use = ((e["mode"] == "road") | ((e["mode"] == "transfer") & e["class"].isin(ROAD_ACCESS))
           ).to_numpy()
    return _Sparse(e["u"].to_numpy(dtype=np.int64)[use], e["v"].to_numpy(dtype=np.int64)[use])


def unreachable_by_road(tables: NetworkTables, cat: Catalog
                        ) -> tuple[list[dict], int, list[str]]:
    """Return the gates, capitals, ports, dry ports and airports not reachable by road from Hà Nội.

    Returns
    -------
    exceptions : list of dict
        ``{"id", "name", "kind"}`` of each place in the network that cannot be reached.
    checked : int
        How many places of the year's network were checked.
    not_open : list of str
        Planned facilities not open in the year (not checked).
    """
    nodes = tables.nodes
    by_place = {p: n for n, p in zip(nodes.index, nodes["place_id"], strict=True)
                if isinstance(p, str)}
    wanted = [p for p in cat.places.values()
              if p.kind in {"border_gate", "seaport", "river_port", "dry_port", "airport"}
              or "provincial_capital" in p.roles]
    origin = by_place.get(ORIGIN)
    # networkx's descendants | {origin} of the road graph, on a sparse matrix
    reach = _road_sparse(tables).reach(origin) if origin is not None else set()
    out, not_open = [], []
    for p in wanted:
        node = by_place.get(p.id)
        if node is None:
            not_open.append(p.id)  # planned facility not open in this year
        elif node not in reach:
            out.append({"id": p.id, "name": p.name_vi, "kind": p.kind})
    return out, len(wanted) - len(not_open), not_open


def quality_report(tables: NetworkTables, backbone: Backbone, cat: Catalog,
                   specs: list[LinkSpec], not_modelled: list[NotModelled], outside: list[str],
                   *, base_year: int = 2025, provenance: dict | None = None) -> dict[str, Any]:
    """Return the quality report of a build as a JSON-ready dict (see the module docstring)."""
    e = tables.edges
    added = added_edges(e)
    # weak components as networkx counts them (every node, and every end of an edge)
    G = _Sparse(e["u"].to_numpy(dtype=np.int64), e["v"].to_numpy(dtype=np.int64),
                tables.nodes.index.to_numpy(dtype=np.int64))
    road = _road_sparse(tables)
    unreachable, checked, not_open = unreachable_by_road(tables, cat)
    year = tables.year
    inserted = set(tables.assembly.links)
    gained_links = [s.id for s in specs if s.open_year is not None
                    and base_year < s.open_year <= year and (s.id in inserted or s.upgrades)]
    # widenings replace edges one for one: they are listed, not counted as new kilometres
    upgrade_tags = {s.tag for s in specs if s.upgrades}
    gained_edges = e[pd.to_numeric(e["open_year"], errors="coerce").gt(base_year)
                     & ~e["project"].isin(upgrade_tags) & ~added]
    placed = [s.id for s in specs if s.id in inserted]
    checks = routing_checks(tables, cat, specs)
    return {
        "provenance": provenance or {},
        "year": year,
        "network_source": backbone.source,
        "backbone": backbone.report,
        "nodes": len(tables.nodes),
        "edges": len(e),
        # the network in Vietnam: foreign links, crossings and changes of gauge apart
        "km_by_mode_class": km_by_mode_class(e[~added]).to_dict(orient="records"),
        "cross_border": {
            "km_by_mode_class": km_by_mode_class(e[foreign_edges(e)]).to_dict(orient="records"),
            "crossings": sorted(set(e["crossing"].dropna())) if "crossing" in e else [],
            "gauge_changes": sorted(set(e["gauge_change"].dropna()))
            if "gauge_change" in e else [],
        },
        "components": {
            "all_modes_weak": G.weak_components(),
            "road_weak": road.weak_components(),
        },
        "catalog": {
            "links_placed": placed,
            "upgrades_applied": tables.assembly.upgrades,
            "links_not_open_yet": sorted({s.id for s in specs} - inserted
                                         - set(tables.assembly.upgrades)),
            "facilities_placed": len(tables.assembly.facilities),
            "not_modelled": [{"id": n.id, "name": n.name, "reason": n.reason}
                             for n in not_modelled],
            "outside_extract": outside,
            "not_joined": [{"id": i, "distance_km": d} for i, d in tables.assembly.not_joined],
            "joined_from_far": [{"id": i, "distance_km": d}
                                for i, d in sorted(tables.assembly.join_km, key=lambda x: -x[1])
                                if d > FAR_JOIN_KM],
        },
        "reachability_by_road_from_ha_noi": {"checked": checked, "unreachable": unreachable,
                                             "not_open_yet": not_open},
        "gained_since_base_year": {
            "base_year": base_year,
            "links": gained_links,
            "km_by_mode_class": km_by_mode_class(gained_edges).to_dict(orient="records")
            if len(gained_edges) else [],
        },
        "schematic_circuity": tables.assembly.schematic_circuity,
        "detours": checks["detours"],
        "unused_links": checks["unused_links"],
    }


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _detour_markdown(report: dict[str, Any]) -> list[str]:
    d = report.get("detours")
    if not d:
        return []
    t = d["thresholds"]
    flagged = d["flagged"]
    lines = ["", "## Detours between capitals and road gates", "",
             f"{d['pairs_checked']} pairs of {d['places']} places (provincial capitals, Hà Nội, "
             "road border gates; BGEZs are measured at their gate). A pair is listed when its "
             f"fastest car route is more than {t['detour_index']:g} × the great-circle distance "
             f"({t['mountain_detour_index']:g} × when more than "
             f"{t['mountain_share']:.0%} of the fastest or of the shortest road route is "
             "mountainous), or, for pairs closer than "
             f"{t['near_km']:g} km, more than {t['near_excess_km']:g} km longer than it.", "",
             f"**{len(flagged)} pairs above the thresholds: "
             f"{d.get('diagnosed_far_join', 0)} diagnosed as a place joined from far away (its "
             f"access road is missing), {d.get('diagnosed_road_gap', 0)} as a road gap (a "
             "quarter or more of the straight line between them runs more than "
             f"{ROAD_GAP_KM:g} km from any road in the data, or no road of the data joins them "
             f"near that line: the roads reached from each end stay more than "
             f"{BAND_JUNCTION_KM:g} km apart there), "
             f"{d.get('diagnosed_preference', 0)} as faster roads preferred (the shortest road "
             f"route is within the threshold), {d['unexplained']} unexplained.**"]
    if d["unreachable"]:
        lines.append("Not reachable from each other by car: " + ", ".join(
            f"{u['from']} – {u['to']}" for u in d["unreachable"]))
    if flagged:
        lines += ["", "| from | to | straight km | route km | index | rule | reason | route |",
                  "|---|---|---:|---:|---:|---|---|---|"]
        lines += [f"| {f['from_name']} | {f['to_name']} | {f['great_circle_km']:,.1f} | "
                  f"{f['route_km']:,.1f} | {f['detour_index']:.2f} | {f['rule']} | "
                  f"{_cell(f['reason'])} | {_cell(route_text(f['route']))} |"
                  for f in flagged[:MD_DETOUR_ROWS]]
        if len(flagged) > MD_DETOUR_ROWS:
            lines += ["", f"… and {len(flagged) - MD_DETOUR_ROWS} more pairs (smaller detour "
                      "indexes) in the JSON report, key `detours`."]
    u = report.get("unused_links")
    if u is None:
        return lines
    lines += ["", "## Catalog roads that carry no route", "",
              f"{len(u['checked'])} catalog road links in the network, each tested on the fastest "
              "car paths between the places it serves (its waypoints, the cities, towns and road "
              "gates near its ends, the places of the links it continues, Hà Nội). "
              f"**{len(u['unused'])} carry none of them** — usually a join error."]
    if u["unused"]:
        lines += ["", "| link | pair closest to using it | fastest h | via the link h | "
                  "ends joined | fastest route |", "|---|---|---:|---:|---|---|"]
        for f in u["unused"]:
            pair = " – ".join(f["pair"]) if f["pair"] else "none"
            fast = f"{f['fastest_time_h']:.2f}" if f["fastest_time_h"] is not None else "–"
            via = f"{f['via_link_time_h']:.2f}" if f["via_link_time_h"] is not None else "cut off"
            ends = f["ends"]
            joined = (f"start {'yes' if ends['start_joined'] else 'NO'}, "
                      f"end {'yes' if ends['end_joined'] else 'NO'}")
            lines.append(f"| {f['id']} ({_cell(f['name'])}) | {pair} | {fast} | {via} | "
                         f"{joined} | {_cell(route_text(f['fastest_route']))} |")
    return lines


def _lengths_markdown(lengths: dict | None, schematic: dict | None) -> list[str]:
    """Return the true-lengths section: official sections, circuity factors by terrain."""
    if not lengths:
        return []
    lines = ["", "## Lengths", "",
             "Generalised road lines are shorter than the roads. Sections with an official "
             "length are scaled to it; every other road takes the circuity factor of its "
             "terrain, fitted to those sections "
             f"({', '.join(f'{t} {f:g}' for t, f in lengths['factors'].items())}; fitted: "
             f"{', '.join(lengths['fitted']) or 'none'}).", "",
             "| section | route | official km | drawn km | ratio | note |",
             "|---|---|---:|---:|---:|---|"]
    for sec in lengths["sections"]:
        if "skipped" in sec:
            lines.append(f"| {sec['id']} | {sec['ref']} | {sec['official_km']:g} | – | – | "
                         f"not used: {_cell(sec['skipped'])} |")
        else:
            lines.append(f"| {sec['id']} | {sec['ref']} | {sec['official_km']:g} | "
                         f"{sec['drawn_km']:g} | {sec['ratio']:.3f} | |")
    if schematic:
        lines += ["", "Schematic links without an official length are lengthened by the median "
                  "ratio official / straight length of the links that have one: "
                  + ", ".join(f"{m} {f:g}" for m, f in schematic.items()) + "."]
    return lines


def quality_markdown(report: dict[str, Any]) -> str:
    """Render the quality report for people (Markdown)."""
    p = report.get("provenance", {})
    lines = [f"# Network quality report — {report['year']}, scenario {p.get('scenario', 'base')}",
             "", f"Built {p.get('built', '')} by {p.get('toolkit', '')} from "
             f"{report['network_source']}.", "", "## Kilometres by mode and class", "",
             "| mode | class | km |", "|---|---|---:|"]
    lines += [f"| {r['mode']} | {r['class']} | {r['length_km']:,.1f} |"
              for r in report["km_by_mode_class"]]
    bb = dict(report["backbone"])
    lengths = bb.pop("lengths", None)
    lines += ["", "## Backbone", ""]
    for key, val in bb.items():
        lines.append(f"- {key}: {val}")
    lines += _lengths_markdown(lengths, report.get("schematic_circuity"))
    lines += ["", f"Opening years read as **{p.get('open_years_reading', 'evidence')}**: "
              + ("a link is open in a year already past only with a dated fact; a plan year "
                 "that has passed without one moves to the end of the next plan period, a "
                 "passed target to the next year." if p.get("open_years_reading", "evidence")
                 == "evidence" else "the plans' years as written.")]
    c = report["components"]
    lines += ["", f"Connected components: {c['all_modes_weak']} (all modes), {c['road_weak']} "
              "(roads with facility access).", "", "## Catalog items", ""]
    cat = report["catalog"]
    lines += [f"- links placed: {len(cat['links_placed'])}; upgrades applied: "
              f"{', '.join(cat['upgrades_applied']) or 'none'}; facilities placed: "
              f"{cat['facilities_placed']}",
              f"- links not open yet in {report['year']}: "
              f"{', '.join(cat['links_not_open_yet']) or 'none'}"]
    if cat["outside_extract"]:
        lines.append(f"- outside the OSM extract: {', '.join(cat['outside_extract'])}")
    if cat["not_joined"]:
        lines.append("- not joined (farther than 25 km from the network): "
                     + ", ".join(f"{d['id']}" for d in cat["not_joined"]))
    if cat["joined_from_far"]:
        lines.append(f"- joined from farther than {FAR_JOIN_KM:g} km: "
                     + ", ".join(f"{d['id']} ({d['distance_km']} km)"
                                 for d in cat["joined_from_far"]))
    lines += ["", "Not modelled:", ""]
    lines += [f"- {n['id']} ({n['name']}): {n['reason']}" for n in cat["not_modelled"]]
    r = report["reachability_by_road_from_ha_noi"]
    lines += ["", "## Reachable by road from Hà Nội", "",
              f"{r['checked'] - len(r['unreachable'])} of {r['checked']} gates, provincial "
              "capitals, ports, dry ports and airports."]
    lines += [f"- not reachable: {u['id']} ({u['name']}, {u['kind']})" for u in r["unreachable"]]
    if r["not_open_yet"]:
        lines.append(f"- not open in {report['year']} (not checked): "
                     + ", ".join(r["not_open_yet"]))
    g = report["gained_since_base_year"]
    lines += ["", f"## Gained since {g['base_year']}", "",
              f"Links: {', '.join(g['links']) or 'none'}", ""]
    if g["km_by_mode_class"]:
        lines += ["| mode | class | km |", "|---|---|---:|"]
        lines += [f"| {x['mode']} | {x['class']} | {x['length_km']:,.1f} |"
                  for x in g["km_by_mode_class"]]
    lines += _detour_markdown(report)
    lines += ["", "## Data", "", p.get("attribution", ""), ""]
    return "\n".join(lines)
