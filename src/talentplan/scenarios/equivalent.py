r"""The deterministic equivalent of a two-stage plan over parameter draws, as matrices.

Each draw :math:`s = 1..S` of the response parameters gives its own compiled model
(:func:`~talentplan.solver.matrix.compile_model`): ``row_lower_s <= A_s x_s <=
row_upper_s``, bounds on ``x_s`` and the objective :math:`f_s(x_s) = c_s^\top x_s +
o_s`. The columns of ``x_s`` split into the *first stage* :math:`y` (the integer
program decisions: ``open``, ``alliance``, ``citywide``, ``units``; decided once,
:data:`FIRST_STAGE`) and the *second stage* :math:`z_s` (spend, talent stocks, the
competition's binaries: everything else, free to differ by draw). The equivalent has
one shared copy of each first-stage column (matched across draws by name, so the
non-anticipativity rows :math:`y_s = y` are satisfied by construction: each draw's
first-stage columns are mapped onto the shared ones) and one block of second-stage
columns per draw:

.. math::

    \max_{y, z_1..z_S}\ \frac1S \sum_s f_s(y, z_s)
    \quad\text{s.t.}\quad (y, z_s) \text{ feasible for draw } s,\ s = 1..S,

the block-diagonal matrix :math:`\mathrm{diag}(A_s)` with the first-stage columns
merged (``min`` for ``min_cost``).

The robust variant maximises the conditional value at risk at level :math:`\alpha` of
the draws' objectives (the mean of the worst :math:`\alpha` share), in the form of
Rockafellar and Uryasev with a free column :math:`\eta` and one column :math:`u_s \ge 0`
per draw:

.. math::

    \max\ \eta - \frac{1}{\alpha S}\sum_s u_s
    \quad\text{s.t.}\quad u_s \ge \eta - f_s(y, z_s),\ u_s \ge 0,

each :math:`f_s` written as a row of the draw's objective coefficients. For a minimised
objective (``min_cost``) the worst draws are the dearest: :math:`\min \eta +
\frac{1}{\alpha S}\sum_s u_s` with :math:`u_s \ge f_s - \eta`. With :math:`\alpha = 1`
the CVaR is the mean.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import highspy
import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp

from talentplan.errors import SolverError
from talentplan.model.build import Formulation
from talentplan.simulation import Levels
from talentplan.solver.highs import (
    Progress,
    configure,
    relative_gap,
    run_interruptibly,
    subscribe_progress,
)
from talentplan.solver.matrix import FEASIBLE, INF, CompiledModel, to_highs
from talentplan.solver.status import SolveStatus, map_status

__all__ = [
    "FIRST_STAGE",
    "ArraySolve",
    "DrawModel",
    "Equivalent",
    "draw_model",
    "first_stage_bounds",
    "plan_levels_of",
    "solve_arrays",
    "stack",
]

FIRST_STAGE = ("open", "alliance", "citywide", "units")
"""The model's variables decided once, before the parameters are known."""


@dataclass
class DrawModel:
    """One draw's built and compiled model, with its first-stage columns named."""

    formulation: Formulation
    compiled: CompiledModel
    first: np.ndarray
    """Mask of the first-stage columns."""
    names: list[str]
    """Name of every column (Pyomo's, e.g. ``open[Fogang,one_stop_centre,0]``)."""
    keys: list[tuple[str, str, str, int] | None]
    """The plan-table key (county, program, industry, year position) of each
    first-stage column, as :func:`talentplan.simulation.plan_levels` keys levels; None
    for second-stage columns."""


def _level_key(var: pyo.Var) -> tuple[str, str, str, int] | None:
    name = var.parent_component().local_name
    idx = var.index()
    if name in ("open", "units"):
        c, p, t = idx
        return (str(c), str(p), "", int(t))
    if name == "alliance":
        c, i, p, t = idx
        return (str(c), str(p), str(i), int(t))
    if name == "citywide":
        p, t = idx
        return ("", str(p), "", int(t))
    return None


def draw_model(formulation: Formulation, compiled: CompiledModel) -> DrawModel:
    """Name the columns of one draw's model and mark its first stage."""
    keys = [_level_key(v) for v in compiled.columns]
    return DrawModel(
        formulation=formulation,
        compiled=compiled,
        first=np.array([k is not None for k in keys], dtype=bool),
        names=[v.name for v in compiled.columns],
        keys=keys,
    )


def first_stage_bounds(dm: DrawModel, levels: Levels) -> tuple[np.ndarray, np.ndarray]:
    """Column bounds of ``dm`` with its first stage fixed at a plan's ``levels``."""
    lower, upper = dm.compiled.col_lower.copy(), dm.compiled.col_upper.copy()
    for n in np.flatnonzero(dm.first):
        key = dm.keys[n]
        assert key is not None
        lower[n] = upper[n] = round(levels.get(key, 0.0))
    return lower, upper


def plan_levels_of(dm: DrawModel, values: np.ndarray) -> Levels:
    """Return the first-stage levels of a solution ``values`` of ``dm`` (non-zero ones)."""
    out: Levels = {}
    for n in np.flatnonzero(dm.first):
        key = dm.keys[n]
        assert key is not None
        if round(values[n]):
            out[key] = float(round(values[n]))
    return out


@dataclass
class Equivalent:
    """The stacked deterministic equivalent (see the module docstring).

    Attributes
    ----------
    compiled
        The stacked model; its ``columns`` are the column names.
    shared
        Number of shared first-stage columns (the first ones).
    maps
        For each draw, the stacked column of each of its local columns.
    objectives
        One row per draw: the draw's objective coefficients on the stacked columns.
    offsets
        The draws' objective constants.
    cvar_alpha
        The CVaR level of the robust variant; None for the mean.
    """

    compiled: CompiledModel
    shared: int
    maps: list[np.ndarray]
    objectives: sp.csr_array
    offsets: np.ndarray
    cvar_alpha: float | None = None

    def draw_objectives(self, values: np.ndarray) -> np.ndarray:
        """Each draw's model objective at the stacked solution ``values``."""
        n = self.objectives.shape[1]
        return np.asarray(self.objectives @ values[:n]) + self.offsets

    def local(self, s: int, values: np.ndarray) -> np.ndarray:
        """Draw ``s``'s own column values from the stacked solution ``values``."""
        return values[self.maps[s]]

    def start(self, locals_: Sequence[np.ndarray]) -> np.ndarray:
        r"""Return a stacked point from one solution per draw (first stages agreeing).

        With the CVaR columns, :math:`\eta` is the worst draw's objective and every
        :math:`u_s = 0`, which satisfies the CVaR rows.
        """
        x = np.zeros(self.compiled.n_cols)
        for m, v in zip(self.maps, locals_, strict=True):
            x[m] = v
        if self.cvar_alpha is not None:
            n = self.objectives.shape[1]
            f = self.draw_objectives(x)
            x[n] = float(f.min() if self.compiled.maximize else f.max())
        return x


def stack(models: Sequence[DrawModel], *, cvar_alpha: float | None = None) -> Equivalent:
    """Stack the draws' models into the deterministic equivalent.

    First-stage columns are matched by name across draws and merged into one shared
    column (their bounds intersected); every other column stays the draw's own.

    Raises
    ------
    SolverError
        When the draws' models do not have the same first-stage columns.
    """
    S = len(models)
    shared: dict[str, int] = {}
    for dm in models:
        for n in np.flatnonzero(dm.first):
            shared.setdefault(dm.names[n], len(shared))
    for s, dm in enumerate(models):
        have = {dm.names[n] for n in np.flatnonzero(dm.first)}
        if len(have) != len(shared):
            missing = sorted(set(shared) - have)[:5]
            raise SolverError(
                f"draw {s + 1}: its model lacks first-stage columns the other draws have "
                f"(e.g. {missing}); the draws' models must have the same decisions."
            )
    n_shared = len(shared)
    maps: list[np.ndarray] = []
    nxt = n_shared
    for dm in models:
        m = np.empty(dm.compiled.n_cols, dtype=np.int64)
        own = ~dm.first
        m[dm.first] = [shared[dm.names[n]] for n in np.flatnonzero(dm.first)]
        m[own] = np.arange(nxt, nxt + int(own.sum()))
        nxt += int(own.sum())
        maps.append(m)
    n_cols = nxt
    lower, upper = np.full(n_cols, -INF), np.full(n_cols, INF)
    integer = np.zeros(n_cols, dtype=bool)
    rows_i, cols_i, data = [], [], []
    row_lower, row_upper = [], []
    obj_rows, obj_cols, obj_data = [], [], []
    offsets = np.zeros(S)
    r0 = 0
    for s, (dm, m) in enumerate(zip(models, maps, strict=True)):
        cm = dm.compiled
        lower[m] = np.maximum(lower[m], cm.col_lower)
        upper[m] = np.minimum(upper[m], cm.col_upper)
        integer[m] |= cm.integer
        coo = sp.coo_array(cm.A)
        rows_i.append(coo.row + r0)
        cols_i.append(m[coo.col])
        data.append(coo.data)
        row_lower.append(cm.row_lower)
        row_upper.append(cm.row_upper)
        r0 += cm.n_rows
        nz = np.flatnonzero(cm.cost)
        obj_rows.append(np.full(nz.size, s))
        obj_cols.append(m[nz])
        obj_data.append(cm.cost[nz])
        offsets[s] = cm.offset
    objectives = sp.csr_array(
        (np.concatenate(obj_data), (np.concatenate(obj_rows), np.concatenate(obj_cols))),
        shape=(S, n_cols),
    )
    maximize = models[0].compiled.maximize
    A = sp.csr_array(
        (np.concatenate(data), (np.concatenate(rows_i), np.concatenate(cols_i))),
        shape=(r0, n_cols),
    )
    rl, ru = np.concatenate(row_lower), np.concatenate(row_upper)
    if cvar_alpha is None:
        cost = np.asarray(objectives.sum(axis=0)).ravel() / S
        offset = float(offsets.mean())
    else:
        # columns eta (free) and u_1..u_S (>= 0); rows sigma*(eta - f_s) - u_s <= 0
        sign = 1.0 if maximize else -1.0
        eta = sp.csr_array(np.full((S, 1), sign))
        u = sp.csr_array(-sp.identity(S))
        A = sp.csr_array(sp.bmat([[A, None, None], [-sign * objectives, eta, u]], format="csr"))
        rl = np.concatenate([rl, np.full(S, -INF)])
        ru = np.concatenate([ru, sign * offsets])
        lower = np.concatenate([lower, [-INF], np.zeros(S)])
        upper = np.concatenate([upper, [INF], np.full(S, INF)])
        integer = np.concatenate([integer, np.zeros(S + 1, dtype=bool)])
        cost = np.concatenate([np.zeros(n_cols), [1.0], np.full(S, -sign / (cvar_alpha * S))])
        offset = 0.0
    compiled = CompiledModel(
        A=sp.csc_array(A),
        cost=cost,
        offset=offset,
        maximize=maximize,
        col_lower=lower,
        col_upper=upper,
        integer=integer,
        row_lower=rl,
        row_upper=ru,
        columns=list(range(len(cost))),
        rows=[],
    )
    return Equivalent(compiled, n_shared, maps, objectives, offsets, cvar_alpha)


@dataclass
class ArraySolve:
    """What one HiGHS run on compiled arrays returned."""

    status: SolveStatus
    objective: float
    bound: float
    gap: float
    values: np.ndarray | None
    seconds: float


def solve_arrays(
    cm: CompiledModel,
    *,
    cost: np.ndarray | None = None,
    col_lower: np.ndarray | None = None,
    col_upper: np.ndarray | None = None,
    start: np.ndarray | None = None,
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    threads: int | None = None,
    stop: threading.Event | None = None,
    progress: Callable[[Progress], None] | None = None,
    stage: str = "",
) -> ArraySolve:
    """Solve ``cm`` (optionally with other costs or column bounds) with HiGHS, from ``start``.

    Stops cleanly on ``stop`` or Ctrl-C with the best plan so far (status
    ``interrupted``), as :func:`~talentplan.solver.highs.run_interruptibly` does.
    """
    h = to_highs(cm, cost=cost, col_lower=col_lower, col_upper=col_upper)
    configure(h, time_limit=time_limit, mip_gap=mip_gap, threads=threads)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, dtype=float).tolist()
        h.setSolution(sol)
    if progress is not None:
        subscribe_progress(h, progress, stage)
    run_interruptibly(h, stop)
    status = map_status(h.getModelStatus())
    info = h.getInfo()
    has_plan = status.may_have_plan and info.primal_solution_status == FEASIBLE
    values = np.asarray(h.getSolution().col_value, dtype=float) if has_plan else None
    objective = float(info.objective_function_value) if has_plan else math.nan
    bound = float(info.mip_dual_bound) if cm.integer.any() else objective
    if not has_plan:
        bound = math.nan
    return ArraySolve(
        status=status,
        objective=objective,
        bound=bound,
        gap=relative_gap(objective, bound) if has_plan else math.inf,
        values=values,
        seconds=float(h.getRunTime()),
    )
