"""Edges of the model and the simulator that the enumeration does not reach.

Each test here was written for a mutant of ``src/talentplan/model/`` or
``src/talentplan/simulation.py`` that survived the rest of the suite (see
``scripts/mutation.py``): refused inputs and what their messages name, an instance
without demand, and decisions given in the plan-area form.
"""

from __future__ import annotations

import pandas as pd
import pytest

import talentplan as tp
from talentplan.errors import InstanceError, OptionError
from talentplan.model.build import build_model

from . import instances as I

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_an_unknown_objective_is_refused_by_name():
    with pytest.raises(OptionError) as caught:
        build_model(I.platforms(), objective="fastest")
    assert str(caught.value).startswith("objective='fastest' is not supported")


def test_an_instance_too_large_for_memory_is_refused_by_name():
    huge = I.platforms().replace_scenario(n_years=10**6)
    with pytest.raises(InstanceError, match="instance 'oracle'"):
        build_model(huge)


def test_a_count_program_bounded_by_nothing_is_refused_at_its_cap_column():
    free = {"enclave": {"unit_cost": 0.0, "operating_cost": 0.0, "cap_per_county": ""}}
    inst = I.platforms(overrides=free)
    with pytest.raises(InstanceError) as caught:
        tp.solve(inst)
    assert caught.value.file == "programs.csv"
    assert caught.value.column == "cap_per_county"
    assert "enclave" in str(caught.value)


def test_equity_without_any_demand_scores_zero():
    inst = I.subsidy(objective="equity")
    inst = inst.replace_tables(demand=inst.demand.assign(demand=0.0))
    formulation = build_model(inst)
    assert formulation.approximation_error == 0.0
    plan = pd.DataFrame(
        [dict(county="A", program="subsidy", industry="", year=2025, quantity=10.0)]
    )
    assert tp.simulate(inst, plan).objective == 0.0


def test_a_city_program_given_with_a_county_is_the_plan_area_decision():
    inst = I.embedding_small()
    plain = pd.DataFrame(
        [dict(county="", program="titles", industry="", year=y, quantity=1) for y in (2025, 2026)]
    )
    named = plain.assign(county="B")
    assert tp.simulate(inst, named).objective == pytest.approx(tp.simulate(inst, plain).objective)
    assert tp.simulate(inst, named).objective > tp.simulate(inst, plain.iloc[:0]).objective


@pytest.mark.parametrize(
    "quantity, column", [(float("inf"), "quantity"), (-1.0, "quantity"), ("x", None)]
)
def test_a_quantity_that_is_not_a_level_is_refused_at_its_column(quantity, column):
    plan = pd.DataFrame(
        [dict(county="A", program="centre", industry="", year=2025, quantity=quantity)]
    )
    with pytest.raises(InstanceError) as caught:
        tp.simulate(I.embedding_small(), plan)
    assert caught.value.column == column
    assert caught.value.row == 2


def test_spend_that_no_source_may_pay_in_a_county_stays_at_zero():
    inst = I.subsidy(
        sources=[
            dict(source="fiscal", programs="platform"),
            dict(source="own", programs="subsidy", counties="A"),
        ],
        budgets={"fiscal": [35.0], "own": [30.0]},
    )
    result = tp.solve(inst, mip_gap=0.0)
    spend = result.allocation.set_index(["county", "program"])["quantity"]
    assert ("B", "subsidy") not in spend.index
    assert spend["A", "subsidy"] == pytest.approx(30.0)
