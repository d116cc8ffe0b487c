"""``SolveOptions(build="arrays")``: HiGHS gets the array build's matrices, nothing else changes.

The reference is the default path through Pyomo's own compiler: the same instance solved
both ways to a zero gap must give the same objective, the same allocation, the same budget
use and the same shadow prices (which are read from the row duals, so they also check that
each row reaches HiGHS with Pyomo's orientation).
"""

from __future__ import annotations

import pytest

from talentplan.data.instance import Instance
from talentplan.errors import OptionError
from talentplan.model.build import build_model
from talentplan.solver.api import SolveOptions, solve_instance
from talentplan.solver.blocks import county_owners, split_blocks
from talentplan.solver.matrix import compile_arrays, compile_formulation, compile_model
from talentplan.solver.subproblems import block_data
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


def _key(component: object) -> tuple:
    """A column's or row's component name and index, the same whichever build made it."""
    index = component.index()  # type: ignore[attr-defined]
    index = () if index is None else index if isinstance(index, tuple) else (index,)
    return (component.parent_component().name, index)  # type: ignore[attr-defined]


def _decomposition_view(instance: Instance, build: str) -> tuple[dict, dict]:
    """What the decomposition sees of ``instance``, by keys: its split, and every number.

    The split names each county's own columns, rows and linking columns, the coupling
    rows, the global rows and the global columns; the numbers are every entry, bound,
    cost and integrality of each county's :class:`~talentplan.solver.subproblems.BlockData`
    (its part of the coupling rows too), keyed by row and column, so that the order each
    build gives its rows and columns does not count.
    """
    formulation = build_model(instance)
    cm = compile_formulation(formulation, build)
    counties = formulation.data.counties
    blocks = split_blocks(cm, county_owners(cm.columns, counties), len(counties))
    col = [_key(v) for v in cm.columns]
    row = [_key(r) for r in cm.rows]
    coupling = [row[r] for r in blocks.coupling_rows]
    split: dict = {
        "coupling rows": frozenset(coupling),
        "global rows": frozenset(row[r] for r in blocks.global_rows),
        "global columns": frozenset(col[j] for j in blocks.global_columns),
    }
    numbers: dict = {}
    for k, b in enumerate(block_data(cm, blocks, blocks.coupling_rows)):
        county = counties[k]
        cols = [col[j] for j in blocks.columns[k]] + [col[j] for j in b.linking]
        rows = [row[r] for r in blocks.rows[k]]
        split[county] = (frozenset(cols[: b.n_own]), frozenset(rows), frozenset(cols[b.n_own :]))
        A, C = b.A.tocoo(), b.coupling.tocoo()
        for r, c, v in zip(A.row, A.col, A.data, strict=True):
            numbers[county, "A", rows[r], cols[c]] = float(v)
        for r, c, v in zip(C.row, C.col, C.data, strict=True):
            numbers[county, "coupling", coupling[r], cols[c]] = float(v)
        for n, c in enumerate(cols):
            numbers[county, "lower", c] = float(b.col_lower[n])
            numbers[county, "upper", c] = float(b.col_upper[n])
            numbers[county, "cost", c] = float(b.cost[n])
            numbers[county, "integer", c] = float(b.integer[n])
        for n, r in enumerate(rows):
            numbers[county, "row lower", r] = float(b.row_lower[n])
            numbers[county, "row upper", r] = float(b.row_upper[n])
    return split, numbers


@pytest.mark.parametrize("name", ["synthetic-12", "qingyuan-rules-carry"])
def test_the_decomposition_sees_the_same_county_blocks_with_either_build(name):
    instance = INSTANCES[name]()
    split, numbers = _decomposition_view(instance, "pyomo")
    by_arrays, numbers_by_arrays = _decomposition_view(instance, "arrays")
    assert by_arrays == split
    assert numbers_by_arrays == pytest.approx(numbers, rel=1e-9, abs=1e-12)


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
