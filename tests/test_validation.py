"""Each validation rule, on a broken copy of the shipped catalog."""

from __future__ import annotations

import yaml

from corridors.catalog.validation import validate
from tests.helpers import append_entry, edit_entry


def _errors(folder):
    return [p for p in validate(folder) if p.severity == "error"]


def _first_id(folder, file, key, **match):
    doc = yaml.safe_load((folder / file).read_text(encoding="utf-8"))
    for e in doc[key]:
        if all(e.get(k) == v for k, v in match.items()):
            return e["id"]
    raise AssertionError(f"no entry {match} in {file}")


def _alignment_project(folder):
    doc = yaml.safe_load((folder / "projects.yaml").read_text(encoding="utf-8"))
    for e in doc["projects"]:
        if e["location"]["type"] == "alignment":
            return e["id"]
    raise AssertionError("no alignment project")


def _only(errors, file, entry, field):
    hits = [p for p in errors if (p.file, p.entry, p.field) == (file, entry, field)]
    assert hits, f"no error for {file}: {entry}: {field}; got {errors}"
    return hits[0]


def test_shipped_catalog_has_no_error(catalog_copy):
    assert _errors(catalog_copy) == []


def test_unknown_mode(catalog_copy):
    edit_entry(catalog_copy, "projects.yaml", "a3_1_01", lambda e: e.update(mode="teleport"))
    p = _only(_errors(catalog_copy), "projects.yaml", "a3_1_01", "mode")
    assert "teleport" in p.message and "road" in p.message


def test_unknown_kind(catalog_copy):
    edit_entry(catalog_copy, "projects.yaml", "a3_1_01", lambda e: e.update(kind="demolition"))
    _only(_errors(catalog_copy), "projects.yaml", "a3_1_01", "kind")


def test_year_out_of_range(catalog_copy):
    def change(e):
        e.update(open_year=2075, open_year_basis="fact", status_source="test")

    edit_entry(catalog_copy, "projects.yaml", "a3_1_01", change)
    p = _only(_errors(catalog_copy), "projects.yaml", "a3_1_01", "open_year")
    assert "2075" in p.message and "2000-2060" in p.message


def test_year_must_be_a_number(catalog_copy):
    edit_entry(catalog_copy, "projects.yaml", "a3_1_01", lambda e: e.update(open_year="soon"))
    _only(_errors(catalog_copy), "projects.yaml", "a3_1_01", "open_year")


def test_plan_year_must_follow_the_rule(catalog_copy):
    def change(e):
        e["plan"]["expected_time"] = "2021 - 2025"
        e["plan_open_year"] = 2030

    edit_entry(catalog_copy, "projects.yaml", "a3_1_01", change)
    p = _only(_errors(catalog_copy), "projects.yaml", "a3_1_01", "plan_open_year")
    assert "gives 2025" in p.message


def test_coordinates_outside_study_area(catalog_copy):
    edit_entry(catalog_copy, "places.yaml", "city_son_la", lambda e: e.update(lat=10.8, lon=106.6))
    p = _only(_errors(catalog_copy), "places.yaml", "city_son_la", "lat/lon")
    assert "outside the study area" in p.message


def test_duplicate_id(catalog_copy):
    doc = yaml.safe_load((catalog_copy / "places.yaml").read_text(encoding="utf-8"))
    dup = dict(next(e for e in doc["places"] if e["id"] == "city_lang_son"))
    append_entry(catalog_copy, "places.yaml", dup)
    p = _only(_errors(catalog_copy), "places.yaml", "city_lang_son", "id")
    assert "duplicate" in p.message


def test_corridor_naming_unknown_place(catalog_copy):
    cid = _first_id(catalog_copy, "corridors.yaml", "corridors", kind="economic_corridor")

    def change(e):
        e["places"][1] = "city_atlantis"

    edit_entry(catalog_copy, "corridors.yaml", cid, change)
    p = _only(_errors(catalog_copy), "corridors.yaml", cid, "places[2].place")
    assert "city_atlantis" in p.message


def test_gate_far_from_border(catalog_copy):
    # Lạng Sơn city centre is about 15 km from the border
    def change(e):
        e.update(lat=21.8478, lon=106.7578, location_method="published")

    edit_entry(catalog_copy, "places.yaml", "gate_huu_nghi", change)
    p = _only(_errors(catalog_copy), "places.yaml", "gate_huu_nghi", "lat/lon")
    assert "km from the border line" in p.message


def test_waypoint_that_does_not_parse(catalog_copy):
    pid = _alignment_project(catalog_copy)

    def change(e):
        e["location"]["waypoints"][0] = ["Cho Moi", 21.8]

    edit_entry(catalog_copy, "projects.yaml", pid, change)
    p = _only(_errors(catalog_copy), "projects.yaml", pid, "location.waypoints[1]")
    assert "does not parse" in p.message


def test_waypoint_with_bad_coordinate(catalog_copy):
    pid = _alignment_project(catalog_copy)

    def change(e):
        e["location"]["waypoints"][0] = {"name": "Somewhere", "lat": "21°N", "lon": 105.0}

    edit_entry(catalog_copy, "projects.yaml", pid, change)
    _only(_errors(catalog_copy), "projects.yaml", pid, "location.waypoints[1].lat")


def test_province_2025_must_follow_the_merger(catalog_copy):
    edit_entry(catalog_copy, "places.yaml", "city_yen_bai",
               lambda e: e.update(province_2025="Yên Bái"))
    p = _only(_errors(catalog_copy), "places.yaml", "city_yen_bai", "province_2025")
    assert "Lào Cai" in p.message


def test_missing_source(catalog_copy):
    edit_entry(catalog_copy, "existing.yaml",
               _first_id(catalog_copy, "existing.yaml", "links", mode="road"),
               lambda e: e.pop("source"))
    assert any(p.field == "source" and p.file == "existing.yaml" for p in _errors(catalog_copy))


def test_every_problem_is_reported_at_once(catalog_copy):
    edit_entry(catalog_copy, "projects.yaml", "a3_1_01", lambda e: e.update(mode="teleport"))
    edit_entry(catalog_copy, "projects.yaml", "a3_1_02", lambda e: e.update(kind="demolition"))
    edit_entry(catalog_copy, "places.yaml", "city_son_la", lambda e: e.update(lat=10.8))
    fields = {(p.entry, p.field) for p in _errors(catalog_copy)}
    assert {("a3_1_01", "mode"), ("a3_1_02", "kind"), ("city_son_la", "lat/lon")} <= fields


def test_unreadable_yaml_names_file_and_line(catalog_copy):
    (catalog_copy / "corridors.yaml").write_text("corridors:\n  - id: x\n   name: [\n",
                                                  encoding="utf-8")
    p = _only(_errors(catalog_copy), "corridors.yaml", "-", "-")
    assert "line" in p.message


def test_single_file_replaces_its_counterpart(catalog_copy, tmp_path):
    edit_entry(catalog_copy, "projects.yaml", "a3_1_01", lambda e: e.update(mode="teleport"))
    mine = tmp_path / "my_projects.yaml"
    mine.write_text((catalog_copy / "projects.yaml").read_text(encoding="utf-8"),
                    encoding="utf-8")
    errors = _errors(mine)
    assert [(p.file, p.entry, p.field) for p in errors] == [("my_projects.yaml", "a3_1_01",
                                                             "mode")]


def test_alignment_crossing_the_border_is_a_warning(catalog_copy):
    pid = _alignment_project(catalog_copy)

    def change(e):
        # a detour through Yunnan: Hà Giang city -> Hekou (China) -> Lào Cai city
        e["location"]["waypoints"] = [{"place": "city_ha_giang"},
                                      {"name": "Hekou", "lat": 22.53, "lon": 103.96,
                                       "source": "test"},
                                      {"place": "city_lao_cai"}]

    edit_entry(catalog_copy, "projects.yaml", pid, change)
    problems = validate(catalog_copy)
    hits = [p for p in problems if (p.entry, p.field) == (pid, "location.waypoints")]
    assert hits and hits[0].severity == "warning" and "crosses the border" in hits[0].message
