"""The ``corridors`` command: exit codes, formats and user mistakes."""

from __future__ import annotations

import json

from tests.helpers import edit_entry, run


def test_validate_shipped_catalog_is_clean():
    res = run("validate")
    assert res.exit_code == 0, res.output
    assert "valid" in res.output


def test_validate_broken_catalog_lists_file_entry_field(catalog_copy):
    edit_entry(catalog_copy, "projects.yaml", "a3_1_01", lambda e: e.update(mode="teleport"))
    edit_entry(catalog_copy, "places.yaml", "city_son_la", lambda e: e.update(lon=200))
    res = run("validate", str(catalog_copy))
    assert res.exit_code == 1
    assert "projects.yaml: a3_1_01: mode: error" in res.output
    assert "places.yaml: city_son_la: lon: error" in res.output
    assert "2 error(s)" in res.output


def test_validate_missing_path():
    res = run("validate", "/no/such/catalog")
    assert res.exit_code == 1
    assert "no such file or folder" in res.output


def test_projects_json_lists_every_project_with_source():
    res = run("projects", "--format", "json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert len([r for r in rows if r["id"].startswith("a3_")]) == 33
    for r in rows:
        for key in ("id", "name", "name_vi", "mode", "kind", "open_year", "status_2025",
                    "source"):
            assert r[key] not in (None, ""), (r["id"], key)
    assert any("ữ" in r["name_vi"] or "ạ" in r["name_vi"] for r in rows)  # UTF-8 kept


def test_projects_filters_and_table():
    rows = json.loads(run("projects", "--mode", "air", "--format", "json").output)
    assert rows and all(r["mode"] == "air" for r in rows)
    res = run("projects", "--format", "table")
    assert res.exit_code == 0 and "a3_5_01" in res.output
    both = json.loads(run("projects", "--include-existing", "--open-by", "2025",
                          "--format", "json").output)
    assert any(r["kind"] == "existing" for r in both)
    assert all(r["open_year"] <= 2025 for r in both)


def test_projects_bad_format_is_a_usage_error():
    res = run("projects", "--format", "xml")
    assert res.exit_code == 2
    assert "xml" in res.output


def test_places_finds_by_any_spelling():
    for q in ("Lao Cai", "Lào Cai", "lao cai"):
        res = run("places", q, "--format", "json")
        assert res.exit_code == 0
        assert json.loads(res.output)[0]["id"] == "city_lao_cai"


def test_unknown_place_is_a_clear_error_without_traceback():
    res = run("places", "Atlantis")
    assert res.exit_code == 1
    assert "no catalog place matches 'Atlantis'" in res.output
    assert "Traceback" not in res.output


def test_unknown_kind_lists_valid_kinds():
    res = run("places", "--kind", "spaceport")
    assert res.exit_code == 2
    assert "border_gate" in res.output


def test_corridors_and_info():
    res = run("corridors", "--format", "json")
    assert res.exit_code == 0
    assert len(json.loads(res.output)) >= 11
    res = run("info")
    assert res.exit_code == 0
    assert "OpenStreetMap" in res.output and "provinces_2025" in res.output
