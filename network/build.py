"""The network of a year, or of any set of projects, as a mask over one master network.

:func:`build_master` assembles the backbone with every facility and link, classifies terrain and
assigns speeds once. :func:`tables_for_year` and :func:`tables_for_projects` select the edges
present in a year or with a given set of projects: the 2025 and 2030 networks, and the variants
of per-project attribution ("2030 without P", "2025 with P"), come from one code path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
from corridors.network.assemble import AssemblyReport, active_edges, assemble, projects_open_by
from corridors.network.backbone import Backbone
from corridors.network.specs import Facility, LinkSpec
from corridors.network.speeds import SpeedTable, assign_speeds
from corridors.network.terrain import add_terrain
from corridors.network.urban import add_urban_share


@dataclass(frozen=True)
class MasterNetwork:
    """Every facility and link on the backbone, with terrain, speeds and times.

    Attributes
    ----------
    nodes, edges : geopandas.GeoDataFrame
        Canonical tables with ``project``, ``open_year`` and ``superseded_by`` tags.
    assembly : AssemblyReport
    """

    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    assembly: AssemblyReport


@dataclass(frozen=True)
class NetworkTables:
    """The network of one year (or one set of projects) as canonical tables.

    Attributes
    ----------
    year : int
    nodes, edges : geopandas.GeoDataFrame
        Canonical tables (EPSG:4326) with terrain, speeds (km/h) and times (h).
    assembly : AssemblyReport
        What was inserted and what could not be joined, for the projects present.
    projects : frozenset of str
        The project tags present.
    """

    year: int
    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    assembly: AssemblyReport
    projects: frozenset[str] = frozenset()


def build_master(backbone: Backbone, facilities: Iterable[Facility], links: Iterable[LinkSpec],
                 *, dem_paths: Sequence[str | Path] | None = None,
                 speed_table: SpeedTable | None = None,
                 speed_overrides: Mapping | None = None) -> MasterNetwork:
    """Assemble every facility and link, then classify terrain and assign speeds.

    Parameters
    ----------
    backbone : Backbone
        Base network (embedded backbone or an OSM extract), with terrain already classified.
    facilities, links : iterable
        What to insert (all of it, whatever its year).
    dem_paths : sequence of path, optional
        DEMs for the terrain of inserted road edges (default: the embedded ones).
    speed_table : SpeedTable, optional
        Default: ``data/speeds.yaml``.
    speed_overrides : mapping, optional
        Scenario speeds (km/h) by class, project or source; see
        :func:`network.speeds.assign_speeds`.

    Returns
    -------
    MasterNetwork
    """
    nodes, edges, report = assemble(backbone, facilities, links)
    edges = add_terrain(edges, dem_paths)
    edges = add_urban_share(edges)
    edges = assign_speeds(edges, speed_table, speed_overrides)
    return MasterNetwork(nodes=nodes, edges=edges, assembly=report)


def tables_for_projects(master: MasterNetwork, active: set[str], year: int) -> NetworkTables:
    """Return the network with the ``active`` projects (and everything untagged).

    Parameters
    ----------
    master : MasterNetwork
    active : set of str
        Project tags present.
    year : int
        The year the variant stands for (recorded on the tables).
    """
    edges = master.edges[active_edges(master.edges, active)].copy()
    edges["year"] = year
    project = master.nodes.get("project")
    keep = (np.ones(len(master.nodes), dtype=bool) if project is None
            else (project.isna() | project.isin(active)).to_numpy())
    # a waypoint shared by links of several projects carries no tag: it is present only when
    # one of them is (it then has edges); catalog places stay whatever their edges
    shared = master.nodes["source"].astype(str).str.startswith("catalog:").to_numpy() \
        & master.nodes["place_id"].isna().to_numpy() & (project.isna().to_numpy()
                                                         if project is not None else True)
    touched = master.nodes.index.isin(np.union1d(edges["u"].to_numpy(), edges["v"].to_numpy()))
    nodes = master.nodes[keep & (~shared | touched)]
    return NetworkTables(year=year, nodes=nodes, edges=edges,
                         assembly=master.assembly.for_projects(active),
                         projects=frozenset(active))


def tables_for_year(master: MasterNetwork, year: int) -> NetworkTables:
    """Return the network of ``year``: every project open by then."""
    return tables_for_projects(master, projects_open_by(master.edges, year), year)


def build_tables(backbone: Backbone, facilities: Iterable[Facility], links: Iterable[LinkSpec],
                 year: int, **kwargs) -> NetworkTables:
    """Build the network of ``year`` (a master network masked to the year).

    Keyword arguments go to :func:`build_master`.
    """
    return tables_for_year(build_master(backbone, facilities, links, **kwargs), year)
