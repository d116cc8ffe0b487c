"""Sweeps: one solve per point of a grid, on a process pool, cached on disk.

:func:`sweep` solves an instance for every combination of budget scales, objectives,
equity floors (``min_coverage``) and values of instance parameters named by dotted
paths (:mod:`talentplan.scenarios.grid`, :mod:`talentplan.data.edit`), and returns a
:class:`SweepResult`: one row per scenario with the varied values, the solve's account
and the plan's key quantities (spend by program and by county, final useful talent).

Every scenario is solved by :func:`talentplan.solve` with one HiGHS thread, in its own
worker process (:class:`~talentplan.scenarios.executors.LocalPool`, or any
:class:`~talentplan.scenarios.executors.Executor`). Its plan is written, as
``talentplan solve --out`` writes it (:meth:`AllocationResult.to_dir`) but for the
report page (its plots take about 1.4 s a scenario on qingyuan, more than many solves;
``talentplan report OUT/scenarios/KEY`` draws it), into ``OUT/scenarios/KEY/`` as soon
as it is solved, and its row last (``row.json``,
atomically), so a scenario is either done or not there at all. ``KEY`` is a hash of
everything the answer depends on (:func:`scenario_key`): the content of the scenario's
instance (which holds the varied values: scaled budgets, floor, set parameters), the
objective, the solver options and the versions of talentplan and HiGHS. Hence

- a rerun solves nothing that is done (rows read back are marked ``reused``);
- an interrupted sweep (Ctrl-C, a stop event, a killed process) resumes with only the
  scenarios missing; scenarios in flight at the stop are abandoned and solved again;
- two points that make the same instance are solved once;
- a scenario whose worker process dies is run once more and then recorded as
  ``failed`` with the reason (a failed row is tried again by the next run).

An infeasible scenario, or one without a plan at its time limit, is a result
(``infeasible``, ``time_limit``), not a failure.

Model reuse (``reuse=True``, the default): each worker process keeps one
:class:`~talentplan.solver.reuse.ModelReuse` for its whole life, so a scenario it
solves after another of the same model structure (the same objective and dotted
parameters; another budget scale or equity floor) changes the HiGHS object of the one
before in place and starts from its plan (:mod:`talentplan.solver.reuse`, which checks
the structure on the compiled matrices). The scenarios are handed out in the order that
makes each plan feasible for the next: by objective and dotted parameters, then by
falling floor and rising budget. A scenario stays one task: it is written, resumed,
retried and reported on its own as without reuse. Its plan equals a fresh solve's to
the gap (not to the last digit: the start differs), so reuse is not part of its key.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from talentplan import _plot
from talentplan._display import DisplayMixin
from talentplan._files import atomic_write_text, json_ready, write_file_set
from talentplan.data.instance import Instance
from talentplan.errors import InfeasiblePlanError, NoSolutionError, SolverError
from talentplan.report.pipeline import solve
from talentplan.report.result import AllocationResult
from talentplan.scenarios.alternatives import _frozen
from talentplan.scenarios.executors import Executor, LocalPool, default_workers
from talentplan.scenarios.grid import Grid, make_grid
from talentplan.solver.api import SolveOptions, versions
from talentplan.solver.reuse import ModelReuse
from talentplan.solver.status import SolveStatus

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "ROW_FILE",
    "SCENARIOS",
    "SWEEP_FILES",
    "SweepProgress",
    "SweepResult",
    "plan_row",
    "scenario_folder",
    "scenario_key",
    "sweep",
]

logger = logging.getLogger(__name__)

SWEEP_FILES = ("sweep.csv", "sweep.parquet", "summary.json")
"""The files :meth:`SweepResult.to_dir` writes into the sweep's folder, summary last."""

SCENARIOS = "scenarios"
"""Sub-folder of the sweep's folder that holds one folder per scenario."""

ROW_FILE = "row.json"
"""A scenario's row, written last into its folder: the mark that it is done."""

FAILED = "failed"
"""Status of a scenario whose worker died twice or whose solve raised unexpectedly."""
SKIPPED = "skipped"
"""Status of a scenario not solved because the sweep was stopped first."""

CITYWIDE = "-"
"""County label of the spend of plan-wide (``city``) programs."""


@dataclass(frozen=True)
class SweepProgress:
    """Where a sweep stands, for a progress line.

    Attributes
    ----------
    total, done, failed, reused, remaining
        Scenarios in all, finished (including reused and failed), failed, read back
        from an earlier run, and still to solve.
    elapsed
        Seconds since the sweep started.
    seconds_left
        Estimated seconds to finish (NaN until a scenario has been solved by this run).
    """

    total: int
    done: int
    failed: int
    reused: int
    remaining: int
    elapsed: float
    seconds_left: float


@dataclass(frozen=True)
class _Task:
    """One scenario to solve, as sent to a worker process.

    It carries the base instance and the point, not the scenario's instance: every task
    refers to the one base instance, so the caller holds one copy however many
    scenarios wait, and the worker rebuilds the scenario's instance (checked already).
    """

    base: Instance
    grid: Grid
    point: Mapping[str, Any]
    objective: str
    key: str
    folder: str
    options: Mapping[str, Any]
    programs: tuple[str, ...]
    counties: tuple[str, ...]
    reuse: bool = False


_CARRIED: list[ModelReuse] = []
"""The model this worker process carries from one scenario to the next (at most one)."""


def _carried() -> ModelReuse:
    """Return this process's :class:`ModelReuse`, made on first use."""
    if not _CARRIED:
        _CARRIED.append(ModelReuse())
    return _CARRIED[0]


def _reuse_order(point: Mapping[str, Any], grid: Grid) -> tuple[Any, ...]:
    """Sort key of the scenarios handed out with reuse: structure, falling floor, rising budget."""
    params = tuple(repr(point[p]) for p, _ in grid.params)
    draw = point.get("draw", 0)
    return (
        str(point["objective_name"]),
        params,
        draw,
        -point["min_coverage"],
        point["budget_scale"],
    )


def scenario_key(
    instance: Instance,
    objective: str,
    options: SolveOptions,
    provenance: Mapping[str, str] | None = None,
) -> str:
    """Return the hash that names a scenario's result: what the answer depends on.

    Parameters
    ----------
    instance
        The scenario's instance, with the varied values set (its content hash,
        :meth:`Instance.hash`, covers them).
    objective
        The objective solved.
    options
        The solver options (time limit, gap, threads, method, warm start).
    provenance
        :func:`~talentplan.solver.api.versions` (default: read now); of it the
        talentplan and HiGHS versions enter the key.

    Returns
    -------
    str
        A sha256 hex digest.
    """
    v = versions() if provenance is None else provenance
    content = {
        "instance": instance.hash(),
        "objective": objective,
        "options": {
            "time_limit": options.time_limit,
            "mip_gap": options.mip_gap,
            "threads": options.threads,
            "method": options.method,
            "warm_start": options.warm_start,
        },
        "talentplan": v["talentplan"],
        "highs": v["highs"],
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def scenario_folder(key: str) -> str:
    """Return the name of the folder of scenario ``key`` under ``OUT/scenarios/``.

    Examples
    --------
    >>> scenario_folder("0123456789abcdef" * 4)
    '0123456789abcdef'
    """
    return key[:16]


def _quantities(
    result: AllocationResult, programs: Sequence[str], counties: Sequence[str]
) -> dict[str, float]:
    """Return the final useful talent and the spend by program and by county of a plan."""
    alloc = result.allocation
    by_program = alloc.groupby("program")["cost"].sum()
    county = alloc["county"].fillna("").astype(str).replace("", CITYWIDE)
    by_county = alloc["cost"].groupby(county).sum()
    talent = result.talent
    final = talent[talent["year"] == talent["year"].max()] if len(talent) else talent
    out = {"useful_final": float(final["useful"].sum()), "spend_total": float(alloc["cost"].sum())}
    out |= {f"spend_program:{p}": float(by_program.get(p, 0.0)) for p in programs}
    out |= {f"spend_county:{c}": float(by_county.get(c, 0.0)) for c in (*counties, CITYWIDE)}
    return out


def plan_row(
    result: AllocationResult, programs: Sequence[str], counties: Sequence[str]
) -> dict[str, Any]:
    """Return the fields of a solved scenario's row (``row.json``) but its key and time.

    The solve's account (status, objective, bound, gap, simulated objective, build and
    solve seconds) and the plan's quantities: ``useful_final``, ``spend_total``,
    ``spend_program:P`` and ``spend_county:C`` (see :attr:`SweepResult.table`).
    """
    s = result.summary
    return {
        "status": result.status.value,
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "simulated_objective": s["simulated_objective"],
        "build_seconds": s["build_seconds"],
        "solve_seconds": s["solve_seconds"],
        **_quantities(result, programs, counties),
    }


def _solve_scenario(task: _Task) -> dict[str, Any]:
    """Solve one scenario, write its plan and then its row; return the row (a worker)."""
    started = time.perf_counter()
    folder = Path(task.folder)
    folder.mkdir(parents=True, exist_ok=True)
    row: dict[str, Any] = {"key": task.key, "reason": ""}
    try:
        instance = task.grid.apply(task.base, task.point)
        reuse = _carried() if task.reuse else None
        options = {"compare": False, **task.options}  # a sweep compares its own scenarios
        result = solve(instance, objective=task.objective, reuse=reuse, **options)
    except InfeasiblePlanError as exc:
        row.update(status=SolveStatus.INFEASIBLE.value, reason=exc.explanation)
    except NoSolutionError as exc:
        row.update(status=SolveStatus.TIME_LIMIT.value, reason=str(exc))
    except SolverError as exc:
        row.update(status=SolveStatus.ERROR.value, reason=str(exc))
    else:
        result.to_dir(folder, report=False)
        row.update(plan_row(result, task.programs, task.counties))
    row["seconds"] = time.perf_counter() - started
    text = json.dumps(json_ready(row), indent=1)
    atomic_write_text(folder / ROW_FILE, text)
    return dict(json.loads(text))  # as a later run reads it back: no number JSON lacks


def _read_row(folder: Path, key: str) -> dict[str, Any] | None:
    """Return the row of a scenario done by an earlier run, or None."""
    try:
        row = json.loads((folder / ROW_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(row, dict) or row.get("key") != key or row.get("status") == FAILED:
        return None
    return row


_FIRST = ["scenario"]
_ACCOUNT = [
    "status",
    "objective",
    "bound",
    "gap",
    "simulated_objective",
    "build_seconds",
    "solve_seconds",
    "seconds",
    "useful_final",
    "spend_total",
]
_LAST = ["reused", "attempts", "reason", "key", "folder"]


@dataclass(frozen=True)
class SweepResult(DisplayMixin):
    """The rows of a sweep, and where its plans are.

    Immutable: ``table`` hands out a copy, ``summary`` is read-only.

    Attributes
    ----------
    status
        ``optimal`` when every scenario was solved to its gap; ``interrupted`` when the
        sweep was stopped (rows not solved have status ``skipped``); ``error`` when a
        scenario failed, was infeasible or had a solver error; else ``time_limit``.
    summary
        The fields of ``summary.json``: instance, grid, counts (``scenarios``,
        ``solved`` by this run, ``reused``, ``failed``), ``statuses``, ``workers``,
        ``seconds``, the solver options and versions.
    folder
        The sweep's folder: ``sweep.csv``, ``summary.json`` and ``scenarios/KEY/``.
    """

    status: SolveStatus
    _table: pd.DataFrame = field(repr=False)
    summary: Mapping[str, Any] = field(repr=False)
    folder: Path = field(repr=False)

    @property
    def table(self) -> pd.DataFrame:
        """One row per scenario, in grid order, as written to ``sweep.csv`` (a copy).

        Columns: ``scenario`` (its number), the varied values (``budget_scale``,
        ``objective_name``, ``min_coverage``, one column per dotted path), ``status``,
        ``objective``, ``bound``, ``gap`` (as :class:`AllocationResult` has them),
        ``simulated_objective``, ``build_seconds``, ``solve_seconds``, ``seconds`` (the
        whole scenario), ``useful_final`` (useful talent of the final year, persons),
        ``spend_total``, ``spend_program:P`` and ``spend_county:C`` (10k yuan over all
        years; county ``-``: plan-wide programs), ``reused`` (read back from an earlier
        run), ``attempts``, ``reason`` (why there is no plan), ``key`` and ``folder``
        (of the plan, under :attr:`folder`).
        """
        return self._table.copy()

    def plan(self, i: int) -> AllocationResult:
        """Load the plan of scenario ``i`` (a row number of :attr:`table`).

        Raises
        ------
        FileNotFoundError
            When the scenario has no plan (infeasible, failed, skipped).
        """
        row = self._table.iloc[i]
        if not isinstance(row["folder"], str) or not row["folder"]:
            raise FileNotFoundError(f"scenario {i} has no plan (status {row['status']})")
        return AllocationResult.from_dir(self.folder / row["folder"])

    def to_dir(self, path: str | Path | None = None) -> Path:
        """Write ``sweep.csv``, ``sweep.parquet`` and ``summary.json`` (last) into ``path``.

        ``path`` defaults to the sweep's folder. The Parquet file holds the same table
        with its column types (pyarrow).
        """
        produce: dict[str, Callable[[], str | bytes]] = {
            "sweep.csv": lambda: self._table.to_csv(index=False),
            "sweep.parquet": lambda: _parquet(self._table),
            "summary.json": lambda: json.dumps(json_ready(self.summary), indent=2),
        }
        target = self.folder if path is None else Path(path)
        return write_file_set(target, {name: produce[name]() for name in SWEEP_FILES})

    def _summary_tables(self) -> tuple[str, list[tuple[str, str]], list[pd.DataFrame]]:
        s = self.summary
        header = [
            ("instance", str(s["instance"])),
            ("status", self.status.value),
            (
                "scenarios",
                f"{s['scenarios']} ({s['solved']} solved, {s['reused']} reused, "
                f"{s['failed']} failed)",
            ),
            ("workers", str(s["workers"])),
            ("seconds", f"{s['seconds']:.1f}"),
        ]
        shown = [*s["columns"], "status", "objective", "gap", "spend_total", "useful_final"]
        return "Sweep", header, [self._table.set_index("scenario")[shown]]

    def plot_objective(self, x: str = "spend_total", *, ax: Axes | None = None) -> Axes:
        """Draw the objective against spend (or budget scale) with the marginal value of money.

        Returns the Axes (see :func:`talentplan._plot.sweep_objective_plot`).
        """
        return _plot.sweep_objective_plot(self._table, x=x, ax=ax)

    def plot_shares(
        self,
        by: Literal["program", "county"] = "program",
        *,
        x: str = "budget_scale",
        ax: Axes | None = None,
    ) -> Axes:
        """Draw each program's (or county's) share of the spend against ``x``; return the Axes."""
        return _plot.sweep_shares_plot(self._table, by=by, x=x, ax=ax)


def _parquet(table: pd.DataFrame) -> bytes:
    """Return ``table`` as the bytes of a Parquet file (no index)."""
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False, engine="pyarrow")
    return buffer.getvalue()


def _table(
    points: Sequence[Mapping[str, Any]],
    rows: Sequence[Mapping[str, Any] | None],
    grid: Grid,
    folder: Path,
) -> pd.DataFrame:
    """Assemble the sweep's table: one row per point, in grid order (see SweepResult.table)."""
    frame_rows = []
    for n, point in enumerate(points):
        row = rows[n] or {"status": SKIPPED, "reused": False, "attempts": 0, "reason": ""}
        key = str(row.get("key", ""))
        has_plan = bool(key) and (folder / SCENARIOS / key[:16] / "summary.json").is_file()
        where = f"{SCENARIOS}/{key[:16]}" if has_plan else ""
        frame_rows.append({"scenario": n, **point, **row, "folder": where})
    table = pd.DataFrame(frame_rows)
    spend = sorted(c for c in table.columns if str(c).startswith("spend_") and c != "spend_total")
    columns = [*_FIRST, *grid.columns, *grid.draw_columns, *_ACCOUNT, *spend, *_LAST]
    table = table.reindex(columns=columns)
    table["reused"] = table["reused"].astype(bool)
    table["attempts"] = table["attempts"].fillna(0).astype(int)
    for column in ("reason", "folder", "key"):
        table[column] = table[column].fillna("").astype(str)
    return table


def _overall(statuses: Counter[str], interrupted: bool) -> SolveStatus:
    if interrupted:
        return SolveStatus.INTERRUPTED
    bad = {FAILED, SolveStatus.ERROR.value, SolveStatus.INFEASIBLE.value}
    if bad & set(statuses):
        return SolveStatus.ERROR
    for status in (SolveStatus.TIME_LIMIT, SolveStatus.LIMIT):
        if status.value in statuses:
            return status
    return SolveStatus.OPTIMAL


def sweep(
    instance: Instance,
    out: str | Path,
    *,
    budget_scale: Sequence[float] | float = (1.0,),
    objective: Sequence[str] | str | None = None,
    min_coverage: Sequence[float] | float | None = None,
    params: Mapping[str, Sequence[Any]] | None = None,
    draws: pd.DataFrame | None = None,
    workers: int | None = None,
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    method: str = "auto",
    executor: Executor | None = None,
    progress: Callable[[SweepProgress], None] | None = None,
    stop: threading.Event | None = None,
    reuse: bool = True,
) -> SweepResult:
    """Solve ``instance`` at every point of a grid; keep each plan in ``out``.

    Parameters
    ----------
    instance
        The base instance.
    out
        The sweep's folder: plans go to ``out/scenarios/KEY/``, the table to
        ``out/sweep.csv`` with ``out/summary.json``. Scenarios already done there (same
        key) are read back, not solved.
    budget_scale
        Factors every budget is multiplied by (default: 1 only).
    objective
        Objectives to solve with (default: the scenario's).
    min_coverage
        Equity floors, shares in [0, 1] (default: the scenario's).
    params
        Dotted path -> values, e.g. ``{"scenario.discount_rate": [0.03, 0.05]}``
        (see :mod:`talentplan.data.edit` for the paths).
    draws
        Response-parameter draws, one row per draw and one column per key, e.g.
        ``ResponseParameters.draw(n, seed)``: each scenario is solved under each draw
        (column ``draw``, its values in columns ``param:KEY``), clipped to the admissible
        range of each effect.
    workers
        Worker processes of the local pool (default
        :func:`~talentplan.scenarios.executors.default_workers`: the cores available, at
        most the scenarios to solve). Ignored when ``executor`` is given.
    time_limit, mip_gap, method
        Of every solve (``time_limit`` per scenario). Each solve uses one HiGHS thread.
    executor
        Where to run the scenarios; default a :class:`LocalPool` of ``workers``.
    progress
        Called after each scenario finishes (and once at the start) with a
        :class:`SweepProgress`.
    stop
        Once set, no scenario starts and those running are abandoned: the result holds
        what was done, with status ``interrupted``; a later call resumes.
    reuse
        Let each worker solve its next scenario in the HiGHS object of its last one,
        changed in place, from that plan (see the module's notes); False builds every
        scenario's solver afresh.

    Returns
    -------
    SweepResult
        Also written to ``out`` (``sweep.csv``, ``summary.json``).

    Raises
    ------
    OptionError
        An option or an axis is not admissible (the option is named).
    ParameterPathError
        A dotted path names no parameter of the instance.
    InstanceValidationError
        A value of ``params`` is not admissible where it is put.
    CalibrationError
        A key of ``draws`` names no response of the instance.

    Examples
    --------
    >>> import tempfile, talentplan as tp
    >>> from talentplan.scenarios import sweep
    >>> inst = tp.datasets.synthetic(2, seed=1, n_years=2)
    >>> res = sweep(inst, tempfile.mkdtemp(), budget_scale=[0.5, 1.0], workers=1,
    ...             mip_gap=1e-3)
    >>> list(res.table["budget_scale"]), list(res.table["status"])
    ([0.5, 1.0], ['optimal', 'optimal'])
    """
    began = time.perf_counter()
    options = SolveOptions(time_limit=time_limit, mip_gap=mip_gap, threads=1, method=method)
    grid: Grid = make_grid(
        instance,
        budget_scale=budget_scale,
        objective=objective,
        min_coverage=min_coverage,
        params=params,
        draws=draws,
    )
    folder = Path(out)
    points = grid.points(instance)
    programs = tuple(str(p) for p in instance.tables["programs"]["program"])
    counties = tuple(str(c) for c in instance.tables["counties"]["county"])
    solve_options = {
        "time_limit": time_limit,
        "mip_gap": mip_gap,
        "threads": 1,
        "method": method,
    }
    rows: list[dict[str, Any] | None] = [None] * len(points)
    tasks: list[_Task] = []
    waiting: dict[str, list[int]] = {}
    provenance = versions()
    for n, point in enumerate(points):
        inst = grid.apply(instance, point)  # checks the point's values before any solve
        key = scenario_key(inst, point["objective_name"], options, provenance)
        where = folder / SCENARIOS / scenario_folder(key)
        earlier = _read_row(where, key)
        if earlier is not None:
            rows[n] = {**earlier, "reused": True, "attempts": 0}
            continue
        if key not in waiting:
            waiting[key] = []
            tasks.append(
                _Task(
                    instance,
                    grid,
                    point,
                    point["objective_name"],
                    key,
                    str(where),
                    solve_options,
                    programs,
                    counties,
                    reuse,
                )
            )
        waiting[key].append(n)
    if reuse:
        tasks.sort(key=lambda t: _reuse_order(t.point, grid))
    folder.mkdir(parents=True, exist_ok=True)
    reused = sum(r is not None for r in rows)
    n_workers = (
        executor.workers
        if executor is not None
        else (workers if workers is not None else default_workers(len(tasks)))
    )
    run = executor if executor is not None else LocalPool(n_workers)
    failed = finished = 0
    solve_time = 0.0

    def report() -> None:
        if progress is None:
            return
        remaining = sum(len(waiting[t.key]) for t in tasks) - finished
        elapsed = time.perf_counter() - began
        # Wall time per scenario so far (the workers' parallelism is in it).
        left = solve_time / finished * remaining if finished else math.nan
        progress(
            SweepProgress(len(points), reused + finished, failed, reused, remaining, elapsed, left)
        )

    report()
    started = time.perf_counter()
    if tasks:
        for outcome in run.run(_solve_scenario, tasks, stop=stop):
            task = tasks[outcome.index]
            where = Path(task.folder)
            if outcome.value is None:
                row = {"key": task.key, "status": FAILED, "reason": outcome.error or ""}
                where.mkdir(parents=True, exist_ok=True)  # a worker that died never made it
                atomic_write_text(where / ROW_FILE, json.dumps(row, indent=1))
            else:
                row = dict(outcome.value)
            for n in waiting[task.key]:
                rows[n] = {**row, "reused": False, "attempts": outcome.attempts}
                finished += 1
                failed += row["status"] == FAILED
            solve_time = time.perf_counter() - started
            report()
    interrupted = any(r is None for r in rows)
    table = _table(points, rows, grid, folder)
    statuses = Counter(str(s) for s in table["status"])
    status = _overall(statuses, interrupted)
    summary = {
        "command": "sweep",
        "instance": instance.scenario.name,
        "instance_hash": instance.hash(),
        "status": status.value,
        "columns": grid.columns,
        "grid": {
            "budget_scale": list(grid.budget_scale),
            "objective": [o or instance.scenario.objective for o in grid.objective],
            "min_coverage": [
                instance.scenario.min_coverage if m is None else m for m in grid.min_coverage
            ],
            "params": {p: list(v) for p, v in grid.params},
            "draws": len(grid.draws),
        },
        "scenarios": len(points),
        "solved": int((~table["reused"] & ~table["status"].isin([SKIPPED, FAILED])).sum()),
        "reused": int(table["reused"].sum()),
        "failed": int((table["status"] == FAILED).sum()),
        "skipped": int((table["status"] == SKIPPED).sum()),
        "statuses": dict(sorted(statuses.items())),
        "workers": n_workers,
        "seconds": time.perf_counter() - began,
        "time_limit": time_limit,
        "mip_gap": mip_gap,
        "threads_per_solve": 1,
        "method": method,
        "reuse": reuse,
        "versions": provenance,
    }
    result = SweepResult(status=status, _table=table, summary=_frozen(summary), folder=folder)
    result.to_dir()
    return result
