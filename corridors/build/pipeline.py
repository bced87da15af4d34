"""Build the network of a year for a scenario, report its quality, and write it to disk.

``corridors build`` calls :func:`build_network` then :func:`write_network`. Backbones (the slow
part: snapping the embedded roads, or reading an OSM extract) are cached on disk by a hash of
their inputs, so that the 2025 and 2030 networks, and every scenario, share one backbone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from corridors.build.cache import cache_dir as _cache_dir
from corridors.build.cache import fetch_backbone
from corridors.build.network_inputs import NotModelled, facilities, link_specs
from corridors.build.quality import quality_report
from corridors.catalog.load import load_catalog
from corridors.catalog.model import Catalog, apply_reading
from corridors.catalog.scenario import BASE, Scenario, apply_scenario
from corridors.core.outputs import OutputExistsError
from corridors.core.version import __version__
from corridors.layers.attribution import attribution_text
from corridors.layers.datadir import data_dir
from corridors.layers.osm import OsmReadError
from corridors.network.backbone import Backbone, backbone_from_osm, build_backbone
from corridors.network.build import MasterNetwork, NetworkTables, build_master, tables_for_year
from corridors.network.graph import ordered_edge_columns, to_graph, write_gpkg, write_graphml
from corridors.network.specs import Facility, LinkSpec
from corridors.network.speeds import SpeedTable

_log = logging.getLogger(__name__)

#: Bump to invalidate every cached backbone (the code of ``network`` and ``layers`` is hashed
#: into the key as well, so an edit of the builders invalidates it by itself).
BACKBONE_FORMAT = 2
#: An OSM extract holding fewer than this share of the catalog's places is warned about.
MIN_INSIDE_SHARE = 0.5
#: ``osm`` value meaning: download the bbox's OSM data from the Overpass API (when online).
OVERPASS = "overpass"


@dataclass(frozen=True)
class BuildResult:
    """A built network and what was learned building it.

    Attributes
    ----------
    year : int
    scenario : Scenario
    tables : NetworkTables
    master : MasterNetwork
        Every link and facility of the scenario, whatever the year: the year's tables and the
        variants of per-project attribution are masks over it.
    backbone : Backbone
    catalog : Catalog
        The catalog as the scenario changed it.
    specs : list of LinkSpec
    facilities : list of Facility
    not_modelled : list of NotModelled
    outside : list of str
        Catalog items left out because they lie outside an OSM extract.
    report : dict
        The quality report (:func:`corridors.build.quality.quality_report`).
    provenance : dict
    """

    year: int
    scenario: Scenario
    tables: NetworkTables
    master: MasterNetwork
    backbone: Backbone
    catalog: Catalog
    specs: list[LinkSpec]
    facilities: list[Facility]
    not_modelled: list[NotModelled]
    outside: list[str]
    report: dict
    provenance: dict


def cache_dir() -> Path:
    """Return the cache folder, creating it (:func:`corridors.build.cache.cache_dir`)."""
    return _cache_dir()


def file_hash(path: str | Path) -> str:
    """Return the SHA-256 of a file's content."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _code_hash() -> str:
    """Hash of the source of the packages that build backbones (network, layers)."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for pkg in ("network", "layers"):
        for path in sorted((root / pkg).glob("*.py")):
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def _backbone_key(osm: Path | None, bbox, dem_paths, sections: list | None = None) -> str:
    h = hashlib.sha256(f"{BACKBONE_FORMAT}|{__version__}|{bbox}|{_code_hash()}|{sections}"
                       .encode())
    inputs = [osm] if osm else [data_dir() / "region.gpkg"]
    inputs += [Path(p) for p in dem_paths] if dem_paths else [
        data_dir() / "srtm3_N21E105.tif", data_dir() / "dem_5arcmin.tif"]
    for p in inputs:
        h.update(file_hash(p).encode())
    return h.hexdigest()[:24]


def overpass_extract(bbox: tuple | None, refresh: bool = False) -> Path:
    """Return the OSM XML file of ``bbox`` downloaded from Overpass into the cache folder.

    The file (``overpass-<hash of the bbox and the query>.osm``) is downloaded once with
    :func:`layers.osm.download_osm` and reused afterwards, unless ``refresh``.

    Raises
    ------
    layers.osm.OsmReadError
        Without a bbox, or when the download fails.
    """
    from corridors.layers.osm import OsmReadError, download_osm
    from corridors.layers.overpass import OVERPASS_SELECTION

    if bbox is None:
        raise OsmReadError("osm='overpass' needs a bbox (west, south, east, north) to download")
    key = hashlib.sha256(json.dumps([[round(float(v), 6) for v in bbox],
                                     list(OVERPASS_SELECTION)]).encode()).hexdigest()[:24]
    path = cache_dir() / f"overpass-{key}.osm"
    if refresh or not path.exists():
        download_osm(tuple(bbox), out_path=path, cache_folder=cache_dir() / "overpass",
                     use_cache=not refresh)
    return path


def _resolve_osm(osm: str | Path | None, bbox: tuple | None, use_cache: bool) -> Path | None:
    """Return the extract to read: ``osm``, or the Overpass download for :data:`OVERPASS`."""
    if isinstance(osm, str) and osm == OVERPASS:
        return overpass_extract(bbox, refresh=not use_cache)
    return Path(osm) if osm else None


def load_backbone(osm: str | Path | None = None, bbox: tuple | None = None,
                  dem_paths: list | None = None, use_cache: bool = True,
                  route_sections: list | None = None) -> Backbone:
    """Return the embedded backbone or that of an OSM extract, from the cache when possible.

    ``osm="overpass"`` (:data:`OVERPASS`) downloads the data of ``bbox`` from the Overpass API
    (:func:`overpass_extract`; ``use_cache=False`` downloads anew). The cache key is a hash of
    the inputs' content (the extract or the embedded roads, the DEMs, the bounding box and the
    toolkit version); entries are GeoParquet tables with a checked manifest
    (:mod:`corridors.build.cache`), and a broken one is rebuilt with a warning. ``use_cache=False``
    rebuilds the backbone and replaces its entry. ``route_sections`` (official lengths,
    :mod:`corridors.catalog.route_lengths`) correct the lengths of the embedded roads (default: the
    shipped catalog's); OSM roads follow the real roads and are not corrected.
    """
    osm = _resolve_osm(osm, bbox, use_cache)
    if route_sections is None and osm is None:
        from corridors.catalog.route_lengths import read_route_sections

        route_sections = read_route_sections(load_catalog())
    if osm is not None and not osm.exists():
        from corridors.layers.osm import OsmReadError
        raise OsmReadError(f"{osm}: no such file")
    key = _backbone_key(osm, bbox, dem_paths, route_sections)

    def build() -> Backbone:
        return (backbone_from_osm(osm, bbox=bbox, dem_paths=dem_paths) if osm
                else build_backbone(dem_paths=dem_paths, route_sections=route_sections or ()))

    return fetch_backbone(key, build, refresh=not use_cache)


class ExtractCoverageError(OsmReadError):
    """An OSM extract that holds none of the catalog's places (it misses the study area)."""


def check_coverage(osm: str | Path, inside: int, total: int, allow_empty: bool = False) -> dict:
    """Check how many catalog places an OSM extract holds; warn or refuse.

    Parameters
    ----------
    osm : path
        The extract (named in the messages).
    inside, total : int
        Catalog places (gates, cities, ports, airports ...) inside the extract, and in all.
    allow_empty : bool
        Build even when none is inside (the networks then hold no gate, city or corridor).

    Returns
    -------
    dict
        ``{"places_inside": n, "places": total, "share": s}`` for the provenance.

    Raises
    ------
    ExtractCoverageError
        When none is inside and ``allow_empty`` is False.
    """
    share = inside / total if total else 0.0
    if inside == 0 and not allow_empty:
        raise ExtractCoverageError(
            f"{osm}: none of the {total} catalog places (border gates, cities, ports, airports) "
            "lies inside this extract, so it does not cover the Northern Midlands and Mountains "
            "and no analysis would mean anything; bring an extract of the region (e.g. "
            "Geofabrik's vietnam-latest.osm.pbf), or pass --allow-empty to build it anyway")
    if share < MIN_INSIDE_SHARE:
        _log.warning("%s: only %d of %d catalog places lie inside this extract: gates, corridors "
                     "and places outside it are left out of every analysis", osm, inside, total)
    return {"places_inside": inside, "places": total, "share": round(share, 3)}


def _inside_extract(backbone: Backbone, fac: list[Facility], specs: list[LinkSpec]
                    ) -> tuple[list[Facility], list[LinkSpec], list[str]]:
    """Keep the catalog items that lie inside an OSM extract's road network (+ 25 km)."""
    roads = backbone.nodes.loc[backbone.nodes.index.isin(
        backbone.edges.loc[backbone.edges["mode"] == "road", "u"])]
    hull = gpd.GeoSeries([shapely.MultiPoint(list(zip(roads["x"], roads["y"], strict=True))
                                             ).convex_hull], crs="EPSG:4326")
    area = hull.to_crs(backbone.metric_crs).buffer(25_000).to_crs("EPSG:4326").iloc[0]
    keep_f = [f for f in fac if area.contains(shapely.Point(f.lon, f.lat))]
    keep_s = [s for s in specs if s.upgrades or all(area.contains(shapely.Point(p))
                                                    for p in s.points)]
    outside = [f.id for f in fac if f not in keep_f] + [s.id for s in specs if s not in keep_s]
    return keep_f, keep_s, outside


def build_network(year: int, scenario: Scenario | None = None, *, osm: str | Path | None = None,
                  bbox: tuple | None = None, catalog_path: str | Path | None = None,
                  dem_paths: list | None = None, base_year: int = 2025,
                  use_cache: bool = True, allow_empty: bool = False) -> BuildResult:
    """Build the network of ``year`` under a scenario, with its quality report.

    Parameters
    ----------
    year : int
        Year of the network (:data:`~corridors.core.constants.YEAR_MIN` to ``YEAR_MAX``).
    scenario : Scenario, optional
        Default: the catalogs as shipped.
    osm : path or "overpass", optional
        An OSM extract to use instead of the embedded backbone, or ``"overpass"``: download the
        data of ``bbox`` (then required) from the Overpass API (:func:`overpass_extract`).
    bbox : tuple, optional
        (west, south, east, north) degrees to cut the extract to.
    catalog_path : path, optional
        Another catalog folder.
    dem_paths : list of path, optional
        DEMs for terrain (user tiles first); default the embedded ones.
    base_year : int, default 2025
        The report lists what the network gained since this year.
    use_cache : bool, default True
        Reuse a cached backbone.

    Returns
    -------
    BuildResult
    """
    return build_networks([year], scenario, osm=osm, bbox=bbox, catalog_path=catalog_path,
                          dem_paths=dem_paths, base_year=base_year, use_cache=use_cache,
                          allow_empty=allow_empty)[year]


def build_networks(years: list[int], scenario: Scenario | None = None, *,
                   osm: str | Path | None = None, bbox: tuple | None = None,
                   catalog_path: str | Path | None = None, dem_paths: list | None = None,
                   base_year: int = 2025, use_cache: bool = True,
                   speed_table: SpeedTable | None = None,
                   allow_empty: bool = False) -> dict[int, BuildResult]:
    """Build the networks of several years of one scenario from one master network.

    Same parameters as :func:`build_network`, plus ``speed_table`` (default
    ``data/speeds.yaml``); returns one :class:`BuildResult` per year.

    An OSM extract that holds fewer than :data:`MIN_INSIDE_SHARE` of the catalog's places gets a
    warning (the analyses then cover only those); one that holds none of them is refused with
    :class:`ExtractCoverageError` unless ``allow_empty``.
    """
    scenario = scenario or BASE
    osm = _resolve_osm(osm, bbox, use_cache)
    cat = apply_scenario(scenario, catalog_path) if scenario is not BASE else load_catalog(
        catalog_path)
    cat = apply_reading(cat, scenario.reading)
    fac, left_out = facilities(cat)
    specs, not_modelled = link_specs(cat, fac)
    sections = None
    if osm is None:
        from corridors.catalog.route_lengths import read_route_sections, route_lengths_path

        sections = read_route_sections(cat, route_lengths_path(catalog_path))
    backbone = load_backbone(osm, bbox, dem_paths, use_cache, route_sections=sections)
    outside: list[str] = []
    coverage: dict = {}
    if osm:
        total = len(fac)
        fac, specs, outside = _inside_extract(backbone, fac, specs)
        coverage = check_coverage(osm, len(fac), total, allow_empty)
    master = build_master(backbone, fac, specs, dem_paths=dem_paths, speed_table=speed_table,
                          speed_overrides=scenario.speeds or None)
    if osm:
        # foreign links lie outside the study area on purpose; an extract brings its own roads
        # beyond the border, so the schematic ones are left out (listed as outside)
        outside.append("cross_border (schematic foreign links: replaced by the OSM extract)")
    else:
        from corridors.catalog.cross_border import attach_cross_border

        master = attach_cross_border(master, cat, catalog_path, scenario.gates,
                                     speed_table, scenario.speeds or None)
    results = {}
    for year in years:
        tables = tables_for_year(master, year)
        provenance = {
            "toolkit": f"corridors {__version__}",
            "built": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "year": year, "scenario": scenario.name, "open_years_reading": scenario.reading,
            "scenario_file": str(scenario.path) if scenario.path else "",
            "scenario_sha256": file_hash(scenario.path) if scenario.path else "",
            "network_source": backbone.source,
            "osm_sha256": file_hash(osm) if osm else "",
            "catalog": str(catalog_path or data_dir() / "catalog"),
            **({"extract_coverage": coverage} if coverage else {}),
            "attribution": attribution_text(),
        }
        report = quality_report(tables, backbone, cat, specs, [*not_modelled, *left_out],
                                outside, base_year=base_year, provenance=provenance)
        results[year] = BuildResult(year, scenario, tables, master, backbone, cat, specs, fac,
                                    [*not_modelled, *left_out], outside, report, provenance)
    return results


def output_stem(year: int, scenario: Scenario) -> str:
    """Return the file stem of a build: ``network_2030`` or ``network_2030_<scenario>``."""
    return f"network_{year}" if scenario.name == "base" else f"network_{year}_{scenario.name}"


def output_paths(year: int, scenario: Scenario, out_dir: str | Path, force: bool = False,
                 graphml: bool = False) -> list[Path]:
    """Return the files a build writes; raise FileExistsError if any exists and not ``force``.

    The GeoPackage, the quality report (JSON, Markdown) and, with ``graphml``, the GraphML.
    """
    out = Path(out_dir)
    stem = output_stem(year, scenario)
    paths = [out / f"{stem}.gpkg", out / f"quality_{stem[8:]}.json",
             out / f"quality_{stem[8:]}.md"] + ([out / f"{stem}.graphml"] if graphml else [])
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        raise OutputExistsError(", ".join(str(p) for p in existing) + " already exist(s)")
    return paths


def write_network(result: BuildResult, out_dir: str | Path, force: bool = False,
                  graphml: bool = False) -> list[Path]:
    """Write a build: GeoPackage (nodes, edges, provenance), the quality report, and GraphML.

    GraphML is written only with ``graphml``: it is the slowest output (half a region-scale
    build) and the GeoPackage holds the same network.

    Written under the output contract of :mod:`corridors.core.outputs`: the folder is locked, the
    files are staged and moved into place only when all were written (a failed write leaves the
    folder as it was), and existing files are replaced only with ``force``.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    FileExistsError
        If an output exists and ``force`` is False.
    corridors.core.outputs.OutputLockedError
        If another writer holds the folder.
    """
    from corridors.build.quality import quality_markdown
    from corridors.core.outputs import write_files

    out = Path(out_dir)
    paths = output_paths(result.year, result.scenario, out, force, graphml)  # refuse early
    t = result.tables
    edges = t.edges[[c for c in ordered_edge_columns(t.edges) if c in t.edges.columns]]
    nodes = t.nodes.reset_index()
    prov = pd.DataFrame({"key": list(result.provenance), "value": [str(v) for v in
                                                                    result.provenance.values()]})

    def write(stage: Path) -> None:
        staged = [stage / p.name for p in paths]
        write_gpkg(staged[0], {"nodes": nodes, "edges": edges, "provenance": prov})
        staged[1].write_text(json.dumps(result.report, ensure_ascii=False, indent=2),
                             encoding="utf-8")
        staged[2].write_text(quality_markdown(result.report), encoding="utf-8")
        if graphml:
            G = to_graph(t.nodes, t.edges, year=result.year, scenario=result.scenario.name,
                         attribution=result.provenance["attribution"])
            write_graphml(G, staged[3])

    return write_files(out, [p.name for p in paths], write, force=force, what="build")
