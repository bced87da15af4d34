"""Year-by-year trajectories: every year between two, from one master network.

The networks of the years are masks over the scenario's master network (the one the run's two
years come from), so that year 2030 of a trajectory is exactly the run's 2030. For each year:
the time of every gate and BGEZ to Hà Nội, the Hải Phòng seaport and Nội Bài airport, and of
every economic corridor; then, per gate, **when it gets its gain**: the first year its time to
Hà Nội falls at least ``threshold_h`` below the first year's, and the project that brings it
(of the projects opening that year, the one whose removal from that year costs the gate most).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from corridors.analysis.variants import VariantEngine, VariantMetrics
from corridors.catalog.model import Catalog

__all__ = ["Trajectories", "first_gain_years", "trajectories", "year_range", "years_metrics"]

#: Default threshold (hours) of a gate's gain; ``data/uncertainty.yaml`` gives its reasoning.
GAIN_THRESHOLD_H = 0.25


@dataclass(frozen=True)
class Trajectories:
    """The trajectories of one scenario (tables with units in their column names).

    Attributes
    ----------
    years : tuple of int
    threshold_h : float
        Hours: the gain that counts (see the module docstring).
    gates : pandas.DataFrame
        One row per gate or BGEZ and year: ``id``, ``name``, ``kind``, ``year``,
        ``time_h_to_<destination>`` (NaN where the place is not in that year's network).
    corridors : pandas.DataFrame
        One row per economic corridor and year: ``id``, ``name``, ``year``, ``time_h``.
    gains : pandas.DataFrame
        One row per gate or BGEZ: ``time_h_to_ha_noi`` of the first and last year,
        ``saving_h``, ``first_gain_year`` (empty when the gain never reaches the threshold),
        ``gain_h`` that year, and the ``project`` (``project_name``) that brings it with
        ``project_gain_h``, the time to Hà Nơi its removal would cost that year.
    """

    years: tuple[int, ...]
    threshold_h: float
    gates: pd.DataFrame
    corridors: pd.DataFrame
    gains: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the tables by the names the run writes them under."""
        return {"trajectory_gates": self.gates, "trajectory_corridors": self.corridors,
                "trajectory_gains": self.gains}


def year_range(years: Sequence[int]) -> tuple[int, ...]:
    """Return every year from the first to the last of ``years`` (2025, 2030 -> 2025..2030)."""
    return tuple(range(min(years), max(years) + 1))


def years_metrics(engine: VariantEngine, years: Sequence[int],
                  open_years: np.ndarray | None = None, time_h: np.ndarray | None = None,
                  corridors: bool = True) -> list[VariantMetrics]:
    """Return the metrics of each year (projects open by then, by ``open_years`` per code)."""
    return [engine.metrics(engine.active(y, open_years), time_h, corridors) for y in years]


def first_gain_years(times_h: np.ndarray, years: Sequence[int], threshold_h: float
                     ) -> np.ndarray:
    """Return, per column, the first year whose time is ``threshold_h`` below the first row's.

    Parameters
    ----------
    times_h : numpy.ndarray
        Shape (years, items): hours (inf unreachable, NaN absent).
    years : sequence of int
        The years of the rows.
    threshold_h : float
        Hours.

    Returns
    -------
    numpy.ndarray
        Year per item (float), NaN where the gain never reaches the threshold.

    Examples
    --------
    >>> first_gain_years(np.array([[3.0, 2.0], [2.9, 2.0], [2.5, 2.0]]), [2025, 2026, 2027], 0.25)
    array([2027.,   nan])
    """
    with np.errstate(invalid="ignore"):
        gain = times_h[:1] - times_h
        gained = np.where(np.isinf(times_h[:1]) & np.isfinite(times_h), True,
                          gain >= threshold_h - 1e-12)
    gained &= ~np.isnan(times_h)
    first = np.argmax(gained, axis=0)
    out = np.asarray(years, dtype=float)[first]
    out[~gained.any(axis=0)] = np.nan
    return out


def trajectories(engine: VariantEngine, catalog: Catalog, years: Sequence[int],
                 threshold_h: float = GAIN_THRESHOLD_H) -> Trajectories:
    """Compute the trajectories of every year in ``years`` (see the module docstring).

    Parameters
    ----------
    engine : VariantEngine
        Of the scenario's master network (car profile for the report).
    catalog : Catalog
        The scenario's catalog (project names).
    years : sequence of int
        Increasing years; the gains are measured against the first.
    threshold_h : float
        Hours.

    Returns
    -------
    Trajectories
    """
    years = tuple(int(y) for y in years)
    mets = years_metrics(engine, years)
    rows = []
    for y, m in zip(years, mets, strict=True):
        frame = pd.DataFrame({"id": engine.origin_ids, "name": engine.origin_names,
                              "kind": engine.origin_kinds, "year": y})
        for j, key in enumerate(engine.dest_keys):
            frame[f"time_h_to_{key}"] = m.od[:, j]
        rows.append(frame)
    gates = pd.concat(rows, ignore_index=True)
    corridors = pd.DataFrame([{"id": cid, "name": name, "year": y, "time_h": m.corridors[k]}
                              for y, m in zip(years, mets, strict=True)
                              for k, (cid, name) in enumerate(zip(engine.corridor_ids,
                                                                  engine.corridor_names,
                                                                  strict=True))])
    gains = _gains(engine, catalog, years, mets, threshold_h)
    return Trajectories(years, threshold_h, gates, corridors, gains)


def _gains(engine: VariantEngine, catalog: Catalog, years: tuple[int, ...],
           mets: list[VariantMetrics], threshold_h: float) -> pd.DataFrame:
    if "ha_noi" not in engine.dest_keys:
        return pd.DataFrame(columns=["id", "name", "kind", "first_gain_year"])
    hn = engine.dest_keys.index("ha_noi")
    times = np.stack([m.od[:, hn] for m in mets])  # (years, origins)
    first = first_gain_years(times, years, threshold_h)
    names = {**{p.id: p.name for p in catalog.links.values()},
             **{p.id: p.name for p in catalog.projects.values()}}
    without: dict[tuple[int, str], np.ndarray] = {}  # the year without one project, computed once
    rows = []
    for i, oid in enumerate(engine.origin_ids):
        row = {"id": oid, "name": engine.origin_names[i], "kind": engine.origin_kinds[i],
               f"time_h_to_ha_noi_{years[0]}": times[0, i],
               f"time_h_to_ha_noi_{years[-1]}": times[-1, i],
               "saving_h": times[0, i] - times[-1, i], "first_gain_year": first[i],
               "gain_h": np.nan, "project": "", "project_name": "", "project_gain_h": np.nan}
        if np.isfinite(first[i]):
            y = int(first[i])
            k = years.index(y)
            row["gain_h"] = times[0, i] - times[k, i]
            opening = [p for c, p in enumerate(engine.projects)
                       if y - 1 < engine.open_year[c] <= y]
            best, loss = "", 0.0
            for p in opening:
                if (y, p) not in without:
                    active = engine.active(y, without=[p])
                    without[(y, p)] = engine.metrics(active, corridors=False).od[:, hn]
                with np.errstate(invalid="ignore"):
                    cost = without[(y, p)][i] - times[k, i]
                if np.isinf(cost) or cost > loss:
                    best, loss = p, float(cost)
            if best:
                row.update(project=best, project_name=names.get(best, best), project_gain_h=loss)
        rows.append(row)
    return pd.DataFrame(rows)
