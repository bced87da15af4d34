"""Build the embedded default dataset in ``data/`` from the raw open data in ``../shared/data``.

Rerun it whenever the raw inputs change::

    python scripts/prepare_data.py [--shared ../shared/data] [--facts ../shared/facts] [--out data]

It writes ``region.gpkg`` (vector layers), three compressed GeoTIFFs, ``facts/travel_times.csv``
(the published travel times that ``corridors check-times`` reads, copied whole from the facts
folder, as its README allows) and ``SOURCES.md`` (from ``data/sources.yaml``). Outputs are
written to a temporary folder and moved into place only when all of them succeeded, so a failed
run leaves the previous dataset intact.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import shutil
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import rasterio
import yaml
from rasterio.shutil import copy as rio_copy

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from corridors.core.names import ascii_name  # noqa: E402

DEFAULT_SHARED = REPO.parent / "shared" / "data"
#: Files of the facts folder (a sibling of the raw data folder) shipped whole, into data/facts/.
FACT_FILES = ("travel_times.csv", "cross_border.csv")

RASTER_OPTIONS = {"driver": "GTiff", "compress": "deflate", "predictor": 2, "tiled": True,
                  "blockxsize": 256, "blockysize": 256}

LEVELS = {"Quốc Gia": "national", "Cấp Tỉnh": "provincial", "Cấp Huyện": "district"}


def road_ref(name: str | None) -> str | None:
    """Return the Vietnamese road reference (QL34, ĐT279, HCM) of a giaothong road name."""
    if not name:
        return None
    if m := re.fullmatch(r"Quốc lộ\s*(\w+)", name):
        return f"QL{m.group(1)}"
    if m := re.fullmatch(r"Tỉnh lộ\s*(\w+)", name):
        return f"ĐT{m.group(1)}"
    if name == "Đường Hồ Chí Minh":
        return "HCM"
    return None


def read_input(shared: Path, name: str) -> gpd.GeoDataFrame:
    path = shared / name
    if not path.exists():
        raise SystemExit(f"error: input {path} is missing")
    gdf = gpd.read_file(path, engine="pyogrio")
    if gdf.crs is None or gdf.crs.to_epsg() != 4326:
        raise SystemExit(f"error: {path} is not in WGS 84 (EPSG:4326): {gdf.crs}")
    return gdf


def provinces(shared: Path, catalog: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return the 21 pre-2025 provinces and their post-July-2025 unions."""
    raw = read_input(shared, "provinces_21_geoboundaries.geojson")
    old = gpd.GeoDataFrame(
        {
            "name": raw["shapeName"],
            "name_ascii": raw["shapeName"].map(ascii_name),
            "iso": raw["shapeISO"],
            "group": raw["group"],
        },
        geometry=raw.geometry.make_valid(),
        crs=raw.crs,
    )
    table_path = catalog / "provinces.csv"
    if not table_path.exists():
        raise SystemExit(f"error: {table_path} (the old→new province table) is missing")
    table = pd.read_csv(table_path)
    missing = set(old["name"]) - set(table["province_2024"])
    if missing:
        raise SystemExit(f"error: {table_path} has no row for {sorted(missing)}")
    old["province_2025"] = old["name"].map(dict(zip(table["province_2024"],
                                                     table["province_2025"], strict=True)))
    new = old.dissolve(by="province_2025", as_index=False, aggfunc={"group": "min"})
    merged_from = old.groupby("province_2025")["name"].apply(lambda s: "; ".join(sorted(s)))
    new = gpd.GeoDataFrame(
        {
            "name": new["province_2025"],
            "name_ascii": new["province_2025"].map(ascii_name),
            "merged_from": new["province_2025"].map(merged_from),
            "group": new["group"],
        },
        geometry=new.geometry,
        crs=old.crs,
    )
    return old.sort_values("name").reset_index(drop=True), new.sort_values("name").reset_index(
        drop=True
    )


def build_vectors(shared: Path, catalog: Path, gpkg: Path) -> dict[str, int]:
    """Write every vector layer to ``gpkg``; return feature counts by layer."""
    layers: dict[str, gpd.GeoDataFrame] = {}
    layers["provinces_2024"], layers["provinces_2025"] = provinces(shared, catalog)

    border = read_input(shared, "border_lines_vn_cn_la_geomaps.geojson")
    layers["border"] = border[["neighbour", "length_km", "geometry"]]

    gt = read_input(shared, "national_roads_rail_giaothong.geojson")
    is_rail = gt["loai_duong"] == "Đường sắt"
    name = gt["ten"].where(gt["ten"] != "Không biết")  # "unknown" in the source
    common = {
        "source_id": gt["map_id"],
        "name": name,
        "name_ascii": name.map(lambda s: ascii_name(s) if isinstance(s, str) else None),
        "level": gt["cap_duong"].map(LEVELS),
        "length_m": gt["chieu_dai"].round(1),
    }
    roads = gpd.GeoDataFrame(
        {**common, "ref": name.map(lambda s: road_ref(s) if isinstance(s, str) else None)},
        geometry=gt.geometry, crs=gt.crs,
    )
    layers["roads"] = roads[~is_rail].reset_index(drop=True)
    layers["railways_giaothong"] = gpd.GeoDataFrame(common, geometry=gt.geometry, crs=gt.crs)[
        is_rail
    ].reset_index(drop=True)

    rail = read_input(shared, "railways_osm2018.geojson")
    layers["railways_osm"] = rail[["osm_id", "fclass", "name", "geometry"]]

    for layer, fname in [("places_osm", "places_city_town_osm2018.geojson"),
                         ("transport_points", "transport_points_osm2018.geojson"),
                         ("peaks", "peaks_osm2018.geojson")]:
        gdf = read_input(shared, fname)
        cols = [c for c in ("osm_id", "fclass", "name", "population") if c in gdf.columns]
        gdf = gdf[[*cols, "geometry"]].copy()
        gdf.insert(gdf.columns.get_loc("name") + 1, "name_ascii",
                   gdf["name"].map(lambda s: ascii_name(s) if isinstance(s, str) else None))
        layers[layer] = gdf

    layers["airports"] = read_input(shared, "airports_airportsdata.geojson")[
        ["icao", "iata", "name", "city", "elevation_ft", "geometry"]
    ]

    counts = {}
    for layer, gdf in layers.items():
        gdf.to_file(gpkg, layer=layer, driver="GPKG", engine="pyogrio")
        counts[layer] = len(gdf)
    return counts


def build_rasters(shared: Path, out: Path, register: dict) -> dict[str, str]:
    """Copy each raster of the register as a tiled, DEFLATE-compressed GeoTIFF."""
    done = {}
    for name, entry in register["layers"].items():
        if not entry["file"].endswith(".tif"):
            continue
        src = shared / entry["input"]
        if not src.exists():
            raise SystemExit(f"error: input {src} is missing")
        dst = out / entry["file"]
        rio_copy(str(src), str(dst), **RASTER_OPTIONS)
        with rasterio.open(dst) as ds:
            if ds.crs is None or ds.crs.to_epsg() != 4326:
                raise SystemExit(f"error: {src} is not in WGS 84: {ds.crs}")
            done[name] = f"{ds.width}×{ds.height}, {ds.dtypes[0]}, nodata {ds.nodata}"
    return done


def apply_corrections(text: str, corrections: list[dict], where: str) -> tuple[str, int]:
    """Apply the register's reviewed corrections to a fact CSV; every other byte is kept.

    Each correction names one row by some of its fields (``row``), the ``field`` to change, the
    value it ``was`` and the new ``value``, with the ``reason``. A correction that matches no row,
    or several, or whose ``was`` is not the cell's value, stops the copy: the sheet changed, and
    the correction must be reviewed again.

    Returns the corrected text and the number of rows changed.
    """
    lines = text.splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    rows = [next(csv.reader([line])) for line in lines[1:]]
    for k, c in enumerate(corrections):
        label = f"sources.yaml: {where}: corrections[{k}]"
        for key in ("row", "field", "was", "value", "reason"):
            if key not in c:
                raise SystemExit(f"error: {label}: missing field {key!r}")
        if c["field"] not in header or any(f not in header for f in c["row"]):
            raise SystemExit(f"error: {label}: unknown column (columns: {', '.join(header)})")
        hits = [i for i, r in enumerate(rows)
                if all(r[header.index(f)] == str(v) for f, v in c["row"].items())]
        if len(hits) != 1:
            raise SystemExit(f"error: {label}: {c['row']} matches {len(hits)} rows, not one")
        cell = rows[hits[0]][header.index(c["field"])]
        if cell != str(c["was"]):
            raise SystemExit(f"error: {label}: field {c['field']!r} is {cell!r}, not {c['was']!r}")
        rows[hits[0]][header.index(c["field"])] = str(c["value"])
        buf = io.StringIO()
        csv.writer(buf, lineterminator=lines[hits[0] + 1][len(lines[hits[0] + 1].rstrip("\r\n")):]
                   or "\n").writerow(rows[hits[0]])
        lines[hits[0] + 1] = buf.getvalue()
    return "".join(lines), len(corrections)


def copy_facts(facts: Path, out: Path, register: dict) -> dict[str, str]:
    """Copy the fact files of the register (``file: facts/<name>``) into ``out``.

    A file is copied byte for byte, except for the reviewed ``corrections`` its register entry
    lists (see :func:`apply_corrections`). Returns the register name of each file copied and its
    size in rows.
    """
    done = {}
    for name, entry in register["layers"].items():
        if not entry["file"].startswith("facts/"):
            continue
        fname = entry["file"].removeprefix("facts/")
        if fname not in FACT_FILES:
            raise SystemExit(f"error: sources.yaml: {name}: {fname} is not a shippable fact file "
                             f"(only {', '.join(FACT_FILES)})")
        src = facts / fname
        if not src.exists():
            raise SystemExit(f"error: input {src} is missing; pass --facts PATH to the folder "
                             "holding travel_times.csv")
        dst = out / entry["file"]
        dst.parent.mkdir(parents=True, exist_ok=True)
        # bytes, not text mode: the sheet's line endings are kept as they are
        text, fixed = apply_corrections(src.read_bytes().decode("utf-8"),
                                        entry.get("corrections") or [], name)
        dst.write_bytes(text.encode("utf-8"))
        rows = len(pd.read_csv(dst))
        done[name] = f"{rows} rows" + (f", {fixed} corrected" if fixed else "")
    return done


def sources_markdown(register: dict, counts: dict[str, int], rasters: dict[str, str]) -> str:
    """Render ``SOURCES.md`` from the register."""
    lines = [
        "# Sources of the embedded default dataset",
        "",
        "Generated by `scripts/prepare_data.py` from `data/sources.yaml`; edit the register, not",
        "this file. The catalogs in `catalog/` cite their own sources entry by entry.",
        "",
        "| file | layer | content | size | licence | attribution |",
        "|---|---|---|---|---|---|",
    ]
    for name, e in register["layers"].items():
        size = f"{counts[name]} features" if name in counts else rasters.get(name, "")
        lines.append(f"| {e['file']} | {name} | {e['content']} | {size} | {e['licence']} | "
                     f"{e['attribution']} |")
    lines += ["", "## Attribution to carry", "", " ".join(register["attribution"].split()), "",
              "## Notes", "", " ".join(register["notes"].split()), ""]
    fixes = [(e["file"], c) for e in register["layers"].values()
             for c in e.get("corrections") or []]
    if fixes:
        lines += ["## Corrections to the fact sheet", "",
                  "Rows of the project's fact sheet changed on copy "
                  "(`scripts/prepare_data.py`):", "",
                  "| file | row | field | was | now | why |", "|---|---|---|---|---|---|"]
        lines += [f"| {f} | {', '.join(f'{k}={v}' for k, v in c['row'].items())} | {c['field']} | "
                  f"{c['was']} | {c['value']} | {' '.join(str(c['reason']).split())} |"
                  for f, c in fixes]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                        help="folder of the raw open data (default: %(default)s)")
    parser.add_argument("--facts", type=Path, default=None,
                        help="folder of the project's fact sheet (default: the 'facts' folder "
                             "beside --shared)")
    parser.add_argument("--out", type=Path, default=REPO / "data",
                        help="data folder to write (default: %(default)s)")
    args = parser.parse_args(argv)
    if not args.shared.is_dir():
        print(f"error: raw data folder {args.shared} not found; pass --shared PATH to the folder "
              "holding provinces_21_geoboundaries.geojson and the other inputs", file=sys.stderr)
        return 2
    facts = args.facts or args.shared.parent / "facts"
    register = yaml.safe_load((args.out / "sources.yaml").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(dir=args.out) as tmp:
        tmpdir = Path(tmp)
        counts = build_vectors(args.shared, args.out / "catalog", tmpdir / "region.gpkg")
        rasters = build_rasters(args.shared, tmpdir, register)
        rasters.update(copy_facts(facts, tmpdir, register))
        missing = set(register["layers"]) - set(counts) - set(rasters)
        if missing:
            raise SystemExit(f"error: sources.yaml lists layers that were not built: {missing}")
        (tmpdir / "SOURCES.md").write_text(sources_markdown(register, counts, rasters),
                                           encoding="utf-8")
        for f in sorted(p for p in tmpdir.rglob("*") if p.is_file()):
            dst = args.out / f.relative_to(tmpdir)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(f), dst)
    for name, n in counts.items():
        print(f"{name:20s} {n:6d} features")
    for name, desc in rasters.items():
        print(f"{name:20s} {desc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
