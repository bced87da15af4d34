"""The output contract (issue 10): one writer at a time, stale locks and debris, manifests."""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

import corridors.jobs.run as run_mod
from corridors.catalog.scenario import Scenario
from corridors.core.outputs import (
    INCOMPLETE_NAME,
    LOCK_NAME,
    MANIFEST_NAME,
    STALE_AFTER_S,
    OutputLockedError,
    output_lock,
    read_manifest,
    write_files,
)
from corridors.jobs.run import run_all

SPAWN = mp.get_context("spawn")


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _write_lock(folder: Path, pid: int, host: str, started: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LOCK_NAME).write_text(json.dumps({"pid": pid, "host": host, "started": started,
                                                "token": "x"}), encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# the lock


def _hold_and_wait(out: str, barrier, done) -> None:
    """Write ``a.txt`` and wait, inside the staging step, until the other writer has tried."""
    def write(stage: Path) -> None:
        (stage / "a.txt").write_text("first", encoding="utf-8")
        barrier.wait(timeout=60)
        done.wait(timeout=60)

    write_files(out, ["a.txt"], write)


def _try_to_write(out: str, barrier, done, answers) -> None:
    barrier.wait(timeout=60)
    try:
        write_files(out, ["a.txt"], lambda s: (s / "a.txt").write_text("second"), force=True)
        answers.put("written")
    except OutputLockedError as exc:
        answers.put(f"locked: {exc}")
    finally:
        done.set()


def test_two_concurrent_writers_the_second_fails_at_once(tmp_path):
    out = tmp_path / "out"
    barrier, done, answers = SPAWN.Barrier(2), SPAWN.Event(), SPAWN.Queue()
    first = SPAWN.Process(target=_hold_and_wait, args=(str(out), barrier, done))
    second = SPAWN.Process(target=_try_to_write, args=(str(out), barrier, done, answers))
    first.start()
    second.start()
    answer = answers.get(timeout=120)
    second.join(60)
    first.join(60)
    assert first.exitcode == 0 and second.exitcode == 0
    host = socket.gethostname()
    assert answer.startswith(f"locked: {out} is being written by pid {first.pid} on {host}")
    assert (out / "a.txt").read_text() == "first"  # even --force does not get through
    assert not (out / LOCK_NAME).exists() and read_manifest(out) == {"a.txt"}
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST_NAME, "a.txt"]


def test_a_stale_lock_of_a_dead_pid_is_taken_over(tmp_path, caplog):
    pid = _dead_pid()
    _write_lock(tmp_path, pid, socket.gethostname(), time.time())
    with caplog.at_level(logging.WARNING, "corridors.core.outputs"):
        write_files(tmp_path, ["a.txt"], lambda s: (s / "a.txt").write_text("ok"))
    assert (tmp_path / "a.txt").read_text() == "ok" and not (tmp_path / LOCK_NAME).exists()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and f"pid {pid}" in lines[0] and "no longer running" in lines[0]


def test_a_lock_of_another_host_holds_until_it_is_too_old(tmp_path):
    _write_lock(tmp_path, 1, "elsewhere", time.time() - 60)
    with (pytest.raises(OutputLockedError, match="being written by pid 1 on elsewhere since"),
          output_lock(tmp_path)):
        pass
    _write_lock(tmp_path, 1, "elsewhere", time.time() - STALE_AFTER_S - 60)
    with output_lock(tmp_path):
        pass
    assert not (tmp_path / LOCK_NAME).exists()


def test_the_lock_is_released_on_an_exception(tmp_path):
    def broken(stage: Path) -> None:
        (stage / "a.txt").write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_files(tmp_path / "out", ["a.txt"], broken)
    assert list((tmp_path / "out").iterdir()) == []


# ---------------------------------------------------------------------------------------------
# killed writers


def _hold_forever(out: str, ready) -> None:
    with output_lock(out) as held, held.staging("base") as stage:
        (stage / "report.html").write_text("half")
        ready.set()
        time.sleep(120)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_writer_is_cleaned_up(tmp_path, caplog, sig):
    ready = SPAWN.Event()
    proc = SPAWN.Process(target=_hold_forever, args=(str(tmp_path), ready))
    proc.start()
    assert ready.wait(60)
    assert (tmp_path / f".staging-base-{proc.pid}").is_dir()
    os.kill(proc.pid, sig)
    proc.join(30)
    if sig == signal.SIGTERM:  # a clean exit: the lock and the staging folder are gone
        assert proc.exitcode == 128 + signal.SIGTERM
        assert list(tmp_path.iterdir()) == []
        return
    assert (tmp_path / LOCK_NAME).exists()  # SIGKILL: both are left behind …
    with caplog.at_level(logging.WARNING, "corridors.core.outputs"):
        write_files(tmp_path, ["a.txt"], lambda s: (s / "a.txt").write_text("ok"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST_NAME, "a.txt"]  # … not now
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and "took over the stale lock" in lines[0]
    assert "removed 1 staging folder(s)" in lines[1]


# ---------------------------------------------------------------------------------------------
# run_all, with the computation and the writing of a scenario replaced by fakes


@pytest.fixture
def fake_run(monkeypatch):
    """Make run_all fast: each scenario writes report.html (and whatever ``extra`` names)."""
    state = SimpleNamespace(extra={}, fail_on=None, hold=None)

    def compute(years, sc, **kwargs):
        if sc.name == state.fail_on:
            raise RuntimeError(f"{sc.name} failed")
        return SimpleNamespace(scenario=sc, years=years)

    def write(results, folder, step, graphml=False):  # corridors.jobs.run._write_scenario's
        if state.hold:
            state.hold()
        files = {"report.html": f"report of {results.scenario.name}", **state.extra}
        for rel, text in files.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text, encoding="utf-8")
        return {"scenario": results.scenario.name, "years": list(results.years),
                "provenance": {"attribution": "© OpenStreetMap contributors"},
                "timings_s": {}, "files": sorted(files)}

    monkeypatch.setattr(run_mod, "compute_results", compute)
    monkeypatch.setattr(run_mod, "_write_scenario", write)
    monkeypatch.setattr(run_mod, "apply_scenario", lambda sc, path: None)
    return state


def test_concurrent_runs_cannot_both_succeed(tmp_path, fake_run):
    barrier, release = threading.Barrier(2), threading.Event()
    fake_run.hold = lambda: (barrier.wait(30), release.wait(30))
    first = threading.Thread(target=run_all, args=(tmp_path,))
    first.start()
    barrier.wait(30)  # the first run is writing base/
    fake_run.hold = None
    with pytest.raises(OutputLockedError, match=f"being written by pid {os.getpid()}"):
        run_all(tmp_path, force=True)
    release.set()
    first.join(30)
    assert (tmp_path / "base" / "report.html").read_text() == "report of base"
    assert not (tmp_path / INCOMPLETE_NAME).exists()


def test_a_killed_runs_debris_is_cleaned_by_the_next_run(tmp_path, fake_run, caplog):
    (tmp_path / ".base-k2j4h6g8" / "base").mkdir(parents=True)  # tempfile folder of old versions
    (tmp_path / f".staging-base-{_dead_pid()}" / "maps").mkdir(parents=True)
    (tmp_path / ".config").mkdir()  # a user's own hidden folder
    with caplog.at_level(logging.WARNING, "corridors.core.outputs"):
        run_all(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".config", MANIFEST_NAME, "base", "index.html"]
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "removed 2 staging folder(s)" in lines[0]


def test_force_keeps_a_users_own_file_inside_base(tmp_path, fake_run, caplog):
    fake_run.extra = {"maps/old.html": "an output of the tool"}
    run_all(tmp_path)
    (tmp_path / "base" / "notes.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "base" / "maps" / "mine.png").write_text("mine too", encoding="utf-8")
    with pytest.raises(FileExistsError, match=r"base already exists \(force=True replaces it"):
        run_all(tmp_path)
    fake_run.extra = {}
    with caplog.at_level(logging.WARNING, "corridors.core.outputs"):
        run_all(tmp_path, force=True)
    base = tmp_path / "base"
    assert (base / "notes.txt").read_text() == "mine"
    assert (base / "maps" / "mine.png").read_text() == "mine too"
    assert not (base / "maps" / "old.html").exists()  # the tool's own old file is replaced
    assert read_manifest(base) == {"report.html", "run.json"}
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "kept 2 file(s)" in lines[0] and "notes.txt" in lines[0]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [MANIFEST_NAME]


def test_a_users_own_index_html_is_not_overwritten_without_force(tmp_path, fake_run, caplog):
    (tmp_path / "index.html").write_text("my index", encoding="utf-8")
    with pytest.raises(FileExistsError, match="index.html exists and was not written by"):
        run_all(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html"]
    with caplog.at_level(logging.WARNING, "corridors.core.outputs"):
        run_all(tmp_path, force=True)
    assert (tmp_path / "index.orig.html").read_text() == "my index"
    assert "base/report.html" in (tmp_path / "index.html").read_text()
    assert any("index.orig.html" in r.getMessage() for r in caplog.records)
    run_all(tmp_path / "again")  # the tool's own index.html is rewritten by a new run
    (tmp_path / "again" / "base").rename(tmp_path / "again" / "moved")
    run_all(tmp_path / "again")


def test_an_interrupted_multi_scenario_run_is_marked_incomplete(tmp_path, fake_run):
    late = Scenario(name="late-sgr")
    run_all(tmp_path, scenarios=[late])  # a complete earlier run
    assert not (tmp_path / INCOMPLETE_NAME).exists()
    assert "incomplete" not in (tmp_path / "index.html").read_text()
    fake_run.fail_on = "late-sgr"
    fake_run.extra = {"new.txt": "second run"}
    with pytest.raises(RuntimeError, match="late-sgr failed"):
        run_all(tmp_path, scenarios=[late], force=True)
    assert (tmp_path / "base" / "new.txt").exists()  # a new base/ …
    assert not (tmp_path / "late-sgr" / "new.txt").exists()  # … next to an old late-sgr/
    marker = (tmp_path / INCOMPLETE_NAME).read_text()
    assert "written: base" in marker and "not yet written: late-sgr" in marker
    index = (tmp_path / "index.html").read_text()
    assert "This run is incomplete" in index and "late-sgr" in index
    assert not [p for p in tmp_path.iterdir() if p.name.startswith((".staging", LOCK_NAME))]
    fake_run.fail_on = None
    run_all(tmp_path, scenarios=[late], force=True)
    assert not (tmp_path / INCOMPLETE_NAME).exists()
    assert "incomplete" not in (tmp_path / "index.html").read_text()
