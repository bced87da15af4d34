"""Invariants a planner relies on, on the embedded default network of 2025 and 2030."""

from __future__ import annotations

import networkx as nx
import pytest
from corridors.network.build import tables_for_year
from corridors.network.crossings import added_edges, foreign_edges
from corridors.network.graph import to_graph
from corridors.network.speeds import load_speed_table


@pytest.fixture(scope="module")
def net25(base_builds):
    return base_builds[2025]


@pytest.fixture(scope="module")
def net30(base_builds):
    return base_builds[2030]


def _project_edges(result, pid):
    e = result.tables.edges
    return e[e["project"] == pid]


def _standing_for(result, spec_id):
    """Edges of a link, or of the widening that replaced them in that year."""
    upgraded_by = {s.upgrades: s.tag for s in result.specs if s.upgrades}
    tag_of = {s.id: s.tag for s in result.specs}  # air routes carry their airport's project
    e = result.tables.edges
    tags = {tag_of[spec_id], upgraded_by.get(spec_id)} - {None}
    return e[e["project"].isin(tags)]


def _present(result, spec_id):
    return len(_standing_for(result, spec_id)) > 0


def test_projects_appear_in_their_opening_year_and_not_before(net25, net30):
    drawn = [s for s in net30.specs if not s.upgrades and s.id in net30.tables.assembly.links]
    assert len(drawn) >= 30
    for s in drawn:
        assert _present(net30, s.id), s.id
        assert _present(net25, s.id) == (s.open_year <= 2025), (s.id, s.open_year)


def test_a_project_opens_exactly_in_its_year(net25):
    assert _project_edges(net25, "a3_1_01").empty  # Chợ Mới – Bắc Kạn opens in 2026
    e26 = tables_for_year(net25.master, 2026).edges  # the year's mask, as build_network(2026)
    assert not e26[e26["project"] == "a3_1_01"].empty


def test_2030_holds_every_2025_road(net25, net30):
    def road_km(result):
        e = result.tables.edges
        roads = e[(e["mode"] == "road") & e["source"].str.startswith("giaothong:")]
        return roads.groupby("source")["length_km"].sum()

    km25, km30 = road_km(net25), road_km(net30)
    assert set(km25.index) == set(km30.index)
    assert km30.loc[km25.index].to_numpy() == pytest.approx(km25.to_numpy(), rel=1e-9)
    links25 = set(net25.tables.assembly.links)
    assert links25 <= set(net30.tables.assembly.links)


def test_lengths_match_official_lengths(net30):
    checked = 0
    for s in net30.specs:
        if s.length_km and s.id in net30.tables.assembly.links:
            e = _standing_for(net30, s.id)
            # the link's own edges, both directions (not its joins and access roads, nor the
            # border crossing a standard-gauge railway brings, which opens with it)
            own = ~e["source"].isin(["join", "access"]) & ~added_edges(e)
            km = e.loc[own, "length_km"].sum() / 2
            assert km == pytest.approx(s.length_km, rel=0.02), s.id
            checked += 1
    assert checked >= 15


def test_no_isolated_gate_in_2025(net25):
    reach = net25.report["reachability_by_road_from_ha_noi"]
    assert reach["unreachable"] == []
    nodes = net25.tables.nodes
    gates = nodes[nodes["kind"] == "gate"]
    assert len(gates) == 25
    assert reach["checked"] >= 55


def test_widening_raises_the_design_speed_in_its_year(net25, net30):
    def speeds(result, pid):
        e = _project_edges(result, pid)
        return e["design_speed_kmh"].unique(), e["speed_kmh_car"].mean(), len(e)

    (d25,), v25, n25 = speeds(net25, "e_yen_bai_lao_cai")
    assert _project_edges(net25, "a3_1_05").empty
    # in 2030 the widening (a3_1_05) replaces the two-lane edges, one for one
    assert _project_edges(net30, "e_yen_bai_lao_cai").empty
    (d30,), v30, n30 = speeds(net30, "a3_1_05")
    assert (d25, d30) == (80, 100)
    assert n30 == n25
    assert v30 > v25


def test_every_edge_has_speeds_and_times(net30):
    e = net30.tables.edges
    for col in ("time_h_car", "time_h_truck", "speed_kmh_car", "speed_kmh_truck"):
        assert e[col].notna().all() and (e[col] > 0).all(), col
    assert (e["time_h_truck"] >= e["time_h_car"] - 1e-12).all()
    # transfers, border crossings and changes of gauge: a fixed time plus their length at the
    # yard speed (a rail crossing at its train speed); a profile a gate refuses takes forever
    fixed = (e["mode"] == "transfer") | e["gauge_change"].notna() | e["crossing"].notna()
    table = load_speed_table()
    yard = (e["mode"] == "transfer") | e["gauge_change"].notna()
    assert (e.loc[yard, ["speed_kmh_car", "speed_kmh_truck"]] == table.yard_speed_kmh).all().all()
    for prof in ("car", "truck"):
        run = e.loc[fixed, "length_km"] / e.loc[fixed, f"speed_kmh_{prof}"]
        assert (e.loc[fixed, f"time_h_{prof}"] >= run - 1e-12).all(), prof
    assert e.loc[e["gauge_change"].notna(), "time_h_truck"].min() > 1  # a change takes hours
    refused = e[e["time_h_truck"] == float("inf")]
    assert set(refused["crossing"]) == {"xb_cross_lao_cai_road"}
    assert set(e["mode"]) == {"road", "rail", "water", "air", "transfer"}
    assert set(e.loc[e["mode"] == "road", "terrain"]) <= {"flat", "hilly", "mountainous"}


def test_modes_by_year(net25, net30):
    def classes(result, mode, vietnam):
        e = result.tables.edges
        # the lines of Vietnam: not beyond the border, and not a change of gauge (no length)
        side = ~foreign_edges(e) & e["gauge_change"].isna() if vietnam else foreign_edges(e)
        return set(e.loc[(e["mode"] == mode) & side, "class"])

    # no Vietnamese standard-gauge line before its project opens; China's (to Hekou and
    # Pingxiang) is there in 2025, and the crossings it needs open with the project
    assert "standard" not in classes(net25, "rail", vietnam=True)
    assert "standard" in classes(net25, "rail", vietnam=False)
    assert {"standard", "metre", "dual"} <= classes(net30, "rail", vietnam=True)
    assert net30.report["gained_since_base_year"]["links"]
    air25 = _project_edges(net25, "e_air_ha_noi_dien_bien")
    assert len(air25) == 2


def test_not_modelled_items_are_reported_with_reasons(net30):
    reasons = {n.id: n.reason for n in net30.not_modelled}
    assert "programme" in reasons["a3_1_07"]
    assert "a3_1_05" in reasons["x_widening_yen_bai_lao_cai"]
    assert "QL4" in reasons["a3_1_06"]


def test_snapping_report(net25):
    roads = net25.report["backbone"]["roads"]
    assert roads["components_before"] > 1
    assert roads["components_after"] == 1
    assert 0 < roads["largest_move_m"] <= 1000
    assert roads["ends_moved"] > 0


def test_car_time_ha_noi_to_lao_cai_is_plausible(net25, net30):
    def hours(result):
        t = result.tables
        G = nx.DiGraph()
        for u, v, w, m in zip(t.edges["u"], t.edges["v"], t.edges["time_h_car"],
                              t.edges["mode"], strict=True):
            if m in ("road", "transfer") and (not G.has_edge(u, v) or G[u][v]["w"] > w):
                G.add_edge(u, v, w=w)
        by_place = dict(zip(t.nodes["place_id"], t.nodes.index, strict=False))
        return nx.shortest_path_length(G, by_place["city_ha_noi"], by_place["city_lao_cai"],
                                       weight="w")

    h25, h30 = hours(net25), hours(net30)
    # about 264 km, most of it on the Nội Bài – Lào Cai expressway
    assert 2.5 < h25 < 5.0
    assert h30 <= h25


def test_graph_follows_osmnx_conventions(net25):
    G = to_graph(net25.tables.nodes, net25.tables.edges)
    assert G.graph["crs"] == "EPSG:4326"
    n = next(iter(G.nodes(data=True)))[1]
    assert {"x", "y", "kind"} <= set(n)
    assert G.number_of_edges() == len(net25.tables.edges)
