"""The MIP's optimum equals exhaustive enumeration of every integer decision.

Reference: for instances without continuous spend, every integer plan determines the
talent trajectory completely, so the forward simulator (exact dynamics, written
independently of the Pyomo formulation) scores each plan. The best feasible score over
all plans is the true optimum; the MIP must reach it to 1e-6.

With continuous spend on a concave curve (the subsidy), enumerating its spend on a grid
as well gives plans whose best exact score is at most the true optimum: it may not exceed
the bound certified with the exact curves (the model's bound plus the approximation
error), and on the instances below it exceeds the model's own bound, so the error term
is needed.
"""

from __future__ import annotations

import itertools

import pytest

from talentplan.data.instance import PolicyFloor
from talentplan.model.prepare import prepare
from talentplan.report.pipeline import solve
from talentplan.simulation import play

from .test_placement import with_placement
from .tiny import tiny_instance

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def _without_spend(
    drop: tuple[str, ...] = ("titles",),
    lags: dict | None = None,
    poach: dict | None = None,
    feedback: float = 0.0,
    **kwargs,
):
    """The tiny instance without continuous spend (and without ``drop``, to keep the
    enumeration to a few thousand plans), with ``lags`` years before programs act and
    ``poach`` shares of their inflow drawn from the other county."""
    inst = tiny_instance(**kwargs)
    gone = ["subsidy", "birds", *drop]
    programs = inst.programs[~inst.programs["program"].isin(gone)]
    if lags:
        programs = programs.assign(lag_years=programs["program"].map(lags).fillna(0).astype(int))
    if poach:
        programs = programs.assign(poach_share=programs["program"].map(poach).fillna(0.0))
    if feedback:
        types = inst.talent_types
        inst = inst.replace_tables(
            talent_types=types.assign(drives_demand=types["talent_type"] == "eng")
        ).replace_scenario(demand_feedback=feedback)
    responses = inst.responses[~inst.responses["program"].isin(gone)]
    return inst.replace_tables(
        programs=programs.reset_index(drop=True), responses=responses.reset_index(drop=True)
    )


def _paths(n_years: int, top: int) -> list[tuple[int, ...]]:
    """Non-decreasing level paths 0..top over the years (open once, stay open)."""
    return [
        p
        for p in itertools.product(range(top + 1), repeat=n_years)
        if all(a <= b for a, b in itertools.pairwise(p))
    ]


def _spends(n_years: int, top: float, step: float) -> list[tuple[float, ...]]:
    """Spend paths on the grid 0, step, ..., top (any spend in any year)."""
    grid = [step * n for n in range(int(top // step) + 1)]
    return list(itertools.product(grid, repeat=n_years))


def brute_force(inst, objective: str, spend_step: float | None = None) -> float:
    d = prepare(inst)
    T = d.n_years
    decisions = []  # (key prefix, level paths)
    for c in d.counties:
        decisions += [((c, p, ""), _paths(T, 1)) for p in d.by_kind["site"]]
        decisions += [((c, p, i), _paths(T, 1)) for p in d.by_kind["chain"] for i in d.present[c]]
        decisions += [((c, p, ""), _paths(T, int(d.level_ub[c, p]))) for p in d.by_kind["count"]]
        if d.by_kind["amount"]:
            assert spend_step is not None, "continuous spend needs a grid"
            decisions += [
                ((c, p, ""), _spends(T, d.level_ub[c, p], spend_step)) for p in d.by_kind["amount"]
            ]
    decisions += [(("", p, ""), _paths(T, 1)) for p in d.by_kind["city"]]
    choices = [paths for _, paths in decisions]
    best = None
    for combo in itertools.product(*choices):
        lv = {
            (*key, t): float(path[t])
            for (key, _), path in zip(decisions, combo, strict=True)
            for t in range(T)
            if path[t]
        }
        result = play(d, lv, objective=objective)
        if _breaks_rules(d, lv, result):
            continue
        value = result.objective
        if best is None or (value < best if objective == "min_cost" else value > best):
            best = value
    assert best is not None, "no feasible plan in the enumeration"
    return best


def _breaks_rules(d, lv, result) -> bool:
    if result.violations:
        return True
    for floor in d.instance.scenario.floors:
        for c in floor.counties or d.counties:
            for t, year in enumerate(d.years):
                if (
                    year >= floor.by_year
                    and lv.get((c, floor.program, "", t), 0.0) < floor.min_units
                ):
                    return True
    for row in d.instance.pins.itertuples(index=False):
        t = d.years.index(int(row.year))
        q = lv.get((row.county, row.program, row.industry, t), 0.0)
        if (row.action == "forbid" and q != 0) or (row.action == "fix" and q != row.value):
            return True
    if d.instance.scenario.objective == "min_cost":
        final = result.talent[result.talent["year"] == d.years[-1]]
        for c in d.counties:
            got = sum(
                d.weight[k] * final[(final.county == c) & (final.talent_type == k)]["useful"].sum()
                for k in d.types
            )
            need = d.instance.scenario.target_coverage * sum(
                d.weight[k] * d.demand[c, k, d.years[-1]] for k in d.types
            )
            if got < need - 1e-9:
                return True
    return False


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(budget=60.0, drop=("centre",)),
        dict(budget=25.0, land_quota=6.0),
        dict(
            budget=45.0,
            floors=(PolicyFloor("centre everywhere by 2026", "centre", 2026),),
            pins=[dict(county="A", program="platform", year=2025, action="forbid")],
        ),
        dict(budget=40.0, carry_over=True),
        dict(
            budget=60.0,
            n_years=3,
            drop=("titles", "station"),
            lags={"platform": 1, "alliance": 2, "centre": 1},
        ),
        dict(budget=60.0, poach={"station": 0.7, "platform": 0.4}),
        dict(budget=60.0, feedback=1.5),
    ],
    ids=["city-kind", "tight-land", "floor-pin", "carry", "lags", "poaching", "feedback"],
)
def test_talent_index_matches_enumeration(kwargs):
    inst = _without_spend(**kwargs)
    result = solve(inst, mip_gap=0.0)
    best = brute_force(inst, "talent_index")
    assert result.objective == pytest.approx(best, abs=1e-6)
    # without a piecewise curve the model is exact, so its value and bound are the optimum
    assert result.summary["approximation_error"] == 0.0
    assert result.mip_objective == pytest.approx(best, abs=1e-6)
    assert best <= result.bound + 1e-6


@pytest.mark.parametrize("objective", ["equity", "min_cost"])
def test_other_objectives_match_enumeration(objective):
    inst = _without_spend(budget=60.0, objective=objective)
    inst = inst.replace_scenario(target_coverage=0.8)
    result = solve(inst, mip_gap=0.0)
    best = brute_force(inst, objective)
    assert result.objective == pytest.approx(best, abs=1e-6)
    assert result.mip_objective == pytest.approx(best, abs=1e-6)


def _sites_and_subsidy(objective: str):
    """One year of the tiny instance with the centre, the platform and the subsidy only."""
    inst = tiny_instance(n_years=1, budget=60.0, objective=objective)
    keep = ["centre", "platform", "subsidy"]
    programs = inst.programs[inst.programs["program"].isin(keep)]
    responses = inst.responses[inst.responses["program"].isin(keep)]
    return inst.replace_tables(
        programs=programs.reset_index(drop=True), responses=responses.reset_index(drop=True)
    )


@pytest.mark.parametrize("objective", ["talent_index", "equity"])
def test_exact_optimum_with_spend_lies_within_the_certified_bound(objective):
    inst = _sites_and_subsidy(objective)
    result = solve(inst, mip_gap=0.0)
    s = result.summary
    assert s["gap_basis"] == "exact"
    assert s["approximation_error"] > 0
    assert result.mip_objective <= result.objective <= result.bound
    assert result.gap >= 0
    best = brute_force(inst, objective, spend_step=5.0)
    assert best <= result.bound + 1e-9
    # a plan on the grid is worth more with the exact curves than the model's bound: the
    # model's bound alone would not be a bound on the exact problem
    assert best > s["mip_bound"] + 1e-9


def _with_limits(inst, **columns):
    """``inst`` with the counties' ``land_quota_mu`` or ``cadre_hours`` replaced."""
    counties = inst.counties.copy()
    for column, values in columns.items():
        counties[column] = values
    return inst.replace_tables(counties=counties)


LIMIT_COLUMN = {"land": "land_quota_mu", "cadre": "cadre_hours"}


@pytest.mark.parametrize(
    "kwargs, limits",
    [
        (dict(budget=60.0, land_quota=4.0), {}),
        (dict(budget=80.0, land_quota=12.0), {"cadre_hours": [150.0, 100.0]}),
    ],
    ids=["land", "cadre"],
)
def test_step_values_match_enumeration_with_the_limit_raised(kwargs, limits):
    # One year, so each county's land and cadre limit is one row of the model and the
    # step re-solve equals the instance with that county's limit raised by the step.
    inst = _with_limits(_without_spend(n_years=1, **kwargs), **limits)
    prices = solve(inst, mip_gap=0.0, step_values=True).shadow_prices
    priced = prices[prices["step"].notna()]
    assert len(priced) >= 1
    assert (priced["step_value"] > 1e-6).any(), "a case where the step is worth something"
    base = brute_force(inst, "talent_index")
    for row in priced.itertuples(index=False):
        column = LIMIT_COLUMN[row.resource]
        raised = inst.counties[column].where(
            inst.counties["county"] != row.name, inst.counties[column] + row.step
        )
        best = brute_force(_with_limits(inst, **{column: raised.to_list()}), "talent_index")
        assert row.step_value == pytest.approx(best - base, abs=1e-6)
        assert row.step_value_low == pytest.approx(row.step_value, abs=1e-6)
        assert row.step_value_high == pytest.approx(row.step_value, abs=1e-6)


@pytest.mark.parametrize("value", [0.5, 2.0])
def test_graduate_placement_within_enumeration_on_a_spend_grid(value):
    # Placements are linear in spend, so the model is exact: its value of its plan is the
    # simulator's, and no plan on a spend grid (oversubscribed ones are breaches) beats it.
    # With value 2 the pool of leaving graduates binds; with 0.5 the spend cap does.
    inst = _without_spend(n_years=1, budget=60.0, drop=("titles", "station"))
    inst = with_placement(inst, value=value)
    demand = inst.demand.copy()
    demand.loc[demand["talent_type"] == "voc", "demand"] *= 2
    inst = inst.replace_tables(demand=demand)
    result = solve(inst, mip_gap=0.0)
    assert result.summary["approximation_error"] == 0.0
    assert result.mip_objective == pytest.approx(result.objective, abs=1e-6)
    best = brute_force(inst, "talent_index", spend_step=2.5)
    assert best <= result.objective + 1e-6
