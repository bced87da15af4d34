"""The scenario report: one HTML file that tells the story of the change, and opens offline.

It is rendered from the same tables the run writes (:class:`corridors.results.RunResults`), with
the same rounding, so every number in the report equals the one in the tables. Charts are
matplotlib PNGs embedded as data URIs; maps are linked by relative paths.
"""

from __future__ import annotations

import base64
import io
from importlib.resources import files
from pathlib import Path

import jinja2
import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from corridors.results import RunResults  # noqa: E402

#: Decimals used in the report and in :func:`report_tables` (hours, km, percent).
ROUND = {"h": 2, "km": 1, "pct": 1}


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def report_tables(results: RunResults, profile: str = "car") -> dict[str, pd.DataFrame]:
    """Return the tables the report shows, rounded as shown (tests compare them)."""
    la, lb = results.labels
    t = results.analyses.tables
    access = t["gate_access"]
    if access.empty or "time_h_to_ha_noi" not in access:
        # a network without gates or without Hà Nội (an OSM extract elsewhere)
        gates = pd.DataFrame(columns=["id", "name", "kind", "province",
                                      f"time_h_to_ha_noi ({la})", f"time_h_to_ha_noi ({lb})",
                                      "saving_h_to_ha_noi", "saving_pct_to_ha_noi"])
    else:
        gates = _gate_table(access[access["profile"] == profile], la, lb)
    corridors = _select(t["savings_corridors"], profile).sort_values("saving_h",
                                                                       ascending=False)
    projects = _select(t["project_attribution"], profile,
                       ["rank", "project", "name", "mode", "open_year", "removed_od_hours",
                        "added_od_hours", "removed_corridor_hours", "removed_people_minutes"])
    critical = _select(t["critical_links_summary"], None,
                       ["scenario", "rank", "road_ref", "road_name", "road_class", "length_km",
                        "gates_disconnected", "gates_affected", "max_delay_h"]).head(30)
    provinces = _select(t["savings_provinces"], None)
    provinces = provinces[provinces["destination"] == "ha_noi"].sort_values(
        ["edition", "saving_h"], ascending=[True, False])
    b_build = results.builds[results.years[1]]
    not_modelled = pd.DataFrame([{"id": n.id, "name": n.name, "reason": n.reason}
                                 for n in b_build.not_modelled])
    out = {"gates": gates, "corridors": corridors, "projects": projects, "critical": critical,
           "provinces": provinces, "not_modelled": not_modelled}
    return {k: _round(v) for k, v in out.items()}


#: Columns every shown table has, even when a network yields no rows (an extract elsewhere).
_COLUMNS = {"saving_h": float, "destination": str, "edition": str, "profile": str}


def _select(table: pd.DataFrame, profile: str | None, columns: list[str] | None = None
            ) -> pd.DataFrame:
    """Rows of one profile (when the table has profiles), the given columns; empty-safe."""
    out = table.copy()
    for col in _COLUMNS:
        if col not in out:
            out[col] = pd.Series(dtype=_COLUMNS[col])
    if profile is not None and len(out):
        out = out[out["profile"] == profile]
    return out.reindex(columns=columns) if columns else out


def _gate_table(access: pd.DataFrame, la: str, lb: str) -> pd.DataFrame:
    a = access[access["scenario"] == la].set_index("id")
    b = access[access["scenario"] == lb].set_index("id")
    cols = ["time_h_to_ha_noi", "length_km_to_ha_noi", "time_h_to_hai_phong_seaport",
            "time_h_to_nearest_dry_port", "nearest_dry_port", "people_within_4h"]
    before = [c for c in ("time_h_to_ha_noi", "time_h_to_hai_phong_seaport") if c in a]
    gates = b[["name", "kind", "province"]].join(a[before].add_suffix(f" ({la})")).join(
        b[[c for c in cols if c in b]].rename(columns={
            "time_h_to_ha_noi": f"time_h_to_ha_noi ({lb})",
            "time_h_to_hai_phong_seaport": f"time_h_to_hai_phong_seaport ({lb})"}))
    gates["saving_h_to_ha_noi"] = gates[f"time_h_to_ha_noi ({la})"] - gates[
        f"time_h_to_ha_noi ({lb})"]
    with np.errstate(invalid="ignore", divide="ignore"):
        gates["saving_pct_to_ha_noi"] = 100 * gates["saving_h_to_ha_noi"] / gates[
            f"time_h_to_ha_noi ({la})"]
    return gates.reset_index().sort_values("saving_h_to_ha_noi", ascending=False)


def _round(df: pd.DataFrame) -> pd.DataFrame:
    df = pd.DataFrame(df.drop(columns="geometry", errors="ignore")).copy()
    for c in df.columns:
        if not pd.api.types.is_float_dtype(df[c]):
            continue
        digits = ROUND["pct"] if "pct" in c else ROUND["km"] if "km" in c else ROUND["h"]
        df[c] = df[c].round(digits)
    return df


def _chart_gates(gates: pd.DataFrame, la: str, lb: str) -> str:
    g = gates[gates["kind"] == "border_gate"].sort_values(f"time_h_to_ha_noi ({lb})")
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(g) + 1.2))
    if g.empty:
        ax.text(0.5, 0.5, "no border gate in this network", ha="center", va="center")
        ax.set_axis_off()
        return _png(fig)
    y = np.arange(len(g))
    ax.barh(y + 0.2, g[f"time_h_to_ha_noi ({la})"], height=0.4, label=la, color="#9ca3af")
    ax.barh(y - 0.2, g[f"time_h_to_ha_noi ({lb})"], height=0.4, label=lb, color="#2563eb")
    ax.set_yticks(y, g["name"])
    ax.invert_yaxis()
    ax.set_xlabel("time to Hà Nội by car (h)")
    ax.legend(loc="upper right")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def _chart_corridors(corridors: pd.DataFrame, la: str, lb: str) -> str:
    c = corridors.sort_values(f"time_h_{lb}")
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(c) + 1.2))
    y = np.arange(len(c))
    ax.barh(y + 0.2, c[f"time_h_{la}"], height=0.4, label=la, color="#9ca3af")
    ax.barh(y - 0.2, c[f"time_h_{lb}"], height=0.4, label=lb, color="#059669")
    ax.set_yticks(y, [n if len(n) < 45 else n[:44] + "…" for n in c["name"]])
    ax.invert_yaxis()
    ax.set_xlabel("end-to-end time by car (h)")
    ax.legend(loc="upper right")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def _headlines(tab: dict[str, pd.DataFrame], results: RunResults, la: str, lb: str) -> list:
    lines = []
    g = tab["gates"].dropna(subset=["saving_h_to_ha_noi"])
    g = g[g["kind"] == "border_gate"].head(3)
    for _, r in g.iterrows():
        lines.append(f"{r['name']}: {r[f'time_h_to_ha_noi ({la})']:.2f} h → "
                     f"{r[f'time_h_to_ha_noi ({lb})']:.2f} h to Hà Nội "
                     f"(−{r['saving_h_to_ha_noi']:.2f} h, −{r['saving_pct_to_ha_noi']:.1f} %)")
    # a corridor outside an OSM extract has no time: no headline
    for _, r in tab["corridors"].dropna(subset=["saving_pct"]).head(2).iterrows():
        lines.append(f"Corridor {r['name']}: −{r['saving_h']:.2f} h (−{r['saving_pct']:.1f} %)")
    if len(tab["projects"]):
        p = tab["projects"].iloc[0]
        lines.append(f"Largest single gain for gates: {p['project']} ({p['name']}), "
                     f"{p['removed_od_hours']:.2f} gate-hours lost if it were not built")
    totals = results.analyses.tables["project_attribution"].attrs.get("totals", {})
    if "car" in totals and totals["car"]:
        t = totals["car"]
        lines.append(f"All projects together: {t['od_hours']:.1f} gate-hours saved, population-"
                     f"weighted time to Hà Nội −{t['people_minutes']:.1f} min")
    return lines


def _trajectory(results: RunResults) -> dict | None:
    """Return the chart and gains table of a run's year-by-year trajectories, if computed."""
    traj = results.trajectories
    if traj is None:
        return None
    from corridors.charts import trajectory_chart

    gains = _round(traj.gains.sort_values(["kind", "first_gain_year", "saving_h"],
                                          ascending=[False, True, False]))
    gains["first_gain_year"] = gains["first_gain_year"].astype("Int64")
    return {"chart": trajectory_chart(traj.gates), "years": traj.years,
            "threshold_h": traj.threshold_h,
            "gains": gains.to_html(index=False, na_rep="—", classes="t", border=0,
                                   float_format=lambda x: f"{x:,.2f}")}


def write_report(results: RunResults, path: str | Path, maps: dict[str, str] | None = None,
                 outputs: dict[str, str] | None = None) -> Path:
    """Write the report as one HTML file.

    Parameters
    ----------
    results : RunResults
    path : path
        The HTML file to write (replaced atomically).
    maps : dict, optional
        Map title to a path relative to the report (linked).
    outputs : dict, optional
        Output name to a path relative to the report (listed).
    """
    la, lb = results.labels
    tab = report_tables(results)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(files("corridors") / "templates")),
        autoescape=jinja2.select_autoescape(["html"]))
    quality = results.builds[results.years[1]].report
    html = env.get_template("report.html").render(
        title=f"Northern Midlands and Mountains — {la} → {lb}", la=la, lb=lb,
        scenario=results.scenario, prov=results.provenance, headlines=_headlines(tab, results,
                                                                                 la, lb),
        tables={k: v.to_html(index=False, na_rep="—", classes="t", border=0,
                             float_format=lambda x: f"{x:,.2f}") for k, v in tab.items()},
        chart_gates=_chart_gates(tab["gates"], la, lb),
        chart_corridors=_chart_corridors(tab["corridors"], la, lb),
        maps=maps or {}, outputs=outputs or {}, quality=quality,
        timings=results.timings_s, trajectory=_trajectory(results))
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
