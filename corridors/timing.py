"""The documented rule that turns a plan's expected time into a planned opening year."""

from __future__ import annotations

import re

#: Years the catalogs and the network model accept.
YEAR_MIN, YEAR_MAX = 2000, 2060
#: Existing links may carry historical opening years (the Hà Nội – Đồng Đăng railway: 1902).
HISTORIC_YEAR_MIN = 1850

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
