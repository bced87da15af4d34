"""The backbone cache (corridors.build.cache): exact round trips, broken and crafted entries,
concurrent
writers, the size bound, and ``corridors cache info|clear``."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import pickle
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from corridors.network.backbone import Backbone

from corridors.build import cache
from corridors.build.pipeline import _backbone_key, load_backbone
from corridors.catalog.route_lengths import read_route_sections
from tests.helpers import run


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    """A cache folder of this test only."""
    path = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_ENV, str(path))
    monkeypatch.delenv(cache.MAX_ENTRIES_ENV, raising=False)
    return path


@pytest.fixture(scope="module")
def fresh() -> Backbone:
    """The embedded backbone, built anew."""
    return load_backbone(use_cache=False)


@pytest.fixture(scope="module")
def embedded_key(shipped_catalog) -> str:
    """The cache key of the embedded backbone (as load_backbone computes it)."""
    return _backbone_key(None, None, None, read_route_sections(shipped_catalog))


def assert_same(a: Backbone, b: Backbone) -> None:
    for left, right in ((a.nodes, b.nodes), (a.edges, b.edges)):
        pd.testing.assert_frame_equal(left, right, check_index_type=True, check_exact=True)
        assert left.crs == right.crs
        for col in left.columns:  # None stays None, NaN stays NaN, ints stay ints
            if left[col].dtype == object and col != left.geometry.name:
                assert [type(v) for v in left[col]] == [type(v) for v in right[col]], col
    assert (a.report, a.source, a.metric_crs) == (b.report, b.source, b.metric_crs)


def tiny(tag: str = "x") -> Backbone:
    """A small backbone with every awkward column type (node ids not 0..n-1)."""
    nodes = gpd.GeoDataFrame(
        {"kind": ["junction", "gate", "place"], "name": [None, "Hữu Nghị", float("nan")],
         "x": [105.0, 106.0, 107.0], "y": [21.0, 22.0, 21.5]},
        geometry=[shapely.Point(105, 21), shapely.Point(106, 22), shapely.Point(107, 21.5)],
        index=pd.Index([10, 42, 7], name="node"), crs="EPSG:4326")
    edges = gpd.GeoDataFrame(
        {"u": [10, 42], "v": [42, 7], "lanes": [None, 4], "schematic": [True, False],
         "flag": [None, True], "open_year": [2030, None], "speed": [None, 80.0],
         "mixed": ["a", 3], "empty": [None, None], "length_km": [1.5, float("nan")]},
        geometry=[shapely.LineString([(105, 21), (106, 22)]),
                  shapely.LineString([(106, 22), (107, 21.5)])], crs="EPSG:4326")
    for col in ("lanes", "flag", "open_year", "speed", "mixed", "empty"):
        edges[col] = edges[col].astype(object)
    edges.loc[0, "open_year"] = None
    edges["lanes"] = pd.Series([None, 4], dtype=object)
    return Backbone(nodes=nodes, edges=edges, report={"tag": tag, "n": [1, 2.5, None]},
                    source=f"test-{tag}")


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "corridors.build.cache" and r.levelno == logging.WARNING]


def test_round_trip_equals_a_fresh_build(folder, fresh, embedded_key, monkeypatch):
    builds = []

    def build_backbone(**kwargs):  # the embedded build (``fresh``), counted
        builds.append(kwargs)
        return fresh

    monkeypatch.setattr("corridors.build.pipeline.build_backbone", build_backbone)
    first = load_backbone()  # builds and caches
    assert (cache.entry_path(folder, embedded_key) / "manifest.json").is_file()
    second = load_backbone()  # reads the entry
    assert len(builds) == 1 and second is not fresh
    assert_same(fresh, first)
    assert_same(fresh, second)  # every column and type back from the GeoParquet entry
    assert not list(folder.glob("*.pkl"))


def test_round_trip_of_awkward_columns(folder):
    bb = tiny()
    cache.write_backbone(folder, "k", bb)
    back = cache.read_backbone(folder, "k")
    assert_same(bb, back)
    assert back.edges.loc[1, "lanes"] == 4 and type(back.edges.loc[1, "lanes"]) is int
    assert back.edges.loc[0, "lanes"] is None
    manifest = json.loads((cache.entry_path(folder, "k") / "manifest.json").read_text())
    assert manifest["format"] == cache.FORMAT and manifest["key"] == "k"
    assert set(manifest["files"]) == {"nodes.parquet", "edges.parquet"}
    assert all(len(f["sha256"]) == 64 and f["bytes"] > 0 for f in manifest["files"].values())
    assert manifest["source"] == "test-x" and manifest["created"]


def _truncate(entry: Path) -> None:
    path = entry / "edges.parquet"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _empty_manifest(entry: Path) -> None:
    (entry / "manifest.json").write_text("")


def _flip_a_byte(entry: Path) -> None:
    path = entry / "nodes.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _old_version(entry: Path) -> None:
    path = entry / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["format"] = 0
    path.write_text(json.dumps(manifest))


def _missing_table(entry: Path) -> None:
    (entry / "nodes.parquet").unlink()


class Crafted:
    """A pickle that, when loaded, creates a marker file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("damage, problem", [
    (_truncate, "edges.parquet has"), (_empty_manifest, "not valid JSON"),
    (_flip_a_byte, "SHA-256"), (_old_version, "format 0"), (_missing_table, "no nodes.parquet"),
])
def test_a_broken_entry_warns_once_and_is_rebuilt(folder, caplog, damage, problem):
    bb, builds = tiny(), []

    def build():
        builds.append(1)
        return bb

    cache.fetch_backbone("k", build, folder=folder)
    damage(cache.entry_path(folder, "k"))
    caplog.set_level(logging.WARNING, logger="corridors.build.cache")
    assert_same(bb, cache.fetch_backbone("k", build, folder=folder))
    (message,) = warnings_of(caplog)
    assert "backbone-k" in message and problem in message
    assert len(builds) == 2
    caplog.clear()
    assert_same(bb, cache.fetch_backbone("k", build, folder=folder))  # repaired: read, quiet
    assert not warnings_of(caplog) and len(builds) == 2
    assert [p.name for p in folder.iterdir()] == ["backbone-k"]


def test_a_crafted_pickle_never_runs(folder, fresh, embedded_key, tmp_path, caplog,
                                    monkeypatch):
    builds = []

    def build_backbone(**kwargs):  # the embedded build, counted (and not redone: ``fresh``)
        builds.append(kwargs)
        return fresh

    monkeypatch.setattr("corridors.build.pipeline.build_backbone", build_backbone)
    marker = tmp_path / "pwned"
    crafted = pickle.dumps(Crafted(marker))
    folder.mkdir(parents=True)
    # where the old cache lived ...
    (folder / f"backbone-{embedded_key}.pkl").write_bytes(crafted)
    assert_same(fresh, load_backbone())
    assert not marker.exists() and len(builds) == 1
    # ... and in place of a table of an entry: a size mismatch, rebuilt
    entry = cache.entry_path(folder, embedded_key)
    (entry / "nodes.parquet").write_bytes(crafted)
    caplog.set_level(logging.WARNING, logger="corridors.build.cache")
    assert_same(fresh, load_backbone())
    assert len(warnings_of(caplog)) == 1 and "nodes.parquet has" in warnings_of(caplog)[0]
    # ... and with a manifest that vouches for it: unreadable as Parquet, rebuilt
    (entry / "nodes.parquet").write_bytes(crafted)
    manifest = json.loads((entry / "manifest.json").read_text())
    manifest["files"]["nodes.parquet"] = {"bytes": len(crafted),
                                          "sha256": cache._sha256(entry / "nodes.parquet")}
    (entry / "manifest.json").write_text(json.dumps(manifest))
    caplog.clear()
    assert_same(fresh, load_backbone())
    assert len(warnings_of(caplog)) == 1 and "unreadable" in warnings_of(caplog)[0]
    assert not marker.exists()
    assert len(builds) == 3  # each damaged entry was rebuilt ...
    caplog.clear()
    assert_same(fresh, load_backbone())  # ... and the repaired one is read, quietly
    assert len(builds) == 3 and not warnings_of(caplog)


def test_no_cache_rebuilds_and_replaces_the_entry(folder, caplog):
    cache.fetch_backbone("k", tiny, folder=folder)
    _flip_a_byte(cache.entry_path(folder, "k"))
    caplog.set_level(logging.WARNING, logger="corridors.build.cache")
    cache.fetch_backbone("k", tiny, refresh=True, folder=folder)
    assert not warnings_of(caplog)
    assert_same(tiny(), cache.read_backbone(folder, "k"))


def _write_at_once(folder: str, barrier, queue) -> None:
    def build():
        barrier.wait(timeout=60)  # both have missed the entry: both write it
        return tiny()

    try:
        bb = cache.fetch_backbone("same", build, folder=Path(folder))
        queue.put(("ok", bb.source))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        queue.put(("error", repr(exc)))


def test_two_processes_writing_the_same_key(folder):
    folder.mkdir(parents=True)
    ctx = multiprocessing.get_context("spawn")
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_write_at_once, args=(str(folder), barrier, queue))
             for _ in range(2)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert results == [("ok", "test-x")] * 2
    assert [p.name for p in folder.iterdir()] == ["backbone-same"]
    assert_same(tiny(), cache.read_backbone(folder, "same"))


def test_the_least_recently_used_entries_go(folder, monkeypatch):
    monkeypatch.setenv(cache.MAX_ENTRIES_ENV, "3")
    for i, key in enumerate("abc"):
        cache.fetch_backbone(key, tiny, folder=folder)
        os.utime(cache.entry_path(folder, key) / "manifest.json", (1000 + i, 1000 + i))
    cache.fetch_backbone("a", tiny, folder=folder)  # a read: a is now the most recent
    cache.fetch_backbone("d", tiny, folder=folder)  # one too many: b, the oldest, goes
    assert sorted(e.key for e in cache.entries(folder)) == ["a", "c", "d"]
    monkeypatch.setenv(cache.MAX_ENTRIES_ENV, "1")
    cache.fetch_backbone("e", tiny, folder=folder)
    assert [e.key for e in cache.entries(folder)] == ["e"]



def test_cli_cache_info_and_clear(folder):
    for key in ("k1", "k2"):
        cache.fetch_backbone(key, lambda key=key: tiny(key), folder=folder)
    (folder / "backbone-0123.pkl").write_bytes(b"old")
    (folder / f"{cache.TMP_PREFIX}dead").mkdir()
    res = run("cache", "info")
    assert res.exit_code == 0, res.output
    assert str(folder) in res.output and "k1" in res.output and "test-k2" in res.output
    assert "2 backbone(s)" in res.output
    res = run("cache", "clear")
    assert res.exit_code == 0, res.output
    assert "removed 2 backbone(s) and 2 leftover file(s)" in res.output
    assert not list(folder.iterdir())
    res = run("cache", "info")
    assert res.exit_code == 0 and "0 backbone(s)" in res.output


def test_cli_cache_error_is_one_line(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv(cache.CACHE_ENV, str(blocker / "cache"))
    res = run("cache", "info")
    assert res.exit_code == 1
    assert "Traceback" not in res.output and res.output.count("\n") == 1
