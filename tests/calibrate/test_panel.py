"""Static panel estimators against published Grunfeld results and simulated truth.

Grunfeld (1958) investment data, 10 firms x 20 years (1935-1954): statsmodels ships the
original 11-firm data (Kleiber and Zeileis, 2010); dropping American Steel gives the
10-firm panel of Baltagi, Econometric Analysis of Panel Data, Table 2.1 (the ``Grunfeld``
data of R's plm), committed as tests/data/reference/grunfeld.csv (the ``grunfeld`` fixture).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from linearmodels import BetweenOLS, FirstDifferenceOLS, PanelOLS, PooledOLS, RandomEffects

from talentplan.calibrate.panel.model import PanelIV, PanelRegression
from talentplan.calibrate.shared.tables import compare
from talentplan.errors import (
    CalibrationError,
    CollinearityError,
    MissingValuesWarning,
    PanelDataError,
    TooFewClustersError,
    TooFewEntitiesError,
    UnbalancedPanelWarning,
)
from tests.calibrate.helpers import quiet


def fit(data: pd.DataFrame, estimator: str, **kw: object):
    model = PanelRegression(
        data, "invest", ["value", "capital"], entity="firm", time="year", estimator=estimator
    )
    return model.fit(**kw)


# Baltagi (2013), Table 2.1 (also Baltagi 2005/2008, Table 2.1), Grunfeld, one-way
# individual effects: within value 0.110 (0.012), capital 0.310 (0.017); Swamy-Arora
# random effects value 0.110 (0.010), capital 0.308 (0.017).
BALTAGI_TABLE_2_1 = {
    "fe": {"value": (0.110, 0.012), "capital": (0.310, 0.017)},
    "re": {"value": (0.110, 0.010), "capital": (0.308, 0.017)},
}


@pytest.mark.parametrize("estimator", ["fe", "re"])
def test_grunfeld_baltagi_table_2_1(grunfeld: pd.DataFrame, estimator: str) -> None:
    res = fit(grunfeld, estimator)
    for name, (coef, se) in BALTAGI_TABLE_2_1[estimator].items():
        assert round(float(res.params[name]), 3) == coef
        assert round(float(res.std_errors[name]), 3) == se
    assert res.nobs == 200


def test_grunfeld_within_covariance_matches_plm(grunfeld: pd.DataFrame) -> None:
    # plm tests/test_phtest_Hausman_regression.Rout.save (reproducing Baltagi 2013,
    # sec. 4.3.1): vcov(fe_grun) * 1000 = [[0.14058119769, -0.07746798877],
    # [-0.07746798877, 0.30117876659]]; vcov(be_grun) * 1000 for value, capital:
    # [[0.8263014212, -3.700247744], [-3.700247744, 36.457243151]].
    fe = fit(grunfeld, "fe")
    np.testing.assert_allclose(
        fe.cov.loc[["value", "capital"], ["value", "capital"]].to_numpy() * 1000,
        [[0.14058119769, -0.07746798877], [-0.07746798877, 0.30117876659]],
        rtol=1e-8,
    )
    be = fit(grunfeld, "between")
    np.testing.assert_allclose(
        be.cov.loc[["value", "capital"], ["value", "capital"]].to_numpy() * 1000,
        [[0.8263014212, -3.700247744], [-3.700247744, 36.457243151]],
        rtol=1e-8,
    )


def test_grunfeld_random_effects_matches_plm(grunfeld: pd.DataFrame) -> None:
    # plm::plm(inv ~ value + capital, data = Grunfeld, model = "random"), as printed by
    # summary(): (Intercept) -57.8344149 (28.89893526), value 0.1097812 (0.01049266),
    # capital 0.3081130 (0.01718047); idiosyncratic variance 2784.46, individual 7089.80.
    re = fit(grunfeld, "re")
    np.testing.assert_allclose(
        re.params[["const", "value", "capital"]], [-57.8344149, 0.1097812, 0.3081130], rtol=1e-6
    )
    np.testing.assert_allclose(
        re.std_errors[["const", "value", "capital"]],
        [28.89893526, 0.01049266, 0.01718047],
        rtol=1e-6,
    )
    vd = re.variance_decomposition
    assert vd is not None
    np.testing.assert_allclose(vd.iloc[:2], [7089.80, 2784.46], atol=0.01)


def test_every_estimator_and_covariance_runs(grunfeld: pd.DataFrame) -> None:
    for est in ["pooled", "fe", "te", "twfe", "re", "between", "fd"]:
        res = fit(grunfeld, est, cov_type="robust")
        assert np.isfinite(res.std_errors).all()
        assert res.conf_int(0.9).shape == (len(res.params), 2)
        assert "Observations" in str(res) and "<table>" in res._repr_html_()
    dk = fit(grunfeld, "twfe", cov_type="driscoll-kraay", bandwidth=3)
    direct = PanelOLS(
        grunfeld.set_index(["firm", "year"])["invest"],
        grunfeld.set_index(["firm", "year"])[["value", "capital"]],
        entity_effects=True,
        time_effects=True,
    ).fit(cov_type="kernel", kernel="bartlett", bandwidth=3)
    np.testing.assert_allclose(dk.std_errors, direct.std_errors, rtol=1e-12)
    two = fit(grunfeld, "fe", cov_type="clustered", cluster=("entity", "time"))
    assert two.cov_options["cluster"] == ("entity", "time")


@pytest.mark.parametrize("estimator", ["pooled", "fe", "te", "twfe", "re", "fd"])
@pytest.mark.parametrize("unbalanced", [False, True])
def test_driscoll_kraay_default_bandwidth_is_linearmodels_default(
    estimator: str, unbalanced: bool
) -> None:
    """The bandwidth chosen here, passed explicitly, gives linearmodels' default errors.

    28 periods: the rule of thumb is 3, but 2 for first differences (27 periods of
    differences), also when rows are missing.
    """
    rng = np.random.default_rng(0)
    idx = pd.MultiIndex.from_product([range(12), range(2000, 2028)], names=["e", "t"])
    df = pd.DataFrame({"x": rng.normal(size=len(idx))}, index=idx)
    df["y"] = df["x"] + rng.normal(size=len(idx))
    if unbalanced:
        df = df.drop(df.index[rng.choice(len(df), 60, replace=False)])
    ours = quiet(
        lambda: PanelRegression(df, "y", ["x"], estimator=estimator).fit(
            cov_type="driscoll-kraay", kernel="bartlett"
        )
    )
    x = df[["x"]]
    if estimator in ("pooled", "re"):
        x = x.assign(const=1.0)[["const", "x"]]
    model = {
        "pooled": lambda: PooledOLS(df["y"], x),
        "fe": lambda: PanelOLS(df["y"], x, entity_effects=True),
        "te": lambda: PanelOLS(df["y"], x, time_effects=True),
        "twfe": lambda: PanelOLS(df["y"], x, entity_effects=True, time_effects=True),
        "re": lambda: RandomEffects(df["y"], x),
        "fd": lambda: FirstDifferenceOLS(df["y"], x),
    }[estimator]()
    direct = model.fit(cov_type="kernel", kernel="bartlett")
    assert ours.bandwidth_used == (2.0 if estimator == "fd" else 3.0)
    assert ours.provenance_options["bandwidth_used"] == ours.bandwidth_used
    assert "bandwidth" not in ours.cov_options
    np.testing.assert_array_equal(ours.std_errors.to_numpy(), direct.std_errors.to_numpy())


def test_too_few_clusters(grunfeld: pd.DataFrame) -> None:
    few = grunfeld[~grunfeld["firm"].isin(["IBM", "Chrysler"])]
    with pytest.raises(TooFewClustersError, match="8 clusters"):
        fit(few, "fe", cov_type="clustered")
    # two-way clustering needs enough clusters in both dimensions
    assert fit(grunfeld, "fe", cov_type="clustered", cluster=("time",)).nobs == 200
    with pytest.raises(TooFewClustersError, match="by entity gives 10"):
        fit(grunfeld, "fe", cov_type="clustered", cluster=("entity", "time"), min_clusters=25)


def test_bad_options(grunfeld: pd.DataFrame) -> None:
    with pytest.raises(CalibrationError, match="estimator='ols'"):
        PanelRegression(grunfeld, "invest", ["value"], entity="firm", time="year", estimator="ols")  # type: ignore[arg-type]
    with pytest.raises(CalibrationError, match="cov_type='hac'"):
        fit(grunfeld, "fe", cov_type="hac")
    with pytest.raises(CalibrationError, match="only cluster by entity"):
        fit(grunfeld, "between", cov_type="clustered", cluster=("time",))


def test_bad_input_errors(grunfeld: pd.DataFrame) -> None:
    dup = pd.concat([grunfeld, grunfeld.iloc[[3]]])
    with pytest.raises(PanelDataError, match="more than once"):
        fit(dup, "fe")
    text = grunfeld.assign(value=grunfeld["value"].astype(str))
    with pytest.raises(PanelDataError, match="value"):
        fit(text, "fe")
    twice = grunfeld.assign(value2=2 * grunfeld["value"])
    with pytest.raises(CollinearityError, match=r"'value'.*'value2'"):
        PanelRegression(
            twice,
            "invest",
            ["value", "capital", "value2"],
            entity="firm",
            time="year",
            estimator="pooled",
        )
    firm_size = grunfeld.groupby("firm")["value"].transform("mean")
    with pytest.raises(CollinearityError, match="size"):
        PanelRegression(
            grunfeld.assign(size=firm_size),
            "invest",
            ["value", "size"],
            entity="firm",
            time="year",
            estimator="fe",
        )
    # the same time-invariant regressor is fine under random effects
    re = PanelRegression(
        grunfeld.assign(size=firm_size),
        "invest",
        ["value", "size"],
        entity="firm",
        time="year",
        estimator="re",
    ).fit()
    assert "size" in re.params.index


def test_missing_and_unbalanced_match_dummy_regression(grunfeld: pd.DataFrame) -> None:
    df = grunfeld.copy()
    df.loc[[0, 25, 26], "capital"] = np.nan
    with (
        pytest.warns(MissingValuesWarning, match="3 of 200 rows"),
        pytest.warns(UnbalancedPanelWarning),
    ):
        res = fit(df, "fe")
    assert res.nobs == 197 and res.n_dropped == 3 and not res.info.balanced
    # brute force: OLS with firm dummies on the complete rows
    ok = df.dropna()
    dummies = pd.get_dummies(ok["firm"]).to_numpy(float)
    x = np.column_stack([ok[["value", "capital"]].to_numpy(), dummies])
    beta, *_ = np.linalg.lstsq(x, ok["invest"].to_numpy(), rcond=None)
    np.testing.assert_allclose(res.params[["value", "capital"]], beta[:2], rtol=1e-9)
    resid = ok["invest"].to_numpy() - x @ beta
    s2 = resid @ resid / (len(ok) - x.shape[1])
    se = np.sqrt(np.diag(s2 * np.linalg.inv(x.T @ x)))[:2]
    np.testing.assert_allclose(res.std_errors[["value", "capital"]], se, rtol=1e-9)


def test_iv_with_self_instrument_reproduces_within(grunfeld: pd.DataFrame) -> None:
    df = grunfeld.assign(value_iv=grunfeld["value"])
    fe_un, fe_rob = fit(grunfeld, "fe"), fit(grunfeld, "fe", cov_type="robust")
    for cov, ref in [("unadjusted", fe_un), ("robust", fe_rob)]:
        iv = PanelIV(
            df, "invest", ["capital"], ["value"], ["value_iv"], entity="firm", time="year"
        ).fit(cov_type=cov)
        np.testing.assert_allclose(iv.params[["value", "capital"]], ref.params, rtol=1e-10)
        np.testing.assert_allclose(iv.std_errors[["value", "capital"]], ref.std_errors, rtol=1e-10)
        assert iv.df_resid == ref.df_resid


def simulate_placement(seed: int, n: int = 150, t: int = 8) -> pd.DataFrame:
    """Program intensity placed where unobserved shocks are high; pairing shifts it."""
    rng = np.random.default_rng(seed)
    idx = pd.MultiIndex.from_product([range(n), range(t)], names=["county", "year"])
    alpha = np.repeat(rng.normal(size=n), t)
    pairing = rng.normal(size=n * t)
    shock = rng.normal(size=n * t)
    program = 0.8 * pairing + 0.7 * shock + 0.5 * alpha + rng.normal(size=n * t)
    wage = rng.normal(size=n * t)
    y = 0.6 * program + 0.3 * wage + 2 * alpha + shock
    return pd.DataFrame(
        {
            "y": y,
            "program": program,
            "wage": wage,
            "pairing": pairing,
            "pairing2": pairing**2 + rng.normal(size=n * t),
        },
        index=idx,
    )


@pytest.mark.parametrize("estimator", ["2sls", "gmm"])
def test_iv_recovers_effect_under_endogenous_placement(estimator: str) -> None:
    df = simulate_placement(11)
    ols = PanelRegression(df, "y", ["program", "wage"], estimator="fe").fit()
    assert ols.params["program"] > 0.85  # biased upward by the placement
    iv = PanelIV(df, "y", ["wage"], ["program"], ["pairing", "pairing2"], estimator=estimator).fit(
        cov_type="clustered"
    )
    assert abs(iv.params["program"] - 0.6) < 3 * iv.std_errors["program"]
    assert abs(iv.params["program"] - 0.6) < 0.06
    assert abs(iv.params["wage"] - 0.3) < 0.06


def test_compare_table(grunfeld: pd.DataFrame) -> None:
    fe, re = fit(grunfeld, "fe"), fit(grunfeld, "re")
    table = compare(fe, re, names=["FE", "RE"], digits=4).table
    assert list(table.columns) == ["FE", "RE"]
    rows = list(dict.fromkeys(table.index.get_level_values("row")))
    assert rows[:3] == ["value", "capital", "const"]
    # linearmodels' FE estimate of `value` and its standard error (see the test above)
    assert table.loc[("value", "estimate"), "FE"] == "0.1101***"
    assert table.loc[("value", "std_error"), "FE"] == "(0.0119)"
    assert table.loc[("const", "estimate"), "FE"] == "" and table.loc[("N", ""), "RE"] == "200"
    # linearmodels' own results work too
    mixed = compare(fe, re.model_result).table
    assert mixed.loc[("N", ""), :].tolist() == ["200", "200"]
    with pytest.raises(CalibrationError, match="std_errors"):
        compare(object())


def test_docstring_example_runs() -> None:
    rng = np.random.default_rng(0)
    idx = pd.MultiIndex.from_product([range(20), range(5)], names=["county", "year"])
    df = pd.DataFrame({"x": rng.normal(size=100)}, index=idx)
    df["y"] = 2 * df["x"] + np.repeat(rng.normal(size=20), 5) + rng.normal(0, 0.1, 100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = PanelRegression(df, "y", ["x"], estimator="fe").fit(cov_type="clustered")
    assert abs(res.params["x"] - 2) < 0.05


# --- clustered IV degrees of freedom, option checks, copies ----------------------------


def test_panel_iv_clustered_scales_for_effects_not_nested_in_clusters():
    """Two-way effects clustered by entity: hand-computed 2SLS with the small-sample factor
    G/(G-1) (n-1)/(n-k-(T-1)) (entity effects nested in the clusters, T-1 period effects
    not), as Stata's reghdfe/xtivreg2 count them."""
    rng = np.random.default_rng(11)
    n_ent, n_t = 30, 6
    ent = np.repeat(np.arange(n_ent), n_t)
    tim = np.tile(np.arange(n_t), n_ent)
    a, g = rng.normal(size=n_ent)[ent], rng.normal(size=n_t)[tim]
    z = rng.normal(size=ent.size) + a
    v = rng.normal(size=ent.size)
    x = z + v + g
    y = 1.5 * x + a + g + 0.8 * v + rng.normal(size=ent.size) * (1 + np.abs(z))
    df = pd.DataFrame({"county": ent, "year": tim, "y": y, "x": x, "z": z})
    res = PanelIV(df, "y", [], ["x"], ["z"], entity="county", time="year", time_effects=True).fit(
        cov_type="clustered"
    )

    def dm(col: np.ndarray) -> np.ndarray:
        s = pd.Series(col)
        return (
            col
            - s.groupby(ent).transform("mean").to_numpy()
            - s.groupby(tim).transform("mean").to_numpy()
            + col.mean()
        )

    yd, xd, zd = dm(y), dm(x), dm(z)
    xhat = zd * (zd @ xd) / (zd @ zd)
    b = (xhat @ yd) / (xhat @ xd)
    u = yd - xd * b
    scores = pd.Series(xhat * u).groupby(ent).sum().to_numpy()
    n, k = ent.size, 1
    factor = n_ent / (n_ent - 1) * (n - 1) / (n - k - (n_t - 1))
    se = np.sqrt(factor * (scores @ scores) / (xhat @ xhat) ** 2)
    assert res.params["x"] == pytest.approx(b, rel=1e-10)
    assert res.std_errors["x"] == pytest.approx(se, rel=1e-8)
    assert res.df_resid == n - k - (n_t - 1)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"cluster": ("county",)}, "cluster="),
        ({"bandwidth": -1.0}, "bandwidth"),
        ({"kernel": "triangle"}, "kernel"),
        ({"min_clusters": 0}, "min_clusters"),
    ],
)
def test_panel_fit_validates_options_whatever_the_cov_type(simulated_panel, kw, match):
    model = quiet(
        lambda: PanelRegression(
            simulated_panel, "log_outflow_rate", ["centre"], entity="county", time="year"
        )
    )
    with pytest.raises(CalibrationError, match=match):
        model.fit(cov_type="robust", **kw)


def test_variance_decomposition_is_a_copy(simulated_panel):
    res = quiet(
        lambda: PanelRegression(
            simulated_panel,
            "log_outflow_rate",
            ["centre"],
            entity="county",
            time="year",
            estimator="re",
        ).fit()
    )
    vd = res.variance_decomposition
    vd.iloc[:] = -1.0
    assert (res.variance_decomposition > -1.0).all()


# --- clustered-covariance options of linearmodels, passed through (issue 12) ---------------


def _direct(grunfeld: pd.DataFrame, estimator: str):  # type: ignore[no-untyped-def]
    """The linearmodels model PanelRegression builds, on the same data."""
    df = grunfeld.set_index(["firm", "year"]).sort_index()
    x = df[["value", "capital"]]
    if estimator in ("pooled", "re", "between"):
        x = pd.concat([pd.Series(1.0, index=x.index, name="const"), x], axis=1)
    return {
        "pooled": lambda: PooledOLS(df["invest"], x),
        "fe": lambda: PanelOLS(df["invest"], x, entity_effects=True),
        "re": lambda: RandomEffects(df["invest"], x),
        "between": lambda: BetweenOLS(df["invest"], x),
        "fd": lambda: FirstDifferenceOLS(df["invest"], x),
    }[estimator]()


@pytest.mark.parametrize("estimator", ["pooled", "fe", "re", "between", "fd"])
def test_group_debias_scales_clustered_errors_by_linearmodels_factor(
    grunfeld: pd.DataFrame, estimator: str
) -> None:
    plain = fit(grunfeld, estimator, cov_type="clustered")
    debiased = fit(grunfeld, estimator, cov_type="clustered", group_debias=True)
    model = _direct(grunfeld, estimator)
    if estimator == "between":  # linearmodels' between estimator takes cluster codes only
        index = model.dependent.index
        by_entity = {"clusters": pd.DataFrame({"entity": index.codes[0]}, index=index)}
    else:
        by_entity = {"cluster_entity": True}
    direct = model.fit(cov_type="clustered", group_debias=True, **by_entity)
    names = direct.std_errors.index
    np.testing.assert_allclose(debiased.std_errors[names], direct.std_errors, rtol=1e-12)
    # linearmodels' factor G / (G - 1) * (n - 1) / n, with G = 10 firms
    n = debiased.nobs
    factor = 10 / 9 * (n - 1) / n
    np.testing.assert_allclose((debiased.std_errors / plain.std_errors) ** 2, factor, rtol=1e-10)
    assert debiased.provenance_options["group_debias"] is True
    assert plain.provenance_options["group_debias"] is False


def test_group_debias_two_way_and_effects_counting_match_linearmodels(
    grunfeld: pd.DataFrame,
) -> None:
    ours = fit(
        grunfeld,
        "fe",
        cov_type="clustered",
        cluster=("entity", "time"),
        group_debias=True,
        auto_df=False,
        count_effects=False,
    )
    direct = _direct(grunfeld, "fe").fit(
        cov_type="clustered",
        cluster_entity=True,
        cluster_time=True,
        group_debias=True,
        auto_df=False,
        count_effects=False,
    )
    np.testing.assert_allclose(ours.std_errors, direct.std_errors, rtol=1e-12)
    counted = fit(grunfeld, "fe", cov_type="clustered", cluster=("entity", "time"))
    assert not np.allclose(ours.std_errors, counted.std_errors)


@pytest.mark.parametrize(
    ("estimator", "kw", "match"),
    [
        ("fe", {"cov_type": "robust", "group_debias": True}, "clustered errors only"),
        ("pooled", {"auto_df": False}, "has none"),
        ("fe", {"cov_type": "clustered", "group_debias": "yes"}, "True or False"),
    ],
)
def test_clustered_options_are_validated(
    grunfeld: pd.DataFrame, estimator: str, kw: dict[str, object], match: str
) -> None:
    with pytest.raises(CalibrationError, match=match):
        fit(grunfeld, estimator, **kw)


# --- linearmodels' own refusals, caught up front with named errors (issue 12) --------------


def test_random_effects_with_one_entity_raises_named_error(grunfeld: pd.DataFrame) -> None:
    # before: linearmodels' ValueError about the between regression's degrees of freedom
    one = grunfeld[grunfeld["firm"] == "IBM"]
    with pytest.raises(TooFewEntitiesError, match="1 entity for 3 regressor"):
        fit(one, "re")


@pytest.mark.parametrize("estimator", ["fe", "pooled"])
def test_text_time_index_raises_named_error(grunfeld: pd.DataFrame, estimator: str) -> None:
    # before: linearmodels' "The index on the time dimension must be either numeric or date-like"
    text = grunfeld.assign(year=grunfeld["year"].map(lambda y: f"FY{y}"))
    with pytest.raises(PanelDataError, match=r"'year' must hold numbers.*'FY1935'") as err:
        fit(text, estimator)
    assert err.value.column == "year"
    dates = grunfeld.assign(year=pd.to_datetime(grunfeld["year"].astype(str)))
    assert fit(dates, estimator).nobs == 200


def test_mixed_kind_entity_ids_refused(grunfeld: pd.DataFrame) -> None:
    mixed = grunfeld.assign(firm=grunfeld["firm"].where(grunfeld["firm"] != "IBM", 7))
    with pytest.raises(PanelDataError, match="'firm' mixes kinds of values"):
        fit(mixed, "fe")
