"""Where the embedded default dataset lives."""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable that points the toolkit at another copy of ``data/``.
DATA_ENV = "CORRIDORS_DATA_DIR"


def data_dir() -> Path:
    """Return the folder that holds the embedded dataset and the catalogs.

    The folder is ``$CORRIDORS_DATA_DIR`` when set, else the ``data/`` folder beside the
    import packages (the repository root of an editable install).

    Returns
    -------
    pathlib.Path
        The data folder.

    Raises
    ------
    FileNotFoundError
        If the folder does not exist.
    """
    env = os.environ.get(DATA_ENV)
    path = Path(env) if env else Path(__file__).resolve().parent.parent / "data"
    if not path.is_dir():
        raise FileNotFoundError(
            f"data folder not found: {path} (install the toolkit with 'pip install -e .' from "
            f"its repository, or set {DATA_ENV})"
        )
    return path
