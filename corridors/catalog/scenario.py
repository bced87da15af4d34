"""Scenario files: delay, drop or add projects and override speeds.

A scenario is a YAML file::

    name: sgr-late                     # required, names the output folder: 1-64 letters,
                                       # digits, _ . - (no path separator, no "..")
    description: Standard-gauge railway opens in 2033, Sa Pa airport dropped
    projects:
      delay: {a3_3_01: 2033}           # project id -> new opening year
      drop: [a3_4_04]                  # project ids left out of every year (with the
                                       # projects same_as or upgrading them, with a warning)
      add:                             # new entries in the form of projects.yaml
        - id: s_my_bypass
          ...
    speeds:                            # km/h, see network.speeds.assign_speeds
      class: {national: 45}            # a road, rail, water or air class
      project: {a3_1_01: 70}           # a catalog project or existing link
      source: {"osm:way/123": 30}      # giaothong:..., osm:... or catalog:<id>
    open_years: evidence               # evidence (default): the network as it stands;
                                       # plan: the plans' years as written
    uncertainty:                       # overrides of data/uncertainty.yaml (corridors
      delays: {planned: {p_on_time: 0.1}}  # uncertainty), plain numbers
    gates:                             # border crossings (data/catalog/cross_border.yaml)
      gate_huu_nghi: {clearance_factor: 0.5}      # clearance time halved
      gate_tan_thanh: {open: false}               # closed in every year
      gate_kim_thanh: {clearance_h: {truck: 3}}   # hours, both directions

The 2025 and 2030 networks of a scenario come from the same code path as the base: the scenario
changes the catalog, then the network of each year is built from the changed catalog. Every
problem is reported at once with file, entry and field, like the catalogs.
"""

from __future__ import annotations

import copy
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from corridors.catalog.cross_border import gate_change_problems
from corridors.catalog.model import Catalog, RawCatalog, build_catalog, read_raw
from corridors.catalog.timing import DEFAULT_READING, READINGS
from corridors.catalog.uncertainty_params import override_problems
from corridors.catalog.validation import validate_raw
from corridors.core.constants import YEAR_MAX, YEAR_MIN
from corridors.core.diagnostics import InputError, Problem
from corridors.core.safe_yaml import MAX_DESCRIPTION, MAX_SCENARIO_BYTES, load_yaml
from corridors.network.speeds import MODE_CLASSES

log = logging.getLogger(__name__)

#: What a scenario name may be: it names the output folder ``OUT/<name>/`` and appears in every
#: report and map, so no path separator, no ``..``, no markup; 1 to 64 characters.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
#: Classes a scenario may set a speed for (transfers have fixed times).
SPEED_CLASSES = tuple(c for mode, classes in MODE_CLASSES.items() if mode != "transfer"
                      for c in classes)
#: Prefixes of the edge ``source`` ids a scenario may set a speed for.
SOURCE_PREFIXES = ("giaothong:", "osm:", "catalog:")

_KEYS = {"name", "description", "projects", "speeds", "open_years", "uncertainty", "gates"}
_PROJECT_KEYS = {"delay", "drop", "add"}
_SPEED_KEYS = {"class", "project", "source"}


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario file.

    Attributes
    ----------
    name : str
    description : str
    delay : dict
        Project id to opening year.
    drop : tuple of str
        Project ids left out.
    add : tuple of dict
        New project entries (catalog form).
    speeds : dict
        Speed overrides (km/h) by ``class``, ``project`` or ``source``.
    path : pathlib.Path or None
        The file it was read from.
    reading : {"evidence", "plan"}
        How opening years are read (:func:`corridors.catalog.timing.reading_open_year`):
        ``evidence``,
        the network as it stands (a year already past opens a link only with a dated fact), or
        ``plan``, the plans as written.
    uncertainty : dict
        Overrides of ``data/uncertainty.yaml`` for ``corridors uncertainty`` (checked by
        :func:`corridors.catalog.uncertainty_params.override_problems`).
    gates : dict
        Border gate id to its changes: ``open`` (false closes it), ``clearance_factor``,
        ``clearance_h`` (``{car: h, truck: h}``) (:mod:`corridors.catalog.cross_border`).
    """

    name: str
    description: str = ""
    delay: dict[str, int] = field(default_factory=dict)
    drop: tuple[str, ...] = ()
    add: tuple[dict[str, Any], ...] = ()
    speeds: dict[str, dict[str, float]] = field(default_factory=dict)
    path: Path | None = None
    reading: str = DEFAULT_READING
    uncertainty: dict[str, Any] = field(default_factory=dict)
    gates: dict[str, dict[str, Any]] = field(default_factory=dict)


BASE = Scenario(name="base", description="the catalogs as shipped")


def read_scenario(path: str | Path) -> Scenario:
    """Read and check the structure of a scenario file.

    Raises
    ------
    InputError
        If the file is missing, not YAML, or malformed; every problem is listed.
    """
    path = Path(path)
    f = path.name
    problems: list[Problem] = []

    def bad(entry: str, fld: str, msg: str) -> None:
        problems.append(Problem(f, entry, fld, msg))

    try:
        doc = load_yaml(path, what="the scenario", max_bytes=MAX_SCENARIO_BYTES,
                        string_limits={"description": MAX_DESCRIPTION})
    except FileNotFoundError:
        raise InputError([Problem(str(path), "-", "-", "file not found")], "the scenario") from None
    except yaml.YAMLError as exc:
        raise InputError([Problem(f, "-", "-", f"not valid YAML: {_yaml_error(exc)}")],
                         "the scenario") from None
    if not isinstance(doc, dict):
        raise InputError([Problem(f, "-", "-", "a scenario must be a mapping")], "the scenario")
    for key in set(doc) - _KEYS:
        bad("-", key, f"unknown key; allowed: {', '.join(sorted(_KEYS))}")
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip():
        bad("-", "name", "missing: give the scenario a name")
        name = path.stem
    elif not NAME_PATTERN.fullmatch(name.strip()) or ".." in name:
        bad("-", "name", f"{_short(name)} is not a usable name: 1-64 letters, digits, '_', '.' "
            "or '-', starting with a letter or digit, without '..' (it names the output folder)")
    projects = doc.get("projects") or {}
    if not isinstance(projects, dict):
        bad("-", "projects", "must be a mapping with delay, drop and/or add")
        projects = {}
    for key in set(projects) - _PROJECT_KEYS:
        bad("projects", key, f"unknown key; allowed: {', '.join(sorted(_PROJECT_KEYS))}")
    delay = projects.get("delay") or {}
    if not isinstance(delay, dict):
        bad("projects", "delay", "must map project ids to years")
        delay = {}
    for pid, year in delay.items():
        if isinstance(year, bool) or not isinstance(year, int) or not YEAR_MIN <= year <= YEAR_MAX:
            bad(str(pid), "projects.delay", f"year must be a whole year in {YEAR_MIN}-{YEAR_MAX}, "
                f"got {year!r}")
    drop = projects.get("drop") or []
    if not isinstance(drop, list):
        bad("projects", "drop", "must be a list of project ids")
        drop = []
    add = projects.get("add") or []
    if not isinstance(add, list) or not all(isinstance(e, dict) for e in add):
        bad("projects", "add", "must be a list of project entries (the form of projects.yaml)")
        add = []
    speeds = doc.get("speeds") or {}
    if not isinstance(speeds, dict):
        bad("-", "speeds", "must be a mapping of class/project/source to km/h")
        speeds = {}
    for key, table in speeds.items():
        if key not in _SPEED_KEYS:
            bad("speeds", key, f"unknown key; allowed: {', '.join(sorted(_SPEED_KEYS))}")
            continue
        if not isinstance(table, dict):
            bad("speeds", key, "must map names to km/h")
            continue
        for k, v in table.items():
            if isinstance(v, bool) or not isinstance(v, int | float) or not 1 <= v <= 400:
                bad(str(k), f"speeds.{key}", f"must be a speed in km/h (1-400), got {v!r}")
            if key == "class" and k not in SPEED_CLASSES:
                bad(str(k), "speeds.class", "unknown class; speeds can be set for "
                    f"{', '.join(SPEED_CLASSES)}")
            elif key == "source" and not (isinstance(k, str) and k.startswith(SOURCE_PREFIXES)
                                          and len(k) > len(k.split(":")[0]) + 1):
                bad(str(k), "speeds.source", "must be an edge source such as 'giaothong:123', "
                    "'osm:way/123' or 'catalog:<project id>'")
            elif key == "project" and not isinstance(k, str):
                bad(str(k), "speeds.project", "must be a project or existing link id")
    reading = doc.get("open_years", DEFAULT_READING)
    if reading not in READINGS:
        bad("-", "open_years", f"must be one of {', '.join(READINGS)}, got {reading!r}")
    uncertainty = doc.get("uncertainty") or {}
    if not isinstance(uncertainty, dict):
        bad("-", "uncertainty", "must be a mapping of delays, kind_factor, speeds and/or "
            "gain_threshold_h (see data/uncertainty.yaml)")
        uncertainty = {}
    problems += override_problems(uncertainty, f)
    gates = doc.get("gates") or {}
    problems += gate_change_problems(gates, f)
    if problems:
        raise InputError(problems, f"the scenario {path}")
    return Scenario(reading=reading, name=name.strip(),
                    description=str(doc.get("description") or ""),
                    delay={str(k): v for k, v in delay.items()},
                    drop=tuple(str(p) for p in drop), add=tuple(add),
                    speeds={k: dict(v) for k, v in speeds.items()}, path=path,
                    uncertainty=dict(uncertainty),
                    gates={str(k): dict(v) for k, v in gates.items()})


def apply_scenario(scenario: Scenario, catalog_path: str | Path | None = None) -> Catalog:
    """Return the catalog as the scenario changes it.

    Parameters
    ----------
    scenario : Scenario
    catalog_path : path, optional
        Catalog folder or file (default: the shipped catalog).

    Raises
    ------
    InputError
        If the scenario names an unknown project (under ``projects`` or ``speeds``), an unknown
        ``catalog:`` source, or an added entry is invalid (problems carry the scenario file's
        name). Everything is checked here, before any network is built.
    """
    raw = read_raw(catalog_path)
    f = scenario.path.name if scenario.path else scenario.name
    ids = {e.get("id") for _, e in raw.entries["projects"]}
    problems = []
    for pid in scenario.delay:
        if pid not in ids:
            problems.append(Problem(f, pid, "projects.delay", "unknown project id"))
    for pid in scenario.drop:
        if pid not in ids:
            problems.append(Problem(f, pid, "projects.drop", "unknown project id"))
    problems += _speed_problems(scenario, raw, f)
    if scenario.gates:
        places = {e.get("id"): e for _, e in raw.entries["places"]}
        problems += [Problem(f, g, "gates", "unknown border gate id") for g in scenario.gates
                     if places.get(g, {}).get("kind") != "border_gate"]
    drop = _with_dependants(scenario, raw, f)
    entries = []
    for fname, e in raw.entries["projects"]:
        if e.get("id") in drop:
            continue
        if e.get("id") in scenario.delay:
            e = copy.deepcopy(e)
            e["open_year"] = scenario.delay[e["id"]]
            e["open_year_basis"] = "scenario"  # the scenario's year stands in every reading
            e["status_source"] = f"scenario {scenario.name}: delayed"
        entries.append((fname, e))
    entries += [(f, copy.deepcopy(e)) for e in scenario.add]
    changed = RawCatalog(entries={**raw.entries, "projects": entries}, provinces=raw.provinces,
                         problems=list(raw.problems), files=raw.files)
    problems += [p for p in validate_raw(changed) if p.severity == "error"]
    if problems:
        raise InputError(problems, f"the scenario {scenario.path or scenario.name}")
    return build_catalog(changed)


def _speed_problems(scenario: Scenario, raw: RawCatalog, f: str) -> list[Problem]:
    """Problems of the ``speeds.project`` and ``speeds.source`` ids against the catalog."""
    known = {e.get("id") for key in ("projects", "links") for _, e in raw.entries[key]}
    known |= {e.get("id") for e in scenario.add}
    known.discard(None)
    problems = []
    for pid in scenario.speeds.get("project", {}):
        if pid not in known:
            problems.append(Problem(f, str(pid), "speeds.project",
                                    "unknown project or existing link id"))
    for src in scenario.speeds.get("source", {}):
        if str(src).startswith("catalog:") and src.split(":", 1)[1] not in known:
            problems.append(Problem(f, str(src), "speeds.source",
                                    "unknown catalog id (no project or existing link has it)"))
    return problems


def _with_dependants(scenario: Scenario, raw: RawCatalog, f: str) -> set[str]:
    """Return the dropped ids and every project depending on one (``same_as``, ``upgrades``).

    A project that is ``same_as`` or ``upgrades`` a dropped one cannot stand without it, so it
    is dropped too, with a warning naming it.
    """
    drop = set(scenario.drop)
    added: dict[str, str] = {}
    changed = True
    while changed:
        changed = False
        for _, e in raw.entries["projects"]:
            eid = e.get("id")
            # an entry without an id (reported by validation) must not put None in ``drop``:
            # every project without ``same_as`` or ``upgrades`` would then depend on it
            if not isinstance(eid, str) or eid in drop:
                continue
            for fld in ("same_as", "upgrades"):
                if e.get(fld) in drop:
                    drop.add(eid)
                    added[eid] = f"{fld} {e.get(fld)}"
                    changed = True
                    break
    if added:
        log.warning("%s: projects.drop: also dropped, as they depend on a dropped project: %s",
                    f, ", ".join(f"{k} ({v})" for k, v in sorted(added.items())))
    return drop


def _short(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _yaml_error(exc: yaml.YAMLError) -> str:
    """One line for a YAML error: where (line, column) and what."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if mark is not None and problem:
        context = getattr(exc, "context", None)
        return (f"line {mark.line + 1}, column {mark.column + 1}: "
                + (f"{context}: " if context else "") + problem)
    return " ".join(str(exc).split())
