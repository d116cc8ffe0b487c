"""Objectives: talent index (default), least cost to reach targets, and equity (max-min).

- ``talent_index``: maximise discounted, type-weighted useful talent summed over counties
  and years.
- ``min_cost``: minimise total spending such that final-year useful talent reaches the
  targets table (per county and type) or, without one, ``target_coverage`` of final-year
  demand in every county.
- ``equity``: maximise the smallest final-year weighted coverage ``sum_k w U / sum_k w D``
  across counties.
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from talentplan.model.decisions import program_cost
from talentplan.model.prepare import ModelData


def talent_index_expr(m: pyo.ConcreteModel, d: ModelData) -> Any:
    """Return the talent index: discounted, type-weighted useful talent over counties and years."""
    return sum(
        d.discount[t] * d.weight[k] * m.useful[c, k, t]
        for c in d.counties
        for k in d.types
        for t in range(d.n_years)
        if d.weight[k]
    )


def final_demand(d: ModelData, county: str) -> float:
    """Weighted final-year demand of a county (the denominator of its coverage)."""
    year = d.years[-1]
    return sum(d.weight[k] * d.demand.get((county, k, year), 0.0) for k in d.types)


def add_objective(m: pyo.ConcreteModel, d: ModelData, objective: str) -> None:
    """Add the objective ``talent_index``, ``min_cost`` or ``equity`` to ``m``.

    ``min_cost`` also adds the target rows and the plan-wide cost expressions
    ``m.cost_expr``; ``equity`` adds the variable ``m.min_coverage`` and its floor rows.
    """
    last = d.n_years - 1
    if objective == "talent_index":
        m.objective = pyo.Objective(expr=talent_index_expr(m, d), sense=pyo.maximize)
    elif objective == "min_cost":
        _add_targets(m, d)
        # Built here only: the plan-wide cost expressions are needed by this objective alone.
        m.cost_expr = {
            (p, t): program_cost(m, d, p, t) for p in d.programs for t in range(d.n_years)
        }
        m.objective = pyo.Objective(expr=sum(m.cost_expr.values()), sense=pyo.minimize)
    elif objective == "equity":
        m.min_coverage = pyo.Var(bounds=(0, 1))
        counties = [c for c in d.counties if final_demand(d, c) > 0]
        m.coverage_floor = pyo.Constraint(
            counties,
            rule=lambda _, c: (
                final_demand(d, c) * m.min_coverage
                <= sum(d.weight[k] * m.useful[c, k, last] for k in d.types)
            ),
        )
        m.objective = pyo.Objective(expr=m.min_coverage, sense=pyo.maximize)
    else:  # pragma: no cover - validated at the boundary
        raise ValueError(objective)


def add_equity_floor(m: pyo.ConcreteModel, d: ModelData, share: float) -> None:
    """Every county's final-year weighted coverage ``sum_k w U / sum_k w D`` >= ``share``."""
    if share <= 0:
        return
    last = d.n_years - 1
    m.equity_floor = pyo.Constraint(
        [c for c in d.counties if final_demand(d, c) > 0],
        rule=lambda _, c: (
            sum(d.weight[k] * m.useful[c, k, last] for k in d.types) >= share * final_demand(d, c)
        ),
    )


def _add_targets(m: pyo.ConcreteModel, d: ModelData) -> None:
    last = d.n_years - 1
    targets = d.instance.tables.get("targets")
    if targets is not None and len(targets):
        goal = {
            (str(c), str(k)): float(v)
            for c, k, v in targets[["county", "talent_type", "target"]].itertuples(index=False)
        }
        m.target = pyo.Constraint(
            list(goal), rule=lambda _, c, k: m.useful[c, k, last] >= goal[c, k]
        )
    else:
        share = d.instance.scenario.target_coverage
        m.target = pyo.Constraint(
            d.counties,
            rule=lambda _, c: (
                sum(d.weight[k] * m.useful[c, k, last] for k in d.types)
                >= share * final_demand(d, c)
            ),
        )


def approximation_error(d: ModelData, objective: str) -> float:
    """Bound on how far the model's objective can fall below the exact curves' value.

    The chords underestimate each concave response by at most ``eps`` persons a year;
    a person gained in year ``t`` raises the stock of later years by at most one (attrition
    is never negative) and useful talent is 1-Lipschitz in the stock, so the objective
    error is at most the sum of ``eff * eps * (1 + platform gain) * weight * discount``
    over counties, curves and every year from the spend on. With demand feedback ``eta``
    a person of a driving type also raises later demand: its weight gains
    ``eta * w_bar * sum_n (eta * s_d) ** n`` over the remaining years, with ``w_bar`` the
    county's demand-share-weighted weight and ``s_d`` the drivers' share of its demand.
    For ``equity`` the bound is on the coverage share. For ``min_cost`` the cost itself is
    exact, but the model may understate a county's final-year (weighted) useful talent,
    which the targets are measured against, by up to the bound returned (persons): so it
    may buy a little more than the exact curves would need.
    """
    gain = {k: 1.0 + sum(d.effect(q, k, "platform") for q in d.by_kind["site"]) for k in d.types}

    def weight(c: str, k: str) -> float:
        """Objective worth of one more person of ``k`` in ``c``, feedback included."""
        if not d.base_drivers or k not in d.drivers:
            return d.weight[k]
        # a driving person raises next year's demand by eta persons spread by demand
        # shares (worth at most the share-weighted weight), of which the drivers' share
        # feeds back again: a geometric series over the remaining years
        T = range(d.n_years)
        spread = max(sum(d.demand_share[c, j, t] * d.weight[j] for j in d.types) for t in T)
        again = max(sum(d.demand_share[c, j, t] for j in d.drivers) for t in T) * d.feedback
        return d.weight[k] + d.feedback * spread * sum(again**n for n in range(d.n_years - 1))

    later = [sum(d.discount[t:]) for t in range(d.n_years)]
    per_county = {}
    for c in d.counties:
        total = 0.0
        for (_p, k, _e), curve in d.pwl.items():
            eps = d.efficiency[c] * curve.max_error * gain[k] * weight(c, k)
            total += eps * (sum(later) if objective == "talent_index" else d.n_years)
        per_county[c] = total
    if objective == "talent_index":
        return float(sum(per_county.values()))
    if objective == "min_cost":
        return float(max(per_county.values(), default=0.0))
    return float(
        max(
            (per_county[c] / final_demand(d, c) for c in d.counties if final_demand(d, c) > 0),
            default=0.0,
        )
    )
