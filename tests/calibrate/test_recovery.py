"""Monte Carlo recovery of the simulator's true parameters by every estimator family.

Each test draws the same 25 panels (100 counties x 12 years, seeds 100..124) from
:func:`talentplan.calibrate.bridge.simulator.simulate_panel` and checks that the 95%
confidence interval covers the true parameter in at least 80% of them (nominal 95%; with
25 draws a correct interval falls below 20/25 with probability about 3%), and that the
naive estimators are visibly biased where placement or spend is endogenous.

Coverage seen with these seeds (and 60 draws in development, seeds 100..159, shown in
brackets): two-way FE retention 0.92 [0.97]; FE-IV subsidy 1.00; difference GMM with year
dummies 0.96 (gamma 1.00); Callaway-Sant'Anna simple ATT 0.96; spillover (clustered)
neighbour wage 0.88 [0.93] and core pull 0.88 [0.92]. Pooled OLS covers the retention
effect in none of the draws, fixed-effects OLS the subsidy effect in none.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from talentplan.calibrate.bridge.simulator import SimulatedPanel, simulate_panel
from talentplan.calibrate.dynamic.model import DynamicPanelGMM
from talentplan.calibrate.panel.model import PanelIV, PanelRegression
from talentplan.calibrate.spatial.model import SpilloverPanel
from talentplan.calibrate.staggered.model import StaggeredDiD

REPS = 25
SEEDS = range(100, 100 + REPS)
MIN_COVERAGE = 0.80
RATE_REGRESSORS = ["centre", "wage", "W_wage", "core_pull"]


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def panels() -> list[SimulatedPanel]:
    return [simulate_panel(100, 12, seed=s) for s in SEEDS]


def _covers(ci: pd.Series, truth: float) -> bool:
    lo, hi = float(ci.iloc[0]), float(ci.iloc[1])
    return lo <= truth <= hi


def _quiet(fn):  # estimators warn about nothing here, but keep the output clean
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


def test_twfe_recovers_retention_and_pooled_ols_is_biased(panels):
    """log(1 - rho) on the log outflow rate: FE covers, pooled OLS is biased toward zero."""
    fe_cover, fe_est, pooled_cover, pooled_est = [], [], [], []
    for sim in panels:
        truth = np.log(1 - sim.truth["rho"])
        d = sim.data
        fe = PanelRegression(
            d,
            "log_outflow_rate",
            RATE_REGRESSORS,
            entity="county",
            time="year",
            estimator="twfe",
        ).fit(cov_type="clustered")
        pooled = PanelRegression(
            d,
            "log_outflow_rate",
            RATE_REGRESSORS,
            entity="county",
            time="year",
            estimator="pooled",
        ).fit(cov_type="clustered")
        fe_cover.append(_covers(fe.conf_int().loc["centre"], truth))
        fe_est.append(fe.params["centre"])
        pooled_cover.append(_covers(pooled.conf_int().loc["centre"], truth))
        pooled_est.append(pooled.params["centre"])
    truth = np.log(0.5)
    print(f"twfe coverage {np.mean(fe_cover):.2f}, pooled coverage {np.mean(pooled_cover):.2f}")
    assert np.mean(fe_cover) >= MIN_COVERAGE
    assert abs(np.mean(fe_est) - truth) < 0.02
    # programs go to counties with high attrition: pooled OLS understates the effect
    assert np.mean(pooled_est) - truth > 0.2
    assert np.mean(pooled_cover) <= 0.2


def test_panel_iv_recovers_subsidy_response_and_ols_is_biased(panels):
    """beta of log(1 + spend/theta) on inflow, instrumented by counterpart pairing."""
    iv_cover, iv_est, fe_est, fe_cover, pooled_est = [], [], [], [], []
    for sim in panels:
        beta = sim.truth["beta"]
        d = sim.data
        iv = PanelIV(
            d,
            "inflow",
            [],
            ["log_subsidy"],
            ["pairing"],
            entity="county",
            time="year",
            time_effects=True,
        ).fit(cov_type="clustered")
        fe = PanelRegression(
            d, "inflow", ["log_subsidy"], entity="county", time="year", estimator="twfe"
        ).fit(cov_type="clustered")
        pooled = PanelRegression(
            d, "inflow", ["log_subsidy"], entity="county", time="year", estimator="pooled"
        ).fit(cov_type="clustered")
        iv_cover.append(_covers(iv.conf_int().loc["log_subsidy"], beta))
        iv_est.append(iv.params["log_subsidy"])
        fe_cover.append(_covers(fe.conf_int().loc["log_subsidy"], beta))
        fe_est.append(fe.params["log_subsidy"])
        pooled_est.append(pooled.params["log_subsidy"])
    print(f"iv coverage {np.mean(iv_cover):.2f}, fe-ols coverage {np.mean(fe_cover):.2f}")
    assert np.mean(iv_cover) >= MIN_COVERAGE
    assert abs(np.mean(iv_est) - 6.0) < 0.3
    # spend reacts to bad inflow shocks (FE) and to weak counties (pooled): both too low
    assert np.mean(fe_est) < 6.0 - 2.0
    assert np.mean(fe_cover) <= 0.2
    assert np.mean(pooled_est) < np.mean(fe_est)


def test_difference_gmm_recovers_persistence(panels):
    """Arellano-Bond with collapsed instruments and year dummies recovers alpha and gamma."""
    a_cover, a_est, g_cover = [], [], []
    for sim in panels:
        d = sim.data
        years = sorted(d["year"].unique())
        dummies = []
        for y in years[2:-1]:  # years lost to the lag and the difference are not identified
            d[f"y{y}"] = (d["year"] == y).astype(float)
            dummies.append(f"y{y}")
        res = _quiet(
            lambda d=d, dummies=dummies: DynamicPanelGMM(
                d,
                "log_stock",
                1,
                exog=["centre", *dummies],
                entity="county",
                time="year",
                method="difference",
                collapse=True,
            ).fit(steps=1)
        )
        ci = res.conf_int()
        a_cover.append(_covers(ci.loc["L1.log_stock"], sim.truth["alpha"]))
        a_est.append(res.params["L1.log_stock"])
        g_cover.append(_covers(ci.loc["centre"], sim.truth["gamma_centre"]))
    print(f"gmm coverage alpha {np.mean(a_cover):.2f}, gamma {np.mean(g_cover):.2f}")
    assert np.mean(a_cover) >= MIN_COVERAGE
    assert abs(np.mean(a_est) - 0.6) < 0.06
    assert np.mean(g_cover) >= MIN_COVERAGE


def test_staggered_did_recovers_retention_effect(panels):
    """Callaway-Sant'Anna simple ATT on the log outflow rate equals log(1 - rho)."""
    cover, est = [], []
    for sim in panels:
        res = _quiet(
            lambda sim=sim: StaggeredDiD(
                sim.data, "log_outflow_rate", "county", "year", "centre_year"
            ).fit()
        )
        agg = res.aggregate("simple")
        lo, hi = agg.conf_int()
        truth = np.log(1 - sim.truth["rho"])
        cover.append(lo <= truth <= hi)
        est.append(agg.att)
    print(f"did coverage {np.mean(cover):.2f}")
    assert np.mean(cover) >= MIN_COVERAGE
    assert abs(np.mean(est) - np.log(0.5)) < 0.03


def test_spillover_panel_recovers_siphon(panels):
    """Neighbours' wage (W x) and the core city's distance-decayed pull."""
    w_cover, core_cover, w_est, core_est = [], [], [], []
    for sim in panels:
        res = SpilloverPanel(
            sim.data,
            "log_outflow_rate",
            ["centre", "wage"],
            sim.weights,
            lags=["wage"],
            core_distance=sim.core_distance,
            core_terms=["core_gap"],
            decay_bandwidth=sim.truth["core_decay_km"],
            entity="county",
            time="year",
        ).fit(cov_type="clustered")
        ci = res.conf_int()
        w_cover.append(_covers(ci.loc["W*wage"], sim.truth["phi_neighbour"]))
        core_cover.append(_covers(ci.loc["core_gap*decay(core)"], sim.truth["phi_core"]))
        w_est.append(res.params["W*wage"])
        core_est.append(res.params["core_gap*decay(core)"])
    print(f"spillover coverage W {np.mean(w_cover):.2f}, core {np.mean(core_cover):.2f}")
    assert np.mean(w_cover) >= MIN_COVERAGE
    assert np.mean(core_cover) >= MIN_COVERAGE
    assert abs(np.mean(w_est) - 0.6) < 0.15
    assert abs(np.mean(core_est) - 0.5) < 0.15
