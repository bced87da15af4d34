"""The networkx graph of the canonical tables, and its GeoPackage and GraphML files."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
from corridors.network.schema import EDGE_COLUMNS

from corridors.core.atomic import atomic_path


def to_graph(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, **graph_attrs) -> nx.MultiDiGraph:
    """Build a MultiDiGraph following OSMnx conventions from canonical tables.

    Parameters
    ----------
    nodes : geopandas.GeoDataFrame
        Node table indexed by node id, with ``x`` and ``y`` (degrees).
    edges : geopandas.GeoDataFrame
        Edge table with ``u`` and ``v`` (one row per direction of travel).
    **graph_attrs
        Stored in ``G.graph`` (for example ``year``, ``scenario``).

    Returns
    -------
    networkx.MultiDiGraph
        ``G.graph["crs"]`` is ``"EPSG:4326"``; node attributes are the node columns; edge
        attributes the edge columns, ``geometry`` a shapely LineString.
    """
    G = nx.MultiDiGraph(crs="EPSG:4326", **graph_attrs)
    node_cols = [c for c in nodes.columns if c != "geometry"]
    G.add_nodes_from(zip(nodes.index.astype(np.int64).tolist(),
                         _attr_dicts(nodes, node_cols), strict=True))
    cols = [c for c in edges.columns if c not in ("u", "v", "key")]
    # one bulk call with prepared (u, v, attributes) tuples: keys are numbered as add_edge does
    G.add_edges_from(zip(edges["u"].astype(np.int64).tolist(),
                         edges["v"].astype(np.int64).tolist(),
                         _attr_dicts(edges, cols), strict=True))
    return G


def _attr_dicts(frame: pd.DataFrame, cols: list[str]) -> list[dict]:
    """Return one dict per row of ``cols``, leaving out missing values (None, float NaN)."""
    columns = [(c, frame[c].tolist()) for c in cols]  # Python scalars, as itertuples gives
    return [{c: x for c, values in columns
             if (x := values[i]) is not None and not (isinstance(x, float) and x != x)}
            for i in range(len(frame))]


def edges_frame(G: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """Return the edge table of a graph built by :func:`to_graph` (keys as assigned)."""
    rows = [{"u": u, "v": v, "key": k, **d} for u, v, k, d in G.edges(keys=True, data=True)]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=G.graph.get("crs", "EPSG:4326"))


def write_gpkg(path: str | Path, layers: dict[str, pd.DataFrame]) -> Path:
    """Write layers to a GeoPackage atomically (a failed write leaves no file behind).

    Parameters
    ----------
    path : str or pathlib.Path
        The GeoPackage to write; replaced only when every layer was written.
    layers : dict
        Layer name to GeoDataFrame, or to a DataFrame for a table without geometry.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        for name, frame in layers.items():
            if isinstance(frame, gpd.GeoDataFrame):
                out = frame.reset_index() if frame.index.name else frame
                out.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
            else:
                pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG")
    return path


def write_graphml(G: nx.MultiDiGraph, path: str | Path) -> Path:
    """Write the graph as GraphML (geometries as WKT, booleans and numbers kept), atomically."""
    path = Path(path)
    H = G.copy()
    for _, _, d in H.edges(data=True):
        for k, v in list(d.items()):
            if k == "geometry":
                d[k] = v.wkt
            elif not isinstance(v, str | int | float | bool):
                d[k] = str(v)
    for _, d in H.nodes(data=True):
        for k, v in list(d.items()):
            if not isinstance(v, str | int | float | bool):
                d[k] = str(v)
    H.graph = {k: v for k, v in H.graph.items() if isinstance(v, str | int | float | bool)}
    with atomic_path(path) as tmp:
        nx.write_graphml(H, tmp)
    return path


def ordered_edge_columns(edges: pd.DataFrame) -> list[str]:
    """Return the canonical columns first, then any extra ones, then geometry."""
    extra = [c for c in edges.columns if c not in EDGE_COLUMNS and c != "geometry"]
    return [*EDGE_COLUMNS, *extra, "geometry"]
