"""GIS exports: GeoPackage layers and styles, rasters, QGIS project, checked with a real QGIS.

The QGIS checks run a script with the system Python and Debian's ``python3-qgis`` (QGIS 3.22),
headless (QT_QPA_PLATFORM=offscreen). In CI (``CI`` set) a missing QGIS fails the tests; locally
they are skipped with the reason.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pyogrio
import pytest
import rasterio
from corridors.layers.rasters import NODATA
from pyproj import CRS

from corridors.outputs import export as export_mod
from corridors.outputs.export import write_exports
from corridors.outputs.gpkg_styles import STYLE_COLUMNS
from tests.helpers import run

QGIS_PYTHON = "/usr/bin/python3"
CATEGORISED = {"nodes_2025", "nodes_2030", "edges_2025", "edges_2030", "projects",
               "project_sites", "corridors", "places", "international_routes", "foreign_network",
               "gate_catchments"}
GRADUATED = {"gates", "isochrones", "savings_nodes", "savings_gates", "savings_corridors",
             "savings_provinces_2024", "savings_provinces_2025", "critical_links",
             "critical_links_summary"}
LABELLED = {"gates", "corridors", "savings_gates", "savings_corridors", "bgez",
            "gate_catchments"}
SPATIAL = CATEGORISED | GRADUATED | {"bgez", "provinces_2024", "provinces_2025"}
TABLES = {"programmes", "provenance"}
GROUPS = ["Gates", "Change 2025→2030", "Plan", "Network 2030", "Network 2025",
          "Across the border", "Base"]

# Run by the system Python: open the project, report what QGIS sees, render the initial view.
QGIS_SCRIPT = r'''
import json, os, sys
from qgis.core import (Qgis, QgsApplication, QgsMapRendererParallelJob, QgsMapSettings,
                       QgsProject, QgsRasterLayer, QgsVectorLayer)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

qgz, gpkg, png = sys.argv[1:4]
app = QgsApplication([], False)
app.initQgis()
project = QgsProject.instance()
out = {"read": project.read(qgz), "qgis": Qgis.QGIS_VERSION, "crs": project.crs().authid(),
       "abstract": project.metadata().abstract(), "layers": {}}
for lid, layer in project.mapLayers().items():
    ext = layer.extent()
    info = {"name": layer.name(), "valid": layer.isValid(), "crs": layer.crs().authid(),
            "source": layer.source(), "rights": list(layer.metadata().rights()),
            "extent": [ext.xMinimum(), ext.yMinimum(), ext.xMaximum(), ext.yMaximum()]}
    if isinstance(layer, QgsVectorLayer):
        info.update(kind="vector", features=layer.featureCount(), subset=layer.subsetString(),
                    renderer=layer.renderer().type() if layer.renderer() else None,
                    labels=layer.labelsEnabled(), spatial=layer.isSpatial())
    elif isinstance(layer, QgsRasterLayer):
        info.update(kind="raster", renderer=layer.renderer().type())
    out["layers"][lid] = info
out["gpkg_renderers"] = {}
probe = QgsVectorLayer(gpkg, "probe", "ogr")
for sub in probe.dataProvider().subLayers():
    name = sub.split("!!::!!")[1]
    if name != "layer_styles":
        layer = QgsVectorLayer(gpkg + "|layername=" + name, name, "ogr")
        out["gpkg_renderers"][name] = layer.renderer().type() if layer.renderer() else None
root = project.layerTreeRoot()
out["groups"] = [g.name() for g in root.children()]
out["custom_order"] = root.hasCustomLayerOrder()
out["drawing_order"] = [layer.id() for layer in root.layerOrder()]
out["unresolved"] = [n.layerId() for n in root.findLayers() if n.layer() is None]
checked = {layer.id() for layer in root.checkedLayers() if layer is not None}
visible = [layer for layer in root.layerOrder() if layer.id() in checked]
settings = QgsMapSettings()
settings.setLayers(visible)
settings.setDestinationCrs(project.crs())
settings.setOutputSize(QSize(800, 600))
settings.setBackgroundColor(QColor(255, 255, 255))
view = project.viewSettings().defaultViewExtent()
settings.setExtent(view if not view.isEmpty() else settings.fullExtent())
job = QgsMapRendererParallelJob(settings)
job.start()
job.waitForFinished()
image = job.renderedImage()
image.save(png, "PNG")
grey = [sum(image.pixelColor(x, y).getRgb()[:3]) / 3
        for y in range(0, image.height(), 3) for x in range(0, image.width(), 3)]
mean = sum(grey) / len(grey)
out["render"] = {"visible": [layer.id() for layer in visible],
                 "variance": sum((g - mean) ** 2 for g in grey) / len(grey),
                 "non_white": sum(g < 250 for g in grey) / len(grey)}
print("JSON:" + json.dumps(out), flush=True)
os._exit(0)  # QGIS 3.22 may crash tearing down the project singleton
'''


# ---------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def results(base_results):
    return base_results


@pytest.fixture(scope="module")
def exported(full_run, results, tmp_path_factory):
    """Export folders by CRS: the session's run wrote EPSG:4326 (``base/gis``); VN-2000 here."""
    folder = tmp_path_factory.mktemp("gis") / "EPSG_3405"
    write_exports(results, folder, crs="EPSG:3405")
    return {"EPSG:4326": full_run.folder / "base" / "gis", "EPSG:3405": folder}


@pytest.fixture(scope="module")
def osm_exported(osm_run):
    """The GIS exports of the session's run on pyrosm's test extract."""
    return osm_run.folder / "base" / "gis"


def _styles(gpkg: Path) -> dict[str, ET.Element]:
    table = pyogrio.read_dataframe(gpkg, layer="layer_styles")
    return {row.f_table_name: ET.fromstring(row.styleQML.split("\n", 1)[1])
            for row in table.itertuples()}


def _renderer_type(qml: ET.Element) -> str | None:
    r = qml.find("renderer-v2")
    return None if r is None else r.get("type")


def _count(gpkg: Path, layer: str, where: str = "") -> int:
    frame = pyogrio.read_dataframe(gpkg, layer=layer, columns=[], read_geometry=False,
                                   fid_as_index=True,
                                   where=where or None)
    return len(frame)


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


# ---------------------------------------------------------------------------------------------
# the GeoPackage


def test_gpkg_layers_and_counts(results, exported):
    gpkg = exported["EPSG:4326"] / "corridors.gpkg"
    layers = dict(pyogrio.list_layers(gpkg))
    assert SPATIAL | TABLES | {"layer_styles"} <= set(layers)
    t = results.analyses.tables
    expected = {"nodes_2030": len(results.builds[2030].tables.nodes),
                "edges_2025": len(results.builds[2025].tables.edges),
                "edges_2030": len(results.builds[2030].tables.edges),
                "gates": len(t["gate_access"]), "isochrones": len(results.isochrones),
                "savings_nodes": len(results.node_savings),
                "savings_gates": len(t["savings_gates"]),
                "savings_corridors": len(t["savings_corridors"]),
                "critical_links": len(t["critical_links"]),
                "provinces_2024": 21, "provinces_2025": 14, "savings_provinces_2024": 21,
                "savings_provinces_2025": 14}
    assert {k: _count(gpkg, k) for k in expected} == expected
    cat = results.builds[2030].catalog.projects_frame(include_existing=True)
    drawn = _count(gpkg, "projects") + _count(gpkg, "project_sites")
    assert drawn + _count(gpkg, "programmes") == len(cat)
    assert layers["isochrones"] == "MultiPolygon" and layers["nodes_2030"] == "Point"
    assert layers["programmes"] is None and layers["provenance"] is None


def test_layers_across_the_border(results, exported):
    gpkg = exported["EPSG:4326"] / "corridors.gpkg"
    layers = dict(pyogrio.list_layers(gpkg))
    assert layers["international_routes"] == "MultiLineString"
    assert layers["foreign_network"] == "LineString" and layers["gate_catchments"] == "Point"
    od = results.analyses.tables["international_od"]
    routes = pyogrio.read_dataframe(gpkg, layer="international_routes")
    assert len(routes) == len(od) == 2 * 4 * 8 * 2  # years × origins × destinations × modes
    assert routes.geometry.notna().all()
    kunming = routes[(routes["origin"] == "xb_kunming")
                     & (routes["destination"] == "seaport_hai_phong") & (routes["mode"] == "rail")
                     ].set_index("scenario")
    # the standard-gauge railway removes the break of gauge at Lào Cai by 2030
    assert kunming.loc["2025", "gates"] == kunming.loc["2030", "gates"] == "gate_lao_cai_rail"
    assert (kunming.loc["2025", "gauge_breaks"], kunming.loc["2030", "gauge_breaks"]) == (1, 0)
    foreign = pyogrio.read_dataframe(gpkg, layer="foreign_network")
    assert {"road", "rail"} == set(foreign["mode"]) and len(foreign) >= 15
    assert (foreign.geometry.bounds["maxy"] > 24.5).any()  # Kunming is there
    catch = pyogrio.read_dataframe(gpkg, layer="gate_catchments")
    nanning = catch[(catch["city"] == "xb_nanning") & (catch["rank"] == 1)]
    assert set(nanning["gate"]) == {"gate_huu_nghi"}
    assert set(catch["name_local"]) >= {"昆明", "南宁"}


def test_every_attribute_and_joins(results, exported):
    gpkg = exported["EPSG:4326"] / "corridors.gpkg"
    edges = pyogrio.read_dataframe(gpkg, layer="edges_2030")
    assert set(results.builds[2030].tables.edges.columns) <= set(edges.columns)
    assert np.isfinite(edges["time_h_car"]).all()
    gates = pyogrio.read_dataframe(gpkg, layer="gates")
    assert gates.geometry.notna().all() and "time_h_to_ha_noi" in gates
    provinces = pyogrio.read_dataframe(gpkg, layer="savings_provinces_2025")
    assert provinces["saving_h_to_ha_noi"].notna().all()
    assert (provinces["saving_h_to_ha_noi"] >= -1e-9).all()
    corridors = pyogrio.read_dataframe(gpkg, layer="savings_corridors")
    assert corridors.geometry.notna().all()
    crit = pyogrio.read_dataframe(gpkg, layer="critical_links")
    assert crit.loc[crit["disconnects"], "delay_h"].isna().all()  # inf written as NULL
    prov = pyogrio.read_dataframe(gpkg, layer="provenance").set_index("key")["value"]
    assert prov["scenario"] == "base" and "OpenStreetMap" in prov["attribution"]


def test_layer_styles_table(exported):
    gpkg = exported["EPSG:4326"] / "corridors.gpkg"
    table = pyogrio.read_dataframe(gpkg, layer="layer_styles")
    assert [c for c in table.columns if c in STYLE_COLUMNS] == STYLE_COLUMNS
    assert set(STYLE_COLUMNS) <= set(table.columns)
    assert set(table["f_table_name"]) == SPATIAL | TABLES
    assert table["useAsDefault"].all() and table["f_table_name"].is_unique
    geom = table.set_index("f_table_name")["f_geometry_column"]
    assert geom["edges_2030"] == "geom" and geom["provenance"] == ""
    styles = _styles(gpkg)
    for name in CATEGORISED:
        assert _renderer_type(styles[name]) == "categorizedSymbol", name
    for name in GRADUATED:
        assert _renderer_type(styles[name]) == "graduatedSymbol", name
    for name in LABELLED:
        assert styles[name].get("labelsEnabled") == "1", name
    edges = styles["edges_2030"].find("renderer-v2")
    assert {"expressway", "metre", "river", "road_rail"} <= {
        c.get("value") for c in edges.iter("category")}


def test_vn2000_crs(exported):
    assert CRS.from_epsg(3405).name == "VN-2000 / UTM zone 48N"
    for crs, folder in exported.items():
        for layer in ("edges_2030", "gates", "provinces_2025", "isochrones"):
            info = pyogrio.read_info(folder / "corridors.gpkg", layer=layer)
            assert CRS.from_user_input(info["crs"]).to_epsg() == int(crs[5:]), (crs, layer)
        with rasterio.open(folder / "time_to_gate_2030.tif") as src:
            assert src.crs.to_epsg() == int(crs[5:])
    with rasterio.open(exported["EPSG:3405"] / "time_to_gate_2030.tif") as src:
        assert src.res == (2000.0, 2000.0)
        assert 150_000 < src.bounds.left < 300_000 and 2_150_000 < src.bounds.bottom < 2_300_000


def test_rasters(results, exported):
    folder = exported["EPSG:4326"]
    expected = {"time_to_gate_2025.tif", "time_to_gate_2030.tif",
                "time_to_gate_saving_2025_2030.tif"}
    assert expected <= {p.name for p in folder.glob("*.tif")}
    with rasterio.open(folder / "time_to_gate_2030.tif") as src:
        assert src.nodata == NODATA and src.dtypes[0] == "float32"
        assert src.compression.name.lower() == "deflate"
        assert src.units == ("h",) and "hours" in src.descriptions[0]
        assert src.transform.almost_equals(results.grid.transform)
        assert src.shape == results.grid.shape
        data = src.read(1)
        assert "OpenStreetMap" in src.tags()["attribution"]
    surface = results.nearest_gate_h[2030]
    finite = np.isfinite(surface)
    assert np.allclose(data[finite], surface[finite], atol=1e-4)
    assert (data[~finite] == NODATA).all()
    with rasterio.open(folder / "time_to_gate_saving_2025_2030.tif") as src:
        saving = src.read(1, masked=True)
    assert saving.min() >= -1e-6 and saving.max() > 0.1


def test_project_file(results, exported):
    qgz = exported["EPSG:4326"] / "corridors.qgz"
    with zipfile.ZipFile(qgz) as zf:
        assert zf.namelist() == ["corridors.qgs"]
        root = ET.fromstring(zf.read("corridors.qgs").decode().split("\n", 1)[1])
    sources = [e.text for e in root.iter("datasource")]
    assert sources and all(s.startswith("./") for s in sources)
    assert root.find("properties/Paths/Absolute").text == "false"
    groups = [g.get("name") for g in root.find("layer-tree-group").findall("layer-tree-group")]
    assert groups == GROUPS
    meta = root.find("projectMetadata")
    assert results.provenance["attribution"] in meta.find("rights").text
    assert results.provenance["attribution"] in meta.find("abstract").text
    assert results.provenance["inputs_sha256"]["region.gpkg"] in meta.find("abstract").text
    kinds = {m.find("id").text: m.get("geometry") or m.get("type") for m in
             root.iter("maplayer")}
    order = [kinds[i.text] for i in root.find("layer-tree-group/custom-order")]
    ranks = [["Point", "Line", "Polygon", "raster", "No geometry"].index(k) for k in order]
    assert ranks == sorted(ranks)


def test_readme(results, exported):
    text = (exported["EPSG:3405"] / "README.txt").read_text(encoding="utf-8")
    for name in SPATIAL | TABLES:
        assert f"  {name} (" in text, name
    assert "VN-2000 / UTM zone 48N (EPSG:3405)" in text
    assert results.provenance["attribution"] in text and "hours" in text
    assert "0.02° cells" in text and "2000 m cells" in text


# ---------------------------------------------------------------------------------------------
# bad input


def test_refuses_existing_files_without_force(results, tmp_path):
    write_exports(results, tmp_path)
    before = _digest(tmp_path)
    with pytest.raises(FileExistsError, match=r"force=True replaces it"):
        write_exports(results, tmp_path)
    assert _digest(tmp_path) == before
    write_exports(results, tmp_path, force=True)
    assert set(_digest(tmp_path)) == set(before)


def test_failed_export_leaves_nothing(results, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export_mod, "write_qgz", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_exports(results, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_unsupported_crs(results, tmp_path):
    with pytest.raises(ValueError, match="EPSG:3405"):
        write_exports(results, tmp_path, crs="EPSG:3857")


# ---------------------------------------------------------------------------------------------
# a network from a real OSM extract


def test_osm_extract_exports(osm_run, osm_exported):
    gpkg = osm_exported / "corridors.gpkg"
    layers = dict(pyogrio.list_layers(gpkg))
    assert set(layers) >= SPATIAL | TABLES
    edges = osm_run.results["base"].builds[2030].tables.edges
    assert _count(gpkg, "edges_2030") == len(edges) > 0
    assert _count(gpkg, "gates") == 0 and layers["gates"] == "Point"
    assert _count(gpkg, "isochrones") == 0 and layers["isochrones"] == "Polygon"
    assert set(_styles(gpkg)) == SPATIAL | TABLES
    projects = pyogrio.read_dataframe(gpkg, layer="projects", read_geometry=False)
    assert projects["outside_extract"].any()
    text = (osm_exported / "README.txt").read_text(encoding="utf-8")
    assert "[empty: no border gate or BGEZ in the network]" in text
    assert "not written: time_to_gate_2030" in text
    assert not list(osm_exported.glob("*.tif"))
    # an extract brings no schematic network across the border: the layers are there, empty
    for name in ("international_routes", "foreign_network", "gate_catchments"):
        assert _count(gpkg, name) == 0, name
    assert "[empty: no network across the border" in text


# ---------------------------------------------------------------------------------------------
# the command line


@pytest.fixture
def cli_results(results, monkeypatch):
    """Make the CLI reuse the module's results; record what it asked for."""
    calls = []

    def fake(years, scenario=None, **kwargs):
        calls.append((tuple(years), kwargs))
        return results

    monkeypatch.setattr("corridors.analysis.results.compute_results", fake)
    return calls


def test_cli_export_and_refusal(cli_results, tmp_path):
    out = tmp_path / "gis"
    res = run("export", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert cli_results[0][0] == (2025, 2030)
    assert {"corridors.gpkg", "corridors.qgz", "README.txt"} <= {p.name for p in
                                                                 out.iterdir()}
    before = _digest(out)
    res = run("export", "--out", str(out))
    assert res.exit_code == 1
    assert "holds files" in res.output and "--force" in res.output
    assert _digest(out) == before and len(cli_results) == 1


def test_cli_export_vn2000(cli_results, tmp_path):
    out = tmp_path / "gis"
    res = run("export", "--crs", "vn2000", "--out", str(out))
    assert res.exit_code == 0, res.output
    for layer, _ in pyogrio.list_layers(out / "corridors.gpkg"):
        info = pyogrio.read_info(out / "corridors.gpkg", layer=layer)
        if info["geometry_type"]:
            assert CRS.from_user_input(info["crs"]).to_epsg() == 3405, layer


# ---------------------------------------------------------------------------------------------
# real QGIS


def _qgis_missing() -> str | None:
    if not os.path.exists(QGIS_PYTHON):
        return f"{QGIS_PYTHON} not found"
    probe = subprocess.run([QGIS_PYTHON, "-c", "import qgis.core"], capture_output=True,
                           text=True, env=_qgis_env(None), timeout=60)
    return None if probe.returncode == 0 else probe.stderr.strip().splitlines()[-1]


def _qgis_env(tmp: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    if tmp is not None:
        runtime = tmp / "xdg"
        runtime.mkdir(mode=0o700, exist_ok=True)
        env.update(XDG_RUNTIME_DIR=str(runtime), HOME=str(tmp))
    return env


@pytest.fixture(scope="module")
def qgis(tmp_path_factory):
    """Return a function running the QGIS script on an export folder (its JSON report)."""
    reason = _qgis_missing()
    if reason:
        message = f"QGIS Python bindings unavailable ({reason}): apt-get install python3-qgis"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    tmp = tmp_path_factory.mktemp("qgis")
    script = tmp / "check_project.py"
    script.write_text(QGIS_SCRIPT, encoding="utf-8")

    def open_project(source: Path) -> tuple[dict, Path]:
        """Open a copy of an export folder (QGIS may write beside the files it opens)."""
        folder = tmp_path_factory.mktemp("qgis-open") / source.name
        shutil.copytree(source, folder)
        png = folder.parent / f"{folder.name}.png"
        proc = subprocess.run([QGIS_PYTHON, str(script), str(folder / "corridors.qgz"),
                               str(folder / "corridors.gpkg"), str(png)],
                              capture_output=True, text=True, env=_qgis_env(tmp), timeout=120)
        lines = [x for x in proc.stdout.splitlines() if x.startswith("JSON:")]
        assert lines, f"QGIS script failed ({proc.returncode}): {proc.stderr[-3000:]}"
        report = json.loads(lines[0][5:])
        layers = report["layers"].values()
        print(json.dumps({"qgis": report["qgis"], "crs": report["crs"], "layers": len(layers),
                          "valid": sum(v["valid"] for v in layers), "groups": report["groups"],
                          "render": {k: v for k, v in report["render"].items()
                                     if k != "visible"}}, ensure_ascii=False))
        return report, folder

    return open_project


def _check_layers(report: dict, folder: Path, crs: str) -> None:
    gpkg = folder / "corridors.gpkg"
    styles = _styles(gpkg)
    assert not report["unresolved"]
    for lid, layer in report["layers"].items():
        assert layer["valid"], (lid, layer["source"])
        assert layer["source"].startswith(str(folder)), layer["source"]
        assert layer["rights"] and "OpenStreetMap" in layer["rights"][0]
        if layer["kind"] == "raster":
            assert layer["renderer"] == "singlebandpseudocolor"
            assert layer["crs"] == crs
            with rasterio.open(layer["source"]) as src:
                assert np.allclose(layer["extent"], list(src.bounds), rtol=0, atol=1e-6)
            continue
        table = re.search(r"layername=(\w+)", layer["source"]).group(1)
        assert layer["features"] == _count(gpkg, table, layer["subset"]), lid
        assert layer["renderer"] == _renderer_type(styles[table]), lid
        if layer["spatial"]:
            assert layer["crs"] == crs
        if table in CATEGORISED | GRADUATED:
            assert layer["renderer"] != "singleSymbol"
        if table in LABELLED:
            assert layer["labels"], lid
    tables = {re.search(r"layername=(\w+)", v["source"]).group(1)
              for v in report["layers"].values() if v["kind"] == "vector"}
    assert tables == SPATIAL | TABLES
    assert report["gpkg_renderers"] == {k: _renderer_type(v) for k, v in styles.items()}


@pytest.mark.slow
@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:3405"])
def test_qgis_opens_project(qgis, exported, results, crs):
    report, folder = qgis(exported[crs])
    assert report["read"] and report["crs"] == crs
    assert report["qgis"].startswith("3.")
    _check_layers(report, folder, crs)
    assert report["groups"] == GROUPS and report["custom_order"]
    rasters = [lid for lid, v in report["layers"].items() if v["kind"] == "raster"]
    assert len(rasters) == 3 and report["drawing_order"][-3:] == sorted(
        rasters, key=report["drawing_order"].index)
    assert results.provenance["attribution"] in report["abstract"]
    render = report["render"]
    assert len(render["visible"]) >= 6
    assert render["variance"] > 500 and render["non_white"] > 0.1, render


@pytest.mark.slow
def test_qgis_opens_osm_project(qgis, osm_exported):
    report, folder = qgis(osm_exported)
    assert report["read"] and report["crs"] == "EPSG:4326"
    _check_layers(report, folder, "EPSG:4326")
    assert not [v for v in report["layers"].values() if v["kind"] == "raster"]
    assert report["render"]["variance"] > 50, report["render"]
