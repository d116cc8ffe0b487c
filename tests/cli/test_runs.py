"""Every run safe and honest: the real command line in a subprocess.

Each case checks the exit code, the message, and the exact set of files left in
``--out`` and beside it. Interrupts send real signals to a running solve.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from talentplan.data import write_instance
from talentplan.report.result import RESULT_FILES
from tests.model.tiny import tiny_instance

ENV = {**os.environ, "COLUMNS": "80", "PYTHONUNBUFFERED": "1"}


def talentplan(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m talentplan ARGS`` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "talentplan", *args],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=cwd,
        timeout=600,
        check=False,
    )


def names(folder: Path) -> list[str]:
    """Every entry of ``folder``, hidden ones included, sorted."""
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("instances") / "tiny"
    write_instance(tiny_instance(n_years=2, budget=60.0), folder)
    return folder


@pytest.fixture(scope="module")
def solved(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("solved") / "out"
    run = talentplan("solve", str(tiny), "--out", str(out), "--quiet")
    assert run.returncode == 0, run.stderr
    return out


# --- output folders ----------------------------------------------------------------------


def test_a_finished_solve_leaves_exactly_its_files_with_ordinary_modes(solved: Path) -> None:
    assert names(solved) == sorted((*RESULT_FILES, "manifest.json"))
    assert names(solved.parent) == ["out"]
    summary = json.loads((solved / "summary.json").read_text())
    assert summary["command"] == "solve"
    for name in RESULT_FILES:
        assert stat.S_IMODE((solved / name).stat().st_mode) == 0o666 & ~_umask(), name


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@pytest.mark.slow
def test_quiet_prints_nothing_on_success(tiny: Path, tmp_path: Path) -> None:
    run = talentplan("solve", str(tiny), "--out", str(tmp_path / "o"), "--quiet")
    assert run.returncode == 0
    assert run.stdout == ""


@pytest.mark.parametrize("where", ["file", "under_a_file", "proc"])
def test_an_unwritable_out_is_refused_before_any_work(
    tiny: Path, tmp_path: Path, where: str
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("keep me")
    out = {
        "file": blocker,
        "under_a_file": blocker / "out",
        "proc": Path("/proc/talentplan-out"),
    }[where]
    started = time.perf_counter()
    run = talentplan("solve", str(tiny), "--out", str(out))
    assert run.returncode == 4, run.stderr
    assert "cannot write" in run.stderr and str(out) in run.stderr
    assert "Traceback" not in run.stderr
    assert names(tmp_path) == ["blocker"] and blocker.read_text() == "keep me"
    assert time.perf_counter() - started < 30  # refused before a solve, not after


def test_a_rejected_option_creates_no_out_and_names_the_flag(tiny: Path, tmp_path: Path) -> None:
    run = talentplan("solve", str(tiny), "--out", str(tmp_path / "o"), "--mip-gap", "2")
    assert run.returncode == 2
    assert "--mip-gap 2.0: expected a finite number >= 0 and < 1" in run.stderr
    assert names(tmp_path) == []


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        ("--time-limit", "0", "--time-limit 0.0: expected a finite number > 0"),
        ("--threads", "0", "--threads 0: expected a whole number >= 1"),
        ("--budget-scale", "-1", "--budget-scale -1.0: expected a finite number >= 0"),
        ("--objective", "nope", "--objective nope: expected one of 'talent_index'"),
    ],
)
def test_option_errors_use_the_command_lines_flags(
    tiny: Path, tmp_path: Path, flag: str, value: str, expected: str
) -> None:
    run = talentplan("solve", str(tiny), "--out", str(tmp_path / "o"), flag, value)
    assert run.returncode == 2
    assert expected in run.stderr
    assert names(tmp_path) == []


def test_bad_input_creates_no_out(tmp_path: Path) -> None:
    run = talentplan("solve", "no_such_place", "--out", str(tmp_path / "o"))
    assert run.returncode == 2 and "no_such_place" in run.stderr
    assert names(tmp_path) == []


def test_simulate_refuses_a_solve_folder_and_leaves_it_whole(solved: Path) -> None:
    before = {n: (solved / n).read_bytes() for n in names(solved)}
    plan = solved / "allocation.csv"
    run = talentplan(
        "simulate",
        str(solved.parent.parent / "instances" / "tiny"),
        "--plan",
        str(plan),
        "--out",
        str(solved),
    )
    assert run.returncode == 4
    assert "holds the results of 'talentplan solve'" in run.stderr
    assert {n: (solved / n).read_bytes() for n in names(solved)} == before


@pytest.mark.slow
def test_simulate_writes_a_self_describing_set(tiny: Path, solved: Path, tmp_path: Path) -> None:
    out = tmp_path / "scored"
    run = talentplan(
        "simulate", str(tiny), "--plan", str(solved / "allocation.csv"), "--out", str(out)
    )
    assert run.returncode == 0, run.stderr
    assert names(out) == ["manifest.json", "summary.json", "talent.csv"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["command"] == "simulate"
    assert summary["plan"] == str(solved / "allocation.csv") and len(summary["plan_sha256"]) == 64
    solve_summary = json.loads((solved / "summary.json").read_text())
    assert summary["objective"] == pytest.approx(solve_summary["simulated_objective"], rel=1e-9)
    again = talentplan("solve", str(tiny), "--out", str(out), "--quiet")
    assert again.returncode == 4 and "'talentplan simulate'" in again.stderr


@pytest.mark.slow
def test_frontier_writes_its_table_and_a_summary(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "front"
    run = talentplan("frontier", str(tiny), "--out", str(out), "--points", "2")
    assert run.returncode == 0, run.stderr
    assert names(out) == ["frontier.csv", "manifest.json", "summary.json"]
    assert json.loads((out / "summary.json").read_text())["command"] == "frontier"


def test_export_refuses_a_name_that_is_neither_folder_nor_workbook(tmp_path: Path) -> None:
    run = talentplan("export", "qingyuan", str(tmp_path / "plan.csv"))
    assert run.returncode == 4 and "plan.csv" in run.stderr and ".xlsx" in run.stderr
    assert names(tmp_path) == []


@pytest.mark.parametrize("target", ["folder", "missing/params.json", "params.txt"])
def test_calibrate_checks_its_output_file_before_estimating(tmp_path: Path, target: str) -> None:
    (tmp_path / "folder").mkdir()
    example = Path(__file__).resolve().parents[2] / "examples" / "calibration"
    run = talentplan(
        "calibrate",
        str(example / "panel.csv"),
        "--spec",
        str(example / "spec.toml"),
        "--out",
        str(tmp_path / target),
    )
    assert run.returncode == 4, run.stderr
    assert names(tmp_path) == ["folder"] and names(tmp_path / "folder") == []


@pytest.mark.slow
def test_a_temporary_folder_left_by_a_killed_write_goes_with_the_next(
    tiny: Path, tmp_path: Path
) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / ".talentplan-tmp-killed").mkdir()
    (out / ".talentplan-tmp-killed" / "allocation.csv").write_text("half")
    run = talentplan("solve", str(tiny), "--out", str(out), "--quiet")
    assert run.returncode == 0
    assert names(out) == sorted((*RESULT_FILES, "manifest.json"))


# --- interrupts --------------------------------------------------------------------------


def _copy_of(results: Path, out: Path) -> tuple[Path, dict[str, bytes]]:
    """Copy a finished set of results into ``out``; return it and the files' bytes."""
    out.mkdir()
    earlier = {n: (results / n).read_bytes() for n in RESULT_FILES}
    for n, data in earlier.items():
        (out / n).write_bytes(data)
    return out, earlier


def _start_long_solve(out: Path) -> tuple[subprocess.Popen[str], list[str]]:
    """Start a solve that runs for tens of seconds; return it once HiGHS has a plan."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "talentplan",
            "--verbose",
            "solve",
            "qingyuan",
            "--mip-gap",
            "0",
            "--out",
            str(out),
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    lines: list[str] = []
    built = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if "built" in line:
                built.set()

    threading.Thread(target=read, daemon=True).start()
    assert built.wait(120), "".join(lines)
    # HiGHS is compiling and solving now: it finds a first qingyuan plan within about a
    # second and needs tens of seconds to prove optimality at gap 0
    time.sleep(3.0)
    return proc, lines


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_writes_the_best_plan_marked_interrupted(
    solved: Path, tmp_path: Path, signum: int
) -> None:
    out, earlier = _copy_of(solved, tmp_path / "o")
    proc, lines = _start_long_solve(out)
    assert {n: (out / n).read_bytes() for n in RESULT_FILES} == earlier  # untouched so far
    proc.send_signal(signum)
    assert proc.wait(120) == 130, "".join(lines)
    stderr = "".join(lines)
    assert "interrupted" in stderr and "Traceback" not in stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert summary["instance"] == "qingyuan"
    assert summary["gap"] is None or summary["gap"] >= 0
    assert names(out) == sorted((*RESULT_FILES, "manifest.json"))
    assert names(tmp_path) == ["o"]


@pytest.mark.slow
def test_a_second_ctrl_c_quits_at_once_and_keeps_the_earlier_results(
    solved: Path, tmp_path: Path
) -> None:
    out, earlier = _copy_of(solved, tmp_path / "o")
    proc, _ = _start_long_solve(out)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(60) == 130
    assert {n: (out / n).read_bytes() for n in names(out)} == earlier
    assert names(tmp_path) == ["o"]


@pytest.mark.slow
def test_a_killed_solve_leaves_nothing_foreign(solved: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    proc, _ = _start_long_solve(out)
    proc.kill()
    proc.wait(60)
    assert names(tmp_path) in (["o"], [])
    if (tmp_path / "o").exists():
        assert names(out) == []


# --- what the screen shows ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["[bold]Qingcheng", "x[/bold]y", "[blink]31.67", "[budgets]"])
def test_markup_in_user_text_reaches_the_screen_verbatim(tmp_path: Path, text: str) -> None:
    plan = tmp_path / "plan.csv"
    plan.write_text(f"county,program,industry,year,quantity\n{text},one_stop_centre,,2025,1\n")
    run = talentplan("simulate", "qingyuan", "--plan", str(plan))
    assert run.returncode == 2
    assert repr(text) in run.stderr and "Traceback" not in run.stderr


def test_long_messages_are_not_wrapped(tmp_path: Path) -> None:
    county = "County_" + "x" * 120
    plan = tmp_path / "plan.csv"
    plan.write_text(f"county,program,industry,year,quantity\n{county},one_stop_centre,,2025,1\n")
    run = talentplan("simulate", "qingyuan", "--plan", str(plan))
    assert any(county in line for line in run.stderr.splitlines())


# --- semantics ---------------------------------------------------------------------------


def test_a_plan_that_gives_a_decision_twice_is_refused(solved: Path, tiny: Path) -> None:
    plan = solved.parent / "twice.csv"
    rows = (solved / "allocation.csv").read_text().splitlines()
    plan.write_text("\n".join([*rows, rows[1]]) + "\n")
    run = talentplan("simulate", str(tiny), "--plan", str(plan))
    assert run.returncode == 2
    assert f"row {len(rows) + 1}" in run.stderr and "twice (also row 2)" in run.stderr


def test_an_infeasible_scaled_budget_names_the_scaling(tmp_path: Path) -> None:
    run = talentplan("solve", "qingyuan", "--budget-scale", "0", "--out", str(tmp_path / "o"))
    assert run.returncode == 1
    text = (tmp_path / "o" / "infeasibility.txt").read_text()
    assert "--budget-scale" in text and "scaled by 0" in text
    assert names(tmp_path / "o") == ["infeasibility.txt"]


def test_a_synthetic_instance_too_large_for_memory_is_refused_at_once() -> None:
    started = time.perf_counter()
    run = talentplan("validate", "synthetic:100000000")
    assert run.returncode == 2
    assert "100,000,000 counties" in run.stderr and "GB" in run.stderr
    assert time.perf_counter() - started < 60


# --- the solver's own log and the gap warning ---------------------------------------------


@pytest.mark.slow
def test_solver_log_goes_to_stderr_and_leaves_stdout_alone(tiny: Path, tmp_path: Path) -> None:
    run = talentplan("solve", str(tiny), "--out", str(tmp_path / "o"), "--quiet", "--solver-log")
    assert run.returncode == 0, run.stderr
    assert "Presolving model" in run.stderr  # HiGHS's own words
    assert run.stdout == ""
    quiet = talentplan("solve", str(tiny), "--out", str(tmp_path / "q"), "--quiet")
    assert "Presolving model" not in quiet.stderr


@pytest.mark.slow
def test_the_array_build_gives_the_same_optimum_and_says_so(tiny: Path, tmp_path: Path) -> None:
    summaries = {}
    for build in ("pyomo", "arrays"):
        out = tmp_path / build
        run = talentplan("solve", str(tiny), "--out", str(out), "--quiet", "--build", build)
        assert run.returncode == 0, run.stderr
        summaries[build] = json.loads((out / "summary.json").read_text())
    assert summaries["arrays"]["build"] == "arrays"
    assert summaries["arrays"]["status"] == summaries["pyomo"]["status"] == "optimal"
    assert summaries["arrays"]["mip_objective"] == pytest.approx(
        summaries["pyomo"]["mip_objective"], rel=2e-4
    )


@pytest.mark.slow
def test_a_plan_stopped_early_says_its_gap_in_plain_words(tmp_path: Path) -> None:
    # synthetic(100) at 30 s for the whole command, solved whole (auto would decompose
    # it): the build, the seed plan and a few seconds of HiGHS, stopped long before a 1%
    # gap; the plan comes with a warning.
    out = tmp_path / "o"
    run = talentplan(
        "solve",
        "synthetic:100",
        "--method",
        "monolithic",
        "--time-limit",
        "30",
        "--quiet",
        "--out",
        str(out),
    )
    assert run.returncode == 0, run.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "time_limit"
    assert summary["gap"] is None or summary["gap"] > 0.01
    assert summary["gap_warning"].startswith("the plan may be")
    assert "warning: the plan may be" in run.stderr
    assert summary["warm_start"]["found"]
