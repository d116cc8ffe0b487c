"""``manifest.json``: what a run read, with what, and what it wrote (no command line here).

The record every ``--out`` folder ends with (:mod:`talentplan.cli.manifest` writes it
for the commands; :mod:`talentplan.web.jobs` for a scenario solved on the what-if page)
and ``talentplan replicate`` reads back. It records:

- ``command``: the command's name, its normalised argument list (every option spelt
  out by its long flag, values as given, arguments first) and the folder it ran in;
  ``talentplan NAME ARGS...`` run there repeats the run;
- ``solver_options`` and ``seed`` (the draws' seed, a synthetic instance's seed, or
  HiGHS's seed from ``summary.json``), where the command has them;
- ``versions`` (:func:`talentplan.solver.api.versions`), ``platform`` and ``created``
  (UTC);
- ``inputs``: the sha256 of every file read: a bundled instance's files (under
  ``talentplan/data/bundled/NAME``), a folder's files, a workbook, the response
  parameter file a scenario refers to, ``--params`` and ``--plan`` files;
- ``outputs``: the sha256 of every file the command wrote (paths relative to
  ``--out``).

Why in ``report``: the manifest describes a result's files (the set
:data:`~talentplan.report.result.RESULT_FILES` names) and records the solver's versions
(:func:`talentplan.solver.api.versions`), so it sits at the result's layer, above
``solver`` and ``data`` (it resolves instances as ``load_instance`` does), and below
both faces that write it: ``cli`` (which adds what it reads from typer's context) and
``web`` (which may not import ``cli``). Nothing here knows typer.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from talentplan.errors import OptionError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "InputFiles",
    "forget_manifest",
    "input_files",
    "manifest_record",
    "output_hashes",
    "platform_record",
    "read_manifest",
    "run_inputs",
    "sha256_file",
]

MANIFEST = "manifest.json"
"""Name of the manifest in an ``--out`` folder."""

FORMAT = "talentplan.manifest"
FORMAT_VERSION = 1

INPUT_OPTIONS = ("params", "plan")
"""Options (Python names) whose value is an input file to hash, beside the instance."""


def sha256_file(path: Path) -> str:
    """Return the sha256 hex digest of the file ``path``, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class InputFiles:
    """The files one input argument stands for.

    Attributes
    ----------
    argument
        What names them: ``instance``, ``instance: response_parameters``, ``--params``.
    given
        The value as given on the command line (or in ``scenario.toml``).
    kind
        ``bundled``, ``folder``, ``workbook``, ``file``, ``synthetic`` or ``missing``.
    root
        The folder or file they were found at (absolute); empty for ``synthetic``.
    files
        Name (relative to ``root``'s folder, or the file's name) -> path.
    """

    argument: str
    given: str
    kind: str
    root: str
    files: dict[str, Path]

    def hashes(self) -> dict[str, str]:
        """Return name -> sha256 of every file."""
        return {name: sha256_file(path) for name, path in self.files.items()}


def _folder_files(folder: Path) -> dict[str, Path]:
    """Return the visible regular files directly in ``folder``, by name, sorted."""
    return {
        p.name: p for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")
    }


def _workbook_reference(book: Path) -> str:
    """Return the ``response_parameters`` of a workbook's scenario sheet ("" if none)."""
    import openpyxl

    from talentplan.data.workbook import SCENARIO_SHEET

    try:
        wb = openpyxl.load_workbook(book, read_only=True, data_only=True)
    except Exception:  # an unreadable workbook was refused when it was loaded
        return ""
    try:
        if SCENARIO_SHEET not in wb.sheetnames:
            return ""
        for row in wb[SCENARIO_SHEET].iter_rows(values_only=True):
            if row and row[0] == "response_parameters" and len(row) > 1 and row[1]:
                return str(row[1])
    finally:
        wb.close()
    return ""


def _folder_reference(folder: Path) -> str:
    """Return the ``response_parameters`` of a folder's ``scenario.toml`` ("" if none)."""
    import tomllib

    try:
        data = tomllib.loads((folder / "scenario.toml").read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return ""
    ref = data.get("response_parameters", "")
    return ref if isinstance(ref, str) else ""


def input_files(given: str, cwd: Path) -> list[InputFiles]:
    """Resolve an instance argument as ``load_instance`` does, into the files it reads.

    Parameters
    ----------
    given
        The instance argument as given: a bundled name, a folder, its ``scenario.toml``,
        a workbook, or ``synthetic:N[:SEED]``.
    cwd
        The folder the command ran in (relative paths are read from there).

    Returns
    -------
    list of InputFiles
        The instance's files, then the response parameter file its scenario refers to
        (when that file lies outside the instance's folder).
    """
    from talentplan.data import bundled
    from talentplan.data.synthetic import SPEC_PREFIX

    if given.startswith(SPEC_PREFIX):
        return [InputFiles("instance", given, "synthetic", "", {})]
    path = cwd / given
    reference, base = "", path
    if path.is_dir() or (path.is_file() and path.name == "scenario.toml"):
        folder = path if path.is_dir() else path.parent
        root = str(folder.resolve())
        found = [InputFiles("instance", given, "folder", root, _folder_files(folder))]
        reference, base = _folder_reference(folder), folder
    elif path.is_file():
        kind = "workbook" if path.suffix.lower() == ".xlsx" else "file"
        found = [InputFiles("instance", given, kind, str(path.resolve()), {path.name: path})]
        if kind == "workbook":
            reference, base = _workbook_reference(path), path.parent
    elif given in bundled.available():
        folder = bundled.path(given)
        found = [InputFiles("instance", given, "bundled", str(folder), _folder_files(folder))]
        reference, base = _folder_reference(folder), folder
    else:
        return [InputFiles("instance", given, "missing", str(path.resolve()), {})]
    if reference:
        ref_path = (base / reference).resolve()
        inside = base.resolve() == ref_path.parent and ref_path.name in found[0].files
        if not inside:
            found.append(_file_input("instance: response_parameters", reference, ref_path))
    return found


def _file_input(argument: str, given: str, path: Path) -> InputFiles:
    files = {path.name: path} if path.is_file() else {}
    return InputFiles(argument, given, "file" if files else "missing", str(path.resolve()), files)


def run_inputs(params: Mapping[str, Any], cwd: Path) -> list[InputFiles]:
    """Every input of a command, from its parsed parameters (Python names -> values)."""
    found: list[InputFiles] = []
    if params.get("instance") is not None:
        found.extend(input_files(str(params["instance"]), cwd))
    for name in INPUT_OPTIONS:
        if params.get(name) is not None:
            given = str(params[name])
            found.append(_file_input(f"--{name}", given, cwd / given))
    return found


def _plain(value: Any) -> Any:
    from talentplan._files import json_ready

    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return json_ready(value)


def _expand(out_dir: Path, names: Iterable[str]) -> list[str]:
    """Return the files (relative POSIX paths) under ``out_dir`` that ``names`` name."""
    found: list[str] = []
    for name in names:
        path = out_dir / name
        if path.is_dir():
            found.extend(
                p.relative_to(out_dir).as_posix()
                for p in sorted(path.rglob("*"))
                if p.is_file() and not any(part.startswith(".") for part in p.parts)
            )
        elif path.is_file():
            found.append(name)
    return found


def output_hashes(out_dir: Path, names: Iterable[str]) -> dict[str, str]:
    """Return relative path -> sha256 of the files ``names`` (folders: their files)."""
    return {name: sha256_file(out_dir / name) for name in _expand(out_dir, names)}


def forget_manifest(out_dir: Path) -> None:
    """Remove an earlier run's manifest from ``out_dir`` before new files are written."""
    (out_dir / MANIFEST).unlink(missing_ok=True)


def platform_record() -> dict[str, str]:
    """Return the ``platform`` of a manifest: system, release, machine, Python, platform."""
    return {
        "system": platform.system(),
        "release": platform.release(),
        "machine": platform.machine(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
    }


def manifest_record(
    name: str,
    args: Sequence[str],
    options: Mapping[str, Any],
    cwd: Path,
    out_dir: Path,
    outputs: Iterable[str],
    inputs: Sequence[InputFiles],
    *,
    solver_options: Mapping[str, Any] | None = None,
    seed: Any = None,
) -> dict[str, Any]:
    """Describe one run: the manifest's fields, ready for ``json.dumps``.

    Parameters
    ----------
    name
        The command's name (``solve``): ``talentplan NAME ARGS...`` repeats the run.
    args
        Its normalised argument list (arguments first, every option by its long flag).
    options
        Its parameters by Python name (recorded as ``command.options``).
    cwd
        The folder it ran in (relative paths in ``args`` are read from there).
    out_dir
        Its ``--out`` folder.
    outputs
        The files (or folders) it wrote, relative to ``out_dir``; each is hashed.
    inputs
        The files it read (:func:`input_files`, :func:`run_inputs`); each is hashed.
    solver_options, seed
        The solver's options and the seed, where the command has them.
    """
    from talentplan.solver.api import versions

    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": {
            "name": name,
            "args": [str(a) for a in args],
            "cwd": str(cwd),
            "out": str(Path(os.path.abspath(out_dir))),
            "options": {k: _plain(v) for k, v in options.items()},
        },
        "solver_options": _plain(dict(solver_options or {})),
        "seed": seed,
        "versions": versions(),
        "platform": platform_record(),
        "inputs": [
            {
                "argument": i.argument,
                "given": i.given,
                "kind": i.kind,
                "root": i.root,
                "files": i.hashes(),
            }
            for i in inputs
        ],
        "outputs": output_hashes(out_dir, outputs),
    }


def read_manifest(path: Path) -> dict[str, Any]:
    """Read a manifest (the file, or the folder that holds it) and check its shape.

    Raises
    ------
    OptionError
        When the file is missing, is not JSON, or is not a talentplan manifest.
    """
    file = path / MANIFEST if path.is_dir() else path

    def bad(why: str) -> OptionError:
        return OptionError(
            f"{file}: {why}", option="manifest", value=str(file), expected="a manifest.json"
        )

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise bad("no such file") from None
    except (OSError, ValueError) as exc:
        raise bad(f"cannot read it as JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise bad(f'not a talentplan manifest (no "format": "{FORMAT}")')
    if data.get("format_version") != FORMAT_VERSION:
        raise bad(f"format_version {data.get('format_version')!r}; this talentplan reads 1")
    for key in ("command", "inputs", "outputs", "versions"):
        if key not in data:
            raise bad(f"the key {key!r} is missing")
    return data
