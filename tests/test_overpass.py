"""Overpass downloads (``layers.overpass.download_osm``, ``corridors build --overpass``) without
network: OSMnx's request function is replaced by canned Overpass JSON answers, and any real
HTTP request fails the test."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import osmnx as ox
import pyrosm
import pytest
import requests
from corridors.layers.osm import OsmReadError, download_osm, read_osm
from corridors.layers.osm_selection import (
    RAILWAY_TYPES,
    ROAD_HIGHWAYS,
    STATION_TYPES,
    WATERWAY_TYPES,
)
from corridors.layers.overpass import OVERPASS_SELECTION
from osmnx import _overpass
from osmnx._errors import ResponseStatusCodeError
from shapely.geometry import box

from corridors.build.pipeline import load_backbone
from tests.helpers import run

TEST_PBF = Path(pyrosm.__file__).parent / "data" / "test.osm.pbf"
#: Header extent of test.osm.pbf (west, south, east, north), rounded inwards a little.
TEST_BBOX = (26.93, 60.52, 26.97, 60.54)
#: Area of the synthetic answer (near Hữu Nghị).
VN_BBOX = (106.69, 21.87, 106.76, 21.93)


# --------------------------------------------------------------------------------------------
# canned answers and a fake server
# --------------------------------------------------------------------------------------------

def _synthetic_answer() -> dict:
    """Overpass JSON: two roads (a trunk through a border control, a secondary), a railway
    with a station, an aerodrome area, a heliport-sized aerodrome mapped as a multipolygon
    relation, and a river, with the nodes of their ways."""
    coords = {1: (106.70, 21.90), 2: (106.71, 21.90), 3: (106.72, 21.90), 4: (106.73, 21.90),
              5: (106.74, 21.90), 6: (106.75, 21.91), 10: (106.71, 21.89),
              11: (106.71, 21.91), 12: (106.72, 21.91), 20: (106.728, 21.918),
              21: (106.732, 21.918), 22: (106.732, 21.922), 23: (106.728, 21.922),
              30: (106.70, 21.88), 31: (106.74, 21.88), 40: (106.745, 21.905),
              41: (106.746, 21.905), 42: (106.746, 21.906)}
    node_tags = {3: {"barrier": "border_control", "name": "Cửa khẩu Thử"},
                 12: {"railway": "station", "name": "Ga Thử"}}
    ways = {100: ([1, 2, 3, 4, 5], {"highway": "trunk", "ref": "QL.1", "maxspeed": "80"}),
            700: ([5, 6], {"highway": "secondary", "name": "ĐT.235 & \"cũ\""}),
            200: ([10, 2, 11, 12], {"railway": "rail", "gauge": "1000;1435"}),
            300: ([20, 21, 22, 23, 20], {"aeroway": "aerodrome", "name": "Sân bay Thử",
                                         "icao": "VVXX", "iata": "XXX"}),
            400: ([30, 31], {"waterway": "river", "name": "Sông Thử", "CEMT": "III"}),
            410: ([40, 41, 42, 40], {})}
    elements = [{"type": "node", "id": i, "lat": y, "lon": x,
                 **({"tags": node_tags[i]} if i in node_tags else {})}
                for i, (x, y) in coords.items()]
    elements += [{"type": "way", "id": i, "nodes": nds, **({"tags": t} if t else {})}
                 for i, (nds, t) in ways.items()]
    elements.append({"type": "relation", "id": 900,
                     "members": [{"type": "way", "ref": 410, "role": "outer"}],
                     "tags": {"type": "multipolygon", "aeroway": "aerodrome",
                              "name": "Trực thăng Thử"}})
    return {"version": 0.6, "generator": "Overpass API 0.7.62",
            "osm3s": {"timestamp_osm_base": "2026-11-01T00:00:00Z",
                      "copyright": "The data included in this document is from "
                                   "www.openstreetmap.org."},
            "elements": elements}


def _selected(tags: dict, kind: str) -> bool:
    """Whether the Overpass selection of ``layers.osm`` picks an element with ``tags``."""
    if tags.get("aeroway") == "aerodrome":
        return True
    if kind == "way":
        return (tags.get("highway") in ROAD_HIGHWAYS or tags.get("railway") in RAILWAY_TYPES
                or tags.get("waterway") in WATERWAY_TYPES)
    if kind == "node":
        return tags.get("railway") in STATION_TYPES or tags.get("barrier") == "border_control"
    return False


@pytest.fixture(scope="module")
def test_pbf_answer(tmp_path_factory) -> dict:
    """What Overpass would answer for test.osm.pbf's area: the selected elements of the real
    extract (converted to XML with pyosmium, then to Overpass JSON with OSMnx's reader) with
    the nodes of the selected ways, as ``(._;>;);out;`` returns them."""
    osmium = pytest.importorskip("osmium")
    from osmnx._osm_xml import _overpass_json_from_xml

    xml = tmp_path_factory.mktemp("pbf") / "test.osm"
    with osmium.SimpleWriter(str(xml)) as writer:
        for obj in osmium.FileProcessor(str(TEST_PBF)):
            writer.add(obj)
    elements = _overpass_json_from_xml(xml, "utf-8")["elements"]
    picked = [e for e in elements if e["type"] != "node" and _selected(e["tags"], e["type"])]
    refs = {n for e in picked for n in e.get("nodes", ())}
    picked += [e for e in elements if e["type"] == "node"
               and (e["id"] in refs or _selected(e["tags"], "node"))]
    return {"version": 0.6, "elements": picked}


class FakeOverpass:
    """Stands in for the Overpass server: records the queries, returns ``answer`` or raises
    ``error``; ``status_error`` makes the reachability check fail."""

    def __init__(self, answer: dict | None = None, error: Exception | None = None,
                 status_error: Exception | None = None):
        self.answer, self.error, self.status_error = answer, error, status_error
        self.queries: list[str] = []
        self.status_checks = 0

    def request(self, data: OrderedDict) -> dict:
        self.queries.append(data["data"])
        if self.error is not None:
            raise self.error
        return self.answer

    def get(self, url, *args, **kwargs):
        assert url.endswith("/status"), f"unexpected HTTP GET {url}"
        self.status_checks += 1
        if self.status_error is not None:
            raise self.status_error
        return object()


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Fail on any real HTTP request."""
    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to use the network")

    monkeypatch.setattr(requests, "get", refuse)
    monkeypatch.setattr(requests, "post", refuse)
    monkeypatch.setattr(requests.Session, "request", refuse)
    monkeypatch.setattr(_overpass, "_overpass_request", refuse)


@pytest.fixture
def serve(monkeypatch):
    """Install a :class:`FakeOverpass` and return it."""
    def install(**kwargs) -> FakeOverpass:
        fake = FakeOverpass(**kwargs)
        monkeypatch.setattr(_overpass, "_overpass_request", fake.request)
        monkeypatch.setattr(requests, "get", fake.get)
        return fake

    return install


@pytest.fixture
def own_cache(tmp_path, monkeypatch) -> Path:
    """A corridors cache folder of this test only (downloads are cached by bbox)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("CORRIDORS_CACHE_DIR", str(folder))
    return folder



# --------------------------------------------------------------------------------------------
# download_osm
# --------------------------------------------------------------------------------------------

def test_download_writes_xml_that_read_osm_reads(tmp_path, serve):
    fake = serve(answer=_synthetic_answer())
    out = download_osm(VN_BBOX, out_path=tmp_path / "area.osm", cache_folder=tmp_path / "c")
    assert out == tmp_path / "area.osm" and out.read_bytes().startswith(b"<?xml")
    assert len(fake.queries) == 1 and fake.status_checks == 1
    data = read_osm(out)
    assert sorted(set(data.road_edges["osm_id"])) == [100, 700]
    # the trunk is split at the border control and at the road vertex nearest the aerodrome
    assert len(data.road_edges) == 4
    assert len(data.railways) == 1 and data.railways.at[0, "gauge"] == "1000;1435"
    assert data.rail_stations["name"].tolist() == ["Ga Thử"]
    assert data.rail_stations.at[0, "rail_node"] == 12
    assert len(data.waterways) == 1 and data.waterways.at[0, "CEMT"] == "III"
    assert data.aerodromes[["osm_id", "osm_type"]].values.tolist() == [[300, "way"],
                                                                      [900, "relation"]]
    assert data.aerodromes.at[0, "icao"] == "VVXX"
    assert data.border_controls["name"].tolist() == ["Cửa khẩu Thử"]
    assert data.border_controls.at[0, "road_node"] == 3
    # tags with XML special characters survive; <bounds> give the requested area as extent
    assert '"cũ"' in data.road_edges.set_index("osm_id").at[700, "name"]
    assert data.extent == pytest.approx(VN_BBOX)
    assert b'copyright="OpenStreetMap and contributors"' in out.read_bytes()


def test_query_holds_the_area_and_the_tag_filters(tmp_path, serve):
    fake = serve(answer=_synthetic_answer())
    download_osm(VN_BBOX, out_path=tmp_path / "area.osm")
    (query,) = fake.queries
    assert query.startswith("[out:json][timeout:")
    w, s, e, n = VN_BBOX
    corners = [f"{lat:.6f} {lon:.6f}" for lat in (s, n) for lon in (w, e)]
    assert all(c in query for c in corners)            # poly:"lat lon ..." of the bbox
    assert query.count("(poly:") == len(OVERPASS_SELECTION)
    assert 'way["highway"~"^(motorway|trunk|primary|secondary|tertiary|motorway_link|' in query
    assert "|".join(ROAD_HIGHWAYS) in query and "residential" not in query
    assert 'way["railway"~"^(rail|narrow_gauge|light_rail|subway|tram)$"]' in query
    assert 'way["waterway"~"^(river|canal)$"]' in query
    assert 'node["railway"~"^(station|halt)$"]' in query
    assert 'nwr["aeroway"="aerodrome"]' in query
    assert 'node["barrier"="border_control"]' in query
    assert query.endswith(");(._;>;);out;")            # with the nodes of the ways


def test_download_of_real_extract_data_matches_the_pbf(tmp_path, serve, test_pbf_answer):
    serve(answer=test_pbf_answer)
    out = download_osm(TEST_BBOX, out_path=tmp_path / "kouvola.osm.gz")   # gzip by suffix
    from_overpass, from_pbf = read_osm(out), read_osm(TEST_PBF)
    for name in ("road_edges", "railways"):
        a, b = getattr(from_pbf, name), getattr(from_overpass, name)
        assert len(a) == len(b) > 0
        assert a[["u", "v", "osm_id"]].values.tolist() == b[["u", "v", "osm_id"]].values.tolist()
        assert a.geometry.geom_equals_exact(b.geometry, 1e-9).all()
    assert len(from_overpass.road_nodes) == len(from_pbf.road_nodes)


def test_large_area_is_split_and_merged(tmp_path, serve, monkeypatch):
    monkeypatch.setattr(ox.settings, "max_query_area_size", 1e7)   # about 3 x 3 km
    fake = serve(answer=_synthetic_answer())
    out = download_osm(VN_BBOX, out_path=tmp_path / "area.osm")
    assert len(fake.queries) > 1
    data = read_osm(out)                               # duplicates across answers merged
    assert len(data.road_edges) == 4 and len(data.border_controls) == 1


def test_polygon_area(tmp_path, serve):
    fake = serve(answer=_synthetic_answer())
    area = box(*VN_BBOX).buffer(-0.005)
    download_osm(polygon=area, out_path=tmp_path / "area.osm")
    w, s, _, _ = area.bounds
    assert f"{s:.6f} {w:.6f}" in fake.queries[0]


def test_osmnx_settings_are_restored(tmp_path, serve):
    serve(answer=_synthetic_answer())
    before = (ox.settings.cache_folder, ox.settings.use_cache)
    download_osm(VN_BBOX, out_path=tmp_path / "a.osm", cache_folder=tmp_path / "c",
                 use_cache=False)
    assert (ox.settings.cache_folder, ox.settings.use_cache) == before


# --------------------------------------------------------------------------------------------
# failures
# --------------------------------------------------------------------------------------------

def _assert_clear(message: str) -> None:
    assert "Overpass download of the area lon 106.6900..106.7600, lat 21.8700..21.9300" in message
    assert "--osm" in message and "geofabrik" in message.lower()


def test_offline_fails_at_once(tmp_path, serve):
    fake = serve(status_error=requests.ConnectionError("Name or service not known"))
    with pytest.raises(OsmReadError) as info:
        download_osm(VN_BBOX, out_path=tmp_path / "area.osm")
    _assert_clear(str(info.value))
    assert "cannot connect to https://" in str(info.value)
    assert fake.queries == []                          # no 60 s pause inside OSMnx
    assert not list(tmp_path.iterdir())                # nothing written


@pytest.mark.parametrize(("error", "cause"), [
    (requests.ConnectionError("connection reset"), "cannot connect"),
    (requests.ReadTimeout("read timed out"), "did not answer in time"),
    (ResponseStatusCodeError("'overpass-api.de' responded: 400 Bad Request"), "refused"),
])
def test_request_errors(tmp_path, serve, error, cause):
    serve(error=error)
    with pytest.raises(OsmReadError, match=cause) as info:
        download_osm(VN_BBOX, out_path=tmp_path / "area.osm")
    _assert_clear(str(info.value))
    assert not (tmp_path / "area.osm").exists()


def test_server_remark_is_an_error(tmp_path, serve):
    answer = {**_synthetic_answer(), "remark": 'runtime error: Query timed out in "query" at '
                                              "line 1 after 181 seconds."}
    serve(answer=answer)
    with pytest.raises(OsmReadError, match="stopped the query: runtime error: Query timed out"):
        download_osm(VN_BBOX, out_path=tmp_path / "area.osm")
    assert not (tmp_path / "area.osm").exists()


def test_bad_arguments(tmp_path, serve):
    serve(answer=_synthetic_answer())
    with pytest.raises(ValueError, match="bbox or a polygon"):
        download_osm(out_path=tmp_path / "a.osm")
    with pytest.raises(ValueError, match="must end with"):
        download_osm(VN_BBOX, out_path=tmp_path / "a.osm.pbf")
    with pytest.raises(OsmReadError, match="Overpass download: bbox"):
        download_osm((106.8, 21.9, 106.7, 22.0), out_path=tmp_path / "a.osm")


def test_load_backbone_overpass_needs_a_bbox(own_cache):
    with pytest.raises(OsmReadError, match="needs a bbox"):
        load_backbone("overpass")


# --------------------------------------------------------------------------------------------
# corridors build --overpass
# --------------------------------------------------------------------------------------------

def test_overpass_without_bbox_is_a_usage_error(tmp_path):
    res = run("build", "--year", 2025, "--overpass", "--out", tmp_path)
    assert res.exit_code == 2 and "--overpass needs --bbox" in res.output


def test_overpass_and_osm_exclude_each_other(tmp_path):
    res = run("build", "--year", 2025, "--overpass", "--osm", TEST_PBF,
              "--bbox", *TEST_BBOX, "--out", tmp_path)
    assert res.exit_code == 2 and "exclude each other" in res.output


def test_cli_connection_error_is_clear(tmp_path, serve, own_cache):
    serve(status_error=requests.ConnectionError("Name or service not known"))
    out = tmp_path / "out"
    res = run("build", "--year", 2025, "--overpass", "--bbox", *VN_BBOX, "--out", out)
    assert res.exit_code == 1
    _assert_clear(res.output)
    assert "Traceback" not in res.output
    assert not out.exists() or not any(out.iterdir())
    assert not list(own_cache.glob("overpass-*.osm"))


def test_cli_builds_from_overpass_and_reuses_the_download(tmp_path, serve, own_cache,
                                                          test_pbf_answer):
    fake = serve(answer=test_pbf_answer)
    res = run("build", "--year", 2030, "--overpass", "--bbox", *TEST_BBOX,
              "--out", tmp_path / "a", "--allow-empty")  # the test area lies outside Vietnam
    assert res.exit_code == 0, res.output
    (osm,) = own_cache.glob("overpass-*.osm")
    assert f"from {osm}" in res.output and "wrote" in res.output
    assert len(fake.queries) == 1
    # again, offline: the download is in the cache folder
    serve(status_error=requests.ConnectionError("offline"), error=AssertionError("no call"))
    res = run("build", "--year", 2030, "--overpass", "--bbox", *TEST_BBOX,
              "--out", tmp_path / "b", "--allow-empty")
    assert res.exit_code == 0, res.output
    # --no-cache downloads anew (and fails offline)
    res = run("build", "--year", 2030, "--overpass", "--bbox", *TEST_BBOX, "--no-cache",
              "--out", tmp_path / "c", "--allow-empty")
    assert res.exit_code == 1 and "cannot connect" in res.output
    assert osm.exists()                                # the earlier download is kept
