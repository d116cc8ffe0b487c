"""``tp.solve``: instance -> model -> HiGHS -> result, in one call."""

from __future__ import annotations

import logging
import math
import platform
from collections.abc import Callable
from importlib.metadata import version

import pyomo.environ as pyo

from talentplan.data.instance import Instance
from talentplan.data.schema import OBJECTIVES
from talentplan.errors import InfeasiblePlanError, NoSolutionError, SolverError
from talentplan.model.build import build_model
from talentplan.report.extract import allocation_table, budget_use, model_sizes, shadow_prices
from talentplan.report.result import AllocationResult
from talentplan.simulation import plan_levels, play
from talentplan.solver.explain import explain_infeasibility
from talentplan.solver.highs import Progress, load_values, solve_formulation
from talentplan.solver.status import SolveStatus

logger = logging.getLogger(__name__)


def _check_options(
    time_limit: float | None, mip_gap: float, threads: int | None, objective: str | None
) -> None:
    if time_limit is not None and not (time_limit > 0 and math.isfinite(time_limit)):
        raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    if not (0 <= mip_gap < 1):
        raise ValueError(f"mip_gap must be in [0, 1), got {mip_gap!r}")
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads!r}")
    if objective is not None and objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")


def versions() -> dict[str, str]:
    from talentplan.solver.matrix import new_highs

    h = new_highs()
    return {
        "talentplan": version("talentplan"),
        "pyomo": pyo.__version__ if hasattr(pyo, "__version__") else version("pyomo"),
        "highs": f"{h.version()}",
        "highspy": version("highspy"),
        "python": platform.python_version(),
    }


def solve(
    instance: Instance,
    *,
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    threads: int | None = None,
    objective: str | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> AllocationResult:
    """Find the best allocation of programs for ``instance``.

    Parameters
    ----------
    instance
        A planning instance (:func:`talentplan.load_instance`).
    time_limit
        Seconds; at the limit the best plan found so far is returned with its gap.
    mip_gap
        Relative optimality gap at which to stop (default 0.01%).
    threads
        Solver threads (default: HiGHS's choice).
    objective
        ``talent_index``, ``min_cost`` or ``equity``; default the scenario's.
    progress
        Called about once a second during the MIP search with a
        :class:`~talentplan.solver.highs.Progress`.

    Returns
    -------
    AllocationResult

    Raises
    ------
    InfeasiblePlanError
        No plan satisfies every rule; ``.explanation`` names the conflicting rules.
    NoSolutionError
        The solver stopped (time limit, other limit) before finding any plan.
    SolverError
        The solver failed.
    """
    _check_options(time_limit, mip_gap, threads, objective)
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
    sizes = model_sizes(run)
    budget = budget_use(formulation)
    allocation = allocation_table(formulation)
    # Trajectories are what the plan produces: the plan played with the exact curves.
    # (The model's own stock variables are only bounded where the objective does not
    # reward them, so they are not read back.)
    played = play(
        formulation.data, plan_levels(formulation.data, allocation), objective=formulation.objective
    )
    summary = {
        "instance": instance.scenario.name,
        "status": run.status.value,
        "highs_status": run.highs_status,
        "objective_name": formulation.objective,
        "objective": run.objective,
        "bound": run.bound,
        "gap": run.gap,
        "approximation_error": formulation.approximation_error,
        "simulated_objective": played.objective,
        "build_seconds": formulation.build_seconds,
        "solve_seconds": run.solve_seconds,
        **sizes,
        "mip_nodes": run.mip_nodes,
        "time_limit": time_limit,
        "mip_gap": mip_gap,
        "threads": threads,
        "budget_use": budget.to_dict("records"),
        "instance_hash": instance.hash(),
        "seed": instance.scenario.seed,
        "versions": versions(),
    }
    return AllocationResult(
        status=run.status,
        objective=run.objective,
        bound=run.bound,
        gap=run.gap,
        allocation=allocation,
        talent=played.talent,
        shadow_prices=shadow_prices(formulation, run),
        budget_use=budget,
        summary=summary,
    )
