"""GIS exports of a run: a styled GeoPackage, GeoTIFF surfaces and a QGIS project.

:func:`write_exports` writes, into one folder that can be moved or shared as a whole:

- ``corridors.gpkg``: the networks of both years (every attribute), the plan (projects, project
  sites, programmes without geometry, corridors, places, BGEZs), gate access, isochrones, the
  provinces of both editions, the comparison tables joined to geometry (savings per node, gate,
  corridor and province), the critical links, what lies across the border (the international
  routes, the foreign roads and railways, each gate's catchment of foreign cities), and a
  ``provenance`` table; each layer's style in
  the ``layer_styles`` table, so QGIS applies it when the layer is added;
- ``time_to_gate_<year>.tif`` and ``time_to_gate_saving_<A>_<B>.tif``: hours (car) to the
  nearest border gate and their difference, on the grid of :mod:`corridors.analysis.surfaces`;
- ``corridors.qgz``: a QGIS project opening every layer by relative path, grouped by theme and
  scenario, points over lines over polygons over rasters, with attribution and provenance in its
  metadata;
- ``README.txt``: layers, feature counts, units, CRS, attribution and provenance.

Layers are in WGS 84 (EPSG:4326) or VN-2000 / UTM zone 48N (EPSG:3405). Everything is written to
a temporary folder inside the output folder and moved into place only when all was written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS
from rasterio.transform import array_bounds

from corridors.analysis.results import RunResults
from corridors.analysis.surfaces import CELL_DEG
from corridors.core.version import __version__
from corridors.layers.rasters import NODATA, to_crs, write_geotiff
from corridors.layers.region import read_layer
from corridors.network.schema import RAIL_CLASSES, ROAD_CLASSES, TRANSFER_CLASSES
from corridors.outputs.gpkg_styles import geometry_type, write_layer_styles, write_layers
from corridors.outputs.qgis_project import Group, MapLayer, ProjectInfo, project_document, write_qgz
from corridors.outputs.qml import (
    Symbol,
    categorized_renderer,
    graduated_renderer,
    labeling_element,
    raster_qml,
    single_renderer,
    vector_qml,
)

#: The CRSs an export may be written in.
EXPORT_CRS = {"EPSG:4326": "WGS 84", "EPSG:3405": "VN-2000 / UTM zone 48N"}
#: Cell size of the rasters reprojected to EPSG:3405 (metres).
METRIC_CELL_M = 2000.0
GPKG_NAME = "corridors.gpkg"
PROJECT_NAME = "corridors.qgz"
README_NAME = "README.txt"

# ---------------------------------------------------------------------------------------------
# layers


@dataclass
class ExportLayer:
    """One layer of the GeoPackage.

    Attributes
    ----------
    name : str
    frame : pandas.DataFrame
        A GeoDataFrame (EPSG:4326) unless ``kind`` is None.
    kind : {"point", "line", "polygon"} or None
        None for a table without geometry.
    description : str
        What a feature is, with the units of its main columns.
    note : str
        Why the layer is empty, where it is.
    """

    name: str
    frame: pd.DataFrame
    kind: str | None
    description: str
    note: str = ""


def clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a frame the GeoPackage can hold without surprises.

    Columns of Python objects become numbers when every value is a number, else text (strings
    are never parsed: ``"2030"`` stays text); ``±inf`` becomes NULL (the tables use it for "no
    route"); duplicated column names keep their first column; a named index becomes a column.
    """
    out = frame.reset_index() if frame.index.name else frame.reset_index(drop=True)
    out = out.loc[:, ~out.columns.duplicated()].copy()
    geom = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    for col in out.columns:
        s = out[col]
        if col == geom or pd.api.types.is_bool_dtype(s) or pd.api.types.is_integer_dtype(s):
            continue
        if pd.api.types.is_float_dtype(s):
            out[col] = s.where(np.isfinite(s))
        elif isinstance(s.dtype, pd.StringDtype):  # text already: missing values become None
            out[col] = s.astype(object).where(s.notna(), None)
        elif all(_is_number(v) for v in s if not _missing(v)) and s.notna().any():
            values = s.astype(float)
            out[col] = values.where(np.isfinite(values))
        else:
            out[col] = pd.Series([None if _missing(v) else str(v) for v in s], index=s.index,
                                 dtype=object)
    return out


def _is_number(value) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool)


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def _points(places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return places[["id", "geometry"]]


def _join_points(table: pd.DataFrame, places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Join a table with an ``id`` column to the catalog points (rows without one dropped)."""
    merged = _points(places).merge(table, on="id", how="inner")
    cols = [c for c in merged.columns if c != "geometry"] + ["geometry"]
    return gpd.GeoDataFrame(merged[cols], geometry="geometry", crs="EPSG:4326")


def _outside(results: RunResults) -> set[str]:
    return {i for b in results.builds.values() for i in (b.outside or [])}


def network_layers(results: RunResults) -> list[ExportLayer]:
    """Return ``nodes_<year>`` and ``edges_<year>`` of each year of the run."""
    out = []
    for year in sorted(results.builds):
        t = results.builds[year].tables
        label = _label(results, year)
        out.append(ExportLayer(
            f"nodes_{year}", t.nodes, "point",
            f"network nodes of {label}: junctions, gates, stations, ports, dry ports, "
            "airports and places (x, y in degrees)"))
        out.append(ExportLayer(
            f"edges_{year}", t.edges, "line",
            f"network links of {label}, one per direction of travel: mode, class, length_km "
            "(km), speed_kmh_car/_truck (km/h), time_h_car/_truck (hours), cost_vnd_truck "
            "(VND per TEU), source, project, open_year"))
    return out


def plan_layers(results: RunResults) -> list[ExportLayer]:
    """Return the catalog layers: projects, project sites, programmes, corridors, places, BGEZs.

    The plan is exported whole; ``outside_extract`` is True for the items an OSM extract left
    out of the network (``BuildResult.outside``).
    """
    cat = results.builds[results.years[1]].catalog
    outside = _outside(results)

    def mark(frame):
        return frame.assign(outside_extract=frame["id"].isin(outside))

    projects = mark(cat.projects_frame(include_existing=True))
    has_geom = projects.geometry.notna() & ~projects.geometry.is_empty
    lines = projects[has_geom & projects.geom_type.isin(["LineString", "MultiLineString"])]
    sites = projects[has_geom & projects.geom_type.isin(["Point", "MultiPoint"])]
    places = mark(cat.places_frame())
    return [
        ExportLayer("projects", lines, "line", "catalog projects and existing trunk links "
                    "with an alignment: mode, kind, status_2025, open_year, length_km (km)"),
        ExportLayer("project_sites", sites, "point", "catalog projects and links located at "
                    "a point (airports, dry ports, ports): mode, kind, status_2025, open_year"),
        ExportLayer("programmes", pd.DataFrame(projects[~has_geom].drop(columns="geometry")),
                    None, "catalog programmes and network references without a geometry of "
                    "their own (not drawn)"),
        ExportLayer("corridors", mark(cat.corridors_frame()), "line", "economic corridors as "
                    "straight lines through their ordered stops"),
        ExportLayer("places", places, "point", "catalog places: border gates, BGEZs, dry "
                    "ports, ports, airports, cities and towns"),
        ExportLayer("bgez", places[places["kind"] == "bgez"], "point",
                    "border-gate economic zones (BGEZs)"),
    ]


def gate_layers(results: RunResults, places: gpd.GeoDataFrame) -> list[ExportLayer]:
    """Return gate access joined to the gate and BGEZ points, and the isochrones."""
    gates = _join_points(results.analyses.tables["gate_access"], places)
    empty = "no border gate or BGEZ in the network"
    return [
        ExportLayer("gates", gates, "point", "access of every border gate and BGEZ per "
                    "scenario and profile: time_h_to_<destination> (hours), "
                    "length_km_to_<destination> (km), people_within_<n>h (persons)",
                    empty if gates.empty else ""),
        ExportLayer("isochrones", results.isochrones, "polygon", "area reached from each "
                    "gate and BGEZ within cutoff_h hours (car), per scenario; area_km2 (km²)",
                    empty if results.isochrones.empty else ""),
    ]


def _routes_of(results: RunResults) -> gpd.GeoDataFrame:
    routes = results.analyses.tables["corridor_routes"]
    routes = routes[routes["scenario"] == results.labels[1]]
    return routes[["id", "profile", "geometry"]]


def _province_savings(table: pd.DataFrame, edition: str, labels) -> gpd.GeoDataFrame:
    """Return one polygon per province of an edition with its savings to each destination."""
    polys = read_layer(f"provinces_{edition}")[["name", "geometry"]]
    rows = table[table["edition"].astype(str) == edition]
    out = polys.rename(columns={"name": "province"})
    people = rows.groupby("province")["people"].first() if len(rows) else pd.Series()
    out["people"] = out["province"].map(people)
    for dest in ("ha_noi", "hai_phong_seaport"):
        d = rows[rows["destination"] == dest].set_index("province")
        value_cols = {f"time_h_{labels[0]}": f"time_h_{labels[0]}_to_{dest}",
                      f"time_h_{labels[1]}": f"time_h_{labels[1]}_to_{dest}",
                      "saving_h": f"saving_h_to_{dest}", "saving_pct": f"saving_pct_to_{dest}"}
        for src, dst in value_cols.items():
            out[dst] = out["province"].map(d[src]) if src in d else np.nan
    cols = [c for c in out.columns if c != "geometry"] + ["geometry"]
    return gpd.GeoDataFrame(out[cols], geometry="geometry", crs="EPSG:4326")


def change_layers(results: RunResults, places: gpd.GeoDataFrame) -> list[ExportLayer]:
    """Return the comparison tables joined to geometry (nodes, gates, corridors, provinces)."""
    t = results.analyses.tables
    la, lb = results.labels
    corridors = _routes_of(results).merge(t["savings_corridors"], on=["id", "profile"],
                                          how="right")
    corridors = gpd.GeoDataFrame(corridors, geometry="geometry", crs="EPSG:4326")
    gates = _join_points(t["savings_gates"], places)
    saving = f"saving_h = time in {la} − time in {lb} (hours, positive when faster in {lb})"
    out = [
        ExportLayer("savings_nodes", results.node_savings, "point", "road-side nodes with "
                    f"their times in {la} and {lb} (hours, car) to Hà Nội, the seaport and "
                    "Nội Bài; " + saving.replace("saving_h", "saving_h_to_<destination>")),
        ExportLayer("savings_gates", gates, "point", "savings of every gate and BGEZ per "
                    "profile: saving_h_<destination> (hours), saving_pct_<destination> (%)",
                    "no border gate or BGEZ in the network" if gates.empty else ""),
        ExportLayer("savings_corridors", corridors, "line", f"corridor times in {la} and "
                    f"{lb} (hours) along the {lb} route; " + saving
                    + "; expressway_share (0–1)"),
    ]
    for edition in ("2024", "2025"):
        out.append(ExportLayer(
            f"savings_provinces_{edition}",
            _province_savings(t["savings_provinces"], edition, (la, lb)), "polygon",
            f"provinces ({edition} edition) with the population-weighted time (hours, car) of "
            f"their people to Hà Nội and the seaport in {la} and {lb}; "
            + saving.replace("saving_h", "saving_h_to_<destination>") + "; people (persons)"))
    return out


def resilience_layers(results: RunResults) -> list[ExportLayer]:
    """Return the critical links (per gate and destination) and their summary."""
    t = results.analyses.tables
    empty = "no border gate in the network"
    crit, summary = t["critical_links"], t["critical_links_summary"]
    return [
        ExportLayer("critical_links", crit, "line", "per scenario, gate and destination, the "
                    "road links whose closure delays it most: delay_h (hours; NULL with "
                    "disconnects = 1 where the closure cuts the gate off)",
                    empty if crit.empty else ""),
        ExportLayer("critical_links_summary", summary, "line", "per scenario, the region's "
                    "most critical links: gates_affected, gates_disconnected, max_delay_h and "
                    "total_delay_h (hours)", empty if summary.empty else ""),
    ]


def cross_border_layers(results: RunResults) -> list[ExportLayer]:
    """Return the international routes, the network beyond the border and the gate catchments.

    ``international_routes``: the ``international_od`` table (both years) with each route's line;
    ``foreign_network``: year B's roads and railways beyond the border, one row per link
    (:func:`network.crossings.foreign_edges`); ``gate_catchments``: each foreign city, at its
    place, with the gate it reaches Hà Nội through (rank 1 = fastest).
    """
    from corridors.network.crossings import foreign_edges

    t = results.analyses.tables
    empty = "no network across the border in this run (an OSM extract, or no cross_border.yaml)"
    od = t.get("international_od")
    if od is None or od.empty or not isinstance(od, gpd.GeoDataFrame):
        od = gpd.GeoDataFrame({"scenario": [], "mode": []}, geometry=[], crs="EPSG:4326")
    edges = results.builds[results.years[1]].tables.edges
    foreign = edges[foreign_edges(edges).to_numpy() & edges["mode"].isin(["road", "rail"])
                    .to_numpy()]
    foreign = foreign[foreign["u"] < foreign["v"]]  # one row per link (both directions exist)
    foreign = gpd.GeoDataFrame(foreign.reindex(columns=[
        "mode", "class", "name", "length_km", "open_year", "speed_kmh_car", "speed_kmh_truck",
        "time_h_car", "time_h_truck", "source", "geometry"]), geometry="geometry",
        crs="EPSG:4326")
    catalog = results.builds[results.years[1]].catalog
    catch = t.get("gate_catchments", pd.DataFrame())
    cities = gpd.GeoDataFrame(
        {"city": list(catalog.foreign),
         "name_local": [p.attrs.get("name_local", "") for p in catalog.foreign.values()],
         "country": [p.attrs.get("country", "") for p in catalog.foreign.values()]},
        geometry=gpd.points_from_xy([p.lon for p in catalog.foreign.values()],
                                    [p.lat for p in catalog.foreign.values()]), crs="EPSG:4326")
    if catch.empty:
        catch = pd.DataFrame({"city": pd.Series(dtype=str)})
    catch = cities.merge(catch, on="city", how="inner")
    return [
        ExportLayer("international_routes", od, "line", "per scenario, foreign origin "
                    "(Kunming, Nanning, Dongxing, Oudomxay), destination (Hà Nội, seaports, "
                    "BGEZs) and mode (road: truck; rail: rail freight, road as first and last "
                    "mile): time_h (hours), length_km, rail_km, road_km (km), cost_vnd_teu "
                    "(VND per TEU: handling, clearance, changes of gauge), gates (ids), "
                    "crossings, gauge_breaks", empty if od.empty else ""),
        ExportLayer("foreign_network", foreign, "line", "roads and railways beyond the "
                    "border (schematic, official lengths governing), one row per link: mode, "
                    "class (road class or gauge), length_km (km), time_h_car/_truck (hours)",
                    empty if foreign.empty else ""),
        ExportLayer("gate_catchments", catch, "point", "per scenario, every city beyond the "
                    "border and each gate it reaches Hà Nội through by truck: time_h (hours), "
                    "rank (1 = fastest), margin_h (hours to the next gate, rank 1)",
                    empty if catch.empty else ""),
    ]


def base_layers(results: RunResults) -> list[ExportLayer]:
    """Return the provinces of both editions and the provenance table."""
    prov = {**results.provenance, "export_toolkit": f"corridors {__version__}"}
    table = pd.DataFrame({"key": list(prov), "value": [
        v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in prov.values()]})
    return [
        ExportLayer("provinces_2024", read_layer("provinces_2024"), "polygon",
                    "the 21 provinces of the study, boundaries before 1 July 2025"),
        ExportLayer("provinces_2025", read_layer("provinces_2025"), "polygon",
                    "the merged provinces in force since 1 July 2025"),
        ExportLayer("provenance", table, None, "how the run was made: toolkit, date, years, "
                    "scenario, network source, input hashes, attribution"),
    ]


def export_layers(results: RunResults) -> list[ExportLayer]:
    """Return every layer of the GeoPackage, cleaned, in EPSG:4326."""
    places = results.builds[results.years[1]].catalog.places_frame()
    layers = (network_layers(results) + plan_layers(results) + gate_layers(results, places)
              + change_layers(results, places) + resilience_layers(results)
              + cross_border_layers(results) + base_layers(results))
    for layer in layers:
        layer.frame = clean(layer.frame)
    return layers


def _label(results: RunResults, year: int) -> str:
    return str(year) if results.scenario.name == "base" else f"{year} {results.scenario.name}"


# ---------------------------------------------------------------------------------------------
# styles

#: Colour, width (mm) and line style of network links by class.
EDGE_STYLE = {
    "expressway": ("#c51b7d", 1.2, "solid"), "national": ("#e66101", 0.8, "solid"),
    "provincial": ("#f1a340", 0.5, "solid"), "district": ("#b2abd2", 0.35, "solid"),
    "local": ("#cccccc", 0.25, "solid"), "link": ("#e66101", 0.3, "solid"),
    "connector": ("#969696", 0.25, "dash"),
    "metre": ("#404040", 0.5, "dash"), "dual": ("#000000", 0.7, "dash"),
    "standard": ("#542788", 0.9, "solid"), "river": ("#2c7fb8", 0.8, "solid"),
    "air": ("#807dba", 0.3, "dot"),
    **{c: ("#737373", 0.2, "dot") for c in TRANSFER_CLASSES},
}
#: Colour, size (mm) and shape of network nodes by kind.
NODE_STYLE = {
    "junction": ("#bdbdbd", 0.8, "circle"), "gate": ("#d7191c", 2.6, "triangle"),
    "station": ("#252525", 1.6, "square"), "port": ("#2c7fb8", 2.2, "square"),
    "dry_port": ("#a6611a", 2.2, "diamond"), "airport": ("#5e3c99", 2.6, "star"),
    "place": ("#111111", 1.8, "circle"),
}
#: Colour of catalog projects by mode.
MODE_COLOR = {"road": "#d7191c", "rail": "#5e3c99", "waterway": "#2c7fb8",
              "air": "#1a9641", "dry_port": "#a6611a"}
#: Line style, width (mm) and marker shape of catalog projects by status.
STATUS_STYLE = {
    "open": ("solid", 1.0, "circle"), "partially_open": ("solid", 0.8, "circle"),
    "under_construction": ("dash", 1.2, "square"), "planned": ("dot", 1.0, "triangle"),
    "study": ("dot", 0.6, "diamond"), "unknown": ("dash dot", 0.8, "diamond"),
}
#: Colour of catalog places by kind.
PLACE_STYLE = {
    "border_gate": ("#d7191c", 2.4, "triangle"), "bgez": ("#fd8d3c", 2.6, "square"),
    "dry_port": ("#a6611a", 2.2, "diamond"), "airport": ("#5e3c99", 2.4, "star"),
    "seaport": ("#08519c", 2.4, "square"), "river_port": ("#3182bd", 2.0, "square"),
    "city": ("#111111", 2.0, "circle"), "town": ("#636363", 1.4, "circle"),
    "tripoint": ("#000000", 1.6, "diamond"),
}
#: International routes and the foreign network, by mode: (label, colour, width mm, line).
FOREIGN_STYLE = {"road": ("road (truck)", "#d95f02", 0.8, "solid"),
                 "rail": ("rail (freight)", "#1b9e77", 0.8, "dash")}
CORRIDOR_STYLE = {"economic_corridor": ("#e41a1c", 1.6, "solid"),
                  "connection_chain": ("#377eb8", 1.0, "solid"),
                  "development_axis": ("#4daf4a", 1.0, "solid"),
                  "provincial_corridor": ("#984ea3", 0.8, "dash")}
#: Class breaks (hours) and colours of travel times.
TIME_CLASSES = [(0, 2, "#1a9850"), (2, 4, "#91cf60"), (4, 6, "#fee08b"), (6, 8, "#fc8d59"),
                (8, 12, "#d73027"), (12, 1000, "#7f0000")]
#: Class breaks (hours) and colours of savings.
SAVING_CLASSES = [(-1000, -0.01, "#d7191c"), (-0.01, 0.01, "#d9d9d9"), (0.01, 0.1, "#c7e9c0"),
                  (0.1, 0.25, "#74c476"), (0.25, 0.5, "#31a354"), (0.5, 1, "#006d2c"),
                  (1, 1000, "#00441b")]
#: Class breaks (hours) and colours of delays when a link closes (999: cut off).
DELAY_CLASSES = [(0, 0.25, "#fee5d9"), (0.25, 0.5, "#fcae91"), (0.5, 1, "#fb6a4a"),
                 (1, 2, "#de2d26"), (2, 100, "#a50f15"), (100, 1000, "#000000")]
#: Colour ramps (value in hours, colour, label) of the rasters.
TIME_RAMP = [(0, "#ffffcc", "0 h"), (1, "#ffeda0", "1 h"), (2, "#feb24c", "2 h"),
             (4, "#f03b20", "4 h"), (8, "#800026", "8 h")]
SAVING_RAMP = [(0, "#f7fcf5", "0 h"), (0.1, "#c7e9c0", "0.1 h"), (0.25, "#74c476", "0.25 h"),
               (0.5, "#238b45", "0.5 h"), (1, "#00441b", "1 h")]


def _range_label(lo: float, hi: float, unit: str = "h") -> str:
    if lo <= -100:
        return f"< {hi:g} {unit}"
    if hi >= 100:
        return f"≥ {lo:g} {unit}"
    return f"{lo:g} – {hi:g} {unit}"


def _graduated(kind: str, attr: str, classes, size: float, shape: str = "circle",
               labels: dict | None = None, opacity: float = 1.0):
    ranges = [(lo, hi, (labels or {}).get(hi) or _range_label(lo, hi),
               Symbol(color, size, shape=shape, opacity=opacity, outline="#333333"))
              for lo, hi, color in classes]
    return graduated_renderer(kind, attr, ranges)


def edges_style() -> str:
    """Return the style of network links: categorised by class (each class has one mode)."""
    classes = [*ROAD_CLASSES, *RAIL_CLASSES, "river", "air", *TRANSFER_CLASSES]
    cats = [(c, c.replace("_", " "), Symbol(EDGE_STYLE[c][0], EDGE_STYLE[c][1],
                                            style=EDGE_STYLE[c][2])) for c in classes]
    return vector_qml("line", categorized_renderer("line", "class", cats,
                                                   Symbol("#969696", 0.2)))


def nodes_style() -> str:
    """Return the style of network nodes: categorised by kind."""
    cats = [(k, k.replace("_", " "), Symbol(c, s, shape=sh)) for k, (c, s, sh)
            in NODE_STYLE.items()]
    return vector_qml("point", categorized_renderer("point", "kind", cats))


def projects_style(kind: str) -> str:
    """Return the style of projects and project sites: categorised by mode and status."""
    cats = []
    for mode, color in MODE_COLOR.items():
        for status, (line, width, shape) in STATUS_STYLE.items():
            label = f"{mode.replace('_', ' ')} – {status.replace('_', ' ')}"
            sym = (Symbol(color, width, style=line) if kind == "line"
                   else Symbol(color, 1.6 + 2 * width, shape=shape))
            cats.append((f"{mode} / {status}", label, sym))
    attr = "concat(\"mode\", ' / ', \"status_2025\")"
    return vector_qml(kind, categorized_renderer(kind, attr, cats))


def corridors_style() -> str:
    """Return the style of corridors: categorised by kind, labelled with their name."""
    cats = [(k, k.replace("_", " "), Symbol(c, w, style=s, opacity=0.6))
            for k, (c, w, s) in CORRIDOR_STYLE.items()]
    return vector_qml("line", categorized_renderer("line", "kind", cats),
                      labeling_element("line", "name_vi", 8, "#7f0000"))


def places_style() -> str:
    """Return the style of catalog places: categorised by kind, cities and towns labelled."""
    cats = [(k, k.replace("_", " "), Symbol(c, s, shape=sh)) for k, (c, s, sh)
            in PLACE_STYLE.items()]
    label = "if(\"kind\" IN ('city', 'town'), \"name_vi\", '')"
    return vector_qml("point", categorized_renderer("point", "kind", cats),
                      labeling_element("point", label, 7, expression=True))


def bgez_style() -> str:
    """Return the style of BGEZs: one symbol, labelled."""
    return vector_qml("point", single_renderer("point", Symbol("#fd8d3c", 3.2, shape="square")),
                      labeling_element("point", "name_vi", 7.5))


def gates_style() -> str:
    """Return the style of gate access: graduated by time to Hà Nội, labelled."""
    return vector_qml("point", _graduated("point", "time_h_to_ha_noi", TIME_CLASSES, 3.2,
                                          "triangle"),
                      labeling_element("point", "name", 7.5))


def isochrones_style() -> str:
    """Return the style of isochrones: graduated by cutoff (hours)."""
    classes = [(0, 1.5, "#006837"), (1.5, 3, "#31a354"), (3, 6, "#addd8e"),
               (6, 12, "#f7fcb9")]
    labels = {1.5: "≤ 1 h", 3: "≤ 2 h", 6: "≤ 4 h", 12: "≤ 8 h"}
    return vector_qml("polygon", _graduated("polygon", "cutoff_h", classes, 0.1,
                                            labels=labels, opacity=0.35))


def savings_style(kind: str, attr: str, label: str | None = None) -> str:
    """Return a style graduated by a saving (hours), optionally labelled."""
    size = {"point": 2.4, "line": 1.6, "polygon": 0.3}[kind]
    shape = "triangle" if label else "circle"
    labeling = labeling_element(kind, label, 7.5) if label else None
    return vector_qml(kind, _graduated(kind, attr, SAVING_CLASSES, size, shape,
                                       opacity=0.8 if kind == "polygon" else 1.0), labeling)


def critical_style(attr: str) -> str:
    """Return a style graduated by delay (hours; links that cut a gate off on top)."""
    labels = {1000: "cuts a gate off"}
    return vector_qml("line", _graduated("line", attr, DELAY_CLASSES, 1.2, labels=labels))


def provinces_style(edition: str) -> str:
    """Return a hollow province style, labelled with the name."""
    width, color = (0.6, "#252525") if edition == "2025" else (0.3, "#737373")
    return vector_qml("polygon", single_renderer("polygon", Symbol("#ffffff", width,
                                                                   outline=color, style="no")),
                      labeling_element("polygon", "name", 8, color))


def international_style() -> str:
    """Return the style of international routes and the foreign network: by mode."""
    cats = [(m, label, Symbol(c, w, style=st)) for m, (label, c, w, st) in FOREIGN_STYLE.items()]
    return vector_qml("line", categorized_renderer("line", "mode", cats))


def catchments_style() -> str:
    """Return the style of gate catchments: the fastest gate's cities, labelled with the gate."""
    cats = [("fastest", "the gate that serves the city fastest",
             Symbol("#fdae61", 3.0, shape="circle")),
            ("other", "another gate", Symbol("#bababa", 1.6, shape="circle"))]
    attr = "if(\"rank\" = 1, 'fastest', 'other')"
    return vector_qml("point", categorized_renderer("point", attr, cats),
                      labeling_element("point", "gate_name", 7.5))


def layer_style(name: str) -> str:
    """Return the QML of a layer of :func:`export_layers` by its name."""
    fixed = {
        "projects": lambda: projects_style("line"),
        "project_sites": lambda: projects_style("point"),
        "programmes": lambda: vector_qml(None), "provenance": lambda: vector_qml(None),
        "corridors": corridors_style, "places": places_style, "bgez": bgez_style,
        "gates": gates_style, "isochrones": isochrones_style,
        "savings_nodes": lambda: savings_style("point", "saving_h_to_ha_noi"),
        "savings_gates": lambda: savings_style("point", "saving_h_ha_noi", "name"),
        "savings_corridors": lambda: savings_style("line", "saving_h", "name"),
        "critical_links": lambda: critical_style('if("disconnects", 999, "delay_h")'),
        "critical_links_summary": lambda: critical_style(
            'if("gates_disconnected" > 0, 999, "max_delay_h")'),
        "international_routes": international_style, "foreign_network": international_style,
        "gate_catchments": catchments_style,
    }
    if name in fixed:
        return fixed[name]()
    family, _, suffix = name.rpartition("_")
    by_family = {"nodes": nodes_style, "edges": edges_style,
                 "provinces": lambda: provinces_style(suffix),
                 "savings_provinces": lambda: savings_style("polygon", "saving_h_to_ha_noi",
                                                            "province")}
    return by_family[family]()


# ---------------------------------------------------------------------------------------------
# rasters


@dataclass
class Surface:
    """A raster to write: values on the run's grid (EPSG:4326) and what they are."""

    name: str
    values: np.ndarray
    description: str
    style: str


def surfaces(results: RunResults) -> list[Surface]:
    """Return the time-to-nearest-gate surfaces of each year and their difference.

    Surfaces with no finite cell (no gate in the network) are left out.
    """
    out = []
    for year in sorted(set(results.years)):
        out.append(Surface(f"time_to_gate_{year}", results.nearest_gate_h[year],
                           f"time to the nearest border gate, car, {_label(results, year)} "
                           "(hours)", raster_qml(TIME_RAMP)))
    ya, yb = results.years
    with np.errstate(invalid="ignore"):
        saving = results.nearest_gate_h[ya] - results.nearest_gate_h[yb]
    out.append(Surface(f"time_to_gate_saving_{ya}_{yb}", saving,
                       f"saving of time to the nearest border gate, car, {ya} − {yb} "
                       "(hours, positive when faster)", raster_qml(SAVING_RAMP)))
    return [s for s in out if np.isfinite(s.values).any()]


def skipped_surfaces(results: RunResults) -> list[str]:
    """Return the names of the surfaces :func:`surfaces` leaves out (no finite cell)."""
    kept = {s.name for s in surfaces(results)}
    ya, yb = results.years
    names = [f"time_to_gate_{y}" for y in sorted(set(results.years))]
    return [n for n in [*names, f"time_to_gate_saving_{ya}_{yb}"] if n not in kept]


def write_surface(path: Path, surface: Surface, results: RunResults, crs: str) -> tuple:
    """Write one surface as GeoTIFF in ``crs``; return its bounds in ``crs``."""
    values, transform = surface.values, results.grid.transform
    if crs != "EPSG:4326":
        values, transform = to_crs(values, transform, "EPSG:4326", crs, METRIC_CELL_M)
    tags = {"attribution": results.provenance["attribution"], "toolkit": f"corridors "
            f"{__version__}", "scenario": results.scenario.name,
            "run_date": results.provenance["date"]}
    write_geotiff(path, values, transform, crs, surface.description, "h", tags)
    return array_bounds(*values.shape, transform)


# ---------------------------------------------------------------------------------------------
# project


def _layer_id(name: str, subset: str = "") -> str:
    """Return a layer id: QGIS keeps ids longer than 10 characters only, so all are prefixed."""
    suffix = re.sub(r"[^0-9a-z]+", "_", subset.lower()).strip("_")
    return f"corridors_{name}_{suffix}" if suffix else f"corridors_{name}"


def _vector(layer: ExportLayer, crs: str, attribution: str, title: str, subset: str = "",
            visible: bool = False) -> MapLayer:
    source = f"./{GPKG_NAME}|layername={layer.name}"
    frame = layer.frame
    extent = None
    if layer.kind and not frame.empty and frame.geometry.notna().any():
        extent = tuple(frame.total_bounds)
    return MapLayer(
        id=_layer_id(layer.name, subset), name=title,
        source=source + (f"|subset={subset}" if subset else ""), qml=layer_style(layer.name),
        crs=crs, kind=layer.kind,
        wkb_type=geometry_type(frame, layer.kind) if layer.kind else "NoGeometry",
        extent=extent if extent and np.isfinite(extent).all() else None, visible=visible,
        abstract=layer.description, rights=attribution)


def _scenario_subset(label: str, profile: str | None = None) -> str:
    label = label.replace("'", "''")
    subset = f"\"scenario\" = '{label}'"
    return subset + (f" AND \"profile\" = '{profile}'" if profile else "")


def project_groups(results: RunResults, layers: dict[str, ExportLayer],
                   rasters: dict[str, MapLayer], crs: str) -> list[Group]:
    """Return the layer tree: Gates, Change A→B, Plan, Network B, Network A, Base."""
    attribution = results.provenance["attribution"]
    la, lb = results.labels
    ya, yb = results.years

    def v(name, title, subset="", visible=False):
        return _vector(layers[name], crs, attribution, title, subset, visible)

    car = "\"profile\" = 'car'"
    groups = [Group("Gates", [
        v("gates", f"Gates and BGEZs {lb}: time to Hà Nội (car)", _scenario_subset(lb, "car"),
          True),
        *([v("gates", f"Gates and BGEZs {la}: time to Hà Nội (car)",
             _scenario_subset(la, "car"))] if la != lb else []),
        v("bgez", "Border-gate economic zones", visible=True)])]
    groups.append(Group(f"Change {la}→{lb}", [
        v("savings_gates", "Saving to Hà Nội per gate (car)", car),
        v("savings_nodes", "Saving to Hà Nội per node (car)"),
        v("savings_corridors", "Saving per corridor (car)", car),
        v("savings_provinces_2025", "Saving to Hà Nội per province (2025 edition)"),
        v("savings_provinces_2024", "Saving to Hà Nội per province (2024 edition)"),
        *[r for n, r in rasters.items() if n.startswith("time_to_gate_saving")]]))
    groups.append(Group("Plan", [
        v("project_sites", "Project sites", visible=True),
        v("projects", "Projects and existing links", visible=True),
        v("corridors", "Economic corridors", visible=True),
        v("programmes", "Programmes (no geometry)")]))
    for year, label in sorted({(yb, lb), (ya, la)}, reverse=True):
        main = year == yb
        groups.append(Group(f"Network {label}", [
            v(f"nodes_{year}", f"Nodes {label}"),
            v(f"edges_{year}", f"Links {label}", visible=main),
            v("critical_links_summary", f"Critical links {label}", _scenario_subset(label)),
            v("critical_links", f"Critical links per gate {label}", _scenario_subset(label)),
            v("isochrones", f"Isochrones {label} (car)", _scenario_subset(label, "car")),
            *[r for n, r in rasters.items() if n == f"time_to_gate_{year}"]]))
    groups.append(Group("Across the border", [
        v("gate_catchments", f"Gate catchments {lb} (truck)", _scenario_subset(lb), True),
        v("international_routes", f"International routes {lb}", _scenario_subset(lb), True),
        *([v("international_routes", f"International routes {la}", _scenario_subset(la))]
          if la != lb else []),
        v("foreign_network", f"Roads and railways across the border {lb}", visible=True)]))
    groups.append(Group("Base", [
        v("places", "Places", visible=True),
        v("provinces_2025", "Provinces (2025 edition)", visible=True),
        v("provinces_2024", "Provinces (2024 edition)"),
        v("provenance", "Provenance (table)")]))
    return groups


def drawing_order(groups: list[Group]) -> list[str]:
    """Return the layer ids top first: points, lines, polygons, rasters, then tables."""
    rank = {"point": 0, "line": 1, "polygon": 2, "raster": 3, None: 4}
    layers = [layer for g in groups for layer in g.layers]
    return [layer.id for layer in sorted(layers, key=lambda lyr: rank[lyr.kind])]


def _initial_extent(layers: dict[str, ExportLayer], year: int) -> tuple:
    for name in (f"edges_{year}", "provinces_2025"):
        frame = layers[name].frame
        if not frame.empty and frame.geometry.notna().any():
            x0, y0, x1, y1 = frame.total_bounds
            dx, dy = (x1 - x0) * 0.03 or 0.01, (y1 - y0) * 0.03 or 0.01
            return (x0 - dx, y0 - dy, x1 + dx, y1 + dy)
    raise ValueError("nothing to show: no network and no provinces")


def project_info(results: RunResults, layers: dict[str, ExportLayer], crs: str) -> ProjectInfo:
    """Return the project's title, CRS, initial view and metadata (provenance, attribution)."""
    p = results.provenance
    la, lb = results.labels
    abstract = (f"Corridor planning results for Vietnam's Northern Midlands and Mountains: "
                f"{la} compared with {lb} (scenario {p['scenario']}: "
                f"{p.get('scenario_description', '')}). Network: {p['network_source']}. "
                f"Made by {p['toolkit']} on {p['date']}. Inputs (sha256, first 16 hex): "
                + ", ".join(f"{k} {v}" for k, v in p["inputs_sha256"].items()) + ".")
    history = [f"{k}: {v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)}"
               for k, v in p.items() if k != "attribution"]
    return ProjectInfo(
        title=f"Corridors {la} → {lb}", crs=crs,
        extent=_initial_extent(layers, results.years[1]), abstract=abstract,
        rights=p["attribution"], author=p["toolkit"], history=history,
        keywords=["Vietnam", "Northern Midlands and Mountains", "transport", "corridors"])


# ---------------------------------------------------------------------------------------------
# README


def readme_text(results: RunResults, layers: list[ExportLayer], rasters: dict[str, Surface],
                crs: str, grid_note: str) -> str:
    """Return the folder's README: files, layers with counts, units, CRS, attribution."""
    p = results.provenance
    lines = [
        f"Corridors GIS export — {results.labels[0]} compared with {results.labels[1]}",
        "", f"Made by {p['toolkit']} on {p['date']}; scenario {p['scenario']}; network "
        f"source: {p['network_source']}.",
        f"CRS of every layer and raster: {EXPORT_CRS[crs]} ({crs}).", "",
        "Files",
        f"  {GPKG_NAME}  GeoPackage 1.2; every layer's QGIS style is its default style "
        "(table layer_styles)",
        f"  {PROJECT_NAME}  QGIS project (3.22 or later) opening every layer by relative path:"
        " keep the folder together", f"  {README_NAME}  this file"]
    lines += [f"  {name}.tif  {s.description}" for name, s in rasters.items()]
    lines += ["", f"Layers of {GPKG_NAME} (features)"]
    for layer in layers:
        kind = layer.kind or "table"
        note = f" [empty: {layer.note}]" if layer.frame.empty and layer.note else ""
        lines.append(f"  {layer.name} ({kind}, {len(layer.frame)}): {layer.description}"
                     f"{note}")
    lines += ["", "Rasters", f"  {grid_note}",
              f"  float32, DEFLATE; no data ({NODATA:g}) outside the 21 provinces and where no "
              "gate can be reached; unit: hours (h).",
              *[f"  not written: {n} (no cell reaches a border gate)"
                for n in skipped_surfaces(results)],
              "", "Units and conventions",
              "  time_h*: hours; length_km*, *_km: kilometres; speed_kmh*: km/h; area_km2: km²;",
              "  people*: persons (WorldPop 2020); cost_vnd_truck: VND per TEU; open_year: year.",
              "  saving_h = time in the first year − time in the second (positive = faster);",
              "  saving_pct: percent of the first year's time. NULL (empty) where no route "
              "exists.",
              "  Layers with a 'scenario' and 'profile' column hold every year and profile: "
              "filter them (the project does).",
              "  outside_extract (plan layers): True for catalog items an OSM extract leaves out "
              "of the network.",
              "", "Data attribution", f"  {p['attribution']}", "", "Provenance"]
    lines += [f"  {k}: {v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)}"
              for k, v in p.items() if k != "attribution"]
    return "\n".join(lines) + "\n"


def _grid_note(results: RunResults, crs: str) -> str:
    rows, cols = results.grid.shape
    t = results.grid.transform
    note = (f"Grid of the surfaces: {CELL_DEG}° cells (about 2.1 km), {rows} rows × {cols} "
            f"columns from lon {t.c:.4f}, lat {t.f:.4f} (EPSG:4326, upper left)")
    if crs != "EPSG:4326":
        note += (f"; reprojected to {crs} on {METRIC_CELL_M:g} m cells by nearest "
                 "neighbour")
    return note + "."


# ---------------------------------------------------------------------------------------------
# writing


def check_crs(crs: str) -> str:
    """Return the EPSG code of an export CRS; raise ValueError for any other CRS."""
    code = CRS.from_user_input(crs).to_epsg()
    name = f"EPSG:{code}"
    if name not in EXPORT_CRS:
        raise ValueError(f"unsupported CRS {crs!r}: use one of " + ", ".join(
            f"{k} ({v})" for k, v in EXPORT_CRS.items()))
    return name


def output_paths(results: RunResults, out_dir: Path) -> list[Path]:
    """Return the files :func:`write_exports` writes into ``out_dir``."""
    names = [GPKG_NAME, *(f"{s.name}.tif" for s in surfaces(results)), PROJECT_NAME,
             README_NAME]
    return [out_dir / n for n in names]


def _reproject(layers: list[ExportLayer], crs: str) -> list[ExportLayer]:
    if crs == "EPSG:4326":
        return layers
    # a layer with a kind holds a GeoDataFrame
    return [ExportLayer(lyr.name, cast(gpd.GeoDataFrame, lyr.frame).to_crs(crs) if lyr.kind
                        else lyr.frame, lyr.kind, lyr.description, lyr.note) for lyr in layers]


def _write_gpkg(path: Path, layers: list[ExportLayer]) -> None:
    write_layers(path, {lyr.name: (lyr.frame, lyr.kind) for lyr in layers})
    write_layer_styles(path, {lyr.name: layer_style(lyr.name) for lyr in layers},
                       description=f"corridors {__version__}", owner="corridors")


def _write_rasters(folder: Path, results: RunResults, crs: str) -> dict[str, MapLayer]:
    out = {}
    for s in surfaces(results):
        bounds = write_surface(folder / f"{s.name}.tif", s, results, crs)
        out[s.name] = MapLayer(
            id=_layer_id(s.name), name=s.description[0].upper() + s.description[1:],
            source=f"./{s.name}.tif", qml=s.style, crs=crs, kind="raster", extent=bounds,
            visible=s.name == f"time_to_gate_{results.years[1]}", abstract=s.description,
            rights=results.provenance["attribution"])
    return out


def write_all(folder: Path, results: RunResults, crs: str) -> list[Path]:
    """Write every file of the export into ``folder`` (no checks); return their paths."""
    layers = _reproject(export_layers(results), crs)
    by_name = {lyr.name: lyr for lyr in layers}
    _write_gpkg(folder / GPKG_NAME, layers)
    rasters = _write_rasters(folder, results, crs)
    groups = project_groups(results, by_name, rasters, crs)
    doc = project_document(project_info(results, by_name, crs), groups, drawing_order(groups))
    write_qgz(folder / PROJECT_NAME, doc)
    readme = readme_text(results, layers, {s.name: s for s in surfaces(results)}, crs,
                         _grid_note(results, crs))
    (folder / README_NAME).write_text(readme, encoding="utf-8")
    return output_paths(results, folder)


def write_exports(results: RunResults, out_dir: str | Path, crs: str = "EPSG:4326",
                  force: bool = False) -> list[Path]:
    """Write the GIS exports of a run (see the module docstring).

    Parameters
    ----------
    results : corridors.analysis.results.RunResults
    out_dir : str or pathlib.Path
        Output folder, created if needed.
    crs : str
        ``EPSG:4326`` (default) or ``EPSG:3405`` (VN-2000 / UTM zone 48N).
    force : bool
        Replace existing files of the export.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    FileExistsError
        If a file of the export exists and ``force`` is False.
    ValueError
        For another CRS.
    """
    from corridors.core.outputs import write_files

    crs = check_crs(crs)
    out = Path(out_dir)
    paths = output_paths(results, out)
    return write_files(out, [p.name for p in paths], lambda stage: write_all(stage, results, crs),
                       force=force, what="export")
