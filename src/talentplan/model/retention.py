"""Retention: service and absorption programs lower the siphon attrition.

While a binary program ``p`` (site, alliance or city program) acts in county ``c`` (from
``lag_years`` after it opens, :func:`talentplan.model.decisions.effect_level`), it saves
the share ``rho[p, k]`` of the baseline attrition ``a0[c, k] * S[c, k, t-1]``; a count
program keeps ``r[p, k]`` persons per unit. Together they can never push the
attrition below the floor ``a_min``:

    retained <= sum_p a0 * eff * rho[p, k] * S[t-1] * z[p, t] + sum_q eff * r[q, k] * units[q, t]
    retained <= (a0 - a_min) * S[t-1]

The product ``S[t-1] * z`` of a stock ``S_min <= S <= S_max`` and a binary enters only
as an upper bound on ``retained``, so only its upper McCormick envelope is needed:
``0 <= w <= S_max * z`` and ``w <= S - S_min * (1 - z)``. The lower side
``w >= S - S_max * (1 - z)`` is omitted: ``w`` appears nowhere else, so any feasible point
stays feasible with ``w`` raised to ``S * z``, and the set of plans, stocks and retained
talent (and hence the optimum of every objective) is the same as with it.
In the first year ``S`` is data and the product is linear already.
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from talentplan.model.decisions import effect_activation, effect_level
from talentplan.model.prepare import ModelData


def previous_stock(m: pyo.ConcreteModel, d: ModelData, c: str, k: str, t: int) -> Any:
    """Stock at the start of year position ``t``: data in the first year, a variable after."""
    return d.s0[c, k] if t == 0 else m.stock[c, k, t - 1]


def add_retention(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Add the talent retained by service and absorption programs, ``m.retained[c, k, t]``.

    Retention (persons per year) is bounded by what the active programs save and by the
    attrition floor, with the upper McCormick envelope described in the module docstring.
    """
    T = range(d.n_years)
    rho_terms: dict[tuple[str, str], list[tuple[str, str, float]]] = {}
    unit_terms: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for c in d.counties:
        eff = d.efficiency[c]
        for k in d.types:
            if d.retention_room(c, k) <= 0:
                continue
            acts = [
                (p, i, d.a0[c, k] * eff * d.effect(p, k, "retention"))
                for p, i in d.activations(c)
                if d.effect(p, k, "retention") > 0
            ]
            units = [
                (p, eff * d.effect(p, k, "retained_per_unit"))
                for p in d.by_kind["count"]
                if d.effect(p, k, "retained_per_unit") > 0
            ]
            if acts or units:
                rho_terms[c, k] = acts
                unit_terms[c, k] = units
    m.retain_idx = [(c, k, t) for (c, k) in rho_terms for t in T]
    m.product_idx = [
        (c, k, p, i, t)
        for (c, k), acts in rho_terms.items()
        for p, i, _ in acts
        for t in T
        if t > 0 and t >= d.lag[p]
    ]
    m.retained = pyo.Var(m.retain_idx, domain=pyo.NonNegativeReals)
    m.saved_stock = pyo.Var(
        m.product_idx,
        domain=pyo.NonNegativeReals,
        bounds=lambda _, c, k, p, i, t: (0, d.stock_ub[c, k, t - 1]),
    )

    def saved(c: str, k: str, p: str, i: str, t: int) -> Any:
        if t < d.lag[p]:
            return 0
        z = effect_activation(m, d, c, p, i, t)
        return d.s0[c, k] * z if t == 0 else m.saved_stock[c, k, p, i, t]

    def by_programs(_: pyo.ConcreteModel, c: str, k: str, t: int) -> Any:
        rhs = sum(coef * saved(c, k, p, i, t) for p, i, coef in rho_terms[c, k])
        rhs += sum(coef * effect_level(m, d, c, p, t) for p, coef in unit_terms[c, k])
        return m.retained[c, k, t] <= rhs

    def by_floor(_: pyo.ConcreteModel, c: str, k: str, t: int) -> Any:
        return m.retained[c, k, t] <= d.retention_room(c, k) * previous_stock(m, d, c, k, t)

    m.retained_by_programs = pyo.Constraint(m.retain_idx, rule=by_programs)
    m.retained_above_floor = pyo.Constraint(m.retain_idx, rule=by_floor)

    def w_le_ub(_: pyo.ConcreteModel, c: str, k: str, p: str, i: str, t: int) -> Any:
        z = effect_activation(m, d, c, p, i, t)
        return m.saved_stock[c, k, p, i, t] <= d.stock_ub[c, k, t - 1] * z

    def w_le_s(_: pyo.ConcreteModel, c: str, k: str, p: str, i: str, t: int) -> Any:
        lo = d.stock_lb[c, k, t - 1]
        z = effect_activation(m, d, c, p, i, t)
        return m.saved_stock[c, k, p, i, t] <= m.stock[c, k, t - 1] - lo * (1 - z)

    m.saved_le_active = pyo.Constraint(m.product_idx, rule=w_le_ub)
    m.saved_le_stock = pyo.Constraint(m.product_idx, rule=w_le_s)
