"""Compare two scenario-years: savings per OD pair, gate, corridor and province.

A saving is ``time in A − time in B`` (hours; positive when B is faster) and in percent of A.
Provinces are compared in both editions (the 21 provinces before July 2025 and the merged ones):
the population-weighted mean time of their people to Hà Nội and to the Hải Phòng seaport.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from corridors.analysis.access import KEY_DESTINATIONS
from corridors.analysis.population import PopulationGrid, pixel_times, weighted_time_by_province
from corridors.build.analysis_network import AnalysisNetwork


def _distinct(labels: tuple[str, str]) -> tuple[str, str]:
    la, lb = labels
    return (f"{la}_a", f"{lb}_b") if la == lb else (la, lb)


def with_savings(a: pd.DataFrame, b: pd.DataFrame, keys: list[str], value: str = "time_h",
                 labels: tuple[str, str] = ("a", "b")) -> pd.DataFrame:
    """Join two tables on ``keys`` and add ``saving_h`` and ``saving_pct``.

    The value columns become ``<value>_<label>`` (for example ``time_h_2025``); a year compared
    with itself gets ``_a`` and ``_b`` after its label.
    """
    la, lb = _distinct(labels)
    merged = a[[*keys, value]].merge(b[[*keys, value]], on=keys, suffixes=(f"_{la}", f"_{lb}"))
    va = merged[f"{value}_{la}"].astype(float)
    vb = merged[f"{value}_{lb}"].astype(float)
    merged["saving_h"] = va - vb
    with np.errstate(invalid="ignore", divide="ignore"):
        merged["saving_pct"] = 100 * merged["saving_h"] / va
    # a pair that B connects and A does not: an infinite saving, not NaN
    merged.loc[~np.isfinite(va) & np.isfinite(vb), ["saving_h", "saving_pct"]] = np.inf
    merged.loc[~np.isfinite(vb), ["saving_h", "saving_pct"]] = np.nan
    return merged


def od_long(access: pd.DataFrame) -> pd.DataFrame:
    """Return a gate access table as one row per (gate, destination) with time and length."""
    rows = []
    for dest in KEY_DESTINATIONS:
        if f"time_h_to_{dest}" in access:
            rows.append(pd.DataFrame({"id": access["id"], "kind": access["kind"],
                                      "destination": dest,
                                      "time_h": access[f"time_h_to_{dest}"],
                                      "length_km": access[f"length_km_to_{dest}"]}))
    if "time_h_to_nearest_dry_port" in access:
        rows.append(pd.DataFrame({"id": access["id"], "kind": access["kind"],
                                  "destination": "nearest_dry_port",
                                  "time_h": access["time_h_to_nearest_dry_port"],
                                  "length_km": access["length_km_to_nearest_dry_port"]}))
    return pd.concat(rows, ignore_index=True)


def compare_od(access_a: pd.DataFrame, access_b: pd.DataFrame, labels: tuple[str, str]
               ) -> pd.DataFrame:
    """Return the savings per (gate or BGEZ, destination) between two access tables."""
    return with_savings(od_long(access_a), od_long(access_b), ["id", "kind", "destination"],
                        labels=labels)


def compare_gates(access_a: pd.DataFrame, access_b: pd.DataFrame, labels: tuple[str, str]
                  ) -> pd.DataFrame:
    """Return, per gate and BGEZ, the saving to Hà Nội and to the seaport (one row each)."""
    od = compare_od(access_a, access_b, labels)
    wide = od.pivot_table(index=["id", "kind"], columns="destination",
                          values=["saving_h", "saving_pct"], aggfunc="first")
    # (value, destination) pairs: pandas-stubs types the columns of a pivot table as str
    wide.columns = [f"{v}_{d}" for v, d in wide.columns]  # type: ignore[str-unpack]
    names = access_b.set_index("id")[["name", "province", "province_2025"]]
    return names.join(wide.reset_index().set_index("id"), how="right").reset_index()


def compare_corridors(kpi_a: pd.DataFrame, kpi_b: pd.DataFrame, labels: tuple[str, str]
                      ) -> pd.DataFrame:
    """Return the corridor time savings (h and %) and the change of expressway share."""
    out = with_savings(kpi_a, kpi_b, ["id", "name"], labels=labels)
    la, lb = _distinct(labels)
    share = kpi_a[["id", "expressway_share"]].merge(kpi_b[["id", "expressway_share"]], on="id",
                                                    suffixes=(f"_{la}", f"_{lb}"))
    return out.merge(share, on="id")


def province_times(net: AnalysisNetwork, grid: PopulationGrid, profile: str = "car"
                   ) -> pd.DataFrame:
    """Return the population-weighted time to Hà Nội and to the seaport per province.

    Columns: ``edition`` (2024, 2025), ``province``, ``destination``, ``people``, ``time_h``,
    ``people_unreached``.
    """
    router = net.router(profile)
    frames = []
    for dest in ("ha_noi", "hai_phong_seaport"):
        node = net.node_of(KEY_DESTINATIONS[dest])
        if node is None:
            continue
        to_dest, _ = router.nearest([node])
        t = weighted_time_by_province(grid, pixel_times(grid, router, to_dest))
        frames.append(t.assign(destination=dest))
    if not frames:
        return pd.DataFrame(columns=["edition", "province", "people", "time_h",
                                     "people_unreached", "destination"])
    return pd.concat(frames, ignore_index=True)


def compare_provinces(times_a: pd.DataFrame, times_b: pd.DataFrame, labels: tuple[str, str]
                      ) -> pd.DataFrame:
    """Return province savings (both editions) from two :func:`province_times` tables."""
    out = with_savings(times_a, times_b, ["edition", "province", "destination"], labels=labels)
    return out.merge(times_b[["edition", "province", "destination", "people"]],
                     on=["edition", "province", "destination"])
