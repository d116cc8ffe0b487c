"""Decision variables of the five kinds, their time structure and what they consume.

- site: ``open[c, p, t]`` binary, open once and stay open;
- chain: ``alliance[c, i, p, t]`` binary for present industries, open once and stay open;
- city: ``citywide[p, t]`` binary for the whole plan area, open once and stay open;
- count: ``units[c, p, t]`` integer units in place, never removed;
- amount: ``spend[c, p, t]`` continuous spend in 10k yuan.

Costs: fixed cost in the opening year and operating cost every open year (binary kinds);
unit cost on new units and operating cost per unit-year (count); the spend itself (amount).

Effects on talent lag the decisions by the program's ``lag_years`` ``L[p]``: what acts in
year ``t`` is the level decided for year ``t - L[p]`` (nothing before ``t = L[p]``), see
:func:`effect_level`; costs, land and cadre time follow the decision itself.
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from talentplan.model.prepare import ModelData


def add_decisions(m: pyo.ConcreteModel, d: ModelData) -> None:
    """Declare decision variables and the open-once-stay-open / never-removed rows."""
    T = range(d.n_years)
    m.site_idx = [(c, p, t) for c in d.counties for p in d.by_kind["site"] for t in T]
    m.chain_idx = [
        (c, i, p, t)
        for c in d.counties
        for i in d.present[c]
        for p in d.by_kind["chain"]
        for t in T
    ]
    m.city_idx = [(p, t) for p in d.by_kind["city"] for t in T]
    m.count_idx = [(c, p, t) for c in d.counties for p in d.by_kind["count"] for t in T]
    m.amount_idx = [(c, p, t) for c in d.counties for p in d.by_kind["amount"] for t in T]

    m.open = pyo.Var(m.site_idx, domain=pyo.Binary)
    m.alliance = pyo.Var(m.chain_idx, domain=pyo.Binary)
    m.citywide = pyo.Var(m.city_idx, domain=pyo.Binary)
    m.units = pyo.Var(
        m.count_idx, domain=pyo.NonNegativeIntegers, bounds=lambda _, c, p, t: (0, d.level_ub[c, p])
    )
    m.spend = pyo.Var(
        m.amount_idx, domain=pyo.NonNegativeReals, bounds=lambda _, c, p, t: (0, d.level_ub[c, p])
    )

    def stay(var: pyo.Var, idx: list[tuple]) -> pyo.Constraint:
        later = [key for key in idx if key[-1] > 0]
        return pyo.Constraint(later, rule=lambda _, *k: var[k] >= var[(*k[:-1], k[-1] - 1)])

    m.site_stays_open = stay(m.open, m.site_idx)
    m.alliance_stays = stay(m.alliance, m.chain_idx)
    m.citywide_stays = stay(m.citywide, m.city_idx)
    m.units_stay = stay(m.units, m.count_idx)


def level(m: pyo.ConcreteModel, d: ModelData, county: str, program: str, t: int) -> Any:
    """How much of ``program`` is active in ``county`` in year position ``t``.

    Sites and city programs: 0/1; chains: the number of alliances (one per present
    industry); counts: units in place; amounts: spend.
    """
    kind = d.kind[program]
    if kind == "site":
        return m.open[county, program, t]
    if kind == "city":
        return m.citywide[program, t]
    if kind == "chain":
        return sum(m.alliance[county, i, program, t] for i in d.present[county])
    if kind == "count":
        return m.units[county, program, t]
    return m.spend[county, program, t]


def activation(m: pyo.ConcreteModel, county: str, program: str, industry: str, t: int) -> pyo.Var:
    """Return the binary of one activation (site, alliance or city program) in a county."""
    if industry:
        return m.alliance[county, industry, program, t]
    if (county, program, t) in m.open:
        return m.open[county, program, t]
    return m.citywide[program, t]


def effect_level(m: pyo.ConcreteModel, d: ModelData, county: str, program: str, t: int) -> Any:
    """Return the level of ``program`` acting on talent in year position ``t`` (0 before lag)."""
    decided = t - d.lag[program]
    return level(m, d, county, program, decided) if decided >= 0 else 0


def effect_activation(
    m: pyo.ConcreteModel, d: ModelData, county: str, program: str, industry: str, t: int
) -> Any:
    """Return the activation acting on talent in year position ``t`` (0 before the lag)."""
    decided = t - d.lag[program]
    return activation(m, county, program, industry, decided) if decided >= 0 else 0


def _opening(var: pyo.Var, key: tuple) -> Any:
    t = key[-1]
    return var[key] - var[(*key[:-1], t - 1)] if t > 0 else var[key]


def program_cost(
    m: pyo.ConcreteModel, d: ModelData, program: str, t: int, counties: list[str] | None = None
) -> Any:
    """Money spent on ``program`` in year position ``t`` (10k yuan).

    Over ``counties`` (default: the whole plan area); a city-kind program's cost belongs to
    the plan area as a whole and is counted only when ``counties`` is None.
    """
    kind = d.kind[program]
    fixed, operating, unit = d.fixed_cost[program], d.operating_cost[program], d.unit_cost[program]
    where = d.counties if counties is None else counties
    terms: list = []
    if kind == "site":
        keys = [(c, program, t) for c in where]
        terms = [fixed * _opening(m.open, k) + operating * m.open[k] for k in keys]
    elif kind == "chain":
        keys2 = [(c, i, program, t) for c in where for i in d.present[c]]
        terms = [fixed * _opening(m.alliance, k) + operating * m.alliance[k] for k in keys2]
    elif kind == "city":
        if counties is None:
            k1 = (program, t)
            terms = [fixed * _opening(m.citywide, k1) + operating * m.citywide[k1]]
    elif kind == "count":
        keys = [(c, program, t) for c in where]
        terms = [unit * _opening(m.units, k) + operating * m.units[k] for k in keys]
    else:
        terms = [m.spend[c, program, t] for c in where]
    return sum(terms) if terms else LinearExpression([])


def land_use(m: pyo.ConcreteModel, d: ModelData, county: str, t: int) -> Any:
    """Return the construction land (mu) occupied in ``county`` at year position ``t``.

    Sites, alliances and units stay in place once opened, so the land they hold is
    cumulative over the years.
    """
    return sum(
        d.land[p] * level(m, d, county, p, t)
        for p in d.programs
        if d.land[p] and d.kind[p] in ("site", "chain", "count")
    )


def energy_use(m: pyo.ConcreteModel, d: ModelData, county: str, t: int) -> Any:
    """Energy (tce a year) used by the programs active in ``county`` in year position ``t``."""
    return sum(
        d.energy[p] * level(m, d, county, p, t)
        for p in d.programs
        if d.energy[p] and d.kind[p] in ("site", "chain", "count")
    )


def cadre_added(m: pyo.ConcreteModel, d: ModelData, county: str, t: int) -> Any:
    """Cadre hours a year that capacity-building programs add to ``county`` in ``t``.

    ``sum_p cadre_capacity[p] * level``, from the decision year's level minus the lag
    (:func:`effect_level`): training and exchanges take effect like any other program.
    """
    return sum(
        d.effect(p, "", "cadre_capacity") * effect_level(m, d, county, p, t)
        for p in d.programs
        if d.effect(p, "", "cadre_capacity") > 0
    )


def cadre_use(m: pyo.ConcreteModel, d: ModelData, county: str, t: int) -> Any:
    """Cadre hours consumed in ``county`` in year position ``t``."""
    return sum(
        d.cadre[p] * level(m, d, county, p, t)
        for p in d.programs
        if d.cadre[p] and d.kind[p] in ("site", "chain", "count")
    )
