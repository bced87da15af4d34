"""The network of one year as map layers: roads by class, railways by gauge, waterways, air.

Each link is drawn once (the network tables hold one row per direction of travel); transfer
edges (access to stations, ports and airports) are not drawn. Hovering a link shows its name,
class, length and car speed. The roads and railways beyond the border (China, Laos:
:mod:`network.crossings`) are one layer of their own, "Across the border", so that Vietnam's
layers (a standard-gauge railway in 2025: none) keep their meaning; crossings and changes of
gauge are not drawn.
"""

from __future__ import annotations

from html import escape

import folium
from corridors.maps.geo import collection, features, undirected_edges
from corridors.maps.page import BIND_FEATURE, Page
from corridors.maps.style import FOREIGN_LAYER, FOREIGN_STYLE, NETWORK_LAYERS, fmt, line_svg
from corridors.network.crossings import added_edges, foreign_edges

#: Simplification tolerance of network lines, degrees (about 100 m).
TOLERANCE = 0.001


def _tip(row) -> str:
    name = " ".join(str(v) for v in (getattr(row, "ref", None), getattr(row, "name", None))
                    if isinstance(v, str) and v)
    parts = [f"<b>{escape(name)}</b>" if name else "",
             f"{escape(str(row.mode))}, {escape(str(row.cls))}",
             f"{fmt(row.length_km, 1, 'km')}"]
    speed = getattr(row, "speed_kmh_car", None)
    if speed is not None and speed == speed:
        parts.append(f"car {fmt(speed, 0, 'km/h')}")
    project = getattr(row, "project", None)
    if isinstance(project, str) and project:
        parts.append(f"project {escape(project)}, opens {escape(str(row.open_year))}")
    return " · ".join(p for p in parts if p)


def domestic(edges):
    """Return the edges of the network in Vietnam (without what lies across the border)."""
    return edges[~added_edges(edges).to_numpy()]


def foreign(edges):
    """Return the roads and railways beyond the border, one row per link."""
    e = edges[foreign_edges(edges).to_numpy()]
    return undirected_edges(e[e["mode"].isin(list(FOREIGN_STYLE))])


def network_counts(edges) -> dict[str, int]:
    """Return the number of links each network layer draws, by layer label."""
    links = undirected_edges(domestic(edges))
    out = {label: int((links["mode"].eq(mode) & links["class"].isin(classes)).sum())
           for mode, classes, label, *_ in NETWORK_LAYERS}
    out[FOREIGN_LAYER] = len(foreign(edges))
    return out


def add_network(page: Page, m: folium.Map, edges, year, *, only: tuple[str, ...] | None = None,
                show: bool | None = None, folded: bool = False) -> dict[str, int]:
    """Add the network layers of one year to a map and their legend to the page.

    Parameters
    ----------
    page : Page
    m : folium.Map
    edges : geopandas.GeoDataFrame
        The edges table of a build (one row per direction).
    year : int or str
        The label of the network, shown in the layer names.
    only : tuple of str, optional
        Labels of :data:`maps.style.NETWORK_LAYERS` to draw (default: all).
    show : bool, optional
        Override which layers are shown at start.
    folded : bool
        Fold the legend section.

    Returns
    -------
    dict
        Layer name to the number of links drawn.
    """
    links = undirected_edges(domestic(edges))
    links = links.rename(columns={"class": "cls"})
    drawn = {}
    legend = []
    for mode, classes, label, shown, colour, weight, dash in NETWORK_LAYERS:
        if only and label not in only:
            continue
        part = links[links["mode"].eq(mode) & links["cls"].isin(classes)]
        feats = features(part, lambda r: {"tip": _tip(r)}, TOLERANCE)
        fg = page.group(m, f"{label} {year}", len(feats),
                        show=shown if show is None else show,
                        empty=f"no {label.lower()} in the {year} network")
        style = {"color": colour, "weight": weight, "opacity": 0.9, "dashArray": dash}
        if feats:
            folium.GeoJson(collection(feats), style_function=lambda _f, s=style: s,
                           on_each_feature=BIND_FEATURE, smooth_factor=1.5).add_to(fg)
        drawn[fg.layer_name] = len(feats)
        legend.append((line_svg(colour, weight, dash), label))
    if not only or FOREIGN_LAYER in only:
        drawn.update(_add_foreign(page, m, edges, year, show))
        legend += [(line_svg(c, w, d),
                    f"{FOREIGN_LAYER}: {'roads' if md == 'road' else 'railways'}")
                   for md, (c, w, d) in FOREIGN_STYLE.items()]
    if legend and not any(h.startswith("Network") for h, *_ in page.legends):
        page.legend("Network (line width by class)", legend, folded)
    return drawn


def _add_foreign(page: Page, m: folium.Map, edges, year, show: bool | None) -> dict[str, int]:
    """Add the roads and railways beyond the border, one layer, styled by mode."""
    links = foreign(edges).rename(columns={"class": "cls"})
    feats = features(links, lambda r: {"tip": _tip(r), "mode": r.mode}, TOLERANCE)
    fg = page.group(m, f"{FOREIGN_LAYER} {year}", len(feats),
                    show=True if show is None else show,
                    empty=f"no road or railway across the border in the {year} network")
    if feats:
        folium.GeoJson(collection(feats), style_function=lambda f: dict(zip(
            ("color", "weight", "dashArray"), FOREIGN_STYLE[f["properties"]["mode"]],
            strict=True), opacity=0.8),
            on_each_feature=BIND_FEATURE, smooth_factor=1.5).add_to(fg)
    return {fg.layer_name: len(feats)}
