"""Loading the catalogs: read, validate, build the typed objects, add the cross-border places.

The one entry point above :mod:`corridors.catalog.model` (the typed objects and the tolerant
reading), :mod:`corridors.catalog.validation` and :mod:`corridors.catalog.cross_border`, so that
none of them needs another that needs it back.
"""

from __future__ import annotations

from pathlib import Path

from corridors.catalog.cross_border import load_cross_border
from corridors.catalog.model import Catalog, build_catalog, default_catalog_dir, read_raw
from corridors.catalog.validation import validate_raw
from corridors.core.diagnostics import InputError

__all__ = ["load_catalog"]


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Validate and load the catalogs.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        A catalog folder or one catalog file (see :func:`corridors.catalog.model.read_raw`).
        Default: the shipped catalog.

    Returns
    -------
    Catalog

    Raises
    ------
    corridors.core.diagnostics.InputError
        If the catalog has errors; ``.problems`` lists every one with file, entry and field.
    """
    raw = read_raw(path)
    problems = validate_raw(raw)
    if any(p.severity == "error" for p in problems):
        raise InputError(problems, what=f"the catalog ({path or default_catalog_dir()})")
    cat = build_catalog(raw)
    cat.warnings = [p for p in problems if p.severity == "warning"]
    cb = load_cross_border(cat, path)
    cat.foreign = dict(cb.places) if cb else {}
    return cat
