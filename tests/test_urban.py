"""Built-up areas: urban centres on a population grid and the urban share of road edges."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from corridors.network.speeds import assign_speeds, load_speed_table
from corridors.network.urban import urban_centres, urban_share
from rasterio.transform import from_origin
from shapely.geometry import LineString


def _grid(tmp_path, people):
    path = tmp_path / "pop.tif"
    tr = from_origin(500_000, 2_400_000, 1000, 1000)  # 1 km pixels, UTM 48N
    with rasterio.open(path, "w", driver="GTiff", height=people.shape[0], width=people.shape[1],
                       count=1, dtype="float32", crs="EPSG:32648", transform=tr) as dst:
        dst.write(people.astype("float32"), 1)
    return path, tr


def test_a_dense_cluster_is_a_centre_only_with_enough_people():
    people = np.zeros((10, 10))
    people[1:4, 1:4] = 8000   # 9 km² at 8,000 /km²: 72,000 people, a town
    people[7:9, 7:9] = 2000   # 4 km² at 2,000 /km²: 8,000 people, a dense village
    tr = from_origin(0, 10_000, 1000, 1000)
    mask = urban_centres(people, tr, rasterio.crs.CRS.from_epsg(32648))
    assert mask[1:4, 1:4].all()
    assert not mask[7:9, 7:9].any()
    assert mask.sum() == 9


def test_urban_share_of_a_road_through_town(tmp_path):
    people = np.zeros((10, 10))
    people[:, 0:4] = 5000  # the western 4 km are a town of 200,000
    path, _ = _grid(tmp_path, people)
    road = gpd.GeoDataFrame(geometry=[LineString([(500_000, 2_395_500), (510_000, 2_395_500)])],
                            crs="EPSG:32648")
    share = urban_share(road, path)
    assert share[0] == pytest.approx(0.4, abs=0.03)


def test_urban_share_slows_the_edge_by_the_harmonic_mean():
    table = load_speed_table()
    edges = gpd.GeoDataFrame({
        "u": [1, 2], "v": [2, 3], "mode": ["road", "road"], "class": ["national", "national"],
        "length_km": [10.0, 10.0], "terrain": ["flat", "flat"], "urban_share": [0.0, 0.5]},
        geometry=[LineString([(0, 0), (1, 0)])] * 2, crs="EPSG:4326")
    out = assign_speeds(edges, table)
    rural = out["speed_kmh_car"].iloc[0]
    urban = table.urban_kmh["road"]["car"]
    expected = 1 / (0.5 / rural + 0.5 / min(rural, urban))
    assert out["speed_kmh_car"].iloc[1] == pytest.approx(expected)
    assert out["time_h_car"].iloc[1] > out["time_h_car"].iloc[0]
