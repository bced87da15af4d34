"""A network ready for analysis: its tables, routers per profile, and catalog places on nodes.

It belongs to the build: the build's own routing checks (:mod:`corridors.build.detours`) route over
it, as every analysis does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from corridors.catalog.model import Catalog, Place
from corridors.network.build import NetworkTables
from corridors.network.routing import Router
from corridors.network.schema import ROUTING_PROFILES


@dataclass
class AnalysisNetwork:
    """One scenario-year network with what every analysis needs.

    Attributes
    ----------
    label : str
        How tables name it, e.g. ``"2030"`` or ``"2030 late-sgr"``.
    tables : NetworkTables
    catalog : Catalog
    routers : dict
        Profile (car, truck, passenger, freight) to :class:`network.routing.Router`, built on
        first use.
    """

    label: str
    tables: NetworkTables
    catalog: Catalog
    routers: dict[str, Router] = field(default_factory=dict)
    #: (the node table, place id to node id): computed once per node table
    _places: tuple[object, dict[str, int]] | None = field(default=None, repr=False,
                                                           compare=False)

    def router(self, profile: str = "car") -> Router:
        """Return the router of a profile, building it once."""
        if profile not in ROUTING_PROFILES:
            raise ValueError(f"unknown profile {profile!r}; valid: "
                             + ", ".join(ROUTING_PROFILES))
        if profile not in self.routers:
            self.routers[profile] = Router(self.tables.nodes, self.tables.edges, profile)
        return self.routers[profile]

    @property
    def place_nodes(self) -> dict[str, int]:
        """Catalog place id to node id, for the places in this network (a copy).

        Computed once per node table: every analysis asks for it, and a pass over the nodes of
        a region-scale network takes a tenth of a second.
        """
        n = self.tables.nodes
        if self._places is None or self._places[0] is not n:
            self._places = (n, {p: int(i) for i, p in zip(n.index, n["place_id"],
                                                                strict=True)
                                    if isinstance(p, str)})
        return dict(self._places[1])

    def domestic(self) -> AnalysisNetwork:
        """Return this network without what lies across the border (same label and catalog).

        For analyses whose detours must stay in Vietnam: critical links
        (:func:`network.crossings.domestic_tables`).
        """
        from corridors.network.crossings import domestic_tables

        return AnalysisNetwork(self.label, domestic_tables(self.tables), self.catalog)

    def node_of(self, place_id: str) -> int | None:
        """Return the node of a catalog place, or None when it is not in this network."""
        return self.place_nodes.get(place_id)

    def gates(self) -> list[Place]:
        """Return the border gates present in this network."""
        nodes = self.place_nodes
        return [p for p in self.catalog.places.values()
                if p.kind == "border_gate" and p.id in nodes]

    def bgez_gate(self, bgez: Place) -> Place | None:
        """Return the gate a BGEZ is measured at: its first gate present in the network."""
        nodes = self.place_nodes
        for gid in bgez.attrs.get("gates") or []:
            if gid in nodes:
                return self.catalog.places[gid]
        return None

    def expressway_entrances(self) -> np.ndarray:
        """Return node ids where an expressway meets another road (its entrances)."""
        e = self.tables.edges
        road = e[e["mode"] == "road"]
        xw = road["class"] == "expressway"
        on_xw = set(road.loc[xw, "u"]) | set(road.loc[xw, "v"])
        off_xw = set(road.loc[~xw, "u"]) | set(road.loc[~xw, "v"])
        return np.array(sorted(on_xw & off_xw), dtype=np.int64)
