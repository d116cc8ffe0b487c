"""A feasible plan before branch and bound: the seed that keeps an early stop from being empty.

HiGHS's own first plan on a large instance comes only after its root LP, which on a few
hundred counties can take longer than the whole time limit; stopped before then it
returns the trivial plan (the mandatory decisions alone) or nothing. :func:`seed_plan`
builds a feasible plan from the compiled matrices, cheaply, and HiGHS starts from it
(``setSolution``), so the plan returned at any stop is at least this good:

1. **Integers chosen, continuous rest by LP.** Each candidate fixes every integer column
   at a whole value and solves the LP that remains for the continuous columns (the
   money of the ``amount`` programs, funding, stocks). Two integer choices are tried:

   - *minimal*: every integer at its lower bound, raised only where a row on integer
     columns alone demands it (policy floors, pins, open-once-stay-open, prerequisites);
     the LP then spends the budgets on the continuous programs;
   - *rounded*: the LP relaxation's integer values rounded down, repaired the same way
     (rounding down keeps every budget, land, cadre, energy and cap row, whose
     coefficients on the decisions are positive).

   The rounded candidate needs the LP relaxation, the expensive part: it is tried only
   with the time it is given and skipped otherwise.
2. **Checked.** A candidate is kept only if the fixed LP is optimal (HiGHS's verdict)
   and the point satisfies every row and bound and is whole on the integer columns
   (:func:`violation`, checked again here).

The LP relaxation's optimum, when it is solved, also bounds the MIP's.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.sparse as sp

from talentplan.solver.matrix import CompiledModel, to_highs

__all__ = ["Seed", "minimal_point", "repair_integers", "seed_plan", "violation", "worst_violation"]

logger = logging.getLogger(__name__)

RELAXATION_MAX_COLUMNS = 12_000
"""Above this many columns the LP relaxation is tried only without a time limit: on
synthetic(150) (53,000 columns) it does not finish in 90 s of one shared core, while
synthetic(20) (7,000 columns) takes 2 s, and the time is better left to HiGHS, whose MIP
presolve shrinks its own root LP (synthetic(70), 25,000 columns, did not finish in 5 s)."""

IMPROVE_SHARE = 0.5
"""Share of the seed's time the improvement of the minimal plan may take."""

FEASIBILITY_TOLERANCE = 1e-6
"""Largest row or bound violation, relative to ``1 + |bound|``, of a point called feasible
(HiGHS's own primal feasibility tolerance is 1e-7 absolute, on the scaled model)."""


@dataclass(frozen=True)
class Seed:
    """A feasible plan for the compiled model, or why there is none.

    Attributes
    ----------
    values
        Column values, feasible and whole on the integer columns; None when no
        candidate was feasible in time.
    objective
        The model's objective at ``values`` (NaN without a plan).
    method
        ``"minimal"`` or ``"rounded"``: the candidate kept.
    relaxation_bound
        The LP relaxation's optimum when it was solved (a bound on the MIP), else NaN.
    seconds
        Wall time spent.
    lp_seconds
        Wall time of the minimal candidate (one LP with the integers fixed): what the
        shadow-price LP of a plan will take, about.
    notes
        What was tried and why a candidate was left out, in plain words.
    """

    values: np.ndarray | None
    objective: float = math.nan
    method: str = ""
    relaxation_bound: float = math.nan
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)
    lp_seconds: float = math.nan

    @property
    def found(self) -> bool:
        """Whether a feasible plan was found."""
        return self.values is not None


def violation(cm: CompiledModel, x: np.ndarray) -> float:
    """Largest relative violation of a row, a bound or integrality at ``x`` (0: feasible).

    Rows and bounds are measured as ``max(0, lower - value, value - upper) / (1 + |bound|)``;
    integrality as the distance of an integer column to the nearest whole number.
    """
    return worst_violation(cm, x)[0]


def worst_violation(cm: CompiledModel, x: np.ndarray) -> tuple[float, str]:
    """Return :func:`violation` and where it is: a row, a column's bound or its integrality."""
    activity = cm.A @ x
    worst, where = 0.0, ""
    for value, lower, upper, what in (
        (activity, cm.row_lower, cm.row_upper, "row"),
        (x, cm.col_lower, cm.col_upper, "column"),
    ):
        has_low, has_up = np.isfinite(lower), np.isfinite(upper)
        below = np.where(has_low, (lower - value) / (1 + np.abs(np.where(has_low, lower, 0))), 0)
        above = np.where(has_up, (value - upper) / (1 + np.abs(np.where(has_up, upper, 0))), 0)
        gap = np.maximum(below, above)
        if gap.size and gap.max() > worst:
            j = int(np.argmax(gap))
            worst = float(gap[j])
            names = cm.rows if what == "row" else cm.columns
            where = f"{what} {names[j].name}" if names else f"{what} {j}"
    if cm.integer.any():
        off = np.abs(x - np.round(x)) * cm.integer
        j = int(np.argmax(off))
        if off[j] > worst:
            worst = float(off[j])
            where = f"integrality of {cm.columns[j].name}" if cm.columns else f"integrality {j}"
    return worst, where


def _integer_rows(cm: CompiledModel) -> tuple[sp.csr_array, np.ndarray]:
    """Return the rows whose every nonzero is on an integer column (CSR), and their index."""
    A = sp.csr_array(cm.A)
    on_continuous = (A[:, ~cm.integer] != 0).sum(axis=1) if (~cm.integer).any() else 0
    touches_integer = (A[:, cm.integer] != 0).sum(axis=1)
    keep = np.flatnonzero((np.asarray(on_continuous) == 0) & (np.asarray(touches_integer) > 0))
    return sp.csr_array(A[keep]), keep


def minimal_point(cm: CompiledModel) -> np.ndarray:
    """Every integer column at its lowest whole value at or above 0; continuous ones at 0.

    With :func:`repair_integers` it gives the *minimal* plan: the decisions no rule asks
    for left out.
    """
    x = np.zeros(cm.n_cols)
    base = np.where(np.isfinite(cm.col_lower), cm.col_lower, 0.0)[cm.integer]
    x[cm.integer] = np.minimum(np.ceil(np.maximum(base, 0.0) - 1e-9), cm.col_upper[cm.integer])
    return x


def repair_integers(
    cm: CompiledModel,
    x: np.ndarray,
    *,
    fallback: np.ndarray | None = None,
    max_passes: int = 30,
    max_rounds: int = 5,
) -> np.ndarray | None:
    """Make the integer columns of ``x`` satisfy every row on integer columns alone.

    A row below its lower bound is raised by raising a column with a positive
    coefficient (or lowering one with a negative coefficient); a row above its upper
    bound is lowered by raising a column with a negative coefficient first (an
    open-stay-open row, a prerequisite or a capacity that a decision adds is kept by
    opening the later, the required or the adding decision, which keeps the floors met)
    and else by lowering one with a positive coefficient. Passes repeat until no such
    row is violated. Where the passes go round in circles, the columns of the rows
    still violated are reset to ``fallback`` (a point the passes are known to repair,
    such as the minimal one) and the passes start again.

    Parameters
    ----------
    cm
        The compiled model.
    x
        A point whose integer columns are whole and within their bounds (changed in place).
    fallback
        Values to reset the columns of rows still violated to; None: no reset.
    max_passes, max_rounds
        Passes over the violated rows in each round; rounds of resets.

    Returns
    -------
    numpy.ndarray or None
        ``x`` repaired, or None when the rows stay violated.
    """
    R, rows = _integer_rows(cm)
    if R.shape[0] == 0:
        return x
    lower, upper = cm.row_lower[rows], cm.row_upper[rows]
    lb, ub = cm.col_lower, cm.col_upper
    scale = 1 + np.abs(np.where(np.isfinite(lower), lower, np.where(np.isfinite(upper), upper, 0)))
    tol = FEASIBILITY_TOLERANCE * scale
    for _ in range(max_rounds):
        for _ in range(max_passes):
            act = R @ x
            low = np.flatnonzero(act < lower - tol)
            high = np.flatnonzero(act > upper + tol)
            if low.size == 0 and high.size == 0:
                return x
            for r, need_up in [(r, True) for r in low] + [(r, False) for r in high]:
                _repair_row(R, int(r), need_up, lower[r], upper[r], x, lb, ub)
        if fallback is None:
            return None
        act = R @ x
        bad = np.flatnonzero((act < lower - tol) | (act > upper + tol))
        cols = np.unique(R[bad].indices)
        x[cols] = fallback[cols]
    return None


def _repair_row(
    R: sp.csr_array,
    r: int,
    need_up: bool,
    lower: float,
    upper: float,
    x: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
) -> None:
    """Move whole columns of row ``r`` until it is within its bounds (or nothing can move)."""
    start, end = R.indptr[r], R.indptr[r + 1]
    cols, coefs = R.indices[start:end], R.data[start:end]
    activity = float(coefs @ x[cols])
    gap = (lower - activity) if need_up else (activity - upper)
    # Columns whose move reduces the violation, raising before lowering.
    raise_ = coefs > 0 if need_up else coefs < 0
    for j in [*np.flatnonzero(raise_), *np.flatnonzero(~raise_)]:
        if gap <= 0:
            return
        col, a = cols[j], abs(coefs[j])
        up = bool(raise_[j])
        room = (ub[col] - x[col]) if up else (x[col] - lb[col])
        if room <= 0:
            continue
        step = min(math.ceil(gap / a - 1e-9), room)
        x[col] += step if up else -step
        gap -= step * a


def _lp(
    cm: CompiledModel,
    time_limit: float | None,
    col_lower: np.ndarray | None = None,
    col_upper: np.ndarray | None = None,
) -> highspy.Highs:
    """Return the continuous relaxation of ``cm`` (optionally other column bounds), one thread."""
    h = to_highs(cm, col_lower=col_lower, col_upper=col_upper, integer=False)
    h.setOptionValue("threads", 1)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    return h


def _fixed_lp(
    cm: CompiledModel, integers: np.ndarray, time_limit: float | None
) -> tuple[np.ndarray | None, np.ndarray | None, str]:
    """Solve the LP with the integer columns fixed at ``integers``; values, reduced costs, note."""
    lower, upper = cm.col_lower.copy(), cm.col_upper.copy()
    lower[cm.integer] = integers
    upper[cm.integer] = integers
    h = _lp(cm, time_limit, lower, upper)
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        return None, None, h.modelStatusToString(status)
    solution = h.getSolution()
    x = np.asarray(solution.col_value, dtype=float)
    x[cm.integer] = integers
    return x, np.asarray(solution.col_dual, dtype=float), "optimal"


def _relaxation(
    cm: CompiledModel, time_limit: float | None
) -> tuple[np.ndarray | None, float, str]:
    """Solve the LP relaxation by the interior-point method (no crossover)."""
    h = _lp(cm, time_limit)
    h.setOptionValue("solver", "ipm")
    h.setOptionValue("run_crossover", "off")
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        return None, math.nan, h.modelStatusToString(status)
    info = h.getInfo()
    x = np.asarray(h.getSolution().col_value, dtype=float)
    return x, float(info.objective_function_value), "optimal"


def _objective(cm: CompiledModel, x: np.ndarray) -> float:
    return float(cm.cost @ x) + cm.offset


def _candidate(
    cm: CompiledModel,
    integers: np.ndarray,
    time_limit: float | None,
    name: str,
    fallback: np.ndarray | None = None,
) -> tuple[np.ndarray | None, np.ndarray | None, str]:
    """Repair ``integers``, solve the LP for the rest and check; the point, reduced costs, note."""
    x0 = np.zeros(cm.n_cols)
    x0[cm.integer] = integers
    start = None
    if fallback is not None:
        start = np.zeros(cm.n_cols)
        start[cm.integer] = fallback
    repaired = repair_integers(cm, x0, fallback=start)
    if repaired is None:
        return None, None, f"{name}: the integer rows could not be repaired"
    x, reduced, status = _fixed_lp(cm, repaired[cm.integer], time_limit)
    if x is None:
        return None, None, f"{name}: the LP with integers fixed ended {status}"
    worst = violation(cm, x)
    if worst > FEASIBILITY_TOLERANCE:
        return None, None, f"{name}: rejected, a rule is violated by {worst:.2g}"
    return x, reduced, f"{name}: feasible, objective {_objective(cm, x):.6g}"


def plan_from_integers(
    cm: CompiledModel, integers: np.ndarray, *, time_limit: float | None, name: str
) -> Seed:
    """Complete given integer values into a feasible plan of ``cm``, if they allow one.

    The integers are repaired where they break a row of integers alone, the continuous
    columns come from the LP with the integers fixed, and the point is checked, as for
    the candidates of :func:`seed_plan`.

    Parameters
    ----------
    cm
        The compiled model.
    integers
        Values of the integer columns, in their order (e.g. another scenario's plan).
    time_limit
        Seconds for the LP (None: no limit).
    name
        What the candidate is, for the notes and ``Seed.method``.

    Returns
    -------
    Seed
        The plan, or none with the reason.
    """
    start = time.perf_counter()
    x, _, note = _candidate(cm, np.round(integers), time_limit, name)
    seconds = time.perf_counter() - start
    if x is None:
        return Seed(None, seconds=seconds, notes=(note,))
    return Seed(
        x,
        objective=_objective(cm, x),
        method=name,
        seconds=seconds,
        notes=(note,),
        lp_seconds=seconds,
    )


def _improve(
    cm: CompiledModel,
    x: np.ndarray,
    reduced: np.ndarray,
    deadline: float | None,
    max_solves: int = 12,
) -> tuple[np.ndarray, int, int]:
    """Raise the integer columns the LP prices as worth more than they cost, while it pays.

    With the integers fixed, a column's reduced cost is what one more unit of it would add
    to the objective at the LP's prices of money, land and cadre time. Each step raises by
    one the best-priced integer columns with room (a thirty-second of those priced as a
    gain at first), repairs the integer rows (a site opened stays open, a prerequisite
    comes along) and solves the LP for the rest. A step that improves the objective is
    kept and the next one raises twice as many; one that does not is undone and the next
    raises half as many (a single column that does not pay is left out from then on). At
    most ``max_solves`` LPs are solved.
    The reduced costs are first-order and, the LP being degenerate, often optimistic: the
    gain is modest (about 1.5% on synthetic(20)), the check is what makes it safe. Returns
    the point, the rounds kept and the LPs solved.
    """
    sign = 1.0 if cm.maximize else -1.0
    best = _objective(cm, x)
    kept = solved = 0
    integer = np.flatnonzero(cm.integer)
    useless = np.zeros(cm.n_cols, dtype=bool)
    size = 0
    while solved < max_solves:
        if deadline is not None and time.perf_counter() >= deadline:
            break
        gain = sign * reduced[integer]
        room = cm.col_upper[integer] - x[integer] >= 1
        order = integer[room & (gain > 1e-9) & ~useless[integer]]
        if order.size == 0:
            break
        order = order[np.argsort(-sign * reduced[order], kind="stable")]
        size = min(size or max(1, order.size // 32), order.size)
        trial = x.copy()
        trial[order[:size]] += 1
        left = None if deadline is None else deadline - time.perf_counter()
        y, r, _ = _candidate(cm, trial[cm.integer], left, "improved", fallback=x[cm.integer])
        solved += 1
        if (
            y is not None
            and r is not None
            and sign * _objective(cm, y) > sign * best + 1e-9 * (1 + abs(best))
        ):
            x, reduced, best = y, r, _objective(cm, y)
            kept += 1
            size *= 2
        elif size == 1:
            useless[order[0]] = True  # priced as a gain, is none: leave it
        else:
            size //= 2
    return x, kept, solved


def seed_plan(
    cm: CompiledModel,
    *,
    time_limit: float | None = None,
    relaxation: bool = True,
    relaxation_time_limit: float | None = None,
    improve: bool = True,
) -> Seed:
    """Find a feasible plan for ``cm`` cheaply, to seed the branch and bound.

    Parameters
    ----------
    cm
        The compiled model.
    time_limit
        Seconds for the minimal candidate, which comes first (None: no limit): the one
        plan an early stop can always fall back on.
    relaxation
        Also try the rounded LP relaxation.
    relaxation_time_limit
        Seconds, counted from the start of this call, by which the improvement, the LP
        relaxation and the rounded candidate must be done (None: ``time_limit``); the
        improvement takes up to :data:`IMPROVE_SHARE` of it, and the relaxation is
        skipped when less than a second is left.
    improve
        Improve the minimal candidate by raising the integers its LP prices as
        profitable (a few LPs with the integers fixed).

    Returns
    -------
    Seed
        The better of the feasible candidates, or none with the reasons.
    """
    start = time.perf_counter()
    until = relaxation_time_limit if relaxation_time_limit is not None else time_limit

    def left(limit: float | None) -> float | None:
        return None if limit is None else limit - (time.perf_counter() - start)

    notes: list[str] = []
    candidates: list[tuple[str, np.ndarray]] = []
    if not cm.integer.any():
        return Seed(None, notes=("no integer columns: nothing to seed",))
    minimal = minimal_point(cm)[cm.integer]
    x, reduced, note = _candidate(cm, minimal, time_limit, "minimal")
    lp_seconds = time.perf_counter() - start
    notes.append(note)
    if x is not None:
        candidates.append(("minimal", x))
        if improve and reduced is not None:
            limit = left(until)
            end = None if limit is None else time.perf_counter() + limit * IMPROVE_SHARE
            better, kept, solved = _improve(cm, x, reduced, end)
            if kept:
                candidates.append(("improved", better))
            notes.append(
                f"improved: {kept} of {solved} raises kept, objective {_objective(cm, better):.6g}"
            )
    bound = math.nan
    budget = left(until)
    too_large = until is not None and cm.n_cols > RELAXATION_MAX_COLUMNS
    if relaxation and too_large:
        notes.append(f"rounded: skipped, over {RELAXATION_MAX_COLUMNS} columns with a time limit")
    elif relaxation and (budget is None or budget > 1.0):
        # The relaxation may use two thirds of what is left; the fixed LP the rest.
        x_lp, bound, status = _relaxation(cm, None if budget is None else budget * 2 / 3)
        if x_lp is None:
            notes.append(f"rounded: the LP relaxation ended {status}")
        else:
            whole = np.floor(x_lp[cm.integer] + 1e-6)
            whole = np.clip(whole, cm.col_lower[cm.integer], cm.col_upper[cm.integer])
            budget = left(until)
            if budget is not None and budget <= 0.1:
                notes.append("rounded: no time left for the LP with integers fixed")
            else:
                x, _, note = _candidate(cm, whole, budget, "rounded", fallback=minimal)
                notes.append(note)
                if x is not None:
                    candidates.append(("rounded", x))
    elif relaxation:
        notes.append("rounded: skipped, no time left for the LP relaxation")
    seconds = time.perf_counter() - start
    if not candidates:
        return Seed(
            None, relaxation_bound=bound, seconds=seconds, notes=tuple(notes), lp_seconds=lp_seconds
        )
    sign = 1.0 if cm.maximize else -1.0
    method, best = max(candidates, key=lambda c: sign * _objective(cm, c[1]))
    logger.info("seed plan (%s) in %.1fs: %s", method, seconds, "; ".join(notes))
    return Seed(
        best,
        objective=_objective(cm, best),
        method=method,
        relaxation_bound=bound,
        seconds=seconds,
        notes=tuple(notes),
        lp_seconds=lp_seconds,
    )
