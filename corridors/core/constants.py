"""Constants every room shares: the coordinate reference systems and the plausible years.

Each one is defined here and only here; modules import it from this module (``core`` is the
lowest room, so every other room may).
"""

from __future__ import annotations

__all__ = ["HISTORIC_YEAR_MIN", "METRIC_CRS", "WGS84", "YEAR_MAX", "YEAR_MIN"]

#: Geographic CRS of inputs, network tables and outputs (longitude, latitude in degrees).
WGS84 = "EPSG:4326"
#: Metric CRS of every length, buffer, snap and projection: WGS 84 / UTM zone 48 N (metres),
#: which covers the northern provinces and their borders with China and Laos.
METRIC_CRS = "EPSG:32648"

#: Years a network, a scenario, a planned opening or an observation may be (inclusive): the
#: catalogs, the scenario files, the command line and the observed travel times all check them.
YEAR_MIN, YEAR_MAX = 2000, 2060
#: Earliest opening year of an existing link (the Hà Nội – Đồng Đăng railway opened in 1902).
HISTORIC_YEAR_MIN = 1850
