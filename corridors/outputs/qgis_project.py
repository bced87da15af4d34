"""QGIS project files (.qgs XML, zipped as .qgz) written without QGIS.

A project lists its layers (``<projectlayers>``: data source, CRS, style), the layer tree the
user sees (groups, visibility), the drawing order, the project CRS, the initial view and the
project metadata. Data sources are written relative to the project file (``./file.gpkg|
layername=x``), so the folder can be moved or shared as a whole. Styles are the QML of
:mod:`layers.qml`, embedded in each ``<maplayer>``.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from pyproj import CRS

from corridors.outputs.qml import QGIS_VERSION, style_elements

#: ``geometry`` attribute of a vector ``<maplayer>`` by kind.
GEOMETRY_NAMES = {"point": "Point", "line": "Line", "polygon": "Polygon", None: "No geometry"}


@dataclass
class MapLayer:
    """One layer of a project.

    Attributes
    ----------
    id : str
        Unique layer id.
    name : str
        Name shown in the layer tree.
    source : str
        Data source relative to the project (``./corridors.gpkg|layername=x`` or ``./x.tif``),
        optionally with ``|subset=<filter>``.
    qml : str
        The style (:mod:`layers.qml`).
    crs : str
        The layer's CRS (for example ``EPSG:4326``).
    kind : {"point", "line", "polygon", "raster"} or None
        None for a table without geometry.
    wkb_type : str
        OGR geometry type (``Point``, ``MultiLineString`` …) of vector layers.
    extent : tuple of float, optional
        (xmin, ymin, xmax, ymax) in the layer's CRS.
    visible : bool
    abstract, rights : str
        Layer metadata.
    """

    id: str
    name: str
    source: str
    qml: str
    crs: str
    kind: str | None
    wkb_type: str = ""
    extent: tuple[float, float, float, float] | None = None
    visible: bool = True
    abstract: str = ""
    rights: str = ""


@dataclass
class Group:
    """A group of the layer tree (layers listed top first)."""

    name: str
    layers: list[MapLayer] = field(default_factory=list)
    visible: bool = True
    expanded: bool = True


@dataclass
class ProjectInfo:
    """Project title, CRS, initial view and metadata.

    Attributes
    ----------
    title : str
    crs : str
    extent : tuple of float
        Initial view (xmin, ymin, xmax, ymax) in ``crs``.
    abstract : str
    rights : str
        Data attribution; QGIS 3.22 projects have no rights field, so it is also appended to
        the abstract and written in every layer's metadata.
    author : str
    history : list of str
    keywords : list of str
    """

    title: str
    crs: str
    extent: tuple[float, float, float, float]
    abstract: str = ""
    rights: str = ""
    author: str = ""
    history: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)


def _text(parent: ET.Element, tag: str, text: str = "", **attrs) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items()})
    el.text = text
    return el


def spatialrefsys(crs: str) -> ET.Element:
    """Return QGIS's ``<spatialrefsys>`` of a CRS (QGIS reads the ``authid`` first)."""
    c = CRS.from_user_input(crs)
    auth = c.to_authority() or ("", "")
    el = ET.Element("spatialrefsys")
    _text(el, "wkt", c.to_wkt("WKT2_2019"))
    _text(el, "srid", auth[1])
    _text(el, "authid", ":".join(auth) if auth[0] else "")
    _text(el, "description", c.name)
    _text(el, "geographicflag", "true" if c.is_geographic else "false")
    return el


def _extent(parent: ET.Element, tag: str, bounds) -> ET.Element:
    el = ET.SubElement(parent, tag)
    for name, value in zip(("xmin", "ymin", "xmax", "ymax"), bounds, strict=True):
        _text(el, name, repr(float(value)))
    return el


def _layer_metadata(layer: MapLayer) -> ET.Element:
    el = ET.Element("resourceMetadata")
    for tag in ("identifier", "parentidentifier", "language"):
        _text(el, tag, layer.id if tag == "identifier" else "")
    _text(el, "type", "dataset")
    _text(el, "title", layer.name)
    _text(el, "abstract", layer.abstract)
    ET.SubElement(el, "links")
    if layer.rights:
        _text(el, "rights", layer.rights)
    ET.SubElement(el, "crs").append(spatialrefsys(layer.crs))
    return el


def maplayer_element(layer: MapLayer) -> ET.Element:
    """Return the ``<maplayer>`` of a layer: source, CRS, metadata and its style."""
    attrs, children = style_elements(layer.qml)
    attrs.pop("version", None)
    if layer.kind == "raster":
        el = ET.Element("maplayer", {"type": "raster", **attrs})
    else:
        el = ET.Element("maplayer", {"type": "vector", "geometry": GEOMETRY_NAMES[layer.kind],
                                     "wkbType": layer.wkb_type or "NoGeometry", **attrs})
    if layer.extent is not None:
        _extent(el, "extent", layer.extent)
    _text(el, "id", layer.id)
    _text(el, "datasource", layer.source)
    _text(el, "layername", layer.name)
    ET.SubElement(el, "srs").append(spatialrefsys(layer.crs))
    el.append(_layer_metadata(layer))
    if layer.kind == "raster":
        _text(el, "provider", "gdal")
        ET.SubElement(ET.SubElement(el, "noData"), "noDataList",
                      {"bandNo": "1", "useSrcNoData": "1"})
    else:
        _text(el, "provider", "ogr", encoding="UTF-8")
    el.extend(children)
    return el


def _tree_layer(layer: MapLayer) -> ET.Element:
    el = ET.Element("layer-tree-layer", {
        "id": layer.id, "name": layer.name, "source": layer.source,
        "providerKey": "gdal" if layer.kind == "raster" else "ogr",
        "checked": "Qt::Checked" if layer.visible else "Qt::Unchecked", "expanded": "0"})
    ET.SubElement(el, "customproperties")
    return el


def layer_tree(groups: list[Group], drawing_order: list[str]) -> ET.Element:
    """Return the ``<layer-tree-group>`` root: the groups and a custom drawing order.

    Parameters
    ----------
    groups : list of Group
        Top first.
    drawing_order : list of str
        Layer ids, drawn last (on top) first.
    """
    root = ET.Element("layer-tree-group")
    ET.SubElement(root, "customproperties")
    for g in groups:
        el = ET.SubElement(root, "layer-tree-group", {
            "name": g.name, "checked": "Qt::Checked" if g.visible else "Qt::Unchecked",
            "expanded": "1" if g.expanded else "0"})
        ET.SubElement(el, "customproperties")
        el.extend(_tree_layer(layer) for layer in g.layers)
    order = ET.SubElement(root, "custom-order", {"enabled": "1"})
    for lid in drawing_order:
        _text(order, "item", lid)
    return root


def _project_metadata(info: ProjectInfo) -> ET.Element:
    el = ET.Element("projectMetadata")
    for tag in ("identifier", "parentidentifier", "language"):
        ET.SubElement(el, tag)
    _text(el, "type", "project")
    _text(el, "title", info.title)
    abstract = info.abstract + (f"\n\nData: {info.rights}" if info.rights else "")
    _text(el, "abstract", abstract)
    if info.keywords:
        kw = ET.SubElement(el, "keywords", {"vocabulary": "corridors"})
        for k in info.keywords:
            _text(kw, "keyword", k)
    ET.SubElement(el, "links")
    if info.rights:
        _text(el, "rights", info.rights)
    for h in info.history:
        _text(el, "history", h)
    _text(el, "author", info.author)
    _text(el, "creation", dt.datetime.now().isoformat(timespec="seconds"))
    return el


def _view(root: ET.Element, info: ProjectInfo) -> None:
    canvas = ET.SubElement(root, "mapcanvas", {"name": "theMapCanvas",
                                               "annotationsVisible": "1"})
    _text(canvas, "units", "degrees" if CRS.from_user_input(info.crs).is_geographic
          else "meters")
    _extent(canvas, "extent", info.extent)
    _text(canvas, "rotation", "0")
    ET.SubElement(canvas, "destinationsrs").append(spatialrefsys(info.crs))
    _text(canvas, "rendermaptile", "0")
    settings = ET.SubElement(root, "ProjectViewSettings", {"UseProjectScales": "0",
                                                           "rotation": "0"})
    ET.SubElement(settings, "Scales")
    default = ET.SubElement(settings, "DefaultViewExtent", {
        k: repr(float(v)) for k, v in zip(("xmin", "ymin", "xmax", "ymax"), info.extent,
                                          strict=True)})
    default.append(spatialrefsys(info.crs))


def _properties(root: ET.Element) -> None:
    props = ET.SubElement(root, "properties")
    _text(ET.SubElement(props, "Paths"), "Absolute", "false", type="bool")
    _text(ET.SubElement(props, "SpatialRefSys"), "ProjectionsEnabled", "1", type="int")


def project_document(info: ProjectInfo, groups: list[Group],
                     drawing_order: list[str] | None = None) -> ET.ElementTree[ET.Element]:
    """Return the .qgs document of a project.

    Parameters
    ----------
    info : ProjectInfo
    groups : list of Group
        The layer tree, top first.
    drawing_order : list of str, optional
        Layer ids, top first; default: the tree order.

    Returns
    -------
    xml.etree.ElementTree.ElementTree
    """
    layers = [layer for g in groups for layer in g.layers]
    order = drawing_order or [layer.id for layer in layers]
    root = ET.Element("qgis", {"projectname": info.title, "version": QGIS_VERSION})
    ET.SubElement(root, "homePath", {"path": ""})
    _text(root, "title", info.title)
    ET.SubElement(root, "projectCrs").append(spatialrefsys(info.crs))
    root.append(layer_tree(groups, order))
    _view(root, info)
    project_layers = ET.SubElement(root, "projectlayers")
    project_layers.extend(maplayer_element(layer) for layer in layers)
    layer_order = ET.SubElement(root, "layerorder")
    for lid in order:
        ET.SubElement(layer_order, "layer", {"id": lid})
    _properties(root)
    root.append(_project_metadata(info))
    tree: ET.ElementTree[ET.Element] = ET.ElementTree(root)
    ET.indent(tree, space=" ")
    return tree


def write_qgz(path: str | Path, document: ET.ElementTree[ET.Element]) -> Path:
    """Write a project as a .qgz (a zip holding ``<stem>.qgs``).

    Parameters
    ----------
    path : str or pathlib.Path
        The .qgz to write; relative data sources resolve against its folder.
    document : xml.etree.ElementTree.ElementTree
        From :func:`project_document`.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    xml = ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
           + ET.tostring(document.getroot(), encoding="unicode"))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{path.stem}.qgs", xml)
    return path
