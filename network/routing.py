"""A routing engine on arrays, built once per graph and profile.

The networkx graph is the model; heavy routing runs on a compressed sparse row matrix with
:mod:`scipy.sparse.csgraph` (Dijkstra with a binary heap, in C). Parallel edges keep the fastest.
Travel-time and distance matrices, single routes with a breakdown by mode and class, the nearest
facility from every node in one multi-source pass, and isochrones all run on it.

Distances (km) of a matrix are measured along the *time*-shortest paths: the predecessor trees of
the time search are walked with vectorised pointer doubling, not searched again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from corridors.network.schema import ROUTING_PROFILES
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString, MultiLineString

from corridors.core.constants import METRIC_CRS

#: Stands in for zero weights: csgraph may drop explicit zeros of sparse input (a 0 h transfer
#: would vanish). Only zeros are replaced, so that times and km of a matrix are the sums along
#: the path (adding it to every weight drifted by 1e-9 per edge: 5e-6 h over 5,000 edges).
_EPS = 1e-9
_NO_PRED = -9999


@dataclass(frozen=True)
class Route:
    """One route and its breakdown.

    Attributes
    ----------
    nodes : list of int
        Node ids from origin to destination.
    edge_rows : list of int
        Positions (``iloc``) of the edges used, in the edge table the router was built on.
    time_h : float
        Travel time, hours.
    length_km : float
        Length, km.
    km_by_mode, km_by_class : dict
        Length by mode and by ``mode:class``, km.
    transfers : int
        Transfer edges used (changes of mode, access to ports and airports).
    border_crossings : int
        Border gates passed through (not counting the ends).
    geometry : shapely LineString or MultiLineString
    """

    nodes: list[int]
    edge_rows: list[int]
    time_h: float
    length_km: float
    km_by_mode: dict[str, float] = field(default_factory=dict)
    km_by_class: dict[str, float] = field(default_factory=dict)
    transfers: int = 0
    border_crossings: int = 0
    geometry: LineString | MultiLineString | None = None


class Router:
    """Shortest paths on a network's edge table, for one profile.

    Parameters
    ----------
    nodes : geopandas.GeoDataFrame
        Node table indexed by node id (with ``x``, ``y``, ``kind``).
    edges : pandas.DataFrame
        Edge table with ``u``, ``v``, ``length_km``, ``time_h_<profile>``, ``mode``, ``class``.
    profile : {"car", "truck", "passenger", "freight"}
        Whose travel times to use and which modes are open (see
        :data:`network.schema.ROUTING_PROFILES`): car and truck drive; passenger adds rail and
        air; freight adds rail and water.
    weight : {"time", "length"}
        Minimise hours (default) or km.
    """

    def __init__(self, nodes: gpd.GeoDataFrame, edges: pd.DataFrame, profile: str = "car",
                 weight: str = "time"):
        if profile not in ROUTING_PROFILES:
            raise ValueError(f"unknown profile {profile!r}; valid: "
                             + ", ".join(ROUTING_PROFILES))
        timing, modes = ROUTING_PROFILES[profile]
        if weight not in ("time", "length"):
            raise ValueError("weight must be 'time' or 'length'")
        self.profile, self.weight = profile, weight
        self.nodes = nodes
        self.edges = edges.reset_index(drop=True)
        self.node_ids = np.asarray(nodes.index, dtype=np.int64)
        self._index = pd.Series(np.arange(len(self.node_ids)), index=self.node_ids)
        n = len(self.node_ids)
        u = self._index.reindex(self.edges["u"].to_numpy()).to_numpy()
        v = self._index.reindex(self.edges["v"].to_numpy()).to_numpy()
        ok = ~(np.isnan(u) | np.isnan(v)) & self.edges["mode"].isin(modes).to_numpy()
        self.timing = timing
        time = self.edges[f"time_h_{timing}"].to_numpy(dtype=float)
        length = self.edges["length_km"].to_numpy(dtype=float)
        w = time if weight == "time" else length
        ok &= np.isfinite(w)
        rows = np.flatnonzero(ok)
        u, v, w = u[ok].astype(np.int64), v[ok].astype(np.int64), w[ok]
        # keep the best of parallel edges; order by (u, v) for the CSR layout
        order = np.lexsort((w, v, u))
        u, v, w, rows = u[order], v[order], w[order], rows[order]
        first = np.ones(len(u), dtype=bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        u, v, w, rows = u[first], v[first], w[first], rows[first]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(u, minlength=n), out=indptr[1:])
        self.graph = csr_matrix((np.where(w == 0, _EPS, w), v, indptr), shape=(n, n))
        self._edge_row = rows  # edge-table row of each CSR entry
        self._keys = u * n + v  # sorted: lookup of (u, v) pairs
        self._time = time[rows]
        self._length = length[rows]
        self._reverse: csr_matrix | None = None

    # -- ids ------------------------------------------------------------------------------------
    def indices(self, node_ids: Iterable[int]) -> np.ndarray:
        """Return the matrix positions of node ids (KeyError naming the missing ones)."""
        ids = np.asarray(list(node_ids), dtype=np.int64)
        pos = self._index.reindex(ids)
        if pos.isna().any():
            raise KeyError(f"nodes not in the network: {ids[pos.isna().to_numpy()].tolist()}")
        return pos.to_numpy(dtype=np.int64)

    def _entries(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Return the CSR entry of each (i, j) step of a path (vectorised)."""
        return np.searchsorted(self._keys, i * len(self.node_ids) + j)

    # -- searches -------------------------------------------------------------------------------
    def search(self, sources: Iterable[int], limit: float = np.inf
               ) -> tuple[np.ndarray, np.ndarray]:
        """Return (times or km, predecessors) from each source node to every node.

        Unreachable nodes have ``inf``; ``limit`` stops the search there (hours or km).
        """
        src = self.indices(sources)
        dist, pred = dijkstra(self.graph, directed=True, indices=src, limit=limit,
                              return_predecessors=True)
        return np.atleast_2d(dist), np.atleast_2d(pred)

    def along(self, pred: np.ndarray, values: str = "length") -> np.ndarray:
        """Sum edge lengths (km) or times (h) along predecessor trees, by pointer doubling."""
        per_entry = self._length if values == "length" else self._time
        pred = np.atleast_2d(pred)
        n = pred.shape[1]
        cols = np.broadcast_to(np.arange(n), pred.shape)
        has = pred != _NO_PRED
        step = np.zeros(pred.shape)
        step[has] = per_entry[self._entries(pred[has].astype(np.int64), cols[has])]
        acc, ptr = step.copy(), np.where(has, pred, cols)
        rows = np.arange(pred.shape[0])[:, None]
        while True:  # each round doubles the path length summed: log2(depth) rounds
            nxt = ptr[rows, ptr]
            if np.array_equal(nxt, ptr):
                return acc
            acc = acc + np.where(ptr != cols, acc[rows, ptr], 0.0)
            ptr = nxt

    def along_to(self, pred: np.ndarray, targets: np.ndarray, values: str = "length"
                 ) -> np.ndarray:
        """Return :meth:`along`'s sums at some nodes only: shape (rows of ``pred``, targets).

        ``targets`` are matrix positions. The doubling runs over the targets and the nodes of
        their paths (every node whose sum theirs adds up), in the same rounds, so each sum is
        :meth:`along`'s to the bit, at the cost of the paths instead of the whole network.
        """
        pred = np.atleast_2d(pred)
        targets = np.asarray(targets, dtype=np.int64)
        n_rows = pred.shape[0]
        if n_rows == 0 or len(targets) == 0:
            return np.zeros((n_rows, len(targets)))
        rows = np.arange(n_rows)[:, None]
        # the nodes on the paths to the targets, in any row: walked up together
        on_path = np.zeros(pred.shape[1], dtype=bool)
        cur = np.broadcast_to(targets, (n_rows, len(targets))).copy()
        while True:
            on_path[cur.ravel()] = True
            up = pred[rows, cur]
            nxt = np.where(up != _NO_PRED, up, cur)
            if np.array_equal(nxt, cur):
                break
            cur = nxt
        keep = np.flatnonzero(on_path)
        pos = np.full(pred.shape[1], -1, dtype=np.int64)
        pos[keep] = np.arange(len(keep))
        sub = pred[:, keep]
        cols = np.broadcast_to(keep, sub.shape)
        local = np.broadcast_to(np.arange(len(keep)), sub.shape)
        # a predecessor off every path belongs to a node no target needs in that row: a root
        has = (sub != _NO_PRED) & (pos[np.where(sub != _NO_PRED, sub, 0)] >= 0)
        per_entry = self._length if values == "length" else self._time
        step = np.zeros(sub.shape)
        step[has] = per_entry[self._entries(sub[has].astype(np.int64), cols[has])]
        acc, ptr = step.copy(), np.where(has, pos[np.where(has, sub, 0)], local)
        while True:  # as in along: each round doubles the path length summed
            nxt = ptr[rows, ptr]
            if np.array_equal(nxt, ptr):
                return acc[:, pos[targets]]
            acc = acc + np.where(ptr != local, acc[rows, ptr], 0.0)
            ptr = nxt

    def times(self, sources: Iterable[int], targets: Iterable[int] | None = None
              ) -> np.ndarray:
        """Return the travel-time matrix (h) from sources to targets (all nodes by default).

        The fastest option when lengths are not needed: one search per source, no predecessor
        bookkeeping. Unreachable pairs are ``inf``. With ``weight="length"`` it returns km.
        """
        dist = np.atleast_2d(dijkstra(self.graph, directed=True, indices=self.indices(sources)))
        return dist if targets is None else dist[:, self.indices(targets)]

    def matrix(self, sources: Iterable[int], targets: Iterable[int] | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Return travel times (h) and lengths (km) from sources to targets.

        Both are measured along the fastest path (shortest, with ``weight="length"``);
        unreachable pairs are ``inf``.

        Returns
        -------
        time_h, length_km : numpy.ndarray
            Shape (len(sources), len(targets) or number of nodes).
        """
        dist, pred = self.search(sources)
        primary = dist
        secondary = self.along(pred, "length" if self.weight == "time" else "time")
        secondary[~np.isfinite(primary)] = np.inf
        time_h, length_km = (primary, secondary) if self.weight == "time" else (secondary,
                                                                                  primary)
        if targets is not None:
            t = self.indices(targets)
            return time_h[:, t], length_km[:, t]
        return time_h, length_km

    def nearest(self, targets: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
        """Return, for every node, the time (h) to the nearest target and which target it is.

        One multi-source search on the reversed graph: the time *to* the facility.

        Returns
        -------
        time_h : numpy.ndarray
            Hours from each node to its nearest target (``inf`` when none is reachable).
        target : numpy.ndarray
            Node id of that target (-1 when none).
        """
        if self._reverse is None:
            self._reverse = self.graph.T.tocsr()
        src = self.indices(targets)
        dist, _, origin = dijkstra(self._reverse, directed=True, indices=src, min_only=True,
                                   return_predecessors=True)
        which = np.where(origin >= 0, self.node_ids[np.maximum(origin, 0)], -1)
        return dist, which

    def next_edges(self, destination: int) -> np.ndarray:
        """Return each node's first edge row on its fastest path to ``destination``.

        -1 at the destination and where it is unreachable. One search on the reversed graph:
        the predecessor of a node there is its next node towards the destination.
        """
        if self._reverse is None:
            self._reverse = self.graph.T.tocsr()
        _, toward = dijkstra(self._reverse, directed=True,
                             indices=self.indices([destination])[0], return_predecessors=True)
        out = np.full(len(toward), -1, dtype=np.int64)
        has = toward >= 0
        out[has] = self._edge_row[self._entries(np.flatnonzero(has), toward[has])]
        return out

    # -- routes ---------------------------------------------------------------------------------
    def route(self, origin: int, destination: int) -> Route | None:
        """Return the fastest route (shortest with ``weight="length"``), or None if unreachable."""
        dist, pred = self.search([origin])
        o, d = self.indices([origin, destination])
        if not np.isfinite(dist[0, d]):
            return None
        path = [d]
        while path[-1] != o:
            path.append(pred[0, path[-1]])
        steps = np.array(path[::-1], dtype=np.int64)
        entries = self._entries(steps[:-1], steps[1:])
        rows = self._edge_row[entries]
        e = self.edges.iloc[rows]
        km = e["length_km"].to_numpy(dtype=float)
        by_mode = e.assign(km=km).groupby("mode")["km"].sum().round(3).to_dict()
        by_class = (e.assign(km=km, key=e["mode"] + ":" + e["class"].astype(str))
                    .groupby("key")["km"].sum().round(3).to_dict())
        kinds = self.nodes["kind"].to_numpy()[steps[1:-1]] if len(steps) > 2 else np.array([])
        geoms = [g for g in e.geometry if g is not None]
        merged = shapely.line_merge(MultiLineString(geoms)) if geoms else None
        return Route(nodes=self.node_ids[steps].tolist(), edge_rows=rows.tolist(),
                     time_h=float(self._time[entries].sum()), length_km=float(km.sum()),
                     km_by_mode=by_mode, km_by_class=by_class,
                     transfers=int((e["mode"] == "transfer").sum()),
                     border_crossings=int((kinds == "gate").sum()), geometry=merged)

    # -- isochrones -----------------------------------------------------------------------------
    def isochrones(self, origin: int, cutoffs_h: Sequence[float] = (1, 2, 4, 8),
                   buffer_m: float = 2000.0, metric_crs: str = METRIC_CRS
                   ) -> gpd.GeoDataFrame:
        """Return the area reachable from ``origin`` within each cutoff, as polygons.

        The reachable part of every edge (whole edges, and the fraction of an edge that the
        remaining time covers) is buffered by ``buffer_m`` (the local access around the network)
        and dissolved. Travel on the network only; air and water edges are crossed but not
        buffered along their length.

        Returns
        -------
        geopandas.GeoDataFrame
            One row per cutoff: ``cutoff_h``, geometry (EPSG:4326), ``area_km2``.
        """
        if self.weight != "time":
            raise ValueError("isochrones need a router with weight='time'")
        dist, _ = self.search([origin], limit=max(cutoffs_h))
        t = dist[0]
        e = self.edges
        ui = self._index.reindex(e["u"].to_numpy()).to_numpy()
        vi = self._index.reindex(e["v"].to_numpy()).to_numpy()
        ok = ~(np.isnan(ui) | np.isnan(vi)) & e["mode"].isin(["road", "rail", "transfer"]
                                                               ).to_numpy()
        tu = np.full(len(e), np.inf)
        tu[ok] = t[ui[ok].astype(np.int64)]
        et = e[f"time_h_{self.timing}"].to_numpy(dtype=float)
        geoms = gpd.GeoSeries(e.geometry.values, crs="EPSG:4326").to_crs(metric_crs).values
        rows = []
        for cut in sorted(cutoffs_h):
            reach = np.flatnonzero(tu < cut)
            frac = np.clip((cut - tu[reach]) / np.maximum(et[reach], 1e-9), 0, 1)
            parts = shapely.line_interpolate_point(geoms[reach], 0)  # start points
            lines = [shapely.ops.substring(g, 0, f, normalized=True) if f < 1 else g
                     for g, f in zip(geoms[reach], frac, strict=True)]
            # simplified lines (a tenth of the buffer) keep the union cheap
            simple = shapely.simplify(np.asarray([*lines, *parts], dtype=object), buffer_m / 10)
            shape = shapely.union_all(shapely.buffer(simple, buffer_m, quad_segs=3))
            rows.append({"cutoff_h": cut, "geometry": shape,
                         "area_km2": round(shape.area / 1e6, 1)})
        return gpd.GeoDataFrame(rows, geometry="geometry", crs=metric_crs).to_crs("EPSG:4326")
