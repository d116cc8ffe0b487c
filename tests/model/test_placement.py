"""Graduate placement: graduates a county cannot keep fill demand elsewhere in the plan area.

References: hand computations from the numbers in ``tests/model/tiny.py`` and the rule of
:mod:`talentplan.model.placement` (placements bought by spend, at most the graduates that
leave their own counties each year, filled pro rata when a plan asks for more); the model's
value of its plan against the simulator; and exhaustive enumeration (test_bruteforce.py).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from talentplan.data.io import load_instance, write_instance
from talentplan.errors import InstanceError
from talentplan.model.build import build_model
from talentplan.report.pipeline import solve
from talentplan.simulation import simulate

from .tiny import frame, tiny_instance

PLAN_COLUMNS = ["county", "program", "industry", "year", "quantity"]


def with_placement(inst, value: float = 0.5, scale: float = 0.2, cap: str = "20"):
    """``inst`` with an amount program placing leaving graduates (``value`` per 10k yuan)."""
    programs = pd.concat(
        [
            inst.programs,
            frame(
                "programs",
                [
                    dict(
                        program="placement",
                        mechanism="service_integration",
                        kind="amount",
                        cap_per_county=cap,
                    )
                ],
            ),
        ],
        ignore_index=True,
    )
    row = dict(program="placement", talent_type="", effect="placement", value=value, scale=scale)
    responses = pd.concat([inst.responses, frame("responses", [row])], ignore_index=True)
    return inst.replace_tables(programs=programs, responses=responses)


def stocks(inst, plan_rows) -> pd.Series:
    plan = pd.DataFrame(plan_rows, columns=PLAN_COLUMNS)
    talent = simulate(inst, plan).talent
    return talent.set_index(["county", "talent_type", "year"])["stock"]


def test_a_placement_brings_leaving_graduates_to_the_county_by_hand():
    inst = with_placement(tiny_instance(n_years=1))
    before = stocks(inst, [])
    after = stocks(inst, [("B", "placement", "", 2025, 10.0)])
    # B: efficiency 0.8, 3 h from the core city: 0.8 * 0.5 * exp(-0.2 * 3) per 10k yuan
    placed = 0.8 * 0.5 * math.exp(-0.6) * 10.0
    assert after["B", "voc", 2025] - before["B", "voc", 2025] == pytest.approx(placed, rel=1e-12)
    assert after["B", "eng", 2025] == before["B", "eng", 2025]
    assert after["A", "voc", 2025] == before["A", "voc", 2025]


def test_a_plan_asking_for_more_than_leave_is_filled_pro_rata_and_flagged():
    inst = with_placement(tiny_instance(n_years=1), value=2.0)
    plan = [("A", "placement", "", 2025, 20.0), ("B", "placement", "", 2025, 20.0)]
    before, after = stocks(inst, []), stocks(inst, plan)
    asked = {"A": 2.0 * math.exp(-0.2) * 20.0, "B": 0.8 * 2.0 * math.exp(-0.6) * 20.0}
    # A keeps 30% of its 40 graduates; 28 leave, B has none: the pool is 28
    fill = 28.0 / sum(asked.values())
    assert fill < 1
    for c in "AB":
        got = after[c, "voc", 2025] - before[c, "voc", 2025]
        assert got == pytest.approx(fill * asked[c], rel=1e-12)
    breaches = simulate(inst, pd.DataFrame(plan, columns=PLAN_COLUMNS)).violations
    assert any("graduate placements in 2025" in b and "28" in b for b in breaches)


def test_graduates_kept_at_home_leave_fewer_to_place():
    inst = with_placement(tiny_instance(n_years=1), value=2.0)
    plan = [("B", "placement", "", 2025, 20.0), ("A", "alliance", "mat", 2025, 1.0)]
    before = stocks(inst, [("A", "alliance", "mat", 2025, 1.0)])
    after = stocks(inst, plan)
    # the alliance keeps 0.3 + 0.4 of A's 40 graduates: 12 leave, B asks for 17.6
    assert after["B", "voc", 2025] - before["B", "voc", 2025] == pytest.approx(12.0, rel=1e-12)


@pytest.mark.parametrize("retention", [0.4, 0.9])
def test_model_values_its_plan_as_the_simulator_does(retention):
    inst = with_placement(tiny_instance(n_years=2, budget=80.0), value=1.5)
    responses = inst.responses.copy()
    responses.loc[responses["effect"] == "graduate_retention", "value"] = retention
    inst = inst.replace_tables(responses=responses)
    result = solve(inst, mip_gap=0.0)
    error = result.summary["approximation_error"]
    assert result.objective - error - 1e-6 <= result.mip_objective <= result.objective + 1e-6
    assert simulate(inst, result.allocation).violations == ()
    spent = result.allocation.loc[result.allocation["program"] == "placement", "cost"].sum()
    assert spent > 0
    m = build_model(inst).model
    # with the alliance A can keep 0.3 + 0.9 > 1 of its graduates: a binary per year says so
    assert len(m.all_kept) == (2 if retention > 0.7 else 0)


def test_the_pool_is_one_row_a_year_and_priced():
    inst = with_placement(tiny_instance(n_years=3), value=2.0)
    m = build_model(inst).model
    assert len(m.graduate_pool) == 3
    assert build_model(tiny_instance(n_years=3)).model.placed_expr == {}
    # A's vocational demand far above its stock: every placed graduate is useful there
    demand = inst.demand.copy()
    demand.loc[(demand["county"] == "A") & (demand["talent_type"] == "voc"), "demand"] = 300.0
    prices = solve(inst.replace_tables(demand=demand), mip_gap=0.0).shadow_prices
    pool = prices[prices["resource"] == "graduates"]
    assert list(pool["year"]) == [2025, 2026, 2027]
    # a strong placement uses up the pool, and one more leaving graduate is worth something
    assert pool["fully_used"].all()
    assert (pool["price"] > 0).all()


@pytest.mark.parametrize(
    ("change", "column", "words"),
    [
        (dict(talent_type="eng"), "talent_type", "leave talent_type blank"),
        (dict(program="centre"), "effect", "applies to kinds: amount"),
    ],
)
def test_a_wrong_placement_row_is_named(change, column, words, tmp_path: Path):
    inst = with_placement(tiny_instance(n_years=1))
    responses = inst.responses.copy()
    where = responses["effect"] == "placement"
    for key, value in change.items():
        responses.loc[where, key] = value
    folder = write_instance(inst.replace_tables(responses=responses), tmp_path / "instance")
    with pytest.raises(InstanceError) as err:
        load_instance(folder)
    assert column in str(err.value) and words in str(err.value)
