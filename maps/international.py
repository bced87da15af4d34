"""The international map: routes from Kunming, Nanning, Dongxing and Oudomxay across the border.

Draws the run's ``international_od`` table (:mod:`corridors.analysis.international`): the fastest
road
freight (truck) and rail freight route of every foreign origin to Hà Nội, the Hải Phòng and Cái
Lân seaports and each BGEZ, year A dashed and year B solid, coloured by mode. A select box (or a
click on an origin, or ``#origin=<id>`` in the address) shows one origin's routes and its table
(time, cost, gate, crossings and breaks of gauge to Hà Nội and the seaports). The roads and
railways beyond the border, the gates and the foreign cities are drawn under the routes.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import pandas as pd
from corridors.maps.geo import collection, features
from corridors.maps.network import add_network
from corridors.maps.page import BIND_FEATURE, Page
from corridors.maps.picker import Picker
from corridors.maps.places import add_places, add_province_outline, popup_table
from corridors.maps.style import FOREIGN_LAYER, fmt, icon_svg, line_svg

if TYPE_CHECKING:
    from corridors.analysis.results import RunResults

#: Route colours by mode of freight, and how each is named.
ROUTE_COLOURS = {"road": "#d95f02", "rail": "#1b9e77"}
ROUTE_LABELS = {"road": "road freight (truck)", "rail": "rail freight"}
#: Simplification tolerance of routes, degrees (about 100 m).
ROUTE_TOLERANCE = 0.001
#: The view: the region and what lies across the border (Kunming, Nanning, northern Laos).
BOUNDS = [[20.2, 101.0], [25.3, 108.8]]
#: Destinations of an origin's summary table.
SUMMARY_DESTINATIONS = ("city_ha_noi", "seaport_hai_phong", "seaport_cai_lan")


def _gate_names(results: RunResults, gates) -> str:
    catalog = results.builds[results.years[1]].catalog
    ids = [g for g in str(gates or "").split(";") if g]
    return ", ".join(catalog.places[g].name_vi if g in catalog.places else g for g in ids) or "–"


def route_popup(results: RunResults, r) -> str:
    """Return the popup of one international route (a row of ``international_od``)."""
    rows = [("from", escape(f"{r.origin_name} ({r.origin_local})")),
            ("to", escape(str(r.destination_name))),
            ("year, mode", escape(f"{r.scenario}, {ROUTE_LABELS.get(r.mode, r.mode)}")),
            ("time", fmt(r.time_h, 2, "h")), ("length", fmt(r.length_km, 0, "km")),
            ("by rail", fmt(r.rail_km, 0, "km")),
            ("handling, clearance, gauge", fmt(r.cost_vnd_teu, 0, "VND/TEU")),
            ("gate", escape(_gate_names(results, r.gates))),
            ("crossings", fmt(r.crossings, 0)), ("breaks of gauge", fmt(r.gauge_breaks, 0))]
    return popup_table(rows, escape(f"{r.origin_name} → {r.destination_name}"))


def origin_summary(results: RunResults, od: pd.DataFrame, origin: str) -> str:
    """Return the HTML table of one origin: time, gate and breaks of gauge per year and mode."""
    la, lb = results.labels
    part = od[(od["origin"] == origin) & od["destination"].isin(SUMMARY_DESTINATIONS)]
    if part.empty:
        return ""
    head = "".join(f"<th>{escape(h)}</th>" for h in
                   ("to", "mode", f"h {la}", f"h {lb}", f"gate {lb}", f"breaks {la}→{lb}"))
    body = []
    for (dest, mode), g in part.groupby(["destination", "mode"], sort=False):
        a = g[g["scenario"].astype(str) == la]
        b = g[g["scenario"].astype(str) == lb]

        def val(frame, col):
            return frame[col].iloc[0] if len(frame) else None

        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in (
            escape(str(val(b, "destination_name") or val(a, "destination_name") or dest)),
            escape(str(mode)), fmt(val(a, "time_h"), 1), fmt(val(b, "time_h"), 1),
            escape(_gate_names(results, val(b, "gates"))),
            f"{fmt(val(a, 'gauge_breaks'), 0)}→{fmt(val(b, 'gauge_breaks'), 0)}")) + "</tr>")
    return (f'<table class="corridors-summary"><tr>{head}</tr>{"".join(body)}</table>')


def drawn_routes(od: pd.DataFrame) -> pd.Series:
    """Return a mask of the routes the map draws: reachable, and a rail route only with rail km.

    A rail freight route without rail km is the road route (no railway serves the pair better):
    it is drawn once, as road freight.
    """
    rail_less = (od["mode"] == "rail") & ~(pd.to_numeric(od["rail_km"]).fillna(0) > 0)
    return od["reachable"].astype(bool) & ~rail_less


def add_routes(page: Page, m: folium.Map, results: RunResults, od: pd.DataFrame) -> list:
    """Add one layer per year and mode of freight; return the GeoJSON layers."""
    la, lb = results.labels
    layers = []
    for mode in ("road", "rail"):
        for label, dash in ((la, "8 6"), (lb, None)):
            part = od[drawn_routes(od) & (od["scenario"].astype(str) == label)
                      & (od["mode"] == mode)] if len(od) else od
            # mypy cannot infer a lambda with a default (the loop variable bound)
            feats = features(part, lambda r, label=label: {  # type: ignore[misc]
                "pick": r.origin, "mode": r.mode,
                "tip": f"<b>{escape(str(r.origin_name))} → {escape(str(r.destination_name))}"
                       f"</b> {escape(label)}, {ROUTE_LABELS[r.mode]}: {fmt(r.time_h, 1, 'h')}",
                "popup": route_popup(results, r)}, ROUTE_TOLERANCE)
            fg = page.group(m, f"Routes {label}, {ROUTE_LABELS[mode]}", len(feats),
                            show=label == lb or la == lb,
                            empty=f"no international {mode} route in {label}")
            if feats:
                layer = folium.GeoJson(collection(feats), style_function=lambda f, d=dash: {
                    "color": ROUTE_COLOURS[f["properties"]["mode"]],
                    "weight": 5 if d is None else 3.5, "opacity": 0.8, "dashArray": d},
                    on_each_feature=BIND_FEATURE)
                layer.add_to(fg)
                layers.append(layer)
    return layers


def add_foreign_places(page: Page, m: folium.Map, catalog, summaries: dict[str, str]):
    """Add the foreign cities (names in English, Vietnamese and local script); return the layer."""
    places = [p for p in catalog.foreign.values() if p.kind == "foreign_city"]
    fg = page.group(m, "Cities across the border", len(places),
                    empty="no place across the border in the catalog")
    if not places:
        return None
    feats = [{"type": "Feature",
              "geometry": {"type": "Point", "coordinates": [round(p.lon, 5), round(p.lat, 5)]},
              "properties": {
                  "pick": p.id if p.id in summaries else None,
                  "pick_on_click": p.id if p.id in summaries else None,
                  "tip": escape(f"{p.name} / {p.name_vi} / {p.attrs.get('name_local', '')}"),
                  "popup": popup_table(
                      [("Tên", escape(p.name_vi)),
                       ("local name", escape(str(p.attrs.get("name_local", "")))),
                       ("country", escape(str(p.attrs.get("country", "")))),
                       ("source", escape(p.source)), ("id", escape(p.id))],
                      escape(p.name)) + summaries.get(p.id, "")}}
             for p in places]
    layer = folium.GeoJson(collection(feats), style_function=lambda f: {
        "color": "#222222", "weight": 1.5, "fill": True, "fillColor": "#fdae61",
        "fillOpacity": 1, "radius": 7}, marker=folium.CircleMarker(radius=7),
        on_each_feature=BIND_FEATURE)
    layer.add_to(fg)
    return layer


def make_international_map(results: RunResults, *, origin: str | None = None, offline: bool = True,
                           tiles: bool | None = None) -> folium.Map:
    """Return the international map.

    Parameters
    ----------
    results : corridors.analysis.results.RunResults
    origin : str, optional
        The foreign origin shown first (id); default: all origins.
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
    """
    la, lb = results.labels
    od = results.analyses.tables.get("international_od")
    if od is None or od.empty or "geometry" not in od:  # no foreign network in this run
        od = gpd.GeoDataFrame({c: [] for c in ("scenario", "origin", "mode", "reachable")},
                              geometry=[], crs="EPSG:4326")
    catalog = results.builds[results.years[1]].catalog
    page = Page(results, "Across the border: international freight routes",
                f"fastest road (truck) and rail freight routes from China and Laos to Hà Nội, "
                f"the seaports and the BGEZs, {la} (dashed) and {lb} (solid); pick an origin "
                f"or click a city · scenario {results.scenario.name}",
                offline=offline, tiles=(not offline) if tiles is None else tiles,
                legend_at_right=True, popup_clear=((420, 110), (300, 140)))
    m = page.new_map()
    m.fit_bounds(BOUNDS, padding=(4, 4))
    add_province_outline(page, m)
    add_network(page, m, results.builds[results.years[1]].tables.edges, lb,
                only=("Expressways", "National roads", "Railways, metre gauge",
                      "Railways, dual gauge", "Railways, standard gauge", FOREIGN_LAYER),
                folded=True)
    layers = add_routes(page, m, results, od)
    origins = list(dict.fromkeys(od["origin"])) if len(od) else []
    summaries = {o: origin_summary(results, od, o) for o in origins}
    cities = add_foreign_places(page, m, catalog, summaries)
    if cities is not None:
        layers.append(cities)
    add_places(page, m, catalog, kinds=("border_gate", "seaport"), folded=True)
    page.legend("Routes (time h, cost, gate and breaks of gauge in the popups)",
                [(line_svg(ROUTE_COLOURS[md], 5), ROUTE_LABELS[md]) for md in ROUTE_COLOURS]
                + [(line_svg("#555555", 3.5, "8 6"), la), (line_svg("#555555", 5), lb),
                   (icon_svg("dot", "#fdae61", "", 14, "#222"), "city across the border")])
    page.note("Schematic foreign links drawn through their places, official lengths governing; "
              "clearance times by gate class and direction (data/speeds.yaml). A rail freight "
              "route that takes no railway (no line serves the pair better) is drawn as road "
              "freight only.")
    if not len(od):
        page.note("No international route in this run (no foreign network: an OSM extract, "
                  "or a catalog without cross_border.yaml).")
    if layers:
        names = {o: str(od.loc[od["origin"] == o, "origin_name"].iloc[0]) for o in origins}
        options = [("", "all origins")] + [(o, names[o]) for o in origins]
        initial = origin if origin is not None and origin in names else ""
        Picker(layers, options, initial, "Origin:", "origin", summaries,
               padding=page.popup_clear).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m
