"""A scenario of the what-if page is a run ``talentplan replicate`` accepts and repeats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import talentplan as tp
from talentplan.cli import app as cli
from talentplan.cli.manifest import command_args
from talentplan.report.manifest import FORMAT, read_manifest, sha256_file
from talentplan.report.result import RESULT_FILES
from talentplan.solver.api import SolveOptions
from talentplan.web.app import create_app
from talentplan.web.jobs import _solve_options, solve_args
from talentplan.web.store import INSTANCE_FILE

from .conftest import start, wait


@pytest.mark.slow  # a solve on the page and the same solve by the command line, ~15 s
def test_replicate_reruns_a_page_scenario_and_every_output_matches(
    tmp_path: Path, qingyuan: tp.Instance, defaults: dict[str, str]
) -> None:
    form = {**defaults, "name": "cut", "mip_gap": "0.01", "budget_scale": "0.8"}
    with TestClient(create_app(qingyuan, tmp_path / "page", source="qingyuan")) as client:
        job = wait(client, start(client, form))
    assert job["state"] == "done", job
    folder = tmp_path / "page" / "scenarios" / job["key"]
    manifest = read_manifest(folder)
    assert manifest["format"] == FORMAT
    command = manifest["command"]
    assert command["name"] == "solve" and command["cwd"] == str(folder)
    args = command["args"]
    assert args[0] == INSTANCE_FILE
    assert args[args.index("--mip-gap") + 1] == "0.01"
    assert args[args.index("--threads") + 1] == "1"
    (instance,) = manifest["inputs"]
    assert instance["kind"] == "workbook"
    assert instance["files"] == {INSTANCE_FILE: sha256_file(folder / INSTANCE_FILE)}
    assert set(manifest["outputs"]) == set(RESULT_FILES)

    new = tmp_path / "again"
    done = CliRunner().invoke(cli, ["replicate", str(folder), "--out", str(new)])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    for name in RESULT_FILES:
        (row,) = [line for line in lines if line.strip().startswith(name)]
        assert " match " in row, row
    assert "MISMATCH" not in done.output and "every file matches" in done.output
    assert (new / "allocation.csv").read_bytes() == (folder / "allocation.csv").read_bytes()
    # The command line recorded the very arguments the page wrote (but --out).
    rerun = json.loads((new / "manifest.json").read_text())["command"]
    out = args.index("--out")
    assert rerun["args"][:out] + rerun["args"][out + 2 :] == args[:out] + args[out + 2 :]


@pytest.mark.parametrize(
    "options",
    [
        SolveOptions(20.0, 0.01, 1, "talent_index"),
        SolveOptions(None, 1e-4, None, None, step_values=True, warm_start=False, build="arrays"),
    ],
)
def test_the_pages_solve_arguments_are_those_talentplan_solve_records(
    options: SolveOptions,
) -> None:
    # The web layer cannot import the command (cli > web), so it spells the command's
    # options itself, twice: as flags and as Python names. Both must be what the command
    # parses and records; an option added to ``talentplan solve`` fails here until the
    # page spells it too.
    args = solve_args(options, Path("/s/k"))
    command = typer.main.get_command(cli).commands["solve"]  # type: ignore[attr-defined]
    ctx = command.make_context("solve", list(args))
    assert command_args(ctx) == args
    params = {**ctx.params, "out_dir": str(ctx.params["out_dir"])}
    assert params == _solve_options(options, Path("/s/k"))
