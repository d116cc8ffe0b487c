"""Turn a validated instance into the plain index sets and coefficients of the model.

Everything the formulation needs is computed here once, vectorised where it matters,
so that the Pyomo blocks only assemble expressions. Tight bounds for the exact
linearisations (stocks, base inflows) are derived from the data here too.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from talentplan.data.cells import is_blank
from talentplan.data.instance import Instance
from talentplan.errors import InstanceError
from talentplan.model.pwl import PiecewiseLinear, log_breakpoints, log_pwl, log_pwl_at

Activation = tuple[str, str]
"""A binary activation in a county: (program, industry) with industry '' unless chain."""


@dataclass
class ModelData:
    """Index sets and coefficients of one instance, in plain Python containers."""

    instance: Instance
    years: list[int]
    counties: list[str]
    types: list[str]
    programs: list[str]
    kind: dict[str, str]
    by_kind: dict[str, list[str]]
    present: dict[str, list[str]]
    weight: dict[str, float]
    graduate_type: str | None
    a0: dict[tuple[str, str], float]
    s0: dict[tuple[str, str], float]
    m0: dict[tuple[str, str], float]
    """Market inflow (persons a year) that arrives without any program."""
    demand: dict[tuple[str, str, int], float]
    efficiency: dict[str, float]
    graduates: dict[str, float]
    graduate_share: dict[str, float]
    travel: dict[str, float]
    land_quota: dict[str, float]
    cadre_capacity: dict[str, float]
    townships: dict[str, int]
    colleges: dict[str, int]
    fixed_cost: dict[str, float]
    operating_cost: dict[str, float]
    unit_cost: dict[str, float]
    land: dict[str, float]
    cadre: dict[str, float]
    energy: dict[str, float]
    """Energy use (tce a year) per active site, alliance or unit."""
    energy_quota: dict[str, float]
    """Energy quota (tce a year) of the counties that have one."""
    cap_total: dict[str, float]
    cap_per_city: dict[str, float]
    cities: dict[str, list[str]]
    """Prefecture city -> its counties (a blank city is one city of its own)."""
    requires: dict[str, str]
    lag: dict[str, int]
    """Years from a decision to its first effect on talent."""
    poach: dict[str, float]
    """Share of a program's inflow drawn from the plan area's other counties."""
    effects: dict[tuple[str, str, str], tuple[float, float]]
    """(program, talent_type, effect) -> (value, scale); talent_type '' for graduate_retention."""
    sources: list[str]
    eligible: dict[str, list[str]]
    """source -> programs it may fund."""
    groups: dict[str, tuple[list[str], list[str]]]
    """Funding groups: id -> (counties, sources that may pay there). Counties paid by the
    same set of sources form one group, so earmarks by county cost few variables."""
    plan_sources: list[str]
    """Sources that may pay anywhere (the only ones that can fund city-kind programs)."""
    budget: dict[tuple[int, str], float]
    attrition_floor: float
    discount: list[float]
    level_ub: dict[tuple[str, str], float] = field(default_factory=dict)
    pwl: dict[tuple[str, str, str], PiecewiseLinear] = field(default_factory=dict)
    stock_ub: dict[tuple[str, str, int], float] = field(default_factory=dict)
    inflow_ub: dict[tuple[str, str], float] = field(default_factory=dict)
    drivers: list[str] = field(default_factory=list)
    """Types whose useful talent raises demand the next year (``drives_demand``)."""
    feedback: float = 0.0
    """Persons of extra demand per useful driver above the do-nothing path (scenario)."""
    base_drivers: dict[tuple[str, int], float] = field(default_factory=dict)
    """Useful drivers of each county and year position on the do-nothing path."""
    demand_share: dict[tuple[str, str, int], float] = field(default_factory=dict)
    """Each type's share of its county's demand in a year (spreads the extra demand)."""
    type_total: dict[str, float] = field(default_factory=dict)
    """Initial stock of each type in the whole plan area."""
    max_drain: dict[tuple[str, str], float] = field(default_factory=dict)
    """Most talent of a type other counties' programs can draw from a county in a year."""
    pool_ub: dict[str, float] = field(default_factory=dict)
    """Most the competition pool of each type can hold: every county poaching at its caps."""
    stock_lb: dict[tuple[str, str, int], float] = field(default_factory=dict)
    """Lower bounds on stocks: the initial stock decayed by the full attrition."""

    @property
    def n_years(self) -> int:
        """Number of plan years."""
        return len(self.years)

    def activations(self, county: str) -> list[Activation]:
        """Binary activations that act in ``county`` (sites, its alliances, city programs)."""
        acts: list[Activation] = [(p, "") for p in self.by_kind["site"]]
        acts += [(p, i) for p in self.by_kind["chain"] for i in self.present[county]]
        acts += [(p, "") for p in self.by_kind["city"]]
        return acts

    def effect(self, program: str, talent_type: str, effect: str) -> float:
        """Return the value of one response effect of ``program`` on ``talent_type``, or 0."""
        return self.effects.get((program, talent_type, effect), (0.0, 0.0))[0]

    def fte_coefficient(self, county: str, program: str, talent_type: str) -> float:
        """Full-time equivalents per active site/unit, decayed with travel time."""
        return self._decayed(county, (program, talent_type, "fte"))

    def _decayed(self, county: str, key: tuple[str, str, str]) -> float:
        """``eff * value * exp(-scale * travel_time_h)`` of the response row ``key``."""
        value, scale = self.effects.get(key, (0.0, 0.0))
        return self.efficiency[county] * value * math.exp(-scale * self.travel[county])

    def yearly_cost(self, program: str, now: float, before: float) -> float:
        """Return the money (10k yuan) one decision of ``program`` costs in a year.

        The decision is at level ``now`` that year and at ``before`` the year before. The
        cost is the spend itself for amounts, and otherwise the opening (or new-unit) cost
        of the increase plus the operating cost of the level.
        """
        kind = self.kind[program]
        if kind == "amount":
            return now
        opening = self.unit_cost[program] if kind == "count" else self.fixed_cost[program]
        return opening * max(now - before, 0.0) + self.operating_cost[program] * now

    @property
    def poachers(self) -> list[str]:
        """Programs that draw part of their inflow from other counties (two or more)."""
        if len(self.counties) < 2:
            return []
        return [p for p in self.programs if self.poach[p] > 0]

    @property
    def placers(self) -> list[str]:
        """Programs that place the plan area's leaving graduates (effect ``placement``)."""
        if self.graduate_type is None:
            return []
        return [p for p in self.programs if self.effect(p, "", "placement") > 0]

    def placement_coefficient(self, county: str, program: str) -> float:
        """Graduates placed in ``county`` per 10k yuan of ``program``, decayed with travel."""
        return self._decayed(county, (program, "", "placement"))

    def most_graduate_share(self, county: str) -> float:
        """Largest share of ``county``'s graduates it can keep (every activation open)."""
        eff = self.efficiency[county]
        return self.graduate_share[county] + sum(
            eff * self.effect(p, "", "graduate_retention") for p, _i in self.activations(county)
        )

    def inflow_programs(self, talent_type: str) -> list[str]:
        """Programs with an ``inflow`` or ``inflow_log`` effect on ``talent_type``."""
        return [
            p
            for p in self.programs
            if self.effect(p, talent_type, "inflow") > 0
            or (p, talent_type, "inflow_log") in self.pwl
        ]

    def others_stock(self, county: str, talent_type: str) -> float:
        """Return the initial stock of ``talent_type`` in the counties other than ``county``.

        What ``county``'s programs poach is drawn from each other county ``c`` in
        proportion to its initial stock: the share ``S0[c, k] / others_stock(county, k)``.
        """
        return self.type_total[talent_type] - self.s0[county, talent_type]

    def retention_room(self, county: str, talent_type: str) -> float:
        """Largest share of the stock that retention can save per year: ``a0 - a_min``."""
        return max(self.a0[county, talent_type] - self.attrition_floor, 0.0)


def prepare(instance: Instance) -> ModelData:
    """Index sets, coefficients and bounds of ``instance``."""
    sc = instance.scenario
    t = instance.tables
    counties_df = t["counties"].set_index("county")
    programs_df = t["programs"].set_index("program")
    counties = list(counties_df.index)
    types = list(t["talent_types"]["talent_type"])
    programs = list(programs_df.index)
    kind = programs_df["kind"].to_dict()
    by_kind: dict[str, list[str]] = {k: [] for k in ("site", "count", "amount", "chain", "city")}
    for p in programs:
        by_kind[kind[p]].append(p)
    present: dict[str, list[str]] = {c: [] for c in counties}
    for c, i in t["presence"][["county", "industry"]].itertuples(index=False):
        present[c].append(i)
    grad = t["talent_types"].loc[t["talent_types"]["graduate"].astype(bool), "talent_type"]
    stocks = t["stocks"].set_index(["county", "talent_type"])
    demand_df = t["demand"]
    year_set = set(sc.years)
    demand = {
        (c, k, int(y)): float(d)
        for c, k, y, d in demand_df[["county", "talent_type", "year", "demand"]].itertuples(
            index=False
        )
        if int(y) in year_set
    }
    effects = {
        (p, k, e): (
            float(v),
            0.0 if s is None or (isinstance(s, float) and np.isnan(s)) else float(s),
        )
        for p, k, e, v, s in t["responses"][
            ["program", "talent_type", "effect", "value", "scale"]
        ].itertuples(index=False)
    }
    sources_df = t["sources"]
    eligible: dict[str, list[str]] = {}
    for s, progs in sources_df[["source", "programs"]].itertuples(index=False):
        text = str(progs).strip()
        eligible[s] = (
            list(programs)
            if text in ("", "*")
            else [p.strip() for p in text.split(";") if p.strip()]
        )
    covers: dict[str, set[str] | None] = {}
    county_text = (
        sources_df["counties"] if "counties" in sources_df else pd.Series("*", sources_df.index)
    )
    for s, text in zip(sources_df["source"], county_text, strict=True):
        text = str(text).strip()
        covers[s] = None if text in ("", "*") else {c.strip() for c in text.split(";")}
    budget = {
        (int(y), s): float(a)
        for y, s, a in t["budgets"][["year", "source", "amount"]].itertuples(index=False)
        if int(y) in year_set
    }
    cap_total = {p: float(v) for p, v in programs_df["cap_total"].items() if not is_blank(v)}
    cap_per_city = {p: float(v) for p, v in programs_df["cap_per_city"].items() if not is_blank(v)}
    cities: dict[str, list[str]] = defaultdict(list)
    for c, city in counties_df["city"].items():
        cities[str(city)].append(str(c))
    requires = {p: str(r) for p, r in programs_df["requires"].items() if str(r).strip()}
    d = ModelData(
        instance=instance,
        years=sc.years,
        counties=counties,
        types=types,
        programs=programs,
        kind=kind,
        by_kind=by_kind,
        present=present,
        weight=dict(
            zip(t["talent_types"]["talent_type"], t["talent_types"]["weight"], strict=True)
        ),
        graduate_type=str(grad.iloc[0]) if len(grad) else None,
        a0={key: float(v) for key, v in stocks["attrition"].items()},
        s0={key: float(v) for key, v in stocks["stock"].items()},
        m0={key: float(v) for key, v in stocks["market_inflow"].items()},
        demand=demand,
        efficiency=counties_df["efficiency"].astype(float).to_dict(),
        graduates=counties_df["graduates"].astype(float).to_dict(),
        graduate_share=counties_df["graduate_retention"].astype(float).to_dict(),
        travel=counties_df["travel_time_h"].astype(float).to_dict(),
        land_quota=counties_df["land_quota_mu"].astype(float).to_dict(),
        cadre_capacity=counties_df["cadre_hours"].astype(float).to_dict(),
        townships=counties_df["townships"].astype(int).to_dict(),
        colleges=counties_df["colleges"].astype(int).to_dict(),
        fixed_cost=programs_df["fixed_cost"].astype(float).to_dict(),
        operating_cost=programs_df["operating_cost"].astype(float).to_dict(),
        unit_cost=programs_df["unit_cost"].astype(float).to_dict(),
        land=programs_df["land_mu"].astype(float).to_dict(),
        cadre=programs_df["cadre_hours"].astype(float).to_dict(),
        energy=programs_df["energy_tce"].astype(float).to_dict(),
        energy_quota={
            str(c): float(v) for c, v in counties_df["energy_quota_tce"].items() if not is_blank(v)
        },
        cap_total=cap_total,
        cap_per_city=cap_per_city,
        cities=dict(cities),
        requires=requires,
        lag=programs_df["lag_years"].astype(int).to_dict(),
        poach=programs_df["poach_share"].astype(float).to_dict(),
        effects=effects,
        sources=list(sources_df["source"]),
        eligible=eligible,
        groups=_funding_groups(counties, covers),
        plan_sources=[s for s in sources_df["source"] if covers[s] is None],
        budget=budget,
        attrition_floor=float(sc.attrition_floor),
        discount=[(1.0 + sc.discount_rate) ** -n for n in range(sc.n_years)],
    )
    _level_bounds(d, programs_df["cap_per_county"].to_dict())
    _response_curves(d, sc.pwl_segments)
    _stock_bounds(d)
    types_df = t["talent_types"]
    d.drivers = [
        str(k)
        for k, on in zip(types_df["talent_type"], types_df["drives_demand"], strict=True)
        if on
    ]
    d.feedback = float(sc.demand_feedback)
    if d.feedback > 0 and d.drivers:
        _demand_feedback(d)
    return d


def _most_placed(d: ModelData, county: str) -> float:
    """Most graduates placements can bring to ``county`` in a year.

    Every placing program at its cap, and never more than all of the plan area's graduates.
    """
    spend = sum(d.placement_coefficient(county, p) * d.level_ub[county, p] for p in d.placers)
    return min(spend, sum(d.graduates.values()))


def _demand_feedback(d: ModelData) -> None:
    """Do-nothing useful drivers and demand shares, for the demand feedback.

    Demand in year ``t`` is ``D[c, k, t] = D0[c, k, t] + eta * share[c, k, t] *
    (I[c, t-1] - I0[c, t-1])``, where ``I`` is the county's useful talent of the driving
    types, ``I0`` the same on the do-nothing path (no program: ``S[t] = (1 - a0) S[t-1] +
    m0 + local``, useful ``min(S, D0)``) and ``share`` each type's part of the county's
    demand. A plan that only keeps the do-nothing path sees the data's demand.
    """
    for c in d.counties:
        total = {
            t: sum(d.demand.get((c, k, y), 0.0) for k in d.types) for t, y in enumerate(d.years)
        }
        for k in d.types:
            for t, y in enumerate(d.years):
                d.demand_share[c, k, t] = (
                    d.demand.get((c, k, y), 0.0) / total[t] if total[t] else 0.0
                )
        stock = {j: d.s0[c, j] for j in d.drivers}
        for t, y in enumerate(d.years):
            useful = 0.0
            for j in d.drivers:
                local = d.graduates[c] * d.graduate_share[c] if j == d.graduate_type else 0.0
                stock[j] = (1 - d.a0[c, j]) * stock[j] + d.m0[c, j] + min(local, d.graduates[c])
                useful += min(stock[j], d.demand.get((c, j, y), 0.0))
            d.base_drivers[c, t] = useful


def _funding_groups(
    counties: list[str], covers: dict[str, set[str] | None]
) -> dict[str, tuple[list[str], list[str]]]:
    by_signature: dict[tuple[str, ...], list[str]] = {}
    for c in counties:
        signature = tuple(s for s, where in covers.items() if where is None or c in where)
        by_signature.setdefault(signature, []).append(c)
    return {f"g{n}": (cs, list(sig)) for n, (sig, cs) in enumerate(by_signature.items())}


def funders(d: ModelData, program: str, sources: list[str]) -> list[str]:
    """Those of ``sources`` allowed to fund ``program``."""
    return [s for s in sources if program in d.eligible[s]]


def _max_funds(d: ModelData, program: str, county: str) -> float:
    """Return the most money (10k yuan) ``program`` could receive in one year in ``county``."""
    sources = next(srcs for cs, srcs in d.groups.values() if county in cs)
    per_year: dict[int, float] = defaultdict(float)
    for (y, s), amount in d.budget.items():
        if s in sources and program in d.eligible.get(s, ()):
            per_year[y] += amount
    if d.instance.scenario.carry_over:
        return sum(per_year.values())
    return max(per_year.values(), default=0.0)


def _level_bounds(d: ModelData, caps: dict[str, object]) -> None:
    """Upper bound of each decision's level per county: 1, a unit cap, or a spend cap."""
    for p in d.programs:
        kind = d.kind[p]
        cap_text = str(caps.get(p, "") or "").strip()
        for c in d.counties:
            if kind in ("site", "city"):
                ub = 1.0
            elif kind == "chain":
                ub = float(len(d.present[c]))
            elif kind == "count":
                if cap_text == "townships":
                    ub = float(d.townships[c])
                elif cap_text == "colleges":
                    ub = float(d.colleges[c])
                elif cap_text:
                    ub = float(math.floor(float(cap_text)))
                else:
                    ub = _derived_unit_cap(d, c, p)
            else:  # amount
                funds = _max_funds(d, p, c)
                ub = min(float(cap_text), funds) if cap_text else funds
            d.level_ub[c, p] = ub


def _derived_unit_cap(d: ModelData, county: str, program: str) -> float:
    """Units a county could ever afford, hold on its land and staff (for an uncapped count)."""
    bounds = []
    money = d.unit_cost[program] + d.operating_cost[program]
    if money > 0:
        bounds.append(sum(d.budget.values()) / money)
    if d.land[program] > 0:
        bounds.append(d.land_quota[county] / d.land[program])
    if d.cadre[program] > 0:
        bounds.append(d.cadre_capacity[county] / d.cadre[program])
    if not bounds:
        raise InstanceError(
            f"program '{program}' (kind count) costs no money, land or cadre time and has no "
            "cap_per_county: give it a cap so the number of units is bounded",
            file="programs.csv",
            column="cap_per_county",
        )
    return float(math.floor(min(bounds)))


def _response_curves(d: ModelData, segments: int) -> None:
    """Piecewise-linear chords of every ``inflow_log`` curve on its county's spend range.

    The curves of a program that poaches (:mod:`talentplan.model.competition`) share one
    set of breakpoints, spaced for the geometric mean of their scales, so that one convex
    combination of breakpoints evaluates them all exactly on the chords.
    """
    thetas: dict[str, list[float]] = {}
    for (p, _k, e), (_beta, theta) in d.effects.items():
        if e == "inflow_log":
            thetas.setdefault(p, []).append(theta)
    for (p, k, e), (beta, theta) in d.effects.items():
        if e != "inflow_log":
            continue
        upper = max(d.level_ub[c, p] for c in d.counties)
        if p in d.poachers and upper > 0:
            shared = float(np.exp(np.mean(np.log(thetas[p]))))
            xs = log_breakpoints(shared, upper, segments)
            d.pwl[p, k, "inflow_log"] = log_pwl_at(beta, theta, xs)
        else:
            d.pwl[p, k, "inflow_log"] = log_pwl(beta, theta, upper, segments)


def _stock_bounds(d: ModelData) -> None:
    """Tight bounds on base inflow per year and on stocks, from the data.

    Upper: ``S[t] <= (1 - a0) S[t-1] + m0 + saved + base * gain + graduates`` where
    ``saved`` is the most retention can keep (floor and program effects) and ``base`` every
    inflow program at its cap. Lower: ``S[t] >= (1 - a0) S[t-1] + m0 - drain_max``, as
    every other term added to the kept stock is nonnegative and other counties' programs
    draw at most ``drain_max`` a year (every poaching program everywhere at its cap).
    """
    own: dict[tuple[str, str, str], float] = {}  # (county, program, type) -> inflow at cap
    for c in d.counties:
        eff = d.efficiency[c]
        for k in d.types:
            for p in d.programs:
                ub = d.level_ub[c, p]
                value = eff * d.effect(p, k, "inflow") * ub
                if (p, k, "inflow_log") in d.pwl:
                    value += eff * float(d.pwl[p, k, "inflow_log"](ub))
                own[c, p, k] = value
    poachers = d.poachers
    for k in d.types:
        d.type_total[k] = sum(d.s0[c, k] for c in d.counties)
        # pool = sum over counties of what each poaches at most, per unit of others' stock
        share = {
            c: sum(d.poach[p] * own[c, p, k] for p in poachers) / d.others_stock(c, k)
            for c in d.counties
            if d.others_stock(c, k) > 0
        }
        pool = sum(share.values())
        d.pool_ub[k] = pool
        for c in d.counties:
            d.max_drain[c, k] = d.s0[c, k] * (pool - share.get(c, 0.0))
    for c in d.counties:
        eff = d.efficiency[c]
        for k in d.types:
            base = sum(own[c, p, k] for p in d.programs)
            gains = [d.effect(q, k, "platform") for q in d.by_kind["site"]]
            gain = 1.0 + sum(g for g in gains if g > 0)
            d.inflow_ub[c, k] = base
            local = d.graduates[c] + _most_placed(d, c) if k == d.graduate_type else 0.0
            a0 = d.a0[c, k]
            # Retention saves at most min(a0 - a_min, a0 * eff * sum rho) of last year's
            # stock plus what count programs keep per unit at their cap.
            room = d.retention_room(c, k)
            rho = sum(
                d.effect(p, k, "retention")
                for p, _i in d.activations(c)
                if d.effect(p, k, "retention") > 0
            )
            kept_units = sum(
                eff * d.effect(p, k, "retained_per_unit") * d.level_ub[c, p]
                for p in d.by_kind["count"]
                if d.effect(p, k, "retained_per_unit") > 0
            )
            s = d.s0[c, k]
            d.stock_ub[c, k, -1] = s
            for n in range(d.n_years):
                saved = min(room * s, a0 * eff * rho * s + kept_units) if room > 0 else 0.0
                s = s * (1.0 - a0) + d.m0[c, k] + saved + base * gain + local
                d.stock_ub[c, k, n] = s
            # Every term added to the kept stock is nonnegative (platform gains permitting),
            # so the stock never falls below the initial stock decayed by the full attrition.
            sound = 1.0 + sum(g for g in gains if g < 0) >= 0
            lo = d.s0[c, k] if sound else 0.0
            d.stock_lb[c, k, -1] = lo
            for n in range(d.n_years):
                lo = lo * max(1.0 - a0, 0.0) + (d.m0[c, k] if sound else 0.0)
                lo = max(lo - d.max_drain[c, k], 0.0)
                d.stock_lb[c, k, n] = lo
