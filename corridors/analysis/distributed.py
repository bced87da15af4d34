"""Batches of tasks on dask.distributed, or in this process, with the same results.

A batch is a function, one shared object (a scenario's model: the network and the parameters)
and the arguments of each task. On Dask the shared object is scattered to every worker once
(``client.scatter(..., broadcast=True)``), so tasks carry only their few arguments; results are
gathered in task order. The serial path runs the same function on the same arguments, so a
batch gives the same numbers, bit for bit, either way.

By default :func:`dask_client` starts a ``LocalCluster`` of one single-threaded worker process
per core; ``scheduler="tcp://host:8786"`` uses an existing cluster instead (its workers need
this package installed, at the same version).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = ["Batch", "dask_client", "run_batches"]


@dataclass(frozen=True)
class Batch:
    """Tasks ``fn(shared, *args)`` for each ``args`` of ``tasks``.

    Attributes
    ----------
    fn : callable
        A module-level function (workers import it by name).
    shared : object
        Sent once to each worker.
    tasks : sequence of tuple
        The arguments of each task, after ``shared``.
    """

    fn: Callable[..., Any]
    shared: Any
    tasks: Sequence[tuple]


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None,
                connect_timeout_s: float = 10.0) -> Iterator[Any]:
    """Yield a ``distributed.Client``: of an existing cluster, or of a new LocalCluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://10.0.0.5:8786``); default a LocalCluster.
    workers : int, optional
        Worker processes of the LocalCluster (default: one per core), one thread each:
        the routing releases no GIL worth sharing, so processes, not threads, run in parallel.
    connect_timeout_s : float
        Seconds to wait for an existing scheduler before an ``OSError``.
    """
    from distributed import Client, LocalCluster

    # distributed logs every start and stop at INFO: keep them for -vv only
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("distributed").setLevel(logging.WARNING)
    if scheduler:
        client = Client(scheduler, timeout=f"{connect_timeout_s}s")
        try:
            yield client
        finally:
            client.close()
        return
    n = workers or os.cpu_count() or 1
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        yield client


def run_batches(batches: Sequence[Batch], client: Any | None = None, *,
                progress: bool = False, desc: str = "tasks") -> list[list[Any]]:
    """Run every task of every batch; return the results batch by batch, in task order.

    Parameters
    ----------
    batches : sequence of Batch
    client : distributed.Client, optional
        Run on its cluster; default: serially in this process.
    progress : bool
        Show a progress bar (Dask's own on a cluster) when standard error is a terminal.
    desc : str
        The bar's label (serial path).
    """
    if client is None:
        from tqdm import tqdm

        total = sum(len(b.tasks) for b in batches)
        out = []
        with tqdm(total=total, desc=desc, unit="task",
                  disable=None if progress else True) as bar:
            for b in batches:
                results = []
                for args in b.tasks:
                    results.append(b.fn(b.shared, *args))
                    bar.update(1)
                out.append(results)
        return out
    futures, shared = [], []
    for b in batches:
        # once per worker, not per task; a fresh key (hash=False), as a batch scattered again
        # under the same key could be forgotten by the scheduler while being sent anew
        shared.append(client.scatter(b.shared, broadcast=True, hash=False))
        futures.append([client.submit(b.fn, shared[-1], *args, pure=False)
                        for args in b.tasks])
    flat = [f for fs in futures for f in fs]
    if progress and sys.stdout.isatty():
        from distributed import progress as dask_progress

        dask_progress(flat)
    results = [client.gather(fs) for fs in futures]
    client.cancel(shared)  # the models are no longer needed on the workers
    return results
