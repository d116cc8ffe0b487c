"""The seed plan: feasible for the model (by HiGHS's own check), and harmless to the optimum."""

from __future__ import annotations

import math

import highspy
import numpy as np
import pytest

from talentplan import datasets
from talentplan.data import load_instance
from talentplan.model.build import build_model
from talentplan.report.pipeline import solve
from talentplan.solver.deadline import MIN_SOLVER_SECONDS, Deadline
from talentplan.solver.heuristic import repair_integers, seed_plan, violation
from talentplan.solver.matrix import CompiledModel, compile_model, to_highs
from tests.model.tiny import tiny_instance


def highs_accepts(cm: CompiledModel, x: np.ndarray) -> bool:
    """Whether HiGHS finds the model feasible with every column fixed at ``x``."""
    h = to_highs(cm, col_lower=x, col_upper=x, integer=False)
    h.setOptionValue("presolve", "off")
    h.run()
    return h.getModelStatus() == highspy.HighsModelStatus.kOptimal


@pytest.fixture(scope="module")
def small() -> CompiledModel:
    return compile_model(build_model(datasets.synthetic(4, seed=2, n_years=3)).model)


def test_the_seed_is_feasible_for_the_model_by_highs_check(small):
    seed = seed_plan(small)
    assert seed.found
    assert seed.method in ("minimal", "improved", "rounded")
    x = seed.values
    assert violation(small, x) <= 1e-6
    assert np.all(x[small.integer] == np.round(x[small.integer]))
    assert highs_accepts(small, x)
    assert seed.objective == pytest.approx(float(small.cost @ x) + small.offset)
    # the relaxation bounds every plan, the seed's too (a maximised objective)
    assert small.maximize
    assert seed.relaxation_bound >= seed.objective - 1e-6 * abs(seed.objective)
    # both candidates were tried and both were feasible
    assert any(n.startswith("minimal: feasible") for n in seed.notes)
    assert any(n.startswith("rounded: feasible") for n in seed.notes)


def test_without_the_relaxation_the_minimal_plan_is_still_feasible(small):
    minimal = seed_plan(small, relaxation=False, improve=False)
    assert minimal.found and minimal.method == "minimal"
    assert math.isnan(minimal.relaxation_bound)
    assert highs_accepts(small, minimal.values)
    # the improvement keeps a raise only when it is feasible and better
    improved = seed_plan(small, relaxation=False)
    assert improved.method in ("minimal", "improved")
    assert improved.objective >= minimal.objective
    assert highs_accepts(small, improved.values)


def test_a_seed_never_claims_an_infeasible_point():
    # A floor no integer assignment meets within its bounds: the repair gives up, and
    # the seed says so instead of returning a point.
    cm = compile_model(build_model(tiny_instance()).model)
    bad = CompiledModel(**{**cm.__dict__, "row_lower": cm.row_lower.copy()})
    rows = np.flatnonzero(np.isfinite(bad.row_upper) & ~np.isfinite(bad.row_lower))
    # every integer-only <= row made impossible: lower bound above the upper
    for r in rows:
        bad.row_lower[r] = bad.row_upper[r] + 1e6
    seed = seed_plan(bad)
    assert not seed.found
    assert seed.notes


def test_repair_raises_a_floor_and_keeps_it_open():
    # A centre floored from the second year: repairing the all-zero point opens it in
    # every county from then on (open once, stay open), and nothing else.
    from talentplan.data.instance import PolicyFloor

    floor = PolicyFloor("centre everywhere by 2026", "centre", 2026)
    cm = compile_model(build_model(tiny_instance(n_years=3, floors=(floor,))).model)
    repaired = repair_integers(cm, np.zeros(cm.n_cols))
    assert repaired is not None
    opened = {v.name for v, val in zip(cm.columns, repaired, strict=True) if val > 0.5}
    assert opened == {f"open[{c},centre,{t}]" for c in ("A", "B") for t in (1, 2)}


@pytest.mark.slow
@pytest.mark.parametrize("instance", ["tiny", "synthetic"])
def test_the_seeded_optimum_equals_the_unseeded_one(instance):
    inst = tiny_instance() if instance == "tiny" else datasets.synthetic(2, seed=1, n_years=2)
    seeded = solve(inst, mip_gap=0.0, threads=1)
    plain = solve(inst, mip_gap=0.0, threads=1, warm_start=False)
    assert seeded.status.value == plain.status.value == "optimal"
    assert seeded.summary["warm_start"]["found"]
    assert not plain.summary["warm_start"]["requested"]
    assert seeded.mip_objective == pytest.approx(plain.mip_objective, rel=1e-7)
    assert seeded.summary["warm_start"]["objective"] <= seeded.mip_objective * (1 + 1e-9)


def test_a_deadline_says_what_is_left():
    d = Deadline(None)
    assert d.remaining() == math.inf and d.budget(5.0) is None and d.allows(1e9)
    d = Deadline(10.0, start=d.start - 9.8)
    assert d.remaining() <= 0.2
    assert d.budget(1.0) == MIN_SOLVER_SECONDS  # never less than HiGHS needs to answer
    assert not d.allows(1.0)
    d.skip("shadow prices")
    assert d.skipped == ["shadow prices"]


@pytest.mark.slow
def test_the_whole_call_keeps_a_time_limit_on_a_moderate_instance():
    # synthetic(60): the build, the seed and HiGHS share 20 s; HiGHS is stopped by what
    # is left and the seed's plan (at least) comes back. Timing is noisy on shared
    # machines: the margin is generous, the behaviour is what is checked.
    inst = datasets.synthetic(60)
    result = solve(inst, time_limit=20.0, mip_gap=1e-6, threads=1)
    s = result.summary
    assert result.status.value == "time_limit"
    assert len(result.allocation) > 0
    assert s["warm_start"]["found"]
    assert s["elapsed_seconds"] < 20.0 * 1.5 + 5
    assert s["build_seconds"] + s["solve_seconds"] < s["elapsed_seconds"]


def test_qingyuan_at_a_short_limit_returns_within_it_with_a_plan():
    inst = load_instance("qingyuan")
    result = solve(inst, time_limit=3.0, mip_gap=0.0)
    assert result.status.value == "time_limit"
    assert len(result.allocation) > 0
    # generous: the limit is kept by the design, the margin absorbs a loaded machine
    assert result.summary["elapsed_seconds"] < 3.0 * 2 + 5
