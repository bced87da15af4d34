"""QGIS layer styles (QML) written by hand, without QGIS.

QML is the XML QGIS stores a layer's style in (the ``<qgis>`` document of a ``.qml`` file, of
the ``styleQML`` column of a GeoPackage's ``layer_styles`` table, and the body of a
``<maplayer>`` in a project). This module writes the few parts a planner's map needs: single,
categorised and graduated renderers (``renderer-v2``) of simple marker, line and fill symbols,
simple labels, and single-band pseudocolour rasters. Every element QGIS does not require is left
out: QGIS fills in its defaults on load. Symbol layers carry their properties both as ``Option``
maps (QGIS ≥ 3.16) and as ``prop`` elements (older QGIS 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree as ET

#: The QGIS version the documents declare (the oldest whose format they follow).
QGIS_VERSION = "3.22.0"

#: ``layerGeometryType`` codes of QGIS (QgsWkbTypes::GeometryType).
GEOMETRY_CODES = {"point": "0", "line": "1", "polygon": "2", None: "4"}

#: Symbol type of each geometry.
SYMBOL_TYPES = {"point": "marker", "line": "line", "polygon": "fill"}

#: Label placement (QgsPalLayerSettings::Placement) for each geometry: around the point, along
#: the line, over the centroid.
LABEL_PLACEMENT = {"point": "6", "line": "2", "polygon": "1"}


@dataclass(frozen=True)
class Symbol:
    """A one-layer QGIS symbol.

    Attributes
    ----------
    color : str
        Fill or line colour, ``#rrggbb``.
    size : float
        Marker diameter, line width or fill outline width (mm).
    outline : str
        Outline colour of markers and fills, ``#rrggbb``.
    style : str
        Line style (``solid``, ``dash``, ``dot``, ``dash dot``) of lines; ``solid`` or ``no``
        (hollow) for fills.
    shape : str
        Marker shape: ``circle``, ``square``, ``triangle``, ``diamond``, ``star``.
    opacity : float
        0 (transparent) to 1.
    """

    color: str
    size: float = 0.4
    outline: str = "#333333"
    style: str = "solid"
    shape: str = "circle"
    opacity: float = 1.0


def rgba(color: str, alpha: int = 255) -> str:
    """Return ``#rrggbb`` as QGIS's ``r,g,b,a``."""
    c = color.lstrip("#")
    return ",".join(str(int(c[i:i + 2], 16)) for i in (0, 2, 4)) + f",{alpha}"


def _props(geometry: str, sym: Symbol) -> tuple[str, dict[str, str]]:
    """Return the symbol layer class and its properties."""
    if geometry == "point":
        return "SimpleMarker", {
            "name": sym.shape, "color": rgba(sym.color), "outline_color": rgba(sym.outline),
            "outline_style": "solid", "outline_width": "0.2", "outline_width_unit": "MM",
            "size": f"{sym.size:g}", "size_unit": "MM", "angle": "0",
            "scale_method": "diameter", "joinstyle": "bevel", "offset": "0,0",
            "offset_unit": "MM", "horizontal_anchor_point": "1", "vertical_anchor_point": "1"}
    if geometry == "line":
        return "SimpleLine", {
            "line_color": rgba(sym.color), "line_width": f"{sym.size:g}",
            "line_width_unit": "MM", "line_style": sym.style, "capstyle": "round",
            "joinstyle": "round", "offset": "0", "offset_unit": "MM", "use_custom_dash": "0",
            "customdash": "5;2", "customdash_unit": "MM", "draw_inside_polygon": "0"}
    return "SimpleFill", {
        "color": rgba(sym.color), "style": sym.style, "outline_color": rgba(sym.outline),
        "outline_style": "solid", "outline_width": f"{sym.size:g}",
        "outline_width_unit": "MM", "joinstyle": "bevel", "offset": "0,0", "offset_unit": "MM"}


def symbol_element(geometry: str, sym: Symbol, name: str) -> ET.Element:
    """Return the ``<symbol>`` element of a one-layer symbol.

    Parameters
    ----------
    geometry : {"point", "line", "polygon"}
    sym : Symbol
    name : str
        The symbol's key in the renderer (``"0"``, ``"1"`` …).
    """
    el = ET.Element("symbol", {"name": name, "type": SYMBOL_TYPES[geometry],
                               "alpha": f"{sym.opacity:g}", "clip_to_extent": "1",
                               "force_rhr": "0"})
    cls, props = _props(geometry, sym)
    layer = ET.SubElement(el, "layer", {"class": cls, "enabled": "1", "locked": "0",
                                        "pass": "0"})
    options = ET.SubElement(layer, "Option", {"type": "Map"})
    for k, v in props.items():
        ET.SubElement(options, "Option", {"name": k, "type": "QString", "value": v})
    for k, v in props.items():
        ET.SubElement(layer, "prop", {"k": k, "v": v})
    return el


def _renderer(kind: str, geometry: str, symbols: Sequence[Symbol], **attrs
              ) -> tuple[ET.Element, list[ET.Element]]:
    el = ET.Element("renderer-v2", {"type": kind, "symbollevels": "0", "forceraster": "0",
                                    "enableorderby": "0", "referencescale": "-1", **attrs})
    return el, [symbol_element(geometry, s, str(i)) for i, s in enumerate(symbols)]


def _finish(el: ET.Element, symbols: list[ET.Element]) -> ET.Element:
    holder = ET.SubElement(el, "symbols")
    holder.extend(symbols)
    ET.SubElement(el, "rotation")
    ET.SubElement(el, "sizescale")
    return el


def single_renderer(geometry: str, sym: Symbol) -> ET.Element:
    """Return a ``singleSymbol`` renderer."""
    el, symbols = _renderer("singleSymbol", geometry, [sym])
    return _finish(el, symbols)


def categorized_renderer(geometry: str, attr: str,
                         categories: Sequence[tuple[str, str, Symbol]],
                         other: Symbol | None = None) -> ET.Element:
    """Return a ``categorizedSymbol`` renderer.

    Parameters
    ----------
    geometry : {"point", "line", "polygon"}
    attr : str
        A field name or a QGIS expression (for example ``concat("mode", ' / ', "status")``).
    categories : sequence of (value, label, Symbol)
    other : Symbol, optional
        Symbol of every other value (QGIS's category with an empty value).
    """
    cats = list(categories) + ([("", "other", other)] if other else [])
    el, symbols = _renderer("categorizedSymbol", geometry, [c[2] for c in cats], attr=attr)
    holder = ET.SubElement(el, "categories")
    for i, (value, label, _) in enumerate(cats):
        ET.SubElement(holder, "category", {"value": str(value), "label": label,
                                           "symbol": str(i), "render": "true"})
    return _finish(el, symbols)


def graduated_renderer(geometry: str, attr: str,
                       ranges: Sequence[tuple[float, float, str, Symbol]]) -> ET.Element:
    """Return a ``graduatedSymbol`` renderer with fixed class breaks.

    Parameters
    ----------
    geometry : {"point", "line", "polygon"}
    attr : str
        A numeric field name or expression.
    ranges : sequence of (lower, upper, label, Symbol)
    """
    el, symbols = _renderer("graduatedSymbol", geometry, [r[3] for r in ranges], attr=attr,
                            graduatedMethod="GraduatedColor")
    holder = ET.SubElement(el, "ranges")
    for i, (lower, upper, label, _) in enumerate(ranges):
        ET.SubElement(holder, "range", {"lower": f"{lower:.6f}", "upper": f"{upper:.6f}",
                                        "label": label, "symbol": str(i), "render": "true"})
    method = ET.SubElement(el, "classificationMethod", {"id": "Custom"})
    ET.SubElement(method, "symmetricMode", {"enabled": "0", "symmetrypoint": "0",
                                            "astride": "0"})
    ET.SubElement(method, "labelFormat", {"format": "%1 - %2", "labelprecision": "2",
                                          "trimtrailingzeroes": "1"})
    return _finish(el, symbols)


def labeling_element(geometry: str, field: str, size: float = 8.0, color: str = "#202020",
                     expression: bool = False) -> ET.Element:
    """Return simple labels of a field (or expression) with a white halo.

    Parameters
    ----------
    geometry : {"point", "line", "polygon"}
    field : str
    size : float
        Font size (points).
    color : str
        Text colour, ``#rrggbb``.
    expression : bool
        Whether ``field`` is an expression.
    """
    el = ET.Element("labeling", {"type": "simple"})
    settings = ET.SubElement(el, "settings", {"calloutType": "simple"})
    style = ET.SubElement(settings, "text-style", {
        "fieldName": field, "isExpression": "1" if expression else "0",
        "fontFamily": "Sans Serif", "fontSize": f"{size:g}", "fontSizeUnit": "Point",
        "fontWeight": "50", "fontItalic": "0", "namedStyle": "Regular",
        "textColor": rgba(color), "textOpacity": "1", "multilineHeight": "1",
        "blendMode": "0", "allowHtml": "0"})
    ET.SubElement(style, "text-buffer", {
        "bufferDraw": "1", "bufferSize": "0.8", "bufferSizeUnits": "MM",
        "bufferColor": "255,255,255,255", "bufferOpacity": "0.9", "bufferNoFill": "1",
        "bufferJoinStyle": "128", "bufferBlendMode": "0"})
    ET.SubElement(settings, "text-format", {"wrapChar": "", "multilineAlign": "3",
                                            "formatNumbers": "0", "plussign": "0"})
    ET.SubElement(settings, "placement", {
        "placement": LABEL_PLACEMENT[geometry], "placementFlags": "10", "dist": "1",
        "distUnits": "MM", "offsetType": "0", "priority": "5", "quadOffset": "4",
        "repeatDistance": "0", "centroidInside": "1"})
    ET.SubElement(settings, "rendering", {
        "drawLabels": "1", "obstacle": "1", "obstacleType": "1", "displayAll": "0",
        "scaleVisibility": "0", "mergeLines": "1" if geometry == "line" else "0",
        "labelPerPart": "0", "upsidedownLabels": "0", "zIndex": "0",
        "fontLimitPixelSize": "0", "limitNumLabels": "0", "maxNumLabels": "2000"})
    return el


def vector_qml(geometry: str | None, renderer: ET.Element | None = None,
               labeling: ET.Element | None = None, opacity: float = 1.0) -> str:
    """Return the QML document of a vector layer (or of a table when ``geometry`` is None).

    Parameters
    ----------
    geometry : {"point", "line", "polygon"} or None
    renderer : xml.etree.ElementTree.Element, optional
        From :func:`single_renderer`, :func:`categorized_renderer` or
        :func:`graduated_renderer`.
    labeling : xml.etree.ElementTree.Element, optional
        From :func:`labeling_element`.
    opacity : float
        Layer opacity.
    """
    root = ET.Element("qgis", {"version": QGIS_VERSION, "styleCategories": "AllStyleCategories",
                               "hasScaleBasedVisibilityFlag": "0",
                               "labelsEnabled": "1" if labeling is not None else "0"})
    if renderer is not None:
        root.append(renderer)
    if labeling is not None:
        root.append(labeling)
    ET.SubElement(root, "blendMode").text = "0"
    ET.SubElement(root, "featureBlendMode").text = "0"
    ET.SubElement(root, "layerOpacity").text = f"{opacity:g}"
    ET.SubElement(root, "layerGeometryType").text = GEOMETRY_CODES[geometry]
    return to_document(root)


def raster_qml(stops: Sequence[tuple[float, str, str]], band: int = 1,
               opacity: float = 0.8) -> str:
    """Return the QML document of a single-band pseudocolour raster.

    Parameters
    ----------
    stops : sequence of (value, colour ``#rrggbb``, label)
        The colour ramp, interpolated linearly between stops; values beyond the last stop take
        its colour.
    band : int
    opacity : float
    """
    lo, hi = stops[0][0], stops[-1][0]
    root = ET.Element("qgis", {"version": QGIS_VERSION, "styleCategories": "AllStyleCategories",
                               "hasScaleBasedVisibilityFlag": "0"})
    pipe = ET.SubElement(root, "pipe")
    renderer = ET.SubElement(pipe, "rasterrenderer", {
        "type": "singlebandpseudocolor", "band": str(band), "opacity": f"{opacity:g}",
        "alphaBand": "-1", "classificationMin": f"{lo:g}", "classificationMax": f"{hi:g}",
        "nodataColor": ""})
    origin = ET.SubElement(renderer, "minMaxOrigin")
    for tag, text in (("limits", "None"), ("extent", "WholeRaster"),
                      ("statAccuracy", "Estimated")):
        ET.SubElement(origin, tag).text = text
    shader = ET.SubElement(ET.SubElement(renderer, "rastershader"), "colorrampshader", {
        "colorRampType": "INTERPOLATED", "classificationMode": "1", "clip": "0",
        "minimumValue": f"{lo:g}", "maximumValue": f"{hi:g}", "labelPrecision": "2"})
    for value, color, label in stops:
        ET.SubElement(shader, "item", {"value": f"{value:g}", "color": color, "alpha": "255",
                                       "label": label})
    ET.SubElement(pipe, "brightnesscontrast", {"brightness": "0", "contrast": "0",
                                               "gamma": "1"})
    ET.SubElement(pipe, "huesaturation", {"saturation": "0", "grayscaleMode": "0",
                                          "colorizeOn": "0", "invertColors": "0"})
    ET.SubElement(pipe, "rasterresampler", {"maxOversampling": "2"})
    ET.SubElement(root, "blendMode").text = "0"
    return to_document(root)


def to_document(root: ET.Element) -> str:
    """Return a ``<qgis>`` element as a QML document (with QGIS's doctype)."""
    ET.indent(root, space=" ")
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            + ET.tostring(root, encoding="unicode"))


def style_elements(qml: str) -> tuple[dict[str, str], list[ET.Element]]:
    """Return the root attributes and the child elements of a QML document.

    A project's ``<maplayer>`` holds the same elements as a QML document's root.
    """
    root = ET.fromstring(qml.split("\n", 1)[1] if qml.startswith("<!DOCTYPE") else qml)
    return dict(root.attrib), list(root)
