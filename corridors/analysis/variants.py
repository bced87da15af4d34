"""Many variants of one master network, evaluated on arrays: years, samples, project sets.

A trajectory (every year between two), a simulation (hundreds of samples of opening years and
speeds) and per-project attribution all ask the same question of one master network: with these
projects open and these edge times, how long from each gate to Hà Nội, the seaport and Nội Bài,
and along each economic corridor? :class:`VariantEngine` holds the master's routable edges once,
sorted by (u, v), so that a variant is a mask and a weight vector: the fastest of parallel edges
is one ``np.minimum.reduceat`` and the CSR matrix is built without copying any table. The
numbers equal those of :class:`network.routing.Router` on the year's tables (tested): the same
edges, the same fastest-parallel rule, the same stand-in for zero weights.

Times are hours. Places of a project not yet open (a new airport, a dry port) are absent from
the variant: their times are NaN, as they have no row in the year's tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from corridors.analysis.access import KEY_DESTINATIONS, origins
from corridors.analysis.corridor_kpis import stop_nodes
from corridors.build.analysis_network import AnalysisNetwork
from corridors.catalog.model import Catalog
from corridors.network.build import MasterNetwork, tables_for_projects
from corridors.network.schema import ROUTING_PROFILES

__all__ = ["VariantEngine", "VariantMetrics", "od_saving"]

#: Stands in for zero weights, as in :mod:`network.routing` (csgraph drops explicit zeros).
_EPS = 1e-9


@dataclass(frozen=True)
class VariantMetrics:
    """Times of one variant (hours; NaN where a place is absent, inf where unreachable).

    Attributes
    ----------
    od : numpy.ndarray
        Shape (origins, destinations): from each gate or BGEZ to each key destination.
    corridors : numpy.ndarray
        End-to-end time of each economic corridor through its stops in order.
    """

    od: np.ndarray
    corridors: np.ndarray


def od_saving(worse: VariantMetrics, better: VariantMetrics) -> tuple[float, float]:
    """Return the gate-hours and corridor-hours saved from ``worse`` to ``better``.

    Pairs (and corridors) finite in both are summed, as :mod:`corridors.analysis.attribution` does.
    """
    both = np.isfinite(worse.od) & np.isfinite(better.od)
    cb = np.isfinite(worse.corridors) & np.isfinite(better.corridors)
    return (float((worse.od[both] - better.od[both]).sum()),
            float((worse.corridors[cb] - better.corridors[cb]).sum()))


@dataclass(frozen=True)
class VariantEngine:
    """The routable edges of a master network for one profile, ready for many variants.

    Build it with :meth:`from_master`. It is plain arrays and tuples (about 100 kB for the
    embedded network), cheap to pickle and to send once to every Dask worker.

    Attributes
    ----------
    profile : str
    n_nodes : int
    u, v : numpy.ndarray
        Node positions of each routable edge, sorted by (u, v).
    time_h : numpy.ndarray
        The profile's edge times, hours.
    length_km, speed_kmh : numpy.ndarray
        Length (km) and the profile's speed (km/h) of each edge.
    mode, edge_class : numpy.ndarray
        Mode and class of each edge (object arrays).
    edge_project, edge_superseded : numpy.ndarray
        Project code of each edge and of the project that supersedes it (-1: none).
    node_project : numpy.ndarray
        Project code of each node (-1: none, always present).
    projects : tuple of str
        The project tags, by code.
    open_year : numpy.ndarray
        Opening year of each project in the master (float, NaN where unknown).
    group_start : numpy.ndarray
        First edge of each (u, v) group (parallel edges).
    origin_ids, origin_names, origin_kinds : tuple of str
        Gates then BGEZs, as :func:`corridors.analysis.access.origins` lists them.
    origin_pos : numpy.ndarray
        Node position each origin is measured at (its gate).
    dest_keys : tuple of str
        Key destinations present (``ha_noi``, ``hai_phong_seaport``, ``noi_bai_airport``).
    dest_pos : numpy.ndarray
    corridor_ids, corridor_names : tuple of str
        Economic corridors, by id.
    corridor_stops : tuple of numpy.ndarray
        Node positions of each corridor's stops, in order.
    rows : numpy.ndarray
        Position (``iloc``) of each edge in the master's edge table.
    """

    profile: str
    n_nodes: int
    u: np.ndarray
    v: np.ndarray
    time_h: np.ndarray
    length_km: np.ndarray
    speed_kmh: np.ndarray
    mode: np.ndarray
    edge_class: np.ndarray
    edge_project: np.ndarray
    edge_superseded: np.ndarray
    node_project: np.ndarray
    projects: tuple[str, ...]
    open_year: np.ndarray
    group_start: np.ndarray
    origin_ids: tuple[str, ...]
    origin_names: tuple[str, ...]
    origin_kinds: tuple[str, ...]
    origin_pos: np.ndarray
    dest_keys: tuple[str, ...]
    dest_pos: np.ndarray
    corridor_ids: tuple[str, ...]
    corridor_names: tuple[str, ...]
    corridor_stops: tuple[np.ndarray, ...]
    rows: np.ndarray

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_master(cls, master: MasterNetwork, catalog: Catalog, profile: str = "car"
                    ) -> VariantEngine:
        """Return the engine of a master network (every project open) for one profile.

        Parameters
        ----------
        master : MasterNetwork
            ``BuildResult.master`` of a scenario.
        catalog : Catalog
            The scenario's catalog (places, corridors).
        profile : {"car", "truck", "passenger", "freight"}
        """
        if profile not in ROUTING_PROFILES:
            raise ValueError(f"unknown profile {profile!r}; valid: {', '.join(ROUTING_PROFILES)}")
        timing, modes = ROUTING_PROFILES[profile]
        nodes, edges = master.nodes, master.edges
        node_ids = np.asarray(nodes.index, dtype=np.int64)
        index = pd.Series(np.arange(len(node_ids)), index=node_ids)
        tags = pd.concat([edges["project"], edges.get("superseded_by", pd.Series(dtype=object)),
                          nodes.get("project", pd.Series(dtype=object))]).dropna()
        projects = tuple(sorted({str(t) for t in tags}))
        code = {p: i for i, p in enumerate(projects)}

        def codes(col: pd.Series | None, n: int) -> np.ndarray:
            if col is None:
                return np.full(n, -1, dtype=np.int64)
            return np.array([code[str(t)] if isinstance(t, str) else -1 for t in col],
                            dtype=np.int64)

        time = edges[f"time_h_{timing}"].to_numpy(dtype=float)
        ok = edges["mode"].isin(modes).to_numpy() & np.isfinite(time)
        u = index.reindex(edges["u"].to_numpy()).to_numpy()
        v = index.reindex(edges["v"].to_numpy()).to_numpy()
        ok &= ~(np.isnan(u) | np.isnan(v))
        u, v = u[ok].astype(np.int64), v[ok].astype(np.int64)
        order = np.lexsort((v, u))
        pick = np.flatnonzero(ok)[order]
        u, v = u[order], v[order]
        start = np.flatnonzero(np.r_[True, (u[1:] != u[:-1]) | (v[1:] != v[:-1])])
        e = edges.iloc[pick]
        years = pd.to_numeric(edges["open_year"], errors="coerce")
        first = years.groupby(edges["project"]).min()
        open_year = np.array([float(first.get(p, np.nan)) for p in projects])

        # the places and corridors of the network with every project open
        every = AnalysisNetwork("all", tables_for_projects(master, set(projects), 9999), catalog)
        items = origins(every)
        place_nodes = every.place_nodes
        dests = {k: place_nodes[p] for k, p in KEY_DESTINATIONS.items() if p in place_nodes}
        corridors = sorted((c for c in catalog.corridors.values()
                            if c.kind == "economic_corridor"), key=lambda c: c.id)
        stops = tuple(index.reindex([n for _, n, _ in stop_nodes(every, c)]).to_numpy(
            dtype=np.int64) for c in corridors)
        return cls(
            profile=profile, n_nodes=len(node_ids), u=u, v=v,
            time_h=e[f"time_h_{timing}"].to_numpy(dtype=float),
            length_km=e["length_km"].to_numpy(dtype=float),
            speed_kmh=e[f"speed_kmh_{timing}"].to_numpy(dtype=float),
            mode=e["mode"].astype(str).to_numpy(dtype=object),
            edge_class=e["class"].astype(str).to_numpy(dtype=object),
            edge_project=codes(e["project"], len(e)),
            edge_superseded=codes(e.get("superseded_by"), len(e)),
            node_project=codes(nodes.get("project"), len(nodes)),
            projects=projects, open_year=open_year, group_start=start,
            origin_ids=tuple(item.id for item, _ in items),
            origin_names=tuple(item.name_vi for item, _ in items),
            origin_kinds=tuple(item.kind for item, _ in items),
            origin_pos=index.reindex([place_nodes[g.id] for _, g in items]).to_numpy(
                dtype=np.int64),
            dest_keys=tuple(dests), dest_pos=index.reindex(list(dests.values())).to_numpy(
                dtype=np.int64),
            corridor_ids=tuple(c.id for c in corridors),
            corridor_names=tuple(c.name for c in corridors), corridor_stops=stops, rows=pick)

    # -- variants -------------------------------------------------------------------------------
    def years_of(self, open_years: Mapping[str, float] | None = None) -> np.ndarray:
        """Return the opening year of every project code, with ``open_years`` replacing some."""
        years = self.open_year.copy()
        for p, y in (open_years or {}).items():
            if p in self._codes:
                years[self._codes[p]] = y
        return years

    @property
    def _codes(self) -> dict[str, int]:
        return {p: i for i, p in enumerate(self.projects)}

    def active(self, year: int, years: np.ndarray | None = None,
               without: Iterable[str] = ()) -> np.ndarray:
        """Return the mask of projects open by ``year`` (``years`` by code), less ``without``."""
        years = self.open_year if years is None else years
        with np.errstate(invalid="ignore"):
            act = years <= year
        codes = self._codes
        for p in without:
            act[codes[p]] = False
        return act

    def graph(self, active: np.ndarray, time_h: np.ndarray | None = None) -> csr_matrix:
        """Return the CSR matrix of a variant: active projects, edge times (default the base)."""
        pad = np.append(active, False)  # code -1 reads the last entry
        on = (self.edge_project < 0) | pad[self.edge_project]
        on &= ~pad[self.edge_superseded] | (self.edge_superseded < 0)
        w = np.where(on, self.time_h if time_h is None else time_h, np.inf)
        best = np.minimum.reduceat(w, self.group_start)
        keep = np.isfinite(best)
        gu, gv = self.u[self.group_start][keep], self.v[self.group_start][keep]
        indptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(gu, minlength=self.n_nodes), out=indptr[1:])
        data = best[keep]
        return csr_matrix((np.where(data == 0, _EPS, data), gv, indptr),
                          shape=(self.n_nodes, self.n_nodes))

    def present(self, active: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Return which nodes (positions) are in the variant: untagged or of an active project."""
        tag = self.node_project[positions]
        return (tag < 0) | np.append(active, False)[tag]

    def metrics(self, active: np.ndarray, time_h: np.ndarray | None = None,
                corridors: bool = True) -> VariantMetrics:
        """Return the times of one variant (see :class:`VariantMetrics`).

        Parameters
        ----------
        active : numpy.ndarray
            Mask of the open projects, by code (:meth:`active`).
        time_h : numpy.ndarray, optional
            Edge times (hours) replacing the base times (a sample of speeds).
        corridors : bool
            Also time the corridors (forward searches from every stop).
        """
        g = self.graph(active, time_h)
        if len(self.dest_pos):
            to_dest = np.atleast_2d(dijkstra(g.T.tocsr(), directed=True, indices=self.dest_pos))
            od = to_dest[:, self.origin_pos].T.copy()
        else:
            od = np.empty((len(self.origin_pos), 0))
        od[~self.present(active, self.origin_pos), :] = np.nan
        od[:, ~self.present(active, self.dest_pos)] = np.nan
        times = np.full(len(self.corridor_stops), np.nan)
        if corridors and self.corridor_stops:
            stops = np.unique(np.concatenate(self.corridor_stops))
            dist = np.atleast_2d(dijkstra(g, directed=True, indices=stops))
            row = {int(s): i for i, s in enumerate(stops)}
            for k, st in enumerate(self.corridor_stops):
                legs = [dist[row[int(a)], b] for a, b in zip(st[:-1], st[1:], strict=True)]
                times[k] = float(np.sum(legs)) if self.present(active, st).all() else np.nan
        return VariantMetrics(od=od, corridors=times)
