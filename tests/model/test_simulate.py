"""The forward simulator against the MIP and against hand computations.

References:

- the MIP's own plan played forward with the exact curves: the result's objective is
  that simulated value; the chords lie below the concave curves and every
  retained/useful variable is bounded above by its exact value, so it can never fall
  below the model's objective (``mip_objective``); and it can exceed it by no more than
  the reported approximation error plus the model's absolute gap
  (simulated <= true optimum <= MIP bound + approximation error = the result's bound);
- the empty plan on the tiny instance, computed here by hand from the numbers written in
  ``tests/model/tiny.py``: ``S_t = (1 - a0) S_{t-1} + graduates * s0`` (graduate type
  only), useful ``min(S_t, D)``, discounted at 5% and weighted by type;
- a hand-written plan whose first-year stock and costs are worked out by hand.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from talentplan.data import load_instance
from talentplan.datasets import synthetic
from talentplan.errors import InstanceError
from talentplan.report.pipeline import solve
from talentplan.simulation import simulate

from .tiny import tiny_instance

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PLAN_COLUMNS = ["county", "program", "industry", "year", "quantity"]


def plan(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=PLAN_COLUMNS)


# --- the MIP's own plan ------------------------------------------------------------------


def _agreement(inst, result) -> None:
    sim = simulate(inst, result.allocation)
    approx = result.summary["approximation_error"]
    mip_bound = result.summary["mip_bound"]
    tol = 1e-6 * max(1.0, abs(result.objective))
    # the objective is the plan's exact value, the one the simulator gives
    assert result.objective == pytest.approx(sim.objective, rel=1e-9)
    # the chords underestimate: the exact dynamics never give less than the model claims
    assert sim.objective >= result.mip_objective - tol
    # and never more than the error bound plus what the solver left on the table
    assert sim.objective <= result.mip_objective + approx + (mip_bound - result.mip_objective) + tol
    # which is the bound certified with the exact curves, and the gap is measured from it
    assert result.summary["gap_basis"] == "exact"
    assert result.bound == pytest.approx(mip_bound + approx, rel=1e-12)
    assert result.gap == pytest.approx(
        max(result.bound - result.objective, 0.0) / abs(result.objective), rel=1e-9, abs=1e-12
    )
    assert sim.violations == ()
    # the reported trajectories and simulated value are the plan played with exact curves
    assert result.summary["simulated_objective"] == pytest.approx(sim.objective, rel=1e-12)
    assert result.summary["objective"] == result.objective
    assert result.summary["mip_objective"] == result.mip_objective
    pd.testing.assert_frame_equal(result.talent, sim.talent)


def test_mip_agrees_with_simulation_tiny():
    inst = tiny_instance(n_years=3)
    result = solve(inst, mip_gap=0.0)
    assert result.summary["approximation_error"] > 0  # the subsidy curve is approximated
    _agreement(inst, result)


def test_mip_agrees_with_simulation_equity():
    inst = tiny_instance(n_years=3, objective="equity", budget=30.0)
    result = solve(inst, mip_gap=0.0)
    assert result.objective < 1.0  # not every county is fully covered: the bound matters
    _agreement(inst, result)


def test_min_cost_plan_costs_what_the_simulator_says_and_meets_targets():
    inst = tiny_instance(n_years=3, objective="min_cost", budget=100.0)
    inst = inst.replace_scenario(target_coverage=0.85)
    result = solve(inst, mip_gap=0.0)
    # the cost is exact; the bound is on the (weighted) talent the targets are measured on
    assert result.summary["approximation_error"] > 0.0
    sim = simulate(inst, result.allocation)
    assert sim.violations == ()
    assert sim.objective == pytest.approx(result.objective, rel=1e-9)
    assert result.mip_objective == pytest.approx(result.objective, rel=1e-9)
    # the targets are measured on the model's understated talent: the bound is the model's
    assert result.summary["gap_basis"] == "model"
    assert result.bound == result.summary["mip_bound"]
    assert result.gap == result.summary["mip_gap"]
    # the exact dynamics reach the coverage target the model promised, in every county
    final = sim.talent[sim.talent["year"] == 2027]
    weight = {"eng": 2.0, "voc": 1.0}
    demand = {"A": 2.0 * 110.0 + 95.0, "B": 2.0 * 40.0 + 48.0}
    for c, rows in final.groupby("county"):
        covered = sum(weight[k] * u for k, u in zip(rows.talent_type, rows.useful, strict=True))
        assert covered >= 0.85 * demand[c] - 1e-6


@pytest.mark.slow
def test_mip_agrees_with_simulation_qingyuan():
    inst = load_instance("qingyuan")
    result = solve(inst, mip_gap=1e-3)
    _agreement(inst, result)


def test_mip_agrees_with_simulation_synthetic():
    inst = synthetic(2, seed=0, n_years=2)
    result = solve(inst, mip_gap=0.0)
    _agreement(inst, result)


# --- the objective of a result is its plan's exact value ---------------------------------

OBJECTIVES = ["talent_index", "equity", "min_cost"]


def _tiny_for(objective: str):
    inst = tiny_instance(n_years=3, budget=30.0, objective=objective)
    return inst.replace_scenario(target_coverage=0.85)


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_objective_is_the_simulated_value_of_the_plan(objective):
    inst = _tiny_for(objective)
    result = solve(inst, mip_gap=0.0)
    sim = simulate(inst, result.allocation, objective=objective)
    assert result.objective == pytest.approx(sim.objective, rel=1e-9)
    assert result.summary["objective"] == result.objective
    assert result.summary["simulated_objective"] == result.objective
    assert result.summary["objective_name"] == objective


@pytest.mark.parametrize("objective", ["talent_index", "equity"])
@pytest.mark.parametrize("mip_gap", [0.0, 0.05])
def test_maximised_objective_lies_between_the_model_value_and_the_certified_bound(
    objective, mip_gap
):
    inst = _tiny_for(objective)
    result = solve(inst, mip_gap=mip_gap)
    s = result.summary
    assert s["approximation_error"] > 0  # the subsidy curve is approximated
    assert s["gap_basis"] == "exact"
    assert result.mip_objective <= result.objective <= result.bound
    assert result.bound == s["mip_bound"] + s["approximation_error"]
    assert result.gap >= 0
    assert result.gap == pytest.approx((result.bound - result.objective) / result.objective)
    # the model's own numbers are HiGHS's: bound at least its objective, gap between them
    assert s["mip_objective"] <= s["mip_bound"]
    assert s["mip_gap"] == pytest.approx(
        (s["mip_bound"] - s["mip_objective"]) / abs(s["mip_objective"]), abs=1e-12
    )


def test_an_equity_floor_leaves_the_talent_index_with_a_model_gap():
    # the floor is measured on the model's understated coverage: the exact problem may
    # admit plans the model does not, so no bound is certified with the exact curves
    inst = tiny_instance(n_years=2, budget=40.0).replace_scenario(min_coverage=0.8)
    result = solve(inst, mip_gap=0.0)
    assert result.summary["gap_basis"] == "model"
    assert (result.bound, result.gap) == (result.summary["mip_bound"], result.summary["mip_gap"])
    assert result.mip_objective <= result.objective


# --- the empty plan, by hand -------------------------------------------------------------


def _empty_plan_by_hand(n_years: int) -> float:
    """No programs on the tiny instance (numbers copied from tests/model/tiny.py)."""
    weight = {"eng": 2.0, "voc": 1.0}
    # (county, type): (stock, attrition a0, demand, graduates retained per year)
    rows = {
        ("A", "eng"): (100.0, 0.12, 110.0, 0.0),
        ("A", "voc"): (80.0, 0.15, 95.0, 40.0 * 0.3),  # graduates 40, share s0 0.3
        ("B", "eng"): (30.0, 0.10, 40.0, 0.0),
        ("B", "voc"): (50.0, 0.08, 48.0, 0.0),  # B has no graduates
    }
    total = 0.0
    for (_c, k), (stock, a0, demand, local) in rows.items():
        s = stock
        for n in range(n_years):
            s = (1 - a0) * s + local
            total += weight[k] * min(s, demand) / 1.05**n
    return total


@pytest.mark.parametrize("n_years", [1, 2, 4])
def test_empty_plan_matches_hand_computation(n_years):
    inst = tiny_instance(n_years=n_years)
    sim = simulate(inst, plan())
    assert sim.objective == pytest.approx(_empty_plan_by_hand(n_years), rel=1e-12)
    assert sim.violations == ()
    assert sim.cost["cost"].sum() == 0.0


def test_zero_budget_mip_matches_empty_plan():
    # every program of the tiny instance costs money: with no budget the only plan is none
    inst = tiny_instance(n_years=2, budget=0.0)
    result = solve(inst, mip_gap=0.0)
    assert len(result.allocation) == 0
    assert result.objective == pytest.approx(_empty_plan_by_hand(2), rel=1e-9)
    # no response curve is used, so the model is exact for this plan
    assert result.mip_objective == pytest.approx(_empty_plan_by_hand(2), rel=1e-9)


# --- hand-written plans ------------------------------------------------------------------


def test_hand_written_plan_first_year_by_hand():
    inst = tiny_instance(n_years=2)
    sim = simulate(
        inst,
        plan(
            ("A", "centre", "", 2025, 1),
            ("A", "centre", "", 2026, 1),
            ("A", "subsidy", "", 2025, 20.0),
            ("B", "station", "", 2025, 1),
            ("B", "station", "", 2026, 1),
        ),
    )
    assert sim.violations == ()
    talent = sim.talent.set_index(["county", "talent_type", "year"])["stock"]
    # A eng: 100 * (1 - 0.12) + retained min(0.12 * 100 * 0.5, (0.12 - 0.03) * 100) = 6
    # + subsidy inflow 6 * log(1 + 20 / 10)
    assert talent["A", "eng", 2025] == pytest.approx(88.0 + 6.0 + 6.0 * math.log(3.0), rel=1e-12)
    # B voc (efficiency 0.8): 50 * 0.92 + station inflow 0.8 * 3 + kept 0.8 * 1 per unit
    # (under the room (0.08 - 0.03) * 50 = 2.5)
    assert talent["B", "voc", 2025] == pytest.approx(46.0 + 2.4 + 0.8, rel=1e-12)
    cost = sim.cost.groupby(["county", "program", "year"])["cost"].sum()
    assert cost["A", "centre", 2025] == pytest.approx(20.0 + 5.0)  # fixed + operating
    assert cost["A", "centre", 2026] == pytest.approx(5.0)
    assert cost["B", "station", 2025] == pytest.approx(8.0 + 1.0)  # unit + operating
    assert cost["B", "station", 2026] == pytest.approx(1.0)
    assert cost["A", "subsidy", 2025] == pytest.approx(20.0)
    assert sim.objective > simulate(inst, plan()).objective


def test_lagged_programs_act_lag_years_after_the_decision_by_hand():
    # the same plan as above with the centre acting one year late and the subsidy two
    inst = tiny_instance(n_years=3)
    programs = inst.programs.assign(
        lag_years=inst.programs["program"].map({"centre": 1, "subsidy": 2}).fillna(0).astype(int)
    )
    inst = inst.replace_tables(programs=programs)
    sim = simulate(
        inst,
        plan(
            *[("A", "centre", "", y, 1) for y in (2025, 2026, 2027)],
            ("A", "subsidy", "", 2025, 20.0),
        ),
    )
    stock = sim.talent.set_index(["county", "talent_type", "year"])["stock"]
    # 2025: nothing acts yet: A eng 100 * (1 - 0.12)
    assert stock["A", "eng", 2025] == pytest.approx(88.0, rel=1e-12)
    # 2026: the centre saves min(0.12 * 88 * 0.5, (0.12 - 0.03) * 88) = 5.28
    assert stock["A", "eng", 2026] == pytest.approx(88.0 * 0.88 + 5.28, rel=1e-12)
    # 2027: the centre again, and the 2025 subsidy's inflow 6 * log(1 + 20 / 10)
    s26 = 88.0 * 0.88 + 5.28
    expected = s26 * 0.88 + 0.06 * s26 + 6.0 * math.log(3.0)
    assert stock["A", "eng", 2027] == pytest.approx(expected, rel=1e-12)
    # costs follow the decisions, not their effects
    cost = sim.cost.groupby(["county", "program", "year"])["cost"].sum()
    assert cost["A", "centre", 2025] == pytest.approx(25.0)
    assert cost["A", "subsidy", 2025] == pytest.approx(20.0)
    # and the model's plan is scored the same way (the MIP agrees with the simulator)
    result = solve(inst, mip_gap=0.0)
    error = result.summary["approximation_error"]
    assert result.objective - error - 1e-6 <= result.mip_objective <= result.objective + 1e-6


def test_over_budget_is_a_breach():
    inst = tiny_instance(n_years=2, budget=1.0)
    sim = simulate(inst, plan(("A", "centre", "", 2025, 1), ("A", "centre", "", 2026, 1)))
    budget = [v for v in sim.violations if v.startswith("budget")]
    assert budget[0].startswith("budget 2025: 24.00 (10k yuan) of the costs of centre")
    assert "(fiscal) are used up" in budget[0]  # the year and the sources that ran out
    assert budget[1].startswith("budget 2026: 4.00")
    assert not sim.feasible


def test_closing_site_is_a_breach():
    inst = tiny_instance(n_years=2)
    sim = simulate(inst, plan(("A", "centre", "", 2025, 1)))
    assert any("centre in A closes" in v for v in sim.violations), sim.violations


def test_shrinking_units_is_a_breach():
    inst = tiny_instance(n_years=2)
    sim = simulate(inst, plan(("B", "station", "", 2025, 1)))
    assert any("station in B closes or shrinks" in v for v in sim.violations), sim.violations


def test_fractional_site_is_a_breach():
    inst = tiny_instance(n_years=1)
    sim = simulate(inst, plan(("A", "centre", "", 2025, 0.5)))
    assert any("not whole" in v for v in sim.violations), sim.violations


def test_land_over_quota_is_a_breach():
    inst = tiny_instance(n_years=1, budget=200.0)  # platform 8 mu + centre 4 mu > 10 mu
    sim = simulate(inst, plan(("A", "centre", "", 2025, 1), ("A", "platform", "", 2025, 1)))
    assert any(v.startswith("land A") for v in sim.violations), sim.violations


def test_unit_cap_is_a_breach():
    inst = tiny_instance(n_years=1, budget=200.0)  # stations are capped by 1 township
    sim = simulate(inst, plan(("A", "station", "", 2025, 2)))
    assert any(v.startswith("cap station in A") for v in sim.violations), sim.violations


def _with_program_rules(cap_total: float | None = None, requires: str = ""):
    """The tiny instance with a plan-wide cap on platforms and/or birds needing a centre."""
    inst = tiny_instance(n_years=1, budget=500.0, land_quota=50.0)
    programs = inst.programs.copy()
    if cap_total is not None:
        programs.loc[programs["program"] == "platform", "cap_total"] = cap_total
    if requires:
        programs.loc[programs["program"] == "birds", "requires"] = requires
    return inst.replace_tables(programs=programs)


def test_model_respects_plan_wide_cap_and_prerequisite():
    # the MIP enforces the same rules that the simulator reports below
    inst = _with_program_rules(cap_total=1.0, requires="centre")
    alloc = solve(inst, mip_gap=0.0).allocation
    assert (alloc["program"] == "platform").sum() <= 1
    birds = set(alloc.loc[alloc["program"] == "birds", "county"])
    assert birds <= set(alloc.loc[alloc["program"] == "centre", "county"])


def test_plan_wide_cap_is_a_breach():
    inst = _with_program_rules(cap_total=1.0)
    sim = simulate(inst, plan(("A", "platform", "", 2025, 1), ("B", "platform", "", 2025, 1)))
    assert any("platform" in v for v in sim.violations), sim.violations


def test_missing_prerequisite_is_a_breach():
    inst = _with_program_rules(requires="centre")
    sim = simulate(inst, plan(("B", "birds", "", 2025, 1)))  # no centre in B
    assert any("birds" in v for v in sim.violations), sim.violations


@pytest.mark.parametrize(
    "row, column",
    [
        (("A", "nope", "", 2025, 1), "program"),
        (("Z", "centre", "", 2025, 1), "county"),
        (("A", "centre", "", 2031, 1), "year"),
        (("B", "alliance", "mat", 2025, 1), "industry"),  # mat is not present in B
        (("A", "alliance", "bio", 2025, 1), "industry"),  # no such industry
        (("A", "alliance", "", 2025, 1), "industry"),  # chain rows need one
    ],
    ids=["program", "county", "year", "absent-industry", "unknown-industry", "no-industry"],
)
def test_bad_plan_rows_name_row_and_column(row, column):
    inst = tiny_instance(n_years=2)
    bad = plan(("A", "centre", "", 2025, 1), row)
    with pytest.raises(InstanceError) as info:
        simulate(inst, bad)
    assert info.value.row == 3  # the header is row 1, the good row is row 2
    assert info.value.column == column
    assert "row 3" in str(info.value)
    assert f"column '{column}'" in str(info.value)


def test_floor_and_pin_are_breaches():
    from talentplan.data.instance import PolicyFloor

    inst = tiny_instance(
        floors=(PolicyFloor("centre in A", "centre", 2025, counties=("A",)),),
        pins=[dict(county="B", program="platform", year=2025, action="forbid")],
    )
    sim = simulate(inst, plan(("B", "platform", "", 2025, 1)))
    assert any("floor 'centre in A'" in v for v in sim.violations), sim.violations
    assert any("pin 'forbid platform in B 2025'" in v for v in sim.violations), sim.violations


def test_city_program_breaches_are_reported_once():
    inst = tiny_instance(n_years=2)
    sim = simulate(inst, plan(("", "titles", "", 2025, 1)))  # opened, then closed in 2026
    closing = [v for v in sim.violations if "titles" in v]
    assert len(closing) == 1 and "closes" in closing[0], sim.violations


def test_unknown_objective_is_an_error():
    with pytest.raises(ValueError, match="objective"):
        simulate(tiny_instance(), plan(), objective="bogus")


def test_cap_per_city_counts_each_city_and_is_a_breach():
    from talentplan.data.instance import PolicyFloor
    from talentplan.errors import InfeasiblePlanError

    floor = (PolicyFloor("centre everywhere", "centre", 2025),)
    base = tiny_instance(n_years=1, budget=200.0, floors=floor)
    programs = base.programs.assign(
        cap_per_city=base.programs["program"].map({"centre": 1.0}).astype(float)
    )
    both = plan(("A", "centre", "", 2025, 1), ("B", "centre", "", 2025, 1))
    two_cities = base.replace_tables(
        programs=programs, counties=base.counties.assign(city=["X", "Y"])
    )
    result = solve(two_cities, mip_gap=0.0)
    assert (result.allocation["program"] == "centre").sum() == 2
    assert simulate(two_cities, both).violations == ()
    one_city = base.replace_tables(
        programs=programs, counties=base.counties.assign(city=["X", "X"])
    )
    assert simulate(one_city, both).violations == ("cap per city on centre in X in 2025: 2 > 1",)
    with pytest.raises(InfeasiblePlanError) as error:
        solve(one_city, mip_gap=0.0)
    assert "cap per city on centre in X in 2025: short by 1 units" in error.value.explanation


def test_energy_quota_limits_sites_and_is_a_breach():
    base = tiny_instance(n_years=1, budget=200.0, land_quota=20.0)
    programs = base.programs.assign(
        energy_tce=base.programs["program"].map({"centre": 50.0, "platform": 80.0}).fillna(0.0)
    )
    counties = base.counties.assign(energy_quota_tce=[100.0, None])
    inst = base.replace_tables(programs=programs, counties=counties)
    both = plan(("A", "centre", "", 2025, 1), ("A", "platform", "", 2025, 1))
    assert simulate(inst, both).violations == ("energy A 2025: 130.0 of 100.0 tce",)
    result = solve(inst, mip_gap=0.0)
    alloc = result.allocation
    in_a = alloc[(alloc["county"] == "A") & alloc["program"].isin(["centre", "platform"])]
    assert len(in_a) <= 1  # 50 + 80 > 100: at most one of the two in A
    energy = result.shadow_prices[result.shadow_prices["resource"] == "energy"]
    assert list(energy["name"]) == ["A"] and energy["limit"].tolist() == [100.0]
    assert simulate(inst, result.allocation).violations == ()


def test_cadre_capacity_building_adds_hours_a_year_after_it_starts():
    base = tiny_instance(n_years=2, budget=200.0, land_quota=20.0)
    programs = base.programs.assign(
        lag_years=base.programs["program"].map({"station": 1}).fillna(0).astype(int)
    )
    responses = pd.concat(
        [
            base.responses,
            base.responses.iloc[:1].assign(
                program="station", talent_type="", effect="cadre_capacity", value=200.0
            ),
        ],
        ignore_index=True,
    )
    counties = base.counties.assign(cadre_hours=[150.0, 300.0])
    inst = base.replace_tables(programs=programs, responses=responses, counties=counties)
    # a station uses 40 hours and, from the next year, adds 200: centre (100) + platform
    # (50) + station (40) = 190 hours breaks A's 150 in 2025 but not in 2026 (350)
    busy = plan(
        *[("A", p, "", y, 1) for p in ("centre", "platform", "station") for y in (2025, 2026)]
    )
    assert simulate(inst, busy).violations == ("cadre hours A 2025: 190.0 of 150.0",)
    result = solve(inst, mip_gap=0.0)
    assert simulate(inst, result.allocation).violations == ()
    cadre = result.shadow_prices.set_index(["resource", "name", "year"]).loc["cadre"]
    stations = result.allocation[
        (result.allocation["program"] == "station") & (result.allocation["county"] == "A")
    ].set_index("year")["quantity"]
    assert cadre.loc[("A", 2026), "limit"] == 150.0 + 200.0 * stations.get(2025, 0.0)


def test_a_cap_of_one_unit_per_partner_college(tmp_path):
    base = tiny_instance(n_years=1, budget=200.0)
    programs = base.programs.assign(
        cap_per_county=base.programs["cap_per_county"].mask(
            base.programs["program"] == "station", "colleges"
        )
    )
    inst = base.replace_tables(programs=programs, counties=base.counties.assign(colleges=[2, 0]))
    result = solve(inst, mip_gap=0.0)
    stations = result.allocation[result.allocation["program"] == "station"]
    # (stations add nothing within one year: an optimal plan may have none)
    assert set(stations["county"]) <= {"A"} and (stations["quantity"] <= 2).all()
    breaches = simulate(inst, plan(("B", "station", "", 2025, 1))).violations
    assert breaches == ("cap station in B 2025: 1 > 0",)
    site_cap = programs.assign(
        cap_per_county=programs["cap_per_county"].mask(programs["program"] == "centre", "colleges")
    )
    from talentplan.data.io import write_instance

    write_instance(inst.replace_tables(programs=site_cap), tmp_path / "bad")
    with pytest.raises(InstanceError, match="'colleges' caps count programs only"):
        load_instance(tmp_path / "bad")


def test_a_city_decision_given_twice_is_named_city_wide():
    # a city program's county column is ignored, so two rows naming two counties are the
    # same decision, and the error must not name either county
    plan = pd.DataFrame(
        [("A", "titles", "", 2025, 1.0), ("B", "titles", "", 2025, 1.0)],
        columns=["county", "program", "industry", "year", "quantity"],
    )
    with pytest.raises(InstanceError, match=r"\(city-wide, titles, 2025\) twice \(also row 2\)"):
        simulate(tiny_instance(n_years=1), plan)
