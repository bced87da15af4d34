"""Year-by-year trajectories: the same numbers as the run's two years; when gates gain."""

from __future__ import annotations

import numpy as np
import pytest

from corridors.analysis.trajectories import first_gain_years, trajectories, year_range


@pytest.fixture(scope="module")
def traj(base_builds, variant_engine):
    return trajectories(variant_engine, base_builds[2030].catalog, year_range((2025, 2030)),
                        threshold_h=0.25)


def test_every_year_of_every_gate(traj):
    assert traj.years == (2025, 2026, 2027, 2028, 2029, 2030)
    assert len(traj.gates) == 6 * 30 and len(traj.corridors) == 6 * 7
    # times only fall as projects open
    wide = traj.gates.pivot(index="year", columns="id", values="time_h_to_ha_noi")
    assert (wide.diff().dropna() <= 1e-9).all().all()


def test_when_each_gate_gets_its_gain(traj):
    g = traj.gains.set_index("id")
    # Hữu Nghị gains with the Hữu Nghị – Chi Lang expressway in 2026
    assert g.loc["gate_huu_nghi", "first_gain_year"] == 2026
    assert g.loc["gate_huu_nghi", "project"] == "a3_1_11"
    assert g.loc["gate_huu_nghi", "gain_h"] >= 0.25
    # Tây Trang with the Hòa Bình – Mộc Châu expressway in 2028
    assert g.loc["gate_tay_trang", "first_gain_year"] == 2028
    assert g.loc["gate_tay_trang", "project"] == "a3_2_12"
    # Móng Cái gains nothing: no year, no project
    assert np.isnan(g.loc["gate_mong_cai", "first_gain_year"])
    assert g.loc["gate_mong_cai", "project"] == ""


def test_first_gain_years_rules():
    t = np.array([[3.0, np.inf, np.nan, 2.0],
                  [2.8, np.inf, 5.0, 2.0],
                  [2.7, 4.0, 4.0, 1.9]])
    got = first_gain_years(t, [2025, 2026, 2027], 0.25)
    # gain reached exactly at the threshold; connected counts; absent at first: never
    assert got[0] == 2027 and got[1] == 2027 and np.isnan(got[2]) and np.isnan(got[3])
