"""Uncertainty by simulation: opening delays and speeds drawn, every year timed, summarised.

Each sample draws, from ``data/uncertainty.yaml`` (and a scenario's overrides):

* an **opening delay** per project not yet open, by its status in 2025 and its kind (on time
  with a probability, else late by 1 + a geometric number of years, capped); a project that
  upgrades or duplicates another never opens before it;
* a **speed factor per class**, ``exp(sigma * z)`` with the classes' z correlated (within a mode
  and across modes), applied to the speeds.yaml speed of every edge and clipped to the class's
  bounds (speeds.yaml's road bounds and legal caps; relative bounds for rail and water).

Then every year of the period is timed on the scenario's master network
(:class:`corridors.analysis.variants.VariantEngine`): gates and BGEZs to Hà Nội, the seaport and
Nội Bài,
and the economic corridors. Project attribution (the gate-hours and corridor-hours each project
brings in each year: removed from that year's network of the sample) is run on the first
``attribution_samples`` samples only, as it costs one network per project and year.

Sample ``i`` of seed ``s`` draws from ``numpy.random.SeedSequence([s, i])`` whatever process
runs it, so that the results are the same, bit for bit, serially or on any Dask cluster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from corridors.analysis.trajectories import first_gain_years, years_metrics
from corridors.analysis.variants import VariantEngine, od_saving
from corridors.catalog.model import Catalog
from corridors.catalog.timing import EVIDENCE_YEAR
from corridors.catalog.uncertainty_params import RELATIVE_CLASSES, SPEED_CLASSES, UncertaintyParams
from corridors.network.build import MasterNetwork
from corridors.network.speeds import DIVIDED_MIN_LANES, SpeedTable, load_speed_table

__all__ = ["AttributionDraw", "Model", "SampleResult", "attribution_sample", "build_model",
           "draw_open_years", "draw_times", "run_sample", "summarise"]

#: Mode of each class whose speed is drawn (for the correlation structure).
_MODE_OF = {**{c: "road" for c in SPEED_CLASSES}, "metre": "rail", "dual": "rail",
            "standard": "rail", "river": "water"}
_MODES = ("road", "rail", "water")
#: Quantiles reported.
QUANTILES = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class Model:
    """Everything a sample needs, built once and sent once to each worker.

    Attributes
    ----------
    engine : VariantEngine
    years : tuple of int
        The years timed.
    movable : numpy.ndarray
        Per project code: not yet open, so it may be late.
    p_on_time, mean_delay, max_delay : numpy.ndarray
        Per project code: the delay distribution (probability; years; years).
    depends : tuple of (int, int)
        (project, project it upgrades or duplicates): never opens before it.
    edge_class : numpy.ndarray
        Per edge: index into :data:`SPEED_CLASSES`, -1 when its speed does not vary.
    sigma : numpy.ndarray
        Per class of :data:`SPEED_CLASSES`.
    lo_kmh, hi_kmh : numpy.ndarray
        Per edge: bounds of the drawn speed, km/h.
    loading : numpy.ndarray
        Shape (classes, 1 + modes + classes): loadings of the common, mode and class normals.
    attribution : tuple of int
        Project codes attributed: those opening after the first year in the plan.
    """

    engine: VariantEngine
    years: tuple[int, ...]
    movable: np.ndarray
    p_on_time: np.ndarray
    mean_delay: np.ndarray
    max_delay: np.ndarray
    depends: tuple[tuple[int, int], ...]
    edge_class: np.ndarray
    sigma: np.ndarray
    lo_kmh: np.ndarray
    hi_kmh: np.ndarray
    loading: np.ndarray
    attribution: tuple[int, ...]


def build_model(engine: VariantEngine, master: MasterNetwork, catalog: Catalog,
                params: UncertaintyParams, years: Sequence[int],
                speed_table: SpeedTable | None = None) -> Model:
    """Return the model of one scenario (see :class:`Model`).

    Parameters
    ----------
    engine : VariantEngine
        Of ``master``, car profile.
    master : MasterNetwork
        For the lanes and posted limits of the edges (their legal caps).
    catalog : Catalog
        Status and kind of each project, and what it upgrades.
    params : UncertaintyParams
    years : sequence of int
        Every year to time, increasing.
    speed_table : SpeedTable, optional
        Default ``data/speeds.yaml``.
    """
    table = speed_table or load_speed_table()
    code = {p: i for i, p in enumerate(engine.projects)}
    n = len(engine.projects)
    movable = np.zeros(n, dtype=bool)
    p_on, mean, cap = np.ones(n), np.ones(n), np.zeros(n, dtype=np.int64)
    depends = []
    for p, proj in catalog.projects.items():
        if p not in code:
            continue
        pc = code[p]
        spec = params.delays[proj.status_2025]
        movable[pc] = engine.open_year[pc] > EVIDENCE_YEAR
        p_on[pc] = spec.p_on_time
        mean[pc] = max(1.0, spec.mean_delay_years * params.kind_factor.get(proj.kind, 1.0))
        cap[pc] = spec.max_delay_years
        for fld in ("upgrades", "same_as"):
            parent = proj.attrs.get(fld)
            if parent in code:
                depends.append((pc, code[parent]))

    cls_index = {c: i for i, c in enumerate(SPEED_CLASSES)}
    varies = np.isin(engine.mode, ["road", "rail", "water"])
    # border crossings and changes of gauge keep their fixed times (network.crossings)
    for col in ("crossing", "gauge_change"):
        if col in master.edges:
            varies &= master.edges[col].iloc[engine.rows].isna().to_numpy()
    edge_class = np.array([cls_index.get(c, -1) if v else -1
                           for c, v in zip(engine.edge_class, varies, strict=True)],
                          dtype=np.int64)
    base = engine.speed_kmh
    lo, hi = base.copy(), base.copy()
    e = master.edges.iloc[engine.rows]
    lanes = pd.to_numeric(e.get("lanes"), errors="coerce").to_numpy(dtype=float) \
        if "lanes" in e else np.full(len(e), np.nan)
    posted = pd.to_numeric(e.get("maxspeed_kmh"), errors="coerce").to_numpy(dtype=float) \
        if "maxspeed_kmh" in e else np.full(len(e), np.nan)
    profile = "car"
    for c, (blo, bhi) in ((c, table.bounds_kmh[c][profile]) for c in table.bounds_kmh):
        m = engine.edge_class == c
        if c == "expressway":
            legal = np.full(m.sum(), table.cap_kmh(profile, "expressway"))
        else:
            legal = np.where(lanes[m] >= DIVIDED_MIN_LANES, table.cap_kmh(profile, "divided"),
                             table.cap_kmh(profile, "undivided"))
        top = np.minimum(bhi, legal)
        top = np.where(np.isfinite(posted[m]) & (posted[m] > 0), np.minimum(top, posted[m]), top)
        # a speed already outside the bounds (urban stretch, posted limit) bounds itself
        lo[m] = np.minimum(blo, base[m])
        hi[m] = np.maximum(top, base[m])
    for c in RELATIVE_CLASSES:
        m = engine.edge_class == c
        rlo, rhi = params.relative_bounds.get(c, (1.0, 1.0))
        lo[m], hi[m] = base[m] * rlo, base[m] * rhi

    # z_c = a Z_common + b Z_mode + sqrt(1 - a^2 - b^2) e_c: corr across modes a^2, within a^2 + b^2
    a = np.sqrt(params.across_modes)
    b = np.sqrt(max(params.within_mode - params.across_modes, 0.0))
    k = len(SPEED_CLASSES)
    loading = np.zeros((k, 1 + len(_MODES) + k))
    for i, c in enumerate(SPEED_CLASSES):
        loading[i, 0] = a
        loading[i, 1 + _MODES.index(_MODE_OF[c])] = b
        loading[i, 1 + len(_MODES) + i] = np.sqrt(max(1.0 - a * a - b * b, 0.0))
    first = min(years)
    attribution = tuple(c for c in range(n) if engine.open_year[c] > first)
    return Model(engine=engine, years=tuple(int(y) for y in years), movable=movable,
                 p_on_time=p_on, mean_delay=mean, max_delay=cap, depends=tuple(depends),
                 edge_class=edge_class,
                 sigma=np.array([params.sigma[c] for c in SPEED_CLASSES]), lo_kmh=lo,
                 hi_kmh=hi, loading=loading, attribution=attribution)


def _streams(seed: int, index: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Independent generators for delays and speeds of one sample."""
    a, b = np.random.SeedSequence([seed, index]).spawn(2)
    return np.random.default_rng(a), np.random.default_rng(b)


def draw_open_years(model: Model, rng: np.random.Generator) -> np.ndarray:
    """Return the opening year of every project code in one sample (NaN stays NaN)."""
    n = len(model.movable)
    u = rng.random(n)
    late = rng.geometric(1.0 / model.mean_delay)
    delay = np.where(u < model.p_on_time, 0, np.minimum(late, model.max_delay))
    years = model.engine.open_year + np.where(model.movable, delay, 0)
    for _ in range(len(model.depends)):  # chains are short; stop when nothing moves
        moved = False
        for child, parent in model.depends:
            if years[parent] > years[child]:
                years[child] = years[parent]
                moved = True
        if not moved:
            break
    return years


def draw_times(model: Model, rng: np.random.Generator) -> np.ndarray:
    """Return the edge times (hours) of one sample of speeds."""
    z = model.loading @ rng.standard_normal(model.loading.shape[1])
    factor = np.exp(model.sigma * z)
    eng = model.engine
    on = model.edge_class >= 0
    speed = np.clip(eng.speed_kmh * np.where(on, factor[np.maximum(model.edge_class, 0)], 1.0),
                    model.lo_kmh, model.hi_kmh)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(on, eng.length_km / speed, eng.time_h)


@dataclass(frozen=True)
class SampleResult:
    """One sample: its draws and the times of every year.

    Attributes
    ----------
    index : int
    open_year : numpy.ndarray
        Per project code.
    od : numpy.ndarray
        Shape (years, origins, destinations), hours.
    corridors : numpy.ndarray
        Shape (years, corridors), hours.
    """

    index: int
    open_year: np.ndarray
    od: np.ndarray
    corridors: np.ndarray


@dataclass(frozen=True)
class AttributionDraw:
    """Attribution of one sample: per year and attributed project, what removing it costs.

    Attributes
    ----------
    index : int
    od_hours, corridor_hours : numpy.ndarray
        Shape (years, attributed projects): gate-hours and corridor-hours the project brings
        in that year of the sample (0 where it is not open yet).
    open : numpy.ndarray
        Shape (years, attributed projects): whether it is open.
    """

    index: int
    od_hours: np.ndarray
    corridor_hours: np.ndarray
    open: np.ndarray


def run_sample(model: Model, seed: int, index: int) -> SampleResult:
    """Draw sample ``index`` of ``seed`` and time every year (hours)."""
    r_delay, r_speed = _streams(seed, index)
    years = draw_open_years(model, r_delay)
    times = draw_times(model, r_speed)
    mets = years_metrics(model.engine, model.years, years, times)
    return SampleResult(index, years, np.stack([m.od for m in mets]),
                        np.stack([m.corridors for m in mets]))


def attribution_sample(model: Model, seed: int, index: int) -> AttributionDraw:
    """Attribute the projects in every year of sample ``index`` (the same draws as its sample)."""
    r_delay, r_speed = _streams(seed, index)
    years = draw_open_years(model, r_delay)
    times = draw_times(model, r_speed)
    eng = model.engine
    od = np.zeros((len(model.years), len(model.attribution)))
    corr = np.zeros_like(od)
    is_open = np.zeros(od.shape, dtype=bool)
    for k, y in enumerate(model.years):
        active = eng.active(y, years)
        full = eng.metrics(active, times)
        for j, c in enumerate(model.attribution):
            is_open[k, j] = active[c]
            if not active[c]:
                continue
            without = active.copy()
            without[c] = False
            od[k, j], corr[k, j] = od_saving(eng.metrics(without, times), full)
    return AttributionDraw(index, od, corr, is_open)


def _quantiles(values: np.ndarray, method: Literal["linear", "inverted_cdf"] = "linear"
               ) -> np.ndarray:
    """P10, P50, P90 over axis 0, unreachable (inf) and absent (NaN) left out; NaN if none.

    Years take ``method="inverted_cdf"``: a quantile is a year some sample has.
    """
    v = np.where(np.isfinite(values), values, np.nan)
    out = np.full((len(QUANTILES), *v.shape[1:]), np.nan)
    ok = ~np.isnan(v).all(axis=0)
    if ok.any():
        with np.errstate(invalid="ignore"):
            out[:, ok] = np.nanquantile(v[:, ok], QUANTILES, axis=0, method=method)
    return out


def summarise(model: Model, catalog: Catalog, samples: Sequence[SampleResult],
              attributions: Sequence[AttributionDraw], threshold_h: float,
              by_year: int = 2030) -> dict[str, pd.DataFrame]:
    """Return the summary tables of a simulation (hours, years; P10/P50/P90).

    Parameters
    ----------
    model : Model
    catalog : Catalog
        Project names.
    samples, attributions : sequence
        In sample order.
    threshold_h : float
        Hours: a gate's gain counts from this saving on (against the first year of the sample).
    by_year : int
        The year of ``p_gain_by_<year>`` (clipped into the years simulated).

    Returns
    -------
    dict
        ``gate_times``, ``corridor_times``, ``project_attribution``, ``project_openings``,
        ``gate_gains`` (the probability that each gate's gain arrives by ``by_year``), and
        ``samples_gates`` (every sample's time to Hà Nội per gate and year).
    """
    eng, years = model.engine, model.years
    central = years_metrics(eng, years)
    od = np.stack([s.od for s in samples])  # (samples, years, origins, dests)
    q = _quantiles(od)
    rows = []
    for k, y in enumerate(years):
        for i, oid in enumerate(eng.origin_ids):
            for j, dest in enumerate(eng.dest_keys):
                rows.append({"id": oid, "name": eng.origin_names[i], "kind": eng.origin_kinds[i],
                             "year": y, "destination": dest,
                             "time_h_central": central[k].od[i, j],
                             "time_h_p10": q[0, k, i, j], "time_h_p50": q[1, k, i, j],
                             "time_h_p90": q[2, k, i, j],
                             "p_reachable": float(np.isfinite(od[:, k, i, j]).mean())})
    gate_times = pd.DataFrame(rows)

    cor = np.stack([s.corridors for s in samples])
    qc = _quantiles(cor)
    corridor_times = pd.DataFrame([
        {"id": cid, "name": eng.corridor_names[c], "year": y,
         "time_h_central": central[k].corridors[c], "time_h_p10": qc[0, k, c],
         "time_h_p50": qc[1, k, c], "time_h_p90": qc[2, k, c]}
        for k, y in enumerate(years) for c, cid in enumerate(eng.corridor_ids)])

    names = {p.id: p for p in catalog.projects.values()}
    opened = np.stack([s.open_year for s in samples])  # (samples, projects)
    end = years[-1]
    qo = _quantiles(opened, "inverted_cdf")
    openings = pd.DataFrame([
        {"project": p, "name": names[p].name if p in names else p,
         "status_2025": names[p].status_2025 if p in names else "",
         "kind": names[p].kind if p in names else "", "open_year_plan": eng.open_year[c],
         "open_year_p10": qo[0, c], "open_year_p50": qo[1, c], "open_year_p90": qo[2, c],
         f"p_open_by_{end}": float((opened[:, c] <= end).mean())}
        for c, p in enumerate(eng.projects) if c in set(model.attribution)])

    attribution = pd.DataFrame()
    if attributions:
        a_od = np.stack([a.od_hours for a in attributions])
        a_co = np.stack([a.corridor_hours for a in attributions])
        a_open = np.stack([a.open for a in attributions])
        qa, qb = _quantiles(a_od), _quantiles(a_co)
        attribution = pd.DataFrame([
            {"project": eng.projects[c], "name": names[eng.projects[c]].name
             if eng.projects[c] in names else eng.projects[c], "year": y,
             "samples": len(attributions), "p_open": float(a_open[:, k, j].mean()),
             "od_hours_p10": qa[0, k, j], "od_hours_p50": qa[1, k, j],
             "od_hours_p90": qa[2, k, j], "corridor_hours_p10": qb[0, k, j],
             "corridor_hours_p50": qb[1, k, j], "corridor_hours_p90": qb[2, k, j]}
            for k, y in enumerate(years) for j, c in enumerate(model.attribution)])

    by = min(max(by_year, years[0]), years[-1])
    gains = []
    if "ha_noi" in eng.dest_keys:
        hn = eng.dest_keys.index("ha_noi")
        plan = np.stack([m.od[:, hn] for m in central])
        plan_first = first_gain_years(plan, years, threshold_h)
        firsts = np.stack([first_gain_years(s.od[:, :, hn], years, threshold_h)
                           for s in samples])  # (samples, origins)
        later = np.where(np.isnan(firsts), years[-1] + 1, firsts)  # "not within the years"
        qf = np.quantile(later, QUANTILES, axis=0, method="inverted_cdf")
        for i, oid in enumerate(eng.origin_ids):
            with np.errstate(invalid="ignore"):
                planned = plan[0, i] - plan[-1, i]
                arrived = firsts[:, i] <= by
            gains.append({
                "id": oid, "name": eng.origin_names[i], "kind": eng.origin_kinds[i],
                "planned_saving_h": planned, "first_gain_year_plan": plan_first[i],
                **{f"first_gain_year_p{int(p * 100)}": (v if v <= years[-1] else np.nan)
                   for p, v in zip(QUANTILES, qf[:, i], strict=True)},
                f"p_gain_by_{by}": float(arrived.mean())})
    gate_gains = pd.DataFrame(gains)

    samples_gates = pd.DataFrame([
        {"sample": s.index, "year": y, "id": oid, "time_h_to_ha_noi": s.od[k, i, 0]}
        for s in samples for k, y in enumerate(years)
        for i, oid in enumerate(eng.origin_ids)]) if eng.dest_keys[:1] == ("ha_noi",) \
        else pd.DataFrame()
    return {"gate_times": gate_times, "corridor_times": corridor_times,
            "project_attribution": attribution, "project_openings": openings,
            "gate_gains": gate_gains, "samples_gates": samples_gates}
