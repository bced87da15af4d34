"""What each project brings: the saving it makes, measured two ways, ranked.

For the projects that open between year A and year B (2025 and 2030 by default):

* **removed from B**: the network of B without the project, against B — what would be lost if
  only this project were not built;
* **added alone to A**: the network of A with only this project, against A — what it brings on
  its own.

The two differ where projects depend on each other (a section that only pays off with the next
one) or compete (two routes between the same places). Both come from masks over one master
network (:mod:`network.build`), so the whole region runs in seconds: the master's routable edges
are laid out once in one compressed sparse row (CSR) matrix per profile, and a variant only
re-weights it (the fastest of its *active* parallel edges per entry, ``inf`` where none is
active), without copying a table or rebuilding a router. Its places are the master's places that
the variant keeps (:func:`network.build.tables_for_projects`' rule), and every search of a
variant (gates, corridor stops, Hà Nội) is one call. The numbers are those of
:func:`variant_metrics` on the variant's own tables, to the last bit (tested): the same
edges, the same fastest-parallel rule and zero stand-in as :class:`network.routing.Router`,
and Dijkstra's distances do not depend on how the nodes are numbered.

Metrics of a variant (all hours, lower is better):

* ``od_hours``: the sum over every gate and BGEZ of its time to Hà Nội, to the Hải Phòng seaport
  and to Nội Bài airport (pairs unreachable in either variant are left out of both);
* ``corridor_hours``: the sum of the end-to-end times of the economic corridors;
* ``people_time_h``: the population-weighted mean time of the region's people to Hà Nội.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from corridors.analysis.access import KEY_DESTINATIONS, origins
from corridors.analysis.corridor_kpis import _road_node_index, stop_nodes
from corridors.analysis.population import PopulationGrid, pixel_times
from corridors.build.analysis_network import AnalysisNetwork
from corridors.catalog.model import Catalog
from corridors.network.assemble import projects_open_by
from corridors.network.build import MasterNetwork, NetworkTables
from corridors.network.routing import Router
from corridors.network.schema import ROUTING_PROFILES

#: Stand-in for zero weights, as in :mod:`network.routing` (csgraph may drop explicit zeros).
_EPS = 1e-9
#: Searches stop at this many hours: an entry of ``inf`` (an inactive edge) is then never
#: queued (scipy queues ``inf`` under an infinite limit), and nothing real is this far.
_LIMIT_H = 1e300
#: A bound must exceed a time by this much (h) to rule a detour out: far above the rounding of
#: a sum of hours (1e-12), far below any time that matters.
BOUND_TOL_H = 1e-6
#: A variant's search from a source reaches its base's farthest target time plus this share of
#: it, and at least this many hours; a target beyond is searched again without a limit.
REACH_MARGIN_SHARE = 0.25
REACH_MARGIN_H = 0.5


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


@dataclass
class _Reference:
    """The searches of a base year that its variants reuse (see :meth:`_Variants.metrics`).

    Attributes
    ----------
    data : numpy.ndarray
        The base's matrix weights (h).
    paths : dict
        (source, target) node ids to the CSR entries of the base's fastest path.
    reach : dict
        Source node to the time (h) of its farthest target.
    times : dict
        (source, target) to the time (h).
    hn, hn_tree, people : int, numpy.ndarray, float
        Hà Nội's node, the entries of every node's path to it, the population's mean time.
    gate_rows : dict
        Gate node to its times (h) to every node.
    dests : list of int
        The key destinations' nodes.
    """

    data: np.ndarray
    paths: dict
    reach: dict
    times: dict = field(default_factory=dict)
    gate_rows: dict = field(default_factory=dict)
    dests: list = field(default_factory=list)
    hn: int | None = None
    hn_tree: np.ndarray | None = None
    people: float = np.nan


def _walk(pred: np.ndarray, src: int, dst: int) -> np.ndarray:
    """Return the matrix positions of the path from ``src`` to ``dst`` in a predecessor row."""
    path = [dst]
    while path[-1] != src:
        path.append(int(pred[path[-1]]))
    return np.array(path[::-1], dtype=np.int64)


class _Tags:
    """Project tags (or none) of many rows, coded once: ``isin`` costs one array lookup."""

    def __init__(self, values: np.ndarray):
        self.code, self.tags = pd.factorize(values)  # -1 where a row has none (NaN, None)
        self.none = self.code < 0

    def isin(self, active: set[str]) -> np.ndarray:
        """Return whether each row's tag is in ``active`` (as :meth:`pandas.Series.isin`)."""
        act = np.array([t in active for t in self.tags] + [False], dtype=bool)
        return act[self.code]


class _MaskedRouter(Router):
    """A :class:`network.routing.Router` over the master's nodes with a variant's weights.

    Only what :func:`variant_metrics` uses is set: the matrix, node positions and timing.
    """

    def __init__(self, graph: csr_matrix, node_ids: np.ndarray, index: pd.Series,
                 pos: dict[int, int], profile: str, timing: str):
        self.profile, self.weight, self.timing = profile, "time", timing
        self.graph, self.node_ids, self._index, self._pos = graph, node_ids, index, pos
        self._reverse = None

    def indices(self, node_ids) -> np.ndarray:
        """Return the matrix positions of node ids (KeyError naming the missing ones)."""
        ids = [int(i) for i in node_ids]
        missing = [i for i in ids if i not in self._pos]
        if missing:
            raise KeyError(f"nodes not in the network: {missing}")
        return np.array([self._pos[i] for i in ids], dtype=np.int64)

    def times(self, sources, targets=None, limit: float = _LIMIT_H) -> np.ndarray:
        """Return the travel-time matrix (h), as :meth:`Router.times`; ``inf`` beyond ``limit``."""
        dist = np.atleast_2d(dijkstra(self.graph, directed=True, indices=self.indices(sources),
                                      limit=min(limit, _LIMIT_H)))
        return dist if targets is None else dist[:, self.indices(targets)]

    def search_from(self, src: int, limit: float = _LIMIT_H, predecessors: bool = False
                    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Return the times (h) from one node to every node, and its predecessors if asked."""
        out = dijkstra(self.graph, directed=True, indices=self.indices([src])[0],
                       limit=min(limit, _LIMIT_H), return_predecessors=predecessors)
        return out if predecessors else (out, None)

    def nearest_tree(self, target: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return :meth:`nearest` times of one target, and every node's next node towards it.

        Returns
        -------
        time_h : numpy.ndarray
            Hours from each node to the target.
        x, y : numpy.ndarray
            Matrix positions: the first step of ``x``'s fastest path to the target is
            ``x -> y``.
        """
        if self._reverse is None:
            self._reverse = self.graph.T.tocsr()
        dist, pred, _ = dijkstra(self._reverse, directed=True, indices=self.indices([target]),
                                 min_only=True, return_predecessors=True, limit=_LIMIT_H)
        x = np.flatnonzero(pred >= 0)  # in the reverse tree pred[x] -> x: the original x -> y
        return dist, x, pred[x].astype(np.int64)

    def nearest(self, targets) -> tuple[np.ndarray, np.ndarray]:
        """Return the time (h) from every node to the nearest target, as :meth:`Router.nearest`."""
        if self._reverse is None:
            self._reverse = self.graph.T.tocsr()
        dist, _, origin = dijkstra(self._reverse, directed=True, indices=self.indices(targets),
                                   min_only=True, return_predecessors=True, limit=_LIMIT_H)
        return dist, np.where(origin >= 0, self.node_ids[np.maximum(origin, 0)], -1)


class _Variants:
    """The master network laid out once for one profile; variants are masks over it.

    Parameters
    ----------
    master : MasterNetwork
    catalog : Catalog
    profile : str
    """

    def __init__(self, master: MasterNetwork, catalog: Catalog, profile: str):
        timing, modes = ROUTING_PROFILES[profile]
        self.master, self.catalog, self.profile, self.timing = master, catalog, profile, timing
        nodes, edges = master.nodes, master.edges
        self.node_ids = np.asarray(nodes.index, dtype=np.int64)
        n = len(self.node_ids)
        self.index = pd.Series(np.arange(n), index=self.node_ids)
        self.pos = dict(zip(self.node_ids.tolist(), range(n), strict=True))
        u = self.index.reindex(edges["u"].to_numpy()).to_numpy()
        v = self.index.reindex(edges["v"].to_numpy()).to_numpy()
        w = edges[f"time_h_{timing}"].to_numpy(dtype=float)
        ok = ~(np.isnan(u) | np.isnan(v)) & edges["mode"].isin(modes).to_numpy() & np.isfinite(w)
        self.rows = np.flatnonzero(ok)
        # the project tags of each routable edge, for :func:`active_edges` on arrays
        self.edge_project = _Tags(edges["project"].to_numpy()[ok])
        sup = edges.get("superseded_by")
        self.edge_superseded = _Tags(sup.to_numpy()[ok] if sup is not None
                                     else np.full(len(self.rows), None, dtype=object))
        keys = u[ok].astype(np.int64) * n + v[ok].astype(np.int64)
        uniq, self.entry = np.unique(keys, return_inverse=True)
        self.keys = uniq  # sorted u * n + v of each CSR entry
        self.w = w[ok]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(uniq // n, minlength=n), out=indptr[1:])
        self.indices, self.indptr = (uniq % n).astype(np.int32), indptr.astype(np.int32)
        self.shape = (n, n)
        place = nodes["place_id"]
        self.is_place = place.map(lambda p: isinstance(p, str)).to_numpy(dtype=bool)
        project = nodes.get("project")
        self.node_project = project
        self.node_tags = None if project is None else _Tags(project.to_numpy())
        # stops that are not places of the variant snap to the nearest ordinary road node; those
        # roads carry no project, so they are the same in every variant
        self._road_index = None
        self.searches = 0  # single-source searches run, for the record

    def entries(self, path: np.ndarray) -> np.ndarray:
        """Return the CSR entries of the steps of a path (matrix positions)."""
        return np.searchsorted(self.keys, path[:-1] * self.shape[0] + path[1:])

    def on(self, active: set[str]) -> np.ndarray:
        """Return the routable edges present, as :func:`network.assemble.active_edges`."""
        return ((self.edge_project.none | self.edge_project.isin(active))
                & ~self.edge_superseded.isin(active))

    def router(self, active: set[str]) -> _MaskedRouter:
        """Return the router of the variant with the ``active`` projects."""
        on = self.on(active)
        data = np.full(len(self.indices), np.inf)
        np.minimum.at(data, self.entry[on], self.w[on])
        data[data == 0] = _EPS
        graph = csr_matrix((data, self.indices, self.indptr), shape=self.shape)
        return _MaskedRouter(graph, self.node_ids, self.index, self.pos, self.profile,
                             self.timing)

    def network(self, active: set[str], year: int, name: str) -> AnalysisNetwork:
        """Return the variant as an AnalysisNetwork holding only its place nodes.

        Places follow :func:`network.build.tables_for_projects`: a node is kept when it has no
        project or an active one (the rule for shared waypoints concerns no place).
        """
        keep = self.is_place.copy()
        if self.node_tags is not None:
            keep &= self.node_tags.none | self.node_tags.isin(active)
        nodes = self.master.nodes[keep]
        places = {str(p): int(i) for i, p in zip(nodes.index, nodes["place_id"], strict=True)}
        tables = NetworkTables(year=year, nodes=nodes, edges=self.master.edges.iloc[:0],
                               assembly=self.master.assembly, projects=frozenset(active))
        return _VariantNetwork(name, tables, self.catalog, places=places, variants=self)

    def road_index(self):
        """Return the nearest-road-node index of :func:`~.corridor_kpis.stop_nodes`."""
        if self._road_index is None:
            full = NetworkTables(year=0, nodes=self.master.nodes, edges=self.master.edges,
                                 assembly=self.master.assembly)
            self._road_index = _road_node_index(AnalysisNetwork("master", full, self.catalog))
        return self._road_index

    def stop_node(self, stop, places: dict[str, int]) -> int:
        """Return a corridor stop's node, as :func:`~.corridor_kpis.stop_nodes` does."""
        if stop.place_id and stop.place_id in places:
            return places[stop.place_id]
        ids, tree, scale = self.road_index()
        _, i = tree.query(np.array([stop.lon, stop.lat]) * scale)
        return int(ids[i])

    def _unimproved(self, router: _MaskedRouter, changed: np.ndarray, gates: list[int],
                    dests: list[int], ref: _Reference) -> dict[tuple[int, int], float]:
        """Return the gate times that weights which only fell cannot improve (the reference's).

        A path that uses a lowered entry ``x -> y`` first is at least the reference's time to
        ``x`` (its part before is a path of the reference) plus the new weight plus the
        variant's time from ``y`` to the destination (one reverse search per destination). When
        that bound exceeds the reference's time by :data:`BOUND_TOL_H` for every lowered entry,
        no path gets faster, and the reference's path is intact: the time is the same float.
        """
        if sorted(dests) != sorted(ref.dests):
            return {}
        n = self.shape[0]
        x, y = self.keys[changed] // n, self.keys[changed] % n
        w = router.graph.data[changed]
        if router._reverse is None:
            router._reverse = router.graph.T.tocsr()
        to_dest = np.atleast_2d(dijkstra(router._reverse, directed=True,
                                         indices=router.indices(dests), limit=_LIMIT_H))
        self.searches += len(dests)
        d_idx = router.indices(dests)
        out = {}
        for g in gates:
            row = ref.gate_rows.get(g)
            if row is None:
                continue
            bound = (row[x] + w)[None, :] + to_dest[:, y]  # (dests, lowered entries)
            base = row[d_idx]
            # an unreachable destination may become reachable: searched
            if np.all(np.isfinite(base) & (bound.min(axis=1, initial=np.inf)
                                           > base + BOUND_TOL_H)):
                out.update({(g, d): ref.times[(g, d)] for d in dests})
        return out

    def metrics(self, active: set[str], year: int, name: str, grid: PopulationGrid | None,
                ref: _Reference | None = None) -> tuple[Metrics, _Reference | None]:
        """Return the metrics of one variant, as :func:`variant_metrics` on its tables.

        Without ``ref`` (a base year), every source is searched in full and the searches are
        kept as the reference of the variants of that year (returned). With ``ref``:

        * a time is the reference's when the variant's weights differ from the reference's only
          by increases, none on the reference's path to that target: the path is intact and no
          other got shorter, so the time is the same float (every path's sum, in path order,
          is monotone in its weights);
        * the other sources are searched as far as the reference's farthest target of theirs
          plus :data:`REACH_MARGIN_SHARE` of it (at least :data:`REACH_MARGIN_H`), and again
          without a limit when a target lies beyond: within a limit, Dijkstra's times are those
          of the unbounded search, to the bit;
        * the population's time to Hà Nội is the reference's under the same rule, over the
          tree of every node's path to Hà Nội.
        """
        net = self.network(active, year, name)
        router = self.router(active)
        data = router.graph.data
        nodes = net.place_nodes
        gates = [nodes[g.id] for _, g in origins(net)]
        dests = [nodes[v] for v in KEY_DESTINATIONS.values() if v in nodes]
        stops = [[self.stop_node(s, nodes) for s in c.stops]
                 for c in sorted(net.catalog.corridors.values(), key=lambda c: c.id)
                 if c.kind == "economic_corridor"]
        needs: dict[int, list[int]] = {}
        for g in gates if dests else []:
            needs.setdefault(g, []).extend(dests)
        for st in stops:
            for a, b in zip(st[:-1], st[1:], strict=True):
                needs.setdefault(a, []).append(b)
        times: dict[tuple[int, int], float] = {}
        if ref is not None:
            changed = np.flatnonzero(data != ref.data)
            only_up = not (data[changed] < ref.data[changed]).any()
            touched = np.zeros(len(data), dtype=bool)
            touched[changed] = True
            if len(changed) and not (data[changed] > ref.data[changed]).any() and dests:
                times.update(self._unimproved(router, changed, gates, dests, ref))
        keep = (_Reference(data=data.copy(), paths={}, reach={}, dests=list(dests))
                if ref is None else None)
        for src, targets in needs.items():
            if all((src, t) in times for t in targets):
                continue
            if ref is not None and only_up and all(
                    (src, t) in ref.paths and not touched[ref.paths[(src, t)]].any()
                    for t in targets):
                times.update({(src, t): ref.times[(src, t)] for t in targets})
                continue
            t_idx = router.indices(targets)
            limit = _LIMIT_H
            if ref is not None and np.isfinite(ref.reach.get(src, np.inf)):
                r = ref.reach[src]
                limit = r + max(REACH_MARGIN_H, REACH_MARGIN_SHARE * r)
            dist, pred = router.search_from(src, limit=limit, predecessors=keep is not None)
            self.searches += 1
            if not np.isfinite(dist[t_idx]).all() and limit < _LIMIT_H:
                dist, pred = router.search_from(src)  # a target beyond the limit, or cut off
                self.searches += 1
            times.update({(src, t): float(dist[j]) for t, j in zip(targets, t_idx, strict=True)})
            if keep is not None:
                keep.reach[src] = float(np.max(dist[t_idx]))
                if src in gates:
                    keep.gate_rows[src] = dist
                assert pred is not None  # search_from returns predecessors when keeping
                s_pos = int(router.indices([src])[0])
                for t, j in zip(targets, t_idx, strict=True):
                    if np.isfinite(dist[j]):
                        keep.paths[(src, t)] = self.entries(_walk(pred, s_pos, int(j)))
        od = (np.array([[times[(g, d)] for d in dests] for g in gates]).ravel()
              if gates and dests else np.array([]))
        # the trace of the leg matrix, as variant_metrics sums it
        corridors = [float(np.trace(np.diag([times[(a, b)] for a, b in
                                             zip(st[:-1], st[1:], strict=True)])))
                     for st in stops]
        people = np.nan
        if grid is not None and (hn := nodes.get(KEY_DESTINATIONS["ha_noi"])) is not None:
            if (ref is not None and only_up and ref.hn_tree is not None and ref.hn == hn
                    and not touched[ref.hn_tree].any()):
                people = ref.people
            else:
                to_hn, x, y = router.nearest_tree(hn)
                tree = np.searchsorted(self.keys, x * self.shape[0] + y)
                px_t = pixel_times(grid, router, to_hn)
                ok = np.isfinite(px_t)
                people = float((grid.people[ok] * px_t[ok]).sum() / grid.people[ok].sum())
                if keep is not None:
                    keep.hn, keep.hn_tree, keep.people = hn, tree, people
        if keep is not None:
            keep.times = times
        return Metrics(od=od, corridors=np.array(corridors), people_time_h=people), keep


class _VariantNetwork(AnalysisNetwork):
    """A variant's places on the master network: :func:`variant_metrics` needs no more.

    Corridor stops that are not places of the variant are snapped with the master's index of
    ordinary road nodes (the same in every variant).
    """

    def __init__(self, label, tables, catalog, *, places: dict[str, int], variants: _Variants):
        super().__init__(label, tables, catalog)
        # not ``_places``: that is AnalysisNetwork's cache of (node table, places)
        self._variant_places, self._variants = places, variants

    @property
    def place_nodes(self) -> dict[str, int]:  # noqa: D102 - as AnalysisNetwork's, precomputed
        return self._variant_places


def attribute_projects(master: MasterNetwork, catalog: Catalog, year_a: int = 2025,
                       year_b: int = 2030, *, grid: PopulationGrid | None = None,
                       profile: str = "car", label: str = "",
                       extra_od: Callable[[set[str], set[str], str], dict[str, float]] | None
                       = None) -> pd.DataFrame:
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
    extra_od : callable, optional
        More OD pairs: called with (projects of year A, of year B, the project), it returns
        more columns of the project's row (e.g. the international rail pairs of
        :func:`corridors.analysis.international.attribution_od`: ``removed_intl_hours``,
        ``added_intl_hours``); they do not change the ranking.

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
    variants = _Variants(master, catalog, profile)

    # every variant reuses what its base year's searches found
    base_a, ref_a = variants.metrics(in_a, year_a, str(year_a), grid)
    base_b, ref_b = variants.metrics(in_b, year_b, str(year_b), grid)

    def metrics(active: set[str], year: int, name: str) -> Metrics:
        return variants.metrics(active, year, name, grid, ref_a if year == year_a else ref_b)[0]

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
                     **{f"added_{k}": v for k, v in added.items()},
                     **(extra_od(in_a, in_b, p) if extra_od else {})})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table = table.sort_values(["removed_od_hours", "added_od_hours"], ascending=False)
    table.insert(0, "rank", range(1, len(table) + 1))
    total = _saving(base_a, base_b)
    table.attrs["total"] = total  # all projects together, for the report
    return table.reset_index(drop=True)
