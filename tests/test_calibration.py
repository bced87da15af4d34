"""Speed calibration: the linear model of route times, the robust fit, leave-one-out, writing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from corridors.network.speeds import default_speeds_path, load_speed_table

from corridors.build import calibration as cal


def _route(km_by_class_terrain, urban=0.0):
    rows = [{"mode": "road", "class": c, "terrain": t, "length_km": km, "urban_share": urban,
             "design_speed_kmh": np.nan, "time_h_car": 0.0}
            for (c, t), km in km_by_class_terrain.items()]
    return pd.DataFrame(rows)


REFERENCE = {"factor.default.flat": 0.9, "factor.default.hilly": 0.85,
             "factor.default.mountainous": 0.8, "factor.expressway.flat": 1.0,
             "factor.expressway.hilly": 1.0, "factor.expressway.mountainous": 1.0,
             "factor.connector": 0.85, "rail": 40.0, "urban.road": 25.0, "urban.expressway": 60.0}


def test_design_row_counts_hours_at_design_speed_and_urban_km():
    table = cal.with_values(load_speed_table(), REFERENCE)
    r = _route({("national", "mountainous"): 60.0, ("expressway", "flat"): 120.0}, urban=0.25)
    a, fixed = cal.design_row(r, table)
    names = [p.name for p in cal.PARAMETERS]
    d_mtn = table.design_kmh["national"]["mountainous"]
    assert a[names.index("factor.default.mountainous")] == pytest.approx(60 * 0.75 / d_mtn)
    assert a[names.index("urban.road")] == pytest.approx(15.0)
    assert a[names.index("urban.expressway")] == pytest.approx(30.0)
    assert fixed == 0.0
    bus, _ = cal.design_row(r, table, time_factor=1.2)
    assert bus == pytest.approx(a * 1.2)
    # an expressway slower than the urban speed drives its built-up km at its own speed, as
    # assign_speeds does (min of the two): they count on its factor
    slow = cal.with_values(table, {"factor.expressway.flat": 0.4})  # 48 km/h < 60
    a2, _ = cal.design_row(r, slow)
    assert a2[names.index("urban.expressway")] == 0
    assert a2[names.index("factor.expressway.flat")] == pytest.approx(120.0 / 120)


def test_fit_recovers_the_speeds_that_made_the_times():
    table = cal.with_values(load_speed_table(), REFERENCE)
    truth = {p.name: (p.low + p.high) / 2 for p in cal.PARAMETERS}
    rng = np.random.default_rng(1)
    routes = [_route({("national", t): rng.uniform(20, 200)
                      for t in ("flat", "hilly", "mountainous")}, urban=rng.uniform(0, 0.3))
              for _ in range(12)]
    A = np.array([cal.design_row(r, table)[0] for r in routes])
    fixed = np.zeros(len(A))
    hours = cal.predict(A, fixed, truth)
    got = cal.fit(A, fixed, hours, hours, 1 / hours)
    for name in ("factor.default.flat", "factor.default.hilly", "factor.default.mountainous",
                 "urban.road"):
        assert got[name] == pytest.approx(truth[name], rel=0.02)
    loo = cal.leave_one_out(A, fixed, hours, hours, 1 / hours)
    assert loo == pytest.approx(hours, rel=0.02)


def test_one_broken_route_does_not_set_the_speeds():
    table = cal.with_values(load_speed_table(), REFERENCE)
    truth = {p.name: (p.low + p.high) / 2 for p in cal.PARAMETERS}
    rng = np.random.default_rng(2)
    routes = [_route({("national", "flat"): rng.uniform(50, 150)}) for _ in range(10)]
    A = np.array([cal.design_row(r, table)[0] for r in routes])
    hours = cal.predict(A, np.zeros(len(A)), truth)
    published = hours.copy()
    published[0] *= 0.4  # a missing road: the model's route is far longer than the real one
    got = cal.fit(A, np.zeros(len(A)), published, published, 1 / published)
    assert got["factor.default.flat"] == pytest.approx(truth["factor.default.flat"], rel=0.05)


def test_fit_puts_rows_inside_their_ranges_rather_than_near_their_middles():
    """Two ranges that a least-squares fit misses, though one speed meets both."""
    table = cal.with_values(load_speed_table(), REFERENCE)
    routes = [_route({("national", "flat"): 100.0}), _route({("national", "flat"): 200.0})]
    A = np.array([cal.design_row(r, table)[0] for r in routes])
    # 100 km in 1.6-2.0 h (low confidence) and 200 km in 2.5-3.3 h (high): only 60.6-62.5 km/h
    # meets both; a least-squares fit leans to the confident row's middle, at 64 km/h, and
    # leaves the other outside (1.56 h)
    low, high = np.array([1.6, 2.5]), np.array([2.0, 3.3])
    confidence = np.array([0.4, 1.0])
    got = cal.fit(A, np.zeros(2), low, high, confidence / ((low + high) / 2))
    hours = cal.predict(A, np.zeros(2), {**REFERENCE, **got})
    assert ((hours >= low) & (hours <= high)).all()


def test_fit_keeps_hill_roads_at_least_as_fast_as_mountain_roads():
    table = cal.with_values(load_speed_table(), REFERENCE)
    routes = [_route({("national", "hilly"): 100.0}), _route({("national", "mountainous"): 100.0})]
    A = np.array([cal.design_row(r, table)[0] for r in routes])
    # published: 100 hill km in 3 h (33 km/h), 100 mountain km in 2 h (50 km/h)
    hours = np.array([3.0, 2.0])
    got = cal.fit(A, np.zeros(2), hours, hours, 1 / hours)
    hill = got["factor.default.hilly"] * table.design_kmh["national"]["hilly"]
    mountain = got["factor.default.mountainous"] * table.design_kmh["national"]["mountainous"]
    assert hill >= mountain - 0.1


def test_terrain_order_does_not_bind_against_a_parameter_no_row_fits():
    """Only hill rows: flat is neither fitted nor held, so it cannot cap the hill speed."""
    table = cal.with_values(load_speed_table(), REFERENCE)
    routes = [_route({("national", "hilly"): 100.0}), _route({("national", "hilly"): 200.0})]
    A = np.array([cal.design_row(r, table)[0] for r in routes])
    low, high = np.array([1.6, 3.2]), np.array([2.0, 3.6])  # 55.6-62.5 km/h meets both
    got = cal.fit(A, np.zeros(2), low, high, np.ones(2) / ((low + high) / 2))
    hours = cal.predict(A, np.zeros(2), {**REFERENCE, **got})
    assert ((hours >= low) & (hours <= high)).all()


def test_parameters_stay_within_their_bounds():
    table = cal.with_values(load_speed_table(), REFERENCE)
    A = np.array([cal.design_row(_route({("national", "flat"): 100.0}), table)[0]])
    got = cal.fit(A, np.zeros(1), np.array([0.1]), np.array([0.1]), np.array([10.0]))
    bound = next(p for p in cal.PARAMETERS if p.name == "factor.default.flat")
    assert got["factor.default.flat"] == pytest.approx(bound.high)


def test_written_figures_load_with_their_provenance(tmp_path):
    text = default_speeds_path().read_text(encoding="utf-8")
    for name, paths in cal.YAML_PATHS.items():
        for path in paths:
            text = cal.patch_figure(text, path, 0.77 if "factor" in name else 33.0,
                                    "calibrated against a test")
    out = tmp_path / "speeds.yaml"
    out.write_text(text, encoding="utf-8")
    table = load_speed_table(out)
    assert table.factor["default"]["car"]["hilly"] == 0.77
    assert table.urban_kmh["road"]["car"] == 33.0
    assert table.rail_kmh["dual"]["car"] == 33.0
    with pytest.raises(KeyError):
        cal.patch_figure(text, ("road", "no_such_key"), 1.0, "x")


def test_with_values_sets_car_figures_only():
    table = load_speed_table()
    new = cal.with_values(table, {"factor.default.flat": 0.6, "urban.road": 22.0, "rail": 33.0})
    assert new.factor["default"]["car"]["flat"] == 0.6
    assert new.factor["default"]["truck"]["flat"] == table.factor["default"]["truck"]["flat"]
    assert new.urban_kmh["road"] == {"car": 22.0, "truck": table.urban_kmh["road"]["truck"]}
    assert new.rail_kmh["metre"]["car"] == 33.0
    assert table.factor["default"]["car"]["flat"] != 0.6  # the original is not changed


def test_unused_parameters_keep_their_values():
    table = cal.with_values(load_speed_table(), REFERENCE)
    A = np.array([cal.design_row(_route({("national", "flat"): 100.0}), table)[0]])
    got = cal.fit(A, np.zeros(1), np.array([1.5]), np.array([1.5]), np.array([1.0]),
                  keep=REFERENCE)
    assert got["rail"] == REFERENCE["rail"] and got["urban.expressway"] == 60.0
