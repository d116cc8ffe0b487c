"""The efficiency-equity Pareto frontier by the epsilon-constraint method.

Efficiency is the talent index; equity is the smallest final-year weighted coverage
across counties. The two ends are the talent-index optimum (and the coverage its plan
happens to give) and the equity optimum; in between, the talent index is maximised with
the equity floor ``min_coverage`` raised step by step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from talentplan._display import DisplayMixin
from talentplan._options import check_number
from talentplan.data.instance import Instance
from talentplan.model.prepare import prepare
from talentplan.report.pipeline import solve
from talentplan.report.result import AllocationResult
from talentplan.simulation import min_final_coverage


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


def pareto_frontier(
    instance: Instance,
    n_points: int = 5,
    *,
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    threads: int | None = None,
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
    """
    check_number("n_points", n_points, low=2, integer=True)
    options: dict[str, Any] = dict(time_limit=time_limit, mip_gap=mip_gap, threads=threads)
    best = solve(instance, objective="talent_index", **options)
    fairest = solve(instance, objective="equity", **options)
    low = max(min_coverage(instance, best), instance.scenario.min_coverage)
    # The floor is imposed on the model's (chord) coverage, so the highest feasible floor is
    # the model's equity optimum, not its plan's exact coverage; shave a relative 1e-6 so
    # it survives tolerances.
    high = fairest.mip_objective * (1 - 1e-6)
    rows, results = [], []
    for share in np.linspace(low, max(low, high), n_points):
        if share <= low + 1e-12:
            result = best
        else:
            floored = instance.replace_scenario(min_coverage=float(share))
            result = solve(floored, objective="talent_index", **options)
        rows.append(
            (
                float(share),
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
