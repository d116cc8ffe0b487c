"""``manifest.json``: what a command ran on, with what, and what it wrote.

Every command that writes an ``--out`` folder (``solve``, ``frontier``,
``alternatives``, ``sensitivity``, ``sweep``, ``stochastic``, ``simulate --out``)
ends by writing ``manifest.json`` into it, after its other files (``summary.json``
marks a complete set of results; the manifest comes after that set, so a folder with a
manifest holds a complete set and its provenance). It records:

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

Inputs are hashed when the manifest is written, after the run: a file edited while the
command ran is recorded as edited.

A write into a folder that held an earlier manifest removes it first
(:func:`forget_manifest`), so a stale manifest never describes new files.
:mod:`talentplan.cli.replication` reads the manifest back and repeats the run.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from talentplan.errors import OptionError

__all__ = [
    "FORMAT",
    "MANIFEST",
    "InputFiles",
    "command_args",
    "forget_manifest",
    "input_files",
    "output_hashes",
    "read_manifest",
    "record_run",
    "sha256_file",
]

MANIFEST = "manifest.json"
"""Name of the manifest in an ``--out`` folder."""

FORMAT = "talentplan.manifest"
FORMAT_VERSION = 1

INPUT_OPTIONS = ("params", "plan")
"""Options (Python names) whose value is an input file to hash, beside the instance."""

OUT_OPTION = "out_dir"
"""Python name of every command's ``--out`` option."""


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


def _long_flag(param: Any) -> str:
    return max(param.opts, key=lambda o: (o.startswith("--"), len(o)))


def _text(value: Any) -> str:
    return os.fspath(value) if isinstance(value, os.PathLike) else str(value)


def command_args(ctx: typer.Context) -> list[str]:
    """Return the command's normalised argument list.

    Arguments come first, in order; then every option by its long flag with the value
    given or defaulted (an on/off flag by the spelling of its value, a switch only when
    on, an option with no value left out, a repeated option once per value).

    Examples
    --------
    >>> import typer
    >>> app = typer.Typer()
    >>> @app.command()
    ... def go(ctx: typer.Context, name: str, n: int = 2,
    ...        quiet: bool = typer.Option(False, "--quiet", "-q")):
    ...     print(command_args(ctx))
    >>> from typer.testing import CliRunner
    >>> print(CliRunner().invoke(app, ["-q", "x"]).output.strip())
    ['x', '--n', '2', '--quiet']
    """
    args: list[str] = []
    options: list[str] = []
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if param.param_type_name == "argument":
            if value is not None:
                values = value if isinstance(value, list | tuple) else [value]
                args.extend(_text(v) for v in values)
            continue
        if param.param_type_name != "option" or value is None:
            continue
        flag = getattr(param, "is_flag", False)
        if flag and param.secondary_opts:
            options.append(_long_flag(param) if value else param.secondary_opts[-1])
        elif flag:
            if value:
                options.append(_long_flag(param))
        elif param.multiple:
            for v in value:
                options.extend([_long_flag(param), _text(v)])
        else:
            options.extend([_long_flag(param), _text(value)])
    return args + options


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


def _seed(given: Any, ctx: typer.Context, out_dir: Path) -> Any:
    if given is not None:
        return given
    instance = str(ctx.params.get("instance") or "")
    if instance.startswith("synthetic:"):
        parts = instance.split(":")
        return int(parts[2]) if len(parts) == 3 and parts[2].lstrip("-").isdigit() else 0
    try:
        return json.loads((out_dir / "summary.json").read_text(encoding="utf-8")).get("seed")
    except (OSError, ValueError, AttributeError):
        return None


def build_manifest(
    ctx: typer.Context,
    out_dir: Path,
    outputs: Iterable[str],
    *,
    solver_options: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """Describe the run of the command of ``ctx`` that wrote ``outputs`` into ``out_dir``."""
    from talentplan.solver.api import versions

    cwd = Path.cwd()
    inputs = run_inputs(ctx.params, cwd)
    name = ctx.info_name or (ctx.command.name or "")
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": {
            "name": name,
            "args": command_args(ctx),
            "cwd": str(cwd),
            "out": str(Path(os.path.abspath(out_dir))),
            "options": {k: _plain(v) for k, v in ctx.params.items()},
        },
        "solver_options": _plain(dict(solver_options or {})),
        "seed": _seed(seed, ctx, out_dir),
        "versions": versions(),
        "platform": {
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
            "python_implementation": platform.python_implementation(),
            "platform": platform.platform(),
        },
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


def record_run(
    ctx: typer.Context,
    out_dir: Path,
    outputs: Iterable[str],
    *,
    solver_options: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> None:
    """Write ``manifest.json`` into ``out_dir`` for the command of ``ctx`` (after its files).

    A folder that cannot be written ends the command with exit code 4, as a result file
    would.
    """
    from talentplan._files import atomic_write_text
    from talentplan.cli.screen import ExitCode, fail

    manifest = build_manifest(ctx, out_dir, outputs, solver_options=solver_options, seed=seed)
    try:
        atomic_write_text(out_dir / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    except OSError as exc:
        fail("cannot write", f"--out {out_dir}: {exc}", ExitCode.OUTPUT)


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
