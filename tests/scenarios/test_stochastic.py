"""The two-stage stochastic plan, its value against the point plan, the CVaR plan.

References not written here: the ordinary solve of one instance (one draw, or many
identical draws, is that instance); every first stage of a one-year tiny instance
enumerated, each scored by the draws' own models with it held; the wait-and-see bound
(each draw planned alone); the simulator.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import talentplan as tp
from talentplan.cli import app
from talentplan.data.parameters import ResponseParameters
from talentplan.data.provenance import Provenance
from talentplan.data.responses import apply_parameters
from talentplan.errors import OptionError, SolverError
from talentplan.model.build import build_model
from talentplan.scenarios.equivalent import draw_model, solve_arrays, stack
from talentplan.scenarios.stochastic import (
    STOCHASTIC_FILES,
    cvar,
    evaluate_plans,
    stochastic_plan,
)
from talentplan.solver.highs import solve_formulation
from talentplan.solver.matrix import compile_model
from tests.model.tiny import tiny_instance

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

KEYS = ["subsidy:eng:inflow_log", "centre:eng:retention", "station:voc:inflow"]
ESTIMATES = [6.0, 0.5, 3.0]
SD = [3.0, 0.2, 1.5]
GAP = 1e-7

runner = CliRunner()


def parameters(sd_scale: float = 1.0) -> ResponseParameters:
    est = pd.Series(ESTIMATES, index=KEYS)
    cov = pd.DataFrame(np.diag((sd_scale * np.array(SD)) ** 2), index=KEYS, columns=KEYS)
    bounds = {k: (0.0, 1.0 if k.endswith("retention") else None) for k in KEYS}
    return ResponseParameters(est, cov, Provenance(data_hash=None, estimator="test"), bounds=bounds)


def optimum(inst: tp.Instance) -> float:
    """The ordinary solve's model optimum."""
    run = solve_formulation(build_model(inst), mip_gap=GAP, shadow_prices=False)
    return run.objective


def close(a: float, b: float, rel: float = 1e-5) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


@pytest.fixture(scope="module")
def result():
    return stochastic_plan(
        tiny_instance(), parameters(), draws=3, fresh_draws=4, seed=1, mip_gap=GAP
    )


def test_one_draw_is_the_ordinary_solve_of_that_draw() -> None:
    inst, rp = tiny_instance(), parameters()
    r = stochastic_plan(inst, rp, draws=1, fresh_draws=0, seed=3, robust=False, mip_gap=GAP)
    drawn = rp.draw(1, np.random.default_rng(3)).iloc[0].to_dict()
    assert close(r.summary["stochastic_value"], optimum(apply_parameters(inst, drawn, clip=True)))
    assert r.vss >= -1e-6


def test_identical_draws_are_the_ordinary_solve_and_worth_nothing_more() -> None:
    inst = tiny_instance()
    r = stochastic_plan(inst, parameters(0.0), draws=3, fresh_draws=0, mip_gap=GAP)
    base = optimum(apply_parameters(inst, dict(zip(KEYS, ESTIMATES, strict=True))))
    assert close(r.summary["stochastic_value"], base)
    assert close(r.summary["point_value"], base)
    assert abs(r.vss) <= 1e-5 * base
    assert np.allclose(r.draws["objective_stochastic"], base, rtol=1e-5)


def test_plan_is_at_least_the_point_plan_and_each_plan_best_at_its_own_criterion(
    result,
) -> None:
    s = result.summary
    assert s["status"] == "optimal"
    assert result.vss >= -GAP * abs(s["stochastic_value"])
    assert s["vss_bound"] >= result.vss - 1e-9
    c = result.comparison.set_index("plan")
    tol = 1e-5 * abs(s["stochastic_value"])
    # the per-draw objectives are recomputed with each plan's first stage held
    assert close(c.loc["stochastic", "saa_mean"], s["stochastic_value"])
    assert close(c.loc["point", "saa_mean"], s["point_value"])
    assert c.loc["stochastic", "saa_mean"] >= c[["saa_mean"]].max().iloc[0] - tol
    assert c.loc["robust", "saa_cvar"] >= c["saa_cvar"].max() - tol
    assert close(c.loc["robust", "saa_cvar"], s["robust_cvar"])


def test_value_lies_between_each_draws_own_plan_and_wait_and_see() -> None:
    """SAA optimum >= the SAA value of each draw's own optimal plan, and <= the mean of
    the draws' own optima (perfect information)."""
    inst, rp = tiny_instance(), parameters()
    r = stochastic_plan(inst, rp, draws=2, fresh_draws=0, seed=5, robust=False, mip_gap=GAP)
    sample = rp.draw(2, np.random.default_rng(5))
    models = []
    for row in sample.to_dict("records"):
        f = build_model(apply_parameters(inst, row, clip=True))
        models.append(draw_model(f, compile_model(f.model)))
    own = [solve_arrays(dm.compiled, mip_gap=GAP) for dm in models]
    value = r.summary["stochastic_value"]
    assert value <= np.mean([o.objective for o in own]) * (1 + 1e-6)
    for o, dm in zip(own, models, strict=True):
        fixed = dm.first
        held = []
        for other in models:
            lower, upper = other.compiled.col_lower.copy(), other.compiled.col_upper.copy()
            lower[other.first] = upper[other.first] = np.round(o.values[fixed])
            run = solve_arrays(other.compiled, col_lower=lower, col_upper=upper, mip_gap=GAP)
            held.append(run.objective if run.values is not None else -np.inf)
        assert value >= np.mean(held) - 1e-6 * abs(value)


@pytest.mark.slow
def test_equals_enumeration_of_every_first_stage() -> None:
    """One year: the first-stage columns are independent, so their product is every
    first stage; each is scored by the mean of the draws' optima with it held."""
    inst, rp = tiny_instance(n_years=1), parameters()
    r = stochastic_plan(inst, rp, draws=2, fresh_draws=0, seed=2, robust=False, mip_gap=0.0)
    sample = rp.draw(2, np.random.default_rng(2))
    models = []
    for row in sample.to_dict("records"):
        f = build_model(apply_parameters(inst, row, clip=True))
        models.append(draw_model(f, compile_model(f.model)))
    names = [n for n, first in zip(models[0].names, models[0].first, strict=True) if first]
    assert all([n for n, f in zip(m.names, m.first, strict=True) if f] == names for m in models)
    cm0 = models[0].compiled
    ranges = [
        range(int(lo), int(hi) + 1)
        for lo, hi in zip(
            cm0.col_lower[models[0].first], cm0.col_upper[models[0].first], strict=True
        )
    ]
    best = -np.inf
    for combo in itertools.product(*ranges):
        total = 0.0
        for dm in models:
            lower, upper = dm.compiled.col_lower.copy(), dm.compiled.col_upper.copy()
            lower[dm.first] = upper[dm.first] = combo
            run = solve_arrays(dm.compiled, col_lower=lower, col_upper=upper, mip_gap=0.0)
            if run.values is None:
                total = -np.inf
                break
            total += run.objective
        best = max(best, total / len(models))
    assert close(r.summary["stochastic_value"], best, rel=1e-6)


def test_decomposition_plan_and_bound_bracket_the_equivalent() -> None:
    inst, rp = tiny_instance(), parameters()
    kw = dict(draws=3, fresh_draws=0, seed=1, robust=False, mip_gap=GAP)
    exact = stochastic_plan(inst, rp, method="equivalent", **kw).summary["stochastic_value"]
    dec = stochastic_plan(inst, rp, method="decomposition", rounds=3, **kw)
    s, tol = dec.summary, 1e-6 * abs(exact)
    assert s["method"] == "decomposition"
    assert s["point_value"] - tol <= s["stochastic_value"] <= exact + tol
    assert s["bound"] >= exact - tol
    # the reported value is the mean of the draws' objectives with its first stage held
    assert close(
        dec.comparison.set_index("plan").loc["stochastic", "saa_mean"], s["stochastic_value"]
    )


def test_cvar_at_one_is_the_mean() -> None:
    inst, rp = tiny_instance(), parameters()
    r = stochastic_plan(inst, rp, draws=3, fresh_draws=0, seed=4, alpha=1.0, mip_gap=GAP)
    assert close(r.summary["robust_cvar"], r.summary["stochastic_value"])


def test_draws_with_different_decisions_are_refused() -> None:
    models = []
    for n_years in (1, 2):
        f = build_model(tiny_instance(n_years=n_years))
        models.append(draw_model(f, compile_model(f.model)))
    with pytest.raises(SolverError, match="draw 1: its model lacks first-stage columns"):
        stack(models)


def test_cvar_by_hand() -> None:
    v = np.array([10.0, 4.0, 7.0, 1.0, 3.0])
    # worst 40% of five draws: the two lowest, 1 and 3
    assert cvar(v, 0.4) == pytest.approx(2.0)
    # worst 30%: 1 and half of 3, over 1.5 draws
    assert cvar(v, 0.3) == pytest.approx((1.0 + 0.5 * 3.0) / 1.5)
    assert cvar(v, 0.4, maximize=False) == pytest.approx(8.5)
    assert np.isnan(cvar(np.array([1.0, -np.inf]), 0.5))


def test_out_of_sample_under_the_point_parameters_is_the_simulator() -> None:
    inst = tiny_instance()
    point = parameters(0.0)
    plan = tp.solve(inst, mip_gap=1e-4).allocation
    draws = point.draw(2, 0)
    out, targets = evaluate_plans(inst, {"p": plan}, draws, recourse=False)
    sim = tp.simulate(inst, plan)
    assert np.allclose(out["objective"], sim.objective, rtol=1e-12)
    assert out["feasible"].all() == sim.feasible
    # a county meets its target when its coverage reaches target_coverage
    share = inst.scenario.target_coverage
    assert (out["all_targets"] == (out["min_coverage"] >= share - 1e-6)).all()
    assert set(targets["target"]) == set(inst.counties["county"])


def test_out_of_sample_of_a_random_draw_is_the_simulator_of_that_draw() -> None:
    inst, rp = tiny_instance(), parameters()
    plan = tp.solve(inst, mip_gap=1e-4).allocation
    draws = rp.draw(3, 7)
    out, _ = evaluate_plans(inst, {"p": plan}, draws, recourse=False)
    for j, row in enumerate(draws.to_dict("records")):
        sim = tp.simulate(apply_parameters(inst, row, clip=True), plan)
        assert out["objective"].iloc[j] == pytest.approx(sim.objective, rel=1e-12)


def test_tables_and_files(result, tmp_path: Path) -> None:
    comp = result.comparison
    assert list(comp["plan"]) == ["stochastic", "robust", "point"]
    assert len(result.out_of_sample) == 3 * 4
    assert result.targets["probability"].between(0, 1).all()
    plan = result.plan("robust")
    assert not plan.empty and tp.simulate(tiny_instance(), plan).objective > 0
    assert {"plan", "draw", "spend"} <= set(result.spend.columns)
    assert "Stochastic plan" in str(result) and "<table>" in result._repr_html_()
    ax = result.plot_out_of_sample()
    assert len([ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]) == 3
    result.to_dir(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(STOCHASTIC_FILES)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["command"] == "stochastic" and summary["draws"] == 3
    back = pd.read_csv(tmp_path / "stochastic.csv")
    assert np.allclose(back["oos_mean"], comp["oos_mean"])
    with pytest.raises(AttributeError):
        result.status = None  # type: ignore[misc]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("draws", 0),
        ("fresh_draws", -1),
        ("alpha", 0.0),
        ("alpha", 1.5),
        ("method", "pha"),
        ("rounds", 0),
    ],
)
def test_bad_options_are_named(option: str, value: float) -> None:
    with pytest.raises(OptionError, match=option):
        stochastic_plan(tiny_instance(), parameters(), **{option: value})


def test_command_writes_the_comparison(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    tp.write_instance(tiny_instance(), folder)
    params = parameters().to_json(tmp_path / "params.json")
    out = tmp_path / "out"
    args = ["--params", str(params), "--draws", "2", "--fresh-draws", "2", "--out", str(out)]
    done = runner.invoke(app, ["stochastic", str(folder), *args, "--quiet"])
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in out.iterdir()) == sorted((*STOCHASTIC_FILES, "manifest.json"))
    table = pd.read_csv(out / "stochastic.csv")
    assert list(table["plan"]) == ["stochastic", "robust", "point"]
    assert json.loads((out / "summary.json").read_text())["command"] == "stochastic"
    manifest = json.loads((out / "manifest.json").read_text())
    assert [i["argument"] for i in manifest["inputs"]] == ["instance", "--params"]
    assert manifest["inputs"][1]["files"] == {
        "params.json": hashlib.sha256(params.read_bytes()).hexdigest()
    }
    assert manifest["seed"] == 0 and manifest["command"]["name"] == "stochastic"
    # Each bad call with an --out of its own: the default (out/ in the working folder)
    # may hold a user's earlier results, which the command refuses to overwrite first.
    fresh = ["--out", str(tmp_path / "fresh")]
    gone = runner.invoke(
        app, ["stochastic", str(folder), "--params", str(tmp_path / "gone.json"), *fresh]
    )
    assert gone.exit_code == 2 and "gone.json" in gone.output
    bad = runner.invoke(
        app, ["stochastic", str(folder), "--params", str(params), "--draws", "0", *fresh]
    )
    assert bad.exit_code == 2 and "draws" in bad.output
