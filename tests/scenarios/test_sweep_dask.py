"""Sweeps on a Dask cluster: the same rows as the local pool, and failures by name."""

from __future__ import annotations

import pytest

import talentplan as tp
from talentplan.scenarios.executors import DaskExecutor
from talentplan.scenarios.sweep import sweep
from tests.scenarios.test_sweep import OPTIONS, die_or_double

# dask and distributed are in the dev extra: CI runs these tests (a skip would fail it).
distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")


@pytest.fixture(scope="module")
def cluster():
    # A worker that dies takes its task with it once; the second death is a failure,
    # as with the local pool.
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as local:
            with distributed.Client(local) as client:
                yield client


@pytest.mark.slow
def test_a_dask_sweep_gives_the_rows_of_the_local_pool(cluster, tmp_path):
    inst = tp.load_instance("qingyuan")
    scales = [0.5, 1.0]
    local = sweep(inst, tmp_path / "local", budget_scale=scales, workers=1, **OPTIONS)
    executor = DaskExecutor(cluster)
    assert executor.workers == 1
    remote = sweep(inst, tmp_path / "dask", budget_scale=scales, executor=executor, **OPTIONS)
    columns = ["status", "objective", "bound", "spend_total", "useful_final", "key"]
    assert remote.table[columns].equals(local.table[columns])
    assert remote.plan(1).objective == local.plan(1).objective
    again = sweep(inst, tmp_path / "dask", budget_scale=scales, executor=executor, **OPTIONS)
    assert again.summary["solved"] == 0 and again.summary["reused"] == 2


@pytest.mark.slow
def test_dask_outcomes_name_a_dead_worker_and_a_raising_task(cluster, tmp_path):
    tasks = [(1, ""), (2, "always"), (3, "raise")]
    outcomes = {o.index: o for o in DaskExecutor(cluster).run(die_or_double, tasks)}
    assert sorted(outcomes) == [0, 1, 2]
    assert outcomes[0].value == 2
    assert outcomes[1].value is None and "died" in (outcomes[1].error or "")
    assert outcomes[2].value is None and "ValueError: bad task" in (outcomes[2].error or "")


@pytest.mark.slow
def test_the_sweep_command_runs_on_a_scheduler_address(cluster, tmp_path):
    from typer.testing import CliRunner

    from talentplan.cli import app

    out = tmp_path / "o"
    args = ["sweep", "qingyuan", "--budget-scale", "0.5,1", "--out", str(out), "-q"]
    args += ["--mip-gap", "0.001", "--scheduler", cluster.scheduler.address]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = (out / "summary.json").read_text()
    assert '"workers": 1' in summary and '"solved": 2' in summary
