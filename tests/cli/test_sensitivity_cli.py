"""``talentplan sensitivity``: its files, options, folder checks and interrupts."""

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
FILES = ["manifest.json", "sensitivity.csv", "spend.csv", "summary.json"]
ROWS = ["-p", "subsidy:eng:inflow_log", "-p", "alliance:-:graduate_retention"]


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "talentplan", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=600,
    )


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("instances") / "tiny"
    tp.write_instance(tiny_instance(n_years=1, budget=60.0), folder)
    return folder


@pytest.mark.slow
def test_sensitivity_writes_its_tables_and_summary(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "sens"
    args = [*ROWS, "--factor", "0.4", "--mip-gap", "0", "--out", str(out)]
    done = command("sensitivity", str(tiny), *args)
    assert done.returncode == 0, done.stderr
    assert "Sensitivity of the plan" in done.stdout
    assert "sensitivity.csv, spend.csv, summary.json" in done.stdout
    assert names(out) == FILES
    summary = json.loads((out / "summary.json").read_text())
    assert summary["command"] == "sensitivity"
    assert summary["status"] == "optimal"
    assert summary["scales"] == [0.6, 1.4] and summary["by"] == ["program"]
    table = pd.read_csv(out / "sensitivity.csv", keep_default_na=False)
    assert (
        list(table["key"]) == ["subsidy:eng:inflow_log"] * 2 + ["alliance:-:graduate_retention"] * 2
    )
    same = tp.sensitivity(
        tp.load_instance(str(tiny)),
        factor=0.4,
        parameters=["subsidy:eng:inflow_log", "alliance:-:graduate_retention"],
        mip_gap=0.0,
    ).table
    for column in ("objective", "plan_shift", "keep_loss"):
        assert np.allclose(table[column], same[column], atol=1e-6), column
    assert list(table["significant"]) == list(same["significant"])
    spend = pd.read_csv(out / "spend.csv", keep_default_na=False)
    assert set(spend["key"]) == set(table["key"])


def test_quiet_prints_nothing_and_by_county_adds_the_county(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "sens"
    args = ["-p", "subsidy:eng:inflow_log", "--by", "program,county", "--out", str(out), "-q"]
    result = runner.invoke(app, ["sensitivity", str(tiny), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    spend = pd.read_csv(out / "spend.csv", keep_default_na=False)
    assert list(spend.columns) == ["key", "scale", "program", "county", "base", "spend", "change"]


def test_sensitivity_keeps_to_its_own_folder(tiny: Path, tmp_path: Path) -> None:
    solved = tmp_path / "solved"
    assert runner.invoke(app, ["solve", str(tiny), "--out", str(solved), "-q"]).exit_code == 0
    before = {n: (solved / n).read_bytes() for n in names(solved)}
    refused = runner.invoke(app, ["sensitivity", str(tiny), "--out", str(solved), "-q"])
    assert refused.exit_code == 4
    assert "holds the results of 'talentplan solve'" in refused.output
    assert {n: (solved / n).read_bytes() for n in names(solved)} == before


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        ("--factor", "0", "--factor 0.0: expected a finite number > 0 and < 1"),
        ("--factor", "1.5", "--factor 1.5: expected a finite number > 0 and < 1"),
        ("--by", "county", "--by county: expected one of 'program', 'program,county'"),
        ("--mip-gap", "2", "--mip-gap 2.0: expected a finite number >= 0 and < 1"),
        ("--time-limit", "0", "--time-limit 0.0: expected a finite number > 0"),
        ("--threads", "0", "--threads 0: expected a whole number >= 1"),
        ("--parameter", "centre:eng:inflow", "--parameter centre:eng:inflow: expected a row"),
    ],
)
def test_bad_options_are_named_by_their_flags_and_create_nothing(
    tiny: Path, tmp_path: Path, flag: str, value: str, expected: str
) -> None:
    out = tmp_path / "o"
    result = runner.invoke(app, ["sensitivity", str(tiny), "--out", str(out), flag, value])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert not out.exists()


@pytest.mark.slow
def test_an_interrupt_writes_the_rows_so_far_marked_interrupted(tmp_path: Path) -> None:
    out = tmp_path / "o"
    args = ["sensitivity", "qingyuan", "--out", str(out), "-q", "--time-limit", "20"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "talentplan", "--verbose", *args],
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
    proc.send_signal(signal.SIGINT)
    assert proc.wait(120) == 130, "".join(lines)
    stderr = "".join(lines)
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert names(out) == FILES
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    table = pd.read_csv(out / "sensitivity.csv", keep_default_na=False)
    assert (table["status"] == "skipped").any()
    assert (table["status"].iloc[:2] != "skipped").all()
