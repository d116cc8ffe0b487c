"""An independent reference for planning instances: rules, dynamics and objectives.

Provenance
----------
Written from the documentation only: ``docs/instance-format.md`` (tables, columns, decision
kinds, effects, pins, floors, budget sources), the equations in the module docstrings of
``src/talentplan/model/`` (retention with the floor ``a_min``, inflow with the concave
subsidy curve and the platform multiplier, the stock balance, local graduates, flexible
experts, useful talent, the objectives) and section 2 of the shared design. It reads the
validated ``Instance`` dataframes itself and imports nothing from ``talentplan.model``,
``talentplan.simulation`` or the solver, so a wrong reading of an instance in the
package's data preparation, a wrong row in the formulation or a wrong step in the
simulator shows up as a disagreement with this module.

Readings where the documentation leaves a choice, stated once here:

- Effects of a chain program count per alliance (its costs are "as site, per alliance").
- A city program acts in every county while it is open (its retention, inflow and
  graduate retention apply county by county); it uses no land or cadre time.
- ``efficiency`` multiplies every effect that brings talent (retention shares, persons
  retained per unit, inflows, the subsidy curve, graduate retention, expert FTE) once;
  the platform multiplier ``1 + gamma`` acts on inflows that already carry it and is
  not scaled again.
- The talent index discounts year ``n`` of the plan (0 for the first year) by
  ``(1 + discount_rate) ** -n``.
- ``min_cost`` without a targets table asks every county's weighted final-year coverage
  (``sum_k w U / sum_k w D``, the equity objective's measure) to reach
  ``target_coverage``, as the objectives module says ("of final-year demand in every
  county"); the scenario's docstring says "in every county and type", which is not what
  the package does.
- Budget funding is a transportation problem: every county-year cost of a program is
  paid by sources whose ``programs`` and ``counties`` allow it (a city program only by a
  source with ``counties = *``); with ``carry_over`` a source's money of one year can pay
  in any later year. It is feasible exactly when Gale's condition holds: for every set of
  (source, year) budgets, the costs that only they may pay do not exceed their total.

A plan is a mapping ``(county, program, industry, year) -> level`` of the decisions
that are active (the rows of an allocation table): 1 for an open site, alliance or city
program (county blank for city programs, industry blank except for alliances), units in
place for a count program, spend in 10k yuan for an amount program. Absent keys are 0.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

Plan = Mapping[tuple[str, str, str, int], float]

TOL = 1e-7
"""Slack of every inequality the reference checks (money, land, hours, persons)."""

BINARY_KINDS = ("site", "chain", "city")
PLACED_KINDS = ("site", "chain", "count")
"""Kinds whose sites, alliances or units hold land and use cadre time."""


@dataclass(frozen=True)
class Program:
    """One row of ``programs.csv`` as the reference reads it."""

    id: str
    kind: str
    fixed_cost: float
    operating_cost: float
    unit_cost: float
    land_mu: float
    cadre_hours: float
    cap_per_county: str
    cap_total: float | None
    requires: str


@dataclass(frozen=True)
class Reading:
    """The reference's own reading of an instance's scenario and tables."""

    years: list[int]
    objective: str
    discount_rate: float
    attrition_floor: float
    carry_over: bool
    target_coverage: float
    min_coverage: float
    floors: list[tuple[str, int, float, tuple[str, ...]]]
    counties: list[str]
    county: dict[str, dict[str, float]]
    types: list[str]
    weight: dict[str, float]
    graduate_type: str | None
    present: dict[str, list[str]]
    programs: dict[str, Program]
    effects: dict[tuple[str, str, str], tuple[float, float]]
    stock0: dict[tuple[str, str], float]
    attrition: dict[tuple[str, str], float]
    demand: dict[tuple[str, str, int], float]
    budget: dict[tuple[int, str], float]
    source_programs: dict[str, set[str] | None]
    source_counties: dict[str, set[str] | None]
    pins: list[dict]
    targets: dict[tuple[str, str], float] = field(default_factory=dict)

    def value(self, program: str, talent_type: str, effect: str) -> float:
        """Return the ``value`` of a responses row, 0 when the row is absent."""
        return self.effects.get((program, talent_type, effect), (0.0, math.nan))[0]

    def cap(self, county: str, program: str) -> float:
        """Return the largest level of ``program`` in ``county`` (inf when uncapped)."""
        p = self.programs[program]
        if p.kind == "chain":
            return float(len(self.present[county]))
        if p.kind in BINARY_KINDS:
            return 1.0
        if p.cap_per_county == "townships":
            return self.county[county]["townships"]
        return float(p.cap_per_county) if p.cap_per_county else math.inf


def _id_list(text: str) -> set[str] | None:
    """Read a ``*`` (None: everything) or ``;``-separated list of ids."""
    text = str(text).strip()
    if text in ("", "*"):
        return None
    return {item.strip() for item in text.split(";") if item.strip()}


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def read(inst) -> Reading:
    """Read an ``Instance``'s scenario and dataframes into a :class:`Reading`."""
    sc = inst.scenario
    years = list(range(sc.start_year, sc.start_year + sc.n_years))
    county = {}
    for row in inst.counties.to_dict("records"):
        county[str(row["county"])] = {
            "townships": float(row["townships"]),
            "travel_time_h": float(row["travel_time_h"]),
            "graduates": float(row["graduates"]),
            "graduate_retention": float(row["graduate_retention"]),
            "land_quota_mu": float(row["land_quota_mu"]),
            "cadre_hours": float(row["cadre_hours"]),
            "efficiency": float(row["efficiency"]),
        }
    types = [str(k) for k in inst.talent_types["talent_type"]]
    weight = dict(zip(types, map(float, inst.talent_types["weight"]), strict=True))
    flagged = [str(k) for k, g in zip(types, inst.talent_types["graduate"], strict=True) if g]
    present: dict[str, list[str]] = {c: [] for c in county}
    for row in inst.presence.to_dict("records"):
        present[str(row["county"])].append(str(row["industry"]))
    programs = {}
    for row in inst.programs.to_dict("records"):
        total = row["cap_total"]
        programs[str(row["program"])] = Program(
            id=str(row["program"]),
            kind=str(row["kind"]),
            fixed_cost=float(row["fixed_cost"]),
            operating_cost=float(row["operating_cost"]),
            unit_cost=float(row["unit_cost"]),
            land_mu=float(row["land_mu"]),
            cadre_hours=float(row["cadre_hours"]),
            cap_per_county=str(row["cap_per_county"]).strip(),
            cap_total=None if _blank(total) else float(total),
            requires=str(row["requires"]).strip(),
        )
    effects = {
        (str(r["program"]), str(r["talent_type"]), str(r["effect"])): (
            float(r["value"]),
            math.nan if _blank(r["scale"]) else float(r["scale"]),
        )
        for r in inst.responses.to_dict("records")
    }
    stock0, attrition = {}, {}
    for row in inst.stocks.to_dict("records"):
        key = (str(row["county"]), str(row["talent_type"]))
        stock0[key] = float(row["stock"])
        attrition[key] = float(row["attrition"])
    demand = {
        (str(r["county"]), str(r["talent_type"]), int(r["year"])): float(r["demand"])
        for r in inst.demand.to_dict("records")
    }
    budget = {
        (int(r["year"]), str(r["source"])): float(r["amount"])
        for r in inst.budgets.to_dict("records")
    }
    source_programs = {str(r["source"]): _id_list(r["programs"]) for r in _rows(inst, "sources")}
    source_counties = {str(r["source"]): _id_list(r["counties"]) for r in _rows(inst, "sources")}
    pins = [
        {
            "county": str(r["county"]),
            "program": str(r["program"]),
            "industry": str(r["industry"]),
            "year": int(r["year"]),
            "action": str(r["action"]),
            "value": 0.0 if _blank(r["value"]) else float(r["value"]),
        }
        for r in _rows(inst, "pins")
    ]
    targets = {
        (str(r["county"]), str(r["talent_type"])): float(r["target"])
        for r in _rows(inst, "targets")
    }
    return Reading(
        years=years,
        objective=sc.objective,
        discount_rate=float(sc.discount_rate),
        attrition_floor=float(sc.attrition_floor),
        carry_over=bool(sc.carry_over),
        target_coverage=float(sc.target_coverage),
        min_coverage=float(sc.min_coverage),
        floors=[
            (f.program, int(f.by_year), float(f.min_units), tuple(f.counties)) for f in sc.floors
        ],
        counties=list(county),
        county=county,
        types=types,
        weight=weight,
        graduate_type=flagged[0] if flagged else None,
        present=present,
        programs=programs,
        effects=effects,
        stock0=stock0,
        attrition=attrition,
        demand=demand,
        budget=budget,
        source_programs=source_programs,
        source_counties=source_counties,
        pins=pins,
        targets=targets,
    )


def _rows(inst, table: str) -> list[dict]:
    frame = inst.tables.get(table)
    return [] if frame is None else frame.to_dict("records")


def plan_from_allocation(allocation: pd.DataFrame) -> dict[tuple[str, str, str, int], float]:
    """Read the plan of an allocation table (county, program, industry, year, quantity)."""
    plan: dict[tuple[str, str, str, int], float] = {}
    for row in allocation.to_dict("records"):
        county = "" if _blank(row["county"]) else str(row["county"])
        industry = "" if _blank(row.get("industry")) else str(row["industry"])
        key = (county, str(row["program"]), industry, int(row["year"]))
        plan[key] = plan.get(key, 0.0) + float(row["quantity"])
    return plan


# --- levels and what they use --------------------------------------------------------


def level(r: Reading, plan: Plan, county: str, program: str, year: int) -> float:
    """Level of ``program`` in ``county`` in ``year``, as floors, pins and caps count it.

    Open (0/1) for a site or a city program (whatever the county), the number of open
    alliances for a chain program, units in place for a count, spend for an amount.
    """
    kind = r.programs[program].kind
    if kind == "city":
        return plan.get(("", program, "", year), 0.0)
    if kind == "chain":
        return sum(plan.get((county, program, i, year), 0.0) for i in r.present[county])
    return plan.get((county, program, "", year), 0.0)


def previous(r: Reading, year: int) -> int | None:
    """The plan year before ``year``, or None in the first plan year."""
    return year - 1 if year > r.years[0] else None


def cost_items(r: Reading, plan: Plan) -> dict[tuple[str, str, int], float]:
    """Money each program costs in each county and year (county blank for city programs).

    Opening costs are paid on the increase over the year before (``fixed_cost`` per
    newly opened site, alliance or city program, ``unit_cost`` per new unit), operating
    costs on what is in place, and an amount program costs its spend.
    """
    costs: dict[tuple[str, str, int], float] = {}
    for p in r.programs.values():
        where = [""] if p.kind == "city" else r.counties
        for c in where:
            # each alliance of a chain program is a decision of its own
            industries = r.present[c] if p.kind == "chain" else [""]
            for y in r.years:
                money = 0.0
                for i in industries:
                    now = plan.get((c, p.id, i, y), 0.0)
                    before = 0.0 if previous(r, y) is None else plan.get((c, p.id, i, y - 1), 0.0)
                    if p.kind == "amount":
                        money += now
                    elif p.kind == "count":
                        money += p.unit_cost * max(now - before, 0.0) + p.operating_cost * now
                    else:
                        money += p.fixed_cost * max(now - before, 0.0) + p.operating_cost * now
                if money > 0:
                    costs[c, p.id, y] = money
    return costs


def total_cost(r: Reading, plan: Plan) -> float:
    """All money the plan spends over the plan years (the ``min_cost`` objective)."""
    return sum(cost_items(r, plan).values())


def payers(r: Reading, county: str, program: str, year: int) -> frozenset[tuple[str, int]]:
    """The (source, budget year) pairs whose money may pay this cost."""
    out = set()
    for s in r.source_programs:
        allowed = r.source_programs[s]
        where = r.source_counties[s]
        if allowed is not None and program not in allowed:
            continue
        if county == "" and where is not None:
            continue
        if county and where is not None and county not in where:
            continue
        for y in r.years:
            if y == year or (r.carry_over and y < year):
                out.add((s, y))
    return frozenset(out)


def funding_shortfall(r: Reading, plan: Plan) -> float:
    """Largest amount by which some costs exceed all the money allowed to pay them.

    Zero when the budgets can pay the plan (Gale's condition of the transportation
    problem from (source, year) budgets to county-year program costs).
    """
    by_payers: dict[frozenset, float] = {}
    for (c, p, y), money in cost_items(r, plan).items():
        key = payers(r, c, p, y)
        by_payers[key] = by_payers.get(key, 0.0) + money
    nodes = sorted({node for key in by_payers for node in key} | {(s, y) for (y, s) in r.budget})
    worst = max((m for key, m in by_payers.items() if not key), default=0.0)
    for n in range(1, len(nodes) + 1):
        for subset in itertools.combinations(nodes, n):
            chosen = set(subset)
            need = sum(m for key, m in by_payers.items() if key and key <= chosen)
            if need <= 0:
                continue
            have = sum(r.budget.get((y, s), 0.0) for s, y in chosen)
            worst = max(worst, need - have)
    return worst


def breaches(r: Reading, plan: Plan, *, quick: bool = False) -> list[str]:
    """Every rule of the instance the plan breaks, in words (empty: the plan is admissible).

    With ``quick``, the budgets (the costliest check) are left out when another rule is
    already broken.
    """
    out: list[str] = []
    for (c, p, i, y), q in plan.items():
        prog = r.programs[p]
        if (prog.kind == "city") != (c == "") or (prog.kind == "chain") != (i != ""):
            out.append(f"malformed decision {(c, p, i, y)}")
        if prog.kind == "chain" and i not in r.present.get(c, []):
            out.append(f"alliance {p} in {c}/{i}: industry not present")
        if q < -TOL or (prog.kind in BINARY_KINDS and q not in (0.0, 1.0)):
            out.append(f"{p} in {c} {y}: level {q}")
        if prog.kind == "count" and abs(q - round(q)) > TOL:
            out.append(f"{p} in {c} {y}: {q} units is not whole")
    for p in r.programs.values():
        for c in [""] if p.kind == "city" else r.counties:
            for y in r.years:
                if p.kind != "city" and level(r, plan, c, p.id, y) > r.cap(c, p.id) + TOL:
                    out.append(f"{p.id} in {c} {y}: above cap_per_county")
                if p.kind != "amount" and previous(r, y) is not None:
                    keys = r.present[c] if p.kind == "chain" else [""]
                    for i in keys:
                        if plan.get((c, p.id, i, y), 0.0) < plan.get((c, p.id, i, y - 1), 0.0):
                            out.append(f"{p.id} in {c}/{i} shrinks in {y}")
        if p.cap_total is not None:
            for y in r.years:
                if sum(level(r, plan, c, p.id, y) for c in r.counties) > p.cap_total + TOL:
                    out.append(f"{p.id} above cap_total in {y}")
        if p.requires:
            for c in r.counties:
                for y in r.years:
                    # docs/instance-format.md: an amount program is active from a spend of 1
                    need = 1.0 - TOL if r.programs[p.requires].kind == "amount" else TOL
                    have = level(r, plan, c, p.requires, y)
                    if level(r, plan, c, p.id, y) > TOL and not have >= need:
                        out.append(f"{p.id} in {c} {y} without {p.requires}")
    for c in r.counties:
        placed = [p for p in r.programs.values() if p.kind in PLACED_KINDS]
        for y in r.years:
            land = sum(p.land_mu * level(r, plan, c, p.id, y) for p in placed)
            if land > r.county[c]["land_quota_mu"] + TOL:
                out.append(f"land in {c} {y}: {land} mu")
            hours = sum(p.cadre_hours * level(r, plan, c, p.id, y) for p in placed)
            if hours > r.county[c]["cadre_hours"] + TOL:
                out.append(f"cadre time in {c} {y}: {hours} h")
    for program, by_year, min_units, counties in r.floors:
        where = [""] if r.programs[program].kind == "city" else list(counties) or r.counties
        for c in where:
            for y in r.years:
                if y >= by_year and level(r, plan, c, program, y) < min_units - TOL:
                    out.append(f"floor {program} in {c} {y}")
    for pin in r.pins:
        c, p, i, y = pin["county"], pin["program"], pin["industry"], pin["year"]
        x = plan.get((c, p, i, y), 0.0) if i else level(r, plan, c, p, y)
        v = pin["value"]
        bad = {
            "fix": abs(x - v) > TOL,
            "forbid": abs(x) > TOL,
            "min": x < v - TOL,
            "max": x > v + TOL,
        }[pin["action"]]
        if bad:
            out.append(f"pin {pin}")
    if quick and out:
        return out
    shortfall = funding_shortfall(r, plan)
    if shortfall > 1e-6:
        out.append(f"budgets short by {shortfall}")
    return out


# --- dynamics -------------------------------------------------------------------------


def yearly_balance(
    previous_stock: float, attrition: float, retained: float, inflow: float, local: float
) -> float:
    """Stock at the end of a year: ``(1 - a0) S + retained + inflow + local``.

    Every term that enters a county's stock in a year passes through here (a new flow is
    one more argument).
    """
    return (1.0 - attrition) * previous_stock + retained + inflow + local


def retained(r: Reading, plan: Plan, c: str, k: str, y: int, stock: float) -> float:
    """Persons of type ``k`` kept from leaving ``c`` in ``y``, from the start-of-year stock.

    Binary programs save the share ``rho`` of the baseline attrition, count programs keep
    persons per unit, and together never push attrition below the floor ``a_min``.
    """
    a0 = r.attrition[c, k]
    eff = r.county[c]["efficiency"]
    share = sum(
        eff * r.value(p.id, k, "retention") * level(r, plan, c, p.id, y)
        for p in r.programs.values()
        if p.kind in BINARY_KINDS
    )
    units = sum(
        eff * r.value(p.id, k, "retained_per_unit") * level(r, plan, c, p.id, y)
        for p in r.programs.values()
        if p.kind == "count"
    )
    room = max(a0 - r.attrition_floor, 0.0) * stock
    return min(a0 * share * stock + units, room)


def inflow(r: Reading, plan: Plan, c: str, k: str, y: int) -> float:
    """Persons of type ``k`` arriving in ``c`` in ``y``: base inflow times platform gain."""
    eff = r.county[c]["efficiency"]
    base = 0.0
    for p in r.programs.values():
        q = level(r, plan, c, p.id, y)
        base += eff * r.value(p.id, k, "inflow") * q
        if p.kind == "amount" and (p.id, k, "inflow_log") in r.effects:
            beta, theta = r.effects[p.id, k, "inflow_log"]
            base += eff * beta * math.log1p(q / theta)
    gain = 1.0 + sum(
        r.value(p.id, k, "platform") * level(r, plan, c, p.id, y)
        for p in r.programs.values()
        if p.kind == "site"
    )
    return base * gain


def local_graduates(r: Reading, plan: Plan, c: str, y: int) -> float:
    """Vocational graduates kept in ``c`` in ``y``: share ``s0`` plus program shares, <= all."""
    eff = r.county[c]["efficiency"]
    share = r.county[c]["graduate_retention"] + sum(
        eff * r.value(p.id, "", "graduate_retention") * level(r, plan, c, p.id, y)
        for p in r.programs.values()
        if p.kind in BINARY_KINDS
    )
    return r.county[c]["graduates"] * min(share, 1.0)


def experts(r: Reading, plan: Plan, c: str, k: str, y: int) -> float:
    """Flexible experts (FTE) of type ``k`` serving ``c`` in ``y``; they never settle."""
    eff = r.county[c]["efficiency"]
    travel = r.county[c]["travel_time_h"]
    total = 0.0
    for p in r.programs.values():
        if p.kind in ("site", "count") and (p.id, k, "fte") in r.effects:
            phi0, decay = r.effects[p.id, k, "fte"]
            decay = 0.0 if math.isnan(decay) else decay
            total += eff * phi0 * math.exp(-decay * travel) * level(r, plan, c, p.id, y)
    return total


@dataclass(frozen=True)
class Cell:
    """A county's talent of one type in one year."""

    stock: float
    fte: float
    useful: float


def trajectory(r: Reading, plan: Plan) -> dict[tuple[str, str, int], Cell]:
    """Play the plan: stock, expert FTE and useful talent per county, type and year."""
    out: dict[tuple[str, str, int], Cell] = {}
    for c in r.counties:
        for k in r.types:
            s = r.stock0[c, k]
            for y in r.years:
                local = local_graduates(r, plan, c, y) if k == r.graduate_type else 0.0
                s = yearly_balance(
                    s,
                    r.attrition[c, k],
                    retained(r, plan, c, k, y, s),
                    inflow(r, plan, c, k, y),
                    local,
                )
                fte = experts(r, plan, c, k, y)
                out[c, k, y] = Cell(s, fte, min(s + fte, r.demand[c, k, y]))
    return out


def final_coverage(r: Reading, cells: dict, c: str) -> float | None:
    """Weighted final-year coverage ``sum_k w U / sum_k w D`` of ``c`` (None: no demand)."""
    y = r.years[-1]
    need = sum(r.weight[k] * r.demand[c, k, y] for k in r.types)
    if need <= 0:
        return None
    return sum(r.weight[k] * cells[c, k, y].useful for k in r.types) / need


def objective_value(r: Reading, plan: Plan, objective: str, cells: dict | None = None) -> float:
    """The plan's value: talent index, least cost, or smallest final-year coverage."""
    cells = trajectory(r, plan) if cells is None else cells
    if objective == "talent_index":
        return sum(
            (1.0 + r.discount_rate) ** -n * r.weight[k] * cells[c, k, y].useful
            for n, y in enumerate(r.years)
            for c in r.counties
            for k in r.types
        )
    if objective == "min_cost":
        return total_cost(r, plan)
    covered = [final_coverage(r, cells, c) for c in r.counties]
    return min(v for v in covered if v is not None)


def outcome_breaches(r: Reading, cells: dict, objective: str) -> list[str]:
    """Rules on the talent a plan reaches: targets (``min_cost``) and the equity floor."""
    out = []
    last = r.years[-1]
    if objective == "min_cost" and r.targets:
        for (c, k), goal in r.targets.items():
            if cells[c, k, last].useful < goal - TOL:
                out.append(f"target {c}/{k}")
    elif objective == "min_cost":
        # without a targets table, every county's weighted final-year coverage (as the
        # equity objective measures it) reaches target_coverage
        for c in r.counties:
            cover = final_coverage(r, cells, c)
            if cover is not None and cover < r.target_coverage - TOL:
                out.append(f"target coverage in {c}")
    if r.min_coverage > 0:
        for c in r.counties:
            cover = final_coverage(r, cells, c)
            if cover is not None and cover < r.min_coverage - TOL:
                out.append(f"equity floor in {c}")
    return out


@dataclass(frozen=True)
class Score:
    """A plan's value under an objective and the rules it breaks."""

    value: float
    breaches: list[str]
    cells: dict

    @property
    def admissible(self) -> bool:
        """Whether the plan breaks no rule."""
        return not self.breaches


def score(r: Reading, plan: Plan, objective: str | None = None) -> Score:
    """Score ``plan`` with the exact curves and list the rules it breaks."""
    objective = objective or r.objective
    cells = trajectory(r, plan)
    rules = breaches(r, plan) + outcome_breaches(r, cells, objective)
    return Score(objective_value(r, plan, objective, cells), rules, cells)
