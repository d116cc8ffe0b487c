"""The package against the independent reference of :mod:`tests.oracle.reference`.

For instances without continuous spend the enumeration of every plan gives the true
optimum, and ``tp.solve(inst, mip_gap=0)`` must reach it exactly: the exact value of its
plan (``result.objective``), the model's own value and its bound all equal the best
enumerated value. The reference also scores the solver's plan: it must break no rule and
its value and talent trajectory must be the ones the package reports.

With continuous spend on the concave subsidy curve, spend is enumerated on a grid. Grid
plans are admissible plans, so with ``OPT`` the true optimum over all plans (exact
curves) and ``G`` the best grid plan::

    G <= OPT <= result.bound                      (the bound is certified for the exact curves)
    result.objective >= G - approximation_error   (checked below)

The second holds because the model draws each curve as chords that lie below it by at
most the reported approximation error in the objective: the chord value of the best grid
plan is at least ``G - error``, the solver's plan is optimal for the chords (gap 0), and
its exact value is at least its chord value. ``result.objective >= G`` need not hold,
since a plan that is best for the chords can be beaten under the exact curves by less
than the error. The same inequality is checked with the solver's whole decisions fixed
and only its spend enumerated, on a finer grid.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import talentplan as tp
from talentplan.data.instance import PolicyFloor

from . import instances as I
from .enumeration import Decision, best_plan, decisions
from .reference import Reading, plan_from_allocation, read, score

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def solve(inst):
    """Solve to optimality."""
    return tp.solve(inst, mip_gap=0.0)


def check_solver_plan(r: Reading, result, objective: str) -> float:
    """The reference finds the solver's plan admissible and scores it as the package does.

    Returns the reference's value of the plan.
    """
    plan = plan_from_allocation(result.allocation)
    got = score(r, plan, objective)
    assert got.breaches == [], got.breaches
    assert result.objective == pytest.approx(got.value, rel=1e-9, abs=1e-7)
    talent = result.talent.set_index(["county", "talent_type", "year"])
    for (c, k, y), cell in got.cells.items():
        row = talent.loc[(c, k, y)]
        assert row["stock"] == pytest.approx(cell.stock, rel=1e-9, abs=1e-7), (c, k, y)
        assert row["fte"] == pytest.approx(cell.fte, rel=1e-9, abs=1e-7), (c, k, y)
        assert row["useful"] == pytest.approx(cell.useful, rel=1e-9, abs=1e-7), (c, k, y)
    return got.value


def check_integer_optimum(inst, objective: str | None = None) -> None:
    """Solver and enumeration agree on an instance without continuous spend."""
    r = read(inst)
    objective = objective or r.objective
    best = best_plan(r, objective)
    result = solve(inst)
    assert result.summary["approximation_error"] == 0.0
    assert check_solver_plan(r, result, objective) == pytest.approx(best.value, abs=1e-6)
    assert result.mip_objective == pytest.approx(best.value, abs=1e-6)
    assert result.bound == pytest.approx(best.value, abs=1e-6)


TARGETS = [
    dict(county="A", talent_type="eng", target=93.0),
    dict(county="B", talent_type="voc", target=52.0),
]

FLOORS = (
    PolicyFloor("a station in B by 2026", "station", 2026, 1.0, ("B",)),
    PolicyFloor("mutual recognition of titles by 2026", "titles", 2026),
)

PINS = [
    dict(county="A", program="alliance", industry="mat", year=2025, action="forbid"),
    dict(county="A", program="station", year=2026, action="min", value=1.0),
    dict(county="B", program="centre", year=2026, action="max", value=0.0),
]

INTEGER_CASES = {
    # sites, chains, a city program, counts, requirement, attrition floor, three sources
    "embedding": lambda: I.embedding_small(),
    "embedding-rich": lambda: I.embedding_small(
        budgets={"fiscal": [60.0, 45.0], "assist": [20.0, 20.0], "cityfund": [20.0, 20.0]}
    ),
    "floors-pins": lambda: I.embedding_small(floors=FLOORS, pins=PINS),
    "floors-pins-alliances": lambda: I.embedding_small(
        floors=(PolicyFloor("two alliances in A by 2026", "alliance", 2026, 2.0, ("A",)),),
        pins=[
            dict(county="A", program="alliance", year=2025, action="fix", value=1.0),
            dict(program="titles", year=2025, action="forbid"),
            dict(county="B", program="station", year=2025, action="fix", value=1.0),
        ],
        budgets={"fiscal": [40.0, 40.0], "assist": [20.0, 20.0], "cityfund": [15.0, 15.0]},
    ),
    "equity": lambda: I.embedding_small(objective="equity"),
    "min-cost-targets": lambda: I.embedding_small(objective="min_cost", targets=TARGETS),
    "min-cost-coverage": lambda: I.with_scenario(
        I.embedding_small(objective="min_cost"), target_coverage=0.85
    ),
    "equity-floor": lambda: I.embedding_small(min_coverage=0.83),
    # platform multiplier, expert FTE from sites and units, cap_total, a requirement
    "platforms": lambda: I.platforms(),
    "platforms-in-B": lambda: I.platforms(
        budgets={"fiscal": [40.0, 30.0], "assist": [45.0, 10.0]}, hours=(500.0, 120.0)
    ),
    # no source may pay for enclaves in B (no plan-wide cap on them): they stay closed there
    "platforms-unfunded-in-B": lambda: I.platforms(
        overrides={"enclave": {"cap_total": None}},
        sources=[
            dict(source="fiscal", programs="platform;birds"),
            dict(source="assist", programs="platform;enclave", counties="A"),
        ],
        budgets={"fiscal": [70.0, 40.0], "assist": [25.0, 10.0]},
        hours=(500.0, 120.0),
    ),
    # enclaves without a cap per county: the plan-wide cap of two bounds them
    "platforms-uncapped": lambda: I.platforms(
        overrides={"enclave": {"cap_per_county": ""}},
        budgets={"fiscal": [60.0, 30.0], "assist": [45.0, 20.0]},
    ),
}


@pytest.mark.parametrize("case", list(INTEGER_CASES))
def test_integer_optimum_equals_enumeration(case):
    check_integer_optimum(INTEGER_CASES[case]())


SLOW_INTEGER_CASES = {
    # one more alliance (in B) and three budget levels
    "embedding-B-industry": lambda: I.embedding(),
    "embedding-B-industry-tight": lambda: I.embedding(
        budgets={"fiscal": [22.0, 12.0], "assist": [12.0, 4.0], "cityfund": [6.0, 6.0]}
    ),
    "embedding-carry": lambda: I.embedding(
        budgets={"fiscal": [40.0, 5.0], "assist": [14.0, 0.0], "cityfund": [15.0, 0.0]},
        carry_over=True,
    ),
    "platforms-three-years": lambda: I.platforms(
        n_years=3, budgets={"fiscal": [40.0, 20.0, 20.0], "assist": [25.0, 10.0, 10.0]}
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(SLOW_INTEGER_CASES))
def test_integer_optimum_equals_enumeration_slow(case):
    check_integer_optimum(SLOW_INTEGER_CASES[case]())


def grid(top: float, step: float) -> list[float]:
    """Spend levels 0, step, ..., top."""
    return [float(x) for x in np.arange(0.0, top + step / 2, step)]


def check_spend_sandwich(inst, coarse: dict[str, list[float]], fine: dict[str, list[float]]):
    """The inequalities of the module docstring on an instance with continuous spend."""
    r = read(inst)
    result = solve(inst)
    error = result.summary["approximation_error"]
    assert error > 0
    exact = check_solver_plan(r, result, r.objective)
    assert result.mip_objective <= exact + 1e-7
    assert exact <= result.bound + 1e-7
    best = best_plan(r, spend_grid=coarse)
    assert best.value <= result.bound + 1e-7
    assert exact >= best.value - error - 1e-7
    # the solver's sites, alliances, units and city programs held, its spend enumerated
    plan = plan_from_allocation(result.allocation)
    fixed: dict[Decision, tuple[float, ...]] = {
        key: tuple(plan.get((*key, y), 0.0) for y in r.years)
        for key, kind in decisions(r)
        if kind != "amount"
    }
    held = best_plan(r, spend_grid=fine, fixed=fixed)
    assert held.value <= result.bound + 1e-7
    assert exact >= held.value - error - 1e-7
    return result, best, held


@pytest.mark.parametrize("objective", ["talent_index", "equity"])
def test_subsidy_curve_and_platforms_within_the_certified_bound(objective):
    # spend on a grid of 2 (10k yuan) in both counties, with and without platforms
    result, best, held = check_spend_sandwich(
        I.subsidy(objective=objective), {"subsidy": grid(40, 2.0)}, {"subsidy": grid(40, 0.5)}
    )
    # the grid is fine enough that its best plan is within the error of the solver's
    assert best.value >= result.objective - result.summary["approximation_error"]
    assert held.n_plans > best.n_plans / 4


def test_subsidy_without_a_cap_within_the_certified_bound():
    # the curve is drawn up to what the budgets allow: 50 of fiscal money in the year
    inst = I.subsidy(overrides={"subsidy": {"cap_per_county": ""}})
    check_spend_sandwich(inst, {"subsidy": grid(50, 2.0)}, {"subsidy": grid(50, 1.0)})


@pytest.mark.parametrize(
    "floors",
    [(), (PolicyFloor("training spend from 2026", "training", 2026, 3.0),)],
    ids=["free", "spend-floor"],
)
def test_carry_over_with_an_earmarked_source_and_linear_spend(floors):
    check_spend_sandwich(
        I.carry(floors=floors),
        {"subsidy": grid(40, 8.0), "training": grid(12, 4.0)},
        {"subsidy": grid(40, 4.0), "training": grid(12, 2.0)},
    )


@pytest.mark.slow
def test_carry_over_on_a_finer_grid_slow():
    check_spend_sandwich(
        I.carry(),
        {"subsidy": grid(40, 2.0), "training": grid(12, 1.0)},
        {"subsidy": grid(40, 1.0), "training": grid(12, 1.0)},
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "budgets",
    [{"fiscal": [30.0], "assist": [70.0]}, {"fiscal": [80.0], "assist": [30.0]}],
    ids=["two-platforms", "rich-subsidy"],
)
def test_subsidy_budgets_within_the_certified_bound_slow(budgets):
    check_spend_sandwich(
        I.subsidy(budgets=budgets), {"subsidy": grid(40, 0.5)}, {"subsidy": grid(40, 0.2)}
    )


# --- the reference itself, by hand ---------------------------------------------------


def test_reference_by_hand():
    """Numbers worked out on paper from the documentation for one plan."""
    inst = I.embedding_small()
    r = read(inst)
    plan = {
        ("A", "centre", "", 2025): 1.0,
        ("A", "centre", "", 2026): 1.0,
        ("A", "alliance", "mat", 2026): 1.0,
        ("", "titles", "", 2026): 1.0,
        ("B", "station", "", 2026): 1.0,
    }
    got = score(r, plan)
    cells = got.cells
    # A engineers, 2025: 100 (1 - 0.12) + 0.12 * 0.6 * 100 retained
    assert cells["A", "eng", 2025].stock == pytest.approx(88.0 + 7.2)
    # 2026: the centre and titles would save 0.8 of attrition, the floor allows 0.75;
    # titles bring one engineer
    s = 95.2
    assert cells["A", "eng", 2026].stock == pytest.approx(0.88 * s + 0.09 * s + 1.0)
    # A vocational 2026: centre 0.3 + alliance 0.2 of attrition 0.15; graduates kept at
    # 0.3 + 0.4 of 40
    v25 = 80 * 0.85 + 0.15 * 0.3 * 80 + 40 * 0.3
    assert cells["A", "voc", 2025].stock == pytest.approx(v25)
    v26 = v25 * 0.85 + 0.15 * 0.5 * v25 + 40 * 0.7
    assert cells["A", "voc", 2026].stock == pytest.approx(v26)
    assert cells["A", "voc", 2026].useful == pytest.approx(min(v26, 95.0 * 1.04))
    # B engineers: attrition 0.025 is below the floor 0.03, so titles save nothing; one
    # engineer times efficiency 0.8 arrives with titles
    b25 = 30 * 0.975
    assert cells["B", "eng", 2026].stock == pytest.approx(b25 * 0.975 + 0.8)
    # B vocational: the station keeps 2.5 x 0.8 per unit (within the room 0.05 x stock),
    # brings 3 x 0.8, and 5 of 10 graduates stay
    b = 50 * 0.92 + 5.0
    assert cells["B", "voc", 2026].stock == pytest.approx(b * 0.92 + 2.0 + 2.4 + 5.0)
    # with both alliances A keeps 0.3 + 0.4 + 0.4 of its graduates: all 40 of them
    both = {**plan, ("A", "alliance", "bio", 2026): 1.0}
    v26 = v25 * 0.85 + 0.15 * 0.7 * v25 + 40.0
    assert score(r, both).cells["A", "voc", 2026].stock == pytest.approx(v26)
    # costs: centre 20 + 5, then 5; alliance 10 + 2; titles 15 + 1; station 8 + 1
    assert got.breaches == []
    assert r.discount_rate == 0.05
    assert math.isclose(
        got.value,
        sum(
            1.05**-n * r.weight[k] * cells[c, k, y].useful
            for n, y in enumerate(r.years)
            for c in r.counties
            for k in r.types
        ),
    )


def test_reference_finds_broken_rules():
    r = read(I.embedding_small(pins=PINS))
    plan = {
        ("A", "centre", "", 2025): 1.0,  # the centre closes again in 2026
        ("A", "alliance", "mat", 2025): 1.0,  # forbidden by a pin
        ("A", "alliance", "bio", 2026): 1.0,  # requires the centre, closed in 2026
        ("A", "station", "", 2025): 2.0,  # land 4 + 2 > 5
        ("A", "station", "", 2026): 2.0,
        ("B", "centre", "", 2026): 1.0,  # pinned at most 0
        ("B", "station", "", 2025): 2.0,  # above one township
        ("B", "station", "", 2026): 1.0,  # removed again
    }
    found = " | ".join(score(r, plan).breaches)
    for words in [
        "centre in A/ shrinks in 2026",
        "alliance in A 2026 without centre",
        "land in A 2025",
        "station in B 2025: above cap_per_county",
        "station in B/ shrinks",
        "'action': 'forbid'",
        "'action': 'max'",
        "budgets short",
    ]:
        assert words in found, words


def test_the_approximation_error_is_reached_when_the_spend_sits_where_the_chords_fall_short():
    """The reported error is a bound that some budget nearly attains.

    County A (efficiency 1) keeps every engineer (attrition 0) and has room for all of
    them, so a subsidy spent in year 1 counts in both years; county B (efficiency 0.05)
    spends its own fund up to the cap. Scanning A's yearly budget, the solver spends it
    all, and the gap between the plan's exact value and the model's value of it is the
    chords' shortfall at that spend. Its largest value over the scan must stay within
    the reported error (it is a bound) and come close to it (the bound is not loose by
    more than B's tiny share of it).
    """
    base = I.subsidy(
        n_years=2,
        sources=[dict(source="fiscal", programs="subsidy"), dict(source="own", counties="B")],
        budgets={"fiscal": [1.0, 1.0], "own": [40.0, 40.0]},
    )
    counties = base.counties.assign(efficiency=[1.0, 0.05])
    stocks = base.stocks.assign(attrition=0.0)
    demand = base.demand.assign(demand=10_000.0)
    programs = base.programs[base.programs["program"] == "subsidy"].reset_index(drop=True)
    responses = base.responses[base.responses["program"] == "subsidy"].reset_index(drop=True)
    inst = I.validated(
        base.replace_tables(
            counties=counties,
            stocks=stocks,
            demand=demand,
            programs=programs,
            responses=responses,
        )
    )
    r = read(inst)
    gaps, errors = [], []
    for b in np.arange(0.2, 3.01, 0.2):
        budgets = inst.budgets.assign(
            amount=[b if s == "fiscal" else 40.0 for s in inst.budgets["source"]]
        )
        scan = inst.replace_tables(budgets=budgets)
        result = solve(scan)
        plan = plan_from_allocation(result.allocation)
        assert plan["A", "subsidy", "", 2025] == pytest.approx(b)
        assert plan["B", "subsidy", "", 2026] == pytest.approx(40.0)
        exact = check_solver_plan(read(scan), result, "talent_index")
        assert exact <= result.bound + 1e-9
        gaps.append(exact - result.mip_objective)
        errors.append(result.summary["approximation_error"])
    assert max(errors) == pytest.approx(min(errors))
    assert max(gaps) <= errors[0] + 1e-9
    assert max(gaps) >= 0.9 * errors[0]
    assert r.county["B"]["efficiency"] == 0.05


@pytest.mark.parametrize(("program", "fiscal"), [("centre", 25.5), ("station", 9.5)])
def test_a_program_that_requires_spend_needs_a_spend_of_one(program, fiscal):
    # the centre (a site) or a station (a count) needs training spend of at least 1 (the
    # docs' threshold); the first year's money pays the site or unit and 0.5 of training,
    # not 1, so the best plan leaves it closed that year
    inst = I.carry(
        program,
        overrides={program: {"requires": "training"}},
        budgets={"fiscal": [fiscal, 8.0], "skills": [0.0, 0.0]},
        carry_over=False,
    )
    r = read(inst)
    result = solve(inst)
    grid = {"subsidy": [0.0, 1.0, 2.0, 4.0, 8.0], "training": [0.0, 0.5, 1.0, 2.0]}
    best = best_plan(r, spend_grid=grid)
    assert best.value <= result.bound + 1e-7
    assert result.objective >= best.value - result.summary["approximation_error"] - 1e-7
    assert best.plan.get(("A", program, "", 2025), 0.0) == 0.0
    check_solver_plan(r, result, "talent_index")
