"""``tp.simulate`` against the reference on plans that keep the rules and plans that do not.

The reference (:mod:`tests.oracle.reference`) and the simulator must agree, plan by plan,
on the talent trajectory, the objective and whether the plan breaks a rule (budgets with
their earmarks and carry-over, land, cadre time, caps, never-shrinking decisions, whole
units, requirements, floors and pins). Plans are drawn at random with a fixed seed: half
from the rising paths the enumeration uses, half "wild" (levels that fall, exceed caps,
are fractional or switch on without their requirement).
"""

from __future__ import annotations

import random

import pandas as pd
import pytest

import talentplan as tp
from talentplan.data.instance import PolicyFloor
from talentplan.errors import InstanceError

from . import instances as I
from .enumeration import choices, decisions
from .reference import (
    Reading,
    breaches,
    cost_items,
    objective_value,
    plan_from_allocation,
    read,
    trajectory,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def allocation(plan: dict) -> pd.DataFrame:
    """A plan as the allocation table ``tp.simulate`` reads."""
    rows = [
        dict(county=c, program=p, industry=i, year=y, quantity=q)
        for (c, p, i, y), q in sorted(plan.items())
    ]
    return pd.DataFrame(rows, columns=["county", "program", "industry", "year", "quantity"])


def wild(r: Reading, rng: random.Random) -> dict:
    """A plan with any level in any year: it may fall, pass caps, or be fractional."""
    plan = {}
    for (c, p, i), kind in decisions(r):
        for y in r.years:
            if rng.random() < 0.5:
                continue
            if kind in ("site", "chain", "city"):
                q = 1.0
            elif kind == "count":
                q = float(rng.choice([1, 2, 3, 1.5]))
            else:
                q = rng.choice([5.0, 20.0, 45.0])
            plan[c, p, i, y] = q
    return plan


def rising(r: Reading, rng: random.Random, spend: list[float]) -> dict:
    """A plan whose decisions follow the enumeration's paths (spend from ``spend``)."""
    grid = {p: spend for p, prog in r.programs.items() if prog.kind == "amount"}
    plan = {}
    for key, paths in choices(r, spend_grid=grid):
        path = rng.choice(paths)
        for y, q in zip(r.years, path, strict=True):
            if q:
                plan[(*key, y)] = q
    return plan


CASES = {
    "embedding": lambda: I.embedding(
        floors=(PolicyFloor("titles by 2026", "titles", 2026),),
        pins=[
            dict(county="A", program="alliance", industry="mat", year=2025, action="forbid"),
            dict(county="B", program="station", year=2026, action="max", value=0.0),
            dict(county="A", program="alliance", year=2026, action="min", value=1.0),
            dict(county="A", program="centre", year=2026, action="fix", value=1.0),
            dict(program="titles", year=2025, action="forbid"),
        ],
    ),
    "embedding-carry": lambda: I.embedding(
        budgets={"fiscal": [40.0, 5.0], "assist": [14.0, 0.0], "cityfund": [15.0, 0.0]},
        carry_over=True,
    ),
    "platforms": lambda: I.platforms(),
    "spend": lambda: I.carry(
        floors=(PolicyFloor("training from 2026", "training", 2026, 3.0),),
        pins=[dict(county="A", program="subsidy", year=2025, action="max", value=30.0)],
    ),
    # the newer terms: market inflow and lags; poaching by counts, a city program,
    # platforms and a subsidy; demand feedback; caps by colleges and per city, energy,
    # lagged cadre capacity-building
    "market-lags": lambda: I.lagged(),
    "poaching-feedback": lambda: I.amend(
        I.poaching(), drives_demand=("eng", "voc"), demand_feedback=0.8
    ),
    "platforms-poaching": lambda: I.platforms_poaching(),
    "subsidy-war": lambda: I.amend(
        I.subsidy_war(n_years=2, overrides={"subsidy": {"poach_share": 0.5, "lag_years": 1}}),
        drives_demand=("eng",),
        demand_feedback=0.6,
    ),
    # B holds less than one vocational person for A's stations to draw from
    "poaching-thin": lambda: I.poaching_thin(),
    "resources-one-city": lambda: I.resources(),
    "resources-blank-city": lambda: I.resources(same_city=False, station_energy=3.0),
    # graduate placement: a pool that binds once A's alliances keep all of its graduates
    "placement": lambda: I.placement(),
}


@pytest.mark.parametrize("case", list(CASES))
def test_simulate_agrees_with_the_reference_plan_by_plan(case):
    inst = CASES[case]()
    r = read(inst)
    rng = random.Random(7)
    plans = [rising(r, rng, [0.0, 4.0, 12.5, 30.0]) for _ in range(20)]
    plans += [wild(r, rng) for _ in range(20)]
    # and one plan that keeps every rule: the solver's
    plans.append(plan_from_allocation(tp.solve(inst, mip_gap=1e-3).allocation))
    broken = 0
    for plan in plans:
        sim = tp.simulate(inst, allocation(plan))
        rules = breaches(r, plan)
        broken += bool(rules)
        assert (not sim.violations) == (not rules), (plan, rules, sim.violations)
        cells = trajectory(r, plan)
        assert sim.objective == pytest.approx(objective_value(r, plan, r.objective, cells))
        talent = sim.talent.set_index(["county", "talent_type", "year"])
        for key, cell in cells.items():
            assert talent.loc[key, "stock"] == pytest.approx(cell.stock), key
            assert talent.loc[key, "fte"] == pytest.approx(cell.fte), key
            assert talent.loc[key, "useful"] == pytest.approx(cell.useful), key
        cost = sim.cost.groupby(["county", "program", "year"])["cost"].sum()
        assert cost.sum() == pytest.approx(sum(cost_items(r, plan).values()))
    # both kinds of plan are there
    assert 5 <= broken < len(plans)


def test_breaches_and_summary_are_named_in_planner_words():
    inst = CASES["embedding"]()
    plan = {
        ("A", "alliance", "mat", 2025): 1.0,  # forbidden by a pin, and without the centre
        ("B", "station", "", 2026): 1.0,  # pinned at most 0
        ("", "titles", "", 2025): 1.0,  # forbidden by a pin
    }
    sim = tp.simulate(inst, allocation(plan))
    text = "\n".join(sim.violations)
    assert "floor 'titles by 2026': titles in the plan area 2026 is 0 < 1" in text
    assert "pin 'forbid titles in the plan area 2025' is broken: level 1" in text
    assert "pin 'fix centre in A 2026 at 1' is broken: level 0" in text
    assert "pin 'forbid alliance in A/mat 2025' is broken: level 1" in text
    assert "pin 'max station in B 2026 at 0' is broken: level 1" in text
    assert "pin 'min alliance in A 2026 at 1' is broken: level 0" in text
    assert "alliance in A 2025 needs centre there, which is not active" in text
    shown = str(sim)
    assert f"objective: talent_index = {sim.objective:.6g}" in shown
    assert f"breaches: {len(sim.violations)}" in shown
    assert f"total cost (10k yuan): {sim.cost['cost'].sum():,.1f}" in shown
    final = sim.talent[sim.talent["year"] == 2026].groupby("talent_type")["stock"].sum()
    assert f"{final['eng']:.6g}"[:5] in shown


@pytest.mark.parametrize(
    "row, words",
    [
        (dict(county="A", program="centre", year=2031, quantity=1), "outside the plan years"),
        (dict(county="A", program="centre", year=2025, quantity=-1), "finite number >= 0"),
        (dict(county="A", program="centre", year=2025, quantity=float("inf")), "finite number"),
        (dict(county="A", program="alliance", year=2025, quantity=1), "needs an industry"),
        (dict(county="Z", program="centre", year=2025, quantity=1), "unknown county 'Z'"),
        (dict(county="A", program="nope", year=2025, quantity=1), "unknown program 'nope'"),
        (dict(county="", program="centre", year=2025, quantity=1), "unknown county ''"),
        (
            dict(county="B", program="alliance", industry="mat", year=2025, quantity=1),
            "needs an industry present in 'B' (one of ['bio'])",
        ),
    ],
)
def test_a_plan_row_that_cannot_be_read_is_refused_with_its_column(row, words):
    inst = CASES["embedding"]()
    frame = pd.DataFrame([{"industry": "", **row}])
    with pytest.raises(InstanceError) as caught:
        tp.simulate(inst, frame, file="plan.csv")
    err = caught.value
    assert words in str(err)
    assert err.file == "plan.csv" and err.row == 2


def test_a_city_decision_given_twice_is_refused():
    inst = CASES["embedding"]()
    frame = pd.DataFrame(
        [
            dict(county="", program="titles", industry="", year=2025, quantity=1),
            dict(county="A", program="titles", industry="", year=2025, quantity=1),
        ]
    )
    with pytest.raises(InstanceError, match=r"titles, 2025\) twice \(also row 2\)"):
        tp.simulate(inst, frame)


@pytest.mark.parametrize(
    "same_city, titles_from, stations, words, theirs",
    [
        (False, 2025, {"A": 1.0, "B": 2.0}, "energy in B 2026: 6.0 tce", "energy B 2026"),
        (True, 2025, {"A": 1.0, "B": 2.0}, "above cap_per_city", "cap per city on station"),
        (False, 2026, {"A": 1.0, "B": 2.0}, "cadre time in B 2026", "cadre hours B 2026"),
        (False, 2025, {"A": 2.0}, "station in A 2026: above cap_per_county", "cap station in A"),
    ],
    ids=["energy", "cap-per-city", "cadre-capacity-lagged", "colleges"],
)
def test_each_newer_limit_alone_is_named_by_both(same_city, titles_from, stations, words, theirs):
    # a plan that breaks one rule only: stations added in 2026, titles open from a year
    # stations use 3 tce in the energy case (two of them pass B's 5), 2 otherwise
    energy = 3.0 if words.startswith("energy") else 2.0
    inst = I.resources(same_city=same_city, station_energy=energy)
    r = read(inst)
    plan = {("", "titles", "", y): 1.0 for y in r.years if y >= titles_from}
    plan.update({(c, "station", "", 2026): q for c, q in stations.items()})
    rules = breaches(r, plan)
    assert len(rules) == 1 and words in rules[0], rules
    found = tp.simulate(inst, allocation(plan)).violations
    assert len(found) == 1 and theirs in found[0], found


def test_a_site_that_closes_is_named_with_the_rule():
    inst = CASES["embedding"]()
    plan = {("A", "centre", "", 2025): 1.0, ("", "titles", "", 2026): 1.0}
    found = "\n".join(tp.simulate(inst, allocation(plan)).violations)
    assert (
        "centre in A closes or shrinks in 2026 (sites, alliances, city programs and units "
        "stay once opened)"
    ) in found


def test_a_small_cost_no_budget_can_pay_is_a_breach():
    # half a unit of subsidy in a year without fiscal money: short by 0.5 (10k yuan)
    inst = I.subsidy_war(budgets={"fiscal": [0.0], "assist": [35.0]})
    r = read(inst)
    plan = {("A", "subsidy", "", 2025): 0.5}
    assert breaches(r, plan) == ["budgets short by 0.5"]
    found = tp.simulate(inst, allocation(plan)).violations
    # (it also names the spend cap, which it draws no higher than the money there is)
    assert any("budget 2025: 0.50 (10k yuan)" in v and "cannot be paid" in v for v in found)
