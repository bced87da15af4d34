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


SHEET = ("from,to,mode,profile,year,hours_min,hours_max,km,condition\r\n"
         "Sa Pa,Điện Biên Phủ,road,car,2025,8,10,,\"van or bus, via Lai Châu\"\r\n"
         "Lào Cai,Sa Pa,road,car,2025,1,1.5,33,bus or minibus\r\n")


def _fix(**over):
    fix = {"row": {"from": "Sa Pa", "to": "Điện Biên Phủ", "year": 2025}, "field": "profile",
           "was": "car", "value": "bus", "reason": "its condition names a van or bus"}
    return {**fix, **over}


def test_a_correction_changes_its_cell_and_keeps_every_other_byte():
    text, n = _script().apply_corrections(SHEET, [_fix()], "travel_times")
    assert n == 1
    lines, before = text.splitlines(keepends=True), SHEET.splitlines(keepends=True)
    assert lines[1] == "Sa Pa,Điện Biên Phủ,road,bus,2025,8,10,,\"van or bus, via Lai Châu\"\r\n"
    assert lines[0] == before[0] and lines[2] == before[2]


@pytest.mark.parametrize(("fix", "message"), [
    (_fix(was="bus"), "field 'profile' is 'car', not 'bus'"),
    (_fix(row={"mode": "road"}), "matches 2 rows, not one"),
    (_fix(row={"from": "Hà Giang"}), "matches 0 rows, not one"),
    (_fix(field="speed"), "unknown column"),
    ({k: v for k, v in _fix().items() if k != "reason"}, "missing field 'reason'"),
])
def test_a_stale_correction_stops_the_copy_naming_it(fix, message):
    with pytest.raises(SystemExit, match=r"travel_times: corrections\[0\]") as err:
        _script().apply_corrections(SHEET, [fix], "travel_times")
    assert message in str(err.value)


def test_the_shipped_sheet_is_the_facts_sheet_with_its_listed_corrections():
    import yaml
    register = yaml.safe_load((REPO / "data" / "sources.yaml").read_text(encoding="utf-8"))
    fixes = register["layers"]["travel_times"]["corrections"]
    shipped = (REPO / "data" / "facts" / "travel_times.csv").read_bytes().decode("utf-8")
    # undoing the corrections gives back a sheet the corrections apply to, cell for cell
    undo = [{**f, "was": f["value"], "value": f["was"]} for f in fixes]
    original, _ = _script().apply_corrections(shipped, undo, "undo")
    assert _script().apply_corrections(original, fixes, "travel_times")[0] == shipped
    assert {f["field"] for f in fixes} == {"profile"}
