"""Talent stocks: the yearly balance, local cultivation, flexible experts, useful talent.

    S[c, k, t] = (1 - a0[c, k]) * S[c, k, t-1] + m0[c, k] + retained + inflow + local - drain

- ``m0``: the market's own inflow (persons a year, ``stocks.csv`` ``market_inflow``), which
  arrives without any program; with ``a0`` it sets the do-nothing trend. Platforms do
  not multiply it.
- ``drain``: talent other counties' programs draw away (:mod:`talentplan.model.competition`).
- ``placed``: the plan area's leaving graduates placed in the county's jobs, added to the
  type flagged ``graduate`` (:mod:`talentplan.model.placement`).

- ``local``: the county's vocational graduates retained at share ``s0`` plus what chain
  alliances and order-based training add (``graduate_retention``), never above all
  graduates; they join the talent type flagged ``graduate``.
- Flexible experts (``fte``) from workstations count in the year they serve,
  ``phi0 * exp(-lambda * travel_time)`` per active site or unit, without settling.
- Useful talent is what local industry can use: ``U <= S + FTE`` and ``U <= D``. With
  the scenario's ``demand_feedback`` ``eta``, demand answers talent (the paper's loop:
  weak industry, few talents, weaker industry):
  ``D[c, k, t] = D0[c, k, t] + eta * share[c, k, t] * (I[c, t-1] - I0[c, t-1])``, with
  ``I`` the useful talent of the ``drives_demand`` types and ``I0`` its do-nothing path;
  coverage and ``min_cost`` targets stay measured against the data's ``D0``.
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from talentplan.model.decisions import effect_activation, effect_level
from talentplan.model.prepare import ModelData
from talentplan.model.retention import previous_stock


def add_local_cultivation(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Add the local graduates retained in each county and year, ``m.local[c, t]`` (persons).

    The retained share is the county's base share ``s0`` plus what active programs with a
    ``graduate_retention`` effect add; it never exceeds all of the county's graduates.
    """
    T = range(d.n_years)
    k = d.graduate_type
    counties = [c for c in d.counties if k is not None and d.graduates[c] > 0]
    m.local_idx = [(c, t) for c in counties for t in T]
    m.local = pyo.Var(
        m.local_idx, domain=pyo.NonNegativeReals, bounds=lambda _, c, t: (0, d.graduates[c])
    )

    m.local_retention = pyo.Constraint(
        m.local_idx,
        rule=lambda _, c, t: m.local[c, t] <= d.graduates[c] * graduate_share_expr(m, d, c, t),
    )


def graduate_share_expr(m: pyo.ConcreteModel, d: ModelData, c: str, t: int) -> Any:
    """Share of ``c``'s graduates kept in ``c`` in ``t``: ``s0`` plus active programs' shares.

    May exceed 1 (then all graduates are kept).
    """
    eff = d.efficiency[c]
    return d.graduate_share[c] + sum(
        eff * d.effect(p, "", "graduate_retention") * effect_activation(m, d, c, p, i, t)
        for p, i in d.activations(c)
        if d.effect(p, "", "graduate_retention") > 0
    )


def fte_expr(m: pyo.ConcreteModel, d: ModelData, c: str, k: str, t: int) -> Any:
    """Full-time-equivalent flexible experts of type ``k`` serving ``c`` in year ``t``."""
    return sum(
        d.fte_coefficient(c, p, k) * effect_level(m, d, c, p, t)
        for p in d.by_kind["site"] + d.by_kind["count"]
        if (p, k, "fte") in d.effects
    )


def add_stock_variables(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Stocks and useful talent; declared before the blocks that refer to them."""
    T = range(d.n_years)
    m.stock_idx = [(c, k, t) for c in d.counties for k in d.types for t in T]
    m.stock = pyo.Var(
        m.stock_idx,
        domain=pyo.NonNegativeReals,
        bounds=lambda _, c, k, t: (d.stock_lb[c, k, t], d.stock_ub[c, k, t]),
    )
    m.useful = pyo.Var(
        m.stock_idx,
        domain=pyo.NonNegativeReals,
        bounds=lambda _, c, k, t: (0, _demand_ub(d, c, k, t)),
    )


def _fte_ub(d: ModelData, c: str, k: str) -> float:
    return sum(
        d.fte_coefficient(c, p, k) * d.level_ub[c, p]
        for p in d.by_kind["site"] + d.by_kind["count"]
        if (p, k, "fte") in d.effects
    )


def _demand_ub(d: ModelData, c: str, k: str, t: int) -> float:
    """Most demand of ``k`` in ``c`` in ``t``: the data's, plus the feedback at its most."""
    base = d.demand.get((c, k, d.years[t]), 0.0)
    if t == 0 or not d.base_drivers:
        return base
    most = sum(d.stock_ub[c, j, t - 1] + _fte_ub(d, c, j) for j in d.drivers)
    return base + d.feedback * d.demand_share[c, k, t] * max(most - d.base_drivers[c, t - 1], 0.0)


def demand_expr(m: pyo.ConcreteModel, d: ModelData, c: str, k: str, t: int) -> Any:
    """Demand of ``k`` in ``c`` in ``t``: data, or data plus the feedback of last year's drivers.

    ``D0 + eta * share * (sum_j U[c, j, t-1] - I0[c, t-1])`` (see
    :func:`talentplan.model.prepare._demand_feedback`); linear in the useful talent.
    """
    base = d.demand.get((c, k, d.years[t]), 0.0)
    if t == 0 or not d.base_drivers:
        return base
    drivers = sum(m.useful[c, j, t - 1] for j in d.drivers)
    return base + d.feedback * d.demand_share[c, k, t] * (drivers - d.base_drivers[c, t - 1])


def add_balance(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Add the yearly stock balance and the cap of useful talent by stock plus experts."""

    def balance(_: pyo.ConcreteModel, c: str, k: str, t: int) -> Any:
        rhs = (1 - d.a0[c, k]) * previous_stock(m, d, c, k, t) + d.m0[c, k]
        rhs += m.inflow_expr[c, k, t] - m.drain_expr.get((c, k, t), 0)
        if (c, k, t) in m.retained:
            rhs += m.retained[c, k, t]
        if k == d.graduate_type:
            rhs += m.local[c, t] if (c, t) in m.local else 0
            rhs += m.placed_expr.get((c, t), 0)
        return m.stock[c, k, t] == rhs

    m.stock_balance = pyo.Constraint(m.stock_idx, rule=balance)
    m.useful_le_available = pyo.Constraint(
        m.stock_idx,
        rule=lambda _, c, k, t: m.useful[c, k, t] <= m.stock[c, k, t] + fte_expr(m, d, c, k, t),
    )
    if d.base_drivers:
        m.useful_le_demand = pyo.Constraint(
            [(c, k, t) for c, k, t in m.stock_idx if t > 0],
            rule=lambda _, c, k, t: m.useful[c, k, t] <= demand_expr(m, d, c, k, t),
        )
