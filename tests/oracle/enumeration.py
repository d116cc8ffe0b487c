"""Exhaustive enumeration of the plans of a small instance, scored by the reference.

Every decision of the instance (a site, alliance or city program: open from some year
on or never; a count: units in place never falling, 0 to its cap; an amount: any spend
on a grid in every year) takes every path its kind allows, and every combination of
paths is a plan. The best admissible plan is the optimum over the enumerated set: the
true optimum when there is no continuous spend, a lower bound of it (for maximised
objectives) when spend is restricted to a grid.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from .reference import Reading, breaches, objective_value, outcome_breaches, trajectory

Decision = tuple[str, str, str]
"""(county, program, industry) of one decision; county blank for a city program."""


def rising_paths(n_years: int, top: int) -> list[tuple[float, ...]]:
    """Paths of whole levels 0..top over the years that never fall."""
    return [
        tuple(float(v) for v in path)
        for path in itertools.product(range(top + 1), repeat=n_years)
        if all(a <= b for a, b in itertools.pairwise(path))
    ]


def decisions(r: Reading) -> list[tuple[Decision, str]]:
    """Every decision of the instance with its program's kind."""
    out: list[tuple[Decision, str]] = []
    for p in r.programs.values():
        if p.kind == "city":
            out.append((("", p.id, ""), p.kind))
        elif p.kind == "chain":
            out += [((c, p.id, i), p.kind) for c in r.counties for i in r.present[c]]
        else:
            out += [((c, p.id, ""), p.kind) for c in r.counties]
    return out


def most_money(r: Reading, county: str, program: str) -> float:
    """All the money of every year that may pay for ``program`` in ``county``.

    No plan spends more on one decision in one year, so it bounds the spend of an amount
    program without a cap.
    """
    return sum(
        amount
        for (_y, s), amount in r.budget.items()
        if (r.source_programs[s] is None or program in r.source_programs[s])
        and (r.source_counties[s] is None or county in r.source_counties[s])
    )


def choices(
    r: Reading,
    spend_grid: Mapping[str, Sequence[float]] | None = None,
    fixed: Mapping[Decision, tuple[float, ...]] | None = None,
) -> list[tuple[Decision, list[tuple[float, ...]]]]:
    """The paths each decision may take.

    Parameters
    ----------
    spend_grid
        Spend levels (10k yuan) an amount program may take in each year, by program.
    fixed
        Decisions held to one path (the rest are enumerated).
    """
    n = len(r.years)
    out = []
    for key, kind in decisions(r):
        if fixed is not None and key in fixed:
            out.append((key, [tuple(fixed[key])]))
        elif kind in ("site", "chain", "city"):
            out.append((key, rising_paths(n, 1)))
        elif kind == "count":
            top = min(r.cap(key[0], key[1]), r.programs[key[1]].cap_total or math.inf)
            assert math.isfinite(top), f"count program {key[1]} needs a cap to be enumerated"
            out.append((key, rising_paths(n, int(top))))
        else:
            assert spend_grid is not None and key[1] in spend_grid, f"no grid for {key[1]}"
            top = min(r.cap(key[0], key[1]), most_money(r, key[0], key[1]))
            grid = [float(x) for x in spend_grid[key[1]] if x <= top + 1e-12]
            out.append((key, list(itertools.product(grid, repeat=n))))
    return out


def plans(
    r: Reading,
    spend_grid: Mapping[str, Sequence[float]] | None = None,
    fixed: Mapping[Decision, tuple[float, ...]] | None = None,
) -> Iterator[dict[tuple[str, str, str, int], float]]:
    """Yield every plan: one path per decision, only active decisions kept."""
    menu = choices(r, spend_grid, fixed)
    keys = [key for key, _ in menu]
    for combo in itertools.product(*(paths for _, paths in menu)):
        yield {
            (*key, y): q
            for key, path in zip(keys, combo, strict=True)
            for y, q in zip(r.years, path, strict=True)
            if q
        }


def count_plans(
    r: Reading,
    spend_grid: Mapping[str, Sequence[float]] | None = None,
    fixed: Mapping[Decision, tuple[float, ...]] | None = None,
) -> int:
    """How many plans :func:`plans` yields."""
    return math.prod(len(paths) for _, paths in choices(r, spend_grid, fixed))


@dataclass(frozen=True)
class Best:
    """The best admissible plan of an enumeration."""

    value: float
    plan: dict[tuple[str, str, str, int], float]
    n_plans: int
    n_admissible: int


def best_plan(
    r: Reading,
    objective: str | None = None,
    spend_grid: Mapping[str, Sequence[float]] | None = None,
    fixed: Mapping[Decision, tuple[float, ...]] | None = None,
) -> Best:
    """Enumerate every plan and return the best admissible one under ``objective``."""
    objective = objective or r.objective
    better = (lambda a, b: a < b) if objective == "min_cost" else (lambda a, b: a > b)
    best: tuple[float, dict] | None = None
    n = admissible = 0
    for plan in plans(r, spend_grid, fixed):
        n += 1
        if breaches(r, plan, quick=True):
            continue
        cells = trajectory(r, plan)
        if outcome_breaches(r, cells, objective):
            continue
        admissible += 1
        value = objective_value(r, plan, objective, cells)
        if best is None or better(value, best[0]):
            best = (value, plan)
    assert best is not None, "no admissible plan among the enumerated ones"
    return Best(best[0], best[1], n, admissible)
