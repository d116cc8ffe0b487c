"""The efficiency-equity frontier and the equity floor."""

from __future__ import annotations

import pandas as pd
import pytest

import talentplan as tp
from talentplan.errors import InfeasiblePlanError
from talentplan.scenarios.frontier import min_coverage
from tests.model.tiny import tiny_instance


@pytest.mark.slow
def test_frontier_trades_talent_for_equity():
    inst = tiny_instance(budget=40.0)
    front = tp.pareto_frontier(inst, 4, mip_gap=0.0)
    points = front.points
    assert len(points) == 4
    # Raising the floor never raises the model's optimum and is always honoured.
    model = pd.Series([r.mip_objective for r in front.results])
    assert (model.diff().dropna() <= 1e-6).all()
    assert (points["min_coverage"] >= points["equity_floor"] - 1e-6).all()
    # The talent index of a point is its plan's exact value, at least the model's.
    for row, result in zip(points.itertuples(index=False), front.results, strict=True):
        assert row.talent_index == result.objective
        assert row.talent_index == pytest.approx(tp.simulate(inst, result.allocation).objective)
        assert row.talent_index >= result.mip_objective - 1e-9
        assert row.gap_basis == result.summary["gap_basis"]
    # Only the first point has no floor of its own: its gap is certified with the exact
    # curves; the floors are measured on the model's coverage, so the others' gaps are
    # the model's.
    assert list(points["gap_basis"]) == ["exact", "model", "model", "model"]
    # The ends: the talent-index optimum and the equity optimum.
    assert points["talent_index"].iloc[0] == pytest.approx(tp.solve(inst, mip_gap=0.0).objective)
    fair = tp.solve(inst, objective="equity", mip_gap=0.0)
    # The highest floor is the model's equity optimum (the floor is imposed on the model's
    # coverage; the exact coverage of its plan is higher and could not be imposed).
    assert fair.objective > fair.mip_objective
    assert points["equity_floor"].iloc[-1] == pytest.approx(fair.mip_objective, rel=1e-5)
    # min_coverage is measured on the plan played with the exact curves: at least what
    # the model promised, at most that plus the chords' error bound.
    last = points["min_coverage"].iloc[-1]
    approx = fair.summary["approximation_error"]
    assert fair.mip_objective - 1e-5 <= last <= fair.mip_objective + approx


def test_equity_floor_is_honoured_and_explained_when_impossible():
    inst = tiny_instance(budget=40.0)
    # the floor is imposed on the model's coverage: the model's equity optimum is the highest
    fairest = tp.solve(inst, objective="equity", mip_gap=0.0).mip_objective
    floored = inst.replace_scenario(min_coverage=fairest * 0.999)
    result = tp.solve(floored, mip_gap=0.0)
    assert min_coverage(floored, result) >= fairest * 0.999 - 1e-6
    with pytest.raises(InfeasiblePlanError) as info:
        tp.solve(inst.replace_scenario(min_coverage=min(1.0, fairest * 1.05)))
    assert "equity floor" in info.value.explanation
