"""docs/tutorial.ipynb runs from top to bottom, and says what a planner should read in it.

The notebook is stored without outputs; it is executed here with nbclient in a python3 kernel
of this interpreter (a kernel spec written for the test, so that no other Python installed on
the machine is picked up), and its printed figures are checked.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "tutorial.ipynb"


def test_the_notebook_is_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.fixture
def kernel_of_this_python(tmp_path, monkeypatch):
    """A ``python3`` kernel spec running this interpreter, found before any other."""
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (corridors tests)", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return "python3"


def _text(nb) -> str:
    """Return everything the notebook printed (streams and plain-text results)."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                parts.append(out.text)
            elif "data" in out:
                parts.append(out.data.get("text/plain", ""))
    return "\n".join(parts)


def test_the_tutorial_runs_and_shows_the_figures(kernel_of_this_python, tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name=kernel_of_this_python, timeout=1200,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    text = _text(nb)

    by_year = {int(y): float(h) for y, h in
               re.findall(r"Hà Nội → Lào Cai (\d{4}): ([\d.]+) h", text)}
    assert set(by_year) == {2025, 2030}, text[:2000]
    assert 3.0 < by_year[2030] < 6.0
    assert by_year[2030] <= by_year[2025]

    gates = re.search(r"(\d+) border gates; (\d+) of them", text)
    assert gates and int(gates.group(1)) >= 10

    dropped = re.search(r"2030 without the widening: ([\d.]+) h", text)
    assert dropped and by_year[2030] < float(dropped.group(1)) <= by_year[2025] + 1e-6

    maps = [out.data["text/html"] for cell in nb.cells for out in cell.get("outputs", [])
            if "data" in out and "text/html" in out.data and "<iframe" in out.data["text/html"]]
    assert len(maps) == 1 and "Border gates and BGEZs" in maps[0]
    assert "leaflet.js (inline)" in maps[0]  # offline: the libraries travel with the map
    assert not list(tmp_path.glob("*.html"))  # the notebook wrote no file where it ran
