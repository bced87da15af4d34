"""The Python API (``corridors.build_network``, ``route``, ``analyse``, ``run``, ``make_map``).

One network of 2030 and one analysis of it are made once for the module; the command line is
run once to check that ``corridors route --format json`` prints what ``corridors.route``
returns.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import folium
import networkx as nx
import pandas as pd
import pytest
from click.testing import CliRunner

import corridors
from corridors.app.cli import _message, main
from corridors.core.outputs import OutputExistsError, write_files

API = ["build_network", "route", "analyse", "run", "make_map", "Network", "Run", "RunResults"]


@pytest.fixture(scope="module")
def net30():
    return corridors.build_network(2030)


@pytest.fixture(scope="module")
def results(net30):
    """2030 analysed on its own (car only): enough for every map, and the quickest run."""
    return corridors.analyse(networks=(net30, net30), profiles=("car",))


# -- the package -------------------------------------------------------------------------------
def test_dir_and_all_list_the_api():
    for name in API:
        assert name in dir(corridors) and name in corridors.__all__
    assert "_import_module" not in dir(corridors) and "version" not in dir(corridors)
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = corridors.nothing_here


def test_low_level_modules_do_not_import_the_toolkit():
    code = ("import sys, corridors.core.names, corridors; "
            "print(sorted(m for m in ('corridors.api', 'pandas', 'networkx', 'folium') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


# -- networks and routes -----------------------------------------------------------------------
def test_build_network_gives_the_graph_of_the_year(net30):
    assert isinstance(net30, corridors.Network)
    assert (net30.year, net30.scenario, net30.label) == (2030, "base", "2030")
    G = net30.graph
    assert isinstance(G, nx.MultiDiGraph)
    assert G.number_of_nodes() == len(net30.nodes) and G.number_of_edges() == len(net30.edges)
    assert G.graph["year"] == 2030 and G.graph["crs"] == "EPSG:4326"
    assert "2030" in repr(net30) and "nodes" in repr(net30)


def test_route_hanoi_lao_cai_2030_is_plausible(net30):
    trip = corridors.route(net30, "Hà Nội", "Lào Cai")
    # published by expressway: about 3.5-4.5 h; the model drives 272 km (244 on the expressway)
    assert isinstance(trip["time_h"], float) and 3.0 < trip["time_h"] < 4.5
    assert 240 < trip["length_km"] < 310
    assert trip["km_by_class"]["road:expressway"] > 200
    assert trip["reachable"] and trip["from_id"] == "city_ha_noi"
    assert trip["to_id"] == "city_lao_cai"


def test_route_ends_are_nodes_of_the_graph(net30):
    trip = corridors.route(net30, "Hà Nội", "Lào Cai")
    G = net30.graph
    assert trip["from_node"] in G and trip["to_node"] in G
    assert G.nodes[trip["from_node"]]["place_id"] == "city_ha_noi"
    assert G.nodes[trip["to_node"]]["place_id"] == "city_lao_cai"
    assert net30.node("lao cai") == trip["to_node"]
    # networkx on the graph's roads and transfers (the car's modes) finds the model's time
    car = G.edge_subgraph([(u, v, k) for u, v, k, mode in G.edges(keys=True, data="mode")
                           if mode in ("road", "transfer")])
    hours = nx.shortest_path_length(car, trip["from_node"], trip["to_node"],
                                    weight="time_h_car")
    assert hours == pytest.approx(trip["time_h"], abs=1e-3)


def test_route_equals_the_command_field_by_field(net30):
    api = corridors.route(net30, "Hà Nội", "Lào Cai")
    res = CliRunner().invoke(main, ["route", "Hà Nội", "Lào Cai", "--year", "2030",
                                    "--format", "json"])
    assert res.exit_code == 0, res.output
    cli = json.loads(res.output)
    assert set(api) == set(cli) | {"from_node", "to_node"}
    api_json = json.loads(json.dumps(api, ensure_ascii=False))
    for field, value in cli.items():
        assert api_json[field] == value, field


@pytest.mark.parametrize("spelling", ["Lao Cai", "lao cai", "LÀO CAI", "city_lao_cai"])
def test_any_spelling_gives_the_same_route(net30, spelling):
    assert corridors.route(net30, "Ha Noi", spelling) == corridors.route(net30, "Hà Nội",
                                                                         "Lào Cai")


def test_coordinates_as_text_or_pair(net30):
    text = corridors.route(net30, "21.03,105.85", "Lào Cai", profile="truck")
    pair = corridors.route(net30, (21.03, 105.85), "Lào Cai", profile="truck")
    assert text == pair and text["from_id"] is None and text["snap_km"]["from"] < 5


def test_bad_input_raises_clear_errors(net30):
    with pytest.raises(LookupError, match="Atlantis"):
        corridors.route(net30, "Atlantis", "Lào Cai")
    with pytest.raises(LookupError, match="did you mean"):
        corridors.route(net30, "Hà Nội", "Lao Kai")
    with pytest.raises(ValueError, match="unknown profile 'bicycle'"):
        corridors.route(net30, "Hà Nội", "Lào Cai", profile="bicycle")
    with pytest.raises(TypeError, match="build_network"):
        corridors.route(2030, "Hà Nội", "Lào Cai")
    with pytest.raises(ValueError, match="outside 2000-2060"):
        corridors.build_network(1990)
    with pytest.raises(FileNotFoundError, match="no such file"):
        corridors.build_network(2030, osm="/nonexistent/extract.osm.pbf")
    with pytest.raises(ValueError, match="file not found"):  # InputError, naming the file
        corridors.build_network(2030, scenario="/nonexistent/late.yaml")


# -- results and maps --------------------------------------------------------------------------
def test_analyse_gives_tables_as_dataframes(results):
    assert isinstance(results, corridors.RunResults)
    assert results.labels == ("2030", "2030")
    access = results.tables["gate_access"]
    assert isinstance(access, pd.DataFrame) and len(access) > 0
    assert "time_h_to_ha_noi" in access.columns
    assert results.table("gate_access") is access
    with pytest.raises(KeyError, match="tables: .*gate_access"):
        results.table("nope")
    assert "gate_access" in repr(results) and len(repr(results)) < 600


def test_analyse_refuses_networks_with_years(net30):
    with pytest.raises(ValueError, match="give networks or years, not both"):
        corridors.analyse((2025, 2030), networks=(net30, net30))
    with pytest.raises(ValueError, match="increasing"):
        corridors.analyse((2030, 2025))


def test_map_builders_return_folium_maps(results):
    from corridors.maps import MAP_KINDS, build_map, make_map, render_map
    from corridors.maps.corridor import make_corridor_map
    from corridors.maps.gate import make_gate_map
    from corridors.maps.international import make_international_map
    from corridors.maps.plan import make_plan_map
    from corridors.maps.scenario import make_scenario_map

    for builder in (make_plan_map, make_scenario_map, make_gate_map, make_corridor_map,
                    make_international_map):
        assert isinstance(builder(results), folium.Map), builder.__name__
    for kind in MAP_KINDS:
        assert isinstance(make_map(results, kind), folium.Map), kind
    m = corridors.make_map(results, "gate", gate="Kim Thành")
    assert isinstance(m, folium.Map) and corridors.make_map is make_map
    # shown in a notebook as the page the toolkit writes, offline
    shown = m._repr_html_()
    assert "<iframe" in shown and "Border gates and BGEZs" in shown
    assert "leaflet.js (inline)" in shown
    # rendering leaves the map as it was: the same page every time, as the writer writes it
    ids = re.compile(r"[0-9a-f]{32}")
    page = render_map(m)
    assert ids.sub("", page) == ids.sub("", render_map(m))
    written, _ = build_map(results, "gate", gate="Kim Thành")
    assert ids.sub("", page) == ids.sub("", written)
    with pytest.raises(TypeError, match="not made by a corridors map builder"):
        render_map(folium.Map())


def test_run_without_a_folder_writes_nothing(results, monkeypatch, tmp_path):
    import corridors.jobs.run as run_mod

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(run_mod, "compute_results", lambda *a, **k: results)
    done = corridors.run(years=(2030, 2030))
    assert isinstance(done, corridors.Run) and list(done) == ["base"]
    assert done.base is results and done["base"].tables["gate_access"] is not None
    assert done.out is None and done.files == [] and list(tmp_path.iterdir()) == []
    with pytest.raises(KeyError, match="scenarios: base"):
        _ = done["late-sgr"]


def test_run_into_a_folder_keeps_each_scenarios_results(results, monkeypatch, tmp_path):
    import corridors.jobs.run as run_mod

    def write(res, folder, step, graphml=False):  # corridors.jobs.run._write_scenario's
        (folder / "report.html").write_text("report", encoding="utf-8")
        return {"scenario": res.scenario.name, "years": list(res.years),
                "provenance": res.provenance, "timings_s": {}, "files": ["report.html"]}

    monkeypatch.setattr(run_mod, "compute_results", lambda *a, **k: results)
    monkeypatch.setattr(run_mod, "_write_scenario", write)
    done = corridors.run(tmp_path / "out", years=(2030, 2030))
    assert done.base is results and done.out == tmp_path / "out"
    assert done.files == [tmp_path / "out" / "base" / "report.html"]
    assert (tmp_path / "out" / "index.html").exists()
    with pytest.raises(OutputExistsError, match=r"force=True replaces it"):
        corridors.run(tmp_path / "out", years=(2030, 2030))
    assert corridors.run(tmp_path / "out", years=(2030, 2030), force=True).base is results


# -- errors in the library's words, flags in the command's ----------------------------------
def test_files_in_the_way_say_force_true_and_the_command_says_pass_force(tmp_path):
    write_files(tmp_path, ["a.txt"], lambda s: (s / "a.txt").write_text("first"))
    with pytest.raises(OutputExistsError) as caught:
        write_files(tmp_path, ["a.txt"], lambda s: (s / "a.txt").write_text("second"))
    err = caught.value
    assert isinstance(err, FileExistsError)
    assert "force=True replaces it" in str(err) and "--force" not in str(err)
    assert _message(err) == (f"{tmp_path / 'a.txt'} already exists: pass --force to replace "
                             "it, or choose another --out")


def _strings(path: Path) -> list[str]:
    """Return the string literals of a module (f-string parts included), docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
            and node.body and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)}
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
            and isinstance(node.value, str) and id(node) not in docs]


def test_no_library_message_names_the_flag():
    root = Path(__file__).resolve().parents[1]
    folders = ["corridors", "maps", "network", "layers"]
    offenders = [str(p.relative_to(root)) for f in folders for p in (root / f).rglob("*.py")
                 if p.name != "cli.py" and any("pass --force" in t for t in _strings(p))]
    assert offenders == []
