"""Time the routing engine (:class:`network.routing.Router`) against networkx.

On the embedded network of a year, the sources are every border gate and the gate of every BGEZ
(:meth:`corridors.build.analysis_network.AnalysisNetwork.gates` and ``bgez_gate``); the sources x
all-nodes travel-time matrix is computed

* with networkx: ``nx.single_source_dijkstra_path_length`` per source, on a DiGraph built once
  that keeps the fastest of parallel edges and only the modes of the profile;
* with ``Router.matrix``: timed with the construction of the Router (build + query) and without
  it (query only).

Both matrices must agree (1e-6 h, same unreachable pairs), or the script exits with status 1.

The Router is then timed on synthetic grid graphs of about 10^4, 10^5 and 10^6 directed edges
(two-way 4-neighbour grids with random lengths and speeds, generated with numpy as canonical
node and edge tables), 30 sources x all nodes each.

Every time is the best of ``--repeat`` runs. The last line printed is
``speedup_vs_networkx=<ratio>``: networkx query time over Router query time on the region graph.

Usage::

    python scripts/benchmark_routing.py                      # 2025, car, best of 3
    python scripts/benchmark_routing.py --year 2030 --profile freight --repeat 5
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import geopandas as gpd  # noqa: E402
import networkx as nx  # noqa: E402
import pandas as pd  # noqa: E402
from corridors.network.routing import Router  # noqa: E402
from corridors.network.schema import ROUTING_PROFILES  # noqa: E402

from corridors.build.analysis_network import AnalysisNetwork  # noqa: E402
from corridors.build.pipeline import build_network  # noqa: E402

#: Synthetic graphs: target number of directed edges.
SYNTHETIC_EDGES = (10_000, 100_000, 1_000_000)
SYNTHETIC_SOURCES = 30
ATOL_H = 1e-6


def best_of(repeat: int, fn: Callable[[], object]) -> tuple[float, object]:
    """Return the shortest wall time of ``repeat`` calls of ``fn`` (s) and the last result."""
    best, out = np.inf, None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def source_nodes(result) -> list[int]:
    """Return the node ids of every border gate and every BGEZ's gate in the network."""
    an = AnalysisNetwork(str(result.year), result.tables, result.catalog)
    places = an.place_nodes
    ids = [places[g.id] for g in an.gates()]
    for p in result.catalog.places.values():
        if p.kind == "bgez":
            gate = an.bgez_gate(p)
            if gate is not None:
                ids.append(places[gate.id])
    return list(dict.fromkeys(ids))  # unique, in order


def networkx_digraph(edges: pd.DataFrame, profile: str) -> nx.DiGraph:
    """Return a DiGraph of the profile's modes keeping the fastest of parallel edges."""
    timing, modes = ROUTING_PROFILES[profile]
    e = edges[edges["mode"].isin(modes)]
    t = e[f"time_h_{timing}"].to_numpy(dtype=float)
    G = nx.DiGraph()
    for u, v, w in zip(e["u"].to_numpy(), e["v"].to_numpy(), t, strict=True):
        if np.isfinite(w) and (not G.has_edge(u, v) or w < G[u][v]["time"]):
            G.add_edge(int(u), int(v), time=float(w))
    return G


def networkx_matrix(G: nx.DiGraph, sources: list[int], node_ids: np.ndarray) -> np.ndarray:
    """Return sources x nodes travel times (h), one networkx Dijkstra per source."""
    pos = {n: i for i, n in enumerate(node_ids.tolist())}
    out = np.full((len(sources), len(node_ids)), np.inf)
    for i, s in enumerate(sources):
        if s not in G:
            out[i, pos[s]] = 0.0
            continue
        dist = nx.single_source_dijkstra_path_length(G, s, weight="time")
        out[i, [pos[n] for n in dist]] = list(dist.values())
    return out


def region_benchmark(year: int, profile: str, repeat: int) -> float:
    """Time networkx and the Router on the region network; return the query speedup."""
    t0 = time.perf_counter()
    result = build_network(year)
    nodes, edges = result.tables.nodes, result.tables.edges
    sources = source_nodes(result)
    node_ids = np.asarray(nodes.index, dtype=np.int64)
    print(f"region network {year} ({profile}): {len(nodes)} nodes, {len(edges)} edges, "
          f"{len(sources)} gate sources (network built in {time.perf_counter() - t0:.1f} s)")

    t_nxg, G = best_of(repeat, lambda: networkx_digraph(edges, profile))
    t_nxq, want = best_of(repeat, lambda: networkx_matrix(G, sources, node_ids))
    print(f"networkx: DiGraph {t_nxg * 1e3:.1f} ms ({G.number_of_edges()} edges), "
          f"queries {t_nxq * 1e3:.1f} ms ({len(sources)} sources x {len(node_ids)} nodes)")

    t_build, router = best_of(repeat, lambda: Router(nodes, edges, profile))
    t_both, _ = best_of(repeat, lambda: Router(nodes, edges, profile).times(sources))
    # the travel-time matrix (what networkx computes), then times and km together
    t_query, got = best_of(repeat, lambda: router.times(sources))
    t_km, (got_km, km) = best_of(repeat, lambda: router.matrix(sources))
    print(f"router: build {t_build * 1e3:.1f} ms ({router.graph.nnz} edges), "
          f"build + time matrix {t_both * 1e3:.1f} ms, time matrix {t_query * 1e3:.1f} ms, "
          f"times and km along the fastest paths {t_km * 1e3:.1f} ms")

    same_inf = np.array_equal(np.isinf(got), np.isinf(want)) and np.allclose(
        got_km[np.isfinite(got_km)], got[np.isfinite(got)], atol=ATOL_H)
    finite = np.isfinite(want)
    diff = float(np.max(np.abs(got[finite] - want[finite]), initial=0.0))
    ok = same_inf and diff <= ATOL_H and np.array_equal(np.isinf(km), np.isinf(got))
    print(f"agreement: {'OK' if ok else 'MISMATCH'}: {int(finite.sum())} reachable pairs, "
          f"{int((~finite).sum())} unreachable, max |difference| {diff:.2e} h")
    if not ok:
        print("speedup_vs_networkx=nan")
        sys.exit(1)
    print(f"networkx / router: time matrix {t_nxq / t_query:.1f}x, "
          f"graph + time matrix {(t_nxg + t_nxq) / t_both:.1f}x, "
          f"times and km {t_nxq / t_km:.1f}x")
    return t_nxq / t_query


def grid_tables(target_edges: int, rng: np.random.Generator
                ) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Return a two-way 4-neighbour grid of about ``target_edges`` directed edges (tables).

    Nodes 1 km apart (near 21 N, 105 E); each edge's length is 1-1.5 km (circuity) and its
    speed 20-90 km/h, at random.
    """
    side = int(round((1 + np.sqrt(1 + target_edges)) / 2))  # 4 s (s - 1) directed edges
    ids = np.arange(side * side, dtype=np.int64).reshape(side, side)
    a = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])  # east and north neighbours
    b = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
    u, v = np.concatenate([a, b]), np.concatenate([b, a])
    km = rng.uniform(1.0, 1.5, len(u))
    hours = km / rng.uniform(20.0, 90.0, len(u))
    col, row = np.divmod(ids.ravel(), side)
    lon, lat = 105.0 + 0.0096 * col, 21.0 + 0.009 * row
    nodes = gpd.GeoDataFrame({"x": lon, "y": lat, "kind": "junction"},
                             geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326",
                             index=pd.Index(ids.ravel(), name="node"))
    edges = pd.DataFrame({"u": u, "v": v, "key": 0, "mode": "road", "class": "local",
                          "length_km": km, "time_h_car": hours, "time_h_truck": 1.25 * hours})
    return nodes, edges


def synthetic_benchmark(profile: str, repeat: int) -> None:
    """Time the Router on grids of about 10^4, 10^5 and 10^6 edges."""
    rng = np.random.default_rng(42)
    for target in SYNTHETIC_EDGES:
        t_tab, (nodes, edges) = best_of(1, lambda t=target: grid_tables(t, rng))
        sources = rng.choice(nodes.index.to_numpy(), SYNTHETIC_SOURCES, replace=False).tolist()
        t_build, router = best_of(repeat, lambda n=nodes, e=edges: Router(n, e, profile))
        t_query, (hours, _) = best_of(repeat, lambda r=router, s=sources: r.matrix(s))
        assert np.isfinite(hours).all()  # a grid is strongly connected
        print(f"synthetic grid: {len(nodes)} nodes, {len(edges)} edges: tables {t_tab:.2f} s, "
              f"build {t_build:.3f} s, query {t_query:.3f} s "
              f"({len(sources)} sources x all nodes, times and km)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--year", type=int, default=2025, help="network year (default 2025)")
    parser.add_argument("--profile", default="car", choices=sorted(ROUTING_PROFILES),
                        help="routing profile (default car)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each timing; the best is kept (default 3)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    speedup = region_benchmark(args.year, args.profile, args.repeat)
    synthetic_benchmark(args.profile, args.repeat)
    print(f"total {time.perf_counter() - t0:.1f} s")
    print(f"speedup_vs_networkx={speedup:.1f}")


if __name__ == "__main__":
    main()
