"""corridors.analysis.check_times: validation of the published times, routing per year, the
command."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from corridors.analysis.check_times import (
    COLUMNS,
    bus_time_factor,
    check_times,
    default_observations_path,
    read_observations,
    resolve_place,
    summary,
)
from corridors.core.diagnostics import InputError
from tests.helpers import run

HEADER = ",".join(COLUMNS)


def write_csv(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "times.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def car(frm: str, to: str, year: int, lo: float = 1, hi: float = 2, profile: str = "car") -> str:
    return f"{frm},{to},road,{profile},{year},{lo},{hi},,test,test,high"


# -- reading ------------------------------------------------------------------------------------


def test_shipped_file_reads():
    obs = read_observations(default_observations_path())
    assert len(obs) >= 40
    assert set(obs["mode"]) == {"road", "rail", "air"}
    assert obs["line"].iloc[0] == 2
    assert obs["year"].between(2000, 2060).all()


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ("Hà Nội,Hải Phòng,road,car,2025,abc,2,,c,s,high", "hours_min", "not a number"),
        ("Hà Nội,Hải Phòng,road,car,2025,3,2,,c,s,high", "hours_min", "greater than"),
        ("Hà Nội,Hải Phòng,ship,car,2025,1,2,,c,s,high", "mode", "unknown mode"),
        ("Hà Nội,Hải Phòng,road,truck,2025,1,2,,c,s,high", "profile", "unknown profile"),
        ("Hà Nội,Hải Phòng,road,car,1990,1,2,,c,s,high", "year", "2000-2060"),
        ("Hà Nội,Hải Phòng,road,car,2061,1,2,,c,s,high", "year", "2000-2060"),
        ("Hà Nội,Hải Phòng,road,,2025,,,,c,s,high", "hours_min", "neither hours"),
        ("Hà Nội,Hải Phòng,road,car,2025,1,,,c,s,high", "hours_max", "both"),
        ("Hà Nội,Hải Phòng,road,,2025,,,-5,c,s,high", "km", "positive"),
        (",Hải Phòng,road,car,2025,1,2,,c,s,high", "from", "missing place"),
    ],
)
def test_each_bad_row_names_file_line_and_field(tmp_path, row, field, message):
    path = write_csv(tmp_path, car("Hà Nội", "Lào Cai", 2025), row)
    with pytest.raises(InputError) as err:
        read_observations(path)
    [problem] = err.value.problems
    assert problem.file == str(path)
    assert problem.entry == "line 3"
    assert problem.field == field
    assert message in problem.message
    assert f"{path}: line 3: {field}: error:" in str(err.value)


def test_every_problem_is_reported_at_once(tmp_path):
    path = write_csv(tmp_path, "A,B,road,car,2025,x,2,,c,s,high", "A,B,boat,car,2025,1,2,,c,s,h")
    with pytest.raises(InputError) as err:
        read_observations(path)
    assert [(p.entry, p.field) for p in err.value.problems] == [("line 2", "hours_min"),
                                                                ("line 3", "mode")]


def test_missing_column_and_missing_file(tmp_path):
    path = write_csv(tmp_path, "Hà Nội,Hải Phòng,road,car,2025,1,2,c,s,high",
                     header=HEADER.replace(",km", ""))
    with pytest.raises(InputError) as err:
        read_observations(path)
    assert [(p.entry, p.field) for p in err.value.problems] == [("line 1", "km")]
    assert "missing column" in str(err.value)
    with pytest.raises(InputError, match="file not found"):
        read_observations(tmp_path / "nowhere.csv")


# -- places -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "place_id"),
    [("Nội Bài airport", "airport_noi_bai"), ("Hữu Nghị gate", "gate_huu_nghi"),
     ("ha long", "city_ha_long"), ("Sa Pa", "town_sa_pa"), ("Điện Biên Phủ", "city_dien_bien_phu"),
     ("Vân Đồn", "town_cai_rong"), ("Mai Chau", "town_mai_chau"), ("Ba Bể lake", "town_ba_be"),
     ("Móng Cái", "gate_mong_cai")],
)
def test_places_of_the_published_rows_resolve(name, place_id, shipped_catalog):
    assert resolve_place(shipped_catalog, name).id == place_id


def test_every_shipped_place_resolves(shipped_catalog):
    cat = shipped_catalog
    obs = read_observations(default_observations_path())
    for name in set(obs["from"]) | set(obs["to"]):
        resolve_place(cat, name)


def test_unknown_places_are_all_listed_with_their_row(tmp_path, reuse_base_builds):
    path = write_csv(tmp_path, car("Hà Nội", "Atlantis", 2025), car("Nowhere", "Hải Phòng", 2025))
    with pytest.raises(InputError) as err:
        check_times(read_observations(path))
    assert [(p.entry, p.field) for p in err.value.problems] == [("line 2", "to"),
                                                                ("line 3", "from")]
    assert "Atlantis" in str(err.value) and "Nowhere" in str(err.value)


# -- routing ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def routed(tmp_path_factory) -> pd.DataFrame:
    tmp = tmp_path_factory.mktemp("times")
    path = write_csv(
        tmp,
        car("Hà Nội", "Hải Phòng", 2025, 1, 3),                  # line 2
        car("Hà Nội", "Hải Phòng", 2025, 1, 3, profile="bus"),   # line 3
        car("Hà Nội", "Hạ Long", 2017),                          # line 4
        car("Hà Nội", "Hạ Long", 2025),                          # line 5
        car("Hạ Long", "Móng Cái", 2021),                        # line 6
        car("Hạ Long", "Móng Cái", 2025),                        # line 7
        "Lạng Sơn,Hữu Nghị gate,road,,2023,,,17,road distance,s,high",  # line 8
        "Hà Nội,Lào Cai,rail,passenger,2019,7.6,8.1,,train,s,high",    # line 9
        "Hà Nội,Điện Biên Phủ,air,passenger,2019,1,1.25,,flight,s,high",  # line 10
    )
    return check_times(read_observations(path)).set_index("line")


def test_one_row_routed_on_the_embedded_network(routed):
    r = routed.loc[2]
    assert 1 <= r["model_hours"] <= 3
    assert 80 <= r["model_km"] <= 150
    assert r["within"] is True or bool(r["within"])
    assert "expressway" in r["route_summary"]


def test_bus_takes_the_car_time_times_the_factor(routed):
    factor = bus_time_factor()
    assert factor == pytest.approx(1.25)  # speeds.yaml: the published bus/car ratios
    assert routed.loc[3, "model_hours"] == pytest.approx(routed.loc[2, "model_hours"] * factor,
                                                         abs=0.01)
    assert routed.loc[3, "model_km"] == routed.loc[2, "model_km"]


@pytest.mark.parametrize(("before", "after"), [(4, 5), (6, 7)])
def test_before_an_expressway_opened_takes_longer(routed, before, after):
    assert routed.loc[before, "model_hours"] > routed.loc[after, "model_hours"] + 0.2


def test_distance_row_rail_and_air(routed):
    d = routed.loc[8]
    assert pd.isna(d["within"]) and d["km_published"] == 17
    assert d["km_error_pct"] == pytest.approx((d["model_km"] / 17 - 1) * 100, abs=0.5)
    rail, air = routed.loc[9], routed.loc[10]
    assert rail["mode"] == "rail" and 4 < rail["model_hours"] < 12
    assert "metre" in rail["route_summary"] or "dual" in rail["route_summary"]
    assert 0.8 < air["model_hours"] < 2 and "air" in air["route_summary"]


def test_summary_counts(routed):
    s = summary(routed.reset_index())
    assert s["timed_rows"] == 8 and s["distance_rows"] == 1 and s["km_rows"] == 1
    assert 0 <= s["timed_within_pct"] <= 100
    assert len(s["worst_time"]) == 5


@pytest.fixture(scope="module")
def shipped():
    results = check_times(read_observations(default_observations_path()))
    return results, summary(results)


def test_shipped_facts_as_calibrated(shipped):
    """What the calibrated model reaches today (issue 13 asks for 80 %): no regression below it."""
    results, s = shipped
    # issue 13's target: 20 % before its calibration, 73 % with a least-squares fit, 83 % with
    # the fit that aims at the ranges (calibration.fit, stage 1)
    assert s["timed_within_pct"] >= 80
    assert s["km_within_15pct_pct"] >= 75  # 48 % before, 77 % now
    # the before-and-after rows: each expressway shortens its trip, as published
    by = results.set_index(["from", "to", "year"])["model_hours"]
    assert by[("Hà Nội", "Sa Pa", 2013)] > 2 * by[("Hà Nội", "Sa Pa", 2025)]
    assert by[("Hạ Long", "Móng Cái", 2021)] > 1.8 * by[("Hạ Long", "Móng Cái", 2025)]
    # published 3.5-4 h before, 1.5-2.5 h after (about 1.9x); the model's 2017 trip, over the
    # Hà Nội - Hải Phòng expressway's QL10 interchange and QL10/QL18, is too fast (2.9 h): the
    # flat national roads of the delta run at the speed the Quảng Ninh QL18 rows need
    assert by[("Hà Nội", "Hạ Long", 2017)] > 1.25 * by[("Hà Nội", "Hạ Long", 2025)]
    # Điện Biên Phủ is joined to QL12 as well as ĐT279, which pass on either side of its centre:
    # Mường Lay - Điện Biên Phủ is 100 km (published), not 125 km by the city's far side
    km = results.set_index(["from", "to", "year"])["model_km"]
    assert 90 < km[("Mường Lay", "Điện Biên Phủ", 2011)] < 115
    # no shipped distance is shorter than the straight line between its points once rounded:
    # Đồng Đăng - Hữu Nghị "3 km" against 3.25 km of straight line is within its rounding
    assert s["km_below_straight"] == []


@pytest.mark.xfail(reason="issue 13 target not reached: distance rows off by more than 15 %, "
                   "see the closing note", strict=True)
def test_shipped_distance_rows_within_target(shipped):
    _, s = shipped
    assert s["distance_rows_within_15pct"] == s["distance_rows"]


# -- command ------------------------------------------------------------------------------------


def test_cli_names_a_distance_shorter_than_the_straight_line(tmp_path, reuse_base_builds):
    # Hà Nội and Hải Phòng are some 95 km apart in a straight line: 50 km is a wrong figure
    path = write_csv(tmp_path, "Hà Nội,Hải Phòng,road,,2025,,,50,test,test,high",
                     "Hà Nội,Bắc Ninh,road,,2025,,,30,test,test,high")
    result = run("check-times", str(path))
    assert result.exit_code == 0, result.output
    flagged = [line for line in result.output.splitlines() if line.startswith("check the row")]
    assert len(flagged) == 1 and "Hải Phòng: published 50 km is less than the" in flagged[0]


def test_cli_user_csv_and_formats(tmp_path, reuse_base_builds):
    path = write_csv(tmp_path, car("Hà Nội", "Hải Phòng", 2025, 1, 3))
    result = run("check-times", str(path))
    assert result.exit_code == 0, result.output
    assert "Hải Phòng" in result.output and "timed rows: 1" in result.output
    result = run("check-times", str(path), "--format", "json")
    doc = json.loads(result.output)
    assert doc["summary"]["timed_rows"] == 1 and len(doc["rows"]) == 1


@pytest.mark.parametrize(
    ("rows", "message"),
    [(["Hà Nội,Hải Phòng,road,car,2025,abc,2,,c,s,high"], "line 2: hours_min"),
     ([car("Hà Nội", "Atlantis", 2025)], "line 2: to")],
)
def test_cli_one_line_errors(tmp_path, rows, message, reuse_base_builds):
    path = write_csv(tmp_path, *rows)
    result = run("check-times", str(path))
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_cli_missing_file(tmp_path):
    result = run("check-times", str(tmp_path / "nowhere.csv"))
    assert result.exit_code == 1
    assert "file not found" in result.output
