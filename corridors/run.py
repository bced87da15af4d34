"""The main job: everything of value the toolkit produces, for the base and each scenario.

``corridors run`` writes, per scenario, into ``OUT/<scenario>/``: the networks of both years
(GeoPackage, GraphML, quality reports), the analysis tables (CSV, Parquet), the maps (HTML, PNG),
the GIS exports (GeoPackage with styles, rasters, QGIS project), and the report; and
``OUT/index.html`` linking the scenarios' reports. A scenario's folder is assembled in a staging
folder and moved into place only when complete; an existing one is replaced only with ``force``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from corridors.build import write_network
from corridors.report import write_report
from corridors.results import RunResults, compute_results
from corridors.scenario import BASE, Scenario, apply_scenario
from corridors.tables import write_tables


def _write_scenario(results: RunResults, folder: Path, step: Callable[[str], None]) -> dict:
    """Write every output of one scenario into ``folder`` (empty); return the manifest."""
    from corridors.export import write_exports
    from maps import MAP_KINDS, write_maps, write_static_maps

    timings: dict[str, float] = {}

    def timed(name, fn):
        step(name)
        t0 = time.perf_counter()
        out = fn()
        timings[name] = round(time.perf_counter() - t0, 2)
        return out

    nets = timed("networks", lambda: [p for y in sorted(results.builds)
                                      for p in write_network(results.builds[y],
                                                             folder / "networks")])
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


def _index(out: Path, manifests: list[dict]) -> Path:
    rows = "".join(
        f'<li><a href="{m["scenario"]}/report.html">{m["scenario"]}</a>: years '
        f'{" → ".join(map(str, m["years"]))}, {len(m["files"])} files, '
        f'{m["timings_s"].get("total_run", "")} s</li>' for m in manifests)
    attribution = manifests[0]["provenance"]["attribution"] if manifests else ""
    html = (f"<!doctype html><meta charset='utf-8'><title>corridors run</title>"
            f"<h1>Corridor planning runs</h1><ul>{rows}</ul><p><small>{attribution}</small>"
            f"</p>")
    path = out / "index.html"
    path.write_text(html, encoding="utf-8")
    return path


def run_all(out_dir: str | Path, years: Sequence[int] = (2025, 2030),
            scenarios: Sequence[Scenario] = (), *, osm=None, catalog_path=None,
            force: bool = False, progress: Callable[[str], None] | None = None) -> list[dict]:
    """Run the main job for the base and each scenario; return their manifests.

    Raises
    ------
    FileExistsError
        If a scenario's folder exists and ``force`` is False (nothing is written then).
    """
    out = Path(out_dir)
    todo = [BASE, *scenarios]
    names = [s.name for s in todo]
    if len(set(names)) != len(names):
        raise ValueError(f"two scenarios share a name: {names}")
    for sc in scenarios:  # every scenario's mistakes surface before any work is done
        apply_scenario(sc, catalog_path)
    existing = [out / n for n in names if (out / n).exists()]
    if existing and not force:
        raise FileExistsError(f"{existing[0]} holds a previous run: pass --force to replace it, "
                              "or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    step = progress or (lambda name: None)
    manifests = []
    for sc in todo:
        t0 = time.perf_counter()
        step(f"{sc.name}: computing")
        results = compute_results(tuple(years), sc, osm=osm, catalog_path=catalog_path,
                                  progress=lambda name, s=sc.name: step(f"{s}: {name}"))
        with tempfile.TemporaryDirectory(dir=out, prefix=f".{sc.name}-") as tmp:
            stage = Path(tmp) / sc.name
            stage.mkdir()
            manifest = _write_scenario(results, stage, lambda n, s=sc.name: step(f"{s}: {n}"))
            manifest["timings_s"]["total_run"] = round(time.perf_counter() - t0, 1)
            (stage / "run.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2),
                                            encoding="utf-8")
            target = out / sc.name
            if target.exists():
                shutil.rmtree(target)
            stage.rename(target)
        manifests.append(manifest)
    _index(out, manifests)
    return manifests
