"""A 20-scenario sweep on a real Dask LocalCluster: a worker killed mid-sweep, and SIGINT.

Both must end with every scenario exactly once and the rows of the local-pool run: to
the last digit without model reuse (one HiGHS thread solves the same model the same way
on any worker), to the gap with it (each worker's next solve starts from its last plan,
and which worker solves what differs from run to run).
"""

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

import talentplan as tp
from talentplan.scenarios.executors import DaskExecutor
from talentplan.scenarios.sweep import ROW_FILE, SCENARIOS, SweepProgress, sweep

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")

pytestmark = pytest.mark.slow

N = 20
SCALES = [float(s) for s in np.linspace(0.5, 1.5, N)]
OPTIONS = {"mip_gap": 1e-3, "time_limit": 60.0}
COLUMNS = ["budget_scale", "status", "objective", "bound", "spend_total", "useful_final", "key"]
EXACT = ["budget_scale", "status", "key"]


def small() -> tp.Instance:
    """Three counties, three years: about a second a scenario."""
    return tp.datasets.synthetic(3, seed=1, n_years=3)


@pytest.fixture(scope="module")
def local_rows(tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    return sweep(small(), out, budget_scale=SCALES, workers=2, reuse=False, **OPTIONS).table[
        COLUMNS
    ]


def assert_same_to_the_gap(table, local) -> None:
    """Same scenarios and statuses; each plan within the other run's certified bound."""
    assert table[EXACT].equals(local[EXACT])
    gap = OPTIONS["mip_gap"]
    assert np.all(table["objective"] <= local["bound"] * (1 + 1e-9))
    assert np.all(local["objective"] <= table["bound"] * (1 + 1e-9))
    assert np.allclose(table["objective"], local["objective"], rtol=gap)


def rows_on_disk(folder: Path) -> list[str]:
    return sorted(p.parent.name for p in (folder / SCENARIOS).glob(f"*/{ROW_FILE}"))


def test_a_worker_killed_mid_sweep_loses_and_repeats_no_scenario(local_rows, tmp_path):
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster:
            with distributed.Client(cluster) as client:
                before = client.run(os.getpid)
                killed: list[tuple[int, int]] = []

                def kill_one(p: SweepProgress) -> None:
                    # Once a few scenarios are done and many remain, kill a worker
                    # process outright (its nanny starts a new one).
                    if not killed and p.done >= 4 and p.remaining >= 8:
                        pid = next(iter(before.values()))
                        os.kill(pid, signal.SIGKILL)
                        killed.append((pid, p.remaining))

                result = sweep(
                    small(),
                    tmp_path,
                    budget_scale=SCALES,
                    executor=DaskExecutor(client),
                    progress=kill_one,
                    reuse=False,
                    **OPTIONS,
                )
                client.wait_for_workers(2, timeout=60)
                after = client.run(os.getpid)
    assert killed, "the worker was never killed: the sweep finished too soon"
    assert killed[0][0] not in after.values()  # that process is gone; a new one replaced it
    table = result.table
    assert result.status.value == "optimal"
    assert result.summary["solved"] == N and result.summary["reused"] == 0
    assert table["key"].is_unique and len(table) == N
    assert rows_on_disk(tmp_path) == sorted(k[:16] for k in table["key"])
    assert table[COLUMNS].equals(local_rows)


def test_a_dask_sweep_stopped_by_sigint_resumes_with_only_what_was_missing(local_rows, tmp_path):
    folder = tmp_path / "small"
    tp.write_instance(small(), folder)
    out = tmp_path / "o"
    args = ["sweep", str(folder), "--budget-scale", "0.5:1.5:20", "--out", str(out), "-q"]
    args += ["--mip-gap", "0.001", "--time-limit", "60", "--dask-workers", "2"]
    env = {**os.environ, "COLUMNS": "80", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "talentplan", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    some_done = threading.Event()

    def watch() -> None:
        while proc.poll() is None and not some_done.is_set():
            if len(rows_on_disk(out)) >= 4:
                some_done.set()
            some_done.wait(0.05)

    threading.Thread(target=watch, daemon=True).start()
    assert some_done.wait(300)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "INFO" not in stderr  # Dask's log follows --verbose: its shutdown is not shown
    first = json.loads((out / "summary.json").read_text())
    assert first["status"] == "interrupted" and 1 <= first["skipped"] < N
    done = N - first["skipped"]
    assert len(rows_on_disk(out)) >= done  # a scenario in flight may have finished after
    rerun = subprocess.run(
        [sys.executable, "-m", "talentplan", *args], capture_output=True, text=True, env=env
    )
    assert rerun.returncode == 0, rerun.stderr
    second = json.loads((out / "summary.json").read_text())
    assert second["status"] == "optimal"
    assert second["reused"] + second["solved"] == N
    assert second["reused"] >= done and second["solved"] == N - second["reused"]
    table = pd.read_parquet(out / "sweep.parquet")
    assert table["key"].is_unique
    assert rows_on_disk(out) == sorted(k[:16] for k in table["key"])
    assert_same_to_the_gap(table[COLUMNS], local_rows)
