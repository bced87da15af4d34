"""The main job end to end: every promised output, consistent with each other; user mistakes."""

from __future__ import annotations

import json
from io import StringIO

import pandas as pd
import pytest
from click.testing import CliRunner

from corridors.app.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run") / "corridors-out"
    scenario = folder.parent / "late.yaml"
    scenario.write_text("name: late-sgr\ndescription: the standard-gauge railway opens in 2033\n"
                        "projects:\n  delay: {a3_3_01: 2033}\n", encoding="utf-8")
    res = run("--quiet", "run", "--out", folder, "--scenario", scenario)
    assert res.exit_code == 0, res.output
    return folder


@pytest.mark.parametrize("scenario", ["base", "late-sgr"])
def test_every_promised_output_exists(out, scenario):
    d = out / scenario
    sfx = "" if scenario == "base" else f"_{scenario}"
    for rel in ("report.html", "run.json", f"networks/network_2025{sfx}.gpkg",
                f"networks/network_2030{sfx}.gpkg",
                f"networks/quality_2030{sfx}.md", "tables/gate_access.csv",
                "tables/project_attribution.parquet", "tables/savings_provinces.csv",
                "maps/plan.html", "maps/scenario.html", "maps/gate.html", "maps/corridor.html",
                "maps/international.html", "tables/international_od.csv",
                "tables/gate_catchments.csv",
                "maps/plan.png", "maps/change.png", "gis/corridors.gpkg", "gis/corridors.qgz"):
        assert (d / rel).exists(), rel
    assert not (d / f"networks/network_2025{sfx}.graphml").exists()  # only with --graphml
    manifest = json.loads((d / "run.json").read_text(encoding="utf-8"))
    assert manifest["scenario"] == scenario and manifest["years"] == [2025, 2030]
    assert "OpenStreetMap" in manifest["provenance"]["attribution"]
    assert (out / "index.html").exists()


def test_report_numbers_equal_the_tables(out):
    html = (out / "base" / "report.html").read_text(encoding="utf-8")
    shown = pd.read_html(StringIO(html))[0]  # the gates table comes first
    access = pd.read_csv(out / "base" / "tables" / "gate_access.csv", dtype={"scenario": str})
    car = access[access["profile"] == "car"]
    for year in ("2025", "2030"):
        table = car[car["scenario"] == year].set_index("id")["time_h_to_ha_noi"].round(2)
        col = f"time_h_to_ha_noi ({year})"
        for _, row in shown.iterrows():
            assert row[col] == pytest.approx(table[row["id"]], abs=0.005), (row["id"], year)
    assert "© OpenStreetMap contributors" in html and "corridors " in html


def test_report_across_the_border(out):
    html = (out / "base" / "report.html").read_text(encoding="utf-8")
    assert "Across the border: international freight" in html
    assert 'href="maps/international.html"' in html
    od = pd.read_csv(out / "base" / "tables" / "international_od.csv", dtype={"scenario": str})
    shown = next(t for t in pd.read_html(StringIO(html)) if "gauge_breaks (2025)" in t)
    assert len(shown) == len(od) // 2  # one row per origin, destination and mode
    row = shown[(shown["from"] == "Côn Minh") & (shown["to"] == "Cảng Hải Phòng (Đình Vũ)")
                & (shown["mode"] == "rail")].iloc[0]
    rail = od[(od["origin"] == "xb_kunming") & (od["destination"] == "seaport_hai_phong")
              & (od["mode"] == "rail")].set_index("scenario")
    for year in ("2025", "2030"):
        assert row[f"time_h ({year})"] == pytest.approx(rail.loc[year, "time_h"], abs=0.005)
        assert row[f"gate ({year})"] == "Lào Cai (đường sắt)"
    assert (row["gauge_breaks (2025)"], row["gauge_breaks (2030)"]) == (1, 0)
    catch = next(t for t in pd.read_html(StringIO(html)) if "next gate (2030)" in t)
    assert catch.set_index("city").loc["Nam Ninh", "gate (2030)"] == "Hữu Nghị"
    # the standard-gauge railway's gain for international rail freight
    gains = next(t for t in pd.read_html(StringIO(html)) if "removed_intl_hours" in t)
    assert gains.iloc[0]["project"] == "a3_3_01" and gains.iloc[0]["removed_intl_hours"] > 12


def test_scenario_changes_the_result(out):
    def sgr_km(scenario):
        sfx = "" if scenario == "base" else f"_{scenario}"
        q = json.loads((out / scenario / "networks" / f"quality_2030{sfx}.json").read_text())
        return sum(r["length_km"] for r in q["km_by_mode_class"]
                   if (r["mode"], r["class"]) == ("rail", "standard"))

    # the Lào Cai – Hà Nội – Hải Phòng line (390.9 km) moves to 2033; Hà Nội – Đồng Đăng stays
    assert sgr_km("base") - sgr_km("late-sgr") == pytest.approx(390.9, abs=0.5)


def test_a_run_never_silently_overwrites(out):
    before = (out / "base" / "report.html").stat().st_mtime_ns
    res = run("run", "--out", out)
    assert res.exit_code == 1 and "--force" in res.output
    assert (out / "base" / "report.html").stat().st_mtime_ns == before


def test_user_mistakes_give_clear_errors_without_tracebacks(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nprojects:\n  delay: {nope: 2031}\n", encoding="utf-8")
    cases = [
        (("run", "--scenario", tmp_path / "missing.yaml", "--out", tmp_path / "o"), 2,
         "missing.yaml"),
        (("run", "--scenario", bad, "--out", tmp_path / "o"), 1, "nope"),
        (("route", "Atlantis", "Hà Nội"), 1, "Atlantis"),
        (("build", "--year", 2025, "--osm", tmp_path / "none.osm.pbf", "--out", tmp_path / "o"),
         1, "none.osm.pbf"),
        (("map", "--year", 1999), 2, "1999"),
        (("map", "gate", "--gate", "Atlantis", "--out", tmp_path / "o"), 1, "gate_huu_nghi"),
        (("map", "corridor", "--corridor", "Silk Road", "--out", tmp_path / "o"), 1,
         "ec_lao_cai_ha_noi_hai_phong"),
    ]
    for args, code, needle in cases:
        res = run(*args)
        assert res.exit_code == code, (args, res.output)
        assert needle in res.output and "Traceback" not in res.output, args
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_help_everywhere_has_examples():
    for cmd in ("run", "build", "route", "analyse", "map", "export", "validate", "projects"):
        res = run(cmd, "--help")
        assert res.exit_code == 0 and "Examples:" in res.output, cmd


def test_run_on_a_real_osm_extract(tmp_path):
    import pyrosm

    out = tmp_path / "osm-run"
    res = run("--quiet", "run", "--osm", pyrosm.get_data("test_pbf"), "--out", out,
              "--allow-empty")
    assert res.exit_code == 0, res.output
    base = out / "base"
    for rel in ("report.html", "maps/plan.html", "gis/corridors.qgz", "tables/gate_access.csv",
                "networks/network_2030.gpkg"):
        assert (base / rel).exists(), rel
    html = (base / "report.html").read_text(encoding="utf-8")
    assert "test.osm.pbf" in html  # the network source is in the provenance
    # and the report says that the extract misses the study area
    assert "This extract covers only 0 of the" in html
    assert "nan %" not in html
