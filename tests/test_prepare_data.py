"""scripts/prepare_data.py fails clearly and never leaves a half-written dataset."""

import importlib.util
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _script():
    path = REPO / "scripts" / "prepare_data.py"
    spec = importlib.util.spec_from_file_location("prepare_data", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_missing_raw_folder_is_a_clear_error(tmp_path, capsys):
    rc = _script().main(["--shared", str(tmp_path / "nowhere"), "--out", str(tmp_path)])
    assert rc == 2
    assert "raw data folder" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_failed_run_keeps_the_previous_dataset(tmp_path):
    out = tmp_path / "data"
    (out / "catalog").mkdir(parents=True)
    shutil.copy(REPO / "data" / "sources.yaml", out)
    shutil.copy(REPO / "data" / "catalog" / "provinces.csv", out / "catalog")
    (out / "region.gpkg").write_bytes(b"previous dataset")
    shared = tmp_path / "shared"
    shared.mkdir()  # present but empty: the first input is missing
    with pytest.raises(SystemExit, match="provinces_21_geoboundaries.geojson is missing"):
        _script().main(["--shared", str(shared), "--out", str(out)])
    assert (out / "region.gpkg").read_bytes() == b"previous dataset"
    assert sorted(p.name for p in out.iterdir()) == ["catalog", "region.gpkg", "sources.yaml"]


@pytest.mark.parametrize(
    ("name", "ref"),
    [("Quốc lộ 34", "QL34"), ("Quốc lộ 4A", "QL4A"), ("Tỉnh lộ 279", "ĐT279"),
     ("Đường Hồ Chí Minh", "HCM"), ("Hà Nội - Lào Cai", None)],
)
def test_road_refs_follow_vietnamese_convention(name, ref):
    assert _script().road_ref(name) == ref
