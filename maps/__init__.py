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

Each is one self-contained HTML file (the map libraries embedded, no CDN, unless
``offline=False``); :func:`write_static_maps` draws ``plan.png`` and ``change.png``
(:mod:`maps.static`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from corridors.maps.corridor import make_corridor_map, select_corridor
from corridors.maps.gate import make_gate_map, select_gate
from corridors.maps.international import make_international_map
from corridors.maps.plan import make_plan_map
from corridors.maps.scenario import make_scenario_map, select_years
from corridors.maps.static import STATIC_MAPS

if TYPE_CHECKING:
    from corridors.analysis.results import RunResults

MAP_KINDS: tuple[str, ...] = ("plan", "scenario", "gate", "corridor", "international")

__all__ = ["MAP_KINDS", "build_map", "select_corridor", "select_gate", "select_years",
           "write_maps", "write_static_maps"]


def build_map(results: RunResults, kind: str, *, offline: bool = True, tiles: bool | None = None,
              gate: str | None = None, corridor: str | None = None, years=None):
    """Return one map as ``(html, page)`` (see :class:`maps.page.Page` for the page).

    Parameters
    ----------
    results : corridors.analysis.results.RunResults
    kind : str
        One of :data:`MAP_KINDS`.
    offline : bool
        Embed the map libraries (default) or link them on a CDN.
    tiles : bool, optional
        Draw OpenStreetMap tiles (they need the internet). Default: only when not offline.
    gate, corridor : str, optional
        The gate (gate map) or corridor (corridor map) shown first.
    years : (int, int), optional
        The years of the scenario map (default: the run's).

    Raises
    ------
    ValueError
        For an unknown kind.
    LookupError
        For an unknown gate, corridor or year.
    """
    builders: dict[str, Callable] = {
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


def _targets(out_dir: Path, names: Iterable[str], force: bool) -> list[Path]:
    paths = [Path(out_dir) / n for n in names]
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        raise FileExistsError(f"{existing[0]} exists: pass --force to replace it, or choose "
                              "another --out")
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
        As for :func:`build_map`.

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
                       years=years)[0] for k in kinds]

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
