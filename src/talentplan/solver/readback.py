"""Read a solved formulation back into planner tables: allocation, talent, budgets, prices."""

from __future__ import annotations

import math

import pandas as pd
import pyomo.environ as pyo

from talentplan.model.build import Formulation
from talentplan.model.decisions import cadre_added, cadre_use, energy_use, land_use
from talentplan.model.resources import source_spending
from talentplan.model.talent import graduate_share_expr
from talentplan.solver.highs import SolverRun

ALLOCATION_COLUMNS = [
    "county",
    "program",
    "kind",
    "industry",
    "year",
    "quantity",
    "cost",
    "land",
    "land_in_use",
    "cadre_hours",
]


def _value(expr: object) -> float:
    return float(pyo.value(expr)) if not isinstance(expr, int | float) else float(expr)


def allocation_table(f: Formulation) -> pd.DataFrame:
    """Every active decision per year with its cost, land and cadre hours.

    ``kind``: the program's decision kind (site, chain, city, count, amount).
    ``quantity``: 1 for an open site, alliance or city program; units in place for counts;
    spend for amounts. ``cost``: money spent on that decision that year (opening or new
    units plus operating); ``land``: mu of construction land newly taken that year (sum
    it over years for what the plan uses); ``land_in_use``: mu it occupies that year;
    ``cadre_hours``: cadre hours it uses that year.
    """
    m, d = f.model, f.data
    rows = []

    def add(c: str, p: str, i: str, t: int, q: float, prev: float) -> None:
        if q <= 1e-7:
            return
        cost = d.yearly_cost(p, q, prev)
        on_land = d.kind[p] in ("site", "chain", "count")
        rows.append(
            (
                c,
                p,
                d.kind[p],
                i,
                d.years[t],
                q,
                cost,
                d.land[p] * max(q - prev, 0.0) if on_land else 0.0,
                d.land[p] * q if on_land else 0.0,
                d.cadre[p] * q if on_land else 0.0,
            )
        )

    def rounded(var: pyo.Var, key: tuple) -> float:
        v = var[key].value or 0.0
        return float(round(v)) if var[key].is_integer() else float(v)

    for c, p, t in m.site_idx:
        add(c, p, "", t, rounded(m.open, (c, p, t)), rounded(m.open, (c, p, t - 1)) if t else 0.0)
    for c, i, p, t in m.chain_idx:
        prev = rounded(m.alliance, (c, i, p, t - 1)) if t else 0.0
        add(c, p, i, t, rounded(m.alliance, (c, i, p, t)), prev)
    for p, t in m.city_idx:
        prev = rounded(m.citywide, (p, t - 1)) if t else 0.0
        add("", p, "", t, rounded(m.citywide, (p, t)), prev)
    for c, p, t in m.count_idx:
        prev = rounded(m.units, (c, p, t - 1)) if t else 0.0
        add(c, p, "", t, rounded(m.units, (c, p, t)), prev)
    for c, p, t in m.amount_idx:
        add(c, p, "", t, float(m.spend[c, p, t].value or 0.0), 0.0)
    frame = pd.DataFrame(rows, columns=ALLOCATION_COLUMNS)
    return frame.sort_values(["year", "program", "county", "industry"], ignore_index=True)


def budget_use(f: Formulation) -> pd.DataFrame:
    """Return the money used and available (10k yuan) per year and source of a solved plan.

    Available money includes what the source carried over from the year before.
    """
    m, d = f.model, f.data
    rows = []
    spent = source_spending(m)
    for t, s in m.budget_idx:
        used = spent[t, s]
        available = d.budget.get((d.years[t], s), 0.0)
        if hasattr(m, "carry") and t > 0:
            available += float(m.carry[t - 1, s].value or 0.0)
        rows.append((d.years[t], s, used, available))
    return pd.DataFrame(rows, columns=["year", "source", "used", "available"])


STEP_COLUMNS = ["step", "step_value", "step_value_low", "step_value_high"]
"""The discrete value of one more step of a used-up land or cadre limit, NaN unless
:func:`talentplan.solver.steps.step_values` priced it."""

PRICE_COLUMNS = [
    "resource",
    "year",
    "name",
    "unit",
    "price",
    "used",
    "limit",
    "fully_used",
    *STEP_COLUMNS,
]


def shadow_prices(f: Formulation, run: SolverRun) -> pd.DataFrame:
    """Objective gained per extra unit of each budget, land, cadre, energy and graduate limit.

    From the LP with the integer decisions fixed at the plan's values; units: objective
    per 10k yuan, per mu, per cadre hour, per tonne of standard coal a year, per graduate
    (the plan area's leaving graduates that placements may fill, ``name`` blank: the
    price of :mod:`talentplan.model.placement`'s pool row). A cadre
    limit includes the hours that capacity-building programs add. Sign: positive means
    more of the resource helps (for ``min_cost``, positive means it saves money).
    ``fully_used`` marks a limit the plan uses up. Land, cadre hours and energy are used
    only by whole sites, alliances and units,
    so with those fixed one more mu or hour buys nothing: such a limit can be fully used
    and binding on the plan with a price of 0; the :data:`STEP_COLUMNS` (NaN here) hold
    its discrete value once :func:`talentplan.solver.steps.step_values` has priced it.
    """
    if run.row_duals is None:
        return pd.DataFrame(columns=PRICE_COLUMNS)
    m, d = f.model, f.data
    dual = {id(con): float(v) for con, v in zip(run.compiled.rows, run.row_duals, strict=True)}
    sign = 1.0 if f.maximize else -1.0
    rows = []
    spent = source_spending(m)
    for t, s in m.budget_idx:
        con = m.budget[t, s] if (t, s) in m.budget else None
        used = spent[t, s]
        rows.append(
            (
                "budget",
                d.years[t],
                s,
                "10k yuan",
                sign * dual.get(id(con), 0.0),
                used,
                d.budget.get((d.years[t], s), 0.0),
            )
        )
    for c in m.land_quota:
        con = m.land_quota[c]
        rows.append(
            (
                "land",
                d.years[-1],
                c,
                "mu",
                sign * dual.get(id(con), 0.0),
                _value(land_use(m, d, c, d.n_years - 1)),
                d.land_quota[c],
            )
        )
    for c, t in m.cadre_capacity:
        con = m.cadre_capacity[c, t]
        rows.append(
            (
                "cadre",
                d.years[t],
                c,
                "hour",
                sign * dual.get(id(con), 0.0),
                _value(cadre_use(m, d, c, t)),
                d.cadre_capacity[c] + _value(cadre_added(m, d, c, t)),
            )
        )
    for c, t in m.energy_quota:
        con = m.energy_quota[c, t]
        rows.append(
            (
                "energy",
                d.years[t],
                c,
                "tce",
                sign * dual.get(id(con), 0.0),
                _value(energy_use(m, d, c, t)),
                d.energy_quota[c],
            )
        )
    for t in getattr(m, "graduate_pool", []):
        con = m.graduate_pool[t]
        rows.append(
            (
                "graduates",
                d.years[t],
                "",
                "person",
                sign * dual.get(id(con), 0.0),
                _value(sum(m.placed_expr[c, t] for c in d.counties)),
                sum(
                    d.graduates[c] * max(0.0, 1.0 - _value(graduate_share_expr(m, d, c, t)))
                    for c in d.counties
                ),
            )
        )
    out = pd.DataFrame(rows, columns=PRICE_COLUMNS[:7])
    out["price"] = out["price"].where(out["price"].abs() > 1e-9, 0.0)
    out["fully_used"] = out["used"] >= out["limit"] - 1e-6 * out["limit"].abs().clip(lower=1.0)
    for column in STEP_COLUMNS:
        out[column] = math.nan
    return out


def model_sizes(run: SolverRun) -> dict[str, int]:
    """Count the variables (binary, other integer) and constraints of the compiled model."""
    cm = run.compiled
    binary = int(((cm.col_lower >= 0) & (cm.col_upper <= 1) & cm.integer).sum())
    return {
        "n_variables": cm.n_cols,
        "n_binaries": binary,
        "n_integers": int(cm.integer.sum()) - binary,
        "n_constraints": cm.n_rows,
    }


__all__ = [
    "ALLOCATION_COLUMNS",
    "PRICE_COLUMNS",
    "STEP_COLUMNS",
    "allocation_table",
    "budget_use",
    "model_sizes",
    "shadow_prices",
]
