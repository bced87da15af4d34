"""The maps, looked at as a person would: opened in headless Chromium, layer by layer.

Every map is written by ``write_maps`` from one run of the embedded default and opened in
Debian's Chromium (driven by Playwright, with ``/usr/bin/chromium``; Playwright's own browser
download is never used). A test fails on any JavaScript error (uncaught exceptions and console
errors) and on any request that leaves the file: the maps are offline, without tiles, so no
request may go out and no error needs filtering. It then reads the layer control's labels, counts
the features Leaflet holds and the SVG paths and markers in the page against the run's tables,
and checks that a screenshot (in pytest's tmp folder) is not blank.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from corridors.layers import read_layer
from corridors.maps import MAP_KINDS, build_map, write_maps
from corridors.maps.assets import external_references
from corridors.maps.corridor import select_corridor
from corridors.maps.gate import select_gate
from corridors.maps.scenario import select_years
from corridors.network.crossings import added_edges, foreign_edges

from tests.helpers import run

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 900}

#: In the page: every overlay of every layer control, with the features Leaflet holds for it
#: (``drawn``: now, after a picker's choice; ``total``: all), whether it is on its map, and per
#: map the paths and markers it should draw against those found in the DOM.
COUNT_JS = """
() => {
    const maps = Object.keys(window).filter(k => window[k] instanceof L.Map).map(k => window[k]);
    const controls = Object.keys(window)
        .filter(k => /_layers$/.test(k) && window[k] && window[k].overlays)
        .map(k => window[k]);
    const leaves = (layer, all) => {
        if (layer instanceof L.LayerGroup) {
            const kids = all && layer.corridorsAll ? layer.corridorsAll : layer.getLayers();
            return kids.reduce((acc, l) => {
                const n = leaves(l, all);
                return {paths: acc.paths + n.paths, markers: acc.markers + n.markers};
            }, {paths: 0, markers: 0});
        }
        return layer instanceof L.Marker ? {paths: 0, markers: 1} : {paths: 1, markers: 0};
    };
    const overlays = {};
    const perMap = maps.map(m => ({paths: 0, markers: 0, domPaths: 0, domMarkers: 0}));
    controls.forEach(c => {
        Object.entries(c.overlays).forEach(([name, layer]) => {
            const now = leaves(layer, false), all = leaves(layer, true);
            const on = maps.map(m => m.hasLayer(layer));
            overlays[name] = {drawn: now.paths + now.markers, total: all.paths + all.markers,
                              on: on.some(x => x)};
            on.forEach((x, i) => {
                if (x) { perMap[i].paths += now.paths; perMap[i].markers += now.markers; }
            });
        });
    });
    maps.forEach((m, i) => {
        const el = m.getContainer();
        perMap[i].domPaths = el.querySelectorAll(".leaflet-overlay-pane path").length;
        perMap[i].domMarkers = el.querySelectorAll(".leaflet-marker-pane .leaflet-marker-icon")
            .length;
    });
    return {overlays, perMap};
}
"""


# -- the run and the files -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def results(base_results):
    return base_results


@pytest.fixture(scope="module")
def written(full_run) -> dict[str, Path]:
    """The maps of the session's run: ``write_maps`` (every kind, offline) and
    ``write_static_maps`` of the base results, in ``base/maps``."""
    return {p.name: p for p in (full_run.folder / "base" / "maps").iterdir()
            if p.suffix in (".html", ".png")}


@pytest.fixture(scope="module")
def browser():
    reason = None
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = reason or "the Python package playwright is missing (pip install -e '.[test]')"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {reason}")
        pytest.skip(reason)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Opened:
    """A map open in the browser, with what went wrong while it loaded."""

    def __init__(self, browser, path: Path, hash_: str = ""):
        self.page = browser.new_page(viewport=VIEWPORT)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}")
                     if m.type == "error" else None)
        # Offline maps may not load anything from outside the file.
        self.page.route(re.compile(r"^(?!file:|data:|about:).*"), self._outside)
        t0 = time.perf_counter()
        self.page.goto(path.as_uri() + hash_, wait_until="load")
        self.page.wait_for_load_state("networkidle")
        self.load_s = time.perf_counter() - t0

    def _outside(self, route):
        self.errors.append(f"request outside the file: {route.request.url}")
        route.abort()

    def labels(self) -> list[str]:
        return self.page.eval_on_selector_all(
            ".leaflet-control-layers label", "els => els.map(e => e.textContent.trim())")

    def counts(self) -> dict:
        return self.page.evaluate(COUNT_JS)

    def check_drawn(self) -> dict:
        """Assert that the DOM holds exactly the paths and markers of the layers switched on."""
        c = self.counts()
        for i, m in enumerate(c["perMap"]):
            assert m["domPaths"] == m["paths"], f"map {i}: {m}"
            assert m["domMarkers"] == m["markers"], f"map {i}: {m}"
        return c

    def screenshot_not_blank(self, folder: Path, name: str) -> None:
        from PIL import Image, ImageStat

        shot = folder / f"{name}.png"
        self.page.screenshot(path=str(shot))
        image = Image.open(shot).convert("RGB")
        w, h = image.size
        centre = image.crop((w // 4, h // 4, 3 * w // 4, 3 * h // 4))
        spread = ImageStat.Stat(centre).stddev
        colours = len(centre.resize((200, 130)).getcolors(maxcolors=200 * 130))
        assert max(spread) > 15 and colours > 50, f"{name}: blank? stddev {spread}, {colours}"

    def close(self):
        self.page.close()


def _label(labels: list[str], prefix: str) -> str:
    hits = [x for x in labels if x == prefix or x.startswith(prefix + " (")
            or x.startswith(prefix + " — ")]
    assert len(hits) >= 1, f"no layer {prefix!r} in the layer control: {labels}"
    return hits[0]


def _check_layers(opened: Opened, expected: dict[str, int]) -> dict:
    """Each expected layer is listed, with its count, and holds that many features."""
    labels = opened.labels()
    counts = opened.counts()["overlays"]
    for prefix, n in expected.items():
        label = _label(labels, prefix)
        assert label == (f"{prefix} ({n})" if n else f"{prefix} — none"), label
        assert counts[label]["total"] == n, (label, counts[label])
    return counts


# -- what the run says each map must hold --------------------------------------------------------
def _links(results, year, mode, classes) -> int:
    from corridors.maps.geo import undirected_edges

    e = results.builds[year].tables.edges
    # Vietnam's network: what lies across the border has a layer of its own
    e = e[e["mode"].eq(mode) & e["class"].isin(classes) & ~added_edges(e)]
    assert len(e) % 2 == 0  # one row per direction of travel
    # one link per pair of directions; coincident copies (two links' access roads to one town)
    # are drawn once
    return len(undirected_edges(e))


NETWORK = {"Expressways": ("road", ["expressway"]), "National roads": ("road", ["national"]),
           "Railways, metre gauge": ("rail", ["metre"]), "Railways, dual gauge": ("rail", ["dual"]),
           "Railways, standard gauge": ("rail", ["standard"]), "Air routes": ("air", ["air"]),
           "Inland waterways": ("water", ["river"])}


def _foreign_links(results, year) -> int:
    """Roads and railways beyond the border (China, Laos), one per pair of directions."""
    e = results.builds[year].tables.edges
    e = e[foreign_edges(e) & e["mode"].isin(["road", "rail"])]
    assert len(e) % 2 == 0 and e["crossing"].isna().all()
    return len(e) // 2


def _network_expected(results, year, label) -> dict[str, int]:
    out = {f"{name} {label}": _links(results, year, *spec) for name, spec in NETWORK.items()}
    out[f"Across the border {label}"] = _foreign_links(results, year)
    return out


def plan_expected(results) -> dict[str, int]:
    a, b = results.years
    cat = results.builds[b].catalog
    places = cat.places_frame()["kind"].value_counts()
    projects = cat.projects_frame()
    mapped = projects[projects.geometry.notna()]["mode"].value_counts()
    out = {"Provinces since 1 July 2025": len(read_layer("provinces_2025")),
           "Provinces before 1 July 2025": len(read_layer("provinces_2024")),
           "Economic corridors and axes": len(cat.corridors),
           "Border gates": int(places.get("border_gate", 0)),
           "Border-gate economic zones (BGEZ)": int(places.get("bgez", 0)),
           "Dry ports (ICD)": int(places.get("dry_port", 0)),
           "Seaports": int(places.get("seaport", 0)),
           "River ports": int(places.get("river_port", 0)),
           "Airports": int(places.get("airport", 0)),
           "Projects: roads": int(mapped.get("road", 0)),
           "Projects: railways": int(mapped.get("rail", 0)),
           "Projects: waterways": int(mapped.get("waterway", 0)),
           "Projects: air": int(mapped.get("air", 0)),
           "Projects: dry ports": int(mapped.get("dry_port", 0))}
    out.update(_network_expected(results, a, results.labels[0]))
    return out


# -- the browser tests ---------------------------------------------------------------------------
@pytest.mark.slow
def test_plan_map_in_browser(results, written, browser, tmp_path):
    opened = Opened(browser, written["plan.html"])
    try:
        assert opened.errors == []
        counts = _check_layers(opened, plan_expected(results))
        assert counts[f"Railways, standard gauge {results.labels[0]} — none"]["total"] == 0
        # China's standard gauge to Hekou and Pingxiang is there, in its own layer
        assert counts[f"Across the border {results.labels[0]} "
                      f"({_foreign_links(results, results.years[0])})"]["total"] > 10
        before = opened.check_drawn()["perMap"][0]["paths"]
        # The two editions of the provinces switch independently.
        control = opened.page.locator(".leaflet-control-layers label")
        control.filter(has_text="Provinces before 1 July 2025").click()
        control.filter(has_text="Provinces since 1 July 2025").click()
        after = opened.check_drawn()["perMap"][0]["paths"]
        assert after - before == 21 - 14
        # A project's popup gives both names and the plan's terms as written.
        text = opened.page.evaluate("""() => {
            const c = Object.values(window).find(v => v && v.overlays);
            const name = Object.keys(c.overlays).find(n => n.startsWith("Projects: roads"));
            const f = c.overlays[name].getLayers()[0].getLayers()[0];
            f.openPopup();
            return document.querySelector(".leaflet-popup-content").textContent;
        }""")
        for word in ("Tên", "presiding authority", "funding", "expected time (plan)", "source"):
            assert word in text
        legend = opened.page.inner_text("#corridors-legend")
        assert "Not mapped" in legend and "opening year" in legend
        opened.screenshot_not_blank(tmp_path, "plan")
    finally:
        opened.close()


@pytest.mark.slow
def test_scenario_map_in_browser(results, written, browser, tmp_path):
    opened = Opened(browser, written["scenario.html"])
    try:
        assert opened.errors == []
        la, lb = results.labels
        expected = {**_network_expected(results, results.years[0], la),
                    **_network_expected(results, results.years[1], lb)}
        n_nodes = len(results.node_savings)
        sp = results.analyses.tables["savings_provinces"]
        n_prov = int(((sp["edition"].astype(str) == "2025")
                      & (sp["destination"] == "ha_noi")).sum())
        expected["Saving to Hà Nội by province (h)"] = n_prov
        expected["Saving to Hải Phòng seaport (Đình Vũ) by province (h)"] = n_prov
        counts = _check_layers(opened, expected)
        nodes = [x for x in counts if x.startswith("Saving to Hà Nội by node")]
        assert len(nodes) == 1 and counts[nodes[0]]["total"] == n_nodes
        c = opened.check_drawn()
        assert len(c["perMap"]) == 2
        # The two maps move together.
        centres = opened.page.evaluate("""() => {
            const maps = Object.values(window).filter(v => v instanceof L.Map);
            maps[0].setView([22.3, 104.0], 9, {animate: false});
            return maps.map(m => [m.getCenter().lat, m.getCenter().lng, m.getZoom()]);
        }""")
        assert centres[0] == pytest.approx(centres[1], abs=1e-3)
        assert "Travel-time saving" in opened.page.inner_text("#corridors-legend")
        opened.screenshot_not_blank(tmp_path, "scenario")
    finally:
        opened.close()


@pytest.mark.slow
def test_gate_map_in_browser(results, written, browser, tmp_path):
    iso = results.isochrones
    la, lb = results.labels
    opened = Opened(browser, written["gate.html"])
    try:
        assert opened.errors == []
        n_a = int((iso["scenario"].astype(str) == la).sum())
        n_b = int((iso["scenario"].astype(str) == lb).sum())
        _check_layers(opened, {f"Isochrones {la} (car, 1/2/4/8 h)": n_a,
                               f"Isochrones {lb} (car, 1/2/4/8 h)": n_b,
                               "Border gates": 25, "Border-gate economic zones (BGEZ)": 5})
        options = opened.page.eval_on_selector_all("#corridors-pick option",
                                                   "os => os.map(o => o.value)")
        assert set(options) == set(iso["id"])
        for gid in options:  # pick every gate as a person would, in the select box
            opened.page.select_option("#corridors-pick", gid)
            counts = opened.check_drawn()["overlays"]
            drawn = {k: v["drawn"] for k, v in counts.items() if k.startswith("Isochrones")}
            want = iso[iso["id"] == gid]["scenario"].astype(str).value_counts()
            assert drawn == {f"Isochrones {la} (car, 1/2/4/8 h) ({n_a})": int(want.get(la, 0)),
                             f"Isochrones {lb} (car, 1/2/4/8 h) ({n_b})": int(want.get(lb, 0))}
            info = opened.page.inner_text(".corridors-pick-info")
            assert "Hà Nội" in info and "people within 2 h" in info, gid
        opened.screenshot_not_blank(tmp_path, "gate")
    finally:
        opened.close()
    # The address picks the gate: gate.html#gate=<id>.
    opened = Opened(browser, written["gate.html"], "#gate=gate_lao_cai_road")
    try:
        assert opened.errors == []
        assert opened.page.input_value("#corridors-pick") == "gate_lao_cai_road"
    finally:
        opened.close()


@pytest.mark.slow
def test_corridor_map_in_browser(results, written, browser, tmp_path):
    routes = results.analyses.tables["corridor_routes"]
    opened = Opened(browser, written["corridor.html"])
    try:
        assert opened.errors == []
        expected = {f"Routes {s}, {p}": int(((routes["scenario"].astype(str) == s)
                                             & (routes["profile"] == p)).sum())
                    for s in results.labels for p in ("car", "truck", "freight")}
        cat = results.builds[results.years[1]].catalog
        expected["Corridor stops"] = sum(len(c.stops) for c in cat.corridors.values())
        _check_layers(opened, expected)
        opened.check_drawn()
        cid = "ec_ha_noi_hoa_binh_son_la_dien_bien"
        opened.page.select_option("#corridors-pick", cid)
        counts = opened.check_drawn()["overlays"]
        car = {k: v["drawn"] for k, v in counts.items() if k.startswith("Routes") and v["on"]}
        assert car and all(n == 1 for n in car.values()), car
        text = opened.page.evaluate("""() => {
            const c = Object.values(window).find(v => v && v.overlays);
            const name = Object.keys(c.overlays).find(n => /^Routes .*, car/.test(n));
            const f = c.overlays[name].getLayers()[0].getLayers()[0];
            f.openPopup();
            return document.querySelector(".leaflet-popup-content").textContent;
        }""")
        for word in ("time", "length", "average speed", "expressway share", "detour index",
                     "slowest stretch", "km/h"):
            assert word in text
        opened.screenshot_not_blank(tmp_path, "corridor")
    finally:
        opened.close()


@pytest.mark.slow
def test_international_map_in_browser(results, written, browser, tmp_path):
    from corridors.maps.international import drawn_routes

    od = results.analyses.tables["international_od"]
    html = written["international.html"].read_text(encoding="utf-8")
    for name in ("Côn Minh", "昆明", "Cảng Hải Phòng (Đình Vũ)", "Lào Cai (đường sắt)"):
        assert name in html, name
    opened = Opened(browser, written["international.html"])
    try:
        assert opened.errors == []
        drawn = od[drawn_routes(od)]
        expected = {f"Routes {s}, {label}": int(((drawn["scenario"].astype(str) == s)
                                                 & (drawn["mode"] == m)).sum())
                    for s in results.labels
                    for m, label in (("road", "road freight (truck)"), ("rail", "rail freight"))}
        cat = results.builds[results.years[1]].catalog
        expected["Cities across the border"] = sum(p.kind == "foreign_city"
                                                   for p in cat.foreign.values())
        expected[f"Across the border {results.labels[1]}"] = _foreign_links(results,
                                                                            results.years[1])
        counts = _check_layers(opened, expected)
        # every origin's road route to each destination, in both years
        assert counts[f"Routes {results.labels[1]}, road freight (truck) (32)"]["total"] == 32
        opened.check_drawn()
        opened.page.select_option("#corridors-pick", "xb_kunming")
        shown = opened.check_drawn()["overlays"]
        rail = shown[next(k for k in shown if k.startswith(f"Routes {results.labels[1]}, rail"))]
        assert rail["drawn"] == int(((drawn["origin"] == "xb_kunming") & (drawn["mode"] == "rail")
                                     & (drawn["scenario"].astype(str) == results.labels[1])
                                     ).sum()) > 0
        summary = opened.page.inner_text(".corridors-summary")
        assert "Lào Cai (đường sắt)" in summary and "Kim Thành" in summary
        opened.screenshot_not_blank(tmp_path, "international")
    finally:
        opened.close()


def _without_mode(results, mode: str):
    """A copy of the run whose catalog and networks have nothing of one mode."""
    edge_mode = {"waterway": "water"}.get(mode, mode)
    builds = {}
    for year, b in results.builds.items():
        cat = dataclasses.replace(b.catalog, projects={k: p for k, p in b.catalog.projects.items()
                                                       if p.mode != mode})
        tables = dataclasses.replace(b.tables, edges=b.tables.edges[
            b.tables.edges["mode"] != edge_mode])
        builds[year] = dataclasses.replace(b, catalog=cat, tables=tables)
    return dataclasses.replace(results, builds=builds)


@pytest.mark.slow
def test_empty_layers_still_make_valid_maps(results, browser, tmp_path):
    """No air project and no air route: the layer stays in the control and the map says so."""
    empty = _without_mode(results, "air")
    out = tmp_path / "maps"
    write_maps(empty, out, ("plan", "scenario"))
    for name in ("plan.html", "scenario.html"):
        opened = Opened(browser, out / name)
        try:
            assert opened.errors == []
            labels = opened.labels()
            assert f"Air routes {results.labels[0]} — none" in labels
            if name == "plan.html":
                assert "Projects: air — none" in labels
                assert "Projects: air: no air project" in opened.page.inner_text(
                    "#corridors-title")
            opened.check_drawn()
        finally:
            opened.close()
    # A run without isochrones or gates: the gate map still opens, and says so.
    no_gates = results.analyses.tables["gate_access"].iloc[0:0]
    bare = dataclasses.replace(
        results, isochrones=results.isochrones.iloc[0:0],
        analyses=dataclasses.replace(results.analyses,
                                     tables={**results.analyses.tables, "gate_access": no_gates}))
    html, page = build_map(bare, "gate")
    assert "No gate or BGEZ in this run." in page.notes
    path = tmp_path / "gate_empty.html"
    path.write_text(html, encoding="utf-8")
    opened = Opened(browser, path)
    try:
        assert opened.errors == []
        assert f"Isochrones {results.labels[0]} (car, 1/2/4/8 h) — none" in opened.labels()
    finally:
        opened.close()


# -- the files -----------------------------------------------------------------------------------
def test_every_map_is_one_offline_file_with_provenance(results, written):
    for kind in MAP_KINDS:
        html = written[f"{kind}.html"].read_text(encoding="utf-8")
        assert external_references(html) == [], kind
        assert ("L.Map.Sync" in html) == (kind == "scenario")
        assert written[f"{kind}.html"].stat().st_size < 3_000_000, kind
        head = html[: html.index("</head>")]
        prov = json.loads(re.search(r'id="corridors-provenance-json">(.*?)</script>', head,
                                    re.S).group(1).replace("<\\/", "</"))
        for key in ("toolkit", "date", "years", "scenario", "network_source", "inputs_sha256",
                    "attribution"):
            assert prov[key] == results.provenance[key], (kind, key)
        assert "<title>" in head and 'name="dcterms.rights"' in head
        body = html[html.index("<body"):]
        assert results.provenance["attribution"] in body.replace("&amp;", "&")
        assert results.provenance["inputs_sha256"]["region.gpkg"] in body
        assert "No background map" in body


def test_map_files_are_shared_like_any_file(written):
    umask = os.umask(0)
    os.umask(umask)
    for path in written.values():
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path


def test_vendored_libraries_match_their_manifest():
    """maps/vendor/ holds what scripts/vendor_map_assets.py fetched (hashes in ASSETS.json)."""
    root = Path(__file__).resolve().parents[1]
    res = subprocess.run([sys.executable, str(root / "scripts" / "vendor_map_assets.py"),
                          "--check"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    for licence in ("LICENSE-leaflet.txt", "LICENSE-leaflet.sync.txt"):
        assert (root / "maps" / "vendor" / licence).exists()


def test_online_maps_link_the_cdn_and_draw_tiles(results):
    html, _page = build_map(results, "plan", offline=False)
    assert 'src="https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js"' in html
    assert "tile.openstreetmap.org" in html and "No background map" not in html
    assert "leaflet.js (inline)" not in html


def test_static_maps_are_drawn(written):
    from PIL import Image, ImageStat

    for name in ("plan.png", "change.png"):
        image = Image.open(written[name]).convert("RGB")
        assert image.size[0] > 1200 and image.size[1] > 800
        assert max(ImageStat.Stat(image).stddev) > 20, name


# -- bad input -----------------------------------------------------------------------------------
def test_unknown_gate_corridor_year_list_the_valid_names(results, tmp_path):
    assert select_gate(results, "huu nghi") == "gate_huu_nghi"
    assert select_gate(results, "Hữu Nghị") == "gate_huu_nghi"
    with pytest.raises(LookupError, match=r"valid gates: .*gate_huu_nghi \(Hữu Nghị\)"):
        select_gate(results, "Atlantis")
    assert select_corridor(results, "Hanoi - Hoa Binh - Son La - Dien Bien") == \
        "ec_ha_noi_hoa_binh_son_la_dien_bien"
    with pytest.raises(LookupError, match=r"valid corridors: .*ec_lao_cai_ha_noi_hai_phong"):
        select_corridor(results, "Silk Road")
    with pytest.raises(LookupError, match=r"year 2040 .*valid years: 2025, 2030"):
        select_years(results, (2025, 2040))
    with pytest.raises(LookupError, match="valid gates"):
        write_maps(results, tmp_path / "x", ["gate"], gate="Atlantis")
    assert not (tmp_path / "x" / "gate.html").exists()
    with pytest.raises(ValueError, match="valid kinds: plan, scenario, gate, corridor"):
        write_maps(results, tmp_path / "x", ["atlas"])


def test_cli_writes_five_maps_and_two_pngs(results, tmp_path, monkeypatch):
    """``corridors map --out DIR`` on the embedded default (the run is reused, not recomputed)."""
    import corridors.analysis.results

    monkeypatch.setattr(corridors.analysis.results, "compute_results", lambda *a, **k: results)
    out = tmp_path / "maps"
    res = run("map", "--out", str(out))
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in out.iterdir())
    # the maps and the manifest of what the tool wrote there (the output contract)
    assert names == [".corridors-manifest.json", "change.png", "corridor.html", "gate.html",
                     "international.html", "plan.html", "plan.png", "scenario.html"]
    again = run("map", "plan", "--out", str(out), "--no-static")
    assert again.exit_code == 1 and "exists: pass --force" in again.output
    forced = run("map", "plan", "--out", str(out), "--force", "--no-static")
    assert forced.exit_code == 0, forced.output
