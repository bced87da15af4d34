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
``data/speeds.yaml``. :func:`fit` works in two stages, both on the linear model:

1. it finds the largest confidence-weighted set of rows that the parameter bounds let sit inside
   their published ranges *together* (a small mixed-integer programme: one binary per row), so
   that the fit aims at what the check counts rather than at an average that leaves rows just
   outside on both sides;
2. among the parameters that keep those rows inside (with a small margin, because the full
   model's caps and new routes differ a little from the linear one), it minimises the robust,
   weighted least squares of all rows: a row counts by how far its time falls outside the
   published range, with a small pull towards the middle, weighted by its confidence over that
   middle so that errors count relatively. The loss is soft L1: rows far off count less, so
   that a route the network cannot serve well does not set the speeds of every other.

Both stages keep ordinary-road speeds ordered by terrain (flat ≥ hilly ≥ mountainous, in km/h on
a national road): a fit that made hill roads slower than mountain roads would be memorising the
rows, not describing the roads. Because the fastest route depends on the speeds,
``scripts/calibrate_speeds.py`` alternates routing and fitting until the parameters settle.
:func:`leave_one_out` refits without each row in turn and predicts it (on the final routes), to
show that the fit is not memorised.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp, minimize

from corridors.network.schema import TERRAINS
from corridors.network.speeds import SpeedTable, expressway_grade

#: Relative error from which a row's weight in the fit decreases (soft-L1 loss): rows more
#: than about 15 % off count less and less, so that a few broken routes do not set the speeds.
ROBUST_SCALE = 0.15
#: Share of the published range kept free at each end when fitting (stage 2's residuals).
RANGE_MARGIN = 0.25
#: Share of the published range kept free at each end for the rows stage 1 puts inside, and the
#: slack (share of the time) that lets a range of zero width count as met.
SELECT_MARGIN = 0.05
SELECT_SLACK = 0.005
#: Design speed of a national road in mountain over hill terrain (TCVN 4054:2005 Table 4,
#: grade III: 60 / 80 km/h). Stage 2 keeps ``hilly factor × 80 ≥ mountainous factor × 60``;
#: the other classes' ratios (provincial 40 / 60) are looser, so this one binds.
MOUNTAIN_OVER_HILL_DESIGN = 60 / 80
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
    """Fit the parameters to the published ranges (two stages, see the module docstring).

    Parameters
    ----------
    A : numpy.ndarray
        Rows × parameters: coefficients on the paces (:func:`design_row`).
    fixed : numpy.ndarray
        Fixed hours per row.
    low, high : numpy.ndarray
        Published range per row, hours.
    weight : numpy.ndarray
        Row weights: confidence (:data:`CONFIDENCE_WEIGHT`) over the middle of the range.
    keep : dict, optional
        Values for the parameters no row uses (default: the middle of their bounds' paces);
        the calibration passes the table's current values, so that they are not overwritten.

    Returns
    -------
    dict
        Parameter name to value (factor, or speed km/h).
    """
    lo, hi = _to_pace_bounds()
    pace = (lo + hi) / 2
    if keep:
        pace = np.array([1.0 / keep[n] if n in keep else p for n, p in zip(_NAMES, pace,
                                                                          strict=True)])
    used = np.abs(A).sum(axis=0) > 0
    # unused parameters are held at their values: x_full = base + S @ x
    S = np.eye(len(_NAMES))[:, used]
    base = np.where(used, 0.0, pace)
    Au, fixed_u = A @ S, fixed + A @ base
    order = _terrain_order()
    order_u, order_rhs = order @ S, -(order @ base)
    # an order row binds only between fitted parameters and values really held (``keep``): a
    # default middle of the bounds is no value to order a fitted parameter against
    held = keep or {}
    known = used | np.array([n in held for n in _NAMES])
    live = (np.abs(order_u).sum(axis=1) > 0) & (known | (order == 0)).all(axis=1)
    order_u, order_rhs = order_u[live], order_rhs[live]
    bounds = Bounds(lo[used], hi[used])

    chosen, x0 = _select(Au, fixed_u, low, high, weight * (low + high) / 2, bounds,
                         order_u, order_rhs)
    win_lo, win_hi = _window(low, high)
    constraints = [LinearConstraint(order_u, order_rhs, np.inf)] if len(order_u) else []
    if chosen.any():
        constraints.append(LinearConstraint(Au[chosen], win_lo[chosen] - fixed_u[chosen],
                                            win_hi[chosen] - fixed_u[chosen]))

    def objective(x: np.ndarray) -> float:
        return loss(Au @ x + fixed_u, low, high, weight)

    sol = minimize(objective, x0, method="SLSQP", bounds=bounds, constraints=constraints,
                   options={"maxiter": 500, "ftol": 1e-12})
    # SLSQP often stops on the non-smooth loss with a "linesearch" status at a good point: keep
    # its point whenever it meets the constraints and improves on stage 1's
    x = np.clip(sol.x, lo[used], hi[used])
    if not (_violation(x, constraints) <= 1e-8 and objective(x) <= objective(x0)):
        x = x0
    pace[used] = x
    return {n: round(float(1.0 / p), 3) for n, p in zip(_NAMES, pace, strict=True)}


def _violation(x: np.ndarray, constraints: list[LinearConstraint]) -> float:
    """Return the largest violation of linear constraints at ``x`` (0 when all are met)."""
    worst = 0.0
    for c in constraints:
        ax = c.A @ x
        worst = max(worst, float(np.max(c.lb - ax, initial=0.0)),
                    float(np.max(ax - c.ub, initial=0.0)))
    return worst


def _window(low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the hours a row chosen by stage 1 must keep to: its range less a margin.

    A range of zero width (a test's exact time) gets a slack of :data:`SELECT_SLACK` instead.
    """
    width, mid = high - low, (low + high) / 2
    give = np.where(width > 0, -SELECT_MARGIN * width, SELECT_SLACK * mid)
    return low - give, high + give


def _terrain_order() -> np.ndarray:
    """Return rows ``C`` with ``C @ pace >= 0`` for flat ≥ hilly ≥ mountainous road speeds."""
    col = {n: i for i, n in enumerate(_NAMES)}
    c = np.zeros((2, len(_NAMES)))
    # speed_hilly <= speed_flat (same design speed): pace_hilly - pace_flat >= 0
    c[0, col["factor.default.hilly"]], c[0, col["factor.default.flat"]] = 1.0, -1.0
    # speed_mountainous <= speed_hilly: 60 / pace_m <= 80 / pace_h, i.e. pace_m - r pace_h >= 0
    c[1, col["factor.default.mountainous"]] = 1.0
    c[1, col["factor.default.hilly"]] = -MOUNTAIN_OVER_HILL_DESIGN
    return c


def _select(A: np.ndarray, fixed: np.ndarray, low: np.ndarray, high: np.ndarray,
            confidence: np.ndarray, bounds: Bounds, order: np.ndarray, order_rhs: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Stage 1: the largest confidence-weighted set of rows that can sit inside together.

    Returns the chosen rows (bool) and paces that put them inside (a feasible start for stage 2).
    """
    n, p = A.shape
    win_lo, win_hi = _window(low, high)
    # big M: more than any row's hours can move within the bounds
    big = (np.abs(A) @ bounds.ub + np.abs(fixed) + np.abs(high)).max() * 2 + 1.0
    eye = np.eye(n) * big
    cons = [
        LinearConstraint(np.hstack([A, -eye]), win_lo - fixed - big, np.inf),  # z=1: ≥ win_lo
        LinearConstraint(np.hstack([A, eye]), -np.inf, win_hi - fixed + big),   # z=1: ≤ win_hi
    ]
    if len(order):
        cons.append(LinearConstraint(np.hstack([order, np.zeros((len(order), n))]), order_rhs,
                                     np.inf))
    res = milp(np.concatenate([np.zeros(p), -np.maximum(confidence, 1e-6)]), constraints=cons,
               bounds=Bounds(np.concatenate([bounds.lb, np.zeros(n)]),
                             np.concatenate([bounds.ub, np.ones(n)])),
               integrality=np.concatenate([np.zeros(p), np.ones(n)]),
               options={"time_limit": 60})
    if res.x is None:  # no feasible point at all (cannot happen with box bounds): choose none
        return np.zeros(n, bool), (bounds.lb + bounds.ub) / 2
    return res.x[p:] > 0.5, np.clip(res.x[:p], bounds.lb, bounds.ub)


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


def score(hours: np.ndarray, low: np.ndarray, high: np.ndarray, weight: np.ndarray
          ) -> tuple[float, float]:
    """Return what :func:`fit` ranks parameter sets by, smaller first, for modelled hours.

    The first term is minus the confidence-weighted count of rows inside their published range
    (stage 1), the second :func:`loss` (stage 2). The calibration script uses it to compare
    rounds on the full model, whose routes change with the speeds.
    """
    inside = (hours >= low) & (hours <= high)
    confidence = weight * (low + high) / 2
    return -round(float(confidence[inside].sum()), 6), loss(hours, low, high, weight)


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
