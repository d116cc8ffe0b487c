"""Decomposition by county: the split, the bound, the plan, against the monolithic solve."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
import scipy.sparse as sp

from talentplan import datasets
from talentplan.data import load_instance
from talentplan.errors import OptionError
from talentplan.model.build import build_model
from talentplan.report.pipeline import solve
from talentplan.solver.api import SolveOptions
from talentplan.solver.blocks import GLOBAL, county_owners, split_blocks
from talentplan.solver.deadline import Deadline
from talentplan.solver.decomposition import _Solve, solve_by_blocks
from talentplan.solver.heuristic import violation
from talentplan.solver.highs import solve_formulation
from talentplan.solver.matrix import compile_model
from talentplan.solver.methods import (
    AUTO_DECOMPOSITION_COUNTIES,
    choose_method,
    solve_by_counties,
)
from talentplan.solver.subproblems import LP, MIP, BlockPool, Request, block_data
from tests.model.tiny import tiny_instance


@pytest.fixture(scope="module", params=["qingyuan", "synthetic"])
def case(request):
    """A compiled instance, its county owners and its monolithic optimum."""
    if request.param == "qingyuan":
        instance = load_instance("qingyuan")
    else:
        instance = datasets.synthetic(10, seed=4, n_years=3)
    formulation = build_model(instance)
    cm = compile_model(formulation.model)
    owners = county_owners(cm.columns, formulation.data.counties)
    mono = solve_formulation(formulation, mip_gap=1e-4, shadow_prices=False)
    assert mono.status.value == "optimal"
    return cm, owners, len(formulation.data.counties), mono


@pytest.mark.slow
def test_every_row_is_a_block_row_a_global_row_or_a_coupling_row(case):
    cm, owners, n, _ = case
    blocks = split_blocks(cm, owners, n)
    A = sp.csr_array(cm.A)
    seen = np.zeros(cm.n_rows, dtype=int)
    for k in range(n):
        seen[blocks.rows[k]] += 1
        for r in blocks.rows[k]:
            cols = A.indices[A.indptr[r] : A.indptr[r + 1]]
            assert set(owners[cols]) <= {k, GLOBAL}
        # the linking columns are the global columns in the block's rows
        used = np.unique(A[blocks.rows[k]].indices)
        assert set(blocks.linking[k]) == set(used[owners[used] == GLOBAL])
    seen[blocks.coupling_rows] += 1
    seen[blocks.global_rows] += 1
    assert np.all(seen == 1)
    for r in blocks.coupling_rows:
        cols = A.indices[A.indptr[r] : A.indptr[r + 1]]
        assert len(set(owners[cols]) - {GLOBAL}) >= 2
    for r in blocks.global_rows:
        assert set(owners[A.indices[A.indptr[r] : A.indptr[r + 1]]]) == {GLOBAL}
    # few rows join the counties: budgets by program and year, caps, pools
    assert blocks.coupling_rows.size < 0.1 * cm.n_rows


@pytest.mark.slow
def test_the_lagrangian_bound_holds_at_any_prices(case):
    """L(y) bounds the optimum for every y, not only the good ones (weak duality)."""
    cm, owners, n, mono = case
    blocks = split_blocks(cm, owners, n)
    data = block_data(cm, blocks, blocks.coupling_rows)
    rng = np.random.default_rng(7)
    with BlockPool(data) as pool:
        solve_ = _Solve(cm, blocks, pool, data, Deadline(None), 1e-4, lambda *_: None, None)
        for scale in (0.0, 0.3, 3.0):
            y = solve_.sane(scale * rng.standard_normal(blocks.coupling_rows.size))
            solve_.best_bound = -math.inf
            bound, _ = solve_.bound(y)
            model_bound = -bound + cm.offset  # the objective is maximised
            assert model_bound >= mono.objective - 1e-6 * abs(mono.objective)
            # so does the county LPs' Lagrangian at the same prices, a weaker one that
            # comes before the county MIPs
            assert solve_.model_bound() >= mono.objective - 1e-6 * abs(mono.objective)
            assert solve_.model_bound() >= model_bound - 1e-6 * abs(mono.objective)


@pytest.mark.slow
def test_the_price_rounds_give_a_plan_before_any_county_mip(case):
    cm, owners, n, mono = case
    blocks = split_blocks(cm, owners, n)
    data = block_data(cm, blocks, blocks.coupling_rows)
    with BlockPool(data) as pool:
        solve_ = _Solve(cm, blocks, pool, data, Deadline(None), 1e-4, lambda *_: None, None)
        y = solve_.price_rounds(np.zeros(blocks.coupling_rows.size), None)
        solve_.first_plan(y)
        kinds = set(solve_.round_seconds)
    assert MIP not in {kind for kind, _ in kinds}
    assert solve_.best_values is not None, solve_.notes
    assert violation(cm, solve_.best_values) <= 1e-6
    plan = float(cm.cost @ solve_.best_values) + cm.offset
    assert plan == pytest.approx(solve_.model_value())
    assert plan <= mono.bound + 1e-6 * abs(mono.objective)
    # rounded down from the LP and settled: a useful plan, not the minimal one
    assert plan >= 0.9 * mono.objective


@pytest.mark.slow
def test_decomposition_agrees_with_the_monolithic_optimum_within_its_certified_gap(case):
    cm, owners, n, mono = case
    run = solve_by_blocks(cm, owners, n, deadline=Deadline(120), mip_gap=1e-3)
    assert run.values is not None
    assert violation(cm, run.values) <= 1e-6
    assert run.objective == pytest.approx(float(cm.cost @ run.values) + cm.offset)
    tolerance = 1e-6 * abs(mono.objective)
    # its plan is a plan: no better than the optimum; its bound bounds the optimum
    assert run.objective <= mono.bound + tolerance
    assert run.bound >= mono.objective - tolerance
    assert run.gap == pytest.approx(abs(run.bound - run.objective) / abs(run.objective))
    assert abs(run.objective - mono.objective) <= run.gap * abs(run.objective) + tolerance
    assert run.status.value in ("optimal", "time_limit")


@pytest.mark.slow
def test_worker_processes_answer_as_the_calling_process_does():
    instance = load_instance("qingyuan")
    formulation = build_model(instance)
    cm = compile_model(formulation.model)
    owners = county_owners(cm.columns, formulation.data.counties)
    blocks = split_blocks(cm, owners, len(formulation.data.counties))
    data = block_data(cm, blocks, blocks.coupling_rows)
    pi = np.clip(np.zeros(cm.n_cols), cm.col_lower, cm.col_upper)
    y = np.full(blocks.coupling_rows.size, 0.5)
    answers, some = {}, {}
    for workers in (1, 2):
        with BlockPool(data, workers) as pool:
            answers[workers] = pool.solve(Request(LP, y, pi))
            some[workers] = pool.solve(Request(LP, y, pi, only=frozenset({1, 4, 5})))
    assert [a.block for a in answers[2]] == list(range(len(data)))
    for one, two in zip(answers[1], answers[2], strict=True):
        assert one.value == pytest.approx(two.value, rel=1e-9)
    # A request for some blocks is answered by those blocks alone, as the full round did.
    for workers in (1, 2):
        assert [a.block for a in some[workers]] == [1, 4, 5]
        for a in some[workers]:
            assert a.value == pytest.approx(answers[1][a.block].value, rel=1e-9)


def test_a_stop_request_ends_the_rounds_with_what_there_is():
    instance = datasets.synthetic(6, seed=1, n_years=2)
    formulation = build_model(instance)
    cm = compile_model(formulation.model)
    owners = county_owners(cm.columns, formulation.data.counties)
    stop = threading.Event()
    stop.set()
    run = solve_by_blocks(cm, owners, 6, deadline=Deadline(None), stop=stop)
    assert run.status.value == "interrupted"
    assert run.values is None and math.isinf(run.gap)


def test_a_stop_before_the_decomposition_has_a_plan_returns_the_minimal_plan():
    """An early stop returns a feasible plan with an honest gap and a note, never none."""
    instance = datasets.synthetic(6, seed=1, n_years=2)
    formulation = build_model(instance)
    mono = solve_formulation(formulation, mip_gap=1e-4, shadow_prices=False)
    stop = threading.Event()
    stop.set()
    run = solve_by_counties(
        formulation,
        mip_gap=1e-4,
        threads=1,
        deadline=Deadline(60.0),
        stop=stop,
        shadow_prices=False,
    )
    assert run.status.value == "interrupted"
    assert run.values is not None and violation(run.compiled, run.values) < 1e-6
    # the minimal plan: below the optimum, and its gap is against the (infinite) bound
    assert run.objective < mono.objective
    assert math.isinf(run.gap)
    assert run.source == "minimal" and any("minimal" in note for note in run.notes)


def test_auto_decomposes_large_instances_and_says_why():
    assert choose_method("auto", 8)[0] == "monolithic"
    method, reason = choose_method("auto", AUTO_DECOMPOSITION_COUNTIES)
    assert method == "decomposition" and str(AUTO_DECOMPOSITION_COUNTIES) in reason
    assert choose_method("monolithic", 5000) == ("monolithic", "asked for")
    with pytest.raises(OptionError, match="method"):
        SolveOptions(method="by hand")


def test_tp_solve_by_decomposition_reports_the_method_and_a_simulated_plan():
    result = solve(datasets.synthetic(6, seed=3, n_years=2), method="decomposition", mip_gap=1e-3)
    summary = result.summary
    assert summary["method"] == "decomposition" and summary["method_reason"] == "asked for"
    assert summary["plan_source"] == "decomposition"
    assert summary["decomposition"]["rounds"] > 0
    assert summary["mip_gap"] <= 1e-3 or summary["status"] == "time_limit"
    assert math.isfinite(result.objective)


@pytest.mark.slow
def test_linking_values_a_county_cannot_keep_do_not_make_the_instance_infeasible():
    """A later pass of prices moves the plan-wide values; a county that cannot keep the
    new ones proves nothing about the instance (the tiny instance's alliance funding)."""
    instance = tiny_instance(n_years=3)
    mono = solve(instance, mip_gap=0.0, method="monolithic")
    # Two counties and many rows between them: the Lagrangian bound stays weak, so the
    # run ends at its limit, with a plan and a bound on either side of the optimum.
    run = solve(instance, mip_gap=1e-4, method="decomposition", time_limit=8)
    assert run.status.value in ("optimal", "time_limit")
    assert math.isfinite(run.objective)
    assert run.objective <= mono.objective + 1e-6 * abs(mono.objective)
    assert run.bound >= mono.objective - 1e-6 * abs(mono.objective)
