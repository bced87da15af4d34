"""Routing checks of a built network: detours between key places, and catalog roads left unused.

Two checks that catch join errors the topology figures miss (a road that crosses another without
a junction, a gate joined to the wrong valley, an expressway whose end floats beside the road it
should meet), both on one car search from every place involved (:class:`network.routing.Router`):

* **detours** — for every pair of provincial capitals (and the national capital) and road border
  gates, the length of the fastest car route over the great-circle distance (the detour index).
  Pairs above :data:`DETOUR_INDEX` (:data:`MOUNTAIN_DETOUR_INDEX` on mountain routes) are listed
  with their route and a reason from :data:`KNOWN_DETOURS`, or ``"unexplained"``. BGEZs are
  measured at their gate (:meth:`corridors.build.analysis_network.AnalysisNetwork.bgez_gate`),
  so the
  gate pairs cover them; rail-only gates are left out (no car crosses there).
* **unused links** — every catalog road link in the network (expressways, projects, existing
  trunk links) must lie on the fastest car path between at least one pair of the places it is
  meant to serve: the places at its waypoints, the cities, towns and road gates within
  :data:`SERVE_RADIUS_KM` of its ends (the nearest one where none is that close), the waypoint
  places of the catalog links it continues, and Hà Nội.
  A road that carries nothing is almost always a join error; each one is listed with the route
  actually taken between its places and the time it would take over the link.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import combinations, permutations
from typing import Any, Generic, TypeVar

import networkx as nx
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from pyproj import Transformer

from corridors.build.analysis_network import AnalysisNetwork
from corridors.catalog.model import Catalog, Place
from corridors.core.constants import METRIC_CRS
from corridors.network.build import NetworkTables
from corridors.network.routing import Router
from corridors.network.schema import ROUTING_PROFILES
from corridors.network.specs import LinkSpec

__all__ = [
    "DETOUR_INDEX", "MOUNTAIN_DETOUR_INDEX", "MOUNTAIN_SHARE", "NEAR_KM", "NEAR_EXCESS_KM",
    "SERVE_RADIUS_KM", "KNOWN_DETOURS", "ROAD_GAP_KM", "ROAD_GAP_SHARE", "BAND_KM", "BAND_SHARE",
    "BAND_JUNCTION_KM", "DEAD_END_KM", "JUNCTION_EXCESS_SHARE", "great_circle_km",
    "detour_places", "routing_checks",
]

#: Detour index (fastest-route km over great-circle km) above which a pair is listed. Trunk roads
#: of the midland plain run at 1.2-1.4 times the straight line (the Hà Nội – Lạng Sơn, – Thái
#: Nguyên, – Bắc Giang expressways are 1.1-1.3); 1.6 leaves room for river crossings and the
#: expressway preference of a *fastest* route, and catches a route forced round a missing junction.
DETOUR_INDEX = 1.6
#: The same on mountain routes: roads of the northern ranges wind along valleys and over passes,
#: and 1.8-2.1 is ordinary there (QL4D Lào Cai – Lai Châu, QL279, QL6 Sơn La – Điện Biên).
MOUNTAIN_DETOUR_INDEX = 2.2
#: A pair is judged as a mountain pair when more than this share of the km of its fastest route,
#: or of its shortest road route, has ``terrain`` mountainous (the class of the DEM along each
#: edge): the shortest road is the direct one through the ranges even when the fastest route
#: loops round them on expressways.
MOUNTAIN_SHARE = 0.5
#: Pairs closer than this (km, great circle) are judged by the absolute excess instead: at a few
#: km the ratio is dominated by the join connectors of the two places (1.3 × straight) and streets
#: the network does not hold (Hữu Nghị and Đồng Đăng are 4 km apart: 2 km of connectors is
#: already index 1.5), while a real missing junction shows as tens of km of loop.
NEAR_KM = 10.0
#: Route km beyond the great circle that flags a near pair.
NEAR_EXCESS_KM = 15.0
#: Catalog places within this distance (km) of a link's ends are among the places it serves.
SERVE_RADIUS_KM = 30.0
#: Known, legitimate detours, by the pair of place ids (either order): the reason, with its
#: source. Keep it short: every entry hides a pair from the "unexplained" count.
KNOWN_DETOURS: dict[frozenset[str], str] = {
    frozenset({"city_lai_chau", "city_dien_bien_phu"}):
        "no direct road across the ranges between them: QL12 follows the Nậm Rốm, Nậm Na and Đà "
        "valleys north via Mường Lay (≈ 190 km by road for ≈ 120 km of straight line)",
    frozenset({"gate_huu_nghi", "gate_tan_thanh"}):
        "the two gates are on different roads that meet only at Đồng Đăng: Lạng Sơn – Hữu Nghị "
        "is 17 km and Lạng Sơn – Tân Thanh 28 km by road, Lạng Sơn – Đồng Đăng 14 km "
        "(facts/travel_times.csv), so the gates are about 17 km apart by road for 4 km of "
        "straight line",
    frozenset({"city_yen_bai", "city_hoa_binh"}):
        "the Đoan Hùng – Chợ Bến expressway (a3_1_03, 2029) is drawn as a straight line between "
        "its two sourced ends (no source gives its route or its interchanges): it crosses "
        "CT.05 near 21.38 N 105.30 E without a junction, as schematic links do (expressways "
        "meet roads only at their waypoints and sourced interchanges); a junction there would "
        "make the route 162 km, and the direct roads by Phú Thọ (QL32C, QL70B) are not in the "
        "embedded data",
}
#: A detour whose end is joined from farther than this (km) is diagnosed as a missing access.
FAR_JOIN_DIAGNOSIS_KM = 5.0
#: A point of the straight line between two places with no road of the network within this
#: distance (km) lies in a road gap: the data hold no road there (the embedded skeleton has the
#: national roads and a few provincial ones; the district roads between valleys are missing).
ROAD_GAP_KM = 10.0
#: A detour is diagnosed as a road gap when at least this share of its straight line lies in one
#: (sampled every :data:`GAP_SAMPLE_KM`): no junction could shorten a route that has no road to
#: take.
ROAD_GAP_SHARE = 0.25
GAP_SAMPLE_KM = 2.0
#: Half-width of the band around the straight line in which a direct road is looked for (km):
#: the larger of this and BAND_SHARE × the straight distance.
BAND_KM = 15.0
BAND_SHARE = 0.25
#: Two road edges of the band closer than this (km) that share no node are a place a junction
#: may be missing. When a junction at one of them would bring the route within the threshold,
#: the pair stays unexplained and the place is named; when none would, the detour is diagnosed
#: as a missing road (the data hold no direct road between the two places).
BAND_JUNCTION_KM = 2.0
#: The dead end of a road within this distance (km) of another road is a place a junction may
#: be missing too (a road drawn to stop a few km short of the road it meets).
DEAD_END_KM = 6.0
#: A junction explains a detour only when it removes at least this share of the route's excess
#: over the straight line: one that trims 14 km off a 400 km loop is not why the loop exists.
JUNCTION_EXCESS_SHARE = 0.25
HA_NOI = "city_ha_noi"
#: Place kinds a link may serve near its ends (nodes of the network).
_SERVED_KINDS = {"city", "town", "border_gate"}
#: Links whose ends lie this close (km) continue each other (Thăng Long Boulevard and Hòa Lạc –
#: Hòa Bình): each also serves the waypoint places of the other.
_CONTINUES_KM = 5.0
_EARTH_KM = 6371.0088
_T = TypeVar("_T")


def great_circle_km(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> np.ndarray:
    """Return the great-circle distance (km) between points given in degrees (vectorised).

    Examples
    --------
    >>> round(float(great_circle_km(105.0, 21.0, 106.0, 21.0)), 1)
    103.8
    """
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, dtype=float))
                              for a in (lon1, lat1, lon2, lat2))
    h = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * _EARTH_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def detour_places(net: AnalysisNetwork) -> list[Place]:
    """Return the places of the detour check present in the network: capitals and road gates."""
    nodes = net.place_nodes
    out = []
    for p in net.catalog.places.values():
        if p.id not in nodes:
            continue
        capital = p.kind == "city" and bool({"provincial_capital", "national_capital"}
                                            & set(p.roles))
        road_gate = p.kind == "border_gate" and p.attrs.get("gate_mode") != "rail"
        if capital or road_gate:
            out.append(p)
    return out


class _Trees:
    """One car search from a set of nodes: times, km and paths between them.

    The edge columns the checks read are kept as arrays: label (ref, else name), class, km and
    whether the edge is mountainous, by edge-table row.
    """

    def __init__(self, router: Router, sources: Iterable[int]):
        self.router = router
        self.sources = sorted(set(sources))
        self.row = {s: i for i, s in enumerate(self.sources)}
        self._col = {int(n): i for i, n in enumerate(router.node_ids)}
        if self.sources:
            self.time, self.pred = router.search(self.sources)
        else:
            self.time = self.pred = np.zeros((0, len(router.node_ids)))
        # km along the trees, by source row, summed when first asked for (the detours need the
        # rows of their places only; a row's sums do not depend on the other rows summed)
        self._km: dict[int, np.ndarray] = {}
        self._targets = np.array([self.col(n) for n in self.sources], dtype=np.int64)
        self._paths: dict[tuple[int, int], list[int]] = {}
        e = router.edges
        # labels of the rows of the routes walked, computed when first needed (all rows of a
        # region-scale network would take longer than the searches)
        self._label_cols = {c: e[c].to_numpy(dtype=object)
                            for c in ("ref", "name", "source", "class") if c in e}
        self._labels: dict[int, str] = {}
        self.cls = e["class"].astype(str).to_numpy()
        self.edge_km = e["length_km"].to_numpy(dtype=float)
        self.mountainous = (e["terrain"] == "mountainous").to_numpy() if "terrain" in e \
            else np.zeros(len(e), dtype=bool)

    def col(self, node: int) -> int:
        return self._col[int(node)]

    def t(self, o: int, d: int) -> float:
        return float(self.time[self.row[o], self.col(d)])

    def sum_km(self, sources: Iterable[int]) -> None:
        """Sum the km along the trees of these sources (one pass for all of them)."""
        rows = sorted({self.row[o] for o in sources} - set(self._km))
        if rows:
            # the checks ask for the km between their sources only
            km = self.router.along_to(self.pred[rows], self._targets, "length")
            km[~np.isfinite(self.time[rows][:, self._targets])] = np.inf
            self._km.update(zip(rows, km, strict=True))

    def length(self, o: int, d: int) -> float:
        self.sum_km([o])
        return float(self._km[self.row[o]][self.row[d]])

    def path_rows(self, o: int, d: int) -> list[int]:
        """Edge-table rows (iloc) of the fastest path from o to d; empty when unreachable."""
        key = (o, d)
        if key not in self._paths:
            r, oi, di = self.row[o], self.col(o), self.col(d)
            rows: list[int] = []
            if np.isfinite(self.time[r, di]) and oi != di:
                path = [di]
                while path[-1] != oi:
                    path.append(int(self.pred[r, path[-1]]))
                steps = np.array(path[::-1], dtype=np.int64)
                # the router keeps the fastest of parallel edges: its CSR entry gives the row
                rows = self.router._edge_row[self.router._entries(steps[:-1], steps[1:])].tolist()
            self._paths[key] = rows
        return self._paths[key]

    def labels(self, rows: list[int]) -> list[str]:
        """Return the label (ref, else name) of edge-table rows."""
        for i in rows:
            if i not in self._labels:
                self._labels[i] = _label({c: col[i] for c, col in self._label_cols.items()})
        return [self._labels[i] for i in rows]

    def stretches(self, rows: list[int]) -> list[dict[str, Any]]:
        """Return a route as its stretches: consecutive edges of one road and class merged."""
        out: list[dict[str, Any]] = []
        for i, road in zip(rows, self.labels(rows), strict=True):
            cls, km = self.cls[i], float(self.edge_km[i])
            if out and out[-1]["road"] == road and out[-1]["class"] == cls:
                out[-1]["km"] += km
            else:
                out.append({"road": road, "class": cls, "km": km})
        for s in out:
            s["km"] = round(s["km"], 1)
        return out

    def mountain_share(self, rows: list[int]) -> float:
        """Return the share of a route's km on mountainous edges."""
        total = float(self.edge_km[rows].sum()) if rows else 0.0
        return float(self.edge_km[rows][self.mountainous[rows]].sum()) / total if total else 0.0


def _label(row: dict[str, Any]) -> str:
    for col in ("ref", "name"):
        val = row.get(col)
        if isinstance(val, str) and val.strip():
            return val.strip()
    src = str(row.get("source") or "")
    return "join connector" if src.startswith("join") else str(row.get("class") or "road")


def route_text(stretches: list[dict[str, Any]]) -> str:
    """Return a route's stretches as one line: ``QL4D (national) 45.2 km → …``.

    The class is left out where the name already says it (``join connector``, ``… expressway``).

    Examples
    --------
    >>> route_text([{"road": "QL4D", "class": "national", "km": 45.2},
    ...             {"road": "join connector", "class": "connector", "km": 1.0}])
    'QL4D (national) 45.2 km → join connector 1 km'
    """
    return " → ".join(f"{s['road']} {s['km']:g} km" if s["class"] in s["road"].lower()
                      else f"{s['road']} ({s['class']}) {s['km']:g} km" for s in stretches)


def _far_join_reason(stretches: list[dict[str, Any]], o: Place, d: Place) -> str | None:
    """Return the diagnosis of a detour whose end is joined to the roads from far away.

    A place the embedded roads do not reach is joined by a straight connector to the nearest
    road, wherever it leads; the detour then says nothing about the roads between the two
    places, only that one of them lacks its own road (the quality report's joined-from-far list
    gives the distance).
    """
    ends = [(stretches[0], o), (stretches[-1], d)] if stretches else []
    far = [(s["km"], p) for s, p in ends
           if s["road"] == "join connector" and s["km"] > FAR_JOIN_DIAGNOSIS_KM]
    if not far:
        return None
    km, place = max(far, key=lambda x: x[0])
    return (f"diagnosed: {place.name_vi} is joined to the roads from {km:g} km away (no road "
            "near it in the embedded data: its own access road is missing)")


def _drawn_roads(roads: pd.DataFrame) -> pd.DataFrame:
    """Return the drawn roads of road edges: not join connectors, access roads or connectors."""
    return roads[(roads["class"] != "connector") & ~roads["source"].isin(["join", "access"])]


class _RoadGaps:
    """Where the straight line between two places runs far from every road of the network."""

    def __init__(self, net: AnalysisNetwork):
        edges = net.tables.edges
        # drawn roads only: joins, access roads and connectors are straight stand-ins that
        # would "cover" the very gap they bridge
        roads = _drawn_roads(edges[edges["mode"] == "road"])
        metric = roads.geometry.to_crs(METRIC_CRS)
        self.tree = shapely.STRtree(metric.values)
        self.to_m = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)

    def share(self, a: Place, b: Place) -> float:
        """Share (0-1) of the straight line from ``a`` to ``b`` far from every road.

        Far: more than :data:`ROAD_GAP_KM` from the nearest drawn road of the network.
        """
        (xa, xb), (ya, yb) = self.to_m.transform([a.lon, b.lon], [a.lat, b.lat])
        n = max(int(np.hypot(xb - xa, yb - ya) / 1000 / GAP_SAMPLE_KM), 2)
        t = (np.arange(n) + 0.5) / n
        pts = shapely.points(xa + t * (xb - xa), ya + t * (yb - ya))
        _, dist = self.tree.query_nearest(pts, return_distance=True, all_matches=False)
        return float(np.mean(dist > ROAD_GAP_KM * 1000))


class _Lazy(Generic[_T]):
    """A check's helper built on its first use (most networks never need it)."""

    def __init__(self, build: Callable[[], _T]):
        self._build = build
        self._value: _T | None = None

    def get(self) -> _T:
        if self._value is None:
            self._value = self._build()
        return self._value


def _gap_reason(gaps: _RoadGaps, o: Place, d: Place, gc_km: float) -> str | None:
    """Return the diagnosis of a detour forced by a gap in the roads between the two places."""
    share = gaps.share(o, d)
    if share < ROAD_GAP_SHARE:
        return None
    return (f"diagnosed: road gap, {share * gc_km:.0f} of the {gc_km:.0f} km of straight line "
            f"between them run more than {ROAD_GAP_KM:g} km from any road in the data (the "
            "direct roads between these valleys are district or provincial roads the embedded "
            "skeleton lacks; an OSM extract holds them)")


class _Band:
    """The drawn roads of the network near the straight line between two places.

    Join connectors and access roads are left out: they are straight stand-ins, not roads that
    could be missing a junction.
    """

    def __init__(self, net: AnalysisNetwork):
        edges = net.tables.edges
        every = edges[edges["mode"] == "road"]
        road = _drawn_roads(every)
        # one row per road: a two-way road's reverse twin has the same geometry; a one-way edge
        # (OSM oneway) is kept, and marked as drivable from u to v only
        uv = np.sort(road[["u", "v"]].to_numpy(), axis=1)
        _, first, count = np.unique(uv, axis=0, return_index=True, return_counts=True)
        road = road.iloc[np.sort(first)]
        self.two_way = count[np.argsort(first)] >= 2
        self.u = road["u"].to_numpy()
        self.v = road["v"].to_numpy()
        self.km = road["length_km"].to_numpy(float)
        ref = road["ref"] if "ref" in road.columns else pd.Series(None, index=road.index)
        name = road["name"] if "name" in road.columns else pd.Series(None, index=road.index)
        self.label = [str(r) if isinstance(r, str) and r else
                      str(n) if isinstance(n, str) and n else f"a {c} road"
                      for r, n, c in zip(ref, name, road["class"], strict=True)]
        self.geom = road.geometry.to_crs(METRIC_CRS).values
        self.tree = shapely.STRtree(self.geom)
        # dead ends: a node that only one road edge touches, counting the joins (a schematic
        # link's end joined to the roads by a connector is not a dead end)
        pairs = np.unique(np.sort(every[["u", "v"]].to_numpy(), axis=1), axis=0)
        ends, count = np.unique(pairs.ravel(), return_counts=True)
        self.dead = set(ends[count == 1].tolist())
        self.to_m = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
        self.to_wgs = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)

    def junction(self, a: Place, b: Place, na: int, nb: int, gc_km: float, short_km: float,
                 limit_km: float, shortest: Router) -> str:
        """Return whether one junction near the straight line would end the detour.

        Two kinds of places where a junction may be missing are tried, among the roads within
        the band: two edges that come within :data:`BAND_JUNCTION_KM` of each other without
        sharing a node, and the dead end of a road within :data:`DEAD_END_KM` of another road.
        The route over such a junction is the shortest road km from ``a`` to the point of the
        one edge, the gap, and the shortest road km from the point of the other edge to ``b``.
        When the best of them is within ``limit_km`` and removes at least
        :data:`JUNCTION_EXCESS_SHARE` of the excess of the shortest road route (``short_km``)
        over the straight line, the pair stays unexplained and the place is named; when none
        does, no junction error explains the detour: the direct road is missing from the data.
        """
        width = max(BAND_KM, BAND_SHARE * gc_km)
        (xa, xb), (ya, yb) = self.to_m.transform([a.lon, b.lon], [a.lat, b.lat])
        poly = shapely.LineString([(xa, ya), (xb, yb)]).buffer(width * 1000)
        rows = self.tree.query(poly, predicate="intersects")
        best = self._best_junction(rows, na, nb, shortest)
        head = "diagnosed: no road of the data joins them directly: "
        tail = ("; the direct road is one the embedded skeleton lacks (an OSM extract holds "
                "it)")
        if best is None or best[0] > limit_km:
            gives = (f" (the best, between {self.label[best[3]]} and {self.label[best[4]]}, "
                     f"would give {best[0]:.0f} km)" if best is not None else "")
            return (f"{head}no junction of the roads within {width:.0f} km of the straight "
                    f"line would bring the route within the threshold{gives}{tail}")
        km, gap, p, i, j = best
        saving, excess = short_km - km, short_km - gc_km
        if saving < JUNCTION_EXCESS_SHARE * excess:
            return (f"{head}the best junction of the roads within {width:.0f} km of the "
                    f"straight line, between {self.label[i]} and {self.label[j]}, would save "
                    f"only {saving:.0f} of the {excess:.0f} km by which the shortest road route "
                    f"exceeds the straight line{tail}")
        lon, lat = self.to_wgs.transform(p.x, p.y)
        return (f"unexplained: a junction between {self.label[i]} and {self.label[j]} "
                f"({gap:.1f} km apart near {lat:.3f} N {lon:.3f} E) would shorten the route "
                f"to {km:.0f} km (index {km / gc_km:.2f}): check whether they meet there")

    def _candidates(self, rows: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return where a junction may be missing among band rows.

        Returns the two edges (local indices into ``rows``) and the two points (one on each)
        a junction would join: the closest points of two edges that nearly meet, or a dead end
        and the nearest point of the other edge.
        """
        geom = self.geom[rows]
        tree = shapely.STRtree(geom)
        left, right = tree.query(geom, predicate="dwithin", distance=BAND_JUNCTION_KM * 1000)
        lines = shapely.shortest_line(geom[left], geom[right])
        p_left, p_right = shapely.get_point(lines, 0), shapely.get_point(lines, 1)
        u, v = self.u[rows], self.v[rows]
        dead_u = np.array([n in self.dead for n in u], dtype=bool)
        dead_v = np.array([n in self.dead for n in v], dtype=bool)
        ends = np.concatenate([np.flatnonzero(dead_u), np.flatnonzero(dead_v)])
        if len(ends):
            pts = np.concatenate([shapely.get_point(geom[dead_u], 0),
                                  shapely.get_point(geom[dead_v], -1)])
            i, j = tree.query(pts, predicate="dwithin", distance=DEAD_END_KM * 1000)
            near = shapely.get_point(shapely.shortest_line(pts[i], geom[j]), 1)
            left, right = np.concatenate([left, ends[i]]), np.concatenate([right, j])
            p_left = np.concatenate([p_left, pts[i]])
            p_right = np.concatenate([p_right, near])
        apart = ((left != right) & (u[left] != u[right]) & (u[left] != v[right])
                 & (v[left] != u[right]) & (v[left] != v[right]))
        return left[apart], right[apart], p_left[apart], p_right[apart]

    def _best_junction(self, rows: np.ndarray, na: int, nb: int, shortest: Router
                       ) -> tuple[float, float, shapely.Point, int, int] | None:
        """Return the shortest route over one added junction between two band edges, if any.

        Returns (route km, gap km, point, edge row, other edge row).
        """
        if len(rows) < 2:
            return None
        left, right, p_left, p_right = self._candidates(rows)
        if not len(left):
            return None
        from_a = shortest.times([na])[0]  # km from a to every node
        to_b = shortest.nearest([nb])[0]  # km from every node to b (reversed graph)
        gap = shapely.distance(p_left, p_right) / 1000
        km = np.minimum(
            self._reach(rows[left], p_left, from_a, shortest, towards=True) + gap
            + self._reach(rows[right], p_right, to_b, shortest, towards=False),
            self._reach(rows[right], p_right, from_a, shortest, towards=True) + gap
            + self._reach(rows[left], p_left, to_b, shortest, towards=False))
        if not np.isfinite(km).any():
            return None
        k = int(np.nanargmin(np.where(np.isfinite(km), km, np.nan)))
        return (float(km[k]), float(gap[k]), p_left[k], int(rows[left[k]]),
                int(rows[right[k]]))

    def _reach(self, rows: np.ndarray, points: np.ndarray, dist: np.ndarray, router: Router,
               towards: bool) -> np.ndarray:
        """Shortest road km between a search's end and points of edges, via either end.

        ``towards``: ``dist`` is km from the source to each node, and the point is reached
        along the edge from its ends; otherwise ``dist`` is km from each node to the target and
        the point leaves along the edge to its ends. A one-way edge runs from u to v only.
        """
        lines = self.geom[rows]
        length = shapely.length(lines)
        share = np.divide(shapely.line_locate_point(lines, points), length,
                          out=np.zeros(len(rows)), where=length > 0)
        du = dist[router.indices(self.u[rows])]
        dv = dist[router.indices(self.v[rows])]
        along_u, along_v = share * self.km[rows], (1 - share) * self.km[rows]
        both = self.two_way[rows]
        if towards:  # source → u → point (always), source → v → point (two-way only)
            return np.minimum(du + along_u, np.where(both, dv + along_v, np.inf))
        # point → v → target (always), point → u → target (two-way only)
        return np.minimum(dv + along_v, np.where(both, du + along_u, np.inf))


def _preference_reason(short_km: float, gc_km: float, rule: str,
                       threshold: float | None) -> str | None:
    """Return the diagnosis of a detour that the fastest route chooses over a short road.

    A missing junction lengthens every route between the two places; when the *shortest* road
    route stays within the pair's threshold, the roads are joined and the fastest route simply
    prefers a longer, faster road (an expressway round the hills).
    """
    within = (short_km - gc_km <= NEAR_EXCESS_KM if rule == "near"
              else threshold is not None and short_km / gc_km <= threshold)
    if not within:
        return None
    return (f"diagnosed: faster roads preferred; the shortest road route is {short_km:.0f} km "
            f"(index {short_km / gc_km:.2f}), within the threshold")


def _detours(net: AnalysisNetwork, trees: _Trees, places: list[Place]) -> dict[str, Any]:
    nodes = net.place_nodes
    # built for the first detour that reaches their diagnosis
    gaps = _Lazy(lambda: _RoadGaps(net))
    band = _Lazy(lambda: _Band(net))
    # shortest road km between the places, for the diagnosis of a fastest route's detour, and
    # their paths, walked for the flagged pairs only: the terrain between two places is the
    # terrain of the direct road, not of the (fastest) loop round it
    shortest = Router(net.tables.nodes, net.tables.edges, "car", weight="length")
    place_nodes = [nodes[p.id] for p in places]
    short_trees = _Trees(shortest, place_nodes)
    trees.sum_km(place_nodes)
    flagged: list[dict[str, Any]] = []
    unreachable = []
    checked = 0
    for a, b in combinations(places, 2):
        na, nb = nodes[a.id], nodes[b.id]
        if na == nb:
            continue
        checked += 1
        gc = float(great_circle_km(a.lon, a.lat, b.lon, b.lat))
        ways = [(a, b, trees.length(na, nb)), (b, a, trees.length(nb, na))]
        if not all(np.isfinite(km) for _, _, km in ways):
            unreachable.append({"from": a.id, "to": b.id})
            continue
        o, d, km = max(ways, key=lambda w: w[2])  # the worse direction
        if gc < NEAR_KM:
            rule, over = "near", km - gc > NEAR_EXCESS_KM
            threshold, share = None, None
        else:
            rule, threshold, over, share = "plain", DETOUR_INDEX, km / gc > DETOUR_INDEX, None
        rows = trees.path_rows(nodes[o.id], nodes[d.id]) if over else []
        if over and rule == "plain":
            share = trees.mountain_share(rows)
            direct = short_trees.mountain_share(short_trees.path_rows(nodes[o.id], nodes[d.id]))
            if max(share, direct) > MOUNTAIN_SHARE:
                rule, threshold = "mountain", MOUNTAIN_DETOUR_INDEX
                over = km / gc > MOUNTAIN_DETOUR_INDEX
        if not over:
            continue
        na_, nd_ = nodes[o.id], nodes[d.id]
        short_km = short_trees.t(na_, nd_)  # the length router's "time" is km
        reason = (KNOWN_DETOURS.get(frozenset({o.id, d.id}))
                  or _far_join_reason(trees.stretches(rows), o, d)
                  or _gap_reason(gaps.get(), o, d, gc)
                  or _preference_reason(short_km, gc, rule, threshold)
                  or band.get().junction(o, d, na_, nd_, gc, short_km,
                                         gc + NEAR_EXCESS_KM if rule == "near"
                                         else float(threshold or DETOUR_INDEX) * gc, shortest))
        flagged.append({
            "from": o.id, "to": d.id, "from_name": o.name_vi, "to_name": d.name_vi,
            "great_circle_km": round(gc, 1), "route_km": round(km, 1),
            "time_h": round(trees.t(nodes[o.id], nodes[d.id]), 2),
            "detour_index": round(km / gc, 2), "excess_km": round(km - gc, 1),
            "rule": rule, "threshold": threshold,
            "mountain_share": round(share if share is not None
                                    else trees.mountain_share(rows), 2),
            "route": trees.stretches(rows),
            "reason": reason,
        })
    flagged.sort(key=lambda f: -f["detour_index"])
    return {
        "thresholds": {"detour_index": DETOUR_INDEX, "mountain_detour_index":
                       MOUNTAIN_DETOUR_INDEX, "mountain_share": MOUNTAIN_SHARE,
                       "near_km": NEAR_KM, "near_excess_km": NEAR_EXCESS_KM},
        "places": len(places), "pairs_checked": checked,
        "flagged": flagged,
        "unexplained": sum(f["reason"].startswith("unexplained") for f in flagged),
        "diagnosed_far_join": sum(f["reason"].startswith("diagnosed:") and "joined to the roads"
                                  in f["reason"] for f in flagged),
        "diagnosed_road_gap": sum(f["reason"].startswith(("diagnosed: road gap",
                                                          "diagnosed: no road"))
                                  for f in flagged),
        "diagnosed_preference": sum(f["reason"].startswith("diagnosed: faster roads")
                                    for f in flagged),
        "unreachable": unreachable,
    }


# -- unused links ----------------------------------------------------------------------------------
class _Link:
    """A catalog road link in the network: its edge rows, ends and the places it serves."""

    def __init__(self, spec: LinkSpec, base: LinkSpec, edges: pd.DataFrame, rows: np.ndarray,
                 net: AnalysisNetwork, other_nodes: set[int] | _EndCounts):
        self.spec, self.rows = spec, set(rows.tolist())
        e = edges.iloc[rows]
        und = nx.Graph()
        und.add_edges_from(zip(e["u"], e["v"], strict=True))
        ends = [n for n in und if und.degree(n) == 1] or list(und)
        xy = net.tables.nodes.loc[ends, ["x", "y"]].to_numpy(dtype=float)
        pts = base.points or tuple(map(tuple, xy))

        def nearest(pt: tuple[float, float]) -> int:
            return int(ends[int(np.argmin(great_circle_km(xy[:, 0], xy[:, 1], *pt)))])

        self.start, self.end = nearest(pts[0]), nearest(pts[-1])
        self.joined = {n: n in other_nodes for n in (self.start, self.end)}
        g = nx.DiGraph()
        g.add_weighted_edges_from(zip(e["u"], e["v"], e["time_h_car"], strict=True))
        self._g = g
        node_of = net.place_nodes
        ids = [p for p in base.place_ids if p and p in node_of]
        self.waypoint_places = list(ids)
        near = [p for p in net.catalog.places.values() if p.id in node_of
                and p.kind in _SERVED_KINDS and p.attrs.get("gate_mode") != "rail"]
        if near:
            lon = np.array([p.lon for p in near])
            lat = np.array([p.lat for p in near])
            for x, y in (pts[0], pts[-1]):
                d = great_circle_km(lon, lat, x, y)
                # the places near the end, or else the nearest one (an end in open country)
                within = np.flatnonzero(d <= SERVE_RADIUS_KM)
                ids += [near[i].id for i in (within if len(within) else [int(np.argmin(d))])]
        self.ends_xy = (pts[0], pts[-1])
        self.places = list(dict.fromkeys(ids))

    def continue_with(self, others: list[_Link], hn: bool) -> None:
        """Add the waypoint places of the links that continue this one, then Hà Nội."""
        mine = np.array(self.ends_xy)
        for o in others:
            if o is self:
                continue
            theirs = np.array(o.ends_xy)
            d = great_circle_km(mine[:, None, 0], mine[:, None, 1], theirs[None, :, 0],
                                theirs[None, :, 1])
            if d.min() <= _CONTINUES_KM:
                self.places += [p for p in o.waypoint_places if p not in self.places]
        if hn and HA_NOI not in self.places:
            self.places.append(HA_NOI)

    def over(self, a: int, b: int) -> float:
        """Hours along the link from end a to end b (inf when it does not run that way)."""
        try:
            return float(nx.shortest_path_length(self._g, a, b, weight="weight"))
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            return np.inf


def _check_link(link: _Link, trees: _Trees, net: AnalysisNetwork) -> dict[str, Any] | None:
    """Return the finding of an unused link, or None when some pair of its places uses it."""
    nodes = net.place_nodes
    s = link.spec
    pairs = [(a, b) for a, b in permutations(link.places, 2) if nodes[a] != nodes[b]]
    for a, b in pairs:
        if link.rows.intersection(trees.path_rows(nodes[a], nodes[b])):
            return None
    x, y = link.start, link.end
    best = None
    for a, b in pairs:
        na, nb = nodes[a], nodes[b]
        fast = trees.t(na, nb)
        via = min(trees.t(na, x) + link.over(x, y) + trees.t(y, nb),
                  trees.t(na, y) + link.over(y, x) + trees.t(x, nb))
        # the pair that comes closest to using the link: both times known, smallest gap
        key = (not np.isfinite(via), not np.isfinite(fast), via - fast)
        if best is None or key < best[0]:
            best = (key, (a, b), fast, via)
    loose = [n for n, ok in link.joined.items() if not ok]
    finding: dict[str, Any] = {
        "id": s.id, "name": s.name, "class": s.link_class, "places": link.places,
        "ends": {"start_node": x, "end_node": y,
                 "start_joined": link.joined[x], "end_joined": link.joined[y]},
        "pair": None, "fastest_time_h": None, "fastest_km": None, "fastest_route": [],
        "via_link_time_h": None,
    }
    if best is None:
        finding["reason"] = (f"no pair of places to test: no city, town or road gate within "
                             f"{SERVE_RADIUS_KM:g} km of its ends")
        return finding
    _, (a, b), fast, via = best
    rows = trees.path_rows(nodes[a], nodes[b])
    finding.update({
        "pair": [a, b], "fastest_time_h": round(fast, 2) if np.isfinite(fast) else None,
        "fastest_km": round(trees.length(nodes[a], nodes[b]), 1) if np.isfinite(fast) else None,
        "fastest_route": trees.stretches(rows),
        "via_link_time_h": round(via, 2) if np.isfinite(via) else None,
    })
    parts = [f"no pair of its {len(link.places)} places routes over it"]
    if loose:
        parts.append("its " + " and ".join("start" if n == x else "end" for n in loose)
                     + " (node " + ", ".join(str(n) for n in loose) + ") joins no other road")
    if np.isfinite(fast):
        parts.append(f"fastest path {a} – {b} ({fast:.2f} h) uses "
                     + route_text(trees.stretches(rows)))
    else:
        parts.append(f"{a} cannot reach {b} by car")
    parts.append(f"via the link: {via:.2f} h" if np.isfinite(via)
                 else "via the link: cannot be reached (the link is cut off from these places "
                      "or one-way the wrong way)")
    finding["reason"] = "; ".join(parts)
    return finding


class _EndCounts:
    """The nodes that are an end of some edges: how many ends each has, less some of them."""

    def __init__(self, ends: np.ndarray | pd.Series, less: np.ndarray | None = None):
        self.count = ends if isinstance(ends, pd.Series) else pd.Series(ends).value_counts()
        self.less = {} if less is None else pd.Series(less).value_counts().to_dict()

    def minus(self, ends: np.ndarray) -> _EndCounts:
        """Return the nodes of these edges without the ``ends`` given (one per edge end)."""
        return _EndCounts(self.count, ends)

    def __contains__(self, node) -> bool:
        """Whether the node keeps an edge end."""
        return int(self.count.get(node, 0)) - int(self.less.get(node, 0)) > 0


def _links(net: AnalysisNetwork, specs: list[LinkSpec], router: Router) -> list[_Link]:
    edges = router.edges
    by_id = {s.id: s for s in specs}
    road = (edges["mode"] == "road").to_numpy()
    project = edges["project"].astype(object).to_numpy() if "project" in edges else None
    source = edges["source"].astype(str).to_numpy()
    _, modes = ROUTING_PROFILES["car"]
    usable = edges["mode"].isin(modes).to_numpy()
    # the road rows of each source and project, grouped once (not one scan per link)
    road_rows = np.flatnonzero(road)
    by_source = pd.Series(road_rows).groupby(source[road_rows]).indices
    by_project = (pd.Series(road_rows).groupby(project[road_rows], dropna=True).indices
                  if project is not None else {})
    u, v = edges["u"].to_numpy(), edges["v"].to_numpy()
    usable_ends = _EndCounts(np.concatenate([u[usable], v[usable]]))
    out = []
    for s in specs:
        if s.mode != "road":
            continue
        parts = [road_rows[by_source.get(f"catalog:{s.id}", [])]]
        if project is not None:
            parts.append(road_rows[by_project.get(s.tag, [])])
        rows = np.unique(np.concatenate(parts)).astype(np.int64)
        if not len(rows):
            continue  # not open in this year, or outside an extract
        mine = rows[usable[rows]]
        # nodes with a usable edge that is not one of the link's
        other_nodes = usable_ends.minus(np.concatenate([u[mine], v[mine]]))
        base = by_id.get(s.upgrades, s) if s.upgrades else s
        out.append(_Link(s, base, edges, rows, net, other_nodes))
    for link in out:
        link.continue_with(out, HA_NOI in net.place_nodes)
    return out


def routing_checks(tables: NetworkTables, cat: Catalog, specs: list[LinkSpec]
                   ) -> dict[str, Any]:
    """Return the detour check and the unused catalog road links of a network (JSON-ready).

    One car search runs from every place of the detour check, every place a link serves and the
    ends of every link; routes are walked back from its predecessor trees.

    Returns
    -------
    dict
        ``detours``: thresholds, ``places``, ``pairs_checked``, ``flagged`` (each with ``from``,
        ``to``, ``great_circle_km``, ``route_km``, ``detour_index``, ``rule``, ``route``,
        ``reason``), ``unexplained`` (count), ``unreachable`` pairs. ``unused_links``:
        ``checked`` (link ids) and ``unused`` (each with ``id``, ``places``, ``ends``, ``pair``,
        the fastest route between the pair and the time via the link, and ``reason``).
    """
    net = AnalysisNetwork(str(tables.year), tables, cat)
    router = net.router("car")
    places = detour_places(net)
    links = _links(net, specs, router)
    node_of = net.place_nodes
    sources = {node_of[p.id] for p in places}
    for link in links:
        sources |= {node_of[p] for p in link.places} | {link.start, link.end}
    trees = _Trees(router, sources)
    unused = [f for f in (_check_link(link, trees, net) for link in links) if f is not None]
    return {"detours": _detours(net, trees, places),
            "unused_links": {"checked": [link.spec.id for link in links], "unused": unused}}
