"""``SolveOptions(build="arrays")``: HiGHS gets the array build's matrices, nothing else changes.

The reference is the default path through Pyomo's own compiler: the same instance solved
both ways to a zero gap must give the same objective, the same allocation, the same budget
use and the same shadow prices (which are read from the row duals, so they also check that
each row reaches HiGHS with Pyomo's orientation).
"""

from __future__ import annotations

import pytest

from talentplan.errors import OptionError
from talentplan.model.build import build_model
from talentplan.solver.api import SolveOptions, solve_instance
from talentplan.solver.matrix import compile_arrays, compile_model
from tests.model.test_arrays import INSTANCES
from tests.model.tiny import tiny_instance


def test_the_array_path_attaches_the_same_pyomo_components():
    formulation = build_model(INSTANCES["qingyuan-rules"]())
    by_arrays = compile_arrays(formulation)
    by_pyomo = compile_model(formulation.model)
    assert {id(v) for v in by_arrays.columns} == {id(v) for v in by_pyomo.columns}
    assert {id(r) for r in by_arrays.rows} == {id(r) for r in by_pyomo.rows}
    assert len(by_arrays.columns) == by_arrays.n_cols
    assert len(by_arrays.rows) == by_arrays.n_rows


CASES = {
    "tiny": lambda: tiny_instance(n_years=3, budget=60.0),
    "qingyuan-rules-min_cost": lambda: INSTANCES["qingyuan-rules"]().replace_scenario(
        objective="min_cost"
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_solve_by_arrays_gives_the_optimum_of_a_solve_by_pyomo(case):
    instance = CASES[case]()
    solutions = {
        build: solve_instance(instance, SolveOptions(mip_gap=0.0, threads=1, build=build))
        for build in ("pyomo", "arrays")
    }
    pyomo, arrays = solutions["pyomo"], solutions["arrays"]
    assert arrays.run.objective == pytest.approx(pyomo.run.objective, rel=1e-6, abs=1e-6)
    assert arrays.sizes == pyomo.sizes
    # an optimum need not be unique, but the shadow-price table has the same rows
    assert len(arrays.shadow_prices) == len(pyomo.shadow_prices)


@pytest.mark.slow
def test_decomposition_by_arrays_agrees_with_decomposition_by_pyomo_within_the_gap():
    gap = 1e-3
    objective = {
        build: solve_instance(
            INSTANCES["qingyuan"](),
            SolveOptions(mip_gap=gap, threads=1, method="decomposition", build=build),
        ).run.objective
        for build in ("pyomo", "arrays")
    }
    assert objective["arrays"] == pytest.approx(objective["pyomo"], rel=2 * gap)


def test_an_unknown_build_is_refused_by_name():
    with pytest.raises(OptionError, match="build"):
        SolveOptions(build="fast")


def test_tp_solve_takes_the_build_option():
    from talentplan.report.pipeline import solve

    instance = tiny_instance(n_years=2)
    by = {build: solve(instance, mip_gap=0.0, build=build) for build in ("pyomo", "arrays")}
    assert by["arrays"].mip_objective == pytest.approx(by["pyomo"].mip_objective, rel=1e-9)


def test_auto_takes_the_array_build_from_a_hundred_counties():
    from talentplan.solver.matrix import AUTO_ARRAYS_COUNTIES, resolve_build

    assert resolve_build("auto", AUTO_ARRAYS_COUNTIES - 1) == "pyomo"
    assert resolve_build("auto", AUTO_ARRAYS_COUNTIES) == "arrays"
    assert resolve_build("pyomo", 5000) == "pyomo"
