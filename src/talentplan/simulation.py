"""Forward simulation of any plan with the exact response curves.

``simulate(instance, allocation)`` plays a plan year by year through the talent dynamics
of DESIGN section 2 with the exact nonlinear curves (no piecewise-linear chords), so it
scores the model's own plan, a planner's hand-written plan, or the current policy on the
same footing. It also checks the plan against budgets, land quotas, cadre capacity and
caps and lists every breach.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from talentplan._display import DisplayMixin
from talentplan._options import check_choice
from talentplan.data.cells import is_blank
from talentplan.data.instance import Instance
from talentplan.data.schema import ACTIVE_SPEND, Objective
from talentplan.errors import InstanceError
from talentplan.model.objectives import final_demand
from talentplan.model.prepare import ModelData, prepare
from talentplan.model.pwl import log_response
from talentplan.model.resources import funding_channels, pin_label

PLAN_COLUMNS = ("county", "program", "industry", "year", "quantity")

Levels = dict[tuple[str, str, str, int], float]
"""(county, program, industry, year position) -> quantity; county '' for city programs."""


def plan_levels(d: ModelData, allocation: pd.DataFrame, *, file: str = "allocation") -> Levels:
    """Read a plan table (columns county, program, industry, year, quantity).

    Rows name active decisions: 1 for an open site, alliance or city program in that year,
    units in place for counts, spend (10k yuan) for amounts. Years and decisions without a
    row are zero. A decision given twice is an error. Errors name the row and column.
    """
    missing = [c for c in PLAN_COLUMNS if c not in allocation.columns and c != "industry"]
    if missing:
        raise InstanceError(
            f"missing column(s) {missing}; a plan needs {list(PLAN_COLUMNS)}", file=file
        )
    year_pos = {y: t for t, y in enumerate(d.years)}
    levels: Levels = defaultdict(float)
    first_row: dict[tuple[str, str, str, int], int] = {}
    frame = allocation.reset_index(drop=True)
    for n, row in enumerate(frame.to_dict("records")):
        where: dict[str, Any] = {"file": file, "row": n + 2}
        program = str(row["program"])
        if program not in d.kind:
            raise InstanceError(
                f"unknown program {program!r}", column="program", value=program, **where
            )
        county = "" if is_blank(row.get("county")) else str(row["county"])
        kind = d.kind[program]
        if kind != "city" and county not in d.efficiency:
            raise InstanceError(
                f"unknown county {county!r}", column="county", value=county, **where
            )
        industry = "" if is_blank(row.get("industry")) else str(row["industry"])
        if kind == "chain" and industry not in d.present.get(county, []):
            raise InstanceError(
                f"chain program {program!r} needs an industry present in {county!r} "
                f"(one of {d.present.get(county, [])})",
                column="industry",
                value=industry,
                **where,
            )
        try:
            year = int(row["year"])
            quantity = float(row["quantity"])
        except (TypeError, ValueError) as exc:
            raise InstanceError(f"year and quantity must be numbers ({exc})", **where) from None
        if year not in year_pos:
            raise InstanceError(
                f"year {year} is outside the plan years {d.years}",
                column="year",
                value=year,
                **where,
            )
        if not (quantity >= 0 and math.isfinite(quantity)):
            raise InstanceError(
                "quantity must be a finite number >= 0", column="quantity", value=quantity, **where
            )
        key = (
            "" if kind == "city" else county,
            program,
            industry if kind == "chain" else "",
            year_pos[year],
        )
        if key in first_row:
            raise InstanceError(
                f"the plan gives the decision ({key[0] or 'city-wide'}, {program}"
                f"{', ' + industry if key[2] else ''}, {year}) twice (also row "
                f"{first_row[key]}); give each decision once",
                column="program",
                value=program,
                **where,
            )
        first_row[key] = n + 2
        levels[key] += quantity
    return levels


@dataclass(frozen=True)
class SimulationResult(DisplayMixin):
    """A plan played forward with the exact response curves.

    Attributes
    ----------
    talent
        County, talent_type, year, stock, fte, useful (end-of-year).
    objective
        The plan's value under the instance's objective (or the one asked for).
    objective_name
        Which objective.
    cost
        County (blank for city programs), program, year, cost (10k yuan).
    violations
        Every budget, land, cadre, cap or rule the plan breaks, in words (empty if none).
    """

    talent: pd.DataFrame
    objective: float
    objective_name: str
    cost: pd.DataFrame
    violations: tuple[str, ...] = field(default=())

    @cached_property
    def feasible(self) -> bool:
        """Whether the plan breaks no budget, resource, cap or rule."""
        return not self.violations

    def _summary_tables(self) -> tuple[str, list[tuple[str, str]], list[pd.DataFrame]]:
        final = self.talent[self.talent["year"] == self.talent["year"].max()]
        by_type = final.groupby("talent_type")[["stock", "useful"]].sum()
        header = [
            ("objective", f"{self.objective_name} = {self.objective:.6g}"),
            ("total cost (10k yuan)", f"{self.cost['cost'].sum():,.1f}"),
            ("breaches", str(len(self.violations)) if self.violations else "none"),
        ]
        return "Simulated plan", header, [by_type]


def simulate(
    instance: Instance,
    allocation: pd.DataFrame,
    *,
    objective: str | None = None,
    tolerance: float = 1e-6,
    file: str = "allocation",
) -> SimulationResult:
    """Play ``allocation`` forward on ``instance`` with the exact response curves.

    Parameters
    ----------
    instance
        The planning instance.
    allocation
        A plan: a DataFrame shaped like ``AllocationResult.allocation`` (county, program,
        industry, year, quantity; other columns are ignored).
    objective
        Objective to score with; default the scenario's.
    tolerance
        Relative slack allowed before a resource use counts as a breach.
    file
        Name of the plan in error messages (e.g. its file name).
    """
    d = prepare(instance)
    return play(d, plan_levels(d, allocation, file=file), objective=objective, tolerance=tolerance)


def play(
    d: ModelData, lv: Levels, *, objective: str | None = None, tolerance: float = 1e-6
) -> SimulationResult:
    """Simulate decision levels ``lv`` on prepared data ``d`` (see :func:`simulate`)."""
    objective = objective or d.instance.scenario.objective
    check_choice("objective", objective, Objective)
    T = d.n_years

    def level(c: str, p: str, t: int) -> float:
        if d.kind[p] == "city":
            return lv.get(("", p, "", t), 0.0)
        if d.kind[p] == "chain":
            return sum(lv.get((c, p, i, t), 0.0) for i in d.present[c])
        return lv.get((c, p, "", t), 0.0)

    # What acts on talent in year t was decided lag_years before (nothing acts earlier);
    # costs, land, cadre time and rules follow the decisions themselves (``level``).
    def acting(c: str, p: str, t: int) -> float:
        t -= d.lag[p]
        return level(c, p, t) if t >= 0 else 0.0

    def active(c: str, p: str, i: str, t: int) -> float:
        t -= d.lag[p]
        key = ("", p, "", t) if d.kind[p] == "city" else (c, p, i, t)
        return lv.get(key, 0.0) if t >= 0 else 0.0

    def program_inflow(c: str, p: str, k: str, t: int) -> float:
        """Inflow of ``k`` that ``p`` brings to ``c`` in ``t``, before platforms."""
        value = d.efficiency[c] * d.effect(p, k, "inflow") * acting(c, p, t)
        beta, theta = d.effects.get((p, k, "inflow_log"), (0.0, 0.0))
        if beta and d.kind[p] == "amount":
            value += d.efficiency[c] * float(log_response(acting(c, p, t), beta, theta))
        return value

    def grad_share(c: str, t: int) -> float:
        """Share of ``c``'s graduates kept in ``c`` in ``t`` (may exceed 1)."""
        return d.graduate_share[c] + sum(
            d.efficiency[c] * d.effect(p, "", "graduate_retention") * active(c, p, i, t)
            for p, i in d.activations(c)
        )

    drain = _drains(d, program_inflow)
    placed, short = _placements(d, acting, grad_share)
    below: list[str] = []
    rows = []
    for c in d.counties:
        eff = d.efficiency[c]
        acts = d.activations(c)
        stock = {k: d.s0[c, k] for k in d.types}
        drivers = 0.0  # useful talent of the demand-driving types last year
        for t in range(T):
            extra = (
                d.feedback * (drivers - d.base_drivers[c, t - 1])
                if t > 0 and d.base_drivers
                else 0.0
            )
            drivers = 0.0
            for k in d.types:
                prev = stock[k]
                saved_share = sum(
                    eff * d.effect(p, k, "retention") * active(c, p, i, t) for p, i in acts
                )
                saved = d.a0[c, k] * prev * saved_share + sum(
                    eff * d.effect(p, k, "retained_per_unit") * acting(c, p, t)
                    for p in d.by_kind["count"]
                )
                retained = min(saved, d.retention_room(c, k) * prev)
                base = sum(program_inflow(c, p, k, t) for p in d.programs)
                gain = 1.0 + sum(
                    d.effect(q, k, "platform") * acting(c, q, t) for q in d.by_kind["site"]
                )
                local = 0.0
                if k == d.graduate_type:
                    local = min(d.graduates[c], d.graduates[c] * grad_share(c, t))
                    local += placed.get((c, t), 0.0)
                new = (1 - d.a0[c, k]) * prev + d.m0[c, k] + retained + base * gain + local
                new -= drain.get((c, k, t), 0.0)
                if new < -tolerance * max(d.s0[c, k], 1.0):
                    below.append(
                        f"other counties' programs draw {c}'s {k} below zero in "
                        f"{d.years[t]}: {new:,.6g} (the competition rule holds while a "
                        "county has what is drawn)"
                    )
                fte = sum(
                    d.fte_coefficient(c, p, k) * acting(c, p, t)
                    for p in d.by_kind["site"] + d.by_kind["count"]
                )
                demand = d.demand.get((c, k, d.years[t]), 0.0)
                demand += extra * d.demand_share.get((c, k, t), 0.0)
                useful = max(min(new + fte, demand), 0.0)
                if k in d.drivers:
                    drivers += useful
                rows.append((c, k, d.years[t], new, fte, useful))
                stock[k] = new
    talent = pd.DataFrame(rows, columns=["county", "talent_type", "year", "stock", "fte", "useful"])
    cost = _costs(d, lv)
    value = _objective(d, talent, cost, objective)
    violations = short + below + _breaches(d, lv, level, cost, tolerance)
    return SimulationResult(
        talent=talent,
        objective=value,
        objective_name=objective,
        cost=cost,
        violations=tuple(violations),
    )


def _drains(
    d: ModelData, program_inflow: Callable[[str, str, str, int], float]
) -> dict[tuple[str, str, int], float]:
    """Talent each county loses to other counties' poaching programs, per type and year.

    The rule of :mod:`talentplan.model.competition`: a share ``poach_share`` of what a
    program brings to a county is drawn from the others in proportion to their initial
    stocks.
    """
    poachers = d.poachers
    out: dict[tuple[str, str, int], float] = {}
    if not poachers:
        return out
    for k in d.types:
        for t in range(d.n_years):
            # what each county poaches per unit of the others' stock, and its sum (the pool)
            per_stock = {
                c: sum(d.poach[p] * program_inflow(c, p, k, t) for p in poachers)
                / d.others_stock(c, k)
                for c in d.counties
                if d.others_stock(c, k) > 0
            }
            pool = sum(per_stock.values())
            for c in d.counties:
                out[c, k, t] = d.s0[c, k] * (pool - per_stock.get(c, 0.0))
    return out


def _placements(
    d: ModelData,
    acting: Callable[[str, str, int], float],
    grad_share: Callable[[str, int], float],
) -> tuple[dict[tuple[str, int], float], list[str]]:
    """Graduates placed in each county and year, and the years that ask for too many.

    The rule of :mod:`talentplan.model.placement`: each county asks for what its placement
    spend buys; when the plan area's leaving graduates fall short, every county gets the
    same share of what it asked for.
    """
    placed: dict[tuple[str, int], float] = {}
    short: list[str] = []
    if not d.placers:
        return placed, short
    for t in range(d.n_years):
        asked = {
            c: sum(d.placement_coefficient(c, p) * acting(c, p, t) for p in d.placers)
            for c in d.counties
        }
        pool = sum(d.graduates[c] * max(0.0, 1.0 - grad_share(c, t)) for c in d.counties)
        total = sum(asked.values())
        fill = min(1.0, pool / total) if total > 0 else 1.0
        if fill < 1.0 - 1e-9:
            short.append(
                f"graduate placements in {d.years[t]} ask for {total:,.6g} graduates; "
                f"{pool:,.6g} leave their counties: each county got {fill:.1%} of its ask"
            )
        placed.update({(c, t): fill * asked[c] for c in d.counties})
    return placed, short


def _costs(d: ModelData, lv: Levels) -> pd.DataFrame:
    """Cost per county (blank for city programs), program and year, in 10k yuan."""
    rows = []
    for p in d.programs:
        kind = d.kind[p]
        if kind == "city":
            keys = [("", "")]
        elif kind == "chain":
            keys = [(c, i) for c in d.counties for i in d.present[c]]
        else:
            keys = [(c, "") for c in d.counties]
        for t in range(d.n_years):
            per_county: dict[str, float] = defaultdict(float)
            for c, i in keys:
                now = lv.get((c, p, i, t), 0.0)
                before = lv.get((c, p, i, t - 1), 0.0) if t > 0 else 0.0
                per_county[c] += d.yearly_cost(p, now, before)
            rows += [(c, p, d.years[t], v) for c, v in per_county.items()]
    return pd.DataFrame(rows, columns=["county", "program", "year", "cost"])


def _objective(d: ModelData, talent: pd.DataFrame, cost: pd.DataFrame, objective: str) -> float:
    if objective == "min_cost":
        return float(cost["cost"].sum())
    weight = talent["talent_type"].map(d.weight)
    if objective == "talent_index":
        disc = talent["year"].map(dict(zip(d.years, d.discount, strict=True)))
        return float((weight * disc * talent["useful"]).sum())
    return min_final_coverage(d, talent)


def min_final_coverage(d: ModelData, talent: pd.DataFrame) -> float:
    """Return the smallest final-year weighted coverage across counties with demand.

    The coverage of a county is ``sum_k w U / sum_k w D`` (the equity objective), read
    from a talent table like ``SimulationResult.talent``.
    """
    final = talent[talent["year"] == d.years[-1]]
    covered = (final["useful"] * final["talent_type"].map(d.weight)).groupby(final["county"]).sum()
    shares = [
        covered.get(c, 0.0) / final_demand(d, c) for c in d.counties if final_demand(d, c) > 0
    ]
    return float(min(shares)) if shares else 0.0


def _breaches(
    d: ModelData,
    lv: Levels,
    level: Callable[[str, str, int], float],
    cost: pd.DataFrame,
    tol: float,
) -> list[str]:
    out: list[str] = []

    def over(used: float, limit: float) -> bool:
        return used > limit + tol * max(1.0, abs(limit))

    unpaid = _funding_shortfall(d, cost)
    if sum(u.amount for u in unpaid) > tol * max(1.0, sum(d.budget.values())):
        for u in unpaid:
            out.append(
                f"budget {u.year or 'of every year'}: {u.amount:,.2f} (10k yuan) of the costs of "
                f"{', '.join(u.programs)} cannot be paid; the sources allowed to pay them "
                f"({', '.join(u.sources)}) are used up"
            )
    for t, year in enumerate(d.years):
        for c in d.counties:
            cadres = sum(
                d.cadre[p] * level(c, p, t)
                for p in d.programs
                if d.kind[p] in ("site", "chain", "count")
            )
            capacity = d.cadre_capacity[c] + sum(
                d.effect(p, "", "cadre_capacity") * level(c, p, t - d.lag[p])
                for p in d.programs
                if d.effect(p, "", "cadre_capacity") > 0 and t >= d.lag[p]
            )
            if over(cadres, capacity):
                out.append(f"cadre hours {c} {year}: {cadres:,.1f} of {capacity:,.1f}")
            if c in d.energy_quota:
                energy = sum(
                    d.energy[p] * level(c, p, t)
                    for p in d.programs
                    if d.kind[p] in ("site", "chain", "count")
                )
                if over(energy, d.energy_quota[c]):
                    out.append(f"energy {c} {year}: {energy:,.1f} of {d.energy_quota[c]:,.1f} tce")
    for c in d.counties:
        land = max(
            sum(
                d.land[p] * level(c, p, t)
                for p in d.programs
                if d.kind[p] in ("site", "chain", "count")
            )
            for t in range(d.n_years)
        )
        if over(land, d.land_quota[c]):
            out.append(f"land {c}: {land:,.1f} of {d.land_quota[c]:,.1f} mu")
    # City programs are one decision for the plan area: checked once, under the name ''.
    for c in [*d.counties, ""]:
        for p in d.programs:
            if (d.kind[p] == "city") != (c == ""):
                continue
            ub = 1.0 if c == "" else d.level_ub[c, p]
            where = c or "the plan area"
            for t in range(d.n_years):
                q = level(c, p, t)
                if over(q, ub):
                    out.append(f"cap {p} in {where} {d.years[t]}: {q:g} > {ub:g}")
                if d.kind[p] != "amount" and t > 0 and q < level(c, p, t - 1) - tol:
                    out.append(
                        f"{p} in {where} closes or shrinks in {d.years[t]} (sites, alliances, "
                        "city programs and units stay once opened)"
                    )
    for (c, p, _i, t), q in lv.items():
        if d.kind[p] != "amount" and abs(q - round(q)) > tol:
            out.append(f"{p} in {c or 'plan area'} {d.years[t]}: quantity {q:g} is not whole")
    out += _rule_breaches(d, lv, level, tol)
    return out


def _rule_breaches(
    d: ModelData, lv: Levels, level: Callable[[str, str, int], float], tol: float
) -> list[str]:
    """List the breaches of plan-wide caps, prerequisites, policy floors and pins."""
    out: list[str] = []
    for t, year in enumerate(d.years):
        for p, cap in d.cap_total.items():
            used = (
                level("", p, t) if d.kind[p] == "city" else sum(level(c, p, t) for c in d.counties)
            )
            if used > cap + tol:
                out.append(f"plan-wide cap on {p} in {year}: {used:g} > {cap:g}")
        for p, cap in d.cap_per_city.items():
            if d.kind[p] == "city":
                continue
            for name, members in d.cities.items():
                used = sum(level(c, p, t) for c in members)
                if used > cap + tol:
                    where = name or "the plan area"
                    out.append(f"cap per city on {p} in {where} in {year}: {used:g} > {cap:g}")
        for p, q in d.requires.items():
            for c in d.counties:
                have = level(c, q, t)
                off = have < ACTIVE_SPEND - tol if d.kind[q] == "amount" else have <= tol
                if level(c, p, t) > tol and off:
                    why = f"spends {have:g} < {ACTIVE_SPEND:g}" if d.kind[q] == "amount" else ""
                    out.append(f"{p} in {c} {year} needs {q} there, which {why or 'is not active'}")
    for floor in d.instance.scenario.floors:
        city = d.kind[floor.program] == "city"
        for c in [""] if city else list(floor.counties) or d.counties:
            for t, year in enumerate(d.years):
                have = level(c, floor.program, t)
                if year >= floor.by_year and have < floor.min_units - tol:
                    out.append(
                        f"floor '{floor.name}': {floor.program} in {c or 'the plan area'} "
                        f"{year} is {have:g} < {floor.min_units:g}"
                    )
    pins = d.instance.tables.get("pins")
    for row in [] if pins is None else pins.to_dict("records"):
        if int(row["year"]) not in d.years:
            continue
        t = d.years.index(int(row["year"]))
        p, c, i = str(row["program"]), str(row["county"]), str(row["industry"])
        have = (
            lv.get(("", p, "", t), 0.0)
            if d.kind[p] == "city"
            else (lv.get((c, p, i, t), 0.0) if i else level(c, p, t))
        )
        action = str(row["action"])
        want = 0.0 if action == "forbid" else float(row["value"])
        broken = (
            abs(have - want) > tol
            if action in ("fix", "forbid")
            else have < want - tol
            if action == "min"
            else have > want + tol
        )
        if broken:
            out.append(f"{pin_label(row)} is broken: level {have:g}")
    return out


@dataclass(frozen=True)
class Unpaid:
    """Costs of one year that no allowed source can pay, in the least-shortfall funding.

    ``year`` is None when the funding LP itself failed and the costs of every year are
    counted as unpaid.
    """

    year: int | None
    amount: float
    programs: tuple[str, ...]
    sources: tuple[str, ...]


def _funding_shortfall(d: ModelData, cost: pd.DataFrame) -> list[Unpaid]:
    """Return the costs (10k yuan) a plan leaves unpaid under the funding rules, by year.

    Each program is paid only from the sources allowed to fund it in its county (a small
    transportation LP that minimises the unpaid total, with carry-over when the scenario
    allows it); an empty list means the budgets can pay the plan.
    """
    carry = d.instance.scenario.carry_over
    T = range(d.n_years)
    anywhere = [s for s in d.plan_sources if set(d.programs) <= set(d.eligible[s])]
    per_year = cost.groupby("year")["cost"].sum()
    if all(
        per_year.get(y, 0.0) <= sum(d.budget.get((y, s), 0.0) for s in anywhere) for y in d.years
    ):
        return []  # sources that may pay for anything anywhere cover it all: no LP needed
    group_of = {c: g for g, (cs, _s) in d.groups.items() for c in cs}
    group_of[""] = "*"
    owed = (
        cost.assign(group=cost["county"].map(group_of))
        .groupby(["group", "program", "year"])["cost"]
        .sum()
    )
    owed = owed[owed > 0]
    year_pos = {y: t for t, y in enumerate(d.years)}
    channels = funding_channels(d)
    funds = [
        (g, p, year_pos[y], s)
        for (g, p, y) in owed.index
        for gg, pp, s in channels
        if (gg, pp) == (g, p)
    ]
    n_f, n_short = len(funds), len(owed)
    n_carry = len(d.sources) * d.n_years if carry else 0
    n = n_f + n_short + n_carry
    objective = np.zeros(n)
    objective[n_f : n_f + n_short] = 1.0
    owed_pos = {(g, p, year_pos[y]): r for r, (g, p, y) in enumerate(owed.index)}
    a_eq = np.zeros((n_short, n))
    for j, (g, p, t, _s) in enumerate(funds):
        a_eq[owed_pos[g, p, t], j] = 1.0
    for r in range(n_short):
        a_eq[r, n_f + r] = 1.0
    src_pos = {(t, s): r for r, (t, s) in enumerate((t, s) for t in T for s in d.sources)}
    a_ub = np.zeros((len(src_pos), n))
    b_ub = np.zeros(len(src_pos))
    for j, (_g, _p, t, s) in enumerate(funds):
        a_ub[src_pos[t, s], j] = 1.0
    for (t, s), r in src_pos.items():
        b_ub[r] = d.budget.get((d.years[t], s), 0.0)
        if carry:
            a_ub[r, n_f + n_short + r] = 1.0
            if t > 0:
                a_ub[r, n_f + n_short + src_pos[t - 1, s]] = -1.0
    if n_short == 0:
        return []
    res = linprog(
        objective,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=owed.to_numpy(),
        bounds=(0, None),
        method="highs",
    )
    if res.status != 0:
        total = float(owed.sum())
        return [Unpaid(None, total, tuple(sorted(set(cost["program"]))), tuple(d.sources))]
    short = pd.Series(res.x[n_f : n_f + n_short], index=owed.index)
    out = []
    for y, part in short[short > 1e-9].groupby(level="year"):
        programs = sorted(set(part.index.get_level_values("program")))
        allowed = sorted(
            {s for g, p, _y in part.index for gg, pp, s in channels if (gg, pp) == (g, p)}
        )
        out.append(Unpaid(int(y), float(part.sum()), tuple(programs), tuple(allowed)))
    return out


__all__ = ["SimulationResult", "min_final_coverage", "plan_levels", "play", "simulate"]
