"""Tests of corridors.catalog.placement (border gate placement) and of the shipped gates of
places.yaml."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import geopandas as gpd
import pytest
import yaml
from corridors.layers.datadir import data_dir
from corridors.layers.region import read_layer
from shapely.geometry import LineString, MultiLineString, Point

from corridors.catalog.placement import (
    METRIC_CRS,
    border_point_at_road_end,
    border_point_nearest,
    check_places,
    compute_place,
    distance_to_border_m,
    road_ends,
    select_border,
    to_metric,
    to_wgs84,
)

REPO = Path(__file__).resolve().parents[1]

# A straight north-south "border" 20 km long on the UTM 48N central meridian (x = 500 000 m,
# about 105° E, 21.7–21.9° N), built in metres and handed to the functions in WGS 84.
X0, Y0, Y1 = 500_000.0, 2_400_000.0, 2_420_000.0
BORDER_M = LineString([(X0, Y0), (X0, Y1)])
BORDER = to_wgs84(BORDER_M)


def wgs(x: float, y: float) -> Point:
    """A WGS 84 point from UTM 48N metres."""
    return to_wgs84(Point(x, y))


def metric_xy(lon: float, lat: float) -> tuple[float, float]:
    p = to_metric(Point(lon, lat))
    return p.x, p.y


def roads_frame(*rows: tuple[str, LineString], ref: bool = False) -> gpd.GeoDataFrame:
    """A roads layer (WGS 84) from (name, metric line) pairs."""
    data = {"name": [r[0] for r in rows], "geometry": [to_wgs84(r[1]) for r in rows]}
    if ref:
        data["ref"] = [None] * len(rows)
    return gpd.GeoDataFrame(data, crs="EPSG:4326")


# -- border_point_nearest ------------------------------------------------------------------------

def test_nearest_is_foot_of_perpendicular_1km():
    placed = border_point_nearest(BORDER, wgs(X0 + 1000, 2_410_000))
    x, y = metric_xy(placed.lon, placed.lat)
    assert x == pytest.approx(X0, abs=0.01)
    assert y == pytest.approx(2_410_000, abs=0.01)
    assert placed.offset_m == pytest.approx(1000, abs=1)
    # the anchor is reported back
    ax, ay = metric_xy(placed.from_lon, placed.from_lat)
    assert (ax, ay) == pytest.approx((X0 + 1000, 2_410_000), abs=0.01)


def test_nearest_from_the_other_side_and_beyond_the_end():
    west = border_point_nearest(BORDER, wgs(X0 - 2500, 2_405_000))
    assert metric_xy(west.lon, west.lat) == pytest.approx((X0, 2_405_000), abs=0.01)
    assert west.offset_m == pytest.approx(2500, abs=1)
    # beyond the north end the nearest point is the end itself, at 3-4-5 distance
    beyond = border_point_nearest(BORDER, wgs(X0 + 3000, Y1 + 4000))
    assert metric_xy(beyond.lon, beyond.lat) == pytest.approx((X0, Y1), abs=0.01)
    assert beyond.offset_m == pytest.approx(5000, abs=1)


def test_nearest_accepts_geodataframes_in_any_crs():
    frame = gpd.GeoDataFrame({"neighbour": ["CHN"]}, geometry=[BORDER_M], crs=METRIC_CRS)
    a = border_point_nearest(frame, wgs(X0 + 1000, 2_410_000))
    b = border_point_nearest(frame.to_crs("EPSG:4326"), wgs(X0 + 1000, 2_410_000))
    assert (a.lat, a.lon) == pytest.approx((b.lat, b.lon), abs=1e-9)
    assert a.rounded() == (round(a.lat, 5), round(a.lon, 5))


def test_nearest_picks_the_closer_of_two_lines():
    east = LineString([(X0 + 5000, Y0), (X0 + 5000, Y1)])
    both = to_wgs84(MultiLineString([BORDER_M, east]))
    placed = border_point_nearest(both, wgs(X0 + 4000, 2_410_000))
    assert metric_xy(placed.lon, placed.lat) == pytest.approx((X0 + 5000, 2_410_000), abs=0.01)
    assert placed.offset_m == pytest.approx(1000, abs=1)


def test_distance_to_border_in_metres():
    assert distance_to_border_m(BORDER, wgs(X0 + 1234, 2_410_000)) == pytest.approx(1234, abs=1)


def test_nearest_rejects_non_points():
    with pytest.raises(TypeError):
        border_point_nearest(BORDER, BORDER)  # type: ignore[arg-type]


def test_geoseries_without_crs_is_refused():
    with pytest.raises(ValueError, match="CRS"):
        border_point_nearest(gpd.GeoSeries([BORDER]), wgs(X0 + 1000, 2_410_000))


# -- border_point_at_road_end --------------------------------------------------------------------

def test_road_end_projected_onto_border():
    roads = roads_frame(
        ("Quốc lộ 99", LineString([(X0 + 30_000, 2_412_000), (X0 + 500, 2_412_000)])),
        ("Quốc lộ 98", LineString([(X0 + 300, 2_401_000), (X0 + 20_000, 2_401_000)])),
    )
    placed = border_point_at_road_end(BORDER, roads, "Quốc lộ 99")
    assert metric_xy(placed.lon, placed.lat) == pytest.approx((X0, 2_412_000), abs=0.01)
    assert placed.offset_m == pytest.approx(500, abs=1)
    assert metric_xy(placed.from_lon, placed.from_lat) == pytest.approx((X0 + 500, 2_412_000),
                                                                         abs=0.01)
    # names match without case or diacritics
    again = border_point_at_road_end(BORDER, roads, "quoc lo 99")
    assert (again.lat, again.lon) == (placed.lat, placed.lon)


def test_road_end_of_a_road_in_several_pieces():
    roads = roads_frame(
        ("Quốc lộ 12", LineString([(X0 + 40_000, 2_415_000), (X0 + 10_000, 2_415_000)])),
        ("Quốc lộ 12", LineString([(X0 + 10_000, 2_415_000), (X0 + 800, 2_416_000)])),
    )
    ends = road_ends(roads, "Quốc lộ 12")
    assert len(ends) == 2  # the joint between the pieces is not an end
    placed = border_point_at_road_end(BORDER, roads, "Quốc lộ 12")
    assert metric_xy(placed.lon, placed.lat) == pytest.approx((X0, 2_416_000), abs=0.01)
    assert placed.offset_m == pytest.approx(800, abs=1)


def test_road_matched_by_ref_column():
    roads = roads_frame(("Quốc lộ 34", LineString([(X0 + 9000, Y0), (X0 + 100, 2_403_000)])),
                        ref=True)
    roads["ref"] = ["QL34"]
    placed = border_point_at_road_end(BORDER, roads, "QL34")
    assert metric_xy(placed.lon, placed.lat) == pytest.approx((X0, 2_403_000), abs=0.01)


def test_missing_road_raises_naming_the_road():
    roads = roads_frame(("Quốc lộ 99", LineString([(X0 + 900, Y0), (X0 + 9000, Y0)])))
    with pytest.raises(ValueError, match="Quốc lộ 4Z"):
        border_point_at_road_end(BORDER, roads, "Quốc lộ 4Z")


def test_far_road_raises_naming_the_road_and_distance():
    roads = roads_frame(("Quốc lộ 70", LineString([(X0 + 20_000, 2_410_000),
                                                   (X0 + 60_000, 2_410_000)])))
    with pytest.raises(ValueError, match=r"Quốc lộ 70.*20\.0 km"):
        border_point_at_road_end(BORDER, roads, "Quốc lộ 70")
    # a larger limit accepts it
    placed = border_point_at_road_end(BORDER, roads, "Quốc lộ 70", max_distance_m=25_000)
    assert placed.offset_m == pytest.approx(20_000, abs=1)


# -- catalog entries -----------------------------------------------------------------------------

def _border_layer() -> gpd.GeoDataFrame:
    lao = LineString([(X0 - 50_000, Y0), (X0 - 50_000, Y1)])
    return gpd.GeoDataFrame({"neighbour": ["CHN", "LAO"]},
                            geometry=[BORDER, to_wgs84(lao)], crs="EPSG:4326")


def test_compute_place_uses_the_gate_neighbour():
    border = _border_layer()
    roads = roads_frame(("Quốc lộ 99", LineString([(X0 - 30_000, 2_410_000),
                                                   (X0 - 45_000, 2_410_000)])))
    anchor = wgs(X0 - 30_000, 2_405_000)
    e = {"location_method": "border_nearest_anchor", "neighbour": "LAO",
         "anchor": {"name": "a", "lat": anchor.y, "lon": anchor.x, "source": "test"}}
    placed = compute_place(e, border, roads)
    assert metric_xy(placed.lon, placed.lat) == pytest.approx((X0 - 50_000, 2_405_000), abs=0.01)
    e["neighbour"] = "CHN"
    placed = compute_place(e, border, roads)
    assert metric_xy(placed.lon, placed.lat) == pytest.approx((X0, 2_405_000), abs=0.01)
    road = {"location_method": "border_road_end", "neighbour": "LAO", "access_road": "Quốc lộ 99"}
    placed = compute_place(road, border, roads)
    assert metric_xy(placed.lon, placed.lat) == pytest.approx((X0 - 50_000, 2_410_000), abs=0.01)


@pytest.mark.parametrize("entry, message", [
    ({"location_method": "border_road_end"}, "access_road"),
    ({"location_method": "border_nearest_anchor", "anchor": {"name": "x"}}, "anchor"),
    ({"location_method": "published"}, "not computed"),
    ({"location_method": "border_road_end", "access_road": "QL1", "neighbour": "KHM"},
     "neighbour"),
])
def test_compute_place_errors(entry, message):
    with pytest.raises(ValueError, match=message):
        compute_place(entry, _border_layer(), roads_frame())


def test_select_border_unknown_neighbour():
    with pytest.raises(ValueError, match="CHN, LAO"):
        select_border(_border_layer(), "THA")


def test_check_places_flags_a_moved_gate():
    border = _border_layer()
    anchor = wgs(X0 + 1000, 2_410_000)
    on_line = wgs(X0, 2_410_000)
    moved = wgs(X0, 2_410_100)
    base = {"kind": "border_gate", "neighbour": "CHN", "location_method": "border_nearest_anchor",
            "anchor": {"name": "a", "lat": anchor.y, "lon": anchor.x, "source": "test"}}
    entries = [
        {**base, "id": "gate_ok", "lat": on_line.y, "lon": on_line.x},
        {**base, "id": "gate_moved", "lat": moved.y, "lon": moved.x},
        {"id": "city_x", "kind": "city", "location_method": "published", "lat": 21.0,
         "lon": 105.0},
    ]
    rows = {r.id: r for r in check_places(entries, border, roads_frame())}
    assert set(rows) == {"gate_ok", "gate_moved"}  # cities are not checked
    assert rows["gate_ok"].difference_m == pytest.approx(0, abs=0.01)
    assert rows["gate_moved"].difference_m == pytest.approx(100, abs=0.5)
    assert rows["gate_moved"].border_distance_m == pytest.approx(0, abs=0.01)


# -- the shipped catalog on the embedded data ----------------------------------------------------

@pytest.fixture(scope="module")
def shipped_places() -> list[dict]:
    doc = yaml.safe_load((data_dir() / "catalog" / "places.yaml").read_text(encoding="utf-8"))
    return doc["places"]


@pytest.fixture(scope="module")
def shipped_checks(shipped_places):
    return check_places(shipped_places, read_layer("border"), read_layer("roads"))


def test_every_shipped_gate_lies_within_2km_of_its_border(shipped_places, shipped_checks):
    gates = [e["id"] for e in shipped_places if e["kind"] == "border_gate"]
    assert len(gates) >= 20
    checked = {r.id: r for r in shipped_checks}
    assert set(gates) <= set(checked)
    far = {g: round(checked[g].border_distance_m) for g in gates
           if checked[g].border_distance_m > 2000}
    assert not far, f"gates farther than 2 km from the border line: {far}"


def test_every_computed_gate_reproduces_within_50m(shipped_checks):
    computed = [r for r in shipped_checks
                if r.method in ("border_road_end", "border_nearest_anchor")]
    assert len(computed) >= 10
    errors = {r.id: r.error for r in computed if r.error}
    assert not errors
    off = {r.id: round(r.difference_m, 1) for r in computed if r.difference_m > 50}
    assert not off, f"catalog differs from the computation by more than 50 m: {off}"


def test_shipped_gate_fields(shipped_places):
    by_id = {e["id"]: e for e in shipped_places}
    for e in shipped_places:
        if e["location_method"] == "border_road_end":
            assert e.get("access_road"), e["id"]
        if e["location_method"] == "border_nearest_anchor":
            assert {"name", "lat", "lon", "source"} <= set(e["anchor"]), e["id"]
        if e["kind"] == "bgez":
            assert all(by_id[g]["kind"] == "border_gate" for g in e["gates"]), e["id"]
    for gid in ("gate_long_sap", "gate_chieng_khuong", "gate_tay_trang"):
        assert by_id[gid]["bgez_policy"] is True
    assert by_id["gate_u_ma_tu_khoang"]["bgez_study"] is True
    assert sum(e["kind"] == "bgez" for e in shipped_places) == 5


def test_place_gates_script_check_passes(capsys):
    spec = importlib.util.spec_from_file_location("place_gates", REPO / "scripts" /
                                                  "place_gates.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0
    out = capsys.readouterr().out
    assert "gate_ma_lu_thang" in out and "border_road_end" in out


def test_place_gates_script_check_fails_on_a_moved_gate(tmp_path, shipped_places):
    spec = importlib.util.spec_from_file_location("place_gates", REPO / "scripts" /
                                                  "place_gates.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    places = [dict(e) for e in shipped_places]
    for e in places:
        if e["id"] == "gate_ma_lu_thang":
            e["lat"] = e["lat"] + 0.001  # about 110 m north
    path = tmp_path / "places.yaml"
    path.write_text(yaml.safe_dump({"places": places}, allow_unicode=True), encoding="utf-8")
    assert module.main(["--catalog", str(path), "--check"]) == 1
    assert module.main(["--catalog", str(path)]) == 0  # without --check it only reports
