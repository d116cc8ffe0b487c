"""Property test: small and degenerate panels never give silent nonsense or raw errors.

Random panels of 1 to 6 entities and 2 to 6 periods, with constant, duplicated and
all-missing columns and identical entities, are fed to every estimator. Each either
raises an error from :mod:`talentplan.errors`, or returns results in which a finite
estimate with a non-finite or astronomically large standard error (more than 1e6 times
the estimate's scale) comes with a talentplan warning. numpy, pandas, scipy or
linearmodels exceptions must never escape.

The regressors are of order one, so the scale of every coefficient and effect is that
of the outcome (drawn at 1e-6, 1 or 1e6), or the estimate itself when larger.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from talentplan.calibrate import DynamicPanelGMM, PanelIV, PanelRegression, StaggeredDiD
from talentplan.errors import TalentPlanError, TalentPlanWarning

#: A standard error this many times the estimate's scale is "astronomical".
BLOW_UP = 1e6

EXTRA_KINDS = ("normal", "constant", "duplicate", "all_nan", "tiny_variation")


@st.composite
def panels(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 6))
    t = draw(st.integers(2, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    scale = draw(st.sampled_from([1.0, 1e-6, 1e6]))
    y = rng.normal(size=(n, t)) * scale
    x = rng.normal(size=(n, t))
    if draw(st.booleans()):  # outcomes on a coarse grid: ties and constant changes
        y = np.round(y / scale) * scale
    if draw(st.booleans()):
        x = np.round(x)
    if n > 1 and draw(st.booleans()):  # identical entities
        y[:] = y[0]
        x[:] = x[0]
    kind = draw(st.sampled_from(EXTRA_KINDS))
    extra = {
        "normal": rng.normal(size=(n, t)),
        "constant": np.full((n, t), 3.0),
        "duplicate": x.copy(),
        "all_nan": np.full((n, t), np.nan),
        "tiny_variation": 3.0 + 1e-13 * rng.normal(size=(n, t)),
    }[kind]
    if draw(st.booleans()):
        y[rng.random((n, t)) < 0.15] = np.nan
    periods = np.arange(2001, 2001 + t)
    first = draw(st.lists(st.sampled_from([0, *periods[1:].tolist()]), min_size=n, max_size=n))
    return pd.DataFrame(
        {
            "id": np.repeat(np.arange(n), t),
            "year": np.tile(periods, n),
            "y": y.ravel(),
            "x": x.ravel(),
            "z": extra.ravel(),
            "w": (rng.normal(size=(n, t)) + x).ravel(),
            "first": np.repeat(first, t),
        }
    )


def _estimators(df: pd.DataFrame) -> dict[str, Callable[[], Any]]:
    panel: dict[str, Callable[[], Any]] = {
        f"PanelRegression[{est}]": (
            lambda est=est: PanelRegression(
                df, "y", ["x", "z"], entity="id", time="year", estimator=est
            ).fit()
        )
        for est in ("pooled", "fe", "te", "twfe", "re", "between", "fd")
    }
    panel["PanelIV"] = lambda: PanelIV(df, "y", ["z"], ["x"], ["w"], entity="id", time="year").fit()
    for method in ("difference", "system"):
        for steps in (1, 2):
            panel[f"DynamicPanelGMM[{method},{steps}]"] = lambda method=method, steps=steps: (
                DynamicPanelGMM(
                    df, "y", exog=["x", "z"], entity="id", time="year", method=method
                ).fit(steps=steps)
            )
    panel["StaggeredDiD"] = lambda: StaggeredDiD(df, "y", "id", "year", "first").fit()
    panel["StaggeredDiD[dr,x]"] = lambda: StaggeredDiD(
        df, "y", "id", "year", "first", covariates=["z"], control="not_yet_treated"
    ).fit()
    return panel


def _outcome_scale(df: pd.DataFrame) -> float:
    y = df["y"].to_numpy(dtype=float)
    y = y[np.isfinite(y)]
    if y.size == 0:
        return 1.0
    return float(max(np.std(y), np.mean(np.abs(y)), np.finfo(float).tiny))


def _blown_up(params: pd.Series, se: pd.Series, y_scale: float) -> list[str]:
    est = params.to_numpy(dtype=float)
    err = se.reindex(params.index).to_numpy(dtype=float)
    scale = np.maximum(np.abs(est), y_scale)
    bad = np.isfinite(est) & (~np.isfinite(err) | (np.abs(err) > BLOW_UP * scale))
    return [str(name) for name in params.index[bad]]


def _check(name: str, fit: Callable[[], Any], y_scale: float) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = fit()
            _ = res.summary
            if name.startswith("StaggeredDiD"):
                agg = res.aggregate("simple")
                pairs = [(res.params, res.std_errors), (pd.Series([agg.att]), pd.Series([agg.se]))]
            else:
                pairs = [(res.params, res.std_errors)]
        except TalentPlanError:
            return
        except Exception as err:  # the property: nothing but talentplan's errors escape
            raise AssertionError(f"{name} raised {type(err).__name__}: {err}") from err
    warned = [w for w in caught if issubclass(w.category, TalentPlanWarning)]
    for params, se in pairs:
        bad = _blown_up(params, se, y_scale)
        assert not bad or warned, (
            f"{name}: finite estimates {bad} with non-finite or huge standard errors and no "
            f"warning (params {params.to_dict()}, se {se.to_dict()})"
        )


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(df=panels())
def test_degenerate_panels_raise_named_errors_or_warn(df: pd.DataFrame) -> None:
    y_scale = _outcome_scale(df)
    for name, fit in _estimators(df).items():
        _check(name, fit, y_scale)
