"""Inflow: programs that attract talent, the concave response to money, and platforms.

Base inflow of type ``k`` into county ``c`` in year ``t``:

    B = sum_amount eff * f_pk(spend) + sum_p eff * inflow[p, k] * level[p]

with ``f_pk(x) = beta * log(1 + x / theta)`` represented by its chords
(:mod:`talentplan.model.pwl`) in hypograph form: ``y <= chord_j(x)`` for every segment.
That is exact for the piecewise-linear curve while more talent is rewarded, which holds
for every objective here (talent index, coverage, targets that are lower bounds).

Platforms multiply inflows of the types they attract: total inflow is
``B * (1 + sum_q gamma[q, k] * open[q])``. The platform's own inflow ``o_q * open[q]`` is
part of ``B`` and ``open[q] ** 2 = open[q]``, so ``B * open[q] = o_q * open[q] + R * open[q]``
with ``R = B - o_q * open[q]``; only ``R * open[q]`` is linearised, exactly, with the
smaller ``R_max = B_max - o_q``: ``v <= R_max * open``, ``v <= R``,
``v >= R - R_max * (1 - open)``.

Every program acts from ``lag_years`` after the decision
(:func:`talentplan.model.decisions.effect_level`): ``spend`` and ``open`` above are the
decisions of year ``t - L[p]``, and nothing acts before ``t = L[p]``.
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from talentplan.model.decisions import effect_level
from talentplan.model.prepare import ModelData


def program_inflow(m: pyo.ConcreteModel, d: ModelData, c: str, p: str, k: str, t: int) -> Any:
    """Return the inflow of type ``k`` that ``p`` brings to ``c`` in ``t``, before platforms.

    ``eff * inflow[p, k] * level`` plus the chord response to spend, both lagged.
    """
    coef = d.efficiency[c] * d.effect(p, k, "inflow")
    expr = coef * effect_level(m, d, c, p, t) if coef > 0 else 0
    if (c, p, k, t) in m.response:
        expr += m.response[c, p, k, t]
    return expr


def add_inflow(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Add the inflow of every talent type into every county and year to ``m``.

    Declares the responses of amount programs with their chord rows, the base inflow
    ``m.base_inflow_expr`` and the exact linearisation of the platform boosts; the total
    inflow (persons per year) is left in ``m.inflow_expr[c, k, t]``.
    """
    T = range(d.n_years)
    m.response_idx = [
        (c, p, k, t) for (p, k, _e) in d.pwl for c in d.counties for t in T if t >= d.lag[p]
    ]
    # the curves of poaching programs are held on their chords exactly instead
    # (:mod:`talentplan.model.competition`)
    m.segment_idx = [
        (c, p, k, t, j)
        for (c, p, k, t) in m.response_idx
        if p not in d.poachers
        for j in range(len(d.pwl[p, k, "inflow_log"].slopes))
    ]
    m.response = pyo.Var(m.response_idx, domain=pyo.NonNegativeReals)

    def chord(_: pyo.ConcreteModel, c: str, p: str, k: str, t: int, j: int) -> Any:
        curve = d.pwl[p, k, "inflow_log"]
        eff = d.efficiency[c]
        # Python floats: numpy scalars times Pyomo expressions take numpy's slow path.
        x0, y0, slope = (
            float(curve.breakpoints[j]),
            float(curve.values[j]),
            float(curve.slopes[j]),
        )
        spend = m.spend[c, p, t - d.lag[p]]
        return m.response[c, p, k, t] <= eff * slope * spend + eff * (y0 - slope * x0)

    m.response_chords = pyo.Constraint(m.segment_idx, rule=chord)

    inflows = {k: d.inflow_programs(k) for k in d.types}
    m.base_inflow_expr = {
        (c, k, t): sum(program_inflow(m, d, c, p, k, t) for p in inflows[k])
        for c in d.counties
        for k in d.types
        for t in T
        if inflows[k]
    }
    platforms = {
        k: [
            (q, d.effect(q, k, "platform")) for q in d.by_kind["site"] if d.effect(q, k, "platform")
        ]
        for k in d.types
    }

    def own(c: str, q: str, k: str) -> float:
        """Return the own inflow of platform ``q``; times ``open[q]`` twice it stays linear."""
        value = d.effect(q, k, "inflow")
        return d.efficiency[c] * value if value > 0 else 0.0

    def rest_ub(c: str, q: str, k: str) -> float:
        return d.inflow_ub[c, k] - own(c, q, k)

    def acting(c: str, q: str, t: int) -> Any:
        """Return the platform's binary that acts in year position ``t`` (lagged)."""
        return m.open[c, q, t - d.lag[q]]

    m.boost_idx = [
        (c, q, k, t)
        for (c, k, t) in m.base_inflow_expr
        for q, _g in platforms[k]
        if d.inflow_ub[c, k] > 0 and rest_ub(c, q, k) > 1e-9 and t >= d.lag[q]
    ]
    m.boosted = pyo.Var(
        m.boost_idx,
        domain=pyo.NonNegativeReals,
        bounds=lambda _, c, q, k, t: (0, rest_ub(c, q, k)),
    )
    m.boost_le_open = pyo.Constraint(
        m.boost_idx,
        rule=lambda _, c, q, k, t: m.boosted[c, q, k, t] <= rest_ub(c, q, k) * acting(c, q, t),
    )
    m.boost_le_base = pyo.Constraint(
        m.boost_idx,
        rule=lambda _, c, q, k, t: (
            m.boosted[c, q, k, t] <= m.base_inflow_expr[c, k, t] - own(c, q, k) * acting(c, q, t)
        ),
    )
    m.boost_ge_product = pyo.Constraint(
        m.boost_idx,
        rule=lambda _, c, q, k, t: (
            m.boosted[c, q, k, t]
            >= m.base_inflow_expr[c, k, t]
            - own(c, q, k) * acting(c, q, t)
            - rest_ub(c, q, k) * (1 - acting(c, q, t))
        ),
    )
    gamma = {q_k: g for k in d.types for q, g in platforms[k] for q_k in [(q, k)]}

    def total(c: str, k: str, t: int) -> Any:
        if (c, k, t) not in m.base_inflow_expr:
            return 0.0
        extra = sum(
            gamma[q, k] * m.boosted[c, q, k, t]
            for q, _g in platforms[k]
            if (c, q, k, t) in m.boosted
        )
        extra += sum(
            gamma[q, k] * own(c, q, k) * acting(c, q, t)
            for q, _g in platforms[k]
            if d.inflow_ub[c, k] > 0 and own(c, q, k) and t >= d.lag[q]
        )
        return m.base_inflow_expr[c, k, t] + extra

    m.inflow_expr = {(c, k, t): total(c, k, t) for c in d.counties for k in d.types for t in T}
