"""The plan map: the network, the catalog's projects, corridors, places and provinces."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
from corridors.maps.geo import collection, features
from corridors.maps.network import add_network
from corridors.maps.page import BIND_FEATURE, Page
from corridors.maps.places import add_places, add_provinces, popup_table
from corridors.maps.style import (
    CORRIDOR_KINDS,
    MODE_COLOURS,
    MODE_LABELS,
    STATUS_DASH,
    STATUS_LABELS,
    fmt,
    line_svg,
)

if TYPE_CHECKING:
    from corridors.analysis.results import RunResults

#: Corridor line colours by kind.
CORRIDOR_KIND_COLOURS = {"economic_corridor": "#f16913", "connection_chain": "#41ab5d",
                         "development_axis": "#807dba", "provincial_corridor": "#969696"}
#: Project layers are drawn in this order of modes; modes the catalog adds come after.
PROJECT_MODES = ("road", "rail", "waterway", "air", "dry_port")


def project_popup(p) -> str:
    """Return the popup of a catalog project: names, status, opening year and the plan's terms.

    Parameters
    ----------
    p : corridors.catalog.model.Project
    """
    plan = p.plan or {}
    year = f"{p.open_year}"
    if p.open_year_basis and p.open_year_basis != "plan":
        year += f" ({escape(str(p.open_year_basis))})"
    rows = [
        ("Tên", escape(p.name_vi)),
        ("mode, kind", escape(f"{p.mode}, {p.kind}" + (f", {p.category}" if p.category else ""))),
        ("status 2025", escape(STATUS_LABELS.get(p.status_2025, p.status_2025))),
        ("opens (model)", year),
        ("expected time (plan)", escape(str(plan.get("expected_time") or "–"))),
        ("presiding authority", escape(str(plan.get("presiding_authority") or "–"))),
        ("funding", escape(str(plan.get("funding") or "–"))),
    ]
    if p.length_km:
        rows.append(("length", fmt(p.length_km, 0, "km")))
    if plan.get("task"):
        rows.append(("task (plan)", escape(str(plan["task"]))))
    rows += [("source", escape(p.source)), ("id", escape(p.id))]
    return popup_table(rows, escape(p.name))


def project_modes(catalog) -> list[str]:
    """Return the modes of the project layers: the usual ones, then any other in the catalog."""
    extra = sorted({p.mode for p in catalog.projects.values()} - set(PROJECT_MODES))
    return [*PROJECT_MODES, *extra]


def mapped_projects(catalog, mode: str) -> list:
    """Return the projects of a mode that have a geometry (alignment or point)."""
    return [p for p in catalog.projects.values() if p.mode == mode and p.geometry is not None]


def unmapped_projects(catalog) -> list:
    """Return the projects without a geometry (programmes, unspecified network segments)."""
    return [p for p in catalog.projects.values() if p.geometry is None]


def _project_style(feature) -> dict:
    p = feature["properties"]
    colour = MODE_COLOURS.get(p["mode"], "#333333")
    status = p["status"]
    solid = status in ("open", "under_construction")
    return {"color": colour, "weight": 4 if p["line"] else 2.5, "opacity": 0.95,
            "fill": not p["line"],
            "dashArray": STATUS_DASH.get(status), "fillColor": colour,
            "fillOpacity": 0.85 if solid else 0.15, "radius": 8}


def add_projects(page: Page, m: folium.Map, catalog) -> dict[str, int]:
    """Add one layer of projects per mode, labelled with their opening year.

    Returns
    -------
    dict
        Layer name to the number of projects drawn.
    """
    drawn = {}
    for mode in project_modes(catalog):
        items = mapped_projects(catalog, mode)
        frame = gpd.GeoDataFrame(
            {"p": items, "geometry": [p.geometry for p in items]}, geometry="geometry",
            crs="EPSG:4326")
        feats = features(frame, lambda r: {
            "mode": r.p.mode, "status": r.p.status_2025, "id": r.p.id,
            "line": r.p.geometry.geom_type != "Point", "label": r.p.open_year,
            "popup": project_popup(r.p)})
        label = f"Projects: {MODE_LABELS.get(mode, mode)}"
        fg = page.group(m, label, len(feats),
                        empty=f"no {MODE_LABELS.get(mode, mode)} project with a location in "
                              "this run")
        if feats:
            folium.GeoJson(collection(feats), style_function=_project_style,
                           marker=folium.CircleMarker(radius=8),
                           on_each_feature=BIND_FEATURE).add_to(fg)
        drawn[fg.layer_name] = len(feats)
    modes = [(line_svg(MODE_COLOURS.get(md, "#333"), 4), MODE_LABELS.get(md, md))
             for md in project_modes(catalog)]
    status = [(line_svg("#555555", 3, dash), STATUS_LABELS[s]) for s, dash in STATUS_DASH.items()]
    page.legend("Projects: colour by mode", modes)
    page.legend("Projects: line by status in 2025 (points filled: open or building); "
                "label: opening year", status)
    return drawn


def unmapped_box(catalog) -> str:
    """Return the HTML listing the projects that have no location (not mapped)."""
    items = sorted(unmapped_projects(catalog), key=lambda p: (p.mode, p.open_year, p.id))
    if not items:
        return ""
    rows = "".join(
        f"<li><b>{escape(p.id)}</b> {escape(p.name)} ({escape(p.mode)}, "
        f"{escape(p.location_type.replace('_', ' '))}, opens {p.open_year})</li>"
        for p in items)
    return (f'<details id="corridors-not-mapped"><summary><b>Not mapped: {len(items)} '
            "programmes without an alignment</b></summary>"
            f'<ul style="margin:2px 0;padding-left:16px">{rows}</ul></details>')


def add_corridors(page: Page, m: folium.Map, catalog) -> dict[str, int]:
    """Add the economic corridors and axes of the catalog, drawn through their stops."""
    frame = catalog.corridors_frame()
    feats = features(frame, lambda r: {
        "kind": r.kind,
        "tip": f"<b>{escape(r.name)}</b> ({escape(CORRIDOR_KINDS.get(r.kind, r.kind))})",
        "popup": popup_table([("Tên", escape(r.name_vi)),
                              ("kind", escape(CORRIDOR_KINDS.get(r.kind, r.kind))),
                              ("stops", escape(r.stops)), ("source", escape(r.source)),
                              ("id", escape(r.id))], escape(r.name))})
    fg = page.group(m, "Economic corridors and axes", len(feats),
                    empty="no corridor in the catalog")
    if feats:
        folium.GeoJson(collection(feats), style_function=lambda f: {
            "color": CORRIDOR_KIND_COLOURS.get(f["properties"]["kind"], "#969696"),
            "weight": 9, "opacity": 0.35, "lineCap": "round"},
            on_each_feature=BIND_FEATURE).add_to(fg)
    kinds = sorted(set(frame["kind"]))
    page.legend("Corridors (catalog, straight between stops)",
                [(line_svg(CORRIDOR_KIND_COLOURS.get(k, "#969696"), 8, opacity=0.4),
                  CORRIDOR_KINDS.get(k, k)) for k in kinds])
    return {fg.layer_name: len(feats)}


def make_plan_map(results: RunResults, *, offline: bool = True, tiles: bool | None = None
                  ) -> folium.Map:
    """Return the plan map.

    Parameters
    ----------
    results : corridors.analysis.results.RunResults
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
    year_a, year_b = results.years
    catalog = results.builds[year_b].catalog
    edges = results.builds[year_a].tables.edges
    page = Page(results, "Transport plan — Northern Midlands and Mountains",
                f"network as it stands in {results.labels[0]}; the catalog's projects by mode "
                f"and status, labelled with their planned opening year · scenario "
                f"{results.scenario.name}", offline=offline,
                tiles=(not offline) if tiles is None else tiles)
    m = page.new_map()
    add_provinces(page, m)
    add_corridors(page, m, catalog)
    add_network(page, m, edges, results.labels[0])
    add_projects(page, m, catalog)
    add_places(page, m, catalog, show=("border_gate", "bgez", "dry_port", "seaport",
                                       "river_port", "airport", "city"))
    box = unmapped_box(catalog)
    if box:
        page.legend_blocks.append(box)
    folium.LayerControl(collapsed=False).add_to(m)
    return m
