"""The corridor map: each corridor's fastest route per year and profile, with its KPIs.

Routes of year A are dashed, those of year B solid; every corridor has its own colour. A select
box (or ``#corridor=<id>`` in the address) shows one corridor or all of them; the popup of a
route gives its time, length, average speed, expressway share, detour index and slowest
stretch (and, for year B, the saving against year A).
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
from corridors.maps.geo import collection, features
from corridors.maps.network import add_network
from corridors.maps.page import BIND_FEATURE, Page
from corridors.maps.picker import Picker
from corridors.maps.places import add_province_outline, popup_table
from corridors.maps.style import CORRIDOR_COLOURS, CORRIDOR_KINDS, fmt, icon_svg, line_svg
from shapely.geometry import Point

from corridors.core.names import match_key

if TYPE_CHECKING:
    from corridors.analysis.results import RunResults

#: Simplification tolerance of routes, degrees (about 100 m).
ROUTE_TOLERANCE = 0.001
#: Profiles drawn, and whether their layers are shown at start.
PROFILES_SHOWN = {"car": True, "truck": False, "freight": False}


def corridor_items(results: RunResults) -> list[tuple[str, str, str]]:
    """Return (id, name, kind) of every corridor of the run's catalog, in catalog order."""
    catalog = results.builds[results.years[1]].catalog
    return [(c.id, c.name, c.kind) for c in catalog.corridors.values()]


def select_corridor(results: RunResults, name: str) -> str:
    """Return the id of the corridor a user means (id, English or Vietnamese name).

    Raises
    ------
    LookupError
        If nothing matches; the message lists the valid corridors.
    """
    catalog = results.builds[results.years[1]].catalog
    key = match_key(str(name))
    for c in catalog.corridors.values():
        if key in {match_key(c.id), match_key(c.name), match_key(c.name_vi)}:
            return c.id
    valid = ", ".join(f"{cid} ({cname})" for cid, cname, _ in corridor_items(results))
    raise LookupError(f"no corridor matches {name!r}; valid corridors: {valid}")


def kpi_popup(kpi: dict, saving: dict | None, label: str, profile: str) -> str:
    """Return the popup of one corridor route: its KPIs (and saving) in one year and profile."""
    rows = [("Tên", escape(str(kpi.get("name_vi", "")))),
            ("kind", escape(CORRIDOR_KINDS.get(str(kpi.get("kind")), str(kpi.get("kind"))))),
            ("year, profile", f"{escape(label)}, {escape(profile)}"),
            ("stops", escape(str(kpi.get("stops", "")))),
            ("time", fmt(kpi.get("time_h"), 2, "h")),
            ("length", fmt(kpi.get("length_km"), 1, "km")),
            ("average speed", fmt(kpi.get("avg_speed_kmh"), 1, "km/h")),
            ("expressway share", fmt(100 * kpi["expressway_share"], 0, "%")
             if kpi.get("expressway_share") is not None else "–"),
            ("detour index", f"{fmt(kpi.get('detour_index'), 2)} (route km / "
                             f"{fmt(kpi.get('straight_km'), 0)} km straight)"),
            ("slowest stretch", f"{escape(str(kpi.get('slowest_stretch') or '–'))} "
                                f"({fmt(kpi.get('slowest_stretch_kmh'), 1, 'km/h')})")]
    if saving:
        rows.append(("saving vs " + escape(saving["from"]),
                     f"{fmt(saving['saving_h'], 2, 'h')} ({fmt(saving['saving_pct'], 1, '%')})"))
    if kpi.get("reachable") is False:
        rows.append(("reachable", "no: a stop cannot be reached"))
    return popup_table(rows, escape(str(kpi.get("name", ""))))


def _records(frame, keys) -> dict:
    return {tuple(str(r[k]) for k in keys): r for r in frame.to_dict("records")}


def add_routes(page: Page, m: folium.Map, results: RunResults, colours: dict[str, str]) -> list:
    """Add one layer of routes per year and profile; return the GeoJSON layers."""
    tables = results.analyses.tables
    routes, kpis = tables["corridor_routes"], _records(tables["corridor_kpis"],
                                                       ("scenario", "profile", "id"))
    sav = tables["savings_corridors"]
    savings = _records(sav, ("profile", "id")) if not sav.empty else {}
    la, lb = results.labels
    profiles = list(dict.fromkeys(routes["profile"])) if not routes.empty else ["car"]
    layers = []
    for profile in profiles:
        for label, dash in ((la, "8 6"), (lb, None)):
            part = routes[(routes["scenario"].astype(str) == label)
                          & (routes["profile"] == profile)] if not routes.empty else routes

            def props(r, label=label, profile=profile):
                kpi = kpis.get((label, profile, r.id), {"name": r.name, "time_h": r.time_h,
                                                        "length_km": r.length_km})
                s = savings.get((profile, r.id)) if label == lb and la != lb else None
                saving = {"from": la, "saving_h": s["saving_h"],
                          "saving_pct": s["saving_pct"]} if s else None
                return {"pick": r.id, "c": colours.get(r.id, "#555555"),
                        "tip": f"<b>{escape(str(r.name))}</b> {escape(label)} {profile}: "
                               f"{fmt(r.time_h, 2, 'h')}, {fmt(r.length_km, 0, 'km')}",
                        "popup": kpi_popup(kpi, saving, label, profile)}

            feats = features(part, props, ROUTE_TOLERANCE)
            fg = page.group(m, f"Routes {label}, {profile}", len(feats),
                            show=PROFILES_SHOWN.get(profile, False),
                            empty=f"no corridor route for {label} ({profile})")
            if feats:
                layer = folium.GeoJson(collection(feats), style_function=lambda f, d=dash: {
                    "color": f["properties"]["c"], "weight": 5 if d is None else 3.5,
                    "opacity": 0.85, "dashArray": d}, on_each_feature=BIND_FEATURE)
                layer.add_to(fg)
                layers.append(layer)
    return layers


def add_stops(page: Page, m: folium.Map, results: RunResults, colours: dict[str, str]):
    """Add the stops of every corridor (one marker per corridor and stop)."""
    catalog = results.builds[results.years[1]].catalog
    rows = [{"c": c, "i": i, "s": s, "geometry": Point(s.lon, s.lat)}
            for c in catalog.corridors.values() for i, s in enumerate(c.stops)]
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326") if rows else None
    feats = features(frame, lambda r: {
        "pick": r.c.id, "c": colours.get(r.c.id, "#555555"),
        "tip": f"{escape(r.s.name_vi or r.s.name)} (stop {r.i + 1} of {escape(r.c.name)})"}
    ) if frame is not None else []
    fg = page.group(m, "Corridor stops", len(feats), empty="no corridor in the catalog")
    if not feats:
        return None
    layer = folium.GeoJson(collection(feats), style_function=lambda f: {
        "color": "#222222", "weight": 1.5, "fill": True, "fillColor": f["properties"]["c"],
        "fillOpacity": 1, "radius": 6}, marker=folium.CircleMarker(radius=6),
        on_each_feature=BIND_FEATURE)
    layer.add_to(fg)
    return layer


def make_corridor_map(results: RunResults, *, corridor: str | None = None, offline: bool = True,
                      tiles: bool | None = None) -> folium.Map:
    """Return the corridor map.

    Parameters
    ----------
    results : corridors.analysis.results.RunResults
    corridor : str, optional
        The corridor shown first (id or name); default: all corridors.
    offline : bool
        Embed the map libraries (no CDN).
    tiles : bool, optional
        Draw OpenStreetMap tiles (default: only when not offline).

    Returns
    -------
    folium.Map
        The map; a notebook shows it as the page the toolkit writes (title, legend,
        provenance), which :func:`corridors.maps.render_map` returns as HTML
        (:class:`maps.page.PageFigure`).

    Raises
    ------
    LookupError
        If ``corridor`` matches no corridor.
    """
    initial = select_corridor(results, corridor) if corridor is not None else ""
    items = corridor_items(results)
    colours = {cid: CORRIDOR_COLOURS[i % len(CORRIDOR_COLOURS)]
               for i, (cid, _, _) in enumerate(items)}
    la, lb = results.labels
    page = Page(results, "Economic corridors: routes and KPIs",
                f"fastest route through each corridor's stops, {la} (dashed) and {lb} (solid); "
                f"click a route for its KPIs · scenario {results.scenario.name}",
                offline=offline, tiles=(not offline) if tiles is None else tiles,
                legend_at_right=True, popup_clear=((60, 150), (300, 140)))
    m = page.new_map()
    add_province_outline(page, m)
    add_network(page, m, results.builds[results.years[1]].tables.edges, lb,
                only=("Expressways", "National roads"), show=False, folded=True)
    layers = add_routes(page, m, results, colours)
    stops = add_stops(page, m, results, colours)
    if stops is not None:
        layers.append(stops)
    page.legend("Corridors (colour)", [(line_svg(colours[cid], 5), name)
                                       for cid, name, _ in items])
    page.legend("Routes (time h, length km, speed km/h in the popups)",
                [(line_svg("#555555", 3.5, "8 6"), f"{la}"), (line_svg("#555555", 5), f"{lb}"),
                 (icon_svg("dot", "#555555", "", 14, "#222"), "corridor stop")])
    if layers:
        options = [("", "all corridors")] + [(cid, name) for cid, name, _ in items]
        Picker(layers, options, initial, "Corridor:", "corridor",
               padding=page.popup_clear).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m
