"""TOML calibration specs: parsing, clear errors, and runs that match the estimators."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

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
    StaggeredDiD,
    calibrate_command,
    distance_weights,
    run_calibration,
    simulate_panel,
)
from talentplan.calibrate.bridge.spec import SIMULATED_PANEL_SPEC
from talentplan.errors import CalibrationError
from tests.calibrate.helpers import quiet

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "calibration"
# The example calibrates rows of the bundled qingyuan instance (examples/calibration/README.md).
SERVICE = "one_stop_centre:engineer:retention"
SUBSIDY = "cash_subsidy:engineer:inflow_log"
HEAD = '[panel]\nentity = "county"\ntime = "year"\n'


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return simulate_panel(40, 8, seed=21).data


def _one(body: str, params: str = 'name = "centre"\nkey = "centre:eng:retention"\n') -> str:
    return HEAD + "[[estimation]]\n" + body + "\n[[estimation.parameters]]\n" + params


def test_example_spec_matches_direct_estimates():
    panel = pd.read_csv(EXAMPLES / "panel.csv")
    results, params = run_calibration(EXAMPLES / "panel.csv", EXAMPLES / "spec.toml")
    assert set(results) == {"retention", "subsidy"}
    fe = PanelRegression(
        panel,
        "log_outflow_rate",
        ["centre", "wage", "W_wage", "core_pull"],
        entity="county",
        time="year",
        estimator="twfe",
    ).fit(cov_type="clustered")
    iv = PanelIV(
        panel,
        "inflow",
        [],
        ["log_subsidy"],
        ["pairing"],
        entity="county",
        time="year",
        time_effects=True,
    ).fit(cov_type="clustered")
    b, se_b = fe.params["centre"], fe.std_errors["centre"]
    est, se = params.estimates, params.std_errors
    # rho = 1 - exp(b); delta-method standard error exp(b) * se(b)
    assert est[SERVICE] == pytest.approx(1 - np.exp(b), rel=1e-12)
    assert se[SERVICE] == pytest.approx(np.exp(b) * se_b, rel=1e-10)
    assert est[SUBSIDY] == pytest.approx(iv.params["log_subsidy"], rel=1e-12)
    assert se[SUBSIDY] == pytest.approx(iv.std_errors["log_subsidy"], rel=1e-10)
    assert params.cov.loc[SERVICE, SUBSIDY] == 0.0
    assert params.bounds[SERVICE] == (0.0, 1.0)
    # known truth of the simulated example: rho = 0.5, beta = 12
    assert abs(est[SERVICE] - 0.5) < 2 * se[SERVICE] + 0.01
    assert abs(est[SUBSIDY] - 12.0) < 2 * se[SUBSIDY]
    assert len(params.provenance.data_hash or "") == 64
    assert "panel:retention" in params.provenance.estimator


def test_example_spec_file_is_the_shipped_spec_with_the_bundled_keys():
    shipped = SIMULATED_PANEL_SPEC.replace("centre:eng:retention", SERVICE).replace(
        "subsidy:eng:inflow_log", SUBSIDY
    )
    assert (EXAMPLES / "spec.toml").read_text(encoding="utf-8") == shipped


def test_calibrate_command_writes_readable_json(tmp_path):
    out = tmp_path / "params.json"
    written = calibrate_command(EXAMPLES / "panel.csv", EXAMPLES / "spec.toml", out)
    back = ResponseParameters.from_json(out)
    assert back == written
    doc = json.loads(out.read_text())
    assert [p["key"] for p in doc["parameters"]] == [SERVICE, SUBSIDY]
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


def test_calibrate_command_writes_nothing_on_error(tmp_path):
    bad = tmp_path / "spec.toml"
    bad.write_text(SIMULATED_PANEL_SPEC.replace('"log_subsidy"]', '"nope"]'))
    out = tmp_path / "params.json"
    with pytest.raises(CalibrationError, match="nope"):
        calibrate_command(EXAMPLES / "panel.csv", bad, out)
    assert not out.exists()


def test_dynamic_with_time_dummies_matches_direct(panel):
    spec = CalibrationSpec.from_string(
        _one(
            'name = "stock"\nestimator = "dynamic"\ndependent = "log_stock"\nexog = ["centre"]\n'
            "time_dummies = true\n"
            'options = { lags = 1, method = "difference", collapse = true }\nfit = { steps = 1 }',
            'name = "centre"\nkey = "centre:eng:platform"\ntransform = "exp_minus_one"\n',
        )
    )
    _, params = run_calibration(panel, spec)
    d = panel.copy()
    years = sorted(d["year"].unique())
    dummies = []
    for y in years[2:-1]:
        d[f"year_{y}"] = (d["year"] == y).astype(float)
        dummies.append(f"year_{y}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = DynamicPanelGMM(
            d,
            "log_stock",
            1,
            exog=["centre", *dummies],
            entity="county",
            time="year",
            method="difference",
            collapse=True,
        ).fit(steps=1)
    g = direct.params["centre"]
    assert params.estimates.iloc[0] == pytest.approx(np.exp(g) - 1, rel=1e-10)
    assert params.std_errors.iloc[0] == pytest.approx(
        np.exp(g) * direct.std_errors["centre"], rel=1e-8
    )


def test_dynamic_instrument_specs_and_weighting_from_toml(panel, tmp_path):
    spec = CalibrationSpec.from_string(
        _one(
            'name = "stock"\nestimator = "dynamic"\ndependent = "log_stock"\nexog = ["centre"]\n'
            'options = { lags = 1, method = "system", gmm = { log_stock = [2, 3, "collapse"] },'
            ' iv = { centre = "diff" } }\nfit = { steps = 2, h = 2, small = true }',
            'name = "centre"\nkey = "centre:eng:platform"\ntransform = "exp_minus_one"\n',
        )
    )
    results, params = quiet(lambda: run_calibration(panel, spec))
    direct = quiet(
        lambda: DynamicPanelGMM(
            panel, "log_stock", 1, exog=["centre"], entity="county", time="year",
            method="system", gmm={"log_stock": (2, 3, "collapse")}, iv={"centre": "diff"},
        ).fit(steps=2, h=2, small=True)
    )  # fmt: skip
    assert results["stock"].params["centre"] == pytest.approx(direct.params["centre"], rel=1e-12)
    assert results["stock"].std_errors["centre"] == pytest.approx(
        direct.std_errors["centre"], rel=1e-12
    )
    opts = results["stock"].provenance_options
    assert opts["h"] == 2 and opts["small"] is True
    assert opts["gmm"] == [
        {"variable": "log_stock", "lo": 2, "hi": 3, "collapse": True, "equation": "both"}
    ]
    out = tmp_path / "params.json"
    params.to_json(out)
    assert json.loads(out.read_text())  # the provenance, specs included, is JSON


def test_staggered_simple_aggregate_and_negate(panel):
    spec = CalibrationSpec.from_string(
        _one(
            'name = "did"\nestimator = "staggered"\ndependent = "log_outflow_rate"\n'
            'group = "centre_year"\naggregate = "simple"',
            'name = "overall"\nkey = "centre:eng:retention"\ntransform = "negate"\n',
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, params = run_calibration(panel, spec)
        agg = StaggeredDiD(panel, "log_outflow_rate", "county", "year", "centre_year").fit()
    att = agg.aggregate("simple")
    assert params.estimates.iloc[0] == pytest.approx(-att.att, rel=1e-12)
    assert params.std_errors.iloc[0] == pytest.approx(att.se, rel=1e-8)


def test_staggered_takes_weights_and_clustervars(panel):
    data = panel.assign(
        w=1.0 + (panel["county"].str[-1:].astype(int) % 3), province=panel["county"].str[:3]
    )
    spec = CalibrationSpec.from_string(
        _one(
            'name = "did"\nestimator = "staggered"\ndependent = "log_outflow_rate"\n'
            'group = "centre_year"\nweights = "w"\naggregate = "dynamic"\n'
            'options = { clustervars = "province" }',
            'name = "0"\nkey = "centre:eng:retention"\n',
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, params = run_calibration(data, spec)
        res = StaggeredDiD(
            data, "log_outflow_rate", "county", "year", "centre_year", weights="w",
            clustervars="province",
        ).fit()  # fmt: skip
        agg = res.aggregate("dynamic")
        plain = StaggeredDiD(data, "log_outflow_rate", "county", "year", "centre_year").fit()
    assert res.n_clusters < res.nobs
    assert params.estimates.iloc[0] == pytest.approx(agg.table.loc[0, "att"], rel=1e-12)
    assert params.std_errors.iloc[0] == pytest.approx(agg.table.loc[0, "se"], rel=1e-8)
    assert agg.table.loc[0, "att"] != pytest.approx(
        plain.aggregate("dynamic").table.loc[0, "att"], rel=1e-6
    )


def test_spillover_builds_weights_from_coordinates(panel):
    spec = CalibrationSpec.from_string(
        _one(
            'name = "siphon"\nestimator = "spillover"\ndependent = "log_outflow_rate"\n'
            'exog = ["centre", "wage"]\nlags = ["wage"]\ncore_terms = ["core_gap"]\n'
            'coords = ["x_km", "y_km"]\ncore_distance = "core_distance_km"\n'
            'weights = { kind = "exponential", bandwidth = 40.0 }\n'
            "options = { decay_bandwidth = 100.0 }\n"
            'fit = { cov_type = "clustered" }',
            'name = "W*wage"\nkey = "centre:eng:inflow"\n',
        )
    )
    _, params = run_calibration(panel, spec)
    first = panel.drop_duplicates("county").set_index("county")
    w = distance_weights(first[["x_km", "y_km"]], kind="exponential", bandwidth=40.0)
    direct = SpilloverPanel(
        panel,
        "log_outflow_rate",
        ["centre", "wage"],
        w,
        lags=["wage"],
        core_distance=first["core_distance_km"],
        core_terms=["core_gap"],
        decay_bandwidth=100.0,
        entity="county",
        time="year",
    ).fit(cov_type="clustered")
    assert params.estimates.iloc[0] == pytest.approx(direct.params["W*wage"], rel=1e-12)


def test_scale_transform_with_column_mean(panel):
    spec = CalibrationSpec.from_string(
        _one(
            'name = "semi"\nestimator = "panel"\ndependent = "log_stock"\nexog = ["subsidy"]\n'
            'options = { estimator = "twfe" }',
            'name = "subsidy"\nkey = "subsidy:eng:inflow"\ntransform = "scale"\n'
            'factor = "mean:inflow"\n',
        )
    )
    _, params = run_calibration(panel, spec)
    fe = PanelRegression(
        panel, "log_stock", ["subsidy"], entity="county", time="year", estimator="twfe"
    ).fit()
    m = panel["inflow"].mean()
    assert params.estimates.iloc[0] == pytest.approx(m * fe.params["subsidy"], rel=1e-12)
    assert params.std_errors.iloc[0] == pytest.approx(m * fe.std_errors["subsidy"], rel=1e-10)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", r"\[panel\]: missing"),
        (HEAD, r"\[\[estimation\]\]: missing"),
        ("colour = 1\n" + HEAD, "key 'colour'"),
        ('[panel]\nentity = "county"\n', "panel.time"),
        (
            _one('name = "a"\nestimator = "ols"\ndependent = "y"'),
            r"estimation\[0\] \('a'\)\.estimator",
        ),
        (_one('name = "a"\nestimator = "panel"\ndependent = "y"'), r"\('a'\)\.exog: missing"),
        (
            _one('name = "a"\nestimator = "panel"\ndependent = "y"\nexog = ["x"]\nregressors = 1'),
            r"\('a'\)\.regressors: unknown key",
        ),
        (
            _one(
                'name = "a"\nestimator = "panel"\ndependent = "y"\nexog = ["x"]\n'
                'fit = { cov = "robust" }'
            ),
            r"\('a'\)\.fit\.cov: unknown option",
        ),
        (
            _one(
                'name = "a"\nestimator = "panel"\ndependent = "y"\nexog = ["x"]\n'
                "options = { data = 1 }"
            ),
            r"\('a'\)\.options\.data: unknown option",
        ),
        (
            _one(
                'name = "a"\nestimator = "panel"\ndependent = "y"\nexog = ["x"]',
                'name = "x"\nkey = "centre:retention"\n',
            ),
            r"parameters\[0\]\.key",
        ),
        (
            _one(
                'name = "a"\nestimator = "panel"\ndependent = "y"\nexog = ["x"]',
                'name = "x"\nkey = "c:e:retention"\ntransform = "log"\n',
            ),
            r"\.transform",
        ),
        (
            _one(
                'name = "a"\nestimator = "panel"\ndependent = "y"\nexog = ["x"]',
                'name = "x"\nkey = "c:e:retention"\nfactor = 2\n',
            ),
            r"\.factor: only",
        ),
        (
            _one(
                'name = "a"\nestimator = "panel"\ndependent = "y"\nexog = ["x"]',
                'name = "x"\nkey = "c:e:retention"\ntransform = "scale"\n',
            ),
            r"\.factor",
        ),
        (
            _one(
                'name = "a"\nestimator = "panel"\ndependent = "y"\nexog = ["x"]',
                'name = "x"\nkey = "c:e:retention"\nlower = 1\nupper = 0\n',
            ),
            r"\.lower",
        ),
        (
            HEAD + '[[estimation]]\nname = "a"\nestimator = "panel"\ndependent = "y"\n'
            'exog = ["x"]\n',
            r"\('a'\)\.parameters: missing",
        ),
        ("[panel\n", "not valid TOML"),
    ],
)
def test_spec_errors_name_the_key(text, match):
    with pytest.raises(CalibrationError, match=match):
        CalibrationSpec.from_string(text, source="s.toml")


def test_duplicate_names_and_keys():
    est = 'name = "a"\nestimator = "panel"\ndependent = "y"\nexog = ["x"]'
    par = 'name = "x"\nkey = "c:e:retention"\n'
    twice = _one(est, par) + "[[estimation]]\n" + est + "\n[[estimation.parameters]]\n" + par
    with pytest.raises(CalibrationError, match="'a' repeats"):
        CalibrationSpec.from_string(twice)
    renamed = twice.replace('name = "a"', 'name = "b"', 1)
    with pytest.raises(CalibrationError, match="mapped more than once"):
        CalibrationSpec.from_string(renamed)


def test_run_errors_name_the_estimation(panel, tmp_path):
    spec = CalibrationSpec.from_string(
        _one(
            'name = "a"\nestimator = "panel"\ndependent = "log_stock"\nexog = ["centre"]',
            'name = "center"\nkey = "c:e:retention"\n',
        ),
        source="s.toml",
    )
    with pytest.raises(CalibrationError, match=r"estimation 'a': parameters.name 'center'"):
        run_calibration(panel, spec)
    spec2 = CalibrationSpec.from_string(
        _one(
            'name = "a"\nestimator = "panel"\ndependent = "log_stock"\nexog = ["centre"]\n'
            'options = { estimator = "within" }'
        ),
        source="s.toml",
    )
    with pytest.raises(CalibrationError, match=r"s.toml: estimation 'a': estimator='within'"):
        run_calibration(panel, spec2)
    with pytest.raises(CalibrationError, match="not found"):
        run_calibration(tmp_path / "none.csv", spec)
    with pytest.raises(CalibrationError, match="not found"):
        CalibrationSpec.from_toml(tmp_path / "none.toml")


# --- year dummies, provenance and scale factors of spec runs ---------------------------


def test_system_gmm_time_dummies_recover_persistence(shocked):
    """With every estimable year dummy, two-step system GMM recovers 0.5 and Hansen's J
    does not reject; dropping the first level-equation dummy gave 0.41 and p ~ 1e-7."""
    spec = CalibrationSpec.from_string(
        HEAD + "[[estimation]]\n"
        'name = "stock"\nestimator = "dynamic"\ndependent = "y"\ntime_dummies = true\n'
        'options = { lags = 1, method = "system" }\nfit = { steps = 2 }\n'
        '[[estimation.parameters]]\nname = "L1.y"\nkey = "centre:eng:platform"\n'
    )
    results, _ = quiet(lambda: run_calibration(shocked, spec))
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
    results, _ = quiet(lambda: run_calibration(shocked, spec))
    assert [c for c in results["stock"].params.index if c.startswith("year_")] == [
        f"year_{y}" for y in range(2002, 2007)
    ]


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
    _, params = quiet(lambda: run_calibration(panel, spec))
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
    _, params = quiet(lambda: run_calibration(shocked, spec))
    est = params.provenance.options["estimations"]["stock"]
    assert est["extra"]["time_dummies"] is True
    assert est["result_options"]["method"] == "system"
    assert est["result_options"]["collapse"] is True
    assert est["result_options"]["steps"] == 1


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
    results, params = quiet(lambda: run_calibration(d, spec))
    mean = d["inflow"].iloc[10:].mean()
    assert params.estimates.iloc[0] == pytest.approx(mean * results["r"].params["centre"])
    d["inflow"] = d["inflow"].astype(str)
    with pytest.raises(CalibrationError, match="'inflow' is not numeric"):
        quiet(lambda: run_calibration(d, spec))
