"""Graduate placement: graduates a county cannot keep fill demand elsewhere in the plan area.

Each county keeps the share ``g[c, t] = s0[c] + sum_p eff * g_p * active[p]`` of its ``G[c]``
vocational graduates (:func:`talentplan.model.talent.add_local_cultivation`); the rest,

    L[c, t] = G[c] * max(0, 1 - g[c, t])

leave the county, and without a program they leave the plan area for the core city. A
program with a ``placement`` effect (job fairs, matching services, first-job subsidies in
the receiving county) places some of them in county ``c``:

    P[c, t] = sum_p eff[c] * v_p * exp(-lambda_p * travel_h[c]) * spend[c, p, t - L_p]

persons a year (the value falls with the county's travel time to the core city, as the
pull of a job far from it does), who join the type flagged ``graduate``. Together the plan
area cannot place more graduates than leave their own counties that year:

    sum_c P[c, t] <= sum_c L[c, t]          (``graduate_pool[t]``, one row a year)

``L`` is linear in the activations where ``g`` cannot exceed 1; where it can, a binary
``all_kept[c, t]`` selects ``L = 0`` (``L <= G (1 - g) + G (g_max - 1) all_kept`` and
``L <= G (1 - all_kept)``), exact in both cases. So the model values every plan that
respects the row exactly as the simulator does; the simulator fills a plan that asks for
more placements than the pool pro rata and lists it as a breach (a plan that does so wastes
money and is dominated by one that spends less, so the certified bound stands).

The pool row is the only coupling between counties: a decomposition by county prices it
by its dual, the value of one more leaving graduate to the plan area.
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from talentplan.model.decisions import effect_level
from talentplan.model.prepare import ModelData
from talentplan.model.talent import graduate_share_expr


def add_placement(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Add ``m.placed_expr[c, t]`` and the pool row; empty when no program places graduates."""
    placers = d.placers
    m.placed_expr = {}
    if not placers:
        return
    T = range(d.n_years)
    m.placed_expr = {
        (c, t): sum(d.placement_coefficient(c, p) * effect_level(m, d, c, p, t) for p in placers)
        for c in d.counties
        for t in T
    }
    sources = [c for c in d.counties if d.graduates[c] > 0 and d.graduate_share[c] < 1]
    m.leaving_idx = [(c, t) for c in sources for t in T]
    m.leaving = pyo.Var(
        m.leaving_idx,
        domain=pyo.NonNegativeReals,
        bounds=lambda _, c, t: (0, d.graduates[c] * (1 - d.graduate_share[c])),
    )
    over = {c: d.most_graduate_share(c) - 1 for c in sources if d.most_graduate_share(c) > 1}
    m.all_kept_idx = [(c, t) for c in over for t in T]
    m.all_kept = pyo.Var(m.all_kept_idx, domain=pyo.Binary)

    def rest(_: pyo.ConcreteModel, c: str, t: int) -> Any:
        g = d.graduates[c]
        rhs = g * (1 - graduate_share_expr(m, d, c, t))
        if c in over:
            rhs += g * over[c] * m.all_kept[c, t]
        return m.leaving[c, t] <= rhs

    m.leaving_le_rest = pyo.Constraint(m.leaving_idx, rule=rest)
    m.leaving_le_none = pyo.Constraint(
        m.all_kept_idx,
        rule=lambda _, c, t: m.leaving[c, t] <= d.graduates[c] * (1 - m.all_kept[c, t]),
    )
    m.graduate_pool = pyo.Constraint(
        T,
        rule=lambda _, t: (
            sum(m.placed_expr[c, t] for c in d.counties) <= sum(m.leaving[c, t] for c in sources)
        ),
    )
