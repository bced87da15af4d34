"""Validation of the planning catalogs: every problem at once, each with file, entry and field."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import shapely
import yaml
from pyproj import Transformer
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from corridors.catalog.cross_border import (
    cross_border_path,
    is_cross_border_file,
    validate_cross_border,
)
from corridors.catalog.model import RawCatalog, read_raw
from corridors.catalog.timing import OPEN_YEAR_BASES as _OPEN_YEAR_BASES
from corridors.catalog.timing import plan_open_year
from corridors.core.constants import HISTORIC_YEAR_MIN, METRIC_CRS, WGS84, YEAR_MAX, YEAR_MIN
from corridors.core.diagnostics import Problem
from corridors.core.safe_yaml import YamlInputError, load_yaml
from corridors.layers.region import read_layer

MODES = {"road", "rail", "waterway", "air", "dry_port"}
PROJECT_KINDS = {"new", "upgrade", "widening", "study"}
LINK_KINDS = {"existing"}
CATEGORIES = {"highway", "access_road", "railway", "airport", "waterway", "other"}
STATUSES = {"open", "partially_open", "under_construction", "planned", "study", "unknown"}
LOCATION_TYPES = {"alignment", "network_ref", "point", "programme"}
PLACE_KINDS = {"border_gate", "bgez", "dry_port", "airport", "seaport", "river_port", "city",
               "town", "interchange", "rail_station", "tripoint"}
ROLES = {"provincial_capital", "growth_pole", "national_capital"}
LOCATION_METHODS = {"published", "proxy", "border_road_end", "border_nearest_anchor",
                    "town_centre", "described"}
CONFIDENCES = {"high", "medium", "low"}
GATE_CLASSES = {"international", "main", "secondary"}
GATE_MODES = {"road", "rail", "road_rail"}
NEIGHBOURS = {"CHN", "LAO"}
FACILITY_STATUSES = {"existing", "planned"}
CORRIDOR_KINDS = {"economic_corridor", "connection_chain", "development_axis",
                  "provincial_corridor"}
OPEN_YEAR_BASES = set(_OPEN_YEAR_BASES)

#: A border gate must lie within this distance of the border line (km).
GATE_MAX_BORDER_KM = 2.0
#: Points may lie this far outside the 21 provinces and still be in the study area (km).
STUDY_AREA_MARGIN_KM = 10.0

_ID = re.compile(r"^[a-z0-9_]+$")
_TO_METRIC = Transformer.from_crs(WGS84, METRIC_CRS, always_xy=True)


@dataclass(frozen=True)
class Geography:
    """Reference geometries in the metric CRS used by the checks."""

    study_area: BaseGeometry
    border: BaseGeometry
    provinces: dict[str, BaseGeometry]


@lru_cache(maxsize=1)
def geography() -> Geography:
    """Return the study area (21 provinces + margin), border line and provinces, in metres."""
    prov = read_layer("provinces_2024").to_crs(METRIC_CRS)
    border = read_layer("border").to_crs(METRIC_CRS)
    area = shapely.union_all(prov.geometry.values).buffer(STUDY_AREA_MARGIN_KM * 1000)
    polys = dict(zip(prov["name"], prov.geometry, strict=True))
    return Geography(area, shapely.union_all(border.geometry.values), polys)


def to_metric(lon: float, lat: float) -> Point:
    """Project a WGS 84 coordinate to the metric CRS (UTM 48N, metres)."""
    return Point(*_TO_METRIC.transform(lon, lat))


class _Checker:
    """Collects problems for one catalog; one method per entry type."""

    def __init__(self, raw: RawCatalog):
        self.raw = raw
        self.problems: list[Problem] = list(raw.problems)
        self.geo = geography()
        self.place_ids: dict[str, str] = {}  # id -> kind
        self.project_ids = {e.get("id") for _, e in raw.entries["projects"]}
        self.place_coords = {e.get("id"): e for _, e in raw.entries["places"]}
        self.link_ids = self.project_ids | {e.get("id") for _, e in raw.entries["links"]}
        tab = raw.provinces
        self.merger = dict(zip(tab["province_2024"], tab["province_2025"], strict=True))

    # -- helpers --------------------------------------------------------------------------------
    def add(self, file: str, entry: str, fld: str, msg: str, severity: str = "error") -> None:
        self.problems.append(Problem(file, entry, fld, msg, severity))  # type: ignore[arg-type]

    def choice(self, file: str, eid: str, e: dict, fld: str, allowed: Iterable[str],
               required: bool = True) -> None:
        value = e.get(fld)
        if value is None:
            if required:
                self.add(file, eid, fld, "missing")
            return
        if value not in allowed:
            self.add(file, eid, fld, f"unknown value {value!r}; allowed: "
                     + ", ".join(sorted(allowed)))

    def text(self, file: str, eid: str, e: dict, fld: str, required: bool = True) -> None:
        value = e.get(fld)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(file, eid, fld, "missing or empty")
        elif not isinstance(value, str):
            self.add(file, eid, fld, f"must be text, got {value!r}")

    def year(self, file: str, eid: str, e: dict, fld: str, required: bool = True,
             minimum: int = YEAR_MIN) -> int | None:
        value = e.get(fld)
        if value is None:
            if required:
                self.add(file, eid, fld, "missing")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(file, eid, fld, f"must be a whole year, got {value!r}")
            return None
        if not minimum <= value <= YEAR_MAX:
            self.add(file, eid, fld, f"year {value} outside {minimum}-{YEAR_MAX}")
            return None
        return value

    def coords(self, file: str, eid: str, spec: dict, prefix: str) -> Point | None:
        """Check lat/lon of a mapping; return the metric point when usable."""
        lat, lon = spec.get("lat"), spec.get("lon")
        bad = False
        for fld, v, lim in (("lat", lat, 90), ("lon", lon, 180)):
            if v is None:
                self.add(file, eid, prefix + fld, "missing")
                bad = True
            elif isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                self.add(file, eid, prefix + fld, f"must be a number of degrees, got {v!r}")
                bad = True
            elif abs(v) > lim:
                self.add(file, eid, prefix + fld, f"{v} is not a valid {fld}")
                bad = True
        if bad or lat is None or lon is None:
            return None
        pt = to_metric(float(lon), float(lat))
        if not self.geo.study_area.contains(pt):
            self.add(file, eid, prefix + "lat/lon", f"({lat}, {lon}) lies outside the study "
                     f"area (the 21 provinces + {STUDY_AREA_MARGIN_KM:g} km)")
        return pt

    def entry_id(self, file: str, i: int, e: dict) -> str:
        eid = e.get("id")
        if not isinstance(eid, str) or not eid:
            self.add(file, f"#{i + 1}", "id", "missing")
            return f"#{i + 1}"
        if not _ID.match(eid):
            self.add(file, eid, "id", "must be lowercase ASCII letters, digits and '_'")
        return eid

    # -- places ---------------------------------------------------------------------------------
    def places(self) -> None:
        for i, (file, e) in enumerate(self.raw.entries["places"]):
            eid = self.entry_id(file, i, e)
            self.common(file, eid, e)
            self.choice(file, eid, e, "kind", PLACE_KINDS)
            self.choice(file, eid, e, "location_method", LOCATION_METHODS)
            self.choice(file, eid, e, "location_confidence", CONFIDENCES)
            for role in e.get("roles") or []:
                if role not in ROLES:
                    self.add(file, eid, "roles", f"unknown role {role!r}; allowed: "
                             + ", ".join(sorted(ROLES)))
            pt = self.coords(file, eid, e, "")
            self.provinces_of(file, eid, e, pt)
            kind = e.get("kind")
            if kind == "border_gate":
                self.choice(file, eid, e, "gate_class", GATE_CLASSES)
                self.choice(file, eid, e, "gate_mode", GATE_MODES)
                self.choice(file, eid, e, "neighbour", NEIGHBOURS)
                if pt is not None:
                    d_km = self.geo.border.distance(pt) / 1000
                    if d_km > GATE_MAX_BORDER_KM:
                        self.add(file, eid, "lat/lon", f"border gate lies {d_km:.1f} km from the "
                                 f"border line (at most {GATE_MAX_BORDER_KM:g} km)")
            if kind in {"airport", "seaport", "river_port", "dry_port"}:
                self.choice(file, eid, e, "status", FACILITY_STATUSES)
            if e.get("location_method") == "border_road_end":
                self.text(file, eid, e, "access_road")
            if e.get("location_method") == "border_nearest_anchor":
                anchor = e.get("anchor")
                if not isinstance(anchor, dict):
                    self.add(file, eid, "anchor", "missing: border_nearest_anchor needs "
                             "anchor: {name, lat, lon, source}")
                else:
                    self.coords(file, eid, anchor, "anchor.")

    def provinces_of(self, file: str, eid: str, e: dict, pt: Point | None) -> None:
        old, new = e.get("province"), e.get("province_2025")
        if old not in self.merger:
            self.add(file, eid, "province", f"unknown province {old!r}; allowed: "
                     + ", ".join(sorted(self.merger)))
            return
        if new != self.merger[old]:
            self.add(file, eid, "province_2025", f"{old} became {self.merger[old]} on "
                     f"1 July 2025, not {new!r}")
        if pt is not None and old in self.geo.provinces:
            d_km = self.geo.provinces[old].distance(pt) / 1000
            if d_km > GATE_MAX_BORDER_KM:
                self.add(file, eid, "province", f"the point lies {d_km:.1f} km outside {old}",
                         "warning")

    def common(self, file: str, eid: str, e: dict) -> None:
        self.text(file, eid, e, "name")
        self.text(file, eid, e, "name_vi")
        self.text(file, eid, e, "source")
        name = e.get("name")
        if isinstance(name, str) and not name.isascii():
            self.add(file, eid, "name", "the English name should be ASCII (diacritics go in "
                     "name_vi)", "warning")

    # -- projects and links ---------------------------------------------------------------------
    def projects(self, key: str, kinds: set[str]) -> None:
        # existing links carry their historical opening years (railways of 1902, 1910)
        first_year = HISTORIC_YEAR_MIN if key == "links" else YEAR_MIN
        for i, (file, e) in enumerate(self.raw.entries[key]):
            eid = self.entry_id(file, i, e)
            self.common(file, eid, e)
            self.choice(file, eid, e, "mode", MODES)
            self.choice(file, eid, e, "kind", kinds)
            self.choice(file, eid, e, "category", CATEGORIES, required=False)
            self.choice(file, eid, e, "status_2025", STATUSES)
            self.choice(file, eid, e, "open_year_basis", OPEN_YEAR_BASES, required=False)
            open_year = self.year(file, eid, e, "open_year", minimum=first_year)
            for fld, pool in (("same_as", self.project_ids), ("upgrades", self.link_ids)):
                ref = e.get(fld)
                if ref is not None and (ref not in pool or ref == eid):
                    what = "project" if fld == "same_as" else "project or existing link"
                    self.add(file, eid, fld, f"{ref!r} is not another {what} of the catalog")
            planned = self.year(file, eid, e, "plan_open_year", required=False)
            plan = e.get("plan") or {}
            if not isinstance(plan, dict):
                self.add(file, eid, "plan", "must be a mapping (task, presiding_authority, "
                         "funding, expected_time)")
                plan = {}
            expected = plan.get("expected_time")
            if expected is not None:
                try:
                    rule = plan_open_year(str(expected))
                except ValueError as exc:
                    self.add(file, eid, "plan.expected_time", str(exc))
                else:
                    if planned is not None and planned != rule:
                        self.add(file, eid, "plan_open_year", f"{planned} disagrees with the "
                                 f"rule for {expected!r}, which gives {rule}")
            basis = e.get("open_year_basis", "plan")
            if basis == "plan" and planned is not None and open_year is not None \
                    and open_year != planned:
                self.add(file, eid, "open_year", f"{open_year} differs from plan_open_year "
                         f"{planned} but open_year_basis is 'plan' (use 'fact' and cite it)")
            if basis in ("fact", "target"):
                self.text(file, eid, e, "status_source")
            length = e.get("length_km")
            if length is not None and (isinstance(length, bool)
                                       or not isinstance(length, int | float) or length <= 0):
                self.add(file, eid, "length_km", f"must be a positive number of km, got "
                         f"{length!r}")
            self.standard(file, eid, e.get("standard"))
            self.location(file, eid, e.get("location"))

    def standard(self, file: str, eid: str, std: Any) -> None:
        if std is None:
            return
        if not isinstance(std, dict):
            self.add(file, eid, "standard", "must be a mapping (road_class, lanes, "
                     "design_speed_kmh)")
            return
        lanes = std.get("lanes")
        if lanes is not None and (not isinstance(lanes, int) or not 1 <= lanes <= 12):
            self.add(file, eid, "standard.lanes", f"must be a whole number 1-12, got {lanes!r}")
        speed = std.get("design_speed_kmh")
        if speed is not None and (not isinstance(speed, int | float) or not 10 <= speed <= 400):
            self.add(file, eid, "standard.design_speed_kmh",
                     f"must be km/h between 10 and 400, got {speed!r}")

    def waypoint(self, file: str, eid: str, w: Any, fld: str) -> None:
        if isinstance(w, str):
            w = {"place": w}
        if not isinstance(w, dict):
            self.add(file, eid, fld, f"does not parse as a waypoint: {w!r} (use place: <id> or "
                     "{name, lat, lon})")
            return
        if "place" in w:
            if w["place"] not in self.place_ids:
                self.add(file, eid, fld + ".place", f"unknown place {w['place']!r}")
            return
        if not w.get("name"):
            self.add(file, eid, fld, f"does not parse as a waypoint: {w!r} (use place: <id> or "
                     "{name, lat, lon})")
            return
        self.coords(file, eid, w, fld + ".")

    def _point_of(self, w: Any) -> Point | None:
        if isinstance(w, str):
            w = {"place": w}
        if not isinstance(w, dict):
            return None
        spec = self.place_coords.get(w["place"]) if "place" in w else w
        if spec is None:
            return None
        try:
            return to_metric(float(spec["lon"]), float(spec["lat"]))
        except (KeyError, TypeError, ValueError):
            return None

    def border_crossing(self, file: str, eid: str, wps: list) -> None:
        """Warn when a drawn alignment leaves Vietnam (ends at a gate on the border excepted)."""
        pts = [self._point_of(w) for w in wps]
        if any(p is None for p in pts):
            return
        crossings = shapely.LineString(pts).intersection(self.geo.border)
        tol = GATE_MAX_BORDER_KM * 1000
        away = [c for c in getattr(crossings, "geoms", [crossings]) if not c.is_empty
                and min(c.distance(pts[0]), c.distance(pts[-1])) > tol]
        if away:
            self.add(file, eid, "location.waypoints", f"the alignment crosses the border line "
                     f"{len(away)} time(s) away from its ends: check the waypoints", "warning")

    def location(self, file: str, eid: str, loc: Any) -> None:
        if not isinstance(loc, dict):
            self.add(file, eid, "location", "missing or not a mapping")
            return
        ltype = loc.get("type")
        if ltype not in LOCATION_TYPES:
            self.add(file, eid, "location.type", f"unknown value {ltype!r}; allowed: "
                     + ", ".join(sorted(LOCATION_TYPES)))
            return
        if ltype == "alignment":
            wps = loc.get("waypoints")
            if not isinstance(wps, list) or len(wps) < 2:
                self.add(file, eid, "location.waypoints", "an alignment needs at least two "
                         "waypoints")
                return
            for j, w in enumerate(wps):
                self.waypoint(file, eid, w, f"location.waypoints[{j + 1}]")
            self.border_crossing(file, eid, wps)
        elif ltype == "point":
            self.waypoint(file, eid, loc, "location")
        elif ltype == "network_ref":
            refs = loc.get("refs")
            if not isinstance(refs, list) or not refs or not all(isinstance(r, str)
                                                                  for r in refs):
                self.add(file, eid, "location.refs", "network_ref needs a list of road "
                         "references such as ['QL4', 'QL279']")

    # -- corridors ------------------------------------------------------------------------------
    def corridors(self) -> None:
        for i, (file, e) in enumerate(self.raw.entries["corridors"]):
            eid = self.entry_id(file, i, e)
            self.common(file, eid, e)
            self.choice(file, eid, e, "kind", CORRIDOR_KINDS)
            stops = e.get("places")
            if not isinstance(stops, list) or len(stops) < 2:
                self.add(file, eid, "places", "a corridor needs at least two ordered places")
                continue
            for j, s in enumerate(stops):
                self.waypoint(file, eid, s, f"places[{j + 1}]")

    # -- all ------------------------------------------------------------------------------------
    def run(self) -> list[Problem]:
        seen: dict[str, str] = {}
        for key in ("places", "projects", "links", "corridors"):
            for file, e in self.raw.entries[key]:
                eid = e.get("id")
                if not isinstance(eid, str):
                    continue
                if eid in seen:
                    self.add(file, eid, "id", f"duplicate id (also in {seen[eid]})")
                else:
                    seen[eid] = file
                if key == "places":
                    self.place_ids[eid] = e.get("kind", "")
        self.places()
        for i, (file, e) in enumerate(self.raw.entries["places"]):
            if e.get("kind") == "bgez":
                eid = e.get("id", f"#{i + 1}")
                gates = e.get("gates")
                if not isinstance(gates, list) or not gates:
                    self.add(file, eid, "gates", "a BGEZ needs the list of its gate ids")
                    continue
                for g in gates:
                    if self.place_ids.get(g) != "border_gate":
                        self.add(file, eid, "gates", f"{g!r} is not a border gate of the "
                                 "catalog")
        self.projects("projects", PROJECT_KINDS)
        self.projects("links", LINK_KINDS)
        self.corridors()
        return self.problems


def validate_raw(raw: RawCatalog) -> list[Problem]:
    """Return every problem of a catalog read by :func:`corridors.catalog.model.read_raw`."""
    return _Checker(raw).run()


def validate(path: str | Path | None = None) -> list[Problem]:
    """Validate a catalog folder or file and return every problem found.

    The cross-border catalog (``cross_border.yaml``: places beyond the border, foreign links,
    crossings, changes of gauge) is checked too, against the folder's places and projects
    (:func:`corridors.catalog.cross_border.validate_cross_border`).

    Parameters
    ----------
    path : str or pathlib.Path, optional
        A catalog folder, or one catalog file (``cross_border.yaml`` included) that replaces
        its counterpart in the shipped catalog. Default: the shipped catalog.

    Returns
    -------
    list of Problem
        Errors and warnings, each naming file, entry id and field; empty when clean.
    """
    if path is not None and Path(path).is_file() and is_cross_border_file(Path(path)):
        raw, xb = read_raw(None), Path(path)
    else:
        raw, xb = read_raw(path), cross_border_path(path)
    return validate_raw(raw) + cross_border_problems(raw, xb)


def cross_border_problems(raw: RawCatalog, path: Path) -> list[Problem]:
    """Every problem of a cross-border file, checked against a raw catalog (none if absent)."""
    if not path.is_file():
        return []
    try:
        doc = load_yaml(path, what=f"the catalog file {path.name}")
    except YamlInputError as exc:
        return list(exc.problems)
    except (OSError, yaml.YAMLError) as exc:
        return [Problem(path.name, "-", "-", f"cannot read the file: {exc}")]

    def ids(key: str) -> dict:
        return {e.get("id"): SimpleNamespace(kind=e.get("kind"))
                for _, e in raw.entries.get(key, []) if isinstance(e, dict)}

    known = SimpleNamespace(places=ids("places"), projects=ids("projects"), links=ids("links"))
    return validate_cross_border(doc, path.name, known)
