"""``tp.solve``: the one-way pipeline in one call.

instance (:mod:`talentplan.data`) -> model (:mod:`talentplan.model`) -> HiGHS and the
solution read back (:mod:`talentplan.solver`) -> the plan played with the exact curves
(:mod:`talentplan.simulation`) -> :class:`~talentplan.report.result.AllocationResult`.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal

from talentplan.data.instance import Instance
from talentplan.data.io import load_instance
from talentplan.data.restrict import subsidies_only
from talentplan.errors import InstanceError, NoSolutionError, SolverError
from talentplan.model.objectives import final_demand
from talentplan.report.compare import do_nothing, plan_figures
from talentplan.report.county_view import display_names
from talentplan.report.result import AllocationResult
from talentplan.simulation import plan_levels, play
from talentplan.solver.api import Solution, SolveOptions, solve_instance, versions
from talentplan.solver.deadline import Deadline
from talentplan.solver.highs import Progress
from talentplan.solver.matrix import resolve_build
from talentplan.solver.reuse import ModelReuse

__all__ = [
    "COMPARE_MAX_COUNTIES",
    "COMPARE_MIN_SECONDS",
    "GAP_WARNING_ABOVE",
    "allocation_result",
    "comparisons",
    "gap_warning",
    "solve",
]

GAP_WARNING_ABOVE = 0.01
"""A plan whose gap is above this (1%) comes with a warning in plain words."""

COMPARE_MAX_COUNTIES = 100
"""Above this many counties the comparisons of :func:`comparisons` are skipped (two
more simulations and a solve of a large instance are not cheap)."""

COMPARE_MIN_SECONDS = 3.0
"""Seconds that must be left of a time limit to start the comparisons."""

GapBasis = Literal["exact", "model"]
"""What a result's ``bound`` and ``gap`` certify (see :func:`certificate`)."""


def gap_basis(objective: str, min_coverage: float) -> GapBasis:
    """Say whether a solve's bound can be certified on the exact problem.

    The chords understate each plan's value by at most the approximation error, so the
    model's bound plus that error bounds the exact optimum, provided every plan the exact
    problem admits is also admitted by the model. That fails where the model measures a rule on
    its understated talent: the targets of ``min_cost`` and an equity floor
    (``min_coverage`` > 0) under ``talent_index``. Under ``equity`` a floor does not
    change the model's optimum (the objective is the smallest coverage itself), so the
    certificate holds.

    Parameters
    ----------
    objective
        ``talent_index``, ``min_cost`` or ``equity``.
    min_coverage
        The scenario's equity floor.

    Returns
    -------
    {"exact", "model"}
        ``"exact"`` when the bound is certified on the exact problem, ``"model"`` when it
        holds for the model only.
    """
    if objective == "min_cost" or (objective == "talent_index" and min_coverage > 0):
        return "model"
    return "exact"


def certificate(
    objective: float,
    mip_bound: float,
    mip_gap: float,
    approximation_error: float,
    basis: GapBasis,
) -> tuple[float, float]:
    """Return the bound and the relative gap reported for a plan of exact value ``objective``.

    Parameters
    ----------
    objective
        The plan's value with the exact curves.
    mip_bound, mip_gap
        HiGHS's best bound and relative gap on the model.
    approximation_error
        The bound of :func:`talentplan.model.objectives.approximation_error`.
    basis
        :func:`gap_basis` of the solve.

    Returns
    -------
    tuple of float
        ``(bound, gap)``. On the ``"exact"`` basis (a maximised objective) the exact
        optimum is at most ``mip_bound + approximation_error``, and the gap is
        ``(bound - objective) / max(|objective|, 1e-10)``, clipped at 0 from below; on the
        ``"model"`` basis they are the model's ``mip_bound`` and ``mip_gap``. Without a
        finite bound the gap is infinite.
    """
    if basis == "model":
        return mip_bound, mip_gap
    bound = mip_bound + approximation_error
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return bound, math.inf
    return bound, max(bound - objective, 0.0) / max(abs(objective), 1e-10)


def gap_warning(gap: float, status: str, limit: float | None = None) -> str | None:
    """Say in plain words that a plan may be far from the best, or None when it is not.

    Parameters
    ----------
    gap
        The result's relative gap (infinite: no bound known).
    status
        The result's status (``time_limit``, ``interrupted`` ...), to say why it stopped.
    limit
        The gap above which to warn; default :data:`GAP_WARNING_ABOVE` (1%).

    Returns
    -------
    str or None

    Examples
    --------
    >>> print(gap_warning(0.05, "time_limit")[:44])
    the plan may be up to 5.0% worse than the be
    >>> gap_warning(0.001, "optimal") is None
    True
    """
    if gap <= (GAP_WARNING_ABOVE if limit is None else limit):
        return None
    why = {
        "time_limit": "the solver stopped at the time limit",
        "interrupted": "the solve was interrupted",
        "limit": "the solver stopped at a limit",
    }.get(status, "the requested gap was loose")
    size = "an unknown amount" if not math.isfinite(gap) else f"up to {gap:.1%}"
    advice = (
        "give a longer time limit for a better plan"
        if status in ("time_limit", "interrupted", "limit")
        else "ask for a smaller mip_gap for a better plan"
    )
    return f"the plan may be {size} worse than the best possible ({why}); {advice}"


def solve(
    instance: Instance | str | os.PathLike[str],
    *,
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    threads: int | None = None,
    objective: str | None = None,
    step_values: bool = False,
    warm_start: bool = True,
    solver_log: bool = False,
    method: str = "auto",
    progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
    deadline: Deadline | None = None,
    build: str = "pyomo",
    reuse: ModelReuse | None = None,
    compare: bool = False,
) -> AllocationResult:
    """Find the best allocation of programs for ``instance``.

    Parameters
    ----------
    instance
        A planning instance, or what :func:`talentplan.load_instance` reads (a bundled
        name such as ``"qingyuan"``, a folder, a workbook, ``"synthetic:N"``).
    time_limit
        Seconds for the whole call: the build, the solve, the shadow prices and the
        simulation of the plan. HiGHS gets what is left after the build, less what the
        work after it needs; optional work that does not fit (shadow prices, step values)
        is skipped and ``summary["skipped"]`` says so. At the limit the best plan found
        so far is returned with its gap (at least the seed plan, see ``warm_start``).
    mip_gap
        Relative optimality gap at which to stop (default 0.01%).
    threads
        Solver threads (default: HiGHS's choice).
    objective
        ``talent_index``, ``min_cost`` or ``equity``; default the scenario's.
    step_values
        Also value each fully used land or cadre limit by one more step of it (one
        re-solve per limit; columns ``step`` and ``step_value*`` of ``shadow_prices``,
        see :mod:`talentplan.solver.steps`).
    warm_start
        Start HiGHS from a feasible plan found by a fast heuristic
        (:func:`talentplan.solver.heuristic.seed_plan`); ``summary["warm_start"]`` says
        what it found.
    solver_log
        Write HiGHS's own log to standard error.
    method
        ``auto`` (default: decomposition from 100 counties), ``monolithic`` or
        ``decomposition`` (prices on the rows that join the counties, one MIP per county
        on a process pool; :mod:`talentplan.solver.decomposition`). With decomposition,
        ``threads`` is the number of worker processes. ``summary["method"]`` says which
        ran and why.
    build
        How the matrices given to HiGHS are made: ``pyomo`` (default, Pyomo's compiler),
        ``arrays`` (the same matrices from :mod:`talentplan.model.arrays`, many times
        faster to make on large instances) or ``auto`` (arrays from 100
        counties); ``summary["build"]`` says which ran.
    progress
        Called about once a second, and at each change of phase, with a
        :class:`~talentplan.solver.highs.Progress`.
    stop
        Set it (from a signal handler or another thread) to stop the solver: the best
        plan so far is returned with status ``interrupted``. Ctrl-C (a
        ``KeyboardInterrupt``) in a terminal or a notebook does the same; a second
        Ctrl-C raises at once.
    deadline
        The deadline of a larger task this solve is part of (the command line's, which
        starts before the instance is read); default: ``time_limit`` from this call.
    reuse
        A :class:`~talentplan.solver.reuse.ModelReuse` passed to every solve of a family
        of scenarios: the HiGHS object of the last one is changed in place when the
        compiled models share their structure, and its plan is the start when feasible
        (``summary["method_notes"]`` says which). The answer is the same as without it,
        to the gap.
    compare
        Also score doing nothing and the best plan of the same budget on cash subsidies
        only (:func:`comparisons`), within the time limit; ``summary["comparisons"]``
        holds the figures, or why they were skipped. Off by default (it costs one more
        solve); ``talentplan solve`` turns it on, so that its report opens with them.

    Returns
    -------
    AllocationResult
        Its ``objective`` is the plan's value with the exact response curves; the model's
        own value and bound are beside it (``mip_objective``, ``summary["mip_bound"]``).

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
    deadline = deadline if deadline is not None else Deadline(time_limit)
    if not isinstance(instance, Instance):
        instance = load_instance(instance)
    options = SolveOptions(
        time_limit,
        mip_gap,
        threads,
        objective,
        step_values,
        warm_start,
        solver_log,
        method,
        build,
    )
    solution = solve_instance(instance, options, progress, stop, deadline, reuse)
    if progress is not None:
        progress(Progress(deadline.elapsed(), math.nan, math.nan, math.inf, phase="simulating"))
    result = allocation_result(instance, options, solution)
    if progress is not None and compare:
        progress(Progress(deadline.elapsed(), math.nan, math.nan, math.inf, phase="comparing"))
    compared = comparisons(instance, options, result, deadline, stop=stop, compare=compare)
    summary = {
        **result.summary,
        "comparisons": compared,
        "skipped": list(deadline.skipped),
        "elapsed_seconds": deadline.elapsed(),
    }
    return replace(result, summary=summary)


def comparisons(
    instance: Instance,
    options: SolveOptions,
    result: AllocationResult,
    deadline: Deadline,
    *,
    stop: threading.Event | None = None,
    compare: bool = True,
) -> dict[str, Any]:
    """Score a solved plan against doing nothing and against cash subsidies only.

    Parameters
    ----------
    instance, options, result
        The instance, the options it was solved with and the result of that solve.
    deadline
        The deadline of the call: the comparisons start only with at least
        :data:`COMPARE_MIN_SECONDS` left (a skip for lack of time is recorded in
        :attr:`~talentplan.solver.deadline.Deadline.skipped`), and the subsidies-only
        solve gets what is left.
    stop
        Stops the subsidies-only solve as it stops the plan's.
    compare
        False: skip them (``skipped`` says so).

    Returns
    -------
    dict
        ``skipped`` (why nothing was compared, or None), and otherwise ``plan``,
        ``do_nothing`` and ``subsidies_only``: the
        :func:`~talentplan.report.compare.plan_figures` of each; ``do_nothing["notes"]``
        the rules doing nothing breaks, ignored; ``subsidies_only`` has ``notes`` (the
        rules dropped to restrict the instance, see
        :func:`~talentplan.data.restrict.subsidies_only`), ``status`` and ``gap``, or
        only ``skipped`` when no such plan was found.
    """
    n_counties = len(instance.counties)
    if not compare:
        return {"skipped": "not asked for (compare=False)"}
    if (stop is not None and stop.is_set()) or result.status.value == "interrupted":
        return {"skipped": "the solve was interrupted"}
    if n_counties > COMPARE_MAX_COUNTIES:
        return {
            "skipped": f"{n_counties} counties (more than {COMPARE_MAX_COUNTIES}): "
            "the comparisons would cost another solve of a large instance"
        }
    if not deadline.allows(COMPARE_MIN_SECONDS):
        why = (
            f"{deadline.remaining():.1f} s left of the time limit, less than the "
            f"{COMPARE_MIN_SECONDS:g} s the comparisons need"
        )
        deadline.skip(f"comparisons with doing nothing and subsidies only: {why}")
        return {"skipped": why}
    objective = str(result.summary["objective_name"])
    return {
        "skipped": None,
        "plan": plan_figures(result.objective, result.talent, result.allocation),
        "do_nothing": do_nothing(instance, objective),
        "subsidies_only": _subsidies_only_plan(instance, options, objective, deadline, stop),
    }


def _subsidies_only_plan(
    instance: Instance,
    options: SolveOptions,
    objective: str,
    deadline: Deadline,
    stop: threading.Event | None,
) -> dict[str, Any]:
    """Solve the subsidies-only instance with the plan's options, in the time left."""
    try:
        restricted, notes = subsidies_only(instance)
    except InstanceError as exc:
        return {"skipped": str(exc).splitlines()[0]}
    if not deadline.allows(COMPARE_MIN_SECONDS):
        why = f"{deadline.remaining():.1f} s left of the time limit"
        deadline.skip(f"comparison with subsidies only: {why}")
        return {"skipped": why}
    left = Deadline(deadline.remaining() if deadline.bounded else None)
    try:
        other = solve(
            restricted,
            time_limit=left.limit,
            mip_gap=options.mip_gap,
            threads=options.threads,
            objective=objective,
            warm_start=options.warm_start,
            method=options.method,
            build=options.build,
            stop=stop,
            deadline=left,
            compare=False,
        )
    except (NoSolutionError, SolverError) as exc:
        # the plan itself stands: a comparison that finds no plan is reported, not raised
        return {"skipped": str(exc).splitlines()[0], "notes": notes}
    figures = plan_figures(other.objective, other.talent, other.allocation)
    return {**figures, "notes": notes, "status": other.status.value, "gap": other.gap}


def demand_by_county(instance: Instance) -> list[dict[str, Any]]:
    """Sum the instance's demand over talent types: rows of county, year, demand.

    Kept in the summary for the report's plot of talent against demand (the data's
    demand, before any feedback of ``demand_feedback``).
    """
    demand = instance.demand.groupby(["county", "year"], as_index=False)["demand"].sum()
    return [
        {"county": str(c), "year": int(y), "demand": float(v)}
        for c, y, v in demand[["county", "year", "demand"]].itertuples(index=False)
    ]


def allocation_result(
    instance: Instance, options: SolveOptions, solution: Solution
) -> AllocationResult:
    """Play a solved plan with the exact curves and present it as an :class:`AllocationResult`.

    The second half of :func:`solve`, for callers that need the solver's
    :class:`~talentplan.solver.api.Solution` as well (its compiled model, to re-solve it).

    Parameters
    ----------
    instance
        The instance that was solved.
    options
        The options it was solved with.
    solution
        What :func:`talentplan.solver.api.solve_instance` returned for them.

    Returns
    -------
    AllocationResult
    """
    formulation, run = solution.formulation, solution.run
    # Trajectories are what the plan produces: the plan played with the exact curves.
    # (The model's own stock variables are only bounded where the objective does not
    # reward them, so they are not read back.)
    played = play(
        formulation.data,
        plan_levels(formulation.data, solution.allocation),
        objective=formulation.objective,
    )
    basis = gap_basis(formulation.objective, instance.scenario.min_coverage)
    bound, gap = certificate(
        played.objective, run.bound, run.gap, formulation.approximation_error, basis
    )
    seed = run.seed
    summary = {
        "command": "solve",
        "instance": instance.scenario.name,
        "description": instance.scenario.description,
        "status": run.status.value,
        "highs_status": run.highs_status,
        "gap_warning": gap_warning(gap, run.status.value),
        "objective_name": formulation.objective,
        "objective": played.objective,
        "bound": bound,
        "gap": gap,
        "gap_basis": basis,
        "mip_objective": run.objective,
        "mip_bound": run.bound,
        "mip_gap": run.gap,
        "approximation_error": formulation.approximation_error,
        "simulated_objective": played.objective,
        "build_seconds": formulation.build_seconds,
        "solve_seconds": run.solve_seconds,
        **solution.sizes,
        "mip_nodes": run.mip_nodes,
        "time_limit": options.time_limit,
        "requested_mip_gap": options.mip_gap,
        "threads": options.threads,
        "step_values": options.step_values,
        "warm_start": {
            "requested": options.warm_start,
            "found": seed is not None and seed.found,
            "method": seed.method if seed is not None else "",
            "objective": seed.objective if seed is not None else math.nan,
            "seconds": seed.seconds if seed is not None else 0.0,
            "notes": list(seed.notes) if seed is not None else [],
        },
        "plan_source": run.source,
        "build": resolve_build(options.build, len(instance.counties)),
        "method": run.method,
        "method_reason": run.method_reason,
        "method_notes": list(run.notes),
        "decomposition": dict(run.extra) if run.method == "decomposition" else {},
        "skipped": list(solution.skipped),
        "budget_use": solution.budget_use.to_dict("records"),
        "instance_hash": instance.hash(),
        "seed": instance.scenario.seed,
        "names": {
            "county": display_names(instance.counties, "county"),
            "program": display_names(instance.programs, "program"),
            "talent_type": display_names(instance.talent_types, "talent_type"),
            "source": display_names(instance.sources, "source"),
        },
        "demand": demand_by_county(instance),
        "final_demand": {c: final_demand(formulation.data, c) for c in formulation.data.counties},
        "talent_weights": dict(formulation.data.weight),
        "versions": versions(),
    }
    return AllocationResult(
        status=run.status,
        objective=played.objective,
        bound=bound,
        gap=gap,
        mip_objective=run.objective,
        allocation=solution.allocation,
        talent=played.talent,
        shadow_prices=solution.shadow_prices,
        budget_use=solution.budget_use,
        summary=summary,
    )
