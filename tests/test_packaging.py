"""The package as a user installs it: one import name, the data inside, nothing at the top level.

The wheel is built from the repository (``pip install --no-deps --target``, without the editable
install's import hook) and used from a folder outside the repository, as a planner would.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    res = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                          "--target", str(target), str(REPO)],
                         capture_output=True, text=True, cwd=target)
    assert res.returncode == 0, res.stderr[-2000:]
    return target


def _python(installed: Path, code: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=cwd, env=env)


def test_one_import_name_with_the_data_inside(installed, tmp_path):
    code = ("import corridors, corridors.network.graph, corridors.layers.datadir as d\n"
            "import corridors.maps.assets as a\n"
            "print(corridors.__file__); print(d.data_dir()); print(a.VENDOR_DIR)\n"
            "print((d.data_dir() / 'region.gpkg').stat().st_size)\n"
            "print(len(list((d.data_dir() / 'catalog').glob('*.yaml'))))")
    res = _python(installed, code, tmp_path)
    assert res.returncode == 0, res.stderr
    pkg, data, vendor, gpkg_bytes, catalogs = res.stdout.split()
    assert Path(pkg).is_relative_to(installed)
    assert Path(data) == installed / "corridors" / "data"
    assert Path(vendor) == installed / "corridors" / "maps" / "vendor"
    assert int(gpkg_bytes) > 1_000_000 and int(catalogs) >= 6
    # the report templates ship too
    assert (installed / "corridors" / "outputs" / "templates" / "report.html").is_file()


@pytest.mark.parametrize("name", ["network", "layers", "maps", "data"])
def test_no_generic_top_level_names(installed, tmp_path, name):
    assert not (installed / name).exists()
    res = _python(installed, f"import {name}", tmp_path)
    assert res.returncode != 0 and "ModuleNotFoundError" in res.stderr


def test_the_installed_api_routes(installed, tmp_path):
    code = ("import corridors\n"
            "n = corridors.build_network(2030, use_cache=False)\n"
            "print(corridors.route(n, 'Hà Nội', 'Lào Cai')['time_h'])")
    res = _python(installed, code, tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    # published: 3.5-4.5 h by the Nội Bài - Lào Cai expressway
    assert 3.0 < float(res.stdout.split()[-1]) < 4.5
