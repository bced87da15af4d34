"""Shared fixtures: the computed pipeline, once per session; catalog copies; a private cache.

The expensive results are computed once per test session (once per worker under pytest-xdist)
and shared **read-only**; a test that changes one works on a copy (``copy.copy``,
``dataclasses.replace``, ``DataFrame.copy``). Each test still asks for what it needs by name, so
the order of the tests does not matter: whichever comes first computes it.

* ``shipped_catalog``: ``load_catalog()``, checked likewise.
* ``base_builds``: the networks of 2025 and 2030 of the shipped catalog (one master network),
  as ``build_networks([2025, 2030])`` returns them. A fingerprint of their tables is checked at
  the end of the session: a test that changed them in place fails there.
* ``variant_engine``, ``uncertainty_model``: built on ``base_builds[2030]``.
* ``full_run``: one ``corridors run --each-year --scenario late-sgr.yaml`` into a temporary
  folder (the base and a scenario whose description holds markup), with the ``RunResults`` the
  run computed for each scenario; ``base_results`` is the base's.
* ``osm_run``: one ``corridors run --osm test.osm.pbf --allow-empty``.

Tests that use ``full_run`` or ``osm_run`` (directly or through ``base_results``) are marked
``slow`` at collection, with the browser, QGIS and Dask-cluster tests that carry the mark
themselves; ``pytest -m "not slow"`` is the quick loop. They live in three modules (RUN_MODULES),
which pytest-xdist runs on one worker, so that each run is computed once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from corridors.catalog.model import default_catalog_dir
from tests.helpers import run, serve_base_builds

#: Fixtures that need a whole ``corridors run``: the tests using them are slow.
RUN_FIXTURES = {"full_run", "base_results", "osm_run"}
#: The modules that may use them: pytest-xdist runs these on one worker, so that each run is
#: computed once (see :func:`pytest_xdist_make_scheduler`).
RUN_MODULES = {"tests/test_run.py", "tests/test_export.py", "tests/test_maps.py"}
#: The scenario of the shared run: the standard-gauge railway three years late, described with
#: markup that no HTML output may show raw (issue 10).
LATE_SGR = ('name: late-sgr\ndescription: "the standard-gauge railway opens in 2033 '
            '<script>alert(1)</script> & <b>x</b>"\nprojects:\n  delay: {a3_3_01: 2033}\n')


def pytest_itemcollected(item):
    """Mark the tests that need a whole run ``slow``; keep them in the modules of RUN_MODULES."""
    if RUN_FIXTURES & set(getattr(item, "fixturenames", ())):
        item.add_marker(pytest.mark.slow)
        module = item.nodeid.split("::", 1)[0]
        if module not in RUN_MODULES:
            raise pytest.UsageError(
                f"{item.nodeid} uses a whole run ({', '.join(sorted(RUN_FIXTURES))}): put it in "
                f"one of {', '.join(sorted(RUN_MODULES))}, or add its module to RUN_MODULES in "
                "tests/conftest.py (else pytest-xdist computes the run again on another worker)")


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile``, except that the modules of RUN_MODULES form one unit of work.

    A module's tests run on one worker (its module fixtures are computed once), and so do the
    modules that share the session's runs. (pytest-xdist's ``xdist_group`` marks would say the
    same, but they do not take effect with pytest 9.2: its nodeids can no longer be renamed.)
    """
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class RunModulesTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "whole runs" if module in RUN_MODULES else module

    return RunModulesTogether(config, log)


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    """Return a fresh copy of the shipped catalog folder."""
    dst = tmp_path / "catalog"
    shutil.copytree(default_catalog_dir(), dst)
    return dst


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Keep built backbones in a cache of the test session, not the user's."""
    old = os.environ.get("CORRIDORS_CACHE_DIR")
    os.environ["CORRIDORS_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("CORRIDORS_CACHE_DIR", None)
    else:
        os.environ["CORRIDORS_CACHE_DIR"] = old


# -- the catalog and the networks ----------------------------------------------------------------


def _catalog_digest(cat) -> str:
    return hashlib.sha256(repr((cat.places, cat.projects, cat.links, cat.corridors,
                                cat.foreign, [(p.attrs, p.standard, p.plan) for p in
                                              [*cat.projects.values(), *cat.links.values()]],
                                [p.attrs for p in cat.places.values()])).encode()).hexdigest()


@pytest.fixture(scope="session")
def shipped_catalog():
    """``load_catalog()``: the shipped catalog, validated (read-only; checked at the end)."""
    from corridors.catalog.load import load_catalog

    cat = load_catalog()
    before = _catalog_digest(cat)
    yield cat
    assert _catalog_digest(cat) == before, "a test changed the shared shipped_catalog in place"



def _fingerprint(frame: pd.DataFrame) -> str:
    """A digest of a table's columns, index, values and geometries (to detect changes)."""
    digest = hashlib.sha256(repr((list(frame.columns), frame.shape)).encode())
    geom = getattr(frame, "geometry", None) if "geometry" in frame else None
    plain = frame.drop(columns=["geometry"]) if geom is not None else frame
    digest.update(pd.util.hash_pandas_object(plain.astype(str), index=True).to_numpy().tobytes())
    if geom is not None:
        for wkb in geom.to_wkb():
            digest.update(wkb or b"")
    return digest.hexdigest()


def _tables_of(builds) -> dict[str, pd.DataFrame]:
    out = {}
    for year, b in builds.items():
        out |= {f"{year} nodes": b.tables.nodes, f"{year} edges": b.tables.edges,
                f"{year} master nodes": b.master.nodes, f"{year} master edges": b.master.edges}
    return out


@pytest.fixture(scope="session")
def base_builds(_private_cache):
    """``build_networks([2025, 2030])`` of the shipped catalog: ``{year: BuildResult}``.

    Read-only. At the end of the session the tables must be as built: a test that changed one
    in place makes the teardown fail, naming the table.
    """
    from corridors.build.pipeline import build_networks

    builds = build_networks([2025, 2030])
    before = {k: _fingerprint(v) for k, v in _tables_of(builds).items()}
    yield builds
    changed = [k for k, v in _tables_of(builds).items() if _fingerprint(v) != before[k]]
    assert not changed, f"a test changed the shared base_builds in place: {changed}"


@pytest.fixture(scope="session")
def variant_engine(base_builds):
    """The variant engine of the 2030 master network (every project, any opening year)."""
    from corridors.analysis.variants import VariantEngine

    b = base_builds[2030]
    return VariantEngine.from_master(b.master, b.catalog)


@pytest.fixture(scope="session")
def uncertainty_model(base_builds, variant_engine):
    """The uncertainty model of 2025-2030 with the shipped parameters."""
    from corridors.analysis.trajectories import year_range
    from corridors.analysis.uncertainty import build_model
    from corridors.catalog.uncertainty_params import load_uncertainty

    b = base_builds[2030]
    return build_model(variant_engine, b.master, b.catalog, load_uncertainty(),
                       year_range((2025, 2030)))


@pytest.fixture
def reuse_base_builds(monkeypatch, base_builds):
    """For command-line tests whose subject is the command, not the build: ``build_network(s)``
    serve the shared ``base_builds`` (:func:`serve_base_builds`); returns the years served."""
    return serve_base_builds(monkeypatch, base_builds)


# -- whole runs ----------------------------------------------------------------------------------


@dataclass
class RunOutput:
    """A ``corridors run`` done once for the session: its folder and what it computed."""

    folder: Path
    output: str
    results: dict = field(default_factory=dict)  # scenario name -> RunResults


def _run_once(folder: Path, *args) -> RunOutput:
    """Run ``corridors --quiet run --out FOLDER ARGS``; keep the RunResults of each scenario."""
    import corridors.jobs.run as run_mod

    real = run_mod.compute_results
    out = RunOutput(folder, "")

    def recording(*a, **k):
        res = real(*a, **k)
        out.results[res.scenario.name] = res
        return res

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(run_mod, "compute_results", recording)
        res = run("--quiet", "run", "--out", folder, *args)
    assert res.exit_code == 0, res.output
    out.output = res.output
    return out


@pytest.fixture(scope="session")
def full_run(tmp_path_factory, _private_cache) -> RunOutput:
    """``corridors run --each-year --scenario late-sgr.yaml``: base and late-sgr, 2025 → 2030.

    Read-only: the folder is the output of a finished run (tests may run the command again on it
    to check that it is refused, and must leave it as it is).
    """
    tmp = tmp_path_factory.mktemp("run")
    scenario = tmp / "late-sgr.yaml"
    scenario.write_text(LATE_SGR, encoding="utf-8")
    return _run_once(tmp / "corridors-out", "--each-year", "--scenario", scenario)


@pytest.fixture(scope="session")
def base_results(full_run):
    """The base ``RunResults`` of ``full_run`` (2025 and 2030, every profile, trajectories)."""
    return full_run.results["base"]


@pytest.fixture(scope="session")
def osm_run(tmp_path_factory, _private_cache) -> RunOutput:
    """``corridors run --osm test.osm.pbf --allow-empty`` (pyrosm's test extract, not Vietnam)."""
    import pyrosm

    return _run_once(tmp_path_factory.mktemp("osm-run") / "out", "--osm",
                     pyrosm.get_data("test_pbf"), "--allow-empty")
