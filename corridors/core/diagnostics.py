"""Problems found in user input (catalogs, scenarios), each naming file, entry and field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    Attributes
    ----------
    file : str
        The file's name (or path) as the user knows it.
    entry : str
        The entry's id, ``"#<n>"`` (its position) when it has no usable id, or ``"-"`` for the
        file as a whole.
    field : str
        The field, dotted for nested fields (``"location.waypoints[2].lat"``), or ``"-"``.
    message : str
        What is wrong, in words a planner understands.
    severity : {"error", "warning"}
        Errors make the input unusable; warnings are reported and tolerated.
    """

    file: str
    entry: str
    field: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.file}: {self.entry}: {self.field}: {self.severity}: {self.message}"


class InputError(ValueError):
    """Raised when user input has errors; carries every problem found."""

    def __init__(self, problems: list[Problem], what: str = "input"):
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        lines = "\n".join(f"  {p}" for p in errors)
        super().__init__(f"{len(errors)} problem(s) in {what}:\n{lines}")
