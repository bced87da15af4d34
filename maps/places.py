"""Catalog places (gates, zones, ports, airports, capitals) and provinces as map layers."""

from __future__ import annotations

from html import escape

import folium
from corridors.layers import read_layer
from corridors.maps.geo import collection, features
from corridors.maps.page import BIND_FEATURE, Page
from corridors.maps.style import (
    BORDER_STYLE,
    PLACE_KINDS,
    PROVINCE_OLD_STYLE,
    PROVINCE_STYLE,
    box_svg,
    icon_svg,
    line_svg,
)

#: Simplification tolerance of province outlines, degrees (about 200 m), and the decimals kept.
AREA_TOLERANCE = 0.002
AREA_DECIMALS = 4
#: Place attributes shown in popups when present, with their labels.
_PLACE_ATTRS = {"gate_class": "gate class", "neighbour": "neighbour", "gate_mode": "mode",
                "roles": "roles"}


def popup_table(rows: list[tuple[str, str]], title: str = "") -> str:
    """Return the HTML of a popup: an optional bold title and a two-column table."""
    body = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in rows)
    head = f"<b>{title}</b>" if title else ""
    return f'<div class="corridors-popup">{head}<table>{body}</table></div>'


def place_popup(place) -> str:
    """Return the popup of a catalog place (names, kind, provinces, location, source)."""
    rows = [("Tên", escape(place.name_vi)), ("kind", escape(place.kind.replace("_", " "))),
            ("province", escape(place.province)
             + (f" → {escape(place.province_2025)} (since 1 July 2025)"
                if place.province_2025 != place.province else ""))]
    for key, label in _PLACE_ATTRS.items():
        value = place.attrs.get(key) if key != "roles" else ", ".join(place.roles)
        if value:
            rows.append((label, escape(str(value))))
    rows += [("location", escape(f"{place.location_method} ({place.location_confidence})")),
             ("source", escape(place.source)), ("id", escape(place.id))]
    return popup_table(rows, escape(place.name))


def place_icon(kind: str, size: int = 20) -> folium.DivIcon:
    """Return the map icon of a kind of place (see :data:`maps.style.PLACE_KINDS`)."""
    _label, shape, colour, letter = PLACE_KINDS[kind]
    return folium.DivIcon(html=icon_svg(shape, colour, letter, size), icon_size=(size, size),
                          icon_anchor=(size // 2, size // 2), class_name="corridors-icon")


def add_places(page: Page, m: folium.Map, catalog, kinds: tuple[str, ...] | None = None,
               popups: dict[str, str] | None = None, show: tuple[str, ...] | None = None,
               folded: bool = False, pick: bool = False) -> dict[str, int]:
    """Add one layer per kind of catalog place, with distinct icons.

    Parameters
    ----------
    page : Page
    m : folium.Map
    catalog : corridors.catalog.model.Catalog
    kinds : tuple of str, optional
        Kinds to draw (default: every kind of :data:`maps.style.PLACE_KINDS`).
    popups : dict, optional
        Place id to a popup HTML replacing the default one.
    show : tuple of str, optional
        Kinds shown at start (default: all).
    folded : bool
        Fold the legend section.
    pick : bool
        Clicking a marker picks its place in the map's picker (:mod:`maps.picker`).

    Returns
    -------
    dict
        Layer name to the number of markers.
    """
    kinds = kinds or tuple(PLACE_KINDS)
    drawn = {}
    legend = []
    for kind in kinds:
        label, shape, colour, letter = PLACE_KINDS[kind]
        places = [p for p in catalog.places.values() if p.kind == kind]
        fg = page.group(m, label, len(places), show=show is None or kind in show,
                        empty=f"no {label.lower()} in the catalog")
        if places:
            feats = [{"type": "Feature",
                      "geometry": {"type": "Point",
                                   "coordinates": [round(p.lon, 5), round(p.lat, 5)]},
                      "properties": {"id": p.id, "tip": escape(p.name_vi),
                                     "popup": (popups or {}).get(p.id) or place_popup(p),
                                     "pick_on_click": p.id if pick else None}}
                     for p in places]
            folium.GeoJson(collection(feats), marker=folium.Marker(icon=place_icon(kind)),
                           on_each_feature=BIND_FEATURE).add_to(fg)
        drawn[fg.layer_name] = len(places)
        legend.append((icon_svg(shape, colour, letter, 16), label))
    page.legend("Places (icons)", legend, folded)
    return drawn


def add_provinces(page: Page, m: folium.Map, editions=("2025", "2024"),
                  show_old: bool = False) -> dict[str, int]:
    """Add the provinces of the July 2025 edition and of the edition before as two layers.

    Returns
    -------
    dict
        Layer name to the number of provinces.
    """
    drawn = {}
    legend = []
    for edition in editions:
        frame = read_layer(f"provinces_{edition}")
        if edition == "2025":
            label, style = "Provinces since 1 July 2025", PROVINCE_STYLE
            feats = features(frame, lambda r: {
                "tip": f"<b>{escape(r.name)}</b> (since 1 July 2025)",
                "popup": popup_table([("merged from", escape(r.merged_from))],
                                     escape(r.name))}, AREA_TOLERANCE, AREA_DECIMALS)
            show = True
        else:
            label, style = "Provinces before 1 July 2025", PROVINCE_OLD_STYLE
            feats = features(frame, lambda r: {
                "tip": f"<b>{escape(r.name)}</b> (before 1 July 2025)",
                "popup": popup_table([("part of since 1 July 2025", escape(r.province_2025))],
                                     escape(r.name))}, AREA_TOLERANCE, AREA_DECIMALS)
            show = show_old
        fg = page.group(m, label, len(feats), show=show)
        if feats:
            folium.GeoJson(collection(feats), style_function=lambda _f, s=style: s,
                           on_each_feature=BIND_FEATURE).add_to(fg)
        drawn[fg.layer_name] = len(feats)
        legend.append((box_svg(style["fillColor"], style["color"]), label))
    border = read_layer("border")
    names = {"CHN": "China", "LAO": "Laos"}
    feats = features(border, lambda r: {
        "tip": f"Border with {names.get(r.neighbour, r.neighbour)} ({r.length_km:,.0f} km)"},
        AREA_TOLERANCE / 2, AREA_DECIMALS)
    fg = page.group(m, "International border", len(feats))
    if feats:
        folium.GeoJson(collection(feats), style_function=lambda _f: BORDER_STYLE,
                       on_each_feature=BIND_FEATURE).add_to(fg)
    drawn[fg.layer_name] = len(feats)
    legend.append((line_svg(BORDER_STYLE["color"], BORDER_STYLE["weight"],
                            BORDER_STYLE["dashArray"]), "International border"))
    page.legend("Areas", legend)
    return drawn


def add_province_outline(page: Page, m: folium.Map) -> int:
    """Add the provinces of the July 2025 edition as plain outlines (a background layer)."""
    frame = read_layer("provinces_2025")
    feats = features(frame, lambda r: {"tip": escape(r.name)}, AREA_TOLERANCE, AREA_DECIMALS)
    fg = page.group(m, "Provinces since 1 July 2025", len(feats))
    if feats:
        folium.GeoJson(collection(feats), style_function=lambda _f: PROVINCE_STYLE,
                       on_each_feature=BIND_FEATURE).add_to(fg)
    return len(feats)
