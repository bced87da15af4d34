"""Criticality of road links for border-gate access: which single closure hurts a gate most.

A planner's question: *which single failure (a landslide on a mountain road) would cut a gate
off, or most lengthen its trip to Hà Nội, the seaport or the airport?* For every border gate of a
network and every key destination, :func:`critical_links` closes road links one at a time,
re-routes, and reports the link whose closure lengthens the trip most, with every link whose
closure disconnects the gate; :func:`criticality_summary` ranks the links over the whole region.

What a link is
--------------
A *link* is one physical road between two adjacent nodes: every edge row joining the same two
nodes along the same geometry, in either direction. Closing a link closes both directions
(``u → v`` and ``v → u``) and its *parallel twins*: rows that repeat the same road under another
source (two overlapping route numbers, e.g. QL1A and QL45 sharing a carriageway, are digitised
twice). Two roads that join the same nodes along *different* geometries are two links: closing
one leaves the other open. Candidates are road edges (``mode == "road"``) except the classes in
``exclude_classes`` (default the schematic ``connector`` joins that tie gates, ports and towns
to the network and the snapping stubs: they are modelling devices, not roads one can name);
connectors, transfers and any other mode the profile uses stay open and may carry detours.

Which links are tested, and why that is exact
---------------------------------------------
Let *P* be the fastest path from a gate to a destination, of time *T*. Closing a link can only
remove options, so no closure makes the trip faster than *T*; and closing a link that is not on
*P* leaves *P* intact, so the time stays exactly *T* (delay 0). Hence the link whose closure most
increases the time is always one of the links of *P*, and testing exactly those links (a few
dozen per gate, not the whole network) gives the exact answer. When several paths tie for the
fastest, the one Dijkstra returns is used: closing one of its links then gives delay 0, which is
also exact. The same argument covers disconnection: a closure that disconnects the gate from the
destination must cut every path, *P* included, so every disconnecting link lies on *P*.

Disconnections are found without re-routing: a link whose undirected node pair is a bridge of
the undirected graph of the edges the profile may use (Tarjan's low-link, as
:func:`networkx.bridges` on a MultiGraph, counting parallel physical links, so that a pair
joined by two roads is never a bridge) separates the gate from every destination whose fastest
path crosses it. Other candidates are re-routed, to each destination whose path uses them (see
below).

How closures are applied
------------------------
The router's compressed sparse row (CSR) matrix is built once. A closure rewrites only the
entries of the closed link's node pairs: to the fastest *remaining* edge between the same nodes
(another physical road, or a rail edge for a multimodal profile), or to ``inf`` (scipy's
Dijkstra never relaxes an infinite weight, so the entry is absent) when none remains. The
:class:`network.routing.Router` keeps only the fastest of parallel edges in its matrix, so
setting the entry to ``inf`` alone would wrongly also close a slower distinct road; and the
fastest edge may be a twin of another source, so the twins must be found in the edge table (the
grouping above). The replacement weight per entry is computed from the edge table once per
link, so no closure ever rebuilds the router: each rewrites a few entries in place, searches,
and puts them back.

Why the searches are small, and still exact
-------------------------------------------
A closure only lengthens trips, and only to the destinations whose fastest path uses the link:
the others keep their base time (reused from the gate's one open search), so they are not
searched at all. For a destination *d* that is searched, the time *h(x)* from every node *x*
to *d* on the open network (one reverse search per destination, shared by every gate and link)
is an exact lower bound of the time from *x* to *d* after any closure, and a consistent one:
the *reduced* weight ``w(x, y) - h(x) + h(y)`` of every edge is at least 0, and a closure only
raises weights. A Dijkstra search on reduced weights (A* with the potential *h*) finds the same
fastest path as on the weights themselves, and the reduced time of a path from the gate to *d*
is its time minus the base time: the delay. So the search is bounded with ``limit=`` at a
slack (first :data:`SLACK_START_H`): it visits only the nodes of the detours within the base
time plus the slack, a few hundred where the network has hundreds of thousands. A destination
not reached within the limit is searched again with the slack :data:`SLACK_GROWTH` times
larger, and in the end without a limit (a long detour, or none). The time reported is summed
along the path found, in path order with the network's own weights, as the plain search sums
it: the same float.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from corridors.analysis.access import KEY_DESTINATIONS
from corridors.build.analysis_network import AnalysisNetwork
from corridors.network.routing import Router
from corridors.network.schema import ROUTING_PROFILES

#: Road classes never closed by default: schematic joins of places and snapping stubs.
EXCLUDED_CLASSES = ("connector",)
#: Delays at or below this many hours count as none (rounding of the routing epsilon).
DELAY_TOL_H = 1e-6
#: Added to every matrix weight, as in :mod:`network.routing` (csgraph drops explicit zeros).
_EPS = 1e-9
#: Decimal places of degrees when comparing geometries (about 0.1 m).
_GEOM_DECIMALS = 6
#: The bounded detour search first looks this many hours beyond the base time (most closures
#: of a dense network cost minutes) ...
SLACK_START_H = 0.05
#: ... then this many times farther each time the destination was not reached ...
SLACK_GROWTH = 4.0
#: ... up to this many hours, then without a limit.
SLACK_MAX_H = 4.0
#: Smallest reduced weight: csgraph may drop explicit zeros, and rounding may make an exact 0
#: slightly negative (h).
_TINY = 1e-12

COLUMNS = ["scenario", "profile", "gate_id", "gate_name", "destination", "destination_name",
           "link_id", "edge_source", "road_name", "road_ref", "road_class", "u", "v",
           "length_km", "base_time_h", "closed_time_h", "delay_h", "disconnects", "rank",
           "geometry"]
SUMMARY_COLUMNS = ["scenario", "rank", "link_id", "edge_source", "road_name", "road_ref",
                   "road_class", "u", "v", "length_km", "gates_affected", "gates_disconnected",
                   "pairs_affected", "pairs_disconnected", "max_delay_h", "total_delay_h",
                   "geometry"]


@dataclass
class _Links:
    """Edge rows grouped into physical links, and the routing matrix they live in.

    Attributes
    ----------
    link_of_row : numpy.ndarray
        Link number of each edge row (-1 for rows the profile cannot use).
    entry_of_row : numpy.ndarray
        CSR entry of each usable row (-1 otherwise).
    best_row : numpy.ndarray
        Fastest usable edge row of each CSR entry (-1 when none).
    rows : list of numpy.ndarray
        Edge rows of each link.
    candidate : numpy.ndarray
        Whether each link may be closed.
    bridge : numpy.ndarray
        Whether each link is a bridge of the undirected usable graph.
    link_id : list of str
        Readable id of each link: ``"a-b"`` (node ids, a < b), ``"a-b/k"`` when several
        physical links join the same nodes.
    data : numpy.ndarray
        Matrix weights (h, plus the routing epsilon) over usable edges only.
    weight : numpy.ndarray
        Travel time of each edge row, hours.
    entry_rows : numpy.ndarray
        Usable edge rows sorted by CSR entry (the rows of entry ``i`` are
        ``entry_rows[entry_start[i]:entry_start[i + 1]]``).
    entry_start : numpy.ndarray
        Start of each entry's rows in ``entry_rows`` (length ``nnz + 1``).
    """

    link_of_row: np.ndarray
    entry_of_row: np.ndarray
    best_row: np.ndarray
    rows: list[np.ndarray]
    candidate: np.ndarray
    bridge: np.ndarray
    link_id: list[str]
    data: np.ndarray
    weight: np.ndarray
    entry_rows: np.ndarray
    entry_start: np.ndarray


def _geometry_keys(edges: pd.DataFrame, a: np.ndarray) -> list[bytes | float]:
    """Return a key per row equal for the same line in either direction (rounded coordinates)."""
    lengths = edges["length_km"].to_numpy(dtype=float)
    if "geometry" not in edges:
        return [round(float(km), 4) for km in lengths]
    geoms = np.asarray(edges.geometry.to_numpy(), dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    xy, owner = shapely.get_coordinates(geoms, return_index=True)
    xy = np.round(xy, _GEOM_DECIMALS)
    # read every line from its lower node: reverse the rows digitised from the other end
    flip = edges["u"].to_numpy() != a
    start = np.searchsorted(owner, np.arange(len(edges) + 1))
    order = np.arange(len(owner))
    for i in np.flatnonzero(flip & ~missing):
        order[start[i]:start[i + 1]] = order[start[i]:start[i + 1]][::-1]
    raw = np.ascontiguousarray(xy[order]).tobytes()
    step = 2 * xy.itemsize
    return [round(float(km), 4) if miss else raw[start[i] * step:start[i + 1] * step]
            for i, (km, miss) in enumerate(zip(lengths, missing, strict=True))]


def _links(router: Router, exclude_classes: Sequence[str]) -> _Links:
    """Group the router's edge rows into links and precompute what closures need."""
    e = router.edges
    _, modes = ROUTING_PROFILES[router.profile]
    weight = e[f"time_h_{router.timing}"].to_numpy(dtype=float)
    ui = router._index.reindex(e["u"].to_numpy()).to_numpy()
    vi = router._index.reindex(e["v"].to_numpy()).to_numpy()
    usable = (~(np.isnan(ui) | np.isnan(vi)) & np.isfinite(weight)
              & e["mode"].isin(modes).to_numpy())
    usable &= np.where(usable, ui != vi, False)
    rows = np.flatnonzero(usable)
    entry_of_row = np.full(len(e), -1, dtype=np.int64)
    entry_of_row[rows] = router._entries(ui[rows].astype(np.int64), vi[rows].astype(np.int64))

    nnz = router.graph.nnz
    data = np.full(nnz, np.inf)
    np.minimum.at(data, entry_of_row[rows], weight[rows])
    data += _EPS
    order = rows[np.lexsort((weight[rows], entry_of_row[rows]))]
    first = np.ones(len(order), dtype=bool)
    first[1:] = entry_of_row[order[1:]] != entry_of_row[order[:-1]]
    best_row = np.full(nnz, -1, dtype=np.int64)
    best_row[entry_of_row[order[first]]] = order[first]

    u = e["u"].to_numpy(dtype=np.int64)
    v = e["v"].to_numpy(dtype=np.int64)
    a, b = np.minimum(u, v), np.maximum(u, v)
    sub = e.iloc[rows]
    keys = pd.DataFrame({"a": a[rows], "b": b[rows],
                         "g": _geometry_keys(sub, a[rows])})
    group = keys.groupby(["a", "b", "g"], sort=True).ngroup().to_numpy()
    link_of_row = np.full(len(e), -1, dtype=np.int64)
    link_of_row[rows] = group
    n_links = int(group.max()) + 1 if len(group) else 0
    by_link = np.argsort(group, kind="stable")
    counts = np.bincount(group, minlength=n_links)
    link_rows = np.split(rows[by_link], np.cumsum(counts)[:-1]) if n_links else []

    road = (e["mode"] == "road").to_numpy() & ~e["class"].isin(exclude_classes).to_numpy()
    candidate = np.bincount(group, weights=~road[rows], minlength=n_links) == 0
    first_row = rows[by_link[np.concatenate([[0], np.cumsum(counts)[:-1]])]] if n_links else (
        np.array([], dtype=np.int64))
    ends = np.column_stack([a[first_row], b[first_row]]).astype(np.int64).reshape(-1, 2)
    fastest = np.full(n_links, np.inf)
    np.minimum.at(fastest, group, weight[rows])
    # number the links joining the same nodes fastest first: "a-b/0" is the fastest road
    per_link = pd.DataFrame({"a": ends[:, 0], "b": ends[:, 1], "t": fastest})
    per_link = per_link.sort_values(["a", "b", "t"], kind="stable")
    per_link["nth"] = per_link.groupby(["a", "b"]).cumcount()
    per_link["count"] = per_link.groupby(["a", "b"])["t"].transform("size")
    per_link = per_link.sort_index()
    count = per_link["count"].to_numpy()
    link_id = [f"{x}-{y}" if c == 1 else f"{x}-{y}/{k}"
               for (x, y), c, k in zip(ends.tolist(), count, per_link["nth"], strict=True)]

    bridge = _bridges(ends) & (count == 1)
    by_entry = rows[np.argsort(entry_of_row[rows], kind="stable")]
    entry_start = np.searchsorted(entry_of_row[by_entry], np.arange(nnz + 1))
    return _Links(link_of_row, entry_of_row, best_row, link_rows, candidate, bridge, link_id,
                  data, weight, by_entry, entry_start)


def _bridges(ends: np.ndarray) -> np.ndarray:
    """Return whether each edge of an undirected multigraph is a bridge.

    Parameters
    ----------
    ends : numpy.ndarray
        Shape (m, 2): the node ids of each edge (no self-loops). Parallel edges are never
        bridges.

    Returns
    -------
    numpy.ndarray of bool
        One per edge. Tarjan's low-link on an iterative depth-first search that skips only
        the edge it came by (not every edge back to its parent), as
        :func:`networkx.bridges` on a MultiGraph, without building one.
    """
    m = len(ends)
    is_bridge = np.zeros(m, dtype=bool)
    if m == 0:
        return is_bridge
    _, inv = np.unique(ends, return_inverse=True)
    inv = inv.reshape(-1, 2)
    n = int(inv.max()) + 1
    src = np.concatenate([inv[:, 0], inv[:, 1]])
    order = np.argsort(src, kind="stable")
    nbr = np.concatenate([inv[:, 1], inv[:, 0]])[order].tolist()
    eid = np.concatenate([np.arange(m), np.arange(m)])[order].tolist()
    ptr = np.searchsorted(src[order], np.arange(n + 1)).tolist()
    disc, low = [-1] * n, [0] * n
    timer = 0
    for root in range(n):
        if disc[root] >= 0:
            continue
        disc[root] = low[root] = timer
        timer += 1
        stack = [[root, -1, ptr[root]]]  # node, edge it was reached by, next neighbour slot
        while stack:
            top = stack[-1]
            v, came, i = top
            if i < ptr[v + 1]:
                top[2] = i + 1
                w, e = nbr[i], eid[i]
                if e == came:
                    continue
                if disc[w] < 0:
                    disc[w] = low[w] = timer
                    timer += 1
                    stack.append([w, e, ptr[w]])
                elif disc[w] < low[v]:
                    low[v] = disc[w]
            else:
                stack.pop()
                if stack:
                    u = stack[-1][0]
                    if low[v] < low[u]:
                        low[u] = low[v]
                    if low[v] > disc[u]:
                        is_bridge[came] = True
    return is_bridge


def _closure(links: _Links, link: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the CSR entries a closure touches and their new weights (h + epsilon, or inf).

    Each entry falls back to the fastest usable edge of the same node pair that is not part of
    the closed link (a distinct road, or another mode), else to ``inf``.
    """
    entries = np.unique(links.entry_of_row[links.rows[link]])
    new = np.full(len(entries), np.inf)
    for i, entry in enumerate(entries):
        rows = links.entry_rows[links.entry_start[entry]:links.entry_start[entry + 1]]
        rows = rows[links.link_of_row[rows] != link]
        if len(rows):
            new[i] = links.weight[rows].min()
    return entries, new + _EPS


def _path_entries(pred: np.ndarray, src: int, dst: int, router: Router) -> np.ndarray:
    """Return the CSR entries of the path ending at ``dst`` in a predecessor row."""
    path = [dst]
    while path[-1] != src:
        path.append(int(pred[path[-1]]))
    steps = np.array(path[::-1], dtype=np.int64)
    return router._entries(steps[:-1], steps[1:])


class _Band:
    """The nodes a bounded detour search from a gate to a destination can visit.

    A closure only raises reduced weights, and a sum of floats in path order only grows with its
    terms, so a node the search reaches within a limit after any closure is within it on the
    open network. The band is those nodes (one bounded search on the open reduced weights) and
    the matrix entries between them, renumbered in the same order: the search in the band
    inserts, relaxes and settles the same nodes in the same order as the search in the whole
    matrix (the others are never queued there), at the cost of the band instead of the whole
    network.
    """

    def __init__(self, reduced: csr_matrix, row: np.ndarray, src: int, dest: int, limit: float):
        self.limit = limit
        dist = dijkstra(reduced, directed=True, indices=src, limit=limit)
        self.nodes = np.flatnonzero(np.isfinite(dist))
        self.has_dest = bool(np.isfinite(dist[dest]))
        if not self.has_dest:
            return
        n = reduced.shape[0]
        inside = np.zeros(n, dtype=bool)
        inside[self.nodes] = True
        self.entries = np.flatnonzero(inside[row] & inside[reduced.indices])
        pos = np.cumsum(inside) - 1
        counts = np.bincount(pos[row[self.entries]], minlength=len(self.nodes))
        indptr = np.zeros(len(self.nodes) + 1, dtype=np.int32)
        np.cumsum(counts, out=indptr[1:])
        self.graph = csr_matrix((reduced.data[self.entries],
                                 pos[reduced.indices[self.entries]].astype(np.int32), indptr),
                                shape=(len(self.nodes), len(self.nodes)))
        self.src, self.dest = int(pos[src]), int(pos[dest])

    def search(self, entries: np.ndarray, reduced_new: np.ndarray) -> np.ndarray | None:
        """Return the path found (matrix positions) with ``entries`` closed, or None.

        None when the destination lies beyond the limit (a longer detour, or none).
        """
        at = np.searchsorted(self.entries, entries)
        hit = at < len(self.entries)
        hit[hit] = self.entries[at[hit]] == entries[hit]
        data = self.graph.data
        saved = data[at[hit]].copy()
        data[at[hit]] = reduced_new[hit]
        try:
            dist, pred = dijkstra(self.graph, directed=True, indices=self.src,
                                  limit=self.limit, return_predecessors=True)
        finally:
            data[at[hit]] = saved
        if not np.isfinite(dist[self.dest]):
            return None
        step, node, path = pred.tolist(), self.dest, [self.dest]  # a list walks faster
        while node != self.src:
            node = step[node]
            path.append(node)
        return self.nodes[np.array(path[::-1], dtype=np.int64)]


class _DetourSearch:
    """Bounded detour searches to each destination on reduced weights (module docstring).

    Parameters
    ----------
    graph : scipy.sparse.csr_matrix
        The open network's matrix (h, plus the routing epsilon).
    dest_idx : numpy.ndarray
        Matrix positions of the destinations.
    """

    def __init__(self, graph: csr_matrix, dest_idx: np.ndarray):
        self.data = graph.data
        self.row = np.repeat(np.arange(graph.shape[0], dtype=np.int64), np.diff(graph.indptr))
        self.col = graph.indices.astype(np.int64)
        # h[k, x]: hours from node x to destination k on the open network
        self.h = np.atleast_2d(dijkstra(graph.T.tocsr(), directed=True, indices=dest_idx))
        self.dest_idx = dest_idx
        self.reduced = [csr_matrix((self._reduce(k, self.data, self.row, self.col),
                                    graph.indices, graph.indptr), shape=graph.shape)
                        for k in range(len(dest_idx))]
        self._bands: dict[tuple[int, int, float], _Band] = {}

    def _reduce(self, k: int, w: np.ndarray, row: np.ndarray, col: np.ndarray) -> np.ndarray:
        """Return the reduced weights ``w - h(row) + h(col)`` (inf where d is out of reach)."""
        h = self.h[k]
        ok = np.isfinite(w) & np.isfinite(h[row]) & np.isfinite(h[col])
        red = np.full(len(w), np.inf)
        red[ok] = np.maximum(w[ok] - h[row[ok]] + h[col[ok]], _TINY)
        return red

    def _band(self, src: int, k: int, limit: float) -> _Band:
        """Return the band of the search from ``src`` to destination ``k`` within ``limit``."""
        if self._bands and next(iter(self._bands))[0] != src:
            self._bands.clear()  # one gate at a time
        key = (src, k, limit)
        if key not in self._bands:
            self._bands[key] = _Band(self.reduced[k], self.row, src, int(self.dest_idx[k]),
                                     limit)
        return self._bands[key]

    def closed_time(self, src: int, k: int, entries: np.ndarray, new: np.ndarray,
                    router: Router) -> float:
        """Return the time (h) from ``src`` to destination ``k`` with ``entries`` set to ``new``.

        ``inf`` when the closure cuts the destination off.
        """
        graph = self.reduced[k]
        reduced_new = self._reduce(k, new, self.row[entries], self.col[entries])
        d = int(self.dest_idx[k])
        limit = SLACK_START_H
        while limit < SLACK_MAX_H:  # the bounded searches, each in the band of its limit
            band = self._band(src, k, limit)
            # a destination outside the band is beyond the limit: no search needed to say so
            path = band.search(entries, reduced_new) if band.has_dest else None
            if path is not None:
                return self._time(router._entries(path[:-1], path[1:]), entries, new)
            limit *= SLACK_GROWTH
        saved = graph.data[entries].copy()
        graph.data[entries] = reduced_new
        try:
            while True:
                dist, pred = dijkstra(graph, directed=True, indices=src, limit=limit,
                                      return_predecessors=True)
                if np.isfinite(dist[d]) or np.isinf(limit):
                    break
                limit = limit * SLACK_GROWTH if limit < SLACK_MAX_H else np.inf
        finally:
            graph.data[entries] = saved
        if not np.isfinite(dist[d]):
            return np.inf
        return self._time(_path_entries(pred, src, d, router), entries, new)

    def _time(self, steps: np.ndarray, entries: np.ndarray, new: np.ndarray) -> float:
        """Return the time (h) of a path's CSR entries under a closure."""
        # the time of the path found, summed in path order as the plain search sums it
        w = self.data[steps].copy()
        changed = np.isin(steps, entries)
        w[changed] = new[np.searchsorted(entries, steps[changed])]
        return float(np.cumsum(w)[-1])


def _text(values: Iterable) -> str | None:
    """Join the distinct non-empty values in order of appearance (``" / "``), or None."""
    seen: list[str] = []
    for x in values:
        if isinstance(x, str) and x and x not in seen:
            seen.append(x)
    return " / ".join(seen) if seen else None


def critical_links(net: AnalysisNetwork, profile: str = "car",
                   destinations: Sequence[str] | None = None, top: int | None = 5, *,
                   exclude_classes: Sequence[str] = EXCLUDED_CLASSES) -> gpd.GeoDataFrame:
    """Return, per gate and destination, the road links whose closure hurts access most.

    For every border gate of the network (:meth:`AnalysisNetwork.gates`) and every destination,
    each candidate road link on the gate's fastest path is closed in turn (both directions and
    its parallel twins) and the trip re-routed (see the module docstring for why testing these
    links only is exact).

    Parameters
    ----------
    net : AnalysisNetwork
        The scenario-year network.
    profile : str, default "car"
        Routing profile (``car``, ``truck``; ``passenger`` and ``freight`` may also detour by
        the other modes they use).
    destinations : sequence of str, optional
        Catalog place ids. Default: the :data:`KEY_DESTINATIONS` present in the network.
    top : int or None, default 5
        Keep the links of rank ``<= top`` per gate and destination (ties kept; disconnecting
        links rank first) and every disconnecting link whatever its rank. None keeps every
        link with a delay.
    exclude_classes : sequence of str, default ("connector",)
        Road classes never closed.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per (gate, destination, link), EPSG:4326, sorted by gate, destination, rank:
        ``scenario`` (``net.label``), ``profile``, ``gate_id``, ``gate_name``, ``destination``
        (place id), ``destination_name``, ``link_id`` (``"a-b"`` node ids, ``/k`` when several
        roads join the same nodes), ``edge_source`` (``;``-joined for twins), ``road_name``,
        ``road_ref``, ``road_class``, ``u``, ``v`` (node ids in the direction the gate's path
        runs), ``length_km`` (km), ``base_time_h`` (fastest time, h), ``closed_time_h`` (h,
        ``inf`` when disconnected), ``delay_h`` (h, ``inf`` when disconnected),
        ``disconnects`` (bool), ``rank`` (1 = worst for the gate and destination; disconnecting
        links share rank 1), ``geometry`` (the link's LineString in the path's direction).
        Links with no delay are left out. ``attrs["unreachable"]`` lists the (gate, destination)
        pairs already disconnected before any closure (they have no rows),
        ``attrs["closures"]`` the number of (gate, link, destination) detours searched and
        ``attrs["runtime_s"]`` the seconds taken.

    Raises
    ------
    KeyError
        When a destination is not a place of the network.
    """
    t0 = time.perf_counter()
    router = net.router(profile)
    places = net.place_nodes
    if destinations is None:
        destinations = [p for p in KEY_DESTINATIONS.values() if p in places]
    missing = [d for d in destinations if d not in places]
    if missing:
        raise KeyError(f"destinations not in the network {net.label!r}: {missing}")
    links = _links(router, exclude_classes)
    g = router.graph
    # int32 indices once: csgraph would convert int64 ones on every search
    indices, indptr = g.indices.astype(np.int32), g.indptr.astype(np.int32)
    open_graph = csr_matrix((links.data, indices, indptr), shape=g.shape)
    dest_idx = router.indices([places[d] for d in destinations])
    detours = _DetourSearch(open_graph, dest_idx)
    edges = router.edges
    names = {c: edges[c].to_numpy() if c in edges else np.full(len(edges), None)
             for c in ("name", "ref", "source", "class")}
    row_u, row_v = edges["u"].to_numpy(), edges["v"].to_numpy()
    row_km = edges["length_km"].to_numpy(dtype=float)
    row_geom = edges.geometry.to_numpy() if "geometry" in edges else np.full(len(edges), None)
    closures: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    records, unreachable = [], []
    searches = 0
    for gate in net.gates():
        src = int(router.indices([places[gate.id]])[0])
        dist, pred = dijkstra(open_graph, directed=True, indices=src, return_predecessors=True)
        on_path: dict[int, list[tuple[int, int]]] = {}  # link -> [(dest k, path row)]
        for k, d in enumerate(dest_idx):
            if not np.isfinite(dist[d]):
                unreachable.append((gate.id, destinations[k]))
                continue
            rows = links.best_row[_path_entries(pred, src, int(d), router)]
            for r in rows:
                lk = int(links.link_of_row[r])
                if lk >= 0 and links.candidate[lk]:
                    on_path.setdefault(lk, []).append((k, int(r)))
        for lk, uses in on_path.items():
            closed = np.full(len(dest_idx), np.inf)
            if not links.bridge[lk]:
                if lk not in closures:
                    closures[lk] = _closure(links, lk)
                entries, new = closures[lk]
                # only the destinations whose fastest path uses the link can be delayed
                for k in dict.fromkeys(k for k, _ in uses):
                    closed[k] = detours.closed_time(src, k, entries, new, router)
                    searches += 1
            twins = links.rows[lk]
            for k, r in uses:
                base = float(dist[dest_idx[k]])
                delay = float(closed[k]) - base
                if delay <= DELAY_TOL_H:
                    continue
                records.append({
                    "scenario": net.label, "profile": profile, "gate_id": gate.id,
                    "gate_name": gate.name, "destination": destinations[k],
                    "destination_name": net.catalog.places[destinations[k]].name,
                    "link_id": links.link_id[lk],
                    "edge_source": ";".join(dict.fromkeys(
                        str(s) for s in names["source"][twins])),
                    "road_name": _text(names["name"][twins]),
                    "road_ref": _text(names["ref"][twins]),
                    "road_class": _text(names["class"][twins]),
                    "u": int(row_u[r]), "v": int(row_v[r]),
                    "length_km": float(row_km[r]),
                    "base_time_h": base, "closed_time_h": float(closed[k]),
                    "delay_h": delay, "disconnects": not np.isfinite(closed[k]),
                    "geometry": row_geom[r],
                })
    table = gpd.GeoDataFrame(pd.DataFrame(records, columns=COLUMNS), geometry="geometry",
                             crs="EPSG:4326")
    if len(table):
        table["rank"] = (table.groupby(["gate_id", "destination"])["delay_h"]
                         .rank(ascending=False, method="min").astype(int))
        keep = table["disconnects"] | (table["rank"] <= (top if top is not None else np.inf))
        gate_order = {gt.id: i for i, gt in enumerate(net.gates())}
        dest_order = {d: i for i, d in enumerate(destinations)}
        table = (table[keep]
                 .assign(_g=lambda t: t["gate_id"].map(gate_order),
                         _d=lambda t: t["destination"].map(dest_order))
                 .sort_values(["_g", "_d", "rank", "link_id"])
                 .drop(columns=["_g", "_d"]).reset_index(drop=True))
    table["rank"] = table["rank"].astype(int)
    table["disconnects"] = table["disconnects"].astype(bool)
    table.attrs["unreachable"] = unreachable
    table.attrs["closures"] = searches
    table.attrs["runtime_s"] = time.perf_counter() - t0
    return table


def criticality_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Rank the links of a :func:`critical_links` table over all gates and destinations.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`critical_links` (one or several scenarios concatenated). Totals count
        only the rows present: pass a table built with ``top=None`` for complete totals.

    Returns
    -------
    pandas.DataFrame
        One row per (scenario, link), a GeoDataFrame when ``table`` has geometry, ranked within
        each scenario: ``scenario``, ``rank``, ``link_id``, ``edge_source``, ``road_name``,
        ``road_ref``, ``road_class``, ``u``, ``v``, ``length_km`` (km), ``gates_affected``
        (gates with a delay or a disconnection to some destination), ``gates_disconnected``
        (gates cut off from at least one destination), ``pairs_affected`` and
        ``pairs_disconnected`` (gate-destination pairs), ``max_delay_h`` and ``total_delay_h``
        (largest and summed finite delays, h; disconnections are counted, not summed),
        ``geometry``. Ranked by gates disconnected, then pairs disconnected, then total and
        largest delay.
    """
    if table.empty:
        out = pd.DataFrame(columns=SUMMARY_COLUMNS)
        return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326") if (
            "geometry" in table) else out.drop(columns="geometry")
    t = table.assign(_finite=table["delay_h"].where(np.isfinite(table["delay_h"])),
                     _cut_gate=table["gate_id"].where(table["disconnects"]))
    out = t.groupby(["scenario", "link_id"], sort=False).agg(
        edge_source=("edge_source", "first"), road_name=("road_name", "first"),
        road_ref=("road_ref", "first"), road_class=("road_class", "first"),
        u=("u", "first"), v=("v", "first"), length_km=("length_km", "first"),
        gates_affected=("gate_id", "nunique"), gates_disconnected=("_cut_gate", "nunique"),
        pairs_affected=("gate_id", "size"), pairs_disconnected=("disconnects", "sum"),
        max_delay_h=("_finite", "max"), total_delay_h=("_finite", "sum"),
    ).reset_index()
    out["max_delay_h"] = out["max_delay_h"].fillna(0.0)
    out["pairs_disconnected"] = out["pairs_disconnected"].astype(int)
    out = out.sort_values(["scenario", "gates_disconnected", "pairs_disconnected",
                           "total_delay_h", "max_delay_h", "link_id"],
                          ascending=[True, False, False, False, False, True])
    out["rank"] = out.groupby("scenario").cumcount() + 1
    if "geometry" in table:
        geom = table.drop_duplicates(["scenario", "link_id"]).set_index(
            ["scenario", "link_id"]).geometry
        out["geometry"] = geom.reindex(pd.MultiIndex.from_frame(
            out[["scenario", "link_id"]])).to_numpy()
        return gpd.GeoDataFrame(out[SUMMARY_COLUMNS].reset_index(drop=True),
                                geometry="geometry", crs=getattr(table, "crs", "EPSG:4326"))
    return out[[c for c in SUMMARY_COLUMNS if c != "geometry"]].reset_index(drop=True)
