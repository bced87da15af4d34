"""Plain descriptions of what the network builder inserts: facilities and links.

The planning domain (``corridors``) turns its catalogs into these specs, so that ``network`` never
depends on the catalog format and can be fed by any source.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Facility:
    """A place that becomes a network node: gate, port, dry port, airport, station, city.

    Attributes
    ----------
    id : str
        Stable id (the catalog place id).
    name : str
        Display name.
    kind : str
        Node kind of the schema: gate, port, dry_port, airport, station, place.
    lon, lat : float
        Degrees, WGS 84.
    open_year : int or None
        Year the facility opens; None when it exists in every year.
    project : str or None
        The project that builds the facility (its edges and node carry this tag); None when it
        exists in every year.
    attrs : dict
        Extra node attributes (for example ``neighbour`` of a gate).
    """

    id: str
    name: str
    kind: str
    lon: float
    lat: float
    open_year: int | None = None
    project: str | None = None
    attrs: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class LinkSpec:
    """A link drawn through waypoints: an expressway, railway, waterway or air route.

    Attributes
    ----------
    id : str
        Stable id (the catalog project or link id).
    name : str
        Display name.
    mode : str
        road, rail, water or air.
    link_class : str
        Class of the schema (expressway, national, standard, metre, dual, river, air …).
    points : tuple of (lon, lat)
        Waypoints in order, degrees.
    place_ids : tuple of str or None
        The facility each waypoint stands for, where it is one (joins the link to that node).
    length_km : float or None
        Official length (km); where given, it governs the length of the schematic geometry.
    open_year : int or None
        Year the link opens; None when it exists in every year.
    lanes : int or None
        Lanes, where known.
    design_speed_kmh : float or None
        Design speed (km/h), where known.
    upgrades : str or None
        Id of an existing link whose edges this spec upgrades (widening) instead of adding new
        edges.
    project : str or None
        The project tag its edges carry, when it is not ``id`` (an air route opened by the
        airport project it serves).
    """

    id: str
    name: str
    mode: str
    link_class: str
    points: tuple[tuple[float, float], ...]
    place_ids: tuple[str | None, ...] = ()
    length_km: float | None = None
    open_year: int | None = None
    lanes: int | None = None
    design_speed_kmh: float | None = None
    upgrades: str | None = None
    project: str | None = None

    @property
    def tag(self) -> str:
        """The project tag of the edges this spec brings."""
        return self.project or self.id
