"""``OUT/index.html``: the page of a run folder, linking its scenarios' and uncertainty reports.

Both jobs that write into a run folder (:mod:`corridors.jobs.run` and
:mod:`corridors.jobs.uncertainty_run`) rewrite it from here.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from corridors.core.outputs import INCOMPLETE_NAME

__all__ = ["UNCERTAINTY_PREFIX", "index_html", "uncertainty_links"]

#: Folder of a run folder holding the uncertainty report of one scenario: ``uncertainty-<name>``.
UNCERTAINTY_PREFIX = "uncertainty-"


def index_html(manifests: list[dict], pending: Sequence[str] = (),
               extra: Sequence[tuple[str, str]] = ()) -> str:
    """Return OUT/index.html; with ``pending`` scenarios, a page saying the run is incomplete.

    ``extra`` links (label, relative href) follow the scenarios: the uncertainty reports.
    """
    e = html.escape
    rows = "".join(f'<li><a href="{e(href)}">{e(label)}</a></li>' for label, href in extra)
    rows = "".join(
        f'<li><a href="{e(m["scenario"])}/report.html">{e(m["scenario"])}</a>: years '
        f'{" → ".join(map(str, m["years"]))}, {len(m["files"])} files, '
        f'{m["timings_s"].get("total_run", "")} s</li>' for m in manifests) + rows
    attribution = e(manifests[0]["provenance"]["attribution"]) if manifests else ""
    warning = (f"<p><strong>This run is incomplete</strong>: not yet written: "
               f"{e(', '.join(pending))} (see {INCOMPLETE_NAME}). Folders of these scenarios, "
               "if any, are from an earlier run.</p>" if pending else "")
    title = "corridors run (incomplete)" if pending else "corridors run"
    return (f"<!doctype html><meta charset='utf-8'><title>{title}</title>"
            f"<h1>Corridor planning runs</h1>{warning}<ul>{rows}</ul>"
            f"<p><small>{attribution}</small></p>")


def uncertainty_links(out: Path) -> list[tuple[str, str]]:
    """Return (label, relative href) of each uncertainty report in a run folder."""
    return [(f"uncertainty: {p.parent.name[len(UNCERTAINTY_PREFIX):]}",
             f"{p.parent.name}/report.html")
            for p in sorted(out.glob(f"{UNCERTAINTY_PREFIX}*/report.html"))]
