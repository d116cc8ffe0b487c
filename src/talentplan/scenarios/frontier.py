"""The efficiency-equity Pareto frontier by the epsilon-constraint method.

Efficiency is the talent index; equity is the smallest final-year weighted coverage
across counties. The two ends are the talent-index optimum (and the coverage its plan
happens to give) and the equity optimum; in between, the talent index is maximised with
the equity floor ``min_coverage`` raised step by step.

The floored points differ only in the right-hand side ``share * D_c`` of the floor rows
``sum_k w_k U_{c,k} >= share * D_c``: they are solved in one HiGHS object changed in
place (:mod:`talentplan.solver.reuse`), from the highest floor down, so that each plan
is feasible under the next, lower floor and starts its branch and bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from talentplan import _plot
from talentplan._display import DisplayMixin
from talentplan._options import check_number
from talentplan.data.instance import Instance
from talentplan.model.prepare import prepare
from talentplan.report.pipeline import solve
from talentplan.report.result import AllocationResult
from talentplan.simulation import min_final_coverage
from talentplan.solver.reuse import ModelReuse

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def min_coverage(instance: Instance, result: AllocationResult) -> float:
    """Smallest final-year weighted coverage across counties of a solved plan."""
    return min_final_coverage(prepare(instance), result.talent)


@dataclass(frozen=True)
class Frontier(DisplayMixin):
    """Points of the frontier.

    Attributes
    ----------
    points
        One row per solve: equity_floor (the floor imposed on the model's coverage),
        talent_index (the plan's value with the exact curves,
        :attr:`AllocationResult.objective`), min_coverage (achieved with the exact
        curves), gap and gap_basis (:attr:`AllocationResult.gap` and what it certifies:
        the solves under a floor have a gap of the model only), status.
    results
        The allocation of each point, in the same order.
    """

    points: pd.DataFrame
    results: tuple[AllocationResult, ...] = field(repr=False)

    def _summary_tables(self) -> tuple[str, list[tuple[str, str]], list[pd.DataFrame]]:
        return "Efficiency-equity frontier", [("points", str(len(self.points)))], [self.points]

    def plot(self, *, ax: Axes | None = None) -> Axes:
        """Draw the talent index against the smallest coverage of the points; return the Axes."""
        return _plot.frontier_plot(self.points, ax=ax)


def pareto_frontier(
    instance: Instance,
    n_points: int = 5,
    *,
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    threads: int | None = None,
    reuse: bool = True,
) -> Frontier:
    """Trace the frontier between the talent index and the smallest county coverage.

    Parameters
    ----------
    instance
        The planning instance (its own ``min_coverage`` is the lowest floor considered).
    n_points
        Number of points (>= 2), evenly spaced in the equity floor from the coverage of
        the talent-index optimum to the equity optimum.
    time_limit, mip_gap, threads
        Passed to every :func:`talentplan.solve`.
    reuse
        Solve the floored points in one HiGHS object, each from the plan of the floor
        above (:mod:`talentplan.solver.reuse`); False builds a new one for each point.
    """
    check_number("n_points", n_points, low=2, integer=True)
    options: dict[str, Any] = dict(
        time_limit=time_limit, mip_gap=mip_gap, threads=threads, compare=False
    )
    best = solve(instance, objective="talent_index", **options)
    fairest = solve(instance, objective="equity", **options)
    low = max(min_coverage(instance, best), instance.scenario.min_coverage)
    # The floor is imposed on the model's (chord) coverage, so the highest feasible floor is
    # the model's equity optimum, not its plan's exact coverage; shave a relative 1e-6 so
    # it survives tolerances.
    high = fairest.mip_objective * (1 - 1e-6)
    shares = [float(v) for v in np.linspace(low, max(low, high), n_points)]
    solved: dict[int, AllocationResult] = {}
    carried = ModelReuse() if reuse else None
    # From the highest floor down: each plan is feasible under the next floor.
    for n in sorted(range(len(shares)), key=lambda i: -shares[i]):
        if shares[n] <= low + 1e-12:
            solved[n] = best
            continue
        floored = instance.replace_scenario(min_coverage=shares[n])
        solved[n] = solve(floored, objective="talent_index", reuse=carried, **options)
    rows, results = [], []
    for share, result in zip(shares, (solved[n] for n in range(len(shares))), strict=True):
        rows.append(
            (
                share,
                result.objective,
                min_coverage(instance, result),
                result.gap,
                result.summary["gap_basis"],
                result.status.value,
            )
        )
        results.append(result)
    points = pd.DataFrame(
        rows,
        columns=["equity_floor", "talent_index", "min_coverage", "gap", "gap_basis", "status"],
    )
    points["gap"] = points["gap"].where(np.isfinite(points["gap"]), math.nan)
    return Frontier(points=points, results=tuple(results))
