"""True lengths: official route sections, circuity by terrain, schematic links, road snapping."""

from __future__ import annotations

import geopandas as gpd
import pytest
from corridors.network.lengths import (
    MAX_FACTOR,
    MIN_FACTOR,
    RouteSection,
    fit_circuity,
    true_lengths,
)
from corridors.network.topology import node_lines
from shapely.geometry import LineString

from corridors.build.pipeline import load_backbone

DEG_KM = 111.32  # km per degree of longitude at the equator, roughly, for hand-made lines


def _edges(rows):
    """Both directions of hand-made road edges: (u, v, (x0, y0), (x1, y1), ref, terrain, km)."""
    recs = []
    for u, v, a, b, ref, terrain, km in rows:
        for uu, vv, g in ((u, v, LineString([a, b])), (v, u, LineString([b, a]))):
            recs.append({"u": uu, "v": vv, "mode": "road", "class": "national", "ref": ref,
                         "terrain": terrain, "length_km": km,
                         "source": f"t:{min(u, v)}-{max(u, v)}", "geometry": g})
    return gpd.GeoDataFrame(recs, geometry="geometry", crs="EPSG:4326")


def test_fit_recovers_known_factors():
    sections = [{"flat": 100.0}, {"mountainous": 100.0}, {"flat": 50.0, "mountainous": 50.0}]
    factors, fitted = fit_circuity(sections, [110.0, 140.0, 125.0])
    assert factors == {"flat": 1.1, "hilly": pytest.approx(1.1), "mountainous": 1.4}
    assert fitted == ["flat", "mountainous"]  # hilly had no km: it takes its nearest class


def test_each_section_weighs_as_one_observation_of_its_ratio():
    # the embedded sections: QL3 Yên Viên - Phù Lỗ (18 km, flat, ratio 1.0) against QL4A and
    # QL6, hundreds of km each: in km the long sections would set the flat factor too
    sections = [{"hilly": 57.9}, {"hilly": 73.6, "mountainous": 134.1},
                {"flat": 12.9, "hilly": 88.8, "mountainous": 1.6}, {"flat": 18.0}]
    factors, fitted = fit_circuity(sections, [63.0, 258.0, 128.0, 18.0])
    assert fitted == ["flat", "hilly", "mountainous"]
    assert factors["flat"] == pytest.approx(1.0, abs=0.02)
    assert factors["flat"] < factors["hilly"] < factors["mountainous"]


def test_fit_stays_within_bounds():
    factors, _ = fit_circuity([{"flat": 100.0}], [300.0])
    assert factors["flat"] == MAX_FACTOR
    factors, _ = fit_circuity([{"flat": 100.0}], [50.0])
    assert factors["flat"] == MIN_FACTOR


def test_section_is_scaled_to_its_official_length_and_the_rest_by_terrain():
    e = _edges([
        (1, 2, (105.0, 21.0), (105.1, 21.0), "QL9", "flat", 10.0),
        (2, 3, (105.1, 21.0), (105.2, 21.0), "QL9", "flat", 10.0),
        (3, 4, (105.2, 21.0), (105.3, 21.0), "QL7", "flat", 10.0),
    ])
    sec = RouteSection("s", "QL9", (105.0, 21.0), (105.2, 21.0), 24.0, "test")
    out, rep = true_lengths(e, [sec])
    ql9 = out[out["ref"] == "QL9"]
    assert ql9.loc[ql9["u"] < ql9["v"], "length_km"].sum() == pytest.approx(24.0)
    assert rep.factors["flat"] == pytest.approx(1.2)
    ql7 = out[out["ref"] == "QL7"]
    assert ql7["length_km"].tolist() == pytest.approx([12.0, 12.0])
    assert set(ql7["length_basis"]) == {"circuity:flat"}
    assert out["length_drawn_km"].sum() == pytest.approx(60.0)


def test_section_with_an_end_far_from_any_road_is_skipped():
    e = _edges([(1, 2, (105.0, 21.0), (105.1, 21.0), "QL9", "flat", 10.0)])
    sec = RouteSection("far", "QL9", (105.0, 21.0), (106.0, 22.0), 50.0, "test")
    out, rep = true_lengths(e, [sec])
    assert "skipped" in rep.sections[0]
    assert out["length_km"].tolist() == pytest.approx([10.0, 10.0])  # no factor fitted: 1.0


def test_two_dangling_ends_that_are_each_others_nearest_meet():
    # QL4D near Lào Cai was cut this way: two ends 15 m apart swapped places instead of meeting
    lines = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1000, 0)]),
                                       LineString([(1015, 0), (2000, 0)])], crs="EPSG:32648")
    seg, rep = node_lines(lines, tolerance_m=100, bridge_m=0)
    assert rep.components_after == 1
    assert rep.ends_moved == 1


def test_embedded_roads_take_the_official_lengths():
    bb = load_backbone()
    rep = bb.report["lengths"]
    used = {s["id"]: s for s in rep["sections"] if "skipped" not in s}
    assert {"ql6_ha_dong_hoa_binh", "ql6_hoa_binh_son_la", "ql4a_dong_dang_cao_bang"} <= set(used)
    for s in used.values():
        assert 0.95 <= s["ratio"] < 1.5  # generalised lines are shorter than the roads, or equal
    assert all(MIN_FACTOR <= f <= MAX_FACTOR for f in rep["factors"].values())
    e = bb.edges
    # the edges of the section (the two at its ends run a little beyond it) take its ratio
    scaled = e[e["length_basis"] == "section:ql4a_dong_dang_cao_bang"]
    ratio = scaled["length_km"] / scaled["length_drawn_km"]
    assert ratio.to_numpy() == pytest.approx(used["ql4a_dong_dang_cao_bang"]["ratio"], rel=1e-3)
    assert 128 <= scaled["length_km"].sum() / 2 <= 128 * 1.1
