"""Time the solver core up a ladder of instance sizes, against the plain Pyomo + HiGHS model.

Usage::

    python benchmarks/ladder.py [--only NAME ...] [--methods monolithic,decomposition]
                                [--time-limit S]
                                [--gap G] [--json FILE] [--baseline-max-counties N]
                                [--no-baseline] [--kill-after S] [--memory-limit GIB]

The rungs are ``qingyuan`` (8 counties), ``northern_guangdong`` (37), ``synthetic:122`` (a
province's counties), ``synthetic:1609`` (a province's townships) and ``synthetic:2850``
(a nation): 5-year plans with the full catalogue. ``--only`` picks rungs by name and also
accepts any other instance name (``synthetic:500``, a bundled dataset).

Every (rung, method) runs in a fresh Python process, so peak memory is that run's own
(the kernel's ``ru_maxrss`` of the child, read with ``os.wait4``) and nothing built for one
rung is left for the next. The baseline is the same Pyomo model built the same way and
solved through Pyomo's own HiGHS interface (``appsi_highs``) with the same time limit, gap
and one thread, in its own process in the same run; ratios are baseline / method, measured
in this run, never against absolute thresholds (the machines are shared and noisy).

A method is a function registered by name in :data:`METHODS`; it builds and solves an
instance and reports into a :class:`Recorder` (sizes, timings, status, the progress of the
best plan). ``monolithic`` is the whole MIP, compiled to matrices and solved by HiGHS;
``decomposition`` prices the rows that join the counties and solves one MIP per county on
a pool of worker processes, one per core (:mod:`talentplan.solver.decomposition`).

A run that passes ``--kill-after`` seconds of wall time is killed and recorded with the
stage it had reached; one that runs out of memory (``--memory-limit``, or the kernel's
OOM killer) is recorded as such. Either way the ladder goes on to the next rung.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

RUNGS: dict[str, int] = {
    "qingyuan": 8,
    "northern_guangdong": 37,
    "synthetic:122": 122,
    "synthetic:1609": 1609,
    "synthetic:2850": 2850,
}
"""The ladder: instance name and its number of counties."""

ANYTIME_SECONDS = (10, 30, 60, 120)
"""Points of the anytime curve: seconds since the solver started."""

BASELINE = "pyomo_appsi"
"""Name of the baseline in the output: the Pyomo model solved through ``appsi_highs``."""

FINISHED = "optimal"
"""Status of a run that reached the requested gap (the only solve times that are fitted)."""

STOPPED = ("killed_wall_limit", "out_of_memory", "crashed", "error")
"""Statuses of a run that ended before its solver did."""


@dataclass(frozen=True)
class Limits:
    """What every method is given: the solver time limit, relative gap and threads."""

    time_limit: float
    gap: float
    threads: int = 1


class Recorder:
    """Collects one run's measurements and writes them to a file at every stage.

    The file always holds the last complete picture, so a run that is killed (out of
    time, out of memory) still says how far it got.
    """

    def __init__(self, path: Path, instance: str, method: str) -> None:
        self.path = path
        self.start = time.perf_counter()
        self.solve_start: float | None = None
        self._last_dump = 0.0
        self.record: dict[str, Any] = {
            "instance": instance,
            "method": method,
            "status": "starting",
            "stage": "starting",
            "trace": [],
        }
        self.dump()

    def set(self, **values: Any) -> None:
        """Record measurements (sizes, timings, results)."""
        self.record.update(values)

    def stage(self, name: str) -> None:
        """Mark the stage the run has reached and write everything down."""
        self.record["stage"] = name
        self.record["status"] = f"running: {name}"
        self.record["wall_seconds"] = time.perf_counter() - self.start
        if name == "solving":
            self.solve_start = time.perf_counter()
        self.dump()

    def progress(self, solver_seconds: float, objective: float, bound: float) -> None:
        """Record the best plan so far (from the solver's progress callback)."""
        gap = relative_gap(objective, bound)
        wall = time.perf_counter() - self.start
        self.record["trace"].append(
            [round(solver_seconds, 2), round(wall, 2), finite(gap), finite(objective)]
        )
        if wall - self._last_dump > 5.0:
            self.dump()

    def dump(self) -> None:
        """Write the record atomically (a reader never sees half a file)."""
        self._last_dump = time.perf_counter() - self.start
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.record))
        tmp.replace(self.path)


def relative_gap(objective: float, bound: float) -> float:
    """Relative gap between a plan's objective and the bound, as HiGHS reports it."""
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return math.inf
    return abs(bound - objective) / max(abs(objective), 1e-10)


def finite(x: float | None) -> float | None:
    """``x`` for JSON: None when missing, infinite or NaN."""
    if x is None or not math.isfinite(x):
        return None
    return float(x)


@contextlib.contextmanager
def timed(module: Any, name: str, sink: dict[str, float], key: str) -> Iterator[None]:
    """Time every call of ``module.name`` while inside, adding the seconds to ``sink[key]``.

    This measures a step inside a library call (e.g. ``prepare`` inside ``build_model``)
    in the same run, without running it twice.
    """
    original = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            sink[key] = sink.get(key, 0.0) + time.perf_counter() - t0

    setattr(module, name, wrapper)
    try:
        yield
    finally:
        setattr(module, name, original)


# -- methods ------------------------------------------------------------------------------


def build_pyomo(instance: Any, rec: Recorder) -> Any:
    """Build the Pyomo model, recording ``prepare_seconds`` and ``pyomo_build_seconds``."""
    from talentplan.model import build

    times: dict[str, float] = {}
    with timed(build, "prepare", times, "prepare"):
        f = build.build_model(instance)
    prep = times.get("prepare", 0.0)
    rec.set(prepare_seconds=prep, pyomo_build_seconds=f.build_seconds - prep)
    return f


def run_monolithic(instance: Any, limits: Limits, rec: Recorder) -> None:
    """Solve the whole MIP: Pyomo model, our compile to matrices, HiGHS by ``passModel``."""
    from talentplan.solver import highs

    rec.stage("building")
    f = build_pyomo(instance, rec)
    rec.stage("compiling")
    times: dict[str, float] = {}
    original_compile = highs.compile_model

    def compile_and_mark(model: Any) -> Any:
        t0 = time.perf_counter()
        cm = original_compile(model)
        times["compile"] = time.perf_counter() - t0
        binary = (cm.col_upper <= 1) & (cm.col_lower >= 0) & cm.integer
        rec.set(
            compile_seconds=times["compile"],
            build_seconds=f.build_seconds + times["compile"],
            n_variables=int(cm.n_cols),
            n_binaries=int(binary.sum()),
            n_integers=int(cm.integer.sum() - binary.sum()),
            n_constraints=int(cm.n_rows),
        )
        rec.stage("solving")
        return cm

    original_to_highs = highs.to_highs

    def to_highs_and_listen(*args: Any, **kwargs: Any) -> Any:
        h = original_to_highs(*args, **kwargs)
        if rec.record["stage"] == "solving" and kwargs.get("integer", True):
            # The progress callback fires about once a second once the search runs; a new
            # best plan found in between (or during presolve) is recorded when it is found.
            def improved(event: Any) -> None:
                out = event.data_out
                rec.progress(
                    float(out.running_time), float(out.mip_primal_bound), float(out.mip_dual_bound)
                )

            h.cbMipImprovingSolution.subscribe(improved)
        return h

    highs.compile_model = compile_and_mark
    highs.to_highs = to_highs_and_listen
    try:
        run = highs.solve_formulation(
            f,
            time_limit=limits.time_limit,
            mip_gap=limits.gap,
            threads=limits.threads,
            progress=lambda p: rec.progress(p.seconds, p.objective, p.bound),
            shadow_prices=False,
        )
    finally:
        highs.compile_model = original_compile
        highs.to_highs = original_to_highs
    rec.set(
        status=run.status.value,
        solver_status=run.highs_status,
        solve_seconds=run.solve_seconds,
        objective=finite(run.objective),
        bound=finite(run.bound),
        gap=finite(run.gap),
        mip_nodes=run.mip_nodes,
    )


def run_baseline(instance: Any, limits: Limits, rec: Recorder) -> None:
    """Solve the straightforward way: the same Pyomo model through ``appsi_highs``."""
    from pyomo.contrib.appsi.solvers import Highs

    rec.set(trace=None)  # not observed while it solves: only its final result is known
    rec.stage("building")
    f = build_pyomo(instance, rec)
    rec.set(build_seconds=f.build_seconds)
    rec.stage("solving")
    opt = Highs()
    opt.config.time_limit = limits.time_limit
    opt.config.mip_gap = limits.gap
    opt.config.load_solution = False
    opt.highs_options = {"threads": limits.threads}
    t0 = time.perf_counter()
    res = opt.solve(f.model)
    total = time.perf_counter() - t0
    highs_seconds = float(opt._solver_model.getRunTime())  # HiGHS's own clock
    objective = float(res.best_feasible_objective or math.nan)
    bound = float(res.best_objective_bound)
    rec.set(
        status=str(res.termination_condition).rsplit(".", 1)[-1],
        solve_seconds=total,
        highs_seconds=highs_seconds,
        load_seconds=total - highs_seconds,
        objective=finite(objective),
        bound=finite(bound),
        gap=finite(relative_gap(objective, bound)),
    )


def run_decomposition(instance: Any, limits: Limits, rec: Recorder) -> None:
    """Solve by county (:mod:`talentplan.solver.decomposition`) on every core.

    The county subproblems run in worker processes (one per core): their peak memory is
    recorded beside the main process's (``peak_rss_workers_bytes``, the largest worker's),
    and ``peak_rss_total_bytes`` adds the workers' peaks to the main process's (an upper
    bound: the peaks need not coincide).
    """
    import resource

    from talentplan.solver.blocks import county_owners
    from talentplan.solver.deadline import Deadline
    from talentplan.solver.decomposition import solve_by_blocks
    from talentplan.solver.matrix import compile_model
    from talentplan.solver.methods import default_workers

    rec.stage("building")
    f = build_pyomo(instance, rec)
    rec.stage("compiling")
    t0 = time.perf_counter()
    cm = compile_model(f.model)
    compile_seconds = time.perf_counter() - t0
    binary = (cm.col_upper <= 1) & (cm.col_lower >= 0) & cm.integer
    counties = f.data.counties
    workers = default_workers(len(counties), None)
    rec.set(
        compile_seconds=compile_seconds,
        build_seconds=f.build_seconds + compile_seconds,
        n_variables=int(cm.n_cols),
        n_binaries=int(binary.sum()),
        n_integers=int(cm.integer.sum() - binary.sum()),
        n_constraints=int(cm.n_rows),
        n_workers=workers,
    )
    rec.stage("solving")
    solve_start = time.perf_counter()

    def progress(stage: str, _seconds: float, objective: float, bound: float) -> None:
        if stage == "plan":
            rec.progress(time.perf_counter() - solve_start, objective, bound)

    run = solve_by_blocks(
        cm,
        county_owners(cm.columns, counties),
        len(counties),
        deadline=Deadline(limits.time_limit),
        mip_gap=limits.gap,
        workers=workers,
        progress=progress,
    )
    worker_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    rec.set(
        status=run.status.value,
        solver_status=f"{run.rounds} rounds; " + "; ".join(run.notes),
        solve_seconds=run.seconds,
        objective=finite(run.objective),
        bound=finite(run.bound),
        gap=finite(run.gap),
        rounds=run.rounds,
        coupling_rows=run.n_coupling_rows,
        peak_rss_workers_bytes=worker_peak if workers > 1 else 0,
        peak_rss_total_bytes=own_peak + (workers * worker_peak if workers > 1 else 0),
    )


Method = Callable[[Any, Limits, Recorder], None]

METHODS: dict[str, Method] = {"monolithic": run_monolithic, "decomposition": run_decomposition}
"""Methods by name."""

ALL_RUNNERS: dict[str, Method] = {**METHODS, BASELINE: run_baseline}


# -- one run, in a child process -----------------------------------------------------------


def child(method: str, instance_name: str, limits: Limits, out: Path) -> int:
    """Load, build and solve one instance with one method, writing the record to ``out``."""
    # Import everything first: the clock measures the work, not the interpreter's imports.
    import pyomo.contrib.appsi.solvers
    import pyomo.environ  # noqa: F401

    import talentplan as tp
    import talentplan.data.io
    import talentplan.model.build
    import talentplan.solver.highs

    rec = Recorder(out, instance_name, method)
    try:
        rec.stage("loading")
        t0 = time.perf_counter()
        inst = tp.load_instance(instance_name)
        rec.set(load_seconds=time.perf_counter() - t0, n_counties=len(inst.counties))
        ALL_RUNNERS[method](inst, limits, rec)
        rec.set(stage="done")
    except MemoryError:
        rec.set(status="out_of_memory", error="MemoryError")
    except Exception as exc:  # recorded, not raised: one rung must not stop the ladder
        rec.set(status="error", error=f"{type(exc).__name__}: {exc}")
    rec.set(wall_seconds=time.perf_counter() - rec.start)
    rec.dump()
    return 0


def run_in_child(
    method: str,
    instance: str,
    limits: Limits,
    kill_after: float,
    memory_limit_gib: float | None,
) -> dict[str, Any]:
    """Run one (instance, method) in a fresh process; return its record with peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "record.json"
        cmd = [
            sys.executable,
            __file__,
            "--child",
            method,
            instance,
            "--time-limit",
            str(limits.time_limit),
            "--gap",
            str(limits.gap),
            "--threads",
            str(limits.threads),
            "--json",
            str(out),
        ]

        def limit_memory() -> None:
            if memory_limit_gib is not None:
                size = int(memory_limit_gib * 1024**3)
                resource.setrlimit(resource.RLIMIT_AS, (size, size))

        started = time.perf_counter()
        proc = subprocess.Popen(cmd, preexec_fn=limit_memory)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)

        timer = threading.Timer(kill_after, kill)
        timer.start()
        _pid, wait_status, usage = os.wait4(proc.pid, 0)
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(wait_status)
        process_seconds = time.perf_counter() - started
        try:
            record = json.loads(out.read_text())
        except (OSError, ValueError):
            record = {"instance": instance, "method": method, "stage": "starting", "trace": []}
    record["process_seconds"] = process_seconds
    record["peak_rss_bytes"] = int(usage.ru_maxrss) * 1024  # Linux reports KiB
    if killed.is_set():
        record["status"] = "killed_wall_limit"
        record["error"] = f"killed after {kill_after:.0f} s wall during {record['stage']}"
    elif proc.returncode != 0:
        # SIGKILL that we did not send is the kernel's OOM killer; under an address-space
        # limit, native code (HiGHS) that cannot allocate aborts with some other code.
        oom_killer = proc.returncode == -signal.SIGKILL
        under_limit = memory_limit_gib is not None
        record["status"] = "out_of_memory" if oom_killer or under_limit else "crashed"
        why = ""
        if oom_killer:
            why = " (SIGKILL: the kernel's OOM killer)"
        elif under_limit:
            why = f" under the {memory_limit_gib} GiB address-space limit"
        record["error"] = f"exit {proc.returncode} during {record['stage']}{why}"
    if killed.is_set() or proc.returncode != 0:
        record["wall_seconds"] = process_seconds  # the last word on how long it ran
    return record


# -- the anytime curve, fits and the table ---------------------------------------------------


def anytime(record: dict[str, Any], time_limit: float) -> dict[str, float | None]:
    """Read the best plan's gap at each of :data:`ANYTIME_SECONDS` of solver time.

    A point past the time limit is left out, and so is one past the end of a run that was
    stopped (killed, out of memory). Before the first progress report there is no plan
    (gap None); after the solve finished, the final gap holds.
    """
    curve: dict[str, float | None] = {}
    solve = record.get("solve_seconds")
    seen = max((p[0] for p in record.get("trace") or []), default=0.0)
    for t in ANYTIME_SECONDS:
        if t > time_limit:
            continue
        if solve is None and record["status"] in STOPPED and t > seen:
            curve[str(t)] = None  # the run was stopped before it got there
            continue
        if solve is not None and solve <= t:
            curve[str(t)] = record.get("gap")
            continue
        gap = None
        for seconds, _wall, g, _obj in sorted(record.get("trace") or [], key=lambda p: p[0]):
            if seconds <= t:
                gap = g
        curve[str(t)] = gap
    return curve


def first_time(record: dict[str, Any], gap: float | None) -> float | None:
    """Solver seconds until the best plan's gap was at most ``gap`` (None: any plan).

    None when the run was not observed while it solved (the baseline) or never got there.
    """
    if record.get("trace") is None:
        return None
    for seconds, _wall, g, obj in sorted(record["trace"], key=lambda p: p[0]):
        if obj is not None and (gap is None or (g is not None and g <= gap)):
            return float(seconds)
    final = record.get("gap")
    if record.get("solve_seconds") is not None and final is not None:
        if gap is None or final <= gap:
            return float(record["solve_seconds"])
    return None


def derive(record: dict[str, Any], time_limit: float) -> None:
    """Add the anytime curve, the time to a first plan and the time to a 1% gap."""
    record["anytime"] = anytime(record, time_limit)
    record["first_plan_seconds"] = first_time(record, None)
    record["seconds_to_1pct"] = first_time(record, 0.01)


def fit_exponent(points: list[tuple[float, float]]) -> dict[str, Any] | None:
    """Least-squares slope of log(seconds) against log(counties): ``seconds ~ n**b``."""
    points = [(n, s) for n, s in points if n > 0 and s is not None and s > 0]
    if len({n for n, _ in points}) < 2:
        return None
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(s) for _, s in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return {"exponent": b, "n_counties": [int(n) for n, _ in points]}


def exponents(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Fitted exponents of solve, build and Pyomo build time, per method.

    Solve times are fitted over the runs that reached the gap (a run stopped by the time
    limit only says the time exceeds the limit), the solver seconds to a 1% gap over the
    runs that got there, build times over the runs that built.
    """
    fits: dict[str, dict[str, Any]] = {}
    for method in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == method and r.get("n_counties")]

        def fit(key: str, rows: list[dict[str, Any]] = mine) -> dict[str, Any] | None:
            return fit_exponent([(r["n_counties"], r.get(key)) for r in rows])

        fits[method] = {
            "solve": fit("solve_seconds", [r for r in mine if r["status"] == FINISHED]),
            "to_1pct": fit("seconds_to_1pct"),
            "build": fit("build_seconds"),
            "pyomo_build": fit("pyomo_build_seconds"),
        }
    return fits


def machine() -> dict[str, Any]:
    """Describe the machine and versions the run was measured on."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    from talentplan.solver.matrix import new_highs

    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "cores_available": len(os.sched_getaffinity(0)),
        "memory_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "highspy": version("highspy"),
        "highs": new_highs().version(),
        "pyomo": version("pyomo"),
        "commit": commit,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def fmt(x: float | None, spec: str) -> str:
    """Format a number for the table, ``-`` when missing (right-aligned to the width)."""
    width = int("".join(c for c in spec.split(".")[0] if c.isdigit()) or 0)
    return f"{'-':>{width}s}" if x is None else format(x, spec)


HEADER = (
    f"{'instance':19s} {'method':11s} {'n':>5s} {'vars':>8s} {'bin':>7s} {'rows':>8s} "
    f"{'build':>7s} {'pyomo':>7s} {'solve':>7s} {'wall':>7s} {'gap':>8s} {'status':>17s} "
    f"{'RSS GiB':>7s} {'base':>7s} {'ratio':>6s} "
    + " ".join(f"{'g@' + str(t):>7s}" for t in ANYTIME_SECONDS)
)


def table_row(r: dict[str, Any]) -> str:
    """One line of the printed table."""
    curve = r.get("anytime", {})
    rss = r.get("peak_rss_bytes")
    base_work = None
    if r.get("baseline_build_seconds") is not None and r.get("baseline_solve_seconds") is not None:
        base_work = r["baseline_build_seconds"] + r["baseline_solve_seconds"]
    return (
        f"{r['instance']:19s} {r['method']:11s} {r.get('n_counties') or 0:5d} "
        f"{fmt(r.get('n_variables'), '8d')} {fmt(r.get('n_binaries'), '7d')} "
        f"{fmt(r.get('n_constraints'), '8d')} {fmt(r.get('build_seconds'), '7.2f')} "
        f"{fmt(r.get('pyomo_build_seconds'), '7.2f')} {fmt(r.get('solve_seconds'), '7.2f')} "
        f"{fmt(r.get('wall_seconds'), '7.2f')} {fmt(r.get('gap'), '8.2e')} "
        f"{r['status'][:17]:>17s} {fmt(rss and rss / 1024**3, '7.2f')} "
        f"{fmt(base_work, '7.2f')} {fmt(r.get('ratio'), '6.2f')} "
        + " ".join(f"{fmt(curve.get(str(t)), '7.1e'):>7s}" for t in ANYTIME_SECONDS)
    )


def with_baseline(row: dict[str, Any], base: dict[str, Any] | None, why: str) -> None:
    """Add the baseline's figures and the ratios (baseline / method) to a method's row.

    ``ratio`` compares build + solve, the time from a loaded instance to the solver's
    answer; ``ratio_wall`` also counts the instance load and the hand-over to HiGHS.
    """
    if base is None:
        row["baseline"] = why
        return
    row["baseline"] = "measured in this run"
    for key in ("wall_seconds", "build_seconds", "solve_seconds", "gap", "objective", "status"):
        row[f"baseline_{key}"] = base.get(key)

    def ratio(theirs: float | None, ours: float | None) -> float | None:
        ok = ours and theirs and row["status"] != "killed_wall_limit"
        return theirs / ours if ok else None

    def work(r: dict[str, Any]) -> float | None:
        build, solve = r.get("build_seconds"), r.get("solve_seconds")
        return None if build is None or solve is None else build + solve

    row["ratio"] = ratio(work(base), work(row))
    for key in ("wall_seconds", "build_seconds", "solve_seconds"):
        row[f"ratio_{key.removesuffix('_seconds')}"] = ratio(base.get(key), row.get(key))


def main(argv: list[str] | None = None) -> int:
    """Run the ladder (or, with ``--child``, one run of it) and print and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="rungs (or instances) to run")
    parser.add_argument("--methods", nargs="+", default=["monolithic"], help="comma or space")
    parser.add_argument("--time-limit", type=float, default=60.0, help="solver limit, seconds")
    parser.add_argument("--gap", type=float, default=1e-4, help="relative MIP gap to stop at")
    parser.add_argument("--threads", type=int, default=1, help="solver threads")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--no-baseline", action="store_true", help="skip the baseline")
    parser.add_argument(
        "--baseline-max-counties",
        type=int,
        default=None,
        help="skip the baseline on instances with more counties than this",
    )
    parser.add_argument(
        "--kill-after",
        type=float,
        default=None,
        help="kill a run after this many seconds of wall time (default 3x limit + 600)",
    )
    parser.add_argument(
        "--memory-limit", type=float, default=None, help="address-space limit per run, GiB"
    )
    parser.add_argument(
        "--refit", type=Path, help="recompute curves and fits of a results file, then stop"
    )
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "INSTANCE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    limits = Limits(args.time_limit, args.gap, args.threads)
    if args.child:
        return child(args.child[0], args.child[1], limits, args.json)

    if args.refit:
        result = json.loads(args.refit.read_text())
        bases = {r["instance"]: r for r in result["rows"] if r["method"] == BASELINE}
        print(HEADER)
        for row in result["rows"]:
            derive(row, result["settings"]["time_limit"])
            if row["method"] != BASELINE:
                with_baseline(row, bases.get(row["instance"]), row.get("baseline", ""))
            print(table_row(row))
            if row["method"] != BASELINE and row["instance"] not in bases:
                print(f"  baseline {row.get('baseline', 'not run')}")
        result["exponents"] = exponents(result["rows"])
        args.refit.write_text(json.dumps(result, indent=1) + "\n")
        report(result)
        return 0

    methods = [m for item in args.methods for m in item.split(",") if m]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        parser.error(f"unknown method(s) {unknown}; available: {sorted(METHODS)}")
    rungs = args.only or list(RUNGS)
    kill_after = args.kill_after or 3 * args.time_limit + 600
    result: dict[str, Any] = {
        "machine": machine(),
        "settings": {
            "time_limit": args.time_limit,
            "gap": args.gap,
            "threads": args.threads,
            "methods": methods,
            "baseline": "none" if args.no_baseline else BASELINE,
            "baseline_max_counties": args.baseline_max_counties,
            "kill_after": kill_after,
            "memory_limit_gib": args.memory_limit,
            "anytime_seconds": [t for t in ANYTIME_SECONDS if t <= args.time_limit],
        },
        "rows": [],
    }

    def save() -> None:
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(result, indent=1) + "\n")

    print(HEADER, flush=True)
    for name in rungs:
        n_known = RUNGS.get(name)
        base: dict[str, Any] | None = None
        why = ""
        if args.no_baseline:
            why = "skipped (--no-baseline)"
        elif (
            args.baseline_max_counties is not None
            and n_known is not None
            and n_known > args.baseline_max_counties
        ):
            why = f"skipped: more than {args.baseline_max_counties} counties"
        else:
            base = run_in_child(BASELINE, name, limits, kill_after, args.memory_limit)
            derive(base, args.time_limit)
            result["rows"].append(base)
            print(table_row(base), flush=True)
            save()
        for method in methods:
            row = run_in_child(method, name, limits, kill_after, args.memory_limit)
            derive(row, args.time_limit)
            with_baseline(row, base, why)
            result["rows"].append(row)
            print(table_row(row), flush=True)
            if why:
                print(f"  baseline {why}", flush=True)
            save()
    result["exponents"] = exponents(result["rows"])
    save()
    report(result)
    return 0


def report(result: dict[str, Any]) -> None:
    """Print the legend, the fitted exponents and the runs that did not finish."""
    print(
        "\nbuild = prepare + Pyomo model + compile to matrices; pyomo = Pyomo expression "
        "build alone;\nbase = baseline build + solve; ratio = base / (method build + solve), "
        "same run;\ng@T = best plan's "
        "gap after T s of solving\n(- : no plan yet, or T past the limit)"
    )
    for method, fit in result["exponents"].items():
        parts = [
            f"{what} ~ n^{f['exponent']:.2f} over n={f['n_counties']}"
            if f
            else f"{what}: too few finished rungs"
            for what, f in fit.items()
        ]
        print(f"{method}: " + "; ".join(parts))
    not_finished = [r for r in result["rows"] if r["status"] != FINISHED]
    for r in not_finished:
        print(f"not finished: {r['instance']} {r['method']}: {r['status']} {r.get('error', '')}")


if __name__ == "__main__":
    sys.exit(main())
