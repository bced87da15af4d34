"""Interactive (folium) and static maps of plans, scenarios, gates and corridors.

Every map reads one :class:`corridors.analysis.results.RunResults`:

=================  ============================================================================
``plan``           the network by mode and class, the catalog's projects by mode and status with
                   their opening year, corridors, gates, zones, ports, airports, both editions of
                   the provinces (:mod:`maps.plan`)
``scenario``       year A and year B side by side, in sync, and the travel-time saving to Hà Nội
                   and the Hải Phòng seaport by node and by province (:mod:`maps.scenario`)
``gate``           each gate's and BGEZ's isochrones in both years, picked in a select box, with
                   its access table (:mod:`maps.gate`)
``corridor``       each corridor's route per year and profile with its KPIs (:mod:`maps.corridor`)
``international``  road and rail freight routes from Kunming, Nanning, Dongxing and Oudomxay
                   to Hà Nội, the seaports and the BGEZs, per year, with gate, crossings and
                   breaks of gauge (:mod:`maps.international`)
=================  ============================================================================

:func:`make_map` returns one of them as a :class:`folium.Map`, which a notebook shows as the
page the toolkit writes (title, legend, provenance and data attribution, the libraries
embedded); :func:`render_map` turns it into that HTML, and :func:`write_maps` writes one
self-contained HTML file per kind (the map libraries embedded, no CDN, unless
``offline=False``). :func:`write_static_maps` draws ``plan.png`` and ``change.png``
(:mod:`maps.static`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import folium
from corridors.maps.corridor import make_corridor_map, select_corridor
from corridors.maps.gate import make_gate_map, select_gate
from corridors.maps.international import make_international_map
from corridors.maps.page import Page, page_of
from corridors.maps.plan import make_plan_map
from corridors.maps.scenario import make_scenario_map, select_years
from corridors.maps.static import STATIC_MAPS

from corridors.core.outputs import OutputExistsError

if TYPE_CHECKING:
    from corridors.analysis.results import RunResults

MAP_KINDS: tuple[str, ...] = ("plan", "scenario", "gate", "corridor", "international")

__all__ = ["MAP_KINDS", "build_map", "make_map", "render_map", "select_corridor", "select_gate",
           "select_years", "write_maps", "write_static_maps"]


def make_map(results: RunResults, kind: str, *, offline: bool = True, tiles: bool | None = None,
             gate: str | None = None, corridor: str | None = None, years=None) -> folium.Map:
    """Return one map of a run as a :class:`folium.Map`.

    A notebook displays the map as the page :func:`write_maps` writes: title, legend, the
    run's provenance and the data attribution, with the map libraries embedded (``offline``),
    so that it shows without the internet. :func:`render_map` returns that page as HTML, and
    ``m.save("plan.html")`` writes it.

    Parameters
    ----------
    results : corridors.analysis.results.RunResults
        The run the map shows (:func:`corridors.analyse`).
    kind : str
        One of :data:`MAP_KINDS`: ``"plan"``, ``"scenario"``, ``"gate"``, ``"corridor"`` or
        ``"international"``.
    offline : bool
        Embed the map libraries (default) or link them on a CDN.
    tiles : bool, optional
        Draw OpenStreetMap tiles (they need the internet). Default: only when not offline.
    gate, corridor : str, optional
        The gate or BGEZ (gate map) or corridor (corridor map) shown first; any spelling.
    years : (int, int), optional
        The years of the scenario map (default: the run's).

    Returns
    -------
    folium.Map
        The map (for the scenario map, the left one: its figure holds both).

    Raises
    ------
    ValueError
        For an unknown kind.
    LookupError
        For an unknown gate, corridor or year (the message lists the valid ones).

    Examples
    --------
    >>> import corridors
    >>> results = corridors.analyse((2025, 2030))                # doctest: +SKIP
    >>> corridors.make_map(results, "gate", gate="Hữu Nghị")     # doctest: +SKIP
    """
    builders: dict[str, Callable[[], folium.Map]] = {
        "plan": lambda: make_plan_map(results, offline=offline, tiles=tiles),
        "scenario": lambda: make_scenario_map(results, years=years, offline=offline,
                                              tiles=tiles),
        "gate": lambda: make_gate_map(results, gate=gate, offline=offline, tiles=tiles),
        "corridor": lambda: make_corridor_map(results, corridor=corridor, offline=offline,
                                              tiles=tiles),
        "international": lambda: make_international_map(results, offline=offline, tiles=tiles),
    }
    if kind not in builders:
        raise ValueError(f"unknown map kind {kind!r}; valid kinds: {', '.join(MAP_KINDS)}")
    return builders[kind]()


def render_map(m: folium.Map) -> str:
    """Return the HTML page of a map made by :func:`make_map`, as :func:`write_maps` writes it.

    Parameters
    ----------
    m : folium.Map
        A map of :func:`make_map` (or of one of the ``make_*_map`` builders).

    Returns
    -------
    str
        One self-contained HTML document when the map is offline.

    Raises
    ------
    TypeError
        If ``m`` was not made by the toolkit's map builders.
    """
    page_of(m)  # a map of the toolkit's, or TypeError
    return m.get_root().render()


def build_map(results: RunResults, kind: str, *, offline: bool = True, tiles: bool | None = None,
              gate: str | None = None, corridor: str | None = None,
              years=None) -> tuple[str, Page]:
    """Return one map rendered, as ``(html, page)`` (see :class:`maps.page.Page`).

    The map of :func:`make_map`, rendered by :func:`render_map`; the page tells what was
    drawn (its layer counts and notes). Same parameters and errors as :func:`make_map`.
    """
    m = make_map(results, kind, offline=offline, tiles=tiles, gate=gate, corridor=corridor,
                 years=years)
    page = page_of(m)
    return page.render(m), page  # a map made for this rendering only: rendered in place


def _targets(out_dir: Path, names: Iterable[str], force: bool) -> list[Path]:
    paths = [Path(out_dir) / n for n in names]
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        raise OutputExistsError(f"{existing[0]} exists")
    return paths


def write_maps(results: RunResults, out_dir, kinds: Iterable[str] = MAP_KINDS, *,
               offline: bool = True, force: bool = False, tiles: bool | None = None,
               gate: str | None = None, corridor: str | None = None, years=None) -> list[Path]:
    """Write interactive maps, one HTML file per kind (``plan.html`` …) into ``out_dir``.

    Every map is built before any file is written, so a bad gate name leaves no half output.

    Parameters
    ----------
    results : corridors.analysis.results.RunResults
    out_dir : str or pathlib.Path
        Output folder (created).
    kinds : iterable of str
        Kinds of :data:`MAP_KINDS` (default: all).
    offline : bool
        Embed the map libraries, no CDN (default); without tiles unless ``tiles=True``.
    force : bool
        Replace existing files.
    tiles, gate, corridor, years
        As for :func:`make_map`.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    FileExistsError
        If a file exists and ``force`` is false.
    LookupError
        For an unknown gate, corridor or year (the message lists the valid ones).
    ValueError
        For an unknown kind.
    """
    kinds = list(dict.fromkeys(kinds or MAP_KINDS))
    unknown = [k for k in kinds if k not in MAP_KINDS]
    if unknown:
        raise ValueError(f"unknown map kind {unknown[0]!r}; valid kinds: {', '.join(MAP_KINDS)}")
    from corridors.core.outputs import write_files

    names = [f"{k}.html" for k in kinds]
    _targets(Path(out_dir), names, force)  # refuse before the maps are built
    pages = [build_map(results, k, offline=offline, tiles=tiles, gate=gate, corridor=corridor,
                       years=years)[0] for k in kinds]  # rendered here, where they are written

    def write(stage: Path) -> None:
        for name, html in zip(names, pages, strict=True):
            (stage / name).write_text(html, encoding="utf-8")

    return write_files(out_dir, names, write, force=force, what="maps")


def write_static_maps(results: RunResults, out_dir, *, force: bool = False) -> list[Path]:
    """Write the static maps ``plan.png`` and ``change.png`` (2025→2030 saving to Hà Nội).

    Raises
    ------
    FileExistsError
        If a file exists and ``force`` is false.
    """
    from corridors.core.outputs import write_files

    names = list(STATIC_MAPS)
    _targets(Path(out_dir), names, force)

    def write(stage: Path) -> None:
        for name in names:
            STATIC_MAPS[name](results, stage / name)

    return write_files(out_dir, names, write, force=force, what="static-maps")
