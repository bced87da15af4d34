"""Place border gates that have no published coordinates on the border line.

Two documented, reproducible methods (``location_method`` in ``data/catalog/places.yaml``):

``border_road_end``
    :func:`border_point_at_road_end`: take every end of the named access road in the roads layer,
    keep the end closest to the border line and return the point of the border line nearest to
    that end. The end must lie within ``max_distance_m`` (default 15 km) of the border.
``border_nearest_anchor``
    :func:`border_point_nearest`: the point of the border line nearest to an anchor point (an OSM
    town beside the gate, the counterpart town across the border, a published point that lies
    too far from the line to be used as is).

Everything is computed in a metric CRS (:data:`METRIC_CRS`, UTM zone 48 N, which covers
102–108° E) and returned in WGS 84; distances are metres, never degrees. Inputs in WGS 84 may be
shapely geometries (x = longitude, y = latitude) or GeoDataFrames / GeoSeries with a CRS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import geopandas as gpd
import pyproj
import shapely
from shapely import ops
from shapely.geometry import LineString, MultiLineString, Point
from shapely.geometry.base import BaseGeometry

from corridors.core.constants import METRIC_CRS, WGS84
from corridors.core.names import match_key

#: Farthest a road end may be from the border for :func:`border_point_at_road_end` (m).
DEFAULT_MAX_ROAD_END_DISTANCE_M = 15_000.0

_TO_METRIC = pyproj.Transformer.from_crs(WGS84, METRIC_CRS, always_xy=True)
_TO_WGS84 = pyproj.Transformer.from_crs(METRIC_CRS, WGS84, always_xy=True)

GeometryInput: TypeAlias = BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame


@dataclass(frozen=True)
class BorderPlacement:
    """A point placed on the border line.

    Attributes
    ----------
    lon, lat : float
        The placed point, WGS 84 decimal degrees.
    from_lon, from_lat : float
        The point it was derived from (the anchor, or the chosen road end), WGS 84.
    offset_m : float
        Distance from that point to the border line (m, in :data:`METRIC_CRS`).
    """

    lon: float
    lat: float
    from_lon: float
    from_lat: float
    offset_m: float

    @property
    def point(self) -> Point:
        """The placed point as a shapely point (lon, lat), WGS 84."""
        return Point(self.lon, self.lat)

    def rounded(self, ndigits: int = 5) -> tuple[float, float]:
        """Return ``(lat, lon)`` rounded as written in the catalog (5 decimals ≈ 1 m)."""
        return round(self.lat, ndigits), round(self.lon, ndigits)


def to_metric(geom: BaseGeometry) -> BaseGeometry:
    """Project a WGS 84 shapely geometry (x = lon, y = lat) to :data:`METRIC_CRS`.

    Parameters
    ----------
    geom : shapely.geometry.base.BaseGeometry
        Geometry in WGS 84.

    Returns
    -------
    shapely.geometry.base.BaseGeometry
        The same geometry in metres (UTM 48 N).
    """
    return shapely.transform(geom, _TO_METRIC.transform, interleaved=False)


def to_wgs84(geom: BaseGeometry) -> BaseGeometry:
    """Project a shapely geometry from :data:`METRIC_CRS` back to WGS 84 (x = lon, y = lat).

    Parameters
    ----------
    geom : shapely.geometry.base.BaseGeometry
        Geometry in UTM 48 N metres.

    Returns
    -------
    shapely.geometry.base.BaseGeometry
        The same geometry in WGS 84 degrees.
    """
    return shapely.transform(geom, _TO_WGS84.transform, interleaved=False)


def _metric_union(geoms: GeometryInput) -> BaseGeometry:
    """Return the union of the input geometries in :data:`METRIC_CRS`."""
    if isinstance(geoms, gpd.GeoDataFrame):
        geoms = geoms.geometry
    if isinstance(geoms, gpd.GeoSeries):
        if geoms.crs is None:
            raise ValueError("the GeoDataFrame/GeoSeries has no CRS; expected WGS 84 or metric")
        series = geoms.to_crs(METRIC_CRS)
        parts = [g for g in series if g is not None and not g.is_empty]
        if not parts:
            raise ValueError("no geometry in the input")
        return ops.unary_union(parts)
    if isinstance(geoms, BaseGeometry):
        if geoms.is_empty:
            raise ValueError("empty geometry")
        return to_metric(geoms)
    raise TypeError(f"expected a shapely geometry, GeoSeries or GeoDataFrame, got {type(geoms)!r}")


def select_border(border: gpd.GeoDataFrame, neighbour: str | None = None) -> gpd.GeoDataFrame:
    """Return the border lines with one neighbour country (all lines when ``neighbour`` is None).

    Parameters
    ----------
    border : geopandas.GeoDataFrame
        The ``border`` layer (column ``neighbour``: ``CHN`` or ``LAO``).
    neighbour : str, optional
        ISO3 code of the neighbour, ``"CHN"`` or ``"LAO"``.

    Returns
    -------
    geopandas.GeoDataFrame
        The selected lines.

    Raises
    ------
    ValueError
        If no line has that neighbour.
    """
    if neighbour is None:
        return border
    sel = border[border["neighbour"] == neighbour]
    if sel.empty:
        valid = ", ".join(sorted(border["neighbour"].dropna().unique()))
        raise ValueError(f"no border line with neighbour {neighbour!r}; valid: {valid}")
    return sel


def distance_to_border_m(border: GeometryInput, point: Point) -> float:
    """Return the distance from a point to the border line, in metres.

    Parameters
    ----------
    border : shapely geometry, GeoSeries or GeoDataFrame
        Border line(s), WGS 84 (shapely input) or any CRS (GeoPandas input).
    point : shapely.geometry.Point
        WGS 84 point (x = lon, y = lat).

    Returns
    -------
    float
        Distance in metres, measured in :data:`METRIC_CRS`.
    """
    return float(_metric_union(border).distance(to_metric(point)))


def _place_on(border_m: BaseGeometry, from_m: Point) -> BorderPlacement:
    on_line, _ = ops.nearest_points(border_m, from_m)
    placed = to_wgs84(on_line)
    origin = to_wgs84(from_m)
    return BorderPlacement(lon=placed.x, lat=placed.y, from_lon=origin.x, from_lat=origin.y,
                           offset_m=float(border_m.distance(from_m)))


def border_point_nearest(border: GeometryInput, point: Point) -> BorderPlacement:
    """Return the point of the border line nearest to an anchor point.

    This is ``location_method: border_nearest_anchor``: the foot of the shortest segment from the
    anchor to the line, found in :data:`METRIC_CRS`.

    Parameters
    ----------
    border : shapely geometry, GeoSeries or GeoDataFrame
        Border line(s): WGS 84 (shapely input) or any CRS (GeoPandas input). Pass only the line
        of the gate's neighbour (see :func:`select_border`) so that a gate near a tri-point is not
        put on the wrong border.
    point : shapely.geometry.Point
        The anchor, WGS 84 (x = lon, y = lat).

    Returns
    -------
    BorderPlacement
        The placed point and the anchor's distance to the line (``offset_m``).
    """
    if not isinstance(point, Point) or point.is_empty:
        raise TypeError("the anchor must be a non-empty shapely Point (lon, lat)")
    return _place_on(_metric_union(border), to_metric(point))


def _line_parts(geom: BaseGeometry) -> list[LineString]:
    if isinstance(geom, LineString):
        return [geom]
    if isinstance(geom, MultiLineString):
        return list(geom.geoms)
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in _line_parts(g)]
    return []


def road_ends(roads: gpd.GeoDataFrame, road_name: str, name_column: str = "name") -> list[Point]:
    """Return the ends of a named road, in :data:`METRIC_CRS`.

    All features whose name matches ``road_name`` (case and diacritics ignored; the ``ref``
    column, e.g. ``QL34``, is accepted too when the layer has one) are merged where their ends
    meet exactly; the ends of the merged chains are returned. Gaps in the layer therefore add
    ends.

    Parameters
    ----------
    roads : geopandas.GeoDataFrame
        The ``roads`` layer (any CRS).
    road_name : str
        Road name as in the layer, e.g. ``"Quốc lộ 34"``.
    name_column : str, default "name"
        Column holding the road name.

    Returns
    -------
    list of shapely.geometry.Point
        End points in metres (UTM 48 N).

    Raises
    ------
    ValueError
        If no feature has that name.
    """
    key = match_key(road_name)
    mask = roads[name_column].fillna("").map(match_key) == key
    if "ref" in roads.columns:
        mask |= roads["ref"].fillna("").map(match_key) == key
    sel = roads[mask]
    if sel.empty:
        raise ValueError(f"no road named {road_name!r} in the roads layer (column {name_column!r})")
    if sel.crs is None:
        raise ValueError("the roads layer has no CRS")
    parts = [p for g in sel.geometry.to_crs(METRIC_CRS) for p in _line_parts(g)]
    merged = ops.linemerge(parts)
    ends: list[Point] = []
    for line in _line_parts(merged):
        if line.is_closed:
            continue
        ends.extend([Point(line.coords[0]), Point(line.coords[-1])])
    if not ends:
        raise ValueError(f"road {road_name!r} has no open end (it forms closed rings only)")
    return ends


def border_point_at_road_end(
    border: GeometryInput,
    roads: gpd.GeoDataFrame,
    road_name: str,
    max_distance_m: float = DEFAULT_MAX_ROAD_END_DISTANCE_M,
    name_column: str = "name",
) -> BorderPlacement:
    """Return the border point at the end of the named access road.

    This is ``location_method: border_road_end``: of all ends of the road (see
    :func:`road_ends`), the one closest to the border is taken and projected onto the border line
    (nearest point, in :data:`METRIC_CRS`).

    Parameters
    ----------
    border : shapely geometry, GeoSeries or GeoDataFrame
        Border line(s): WGS 84 (shapely input) or any CRS (GeoPandas input). Pass only the line
        of the gate's neighbour (see :func:`select_border`).
    roads : geopandas.GeoDataFrame
        The ``roads`` layer (any CRS).
    road_name : str
        Name of the access road, e.g. ``"Quốc lộ 12"``.
    max_distance_m : float, default 15000
        The chosen road end must lie within this distance of the border (m).
    name_column : str, default "name"
        Column of ``roads`` holding the road name.

    Returns
    -------
    BorderPlacement
        The placed point; ``from_lon``/``from_lat`` is the road end, ``offset_m`` its distance to
        the border line.

    Raises
    ------
    ValueError
        If the road is not in the layer, or its nearest end is farther than ``max_distance_m``
        from the border (the message names the road and the distance).
    """
    border_m = _metric_union(border)
    ends = road_ends(roads, road_name, name_column=name_column)
    end = min(ends, key=border_m.distance)
    dist = float(border_m.distance(end))
    if dist > max_distance_m:
        raise ValueError(
            f"road {road_name!r} does not reach the border: its nearest end is "
            f"{dist / 1000:.1f} km from the border line (limit {max_distance_m / 1000:.1f} km)"
        )
    return _place_on(border_m, end)


# -- reproducibility check of the catalog ---------------------------------------------------------

#: ``location_method`` values whose coordinates are computed by this module.
COMPUTED_METHODS: tuple[str, ...] = ("border_road_end", "border_nearest_anchor")


@dataclass(frozen=True)
class GateCheck:
    """One catalog place checked against the border line and, if computed, its recomputation.

    Attributes
    ----------
    id, method : str
        Catalog id and ``location_method``.
    catalog_lat, catalog_lon : float
        Coordinates written in the catalog.
    computed_lat, computed_lon : float or None
        Recomputed coordinates (computed methods only), not rounded.
    difference_m : float or None
        Distance between catalog and recomputed point (m).
    border_distance_m : float
        Distance from the catalog point to the border line of its neighbour (m).
    error : str or None
        Why the recomputation failed, if it did.
    """

    id: str
    method: str
    catalog_lat: float
    catalog_lon: float
    computed_lat: float | None
    computed_lon: float | None
    difference_m: float | None
    border_distance_m: float
    error: str | None = None


def compute_place(
    entry: dict,
    border: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    max_distance_m: float = DEFAULT_MAX_ROAD_END_DISTANCE_M,
) -> BorderPlacement:
    """Recompute the coordinates of one catalog entry placed by a computed method.

    Parameters
    ----------
    entry : dict
        A ``places.yaml`` entry with ``location_method`` ``border_road_end`` (needs
        ``access_road``) or ``border_nearest_anchor`` (needs ``anchor: {lat, lon}``); its
        ``neighbour`` (``CHN``/``LAO``), when given, selects the border line.
    border : geopandas.GeoDataFrame
        The ``border`` layer.
    roads : geopandas.GeoDataFrame
        The ``roads`` layer.
    max_distance_m : float, default 15000
        Passed to :func:`border_point_at_road_end`.

    Returns
    -------
    BorderPlacement

    Raises
    ------
    ValueError
        If the method is not a computed one, a required field is missing, or the placement fails.
    """
    method = entry.get("location_method")
    line = select_border(border, entry.get("neighbour"))
    if method == "border_road_end":
        road = entry.get("access_road")
        if not road:
            raise ValueError("border_road_end needs the field access_road")
        return border_point_at_road_end(line, roads, str(road), max_distance_m=max_distance_m)
    if method == "border_nearest_anchor":
        anchor = entry.get("anchor") or {}
        if "lat" not in anchor or "lon" not in anchor:
            raise ValueError("border_nearest_anchor needs anchor: {name, lat, lon, source}")
        return border_point_nearest(line, Point(float(anchor["lon"]), float(anchor["lat"])))
    raise ValueError(f"location_method {method!r} is not computed by corridors.catalog.placement")


def check_places(
    entries: list[dict],
    border: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
) -> list[GateCheck]:
    """Check border gates and computed places of ``places.yaml`` against the layers.

    Every ``border_gate`` and every entry with a computed ``location_method`` is checked: its
    distance to the border line of its ``neighbour`` is measured, and computed entries are
    recomputed and compared with the catalog.

    Parameters
    ----------
    entries : list of dict
        The raw entries of ``places.yaml``.
    border, roads : geopandas.GeoDataFrame
        The ``border`` and ``roads`` layers.

    Returns
    -------
    list of GateCheck
        One per checked entry, in catalog order.
    """
    out: list[GateCheck] = []
    for e in entries:
        method = str(e.get("location_method", ""))
        if e.get("kind") != "border_gate" and method not in COMPUTED_METHODS:
            continue
        lat, lon = float(e["lat"]), float(e["lon"])
        here = to_metric(Point(lon, lat))
        try:
            line = select_border(border, e.get("neighbour"))
        except ValueError:
            line = border
        dist = float(_metric_union(line).distance(here))
        c_lat = c_lon = diff = None
        error = None
        if method in COMPUTED_METHODS:
            try:
                placed = compute_place(e, border, roads)
            except ValueError as exc:
                error = str(exc)
            else:
                c_lat, c_lon = placed.lat, placed.lon
                diff = float(to_metric(placed.point).distance(here))
        out.append(GateCheck(str(e.get("id")), method, lat, lon, c_lat, c_lon, diff, dist, error))
    return out
