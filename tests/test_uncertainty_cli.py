"""``corridors uncertainty`` end to end (serial and on a 2-process cluster), and its mistakes."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from corridors.layers.datadir import data_dir

from tests.helpers import run


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("unc") / "o"
    scenario = folder.parent / "late.yaml"
    scenario.write_text("name: late-hn\nprojects:\n  delay: {a3_1_11: 2029}\n"
                        "uncertainty:\n  delays: {under_construction: {p_on_time: 0.9}}\n",
                        encoding="utf-8")
    res = run("--quiet", "uncertainty", "--samples", 20, "--seed", 3, "--workers", 0,
              "--attribution-samples", 4, "--scenario", scenario, "--out", folder)
    assert res.exit_code == 0, res.output
    return folder


@pytest.mark.parametrize("name", ["base", "late-hn"])
def test_every_output_with_fan_charts_and_provenance(out, name):
    d = out / f"uncertainty-{name}"
    html = (d / "report.html").read_text(encoding="utf-8")
    assert 'alt="fan charts of time to Hà Nội per gate" src="data:image/png;base64,' in html
    assert 'alt="fan charts of corridor times" src="data:image/png;base64,' in html
    assert "© OpenStreetMap contributors" in html and "uncertainty.yaml" in html
    for t in ("gate_times", "corridor_times", "project_attribution", "project_openings",
              "gate_gains", "samples_gates"):
        for ext in ("csv", "parquet"):
            assert (d / "tables" / f"uncertainty_{t}.{ext}").exists(), (t, ext)
    meta = json.loads((d / "uncertainty.json").read_text(encoding="utf-8"))
    assert meta["run"]["samples"] == 20 and meta["run"]["attribution_samples"] == 4
    assert meta["run"]["engine"] == "serial" and meta["provenance"]["scenario"] == name
    # the shipped parameters are named as the repository names them, not by this machine's path
    assert meta["parameters_from"][0] == "data/uncertainty.yaml"
    assert "data/uncertainty.yaml" in html and str(data_dir()) not in html
    index = (out / "index.html").read_text(encoding="utf-8")
    assert f'href="uncertainty-{name}/report.html"' in index


def test_a_scenario_delay_shows_in_its_gain_probability(out):
    base = pd.read_csv(out / "uncertainty-base" / "tables" / "uncertainty_gate_gains.csv")
    late = pd.read_csv(out / "uncertainty-late-hn" / "tables" / "uncertainty_gate_gains.csv")
    b, la = base.set_index("id"), late.set_index("id")
    assert b.loc["gate_huu_nghi", "first_gain_year_plan"] == 2026
    assert la.loc["gate_huu_nghi", "first_gain_year_plan"] == 2029
    assert la.loc["gate_huu_nghi", "p_gain_by_2030"] < b.loc["gate_huu_nghi", "p_gain_by_2030"]
    parquet = pd.read_parquet(out / "uncertainty-base" / "tables" /
                              "uncertainty_gate_gains.parquet")
    assert len(parquet) == len(base) == 30


def test_never_overwritten_without_force(out):
    res = run("--quiet", "uncertainty", "--samples", 2, "--workers", 0, "--out", out)
    assert res.exit_code == 1 and "already exists" in res.output


@pytest.mark.slow
def test_same_seed_same_tables_on_a_two_process_cluster(out, tmp_path):
    res = run("--quiet", "uncertainty", "--samples", 20, "--seed", 3, "--workers", 2,
              "--attribution-samples", 4, "--out", tmp_path / "d")
    assert res.exit_code == 0, res.output
    for t in ("gate_times", "project_attribution", "gate_gains"):
        a = pd.read_parquet(out / "uncertainty-base" / "tables" / f"uncertainty_{t}.parquet")
        b = pd.read_parquet(tmp_path / "d" / "uncertainty-base" / "tables" /
                            f"uncertainty_{t}.parquet")
        pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.mark.parametrize("args, needle", [
    (["--samples", "0"], "--samples"),
    (["--samples", "many"], "--samples"),
    (["--samples", "-5"], "--samples"),
    (["--samples", "5", "--workers", "-1"], "--workers"),
    (["--samples", "5", "--years", "2030", "2025"], "increasing"),
    (["--samples", "5", "--attribution-samples", "-1"], "--attribution-samples"),
])
def test_bad_command_lines(tmp_path, args, needle):
    res = run("uncertainty", *args, "--out", tmp_path / "o")
    assert res.exit_code == 2 and needle in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


def test_bad_scenario_uncertainty_is_one_line_with_file_entry_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nuncertainty:\n  delays: {planned: {p_on_time: 2}}\n",
                   encoding="utf-8")
    res = run("uncertainty", "--samples", 5, "--workers", 0, "--scenario", bad,
              "--out", tmp_path / "o")
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "bad.yaml: planned: uncertainty.delays.p_on_time: error: must be a number in 0-1" \
        in res.output
    assert not (tmp_path / "o").exists()


def test_an_unreachable_scheduler_is_one_line(tmp_path):
    res = run("uncertainty", "--samples", 2, "--scheduler", "tcp://127.0.0.1:1",
              "--out", tmp_path / "o")
    assert res.exit_code == 1 and "--scheduler tcp://127.0.0.1:1" in res.output
    assert "Traceback" not in res.output


def test_help_has_examples():
    res = run("uncertainty", "--help")
    assert res.exit_code == 0 and "Examples:" in res.output and "--scheduler" in res.output
