"""Recompute and check the border gates of ``data/catalog/places.yaml``.

Every place with ``location_method`` ``border_road_end`` or ``border_nearest_anchor`` is placed
again by :mod:`corridors.catalog.placement` on the embedded ``border`` and ``roads`` layers, and
every
border gate's distance to the border line of its neighbour is measured. The table shows::

    id  method  computed lat/lon  catalog lat/lon  difference (m)  distance to border (m)

Usage::

    python scripts/place_gates.py                 # print the table
    python scripts/place_gates.py --check         # exit 1 on any discrepancy
    python scripts/place_gates.py --catalog other/places.yaml --tolerance-m 20

With ``--check`` the script exits with status 1 if a computed place differs from the catalog by
more than ``--tolerance-m`` (default 50 m), if a recomputation fails (road missing, road end too
far from the border), or if a border gate lies more than ``--max-border-m`` (default 2000 m)
from the border line. Only the embedded dataset is read (``layers.region.read_layer``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from corridors.layers.datadir import data_dir  # noqa: E402
from corridors.layers.region import read_layer  # noqa: E402

from corridors.catalog.placement import GateCheck, check_places  # noqa: E402

DEFAULT_TOLERANCE_M = 50.0
DEFAULT_MAX_BORDER_M = 2000.0


def _fmt(v: float | None, spec: str) -> str:
    width = int(spec.split(".")[0])
    return "-".rjust(width) if v is None else format(v, spec)


def format_table(rows: list[GateCheck]) -> str:
    """Return the checks as a fixed-width text table."""
    head = (f"{'id':26} {'method':22} {'computed lat':>12} {'computed lon':>12} "
            f"{'catalog lat':>11} {'catalog lon':>12} {'diff m':>8} {'border m':>9}")
    lines = [head, "-" * len(head)]
    for r in rows:
        line = (f"{r.id:26} {r.method:22} {_fmt(r.computed_lat, '12.5f')} "
                f"{_fmt(r.computed_lon, '12.5f')} {r.catalog_lat:11.5f} {r.catalog_lon:12.5f} "
                f"{_fmt(r.difference_m, '8.1f')} {r.border_distance_m:9.0f}")
        if r.error:
            line += f"  ERROR: {r.error}"
        lines.append(line)
    return "\n".join(lines)


def failures(rows: list[GateCheck], tolerance_m: float, max_border_m: float) -> list[str]:
    """Return one message per failed check (empty when everything agrees)."""
    out = []
    for r in rows:
        if r.error:
            out.append(f"{r.id}: recomputation failed: {r.error}")
        elif r.difference_m is not None and r.difference_m > tolerance_m:
            out.append(f"{r.id}: catalog ({r.catalog_lat}, {r.catalog_lon}) differs from the "
                       f"computed ({r.computed_lat:.5f}, {r.computed_lon:.5f}) by "
                       f"{r.difference_m:.0f} m (tolerance {tolerance_m:g} m)")
        if r.border_distance_m > max_border_m:
            out.append(f"{r.id}: lies {r.border_distance_m:.0f} m from the border line "
                       f"(at most {max_border_m:g} m)")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Recompute border gates placed by border_road_end / border_nearest_anchor "
                    "and compare them with the catalog.")
    parser.add_argument("--catalog", type=Path, default=None,
                        help="places.yaml to check (default: the shipped data/catalog/places.yaml)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if any place differs from its computation by more than "
                             "--tolerance-m, fails to compute, or a gate is too far from the "
                             "border")
    parser.add_argument("--tolerance-m", type=float, default=DEFAULT_TOLERANCE_M,
                        help="largest accepted catalog-vs-computed difference, m (default 50)")
    parser.add_argument("--max-border-m", type=float, default=DEFAULT_MAX_BORDER_M,
                        help="largest accepted gate distance to the border line, m (default 2000)")
    args = parser.parse_args(argv)

    path = args.catalog or data_dir() / "catalog" / "places.yaml"
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return 2
    entries = doc.get("places") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        print(f"{path}: expected a mapping with the key 'places'", file=sys.stderr)
        return 2

    rows = check_places([e for e in entries if isinstance(e, dict)], read_layer("border"),
                        read_layer("roads"))
    print(format_table(rows))
    n_comp = sum(r.method in ("border_road_end", "border_nearest_anchor") for r in rows)
    print(f"\n{len(rows)} places checked, {n_comp} recomputed ({path})")
    problems = failures(rows, args.tolerance_m, args.max_border_m)
    for msg in problems:
        print("FAIL " + msg, file=sys.stderr)
    if not problems:
        print(f"OK: every computed place within {args.tolerance_m:g} m of its computation, every "
              f"gate within {args.max_border_m:g} m of the border line")
    return 1 if (args.check and problems) else 0


if __name__ == "__main__":
    sys.exit(main())
