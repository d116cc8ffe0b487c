"""Tests of dynamic panel GMM against published results and simulated truth.

Published references (abdata, the Arellano and Bond (1991) UK company panel):

* Stata [XT] xtabond, Example 1 (one-step) and Example 2 (one-step, vce(robust)):
  ``xtabond n l(0/1).w l(0/2).(k ys) yr1980-yr1984 year, lags(2) noconstant``;
  611 observations, 140 groups, 41 instruments. Example 1's coefficients and
  standard errors are the ones printed by the equivalent ``xtdpd ..., div(...)
  dgmmiv(n)`` call (same estimator, same Wald chi2(16) = 1757.07), as reproduced in
  public course notes on the Stata Arellano-Bond estimator, which also give
  ``estat sargan`` chi2(25) = 65.81806. AR tests of Examples 1, 2
  and 4 as quoted in R plm's tests (inst/tests/test_pgmm.R).
* Stata [XT] xtabond, Example 4 (two-step, vce(robust), Windmeijer-corrected),
  https://www.stata.com/manuals/xtxtabond.pdf p. 9.
* Arellano and Bond (1991) Table 4, column (b), two-step, as reproduced by R plm's
  ``pgmm(log(emp) ~ lag(log(emp), 1:2) + lag(log(wage), 0:1) + log(capital) +
  lag(log(output), 0:1) | lag(log(emp), 2:99), EmplUK, effect = "twoways",
  model = "twosteps")`` example output (4 decimals; Sargan chisq(25) = 30.11,
  AR(1) = -2.428, AR(2) = -0.3325).
* Stata [XT] xtdpdsys example: ``xtdpdsys n L(0/2).(w k) yr1980-yr1984 year,
  vce(robust)`` followed by ``estat abond, artests(4)``; 751 observations,
  47 instruments (manual page as reproduced on studylibfr.com, doc 10134072).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from talentplan.calibrate.dynamic.model import DynamicPanelGMM
from talentplan.errors import (
    CalibrationError,
    CollinearityError,
    MissingValuesWarning,
    PanelDataError,
    SingularWeightMatrixError,
    TooFewEntitiesError,
    TooManyInstrumentsWarning,
    UnbalancedPanelWarning,
)
from tests.calibrate.helpers import quiet

AB_EXOG = [
    "w", "wL1", "k", "kL1", "kL2", "ys", "ysL1", "ysL2",
    "yr1980", "yr1981", "yr1982", "yr1983", "yr1984", "year",
]  # fmt: skip
AB_NAMES = ["L1.n", "L2.n", *AB_EXOG]

# Stata xtabond Example 1 (one-step, conventional GMM standard errors)
EX1_COEF = [
    .6862261, -.0853582, -.6078208, .3926237, .3568456, -.0580012, -.0199475,
    .6085073, -.7111651, .1057969, .0029062, -.0404378, -.0652767, -.0690928,
    -.0650302, .0095545,
]  # fmt: skip
EX1_SE = [
    .1486163, .0444365, .0657694, .1092374, .0370314, .0583051, .0416274,
    .1345412, .1844599, .1428568, .0212705, .0354707, .048209, .0627354,
    .0781322, .0142073,
]  # fmt: skip
# Stata xtabond Example 2 (one-step, vce(robust)); same coefficients as Example 1
EX2_SE = [
    .1445943, .0560155, .1782055, .1679931, .0590203, .0731797, .0327126,
    .1725313, .2317163, .1412021, .0158028, .0280582, .0365451, .047413,
    .0576305, .0102896,
]  # fmt: skip
# Stata xtabond Example 4 (two-step, vce(robust): Windmeijer-corrected)
EX4_COEF = [
    .6287089, -.0651882, -.5257597, .3112899, .2783619, .0140994, -.0402484,
    .5919243, -.5659863, .1005433, .0006378, -.0550044, -.075978, -.0740708,
    -.0906606, .0112155,
]  # fmt: skip
EX4_SE = [
    .1934138, .0450501, .1546107, .2030006, .0728019, .0924575, .0432745,
    .1730916, .2611008, .1610987, .0168042, .0313389, .0419276, .0528381,
    .0642615, .0116783,
]  # fmt: skip
# Arellano-Bond (1991) Table 4 column (b), two-step, conventional errors (plm, 4 dp)
COLB_NAMES = ["L1.n", "L2.n", "w", "wL1", "k", "ys", "ysL1"]
COLB_COEF = [0.4742, -0.0530, -0.5132, 0.2246, 0.2927, 0.6098, -0.4464]
COLB_SE = [0.0853, 0.0273, 0.0493, 0.0801, 0.0395, 0.1085, 0.1248]
# Stata xtdpdsys n L(0/2).(w k) yr1980-yr1984 year, vce(robust)
SYS_NAMES = [
    "L1.n", "w", "wL1", "wL2", "k", "kL1", "kL2",
    "yr1980", "yr1981", "yr1982", "yr1983", "yr1984", "year", "const",
]  # fmt: skip
SYS_COEF = [
    .8221535, -.5427935, .3703602, -.0726314, .3638069, -.1222996, -.0901355,
    -.0308622, -.0718417, -.0384806, -.0121768, -.0050903, .0058631, -10.59198,
]  # fmt: skip
SYS_SE = [
    .093387, .1881721, .1656364, .0907148, .0657524, .0701521, .0344142,
    .016946, .0293223, .0373631, .0498519, .0655011, .0119867, 23.92087,
]  # fmt: skip

RTOL = 1e-4
ATOL7 = 6e-8  # Stata prints 7 decimals


def _close(actual: pd.Series, expected: list[float], names: list[str], atol: float) -> None:
    np.testing.assert_allclose(actual[names].to_numpy(), expected, rtol=RTOL, atol=atol)


@pytest.fixture(scope="module")
def abdata(reference_dir: Path) -> pd.DataFrame:
    df = pd.read_csv(reference_dir / "abdata.csv")
    df["year"] = df["year"].astype(int)
    df = df.sort_values(["id", "year"]).reset_index(drop=True)
    lag2 = df.groupby("id")["w"].shift(2)
    same = df.groupby("id")["year"].shift(2) == df["year"] - 2
    df["wL2"] = lag2.where(same)
    return df


@pytest.fixture(scope="module")
def ab_model(abdata: pd.DataFrame) -> DynamicPanelGMM:
    return DynamicPanelGMM(abdata, "n", 2, exog=AB_EXOG, entity="id", time="year", constant=False)


def _fit(model: DynamicPanelGMM, **kw):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (MissingValuesWarning, UnbalancedPanelWarning))
        return model.fit(**kw)


def test_xtabond_example1_one_step(ab_model: DynamicPanelGMM) -> None:
    res = _fit(ab_model, steps=1, cov_type="unadjusted")
    assert (res.nobs, res.n_groups, res.n_instruments) == (611, 140, 41)
    assert res.obs_per_group[0] == 4 and res.obs_per_group[2] == 6
    assert res.obs_per_group[1] == pytest.approx(4.364286, abs=1e-6)
    assert list(res.params.index) == AB_NAMES
    _close(res.params, EX1_COEF, AB_NAMES, ATOL7)
    _close(res.std_errors, EX1_SE, AB_NAMES, ATOL7)
    sargan = res.sargan_test(dof_correction=True)  # estat sargan divides by n - k
    assert sargan.df == 25
    assert sargan.stat == pytest.approx(65.81806, abs=1e-4)
    assert res.ar1.stat == pytest.approx(-3.9394, abs=1e-4)
    assert res.ar2.stat == pytest.approx(-0.54239, abs=1e-5)


def test_xtabond_example2_one_step_robust(ab_model: DynamicPanelGMM) -> None:
    res = _fit(ab_model, steps=1, cov_type="robust")
    _close(res.params, EX1_COEF, AB_NAMES, ATOL7)
    _close(res.std_errors, EX2_SE, AB_NAMES, ATOL7)
    assert res.ar1.stat == pytest.approx(-3.5996, abs=1e-4)
    assert res.ar2.stat == pytest.approx(-0.51603, abs=1e-5)


def test_xtabond_example4_two_step_windmeijer(ab_model: DynamicPanelGMM) -> None:
    res = _fit(ab_model, steps=2, cov_type="robust")
    _close(res.params, EX4_COEF, AB_NAMES, ATOL7)
    _close(res.std_errors, EX4_SE, AB_NAMES, ATOL7)
    assert res.ar1.stat == pytest.approx(-2.1255, abs=1e-4)
    assert res.ar2.stat == pytest.approx(-0.35166, abs=1e-5)
    assert res.hansen.df == 25


def test_arellano_bond_table4_column_b_two_step(abdata: pd.DataFrame) -> None:
    years = [f"yr{y}" for y in range(1979, 1985)]
    model = DynamicPanelGMM(
        abdata, "n", 2, exog=["w", "wL1", "k", "ys", "ysL1", *years],
        entity="id", time="year", constant=False,
    )  # fmt: skip
    res = _fit(model, steps=2, cov_type="unadjusted")
    assert (res.nobs, res.n_instruments) == (611, 38)
    _close(res.params, COLB_COEF, COLB_NAMES, 5e-5)
    _close(res.std_errors, COLB_SE, COLB_NAMES, 5e-5)
    # plm labels the two-step J statistic "Sargan"
    assert res.hansen.stat == pytest.approx(30.11, abs=5e-3)
    assert res.ar1.stat == pytest.approx(-2.428, abs=5e-4)
    assert res.ar2.stat == pytest.approx(-0.3325, abs=5e-5)


def test_xtdpdsys_system_one_step_robust(abdata: pd.DataFrame) -> None:
    exog = [n for n in SYS_NAMES if n not in ("L1.n", "const")]
    model = DynamicPanelGMM(abdata, "n", 1, exog=exog, entity="id", time="year", method="system")
    # xtdpdsys weights the one-step system without cross terms: xtabond2's h(2)
    res = _fit(model, steps=1, cov_type="robust", h=2)
    assert (res.nobs, res.n_groups, res.n_instruments) == (751, 140, 47)
    assert res.obs_per_group[1] == pytest.approx(5.364, abs=5e-4)
    _close(res.params, SYS_COEF, SYS_NAMES, 6e-6)
    _close(res.std_errors, SYS_SE, SYS_NAMES, 6e-6)
    ar = [res.ar_test(k).stat for k in (1, 2, 3, 4)]
    np.testing.assert_allclose(ar, [-4.6414, -1.0572, -0.19492, 0.04472], atol=1e-4)


def test_instrument_counts_collapse_and_cap(abdata: pd.DataFrame) -> None:
    kw = dict(exog=AB_EXOG, entity="id", time="year", constant=False)
    collapsed = _fit(DynamicPanelGMM(abdata, "n", 2, collapse=True, **kw))  # type: ignore[arg-type]
    # lags 2..8 of n (1984 back to 1976), one column each, plus 14 iv-style columns
    assert collapsed.n_instruments == 7 + 14
    capped = _fit(DynamicPanelGMM(abdata, "n", 2, max_instrument_lag=3, **kw))  # type: ignore[arg-type]
    # lags 2 and 3 for each of 1979..1984, plus 14 iv-style columns
    assert capped.n_instruments == 12 + 14


def test_multiindex_input_matches_columns(abdata: pd.DataFrame) -> None:
    sub = abdata[["id", "year", "n", "w", "k"]]
    a = _fit(DynamicPanelGMM(sub, "n", 1, exog=["w", "k"], entity="id", time="year"))
    b = _fit(DynamicPanelGMM(sub.set_index(["id", "year"]), "n", 1, exog=["w", "k"]))
    pd.testing.assert_series_equal(a.params, b.params)


# --- simulated data -----------------------------------------------------------------------


def simulate(
    rng: np.random.Generator,
    n: int,
    t: int,
    alpha: float,
    beta: float,
    sigma_mu: float = 1.0,
    endogenous: bool = False,
) -> pd.DataFrame:
    """y_it = alpha y_i,t-1 + beta x_it + mu_i + e_it, started near its stationary mean."""
    mu = sigma_mu * rng.normal(size=n)
    e = rng.normal(size=(n, t))
    x = 0.5 * mu[:, None] + rng.normal(size=(n, t))
    if endogenous:
        x = x + 0.6 * e
    y = np.empty((n, t))
    x_mean = 0.5 * mu
    prev = (mu + beta * x_mean) / (1 - alpha) + rng.normal(size=n) / np.sqrt(1 - alpha**2)
    for s in range(t):
        prev = alpha * prev + beta * x[:, s] + mu + e[:, s]
        y[:, s] = prev
    return pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n), t),
            "period": np.tile(np.arange(2000, 2000 + t), n),
            "y": y.ravel(),
            "x": x.ravel(),
        }
    )


def test_recovery_monte_carlo_and_ols_bias() -> None:
    rng = np.random.default_rng(20240611)
    alpha, beta, reps = 0.5, 1.0, 40
    covered = 0
    ols = []
    for _ in range(reps):
        df = simulate(rng, n=150, t=7, alpha=alpha, beta=beta)
        res = DynamicPanelGMM(df, "y", 1, exog="x", entity="unit", time="period").fit(
            steps=2, cov_type="robust"
        )
        ci = res.conf_int().loc["L1.y"]
        covered += int(ci["lower"] <= alpha <= ci["upper"])
        # pooled OLS with the lag: biased upward by the entity effect
        d = df.sort_values(["unit", "period"]).copy()
        d["ylag"] = d.groupby("unit")["y"].shift(1)
        d = d.dropna()
        xm = np.column_stack([np.ones(len(d)), d["ylag"], d["x"]])
        ols.append(np.linalg.lstsq(xm, d["y"].to_numpy(), rcond=None)[0][1])
    assert covered >= 32, f"95% CI covered alpha in only {covered}/{reps} replications"
    assert np.mean(ols) > alpha + 0.15


def test_system_beats_difference_when_persistent() -> None:
    rng = np.random.default_rng(7)
    alpha = 0.8
    diff_est, sys_est = [], []
    for _ in range(8):
        df = simulate(rng, n=300, t=6, alpha=alpha, beta=1.0, sigma_mu=1.5)
        kw = dict(exog="x", entity="unit", time="period")
        diff_est.append(
            DynamicPanelGMM(df, "y", 1, **kw).fit(steps=2).params["L1.y"]  # type: ignore[arg-type]
        )
        sys_est.append(
            DynamicPanelGMM(df, "y", 1, method="system", **kw)  # type: ignore[arg-type]
            .fit(steps=2)
            .params["L1.y"]
        )
    assert abs(np.mean(sys_est) - alpha) < 0.05
    assert np.mean(np.abs(np.array(sys_est) - alpha)) < np.mean(np.abs(np.array(diff_est) - alpha))


def test_endogenous_regressor_recovered() -> None:
    rng = np.random.default_rng(3)
    df = simulate(rng, n=1500, t=7, alpha=0.5, beta=1.0, endogenous=True)
    kw = dict(entity="unit", time="period")
    good = DynamicPanelGMM(df, "y", 1, endogenous="x", **kw).fit(steps=2)  # type: ignore[arg-type]
    naive = DynamicPanelGMM(df, "y", 1, exog="x", **kw).fit(steps=2)  # type: ignore[arg-type]
    assert abs(good.params["x"] - 1.0) < 3 * good.std_errors["x"]
    assert abs(naive.params["x"] - 1.0) > abs(good.params["x"] - 1.0)
    pre = DynamicPanelGMM(df, "y", 1, predetermined="x", **kw)  # type: ignore[arg-type]
    # predetermined adds lag-1 instruments: one more GMM lag per period than endogenous
    assert pre.fit().n_instruments > good.n_instruments


def test_gap_lags_taken_by_actual_time() -> None:
    rng = np.random.default_rng(1)
    df = simulate(rng, n=30, t=6, alpha=0.5, beta=1.0)
    full = DynamicPanelGMM(df, "y", 1, exog="x", entity="unit", time="period").fit()
    gap = df[~((df["unit"] == 0) & (df["period"] == 2002))]
    with pytest.warns(UnbalancedPanelWarning):
        res = DynamicPanelGMM(gap, "y", 1, exog="x", entity="unit", time="period").fit()
    # unit 0 keeps 2000-01 and 2003-05: differenced equations need t, t-1, t-2, so
    # 2002, 2003 and 2004 are lost and only 2005 remains (1 instead of 4)
    assert full.nobs == 30 * 4
    assert res.nobs == 29 * 4 + 1


def test_missing_values_warned_and_counted() -> None:
    rng = np.random.default_rng(2)
    df = simulate(rng, n=30, t=6, alpha=0.5, beta=1.0)
    df.loc[[3, 10], "x"] = np.nan
    with pytest.warns(MissingValuesWarning, match="2 row"):
        DynamicPanelGMM(df, "y", 1, exog="x", entity="unit", time="period").fit()


def test_input_errors() -> None:
    rng = np.random.default_rng(4)
    df = simulate(rng, n=20, t=6, alpha=0.5, beta=1.0)
    with pytest.raises(PanelDataError, match="duplicate"):
        DynamicPanelGMM(pd.concat([df, df.iloc[:1]]), "y", 1, exog="x",
                        entity="unit", time="period")  # fmt: skip
    bad = df.assign(x=df["x"].astype(str))
    with pytest.raises(PanelDataError, match="'x'"):
        DynamicPanelGMM(bad, "y", 1, exog="x", entity="unit", time="period")
    trend = df.assign(trend=df["period"].astype(float))
    with pytest.raises(CollinearityError, match="const"):
        DynamicPanelGMM(trend, "y", 1, exog=["x", "trend"], entity="unit", time="period").fit()
    with pytest.raises(CalibrationError):
        DynamicPanelGMM(df, "y", 0, exog="x", entity="unit", time="period")
    with pytest.raises(CalibrationError):
        DynamicPanelGMM(df, "y", 1, exog="x", entity="unit", time="period").fit(steps=3)  # type: ignore[arg-type]
    with pytest.raises(PanelDataError):
        DynamicPanelGMM(df, "y", 1, exog="x")


def test_display() -> None:
    rng = np.random.default_rng(5)
    df = simulate(rng, n=40, t=6, alpha=0.5, beta=1.0)
    res = DynamicPanelGMM(df, "y", 1, exog="x", entity="unit", time="period").fit(steps=2)
    text = str(res)
    assert "two-step" in text and "Hansen J" in text and "L1.y" in text
    assert "<table>" in res._repr_html_()


# --- read-only options, boolean regressors, AR test orders -----------------------------


def test_gmm_options_are_read_only_and_results_capture_them(shocked):
    model = DynamicPanelGMM(shocked, "y", 1, entity="county", time="year", method="system")
    res = quiet(lambda: model.fit(steps=2))
    for name in ("method", "collapse", "lags", "exog", "constant", "max_instrument_lag"):
        with pytest.raises(AttributeError):
            setattr(model, name, None)
    model.exog.append("y")  # a copy: the model does not change
    assert model.exog == []
    assert res.method == "system"
    opts = res.provenance_options
    assert opts["method"] == "system" and opts["steps"] == 2 and opts["lags"] == 1
    assert opts["collapse"] is False
    res.options["method"] = "difference"
    assert res.method == "system" and res.options["method"] == "system"


@pytest.mark.parametrize("order", [0, 1.5, True, "2"])
def test_ar_test_needs_a_positive_integer(shocked, order):
    res = quiet(lambda: DynamicPanelGMM(shocked, "y", 1, entity="county", time="year").fit())
    with pytest.raises(CalibrationError, match="positive integer"):
        res.ar_test(order)


def test_gmm_accepts_booleans_as_numbers_like_the_other_estimators(shocked):
    d = shocked.assign(up=(shocked["y"].shift(1) > 0).fillna(False))
    as_bool = quiet(
        lambda: DynamicPanelGMM(d, "y", 1, exog="up", entity="county", time="year").fit()
    )
    as_float = quiet(
        lambda: DynamicPanelGMM(
            d.assign(up=d["up"].astype(float)), "y", 1, exog="up", entity="county", time="year"
        ).fit()
    )
    pd.testing.assert_series_equal(as_bool.params, as_float.params)


# --- too few entities, too many instruments, singular weights (issue 12) -----------------


def _one_series(n: int, t: int, seed: int = 0) -> pd.DataFrame:
    return simulate(np.random.default_rng(seed), n=n, t=t, alpha=0.5, beta=1.0)


def test_one_entity_raises_before_computing() -> None:
    # before: L1.y came back with a standard error of ~1e8 and Hansen p = 1, silently
    df = _one_series(1, 10)
    model = DynamicPanelGMM(df, "y", 1, entity="unit", time="period")
    for kw in ({"steps": 1, "cov_type": "unadjusted"}, {"steps": 2}):
        with pytest.raises(TooFewEntitiesError, match=r"at least 2 entities.*found 1"):
            model.fit(**kw)


@pytest.mark.parametrize("kw", [{"steps": 1, "cov_type": "robust"}, {"steps": 2}])
def test_robust_or_two_step_need_more_entities_than_parameters(kw) -> None:
    df = _one_series(3, 10)
    model = DynamicPanelGMM(df, "y", 1, exog="x", entity="unit", time="period", collapse=True)
    with pytest.raises(TooFewEntitiesError, match="3 entities for 3 parameters"):
        model.fit(**kw)
    # the homoskedastic one-step estimate does not sum over entities
    with pytest.warns(TooManyInstrumentsWarning, match="already collapsed"):
        res = model.fit(steps=1, cov_type="unadjusted")
    assert np.isfinite(res.std_errors).all()


def test_more_instruments_than_groups_warns_with_both_counts() -> None:
    # before: 15 entities and 57 instruments gave Hansen p = 1.000 without a word
    df = _one_series(15, 12)
    model = DynamicPanelGMM(df, "y", 1, exog="x", entity="unit", time="period")
    with pytest.warns(TooManyInstrumentsWarning, match=r"57 instruments for 15 groups.*collapse"):
        res = model.fit(steps=2)
    assert res.n_instruments == 57 and res.n_groups == 15
    assert "Warning: 57 instruments exceed 15 groups" in str(res)  # and the summary says so
    collapsed = DynamicPanelGMM(df, "y", 1, exog="x", entity="unit", time="period", collapse=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TooManyInstrumentsWarning)
        collapsed.fit(steps=2)
    with pytest.warns(TooManyInstrumentsWarning):  # every fit says so, not only the first
        model.fit(steps=1)


def test_singular_one_step_weight_matrix_raises() -> None:
    # the instruments of e = 2y duplicate those of y: Z'HZ is singular
    df = _one_series(60, 7).assign(e=lambda d: 2.0 * d["y"])
    model = DynamicPanelGMM(df, "y", 1, endogenous="e", entity="unit", time="period")
    with pytest.raises(SingularWeightMatrixError, match=r"one-step weight matrix.*rank"):
        model.fit()


def test_singular_two_step_weight_matrix_raises() -> None:
    # two regressors that move in one entity only: their moments span one direction
    df = _one_series(60, 7)
    rng = np.random.default_rng(1)
    for c in ("a", "b"):
        df[c] = np.where(df["unit"] == 0, rng.normal(size=len(df)), 0.0)
    model = DynamicPanelGMM(df, "y", 1, exog=["x", "a", "b"], entity="unit", time="period")
    assert np.isfinite(model.fit(steps=1).params).all()
    with pytest.raises(SingularWeightMatrixError, match="two-step weight matrix"):
        model.fit(steps=2)


# --- input checks (issue 12) ----------------------------------------------------------------


@pytest.mark.parametrize("column", ["x", "y"])
def test_infinite_value_raises_naming_column_and_value(column: str) -> None:
    # before: an infinite value was dropped from the equations like a missing one, silently
    df = _one_series(30, 6)
    df.loc[7, column] = -np.inf
    with pytest.raises(PanelDataError, match=rf"'{column}' has 1 infinite.*-inf") as err:
        DynamicPanelGMM(df, "y", 1, exog="x", entity="unit", time="period")
    assert err.value.column == column and err.value.value == -np.inf


def test_biennial_years_lag_by_the_time_step() -> None:
    # before: "no usable observations" without saying why
    df = _one_series(50, 8)
    biennial = df.assign(period=2000 + 2 * (df["period"] - 2000))
    annual = DynamicPanelGMM(df, "y", 1, exog="x", entity="unit", time="period").fit(steps=2)
    every_two = DynamicPanelGMM(biennial, "y", 1, exog="x", entity="unit", time="period")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnbalancedPanelWarning)  # no gaps at a step of 2
        res = every_two.fit(steps=2)
    pd.testing.assert_series_equal(res.params, annual.params)
    pd.testing.assert_series_equal(res.std_errors, annual.std_errors)
    assert res.ar2.stat == pytest.approx(annual.ar2.stat)
    assert sorted(set(res.resids.index.get_level_values("time"))) == list(range(2004, 2016, 2))


def test_no_usable_observations_names_the_time_step() -> None:
    df = _one_series(20, 3)
    df["period"] = 2000 + 3 * (df["period"] - 2000)
    with pytest.raises(CalibrationError, match="one time step of 3 in 'period'"):
        DynamicPanelGMM(df, "y", 2, exog="x", entity="unit", time="period").fit()


@pytest.mark.parametrize("other", ["s", (1,)], ids=["text", "tuple"])
def test_mixed_kind_entity_ids_refused_at_construction(other: object) -> None:
    # before: results indexed by such ids failed later with a raw TypeError, or mixed 1 and "1"
    df = _one_series(20, 6)
    df["unit"] = [other if u == 3 else u for u in df["unit"]]
    with pytest.raises(PanelDataError, match="'unit' mixes kinds of values") as err:
        DynamicPanelGMM(df, "y", 1, exog="x", entity="unit", time="period")
    assert err.value.column == "unit"


# --- sparse instruments: the products equal the dense formulas -------------------------


@pytest.mark.parametrize("method", ["difference", "system"])
@pytest.mark.parametrize("h", [1, 2, 3])
def test_sparse_products_equal_the_dense_formulas(simulated_panel, method, h):
    import scipy.sparse as sp

    from talentplan.calibrate.dynamic.gmm import GMMCore
    from talentplan.calibrate.dynamic.instruments import h_matrix

    model = DynamicPanelGMM(
        simulated_panel, "log_stock", 1, exog=["centre", "wage"], entity="county",
        time="year", method=method, gmm={"log_stock": (2, 4)}, iv={"wage": "both"},
    )  # fmt: skip
    s = model._system
    assert sp.issparse(s.z) and s.z.nnz < 0.5 * np.prod(s.z.shape)
    core = GMMCore(s, h)
    z, x, group, n = s.z.toarray(), s.x, s.group, s.n_entities
    hd = h_matrix(s, h).toarray()
    np.testing.assert_allclose(core.zhz, z.T @ hd @ z, rtol=1e-12, atol=1e-9)
    zu1 = np.zeros((n, z.shape[1]))
    np.add.at(zu1, group, z * core.u1[:, None])
    np.testing.assert_allclose(core.zu1, zu1, rtol=1e-12, atol=1e-12)
    # Windmeijer's correction from the per-entity blocks Z_i'X_i, built densely here
    zx_ent = np.zeros((n, z.shape[1], x.shape[1]))
    np.add.at(zx_ent, group, z[:, :, None] * x[:, None, :])
    g = core.w2 @ (z.T @ core.u2)
    c = zu1 @ g
    dom_g = np.einsum("nlk,n->lk", zx_ent, c) + zu1.T @ np.einsum("nlk,l->nk", zx_ent, g)
    v2 = core.v2_unadjusted
    d = v2 @ core.zx.T @ core.w2 @ dom_g
    dense = v2 + d @ v2 + v2 @ d.T + d @ core.v1_robust @ d.T
    np.testing.assert_allclose(core.v2_windmeijer, dense, rtol=1e-10)
