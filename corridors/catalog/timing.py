"""The documented rule that turns a plan's expected time into a planned opening year."""

from __future__ import annotations

import re

#: The last year the catalogs' evidence covers. Year Y means the network at the end of Y; the
#: dated facts run to early 2026, so what opened by 31 December 2025 is known.
EVIDENCE_YEAR = 2025
#: How an opening year is read (:func:`reading_open_year`): ``evidence`` (default) opens a link
#: in a year already past only with a dated fact; ``plan`` takes the plans as written.
READINGS = ("evidence", "plan")
DEFAULT_READING = "evidence"
#: What an ``open_year`` rests on. ``fact``: a dated opening or a dated fact that the link is in
#: operation; ``target``: an official completion target of works under way (not evidence that
#: it opened); ``plan``: the plan's expected time (:func:`plan_open_year`); ``scenario``: a year
#: a scenario file sets.
OPEN_YEAR_BASES = ("fact", "target", "plan", "scenario")
#: The plans work in five-year periods (2021-2025, 2026-2030, ...): a plan year that has passed
#: without an opening moves to the end of the next period.
PLAN_PERIOD_YEARS = 5

_PERIOD = re.compile(r"(\d{4})\s*[-–]\s*(\d{4})")
_BEFORE = re.compile(r"^\s*before\s+(\d{4})\b", re.IGNORECASE)
_YEAR = re.compile(r"^\s*(\d{4})\s*$")


def plan_open_year(expected_time: str) -> int:
    """Return the planned opening year that a plan's expected time implies.

    The rule (data/catalog/SCHEMA.md):

    * a period ``"YYYY - ZZZZ"`` gives ZZZZ, its last year;
    * a stage in parentheses with its own period (``"Before 2030 (stage I of 2021 - 2025)"``)
      gives the end of that stage's period;
    * ``"Before YYYY"`` gives YYYY − 1;
    * a single year gives that year.

    Parameters
    ----------
    expected_time : str
        The expected implementation time exactly as the plan writes it, e.g. ``"2021 -2025"``.

    Returns
    -------
    int
        The planned opening year.

    Raises
    ------
    ValueError
        If the text matches none of the forms above.
    """
    text = expected_time.strip()
    inner = re.search(r"\(([^)]*)\)", text)
    if inner and (m := _PERIOD.search(inner.group(1))):
        return int(m.group(2))
    outer = re.sub(r"\([^)]*\)", "", text)
    if m := _PERIOD.search(outer):
        start, end = int(m.group(1)), int(m.group(2))
        if end < start:
            raise ValueError(f"period ends before it starts: {expected_time!r}")
        return end
    if m := _BEFORE.match(outer):
        return int(m.group(1)) - 1
    if m := _YEAR.match(outer):
        return int(m.group(1))
    raise ValueError(
        f"cannot read an opening year from expected time {expected_time!r} (expected "
        "'YYYY - ZZZZ', 'Before YYYY' or 'YYYY')"
    )


def next_plan_horizon(year: int) -> int:
    """Return the end of the first five-year plan period after ``year`` (2025 -> 2030)."""
    return (year // PLAN_PERIOD_YEARS + 1) * PLAN_PERIOD_YEARS


def reading_open_year(open_year: int, plan_year: int | None, basis: str,
                      reading: str = DEFAULT_READING,
                      evidence_year: int = EVIDENCE_YEAR) -> int:
    """Return the year a project opens in the network under a reading of the catalogs.

    The ``evidence`` reading (the default) is the network as it stands: a link is open in a year
    up to ``evidence_year`` only with a dated fact (``basis == "fact"``). A year that has passed
    without one moves forward: an official target of works under way (``"target"``) to the year
    after the evidence, a plan year (``"plan"``) to the end of the next plan period, since the
    plans are revised by period. Years after ``evidence_year`` stand as given, and a scenario's
    own year (``"scenario"``) always stands.

    The ``plan`` reading takes the plans as written: a project whose year is a plan year or a
    target opens in its ``plan_year``; a dated opening (``"fact"``) and a scenario's year stand
    (existing links, which have no plan year, keep theirs).

    Parameters
    ----------
    open_year : int
        The catalog's ``open_year``.
    plan_year : int or None
        The catalog's ``plan_open_year`` (None for existing links).
    basis : str
        The catalog's ``open_year_basis``, one of :data:`OPEN_YEAR_BASES`.
    reading : {"evidence", "plan"}
    evidence_year : int
        The last year the evidence covers (:data:`EVIDENCE_YEAR`).

    Returns
    -------
    int
        The opening year the network uses.

    Examples
    --------
    >>> reading_open_year(2023, 2023, "plan")          # "before 2024", no evidence
    2030
    >>> reading_open_year(2023, 2023, "plan", "plan")
    2023
    >>> reading_open_year(2026, 2024, "target", "plan")  # the plan as written: 2024
    2024
    >>> reading_open_year(2025, 2024, "fact")          # opened 19 Dec 2025
    2025
    >>> reading_open_year(2025, 2025, "target")        # target date, opening unconfirmed
    2026
    """
    if reading not in READINGS:
        raise ValueError(f"unknown reading {reading!r}; valid: {', '.join(READINGS)}")
    if basis not in OPEN_YEAR_BASES:
        raise ValueError(f"unknown open_year_basis {basis!r}; valid: {', '.join(OPEN_YEAR_BASES)}")
    if reading == "plan":
        # the plans' intentions replace targets and plan years; what has opened has opened
        return plan_year if plan_year is not None and basis in ("plan", "target") else open_year
    if basis in ("fact", "scenario") or open_year > evidence_year:
        return open_year
    if basis == "target":
        return evidence_year + 1
    return next_plan_horizon(evidence_year)
