"""Invariants of every plan the MIP returns, on random variants of small instances.

Every returned allocation is checked against the instance *tables* by code written here,
independently of the formulation: costs recomputed from programs.csv and paid by the
sources allowed to fund them (Hall's condition for the transportation problem: every set
of demands can be paid by the budgets of the sources that may pay them), land per county,
cadre hours per county-year (plus the hours capacity-building adds), energy per
county-year, unit caps (a number, townships or partner colleges) and spend caps,
plan-wide caps, prerequisites, chains only where their industry is present, whole
quantities and open-once-stay-open (sites, alliances and city programs never close, units
never fall). The simulator must agree that
the plan breaks nothing, and score it between the model's objective and its bound plus
the reported approximation error. Pins and policy floors are checked where they are drawn.
More budget never lowers the optimum.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from talentplan.data.instance import PolicyFloor
from talentplan.datasets import synthetic
from talentplan.errors import InfeasiblePlanError
from talentplan.report.pipeline import solve
from talentplan.simulation import simulate

from .tiny import tiny_instance

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TOL = 1e-6
SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

Key = tuple[str, str, str]
"""(county or '' for city programs, program, industry or '')."""


# --- an independent checker --------------------------------------------------------------


def _over(used: float, limit: float) -> bool:
    return used > limit + TOL * max(1.0, abs(limit))


def _listed(text: object) -> set[str] | None:
    """'*' (or blank) -> None (everything); 'a;b' -> {'a', 'b'}."""
    text = str(text).strip()
    return None if text in ("", "*") else {x.strip() for x in text.split(";") if x.strip()}


def plan_levels(inst, allocation: pd.DataFrame) -> dict[Key, list[float]]:
    """Quantity per decision and year position (zero where the allocation has no row)."""
    years = inst.years
    levels: dict[Key, list[float]] = defaultdict(lambda: [0.0] * len(years))
    frame = allocation.fillna({"county": "", "industry": ""})
    for r in frame.itertuples(index=False):
        levels[str(r.county), str(r.program), str(r.industry)][years.index(int(r.year))] += float(
            r.quantity
        )
    return levels


def breaches(inst, allocation: pd.DataFrame) -> list[str]:
    """Every rule of the instance tables that ``allocation`` breaks (empty if none)."""
    t = inst.tables
    years = inst.years
    T = range(len(years))
    programs = t["programs"].set_index("program")
    counties = t["counties"].set_index("county")
    present = set(zip(t["presence"]["county"], t["presence"]["industry"], strict=True))
    levels = plan_levels(inst, allocation)
    out: list[str] = []

    def level(c: str, p: str, n: int) -> float:
        """Sites/city 0/1, chains: number of alliances, counts: units, amounts: spend."""
        if programs.at[p, "kind"] == "city":
            return levels.get(("", p, ""), [0.0] * len(years))[n]
        return sum(q[n] for (cc, pp, _i), q in levels.items() if (cc, pp) == (c, p))

    for (c, p, i), q in levels.items():
        kind = programs.at[p, "kind"]
        if kind != "city" and c not in counties.index:
            out.append(f"unknown county {c}")
        if kind == "chain" and (c, i) not in present:
            out.append(f"alliance {p} in {c}/{i} where the industry is absent")
        for n in T:
            if kind in ("site", "chain", "city") and q[n] not in (0.0, 1.0):
                out.append(f"{p} {c} {years[n]}: binary decision {q[n]}")
            if kind == "count" and q[n] != round(q[n]):
                out.append(f"{p} {c} {years[n]}: fractional units {q[n]}")
            if q[n] < -TOL:
                out.append(f"{p} {c} {years[n]}: negative {q[n]}")
            if kind != "amount" and n > 0 and q[n] < q[n - 1]:
                out.append(f"{p} {c}/{i}: closes or shrinks in {years[n]}")

    for c in counties.index:
        for p in programs.index:
            kind = programs.at[p, "kind"]
            cap = str(programs.at[p, "cap_per_county"] or "").strip()
            for n in T:
                q = level(c, p, n)
                if kind == "count" and cap:
                    top = counties.at[c, cap] if cap in ("townships", "colleges") else float(cap)
                    if _over(q, math.floor(float(top))):
                        out.append(f"{p} in {c} {years[n]}: {q} units over the cap {top}")
                if kind == "amount" and cap and _over(q, float(cap)):
                    out.append(f"{p} in {c} {years[n]}: spend {q} over the cap {cap}")
                need = str(programs.at[p, "requires"] or "").strip()
                if need and q > TOL and level(c, need, n) <= TOL:
                    out.append(f"{p} in {c} {years[n]} without its prerequisite {need}")
        for n in T:
            on_land = [p for p in programs.index if programs.at[p, "kind"] != "amount"]
            land = sum(
                programs.at[p, "land_mu"] * level(c, p, n)
                for p in on_land
                if programs.at[p, "kind"] != "city"
            )
            if _over(land, counties.at[c, "land_quota_mu"]):
                out.append(f"land of {c} in {years[n]}: {land} mu")
            cadres = sum(
                programs.at[p, "cadre_hours"] * level(c, p, n)
                for p in on_land
                if programs.at[p, "kind"] != "city"
            )
            # capacity-building programs add hours from their lag on (responses.csv)
            added = sum(
                float(r.value)
                * level(c, str(r.program), n - int(programs.at[r.program, "lag_years"]))
                for r in t["responses"].itertuples(index=False)
                if r.effect == "cadre_capacity" and n >= int(programs.at[r.program, "lag_years"])
            )
            if _over(cadres, counties.at[c, "cadre_hours"] + added):
                out.append(f"cadre hours of {c} in {years[n]}: {cadres}")
            quota = counties.at[c, "energy_quota_tce"]
            energy = sum(
                programs.at[p, "energy_tce"] * level(c, p, n)
                for p in on_land
                if programs.at[p, "kind"] != "city"
            )
            if quota is not None and not pd.isna(quota) and _over(energy, float(quota)):
                out.append(f"energy of {c} in {years[n]}: {energy} tce")

    for p in programs.index:
        cap_total = programs.at[p, "cap_total"]
        if cap_total is None or (isinstance(cap_total, float) and math.isnan(cap_total)):
            continue
        for n in T:
            if programs.at[p, "kind"] == "city":
                used = level("", p, n)
            else:
                used = sum(level(c, p, n) for c in counties.index)
            if _over(used, float(cap_total)):
                out.append(f"plan-wide cap of {p} in {years[n]}: {used} > {cap_total}")

    out += _budget_breaches(inst, levels, programs)
    return out


def plan_costs(levels: dict[Key, list[float]], programs: pd.DataFrame) -> dict[tuple, float]:
    """Money per (county, program, year position) from programs.csv: opening or new units
    at the fixed/unit cost, operating cost per open year or unit-year, the spend itself."""
    cost: dict[tuple, float] = defaultdict(float)
    for (c, p, _i), q in levels.items():
        kind = programs.at[p, "kind"]
        for n, now in enumerate(q):
            before = q[n - 1] if n else 0.0
            if kind == "amount":
                money = now
            else:
                first = programs.at[p, "unit_cost" if kind == "count" else "fixed_cost"]
                money = first * max(now - before, 0.0) + programs.at[p, "operating_cost"] * now
            if money:
                cost[c, p, n] += money
    return cost


def _budget_breaches(inst, levels, programs) -> list[str]:
    """Hall's condition: a transportation problem with supplies (source, year) and demands
    (county, program, year) is feasible iff for every set S of supplies, the demands that
    only S may pay cost no more than the budgets in S."""
    t, sc = inst.tables, inst.scenario
    cost = plan_costs(levels, programs)
    sources = t["sources"]
    may_fund = {
        s: _listed(ps) for s, ps in zip(sources["source"], sources["programs"], strict=True)
    }
    pays_in = {s: _listed(cs) for s, cs in zip(sources["source"], sources["counties"], strict=True)}
    years = inst.years
    amount = {
        (s, years.index(int(y))): float(a)
        for y, s, a in t["budgets"][["year", "source", "amount"]].itertuples(index=False)
        if int(y) in years
    }
    supplies = [(s, n) for s in sources["source"] for n in range(len(years))]

    def neighbours(c: str, p: str, n: int) -> frozenset:
        return frozenset(
            (s, m)
            for s, m in supplies
            if (may_fund[s] is None or p in may_fund[s])
            and (pays_in[s] is None if c == "" else (pays_in[s] is None or c in pays_in[s]))
            and (m == n or (sc.carry_over and m < n))
        )

    demand_by_nbrs: dict[frozenset, float] = defaultdict(float)
    for (c, p, n), money in cost.items():
        demand_by_nbrs[neighbours(c, p, n)] += money
    total_budget = sum(amount.values())
    out = []
    for size in range(len(supplies) + 1):
        for subset in itertools.combinations(supplies, size):
            s_set = set(subset)
            owed = sum(v for nb, v in demand_by_nbrs.items() if nb <= s_set)
            have = sum(amount.get(x, 0.0) for x in subset)
            if owed > have + TOL * max(1.0, total_budget):
                out.append(f"budget: costs {owed:.6g} only {sorted(s_set)} may pay exceed {have}")
    return out


def check_result(inst, result) -> None:
    assert breaches(inst, result.allocation) == []
    sim = simulate(inst, result.allocation)
    assert sim.violations == ()
    # the objective is the exact value of the plan; it lies between the model's value
    # (chords underestimate) and the model's bound plus the reported approximation error
    tol = 1e-6 * max(1.0, abs(result.objective))
    assert result.objective == pytest.approx(sim.objective, rel=1e-9)
    assert sim.objective >= result.mip_objective - tol
    mip_bound, approx = result.summary["mip_bound"], result.summary["approximation_error"]
    assert sim.objective <= mip_bound + approx + tol
    # the allocation's cost column is what programs.csv says
    programs = inst.programs.set_index("program")
    mine = sum(plan_costs(plan_levels(inst, result.allocation), programs).values())
    assert result.allocation["cost"].sum() == pytest.approx(mine, rel=1e-9, abs=1e-9)


def solve_or_reject(inst, **kwargs):
    try:
        return solve(inst, **kwargs)
    except InfeasiblePlanError:
        assume(False)


def test_checker_sees_breaches():
    """The checker itself can fail: a plan that breaks each rule is caught."""
    inst = tiny_instance(n_years=2, budget=10.0, land_quota=10.0)
    bad = pd.DataFrame(
        [
            ("A", "centre", "", 2025, 1.0),  # closes in 2026
            ("A", "platform", "", 2025, 1.0),  # 12 mu with the centre > 10; over budget
            ("B", "station", "", 2025, 2.0),  # 2 units > 1 township
            ("B", "birds", "", 2025, 0.5),  # not whole
            ("A", "subsidy", "", 2026, 50.0),  # over its cap of 40
        ],
        columns=["county", "program", "industry", "year", "quantity"],
    )
    found = "\n".join(breaches(inst, bad))
    for words in ("closes", "land of A", "units over the cap", "binary", "spend", "budget"):
        assert words in found, words


def test_checker_sees_program_rules():
    inst = tiny_instance(n_years=1, budget=500.0, land_quota=50.0)
    programs = inst.programs.copy()
    programs.loc[programs["program"] == "platform", "cap_total"] = 1.0
    programs.loc[programs["program"] == "birds", "requires"] = "centre"
    inst = inst.replace_tables(programs=programs)
    bad = pd.DataFrame(
        [
            ("A", "platform", "", 2025, 1.0),
            ("B", "platform", "", 2025, 1.0),  # two platforms, cap_total 1
            ("B", "birds", "", 2025, 1.0),  # no centre in B
            ("B", "alliance", "mat", 2025, 1.0),  # mat is not present in B
        ],
        columns=["county", "program", "industry", "year", "quantity"],
    )
    found = "\n".join(breaches(inst, bad))
    for words in ("plan-wide cap of platform", "birds in B 2025 without", "industry is absent"):
        assert words in found, words


def test_checker_sees_earmarks():
    """Fiscal 24 + assist 12 a year: a platform (35) may draw on both, a centre (25) only
    on fiscal, so the cheaper centre breaks the budget and the dearer platform does not."""
    inst = tiny_instance(n_years=1, budget=24.0)
    centre = pd.DataFrame(
        [("A", "centre", "", 2025, 1.0)],
        columns=["county", "program", "industry", "year", "quantity"],
    )
    platform = centre.assign(program="platform")
    assert any(b.startswith("budget") for b in breaches(inst, centre))
    assert any(v.startswith("budget") for v in simulate(inst, centre).violations)
    assert breaches(inst, platform) == []
    assert simulate(inst, platform).violations == ()


# --- random tiny instances ---------------------------------------------------------------

tiny_settings = st.fixed_dictionaries(
    dict(
        n_years=st.integers(1, 3),
        # no budget at all, or at least 10,000 yuan a year: budgets of a few yuan sit at the
        # solver's feasibility tolerance (1e-7 of a 10k-yuan unit), not in planning data
        budget=st.one_of(st.just(0.0), st.floats(1.0, 150.0)),
        land_quota=st.sampled_from([0.0, 4.0, 8.0, 10.0, 12.0, 20.0]),
        carry_over=st.booleans(),
    )
)
cadre_scale = st.sampled_from([0.2, 0.5, 1.0])


@pytest.mark.slow
@settings(max_examples=25, **SETTINGS)
@given(tiny_settings, cadre_scale, st.integers(1, 8))
def test_tiny_plans_break_no_rule(kwargs, scale, segments):
    inst = tiny_instance(**kwargs).replace_scenario(pwl_segments=segments)
    counties = inst.counties.copy()
    counties["cadre_hours"] = counties["cadre_hours"] * scale
    inst = inst.replace_tables(counties=counties)
    result = solve(inst, mip_gap=1e-6)
    check_result(inst, result)


@settings(max_examples=4, **SETTINGS)
@given(st.integers(0, 10_000), st.sampled_from([1, 2]), st.floats(0.2, 1.5))
def test_synthetic_plans_break_no_rule(seed, n, factor):
    inst = synthetic(n, seed=seed, n_years=2).scale_budget(factor)
    result = solve_or_reject(inst, mip_gap=1e-3)
    check_result(inst, result)


# --- more budget -------------------------------------------------------------------------


@pytest.mark.slow
@settings(max_examples=12, **SETTINGS)
@given(
    st.integers(1, 3),
    st.floats(0.0, 2.0),
    st.floats(0.0, 1.0),
    st.booleans(),
)
def test_more_budget_never_lowers_the_optimum(n_years, f1, extra, carry_over):
    inst = tiny_instance(n_years=n_years, budget=60.0, carry_over=carry_over)
    low = solve(inst.scale_budget(f1), mip_gap=0.0)
    high = solve(inst.scale_budget(f1 + extra), mip_gap=0.0)
    # With the exact curves: opt(high) >= opt(low) >= low.objective, and high.bound (certified
    # with the exact curves) >= opt(high): so the bound is never below the smaller budget's
    # plan.
    assert high.summary["gap_basis"] == "exact"
    tol = 1e-6 * max(1.0, abs(low.objective))
    assert high.bound >= low.objective - tol
    # The same on the model: its plan falls below the smaller budget's model value only by
    # what HiGHS left open.
    high_open = max(high.summary["mip_bound"] - high.mip_objective, 0.0)
    assert high.summary["mip_bound"] >= low.mip_objective - tol
    assert high.mip_objective >= low.mip_objective - high_open - tol


# --- pins and floors ---------------------------------------------------------------------

# (county, program, industry, largest value) of the tiny instance's decisions
DECISIONS = [
    ("A", "centre", "", 1.0),
    ("B", "centre", "", 1.0),
    ("A", "platform", "", 1.0),
    ("B", "birds", "", 1.0),
    ("A", "alliance", "mat", 1.0),
    ("A", "alliance", "", 1.0),  # chain pin without industry: the number of alliances
    ("", "titles", "", 1.0),
    ("A", "station", "", 1.0),
    ("B", "station", "", 1.0),
    ("A", "subsidy", "", 40.0),
    ("B", "subsidy", "", 40.0),
]


@st.composite
def pin_rows(draw, n_years: int) -> dict:
    c, p, i, top = draw(st.sampled_from(DECISIONS))
    action = draw(st.sampled_from(["fix", "forbid", "min", "max"]))
    if p == "subsidy":
        value = draw(st.floats(0.0, top).map(lambda v: round(v, 3)))
    else:
        value = float(draw(st.integers(0, int(top))))
    year = 2025 + draw(st.integers(0, n_years - 1))
    return dict(county=c, program=p, industry=i, year=year, action=action, value=value)


@st.composite
def pinned_instances(draw):
    n_years = draw(st.integers(1, 3))
    rows = draw(st.lists(pin_rows(n_years), min_size=1, max_size=3))
    unique = {(r["county"], r["program"], r["industry"], r["year"], r["action"]): r for r in rows}
    budget = draw(st.floats(30.0, 150.0))
    return tiny_instance(n_years=n_years, budget=budget, pins=list(unique.values()))


def _pinned_level(levels, county: str, program: str, industry: str, n: int) -> float:
    if industry or program != "alliance":
        return levels.get((county, program, industry), [0.0] * (n + 1))[n]
    return sum(q[n] for (c, p, _i), q in levels.items() if (c, p) == (county, program))


@pytest.mark.slow
@settings(max_examples=25, **SETTINGS)
@given(pinned_instances())
def test_pins_are_honoured(inst):
    result = solve_or_reject(inst, mip_gap=1e-4)
    check_result(inst, result)
    levels = plan_levels(inst, result.allocation)
    for r in inst.pins.itertuples(index=False):
        q = _pinned_level(levels, r.county, r.program, r.industry, inst.years.index(r.year))
        tol = 1e-6 * max(1.0, r.value or 0.0)
        if r.action == "forbid":
            assert q == pytest.approx(0.0, abs=tol), r
        elif r.action == "fix":
            assert q == pytest.approx(r.value, abs=tol), r
        elif r.action == "min":
            assert q >= r.value - tol, r
        else:
            assert q <= r.value + tol, r


@st.composite
def floored_instances(draw):
    n_years = draw(st.integers(1, 3))
    floors = []
    for n in range(draw(st.integers(1, 2))):
        program = draw(st.sampled_from(["centre", "platform", "birds", "station", "titles"]))
        counties = draw(st.sampled_from([(), ("A",), ("B",)]))
        by_year = 2025 + draw(st.integers(0, n_years - 1))
        floors.append(PolicyFloor(f"floor {n}", program, by_year, 1.0, counties))
    budget = draw(st.floats(40.0, 150.0))
    return tiny_instance(n_years=n_years, budget=budget, floors=tuple(floors))


@pytest.mark.slow
@settings(max_examples=15, **SETTINGS)
@given(floored_instances())
def test_policy_floors_are_honoured(inst):
    result = solve_or_reject(inst, mip_gap=1e-4)
    check_result(inst, result)
    levels = plan_levels(inst, result.allocation)
    for floor in inst.scenario.floors:
        where = [""] if floor.program == "titles" else list(floor.counties or ("A", "B"))
        for c in where:
            for n, year in enumerate(inst.years):
                if year >= floor.by_year:
                    q = levels.get((c, floor.program, ""), [0.0] * len(inst.years))[n]
                    assert q >= floor.min_units - 1e-9, (floor, c, year)
