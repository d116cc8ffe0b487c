"""Solve an instance: build the model, run HiGHS, read the solution back into tables.

:func:`solve_instance` is the solver layer's whole job in one call and returns a
:class:`Solution`: the planner tables and the solver's account, nothing more. Playing
the plan with the exact curves and presenting it is the report layer's job
(:func:`talentplan.solve` returns an :class:`~talentplan.report.result.AllocationResult`).
"""

from __future__ import annotations

import logging
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version

import pandas as pd
import pyomo.environ as pyo

from talentplan._options import check_number
from talentplan.data.instance import Instance
from talentplan.errors import InfeasiblePlanError, NoSolutionError, SolverError
from talentplan.model.build import Formulation, build_model
from talentplan.solver.explain import explain_infeasibility
from talentplan.solver.highs import Progress, load_values, solve_formulation
from talentplan.solver.matrix import new_highs
from talentplan.solver.readback import allocation_table, budget_use, model_sizes, shadow_prices
from talentplan.solver.status import SolveStatus

__all__ = ["Solution", "check_solve_options", "solve_instance", "versions"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Solution:
    """The solver's answer for one instance, read back into planner tables.

    Attributes
    ----------
    formulation
        The model that was solved, with its data and objective name.
    status, highs_status
        Our status and HiGHS's own words for it.
    objective, bound, gap
        The plan's model objective, the best bound and their relative gap.
    allocation, budget_use, shadow_prices
        The tables of :mod:`talentplan.solver.readback`.
    sizes
        ``n_variables``, ``n_binaries``, ``n_integers``, ``n_constraints``.
    solve_seconds, mip_nodes
        Solver time and branch-and-bound nodes.
    """

    formulation: Formulation = field(repr=False)
    status: SolveStatus
    highs_status: str
    objective: float
    bound: float
    gap: float
    allocation: pd.DataFrame = field(repr=False)
    budget_use: pd.DataFrame = field(repr=False)
    shadow_prices: pd.DataFrame = field(repr=False)
    sizes: dict[str, int]
    solve_seconds: float
    mip_nodes: int


def versions() -> dict[str, str]:
    """Versions of talentplan, Pyomo, HiGHS, highspy and Python, for provenance."""
    h = new_highs()
    return {
        "talentplan": version("talentplan"),
        "pyomo": pyo.__version__ if hasattr(pyo, "__version__") else version("pyomo"),
        "highs": f"{h.version()}",
        "highspy": version("highspy"),
        "python": platform.python_version(),
    }


def check_solve_options(time_limit: float | None, mip_gap: float, threads: int | None) -> None:
    """Raise :class:`~talentplan.errors.OptionError` for an inadmissible solver option."""
    if time_limit is not None:
        check_number("time_limit", time_limit, low=0, low_open=True)
    check_number("mip_gap", mip_gap, low=0, high=1, high_open=True)
    if threads is not None:
        check_number("threads", threads, low=1, integer=True)


def solve_instance(
    instance: Instance,
    *,
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    threads: int | None = None,
    objective: str | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> Solution:
    """Build and solve the allocation MIP of ``instance``.

    Parameters are those of :func:`talentplan.solve`.

    Returns
    -------
    Solution

    Raises
    ------
    OptionError
        An option is not admissible.
    InfeasiblePlanError
        No plan satisfies every rule; ``.explanation`` names the conflicting rules.
    NoSolutionError
        The solver stopped (time limit, other limit) before finding any plan.
    SolverError
        The solver failed, or the model is unbounded.
    """
    check_solve_options(time_limit, mip_gap, threads)
    formulation = build_model(instance, objective)
    logger.info("built %s in %.2fs", instance.scenario.name, formulation.build_seconds)
    run = solve_formulation(
        formulation, time_limit=time_limit, mip_gap=mip_gap, threads=threads, progress=progress
    )
    if run.status == SolveStatus.INFEASIBLE:
        # The explanation may take as long again as the solve was allowed (60 s by default).
        explanation = explain_infeasibility(
            formulation, run.compiled, time_limit=time_limit or 60.0
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
        if run.status.may_have_plan:
            raise NoSolutionError(
                f"HiGHS stopped ({run.highs_status}) after {run.solve_seconds:.1f}s without any "
                "feasible plan: give a longer time_limit, a larger mip_gap, or a smaller "
                "instance (fewer counties or years)."
            )
        raise SolverError(f"HiGHS failed: {run.highs_status}")
    load_values(run.compiled, run.values)
    return Solution(
        formulation=formulation,
        status=run.status,
        highs_status=run.highs_status,
        objective=run.objective,
        bound=run.bound,
        gap=run.gap,
        allocation=allocation_table(formulation),
        budget_use=budget_use(formulation),
        shadow_prices=shadow_prices(formulation, run),
        sizes=model_sizes(run),
        solve_seconds=run.solve_seconds,
        mip_nodes=run.mip_nodes,
    )
