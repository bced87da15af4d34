"""Check the import contracts of pyproject.toml (``[tool.importlinter]``) with lint-imports.

``network/``, ``layers/`` and ``maps/`` (and ``data/``) install as ``corridors.network``,
``corridors.layers`` and ``corridors.maps`` (setuptools ``package-dir``), but import-linter
finds a package by its folder: run in the repository, ``lint-imports`` would see ``corridors/``
alone and stop at "module corridors.network does not exist". This script lays the package out
as it installs, in a temporary folder of symbolic links (import-linter follows them), and runs
``lint-imports`` there with the repository's ``pyproject.toml``. Options are passed on::

    python scripts/lint_imports.py [--verbose] [--contract rooms]

The exit status is lint-imports' own: 0 when every contract is kept.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "corridors"


def link_tree(root: Path) -> Path:
    """Lay out the package under ``root`` as it installs, with symbolic links; return it."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    mapped = config["tool"]["setuptools"].get("package-dir", {})
    package = root / PACKAGE
    package.mkdir()
    for entry in (REPO / PACKAGE).iterdir():
        (package / entry.name).symlink_to(entry)
    for name, folder in mapped.items():
        parent, _, child = name.rpartition(".")
        if parent != PACKAGE:
            raise SystemExit(f"error: package-dir maps {name!r}: only direct subpackages of "
                             f"{PACKAGE} are laid out")
        (package / child).symlink_to(REPO / folder)
    return package


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    exe = Path(sys.executable).parent / "lint-imports"
    if not exe.exists():
        found = shutil.which("lint-imports")
        if found is None:
            print("error: lint-imports not found: pip install -e '.[test]'", file=sys.stderr)
            return 2
        exe = Path(found)
    with tempfile.TemporaryDirectory(prefix="corridors-lint-") as tmp:
        link_tree(Path(tmp))
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        return subprocess.call([str(exe), str(REPO / "pyproject.toml"), "--no-cache", *args],
                               cwd=tmp, env=env)


if __name__ == "__main__":
    sys.exit(main())
