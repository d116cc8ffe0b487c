"""Near-optimal alternatives: each group's range equals exhaustive enumeration.

Reference: on tiny instances without continuous spend every integer plan determines the
talent trajectory, so playing it with the forward simulator (exact, written apart from
the Pyomo model) gives its value and its spending per program and county. The plans
within the slack of the best value form the near-optimal set; the least and the most
each group spends over them are the true range, which ``alternatives`` must reproduce
at ``mip_gap=0``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import threading
from collections.abc import Iterator
from functools import cache

import numpy as np
import pandas as pd
import pytest

import talentplan as tp
from talentplan.data.instance import Instance, PolicyFloor
from talentplan.errors import OptionError
from talentplan.model.prepare import ModelData, prepare
from talentplan.scenarios.alternatives import FIRM_ABSOLUTE, FIRM_RELATIVE, alternatives
from talentplan.simulation import min_final_coverage, play
from talentplan.solver.highs import Progress
from tests.model.tiny import tiny_instance

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _only(inst: Instance, keep: tuple[str, ...]) -> Instance:
    """``inst`` with only the programs ``keep`` (and their responses)."""
    programs = inst.programs[inst.programs["program"].isin(keep)]
    responses = inst.responses[inst.responses["program"].isin(keep)]
    return inst.replace_tables(
        programs=programs.reset_index(drop=True), responses=responses.reset_index(drop=True)
    )


INTEGER_PROGRAMS = ("centre", "platform", "alliance", "titles", "station")
"""The tiny instance's programs with whole decisions only (no spend on a curve)."""

CASES = {
    # one year, every whole-decision kind, a budget that binds: 256 plans
    "one-year": lambda: _only(tiny_instance(n_years=1, budget=45.0), INTEGER_PROGRAMS),
    # two years, so opening and operating costs both count: 243 plans
    "two-years": lambda: _only(
        tiny_instance(n_years=2, budget=40.0), ("platform", "alliance", "station")
    ),
    "min-cost": lambda: _only(
        tiny_instance(n_years=1, budget=80.0, objective="min_cost"), INTEGER_PROGRAMS
    ).replace_scenario(target_coverage=0.8),
}
SLOW_CASES = {
    "two-years-all": lambda: _only(tiny_instance(n_years=2, budget=45.0), INTEGER_PROGRAMS),
    "floor-pin": lambda: _only(
        tiny_instance(
            n_years=2,
            budget=45.0,
            floors=(PolicyFloor("centre everywhere by 2026", "centre", 2026),),
            pins=[dict(county="A", program="platform", year=2025, action="forbid")],
        ),
        ("centre", "platform", "alliance", "station"),
    ),
    "equity": lambda: _only(
        tiny_instance(n_years=2, budget=45.0, objective="equity"),
        ("centre", "platform", "alliance", "station"),
    ),
}


def _paths(n_years: int, top: int) -> list[tuple[int, ...]]:
    """Levels 0..top per year that never fall (opened once, kept)."""
    return [
        path
        for path in itertools.product(range(top + 1), repeat=n_years)
        if all(a <= b for a, b in itertools.pairwise(path))
    ]


def _plans(d: ModelData) -> Iterator[dict[tuple[str, str, str, int], float]]:
    """Every integer plan of ``d`` as decision levels (county, program, industry, year)."""
    decisions: list[tuple[tuple[str, str, str], int]] = []
    for p in d.programs:
        kind = d.kind[p]
        assert kind != "amount", "continuous spend cannot be enumerated"
        if kind == "city":
            decisions.append((("", p, ""), 1))
        for c in d.counties:
            if kind == "site":
                decisions.append(((c, p, ""), 1))
            elif kind == "chain":
                decisions += [((c, p, i), 1) for i in d.present[c]]
            elif kind == "count":
                decisions.append(((c, p, ""), int(d.level_ub[c, p])))
    choices = [_paths(d.n_years, top) for _, top in decisions]
    for combo in itertools.product(*choices):
        yield {
            (*key, t): float(level)
            for (key, _), path in zip(decisions, combo, strict=True)
            for t, level in enumerate(path)
            if level
        }


@dataclasses.dataclass(frozen=True)
class Enumerated:
    """The value of every feasible plan and its spending per (program, county)."""

    maximize: bool
    values: np.ndarray
    spend: pd.DataFrame
    """One row per feasible plan, one column per (program, county); county '' for city."""

    def near_optimal(self, slack: float) -> tuple[np.ndarray, float]:
        """Return the mask of the plans within ``slack`` of the best, and the threshold."""
        best = self.values.max() if self.maximize else self.values.min()
        threshold = best - slack * abs(best) if self.maximize else best + slack * abs(best)
        # A plan within 1e-6 of the threshold would make the comparison a matter of
        # tolerances: the cases below are chosen so that none is.
        gaps = np.abs(self.values - threshold)
        assert ((gaps > 1e-6) | (gaps < 1e-9)).all(), "a plan sits on the threshold"
        tol = 1e-9 * max(1.0, abs(best))
        inside = self.values >= threshold - tol if self.maximize else self.values <= threshold + tol
        return inside, threshold


@cache
def enumerate_case(name: str) -> Enumerated:
    inst = {**CASES, **SLOW_CASES}[name]()
    d = prepare(inst)
    objective = inst.scenario.objective
    values, spends = [], []
    for levels in _plans(d):
        played = play(d, levels, objective=objective)
        if played.violations:
            continue
        if (
            objective == "min_cost"
            and min_final_coverage(d, played.talent) < inst.scenario.target_coverage - 1e-9
        ):
            continue
        values.append(played.objective)
        spends.append(played.cost.groupby(["program", "county"])["cost"].sum())
    assert values, "no feasible plan"
    return Enumerated(objective != "min_cost", np.array(values), pd.DataFrame(spends).fillna(0.0))


def _check_against_enumeration(name: str, slack: float) -> None:
    inst = {**CASES, **SLOW_CASES}[name]()
    truth = enumerate_case(name)
    inside, threshold = truth.near_optimal(slack)
    result = alternatives(inst, slack=slack, mip_gap=0.0)
    assert result.status == tp.SolveStatus.OPTIMAL
    assert result.summary["threshold"] == pytest.approx(threshold, abs=1e-6)
    table = result.table.set_index(["program", "county"])
    near = truth.spend[inside]
    # the groups are the decisions that exist: a chain only where its industry is present
    assert set(table.index) == set(truth.spend.columns)
    for key, row in table.iterrows():
        assert row["low"] == pytest.approx(near[key].min(), abs=1e-6), key
        assert row["high"] == pytest.approx(near[key].max(), abs=1e-6), key
        # at gap 0 the bounds meet the extremes
        assert row["low_bound"] == pytest.approx(row["low"], abs=1e-6), key
        assert row["high_bound"] == pytest.approx(row["high"], abs=1e-6), key
        assert row["low"] - 1e-9 <= row["optimal"] <= row["high"] + 1e-9
    # the coarser grouping is the same set of plans summed over counties
    by_program = alternatives(inst, slack=slack, by="program", mip_gap=0.0).table
    totals = near.T.groupby(level="program").sum().T
    for row in by_program.itertuples(index=False):
        assert row.low == pytest.approx(totals[row.program].min(), abs=1e-6), row.program
        assert row.high == pytest.approx(totals[row.program].max(), abs=1e-6), row.program


SLACKS = {
    "one-year": (0.0, 0.01, 0.02),
    "two-years": (0.0, 0.01, 0.02),
    # the cheapest plan costs 25 and the next 34: a slack of 1% to 30% admits only the
    # optimal plans
    "min-cost": (0.0, 0.3, 0.6),
    "two-years-all": (0.0, 0.01, 0.02),
    "floor-pin": (0.0, 0.01, 0.02),
    "equity": (0.0, 0.01, 0.03),
}


@pytest.mark.parametrize("name, slack", [(name, slack) for name in CASES for slack in SLACKS[name]])
def test_ranges_match_enumeration(name: str, slack: float) -> None:
    _check_against_enumeration(name, slack)


@pytest.mark.slow
@pytest.mark.parametrize(
    # A slack of 0 (the optimal plans alone) is checked on the small cases: on these it
    # costs a minute of MIPs each and adds no other kind of check.
    "name, slack",
    [(name, slack) for name in SLOW_CASES for slack in SLACKS[name] if slack > 0],
)
def test_ranges_match_enumeration_on_larger_cases(name: str, slack: float) -> None:
    _check_against_enumeration(name, slack)


@pytest.mark.parametrize(
    "name", [*CASES, *(pytest.param(name, marks=pytest.mark.slow) for name in SLOW_CASES)]
)
def test_the_enumeration_cases_can_tell_a_wrong_range(name: str) -> None:
    # Each slack leaves some group narrower than over all feasible plans (so ignoring the
    # near-optimal row fails), and a positive one leaves some group open (so ranges
    # pinned to the optimum fail).
    truth = enumerate_case(name)
    full = truth.spend.max() - truth.spend.min()
    for slack in SLACKS[name]:
        inside, _ = truth.near_optimal(slack)
        near = truth.spend[inside]
        width = near.max() - near.min()
        assert (width < full - 1.0).any(), slack
        if slack > 0:
            assert (width > 1.0).any(), slack


@pytest.fixture(scope="module")
def with_spend() -> tp.AlternativesResult:
    """The whole tiny instance (continuous spend included) at 2% slack."""
    return alternatives(tiny_instance(n_years=2, budget=60.0), slack=0.02, mip_gap=0.0)


def test_optimal_column_is_the_optimal_plans_spending(with_spend: tp.AlternativesResult) -> None:
    table = with_spend.table
    alloc = with_spend.optimum.allocation
    spent = alloc.groupby(["program", "county"])["cost"].sum()
    for row in table.itertuples(index=False):
        assert row.optimal == pytest.approx(spent.get((row.program, row.county), 0.0), abs=1e-6)
    assert with_spend.summary["objective"] == with_spend.optimum.objective
    assert with_spend.summary["mip_objective"] == pytest.approx(with_spend.optimum.mip_objective)


def test_ranges_hold_the_optimum_and_lie_within_their_bounds(
    with_spend: tp.AlternativesResult,
) -> None:
    t = with_spend.table
    assert (t["low_bound"] <= t["low"] + 1e-9).all()
    assert (t["low"] <= t["optimal"] + 1e-9).all()
    assert (t["optimal"] <= t["high"] + 1e-9).all()
    assert (t["high"] <= t["high_bound"] + 1e-9).all()
    tolerance = np.maximum(FIRM_RELATIVE * t["optimal"].abs(), FIRM_ABSOLUTE)
    assert (t["firm"] == (t["high_bound"] - t["low_bound"] <= tolerance)).all()
    assert with_spend.summary["solves"] == len(with_spend.solves) == 2 * len(t)
    assert with_spend.summary["statuses"] == {"optimal": 2 * len(t)}


def test_more_slack_never_narrows_a_range(with_spend: tp.AlternativesResult) -> None:
    inst = tiny_instance(n_years=2, budget=60.0)
    tight = alternatives(inst, slack=0.0, mip_gap=0.0).table
    loose = with_spend.table
    assert (loose["low"] <= tight["low"] + 1e-6).all()
    assert (loose["high"] >= tight["high"] - 1e-6).all()
    assert ((loose["high"] - loose["low"]) > (tight["high"] - tight["low"]) + 1.0).any()
    assert (tight["low"] <= tight["optimal"] + 1e-9).all()
    assert (tight["optimal"] <= tight["high"] + 1e-9).all()


@pytest.mark.parametrize(
    "options",
    [
        dict(slack=-0.01),
        dict(slack=1.0),
        dict(slack=math.nan),
        dict(slack=True),
        dict(by="county"),
        dict(by=("county", "program")),
        dict(mip_gap=1.5),
        dict(time_limit=0.0),
        dict(threads=0),
    ],
)
def test_options_are_checked_before_any_solve(options: dict) -> None:
    stop = threading.Event()
    stop.set()  # a solve that started would return, not raise
    with pytest.raises(OptionError) as info:
        alternatives(tiny_instance(n_years=1), stop=stop, **options)
    assert info.value.option == next(iter(options))


def test_a_stop_set_before_the_start_returns_the_optimum_alone_marked_interrupted() -> None:
    stop = threading.Event()
    stop.set()
    result = alternatives(tiny_instance(n_years=1), slack=0.05, stop=stop)
    assert result.status == tp.SolveStatus.INTERRUPTED
    assert result.summary["status"] == "interrupted"
    assert result.summary["solves"] == 0 and result.solves.empty
    t = result.table
    assert len(t) > 0
    assert set(t["low_status"]) | set(t["high_status"]) <= {"skipped", "constant"}
    # the only plan known is the optimum: the achieved range is its spend, and the
    # bounds are what the decisions' own bounds allow
    assert (t["low"] == t["optimal"]).all() and (t["high"] == t["optimal"]).all()
    assert (t["low_bound"] <= t["low"]).all() and (t["high_bound"] >= t["high"]).all()


def test_a_stop_during_the_run_keeps_the_solves_done() -> None:
    stop = threading.Event()
    stages: list[str] = []

    def watch(p: Progress) -> None:
        if p.stage:
            stages.append(p.stage)
        if "(3 of" in p.stage:
            stop.set()

    result = alternatives(
        tiny_instance(n_years=1), slack=0.05, mip_gap=0.0, progress=watch, stop=stop
    )
    assert result.status == tp.SolveStatus.INTERRUPTED
    assert len(result.solves) == 3
    assert stages[0].startswith("least spent on centre in A (1 of ")
    t = result.table
    ran = (t["low_status"] != "skipped").sum() + (t["high_status"] != "skipped").sum()
    assert ran - (t["low_status"] == "constant").sum() - (t["high_status"] == "constant").sum() == 3


def test_result_is_immutable_and_shows_itself(with_spend: tp.AlternativesResult) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        with_spend.status = tp.SolveStatus.ERROR  # type: ignore[misc]
    with pytest.raises(TypeError):
        with_spend.summary["slack"] = 0.5  # type: ignore[index]
    copy = with_spend.table
    copy.loc[0, "low"] = -1.0
    assert with_spend.table.loc[0, "low"] != -1.0
    text = str(with_spend)
    assert "Near-optimal alternatives" in text and "firm groups" in text
    assert "<table" in with_spend._repr_html_()


def test_to_dir_writes_the_table_and_summary(with_spend: tp.AlternativesResult, tmp_path) -> None:
    import json

    out = with_spend.to_dir(tmp_path / "alt")
    assert sorted(p.name for p in out.iterdir()) == ["alternatives.csv", "summary.json"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["command"] == "alternatives"
    assert summary["by"] == ["program", "county"]
    table = pd.read_csv(out / "alternatives.csv", keep_default_na=False)
    assert list(table.columns) == list(with_spend.table.columns)
    assert np.allclose(table["high"], with_spend.table["high"])


def test_exported_from_the_package() -> None:
    assert tp.alternatives is alternatives
    assert tp.scenarios.alternatives is alternatives


@pytest.mark.slow
def test_a_time_limit_leaves_honest_intervals() -> None:
    # On qingyuan some groups take tens of seconds to settle: at half a second per solve
    # their solves stop with an incumbent and a bound that do not meet.
    result = alternatives(tp.load_instance("qingyuan"), by="program", time_limit=0.5)
    assert result.status == tp.SolveStatus.TIME_LIMIT
    solves = result.solves
    stopped = solves[solves["status"] == "time_limit"]
    assert len(stopped) >= 1
    assert result.summary["statuses"]["time_limit"] == len(stopped)
    for row in stopped.itertuples(index=False):
        assert math.isfinite(row.bound)
        if row.side == "low":
            assert row.bound <= row.value + 1e-6
        else:
            assert row.bound >= row.value - 1e-6
    t = result.table
    assert (t["low_bound"] <= t["low"]).all() and (t["low"] <= t["optimal"] + 1e-6).all()
    assert (t["optimal"] <= t["high"] + 1e-6).all() and (t["high"] <= t["high_bound"]).all()
    tolerance = np.maximum(FIRM_RELATIVE * t["optimal"].abs(), FIRM_ABSOLUTE)
    assert (t["firm"] == (t["high_bound"] - t["low_bound"] <= tolerance)).all()
    open_ = t[(t["low_status"] == "time_limit") | (t["high_status"] == "time_limit")]
    assert (
        (open_["low_bound"] < open_["low"] - 1e-6) | (open_["high_bound"] > open_["high"] + 1e-6)
    ).any()
