"""Corridor planning toolkit for Vietnam's Northern Midlands and Mountains.

The planning domain: catalogs of the government's projects, corridors and places, their
validation, the networks of each year, their analyses and maps, and the ``corridors`` command.

The Python API (:mod:`corridors.api`) is available from here, imported on first use so that
``import corridors.core.names`` does not load the whole toolkit:

=========================  =======================================================================
:func:`build_network`      the network of a year (``.graph``: a networkx MultiDiGraph)
:func:`route`              the fastest route between two places (time in h, length in km)
:func:`analyse`            every analysis of two years: tables (pandas DataFrames) and maps
:func:`run`                the main job for the base and each scenario (writes only with ``out``)
:func:`make_map`           a map of a run as a folium.Map, shown inline in a notebook
=========================  =======================================================================

Examples
--------
>>> import corridors
>>> net = corridors.build_network(2030)
>>> trip = corridors.route(net, "Hà Nội", "Lào Cai")
>>> trip["time_h"]                                       # doctest: +SKIP
3.5264
"""

# Imported under private names: dir(corridors) lists the API, not these.
from importlib import import_module as _import_module
from typing import TYPE_CHECKING as _TYPE_CHECKING

from corridors.core.version import __version__ as __version__

#: The public API: name to the module that defines it (imported on first access, PEP 562).
_API = {
    "build_network": "corridors.api",
    "route": "corridors.api",
    "analyse": "corridors.api",
    "run": "corridors.api",
    "make_map": "corridors.api",
    "Network": "corridors.api",
    "Run": "corridors.api",
    "RunResults": "corridors.api",
}

__all__ = ["Network", "Run", "RunResults", "__version__", "analyse", "build_network",
           "make_map", "route", "run"]

if _TYPE_CHECKING:  # for type checkers and IDEs; at run time, __getattr__ imports on demand
    from corridors.api import (
        Network,
        Run,
        RunResults,
        analyse,
        build_network,
        make_map,
        route,
        run,
    )


def __getattr__(name: str) -> object:
    """Import an API name on first use (PEP 562)."""
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'corridors' has no attribute {name!r}")
    value = getattr(_import_module(module), name)
    globals()[name] = value  # later lookups find it without this function
    return value


def __dir__() -> list[str]:
    """List the API (imported or not), the subpackages imported so far and the dunders."""
    return sorted(set(__all__) | {k for k in globals() if not k.startswith("_")}
                  | {k for k in globals() if k.startswith("__") and k.endswith("__")})
