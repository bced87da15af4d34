"""Writing result tables: CSV for people and spreadsheets, Parquet (GeoParquet) for tools.

Column names carry their units (``time_h``, ``length_km``, ``speed_kmh``, ``people``). Tables
with geometry are written to Parquet as GeoParquet and to CSV without the geometry. Every file
set is written under the output contract of :mod:`corridors.core.outputs` (locked, staged, moved
into
place when all were written, recorded in the folder's manifest).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from corridors.core.outputs import write_files

FORMATS = ("csv", "parquet")


def table_paths(names: Iterable[str], out_dir: str | Path, formats: Iterable[str] = FORMATS
                ) -> list[Path]:
    """Return the files :func:`write_tables` would write."""
    out = Path(out_dir)
    return [out / f"{n}.{f}" for n in names for f in formats]


def _csv_ready(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    # infinite times (unreachable) are written as empty cells, not "inf"
    return out.replace([np.inf, -np.inf], np.nan)


def write_tables(tables: Mapping[str, pd.DataFrame], out_dir: str | Path,
                 formats: Iterable[str] = FORMATS, force: bool = False) -> list[Path]:
    """Write each table as ``<name>.csv`` and/or ``<name>.parquet`` in ``out_dir``.

    Raises
    ------
    FileExistsError
        If a file exists and ``force`` is False (nothing is written then).
    ValueError
        For an unknown format.
    """
    formats = list(formats)
    bad = set(formats) - set(FORMATS)
    if bad:
        raise ValueError(f"unknown table format(s) {sorted(bad)}; valid: {', '.join(FORMATS)}")
    out = Path(out_dir)
    paths = table_paths(tables, out, formats)

    def write(stage: Path) -> None:
        for name, frame in tables.items():
            for fmt in formats:
                path = stage / f"{name}.{fmt}"
                if fmt == "csv":
                    _csv_ready(frame).to_csv(path, index=False)
                elif isinstance(frame, gpd.GeoDataFrame) and frame.geometry.notna().any():
                    frame.to_parquet(path, index=False)
                else:
                    pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).to_parquet(
                        path, index=False)

    return write_files(out, [p.name for p in paths], write, force=force, what="tables")
