"""The cross-border catalog (``data/catalog/cross_border.yaml``): read, validate, turn into specs.

The file holds the places beyond the border (English, Vietnamese and local-script names), the
foreign roads and railways (gauge, official length, opening year, each with its source), the
gate crossings and the places where trains change gauge (:mod:`network.crossings` inserts them).
Every problem is reported at once as ``Problem(file, entry, field)``, like the other catalogs.

A scenario's ``gates:`` key changes a crossing: ``open: false`` closes every crossing of a gate,
``clearance_factor`` multiplies its clearance time, ``clearance_h: {car: h, truck: h}`` replaces
it (:func:`apply_gate_changes`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import yaml

from corridors.catalog.model import Catalog, Place, default_catalog_dir, read_raw
from corridors.core.constants import HISTORIC_YEAR_MIN, YEAR_MAX
from corridors.core.diagnostics import InputError, Problem
from corridors.core.safe_yaml import YamlInputError, load_yaml
from corridors.network.build import MasterNetwork
from corridors.network.crossings import (
    DUAL_END,
    Crossing,
    ForeignLink,
    ForeignNetwork,
    ForeignPlace,
    GaugeChange,
    attach_foreign,
)
from corridors.network.schema import TERRAINS
from corridors.network.speeds import SpeedTable

__all__ = ["CROSS_BORDER_FILE", "CrossBorder", "GATE_KEYS", "apply_gate_changes",
           "attach_cross_border",
           "cross_border_path", "foreign_network", "gate_change_problems",
           "is_cross_border_file", "load_cross_border", "validate_cross_border"]

CROSS_BORDER_FILE = "cross_border.yaml"
COUNTRIES = ("CHN", "LAO")
PLACE_KINDS = ("city", "gate", "station")
ROAD_CLASSES = ("expressway", "national")
RAIL_GAUGES = ("standard", "metre")
CROSSING_GAUGES = ("standard", "metre", "dual")
PROFILES = ("car", "truck")
BASES = ("fact", "assumption")
#: Keys of a scenario's ``gates:`` entry.
GATE_KEYS = ("open", "clearance_factor", "clearance_h")
_YEARS = (HISTORIC_YEAR_MIN, YEAR_MAX)


class CatalogIds(Protocol):
    """What :func:`validate_cross_border` reads of a catalog: its ids, and each place's kind."""

    @property
    def places(self) -> Mapping[Any, Any]: ...  # noqa: D102
    @property
    def projects(self) -> Mapping[Any, Any]: ...  # noqa: D102
    @property
    def links(self) -> Mapping[Any, Any]: ...  # noqa: D102


@dataclass(frozen=True)
class CrossBorder:
    """The validated cross-border catalog.

    Attributes
    ----------
    places : dict
        Foreign places by id, as catalog :class:`corridors.catalog.model.Place` objects (kind
        ``foreign_city``, ``foreign_gate`` or ``foreign_station``; ``attrs`` holds ``country``
        and ``name_local``), so that names match as the catalog's do.
    links, crossings, gauge_changes : list of dict
        The entries as written (validated).
    dual_gauge : dict
    path : pathlib.Path
    """

    places: dict[str, Place]
    links: list[dict[str, Any]]
    crossings: list[dict[str, Any]]
    gauge_changes: list[dict[str, Any]]
    dual_gauge: dict[str, Any]
    path: Path


def cross_border_path(catalog_path: str | Path | None = None) -> Path:
    """Return the cross-border file of a catalog folder (the shipped one for a file or None)."""
    if catalog_path is not None and Path(catalog_path).is_dir():
        return Path(catalog_path) / CROSS_BORDER_FILE
    return default_catalog_dir() / CROSS_BORDER_FILE


def is_cross_border_file(path: Path) -> bool:
    """Whether a user's catalog file is a cross-border one: by its name, or its keys."""
    if path.name == CROSS_BORDER_FILE:
        return True
    try:
        doc = load_yaml(path, what=f"the catalog file {path.name}")
    except (YamlInputError, OSError, yaml.YAMLError):  # reported by the catalog reader
        return False
    return isinstance(doc, dict) and ("crossings" in doc or "gauge_changes" in doc)


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _text(v: Any) -> bool:
    return isinstance(v, str) and bool(v.strip())


def _figure_problem(v: Any) -> str | None:
    """Check a speed figure: {value: km/h > 0, source} or {value, assumption: true, note}."""
    if not isinstance(v, dict) or not _number(v.get("value")) or v["value"] <= 0:
        return "must be a mapping with a positive 'value' (km/h)"
    if not (_text(v.get("source")) or (v.get("assumption") is True and _text(v.get("note")))):
        return "needs a 'source', or 'assumption: true' and a 'note'"
    return None


def validate_cross_border(doc: Any, fname: str, catalog: CatalogIds,
                          projects: Collection[str] | None = None) -> list[Problem]:
    """Every problem of a cross-border document, with file, entry and field.

    Parameters
    ----------
    doc : object
        The parsed YAML.
    fname : str
        File name written in the problems.
    catalog : Catalog or CatalogIds
        The main catalog (gate ids, project ids; ids must be unique across both), or just
        its ids (places with their ``kind``).
    projects : collection of str, optional
        The project ids a crossing may need (default the catalog's): those of the catalog
        folder, when a scenario has dropped some (a crossing of a dropped project is left out
        of the network, not an error).
    """
    out: list[Problem] = []
    known_projects = set(catalog.projects) if projects is None else set(projects)

    def bad(entry: str, fld: str, msg: str) -> None:
        out.append(Problem(fname, entry, fld, msg))

    if not isinstance(doc, dict):
        return [Problem(fname, "-", "-", "the file must be a mapping")]
    for key in ("places", "links", "crossings", "gauge_changes"):
        if not isinstance(doc.get(key), list):
            bad("-", key, "must be a list of entries")
    places = [e for e in doc.get("places") or [] if isinstance(e, dict)]
    links = [e for e in doc.get("links") or [] if isinstance(e, dict)]
    crossings = [e for e in doc.get("crossings") or [] if isinstance(e, dict)]
    changes = [e for e in doc.get("gauge_changes") or [] if isinstance(e, dict)]
    seen: set[str] = set()
    taken = {*catalog.places, *catalog.projects, *catalog.links}
    for e in [*places, *links, *crossings, *changes]:
        eid = e.get("id")
        if not isinstance(eid, str) or not eid or not eid.replace("_", "a").isalnum() \
                or eid != eid.lower():
            bad(str(eid), "id", "must be lowercase ASCII [a-z0-9_]")
        elif eid in seen or eid in taken:
            bad(eid, "id", "duplicate id (ids are unique across all catalog files)")
        seen.add(str(eid))
    place_ids = {e.get("id"): e for e in places}
    for e in places:
        eid = str(e.get("id"))
        for f in ("name", "name_vi", "name_local", "source"):
            if not _text(e.get(f)):
                bad(eid, f, "missing or empty")
        if e.get("country") not in COUNTRIES:
            bad(eid, "country", f"must be one of {', '.join(COUNTRIES)}")
        if e.get("kind") not in PLACE_KINDS:
            bad(eid, "kind", f"must be one of {', '.join(PLACE_KINDS)}")
        if not _number(e.get("lat")) or not -90 <= e["lat"] <= 90:
            bad(eid, "lat", "must be a latitude in degrees")
        if not _number(e.get("lon")) or not -180 <= e["lon"] <= 180:
            bad(eid, "lon", "must be a longitude in degrees")
    for e in links:
        eid = str(e.get("id"))
        for f in ("name", "name_vi", "name_local", "source"):
            if not _text(e.get(f)):
                bad(eid, f, "missing or empty")
        mode = e.get("mode")
        if mode not in ("road", "rail"):
            bad(eid, "mode", "must be road or rail")
        classes = ROAD_CLASSES if mode == "road" else RAIL_GAUGES
        if e.get("class") not in classes:
            bad(eid, "class", f"must be one of {', '.join(classes)} for a {mode} link")
        wps = e.get("waypoints")
        if not isinstance(wps, list) or len(wps) < 2:
            bad(eid, "waypoints", "needs at least two foreign place ids")
        else:
            for w in wps:
                if w not in place_ids:
                    bad(eid, "waypoints", f"unknown foreign place {w!r}")
        if e.get("length_km") is not None and (not _number(e["length_km"])
                                               or e["length_km"] <= 0):
            bad(eid, "length_km", "must be a positive number (km) or null")
        if not isinstance(e.get("open_year"), int) or not _YEARS[0] <= e["open_year"] <= _YEARS[1]:
            bad(eid, "open_year", f"must be a year {_YEARS[0]}-{_YEARS[1]}")
        if e.get("open_year_basis") not in BASES:
            bad(eid, "open_year_basis", f"must be one of {', '.join(BASES)}")
        if mode == "road":
            if e.get("terrain") not in TERRAINS:
                bad(eid, "terrain", f"must be one of {', '.join(TERRAINS)}")
            dsk = e.get("design_speed_kmh")
            if dsk is not None and (not _number(dsk) or dsk <= 0):
                bad(eid, "design_speed_kmh", "must be a positive number (km/h)")
        elif mode == "rail":
            for f in ("freight_kmh", "passenger_kmh"):
                if (msg := _figure_problem(e.get(f))) is not None:
                    bad(eid, f, msg)
    for e in crossings:
        eid = str(e.get("id"))
        gate = catalog.places.get(str(e.get("gate")))
        if gate is None or gate.kind != "border_gate":
            bad(eid, "gate", f"{e.get('gate')!r} is not a border gate of places.yaml")
        if e.get("foreign") not in place_ids:
            bad(eid, "foreign", f"unknown foreign place {e.get('foreign')!r}")
        mode = e.get("mode")
        if mode not in ("road", "rail"):
            bad(eid, "mode", "must be road or rail")
        if mode == "rail" and e.get("gauge") not in CROSSING_GAUGES:
            bad(eid, "gauge", f"must be one of {', '.join(CROSSING_GAUGES)} for a rail crossing")
        if e.get("length_km") is not None and (not _number(e["length_km"])
                                               or e["length_km"] <= 0):
            bad(eid, "length_km", "must be a positive number (km) or null")
        if "profiles" in e and (not isinstance(e["profiles"], list)
                                or not set(e["profiles"]) <= set(PROFILES) or not e["profiles"]):
            bad(eid, "profiles", f"must be a non-empty list of {', '.join(PROFILES)}")
        if e.get("project") is not None and e["project"] not in known_projects:
            bad(eid, "project", f"unknown project {e['project']!r}")
        if not isinstance(e.get("open_year"), int):
            bad(eid, "open_year", "must be a year")
        if not _text(e.get("source")):
            bad(eid, "source", "missing or empty")
    for e in changes:
        eid = str(e.get("id"))
        at = e.get("at")
        if at not in place_ids and at != DUAL_END and at not in catalog.places:
            bad(eid, "at", f"must be a foreign place, a gate of places.yaml or {DUAL_END!r}")
        if not _text(e.get("source")):
            bad(eid, "source", "missing or empty")
    dual = doc.get("dual_gauge")
    if dual is not None:
        term = dual.get("terminal") if isinstance(dual, dict) else None
        if not isinstance(term, dict) or not _number(term.get("lat")) \
                or not _number(term.get("lon")):
            bad("dual_gauge", "terminal", "must be {name, lat, lon}")
    return out


def load_cross_border(catalog: Catalog, catalog_path: str | Path | None = None
                      ) -> CrossBorder | None:
    """Read and validate the cross-border catalog; None when the folder has none.

    Raises
    ------
    InputError
        With every problem (file, entry, field).
    """
    path = cross_border_path(catalog_path)
    if not path.exists():
        return None
    try:
        doc = load_yaml(path, what=f"the catalog file {path.name}")
    except YamlInputError as exc:
        raise InputError(exc.problems, what=f"the catalog file {path}") from None
    folder_projects = {e["id"] for _, e in read_raw(catalog_path).entries["projects"]
                       if isinstance(e, dict) and isinstance(e.get("id"), str)}
    problems = validate_cross_border(doc, path.name, catalog, folder_projects | set(
        catalog.projects))
    if problems:
        raise InputError(problems, what=f"the catalog file {path}")
    places = {}
    for e in doc["places"]:
        places[e["id"]] = Place(
            id=e["id"], name=e["name"], name_vi=e["name_vi"], kind=f"foreign_{e['kind']}",
            lat=float(e["lat"]), lon=float(e["lon"]), province="", province_2025="",
            source=e["source"], location_method="described", location_confidence="medium",
            aliases=(e["name_local"], *(e.get("aliases") or ())),
            attrs={"country": e["country"], "name_local": e["name_local"],
                   "rail_terminal": bool(e.get("rail_terminal"))})
    return CrossBorder(places, list(doc["links"]), list(doc["crossings"]),
                       list(doc["gauge_changes"]), dict(doc.get("dual_gauge") or {}), path)


def foreign_network(cb: CrossBorder, catalog: Catalog,
                    gates: Mapping[str, Mapping[str, Any]] | None = None) -> ForeignNetwork:
    """Return the specs :func:`network.crossings.attach_foreign` inserts, with gate changes.

    Parameters
    ----------
    cb : CrossBorder
    catalog : Catalog
        The main catalog (gates: class and position).
    gates : mapping, optional
        A scenario's ``gates:`` (gate id to ``open``, ``clearance_factor``, ``clearance_h``),
        already checked (:func:`gate_change_problems`).
    """
    places = tuple(ForeignPlace(p.id, p.name_vi, p.kind.removeprefix("foreign_"), p.lon, p.lat,
                                bool(p.attrs.get("rail_terminal"))) for p in cb.places.values())

    def speed(e: dict, key: str) -> float | None:
        return float(e[key]["value"]) if isinstance(e.get(key), dict) else None

    links = tuple(ForeignLink(
        id=e["id"], name=e["name_vi"], mode=e["mode"], link_class=e["class"],
        place_ids=tuple(e["waypoints"]), length_km=e.get("length_km"),
        open_year=e.get("open_year"), terrain=e.get("terrain"),
        design_speed_kmh=e.get("design_speed_kmh"), freight_kmh=speed(e, "freight_kmh"),
        passenger_kmh=speed(e, "passenger_kmh")) for e in cb.links)
    crossings = []
    for e in cb.crossings:
        if e.get("project") and e["project"] not in catalog.projects:
            continue  # a scenario dropped the project the crossing needs
        gate = catalog.places[e["gate"]]
        crossings.append(Crossing(
            id=e["id"], gate_id=gate.id, gate_class=str(gate.attrs.get("gate_class",
                                                                       "international")),
            gate_lon=gate.lon, gate_lat=gate.lat, foreign_id=e["foreign"], mode=e["mode"],
            gauge=e.get("gauge"), length_km=e.get("length_km"), project=e.get("project"),
            profiles=tuple(e.get("profiles") or PROFILES)))
    crossings = apply_gate_changes(crossings, gates or {})
    changes = tuple(GaugeChange(e["id"], e["at"]) for e in cb.gauge_changes)
    gate_points = {p.id: (p.lon, p.lat) for p in catalog.places.values()
                   if p.kind == "border_gate"}
    term = cb.dual_gauge.get("terminal")
    return ForeignNetwork(places, links, tuple(crossings), changes, gate_points,
                          (float(term["lon"]), float(term["lat"])) if term else None)


def apply_gate_changes(crossings: list[Crossing], gates: Mapping[str, Mapping[str, Any]]
                       ) -> list[Crossing]:
    """Apply a scenario's ``gates:``: close gates, scale or set their clearance times (h)."""
    out = []
    for c in crossings:
        change = gates.get(c.gate_id)
        if change is None:
            out.append(c)
            continue
        if change.get("open") is False:
            continue
        out.append(replace(c, clearance_factor=float(change.get("clearance_factor", 1.0)),
                           clearance_h={k: float(v) for k, v in
                                        (change.get("clearance_h") or {}).items()}))
    return out


def gate_change_problems(gates: Any, fname: str, catalog: Catalog | None = None
                         ) -> list[Problem]:
    """Problems of a scenario's ``gates:`` key (file, entry = the gate, field ``gates.<key>``).

    With ``catalog``, gate ids are checked against its border gates.
    """
    out: list[Problem] = []
    if not isinstance(gates, dict):
        return [Problem(fname, "-", "gates", "must be a mapping of gate id to changes "
                        "(open, clearance_factor, clearance_h)")]
    for gid, change in gates.items():
        g = str(gid)
        if catalog is not None and (g not in catalog.places
                                    or catalog.places[g].kind != "border_gate"):
            out.append(Problem(fname, g, "gates", "unknown border gate id"))
        if not isinstance(change, dict):
            out.append(Problem(fname, g, "gates", "must be a mapping of "
                               + ", ".join(GATE_KEYS)))
            continue
        for k in set(change) - set(GATE_KEYS):
            out.append(Problem(fname, g, f"gates.{k}",
                               f"unknown key; allowed: {', '.join(GATE_KEYS)}"))
        if "open" in change and not isinstance(change["open"], bool):
            out.append(Problem(fname, g, "gates.open", "must be true or false"))
        f = change.get("clearance_factor")
        if f is not None and (not _number(f) or f < 0):
            out.append(Problem(fname, g, "gates.clearance_factor",
                               "must be a number >= 0 (0.5 halves the clearance time)"))
        hours = change.get("clearance_h")
        if hours is not None:
            if not isinstance(hours, dict) or not set(hours) <= set(PROFILES):
                out.append(Problem(fname, g, "gates.clearance_h",
                                   "must be a mapping {car: h, truck: h}"))
            else:
                for prof, h in hours.items():
                    if not _number(h) or h < 0:
                        out.append(Problem(fname, g, f"gates.clearance_h.{prof}",
                                           "must be a number of hours >= 0"))
    return out


def attach_cross_border(master: MasterNetwork, catalog: Catalog,
                        catalog_path: str | Path | None = None,
                        gates: Mapping[str, Mapping[str, Any]] | None = None,
                        speed_table: SpeedTable | None = None,
                        speed_overrides: Mapping | None = None) -> MasterNetwork:
    """Return the master network with the other side of the border, when the catalog has one.

    The foreign places are also set on ``catalog.foreign`` (so that names in any script find
    them). A scenario's ``gates`` close gates or change their clearance.
    """
    cb = load_cross_border(catalog, catalog_path)
    if cb is None:
        return master
    catalog.foreign = dict(cb.places)
    spec = foreign_network(cb, catalog, gates)
    nodes, edges = attach_foreign(master.nodes, master.edges, spec, speed_table, speed_overrides)
    return MasterNetwork(nodes=nodes, edges=edges, assembly=master.assembly)
