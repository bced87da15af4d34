"""Downloading the transport layers of an area from the Overpass API (through OSMnx).

:func:`download_osm` asks for what :func:`corridors.layers.osm.read_osm` keeps
(:data:`OVERPASS_SELECTION`) and writes the answer as an OSM XML file
(:mod:`corridors.layers.osm_writer`), which is then read like any extract.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import shapely
from corridors.layers.osm_selection import (
    RAILWAY_TYPES,
    ROAD_HIGHWAYS,
    STATION_TYPES,
    WATERWAY_TYPES,
    XML_SUFFIXES,
    Bbox,
    OsmReadError,
    fmt_bounds,
    requested_area,
)
from corridors.layers.osm_writer import write_osm_xml
from shapely.geometry import Polygon

#: Where to get an extract when Overpass cannot be used.
GEOFABRIK_HINT = "https://download.geofabrik.de/asia/vietnam-latest.osm.pbf"
#: Seconds to wait for the Overpass server's ``/status`` page before the first query that is
#: not in OSMnx's cache (OSMnx itself would pause 60 s, then fail, when offline).
OVERPASS_CHECK_TIMEOUT_S = 20.0


def _values_regex(values: Iterable[str]) -> str:
    """Anchored Overpass regular expression matching exactly one of ``values``."""
    return f"^({'|'.join(values)})$"


#: Overpass QL statements selecting what :func:`read_osm` keeps; ``{area}`` stands for the
#: area filter (``(poly:"lat lon ...")``). The query adds the nodes of the ways and the member
#: ways (and their nodes) of aerodrome relations.
OVERPASS_SELECTION: tuple[str, ...] = (
    f'way["highway"~"{_values_regex(ROAD_HIGHWAYS)}"]{{area}};',
    f'way["railway"~"{_values_regex(RAILWAY_TYPES)}"]{{area}};',
    f'way["waterway"~"{_values_regex(WATERWAY_TYPES)}"]{{area}};',
    f'node["railway"~"{_values_regex(STATION_TYPES)}"]{{area}};',
    'nwr["aeroway"="aerodrome"]{area};',
    'node["barrier"="border_control"]{area};',
)


def download_osm(bbox: Bbox | None = None,
                 polygon: Polygon | shapely.MultiPolygon | None = None, *,
                 out_path: str | Path, cache_folder: str | Path | None = None,
                 use_cache: bool | None = None) -> Path:
    """Download the transport layers of an area from the Overpass API into an OSM XML file.

    The query selects what :func:`read_osm` keeps (:data:`OVERPASS_SELECTION`: roads of
    :data:`ROAD_HIGHWAYS`, railways, rivers and canals, stations, aerodromes and border
    controls) with the nodes of their ways; the file is then read with :func:`read_osm` like
    any extract. It is sent with OSMnx's Overpass machinery, so ``osmnx.settings`` apply:
    ``overpass_url`` (server), ``requests_timeout`` (seconds, also the server-side query
    timeout), ``overpass_rate_limit``, ``max_query_area_size`` (larger areas are split into
    several queries, each cached on its own) and the response cache (``use_cache``,
    ``cache_folder``).

    Parameters
    ----------
    bbox : tuple of float, optional
        ``(west, south, east, north)`` in degrees (EPSG:4326).
    polygon : shapely.Polygon or shapely.MultiPolygon, optional
        An area in EPSG:4326 degrees (combined with ``bbox`` when both are given: their
        intersection). One of ``bbox`` and ``polygon`` is required.
    out_path : str or pathlib.Path
        The file to write: ``.osm`` or ``.xml``, optionally ``.gz`` or ``.bz2`` (compressed
        accordingly). It is replaced only once the whole download succeeded.
    cache_folder : str or pathlib.Path, optional
        Folder of OSMnx's cache of Overpass responses for this download (default
        ``osmnx.settings.cache_folder``).
    use_cache : bool, optional
        Whether to use that cache (default ``osmnx.settings.use_cache``); False downloads
        anew.

    Returns
    -------
    pathlib.Path
        ``out_path``. Its ``<bounds>`` are those of the requested area, so the extent
        :func:`read_osm` reports is the area asked for.

    Raises
    ------
    OsmReadError
        When the area is invalid, or the download fails (no connection, the server cannot be
        reached, refuses the query or stops it, e.g. on its timeout); the message names the
        area and suggests an extract from Geofabrik passed with ``--osm``.
    ValueError
        When neither ``bbox`` nor ``polygon`` is given, or ``out_path`` has another suffix.

    Notes
    -----
    OSMnx retries a query that the server answers with HTTP 429 (too many requests) or 504
    (gateway timeout) after 55 s, without limit.
    """
    out_path = Path(out_path)
    if not out_path.name.lower().endswith(XML_SUFFIXES):
        raise ValueError(f"download_osm writes OSM XML: out_path {out_path} must end with one "
                         f"of {', '.join(XML_SUFFIXES)}")
    area = requested_area("Overpass download", bbox, polygon)
    if area is None:  # neither a bbox nor a polygon
        raise ValueError("download_osm needs a bbox or a polygon")
    where = fmt_bounds(area.bounds)
    settings = {"cache_folder": cache_folder, "use_cache": use_cache}
    elements: dict[tuple[str, int], dict] = {}
    osm_base = None
    with _osmnx_settings(**{k: v for k, v in settings.items() if v is not None}):
        for query in _overpass_queries(area):
            response = _overpass_json(query, where)
            osm_base = osm_base or response.get("osm3s", {}).get("timestamp_osm_base")
            for el in response["elements"]:
                elements[(el["type"], int(el["id"]))] = el
    write_osm_xml(elements, area.bounds, out_path, osm_base)
    return out_path


@contextmanager
def _osmnx_settings(**values: object) -> Iterator[None]:
    """Set some ``osmnx.settings`` for the duration of a with-block, then restore them."""
    from osmnx import settings

    old = {k: getattr(settings, k) for k in values}
    try:
        for k, v in values.items():
            setattr(settings, k, v)
        yield
    finally:
        for k, v in old.items():
            setattr(settings, k, v)


def _overpass_queries(area: shapely.Geometry) -> list[str]:
    """Overpass QL queries for ``area``: one per piece OSMnx splits it into."""
    from osmnx import _overpass

    head = _overpass._make_overpass_settings()   # [out:json][timeout:...][maxsize:...]
    queries = []
    for coords in _overpass._make_overpass_polygon_coord_strs(area):
        area_filter = f'(poly:"{coords}")'
        body = "".join(s.format(area=area_filter) for s in OVERPASS_SELECTION)
        queries.append(f"{head};({body});(._;>;);out;")
    return queries


def _overpass_json(query: str, where: str) -> dict:
    """Send one query with OSMnx and return the server's JSON answer.

    Raises :class:`OsmReadError` when the server cannot be reached, refuses the query, or
    answers with a remark (a query stopped by a timeout or the memory limit).
    """
    from collections import OrderedDict

    import requests
    from osmnx import _http, _overpass, settings

    data = OrderedDict(data=query)
    try:
        url = settings.overpass_url.rstrip("/") + "/interpreter"
        prepared = str(requests.Request("GET", url, params=data).prepare().url)
        if not (settings.use_cache and _http._check_cache(prepared)):
            # fail at once when offline (OSMnx would wait 60 s before failing)
            requests.get(settings.overpass_url.rstrip("/") + "/status",
                         headers=_http._get_http_headers(),
                         timeout=min(settings.requests_timeout, OVERPASS_CHECK_TIMEOUT_S),
                         **settings.requests_kwargs)
        response = _overpass._overpass_request(data)
    except requests.ConnectionError as exc:
        raise OsmReadError(_overpass_message(
            where, f"cannot connect to {settings.overpass_url} ({_short(exc)})")) from exc
    except requests.Timeout as exc:
        raise OsmReadError(_overpass_message(
            where, f"{settings.overpass_url} did not answer in time ({_short(exc)})")) from exc
    except (requests.RequestException, OSError, ValueError) as exc:
        # OSMnx's ResponseStatusCodeError and InsufficientResponseError are ValueErrors
        raise OsmReadError(_overpass_message(
            where, f"{settings.overpass_url} refused the query ({_short(exc)})")) from exc
    if "remark" in response:
        raise OsmReadError(_overpass_message(
            where, f"{settings.overpass_url} stopped the query: {_short(response['remark'])}"))
    if not isinstance(response.get("elements"), list):
        raise OsmReadError(_overpass_message(
            where, f"{settings.overpass_url} answered without OSM elements"))
    return response


def _short(text: object, limit: int = 300) -> str:
    """One line of at most ``limit`` characters of ``text``."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _overpass_message(where: str, cause: str) -> str:
    """Message for a failed Overpass download of the area ``where``."""
    return (f"Overpass download of the area {where} failed: {cause}. Check the internet "
            "connection and try again later, or use an OSM extract instead: download one from "
            f"Geofabrik (e.g. {GEOFABRIK_HINT}) and pass it with --osm")
