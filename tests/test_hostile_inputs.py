"""Hostile and careless inputs (issue 10): one line, exit code 1 (2 for the command line),
no traceback, nothing written, and no user string raw in any HTML output."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from corridors.build.pipeline import build_network
from corridors.catalog.scenario import apply_scenario, read_scenario
from corridors.core.diagnostics import InputError
from tests.helpers import run

TINY_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
 <node id="1" lat="21.0" lon="105.8"/>
 <node id="2" lat="{lat}" lon="{lon}"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/></way>
</osm>
"""


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


def _invoke(tmp_path: Path, monkeypatch, *args: str):
    """Run the command in tmp_path; return (result, the files it created)."""
    monkeypatch.chdir(tmp_path)
    before = _files(tmp_path)
    res = run(*args)
    return res, _files(tmp_path) - before


def _assert_refused(res, created, *needles: str, code: int = 1) -> None:
    text = res.output
    assert res.exit_code == code, text
    assert "Traceback" not in text and res.exc_info[0] is SystemExit, text
    lines = [ln for ln in text.splitlines()
             if ln.strip() and not ln.startswith(("Usage:", "Try "))]
    assert len(lines) == 1 and lines[0].startswith("Error:"), text
    for needle in needles:
        assert needle in lines[0], text
    assert not created, created


def _scenario(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- 1. scenario names ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ['"./../victim"', "'<img src=x onerror=alert(1)>'", "a/b",
                                  '".hidden"', '"x..y"', "'" + "n" * 65 + "'"])
def test_unsafe_scenario_name_is_refused_with_file_entry_field(tmp_path, monkeypatch, name):
    path = _scenario(tmp_path, f"name: {name}\n")
    with pytest.raises(InputError) as err:
        read_scenario(path)
    assert [(p.file, p.entry, p.field) for p in err.value.problems] == [("s.yaml", "-", "name")]
    res, created = _invoke(tmp_path, monkeypatch, "run", "--scenario", str(path), "--out", "out")
    _assert_refused(res, created, "s.yaml: -: name: error")
    assert not (tmp_path.parent / "victim").exists()


def test_safe_scenario_names_are_accepted(tmp_path):
    for name in ("sgr-late", "v1.2_test", "A"):
        assert read_scenario(_scenario(tmp_path, f"name: {name}\n")).name == name


# -- 2. every key under speeds, drop ------------------------------------------------------------
def test_unknown_speeds_class_is_refused_before_any_work(tmp_path, monkeypatch):
    path = _scenario(tmp_path, "name: fast\nspeeds:\n  class: {highway: 90}\n")
    res, created = _invoke(tmp_path, monkeypatch, "run", "--scenario", str(path), "--out", "out")
    _assert_refused(res, created, "s.yaml: highway: speeds.class: error: unknown class")


@pytest.mark.parametrize("table, entry, field", [
    ("project: {a3_9_99: 70}", "a3_9_99", "speeds.project"),
    ("source: {'catalog:nope': 70}", "catalog:nope", "speeds.source"),
    ("source: {'way/123': 70}", "way/123", "speeds.source"),
])
def test_unknown_speeds_ids_are_errors(tmp_path, monkeypatch, table, entry, field):
    path = _scenario(tmp_path, f"name: fast\nspeeds:\n  {table}\n")
    with pytest.raises(InputError) as err:
        apply_scenario(read_scenario(path))
    assert [(p.file, p.entry, p.field) for p in err.value.problems] == [("s.yaml", entry, field)]
    res, created = _invoke(tmp_path, monkeypatch, "run", "--scenario", str(path), "--out", "out")
    _assert_refused(res, created, f"s.yaml: {entry}: {field}: error")


def test_known_speeds_ids_are_accepted(tmp_path):
    path = _scenario(tmp_path, "name: ok\nspeeds:\n  class: {standard: 120}\n"
                     "  project: {a3_3_01: 120}\n"
                     "  source: {'catalog:a3_3_01': 110, 'osm:way/1': 30, 'giaothong:7': 40}\n")
    scenario = read_scenario(path)
    # every key kept as written, for the builder's speed overrides
    assert scenario.speeds == {"class": {"standard": 120}, "project": {"a3_3_01": 120},
                               "source": {"catalog:a3_3_01": 110, "osm:way/1": 30,
                                          "giaothong:7": 40}}
    assert "a3_3_01" in apply_scenario(scenario).projects
    # the same file with one unknown project is refused, naming it: the check is not a no-op
    _scenario(tmp_path, path.read_text(encoding="utf-8").replace("{a3_3_01: 120}",
                                                                 "{a3_3_99: 120}"))
    with pytest.raises(InputError) as err:
        apply_scenario(read_scenario(path))
    assert [(p.entry, p.field) for p in err.value.problems] == [("a3_3_99", "speeds.project")]


def test_dropping_a_project_drops_its_dependants_with_a_warning(tmp_path, caplog):
    # x_hsr_lao_cai_ha_noi_hai_phong_quang_ninh is ``same_as: a3_3_01``: dropping a3_3_01 used
    # to fail with "projects.yaml: x_hsr_...: same_as: ... is not another project".
    path = _scenario(tmp_path, "name: nosgr\nprojects:\n  drop: [a3_3_01]\n")
    with caplog.at_level(logging.WARNING):
        catalog = apply_scenario(read_scenario(path))
    assert "a3_3_01" not in catalog.projects
    assert "x_hsr_lao_cai_ha_noi_hai_phong_quang_ninh" not in catalog.projects
    assert "x_hsr_lao_cai_ha_noi_hai_phong_quang_ninh (same_as a3_3_01)" in caplog.text
    edges = build_network(2030, read_scenario(path)).tables.edges
    assert (edges["project"] != "a3_3_01").all()


# -- 3. years, --out, --osm ------------------------------------------------------------------------
@pytest.mark.parametrize("years", [("2030", "2025"), ("2025", "2025")])
def test_years_must_increase(tmp_path, monkeypatch, years):
    res, created = _invoke(tmp_path, monkeypatch, "run", "--years", *years, "--out", "out")
    _assert_refused(res, created, "--years", "increasing", code=2)


def test_empty_out_is_refused(tmp_path, monkeypatch):
    res, created = _invoke(tmp_path, monkeypatch, "run", "--out", "")
    _assert_refused(res, created, "--out", "empty", code=2)


def test_osm_folder_is_refused(tmp_path, monkeypatch):
    (tmp_path / "extract").mkdir()
    res, created = _invoke(tmp_path, monkeypatch, "run", "--osm", "extract", "--out", "out")
    _assert_refused(res, created, "--osm extract", "folder")


def test_out_under_a_file_is_refused_before_the_work(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("x")
    res, created = _invoke(tmp_path, monkeypatch, "run", "--out", "a-file/out")
    _assert_refused(res, created, "--out a-file/out", "a-file is not a folder")


def test_read_only_out_is_refused_before_the_work(tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("permissions are not enforced for this user (root)")
        for out in ("ro", "ro/new"):
            res, created = _invoke(tmp_path, monkeypatch, "run", "--out", out)
            _assert_refused(res, created, f"--out {out}", "cannot write")
    finally:
        ro.chmod(0o755)


# -- 4. OSM nodes off the Earth ------------------------------------------------------------------
@pytest.mark.parametrize("lat, lon, field", [("nan", "105.9", "lat='nan'"),
                                             ("95", "105.9", "lat='95'"),
                                             ("21.1", "181", "lon='181'"),
                                             ("21.1", "inf", "lon='inf'")])
def test_osm_node_with_bad_coordinates_is_named(tmp_path, monkeypatch, lat, lon, field):
    (tmp_path / "bad.osm").write_text(TINY_OSM.format(lat=lat, lon=lon), encoding="utf-8")
    res, created = _invoke(tmp_path, monkeypatch, "build", "--year", "2025", "--osm", "bad.osm",
                           "--out", "out", "--no-cache")
    _assert_refused(res, created, "bad.osm", "node 2", field)


# -- 5. no user string raw in any output: tests/test_run.py (the session's run) ----------


# -- 6. a table of broken inputs -----------------------------------------------------------------
BROKEN = {
    "missing scenario": (["run", "--scenario", "nope.yaml", "--out", "out"], 2, "nope.yaml"),
    "bad YAML": (["run", "--scenario", "bad.yaml", "--out", "out"], 1, "bad.yaml"),
    "unknown project in delay": (["run", "--scenario", "delay.yaml", "--out", "out"], 1,
                                 "delay.yaml: a3_9_99: projects.delay"),
    "unknown speeds class": (["run", "--scenario", "speed.yaml", "--out", "out"], 1,
                             "speed.yaml: highway: speeds.class"),
    "reversed years": (["run", "--years", "2030", "2025", "--out", "out"], 2, "--years"),
    "osm folder": (["run", "--osm", ".", "--out", "out"], 1, "--osm"),
    "missing osm": (["build", "--year", "2025", "--osm", "no.osm", "--out", "out"], 1, "no.osm"),
    "unknown place": (["route", "Atlantis", "Hà Nội"], 1, "Atlantis"),
    "bbox west > east": (["build", "--year", "2025", "--osm", "ok.osm", "--bbox", "108", "20",
                          "102", "23", "--out", "out"], 2, "--bbox"),
    "bbox not numbers": (["build", "--year", "2025", "--osm", "ok.osm", "--bbox", "a", "b", "c",
                          "d", "--out", "out"], 2, "--bbox"),
    "reversed compare": (["map", "plan", "--compare", "2030", "2025", "--out", "m"], 2,
                         "--compare"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_inputs_give_one_line(tmp_path, monkeypatch, case, reuse_base_builds):
    args, code, needle = BROKEN[case]
    _scenario(tmp_path, "name: x\ndescription: [unclosed\n", "bad.yaml")
    _scenario(tmp_path, "name: x\nprojects:\n  delay: {a3_9_99: 2031}\n", "delay.yaml")
    _scenario(tmp_path, "name: x\nspeeds:\n  class: {highway: 90}\n", "speed.yaml")
    (tmp_path / "ok.osm").write_text(TINY_OSM.format(lat="21.1", lon="105.9"), encoding="utf-8")
    res, created = _invoke(tmp_path, monkeypatch, *args)
    _assert_refused(res, created, needle, code=code)
