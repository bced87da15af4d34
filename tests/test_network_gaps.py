"""Trunk roads missing from the embedded road skeleton, filled by catalog links (existing.yaml).

Each test routes a car between two catalog places on the embedded 2025 network and checks the
length of the fastest route against the published road distance (facts/travel_times.csv, as
shipped in data/facts/travel_times.csv), or, where no distance is published, that the route takes
the link that fills the gap and stays short. Distances only: speeds are calibrated elsewhere.
"""

from __future__ import annotations

import pandas as pd
import pytest
from corridors.network.routing import Router
from pyproj import Geod

from corridors.build.analysis_network import AnalysisNetwork

#: Tolerance on a published road distance, as in ``corridors check-times``.
TOLERANCE = 0.15

_GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def net(base_builds) -> AnalysisNetwork:
    built = base_builds[2025]
    return AnalysisNetwork("2025", built.tables, built.catalog)


def route(net: AnalysisNetwork, a: str, b: str) -> tuple[float, pd.DataFrame]:
    """Return the length (km) and the edges of the fastest car route between two places."""
    u, v = net.node_of(a), net.node_of(b)
    assert u is not None and v is not None, (a, b)
    router = net.router("car")
    found = router.route(u, v)
    assert found is not None, f"{a} -> {b} unreachable"
    return found.length_km, router.edges.iloc[found.edge_rows]


def straight_km(net: AnalysisNetwork, a: str, b: str) -> float:
    pa, pb = net.catalog.places[a], net.catalog.places[b]
    return _GEOD.inv(pa.lon, pa.lat, pb.lon, pb.lat)[2] / 1000


@pytest.mark.parametrize(
    ("a", "b", "published_km"),
    [
        # facts/travel_times.csv: about 50 km on QL12 (dulich24.com.vn citing Báo Phú Thọ)
        ("city_lai_chau", "gate_ma_lu_thang", 50),
        # facts/travel_times.csv: road distance 65 km (60 via ĐT256, 70 via ĐT257), 2013
        ("city_bac_kan", "town_ba_be", 65),
        # facts/travel_times.csv: road distance 220 km (travelnewsnow)
        ("city_lai_chau", "city_dien_bien_phu", 220),
        # facts/travel_times.csv: road distance 25 km (en.wikipedia Hà Giang province)
        ("city_ha_giang", "gate_thanh_thuy", 25),
    ],
)
def test_route_km_within_15pct_of_the_published_distance(net, a, b, published_km):
    for x, y in ((a, b), (b, a)):
        km, _ = route(net, x, y)
        assert abs(km - published_km) <= TOLERANCE * published_km, (x, y, km)


def test_sa_pa_reaches_lai_chau_over_ql4d(net):
    # No published Sa Pa - Lai Châu distance: the route takes the QL4D link over Bình Lư and is
    # no detour (at most 2.2 x the great-circle distance, the mountain rule of the quality
    # report); before the link it went via Hà Nội (927 km).
    km, edges = route(net, "town_sa_pa", "city_lai_chau")
    assert "catalog:e_ql4d_tam_duong_lai_chau" in set(edges["source"])
    assert km <= 2.2 * straight_km(net, "town_sa_pa", "city_lai_chau")


def test_lai_chau_is_not_reached_by_its_long_connector(net):
    # Lai Châu city joins the roads layer 22 km away (QL12, gt_196); its routes to Ma Lù Thàng
    # and Sa Pa must take the roads, not that connector.
    for other in ("gate_ma_lu_thang", "town_sa_pa"):
        _, edges = route(net, "city_lai_chau", other)
        connectors = edges[edges["class"] == "connector"]
        assert (connectors["length_km"] < 10).all(), other


def test_ha_long_reaches_cai_rong_by_the_expressway_and_the_island_road(net):
    # No published Hạ Long - Cái Rồng distance; the expressway is 60 km (facts/links.csv) and
    # the island road from its end a few km, with no drive back to the mainland.
    km, edges = route(net, "city_ha_long", "town_cai_rong")
    sources = set(edges["source"])
    assert {"catalog:e_ha_long_van_don", "catalog:e_van_don_airport_cai_rong"} <= sources
    assert km <= 60 + 15


def test_van_don_expressways_meet_at_the_airport(net):
    # Hạ Long - Móng Cái gate: the two expressways (60 + 80 km) meet at airport_van_don, with no
    # connector to the mainland between them.
    _, edges = route(net, "city_ha_long", "gate_mong_cai")
    sources = list(edges["source"])
    assert "catalog:e_ha_long_van_don" in sources and "catalog:e_van_don_mong_cai" in sources
    i, j = sources.index("catalog:e_ha_long_van_don"), sources.index("catalog:e_van_don_mong_cai")
    between = edges.iloc[min(i, j):max(i, j) + 1]
    assert set(between["source"]) <= {"catalog:e_ha_long_van_don", "catalog:e_van_don_mong_cai"}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # Yên Bái - Điện Biên Phủ: 464 km round Sa Pa / Lai Châu (2.39 x) before the QL279 gap
        ("city_yen_bai", "city_dien_bien_phu"),
        # Lai Châu - Sơn La: 286 km round Mường Lay (2.22 x) before
        ("city_lai_chau", "city_son_la"),
        # Tây Trang gate - Yên Bái: 478 km (2.28 x) before
        ("gate_tay_trang", "city_yen_bai"),
    ],
)
def test_ql279_than_uyen_tuan_giao_closes_the_north_west_detours(net, a, b):
    # QL279 runs Quảng Ninh - Điện Biên (facts/route_lengths.csv, 970 km); the roads layer holds it
    # up to Than Uyên and again from Tuần Giáo, and e_ql279_than_uyen_tuan_giao joins the two. The
    # pairs take it, at about the mountain rule of the quality report (2.2 x great circle), and
    # it shortens the route the network takes without it (round Sa Pa, Lai Châu or Mường Lay).
    km, edges = route(net, a, b)
    if "catalog:e_ql279_than_uyen_tuan_giao" not in set(edges["source"]):
        # a tie with another mountain road (Lai Châu - Sơn La round Mường Lay is within a minute
        # of it): the route over QL279 must then be as fast, within 1 %, and short
        router = net.router("car")
        u, v = net.node_of(a), net.node_of(b)
        best = None
        for _, e in router.edges[router.edges["source"]
                                 == "catalog:e_ql279_than_uyen_tuan_giao"].iterrows():
            # over the link: to its start, along it, from its end
            start, end = router.route(u, int(e["u"])), router.route(int(e["v"]), v)
            legs = (start.time_h + e["time_h_car"] + end.time_h,
                    start.length_km + e["length_km"] + end.length_km)
            best = legs if best is None or legs < best else best
        assert best is not None and best[0] <= 1.01 * router.route(u, v).time_h, (a, b, best)
        km = best[1]
    assert km <= 2.3 * straight_km(net, a, b), (a, b, km)
    router = net.router("car")
    without = router.edges["source"] != "catalog:e_ql279_than_uyen_tuan_giao"
    detour = Router(net.tables.nodes, router.edges[without], "car").route(net.node_of(a),
                                                                           net.node_of(b))
    assert km < detour.length_km - 10, (a, b, km, detour.length_km)
