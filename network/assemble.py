"""Insert facilities and links (expressways, railways, waterways, air routes) into a backbone.

Each facility open in the year becomes a node joined to the nearest road node: gates and cities
by a road connector, ports by a road↔water transfer, airports by a road↔air transfer, dry ports by
a road connector and a rail↔road transfer to the nearest railway node. Each link open in the year
is drawn through its waypoints (schematic geometry); where the catalog gives an official length,
the edge lengths are scaled so that the link's total equals it. A road link's waypoints join the
roads; a rail link's waypoints are stations joined to the roads; a waterway's waypoints are ports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.spatial import cKDTree
from shapely.geometry import LineString, Point

from network.backbone import Backbone, both_directions, empty_columns
from network.schema import METRIC_CRS
from network.specs import Facility, LinkSpec

#: A waypoint or facility farther than this from the road network (km) is not joined to it.
MAX_JOIN_KM = 25.0

_TO_M = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)

_FACILITY_JOIN = {
    "gate": ("road", "connector"),
    "place": ("road", "connector"),
    "port": ("transfer", "road_water"),
    "airport": ("transfer", "road_air"),
    "dry_port": ("transfer", "road_dry_port"),
    "station": ("transfer", "road_rail"),
}
_WAYPOINT_KIND = {"road": "junction", "rail": "station", "water": "port", "air": "airport"}


@dataclass
class AssemblyReport:
    """What :func:`assemble` inserted and what it could not place.

    Attributes
    ----------
    facilities, links : list of str
        Ids inserted.
    upgrades : list of str
        Ids of widening/upgrade specs applied to existing links.
    not_joined : list of tuple
        (id, distance km) of facilities and waypoints farther than :data:`MAX_JOIN_KM` from the
        network, left unjoined.
    """

    facilities: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    upgrades: list[str] = field(default_factory=list)
    not_joined: list[tuple[str, float]] = field(default_factory=list)


def _is_open(open_year: int | None, year: int) -> bool:
    return open_year is None or open_year <= year


class _Builder:
    def __init__(self, backbone: Backbone):
        self.nodes = backbone.nodes.copy()
        self.new_nodes: list[dict] = []
        self.new_edges: list[dict] = []
        self.next_id = int(self.nodes.index.max()) + 1
        e = backbone.edges
        nm = self.nodes.to_crs(METRIC_CRS)
        self.xy = {m: None for m in ("road", "rail")}
        for mode in ("road", "rail"):
            ids = np.unique(e.loc[e["mode"] == mode, ["u", "v"]].values)
            pts = nm.loc[ids].geometry
            self.xy[mode] = (ids, np.c_[pts.x, pts.y], cKDTree(np.c_[pts.x, pts.y]))
        self.by_place: dict[str, int] = {}
        self.report = AssemblyReport()

    def node(self, lon: float, lat: float, kind: str, name: str, place_id: str | None,
             source: str, attrs: dict | None = None) -> int:
        nid = self.next_id
        self.next_id += 1
        self.new_nodes.append({"node": nid, "x": lon, "y": lat, "kind": kind, "name": name,
                               "place_id": place_id, "source": source, **(attrs or {})})
        if place_id:
            self.by_place[place_id] = nid
        return nid

    def edge(self, u: int, v: int, a: tuple[float, float], b: tuple[float, float], mode: str,
             cls: str, length_km: float, source: str, project: str | None = None,
             open_year: int | None = None, **extra) -> None:
        self.new_edges.append({"u": u, "v": v, "key": 0, "mode": mode, "class": cls,
                               "length_km": length_km, "source": source, "project": project,
                               "open_year": open_year, "schematic": True,
                               "geometry": LineString([a, b]), **extra})

    def join(self, nid: int, lon: float, lat: float, network: str, mode: str, cls: str,
             label: str) -> None:
        """Join a node to the nearest node of the road or rail network."""
        ids, xy, tree = self.xy[network]
        mx, my = _TO_M.transform(lon, lat)
        d, i = tree.query((mx, my))
        if d / 1000 > MAX_JOIN_KM:
            self.report.not_joined.append((label, round(d / 1000, 1)))
            return
        target = int(ids[i])
        tx, ty = self.nodes.at[target, "x"], self.nodes.at[target, "y"]
        self.edge(nid, target, (lon, lat), (tx, ty), mode, cls, d / 1000, "join")

    def facility(self, f: Facility) -> None:
        nid = self.node(f.lon, f.lat, f.kind, f.name, f.id, f"catalog:{f.id}", f.attrs)
        mode, cls = _FACILITY_JOIN.get(f.kind, ("road", "connector"))
        self.join(nid, f.lon, f.lat, "road", mode, cls, f.id)
        if f.kind == "dry_port":
            self.join(nid, f.lon, f.lat, "rail", "transfer", "road_rail", f.id)
        self.report.facilities.append(f.id)

    def link(self, spec: LinkSpec) -> None:
        place_ids = list(spec.place_ids) + [None] * (len(spec.points) - len(spec.place_ids))
        ids: list[int] = []
        for k, ((lon, lat), pid) in enumerate(zip(spec.points, place_ids, strict=True)):
            if pid and pid in self.by_place:
                ids.append(self.by_place[pid])
                continue
            kind = _WAYPOINT_KIND[spec.mode]
            nid = self.node(lon, lat, kind, f"{spec.name} #{k + 1}", None,
                            f"catalog:{spec.id}")
            ids.append(nid)
            if spec.mode == "road":
                self.join(nid, lon, lat, "road", "road", "connector", f"{spec.id}#{k + 1}")
            elif spec.mode == "rail":
                self.join(nid, lon, lat, "road", "transfer", "road_rail", f"{spec.id}#{k + 1}")
                if spec.link_class != "standard":  # metre/dual links share the old network
                    self.join(nid, lon, lat, "rail", "rail", "connector", f"{spec.id}#{k + 1}")
            elif spec.mode == "water":
                self.join(nid, lon, lat, "road", "transfer", "road_water", f"{spec.id}#{k + 1}")
            elif spec.mode == "air":
                self.join(nid, lon, lat, "road", "transfer", "road_air", f"{spec.id}#{k + 1}")
        pts_m = [Point(_TO_M.transform(lon, lat)) for lon, lat in spec.points]
        legs = [a.distance(b) / 1000 for a, b in zip(pts_m[:-1], pts_m[1:], strict=True)]
        total = sum(legs)
        scale = spec.length_km / total if spec.length_km and total > 0 else 1.0
        for k, leg in enumerate(legs):
            self.edge(ids[k], ids[k + 1], spec.points[k], spec.points[k + 1], spec.mode,
                      spec.link_class, leg * scale, f"catalog:{spec.id}", spec.id,
                      spec.open_year, lanes=spec.lanes, design_speed_kmh=spec.design_speed_kmh,
                      name=spec.name)
        self.report.links.append(spec.id)

    def result(self, base_edges: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        nodes = self.nodes
        if self.new_nodes:
            add = pd.DataFrame(self.new_nodes).set_index("node")
            add = gpd.GeoDataFrame(add, geometry=gpd.points_from_xy(add["x"], add["y"]),
                                   crs="EPSG:4326")
            nodes = gpd.GeoDataFrame(pd.concat([nodes, add]), geometry="geometry",
                                     crs="EPSG:4326")
        edges = base_edges
        if self.new_edges:
            new = gpd.GeoDataFrame(self.new_edges, geometry="geometry", crs="EPSG:4326")
            new = both_directions(empty_columns(new))
            edges = gpd.GeoDataFrame(pd.concat([base_edges, new], ignore_index=True),
                                     geometry="geometry", crs="EPSG:4326")
        return nodes, edges


def assemble(backbone: Backbone, facilities: Iterable[Facility], links: Iterable[LinkSpec],
             year: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, AssemblyReport]:
    """Return the network of ``year``: the backbone plus what is open by then.

    Parameters
    ----------
    backbone : Backbone
        The base network.
    facilities : iterable of Facility
        Gates, ports, dry ports, airports and places; those with ``open_year`` after ``year``
        are left out.
    links : iterable of LinkSpec
        Expressways, railways, waterways and air routes; those opening after ``year`` are left
        out. Specs with ``upgrades`` change the design speed and lanes of the edges of the link
        they name instead of adding edges.
    year : int
        The year of the network.

    Returns
    -------
    nodes, edges : geopandas.GeoDataFrame
        Canonical tables (EPSG:4326); edges in both directions.
    report : AssemblyReport
    """
    b = _Builder(backbone)
    for f in facilities:
        if _is_open(f.open_year, year):
            b.facility(f)
    links = [s for s in links if _is_open(s.open_year, year)]
    for spec in links:
        if spec.upgrades is None:
            b.link(spec)
    nodes, edges = b.result(backbone.edges)
    for spec in links:
        if spec.upgrades is not None:
            hit = edges["project"] == spec.upgrades
            if spec.design_speed_kmh is not None:
                edges.loc[hit, "design_speed_kmh"] = spec.design_speed_kmh
            if spec.lanes is not None:
                edges.loc[hit, "lanes"] = spec.lanes
            edges.loc[hit, "upgraded_by"] = spec.id
            b.report.upgrades.append(spec.id)
    return nodes, edges, b.report
