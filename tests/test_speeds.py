"""Speeds, times and transfer costs of edges from data/speeds.yaml (network.speeds)."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import yaml
from corridors.network.schema import ROAD_CLASSES, TERRAINS
from corridors.network.speeds import (
    SpeedTableError,
    assign_speeds,
    default_speeds_path,
    load_speed_table,
    speed_summary,
)
from shapely.geometry import LineString

#: The figures the mechanics below are worked out with: the shipped table before calibration
#: (scripts/calibrate_speeds.py refits the car figures; test_calibrated_figures_are_plausible
#: checks what it wrote).
REFERENCE_CAR = {"factor.default.flat": 0.9, "factor.default.hilly": 0.85,
                 "factor.default.mountainous": 0.8, "factor.expressway.flat": 1.0,
                 "factor.expressway.hilly": 1.0, "factor.expressway.mountainous": 1.0,
                 "factor.connector": 0.85, "rail": 40.0, "urban.road": 25.0,
                 "urban.expressway": 60.0}


@pytest.fixture(scope="module")
def table():
    from corridors.build.calibration import with_values

    return with_values(load_speed_table(), REFERENCE_CAR)


def test_calibrated_figures_are_plausible():
    """The shipped car figures, as the calibration wrote them, stay within sourced bounds."""
    from corridors.build.calibration import PARAMETERS, current_values

    shipped = load_speed_table()
    values = current_values(shipped)
    for p in PARAMETERS:  # figures are written to 3 decimals
        assert p.low - 1e-3 <= values[p.name] <= p.high + 1e-3, p.name
    text = default_speeds_path().read_text(encoding="utf-8")
    assert "calibrated against travel_times.csv" in text


def make_edges(rows: list[dict]) -> gpd.GeoDataFrame:
    """Edges with the schema's defaults; each row sets what it needs."""
    base = {"mode": "road", "class": "national", "length_km": 10.0, "terrain": "",
            "lanes": np.nan, "design_speed_kmh": np.nan, "maxspeed_kmh": np.nan,
            "source": "", "project": "",
            "geometry": LineString([(105.0, 21.0), (105.1, 21.0)])}
    records = [{**base, **row} for row in rows]
    return gpd.GeoDataFrame(records, geometry="geometry", crs="EPSG:4326")


def one(table, **row) -> dict:
    return assign_speeds(make_edges([row]), table).iloc[0].to_dict()


# --- the shipped table ------------------------------------------------------------------------

def test_shipped_table_loads_with_every_class(table):
    assert table.path == default_speeds_path()
    assert set(table.design_kmh) == set(ROAD_CLASSES)
    for cls in ROAD_CLASSES:
        assert set(table.design_kmh[cls]) == set(TERRAINS)
    # TCVN 4054:2005 Table 4 figures of the grades the classes map to
    assert table.design_kmh["national"] == {"flat": 80, "hilly": 80, "mountainous": 60}
    assert table.design_kmh["provincial"] == {"flat": 60, "hilly": 60, "mountainous": 40}
    assert table.design_kmh["district"] == {"flat": 40, "hilly": 40, "mountainous": 30}
    assert table.design_kmh["local"] == {"flat": 30, "hilly": 30, "mountainous": 20}
    assert table.design_kmh["expressway"] == {"flat": 120, "hilly": 100, "mountainous": 80}
    # Circular 31/2019/TT-BGTVT Art. 7 and 8
    assert table.legal_max_kmh["car"] == {"divided": 90, "undivided": 80, "expressway": 120}
    assert table.rail_kmh["standard"]["car"] < 160  # below the 160 km/h design speed


def test_national_road_in_mountains_10_km(table):
    e = one(table, **{"class": "national", "terrain": "mountainous", "length_km": 10.0})
    # design 60 km/h (grade III, mountain) x 0.80 car / 0.60 truck
    assert e["speed_kmh_car"] == pytest.approx(48.0)
    assert e["speed_kmh_truck"] == pytest.approx(36.0)
    assert e["time_h_car"] == pytest.approx(10 / 48)
    assert e["time_h_truck"] == pytest.approx(10 / 36)
    assert e["cost_vnd_truck"] == 0


def test_expressway_runs_at_design_speed_capped_by_law(table):
    flat = one(table, **{"class": "expressway", "terrain": "flat"})
    assert flat["speed_kmh_car"] == 120
    assert flat["speed_kmh_truck"] == table.cap_kmh("truck", "expressway")
    own = one(table, **{"class": "expressway", "terrain": "hilly", "design_speed_kmh": 90})
    assert own["speed_kmh_car"] == 90
    over = one(table, **{"class": "expressway", "terrain": "flat", "design_speed_kmh": 140})
    assert over["speed_kmh_car"] == 120


def test_truck_never_faster_than_car(table):
    rows = []
    for cls, terrain, lanes, design, maxspeed in itertools.product(
            ROAD_CLASSES, [*TERRAINS, ""], [np.nan, 2, 4], [np.nan, 30, 80, 150],
            [np.nan, 40, 120]):
        rows.append({"class": cls, "terrain": terrain, "lanes": lanes,
                     "design_speed_kmh": design, "maxspeed_kmh": maxspeed})
    rows += [{"mode": "rail", "class": c, "terrain": ""} for c in ("metre", "dual", "standard")]
    rows += [{"mode": "water", "class": "river"}, {"mode": "air", "class": "air"}]
    out = assign_speeds(make_edges(rows), table)
    assert (out["speed_kmh_truck"] <= out["speed_kmh_car"]).all()
    assert (out["time_h_truck"] >= out["time_h_car"]).all()
    assert out[["speed_kmh_car", "speed_kmh_truck"]].notna().all().all()


def test_legal_caps_apply(table):
    # own design speed 120 on a national road: 0.9 x 120 = 108 -> bound 100 -> legal cap
    undivided = one(table, **{"terrain": "flat", "design_speed_kmh": 120, "lanes": 2})
    divided = one(table, **{"terrain": "flat", "design_speed_kmh": 120, "lanes": 4})
    assert undivided["speed_kmh_car"] == 80 and undivided["speed_kmh_truck"] == 60
    assert divided["speed_kmh_car"] == 90 and divided["speed_kmh_truck"] == 70


def test_bounds_apply(table):
    slow = one(table, **{"terrain": "mountainous", "design_speed_kmh": 10})
    lo_car, _ = table.bounds_kmh["national"]["car"]
    lo_truck, _ = table.bounds_kmh["national"]["truck"]
    assert slow["speed_kmh_car"] == lo_car
    assert slow["speed_kmh_truck"] == lo_truck


def test_osm_maxspeed_caps(table):
    e = one(table, **{"terrain": "flat", "maxspeed_kmh": 50})
    assert e["speed_kmh_car"] == 50
    assert e["speed_kmh_truck"] == 50
    loose = one(table, **{"terrain": "flat", "maxspeed_kmh": 110})
    assert loose["speed_kmh_car"] == pytest.approx(72)


def test_edge_design_speed_is_used(table):
    e = one(table, **{"class": "provincial", "terrain": "flat", "design_speed_kmh": 80})
    assert e["speed_kmh_car"] == pytest.approx(0.9 * 80)
    assert e["speed_kmh_truck"] == 60  # 0.8 x 80 = 64, capped by 60 undivided


def test_missing_terrain_falls_back_to_hilly(table):
    out = assign_speeds(make_edges([{"terrain": ""}, {"terrain": None},
                                    {"terrain": "hilly"}]), table)
    assert out["speed_kmh_car"].nunique() == 1
    assert out["speed_kmh_car"].iloc[0] == pytest.approx(0.85 * 80)
    edges = make_edges([{}]).drop(columns="terrain")
    assert assign_speeds(edges, table)["speed_kmh_car"].iloc[0] == pytest.approx(68)


def test_terrain_synonyms_and_unknown_labels(table):
    e = one(table, terrain="mountain")
    assert e["speed_kmh_car"] == pytest.approx(48)
    with pytest.raises(ValueError, match="steep"):
        assign_speeds(make_edges([{"terrain": "steep"}]), table)


def test_unknown_class_or_mode_or_length_raises(table):
    with pytest.raises(ValueError, match="motorway"):
        assign_speeds(make_edges([{"class": "motorway"}]), table)
    with pytest.raises(ValueError, match="ferry"):
        assign_speeds(make_edges([{"mode": "ferry"}]), table)
    with pytest.raises(ValueError, match="length_km"):
        assign_speeds(make_edges([{"length_km": -1}]), table)


def test_input_frame_is_not_modified(table):
    edges = make_edges([{"terrain": "flat"}])
    before = edges.copy()
    out = assign_speeds(edges, table)
    assert out is not edges
    assert edges.equals(before)


def test_overrides_by_class_source_and_project(table):
    edges = make_edges([
        {"terrain": "mountainous"},
        {"terrain": "mountainous", "project": "a3_1_01"},
        {"class": "expressway", "terrain": "flat", "source": "osm:way/7"},
        {"class": "provincial", "terrain": "flat"},
    ])
    out = assign_speeds(edges, table, overrides={
        "class": {"national": 50},
        "project": {"a3_1_01": 90},
        "source": {"osm:way/7": {"car": 100, "truck": 80}},
    })
    # class: car 50, truck keeps its truck/car ratio of 36/48
    assert out["speed_kmh_car"].iloc[0] == 50
    assert out["speed_kmh_truck"].iloc[0] == pytest.approx(50 * 36 / 48)
    assert out["time_h_car"].iloc[0] == pytest.approx(10 / 50)
    # project beats class
    assert out["speed_kmh_car"].iloc[1] == 90
    assert out["speed_kmh_car"].iloc[2] == 100 and out["speed_kmh_truck"].iloc[2] == 80
    # untouched class
    assert out["speed_kmh_car"].iloc[3] == pytest.approx(54)


@pytest.mark.parametrize("bad", [
    {"class": {"road_rail": 10}},
    {"class": {"motorway": 10}},
    {"lane": {"x": 10}},
    {"project": {"p": -5}},
    {"project": {"p": {"car": 50, "truck": 60}}},
    {"project": {"p": {"bus": 50}}},
])
def test_malformed_overrides_raise(table, bad):
    with pytest.raises(ValueError):
        assign_speeds(make_edges([{}]), table, overrides=bad)


def test_transfer_times_and_costs(table):
    out = assign_speeds(make_edges([
        {"mode": "transfer", "class": "road_rail", "length_km": 2.0},
        {"mode": "transfer", "class": "border", "length_km": 0.0},
    ]), table)
    rr, border = out.iloc[0], out.iloc[1]
    yard = table.yard_speed_kmh
    assert rr["time_h_car"] == pytest.approx(2.0 / yard + table.transfer["road_rail"]["time_h_car"])
    assert rr["time_h_truck"] == pytest.approx(2.0 / yard + 8.0)
    assert rr["cost_vnd_truck"] == 1_000_000
    assert border["time_h_car"] == pytest.approx(1.0)
    assert border["time_h_truck"] == pytest.approx(6.0)
    assert border["cost_vnd_truck"] == 0


def test_air_block_time_follows_from_length(table):
    # Nội Bài – Điện Biên is about 292 km; timetables give 60-75 min
    out = assign_speeds(make_edges([{"mode": "air", "class": "air", "length_km": 292.0},
                                    {"mode": "air", "class": "air", "length_km": 584.0}]), table)
    minutes = out["time_h_car"].iloc[0] * 60
    assert 60 <= minutes <= 75
    assert out["time_h_car"].iloc[0] == pytest.approx(0.5 + 292 / 450)
    # doubling the distance adds only the cruise part
    assert out["time_h_car"].iloc[1] - out["time_h_car"].iloc[0] == pytest.approx(292 / 450)
    assert (out["time_h_truck"] == out["time_h_car"]).all()


def test_rail_speeds(table):
    out = assign_speeds(make_edges([{"mode": "rail", "class": "metre", "length_km": 100.0},
                                    {"mode": "rail", "class": "standard", "length_km": 100.0}]),
                        table)
    assert out["time_h_car"].iloc[0] == pytest.approx(100 / 40)
    assert out["time_h_truck"].iloc[0] == pytest.approx(100 / 30)
    assert out["speed_kmh_car"].iloc[1] == pytest.approx(128)


def test_river_direction(table):
    down = table.water_kmh["river"]["downstream"]
    up = table.water_kmh["river"]["upstream"]
    out = assign_speeds(make_edges([
        # Lào Cai -> Việt Trì (south-east): downstream
        {"mode": "water", "class": "river",
         "geometry": LineString([(103.97, 22.50), (105.40, 21.30)])},
        {"mode": "water", "class": "river",
         "geometry": LineString([(105.40, 21.30), (103.97, 22.50)])},
        # north-east: across the axis, round-trip mean
        {"mode": "water", "class": "river",
         "geometry": LineString([(105.0, 21.0), (105.1, 21.1)])},
    ]), table)
    assert list(out["speed_kmh_car"].iloc[:2]) == [down, up]
    assert out["speed_kmh_car"].iloc[2] == pytest.approx(2 / (1 / down + 1 / up))
    flagged = make_edges([{"mode": "water", "class": "river"}])
    flagged["downstream"] = [False]
    assert assign_speeds(flagged, table)["speed_kmh_truck"].iloc[0] == up


def test_speed_summary(table):
    summary = speed_summary(table)
    assert len(summary) == len(ROAD_CLASSES) * len(TERRAINS)
    row = summary[(summary["class"] == "national") & (summary["terrain"] == "mountainous")]
    assert row["car_kmh"].iloc[0] == pytest.approx(48)


# --- broken tables ----------------------------------------------------------------------------

def write_variant(tmp_path: Path, change) -> Path:
    doc = yaml.safe_load(default_speeds_path().read_text(encoding="utf-8"))
    change(doc)
    path = tmp_path / "speeds.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_missing_class_names_file_and_key(tmp_path):
    path = write_variant(tmp_path, lambda d: d["road"]["design_speed_kmh"].pop("national"))
    with pytest.raises(SpeedTableError) as err:
        load_speed_table(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "road.design_speed_kmh" in msg and "'national'" in msg


def test_negative_speed_names_file_key_and_field(tmp_path):
    def change(d):
        d["road"]["design_speed_kmh"]["national"]["mountainous"]["value"] = -60
    path = write_variant(tmp_path, change)
    with pytest.raises(SpeedTableError) as err:
        load_speed_table(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "road.design_speed_kmh.national.mountainous" in msg
    assert "'value'" in msg and "-60" in msg


def test_figure_without_source_is_rejected(tmp_path):
    def change(d):
        d["rail"]["metre"]["passenger_kmh"] = {"value": 40}
    path = write_variant(tmp_path, change)
    with pytest.raises(SpeedTableError, match=r"rail\.metre\.passenger_kmh.*source"):
        load_speed_table(path)


def test_other_broken_tables(tmp_path):
    def min_above_max(d):
        d["road"]["bounds_kmh"]["local"]["car"]["min"]["value"] = 99
    with pytest.raises(SpeedTableError, match=r"road\.bounds_kmh\.local\.car"):
        load_speed_table(write_variant(tmp_path, min_above_max))

    def bad_profile(d):
        d["road"]["legal_max_kmh"]["profiles"]["truck"] = "lorry"
    with pytest.raises(SpeedTableError, match="lorry"):
        load_speed_table(write_variant(tmp_path, bad_profile))

    def no_transfer(d):
        d["transfer"].pop("border")
    with pytest.raises(SpeedTableError, match=r"transfer.*'border'"):
        load_speed_table(write_variant(tmp_path, no_transfer))

    def text_speed(d):
        d["water"]["river"]["upstream_kmh"]["value"] = "slow"
    with pytest.raises(SpeedTableError, match=r"water\.river\.upstream_kmh"):
        load_speed_table(write_variant(tmp_path, text_speed))

    with pytest.raises(FileNotFoundError):
        load_speed_table(tmp_path / "none.yaml")


def test_custom_table_changes_results(tmp_path):
    def change(d):
        d["road"]["design_speed_kmh"]["national"]["mountainous"]["value"] = 50
    custom = load_speed_table(write_variant(tmp_path, change))
    e = one(custom, **{"terrain": "mountainous"})
    f = custom.operating_factor("national", "car", "mountainous")
    lo, hi = custom.bounds_kmh["national"]["car"]
    expected = min(max(f * 50, lo), hi)
    assert e["speed_kmh_car"] == pytest.approx(expected)
    assert math.isclose(e["time_h_car"], 10 / expected)
    # the design speed changed the result: with 60 km/h it is faster
    assert e["speed_kmh_car"] < one(load_speed_table(), terrain="mountainous")["speed_kmh_car"]
