"""``manifest.json`` of the commands: the run of a typer command, recorded.

Every command that writes an ``--out`` folder (``solve``, ``frontier``,
``alternatives``, ``sensitivity``, ``sweep``, ``stochastic``, ``simulate --out``)
ends by writing ``manifest.json`` into it, after its other files (``summary.json``
marks a complete set of results; the manifest comes after that set, so a folder with a
manifest holds a complete set and its provenance). What it records, and the pieces
that know no command line (hashes, inputs, the record itself, reading it back), are in
:mod:`talentplan.report.manifest` (re-exported here); this module adds what is read
from typer's context: the normalised argument list (:func:`command_args`), the seed,
and the write at the end of a command (:func:`record_run`).

Inputs are hashed when the manifest is written, after the run: a file edited while the
command ran is recorded as edited.

A write into a folder that held an earlier manifest removes it first
(:func:`forget_manifest`), so a stale manifest never describes new files.
:mod:`talentplan.cli.replication` reads the manifest back and repeats the run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import typer

from talentplan.report.manifest import (
    FORMAT,
    FORMAT_VERSION,
    INPUT_OPTIONS,
    MANIFEST,
    InputFiles,
    forget_manifest,
    input_files,
    manifest_record,
    output_hashes,
    read_manifest,
    run_inputs,
    sha256_file,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "INPUT_OPTIONS",
    "MANIFEST",
    "InputFiles",
    "build_manifest",
    "command_args",
    "forget_manifest",
    "input_files",
    "output_hashes",
    "read_manifest",
    "record_run",
    "run_inputs",
    "sha256_file",
]

OUT_OPTION = "out_dir"
"""Python name of every command's ``--out`` option."""


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
    cwd = Path.cwd()
    return manifest_record(
        ctx.info_name or (ctx.command.name or ""),
        command_args(ctx),
        ctx.params,
        cwd,
        out_dir,
        outputs,
        run_inputs(ctx.params, cwd),
        solver_options=solver_options,
        seed=_seed(seed, ctx, out_dir),
    )


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
