"""Vendor the web libraries the offline maps embed, into ``maps/vendor/``.

The interactive maps (``maps/``) are single HTML files that must open without the internet, so
the JavaScript and CSS they need ship inside the project: Leaflet (the map library folium
writes for) and Leaflet.Sync (keeps the two halves of the scenario map in step). This script
fetches them once from the npm registry with ``npm pack`` (exact versions, checked against the
registry's integrity hash by npm), copies the files the maps use with their licences, inlines
the few images Leaflet's CSS refers to as ``data:`` URIs, and writes ``maps/vendor/ASSETS.json``
(package, version, tarball, licence, SHA-256 of every file). Nothing downloads at run time.

Usage (needs ``npm`` on the PATH and access to the npm registry)::

    python scripts/vendor_map_assets.py            # rewrite maps/vendor/
    python scripts/vendor_map_assets.py --check    # verify maps/vendor/ against ASSETS.json
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "maps" / "vendor"

#: npm package -> version, files to copy (tarball path -> vendored name), licence file.
PACKAGES = {
    "leaflet": {
        "version": "1.9.4",
        "files": {"package/dist/leaflet.js": "leaflet.js",
                  "package/dist/leaflet.css": "leaflet.css"},
        "licence": "package/LICENSE",
    },
    "leaflet.sync": {
        "version": "0.2.4",
        "files": {"package/L.Map.Sync.js": "L.Map.Sync.js"},
        "licence": "package/LICENSE",
    },
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def inline_images(css: str, images: Path) -> str:
    """Replace ``url(images/x.png)`` in Leaflet's CSS by data URIs of the files."""
    def repl(m: re.Match) -> str:
        data = base64.b64encode((images / m.group(1)).read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\(images/([\w.-]+\.png)\)", repl, css)


def vendor(out: Path) -> dict:
    manifest = {"about": "Web libraries embedded in the offline maps; written by "
                         "scripts/vendor_map_assets.py. Do not edit by hand.",
                "packages": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, spec in PACKAGES.items():
            ref = f"{name}@{spec['version']}"
            res = subprocess.run(["npm", "pack", ref, "--json"], cwd=tmp, check=True,
                                 capture_output=True, text=True)
            info = json.loads(res.stdout)[0]
            with tarfile.open(tmp / info["filename"]) as tar:
                tar.extractall(tmp / name, filter="data")
            src = tmp / name
            files = {}
            for inner, vendored in spec["files"].items():
                text = (src / inner).read_text(encoding="utf-8")
                if vendored.endswith(".css"):
                    text = inline_images(text, (src / inner).parent / "images")
                (out / vendored).write_text(text, encoding="utf-8")
                files[vendored] = sha256(out / vendored)
            licence = f"LICENSE-{name}.txt"
            shutil.copyfile(src / spec["licence"], out / licence)
            files[licence] = sha256(out / licence)
            pkg = json.loads((src / "package" / "package.json").read_text(encoding="utf-8"))
            repo = pkg.get("repository")
            manifest["packages"][name] = {
                "version": spec["version"], "licence": pkg.get("license"),
                "homepage": pkg.get("homepage") or (repo.get("url") if isinstance(repo, dict)
                                                    else repo),
                "tarball": info["filename"], "integrity": info.get("integrity"),
                "files": files,
            }
    return manifest


def check() -> int:
    manifest = json.loads((VENDOR / "ASSETS.json").read_text(encoding="utf-8"))
    bad = [f"{name}: {f}" for name, pkg in manifest["packages"].items()
           for f, digest in pkg["files"].items()
           if not (VENDOR / f).exists() or sha256(VENDOR / f) != digest]
    for b in bad:
        print(f"changed or missing: {b}", file=sys.stderr)
    return 1 if bad else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="verify the vendored files against ASSETS.json")
    args = parser.parse_args()
    if args.check:
        return check()
    VENDOR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=VENDOR.parent) as staging:
        staging = Path(staging)
        manifest = vendor(staging)
        (staging / "ASSETS.json").write_text(json.dumps(manifest, indent=2) + "\n",
                                             encoding="utf-8")
        for f in staging.iterdir():
            shutil.move(str(f), VENDOR / f.name)
    print(f"wrote {VENDOR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
