"""The base year is the network as it stands: the evidence and plan readings of opening years."""

from __future__ import annotations

import pytest

from corridors.build.pipeline import build_network
from corridors.catalog.model import apply_reading
from corridors.catalog.scenario import read_scenario
from corridors.catalog.timing import EVIDENCE_YEAR, next_plan_horizon, reading_open_year
from corridors.core.diagnostics import InputError
from tests.helpers import run


@pytest.mark.parametrize(("year", "plan", "basis", "reading", "expected"), [
    (2023, 2023, "plan", "evidence", 2030),   # "before 2024", no evidence: next plan period
    (2025, 2025, "plan", "evidence", 2030),   # a 2021-2025 item not shown open
    (2029, 2029, "plan", "evidence", 2029),   # a future plan year stands
    (2025, 2024, "fact", "evidence", 2025),   # opened 19 Dec 2025: in the 2025 network
    (2025, 2025, "target", "evidence", 2026),  # a passed target without a dated opening
    (2028, 2027, "target", "evidence", 2028),
    (2024, 2030, "scenario", "evidence", 2024),  # a scenario's year stands
    (2023, 2029, "fact", "plan", 2023),       # what has opened has opened, in every reading
    (2026, 2024, "target", "plan", 2024),     # the plan as written replaces a target
    (2023, 2023, "plan", "plan", 2023),
    (2014, None, "fact", "plan", 2014),       # existing links have no plan year
])
def test_reading_rule(year, plan, basis, reading, expected):
    assert reading_open_year(year, plan, basis, reading) == expected


def test_unknown_reading_or_basis_is_refused():
    with pytest.raises(ValueError, match="reading"):
        reading_open_year(2025, 2025, "plan", "hope")
    with pytest.raises(ValueError, match="open_year_basis"):
        reading_open_year(2025, 2025, "rumour")


def test_next_plan_horizon():
    assert next_plan_horizon(2025) == 2030 and next_plan_horizon(2027) == 2030
    assert next_plan_horizon(2030) == 2035


def test_evidence_reading_opens_nothing_in_the_past_without_a_dated_fact(shipped_catalog):
    cat = apply_reading(shipped_catalog, "evidence")
    for p in [*cat.projects.values(), *cat.links.values()]:
        if p.open_year <= EVIDENCE_YEAR:
            assert p.open_year_basis == "fact", (p.id, p.open_year, p.open_year_basis)
    # the Lào Cai – Lai Châu connector ("before 2024", status unknown) is not in 2025
    assert cat.projects["a3_1_04"].open_year == 2030
    assert cat.projects["a3_1_04"].attrs["catalog_open_year"] == 2023
    # Đồng Đăng – Trà Lĩnh phase 1 opened on 19 Dec 2025, phase 2 is a 2026 target
    assert cat.projects["a3_1_10"].open_year == 2025
    assert cat.projects["x_dong_dang_tra_linh_phase2"].open_year == 2026
    # Tuyên Quang – Hà Giang: a target of 19 Dec 2025, opening unconfirmed
    assert cat.projects["a3_1_09"].open_year == 2026


def test_plan_reading_takes_the_plan_years(shipped_catalog):
    cat = apply_reading(shipped_catalog, "plan")
    assert cat.projects["a3_1_04"].open_year == 2023
    assert cat.projects["a3_1_12"].open_year == 2023  # opened 2023 (planned for 2029)
    assert cat.projects["a3_1_01"].open_year == 2025  # target 2026, the plan said 2025
    assert cat.links["e_noi_bai_yen_bai"].open_year == 2014


def _edges(result, pid):
    e = result.tables.edges
    return e[e["project"] == pid]


def test_network_of_2025_follows_the_reading(tmp_path, base_builds):
    base = base_builds
    assert _edges(base[2025], "a3_1_04").empty
    assert not _edges(base[2030], "a3_1_04").empty
    assert not _edges(base[2025], "a3_1_10").empty
    assert base[2025].provenance["open_years_reading"] == "evidence"
    path = tmp_path / "plan.yaml"
    path.write_text("name: as-planned\nopen_years: plan\n", encoding="utf-8")
    planned = build_network(2025, read_scenario(path))
    assert not _edges(planned, "a3_1_04").empty
    assert planned.provenance["open_years_reading"] == "plan"


def test_scenario_reading_must_be_known(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nopen_years: optimistic\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_scenario(path)
    assert "bad.yaml: -: open_years" in str(err.value)


def test_projects_command_shows_the_reading():
    import json


    res = run("projects", "--open-by", "2025", "--format", "json")
    assert res.exit_code == 0, res.output
    ids = {p["id"] for p in json.loads(res.output)}
    assert "a3_1_10" in ids and "a3_1_04" not in ids
    res = run("projects", "--open-by", "2025", "--open-years", "plan", "--format", "json")
    rows = {p["id"]: p for p in json.loads(res.output)}
    assert rows["a3_1_04"]["open_year"] == 2023 and rows["a3_1_04"]["catalog_open_year"] == 2023
