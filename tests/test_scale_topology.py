"""Component bridging (network.topology) with a spatial index equals the scan of every pair.

The reference is the former algorithm: each round measures every component but the largest
against the union of all the others and joins the nearest.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely
import shapely.ops
from corridors.network.topology import NODE_GRID_M, _bridge, _key, _node_at
from shapely.geometry import LineString


def _bridge_by_scan(lines, cuts, tolerance_m):
    bridges, longest = 0, 0.0
    for _ in range(len(lines)):
        pieces, n_comp = _node_at(lines, [set(c) for c in cuts])
        if n_comp == 1:
            return pieces, n_comp, bridges, longest
        g = nx.Graph()
        for i, p in pieces:
            g.add_edge(_key(*p.coords[0]), _key(*p.coords[-1]), line=i)
        comps = sorted(nx.connected_components(g), key=len, reverse=True)
        geoms = [shapely.union_all([lines[d["line"]] for _, _, d in
                                    g.subgraph(c).edges(data=True)]) for c in comps]
        best = None
        for ci in range(1, len(comps)):
            rest = shapely.union_all([geoms[j] for j in range(len(comps)) if j != ci])
            d = geoms[ci].distance(rest)
            if d <= tolerance_m and (best is None or d < best[0]):
                best = (d, ci, rest)
        if best is None:
            return pieces, n_comp, bridges, longest
        d, ci, rest = best
        a, b = shapely.ops.nearest_points(geoms[ci], rest)
        for pt in (a, b):
            for j, ln in enumerate(lines):
                if ln.distance(pt) <= NODE_GRID_M:
                    cuts[j].add(ln.project(pt))
        lines.append(LineString([a, b]))
        cuts.append(set())
        bridges += 1
        longest = max(longest, d)
    return pieces, n_comp, bridges, longest


def _clusters(rng, n_clusters=7, per=6):
    """Short random road pieces in separate clusters (metres), a few km apart."""
    lines = []
    for c in range(n_clusters):
        cx, cy = rng.uniform(0, 20_000, 2)
        pts = np.c_[cx + rng.uniform(-800, 800, per + 1), cy + rng.uniform(-800, 800, per + 1)]
        lines += [LineString([pts[k], pts[k + 1]]) for k in range(per)]  # a connected chain
        if c % 3 == 0:  # and a stray segment of its own
            lines.append(LineString([pts[0] + 1500, pts[0] + [1900, 1700]]))
    return lines


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_bridging_equals_the_scan(seed):
    rng = np.random.default_rng(seed)
    lines = _clusters(rng)
    want_lines, got_lines = list(lines), list(lines)
    want = _bridge_by_scan(want_lines, [set() for _ in lines], 5000.0)
    got = _bridge(got_lines, [set() for _ in lines], 5000.0)
    assert got[1:] == want[1:]  # components left, connectors, longest
    assert want[2] >= 2  # several rounds ran
    assert [g.wkb for g in got_lines] == [g.wkb for g in want_lines]  # the same connectors
    assert [(i, p.wkb) for i, p in got[0]] == [(i, p.wkb) for i, p in want[0]]


def test_nothing_within_the_tolerance_stays_apart():
    lines = [LineString([(0, 0), (100, 0)]), LineString([(10_000, 0), (10_100, 0)])]
    pieces, n_comp, bridges, _ = _bridge(list(lines), [set(), set()], 5000.0)
    assert (n_comp, bridges, len(pieces)) == (2, 0, 2)
