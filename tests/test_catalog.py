"""The shipped catalog is complete and faithful to the plans it cites."""

from __future__ import annotations

from collections import Counter

import pytest

from corridors.catalog.validation import GATE_MAX_BORDER_KM, geography, to_metric


@pytest.fixture(scope="module")
def cat(shipped_catalog):
    return shipped_catalog


def test_appendix_iii_has_33_items_by_category(cat):
    a3 = [p for p in cat.projects.values() if p.id.startswith("a3_")]
    assert len(a3) == 33
    assert Counter(p.category for p in a3) == {
        "highway": 14, "access_road": 12, "railway": 2, "airport": 4, "waterway": 1}
    sections = Counter(p.attrs["appendix_iii"]["section"] for p in a3)
    assert sections == {"I": 14, "II": 12, "III": 2, "IV": 4, "V": 1}


@pytest.mark.parametrize(
    ("pid", "task", "authority", "funding", "expected"),
    [
        ("a3_1_01", "Cho Moi - Bac Kan", "Ministry of Transport", "State budget", "2021 -2025"),
        ("a3_1_04", "Project of connector of Noi Bai - Lao Cai highway with Lai Chau",
         "Ministry of Transport", "State budget", "Before 2024"),
        ("a3_1_09", "Tuyen Quang - Ha Giang highway (CT.15)", "Tuyen Quang, Ha Giang",
         "State budget and other mobilized sources", "Before 2030 (stage I of 2021 - 2025)"),
        ("a3_1_10", "Dong Dang - Tra Linh highway", "Cao Bang",
         "State budget and other mobilized sources", "2020 - 2024 (stage 1)"),
        ("a3_2_09", "Connector of Hoa Binh region with Hanoi and Son La highway (Hoa Binh - Moc "
         "Chau)", "Hoa Binh", "State budget", "2022 - 2027"),
        ("a3_4_02", "Investment in upgrading Dien Bien Airport",
         "Committee for Management of State Capital", "State budget and other mobilized sources",
         "Before 2025"),
        ("a3_5_01", "Upgrading Viet Tri - Yen Bai - Lao Cai route", "Ministry of Transport",
         "State budget", "Before 2030"),
    ],
)
def test_plan_text_as_written_in_appendix_iii(cat, pid, task, authority, funding, expected):
    plan = cat.projects[pid].plan
    assert plan["task"].strip() == task
    assert plan["presiding_authority"].strip() == authority
    assert plan["funding"].strip() == funding
    assert plan["expected_time"].strip() == expected


def test_every_entry_cites_a_source(cat):
    for group in (cat.places, cat.projects, cat.links, cat.corridors):
        for item in group.values():
            assert item.source.strip(), item.id
    for p in cat.projects.values():
        if p.id.startswith("a3_"):
            sec, item = p.attrs["appendix_iii"]["section"], p.attrs["appendix_iii"]["item"]
            assert "000_910e3cc51a49dae7.txt" in p.source and f"{sec}.{item}" in p.source


def test_additions_outside_appendix_iii(cat):
    extra = [p for p in cat.projects.values() if not p.id.startswith("a3_")]
    by_mode = Counter(p.mode for p in extra)
    assert by_mode["dry_port"] == 4
    names = " | ".join(p.name.lower() for p in extra)
    for needle in ("yen bai - lao cai", "hoa lac - hoa binh", "lang son - hanoi", "red river",
                   "duong", "cargo terminals", "lao cai international", "hydropower"):
        assert needle in names, needle
    # the two high-speed railways of the 2024 plan
    assert sum(p.mode == "rail" and "003_ce899d92908190c2.txt" in p.source for p in extra) >= 2


def test_programmes_are_flagged_not_dropped(cat):
    border_patrol = cat.projects["a3_1_07"]
    assert border_patrol.location_type == "programme"
    assert border_patrol.geometry is None


def test_alignments_have_geometry_and_years_in_range(cat):
    for p in [*cat.projects.values(), *cat.links.values()]:
        first = 1850 if p.kind == "existing" else 2000  # railways of 1902 and 1910
        assert first <= p.open_year <= 2060
        if p.location_type == "alignment":
            assert p.geometry is not None and p.geometry.length > 0, p.id


def test_existing_trunk_links(cat):
    names = " | ".join(p.name.lower() for p in cat.links.values())
    for needle in ("noi bai", "thai nguyen", "bac giang", "lang son", "hai phong", "van don",
                   "mong cai", "hoa lac", "hoa binh"):
        assert needle in names, needle
    assert all(p.kind == "existing" and p.open_year <= 2025 for p in cat.links.values())
    assert {p.mode for p in cat.links.values()} >= {"road", "rail"}


def test_seven_economic_corridors(cat):
    econ = [c for c in cat.corridors.values() if c.kind == "economic_corridor"]
    assert len(econ) == 7
    ends = {(c.stops[0].name, c.stops[-1].name) for c in econ}
    assert ("Ha Noi", "Cao Bang") in {(a.replace("Hanoi", "Ha Noi"), b) for a, b in ends}
    kinds = Counter(c.kind for c in cat.corridors.values())
    assert kinds["connection_chain"] == 1
    assert kinds["development_axis"] == 1
    assert kinds["provincial_corridor"] == 2


def test_five_bgezs_and_policy_gates(cat):
    bgez = [p for p in cat.places.values() if p.kind == "bgez"]
    assert len(bgez) == 5
    assert {p.province for p in bgez} == {"Hà Giang", "Cao Bằng", "Lạng Sơn", "Lai Châu",
                                          "Lào Cai"}
    policy = {p.name_vi for p in cat.places.values() if p.attrs.get("bgez_policy")}
    assert policy == {"Lóng Sập", "Chiềng Khương", "Tây Trang"}
    assert any(p.attrs.get("bgez_study") for p in cat.places.values()
               if "U Ma Tu Kho" in p.name_vi)


def test_gates_lie_on_the_border(cat):
    geo = geography()
    gates = [p for p in cat.places.values() if p.kind == "border_gate"]
    assert len(gates) >= 25
    for g in gates:
        assert geo.border.distance(to_metric(g.lon, g.lat)) <= GATE_MAX_BORDER_KM * 1000, g.id
    assert {g.attrs["neighbour"] for g in gates} == {"CHN", "LAO"}


def test_provincial_capitals_of_all_21_provinces(cat):
    capitals = [p for p in cat.places.values() if "provincial_capital" in p.roles]
    assert len(capitals) == 21
    assert len({p.province for p in capitals}) == 21
    poles = {p.province for p in cat.places.values() if "growth_pole" in p.roles}
    assert poles == {"Thái Nguyên", "Bắc Giang", "Lào Cai", "Sơn La", "Lạng Sơn", "Phú Thọ"}


def test_facilities_present(cat):
    kinds = Counter(p.kind for p in cat.places.values())
    assert kinds["dry_port"] == 4
    assert kinds["seaport"] >= 3
    assert kinds["river_port"] >= 3
    airports = {p.id for p in cat.places.values() if p.kind == "airport"}
    assert {"airport_noi_bai", "airport_sa_pa", "airport_lai_chau", "airport_na_san",
            "airport_dien_bien"} <= airports


@pytest.mark.parametrize("query", ["Lao Cai", "Lào Cai", "lao cai", "LÀO CAI", "city_lao_cai"])
def test_place_names_match_with_or_without_diacritics(cat, query):
    assert cat.find_place(query).id == "city_lao_cai"


def test_unknown_place_suggests_close_names(cat):
    with pytest.raises(LookupError, match="did you mean"):
        cat.find_place("Lao Kai")


def test_frames_are_geodataframes_in_wgs84(cat):
    for frame in (cat.places_frame(), cat.projects_frame(include_existing=True),
                  cat.corridors_frame()):
        assert frame.crs.to_epsg() == 4326
        assert frame["id"].is_unique
