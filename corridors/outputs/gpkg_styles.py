"""GeoPackages that open styled in QGIS: typed layers and the ``layer_styles`` table.

QGIS looks for a layer's default style in the GeoPackage's ``layer_styles`` table (the table
QGIS itself writes when a style is saved "in the database"; the same convention as PostGIS):
one row per style with the table and geometry column it belongs to, the QML, and
``useAsDefault``. :func:`write_layers` writes the layers (GeoPackage 1.2, readable by the GDAL of
every QGIS 3 release; empty layers keep their declared geometry type so they stay valid layers),
:func:`write_layer_styles` adds the styles.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

#: GeoPackage version written (1.2 is read by GDAL ≥ 2.2, so by every QGIS 3).
GPKG_VERSION = "1.2"
#: Write through Arrow (whole columns at once, not feature by feature) where GDAL can (≥ 3.8).
USE_ARROW = pyogrio.__gdal_version__ >= (3, 8, 0)

#: Columns of the ``layer_styles`` table, in QGIS's order.
STYLE_COLUMNS = ["f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column",
                 "styleName", "styleQML", "styleSLD", "useAsDefault", "description", "owner",
                 "ui", "update_time"]

#: OGR geometry type names of the simple kinds (single and multi).
GEOMETRY_TYPES = {"point": ("Point", "MultiPoint"), "line": ("LineString", "MultiLineString"),
                  "polygon": ("Polygon", "MultiPolygon")}


def geometry_type(frame: gpd.GeoDataFrame, kind: str) -> str:
    """Return the OGR geometry type of a layer: the multi type if any feature is multi.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
    kind : {"point", "line", "polygon"}
    """
    single, multi = GEOMETRY_TYPES[kind]
    types = set(frame.geom_type.dropna().unique())
    return multi if any(t.startswith("Multi") for t in types) else single


def write_layer(path: str | Path, name: str, frame: pd.DataFrame, kind: str | None) -> None:
    """Add one layer (or a table without geometry when ``kind`` is None) to a GeoPackage.

    Parameters
    ----------
    path : str or pathlib.Path
        The GeoPackage; created (GeoPackage :data:`GPKG_VERSION`) if it does not exist.
    name : str
        Layer name.
    frame : pandas.DataFrame
        A GeoDataFrame for a spatial layer.
    kind : {"point", "line", "polygon"} or None
    """
    options = {} if Path(path).exists() else {"dataset_options": {"VERSION": GPKG_VERSION}}
    if kind is None:
        pyogrio.write_dataframe(pd.DataFrame(frame), path, layer=name, driver="GPKG",
                                use_arrow=USE_ARROW, **options)
        return
    gtype = geometry_type(frame, kind)
    pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", geometry_type=gtype,
                            promote_to_multi=gtype.startswith("Multi"), use_arrow=USE_ARROW,
                            **options)


def write_layers(path: str | Path, layers: dict[str, tuple[pd.DataFrame, str | None]]) -> None:
    """Write layers to a new GeoPackage.

    Parameters
    ----------
    path : str or pathlib.Path
    layers : dict
        Layer name to (frame, kind) as for :func:`write_layer`.
    """
    for name, (frame, kind) in layers.items():
        write_layer(path, name, frame, kind)


def write_layer_styles(path: str | Path, styles: dict[str, str],
                       description: str = "", owner: str = "") -> None:
    """Store each layer's QML as its default style in the ``layer_styles`` table.

    Parameters
    ----------
    path : str or pathlib.Path
        An existing GeoPackage holding the layers.
    styles : dict
        Layer name to QML document (:mod:`layers.qml`).
    description, owner : str
        Written in every row.
    """
    now = pd.Timestamp(dt.datetime.now(dt.UTC).replace(microsecond=0))
    rows = []
    for name, qml in styles.items():
        info = pyogrio.read_info(path, layer=name)
        rows.append({"f_table_catalog": "", "f_table_schema": "", "f_table_name": name,
                     "f_geometry_column": info.get("geometry_name") or "",
                     "styleName": name, "styleQML": qml, "styleSLD": "", "useAsDefault": True,
                     "description": description, "owner": owner, "ui": None,
                     "update_time": now})
    table = pd.DataFrame(rows, columns=STYLE_COLUMNS)
    table["ui"] = table["ui"].astype(object)
    pyogrio.write_dataframe(table, path, layer="layer_styles", driver="GPKG",
                            layer_options={"FID": "id"})


def read_layer_styles(path: str | Path) -> pd.DataFrame:
    """Return the ``layer_styles`` table of a GeoPackage (empty if it has none)."""
    if "layer_styles" not in set(pyogrio.list_layers(path)[:, 0]):
        return pd.DataFrame(columns=STYLE_COLUMNS)
    return pyogrio.read_dataframe(path, layer="layer_styles")
