"""Calibrate car operating speeds against published travel times.

The model's car time of a route is linear in the *paces* (hours per km, the inverse of speeds)
of a few parameters, once the route is fixed:

* ``factor.<group>.<terrain>``: the operating factor (operating / design speed) of ordinary roads
  (``default``: national, provincial, district and local roads, by terrain), of expressways by
  grade (the TCVN 5729 design speed 120 / 100 / 80, keyed as the terrain each grade is built
  for: :func:`network.speeds.expressway_grade`) and of join connectors (one factor). An edge of
  length L, design speed d and built-up share u adds ``L (1 − u) / d`` hours per unit of
  ``1 / factor``;
* ``urban.road`` and ``urban.expressway``: the speed of the built-up share of an edge (``L u``
  hours per unit of ``1 / speed``);
* ``rail``: the running speed of passenger trains on the old lines (metre and dual gauge).

Transfer and air times are fixed; a bus takes the car time × the bus factor of
``data/speeds.yaml``. :func:`fit` solves the bounded, weighted least squares of the modelled
against the published times: a row counts by how far its time falls outside the published range
(with a small pull towards the middle of the range), weighted by its confidence over that middle,
so that errors count relatively. Because the fastest route depends
on the speeds, ``scripts/calibrate_speeds.py`` alternates routing and fitting until the
parameters settle. The loss is robust (soft L1): rows far off count less, so that a route the
network cannot serve well does not set the speeds of every other.
:func:`leave_one_out` refits without each row in turn and predicts it (on the final routes), to
show that the fit is not memorised.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.optimize import least_squares, lsq_linear

from corridors.network.schema import TERRAINS
from corridors.network.speeds import SpeedTable, expressway_grade

#: Relative error from which a row's weight in the fit decreases (soft-L1 loss): rows more
#: than about 15 % off count less and less, so that a few broken routes do not set the speeds.
ROBUST_SCALE = 0.15
#: Share of the published range kept free at each end when fitting.
RANGE_MARGIN = 0.25
#: Weight of the pull towards the middle of the published range, relative to the distance
#: outside it: small, so that a row inside its range barely counts.
MIDPOINT_PULL = 0.1
#: Weight of a row by its confidence (a row with no confidence counts as low).
CONFIDENCE_WEIGHT = {"high": 1.0, "medium": 0.8, "low-medium": 0.6, "medium-low": 0.6,
                     "low": 0.4}


@dataclass(frozen=True)
class Parameter:
    """A calibrated quantity and its plausible bounds.

    Attributes
    ----------
    name : str
    low, high : float
        Bounds of the value (a factor, unitless, or a speed, km/h).
    why : str
        The source or reasoning of the bounds.
    """

    name: str
    low: float
    high: float
    why: str


#: The parameters and their bounds. Factor bounds keep ordinary-road speeds inside VTRA's ranges
#: (national roads 40-100 km/h; at a design speed of 80 km/h, factors 0.5-1.0) and expressways
#: between the lowest TCVN 5729 grade (60 of 100 km/h) and their design speed.
PARAMETERS = (
    Parameter("factor.default.flat", 0.5, 1.0,
              "VTRA flat national roads 40-100 km/h / design 80 (0.5-1.25), at most the design"),
    Parameter("factor.default.hilly", 0.4, 1.0,
              "national roads 30-100 km/h (speeds.yaml bounds) / design 80 (0.375-1.25)"),
    Parameter("factor.default.mountainous", 0.5, 1.0,
              "national roads 30-100 km/h (speeds.yaml bounds) / design 60 (0.5-1.67)"),
    # expressways by grade (120 / 100 / 80, keyed by their terrain): up to the design speed, and
    # at least the design speed of the grade below, so that a higher grade is never slower
    Parameter("factor.expressway.flat", 100 / 120, 1.0,
              "grade 120: at least the 100 km/h of grade 100, at most its design speed"),
    Parameter("factor.expressway.hilly", 80 / 100, 1.0,
              "grade 100: at least the 80 km/h of grade 80, at most its design speed"),
    Parameter("factor.expressway.mountainous", 0.6, 1.0,
              "grades 80 and 60: down to 48 km/h (TCVN 5729 lowest grade 60), at most the design"),
    Parameter("factor.connector", 0.33, 1.0, "speeds.yaml connector bounds 10-40 km/h / 30"),
    Parameter("urban.road", 12.0, 40.0, "assumption: city traffic 12-40 km/h"),
    Parameter("urban.expressway", 40.0, 90.0, "urban expressway ends 40-90 km/h: signed 60-90, "
              "less at toll plazas and entrances in traffic (assumption)"),
    Parameter("rail", 30.0, 60.0, "VTRA rail 40-60 km/h, widened to 30 for old single track"),
)
_NAMES = [p.name for p in PARAMETERS]


def current_values(table: SpeedTable) -> dict[str, float]:
    """Return the parameters' values in a speed table (car)."""
    f = table.factor
    out = {f"factor.default.{t}": f["default"]["car"][t] for t in TERRAINS}
    out.update({f"factor.expressway.{t}": f["expressway"]["car"][t] for t in TERRAINS})
    conn = f.get("connector", f["default"])
    out["factor.connector"] = float(np.mean(list(conn["car"].values())))
    out["urban.road"] = table.urban_kmh.get("road", {}).get("car", 25.0)
    out["urban.expressway"] = table.urban_kmh.get("expressway", {}).get("car", 60.0)
    out["rail"] = table.rail_kmh["metre"]["car"]
    return out


def with_values(table: SpeedTable, values: dict[str, float]) -> SpeedTable:
    """Return a copy of a speed table with the parameters set (car figures only).

    Truck figures are not calibrated (no published truck times): they keep the table's values,
    and :func:`network.speeds.assign_speeds` never lets a truck run faster than a car. Rail
    freight is not changed either.
    """
    factor = copy.deepcopy(table.factor)
    for group in ("default", "expressway", "connector"):
        if group not in factor:
            continue
        for t in TERRAINS:
            key = f"factor.{group}" if group == "connector" else f"factor.{group}.{t}"
            if key in values:
                factor[group]["car"][t] = values[key]
    urban = copy.deepcopy(table.urban_kmh)
    for kind in ("road", "expressway"):
        key = f"urban.{kind}"
        if key in values and kind in urban:
            urban[kind] = {**urban[kind], "car": values[key]}
    rail = copy.deepcopy(table.rail_kmh)
    if "rail" in values:
        for cls in ("metre", "dual"):
            rail[cls]["car"] = values["rail"]
    return replace(table, factor=factor, urban_kmh=urban, rail_kmh=rail)


def design_row(edges: pd.DataFrame, table: SpeedTable, time_factor: float = 1.0
               ) -> tuple[np.ndarray, float]:
    """Return a route's coefficients on the paces of :data:`PARAMETERS`, and its fixed hours.

    Parameters
    ----------
    edges : pandas.DataFrame
        The route's edges (``mode``, ``class``, ``length_km``, ``terrain``,
        ``design_speed_kmh``, ``urban_share``, ``time_h_car``).
    table : SpeedTable
        Gives the design speeds by class and terrain.
    time_factor : float
        The bus factor for bus rows, else 1.

    Returns
    -------
    coefficients : numpy.ndarray
        Hours per unit of each parameter's pace (1 / factor, or 1 / speed in h/km).
    fixed_h : float
        Hours that do not depend on the parameters (transfers, flights, standard gauge).
    """
    a = np.zeros(len(PARAMETERS))
    fixed = 0.0
    col = {n: i for i, n in enumerate(_NAMES)}

    def column(name: str, default: float) -> np.ndarray:
        if name not in edges.columns:
            return np.full(len(edges), default)
        return pd.to_numeric(edges[name], errors="coerce").fillna(default).to_numpy(float)

    own = column("design_speed_kmh", 0.0)
    urban = np.clip(column("urban_share", 0.0), 0.0, 1.0)
    terrain = edges["terrain"] if "terrain" in edges.columns else pd.Series(
        [None] * len(edges))
    rows = zip(edges["mode"], edges["class"], column("length_km", 0.0), terrain, own, urban,
               column("time_h_car", 0.0), strict=True)
    for mode, cls, km, t, d_own, u, hours in rows:
        if mode == "road":
            t = t if t in TERRAINS else table.terrain_fallback
            design = d_own if d_own > 0 else table.design_kmh[cls][t]
            kind = "expressway" if cls == "expressway" else "road"
            column_t = expressway_grade(design) if kind == "expressway" else t
            group = {"expressway": f"factor.expressway.{column_t}",
                     "connector": "factor.connector"}.get(cls, f"factor.default.{t}")
            slow = f"urban.{kind}"
            factor = table.operating_factor(cls, "car", column_t)
            if table.urban_kmh and factor * design < table.urban_kmh[kind]["car"]:
                # the open-road speed is already below the urban one: assign_speeds drives
                # the built-up km at it too (min(v, urban)), so they count on the factor
                a[col[group]] += km / design
            else:
                a[col[group]] += km * (1 - u) / design
                a[col[slow]] += km * u
        elif mode == "rail" and cls in ("metre", "dual"):
            a[col["rail"]] += km
        else:
            fixed += hours
    return a * time_factor, fixed * time_factor


def _to_pace_bounds() -> tuple[np.ndarray, np.ndarray]:
    lo = np.array([1.0 / p.high for p in PARAMETERS])
    hi = np.array([1.0 / p.low for p in PARAMETERS])
    return lo, hi


def fit(A: np.ndarray, fixed: np.ndarray, low: np.ndarray, high: np.ndarray,
        weight: np.ndarray, keep: dict[str, float] | None = None) -> dict[str, float]:
    """Solve the bounded, robust, weighted least squares for the parameters.

    The residual of a row is how far its modelled time lies outside the published range
    (zero inside), plus a small pull (:data:`MIDPOINT_PULL`) towards the middle of the range
    that keeps the problem well posed; both are weighted by ``weight`` (confidence / the middle
    of the range, so errors count relatively) and pass through a soft-L1 loss
    (:data:`ROBUST_SCALE`).

    Parameters
    ----------
    A : numpy.ndarray
        Rows × parameters: coefficients on the paces (:func:`design_row`).
    fixed : numpy.ndarray
        Fixed hours per row.
    low, high : numpy.ndarray
        Published range per row, hours.
    weight : numpy.ndarray
        Row weights.
    keep : dict, optional
        Values for the parameters no row uses (default: the middle of their bounds' paces);
        the calibration passes the table's current values, so that they are not overwritten.

    Returns
    -------
    dict
        Parameter name to value (factor, or speed km/h).
    """
    lo, hi = _to_pace_bounds()
    used = np.abs(A).sum(axis=0) > 0
    Au = A[:, used]
    mid = (low + high) / 2

    # the range is aimed at inside a margin (_residuals): the full model (speed bounds, legal
    # caps, new routes) differs a little from the linear one
    def residual(x: np.ndarray) -> np.ndarray:
        return _residuals(Au @ x + fixed, low, high, weight)

    start = lsq_linear(Au * weight[:, None], (mid - fixed) * weight,
                       bounds=(lo[used], hi[used])).x
    sol = least_squares(residual, np.clip(start, lo[used], hi[used]),
                        bounds=(lo[used], hi[used]), loss="soft_l1", f_scale=ROBUST_SCALE)
    pace = (lo + hi) / 2
    if keep:
        pace = np.array([1.0 / keep[n] if n in keep else p for n, p in zip(_NAMES, pace,
                                                                          strict=True)])
    pace[used] = sol.x
    return {n: round(float(1.0 / p), 3) for n, p in zip(_NAMES, pace, strict=True)}


def _residuals(hours: np.ndarray, low: np.ndarray, high: np.ndarray, weight: np.ndarray
               ) -> np.ndarray:
    mid = (low + high) / 2
    margin = RANGE_MARGIN * (high - low)
    lo, hi = low + margin, high - margin
    outside = np.maximum(lo - hours, 0) + np.maximum(hours - hi, 0)
    return np.concatenate([outside * weight, MIDPOINT_PULL * (hours - mid) * weight])


def loss(hours: np.ndarray, low: np.ndarray, high: np.ndarray, weight: np.ndarray) -> float:
    """Return the objective :func:`fit` minimises, for modelled hours (soft-L1 of residuals).

    The calibration script uses it to compare parameter sets on the full model, whose routes
    change with the speeds.
    """
    z = (_residuals(hours, low, high, weight) / ROBUST_SCALE) ** 2
    return float(np.sum(2 * (np.sqrt(1 + z) - 1)) * ROBUST_SCALE ** 2)


def predict(A: np.ndarray, fixed: np.ndarray, values: dict[str, float]) -> np.ndarray:
    """Return the modelled hours of each row for parameter values (fixed routes)."""
    pace = np.array([1.0 / values[n] for n in _NAMES])
    return A @ pace + fixed


def leave_one_out(A: np.ndarray, fixed: np.ndarray, low: np.ndarray, high: np.ndarray,
                  weight: np.ndarray) -> np.ndarray:
    """Return each row's hours predicted by the fit on all the other rows (fixed routes)."""
    out = np.empty(len(low))
    for i in range(len(low)):
        keep = np.arange(len(low)) != i
        values = fit(A[keep], fixed[keep], low[keep], high[keep], weight[keep])
        out[i] = predict(A[i:i + 1], fixed[i:i + 1], values)[0]
    return out


#: Where each parameter is written in data/speeds.yaml (car figures; several paths share one).
YAML_PATHS = {
    **{f"factor.default.{t}": [("road", "operating_factor", "default", "car", t)]
       for t in TERRAINS},
    **{f"factor.expressway.{t}": [("road", "operating_factor", "expressway", "car", t)]
       for t in TERRAINS},
    "factor.connector": [("road", "operating_factor", "connector", "car", t) for t in TERRAINS],
    "urban.road": [("road", "urban", "road_kmh", "car")],
    "urban.expressway": [("road", "urban", "expressway_kmh", "car")],
    "rail": [("rail", "metre", "passenger_kmh"), ("rail", "dual", "passenger_kmh")],
}


def patch_figure(text: str, path: tuple[str, ...], value: float, source: str) -> str:
    """Return YAML ``text`` with the figure at ``path`` replaced by ``{value, source}``.

    The figure must be written on one line (``key: {value: ..., ...}``); comments and the rest
    of the file are kept as they are.

    Raises
    ------
    KeyError
        If the path is not found as a one-line figure.
    """
    lines = text.split("\n")
    stack: list[tuple[int, str]] = []
    for k, line in enumerate(lines):
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#") or ":" not in stripped:
            continue
        indent = len(line) - len(stripped)
        key = stripped.split(":", 1)[0].strip()
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, key))
        if tuple(s for _, s in stack) == path:
            rest = stripped.split(":", 1)[1].strip()
            if not rest.startswith("{"):
                raise KeyError(f"{'.'.join(path)} is not a one-line figure")
            quoted = source.replace('"', "'")
            lines[k] = f'{" " * indent}{key}: {{value: {value:g}, source: "{quoted}"}}'
            return "\n".join(lines)
    raise KeyError(f"{'.'.join(path)} not found")
