"""Static charts of trajectories and simulations, as PNG data URIs for the HTML reports.

One panel per gate (or corridor) on a shared year axis: a line of the plan (every project in
its year, speeds as data/speeds.yaml gives them) and, for simulations, the P10-P90 band and the
P50 line of the samples. Panels keep their own time axis, as the gates lie 2 to 20 h from Hà Nội.
"""

from __future__ import annotations

import base64
import io
import math

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

__all__ = ["fan_chart", "gain_probability_chart", "png_uri", "trajectory_chart"]

_COLS = 5


def png_uri(fig) -> str:
    """Return a figure as a ``data:image/png`` URI (and close it)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _grid(n: int, title: str):
    rows = max(1, math.ceil(n / _COLS))
    fig, axes = plt.subplots(rows, _COLS, figsize=(2.6 * _COLS, 2.1 * rows + 0.6),
                             sharex=True, squeeze=False)
    fig.suptitle(title, fontsize=11)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, axes.ravel()


def _short(name: str, limit: int = 28) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _empty(text: str) -> str:
    fig, ax = plt.subplots(figsize=(6, 1))
    ax.text(0.5, 0.5, text, ha="center", va="center")
    ax.set_axis_off()
    return png_uri(fig)


def trajectory_chart(gates: pd.DataFrame, value: str = "time_h_to_ha_noi",
                     kind: str = "border_gate", label: str = "time to Hà Nội by car (h)"
                     ) -> str:
    """Return the chart of each gate's time by year (one panel per gate whose time changes).

    Parameters
    ----------
    gates : pandas.DataFrame
        ``trajectory_gates``: ``id``, ``name``, ``kind``, ``year`` and ``value`` (hours).
    value : str
        The column drawn.
    kind : str
        Which items (``border_gate`` or ``bgez``).
    label : str
        The y-axis label.
    """
    g = gates[gates["kind"] == kind]
    wide = g.pivot_table(index="year", columns="id", values=value, aggfunc="first")
    changes = [c for c in wide if wide[c].nunique(dropna=True) > 1]
    if not changes:
        return _empty("no gate's time changes over these years")
    names = g.drop_duplicates("id").set_index("id")["name"]
    order = sorted(changes, key=lambda c: -(wide[c].iloc[0] - wide[c].iloc[-1]))
    fig, axes = _grid(len(order), f"{label}, by year ({len(order)} gates whose time changes)")
    for ax, c in zip(axes, order, strict=False):
        ax.step(wide.index, wide[c], where="post", color="#2563eb", lw=2)
        ax.plot(wide.index, wide[c], "o", color="#2563eb", ms=3)
        ax.set_title(_short(names.get(c, c)), fontsize=9)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
        ax.set_xticks(list(wide.index))
        ax.set_xticklabels([str(y)[2:] if len(wide.index) > 6 else str(y) for y in wide.index])
    axes[0].set_ylabel("h", fontsize=8)
    fig.tight_layout()
    return png_uri(fig)


def fan_chart(quantiles: pd.DataFrame, title: str, ids: list[str] | None = None) -> str:
    """Return a fan chart per item: P10-P90 band, P50 and the plan, by year (hours).

    Parameters
    ----------
    quantiles : pandas.DataFrame
        ``id``, ``name``, ``year``, ``time_h_central``, ``time_h_p10``, ``time_h_p50``,
        ``time_h_p90``.
    title : str
    ids : list of str, optional
        Items to draw, in order (default: all).
    """
    ids = ids if ids is not None else list(dict.fromkeys(quantiles["id"]))
    if not ids:
        return _empty("nothing to draw")
    fig, axes = _grid(len(ids), title)
    for ax, i in zip(axes, ids, strict=False):
        q = quantiles[quantiles["id"] == i].sort_values("year")
        ax.fill_between(q["year"], q["time_h_p10"], q["time_h_p90"], color="#93c5fd",
                        alpha=0.6, lw=0, label="P10–P90")
        ax.plot(q["year"], q["time_h_p50"], color="#1d4ed8", lw=2, label="P50")
        ax.plot(q["year"], q["time_h_central"], color="#111827", lw=1, ls="--",
                label="plan")
        ax.set_title(_short(str(q["name"].iloc[0])), fontsize=9)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
        years = list(q["year"])
        ax.set_xticks(years)
        ax.set_xticklabels([str(y)[2:] for y in years])
    axes[0].legend(fontsize=7, loc="best")
    axes[0].set_ylabel("h", fontsize=8)
    fig.tight_layout()
    return png_uri(fig)


def gain_probability_chart(gains: pd.DataFrame, column: str) -> str:
    """Return a bar chart of each gate's probability that its gain arrives (``column``)."""
    g = gains[(gains["kind"] == "border_gate") & (gains["planned_saving_h"] > 0)]
    g = g.sort_values(column)
    if g.empty:
        return _empty("no gate gains in the plan")
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(g) + 1.2))
    ax.barh(range(len(g)), g[column], color="#059669")
    ax.set_yticks(range(len(g)), [_short(n, 32) for n in g["name"]])
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"probability that the gain arrives ({column.replace('_', ' ')})")
    ax.grid(axis="x", alpha=0.3)
    return png_uri(fig)
