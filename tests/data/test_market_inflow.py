"""The do-nothing path follows each county's observed population trend.

Reference: the 2020 census and the 2023 statistical bulletin of Qingyuan (public facts,
kept with the bundled dataset in ``_county_facts.csv``; ../shared/data/facts). The
market inflow of ``stocks.csv`` is set by the rule of :mod:`talentplan.data.derive`; the
simulator plays the empty plan with it, and each county's talent (every type but the
graduates, whose inflow is the colleges') must grow within 0.1 percentage points a year
of the county's observed growth over the first three plan years, the tolerance the
qingyuan README documents.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import talentplan as tp
from talentplan.data import derive
from talentplan.data.bundled import ROOT
from talentplan.model.prepare import prepare
from talentplan.simulation import play

FACTS = ROOT / "qingyuan" / "_county_facts.csv"


@pytest.fixture(scope="module")
def facts() -> pd.DataFrame:
    return pd.read_csv(FACTS)


def test_trend_rule_is_the_least_squares_fit_to_the_observed_growth(facts):
    fitted = derive.fit_population_trend(facts)
    for name, value in derive.TREND_RULE.items():
        assert value == pytest.approx(fitted[name], abs=5e-6), name
    # the observed trend itself, from the census to 2023 (Qingcheng: 1,119,901 -> 1,129,700)
    observed = derive.observed_trend(facts)
    assert observed["Qingcheng"] == pytest.approx((1129700 / 1119901) ** (1 / 3) - 1)


def test_do_nothing_path_follows_the_observed_trend(facts):
    inst = tp.load_instance("qingyuan")
    d = prepare(inst)
    talent = play(d, {}, objective="talent_index").talent
    types = [k for k in d.types if k != d.graduate_type]
    start = inst.stocks[inst.stocks["talent_type"].isin(types)].groupby("county")["stock"].sum()
    year3 = talent[(talent["year"] == d.years[2]) & talent["talent_type"].isin(types)]
    growth = (year3.groupby("county")["stock"].sum() / start) ** (1 / 3) - 1
    observed = derive.observed_trend(facts)
    residual = (growth - observed.reindex(growth.index)) * 100
    assert residual.abs().max() <= 0.1, residual.round(3).to_dict()


def test_without_market_inflow_talent_drains_away():
    # the reason for the inflow: with it set to 0, engineers fall by more than a third in
    # five years (a0 of 8-13% a year and nothing arriving)
    inst = tp.load_instance("qingyuan")
    stocks = inst.stocks.assign(market_inflow=0.0)
    d = prepare(inst.replace_tables(stocks=stocks))
    talent = play(d, {}, objective="talent_index").talent
    eng = talent[(talent["talent_type"] == "engineer") & (talent["year"] == d.years[-1])]
    start = stocks.loc[stocks["talent_type"] == "engineer", "stock"].sum()
    assert eng["stock"].sum() / start < 0.67


def test_market_inflow_rule_keeps_a_stock_on_its_trend_for_a_year():
    stock = np.array([[1000.0, 50.0]])
    a0 = np.array([[0.1, 0.2]])
    local = np.array([[0.0, 30.0]])
    m0 = derive.market_inflow(stock, a0, np.array([0.01]), local)
    assert m0.tolist() == [[110.0, 0.0]]  # (0.1 + 0.01) * 1000; 30 local > 0.21 * 50
    assert (1 - 0.1) * 1000 + m0[0, 0] == pytest.approx(1000 * 1.01)


@pytest.mark.slow
def test_model_counts_the_market_inflow_as_the_simulator_does():
    # the model's value of its plan understates the exact value by at most the
    # approximation error; leaving m0 out of either side breaks that by far more
    inst = tp.datasets.synthetic(3, seed=2, n_years=3)
    assert (inst.stocks["market_inflow"] > 0).any()
    result = tp.solve(inst, mip_gap=1e-6)
    error = result.summary["approximation_error"]
    assert result.objective - error - 1e-6 <= result.mip_objective <= result.objective + 1e-6
