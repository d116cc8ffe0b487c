"""``tp.solve``: the one-way pipeline in one call.

instance (:mod:`talentplan.data`) -> model (:mod:`talentplan.model`) -> HiGHS and the
solution read back (:mod:`talentplan.solver`) -> the plan played with the exact curves
(:mod:`talentplan.simulation`) -> :class:`~talentplan.report.result.AllocationResult`.
"""

from __future__ import annotations

from collections.abc import Callable

from talentplan.data.instance import Instance
from talentplan.report.result import AllocationResult
from talentplan.simulation import plan_levels, play
from talentplan.solver.api import SolveOptions, solve_instance, versions
from talentplan.solver.highs import Progress

__all__ = ["solve"]


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
    OptionError
        An option is not admissible.
    InfeasiblePlanError
        No plan satisfies every rule; ``.explanation`` names the conflicting rules.
    NoSolutionError
        The solver stopped (time limit, other limit) before finding any plan.
    SolverError
        The solver failed.

    Examples
    --------
    >>> import talentplan as tp
    >>> result = tp.solve(tp.datasets.synthetic(2, seed=1, n_years=2), mip_gap=1e-3)
    >>> result.status.value
    'optimal'
    """
    options = SolveOptions(time_limit, mip_gap, threads, objective)
    solution = solve_instance(instance, options, progress)
    formulation, run = solution.formulation, solution.run
    # Trajectories are what the plan produces: the plan played with the exact curves.
    # (The model's own stock variables are only bounded where the objective does not
    # reward them, so they are not read back.)
    played = play(
        formulation.data,
        plan_levels(formulation.data, solution.allocation),
        objective=formulation.objective,
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
        **solution.sizes,
        "mip_nodes": run.mip_nodes,
        "time_limit": options.time_limit,
        "mip_gap": options.mip_gap,
        "threads": options.threads,
        "budget_use": solution.budget_use.to_dict("records"),
        "instance_hash": instance.hash(),
        "seed": instance.scenario.seed,
        "versions": versions(),
    }
    return AllocationResult(
        status=run.status,
        objective=run.objective,
        bound=run.bound,
        gap=run.gap,
        allocation=solution.allocation,
        talent=played.talent,
        shadow_prices=solution.shadow_prices,
        budget_use=solution.budget_use,
        summary=summary,
    )
