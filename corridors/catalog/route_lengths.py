"""Official route lengths (``data/catalog/route_lengths.yaml``) as sections the network scales to.

Each section names a route (``ref``), two ends (a catalog place, or a point with its source) and
the official length between them; :func:`network.lengths.true_lengths` uses them. Problems are
reported with file, entry and field, like the catalogs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from corridors.catalog.model import Catalog, default_catalog_dir
from corridors.core.diagnostics import InputError, Problem
from corridors.core.safe_yaml import load_yaml
from corridors.network.lengths import RouteSection

#: The file's name in a catalog folder.
ROUTE_LENGTHS_FILE = "route_lengths.yaml"


def route_lengths_path(catalog_path: str | Path | None = None) -> Path:
    """Return the route-lengths file of a catalog folder (the shipped one by default)."""
    folder = Path(catalog_path) if catalog_path and Path(catalog_path).is_dir() else None
    if folder is not None and (folder / ROUTE_LENGTHS_FILE).exists():
        return folder / ROUTE_LENGTHS_FILE
    return default_catalog_dir() / ROUTE_LENGTHS_FILE


def _end(spec: Any, cat: Catalog, f: str, eid: str, fld: str, problems: list[Problem]
         ) -> tuple[float, float] | None:
    if not isinstance(spec, dict):
        problems.append(Problem(f, eid, fld, "must be {place: <id>} or {name, lat, lon, source}"))
        return None
    if "place" in spec:
        place = cat.places.get(str(spec["place"]))
        if place is None:
            problems.append(Problem(f, eid, f"{fld}.place", f"unknown place {spec['place']!r}"))
            return None
        return (place.lon, place.lat)
    try:
        lat, lon = float(spec["lat"]), float(spec["lon"])
    except (KeyError, TypeError, ValueError):
        problems.append(Problem(f, eid, fld, "needs a catalog place or numeric lat and lon"))
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        problems.append(Problem(f, eid, fld, f"lat {lat}, lon {lon} is not a coordinate"))
        return None
    if not spec.get("source"):
        problems.append(Problem(f, eid, f"{fld}.source", "a point needs its source"))
    return (lon, lat)


def read_route_sections(cat: Catalog, path: str | Path | None = None) -> list[RouteSection]:
    """Read the official route sections, resolving their ends against the catalog.

    Parameters
    ----------
    cat : Catalog
    path : path, optional
        Default: :func:`route_lengths_path`.

    Returns
    -------
    list of RouteSection

    Raises
    ------
    InputError
        Listing every problem (file, entry, field).
    """
    path = Path(path) if path else route_lengths_path()
    f = path.name
    try:
        doc = load_yaml(path, what=str(path))
    except FileNotFoundError:
        return []
    except yaml.YAMLError as exc:
        raise InputError([Problem(f, "-", "-", f"not valid YAML: {exc}")], str(path)) from None
    entries = doc.get("sections") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise InputError([Problem(f, "-", "sections", "must be a list of sections")], str(path))
    problems: list[Problem] = []
    out, seen = [], set()
    for k, e in enumerate(entries):
        eid = str(e.get("id")) if isinstance(e, dict) and e.get("id") else f"#{k + 1}"
        if not isinstance(e, dict):
            problems.append(Problem(f, eid, "-", "must be a mapping"))
            continue
        if eid in seen:
            problems.append(Problem(f, eid, "id", "duplicate id"))
        seen.add(eid)
        for fld in ("ref", "source"):
            if not isinstance(e.get(fld), str) or not e[fld].strip():
                problems.append(Problem(f, eid, fld, "missing"))
        km = e.get("length_km")
        if isinstance(km, bool) or not isinstance(km, int | float) or km <= 0:
            problems.append(Problem(f, eid, "length_km", f"must be a positive number of km, "
                                    f"got {km!r}"))
        a = _end(e.get("from"), cat, f, eid, "from", problems)
        b = _end(e.get("to"), cat, f, eid, "to", problems)
        if a and b and not problems and isinstance(km, int | float):
            out.append(RouteSection(eid, e["ref"].strip(), a, b, float(km), e["source"]))
    if problems:
        raise InputError(problems, str(path))
    return out
