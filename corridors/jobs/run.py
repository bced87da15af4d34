"""The main job: everything of value the toolkit produces, for the base and each scenario.

``corridors run`` writes, per scenario, into ``OUT/<scenario>/``: the networks of both years
(GeoPackage and quality reports; GraphML on request), the analysis tables (CSV, Parquet), the
maps (HTML, PNG), the GIS exports (GeoPackage with styles, rasters, QGIS project), and the
report; and ``OUT/index.html`` linking the scenarios' reports, last. The output contract of
:mod:`corridors.core.outputs` holds: the folder is locked for the whole run (a concurrent run fails
at
once), a scenario's folder is assembled in a staging folder and swapped in only when complete, an
existing one is replaced only with ``force`` (and only the files its manifest lists), and
``OUT/INCOMPLETE`` marks the run until everything, index.html included, is written.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from corridors.analysis.results import RunResults, compute_results
from corridors.build.pipeline import write_network
from corridors.catalog.scenario import BASE, Scenario, apply_scenario
from corridors.core.outputs import OutputFolder, output_lock
from corridors.outputs.index_page import index_html, uncertainty_links
from corridors.outputs.report import write_report
from corridors.outputs.tables import write_tables


def _write_scenario(results: RunResults, folder: Path, step: Callable[[str], None],
                    graphml: bool = False) -> dict:
    """Write every output of one scenario into ``folder`` (empty); return the manifest.

    The networks are written as GeoPackage, and as GraphML too with ``graphml``.
    """
    from corridors.maps import MAP_KINDS, write_maps, write_static_maps
    from corridors.outputs.export import write_exports

    timings: dict[str, float] = {}

    def timed(name, fn):
        step(name)
        t0 = time.perf_counter()
        out = fn()
        timings[name] = round(time.perf_counter() - t0, 2)
        return out

    nets = timed("networks", lambda: [p for y in sorted(results.builds)
                                      for p in write_network(results.builds[y],
                                                             folder / "networks",
                                                             graphml=graphml)])
    tables = timed("tables", lambda: write_tables(results.analyses.tables, folder / "tables"))
    maps = timed("maps", lambda: write_maps(results, folder / "maps", MAP_KINDS, offline=True)
                 + write_static_maps(results, folder / "maps"))
    gis = timed("gis", lambda: write_exports(results, folder / "gis"))
    rel = {p.name: str(p.relative_to(folder)) for p in maps if p.suffix == ".html"}
    outputs = {"networks": "networks/", "tables": "tables/", "maps": "maps/",
               "GIS (QGIS project)": next((str(p.relative_to(folder)) for p in gis
                                           if p.suffix == ".qgz"), "gis/")}
    report = timed("report", lambda: write_report(results, folder / "report.html", rel,
                                                  outputs))
    manifest = {"scenario": results.scenario.name, "years": list(results.years),
                "provenance": results.provenance,
                "timings_s": {**results.timings_s, **timings},
                "files": sorted(str(p.relative_to(folder))
                                for p in [*nets, *tables, *maps, *gis, report])}
    (folder / "run.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2),
                                     encoding="utf-8")
    return manifest


def _prefixed(step: Callable[[str], None], prefix: str) -> Callable[[str], None]:
    """Return ``step`` with every step name prefixed (by the scenario's name)."""
    return lambda name: step(f"{prefix}: {name}")


def _mark(folder: OutputFolder, done: list[dict], pending: Sequence[str]) -> None:
    """Write INCOMPLETE (and an index saying so) before each scenario."""
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    folder.mark_incomplete(
        f"corridors run by pid {os.getpid()} on {socket.gethostname()}, updated {started}\n"
        f"written: {', '.join(m['scenario'] for m in done) or '-'}\n"
        f"not yet written: {', '.join(pending)}\n"
        "This folder mixes runs until a run completes; rerun with force (corridors run "
        "--force, or force=True in Python).\n")
    if (folder.path / "index.html").exists() or done:
        folder.write_text("index.html", index_html(done, pending))


def _check_scenarios(scenarios: Sequence[Scenario], catalog_path=None) -> list[Scenario]:
    """Return the base and the scenarios, after checking every scenario against the catalog.

    Raises
    ------
    ValueError
        If two scenarios share a name.
    corridors.core.diagnostics.InputError
        For a scenario that does not fit the catalog (every scenario's mistakes surface before
        any work is done).
    """
    todo = [BASE, *scenarios]
    names = [s.name for s in todo]
    if len(set(names)) != len(names):
        raise ValueError(f"two scenarios share a name: {names}")
    for sc in scenarios:
        apply_scenario(sc, catalog_path)
    return todo


def _compute(sc: Scenario, years: Sequence[int], step: Callable[[str], None], *,
             osm: str | Path | None, catalog_path: str | Path | None, allow_empty: bool,
             each_year: bool) -> RunResults:
    """Compute every result of one scenario (and every year between, with ``each_year``)."""
    step(f"{sc.name}: computing")
    return compute_results(tuple(years), sc, osm=osm, catalog_path=catalog_path,
                           progress=_prefixed(step, sc.name), allow_empty=allow_empty,
                           each_year=each_year)


def compute_all(years: Sequence[int] = (2025, 2030), scenarios: Sequence[Scenario] = (), *,
                osm=None, catalog_path=None, progress: Callable[[str], None] | None = None,
                allow_empty: bool = False, each_year: bool = False) -> list[RunResults]:
    """Compute what :func:`run_all` writes, for the base and each scenario, writing nothing.

    Returns
    -------
    list of RunResults
        The base first, then the scenarios in order.
    """
    step = progress or (lambda name: None)
    return [_compute(sc, years, step, osm=osm, catalog_path=catalog_path,
                     allow_empty=allow_empty, each_year=each_year)
            for sc in _check_scenarios(scenarios, catalog_path)]


def run_all(out_dir: str | Path, years: Sequence[int] = (2025, 2030),
            scenarios: Sequence[Scenario] = (), *, osm=None, catalog_path=None,
            force: bool = False, progress: Callable[[str], None] | None = None,
            allow_empty: bool = False, each_year: bool = False,
            graphml: bool = False,
            on_results: Callable[[RunResults, dict], None] | None = None) -> list[dict]:
    """Run the main job for the base and each scenario; return their manifests.

    With ``each_year``, every year between the two is computed from the same master network
    (:mod:`corridors.analysis.trajectories`): the tables ``trajectory_*`` and the report's chart of
    time to Hà Nội per gate by year, with the year each gate gets its gain. With ``graphml``,
    the networks are also written as GraphML (GeoPackage only by default). ``on_results`` is
    called with each scenario's results and manifest once its folder is written (the Python
    API keeps them; the command lets them go, one scenario at a time).

    Raises
    ------
    corridors.core.outputs.OutputExistsError
        If a scenario's folder exists and ``force`` is False, or OUT/index.html exists and was
        not written by corridors (nothing is written then).
    corridors.core.outputs.OutputLockedError
        If another run writes into ``out_dir``.
    """
    out = Path(out_dir)
    todo = _check_scenarios(scenarios, catalog_path)
    names = [s.name for s in todo]
    step = progress or (lambda name: None)
    manifests: list[dict] = []
    with output_lock(out) as folder:  # the check and the swaps happen under one lock
        folder.refuse_existing(names, force, replaceable=["index.html"])
        for i, sc in enumerate(todo):
            _mark(folder, manifests, names[i:])
            t0 = time.perf_counter()
            results = _compute(sc, years, step, osm=osm, catalog_path=catalog_path,
                               allow_empty=allow_empty, each_year=each_year)
            with folder.staging(sc.name) as stage:
                manifest = _write_scenario(results, stage, _prefixed(step, sc.name), graphml)
                manifest["timings_s"]["total_run"] = round(time.perf_counter() - t0, 1)
                (stage / "run.json").write_text(json.dumps(manifest, ensure_ascii=False,
                                                           indent=2), encoding="utf-8")
                folder.commit_folder(stage, sc.name)
            manifests.append(manifest)
            if on_results:
                on_results(results, manifest)
        links = uncertainty_links(out)  # reports of `corridors uncertainty` in this folder
        folder.write_text("index.html", index_html(manifests, extra=links))  # last
        folder.mark_complete()
    return manifests
