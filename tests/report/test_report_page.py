"""The report page: what the plan buys against doing nothing and subsidies only, and the rest."""

from __future__ import annotations

import html
import json
import re
import threading
from dataclasses import FrozenInstanceError, replace

import pandas as pd
import pytest

import talentplan as tp
from talentplan.data.restrict import SUBSIDY_MECHANISM, subsidies_only
from talentplan.report import pipeline
from talentplan.report.html_report import (
    PLOT_MAX_COUNTIES,
    headline_section,
    limits_section,
    plotted_counties,
    render_report,
)
from talentplan.report.result import AllocationResult
from talentplan.solver.api import SolveOptions
from talentplan.solver.deadline import Deadline
from tests.model.tiny import tiny_instance


@pytest.fixture(scope="module")
def tiny():
    instance = tiny_instance(n_years=2, budget=60.0)
    return instance, tp.solve(instance, mip_gap=0.0, compare=True)


@pytest.fixture(scope="module")
def page(tiny) -> str:
    return render_report(tiny[1])  # drawing the plots takes a second or two: once


def test_doing_nothing_is_the_empty_plan_played_by_the_simulator(tiny):
    instance, result = tiny
    nothing = result.summary["comparisons"]["do_nothing"]
    empty = pd.DataFrame(columns=["county", "program", "industry", "year", "quantity"])
    played = tp.simulate(instance, empty)
    assert nothing["objective"] == pytest.approx(played.objective)
    final = played.talent[played.talent["year"] == instance.years[-1]]
    assert nothing["useful"] == pytest.approx(final["useful"].sum())
    assert nothing["spend"] == 0.0
    for county, useful in final.groupby("county")["useful"].sum().items():
        assert nothing["by_county"][county]["useful"] == pytest.approx(useful)


def test_subsidies_only_is_the_restricted_instance_solved_alike(tiny):
    instance, result = tiny
    figures = result.summary["comparisons"]["subsidies_only"]
    restricted, notes = subsidies_only(instance)
    again = tp.solve(restricted, mip_gap=0.0, compare=False)
    assert figures["objective"] == pytest.approx(again.objective, rel=1e-6)
    assert figures["spend"] == pytest.approx(again.allocation["cost"].sum(), rel=1e-6)
    assert figures["notes"] == notes
    assert figures["status"] == "optimal"
    market = set(
        instance.programs.loc[instance.programs["mechanism"] == SUBSIDY_MECHANISM, "program"]
    )
    assert set(again.allocation["program"]) <= market
    # the plan, free to use every program, does at least as well on this instance
    assert result.objective >= figures["objective"] - 1e-6 * abs(figures["objective"])


def test_the_plans_figures_add_up_from_its_tables(tiny):
    _, result = tiny
    plan = result.summary["comparisons"]["plan"]
    assert plan["objective"] == result.objective
    assert plan["spend"] == pytest.approx(result.allocation["cost"].sum())
    by_county = result.by_county
    for county, row in by_county.iterrows():
        assert plan["by_county"][county]["spend"] == pytest.approx(row["spend"])
        if county:
            assert round(plan["by_county"][county]["useful"]) == row["useful"]


def test_comparisons_round_trip_through_the_result_folder(tiny, tmp_path):
    _, result = tiny
    folder = result.to_dir(tmp_path / "run", report=False)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["comparisons"] == json.loads(json.dumps(result.summary["comparisons"]))
    back = AllocationResult.from_dir(folder)
    assert back.summary["comparisons"] == summary["comparisons"]
    assert headline_section(back) == headline_section(result)


def test_the_result_stays_immutable(tiny):
    _, result = tiny
    with pytest.raises(FrozenInstanceError):
        result.summary = {}  # type: ignore[misc]


def test_compare_false_skips_and_the_report_says_so():
    result = tp.solve(tiny_instance(n_years=2, budget=60.0), mip_gap=0.0, compare=False)
    compared = result.summary["comparisons"]
    assert compared == {"skipped": "not asked for (compare=False)"}
    assert "not compared with doing nothing" in headline_section(result)
    assert not result.summary["skipped"]  # not asked for is not skipped for time


def test_comparisons_are_skipped_without_time_or_on_huge_instances(tiny, monkeypatch):
    instance, result = tiny
    options = SolveOptions(mip_gap=0.0)
    short = Deadline(1.0)
    no_time = pipeline.comparisons(instance, options, result, short)
    assert "left of the time limit" in no_time["skipped"]
    assert set(no_time) == {"skipped"}
    assert short.skipped == [
        f"comparisons with doing nothing and subsidies only: {no_time['skipped']}"
    ]
    stopped = threading.Event()
    stopped.set()
    interrupted = pipeline.comparisons(instance, options, result, Deadline(None), stop=stopped)
    assert interrupted == {"skipped": "the solve was interrupted"}
    monkeypatch.setattr(pipeline, "COMPARE_MAX_COUNTIES", 1)
    huge = pipeline.comparisons(instance, options, result, Deadline(None))
    assert f"{len(instance.counties)} counties" in huge["skipped"]


def test_the_time_limit_bounds_the_call_with_the_comparisons():
    instance = tp.datasets.synthetic(6, seed=2, n_years=3)
    result = tp.solve(instance, time_limit=4.0, compare=True)
    assert result.summary["elapsed_seconds"] <= 4.0 + 0.5
    compared = result.summary["comparisons"]
    if compared["skipped"] is None:  # there was time: both comparisons are there
        assert "objective" in compared["do_nothing"]
        assert "objective" in compared["subsidies_only"] or compared["subsidies_only"]["skipped"]
    else:
        assert "left of the time limit" in compared["skipped"]
        assert any(compared["skipped"] in note for note in result.summary["skipped"])


def test_the_page_reads_in_order_with_svg_plots_and_collapsed_allocation(tiny, page):
    instance, result = tiny
    name = instance.scenario.name
    assert f"<title>Talent plan: {name}</title>" in page
    assert f"<h1>Talent plan: {name}</h1>" in page
    order = [
        "id='headline'",
        "doing nothing",
        "subsidies only",
        "<figure class='plot' id='plot-allocation'>",
        "<figure class='plot' id='plot-spend'>",
        "<figure class='plot' id='plot-talent'>",
        "<figure class='plot' id='plot-budgets'>",
        "<figure class='plot' id='plot-shadow-prices'>",
        "<h2>Limits that bind the plan</h2>",
        "instance hash",
        "<details>",
        'class="dataframe allocation"',
        "</details>",
    ]
    at = [page.index(text) for text in order]
    assert at == sorted(at), order
    assert page.count("<svg") == 5
    assert result.summary["instance_hash"] in page
    for package, version in result.summary["versions"].items():
        assert f"version of {package}" in page and version in page
    share = result.summary["approximation_error"] / abs(result.objective)
    assert f"{share:.3%} of the objective" in page


def test_the_page_loads_nothing_and_runs_no_script(page):
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.IGNORECASE)
    assert "@import" not in page and "url(http" not in page


def test_fully_used_limits_are_said_in_plain_words_with_their_prices(tiny, page):
    _, result = tiny
    prices = result.shadow_prices
    budget = prices[(prices["resource"] == "budget") & prices["fully_used"]]
    assert len(budget), "the tiny plan uses up a budget"
    row = budget.sort_values("price", ascending=False).iloc[0]
    said = f"The {row['year']} budget"  # "budgets of A and B" when they share the price
    assert said in page
    sentence = page[page.index(said) : page.index("</li>", page.index(said))]
    assert " fully used (" in sentence
    if row["price"] > 0:
        assert f"one more 10k yuan would add {row['price']:.3g} to the talent index" in sentence


def test_a_subsidies_only_plan_that_cannot_exist_is_reported_not_raised(monkeypatch):
    from talentplan.data.instance import PolicyFloor

    instance = tiny_instance(n_years=2, budget=60.0)
    site = str(instance.programs.loc[instance.programs["kind"] == "site", "program"].iloc[0])
    floor = PolicyFloor("a site everywhere", site, by_year=instance.years[0])
    broke = instance.scale_budget(0.0).replace_scenario(floors=(floor,))

    def no_plan(_: tp.Instance) -> tuple[tp.Instance, list[str]]:
        return broke, ["a note"]

    monkeypatch.setattr(pipeline, "subsidies_only", no_plan)
    result = tp.solve(instance, mip_gap=0.0, compare=True)
    assert result.status.value == "optimal"
    compared = result.summary["comparisons"]
    assert "objective" in compared["do_nothing"]
    reason = compared["subsidies_only"]["skipped"]
    assert reason and compared["subsidies_only"]["notes"] == ["a note"]
    section = headline_section(result)
    assert f"No subsidies-only plan: {html.escape(reason)}" in section and "a note" in section


def test_a_plan_of_many_counties_plots_those_that_spend_most():
    counties = [f"c{n:03d}" for n in range(PLOT_MAX_COUNTIES + 5)]
    allocation = pd.DataFrame(
        {
            "county": [*counties, ""],
            "cost": [*(float(n) for n in range(len(counties))), 1e9],  # c000 spends least
        }
    )
    talent = pd.DataFrame({"county": counties})
    shown, total = plotted_counties(allocation, talent)
    assert total == len(counties) and len(shown) == PLOT_MAX_COUNTIES
    assert set(shown) == set(counties[5:])  # the five that spend least are left out
    few = allocation[allocation["county"].isin(["c001", "c002", ""])]
    assert plotted_counties(few, talent.head(3)) == (["c000", "c001", "c002"], 3)


def test_limits_not_priced_are_not_said_to_be_slack(tiny):
    _, result = tiny
    unpriced = replace(
        result,
        shadow_prices=result.shadow_prices.iloc[0:0],
        summary={**result.summary, "skipped": ["shadow prices: no time left"]},
    )
    section = limits_section(unpriced)
    assert "Not priced for this plan (shadow prices: no time left)" in section
    assert "No budget" not in section
