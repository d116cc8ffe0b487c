"""Model reuse: one HiGHS object changed in place gives the model and the answer of a fresh one."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import scipy.sparse as sp

import talentplan as tp
from talentplan.model.build import build_model
from talentplan.solver.matrix import CompiledModel, compile_model
from talentplan.solver.reuse import ModelReuse, model_changes


@pytest.fixture(scope="module")
def qingyuan():
    return tp.load_instance("qingyuan")


_BUILT: list = []  # the Pyomo models, kept alive: the compiled rows name their components


def compiled(instance) -> CompiledModel:
    model = build_model(instance).model
    _BUILT.append(model)
    return compile_model(model)


def held_by(h) -> dict[str, np.ndarray]:
    """The model a HiGHS object holds, as HiGHS itself reports it."""
    lp = h.getLp()
    a = lp.a_matrix_
    shape = (lp.num_row_, lp.num_col_)
    parts = (np.asarray(a.value_), np.asarray(a.index_), np.asarray(a.start_))
    if a.format_ == type(a.format_).kRowwise:
        matrix = sp.csr_array(parts, shape=shape)
    else:
        matrix = sp.csc_array(parts, shape=shape)
    return {
        "A": matrix.toarray(),
        "cost": np.asarray(lp.col_cost_),
        "col_lower": np.asarray(lp.col_lower_),
        "col_upper": np.asarray(lp.col_upper_),
        "row_lower": np.asarray(lp.row_lower_),
        "row_upper": np.asarray(lp.row_upper_),
    }


def same_model(h, cm: CompiledModel) -> bool:
    held = held_by(h)
    want = {
        "A": cm.A.toarray(),
        "cost": cm.cost,
        "col_lower": cm.col_lower,
        "col_upper": cm.col_upper,
        "row_lower": cm.row_lower,
        "row_upper": cm.row_upper,
    }
    return all(np.array_equal(held[k], want[k]) for k in want)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"budget_scale": 1.0}, {"budget_scale": 1.3}),
        ({"budget_scale": 1.0}, {"budget_scale": 0.4}),
        ({"min_coverage": 0.3}, {"min_coverage": 0.45}),
    ],
)
def test_a_model_changed_in_place_is_the_new_model(qingyuan, first, second):
    def make(change):
        inst = qingyuan.scale_budget(change.get("budget_scale", 1.0))
        return compiled(inst.replace_scenario(min_coverage=change.get("min_coverage", 0.0)))

    old, new = make(first), make(second)
    reuse = ModelReuse()
    h, _, note = reuse.prepare(old)
    assert note.startswith("rebuilt") and same_model(h, old)
    h_again, _, note = reuse.prepare(new)
    assert h_again is h and note.startswith("reused"), note
    assert not same_model(h, old)  # it did change
    assert same_model(h, new)  # into the new model, entry for entry as HiGHS reports it


def test_a_floor_is_a_right_hand_side_and_a_budget_is_not(qingyuan):
    floor = model_changes(
        compiled(qingyuan.replace_scenario(min_coverage=0.3)),
        compiled(qingyuan.replace_scenario(min_coverage=0.4)),
    )
    assert floor is not None
    assert len(floor.rows) == len(qingyuan.counties)  # one floor row per county
    assert len(floor.cols) == len(floor.values) == len(floor.costs) == 0
    budget = model_changes(compiled(qingyuan), compiled(qingyuan.scale_budget(1.3)))
    assert budget is not None and len(budget.values) > 0 and len(budget.cols) > 0


def test_another_structure_loads_a_new_model(qingyuan):
    reuse = ModelReuse()
    h, _, _ = reuse.prepare(compiled(qingyuan))
    floored = compiled(qingyuan.replace_scenario(min_coverage=0.3))  # adds the floor rows
    h_new, start, note = reuse.prepare(floored)
    assert h_new is not h and note.startswith("rebuilt (another model structure)")
    assert start is None and same_model(h_new, floored)


def assert_same_to_the_gap(inst, carried, fresh, mip_gap):
    # Both plans are within the gap of the one optimum of the same model: each is at
    # most the other's bound, and their values differ by at most the gap.
    for a, b in ((carried, fresh), (fresh, carried)):
        assert a.mip_objective <= b.summary["mip_bound"] + 1e-6 * (1 + abs(b.mip_objective))
    scale = max(abs(carried.mip_objective), abs(fresh.mip_objective))
    assert abs(carried.mip_objective - fresh.mip_objective) <= mip_gap * scale
    # and the result is assembled as a fresh solve's: the objective is the plan played
    assert carried.objective == pytest.approx(tp.simulate(inst, carried.allocation).objective)
    assert carried.status.value == fresh.status.value == "optimal"


def solve_in_turn(instances, mip_gap):
    """Solve each instance with one carried model and afresh; return the pairs and notes."""
    reuse = ModelReuse()
    pairs = []
    for inst in instances:
        carried = tp.solve(inst, mip_gap=mip_gap, threads=1, reuse=reuse)
        pairs.append((inst, carried, tp.solve(inst, mip_gap=mip_gap, threads=1)))
    return pairs, reuse.history


@pytest.mark.slow
def test_reused_solves_match_fresh_ones_on_a_small_instance():
    base = tp.datasets.synthetic(3, seed=2, n_years=2)
    scales = [base.scale_budget(s) for s in (0.5, 1.2)]
    floors = [base.replace_scenario(min_coverage=m) for m in (0.2, 0.1)]
    pairs, history = solve_in_turn(scales + floors, 1e-4)
    for inst, carried, fresh in pairs:
        assert_same_to_the_gap(inst, carried, fresh, 1e-4)
    assert [h.split(" ")[0] for h in history] == ["rebuilt", "reused", "rebuilt", "reused"]
    # the floors fall and the budgets rise: every reused solve starts from the last plan
    assert all("started from the previous plan" in h for h in history if h.startswith("reused"))
    assert "model reuse: reused" in " ".join(pairs[1][1].summary["method_notes"])


@pytest.mark.slow
def test_reused_solves_match_fresh_ones_on_qingyuan(qingyuan):
    gap = 1e-3
    scales = [qingyuan.scale_budget(s) for s in (0.8, 1.0, 1.25)]
    floors = [qingyuan.replace_scenario(min_coverage=m) for m in (0.5, 0.4)]
    pairs, history = solve_in_turn(scales + floors, gap)
    for inst, carried, fresh in pairs:
        assert_same_to_the_gap(inst, carried, fresh, gap)
    assert sum(h.startswith("reused") for h in history) == 3


@pytest.mark.slow
def test_a_stop_returns_the_previous_plan_as_a_fresh_solve_returns_its_seed(qingyuan):
    reuse = ModelReuse()
    first = tp.solve(qingyuan, mip_gap=1e-2, threads=1, reuse=reuse)
    stop = threading.Event()
    stop.set()  # stopped before HiGHS's first slice: the start stands
    larger = qingyuan.scale_budget(1.1)
    stopped = tp.solve(larger, mip_gap=1e-7, threads=1, reuse=reuse, stop=stop)
    assert stopped.status.value == "interrupted"
    assert stopped.summary["warm_start"]["method"].startswith("previous")
    # the plan is feasible for the larger budget and worth at least the smaller's plan
    assert stopped.mip_objective >= first.mip_objective * (1 - 1e-6)
    assert tp.simulate(larger, stopped.allocation).objective == pytest.approx(stopped.objective)
    # and the stop is not carried over: the next solve in the same HiGHS object finishes
    after = tp.solve(qingyuan.scale_budget(1.2), mip_gap=1e-2, threads=1, reuse=reuse)
    assert after.status.value == "optimal"
