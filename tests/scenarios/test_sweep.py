"""Sweeps: the grid, the cache by scenario hash, resuming, the pool and its failures."""

from __future__ import annotations

import itertools
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import talentplan as tp
from talentplan.errors import InstanceValidationError, OptionError, ParameterPathError
from talentplan.scenarios.executors import LocalPool, Outcome
from talentplan.scenarios.grid import make_grid, parse_range
from talentplan.scenarios.sweep import ROW_FILE, SCENARIOS, sweep

SCALES = [0.25, 0.5, 0.75, 1.0, 1.25, 1.5]
OPTIONS = {"mip_gap": 1e-3, "time_limit": 60.0}


@pytest.fixture(scope="module")
def qingyuan():
    return tp.load_instance("qingyuan")


@pytest.fixture(scope="module")
def budget_sweep(qingyuan, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    return sweep(qingyuan, out, budget_scale=SCALES, workers=2, **OPTIONS)


def row_files(folder: Path) -> dict[str, int]:
    return {p.parent.name: p.stat().st_mtime_ns for p in (folder / SCENARIOS).glob(f"*/{ROW_FILE}")}


@pytest.mark.slow
def test_one_row_per_scale_with_the_plan_kept_on_disk(budget_sweep, qingyuan):
    table = budget_sweep.table
    assert list(table["budget_scale"]) == SCALES
    assert (table["status"] == "optimal").all()
    assert (table["objective_name"] == "talent_index").all()
    assert set(table["reused"]) == {False} and set(table["attempts"]) == {1}
    for column in ["bound", "gap", "simulated_objective", "build_seconds", "solve_seconds"]:
        assert table[column].notna().all(), column
    programs = [f"spend_program:{p}" for p in qingyuan.programs["program"]]
    counties = [f"spend_county:{c}" for c in qingyuan.counties["county"]]
    assert set(programs + counties) <= set(table.columns)
    # Spend by program and by county are two splits of the same total.
    total = table["spend_total"].to_numpy()
    np.testing.assert_allclose(table[programs].sum(axis=1), total, rtol=1e-9)
    by_county = table[[c for c in table.columns if c.startswith("spend_county:")]]
    np.testing.assert_allclose(by_county.sum(axis=1), total, rtol=1e-9)
    # Each plan is on disk and reads back as the solve wrote it.
    plan = budget_sweep.plan(3)
    assert plan.objective == pytest.approx(table["objective"].iloc[3], rel=1e-12)
    assert plan.allocation["cost"].sum() == pytest.approx(total[3], rel=1e-9)
    final = plan.talent[plan.talent["year"] == plan.talent["year"].max()]
    assert final["useful"].sum() == pytest.approx(table["useful_final"].iloc[3], rel=1e-9)
    on_disk = pd.read_csv(budget_sweep.folder / "sweep.csv")
    assert list(on_disk["objective"]) == pytest.approx(list(table["objective"]), rel=1e-12)


@pytest.mark.slow
def test_more_budget_never_lowers_the_optimum(budget_sweep, qingyuan):
    table = budget_sweep.table
    # The plan of a smaller budget is admissible under a larger one, so the larger
    # budget's bound is at least the smaller budget's plan value, for every pair.
    for i, j in itertools.combinations(range(len(table)), 2):
        assert table["bound"].iloc[j] >= table["objective"].iloc[i] - 1e-6, (i, j)
    # and the sweep does see the budget matter: six times the money buys more talent.
    assert table["objective"].iloc[-1] > table["objective"].iloc[0] * (1 + 1e-3)
    # No plan breaks its budget: spend over all years is at most the scaled budgets.
    budget = qingyuan.budgets["amount"].sum()
    assert (table["spend_total"] <= table["budget_scale"] * budget * (1 + 1e-9)).all()


@pytest.mark.slow
def test_a_rerun_solves_nothing(budget_sweep, qingyuan):
    before = row_files(budget_sweep.folder)
    assert len(before) == len(SCALES)
    again = sweep(qingyuan, budget_sweep.folder, budget_scale=SCALES, workers=2, **OPTIONS)
    assert again.summary["solved"] == 0 and again.summary["reused"] == len(SCALES)
    assert set(again.table["reused"]) == {True}
    assert row_files(budget_sweep.folder) == before
    pd.testing.assert_series_equal(again.table["objective"], budget_sweep.table["objective"])


@pytest.mark.slow
def test_a_sweep_resumes_with_only_the_scenarios_missing(budget_sweep, qingyuan, tmp_path):
    out = tmp_path / "resume"
    shutil.copytree(budget_sweep.folder, out)
    gone = list(budget_sweep.table["folder"].iloc[[1, 4]])
    for folder in gone:
        (out / folder / ROW_FILE).unlink()
    kept = {k: v for k, v in row_files(out).items()}
    resumed = sweep(qingyuan, out, budget_scale=SCALES, workers=2, **OPTIONS)
    assert resumed.summary["solved"] == 2 and resumed.summary["reused"] == 4
    assert list(resumed.table["reused"]) == [True, False, True, True, False, True]
    after = row_files(out)
    assert {k: after[k] for k in kept} == kept  # the rows kept were not rewritten
    # Solved again with one thread: the same plans.
    np.testing.assert_allclose(resumed.table["objective"], budget_sweep.table["objective"])


@pytest.mark.slow
def test_a_stopped_sweep_keeps_what_finished_and_the_next_run_does_the_rest(qingyuan, tmp_path):
    scales = SCALES[:4]
    stop = threading.Event()

    def stop_after_two(p):
        if p.done >= 2:
            stop.set()

    first = sweep(
        qingyuan,
        tmp_path,
        budget_scale=scales,
        workers=1,
        stop=stop,
        progress=stop_after_two,
        **OPTIONS,
    )
    assert first.status.value == "interrupted"
    done = int((first.table["status"] == "optimal").sum())
    assert done >= 2 and (first.table["status"] == "skipped").sum() == len(scales) - done
    assert len(row_files(tmp_path)) == done
    second = sweep(qingyuan, tmp_path, budget_scale=scales, workers=1, **OPTIONS)
    assert second.status.value == "optimal"
    assert second.summary["reused"] == done
    assert second.summary["solved"] == len(scales) - done
    assert len(row_files(tmp_path)) == len(scales)
    assert not list(tmp_path.rglob(".*tmp*"))  # nothing half-written left behind


@pytest.mark.slow
def test_two_workers_give_what_one_worker_gives(budget_sweep, qingyuan, tmp_path):
    one = sweep(qingyuan, tmp_path, budget_scale=SCALES[::2], workers=1, **OPTIONS)
    two = budget_sweep.table.iloc[::2].reset_index(drop=True)
    columns = [c for c in two.columns if c == "objective" or c.startswith("spend_")]
    columns += ["bound", "status", "key", "useful_final"]
    pd.testing.assert_frame_equal(one.table[columns], two[columns])


@pytest.mark.slow
def test_other_axes_and_dotted_parameters_become_columns(qingyuan, tmp_path):
    res = sweep(
        qingyuan,
        tmp_path,
        objective=["talent_index", "equity"],
        params={"scenario.discount_rate": ["0.03", "0.030"]},
        workers=2,
        **OPTIONS,
    )
    table = res.table
    assert list(table.columns[:5]) == [
        "scenario",
        "budget_scale",
        "objective_name",
        "min_coverage",
        "scenario.discount_rate",
    ]
    assert list(table["objective_name"]) == ["talent_index"] * 2 + ["equity"] * 2
    # 0.03 and 0.030 make the same instance: one solve each objective, one folder each.
    assert res.summary["solved"] == 4 and len(row_files(tmp_path)) == 2
    assert table["key"].iloc[0] == table["key"].iloc[1] != table["key"].iloc[2]
    assert res.plan(0).summary["objective_name"] == "talent_index"
    assert res.plan(2).summary["objective_name"] == "equity"
    base = tp.solve(qingyuan, mip_gap=1e-3, threads=1)
    assert table["objective"].iloc[0] != pytest.approx(base.objective, rel=1e-6)


def test_bad_paths_ranges_and_values_are_named_before_any_solve(qingyuan, tmp_path):
    with pytest.raises(ParameterPathError, match=r"no column 'unit_cst'.*did you mean 'unit_cost'"):
        sweep(qingyuan, tmp_path, params={"programs.cash_subsidy.unit_cst": [1, 2]})
    with pytest.raises(ParameterPathError, match="no row of 'programs' has the key 'nope'"):
        sweep(qingyuan, tmp_path, params={"programs.nope.unit_cost": [1, 2]})
    with pytest.raises(ParameterPathError, match="no table 'progams'"):
        sweep(qingyuan, tmp_path, params={"progams.x.unit_cost": [1]})
    with pytest.raises(InstanceValidationError, match="discount_rate"):
        sweep(qingyuan, tmp_path, params={"scenario.discount_rate": [0.03, 2.0]})
    for text, problem in [("1:2", "2 parts"), ("1:2:0", "at least 1"), ("a:b:3", "numbers")]:
        with pytest.raises(OptionError, match=problem) as err:
            parse_range("budget_scale", text)
        assert err.value.option == "budget_scale" and "START:STOP:N" in err.value.expected
    with pytest.raises(OptionError) as err:
        sweep(qingyuan, tmp_path, budget_scale=[1.0, -0.5])
    assert err.value.option == "budget_scale"
    with pytest.raises(OptionError, match="a value repeats"):
        make_grid(qingyuan, budget_scale=[1.0, 1.0])
    with pytest.raises(OptionError) as err:
        sweep(qingyuan, tmp_path, objective=["talent_index", "welfare"])
    assert err.value.option == "objective"
    with pytest.raises(OptionError) as err:
        sweep(qingyuan, tmp_path, workers=0)
    assert err.value.option == "workers"
    assert not (tmp_path / SCENARIOS).exists()


# --- the pool: a worker that dies ---------------------------------------------------------


def die_or_double(task: tuple[int, str]) -> int:
    """Double the number; die instead when told to (always, or once per marker file)."""
    n, how = task
    if how == "always":
        os._exit(7)
    if how.startswith("once:"):
        marker = Path(how[5:])
        if not marker.exists():
            marker.touch()
            os._exit(7)
    if how == "raise":
        raise ValueError("bad task")
    return 2 * n


@pytest.mark.slow
def test_a_task_whose_worker_dies_is_run_once_more_and_then_recorded_as_failed(tmp_path):
    tasks = [(0, ""), (1, "always"), (2, ""), (3, f"once:{tmp_path / 'marker'}"), (4, "raise")]
    outcomes = {o.index: o for o in LocalPool(2).run(die_or_double, tasks)}
    assert sorted(outcomes) == [0, 1, 2, 3, 4]  # every task once, none lost or repeated
    assert outcomes[0].value == 0 and outcomes[2].value == 4
    assert outcomes[1].value is None and outcomes[1].attempts >= 2
    assert "died twice" in (outcomes[1].error or "")
    assert outcomes[3].value == 6 and outcomes[3].attempts >= 2  # died once, then ran
    # A task that raises is not run again for it (only if lost beside a dying task).
    assert outcomes[4].value is None
    assert "ValueError: bad task" in (outcomes[4].error or "")


def test_a_stopped_pool_returns_at_once_and_starts_nothing():
    stop = threading.Event()
    stop.set()
    assert list(LocalPool(1).run(die_or_double, [(1, "")], stop=stop)) == []


class LosesOneTask:
    """An executor that runs tasks in this process and reports one as lost twice."""

    workers = 1

    def __init__(self, lost: int | None) -> None:
        self.lost = lost
        self.ran: list[int] = []

    def run(self, fn, tasks, *, stop=None):
        for n, task in enumerate(tasks):
            if n == self.lost:
                yield Outcome(n, None, "its worker process died twice", 2)
                continue
            self.ran.append(n)
            yield Outcome(n, fn(task))


@pytest.mark.slow
def test_a_failed_scenario_is_recorded_with_its_reason_and_tried_again_next_run(qingyuan, tmp_path):
    scales = [0.5, 1.0]
    first = sweep(qingyuan, tmp_path, budget_scale=scales, executor=LosesOneTask(1), **OPTIONS)
    table = first.table
    assert list(table["status"]) == ["optimal", "failed"]
    assert table["reason"].iloc[1] == "its worker process died twice"
    assert table["attempts"].iloc[1] == 2 and table["folder"].iloc[1] == ""
    assert first.status.value == "error" and first.summary["failed"] == 1
    with pytest.raises(FileNotFoundError, match="no plan"):
        first.plan(1)
    again = LosesOneTask(None)
    second = sweep(qingyuan, tmp_path, budget_scale=scales, executor=again, **OPTIONS)
    assert len(again.ran) == 1  # only the failed scenario is run; the done one is read back
    assert list(second.table["status"]) == ["optimal", "optimal"]
    assert list(second.table["reused"]) == [True, False]
