"""The networkx graph built in bulk (network.graph.to_graph), and GraphML only on request."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import networkx as nx
import numpy as np
from corridors.network.graph import to_graph

from tests.helpers import run


def _row_by_row(nodes, edges):
    """The reference: the benchmark's networkx baseline, one add_node / add_edge per row."""
    path = Path(__file__).resolve().parents[1] / "scripts" / "benchmark_pipeline.py"
    spec = importlib.util.spec_from_file_location("benchmark_pipeline", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._graph_row_by_row(nodes, edges)


def test_bulk_graph_equals_the_row_by_row_one(base_builds):
    t = base_builds[2030].tables
    got, want = to_graph(t.nodes, t.edges), _row_by_row(t.nodes, t.edges)
    assert list(got.nodes(data=True)) == list(want.nodes(data=True))
    a, b = list(got.edges(keys=True, data=True)), list(want.edges(keys=True, data=True))
    assert len(a) == len(b) == len(t.edges)
    for (u1, v1, k1, d1), (u2, v2, k2, d2) in zip(a, b, strict=True):
        assert (u1, v1, k1) == (u2, v2, k2)
        assert d1.keys() == d2.keys()
        for key in d1:
            x, y = d1[key], d2[key]
            assert type(x) is type(y) and (x == y or (isinstance(x, float) and np.isnan(x)))
    # parallel edges keep distinct keys (0, 1, ...) as add_edge numbers them
    assert max(k for _, _, k in got.edges(keys=True)) >= 1


def test_graphml_only_with_the_flag(tmp_path, reuse_base_builds):
    res = run("build", "--year", "2025", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    assert (tmp_path / "network_2025.gpkg").exists()
    assert not (tmp_path / "network_2025.graphml").exists()
    res = run("build", "--year", "2025", "--out", str(tmp_path), "--force", "--graphml")
    assert res.exit_code == 0, res.output
    G = nx.read_graphml(tmp_path / "network_2025.graphml")
    assert G.number_of_edges() > 1000
