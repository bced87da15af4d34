"""The Python API: what the ``corridors`` command does, for a notebook or a script.

=========================  =======================================================================
:func:`build_network`      the network of a year (and scenario): ``.graph`` is a
                           :class:`networkx.MultiDiGraph` (OSMnx conventions), ``.nodes`` and
                           ``.edges`` the GeoDataFrames, ``.quality`` the quality report
:func:`route`              the fastest route between two places (any spelling, or
                           ``"lat,lon"``): the fields ``corridors route --format json`` prints,
                           and the nodes of ``.graph`` where it starts and ends
:func:`analyse`            every analysis of two years (:class:`RunResults`: the result tables
                           as pandas DataFrames, and the maps)
:func:`run`                the main job for the base and each scenario; writes the files of
                           ``corridors run`` only when given a folder
:func:`make_map`           a map of a run as a :class:`folium.Map`, shown inline in a notebook
=========================  =======================================================================

Units everywhere: lengths in km, times in hours, speeds in km/h. Errors are raised as Python
exceptions in the library's terms: :class:`LookupError` for a place that is not in the catalog
or not in the network, :class:`corridors.core.diagnostics.InputError` (a :class:`ValueError`)
for a bad scenario or catalog file, naming file, entry and field,
:class:`corridors.core.outputs.OutputExistsError` for files in the way (``force=True``
replaces them).

Examples
--------
>>> import corridors
>>> net = corridors.build_network(2030)
>>> trip = corridors.route(net, "Hà Nội", "Lào Cai")
>>> round(trip["time_h"], 1), round(trip["length_km"])          # doctest: +SKIP
(3.5, 272)
>>> trip["from_node"] in net.graph
True
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx

from corridors.analysis.analyses import DEFAULT_PROFILES, network_label
from corridors.analysis.locate import locate
from corridors.analysis.results import RunResults, compute_results
from corridors.build.analysis_network import AnalysisNetwork
from corridors.build.pipeline import OVERPASS, BuildResult
from corridors.build.pipeline import build_network as _build
from corridors.catalog.model import Catalog
from corridors.catalog.scenario import BASE, Scenario, read_scenario
from corridors.core.constants import YEAR_MAX, YEAR_MIN
from corridors.maps import make_map
from corridors.network.schema import ROUTING_PROFILES

__all__ = ["Network", "Run", "RunResults", "analyse", "build_network", "make_map", "route",
           "run"]

#: A file path as the API accepts it.
PathLike = str | os.PathLike
#: A scenario as the API accepts it: a scenario YAML file, a parsed scenario, or None (base).
ScenarioLike = PathLike | Scenario | None


def _scenario(scenario: ScenarioLike) -> Scenario:
    """Return the scenario a user means: None is the base, a path is read and checked."""
    if scenario is None:
        return BASE
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, str | os.PathLike):
        return read_scenario(Path(scenario))
    raise TypeError(f"scenario: give the path of a scenario YAML file (or None for the base), "
                    f"not {type(scenario).__name__}")


def _path(path: PathLike | None) -> Path | None:
    """Return a path given as text or path-like as a :class:`pathlib.Path` (None stays None)."""
    return None if path is None else Path(path)


def _osm(osm: PathLike | None) -> Path | str | None:
    """Return the OSM extract as a path, refusing a missing file or a folder in one line."""
    if osm is None or osm == OVERPASS:
        return osm
    path = Path(osm)
    if not path.exists():
        raise FileNotFoundError(f"OSM extract {path}: no such file")
    if not path.is_file():
        raise IsADirectoryError(f"OSM extract {path}: is a folder, not a file; give an OSM "
                                "extract (.osm.pbf or .osm)")
    return path


def _years(years: Sequence[int]) -> tuple[int, int]:
    """Return two years, the earlier first (equal years compare a year with itself)."""
    if isinstance(years, int) or len(years) != 2:
        raise ValueError(f"years: give two years, the earlier first, e.g. (2025, 2030); got "
                         f"{years!r}")
    a, b = (int(y) for y in years)
    if a > b:
        raise ValueError(f"years: the years must be increasing (the earlier first), got {a} {b}")
    return a, b


@dataclass(eq=False, repr=False)
class Network:
    """The network of one year under one scenario, as :func:`build_network` returns it.

    Parameters
    ----------
    build_result : corridors.build.pipeline.BuildResult
        The build (tables, master network, catalog, quality report, provenance).
    osm : pathlib.Path or None
        The OSM extract it was built from (None: the embedded backbone).
    catalog_path : pathlib.Path or None
        The catalog it was built from (None: the shipped one).

    Attributes
    ----------
    graph : networkx.MultiDiGraph
        The network as a graph following OSMnx conventions (built on first use): nodes are
        junctions, gates, stations, ports and places, with ``x``, ``y`` (degrees), ``kind``,
        ``name``, ``place_id``; edges, one per direction of travel, have ``mode``, ``class``,
        ``length_km``, ``speed_kmh_car``/``_truck`` (km/h), ``time_h_car``/``_truck`` (h),
        ``source``, ``project``, ``open_year`` and a shapely ``geometry``. ``graph.graph``
        holds ``crs``, ``year``, ``scenario`` and the data ``attribution``.

    Examples
    --------
    >>> import corridors
    >>> net = corridors.build_network(2025)
    >>> net.year, net.scenario
    (2025, 'base')
    >>> net.graph.number_of_nodes() == len(net.nodes)
    True
    """

    build_result: BuildResult
    osm: Path | str | None = None
    catalog_path: Path | None = None

    @property
    def year(self) -> int:
        """Year of the network (the network at the end of that year)."""
        return int(self.build_result.year)

    @property
    def scenario(self) -> str:
        """Name of the scenario (``"base"``: the catalogs as shipped)."""
        return self.build_result.scenario.name

    @property
    def label(self) -> str:
        """How the result tables name this network: ``"2030"`` or ``"2030 <scenario>"``."""
        return network_label(self.year, self.scenario)

    @property
    def catalog(self) -> Catalog:
        """The catalog of places, projects and corridors, as the scenario changed it."""
        return self.build_result.catalog

    @property
    def nodes(self) -> gpd.GeoDataFrame:
        """The node table (EPSG:4326), indexed by the node ids of :attr:`graph`."""
        return self.build_result.tables.nodes

    @property
    def edges(self) -> gpd.GeoDataFrame:
        """The edge table (EPSG:4326), one row per direction; ``u`` and ``v`` are node ids."""
        return self.build_result.tables.edges

    @property
    def quality(self) -> dict:
        """The quality report: km by mode and class, reachability, what is not modelled."""
        return self.build_result.report

    @property
    def provenance(self) -> dict:
        """Toolkit version, inputs and their hashes, the data attribution."""
        return self.build_result.provenance

    @cached_property
    def graph(self) -> nx.MultiDiGraph:  # noqa: D102 - documented in the class's Attributes
        from corridors.network.graph import to_graph

        return to_graph(self.nodes, self.edges, year=self.year, scenario=self.scenario,
                        attribution=self.provenance["attribution"])

    @cached_property
    def analysis(self) -> AnalysisNetwork:
        """The network as the analyses use it (routers per profile, places on nodes)."""
        return AnalysisNetwork(self.label, self.build_result.tables, self.catalog)

    def node(self, place: str) -> int:
        """Return the node of :attr:`graph` of a place (any spelling) or ``"lat,lon"``.

        Parameters
        ----------
        place : str
            A catalog place ("Lào Cai", "lao cai", "gate_huu_nghi") or ``"lat,lon"`` (the
            nearest road node, at most 50 km away).

        Returns
        -------
        int

        Raises
        ------
        LookupError
            For a place not in the catalog (with suggestions) or not in this network.
        """
        return locate(self.analysis, place).node

    def __repr__(self) -> str:
        return (f"<Network {self.label} (scenario {self.scenario!r}): {len(self.nodes)} nodes, "
                f"{len(self.edges)} edges, from {self.quality.get('network_source', '?')}>")


def build_network(year: int, scenario: ScenarioLike = None, osm: PathLike | None = None, *,
                  bbox: tuple[float, float, float, float] | None = None,
                  catalog: PathLike | None = None, dems: Sequence[PathLike] = (),
                  use_cache: bool = True, allow_empty: bool = False) -> Network:
    """Build the network of a year, as ``corridors build`` does (without writing it).

    The network of year Y is the backbone plus every catalog link and facility open by the end
    of Y, as the scenario changes them. Backbones are cached (``~/.cache/corridors``), so
    later builds take seconds.

    Parameters
    ----------
    year : int
        Year of the network (2000-2060: core.constants YEAR_MIN to YEAR_MAX).
    scenario : str or os.PathLike or Scenario, optional
        A scenario YAML file (delays, drops, additions, speeds); default: the base, the
        catalogs as shipped.
    osm : str or os.PathLike, optional
        An OSM extract (``.osm.pbf`` or ``.osm``) to use instead of the embedded backbone.
    bbox : (float, float, float, float), optional
        West, south, east, north (degrees) to cut the OSM extract to.
    catalog : str or os.PathLike, optional
        Another catalog folder, or one catalog file replacing its counterpart.
    dems : sequence of path, optional
        DEM GeoTIFFs or folders of tiles for terrain, used before the embedded ones.
    use_cache : bool, default True
        Reuse a cached backbone (False rebuilds and replaces it).
    allow_empty : bool, default False
        Build even when the OSM extract holds none of the catalog's places.

    Returns
    -------
    Network
        ``.graph`` is the :class:`networkx.MultiDiGraph` of that year.

    Raises
    ------
    corridors.core.diagnostics.InputError
        For a scenario or catalog with errors (each naming file, entry and field).
    FileNotFoundError
        If the OSM extract does not exist.
    corridors.layers.osm.OsmReadError
        If the OSM extract cannot be read or holds none of the catalog's places.

    Examples
    --------
    >>> import corridors
    >>> net = corridors.build_network(2030)
    >>> net.graph                                        # doctest: +SKIP
    <networkx.classes.multidigraph.MultiDiGraph object at 0x...>
    >>> late = corridors.build_network(2030, scenario="late-sgr.yaml")   # doctest: +SKIP
    """
    from corridors.network.terrain import dem_paths_default

    if not isinstance(year, int) or isinstance(year, bool):
        raise TypeError(f"year: give a year as an int (e.g. 2030), not {year!r}")
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise ValueError(f"year: {year} is outside {YEAR_MIN}-{YEAR_MAX}")
    sc = _scenario(scenario)
    osm_path = _osm(osm)
    dem_paths = [*map(Path, dems), *dem_paths_default()] if dems else None
    result = _build(year, sc, osm=osm_path, bbox=tuple(bbox) if bbox else None,
                    catalog_path=_path(catalog), dem_paths=dem_paths, use_cache=use_cache,
                    allow_empty=allow_empty)
    return Network(result, osm_path, Path(catalog) if catalog else None)


def _place(query: str | Sequence[float], what: str) -> str:
    """Return a place as the locator takes it: a name, or "lat,lon" from a (lat, lon) pair."""
    if isinstance(query, str):
        return query
    if isinstance(query, Sequence) and len(query) == 2:
        lat, lon = (float(v) for v in query)
        return f"{lat},{lon}"
    raise TypeError(f"{what}: give a place name or 'lat,lon', not {query!r}")


def route(network: Network, origin: str | tuple[float, float],
          destination: str | tuple[float, float], profile: str = "car") -> dict[str, Any]:
    """Return the fastest route between two places: time, length, km by mode and road class.

    The fields are those ``corridors route --format json`` prints, plus the nodes of
    ``network.graph`` where the route starts and ends.

    Parameters
    ----------
    network : Network
        The network of a year (:func:`build_network`).
    origin, destination : str or (float, float)
        A catalog place in any spelling, with or without diacritics ("Lào Cai", "Lao Cai",
        "lao cai", "gate_huu_nghi"), or coordinates ``"lat,lon"`` or ``(lat, lon)`` (degrees,
        taken at the nearest road, at most 50 km away). A BGEZ is reached at its gate.
    profile : {"car", "truck", "passenger", "freight"}
        car and truck drive; passenger adds trains and flights; freight adds trains and barges.

    Returns
    -------
    dict
        ``from``, ``to`` (names), ``from_id``, ``to_id`` (catalog ids, None for coordinates),
        ``year``, ``profile``, ``scenario``, ``reachable``, ``time_h`` (hours),
        ``length_km`` (km), ``km_by_mode``, ``km_by_class`` (km by ``mode:class``),
        ``transfers``, ``border_crossings``, ``crossings``, ``gates``, ``gauge_breaks``,
        ``snap_km`` (km from each coordinate to the node taken), and ``from_node``,
        ``to_node``: node ids of ``network.graph``. Without a route, ``reachable`` is False
        and the figures are None (or empty).

    Raises
    ------
    LookupError
        For a place not in the catalog (the message names it, with suggestions), a place
        not in this year's network (a facility not open yet), or coordinates too far from
        the network.
    ValueError
        For an unknown profile.

    Examples
    --------
    >>> import corridors
    >>> net = corridors.build_network(2030)
    >>> trip = corridors.route(net, "Hà Nội", "lao cai")
    >>> trip["to"], trip["reachable"]
    ('Lào Cai', True)
    >>> 3 < trip["time_h"] < 6
    True
    >>> corridors.route(net, "21.03,105.85", "Điện Biên Phủ", profile="truck")["time_h"]
    ...                                                  # doctest: +SKIP
    """
    from corridors.network.crossings import route_border_summary

    if not isinstance(network, Network):
        raise TypeError("network: give the network of a year, corridors.build_network(year), "
                        f"not {type(network).__name__}")
    if profile not in ROUTING_PROFILES:
        raise ValueError(f"unknown profile {profile!r}; valid: {', '.join(ROUTING_PROFILES)}")
    net = network.analysis
    a = locate(net, _place(origin, "origin"))
    b = locate(net, _place(destination, "destination"))
    router = net.router(profile)
    r = router.route(a.node, b.node)
    xb = route_border_summary(router.edges, r.edge_rows) if r else {}
    return {"from": a.label, "to": b.label, "from_id": a.place_id, "to_id": b.place_id,
            "year": network.year, "profile": profile, "scenario": network.scenario,
            "reachable": r is not None,
            "time_h": round(r.time_h, 4) if r else None,
            "length_km": round(r.length_km, 3) if r else None,
            "km_by_mode": r.km_by_mode if r else {}, "km_by_class": r.km_by_class if r else {},
            "transfers": r.transfers if r else None,
            "border_crossings": r.border_crossings if r else None,
            "crossings": xb.get("crossings"), "gates": xb.get("gates", []),
            "gauge_breaks": xb.get("gauge_breaks"),
            "snap_km": {"from": a.snap_km, "to": b.snap_km},
            "from_node": int(a.node), "to_node": int(b.node)}


def _networks_builds(networks: Sequence[Network]) -> tuple[dict[int, BuildResult], Network]:
    """Return the builds of two networks of one scenario by year, and the compared network."""
    if len(networks) != 2 or not all(isinstance(n, Network) for n in networks):
        raise TypeError("networks: give two networks of corridors.build_network, the earlier "
                        "year first")
    a, b = networks
    _years((a.year, b.year))
    same = (a.build_result.scenario == b.build_result.scenario and a.osm == b.osm
            and a.catalog_path == b.catalog_path)
    if not same:
        raise ValueError("networks: the two networks must come from the same scenario, OSM "
                         f"extract and catalog ({a!r}, {b!r})")
    return {a.year: a.build_result, b.year: b.build_result}, b


def analyse(years: Sequence[int] | None = None, scenario: ScenarioLike = None, *,
            networks: Sequence[Network] | None = None, osm: PathLike | None = None,
            profiles: Sequence[str] = DEFAULT_PROFILES, catalog: PathLike | None = None,
            each_year: bool = False,
            progress: Callable[[str], None] | None = None) -> RunResults:
    """Compute every result of two years of a scenario, writing nothing.

    What ``corridors run`` computes for one scenario before it writes: both networks, the
    analyses (gate and BGEZ access, gate-to-gate matrix, corridor KPIs, province times,
    savings, per-project attribution, critical links, international routes), the isochrones
    and the time surfaces that the maps draw.

    Parameters
    ----------
    years : (int, int), optional
        The reference year and the compared one (equal years: one year alone); default
        (2025, 2030).
    scenario : str or os.PathLike or Scenario, optional
        A scenario YAML file; default: the base.
    networks : (Network, Network), optional
        Two networks of :func:`build_network` (one scenario, the earlier year first) to
        analyse instead of building them again; then give no ``years``, ``scenario``,
        ``osm`` or ``catalog``.
    osm : str or os.PathLike, optional
        An OSM extract to use instead of the embedded backbone.
    profiles : sequence of str, default ("car", "truck", "freight")
        Routing profiles of the analyses.
    catalog : str or os.PathLike, optional
        Another catalog folder.
    each_year : bool, default False
        Also compute every year between the two (tables ``trajectory_*``).
    progress : callable, optional
        Called with the name of each step as it starts.

    Returns
    -------
    RunResults
        ``.tables`` maps each table's name to a pandas DataFrame (times in h, lengths in km,
        speeds in km/h, as the column names say); ``.map(kind)`` returns a
        :class:`folium.Map`; ``.builds`` holds both networks.

    Raises
    ------
    ValueError
        For years not in increasing order, an unknown profile, or ``networks`` with
        ``years``, ``scenario``, ``osm`` or ``catalog``.
    corridors.core.diagnostics.InputError
        For a scenario or catalog with errors.

    Examples
    --------
    >>> import corridors
    >>> results = corridors.analyse((2025, 2030))                    # doctest: +SKIP
    >>> access = results.tables["gate_access"]                       # doctest: +SKIP
    >>> access[access["profile"] == "car"][["name", "scenario", "time_h_to_ha_noi"]]
    ...                                                              # doctest: +SKIP
    >>> corridors.make_map(results, "gate", gate="Hữu Nghị")         # doctest: +SKIP
    >>> net_2025, net_2030 = corridors.build_network(2025), corridors.build_network(2030)
    >>> results = corridors.analyse(networks=(net_2025, net_2030))   # doctest: +SKIP
    """
    bad = [p for p in profiles if p not in ROUTING_PROFILES]
    if bad:
        raise ValueError(f"unknown profile {bad[0]!r}; valid: {', '.join(ROUTING_PROFILES)}")
    if networks is not None:
        given = [k for k, v in (("years", years), ("scenario", scenario), ("osm", osm),
                                ("catalog", catalog)) if v is not None]
        if given:
            raise ValueError(f"give networks or {', '.join(given)}, not both: the networks "
                             "say which years, scenario, OSM extract and catalog")
        builds, b = _networks_builds(networks)
        a_year = min(builds)
        results = compute_results((a_year, b.year), b.build_result.scenario, osm=b.osm,
                                  catalog_path=b.catalog_path, profiles=tuple(profiles),
                                  progress=progress, each_year=each_year, builds=builds)
    else:
        a_year, b_year = _years((2025, 2030) if years is None else years)
        results = compute_results((a_year, b_year), _scenario(scenario), osm=_osm(osm),
                                  catalog_path=_path(catalog), profiles=tuple(profiles),
                                  progress=progress, each_year=each_year)
    return results


@dataclass(repr=False)
class Run(Mapping[str, RunResults]):
    """The results of :func:`run`: scenario name to its :class:`RunResults`, base first.

    Attributes
    ----------
    results : dict
        Scenario name (``"base"``, then each scenario's) to its results.
    out : pathlib.Path or None
        The folder written, or None when nothing was written.
    manifests : list of dict
        What was written for each scenario (files, timings, provenance), as ``run.json``
        records it; empty when nothing was written.

    Examples
    --------
    >>> import corridors
    >>> done = corridors.run()                   # computes, writes nothing   # doctest: +SKIP
    >>> done["base"].tables["savings_gates"]                                  # doctest: +SKIP
    """

    results: dict[str, RunResults]
    out: Path | None = None
    manifests: list[dict] = field(default_factory=list)

    def __getitem__(self, name: str) -> RunResults:
        try:
            return self.results[name]
        except KeyError:
            raise KeyError(f"no scenario {name!r} in this run; scenarios: "
                           + ", ".join(self.results)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    @property
    def base(self) -> RunResults:
        """The results of the base (the catalogs as shipped)."""
        return self.results["base"]

    @property
    def files(self) -> list[Path]:
        """Every file written (empty when nothing was written)."""
        if self.out is None:
            return []
        return [self.out / m["scenario"] / f for m in self.manifests for f in m["files"]]

    def __repr__(self) -> str:
        where = f"written to {self.out}" if self.out else "not written"
        return f"<Run of {', '.join(self.results)} ({where})>"


def run(out: PathLike | None = None, years: Sequence[int] = (2025, 2030),
        scenarios: ScenarioLike | Sequence[PathLike | Scenario] = (), *,
        osm: PathLike | None = None, catalog: PathLike | None = None, force: bool = False,
        each_year: bool = False, graphml: bool = False, allow_empty: bool = False,
        progress: Callable[[str], None] | None = None) -> Run:
    """Run the main job for the base and each scenario, as ``corridors run`` does.

    Without ``out``, everything is computed and nothing is written: a notebook gets the
    results without files appearing next to it. With ``out``, the files of ``corridors run
    --out OUT`` are written too (per scenario: networks, tables, maps, GIS exports, report;
    ``OUT/index.html``), under the same contract: the folder is locked, each scenario's
    folder is swapped in when complete, and an earlier run is replaced only with
    ``force=True``.

    Parameters
    ----------
    out : str or os.PathLike, optional
        Output folder; default: write nothing (``corridors run`` writes to
        ``./corridors-out``).
    years : (int, int), default (2025, 2030)
        The two years to compare.
    scenarios : path, Scenario or sequence of them
        Scenario YAML files; the base always runs too, first.
    osm : str or os.PathLike, optional
        An OSM extract to use instead of the embedded backbone.
    catalog : str or os.PathLike, optional
        Another catalog folder.
    force : bool, default False
        Replace the previous run of the same scenarios in ``out``.
    each_year : bool, default False
        Also compute every year between the two.
    graphml : bool, default False
        Also write the networks as GraphML (slow at region scale).
    allow_empty : bool, default False
        Run even when the OSM extract holds none of the catalog's places.
    progress : callable, optional
        Called with the name of each step as it starts.

    Returns
    -------
    Run
        Scenario name to :class:`RunResults` (``run["base"].tables`` …), with the files
        written.

    Raises
    ------
    corridors.core.outputs.OutputExistsError
        If ``out`` holds a scenario's folder and ``force`` is False (nothing is written).
    corridors.core.outputs.OutputLockedError
        If another run writes into ``out``.
    corridors.core.diagnostics.InputError
        For a scenario or catalog with errors (before any work is done).
    ValueError
        For years not in increasing order, or two scenarios with the same name.

    Examples
    --------
    >>> import corridors
    >>> done = corridors.run(scenarios=["late-sgr.yaml"])            # doctest: +SKIP
    >>> done["late-sgr"].tables["savings_gates"]                     # doctest: +SKIP
    >>> corridors.run("corridors-out", force=True).files[:3]         # doctest: +SKIP
    """
    from corridors.jobs.run import compute_all, run_all

    a, b = _years(years)
    if scenarios is None or isinstance(scenarios, str | os.PathLike | Scenario):
        scenarios = [] if scenarios is None else [scenarios]
    parsed = [_scenario(s) for s in scenarios]
    osm_path = _osm(osm)
    if out is None:
        computed = compute_all((a, b), parsed, osm=osm_path, catalog_path=_path(catalog),
                               progress=progress, allow_empty=allow_empty, each_year=each_year)
        return Run({r.scenario.name: r for r in computed})
    kept: dict[str, RunResults] = {}

    def keep(results: RunResults, _manifest: dict) -> None:
        kept[results.scenario.name] = results

    manifests = run_all(Path(out), (a, b), parsed, osm=osm_path, catalog_path=_path(catalog),
                        force=force, progress=progress, allow_empty=allow_empty,
                        each_year=each_year, graphml=graphml, on_results=keep)
    return Run(kept, Path(out), manifests)
