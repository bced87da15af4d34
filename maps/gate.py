"""The gate map: each border gate's and BGEZ's isochrones in both years, and its access table.

A select box (or a click on a gate's marker) picks the gate; its 1, 2, 4 and 8 h isochrones
(car) of year B are filled, those of year A drawn as dashed outlines, and its access table (time
to Hà Nội, the seaport, Nội Bài, the nearest dry port, the nearest expressway and its capital,
by profile and year; people within reach) shows under the box and in the marker's popup.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

import folium
from corridors.maps.geo import collection, features
from corridors.maps.network import add_network
from corridors.maps.page import BIND_FEATURE, Page
from corridors.maps.picker import Picker
from corridors.maps.places import add_places, add_province_outline
from corridors.maps.style import DESTINATIONS, ISO_COLOURS, box_svg, fmt, line_svg

from corridors.core.names import match_key

if TYPE_CHECKING:
    from corridors.analysis.results import RunResults

#: Simplification tolerance of isochrones, degrees (a cell of the 0.02° time grid, ~2 km), and
#: the decimals kept (0.001° ≈ 100 m).
ISO_TOLERANCE = 0.02
ISO_DECIMALS = 3
#: Destinations of the access table: (column suffix, label).
ACCESS_ROWS = (("ha_noi", DESTINATIONS["ha_noi"]),
               ("hai_phong_seaport", DESTINATIONS["hai_phong_seaport"]),
               ("noi_bai_airport", DESTINATIONS["noi_bai_airport"]),
               ("nearest_dry_port", DESTINATIONS["nearest_dry_port"]),
               ("expressway", DESTINATIONS["expressway"]),
               ("capital", DESTINATIONS["capital"]))


def gate_items(results: RunResults) -> list[tuple[str, str, str]]:
    """Return (id, name, kind) of every gate and BGEZ of the run, in the tables' order."""
    seen: dict[Any, Any] = {}  # id to (id, name, kind), as the tables hold them
    for frame in (results.isochrones, results.analyses.tables["gate_access"]):
        if frame is None or frame.empty:
            continue
        for row in frame[["id", "name", "kind"]].itertuples(index=False):
            seen.setdefault(row.id, (row.id, row.name, row.kind))
    return list(seen.values())


def select_gate(results: RunResults, name: str) -> str:
    """Return the id of the gate or BGEZ a user means (id or name, any case and diacritics).

    Raises
    ------
    LookupError
        If nothing matches; the message lists the valid gates and BGEZs.
    """
    items = gate_items(results)
    catalog = results.builds[results.years[1]].catalog
    key = match_key(str(name))
    for gid, gname, _kind in items:
        place = catalog.places.get(gid)
        names = {gid, gname} | ({place.name, place.name_vi, *place.aliases} if place else set())
        if key in {match_key(n) for n in names if n}:
            return gid
    valid = ", ".join(f"{gid} ({gname})" for gid, gname, _ in items)
    raise LookupError(f"no border gate or BGEZ matches {name!r}; valid gates: {valid}")


def _place_name(results: RunResults, place_id) -> str:
    place = results.builds[results.years[1]].catalog.places.get(str(place_id))
    return place.name_vi if place else str(place_id or "–")


def access_table(results: RunResults, gate_id: str) -> str:
    """Return the HTML access table of a gate or BGEZ (from ``gate_access``).

    Rows: destinations; columns: time (h) of each profile in year A → year B and the car
    distance (km); then the people within 2, 4 and 8 h by car.
    """
    ga = results.analyses.tables["gate_access"]
    rows = ga[ga["id"] == gate_id]
    if rows.empty:
        return "<i>no access figures for this gate in the run</i>"
    la, lb = results.labels
    profiles = list(dict.fromkeys(rows["profile"]))

    by_key = {(str(r["profile"]), str(r["scenario"])): r for _, r in rows.iterrows()}

    def cell(profile, label, col):
        r = by_key.get((profile, label))
        return r.get(col) if r is not None else None

    head = "".join(f"<th>{escape(p)} {escape(la)} → {escape(lb)}</th>" for p in profiles)
    body = []
    for dest, label in ACCESS_ROWS:
        tcol, kcol = f"time_h_to_{dest}", f"length_km_to_{dest}"
        if tcol not in rows.columns:
            continue
        where = ""
        if dest == "nearest_dry_port":
            where = f" ({escape(_place_name(results, cell(profiles[0], lb, dest)))})"
        if dest == "capital":
            where = f" ({escape(_place_name(results, cell(profiles[0], lb, dest)))})"
        cells = "".join(f'<td class="n">{fmt(cell(p, la, tcol))} → {fmt(cell(p, lb, tcol))}</td>'
                        for p in profiles)
        km = cell("car", lb, kcol) if kcol in rows.columns else None
        body.append(f"<tr><th>{escape(label)}{where}</th>{cells}"
                    f'<td class="n">{fmt(km, 0)}</td></tr>')
    people = []
    for h in (2, 4, 8):
        col = f"people_within_{h}h"
        if col in rows.columns:
            people.append(f"<tr><th>people within {h} h (car)</th>"
                          f'<td class="n" colspan="{len(profiles)}">{fmt(cell("car", la, col), 0)}'
                          f" → {fmt(cell('car', lb, col), 0)}</td><td></td></tr>")
    first = rows.iloc[0]
    facts = [str(first["kind"]).replace("_", " "), str(first.get("province") or "")]
    if first.get("gate_class"):
        facts.append(str(first["gate_class"]))
    if first.get("neighbour"):
        facts.append(f"border with {first['neighbour']}")
    title = (f"<b>{escape(str(first['name']))}</b> "
             f"({escape(', '.join(f for f in facts if f))})")
    return (f'<div class="corridors-popup">{title}<table><tr><th>time (h) to</th>{head}'
            f"<th>km (car {escape(lb)})</th></tr>{''.join(body)}{''.join(people)}</table></div>")


def _iso_props(row, scenario_label: str) -> dict:
    return {"pick": row.id, "cut": int(row.cutoff_h),
            "tip": f"<b>{escape(str(row.name))}</b>: within {int(row.cutoff_h)} h by car in "
                   f"{escape(scenario_label)} ({fmt(row.area_km2, 0, 'km²')})"}


def add_isochrones(page: Page, m: folium.Map, results: RunResults, label: str, filled: bool
                   ) -> folium.GeoJson | None:
    """Add the isochrones of one scenario-year (every gate; the picker shows one at a time)."""
    iso = results.isochrones
    part = iso[iso["scenario"].astype(str) == label] if not iso.empty else iso
    if not part.empty:
        part = part.sort_values(["id", "cutoff_h"], ascending=[True, False])
    feats = (features(part, lambda r: _iso_props(r, label), ISO_TOLERANCE, ISO_DECIMALS)
             if len(part) else [])
    fg = page.group(m, f"Isochrones {label} (car, 1/2/4/8 h)", len(feats),
                    empty=f"no isochrone for {label}")
    if not feats:
        return None

    def style(f):
        colour = ISO_COLOURS.get(f["properties"]["cut"], "#999999")
        if filled:
            return {"color": colour, "weight": 1.5, "fillColor": colour, "fillOpacity": 0.3}
        return {"color": colour, "weight": 2.5, "dashArray": "6 5", "fill": False}

    layer = folium.GeoJson(collection(feats), style_function=style,
                           on_each_feature=BIND_FEATURE)
    layer.add_to(fg)
    return layer


def make_gate_map(results: RunResults, *, gate: str | None = None, offline: bool = True,
                  tiles: bool | None = None) -> folium.Map:
    """Return the gate map.

    Parameters
    ----------
    results : corridors.analysis.results.RunResults
    gate : str, optional
        The gate or BGEZ shown first (id or name); default: the first of the run.
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
        If ``gate`` matches no gate or BGEZ.
    """
    items = gate_items(results)
    initial = select_gate(results, gate) if gate is not None else (items[0][0] if items else "")
    la, lb = results.labels
    page = Page(results, "Border gates and BGEZs: reach in hours",
                f"isochrones by car, {la} (dashed) and {lb} (filled); pick a gate above or "
                f"click its marker · scenario {results.scenario.name}", offline=offline,
                tiles=(not offline) if tiles is None else tiles, legend_at_right=True,
                popup_clear=((520, 110), (300, 140)))
    m = page.new_map()
    add_province_outline(page, m)
    add_network(page, m, results.builds[results.years[1]].tables.edges, lb,
                only=("Expressways", "National roads"), folded=True)
    layers = [layer for layer in (add_isochrones(page, m, results, la, filled=False),
                                  add_isochrones(page, m, results, lb, filled=True)) if layer]
    catalog = results.builds[results.years[1]].catalog
    tables = {gid: access_table(results, gid) for gid, _, _ in items}
    add_places(page, m, catalog, kinds=("border_gate", "bgez"), popups=tables, pick=True)
    page.legend("Isochrones: reached within (h, car)",
                [(box_svg(c, c, 0.5), f"{h} h") for h, c in ISO_COLOURS.items()]
                + [(line_svg("#555555", 2.5, "6 5"), f"{la}: dashed outline"),
                   (box_svg("#91cf60", "#91cf60", 0.5), f"{lb}: filled")])
    if not items:
        page.note("No gate or BGEZ in this run.")
    if layers:
        options = [(gid, f"{gname} ({kind.replace('_', ' ')})") for gid, gname, kind in items]
        Picker(layers, options, initial, "Gate or BGEZ:", "gate", tables,
               padding=page.popup_clear).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m
