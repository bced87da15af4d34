"""Samples per second of ``corridors uncertainty`` on a local Dask cluster of 1 and 2 workers.

Builds the embedded default's model once, then for each worker count starts a LocalCluster,
scatters the model (not timed: it happens once per run), and times the samples (and, with
``--attribution``, as many attribution tasks). Prints one line per worker count and, last,
``samples_per_s_1=<x> samples_per_s_2=<y> speedup_2=<y/x>`` against the 1-worker baseline of
the same run.

    python scripts/benchmark_uncertainty.py --samples 200 [--workers 1 2] [--attribution]
"""

from __future__ import annotations

import argparse
import time

from corridors.analysis.distributed import Batch, dask_client, run_batches
from corridors.analysis.trajectories import year_range
from corridors.analysis.uncertainty import attribution_sample, build_model, run_sample
from corridors.analysis.variants import VariantEngine
from corridors.build.pipeline import build_networks
from corridors.catalog.uncertainty_params import load_uncertainty


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=200, help="samples per measurement")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                    help="worker counts to measure (the first is the baseline)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--years", type=int, nargs=2, default=(2025, 2030))
    ap.add_argument("--attribution", action="store_true",
                    help="also run one attribution task per sample")
    args = ap.parse_args()
    if args.samples < 1:
        ap.error("--samples must be at least 1")

    t0 = time.perf_counter()
    every = year_range(args.years)
    b = build_networks([every[-1]])[every[-1]]
    engine = VariantEngine.from_master(b.master, b.catalog)
    model = build_model(engine, b.master, b.catalog, load_uncertainty(), every)
    print(f"model: {len(engine.u)} routable edges, {len(every)} years, "
          f"{time.perf_counter() - t0:.1f} s")
    tasks = [(args.seed, i) for i in range(args.samples)]
    batches = [Batch(run_sample, model, tasks)]
    if args.attribution:
        batches.append(Batch(attribution_sample, model, tasks))

    rates: dict[int, float] = {}
    for n in args.workers:
        with dask_client(workers=n) as client:
            run_batches([Batch(run_sample, model, [(args.seed, i) for i in range(2 * n)])],
                        client)  # warm-up: workers import the package
            t = time.perf_counter()
            run_batches(batches, client)
            elapsed = time.perf_counter() - t
        rates[n] = args.samples / elapsed
        base = rates[args.workers[0]]
        print(f"workers={n}: {args.samples} samples in {elapsed:.2f} s = {rates[n]:.1f} "
              f"samples/s ({rates[n] / base:.2f}x the {args.workers[0]}-worker baseline)")
    base = rates[args.workers[0]]
    print(" ".join([f"samples_per_s_{n}={r:.1f}" for n, r in rates.items()]
                   + [f"speedup_{n}={r / base:.2f}" for n, r in rates.items()
                      if n != args.workers[0]]))


if __name__ == "__main__":
    main()
