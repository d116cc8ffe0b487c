"""manifest.json and ``talentplan replicate``: what a run records, and its rerun checked."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Optional

import pytest
import typer
from typer.testing import CliRunner

from talentplan.cli import app
from talentplan.cli.compare import compare_files
from talentplan.cli.manifest import command_args, input_files, read_manifest
from talentplan.cli.replication import check_inputs, compare_outputs, new_out_folder
from talentplan.cli.screen import ExitCode
from talentplan.data import bundled
from talentplan.errors import OptionError
from talentplan.report.result import RESULT_FILES

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the pieces, without solving ---------------------------------------------------------


def test_command_args_spell_every_option_by_its_long_flag() -> None:
    seen: list[list[str]] = []
    small = typer.Typer()

    @small.command()
    def go(
        ctx: typer.Context,
        name: str,
        tag: Optional[list[str]] = typer.Option(None, "--tag", "-t"),  # noqa: UP045, B008
        warm: bool = typer.Option(True, "--warm/--no-warm"),
        quiet: bool = typer.Option(False, "--quiet", "-q"),
        limit: Optional[float] = None,  # noqa: UP045
        gap: float = 1e-4,
    ) -> None:
        seen.append(command_args(ctx))

    done = CliRunner().invoke(small, ["-q", "x", "-t", "a", "--tag", "b", "--no-warm"])
    assert done.exit_code == 0, done.output
    assert seen == [["x", "--tag", "a", "--tag", "b", "--no-warm", "--quiet", "--gap", "0.0001"]]


def test_a_bundled_name_stands_for_the_bundled_files(tmp_path: Path) -> None:
    (found,) = input_files("qingyuan", tmp_path)
    folder = bundled.path("qingyuan")
    assert found.kind == "bundled" and found.root == str(folder)
    assert set(found.files) == {p.name for p in folder.iterdir() if p.is_file()}
    assert found.hashes()["budgets.csv"] == sha(folder / "budgets.csv")
    (spec,) = input_files("synthetic:3:7", tmp_path)
    assert spec.kind == "synthetic" and spec.files == {}


def test_a_parameter_file_outside_the_folder_is_an_input_of_its_own(tmp_path: Path) -> None:
    folder = tmp_path / "inst"
    shutil.copytree(bundled.path("qingyuan"), folder)
    toml = folder / "scenario.toml"
    text = toml.read_text(encoding="utf-8")
    assert 'response_parameters = ""' in text
    toml.write_text(text.replace('response_parameters = ""', 'response_parameters = "../p.json"'))
    (tmp_path / "p.json").write_text("{}")
    found = input_files("inst", tmp_path)
    assert [f.argument for f in found] == ["instance", "instance: response_parameters"]
    assert found[0].kind == "folder" and "scenario.toml" in found[0].files
    assert found[1].files == {"p.json": (tmp_path / "p.json").resolve()}


def test_check_inputs_names_a_changed_an_added_and_a_missing_file(tmp_path: Path) -> None:
    folder = tmp_path / "inst"
    folder.mkdir()
    for name in ("scenario.toml", "a.csv", "b.csv"):
        (folder / name).write_text(f"{name}\n")
    (entry,) = input_files("inst", tmp_path)
    recorded = entry.hashes()
    manifest = {
        "command": {"cwd": str(tmp_path)},
        "inputs": [
            {
                "argument": "instance",
                "given": "inst",
                "kind": "folder",
                "root": entry.root,
                "files": recorded,
            }
        ],
    }
    assert all(row.match for row in check_inputs(manifest))
    (folder / "a.csv").write_text("a.csv, edited\n")
    (folder / "b.csv").unlink()
    (folder / "c.csv").write_text("new\n")
    rows = {row.name.split(": ")[-1]: row for row in check_inputs(manifest)}
    assert rows["scenario.toml"].match
    assert not rows["a.csv"].match
    assert recorded["a.csv"] in rows["a.csv"].how and sha(folder / "a.csv") in rows["a.csv"].how
    assert not rows["b.csv"].match and "missing" in rows["b.csv"].how
    assert not rows["c.csv"].match and "added" in rows["c.csv"].how


def _pair(tmp_path: Path, name: str, a: str, b: str) -> tuple[Path, Path]:
    (tmp_path / "a").mkdir(exist_ok=True)
    (tmp_path / "b").mkdir(exist_ok=True)
    first, second = tmp_path / "a" / name, tmp_path / "b" / name
    first.write_text(a)
    second.write_text(b)
    return first, second


@pytest.mark.parametrize(
    ("name", "a", "b", "match", "says"),
    [
        ("t.csv", "k,v\nx,1.0\n", "k,v\nx,1.0000000001\n", True, "within tolerance"),
        ("t.csv", "k,v\nx,1.0\n", "k,v\nx,1.1\n", False, "v (1 rows)"),
        ("t.csv", "k,v\nx,1.0\n", "k,v\ny,1.0\n", False, "k (1 rows)"),
        ("t.csv", "k,solve_seconds\nx,1.0\n", "k,solve_seconds\nx,9.0\n", True, "timing"),
        ("t.csv", "k,v\nx,1\n", "k,v\nx,1\ny,2\n", False, "1 rows in the original"),
        (
            "summary.json",
            '{"objective": 5.0, "elapsed_seconds": 1, "versions": {"highs": "1"}}',
            '{"objective": 5.0, "elapsed_seconds": 7, "versions": {"highs": "2"}}',
            True,
            "field by field",
        ),
        (
            "summary.json",
            '{"a": {"objective": 5.0}}',
            '{"a": {"objective": 6.0}}',
            False,
            "a.objective",
        ),
        ("summary.json", '{"status": "optimal"}', '{"status": "interrupted"}', False, "status"),
        (
            "report.html",
            "<tr><th>seconds</th><td>build 0.18, solve 8.69</td></tr>",
            "<tr><th>seconds</th><td>build 0.41, solve 16.10</td></tr>",
            True,
            "timings are removed",
        ),
        ("report.html", "<td>546,593.63</td>", "<td>546,593.64</td>", False, "beyond"),
        ("plan.xlsx", "PK one", "PK two", True, "regenerated, not compared"),
        ("blob.bin", "one", "two", False, "sha256"),
    ],
)
def test_each_kind_of_file_is_compared_by_its_rule(
    tmp_path: Path, name: str, a: str, b: str, match: bool, says: str
) -> None:
    first, second = _pair(tmp_path, name, a, b)
    outcome = compare_files(first, second, identical=False)
    assert outcome.match is match and says in outcome.how, outcome


def test_parquet_tables_are_compared_as_tables_without_their_timings(tmp_path: Path) -> None:
    import pandas as pd

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = tmp_path / "a" / "sweep.parquet", tmp_path / "b" / "sweep.parquet"
    pd.DataFrame({"k": ["x"], "objective": [5.0], "seconds": [1.0]}).to_parquet(first)
    pd.DataFrame({"k": ["x"], "objective": [5.0], "seconds": [9.0]}).to_parquet(second)
    outcome = compare_files(first, second, identical=False)
    assert outcome.match and "timing" in outcome.how, outcome
    pd.DataFrame({"k": ["x"], "objective": [6.0], "seconds": [1.0]}).to_parquet(second)
    outcome = compare_files(first, second, identical=False)
    assert not outcome.match and "objective (1 rows)" in outcome.how, outcome


def test_a_plan_solved_to_optimality_must_be_bit_for_bit(tmp_path: Path) -> None:
    first, second = _pair(tmp_path, "allocation.csv", "k,v\nx,1.0\n", "k,v\nx,1.00000000001\n")
    assert compare_files(first, second, identical=False).match  # no summary: a table
    (tmp_path / "a" / "summary.json").write_text('{"status": "optimal"}')
    outcome = compare_files(first, second, identical=False)
    assert not outcome.match and "bit-for-bit" in outcome.how
    assert compare_files(first, second, identical=True).match


def test_the_rerun_never_writes_into_the_original(tmp_path: Path) -> None:
    original = tmp_path / "run"
    original.mkdir()
    for bad in (original, original / "inside"):
        with pytest.raises(OptionError, match="original run's folder"):
            new_out_folder(original, bad)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(OptionError, match="not an empty folder"):
        new_out_folder(original, tmp_path / "full")
    made = new_out_folder(original, None)
    assert made.parent == tmp_path and made.name.startswith("run.replica-") and made.is_dir()


def test_a_file_that_is_not_a_manifest_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"format": "something else"}')
    with pytest.raises(OptionError, match="not a talentplan manifest"):
        read_manifest(tmp_path)
    done = run("replicate", str(tmp_path / "manifest.json"))
    assert done.exit_code == ExitCode.BAD_INPUT and "not a talentplan manifest" in done.output
    done = run("replicate", str(tmp_path / "nothing.json"))
    assert done.exit_code == ExitCode.BAD_INPUT and "no such file" in done.output


# --- end to end ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path]:
    """``talentplan solve qingyuan`` twice, with its default options, into A and B."""
    root = tmp_path_factory.mktemp("runs")
    for name in ("A", "B"):
        done = run("solve", "qingyuan", "--out", str(root / name), "--quiet")
        assert done.exit_code == 0, done.output
    return root / "A", root / "B"


@pytest.mark.slow
def test_two_solves_write_byte_identical_tables(two_runs) -> None:
    a, b = two_runs
    assert json.loads((a / "summary.json").read_text())["status"] == "optimal"
    for name in ("allocation.csv", "talent.csv", "shadow_prices.csv", "budget_use.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.mark.slow
def test_replicate_of_a_fresh_run_matches_every_file(two_runs, tmp_path: Path) -> None:
    a, _ = two_runs
    before = {p.name: p.read_bytes() for p in a.iterdir()}
    new = tmp_path / "again"
    done = run("replicate", str(a / "manifest.json"), "--out", str(new))
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    for name in RESULT_FILES:
        (row,) = [line for line in lines if line.strip().startswith(name)]
        assert " match " in row, row
    assert "MISMATCH" not in done.output and "every file matches" in done.output
    assert (new / "allocation.csv").read_bytes() == before["allocation.csv"]
    assert {p.name: p.read_bytes() for p in a.iterdir()} == before  # never written over
    manifest = json.loads((new / "manifest.json").read_text())
    assert manifest["command"]["args"][manifest["command"]["args"].index("--out") + 1] == str(new)


@pytest.mark.slow
def test_a_tampered_output_is_reported(two_runs, tmp_path: Path) -> None:
    a, b = two_runs
    copy = tmp_path / "A"
    shutil.copytree(a, copy)
    manifest = read_manifest(copy)
    assert all(row.match for row in compare_outputs(manifest, copy, b))
    plan = copy / "allocation.csv"
    lines = plan.read_text().splitlines()
    head, first = lines[0].split(","), lines[1].split(",")
    at = head.index("cost")
    first[at] = str(float(first[at]) + 1)
    plan.write_text("\n".join([lines[0], ",".join(first), *lines[2:]]) + "\n")
    rows = {row.name: row for row in compare_outputs(manifest, copy, b)}
    assert not rows["allocation.csv"].match
    assert "altered" in rows["allocation.csv"].how and sha(plan) in rows["allocation.csv"].how
    assert all(row.match for name, row in rows.items() if name != "allocation.csv")
    (b / "extra.txt").write_text("x")
    try:
        rows = {row.name: row for row in compare_outputs(manifest, copy, b)}
        assert not rows["extra.txt"].match and "rerun only" in rows["extra.txt"].how
    finally:
        (b / "extra.txt").unlink()


@pytest.mark.slow
def test_an_altered_input_is_named_with_both_hashes_and_nothing_is_rerun(
    tmp_path: Path,
) -> None:
    folder, out = tmp_path / "inst", tmp_path / "out"
    assert run("export", "qingyuan", str(folder)).exit_code == 0
    done = run("solve", str(folder), "--out", str(out), "--mip-gap", "0.01", "--quiet")
    assert done.exit_code == 0, done.output
    manifest = json.loads((out / "manifest.json").read_text())
    (entry,) = manifest["inputs"]
    assert entry["kind"] == "folder" and entry["files"]["budgets.csv"] == sha(
        folder / "budgets.csv"
    )
    budgets = folder / "budgets.csv"
    header, first, *rest = budgets.read_text().splitlines()
    cells = first.split(",")
    cells[-1] = str(float(cells[-1]) * 0.5)
    budgets.write_text("\n".join([header, ",".join(cells), *rest]) + "\n")
    done = run("replicate", str(out / "manifest.json"))
    assert done.exit_code == ExitCode.MISMATCH, done.output
    (row,) = [line for line in done.output.splitlines() if "budgets.csv" in line]
    assert "MISMATCH" in row
    assert entry["files"]["budgets.csv"] in row and sha(budgets) in row
    assert "not rerun" in done.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inst", "out"]  # no rerun folder
