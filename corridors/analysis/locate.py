"""Turn what a user types (a catalog place in any spelling, or "lat,lon") into a network node."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from pyproj import Geod

from corridors.build.analysis_network import AnalysisNetwork

_LATLON = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")
_GEOD = Geod(ellps="WGS84")
#: A coordinate farther than this from any road of the network is refused (km).
MAX_SNAP_KM = 50.0


@dataclass(frozen=True)
class Located:
    """A user's place on the network: its node, how it was named, and the snap distance."""

    query: str
    node: int
    label: str
    place_id: str | None
    lat: float
    lon: float
    snap_km: float


def locate(net: AnalysisNetwork, query: str) -> Located:
    """Return the node for a catalog place ("Lào Cai", "lao cai", an id) or "lat,lon".

    Raises
    ------
    LookupError
        For an unknown place (with suggestions), a place not in this year's network, or a
        coordinate too far from the network.
    """
    if m := _LATLON.match(query):
        lat, lon = float(m.group(1)), float(m.group(2))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise LookupError(f"{query!r} is not a valid 'lat,lon'")
        e = net.tables.edges
        road = e[(e["mode"] == "road") & (e["class"] != "expressway")]
        ids = np.unique(road[["u", "v"]].to_numpy())
        xy = net.tables.nodes.loc[ids, ["x", "y"]].to_numpy()
        d = _GEOD.inv(np.full(len(xy), lon), np.full(len(xy), lat), xy[:, 0], xy[:, 1])[2]
        i = int(np.argmin(d))
        if d[i] / 1000 > MAX_SNAP_KM:
            raise LookupError(f"({lat}, {lon}) lies {d[i] / 1000:.0f} km from the nearest road "
                              f"of the network (at most {MAX_SNAP_KM:g} km)")
        return Located(query, int(ids[i]), f"{lat:.5f},{lon:.5f}", None, lat, lon,
                       round(d[i] / 1000, 3))
    place = net.catalog.find_place(query)
    if place.kind == "bgez":
        gate = net.bgez_gate(place)
        if gate is None:
            raise LookupError(f"{place.name_vi} has no gate in the {net.label} network")
        place = gate
    node = net.node_of(place.id)
    if node is None:
        raise LookupError(f"{place.name_vi} ({place.id}) is not in the {net.label} network "
                          "(a planned facility not open yet?)")
    return Located(query, node, place.name_vi, place.id, place.lat, place.lon, 0.0)
