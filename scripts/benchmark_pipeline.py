"""Time ``corridors build --osm`` and ``corridors run --osm`` on a synthetic extract of N edges.

The extract comes from ``scripts/make_synthetic_osm.py`` (a road-like grid over the study area)
and is cached in ``--workdir`` (default: ``corridors-bench`` in the system's temporary folder),
so a second benchmark of the same size reuses it. A first child reads the extract into a fresh
backbone cache (pyrosm; timed and reported apart, since it happens once per extract); then each
command runs in its own child process, in-process there (the real click command, so exactly what
a user runs), with that cache warm, as every build and run after the first is. The children
wrap the pipeline's step functions with timers; ``run`` also reports the timings it writes to
``run.json``. Peak RSS is each child's own maximum resident set (``wait4``).

Baselines, measured in the same benchmark on the same network (a third child, not counted in
the peak): building the networkx graph row by row (``add_edge`` per edge) against
:func:`network.graph.to_graph`; the gates-to-key-destinations travel times with networkx
(``single_source_dijkstra_path_length`` per gate, on a DiGraph built for it) against the
:class:`network.routing.Router`; and one link closure re-routed with networkx (edge removed,
Dijkstra to the destination) against the mean closure of
:func:`corridors.analysis.criticality.critical_links`. Each is printed as a ratio networkx /
pipeline.

The last line is ``run_s=<s> peak_gb=<GB> edges=<n>``: the wall time and the peak RSS of
``corridors run --osm``, and the edges of the 2030 network ``corridors build`` reports.

Usage::

    python scripts/benchmark_pipeline.py --edges 150000
    python scripts/benchmark_pipeline.py --edges 600000 --no-baselines
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
#: Year of the network ``corridors build`` writes (that of the run's second year).
YEAR = 2030
#: Link closures re-routed with networkx for the criticality baseline.
NX_CLOSURES = 5


# --------------------------------------------------------------------------------------------
# children: run one command in-process with timers around the pipeline's steps
# --------------------------------------------------------------------------------------------

def _wrap(module, name: str, label: str, timings: dict[str, float]) -> None:
    """Replace ``module.name`` by a wrapper adding its wall time (s) to ``timings[label]``."""
    fn = getattr(module, name, None)
    if fn is None:
        return

    def timed(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            timings[label] = timings.get(label, 0.0) + time.perf_counter() - t0

    setattr(module, name, timed)


def _instrument(timings: dict[str, float]) -> None:
    """Time the steps of a build (whatever version of the pipeline is imported)."""
    import corridors.build.pipeline as cb

    _wrap(cb, "load_backbone", "backbone (cached)", timings)
    _wrap(cb, "build_master", "master (assemble, terrain, speeds)", timings)
    _wrap(cb, "quality_report", "quality report", timings)
    _wrap(cb, "write_gpkg", "write GeoPackage", timings)
    _wrap(cb, "to_graph", "networkx graph", timings)
    _wrap(cb, "write_graphml", "write GraphML", timings)


def child_read(osm: str) -> dict:
    """Read the extract into the (empty) backbone cache; return the time taken."""
    from corridors.build.pipeline import load_backbone

    t0 = time.perf_counter()
    backbone = load_backbone(osm)
    return {"total": time.perf_counter() - t0, "edges": len(backbone.edges)}


def child_build(osm: str, out: str) -> dict:
    """Run ``corridors build --year 2030 --osm OSM`` in-process; return timings and edges."""
    from corridors.app.cli import main

    timings: dict[str, float] = {}
    _instrument(timings)
    import corridors.build.pipeline as cb

    edges: list[int] = []
    write = cb.write_network

    def write_network(result, *args, **kwargs):
        edges.append(len(result.tables.edges))
        return write(result, *args, **kwargs)

    cb.write_network = write_network
    t0 = time.perf_counter()
    main(["-q", "build", "--year", str(YEAR), "--osm", osm, "--out", out, "--force"],
         standalone_mode=False)
    return {"total": time.perf_counter() - t0, "steps": timings, "edges": edges[0]}


def child_run(osm: str, out: str) -> dict:
    """Run ``corridors run --osm OSM`` in-process; return timings (ours and run.json's)."""
    from corridors.app.cli import main

    timings: dict[str, float] = {}
    _instrument(timings)
    t0 = time.perf_counter()
    main(["-q", "run", "--osm", osm, "--out", out, "--force"], standalone_mode=False)
    total = time.perf_counter() - t0
    manifest = json.loads((Path(out) / "base" / "run.json").read_text(encoding="utf-8"))
    return {"total": total, "steps": timings, "run_json": manifest["timings_s"]}


def _graph_row_by_row(nodes, edges):
    """Build the networkx baseline graph: one ``add_node``/``add_edge`` call per row."""
    import networkx as nx
    import pandas as pd
    from corridors.network.graph import osmnx_tables

    # the tables to_graph builds from: both graphs carry the OSMnx columns (computed per column)
    nodes, edges = osmnx_tables(nodes, edges)
    G = nx.MultiDiGraph(crs="EPSG:4326")
    node_cols = [c for c in nodes.columns if c != "geometry"]
    for nid, row in zip(nodes.index, nodes[node_cols].itertuples(index=False), strict=True):
        G.add_node(int(nid), **{k: v for k, v in zip(node_cols, row, strict=True)
                                if v is not None and not (isinstance(v, float) and pd.isna(v))})
    cols = [c for c in edges.columns if c not in ("u", "v", "key")]
    for u, v, row in zip(edges["u"], edges["v"], edges[cols].itertuples(index=False),
                         strict=True):
        G.add_edge(int(u), int(v), **{k: x for k, x in zip(cols, row, strict=True)
                                      if x is not None and not (isinstance(x, float)
                                                                and pd.isna(x))})
    return G


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def child_baselines(osm: str) -> dict:
    """Time networkx baselines against the pipeline on the 2030 network of the extract."""
    import networkx as nx
    import numpy as np
    from corridors.network.graph import to_graph
    from corridors.network.routing import Router

    from corridors.analysis.access import KEY_DESTINATIONS
    from corridors.analysis.criticality import critical_links
    from corridors.build.analysis_network import AnalysisNetwork
    from corridors.build.pipeline import build_network

    result = build_network(YEAR, osm=osm)
    t = result.tables
    out: dict[str, dict] = {}
    t_nx, _ = _timed(lambda: _graph_row_by_row(t.nodes, t.edges))
    t_ours, _ = _timed(lambda: to_graph(t.nodes, t.edges))
    out["networkx graph"] = {"networkx_s": t_nx, "pipeline_s": t_ours}

    net = AnalysisNetwork(str(YEAR), t, result.catalog)
    places = net.place_nodes
    gates = [places[g.id] for g in net.gates()]
    dests = [places[d] for d in KEY_DESTINATIONS.values() if d in places]
    e = t.edges[t.edges["mode"] == "road"]

    def digraph() -> nx.DiGraph:
        G = nx.DiGraph()
        for u, v, w in zip(e["u"].to_numpy(), e["v"].to_numpy(), e["time_h_car"].to_numpy(),
                           strict=True):
            if np.isfinite(w) and (not G.has_edge(u, v) or w < G[u][v]["time"]):
                G.add_edge(int(u), int(v), time=float(w))
        return G

    def nx_times(G: nx.DiGraph) -> np.ndarray:
        res = np.full((len(gates), len(dests)), np.inf)
        for i, s in enumerate(gates):
            dist = nx.single_source_dijkstra_path_length(G, s, weight="time")
            res[i] = [dist.get(d, np.inf) for d in dests]
        return res

    t_g, G = _timed(digraph)
    t_q, want = _timed(lambda: nx_times(G))
    t_r, got = _timed(lambda: Router(t.nodes, t.edges, "car").times(gates, dests))
    ok = bool(np.allclose(np.nan_to_num(got, posinf=-1), np.nan_to_num(want, posinf=-1),
                          atol=1e-6))
    out["gate times (car)"] = {"networkx_s": t_g + t_q, "pipeline_s": t_r, "agree": ok}

    t_c, table = _timed(lambda: critical_links(net, "car", top=None))
    closures = table.attrs.get("closures")
    # networkx: close the first links of the first gate's path to Hà Nội, one at a time
    hn = places.get(KEY_DESTINATIONS["ha_noi"])
    if closures and hn is not None and gates:
        path = nx.dijkstra_path(G, gates[0], hn, weight="time")
        pairs = [(a, b) for a, b in zip(path[:-1], path[1:], strict=True)][1:1 + NX_CLOSURES]
        t0 = time.perf_counter()
        for a, b in pairs:
            saved = [(x, y, dict(G[x][y])) for x, y in ((a, b), (b, a)) if G.has_edge(x, y)]
            G.remove_edges_from([(x, y) for x, y, _ in saved])
            with contextlib.suppress(nx.NetworkXNoPath):
                nx.dijkstra_path_length(G, gates[0], hn, weight="time")
            G.add_edges_from(saved)
        per_nx = (time.perf_counter() - t0) / max(1, len(pairs))
        out["criticality, per closure"] = {"networkx_s": per_nx,
                                           "pipeline_s": t_c / max(1, closures),
                                           "closures": closures}
    out["criticality (2030, car)"] = {"pipeline_s": t_c}
    return out


# --------------------------------------------------------------------------------------------
# parent
# --------------------------------------------------------------------------------------------

def _spawn(args: list[str], env: dict[str, str]) -> tuple[dict, float, float]:
    """Run this script as a child; return its JSON result, wall time (s) and peak RSS (GB)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        result_path = fh.name
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *args,
                             "--result", result_path], env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"child {args[:2]} failed with exit code {proc.returncode}")
    data = json.loads(Path(result_path).read_text(encoding="utf-8"))
    os.unlink(result_path)
    return data, wall, usage.ru_maxrss / 1024 ** 2  # KiB on Linux


def _print_steps(title: str, wall: float, peak_gb: float, steps: dict[str, float]) -> None:
    print(f"\n{title}: {wall:.1f} s, peak RSS {peak_gb:.2f} GB")
    for name, s in steps.items():
        print(f"  {name:42s} {s:8.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edges", type=int, default=150_000,
                        help="target directed network edges of the extract (default 150000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the extract (default 0)")
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "corridors-bench",
                        help="where the extract is cached and the outputs written")
    parser.add_argument("--no-baselines", action="store_true",
                        help="skip the networkx baselines")
    parser.add_argument("--child", choices=["read", "build", "run", "baselines"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--osm", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        data = {"read": lambda: child_read(args.osm),
                "build": lambda: child_build(args.osm, args.out),
                "run": lambda: child_run(args.osm, args.out),
                "baselines": lambda: child_baselines(args.osm)}[args.child]()
        Path(args.result).write_text(json.dumps(data), encoding="utf-8")
        return 0

    sys.path.insert(0, str(SCRIPTS))
    from make_synthetic_osm import write_synthetic_osm

    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    osm = work / f"synthetic-{args.edges}-s{args.seed}.osm.pbf"
    if not osm.exists():
        t0 = time.perf_counter()
        info = write_synthetic_osm(osm, args.edges, args.seed)
        print(f"extract {osm}: {info['nodes']} nodes, {info['ways']} ways, grid "
              f"{info['grid'][0]} x {info['grid'][1]} ({time.perf_counter() - t0:.1f} s)")
    else:
        print(f"extract {osm} (cached)")

    env = dict(os.environ)
    cache = work / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    for name in ("build", "run"):
        shutil.rmtree(work / f"out-{name}", ignore_errors=True)
    env["CORRIDORS_CACHE_DIR"] = str(cache)
    read, read_wall, read_gb = _spawn(["--child", "read", "--osm", str(osm)], env)
    print(f"\nread the extract into the backbone cache (once per extract): {read_wall:.1f} s, "
          f"peak RSS {read_gb:.2f} GB, {read['edges']} backbone edges")

    build, build_wall, build_gb = _spawn(["--child", "build", "--osm", str(osm), "--out",
                                          str(work / "out-build")], env)
    steps = dict(build["steps"])
    steps["other (catalog, tables, checks)"] = build["total"] - sum(
        v for k, v in steps.items())
    _print_steps(f"corridors build --year {YEAR} --osm ({build['edges']} edges)", build_wall,
                 build_gb, steps)

    run, run_wall, run_gb = _spawn(["--child", "run", "--osm", str(osm), "--out",
                                    str(work / "out-run")], env)
    rj = run["run_json"]
    steps = {k: run["steps"].get(k, 0.0) for k in ("backbone (cached)",
                                                    "master (assemble, terrain, speeds)",
                                                    "quality report")}
    steps.update({k: v for k, v in rj.items() if k.startswith("analyses: ")})
    steps["surfaces"] = rj.get("surfaces", 0.0)
    # run.json's "networks" is the writing step (it replaces the building step's entry)
    steps.update({f"write {k}": rj.get(k, 0.0) for k in ("networks", "tables", "maps", "gis",
                                                          "report")})
    _print_steps("corridors run --osm", run_wall, run_gb, steps)

    if not args.no_baselines:
        base, _, _ = _spawn(["--child", "baselines", "--osm", str(osm)], env)
        print("\nnetworkx baselines on the same network (networkx / pipeline):")
        for name, r in base.items():
            if "networkx_s" in r:
                extra = "" if r.get("agree", True) else "  RESULTS DIFFER"
                print(f"  {name:30s} networkx {r['networkx_s']:9.3f} s, pipeline "
                      f"{r['pipeline_s']:9.3f} s: {r['networkx_s'] / r['pipeline_s']:7.1f}x"
                      + extra)
            else:
                print(f"  {name:30s} pipeline {r['pipeline_s']:9.3f} s (no networkx baseline)")
    print(f"run_s={run_wall:.1f} peak_gb={run_gb:.2f} edges={build['edges']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
