"""Data attribution and licences of the embedded dataset, from ``data/sources.yaml``."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml
from corridors.layers.datadir import data_dir

SOURCES_NAME = "sources.yaml"


@lru_cache(maxsize=1)
def read_sources() -> dict[str, Any]:
    """Return the source register of the embedded dataset.

    Returns
    -------
    dict
        ``{"attribution": str, "notes": str, "layers": {name: {file, input, content, licence,
        attribution}}}``.
    """
    with open(data_dir() / SOURCES_NAME, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def attribution_text() -> str:
    """Return the one-paragraph attribution every map, export and report must carry."""
    return " ".join(read_sources()["attribution"].split())
