"""Corridor planning toolkit for Vietnam's Northern Midlands and Mountains.

The planning domain: catalogs of the government's projects, corridors and places, their validation,
and the ``corridors`` command.
"""

from corridors.core.version import __version__ as __version__
