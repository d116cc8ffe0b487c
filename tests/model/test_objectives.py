"""Objectives beyond the talent index: minimum cost against a targets table."""

from __future__ import annotations

import pytest

from talentplan.report.pipeline import solve
from tests.model.tiny import tiny_instance


def test_min_cost_meets_a_targets_table():
    from .tiny import frame

    base = tiny_instance(objective="min_cost")
    targets = frame(
        "targets",
        [
            dict(county="A", talent_type="eng", target=105.0),
            dict(county="B", talent_type="voc", target=47.0),
        ],
    )
    inst = base.replace_tables(targets=targets)
    result = solve(inst, mip_gap=0.0)
    final = result.talent[result.talent["year"] == inst.years[-1]].set_index(
        ["county", "talent_type"]
    )["useful"]
    assert final["A", "eng"] >= 105.0 - 1e-6
    assert final["B", "voc"] >= 47.0 - 1e-6
    assert result.objective == pytest.approx(result.allocation["cost"].sum(), rel=1e-9)
    assert result.mip_objective == pytest.approx(result.objective, rel=1e-9)  # cost is exact
    assert result.objective > 0
