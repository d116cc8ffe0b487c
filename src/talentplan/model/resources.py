"""Limited resources and planner rules as constraints of the allocation model.

The rules cover budgets, land, cadre time, caps, prerequisites, policy floors and pinned
decisions.

Budgets: each program's yearly cost is paid from the sources allowed to fund it
(earmarked sources such as counterpart assistance fund only their programs); each source
spends at most its yearly amount, plus what it carried over when ``carry_over`` is on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.visitor import identify_variables

from talentplan.data.schema import ACTIVE_SPEND
from talentplan.model.decisions import (
    cadre_added,
    cadre_use,
    energy_use,
    land_use,
    level,
    program_cost,
)
from talentplan.model.prepare import ModelData, funders


def rule_row(relation: Any) -> Any:
    """Return a rule's relation, or Pyomo's marker when it holds no variable.

    A chain program in a county (or city) without present industries has level 0, so a
    cap, floor or pin on it is a plain comparison of numbers: the data checks keep it
    true, and a true one needs no row.
    """
    if isinstance(relation, bool | np.bool_):
        return pyo.Constraint.Feasible if relation else pyo.Constraint.Infeasible
    return relation


def funding_channels(d: ModelData) -> list[tuple[str, str, str]]:
    """Return the funding channels ``(group, program, source)``: who may pay for what, where.

    Group ``'*'`` is the plan area as a whole, which pays for city-kind programs; the
    other groups are the funding groups of :class:`ModelData`.
    """
    channels = []
    for p in d.programs:
        if d.kind[p] == "city":
            channels += [("*", p, s) for s in funders(d, p, d.plan_sources)]
        else:
            channels += [
                (g, p, s) for g, (_cs, srcs) in d.groups.items() for s in funders(d, p, srcs)
            ]
    return channels


def add_budgets(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Add the funding of program costs and the yearly budget row of every source.

    ``m.fund[g, p, t, s]`` is the money (10k yuan) that source ``s`` pays for program
    ``p`` in funding group ``g`` in year position ``t``. Each program's cost in each group
    is paid in full by the sources allowed to fund it, and each source spends at most its
    yearly amount; with ``carry_over``, what it leaves unspent (``m.carry``) passes to
    the next year.
    """
    T = range(d.n_years)
    channels = funding_channels(d)
    m.fund_idx = [(g, p, t, s) for g, p, s in channels for t in T]
    m.fund = pyo.Var(m.fund_idx, domain=pyo.NonNegativeReals)
    payers: dict[tuple[str, str], list[str]] = {}
    for g, p, s in channels:
        payers.setdefault((g, p), []).append(s)
    cost_keys = [
        (g, p, t)
        for p in d.programs
        for g in (["*"] if d.kind[p] == "city" else list(d.groups))
        for t in T
    ]

    def funded(_: pyo.ConcreteModel, g: str, p: str, t: int) -> Any:
        counties = None if g == "*" else d.groups[g][0]
        cost = program_cost(m, d, p, t, counties)
        paid = sum(m.fund[g, p, t, s] for s in payers.get((g, p), []))
        if isinstance(paid, int) and not list(identify_variables(cost)):
            return pyo.Constraint.Skip
        return paid == cost

    m.program_funded = pyo.Constraint(cost_keys, rule=funded)
    spent_by: dict[str, list[tuple[str, str]]] = {s: [] for s in d.sources}
    for g, p, s in channels:
        spent_by[s].append((g, p))
    m.budget_idx = [(t, s) for t in T for s in d.sources]
    carry = d.instance.scenario.carry_over
    if carry:
        m.carry = pyo.Var(m.budget_idx, domain=pyo.NonNegativeReals)

    def budget(_: pyo.ConcreteModel, t: int, s: str) -> Any:
        spent = sum(m.fund[g, p, t, s] for g, p in spent_by[s])
        available = d.budget.get((d.years[t], s), 0.0)
        if carry:
            previous = m.carry[t - 1, s] if t > 0 else 0.0
            return spent + m.carry[t, s] == available + previous
        if isinstance(spent, int):
            return pyo.Constraint.Skip
        return spent <= available

    m.budget = pyo.Constraint(m.budget_idx, rule=budget)


def source_spending(m: pyo.ConcreteModel) -> dict[tuple[int, str], float]:
    """Money paid by each source in each year position of a solved model."""
    spent: dict[tuple[int, str], float] = dict.fromkeys(m.budget_idx, 0.0)
    for g, p, t, s in m.fund_idx:
        spent[t, s] += float(m.fund[g, p, t, s].value or 0.0)
    return spent


def add_land_and_cadres(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Add each county's land quota (mu), yearly cadre-time capacity and energy quota.

    Cadre capacity is the county's hours plus what capacity-building programs add
    (``cadre_capacity`` effect); the energy quota (tce a year) binds only where the county
    has one.

    Land use only grows over the plan, so the quota is checked in the final year.
    """
    last = d.n_years - 1

    def land(_: pyo.ConcreteModel, c: str) -> Any:
        return rule_row(land_use(m, d, c, last) <= d.land_quota[c])

    def cadres(_: pyo.ConcreteModel, c: str, t: int) -> Any:
        return rule_row(cadre_use(m, d, c, t) - cadre_added(m, d, c, t) <= d.cadre_capacity[c])

    def energy(_: pyo.ConcreteModel, c: str, t: int) -> Any:
        return rule_row(energy_use(m, d, c, t) <= d.energy_quota[c])

    m.land_quota = pyo.Constraint(d.counties, rule=land)
    m.cadre_capacity = pyo.Constraint(
        [(c, t) for c in d.counties for t in range(d.n_years)], rule=cadres
    )
    m.energy_quota = pyo.Constraint(
        [(c, t) for c in d.energy_quota for t in range(d.n_years)], rule=energy
    )


def add_caps_and_prerequisites(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Add the plan-wide ``cap_total`` and ``cap_per_city`` of programs and prerequisites.

    A program that requires another may be active in a county and year only where the
    required program is active too; an ``amount`` program is active where it spends at
    least :data:`~talentplan.data.schema.ACTIVE_SPEND`.
    """
    T = range(d.n_years)

    def total(_: pyo.ConcreteModel, p: str, t: int) -> Any:
        if d.kind[p] == "city":
            return m.citywide[p, t] <= d.cap_total[p]
        return rule_row(sum(level(m, d, c, p, t) for c in d.counties) <= d.cap_total[p])

    m.cap_total = pyo.Constraint([(p, t) for p in d.cap_total for t in T], rule=total)

    def per_city(_: pyo.ConcreteModel, p: str, city: str, t: int) -> Any:
        return rule_row(sum(level(m, d, c, p, t) for c in d.cities[city]) <= d.cap_per_city[p])

    m.cap_per_city = pyo.Constraint(
        [
            (p, city, t)
            for p in d.cap_per_city
            if d.kind[p] != "city"
            for city in d.cities
            for t in T
        ],
        rule=per_city,
    )

    # Requiring an amount program: it counts as active where it spends ACTIVE_SPEND. A site
    # or city program is its own 0/1 indicator; counts and chains get one,
    # ``level <= ub * uses`` and ``ACTIVE_SPEND * uses <= spend``.
    on_spend = [p for p in d.requires if d.kind[d.requires[p]] == "amount"]
    m.uses_idx = [
        (c, p, t)
        for p in on_spend
        if d.kind[p] not in ("site", "city")
        for c in d.counties
        for t in T
    ]
    m.uses = pyo.Var(m.uses_idx, domain=pyo.Binary)

    def indicator(c: str, p: str, t: int) -> Any:
        return m.uses[c, p, t] if (c, p, t) in m.uses else level(m, d, c, p, t)

    m.uses_bound = pyo.Constraint(
        m.uses_idx,
        rule=lambda _, c, p, t: rule_row(
            level(m, d, c, p, t) <= d.level_ub[c, p] * m.uses[c, p, t]
        ),
    )
    m.prerequisite_spend = pyo.Constraint(
        [(c, p, t) for p in on_spend for c in d.counties for t in T],
        rule=lambda _, c, p, t: rule_row(
            ACTIVE_SPEND * indicator(c, p, t) <= level(m, d, c, d.requires[p], t)
        ),
    )

    def needs(_: pyo.ConcreteModel, c: str, p: str, t: int) -> Any:
        q = d.requires[p]
        return rule_row(level(m, d, c, p, t) <= d.level_ub[c, p] * level(m, d, c, q, t))

    # Disaggregated: an alliance is a 0/1 activation and an integer prerequisite level is
    # at least 1 when present, so ``alliance_i <= level(q)`` for each industry has the same
    # integer solutions as ``sum_i alliance_i <= n * level(q)`` and a tighter relaxation.
    on_levels = [p for p in d.requires if p not in on_spend]
    split = {p for p in on_levels if d.kind[p] == "chain"}
    m.prerequisite = pyo.Constraint(
        [(c, p, t) for p in on_levels if p not in split for c in d.counties for t in T],
        rule=needs,
    )
    m.prerequisite_each = pyo.Constraint(
        [(c, i, p, t) for p in split for c in d.counties for i in d.present[c] for t in T],
        rule=lambda _, c, i, p, t: m.alliance[c, i, p, t] <= level(m, d, c, d.requires[p], t),
    )


def pin_label(row: Any) -> str:
    """Describe a pin in planner words, e.g. ``"fix platform in Fogang 2027 at 1"``.

    Tables are sorted by key on load, so a pin is named by its content, not its row.
    """
    where = f"{row['program']} in {row['county'] or 'the plan area'}"
    if row["industry"]:
        where += f"/{row['industry']}"
    value = "" if row["action"] == "forbid" else f" at {float(row['value']):g}"
    return f"pin '{row['action']} {where} {row['year']}{value}'"


def add_floors_and_pins(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Add the scenario's policy floors and one row per pinned decision of the plan years."""
    sc = d.instance.scenario
    floor_idx = []
    for n, floor in enumerate(sc.floors):
        # A city program is one decision for the plan area: one row per year, not per county.
        counties = [""] if d.kind[floor.program] == "city" else list(floor.counties) or d.counties
        for c in counties:
            for t, year in enumerate(d.years):
                if year >= floor.by_year:
                    floor_idx.append((n, c, t))
    m.policy_floor = pyo.Constraint(
        floor_idx,
        rule=lambda _, n, c, t: rule_row(
            level(m, d, c, sc.floors[n].program, t) >= sc.floors[n].min_units
        ),
    )
    pins = d.instance.tables.get("pins")
    rows = [] if pins is None else list(pins.itertuples(index=False))
    year_pos = {y: t for t, y in enumerate(d.years)}

    def pinned(_: pyo.ConcreteModel, n: int) -> Any:
        row = rows[n]
        t = year_pos[int(row.year)]
        p = str(row.program)
        if d.kind[p] == "city":
            x = m.citywide[p, t]
        elif d.kind[p] == "chain" and str(row.industry):
            x = m.alliance[str(row.county), str(row.industry), p, t]
        else:
            x = level(m, d, str(row.county), p, t)
        action = str(row.action)
        value = 0.0 if action == "forbid" else float(row.value)
        if action in ("fix", "forbid"):
            return rule_row(x == value)
        return rule_row(x >= value if action == "min" else x <= value)

    m.pin = pyo.Constraint([n for n, r in enumerate(rows) if int(r.year) in year_pos], rule=pinned)
