"""The canonical graph model shared by every way of building the network.

Every builder (embedded backbone, OSM extract, Overpass) produces the same two tables, which
:func:`network.graph.to_graph` turns into a :class:`networkx.MultiDiGraph` following OSMnx
conventions (``G.graph["crs"]``, node attributes ``x`` and ``y`` in degrees and
``street_count``; edge attributes ``osmid``, ``length`` in m, ``speed_kph`` and ``travel_time``
in s of a car, ``inf`` on edges a car cannot use: see :mod:`network.graph`). Only the graph
carries those: the tables, and so the GeoPackage, do not.

Nodes (GeoDataFrame of points, EPSG:4326, index ``node``: int64 id)

=============  ==========================================================================
column         meaning
=============  ==========================================================================
x, y           longitude, latitude (degrees)
kind           junction | gate | station | port | dry_port | airport | place
name           name where known
place_id       catalog place id where the node stands for one (gates, ports, capitals …)
source         where the node comes from (``osm:node/123``, ``backbone``, ``catalog:gate_x``)
=============  ==========================================================================

Edges (GeoDataFrame of lines, EPSG:4326, one row per direction of travel)

=================  ======================================================================
column             meaning
=================  ======================================================================
u, v               node ids (from, to)
key                parallel-edge key (0 unless two edges join the same nodes)
mode               road | rail | water | air | transfer
class              road: expressway, national, provincial, district, local, link, connector;
                   rail: metre, dual, standard; water: river; air: air;
                   transfer: road_rail, road_water, road_air, road_dry_port, border
length_km          length along the geometry, km (the official length where the catalog
                   gives one and the geometry is schematic)
terrain            flat | hilly | mountainous (roads; empty for other modes)
lanes              lanes where known
design_speed_kmh   design speed where known (km/h)
maxspeed_kmh       posted speed from OSM where tagged (km/h)
speed_kmh_car      operating speed of a car (km/h)
speed_kmh_truck    operating speed of a truck (km/h)
time_h_car         travel time of a car, hours (includes fixed times of transfers)
time_h_truck       travel time of a truck, hours
cost_vnd_truck     fixed handling cost of freight transfers (VND per TEU), else 0
source             ``osm:way/123``, ``giaothong:gt_12``, ``catalog:a3_1_01``, ``transfer``
project            catalog project or link id the edge belongs to, else empty
open_year          year the edge opens (catalog items), empty for the base network
schematic          True where the geometry is drawn through waypoints, not surveyed
geometry           LineString in travel direction
=================  ======================================================================
"""

from __future__ import annotations

MODES = ("road", "rail", "water", "air", "transfer")
NODE_KINDS = ("junction", "gate", "station", "port", "dry_port", "airport", "place")
ROAD_CLASSES = ("expressway", "national", "provincial", "district", "local", "link",
                "connector")
RAIL_CLASSES = ("metre", "dual", "standard")
TRANSFER_CLASSES = ("road_rail", "road_water", "road_air", "road_dry_port", "border")
TERRAINS = ("flat", "hilly", "mountainous")
PROFILES = ("car", "truck")
#: Routing profiles: the time column each uses and the modes it may travel on. Car and truck
#: drive (transfer edges only give access to facilities); passenger adds trains and flights at
#: car-side timings, freight adds trains and barges with truck-side handling times and costs.
ROUTING_PROFILES: dict[str, tuple[str, frozenset[str]]] = {
    "car": ("car", frozenset({"road", "transfer"})),
    "truck": ("truck", frozenset({"road", "transfer"})),
    "passenger": ("car", frozenset({"road", "transfer", "rail", "air"})),
    "freight": ("truck", frozenset({"road", "transfer", "rail", "water"})),
}

NODE_COLUMNS = ["x", "y", "kind", "name", "place_id", "source"]
EDGE_COLUMNS = ["u", "v", "key", "mode", "class", "length_km", "terrain", "lanes",
                "design_speed_kmh", "maxspeed_kmh", "speed_kmh_car", "speed_kmh_truck",
                "time_h_car", "time_h_truck", "cost_vnd_truck", "source", "project",
                "open_year", "schematic"]

