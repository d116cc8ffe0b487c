"""Hausman and Mundlak tests against plm's published Grunfeld output and simulated truth."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from talentplan.calibrate.panel.model import PanelRegression
from talentplan.calibrate.panel.specification_tests import hausman, mundlak
from talentplan.errors import CalibrationError, SpecificationWarning


def fit(data: pd.DataFrame, estimator: str):
    return PanelRegression(
        data, "invest", ["value", "capital"], entity="firm", time="year", estimator=estimator
    ).fit()


def test_hausman_grunfeld_matches_plm(grunfeld: pd.DataFrame) -> None:
    # R plm, tests/test_phtest_Hausman_regression.Rout.save: phtest(fe_grun, re_grun)
    # "chisq = 2.3303669, df = 2, p-value = 0.3118654" (Baltagi 2013, sec. 4.3.1: 2.33).
    fe, re = fit(grunfeld, "fe"), fit(grunfeld, "re")
    h = hausman(fe, re)
    assert h.statistic == pytest.approx(2.3303669, abs=5e-7)
    assert h.df == 2
    assert h.pvalue == pytest.approx(0.3118654, abs=5e-7)
    assert h.names == ("value", "capital") and not h.generalized_inverse
    # linearmodels results are accepted too
    assert hausman(fe.model_result, re.model_result).statistic == pytest.approx(h.statistic)
    assert "Hausman" in str(h)
    with pytest.raises(AttributeError):
        h.statistic = 0.0  # type: ignore[misc]


def test_hausman_generalized_inverse_when_not_positive_definite() -> None:
    names = ["a", "b"]
    fe = SimpleNamespace(
        params=pd.Series([1.0, 2.0], index=names),
        cov=pd.DataFrame([[2.0, 0.0], [0.0, 1.0]], index=names, columns=names),
    )
    re = SimpleNamespace(
        params=pd.Series([0.0, 0.0], index=names),
        cov=pd.DataFrame([[1.0, 0.0], [0.0, 3.0]], index=names, columns=names),
    )
    with pytest.warns(SpecificationWarning, match="generalized inverse"):
        h = hausman(fe, re)
    # only the positive direction (a, variance 1) counts: 1^2 / 1
    assert h.generalized_inverse and h.df == 1 and h.statistic == pytest.approx(1.0)
    with pytest.raises(CalibrationError, match="not in both"):
        hausman(fe, re, names=["c"])


def test_mundlak_grunfeld_equals_regression_based_hausman(grunfeld: pd.DataFrame) -> None:
    # With conventional errors the Mundlak Wald statistic equals the regression-based
    # Hausman test; plm: phtest(inv ~ value + capital, Grunfeld, method = "aux")
    # "chisq = 2.1313662, df = 2, p-value = 0.3444924" (same .Rout.save file).
    m = mundlak(
        grunfeld, "invest", ["value", "capital"], entity="firm", time="year", cov_type="unadjusted"
    )
    assert m.statistic == pytest.approx(2.1313662, abs=5e-7)
    assert m.df == 2 and m.pvalue == pytest.approx(0.3444924, abs=5e-7)
    assert m.names == ("mean(value)", "mean(capital)")
    assert m.fit is not None and "mean(value)" in m.fit.params.index


def simulate(seed: int, correlated: bool, n: int = 200, t: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    idx = pd.MultiIndex.from_product([range(n), range(t)], names=["county", "year"])
    alpha = rng.normal(size=n)
    x = rng.normal(size=(n, t)) + (1.0 * alpha[:, None] if correlated else 0.0)
    hetero = np.exp(0.5 * rng.normal(size=(n, 1)))
    y = 1.0 * x + alpha[:, None] + hetero * rng.normal(size=(n, t))
    return pd.DataFrame({"y": y.ravel(), "x": x.ravel(), "z": rng.normal(size=n * t)}, index=idx)


def test_mundlak_clustered_detects_correlated_effects() -> None:
    bad = mundlak(simulate(3, correlated=True), "y", ["x", "z"], cov_type="clustered")
    assert bad.pvalue < 1e-6
    good = mundlak(simulate(4, correlated=False), "y", ["x", "z"], cov_type="clustered")
    assert good.pvalue > 0.01
    assert "clustered by entity" in good.note


def test_mundlak_skips_time_invariant_regressors() -> None:
    df = simulate(5, correlated=False)
    df["size"] = np.repeat(np.arange(200.0), 6)
    m = mundlak(df, "y", ["x", "size"], cov_type="robust")
    assert m.names == ("mean(x)",)
