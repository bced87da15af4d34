"""The main job end to end: every promised output, consistent with each other; user mistakes.

Most tests read the session's run (``full_run`` in tests/conftest.py: ``corridors run
--each-year --scenario late-sgr.yaml``); every test that needs a whole run lives in this module,
test_export.py or test_maps.py, which pytest-xdist keeps on one worker.
"""

from __future__ import annotations

import json
import zipfile
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from corridors.core.outputs import INCOMPLETE_NAME, LOCK_NAME, read_manifest
from tests.helpers import run


@pytest.fixture
def out(full_run):
    """The folder of the session's run: base and late-sgr (a3_3_01 delayed to 2033, described
    with markup)."""
    return full_run.folder


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
    shown = next(t for t in pd.read_html(StringIO(html)) if "time_h_to_ha_noi (2025)" in t)
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


def test_each_year_puts_the_chart_in_the_report(out):
    """--each-year: the trajectories of every year, whose ends are the run's two years."""
    html = (out / "base" / "report.html").read_text(encoding="utf-8")
    assert "Year by year, 2025–2030" in html and "When each gate gets its gain" in html
    assert 'alt="time to Hà Nội per gate by year" src="data:image/png;base64,' in html
    traj = pd.read_csv(out / "base" / "tables" / "trajectory_gates.csv")
    access = pd.read_csv(out / "base" / "tables" / "gate_access.csv", dtype={"scenario": str})
    car = access[access["profile"] == "car"]
    for year in (2025, 2030):
        a = car[car["scenario"] == str(year)].set_index("id")["time_h_to_ha_noi"]
        t = traj[traj["year"] == year].set_index("id")["time_h_to_ha_noi"]
        assert len(t) == 30
        np.testing.assert_allclose(t.loc[a.index], a, atol=1e-9)
    assert (out / "base" / "tables" / "trajectory_gains.parquet").exists()


def test_a_second_run_into_the_same_folder_is_refused(out):
    """The output contract (issue 10): a finished run is never overwritten without --force."""
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    assert read_manifest(out / "base") >= {"report.html", "run.json", "tables/gate_access.csv"}
    assert not (out / INCOMPLETE_NAME).exists() and not (out / LOCK_NAME).exists()
    res = run("run", "--out", out)
    assert res.exit_code == 1
    assert res.output.strip().count("\n") == 0 and "--force" in res.output
    assert "Traceback" not in res.output
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def _texts(folder: Path):
    """Yield (path, text) of every HTML, JSON, Markdown and QGIS project file written."""
    for p in sorted(folder.rglob("*")):
        if p.suffix in (".html", ".json", ".md", ".qgs"):
            yield p, p.read_text(encoding="utf-8", errors="replace")
        elif p.suffix == ".qgz":
            with zipfile.ZipFile(p) as z:
                for n in z.namelist():
                    if n.endswith(".qgs"):
                        yield p / n, z.read(n).decode("utf-8", errors="replace")


def test_script_in_description_is_escaped_everywhere(out):
    """Issue 10: no user string raw in any output. The late-sgr scenario is described as
    ``<script>alert(1)</script> & <b>x</b>``."""
    seen, raw = [], []
    for p, text in _texts(out):
        seen.append(p.name)
        # run.json (corridors/app/run.py) holds the description as JSON data, not markup
        if "<script>alert(1)" in text and p.name != "run.json":
            raw.append(str(p.relative_to(out)))
    assert not raw, raw
    assert {"index.html", "report.html", "plan.html", "gate.html"} <= set(seen)
    manifest = json.loads((out / "late-sgr" / "run.json").read_text(encoding="utf-8"))
    assert "<script>alert(1)</script>" in manifest["provenance"]["scenario_description"]
    report = (out / "late-sgr" / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;x&lt;/b&gt;" in report


def test_user_mistakes_give_clear_errors_without_tracebacks(tmp_path, reuse_base_builds):
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


def test_run_on_a_real_osm_extract(osm_run):
    base = osm_run.folder / "base"
    for rel in ("report.html", "maps/plan.html", "gis/corridors.qgz", "tables/gate_access.csv",
                "networks/network_2030.gpkg"):
        assert (base / rel).exists(), rel
    html = (base / "report.html").read_text(encoding="utf-8")
    assert "test.osm.pbf" in html  # the network source is in the provenance
    # and the report says that the extract misses the study area
    assert "This extract covers only 0 of the" in html
    assert "nan %" not in html
