"""Border gates and BGEZs: how well each is tied to Hà Nội, the seaport and the region.

For each gate (and each BGEZ, measured at its first gate in the network), per scenario: time and
distance to Hà Nội, to the Hải Phòng seaport, to Nội Bài airport, to the nearest dry port, to the
nearest expressway entrance, to its provincial capital; the people within 2, 4 and 8 hours; and
whether it is reachable at all. Times are from the gate on the Vietnamese side: border clearance
is not included.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from corridors.analysis.population import PopulationGrid, people_within, pixel_times
from corridors.build.analysis_network import AnalysisNetwork
from corridors.catalog.model import Place

#: The key destinations of the access analyses, by label (catalog place ids).
KEY_DESTINATIONS = {
    "ha_noi": "city_ha_noi",
    "hai_phong_seaport": "seaport_hai_phong",
    "noi_bai_airport": "airport_noi_bai",
}
CUTOFFS_H = (2, 4, 8)
#: A gate joined to the roads from farther than this (km, straight) has unreliable times: the
#: quality report's far-join diagnosis uses 5 km for detours; a gate's own access road of up to
#: 10 km changes its times by well under an hour.
FAR_JOIN_KM = 10.0


def origins(net: AnalysisNetwork) -> list[tuple[Place, Place]]:
    """(item, gate it is measured at): every gate, then every BGEZ."""
    out = [(g, g) for g in net.gates()]
    for p in net.catalog.places.values():
        if p.kind == "bgez" and (g := net.bgez_gate(p)) is not None:
            out.append((p, g))
    return out


def _capital_of(net: AnalysisNetwork, province: str) -> Place | None:
    for p in net.catalog.places.values():
        if "provincial_capital" in p.roles and p.province == province:
            return p
    return None


class _FromSources:
    """One search from the sources, read like :meth:`network.routing.Router.matrix` for any targets.

    The fastest paths from a source do not depend on the targets asked for, so one search (and
    one walk of its trees for the km) serves every matrix of :func:`gate_access`, with the same
    numbers as a :meth:`~network.routing.Router.matrix` call per set of targets.
    """

    def __init__(self, router, sources: np.ndarray):
        self.router = router
        self.time_h, self.pred = router.search(sources)

    def matrix(self, sources: np.ndarray, targets: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Return travel times (h) and lengths (km) from the sources to ``targets``."""
        t = self.router.indices(targets)
        time_h = self.time_h[:, t]
        km = self.router.along_to(self.pred, t, "length")  # the km of these paths only
        km[~np.isfinite(time_h)] = np.inf
        return time_h, km


def _nearest(router, sources: np.ndarray, targets: list[int]) -> tuple[np.ndarray, ...]:
    """Time, length and which target is nearest (by time) from each source.

    ``router`` is a router, or a :class:`_FromSources` of these sources.
    """
    if not targets:
        n = len(sources)
        return np.full(n, np.inf), np.full(n, np.inf), np.full(n, -1)
    t, km = router.matrix(sources, targets)
    j = np.argmin(t, axis=1)
    rows = np.arange(len(sources))
    return t[rows, j], km[rows, j], np.asarray(targets)[j]


def _leading_join_km(net: AnalysisNetwork, router, src: np.ndarray) -> list[float]:
    """Km of join connectors at the start of each source's route to Hà Nội (0 when none)."""
    hn = net.place_nodes.get(KEY_DESTINATIONS["ha_noi"])
    if hn is None:
        return [0.0] * len(src)
    step = router.next_edges(hn)  # one reversed search, not one route per gate
    col = {int(n): i for i, n in enumerate(router.node_ids)}
    source = router.edges["source"].to_numpy()
    km = router.edges["length_km"].to_numpy(dtype=float)
    v = router.edges["v"].to_numpy()
    out = []
    for node in src:
        total, row = 0.0, step[col[int(node)]]
        while row >= 0 and source[row] == "join":
            total += km[row]
            row = step[col[int(v[row])]]
        out.append(round(total, 1))
    return out


def gate_access(net: AnalysisNetwork, profile: str = "car",
                grid: PopulationGrid | None = None) -> pd.DataFrame:
    """Return the access table of every gate and BGEZ (one row each).

    Parameters
    ----------
    net : AnalysisNetwork
    profile : {"car", "truck"}
    grid : PopulationGrid, optional
        When given, adds ``people_within_2h`` / ``4h`` / ``8h``.

    Returns
    -------
    pandas.DataFrame
        ``scenario``, ``profile``, ``id``, ``name``, ``kind`` (border_gate or bgez), ``gate_id``,
        ``province``, ``province_2025``, ``neighbour``, ``gate_class``; for each key destination
        ``time_h_to_<dest>`` and ``length_km_to_<dest>``; ``nearest_dry_port`` with its time and
        length; ``time_h_to_expressway``; ``time_h_to_capital`` and ``length_km_to_capital``;
        ``reachable`` (Hà Nội can be reached); ``gate_joined_from_km`` (km of the straight
        connectors that join the gate to the roads on its route to Hà Nội) and ``times_reliable``
        (False when it exceeds :data:`FAR_JOIN_KM`: the times rest on a straight stand-in for a
        road the data lack); people within the cutoffs.
    """
    router = net.router(profile)
    items = origins(net)
    nodes = net.place_nodes
    src = np.array([nodes[g.id] for _, g in items], dtype=np.int64)
    rows = [{"scenario": net.label, "profile": profile, "id": item.id, "name": item.name_vi,
             "kind": item.kind, "gate_id": gate.id, "province": item.province,
             "province_2025": item.province_2025, "neighbour": gate.attrs.get("neighbour"),
             "gate_class": gate.attrs.get("gate_class")} for item, gate in items]
    table = pd.DataFrame(rows, columns=["scenario", "profile", "id", "name", "kind", "gate_id",
                                        "province", "province_2025", "neighbour", "gate_class"])
    dests = {k: nodes[v] for k, v in KEY_DESTINATIONS.items() if v in nodes}
    searched = _FromSources(router, src)  # every matrix below reads this one search
    if dests:
        t, km = searched.matrix(src, list(dests.values()))
        for j, key in enumerate(dests):
            table[f"time_h_to_{key}"] = t[:, j]
            table[f"length_km_to_{key}"] = km[:, j]
    dry = [nodes[p.id] for p in net.catalog.places.values()
           if p.kind == "dry_port" and p.id in nodes]
    t, km, which = _nearest(searched, src, dry)
    by_node = {n: p for p, n in nodes.items()}
    table["nearest_dry_port"] = [by_node.get(int(w), "") for w in which]
    table["time_h_to_nearest_dry_port"], table["length_km_to_nearest_dry_port"] = t, km
    entrances = net.expressway_entrances()
    table["time_h_to_expressway"] = _nearest(searched, src, list(entrances))[0]
    caps = [_capital_of(net, item.province) for item, _ in items]
    cap_nodes = sorted({nodes[c.id] for c in caps if c is not None and c.id in nodes})
    if cap_nodes:
        t, km = searched.matrix(src, cap_nodes)
        col = {n: j for j, n in enumerate(cap_nodes)}
        table["capital"] = [c.id if c else "" for c in caps]
        table["time_h_to_capital"] = [t[i, col[nodes[c.id]]] if c and c.id in nodes else np.inf
                                      for i, c in enumerate(caps)]
        table["length_km_to_capital"] = [km[i, col[nodes[c.id]]] if c and c.id in nodes
                                         else np.inf for i, c in enumerate(caps)]
    table["reachable"] = (np.isfinite(table["time_h_to_ha_noi"]) if "time_h_to_ha_noi" in table
                          else False)
    # a gate the roads of the data do not reach is joined by a straight connector, however far:
    # its times then rest on that stand-in (A Pa Chải, 105 km from QL12), and the table says so
    table["gate_joined_from_km"] = _leading_join_km(net, router, src)
    table["times_reliable"] = table["gate_joined_from_km"] <= FAR_JOIN_KM
    if grid is not None:
        dist = searched.time_h
        for c in CUTOFFS_H:
            table[f"people_within_{c}h"] = 0.0
        for i in range(len(src)):
            within = people_within(grid, pixel_times(grid, router, dist[i]), CUTOFFS_H)
            for c in CUTOFFS_H:
                table.loc[i, f"people_within_{c}h"] = round(within[c])
    return table


def gate_matrix(net: AnalysisNetwork, profile: str = "car") -> pd.DataFrame:
    """Return the gate-to-gate (and BGEZ) travel-time matrix as a long table.

    Columns: ``scenario``, ``profile``, ``from_id``, ``to_id``, ``time_h``, ``length_km``
    (``inf`` where no route exists).
    """
    router = net.router(profile)
    items = origins(net)
    nodes = net.place_nodes
    src = np.array([nodes[g.id] for _, g in items], dtype=np.int64)
    t, km = _FromSources(router, src).matrix(src, list(src))  # as router.matrix(src, src)
    ids = [item.id for item, _ in items]
    i, j = np.meshgrid(range(len(ids)), range(len(ids)), indexing="ij")
    keep = (i != j).ravel()
    return pd.DataFrame({"scenario": net.label, "profile": profile,
                         "from_id": np.asarray(ids, dtype=object)[i.ravel().astype(np.int64)][keep],
                         "to_id": np.asarray(ids, dtype=object)[j.ravel().astype(np.int64)][keep],
                         "time_h": t.ravel()[keep], "length_km": km.ravel()[keep]})
