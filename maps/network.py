"""The network of one year as map layers: roads by class, railways by gauge, waterways, air.

Each link is drawn once (the network tables hold one row per direction of travel); transfer
edges (access to stations, ports and airports) are not drawn. Hovering a link shows its name,
class, length and car speed. The roads and railways beyond the border (China, Laos:
:mod:`network.crossings`) are one layer of their own, "Across the border", so that Vietnam's
layers (a standard-gauge railway in 2025: none) keep their meaning; crossings and changes of
gauge are not drawn.

A network of an OSM extract of the whole region (more than :data:`REGION_SCALE_LINKS` links) is
drawn at region scale, and the page says so: the trunk roads (expressways, national and
provincial roads) as stretches of one road (links of the same ref, name, class and project that
meet end to end, merged) simplified in a metric CRS, and of the other roads only the connectors
and the catalog's links: hundreds of thousands of district and residential segments would make
a map of a hundred megabytes that no browser draws, and say nothing at the region's zoom. The
GeoPackage of the network holds every link.
"""

from __future__ import annotations

import weakref
from html import escape

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from corridors.maps.geo import collection, features, undirected_edges
from corridors.maps.page import BIND_FEATURE, Page
from corridors.maps.style import FOREIGN_LAYER, FOREIGN_STYLE, NETWORK_LAYERS, fmt, line_svg
from corridors.network.crossings import added_edges, foreign_edges
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from corridors.core.constants import METRIC_CRS

#: Simplification tolerance of network lines, degrees (about 100 m).
TOLERANCE = 0.001
#: A year's network with more links than this (one per road, both directions; the embedded
#: network has under 2,000) is drawn at region scale (module docstring).
REGION_SCALE_LINKS = 20_000
#: Road classes drawn whole at region scale, as stretches of one road.
REGION_CLASSES = ("expressway", "national", "provincial")
#: Simplification tolerance of region-scale roads, metres (under a pixel at zoom 8).
REGION_TOLERANCE_M = 100.0
#: Coordinate decimals of region-scale roads (1e-4 degrees: about 10 m).
REGION_DECIMALS = 4


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


#: The links of the last edge tables drawn (the maps of one run draw each year several times).
_LINKS: dict[int, tuple[weakref.ref, gpd.GeoDataFrame, dict]] = {}


def _cached(edges) -> tuple[gpd.GeoDataFrame, dict]:
    """Return the domestic links of an edge table (one row per link) and a cache beside them.

    Computed once per table while it lives (the last two tables are kept), not once per map.
    """
    hit = _LINKS.get(id(edges))
    if hit is None or hit[0]() is not edges:
        if len(_LINKS) >= 2:
            _LINKS.pop(next(iter(_LINKS)))
        hit = (weakref.ref(edges), undirected_edges(domestic(edges)), {})
        _LINKS[id(edges)] = hit
    return hit[1], hit[2]


def domestic_links(edges):
    """Return the links of the network in Vietnam, one row per link (cached per edge table)."""
    return _cached(edges)[0]


def foreign(edges):
    """Return the roads and railways beyond the border, one row per link."""
    e = edges[foreign_edges(edges).to_numpy()]
    return undirected_edges(e[e["mode"].isin(list(FOREIGN_STYLE))])


def _region_tip(row) -> str:
    name = " ".join(str(v) for v in (row.ref, row.name) if isinstance(v, str) and v)
    lo, hi = row.speed_min, row.speed_max
    speed = (f"car {fmt(lo, 0, 'km/h')}" if lo == hi
             else f"car {fmt(lo, 0)}–{fmt(hi, 0, 'km/h')}") if lo == lo else ""
    parts = [f"<b>{escape(name)}</b>" if name else "",
             f"{escape(str(row.mode))}, {escape(str(row.cls))}",
             f"{fmt(row.length_km, 1, 'km')} ({row.links} links)", speed]
    if isinstance(row.project, str) and row.project:
        parts.append(f"project {escape(row.project)}, opens {escape(str(row.open_year))}")
    return " · ".join(p for p in parts if p)


def stretches(links: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Merge links of one road into stretches: one row per run of links that meet end to end.

    Links of the same mode, class, ref, name, project and opening year that share a node form a
    stretch (a connected component); its geometry is their lines merged and simplified by
    :data:`REGION_TOLERANCE_M` in the metric CRS. Columns: ``mode``, ``cls``, ``ref``, ``name``,
    ``project``, ``open_year``, ``length_km`` (summed), ``links``, ``speed_min`` and
    ``speed_max`` (car, km/h), ``geometry`` (EPSG:4326).
    """
    cols = ["mode", "cls", "ref", "name", "project", "open_year"]
    if links.empty:
        return gpd.GeoDataFrame(columns=[*cols, "length_km", "links", "speed_min",
                                         "speed_max", "geometry"], geometry="geometry",
                                crs="EPSG:4326")
    key = pd.DataFrame({c: (links[c] if c in links else pd.Series(None, index=links.index))
                        .astype(object).to_numpy() for c in cols})
    group = key.fillna("").astype(str).groupby(cols, sort=False).ngroup().to_numpy()
    # nodes of the graph: (road, node id); the stretches are its connected components
    ends = pd.MultiIndex.from_arrays([np.concatenate([group, group]),
                                      np.concatenate([links["u"].to_numpy(),
                                                      links["v"].to_numpy()])])
    node, _ = pd.factorize(ends)
    m = len(links)
    n = int(node.max()) + 1
    graph = coo_matrix((np.ones(m), (node[:m], node[m:])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    stretch, first = pd.factorize(comp[node[:m]])  # numbered in order of first appearance
    order = np.argsort(stretch, kind="stable")
    geoms = shapely.multilinestrings(np.asarray(links.geometry.to_numpy())[order],
                                     indices=stretch[order])
    merged = gpd.GeoSeries(shapely.line_merge(geoms), crs=links.crs).to_crs(METRIC_CRS)
    merged = merged.simplify(REGION_TOLERANCE_M).to_crs("EPSG:4326")
    speed = (links["speed_kmh_car"].to_numpy(dtype=float) if "speed_kmh_car" in links
             else np.full(m, np.nan))
    agg = pd.DataFrame({"s": stretch, "length_km": links["length_km"].to_numpy(dtype=float),
                        "speed": speed}).groupby("s").agg(
        length_km=("length_km", "sum"), links=("length_km", "size"),
        speed_min=("speed", "min"), speed_max=("speed", "max"))
    firsts = key.iloc[np.unique(stretch, return_index=True)[1]].reset_index(drop=True)
    out = pd.concat([firsts, agg.reset_index(drop=True)], axis=1)
    return gpd.GeoDataFrame(out, geometry=merged.to_numpy(), crs="EPSG:4326")


def region_scale(links) -> bool:
    """Whether a network (one row per link) is drawn at region scale (module docstring)."""
    return len(links) > REGION_SCALE_LINKS


def _region_note(page: Page, links, year) -> None:
    """Say on the page that (and how) the network is drawn at region scale."""
    page.note(f"Network {year}: {len(links):,} links, drawn at region scale: expressways, "
              "national and provincial roads as stretches of one road (links of one ref, name "
              f"and class merged, simplified to {REGION_TOLERANCE_M:g} m); of the other roads "
              "only the connectors and the catalog's links. The network's GeoPackage holds "
              "every link.")


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
    links, cache = _cached(edges)
    links = links.rename(columns={"class": "cls"})
    region = region_scale(links)
    if region:
        _region_note(page, links, year)
    drawn = {}
    legend = []
    for mode, classes, label, shown, colour, weight, dash in NETWORK_LAYERS:
        if only and label not in only:
            continue
        part = links[links["mode"].eq(mode) & links["cls"].isin(classes)]
        if region and mode == "road":
            trunk = part["cls"].isin(REGION_CLASSES).to_numpy()
            drawn_rows = part[~trunk & (part["cls"].eq("connector")
                                        | part["source"].astype(str).str.startswith("catalog"))
                              .to_numpy()]
            if ("stretches", label) not in cache:
                cache[("stretches", label)] = stretches(part[trunk])
            feats = (features(cache[("stretches", label)], lambda r: {"tip": _region_tip(r)},
                              decimals=REGION_DECIMALS)
                     + features(drawn_rows, lambda r: {"tip": _tip(r)}, TOLERANCE))
        else:
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
