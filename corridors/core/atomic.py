"""Replace one file or folder atomically: write it beside its target, then ``os.replace``.

Every writer that must never leave a half-written file where a reader looks uses
:func:`atomic_path`: the GeoPackage and GraphML of a network, an Overpass download, a cache entry,
the manifest and ``INCOMPLETE`` marker of an output folder, the HTML report. Several files that must
appear together are staged in a folder instead (:mod:`corridors.core.outputs`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path"]


@contextmanager
def atomic_path(target: str | Path, *, tmp_name: str | None = None, prefix: str | None = None,
                directory: bool = False, keep_existing: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it onto ``target`` when the block succeeds.

    The temporary path lies in the target's folder (one file system, so ``os.replace`` is atomic):
    a reader sees the old target or the new one, never a part. If the block raises (an
    interruption included), the temporary file or folder is removed and ``target`` is left as it
    was.

    Parameters
    ----------
    target : str or pathlib.Path
        The file or folder to write; its folder must exist.
    tmp_name : str, optional
        Name of the temporary path (in the target's folder). Default: a fresh name
        ``<prefix><random><suffix>``.
    prefix : str, optional
        Prefix of a fresh name; default ``".<target stem>-"``. The suffix is the target's, so a
        writer that goes by the extension writes the right format.
    directory : bool
        Yield an empty folder (created) instead of a path to create a file at.
    keep_existing : bool
        With ``directory``: when ``target`` is a folder by the time of the swap (another process
        wrote it meanwhile) the swap fails; keep that folder and discard this one instead of
        raising.

    Yields
    ------
    pathlib.Path
        The temporary path. In file mode it does not exist yet: the block creates it.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with atomic_path(Path(d) / "a.txt") as tmp:
    ...         _ = tmp.write_text("hello")
    ...     sorted(p.name for p in Path(d).iterdir())
    ['a.txt']
    """
    target = Path(target)
    prefix = f".{target.stem}-" if prefix is None else prefix
    if directory:
        if tmp_name is None:
            tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
        else:
            tmp = target.with_name(tmp_name)
            tmp.mkdir()
    elif tmp_name is None:
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=target.suffix, dir=target.parent)
        os.close(fd)
        os.unlink(name)  # a fresh name: some writers refuse to write over an (empty) file
        tmp = Path(name)
    else:
        tmp = target.with_name(tmp_name)
    try:
        yield tmp
        try:
            os.replace(tmp, target)
        except OSError:
            if not (directory and keep_existing and target.is_dir()):
                raise
    finally:
        _remove(tmp)


def _remove(path: Path) -> None:
    """Remove a leftover temporary file or folder (nothing if it was moved into place)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
