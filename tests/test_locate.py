"""What a user types, turned into a node (corridors.analysis.locate): catalog places in any
spelling, BGEZs, "lat,lon" snapped to an ordinary road, and the errors, on the 2025 network."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from pyproj import Geod

from corridors.analysis.locate import MAX_SNAP_KM, locate
from corridors.build.analysis_network import AnalysisNetwork


@pytest.fixture(scope="module")
def net(base_builds) -> AnalysisNetwork:
    b = base_builds[2025]
    return AnalysisNetwork("2025", b.tables, b.catalog)


@pytest.mark.parametrize("query", ["Lào Cai", "lao cai", "LAO CAI", "city_lao_cai"])
def test_a_place_in_any_spelling_is_its_node(net, query):
    got = locate(net, query)
    assert (got.place_id, got.label, got.snap_km) == ("city_lao_cai", "Lào Cai", 0.0)
    assert got.node == net.node_of("city_lao_cai")
    assert (got.lat, got.lon) == (22.483, 103.95) and got.query == query


def test_a_bgez_is_located_at_its_first_gate_in_the_network(net):
    got = locate(net, "bgez_lao_cai")
    assert got.place_id == "gate_lao_cai_road" and got.node == net.node_of("gate_lao_cai_road")
    # a BGEZ none of whose gates is in the network cannot be located
    bgez = net.catalog.places["bgez_thanh_thuy"]
    nodes = net.tables.nodes.copy()
    nodes.loc[nodes["place_id"] == "gate_thanh_thuy", "place_id"] = None
    gone = AnalysisNetwork("2025", dataclasses.replace(net.tables, nodes=nodes), net.catalog)
    with pytest.raises(LookupError, match=f"{bgez.name_vi} has no gate in the 2025 network"):
        locate(gone, "bgez_thanh_thuy")


def test_a_coordinate_snaps_to_the_nearest_ordinary_road_node(net):
    got = locate(net, " 21.03 , 105.85 ")
    assert got.place_id is None and got.label == "21.03000,105.85000"
    assert (got.lat, got.lon) == (21.03, 105.85)
    e = net.tables.edges
    ordinary = e[(e["mode"] == "road") & (e["class"] != "expressway")]
    assert got.node in set(ordinary["u"]) | set(ordinary["v"])
    ids = np.unique(ordinary[["u", "v"]].to_numpy())
    xy = net.tables.nodes.loc[ids, ["x", "y"]].to_numpy()
    d_km = Geod(ellps="WGS84").inv(np.full(len(xy), 105.85), np.full(len(xy), 21.03),
                                   xy[:, 0], xy[:, 1])[2] / 1000
    assert got.snap_km == pytest.approx(d_km.min(), abs=1e-3) and got.snap_km < 5
    assert int(ids[np.argmin(d_km)]) == got.node


def test_a_coordinate_far_from_every_road_is_refused_with_the_distance(net):
    with pytest.raises(LookupError) as err:
        locate(net, "10.8,106.6")  # Hồ Chí Minh City, far south of the study area
    message = str(err.value)
    assert message.startswith("(10.8, 106.6) lies ") and "km from the nearest road" in message
    assert f"at most {MAX_SNAP_KM:g} km" in message
    assert int(message.split(" lies ")[1].split(" km")[0]) > 900


@pytest.mark.parametrize("query", ["95,105.8", "21.0,181"])
def test_a_coordinate_off_the_earth_is_refused(net, query):
    with pytest.raises(LookupError, match=f"'{query}' is not a valid 'lat,lon'"):
        locate(net, query)


def test_a_planned_facility_not_open_yet_is_named(net):
    with pytest.raises(LookupError, match=r"Sa Pa .*\(airport_sa_pa\) is not in the 2025 network"):
        locate(net, "airport_sa_pa")


def test_an_unknown_place_suggests_close_names(net):
    with pytest.raises(LookupError, match="no catalog place matches 'Lao Kai'; did you mean: "):
        locate(net, "Lao Kai")
