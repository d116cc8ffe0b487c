"""Spatial weights, spatial lags, Conley errors and recovery of known spillovers."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from talentplan.calibrate.panel.model import PanelRegression
from talentplan.calibrate.spatial.covariance import conley_cov
from talentplan.calibrate.spatial.model import SpilloverPanel
from talentplan.calibrate.spatial.weights import distance_matrix, distance_weights, spatial_lag
from talentplan.errors import (
    CalibrationError,
    MissingValuesWarning,
    TalentPlanWarning,
    UnbalancedPanelWarning,
)
from tests.calibrate.helpers import quiet

TRUE = {"x": 1.0, "W*x": 0.5, "wage_gap": 0.3, "wage_gap*decay(core)": -0.8}


def simulate(seed: int = 7, n: int = 100, t: int = 12):
    """Counties on a 100 x 100 km square, the core city at the centre."""
    rng = np.random.default_rng(seed)
    ids = [f"c{i:03d}" for i in range(n)]
    coords = pd.DataFrame(rng.uniform(0, 100, (n, 2)), index=ids, columns=["x", "y"])
    dist = distance_matrix(coords)
    w = distance_weights(dist, kind="inverse", bandwidth=20)
    core = pd.Series(np.hypot(coords["x"] - 50, coords["y"] - 50), index=ids)
    idx = pd.MultiIndex.from_product([ids, range(2010, 2010 + t)], names=["county", "year"])
    df = pd.DataFrame(
        {
            "x": rng.normal(size=n * t),
            "wage_gap": np.tile(rng.normal(size=t), n) + rng.normal(0, 0.5, n * t),
        },
        index=idx,
    )
    wx = spatial_lag(df[["x"]], w)["W*x"]
    decay = np.exp(-core.reindex(idx.get_level_values(0)).to_numpy() / 30)
    effects = np.repeat(rng.normal(size=n), t) + np.tile(rng.normal(size=t), n)
    df["outflow"] = (
        TRUE["x"] * df["x"]
        + TRUE["W*x"] * wx
        + TRUE["wage_gap"] * df["wage_gap"]
        + TRUE["wage_gap*decay(core)"] * df["wage_gap"] * decay
        + effects
        + rng.normal(0, 0.5, n * t)
    )
    return df, w, dist, core


@pytest.fixture(scope="module")
def sim():
    return simulate()


@pytest.fixture(scope="module")
def model(sim) -> SpilloverPanel:
    df, w, dist, core = sim
    return SpilloverPanel(
        df,
        "outflow",
        ["x", "wage_gap"],
        w,
        lags=["x"],
        core_distance=core,
        core_terms=["wage_gap"],
        decay_bandwidth=30,
        distances=dist,
    )


def test_distance_weights_inverse_and_exponential() -> None:
    w = distance_weights([[0, 0], [1, 0], [3, 0]], kind="inverse")
    np.testing.assert_allclose(w.to_numpy(), [[0, 0.75, 0.25], [2 / 3, 0, 1 / 3], [0.4, 0.6, 0]])
    d = np.array([[0, 2.0, 4.0], [2.0, 0, 1.0], [4.0, 1.0, 0]])
    e = distance_weights(d, kind="exponential", bandwidth=2.0, row_standardize=False)
    np.testing.assert_allclose(e.to_numpy()[0], [0, np.exp(-1), np.exp(-2)])
    with pytest.warns(TalentPlanWarning, match="no neighbour"):
        cut = distance_weights(d, kind="inverse", bandwidth=1.5)
    np.testing.assert_allclose(cut.to_numpy().sum(axis=1), [0, 1, 1])
    with pytest.raises(CalibrationError, match="bandwidth"):
        distance_weights(d, kind="exponential")
    with pytest.raises(CalibrationError, match="symmetric"):
        distance_weights(np.array([[0, 1, 2], [1, 0, 1], [3, 1, 0.0]]))


def test_haversine_one_degree_of_latitude() -> None:
    d = distance_matrix(np.array([[113.0, 23.0], [113.0, 24.0]]), metric="haversine")
    assert d.iloc[0, 1] == pytest.approx(np.pi / 180 * 6371.0088, rel=1e-12)


def test_spatial_lag_brute_force(sim) -> None:
    df, w, _, _ = sim
    sub = df[["x"]].drop(index=[("c003", 2012)])  # unbalanced: absent neighbour counts 0
    lag = spatial_lag(sub, w)["W*x"]
    xs = sub["x"].xs(2012, level=1).reindex(w.index).fillna(0.0).to_numpy()
    expected = w.to_numpy() @ xs
    got = lag.xs(2012, level=1).reindex(w.index).drop("c003")
    np.testing.assert_allclose(got.to_numpy(), np.delete(expected, 3), rtol=1e-12)


def test_recovers_known_spillovers(model: SpilloverPanel) -> None:
    for cov in ["driscoll-kraay", "conley"]:
        # Conley options are rejected for other covariances, so give cutoff only there
        res = model.fit(cov_type=cov, **({"cutoff": 25.0} if cov == "conley" else {}))
        for name, truth in TRUE.items():
            err = abs(res.params[name] - truth)
            assert err < 3.5 * res.std_errors[name], (cov, name, err)
        assert abs(res.params["W*x"] - 0.5) < 0.15
        assert abs(res.params["wage_gap*decay(core)"] + 0.8) < 0.25


def test_driscoll_kraay_is_linearmodels_kernel(model: SpilloverPanel) -> None:
    ours = model.fit(cov_type="driscoll-kraay", bandwidth=2)
    ref = PanelRegression(
        model.design, "outflow", list(model.design.columns[1:]), estimator="twfe"
    ).fit(cov_type="driscoll-kraay", bandwidth=2)
    np.testing.assert_allclose(ours.std_errors, ref.std_errors, rtol=1e-12)


def test_conley_limits_equal_white_and_time_clusters(model: SpilloverPanel) -> None:
    # Cutoff 0: only own scores, i.e. White's heteroskedasticity-robust meat.
    # Huge uniform cutoff: all units in a period correlate, i.e. clustering by period.
    # linearmodels scales both by n / (n - k - effects); Conley applies no scaling.
    robust = model.fit(cov_type="robust")
    n, k = robust.nobs, len(robust.params)
    scale = n / robust.df_resid
    c0 = model.fit(cov_type="conley", cutoff=0.0, kernel="uniform")
    np.testing.assert_allclose(c0.cov.to_numpy() * scale, robust.cov.to_numpy(), rtol=1e-8)
    by_time = model.fit(cov_type="clustered", cluster=("time",))
    big = model.fit(cov_type="conley", cutoff=1e9, kernel="uniform")
    np.testing.assert_allclose(big.cov.to_numpy() * scale, by_time.cov.to_numpy(), rtol=1e-8)
    assert k == 4


def test_conley_serial_lags_match_brute_force() -> None:
    rng = np.random.default_rng(3)
    n, t, k = 5, 4, 2
    ent = np.repeat(np.arange(n), t)
    tim = np.tile(np.arange(t), n)
    x = rng.normal(size=(n * t, k))
    e = rng.normal(size=n * t)
    d = np.abs(np.subtract.outer(np.arange(n), np.arange(n))).astype(float)
    v = conley_cov(x, e, ent, tim, d, cutoff=2.0, kernel="bartlett", serial_lags=2)
    meat = np.zeros((k, k))
    s = x * e[:, None]
    for a in range(n * t):
        for b in range(n * t):
            if tim[a] == tim[b]:
                wgt = max(0.0, 1 - d[ent[a], ent[b]] / 2.0)
            elif ent[a] == ent[b] and abs(tim[a] - tim[b]) <= 2:
                wgt = 1 - abs(tim[a] - tim[b]) / 3.0
            else:
                wgt = 0.0
            meat += wgt * np.outer(s[a], s[b])
    bread = np.linalg.inv(x.T @ x)
    np.testing.assert_allclose(v, bread @ meat @ bread, rtol=1e-12)


def test_spillover_errors(sim) -> None:
    df, w, _, core = sim
    m = SpilloverPanel(df, "outflow", ["x"], w)
    with pytest.raises(CalibrationError, match="distances="):
        m.fit(cov_type="conley", cutoff=10)
    with pytest.raises(CalibrationError, match="decay_bandwidth"):
        SpilloverPanel(df, "outflow", ["x"], w, core_terms=["wage_gap"], core_distance=core)
    with pytest.raises(CalibrationError, match="no row in the weights"):
        SpilloverPanel(df, "outflow", ["x"], w.iloc[1:, 1:])


# --- spatial lags with missing values, Conley-only options -----------------------------


def _ring_panel() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(3)
    n, t = 12, 6
    ang = 2 * np.pi * np.arange(n) / n
    coords = pd.DataFrame({"x": np.cos(ang), "y": np.sin(ang)}, index=range(n))
    rows = [(i, 2000 + s, rng.normal(), rng.normal()) for i in range(n) for s in range(t)]
    df = pd.DataFrame(rows, columns=["county", "year", "x", "out"])
    return df, coords


def test_spatial_lag_uses_neighbours_with_missing_outcome():
    df, coords = _ring_panel()
    weights = distance_weights(coords, kind="inverse", power=1.0)
    full = SpilloverPanel(df, "out", ["x"], weights, entity="county", time="year").design
    gap = df.copy()
    gap.loc[(gap["county"] == 0) & (gap["year"] == 2002), "out"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnbalancedPanelWarning)
        with pytest.warns(MissingValuesWarning, match="1 of 72 rows dropped"):
            model = SpilloverPanel(gap, "out", ["x"], weights, entity="county", time="year")
    design = model.design
    assert (0, 2002) not in design.index
    # county 1's lag still includes county 0's x in 2002
    assert design.loc[(1, 2002), "W*x"] == pytest.approx(full.loc[(1, 2002), "W*x"], rel=1e-12)


def test_spatial_lag_warns_about_missing_lagged_regressor():
    df, coords = _ring_panel()
    weights = distance_weights(coords, kind="inverse", power=1.0)
    df.loc[(df["county"] == 0) & (df["year"] == 2002), "x"] = np.nan
    df["z"] = np.arange(len(df)) % 7 - 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnbalancedPanelWarning)
        with pytest.warns(MissingValuesWarning) as record:
            model = SpilloverPanel(
                df, "out", ["z"], weights, lags=["x"], entity="county", time="year"
            )
    messages = [str(w.message) for w in record]
    assert any("contribute 0 to their neighbours" in m for m in messages)
    # the row itself stays: x enters only through its neighbours' lags
    assert not any("rows dropped" in m for m in messages)
    assert (0, 2002) in model.design.index


@pytest.mark.parametrize("kw", [{"cutoff": 1.0}, {"kernel": "uniform"}, {"serial_lags": 1}])
def test_spillover_rejects_conley_options_for_other_covariances(kw):
    df, coords = _ring_panel()
    model = SpilloverPanel(
        df, "out", ["x"], distance_weights(coords, kind="inverse"), entity="county", time="year"
    )
    with pytest.raises(CalibrationError, match="only appl"):
        quiet(lambda: model.fit(cov_type="robust", **kw))
