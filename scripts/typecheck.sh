#!/usr/bin/env bash
# Type-check the installed package with mypy (settings: [tool.mypy] in pyproject.toml).
#
# network/, layers/, maps/ and data/ install as corridors.network, corridors.layers, ... through
# setuptools' package-dir mapping, which mypy cannot follow from the source tree (nor through the
# editable install's import hook). So the package is installed, non-editable and without its
# dependencies, into .mypy_cache/site, and mypy checks that copy (-p corridors). It is built
# from a copy of the sources, so that no stale file of a build/ folder ends up in it. mypy runs
# from an empty folder, so that nothing in the working directory shadows an import; the
# installed copy keeps one path, so that mypy's cache stays valid between runs. Reported paths
# are mapped back to the repository's files (corridors/network/x.py -> network/x.py).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
site=$repo/.mypy_cache/site
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python - "$repo" "$work/src" <<'PY'
import shutil
import sys

src, dst = sys.argv[1:]
skip = {".git", ".venv", "venv", "build", "dist", ".mypy_cache", ".pytest_cache", ".ruff_cache",
        "corridors-out", "out", "tests", "docs"}


def ignore(folder, names):
    top = folder == src
    return [n for n in names if n == "__pycache__" or n.endswith(".egg-info")
            or (top and n in skip)]


shutil.copytree(src, dst, ignore=ignore)
PY
rm -rf "$site"
pip install -q --no-deps --target "$site" "$work/src"
mkdir "$work/run"
status=0
(cd "$work/run" && MYPYPATH="$site" mypy --config-file "$repo/pyproject.toml" \
    --cache-dir "$repo/.mypy_cache" -p corridors "$@") > "$work/out" 2>&1 || status=$?
sed -e "s#^$site/##" -E -e 's#^corridors/(network|layers|maps|data)/#\1/#' "$work/out"
exit "$status"
