r"""Scenario decomposition of the two-stage plan: a Lagrangian dual on the shared stage.

For many draws the deterministic equivalent (:mod:`~talentplan.scenarios.equivalent`)
grows with :math:`S`. Here every draw keeps its own copy :math:`y_s` of the first stage
and the non-anticipativity rows :math:`y_s = \bar y` are priced by multipliers
:math:`\lambda_s` with :math:`\sum_s \lambda_s = 0` (so :math:`\bar y` drops out):

.. math::

    L(\lambda) = \frac1S \sum_s \max_{x_s}\ \bigl(f_s(x_s) + \lambda_s^\top y_s\bigr)
    \ \ge\ v^{SP}

for every such :math:`\lambda` (``min`` and :math:`f_s - \lambda_s^\top y_s` for
``min_cost``, a lower bound then), one independent MIP per draw. Each subproblem's
dual bound (not its plan) enters :math:`L`, so the bound holds at any gap. The
multipliers follow projected subgradient steps

.. math::

    \lambda_s \leftarrow \lambda_s - t_k\,(y_s - \tfrac1S \textstyle\sum_r y_r),\qquad
    t_k = \theta_k \frac{|L(\lambda^k) - v^\ast|}{\sum_s \lVert y_s - \bar y\rVert^2},

with :math:`v^\ast` the best plan's value and :math:`\theta_k` halved after
:data:`PATIENCE` rounds without a better bound. Each round proposes the rounded mean
first stage :math:`\mathrm{round}(\frac1S\sum_s y_s)`; a proposal is scored by holding
it and re-optimising every draw's second stage (:math:`\frac1S \sum_s Q_s(y)`, one MIP
per draw), and the best scored proposal is the plan. The run stops when the plan is
within ``mip_gap`` of the bound, when the copies agree, after ``rounds`` rounds, or
on ``stop``. For integer first stages the dual bound need not close (a duality gap);
the gap reported is what is certified.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from talentplan.scenarios.equivalent import (
    ArraySolve,
    DrawModel,
    first_stage_bounds,
    solve_arrays,
)
from talentplan.simulation import Levels
from talentplan.solver.highs import Progress, relative_gap
from talentplan.solver.status import SolveStatus

__all__ = ["PATIENCE", "Decomposed", "decompose", "hold"]

PATIENCE = 3
"""Rounds without a better bound before the step factor is halved."""


@dataclass
class Decomposed:
    """The best first stage found by the decomposition, with its value and bound."""

    status: SolveStatus
    levels: Levels
    value: float
    bound: float
    gap: float
    runs: list[ArraySolve]
    """Each draw's second-stage solve with ``levels`` held."""
    rounds: int
    history: list[tuple[float, float]] = field(default_factory=list)
    """(bound, best value) after each round."""


def hold(
    models: Sequence[DrawModel],
    levels: Levels,
    solve: dict[str, Any],
    tell: Callable[[Progress], None] | None = None,
    what: str = "plan",
) -> list[ArraySolve]:
    """Solve every draw with its first stage held at ``levels``."""
    runs = []
    for s, dm in enumerate(models):
        lower, upper = first_stage_bounds(dm, levels)
        runs.append(
            solve_arrays(
                dm.compiled,
                col_lower=lower,
                col_upper=upper,
                progress=tell,
                stage=f"{what}, draw {s + 1}",
                **solve,
            )
        )
    return runs


def _mean_value(runs: list[ArraySolve], sign: float) -> float:
    if any(r.values is None for r in runs):
        return -sign * math.inf
    return float(np.mean([r.objective for r in runs]))


def decompose(
    models: Sequence[DrawModel],
    *,
    rounds: int = 20,
    start: Levels | None = None,
    solve: dict[str, Any] | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> Decomposed:
    """Run the Lagrangian decomposition over the draws' ``models``.

    Parameters
    ----------
    models
        One built and compiled model per draw, as for
        :func:`~talentplan.scenarios.equivalent.stack`.
    rounds
        Most rounds of subgradient steps.
    start
        A first stage to score first (the point-estimate plan), so the result is never
        worse than it.
    solve
        ``time_limit`` (per MIP), ``mip_gap``, ``threads`` and ``stop`` of the solves;
        ``mip_gap`` is also the gap at which the run stops.
    progress
        Called after every round with the best value, the bound and their gap.
    """
    solve = dict(solve or {})
    stop: threading.Event | None = solve.get("stop")
    gap_goal = float(solve.get("mip_gap", 1e-4))
    started = time.perf_counter()
    S = len(models)
    sign = 1.0 if models[0].compiled.maximize else -1.0
    first = [np.flatnonzero(dm.first) for dm in models]
    keys = [
        [k for k in (dm.keys[n] for n in f) if k is not None]
        for dm, f in zip(models, first, strict=True)
    ]
    shared = sorted({k for ks in keys for k in ks}, key=str)
    where = {k: i for i, k in enumerate(shared)}
    cols = [np.array([where[k] for k in ks], dtype=np.int64) for ks in keys]
    lam = np.zeros((S, len(shared)))
    best_levels: Levels = dict(start or {})
    best_runs = hold(models, best_levels, solve) if start is not None else []
    best = _mean_value(best_runs, sign) if best_runs else -sign * math.inf
    tried = {tuple(sorted(best_levels.items()))} if start is not None else set()
    bound = sign * math.inf
    theta, stale = 1.0, 0
    history: list[tuple[float, float]] = []
    statuses: list[SolveStatus] = [r.status for r in best_runs if r.values is not None]
    done = 0
    for k in range(rounds):
        if stop is not None and stop.is_set():
            break
        y = np.zeros((S, len(shared)))
        bounds = []
        for s, dm in enumerate(models):
            cost = dm.compiled.cost.copy()
            cost[first[s]] += sign * lam[s, cols[s]]
            run = solve_arrays(dm.compiled, cost=cost, **solve)
            statuses.append(run.status)
            if run.values is None:
                return _finish(run.status, best_levels, best, bound, best_runs, k, history)
            y[s, cols[s]] = np.round(run.values[first[s]])
            bounds.append(run.bound if math.isfinite(run.bound) else run.objective)
        dual = float(np.mean(bounds))
        if sign * dual < sign * bound - 1e-12 * abs(dual):
            bound, stale = dual, 0
        else:
            stale += 1
            if stale >= PATIENCE:
                theta, stale = theta / 2, 0
        mean = y.mean(axis=0)
        proposal = {shared[i]: float(v) for i, v in enumerate(np.round(mean)) if v}
        key = tuple(sorted(proposal.items()))
        if key not in tried:
            tried.add(key)
            runs = hold(models, proposal, solve)
            statuses += [r.status for r in runs if r.values is not None]
            value = _mean_value(runs, sign)
            if sign * value > sign * best:
                best, best_levels, best_runs = value, proposal, runs
        done = k + 1
        history.append((bound, best))
        gap = relative_gap(best, bound)
        if progress is not None:
            progress(
                Progress(
                    time.perf_counter() - started,
                    best,
                    bound,
                    gap,
                    stage=f"decomposition, round {k + 1}",
                )
            )
        spread = y - mean
        norm = float((spread**2).sum())
        if gap <= gap_goal or norm == 0.0:
            break
        target = abs(dual - best) if math.isfinite(best) else 0.01 * abs(dual)
        lam -= theta * target / norm * spread
    status = SolveStatus.OPTIMAL
    if relative_gap(best, bound) > gap_goal:
        status = SolveStatus.LIMIT
    if stop is not None and stop.is_set():
        status = SolveStatus.INTERRUPTED
    if any(s != SolveStatus.OPTIMAL for s in statuses) and status == SolveStatus.OPTIMAL:
        status = SolveStatus.TIME_LIMIT
    return _finish(status, best_levels, best, bound, best_runs, done, history)


def _finish(
    status: SolveStatus,
    levels: Levels,
    best: float,
    bound: float,
    runs: list[ArraySolve],
    rounds: int,
    history: list[tuple[float, float]],
) -> Decomposed:
    return Decomposed(
        status=status,
        levels=levels,
        value=best,
        bound=bound,
        gap=relative_gap(best, bound),
        runs=runs,
        rounds=rounds,
        history=history,
    )
