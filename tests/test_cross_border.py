"""The other side of the border: catalog, crossings, gauge, scenarios, names, OD table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from corridors.network.crossings import route_border_summary
from corridors.network.speeds import load_speed_table

from corridors.analysis.international import international_od, route_international
from corridors.build.analysis_network import AnalysisNetwork
from corridors.build.pipeline import build_networks
from corridors.catalog.cross_border import load_cross_border
from corridors.catalog.load import load_catalog
from corridors.catalog.scenario import apply_scenario, read_scenario
from corridors.core.diagnostics import InputError
from tests.helpers import run


@pytest.fixture(scope="module")
def built(base_builds):
    """The base networks of 2025 and 2030 (one master)."""
    return base_builds


def _net(built, year: int) -> AnalysisNetwork:
    return AnalysisNetwork(str(year), built[year].tables, built[year].catalog)


def test_names_match_in_three_scripts(shipped_catalog):
    cat = shipped_catalog
    for name in ("Kunming", "kunming", "Côn Minh", "con minh", "昆明"):
        assert cat.find_place(name).id == "xb_kunming"
    assert cat.find_place("Nam Ninh").id == cat.find_place("南宁").id == "xb_nanning"
    assert cat.find_place("ອຸດົມໄຊ").id == cat.find_place("U Đôm Xay").id == "xb_oudomxay"
    assert cat.find_place("Cảng Hải Phòng").id == "seaport_hai_phong"
    # foreign places are found, never counted among the catalog's own places
    assert "xb_kunming" not in cat.places


def test_crossing_edge_takes_its_clearance_time(built):
    table = load_speed_table()
    e = built[2025].tables.edges
    hn = e[e["crossing"] == "xb_cross_huu_nghi"].set_index("direction")
    run = 0.5 / table.yard_speed_kmh  # 0.5 km at the yard speed
    clearance = table.raw["border_clearance"]["road"]["international"]["truck"]
    assert hn.loc["entry", "time_h_truck"] == pytest.approx(run + clearance["entry"]["value"])
    assert hn.loc["exit", "time_h_truck"] == pytest.approx(run + clearance["exit"]["value"])
    assert hn.loc["entry", "time_h_truck"] == pytest.approx(6.05)
    # a main gate clears slower than an international one
    tt = e[(e["crossing"] == "xb_cross_tan_thanh") & (e["direction"] == "entry")]
    assert tt["time_h_truck"].iloc[0] == pytest.approx(8.05)
    # the Lào Cai road gate takes no goods vehicles: they cross at Kim Thành
    lc = e[e["crossing"] == "xb_cross_lao_cai_road"]
    assert (lc["time_h_truck"] == float("inf")).all() and (lc["time_h_car"] < 2).all()


def test_break_of_gauge_counted_once_per_change(built):
    net25, net30 = _net(built, 2025), _net(built, 2030)
    kunming, port = net25.node_of("xb_kunming"), net25.node_of("seaport_hai_phong")
    r25 = route_international(net25.tables, kunming, port, "rail")
    # 2025: standard gauge to Hekou North, one change onto the metre gauge, through Lào Cai
    assert r25["gauge_breaks"] == 1 and r25["gates"] == ["gate_lao_cai_rail"]
    assert r25["rail_km"] > 700
    edges = net25.tables.edges.reset_index(drop=True)
    changes = edges.iloc[r25["route"].edge_rows]["gauge_change"].dropna()
    assert list(changes) == ["xb_gauge_hekou_north"]  # one edge, one break
    # 2030: the standard-gauge railway runs through; no break, half a day less or more
    r30 = route_international(net30.tables, kunming, net30.node_of("seaport_hai_phong"), "rail")
    assert r30["gauge_breaks"] == 0 and r30["gates"] == ["gate_lao_cai_rail"]
    assert r25["time_h"] - r30["time_h"] > 12
    # standard-gauge wagons from Nanning change gauge once, at the end of the dual gauge
    r = route_international(net25.tables, net25.node_of("xb_nanning"), port, "rail")
    assert r["gauge_breaks"] == 1 and r["crossings"] == 1
    assert route_border_summary(edges, [])["gauge_breaks"] == 0


def test_scenario_closing_a_gate_forces_another(tmp_path: Path, built):
    net = _net(built, 2025)
    base = route_international(net.tables, net.node_of("xb_nanning"),
                               net.node_of("city_ha_noi"), "road")
    assert base["gates"] == ["gate_huu_nghi"] and base["crossings"] == 1
    f = tmp_path / "shut.yaml"
    f.write_text("name: shut\ngates:\n  gate_huu_nghi: {open: false}\n"
                 "  gate_kim_thanh: {clearance_factor: 0.5}\n", encoding="utf-8")
    sc = read_scenario(f)
    apply_scenario(sc)  # the gate ids are checked against the catalog
    res = build_networks([2025], sc)[2025]
    snet = AnalysisNetwork("2025", res.tables, res.catalog)
    r = route_international(snet.tables, snet.node_of("xb_nanning"), snet.node_of("city_ha_noi"),
                            "road")
    # Tân Thanh (a main gate, 2 h slower to clear) loses to Móng Cái's expressways
    assert r["gates"] == ["gate_mong_cai"] and r["time_h"] > base["time_h"]
    e = res.tables.edges
    kt = e[(e["crossing"] == "xb_cross_kim_thanh") & (e["direction"] == "entry")]
    assert kt["time_h_truck"].iloc[0] == pytest.approx(0.0295 + 3.0)
    # a route restricted to a set of gates
    r = route_international(net.tables, net.node_of("xb_nanning"), net.node_of("city_ha_noi"),
                            "road", gates=["gate_mong_cai"])
    assert r["gates"] == ["gate_mong_cai"]


def test_bad_scenario_gate_keys_name_file_entry_field(tmp_path: Path):
    f = tmp_path / "bad.yaml"
    f.write_text("name: bad\ngates:\n  gate_huu_nghi: {clearance_factr: 0.5, open: maybe}\n"
                 "  gate_mong_cai: {clearance_h: {truck: -1}}\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_scenario(f)
    text = str(exc.value)
    assert "bad.yaml" in text and "gate_huu_nghi" in text and "gates.clearance_factr" in text
    assert "gates.open" in text and "gates.clearance_h.truck" in text
    g = tmp_path / "unknown.yaml"
    g.write_text("name: unknown\ngates:\n  gate_nowhere: {open: false}\n", encoding="utf-8")
    with pytest.raises(InputError, match="gate_nowhere.*unknown border gate"):
        apply_scenario(read_scenario(g))


def test_bad_catalog_field_names_file_entry_field(catalog_copy: Path):
    path = catalog_copy / "cross_border.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["links"][1]["length_km"] = -5
    doc["links"][1]["class"] = "motorway"
    doc["crossings"][0]["gate"] = "city_ha_noi"
    del doc["places"][0]["name_local"]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_catalog(catalog_copy)
    problems = {(p.file, p.entry, p.field) for p in exc.value.problems}
    assert ("cross_border.yaml", "xb_g8011_kaiyuan_hekou", "length_km") in problems
    assert ("cross_border.yaml", "xb_g8011_kaiyuan_hekou", "class") in problems
    assert ("cross_border.yaml", "xb_cross_kim_thanh", "gate") in problems
    assert ("cross_border.yaml", "xb_kunming", "name_local") in problems


def test_shipped_catalog_every_foreign_link_sourced(shipped_catalog):
    cat = shipped_catalog
    cb = load_cross_border(cat)
    assert cb is not None and len(cb.places) == 17
    assert {lk["id"] for lk in cb.links if lk["mode"] == "rail"} == {
        "xb_kunming_hekou_sg_railway", "xb_kaiyuan_hekou_mg_railway",
        "xb_nanning_pingxiang_railway"}
    assert all("facts/cross_border.csv" in lk["source"] or "ASSUMPTION" in lk["source"]
               for lk in cb.links)


def test_international_od_table(built):
    net = _net(built, 2030)
    od = international_od(net, 2030)
    # 4 origins x (Hà Nội, 2 seaports, 5 BGEZs) x (road, rail)
    assert len(od) == 4 * 8 * 2 and od["reachable"].all()
    row = od[(od.origin == "xb_kunming") & (od.destination == "seaport_hai_phong")
             & (od["mode"] == "road")].iloc[0]
    assert row["gates"] == "gate_kim_thanh" and 800 < row["length_km"] < 900
    row = od[(od.origin == "xb_oudomxay") & (od.destination == "city_ha_noi")].iloc[0]
    assert row["gates"] == "gate_tay_trang"


def test_domestic_routes_unchanged_by_foreign_links(built):
    """A route that involves no foreign link is the same with or without the other side."""
    import corridors.catalog.cross_border as cb

    net = _net(built, 2025)
    orig = cb.attach_cross_border
    try:
        cb.attach_cross_border = lambda master, *a, **k: master
        plain = build_networks([2025])[2025]
    finally:
        cb.attach_cross_border = orig
    pnet = AnalysisNetwork("2025", plain.tables, plain.catalog)
    for profile in ("car", "truck", "freight"):
        for a, b in (("gate_huu_nghi", "city_ha_noi"), ("gate_lao_cai_rail", "seaport_hai_phong"),
                     ("gate_mong_cai", "city_ha_noi"), ("gate_tay_trang", "city_ha_noi")):
            r1 = net.router(profile).route(net.node_of(a), net.node_of(b))
            r0 = pnet.router(profile).route(pnet.node_of(a), pnet.node_of(b))
            assert r1.time_h == pytest.approx(r0.time_h, abs=1e-9)


@pytest.mark.parametrize("origin", ["Côn Minh", "Kunming", "昆明"])
def test_route_command_in_three_scripts(origin: str, reuse_base_builds):
    res = run("route", origin, "Cảng Hải Phòng", "--profile", "freight", "--year", "2030",
              "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["from_id"] == "xb_kunming" and out["to_id"] == "seaport_hai_phong"
    assert out["crossings"] == 1 and out["gates"] == ["gate_kim_thanh"]
    assert 15 < out["time_h"] < 25


def test_validate_command_checks_the_cross_border_file(catalog_copy: Path, tmp_path: Path):
    path = catalog_copy / "cross_border.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["places"][0]["lat"] = "north"
    doc["links"][0]["waypoints"].append("xb_atlantis")
    doc["crossings"][0]["gate"] = "gate_nowhere"
    doc["gauge_changes"][0]["source"] = ""
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    lines = set()
    for target in (catalog_copy, tmp_path / "my_cross_border.yaml"):
        if target.suffix:  # one edited file against the rest of the shipped catalog
            target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        res = run("validate", str(target))
        assert res.exit_code == 1, res.output
        assert "4 error(s)" in res.output
        name = target.name if target.suffix else "cross_border.yaml"
        lines = {ln for ln in res.output.splitlines() if ln.startswith(f"{name}: ")}
        fields = {tuple(ln.split(": ")[1:3]) for ln in lines}
        assert fields == {("xb_kunming", "lat"), ("xb_kunming_kaiyuan_expressway", "waypoints"),
                          ("xb_cross_kim_thanh", "gate"), ("xb_gauge_hekou_north", "source")}
    assert any("'xb_atlantis'" in ln for ln in lines)
    # a file that is not YAML is one problem with its line, not a traceback
    broken = tmp_path / "cross_border.yaml"
    broken.write_text("places: [\n", encoding="utf-8")
    res = run("validate", str(broken))
    assert res.exit_code == 1 and "cross_border.yaml" in res.output
    assert "Traceback" not in res.output
    assert run("validate").exit_code == 0  # the shipped one is valid


def test_a_dropped_project_takes_its_crossing_with_it(tmp_path: Path):
    path = tmp_path / "no_sgr.yaml"
    path.write_text("name: no-sgr\nprojects:\n  drop: [a3_3_01]\n", encoding="utf-8")
    b = build_networks([2030], read_scenario(path))[2030]
    e = b.tables.edges
    assert "xb_cross_lao_cai_rail_standard" not in set(e["crossing"].dropna())
    assert "xb_cross_lao_cai_rail_metre" in set(e["crossing"].dropna())  # the metre gauge stays
    net = AnalysisNetwork("2030 no-sgr", b.tables, b.catalog)
    r = route_international(b.tables, net.node_of("xb_kunming"), net.node_of("seaport_hai_phong"),
                            "rail")
    # without the standard-gauge railway, Kunming's containers still change gauge at Hekou
    assert r["gauge_breaks"] == 1 and r["gates"] == ["gate_lao_cai_rail"]
