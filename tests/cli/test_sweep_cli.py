"""``talentplan sweep``: its files, the cache across runs, bad options and interrupts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from talentplan.cli import app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

runner = CliRunner()
FAST = ["--mip-gap", "0.01", "--time-limit", "30", "--workers", "1"]


@pytest.mark.slow
def test_sweep_writes_the_table_and_one_plan_folder_per_scenario(tmp_path: Path) -> None:
    out = tmp_path / "o"
    args = ["sweep", "qingyuan", "--budget-scale", "0.5:1:2", "--out", str(out), *FAST]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    files = ["manifest.json", "scenarios", "summary.json", "sweep.csv", "sweep.parquet"]
    assert sorted(p.name for p in out.iterdir()) == files
    table = pd.read_csv(out / "sweep.csv", keep_default_na=False)
    assert list(table["budget_scale"]) == [0.5, 1.0]
    assert list(table["status"]) == ["optimal", "optimal"]
    for folder in table["folder"]:
        # What `talentplan solve --out` writes, plus the scenario's row.
        files = sorted(p.name for p in (out / folder).iterdir())
        assert {"allocation.csv", "talent.csv", "summary.json", "plan.xlsx"} <= set(files)
        assert "report.html" not in files  # `talentplan report` draws it on demand
        assert "row.json" in files
    drawn = runner.invoke(app, ["report", str(out / table["folder"][0])])
    assert drawn.exit_code == 0 and (out / table["folder"][0] / "report.html").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["command"] == "sweep" and summary["solved"] == 2
    # The same command again solves nothing.
    again = runner.invoke(app, [*args, "-q"], catch_exceptions=False)
    assert again.exit_code == 0 and again.output == ""
    summary = json.loads((out / "summary.json").read_text())
    assert summary["solved"] == 0 and summary["reused"] == 2
    # A folder of another command's results is refused.
    solved = tmp_path / "solved"
    assert runner.invoke(app, ["solve", "qingyuan", "--out", str(solved), "-q"]).exit_code == 0
    refused = runner.invoke(app, ["sweep", "qingyuan", "--out", str(solved), "-q"])
    assert refused.exit_code == 4 and "talentplan solve" in refused.output


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        ("--budget-scale", "1:2", "--budget-scale 1:2: expected START:STOP:N"),
        ("--budget-scale", "0.5:x:3", "--budget-scale 0.5:x:3: expected START:STOP:N"),
        ("--min-coverage", "0:1.5:2", "--min-coverage 1.5: expected a finite number >= 0"),
        ("--objective", "welfare", "--objective welfare: expected one of 'talent_index'"),
        ("--workers", "0", "--workers 0: expected a whole number >= 1"),
        ("--param", "scenario.discount_rate", "--param scenario.discount_rate: expected "),
        ("--param", "programs.nope.unit_cost=1,2", "no row of 'programs' has the key 'nope'"),
        ("--param", "scenario.discount_rate=0.03,5", "column 'discount_rate': expected a yearly"),
    ],
)
def test_bad_options_are_named_by_their_flags_and_create_nothing(
    tmp_path: Path, flag: str, value: str, expected: str
) -> None:
    out = tmp_path / "o"
    result = runner.invoke(app, ["sweep", "qingyuan", "--out", str(out), flag, value])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert not out.exists()


@pytest.mark.slow
def test_an_interrupt_keeps_the_scenarios_done_and_a_rerun_solves_the_rest(
    tmp_path: Path,
) -> None:
    out = tmp_path / "o"
    args = ["sweep", "qingyuan", "--budget-scale", "0.25:1.5:6", "--out", str(out), "-q", *FAST]
    env = {**os.environ, "COLUMNS": "80", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "talentplan", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    first_done = threading.Event()

    def watch() -> None:
        while proc.poll() is None and not first_done.is_set():
            if list(out.glob("scenarios/*/row.json")):
                first_done.set()
            first_done.wait(0.1)

    threading.Thread(target=watch, daemon=True).start()
    assert first_done.wait(300)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert "scenarios finished so far are kept" in stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["skipped"] >= 1
    done = 6 - summary["skipped"]
    rerun = subprocess.run(
        [sys.executable, "-m", "talentplan", *args], capture_output=True, text=True, env=env
    )
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["reused"] == done and summary["solved"] == 6 - done
