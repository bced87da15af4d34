"""The network of a year: backbone + open facilities and links, with terrain, speeds and times."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from network.assemble import AssemblyReport, assemble
from network.backbone import Backbone
from network.specs import Facility, LinkSpec
from network.speeds import SpeedTable, assign_speeds
from network.terrain import add_terrain


@dataclass(frozen=True)
class NetworkTables:
    """The network of one year as canonical tables.

    Attributes
    ----------
    year : int
    nodes, edges : geopandas.GeoDataFrame
        Canonical tables (EPSG:4326) with terrain, speeds (km/h) and times (h).
    assembly : AssemblyReport
        What was inserted and what could not be joined.
    """

    year: int
    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    assembly: AssemblyReport


def build_tables(backbone: Backbone, facilities: Iterable[Facility], links: Iterable[LinkSpec],
                 year: int, *, dem_paths: Sequence[str | Path] | None = None,
                 speed_table: SpeedTable | None = None,
                 speed_overrides: Mapping | None = None) -> NetworkTables:
    """Build the network of ``year``.

    Parameters
    ----------
    backbone : Backbone
        Base network (embedded backbone or an OSM extract), with terrain already classified.
    facilities, links : iterable
        What to insert; items opening after ``year`` are left out.
    year : int
        Year of the network.
    dem_paths : sequence of path, optional
        DEMs for the terrain of inserted road edges (default: the embedded ones).
    speed_table : SpeedTable, optional
        Default: ``data/speeds.yaml``.
    speed_overrides : mapping, optional
        Scenario speeds (km/h) by class, project or source; see
        :func:`network.speeds.assign_speeds`.

    Returns
    -------
    NetworkTables
    """
    nodes, edges, report = assemble(backbone, facilities, links, year)
    edges = add_terrain(edges, dem_paths)
    edges = assign_speeds(edges, speed_table, speed_overrides)
    edges["year"] = year
    return NetworkTables(year=year, nodes=nodes, edges=edges, assembly=report)
