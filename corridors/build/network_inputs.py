"""Turn the catalog into what the network builder inserts, and say what it cannot model.

Rules (why each item becomes what it becomes):

* Border gates, cities and towns, airports, seaports, river ports and dry ports become facility
  nodes. A planned facility opens with the catalog project that builds it (the project whose
  location is the facility, or whose alignment passes through it); without such a project it is
  left out and reported. BGEZs are represented by their gates; tri-point markers are not nodes.
* Existing links and projects with an alignment become links drawn through their waypoints, with
  their official length. Widenings (``upgrades``) change the standard of the link they name.
  Entries listed twice (``same_as``) are modelled once, by the entry named.
* Existing railways are represented by the OSM railways of the backbone, and existing national
  roads given by reference (QL1A, QL2) by its roads; they are not drawn again.
* A new airport is served from Nội Bài by an air route from its opening year (assumption: the
  region's routes radiate from Hà Nội, as the one existing route, Hà Nội – Điện Biên, does).
* Programmes without an alignment, upgrades of unspecified segments of named roads, and point
  works that change no travel time (bridge clearance, a rail link at a gate) are listed as not
  modelled, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from corridors.catalog.model import Catalog, Place, Project
from corridors.network.schema import ROAD_CLASSES
from corridors.network.specs import Facility, LinkSpec

#: Hub of the region's air routes.
AIR_HUB = "airport_noi_bai"

_PLACE_KIND = {"border_gate": "gate", "city": "place", "town": "place", "airport": "airport",
               "seaport": "port", "river_port": "port", "dry_port": "dry_port"}
_MODE = {"road": "road", "rail": "rail", "waterway": "water", "air": "air"}
_RAIL_CLASS = {"rail_standard": "standard", "rail_dual": "dual", "rail_metre": "metre"}
#: Facility kinds a link of each mode passes through (other places get their own waypoint node).
_REUSE = {"road": {"place", "gate", "port", "airport", "dry_port"},
          "rail": {"gate", "dry_port"}, "water": {"port"}, "air": {"airport"}}


@dataclass(frozen=True)
class NotModelled:
    """A catalog item the network does not represent, and why."""

    id: str
    name: str
    reason: str


def _facility_projects(cat: Catalog) -> dict[str, Project]:
    """Return the project that opens each planned facility: the first one building it."""
    first: dict[str, Project] = {}
    for p in cat.projects.values():
        if p.attrs.get("same_as"):
            continue
        ids = [p.place_id] if p.location_type == "point" else [w.place_id for w in p.waypoints]
        for pid in ids:
            if pid and pid in cat.places and cat.places[pid].attrs.get("status") == "planned" \
                    and (pid not in first or p.open_year < first[pid].open_year):
                first[pid] = p
    return first


def facilities(cat: Catalog) -> tuple[list[Facility], list[NotModelled]]:
    """Return the facility nodes of the catalog and the places left out.

    Returns
    -------
    facilities : list of Facility
    left_out : list of NotModelled
    """
    builders = _facility_projects(cat)
    out, left = [], []
    for p in cat.places.values():
        kind = _PLACE_KIND.get(p.kind)
        if kind is None:
            continue
        year = project = None
        if p.attrs.get("status") == "planned":
            if p.id not in builders:
                left.append(NotModelled(p.id, p.name, "planned facility that no catalog project "
                                        "builds"))
                continue
            year, project = builders[p.id].open_year, builders[p.id].id
        attrs = {k: p.attrs[k] for k in ("neighbour", "gate_class", "gate_mode") if k in p.attrs}
        out.append(Facility(p.id, p.name_vi, kind, p.lon, p.lat, year, project, attrs))
    return out, left


def _link_class(p: Project) -> str:
    std = p.standard.get("road_class", "")
    if p.mode == "rail":
        return _RAIL_CLASS.get(std, "standard" if p.kind != "existing" else "metre")
    if p.mode == "waterway":
        return "river"
    if p.mode == "air":
        return "air"
    if std in ROAD_CLASSES:
        return std
    return "expressway" if p.category == "highway" else "national"


def _spec(p: Project, cat: Catalog, facility_kinds: dict[str, str]) -> LinkSpec:
    mode = _MODE[p.mode]
    reuse = _REUSE[mode]
    place_ids = tuple(w.place_id if w.place_id and facility_kinds.get(w.place_id) in reuse
                      else None for w in p.waypoints)
    return LinkSpec(
        id=p.id, name=p.name, mode=mode, link_class=_link_class(p),
        points=tuple((w.lon, w.lat) for w in p.waypoints), place_ids=place_ids,
        length_km=p.length_km, open_year=p.open_year, lanes=p.standard.get("lanes"),
        design_speed_kmh=p.standard.get("design_speed_kmh"),
    )


def link_specs(cat: Catalog, facility_list: list[Facility] | None = None
               ) -> tuple[list[LinkSpec], list[NotModelled]]:
    """Return the links to draw (existing links and projects) and the items not modelled.

    Parameters
    ----------
    cat : Catalog
    facility_list : list of Facility, optional
        The facilities the network will hold (default: :func:`facilities` of ``cat``); links
        pass through the nodes of these.

    Returns
    -------
    specs : list of LinkSpec
    not_modelled : list of NotModelled
    """
    if facility_list is None:
        facility_list, _ = facilities(cat)
    kinds = {f.id: f.kind for f in facility_list}
    specs, skipped = [], []
    for p in [*cat.links.values(), *cat.projects.values()]:
        same = p.attrs.get("same_as")
        upgrades = p.attrs.get("upgrades")
        if same:
            skipped.append(NotModelled(p.id, p.name, f"the same works as {same}, modelled there"))
        elif upgrades:
            specs.append(LinkSpec(id=p.id, name=p.name, mode=_MODE.get(p.mode, p.mode),
                                  link_class=_link_class(p), points=(), open_year=p.open_year,
                                  lanes=p.standard.get("lanes"),
                                  design_speed_kmh=p.standard.get("design_speed_kmh"),
                                  upgrades=upgrades))
        elif p.kind == "existing" and p.mode == "rail":
            skipped.append(NotModelled(p.id, p.name, "represented by the OSM railways of the "
                                       "backbone"))
        elif p.location_type == "alignment" and p.mode in _MODE:
            specs.append(_spec(p, cat, kinds))
        elif p.location_type == "network_ref":
            what = "existing road of the backbone" if p.kind == "existing" else (
                "upgrade of unspecified segments of " + ", ".join(p.refs))
            skipped.append(NotModelled(p.id, p.name, what))
        elif p.location_type == "programme":
            skipped.append(NotModelled(p.id, p.name, "programme without a single alignment"))
        elif p.location_type == "point":
            place = cat.places.get(p.place_id) if p.place_id else None
            if place is not None and place.kind in {"airport", "dry_port"}:
                if place.attrs.get("status") == "planned":
                    continue  # the facility itself opens in the project's year
                skipped.append(NotModelled(p.id, p.name, f"upgrade of the existing {place.kind} "
                                           f"{place.id}: no change of travel time modelled"))
            else:
                skipped.append(NotModelled(p.id, p.name, "point works that change no modelled "
                                           "travel time"))
    specs += _air_routes(cat, facility_list, {s.id for s in specs})
    return specs, skipped


def _air_routes(cat: Catalog, facility_list: list[Facility], have: set[str]) -> list[LinkSpec]:
    """Air routes from the hub to each planned airport, from its opening year."""
    hub: Place | None = cat.places.get(AIR_HUB)
    routes = []
    for f in facility_list:
        if f.kind != "airport" or f.open_year is None or hub is None:
            continue
        rid = f"air_{AIR_HUB.removeprefix('airport_')}_{f.id.removeprefix('airport_')}"
        if rid in have:
            continue
        routes.append(LinkSpec(id=rid, name=f"{hub.name} - {f.name} air route", mode="air",
                               link_class="air", points=((hub.lon, hub.lat), (f.lon, f.lat)),
                               place_ids=(hub.id, f.id), open_year=f.open_year,
                               project=f.project))
    return routes
