"""Corridor planning toolkit for Vietnam's Northern Midlands and Mountains.

The planning domain: catalogs of the government's projects, corridors and places, their validation,
and the ``corridors`` command.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("corridors")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
