"""Sweep throughput: scenarios per minute on 1 and 2 workers, local pool and Dask.

Usage::

    python benchmarks/sweep_throughput.py [--instance NAME] [--scales START:STOP:N]
                                          [--gap G] [--time-limit S] [--out FILE]

Runs one budget sweep (default ``qingyuan`` over ``0.5:1.5:10``, gap 1e-3, one HiGHS
thread per solve) on six executors, one after the other, each into a new temporary
folder so that nothing is read back: the local process pool with 1 and 2 workers, a
Dask ``LocalCluster`` on loopback with 1 and 2 one-thread workers, and the local pool
with 1 and 2 workers without model reuse (every scenario built and loaded afresh).
Reported per run: wall seconds (the cluster's start included for Dask; it is timed
apart too), scenarios per minute, and the speed-up against the local pool with one
worker measured in the same run. The objectives of every run are checked against the
first (within the gap). The machines are shared and noisy: read the ratios of one run,
not the seconds across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

import talentplan as tp
from talentplan.scenarios.executors import DaskExecutor, Executor, LocalPool
from talentplan.scenarios.grid import parse_range
from talentplan.scenarios.sweep import sweep

RUNS: list[tuple[str, int, bool]] = [
    ("local", 1, True),
    ("local", 2, True),
    ("dask", 1, True),
    ("dask", 2, True),
    ("local", 1, False),
    ("local", 2, False),
]
"""(executor, workers, reuse) of each run, in the order they are made."""


def run_one(
    inst: tp.Instance,
    kind: str,
    workers: int,
    reuse: bool,
    scales: tuple[float, ...],
    gap: float,
    limit: float,
) -> dict[str, Any]:
    """Time one sweep on one executor; return its row."""
    start = time.perf_counter()
    if kind == "dask":
        executor: Executor = DaskExecutor.local(workers)
    else:
        executor = LocalPool(workers)
    ready = time.perf_counter() - start
    try:
        with tempfile.TemporaryDirectory() as folder:
            res = sweep(
                inst,
                folder,
                budget_scale=scales,
                executor=executor,
                mip_gap=gap,
                time_limit=limit,
                reuse=reuse,
            )
            table = res.table
    finally:
        if isinstance(executor, DaskExecutor):
            executor.close()
    seconds = time.perf_counter() - start
    return {
        "executor": kind,
        "workers": workers,
        "reuse": reuse,
        "scenarios": len(table),
        "seconds": seconds,
        "startup_seconds": ready,
        "per_minute": 60.0 * len(table) / seconds,
        "statuses": sorted(set(table["status"])),
        "solve_seconds": float(table["solve_seconds"].sum()),
        "objectives": table["objective"].to_numpy(dtype=float).tolist(),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print (and optionally write) its table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--instance", default="qingyuan")
    parser.add_argument("--scales", default="0.5:1.5:10")
    parser.add_argument("--gap", type=float, default=1e-3)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--out", type=Path, default=None, help="write the text table here")
    args = parser.parse_args(argv)
    scales = parse_range("--scales", args.scales)
    inst = tp.load_instance(args.instance)
    rows = []
    for kind, workers, reuse in RUNS:
        row = run_one(inst, kind, workers, reuse, scales, args.gap, args.time_limit)
        rows.append(row)
        print(
            f"{kind} x{workers} reuse={reuse}: {row['seconds']:.1f}s "
            f"({row['per_minute']:.1f}/min) {row['statuses']}",
            flush=True,
        )
    base = rows[0]
    for row in rows:
        row["speedup"] = base["seconds"] / row["seconds"]
        a, b = np.array(row["objectives"]), np.array(base["objectives"])
        row["max_rel_objective_difference"] = float(
            np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-10))
        )
    lines = [
        f"# sweep_throughput {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        f"# {args.instance}, {len(scales)} budget scales {args.scales}, gap {args.gap}, "
        f"one HiGHS thread per solve",
        "",
        "| executor | workers | reuse | wall s | of it start s | scenarios/min | speed-up "
        "| max rel. objective diff |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['executor']} | {r['workers']} | {'yes' if r['reuse'] else 'no'} "
            f"| {r['seconds']:.1f} | {r['startup_seconds']:.1f} | {r['per_minute']:.1f} "
            f"| {r['speedup']:.2f} | {r['max_rel_objective_difference']:.1e} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
        args.out.with_suffix(".json").write_text(
            json.dumps({"python": sys.version.split()[0], "runs": rows}, indent=1),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
