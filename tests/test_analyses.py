"""The analyses on a small network whose answers are known by hand, and on the embedded data."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from corridors.network.assemble import AssemblyReport
from corridors.network.build import MasterNetwork, tables_for_year
from shapely.geometry import LineString

from corridors.analysis.access import gate_access, gate_matrix
from corridors.analysis.attribution import attribute_projects
from corridors.analysis.compare import compare_corridors, compare_gates, compare_od
from corridors.analysis.corridor_kpis import corridor_kpis
from corridors.build.analysis_network import AnalysisNetwork
from corridors.catalog.model import Catalog, Corridor, Place, Waypoint

# A line of places 0.5 degree apart (about 52 km) along latitude 21:
#   gate(0) -- capital(1) -- dry port(2) -- Hà Nội(3) -- seaport(4)
# national road 60 km/h throughout; a planned expressway gate -> Hà Nội at 100 km/h (2028),
# and a planned bypass capital -> Hà Nội (2029) that competes with it.
PLACES = {
    "gate_x": ("border_gate", 0), "city_x": ("city", 1), "icd_x": ("dry_port", 2),
    "city_ha_noi": ("city", 3), "seaport_hai_phong": ("seaport", 4),
}


def _place(pid, kind, k):
    roles = ("provincial_capital",) if pid == "city_x" else ()
    attrs = {"neighbour": "CHN", "gate_class": "main"} if kind == "border_gate" else {}
    return Place(pid, pid, pid, kind, 21.0, 105.0 + 0.5 * k, "Lào Cai", "Lào Cai", "test",
                 "published", "high", roles, (), attrs)


def _edge(u, v, km, speed, project=None, year=None, cls="national"):
    x = {i: 105.0 + 0.5 * i for i in range(5)}
    rows = []
    for a, b in ((u, v), (v, u)):
        rows.append({"u": a, "v": b, "key": 0, "mode": "road", "class": cls, "length_km": km,
                     "time_h_car": km / speed, "time_h_truck": km / (speed * 0.8),
                     "speed_kmh_car": speed, "speed_kmh_truck": speed * 0.8,
                     "source": f"test:{u}-{v}", "project": project, "open_year": year,
                     "superseded_by": None,
                     "geometry": LineString([(x[a], 21.0), (x[b], 21.0)])})
    return rows


@pytest.fixture(scope="module")
def toy():
    places = {pid: _place(pid, kind, k) for pid, (kind, k) in PLACES.items()}
    nodes = gpd.GeoDataFrame(
        {"x": [105.0 + 0.5 * k for _, k in PLACES.values()], "y": 21.0,
         "kind": ["gate", "place", "dry_port", "place", "port"],
         "name": list(PLACES), "place_id": list(PLACES), "source": "test", "project": None},
        geometry=gpd.points_from_xy([105.0 + 0.5 * k for _, k in PLACES.values()], [21.0] * 5),
        crs="EPSG:4326", index=pd.Index(range(5), name="node"))
    rows = []
    for i in range(4):
        rows += _edge(i, i + 1, 50.0, 60.0)
    rows += _edge(0, 3, 150.0, 100.0, project="p_expressway", year=2028, cls="expressway")
    rows += _edge(1, 3, 90.0, 90.0, project="p_bypass", year=2029)
    edges = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    corridor = Corridor("ec_x", "X - Ha Noi - sea", "X - Hà Nội - biển", "economic_corridor",
                        tuple(Waypoint(p, 21.0, places[p].lon, p) for p in
                              ("gate_x", "city_ha_noi", "seaport_hai_phong")), "test")
    cat = Catalog(places=places, projects={}, links={}, corridors={"ec_x": corridor},
                  provinces=pd.DataFrame({"province_2024": ["Lào Cai"],
                                          "province_2025": ["Lào Cai"]}))
    master = MasterNetwork(nodes, edges, AssemblyReport())
    return master, cat


def _net(toy, year):
    master, cat = toy
    return AnalysisNetwork(str(year), tables_for_year(master, year), cat)


def test_gate_access_by_hand(toy):
    a = gate_access(_net(toy, 2025), "car").set_index("id").loc["gate_x"]
    assert a["time_h_to_ha_noi"] == pytest.approx(150 / 60)
    assert a["length_km_to_ha_noi"] == pytest.approx(150)
    assert a["time_h_to_hai_phong_seaport"] == pytest.approx(200 / 60)
    assert a["nearest_dry_port"] == "icd_x"
    assert a["time_h_to_nearest_dry_port"] == pytest.approx(100 / 60)
    assert a["time_h_to_capital"] == pytest.approx(50 / 60)
    assert "time_h_to_noi_bai_airport" not in a  # no airport in this network
    assert bool(a["reachable"])
    b = gate_access(_net(toy, 2028), "car").set_index("id").loc["gate_x"]
    assert b["time_h_to_ha_noi"] == pytest.approx(1.5)  # 150 km at 100 km/h
    assert b["time_h_to_expressway"] == pytest.approx(0.0)


def _with_second_gate(toy):
    """The toy with gate_y (node 5) 50 km beyond the seaport, by a 60 km/h road."""
    master, cat = toy
    gate_y = dataclasses.replace(cat.places["gate_x"], id="gate_y", lon=107.5)
    nodes = pd.concat([master.nodes, master.nodes.loc[[0]].assign(
        x=107.5, name="gate_y", place_id="gate_y",
        geometry=gpd.points_from_xy([107.5], [21.0])).set_axis([5])])
    nodes.index.name = "node"
    x = {i: 105.0 + 0.5 * i for i in range(6)}
    edges = master.edges.copy()
    for a, b in ((4, 5), (5, 4)):
        edges.loc[len(edges)] = {**edges.iloc[0].to_dict(), "u": a, "v": b,
                                 "source": "test:4-5", "length_km": 50.0,
                                 "geometry": LineString([(x[a], 21.0), (x[b], 21.0)])}
    cat2 = dataclasses.replace(cat, places={**cat.places, "gate_y": gate_y})
    return MasterNetwork(gpd.GeoDataFrame(nodes, crs="EPSG:4326"), edges, AssemblyReport()), cat2


def test_gate_matrix_both_ways_between_two_gates_by_hand(toy):
    master, cat = _with_second_gate(toy)
    m = gate_matrix(AnalysisNetwork("2025", tables_for_year(master, 2025), cat))
    # every ordered pair of distinct gates, never a gate with itself
    assert sorted(zip(m["from_id"], m["to_id"], strict=True)) == [("gate_x", "gate_y"),
                                                                  ("gate_y", "gate_x")]
    assert m["time_h"].tolist() == pytest.approx([250 / 60] * 2)  # five 50 km roads at 60
    assert m["length_km"].tolist() == pytest.approx([250.0] * 2)
    assert set(m["scenario"]) == {"2025"} and set(m["profile"]) == {"car"}
    # with the expressway of 2028: 150 km at 100 km/h, then 100 km at 60 km/h
    m28 = gate_matrix(AnalysisNetwork("2028", tables_for_year(master, 2028), cat))
    assert m28["time_h"].tolist() == pytest.approx([1.5 + 100 / 60] * 2)


def test_corridor_kpis_by_hand(toy):
    k = corridor_kpis(_net(toy, 2028), "car").set_index("id").loc["ec_x"]
    assert k["time_h"] == pytest.approx(1.5 + 50 / 60)
    assert k["length_km"] == pytest.approx(200)
    assert k["expressway_share"] == pytest.approx(150 / 200)
    assert k["avg_speed_kmh"] == pytest.approx(200 / (1.5 + 50 / 60))
    assert k["slowest_stretch"] == "city_ha_noi – seaport_hai_phong"
    assert k["detour_index"] == pytest.approx(200 / k["straight_km"])


def test_comparison_savings(toy):
    a, b = _net(toy, 2025), _net(toy, 2030)
    od = compare_od(gate_access(a), gate_access(b), ("2025", "2030")).set_index(
        ["id", "destination"])
    s = od.loc[("gate_x", "ha_noi")]
    assert s["saving_h"] == pytest.approx(2.5 - 1.5)
    assert s["saving_pct"] == pytest.approx(40.0)
    gates = compare_gates(gate_access(a), gate_access(b), ("2025", "2030"))
    assert gates.set_index("id").loc["gate_x", "saving_h_ha_noi"] == pytest.approx(1.0)
    cor = compare_corridors(corridor_kpis(a), corridor_kpis(b), ("2025", "2030"))
    assert cor.loc[0, "saving_h"] == pytest.approx(1.0)


def test_adding_a_project_never_makes_a_time_longer(toy):
    times = [gate_access(_net(toy, y))["time_h_to_ha_noi"].iloc[0] for y in (2025, 2028, 2029)]
    assert times[0] >= times[1] >= times[2]


def test_attribution_by_hand(toy):
    master, cat = toy
    t = attribute_projects(master, cat, 2025, 2030, profile="car").set_index("project")
    # removed from 2030: without the expressway the gate uses road 0-1 then the bypass:
    # 50/60 + 90/90 = 1.833 h to Hà Nội instead of 1.5 h (and +50/60 to the seaport leg alike)
    exp_removed = (50 / 60 + 1.0) - 1.5
    assert t.loc["p_expressway", "removed_od_hours"] == pytest.approx(2 * exp_removed)
    # added alone to 2025: 2.5 h -> 1.5 h to Hà Nội and to the seaport
    assert t.loc["p_expressway", "added_od_hours"] == pytest.approx(2 * 1.0)
    # the bypass brings nothing once the expressway is there, but does alone
    assert t.loc["p_bypass", "removed_od_hours"] == pytest.approx(0.0)
    assert t.loc["p_bypass", "added_od_hours"] == pytest.approx(2 * (2.5 - (50 / 60 + 1.0)))
    assert list(t["rank"].sort_values()) == [1, 2]
    assert t.loc["p_expressway", "rank"] == 1


def test_unreachable_gate_is_reported(toy):
    master, cat = toy
    cut = master.edges[~master.edges["source"].isin(["test:0-1"])]
    cut = cut[cut["project"].isna()]
    net = AnalysisNetwork("cut", tables_for_year(MasterNetwork(master.nodes, cut,
                                                               AssemblyReport()), 2025), cat)
    a = gate_access(net).set_index("id").loc["gate_x"]
    assert not a["reachable"] and np.isinf(a["time_h_to_ha_noi"])


def test_a_gate_joined_from_far_away_is_marked_unreliable(toy):
    master, cat = toy
    a = gate_access(_net(toy, 2025), "car").set_index("id").loc["gate_x"]
    assert a["gate_joined_from_km"] == 0.0 and bool(a["times_reliable"])
    # the gate's first 50 km become a straight join connector: its times rest on a stand-in
    edges = master.edges.copy()
    first = (edges["u"].isin([0, 1]) & edges["v"].isin([0, 1])).to_numpy()
    edges.loc[first, "source"] = "join"
    edges.loc[first, "class"] = "connector"
    far = (MasterNetwork(master.nodes, edges, AssemblyReport()), cat)
    b = gate_access(_net(far, 2025), "car").set_index("id").loc["gate_x"]
    assert b["gate_joined_from_km"] == 50.0 and not bool(b["times_reliable"])
