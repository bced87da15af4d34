"""The planning catalogs: places, projects, existing trunk links and corridors.

The catalogs are YAML files in ``data/catalog/`` (schema: ``data/catalog/SCHEMA.md``). Reading is
tolerant (:func:`read_raw` collects parse problems instead of stopping at the first), so that
:func:`corridors.catalog.validation.validate` can report every problem at once;
:func:`corridors.catalog.load.load_catalog` validates and then builds typed objects
(:func:`build_catalog`) and GeoDataFrames.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import yaml
from shapely.geometry import LineString, Point

from corridors.catalog.timing import reading_open_year
from corridors.core.diagnostics import Problem
from corridors.core.names import match_key
from corridors.core.safe_yaml import YamlInputError, load_yaml
from corridors.layers.datadir import data_dir

#: Top-level key of each catalog file, by file name.
CATALOG_FILES: dict[str, str] = {
    "places.yaml": "places",
    "projects.yaml": "projects",
    "existing.yaml": "links",
    "corridors.yaml": "corridors",
}
PROVINCES_FILE = "provinces.csv"


def default_catalog_dir() -> Path:
    """Return the folder of the shipped catalogs (``data/catalog``)."""
    return data_dir() / "catalog"


@dataclass
class RawCatalog:
    """Catalog entries as read from disk, before validation.

    Attributes
    ----------
    entries : dict
        Top-level key (``places``, ``projects``, ``links``, ``corridors``) to a list of
        ``(file name, entry dict)``.
    provinces : pandas.DataFrame
        The old→new province table.
    problems : list of Problem
        Problems met while reading (unreadable YAML, wrong top-level key).
    files : dict
        Top-level key to the path it was read from.
    """

    entries: dict[str, list[tuple[str, dict[str, Any]]]]
    provinces: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)


def _read_yaml(path: Path, key: str, problems: list[Problem]) -> list[dict[str, Any]]:
    name = path.name
    try:
        doc = load_yaml(path, what=f"the catalog file {name}")
    except FileNotFoundError:
        problems.append(Problem(name, "-", "-", f"file not found: {path}"))
        return []
    except YamlInputError as exc:
        problems.extend(exc.problems)
        return []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.append(Problem(name, "-", "-", f"not valid YAML{where}: {exc}"))
        return []
    if not isinstance(doc, dict) or key not in doc:
        problems.append(Problem(name, "-", key, f"the file must be a mapping with the key {key!r}"))
        return []
    items = doc[key]
    if not isinstance(items, list):
        problems.append(Problem(name, "-", key, f"{key!r} must be a list of entries"))
        return []
    out = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            out.append(item)
        else:
            problems.append(Problem(name, f"#{i + 1}", "-", "each entry must be a mapping"))
    return out


def _key_of_file(path: Path, problems: list[Problem]) -> str | None:
    """Return the top-level key of a user-supplied catalog file, by its name or its content."""
    if path.name in CATALOG_FILES:
        return CATALOG_FILES[path.name]
    try:
        doc = load_yaml(path, what=f"the catalog file {path.name}")
    except YamlInputError as exc:
        problems.extend(exc.problems)
        return None
    except (OSError, yaml.YAMLError) as exc:
        problems.append(Problem(path.name, "-", "-", f"cannot read the file: {exc}"))
        return None
    keys = [k for k in CATALOG_FILES.values() if isinstance(doc, dict) and k in doc]
    if len(keys) != 1:
        problems.append(Problem(path.name, "-", "-", "cannot tell which catalog this is: it needs "
                                "exactly one of the keys " + ", ".join(CATALOG_FILES.values())))
        return None
    return keys[0]


def read_raw(path: str | Path | None = None) -> RawCatalog:
    """Read catalog entries without validating them.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        A catalog folder (holding ``places.yaml``, ``projects.yaml``, ``existing.yaml``,
        ``corridors.yaml``, ``provinces.csv``), or one catalog file, which then replaces its
        counterpart in the shipped catalog. Default: the shipped catalog.

    Returns
    -------
    RawCatalog
    """
    problems: list[Problem] = []
    base = default_catalog_dir()
    files = {key: base / name for name, key in CATALOG_FILES.items()}
    provinces_path = base / PROVINCES_FILE
    if path is not None:
        path = Path(path)
        if path.is_dir():
            files = {key: path / name for name, key in CATALOG_FILES.items()}
            if (path / PROVINCES_FILE).exists():
                provinces_path = path / PROVINCES_FILE
        elif path.is_file():
            key = _key_of_file(path, problems)
            if key:
                files[key] = path
        else:
            problems.append(Problem(str(path), "-", "-", "no such file or folder"))
    entries = {key: [(p.name, e) for e in _read_yaml(p, key, problems)] for key, p in files.items()}
    provinces = pd.read_csv(provinces_path, dtype=str)
    return RawCatalog(entries=entries, provinces=provinces, problems=problems, files=files)


@dataclass(frozen=True)
class Waypoint:
    """A point an alignment or a corridor passes through: a catalog place or an inline point."""

    name: str
    lat: float
    lon: float
    place_id: str | None = None
    name_vi: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Place:
    """A node of the catalog: border gate, BGEZ, port, dry port, airport, city or town."""

    id: str
    name: str
    name_vi: str
    kind: str
    lat: float
    lon: float
    province: str
    province_2025: str
    source: str
    location_method: str
    location_confidence: str
    roles: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    attrs: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def point(self) -> Point:
        """The place as a shapely point (lon, lat)."""
        return Point(self.lon, self.lat)


@dataclass(frozen=True)
class Project:
    """A planned project or an existing trunk link (``kind == "existing"``)."""

    id: str
    name: str
    name_vi: str
    mode: str
    kind: str
    category: str | None
    open_year: int
    plan_open_year: int | None
    open_year_basis: str
    status_2025: str
    length_km: float | None
    location_type: str
    waypoints: tuple[Waypoint, ...]
    refs: tuple[str, ...]
    place_id: str | None
    source: str
    plan: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    standard: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    attrs: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def geometry(self) -> LineString | Point | None:
        """The schematic alignment (through the waypoints), the point, or None for programmes."""
        if self.location_type == "alignment" and len(self.waypoints) >= 2:
            return LineString([(w.lon, w.lat) for w in self.waypoints])
        if self.location_type == "point" and self.waypoints:
            return Point(self.waypoints[0].lon, self.waypoints[0].lat)
        return None


@dataclass(frozen=True)
class Corridor:
    """An economic corridor, connection chain, development axis or provincial corridor."""

    id: str
    name: str
    name_vi: str
    kind: str
    stops: tuple[Waypoint, ...]
    source: str
    attrs: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


_PLACE_FIELDS = {"id", "name", "name_vi", "kind", "lat", "lon", "province", "province_2025",
                 "source", "location_method", "location_confidence", "roles", "aliases"}
_PROJECT_FIELDS = {"id", "name", "name_vi", "mode", "kind", "category", "open_year",
                   "plan_open_year", "open_year_basis", "status_2025", "length_km", "location",
                   "source", "plan", "standard"}


def _waypoint(spec: dict[str, Any], places: dict[str, Place]) -> Waypoint:
    if "place" in spec:
        p = places[spec["place"]]
        return Waypoint(p.name, p.lat, p.lon, p.id, p.name_vi, p.source)
    return Waypoint(spec["name"], float(spec["lat"]), float(spec["lon"]), None,
                    spec.get("name_vi"), spec.get("source"))


def _place(e: dict[str, Any]) -> Place:
    return Place(
        id=e["id"], name=e["name"], name_vi=e["name_vi"], kind=e["kind"],
        lat=float(e["lat"]), lon=float(e["lon"]), province=e["province"],
        province_2025=e["province_2025"], source=e["source"],
        location_method=e["location_method"], location_confidence=e["location_confidence"],
        roles=tuple(e.get("roles") or ()), aliases=tuple(e.get("aliases") or ()),
        attrs={k: v for k, v in e.items() if k not in _PLACE_FIELDS},
    )


def _project(e: dict[str, Any], places: dict[str, Place]) -> Project:
    loc = e["location"]
    ltype = loc["type"]
    if ltype == "alignment":
        waypoints = tuple(_waypoint(w, places) for w in loc["waypoints"])
    elif ltype == "point":
        waypoints = (_waypoint(loc, places),)
    else:
        waypoints = ()
    length = e.get("length_km")
    return Project(
        id=e["id"], name=e["name"], name_vi=e["name_vi"], mode=e["mode"], kind=e["kind"],
        category=e.get("category"), open_year=int(e["open_year"]),
        plan_open_year=e.get("plan_open_year"),
        open_year_basis=e.get("open_year_basis", "plan"), status_2025=e["status_2025"],
        length_km=float(length) if length is not None else None, location_type=ltype,
        waypoints=waypoints, refs=tuple(loc.get("refs") or ()), place_id=loc.get("place"),
        source=e["source"], plan=e.get("plan") or {}, standard=e.get("standard") or {},
        attrs={k: v for k, v in e.items() if k not in _PROJECT_FIELDS},
    )


@dataclass
class Catalog:
    """The validated planning catalogs.

    Attributes
    ----------
    places, projects, links, corridors : dict
        Entries by id. ``projects`` are planned; ``links`` are existing trunk links.
    provinces : pandas.DataFrame
        The old→new province table.
    warnings : list of Problem
        Warnings the validator reported.
    """

    places: dict[str, Place]
    projects: dict[str, Project]
    links: dict[str, Project]
    corridors: dict[str, Corridor]
    provinces: pd.DataFrame
    warnings: list[Problem] = field(default_factory=list)
    #: places beyond the border (data/catalog/cross_border.yaml, corridors.catalog.cross_border):
    # found
    #: by name like the others, never counted among them
    foreign: dict[str, Place] = field(default_factory=dict)

    # -- lookup ---------------------------------------------------------------------------------
    def _name_index(self) -> dict[str, list[Place]]:
        index: dict[str, list[Place]] = {}
        for p in [*self.places.values(), *self.foreign.values()]:
            for n in {p.id, p.name, p.name_vi, *p.aliases}:
                bucket = index.setdefault(match_key(n), [])
                if p not in bucket:
                    bucket.append(p)
        return index

    def find_place(self, query: str) -> Place:
        """Return the place a user means by ``query``.

        Matching ignores case and diacritics and accepts ids, English and Vietnamese names and
        aliases ("Lao Cai", "Lào Cai" and "lao cai" all find the city of Lào Cai). Where a name
        fits several places, a city wins over other kinds.

        Raises
        ------
        LookupError
            If nothing matches, or the match is ambiguous; the message lists candidates.
        """
        key = match_key(query)
        index = self._name_index()
        hits = index.get(key, [])
        if len(hits) > 1:
            cities = [p for p in hits if p.kind == "city"]
            hits = cities if len(cities) == 1 else hits
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            names = ", ".join(f"{p.id} ({p.name_vi}, {p.kind})" for p in hits)
            raise LookupError(f"{query!r} fits several places: {names}; give an id")
        close = difflib.get_close_matches(key, list(index), n=5, cutoff=0.6)
        hint = f"; did you mean: {', '.join(close)}" if close else ""
        raise LookupError(f"no catalog place matches {query!r}{hint}")

    def find_corridor(self, query: str) -> Corridor:
        """Return the corridor a user means by id or name (case and diacritics ignored)."""
        key = match_key(query)
        for c in self.corridors.values():
            if key in {match_key(c.id), match_key(c.name), match_key(c.name_vi)}:
                return c
        valid = ", ".join(sorted(self.corridors))
        raise LookupError(f"no corridor matches {query!r}; valid corridors: {valid}")

    # -- tables ---------------------------------------------------------------------------------
    def places_frame(self) -> gpd.GeoDataFrame:
        """Return the places as a GeoDataFrame (EPSG:4326), one row per place."""
        rows = [
            {"id": p.id, "name": p.name, "name_vi": p.name_vi, "kind": p.kind,
             "roles": ",".join(p.roles), "province": p.province, "province_2025": p.province_2025,
             "location_method": p.location_method, "location_confidence": p.location_confidence,
             "source": p.source, "geometry": p.point}
            for p in self.places.values()
        ]
        return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")

    def projects_frame(self, include_existing: bool = False) -> gpd.GeoDataFrame:
        """Return projects (and optionally existing links) as a GeoDataFrame (EPSG:4326).

        Columns include ``open_year`` (year), ``length_km`` (km) and ``location_type``;
        programmes and network references have an empty geometry.
        """
        items = list(self.projects.values())
        if include_existing:
            items += list(self.links.values())
        rows = [
            {"id": p.id, "name": p.name, "name_vi": p.name_vi, "mode": p.mode, "kind": p.kind,
             "category": p.category, "open_year": p.open_year,
             "plan_open_year": p.plan_open_year, "open_year_basis": p.open_year_basis,
             "status_2025": p.status_2025, "length_km": p.length_km,
             "location_type": p.location_type, "refs": ",".join(p.refs),
             "expected_time": p.plan.get("expected_time"),
             "presiding_authority": p.plan.get("presiding_authority"),
             "funding": p.plan.get("funding"), "source": p.source, "geometry": p.geometry}
            for p in items
        ]
        return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")

    def corridors_frame(self) -> gpd.GeoDataFrame:
        """Return corridors as lines through their ordered stops (EPSG:4326)."""
        rows = [
            {"id": c.id, "name": c.name, "name_vi": c.name_vi, "kind": c.kind,
             "stops": " – ".join(s.name_vi or s.name for s in c.stops), "source": c.source,
             "geometry": LineString([(s.lon, s.lat) for s in c.stops])}
            for c in self.corridors.values()
        ]
        return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def build_catalog(raw: RawCatalog) -> Catalog:
    """Build typed objects from raw entries that validated without error."""
    places = {e["id"]: _place(e) for _, e in raw.entries["places"]}
    projects = {e["id"]: _project(e, places) for _, e in raw.entries["projects"]}
    links = {e["id"]: _project(e, places) for _, e in raw.entries["links"]}
    corridors = {
        e["id"]: Corridor(
            id=e["id"], name=e["name"], name_vi=e["name_vi"], kind=e["kind"],
            stops=tuple(_waypoint(s if isinstance(s, dict) else {"place": s}, places)
                        for s in e["places"]),
            source=e["source"],
            attrs={k: v for k, v in e.items()
                   if k not in {"id", "name", "name_vi", "kind", "places", "source"}},
        )
        for _, e in raw.entries["corridors"]
    }
    return Catalog(places, projects, links, corridors, raw.provinces)


def apply_reading(cat: Catalog, reading: str = "evidence") -> Catalog:
    """Return the catalog with every opening year read as ``reading`` says.

    ``evidence`` (the default) is the network as it stands: a project opens in a year that has
    passed only with a dated fact; ``plan`` takes the plans as written
    (:func:`corridors.catalog.timing.reading_open_year` gives the rule). The catalog's own year is
    kept
    in ``attrs["catalog_open_year"]``, the reading in ``attrs["open_year_reading"]``.

    Parameters
    ----------
    cat : Catalog
    reading : {"evidence", "plan"}

    Returns
    -------
    Catalog
        A new catalog; ``cat`` is not changed.
    """
    def read(p: Project) -> Project:
        year = reading_open_year(p.open_year, p.plan_open_year, p.open_year_basis, reading)
        return replace(p, open_year=year, attrs={**p.attrs, "catalog_open_year": p.open_year,
                                                 "open_year_reading": reading})

    return replace(cat, projects={k: read(p) for k, p in cat.projects.items()},
                   links={k: read(p) for k, p in cat.links.items()})
