"""Travel-time surfaces (corridors.analysis.surfaces): the grid, the time of a cell (road time
plus the walk to the road at 20 km/h), isochrones and node savings; by hand on a small grid and
on the embedded networks."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio.transform
import shapely
from affine import Affine
from corridors.layers.region import read_layer
from corridors.network.assemble import AssemblyReport
from corridors.network.build import MasterNetwork, tables_for_year
from shapely.geometry import LineString, Point

from corridors.analysis.population import ACCESS_SPEED_KMH, attach
from corridors.analysis.surfaces import (
    CELL_DEG,
    CUTOFFS_H,
    TimeGrid,
    gate_isochrones,
    node_savings,
    polygons,
    surface,
    time_grid,
    time_to_nearest,
)
from corridors.build.analysis_network import AnalysisNetwork
from corridors.catalog.model import Catalog, Place
from corridors.core.constants import METRIC_CRS

# -- a small grid by hand ---------------------------------------------------------------------
#
# Two gates 0.5 degree apart on latitude 21, joined by a national road of 1 h (car); cells of
# 0.1 degree from 105.0 to 105.6 E and 20.8 to 21.2 N (4 rows, 6 columns).

TRANSFORM = Affine(0.1, 0, 105.0, 0, -0.1, 21.2)
SHAPE = (4, 6)


def _toy() -> AnalysisNetwork:
    places = {pid: Place(pid, pid, pid, "border_gate", 21.0, lon, "Lạng Sơn", "Lạng Sơn",
                         "test", "published", "high", (), (), {"neighbour": "CHN"})
              for pid, lon in (("gate_a", 105.0), ("gate_b", 105.5))}
    nodes = gpd.GeoDataFrame(
        {"x": [105.0, 105.5], "y": 21.0, "kind": "gate", "name": list(places),
         "place_id": list(places), "source": "test", "project": None},
        geometry=gpd.points_from_xy([105.0, 105.5], [21.0, 21.0]), crs="EPSG:4326",
        index=pd.Index([0, 1], name="node"))
    line = {(0, 1): LineString([(105.0, 21.0), (105.5, 21.0)])}
    line[(1, 0)] = line[(0, 1)].reverse()
    edges = gpd.GeoDataFrame([
        {"u": u, "v": v, "key": 0, "mode": "road", "class": "national", "length_km": 60.0,
         "time_h_car": 1.0, "time_h_truck": 1.25, "speed_kmh_car": 60.0, "speed_kmh_truck": 48.0,
         "source": "test", "project": None, "open_year": None, "superseded_by": None,
         "geometry": line[(u, v)]} for u, v in line], geometry="geometry", crs="EPSG:4326")
    cat = Catalog(places=places, projects={}, links={}, corridors={}, provinces=pd.DataFrame())
    master = MasterNetwork(nodes, edges, AssemblyReport())
    return AnalysisNetwork("toy", tables_for_year(master, 2025), cat)


@pytest.fixture(scope="module")
def toy():
    net = _toy()
    cells = np.arange(SHAPE[0] * SHAPE[1])
    r, c = np.divmod(cells, SHAPE[1])
    xs, ys = rasterio.transform.xy(TRANSFORM, r, c)
    pts = gpd.GeoSeries(gpd.points_from_xy(xs, ys), crs="EPSG:4326")
    return net, TimeGrid(TRANSFORM, SHAPE, cells, attach(net, pts)), pts


def _walk_h(pt: Point) -> float:
    """Time (h) from a point to the road at latitude 21 at the access speed, metres in UTM."""
    metric = gpd.GeoSeries([pt, Point(pt.x, 21.0)], crs="EPSG:4326").to_crs(METRIC_CRS)
    return metric.iloc[0].distance(metric.iloc[1]) / 1000 / ACCESS_SPEED_KMH


def test_fill_puts_values_on_the_study_cells_only():
    grid = TimeGrid(TRANSFORM, SHAPE, np.array([0, 7, 23]), None)
    out = grid.fill(np.array([1.0, 2.0, 3.0]))
    assert out.shape == SHAPE
    assert (out[0, 0], out[1, 1], out[3, 5]) == (1.0, 2.0, 3.0)
    assert np.isnan(out).sum() == 24 - 3


def test_a_cell_takes_the_road_time_plus_the_walk_to_the_road(toy):
    net, grid, pts = toy
    times, _ = net.router("car").nearest([net.node_of("gate_a")])
    got = surface(grid, net, times)
    # the cell centred on (105.25, 20.95): half the road (0.5 h) and 0.05 degree of walking
    cell = 2 * SHAPE[1] + 2  # row 2 (20.9-21.0 N), column 2 (105.2-105.3 E)
    assert pts[cell].equals_exact(Point(105.25, 20.95), 1e-9)
    assert got[2, 2] == pytest.approx(0.5 + _walk_h(pts[cell]), abs=0.005)  # 18 s
    assert _walk_h(pts[cell]) == pytest.approx(5.5 / ACCESS_SPEED_KMH, rel=0.02)  # ~5.5 km
    # beyond gate B's end of the road the time grows again (walk along, then to the road)
    assert got[2, 5] > got[2, 4] > got[2, 3] > got[2, 2] > got[2, 1]
    # north and south of the road at the same distance: the same time
    assert got[1, 3] == pytest.approx(got[2, 3], abs=0.005)
    assert np.isfinite(got).all()


def test_time_to_the_nearest_gate_is_the_lesser_of_each_gates_time(toy):
    net, grid, _ = toy
    router = net.router("car")
    one = [surface(grid, net, router.nearest([net.node_of(g)])[0]) for g in ("gate_a", "gate_b")]
    both = time_to_nearest(grid, net, ["gate_a", "gate_b", "gate_not_in_network"])
    np.testing.assert_allclose(both, np.fmin(*one))
    assert both[2, 0] < one[1][2, 0] and both[2, 5] < one[0][2, 5]


def test_isochrone_polygons_are_the_cells_within_each_cutoff():
    times = np.array([[0.5, 0.9, 1.5, np.inf, np.nan, 9.0],
                      [0.2, 1.0, 2.5, 3.0, 5.0, 9.0],
                      [np.nan] * 6,
                      [np.nan] * 6])
    got = polygons(TimeGrid(TRANSFORM, SHAPE, np.arange(24), None), times, (1, 2, 4, 8))
    cell = 0.1 * 0.1
    assert [round(g.area / cell) for g in got] == [4, 5, 7, 8]
    assert got[0].covers(Point(105.05, 21.15)) and got[0].covers(Point(105.15, 21.05))
    assert not got[0].covers(Point(105.25, 21.15))  # 1.5 h
    assert not got[3].intersects(Point(105.35, 21.15))  # unreachable (inf) is never inside
    assert all(a.within(b.buffer(1e-9)) for a, b in zip(got, got[1:], strict=False))
    nothing = polygons(TimeGrid(TRANSFORM, SHAPE, np.arange(24), None), times, (0.1,))[0]
    assert nothing.is_empty and nothing.geom_type == "Polygon"


# -- the embedded networks ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def nets(base_builds):
    return {y: AnalysisNetwork(str(y), b.tables, b.catalog) for y, b in base_builds.items()}


@pytest.fixture(scope="module")
def grid(nets):
    return time_grid(nets[2030])


def test_the_grid_covers_the_21_provinces(grid):
    provinces = read_layer("provinces_2024")
    area_km2 = provinces.to_crs(METRIC_CRS).area.sum() / 1e6
    west, south, east, north = shapely.union_all(provinces.geometry.values).bounds
    assert grid.shape == (int(np.ceil((north - south) / CELL_DEG)),
                          int(np.ceil((east - west) / CELL_DEG)))
    assert (grid.transform.a, grid.transform.e) == (CELL_DEG, -CELL_DEG)
    # cells of about 2.07 x 2.22 km at 21-23 N: their number matches the area of the provinces
    cell_km2 = (CELL_DEG * 111.32 * np.cos(np.radians(22))) * (CELL_DEG * 110.6)
    assert len(grid.cells) * cell_km2 == pytest.approx(area_km2, rel=0.03)
    assert len(grid.attachment.u) == len(grid.cells)


def test_every_cell_reaches_a_gate_and_a_gate_is_minutes_from_itself(grid, nets):
    net = nets[2030]
    gates = [g.id for g in net.gates()]
    t = time_to_nearest(grid, net, gates)
    inside = grid.fill(np.ones(len(grid.cells))) == 1
    assert np.isfinite(t[inside]).all() and np.isnan(t[~inside]).all()
    gate = net.catalog.places["gate_huu_nghi"]  # on the border: its cell may lie outside
    row, col = rasterio.transform.rowcol(grid.transform, gate.lon, gate.lat)
    assert np.nanmin(t[row - 1:row + 2, col - 1:col + 2]) < 0.25
    assert 2 < np.nanmax(t) < 12  # the remotest cell is hours, not days, from a gate


def test_isochrones_grow_with_the_cutoff_and_hold_their_gate(grid, nets):
    net = nets[2030]
    iso = gate_isochrones(grid, net)
    origins = {g.id for g in net.gates()} | {p.id for p in net.catalog.places.values()
                                             if p.kind == "bgez"}
    assert set(iso["id"]) == origins and len(iso) == len(origins) * len(CUTOFFS_H)
    for gid, rows in iso.groupby("id"):
        rows = rows.sort_values("cutoff_h")
        assert list(rows["cutoff_h"]) == list(CUTOFFS_H)
        assert rows["area_km2"].is_monotonic_increasing, gid
        assert rows["area_km2"].iloc[-1] > 0, gid
    huu_nghi = iso[(iso["id"] == "gate_huu_nghi") & (iso["cutoff_h"] == 1)].iloc[0]
    gate = net.catalog.places["gate_huu_nghi"]
    assert huu_nghi.geometry.buffer(2 * CELL_DEG).contains(Point(gate.lon, gate.lat))
    # a BGEZ is measured at its gate: the same polygons
    bgez = iso[iso["id"] == "bgez_dong_dang_lang_son"].sort_values("cutoff_h")
    gate = iso[iso["id"] == bgez["gate_id"].iloc[0]].sort_values("cutoff_h")
    assert bgez["area_km2"].tolist() == gate["area_km2"].tolist()


def test_node_savings_are_the_difference_of_the_two_years(nets):
    s = node_savings(nets[2025], nets[2030])
    assert len(s) > 400
    assert set(s["kind"]) <= {"junction", "gate", "place", "port", "dry_port", "airport"}
    np.testing.assert_allclose(s["saving_h_to_ha_noi"],
                               s["time_h_2025_to_ha_noi"] - s["time_h_2030_to_ha_noi"])
    assert (s["saving_h_to_ha_noi"] >= -1e-9).all()  # 2030 is never slower
    assert np.isfinite(s.filter(like="time_h_").to_numpy()).all()
    lao_cai = s[s["place_id"] == "city_lao_cai"].iloc[0]
    assert lao_cai["saving_pct_to_ha_noi"] == pytest.approx(
        100 * lao_cai["saving_h_to_ha_noi"] / lao_cai["time_h_2025_to_ha_noi"])
    assert s.crs == "EPSG:4326" and s.geometry.notna().all()
