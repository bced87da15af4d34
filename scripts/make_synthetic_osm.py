"""Write a synthetic, road-like OSM extract (``.osm.pbf``) over the study area, of about N edges.

The roads are a jittered grid over northern Vietnam (:data:`STUDY_BBOX`): every row and column of
the grid is one road of one ``highway`` class, drawn with the class mix of
:data:`CLASS_SHARES`, cut into OSM ways of a few kilometres, with shape nodes between
junctions (a road bends between two junctions) and a few gaps on the minor classes (dead ends).
Each way carries ``highway``, ``ref``, ``name`` and, on the main classes, ``maxspeed`` and
``lanes``, the tags :func:`layers.osm.read_osm` reads. The file's header carries the bounding box.

``--edges N`` is the number of *network* edges the extract gives once read by
:func:`network.backbone.backbone_from_osm`: one per direction of travel between two junctions,
so about four per grid node. The same ``--seed`` writes the same file.

It exists to measure the pipeline at region scale (``scripts/benchmark_pipeline.py``); the
roads are not real ones.

Usage::

    python scripts/make_synthetic_osm.py --edges 150000 --out /tmp/g150k.osm.pbf
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

#: The study area (west, south, east, north), degrees: the 14 provinces and their borders.
STUDY_BBOX = (102.1, 20.3, 108.1, 23.4)
#: Share of the grid's roads by OSM ``highway`` class (assumption: the order of magnitude of
#: the classes motorway..tertiary in a Geofabrik extract of the region, where tertiary roads
#: are the most numerous and motorways a few percent).
CLASS_SHARES = {"motorway": 0.03, "trunk": 0.09, "primary": 0.15, "secondary": 0.23,
                "tertiary": 0.50}
#: ``maxspeed`` (km/h) and ``lanes`` tagged on the main classes.
_MAXSPEED = {"motorway": "100", "trunk": "80", "primary": "60"}
_LANES = {"motorway": "4", "trunk": "2"}
#: Reference prefixes as Vietnamese OSM tags them (expressway, national, provincial road).
_REF = {"motorway": "CT.", "trunk": "QL.", "primary": "ĐT.", "secondary": "ĐH.",
        "tertiary": None}
#: Share of the grid segments of minor classes left out (dead ends, as real roads have).
GAP_SHARE = {"secondary": 0.02, "tertiary": 0.04}
#: Junction-to-junction segments per OSM way (drawn uniformly in this range).
WAY_SEGMENTS = (3, 12)
#: Jitter of a junction, as a share of the grid step.
JITTER = 0.3


def grid_shape(edges: int, bbox: tuple[float, float, float, float] = STUDY_BBOX
               ) -> tuple[int, int]:
    """Return (columns, rows) of a grid whose network has about ``edges`` directed edges.

    A full grid of ``nx`` by ``ny`` junctions has ``2 (nx (ny - 1) + ny (nx - 1))`` directed
    edges; the aspect ratio follows the bbox measured in km.

    Parameters
    ----------
    edges : int
        Target number of directed network edges.
    bbox : tuple of float
        (west, south, east, north), degrees.

    Returns
    -------
    tuple of int
        Junctions along a row (x) and along a column (y).
    """
    w, s, e, n = bbox
    aspect = (e - w) * math.cos(math.radians((s + n) / 2)) / (n - s)
    ny = max(2, round(math.sqrt(edges / (4 * aspect))))
    nx = max(2, round(ny * aspect))
    return nx, ny


def write_synthetic_osm(out: str | Path, edges: int, seed: int = 0,
                        shape_nodes: int = 2,
                        bbox: tuple[float, float, float, float] = STUDY_BBOX) -> dict:
    """Write the synthetic extract; return what it holds.

    Parameters
    ----------
    out : str or pathlib.Path
        The ``.osm.pbf`` to write (replaced if it exists).
    edges : int
        Target number of directed network edges (see the module docstring).
    seed : int, default 0
        Seed of the random generator (same seed, same file).
    shape_nodes : int, default 2
        Vertices between two junctions of a road.
    bbox : tuple of float
        (west, south, east, north), degrees.

    Returns
    -------
    dict
        ``nodes``, ``ways``, ``segments`` (junction to junction), ``grid`` (columns, rows) and
        ``ways_by_class``.
    """
    import osmium

    rng = np.random.default_rng(seed)
    nx, ny = grid_shape(edges, bbox)
    w, s, e, n = bbox
    dx, dy = (e - w) / (nx - 1), (n - s) / (ny - 1)
    # junctions: a jittered grid, kept inside the bbox
    gx = w + dx * np.arange(nx)[None, :] + rng.uniform(-JITTER, JITTER, (ny, nx)) * dx
    gy = s + dy * np.arange(ny)[:, None] + rng.uniform(-JITTER, JITTER, (ny, nx)) * dy
    gx, gy = np.clip(gx, w, e), np.clip(gy, s, n)
    junction_id = 1 + np.arange(nx * ny, dtype=np.int64).reshape(ny, nx)
    next_id = nx * ny + 1

    classes = list(CLASS_SHARES)
    probs = np.array(list(CLASS_SHARES.values()))
    probs = probs / probs.sum()
    # lines: rows (constant j) then columns (constant i); each has one class
    lines: list[tuple[str, np.ndarray]] = []
    for j in range(ny):
        lines.append((str(rng.choice(classes, p=probs)), junction_id[j, :]))
    for i in range(nx):
        lines.append((str(rng.choice(classes, p=probs)), junction_id[:, i]))

    flat_x, flat_y = gx.ravel(), gy.ravel()
    node_x: list[np.ndarray] = [flat_x]
    node_y: list[np.ndarray] = [flat_y]
    ways: list[tuple[str, int, list[int]]] = []  # class, line number, node ids
    segments = 0
    by_class: dict[str, int] = dict.fromkeys(classes, 0)
    for li, (cls, ids) in enumerate(lines):
        a, b = ids[:-1] - 1, ids[1:] - 1  # positions in the flat arrays
        k = len(a)
        # shape nodes: points along the segment, pushed sideways (a road bends)
        t = (np.arange(1, shape_nodes + 1) / (shape_nodes + 1))[None, :]
        ax, ay, bx, by = flat_x[a, None], flat_y[a, None], flat_x[b, None], flat_y[b, None]
        side = rng.uniform(-0.15, 0.15, (k, shape_nodes))
        sx = ax + (bx - ax) * t - (by - ay) * side
        sy = ay + (by - ay) * t + (bx - ax) * side
        shape_ids = next_id + np.arange(k * shape_nodes, dtype=np.int64).reshape(k, shape_nodes)
        next_id += k * shape_nodes
        node_x.append(sx.ravel())
        node_y.append(sy.ravel())
        present = rng.random(k) >= GAP_SHARE.get(cls, 0.0)
        current: list[int] = []
        left = int(rng.integers(WAY_SEGMENTS[0], WAY_SEGMENTS[1] + 1))
        for q in range(k):
            if not present[q]:
                if len(current) > 1:
                    ways.append((cls, li, current))
                current = []
                continue
            if not current:
                current = [int(ids[q])]
            current.extend(int(x) for x in shape_ids[q])
            current.append(int(ids[q + 1]))
            segments += 1
            left -= 1
            if left == 0:
                ways.append((cls, li, current))
                current = []
                left = int(rng.integers(WAY_SEGMENTS[0], WAY_SEGMENTS[1] + 1))
        if len(current) > 1:
            ways.append((cls, li, current))
    for cls, _, _ in ways:
        by_class[cls] += 1

    xs, ys = np.concatenate(node_x), np.concatenate(node_y)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    header = osmium.io.Header()
    header.add_box(osmium.osm.Box(osmium.osm.Location(w, s), osmium.osm.Location(e, n)))
    header.set("generator", "corridors scripts/make_synthetic_osm.py")
    Node, Way = osmium.osm.mutable.Node, osmium.osm.mutable.Way
    with osmium.SimpleWriter(str(out), header=header) as writer:
        for k, (x, y) in enumerate(zip(xs.tolist(), ys.tolist(), strict=True)):
            writer.add_node(Node(id=k + 1, location=(x, y), version=1))
        for wid, (cls, li, nodes) in enumerate(ways, start=1):
            tags = {"highway": cls, "name": f"Synthetic {cls} {li}"}
            if _REF[cls]:
                tags["ref"] = f"{_REF[cls]}{li}"
            if cls in _MAXSPEED:
                tags["maxspeed"] = _MAXSPEED[cls]
            if cls in _LANES:
                tags["lanes"] = _LANES[cls]
            writer.add_way(Way(id=wid, nodes=nodes, tags=tags, version=1))
    return {"nodes": len(xs), "ways": len(ways), "segments": segments, "grid": (nx, ny),
            "ways_by_class": by_class}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edges", type=int, default=150_000,
                        help="target number of directed network edges (default 150000)")
    parser.add_argument("--out", type=Path, required=True, help="the .osm.pbf to write")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--shape-nodes", type=int, default=2,
                        help="vertices between two junctions (default 2)")
    args = parser.parse_args(argv)
    if args.edges < 16:
        parser.error("--edges must be at least 16")
    if not str(args.out).endswith(".pbf"):
        parser.error("--out must end in .pbf")
    info = write_synthetic_osm(args.out, args.edges, args.seed, args.shape_nodes)
    print(f"wrote {args.out}: grid {info['grid'][0]} x {info['grid'][1]}, {info['nodes']} nodes, "
          f"{info['ways']} ways, {info['segments']} segments (about {2 * info['segments']} "
          "network edges); ways by class: "
          + ", ".join(f"{k} {v}" for k, v in info["ways_by_class"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
