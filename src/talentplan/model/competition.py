"""Competition between counties: what one county's programs attract, others lose.

A share ``sigma[p]`` (``programs.csv`` ``poach_share``) of the talent a program ``p``
brings to county ``c`` comes from the plan area's other counties, the rest from the core
city and beyond. It is drawn from each other county ``c'`` in proportion to its initial
stock of the type, so county ``c'`` loses in year ``t``

    drain[c', k, t] = sum_{c != c'} S0[c', k] / O[c, k] * P[c, k, t]
                    = S0[c', k] * (pool[k, t] - P[c', k, t] / O[c', k])
    P[c, k, t]  = sum_p sigma[p] * inflow[c, p, k, t]      (before platforms)
    O[c, k]     = sum_{c'' != c} S0[c'', k]
    pool[k, t]  = sum_c P[c, k, t] / O[c, k]

and the stock balance subtracts ``drain``. The rule holds while a county has what is
drawn: stocks stay nonnegative, so a plan that would draw a county below zero is
infeasible here and a breach in :func:`talentplan.simulation.simulate`. The drain is an
amount a county *loses*, which no objective rewards, so the concave responses of poaching
programs are held on their chords exactly (the incremental form: segments filled in order,
one binary per inner breakpoint), not bounded by them: otherwise the model could claim a
subsidy attracted less than it did, to spare the others. The chords still lie below the
curves, so the drain is understated by at most ``sigma`` times the chord error, which
:func:`talentplan.model.objectives.approximation_error` reports beside the understatement
of the receiving county. The poached share of a subsidy is a transfer between counties of
the plan area, worth nothing to the plan area as a whole unless the receiving county has
more use for the talent: the paper's "policy subsidy wars". Without a per-county cap a
bureau then still funds subsidies only as far as their outside share (``1 - sigma``) pays.

Every term is linear in the inflows, so the model stays a MIP, and the coupling between
counties is one row per type and year (``pool``): a decomposition by county prices it by
that row's dual, the value of one more unit of talent in the shared pool
(:mod:`talentplan.solver.decomposition`). ``pool[k, t]`` is bounded above by its largest
possible value, every county poaching at its caps (``ModelData.pool_ub``): implied by
the rows, it changes no optimum, and it keeps the pool's term of a Lagrangian bound finite.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo

from talentplan.model.inflow import program_inflow
from talentplan.model.prepare import ModelData


def _hold_curves_on_their_chords(m: pyo.ConcreteModel, d: ModelData, programs: list[str]) -> None:
    """Make each response of ``programs`` equal to its chords, not only at most them.

    Incremental form over the shared breakpoints ``b_0 = 0 < ... < b_n``: the spend is
    ``x = sum_j delta_j`` with ``0 <= delta_j <= L_j = b_{j+1} - b_j``, filled in order
    (binary ``y_j``: ``delta_j >= L_j y_j`` and ``delta_{j+1} <= L_{j+1} y_j``), and every
    type's response is ``R_k = eff * sum_j s_kj delta_j`` with the chord slopes ``s_kj``,
    lagged by the program's ``lag_years``. The form is locally ideal: its LP relaxation
    is the convex hull of one curve's chords.
    """
    T = range(d.n_years)
    curves = {p: [k for (q, k, _e) in d.pwl if q == p] for p in programs}
    programs = [p for p in programs if curves[p]]
    lengths = {
        p: np.diff(d.pwl[p, curves[p][0], "inflow_log"].breakpoints).astype(float) for p in programs
    }
    m.hold_idx = [(c, p, s) for c in d.counties for p in programs for s in T]
    m.hold_piece_idx = [(c, p, s, j) for c, p, s in m.hold_idx for j in range(len(lengths[p]))]
    m.hold_piece = pyo.Var(
        m.hold_piece_idx,
        domain=pyo.NonNegativeReals,
        bounds=lambda _, c, p, s, j: (0.0, float(lengths[p][j])),
    )
    m.hold_full_idx = [(c, p, s, j) for c, p, s in m.hold_idx for j in range(len(lengths[p]) - 1)]
    m.hold_full = pyo.Var(m.hold_full_idx, domain=pyo.Binary)
    m.hold_fill_this = pyo.Constraint(
        m.hold_full_idx,
        rule=lambda _, c, p, s, j: (
            m.hold_piece[c, p, s, j] >= float(lengths[p][j]) * m.hold_full[c, p, s, j]
        ),
    )
    m.hold_then_next = pyo.Constraint(
        m.hold_full_idx,
        rule=lambda _, c, p, s, j: (
            m.hold_piece[c, p, s, j + 1] <= float(lengths[p][j + 1]) * m.hold_full[c, p, s, j]
        ),
    )
    m.hold_spend = pyo.Constraint(
        m.hold_idx,
        rule=lambda _, c, p, s: (
            m.spend[c, p, s] == sum(m.hold_piece[c, p, s, j] for j in range(len(lengths[p])))
        ),
    )
    rows = [
        (c, p, k, s)
        for c, p, s in m.hold_idx
        for k in curves[p]
        if s + d.lag[p] < d.n_years and (c, p, k, s + d.lag[p]) in m.response
    ]

    def on_chords(_: pyo.ConcreteModel, c: str, p: str, k: str, s: int) -> object:
        slopes = d.pwl[p, k, "inflow_log"].slopes
        exact = sum(float(slopes[j]) * m.hold_piece[c, p, s, j] for j in range(len(slopes)))
        return m.response[c, p, k, s + d.lag[p]] == d.efficiency[c] * exact

    m.hold_response = pyo.Constraint(rows, rule=on_chords)


def add_competition(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Add ``m.drain_expr[c, k, t]``, the talent other counties' programs draw from ``c``.

    Empty when no program poaches; otherwise one pool variable and row per type and year.
    """
    poachers = d.poachers
    m.drain_expr = {}
    if not poachers:
        return
    T = range(d.n_years)
    _hold_curves_on_their_chords(m, d, [p for p in poachers if d.kind[p] == "amount"])
    types = [k for k in d.types if any(p in d.inflow_programs(k) for p in poachers)]

    def poached(c: str, k: str, t: int) -> Any:
        return sum(d.poach[p] * program_inflow(m, d, c, p, k, t) for p in poachers)

    def per_stock(c: str, k: str, t: int) -> Any:
        others = d.others_stock(c, k)
        return poached(c, k, t) / others if others > 0 else 0

    m.pool_idx = [(k, t) for k in types for t in T]
    # The bound is implied (every county poaching at its caps); it keeps the pool's
    # price finite where the rows that define it are relaxed (the decomposition).
    m.pool = pyo.Var(
        m.pool_idx, domain=pyo.NonNegativeReals, bounds=lambda _, k, t: (0.0, d.pool_ub[k])
    )
    m.pool_def = pyo.Constraint(
        m.pool_idx,
        rule=lambda _, k, t: m.pool[k, t] == sum(per_stock(c, k, t) for c in d.counties),
    )
    m.drain_expr = {
        (c, k, t): d.s0[c, k] * (m.pool[k, t] - per_stock(c, k, t))
        for c in d.counties
        for k in types
        for t in T
        if d.s0[c, k] > 0
    }
