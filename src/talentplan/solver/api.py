"""Solve an instance: build the model, run HiGHS, read the solution back into tables.

:func:`solve_instance` is the solver layer's whole job in one call and returns a
:class:`Solution`: the planner tables and the solver's account, nothing more. Playing
the plan with the exact curves and presenting it is the report layer's job
(:func:`talentplan.solve` returns an :class:`~talentplan.report.result.AllocationResult`).
"""

from __future__ import annotations

import logging
import math
import platform
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

import pandas as pd
import pyomo.environ as pyo

from talentplan._options import check_choice, check_number
from talentplan.data.instance import Instance
from talentplan.data.schema import Objective
from talentplan.errors import InfeasiblePlanError, NoSolutionError, SolverError
from talentplan.model.build import Formulation, build_model
from talentplan.solver.deadline import MIN_SOLVER_SECONDS, Deadline
from talentplan.solver.explain import explain_infeasibility
from talentplan.solver.highs import Progress, SolverRun, load_values, solve_formulation
from talentplan.solver.matrix import BUILDS, new_highs
from talentplan.solver.methods import METHODS, choose_method, solve_by_counties
from talentplan.solver.readback import allocation_table, budget_use, model_sizes, shadow_prices
from talentplan.solver.reuse import ModelReuse
from talentplan.solver.status import SolveStatus
from talentplan.solver.steps import step_values

__all__ = ["Solution", "SolveOptions", "after_solve_seconds", "solve_instance", "versions"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Solution:
    """The solver's answer for one instance, read back into planner tables.

    Attributes
    ----------
    formulation
        The model that was solved, with its data and objective name.
    run
        What HiGHS returned: status, objective, bound, gap, timings, node count.
    allocation, budget_use, shadow_prices
        The tables of :mod:`talentplan.solver.readback`.
    """

    formulation: Formulation = field(repr=False)
    run: SolverRun = field(repr=False)
    allocation: pd.DataFrame = field(repr=False)
    budget_use: pd.DataFrame = field(repr=False)
    shadow_prices: pd.DataFrame = field(repr=False)
    skipped: tuple[str, ...] = ()
    """Optional work left out to keep the time limit (shadow prices, step values)."""

    @property
    def sizes(self) -> dict[str, int]:
        """``n_variables``, ``n_binaries``, ``n_integers`` and ``n_constraints``."""
        return model_sizes(self.run)


def versions() -> dict[str, str]:
    """Versions of talentplan, Pyomo, HiGHS, highspy, Python and the numeric stack.

    The numeric stack is numpy, pandas and linearmodels (calibration); a package that is
    not installed reads ``"absent"``.
    """
    h = new_highs()
    found = {
        "talentplan": version("talentplan"),
        "pyomo": pyo.__version__ if hasattr(pyo, "__version__") else version("pyomo"),
        "highs": f"{h.version()}",
        "highspy": version("highspy"),
        "python": platform.python_version(),
    }
    for package in ("numpy", "pandas", "linearmodels"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "absent"
    return found


@dataclass(frozen=True)
class SolveOptions:
    """How to solve: validated once, when made.

    Attributes
    ----------
    time_limit
        Seconds (> 0); at the limit the best plan found so far is returned with its gap.
        None: no limit.
    mip_gap
        Relative optimality gap at which to stop, in [0, 1).
    threads
        Solver threads (>= 1); None: HiGHS's choice. With decomposition, the number of
        worker processes for the county subproblems (None: every core).
    objective
        ``talent_index``, ``min_cost`` or ``equity``; None: the scenario's.
    step_values
        Also price each fully used land or cadre limit by re-solving with one more step
        of it (:func:`talentplan.solver.steps.step_values`): one re-solve per such limit.
    warm_start
        Seed HiGHS with a feasible plan from a fast heuristic before its branch and
        bound (:func:`talentplan.solver.heuristic.seed_plan`), so that a stop at the time
        limit returns at least that plan.
    solver_log
        Write HiGHS's own log to standard error.
    method
        ``auto`` (by the number of counties), ``monolithic`` (the whole MIP to HiGHS)
        or ``decomposition`` (by county, :mod:`talentplan.solver.decomposition`); see
        :mod:`talentplan.solver.methods`.
    build
        How the matrices given to HiGHS are made from the Pyomo model's data: ``pyomo``
        (Pyomo's standard-form compiler), ``arrays`` (the vectorised array build,
        :mod:`talentplan.model.arrays`: the same matrices, many times faster on large
        instances) or ``auto`` (arrays from 100 counties,
        :func:`talentplan.solver.matrix.resolve_build`). The Pyomo model is built either
        way; the plan is read back from it.

    Raises
    ------
    OptionError
        When a value is not admissible.
    """

    time_limit: float | None = None
    mip_gap: float = 1e-4
    threads: int | None = None
    objective: str | None = None
    step_values: bool = False
    warm_start: bool = True
    solver_log: bool = False
    method: str = "auto"
    build: str = "pyomo"

    def __post_init__(self) -> None:
        """Check every option against its admissible range."""
        if self.time_limit is not None:
            check_number("time_limit", self.time_limit, low=0, low_open=True)
        check_number("mip_gap", self.mip_gap, low=0, high=1, high_open=True)
        if self.threads is not None:
            check_number("threads", self.threads, low=1, integer=True)
        if self.objective is not None:
            check_choice("objective", self.objective, Objective)
        check_choice("step_values", self.step_values, (False, True))
        check_choice("warm_start", self.warm_start, (False, True))
        check_choice("solver_log", self.solver_log, (False, True))
        check_choice("method", self.method, METHODS)
        check_choice("build", self.build, BUILDS)


AFTER_SOLVE_SECONDS_PER_COLUMN = 2e-5
"""Seconds per model column kept back for the work after HiGHS (reading the plan back,
its tables and playing it with the exact curves); measured on synthetic instances of 150
and 300 counties on a shared two-core machine, with a margin."""


def after_solve_seconds(n_columns: int) -> float:
    """Seconds to keep back, out of a time limit, for the work after HiGHS returns.

    Parameters
    ----------
    n_columns
        Columns of the model (about proportional to the counties times the years).

    Returns
    -------
    float
        At least one second, growing with the model.
    """
    return max(1.0, AFTER_SOLVE_SECONDS_PER_COLUMN * n_columns)


def solve_instance(
    instance: Instance,
    options: SolveOptions,
    progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
    deadline: Deadline | None = None,
    reuse: ModelReuse | None = None,
) -> Solution:
    """Build and solve the allocation MIP of ``instance``.

    Parameters
    ----------
    instance
        A validated planning instance.
    options
        Time limit, gap, threads and objective.
    progress
        Called about once a second during the solve, and at each change of phase.
    stop
        Set it (from a signal handler or another thread) to stop the solver; the best
        plan so far comes back with status ``interrupted``.
    deadline
        The deadline of the whole call (its build, solve, prices and what the caller
        does after); default: ``options.time_limit`` from now.
    reuse
        Solve in the HiGHS object this carries from an earlier scenario, changed in
        place, starting from that scenario's plan when it is feasible here
        (:mod:`talentplan.solver.reuse`); not used by the decomposition.

    Returns
    -------
    Solution

    Raises
    ------
    InfeasiblePlanError, NoSolutionError, SolverError
        As :func:`talentplan.solve` says; an unbounded model is a ``SolverError``.
    """
    deadline = deadline if deadline is not None else Deadline(options.time_limit)
    if progress is not None:
        progress(Progress(deadline.elapsed(), math.nan, math.nan, math.inf, phase="building"))
    formulation = build_model(instance, options.objective)
    logger.info("built %s in %.2fs", instance.scenario.name, formulation.build_seconds)
    reserve = after_solve_seconds(_n_columns(formulation))
    method, reason = choose_method(options.method, len(instance.counties))
    logger.info("method %s (%s)", method, reason)
    if method == "decomposition":
        run = solve_by_counties(
            formulation,
            mip_gap=options.mip_gap,
            threads=options.threads,
            deadline=deadline,
            reserve=reserve,
            progress=progress,
            stop=stop,
            build=options.build,
        )
    else:
        # One model, or one carried from the last scenario (model reuse).
        solve_one = solve_formulation if reuse is None else reuse.solve
        run = solve_one(
            formulation,
            mip_gap=options.mip_gap,
            threads=options.threads,
            progress=progress,
            stop=stop,
            deadline=deadline,
            reserve=reserve,
            warm_start=options.warm_start,
            solver_log=options.solver_log,
            build=options.build,
        )
    run.method, run.method_reason = method, reason
    if run.status == SolveStatus.INFEASIBLE:
        # The explanation may take as long again as the solve was allowed (60 s by default).
        explanation = explain_infeasibility(
            formulation,
            run.compiled,
            time_limit=max(deadline.remaining(), 1.0) if deadline.bounded else 60.0,
        )
        raise InfeasiblePlanError(
            f"instance '{instance.scenario.name}' is infeasible.", explanation
        )
    if run.status == SolveStatus.UNBOUNDED:
        raise SolverError(
            "the model is unbounded: a program has an effect with no cost or cap; "
            "check programs.csv and responses.csv"
        )
    if run.values is None:
        if run.status == SolveStatus.INTERRUPTED:
            raise NoSolutionError(
                f"the solve was interrupted after {run.solve_seconds:.1f}s, before any "
                "feasible plan was found."
            )
        if run.status.may_have_plan:
            seeded = (
                f" (the first-plan heuristic found none: {'; '.join(run.seed.notes)})"
                if run.seed is not None
                else ""
            )
            if run.notes:
                seeded = f" ({'; '.join(run.notes)})"
            solver = "the decomposition" if run.method == "decomposition" else "HiGHS"
            raise NoSolutionError(
                f"{solver} stopped ({run.highs_status}) after {run.solve_seconds:.1f}s without any "
                f"feasible plan{seeded}: give a longer time_limit, a larger mip_gap, or a "
                "smaller instance (fewer counties or years)."
            )
        raise SolverError(f"HiGHS failed: {run.highs_status}")
    load_values(run.compiled, run.values)
    prices = shadow_prices(formulation, run)
    if options.step_values and run.status != SolveStatus.INTERRUPTED:
        if deadline.bounded and not deadline.allows(reserve + MIN_SOLVER_SECONDS):
            deadline.skip("step values: no time left for the re-solves")
        else:
            prices = step_values(
                formulation,
                run,
                prices,
                time_limit=options.time_limit,
                mip_gap=options.mip_gap,
                threads=options.threads,
                progress=progress,
                stop=stop,
                deadline=deadline,
                reserve=reserve,
            )
    return Solution(
        formulation=formulation,
        run=run,
        allocation=allocation_table(formulation),
        budget_use=budget_use(formulation),
        shadow_prices=prices,
        skipped=tuple(deadline.skipped),
    )


def _n_columns(formulation: Formulation) -> int:
    """Columns of the model, counted without compiling it."""
    return sum(len(v) for v in formulation.model.component_objects(pyo.Var, active=True))
