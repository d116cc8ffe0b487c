"""ResponseParameters: construction, files, draws and the responses table."""

from __future__ import annotations

import json
import os
from types import MappingProxyType

import numpy as np
import pandas as pd
import pytest

from talentplan.calibrate.dynamic.model import DynamicPanelGMM
from talentplan.calibrate.panel.model import PanelRegression
from talentplan.data.parameters import ResponseParameters
from talentplan.data.provenance import Provenance, panel_hash, parse_key
from talentplan.errors import CalibrationError
from tests.calibrate.helpers import quiet

KEYS = ["studio:craftsman:retention", "station:rural_talent:inflow"]


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    idx = pd.MultiIndex.from_product([range(30), range(6)], names=["county", "year"])
    df = pd.DataFrame({"studio": rng.normal(size=180), "station": rng.normal(size=180)}, index=idx)
    df["stock"] = (
        0.2 * df["studio"]
        + 0.5 * df["station"]
        + np.repeat(rng.normal(size=30), 6)
        + rng.normal(0, 0.3, 180)
    )
    return df


@pytest.fixture(scope="module")
def params(panel: pd.DataFrame) -> ResponseParameters:
    res = PanelRegression(panel, "stock", ["studio", "station"], estimator="twfe").fit(
        cov_type="clustered"
    )
    prov = Provenance.capture(data=panel, estimator="twfe", options={"cov_type": "clustered"})
    return ResponseParameters.from_results(
        res,
        dict(zip(["studio", "station"], KEYS, strict=True)),
        provenance=prov,
        bounds={KEYS[0]: (0.0, 1.0)},
    )


def test_from_results_and_frame(params: ResponseParameters, panel: pd.DataFrame) -> None:
    assert params.keys == tuple(KEYS)
    assert params.estimates[KEYS[1]] == pytest.approx(0.5, abs=0.1)
    frame = params.to_frame()
    assert list(frame.columns) == ["program", "talent_type", "effect", "value", "std_error"]
    assert frame.loc[0, ["program", "talent_type", "effect"]].tolist() == [
        "studio",
        "craftsman",
        "retention",
    ]
    assert frame["std_error"].to_numpy() == pytest.approx(params.std_errors.to_numpy())
    assert params.provenance.data_hash == panel_hash(panel)
    assert set(params.provenance.versions) == {
        "talentplan",
        "linearmodels",
        "numpy",
        "pandas",
        "scipy",
        "python",
    }
    with pytest.raises(CalibrationError, match="not in the result"):
        ResponseParameters.from_results(
            PanelRegression(panel, "stock", ["studio"], estimator="fe").fit(),
            {"station": KEYS[1]},
        )


def test_immutable(params: ResponseParameters) -> None:
    with pytest.raises(AttributeError):
        params.x = 1  # type: ignore[attr-defined]
    est = params.estimates
    est.iloc[0] = 99.0
    assert params.estimates.iloc[0] != 99.0
    with pytest.raises(ValueError):
        params._values[0] = 1.0


def test_json_round_trip_is_atomic(params: ResponseParameters, tmp_path) -> None:
    path = params.to_json(tmp_path / "responses.json")
    assert os.listdir(tmp_path) == ["responses.json"]  # no temporary file left behind
    back = ResponseParameters.from_json(path)
    assert back == params
    assert back.bounds == {KEYS[0]: (0.0, 1.0)}


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d.update(format="other"), "'format'"),
        (lambda d: d["parameters"][1].update(value="high"), "'parameters[1].value'"),
        (lambda d: d["parameters"][0].update(key="studio:craftsman"), "'parameters[0].key'"),
        (lambda d: d["parameters"][0].update(effect="inflow"), "'parameters[0].effect'"),
        (lambda d: d.update(cov=[[1.0]]), "'cov'"),
        (lambda d: d["provenance"].pop("estimator"), "'provenance.estimator'"),
        (lambda d: d["provenance"].update(data_hash="abc"), "'provenance.data_hash'"),
        (lambda d: d.update(bounds={KEYS[0]: [0.0]}), "'bounds."),
    ],
)
def test_from_json_names_the_bad_field(params: ResponseParameters, tmp_path, edit, field) -> None:
    doc = params.to_dict()
    edit(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(CalibrationError, match=field.replace("[", r"\[").replace("]", r"\]")):
        ResponseParameters.from_json(path)


def test_bad_covariance_rejected() -> None:
    est = pd.Series([0.1, 0.2], index=KEYS)
    prov = Provenance(data_hash=None, estimator="fe")
    with pytest.raises(CalibrationError, match="positive semi-definite"):
        ResponseParameters(
            est, pd.DataFrame([[1.0, 2.0], [2.0, 1.0]], index=KEYS, columns=KEYS), prov
        )
    with pytest.raises(CalibrationError, match="program:talent_type:effect"):
        parse_key("a::b")


def test_draws_follow_sampling_distribution(params: ResponseParameters) -> None:
    draws = params.draw(40_000, seed=1, clip=False)
    assert list(draws.columns) == KEYS
    se = params.std_errors.to_numpy()
    np.testing.assert_allclose(
        draws.mean().to_numpy(),
        params.estimates.to_numpy(),
        atol=4 * se.max() / np.sqrt(40_000) * 1.5,
    )
    np.testing.assert_allclose(
        draws.cov().to_numpy(), params.cov.to_numpy(), rtol=0.05, atol=0.05 * se.max() ** 2
    )
    pd.testing.assert_frame_equal(params.draw(5, seed=3), params.draw(5, seed=3))


def test_draws_are_clipped_to_bounds() -> None:
    est = pd.Series([0.05, 0.2], index=KEYS)
    cov = pd.DataFrame(np.diag([0.01, 0.01]), index=KEYS, columns=KEYS)
    rp = ResponseParameters(
        est, cov, Provenance(data_hash=None, estimator="fe"), bounds={KEYS[0]: (0.0, 0.1)}
    )
    draws = rp.draw(2000, seed=0)
    assert draws[KEYS[0]].between(0.0, 0.1).all()
    assert (draws[KEYS[1]] < 0).any()  # unbounded parameter is not clipped


def test_panel_hash_is_canonical(panel: pd.DataFrame) -> None:
    shuffled = panel.sample(frac=1.0, random_state=0)[["station", "stock", "studio"]]
    assert panel_hash(shuffled) == panel_hash(panel)
    changed = panel.copy()
    changed.iloc[0, 0] += 1e-12
    assert panel_hash(changed) != panel_hash(panel)
    assert len(panel_hash(panel)) == 64


# --- provenance, JSON bounds, estimates outside their bounds ---------------------------


def test_from_results_records_gmm_and_panel_options(shocked, simulated_panel):
    gmm = quiet(
        lambda: DynamicPanelGMM(
            shocked, "y", 1, entity="county", time="year", method="system", collapse=True
        ).fit(steps=2)
    )
    rp = ResponseParameters.from_results(gmm, {"L1.y": "centre:eng:platform"})
    o = rp.provenance.options
    assert (o["method"], o["steps"], o["lags"], o["collapse"]) == ("system", 2, 1, True)
    assert o["max_instrument_lag"] is None
    fe = quiet(
        lambda: PanelRegression(
            simulated_panel,
            "log_outflow_rate",
            ["centre"],
            entity="county",
            time="year",
            estimator="twfe",
        ).fit(cov_type="driscoll-kraay", debiased=False)
    )
    rp = ResponseParameters.from_results(fe, {"centre": "centre:eng:retention"})
    o = rp.provenance.options
    assert o["debiased"] is False
    # linearmodels' rule of thumb floor(4 (T/100)^(2/9)) with T = 8 periods
    assert o["bandwidth_used"] == float(np.floor(4 * (8 / 100) ** (2 / 9)))


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
