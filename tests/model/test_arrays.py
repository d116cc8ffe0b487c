"""The array build equals the Pyomo reference: same matrix up to order, same optimum.

The reference is the Pyomo model compiled by Pyomo's own standard-form compiler
(:func:`talentplan.solver.matrix.compile_model`), which knows nothing of
:mod:`talentplan.model.arrays`. Columns and rows are aligned by their keys (component
name and index); each row must also be written with Pyomo's orientation (``a >= b``
with variables on both sides as ``b - a <= 0``), so that row duals mean the same. A
failure names the families that differ.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import highspy
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from talentplan import datasets
from talentplan.data.instance import PolicyFloor
from talentplan.model.arrays import ArrayModel, build_arrays
from talentplan.model.build import build_model
from talentplan.solver.matrix import CompiledModel, compile_model, to_highs

from .tiny import tiny_instance

TOL = 1e-9


def _index(i: object) -> tuple:
    if i is None:
        return ()
    return i if isinstance(i, tuple) else (i,)


def _close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    both_inf = np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b))
    with np.errstate(invalid="ignore"):
        return both_inf | (np.abs(a - b) <= TOL * np.maximum(1.0, np.abs(b)))


def differences(am: ArrayModel, cm: CompiledModel) -> dict[str, Counter]:
    """What differs between the two, by family; empty when they are equal."""
    out: dict[str, Counter] = {}
    ref_cols = [(v.parent_component().name, _index(v.index())) for v in cm.columns]
    ref_rows = [(r.parent_component().name, _index(r.index())) for r in cm.rows]
    cols, rows = am.column_keys(), am.row_keys()
    for what, mine, ref in (("columns", cols, ref_cols), ("rows", rows, ref_rows)):
        missing = Counter(k[0] for k in set(ref) - set(mine))
        extra = Counter(k[0] for k in set(mine) - set(ref))
        if missing:
            out[f"{what} missing"] = missing
        if extra:
            out[f"{what} extra"] = extra
        assert len(set(mine)) == len(mine), f"duplicate {what} keys"
    if out:
        return out
    col_pos = {k: n for n, k in enumerate(ref_cols)}
    row_pos = {k: n for n, k in enumerate(ref_rows)}
    cp = np.array([col_pos[k] for k in cols])
    rp = np.array([row_pos[k] for k in rows])
    col_family = np.array([k[0] for k in cols], dtype=object)
    row_family = np.array([k[0] for k in rows], dtype=object)
    bad: Counter = Counter()
    bad.update(col_family[~_close(am.col_lower, cm.col_lower[cp])])
    bad.update(col_family[~_close(am.col_upper, cm.col_upper[cp])])
    bad.update(col_family[am.integer != cm.integer[cp]])
    if bad:
        out["column bounds or integrality"] = bad
    objective: Counter = Counter(col_family[~_close(am.cost, cm.cost[cp])])
    if objective or am.maximize != cm.maximize or abs(am.offset - cm.offset) > TOL:
        objective["sense or offset"] += am.maximize != cm.maximize or am.offset != cm.offset
        out["objective"] = objective
    ref = sp.csr_array(cm.A)[rp][:, cp]
    ref.eliminate_zeros()
    mine = sp.csr_array(am.A)
    diff = sp.csr_array(mine - ref).tocoo()
    scale = sp.csr_array(abs(mine) + abs(ref))
    rows_bad = np.zeros(len(rows), dtype=bool)
    if diff.nnz:
        size = np.asarray(scale[diff.row, diff.col], dtype=float).ravel()
        rows_bad[diff.row[np.abs(diff.data) > TOL * np.maximum(1.0, size)]] = True
    pattern = sp.csr_array((mine != 0).astype(int) - (ref != 0).astype(int)).tocoo()
    rows_bad[pattern.row[pattern.data != 0]] = True
    if rows_bad.any():
        out["coefficients"] = Counter(row_family[rows_bad])
    lo, up = cm.row_lower[rp], cm.row_upper[rp]
    bounds = ~_close(am.row_lower, lo) | ~_close(am.row_upper, up)
    if bounds.any():
        out["row bounds"] = Counter(row_family[bounds])
    return out


def rules_variant():
    """Qingyuan with every rule the bundled data leaves out.

    Prerequisites on an amount program (by a count and by a site) and on a site (by a
    count), a source paying in two counties only (two funding groups), graduate
    retention strong enough to keep every graduate (``all_kept``), a targets table and
    floors on a city program and on named counties.
    """
    inst = datasets.load_bundled("qingyuan")
    t = inst.tables
    programs = t["programs"].copy()
    needs = dict(
        talent_station="cash_subsidy", honours="head_goose", skill_studio="one_stop_centre"
    )
    for p, q in needs.items():
        programs.loc[programs["program"] == p, "requires"] = q
    sources = t["sources"].copy()
    sources.loc[sources["source"] == "counterpart_assistance", "counties"] = "Lianshan;Liannan"
    responses = t["responses"].copy()
    responses.loc[responses["effect"] == "graduate_retention", "value"] *= 6
    targets = pd.DataFrame(
        {
            "county": ["Fogang", "Yingde"],
            "talent_type": ["engineer", "rural"],
            "target": [50.0, 80.0],
        }
    )
    inst = inst.replace_tables(
        programs=programs, sources=sources, responses=responses, targets=targets
    )
    floors = (
        *inst.scenario.floors,
        PolicyFloor(name="titles", program="title_recognition", by_year=2028),
        PolicyFloor(
            name="stations", program="talent_station", by_year=2026, counties=("Fogang", "Yingde")
        ),
    )
    return inst.replace_scenario(floors=floors)


RULE_FAMILIES = {
    "uses_bound",
    "prerequisite_spend",
    "prerequisite",
    "prerequisite_each",
    "leaving_le_none",
    "target",
    "policy_floor",
}


def _instances() -> dict:
    return {
        "qingyuan": lambda: datasets.load_bundled("qingyuan"),
        "qingyuan-rules": rules_variant,
        # a coverage target qingyuan can reach (0.9, its scenario's, is infeasible)
        "qingyuan-half": lambda: datasets.load_bundled("qingyuan").replace_scenario(
            target_coverage=0.5
        ),
        "synthetic-12": lambda: datasets.synthetic(12, seed=3),
        # one county: no competition, no placement pool across counties
        "synthetic-1": lambda: datasets.synthetic(1, seed=1, n_years=2),
        # carry-over budgets, no demand feedback
        "qingyuan-rules-carry": lambda: rules_variant().replace_scenario(
            carry_over=True, demand_feedback=0.0
        ),
        "tiny-pins-carry": lambda: tiny_instance(
            n_years=3,
            carry_over=True,
            pins=[
                dict(county="A", program="alliance", year=2026, action="min", value=1.0),
                dict(county="B", program="station", year=2025, action="max", value=1.0),
            ],
        ),
    }


INSTANCES = _instances()


@pytest.mark.parametrize("objective", ["talent_index", "min_cost", "equity"])
@pytest.mark.parametrize("name", [n for n in INSTANCES if n != "qingyuan-half"])
def test_the_arrays_equal_the_compiled_pyomo_model(name, objective):
    instance = INSTANCES[name]()
    am = build_arrays(instance, objective)
    reference = build_model(instance, objective)  # alive while compared
    cm = compile_model(reference.model)
    assert differences(am, cm) == {}


def test_the_rules_variant_exercises_every_rule_family():
    am = build_arrays(rules_variant(), "min_cost")
    assert RULE_FAMILIES <= set(am.row_families())
    assert len({k for k, _c, _s in _fund_keys(am)}) == 2  # two funding groups


def _fund_keys(am: ArrayModel) -> set:
    return {
        (k[1][0], k[1][1], k[1][3]) for k in am.column_keys() if k[0] == "fund" and k[1][0] != "*"
    }


@pytest.mark.slow
@pytest.mark.parametrize("objective", ["talent_index", "min_cost", "equity"])
def test_northern_guangdong_arrays_equal_its_compiled_pyomo_model(objective):
    instance = datasets.load_bundled("northern_guangdong")
    am = build_arrays(instance, objective)
    reference = build_model(instance, objective)  # alive while compared
    assert differences(am, compile_model(reference.model)) == {}


def _with_floor(instance, share):
    return instance.replace_scenario(min_coverage=share)


@pytest.mark.parametrize("name", ["qingyuan", "synthetic-12"])
def test_an_equity_floor_gives_the_same_rows(name):
    instance = _with_floor(INSTANCES[name](), 0.3)
    am = build_arrays(instance)
    reference = build_model(instance)  # alive while compared
    cm = compile_model(reference.model)
    assert "equity_floor" in set(am.row_families())
    assert differences(am, cm) == {}


GAP = 1e-4
"""Relative gap of both solves: the two optima are compared through their certificates."""


def _solve(model) -> tuple[float, float]:
    """Return the best plan's objective and HiGHS's bound, solved to :data:`GAP`."""
    h = to_highs(model)
    h.setOptionValue("mip_rel_gap", GAP)
    h.setOptionValue("time_limit", 120.0)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    info = h.getInfo()
    return float(info.objective_function_value), float(info.mip_dual_bound)


SOLVES = [
    pytest.param("tiny-pins-carry", "talent_index"),
    pytest.param("tiny-pins-carry", "min_cost"),
    pytest.param("tiny-pins-carry", "equity"),
    pytest.param("qingyuan-half", "min_cost", marks=pytest.mark.slow),
    pytest.param("qingyuan-rules", "min_cost"),
    pytest.param("qingyuan", "talent_index", marks=pytest.mark.slow),
    pytest.param("qingyuan", "equity", marks=pytest.mark.slow),
]


@pytest.mark.parametrize(("name", "objective"), SOLVES)
def test_both_have_the_same_optimum(name, objective):
    instance = INSTANCES[name]()
    am = build_arrays(instance, objective)
    reference = build_model(instance, objective)  # alive while compared
    cm = compile_model(reference.model)
    # Each optimum lies between the other's plan and bound: the two certified intervals
    # overlap, so the optima agree to within GAP (both at most GAP wide).
    (plan_a, bound_a), (plan_b, bound_b) = _solve(am), _solve(cm)
    low_a, high_a = sorted((plan_a, bound_a))
    low_b, high_b = sorted((plan_b, bound_b))
    tolerance = 1e-9 * max(1.0, abs(plan_a))
    assert max(low_a, low_b) <= min(high_a, high_b) + tolerance
    assert plan_a == pytest.approx(plan_b, rel=2 * GAP)


def test_a_broken_coefficient_is_named_by_its_family():
    instance = datasets.load_bundled("qingyuan")
    am = build_arrays(instance)
    reference = build_model(instance)  # alive while compared
    cm = compile_model(reference.model)
    rows = np.nonzero(am.row_families() == "stock_balance")[0]
    A = sp.csr_array(am.A)
    A.data[A.indptr[rows[3]]] *= 1.01
    broken = replace_matrix(am, sp.csc_array(A))
    assert differences(broken, cm) == {"coefficients": Counter({"stock_balance": 1})}


def replace_matrix(am: ArrayModel, A: sp.csc_array) -> ArrayModel:
    return replace(am, A=A)
