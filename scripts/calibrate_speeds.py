"""Refit the car operating speeds of data/speeds.yaml to published travel times.

Usage::

    python scripts/calibrate_speeds.py [--observations CSV] [--write]

Routes every timed row of the observations (default: the shipped data/facts/travel_times.csv)
on the network of its year, fits the parameters of :mod:`corridors.build.calibration` (operating
factors of ordinary roads by terrain, of expressways and of connectors; urban speeds; old-line
rail speed) by bounded weighted least squares, reroutes with the new speeds and refits until the
parameters settle. Prints the parameters before and after, each row's published, modelled and
leave-one-out time, and the share of rows inside their published range. ``--write`` writes the
car figures into data/speeds.yaml with the provenance "calibrated against ...".
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from corridors.network.speeds import default_speeds_path, load_speed_table

from corridors.analysis.check_times import (
    default_observations_path,
    model_observations,
    published_range,
    read_observations,
)
from corridors.build import calibration as cal
from corridors.core.atomic import atomic_path

MAX_ROUNDS = 6
#: Stop when no parameter moves by more than this share between rounds.
SETTLED = 0.005


def _system(obs: pd.DataFrame, table) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Route the timed rows with a speed table; return rows, coefficients and fixed hours."""
    rows, A, fixed = [], [], []
    for row, m in model_observations(obs, speed_table=table):
        if np.isnan(row["hours_min"]) or m.edges is None:
            continue
        a, f = cal.design_row(m.edges, table, m.factor)
        lo, hi = published_range(row["hours_min"], row["hours_max"])
        rows.append({**row, "lo": lo, "hi": hi, "model_h": m.hours,
                     "weight": cal.CONFIDENCE_WEIGHT.get(str(row["confidence"]), 0.4)})
        A.append(a)
        fixed.append(f)
    return pd.DataFrame(rows), np.array(A), np.array(fixed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--observations", type=Path, default=default_observations_path())
    parser.add_argument("--write", action="store_true", help="write data/speeds.yaml")
    args = parser.parse_args(argv)

    obs = read_observations(args.observations)
    table0 = load_speed_table()
    before, _, _ = _system(obs, table0)
    # start from the table's figures, brought inside the bounds
    current = cal.current_values(table0)
    values = {p.name: min(max(current[p.name], p.low), p.high) for p in cal.PARAMETERS}
    table = cal.with_values(table0, values)
    best = None  # (loss on the full model, values): routes change with speeds, so every round
    for k in range(MAX_ROUNDS + 1):  # is scored on its own routes and the best one is kept
        rows, A, fixed = _system(obs, table)
        low, high = rows["lo"].to_numpy(), rows["hi"].to_numpy()
        weight = rows["weight"].to_numpy() / ((low + high) / 2)
        score = cal.score(rows["model_h"].to_numpy(), low, high, weight)
        if best is None or score < best[0]:
            best = (score, values)
        if k == MAX_ROUNDS:
            break
        new = cal.fit(A, fixed, low, high, weight, keep=current)
        moved = max(abs(new[n] / values[n] - 1) for n in new)
        print(f"round {k + 1}: {-score[0]:.1f} confidence-weighted rows inside, loss "
              f"{score[1]:.4f}; largest parameter change {moved:.1%}",
              file=sys.stderr)
        values, table = new, cal.with_values(table0, new)
        if moved < SETTLED:
            break
    values = best[1]
    table = cal.with_values(table0, values)
    rows, A, fixed = _system(obs, table)
    low, high = rows["lo"].to_numpy(), rows["hi"].to_numpy()
    weight = rows["weight"].to_numpy() / ((low + high) / 2)
    loo = cal.leave_one_out(A, fixed, low, high, weight)
    inside = (rows["model_h"] >= rows["lo"]) & (rows["model_h"] <= rows["hi"])
    loo_in = (loo >= rows["lo"].to_numpy()) & (loo <= rows["hi"].to_numpy())
    was_in = (before["model_h"] >= before["lo"]) & (before["model_h"] <= before["hi"])

    old = cal.current_values(table0)
    print("parameter                      before    after   bounds")
    for p in cal.PARAMETERS:
        print(f"{p.name:28s} {old[p.name]:8.3f} {values[p.name]:8.3f}   {p.low:g}-{p.high:g}")
    print()
    print("line  from → to                          year profile   published     before  after"
          "   loo")
    for i, r in rows.reset_index(drop=True).iterrows():
        b = before["model_h"].iloc[i]
        pub = f"{r['hours_min']:g}–{r['hours_max']:g}"
        mark = "in " if inside.iloc[i] else "OUT"
        print(f"{r['line']:4d}  {(r['from'] + ' → ' + r['to'])[:34]:34s} {r['year']}"
              f" {str(r['profile'] or r['mode'])[:9]:9s} {pub:12s} {b:6.2f} {r['model_h']:6.2f}"
              f" {mark} {loo[i]:5.2f}")
    n = len(rows)
    print(f"\ntimed rows: {n}; inside the published range: before {int(was_in.sum())} "
          f"({was_in.mean():.0%}), after {int(inside.sum())} ({inside.mean():.0%}); "
          f"leave-one-out {int(loo_in.sum())} ({loo_in.mean():.0%})")
    if args.write:
        path = default_speeds_path()
        text = path.read_text(encoding="utf-8")
        stamp = dt.date.today().isoformat()
        for name, paths in cal.YAML_PATHS.items():
            note = (f"calibrated against {args.observations.name} ({n} timed rows; "
                    f"{inside.mean():.0%} inside their range, leave-one-out {loo_in.mean():.0%}) "
                    f"by scripts/calibrate_speeds.py on {stamp}; bounds "
                    f"{next(p for p in cal.PARAMETERS if p.name == name).why}")
            for yaml_path in paths:
                text = cal.patch_figure(text, yaml_path, values[name], note)
        with atomic_path(path, tmp_name=path.with_suffix(".tmp").name) as tmp:
            tmp.write_text(text, encoding="utf-8")
            load_speed_table(tmp)  # refuse to write a table that does not load
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
