"""Demand that answers talent: the paper's loop of industry and talent.

References: hand computations from ``tests/model/tiny.py`` and the rule of
:func:`talentplan.model.talent.demand_expr`; the do-nothing path, on which demand must be
the data's (computed once in ``prepare`` and once by the simulator); the model's value
of its plan against the simulator; exhaustive enumeration (test_bruteforce.py).
"""

from __future__ import annotations

import pandas as pd
import pytest

from talentplan.report.pipeline import solve
from talentplan.simulation import simulate

from .tiny import tiny_instance

PLAN_COLUMNS = ["county", "program", "industry", "year", "quantity"]


def _loop(inst, eta: float = 0.5):
    types = inst.talent_types.assign(drives_demand=inst.talent_types["talent_type"] == "eng")
    return inst.replace_tables(talent_types=types).replace_scenario(demand_feedback=eta)


def _voc_demand(inst, value: float):
    demand = inst.demand.copy()
    demand.loc[(demand["county"] == "A") & (demand["talent_type"] == "voc"), "demand"] = value
    return inst.replace_tables(demand=demand)


def test_more_engineers_raise_next_years_demand_by_hand():
    inst = _loop(_voc_demand(tiny_instance(n_years=2), 70.0))
    plan = pd.DataFrame(
        [("A", "centre", "", 2025, 1), ("A", "centre", "", 2026, 1)], columns=PLAN_COLUMNS
    )
    talent = simulate(inst, plan).talent.set_index(["county", "talent_type", "year"])
    # 2025: A's engineers 100 * 0.88 + 6 kept by the centre = 94, against 88 with no program
    assert talent.loc[("A", "eng", 2025), "useful"] == pytest.approx(94.0)
    # 2026: demand grows by 0.5 * (94 - 88) = 3 persons, spread 110 : 70 over eng and voc
    voc = talent.loc[("A", "voc", 2026)]
    assert voc["stock"] > 72  # vocational talent is capped by demand
    assert voc["useful"] == pytest.approx(70.0 + 3.0 * 70 / 180)
    without = simulate(_voc_demand(tiny_instance(n_years=2), 70.0), plan).talent
    assert without.set_index(["county", "talent_type", "year"]).loc[
        ("A", "voc", 2026), "useful"
    ] == pytest.approx(70.0)


def test_do_nothing_sees_the_datas_demand():
    plain = _voc_demand(tiny_instance(n_years=3), 70.0)
    empty = pd.DataFrame(columns=PLAN_COLUMNS)
    assert simulate(_loop(plain), empty).objective == pytest.approx(
        simulate(plain, empty).objective, rel=1e-12
    )


@pytest.mark.parametrize("eta", [0.5, 2.0])
def test_model_values_its_plan_as_the_simulator_does(eta):
    inst = _loop(_voc_demand(tiny_instance(n_years=3, budget=80.0), 70.0), eta)
    result = solve(inst, mip_gap=0.0)
    error = result.summary["approximation_error"]
    assert result.objective - error - 1e-6 <= result.mip_objective <= result.objective + 1e-6
    plain = solve(_voc_demand(tiny_instance(n_years=3, budget=80.0), 70.0), mip_gap=0.0)
    assert result.objective >= plain.objective - 1e-9  # demand can only grow here
