"""Solve a formulation with HiGHS: time limit, gap, threads, progress, shadow prices.

Within a :class:`~talentplan.solver.deadline.Deadline` the compile, the seed plan
(:func:`~talentplan.solver.heuristic.seed_plan`), HiGHS and the shadow-price LP share
what is left of the call's time limit; HiGHS starts from the seed, so a stop at any
moment returns at least the seed's plan.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import highspy
import numpy as np

from talentplan.model.build import Formulation
from talentplan.solver.deadline import MIN_SOLVER_SECONDS, Deadline
from talentplan.solver.heuristic import Seed, seed_plan
from talentplan.solver.matrix import FEASIBLE, CompiledModel, compile_formulation, to_highs
from talentplan.solver.status import SolveStatus, map_status

logger = logging.getLogger(__name__)


PRICES_RESERVE = 1.5
"""Seconds kept back for the shadow-price LP, as a multiple of the seed's fixed LP."""

PRICES_SHARE = 0.1
"""The most of the time left that is kept back for the shadow-price LP."""

SEED_SHARE = 0.5
"""At most this share of the time left after the build goes to the rounded LP relaxation."""


@dataclass(frozen=True)
class Progress:
    """A snapshot of a running solve, for progress displays.

    ``phase`` says what is running: ``building`` (the model), ``compiling`` (the
    matrices), ``first plan`` (the seed heuristic), ``presolve`` and ``root LP`` (HiGHS
    before its first bound), ``search`` (branch and bound: ``objective``, ``bound`` and
    ``gap`` are the best plan's model value, the bound and their gap; NaN or infinite
    before they exist), ``prices`` (the shadow-price LP), ``county prices`` (the
    decomposition's price rounds, :mod:`talentplan.solver.decomposition`), ``simulating``
    (the plan played with the exact curves), ``comparing`` (the report's comparisons,
    :func:`talentplan.report.pipeline.comparisons`).
    """

    seconds: float
    objective: float
    bound: float
    gap: float
    stage: str = ""
    """What is being solved when it is not the plan itself (e.g. a limit being priced)."""
    phase: str = "search"


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
    seed: Seed | None = None
    """The seed plan HiGHS started from (None: not tried)."""
    source: str = "highs"
    """Where the plan comes from: ``highs``, ``seed`` when HiGHS stopped before
    returning one and the seed plan stands, ``decomposition``, or ``minimal`` when the
    decomposition stopped before a plan of its own and the minimal plan it kept aside
    stands (:mod:`talentplan.solver.methods`)."""
    method: str = "monolithic"
    """``monolithic`` or ``decomposition`` (:mod:`talentplan.solver.methods`)."""
    method_reason: str = ""
    """Why that method ran."""
    notes: tuple[str, ...] = ()
    """What the method noticed on the way, in plain words."""

    @property
    def has_plan(self) -> bool:
        """Whether the solver returned values for the columns (a plan, optimal or not)."""
        return self.values is not None


def relative_gap(objective: float, bound: float) -> float:
    """``|bound - objective| / |objective|``; ``inf`` unless both are finite."""
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
    deadline: Deadline | None = None,
    reserve: float = 0.0,
    warm_start: bool = True,
    solver_log: bool = False,
    build: str = "pyomo",
) -> SolverRun:
    """Solve the MIP, then the LP with integers fixed for shadow prices.

    A time limit is a result: the best plan found, its bound and gap. So is an
    interruption: setting ``stop`` (from a signal handler, another thread) or a
    ``KeyboardInterrupt`` (Ctrl-C in a terminal or a notebook) stops HiGHS cleanly and
    returns status ``interrupted`` with the best plan so far; a second
    ``KeyboardInterrupt`` is raised at once. No plan at all is reported by
    ``values=None`` and a status that says why.

    Parameters
    ----------
    formulation
        The built model.
    time_limit
        Seconds for this call when no ``deadline`` is given.
    mip_gap, threads
        As :class:`~talentplan.solver.api.SolveOptions` says.
    progress
        Called with a :class:`Progress` about once a second, and at each change of phase.
    shadow_prices
        Also solve the LP with the integers fixed, for the row duals; skipped (and noted
        in ``deadline.skipped``) when the deadline leaves no time for it.
    stop
        Set it to stop HiGHS; the best plan so far comes back as ``interrupted``.
    deadline
        The whole call's deadline; default one of ``time_limit`` from now.
    reserve
        Seconds to keep back for the work after this call (reading back, simulation).
    warm_start
        Seed HiGHS with :func:`~talentplan.solver.heuristic.seed_plan` first.
    solver_log
        Write HiGHS's own log to standard error.
    build
        How the matrices are made: ``pyomo`` (Pyomo's compiler) or ``arrays``
        (:func:`~talentplan.solver.matrix.compile_formulation`).
    """
    deadline = deadline if deadline is not None else Deadline(time_limit)
    tell = progress if progress is not None else (lambda _: None)
    tell(_phase(deadline, "compiling"))
    cm = compile_formulation(formulation, build)
    return solve_compiled(
        cm,
        mip_gap=mip_gap,
        threads=threads,
        progress=progress,
        shadow_prices=shadow_prices,
        stop=stop,
        deadline=deadline,
        reserve=reserve,
        warm_start=warm_start,
        solver_log=solver_log,
    )


def solve_compiled(
    cm: CompiledModel,
    *,
    mip_gap: float = 1e-4,
    threads: int | None = None,
    progress: Callable[[Progress], None] | None = None,
    shadow_prices: bool = True,
    stop: threading.Event | None = None,
    deadline: Deadline | None = None,
    reserve: float = 0.0,
    warm_start: bool = True,
    solver_log: bool = False,
    highs: highspy.Highs | None = None,
    start: Seed | None = None,
) -> SolverRun:
    """Solve a compiled MIP: the part of :func:`solve_formulation` after the compile.

    Parameters
    ----------
    cm
        The compiled model.
    highs
        A HiGHS object that already holds ``cm`` (its callbacks are replaced); default a
        new one loaded with :func:`~talentplan.solver.matrix.to_highs`.
    start
        A feasible plan to start from instead of running the seed heuristic (used only
        with ``warm_start``); it stands as the seed does when HiGHS stops without a
        better plan.
    mip_gap, threads, progress, shadow_prices, stop, deadline, reserve, warm_start, solver_log
        As :func:`solve_formulation` takes them.
    """
    deadline = deadline if deadline is not None else Deadline(None)
    tell = progress if progress is not None else (lambda _: None)
    seed: Seed | None = start if warm_start else None
    if warm_start and seed is None and cm.integer.any():
        tell(_phase(deadline, "first plan"))
        # The minimal plan may take all that is left (without it an early stop has
        # nothing); the LP relaxation's rounding only its share.
        seed = seed_plan(
            cm,
            time_limit=deadline.budget(reserve + MIN_SOLVER_SECONDS),
            relaxation_time_limit=deadline.budget(reserve, SEED_SHARE),
        )
        if not seed.found:
            logger.info("no seed plan: %s", "; ".join(seed.notes))
    # Keep back time for the shadow-price LP too, when it is a small part of what is left
    # (it takes about as long as the seed's LP with the integers fixed).
    prices = 0.0
    if shadow_prices and seed is not None and math.isfinite(seed.lp_seconds):
        if PRICES_RESERVE * seed.lp_seconds <= PRICES_SHARE * (deadline.remaining() - reserve):
            prices = PRICES_RESERVE * seed.lp_seconds
    h = to_highs(cm) if highs is None else highs
    configure(h, time_limit=deadline.budget(reserve + prices), mip_gap=mip_gap, threads=threads)
    if seed is not None and seed.values is not None:
        start_from = highspy.HighsSolution()
        start_from.col_value = seed.values.tolist()
        h.setSolution(start_from)
    watch = _Watch(deadline, tell)
    watch.subscribe(h, solver_log)
    began = time.perf_counter()
    try:
        run_interruptibly(h, stop, tick=watch.tick)
    finally:
        watch.unsubscribe(h)  # a HiGHS object solved again gets a new watch
    seconds = time.perf_counter() - began
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
    source = "highs"
    if seed is not None and seed.values is not None and status.may_have_plan:
        sign = 1.0 if cm.maximize else -1.0
        if values is None or sign * seed.objective > sign * objective + 1e-9 * (1 + abs(objective)):
            values, objective, source = seed.values, seed.objective, "seed"
        if math.isfinite(seed.relaxation_bound):
            # The LP relaxation bounds the MIP too: keep the tighter of the two bounds
            # (never past the plan itself: the interior-point optimum is within tolerances).
            relaxed = sign * max(sign * seed.relaxation_bound, sign * objective)
            if math.isfinite(bound):
                relaxed = sign * min(sign * bound, sign * relaxed)
            bound = relaxed
    gap = relative_gap(objective, bound) if values is not None else math.inf
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
        seed=seed,
        source=source,
    )
    if values is not None and shadow_prices:
        price_plan(run, deadline, reserve, tell)
    return run


def price_plan(
    run: SolverRun, deadline: Deadline, reserve: float, tell: Callable[[Progress], None]
) -> None:
    """Set ``run.row_duals`` from the LP with the plan's integers fixed, if time allows.

    Skipped, and recorded in ``deadline.skipped``, when the deadline leaves no time for
    the LP or the LP does not finish.
    """
    assert run.values is not None
    if deadline.bounded and not deadline.allows(reserve + MIN_SOLVER_SECONDS):
        deadline.skip("shadow prices: no time left for the LP with the integers fixed")
        return
    tell(_phase(deadline, "prices"))
    run.row_duals = fixed_lp_duals(run.compiled, run.values, time_limit=deadline.budget(reserve))
    if run.row_duals is None and deadline.bounded:
        deadline.skip("shadow prices: the LP with the integers fixed did not finish")


def _phase(deadline: Deadline, phase: str) -> Progress:
    return Progress(deadline.elapsed(), math.nan, math.nan, math.inf, phase=phase)


_LOG_PHASES = (("Presolving model", "presolve"), ("Solving MIP model with", "root LP"))
"""HiGHS log lines that start a phase, and the phase they start."""


class _Watch:
    """Follow a HiGHS run: its phase from its log, its bounds from its MIP callbacks."""

    def __init__(self, deadline: Deadline, tell: Callable[[Progress], None]) -> None:
        self.deadline, self.tell = deadline, tell
        self.phase = "presolve"
        self.last = 0.0
        self._subscribed: tuple[Callable[[object], None], ...] = ()

    def subscribe(self, h: highspy.Highs, solver_log: bool) -> None:
        # The log is read for the phase; it reaches the console only with solver_log
        # (HiGHS would print it on standard output, which belongs to the results).
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", False)

        def on_log(event: object) -> None:
            message = str(event.message)  # type: ignore[attr-defined]
            for start, phase in _LOG_PHASES:
                if message.lstrip().startswith(start) and self.phase != "search":
                    self.phase = phase
            if solver_log:
                sys.stderr.write(message)
                sys.stderr.flush()

        def on_mip(event: object) -> None:
            out = event.data_out  # type: ignore[attr-defined]
            primal, dual = float(out.mip_primal_bound), float(out.mip_dual_bound)
            if math.isfinite(dual):
                self.phase = "search"
            now = self.deadline.elapsed()
            if now - self.last < 1.0:
                return
            self.last = now
            if self.phase != "search":
                self.tell(_phase(self.deadline, self.phase))
                return
            self.tell(Progress(now, primal, dual, relative_gap(primal, dual)))

        h.cbLogging.subscribe(on_log)
        h.cbMipInterrupt.subscribe(on_mip)
        self._subscribed = (on_log, on_mip)

    def unsubscribe(self, h: highspy.Highs) -> None:
        """Remove this watch's callbacks (not HiGHS's own interrupt handler) from ``h``."""
        for event, fn in zip((h.cbLogging, h.cbMipInterrupt), self._subscribed, strict=False):
            event.unsubscribe(fn)
        self._subscribed = ()

    def tick(self) -> None:
        """Report the phase while HiGHS is silent (presolve, root LP)."""
        now = self.deadline.elapsed()
        if self.phase != "search" and now - self.last >= 1.0:
            self.last = now
            self.tell(_phase(self.deadline, self.phase))


def configure(
    h: highspy.Highs, *, time_limit: float | None, mip_gap: float, threads: int | None
) -> None:
    """Set the gap, time limit and threads of a HiGHS object (None: HiGHS's default)."""
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    # Set even without a limit: a HiGHS object used again keeps its earlier one.
    h.setOptionValue("time_limit", math.inf if time_limit is None else float(time_limit))
    if threads is not None:
        h.setOptionValue("threads", int(threads))


def run_interruptibly(
    h: highspy.Highs,
    stop: threading.Event | None,
    tick: Callable[[], None] | None = None,
) -> None:
    """Run HiGHS in its own thread and cancel it on ``stop`` or a first KeyboardInterrupt.

    The main thread waits in short slices, so signal handlers run and Ctrl-C is seen
    while HiGHS works (it releases the interpreter lock while it solves); ``tick`` is
    called after each slice.
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
        if tick is not None:
            tick()
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
        progress(Progress(now, primal, dual, relative_gap(primal, dual), stage))

    h.cbMipInterrupt.subscribe(report)


def fixed_lp_duals(
    cm: CompiledModel, values: np.ndarray, time_limit: float | None = None
) -> np.ndarray | None:
    """Row duals of the LP with every integer variable fixed at its value in the plan.

    The dual of a budget, land or cadre row is the objective gained per unit of that
    resource with the discrete decisions held as they are. None when the LP does not
    solve to optimality (within ``time_limit`` seconds, when given).
    """
    lower, upper = cm.col_lower.copy(), cm.col_upper.copy()
    fixed = np.round(values[cm.integer])
    lower[cm.integer] = fixed
    upper[cm.integer] = fixed
    h = to_highs(cm, col_lower=lower, col_upper=upper, integer=False)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        logger.warning("LP with integers fixed did not solve to optimality: no shadow prices")
        return None
    return np.asarray(h.getSolution().row_dual, dtype=float)


def load_values(cm: CompiledModel, values: np.ndarray) -> None:
    """Write solution values back into the Pyomo variables."""
    for var, value in zip(cm.columns, values, strict=True):
        var.set_value(float(value), skip_validation=True)
