"""The ``corridors`` command."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click
import pandas as pd

from corridors.catalog.model import Catalog
from corridors.core.constants import YEAR_MAX, YEAR_MIN
from corridors.core.diagnostics import InputError
from corridors.core.version import __version__

FORMATS = click.Choice(["table", "json", "csv"])
#: A year option's type: the plausible years of :mod:`corridors.core.constants`.
YEAR = click.IntRange(YEAR_MIN, YEAR_MAX)

catalog_option = click.option(
    "--catalog", "catalog_path", type=click.Path(exists=True, path_type=Path), default=None,
    help="Catalog folder, or one catalog file replacing its counterpart in the shipped catalog.",
)
format_option = click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
                             help="Output format.")


class OutDir(click.Path):
    """An output folder: ``click.Path(file_okay=False)`` refusing an empty name.

    An empty ``--out ""`` would otherwise write into the current folder.
    """

    def __init__(self) -> None:
        super().__init__(file_okay=False, path_type=Path)

    def convert(self, value, param, ctx):  # noqa: D102 - click's ParamType.convert
        if isinstance(value, str) and not value.strip():
            self.fail("an empty name is not a folder: give an output folder, e.g. --out "
                      "corridors-out", param, ctx)
        return super().convert(value, param, ctx)


def _message(exc: Exception) -> str:
    """One line for one problem: the problem itself (file: entry: field: ...).

    The library says what ``force=True`` would do; the command says which flag does it.
    """
    from corridors.core.outputs import OutputExistsError

    if isinstance(exc, OutputExistsError):
        return exc.cli_message()
    if isinstance(exc, InputError):
        errors = [p for p in exc.problems if p.severity == "error"]
        if len(errors) == 1:
            return str(errors[0])
    return str(exc.args[0]) if isinstance(exc, LookupError) and exc.args else str(exc)


def _check_out(out_dir: Path) -> None:
    """Refuse an output folder that cannot be created or written, before any work.

    Nothing is left behind: the probe file is made in the folder, or in its nearest existing
    parent when the folder does not exist yet, and removed at once.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise click.ClickException(f"--out {out_dir}: exists and is not a folder")
    where = out_dir
    while not where.exists() and where.parent != where:
        where = where.parent
    if not where.is_dir():
        raise click.ClickException(f"--out {out_dir}: cannot be created, {where} is not a "
                                   "folder")
    try:
        fd, probe = tempfile.mkstemp(dir=where, prefix=".corridors-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise click.ClickException(f"--out {out_dir}: cannot write in {where}: "
                                   f"{exc.strerror or exc}") from None


def _check_osm(osm: Path | None) -> None:
    """Refuse an --osm that is missing or a folder, in one line."""
    if osm is None:
        return
    if not osm.exists():
        raise click.ClickException(f"--osm {osm}: no such file")
    if not osm.is_file():
        raise click.ClickException(f"--osm {osm}: is a folder, not a file; give an OSM extract "
                                   "(.osm.pbf or .osm)")


def _check_bbox(bbox) -> None:
    west, south, east, north = bbox
    inside = (-180 <= west < east <= 180) and (-90 <= south < north <= 90)
    if not inside:  # NaN compares False, so it lands here too
        raise click.BadParameter(
            f"{west:g} {south:g} {east:g} {north:g} is not a box: give W S E N in degrees, "
            "west < east in -180..180, south < north in -90..90", param_hint="--bbox")


def _check_years(years, option: str, *, equal_ok: bool = False) -> None:
    a, b = years
    if a > b or (a == b and not equal_ok):
        raise click.BadParameter(f"the years must be increasing (the earlier first), got {a} {b}",
                                 param_hint=option)


def _load(catalog_path: Path | None) -> Catalog:
    from corridors.catalog.load import load_catalog  # reads the network code: not on --help

    try:
        return load_catalog(catalog_path)
    except InputError as exc:
        raise click.ClickException(f"{exc}\nRun 'corridors validate' for the full list.") from None


def _emit(frame: pd.DataFrame, fmt: str, table_columns: list[str]) -> None:
    if fmt == "json":
        records = json.loads(frame.to_json(orient="records", force_ascii=False))
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        click.echo(frame.to_csv(index=False), nl=False)
    else:
        click.echo(format_table(frame[table_columns]))


def format_table(frame: pd.DataFrame, max_width: int = 60) -> str:
    """Render a table for people: text left-aligned and cut at ``max_width``, numbers right."""
    def cell(v: Any) -> str:
        if v is None or (isinstance(v, float) and pd.isna(v)):
            return ""
        text = f"{v:.5f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    cols = list(frame.columns)
    cells = [[cell(v) for v in row] for row in frame.itertuples(index=False)]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in cols]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(cols)]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    return "\n".join([line(cols), line(["-" * w for w in widths]), *map(line, cells)])


#: Set by the global options: no progress bars when quiet.
UI = {"quiet": False}


def progress_bar(total: int, desc: str):
    """Return a tqdm progress bar (hidden when --quiet or when not on a terminal)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="step", disable=True if UI["quiet"] else None)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="corridors")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors and the files written.")
@click.option("-v", "--verbose", count=True, help="Print more (-vv for debugging messages).")
def main(quiet: bool, verbose: int) -> None:
    """Corridor planning toolkit for Vietnam's Northern Midlands and Mountains.

    \b
    Examples:
      corridors run                           the main job: networks, analyses, maps,
                                              QGIS project and report in ./corridors-out
      corridors validate                      check the shipped catalogs
      corridors projects --format json        every planned project, with its source
      corridors route "Hà Nội" "lao cai"      fastest route, any spelling
      corridors places "lao cai"              find a place, with or without diacritics
    """
    import logging
    import warnings

    UI["quiet"] = quiet
    level = logging.ERROR if quiet else [logging.WARNING, logging.INFO, logging.DEBUG][
        min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s")
    if not verbose:
        warnings.filterwarnings("ignore", category=UserWarning)


@main.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def validate_cmd(path: Path | None) -> None:
    """Check a catalog folder or file and list every problem.

    PATH is a catalog folder, or one catalog file (places, projects, existing links or
    corridors) that replaces its counterpart in the shipped catalog; default: the shipped
    catalog. Exits 0 when there is no error, 1 otherwise.

    \b
    Examples:
      corridors validate
      corridors validate ./my-catalog/
    """
    from corridors.catalog.validation import validate

    problems = validate(path)
    errors = [p for p in problems if p.severity == "error"]
    for p in problems:
        click.echo(str(p), err=p.severity == "error")
    where = path or "the shipped catalog"
    if errors:
        click.echo(f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s) in {where}",
                   err=True)
        sys.exit(1)
    click.echo(f"{where}: valid ({len(problems)} warning(s))")


@main.command("projects")
@catalog_option
@format_option
@click.option("--mode", type=click.Choice(["road", "rail", "waterway", "air", "dry_port"]),
              help="Only projects of this mode.")
@click.option("--open-by", type=YEAR, metavar="YEAR",
              help="Only projects open by this year.")
@click.option("--include-existing", is_flag=True,
              help="Also list the existing trunk links of the 2025 network.")
@click.option("--open-years", "reading", type=click.Choice(["evidence", "plan"]),
              default="evidence", show_default=True,
              help="How opening years are read: the network as it stands (a year already past "
                   "only with a dated fact) or the plans as written.")
def projects_cmd(catalog_path: Path | None, fmt: str, mode: str | None, open_by: int | None,
                 include_existing: bool, reading: str) -> None:
    """List the planned projects (Appendix III of Resolution 96/NQ-CP and additions).

    \b
    Examples:
      corridors projects
      corridors projects --mode rail --format json
      corridors projects --open-by 2025 --include-existing --format csv
      corridors projects --open-years plan --open-by 2025

    ``open_year`` is the year the network uses under the reading; ``catalog_open_year`` and
    ``open_year_basis`` (fact, target, plan) are the catalog's.
    """
    from corridors.catalog.model import apply_reading

    cat = _load(catalog_path)
    catalog_years = {p.id: p.open_year for p in [*cat.projects.values(), *cat.links.values()]}
    cat = apply_reading(cat, reading)
    frame = pd.DataFrame(cat.projects_frame(include_existing=include_existing).drop(
        columns="geometry"))
    frame.insert(list(frame.columns).index("open_year") + 1, "catalog_open_year",
                 frame["id"].map(catalog_years))
    if mode:
        frame = frame[frame["mode"] == mode]
    if open_by:
        frame = frame[frame["open_year"] <= open_by]
    _emit(frame, fmt, ["id", "name", "mode", "kind", "open_year", "open_year_basis",
                       "status_2025", "length_km"])


@main.command("places")
@click.argument("query", required=False)
@catalog_option
@format_option
@click.option("--kind", help="Only places of this kind (border_gate, bgez, airport, ...).")
def places_cmd(query: str | None, catalog_path: Path | None, fmt: str, kind: str | None) -> None:
    """List catalog places, or find the one QUERY names (diacritics and case ignored).

    \b
    Examples:
      corridors places --kind border_gate
      corridors places "Lào Cai"
    """
    cat = _load(catalog_path)
    frame = cat.places_frame()
    if query:
        try:
            place = cat.find_place(query)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from None
        frame = frame[frame["id"] == place.id]
    if kind:
        if kind not in set(frame["kind"]):
            valid = ", ".join(sorted(set(cat.places_frame()["kind"])))
            raise click.BadParameter(f"no place of kind {kind!r}; kinds: {valid}",
                                     param_hint="--kind")
        frame = frame[frame["kind"] == kind]
    frame = pd.DataFrame(frame.assign(lat=frame.geometry.y.round(5), lon=frame.geometry.x.round(5))
                         .drop(columns="geometry"))
    _emit(frame, fmt, ["id", "name_vi", "kind", "province", "province_2025", "lat", "lon",
                       "location_confidence"])


@main.command("corridors")
@catalog_option
@format_option
def corridors_cmd(catalog_path: Path | None, fmt: str) -> None:
    """List the economic corridors and other corridors with their ordered places."""
    cat = _load(catalog_path)
    frame = pd.DataFrame(cat.corridors_frame().drop(columns="geometry"))
    _emit(frame, fmt, ["id", "kind", "stops"])


@main.command("build")
@click.option("--year", required=True, type=YEAR,
              help=f"Year of the network ({YEAR_MIN}-{YEAR_MAX}).")
@click.option("--scenario", "scenario_path", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="Scenario file (YAML): delays, drops, additions, speeds.")
@click.option("--osm", type=click.Path(path_type=Path),
              help="OSM extract (.osm.pbf or .osm) to use instead of the embedded backbone.")
@click.option("--overpass", is_flag=True,
              help="Download the OSM data of --bbox from the Overpass API (needs internet; "
                   "cached, --no-cache downloads anew) instead of reading --osm.")
@click.option("--bbox", nargs=4, type=float, metavar="W S E N",
              help="Cut the OSM extract to this box (degrees); the area of --overpass.")
@click.option("--dem", "dems", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="DEM GeoTIFF or folder of tiles for terrain (repeatable; before the embedded).")
@catalog_option
@click.option("--out", "out_dir", type=OutDir(),
              default=Path("corridors-out"), show_default=True, help="Output folder.")
@click.option("--force", is_flag=True, help="Replace existing output files.")
@click.option("--no-cache", is_flag=True, help="Rebuild the backbone instead of reusing it.")
@click.option("--allow-empty", is_flag=True,
              help="Build even when the --osm extract holds none of the catalog's places.")
@click.option("--graphml", is_flag=True,
              help="Also write the network as GraphML (slow at region scale).")
def build_cmd(year: int, scenario_path: Path | None, osm: Path | None, overpass: bool, bbox,
              dems, catalog_path: Path | None, out_dir: Path, force: bool,
              no_cache: bool, allow_empty: bool, graphml: bool) -> None:
    """Build the network of a year and write it with its quality report.

    Writes OUT/network_YEAR[_SCENARIO].gpkg (layers nodes, edges, provenance) and
    quality_YEAR[_SCENARIO].json/.md; with --graphml, the same network as GraphML too.

    \b
    Examples:
      corridors build --year 2025
      corridors build --year 2030 --scenario late-sgr.yaml --out results/
      corridors build --year 2030 --osm vietnam-latest.osm.pbf --bbox 102 20 108.2 23.5
      corridors build --year 2030 --overpass --bbox 106.6 21.7 106.9 22.0
    """
    if overpass and osm:
        raise click.UsageError("--overpass and --osm exclude each other: download the data "
                               "from Overpass or read an extract")
    if overpass and not bbox:
        raise click.UsageError("--overpass needs --bbox W S E N: the area to download")
    if bbox:
        _check_bbox(bbox)
    _check_osm(osm)
    _check_out(out_dir)
    from corridors.api import build_network
    from corridors.build.pipeline import OVERPASS, output_paths, write_network
    from corridors.layers.osm import OsmReadError

    try:
        scenario = _read_scenario(scenario_path)
        output_paths(year, scenario, out_dir, force, graphml)  # refuse early, before the work
        net = build_network(year, scenario, osm=OVERPASS if overpass else osm, bbox=bbox,
                            catalog=catalog_path, dems=dems, use_cache=not no_cache,
                            allow_empty=allow_empty)
        result = net.build_result
        paths = write_network(result, out_dir, force=force, graphml=graphml)
    except (InputError, OsmReadError, FileExistsError) as exc:
        raise click.ClickException(_message(exc)) from None
    rep = result.report
    click.echo(f"network {year} ({result.scenario.name}) from {rep['network_source']}: "
               f"{rep['nodes']} nodes, {rep['edges']} edges")
    for r in rep["km_by_mode_class"]:
        click.echo(f"  {r['mode']:9s} {r['class']:14s} {r['length_km']:10,.1f} km")
    reach = rep["reachability_by_road_from_ha_noi"]
    click.echo(f"reachable by road from Hà Nội: {reach['checked'] - len(reach['unreachable'])} of "
               f"{reach['checked']}" + "".join(f"\n  not reachable: {u['id']}"
                                               for u in reach["unreachable"]))
    if rep["catalog"]["outside_extract"]:
        click.echo(f"warning: {len(rep['catalog']['outside_extract'])} catalog items lie outside "
                   "the OSM extract and were left out", err=True)
    for p in paths:
        click.echo(f"wrote {p}")


profile_option = click.option(
    "--profile", type=click.Choice(["car", "truck", "passenger", "freight"]), default="car",
    show_default=True,
    help="car and truck drive; passenger adds trains and flights; freight adds trains and barges.")
scenario_option = click.option(
    "--scenario", "scenario_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Scenario file (YAML): delays, drops, additions, speeds.")


def _read_scenario(path: Path | None):
    from corridors.catalog.scenario import BASE, read_scenario

    return read_scenario(path) if path else BASE


@main.command("route")
@click.argument("origin", metavar="FROM")
@click.argument("destination", metavar="TO")
@click.option("--year", default=2025, show_default=True, type=YEAR,
              help="Year of the network.")
@profile_option
@scenario_option
@catalog_option
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table",
              show_default=True, help="Output format.")
def route_cmd(origin: str, destination: str, year: int, profile: str,
              scenario_path: Path | None, catalog_path: Path | None, fmt: str) -> None:
    """Fastest route between two places: time, length, km by mode and road class.

    FROM and TO are catalog places, in any spelling with or without diacritics ("Lào Cai",
    "lao cai", "gate_huu_nghi"), or coordinates "lat,lon" (taken at the nearest road).

    \b
    Examples:
      corridors route "Hà Nội" "Lào Cai" --year 2030
      corridors route "huu nghi" "seaport_hai_phong" --profile truck --format json
      corridors route "21.03,105.85" "Điện Biên Phủ" --profile passenger
      corridors route "Côn Minh" "Cảng Hải Phòng" --profile freight --year 2030
    """
    from corridors.api import build_network, route

    try:
        net = build_network(year, _read_scenario(scenario_path), catalog=catalog_path)
        out = route(net, origin, destination, profile)
    except (InputError, LookupError) as exc:
        raise click.ClickException(_message(exc)) from None
    for key in ("from_node", "to_node"):  # node ids of the Python API's graph, not for print
        del out[key]
    if fmt == "json":
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if not out["reachable"]:
        click.echo(f"{out['from']} → {out['to']} ({year}, {profile}): no route")
        return
    hours, minutes = divmod(round(out["time_h"] * 60), 60)
    click.echo(f"{out['from']} → {out['to']} ({year}, {profile}, scenario {out['scenario']}): "
               f"{hours} h {minutes:02d} min, {out['length_km']:,.1f} km")
    for k, v in sorted(out["km_by_class"].items(), key=lambda kv: -kv[1]):
        click.echo(f"  {k:26s} {v:9,.1f} km")
    if out["transfers"]:
        click.echo(f"  transfers: {out['transfers']}")
    if out["crossings"]:
        click.echo(f"  border crossings: {out['crossings']} ({', '.join(out['gates'])}); "
                   f"breaks of gauge: {out['gauge_breaks']}")


@main.command("analyse")
@click.option("--years", nargs=2, type=YEAR, default=(2025, 2030),
              show_default=True, metavar="A B", help="The two years to compare.")
@scenario_option
@catalog_option
@click.option("--profile", "profiles", multiple=True,
              type=click.Choice(["car", "truck", "passenger", "freight"]),
              help="Profiles to analyse (repeatable; default car, truck, freight).")
@click.option("--format", "formats", multiple=True, type=click.Choice(["csv", "parquet"]),
              help="Table formats (repeatable; default both).")
@click.option("--out", "out_dir", type=OutDir(),
              default=Path("corridors-out"), show_default=True, help="Output folder.")
@click.option("--force", is_flag=True, help="Replace existing tables.")
def analyse_cmd(years, scenario_path: Path | None, catalog_path: Path | None, profiles,
                formats, out_dir: Path, force: bool) -> None:
    """Run every analysis for two years and write the tables (CSV and Parquet).

    Gate and BGEZ access, the gate-to-gate matrix, corridor KPIs, province times, savings per
    OD pair, gate, corridor and province, per-project attribution, and critical links.

    \b
    Examples:
      corridors analyse
      corridors analyse --years 2025 2030 --scenario late-sgr.yaml --out results/
    """
    from corridors.analysis.analyses import DEFAULT_PROFILES, run_analyses
    from corridors.build.pipeline import build_networks
    from corridors.outputs.tables import table_paths, write_tables

    _check_years(years, "--years", equal_ok=True)
    _check_out(out_dir)
    profiles = profiles or DEFAULT_PROFILES
    formats = formats or ("csv", "parquet")
    try:
        scenario = _read_scenario(scenario_path)
        results = build_networks(sorted(set(years)), scenario, catalog_path=catalog_path)
    except InputError as exc:
        raise click.ClickException(_message(exc)) from None
    a, b = results[years[0]], results[years[1]]
    with progress_bar(7, "analyses") as bar:
        def progress(name):
            bar.set_postfix_str(name)
            bar.update(1)
        names = ["gate_access"]  # the first file decides whether --force is needed
        existing = [p for p in table_paths(names, out_dir, formats) if p.exists()]
        if existing and not force:
            raise click.ClickException(f"{existing[0]} exists: pass --force to replace, or "
                                       "choose another --out")
        analyses = run_analyses(a, b, profiles, progress)
    try:
        paths = write_tables(analyses.tables, out_dir, formats, force=force)
    except FileExistsError as exc:
        raise click.ClickException(_message(exc)) from None
    la, lb = analyses.labels
    tot = analyses.tables["project_attribution"].attrs.get("totals", {}).get(profiles[0], {})
    click.echo(f"{la} → {lb}: gate OD hours saved ({profiles[0]}): "
               f"{tot.get('od_hours', float('nan')):.1f}; corridor hours saved: "
               f"{tot.get('corridor_hours', float('nan')):.2f}")
    click.echo(f"wrote {len(paths)} files to {out_dir}")


def _compare_options(f):
    f = click.option("--compare", nargs=2, type=YEAR, default=None,
                     metavar="A B", help="The two years to compare (default 2025 2030).")(f)
    return click.option("--year", type=YEAR, default=None,
                        help="One year only (same as --compare YEAR YEAR).")(f)


def _years(year: int | None, compare) -> tuple[int, int]:
    if year is not None and compare:
        raise click.UsageError("give --year or --compare, not both")
    if year is not None:
        return (year, year)
    if compare:
        _check_years(compare, "--compare", equal_ok=True)
    return tuple(compare) if compare else (2025, 2030)


def _results(years, scenario_path, catalog_path, osm=None):

    from corridors.analysis.results import compute_results
    from corridors.layers.osm import OsmReadError

    try:
        scenario = _read_scenario(scenario_path)
        with progress_bar(9, "computing") as bar:
            def progress(name):
                bar.set_postfix_str(name)
                bar.update(1)
            return compute_results(years, scenario, osm=osm, catalog_path=catalog_path,
                                   progress=progress)
    except (InputError, OsmReadError) as exc:  # a broken --osm extract: one line, not a trace
        raise click.ClickException(_message(exc)) from None


@main.command("map")
@click.argument("kinds", nargs=-1, type=click.Choice(["plan", "scenario", "gate", "corridor",
                                                     "international"]))
@_compare_options
@scenario_option
@catalog_option
@click.option("--out", "out_dir", type=OutDir(),
              default=Path("corridors-out") / "maps", show_default=True, help="Output folder.")
@click.option("--cdn", is_flag=True,
              help="Load the map libraries from the internet instead of embedding them.")
@click.option("--gate", help="Gate or BGEZ the gate map opens on (id or name, any spelling).")
@click.option("--corridor", help="Corridor the corridor map opens on (id or name).")
@click.option("--tiles/--no-tiles", default=None,
              help="Draw OpenStreetMap tiles (needs the internet when the map is opened; "
                   "default: only with --cdn).")
@click.option("--no-static", is_flag=True, help="Skip the PNG maps.")
@click.option("--force", is_flag=True, help="Replace existing maps.")
def map_cmd(kinds, year, compare, scenario_path, catalog_path, out_dir: Path, cdn: bool,
            gate: str | None, corridor: str | None, tiles: bool | None, no_static: bool,
            force: bool) -> None:
    """Write interactive maps (HTML) and static maps (PNG).

    KINDS: plan, scenario, gate, corridor, international (default: all five). Maps are single
    HTML files that open offline (the map libraries are embedded) unless --cdn is given.

    \b
    Examples:
      corridors map
      corridors map gate corridor --compare 2025 2030 --out maps/
      corridors map gate --gate "huu nghi"
      corridors map international --compare 2025 2030
    """
    from corridors.maps import MAP_KINDS, write_maps, write_static_maps

    kinds = kinds or MAP_KINDS
    years = _years(year, compare)
    _check_out(out_dir)
    if gate or corridor:  # check names against the catalog before the long computation
        cat = _load(catalog_path)
        try:
            if gate and cat.find_place(gate).kind not in ("border_gate", "bgez"):
                raise LookupError(f"{gate!r} is not a border gate or BGEZ")
            if corridor:
                cat.find_corridor(corridor)
        except LookupError as exc:
            valid = ", ".join(sorted(p.id for p in cat.places.values()
                                     if p.kind in ("border_gate", "bgez")))
            hint = f"; valid gates: {valid}" if gate and "corridor" not in str(exc) else ""
            raise click.ClickException(f"{exc.args[0]}{hint}") from None
    results = _results(years, scenario_path, catalog_path)
    try:
        paths = write_maps(results, out_dir, kinds, offline=not cdn, force=force, tiles=tiles,
                           gate=gate, corridor=corridor)
        if not no_static:
            paths += write_static_maps(results, out_dir, force=force)
    except (FileExistsError, LookupError, ValueError) as exc:
        raise click.ClickException(_message(exc)) from None
    for p in paths:
        click.echo(f"wrote {p}")


@main.command("run")
@click.option("--out", "out_dir", type=OutDir(),
              default=Path("corridors-out"), show_default=True, help="Output folder.")
@click.option("--osm", type=click.Path(path_type=Path),
              help="OSM extract (.osm.pbf or .osm) to use instead of the embedded backbone.")
@click.option("--scenario", "scenario_paths", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Scenario file (YAML), repeatable; the base always runs too.")
@click.option("--years", nargs=2, type=YEAR, default=(2025, 2030),
              show_default=True, metavar="A B", help="The two years to compare.")
@catalog_option
@click.option("--force", is_flag=True, help="Replace the previous run of the same scenarios.")
@click.option("--allow-empty", is_flag=True,
              help="Run even when the --osm extract holds none of the catalog's places.")
@click.option("--each-year", is_flag=True,
              help="Also compute every year between the two (same master network): the "
                   "report's chart of time to Hà Nội per gate by year, and when each gate "
                   "gets its gain.")
@click.option("--graphml", is_flag=True,
              help="Also write the networks as GraphML (slow at region scale).")
def run_cmd(out_dir: Path, osm: Path | None, scenario_paths, years, catalog_path: Path | None,
            force: bool, allow_empty: bool, each_year: bool, graphml: bool) -> None:
    """Run the main job: networks, analyses, maps, GIS exports and the report.

    For the base and each scenario, writes OUT/<scenario>/: networks/ (2025 and 2030 networks
    with their quality reports), tables/ (CSV, Parquet), maps/ (HTML that opens offline, PNG),
    gis/ (styled GeoPackage, rasters, QGIS project) and report.html; and OUT/index.html. A
    previous run is never overwritten without --force.

    \b
    Examples:
      corridors run
      corridors run --scenario late-sgr.yaml --out results/
      corridors run --osm vietnam-latest.osm.pbf --out osm-run/
      corridors run --years 2025 2030 --each-year
    """
    from corridors.catalog.scenario import read_scenario
    from corridors.jobs.run import run_all
    from corridors.layers.osm import OsmReadError

    _check_years(years, "--years")
    _check_osm(osm)
    try:
        scenarios = [read_scenario(p) for p in scenario_paths]
    except InputError as exc:
        raise click.ClickException(_message(exc)) from None
    _check_out(out_dir)
    started = time.perf_counter()
    with progress_bar((14 + each_year) * (1 + len(scenarios)), "corridors run") as bar:
        def progress(name):
            bar.set_postfix_str(name[:40])
            bar.update(1)
        try:
            manifests = run_all(out_dir, years, scenarios, osm=osm, catalog_path=catalog_path,
                                force=force, progress=progress, allow_empty=allow_empty,
                                each_year=each_year, graphml=graphml)
        except (InputError, OsmReadError, FileExistsError, ValueError) as exc:
            raise click.ClickException(_message(exc)) from None
    for m in manifests:
        click.echo(f"{m['scenario']}: {len(m['files'])} files in {out_dir / m['scenario']} "
                   f"(report: {out_dir / m['scenario'] / 'report.html'})")
    click.echo(f"index: {out_dir / 'index.html'}; run time {time.perf_counter() - started:.0f} s")


@main.command("uncertainty")
@click.option("--samples", required=True, type=click.IntRange(1, 100_000), metavar="N",
              help="Samples per scenario (opening delays and speeds drawn).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, 2**63 - 1),
              help="Seed: the same seed gives the same results, bit for bit, on any cluster.")
@click.option("--scenario", "scenario_paths", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Scenario file (YAML), repeatable; the base always runs too. Its "
                   "'uncertainty:' key overrides data/uncertainty.yaml.")
@click.option("--years", nargs=2, type=YEAR, default=(2025, 2030),
              show_default=True, metavar="A B", help="First and last year; every year between "
                                                     "is simulated.")
@click.option("--scheduler", metavar="ADDRESS",
              help="A running Dask scheduler (tcp://host:8786) to send the samples to; default "
                   "a local cluster.")
@click.option("--workers", type=click.IntRange(0, 256), default=None,
              help="Worker processes of the local cluster [default: one per core]; 0 runs "
                   "serially in this process, without Dask.")
@click.option("--attribution-samples", type=click.IntRange(0, 100_000), default=None,
              metavar="M", help="Samples on which project attribution runs (the first M) "
                                "[default: all, at most 200].")
@click.option("--out", "out_dir", type=OutDir(),
              default=Path("corridors-out"), show_default=True, help="Output folder.")
@catalog_option
@click.option("--force", is_flag=True, help="Replace the previous uncertainty reports.")
def uncertainty_cmd(samples: int, seed: int, scenario_paths, years, scheduler: str | None,
                    workers: int | None, attribution_samples: int | None, out_dir: Path,
                    catalog_path: Path | None, force: bool) -> None:
    """Simulate opening delays and speeds: P10/P50/P90 of every year, fan charts.

    For the base and each scenario, draws each project's opening delay (by its status and
    kind) and the speeds of each class (correlated, within their bounds) from
    data/uncertainty.yaml, times every year, and writes OUT/uncertainty-<scenario>/:
    report.html (fan charts; the probability that each gate's gain arrives by 2030),
    tables/ (CSV, Parquet) and uncertainty.json. The run's index.html links the reports.

    \b
    Examples:
      corridors uncertainty --samples 200
      corridors uncertainty --samples 500 --seed 7 --scenario late-sgr.yaml
      corridors uncertainty --samples 2000 --scheduler tcp://10.0.0.5:8786
      corridors uncertainty --samples 50 --workers 0        (serial, no Dask)
    """
    from contextlib import nullcontext

    from corridors.analysis.distributed import dask_client
    from corridors.catalog.scenario import read_scenario
    from corridors.jobs.uncertainty_run import run_uncertainty, scenarios_with_base, simulate_all

    _check_years(years, "--years")
    try:
        scenarios = scenarios_with_base([read_scenario(p) for p in scenario_paths])
    except (InputError, ValueError) as exc:
        raise click.ClickException(_message(exc)) from None
    _check_out(out_dir)
    started = time.perf_counter()
    cluster = nullcontext(None) if workers == 0 and not scheduler else dask_client(
        scheduler, workers)
    try:
        with progress_bar(2 * len(scenarios) + 1, "corridors uncertainty") as bar:
            def progress(name):
                bar.set_postfix_str(name[:40])
                bar.update(1)

            with cluster as client:
                sims = simulate_all(scenarios, samples, seed, years, client=client,
                                    attribution_samples=attribution_samples,
                                    catalog_path=catalog_path, progress=progress,
                                    bars=not UI["quiet"])
        reports = run_uncertainty(out_dir, sims, force=force)
    except (InputError, FileExistsError, ValueError) as exc:
        raise click.ClickException(_message(exc)) from None
    except OSError as exc:  # an unreachable --scheduler
        raise click.ClickException(f"--scheduler {scheduler}: {exc}" if scheduler
                                   else str(exc)) from None
    for r in reports:
        click.echo(f"wrote {r}")
    click.echo(f"run time {time.perf_counter() - started:.0f} s")


@main.command("export")
@_compare_options
@scenario_option
@catalog_option
@click.option("--osm", type=click.Path(path_type=Path),
              help="OSM extract to use instead of the embedded backbone.")
@click.option("--crs", type=click.Choice(["wgs84", "vn2000"]), default="wgs84",
              show_default=True,
              help="wgs84 (EPSG:4326) or vn2000 (VN-2000 / UTM zone 48N, EPSG:3405).")
@click.option("--out", "out_dir", type=OutDir(),
              default=Path("corridors-out") / "gis", show_default=True, help="Output folder.")
@click.option("--force", is_flag=True, help="Replace an output folder that holds files.")
def export_cmd(year, compare, scenario_path, catalog_path, osm, crs: str, out_dir: Path,
               force: bool) -> None:
    """Write a styled GeoPackage, GeoTIFF rasters and a QGIS project (.qgz).

    \b
    Examples:
      corridors export
      corridors export --compare 2025 2030 --crs vn2000 --out gis/
    """
    from corridors.outputs.export import write_exports

    years = _years(year, compare)
    _check_osm(osm)
    _check_out(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not force:
        raise click.ClickException(f"{out_dir} exists and holds files: pass --force to replace "
                                   "them, or choose another --out")
    results = _results(years, scenario_path, catalog_path, osm)
    try:
        paths = write_exports(results, out_dir, crs="EPSG:3405" if crs == "vn2000"
                              else "EPSG:4326", force=force)
    except (FileExistsError, ValueError) as exc:
        raise click.ClickException(_message(exc)) from None
    for p in paths:
        click.echo(f"wrote {p}")


@main.command("info")
@catalog_option
def info_cmd(catalog_path: Path | None) -> None:
    """Summarise the embedded dataset and the catalogs, with the data attribution."""
    from corridors.layers import LAYERS, attribution_text, data_dir, read_layer

    cat = _load(catalog_path)
    click.echo(f"corridors {__version__}; data folder {data_dir()}")
    for name in LAYERS:
        click.echo(f"  layer {name:20s} {len(read_layer(name)):5d} features")
    counts: dict[str, Any] = {
        "places": len(cat.places), "projects": len(cat.projects),
        "existing links": len(cat.links), "corridors": len(cat.corridors),
    }
    for k, v in counts.items():
        click.echo(f"  {k:26s} {v:5d}")
    click.echo(f"Data: {attribution_text()}")


def _hours_range(lo: float, hi: float) -> str:
    """Return "4–5", "7.5" (a single figure) or "" (no hours)."""
    if pd.isna(lo):
        return ""
    return f"{lo:g}" if lo == hi else f"{lo:g}–{hi:g}"


@main.command("check-times")
@click.argument("csv_path", metavar="[CSV]", required=False,
                type=click.Path(dir_okay=False, path_type=Path))
@scenario_option
@catalog_option
@format_option
def check_times_cmd(csv_path: Path | None, scenario_path: Path | None,
                    catalog_path: Path | None, fmt: str) -> None:
    """Compare modelled travel times and road km with published ones.

    CSV has the columns from, to, mode, profile, year, hours_min, hours_max, km, condition,
    source, confidence (default: the shipped data/facts/travel_times.csv). Each row is routed on
    the network of its own year: car and bus (car time x bus.time_factor of speeds.yaml) on
    roads, station to station on rails, airport to airport by air; rows with km but no hours
    are compared with the length of the fastest car route. A time is inside when it lies in
    [hours_min, hours_max]; a length when within 15 %.

    \b
    Examples:
      corridors check-times
      corridors check-times my_times.csv --scenario late-sgr.yaml
      corridors check-times --format csv > check.csv
    """
    from corridors.analysis.check_times import (
        check_times,
        default_observations_path,
        read_observations,
        summary,
    )

    path = csv_path or default_observations_path()
    try:
        observations = read_observations(path)
        results = check_times(observations, _read_scenario(scenario_path),
                              catalog_path=catalog_path)
    except InputError as exc:
        errors = [p for p in exc.problems if p.severity == "error"]
        text = str(errors[0]) if len(errors) == 1 else str(exc)
        raise click.ClickException(text) from None
    summ = summary(results)
    if fmt == "json":
        click.echo(json.dumps({"rows": json.loads(results.to_json(orient="records",
                                                                  force_ascii=False)),
                               "summary": summ}, ensure_ascii=False, indent=2))
        return
    if fmt == "csv":
        click.echo(results.to_csv(index=False), nl=False)
        return
    table = results.assign(
        inside=results["within"].map({True: "inside", False: "OUTSIDE"}).fillna(""),
        km_15pct=results["km_within_15pct"].map({True: "ok", False: "OFF"}).fillna(""),
        published_h=[_hours_range(a, b) for a, b in zip(results["hours_min"],
                                                          results["hours_max"], strict=True)])
    click.echo(format_table(table[["line", "from", "to", "mode", "profile", "year",
                                   "published_h", "model_hours", "inside", "km_published",
                                   "model_km", "km_error_pct", "km_15pct"]]))
    click.echo("")
    click.echo(f"timed rows: {summ['timed_rows']}, inside the published range: "
               f"{summ['timed_within']} ({summ['timed_within_pct']} %); mean absolute time error "
               f"{summ['time_mae_pct_of_mid']} % of the range midpoint")
    click.echo(f"rows with a published km: {summ['km_rows']}, within 15 %: "
               f"{summ['km_within_15pct']} ({summ['km_within_15pct_pct']} %); distance rows "
               f"(no hours): {summ['distance_rows']}, within 15 %: "
               f"{summ['distance_rows_within_15pct']}")
    if summ["unreachable"]:
        click.echo(f"unreachable: {summ['unreachable']} row(s)")
    for r in summ["worst_time"]:
        click.echo(f"worst time: line {r['line']} {r['from']} → {r['to']} {r['year']} "
                   f"{r['profile'] or r['mode']}: model {r['model_hours']} h vs "
                   f"{_hours_range(r['hours_min'], r['hours_max'])} h "
                   f"({r['time_error_pct']:+} %)")
    for r in summ["worst_km"]:
        click.echo(f"worst km: line {r['line']} {r['from']} → {r['to']} {r['year']}: model "
                   f"{r['model_km']} km vs {r['km_published']:g} km ({r['km_error_pct']:+} %)")
    for r in summ["km_below_straight"]:
        click.echo(f"check the row: line {r['line']} {r['from']} → {r['to']}: published "
                   f"{r['km_published']:g} km is less than the {r['straight_km']} km straight line "
                   "between the two points; the figure or a point is wrong")


@main.group("cache")
def cache_group() -> None:
    """Show or empty the cache of built backbones.

    Backbones (the base networks before the catalog's projects) are cached as GeoParquet tables
    with a checked manifest in CORRIDORS_CACHE_DIR (default ~/.cache/corridors); at most
    CORRIDORS_CACHE_MAX_ENTRIES of them (default 8) are kept, the least recently used removed.

    \b
    Examples:
      corridors cache info
      corridors cache clear
    """


@cache_group.command("info")
def cache_info_cmd() -> None:
    """List the cached backbones: key, source, size and creation time.

    \b
    Examples:
      corridors cache info
      CORRIDORS_CACHE_DIR=/tmp/c corridors cache info
    """
    from corridors.build.cache import cache_dir, entries, max_entries

    try:
        folder = cache_dir()
        found = entries(folder)
    except OSError as exc:
        raise click.ClickException(f"cache folder: {exc}") from None
    click.echo(f"cache folder {folder} (keeps {max_entries()} backbones)")
    for e in found:
        click.echo(f"  {e.key}  {e.size_bytes / 1e6:7.1f} MB  {e.created}  {e.source}")
    total = sum(e.size_bytes for e in found)
    click.echo(f"{len(found)} backbone(s), {total / 1e6:.1f} MB")


@cache_group.command("clear")
def cache_clear_cmd() -> None:
    """Remove every cached backbone, leftover temporary folder and old pickle.

    \b
    Examples:
      corridors cache clear
    """
    from corridors.build.cache import cache_dir, clear

    try:
        folder = cache_dir()
        n_entries, n_other = clear(folder)
    except OSError as exc:
        raise click.ClickException(f"cache folder: {exc}") from None
    other = f" and {n_other} leftover file(s)" if n_other else ""
    click.echo(f"removed {n_entries} backbone(s){other} from {folder}")
