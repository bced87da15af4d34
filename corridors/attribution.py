"""What each project brings: the saving it makes, measured two ways, ranked.

For the projects that open between year A and year B (2025 and 2030 by default):

* **removed from B**: the network of B without the project, against B — what would be lost if
  only this project were not built;
* **added alone to A**: the network of A with only this project, against A — what it brings on
  its own.

The two differ where projects depend on each other (a section that only pays off with the next
one) or compete (two routes between the same places). Both come from masks over one master
network (:mod:`network.build`), so the whole region runs in seconds.

Metrics of a variant (all hours, lower is better):

* ``od_hours``: the sum over every gate and BGEZ of its time to Hà Nội, to the Hải Phòng seaport
  and to Nội Bài airport (pairs unreachable in either variant are left out of both);
* ``corridor_hours``: the sum of the end-to-end times of the economic corridors;
* ``people_time_h``: the population-weighted mean time of the region's people to Hà Nội.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from corridors.access import origins
from corridors.analysis_network import KEY_DESTINATIONS, AnalysisNetwork
from corridors.catalog import Catalog
from corridors.corridor_kpis import stop_nodes
from corridors.population import PopulationGrid, pixel_times
from network.assemble import projects_open_by
from network.build import MasterNetwork, tables_for_projects


@dataclass(frozen=True)
class Metrics:
    """The metrics of one network variant (see the module docstring)."""

    od: np.ndarray  # hours per (gate, destination), inf where unreachable
    corridors: np.ndarray  # hours per corridor
    people_time_h: float


def variant_metrics(net: AnalysisNetwork, grid: PopulationGrid | None, profile: str = "car"
                    ) -> Metrics:
    """Compute the metrics of one variant (time-only searches: no route breakdowns)."""
    router = net.router(profile)
    nodes = net.place_nodes
    gates = [nodes[g.id] for _, g in origins(net)]
    dests = [nodes[v] for v in KEY_DESTINATIONS.values() if v in nodes]
    od = router.times(gates, dests).ravel() if gates and dests else np.array([])
    corridors = []
    for c in sorted(net.catalog.corridors.values(), key=lambda c: c.id):
        if c.kind != "economic_corridor":
            continue
        stop = [n for _, n, _ in stop_nodes(net, c)]
        t = router.times(stop[:-1], stop[1:])
        corridors.append(float(np.trace(t)))  # leg k: from stop k to stop k + 1
    people = np.nan
    if grid is not None and (hn := net.node_of(KEY_DESTINATIONS["ha_noi"])) is not None:
        router = net.router(profile)
        to_hn, _ = router.nearest([hn])
        t = pixel_times(grid, router, to_hn)
        ok = np.isfinite(t)
        people = float((grid.people[ok] * t[ok]).sum() / grid.people[ok].sum())
    return Metrics(od=od, corridors=np.array(corridors), people_time_h=people)


def _saving(worse: Metrics, better: Metrics) -> dict[str, float]:
    both = np.isfinite(worse.od) & np.isfinite(better.od)
    cb = np.isfinite(worse.corridors) & np.isfinite(better.corridors)
    return {
        "od_hours": float((worse.od[both] - better.od[both]).sum()),
        "od_pairs_improved": int(((worse.od - better.od) > 1 / 60)[both].sum()),
        "od_pairs_connected": int((~np.isfinite(worse.od) & np.isfinite(better.od)).sum()),
        "corridor_hours": float((worse.corridors[cb] - better.corridors[cb]).sum()),
        "people_minutes": 60 * (worse.people_time_h - better.people_time_h),
    }


def attribute_projects(master: MasterNetwork, catalog: Catalog, year_a: int = 2025,
                       year_b: int = 2030, *, grid: PopulationGrid | None = None,
                       profile: str = "car", label: str = "") -> pd.DataFrame:
    """Rank the projects opening between ``year_a`` and ``year_b`` by the saving each brings.

    Parameters
    ----------
    master : MasterNetwork
        The scenario's master network (``BuildResult.master``).
    catalog : Catalog
        The scenario's catalog (names of the projects).
    year_a, year_b : int
        The two years compared.
    grid : PopulationGrid, optional
        Adds the population-weighted time to Hà Nội (``people_minutes``).
    profile : str
        Routing profile.
    label : str
        Scenario name written in the ``scenario`` column.

    Returns
    -------
    pandas.DataFrame
        One row per project: ``project``, ``name``, ``mode``, ``open_year``, then for each way
        (``removed_``, ``added_``) the savings ``od_hours``, ``od_pairs_improved``,
        ``od_pairs_connected``, ``corridor_hours``, ``people_minutes``; ranked by
        ``removed_od_hours`` (rank 1 brings most).
    """
    in_a = projects_open_by(master.edges, year_a)
    in_b = projects_open_by(master.edges, year_b)
    candidates = sorted(in_b - in_a)

    def metrics(active: set[str], year: int, name: str) -> Metrics:
        net = AnalysisNetwork(name, tables_for_projects(master, active, year), catalog)
        return variant_metrics(net, grid, profile)

    base_a, base_b = metrics(in_a, year_a, str(year_a)), metrics(in_b, year_b, str(year_b))
    names = {**{p.id: p for p in catalog.projects.values()}}
    rows = []
    for p in candidates:
        removed = _saving(metrics(in_b - {p}, year_b, f"{year_b} without {p}"), base_b)
        added = _saving(base_a, metrics(in_a | {p}, year_a, f"{year_a} with {p}"))
        proj = names.get(p)
        rows.append({"scenario": label, "profile": profile, "project": p,
                     "name": proj.name if proj else p, "name_vi": proj.name_vi if proj else "",
                     "mode": proj.mode if proj else "", "open_year": proj.open_year if proj
                     else None,
                     **{f"removed_{k}": v for k, v in removed.items()},
                     **{f"added_{k}": v for k, v in added.items()}})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table = table.sort_values(["removed_od_hours", "added_od_hours"], ascending=False)
    table.insert(0, "rank", range(1, len(table) + 1))
    total = _saving(base_a, base_b)
    table.attrs["total"] = total  # all projects together, for the report
    return table.reset_index(drop=True)
