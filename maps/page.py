"""What every interactive map has: the map frame, title, legend, notes, provenance and saving.

A :class:`Page` collects the parts of one HTML map while its layers are added (legend sections,
notes such as "no air project in this run", the number of features of each layer) and renders
them around the map at the end: a title box at the top, a legend at the bottom right, the run's
provenance and the full data attribution at the bottom left and in the HTML head, with the
libraries embedded when the map is offline.
"""

from __future__ import annotations

import json
from copy import deepcopy
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING

import folium
from branca.element import Element, Figure, MacroElement
from corridors.maps.assets import asset_versions, inline_assets, unescape_json, use_libraries
from corridors.maps.style import PLAIN_BACKGROUND
from folium.template import Template

if TYPE_CHECKING:
    from corridors.analysis.results import RunResults

#: The region's bounding box (south-west, north-east), degrees.
REGION_BOUNDS = [[20.3, 102.1], [23.45, 107.6]]
REGION_CENTRE = [21.85, 104.85]

#: JavaScript bound to every GeoJSON feature: popups and tooltips are read from the feature's
#: ``popup``, ``tip`` (hover) and ``label`` (always shown) properties, written in Python; a
#: ``pick_on_click`` property selects that item in the map's picker (:mod:`maps.picker`).
BIND_FEATURE = folium.JsCode("""
function(feature, layer) {
    var p = feature.properties || {};
    if (p.popup) { layer.bindPopup(p.popup, window.corridorsPopupOptions || {maxWidth: 460}); }
    if (p.label) {
        layer.bindTooltip(String(p.label), {permanent: true, direction: "center",
                                            className: "corridors-label", opacity: 0.9});
    } else if (p.tip) {
        layer.bindTooltip(p.tip, {sticky: true});
    }
    if (p.pick_on_click) {
        layer.on("click", function () {
            if (window.corridorsPick) { window.corridorsPick(p.pick_on_click, false); }
        });
    }
}
""")

_CSS = """
<style>
  .corridors-box {position: fixed; z-index: 1000; background: rgba(255,255,255,0.93);
    border: 1px solid #999; border-radius: 4px; padding: 6px 9px;
    font: 12px/1.35 Arial, Helvetica, sans-serif; color: #222;
    box-shadow: 0 1px 4px rgba(0,0,0,0.3);}
  .corridors-title {top: 8px; left: 50%; transform: translateX(-50%); text-align: center;
    max-width: 44%;}
  .corridors-title h1 {font-size: 16px; margin: 0 0 2px 0;}
  .corridors-title .sub {font-size: 12px; color: #444;}
  .corridors-title .note {font-size: 11px; color: #8a4b00; margin-top: 3px;}
  .corridors-legend {top: 84px; left: 10px; max-height: calc(100% - 190px); overflow-y: auto;
    max-width: 270px; font-size: 11px;}
  .corridors-legend h4 {font-size: 11px; margin: 5px 0 2px 0;}
  .corridors-legend .row {display: flex; align-items: center; gap: 6px; margin: 1px 0;}
  .corridors-legend .row svg {flex: none;}
  .corridors-prov {bottom: 6px; left: 50%; transform: translateX(-50%); max-width: 52%;
    font-size: 10px; max-height: 30vh; overflow-y: auto;}
  .corridors-prov summary {cursor: pointer; font-weight: bold;}
  .corridors-prov table td {padding: 0 6px 0 0; vertical-align: top;}
  .corridors-label {background: rgba(255,255,255,0.85); border: 1px solid #888;
    padding: 0 3px; font: bold 10px Arial, sans-serif; box-shadow: none;}
  .corridors-popup table {border-collapse: collapse; font-size: 11.5px;}
  .corridors-popup th, .corridors-popup td {border-bottom: 1px solid #ddd; padding: 1px 5px;
    text-align: left; vertical-align: top;}
  .corridors-popup td.n {text-align: right; white-space: nowrap;}
  .corridors-icon {background: none; border: none;}
  .corridors-picker {background: rgba(255,255,255,0.95); border: 2px solid rgba(0,0,0,0.3);
    border-radius: 4px; padding: 5px 7px; font: 12px Arial, Helvetica, sans-serif;
    max-width: 500px;}
  .corridors-picker select {font-size: 12px; max-width: 360px;}
  .corridors-pick-info {margin-top: 4px; max-height: 45vh; overflow-y: auto;}
  .corridors-map-label {background: rgba(255,255,255,0.93); border: 2px solid #333;
    border-radius: 4px; padding: 3px 8px; font: bold 15px Arial, Helvetica, sans-serif;}
  .corridors-legend.at-right {top: auto; left: auto; bottom: 24px; right: 10px;
    max-height: 52vh;}
  .corridors-legend summary {cursor: pointer; font-weight: bold; margin-top: 3px;}
  .corridors-title.bar {top: 0; left: 0; right: 0; transform: none; max-width: none;
    border-radius: 0; height: 60px; box-sizing: border-box; overflow: hidden; padding: 4px;}
  body.corridors-with-bar .folium-map {top: 60px !important; height: calc(100% - 60px) !important;}
  .leaflet-control-layers {font: 11px/1.25 Arial, Helvetica, sans-serif;}
  .leaflet-control-layers-list {max-height: calc(100vh - 60px); overflow-y: auto;}
  .leaflet-control-layers label {margin: 0;}
  .leaflet-control-layers label.corridors-empty, .corridors-empty {color: #999;}
</style>
"""


class _PlainBackground(MacroElement):
    """Give a map without tiles a plain background."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.getContainer().style.background = "{{ this.colour }}";
        {% endmacro %}
    """)

    def __init__(self, colour: str):
        super().__init__()
        self.colour = colour


class MapLabel(MacroElement):
    """A label in a corner of one map (e.g. the year of each half of the scenario map)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var label = L.control({position: "{{ this.position }}"});
            label.onAdd = function () {
                var div = L.DomUtil.create("div", "corridors-map-label");
                div.innerHTML = {{ this.html | tojson }};
                return div;
            };
            label.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
    """)

    def __init__(self, html: str, position: str = "topleft"):
        super().__init__()
        self.html = html
        self.position = position


@dataclass
class Page:
    """One HTML map being built (see the module docstring).

    Attributes
    ----------
    results : corridors.analysis.results.RunResults
        The run the map shows.
    title : str
        The map's title.
    subtitle : str
        One line under the title (years, scenario, profile).
    offline : bool
        Embed the libraries (True) or link them on a CDN.
    tiles : bool
        Draw OpenStreetMap tiles (needs the internet) or a plain background.
    legends : list
        Legend sections: (heading with units, [(swatch, label)], folded).
    notes : list of str
        Notes shown under the title (empty layers, one-year runs).
    legend_blocks : list of str
        HTML blocks at the end of the legend (the plan's "not mapped" list).
    counts : dict
        Layer name (as in the layer control) to the number of features drawn.
    legend_at_right : bool
        Legend at the bottom right (default: top left, under the zoom buttons).
    title_bar : bool
        Title in a bar across the top, the maps below it (the side-by-side map).
    popup_clear : ((int, int), (int, int))
        Pixels popups keep clear of at the top left and bottom right (the boxes).
    """

    results: RunResults
    title: str
    subtitle: str = ""
    offline: bool = True
    tiles: bool = False
    legends: list[tuple[str, list[tuple[str, str]], bool]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    legend_blocks: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    legend_at_right: bool = False
    title_bar: bool = False
    popup_clear: tuple[tuple[int, int], tuple[int, int]] = ((300, 110), (290, 140))

    # -- the map frame ----------------------------------------------------------------------
    def map_options(self) -> dict:
        """Return the options every folium map of the page is made with."""
        return {"location": REGION_CENTRE, "zoom_start": 7, "tiles": None,
                "control_scale": True, "prefer_canvas": False, "min_zoom": 5,
                "zoom_snap": 0.25}

    def setup(self, m: folium.Map) -> folium.Map:
        """Give a map the page's libraries, tiles or plain background, and region view."""
        use_libraries(m)
        if self.tiles:
            folium.TileLayer(
                "OpenStreetMap", name="OpenStreetMap (needs the internet)", control=True,
                error_tile_url="data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==",
            ).add_to(m)
        else:
            _PlainBackground(PLAIN_BACKGROUND).add_to(m)
        m.fit_bounds(REGION_BOUNDS, padding=(4, 4))
        return m

    def new_map(self) -> folium.Map:
        """Return a new folium map set up for the page, in the page's figure (:meth:`adopt`)."""
        m = self.setup(folium.Map(**self.map_options()))
        self.adopt(m)
        return m

    def adopt(self, *elements) -> PageFigure:
        """Put map elements into a :class:`PageFigure` of this page, in order; return it.

        A folium map (or the two maps and the :class:`folium.plugins.DualMap` that syncs them,
        in the order folium adds them) is made in a figure of its own; moved into a page
        figure, it renders as the page, in a notebook and with ``save``, as in the files the
        toolkit writes.
        """
        figure = PageFigure(self)
        for element in elements:
            figure.add_child(element)
        return figure

    # -- layers -----------------------------------------------------------------------------
    def group(self, parent, label: str, n: int, *, show: bool = True, empty: str = "",
              overlay: bool = True) -> folium.FeatureGroup:
        """Return a named layer for the layer control, noting the number of features.

        An empty layer keeps its place in the control as ``"<label> — none"`` and the page
        says why (``empty``, default "nothing to draw in this run").
        """
        name = f"{label} ({n})" if n else f"{label} — none"
        if not n:
            self.notes.append(f"{label}: {empty or 'nothing to draw in this run'}.")
        self.counts[name] = n
        fg = folium.FeatureGroup(name=name, show=show and bool(n), overlay=overlay)
        fg.add_to(parent)
        return fg

    def legend(self, heading: str, items: list[tuple[str, str]], folded: bool = False) -> None:
        """Add a legend section: a heading (with units) and (swatch SVG/HTML, label) rows.

        A ``folded`` section shows its heading only until it is clicked.
        """
        self.legends.append((heading, items, folded))

    def note(self, text: str) -> None:
        """Add a note shown under the title."""
        self.notes.append(text)

    # -- rendering --------------------------------------------------------------------------
    def _tile_note(self) -> str:
        if self.tiles:
            return "Background: © OpenStreetMap contributors (tiles need the internet)."
        return ("No background map: this file works offline, so it draws the data on a plain "
                "background (OpenStreetMap tiles need the internet; write the map with --cdn "
                "for tiles).")

    def _title_html(self) -> str:
        notes = "".join(f'<div class="note">{escape(n)}</div>' for n in self.notes)
        bar = " bar" if self.title_bar else ""
        return (f'<div class="corridors-box corridors-title{bar}" id="corridors-title">'
                f'<h1>{escape(self.title)}</h1><div class="sub">{escape(self.subtitle)}</div>'
                f'{notes}</div>')

    def _legend_html(self) -> str:
        where = " at-right" if self.legend_at_right else ""
        parts = [f'<div class="corridors-box corridors-legend{where}" id="corridors-legend">'
                 "<details open><summary>Legend</summary>"]
        for heading, items, folded in self.legends:
            rows = "".join(f'<div class="row">{swatch}<span>{escape(label)}</span></div>'
                           for swatch, label in items)
            if folded:
                parts.append(f"<details><summary>{escape(heading)}</summary>{rows}</details>")
            else:
                parts.append(f"<h4>{escape(heading)}</h4>{rows}")
        parts += self.legend_blocks
        parts.append("</details></div>")
        return "".join(parts)

    def provenance(self) -> dict:
        """Return the run's provenance with the map libraries added."""
        prov = dict(self.results.provenance)
        prov["map_libraries"] = asset_versions()
        prov["map_offline"] = self.offline
        return prov

    def _provenance_html(self) -> str:
        p = self.results.provenance
        years = " → ".join(str(y) for y in p.get("years", []))
        inputs = "".join(f"<tr><td>{escape(k)}</td><td><code>{escape(v)}</code></td></tr>"
                         for k, v in p.get("inputs_sha256", {}).items())
        desc = p.get("scenario_description") or ""
        return (
            '<div class="corridors-box corridors-prov" id="corridors-provenance">'
            f"<div><b>{escape(p.get('toolkit', ''))}</b> · run {escape(p.get('date', ''))} · "
            f"years {escape(years)} · scenario <b>{escape(p.get('scenario', ''))}</b>"
            f"{' (' + escape(desc) + ')' if desc else ''} · network: "
            f"{escape(p.get('network_source', ''))}</div>"
            f"<div>Data: {escape(p.get('attribution', ''))}</div>"
            f"<div>{escape(self._tile_note())}</div>"
            "<details><summary>Inputs (SHA-256, first 16 hex digits)</summary>"
            f"<table>{inputs}</table></details></div>"
        )

    def _popup_options(self) -> dict:
        # Popups open clear of the title, legend and layer control boxes.
        top_left, bottom_right = self.popup_clear
        return {"maxWidth": 460, "autoPanPaddingTopLeft": list(top_left),
                "autoPanPaddingBottomRight": list(bottom_right)}

    def _head_html(self) -> str:
        prov = self.provenance()
        # No user string (a scenario's description) can open or close a tag in the script.
        text = (json.dumps(prov, ensure_ascii=False, indent=1).replace("<", "\\u003c")
                .replace(">", "\\u003e").replace("&", "\\u0026"))
        attribution = escape(prov.get("attribution", ""), quote=True)
        return (
            f'<meta name="description" content="{escape(self.title, quote=True)}: '
            f'{escape(self.subtitle, quote=True)}" />\n'
            f'<meta name="generator" content="{escape(prov.get("toolkit", ""), quote=True)}"'
            " />\n"
            f'<meta name="dcterms.rights" content="{attribution}" />\n'
            f'<script type="application/json" id="corridors-provenance-json">{text}</script>\n'
            f"<script>window.corridorsPopupOptions = {json.dumps(self._popup_options())};"
            "</script>\n"
            f"{_CSS}"
        )

    def render(self, root) -> str:
        """Render the page around a map (or a DualMap) and return the HTML.

        Parameters
        ----------
        root : folium.Map or folium.plugins.DualMap
            The map element; its figure receives the title, legend and provenance.

        Returns
        -------
        str
            One self-contained HTML document when offline.
        """
        figure = root.get_root()
        figure.title = escape(f"{self.title} — {self.subtitle}" if self.subtitle else self.title)
        # named children: rendering again replaces them (a map shown, then saved)
        figure.header.add_child(Element(self._head_html()), name="corridors_head")
        figure.html.add_child(Element(self._title_html()), name="corridors_title")
        figure.html.add_child(Element(self._legend_html()), name="corridors_legend")
        figure.html.add_child(Element(self._provenance_html()), name="corridors_provenance")
        html = unescape_json(Figure.render(figure))  # folium's own rendering, not the page's
        if self.title_bar:
            html = html.replace("<body>", '<body class="corridors-with-bar">', 1)
        # After every map's script (the page's last one): grey out the empty layers' names.
        end = html.rindex("</script>")
        html = html[:end] + _EMPTY_LABELS_JS + html[end:]
        return inline_assets(html) if self.offline else html


class PageFigure(Figure):
    """The figure of a map that belongs to a :class:`Page`: it renders as the whole page.

    folium displays a map in a notebook, and saves it, by rendering the map's root figure;
    this one renders what :meth:`Page.render` writes (title, legend, provenance, the libraries
    embedded when the page is offline), so that a map shown in a notebook, saved with
    ``folium.Map.save`` or written by :func:`corridors.maps.write_maps` is the same page.

    Parameters
    ----------
    page : Page
        The page whose map this figure holds.
    """

    def __init__(self, page: Page):
        super().__init__()
        self.page = page

    def render(self, **kwargs) -> str:
        """Return the page's HTML (:meth:`Page.render`), leaving this figure as it was.

        folium adds to a figure as it renders it (each layer's ``addTo`` call, once per
        rendering), so a copy is rendered: a map shown, then saved, gives the same page.
        """
        copy = deepcopy(self, {id(self.page): self.page})  # the page and its run: shared
        return self.page.render(copy)


def page_of(m: folium.Map) -> Page:
    """Return the :class:`Page` a map of the toolkit belongs to.

    Raises
    ------
    TypeError
        If the map was not made by one of the toolkit's map builders.
    """
    figure = m.get_root()
    if not isinstance(figure, PageFigure):
        raise TypeError("this map was not made by a corridors map builder "
                        "(corridors.maps.make_map)")
    return figure.page


_EMPTY_LABELS_JS = """
    document.querySelectorAll(".leaflet-control-layers label").forEach(function (el) {
        if (/— none/.test(el.textContent)) { el.classList.add("corridors-empty"); }
    });
"""
