"""The on-disk cache of built backbones: GeoParquet tables and a JSON manifest, never a pickle.

An entry is a folder ``backbone-<key>`` in the cache folder (:func:`cache_dir`)::

    backbone-<key>/
      nodes.parquet     the node table (GeoParquet, index ``node``)
      edges.parquet     the edge table (GeoParquet)
      manifest.json     format, key, source, metric_crs, report, byte size and SHA-256 of
                        each table, the column types, and the creation time

Nothing in an entry can execute code. An entry is written into a temporary folder of the cache
folder and renamed into place (atomic), so a reader sees a whole entry or none, and two
processes writing the same key both succeed (the later one discards its copy). A reader checks
the manifest and the checksums before reading the tables; a broken entry is reported once as a
warning, removed and rebuilt (:func:`fetch_backbone`). After each write, the least recently
used entries beyond :func:`max_entries` are removed.

Object columns (text, numbers or booleans mixed with ``None``) are written as native Parquet
columns, and their Python types, and which values were NaN rather than ``None``, are kept in the
manifest, so a table reads back equal to the one written (dtypes included).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from corridors.core.atomic import atomic_path
from corridors.network.backbone import Backbone

__all__ = [
    "CACHE_ENV", "DEFAULT_MAX_ENTRIES", "FORMAT", "MAX_ENTRIES_ENV", "CacheEntry",
    "CacheEntryError", "cache_dir", "clear", "entries", "entry_path", "fetch_backbone",
    "max_entries", "prune", "read_backbone", "remove_entry", "write_backbone",
]

log = logging.getLogger(__name__)

#: Environment variable for the cache folder (default ``~/.cache/corridors``).
CACHE_ENV = "CORRIDORS_CACHE_DIR"
#: Environment variable for the number of backbones kept (default :data:`DEFAULT_MAX_ENTRIES`).
MAX_ENTRIES_ENV = "CORRIDORS_CACHE_MAX_ENTRIES"
DEFAULT_MAX_ENTRIES = 8
#: Version of the entry layout; an entry of another version is rebuilt.
FORMAT = 1

PREFIX = "backbone-"
TMP_PREFIX = ".tmp-backbone-"
TRASH_PREFIX = ".trash-backbone-"
MANIFEST = "manifest.json"
TABLES = ("nodes", "edges")
#: Temporary folders older than this (seconds) belong to a dead writer and are removed.
STALE_TMP_S = 3600
_NAN = "__corridors_nan__"
_KINDS: dict[str, Callable] = {"str": str, "int": int, "float": float, "bool": bool}


class CacheEntryError(Exception):
    """A cache entry is missing a file, or its manifest or tables are wrong."""


@dataclass(frozen=True)
class CacheEntry:
    """One cached backbone, as its manifest describes it."""

    key: str
    path: Path
    source: str
    size_bytes: int
    created: str
    last_used: float


def cache_dir() -> Path:
    """Return the cache folder (``CORRIDORS_CACHE_DIR``, default ``~/.cache/corridors``)."""
    path = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "corridors")
    path.mkdir(parents=True, exist_ok=True)
    return path


def max_entries() -> int:
    """Return the number of backbones kept (``CORRIDORS_CACHE_MAX_ENTRIES``, default 8)."""
    text = os.environ.get(MAX_ENTRIES_ENV, "").strip()
    try:
        return max(1, int(text)) if text else DEFAULT_MAX_ENTRIES
    except ValueError:
        log.warning("%s=%r is not a whole number; keeping %d backbones", MAX_ENTRIES_ENV, text,
                    DEFAULT_MAX_ENTRIES)
        return DEFAULT_MAX_ENTRIES


def entry_path(folder: Path, key: str) -> Path:
    """Return the folder of the entry ``key``."""
    return Path(folder) / f"{PREFIX}{key}"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _is_nan(v) -> bool:
    return isinstance(v, float) and v != v


def _is_null(v) -> bool:
    return v is None or v is pd.NA or _is_nan(v)


def _json_default(v):
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    raise TypeError(f"{type(v).__name__} is not JSON serialisable")


def _encode(frame: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict]:
    """Return ``frame`` ready for Parquet and what it takes to restore it exactly."""
    out = frame.copy()
    columns = {}
    for col in frame.columns:
        s = frame[col]
        info: dict = {"dtype": str(s.dtype)}
        if s.dtype == object and col != frame.geometry.name:
            values = s.to_numpy()
            types = {type(v) for v in values if not _is_null(v)}
            if len(types) <= 1 and types <= {str, int, float, bool}:
                info["kind"] = types.pop().__name__ if types else "none"
                nan = [_is_nan(v) for v in values]
                if any(nan):
                    info["nan"] = True
                    out[_NAN + col] = nan
                if info["kind"] == "none":
                    out[col] = pd.Series([None] * len(values), index=frame.index, dtype=object)
            else:  # mixed types: one JSON text per value (NaN is kept as NaN)
                info["kind"] = "json"
                out[col] = pd.Series([None if v is None else json.dumps(v, default=_json_default)
                                      for v in values], index=frame.index, dtype=object)
        columns[col] = info
    spec = {"columns": columns, "index_name": frame.index.name,
            "index_dtype": str(frame.index.dtype),
            "range_index": isinstance(frame.index, pd.RangeIndex)}
    return out, spec


def _decode(frame: gpd.GeoDataFrame, spec: dict) -> gpd.GeoDataFrame:
    """Restore a table read from Parquet to the one :func:`_encode` was given."""
    columns = spec["columns"]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CacheEntryError(f"columns missing from the table: {', '.join(missing)}")
    for col, info in columns.items():
        kind = info.get("kind")
        if kind is not None:
            values = frame[col].to_numpy(dtype=object)
            if kind == "json":
                restored = [None if _is_null(v) else json.loads(v) for v in values]
            else:
                conv = _KINDS.get(kind)
                restored = [None if conv is None or _is_null(v) else conv(v) for v in values]
            if info.get("nan"):
                restored = [float("nan") if n else v
                            for v, n in zip(restored, frame[_NAN + col], strict=True)]
            frame[col] = pd.Series(restored, index=frame.index, dtype=object)
        elif str(frame[col].dtype) != info["dtype"]:
            frame[col] = frame[col].astype(info["dtype"])
    frame = frame[list(columns)]
    if not spec["range_index"] and str(frame.index.dtype) != spec["index_dtype"]:
        frame.index = frame.index.astype(spec["index_dtype"])
    frame.index.name = spec["index_name"]
    return frame


def write_backbone(folder: Path, key: str, backbone: Backbone, replace: bool = False) -> Path:
    """Write ``backbone`` as the entry ``key`` of the cache ``folder`` and return its path.

    The entry is written into a temporary folder, then renamed into place. When the entry
    already exists (another process wrote it meanwhile), the new copy is discarded, unless
    ``replace``, which swaps the old entry out first.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = entry_path(folder, key)
    # another writer may finish the same entry first: its copy is as good, ours is discarded
    with atomic_path(target, prefix=TMP_PREFIX, directory=True, keep_existing=True) as tmp:
        files, tables = {}, {}
        for name, frame in zip(TABLES, (backbone.nodes, backbone.edges), strict=True):
            encoded, tables[name] = _encode(frame)
            path = tmp / f"{name}.parquet"
            encoded.to_parquet(path, index=None if tables[name]["range_index"] else True)
            files[path.name] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
        manifest = {
            "format": FORMAT, "key": key, "source": str(backbone.source),
            "metric_crs": str(backbone.metric_crs), "report": backbone.report, "files": files,
            "tables": tables, "created": dt.datetime.now(dt.UTC).isoformat(
                timespec="seconds"),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False,
                                               default=_json_default), encoding="utf-8")
        if replace and target.exists():
            remove_entry(target)
    return target


def _read_manifest(entry: Path) -> dict:
    try:
        text = (entry / MANIFEST).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CacheEntryError("no manifest.json") from None
    try:
        manifest = json.loads(text)
    except ValueError as exc:
        raise CacheEntryError(f"manifest.json is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise CacheEntryError("manifest.json is not a JSON object")
    return manifest


def read_backbone(folder: Path, key: str) -> Backbone:
    """Return the backbone of the entry ``key``, after checking its manifest and checksums.

    Raises
    ------
    FileNotFoundError
        When there is no such entry.
    CacheEntryError
        When the entry is incomplete, altered or of another format version.
    """
    entry = entry_path(folder, key)
    if not entry.is_dir():
        raise FileNotFoundError(entry)
    manifest = _read_manifest(entry)
    if manifest.get("format") != FORMAT:
        raise CacheEntryError(f"format {manifest.get('format')!r}, expected {FORMAT}")
    if manifest.get("key") != key:
        raise CacheEntryError(f"manifest key {manifest.get('key')!r} differs from the folder's")
    try:
        files, tables = manifest["files"], manifest["tables"]
        source, metric_crs, report = (manifest["source"], manifest["metric_crs"],
                                      manifest["report"])
        frames = []
        for name in TABLES:
            path = entry / f"{name}.parquet"
            expected = files[path.name]
            if not path.is_file():
                raise CacheEntryError(f"no {path.name}")
            if path.stat().st_size != expected["bytes"]:
                raise CacheEntryError(f"{path.name} has {path.stat().st_size} bytes, the "
                                      f"manifest says {expected['bytes']}")
            if _sha256(path) != expected["sha256"]:
                raise CacheEntryError(f"{path.name} does not match its SHA-256 checksum")
            try:
                frame = gpd.read_parquet(path)
            except Exception as exc:  # noqa: BLE001 - any unreadable table is a broken entry
                raise CacheEntryError(f"{path.name} is unreadable ({exc})") from None
            frames.append(_decode(frame, tables[name]))
    except (KeyError, TypeError, AttributeError) as exc:
        raise CacheEntryError(f"manifest.json lacks or garbles {exc}") from None
    with contextlib.suppress(OSError):
        os.utime(entry / MANIFEST)  # mark as recently used
    return Backbone(nodes=frames[0], edges=frames[1], report=report, source=source,
                    metric_crs=metric_crs)


def remove_entry(entry: Path) -> None:
    """Remove an entry folder: renamed away first (atomic), then deleted."""
    trash = entry.parent / f"{TRASH_PREFIX}{entry.name}-{os.getpid()}-{time.time_ns()}"
    try:
        os.replace(entry, trash)
    except FileNotFoundError:
        return
    except OSError:
        trash = entry
    shutil.rmtree(trash, ignore_errors=True)


def fetch_backbone(key: str, build: Callable[[], Backbone], refresh: bool = False,
                   folder: Path | None = None) -> Backbone:
    """Return the cached backbone ``key``, or ``build()`` it and cache it.

    A broken entry is reported as one warning (logger ``corridors.build.cache``), removed, rebuilt
    and replaced. ``refresh`` rebuilds and replaces the entry whatever its state. A backbone
    that cannot be written is returned all the same, with a warning.
    """
    folder = Path(folder) if folder else cache_dir()
    if not refresh:
        try:
            return read_backbone(folder, key)
        except FileNotFoundError:
            pass
        except CacheEntryError as exc:
            log.warning("cache entry %s is broken (%s): rebuilding it",
                        entry_path(folder, key), exc)
            remove_entry(entry_path(folder, key))
    backbone = build()
    try:
        write_backbone(folder, key, backbone, replace=refresh)
        prune(folder, max_entries(), keep=key)
    except Exception as exc:  # noqa: BLE001 - a cache that cannot be written is not an error
        log.warning("could not cache the backbone in %s (%s)", folder, exc)
    return backbone


def entries(folder: Path | None = None) -> list[CacheEntry]:
    """Return the entries of the cache folder, the most recently used first.

    An entry without a readable manifest is listed with source ``"?"``.
    """
    folder = Path(folder) if folder else cache_dir()
    found = []
    for path in folder.glob(f"{PREFIX}*"):
        if not path.is_dir():
            continue
        try:
            manifest = _read_manifest(path)
            source, created = str(manifest.get("source", "?")), str(manifest.get("created", "?"))
        except CacheEntryError:
            source, created = "?", "?"
        try:
            size = sum(p.stat().st_size for p in path.iterdir() if p.is_file())
            manifest_path = path / MANIFEST
            used = (manifest_path if manifest_path.exists() else path).stat().st_mtime
        except FileNotFoundError:  # removed meanwhile
            continue
        found.append(CacheEntry(key=path.name[len(PREFIX):], path=path, source=source,
                                size_bytes=size, created=created, last_used=used))
    return sorted(found, key=lambda e: e.last_used, reverse=True)


def prune(folder: Path | None = None, limit: int | None = None,
          keep: str | None = None) -> list[str]:
    """Remove the least recently used entries beyond ``limit``; return the keys removed.

    ``limit`` defaults to :func:`max_entries`; the entry ``keep`` is never removed. Temporary
    folders older than an hour (left by a killed writer) are removed as well.
    """
    folder = Path(folder) if folder else cache_dir()
    limit = max_entries() if limit is None else limit
    now = time.time()
    for path in [*folder.glob(f"{TMP_PREFIX}*"), *folder.glob(f"{TRASH_PREFIX}*")]:
        try:
            if now - path.stat().st_mtime > STALE_TMP_S:
                shutil.rmtree(path, ignore_errors=True)
        except FileNotFoundError:
            pass
    found = entries(folder)
    removed = []
    excess = len(found) - limit
    for entry in reversed(found):  # the least recently used first
        if excess <= 0:
            break
        if entry.key == keep:
            continue
        remove_entry(entry.path)
        removed.append(entry.key)
        excess -= 1
    return removed


def clear(folder: Path | None = None) -> tuple[int, int]:
    """Empty the cache; return the number of entries and of other files removed.

    Other files are temporary folders and old pickles (``backbone-*.pkl``, never read).
    """
    folder = Path(folder) if folder else cache_dir()
    n_entries = n_other = 0
    for path in list(folder.iterdir()):
        name = path.name
        if path.is_dir() and name.startswith(PREFIX):
            remove_entry(path)
            n_entries += 1
        elif path.is_dir() and name.startswith((TMP_PREFIX, TRASH_PREFIX)):
            shutil.rmtree(path, ignore_errors=True)
            n_other += 1
        elif path.is_file() and name.startswith(PREFIX) and name.endswith((".pkl", ".tmp")):
            path.unlink(missing_ok=True)
            n_other += 1
    return n_entries, n_other
