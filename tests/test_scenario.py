"""Scenario files: delays, drops, additions and speed overrides, and their errors."""

from __future__ import annotations

import pytest

from corridors.build.pipeline import build_network, build_networks
from corridors.catalog.scenario import apply_scenario, read_scenario
from corridors.core.diagnostics import InputError


def _write(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _edges(result, pid):
    e = result.tables.edges
    return e[e["project"] == pid]


def test_delay_and_drop_change_the_2030_network(tmp_path):
    path = _write(tmp_path, """
name: late
description: standard-gauge railway late, Sa Pa airport dropped
projects:
  delay: {a3_3_01: 2033}
  drop: [a3_4_04]
""")
    scenario = read_scenario(path)
    r, r33 = build_networks([2030, 2033], scenario).values()  # one master, two years
    assert _edges(r, "a3_3_01").empty
    assert "airport_sa_pa" not in set(r.tables.nodes["place_id"].dropna())
    assert "a3_3_01" in r.report["catalog"]["links_not_open_yet"]
    assert not _edges(r33, "a3_3_01").empty
    assert r.provenance["scenario"] == "late" and r.provenance["scenario_sha256"]


def test_added_project_appears_from_its_year(tmp_path):
    path = _write(tmp_path, """
name: bypass
projects:
  add:
    - id: s_lang_son_cao_bang_expressway
      name: Lang Son - Cao Bang expressway (test)
      name_vi: Cao tốc Lạng Sơn - Cao Bằng (thử)
      mode: road
      kind: new
      open_year: 2029
      status_2025: planned
      length_km: 115
      standard: {road_class: expressway, lanes: 4, design_speed_kmh: 80}
      location:
        type: alignment
        waypoints: [{place: city_lang_son}, {place: city_cao_bang}]
      source: test scenario
""")
    sc = read_scenario(path)
    r28, r29 = build_networks([2028, 2029], sc).values()
    assert _edges(r28, "s_lang_son_cao_bang_expressway").empty
    added = _edges(r29, "s_lang_son_cao_bang_expressway")
    assert added["length_km"].sum() / 2 == pytest.approx(115, rel=0.01)
    assert set(added["class"]) == {"expressway"}


def test_speed_override_applies(tmp_path):
    sc = read_scenario(_write(tmp_path, "name: slow\nspeeds:\n  class: {national: 30}\n"))
    e = build_network(2025, sc).tables.edges
    national = e[(e["mode"] == "road") & (e["class"] == "national")]
    assert (national["speed_kmh_car"] == 30).all()


def test_unknown_project_names_file_entry_and_field(tmp_path):
    path = _write(tmp_path, "name: x\nprojects:\n  delay: {a3_9_99: 2031}\n  drop: [zzz]\n")
    with pytest.raises(InputError) as err:
        apply_scenario(read_scenario(path))
    found = {(p.file, p.entry, p.field) for p in err.value.problems}
    assert ("s.yaml", "a3_9_99", "projects.delay") in found
    assert ("s.yaml", "zzz", "projects.drop") in found


def test_invalid_added_entry_is_reported_with_the_scenario_file(tmp_path):
    path = _write(tmp_path, """
name: bad
projects:
  add:
    - {id: s_bad, name: Bad, name_vi: Xấu, mode: hovercraft, kind: new, open_year: 2029,
       status_2025: planned, source: test, location: {type: programme}}
""")
    with pytest.raises(InputError) as err:
        apply_scenario(read_scenario(path))
    assert any((p.file, p.entry, p.field) == ("s.yaml", "s_bad", "mode")
               for p in err.value.problems)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("name: x\nprojects:\n  delay: {a3_1_01: 2101}\n", "projects.delay"),
        ("name: x\nprojects:\n  postpone: {a3_1_01: 2030}\n", "postpone"),
        ("name: x\nspeeds:\n  class: {national: -5}\n", "speeds.class"),
        ("projects: {}\n", "name"),
        ("name: x\nspeed: {}\n", "speed"),
    ],
)
def test_malformed_scenarios(tmp_path, text, field):
    with pytest.raises(InputError) as err:
        read_scenario(_write(tmp_path, text))
    assert any(p.field == field for p in err.value.problems), err.value.problems


def test_unreadable_scenario(tmp_path):
    with pytest.raises(InputError, match="not valid YAML"):
        read_scenario(_write(tmp_path, "name: [unclosed\n"))
    with pytest.raises(InputError, match="file not found"):
        read_scenario(tmp_path / "missing.yaml")


def test_a_project_without_an_id_does_not_make_a_drop_take_others():
    """An id-less entry depending on a dropped project once put None into the dropped ids:
    every project without ``same_as`` then depended on it (and sorting the ids failed)."""
    from types import SimpleNamespace

    from corridors.catalog.scenario import _with_dependants

    entries = [(None, {"id": "a"}), (None, {"id": "b"}), (None, {"id": "c", "upgrades": "a"}),
               (None, {"same_as": "a"})]
    raw = SimpleNamespace(entries={"projects": entries})
    assert _with_dependants(SimpleNamespace(drop=["a"]), raw, "s.yaml") == {"a", "c"}
