"""Operating speeds, travel times and transfer costs of network edges.

Every figure comes from one documented table, ``data/speeds.yaml`` (each value carries its
source or is marked as an assumption); :func:`load_speed_table` reads and validates it and
:func:`assign_speeds` fills the speed, time and cost columns of the canonical edge table
(:mod:`network.schema`).

Rules, by mode
--------------
road
    1. design speed (km/h) = the edge's own ``design_speed_kmh`` where given (> 0), else the
       table's design speed for its class and terrain (TCVN 4054:2005 grades III-VI for national,
       provincial, district and local roads; TCVN 5729:2012 for expressways);
    2. operating speed = factor x design speed, with a factor per profile (car, truck) and
       terrain (``road.operating_factor``; expressways have their own: cars at design speed);
    3. clipped to the class's min/max bounds per profile (``road.bounds_kmh``, as VTRA bounds
       its speeds);
    4. capped by the legal maximum of Circular 31/2019/TT-BGTVT for the profile's vehicle
       group: ``expressway`` for class expressway, ``divided`` where ``lanes`` >= 4, else
       ``undivided``;
    5. capped by the OSM posted ``maxspeed_kmh`` where tagged;
    6. the truck is never faster than the car on the same edge.

    A missing terrain (empty, NaN or column absent) falls back to ``terrain_fallback``
    (``hilly``: plain & hill design speed, hilly operating factors). The labels ``mountain``,
    ``plain``, ``hill`` and ``rolling`` are read as mountainous, flat, hilly and hilly; any other
    label is an error.
rail
    car = passenger, truck = freight average running speed of the class (metre, dual, standard).
water
    barge speed downstream or upstream: from a boolean ``downstream`` column where present,
    else from the edge's direction (rivers of the region flow north-west to south-east: see
    ``water.river.direction_rule`` in the table); edges across that axis take the round-trip
    (harmonic) mean of the two speeds.
air
    block time = fixed time + length / cruise speed; ``speed_kmh_*`` holds the cruise speed.
transfer
    fixed time per crossing (car and truck) + length at the yard speed; ``cost_vnd_truck`` is the
    handling cost per TEU. Non-transfer edges have ``cost_vnd_truck`` = 0.

Times are ``time_h = length_km / speed_kmh + fixed time`` (hours).

Scenario overrides
------------------
``overrides`` sets operating speeds (km/h) directly, most specific first::

    {"project": {"a3_1_01": 90},            # every moving edge of catalog project a3_1_01
     "source": {"osm:way/123": 30},         # edges whose ``source`` equals the key
     "class": {"national": 50,              # every edge of a class (any mode but transfer)
               "expressway": {"car": 100, "truck": 80}}}

A number sets the car speed and scales the truck speed by the edge's own truck/car ratio from
the rules above (so a truck stays no faster than a car); a mapping ``{"car": x, "truck": y}``
sets either or both (a missing one follows the ratio rule; an explicit truck faster than the
explicit car is an error). On air edges the override replaces the cruise speed (the fixed time
stays). Overridden speeds are final: neither bounds nor caps apply, the scenario states the speed
it wants. Priority: project > source > class. Transfer edges are never overridden (a class key of
a transfer class is an error); unknown top-level or class keys are errors, unknown project or
source ids simply match nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml
from corridors.layers.datadir import data_dir
from corridors.network.schema import (
    MODES,
    PROFILES,
    RAIL_CLASSES,
    ROAD_CLASSES,
    TERRAINS,
    TRANSFER_CLASSES,
)

#: Name of the speed table in the data folder.
SPEEDS_FILE = "speeds.yaml"

#: Classes of each mode (mirrors :mod:`network.schema`).
MODE_CLASSES: dict[str, tuple[str, ...]] = {
    "road": ROAD_CLASSES,
    "rail": RAIL_CLASSES,
    "water": ("river",),
    "air": ("air",),
    "transfer": TRANSFER_CLASSES,
}

#: Other terrain labels read as one of :data:`network.schema.TERRAINS`.
TERRAIN_SYNONYMS: dict[str, str] = {
    "mountain": "mountainous",
    "plain": "flat",
    "hill": "hilly",
    "rolling": "hilly",
}

#: Lanes (both directions) from which a non-expressway road counts as divided.
DIVIDED_MIN_LANES = 4

CAP_KINDS = ("divided", "undivided", "expressway")
OVERRIDE_KEYS = ("project", "source", "class")


class SpeedTableError(ValueError):
    """A speed table that is missing a key or holds an invalid figure."""


@dataclass(frozen=True)
class SpeedTable:
    """The validated speed table.

    Attributes
    ----------
    path : pathlib.Path
        File it was read from.
    terrain_fallback : str
        Terrain used for road edges without one.
    design_kmh : dict
        ``design_kmh[class][terrain]``: road design speed, km/h.
    factor : dict
        ``factor[key][profile][terrain]``: operating / design speed; ``key`` is a road class
        with its own factors or ``"default"``.
    bounds_kmh : dict
        ``bounds_kmh[class][profile]``: (min, max) operating speed, km/h.
    legal_max_kmh : dict
        ``legal_max_kmh[profile][kind]`` with kind ``divided``, ``undivided``, ``expressway``:
        legal maximum, km/h.
    rail_kmh : dict
        ``rail_kmh[class][profile]``: average running speed, km/h (car = passenger,
        truck = freight).
    water_kmh : dict
        ``water_kmh[class]``: ``{"downstream": km/h, "upstream": km/h}``.
    water_min_axis_share : float
        Share of the chord along the south-east axis from which a river edge counts as
        downstream (or upstream when negative).
    air : dict
        ``air[class]``: ``{"fixed_time_h": h, "cruise_kmh": km/h}``.
    transfer : dict
        ``transfer[class]``: ``{"time_h_car": h, "time_h_truck": h, "cost_vnd_teu": VND}``.
    yard_speed_kmh : float
        Speed over the length of transfer edges, km/h.
    urban_kmh : dict
        ``urban_kmh[kind][profile]``: speed in built-up areas (kind ``road`` or
        ``expressway``), km/h; empty when the table has no ``road.urban`` (no urban effect).
    raw : dict
        The parsed YAML document (sources and notes included).
    """

    path: Path
    terrain_fallback: str
    design_kmh: dict[str, dict[str, float]]
    factor: dict[str, dict[str, dict[str, float]]]
    bounds_kmh: dict[str, dict[str, tuple[float, float]]]
    legal_max_kmh: dict[str, dict[str, float]]
    rail_kmh: dict[str, dict[str, float]]
    water_kmh: dict[str, dict[str, float]]
    water_min_axis_share: float
    air: dict[str, dict[str, float]]
    transfer: dict[str, dict[str, float]]
    yard_speed_kmh: float
    raw: dict = field(repr=False)
    urban_kmh: dict[str, dict[str, float]] = field(default_factory=dict)

    def operating_factor(self, road_class: str, profile: str, terrain: str) -> float:
        """Return the operating-speed factor of a road class (unitless).

        Parameters
        ----------
        road_class : str
            A road class of :data:`network.schema.ROAD_CLASSES`.
        profile : str
            ``"car"`` or ``"truck"``.
        terrain : str
            ``"flat"``, ``"hilly"`` or ``"mountainous"``.

        Returns
        -------
        float
            Operating speed / design speed.
        """
        key = road_class if road_class in self.factor else "default"
        return self.factor[key][profile][terrain]

    def cap_kmh(self, profile: str, kind: str) -> float:
        """Return the legal maximum speed (km/h) of a profile on a kind of road.

        Parameters
        ----------
        profile : str
            ``"car"`` or ``"truck"``.
        kind : str
            ``"divided"``, ``"undivided"`` or ``"expressway"``.

        Returns
        -------
        float
            Speed limit, km/h.
        """
        return self.legal_max_kmh[profile][kind]


# --------------------------------------------------------------------------------------------
# Loading and validation
# --------------------------------------------------------------------------------------------


def default_speeds_path() -> Path:
    """Return the path of the shipped speed table, ``data/speeds.yaml``.

    Returns
    -------
    pathlib.Path
        Path in the data folder (see :func:`layers.datadir.data_dir`).
    """
    return data_dir() / SPEEDS_FILE


class _Reader:
    """Walks the YAML document and raises errors that name the file and the key."""

    def __init__(self, path: Path, doc: Any):
        self.path = path
        self.doc = doc

    def fail(self, key: str, problem: str) -> SpeedTableError:
        return SpeedTableError(f"{self.path}: {key}: {problem}")

    def mapping(self, parent: Any, name: str, key: str, what: str = "key") -> Mapping:
        """Return ``parent[name]``, which must be a mapping; ``key`` is the parent's key."""
        if not isinstance(parent, Mapping):
            raise self.fail(key or "<top level>", "must be a mapping")
        if name not in parent:
            raise self.fail(key or "<top level>", f"missing {what} {name!r}")
        value = parent[name]
        if not isinstance(value, Mapping):
            raise self.fail(f"{key}.{name}" if key else name, "must be a mapping")
        return value

    def figure(self, parent: Any, name: str, key: str, *, positive: bool = True,
               what: str = "key", upper: float | None = None) -> float:
        """Return the number of figure ``parent[name]`` (a mapping with ``value``)."""
        node = self.mapping(parent, name, key, what)
        full = f"{key}.{name}" if key else name
        if "value" not in node:
            raise self.fail(full, "missing field 'value'")
        value = node["value"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(
                value):
            raise self.fail(full, f"field 'value' must be a number (got {value!r})")
        if positive and value <= 0:
            raise self.fail(full, f"field 'value' must be a positive number (got {value!r})")
        if not positive and value < 0:
            raise self.fail(full, f"field 'value' must not be negative (got {value!r})")
        if upper is not None and value > upper:
            raise self.fail(full, f"field 'value' must be at most {upper} (got {value!r})")
        return float(value)


def _has_provenance(node: Mapping) -> bool:
    source = node.get("source")
    if isinstance(source, str) and source.strip():
        return True
    note = node.get("note")
    return node.get("assumption") is True and isinstance(note, str) and bool(note.strip())


def _check_provenance(reader: _Reader, node: Any, key: str, inherited: bool) -> None:
    """Every mapping with a ``value`` needs a source or an assumption note, here or above."""
    if isinstance(node, Mapping):
        if "assumption" in node and node["assumption"] is not True:
            raise reader.fail(key, "field 'assumption' must be true where present")
        if node.get("assumption") is True and not (
                isinstance(node.get("note"), str) and node["note"].strip()):
            raise reader.fail(key, "field 'assumption: true' needs a non-empty 'note'")
        here = inherited or _has_provenance(node)
        if "value" in node and not here:
            raise reader.fail(key, "figure has no 'source' (or 'assumption: true' and 'note'), "
                                   "neither here nor on a mapping above it")
        for name, child in node.items():
            _check_provenance(reader, child, f"{key}.{name}" if key else str(name), here)
    elif isinstance(node, list):
        for i, child in enumerate(node):
            _check_provenance(reader, child, f"{key}[{i}]", inherited)


def load_speed_table(path: str | Path | None = None) -> SpeedTable:
    """Read and validate a speed table.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        YAML file to read; default ``data/speeds.yaml`` of the data folder
        (:func:`default_speeds_path`).

    Returns
    -------
    SpeedTable
        The validated table (speeds km/h, times h, costs VND per TEU).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    SpeedTableError
        If a class, terrain or profile is missing, a figure is not a valid number (speeds must be
        positive, times and costs non-negative), min exceeds max, or a figure has no source or
        assumption note. The message names the file and the dotted key of the figure, e.g.
        ``.../speeds.yaml: road.design_speed_kmh.national.mountainous: field 'value' must be a
        positive number (got -60)``.
    """
    path = Path(path) if path is not None else default_speeds_path()
    if not path.exists():
        raise FileNotFoundError(f"speed table not found: {path}")
    from corridors.core.safe_yaml import YamlInputError, load_yaml  # the one safe YAML reader

    try:
        doc = load_yaml(path, what=str(path))
    except YamlInputError as exc:
        raise SpeedTableError(f"{path}: {exc.problem.message}") from None
    except yaml.YAMLError as exc:
        raise SpeedTableError(f"{path}: not valid YAML: {exc}") from exc
    r = _Reader(path, doc)
    if not isinstance(doc, Mapping):
        raise r.fail("<top level>", "must be a mapping")
    _check_provenance(r, doc, "", False)

    fallback_node = r.mapping(doc, "terrain_fallback", "")
    fallback = fallback_node.get("value")
    if fallback not in TERRAINS:
        raise r.fail("terrain_fallback", f"field 'value' must be one of {TERRAINS} "
                                         f"(got {fallback!r})")

    road = r.mapping(doc, "road", "")
    design_node = r.mapping(road, "design_speed_kmh", "road")
    design: dict[str, dict[str, float]] = {}
    for cls in ROAD_CLASSES:
        node = r.mapping(design_node, cls, "road.design_speed_kmh", what="class")
        design[cls] = {t: r.figure(node, t, f"road.design_speed_kmh.{cls}", what="terrain")
                       for t in TERRAINS}
    extra = set(design_node) - set(ROAD_CLASSES)
    if extra:
        raise r.fail("road.design_speed_kmh", f"unknown classes {sorted(extra)}; valid: "
                                              f"{list(ROAD_CLASSES)}")

    factor_node = r.mapping(road, "operating_factor", "road")
    factor: dict[str, dict[str, dict[str, float]]] = {}
    for key in factor_node:
        if key != "default" and key not in ROAD_CLASSES:
            raise r.fail("road.operating_factor", f"unknown class {key!r}; valid: 'default', "
                                                  f"{list(ROAD_CLASSES)}")
    r.mapping(factor_node, "default", "road.operating_factor", what="entry")
    for key in factor_node:
        base = f"road.operating_factor.{key}"
        factor[key] = {}
        for prof in PROFILES:
            pnode = r.mapping(factor_node[key], prof, base, what="profile")
            factor[key][prof] = {t: r.figure(pnode, t, f"{base}.{prof}", what="terrain",
                                             upper=2.0) for t in TERRAINS}

    bounds_node = r.mapping(road, "bounds_kmh", "road")
    bounds: dict[str, dict[str, tuple[float, float]]] = {}
    for cls in ROAD_CLASSES:
        cnode = r.mapping(bounds_node, cls, "road.bounds_kmh", what="class")
        bounds[cls] = {}
        for prof in PROFILES:
            key = f"road.bounds_kmh.{cls}"
            pnode = r.mapping(cnode, prof, key, what="profile")
            lo = r.figure(pnode, "min", f"{key}.{prof}")
            hi = r.figure(pnode, "max", f"{key}.{prof}")
            if lo > hi:
                raise r.fail(f"{key}.{prof}", f"min ({lo}) exceeds max ({hi})")
            bounds[cls][prof] = (lo, hi)

    legal = r.mapping(road, "legal_max_kmh", "road")
    groups = r.mapping(legal, "vehicle_groups", "road.legal_max_kmh")
    profiles = r.mapping(legal, "profiles", "road.legal_max_kmh")
    legal_max: dict[str, dict[str, float]] = {}
    for prof in PROFILES:
        group = profiles.get(prof)
        if group not in groups:
            raise r.fail("road.legal_max_kmh.profiles", f"profile {prof!r} must name one of "
                                                        f"the vehicle_groups {sorted(groups)} "
                                                        f"(got {group!r})")
        key = f"road.legal_max_kmh.vehicle_groups.{group}"
        legal_max[prof] = {kind: r.figure(groups[group], kind, key) for kind in CAP_KINDS}

    rail_node = r.mapping(doc, "rail", "")
    rail: dict[str, dict[str, float]] = {}
    for cls in RAIL_CLASSES:
        cnode = r.mapping(rail_node, cls, "rail", what="class")
        rail[cls] = {"car": r.figure(cnode, "passenger_kmh", f"rail.{cls}"),
                     "truck": r.figure(cnode, "freight_kmh", f"rail.{cls}")}

    water_node = r.mapping(doc, "water", "")
    river = r.mapping(water_node, "river", "water", what="class")
    water = {"river": {"downstream": r.figure(river, "downstream_kmh", "water.river"),
                       "upstream": r.figure(river, "upstream_kmh", "water.river")}}
    rule = r.mapping(river, "direction_rule", "water.river")
    share = r.figure(rule, "min_axis_share", "water.river.direction_rule", positive=False,
                     upper=1.0)

    air_node = r.mapping(doc, "air", "")
    anode = r.mapping(air_node, "air", "air", what="class")
    air = {"air": {"fixed_time_h": r.figure(anode, "fixed_time_h", "air.air", positive=False),
                   "cruise_kmh": r.figure(anode, "cruise_kmh", "air.air")}}

    tr_node = r.mapping(doc, "transfer", "")
    yard = r.figure(tr_node, "yard_speed_kmh", "transfer")
    transfer: dict[str, dict[str, float]] = {}
    for cls in TRANSFER_CLASSES:
        cnode = r.mapping(tr_node, cls, "transfer", what="class")
        transfer[cls] = {f: r.figure(cnode, f, f"transfer.{cls}", positive=False)
                         for f in ("time_h_car", "time_h_truck", "cost_vnd_teu")}

    urban: dict[str, dict[str, float]] = {}
    if "urban" in road:
        unode = r.mapping(road, "urban", "road")
        for kind in ("road", "expressway"):
            knode = r.mapping(unode, f"{kind}_kmh", "road.urban")
            urban[kind] = {prof: r.figure(knode, prof, f"road.urban.{kind}_kmh")
                           for prof in PROFILES}

    return SpeedTable(path=path, terrain_fallback=fallback, design_kmh=design, factor=factor,
                      bounds_kmh=bounds, legal_max_kmh=legal_max, rail_kmh=rail,
                      water_kmh=water, water_min_axis_share=share, air=air, transfer=transfer,
                      yard_speed_kmh=yard, raw=dict(doc), urban_kmh=urban)


# --------------------------------------------------------------------------------------------
# Assigning speeds
# --------------------------------------------------------------------------------------------


def _text_column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    col = frame[name]
    if isinstance(col.dtype, pd.StringDtype):  # text already: missing values become ""
        return col.to_numpy(dtype=object, na_value="")
    return np.array(["" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
                     for v in col], dtype=object)


def _number_column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)


def _road_terrain(frame: pd.DataFrame, fallback: str) -> np.ndarray:
    raw = _text_column(frame, "terrain")
    out = np.empty(len(raw), dtype=object)
    bad = set()
    for i, value in enumerate(raw):
        t = value.strip().lower()
        t = TERRAIN_SYNONYMS.get(t, t)
        if t in ("", "nan", "none", "<na>"):
            t = fallback
        elif t not in TERRAINS:
            bad.add(value)
        out[i] = t
    if bad:
        raise ValueError(f"unknown terrain labels {sorted(bad)}; valid: {list(TERRAINS)} "
                         f"(or empty for the '{fallback}' fallback)")
    return out


def _check_edges(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    for name in ("mode", "class", "length_km"):
        if name not in frame.columns:
            raise ValueError(f"edges lack the column {name!r} (see network.schema)")
    mode = _text_column(frame, "mode")
    cls = _text_column(frame, "class")
    bad_modes = sorted(set(mode) - set(MODES))
    if bad_modes:
        raise ValueError(f"unknown modes {bad_modes}; valid: {list(MODES)}")
    for m, classes in MODE_CLASSES.items():
        sel = mode == m
        bad = sorted(set(cls[sel]) - set(classes))
        if bad:
            raise ValueError(f"unknown {m} classes {bad}; valid: {list(classes)}")
    length = _number_column(frame, "length_km")
    bad_len = ~np.isfinite(length) | (length < 0)
    if bad_len.any():
        where = list(frame.index[bad_len][:5])
        raise ValueError(f"{int(bad_len.sum())} edges have a missing or negative length_km "
                         f"(first index labels: {where})")
    return mode, cls, length


#: Lowest design speed (km/h) of the TCVN 5729 grades, keyed by the terrain each is built for.
_GRADE_MIN_KMH = (("flat", 110.0), ("hilly", 90.0))


def expressway_grade(design_kmh: float) -> str:
    """Return the terrain column in which TCVN 5729 builds an expressway of this design speed.

    Grade 120 is built in flat terrain, 100 in hills, 80 and 60 in mountains (the expressway
    design-speed table of ``data/speeds.yaml``); an expressway's operating factor is read in
    that column, so that a 100 km/h expressway in the delta runs like the other grade-100 ones.

    Examples
    --------
    >>> expressway_grade(120), expressway_grade(100), expressway_grade(80)
    ('flat', 'hilly', 'mountainous')
    """
    return next((g for g, low in _GRADE_MIN_KMH if design_kmh >= low), "mountainous")


def _grade_factors(table: SpeedTable, profile: str, design_kmh: np.ndarray) -> np.ndarray:
    """Operating factors of expressway edges by the grade of their design speeds (vectorised)."""
    return np.select([design_kmh >= low for _, low in _GRADE_MIN_KMH],
                     [table.operating_factor("expressway", profile, g) for g, _ in _GRADE_MIN_KMH],
                     default=table.operating_factor("expressway", profile, "mountainous"))


def _road_speeds(frame: pd.DataFrame, cls: np.ndarray, sel: np.ndarray,
                 table: SpeedTable) -> tuple[np.ndarray, np.ndarray]:
    n = len(frame)
    car = np.full(n, np.nan)
    truck = np.full(n, np.nan)
    if not sel.any():
        return car, truck
    terrain = _road_terrain(frame, table.terrain_fallback)
    own = _number_column(frame, "design_speed_kmh")
    lanes = _number_column(frame, "lanes")
    maxspeed = _number_column(frame, "maxspeed_kmh")
    urban = np.clip(np.nan_to_num(_number_column(frame, "urban_share")), 0.0, 1.0)
    design = np.where(np.isfinite(own) & (own > 0), own, np.nan)
    speeds = {"car": car, "truck": truck}
    for c in ROAD_CLASSES:
        for t in TERRAINS:
            m = sel & (cls == c) & (terrain == t)
            if not m.any():
                continue
            d = np.where(np.isnan(design[m]), table.design_kmh[c][t], design[m])
            divided = lanes[m] >= DIVIDED_MIN_LANES
            for prof, arr in speeds.items():
                if c == "expressway":
                    # expressway factors are keyed by the grade the design speed gives
                    v = _grade_factors(table, prof, d) * d
                else:
                    v = table.operating_factor(c, prof, t) * d
                lo, hi = table.bounds_kmh[c][prof]
                v = np.clip(v, lo, hi)
                if c == "expressway":
                    caps = np.full(len(v), table.cap_kmh(prof, "expressway"))
                else:
                    caps = np.where(divided, table.cap_kmh(prof, "divided"),
                                    table.cap_kmh(prof, "undivided"))
                v = np.minimum(v, caps)
                posted = maxspeed[m]
                v = np.where(np.isfinite(posted) & (posted > 0), np.minimum(v, posted), v)
                if table.urban_kmh:
                    # the built-up share of the edge is driven at the urban speed (harmonic mean)
                    kind = "expressway" if c == "expressway" else "road"
                    slow = np.minimum(v, table.urban_kmh[kind][prof])
                    v = 1.0 / ((1.0 - urban[m]) / v + urban[m] / slow)
                arr[m] = v
    truck[sel] = np.minimum(truck[sel], car[sel])
    return car, truck


def _water_direction(frame: pd.DataFrame, sel: np.ndarray, min_share: float) -> np.ndarray:
    """Return +1 downstream, -1 upstream, 0 unknown for the selected river edges."""
    out = np.zeros(len(frame))
    if not sel.any():
        return out
    if "downstream" in frame.columns:
        given = frame["downstream"].to_numpy(dtype=object)
    else:
        given = np.full(len(frame), None, dtype=object)
    geoms = None
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
        gs = frame.geometry
        if gs.crs is not None and not gs.crs.is_geographic:
            gs = gs.to_crs("EPSG:4326")
        geoms = gs.to_numpy()
    for i in np.flatnonzero(sel):
        flag = given[i]
        if isinstance(flag, (bool, np.bool_)):
            out[i] = 1.0 if flag else -1.0
            continue
        if geoms is None or geoms[i] is None or shapely.is_empty(geoms[i]):
            continue
        xy = shapely.get_coordinates(geoms[i])
        if len(xy) < 2:
            continue
        (x0, y0), (x1, y1) = xy[0], xy[-1]
        dx = (x1 - x0) * math.cos(math.radians((y0 + y1) / 2))
        dy = y1 - y0
        chord = math.hypot(dx, dy)
        if chord == 0:
            continue
        share = (dx - dy) / math.sqrt(2) / chord  # component along the south-east axis
        if share > min_share:
            out[i] = 1.0
        elif share < -min_share:
            out[i] = -1.0
    return out


def _normalise_overrides(overrides: Mapping | None) -> dict[str, dict[str, dict[str, float]]]:
    result: dict[str, dict[str, dict[str, float]]] = {k: {} for k in OVERRIDE_KEYS}
    if not overrides:
        return result
    if not isinstance(overrides, Mapping):
        raise ValueError("overrides must be a mapping like {'class': {'national': 50}}")
    unknown = set(overrides) - set(OVERRIDE_KEYS)
    if unknown:
        raise ValueError(f"unknown override keys {sorted(unknown)}; valid: {list(OVERRIDE_KEYS)}")
    moving = {c for m, cs in MODE_CLASSES.items() if m != "transfer" for c in cs}
    for key in OVERRIDE_KEYS:
        entries = overrides.get(key) or {}
        if not isinstance(entries, Mapping):
            raise ValueError(f"overrides[{key!r}] must be a mapping of id -> speed")
        for ident, spec in entries.items():
            where = f"overrides[{key!r}][{ident!r}]"
            if key == "class" and ident not in moving:
                if ident in TRANSFER_CLASSES:
                    raise ValueError(f"{where}: transfer classes have fixed times, not speeds")
                raise ValueError(f"{where}: unknown class; valid: {sorted(moving)}")
            if isinstance(spec, Mapping):
                bad = set(spec) - set(PROFILES)
                if bad or not spec:
                    raise ValueError(f"{where}: give 'car' and/or 'truck' (got {sorted(spec)})")
                parsed = dict(spec)
            else:
                parsed = {"car": spec}
            for prof, v in parsed.items():
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0 \
                        or not math.isfinite(v):
                    raise ValueError(f"{where}: {prof} speed must be a positive number of km/h "
                                     f"(got {v!r})")
            if "car" in parsed and "truck" in parsed and parsed["truck"] > parsed["car"]:
                raise ValueError(f"{where}: truck speed {parsed['truck']} exceeds car speed "
                                 f"{parsed['car']}")
            result[key][str(ident)] = {p: float(v) for p, v in parsed.items()}
    return result


def assign_speeds(edges: gpd.GeoDataFrame, table: SpeedTable | None = None,
                  overrides: Mapping | None = None) -> gpd.GeoDataFrame:
    """Fill operating speeds, travel times and transfer costs of every edge.

    Parameters
    ----------
    edges : geopandas.GeoDataFrame
        Edge table of :mod:`network.schema`. Needs ``mode``, ``class`` and ``length_km`` (km);
        uses ``terrain``, ``lanes``, ``design_speed_kmh`` (km/h), ``maxspeed_kmh`` (km/h),
        ``source``, ``project`` and the geometry (river direction) where present, and an
        optional boolean ``downstream`` column for river edges.
    table : SpeedTable, optional
        Speed table; default :func:`load_speed_table` of ``data/speeds.yaml``.
    overrides : dict, optional
        Scenario speeds (km/h) by ``"project"``, ``"source"`` or ``"class"``; see the module
        docstring for the format and priority.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame (the input is not modified) with ``speed_kmh_car`` and ``speed_kmh_truck``
        (km/h; cruise speed for air, yard speed for transfers), ``time_h_car`` and
        ``time_h_truck`` (hours, length / speed plus fixed times of air and transfer edges) and
        ``cost_vnd_truck`` (VND per TEU for transfer edges, 0 elsewhere).

    Raises
    ------
    ValueError
        If a required column is missing, a mode, class or terrain label is unknown, a length is
        missing or negative, or the overrides are malformed.
    """
    table = table if table is not None else load_speed_table()
    ov = _normalise_overrides(overrides)
    out = edges.copy()
    mode, cls, length = _check_edges(out)
    n = len(out)

    road = mode == "road"
    car, truck = _road_speeds(out, cls, road, table)
    fixed_car = np.zeros(n)
    fixed_truck = np.zeros(n)
    cost = np.zeros(n)

    for c in RAIL_CLASSES:
        m = (mode == "rail") & (cls == c)
        car[m] = table.rail_kmh[c]["car"]
        truck[m] = table.rail_kmh[c]["truck"]

    water = mode == "water"
    if water.any():
        direction = _water_direction(out, water, table.water_min_axis_share)
        down = table.water_kmh["river"]["downstream"]
        up = table.water_kmh["river"]["upstream"]
        mean = 2.0 / (1.0 / down + 1.0 / up)
        v = np.where(direction > 0, down, np.where(direction < 0, up, mean))
        car[water] = v[water]
        truck[water] = v[water]

    air = mode == "air"
    car[air] = table.air["air"]["cruise_kmh"]
    truck[air] = table.air["air"]["cruise_kmh"]
    fixed_car[air] = fixed_truck[air] = table.air["air"]["fixed_time_h"]

    for c in TRANSFER_CLASSES:
        m = (mode == "transfer") & (cls == c)
        car[m] = truck[m] = table.yard_speed_kmh
        fixed_car[m] = table.transfer[c]["time_h_car"]
        fixed_truck[m] = table.transfer[c]["time_h_truck"]
        cost[m] = table.transfer[c]["cost_vnd_teu"]

    # Scenario overrides: class first, then source, then project, so the most specific wins.
    moving = mode != "transfer"
    columns = {"class": cls, "source": _text_column(out, "source"),
               "project": _text_column(out, "project")}
    for key in ("class", "source", "project"):
        ids = columns[key]
        for ident, spec in ov[key].items():
            m = moving & (ids == ident)
            if not m.any():
                continue
            ratio = np.where(car[m] > 0, truck[m] / car[m], 1.0)
            new_car = np.full(int(m.sum()), spec["car"]) if "car" in spec else car[m]
            new_truck = np.full(int(m.sum()), spec["truck"]) if "truck" in spec \
                else new_car * ratio
            car[m] = new_car
            truck[m] = new_truck

    out["speed_kmh_car"] = car
    out["speed_kmh_truck"] = truck
    out["time_h_car"] = length / car + fixed_car
    out["time_h_truck"] = length / truck + fixed_truck
    out["cost_vnd_truck"] = cost
    return out


def speed_summary(table: SpeedTable | None = None) -> pd.DataFrame:
    """Tabulate design and operating road speeds by class and terrain.

    The operating speeds are those of an undivided road (expressways: expressway cap) without
    an own design speed or a posted limit.

    Parameters
    ----------
    table : SpeedTable, optional
        Speed table; default ``data/speeds.yaml``.

    Returns
    -------
    pandas.DataFrame
        One row per class and terrain with ``design_kmh``, ``car_kmh`` and ``truck_kmh``
        (km/h).
    """
    table = table if table is not None else load_speed_table()
    rows = [{"class": c, "terrain": t, "mode": "road", "length_km": 1.0}
            for c in ROAD_CLASSES for t in TERRAINS]
    frame = pd.DataFrame(rows)
    got = assign_speeds(frame, table)
    return pd.DataFrame({
        "class": frame["class"], "terrain": frame["terrain"],
        "design_kmh": [table.design_kmh[c][t] for c, t in zip(frame["class"], frame["terrain"],
                                                               strict=True)],
        "car_kmh": got["speed_kmh_car"], "truck_kmh": got["speed_kmh_truck"],
    })
