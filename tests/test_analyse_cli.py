"""``corridors route`` and ``corridors analyse`` on the embedded default."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.helpers import run, serve_base_builds


def test_route_json_between_places_in_any_spelling(reuse_base_builds):
    res = run("route", "Ha Noi", "lào cai", "--year", 2025, "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    for key in ("from", "to", "year", "profile", "time_h", "length_km", "km_by_mode"):
        assert key in out
    assert out["from_id"] == "city_ha_noi" and out["to_id"] == "city_lao_cai"
    assert 2.5 < out["time_h"] < 5.0
    assert out["km_by_mode"] == {"road": pytest.approx(out["length_km"], rel=1e-6)}


def test_route_from_coordinates_and_by_air(reuse_base_builds):
    res = run("route", "21.03,105.85", "Điện Biên Phủ", "--profile", "passenger", "--format",
              "json")
    out = json.loads(res.output)
    assert res.exit_code == 0 and out["km_by_mode"].get("air", 0) > 200
    car = json.loads(run("route", "21.03,105.85", "Điện Biên Phủ", "--format", "json").output)
    assert "air" not in car["km_by_mode"] and car["time_h"] > out["time_h"]


def test_route_errors_are_clear(reuse_base_builds):
    res = run("route", "Lao Kai", "Hà Nội")
    assert res.exit_code == 1 and "did you mean" in res.output and "Traceback" not in res.output
    res = run("route", "10.8,106.6", "Hà Nội")
    assert res.exit_code == 1 and "nearest road" in res.output
    res = run("route", "airport_sa_pa", "Hà Nội", "--year", 2025)
    assert res.exit_code == 1 and "not in the 2025 network" in res.output
    assert run("route", "Hà Nội", "Lào Cai", "--profile", "bicycle").exit_code == 2


@pytest.fixture(scope="module")
def analysed(tmp_path_factory, base_builds):
    out = tmp_path_factory.mktemp("analyse")
    with pytest.MonkeyPatch.context() as mp:
        served = serve_base_builds(mp, base_builds)
        res = run("analyse", "--out", out, "--profile", "car", "--profile", "freight")
    assert res.exit_code == 0, res.output
    assert served == [(2025, 2030)]  # the analyses ran on the shared networks
    return out


def test_analyse_writes_every_table(analysed):
    for name in ("gate_access", "gate_matrix", "corridor_kpis", "province_times", "savings_od",
                 "savings_gates", "savings_corridors", "savings_provinces",
                 "project_attribution", "critical_links", "critical_links_summary"):
        assert (analysed / f"{name}.csv").exists(), name
        assert (analysed / f"{name}.parquet").exists(), name
    access = pd.read_parquet(analysed / "gate_access.parquet")
    assert set(access["scenario"]) == {"2025", "2030"}
    assert len(access) == 2 * 2 * 30  # years x profiles x (25 gates + 5 BGEZs)
    assert {"time_h_to_ha_noi", "length_km_to_ha_noi", "people_within_4h"} <= set(access)


def test_2030_is_never_slower_than_2025(analysed):
    od = pd.read_parquet(analysed / "savings_od.parquet")
    finite = od["saving_h"].replace([np.inf], np.nan).dropna()
    assert (finite >= -1e-9).all()
    assert (finite > 0.1).sum() >= 10  # many gates gain more than 6 minutes


def test_provinces_in_both_editions(analysed):
    prov = pd.read_parquet(analysed / "savings_provinces.parquet")
    assert set(prov.loc[prov["edition"] == "2024", "province"]) >= {"Hà Giang", "Yên Bái"}
    assert "Hà Giang" not in set(prov.loc[prov["edition"] == "2025", "province"])
    assert len(prov[prov["edition"] == "2024"]) == 2 * 21


def test_attribution_covers_the_projects_opening_between(analysed):
    attr = pd.read_parquet(analysed / "project_attribution.parquet")
    car = attr[attr["profile"] == "car"]
    assert {"a3_1_01", "a3_1_05", "a3_1_11", "a3_3_01"} <= set(car["project"])
    assert car["rank"].min() == 1
    assert (car["removed_od_hours"] >= -1e-9).all() and (car["added_od_hours"] >= -1e-9).all()


def test_analyse_refuses_to_overwrite(analysed, reuse_base_builds):
    res = run("analyse", "--out", analysed, "--profile", "car")
    assert res.exit_code == 1 and "--force" in res.output
