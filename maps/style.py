"""How the maps draw things: colours, line styles, icons and labels, shared by every map.

One place for the look keeps the interactive maps, their legends and the static PNG maps
consistent: a national road is the same orange everywhere and a planned project the same dash.
"""

from __future__ import annotations

from html import escape
from typing import Any

#: Network layers: (mode, classes, label, shown at start, colour, weight px, dash).
NETWORK_LAYERS: tuple[tuple[str, tuple[str, ...], str, bool, str, float, str | None], ...] = (
    ("road", ("expressway",), "Expressways", True, "#b2182b", 4.0, None),
    ("road", ("national",), "National roads", True, "#ef8a62", 2.5, None),
    ("road", ("provincial",), "Provincial roads", True, "#d9a441", 1.5, None),
    ("road", ("district", "local", "link", "connector"), "Other roads and connectors", False,
     "#9e9e9e", 1.0, None),
    ("rail", ("metre",), "Railways, metre gauge", True, "#404040", 2.0, "6 3"),
    ("rail", ("dual",), "Railways, dual gauge", True, "#000000", 2.5, "10 3"),
    ("rail", ("standard",), "Railways, standard gauge", True, "#7b3294", 3.0, "12 4"),
    ("water", ("river",), "Inland waterways", True, "#2171b5", 3.0, None),
    ("air", ("air",), "Air routes", True, "#6a51a3", 1.5, "2 6"),
)

#: The network beyond the border (network.crossings): label, then by mode (colour, weight, dash);
#: drawn in one layer of its own, in muted colours, so that Vietnam's layers keep their meaning.
FOREIGN_LAYER = "Across the border"
FOREIGN_STYLE: dict[str, tuple[str, float, str | None]] = {
    "road": ("#a6761d", 2.0, None), "rail": ("#7f7f7f", 2.0, "8 4")}

#: Project colours by mode.
MODE_COLOURS: dict[str, str] = {
    "road": "#e31a1c", "rail": "#6a3d9a", "waterway": "#1f78b4", "air": "#ff7f00",
    "dry_port": "#8c510a",
}
MODE_LABELS: dict[str, str] = {
    "road": "roads", "rail": "railways", "waterway": "waterways", "air": "air",
    "dry_port": "dry ports",
}
#: Line dash by the status of a project in 2025 (None: solid).
STATUS_DASH: dict[str, str | None] = {
    "open": None, "under_construction": "12 6", "planned": "6 6", "study": "2 6",
    "unknown": "14 4 2 4",
}
STATUS_LABELS: dict[str, str] = {
    "open": "open", "under_construction": "under construction", "planned": "planned",
    "study": "under study", "unknown": "status not published",
}

#: Place icons: kind -> (label, shape, fill colour, letter).
PLACE_KINDS: dict[str, tuple[str, str, str, str]] = {
    "border_gate": ("Border gates", "diamond", "#b2182b", "G"),
    "bgez": ("Border-gate economic zones (BGEZ)", "square", "#762a83", "Z"),
    "dry_port": ("Dry ports (ICD)", "square", "#8c510a", "D"),
    "seaport": ("Seaports", "circle", "#08306b", "S"),
    "river_port": ("River ports", "circle", "#4292c6", "R"),
    "airport": ("Airports", "triangle", "#ff7f00", "A"),
    "city": ("Provincial capitals", "dot", "#252525", ""),
}

#: Corridor kinds as people say them.
CORRIDOR_KINDS: dict[str, str] = {
    "economic_corridor": "economic corridor", "connection_chain": "connection chain",
    "development_axis": "development axis", "provincial_corridor": "provincial corridor",
}

#: Destinations of the access tables and savings, as people say them.
DESTINATIONS: dict[str, str] = {
    "ha_noi": "Hà Nội", "hai_phong_seaport": "Hải Phòng seaport (Đình Vũ)",
    "noi_bai_airport": "Nội Bài airport", "nearest_dry_port": "nearest dry port",
    "expressway": "nearest expressway entrance", "capital": "provincial capital",
}

#: Saving classes (h) and their colours, low to high (the change layers and change.png).
SAVING_BINS_H: tuple[float, ...] = (0.0, 0.05, 0.25, 0.5, 1.0, 2.0)
SAVING_COLOURS: tuple[str, ...] = ("#d9d9d9", "#c6dbef", "#6baed6", "#2171b5", "#08519c",
                                   "#08306b")
#: Isochrone cutoffs (h) and fills.
ISO_COLOURS: dict[int, str] = {1: "#1a9850", 2: "#91cf60", 4: "#fee08b", 8: "#fc8d59"}
#: Province outlines.
PROVINCE_STYLE: dict[str, Any] = {"color": "#636363", "weight": 1.2, "fillColor": "#f5f5f0",
                                  "fillOpacity": 0.5}
PROVINCE_OLD_STYLE: dict[str, Any] = {"color": "#636363", "weight": 1.0, "dashArray": "4 4",
                                      "fillColor": "#f0f0f0", "fillOpacity": 0.25}
BORDER_STYLE: dict[str, Any] = {"color": "#3f007d", "weight": 2.5, "dashArray": "8 4 2 4"}
#: Background of a map without tiles (offline).
PLAIN_BACKGROUND = "#dfe8ee"

#: Corridor colours (cycled).
CORRIDOR_COLOURS: tuple[str, ...] = (
    "#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf", "#17becf",
    "#bcbd22", "#7f7f7f", "#1b9e77", "#d95f02",
)


def saving_colour(hours: float) -> str:
    """Return the colour of a travel-time saving in hours (see :data:`SAVING_BINS_H`)."""
    if hours is None or hours != hours or hours <= SAVING_BINS_H[1]:
        return SAVING_COLOURS[0]
    colour = SAVING_COLOURS[1]
    for lower, c in zip(SAVING_BINS_H[1:], SAVING_COLOURS[1:], strict=True):
        if hours > lower:
            colour = c
    return colour


def saving_bins_labels() -> list[tuple[str, str]]:
    """Return (colour, label) pairs of the saving classes, for legends."""
    bins = SAVING_BINS_H
    out = [(SAVING_COLOURS[0], f"≤ {bins[1]:g} h (none or negligible)")]
    for i in range(1, len(bins)):
        upper = f"{bins[i + 1]:g}" if i + 1 < len(bins) else None
        label = f"{bins[i]:g} – {upper} h" if upper else f"> {bins[i]:g} h"
        out.append((SAVING_COLOURS[i], label))
    return out


def icon_svg(shape: str, fill: str, letter: str = "", size: int = 20,
             stroke: str = "#ffffff") -> str:
    """Return an inline SVG icon: a circle, square, diamond, triangle or dot with a letter."""
    s = size
    h = s / 2
    shapes = {
        "circle": f'<circle cx="{h}" cy="{h}" r="{h - 1.5}"/>',
        "square": f'<rect x="2" y="2" width="{s - 4}" height="{s - 4}" rx="2"/>',
        "diamond": f'<polygon points="{h},1 {s - 1},{h} {h},{s - 1} 1,{h}"/>',
        "triangle": f'<polygon points="{h},1 {s - 1},{s - 2} 1,{s - 2}"/>',
        "dot": f'<circle cx="{h}" cy="{h}" r="{s / 4}"/>',
    }
    text = (f'<text x="{h}" y="{h + 0.5}" text-anchor="middle" dominant-baseline="middle" '
            f'font-family="Arial,Helvetica,sans-serif" font-size="{s * 0.55:.0f}" '
            f'font-weight="bold" fill="#fff" stroke="none">{escape(letter)}</text>'
            if letter else "")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{s}" height="{s}" '
            f'viewBox="0 0 {s} {s}"><g fill="{fill}" stroke="{stroke}" stroke-width="1.5">'
            f'{shapes[shape]}</g>{text}</svg>')


def line_svg(colour: str, weight: float, dash: str | None = None, width: int = 34,
             opacity: float = 1.0) -> str:
    """Return an inline SVG sample of a line style, for legends."""
    d = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="12">'
            f'<line x1="1" y1="6" x2="{width - 1}" y2="6" stroke="{colour}" '
            f'stroke-width="{max(weight, 1)}" stroke-opacity="{opacity}"{d}/></svg>')


def box_svg(fill: str, stroke: str = "#555", opacity: float = 1.0) -> str:
    """Return an inline SVG swatch of a fill colour, for legends."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="18" height="12">'
            f'<rect x="1" y="1" width="16" height="10" fill="{fill}" fill-opacity="{opacity}" '
            f'stroke="{stroke}" stroke-width="1"/></svg>')


def fmt(value, digits: int = 2, unit: str = "") -> str:
    """Format a number for a popup ("–" for missing, no trailing zeros beyond ``digits``)."""
    if value is None:
        return "–"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return escape(str(value))
    if v != v:
        return "–"
    if v in (float("inf"), float("-inf")):
        return "unreachable"
    text = f"{v:,.{digits}f}"
    return f"{text} {unit}".strip()
