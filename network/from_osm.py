r"""Canonical node and edge tables (:mod:`network.schema`) from the layers of an OSM extract.

:func:`network_tables_from_osm` turns an :class:`layers.osm.OsmData` into the two tables every
network builder produces.

Road classes
    OSM ``highway`` → schema ``class``:

    ===========================  ============  ================================================
    highway                      class         why
    ===========================  ============  ================================================
    motorway                     expressway    Vietnam's expressways (cao tốc, CT.xx)
    trunk, primary               national      national roads (quốc lộ, QL) are tagged trunk or
                                               primary in Vietnamese OSM
    secondary                    provincial    provincial roads (đường tỉnh, ĐT)
    tertiary                     district      district roads (đường huyện, ĐH) and main
                                               urban streets
    \*_link                       link          ramps and slip roads of any class
    ===========================  ============  ================================================

Node ids (int64)
    Road nodes keep their OSM node id (positive). Every other node gets a negative id
    ``-(namespace * 10**12 + osm id)`` that cannot clash with an OSM node id (those are far
    below 10**12) nor with another namespace: railways 1, waterways 2, aerodromes 3 (OSM node),
    4 (way), 5 (relation), border controls 6. Railway and waterway nodes get their own id even
    where the OSM node is also on a road (a level crossing, a ford, a bridge end): a route
    changes mode only through a ``transfer`` edge, never at a crossing.

Directions
    Roads: both directions unless ``oneway`` is yes/true/1 (digitised direction only) or
    -1/reverse (reversed only), or ``junction`` is roundabout/circular without ``oneway=no``.
    ``highway=motorway`` is not assumed one-way: divided expressways carry ``oneway=yes`` on
    each carriageway, and an untagged single carriageway is safer kept two-way. Railways,
    waterways and transfers: both directions.

Other columns
    ``maxspeed_kmh`` is parsed from the ``maxspeed`` tag (:func:`parse_maxspeed`), ``lanes``
    from ``lanes`` (:func:`parse_lanes`: a Python int where tagged, else None); design and
    operating speeds, times and ``terrain`` are left missing for other modules to assign.
    ``cost_vnd_truck`` is 0 on roads, railways and waterways and missing on transfers (their
    handling cost is not in OSM). ``project`` and ``open_year`` are None (the base network),
    ``schematic`` False (surveyed geometry). ``name`` and ``ref`` (e.g. ``QL.4D``) are kept
    beside the canonical columns.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from corridors.layers.osm import ROAD_SNAP_M, OsmData, metric_crs_for
from corridors.network.schema import EDGE_COLUMNS, NODE_COLUMNS
from scipy.spatial import cKDTree

log = logging.getLogger(__name__)

#: OSM ``highway`` → schema road class (see the module docstring for why).
HIGHWAY_CLASS: dict[str, str] = {
    "motorway": "expressway",
    "trunk": "national",
    "primary": "national",
    "secondary": "provincial",
    "tertiary": "district",
    "motorway_link": "link",
    "trunk_link": "link",
    "primary_link": "link",
    "secondary_link": "link",
    "tertiary_link": "link",
}
#: ``railway`` values that become rail edges (main-line railways; trams, metros and light
#: rail stay in :attr:`layers.osm.OsmData.railways` only).
NETWORK_RAILWAYS: tuple[str, ...] = ("rail", "narrow_gauge")
#: Gauges (mm) of the schema's rail classes.
METRE_MM, STANDARD_MM = 1000, 1435
#: Farthest an aerodrome or border control may be from a road node to get a transfer edge (km).
TRANSFER_REACH_KM = ROAD_SNAP_M / 1000.0
#: Base of the id namespaces of non-road nodes (see the module docstring).
ID_BASE = 10**12
NAMESPACE = {"rail": 1, "water": 2, "airport_node": 3, "airport_way": 4,
             "airport_relation": 5, "gate": 6}
#: Extra edge columns kept beside :data:`network.schema.EDGE_COLUMNS`.
EXTRA_EDGE_COLUMNS = ["name", "ref"]

_MPH_KMH = 1.609344
_KNOT_KMH = 1.852
_SPEED = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$", re.IGNORECASE)
_FORWARD = frozenset({"yes", "true", "1"})
_BACKWARD = frozenset({"-1", "reverse"})
_ROUNDABOUT = frozenset({"roundabout", "circular"})


def network_tables_from_osm(data: OsmData, *, rail_types: tuple[str, ...] = NETWORK_RAILWAYS,
                            navigable_only: bool = False
                            ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Build the canonical node and edge tables of an OSM extract.

    Parameters
    ----------
    data : layers.osm.OsmData
        Layers read by :func:`layers.osm.read_osm`.
    rail_types : tuple of str, optional
        ``railway`` values that become rail edges; default main-line railways
        (:data:`NETWORK_RAILWAYS`).
    navigable_only : bool, optional
        Keep only the waterways with a ``CEMT`` class or ``ship``/``boat``/``motorboat`` access
        other than ``no``; default False keeps every river and canal.

    Returns
    -------
    nodes : geopandas.GeoDataFrame
        Index ``node`` (int64, see the module docstring), :data:`network.schema.NODE_COLUMNS`
        and point geometry, EPSG:4326. Kinds: ``junction`` (road, rail and water nodes),
        ``station`` (railway nodes at a station), ``airport``, ``gate`` (border controls).
    edges : geopandas.GeoDataFrame
        One row per direction of travel with every column of
        :data:`network.schema.EDGE_COLUMNS` plus ``name`` and ``ref``, LineStrings in the
        direction of travel, EPSG:4326. ``length_km`` is measured in a metric CRS
        (:func:`layers.osm.metric_crs_for`): UTM 48N for Vietnam, the local UTM zone
        elsewhere; transfers have the straight distance (km).
    """
    crs = metric_crs_for(data.extent)
    road = _road_edges(data.road_edges)
    rail = _rail_edges(data.railways, rail_types)
    water = _water_edges(data.waterways, navigable_only)
    nodes = pd.concat([_road_nodes(data.road_nodes), _line_nodes(rail, "rail"),
                       _line_nodes(water, "water")])
    nodes = _mark_stations(nodes, data)
    gates = pd.concat([_point_nodes(data.aerodromes, "airport"),
                       _point_nodes(data.border_controls, "gate")])
    transfers = _transfer_edges(gates, _road_nodes(data.road_nodes), crs)
    lines = [e for e in (road, rail, water) if not e.empty]
    for frame in lines:
        frame["length_km"] = _lengths_km(frame["geometry"], crs)
    edges = pd.concat(lines + ([transfers] if not transfers.empty else []), ignore_index=True)
    nodes = pd.concat([nodes, gates])
    return _finish_nodes(nodes), _finish_edges(edges)


# --------------------------------------------------------------------------------------------
# tag parsing
# --------------------------------------------------------------------------------------------

def parse_maxspeed(value: object) -> float:
    """Parse an OSM ``maxspeed`` tag into km/h.

    Parameters
    ----------
    value : object
        The tag's text, e.g. ``"50"``, ``"50 km/h"``, ``"30 mph"``, ``"10 knots"``,
        ``"50;60"`` (several values: the lowest), ``"VN:urban"``, ``"none"``, ``"walk"``.

    Returns
    -------
    float
        Speed in km/h (mph and knots converted); NaN where the tag is missing or not numeric
        (zone codes such as ``"VN:urban"`` or ``"RU:rural"``, ``"none"``, ``"signals"``):
        the legal limit behind a zone code depends on the vehicle and the year, so it is left
        to the module that assigns speeds.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return float("nan")
    speeds = [_one_speed(part) for part in str(value).split(";")]
    speeds = [s for s in speeds if not np.isnan(s)]
    return min(speeds) if speeds else float("nan")


def _one_speed(text: str) -> float:
    """Parse one ``maxspeed`` value (no ``;``) into km/h, NaN when not numeric."""
    match = _SPEED.match(text)
    if not match:
        return float("nan")
    speed = float(match.group(1).replace(",", "."))
    unit = (match.group(2) or "").lower()
    if unit == "mph":
        speed *= _MPH_KMH
    elif unit == "knots":
        speed *= _KNOT_KMH
    return speed if speed > 0 else float("nan")


def parse_lanes(value: object) -> int | None:
    """Parse an OSM ``lanes`` tag (both directions together) into an int.

    Parameters
    ----------
    value : object
        The tag's text, e.g. ``"2"``; with several values (``"2;3"``) the first is taken.

    Returns
    -------
    int or None
        The number of lanes, None where missing or not a positive integer.
    """
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    match = re.match(r"^\s*(\d+)", str(value))
    if not match or int(match.group(1)) <= 0:
        return None
    return int(match.group(1))


def rail_class(gauge: object) -> str:
    """Map an OSM ``gauge`` tag to the schema's rail class.

    Parameters
    ----------
    gauge : object
        The tag's text in mm, e.g. ``"1000"``, ``"1435"``, ``"1000;1435"`` (dual gauge).

    Returns
    -------
    str
        ``"metre"`` (1000 mm), ``"standard"`` (1435 mm) or ``"dual"`` (both). Any other or
        missing gauge is treated as ``"metre"``, Vietnam's network gauge: the caller logs how
        many edges this concerns.
    """
    gauges = {int(g) for g in re.findall(r"\d+", "" if _absent(gauge) else str(gauge))}
    if {METRE_MM, STANDARD_MM} <= gauges:
        return "dual"
    if STANDARD_MM in gauges and len(gauges) == 1:
        return "standard"
    return "metre"


def _known_gauge(gauge: object) -> bool:
    """Return True where the gauge is one of the schema's (1000, 1435 or both)."""
    gauges = {int(g) for g in re.findall(r"\d+", "" if _absent(gauge) else str(gauge))}
    return bool(gauges) and gauges <= {METRE_MM, STANDARD_MM}


def _absent(value: object) -> bool:
    """Return True for None, NaN and pandas' NA."""
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def _direction(oneway: object, junction: object) -> str:
    """Return ``"both"``, ``"forward"`` or ``"backward"`` for a road's tags."""
    ow = "" if _absent(oneway) else str(oneway).strip().lower()
    if ow in _FORWARD:
        return "forward"
    if ow in _BACKWARD:
        return "backward"
    jn = "" if _absent(junction) else str(junction).strip().lower()
    if jn in _ROUNDABOUT and ow != "no":
        return "forward"
    return "both"


# --------------------------------------------------------------------------------------------
# edges
# --------------------------------------------------------------------------------------------

def _lengths_km(geometry: pd.Series, crs) -> np.ndarray:
    """Lengths (km) of EPSG:4326 lines measured in the metric ``crs``."""
    return gpd.GeoSeries(geometry.to_numpy(), crs="EPSG:4326").to_crs(crs).length.to_numpy() / 1e3


def _reverse(edges: pd.DataFrame) -> pd.DataFrame:
    """Return ``edges`` with u and v swapped and geometries reversed."""
    rev = edges.copy()
    rev["u"], rev["v"] = edges["v"].to_numpy(), edges["u"].to_numpy()
    rev["geometry"] = shapely.reverse(np.asarray(edges["geometry"].to_numpy()))
    return rev


def _base_edges(layer: gpd.GeoDataFrame, mode: str, classes: pd.Series) -> pd.DataFrame:
    """Edge rows (digitised direction) with the columns common to every line mode."""
    name = layer["name"] if "name" in layer.columns else pd.Series(None, index=layer.index)
    ref = layer["ref"] if "ref" in layer.columns else pd.Series(None, index=layer.index)
    return pd.DataFrame({
        "u": layer["u"].to_numpy(np.int64), "v": layer["v"].to_numpy(np.int64),
        "mode": mode, "class": classes.to_numpy(),
        "source": "osm:way/" + layer["osm_id"].astype(np.int64).astype(str).to_numpy(),
        "name": name.to_numpy(object), "ref": ref.to_numpy(object),
        "geometry": layer.geometry.to_numpy(),
    })


def _road_edges(roads: gpd.GeoDataFrame) -> pd.DataFrame:
    """Road edges, one row per direction of travel."""
    if roads.empty:
        raise ValueError("the OSM data hold no road edge (read_osm never returns such data)")
    base = _base_edges(roads, "road", roads["highway"].map(HIGHWAY_CLASS))
    base["maxspeed_kmh"] = [parse_maxspeed(v) for v in roads["maxspeed"]]
    base["lanes"] = pd.Series([parse_lanes(v) for v in roads["lanes"]], dtype=object)
    direction = np.array([_direction(o, j) for o, j in zip(roads["oneway"], roads["junction"],
                                                           strict=True)])
    forward = base[direction != "backward"]
    backward = _reverse(base[direction != "forward"])
    return pd.concat([forward, backward], ignore_index=True)


def _rail_edges(railways: gpd.GeoDataFrame, rail_types: tuple[str, ...]) -> pd.DataFrame:
    """Rail edges of ``rail_types`` in both directions, ids in the rail namespace."""
    rail = railways[railways["railway"].isin(rail_types)] if not railways.empty else railways
    if rail.empty:
        return pd.DataFrame()
    unknown = ~rail["gauge"].map(_known_gauge)
    if unknown.any():
        gauges = sorted({str(g) for g in rail.loc[unknown, "gauge"]})
        log.warning("%d of %d rail edges have no or another gauge (%s): treated as metre gauge",
                    int(unknown.sum()), len(rail), ", ".join(gauges))
    base = _base_edges(rail, "rail", rail["gauge"].map(rail_class))
    base["u"], base["v"] = _ns(base["u"], "rail"), _ns(base["v"], "rail")
    return pd.concat([base, _reverse(base)], ignore_index=True)


def _navigable(waterways: gpd.GeoDataFrame) -> pd.Series:
    """Return True for waterways with a CEMT class or ship/boat access other than no."""
    flag = waterways["CEMT"].notna()
    for tag in ("ship", "boat", "motorboat"):
        flag |= waterways[tag].notna() & (waterways[tag].astype(str).str.lower() != "no")
    return flag


def _water_edges(waterways: gpd.GeoDataFrame, navigable_only: bool) -> pd.DataFrame:
    """Water edges (class river, canals included) in both directions."""
    water = waterways[_navigable(waterways)] if navigable_only else waterways
    if water.empty:
        return pd.DataFrame()
    base = _base_edges(water, "water", pd.Series("river", index=water.index))
    base["u"], base["v"] = _ns(base["u"], "water"), _ns(base["v"], "water")
    return pd.concat([base, _reverse(base)], ignore_index=True)


def _transfer_edges(points: pd.DataFrame, road_nodes: pd.DataFrame, crs) -> pd.DataFrame:
    """Transfer edges (both directions) from each airport or gate node to a road node.

    The road node is the one :func:`layers.osm.read_osm` attached the point to (column
    ``road_node``), else the nearest road node; either only within :data:`TRANSFER_REACH_KM`.
    """
    if points.empty or road_nodes.empty:
        return pd.DataFrame()
    pts = gpd.GeoSeries(points["geometry"].to_numpy(), crs="EPSG:4326").to_crs(crs)
    road = gpd.GeoSeries(road_nodes["geometry"].to_numpy(), crs="EPSG:4326").to_crs(crs)
    _, idx = cKDTree(np.column_stack([road.x, road.y])).query(np.column_stack([pts.x, pts.y]))
    target = road_nodes.index.to_numpy(np.int64)[idx]
    attached = points["road_node"].astype("Int64")
    usable = (~attached.isna() & attached.isin(road_nodes.index)).to_numpy()
    target = np.where(usable, attached.to_numpy(dtype=np.int64, na_value=0), target)
    road_pts = road.iloc[road_nodes.index.get_indexer(pd.Index(target))]
    dist = pts.distance(road_pts.set_axis(pts.index)).to_numpy()
    near = dist <= TRANSFER_REACH_KM * 1000.0
    if (~near).any():
        log.warning("%d airport/gate node(s) farther than %.0f km from a road node: not linked",
                    int((~near).sum()), TRANSFER_REACH_KM)
    sel, road_ids = points[near], target[near]
    lines = shapely.linestrings(np.stack([
        np.column_stack([sel["x"], sel["y"]]),
        road_nodes.loc[road_ids, ["x", "y"]].to_numpy()], axis=1))
    cls = np.where(sel["kind"].to_numpy() == "airport", "road_air", "border")
    out = pd.DataFrame({"u": sel.index.to_numpy(np.int64), "v": road_ids, "mode": "transfer",
                        "class": cls, "length_km": dist[near] / 1000.0, "source": "transfer",
                        "name": sel["name"].to_numpy(object), "ref": None, "geometry": lines})
    return pd.concat([out, _reverse(out)], ignore_index=True)


def _finish_edges(edges: pd.DataFrame) -> gpd.GeoDataFrame:
    """Fill the canonical columns, number parallel edges and order the columns."""
    edges = edges.reset_index(drop=True)
    transfer = (edges["mode"] == "transfer").to_numpy()
    fills = {"terrain": None, "design_speed_kmh": np.nan, "maxspeed_kmh": np.nan,
             "speed_kmh_car": np.nan, "speed_kmh_truck": np.nan, "time_h_car": np.nan,
             "time_h_truck": np.nan, "project": None, "open_year": None, "schematic": False}
    for col, value in fills.items():
        if col not in edges.columns:
            edges[col] = value
    edges["maxspeed_kmh"] = edges["maxspeed_kmh"].astype(float)
    lanes = edges["lanes"] if "lanes" in edges.columns else pd.Series(None, index=edges.index)
    edges["lanes"] = pd.Series([None if _absent(n) else int(n) for n in lanes], dtype=object,
                               index=edges.index)  # int where tagged, else None
    edges["cost_vnd_truck"] = np.where(transfer, np.nan, 0.0)
    edges["u"], edges["v"] = edges["u"].astype(np.int64), edges["v"].astype(np.int64)
    edges["key"] = edges.groupby(["u", "v"]).cumcount().astype(np.int64)
    edges["schematic"] = edges["schematic"].fillna(False).astype(bool)
    cols = EDGE_COLUMNS + EXTRA_EDGE_COLUMNS + ["geometry"]
    return gpd.GeoDataFrame(edges[cols], geometry="geometry", crs="EPSG:4326")


# --------------------------------------------------------------------------------------------
# nodes
# --------------------------------------------------------------------------------------------

def _ns(osm_ids: pd.Series | np.ndarray | Sequence[int], namespace: str) -> np.ndarray:
    """Map OSM ids into a negative id namespace (see the module docstring)."""
    return -(NAMESPACE[namespace] * ID_BASE + np.asarray(osm_ids, dtype=np.int64))


def _road_nodes(road_nodes: gpd.GeoDataFrame) -> pd.DataFrame:
    """Road junction nodes indexed by their OSM node id."""
    ids = road_nodes["id"].to_numpy(np.int64)
    return pd.DataFrame({
        "x": road_nodes["x"].to_numpy(float), "y": road_nodes["y"].to_numpy(float),
        "kind": "junction", "name": None, "place_id": None,
        "source": ["osm:node/" + str(i) for i in ids],
        "geometry": road_nodes.geometry.to_numpy()}, index=pd.Index(ids, name="node"))


def _line_nodes(edges: pd.DataFrame, namespace: str) -> pd.DataFrame:
    """Nodes at the ends of rail or water edges (ids already in ``namespace``)."""
    if edges.empty:
        return pd.DataFrame(columns=NODE_COLUMNS + ["geometry"])
    starts = shapely.get_point(np.asarray(edges["geometry"].to_numpy()), 0)
    table = pd.DataFrame({"node": edges["u"].to_numpy(np.int64), "geometry": starts})
    table = table.drop_duplicates("node").set_index("node")
    osm_ids = -(table.index.to_numpy(np.int64)) - NAMESPACE[namespace] * ID_BASE
    return pd.DataFrame({
        "x": shapely.get_x(table["geometry"].to_numpy()),
        "y": shapely.get_y(table["geometry"].to_numpy()),
        "kind": "junction", "name": None, "place_id": None,
        "source": ["osm:node/" + str(i) for i in osm_ids],
        "geometry": table["geometry"].to_numpy()}, index=table.index)


def _mark_stations(nodes: pd.DataFrame, data: OsmData) -> pd.DataFrame:
    """Turn the railway nodes at stations into ``station`` nodes with the station's name."""
    st = data.rail_stations.dropna(subset=["rail_node"])
    if st.empty:
        return nodes
    ids = _ns(st["rail_node"].astype(np.int64), "rail")
    present = np.isin(ids, nodes.index.to_numpy())
    nodes = nodes.copy()
    nodes.loc[ids[present], "kind"] = "station"
    nodes.loc[ids[present], "name"] = st["name"].to_numpy(object)[present]
    return nodes


def _point_nodes(points: gpd.GeoDataFrame, kind: str) -> pd.DataFrame:
    """Airport or gate nodes from aerodromes or border controls."""
    if points.empty:
        return pd.DataFrame(columns=NODE_COLUMNS + ["geometry", "road_node"])
    osm_type = (points["osm_type"].astype(str) if "osm_type" in points.columns
                else pd.Series("node", index=points.index))
    spaces = ("airport_" + osm_type) if kind == "airport" else pd.Series("gate", points.index)
    ids = np.array([_ns([i], s)[0] for i, s in zip(points["osm_id"], spaces, strict=True)],
                   dtype=np.int64)
    return pd.DataFrame({
        "x": points.geometry.x.to_numpy(), "y": points.geometry.y.to_numpy(), "kind": kind,
        "name": points["name"].to_numpy(object), "place_id": None,
        "source": [f"osm:{t}/{i}" for t, i in zip(osm_type, points["osm_id"], strict=True)],
        "geometry": points.geometry.to_numpy(),
        "road_node": (pd.array(points["road_node"], dtype="Int64") if "road_node" in points
                      else pd.array([pd.NA] * len(points), dtype="Int64"))},
        index=pd.Index(ids, name="node"))


def _finish_nodes(nodes: pd.DataFrame) -> gpd.GeoDataFrame:
    """Drop duplicate ids, set dtypes and order the columns."""
    nodes = nodes[~nodes.index.duplicated()]
    nodes.index = pd.Index(nodes.index.to_numpy(np.int64), name="node")
    nodes = nodes.astype({"x": float, "y": float})
    return gpd.GeoDataFrame(nodes[NODE_COLUMNS + ["geometry"]], geometry="geometry",
                            crs="EPSG:4326")
