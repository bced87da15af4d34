"""What the network builder inserts from the catalog (corridors.build.network_inputs), and what
it reports as not modelled, with the reason: on the shipped catalog and on edited copies."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from corridors.build.network_inputs import AIR_HUB, facilities, link_specs

PLANNED_AIRPORTS = {"airport_na_san": "a3_4_03", "airport_sa_pa": "a3_4_04",
                    "airport_lai_chau": "a3_4_01"}


@pytest.fixture(scope="module")
def cat(shipped_catalog):
    return shipped_catalog


@pytest.fixture(scope="module")
def inputs(cat):
    fac, left = facilities(cat)
    specs, not_modelled = link_specs(cat, fac)
    return fac, left, specs, not_modelled


def _without_project(cat, pid):
    return dataclasses.replace(cat, projects={k: v for k, v in cat.projects.items() if k != pid})


# -- facilities -----------------------------------------------------------------------------------


def test_every_gate_city_port_and_airport_is_a_node_and_nothing_else(cat, inputs):
    fac, left, _, _ = inputs
    kinds = Counter(p.kind for p in cat.places.values())
    got = Counter(f.kind for f in fac)
    assert got == {"gate": kinds["border_gate"], "place": kinds["city"] + kinds["town"],
                   "airport": kinds["airport"], "dry_port": kinds["dry_port"],
                   "port": kinds["seaport"] + kinds["river_port"]}
    assert got["gate"] == 25 and left == []
    ids = {f.id for f in fac}
    assert len(ids) == len(fac)  # one node per place
    # BGEZs are measured at their gates, the tri-point is a marker: neither is a node
    assert not ids & {p.id for p in cat.places.values() if p.kind in ("bgez", "tripoint")}
    gate = next(f for f in fac if f.id == "gate_huu_nghi")
    assert gate.attrs["neighbour"] == "CHN" and (gate.open_year, gate.project) == (None, None)


def test_a_planned_facility_opens_with_the_project_that_builds_it(cat, inputs):
    fac = {f.id: f for f in inputs[0]}
    for airport, project in PLANNED_AIRPORTS.items():  # a point project at the airport
        assert (fac[airport].open_year, fac[airport].project) == (
            cat.projects[project].open_year, project)
    # river ports along the Red River waterway's alignment open with it
    for port in ("river_port_yen_bai", "river_port_lao_cai"):
        assert fac[port].project == "a3_5_01"
        assert fac[port].open_year == cat.projects["a3_5_01"].open_year
    assert all(f.open_year is None for f in fac.values() if f.kind == "gate")


def test_the_earliest_of_two_builders_opens_the_facility(cat):
    early = dataclasses.replace(cat.projects["a3_4_04"], id="t_sa_pa_early", open_year=2027)
    edited = dataclasses.replace(cat, projects={**cat.projects, early.id: early})
    sa_pa = next(f for f in facilities(edited)[0] if f.id == "airport_sa_pa")
    assert (sa_pa.open_year, sa_pa.project) == (2027, "t_sa_pa_early")


def test_a_planned_facility_nobody_builds_is_left_out_with_its_reason(cat):
    fac, left = facilities(_without_project(cat, "a3_4_04"))
    assert "airport_sa_pa" not in {f.id for f in fac}
    assert [(n.id, n.reason) for n in left] == [
        ("airport_sa_pa", "planned facility that no catalog project builds")]
    specs, _ = link_specs(_without_project(cat, "a3_4_04"), fac)
    assert "air_noi_bai_sa_pa" not in {s.id for s in specs}  # and no air route to it


# -- links ----------------------------------------------------------------------------------------


def test_every_catalog_link_is_drawn_or_reported(cat, inputs):
    """Nothing is dropped silently: each link and project is a spec or has a reason, but the
    point projects that build a planned facility (the facility itself opens then)."""
    fac, _, specs, not_modelled = inputs
    entries = {**cat.links, **cat.projects}
    drawn = {s.id for s in specs if s.id in entries}
    reported = {n.id for n in not_modelled}
    builds_facility = {p.id for p in entries.values() if p.location_type == "point"
                       and p.place_id in {f.id for f in fac if f.project == p.id}}
    assert not drawn & reported
    assert drawn | reported | builds_facility == set(entries)
    assert builds_facility == {*PLANNED_AIRPORTS.values(), "x_icd_lao_cai", "x_icd_phu_tho",
                               "x_icd_lang_son", "x_icd_cao_bang"}


def test_the_reasons_name_what_stands_in(inputs):
    _, _, _, not_modelled = inputs
    reason = {n.id: n.reason for n in not_modelled}
    assert reason["x_hsr_lao_cai_ha_noi_hai_phong_quang_ninh"] == \
        "the same works as a3_3_01, modelled there"
    assert reason["e_rail_ha_noi_lao_cai"] == "represented by the OSM railways of the backbone"
    assert reason["e_ql1a"] == "existing road of the backbone"
    assert reason["a3_1_06"] == "upgrade of unspecified segments of QL4, QL279, QL37"
    assert reason["a3_1_07"] == "programme without a single alignment"
    assert reason["a3_4_02"] == ("upgrade of the existing airport airport_dien_bien: no change "
                                 "of travel time modelled")
    assert reason["x_duong_bridge_clearance"] == "point works that change no modelled travel time"


def test_widenings_change_the_link_they_name(cat, inputs):
    specs = {s.id: s for s in inputs[2]}
    w = specs["a3_1_05"]
    assert w.upgrades == "e_yen_bai_lao_cai" and w.points == ()
    assert w.open_year == cat.projects["a3_1_05"].open_year
    assert "e_yen_bai_lao_cai" in specs  # the link it widens is drawn as it is today


def test_links_pass_through_the_facilities_of_their_mode(cat, inputs):
    fac, _, specs, _ = inputs
    kind = {f.id: f.kind for f in fac}
    reuse = {"road": {"place", "gate", "port", "airport", "dry_port"}, "rail": {"gate", "dry_port"},
             "water": {"port"}, "air": {"airport"}}
    for s in specs:
        if s.upgrades:
            continue
        assert len(s.place_ids) == len(s.points) >= 2, s.id
        for pid in s.place_ids:
            assert pid is None or kind[pid] in reuse[s.mode], (s.id, pid)
    sgr = next(s for s in specs if s.id == "a3_3_01")
    assert sgr.mode == "rail" and sgr.link_class == "standard"
    assert sgr.length_km == cat.projects["a3_3_01"].length_km


def test_each_new_airport_gets_one_air_route_from_noi_bai(cat, inputs):
    air = {s.id: s for s in inputs[2] if s.mode == "air"}
    hub = cat.places[AIR_HUB]
    for airport, project in PLANNED_AIRPORTS.items():
        route = air[f"air_noi_bai_{airport.removeprefix('airport_')}"]
        assert route.place_ids == (AIR_HUB, airport)
        assert route.points[0] == (hub.lon, hub.lat)
        assert route.points[1] == (cat.places[airport].lon, cat.places[airport].lat)
        assert (route.open_year, route.project) == (cat.projects[project].open_year, project)
    # the existing Hà Nội - Điện Biên route is the catalog's, not made up again
    assert set(air) == {"e_air_ha_noi_dien_bien", "air_noi_bai_na_san", "air_noi_bai_sa_pa",
                        "air_noi_bai_lai_chau"}
