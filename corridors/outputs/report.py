"""The scenario report: one HTML file that tells the story of the change, and opens offline.

It is rendered from the same tables the run writes
(:class:`corridors.analysis.results.RunResults`), with
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

from corridors.analysis.results import RunResults  # noqa: E402
from corridors.core.atomic import atomic_path  # noqa: E402

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
            "time_h_to_nearest_dry_port", "nearest_dry_port", "people_within_4h",
            "gate_joined_from_km", "times_reliable"]
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
    g = g[g["kind"] == "border_gate"]
    if "times_reliable" in g:
        # a gate joined to the roads by a long straight connector has no time to headline
        unsure = g[~g["times_reliable"].astype(bool)]
        g = g[g["times_reliable"].astype(bool)]
    else:
        unsure = g.iloc[:0]
    g = g.head(3)
    for _, r in g.iterrows():
        lines.append(f"{r['name']}: {r[f'time_h_to_ha_noi ({la})']:.2f} h → "
                     f"{r[f'time_h_to_ha_noi ({lb})']:.2f} h to Hà Nội "
                     f"(−{r['saving_h_to_ha_noi']:.2f} h, −{r['saving_pct_to_ha_noi']:.1f} %)")
    if len(unsure):
        far = ", ".join(f"{r['name']} {r['gate_joined_from_km']:.0f} km" for _, r in
                        unsure.sort_values("gate_joined_from_km", ascending=False).iterrows())
        lines.append(f"Left out of these headlines: {len(unsure)} gates joined to the roads of "
                     f"the data by a straight connector (times unreliable): {far}")
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
    from corridors.outputs.charts import trajectory_chart

    gains = _round(traj.gains.sort_values(["kind", "first_gain_year", "saving_h"],
                                          ascending=[False, True, False]))
    gains["first_gain_year"] = gains["first_gain_year"].astype("Int64")
    return {"chart": trajectory_chart(traj.gates), "years": traj.years,
            "threshold_h": traj.threshold_h,
            "gains": gains.to_html(index=False, na_rep="—", classes="t", border=0,
                                   float_format=lambda x: f"{x:,.2f}")}


def international_tables(results: RunResults) -> dict[str, pd.DataFrame]:
    """Return the report's international tables, rounded as shown (tests compare them).

    ``od``: one row per foreign origin, destination and mode of freight, with year A's and year
    B's time (h), cost (VND per TEU: handling, clearance, changes of gauge), gate, crossings and
    breaks of gauge; ``catchments``: for every city across the border, the gate it reaches Hà
    Nội through fastest in each year, and the margin over the next gate (h); ``projects``: what
    each project brings the international rail pairs (freight attribution, hours). Empty frames
    when the run has no foreign network.
    """
    la, lb = results.labels
    t = results.analyses.tables
    od = t.get("international_od", pd.DataFrame())
    catalog = results.builds[results.years[1]].catalog
    out = {"od": pd.DataFrame(), "catchments": pd.DataFrame(), "projects": pd.DataFrame()}
    if od.empty:
        return out

    def gate_names(ids) -> str:
        names = [catalog.places[g].name_vi if g in catalog.places else g
                 for g in str(ids if isinstance(ids, str) else "").split(";") if g]
        return ", ".join(names) or "—"

    keys = ["origin_name", "destination_name", "mode"]
    cols = {"time_h": "time_h", "cost_vnd_teu": "cost_vnd_teu", "gates": "gate",
            "crossings": "crossings", "gauge_breaks": "gauge_breaks", "rail_km": "rail_km"}
    frame = pd.DataFrame(od.drop(columns="geometry", errors="ignore")).copy()
    frame["gates"] = frame["gates"].map(gate_names)
    sides = []
    for label in (la, lb):
        part = frame[frame["scenario"].astype(str) == label].set_index(keys)[list(cols)]
        sides.append(part.rename(columns={c: f"{n} ({label})" for c, n in cols.items()}))
    table = sides[0].join(sides[1], how="outer")
    table = table.loc[list(dict.fromkeys(frame[keys].itertuples(index=False, name=None)))]
    table = table.reset_index()
    table.insert(3, "saving_h", table[f"time_h ({la})"] - table[f"time_h ({lb})"])
    order = [*keys, f"time_h ({la})", f"time_h ({lb})", "saving_h", f"gate ({la})",
             f"gate ({lb})", f"gauge_breaks ({la})", f"gauge_breaks ({lb})", f"crossings ({lb})",
             f"cost_vnd_teu ({la})", f"cost_vnd_teu ({lb})", f"rail_km ({la})",
             f"rail_km ({lb})"]
    table = table[order]
    for c in [c for c in order if c.startswith(("gauge_breaks", "crossings", "cost_vnd"))]:
        table[c] = pd.to_numeric(table[c]).astype("Int64")
    out["od"] = table.rename(columns={"origin_name": "from", "destination_name": "to"})

    catch = t.get("gate_catchments", pd.DataFrame())
    if not catch.empty:
        first = catch[catch["rank"] == 1]
        second = catch[catch["rank"] == 2].set_index(["scenario", "city"])["gate_name"]
        rows = []
        for city, g in first.groupby("city", sort=False):
            row = {"city": g["city_name"].iloc[0],
                   "local name": catalog.foreign[str(city)].attrs.get("name_local", "")
                   if city in catalog.foreign else ""}
            for label in (la, lb):
                r = g[g["scenario"].astype(str) == label]
                row[f"gate ({label})"] = r["gate_name"].iloc[0] if len(r) else None
                row[f"time_h to Hà Nội ({label})"] = r["time_h"].iloc[0] if len(r) else None
            rb = g[g["scenario"].astype(str) == lb]
            row[f"margin_h ({lb})"] = rb["margin_h"].iloc[0] if len(rb) else None
            row[f"next gate ({lb})"] = second.get((lb, city))
            rows.append(row)
        out["catchments"] = pd.DataFrame(rows)

    pa = t.get("project_attribution", pd.DataFrame())
    if not pa.empty and "removed_intl_hours" in pa:
        f = pa[(pa["profile"] == "freight") & ((pa["removed_intl_hours"] > 0)
                                                | (pa["added_intl_hours"] > 0))]
        out["projects"] = f.sort_values("removed_intl_hours", ascending=False)[
            ["project", "name", "mode", "open_year", "removed_intl_hours", "added_intl_hours"]]
    return {k: _round(v) for k, v in out.items()}


def _international(results: RunResults) -> dict | None:
    """Return the report's international section (tables as HTML, headlines), or None."""
    tab = international_tables(results)
    if tab["od"].empty:
        return None
    la, lb = results.labels
    od = tab["od"]
    lines = []
    for origin, dest in (("Côn Minh", "Cảng Hải Phòng (Đình Vũ)"), ("Nam Ninh", "Hà Nội")):
        for mode in ("rail", "road"):
            match = od[(od["from"] == origin) & (od["to"] == dest) & (od["mode"] == mode)]
            if match.empty or pd.isna(match[f"time_h ({lb})"].iloc[0]):
                continue
            r = match.iloc[0]
            lines.append(f"{origin} → {dest}, {mode} freight: {r[f'time_h ({la})']:.1f} h "
                         f"({la}) → {r[f'time_h ({lb})']:.1f} h ({lb}) through "
                         f"{r[f'gate ({lb})']}; breaks of gauge {r[f'gauge_breaks ({la})']} → "
                         f"{r[f'gauge_breaks ({lb})']}")

    def html(df: pd.DataFrame) -> str:
        return df.to_html(index=False, na_rep="—", classes="t", border=0,
                          float_format=lambda x: f"{x:,.2f}")

    return {"headlines": lines, "od": html(od), "catchments": html(tab["catchments"]),
            "projects": html(tab["projects"]) if len(tab["projects"]) else ""}


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
        loader=jinja2.FileSystemLoader(str(files("corridors.outputs") / "templates")),
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
        timings=results.timings_s, trajectory=_trajectory(results),
        international=_international(results))
    path = Path(path)
    with atomic_path(path, tmp_name=f".{path.name}.tmp") as tmp:
        tmp.write_text(html, encoding="utf-8")
    return path
