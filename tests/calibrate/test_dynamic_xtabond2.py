"""Dynamic panel GMM in xtabond2's vocabulary, against xtabond2 and pydynpd output on abdata.

References (abdata, the Arellano and Bond (1991) UK company panel of
``tests/data/reference/abdata.csv``; Roodman (2009), "How to do xtabond2", Stata
Journal 9(1), 86-136, defines the options; the numbers below are not from that paper,
whose printed output was not at hand):

* XTABOND2_DIFF: the xtabond2 log printed in the pydynpd repository
  (github.com/dazhwu/pydynpd, ``Benchmark/test_1.md``, section "xtabond2", commit
  36fcc4e) for ``xtabond2 n L(1/2).n w k, gmm(n, lag(2 4)) gmm(w, lag(1 3)) iv(k)
  nolevel twostep robust``: two-step difference GMM with per-variable lag ranges;
  611 observations, 140 groups, 36 instruments; Sargan chi2(32) = 91.61, Hansen
  chi2(32) = 47.86, AR(1) z = -1.19, AR(2) z = -0.81.
* XTABOND2_SYS: xtabond2 output quoted in a forum thread (m.pinggu.org,
  bbs/thread-877779-1-1.html) for ``xtabond2 n l(1/2).n l(0/1).w l(0/2).(k ys)
  yr1980-yr1984, gmm(l.n w k) iv(yr1980-yr1984) robust twostep small``: two-step
  system GMM with xtabond2's default h(3), lags from 2 for ``n`` and from 1 for ``w``
  and ``k``, small-sample t and F; 751 observations, 140 groups, 120 instruments,
  F(15, 139) = 1128.31. Its standard errors match ours to 1.5e-5 relative, its
  coefficients to 7 decimals.
* PYDYNPD_SYS: pydynpd 0.2.2 (pip, with numpy 1.26.4 and pandas 2.2.3),
  ``regression.abond('n L(1:2).n w k | gmm(n, 2:4) gmm(w, 1:3) iv(k)', df, ['id',
  'year'])`` on this abdata.csv: two-step system GMM with per-variable lag ranges
  (its default, which weights the one-step system as xtabond2's h(3)); the same
  coefficients, standard errors and Hansen statistic are printed in the pydynpd
  README and ``Benchmark/test_2.md`` to 7 decimals.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from talentplan.calibrate.dynamic.instruments import GMMStyle, IVStyle
from talentplan.calibrate.dynamic.model import DynamicPanelGMM
from talentplan.calibrate.dynamic.results import DynamicPanelGMMResults
from talentplan.errors import (
    CalibrationError,
    MissingValuesWarning,
    PanelDataError,
    UnbalancedPanelWarning,
)

YEARS = [f"yr{y}" for y in range(1980, 1985)]

# xtabond2 n L(1/2).n w k, gmm(n, lag(2 4)) gmm(w, lag(1 3)) iv(k) nolevel twostep robust
DIFF_NAMES = ["L1.n", "L2.n", "w", "k"]
DIFF_COEF = [.1700616, -.0113381, -.9510582, .4637223]  # fmt: skip
DIFF_SE = [.1046652, .0377205, .1277298, .0718328]  # fmt: skip

# xtabond2 n l(1/2).n l(0/1).w l(0/2).(k ys) yr1980-yr1984, gmm(l.n w k)
#   iv(yr1980-yr1984) robust twostep small
SYS_EXOG = ["w", "wL1", "k", "kL1", "kL2", "ys", "ysL1", "ysL2", *YEARS]
SYS_NAMES = ["L1.n", "L2.n", *SYS_EXOG, "const"]
SYS_COEF = [
    .9847708, -.0444599, -.5015799, .4045313, .3234514, -.1550519, -.1195921,
    .6120864, -.4190762, -.2492855, .0256293, .0157888, .0136977, .0078038,
    -.0194111, .6392791,
]  # fmt: skip
SYS_SE = [
    .0591053, .0532234, .2033974, .1670457, .0525199, .0667629, .041634,
    .2343692, .3208354, .2154591, .0170605, .0339909, .0330476, .0345048,
    .0331093, 1.000564,
]  # fmt: skip

# pydynpd 0.2.2: 'n L(1:2).n w k | gmm(n, 2:4) gmm(w, 1:3) iv(k)' (system, two-step)
PYD_NAMES = ["L1.n", "L2.n", "w", "k", "const"]
PYD_COEF = [0.9453809991, -0.0860069389, -0.4477795496, 0.1235807780, 1.5630848662]
PYD_SE = [0.1429764037, 0.1082317572, 0.1521917323, 0.0508836316, 0.4993483870]
PYD_HANSEN = 96.44208285029333
PYD_AR = [-2.353630827731838, -1.1471090674530344]


@pytest.fixture(scope="module")
def abdata(reference_dir: Path) -> pd.DataFrame:
    df = pd.read_csv(reference_dir / "abdata.csv")
    df["year"] = df["year"].astype(int)
    return df


def _fit(model: DynamicPanelGMM, **kw: object) -> DynamicPanelGMMResults:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (MissingValuesWarning, UnbalancedPanelWarning))
        return model.fit(**kw)  # type: ignore[arg-type]


def _pydynpd_model(abdata: pd.DataFrame) -> DynamicPanelGMM:
    return DynamicPanelGMM(
        abdata, "n", 2, exog=["w", "k"], entity="id", time="year", method="system",
        gmm={"n": (2, 4), "w": (1, 3)}, iv={"k": "both"},
    )  # fmt: skip


def test_xtabond2_difference_gmm_with_per_variable_lags(abdata: pd.DataFrame) -> None:
    model = DynamicPanelGMM(
        abdata, "n", 2, exog=["w", "k"], entity="id", time="year", constant=False,
        gmm={"n": (2, 4), "w": (1, 3)}, iv=["k"],
    )  # fmt: skip
    res = _fit(model, steps=2)
    assert (res.nobs, res.n_groups, res.n_instruments) == (611, 140, 36)
    np.testing.assert_allclose(res.params[DIFF_NAMES], DIFF_COEF, rtol=0, atol=6e-8)
    np.testing.assert_allclose(res.std_errors[DIFF_NAMES], DIFF_SE, rtol=0, atol=6e-8)
    # xtabond2's Sargan divides the error variance by n, not n - k (91.02 with n - k)
    assert (res.sargan.df, round(res.sargan.stat, 2)) == (32, 91.61)
    assert res.sargan_test(dof_correction=True).stat < 91.1
    assert (res.hansen.df, round(res.hansen.stat, 2)) == (32, 47.86)
    assert (round(res.ar1.stat, 2), round(res.ar2.stat, 2)) == (-1.19, -0.81)
    # the difference GMM of xtabond2 has no level block: h(2) and h(3) coincide
    np.testing.assert_allclose(_fit(model, steps=2, h=2).params, res.params, rtol=1e-12)


def test_xtabond2_system_two_step_small(abdata: pd.DataFrame) -> None:
    model = DynamicPanelGMM(
        abdata, "n", 2, exog=SYS_EXOG, entity="id", time="year", method="system",
        gmm={"n": (2, None), "w": (1, None), "k": (1, None)}, iv=YEARS,
    )  # fmt: skip
    res = _fit(model, steps=2, small=True)
    assert (res.nobs, res.n_groups, res.n_instruments) == (751, 140, 120)
    assert list(res.params.index) == SYS_NAMES
    np.testing.assert_allclose(res.params, SYS_COEF, rtol=0, atol=6e-8)
    np.testing.assert_allclose(res.std_errors, SYS_SE, rtol=5e-5)
    assert res.df_resid == 139
    assert res.tstats["L1.n"] == pytest.approx(16.66, abs=5e-3)
    assert res.wald.name == "F(15, 139)"
    assert res.wald.stat == pytest.approx(1128.31, rel=5e-5)
    lo, hi = res.conf_int().loc["L1.n"]
    assert (lo, hi) == (pytest.approx(0.8679092, abs=5e-6), pytest.approx(1.101632, abs=5e-6))
    # without small: the same estimates, normal inference, unscaled covariance
    big = _fit(model, steps=2)
    np.testing.assert_allclose(big.params, res.params, rtol=1e-12)
    ratio = (res.std_errors / big.std_errors).to_numpy()
    np.testing.assert_allclose(ratio, np.sqrt(750 / 735 * 140 / 139), rtol=1e-12)
    assert big.df_resid is None and big.wald.name == "Wald chi2"


def test_pydynpd_system_two_step_with_per_variable_lags(abdata: pd.DataFrame) -> None:
    res = _fit(_pydynpd_model(abdata), steps=2)
    assert (res.nobs, res.n_instruments) == (751, 51)
    assert list(res.params.index) == PYD_NAMES
    np.testing.assert_allclose(res.params, PYD_COEF, rtol=0, atol=1e-8)
    np.testing.assert_allclose(res.std_errors, PYD_SE, rtol=0, atol=1e-8)
    assert res.hansen.stat == pytest.approx(PYD_HANSEN, rel=1e-8)
    np.testing.assert_allclose([res.ar1.stat, res.ar2.stat], PYD_AR, rtol=1e-8)


def test_h_chooses_the_one_step_weighting(abdata: pd.DataFrame) -> None:
    model = _pydynpd_model(abdata)
    by_h = {h: _fit(model, steps=2, h=h) for h in (1, 2, 3)}
    assert [r.h for r in by_h.values()] == [1, 2, 3]
    # DPD's h(2) leaves out the cross terms: its one-step residuals, and so the
    # two-step estimates, move L1.n by about 0.3 here
    assert abs(by_h[2].params["L1.n"] - PYD_COEF[0]) > 0.1
    assert abs(by_h[1].params["L1.n"] - by_h[2].params["L1.n"]) > 1e-3
    # the default is h=3
    np.testing.assert_allclose(_fit(model, steps=2).params, by_h[3].params, rtol=1e-12)
    assert "h = 3" in str(by_h[3])
    for bad in (0, 4, True, 2.0, "3"):
        with pytest.raises(CalibrationError, match="h"):
            model.fit(h=bad)  # type: ignore[arg-type]
    with pytest.raises(CalibrationError, match="small"):
        model.fit(small="yes")  # type: ignore[arg-type]


def test_specs_spelling_the_defaults_give_the_default_fit(abdata: pd.DataFrame) -> None:
    exog = ["w", "wL1", "k", "ys"]
    kw = dict(entity="id", time="year", method="system")
    default = _fit(DynamicPanelGMM(abdata, "n", 1, exog=exog, **kw))  # type: ignore[arg-type]
    spelled = _fit(
        DynamicPanelGMM(
            abdata, "n", 1, exog=exog, gmm=[GMMStyle("n", 2)],
            iv=[IVStyle(c, "diff") for c in exog], **kw,  # type: ignore[arg-type]
        )
    )  # fmt: skip
    assert spelled.instruments == default.instruments
    np.testing.assert_allclose(spelled.params, default.params, rtol=1e-12)
    capped = DynamicPanelGMM(abdata, "n", 1, exog=exog, max_instrument_lag=3, **kw)  # type: ignore[arg-type]
    assert capped.gmm == [GMMStyle("n", 2, 3)]
    assert capped.iv == [IVStyle(c, "diff") for c in exog]


def test_per_variable_collapse_lags_and_equations(abdata: pd.DataFrame) -> None:
    kw = dict(exog=["w", "k"], entity="id", time="year", method="system")
    res = _fit(
        DynamicPanelGMM(abdata, "n", 1, gmm={"n": (2, 3, "collapse"), "w": (1, 2)},  # type: ignore[arg-type]
                        iv={"k": "level"}, **kw)
    )  # fmt: skip
    names = res.instruments
    assert [z for z in names if z.startswith("n:")] == ["n:L2", "n:L3"]
    assert [z for z in names if z.startswith("D.n:")] == ["D.n:L1"]
    w_lags = {z.split("@")[0] for z in names if z.startswith("w:")}
    assert w_lags == {"w:L1", "w:L2"}
    assert any(z.startswith("D.w:L0@") for z in names)
    assert "k" in names and "D.k" not in names and "const" in names
    # equation choice: one column for both equations, or one equation only
    both = _fit(DynamicPanelGMM(abdata, "n", 1, gmm={"n": (2, 3)}, iv={"k": "both"}, **kw))  # type: ignore[arg-type]
    diff = _fit(
        DynamicPanelGMM(abdata, "n", 1, gmm=[GMMStyle("n", 2, 3, equation="diff")],  # type: ignore[arg-type]
                        iv={"k": "diff"}, **kw)
    )  # fmt: skip
    assert "k[both]" in both.instruments and "D.k" in diff.instruments
    assert not any(z.startswith("D.n:") for z in diff.instruments)
    assert both.n_instruments == diff.n_instruments + 7  # D.n:L1 in 1978..1984
    # a collapsed model with global collapse=True equals per-variable collapse
    per_var = DynamicPanelGMM(abdata, "n", 1, gmm={"n": (2, 3, "collapse")}, **kw)  # type: ignore[arg-type]
    global_ = DynamicPanelGMM(abdata, "n", 1, gmm={"n": (2, 3)}, collapse=True, **kw)  # type: ignore[arg-type]
    assert per_var.gmm == global_.gmm


def test_instrument_only_variables_need_not_be_regressors(abdata: pd.DataFrame) -> None:
    model = DynamicPanelGMM(abdata, "n", 1, exog=["w"], entity="id", time="year",
                            gmm={"n": (2, 3), "k": (2, 3)}, iv={"ys": "diff"})  # fmt: skip
    res = _fit(model)
    assert list(res.params.index) == ["L1.n", "w", "const"]
    assert any(z.startswith("k:L2@") for z in res.instruments) and "D.ys" in res.instruments
    with pytest.raises(PanelDataError, match="nope"):
        DynamicPanelGMM(abdata, "n", 1, entity="id", time="year", gmm={"nope": (2, 3)})


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"gmm": {"n": (0, 3)}}, "lo must be an integer >= 1"),
        ({"gmm": {"n": (3, 2)}}, "hi must be None"),
        ({"gmm": {"n": (2.0, 3)}}, "lo must be"),
        ({"gmm": {"n": (2, 3, "collapsed")}}, "only be 'collapse'"),
        ({"gmm": {"n": 2}}, r"must be \(lo, hi\)"),
        ({"gmm": {"n": GMMStyle("w", 2)}}, "names variable 'w'"),
        ({"gmm": ["n"]}, "GMMStyle specs"),
        ({"gmm": "n"}, "mapping"),
        ({"gmm": {}}, "empty"),
        ({"gmm": [GMMStyle("n", 2, equation="levels")]}, "equation"),  # type: ignore[arg-type]
        ({"gmm": {"n": (2, 3)}, "max_instrument_lag": 3}, "max_instrument_lag"),
        ({"iv": {"k": "lvl"}}, "iv"),
        ({"iv": [3]}, "iv"),
        ({"iv": "k"}, "mapping"),
        ({"iv": {"k": "level"}, "method": "difference"}, "level equation"),
        ({"gmm": [GMMStyle("n", 2, equation="level")]}, "level equation"),
    ],
)
def test_bad_instrument_specs_raise_named_errors(
    abdata: pd.DataFrame, kw: dict[str, object], match: str
) -> None:
    with pytest.raises(CalibrationError, match=match):
        DynamicPanelGMM(abdata, "n", 1, exog=["k"], entity="id", time="year", **kw)  # type: ignore[arg-type]


def test_summary_says_when_its_own_tests_reject(abdata: pd.DataFrame) -> None:
    rejected = _fit(_pydynpd_model(abdata), steps=2)
    assert rejected.hansen.pvalue < 0.05
    text = str(rejected)
    assert "Warning: Hansen test rejects" in text and "Instruments: 51" in text
    assert len(rejected.warnings) == 1
    # collapsed, shorter lags: the Hansen test passes and no warning is printed
    passing = _fit(
        DynamicPanelGMM(
            abdata, "n", 1, exog=["w", "k"], entity="id", time="year", method="system",
            gmm={"n": (2, 3, "collapse"), "w": (2, 3, "collapse"), "k": (2, 3, "collapse")},
        ),
        steps=2,
    )  # fmt: skip
    assert passing.hansen.pvalue > 0.05 and passing.ar2.pvalue > 0.05
    assert passing.warnings == [] and "Warning" not in str(passing)
