"""Competition between counties: what one county's programs attract, others lose.

References: hand computations from the numbers in ``tests/model/tiny.py`` and the rule of
:mod:`talentplan.model.competition` (a share ``poach_share`` of a program's inflow is drawn
from the plan area's other counties in proportion to their initial stocks); the model's
value of its plan against the simulator; and exhaustive enumeration (test_bruteforce.py).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from talentplan.model.build import build_model
from talentplan.report.pipeline import solve
from talentplan.simulation import simulate

from .tiny import tiny_instance

PLAN_COLUMNS = ["county", "program", "industry", "year", "quantity"]


def _poaching(inst, shares: dict[str, float]):
    programs = inst.programs.assign(poach_share=inst.programs["program"].map(shares).fillna(0.0))
    return inst.replace_tables(programs=programs)


def test_a_subsidy_draws_its_poached_share_from_the_other_county_by_hand():
    inst = tiny_instance(n_years=1)
    plan = pd.DataFrame([("A", "subsidy", "", 2025, 20.0)], columns=PLAN_COLUMNS)
    alone = simulate(inst, plan).talent.set_index(["county", "talent_type"])["stock"]
    war = simulate(_poaching(inst, {"subsidy": 0.5}), plan)
    stock = war.talent.set_index(["county", "talent_type"])["stock"]
    # A's subsidy brings 6 log(1 + 20/10) engineers (efficiency 1); half come from B, the
    # only other county, so B loses them and A keeps all it attracts
    drawn = 0.5 * 6.0 * math.log(3.0)
    assert stock["A", "eng"] == pytest.approx(alone["A", "eng"], rel=1e-12)
    assert stock["B", "eng"] == pytest.approx(alone["B", "eng"] - drawn, rel=1e-12)
    # the plan area as a whole gains only the outside half
    gained = stock.xs("eng", level=1).sum() - alone.xs("eng", level=1).sum()
    assert gained == pytest.approx(-drawn, rel=1e-12)
    assert war.objective < simulate(inst, plan).objective


def test_three_counties_share_the_drain_by_their_stocks():
    inst = tiny_instance(n_years=1)
    counties = pd.concat(
        [inst.counties, inst.counties[inst.counties["county"] == "B"].assign(county="C")]
    )
    stocks = pd.concat([inst.stocks, inst.stocks[inst.stocks["county"] == "B"].assign(county="C")])
    stocks.loc[(stocks["county"] == "C") & (stocks["talent_type"] == "eng"), "stock"] = 90.0
    three = _poaching(
        inst.replace_tables(counties=counties.reset_index(drop=True), stocks=stocks),
        {"subsidy": 0.5},
    )
    plan = pd.DataFrame([("A", "subsidy", "", 2025, 20.0)], columns=PLAN_COLUMNS)
    base = simulate(three, pd.DataFrame(columns=PLAN_COLUMNS)).talent
    stock = simulate(three, plan).talent.set_index(["county", "talent_type"])["stock"]
    before = base.set_index(["county", "talent_type"])["stock"]
    drawn = 0.5 * 6.0 * math.log(3.0)
    # B holds 30 and C 90 engineers: a quarter and three quarters of the drain
    assert before["B", "eng"] - stock["B", "eng"] == pytest.approx(drawn * 30 / 120, rel=1e-9)
    assert before["C", "eng"] - stock["C", "eng"] == pytest.approx(drawn * 90 / 120, rel=1e-9)


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_model_values_its_plan_as_the_simulator_does(share):
    inst = _poaching(tiny_instance(n_years=2, budget=80.0), {"subsidy": share, "station": share})
    result = solve(inst, mip_gap=0.0)
    error = result.summary["approximation_error"]
    assert result.objective - error - 1e-6 <= result.mip_objective <= result.objective + 1e-6
    assert simulate(inst, result.allocation).violations == ()


def test_full_poaching_makes_a_subsidy_worthless_to_the_plan_area():
    # with every subsidised engineer drawn from the other county, subsidies only move
    # talent around; they can still pay where the receiving county has unmet demand
    base = solve(tiny_instance(n_years=2, budget=80.0), mip_gap=0.0)
    war = solve(_poaching(tiny_instance(n_years=2, budget=80.0), {"subsidy": 1.0}), mip_gap=0.0)

    def subsidy(result) -> float:
        alloc = result.allocation
        return float(alloc.loc[alloc["program"] == "subsidy", "cost"].sum())

    assert subsidy(war) < subsidy(base)
    assert war.objective <= base.objective + 1e-9


def test_competition_is_one_coupling_row_per_type_and_year():
    inst = _poaching(tiny_instance(n_years=3), {"subsidy": 0.5})
    m = build_model(inst).model
    assert len(m.pool_def) == 1 * 3  # the subsidy attracts engineers only
    assert build_model(tiny_instance(n_years=3)).model.drain_expr == {}


def test_a_plan_drawing_a_county_below_zero_is_a_breach():
    # B holds 3 engineers; A's subsidy of 40 with everything poached draws 6 log(5) = 9.7
    inst = _poaching(tiny_instance(n_years=1), {"subsidy": 1.0})
    stocks = inst.stocks.copy()
    stocks.loc[(stocks["county"] == "B") & (stocks["talent_type"] == "eng"), "stock"] = 3.0
    inst = inst.replace_tables(stocks=stocks)
    plan = pd.DataFrame([("A", "subsidy", "", 2025, 40.0)], columns=PLAN_COLUMNS)
    breaches = simulate(inst, plan).violations
    assert any("draw B's eng below zero in 2025" in b for b in breaches)
    small = pd.DataFrame([("A", "subsidy", "", 2025, 2.0)], columns=PLAN_COLUMNS)
    assert simulate(inst, small).violations == ()
