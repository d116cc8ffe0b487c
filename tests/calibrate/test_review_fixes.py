"""Regression tests for reviewed behaviour of the calibration package.

Each test fails on the behaviour it guards against: dropped year dummies in system GMM,
mutable model options and results, incomplete provenance, spatial lags that lose
neighbours with a missing outcome, the degrees of freedom of clustered panel IV errors,
``scale`` factors, option validation at the boundary, and the regret pipeline's checks.
"""

from __future__ import annotations

import json
import warnings
from types import MappingProxyType

import numpy as np
import pandas as pd
import pytest

from talentplan.calibrate import (
    CalibrationSpec,
    DynamicPanelGMM,
    PanelIV,
    PanelRegression,
    ResponseParameters,
    SpilloverPanel,
    run_calibration,
    simulate_panel,
)
from talentplan.calibrate.spatial import distance_weights
from talentplan.data.provenance import Provenance
from talentplan.errors import CalibrationError, MissingValuesWarning, UnbalancedPanelWarning

HEAD = '[panel]\nentity = "county"\ntime = "year"\n'


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


@pytest.fixture(scope="module")
def shocked() -> pd.DataFrame:
    """y_it = 0.5 y_i,t-1 + mu_i + 2 d_t + e_it with common shocks d_t; 300 x 8, seed 7.

    Each series runs 20 periods before the 8 kept, so it starts near its stationary mean
    (the initial condition system GMM assumes).
    """
    rng = np.random.default_rng(7)
    n, t, burn = 300, 8, 20
    shocks = rng.normal(0.0, 1.0, t + burn)
    rows = []
    for i in range(n):
        mu = rng.normal()
        y = mu / 0.5 + rng.normal()
        for s in range(t + burn):
            y = 0.5 * y + mu + 2.0 * shocks[s] + rng.normal()
            if s >= burn:
                rows.append((i, 2000 + s - burn, y))
    return pd.DataFrame(rows, columns=["county", "year", "y"])


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return simulate_panel(40, 8, seed=21).data


# --- 1. year dummies in system GMM --------------------------------------------------------


def test_system_gmm_time_dummies_recover_persistence(shocked):
    """With every estimable year dummy, two-step system GMM recovers 0.5 and Hansen's J
    does not reject; dropping the first level-equation dummy gave 0.41 and p ~ 1e-7."""
    spec = CalibrationSpec.from_string(
        HEAD + "[[estimation]]\n"
        'name = "stock"\nestimator = "dynamic"\ndependent = "y"\ntime_dummies = true\n'
        'options = { lags = 1, method = "system" }\nfit = { steps = 2 }\n'
        '[[estimation.parameters]]\nname = "L1.y"\nkey = "centre:eng:platform"\n'
    )
    results, _ = _quiet(lambda: run_calibration(shocked, spec))
    res = results["stock"]
    # level equations start in 2001 (lags = 1); 2007 is the base next to the constant
    assert [c for c in res.params.index if c.startswith("year_")] == [
        f"year_{y}" for y in range(2001, 2007)
    ]
    assert abs(res.params["L1.y"] - 0.5) < 2.5 * res.std_errors["L1.y"]
    assert res.hansen.pvalue > 0.05


def test_difference_gmm_time_dummies_unchanged(shocked):
    spec = CalibrationSpec.from_string(
        HEAD + "[[estimation]]\n"
        'name = "stock"\nestimator = "dynamic"\ndependent = "y"\ntime_dummies = true\n'
        'options = { lags = 1, method = "difference" }\n'
        '[[estimation.parameters]]\nname = "L1.y"\nkey = "centre:eng:platform"\n'
    )
    results, _ = _quiet(lambda: run_calibration(shocked, spec))
    assert [c for c in results["stock"].params.index if c.startswith("year_")] == [
        f"year_{y}" for y in range(2002, 2007)
    ]


# --- 2. read-only GMM options --------------------------------------------------------------


def test_gmm_options_are_read_only_and_results_capture_them(shocked):
    model = DynamicPanelGMM(shocked, "y", 1, entity="county", time="year", method="system")
    res = _quiet(lambda: model.fit(steps=2))
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


# --- 3. provenance of a spec run -----------------------------------------------------------


def test_spec_provenance_records_variables_transforms_and_hashes(panel):
    text = (
        HEAD + "[[estimation]]\n"
        'name = "subsidy"\nestimator = "iv"\ndependent = "inflow"\n'
        'endog = ["log_subsidy"]\ninstruments = ["pairing"]\n'
        "options = { entity_effects = true, time_effects = true }\n"
        'fit = { cov_type = "clustered" }\n'
        "[[estimation.parameters]]\n"
        'name = "log_subsidy"\nkey = "subsidy:eng:inflow"\ntransform = "scale"\n'
        'factor = "mean:inflow"\nlower = 0.0\n'
    )
    spec = CalibrationSpec.from_string(text)
    _, params = _quiet(lambda: run_calibration(panel, spec))
    opts = params.provenance.options
    import hashlib

    assert opts["spec_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert opts["entity"] == "county" and opts["time"] == "year"
    est = opts["estimations"]["subsidy"]
    assert est["variables"]["endog"] == ("log_subsidy",)
    assert est["variables"]["instruments"] == ("pairing",)
    p = est["parameters"]["log_subsidy"]
    assert p["transform"] == "scale" and p["factor"] == "mean:inflow"
    assert p["factor_resolved"] == pytest.approx(panel["inflow"].mean())
    assert p["lower"] == 0.0 and p["upper"] is None
    assert est["result_options"]["cov_type"] == "clustered"
    assert {"pandas", "scipy", "python"} <= set(params.provenance.versions)
    json.dumps(params.to_dict())  # still JSON-serialisable


def test_spec_provenance_records_extra_keys(shocked):
    spec = CalibrationSpec.from_string(
        HEAD + "[[estimation]]\n"
        'name = "stock"\nestimator = "dynamic"\ndependent = "y"\ntime_dummies = true\n'
        'options = { method = "system", collapse = true }\n'
        '[[estimation.parameters]]\nname = "L1.y"\nkey = "centre:eng:platform"\n'
    )
    _, params = _quiet(lambda: run_calibration(shocked, spec))
    est = params.provenance.options["estimations"]["stock"]
    assert est["extra"]["time_dummies"] is True
    assert est["result_options"]["method"] == "system"
    assert est["result_options"]["collapse"] is True
    assert est["result_options"]["steps"] == 1


# --- 4. spatial lags keep neighbours with a missing outcome --------------------------------


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


# --- 5. provenance of from_results ---------------------------------------------------------


def test_from_results_records_gmm_and_panel_options(shocked, panel):
    gmm = _quiet(
        lambda: DynamicPanelGMM(
            shocked, "y", 1, entity="county", time="year", method="system", collapse=True
        ).fit(steps=2)
    )
    rp = ResponseParameters.from_results(gmm, {"L1.y": "centre:eng:platform"})
    o = rp.provenance.options
    assert (o["method"], o["steps"], o["lags"], o["collapse"]) == ("system", 2, 1, True)
    assert o["max_instrument_lag"] is None
    fe = _quiet(
        lambda: PanelRegression(
            panel, "log_outflow_rate", ["centre"], entity="county", time="year", estimator="twfe"
        ).fit(cov_type="driscoll-kraay", debiased=False)
    )
    rp = ResponseParameters.from_results(fe, {"centre": "centre:eng:retention"})
    o = rp.provenance.options
    assert o["debiased"] is False
    # linearmodels' rule of thumb floor(4 (T/100)^(2/9)) with T = 8 periods
    assert o["bandwidth_used"] == float(np.floor(4 * (8 / 100) ** (2 / 9)))


# --- 6. Provenance is frozen all the way down ----------------------------------------------


def test_provenance_options_are_read_only_copies():
    opts = {"a": {"b": [1, 2]}}
    versions = {"numpy": "1"}
    p = Provenance(data_hash=None, estimator="x", options=opts, versions=versions)
    opts["a"]["b"].append(3)
    versions["numpy"] = "2"
    assert p.options["a"]["b"] == (1, 2) and p.versions["numpy"] == "1"
    assert isinstance(p.options, MappingProxyType)
    with pytest.raises(TypeError):
        p.options["c"] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        p.options["a"]["c"] = 1  # type: ignore[index]
    assert json.loads(json.dumps(p.to_dict()))["options"] == {"a": {"b": [1, 2]}}


# --- 8. clustered panel IV degrees of freedom ----------------------------------------------


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


# --- 9. scale factors ------------------------------------------------------------------


def test_scale_mean_uses_estimation_sample_and_rejects_text(panel):
    body = (
        HEAD + "[[estimation]]\n"
        'name = "r"\nestimator = "panel"\ndependent = "log_outflow_rate"\nexog = ["centre"]\n'
        'options = { estimator = "twfe" }\n'
        "[[estimation.parameters]]\n"
        'name = "centre"\nkey = "centre:eng:retention"\ntransform = "scale"\n'
        'factor = "mean:inflow"\n'
    )
    spec = CalibrationSpec.from_string(body)
    d = panel.copy()
    d.loc[d.index[:10], "log_outflow_rate"] = np.nan  # these rows leave the sample
    d.loc[d.index[:10], "inflow"] = 1e6  # and must not enter the mean
    results, params = _quiet(lambda: run_calibration(d, spec))
    mean = d["inflow"].iloc[10:].mean()
    assert params.estimates.iloc[0] == pytest.approx(mean * results["r"].params["centre"])
    d["inflow"] = d["inflow"].astype(str)
    with pytest.raises(CalibrationError, match="'inflow' is not numeric"):
        _quiet(lambda: run_calibration(d, spec))


# --- 10. option validation at the boundary -------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"cluster": ("county",)}, "cluster="),
        ({"bandwidth": -1.0}, "bandwidth"),
        ({"kernel": "triangle"}, "kernel"),
        ({"min_clusters": 0}, "min_clusters"),
    ],
)
def test_panel_fit_validates_options_whatever_the_cov_type(panel, kw, match):
    model = _quiet(
        lambda: PanelRegression(panel, "log_outflow_rate", ["centre"], entity="county", time="year")
    )
    with pytest.raises(CalibrationError, match=match):
        model.fit(cov_type="robust", **kw)


@pytest.mark.parametrize("kw", [{"cutoff": 1.0}, {"kernel": "uniform"}, {"serial_lags": 1}])
def test_spillover_rejects_conley_options_for_other_covariances(kw):
    df, coords = _ring_panel()
    model = SpilloverPanel(
        df, "out", ["x"], distance_weights(coords, kind="inverse"), entity="county", time="year"
    )
    with pytest.raises(CalibrationError, match="only appl"):
        _quiet(lambda: model.fit(cov_type="robust", **kw))


@pytest.mark.parametrize("order", [0, 1.5, True, "2"])
def test_ar_test_needs_a_positive_integer(shocked, order):
    res = _quiet(lambda: DynamicPanelGMM(shocked, "y", 1, entity="county", time="year").fit())
    with pytest.raises(CalibrationError, match="positive integer"):
        res.ar_test(order)


@pytest.mark.parametrize("bad", ["0", True, [0, 1], {"x": 1}])
def test_parameters_json_type_checks_bounds(bad):
    key = "centre:eng:retention"
    rp = ResponseParameters(
        pd.Series({key: 0.3}),
        pd.DataFrame([[0.01]], index=[key], columns=[key]),
        Provenance(data_hash=None, estimator="x"),
        bounds={key: (0.0, 1.0)},
    )
    doc = rp.to_dict()
    doc["bounds"][key] = [bad, 1.0]
    with pytest.raises(CalibrationError, match=rf"bounds\.{key}\.lower"):
        ResponseParameters.from_dict(doc)


# --- 7. results callers cannot mutate ------------------------------------------------------


def test_staggered_results_are_private_copies():
    from talentplan.calibrate import StaggeredDiD

    rng = np.random.default_rng(5)
    rows = []
    for i in range(60):
        g = (0, 2003, 2005)[i % 3]
        a = rng.normal()
        for t in range(2001, 2007):
            eff = 1.0 if g and t >= g else 0.0
            rows.append((i, t, g, a + 0.1 * t + eff + rng.normal(0, 0.3)))
    df = pd.DataFrame(rows, columns=["county", "year", "first", "y"])
    res = _quiet(lambda: StaggeredDiD(df, "y", "county", "year", "first").fit())
    before = res.aggregate("simple").att
    params = res.params.copy()
    cells = res.att_gt
    cells["att"] = 99.0
    got = res.params
    got.iloc[:] = 99.0
    inf = res.influence
    inf[:] = 99.0
    ug = res.unit_group
    ug[:] = 0
    agg = res.aggregate("simple")
    assert agg.att == before
    pd.testing.assert_series_equal(res.params, params)
    table = agg.table
    table["att"] = 99.0
    assert agg.params.iloc[0] == pytest.approx(before)


def test_variance_decomposition_is_a_copy(panel):
    res = _quiet(
        lambda: PanelRegression(
            panel, "log_outflow_rate", ["centre"], entity="county", time="year", estimator="re"
        ).fit()
    )
    vd = res.variance_decomposition
    vd.iloc[:] = -1.0
    assert (res.variance_decomposition > -1.0).all()


# --- 11. end-to-end regret ---------------------------------------------------------------


def test_end_to_end_regret_checks_subsidy_scale():
    from talentplan.scenarios import end_to_end_regret
    from tests.model.tiny import tiny_instance

    inst = tiny_instance(n_years=2)
    with pytest.raises(CalibrationError, match="theta is 12"):
        end_to_end_regret(inst, 30, 6, seed=0, truth={"theta": 12.0})


def test_end_to_end_regret_spawns_seeds_and_lets_warnings_through(monkeypatch):
    import talentplan.calibrate.bridge.run as run_mod
    from talentplan.data.provenance import panel_hash
    from talentplan.scenarios import end_to_end_regret
    from tests.model.tiny import tiny_instance

    original = run_mod.run_calibration

    def noisy(*args, **kwargs):
        warnings.warn("3 rows dropped", MissingValuesWarning, stacklevel=2)
        return original(*args, **kwargs)

    monkeypatch.setattr(run_mod, "run_calibration", noisy)
    with pytest.warns(MissingValuesWarning, match="3 rows dropped"):
        report = end_to_end_regret(tiny_instance(n_years=2), 30, 6, seed=3)
    child = np.random.SeedSequence(3).spawn(2)[0]
    sim = simulate_panel(30, 6, seed=int(child.generate_state(1)[0]))
    assert report.estimated_parameters.provenance.data_hash == panel_hash(sim.data)


# --- 12. shared validation in DynamicPanelGMM ----------------------------------------------


def test_gmm_accepts_booleans_as_numbers_like_the_other_estimators(shocked):
    d = shocked.assign(up=(shocked["y"].shift(1) > 0).fillna(False))
    as_bool = _quiet(
        lambda: DynamicPanelGMM(d, "y", 1, exog="up", entity="county", time="year").fit()
    )
    as_float = _quiet(
        lambda: DynamicPanelGMM(
            d.assign(up=d["up"].astype(float)), "y", 1, exog="up", entity="county", time="year"
        ).fit()
    )
    pd.testing.assert_series_equal(as_bool.params, as_float.params)


# --- 13. simulator metadata ------------------------------------------------------------


def test_simulator_meta_records_overrides_names_and_hash():
    from talentplan.data.provenance import panel_hash

    sim = simulate_panel(12, 5, seed=2, truth={"rho": 0.3}, talent_type="voc")
    meta = sim.meta
    assert meta["truth_overrides"] == {"rho": 0.3}
    assert (meta["service_program"], meta["subsidy_program"], meta["talent_type"]) == (
        "centre",
        "subsidy",
        "voc",
    )
    assert meta["panel_hash"] == panel_hash(sim.data)
    meta["truth_overrides"]["rho"] = 0.9
    assert sim.meta["truth_overrides"] == {"rho": 0.3}
    opts = sim.true_parameters().provenance.options["simulator"]
    assert opts["panel_hash"] == meta["panel_hash"]


# --- 14. estimates outside their own bounds --------------------------------------------------


def test_estimate_outside_its_bounds_raises_unless_clipped():
    from talentplan.errors import TalentPlanWarning

    key = "centre:eng:retention"
    est = pd.Series({key: 1.2})
    cov = pd.DataFrame([[0.01]], index=[key], columns=[key])
    prov = Provenance(data_hash=None, estimator="x")
    with pytest.raises(CalibrationError, match="outside their own bounds"):
        ResponseParameters(est, cov, prov, bounds={key: (0.0, 1.0)})
    with pytest.warns(TalentPlanWarning, match="clipped"):
        rp = ResponseParameters(est, cov, prov, bounds={key: (0.0, 1.0)}, clip=True)
    assert rp.estimates[key] == 1.0
