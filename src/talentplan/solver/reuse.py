r"""One HiGHS object carried across scenarios that share the structure of their model.

Scenarios of a sweep or of the efficiency-equity frontier often differ only in numbers:
a budget scale, an equity floor. Each is still built in Pyomo and compiled
(:func:`~talentplan.solver.matrix.compile_formulation`, by Pyomo's compiler or the array
build), which is cheap beside the MIP; the
compiled model is then compared with the one the HiGHS object already holds. When both
have the same rows and columns (the same constraints and variables, by name, in the
same order), the same integer columns and the same sense, the HiGHS object is changed
in place (:func:`model_changes`, :func:`apply_changes`): of

.. math::

    \min / \max \; c'x + c_0' \quad \text{s.t.} \quad r_l' \le A' x \le r_u', \quad
    x_l' \le x \le x_u', \quad x_j \in \mathbb{Z} \; (j \in J)

only the entries of ``c'``, ``c_0'``, ``A'``, ``r_l', r_u'`` and ``x_l', x_u'`` that
differ from the held model are written (``changeColsCost``, ``changeObjectiveOffset``,
``changeCoeff``, ``changeRowsBounds``, ``changeColsBounds``; an entry of ``A`` may
appear or vanish). Anything else (a row or column more or less, other integer columns,
another sense, or more than :data:`MAX_CHANGED_SHARE` of ``A`` changed) loads the new
model into a fresh HiGHS object, as a solve without reuse does. The test is made on the
compiled arrays of every scenario, so no list of "safe" parameters is trusted.

An equity floor ``sum_k w_k U_{c,k} >= share * D_c`` is a right-hand side only, and so
is the floor of the frontier's epsilon-constraint. A budget scale is not: the model
derives bounds of stocks, and the big-M coefficients that tie them to the sites, from
the money available, so a budget scale changes column bounds and a few thousand entries
of ``A`` besides the budget rows (on ``qingyuan`` at 1.3 times the budget: 591 row
bounds, 1231 column bounds, 2672 of 16464 entries); the rows and columns stay, and the
change is made in place as well.

The start: the previous scenario's plan, when it satisfies the new model's rows, bounds
and integrality (:func:`~talentplan.solver.heuristic.violation` within
:data:`~talentplan.solver.heuristic.FEASIBILITY_TOLERANCE`); else its integer values
with the continuous columns from the LP with those integers fixed
(:func:`~talentplan.solver.heuristic.plan_from_integers`: a budget scale moves the
stocks' bounds, so the old continuous values rarely fit, while the old sites and counts
usually do). Either replaces the seed heuristic
(:func:`~talentplan.solver.heuristic.seed_plan`), is given to HiGHS as its first
incumbent, and stands as the plan if HiGHS stops before a better one. When neither is
feasible the seed heuristic runs as in a fresh solve. A plan of a smaller budget is
feasible with a larger one, and a plan under a higher floor is feasible under a lower
one, so callers order their scenarios by rising budget and falling floor.

Time limits, the stop event and Ctrl-C act on each solve as they do without reuse
(:func:`~talentplan.solver.highs.solve_compiled`).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from talentplan.model.build import Formulation
from talentplan.solver.deadline import MIN_SOLVER_SECONDS, Deadline
from talentplan.solver.heuristic import FEASIBILITY_TOLERANCE, Seed, plan_from_integers, violation
from talentplan.solver.highs import Progress, SolverRun, solve_compiled
from talentplan.solver.matrix import CompiledModel, compile_formulation, to_highs
from talentplan.solver.status import SolveStatus

__all__ = ["ModelChanges", "ModelReuse", "apply_changes", "identity", "model_changes"]

logger = logging.getLogger(__name__)


MAX_CHANGED_SHARE = 0.25
"""Above this share of the nonzeros of ``A`` changed, a new HiGHS object is loaded instead."""


@dataclass(frozen=True)
class ModelChanges:
    """What differs between two compiled models with the same rows and columns.

    Attributes
    ----------
    rows
        Rows whose lower or upper bound differs.
    cols
        Columns whose lower or upper bound differs.
    costs
        Columns whose objective coefficient differs.
    entries
        ``(row, column)`` arrays of the entries of ``A`` that differ, appear or vanish.
    values
        The new values of those entries (0 where one vanishes).
    offset
        Whether the objective's constant differs.
    """

    rows: np.ndarray
    cols: np.ndarray
    costs: np.ndarray
    entries: tuple[np.ndarray, np.ndarray]
    values: np.ndarray
    offset: bool

    @property
    def counts(self) -> str:
        """The changes in words, e.g. ``8 row bounds, 0 column bounds, ...``."""
        return (
            f"{len(self.rows)} row bounds, {len(self.cols)} column bounds, "
            f"{len(self.values)} coefficients, {len(self.costs)} costs"
        )


def identity(cm: CompiledModel) -> tuple[list[str], list[str]]:
    """Return the names of the rows and of the columns of ``cm``, in order."""
    return [str(r.name) for r in cm.rows], [str(c.name) for c in cm.columns]


def model_changes(
    old: CompiledModel,
    new: CompiledModel,
    names: tuple[tuple[list[str], list[str]], tuple[list[str], list[str]]] | None = None,
) -> ModelChanges | None:
    """Return what must change to turn ``old`` into ``new`` in place, or None if it cannot.

    It can when both have the same rows and columns (by name, in the same order), the
    same integer columns and the same sense; bounds, costs, the constant and the entries
    of ``A`` (values, and entries that appear or vanish) may all differ, up to
    :data:`MAX_CHANGED_SHARE` of the entries.

    Parameters
    ----------
    old, new
        The compiled models.
    names
        :func:`identity` of ``old`` and of ``new``, when known already.
    """
    if old.A.shape != new.A.shape or old.maximize != new.maximize:
        return None
    if not np.array_equal(old.integer, new.integer):
        return None
    old_names, new_names = names if names is not None else (identity(old), identity(new))
    if old_names != new_names:
        return None
    diff = sp.coo_array(new.A - old.A)
    diff.eliminate_zeros()
    if diff.nnz > MAX_CHANGED_SHARE * max(new.A.nnz, 1):
        return None
    entries = (diff.row.astype(np.int64), diff.col.astype(np.int64))
    values = (
        np.asarray(sp.csr_array(new.A)[entries], dtype=float).ravel() if diff.nnz else np.zeros(0)
    )
    rows = np.flatnonzero((old.row_lower != new.row_lower) | (old.row_upper != new.row_upper))
    cols = np.flatnonzero((old.col_lower != new.col_lower) | (old.col_upper != new.col_upper))
    costs = np.flatnonzero(old.cost != new.cost)
    return ModelChanges(rows, cols, costs, entries, values, old.offset != new.offset)


def apply_changes(h: highspy.Highs, new: CompiledModel, changes: ModelChanges) -> None:
    """Write ``changes`` into ``h``, which holds the model they were measured from."""
    if len(changes.rows):
        r = changes.rows
        h.changeRowsBounds(  # type: ignore[attr-defined]
            len(r), r.astype(np.int32), new.row_lower[r], new.row_upper[r]
        )
    if len(changes.cols):
        c = changes.cols
        h.changeColsBounds(len(c), c.astype(np.int32), new.col_lower[c], new.col_upper[c])
    if len(changes.costs):
        c = changes.costs
        h.changeColsCost(len(c), c.astype(np.int32), new.cost[c])
    for r, c, v in zip(*changes.entries, changes.values, strict=True):
        h.changeCoeff(int(r), int(c), float(v))  # a zero removes the entry
    if changes.offset:
        h.changeObjectiveOffset(new.offset)


class ModelReuse:
    """Carry one HiGHS object and the last plan from one scenario's solve to the next.

    Pass the same object to :func:`talentplan.solve` (``reuse=``) for each scenario of a
    family, in an order where each plan is likely feasible for the next (rising budget,
    falling floor). Solves by decomposition do not use it. Not shared between threads
    or processes: one per worker.

    Attributes
    ----------
    history
        One line per solve: ``reused (...)`` with the changes made, or ``rebuilt`` and why.
    """

    def __init__(self) -> None:
        self._held: CompiledModel | None = None
        self._names: tuple[list[str], list[str]] = ([], [])
        self._highs: highspy.Highs | None = None
        self._plan: np.ndarray | None = None
        self._plan_columns: list[str] = []
        self.history: list[str] = []

    @property
    def reused(self) -> int:
        """Solves that changed the held HiGHS object in place."""
        return sum(line.startswith("reused") for line in self.history)

    def prepare(
        self, cm: CompiledModel, time_limit: float | None = None
    ) -> tuple[highspy.Highs, Seed | None, str]:
        """Return the HiGHS object holding ``cm``, a start from the last plan, and a note.

        The start is None when there is no last plan or neither it nor its integers
        completed by an LP (of at most ``time_limit`` seconds) is feasible for ``cm``.
        """
        names = identity(cm)
        changes = (
            model_changes(self._held, cm, (self._names, names)) if self._held is not None else None
        )
        if changes is None or self._highs is None:
            if self._held is not None:
                why = "another model structure"
            elif self._plan is not None:
                why = "the last solve was interrupted"
            else:
                why = "the first scenario"
            self._highs = to_highs(cm)
            note = f"rebuilt ({why})"
        else:
            apply_changes(self._highs, cm, changes)
            note = f"reused ({changes.counts} changed)"
        self._held, self._names = cm, names
        start = None
        if self._plan is not None and self._plan_columns == names[1]:
            start, how = self._start(cm, self._plan, time_limit)
            note += f"; {how}"
        self.history.append(note)
        logger.info("model reuse: %s", note)
        return self._highs, start, note

    @staticmethod
    def _start(
        cm: CompiledModel, plan: np.ndarray, time_limit: float | None
    ) -> tuple[Seed | None, str]:
        """Return the last plan as a start for ``cm``: as it is, or its integers completed."""
        worst = violation(cm, plan)
        if worst <= FEASIBILITY_TOLERANCE:
            seed = Seed(
                plan.copy(),
                objective=float(cm.cost @ plan + cm.offset),
                method="previous plan",
                notes=("the previous scenario's plan, feasible here",),
            )
            return seed, "started from the previous plan"
        seed = plan_from_integers(
            cm, plan[cm.integer], time_limit=time_limit, name="previous integers"
        )
        if seed.found:
            return seed, "started from the previous plan's integers with the LP for the rest"
        return None, (
            f"the previous plan is not feasible here (violation {worst:.1e}) nor are its "
            f"integers ({seed.notes[0]}): seed heuristic"
        )

    def solve(
        self,
        formulation: Formulation,
        *,
        mip_gap: float,
        threads: int | None,
        progress: Callable[[Progress], None] | None,
        stop: threading.Event | None,
        deadline: Deadline,
        reserve: float,
        warm_start: bool,
        solver_log: bool,
        build: str = "pyomo",
    ) -> SolverRun:
        """Compile ``formulation``, update the held HiGHS object to it and solve.

        Takes what :func:`~talentplan.solver.highs.solve_formulation` takes, and returns
        what it returns, with a note ``model reuse: ...`` in ``notes``.
        """
        if progress is not None:
            progress(Progress(deadline.elapsed(), math.nan, math.nan, math.inf, phase="compiling"))
        cm = compile_formulation(formulation, build)
        h, start, note = self.prepare(cm, deadline.budget(reserve + MIN_SOLVER_SECONDS))
        try:
            run = solve_compiled(
                cm,
                mip_gap=mip_gap,
                threads=threads,
                progress=progress,
                stop=stop,
                deadline=deadline,
                reserve=reserve,
                warm_start=warm_start,
                solver_log=solver_log,
                highs=h,
                start=start,
            )
        except BaseException:
            self.close()  # HiGHS may be left mid-solve: the next scenario starts afresh
            raise
        run.notes = (*run.notes, f"model reuse: {note}")
        self.keep(run)
        if run.status == SolveStatus.INTERRUPTED:
            # HiGHS keeps the interrupt it was sent and would stop the next solve at
            # once: the next scenario loads a new object (and still starts from this plan).
            self._held = self._highs = None
            self._names = ([], [])
        return run

    def keep(self, run: SolverRun) -> None:
        """Remember the plan of a finished solve as the start of the next."""
        if run.values is not None:
            self._plan = np.asarray(run.values, dtype=float).copy()
            self._plan_columns = self._names[1]

    def close(self) -> None:
        """Let go of the HiGHS object and the last plan."""
        self._held = self._highs = self._plan = None
