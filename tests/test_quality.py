"""The quality report of a build (corridors.build.quality): kilometres, reachability by road from
Hà Nội, what the network gained; on small tables made here and on the embedded networks."""

from __future__ import annotations

import copy

import geopandas as gpd
import pandas as pd
import pytest
from corridors.network.assemble import AssemblyReport
from corridors.network.build import NetworkTables

from corridors.build.quality import (
    FAR_JOIN_KM,
    MD_DETOUR_ROWS,
    km_by_mode_class,
    quality_markdown,
    unreachable_by_road,
)
from corridors.catalog.model import Catalog, Place


def _edge(u, v, mode="road", cls="national", km=10.0):
    return {"u": u, "v": v, "mode": mode, "class": cls, "length_km": km}


def _km(frame: pd.DataFrame) -> dict:
    return {(r["mode"], r["class"]): r["length_km"] for r in frame.to_dict("records")}


# -- kilometres -------------------------------------------------------------------------------


def test_a_two_way_road_counts_once_a_one_way_link_in_full():
    edges = pd.DataFrame([_edge(1, 2, km=10.0), _edge(2, 1, km=10.0),    # two-way: 10 km
                          _edge(2, 3, km=4.0),                            # one-way: 4 km
                          _edge(1, 3, "rail", "metre", 7.4), _edge(3, 1, "rail", "metre", 7.4),
                          _edge(3, 4, "water", "river", 3.0)])
    assert _km(km_by_mode_class(edges)) == {("road", "national"): 14.0, ("rail", "metre"): 7.4,
                                            ("water", "river"): 3.0}


def test_an_edge_without_a_class_is_still_counted():
    edges = pd.DataFrame([_edge(1, 2, cls=None, km=2.0), _edge(2, 3, km=1.0)])
    out = km_by_mode_class(edges)
    assert len(out) == 2 and out["length_km"].sum() == 3.0
    assert out.loc[out["class"].isna(), "length_km"].tolist() == [2.0]


# -- reachability by road ---------------------------------------------------------------------
#
#   Hà Nội(0) <-> gate_a(1)                      by road, both ways
#   Hà Nội(0) <-> junction(4) -> airport_x(3)    the airport by its road_air access transfer
#   Hà Nội(0) <-> gate_b(2)                      by rail only
#   gate_c(5) -> Hà Nội(0)                       a one-way road towards Hà Nội
#   airport_planned                              in the catalog, not in this year's network
#   town_t(6)                                    cut off, but towns are not checked

PLACES = {"city_ha_noi": "city", "gate_a": "border_gate", "gate_b": "border_gate",
          "airport_x": "airport", "gate_c": "border_gate", "town_t": "town",
          "airport_planned": "airport"}
NODE = {"city_ha_noi": 0, "gate_a": 1, "gate_b": 2, "airport_x": 3, "gate_c": 5, "town_t": 6}


def _toy() -> tuple[NetworkTables, Catalog]:
    places = {pid: Place(pid, pid, f"Tên {pid}", kind, 21.0, 105.0, "Lào Cai", "Lào Cai", "test",
                         "published", "high",
                         ("provincial_capital",) if pid == "city_ha_noi" else (), (), {})
              for pid, kind in PLACES.items()}
    ids = [0, 1, 2, 3, 4, 5, 6]
    by_node = {n: p for p, n in NODE.items()}
    nodes = gpd.GeoDataFrame({"place_id": [by_node.get(i) for i in ids]},
                             geometry=gpd.points_from_xy([105.0] * 7, [21.0] * 7),
                             crs="EPSG:4326", index=pd.Index(ids, name="node"))
    edges = pd.DataFrame([_edge(0, 1), _edge(1, 0), _edge(0, 4), _edge(4, 0),
                          _edge(4, 3, "transfer", "road_air", 0.0),
                          _edge(0, 2, "rail", "metre"), _edge(2, 0, "rail", "metre"),
                          _edge(5, 0)])
    cat = Catalog(places=places, projects={}, links={}, corridors={}, provinces=pd.DataFrame())
    return NetworkTables(2030, nodes, edges, AssemblyReport()), cat


def test_places_cut_off_by_road_from_ha_noi_are_listed():
    tables, cat = _toy()
    unreachable, checked, not_open = unreachable_by_road(tables, cat)
    assert unreachable == [{"id": "gate_b", "name": "Tên gate_b", "kind": "border_gate"},
                           {"id": "gate_c", "name": "Tên gate_c", "kind": "border_gate"}]
    # Hà Nội, three gates and the open airport; the town is not a kind that is checked
    assert checked == 5 and not_open == ["airport_planned"]


def test_without_ha_noi_nothing_is_reachable():
    tables, cat = _toy()
    nodes = tables.nodes.copy()
    nodes.loc[0, "place_id"] = None
    tables = NetworkTables(2030, nodes, tables.edges, AssemblyReport())
    unreachable, checked, not_open = unreachable_by_road(tables, cat)
    assert {u["id"] for u in unreachable} == {"gate_a", "gate_b", "gate_c", "airport_x"}
    assert checked == 4 and not_open == ["city_ha_noi", "airport_planned"]


# -- the report of the embedded networks --------------------------------------------------------


def test_every_gate_capital_port_and_airport_is_reachable_by_road(base_builds):
    for year, n_open in ((2025, 56), (2030, 65)):
        r = base_builds[year].report["reachability_by_road_from_ha_noi"]
        assert r["unreachable"] == [] and r["checked"] == n_open, year
    assert base_builds[2025].report["reachability_by_road_from_ha_noi"]["not_open_yet"] == [
        "icd_lao_cai", "icd_phu_tho", "icd_lang_son", "icd_cao_bang", "airport_na_san",
        "airport_sa_pa", "airport_lai_chau", "river_port_yen_bai", "river_port_lao_cai"]


def test_what_2030_gained_is_the_difference_of_the_two_years(base_builds):
    """Widenings replace edges one for one: the kilometres gained since 2025 are exactly what
    the 2030 network has more than the 2025 one, class by class."""
    a, b = (base_builds[y].report for y in (2025, 2030))
    before, after = _km(pd.DataFrame(a["km_by_mode_class"])), _km(
        pd.DataFrame(b["km_by_mode_class"]))
    gained = _km(pd.DataFrame(b["gained_since_base_year"]["km_by_mode_class"]))
    for key in set(before) | set(after):
        diff = after.get(key, 0.0) - before.get(key, 0.0)
        assert gained.get(key, 0.0) == pytest.approx(diff, abs=0.15), key
    assert gained[("road", "expressway")] > 500 and gained[("rail", "standard")] > 500
    links = b["gained_since_base_year"]["links"]
    assert {"a3_1_01", "a3_1_11", "a3_3_01", "a3_1_05"} <= set(links)  # a3_1_05: a widening
    assert not [x for x in links if x.startswith("e_")]  # existing links gain nothing
    assert a["gained_since_base_year"] == {"base_year": 2025, "links": [], "km_by_mode_class": []}


def test_links_not_open_yet_and_the_network_beyond_the_border(base_builds):
    a, b = (base_builds[y].report for y in (2025, 2030))
    assert "a3_1_01" in a["catalog"]["links_not_open_yet"]  # Chợ Mới – Bắc Kạn, 2026
    assert "a3_1_01" in b["catalog"]["links_placed"] and not b["catalog"]["links_not_open_yet"]
    assert b["catalog"]["upgrades_applied"] == ["a3_1_05", "x_widening_hoa_lac_hoa_binh"]
    # the foreign network is reported apart, never in Vietnam's kilometres
    abroad = _km(pd.DataFrame(b["cross_border"]["km_by_mode_class"]))
    assert abroad[("road", "expressway")] > 500 and b["cross_border"]["crossings"]
    far = b["catalog"]["joined_from_far"]
    assert far and all(f["distance_km"] > FAR_JOIN_KM for f in far)
    assert [f["distance_km"] for f in far] == sorted((f["distance_km"] for f in far),
                                                     reverse=True)


# -- the Markdown -------------------------------------------------------------------------------


@pytest.fixture
def report(base_builds) -> dict:
    return copy.deepcopy(base_builds[2030].report)


def test_markdown_tables_show_the_report_figures(report):
    md = quality_markdown(report)
    assert md.startswith("# Network quality report — 2030, scenario base\n")
    xw = next(r for r in report["km_by_mode_class"]
              if (r["mode"], r["class"]) == ("road", "expressway"))
    assert f"| road | expressway | {xw['length_km']:,.1f} |" in md
    r = report["reachability_by_road_from_ha_noi"]
    assert f"{r['checked']} of {r['checked']} gates, provincial capitals" in md
    assert f"- links placed: {len(report['catalog']['links_placed'])}; " in md
    assert "© OpenStreetMap contributors" in md


def test_markdown_lists_what_cannot_be_reached(report):
    report["reachability_by_road_from_ha_noi"]["unreachable"] = [
        {"id": "gate_x", "name": "Cửa khẩu X", "kind": "border_gate"}]
    md = quality_markdown(report)
    checked = report["reachability_by_road_from_ha_noi"]["checked"]
    assert f"{checked - 1} of {checked} gates" in md
    assert "- not reachable: gate_x (Cửa khẩu X, border_gate)" in md


def test_markdown_detour_table_is_cut_and_escapes_pipes(report):
    flagged = report["detours"]["flagged"]
    assert len(flagged) > MD_DETOUR_ROWS
    flagged[0]["reason"] = "a | b\nc"
    md = quality_markdown(report)
    rows = [ln for ln in md.splitlines() if ln.startswith(f"| {flagged[0]['from_name']} | ")]
    assert rows and "a \\| b c" in rows[0]
    table = md.split("## Detours between capitals and road gates")[1].split("\n## ")[0]
    assert sum(ln.startswith("| ") for ln in table.splitlines()) == MD_DETOUR_ROWS + 1  # + head
    assert f"… and {len(flagged) - MD_DETOUR_ROWS} more pairs" in md
