"""Tests of the staggered difference-in-differences estimator (Callaway and Sant'Anna 2021).

References used below
---------------------
R_REF
    R ``did`` output with analytic standard errors on ``mpdta``: ``att_gt(yname="lemp",
    tname="year", idname="countyreal", gname="first.treat", ..., bstrap=FALSE,
    cband=FALSE)`` and ``aggte(out, type=..., bstrap=FALSE)``, as stored by the csdid
    Python port to check itself against R (github.com/d2cml-ai/csdid,
    csdid/test_csdid/r_ref/ref_attgt.csv, ref_aggte.csv, ref_pretest.csv, written by
    generate_reference.R in the same folder).
R_MANUAL
    The ``did`` reference manual, version 2.1.2 (CRAN), examples of ``att_gt`` with
    ``xformla=~lpop`` (doubly robust, the default) for never-treated and not-yet-treated
    comparison groups: ATT(g,t) printed to four decimals and the p-value of the Wald
    pre-test (the printed standard errors there are bootstrap ones).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from talentplan.calibrate.staggered.model import StaggeredDiD
from talentplan.errors import (
    CalibrationError,
    CollinearityError,
    EstimationWarning,
    MissingValuesWarning,
    NotEstimableError,
    PanelDataError,
    TooFewClustersError,
    UnbalancedPanelError,
)
from tests.calibrate.helpers import quiet

CELLS = [(g, t) for g in (2004, 2006, 2007) for t in (2004, 2005, 2006, 2007)]

# fmt: off

# R_REF: ATT(g,t) and analytic SE, cells in the order of CELLS.
R_ATT_GT = {
    ("never_treated", "dr", None): (
        [-0.0105032462209624, -0.0704231581031467, -0.137258738889403, -0.100811363085404,
         0.00652011242423301, -0.00275081875051882, -0.00459460695286304, -0.0412244715462175,
         0.0305066555832928, -0.00272589288611625, -0.0310871193896889, -0.0260544107191966],
        [0.0232510363681664, 0.0309847667572767, 0.0364356642876865, 0.0343592258346732,
         0.0233268051418047, 0.0195585610358817, 0.0177551966592763, 0.0202291807041068,
         0.01503356028013, 0.0163958328955344, 0.0178775113133435, 0.0166554353492522],
    ),
    ("not_yet_treated", "dr", None): (
        [-0.0193723636759221, -0.0783190990620607, -0.136274346328678, -0.100811363085404,
         -0.00256255094261098, -0.00193924609578875, 0.00466087631997615, -0.0412244715462175,
         0.0297593647610311, -0.0024106128000969, -0.0310871193896889, -0.0260544107191966],
        [0.0223101128836806, 0.0303902285433973, 0.03540338496891, 0.0343592258346732,
         0.0225302351453388, 0.019042158605819, 0.0163355842468236, 0.0202291807041068,
         0.0145335416386514, 0.0160312963755178, 0.0178775113133435, 0.0166554353492522],
    ),
    ("never_treated", "reg", "lpop"): (
        [-0.014911237790361, -0.0769963229660512, -0.141080104628588, -0.107544274673046,
         -0.0020660581184395, -0.00696828306727072, 0.000765525026395888, -0.0415356365293253,
         0.0263658317469803, -0.00475983533866949, -0.028502106413859, -0.0287894881938243],
        [0.0220556930763195, 0.0283597455101496, 0.0348362869536185, 0.0327376926434119,
         0.022122286483578, 0.0183457856293695, 0.0191959070328785, 0.0197168736453729,
         0.0140189493226751, 0.0156699660373289, 0.0181320658924703, 0.0161678672536918],
    ),
}
R_ATT_GT[("never_treated", "ipw", None)] = R_ATT_GT[("never_treated", "dr", None)]

# R_REF: aggte overall (att, se) and the table {label: (att, se)}.
_NEV_DR_AGG = {
    "simple": ((-0.0399512751551763, 0.0120340127701854), {}),
    "group": ((-0.0310182822287484, 0.0124460593209979), {
        2004: (-0.0797491265747291, 0.0263677994350273),
        2006: (-0.0229095392495403, 0.0167033302551619),
        2007: (-0.0260544107191966, 0.0166554353492522)}),
    "dynamic": ((-0.0772398214573151, 0.0199649890618494), {
        -3: (0.0305066555832928, 0.01503356028013),
        -2: (-0.000563084626385429, 0.01329164473655),
        -1: (-0.0244587449711696, 0.0142364022105193),
        0: (-0.0199318167892593, 0.0118263640580582),
        1: (-0.0509573670651939, 0.016893476268678),
        2: (-0.137258738889403, 0.0364356642876865),
        3: (-0.100811363085404, 0.0343592258346733)}),
    "calendar": ((-0.0417004321312822, 0.01597185188456), {
        2004: (-0.0105032462209624, 0.0232510363681664),
        2005: (-0.0704231581031467, 0.0309847667572767),
        2006: (-0.0488159842650431, 0.0201258612605003),
        2007: (-0.0370593399359766, 0.0137470791411185)}),
}
R_AGGTE = {
    ("never_treated", "dr", None): _NEV_DR_AGG,
    ("never_treated", "ipw", None): _NEV_DR_AGG,
    ("not_yet_treated", "dr", None): {
        "simple": ((-0.0397636256230437, 0.0120524247873419), {}),
        "group": ((-0.030462228112565, 0.0125751201316818), {
            2004: (-0.0836942930380162, 0.0257015997680069),
            2006: (-0.0182817976131207, 0.0159222358245001),
            2007: (-0.0260544107191966, 0.0166554353492522)}),
        "dynamic": ((-0.0773993139705847, 0.0195601769463944), {
            -3: (0.0297593647610311, 0.0145335416386514),
            -2: (-0.00244615388606511, 0.0131203504342708),
            -1: (-0.0242689034145076, 0.0144636816758019),
            0: (-0.0189221990834249, 0.0120445686892691),
            1: (-0.0535893473848319, 0.016946385539125),
            2: (-0.136274346328678, 0.03540338496891),
            3: (-0.100811363085404, 0.0343592258346733)}),
        "calendar": ((-0.0442670834758837, 0.0155709044211449), {
            2004: (-0.0193723636759221, 0.0223101128836806),
            2005: (-0.0783190990620607, 0.0303902285433972),
            2006: (-0.0423175312295752, 0.0190562576431668),
            2007: (-0.0370593399359766, 0.0137470791411185)}),
    },
    ("never_treated", "reg", "lpop"): {
        "simple": ((-0.0419686124215432, 0.0114448297682151), {}),
        "group": ((-0.0329292402290042, 0.0118603087662617), {
            2004: (-0.0851329850145115, 0.0242512163971128),
            2006: (-0.0203850557514647, 0.0174025032538199),
            2007: (-0.0287894881938243, 0.0161678672536918)}),
        "dynamic": ((-0.0807817453337615, 0.0187458547114755), {
            -3: (0.0263658317469803, 0.0140189493226751),
            -2: (-0.00412971201229991, 0.0129174707430671),
            -1: (-0.0234649547538384, 0.0144416499564523),
            0: (-0.0211467366918448, 0.0114810443929097),
            1: (-0.0533558653415673, 0.0162930738253423),
            2: (-0.141080104628588, 0.0348362869536185),
            3: (-0.107544274673046, 0.032737692643412)}),
        "calendar": ((-0.0445323313531745, 0.0148850278130483), {
            2004: (-0.014911237790361, 0.0220556930763196),
            2005: (-0.0769963229660512, 0.0283597455101496),
            2006: (-0.0465163515252653, 0.020998373312028),
            2007: (-0.0397054131310205, 0.0128658596749845)}),
    },
}
# R_REF: Wald pre-test statistic W.
R_PRETEST_W = {
    ("never_treated", "dr", None): 7.79123662720035,
    ("not_yet_treated", "dr", None): 7.79092771882739,
    ("never_treated", "reg", "lpop"): 6.8612749537136,
    ("never_treated", "ipw", None): 7.79123662720035,
}
# R_MANUAL: doubly robust with lpop, ATT(g,t) to 4 decimals and the pre-test p-value.
R_MANUAL_DR_LPOP = {
    "never_treated": (
        [-0.0145, -0.0764, -0.1404, -0.1069, -0.0005, -0.0062, 0.0010, -0.0413,
         0.0267, -0.0046, -0.0284, -0.0288], 0.23267),
    "not_yet_treated": (
        [-0.0212, -0.0816, -0.1382, -0.1069, -0.0075, -0.0046, 0.0087, -0.0413,
         0.0269, -0.0042, -0.0284, -0.0288], 0.23326),
}

# fmt: on

KEY = pytest.mark.parametrize("key", list(R_ATT_GT), ids=lambda k: "-".join(map(str, k)))


@pytest.fixture(scope="module")
def mpdta(reference_dir):
    return pd.read_csv(reference_dir / "mpdta.csv")


def _fit(data, control="never_treated", method="dr", cov=None, **kw):
    model = StaggeredDiD(
        data,
        "lemp",
        "countyreal",
        "year",
        "first.treat",
        control=control,
        method=method,
        covariates=[cov] if cov else None,
    )
    return model.fit(**kw)


@pytest.fixture(scope="module")
def fits(mpdta):
    keys = [
        *R_ATT_GT,
        ("never_treated", "dr", "lpop"),
        ("not_yet_treated", "dr", "lpop"),
        ("not_yet_treated", "reg", "lpop"),
    ]
    return {k: _fit(mpdta, *k) for k in keys}


# --- reproduction of R did ----------------------------------------------------------------


@KEY
def test_att_gt_matches_r(fits, key):
    res = fits[key]
    att, se = R_ATT_GT[key]
    assert list(zip(res.att_gt["group"], res.att_gt["time"], strict=True)) == CELLS
    np.testing.assert_allclose(res.att_gt["att"], att, rtol=0, atol=1e-7)
    np.testing.assert_allclose(res.att_gt["se"], se, rtol=1e-5)
    assert res.nobs == 500


@KEY
@pytest.mark.parametrize("kind", ["simple", "group", "dynamic", "calendar"])
def test_aggregations_match_r(fits, key, kind):
    agg = fits[key].aggregate(kind)
    (att, se), table = R_AGGTE[key][kind]
    assert agg.att == pytest.approx(att, abs=1e-7)
    assert agg.se == pytest.approx(se, rel=1e-5)
    if table:
        assert list(agg.table.index) == list(table)
        np.testing.assert_allclose(agg.table["att"], [v[0] for v in table.values()], atol=1e-7)
        np.testing.assert_allclose(agg.table["se"], [v[1] for v in table.values()], rtol=1e-5)


@KEY
def test_pretrend_wald_matches_r(fits, key):
    test = fits[key].pretrend_test
    assert test.df == 5
    assert test.stat == pytest.approx(R_PRETEST_W[key], rel=1e-6)


@pytest.mark.parametrize("control", list(R_MANUAL_DR_LPOP))
def test_dr_with_covariate_matches_r_manual(fits, control):
    res = fits[(control, "dr", "lpop")]
    att, pvalue = R_MANUAL_DR_LPOP[control]
    np.testing.assert_allclose(res.att_gt["att"], att, rtol=0, atol=5.01e-5)
    assert res.pretrend_test.pvalue == pytest.approx(pvalue, abs=1e-5)


# --- independent computations -------------------------------------------------------------


def _two_by_two(data, g, t, control, base=None, anticipation=0):
    """The 2x2 sample of cell (g, t) as plain pandas: dy = Y_t - Y_base, treated flag."""
    first = data.groupby("countyreal")["first.treat"].first()
    if base is None:
        base = g - 1 - anticipation if t >= g else t - 1
    wide = data.pivot(index="countyreal", columns="year", values="lemp")
    dy = wide[t] - wide[base]
    lpop = data.pivot(index="countyreal", columns="year", values="lpop")[min(t, base)]
    treated = first == g
    ctrl = first == 0
    if control == "not_yet_treated":
        ctrl |= (first > max(t, base) + anticipation) & (first != g)
    keep = treated | ctrl
    return pd.DataFrame({"dy": dy[keep], "d": treated[keep].astype(float), "lpop": lpop[keep]})


@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_without_covariates_is_difference_of_means(mpdta, control, method):
    res = _fit(mpdta, control, method)
    for (g, t), att, se in zip(CELLS, res.att_gt["att"], res.att_gt["se"], strict=True):
        s = _two_by_two(mpdta, g, t, control)
        tr, co = s.loc[s.d == 1, "dy"], s.loc[s.d == 0, "dy"]
        assert att == pytest.approx(tr.mean() - co.mean(), abs=1e-10)
        # the influence-function variance of a difference of means
        ref_se = np.sqrt(tr.var(ddof=0) / len(tr) + co.var(ddof=0) / len(co))
        assert se == pytest.approx(ref_se, rel=1e-8)


def test_reg_with_covariate_matches_statsmodels_ols(fits, mpdta):
    res = fits[("not_yet_treated", "reg", "lpop")]
    for (g, t), att in zip(CELLS, res.att_gt["att"], strict=True):
        s = _two_by_two(mpdta, g, t, "not_yet_treated")
        ctrl, tr = s[s.d == 0], s[s.d == 1]
        ols = sm.OLS(ctrl["dy"], sm.add_constant(ctrl[["lpop"]])).fit()
        pred = ols.predict(sm.add_constant(tr[["lpop"]], has_constant="add"))
        assert att == pytest.approx(float((tr["dy"] - pred).mean()), abs=1e-10)


def _dr_moments(theta, dy, d, x):
    """Stacked estimating equations of the doubly robust DiD (logit, OLS, two means)."""
    k = x.shape[1]
    gamma, beta, eta_t, eta_c = theta[:k], theta[k : 2 * k], theta[2 * k], theta[2 * k + 1]
    p = 1 / (1 + np.exp(-x @ gamma))
    resid = dy - x @ beta
    w = (1 - d) * p / (1 - p)
    return np.column_stack(
        [
            (d - p)[:, None] * x,
            ((1 - d) * resid)[:, None] * x,
            d * (resid - eta_t),
            w * (resid - eta_c),
        ]
    )


@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
def test_dr_with_covariate_matches_stacked_sandwich(fits, mpdta, control):
    """Point estimates from statsmodels fits and SEs from a numerical M-estimation sandwich."""
    res = fits[(control, "dr", "lpop")]
    for (g, t), att, se in zip(CELLS, res.att_gt["att"], res.att_gt["se"], strict=True):
        s = _two_by_two(mpdta, g, t, control)
        x = sm.add_constant(s[["lpop"]]).to_numpy()
        dy, d = s["dy"].to_numpy(), s["d"].to_numpy()
        gamma = sm.Logit(d, x).fit(disp=0, tol=1e-12).params
        beta = sm.OLS(dy[d == 0], x[d == 0]).fit().params
        p = 1 / (1 + np.exp(-x @ gamma))
        w = (1 - d) * p / (1 - p)
        resid = dy - x @ beta
        theta = np.r_[gamma, beta, resid[d == 1].mean(), np.sum(w * resid) / w.sum()]
        assert att == pytest.approx(theta[-2] - theta[-1], abs=1e-9)
        m = _dr_moments(theta, dy, d, x)
        jac = np.empty((m.shape[1], len(theta)))
        for j in range(len(theta)):
            h = np.zeros(len(theta))
            h[j] = 1e-6
            jac[:, j] = (
                _dr_moments(theta + h, dy, d, x).mean(0) - _dr_moments(theta - h, dy, d, x).mean(0)
            ) / 2e-6
        a_inv = np.linalg.inv(jac)
        v = a_inv @ (m.T @ m / len(d)) @ a_inv.T / len(d)
        grad = np.zeros(len(theta))
        grad[-2], grad[-1] = 1.0, -1.0
        assert se == pytest.approx(np.sqrt(grad @ v @ grad), rel=1e-5)


def _aggregate_by_hand(kind, cells, att, pg):
    """The aggregations written directly from their definitions (weights = group shares)."""
    df = pd.DataFrame(cells, columns=["g", "t"]).assign(att=att, w=[pg[g] for g, _ in cells])
    df["e"] = df.t - df.g
    post = df[df.t >= df.g]
    wavg = lambda s: (s.att * s.w).sum() / s.w.sum()  # noqa: E731
    if kind == "simple":
        return wavg(post), np.array([wavg(post)])
    if kind == "group":
        by = post.groupby("g").att.mean()
        shares = np.array([pg[g] for g in by.index])
        return float(by.to_numpy() @ shares / shares.sum()), by.to_numpy()
    if kind == "dynamic":
        by = df.groupby("e")[["att", "w"]].apply(wavg)
        return by[by.index >= 0].mean(), by.to_numpy()
    by = post.groupby("t")[["att", "w"]].apply(wavg)
    return by.mean(), by.to_numpy()


@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
@pytest.mark.parametrize("kind", ["simple", "group", "dynamic", "calendar"])
def test_aggregate_matches_delta_method(fits, control, kind):
    """Aggregated SEs (with estimated group shares) equal a numerical delta method."""
    res = fits[(control, "dr", "lpop")]
    ug, n = res.unit_group, res.nobs
    groups = (2004.0, 2006.0, 2007.0)
    pg = np.array([np.mean(ug == g) for g in groups])
    att = res.att_gt["att"].to_numpy()
    stacked = np.column_stack([res.influence, (ug[:, None] == groups) - pg])
    sigma = stacked.T @ stacked / n**2
    theta = np.r_[att, pg]

    def f(th):
        overall, table = _aggregate_by_hand(
            kind, CELLS, th[:12], dict(zip(groups, th[12:], strict=True))
        )
        return np.r_[overall, table]

    jac = np.column_stack([(f(theta + h) - f(theta - h)) / 2e-7 for h in np.eye(len(theta)) * 1e-7])
    se = np.sqrt(np.diag(jac @ sigma @ jac.T))
    agg = res.aggregate(kind)
    assert agg.att == pytest.approx(f(theta)[0], abs=1e-12)
    assert agg.se == pytest.approx(se[0], rel=1e-5)
    if kind != "simple":
        np.testing.assert_allclose(agg.table["att"], f(theta)[1:], atol=1e-12)
        np.testing.assert_allclose(agg.table["se"], se[1:], rtol=1e-5)


def test_universal_base_period_identity(mpdta):
    var = _fit(mpdta, base_period="varying").att_gt.set_index(["group", "time"])["att"]
    uni = _fit(mpdta, base_period="universal").att_gt.set_index(["group", "time"])
    assert uni.loc[(2007, 2006), "att"] == 0 and np.isnan(uni.loc[(2007, 2006), "se"])
    # Y_2004 - Y_2006 is minus the sum of the two consecutive changes after 2004
    assert uni.loc[(2007, 2004), "att"] == pytest.approx(
        -(var[(2007, 2005)] + var[(2007, 2006)]), abs=1e-12
    )
    assert len(uni) == 15  # every period, the base period included
    post = uni[uni["post"]]
    np.testing.assert_allclose(post["att"], var.loc[post.index], atol=1e-12)


def test_anticipation_shifts_the_base_period(mpdta):
    with pytest.warns(EstimationWarning, match="no pre-treatment period"):
        res = _fit(mpdta, anticipation=1)
    assert set(res.att_gt["group"]) == {2006, 2007}
    tab = res.att_gt.set_index(["group", "time"])["att"]
    for t in (2005, 2006, 2007):
        s = _two_by_two(
            mpdta[mpdta["first.treat"] != 2004],
            2006,
            t,
            "never_treated",
            base=2004 if t >= 2005 else None,
            anticipation=1,
        )
        ref = s.loc[s.d == 1, "dy"].mean() - s.loc[s.d == 0, "dy"].mean()
        assert tab[(2006, t)] == pytest.approx(ref, abs=1e-12)


# --- recovery on simulated data ----------------------------------------------------------


def _simulate(seed=20240601, n=2000, periods=6):
    """Staggered adoption whose timing and untreated trends both depend on a covariate x.

    ATT(g,t) = 1 + 0.5 (t - g) for t >= g; parallel trends hold only given x.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    score = np.column_stack([np.zeros(n), 0.8 * x, 0.4 * x, -0.2 * x])
    prob = np.exp(score) / np.exp(score).sum(axis=1, keepdims=True)
    g = np.array([0, 3, 4, 5])[(prob.cumsum(axis=1) > rng.random(n)[:, None]).argmax(axis=1)]
    unit = rng.normal(size=n) + g / 2
    rows = []
    for t in range(1, periods + 1):
        effect = np.where((g > 0) & (t >= g), 1 + 0.5 * (t - g), 0.0)
        y = unit + 0.3 * t + 0.4 * x * t + effect + rng.normal(scale=0.5, size=n)
        rows.append(pd.DataFrame({"id": np.arange(n), "t": t, "g": g, "x": x, "y": y}))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def simulated():
    return _simulate()


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
def test_recovers_known_effects(simulated, method, control):
    res = StaggeredDiD(
        simulated, "y", "id", "t", "g", control=control, method=method, covariates=["x"]
    ).fit(alpha=0.01)
    tab = res.att_gt
    post = tab[tab.post]
    truth = 1 + 0.5 * (post.time - post.group)
    assert ((post.ci_lower <= truth) & (truth <= post.ci_upper)).all()
    assert res.pretrend_test.pvalue > 0.01
    dyn = res.aggregate("dynamic")
    lo, hi = dyn.conf_int(0.99)
    assert lo <= 1 + 0.5 * np.mean([0, 1, 2, 3]) <= hi
    e = dyn.table.loc[dyn.table.index >= 0]
    assert ((e.ci_lower <= 1 + 0.5 * e.index) & (1 + 0.5 * e.index <= e.ci_upper)).all()


def test_ignoring_the_covariate_is_detected(simulated):
    """Without x the parallel-trends violation biases the effects and the pre-test rejects."""
    res = StaggeredDiD(simulated, "y", "id", "t", "g").fit()
    assert res.pretrend_test.pvalue < 1e-6
    lo, hi = res.aggregate("dynamic").conf_int(0.99)
    assert not lo <= 1.75 <= hi


# --- bootstrap ---------------------------------------------------------------------------


@pytest.mark.parametrize("weights", ["mammen", "rademacher"])
def test_bootstrap_close_to_analytic_and_reproducible(fits, mpdta, weights):
    analytic = fits[("never_treated", "dr", None)]
    a = _fit(mpdta, bootstrap=True, n_boot=999, seed=7, boot_weights=weights)
    b = _fit(mpdta, bootstrap=True, n_boot=999, seed=7, boot_weights=weights)
    c = _fit(mpdta, bootstrap=True, n_boot=999, seed=8, boot_weights=weights)
    pd.testing.assert_frame_equal(a.att_gt, b.att_gt)
    assert not np.allclose(a.att_gt["se"], c.att_gt["se"])
    np.testing.assert_allclose(a.att_gt["se"], analytic.att_gt["se"], rtol=0.15)
    np.testing.assert_allclose(a.att_gt["att"], analytic.att_gt["att"])
    agg = a.aggregate("dynamic")
    assert agg.se == pytest.approx(analytic.aggregate("dynamic").se, rel=0.15)
    assert agg.se == b.aggregate("dynamic").se


def test_uniform_band_is_wider(mpdta):
    res = _fit(mpdta, bootstrap=True, n_boot=999, seed=3, uniform_band=True)
    assert 1.96 < res.critical_value < 4
    width = res.att_gt["ci_upper"] - res.att_gt["ci_lower"]
    np.testing.assert_allclose(width, 2 * res.critical_value * res.att_gt["se"])
    dyn = res.aggregate("dynamic")
    assert dyn.critical_value > 1.96


# --- results object ----------------------------------------------------------------------


def test_results_interface(fits):
    res = fits[("never_treated", "dr", None)]
    assert res.params.index[1] == "ATT(g=2004,t=2005)"
    np.testing.assert_allclose(np.sqrt(np.diag(res.cov)), res.std_errors)
    ci = res.conf_int(0.9)
    assert (ci["lower"] < res.params).all() and (res.params < ci["upper"]).all()
    assert res.pvalues.between(0, 1).all()
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.alpha = 0.1  # type: ignore[misc]
    agg = res.aggregate("group")
    with pytest.raises(dataclasses.FrozenInstanceError):
        agg.att = 0.0  # type: ignore[misc]
    assert "Group-time average treatment effects" in str(res)
    assert "Pre-trend test" in res.summary
    assert "<table" in res._repr_html_() and "<table" in agg._repr_html_()
    assert "Aggregated treatment effects (group)" in str(agg)
    assert agg.cov.shape == (3, 3)


# --- data handling -----------------------------------------------------------------------


def test_unbalanced_panel_raises_with_the_count_and_how_to_balance(mpdta):
    gap = mpdta.drop(index=mpdta.index[(mpdta.countyreal == 8001) & (mpdta.year == 2005)])
    with pytest.raises(UnbalancedPanelError, match=r"1 of 500 entities.*8001") as err:
        _fit(gap)
    assert "drops 1 entities" in str(err.value) and "transform('size')" in str(err.value)
    # the recipe in the message balances the panel: it keeps the other 499 entities
    n = gap["year"].nunique()
    balanced = gap[gap.groupby("countyreal")["year"].transform("size") == n]
    res = _fit(balanced)
    assert res.nobs == 499
    pd.testing.assert_frame_equal(res.att_gt, _fit(mpdta[mpdta.countyreal != 8001]).att_gt)


def test_missing_values_are_counted_then_the_gap_is_an_unbalanced_panel(mpdta):
    bad = mpdta.copy()
    bad.loc[bad.index[:3], "lemp"] = np.nan
    hit = bad.loc[bad.index[:3], "countyreal"].nunique()
    with pytest.warns(MissingValuesWarning, match="3 of 2500 rows"):
        with pytest.raises(UnbalancedPanelError, match=f"{hit} of 500 entities"):
            _fit(bad)


def test_groups_without_never_treated(mpdta):
    treated = mpdta[mpdta["first.treat"] > 0]
    with pytest.raises(CalibrationError, match="not_yet_treated"):
        _fit(treated)
    with pytest.warns(EstimationWarning, match="serves as never treated"):
        res = _fit(treated, control="not_yet_treated")
    # the 2007 group becomes the comparison group and 2007 is dropped
    assert set(res.att_gt["group"]) == {2004, 2006}
    assert res.att_gt["time"].max() == 2006
    s = _two_by_two(
        treated.assign(**{"first.treat": treated["first.treat"].replace(2007, 0)}),
        2006,
        2006,
        "not_yet_treated",
    )
    ref = s.loc[s.d == 1, "dy"].mean() - s.loc[s.d == 0, "dy"].mean()
    assert res.att_gt.set_index(["group", "time"])["att"][(2006, 2006)] == pytest.approx(ref)


def test_group_after_last_period_is_never_treated(mpdta):
    late = mpdta.assign(**{"first.treat": mpdta["first.treat"].replace(0, 2010)})
    with pytest.warns(EstimationWarning, match="after the last period"):
        res = _fit(late)
    pd.testing.assert_frame_equal(res.att_gt, _fit(mpdta).att_gt)


def test_bad_inputs_raise(mpdta):
    with pytest.raises(PanelDataError, match="more than once"):
        _fit(pd.concat([mpdta, mpdta.iloc[:1]]))
    varying = mpdta.copy()
    varying.loc[varying.index[0], "first.treat"] = 2006
    with pytest.raises(PanelDataError, match="constant within entity"):
        _fit(varying)
    with pytest.raises(CalibrationError, match="control"):
        _fit(mpdta, control="everyone")
    with pytest.raises(CalibrationError, match="method"):
        _fit(mpdta, method="ols")
    with pytest.raises(CalibrationError, match="base_period"):
        _fit(mpdta, base_period="first")
    with pytest.raises(CalibrationError, match="uniform_band"):
        _fit(mpdta, uniform_band=True)
    with pytest.raises(PanelDataError, match="not found"):
        StaggeredDiD(mpdta, "lemp", "countyreal", "year", "first.treat", covariates=["nope"])


# --- results callers cannot mutate -----------------------------------------------------


def test_staggered_results_are_private_copies():
    rng = np.random.default_rng(5)
    rows = []
    for i in range(60):
        g = (0, 2003, 2005)[i % 3]
        a = rng.normal()
        for t in range(2001, 2007):
            eff = 1.0 if g and t >= g else 0.0
            rows.append((i, t, g, a + 0.1 * t + eff + rng.normal(0, 0.3)))
    df = pd.DataFrame(rows, columns=["county", "year", "first", "y"])
    res = quiet(lambda: StaggeredDiD(df, "y", "county", "year", "first").fit())
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


# --- cells that cannot be estimated, collinear covariates, bad groups (issue 12) ------------


def _collinear_among_controls(periods, seed=5, n=90):
    """Groups 0/2003/2005 over 2001-2006; among never-treated units z = 2x in ``periods``."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        g = (0, 2003, 2005)[i % 3]
        a = rng.normal()
        for t in range(2001, 2007):
            x, z = rng.normal(), rng.normal()
            if g == 0 and t in periods:
                z = 2 * x
            eff = 1.0 if g and t >= g else 0.0
            rows.append((i, t, g, x, z, a + 0.1 * t + eff + 0.2 * x + rng.normal(0, 0.3)))
    return pd.DataFrame(rows, columns=["county", "year", "first", "x", "z", "y"])


@pytest.fixture(scope="module")
def partly_estimable():
    """Every cell whose earlier period is 2002 is NaN: group 2003's post cells and (2005, 2003)."""
    df = _collinear_among_controls({2002})
    return quiet(
        lambda: StaggeredDiD(df, "y", "county", "year", "first", covariates=["x", "z"]).fit()
    )


def test_collinear_covariates_are_named_as_collinear():
    # before: the cells were blamed on "too few comparison units"
    df = _collinear_among_controls({2002})
    model = StaggeredDiD(df, "y", "county", "year", "first", covariates=["x", "z"])
    with pytest.warns(EstimationWarning, match=r"group 2003, period 2004.*collinear.*\['x', 'z'\]"):
        res = model.fit()
    nan = res.att_gt.loc[res.att_gt["att"].isna(), ["group", "time"]]
    assert sorted(map(tuple, nan.to_numpy())) == [(2003, t) for t in range(2003, 2007)] + [
        (2005, 2003)
    ]


def test_covariates_collinear_for_every_unit_raise_at_construction():
    df = _collinear_among_controls(set()).assign(w=lambda d: 2 * d["x"] - 1)
    with pytest.raises(CollinearityError, match=r"period 2001.*\['x', 'w', 'const'\]"):
        StaggeredDiD(df, "y", "county", "year", "first", covariates=["x", "w"])


@pytest.mark.parametrize("kind", ["simple", "group", "dynamic", "calendar"])
def test_aggregation_reweights_over_estimable_cells_and_names_the_dropped(partly_estimable, kind):
    # before: the NaN cells were left out of the weights without a word
    with pytest.warns(
        EstimationWarning, match=r"\(group 2003, time 2004\).*weights were recomputed"
    ):
        agg = partly_estimable.aggregate(kind)
    cells = partly_estimable.att_gt.set_index(["group", "time"])["att"]
    # only group 2005's post-treatment cells are left for the overall effect
    assert agg.att == pytest.approx((cells[(2005, 2005)] + cells[(2005, 2006)]) / 2)
    assert np.isfinite(agg.se)
    if kind == "group":
        assert np.isnan(agg.table.loc[2003, "att"]) and np.isnan(agg.table.loc[2003, "se"])


@pytest.mark.parametrize("kind", ["simple", "group", "dynamic", "calendar"])
def test_aggregation_of_no_estimable_cell_raises(kind):
    # before: the simple ATT came back as 0.0; the others failed with numpy's messages
    df = _collinear_among_controls(set(range(2001, 2007)))
    res = quiet(
        lambda: StaggeredDiD(df, "y", "county", "year", "first", covariates=["x", "z"]).fit()
    )
    assert res.att_gt["att"].isna().all()
    with pytest.raises(NotEstimableError, match=r"could be estimated.*\(group 2005, time 2006\)"):
        res.aggregate(kind)


def test_non_integer_group_raises_naming_column_and_value(mpdta):
    # before: 2005.5 became group 2005 when the cells were labelled
    bad = mpdta.assign(**{"first.treat": mpdta["first.treat"].astype(float)})
    bad.loc[bad["first.treat"] == 2006, "first.treat"] = 2005.5
    with pytest.raises(PanelDataError, match=r"'first.treat'.*whole numbers.*2005.5") as err:
        StaggeredDiD(bad, "lemp", "countyreal", "year", "first.treat")
    assert err.value.column == "first.treat" and err.value.value == 2005.5


# --- clustering beyond the entity and sampling weights ------------------------------------


def _tiny(seed=3, n=12, periods=(1, 2, 3)):
    """12 units in 4 clusters (states), groups 0 and 3, no covariates."""
    rng = np.random.default_rng(seed)
    g = np.array([0, 3] * (n // 2))
    state = np.repeat(np.arange(n // 3), 3)
    rows = [
        (i, t, g[i], state[i], rng.normal() + 0.2 * t + (g[i] > 0 and t >= g[i]))
        for i in range(n)
        for t in periods
    ]
    return pd.DataFrame(rows, columns=["id", "t", "g", "state", "y"])


def test_clustering_on_the_entity_or_a_copy_of_it_is_the_default(mpdta, fits):
    ref = fits[("never_treated", "dr", None)]
    by_name = StaggeredDiD(
        mpdta, "lemp", "countyreal", "year", "first.treat", clustervars=["countyreal"]
    ).fit()
    pd.testing.assert_frame_equal(by_name.att_gt, ref.att_gt)
    assert by_name.clustervar is None
    copy = mpdta.assign(county_copy=mpdta["countyreal"].astype(str))
    by_copy = StaggeredDiD(
        copy, "lemp", "countyreal", "year", "first.treat", clustervars="county_copy"
    ).fit()
    assert by_copy.n_clusters == 500
    np.testing.assert_allclose(by_copy.att_gt["se"], ref.att_gt["se"], rtol=1e-12)
    for kind in ("simple", "dynamic"):
        a, b = by_copy.aggregate(kind), ref.aggregate(kind)
        assert a.se == pytest.approx(b.se, rel=1e-12)
        np.testing.assert_allclose(a.table["se"], b.table["se"], rtol=1e-12)
    assert by_copy.pretrend_test.stat == pytest.approx(ref.pretrend_test.stat, rel=1e-10)


def test_cluster_robust_variance_by_hand_on_a_tiny_panel():
    df = _tiny()
    res = StaggeredDiD(df, "y", "id", "t", "g", clustervars=["id", "state"]).fit()
    assert res.clustervar == "state" and res.n_clusters == 4
    wide = df.pivot(index="id", columns="t", values="y")
    g = df.groupby("id")["g"].first()
    state = df.groupby("id")["state"].first()
    d = (g == 3).astype(float)
    n = len(wide)
    cells = res.att_gt.set_index(["group", "time"])
    for base, t in ((1, 2), (2, 3)):  # the pre-treatment cell (3, 2) and the post cell (3, 3)
        dy = wide[t] - wide[base]
        m1, m0 = dy[d == 1].mean(), dy[d == 0].mean()
        p1 = d.mean()
        psi = d * (dy - m1) / p1 - (1 - d) * (dy - m0) / (1 - p1)
        s_c = psi.groupby(state).sum()
        assert cells.loc[(3, t), "att"] == pytest.approx(m1 - m0, rel=1e-12)
        assert cells.loc[(3, t), "se"] == pytest.approx(np.sqrt((s_c**2).sum()) / n, rel=1e-12)
        unclustered = np.sqrt((psi**2).sum()) / n
        assert cells.loc[(3, t), "se"] != pytest.approx(unclustered, rel=1e-3)
    post = res.aggregate("simple")
    # one treated group and one post cell: the simple effect is that cell, its SE clustered
    assert post.att == pytest.approx(cells.loc[(3, 3), "att"], rel=1e-12)
    assert post.se == pytest.approx(cells.loc[(3, 3), "se"], rel=1e-9)


def _duplicate(df, copies, id_col="id"):
    """Each unit i appears copies[i] times under ids 100 i + c; ``orig`` keeps the old id."""
    ids = df[id_col].unique()
    parts = []
    for i, k in zip(ids, copies, strict=True):
        unit = df[df[id_col] == i]
        for c in range(k):
            parts.append(unit.assign(orig=i, **{id_col: 100 * i + c}))
    return pd.concat(parts, ignore_index=True)


def test_perfectly_correlated_clusters_scale_the_se_by_the_root_of_their_size(simulated):
    sub = simulated[simulated["id"] < 300]
    k = 4
    dup = _duplicate(sub, [k] * 300)
    model = dict(control="not_yet_treated", method="dr", covariates=["x"])
    base = StaggeredDiD(sub, "y", "id", "t", "g", **model).fit()
    naive = StaggeredDiD(dup, "y", "id", "t", "g", **model).fit()
    clustered = StaggeredDiD(dup, "y", "id", "t", "g", clustervars="orig", **model).fit()
    np.testing.assert_allclose(naive.att_gt["att"], base.att_gt["att"], rtol=1e-9)
    # copies have identical influence functions: clustering them multiplies the SE by
    # sqrt(k) and gives back the SE of the panel without copies
    np.testing.assert_allclose(clustered.att_gt["se"], np.sqrt(k) * naive.att_gt["se"], rtol=1e-9)
    np.testing.assert_allclose(clustered.att_gt["se"], base.att_gt["se"], rtol=1e-9)
    for kind in ("simple", "group", "dynamic", "calendar"):
        a, b = clustered.aggregate(kind), base.aggregate(kind)
        assert a.se == pytest.approx(b.se, rel=1e-9)
        np.testing.assert_allclose(a.table["se"], b.table["se"], rtol=1e-9)
    assert clustered.pretrend_test.stat == pytest.approx(base.pretrend_test.stat, rel=1e-8)


def test_clustered_bootstrap_draws_one_multiplier_per_cluster(simulated):
    sub = simulated[simulated["id"] < 300]
    dup = _duplicate(sub, [3] * 300)
    kw = dict(bootstrap=True, n_boot=999, seed=11)
    base = StaggeredDiD(sub, "y", "id", "t", "g").fit(**kw)
    clustered = StaggeredDiD(dup, "y", "id", "t", "g", clustervars="orig").fit(**kw)
    # 300 clusters of identical copies: the same multipliers on the same cluster sums
    np.testing.assert_allclose(clustered.att_gt["se"], base.att_gt["se"], rtol=1e-9)
    assert clustered.aggregate("dynamic").se == pytest.approx(base.aggregate("dynamic").se)
    assert "clustered by orig (300 clusters)" in clustered.summary


def test_integer_weights_equal_duplicated_units(simulated):
    sub = simulated[simulated["id"] < 240]
    copies = np.random.default_rng(1).integers(1, 4, size=240)
    weighted = sub.assign(w=copies[sub["id"].to_numpy()])
    dup = _duplicate(sub, copies)
    for method in ("dr", "ipw", "reg"):
        model = dict(control="not_yet_treated", method=method, covariates=["x"])
        wres = StaggeredDiD(weighted, "y", "id", "t", "g", weights="w", **model).fit()
        dres = StaggeredDiD(dup, "y", "id", "t", "g", clustervars="orig", **model).fit()
        plain = StaggeredDiD(sub, "y", "id", "t", "g", **model).fit()
        np.testing.assert_allclose(wres.att_gt["att"], dres.att_gt["att"], rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(wres.att_gt["se"], dres.att_gt["se"], rtol=1e-8)
        assert not np.allclose(wres.att_gt["att"], plain.att_gt["att"], rtol=1e-4)
        for kind in ("simple", "group", "dynamic", "calendar"):
            a, b = wres.aggregate(kind), dres.aggregate(kind)
            assert a.att == pytest.approx(b.att, rel=1e-8)
            np.testing.assert_allclose(a.table["att"], b.table["att"], rtol=1e-8)
        # per-group effects carry no estimated-share term, so their SEs match too
        np.testing.assert_allclose(
            wres.aggregate("group").table["se"], dres.aggregate("group").table["se"], rtol=1e-8
        )


def test_weights_of_one_equal_the_unweighted_fit(mpdta, fits):
    for key in (("never_treated", "dr", "lpop"), ("not_yet_treated", "reg", "lpop")):
        control, method, cov = key
        res = StaggeredDiD(
            mpdta.assign(w=1.0),
            "lemp",
            "countyreal",
            "year",
            "first.treat",
            control=control,
            method=method,
            covariates=[cov],
            weights="w",
        ).fit()
        pd.testing.assert_frame_equal(res.att_gt, fits[key].att_gt)
        for kind in ("simple", "group", "dynamic", "calendar"):
            a, b = res.aggregate(kind), fits[key].aggregate(kind)
            assert (a.att, a.se) == (b.att, b.se)
            pd.testing.assert_frame_equal(a.table, b.table)


def test_scaling_the_weights_changes_nothing(mpdta):
    w = np.random.default_rng(2).uniform(0.5, 2.0, 500)
    data = mpdta.assign(w=w[pd.factorize(mpdta["countyreal"])[0]])
    fit = lambda c: StaggeredDiD(  # noqa: E731
        data.assign(w=c * data["w"]), "lemp", "countyreal", "year", "first.treat", weights="w"
    ).fit()
    a, b = fit(1.0), fit(7.5)
    np.testing.assert_allclose(a.att_gt["att"], b.att_gt["att"], rtol=1e-10)
    np.testing.assert_allclose(a.att_gt["se"], b.att_gt["se"], rtol=1e-10)
    assert a.aggregate("dynamic").se == pytest.approx(b.aggregate("dynamic").se, rel=1e-10)


def test_time_varying_weights_and_clusters_are_refused_naming_the_unit(mpdta):
    data = mpdta.assign(w=1.0, state=mpdta["countyreal"] // 1000)
    data.loc[(data.countyreal == 8019) & (data.year == 2006), ["w", "state"]] = [2.0, 99]
    with pytest.raises(PanelDataError, match=r"weights column 'w'.*entity 8019") as err:
        StaggeredDiD(data, "lemp", "countyreal", "year", "first.treat", weights="w")
    assert err.value.column == "w" and err.value.value == 8019
    with pytest.raises(PanelDataError, match=r"cluster column 'state'.*entity 8019"):
        StaggeredDiD(data, "lemp", "countyreal", "year", "first.treat", clustervars="state")


def test_bad_weights_and_clustervars_raise(mpdta):
    neg = mpdta.assign(w=1.0)
    neg.loc[neg.countyreal == 8001, "w"] = -1.0
    with pytest.raises(PanelDataError, match="non-negative"):
        StaggeredDiD(neg, "lemp", "countyreal", "year", "first.treat", weights="w")
    with pytest.raises(CalibrationError, match="at most one cluster variable"):
        StaggeredDiD(
            mpdta.assign(a=1, b=2),
            "lemp",
            "countyreal",
            "year",
            "first.treat",
            clustervars=["a", "b"],
        )
    with pytest.raises(PanelDataError, match="not found"):
        StaggeredDiD(mpdta, "lemp", "countyreal", "year", "first.treat", clustervars="nope")
    with pytest.raises(TooFewClustersError, match="1 cluster"):
        StaggeredDiD(
            mpdta.assign(one=1), "lemp", "countyreal", "year", "first.treat", clustervars="one"
        ).fit()


def test_rows_missing_a_cluster_or_weight_are_counted(mpdta):
    data = mpdta.assign(w=1.0, state=(mpdta["countyreal"] // 1000).astype(float))
    data.loc[data.countyreal == 8001, "state"] = np.nan
    data.loc[data.countyreal == 8019, "w"] = np.nan
    with pytest.warns(MissingValuesWarning, match=r"10 of 2500 rows.*w: 5.*state \(cluster\): 5"):
        res = StaggeredDiD(
            data, "lemp", "countyreal", "year", "first.treat", weights="w", clustervars="state"
        ).fit()
    assert res.nobs == 498
