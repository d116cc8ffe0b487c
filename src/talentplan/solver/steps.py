r"""The discrete value of one more step of a limit that only whole decisions use.

Land quotas and cadre capacities are used only by whole sites, alliances and units, so
the LP with the integer decisions fixed prices them at 0 even where the plan uses them
up: one more mu or hour buys nothing unless it is enough for one more whole decision.
What a planner means by the value of such a limit is the change in the optimum when
the limit grows by one *step*, the smallest amount one whole decision on it uses:

.. math::

    \Delta_r = s \, (z^*(b_r + \delta_r) - z^*(b_r)),
    \qquad \delta_r = \min \{ a_{rj} > 0 : x_j \text{ integer} \},

with :math:`s = +1` for a maximised objective and :math:`-1` for ``min_cost`` (money
saved). Each fully used row is re-solved with its limit raised by :math:`\delta_r`,
warm-started from the plan (which stays feasible, so the new incumbent is never worse).
Both optima are known only to within their gaps, so with incumbents :math:`z, z'` and
bounds :math:`\bar z, \bar z'` (in the maximised sense) the value is reported as the
point estimate :math:`z' - z` inside the interval
:math:`[\max(0, z' - \bar z),\ \max(0, \bar z' - z)]`; at gap 0 the interval is a point.
Where the re-solve's plan stays within the old limit it is a better plan for the old
problem too, so :math:`z` is raised to :math:`z'` first: that gain was the first solve's
gap, not the step's value. With a gap above 0 the interval, not the point, is the
result; ``mip_gap=0`` makes it exact. Values are on the model's objective, the same as
the LP duals beside them.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

from talentplan.model.build import Formulation
from talentplan.solver.deadline import MIN_SOLVER_SECONDS, Deadline
from talentplan.solver.highs import (
    Progress,
    SolverRun,
    configure,
    run_interruptibly,
    subscribe_progress,
)
from talentplan.solver.matrix import FEASIBLE, to_highs
from talentplan.solver.readback import STEP_COLUMNS

__all__ = ["step_values"]

logger = logging.getLogger(__name__)

_INTEGER_ONLY = ("land", "cadre", "energy")


def _row_index(f: Formulation, run: SolverRun, resource: str, name: str, year: int) -> int:
    m, d = f.model, f.data
    if resource == "land":
        con = m.land_quota[name]
    elif resource == "energy":
        con = m.energy_quota[name, d.years.index(year)]
    else:
        con = m.cadre_capacity[name, d.years.index(year)]
    return next(i for i, row in enumerate(run.compiled.rows) if row is con)


def _smallest_whole_use(run: SolverRun, A: sp.csr_array, row: int) -> float:
    """Return the smallest positive coefficient of an integer column on ``row`` (NaN if none)."""
    start, end = A.indptr[row], A.indptr[row + 1]
    cols, coefs = A.indices[start:end], A.data[start:end]
    whole = coefs[run.compiled.integer[cols] & (coefs > 0)]
    return float(whole.min()) if whole.size else math.nan


def step_values(
    f: Formulation,
    run: SolverRun,
    prices: pd.DataFrame,
    *,
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    threads: int | None = None,
    progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
    deadline: Deadline | None = None,
    reserve: float = 0.0,
) -> pd.DataFrame:
    """Return ``prices`` with the discrete value of one more step of each used-up limit.

    Parameters
    ----------
    f, run
        The solved formulation and its run (with a plan).
    prices
        The shadow-price table of :func:`talentplan.solver.readback.shadow_prices`.
    time_limit, mip_gap, threads
        For each re-solve, as for the plan's own solve.
    progress
        Called about once a second during each re-solve; ``Progress.stage`` names the
        limit being priced.
    stop
        Once set, no further re-solve starts and the running one stops; the limits not
        priced keep NaN.
    deadline, reserve
        The whole call's deadline and the seconds to keep back from it: each re-solve
        gets at most what is left after ``reserve``, and none starts when less than
        :data:`~talentplan.solver.deadline.MIN_SOLVER_SECONDS` is left (the limits not
        priced keep NaN, and ``deadline.skipped`` says how many).

    Returns
    -------
    pandas.DataFrame
        A copy of ``prices`` whose :data:`~talentplan.solver.readback.STEP_COLUMNS` hold,
        for each fully used land or cadre row, the step (in the row's unit), the change in
        the optimum and the interval that contains it; NaN elsewhere.
    """
    out = prices.copy()
    if run.values is None:
        return out
    targets = out.index[out["fully_used"].astype(bool) & out["resource"].isin(_INTEGER_ONLY)]
    cm = run.compiled
    A = sp.csr_array(cm.A)
    sign = 1.0 if f.maximize else -1.0
    z, z_bar = sign * run.objective, sign * run.bound
    for n, i in enumerate(targets, start=1):
        if stop is not None and stop.is_set():
            break
        if deadline is not None and deadline.bounded:
            if not deadline.allows(reserve + MIN_SOLVER_SECONDS):
                deadline.skip(
                    f"step values: {len(targets) - n + 1} of {len(targets)} limits not "
                    "priced, no time left"
                )
                break
            left = deadline.budget(reserve)
            limit = left if time_limit is None or left is None else min(time_limit, left)
        else:
            limit = time_limit
        resource, name, year = out.at[i, "resource"], out.at[i, "name"], out.at[i, "year"]
        row = _row_index(f, run, resource, name, int(year))
        step = _smallest_whole_use(run, A, row)
        if not math.isfinite(step):
            continue
        stage = f"one more {step:g} {out.at[i, 'unit']} of {resource} in {name} {year}"
        logger.info("pricing %s (%d of %d)", stage, n, len(targets))
        h = to_highs(cm)
        configure(h, time_limit=limit, mip_gap=mip_gap, threads=threads)
        if progress is not None:
            subscribe_progress(h, progress, f"{stage} ({n} of {len(targets)})")
        h.changeRowBounds(row, cm.row_lower[row], cm.row_upper[row] + step)
        warm = highspy.HighsSolution()
        warm.col_value = np.asarray(run.values, dtype=float).tolist()
        h.setSolution(warm)
        run_interruptibly(h, stop)
        info = h.getInfo()
        if info.primal_solution_status != FEASIBLE:
            continue
        z_new = sign * float(info.objective_function_value)
        z_new_bar = sign * float(info.mip_dual_bound)
        x_new = np.asarray(h.getSolution().col_value, dtype=float)
        # A new plan within the old limit is a better plan for the old problem: its gain
        # is the first solve's gap, not the step's value.
        within_old = float((A[[row]] @ x_new)[0]) <= cm.row_upper[row] + 1e-6 * max(1.0, step)
        z_old = max(z, z_new) if within_old else z
        out.loc[i, STEP_COLUMNS] = [
            step,
            max(z_new - z_old, 0.0),
            max(z_new - z_bar, 0.0),
            max(z_new_bar - z_old, 0.0),
        ]
    return out
