"""Helpers the test modules share (imported, not fixtures): the command line and catalog edits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from corridors.app.cli import main
from corridors.catalog.model import CATALOG_FILES


def run(*args, **kwargs) -> Result:
    """Invoke ``corridors ARGS...`` in-process (click's CliRunner); every argument as a string.

    Keyword arguments go to :meth:`click.testing.CliRunner.invoke` (e.g.
    ``catch_exceptions=False``).
    """
    return CliRunner().invoke(main, [str(a) for a in args], **kwargs)


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


def serve_base_builds(monkeypatch: pytest.MonkeyPatch, builds: dict) -> list[tuple[int, ...]]:
    """Make ``build_network(s)`` return ``builds`` for the plain base networks.

    A call with the shipped catalog, no scenario and every other option at its default, for years
    that ``builds`` holds, gets them; any other call builds as usual. Returns the list of the
    years served, call by call (to check what a command asked for).
    """
    import inspect

    from corridors.build import pipeline
    from corridors.catalog.scenario import BASE

    real = pipeline.build_networks
    defaults = {k: p.default for k, p in inspect.signature(real).parameters.items()
                if p.kind is inspect.Parameter.KEYWORD_ONLY}
    served: list[tuple[int, ...]] = []

    def build_networks(years, scenario=None, **kwargs):
        plain = all(kwargs.get(k, v) == v for k, v in defaults.items())
        if plain and scenario in (None, BASE) and set(years) <= set(builds):
            served.append(tuple(years))
            return {y: builds[y] for y in years}
        return real(years, scenario, **kwargs)

    monkeypatch.setattr(pipeline, "build_networks", build_networks)
    return served
