"""Every analysis of two scenario-years, as tidy tables.

:func:`run_analyses` builds (or takes) the networks of two years of a scenario and returns the
tables a planner reads: gate and BGEZ access per profile, the gate-to-gate matrix, corridor KPIs,
population-weighted province times, their comparison (per OD pair, gate, corridor, province in
both editions), per-project attribution, and the critical links of each year.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from corridors.analysis.access import gate_access, gate_matrix
from corridors.analysis.attribution import attribute_projects
from corridors.analysis.compare import (
    compare_corridors,
    compare_gates,
    compare_od,
    compare_provinces,
    province_times,
)
from corridors.analysis.corridor_kpis import corridor_kpis, corridor_table
from corridors.analysis.criticality import critical_links, criticality_summary
from corridors.analysis.population import population_grid
from corridors.build.analysis_network import AnalysisNetwork
from corridors.build.pipeline import BuildResult

#: Profiles every run analyses by default: drivers and lorries on roads, and freight that may
#: switch to rail or barge.
DEFAULT_PROFILES = ("car", "truck", "freight")


@dataclass(frozen=True)
class Analyses:
    """The result tables of :func:`run_analyses`, by name, and how long each step took.

    Built complete by :func:`run_analyses`; the labels are those of networks A and B.
    """

    tables: dict[str, pd.DataFrame]
    timings_s: dict[str, float]
    labels: tuple[str, str]


def network_label(year: int, scenario_name: str) -> str:
    """Return how tables name the network of a scenario-year: ``"2030"``, ``"2030 late-sgr"``."""
    return str(year) if scenario_name == "base" else f"{year} {scenario_name}"


def _label(result: BuildResult) -> str:
    return network_label(result.year, result.scenario.name)


def run_analyses(a: BuildResult, b: BuildResult, profiles: Sequence[str] = DEFAULT_PROFILES,
                 progress: Callable[[str], None] | None = None) -> Analyses:
    """Run every analysis on two built networks (A is the reference, B the compared one).

    Parameters
    ----------
    a, b : BuildResult
        Usually 2025 and 2030 of one scenario (:func:`corridors.build.pipeline.build_networks`).
    profiles : sequence of str
        Routing profiles for access, corridors and attribution.
    progress : callable, optional
        Called with the name of each step as it starts (for a progress bar).

    Returns
    -------
    Analyses
    """
    tables: dict[str, pd.DataFrame] = {}
    timings: dict[str, float] = {}
    la, lb = _label(a), _label(b)
    nets = {la: AnalysisNetwork(la, a.tables, a.catalog), lb: AnalysisNetwork(lb, b.tables,
                                                                              b.catalog)}

    def step(name: str) -> None:
        if progress:
            progress(name)
        timings[name] = time.perf_counter()

    def done(name: str) -> None:
        timings[name] = round(time.perf_counter() - timings[name], 2)

    step("population grid")
    grid = population_grid(nets[lb])
    done("population grid")

    step("gate access")
    access = {(lab, p): gate_access(net, p, grid if p == "car" else None)
              for lab, net in nets.items() for p in profiles}
    tables["gate_access"] = pd.concat(access.values(), ignore_index=True)
    tables["gate_matrix"] = pd.concat([gate_matrix(net, "truck") for net in nets.values()],
                                      ignore_index=True)
    done("gate access")

    step("corridors")
    kpis = {(lab, p): corridor_kpis(net, p) for lab, net in nets.items() for p in profiles}
    tables["corridor_kpis"] = pd.concat([corridor_table(k) for k in kpis.values()],
                                        ignore_index=True)
    tables["corridor_routes"] = gpd.GeoDataFrame(
        pd.concat(kpis.values(), ignore_index=True)[["scenario", "profile", "id", "name",
                                                      "time_h", "length_km", "geometry"]],
        geometry="geometry", crs="EPSG:4326")
    done("corridors")

    step("provinces")
    ptimes = {lab: province_times(net, grid, "car") for lab, net in nets.items()}
    tables["province_times"] = pd.concat([t.assign(scenario=lab) for lab, t in
                                          ptimes.items()], ignore_index=True)
    done("provinces")

    step("comparison")
    labels = (la, lb)
    tables["savings_od"] = pd.concat(
        [compare_od(access[(la, p)], access[(lb, p)], labels).assign(profile=p)
         for p in profiles], ignore_index=True)
    tables["savings_gates"] = pd.concat(
        [compare_gates(access[(la, p)], access[(lb, p)], labels).assign(profile=p)
         for p in profiles], ignore_index=True)
    tables["savings_corridors"] = pd.concat(
        [compare_corridors(corridor_table(kpis[(la, p)]), corridor_table(kpis[(lb, p)]),
                           labels).assign(profile=p) for p in profiles], ignore_index=True)
    tables["savings_provinces"] = compare_provinces(ptimes[la], ptimes[lb], labels)
    done("comparison")

    step("international")
    from corridors.analysis.international import attribution_od, gate_catchments, international_od

    tables["international_od"] = pd.concat(
        [international_od(net, r.year) for net, r in ((nets[la], a), (nets[lb], b))],
        ignore_index=True)
    tables["gate_catchments"] = pd.concat([gate_catchments(net) for net in nets.values()],
                                          ignore_index=True)
    done("international")

    step("attribution")
    # freight: what each project brings the international rail pairs (Kunming → Hải Phòng ...)
    intl = attribution_od(b.master) if b.catalog.foreign else None
    attributions = [attribute_projects(b.master, b.catalog, a.year, b.year, grid=grid,
                                       profile=p, label=b.scenario.name,
                                       extra_od=intl if p == "freight" else None)
                    for p in profiles]
    tables["project_attribution"] = pd.concat(attributions, ignore_index=True)
    tables["project_attribution"].attrs["totals"] = {
        p: t.attrs.get("total", {}) for p, t in zip(profiles, attributions, strict=True)}
    done("attribution")

    step("criticality")
    # a closure is not bypassed through China or Laos: the network in Vietnam only
    crit = {lab: critical_links(net.domestic(), "car", top=None) for lab, net in nets.items()}
    tables["critical_links"] = pd.concat(crit.values(), ignore_index=True)
    tables["critical_links_summary"] = pd.concat(
        [criticality_summary(c) for c in crit.values()], ignore_index=True)
    done("criticality")
    return Analyses(tables=tables, timings_s=timings, labels=(la, lb))
