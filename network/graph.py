"""The networkx graph of the canonical tables, and its GeoPackage and GraphML files.

The graph follows OSMnx conventions (``osmnx.convert.validate_graph`` passes, strict) alongside
the toolkit's own columns:

* ``G.graph["crs"]`` is ``"EPSG:4326"``; node ids are ints; nodes carry ``x``, ``y`` (degrees)
  and ``street_count``;
* every edge carries ``osmid``, ``length`` (m), ``speed_kph`` (km/h) and ``travel_time`` (s) of
  a car, so that ``ox.routing.shortest_path(G, a, b, weight="travel_time")`` finds the route
  that :class:`network.routing.Router` finds for the car profile, in the same time.

Edges a car cannot use (rail, water and air: outside the modes of the car profile in
:data:`network.schema.ROUTING_PROFILES`) stay in the graph, which is the whole multimodal
network, with ``travel_time = inf`` and ``speed_kph = 0``. A missing ``travel_time`` would not
do: networkx weighs an edge without the attribute as 1 (one second), and OSMnx only warns.
An infinite time is never preferred to a finite one, but networkx still returns a path when
every path is infinite, so a car route of infinite time means *no car route*. Where "no route"
must come back as ``None``, route on :func:`car_graph`, the view without those edges.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
from corridors.network.schema import EDGE_COLUMNS, ROUTING_PROFILES

from corridors.core.atomic import atomic_path

#: Modes a car may use: those of the car routing profile (roads, and the transfers that take a
#: car to a station, port, airport or across a border gate, with their fixed times).
CAR_MODES: frozenset[str] = ROUTING_PROFILES["car"][1]
_OSM_WAY = re.compile(r"osm:way/(\d+)")
#: GeoPackages are written through Arrow (whole columns, not feature by feature) on GDAL ≥ 3.8.
_USE_ARROW = pyogrio.__gdal_version__ >= (3, 8, 0)


def to_graph(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, **graph_attrs) -> nx.MultiDiGraph:
    """Build a MultiDiGraph following OSMnx conventions from canonical tables.

    Parameters
    ----------
    nodes : geopandas.GeoDataFrame
        Node table indexed by node id, with ``x`` and ``y`` (degrees).
    edges : geopandas.GeoDataFrame
        Edge table with ``u``, ``v``, ``mode``, ``source``, ``length_km`` (km),
        ``speed_kmh_car`` (km/h) and ``time_h_car`` (h), one row per direction of travel.
    **graph_attrs
        Stored in ``G.graph`` (for example ``year``, ``scenario``).

    Returns
    -------
    networkx.MultiDiGraph
        ``G.graph["crs"]`` is ``"EPSG:4326"``; node attributes are the node columns and
        ``street_count``; edge attributes the edge columns, ``geometry`` a shapely LineString,
        and ``osmid``, ``length`` (m), ``speed_kph`` (km/h) and ``travel_time`` (s, car) as
        :func:`osmnx_tables` adds them. ``osmnx.convert.validate_graph`` passes on it.
    """
    nodes, edges = osmnx_tables(nodes, edges)
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


def car_usable(edges: pd.DataFrame) -> np.ndarray:
    """Return which edges a car may use, as the toolkit's car router decides.

    An edge of a mode in :data:`CAR_MODES` with a finite ``time_h_car`` (h):
    :class:`network.routing.Router` with the car profile keeps exactly these.

    Parameters
    ----------
    edges : pandas.DataFrame
        Edge table with ``mode`` and ``time_h_car`` (h).

    Returns
    -------
    numpy.ndarray of bool
    """
    time = edges["time_h_car"].to_numpy(dtype=float)
    return edges["mode"].isin(CAR_MODES).to_numpy() & np.isfinite(time)


def osmnx_tables(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame
                 ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return copies of the tables with the columns OSMnx expects of a graph.

    Edges gain, after the toolkit's own columns (which are left as they are):

    ``osmid`` (int)
        The OSM way id where ``source`` is ``osm:way/<id>``; otherwise a negative id derived
        from ``source`` (stable across years and runs; negative ids are what OSM editors give
        objects that are not in OSM), shared by the edges of one source feature as an OSM way's
        edges share its id.
    ``length`` (float, m)
        ``length_km`` x 1000.
    ``speed_kph`` (float, km/h)
        ``speed_kmh_car`` where a car may use the edge (:func:`car_usable`), else 0.
    ``travel_time`` (float, s)
        ``time_h_car`` x 3600 where a car may use the edge, else ``inf``. It is the toolkit's
        car time, fixed times included (transfers, border clearance), so on transfer edges it
        exceeds ``length / speed_kph``: do not recompute it with
        ``ox.routing.add_edge_travel_times``.

    Nodes gain ``street_count`` (int): the physical links a car may use (roads and transfers)
    that meet at the node (both directions of a two-way road are one link; a self-loop counts
    twice, as OSMnx counts it); 0 at nodes no car reaches (junctions of the railway, for
    example).

    Parameters
    ----------
    nodes : geopandas.GeoDataFrame
        Node table indexed by node id.
    edges : geopandas.GeoDataFrame
        Edge table with ``u``, ``v``, ``mode``, ``source``, ``length_km`` (km),
        ``speed_kmh_car`` (km/h) and ``time_h_car`` (h).

    Returns
    -------
    nodes, edges : geopandas.GeoDataFrame
    """
    car = car_usable(edges)
    out = edges.copy()
    out["osmid"] = _osmids(edges["source"])
    out["length"] = edges["length_km"].to_numpy(dtype=float) * 1000.0
    out["speed_kph"] = np.where(car, edges["speed_kmh_car"].to_numpy(dtype=float), 0.0)
    out["travel_time"] = np.where(car, edges["time_h_car"].to_numpy(dtype=float) * 3600.0,
                                  np.inf)
    n = nodes.copy()
    n["street_count"] = _street_counts(n.index, edges[car])
    return n, out


def _osmids(source: pd.Series) -> np.ndarray:
    """Return the ``osmid`` of each edge from its ``source`` (see :func:`osmnx_tables`)."""
    text = source.astype(object).where(source.notna(), "").astype(str)
    ids = {}
    for s in text.unique():
        m = _OSM_WAY.fullmatch(s)
        if m:
            ids[s] = int(m.group(1))
        else:  # 56 bits of a hash: fits the int64 osmid column of ox.graph_to_gdfs
            digest = hashlib.blake2b(s.encode("utf-8"), digest_size=7).digest()
            ids[s] = -1 - int.from_bytes(digest, "big")
    return text.map(ids).to_numpy(dtype=np.int64)


def _street_counts(index: pd.Index, edges: pd.DataFrame) -> np.ndarray:
    """Return, per node of ``index``, the physical links of ``edges`` that meet there."""
    u, v = edges["u"].to_numpy(dtype=np.int64), edges["v"].to_numpy(dtype=np.int64)
    # the two directions of one road share their source and length: one physical link
    links = pd.DataFrame({"a": np.minimum(u, v), "b": np.maximum(u, v),
                          "source": edges["source"].to_numpy(),
                          "mm": np.round(edges["length_km"].to_numpy(dtype=float) * 1e6)}
                         ).drop_duplicates()
    ends = pd.Series(np.concatenate([links["a"].to_numpy(), links["b"].to_numpy()]))
    return ends.value_counts().reindex(index, fill_value=0).to_numpy(dtype=np.int64)


def car_graph(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Return a read-only view of ``G`` without the edges a car cannot use.

    The edges left out are those whose ``travel_time`` is not finite (or missing). On ``G``,
    ``ox.routing.shortest_path`` returns a path of infinite time where no car route exists
    (networkx still joins nodes over infinite weights); on this view it returns ``None``, as
    :meth:`network.routing.Router.route` does. Every node stays; ``G.graph`` is shared.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        A graph of :func:`to_graph` (or loaded from its GraphML).

    Returns
    -------
    networkx.MultiDiGraph
        A view (``.copy()`` gives a graph that can be changed).
    """
    def drivable(u: int, v: int, k: int) -> bool:
        return bool(G.edges[u, v, k].get("travel_time", np.inf) < np.inf)

    return nx.subgraph_view(G, filter_edge=drivable)


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


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a frame whose object columns are text, as the feature-by-feature writer stores them.

    Written through Arrow, an object column of numbers would become a REAL field; pyogrio's
    feature-by-feature writer stores ``str(value)`` in a TEXT field (NULL for None and NaN), and
    the GeoPackage keeps that layout.
    """
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    cols = [c for c in frame.columns if c != geometry and frame[c].dtype == object]
    if not cols:
        return frame
    return frame.assign(**{c: pd.array([None if v is None or (isinstance(v, float) and v != v)
                                        else str(v) for v in frame[c].to_numpy()],
                                       dtype="string") for c in cols})


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
                out = _as_text(out) if _USE_ARROW else out
                pyogrio.write_dataframe(out, tmp, layer=name, driver="GPKG",
                                        use_arrow=_USE_ARROW)
            else:
                out = _as_text(frame) if _USE_ARROW else frame
                pyogrio.write_dataframe(out, tmp, layer=name, driver="GPKG",
                                        use_arrow=_USE_ARROW)
    return path


def write_graphml(G: nx.MultiDiGraph, path: str | Path) -> Path:
    """Write the graph as GraphML that ``osmnx.load_graphml`` reads, atomically.

    Node and edge attributes are written as text, as ``osmnx.save_graphml`` writes them
    (geometries as WKT): ``osmnx.load_graphml`` expects nothing else (it fails on typed
    values). It gives back ``x``, ``y``, ``street_count``, ``osmid``, ``length`` (m),
    ``speed_kph`` (km/h) and ``travel_time`` (s; ``inf`` stays ``inf``) typed, and the
    geometries; :func:`read_graphml` types the toolkit's own columns too. Graph attributes of
    plain types (``year``, ``scenario``, ``crs`` ...) keep their GraphML type.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        A graph of :func:`to_graph`.
    path : str or pathlib.Path
        The file to write; replaced only when the whole graph was written.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    H = G.copy()
    for _, _, d in H.edges(data=True):
        for k, v in d.items():
            d[k] = v.wkt if k == "geometry" else str(v)
    for _, d in H.nodes(data=True):
        for k, v in d.items():
            d[k] = str(v)
    H.graph = {k: v for k, v in H.graph.items() if isinstance(v, str | int | float | bool)}
    with atomic_path(path) as tmp:
        nx.write_graphml(H, tmp)
    return path


def _number(text: str) -> int | float:
    """Read a number written by :func:`write_graphml`: an int stays an int, a float a float."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def _boolean(text: str) -> bool:
    if text not in ("True", "False"):
        raise ValueError(f"not a boolean: {text!r}")
    return text == "True"


#: How :func:`read_graphml` types the toolkit's own edge columns (text in the file).
GRAPHML_EDGE_DTYPES = {
    **{c: _number for c in ("length_km", "lanes", "design_speed_kmh", "maxspeed_kmh",
                            "speed_kmh_car", "speed_kmh_truck", "time_h_car", "time_h_truck",
                            "cost_vnd_truck", "open_year", "length_drawn_km", "urban_share",
                            "year")},
    "schematic": _boolean,
}


def read_graphml(path: str | Path) -> nx.MultiDiGraph:
    """Read GraphML written by :func:`write_graphml` with ``osmnx.load_graphml``.

    OSMnx types its own attributes (``x``, ``y`` in degrees, ``street_count``, ``osmid``,
    ``length`` in m, ``speed_kph`` in km/h, ``travel_time`` in s) and the geometries; the
    toolkit's numeric edge columns (``length_km`` in km, speeds in km/h, times in h ...) and
    ``schematic`` are typed by :data:`GRAPHML_EDGE_DTYPES`. Other columns stay text.

    Parameters
    ----------
    path : str or pathlib.Path

    Returns
    -------
    networkx.MultiDiGraph
    """
    import osmnx as ox  # heavy, and only this reader needs it

    return ox.load_graphml(Path(path), edge_dtypes=GRAPHML_EDGE_DTYPES)


def ordered_edge_columns(edges: pd.DataFrame) -> list[str]:
    """Return the canonical columns first, then any extra ones, then geometry."""
    extra = [c for c in edges.columns if c not in EDGE_COLUMNS and c != "geometry"]
    return [*EDGE_COLUMNS, *extra, "geometry"]
