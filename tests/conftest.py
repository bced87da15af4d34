"""Shared fixtures: a writable copy of the shipped catalog and an editor for its entries."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from corridors.catalog.model import CATALOG_FILES, default_catalog_dir


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    """Return a fresh copy of the shipped catalog folder."""
    dst = tmp_path / "catalog"
    shutil.copytree(default_catalog_dir(), dst)
    return dst


def edit_entry(folder: Path, file: str, entry_id: str,
               change: Callable[[dict], None] | None = None) -> None:
    """Apply ``change`` to one entry of a catalog file in ``folder`` (in place)."""
    path = folder / file
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    key = CATALOG_FILES[file]
    for entry in doc[key]:
        if entry.get("id") == entry_id:
            if change:
                change(entry)
            break
    else:
        raise KeyError(f"{entry_id} not in {file}")
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def append_entry(folder: Path, file: str, entry: dict) -> None:
    """Append one entry to a catalog file in ``folder``."""
    path = folder / file
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc[CATALOG_FILES[file]].append(entry)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Keep built backbones in a cache of the test session, not the user's."""
    import os

    old = os.environ.get("CORRIDORS_CACHE_DIR")
    os.environ["CORRIDORS_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("CORRIDORS_CACHE_DIR", None)
    else:
        os.environ["CORRIDORS_CACHE_DIR"] = old
