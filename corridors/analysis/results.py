"""Everything one comparison of two scenario-years produces, computed once for every output.

Maps, GIS exports and the report all read a :class:`RunResults`: the two builds (networks,
catalog, quality reports), the analysis tables, the gate isochrones of both years, the node-level
savings, and the time-to-nearest-gate surfaces, with the run's provenance.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from corridors.analysis.analyses import DEFAULT_PROFILES, Analyses, network_label, run_analyses
from corridors.analysis.surfaces import (
    TimeGrid,
    gate_isochrones,
    node_savings,
    time_grid,
    time_to_nearest,
)
from corridors.analysis.trajectories import Trajectories
from corridors.build.analysis_network import AnalysisNetwork
from corridors.build.pipeline import BuildResult, build_networks, file_hash
from corridors.catalog.scenario import BASE, Scenario
from corridors.core.version import __version__
from corridors.layers.attribution import attribution_text
from corridors.layers.datadir import data_dir

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class RunResults:
    """The results of one comparison (see the module docstring).

    Built complete by :func:`compute_results` and not changed afterwards.

    Attributes
    ----------
    scenario : Scenario
    years : tuple of int
        (reference year A, compared year B).
    builds : dict
        Year to :class:`corridors.build.pipeline.BuildResult`.
    analyses : Analyses
        The tables of :func:`corridors.analysis.analyses.run_analyses`.
    isochrones : geopandas.GeoDataFrame
        Gate and BGEZ isochrones (car) of both years.
    node_savings : geopandas.GeoDataFrame
        Per node, the times of both years to Hà Nội, the seaport and Nội Bài, and the savings.
    grid : TimeGrid
        The regular grid of the surfaces.
    nearest_gate_h : dict
        Year to the 2-D surface of the time (h, car) to the nearest border gate.
    provenance : dict
        Toolkit version, date, years, scenario and inputs with their hashes, run time.
    timings_s : dict
        Seconds spent in each step.
    trajectories : Trajectories or None
        Every year between the two (:mod:`corridors.analysis.trajectories`), when asked for.
    """

    scenario: Scenario
    years: tuple[int, int]
    builds: dict[int, BuildResult]
    analyses: Analyses
    isochrones: gpd.GeoDataFrame
    node_savings: gpd.GeoDataFrame
    grid: TimeGrid
    nearest_gate_h: dict[int, np.ndarray]
    provenance: dict
    timings_s: dict[str, float]
    trajectories: Trajectories | None = None

    def network(self, year: int) -> AnalysisNetwork:
        """Return the analysable network of a year of the run."""
        return _network(self.scenario, year, self.builds[year])

    @property
    def labels(self) -> tuple[str, str]:
        """The labels of the two networks as the tables write them."""
        return self.analyses.labels

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The result tables by name, as pandas DataFrames (GeoDataFrames where mapped).

        The tables ``corridors run`` writes as CSV and Parquet: ``gate_access`` (times in h,
        lengths in km to Hà Nội, the seaport, Nội Bài … per gate, year and profile),
        ``savings_gates``, ``corridor_kpis``, ``province_times``, ``project_attribution``,
        ``critical_links`` and the others of :func:`corridors.analysis.analyses.run_analyses`
        (and ``trajectory_*`` when every year was computed). The ``scenario`` column holds
        the network's label (``"2030"``, ``"2030 late-sgr"``).
        """
        return self.analyses.tables

    def table(self, name: str) -> pd.DataFrame:
        """Return one result table by name (see :attr:`tables`).

        Raises
        ------
        KeyError
            For an unknown name; the message lists the tables.
        """
        try:
            return self.analyses.tables[name]
        except KeyError:
            raise KeyError(f"no table {name!r}; tables: "
                           + ", ".join(sorted(self.analyses.tables))) from None

    def __repr__(self) -> str:
        years = " → ".join(self.labels) if any(self.labels) else str(self.years)
        return (f"<RunResults scenario {self.scenario.name!r}, {years}: "
                f"{len(self.analyses.tables)} tables: {', '.join(self.analyses.tables)}>")


def _network(scenario: Scenario, year: int, build: BuildResult) -> AnalysisNetwork:
    """Return the analysable network of one build of a run (as :meth:`RunResults.network`)."""
    return AnalysisNetwork(network_label(year, scenario.name), build.tables, build.catalog)


def _trajectories(build: BuildResult, years: tuple[int, int]) -> Trajectories:
    """Return the year-by-year trajectories between the two years, on B's master network."""
    from corridors.analysis.trajectories import trajectories, year_range
    from corridors.analysis.variants import VariantEngine

    return trajectories(VariantEngine.from_master(build.master, build.catalog), build.catalog,
                        year_range(years))


def provenance_of(scenario: Scenario, years: Sequence[int], osm: str | Path | None = None,
                  catalog_path: str | Path | None = None) -> dict:
    """Return the provenance block every output carries."""
    inputs = {"region.gpkg": file_hash(data_dir() / "region.gpkg")}
    cat_dir = Path(catalog_path) if catalog_path else data_dir() / "catalog"
    for f in sorted(cat_dir.glob("*.yaml")) + sorted(cat_dir.glob("*.csv")):
        inputs[f"catalog/{f.name}"] = file_hash(f)
    inputs["speeds.yaml"] = file_hash(data_dir() / "speeds.yaml")
    if osm:
        inputs[Path(osm).name] = file_hash(osm)
    if scenario.path:
        inputs[scenario.path.name] = file_hash(scenario.path)
    return {
        "toolkit": f"corridors {__version__}",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "years": list(years), "scenario": scenario.name,
        "open_years_reading": scenario.reading,
        "scenario_description": scenario.description,
        "network_source": str(osm) if osm else "embedded backbone",
        "inputs_sha256": {k: v[:16] for k, v in inputs.items()},
        "attribution": attribution_text(),
    }


def compute_results(years: Sequence[int] = (2025, 2030), scenario: Scenario | None = None, *,
                    osm: str | Path | None = None,
                    bbox: tuple[float, float, float, float] | None = None,
                    catalog_path: str | Path | None = None, dem_paths: list | None = None,
                    profiles: Sequence[str] = DEFAULT_PROFILES,
                    progress: Callable[[str], None] | None = None,
                    allow_empty: bool = False, each_year: bool = False,
                    builds: dict[int, BuildResult] | None = None) -> RunResults:
    """Build both years of a scenario and compute every result.

    Parameters
    ----------
    years : (int, int)
        Reference and compared years.
    scenario : Scenario, optional
    osm, bbox, catalog_path, dem_paths, allow_empty
        As for :func:`corridors.build.pipeline.build_networks`.
    profiles : sequence of str
        Profiles of the analyses.
    progress : callable, optional
        Called with each step's name.
    each_year : bool
        Also compute every year between the two (:attr:`RunResults.trajectories`, and the
        ``trajectory_*`` tables among the analyses').
    builds : dict, optional
        Year to its network, built already from ``scenario``, ``osm`` and ``catalog_path``
        (:func:`corridors.build.pipeline.build_network`): they are analysed, not built again.
    """
    scenario = scenario or BASE
    pair = (years[0], years[1])
    timings: dict[str, float] = {}
    start = time.perf_counter()

    def tick(name: str, t0: float) -> None:
        timings[name] = round(time.perf_counter() - t0, 2)

    if progress:
        progress("networks")
    t0 = time.perf_counter()
    if builds is None:
        builds = build_networks(sorted(set(years)), scenario, osm=osm, bbox=bbox,
                                catalog_path=catalog_path, dem_paths=dem_paths,
                                allow_empty=allow_empty)
    tick("networks", t0)
    a, b = builds[pair[0]], builds[pair[1]]
    t0 = time.perf_counter()
    analyses = run_analyses(a, b, profiles, progress)
    tick("analyses", t0)
    timings.update({f"analyses: {k}": v for k, v in analyses.timings_s.items()})
    if progress:
        progress("surfaces")
    t0 = time.perf_counter()
    na, nb = _network(scenario, pair[0], a), _network(scenario, pair[1], b)
    grid = time_grid(nb)
    iso = pd.concat([gate_isochrones(grid, n) for n in (na, nb)], ignore_index=True)
    isochrones = gpd.GeoDataFrame(iso, geometry="geometry", crs="EPSG:4326")
    savings = node_savings(na, nb)
    gates = [p.id for p in b.catalog.places.values() if p.kind == "border_gate"]
    nearest_gate_h = {y: time_to_nearest(grid, n, gates) for y, n in zip(pair, (na, nb),
                                                                          strict=True)}
    tick("surfaces", t0)
    timings["total"] = round(time.perf_counter() - start, 2)
    provenance = provenance_of(scenario, pair, osm, catalog_path)
    provenance["run_time_s"] = timings["total"]
    coverage = a.provenance.get("extract_coverage")
    if coverage:
        provenance["extract_coverage"] = coverage
    traj = None
    if each_year:  # after the total, which it is not part of (the run's manifest times it)
        if progress:
            progress("every year")
        t0 = time.perf_counter()
        traj = _trajectories(b, pair)
        analyses = replace(analyses, tables={**analyses.tables, **traj.tables()})
        tick("trajectories", t0)
    return RunResults(scenario=scenario, years=pair, builds=builds, analyses=analyses,
                      isochrones=isochrones, node_savings=savings, grid=grid,
                      nearest_gate_h=nearest_gate_h, provenance=provenance, timings_s=timings,
                      trajectories=traj)
