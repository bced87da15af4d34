"""The scenario map: year A and year B side by side, in sync, with the change between them.

The left map shows the network of year A, the right one the network of year B and the change
layers: the travel-time saving (car) to Hà Nội and to the Hải Phòng seaport of every road-side
node (circle markers) and of every province (population-weighted, a choropleth), coloured by
the same classes of hours.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from corridors.layers import read_layer
from corridors.maps.assets import use_libraries
from corridors.maps.geo import collection, features
from corridors.maps.network import add_network
from corridors.maps.page import BIND_FEATURE, MapLabel, Page
from corridors.maps.places import (
    AREA_DECIMALS,
    AREA_TOLERANCE,
    add_places,
    add_province_outline,
    popup_table,
)
from corridors.maps.style import (
    DESTINATIONS,
    box_svg,
    fmt,
    icon_svg,
    saving_bins_labels,
    saving_colour,
)
from folium.plugins import DualMap

if TYPE_CHECKING:
    from corridors.analysis.results import RunResults

#: The destinations of the change layers.
CHANGE_DESTINATIONS = ("ha_noi", "hai_phong_seaport")
#: With more nodes than this (an OSM extract of the region; the embedded network has under
#: 2,000), the saving by node keeps every place and gate but, of the road junctions, one per
#: cell of :data:`REGION_NODE_CELL_DEG` degrees: the one that saves most (the page says so).
REGION_SCALE_NODES = 20_000
REGION_NODE_CELL_DEG = 0.05


def _thin_nodes(frame: gpd.GeoDataFrame, junction) -> gpd.GeoDataFrame:
    """Keep the non-junctions, and per grid cell the junction that saves most (see above)."""
    x, y = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
    cell = pd.DataFrame({"cx": np.floor(x / REGION_NODE_CELL_DEG),
                         "cy": np.floor(y / REGION_NODE_CELL_DEG),
                         "s": np.nan_to_num(frame["s"].to_numpy(dtype=float), nan=-np.inf)})
    best = cell[junction].sort_values("s", ascending=False, kind="stable")
    best = best[~best.duplicated(["cx", "cy"])].index
    keep = ~junction
    keep[best] = True
    return frame[keep]


def select_years(results: RunResults, years=None) -> tuple[int, int]:
    """Return the two years a map compares, checked against the run.

    Parameters
    ----------
    results : corridors.analysis.results.RunResults
    years : (int, int), optional
        Default: the run's years.

    Raises
    ------
    LookupError
        If a year is not one of the run, with the years it holds.
    """
    if years is None:
        return results.years
    years = tuple(int(y) for y in years)
    if len(years) != 2:
        raise ValueError(f"give two years to compare, not {len(years)}")
    valid = [int(y) for y in results.years]
    bad = [y for y in years if y not in valid]
    if bad:
        raise LookupError(f"year {bad[0]} is not in these results; valid years: "
                          f"{', '.join(map(str, sorted(set(valid))))} (compute others with "
                          "corridors map --compare A B)")
    return years


def add_node_savings(page: Page, m: folium.Map, results: RunResults, dest: str, show: bool) -> int:
    """Add the saving to one destination of every node, as coloured circle markers."""
    ns = results.node_savings
    la, lb = results.labels
    cols = {"ta": f"time_h_{la}_to_{dest}", "tb": f"time_h_{lb}_to_{dest}",
            "s": f"saving_h_to_{dest}", "pct": f"saving_pct_to_{dest}"}
    if ns.empty or any(c not in ns.columns for c in cols.values()):
        frame = gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs="EPSG:4326")
    else:
        frame = gpd.GeoDataFrame(
            {"label": [n if isinstance(n, str) and n else k
                       for n, k in zip(ns["name"], ns["kind"], strict=True)],
             **{k: ns[c].to_numpy() for k, c in cols.items()}},
            geometry=ns.geometry.to_numpy(), crs=ns.crs)
        if len(frame) > REGION_SCALE_NODES:
            before = len(frame)
            frame = _thin_nodes(frame, (ns["kind"] == "junction").to_numpy())
            page.note(f"Saving to {DESTINATIONS[dest]} by node: {before:,} nodes, drawn at "
                      f"region scale: every place and gate, and of the road junctions one per "
                      f"{REGION_NODE_CELL_DEG:g}° cell, the one that saves most "
                      f"({len(frame):,} circles).")
    feats = features(frame, lambda r: {
        "s": round(float(r.s), 3),
        "tip": f"{escape(str(r.label))}: {fmt(r.ta)} → {fmt(r.tb)} h, saves {fmt(r.s)} h "
               f"({fmt(r.pct, 1)} %)"})
    fg = page.group(m, f"Saving to {DESTINATIONS[dest]} by node (h; hover: time {la} → {lb})",
                    len(feats), show=show, empty="no node reached in both years")
    if feats:
        folium.GeoJson(
            collection(feats),
            style_function=lambda f: {
                "color": "#333333", "weight": 0.6, "fill": True, "fillOpacity": 0.9,
                "fillColor": saving_colour(f["properties"]["s"]),
                "radius": 3 if saving_colour(f["properties"]["s"]) == "#d9d9d9" else 5.5},
            marker=folium.CircleMarker(radius=4), on_each_feature=BIND_FEATURE).add_to(fg)
    return len(feats)


def add_province_savings(page: Page, m: folium.Map, results: RunResults, dest: str,
                         show: bool) -> int:
    """Add the population-weighted saving of every province (July 2025 edition)."""
    la, lb = results.labels
    table = results.analyses.tables["savings_provinces"]
    table = table[(table["edition"].astype(str) == "2025") & (table["destination"] == dest)]
    by_name = table.set_index("province")
    frame = read_layer("provinces_2025")

    def props(r):
        if r.name not in by_name.index:
            return {"s": None, "tip": f"<b>{escape(r.name)}</b>: no data"}
        t = by_name.loc[r.name]
        rows = [(f"time {la}", fmt(t.get(f"time_h_{la}"), 2, "h")),
                (f"time {lb}", fmt(t.get(f"time_h_{lb}"), 2, "h")),
                ("saving", f"{fmt(t['saving_h'], 2, 'h')} ({fmt(t['saving_pct'], 1, '%')})"),
                ("people", fmt(t["people"], 0))]
        return {"s": round(float(t["saving_h"]), 3),
                "tip": f"<b>{escape(r.name)}</b>: saves {fmt(t['saving_h'], 2, 'h')} to "
                       f"{escape(DESTINATIONS[dest])}",
                "popup": popup_table(rows, f"{escape(r.name)} → {escape(DESTINATIONS[dest])} "
                                           "(population-weighted, car)")}

    feats = features(frame, props, AREA_TOLERANCE, AREA_DECIMALS)
    fg = page.group(m, f"Saving to {DESTINATIONS[dest]} by province (h)", len(feats),
                    show=show, empty="no province time in this run")
    if feats:
        folium.GeoJson(
            collection(feats),
            style_function=lambda f: {
                "color": "#555555", "weight": 1, "fillOpacity": 0.6,
                "fillColor": saving_colour(f["properties"]["s"])
                if f["properties"]["s"] is not None else "#ffffff"},
            on_each_feature=BIND_FEATURE).add_to(fg)
    return len(feats)


def make_scenario_map(results: RunResults, *, years=None, offline: bool = True,
                      tiles: bool | None = None) -> folium.Map:
    """Return the scenario map (two synchronised maps and the change layers).

    Parameters
    ----------
    results : corridors.analysis.results.RunResults
    years : (int, int), optional
        The years of the left and right maps (default: the run's).
    offline : bool
        Embed the map libraries (no CDN).
    tiles : bool, optional
        Draw OpenStreetMap tiles (default: only when not offline).

    Returns
    -------
    folium.Map
        The left map (year A). Its figure holds both maps and the
        :class:`folium.plugins.DualMap` that syncs them: a notebook shows the whole page the
        toolkit writes, which :func:`corridors.maps.render_map` returns as HTML
        (:class:`maps.page.PageFigure`).

    Raises
    ------
    LookupError
        If a year is not one of the run.
    """
    year_a, year_b = select_years(results, years)
    label = {int(y): lab for y, lab in zip(results.years, results.labels, strict=True)}
    la, lb = label[year_a], label[year_b]
    ra, rb = results.labels
    page = Page(results, f"Scenario map: {la} beside {lb}",
                f"left: network {la}; right: network {lb} and the travel-time saving "
                f"{ra} → {rb} (car) · scenario {results.scenario.name} · the two maps move "
                "together", offline=offline, tiles=(not offline) if tiles is None else tiles,
                legend_at_right=True, title_bar=True,
                popup_clear=((60, 110), (60, 150)))
    if year_a == year_b:
        page.note(f"Both sides show {la}: the run compares a year with itself.")
    opts = page.map_options()
    dual = DualMap(layout="horizontal", **opts)
    use_libraries(dual, js=("leaflet_sync",), css=())
    for m in (dual.m1, dual.m2):
        page.setup(m)
    page.adopt(dual.m1, dual.m2, dual)  # in folium's order: the maps, then the sync
    m1, m2 = dual.m1, dual.m2
    MapLabel(escape(la)).add_to(m1)
    MapLabel(f"{escape(lb)} <span style='font-weight:normal;font-size:12px'>and the change "
             f"{escape(ra)} → {escape(rb)}</span>").add_to(m2)
    for m in (m1, m2):
        add_province_outline(page, m)
    for dest in CHANGE_DESTINATIONS:
        add_province_savings(page, m2, results, dest, show=dest == "ha_noi")
    for m, year in ((m1, year_a), (m2, year_b)):
        add_network(page, m, results.builds[year].tables.edges, label[year], folded=True)
    for dest in CHANGE_DESTINATIONS:
        add_node_savings(page, m2, results, dest, show=dest == "ha_noi")
    add_places(page, m2, results.builds[year_b].catalog, kinds=("border_gate",), show=(),
               folded=True)
    page.legend(f"Travel-time saving {ra} → {rb}, car (h); circles: nodes, areas: "
                "provinces (population-weighted)",
                [(box_svg(c), lab) for c, lab in saving_bins_labels()])
    page.legend("Markers", [(icon_svg("circle", "#6baed6", "", 12, "#333"),
                             "road-side node (junction, gate, town, port)")], folded=True)
    for m in (m1, m2):  # collapsed: two expanded lists would hide half of each map
        folium.LayerControl(collapsed=True).add_to(m)
    return dual.m1
