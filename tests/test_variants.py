"""The array engine of network variants against the routing engine on the year's tables."""

from __future__ import annotations

import numpy as np
import pytest
from corridors.network.build import tables_for_projects

from corridors.analysis.attribution import variant_metrics
from corridors.analysis.variants import od_saving
from corridors.build.analysis_network import AnalysisNetwork


@pytest.fixture(scope="module")
def builds(base_builds):
    return base_builds


@pytest.fixture(scope="module")
def engine(variant_engine):
    return variant_engine


@pytest.mark.parametrize("year", [2025, 2027, 2030])
def test_times_equal_the_router_on_the_year_tables(builds, engine, year):
    b = builds[2030]
    net = AnalysisNetwork(str(year), tables_for_projects(
        b.master, {p for c, p in enumerate(engine.projects) if engine.open_year[c] <= year},
        year), b.catalog)
    ref = variant_metrics(net, None, "car")
    got = engine.metrics(engine.active(year))
    assert got.od.shape == (30, 3) and len(got.corridors) == 7
    # every gate and BGEZ of the embedded default is in every year
    assert ref.od.size == got.od.size
    np.testing.assert_allclose(got.od.ravel(), ref.od, rtol=0, atol=1e-9)
    np.testing.assert_allclose(got.corridors, ref.corridors, rtol=0, atol=1e-9)


def test_removing_a_project_costs_what_attribution_says(builds, engine):
    from corridors.analysis.attribution import attribute_projects

    b = builds[2030]
    table = attribute_projects(b.master, b.catalog, 2025, 2030, profile="car")
    full = engine.metrics(engine.active(2030))
    for _, row in table.head(5).iterrows():
        od_h, corr_h = od_saving(engine.metrics(engine.active(2030, without=[row["project"]])),
                                 full)
        assert od_h == pytest.approx(row["removed_od_hours"], abs=1e-6), row["project"]
        assert corr_h == pytest.approx(row["removed_corridor_hours"], abs=1e-6)


def test_a_place_of_a_project_not_yet_open_is_absent(engine):
    # the dry ports and airports of the plan carry a project tag: absent before they open
    tagged = engine.node_project[engine.dest_pos]
    assert (tagged < 0).all()  # Hà Nội, the seaport and Nội Bài are always there
    active = engine.active(1990)
    assert not active.any()
    m = engine.metrics(active)
    assert np.isfinite(m.od).sum() > 0  # the backbone still routes
