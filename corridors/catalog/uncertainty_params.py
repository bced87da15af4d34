"""The parameters of the simulation: ``data/uncertainty.yaml`` and a scenario's overrides.

:func:`load_uncertainty` reads the shipped file (every figure with a source or flagged as an
assumption, like ``data/speeds.yaml``); :func:`override_problems` checks a scenario's
``uncertainty:`` mapping (plain numbers) and :func:`with_overrides` applies it. Every problem
names the file, the entry (a status, kind or class) and the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from corridors.catalog.validation import PROJECT_KINDS, STATUSES
from corridors.core.diagnostics import InputError, Problem
from corridors.core.safe_yaml import load_yaml
from corridors.layers.datadir import data_dir
from corridors.network.schema import RAIL_CLASSES, ROAD_CLASSES

__all__ = ["DELAY_FIELDS", "SPEED_CLASSES", "DelaySpec", "UncertaintyParams",
           "load_uncertainty", "override_problems", "with_overrides"]

#: Name of the parameter file in the data folder.
UNCERTAINTY_FILE = "uncertainty.yaml"
#: Classes whose speed is drawn (air and transfer times do not vary).
SPEED_CLASSES = (*ROAD_CLASSES, *RAIL_CLASSES, "river")
#: Classes bounded by ``relative_bounds`` (speeds.yaml bounds road classes only).
RELATIVE_CLASSES = (*RAIL_CLASSES, "river")
#: Fields of a delay distribution and their ranges.
DELAY_FIELDS = {"p_on_time": (0.0, 1.0), "mean_delay_years": (1.0, 20.0),
                "max_delay_years": (1, 30)}
_TOP = {"version", "delays", "kind_factor", "speeds", "gain_threshold_h"}
_SPEED_KEYS = {"correlation", "sigma", "relative_bounds"}


@dataclass(frozen=True)
class DelaySpec:
    """How late a project of one status opens.

    Attributes
    ----------
    p_on_time : float
        Probability of opening in its year (0-1).
    mean_delay_years : float
        Mean delay when late, years (at least 1).
    max_delay_years : int
        Longest delay, years.
    """

    p_on_time: float
    mean_delay_years: float
    max_delay_years: int


@dataclass(frozen=True)
class UncertaintyParams:
    """The validated parameters (see ``data/uncertainty.yaml`` for their meaning).

    Attributes
    ----------
    delays : dict
        ``status_2025`` to :class:`DelaySpec`.
    kind_factor : dict
        Project kind to the factor on ``mean_delay_years``.
    sigma : dict
        Class to the standard deviation of the log speed.
    within_mode, across_modes : float
        Correlations of the classes' draws within a mode and across modes.
    relative_bounds : dict
        Rail and water class to (min, max) share of its speed.
    gain_threshold_h : float
        Hours: a gate gets its gain when its time to Hà Nội falls by at least this much.
    sources : tuple of str
        Where the figures come from: the file, then each scenario that overrode some.
    """

    delays: dict[str, DelaySpec]
    kind_factor: dict[str, float]
    sigma: dict[str, float]
    within_mode: float
    across_modes: float
    relative_bounds: dict[str, tuple[float, float]]
    gain_threshold_h: float
    sources: tuple[str, ...] = field(default=())


class _Walk:
    """Reads the document; ``wrapped`` figures are ``{value: x}`` with provenance (the file)."""

    def __init__(self, file: str, wrapped: bool, prefix: str = ""):
        self.file, self.wrapped, self.prefix = file, wrapped, prefix
        self.problems: list[Problem] = []

    def bad(self, entry: str, fld: str, msg: str) -> None:
        self.problems.append(Problem(self.file, entry, self.prefix + fld, msg))

    def mapping(self, node: Any, entry: str, fld: str) -> dict:
        if node is None:
            return {}
        if not isinstance(node, dict):
            self.bad(entry, fld, "must be a mapping")
            return {}
        return node

    def number(self, node: Any, entry: str, fld: str, lo: float, hi: float,
               inherited: bool) -> float | None:
        if self.wrapped:
            if not isinstance(node, dict) or "value" not in node:
                self.bad(entry, fld, "must be a mapping {value: ..., source: ...}")
                return None
            if not (inherited or _has_provenance(node)):
                self.bad(entry, fld, "figure has no 'source' (or 'assumption: true' and "
                         "'note'), neither here nor on the mapping above it")
            node = node["value"]
        if isinstance(node, bool) or not isinstance(node, int | float) or not math.isfinite(
                node) or not lo <= node <= hi:
            self.bad(entry, fld, f"must be a number in {lo:g}-{hi:g}, got {_short(node)}")
            return None
        return float(node)

    def unknown(self, node: dict, allowed, entry: str, fld: str, what: str,
                key_is_entry: bool = True) -> None:
        """Report keys not in ``allowed``: as the entry (a status, class) or as the field."""
        for key in sorted(set(node) - set(allowed) - ({"source", "assumption", "note"}
                                                       if self.wrapped else set()), key=str):
            self.bad(str(key) if key_is_entry else entry,
                     fld if key_is_entry else f"{fld}.{key}",
                     f"unknown {what}; allowed: {', '.join(sorted(allowed))}")


def _has_provenance(node: dict) -> bool:
    if isinstance(node.get("source"), str) and node["source"].strip():
        return True
    return node.get("assumption") is True and isinstance(node.get("note"), str) \
        and bool(node["note"].strip())


def _short(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read(doc: Any, w: _Walk, base: UncertaintyParams | None) -> dict[str, Any]:
    """Return the figures the document sets (all of them for the file, some for a scenario)."""
    out: dict[str, Any] = {}
    doc = w.mapping(doc, "-", "")
    w.unknown(doc, _TOP, "-", "", "key")
    delays = w.mapping(doc.get("delays"), "delays", "delays")
    w.unknown(delays, STATUSES, "delays", "delays", "status")
    out["delays"] = {}
    for status in sorted(STATUSES & set(delays)):
        node = w.mapping(delays[status], status, "delays")
        here = _has_provenance(node) if w.wrapped else True
        w.unknown(node, DELAY_FIELDS, status, "delays", "field", key_is_entry=False)
        got = {}
        for fname, (lo, hi) in DELAY_FIELDS.items():
            if fname in node:
                got[fname] = w.number(node[fname], status, f"delays.{fname}", lo, hi, here)
            elif w.wrapped:
                w.bad(status, f"delays.{fname}", "missing")
        out["delays"][status] = got
    if w.wrapped:
        for status in sorted(STATUSES - set(delays)):
            w.bad(status, "delays", "missing status")
    kinds = w.mapping(doc.get("kind_factor"), "kind_factor", "kind_factor")
    here = _has_provenance(kinds) if w.wrapped else True
    w.unknown(kinds, PROJECT_KINDS, "kind_factor", "kind_factor", "kind")
    out["kind_factor"] = {k: w.number(kinds[k], k, "kind_factor", 0.1, 10, here)
                          for k in sorted(PROJECT_KINDS & set(kinds))}
    speeds = w.mapping(doc.get("speeds"), "speeds", "speeds")
    w.unknown(speeds, _SPEED_KEYS, "speeds", "speeds", "key")
    corr = w.mapping(speeds.get("correlation"), "correlation", "speeds.correlation")
    w.unknown(corr, {"within_mode", "across_modes"}, "correlation", "speeds.correlation", "key")
    for k in ("within_mode", "across_modes"):
        if k in corr:
            out[k] = w.number(corr[k], k, "speeds.correlation", 0.0, 1.0, False)
    sigma = w.mapping(speeds.get("sigma"), "sigma", "speeds.sigma")
    here = _has_provenance(sigma) if w.wrapped else True
    w.unknown(sigma, SPEED_CLASSES, "sigma", "speeds.sigma", "class")
    out["sigma"] = {c: w.number(sigma[c], c, "speeds.sigma", 0.0, 1.0, here)
                    for c in SPEED_CLASSES if c in sigma}
    rel = w.mapping(speeds.get("relative_bounds"), "relative_bounds", "speeds.relative_bounds")
    here = _has_provenance(rel) if w.wrapped else True
    w.unknown(rel, RELATIVE_CLASSES, "relative_bounds", "speeds.relative_bounds", "class")
    out["relative_bounds"] = {}
    for c in RELATIVE_CLASSES:
        if c not in rel:
            continue
        node = w.mapping(rel[c], c, "speeds.relative_bounds")
        w.unknown(node, {"min", "max"}, c, "speeds.relative_bounds", "key",
                  key_is_entry=False)
        old = base.relative_bounds.get(c, (1.0, 1.0)) if base else (1.0, 1.0)
        rlo = w.number(node["min"], c, "speeds.relative_bounds.min", 0.1, 1.0, here) \
            if "min" in node else old[0]
        rhi = w.number(node["max"], c, "speeds.relative_bounds.max", 1.0, 10.0, here) \
            if "max" in node else old[1]
        out["relative_bounds"][c] = (rlo, rhi)
    if "gain_threshold_h" in doc:
        out["gain_threshold_h"] = w.number(doc["gain_threshold_h"], "gain_threshold_h",
                                           "gain_threshold_h", 0.0, 24.0, False)
    if not w.wrapped:
        return out
    for c in SPEED_CLASSES:
        if c not in out["sigma"]:
            w.bad(c, "speeds.sigma", "missing class")
    for k in ("within_mode", "across_modes"):
        if k not in out:
            w.bad(k, "speeds.correlation", "missing")
    if "gain_threshold_h" not in out:
        w.bad("gain_threshold_h", "gain_threshold_h", "missing")
    return out


def _check_correlation(params: UncertaintyParams, w: _Walk) -> None:
    if params.across_modes > params.within_mode:
        w.bad("across_modes", "speeds.correlation", f"must not exceed within_mode "
              f"({params.across_modes:g} > {params.within_mode:g}): classes of one mode are "
              "at least as alike as classes of two modes")


def load_uncertainty(path: str | Path | None = None) -> UncertaintyParams:
    """Read and validate the parameter file (default ``data/uncertainty.yaml``).

    Raises
    ------
    InputError
        Every problem at once, each with file, entry and field.
    """
    path = Path(path) if path else data_dir() / UNCERTAINTY_FILE
    w = _Walk(path.name, wrapped=True)
    try:
        doc = load_yaml(path, what="the uncertainty parameters")
    except yaml.YAMLError as exc:
        raise InputError([Problem(path.name, "-", "-", f"not valid YAML: {exc}")],
                         str(path)) from None
    got = _read(doc, w, None)
    if w.problems:
        raise InputError(w.problems, str(path))
    delays = {s: DelaySpec(d["p_on_time"], d["mean_delay_years"], int(d["max_delay_years"]))
              for s, d in got["delays"].items()}
    params = UncertaintyParams(
        delays=delays, kind_factor={k: v for k, v in got["kind_factor"].items()},
        sigma=got["sigma"], within_mode=got["within_mode"], across_modes=got["across_modes"],
        relative_bounds=got["relative_bounds"], gain_threshold_h=got["gain_threshold_h"],
        sources=(str(path),))
    _check_correlation(params, w)
    if w.problems:
        raise InputError(w.problems, str(path))
    return params


def override_problems(doc: Any, file: str, base: UncertaintyParams | None = None
                      ) -> list[Problem]:
    """Return the problems of a scenario's ``uncertainty:`` mapping (plain numbers).

    Fields are named from the scenario's top: ``uncertainty.delays.p_on_time``.
    """
    w = _Walk(file, wrapped=False, prefix="uncertainty.")
    _read(doc, w, base)
    return w.problems


def with_overrides(params: UncertaintyParams, doc: dict | None, file: str
                   ) -> UncertaintyParams:
    """Return ``params`` with a scenario's ``uncertainty:`` figures replacing theirs.

    Raises
    ------
    InputError
        If the overrides are malformed (file, entry, field), or make across_modes exceed
        within_mode.
    """
    if not doc:
        return params
    w = _Walk(file, wrapped=False, prefix="uncertainty.")
    got = _read(doc, w, params)
    if w.problems:
        raise InputError(w.problems, f"the scenario {file}")
    delays = dict(params.delays)
    for status, figures in got["delays"].items():
        old = delays[status]
        delays[status] = DelaySpec(
            figures.get("p_on_time", old.p_on_time),
            figures.get("mean_delay_years", old.mean_delay_years),
            int(figures.get("max_delay_years", old.max_delay_years)))
    out = replace(params, delays=delays,
                  kind_factor={**params.kind_factor, **got["kind_factor"]},
                  sigma={**params.sigma, **got["sigma"]},
                  within_mode=got.get("within_mode", params.within_mode),
                  across_modes=got.get("across_modes", params.across_modes),
                  relative_bounds={**params.relative_bounds, **got["relative_bounds"]},
                  gain_threshold_h=got.get("gain_threshold_h", params.gain_threshold_h),
                  sources=(*params.sources, file))
    _check_correlation(out, w)
    if w.problems:
        raise InputError(w.problems, f"the scenario {file}")
    return out
