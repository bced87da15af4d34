"""Writing OSM elements (Overpass JSON) as an OSM XML file, atomically."""

from __future__ import annotations

import bz2
import gzip
from collections.abc import Iterable
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import quoteattr

from corridors.core.atomic import atomic_path


def write_osm_xml(elements: dict[tuple[str, int], dict], bounds: Iterable[float],
                   out_path: Path, osm_base: str | None) -> None:
    """Write Overpass JSON elements as OSM XML (nodes, ways, relations, each by id)."""
    w, s, e, n = bounds
    root = {"version": "0.6", "generator": "corridors layers.osm.download_osm (Overpass API)",
            "copyright": "OpenStreetMap and contributors",
            "attribution": "https://www.openstreetmap.org/copyright",
            "license": "https://opendatacommons.org/licenses/odbl/1-0/"}
    name = out_path.name.lower()
    opener = gzip.open if name.endswith(".gz") else bz2.open if name.endswith(".bz2") else open
    out_path.parent.mkdir(parents=True, exist_ok=True)

    def text(elem: ElementTree.Element) -> bytes:
        return ElementTree.tostring(elem, encoding="unicode").encode("utf-8") + b"\n"

    with atomic_path(out_path, tmp_name=out_path.name + ".part") as tmp, opener(tmp, "wb") as fh:
        fh.write(b'<?xml version="1.0" encoding="UTF-8"?>\n')
        fh.write(("<osm" + "".join(f" {k}={quoteattr(v)}" for k, v in root.items())
                  + ">\n").encode("utf-8"))
        if osm_base:
            fh.write(text(ElementTree.Element("meta", {"osm_base": str(osm_base)})))
        fh.write(text(ElementTree.Element("bounds", {
            "minlat": repr(float(s)), "minlon": repr(float(w)),
            "maxlat": repr(float(n)), "maxlon": repr(float(e))})))
        for kind in ("node", "way", "relation"):
            for key in sorted(k for k in elements if k[0] == kind):
                fh.write(text(_osm_element(elements[key])))
        fh.write(b"</osm>\n")


def _osm_element(el: dict) -> ElementTree.Element:
    """One Overpass JSON element as an OSM XML ``node``, ``way`` or ``relation``."""
    attrs = {"id": str(el["id"])}
    if el["type"] == "node":
        attrs.update(lat=repr(float(el["lat"])), lon=repr(float(el["lon"])))
    for key in ("version", "timestamp", "changeset", "user", "uid"):
        if key in el:
            attrs[key] = str(el[key])
    elem = ElementTree.Element(el["type"], attrs)
    for ref in el.get("nodes", ()):
        ElementTree.SubElement(elem, "nd", ref=str(ref))
    for m in el.get("members", ()):
        ElementTree.SubElement(elem, "member", type=str(m["type"]), ref=str(m["ref"]),
                               role=str(m.get("role", "")))
    for k, v in (el.get("tags") or {}).items():
        ElementTree.SubElement(elem, "tag", k=str(k), v=str(v))
    return elem
