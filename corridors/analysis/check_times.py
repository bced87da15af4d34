"""Check modelled travel times and road distances against published ones.

The published figures are a CSV of observations (the shipped default is
``data/facts/travel_times.csv``, copied whole from the project's fact sheet), one row per
observation with the columns ``from, to, mode, profile, year, hours_min, hours_max, km, condition,
source, confidence``. Each row describes its own year: a row from before an expressway opened is
routed on the network of that year.

Rows and how they are modelled
------------------------------
timed road rows (``mode`` road, ``profile`` car or bus, hours given)
    the fastest car route between the two places on the network of the row's year; a bus takes
    the car time x ``bus.time_factor`` of ``data/speeds.yaml`` (:func:`bus_time_factor`).
distance rows (``mode`` road, no hours, ``km`` given)
    the length of the fastest car route (road km).
rail rows (``mode`` rail, ``profile`` passenger)
    station to station on the rail edges only (no road access legs, which the published
    timetables do not include): each place is taken at the stations on the railway within
    :data:`STATION_RADIUS_KM` of it, nearest first, else at the nearest node of the railway
    (Yên Bái has no station node in the embedded network); the first pair, nearest first, that
    the rails connect is routed. Time is the rail running time of ``data/speeds.yaml``.
air rows (``mode`` air, ``profile`` passenger)
    airport to airport on the air edges only: the block time (fixed time + length / cruise
    speed of ``data/speeds.yaml``), without the check-in and access legs, as airlines publish.

A modelled time is *within* when ``hours_min <= model_hours <= hours_max`` (no tolerance); a
modelled length is within 15 % when ``|model_km / km - 1| <= 0.15``.

Places
------
``from`` and ``to`` name catalog places in any spelling (:mod:`corridors.core.names`). Published
times
run between towns, so a name that fits a city or town (its name, Vietnamese name, aliases, or
the part of these before or inside a bracket: "Vân Đồn" finds "Vân Đồn (Cái Rồng)") is taken as
that settlement before any other kind; "<name> gate" and "<name> airport" find the border gate or
airport of that name; any other name goes through
:meth:`corridors.catalog.model.Catalog.find_place`.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from pyproj import Geod

from corridors.build.analysis_network import AnalysisNetwork
from corridors.catalog.model import Catalog, Place
from corridors.catalog.scenario import Scenario
from corridors.core.constants import YEAR_MAX, YEAR_MIN
from corridors.core.diagnostics import InputError, Problem
from corridors.core.names import match_key
from corridors.layers.datadir import data_dir
from corridors.network.routing import Route, Router
from corridors.network.speeds import SpeedTable

__all__ = [
    "COLUMNS",
    "KM_TOLERANCE",
    "MODE_PROFILES",
    "RESULT_COLUMNS",
    "STATION_RADIUS_KM",
    "YEAR_RANGE",
    "bus_time_factor",
    "check_times",
    "default_observations_path",
    "read_observations",
    "resolve_place",
    "summary",
]

#: Columns an observations CSV must have.
COLUMNS = ("from", "to", "mode", "profile", "year", "hours_min", "hours_max", "km", "condition",
           "source", "confidence")
#: Profiles allowed per mode; ``""`` (no profile) is a road distance row.
MODE_PROFILES: dict[str, tuple[str, ...]] = {
    "road": ("car", "bus", ""),
    "rail": ("passenger",),
    "air": ("passenger",),
}
#: Years an observation may describe (inclusive).
YEAR_RANGE = (YEAR_MIN, YEAR_MAX)
#: A modelled length within this share of the published one counts as right.
KM_TOLERANCE = 0.15
#: A single published figure ("about 3 h") counts as matched within this share either side: it
#: is a rounded value (3 h stands for 2 h 45 to 3 h 15 at the usual rounding of travel guides).
POINT_TOLERANCE = 0.10
#: Stations within this distance of a place serve it (km, straight line).
STATION_RADIUS_KM = 15.0
#: Columns of :func:`check_times`.
RESULT_COLUMNS = ["line", "from", "to", "mode", "profile", "year", "hours_min", "hours_max",
                  "model_hours", "km_published", "model_km", "within", "km_error_pct",
                  "km_within_15pct", "confidence", "route_summary", "condition", "straight_km"]

_GEOD = Geod(ellps="WGS84")
#: A published km is a rounded figure: it is named as shorter than the straight line between
#: its points only when it stays shorter with this much (km) added.
STRAIGHT_ROUNDING_KM = 0.5
_KIND_SUFFIXES = {"gate": ("border_gate",), "airport": ("airport",)}
_SETTLEMENTS = ("city", "town")


def default_observations_path() -> Path:
    """Return the shipped observations, ``data/facts/travel_times.csv``.

    Returns
    -------
    pathlib.Path
        Path in the data folder (:func:`layers.datadir.data_dir`).
    """
    return data_dir() / "facts" / "travel_times.csv"


def bus_time_factor(speeds_path: str | Path | None = None) -> float:
    """Return the bus time / car time factor of the speed table (``bus.time_factor``).

    Parameters
    ----------
    speeds_path : str or pathlib.Path, optional
        Speed table; default the shipped ``data/speeds.yaml``.

    Returns
    -------
    float
        Unitless factor (> 0).

    Raises
    ------
    network.speeds.SpeedTableError
        If the table has no positive ``bus.time_factor.value``.
    """
    from corridors.network.speeds import SpeedTableError, load_speed_table

    table = load_speed_table(speeds_path)
    node = table.raw.get("bus", {})
    value = node.get("time_factor", {}).get("value") if isinstance(node, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise SpeedTableError(f"{table.path}: bus.time_factor: missing, or 'value' is not a "
                              f"positive number (got {value!r})")
    return float(value)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def _number(text: str) -> float | None:
    """Return the number of a cell, None when empty; ValueError when not a finite number."""
    text = text.strip()
    if not text:
        return None
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def read_observations(path: str | Path) -> pd.DataFrame:
    """Read and validate a CSV of published travel times and road distances.

    Parameters
    ----------
    path : str or pathlib.Path
        CSV with the columns of :data:`COLUMNS` (others are ignored), UTF-8.

    Returns
    -------
    pandas.DataFrame
        One row per observation: the columns of :data:`COLUMNS` (``year`` int; ``hours_min``,
        ``hours_max``, ``km`` float or NaN; ``profile`` ``""`` for distance rows) and ``line``,
        the row's line number in the file. ``attrs["path"]`` holds the path.

    Raises
    ------
    InputError
        With every problem found, each naming the file, the row (``line N``) and the field:
        a missing file or column, a missing place, a non-numeric or non-positive figure,
        ``hours_min`` > ``hours_max`` or only one of them, an unknown mode or profile, a year
        outside :data:`YEAR_RANGE`, a row with neither hours nor km, or a distance row
        (no hours) that is not a road row.
    """
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise InputError([Problem(name, "-", "-", "file not found")], what=name)
    problems: list[Problem] = []
    rows: list[dict[str, Any]] = []
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in reader.fieldnames or []]
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                raise InputError([Problem(name, "line 1", c, "missing column (the header needs: "
                                          + ", ".join(COLUMNS) + ")") for c in missing], what=name)
            reader.fieldnames = header
            for raw in reader:
                line = reader.line_num
                row, row_problems = _check_row(name, line, raw)
                problems += row_problems
                if not row_problems:
                    rows.append(row)
    except UnicodeDecodeError as exc:
        raise InputError([Problem(name, "-", "-", f"not UTF-8 text: {exc}")], what=name) from None
    except csv.Error as exc:
        raise InputError([Problem(name, "-", "-", f"not a valid CSV: {exc}")], what=name) from None
    if problems:
        raise InputError(problems, what=name)
    frame = pd.DataFrame(rows, columns=["line", *COLUMNS])
    frame["year"] = frame["year"].astype(int)
    for col in ("hours_min", "hours_max", "km"):
        frame[col] = frame[col].astype(float)
    frame.attrs["path"] = name
    return frame


def _check_row(name: str, line: int, raw: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Return one observation and the problems of its cells."""
    entry = f"line {line}"
    problems: list[Problem] = []

    def add(field_name: str, message: str) -> None:
        problems.append(Problem(name, entry, field_name, message))

    cell = {c: ("" if raw.get(c) is None else str(raw[c])).strip() for c in COLUMNS}
    row: dict[str, Any] = {"line": line, **cell}
    for c in ("from", "to"):
        if not cell[c]:
            add(c, "missing place name")
    mode, profile = cell["mode"].lower(), cell["profile"].lower()
    row["mode"], row["profile"] = mode, profile
    if mode not in MODE_PROFILES:
        add("mode", f"unknown mode {cell['mode']!r}; valid: {', '.join(MODE_PROFILES)}")
    elif profile not in MODE_PROFILES[mode]:
        valid = ", ".join(p or "(empty: a road distance)" for p in MODE_PROFILES[mode])
        add("profile", f"unknown profile {cell['profile']!r} for mode {mode}; valid: {valid}")
    try:
        year = _number(cell["year"])
        if year is None:
            add("year", "missing year")
        elif year != int(year) or not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
            add("year", f"year {cell['year']!r} is not a whole year in "
                        f"{YEAR_RANGE[0]}-{YEAR_RANGE[1]}")
        else:
            row["year"] = int(year)
    except ValueError:
        add("year", f"not a number: {cell['year']!r}")
    for c in ("hours_min", "hours_max", "km"):
        try:
            value = _number(cell[c])
        except ValueError:
            add(c, f"not a number: {cell[c]!r}")
            value = None
            row[c] = math.nan
            continue
        if value is not None and value <= 0:
            add(c, f"must be a positive number (got {cell[c]!r})")
        row[c] = math.nan if value is None else value
    lo, hi, km = row["hours_min"], row["hours_max"], row["km"]
    bad_number = any(p.field in ("hours_min", "hours_max", "km") for p in problems)
    if not bad_number:
        if math.isnan(lo) != math.isnan(hi):
            add("hours_max" if math.isnan(hi) else "hours_min",
                "give both hours_min and hours_max (equal for a single figure), or neither")
        elif not math.isnan(lo) and lo > hi:
            add("hours_min", f"hours_min ({lo:g}) is greater than hours_max ({hi:g})")
        elif math.isnan(lo) and math.isnan(km):
            add("hours_min", "the row has neither hours (hours_min, hours_max) nor km")
        elif math.isnan(lo) and mode in ("rail", "air"):
            add("hours_min", f"a {mode} row needs hours (rows without hours are road distances)")
        elif not math.isnan(lo) and mode == "road" and profile == "":
            add("profile", "a road row with hours needs a profile: car or bus")
    return row, problems


# ---------------------------------------------------------------------------------------------
# Places
# ---------------------------------------------------------------------------------------------


def _name_variants(text: str) -> set[str]:
    """Return the match keys of a name, of its part before a bracket and of the bracket."""
    keys = {match_key(text)}
    if m := re.fullmatch(r"\s*(.*?)\s*\((.*)\)\s*", text):
        keys |= {match_key(m.group(1)), match_key(m.group(2))}
    return keys - {""}


def _keys(place: Place, brackets: bool = False) -> set[str]:
    names = {place.id, place.name, place.name_vi, *place.aliases}
    if not brackets:
        return {match_key(n) for n in names}
    return set().union(*(_name_variants(n) for n in names))


def resolve_place(catalog: Catalog, name: str) -> Place:
    """Return the catalog place a published row means by ``name``.

    A city or town comes first (names, aliases, and the parts of a bracketed name); then
    "<name> gate" or "<name> airport" (a border gate or airport of that name); then
    :meth:`corridors.catalog.model.Catalog.find_place`.

    Parameters
    ----------
    catalog : Catalog
    name : str
        A place name in any spelling, e.g. ``"Vân Đồn"``, ``"Hữu Nghị gate"``, ``"ha long"``.

    Returns
    -------
    Place

    Raises
    ------
    LookupError
        If no place, or several, fit (the message lists suggestions or candidates).
    """
    key = match_key(name)
    for kinds in (("city",), ("town",)):
        hits = [p for p in catalog.places.values() if p.kind in kinds and key in _keys(p, True)]
        if len(hits) == 1:
            return hits[0]
    words = key.rsplit(" ", 1)
    if len(words) == 2 and words[1] in _KIND_SUFFIXES:
        hits = [p for p in catalog.places.values()
                if p.kind in _KIND_SUFFIXES[words[1]] and words[0] in _keys(p)]
        if len(hits) == 1:
            return hits[0]
    return catalog.find_place(name)


# ---------------------------------------------------------------------------------------------
# Routing
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Modelled:
    hours: float
    km: float
    summary: str
    #: the route's edges (rows of the edge table) and the time factor applied (bus)
    edges: pd.DataFrame | None = None
    factor: float = 1.0
    #: great-circle distance between the two places' points, km
    straight_km: float = math.nan


_UNREACHABLE = _Modelled(math.nan, math.nan, "unreachable")


def _summary(route: Route, prefix: str = "") -> str:
    """Return "expressway 120 km, national 60 km" from a route's km by class."""
    parts = sorted(route.km_by_class.items(), key=lambda kv: -kv[1])
    text = ", ".join(f"{k.split(':', 1)[1]} {v:.0f} km" for k, v in parts if v >= 0.5)
    return prefix + (text or "0 km")


class _YearModel:
    """The network of one year, with the place nodes and mode-only routers it needs."""

    def __init__(self, net: AnalysisNetwork, bus_factor: float):
        self.net = net
        self.bus_factor = bus_factor
        self._mode_routers: dict[str, tuple[Router, np.ndarray]] = {}

    def road_node(self, place: Place) -> int:
        from corridors.analysis.locate import locate

        node = self.net.node_of(place.id)
        if node is not None:
            return node
        return locate(self.net, f"{place.lat},{place.lon}").node

    def mode_router(self, mode: str) -> tuple[Router, np.ndarray]:
        """Return a router on the edges of one mode (rail or air) and the nodes they touch."""
        if mode not in self._mode_routers:
            t = self.net.tables
            edges = t.edges[t.edges["mode"] == mode]
            nodes = np.unique(edges[["u", "v"]].to_numpy()) if len(edges) else np.array([], int)
            self._mode_routers[mode] = (Router(t.nodes, edges, "passenger"), nodes)
        return self._mode_routers[mode]

    def candidates(self, mode: str, place: Place) -> list[int]:
        """Return the nodes of ``mode`` that serve a place, nearest first."""
        _, on_mode = self.mode_router(mode)
        if not len(on_mode):
            return []
        n = self.net.tables.nodes.loc[on_mode]
        d_km = _GEOD.inv(np.full(len(n), place.lon), np.full(len(n), place.lat),
                         n["x"].to_numpy(), n["y"].to_numpy())[2] / 1000
        order = np.argsort(d_km)
        if mode == "rail":
            stations = [int(on_mode[i]) for i in order
                        if n["kind"].iat[i] == "station" and d_km[i] <= STATION_RADIUS_KM]
            return stations or [int(on_mode[order[0]])]
        return [int(on_mode[order[0]])]

    def label(self, node: int) -> str:
        """Return a node's name, or ``node <id>`` when it has none."""
        name = self.net.tables.nodes["name"].get(node)
        return name if isinstance(name, str) and name else f"node {node}"

    def road(self, a: Place, b: Place, profile: str) -> _Modelled:
        route = self.net.router("car").route(self.road_node(a), self.road_node(b))
        if route is None:
            return _UNREACHABLE
        factor = self.bus_factor if profile == "bus" else 1.0
        prefix = f"car x {factor:g}: " if profile == "bus" else ""
        edges = self.net.router("car").edges.iloc[route.edge_rows]
        return _Modelled(route.time_h * factor, route.length_km, _summary(route, prefix),
                         edges, factor)

    def on_mode(self, mode: str, a: Place, b: Place) -> _Modelled:
        router, _ = self.mode_router(mode)
        for u in self.candidates(mode, a):
            for v in self.candidates(mode, b):
                route = router.route(u, v) if u != v else None
                if route is not None:
                    ends = f"{self.label(u)} → {self.label(v)}: "
                    return _Modelled(route.time_h, route.length_km, _summary(route, ends),
                                     router.edges.iloc[route.edge_rows])
        return _UNREACHABLE


def _model_rows(observations: pd.DataFrame, built: dict, places: dict
                ) -> list[tuple[dict[str, Any], _Modelled]]:
    """Route every observation on its year's network; return (row, modelled) pairs."""
    factor = bus_time_factor()
    models = {y: _YearModel(AnalysisNetwork(str(y), r.tables, r.catalog), factor)
              for y, r in built.items()}
    out: list[tuple[dict[str, Any], _Modelled]] = []
    # the columns are names: the records are keyed by str
    for row in cast(list[dict[str, Any]], observations.to_dict("records")):
        a, b = places[(row["line"], "from")], places[(row["line"], "to")]
        model = models[row["year"]]
        try:
            if row["mode"] == "road":
                m = model.road(a, b, row["profile"] or "car")
            else:
                m = model.on_mode(row["mode"], a, b)
        except LookupError as exc:
            m = _Modelled(math.nan, math.nan, f"not located: {exc.args[0]}")
        straight = float(_GEOD.inv(a.lon, a.lat, b.lon, b.lat)[2]) / 1000
        out.append((row, replace(m, straight_km=straight)))
    return out


def published_range(hours_min: float, hours_max: float) -> tuple[float, float]:
    """Return the range a modelled time must fall in to match a published one (hours).

    A range is taken as published. A single figure (``hours_min == hours_max``: "about 3 h",
    "50 min") is a rounded value: it is widened by :data:`POINT_TOLERANCE` either side.
    """
    if hours_min == hours_max:
        return hours_min * (1 - POINT_TOLERANCE), hours_max * (1 + POINT_TOLERANCE)
    return hours_min, hours_max


def model_observations(observations: pd.DataFrame, scenario: Scenario | None = None,
                       catalog_path: str | Path | None = None, osm: str | Path | None = None,
                       speed_table: SpeedTable | None = None
                       ) -> list[tuple[dict[str, Any], _Modelled]]:
    """Route every observation on the network of its year.

    Same parameters as :func:`check_times`, plus ``speed_table`` (default ``data/speeds.yaml``),
    which the calibration varies. Returns (row, modelled) pairs; the modelled route carries its
    edges.

    Raises
    ------
    InputError
        When places cannot be found: every one, with its row (``line N``) and field.
    """
    from corridors.build.pipeline import build_networks

    file = observations.attrs.get("path", "observations")
    years = sorted({int(y) for y in observations["year"]})
    built = build_networks(years, scenario, osm=osm, catalog_path=catalog_path,
                           speed_table=speed_table)
    if not built:  # no observations
        return []
    catalog = next(iter(built.values())).catalog
    problems: list[Problem] = []
    places: dict[tuple[int, str], Place] = {}
    for row in observations.to_dict("records"):
        for field_name in ("from", "to"):
            try:
                places[(row["line"], field_name)] = resolve_place(catalog, row[field_name])
            except LookupError as exc:
                problems.append(Problem(file, f"line {row['line']}", field_name,
                                        str(exc.args[0])))
    if problems:
        raise InputError(problems, what=f"{file} (places)")

    return _model_rows(observations, built, places)


def check_times(observations: pd.DataFrame, scenario: Scenario | None = None,
                catalog_path: str | Path | None = None, osm: str | Path | None = None
                ) -> pd.DataFrame:
    """Route every observation on the network of its year and compare with the published one.

    The networks of all the years the rows need are built in one call
    (:func:`corridors.build.pipeline.build_networks`: one master network, masked per year).

    Parameters
    ----------
    observations : pandas.DataFrame
        From :func:`read_observations`.
    scenario : Scenario, optional
        Default: the catalogs as shipped.
    catalog_path : str or pathlib.Path, optional
        Another catalog folder or file.
    osm : str or pathlib.Path, optional
        An OSM extract instead of the embedded backbone.

    Returns
    -------
    pandas.DataFrame
        One row per observation, columns :data:`RESULT_COLUMNS`: the published
        ``hours_min``/``hours_max`` and ``km_published``; ``model_hours`` and ``model_km`` (NaN
        when unreachable); ``within`` (True/False for timed rows, NA for distance rows and
        unreachable pairs); ``km_error_pct`` (``model_km / km - 1``, percent) and
        ``km_within_15pct`` (NA without a published km); ``route_summary`` (km by class);
        ``straight_km`` (great-circle distance between the two places' points: a published km
        below it means the row or one of the points is wrong).

    Raises
    ------
    InputError
        When places cannot be found: every one, with its row (``line N``) and field.
    """
    file = observations.attrs.get("path", "observations")
    out = []
    for row, m in model_observations(observations, scenario, catalog_path, osm):
        timed = not math.isnan(row["hours_min"])
        within: Any = pd.NA
        if timed and not math.isnan(m.hours):
            lo, hi = published_range(row["hours_min"], row["hours_max"])
            within = bool(lo <= m.hours <= hi)
        km_err: float = math.nan
        km_ok: Any = pd.NA
        if not math.isnan(row["km"]) and not math.isnan(m.km):
            km_err = (m.km / row["km"] - 1) * 100
            km_ok = bool(abs(km_err) <= KM_TOLERANCE * 100)
        out.append({"line": row["line"], "from": row["from"], "to": row["to"],
                    "mode": row["mode"], "profile": row["profile"], "year": row["year"],
                    "hours_min": row["hours_min"], "hours_max": row["hours_max"],
                    "model_hours": round(m.hours, 2), "km_published": row["km"],
                    "model_km": round(m.km, 1), "within": within,
                    "km_error_pct": round(km_err, 1), "km_within_15pct": km_ok,
                    "confidence": row["confidence"], "route_summary": m.summary,
                    "condition": row["condition"], "straight_km": round(m.straight_km, 1)})
    frame = pd.DataFrame(out, columns=RESULT_COLUMNS)
    for col in ("within", "km_within_15pct"):
        frame[col] = frame[col].astype("boolean")
    frame.attrs["path"] = file
    return frame


# ---------------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------------


def summary(results: pd.DataFrame, worst: int = 5) -> dict[str, Any]:
    """Summarise a comparison: how many rows fit, and the worst ones.

    Parameters
    ----------
    results : pandas.DataFrame
        From :func:`check_times`.
    worst : int, default 5
        How many of the worst rows to list, for times and for distances.

    Returns
    -------
    dict
        ``timed_rows``; ``timed_within`` and ``timed_within_pct`` (an unreachable row counts as
        outside); ``time_mae_pct_of_mid`` (mean absolute error of the time, percent of the
        midpoint of the published range); ``distance_rows`` (rows without hours);
        ``km_rows`` (rows with a published km, timed or not), ``km_within_15pct`` and
        ``km_within_15pct_pct``; ``distance_rows_within_15pct``; ``unreachable``;
        ``worst_time`` and ``worst_km`` (lists of ``{line, from, to, year, ...}``);
        ``km_below_straight`` (the rows whose published km, even rounded up by
        :data:`STRAIGHT_ROUNDING_KM`, is shorter than the straight line between their points,
        which no road can be).
    """
    timed = results[results["hours_min"].notna()]
    mid = (timed["hours_min"] + timed["hours_max"]) / 2
    err_pct = (timed["model_hours"] - mid) / mid * 100
    within = int(timed["within"].fillna(False).sum())
    km = results[results["km_published"].notna()]
    km_ok = int(km["km_within_15pct"].fillna(False).sum())
    dist = results[results["hours_min"].isna()]

    def pct(n: int, total: int) -> float | None:
        return round(100 * n / total, 1) if total else None

    def rows(frame: pd.DataFrame, extra: list[str]) -> list[dict[str, Any]]:
        cols = ["line", "from", "to", "mode", "profile", "year", *extra]
        return [{str(k): (None if pd.isna(v) else v.item() if hasattr(v, "item") else v)
                 for k, v in r.items()} for r in frame[cols].to_dict("records")]

    worst_time = timed.assign(time_error_pct=err_pct.round(1)).reindex(
        err_pct.abs().sort_values(ascending=False, na_position="first").index).head(worst)
    worst_km = km.reindex(km["km_error_pct"].abs().sort_values(
        ascending=False, na_position="first").index).head(worst)
    return {
        "timed_rows": len(timed),
        "timed_within": within,
        "timed_within_pct": pct(within, len(timed)),
        "time_mae_pct_of_mid": (round(float(err_pct.abs().mean()), 1)
                                if err_pct.notna().any() else None),
        "distance_rows": len(dist),
        "distance_rows_within_15pct": int(dist["km_within_15pct"].fillna(False).sum()),
        "km_rows": len(km),
        "km_within_15pct": km_ok,
        "km_within_15pct_pct": pct(km_ok, len(km)),
        "unreachable": int(results["model_hours"].isna().sum()),
        "worst_time": rows(worst_time, ["hours_min", "hours_max", "model_hours",
                                        "time_error_pct"]),
        "worst_km": rows(worst_km, ["km_published", "model_km", "km_error_pct"]),
        "km_below_straight": rows(
            km[km["km_published"] + STRAIGHT_ROUNDING_KM < km["straight_km"]],
            ["km_published", "straight_km", "model_km"]) if "straight_km" in km else [],
    }
