"""One output contract for every command that writes: lock, refuse, stage, swap, record.

Every writer (``run``, ``build``, ``analyse``, ``export``) goes through this module:

- **Lock.** :func:`output_lock` creates ``OUT/.corridors.lock`` (``O_CREAT | O_EXCL``) holding the
  pid, host and start time. A second writer fails at once with :class:`OutputLockedError` naming
  the holder. A stale lock (same host and a dead pid, or older than :data:`STALE_AFTER_S`) is
  reported in one line and taken over. The lock is released on exit, exceptions included, and a
  SIGTERM is turned into a normal exit so that it is released then too.
- **Stage, then swap.** Files are written into ``OUT/.staging-<name>-<pid>`` and moved into
  place only when all were written. The "already exists" decision and the swap are made under the
  same lock, so two writers can never both succeed.
- **Manifests.** Each folder the tool writes carries ``.corridors-manifest.json`` listing the
  files it wrote there. Nothing the manifest does not list is ever removed: with ``force`` a
  user's own file inside a replaced folder is kept, and one in the way of a new file is moved
  aside (``name.orig.ext``); both are reported in one line.
- **Debris.** Staging folders of dead writers (``.staging-*``, ``.trash-*`` and the ``.base-*``,
  ``.build-*``, ``.export-*``, ``.tables-*`` of earlier versions) are removed when the lock is
  taken, with one line saying so.
- **Incomplete runs.** :meth:`OutputFolder.mark_incomplete` writes ``OUT/INCOMPLETE`` until
  :meth:`OutputFolder.mark_complete` removes it.

Messages go to the ``corridors.core.outputs`` logger (one line each); nothing is printed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from corridors.core.atomic import atomic_path

__all__ = ["INCOMPLETE_NAME", "LOCK_NAME", "MANIFEST_NAME", "STALE_AFTER_S", "LockInfo",
           "OutputFolder", "OutputLockedError", "clean_stale_staging", "output_lock",
           "read_lock", "read_manifest", "write_files"]

log = logging.getLogger(__name__)

#: The lock file of an output folder.
LOCK_NAME = ".corridors.lock"
#: The list of files the tool wrote in a folder (JSON: ``{"files": [relative paths]}``).
MANIFEST_NAME = ".corridors-manifest.json"
#: Present in a run's folder while the run is incomplete.
INCOMPLETE_NAME = "INCOMPLETE"
#: A lock older than this (seconds) is stale whatever its host: 24 hours, far above the longest
#: run on a country-wide extract.
STALE_AFTER_S = 24 * 3600
#: A lock file still empty after this many seconds was left by a writer killed while creating it.
_EMPTY_LOCK_GRACE_S = 60

_STAGING = re.compile(r"^\.(?:staging|trash)-.+-(\d+)$")
# tempfile folders of earlier versions: .build-xxxxxxxx, .base-xxxxxxxx, .<scenario>-xxxxxxxx
_LEGACY = re.compile(r"^\.([\w.-]+)-[a-z0-9_]{8}$")
_LEGACY_PREFIXES = {"build", "export", "tables", "base"}

# staging folders of this process: writers inside one write straight into it, without a lock
_ACTIVE: set[Path] = set()


class OutputLockedError(FileExistsError):
    """Another writer holds the output folder (the CLI turns it into one line, exit code 1)."""


#: What ``force=True`` does to a file in the way, in the library's words and the command's.
_FORCE_ACTIONS = {"replace": ("replaces it", "replace it"),
                  "move aside": ("moves it aside", "move it aside")}


class OutputExistsError(FileExistsError):
    """A file or folder to be written exists, and ``force`` was not given.

    The message speaks the library's language, ``"<path> already exists (force=True replaces
    it, or write to another folder)"``; the ``corridors`` command says the same in its own
    with :meth:`cli_message` (``pass --force``).

    Parameters
    ----------
    problem : str
        What is in the way, e.g. ``"corridors-out/base already exists"``.
    action : {"replace", "move aside"}
        What ``force=True`` does to it.

    Examples
    --------
    >>> err = OutputExistsError("out/base already exists")
    >>> str(err)
    'out/base already exists (force=True replaces it, or write to another folder)'
    >>> err.cli_message()
    'out/base already exists: pass --force to replace it, or choose another --out'
    """

    def __init__(self, problem: str, action: str = "replace"):
        if action not in _FORCE_ACTIONS:
            raise ValueError(f"unknown action {action!r}; valid: {', '.join(_FORCE_ACTIONS)}")
        self.problem, self.action = problem, action
        super().__init__(f"{problem} (force=True {_FORCE_ACTIONS[action][0]}, or write to "
                         "another folder)")

    def __reduce__(self):
        return type(self), (self.problem, self.action)

    def cli_message(self, flag: str = "--force", out_option: str = "--out") -> str:
        """Return the message in the command line's words (its flag and output option)."""
        return (f"{self.problem}: pass {flag} to {_FORCE_ACTIONS[self.action][1]}, or choose "
                f"another {out_option}")


@dataclass(frozen=True)
class LockInfo:
    """Who holds an output folder.

    Attributes
    ----------
    pid : int
    host : str
    started : float
        Start time, seconds since the epoch.
    token : str
        Unique per lock, so a writer never removes a lock it does not hold.
    """

    pid: int
    host: str
    started: float
    token: str

    def describe(self, folder: Path) -> str:
        """Return the one-line message naming the holder of ``folder``."""
        since = datetime.fromtimestamp(self.started, UTC).strftime("%Y-%m-%d %H:%M:%S")
        return f"{folder} is being written by pid {self.pid} on {self.host} since {since} UTC"


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_lock(path: Path) -> LockInfo | None:
    """Return the holder recorded in a lock file, or None if it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return LockInfo(int(data["pid"]), str(data["host"]), float(data["started"]),
                        str(data["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _stale_reason(path: Path, info: LockInfo | None, now: float) -> str | None:
    """Say why a lock is stale, or return None if its holder may still be writing."""
    if info is None:
        try:
            age = now - path.stat().st_mtime
        except FileNotFoundError:
            return "it was just released"
        return f"it is empty since {age:.0f} s" if age > _EMPTY_LOCK_GRACE_S else None
    if info.host == socket.gethostname() and not _pid_alive(info.pid):
        return f"pid {info.pid} on {info.host} is no longer running"
    if now - info.started > STALE_AFTER_S:
        return f"it is older than {STALE_AFTER_S // 3600} h"
    return None


def _acquire(folder: Path) -> LockInfo:
    path = folder / LOCK_NAME
    me = LockInfo(os.getpid(), socket.gethostname(), time.time(), os.urandom(8).hex())
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = read_lock(path)
            reason = _stale_reason(path, holder, time.time())
            if reason is None:
                raise OutputLockedError(
                    (holder.describe(folder) if holder else f"{folder} is being written by "
                     "another process") + f": wait for it to finish, or remove {path} if it "
                    "is not running") from None
            _take_over(path, holder, reason)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"pid": me.pid, "host": me.host, "started": me.started,
                       "token": me.token}, f)
            f.flush()
            os.fsync(f.fileno())
        return me
    raise OutputLockedError(f"{folder} is being written by another process (lock contended)")


def _take_over(path: Path, holder: LockInfo | None, reason: str) -> None:
    """Remove a stale lock; only one of several writers doing so at once succeeds."""
    grabbed = path.with_name(f"{LOCK_NAME}.stale-{os.getpid()}")
    try:
        os.rename(path, grabbed)  # atomic: a second writer gets FileNotFoundError
    except FileNotFoundError:
        return
    if read_lock(grabbed) != holder:  # a fresh lock was created meanwhile: give it back
        with suppress(OSError):
            os.link(grabbed, path)
        grabbed.unlink(missing_ok=True)
        return
    grabbed.unlink(missing_ok=True)
    log.warning("took over the stale lock %s (%s)", path, reason)


def _release(folder: Path, me: LockInfo) -> None:
    path = folder / LOCK_NAME
    if read_lock(path) == me:
        path.unlink(missing_ok=True)


def clean_stale_staging(folder: Path) -> list[Path]:
    """Remove the tool's staging folders left in ``folder`` by writers no longer running.

    Call it holding the folder's lock: a legacy staging folder (no pid in its name) is then
    debris. Returns the folders removed (one log line says so).
    """
    removed = []
    for p in folder.iterdir() if folder.is_dir() else []:
        if not p.is_dir() or p.is_symlink():
            continue
        m = _STAGING.match(p.name)
        if m:
            dead = int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1)))
        else:
            legacy = _LEGACY.match(p.name)
            # an earlier run's .<scenario>-xxxxxxxx folder holds <scenario>/
            dead = legacy is not None and (legacy.group(1) in _LEGACY_PREFIXES
                                     or (p / legacy.group(1)).is_dir())
        if dead:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    if removed:
        log.warning("removed %d staging folder(s) left by interrupted runs in %s: %s",
                    len(removed), folder, ", ".join(p.name for p in removed))
    return removed


def read_manifest(folder: Path) -> set[str]:
    """Return the files (relative paths) the tool wrote in ``folder``; empty if unknown.

    A run folder of an earlier version, without a manifest, is read from its ``run.json``.
    """
    for name, key in ((MANIFEST_NAME, "files"), ("run.json", "files")):
        try:
            files = json.loads((folder / name).read_text(encoding="utf-8"))[key]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        return {str(f) for f in files} | ({"run.json"} if name == "run.json" else set())
    return set()


def _write_manifest(folder: Path, files: Iterable[str]) -> None:
    with atomic_path(folder / MANIFEST_NAME, tmp_name=f"{MANIFEST_NAME}.{os.getpid()}.tmp") as tmp:
        tmp.write_text(json.dumps({"tool": "corridors", "files": sorted(set(files))}, indent=1),
                       encoding="utf-8")


def _files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.is_file() and p.name != MANIFEST_NAME)


def _free_name(path: Path) -> Path:
    """Return ``name.orig.ext`` beside ``path`` (numbered if taken)."""
    n, new = 1, path.with_name(f"{path.stem}.orig{path.suffix}")
    while new.exists() or new.is_symlink():
        n += 1
        new = path.with_name(f"{path.stem}.orig{n}{path.suffix}")
    return new


def _aside(path: Path) -> Path:
    """Move a user's file out of the way of a new one; return where it went."""
    new = _free_name(path)
    os.rename(path, new)
    return new


class OutputFolder:
    """An output folder held under its lock (see :func:`output_lock`)."""

    def __init__(self, path: Path):
        self.path = path

    def refuse_existing(self, names: Iterable[str], force: bool, *,
                        replaceable: Iterable[str] = ()) -> None:
        """Raise FileExistsError if a target exists and ``force`` is False.

        ``replaceable`` names may be replaced without ``force`` when the manifest shows the
        tool wrote them (a run's ``index.html``); a user's own file is refused all the same.
        """
        if force:
            return
        ours = read_manifest(self.path)
        for name in [*names, *replaceable]:
            p = self.path / name
            if not p.exists() and not p.is_symlink():
                continue
            if name in set(replaceable):
                if name in ours:
                    continue
                raise OutputExistsError(f"{p} exists and was not written by corridors",
                                        "move aside")
            raise OutputExistsError(f"{p} already exists")

    @contextmanager
    def staging(self, name: str) -> Iterator[Path]:
        """Yield a fresh staging folder ``.staging-<name>-<pid>``; removed on exit."""
        stage = self.path / f".staging-{name}-{os.getpid()}"
        if stage.exists():
            shutil.rmtree(stage)
        stage.mkdir()
        _ACTIVE.add(stage)
        try:
            yield stage
        finally:
            _ACTIVE.discard(stage)
            shutil.rmtree(stage, ignore_errors=True)

    def commit_files(self, stage: Path) -> list[Path]:
        """Move every file of ``stage`` into the folder (``os.replace``), and record them.

        A file in the way that the manifest does not list is moved aside first (the caller
        has refused it already unless ``force``).
        """
        ours = read_manifest(self.path)
        names = _files_under(stage)
        moved = []
        for name in names:
            dst = self.path / name
            if (dst.exists() or dst.is_symlink()) and name not in ours:
                moved.append(f"{dst.name} → {_aside(dst).name}")
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage / name, dst)
        if moved:
            log.warning("kept %d file(s) in %s that corridors had not written: %s",
                        len(moved), self.path, "; ".join(moved))
        _write_manifest(self.path, ours | set(names))
        return [self.path / n for n in names]

    def commit_folder(self, stage: Path, name: str) -> Path:
        """Replace the folder ``name`` by ``stage`` (a manifest is written into it).

        Of an existing folder only the files its manifest lists are removed; a user's own
        files are carried over into the new folder (moved aside if a new file takes their
        place) and reported in one line.
        """
        target = self.path / name
        files = _files_under(stage)
        _write_manifest(stage, files)
        if target.is_dir() and not target.is_symlink():
            ours = read_manifest(target) | {MANIFEST_NAME}
            kept = []
            for rel in _files_under(target):
                if rel in ours:
                    continue
                src, dst = target / rel, stage / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                if dst.exists() or dst.is_symlink():  # a new file takes its place
                    dst = _free_name(dst)
                    kept.append(f"{rel} (as {dst.name})")
                else:
                    kept.append(rel)
                os.rename(src, dst)
            if kept:
                log.warning("kept %d file(s) in %s that corridors had not written: %s",
                            len(kept), target, ", ".join(kept))
            trash = self.path / f".trash-{name}-{os.getpid()}"
            os.rename(target, trash)
            os.rename(stage, target)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            if target.exists() or target.is_symlink():
                _aside(target)
            os.rename(stage, target)
        _write_manifest(self.path, read_manifest(self.path) | {name + "/"})
        return target

    def write_text(self, name: str, text: str) -> Path:
        """Write one file of the folder atomically and record it in the manifest."""
        with self.staging(Path(name).stem) as stage:
            (stage / name).write_text(text, encoding="utf-8")
            return self.commit_files(stage)[0]

    def mark_incomplete(self, text: str) -> None:
        """Write ``INCOMPLETE`` (what is being written, by whom, since when)."""
        with atomic_path(self.path / INCOMPLETE_NAME,
                         tmp_name=f".{INCOMPLETE_NAME}.{os.getpid()}.tmp") as tmp:
            tmp.write_text(text, encoding="utf-8")

    def mark_complete(self) -> None:
        """Remove ``INCOMPLETE``: everything was written."""
        (self.path / INCOMPLETE_NAME).unlink(missing_ok=True)


@contextmanager
def _sigterm_exits() -> Iterator[None]:
    """Turn SIGTERM into SystemExit while writing, so clean-ups run (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def output_lock(folder: str | Path) -> Iterator[OutputFolder]:
    """Hold ``folder`` (created if needed) exclusively; clean up stale staging folders.

    Raises
    ------
    OutputLockedError
        If another live writer holds the folder; the message names it.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d, output_lock(d) as out:
    ...     (out.path / LOCK_NAME).exists()
    True
    """
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    me = _acquire(path)
    try:
        with _sigterm_exits():
            clean_stale_staging(path)
            yield OutputFolder(path)
    finally:
        _release(path, me)


def write_files(folder: str | Path, names: Iterable[str], write: Callable[[Path], object], *,
                force: bool = False, what: str = "files") -> list[Path]:
    """Write a set of files into ``folder`` under the output contract; return their paths.

    ``write(stage)`` writes the files named ``names`` into the staging folder ``stage``. Under
    the folder's lock, existing targets are refused unless ``force``; then every staged file is
    moved into place and recorded in the folder's manifest. Inside another writer's staging
    folder (a run assembling its scenario folder) the files are written straight, unlocked.

    Raises
    ------
    FileExistsError
        If a target exists and ``force`` is False (nothing is written then).
    OutputLockedError
        If another writer holds the folder.
    """
    out, names = Path(folder), list(names)
    if any(out == s or s in out.parents for s in _ACTIVE):
        out.mkdir(parents=True, exist_ok=True)
        write(out)
        return [out / n for n in names]
    with output_lock(out) as held:
        held.refuse_existing(names, force)
        with held.staging(what) as stage:
            write(stage)
            missing = [n for n in names if not (stage / n).exists()]
            if missing:
                raise RuntimeError(f"{what}: {missing[0]} was not written")
            held.commit_files(stage)
    return [out / n for n in names]
