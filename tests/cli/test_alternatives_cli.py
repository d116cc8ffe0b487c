"""``talentplan alternatives``: its files, options, folder checks and interrupts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import talentplan as tp
from talentplan.cli import app
from tests.model.tiny import tiny_instance

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("instances") / "tiny"
    tp.write_instance(tiny_instance(n_years=1, budget=60.0), folder)
    return folder


def test_alternatives_writes_its_table_and_summary(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "alt"
    args = ["--by", "program", "--slack", "0.02", "--mip-gap", "0", "--out", str(out)]
    result = run("alternatives", str(tiny), *args, "--quiet")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert names(out) == ["alternatives.csv", "manifest.json", "summary.json"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["command"] == "alternatives"
    assert summary["status"] == "optimal"
    assert summary["by"] == ["program"] and summary["slack"] == 0.02
    assert summary["solves"] == sum(summary["statuses"].values())
    table = pd.read_csv(out / "alternatives.csv")
    inst = tp.load_instance(str(tiny))
    assert sorted(table["program"]) == sorted(inst.programs["program"])
    same = tp.alternatives(inst, slack=0.02, by="program", mip_gap=0.0).table
    merged = table.merge(same, on="program", suffixes=("", "_api"))
    for column in ("optimal", "low", "high"):
        assert np.allclose(merged[column], merged[f"{column}_api"], atol=1e-6), column
    # without --quiet the table is shown, and the command names what it wrote
    shown = run("alternatives", str(tiny), *args)
    assert shown.exit_code == 0, shown.output
    assert "Near-optimal alternatives" in shown.stdout
    assert "alternatives.csv, summary.json" in shown.stdout


def test_alternatives_and_solve_keep_to_their_own_folders(tiny: Path, tmp_path: Path) -> None:
    solved = tmp_path / "solved"
    assert run("solve", str(tiny), "--out", str(solved), "--quiet").exit_code == 0
    before = {n: (solved / n).read_bytes() for n in names(solved)}
    refused = runner.invoke(app, ["alternatives", str(tiny), "--out", str(solved), "-q"])
    assert refused.exit_code == 4
    assert "holds the results of 'talentplan solve'" in refused.output
    assert {n: (solved / n).read_bytes() for n in names(solved)} == before
    alt = tmp_path / "alt"
    done = run("alternatives", str(tiny), "--by", "program", "--out", str(alt), "-q")
    assert done.exit_code == 0, done.output
    again = runner.invoke(app, ["solve", str(tiny), "--out", str(alt), "-q"])
    assert again.exit_code == 4 and "'talentplan alternatives'" in again.output


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        ("--slack", "-0.5", "--slack -0.5: expected a finite number >= 0 and < 1"),
        ("--slack", "1", "--slack 1.0: expected a finite number >= 0 and < 1"),
        ("--by", "county", "--by county: expected one of 'program', 'program,county'"),
        ("--mip-gap", "2", "--mip-gap 2.0: expected a finite number >= 0 and < 1"),
        ("--time-limit", "0", "--time-limit 0.0: expected a finite number > 0"),
    ],
)
def test_bad_options_are_named_by_their_flags_and_create_nothing(
    tiny: Path, tmp_path: Path, flag: str, value: str, expected: str
) -> None:
    out = tmp_path / "o"
    result = runner.invoke(app, ["alternatives", str(tiny), "--out", str(out), flag, value])
    assert result.exit_code == 2
    assert expected in result.output
    assert not out.exists()


def test_an_infeasible_instance_exits_1_and_explains(tmp_path: Path) -> None:
    folder = tmp_path / "poor"
    inst = tiny_instance(n_years=1, floors=(tp.PolicyFloor("centre everywhere", "centre", 2025),))
    budgets = inst.budgets.assign(amount=1.0)
    tp.write_instance(inst.replace_tables(budgets=budgets), folder)
    result = runner.invoke(app, ["alternatives", str(folder), "--out", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 1
    assert "infeasible" in result.output and "budget" in result.output
    assert not (tmp_path / "o" / "summary.json").exists()


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_writes_the_ranges_so_far_marked_interrupted(
    tmp_path: Path, signum: int
) -> None:
    out = tmp_path / "o"
    command = ["alternatives", "qingyuan", "--by", "program,county", "--out", str(out), "-q"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "talentplan", "--verbose", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "80", "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    resolving = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if "(3 of " in line:
                resolving.set()

    threading.Thread(target=read, daemon=True).start()
    assert resolving.wait(300), "".join(lines)
    proc.send_signal(signum)
    assert proc.wait(120) == 130, "".join(lines)
    stderr = "".join(lines)
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert names(out) == ["alternatives.csv", "manifest.json", "summary.json"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert 2 <= summary["solves"] < 2 * summary["groups"]
    table = pd.read_csv(out / "alternatives.csv", keep_default_na=False)
    assert (table["high_status"] == "skipped").any()
    assert (table["low"] <= table["optimal"] + 1e-6).all()
    assert (table["optimal"] <= table["high"] + 1e-6).all()
