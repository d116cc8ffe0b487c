"""Atomic writes: a failed or interrupted run leaves no half-written file or folder.

Every file the package writes (instances, results, calibrated parameters, CLI outputs)
goes through these helpers: the content is written to a temporary sibling of the
target, given the permissions an ordinary new file gets under the process's umask, and
moved into place with one atomic rename (single text files are also flushed to disk
first).
"""

from __future__ import annotations

import glob
import math
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "TEMPORARY_PREFIX",
    "atomic_write",
    "atomic_write_text",
    "json_ready",
    "replace_folder",
    "write_file_set",
]


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()
"""The umask at import (reading it means setting it, so it is read once, not per write).
Temporary files and folders are created private (0600, 0700) and given the ordinary
modes ``0o666 & ~umask`` and ``0o777 & ~umask`` before they are moved into place."""


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary sibling of ``path``, then rename it into place.

    Parameters
    ----------
    path
        The file to write; its folder must exist.
    write
        Writes the whole content to the path it is given.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
    >>> _ = atomic_write(target, lambda p: p.write_text("ok"))
    >>> target.read_text()
    'ok'
    """
    target = Path(path)
    suffix = "".join(target.suffixes[-1:])
    fd, name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=f".tmp{suffix}", dir=target.parent
    )
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically, flushed to disk before the rename."""

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())

    return atomic_write(path, write)


TEMPORARY_PREFIX = ".talentplan-tmp-"
"""Name prefix of the temporary folder a file set is written into, inside its folder."""


def write_file_set(folder: str | os.PathLike[str], files: Mapping[str, str | bytes]) -> Path:
    """Write a set of files into ``folder``, each atomically, in the given order.

    ``str`` contents are written as UTF-8 text, ``bytes`` as they are (a workbook).

    Every file is first written into one hidden temporary folder inside ``folder``
    (``.talentplan-tmp-*``) and then moved in by renames, in the order of ``files``:
    put the file that marks a complete set (``summary.json``) last, and it is present
    only with the others. An existing copy of the last file is removed before anything
    moves, so a stale marker never stands beside new files. Nothing is created beside
    ``folder``; a temporary folder left inside it by a killed process is removed by the
    next write. Every file gets the mode ``0o666 & ~umask``.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(f"{TEMPORARY_PREFIX}*"):
        shutil.rmtree(stale, ignore_errors=True)
    names = list(files)
    with tempfile.TemporaryDirectory(prefix=TEMPORARY_PREFIX, dir=out) as tmp:
        for name, content in files.items():
            staged = Path(tmp) / name
            if isinstance(content, bytes):
                staged.write_bytes(content)
            else:
                staged.write_text(content, encoding="utf-8")
            os.chmod(staged, 0o666 & ~_UMASK)
        if names:
            (out / names[-1]).unlink(missing_ok=True)
        for name in names:
            os.replace(Path(tmp) / name, out / name)
    return out


def _mend_killed_replace(final: Path) -> None:
    """Undo what a :func:`replace_folder` killed half-way left beside ``final``."""
    name = glob.escape(final.name)
    backups = sorted(final.parent.glob(f".{name}.old-*"), key=lambda p: p.stat().st_mtime)
    if backups and not final.exists():
        os.replace(backups.pop(), final)
    for stale in [*backups, *final.parent.glob(f".{name}.*.tmp")]:
        shutil.rmtree(stale, ignore_errors=True)


def replace_folder(
    target: str | os.PathLike[str],
    fill: Callable[[Path], None],
    *,
    keep_except: Collection[str] = (),
) -> Path:
    """Build a folder with ``fill(tmp)`` beside ``target`` and swap it in by renames.

    Parameters
    ----------
    target
        The folder to create or replace.
    fill
        Writes the folder's content into the (empty) path it is given.
    keep_except
        When ``target`` exists, entries of it whose names are not in this collection
        (a README, notes) are copied into the new folder, so nothing else is lost.

    A failure at any point leaves ``target`` as it was. The new folder is built in a hidden
    sibling (``.NAME.*.tmp``), removed on any failure. What a killed process leaves is
    mended by the next call for the same target: a partial new folder is removed, and
    the old folder, if the kill fell between its two renames (``.NAME.old-*`` without
    ``NAME``), is put back first.
    """
    final = Path(target)
    _mend_killed_replace(final)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    try:
        os.chmod(tmp, 0o777 & ~_UMASK)
        fill(tmp)
        if not final.exists():
            os.replace(tmp, final)
            return final
        for item in final.iterdir():
            if item.name not in keep_except:
                dest = tmp / item.name
                if item.is_dir():
                    shutil.copytree(item, dest)
                else:
                    shutil.copy2(item, dest)
        backup = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(final, backup)
        try:
            os.replace(tmp, final)
        except BaseException:
            os.replace(backup, final)
            raise
        shutil.rmtree(backup, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def json_ready(value: Any) -> Any:
    """Return a JSON-ready copy of ``value``, a summary.

    Mappings become dicts with string keys, sequences lists, numpy scalars Python numbers,
    and NaN and infinities null.
    """
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
