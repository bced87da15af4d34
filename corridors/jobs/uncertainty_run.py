"""``corridors uncertainty``: simulate every scenario, write its tables and report.

For the base and each scenario, :func:`simulate_all` builds the master network once, turns it
into a :class:`corridors.analysis.uncertainty.Model`, and sends the samples and the attribution
samples
of every scenario as one set of tasks (on Dask, or serially); :func:`run_uncertainty` writes
``OUT/uncertainty-<scenario>/`` (``report.html`` with the fan charts, ``tables/*.csv`` and
``*.parquet``, ``uncertainty.json``) under the output contract of :mod:`corridors.core.outputs`, and
links the reports from ``OUT/index.html``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from corridors.analysis.distributed import Batch, run_batches
from corridors.analysis.results import provenance_of
from corridors.analysis.trajectories import year_range
from corridors.analysis.uncertainty import (
    Model,
    attribution_sample,
    build_model,
    run_sample,
    summarise,
)
from corridors.analysis.variants import VariantEngine
from corridors.build.pipeline import build_networks, file_hash
from corridors.catalog.scenario import BASE, Scenario
from corridors.catalog.timing import EVIDENCE_YEAR
from corridors.catalog.uncertainty_params import UncertaintyParams, load_uncertainty, with_overrides
from corridors.core.outputs import OutputFolder, output_lock, read_manifest
from corridors.layers.datadir import data_dir
from corridors.outputs.charts import fan_chart, gain_probability_chart
from corridors.outputs.index_page import UNCERTAINTY_PREFIX, index_html, uncertainty_links
from corridors.outputs.report import ROUND
from corridors.outputs.tables import write_tables

__all__ = ["Simulation", "params_for", "report_html", "run_uncertainty", "scenarios_with_base",
           "simulate_all"]

#: The year of the "gain arrives by" probability (the plans' horizon).
BY_YEAR = 2030
#: Most samples attributed by default (attribution costs one network per project and year).
MAX_ATTRIBUTION_SAMPLES = 200


@dataclass(frozen=True)
class Simulation:
    """The simulation of one scenario: its tables and how it was run.

    Attributes
    ----------
    scenario : Scenario
    params : UncertaintyParams
    run : dict
        ``samples``, ``seed``, ``years``, ``attribution_samples``, ``by_year``, ``engine``.
    tables : dict
        Name to table (see :func:`corridors.analysis.uncertainty.summarise`).
    provenance : dict
    timings_s : dict
    """

    scenario: Scenario
    params: UncertaintyParams
    run: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    provenance: dict
    timings_s: dict[str, float] = field(default_factory=dict)


def params_for(scenario: Scenario, base: UncertaintyParams | None = None) -> UncertaintyParams:
    """Return the parameters of a scenario: the file's, with its ``uncertainty:`` overrides."""
    base = base or load_uncertainty()
    name = scenario.path.name if scenario.path else scenario.name
    return with_overrides(base, scenario.uncertainty or None, name)


def simulate_all(scenarios: Sequence[Scenario], samples: int, seed: int = 0,
                 years: Sequence[int] = (2025, 2030), *, client: Any | None = None,
                 attribution_samples: int | None = None, catalog_path=None, osm=None,
                 progress: Callable[[str], None] | None = None,
                 bars: bool = False) -> list[Simulation]:
    """Simulate each scenario (see the module docstring).

    Parameters
    ----------
    scenarios : sequence of Scenario
        Usually the base and the user's scenarios.
    samples : int
        Samples per scenario (at least 1).
    seed : int
        Sample ``i`` draws from ``SeedSequence([seed, i])``.
    years : (int, int)
        First and last year; every year between is timed.
    client : distributed.Client, optional
        Run the tasks on its cluster; default serially.
    attribution_samples : int, optional
        Samples attributed (default ``min(samples, MAX_ATTRIBUTION_SAMPLES)``).
    catalog_path, osm
        As for :func:`corridors.build.pipeline.build_networks`.
    progress : callable, optional
        Called with each step's name.
    bars : bool
        Show the tasks' progress bar on a terminal.

    Raises
    ------
    ValueError
        For fewer than one sample, or a negative number of attribution samples.
    corridors.core.diagnostics.InputError
        For bad parameters (file, entry and field).
    """
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be a whole number of at least 1, got {samples!r}")
    n_attr = min(samples, MAX_ATTRIBUTION_SAMPLES) if attribution_samples is None \
        else attribution_samples
    if n_attr < 0:
        raise ValueError(f"attribution samples must be 0 or more, got {attribution_samples!r}")
    n_attr = min(n_attr, samples)
    step = progress or (lambda name: None)
    every = year_range(years)
    base_params = load_uncertainty()
    # every scenario's overrides are checked before any network is built
    prepared = [(sc, params_for(sc, base_params)) for sc in scenarios]
    models: list[tuple[Scenario, UncertaintyParams, Model, Any, dict]] = []
    for sc, params in prepared:
        timings: dict[str, float] = {}
        step(f"{sc.name}: network")
        t0 = time.perf_counter()
        build = build_networks([every[-1]], sc, osm=osm, catalog_path=catalog_path)[every[-1]]
        engine = VariantEngine.from_master(build.master, build.catalog)
        models.append((sc, params, build_model(engine, build.master, build.catalog, params,
                                               every), build.catalog, timings))
        timings["network"] = round(time.perf_counter() - t0, 2)
    batches = []
    for _, _, model, _, _ in models:
        batches.append(Batch(run_sample, model, [(seed, i) for i in range(samples)]))
        batches.append(Batch(attribution_sample, model, [(seed, i) for i in range(n_attr)]))
    step("samples")
    t0 = time.perf_counter()
    results = run_batches(batches, client, progress=bars, desc="samples")
    elapsed = round(time.perf_counter() - t0, 2)
    out = []
    for k, (sc, params, model, catalog, timings) in enumerate(models):
        step(f"{sc.name}: summary")
        timings["samples (all scenarios)"] = elapsed
        tables = summarise(model, catalog, results[2 * k], results[2 * k + 1],
                           params.gain_threshold_h, BY_YEAR)
        prov = provenance_of(sc, every, osm, catalog_path)
        path = Path(params.sources[0])
        prov["inputs_sha256"][path.name] = file_hash(path)[:16]
        run = {"samples": samples, "seed": seed, "years": list(every),
               "attribution_samples": n_attr, "evidence_year": EVIDENCE_YEAR,
               "by_year": min(max(BY_YEAR, every[0]), every[-1]),
               "engine": "serial" if client is None else
               f"dask.distributed ({len(client.scheduler_info().get('workers', {}))} workers)"}
        out.append(Simulation(sc, params, run, tables, prov, timings))
    return out


def _rounded(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for c in df.columns:
        if pd.api.types.is_float_dtype(df[c]):
            digits = ROUND["km"] if "km" in c else 0 if "year" in c else 2
            df[c] = df[c].round(digits)
    return df


def shown_sources(params: UncertaintyParams) -> list[str]:
    """Return where the parameters came from; the shipped file as ``data/…``, not a local path.

    Reports and ``uncertainty.json`` travel: an absolute path of the installation says nothing
    to their reader and leaks the machine's layout.
    """
    root = data_dir().resolve()
    out = []
    for src in params.sources:
        path = Path(src).resolve()
        out.append(f"data/{path.relative_to(root).as_posix()}" if path.is_relative_to(root)
                   else src)
    return out


def report_html(sim: Simulation) -> str:
    """Return the uncertainty report of one simulation (one HTML page, charts embedded)."""
    t = sim.tables
    years = sim.run["years"]
    by = sim.run["by_year"]
    gates = t["gate_times"]
    hn = gates[(gates["destination"] == "ha_noi") & (gates["kind"] == "border_gate")]
    by_id = hn.groupby("id")[["time_h_central", "time_h_p10", "time_h_p90"]]
    span = by_id.max() - by_id.min()
    moving = [i for i in dict.fromkeys(hn["id"]) if span.loc[i].max() > 1e-9
              and hn.loc[hn["id"] == i, "time_h_central"].nunique() > 1]
    names = hn.drop_duplicates("id").set_index("id")["name"]
    unchanged = [names[i] for i in dict.fromkeys(hn["id"]) if i not in moving]
    order = sorted(moving, key=lambda i: -float(
        hn[(hn["id"] == i) & (hn["year"] == years[0])]["time_h_central"].iloc[0]
        - hn[(hn["id"] == i) & (hn["year"] == years[-1])]["time_h_central"].iloc[0]))
    charts = {
        "gates": fan_chart(hn, "time to Hà Nội by car (h): P10–P90, P50 and the plan", order),
        "corridors": fan_chart(t["corridor_times"], "corridor end-to-end time by car (h)"),
        "gain_probability": gain_probability_chart(t["gate_gains"], f"p_gain_by_{by}"),
    }
    last = years[-1]
    attribution = t["project_attribution"]
    if len(attribution):
        attribution = attribution[attribution["year"] == last].sort_values(
            "od_hours_p50", ascending=False).drop(columns=["year"])
    corridors = t["corridor_times"]
    shown = {
        "gate_gains": t["gate_gains"].sort_values(["kind", f"p_gain_by_{by}"],
                                                  ascending=[False, False]),
        "corridors": corridors[corridors["year"].isin([years[0], last])],
        "attribution": attribution,
        "openings": t["project_openings"].sort_values("open_year_plan"),
    }
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(files("corridors.outputs") / "templates")),
        autoescape=jinja2.select_autoescape(["html"]))
    return env.get_template("uncertainty.html").render(
        title=f"Uncertainty — {sim.scenario.name}, {years[0]}–{last}", scenario=sim.scenario,
        run=sim.run, params=sim.params, prov=sim.provenance, charts=charts,
        param_sources=shown_sources(sim.params),
        unchanged=unchanged, table_names=sorted(t),
        tables={k: _rounded(v).to_html(index=False, na_rep="—", classes="t", border=0)
                for k, v in shown.items()})


def _write(sim: Simulation, folder: Path) -> list[Path]:
    """Write one simulation's files into ``folder`` (a staging folder)."""
    tables = write_tables({f"uncertainty_{k}": v for k, v in sim.tables.items()},
                          folder / "tables")
    report = folder / "report.html"
    report.write_text(report_html(sim), encoding="utf-8")
    meta = folder / "uncertainty.json"
    meta.write_text(json.dumps({"scenario": sim.scenario.name, "run": sim.run,
                                "parameters_from": shown_sources(sim.params),
                                "provenance": sim.provenance, "timings_s": sim.timings_s,
                                "files": sorted(str(p.relative_to(folder))
                                                for p in [*tables, report])},
                               ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return [*tables, report, meta]


def _refresh_index(folder: OutputFolder) -> None:
    """Rewrite OUT/index.html with the run's scenarios and the uncertainty reports."""
    index = folder.path / "index.html"
    if index.exists() and "index.html" not in read_manifest(folder.path):
        return  # a user's own page: left alone
    manifests = []
    for run_json in sorted(folder.path.glob("*/run.json")):
        try:
            manifests.append(json.loads(run_json.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    folder.write_text("index.html", index_html(manifests, extra=uncertainty_links(
        folder.path)))


def run_uncertainty(out_dir: str | Path, simulations: Sequence[Simulation], *,
                    force: bool = False) -> list[Path]:
    """Write each simulation into ``OUT/uncertainty-<scenario>/``; return the reports.

    Raises
    ------
    FileExistsError
        If a folder exists and ``force`` is False (nothing is written then).
    corridors.core.outputs.OutputLockedError
        If another run writes into ``out_dir``.
    """
    names = [UNCERTAINTY_PREFIX + s.scenario.name for s in simulations]
    reports = []
    with output_lock(out_dir) as folder:
        folder.refuse_existing(names, force)
        for sim, name in zip(simulations, names, strict=True):
            with folder.staging(name) as stage:
                _write(sim, stage)
                folder.commit_folder(stage, name)
            reports.append(folder.path / name / "report.html")
        _refresh_index(folder)
    return reports


def scenarios_with_base(scenarios: Sequence[Scenario]) -> list[Scenario]:
    """Return the base followed by the scenarios (names must differ)."""
    todo = [BASE, *scenarios]
    names = [s.name for s in todo]
    if len(set(names)) != len(names):
        raise ValueError(f"two scenarios share a name: {names}")
    return todo

