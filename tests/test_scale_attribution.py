"""Attribution on one re-weighted matrix (corridors.analysis.attribution) equals rebuilding each
variant.

The reference is the path attribution took before: the variant's tables
(:func:`network.build.tables_for_projects`), a fresh AnalysisNetwork and Router, and
:func:`corridors.analysis.attribution.variant_metrics`. Every variant of the embedded default (both
years, every project removed from 2030 and added alone to 2025) must give the same numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
from corridors.network.assemble import projects_open_by
from corridors.network.build import tables_for_projects

from corridors.analysis.attribution import _saving, _Variants, attribute_projects, variant_metrics
from corridors.analysis.population import population_grid
from corridors.build.analysis_network import AnalysisNetwork


@pytest.fixture(scope="module")
def default(base_builds):
    b = base_builds[2030]
    grid = population_grid(AnalysisNetwork("2030", b.tables, b.catalog))
    return b, grid


def _variants(master):
    in_a = projects_open_by(master.edges, 2025)
    in_b = projects_open_by(master.edges, 2030)
    out = [(in_a, 2025), (in_b, 2030)]
    for p in sorted(in_b - in_a):
        out += [(in_b - {p}, 2030), (in_a | {p}, 2025)]
    return out


@pytest.mark.parametrize("profile", ["car", "freight"])
def test_every_variant_equals_the_rebuilt_one(default, profile):
    b, grid = default
    fast = _Variants(b.master, b.catalog, profile)
    variants = _variants(b.master)
    assert len(variants) > 10
    # the base years are searched in full; every variant reuses its base's searches
    refs = {year: fast.metrics(active, year, "base", grid)[1] for active, year in variants[:2]}
    for active, year in variants:
        net = AnalysisNetwork("v", tables_for_projects(b.master, active, year), b.catalog)
        want = variant_metrics(net, grid, profile)
        got, _ = fast.metrics(active, year, "v", grid, refs[year])
        # the same floats, not merely close: same edges, same searches
        np.testing.assert_array_equal(got.od, want.od)
        np.testing.assert_array_equal(got.corridors, want.corridors)
        assert got.people_time_h == want.people_time_h
        assert np.isfinite(want.od).any() and len(want.corridors) > 0
    # most searches were reused: far fewer than one per source and variant
    sources = len(refs[2030].reach)
    assert 0 < fast.searches < 0.6 * sources * len(variants)


def test_attribution_table_gains_equal_the_rebuilt_path(default):
    b, grid = default
    table = attribute_projects(b.master, b.catalog, 2025, 2030, grid=grid, profile="car")
    in_a = projects_open_by(b.master.edges, 2025)
    in_b = projects_open_by(b.master.edges, 2030)

    def old(active, year):
        net = AnalysisNetwork("v", tables_for_projects(b.master, active, year), b.catalog)
        return variant_metrics(net, grid, "car")

    base_a, base_b = old(in_a, 2025), old(in_b, 2030)
    assert len(table) == len(in_b - in_a)
    for row in table.itertuples():
        removed = _saving(old(in_b - {row.project}, 2030), base_b)
        added = _saving(base_a, old(in_a | {row.project}, 2025))
        for k, v in removed.items():
            assert getattr(row, f"removed_{k}") == pytest.approx(v, rel=0, abs=1e-9)
        for k, v in added.items():
            assert getattr(row, f"added_{k}") == pytest.approx(v, rel=0, abs=1e-9)
    assert table["removed_od_hours"].max() > 0
