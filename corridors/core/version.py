"""The version of the installed ``corridors`` distribution.

Here, in the lowest room, so that modules that record it (run provenance, the GIS export, the
``--version`` option) need not import the top-level package, which holds the public API above
every room.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("corridors")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
