"""The simulation: its draws, its summaries, reproducibility, and bad parameters."""

from __future__ import annotations

import numpy as np
import pytest

from corridors.analysis.uncertainty import (
    attribution_sample,
    draw_open_years,
    draw_times,
    run_sample,
    summarise,
)
from corridors.catalog.scenario import read_scenario
from corridors.catalog.uncertainty_params import load_uncertainty, with_overrides
from corridors.core.diagnostics import InputError


@pytest.fixture(scope="module")
def built(base_builds, variant_engine):
    return base_builds[2030], variant_engine


@pytest.fixture(scope="module")
def model(uncertainty_model):
    return uncertainty_model


def test_shipped_parameters_have_provenance():
    p = load_uncertainty()
    assert set(p.delays) == {"open", "partially_open", "under_construction", "planned", "study",
                             "unknown"}
    assert p.delays["planned"].p_on_time < p.delays["under_construction"].p_on_time
    assert p.gain_threshold_h == 0.25 and 0 <= p.across_modes <= p.within_mode <= 1


def test_a_figure_without_provenance_is_refused(tmp_path):
    from corridors.layers.datadir import data_dir

    text = (data_dir() / "uncertainty.yaml").read_text(encoding="utf-8")
    bad = text.replace("gain_threshold_h:\n  value: 0.25\n  assumption: true\n",
                       "gain_threshold_h:\n  value: 0.25\n")
    path = tmp_path / "u.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_uncertainty(path)
    p = err.value.problems[0]
    assert (p.file, p.entry, p.field) == ("u.yaml", "gain_threshold_h", "gain_threshold_h")
    assert "no 'source'" in p.message


def test_open_projects_never_move_and_delays_follow_the_status(model):
    eng = model.engine
    rng = np.random.default_rng(1)
    draws = np.stack([draw_open_years(model, rng) for _ in range(400)])
    code = {p: i for i, p in enumerate(eng.projects)}
    # opened in 2023 and 2025 on dated facts; existing links
    for p in ("a3_1_12", "a3_1_10", "e_ha_noi_hai_phong"):
        assert (draws[:, code[p]] == eng.open_year[code[p]]).all(), p
    assert (draws >= eng.open_year).all() | np.isnan(eng.open_year).any()
    late = (draws > eng.open_year)
    # under construction (p_on_time 0.5) is late less often than unknown (0.2)
    assert late[:, code["a3_1_01"]].mean() < late[:, code["a3_2_10"]].mean()
    assert 0.35 < late[:, code["a3_1_01"]].mean() < 0.65
    # a widening never opens before the expressway it widens, whatever the draws
    for child, parent in model.depends:
        assert (draws[:, child] >= draws[:, parent]).all()


def test_speeds_stay_within_their_bounds(model):
    eng = model.engine
    rng = np.random.default_rng(2)
    for _ in range(50):
        t = draw_times(model, rng)
        on = model.edge_class >= 0
        speed = eng.length_km[on] / t[on]
        ok = eng.length_km[on] > 0
        assert (speed[ok] >= model.lo_kmh[on][ok] - 1e-9).all()
        assert (speed[ok] <= model.hi_kmh[on][ok] + 1e-9).all()
        assert np.array_equal(t[~on], eng.time_h[~on])  # air and transfers do not vary


def test_same_seed_same_results_bit_for_bit(model):
    a, b = run_sample(model, 42, 3), run_sample(model, 42, 3)
    assert np.array_equal(a.od, b.od, equal_nan=True)
    assert np.array_equal(a.corridors, b.corridors, equal_nan=True)
    c = run_sample(model, 43, 3)
    assert not np.array_equal(a.od, c.od, equal_nan=True)
    # attribution redraws the same sample
    att = attribution_sample(model, 42, 3)
    assert att.od_hours.shape == (6, len(model.attribution))


def test_summary_tables(built, model):
    b, _ = built
    samples = [run_sample(model, 5, i) for i in range(30)]
    atts = [attribution_sample(model, 5, i) for i in range(3)]
    t = summarise(model, b.catalog, samples, atts, 0.25, 2030)
    g = t["gate_times"]
    assert len(g) == 6 * 30 * 3
    hn = g[(g["destination"] == "ha_noi") & (g["year"] == 2030)]
    assert (hn["time_h_p10"] <= hn["time_h_p50"]).all() and (hn["time_h_p50"] <=
                                                             hn["time_h_p90"]).all()
    gains = t["gate_gains"].set_index("id")
    assert gains.loc["gate_mong_cai", "p_gain_by_2030"] == 0.0
    # Hữu Nghị's expressway is under way: its gain arrives by 2030 in nearly every sample
    assert gains.loc["gate_huu_nghi", "p_gain_by_2030"] >= 0.9
    att = t["project_attribution"]
    assert set(att["samples"]) == {3}
    row = att[(att["project"] == "a3_1_11") & (att["year"] == 2030)].iloc[0]
    assert row["od_hours_p50"] > 10
    assert len(t["samples_gates"]) == 30 * 6 * 30


def test_scenario_uncertainty_overrides(tmp_path):
    path = tmp_path / "slow.yaml"
    path.write_text("name: slow\nuncertainty:\n  delays: {planned: {p_on_time: 0.0}}\n"
                    "  speeds: {sigma: {national: 0.2}}\n", encoding="utf-8")
    sc = read_scenario(path)
    p = with_overrides(load_uncertainty(), sc.uncertainty, path.name)
    assert p.delays["planned"].p_on_time == 0.0 and p.sigma["national"] == 0.2
    assert p.delays["planned"].mean_delay_years == load_uncertainty().delays[
        "planned"].mean_delay_years
    assert p.sources[-1] == "slow.yaml"


@pytest.mark.parametrize("body, entry, field, needle", [
    ("uncertainty:\n  delays: {planed: {p_on_time: 0.5}}\n", "planed", "uncertainty.delays",
     "unknown status"),
    ("uncertainty:\n  delays: {planned: {p_on_time: 1.5}}\n", "planned",
     "uncertainty.delays.p_on_time", "must be a number in 0-1"),
    ("uncertainty:\n  delays: {planned: {late: 2}}\n", "planned", "uncertainty.delays.late",
     "unknown field"),
    ("uncertainty:\n  speeds: {sigma: {motorway: 0.1}}\n", "motorway", "uncertainty.speeds.sigma",
     "unknown class"),
    ("uncertainty:\n  kind_factor: {new: fast}\n", "new", "uncertainty.kind_factor",
     "must be a number"),
    ("uncertainty: [1, 2]\n", "-", "uncertainty", "must be a mapping"),
    ("uncertainty:\n  colour: red\n", "colour", "uncertainty.", "unknown key"),
])
def test_bad_scenario_uncertainty_names_file_entry_field(tmp_path, body, entry, field, needle):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\n" + body, encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_scenario(path)
    p = err.value.problems[0]
    assert (p.file, p.entry, p.field) == ("bad.yaml", entry, field), p
    assert needle in p.message
