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
- A program's effects on talent (retention, inflow, platform gain, graduate retention,
  expert FTE, cadre hours added by ``cadre_capacity``) act ``lag_years`` after the
  decision; its costs, land, cadre time, energy and the rules (caps, requirements,
  floors, pins) follow the decision itself.
- Poaching draws, from each other county, the share ``S0[c] / sum_{c' != giver} S0[c']``
  of ``poach_share`` times what a program attracts before platforms multiply it (the
  exact curve for spend).
- The demand feedback's do-nothing path keeps graduates at the base share and has the
  market inflow; coverage and ``min_cost`` targets stay measured against the data's
  demand, while useful talent is capped by the fed-back demand.
- A blank ``city`` is one prefecture city shared by every county that leaves it blank.
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
    energy_tce: float = 0.0
    cap_per_city: float | None = None
    lag_years: int = 0
    poach_share: float = 0.0


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
    market_inflow: dict[tuple[str, str], float] = field(default_factory=dict)
    drivers: list[str] = field(default_factory=list)
    demand_feedback: float = 0.0
    city_of: dict[str, str] = field(default_factory=dict)

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
        if p.cap_per_county in ("townships", "colleges"):
            return self.county[county][p.cap_per_county]
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
    county: dict[str, dict] = {}
    city_of: dict[str, str] = {}
    for row in inst.counties.to_dict("records"):
        county[str(row["county"])] = {
            "townships": float(row["townships"]),
            "travel_time_h": float(row["travel_time_h"]),
            "graduates": float(row["graduates"]),
            "graduate_retention": float(row["graduate_retention"]),
            "land_quota_mu": float(row["land_quota_mu"]),
            "cadre_hours": float(row["cadre_hours"]),
            "efficiency": float(row["efficiency"]),
            "colleges": float(row["colleges"]),
            # None: no energy quota
            "energy_quota_tce": (
                None if _blank(row["energy_quota_tce"]) else float(row["energy_quota_tce"])
            ),
        }
        # a blank city counts as one city
        city_of[str(row["county"])] = "" if _blank(row["city"]) else str(row["city"]).strip()
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
            energy_tce=float(row["energy_tce"]),
            cap_per_city=None if _blank(row["cap_per_city"]) else float(row["cap_per_city"]),
            lag_years=int(row["lag_years"]),
            poach_share=float(row["poach_share"]),
        )
    effects = {
        (str(r["program"]), str(r["talent_type"]), str(r["effect"])): (
            float(r["value"]),
            math.nan if _blank(r["scale"]) else float(r["scale"]),
        )
        for r in inst.responses.to_dict("records")
    }
    stock0, attrition, market = {}, {}, {}
    for row in inst.stocks.to_dict("records"):
        key = (str(row["county"]), str(row["talent_type"]))
        stock0[key] = float(row["stock"])
        attrition[key] = float(row["attrition"])
        market[key] = float(row["market_inflow"])
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
        market_inflow=market,
        drivers=[
            str(k)
            for k, on in zip(types, inst.talent_types["drives_demand"], strict=True)
            if bool(on)
        ],
        demand_feedback=float(sc.demand_feedback),
        city_of=city_of,
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


def acting(r: Reading, plan: Plan, county: str, program: str, year: int) -> float:
    """Level of ``program`` acting on talent in ``county`` in ``year``.

    A program acts ``lag_years`` after the decision: the level decided for year
    ``year - lag_years``, and nothing before the plan's first year plus the lag. Costs,
    land, cadre time, energy and every rule follow :func:`level`, the decision itself.
    """
    decided = year - r.programs[program].lag_years
    return level(r, plan, county, program, decided) if decided >= r.years[0] else 0.0


def cadre_capacity(r: Reading, plan: Plan, county: str, year: int) -> float:
    """Cadre hours ``county`` has in ``year``: its own plus what capacity-building adds.

    The ``cadre_capacity`` effect (talent type blank) adds hours per active site, alliance,
    unit or city program, once the program acts (after its lag).
    """
    return r.county[county]["cadre_hours"] + sum(
        r.value(p, "", "cadre_capacity") * acting(r, plan, county, p, year) for p in r.programs
    )


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
    for y in r.years:
        asked = sum(placements_asked(r, plan, c, y) for c in r.counties)
        pool = sum(leaving_graduates(r, plan, c, y) for c in r.counties)
        if asked > pool + TOL * max(1.0, pool):
            out.append(f"placements in {y}: {asked} asked, {pool} graduates leave")
    for c in r.counties:
        placed = [p for p in r.programs.values() if p.kind in PLACED_KINDS]
        for y in r.years:
            land = sum(p.land_mu * level(r, plan, c, p.id, y) for p in placed)
            if land > r.county[c]["land_quota_mu"] + TOL:
                out.append(f"land in {c} {y}: {land} mu")
            hours = sum(p.cadre_hours * level(r, plan, c, p.id, y) for p in placed)
            if hours > cadre_capacity(r, plan, c, y) + TOL:
                out.append(f"cadre time in {c} {y}: {hours} h")
            quota = r.county[c]["energy_quota_tce"]
            energy = sum(p.energy_tce * level(r, plan, c, p.id, y) for p in placed)
            if quota is not None and energy > quota + TOL:
                out.append(f"energy in {c} {y}: {energy} tce")
    for p in r.programs.values():
        if p.cap_per_city is None or p.kind == "city":
            continue
        for city in sorted(set(r.city_of.values())):
            members = [c for c in r.counties if r.city_of[c] == city]
            for y in r.years:
                if sum(level(r, plan, c, p.id, y) for c in members) > p.cap_per_city + TOL:
                    out.append(f"{p.id} above cap_per_city in city '{city}' {y}")
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
    previous_stock: float,
    attrition: float,
    market: float,
    retained: float,
    inflow: float,
    local: float,
    drain: float,
) -> float:
    """Stock at the end of a year: ``(1 - a0) S + m0 + retained + inflow + local - drain``.

    Every term that enters (or leaves) a county's stock in a year passes through here (a
    new flow is one more argument): the market's own inflow ``m0``, what programs keep,
    what they attract, local graduates kept (and graduates of other counties placed here),
    and what other counties' programs poach.
    """
    return (1.0 - attrition) * previous_stock + market + retained + inflow + local - drain


def retained(r: Reading, plan: Plan, c: str, k: str, y: int, stock: float) -> float:
    """Persons of type ``k`` kept from leaving ``c`` in ``y``, from the start-of-year stock.

    Binary programs save the share ``rho`` of the baseline attrition, count programs keep
    persons per unit, and together never push attrition below the floor ``a_min``. Each
    program acts after its lag.
    """
    a0 = r.attrition[c, k]
    eff = r.county[c]["efficiency"]
    share = sum(
        eff * r.value(p.id, k, "retention") * acting(r, plan, c, p.id, y)
        for p in r.programs.values()
        if p.kind in BINARY_KINDS
    )
    units = sum(
        eff * r.value(p.id, k, "retained_per_unit") * acting(r, plan, c, p.id, y)
        for p in r.programs.values()
        if p.kind == "count"
    )
    room = max(a0 - r.attrition_floor, 0.0) * stock
    return min(a0 * share * stock + units, room)


def program_inflow(r: Reading, plan: Plan, c: str, p: str, k: str, y: int) -> float:
    """Persons of type ``k`` that program ``p`` attracts to ``c`` in ``y``, before platforms.

    ``eff * inflow * level`` plus, for an amount program, ``eff * beta * log(1 + x / theta)``
    of the spend ``x``; the level is the one acting after the lag.
    """
    eff = r.county[c]["efficiency"]
    q = acting(r, plan, c, p, y)
    value = eff * r.value(p, k, "inflow") * q
    if r.programs[p].kind == "amount" and (p, k, "inflow_log") in r.effects:
        beta, theta = r.effects[p, k, "inflow_log"]
        value += eff * beta * math.log1p(q / theta)
    return value


def inflow(r: Reading, plan: Plan, c: str, k: str, y: int) -> float:
    """Persons of type ``k`` arriving in ``c`` in ``y``: base inflow times platform gain."""
    base = sum(program_inflow(r, plan, c, p, k, y) for p in r.programs)
    gain = 1.0 + sum(
        r.value(p.id, k, "platform") * acting(r, plan, c, p.id, y)
        for p in r.programs.values()
        if p.kind == "site"
    )
    return base * gain


def drain(r: Reading, plan: Plan, c: str, k: str, y: int) -> float:
    """Persons of type ``k`` that the other counties' programs draw away from ``c`` in ``y``.

    A share ``poach_share`` of what a program attracts to a county ``c2`` (before
    platforms) comes from the plan area's other counties, each giving in proportion to its
    initial stock of the type: ``c`` gives ``S0[c] / sum_{c3 != c2} S0[c3]`` of it.
    """
    total = 0.0
    for c2 in r.counties:
        if c2 == c:
            continue
        others = sum(r.stock0[c3, k] for c3 in r.counties if c3 != c2)
        if others <= 0:
            continue
        poached = sum(
            p.poach_share * program_inflow(r, plan, c2, p.id, k, y)
            for p in r.programs.values()
            if p.poach_share > 0
        )
        total += r.stock0[c, k] / others * poached
    return total


def local_graduates(r: Reading, plan: Plan, c: str, y: int) -> float:
    """Vocational graduates kept in ``c`` in ``y``: share ``s0`` plus program shares, <= all."""
    eff = r.county[c]["efficiency"]
    share = r.county[c]["graduate_retention"] + sum(
        eff * r.value(p.id, "", "graduate_retention") * acting(r, plan, c, p.id, y)
        for p in r.programs.values()
        if p.kind in BINARY_KINDS
    )
    return r.county[c]["graduates"] * min(share, 1.0)


def leaving_graduates(r: Reading, plan: Plan, c: str, y: int) -> float:
    """Graduates of ``c`` not kept there in ``y``: ``G * max(0, 1 - share)``."""
    eff = r.county[c]["efficiency"]
    share = r.county[c]["graduate_retention"] + sum(
        eff * r.value(p.id, "", "graduate_retention") * acting(r, plan, c, p.id, y)
        for p in r.programs.values()
        if p.kind in BINARY_KINDS
    )
    return r.county[c]["graduates"] * max(0.0, 1.0 - share)


def placements_asked(r: Reading, plan: Plan, c: str, y: int) -> float:
    """Graduates the placement spend in ``c`` asks for in ``y``.

    ``eff * value * exp(-scale * travel_time_h)`` per 10k yuan of every amount program
    with a ``placement`` effect (docs/instance-format.md).
    """
    eff = r.county[c]["efficiency"]
    travel = r.county[c]["travel_time_h"]
    total = 0.0
    for p in r.programs.values():
        if p.kind == "amount" and (p.id, "", "placement") in r.effects:
            value, decay = r.effects[p.id, "", "placement"]
            decay = 0.0 if math.isnan(decay) else decay
            total += eff * value * math.exp(-decay * travel) * acting(r, plan, c, p.id, y)
    return total


def placed_graduates(r: Reading, plan: Plan, c: str, y: int) -> float:
    """Graduates placed in ``c`` in ``y``: what it asks, all counties cut pro rata when
    the plan area asks for more than leave their own counties."""
    asked = placements_asked(r, plan, c, y)
    if asked == 0.0:
        return 0.0
    total = sum(placements_asked(r, plan, d, y) for d in r.counties)
    pool = sum(leaving_graduates(r, plan, d, y) for d in r.counties)
    return asked * min(1.0, pool / total)


def experts(r: Reading, plan: Plan, c: str, k: str, y: int) -> float:
    """Flexible experts (FTE) of type ``k`` serving ``c`` in ``y``; they never settle."""
    eff = r.county[c]["efficiency"]
    travel = r.county[c]["travel_time_h"]
    total = 0.0
    for p in r.programs.values():
        if p.kind in ("site", "count") and (p.id, k, "fte") in r.effects:
            phi0, decay = r.effects[p.id, k, "fte"]
            decay = 0.0 if math.isnan(decay) else decay
            total += eff * phi0 * math.exp(-decay * travel) * acting(r, plan, c, p.id, y)
    return total


def do_nothing_drivers(r: Reading, c: str) -> dict[int, float]:
    """Useful talent of the demand-driving types in ``c`` per year on the do-nothing path.

    No program: ``S = (1 - a0) S + m0 + local`` (graduates kept at the base share ``s0``),
    useful ``min(S, D0)`` against the data's demand.
    """
    stock = {k: r.stock0[c, k] for k in r.drivers}
    out = {}
    for y in r.years:
        useful = 0.0
        for k in r.drivers:
            local = 0.0
            if k == r.graduate_type:
                local = r.county[c]["graduates"] * min(r.county[c]["graduate_retention"], 1.0)
            stock[k] = (1.0 - r.attrition[c, k]) * stock[k] + r.market_inflow[c, k] + local
            useful += min(stock[k], r.demand[c, k, y])
        out[y] = useful
    return out


def demand(r: Reading, c: str, k: str, y: int, drivers_before: float, base_before: float) -> float:
    """Demand of ``k`` in ``c`` in ``y`` with the scenario's ``demand_feedback`` ``eta``.

    ``D0 + eta * share * (I - I0)``: ``I`` the useful talent of the ``drives_demand`` types
    the year before, ``I0`` the same on the do-nothing path, ``share`` the type's part of
    the county's data demand of the year. The first plan year sees the data's demand.
    """
    d0 = r.demand[c, k, y]
    if y == r.years[0] or r.demand_feedback <= 0 or not r.drivers:
        return d0
    total = sum(r.demand[c, j, y] for j in r.types)
    share = d0 / total if total else 0.0
    return d0 + r.demand_feedback * share * (drivers_before - base_before)


@dataclass(frozen=True)
class Cell:
    """A county's talent of one type in one year (``demand`` with the feedback)."""

    stock: float
    fte: float
    useful: float
    demand: float = math.nan


def trajectory(r: Reading, plan: Plan) -> dict[tuple[str, str, int], Cell]:
    """Play the plan: stock, expert FTE and useful talent per county, type and year."""
    out: dict[tuple[str, str, int], Cell] = {}
    for c in r.counties:
        base = do_nothing_drivers(r, c) if r.drivers else {}
        stock = {k: r.stock0[c, k] for k in r.types}
        drivers_before = 0.0
        for y in r.years:
            drivers_now = 0.0
            for k in r.types:
                local = 0.0
                if k == r.graduate_type:
                    local = local_graduates(r, plan, c, y) + placed_graduates(r, plan, c, y)
                s = yearly_balance(
                    stock[k],
                    r.attrition[c, k],
                    r.market_inflow[c, k],
                    retained(r, plan, c, k, y, stock[k]),
                    inflow(r, plan, c, k, y),
                    local,
                    drain(r, plan, c, k, y),
                )
                stock[k] = s
                fte = experts(r, plan, c, k, y)
                need = demand(r, c, k, y, drivers_before, base.get(y - 1, 0.0))
                out[c, k, y] = Cell(s, fte, min(s + fte, need), need)
                if k in r.drivers:
                    drivers_now += out[c, k, y].useful
            drivers_before = drivers_now
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
