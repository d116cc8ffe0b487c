"""Compile a Pyomo model to sparse matrices once, and hand them to HiGHS.

Pyomo's standard-form compiler gives ``A``, the row senses and right-hand sides, the
objective and the column list; column bounds and integrality come from the variables.
The same matrices feed the MIP, the LP with integers fixed (shadow prices) and the
elastic relaxation that explains infeasibility.

The array build (:mod:`talentplan.model.arrays`) gives the same matrices from the
prepared data without Pyomo's compiler, many times faster on large instances;
:func:`compile_formulation` with ``build="arrays"`` uses it and attaches the Pyomo
variables and constraints of the same keys, so everything that reads a plan back works
unchanged.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import highspy
import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from talentplan._options import check_choice
from talentplan.model.arrays import ArrayModel, build_arrays
from talentplan.model.build import Formulation

INF = highspy.kHighsInf
BUILDS = ("auto", "pyomo", "arrays")
"""How the matrices are made: Pyomo's compiler, the array build, or ``auto`` (by size)."""
AUTO_ARRAYS_COUNTIES = 100
"""``auto`` takes the array build from this many counties (where ``method="auto"``
decomposes too): at 122 counties Pyomo's compile takes 1.7 s and the array build with
its Pyomo keys 0.2 s, at 2,850 counties 41 s and 6 s (``benchmarks/results/build-path.txt``).
Below it Pyomo's compiler, the reference, costs a fraction of a second. Not the default
(``pyomo`` is): one run of synthetic(2850) by decomposition with the array build found no
plan in 600 s where the same run with Pyomo's build ended at a 0.16% gap."""
FEASIBLE = int(highspy.SolutionStatus.kSolutionStatusFeasible)
"""HiGHS's primal solution status when it holds a feasible point."""


@dataclass
class CompiledModel:
    """A model as arrays: ``row_lower <= A x <= row_upper``, ``col_lower <= x <= col_upper``."""

    A: sp.csc_array
    cost: np.ndarray
    offset: float
    maximize: bool
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    columns: list
    rows: list
    """Pyomo ConstraintData of each row (a ranged constraint appears on one row)."""

    @property
    def n_cols(self) -> int:
        """Number of columns (decision variables) of the matrix."""
        return self.A.shape[1]

    @property
    def n_rows(self) -> int:
        """Number of rows (constraints, a ranged one counted once) of the matrix."""
        return self.A.shape[0]


def compile_model(model: pyo.ConcreteModel) -> CompiledModel:
    """Compile the active objective and constraints of ``model``."""
    info = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    objective = info.objectives[0]
    maximize = objective.sense == pyo.maximize
    A = sp.csr_array(info.A)
    rhs = np.asarray(info.rhs, dtype=float)
    n_rows = A.shape[0]
    lower = np.full(n_rows, -INF)
    upper = np.full(n_rows, INF)
    senses = np.array([r.bound_type for r in info.rows])
    upper[senses >= 0] = rhs[senses >= 0]
    lower[senses <= 0] = rhs[senses <= 0]
    constraints = [r.constraint for r in info.rows]
    # Merge the two rows of a ranged constraint into one row with both bounds.
    keep = np.ones(n_rows, dtype=bool)
    for n in range(1, n_rows):
        if constraints[n] is constraints[n - 1] and senses[n] == -1 and senses[n - 1] == 1:
            lower[n - 1] = lower[n]
            keep[n] = False
    cols = info.columns
    col_lower = np.array([-INF if v.lb is None else v.lb for v in cols], dtype=float)
    col_upper = np.array([INF if v.ub is None else v.ub for v in cols], dtype=float)
    integer = np.array([v.is_integer() or v.is_binary() for v in cols], dtype=bool)
    cost = np.asarray(info.c.toarray()[0] if hasattr(info.c, "toarray") else info.c, dtype=float)
    return CompiledModel(
        A=sp.csc_array(A[keep]),
        cost=cost.ravel(),
        offset=float(info.c_offset[0]) if len(info.c_offset) else 0.0,
        maximize=maximize,
        col_lower=col_lower,
        col_upper=col_upper,
        integer=integer,
        row_lower=lower[keep],
        row_upper=upper[keep],
        columns=list(cols),
        rows=[c for c, k in zip(constraints, keep, strict=True) if k],
    )


def resolve_build(build: str, n_counties: int) -> str:
    """Return the build ``build`` names (``auto``: arrays from :data:`AUTO_ARRAYS_COUNTIES`)."""
    check_choice("build", build, BUILDS)
    if build != "auto":
        return build
    return "arrays" if n_counties >= AUTO_ARRAYS_COUNTIES else "pyomo"


def compile_formulation(formulation: Formulation, build: str = "pyomo") -> CompiledModel:
    """Compile ``formulation`` with Pyomo's compiler (``pyomo``) or the array build (``arrays``).

    Both give the same rows, columns, bounds and objective, up to their order
    (``tests/model/test_arrays.py``); ``auto`` chooses by :func:`resolve_build`.
    """
    if resolve_build(build, len(formulation.data.counties)) == "pyomo":
        return compile_model(formulation.model)
    return compile_arrays(formulation)


def compile_arrays(formulation: Formulation) -> CompiledModel:
    """Compile ``formulation`` with :func:`~talentplan.model.arrays.build_arrays`.

    Columns and rows are the Pyomo variables and constraints of the array build's keys.
    """
    d = formulation.data
    am = build_arrays(d, formulation.objective, d.instance.scenario.min_coverage)
    return CompiledModel(
        A=am.A,
        cost=am.cost,
        offset=am.offset,
        maximize=am.maximize,
        col_lower=am.col_lower,
        col_upper=am.col_upper,
        integer=am.integer,
        row_lower=am.row_lower,
        row_upper=am.row_upper,
        columns=_components(formulation.model, am, rows=False),
        rows=_components(formulation.model, am, rows=True),
    )


def _components(model: pyo.ConcreteModel, am: ArrayModel, rows: bool) -> list:
    """Return the Pyomo component data of each column (or row) of ``am``."""
    blocks, keep = am.index_blocks(rows)
    out: list = []
    for name, indices in blocks:
        if not indices:
            continue
        component = getattr(model, name)
        if not indices[0]:
            out += [component] * len(indices)  # an unindexed component is its own data
            continue
        get = component.__getitem__
        if len(indices[0]) == 1:
            out += [get(i) for (i,) in indices]
        else:
            out += [get(i) for i in indices]
    return [out[n] for n in keep]


def to_highs(
    cm: CompiledModel,
    *,
    cost: np.ndarray | None = None,
    col_lower: np.ndarray | None = None,
    col_upper: np.ndarray | None = None,
    integer: bool = True,
    maximize: bool | None = None,
) -> highspy.Highs:
    """Load ``cm`` into a new HiGHS object, optionally with other costs, bounds or no integers."""
    lp = highspy.HighsLp()
    lp.num_col_ = cm.n_cols
    lp.num_row_ = cm.n_rows
    lp.col_cost_ = np.asarray(cm.cost if cost is None else cost, dtype=float)
    lp.col_lower_ = np.asarray(cm.col_lower if col_lower is None else col_lower, dtype=float)
    lp.col_upper_ = np.asarray(cm.col_upper if col_upper is None else col_upper, dtype=float)
    lp.row_lower_ = cm.row_lower
    lp.row_upper_ = cm.row_upper
    lp.offset_ = cm.offset
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = cm.A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = cm.A.indices.astype(np.int32)
    lp.a_matrix_.value_ = cm.A.data.astype(float)
    lp.a_matrix_.num_col_ = cm.n_cols
    lp.a_matrix_.num_row_ = cm.n_rows
    if cm.maximize if maximize is None else maximize:
        lp.sense_ = highspy.ObjSense.kMaximize
    if integer and cm.integer.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
            for flag in cm.integer
        ]
    h = new_highs()
    h.passModel(lp)
    return h


_banner_shown = False


def new_highs() -> highspy.Highs:
    """Create a HiGHS object that prints nothing.

    HiGHS prints a copyright banner to standard output when the first object of a process
    is created, before any option can silence it; that would corrupt output that users
    pipe elsewhere, so the first construction runs with file descriptor 1 pointed at
    /dev/null.
    """
    global _banner_shown
    if _banner_shown:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _banner_shown = True
    h.setOptionValue("output_flag", False)
    return h
