"""What model reuse buys a budget sweep and the efficiency-equity frontier.

Usage::

    python benchmarks/sweep_reuse.py [--only NAME ...] [--scales START:STOP:N]
                                     [--points N] [--gap G] [--time-limit S] [--out FILE]

For each instance (default ``qingyuan`` and ``northern_guangdong``) it runs, one after
the other, a sweep over the budget scales (default ``0.6:1.4:9``) on one worker process
with ``reuse=False`` and then with ``reuse=True``, and the frontier of ``--points``
points (default 5) with ``reuse=False`` and then ``reuse=True``
(:mod:`talentplan.solver.reuse`). Each sweep writes into a new temporary folder, so
nothing is read back from an earlier run. Reported: wall seconds of each, their ratio
(without / with), how many solves started from the previous plan, and the largest
relative difference of the objectives between the two runs (it should be within the
gap). The machines are shared and noisy: compare the two columns of one run only.
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
from talentplan.scenarios.grid import parse_range
from talentplan.scenarios.sweep import sweep


def _starts(results: list[tp.AllocationResult]) -> int:
    """Solves that started from the previous scenario's plan or its integers."""
    return sum(r.summary["warm_start"]["method"].startswith("previous") for r in results)


def _max_rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-10)))


def bench_sweep(
    inst: tp.Instance, scales: tuple[float, ...], gap: float, limit: float
) -> dict[str, Any]:
    """Time the budget sweep without and with reuse (one worker each)."""
    out: dict[str, Any] = {"scenarios": len(scales)}
    objectives = {}
    for reuse in (False, True):
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            res = sweep(
                inst,
                folder,
                budget_scale=scales,
                workers=1,
                mip_gap=gap,
                time_limit=limit,
                reuse=reuse,
            )
            seconds = time.perf_counter() - start
            table = res.table
            plans = [res.plan(i) for i in range(len(table))]
        name = "reuse" if reuse else "rebuild"
        out[f"{name}_seconds"] = seconds
        out[f"{name}_statuses"] = sorted(set(table["status"]))
        out[f"{name}_solve_seconds"] = float(table["solve_seconds"].sum())
        out[f"{name}_previous_starts"] = _starts(plans)
        objectives[name] = table["objective"].to_numpy(dtype=float)
        print(f"  sweep {name}: {seconds:.1f}s {out[f'{name}_statuses']}", flush=True)
    out["ratio"] = out["rebuild_seconds"] / out["reuse_seconds"]
    out["max_rel_objective_difference"] = _max_rel(objectives["reuse"], objectives["rebuild"])
    return out


def bench_frontier(inst: tp.Instance, points: int, gap: float, limit: float) -> dict[str, Any]:
    """Time the frontier without and with reuse."""
    out: dict[str, Any] = {"points": points}
    values = {}
    for reuse in (False, True):
        start = time.perf_counter()
        front = tp.pareto_frontier(inst, points, mip_gap=gap, time_limit=limit, reuse=reuse)
        seconds = time.perf_counter() - start
        name = "reuse" if reuse else "rebuild"
        out[f"{name}_seconds"] = seconds
        out[f"{name}_statuses"] = sorted(set(front.points["status"]))
        out[f"{name}_previous_starts"] = _starts(list(front.results))
        values[name] = front.points["talent_index"].to_numpy(dtype=float)
        print(f"  frontier {name}: {seconds:.1f}s {out[f'{name}_statuses']}", flush=True)
    out["ratio"] = out["rebuild_seconds"] / out["reuse_seconds"]
    out["max_rel_objective_difference"] = _max_rel(values["reuse"], values["rebuild"])
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print (and optionally write) its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=["qingyuan", "northern_guangdong"])
    parser.add_argument("--scales", default="0.6:1.4:9")
    parser.add_argument("--points", type=int, default=5)
    parser.add_argument("--gap", type=float, default=1e-3)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--out", type=Path, default=None, help="write the text table here")
    args = parser.parse_args(argv)
    scales = parse_range("--scales", args.scales)
    rows = []
    for name in args.only:
        inst = tp.load_instance(name)
        print(f"{name}:", flush=True)
        s = bench_sweep(inst, scales, args.gap, args.time_limit)
        f = bench_frontier(inst, args.points, args.gap, args.time_limit)
        rows.append({"instance": name, "sweep": s, "frontier": f})
    lines = [
        f"# sweep_reuse {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        f"# python {' '.join(sys.argv)}",
        f"# budget scales {args.scales}, frontier points {args.points}, mip_gap {args.gap}, "
        f"time limit {args.time_limit:g}s per solve, one HiGHS thread, one worker",
        "",
        f"{'instance':<20}{'run':<10}{'solves':>7}{'rebuild s':>11}{'reuse s':>9}"
        f"{'ratio':>7}{'warm':>6}{'max rel diff':>14}",
    ]
    for row in rows:
        for what, r, n in (
            ("sweep", row["sweep"], row["sweep"]["scenarios"]),
            ("frontier", row["frontier"], row["frontier"]["points"] + 1),
        ):
            lines.append(
                f"{row['instance']:<20}{what:<10}{n:>7}{r['rebuild_seconds']:>11.1f}"
                f"{r['reuse_seconds']:>9.1f}{r['ratio']:>7.2f}{r['reuse_previous_starts']:>6}"
                f"{r['max_rel_objective_difference']:>14.1e}"
            )
    lines += [
        "",
        "# solves: MIPs per run (the frontier: its floored points, its two ends).",
        "# warm: solves of the reuse run that started from the previous plan or its integers.",
        "# max rel diff: largest relative difference of a point's objective between the runs.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
        args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
