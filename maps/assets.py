"""The web libraries of the maps, and embedding them so that a map opens offline.

Every map loads only Leaflet (and, for the side-by-side scenario map, Leaflet.Sync): the maps
draw their icons as inline SVG and their legends as plain HTML, so folium's other defaults
(jQuery, Bootstrap, Font Awesome, Awesome Markers) are dropped. Offline maps (the default)
carry the libraries inline, read from ``maps/vendor/`` (vendored from npm by
``scripts/vendor_map_assets.py``, with their licences and hashes in ``ASSETS.json``); online
maps (``--cdn``) link the same versions on a CDN.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

VENDOR_DIR = Path(__file__).parent / "vendor"

_CDN = "https://cdn.jsdelivr.net/npm"
#: Name -> (CDN URL, vendored file) of every script the maps load.
JS: dict[str, tuple[str, str]] = {
    "leaflet": (f"{_CDN}/leaflet@1.9.4/dist/leaflet.js", "leaflet.js"),
    "leaflet_sync": (f"{_CDN}/leaflet.sync@0.2.4/L.Map.Sync.js", "L.Map.Sync.js"),
}
#: Name -> (CDN URL, vendored file) of every style sheet the maps load.
CSS: dict[str, tuple[str, str]] = {
    "leaflet_css": (f"{_CDN}/leaflet@1.9.4/dist/leaflet.css", "leaflet.css"),
}

_SCRIPT = re.compile(r'<script\s+src="([^"]+)"\s*>\s*</script>')
_LINK = re.compile(r'<link\s+rel="stylesheet"\s+href="([^"]+)"\s*/?>')
_EXTERNAL = re.compile(r'<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)="(?:https?:)?//[^"]+"'
                       r'|@import|url\((?:["\']?)(?:https?:)?//', re.IGNORECASE)


def use_libraries(element, js: tuple[str, ...] = ("leaflet",),
                  css: tuple[str, ...] = ("leaflet_css",)) -> None:
    """Make a folium element load only the named libraries (see :data:`JS`, :data:`CSS`).

    Parameters
    ----------
    element : folium.elements.JSCSSMixin
        A map or plugin; its ``default_js`` / ``default_css`` are replaced on the instance.
    js, css : tuple of str
        Library names.
    """
    element.default_js = [(name, JS[name][0]) for name in js]
    element.default_css = [(name, CSS[name][0]) for name in css]


@cache
def read_asset(file: str) -> str:
    """Return the text of a vendored file of ``maps/vendor/``.

    Raises
    ------
    FileNotFoundError
        If the file is missing (rerun ``scripts/vendor_map_assets.py``).
    """
    path = VENDOR_DIR / file
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run scripts/vendor_map_assets.py")
    return path.read_text(encoding="utf-8")


def asset_versions() -> dict[str, str]:
    """Return the vendored libraries and their versions, from ``ASSETS.json``."""
    manifest = json.loads(read_asset("ASSETS.json"))
    return {name: pkg["version"] for name, pkg in manifest["packages"].items()}


def _script_text(text: str) -> str:
    # A literal "</script" would end the inline element early; source maps are not shipped.
    text = re.sub(r"^//# sourceMappingURL=.*$", "", text, flags=re.MULTILINE)
    return text.replace("</script", "<\\/script")


# An escape \uXXXX, after an even number of backslashes (an escaped backslash is not one).
_UNICODE_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u([0-9a-fA-F]{4})")
_SCRIPT_END = re.compile(r"(?:/?script|!--)", re.IGNORECASE)


def unescape_json(html: str) -> str:
    r"""Write the ``\uXXXX`` escapes of folium's JSON as the characters themselves.

    folium's JSON escapes every non-ASCII letter and ``<``, ``>``, ``&``, ``'`` (as
    ``\u1ed9``, ``\u003c`` …), which doubles the size of popups in Vietnamese. The page is
    UTF-8, and inside a JavaScript string these characters need no escape, except a ``<``
    that would start ``</script``, ``<script`` or ``<!--`` in the HTML parser's eyes: those
    stay escaped, as do control characters and UTF-16 surrogates. Call this before the
    libraries are inlined (it must not touch their code).
    """
    def repl(m: re.Match) -> str:
        code = int(m.group(2), 16)
        if code < 0x20 or 0xD800 <= code <= 0xDFFF or code in (0x5C, 0x22, 0x2028, 0x2029):
            return m.group(0)
        if code == 0x3C and _SCRIPT_END.match(html, m.end()):
            return m.group(0)
        return m.group(1) + chr(code)

    return _UNICODE_ESCAPE.sub(repl, html)


def inline_assets(html: str) -> str:
    """Replace the CDN links of a rendered map by the vendored files, inline.

    Parameters
    ----------
    html : str
        A rendered folium page.

    Returns
    -------
    str
        The page with every known library inline.

    Raises
    ------
    ValueError
        If the page still loads anything from the network afterwards (an unknown library).
    """
    by_url_js = {url: file for url, file in JS.values()}
    by_url_css = {url: file for url, file in CSS.values()}

    def js(m: re.Match) -> str:
        file = by_url_js.get(m.group(1))
        if file is None:
            return m.group(0)
        return f"<script>/* {file} (inline) */\n{_script_text(read_asset(file))}\n</script>"

    def css(m: re.Match) -> str:
        file = by_url_css.get(m.group(1))
        if file is None:
            return m.group(0)
        return f"<style>/* {file} (inline) */\n{read_asset(file)}\n</style>"

    out = _LINK.sub(css, _SCRIPT.sub(js, html))
    external = external_references(out)
    if external:
        raise ValueError("the offline map would still load from the network: "
                         + "; ".join(external[:5]))
    return out


def external_references(html: str) -> list[str]:
    """Return the network references of a page that a browser would load (not plain links)."""
    return [m.group(0)[:120] for m in _EXTERNAL.finditer(html)]
