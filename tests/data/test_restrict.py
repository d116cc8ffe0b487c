"""subsidies_only: the instance restricted to cash subsidies, and the rules it drops."""

from __future__ import annotations

import pandas as pd
import pytest

import talentplan as tp
from talentplan.data.edit import set_parameters
from talentplan.data.restrict import SUBSIDY_MECHANISM, subsidies_only
from talentplan.errors import InstanceError
from tests.model.tiny import tiny_instance


@pytest.fixture(scope="module")
def qingyuan() -> tp.Instance:
    return tp.load_instance("qingyuan")


def test_qingyuan_keeps_only_cash_subsidies_and_names_what_it_drops(qingyuan):
    restricted, notes = subsidies_only(qingyuan)
    market = qingyuan.programs[qingyuan.programs["mechanism"] == SUBSIDY_MECHANISM]
    assert restricted.programs["program"].tolist() == market["program"].tolist()
    assert set(restricted.responses["program"]) == set(market["program"])
    assert restricted.scenario.floors == ()
    # the floor of the data is named, with its program
    floor = qingyuan.scenario.floors[0]
    assert any(f"'{floor.name}'" in n and "dropped" in n for n in notes)
    # the earmarked counterpart money pays for none of the kept programs: opened to them,
    # said so, and every budget is the same money
    earmarked = qingyuan.sources.set_index("source").at["counterpart_assistance", "programs"]
    assert "cash_subsidy" not in earmarked.split(";")
    opened = restricted.sources.set_index("source").at["counterpart_assistance", "programs"]
    assert opened.split(";") == market["program"].tolist()
    total = qingyuan.budgets.query("source == 'counterpart_assistance'")["amount"].sum()
    assert any(f"{total:,.0f}" in n and "counterpart_assistance" in n for n in notes)
    pd.testing.assert_frame_equal(restricted.budgets, qingyuan.budgets)
    # the instance given is untouched
    assert len(qingyuan.programs) > len(restricted.programs) and qingyuan.scenario.floors


def test_a_plan_of_the_restricted_instance_breaks_only_the_dropped_rules(qingyuan):
    # Scored by the simulator on the whole instance, the subsidies-only plan keeps every
    # cap; the only breaches are those of the floor it dropped and of the earmark it
    # opened (subsidies paid with the counterpart money).
    restricted, _ = subsidies_only(qingyuan)
    plan = tp.solve(restricted, mip_gap=1e-2, compare=False)
    assert set(plan.allocation["program"]) <= {"cash_subsidy"}
    played = tp.simulate(qingyuan, plan.allocation)
    floor = qingyuan.scenario.floors[0].name
    floors = [v for v in played.violations if v.startswith(f"floor '{floor}'")]
    money = [v for v in played.violations if "costs of cash_subsidy cannot be paid" in v]
    assert floors and money and len(floors) + len(money) == len(played.violations)
    assert played.objective == pytest.approx(plan.objective, rel=1e-9)
    # restricted to its own rules, the same plan breaks none
    assert not tp.simulate(restricted, plan.allocation).violations


def test_pins_on_dropped_programs_are_named_and_pins_on_kept_ones_stay():
    inst = tiny_instance(n_years=2, budget=60.0)
    county = inst.counties["county"].iloc[0]
    year = inst.years[0]
    dropped = inst.programs.loc[inst.programs["mechanism"] != SUBSIDY_MECHANISM, "program"]
    other = str(dropped.iloc[0])
    pins = pd.DataFrame(
        [
            dict(county=county, program=other, industry="", year=year, action="forbid"),
            dict(county=county, program="subsidy", industry="", year=year, action="max", value=5.0),
        ]
    )
    pinned = inst.replace_tables(pins=pins.reindex(columns=inst.pins.columns))
    restricted, notes = subsidies_only(pinned)
    assert restricted.pins["program"].tolist() == ["subsidy"]
    assert [n for n in notes if n.startswith("Pin ")] == [
        f"Pin 'forbid {other} in {county} in {year}' is dropped: it holds without the program."
    ]


def test_a_subsidy_that_needs_a_dropped_program_goes_too():
    inst = tiny_instance(n_years=2, budget=60.0)
    site = inst.programs.loc[inst.programs["kind"] == "site", "program"].iloc[0]
    needs = set_parameters(inst, {"programs.subsidy.requires": site})
    with pytest.raises(InstanceError, match="no program whose mechanism is 'market'"):
        subsidies_only(needs)


def test_an_instance_without_cash_subsidies_is_refused_by_name():
    inst = tiny_instance(n_years=2, budget=60.0)
    programs = inst.programs[inst.programs["mechanism"] != SUBSIDY_MECHANISM]
    responses = inst.responses[inst.responses["program"].isin(programs["program"])]
    bare = inst.replace_tables(programs=programs, responses=responses)
    with pytest.raises(InstanceError, match="no program whose mechanism is 'market'") as err:
        subsidies_only(bare)
    assert "programs.csv" in str(err.value)
