"""Samples on a real Dask LocalCluster (2 processes) equal the serial path, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from corridors.analysis.distributed import Batch, dask_client, run_batches
from corridors.analysis.uncertainty import attribution_sample, run_sample
from corridors.catalog.scenario import BASE
from corridors.jobs.uncertainty_run import simulate_all

#: Every test here starts a LocalCluster of two worker processes.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model(uncertainty_model):
    return uncertainty_model


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as c:
        yield c


def test_local_cluster_has_two_worker_processes(client):
    workers = client.scheduler_info()["workers"]
    assert len(workers) == 2
    pids = client.run(lambda: __import__("os").getpid())
    assert len(set(pids.values())) == 2 and __import__("os").getpid() not in pids.values()


def test_samples_on_dask_equal_the_serial_path(model, client):
    batches = [Batch(run_sample, model, [(11, i) for i in range(12)]),
               Batch(attribution_sample, model, [(11, i) for i in range(2)])]
    serial = run_batches(batches)
    dask = run_batches(batches, client)
    assert [s.index for s in dask[0]] == list(range(12))  # gathered in task order
    for s, d in zip(serial[0], dask[0], strict=True):
        assert np.array_equal(s.od, d.od, equal_nan=True)
        assert np.array_equal(s.corridors, d.corridors, equal_nan=True)
        assert np.array_equal(s.open_year, d.open_year, equal_nan=True)
    for s, d in zip(serial[1], dask[1], strict=True):
        assert np.array_equal(s.od_hours, d.od_hours)
        assert np.array_equal(s.corridor_hours, d.corridor_hours)


def test_the_model_is_scattered_once_not_shipped_with_each_task(model, client):
    # each task sees the model as data its worker already holds, under the scattered key
    def held(m, i):
        worker = __import__("distributed").get_worker()
        keys = [k for k in worker.data if str(k).startswith("Model-")]
        return len(keys), m is worker.data[keys[0]], len(m.engine.origin_ids)

    got = run_batches([Batch(held, model, [(i,) for i in range(6)])], client)[0]
    assert got == [(1, True, 30)] * 6
    # and it is released afterwards (the workers forget it asynchronously)
    for _ in range(100):
        left = client.run(lambda dask_worker: [k for k in dask_worker.data
                                               if str(k).startswith("Model-")])
        if all(not keys for keys in left.values()):
            break
        __import__("time").sleep(0.1)
    assert all(not keys for keys in left.values())


def test_simulate_all_tables_equal_serial_and_dask(client):
    serial = simulate_all([BASE], 8, seed=5, attribution_samples=2)
    dask = simulate_all([BASE], 8, seed=5, attribution_samples=2, client=client)
    for name in serial[0].tables:
        a, b = serial[0].tables[name], dask[0].tables[name]
        assert a.equals(b), name
    assert dask[0].run["engine"].startswith("dask.distributed (2 workers)")
