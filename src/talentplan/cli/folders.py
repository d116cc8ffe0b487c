"""Output folders and files, checked before any work is done.

A command that writes checks its ``--out`` first: that it is (or can become) a folder
this process can write in, and that it does not hold another command's results. Only
then does the command load, solve and write, so a bad ``--out`` costs nothing and a
refused one is never created. Every command's ``summary.json`` names the command that
wrote it (``"command"``; a summary without the key is a solve's, as
``AllocationResult.to_dir`` writes it).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from talentplan.cli.screen import ExitCode, fail

__all__ = ["check_out_file", "check_out_folder", "make_out_folder", "write_command_set"]


def _writable_ancestor(path: Path) -> Path:
    """Return the nearest existing folder at or above ``path``, after a real write probe."""
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        fail("cannot write", f"{path}: {existing} is a file, not a folder", ExitCode.OUTPUT)
    try:
        with tempfile.TemporaryFile(dir=existing, prefix=".talentplan-probe-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        fail("cannot write", f"{path}: cannot write in {existing} ({reason})", ExitCode.OUTPUT)
    return existing


def check_out_folder(folder: Path, command: str) -> None:
    """Refuse an ``--out`` folder that cannot take ``command``'s results."""
    if folder.exists() and not folder.is_dir():
        fail("cannot write", f"--out {folder} is a file, not a folder", ExitCode.OUTPUT)
    _writable_ancestor(folder)
    summary = folder / "summary.json"
    if summary.is_file():
        try:
            owner = json.loads(summary.read_text(encoding="utf-8")).get("command", "solve")
        except (OSError, ValueError, AttributeError):
            owner = "an unknown command"
        if owner != command:
            fail(
                "cannot write",
                f"--out {folder} holds the results of 'talentplan {owner}'; write the "
                f"results of '{command}' into another folder",
                ExitCode.OUTPUT,
            )


def make_out_folder(folder: Path) -> None:
    """Create ``--out`` (after every check has passed)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail("cannot write", f"--out {folder}: {exc.strerror or exc}", ExitCode.OUTPUT)


def check_out_file(path: Path, suffixes: tuple[str, ...], what: str) -> None:
    """Refuse an output file whose name, folder or permissions cannot work."""
    if path.is_dir():
        fail("cannot write", f"{path} is a folder; give the path of {what}", ExitCode.OUTPUT)
    if path.suffix.lower() not in suffixes:
        expected = " or ".join(suffixes)
        fail("cannot write", f"{path}: {what} must end in {expected}", ExitCode.OUTPUT)
    if not path.parent.is_dir():
        fail("cannot write", f"{path}: the folder {path.parent} does not exist", ExitCode.OUTPUT)
    _writable_ancestor(path.parent)


def write_command_set(folder: Path, table: tuple[str, str], summary: dict[str, object]) -> None:
    """Write one table and ``summary.json`` into ``--out`` as a set (summary last).

    An earlier run's ``manifest.json`` is removed first: it no longer describes the
    folder, and the command writes its own after the set.
    """
    from talentplan._files import write_file_set
    from talentplan.cli.manifest import forget_manifest

    make_out_folder(folder)
    name, text = table
    try:
        forget_manifest(folder)
        write_file_set(folder, {name: text, "summary.json": json.dumps(summary, indent=2)})
    except OSError as exc:
        fail("cannot write", f"--out {folder}: {exc}", ExitCode.OUTPUT)
