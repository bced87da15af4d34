"""The embedded backbone: national and provincial roads and OSM railways as a routable network.

The roads come from the giaothong dataset (national, provincial and district roads, no
expressways), clipped to the 21 study provinces plus 20 km; the railways from OSM (2018), clipped
to the study provinces (the raw layer also holds Chinese lines). Gauge comes from the named
giaothong railway lines: the Hà Nội – Lạng Sơn (Đồng Đăng) line is dual gauge (1,000/1,435 mm),
the others metre gauge. Railway stations of OSM
become station nodes on the rail network, each joined to the nearest road node by a road↔rail
transfer. Expressways and planned links are inserted later from the catalog
(:mod:`network.assemble`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from corridors.layers.region import read_layer
from corridors.network.lengths import RouteSection, true_lengths
from corridors.network.schema import EDGE_COLUMNS
from corridors.network.terrain import add_terrain
from corridors.network.topology import node_lines
from scipy.spatial import cKDTree
from shapely.geometry import LineString

from corridors.core.constants import METRIC_CRS

#: Dangling road ends move onto another end or road within this distance (m).
ROAD_SNAP_M = 1000.0
#: Road components within this distance (m) of the rest are joined by a connector.
ROAD_BRIDGE_M = 5000.0
RAIL_SNAP_M = 500.0
RAIL_BRIDGE_M = 2000.0
#: Roads are kept up to this distance (m) outside the 21 provinces (routes that leave and
#: re-enter the study area stay whole).
ROAD_MARGIN_M = 20_000.0
#: A station farther than this from the railway (m) is left out.
STATION_MAX_M = 1500.0
#: Rail segments within this distance (m) of a named giaothong line take its gauge.
GAUGE_MATCH_M = 1500.0
#: giaothong railway names of dual-gauge lines.
DUAL_GAUGE_LINES = {"Hà Nội - Lạng Sơn"}

LEVEL_CLASS = {"national": "national", "provincial": "provincial", "district": "district"}


@dataclass(frozen=True)
class Backbone:
    """The base network before catalog items are inserted.

    Attributes
    ----------
    nodes : geopandas.GeoDataFrame
        Canonical node table (index ``node``), EPSG:4326.
    edges : geopandas.GeoDataFrame
        Canonical edge table, one row per direction of travel, EPSG:4326.
    report : dict
        Build figures: for the embedded backbone, what snapping changed in the roads and the
        railways (:class:`network.topology.SnapReport`) and the stations placed.
    source : str
        ``"embedded"`` or the path of the OSM extract.
    metric_crs : str
        CRS for distances in this network's area (UTM 48N for Vietnam).
    """

    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    report: dict
    source: str = "embedded"
    metric_crs: str = METRIC_CRS


class _NodeIndex:
    """Assigns int64 ids to (layer, grid x, grid y) keys and remembers their coordinates."""

    def __init__(self, start: int = 0):
        self.ids: dict[tuple, int] = {}
        self.rows: list[dict] = []
        self.next = start

    def get(self, key: tuple, x: float, y: float, kind: str, source: str,
            name: str | None = None, place_id: str | None = None) -> int:
        if key not in self.ids:
            self.ids[key] = self.next
            self.rows.append({"node": self.next, "mx": x, "my": y, "kind": kind, "name": name,
                              "place_id": place_id, "source": source})
            self.next += 1
        return self.ids[key]

    def frame(self) -> gpd.GeoDataFrame:
        df = pd.DataFrame(self.rows).set_index("node")
        pts = gpd.GeoSeries(gpd.points_from_xy(df.pop("mx"), df.pop("my")), crs=METRIC_CRS,
                            index=df.index).to_crs("EPSG:4326")
        df["x"], df["y"] = pts.x, pts.y
        return gpd.GeoDataFrame(df, geometry=pts.values, crs="EPSG:4326")


def both_directions(edges: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``edges`` plus their reverses (u and v swapped, geometry reversed)."""
    rev = edges.copy()
    rev["u"], rev["v"] = edges["v"].values, edges["u"].values
    rev["geometry"] = shapely.reverse(edges.geometry.values)
    out = pd.concat([edges, rev], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=edges.crs)


def empty_columns(edges: pd.DataFrame) -> pd.DataFrame:
    """Add every canonical edge column that ``edges`` lacks (as missing values)."""
    for col in EDGE_COLUMNS:
        if col not in edges.columns:
            edges[col] = None
    return edges


def _segments_to_edges(seg: gpd.GeoDataFrame, index: _NodeIndex, layer: str, mode: str,
                       classes: pd.Series, source: pd.Series) -> gpd.GeoDataFrame:
    u = [index.get((layer, *k), k[0], k[1], "junction", "backbone") for k in seg["u_xy"]]
    v = [index.get((layer, *k), k[0], k[1], "junction", "backbone") for k in seg["v_xy"]]
    e = gpd.GeoDataFrame(
        {"u": u, "v": v, "key": 0, "mode": mode, "class": classes.values,
         "length_km": seg.length.values / 1000, "source": source.values,
         "name": seg["name"].values if "name" in seg else None,
         "ref": seg["ref"].values if "ref" in seg else None,
         "schematic": False},
        geometry=seg.geometry.values, crs=METRIC_CRS,
    )
    e = e[e["u"] != e["v"]]
    return both_directions(empty_columns(e))


def _study_area() -> shapely.Geometry:
    prov = read_layer("provinces_2024").to_crs(METRIC_CRS)
    return shapely.union_all(prov.geometry.values).buffer(2000)


def build_backbone(roads: gpd.GeoDataFrame | None = None,
                   railways: gpd.GeoDataFrame | None = None,
                   dem_paths: Sequence[str | Path] | None = None,
                   route_sections: Sequence[RouteSection] = ()) -> Backbone:
    """Build the base road and rail network of the embedded dataset.

    Parameters
    ----------
    roads, railways : geopandas.GeoDataFrame, optional
        Defaults: the ``roads`` and ``railways_osm`` layers of the embedded dataset.
    dem_paths : sequence of path, optional
        DEMs for the terrain of road edges, in priority order (default: the embedded SRTM tile,
        then the coarse whole-region DEM).
    route_sections : sequence of RouteSection, optional
        Official lengths of route sections: the generalised roads are scaled to them, and every
        other road by the circuity factors by terrain they give
        (:func:`network.lengths.true_lengths`).

    Returns
    -------
    Backbone
        Nodes, edges (both directions), the snapping report and the length report.
    """
    roads = read_layer("roads") if roads is None else roads
    railways = read_layer("railways_osm") if railways is None else railways
    index = _NodeIndex()
    area = _study_area()

    roads_m = roads.to_crs(METRIC_CRS)
    roads_m = roads_m[roads_m.intersects(area.buffer(ROAD_MARGIN_M))].copy()
    roads_m["geometry"] = roads_m.geometry.intersection(area.buffer(ROAD_MARGIN_M))
    roads_m = roads_m[~roads_m.geometry.is_empty]
    road_seg, road_rep = node_lines(roads_m, ROAD_SNAP_M, ROAD_BRIDGE_M)
    is_conn = road_seg["snap_connector"].fillna(False).astype(bool)
    road_cls = road_seg["level"].map(LEVEL_CLASS).where(~is_conn, "connector").fillna("national")
    road_src = ("giaothong:" + road_seg["source_id"].astype(str)).where(~is_conn, "backbone:snap")
    road_edges = _segments_to_edges(road_seg, index, "road", "road", road_cls, road_src)

    rail_m = railways.to_crs(METRIC_CRS)
    rail_m = rail_m[rail_m.intersects(area)].copy()
    rail_m["geometry"] = rail_m.geometry.intersection(area)
    rail_m = rail_m[~rail_m.geometry.is_empty]
    rail_seg, rail_rep = node_lines(rail_m, RAIL_SNAP_M, RAIL_BRIDGE_M)
    rail_cls = _gauge(rail_seg)
    rail_src = ("osm:way/" + rail_seg["osm_id"].astype(str)).where(
        ~rail_seg["snap_connector"].fillna(False).astype(bool), "backbone:snap")
    rail_edges = _segments_to_edges(rail_seg, index, "rail", "rail", rail_cls, rail_src)

    nodes = index.frame()
    edges = pd.concat([road_edges, rail_edges], ignore_index=True)
    edges, nodes, n_stations = _add_stations(edges, nodes, index)
    edges = gpd.GeoDataFrame(edges, geometry="geometry", crs=METRIC_CRS).to_crs("EPSG:4326")
    edges = add_terrain(edges, dem_paths)
    edges, length_rep = true_lengths(edges, route_sections)
    edges = gpd.GeoDataFrame(edges, geometry="geometry", crs="EPSG:4326")
    report = {"roads": asdict(road_rep), "railways": asdict(rail_rep), "stations": n_stations,
              "lengths": asdict(length_rep)}
    return Backbone(nodes=nodes, edges=edges, report=report)


def backbone_from_osm(path: str | Path, *, bbox: tuple[float, float, float, float] | None = None,
                      polygon: shapely.Geometry | None = None,
                      dem_paths: Sequence[str | Path] | None = None) -> Backbone:
    """Build the base network from an OSM extract (``.osm.pbf`` or ``.osm`` XML).

    Parameters
    ----------
    path : str or pathlib.Path
        The extract, for example Geofabrik's ``vietnam-latest.osm.pbf``.
    bbox : tuple, optional
        (west, south, east, north) in degrees: keep only what lies inside.
    polygon : shapely geometry, optional
        Keep only what lies inside (EPSG:4326).
    dem_paths : sequence of path, optional
        DEMs for the terrain of road edges (default: the embedded ones).

    Returns
    -------
    Backbone

    Raises
    ------
    layers.osm.OsmReadError
        If the file is missing, empty, corrupt, of an unsupported kind, holds no road, or does
        not cover the bbox/polygon.
    """
    from corridors.layers.osm import metric_crs_for, read_osm
    from corridors.network.from_osm import network_tables_from_osm

    data = read_osm(path, bbox=bbox, polygon=polygon)
    nodes, edges = network_tables_from_osm(data)
    edges = add_terrain(edges, dem_paths)
    crs = metric_crs_for(data.extent)
    report = {"extent": list(data.extent), "road_edges": int((edges["mode"] == "road").sum()),
              "rail_edges": int((edges["mode"] == "rail").sum()),
              "water_edges": int((edges["mode"] == "water").sum())}
    return Backbone(nodes=nodes, edges=edges, report=report, source=str(path),
                    metric_crs=crs.to_string() if hasattr(crs, "to_string") else str(crs))


def _gauge(rail_seg: gpd.GeoDataFrame) -> pd.Series:
    """Gauge class of each rail segment from the nearest named giaothong line."""
    named = read_layer("railways_giaothong").to_crs(METRIC_CRS)
    dual = named[named["name"].isin(DUAL_GAUGE_LINES)]
    dual_geom = shapely.union_all(dual.geometry.values)
    mids = shapely.line_interpolate_point(rail_seg.geometry.values, 0.5, normalized=True)
    is_dual = shapely.distance(mids, dual_geom) <= GAUGE_MATCH_M
    return pd.Series(np.where(is_dual, "dual", "metre"), index=rail_seg.index)


def _add_stations(edges: pd.DataFrame, nodes: gpd.GeoDataFrame, index: _NodeIndex
                  ) -> tuple[pd.DataFrame, gpd.GeoDataFrame, int]:
    """Mark the rail node nearest each OSM station as a station; join it to the roads."""
    pts = read_layer("transport_points")
    pts = pts[pts["fclass"] == "railway_station"].to_crs(METRIC_CRS)
    nodes_m = nodes.to_crs(METRIC_CRS)
    rail_ids = np.unique(edges.loc[edges["mode"] == "rail", ["u", "v"]].values)
    road_ids = np.unique(edges.loc[edges["mode"] == "road", ["u", "v"]].values)
    rail_xy = np.c_[nodes_m.loc[rail_ids].geometry.x, nodes_m.loc[rail_ids].geometry.y]
    road_xy = np.c_[nodes_m.loc[road_ids].geometry.x, nodes_m.loc[road_ids].geometry.y]
    d_rail, i_rail = cKDTree(rail_xy).query(np.c_[pts.geometry.x, pts.geometry.y])
    road_tree = cKDTree(road_xy)
    transfers = []
    placed = 0
    for (_, st), d, i in zip(pts.iterrows(), d_rail, i_rail, strict=True):
        if d > STATION_MAX_M:
            continue
        node = int(rail_ids[i])
        if nodes.at[node, "kind"] == "station":
            continue  # two OSM points for one station
        nodes.at[node, "kind"] = "station"
        nodes.at[node, "name"] = st["name"]
        nodes.at[node, "source"] = f"osm:node/{st['osm_id']}"
        placed += 1
        dr, j = road_tree.query(rail_xy[i])
        road = int(road_ids[j])
        transfers.append({"u": node, "v": road, "key": 0, "mode": "transfer",
                          "class": "road_rail", "length_km": dr / 1000, "source": "transfer",
                          "schematic": True,
                          "geometry": LineString([rail_xy[i], road_xy[j]])})
    tr = gpd.GeoDataFrame(transfers, geometry="geometry", crs=METRIC_CRS)
    edges = pd.concat([edges, both_directions(empty_columns(tr))], ignore_index=True)
    return edges, nodes, placed
