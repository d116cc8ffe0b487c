"""Solve a formulation with HiGHS: time limit, gap, threads, progress, shadow prices."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import highspy
import numpy as np

from talentplan.model.build import Formulation
from talentplan.solver.matrix import FEASIBLE, CompiledModel, compile_model, to_highs
from talentplan.solver.status import SolveStatus, map_status

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Progress:
    """A snapshot of a running MIP solve, for progress displays."""

    seconds: float
    objective: float
    bound: float
    gap: float
    stage: str = ""
    """What is being solved when it is not the plan itself (e.g. a limit being priced)."""


@dataclass
class SolverRun:
    """What the solver returned, before it is turned into planner tables."""

    status: SolveStatus
    highs_status: str
    objective: float
    bound: float
    gap: float
    values: np.ndarray | None
    solve_seconds: float
    compiled: CompiledModel
    row_duals: np.ndarray | None = None
    mip_nodes: int = 0
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def has_plan(self) -> bool:
        """Whether the solver returned values for the columns (a plan, optimal or not)."""
        return self.values is not None


def _relative_gap(objective: float, bound: float) -> float:
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return math.inf
    return abs(bound - objective) / max(abs(objective), 1e-10)


def solve_formulation(
    formulation: Formulation,
    *,
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    threads: int | None = None,
    progress: Callable[[Progress], None] | None = None,
    shadow_prices: bool = True,
    stop: threading.Event | None = None,
) -> SolverRun:
    """Solve the MIP, then the LP with integers fixed for shadow prices.

    A time limit is a result: the best plan found, its bound and gap. So is an
    interruption: setting ``stop`` (from a signal handler, another thread) or a
    ``KeyboardInterrupt`` (Ctrl-C in a terminal or a notebook) stops HiGHS cleanly and
    returns status ``interrupted`` with the best plan so far; a second
    ``KeyboardInterrupt`` is raised at once. No plan at all is reported by
    ``values=None`` and a status that says why.
    """
    cm = compile_model(formulation.model)
    h = to_highs(cm)
    configure(h, time_limit=time_limit, mip_gap=mip_gap, threads=threads)
    if progress is not None:
        subscribe_progress(h, progress)
    start = time.perf_counter()
    run_interruptibly(h, stop)
    seconds = time.perf_counter() - start
    model_status = h.getModelStatus()
    status = map_status(model_status)
    info = h.getInfo()
    has_plan = status.may_have_plan and info.primal_solution_status == FEASIBLE
    values = np.asarray(h.getSolution().col_value, dtype=float) if has_plan else None
    objective = float(info.objective_function_value) if has_plan else math.nan
    if cm.integer.any():
        bound = float(info.mip_dual_bound)
        nodes = int(info.mip_node_count)
    else:
        bound, nodes = objective, 0
    gap = _relative_gap(objective, bound) if has_plan else math.inf
    run = SolverRun(
        status=status,
        highs_status=h.modelStatusToString(model_status),
        objective=objective,
        bound=bound,
        gap=gap,
        values=values,
        solve_seconds=seconds,
        compiled=cm,
        mip_nodes=nodes,
    )
    if values is not None and shadow_prices:
        run.row_duals = fixed_lp_duals(cm, values)
    return run


def configure(
    h: highspy.Highs, *, time_limit: float | None, mip_gap: float, threads: int | None
) -> None:
    """Set the gap, time limit and threads of a HiGHS object (None: HiGHS's default)."""
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    if threads is not None:
        h.setOptionValue("threads", int(threads))


def run_interruptibly(h: highspy.Highs, stop: threading.Event | None) -> None:
    """Run HiGHS in its own thread and cancel it on ``stop`` or a first KeyboardInterrupt.

    The main thread waits in short slices, so signal handlers run and Ctrl-C is seen
    while HiGHS works (it releases the interpreter lock while it solves).
    """
    h.HandleUserInterrupt = True
    thread = h.startSolve()
    cancelled = False
    while True:
        try:
            done, _ = h.wait(0.1)
        except KeyboardInterrupt:
            if cancelled:
                raise
            logger.warning("interrupted: stopping HiGHS with the best plan so far")
            cancelled = True
            h.cancelSolve()
            continue
        if done:
            break
        if stop is not None and stop.is_set() and not cancelled:
            cancelled = True
            h.cancelSolve()
    thread.join()


def subscribe_progress(
    h: highspy.Highs, progress: Callable[[Progress], None], stage: str = ""
) -> None:
    """Call ``progress`` about once a second while HiGHS searches, naming ``stage``."""
    last = [0.0]

    def report(event: object) -> None:
        out = event.data_out  # type: ignore[attr-defined]
        now = float(out.running_time)
        if now - last[0] < 1.0:
            return
        last[0] = now
        primal, dual = float(out.mip_primal_bound), float(out.mip_dual_bound)
        progress(Progress(now, primal, dual, _relative_gap(primal, dual), stage))

    h.cbMipInterrupt.subscribe(report)


def fixed_lp_duals(cm: CompiledModel, values: np.ndarray) -> np.ndarray | None:
    """Row duals of the LP with every integer variable fixed at its value in the plan.

    The dual of a budget, land or cadre row is the objective gained per unit of that
    resource with the discrete decisions held as they are.
    """
    lower, upper = cm.col_lower.copy(), cm.col_upper.copy()
    fixed = np.round(values[cm.integer])
    lower[cm.integer] = fixed
    upper[cm.integer] = fixed
    h = to_highs(cm, col_lower=lower, col_upper=upper, integer=False)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        logger.warning("LP with integers fixed did not solve to optimality: no shadow prices")
        return None
    return np.asarray(h.getSolution().row_dual, dtype=float)


def load_values(cm: CompiledModel, values: np.ndarray) -> None:
    """Write solution values back into the Pyomo variables."""
    for var, value in zip(cm.columns, values, strict=True):
        var.set_value(float(value), skip_validation=True)
