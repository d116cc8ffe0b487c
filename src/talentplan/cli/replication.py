"""``talentplan replicate``: check a run's inputs, run it again, compare file by file.

The steps, each reported on its own:

1. the manifest (:mod:`talentplan.cli.manifest`) is read, and every input file is hashed
   again where the run found it; an input altered, missing or added since is reported
   by name with both hashes and nothing is rerun (exit code
   :attr:`~talentplan.cli.screen.ExitCode.MISMATCH`);
2. the versions recorded are compared with the ones installed; each difference is a
   warning on stderr (a rerun under other versions may differ within tolerance);
3. the command is run again, as a new process, in the folder it first ran in, with
   ``--out`` a new folder (never the original);
4. every output file is compared with the original by the rules of
   :mod:`talentplan.cli.compare`, and each original file is checked against the hash
   recorded, so a file altered after the run is reported too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from talentplan.cli.compare import compare_files
from talentplan.cli.manifest import MANIFEST, input_files, sha256_file
from talentplan.errors import OptionError

__all__ = [
    "Row",
    "check_inputs",
    "compare_outputs",
    "format_rows",
    "new_out_folder",
    "rerun",
    "version_changes",
]


@dataclass(frozen=True)
class Row:
    """One line of a replication table: a file, whether it matches, and why."""

    name: str
    match: bool
    how: str


def _short(digest: str | None) -> str:
    return "absent" if digest is None else digest[:12]


def run_folder(manifest: dict[str, Any]) -> Path:
    """Return the folder the command ran in (relative paths are read from there)."""
    return Path(manifest["command"].get("cwd") or ".")


def check_inputs(manifest: dict[str, Any]) -> list[Row]:
    """Hash every input again where the run found it; one row per file.

    An instance is resolved again from its argument (a bundled name finds the bundled
    folder of the installed talentplan), with the parameter file its scenario refers
    to; other input files are read at the path recorded.
    """
    cwd = run_folder(manifest)
    now: dict[str, dict[str, Path]] = {}
    for entry in manifest["inputs"]:
        if entry["argument"] == "instance":
            now.update({f.argument: f.files for f in input_files(entry["given"], cwd)})
    rows: list[Row] = []
    for entry in manifest["inputs"]:
        label = f"{entry['argument']} {entry['given']}"
        if entry["kind"] == "synthetic":
            rows.append(Row(label, True, "generated from its spec; no files"))
            continue
        files = now.get(entry["argument"])
        if files is None:
            path = Path(entry["root"])
            files = {path.name: path} if path.is_file() else {}
        rows.extend(_file_rows(label, dict(entry["files"]), files))
    return rows


def _file_rows(label: str, recorded: dict[str, str], files: dict[str, Path]) -> list[Row]:
    rows = []
    for name in sorted(recorded.keys() | files.keys()):
        before = recorded.get(name)
        after = sha256_file(files[name]) if name in files else None
        where = f"{label}: {name}"
        if before == after:
            rows.append(Row(where, True, "unchanged"))
        elif after is None:
            rows.append(Row(where, False, f"missing (recorded {_short(before)})"))
        elif before is None:
            rows.append(Row(where, False, f"added since the run (now {_short(after)})"))
        else:
            rows.append(Row(where, False, f"changed: recorded {before}, now {after}"))
    return rows


def version_changes(recorded: dict[str, str], installed: dict[str, str]) -> list[str]:
    """Say, for each package whose version differs, what was recorded and what is installed.

    Examples
    --------
    >>> version_changes({"highs": "1.16.0", "pandas": "2.2"}, {"highs": "1.17.0", "pandas": "2.2"})
    ['highs 1.16.0 when the run was made, 1.17.0 now']
    """
    return [
        f"{name} {recorded[name]} when the run was made, {installed.get(name, 'absent')} now"
        for name in sorted(recorded)
        if installed.get(name, "absent") != recorded[name]
    ]


def new_out_folder(original: Path, given: Path | None) -> Path:
    """Return the folder the rerun writes into: ``given``, or a new sibling of ``original``.

    Raises
    ------
    OptionError
        When ``given`` is, or lies inside, the original folder, or holds files already.
    """
    if given is None:
        return Path(tempfile.mkdtemp(prefix=f"{original.name}.replica-", dir=original.parent))
    here, there = original.resolve(), given.resolve()
    if there == here or here in there.parents:
        raise OptionError(
            f"--out {given} is the original run's folder or inside it",
            option="out",
            value=str(given),
            expected="a new or empty folder outside the original run's folder",
        )
    if there.exists() and (not there.is_dir() or any(there.iterdir())):
        raise OptionError(
            f"--out {given} exists and is not an empty folder",
            option="out",
            value=str(given),
            expected="a new or empty folder (a rerun never writes over files)",
        )
    return given


def rerun_args(manifest: dict[str, Any], out_dir: Path) -> list[str]:
    """Return the recorded command line with ``--out`` replaced by ``out_dir``."""
    command = manifest["command"]
    args = list(command["args"])
    if "--out" in args:
        args[args.index("--out") + 1] = os.path.abspath(out_dir)
    else:
        args += ["--out", os.path.abspath(out_dir)]
    return [command["name"], *args]


def rerun(manifest: dict[str, Any], out_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run the recorded command again, as ``python -m talentplan``, into ``out_dir``."""
    return subprocess.run(
        [sys.executable, "-m", "talentplan", *rerun_args(manifest, out_dir)],
        cwd=run_folder(manifest),
        capture_output=True,
        text=True,
        check=False,
    )


def compare_outputs(manifest: dict[str, Any], original: Path, new: Path) -> list[Row]:
    """Compare every output the manifest lists; one row per file, and one per extra file."""
    recorded: dict[str, str] = manifest["outputs"]
    rows = []
    for name, digest in recorded.items():
        kept, made = original / name, new / name
        if not made.is_file():
            rows.append(Row(name, False, "not written by the rerun"))
            continue
        now = sha256_file(kept) if kept.is_file() else None
        identical = sha256_file(made) == digest
        if now != digest:
            state = "deleted" if now is None else f"altered (now {now})"
            rerun_says = "the rerun's is" if identical else "the rerun's is not"
            how = f"original {state} since the run; recorded {digest}; {rerun_says} identical"
            rows.append(Row(name, False, how))
            continue
        outcome = compare_files(kept, made, identical=identical)
        rows.append(Row(name, outcome.match, outcome.how))
    for extra in sorted(_files_under(new) - recorded.keys() - {MANIFEST}):
        rows.append(Row(extra, False, "written by the rerun only"))
    return rows


def _files_under(folder: Path) -> set[str]:
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    }


def format_rows(title: str, rows: list[Row]) -> str:
    """Return a plain-text table: file, ``match``/``MISMATCH``, how it was judged.

    Examples
    --------
    >>> print(format_rows("outputs", [Row("a.csv", True, "identical")]))
    outputs
      a.csv  match     identical
    """
    width = max((len(r.name) for r in rows), default=0)
    lines = [title]
    for r in rows:
        lines.append(f"  {r.name:<{width}}  {'match' if r.match else 'MISMATCH':<8}  {r.how}")
    return "\n".join(lines)
