"""The county view of a solved plan: by_county, its display and the report's county table."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import talentplan as tp
from talentplan.model.prepare import prepare
from talentplan.simulation import min_final_coverage


@pytest.fixture(scope="module")
def qingyuan():
    instance = tp.load_instance("qingyuan")
    return instance, tp.solve(instance, mip_gap=1e-2)


def test_by_county_spend_and_talent_add_up(qingyuan):
    instance, result = qingyuan
    table = result.by_county
    spend = result.allocation.groupby("county")["cost"].sum()
    assert table["spend"].sum() == pytest.approx(result.allocation["cost"].sum())
    for county, value in spend.items():
        assert table.loc[county, "spend"] == pytest.approx(value)
    talent = result.talent
    final = talent[talent["year"] == talent["year"].max()]
    useful = final.groupby("county")["useful"].sum()
    for county, value in useful.items():
        assert table.loc[county, "useful"] == round(value)
    funded = result.allocation.query("quantity > 0").groupby("county")["program"].unique()
    for county, programs in funded.items():
        assert table.loc[county, "programs_funded"] == len(set(programs))
    names = dict(zip(instance.counties["county"], instance.counties["name"], strict=True))
    for county, name in names.items():
        assert table.loc[county, "name"] == name


def test_by_county_coverage_by_hand(qingyuan):
    instance, result = qingyuan
    weights = dict(
        zip(instance.talent_types["talent_type"], instance.talent_types["weight"], strict=True)
    )
    last = result.talent["year"].max()
    demand = instance.demand
    demand = demand[demand["year"] == last]
    wanted = (demand["demand"] * demand["talent_type"].map(weights)).groupby(demand["county"]).sum()
    final = result.talent[result.talent["year"] == last]
    covered = (final["useful"] * final["talent_type"].map(weights)).groupby(final["county"]).sum()
    coverage = result.by_county["coverage"]
    for county, amount in wanted.items():
        if amount > 0:
            assert coverage[county] == pytest.approx(covered[county] / amount)
    data = prepare(instance)
    assert coverage.min() == pytest.approx(min_final_coverage(data, result.talent))
    assert math.isnan(coverage.get("", math.nan))


def test_by_county_shows_in_text_html_and_report(qingyuan, tmp_path):
    instance, result = qingyuan
    table = result.by_county
    text, page = str(result), result._repr_html_()
    first = instance.counties["county"].iloc[0]
    spend = f"{table.loc[first, 'spend']:,.2f}"
    persons = f"{table.loc[first, 'useful']:,d}"
    assert "," in persons
    for shown in (text, page):
        for name in instance.counties["name"]:
            assert name in shown
        assert spend in shown and persons in shown
        assert "spend (10k yuan)" in shown
    report = (result.to_dir(tmp_path / "run") / "report.html").read_text(encoding="utf-8")
    assert 'class="dataframe by-county"' in report
    county_at = report.index("By county")
    assert county_at < report.index("<h2>Allocation</h2>")
    block = report[county_at : report.index("<h2>", county_at + 1)]
    for name in instance.counties["name"]:
        assert name in block
    assert spend in block and persons in block
    back = type(result).from_dir(tmp_path / "run").by_county
    pd.testing.assert_frame_equal(back, table)
