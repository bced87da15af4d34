"""Insert facilities and links (expressways, railways, waterways, air routes) into a backbone.

:func:`assemble` inserts *everything* it is given, whatever the year, and tags each edge and node
with the project (``project``) that brings it and, for the edges a widening replaces, the project
that supersedes them (``superseded_by``). The network of a year, or of any set of projects, is
then a mask over this one "master" network (:func:`active_edges`), so that the 2025 and 2030
networks, and the variants of per-project attribution, all come from one assembly.

Each facility becomes a node joined to the nearest point of the roads (the road edge is split
there): gates and cities by a road connector, ports by a road↔water transfer, airports by a
road↔air transfer, dry ports by a road↔dry-port transfer and a rail↔road transfer to the nearest
railway. Each link is drawn through its waypoints (schematic geometry); where the catalog gives an
official length, the edge lengths are scaled so that the link's total equals it; elsewhere they
take the median ratio official / straight length of the links of the same mode that have one.
A road link's waypoints join the roads; a rail link's waypoints are stations joined to the
roads; a waterway's waypoints are ports. A widening (``upgrades``) adds a copy of the edges of
the link it widens, with the new standard, and marks the originals as superseded by it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from corridors.network.backbone import Backbone, both_directions, empty_columns
from corridors.network.specs import Facility, LinkSpec
from pyproj import Transformer
from shapely.geometry import LineString, Point
from shapely.ops import substring

#: A waypoint or facility farther than this from the road network (km) is not joined to it.
MAX_JOIN_KM = 25.0
#: Border gates are road crossings by definition: they are joined however far the nearest road
#: of the data is (the distance is reported), up to this limit (km).
MAX_GATE_JOIN_KM = 150.0
#: A town or city is joined to every national or provincial road (one join per route number)
#: that passes within this distance (km) of its point, not only to the nearest: the roads that
#: run through a town meet in its streets, and the skeleton of roads has no junction there when
#: two of them pass on either side of the centre (QL12 and ĐT279 in Điện Biên Phủ).
PLACE_SERVE_KM = 2.0
#: Classes of the roads a town is joined to by PLACE_SERVE_KM (never an expressway: those meet
#: other roads at interchanges only).
SERVE_CLASSES = frozenset({"national", "provincial"})
#: Join connectors are straight; the road they stand for is longer. Length factor (assumption:
#: a typical circuity of rural roads in hilly terrain).
CONNECTOR_CIRCUITY = 1.3


#: A road link that ends near a town or city (not at it) is joined to it by an access road when
#: the town lies within this distance (km): the access road of a town it serves.
ACCESS_KM = 12.0
#: Shortest access road (km): a waypoint drawn at the town's own point is a few streets away.
MIN_ACCESS_KM = 0.1

#: Fewest links with an official length to derive a mode's schematic circuity from.
MIN_CIRCUITY_LINKS = 3

#: How a facility's (landside) node joins the roads. Handling times belong to changing mode,
#: not to arriving: a truck reaches a port by road; the road↔water transfer (with its handling
#: time) links the landside node to the water-side node where barges call.
_FACILITY_JOIN = {
    "gate": ("road", "connector"),
    "place": ("road", "connector"),
    "port": ("road", "connector"),
    "airport": ("road", "connector"),
    "dry_port": ("road", "connector"),
    "station": ("transfer", "road_rail"),
}
#: Transfer class between a facility's landside node and the node of another mode.
_SIDE_TRANSFER = {"rail": "road_rail", "water": "road_water", "air": "road_air"}
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
    join_km : list of tuple
        (id, distance km) from each joined facility or waypoint to the point of the network it
        was joined to.
    tags : dict
        Item id (facility, link, upgrade, waypoint label) to the project tag it depends on
        (None for items present in every year); :meth:`for_projects` uses it.
    """

    facilities: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    upgrades: list[str] = field(default_factory=list)
    not_joined: list[tuple[str, float | str]] = field(default_factory=list)
    join_km: list[tuple[str, float]] = field(default_factory=list)
    tags: dict[str, str | None] = field(default_factory=dict)
    schematic_circuity: dict[str, float] = field(default_factory=dict)
    access: list[tuple[str, str, float]] = field(default_factory=list)

    def for_projects(self, active: set[str]) -> AssemblyReport:
        """Return the report restricted to the items present when ``active`` projects are."""
        def keep(item: str) -> bool:
            tag = self.tags.get(item.split("#")[0].split(" (")[0])
            return tag is None or tag in active

        return AssemblyReport(
            facilities=[f for f in self.facilities if keep(f)],
            links=[s for s in self.links if keep(s)],
            upgrades=[u for u in self.upgrades if keep(u)],
            not_joined=[x for x in self.not_joined if keep(x[0])],
            join_km=[x for x in self.join_km if keep(x[0])],
            tags=self.tags, schematic_circuity=self.schematic_circuity,
            access=[x for x in self.access if keep(x[0])],
        )


def active_edges(edges: pd.DataFrame, active: set[str]) -> np.ndarray:
    """Return the mask of the edges present when the ``active`` projects are built.

    An edge is present if it belongs to no project or to an active one, and no active project
    supersedes it (a widening replaces the edges of the link it widens).
    """
    project = edges["project"]
    superseded = edges.get("superseded_by")
    mask = project.isna().to_numpy() | project.isin(active).to_numpy()
    if superseded is not None:
        mask &= ~superseded.isin(active).to_numpy()
    return mask


def projects_open_by(edges: pd.DataFrame, year: int) -> set[str]:
    """Return the project tags of the edges whose opening year is ``year`` or earlier."""
    tagged = edges.loc[edges["project"].notna(), ["project", "open_year"]]
    years = pd.to_numeric(tagged["open_year"], errors="coerce")
    return set(tagged.loc[years.le(year), "project"])


class _Builder:
    def __init__(self, backbone: Backbone):
        self.nodes = backbone.nodes.copy()
        self.base = backbone.edges
        self.new_nodes: list[dict] = []
        self.new_edges: list[dict] = []
        self.next_id = int(self.nodes.index.max()) + 1
        self.by_place: dict[str, int] = {}
        #: inline waypoints by (mode, lon, lat): links sharing one meet at one node
        self.by_point: dict[tuple, int] = {}
        # node, point, network, mode, class, label, max km, project tag, year, serve km
        self.pending: list[tuple] = []
        self.report = AssemblyReport()
        self.crs = backbone.metric_crs
        self.to_m = Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)
        #: length factor of schematic links without an official length, by mode
        self.circuity: dict[str, float] = {}

    def node(self, lon: float, lat: float, kind: str, name: str | None, place_id: str | None,
             source: str, attrs: dict | None = None, project: str | None = None) -> int:
        nid = self.next_id
        self.next_id += 1
        self.new_nodes.append({"node": nid, "x": lon, "y": lat, "kind": kind, "name": name,
                               "place_id": place_id, "source": source, "project": project,
                               **(attrs or {})})
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
             label: str, max_km: float = MAX_JOIN_KM, project: str | None = None,
             open_year: int | None = None, serve_km: float = 0.0) -> None:
        """Ask for a node to be joined to the nearest point of the road or rail network.

        With ``serve_km`` (km), it is also joined to each other numbered road of
        :data:`SERVE_CLASSES` within that distance.
        """
        self.pending.append((nid, Point(self.to_m.transform(lon, lat)), network, mode, cls,
                             label if network == "road" else f"{label} ({network})", max_km,
                             project, open_year, serve_km))

    def side_node(self, place_id: str, mode: str) -> int:
        """Return the node where ``mode`` serves a facility.

        It is joined to the facility's landside node by a transfer edge (the handling time of
        changing mode).
        """
        key = f"{place_id}:{mode}"
        if key in self.by_place:
            return self.by_place[key]
        land = self.by_place[place_id]
        rec = next(n for n in self.new_nodes if n["node"] == land)
        nid = self.node(rec["x"], rec["y"], _WAYPOINT_KIND[mode], f"{rec['name']} ({mode})",
                        None, rec["source"], project=rec.get("project"))
        self.by_place[key] = nid
        self.edge(land, nid, (rec["x"], rec["y"]), (rec["x"], rec["y"]), "transfer",
                  _SIDE_TRANSFER[mode], 0.0, "transfer", rec.get("project"), None)
        return nid

    def facility(self, f: Facility) -> None:
        nid = self.node(f.lon, f.lat, f.kind, f.name, f.id, f"catalog:{f.id}", f.attrs,
                        f.project)
        mode, cls = _FACILITY_JOIN.get(f.kind, ("road", "connector"))
        self.join(nid, f.lon, f.lat, "road", mode, cls, f.id,
                  MAX_GATE_JOIN_KM if f.kind == "gate" else MAX_JOIN_KM, f.project, f.open_year,
                  serve_km=PLACE_SERVE_KM if f.kind == "place" else 0.0)
        if f.kind == "dry_port":
            self.join(nid, f.lon, f.lat, "rail", "transfer", "road_rail", f.id,
                      project=f.project, open_year=f.open_year)
        self.report.facilities.append(f.id)
        self.report.tags[f.id] = f.project

    def link(self, spec: LinkSpec) -> None:
        tag, year = spec.tag, spec.open_year
        place_ids = list(spec.place_ids) + [None] * (len(spec.points) - len(spec.place_ids))
        ids: list[int] = []
        for k, ((lon, lat), pid) in enumerate(zip(spec.points, place_ids, strict=True)):
            if pid and pid in self.by_place:
                ids.append(self.by_place[pid] if spec.mode == "road"
                           else self.side_node(pid, spec.mode))
                continue
            # links that share a waypoint (the same coordinates) meet there: an interchange
            shared = (spec.mode, round(lon, 5), round(lat, 5))
            if shared in self.by_point:
                nid = self.by_point[shared]
                rec = next(n for n in self.new_nodes if n["node"] == nid)
                if rec["project"] == tag:
                    ids.append(nid)
                    continue
                # present whenever any of its links is; each link brings its own joins below,
                # so that the node is joined in every year one of them is open
                rec["project"] = None
            else:
                kind = _WAYPOINT_KIND[spec.mode]
                nid = self.node(lon, lat, kind, f"{spec.name} #{k + 1}", None,
                                f"catalog:{spec.id}", project=tag)
                self.by_point[shared] = nid
            ids.append(nid)
            label = f"{spec.id}#{k + 1}"
            joins = {"road": [("road", "road", "connector")],
                     "rail": [("road", "transfer", "road_rail")]
                     + ([] if spec.link_class == "standard"  # metre/dual share the old lines
                        else [("rail", "rail", "connector")]),
                     "water": [("road", "transfer", "road_water")],
                     "air": [("road", "transfer", "road_air")]}[spec.mode]
            for network, mode, cls in joins:
                self.join(nid, lon, lat, network, mode, cls, label, project=tag,
                          open_year=year)
            if spec.mode == "road" and k in (0, len(spec.points) - 1):
                self.access_road(spec, nid, lon, lat)
        legs = self.legs_km(spec)
        total = sum(legs)
        scale = (spec.length_km / total if spec.length_km and total > 0
                 else self.circuity.get(f"{spec.mode}:{spec.link_class}",
                                        self.circuity.get(spec.mode, 1.0)))
        for k, leg in enumerate(legs):
            self.edge(ids[k], ids[k + 1], spec.points[k], spec.points[k + 1], spec.mode,
                      spec.link_class, leg * scale, f"catalog:{spec.id}", tag, year,
                      lanes=spec.lanes, design_speed_kmh=spec.design_speed_kmh, name=spec.name)
        self.report.links.append(spec.id)
        self.report.tags[spec.id] = tag

    def access_road(self, spec: LinkSpec, nid: int, lon: float, lat: float) -> None:
        """Join a road link's end to the town or city it serves, when one lies near it.

        An expressway that begins on a city's ring road (not in its centre) is reached from the
        centre over the city's streets; the skeleton of national roads has none, so an access
        road of :data:`CONNECTOR_CIRCUITY` × the straight distance stands for them, of class
        ``national`` (the radial national roads are the cities' arterials): its built-up share is
        driven at the urban speed.
        """
        here = Point(self.to_m.transform(lon, lat))
        best = None
        for rec in self.new_nodes:
            if rec["kind"] != "place" or rec["node"] == nid:
                continue
            d = Point(self.to_m.transform(rec["x"], rec["y"])).distance(here) / 1000
            if d <= ACCESS_KM and (best is None or d < best[0]):
                best = (d, rec)
        if best is None:
            return
        d, rec = best
        # a waypoint drawn at the town itself still needs a (short) edge to it
        km = max(d * CONNECTOR_CIRCUITY, MIN_ACCESS_KM)
        self.edge(rec["node"], nid, (rec["x"], rec["y"]), (lon, lat), "road", "national",
                  km, "access", spec.tag, spec.open_year)
        self.report.access.append((spec.id, rec["place_id"], round(km, 2)))

    def legs_km(self, spec: LinkSpec) -> list[float]:
        """Straight distances between a link's consecutive waypoints, km."""
        pts_m = [Point(self.to_m.transform(lon, lat)) for lon, lat in spec.points]
        return [a.distance(b) / 1000 for a, b in zip(pts_m[:-1], pts_m[1:], strict=True)]

    def fit_circuity(self, specs: list[LinkSpec]) -> None:
        """Derive the factor official length / straight waypoint distance, by mode and class.

        It is the median over the links of that mode and class (``road:expressway``,
        ``road:national``, ``rail:metre`` ...) that have an official length, or of that mode
        when a class has too few; it lengthens the schematic links that have none (a road drawn
        as straight lines between its waypoints is shorter than the road, and a mountain
        national road more so than an expressway).
        """
        ratios: dict[str, list[float]] = {}
        for spec in specs:
            total = sum(self.legs_km(spec)) if len(spec.points) >= 2 else 0.0
            if spec.length_km and total > 1.0 and spec.upgrades is None:
                for key in (spec.mode, f"{spec.mode}:{spec.link_class}"):
                    ratios.setdefault(key, []).append(spec.length_km / total)
        self.circuity = {m: round(float(np.median(r)), 3) for m, r in ratios.items()
                         if len(r) >= MIN_CIRCUITY_LINKS}
        self.report.schematic_circuity = dict(self.circuity)

    def split_and_join(self) -> gpd.GeoDataFrame:
        """Join pending nodes to the nearest point of an edge, splitting edges there.

        Returns the base edges with split edges replaced by their pieces.
        """
        base = self.base
        base_m = base.geometry.to_crs(self.crs).values
        cuts: dict[int, list[Point]] = {}
        joins: list[tuple] = []  # node, point on edge, row, mode, class, project tag, year
        for network in ("road", "rail"):
            rows = np.flatnonzero((base["mode"] == network).to_numpy())
            if not len(rows):
                continue
            tree = shapely.STRtree(base_m[rows])
            refs = (base["ref"].to_numpy(object)[rows] if "ref" in base.columns
                    else np.full(len(rows), None, object))
            serves = np.isin(base["class"].to_numpy(object)[rows], list(SERVE_CLASSES))
            for nid, pt, net, mode, cls, label, max_km, tag, year, serve_km in self.pending:
                if net != network:
                    continue
                hit, dist = tree.query_nearest(pt, max_distance=max_km * 1000,
                                               return_distance=True)
                if not len(hit):
                    self.report.not_joined.append((label, f"> {max_km:g}"))
                    continue
                targets = [int(hit[0])]
                if serve_km > 0:
                    targets += _serving_roads(tree, refs, serves, pt, serve_km, int(hit[0]))
                for k, i in enumerate(targets):
                    row = int(rows[i])
                    line = base_m[row]
                    on = line.interpolate(line.project(pt))
                    cuts.setdefault(row, []).append(on)
                    joins.append((nid, on, row, mode, cls, tag, year))
                    if k == 0:
                        self.report.join_km.append((label, round(float(dist[0]) / 1000, 2)))
        if not cuts:
            return base
        # the reverse twin of a cut edge is cut at the same points; rows are found by their
        # (u, v, mode) in one dictionary, not by scanning every edge for each cut edge
        twin = {}
        by_ends = pd.DataFrame({"u": base["u"].to_numpy(), "v": base["v"].to_numpy(),
                                "mode": base["mode"].to_numpy()}).groupby(
            ["u", "v", "mode"], sort=False).indices
        for row in list(cuts):
            u, v = base.at[row, "u"], base.at[row, "v"]
            same = by_ends.get((v, u, base.at[row, "mode"]), ())
            for r in same:
                if base_m[r].equals_exact(shapely.reverse(base_m[row]), 1e-6):
                    twin[row] = int(r)
                    cuts.setdefault(int(r), []).extend(cuts[row])
        point_node: dict[tuple[int, int], int] = {}
        to_wgs = Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)

        def to_wgs_xy(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(to_wgs.transform(xy[:, 0], xy[:, 1]))

        def node_at(pt: Point) -> int:
            key = (round(pt.x), round(pt.y))
            if key not in point_node:
                lon, lat = to_wgs.transform(pt.x, pt.y)
                point_node[key] = self.node(lon, lat, "junction", None, None, "join")
            return point_node[key]

        pieces = []
        for row, pts in cuts.items():
            line = base_m[row]
            rec = base.loc[row].to_dict()
            dists = sorted({line.project(p) for p in pts} - {0.0, line.length})
            ends = [0.0, *dists, line.length]
            at_node = [rec["u"], *[node_at(line.interpolate(d)) for d in dists], rec["v"]]
            for k in range(len(ends) - 1):
                piece = substring(line, ends[k], ends[k + 1])
                share = (ends[k + 1] - ends[k]) / line.length if line.length else 0
                pieces.append({**rec, "u": at_node[k], "v": at_node[k + 1],
                               "length_km": rec["length_km"] * share,
                               "geometry": shapely.transform(piece, to_wgs_xy)})
        # one join per node, target and project: a waypoint shared by links of two projects
        # keeps each link's own join (present in the years its link is)
        joined: set[tuple] = set()
        for nid, on, _row, mode, cls, tag, year in joins:
            target = node_at(on) if 0 < base_m[_row].project(on) < base_m[_row].length else (
                int(base.at[_row, "u"]) if base_m[_row].project(on) == 0
                else int(base.at[_row, "v"]))
            if (nid, target, tag, year) in joined:  # a town's two roads meeting at one node
                continue
            joined.add((nid, target, tag, year))
            a = next(n for n in self.new_nodes if n["node"] == nid)
            lon, lat = to_wgs.transform(on.x, on.y)
            dist_km = Point(self.to_m.transform(a["x"], a["y"])).distance(on) / 1000
            if mode == "road":
                dist_km *= CONNECTOR_CIRCUITY
            self.edge(nid, target, (a["x"], a["y"]), (lon, lat), mode, cls, dist_km, "join",
                      tag, year)
        kept = base.drop(index=list(cuts))
        out = pd.concat([kept, gpd.GeoDataFrame(pieces, geometry="geometry", crs="EPSG:4326")],
                        ignore_index=True)
        return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")

    def result(self) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        base_edges = self.split_and_join()
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


def _serving_roads(tree: shapely.STRtree, refs: np.ndarray, serves: np.ndarray, pt: Point,
                   serve_km: float, nearest: int) -> list[int]:
    """Return the nearest edge of each other numbered road that passes within ``serve_km``.

    ``tree`` indexes the road edges (metric CRS); ``refs`` and ``serves`` give each one's route
    number and whether its class is one a town is joined to. The nearest edge's own road is left
    out (it is joined already).
    """
    near = tree.query(pt, predicate="dwithin", distance=serve_km * 1000)
    best: dict[str, tuple[float, int]] = {}
    for i in near:
        ref = refs[i]
        if not serves[i] or not isinstance(ref, str) or not ref.strip():
            continue  # a road without a route number (None, NaN, pd.NA, "") is not grouped
        own = refs[nearest]
        if isinstance(own, str) and ref == own:
            continue
        d = tree.geometries[i].distance(pt)
        if ref not in best or d < best[ref][0]:
            best[ref] = (d, int(i))
    return [i for _, i in sorted(best.values())]


def assemble(backbone: Backbone, facilities: Iterable[Facility], links: Iterable[LinkSpec]
             ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, AssemblyReport]:
    """Return the master network: the backbone plus every facility and link, whatever the year.

    Parameters
    ----------
    backbone : Backbone
        The base network.
    facilities : iterable of Facility
        Gates, ports, dry ports, airports and places.
    links : iterable of LinkSpec
        Expressways, railways, waterways and air routes. Specs with ``upgrades`` add a copy of
        the edges of the link they name, with their standard (design speed, lanes), and mark the
        originals ``superseded_by`` them.

    Returns
    -------
    nodes, edges : geopandas.GeoDataFrame
        Canonical tables (EPSG:4326); edges in both directions. ``project`` tags every node and
        edge that a project brings, ``open_year`` its year, ``superseded_by`` the edges a
        widening replaces. :func:`active_edges` selects a year's or a variant's edges.
    report : AssemblyReport
    """
    b = _Builder(backbone)
    for f in facilities:
        b.facility(f)
    links = list(links)
    b.fit_circuity(links)
    for spec in links:
        if spec.upgrades is None:
            b.link(spec)
    nodes, edges = b.result()
    edges["superseded_by"] = None
    copies = []
    for spec in links:
        if spec.upgrades is None:
            continue
        # the link's own edges, not the connectors joining its waypoints to the roads nor the
        # access roads from its ends to a town (city streets, which a widening leaves as they are)
        hit = ((edges["project"] == spec.upgrades)
               & ~edges["source"].isin(["join", "access"])).to_numpy()
        new = edges[hit].copy()
        if spec.design_speed_kmh is not None:
            new["design_speed_kmh"] = spec.design_speed_kmh
        if spec.lanes is not None:
            new["lanes"] = spec.lanes
        new["project"], new["open_year"] = spec.tag, spec.open_year
        new["source"] = f"catalog:{spec.id}"
        edges.loc[hit, "superseded_by"] = spec.tag
        copies.append(new)
        b.report.upgrades.append(spec.id)
        b.report.tags[spec.id] = spec.tag
    if copies:
        edges = gpd.GeoDataFrame(pd.concat([edges, *copies], ignore_index=True),
                                 geometry="geometry", crs="EPSG:4326")
    return nodes, edges, b.report
