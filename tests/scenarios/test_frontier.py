"""The efficiency-equity frontier and the equity floor."""

from __future__ import annotations

import pytest

import talentplan as tp
from talentplan.errors import InfeasiblePlanError
from talentplan.scenarios.frontier import min_coverage
from tests.model.tiny import tiny_instance


def test_frontier_trades_talent_for_equity():
    inst = tiny_instance(budget=40.0)
    front = tp.pareto_frontier(inst, 4, mip_gap=0.0)
    points = front.points
    assert len(points) == 4
    # Raising the floor never raises the talent index and is always honoured.
    assert (points["talent_index"].diff().dropna() <= 1e-6).all()
    assert (points["min_coverage"] >= points["equity_floor"] - 1e-6).all()
    # The ends: the talent-index optimum and the equity optimum.
    assert points["talent_index"].iloc[0] == pytest.approx(tp.solve(inst, mip_gap=0.0).objective)
    fair = tp.solve(inst, objective="equity", mip_gap=0.0)
    # min_coverage is measured on the plan played with the exact curves: at least what
    # the model promised, at most that plus the chords' error bound.
    last = points["min_coverage"].iloc[-1]
    assert fair.objective - 1e-5 <= last <= fair.objective + fair.summary["approximation_error"]


def test_equity_floor_is_honoured_and_explained_when_impossible():
    inst = tiny_instance(budget=40.0)
    fairest = tp.solve(inst, objective="equity", mip_gap=0.0).objective
    floored = inst.replace_scenario(min_coverage=fairest * 0.999)
    result = tp.solve(floored, mip_gap=0.0)
    assert min_coverage(floored, result) >= fairest * 0.999 - 1e-6
    with pytest.raises(InfeasiblePlanError) as info:
        tp.solve(inst.replace_scenario(min_coverage=min(1.0, fairest * 1.05)))
    assert "equity floor" in info.value.explanation
