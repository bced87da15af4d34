"""Static maps (PNG) for reports and slides: the plan, and the change to Hà Nội between years.

Drawn with matplotlib (its object interface, without pyplot's global state) in WGS 84 / UTM
zone 48N, so that the scale bar is true; each carries a title, a legend, a scale bar, a north
arrow, the data attribution and the run's provenance.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
from corridors.layers import read_layer
from corridors.maps.network import domestic_links
from corridors.maps.plan import mapped_projects, project_modes, unmapped_projects
from corridors.maps.style import (
    MODE_COLOURS,
    MODE_LABELS,
    NETWORK_LAYERS,
    PLACE_KINDS,
    SAVING_BINS_H,
    SAVING_COLOURS,
    STATUS_LABELS,
    saving_bins_labels,
)
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrow, Patch, Rectangle
from shapely.geometry import Point

from corridors.core.constants import METRIC_CRS

if TYPE_CHECKING:
    from matplotlib.typing import LineStyleType

    from corridors.analysis.results import RunResults

#: The CRS of the static maps: the project's metric CRS (UTM zone 48N, metres).
CRS = METRIC_CRS
DPI = 130
#: Matplotlib line styles of the project statuses.
STATUS_LINESTYLE: dict[str, LineStyleType] = {
    "open": "-", "under_construction": (0, (6, 3)), "planned": (0, (3, 3)),
    "study": (0, (1, 3)), "unknown": (0, (7, 2, 1, 2))}
#: Matplotlib markers of the place kinds.
PLACE_MARKERS = {"border_gate": "D", "bgez": "s", "dry_port": "s", "seaport": "o",
                 "river_port": "o", "airport": "^", "city": "."}


def _dash(dash: str | None):
    if not dash:
        return "-"
    return (0, tuple(float(x) / 1.5 for x in dash.split()))


def _frame(ax, results: RunResults, title: str, subtitle: str) -> None:
    """Title, scale bar, north arrow, attribution and provenance of a static map."""
    fig = ax.figure
    fig.suptitle(title, fontsize=15, fontweight="bold", x=0.02, ha="left", y=0.985)
    fig.text(0.02, 0.94, subtitle, fontsize=9.5, ha="left", color="#333333")
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = 100_000  # m
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    h = 0.008 * (y1 - y0)
    for i in range(4):
        ax.add_patch(Rectangle((bx + i * length / 4, by), length / 4, h, zorder=20,
                               facecolor="black" if i % 2 == 0 else "white",
                               edgecolor="black", linewidth=0.8))
    for i, label in ((0, "0"), (2, "50"), (4, "100 km")):
        ax.text(bx + i * length / 4, by + 2.2 * h, label, ha="center", fontsize=8, zorder=20)
    nx, ny = x0 + 0.05 * (x1 - x0), y1 - 0.16 * (y1 - y0)
    ax.add_patch(FancyArrow(nx, ny, 0, 0.07 * (y1 - y0), width=0.008 * (x1 - x0),
                            head_width=0.025 * (x1 - x0), head_length=0.03 * (y1 - y0),
                            color="black", zorder=20))
    ax.text(nx, ny + 0.11 * (y1 - y0), "N", ha="center", fontsize=13, fontweight="bold",
            zorder=20)
    p = results.provenance
    prov = (f"{p.get('toolkit', '')} · run {p.get('date', '')} · years "
            f"{' → '.join(map(str, p.get('years', [])))} · scenario {p.get('scenario', '')} · "
            f"network: {p.get('network_source', '')} · projection: WGS 84 / UTM 48N")
    attribution = textwrap.fill("Data: " + p.get("attribution", ""), 190)
    fig.text(0.02, 0.012, prov + "\n" + attribution, fontsize=6.5, ha="left", va="bottom",
             color="#333333")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_aspect("equal")


def _base(ax, extent_from) -> None:
    provinces = read_layer("provinces_2025").to_crs(CRS)
    provinces.plot(ax=ax, facecolor="#f5f5f0", edgecolor="#8c8c8c", linewidth=0.6, zorder=1)
    read_layer("border").to_crs(CRS).plot(ax=ax, color="#3f007d", linewidth=1.4,
                                          linestyle=(0, (6, 2, 1, 2)), zorder=2)
    x0, y0, x1, y1 = (extent_from if extent_from is not None else provinces).total_bounds
    pad = 0.03 * (x1 - x0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_facecolor("#dfe8ee")


def _network(ax, edges, classes=None, alpha: float = 1.0) -> list:
    links = domestic_links(edges).to_crs(CRS)  # Vietnam's
    handles = []
    for mode, cls, label, _shown, colour, weight, dash in NETWORK_LAYERS:
        if classes and label not in classes:
            continue
        part = links[links["mode"].eq(mode) & links["class"].isin(cls)]
        if part.empty:
            continue
        part.plot(ax=ax, color=colour, linewidth=weight * 0.55, linestyle=_dash(dash),
                  alpha=alpha, zorder=3)
        handles.append(Line2D([], [], color=colour, linewidth=weight * 0.55,
                              linestyle=_dash(dash), alpha=alpha, label=label))
    return handles


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=DPI, facecolor="white")
    return path


def plan_png(results: RunResults, path: Path) -> Path:
    """Draw the plan map (network of year A, projects by mode and status, places) to a PNG."""
    year_a, year_b = results.years
    la = results.labels[0]
    catalog = results.builds[year_b].catalog
    fig = Figure(figsize=(13, 8))
    ax = fig.add_axes((0.01, 0.085, 0.74, 0.82))
    _base(ax, None)
    net = _network(ax, results.builds[year_a].tables.edges,
                   ("Expressways", "National roads", "Provincial roads",
                    "Railways, metre gauge", "Railways, dual gauge",
                    "Railways, standard gauge", "Inland waterways"))
    mode_handles, status_seen = [], set()
    for mode in project_modes(catalog):
        items = mapped_projects(catalog, mode)
        if not items:
            continue
        colour = MODE_COLOURS.get(mode, "#333333")
        mode_handles.append(Line2D([], [], color=colour, linewidth=2.5,
                                   label=f"projects: {MODE_LABELS.get(mode, mode)}"))
        frame = gpd.GeoDataFrame({"p": items}, geometry=[p.geometry for p in items],
                                 crs="EPSG:4326").to_crs(CRS)
        for p, geom in zip(frame["p"], frame.geometry, strict=True):
            status_seen.add(p.status_2025)
            if geom.geom_type == "Point":
                solid = p.status_2025 in ("open", "under_construction")
                ax.scatter([geom.x], [geom.y], s=60, marker="o", linewidths=1.6, zorder=6,
                           facecolors=colour if solid else "none", edgecolors=colour)
                at = geom
            else:
                xs, ys = geom.xy
                ax.plot(xs, ys, color=colour, linewidth=2.4, zorder=5,
                        linestyle=STATUS_LINESTYLE.get(p.status_2025, "-"))
                at = geom.interpolate(0.5, normalized=True)
            ax.annotate(str(p.open_year), (at.x, at.y), fontsize=6.5, ha="center",
                        va="center", zorder=8, xytext=(0, 7), textcoords="offset points",
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": colour,
                              "lw": 0.6, "alpha": 0.85})
    status_handles = [Line2D([], [], color="#555555", linewidth=2, linestyle=STATUS_LINESTYLE[s],
                             label=f"status 2025: {STATUS_LABELS[s]}")
                      for s in STATUS_LINESTYLE if s in status_seen]
    place_handles = []
    places = catalog.places_frame().to_crs(CRS)
    for kind, (label, _shape, colour, _letter) in PLACE_KINDS.items():
        part = places[places["kind"] == kind]
        if part.empty:
            continue
        size = 14 if kind == "city" else 34
        ax.scatter(part.geometry.x, part.geometry.y, s=size, marker=PLACE_MARKERS[kind],
                   color=colour, edgecolors="white", linewidths=0.6, zorder=7)
        place_handles.append(Line2D([], [], linestyle="none", marker=PLACE_MARKERS[kind],
                                    color=colour, markersize=7, label=label))
        if kind == "city":
            for name, g in zip(part["name_vi"], part.geometry, strict=True):
                ax.annotate(name, (g.x, g.y), fontsize=6, xytext=(3, -7), zorder=7,
                            textcoords="offset points", color="#252525")
    not_mapped = len(unmapped_projects(catalog))
    _frame(ax, results, "Transport plan — Northern Midlands and Mountains",
           f"Network as it stands in {la}; planned projects by mode and status in 2025, "
           f"labelled with their planned opening year (scenario {results.scenario.name}). "
           f"{not_mapped} programmes without an alignment are not mapped.")
    handles = ([Patch(facecolor="#f5f5f0", edgecolor="#8c8c8c",
                      label="provinces (since 1 July 2025)"),
                Line2D([], [], color="#3f007d", linestyle=(0, (6, 2, 1, 2)),
                       label="international border")]
               + net + mode_handles + status_handles + place_handles)
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.76, 0.91), fontsize=8,
               frameon=True, title=f"Legend (network {la})", title_fontsize=9)
    return _save(fig, path)


def change_png(results: RunResults, path: Path, dest: str = "ha_noi") -> Path:
    """Draw the travel-time saving (car) to a destination between the run's years to a PNG."""
    la, lb = results.labels
    fig = Figure(figsize=(13, 8))
    ax = fig.add_axes((0.01, 0.085, 0.74, 0.82))
    _base(ax, None)
    cmap = ListedColormap(list(SAVING_COLOURS))
    bounds = [-1e9, *SAVING_BINS_H[1:], 1e9]
    norm = BoundaryNorm(bounds, cmap.N)
    sp = results.analyses.tables["savings_provinces"]
    sp = sp[(sp["edition"].astype(str) == "2025") & (sp["destination"] == dest)]
    provinces = read_layer("provinces_2025").merge(sp[["province", "saving_h"]], how="left",
                                                   left_on="name", right_on="province")
    provinces = provinces.to_crs(CRS)
    provinces.plot(ax=ax, column="saving_h", cmap=cmap, norm=norm, edgecolor="#555555",
                   linewidth=0.7, alpha=0.75, zorder=2, missing_kwds={"color": "white"})
    net = _network(ax, results.builds[results.years[1]].tables.edges,
                   ("Expressways", "National roads"), alpha=0.55)
    ns = results.node_savings
    col = f"saving_h_to_{dest}"
    if not ns.empty and col in ns.columns:
        pts = ns.to_crs(CRS)
        values = pts[col].to_numpy(dtype=float)
        order = np.argsort(values)
        sizes = np.where(values > SAVING_BINS_H[1], 22, 6)
        ax.scatter(pts.geometry.x.to_numpy()[order], pts.geometry.y.to_numpy()[order],
                   c=values[order], cmap=cmap, norm=norm, s=sizes[order], edgecolors="#333333",
                   linewidths=0.3, zorder=6)
    capital = [p for p in results.builds[results.years[1]].catalog.places.values()
               if p.id == "city_ha_noi"]
    if capital and dest == "ha_noi":
        g = gpd.GeoSeries([Point(capital[0].lon, capital[0].lat)], crs="EPSG:4326").to_crs(CRS)
        ax.scatter(g.x, g.y, marker="*", s=220, color="#e31a1c", edgecolors="black", zorder=9)
        ax.annotate("Hà Nội", (g.x.iloc[0], g.y.iloc[0]), xytext=(8, -4), fontsize=9,
                    fontweight="bold", textcoords="offset points", zorder=9)
    _frame(ax, results, f"Travel time to Hà Nội saved, {la} → {lb} (car)",
           "Circles: road-side nodes; areas: provinces since 1 July 2025, population-weighted "
           f"saving; scenario {results.scenario.name}.")
    handles = [Patch(facecolor=c, edgecolor="#555555", label=lab)
               for c, lab in saving_bins_labels()]
    handles += net + [Line2D([], [], linestyle="none", marker="*", color="#e31a1c",
                             markersize=11, label="Hà Nội")]
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.76, 0.91), fontsize=8.5,
               title="Time saved (h, car)", title_fontsize=9.5, frameon=True)
    return _save(fig, path)


#: Static map file names and the functions drawing them.
STATIC_MAPS = {"plan.png": plan_png, "change.png": change_png}
