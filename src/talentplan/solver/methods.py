"""The two ways to solve a formulation, and which one ``method="auto"`` takes.

- ``monolithic``: the whole MIP to HiGHS, seeded with a first plan
  (:func:`talentplan.solver.highs.solve_formulation`). Best up to about a hundred
  counties, where HiGHS closes the gap itself.
- ``decomposition``: prices on the rows that join the counties, one small MIP per county
  on a process pool, and a plan assembled from the counties' plans
  (:mod:`talentplan.solver.decomposition`). Its gap shrinks as counties are added, and
  its work grows about linearly with them. Before its price rounds, the *minimal* plan
  (every decision no rule asks for left out, the rest by one LP:
  :func:`talentplan.solver.heuristic.seed_plan`) is kept aside, so that a time limit or
  a stop that comes before the decomposition has a plan of its own still returns a
  feasible plan, with its honest gap against the decomposition's bound and a note
  saying so, rather than none. Above :data:`FALLBACK_MAX_COLUMNS` columns that LP alone
  takes minutes, and the decomposition's own first plan (from its price rounds) is the
  only early answer.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable

from talentplan.model.build import Formulation
from talentplan.solver.blocks import county_owners
from talentplan.solver.deadline import Deadline
from talentplan.solver.decomposition import solve_by_blocks
from talentplan.solver.heuristic import Seed, seed_plan
from talentplan.solver.highs import Progress, SolverRun, price_plan, relative_gap
from talentplan.solver.matrix import compile_formulation

__all__ = ["METHODS", "choose_method", "solve_by_counties"]

METHODS = ("auto", "monolithic", "decomposition")
"""The values of ``method``."""

AUTO_DECOMPOSITION_COUNTIES = 100
"""``auto`` decomposes from this many counties. At a 60 s limit on a two-core machine,
synthetic(122) ends at a 0.4% gap by decomposition and 5.6% monolithic; qingyuan (8)
solves monolithic in seconds (``benchmarks/results``)."""

FALLBACK_SHARE = 0.1
"""Most of the time left that the minimal plan kept aside may take (one LP: 1 s at 122
counties, 5 s at 300 on a loaded two-core machine)."""

FALLBACK_MAX_COLUMNS = 200_000
"""Largest model (columns) for which the minimal plan is kept aside: its LP took 5 s at
synthetic(300) (107,000 columns) and did not finish in 120 s at synthetic(1609) (567,000)
on a loaded two-core machine."""

INLINE_BLOCKS = 64
"""Below this many counties the county subproblems run in the calling process: starting
worker processes would take longer than the work."""


def choose_method(method: str, n_counties: int) -> tuple[str, str]:
    """Return the method to run and why, in plain words.

    Parameters
    ----------
    method
        ``auto``, ``monolithic`` or ``decomposition``.
    n_counties
        Counties of the instance.
    """
    if method != "auto":
        return method, "asked for"
    if n_counties >= AUTO_DECOMPOSITION_COUNTIES:
        return "decomposition", (
            f"auto: {n_counties} counties (decomposition from {AUTO_DECOMPOSITION_COUNTIES})"
        )
    return "monolithic", (
        f"auto: {n_counties} counties (monolithic below {AUTO_DECOMPOSITION_COUNTIES})"
    )


def default_workers(n_counties: int, threads: int | None) -> int:
    """Worker processes for the county subproblems: ``threads``, else every core."""
    if threads is not None:
        return threads
    if n_counties < INLINE_BLOCKS:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def solve_by_counties(
    formulation: Formulation,
    *,
    mip_gap: float,
    threads: int | None,
    deadline: Deadline,
    reserve: float = 0.0,
    shadow_prices: bool = True,
    progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
    build: str = "pyomo",
) -> SolverRun:
    """Solve ``formulation`` by decomposition and report it as a :class:`SolverRun`.

    Parameters
    ----------
    formulation
        The built model.
    mip_gap
        Stop at this certified gap.
    threads
        Worker processes for the county subproblems (None: :func:`default_workers`).
    deadline, reserve
        The call's deadline, and the seconds to keep back for the work after this one.
    shadow_prices
        Also solve the LP with the integers fixed, for the row duals, when time allows.
    progress, stop, build
        As :func:`talentplan.solver.highs.solve_formulation` takes them.
    """
    tell = progress if progress is not None else (lambda _: None)
    tell(Progress(deadline.elapsed(), math.nan, math.nan, math.inf, phase="compiling"))
    cm = compile_formulation(formulation, build)
    counties = formulation.data.counties
    owners = county_owners(cm.columns, counties)
    inner = Deadline(None if deadline.limit is None else max(deadline.remaining() - reserve, 0.0))
    fallback = (
        seed_plan(
            cm,
            time_limit=max(FALLBACK_SHARE * inner.remaining(), 1.0) if inner.bounded else None,
            relaxation=False,
            improve=False,
        )
        if cm.n_cols <= FALLBACK_MAX_COLUMNS
        else None
    )

    def report(stage: str, seconds: float, objective: float, bound: float) -> None:
        phase = "county prices" if stage == "prices" else "search"
        gap = relative_gap(objective, bound)
        tell(Progress(deadline.elapsed(), objective, bound, gap, phase=phase))

    result = solve_by_blocks(
        cm,
        owners,
        len(counties),
        deadline=inner,
        mip_gap=mip_gap,
        workers=default_workers(len(counties), threads),
        progress=report,
        stop=stop,
    )
    values, objective, gap, notes = result.values, result.objective, result.gap, result.notes
    source = "decomposition"
    if values is None and result.status.may_have_plan and fallback is not None and fallback.found:
        values, objective, source = fallback.values, fallback.objective, "minimal"
        gap = relative_gap(objective, result.bound)
        notes = [*notes, _fallback_note(fallback)]
    run = SolverRun(
        status=result.status,
        highs_status=f"decomposition: {result.status.value} after {result.rounds} rounds",
        objective=objective,
        bound=result.bound,
        gap=gap,
        values=values,
        solve_seconds=result.seconds,
        compiled=cm,
        source=source,
        extra={
            "rounds": float(result.rounds),
            "coupling_rows": float(result.n_coupling_rows),
        },
        notes=tuple(notes),
    )
    if values is not None and shadow_prices:
        price_plan(run, deadline, reserve, tell)
    return run


def _fallback_note(seed: Seed) -> str:
    """Say in plain words that the plan is the minimal one kept aside, and why."""
    return (
        "the decomposition found no plan of its own in time: the plan is the minimal one "
        "(only the decisions the rules require, the rest by one LP, "
        f"{seed.seconds:.1f}s), far from the best; give a longer time limit"
    )
