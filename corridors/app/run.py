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

import html
import json
import os
import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from corridors.analysis.results import RunResults, compute_results
from corridors.build.pipeline import write_network
from corridors.catalog.scenario import BASE, Scenario, apply_scenario
from corridors.core.outputs import INCOMPLETE_NAME, OutputFolder, output_lock
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


def _index_html(manifests: list[dict], pending: Sequence[str] = (),
                extra: Sequence[tuple[str, str]] = ()) -> str:
    """Return OUT/index.html; with ``pending`` scenarios, a page saying the run is incomplete.

    ``extra`` links (label, relative href) follow the scenarios: the uncertainty reports.
    """
    e = html.escape
    rows = "".join(f'<li><a href="{e(href)}">{e(label)}</a></li>' for label, href in extra)
    rows = "".join(
        f'<li><a href="{e(m["scenario"])}/report.html">{e(m["scenario"])}</a>: years '
        f'{" → ".join(map(str, m["years"]))}, {len(m["files"])} files, '
        f'{m["timings_s"].get("total_run", "")} s</li>' for m in manifests) + rows
    attribution = e(manifests[0]["provenance"]["attribution"]) if manifests else ""
    warning = (f"<p><strong>This run is incomplete</strong>: not yet written: "
               f"{e(', '.join(pending))} (see {INCOMPLETE_NAME}). Folders of these scenarios, "
               "if any, are from an earlier run.</p>" if pending else "")
    title = "corridors run (incomplete)" if pending else "corridors run"
    return (f"<!doctype html><meta charset='utf-8'><title>{title}</title>"
            f"<h1>Corridor planning runs</h1>{warning}<ul>{rows}</ul>"
            f"<p><small>{attribution}</small></p>")


def _mark(folder: OutputFolder, done: list[dict], pending: Sequence[str]) -> None:
    """Write INCOMPLETE (and an index saying so) before each scenario."""
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    folder.mark_incomplete(
        f"corridors run by pid {os.getpid()} on {socket.gethostname()}, updated {started}\n"
        f"written: {', '.join(m['scenario'] for m in done) or '-'}\n"
        f"not yet written: {', '.join(pending)}\n"
        "This folder mixes runs until a run completes; rerun with --force.\n")
    if (folder.path / "index.html").exists() or done:
        folder.write_text("index.html", _index_html(done, pending))


def run_all(out_dir: str | Path, years: Sequence[int] = (2025, 2030),
            scenarios: Sequence[Scenario] = (), *, osm=None, catalog_path=None,
            force: bool = False, progress: Callable[[str], None] | None = None,
            allow_empty: bool = False, each_year: bool = False,
            graphml: bool = False) -> list[dict]:
    """Run the main job for the base and each scenario; return their manifests.

    With ``each_year``, every year between the two is computed from the same master network
    (:mod:`corridors.analysis.trajectories`): the tables ``trajectory_*`` and the report's chart of
    time to Hà Nội per gate by year, with the year each gate gets its gain. With ``graphml``,
    the networks are also written as GraphML (GeoPackage only by default).

    Raises
    ------
    FileExistsError
        If a scenario's folder exists and ``force`` is False, or OUT/index.html exists and was
        not written by corridors (nothing is written then).
    corridors.core.outputs.OutputLockedError
        If another run writes into ``out_dir``.
    """
    out = Path(out_dir)
    todo = [BASE, *scenarios]
    names = [s.name for s in todo]
    if len(set(names)) != len(names):
        raise ValueError(f"two scenarios share a name: {names}")
    for sc in scenarios:  # every scenario's mistakes surface before any work is done
        apply_scenario(sc, catalog_path)
    step = progress or (lambda name: None)
    manifests: list[dict] = []
    with output_lock(out) as folder:  # the check and the swaps happen under one lock
        folder.refuse_existing(names, force, replaceable=["index.html"])
        for i, sc in enumerate(todo):
            _mark(folder, manifests, names[i:])
            t0 = time.perf_counter()
            step(f"{sc.name}: computing")
            results = compute_results(tuple(years), sc, osm=osm, catalog_path=catalog_path,
                                      progress=_prefixed(step, sc.name),
                                      allow_empty=allow_empty, each_year=each_year)
            with folder.staging(sc.name) as stage:
                manifest = _write_scenario(results, stage, _prefixed(step, sc.name), graphml)
                manifest["timings_s"]["total_run"] = round(time.perf_counter() - t0, 1)
                (stage / "run.json").write_text(json.dumps(manifest, ensure_ascii=False,
                                                           indent=2), encoding="utf-8")
                folder.commit_folder(stage, sc.name)
            manifests.append(manifest)
        from corridors.app.uncertainty_run import uncertainty_links

        links = uncertainty_links(out)  # reports of `corridors uncertainty` in this folder
        folder.write_text("index.html", _index_html(manifests, extra=links))  # last
        folder.mark_complete()
    return manifests
