"""Properties of sweeps and frontiers solved with model reuse: more budget never lowers the
optimum, and the frontier's points do not dominate one another."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import talentplan as tp
from talentplan.model.build import build_model
from talentplan.scenarios.executors import Outcome
from talentplan.scenarios.sweep import sweep
from tests.model.tiny import tiny_instance

GAP = 1e-4


class InProcess:
    """Run a sweep's tasks one after the other in this process (one carried model)."""

    workers = 1

    def run(self, fn, tasks, *, stop=None):
        for n, task in enumerate(tasks):
            yield Outcome(n, fn(task))


@pytest.fixture(scope="module")
def small():
    return tp.datasets.synthetic(3, seed=2, n_years=2)


@pytest.mark.slow
@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    scales=st.lists(
        st.integers(min_value=3, max_value=25).map(lambda k: k / 10),
        min_size=3,
        max_size=3,
        unique=True,
    )
)
def test_the_optimum_never_falls_as_the_budget_grows_across_a_sweep(
    small, tmp_path_factory, scales
):
    out = tmp_path_factory.mktemp("monotone")
    res = sweep(small, out, budget_scale=scales, executor=InProcess(), mip_gap=GAP)
    table = res.table.sort_values("budget_scale").reset_index()
    assert (table["status"] == "optimal").all()
    model = np.array([res.plan(int(i)).mip_objective for i in table["index"]])
    for i, j in itertools.combinations(range(len(table)), 2):
        # a smaller budget's plan is admissible under a larger one: the larger optimum
        # is at least it, and the larger plan is within the gap of that optimum
        assert model[j] >= model[i] * (1 - GAP) - 1e-6, (scales, i, j)
        # and on the exact curves, the larger budget's certified bound is above the plan
        assert table["bound"].iloc[j] >= table["objective"].iloc[i] - 1e-6, (scales, i, j)
    # the sweep did solve in one carried model, each from the plan before
    notes = [" ".join(res.plan(int(i)).summary["method_notes"]) for i in table["index"]]
    assert all("model reuse: reused" in n for n in notes[1:]), notes


def dominated(points) -> list[tuple[int, int]]:
    """Pairs (i, j) where point i is at least as good as j in both and better in one.

    "Better" is by more than a relative 1e-9 (the solver's rounding); the values are
    the talent index and the smallest coverage of each plan on the exact curves.
    """
    t, c = points["talent_index"].to_numpy(), points["min_coverage"].to_numpy()
    out = []
    for i, j in itertools.permutations(range(len(t)), 2):
        weakly = t[i] >= t[j] and c[i] >= c[j]
        strictly = t[i] > t[j] * (1 + 1e-9) or c[i] > c[j] * (1 + 1e-9)
        if weakly and strictly:
            out.append((i, j))
    return out


@pytest.mark.slow
@pytest.mark.parametrize(
    "make",
    [
        lambda: tiny_instance(budget=40.0),
        pytest.param(lambda: tp.datasets.synthetic(3, seed=2, n_years=2), marks=pytest.mark.slow),
    ],
    ids=["tiny", "synthetic3"],
)
def test_the_frontier_points_are_mutually_non_dominated_with_and_without_reuse(make):
    inst = make()
    carried = tp.pareto_frontier(inst, 4, mip_gap=GAP)
    fresh = tp.pareto_frontier(inst, 4, mip_gap=GAP, reuse=False)
    # A higher floor never buys talent: on the exact curves the talent index may rise
    # by at most the chords' error (the floors act on the chords) and the gap.
    talent_error = build_model(inst, "talent_index").approximation_error
    for front in (carried, fresh):
        points = front.points
        assert dominated(points) == [], points
        assert (points["min_coverage"] >= points["equity_floor"] - 1e-6).all()
        slack = talent_error + GAP * float(points["talent_index"].abs().max())
        assert (points["talent_index"].diff().dropna() <= slack).all(), points
    # the same floors, and the same talent index to the gap
    np.testing.assert_allclose(carried.points["equity_floor"], fresh.points["equity_floor"])
    for a, b in zip(carried.results, fresh.results, strict=True):
        assert abs(a.mip_objective - b.mip_objective) <= GAP * abs(b.mip_objective) + 1e-9
    floored = [" ".join(r.summary["method_notes"]) for r in carried.results[1:]]
    assert sum("model reuse: reused" in n for n in floored) == len(floored) - 1
