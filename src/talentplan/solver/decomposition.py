r"""Decomposition by county: Lagrangian prices on the few rows that join the counties.

The counties of an instance share only the rows of :mod:`talentplan.solver.blocks`: what
each funding group pays for each program and year, plan-wide caps and floors, the
competition pool and the graduate pool (the *coupling* rows, :math:`C`), and the
plan-wide columns (funding, carry-over, city-wide programs, the pool: :math:`G`) with
their own rows (the yearly budgets). Everything else is a county's own block
:math:`X_k`. In minimisation form (:math:`\tilde c = \pm c`):

.. math::

    \min \sum_k \tilde c_k x_k + \tilde c_G x_G
    \quad\text{s.t.}\quad l_C \le \sum_k A_{Ck} x_k + A_{CG} x_G \le u_C,\;
    x_k \in X_k(x_G),\; x_G \in X_G .

A county block may hold global columns (its *linking* columns: the pool in its stock
balance, the city-wide programs in its retention); the block keeps a private copy
:math:`z_k` of them, and :math:`z_k = x_G` is relaxed too.

**The bound.** For prices :math:`y` on the coupling rows and :math:`m_k` on the copies,

.. math::

    L(y, m) = \sum_k \min_{(x_k, z_k) \in X_k} \big[(\tilde c_k - A_{Ck}^\top y) x_k
              + m_k z_k\big]
            + \min_{x_G \in X_G} \big(\tilde c_G - A_{CG}^\top y - \textstyle\sum_k m_k\big) x_G
            + \sum_{r \in C} y_r\, b_r ,

with :math:`b_r = l_r` where :math:`y_r > 0` and :math:`u_r` where :math:`y_r < 0`, is at
most the optimum for every :math:`y, m` (each relaxed term is :math:`\le 0` at a feasible
plan). Each block term is a small MIP; its HiGHS dual bound is used, so :math:`L` stays a
bound when a block stops short of optimality. :math:`y` comes from the restricted master
LP below (the best of the rounds, by the LP value of :math:`L`). For a continuous linking
column (the pool), :math:`m_k = -d_k`, the reduced cost of the block's copy in its LP with
the copies fixed, so that a block gains nothing, to first order, from moving it; the pool
has an upper bound from the data (every county poaching at its caps), so the global term
stays finite. An integer linking column (a city-wide program) is held at :math:`\pi`
(opened from the first year when the global rows allow) and its copies are priced
:math:`m_k = 0`: a block's LP reduced cost on a 0/1 column held by big-M rows is no
measure of what opening it is worth, and :math:`L` is a bound for any :math:`m`.

A county MIP that stops at its time limit without a plan or a bound is tried again with
ten times the time; a round in which some county still has no bound gives no bound.

**The prices** (Dantzig-Wolfe column generation). With the linking columns held at
values :math:`\pi`, the master LP chooses a convex combination of the plans proposed so
far by each block (:math:`\lambda_{kj}`), the global columns (their cost
:math:`\tilde c_G + \sum_k d_k` carries the blocks' first-order response to them), and
penalised slacks on the coupling rows; its row duals price the next round of block LPs,
smoothed towards the best prices so far (Wentges). HiGHS keeps the master between rounds
and goes on from its basis by the primal simplex as columns join. Rounds stop when the
master LP and the best Lagrangian value meet or the time share is spent; :math:`\pi` is
then moved to the master's values and the rounds repeat (at most ``MAX_PASSES`` times).

**The plan.** Each block's MIP at the final prices (the bound's) gives an integer plan;
with the copies back at :math:`\pi` and the integers fixed, its LP gives a proposal, and
so do LPs with the same integers at prices 30% lower and higher (a block's spending at
other prices of money). The master LP over these proposals weighs each county's integer
*patterns*. With thousands of counties and a few hundred coupling rows, its solution
splits at most as many counties between patterns as there are coupling rows (a
Shapley-Folkman argument), so the rounding that follows touches a share of the counties
that shrinks as counties are added: a county the LP did not split keeps its pattern (its
proposals of that pattern mixed as the LP mixed them: their integers are equal, so the
mix keeps the county's rows); a split county takes its weighted pattern with the fewest
units and sites. Rows on whole units alone (a city's cap on sites, say) that this breaks
are mended first by taking units back (:func:`~talentplan.solver.heuristic.repair_integers`,
falling back to the minimal decisions where the rows go round in circles). Where a
coupling row is still broken, or a county was split, every county's continuous columns
are *settled*: with the integers held, what is left is an LP with the same blocks, and
the same column generation solves it exactly, from each county's LP at the bound's prices
(the counties' fixed-integer LPs propose, the master prices, until the master needs no
slack and nothing better is proposed); a county's proposals share its integers. The
master leaves the continuous linking columns (the pool) free, with the counties'
first-order response as their cost: held at :math:`\pi`, the pool's defining rows
(coefficients of 1e-6 to 1e-3, against the pool's up to 1e4 in the stock balances) keep
slacks above the tolerance, and settling failed at every size tried. The plan is then
settled once more with the pool held at its new values, where that works, so that the
master's mix is exact. When settling fails in its time, the counties that use the
broken rows most are *re-balanced* with every other county held (one LP), and then
*re-decided*: a MIP over a few of them, started from the re-balanced plan. The blocks
whose linking columns the plan moved are re-solved at the new values with their
decisions and coupling-row columns fixed, the plan is checked against every row of the
full model, and its objective is the model's.

**Sooner.** Before the county MIPs, two cheaper answers: the Lagrangian of the county
*LPs* at the final prices (with the copies free as above) is a bound too, weaker than
the MIPs' but a round of LPs away; and a *first plan* comes from the price rounds'
master LP itself: each county's mix of its LP plans, its units rounded down and mended
as above, its spending proposed by its LP with those units held (a county whose own
rules those units break, a coverage floor say, decides them by its MIP at the same
prices), then weighed, settled and checked like the whole plans, within
``FIRST_PLAN_SHARE`` of the time left. A time limit that ends during the county MIPs
still returns that plan and that bound.

The gap certified is that plan's objective against the best :math:`L` of the rounds.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp

from talentplan.solver.blocks import GLOBAL, Blocks, split_blocks
from talentplan.solver.deadline import MIN_SOLVER_SECONDS, Deadline
from talentplan.solver.heuristic import (
    FEASIBILITY_TOLERANCE,
    minimal_point,
    repair_integers,
    worst_violation,
)
from talentplan.solver.highs import relative_gap
from talentplan.solver.matrix import FEASIBLE, INF, CompiledModel, to_highs
from talentplan.solver.status import SolveStatus
from talentplan.solver.subproblems import (
    FIXED,
    LP,
    MIP,
    BlockAnswer,
    BlockData,
    BlockPool,
    Request,
    block_data,
)

__all__ = ["DecompositionRun", "solve_by_blocks"]

logger = logging.getLogger(__name__)

MAX_PASSES = 3
"""Most passes of the price rounds, each with the linking columns at new values."""

PRICE_TOLERANCE = 1e-5
"""Price rounds stop when the blocks' best reduced costs sum to less than this share of
the master's objective, or to ``PRICE_GAP_SHARE`` of the gap asked for if that is more."""

PRICE_GAP_SHARE = 0.1
"""Share of the gap asked for that the prices may leave between the master LP and the
best Lagrangian value: prices finer than the gap asked for buy nothing the plan keeps."""

PRICE_SHARE = 0.45
"""Most of the time left that the price rounds (every pass together) may take."""

SETTLE_SHARE = 0.25
"""Most of the time left that re-balancing every county's continuous columns may take."""

FIRST_PLAN_SHARE = 0.3
"""Most of the time left that the first plan (from the price rounds) may take."""

FIRST_SETTLE_SHARE = 0.6
"""Share of the first plan's time that settling may take: it has no plan to fall back on."""

RESTRICTED_SHARE = 0.25
"""Most of the time left that one re-balancing LP or re-deciding MIP may take."""

FREE_LP_COLUMNS = 120_000
"""Most columns of the counties whose continuous columns are re-balanced together (an LP)
when the counties' plans do not fit the coupling rows."""

FREE_MIP_COLUMNS = 6_000
"""Most columns of the counties re-decided together (a MIP) when re-balancing fails."""

BLOCK_GAP_SHARE = 0.25
"""Share of the requested gap that the county MIPs of a bound may leave open, in all."""

MAX_BLOCK_SECONDS = 10.0
"""Most seconds one county MIP of a bound round may take."""

SMOOTHING = 0.7
"""Weight of the best prices so far in the prices of the next round (Wentges smoothing)."""

SPREAD = (0.7, 1.3)
"""Factors on the final prices at which each block's integer plan is also costed."""


@dataclass
class DecompositionRun:
    """What the decomposition returned, in the model's own sense and units.

    Attributes
    ----------
    status
        ``optimal`` (gap reached), ``time_limit``, ``interrupted``, ``infeasible`` (a
        county's own rules cannot hold) or ``error``.
    values
        The plan (every column), feasible for the full model; None without one.
    objective, bound, gap
        The plan's objective, the best Lagrangian bound, their relative gap.
    rounds
        Block rounds solved (each a solve of every county).
    n_coupling_rows
        Rows that join counties (what the prices are on).
    trace
        ``(seconds, objective, bound)`` after each master MIP.
    notes
        What happened, in plain words.
    """

    status: SolveStatus
    values: np.ndarray | None
    objective: float
    bound: float
    gap: float
    rounds: int
    n_coupling_rows: int
    seconds: float
    trace: list[tuple[float, float, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Stopped(Exception):
    """The deadline passed or a stop was asked for between rounds."""


class _Proposals:
    """Plans proposed by the blocks, with what each costs and uses of the coupling rows."""

    def __init__(self, data: list[BlockData]) -> None:
        self.data = data
        self.block: list[int] = []
        self.x: list[np.ndarray] = []
        self.cost: list[float] = []
        self.use: list[sp.csc_array] = []
        self.pattern: list[int] = []
        self._patterns: dict[tuple[int, bytes], int] = {}

    def __len__(self) -> int:
        return len(self.block)

    def add(self, answer: BlockAnswer) -> int:
        """Keep a block's plan; its *pattern* is the block and its integer values."""
        b = self.data[answer.block]
        assert answer.x is not None
        own = answer.x[: b.n_own]
        key = (answer.block, np.round(own[b.integer[: b.n_own]]).tobytes())
        self.block.append(answer.block)
        self.x.append(own)
        self.cost.append(float(b.cost[: b.n_own] @ own))
        self.use.append(sp.csc_array((b.coupling @ own).reshape(-1, 1)))
        self.pattern.append(self._patterns.setdefault(key, len(self._patterns)))
        return len(self.block) - 1

    def use_matrix(self, index: list[int], n_rows: int) -> sp.csc_array:
        """Coupling-row use of the proposals ``index``, as columns of ``n_rows`` rows."""
        if not index:
            return sp.csc_array((n_rows, 0))
        use = sp.hstack([self.use[i] for i in index], format="csc")
        use.resize((n_rows, len(index)))
        return use


def _indicator(rows: np.ndarray, n_rows: int, value: float = 1.0) -> sp.csc_array:
    """Columns with ``value`` in row ``rows[j]`` of column ``j``."""
    return sp.csc_array(
        (np.full(rows.size, value), (rows, np.arange(rows.size))), shape=(n_rows, rows.size)
    )


class _MasterLP:
    """The restricted master LP, kept in one HiGHS object that proposals join as columns.

    Rows: the coupling rows, the global rows and one convexity row per block. Columns:
    the global columns (their cost carries the blocks' response to the continuous
    linking columns; integer linking columns are held at ``pi``, and with
    ``hold_linking`` every linking column is), slacks up and down on
    the coupling rows at a penalty, and one weight per proposal. HiGHS keeps its basis
    between runs, so each round starts from the last round's optimum.
    """

    def __init__(self, solve: _Solve, hold_linking: bool = False) -> None:
        self.solve = solve
        nC, nR, nG, nK = solve.nC, solve.nR, solve.nG, solve.nK
        self.n_rows = nC + nR + nK
        G_part = sp.vstack([solve.A_CG, solve.A_RG], format="csc")
        G_part.resize((self.n_rows, nG))
        slack = sp.eye_array(nC, format="csc")
        slack.resize((self.n_rows, nC))
        A = sp.csc_array(sp.hstack([G_part, slack, -slack], format="csc"))
        low_G, up_G = solve.low_G.copy(), solve.up_G.copy()
        held = solve.linked if hold_linking else solve.linked & solve.int_G
        low_G[held] = up_G[held] = solve.pi[solve.blocks.global_columns][held]
        R_rows = solve.blocks.global_rows
        sub = CompiledModel(
            A=A,
            cost=np.zeros(A.shape[1]),
            offset=0.0,
            maximize=False,
            col_lower=np.concatenate([low_G, np.zeros(2 * nC)]),
            col_upper=np.concatenate([up_G, np.full(2 * nC, INF)]),
            integer=np.zeros(A.shape[1], dtype=bool),
            row_lower=np.concatenate([solve.low_C, solve.cm.row_lower[R_rows], np.ones(nK)]),
            row_upper=np.concatenate([solve.up_C, solve.cm.row_upper[R_rows], np.ones(nK)]),
            columns=[],
            rows=[],
        )
        self.h = to_highs(sub, integer=False)
        # Columns join a solved master: its basis stays primal feasible, so the primal
        # simplex goes on from it where the dual simplex would start over.
        self.h.setOptionValue("simplex_strategy", 4)
        self.index: list[int] = []
        reach = sp.csr_array(abs(solve.A_CG))
        self.reach = [
            (
                r,
                reach.indices[reach.indptr[r] : reach.indptr[r + 1]],
                reach.data[reach.indptr[r] : reach.indptr[r + 1]],
            )
            for r in np.flatnonzero(np.diff(reach.indptr))
        ]

    def add(self, index: list[int]) -> None:
        """Add the proposals ``index`` as columns."""
        if not index:
            return
        p = self.solve.proposals
        blocks = np.array([p.block[i] for i in index], dtype=np.int64)
        base = self.solve.nC + self.solve.nR
        A = sp.csc_array(p.use_matrix(index, self.n_rows) + _indicator(base + blocks, self.n_rows))
        n = len(index)
        self.h.addCols(
            n,
            np.array([p.cost[i] for i in index]),
            np.zeros(n),
            np.full(n, INF),
            A.nnz,
            A.indptr[:-1].astype(np.int32),
            A.indices.astype(np.int32),
            A.data.astype(float),
        )
        self.index += index

    def run(self, time_limit: float | None = None) -> Any:
        """Solve with the current costs of the global columns and slacks."""
        solve = self.solve
        linking_cost = solve.linking_cost()
        # A slack must cost more than the global columns that could fill its row (the
        # pool, whose cost carries every county's response to it).
        filler = np.zeros(solve.nC)
        for r, cols, coefs in self.reach:
            filler[r] = float(np.max(np.abs(linking_cost[cols]) / coefs))
        penalty = np.maximum(solve.penalty, 10.0 * filler)
        cost = np.concatenate([linking_cost, penalty, penalty])
        self.h.changeColsCost(cost.size, np.arange(cost.size, dtype=np.int32), cost)
        self.h.setOptionValue("time_limit", INF if time_limit is None else float(time_limit))
        self.h.run()
        return self.h


class _Solve:
    """One decomposition solve: its data, its pool of blocks and its best plan so far."""

    def __init__(
        self,
        cm: CompiledModel,
        blocks: Blocks,
        pool: BlockPool,
        data: list[BlockData],
        deadline: Deadline,
        mip_gap: float,
        tell: Callable[[str, float, float], None],
        stop: threading.Event | None,
    ) -> None:
        self.cm, self.blocks, self.pool, self.data = cm, blocks, pool, data
        self.deadline, self.mip_gap, self.tell, self.stop = deadline, mip_gap, tell, stop
        self.sign = -1.0 if cm.maximize else 1.0
        self.cost = self.sign * cm.cost
        A = sp.csr_array(cm.A)
        C, R, G = blocks.coupling_rows, blocks.global_rows, blocks.global_columns
        self.A_CG = sp.csc_array(A[C][:, G])
        self.A_RG = sp.csc_array(A[R][:, G])
        self.low_C, self.up_C = cm.row_lower[C], cm.row_upper[C]
        self.low_G, self.up_G = cm.col_lower[G], cm.col_upper[G]
        self.int_G = cm.integer[G]
        self.nC, self.nR, self.nG, self.nK = C.size, R.size, G.size, blocks.n_blocks
        self.price_tolerance = max(PRICE_TOLERANCE, PRICE_GAP_SHARE * mip_gap)
        self.row_scale = np.fmax(
            np.where(np.isfinite(self.low_C), np.abs(self.low_C), 0.0),
            np.where(np.isfinite(self.up_C), np.abs(self.up_C), 0.0),
        )
        self.penalty = 1e4 * max(float(np.max(np.abs(self.cost), initial=1.0)), 1.0)
        self.global_position = {int(j): i for i, j in enumerate(G)}
        self.linked = np.zeros(G.size, dtype=bool)
        for link in blocks.linking:
            self.linked[[self.global_position[int(j)] for j in link]] = True
        self.pi = np.clip(np.zeros(cm.n_cols), cm.col_lower, cm.col_upper)
        self.hold_integer_linking()
        self.d: dict[int, np.ndarray] = {}
        self.proposals = _Proposals(data)
        self.rounds = 0
        self.converged = False
        self.master_value = math.nan
        self.price_master: _MasterLP | None = None
        self.copies_priced_at: np.ndarray | None = None
        self.round_seconds: dict[tuple[str, bool], float] = {}
        self.best_bound = -math.inf  # minimisation form
        self.best_values: np.ndarray | None = None
        self.best_objective = math.inf  # minimisation form, without the offset
        self.trace: list[tuple[float, float, float]] = []
        self.notes: list[str] = []

    # -- helpers ---------------------------------------------------------------------
    def check_time(self, needed: float = MIN_SOLVER_SECONDS) -> None:
        if self.stop is not None and self.stop.is_set():
            raise _Stopped("interrupted")
        if self.deadline.bounded and not self.deadline.allows(needed):
            raise _Stopped("time_limit")

    def round(self, request: Request) -> list[BlockAnswer]:
        """Solve every block once; refuse to start a round that would pass the deadline.

        A round of a kind takes about as long as the last one of that kind did, so one
        that would not fit in what is left is not started (the MIP rounds' blocks also
        get a time limit each).
        """
        expected = self.round_seconds.get((request.kind, request.free), 0.0)
        self.check_time(max(MIN_SOLVER_SECONDS, expected))
        start = time.perf_counter()
        self.rounds += 1
        answers = self.pool.solve(request)
        seconds = time.perf_counter() - start
        self.round_seconds[request.kind, request.free] = seconds
        free = " free" if request.free else ""
        logger.info("round %d (%s%s): %.1fs", self.rounds, request.kind, free, seconds)
        return self.refuse_infeasible(answers, request)

    @staticmethod
    def refuse_infeasible(answers: list[BlockAnswer], request: Request) -> list[BlockAnswer]:
        """Return ``answers``; raise when a block has no plan (a fixed-integer LP may not)."""
        for a in answers:
            if a.infeasible and request.kind != FIXED:
                raise _Infeasible(
                    f"county block {a.block} has no plan that keeps its own rules"
                    + ("" if request.free else " at the plan-wide values tried")
                )
        return answers

    def hold_integer_linking(self) -> None:
        """Hold the integer linking columns at their upper bounds when the global rows allow.

        The city-wide programs reach every county; on a plan area of many counties
        opening them at once is what a plan does. When the global rows forbid it (a cap
        of zero, say) they are held at their lower bounds.
        """
        G = self.blocks.global_columns
        held = self.linked & self.int_G
        trial = np.where(held, self.up_G, np.clip(0.0, self.low_G, self.up_G))
        if not np.all(np.isfinite(trial)):
            return
        activity = self.A_RG @ trial
        R = self.blocks.global_rows
        if np.all(activity >= self.cm.row_lower[R] - 1e-9) and np.all(
            activity <= self.cm.row_upper[R] + 1e-9
        ):
            self.pi[G[held]] = self.up_G[held]

    def keep_responses(self, answers: list[BlockAnswer]) -> None:
        """Keep each block's first-order response ``d_k`` to its continuous linking columns.

        Integer linking columns (the city-wide programs) get none: a block's LP reduced
        cost on a 0/1 column held by big-M rows is no estimate of what opening it is
        worth. They are held at ``pi`` instead, and their copies are priced 0 in the bound.
        """
        for a in answers:
            if a.copy_reduced_costs is not None:
                whole = self.cm.integer[self.blocks.linking[a.block]]
                self.d[a.block] = np.where(whole, 0.0, a.copy_reduced_costs)

    def linking_cost(self) -> np.ndarray:
        """Master cost of each global column: its own plus the blocks' response to it."""
        cost = self.cost[self.blocks.global_columns].copy()
        for k, d in self.d.items():
            for j, v in zip(self.blocks.linking[k], d, strict=True):
                cost[self.global_position[int(j)]] += v
        return cost

    def sane(self, y: np.ndarray) -> np.ndarray:
        """Prices with the sign each coupling row's finite bounds allow."""
        y = np.where(np.isfinite(self.low_C), y, np.minimum(y, 0.0))
        return np.where(np.isfinite(self.up_C), y, np.maximum(y, 0.0))

    def integers_of(self, x: np.ndarray) -> dict[int, np.ndarray]:
        """Each block's own integer columns in ``x``, rounded: what a fixed round holds."""
        return {
            k: np.round(x[self.blocks.columns[k]][b.integer[: b.n_own]])
            for k, b in enumerate(self.data)
        }

    def propose(
        self,
        answers: list[BlockAnswer],
        y: np.ndarray,
        sigma: np.ndarray,
        tolerance: float,
        every: bool = False,
    ) -> list[int]:
        """Keep the blocks' plans; those worth a master column (all of them with ``every``).

        A plan is worth a column when its reduced cost at the master's prices ``y`` and
        convexity duals ``sigma`` is below ``-tolerance`` times its priced value.
        """
        new = []
        for a in answers:
            if a.ok and a.x is not None:
                i = self.proposals.add(a)
                reduced = (
                    self.proposals.cost[i]
                    - float((self.proposals.use[i].T @ y)[0])
                    - sigma[a.block]
                )
                if every or reduced < -tolerance * (1 + abs(a.value)):
                    new.append(i)
        return new

    # -- the master ------------------------------------------------------------------
    def master(self, index: list[int], time_limit: float | None = None) -> Any:
        """Solve a fresh master LP over the proposals ``index`` (see :class:`_MasterLP`)."""
        master = _MasterLP(self)
        master.add(index)
        return master.run(time_limit)

    # -- the stages ------------------------------------------------------------------
    def price_rounds(self, y: np.ndarray, budget: float | None) -> np.ndarray:
        """Column generation on the block LPs at ``self.pi``; the final prices.

        Prices are smoothed (Wentges): each round prices the blocks at
        ``SMOOTHING * centre + (1 - SMOOTHING) * master``, where the centre is the price
        of the best Lagrangian value so far; a round that finds no column of negative
        reduced cost at the master's prices is priced at the master's prices next.
        Rounds stop when the master LP and the best Lagrangian value meet.
        """
        start = time.perf_counter()
        index: list[int] = []
        master = _MasterLP(self)
        y_master, sigma = y, np.zeros(self.nK)
        centre: np.ndarray | None = None
        best = -math.inf
        smoothing = SMOOTHING
        while True:
            y_try = y_master if centre is None else smoothing * centre + (1 - smoothing) * y_master
            answers = self.round(Request(LP, y_try, self.pi, mip_gap=self.mip_gap))
            self.keep_responses(answers)
            value = sum(a.value for a in answers if a.ok)
            if all(a.ok for a in answers):
                lagrangian = value + self.global_term(y_try, integer=False) + self.constant(y_try)
                if math.isfinite(lagrangian) and lagrangian > best:
                    best, centre = lagrangian, y_try
            new = self.propose(answers, y_master, sigma, every=not index, tolerance=1e-9)
            added = len(new)
            index += new
            master.add(new)
            smoothing = SMOOTHING if added else 0.0
            h = master.run(self.deadline.remaining() if self.deadline.bounded else None)
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                ended = h.modelStatusToString(h.getModelStatus())
                self.notes.append(f"price rounds stopped: the master LP ended {ended}")
                self.converged = False
                break
            z = float(h.getInfo().objective_function_value)
            self.master_value = z
            duals = np.asarray(h.getSolution().row_dual)
            y_master, sigma = self.sane(duals[: self.nC]), duals[self.nC + self.nR :]
            self.master_G = np.asarray(h.getSolution().col_value)[: self.nG]
            self.price_master = master
            self.tell("prices", self.sign * z + self.cm.offset, self.sign * best + self.cm.offset)
            if z - best <= self.price_tolerance * (1 + abs(z)) or (not added and centre is None):
                self.converged = True
                break
            if budget is not None and time.perf_counter() - start > budget:
                self.notes.append("price rounds stopped at their share of the time limit")
                self.converged = False
                break
        return centre if centre is not None else y_master

    def constant(self, y: np.ndarray) -> float:
        """``sum_r y_r b_r``: each coupling row's bound on the side its price is on."""
        low = np.where(y > 0, self.low_C, 0.0)
        up = np.where(y < 0, self.up_C, 0.0)
        return float(np.sum(np.where(y > 0, y * low, 0.0)) + np.sum(np.where(y < 0, y * up, 0.0)))

    def move_linking(self) -> float:
        """Move the linking columns to the master's values; the largest relative move."""
        G = self.blocks.global_columns
        new = np.where(self.int_G, self.pi[G], self.master_G)
        old = self.pi[G]
        move = float(np.max(np.abs(new - old) / (1 + np.abs(old)), initial=0.0))
        self.pi[G] = np.clip(new, self.low_G, self.up_G)
        return move

    def copy_costs(self, y: np.ndarray) -> dict[int, np.ndarray]:
        """Price the linking copies at ``y``; raise the bound to the county LPs' Lagrangian.

        The copies' costs are the counties' LP responses at ``y`` (:meth:`keep_responses`);
        with them, the county LPs give a bound (:meth:`relaxed_bound`). Done once for
        each ``y``.
        """
        if self.copies_priced_at is y:
            return {k: -d for k, d in self.d.items()}
        lp = self.round(Request(LP, y, self.pi, mip_gap=self.mip_gap))
        self.keep_responses(lp)
        costs = {k: -d for k, d in self.d.items()}
        self.relaxed_bound(Request(LP, y, self.pi, free=True, copy_costs=costs))
        self.copies_priced_at = y
        return costs

    def bound(self, y: np.ndarray) -> tuple[float, list[BlockAnswer]]:
        """Return the Lagrangian bound at ``y`` and the blocks' integer plans that gave it."""
        copy_costs = self.copy_costs(y)
        # Each block's MIP may stop BLOCK_GAP_SHARE of the gap asked for short of its
        # optimum, in objective units: the bound then loses at most that share in all.
        scale = abs(self.master_value) if math.isfinite(self.master_value) else 0.0
        absolute = BLOCK_GAP_SHARE * self.mip_gap * scale / max(self.nK, 1)
        per_block = None
        if self.deadline.bounded:
            per_block = min(
                MAX_BLOCK_SECONDS,
                max(0.05, 0.5 * self.deadline.remaining() * self.pool.workers / max(self.nK, 1)),
            )
        request = Request(
            MIP,
            y,
            self.pi,
            free=True,
            copy_costs=copy_costs,
            mip_gap=1e-6,
            mip_abs_gap=absolute if absolute > 0 else None,
            time_limit=per_block,
        )
        answers = self.round(request)
        # A county that ran out of its time before a plan (or a bound) gets another try
        # with ten times as long: a round waits for its slowest county anyway.
        short = frozenset(a.block for a in answers if a.x is None or not math.isfinite(a.bound))
        if short and per_block is not None:
            self.check_time()
            again = min(10.0 * per_block, MAX_BLOCK_SECONDS, self.deadline.remaining() / 2)
            retry = replace(request, only=short, time_limit=again)
            for a in self.refuse_infeasible(self.pool.solve(retry), retry):
                answers[a.block] = a
        # The Lagrangian is a bound only when every county's term is bounded.
        if any(not math.isfinite(a.bound) and not a.infeasible for a in answers):
            self.notes.append("a county MIP ended without a bound: that round gave no bound")
            return -math.inf, answers
        blocks_part = sum(a.bound for a in answers)
        G_part = self.global_term(y)
        return blocks_part + G_part + self.constant(y), answers

    def relaxed_bound(self, request: Request) -> None:
        """Raise the best bound to the Lagrangian of the county LPs at ``request``'s prices.

        The county LPs (with the linking copies free, as in :meth:`bound`) bound the
        county MIPs, so this is a bound too, a round of LPs cheaper than the MIPs' and
        there before them.
        """
        answers = self.round(request)
        if any(not math.isfinite(a.bound) for a in answers):
            return
        y = request.prices
        value = sum(a.bound for a in answers) + self.global_term(y, integer=False)
        self.best_bound = max(self.best_bound, value + self.constant(y))
        self.tell("bound", self.model_value(), self.model_bound())

    def global_term(self, y: np.ndarray, integer: bool = True) -> float:
        """``min (c_G - A_CG' y + sum_k d_k) x_G`` over the global rows and bounds."""
        cost = self.linking_cost() - self.A_CG.T @ y
        nG = self.nG
        if nG == 0:
            return 0.0
        R = self.blocks.global_rows
        model = CompiledModel(
            A=self.A_RG,
            cost=cost,
            offset=0.0,
            maximize=False,
            col_lower=self.low_G,
            col_upper=self.up_G,
            integer=self.int_G,
            row_lower=self.cm.row_lower[R],
            row_upper=self.cm.row_upper[R],
            columns=[],
            rows=[],
        )
        h = to_highs(model, integer=integer)
        h.setOptionValue("mip_rel_gap", 0.0)
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            info = h.getInfo()
            whole = integer and self.int_G.any()
            return float(info.mip_dual_bound if whole else info.objective_function_value)
        return -math.inf

    def plans(self, y: np.ndarray, integer_plans: list[BlockAnswer]) -> list[int]:
        """Proposals from each block's integer plan, costed at ``y`` and around it."""
        integers: dict[int, np.ndarray] = {}
        for a in integer_plans:
            if a.x is not None:
                b = self.data[a.block]
                integers[a.block] = np.round(a.x[: b.n_own][b.integer[: b.n_own]])
        missing = [k for k in range(self.nK) if k not in integers]
        if missing:
            self.notes.append(f"{len(missing)} counties found no integer plan in their time")
            return []
        index = []
        for factor in (1.0, *SPREAD):
            answers = self.round(Request(FIXED, factor * y, self.pi, integers=integers))
            for a in answers:
                if a.ok and a.x is not None:
                    index.append(self.proposals.add(a))
        return index

    def choose(
        self,
        index: list[int],
        y: np.ndarray,
        settle_share: float = SETTLE_SHARE,
    ) -> None:
        """Make a plan from the whole proposals ``index``; keep it when it is the best.

        The master LP over these proposals weighs each county's patterns; each county
        takes its heaviest pattern (with its proposals of that pattern mixed as the LP
        mixed them). With many counties and few coupling rows, all but a few counties
        have one pattern already (Shapley-Folkman). The counties that were split between
        patterns, then those that use the rows the rounding broke most, are freed and
        solved together with every other county held (:meth:`restricted`).
        """
        if len({self.proposals.block[i] for i in index}) < self.nK:
            return  # a county without any whole plan yet
        self.check_time()
        h = self.master(index, self.deadline.budget(0.0, 0.5))
        if h.getInfo().primal_solution_status != FEASIBLE:
            self.notes.append("the master LP over the county plans did not solve in time")
            return
        col = np.asarray(h.getSolution().col_value)
        nG, nC = self.nG, self.nC
        weights = col[nG + 2 * nC : nG + 2 * nC + len(index)]
        pattern_weight: dict[int, float] = {}
        for i, w in zip(index, weights, strict=True):
            q = self.proposals.pattern[i]
            pattern_weight[q] = pattern_weight.get(q, 0.0) + w
        # A county the LP did not split takes its one pattern; a split county takes,
        # among its weighted patterns, the one with the fewest units, sites and
        # alliances: every integer decision uses money or a cap, so rounding down keeps
        # the plan-wide limits that rounding to the heaviest pattern would break.
        best: dict[int, int] = {}
        units: dict[int, float] = {}
        heaviest: dict[int, float] = {}
        for i in index:
            k, q = self.proposals.block[i], self.proposals.pattern[i]
            b = self.data[k]
            units[q] = float(self.proposals.x[i][b.integer[: b.n_own]].sum())
            heaviest[k] = max(heaviest.get(k, 0.0), pattern_weight[q])
        for i in index:
            k, q = self.proposals.block[i], self.proposals.pattern[i]
            if pattern_weight[q] <= 1e-9 and k in best:
                continue
            if heaviest[k] >= 1 - 1e-6:
                better = pattern_weight[q] > pattern_weight.get(best.get(k, -1), -1.0)
            else:
                better = pattern_weight[q] > 1e-9 and units[q] < units.get(
                    best.get(k, -1), math.inf
                )
            if k not in best or better:
                best[k] = q
        x = np.zeros(self.cm.n_cols)
        G = self.blocks.global_columns
        x[G] = col[:nG]
        x[G[self.int_G]] = np.round(x[G[self.int_G]])
        for i, w in zip(index, weights, strict=True):
            k, q = self.proposals.block[i], self.proposals.pattern[i]
            if q == best[k] and w > 0:
                x[self.blocks.columns[k]] += (w / pattern_weight[q]) * self.proposals.x[i]
        for k in range(self.nK):
            if k not in best:  # no weight anywhere: its first proposal
                i = next(i for i in index if self.proposals.block[i] == k)
                x[self.blocks.columns[k]] = self.proposals.x[i]
        split = np.array([1.0 - pattern_weight.get(best.get(k, -1), 0.0) for k in range(self.nK)])
        # Caps on units across counties (a city's sites, say) hold integer columns only:
        # no continuous column can mend them, so whole units are taken back first.
        if repair_integers(self.cm, x, fallback=minimal_point(self.cm)) is None:
            self.notes.append("the counties' units could not be brought within the caps")
            return
        activity = self.cm.A @ x
        C = self.blocks.coupling_rows
        low, up = self.cm.row_lower[C], self.cm.row_upper[C]
        broken = (activity[C] < low - 1e-7 * (1 + np.abs(low))) | (
            activity[C] > up + 1e-7 * (1 + np.abs(up))
        )
        if broken.any() or np.any(split > 1e-6):
            use = np.abs(sp.csr_array(self.cm.A)[C[broken]]).T @ np.ones(int(broken.sum()))
            per_block = np.array([use[c].sum() for c in self.blocks.columns])
            # Continuous columns (a county's or the plan-wide funding) can mend only rows
            # that hold some (not a cap on units).
            broken_rows = sp.csr_array(self.cm.A)[C[broken]]
            mendable = bool(np.all((broken_rows[:, ~self.cm.integer] != 0).sum(axis=1) > 0))
            self.check_time()
            kept = x.copy()
            balanced = mendable and self.settle(x, index, y, settle_share, hold_linking=False)
            if balanced:
                self.hold_linking_at(x, y, settle_share)
            if not balanced and mendable:
                x[:] = kept
                balanced = self.restricted(
                    x, np.lexsort((-per_block, ~(split > 1e-6))), whole=False
                )
            if not balanced:
                x[:] = kept
            # Re-decide counties too: those in the rows still broken first, then the split
            # ones. From the re-balanced plan when there is one: HiGHS starts from it, so
            # this can only improve it (not worth its time when no county was split).
            if not balanced or np.any(split > 1e-6):
                self.check_time()
                order = np.lexsort((~(split > 1e-6), -per_block))
                if not self.restricted(x, order, whole=True, start=balanced) and not balanced:
                    return
        self.keep(x)

    def first_plan(self, y: np.ndarray) -> list[int]:
        """Make a plan from the price rounds' master LP, before any county MIP.

        Each county's mix of its LP plans, as the master mixed them, has fractional
        units; they are rounded down (which keeps every budget, land, cadre and cap
        row), rows on whole units alone are mended (:func:`repair_integers`), each
        county's LP with those units held at the prices ``y`` proposes its spending, and
        :meth:`choose` makes a plan of these proposals as of the county MIPs' ones. The
        plan comes a round of county MIPs sooner than the first whole one, so a short
        time limit still returns one; the county MIPs' plans replace it when better.
        It may take ``FIRST_PLAN_SHARE`` of the time left; without a plan by then the
        county MIPs go on with the rest. Returns the whole proposals it made (the
        counties' spending at the rounded units), which join the county MIPs' ones.
        """
        index: list[int] = []
        master = self.price_master
        if master is None or master.h.getInfo().primal_solution_status != FEASIBLE:
            return index
        self.check_time()
        outer = self.deadline
        if outer.bounded:
            ends = outer.elapsed() + FIRST_PLAN_SHARE * outer.remaining()
            self.deadline = Deadline(ends, start=outer.start)
        before = len(self.notes)
        try:
            index = self.plan_from_prices(master, y)
        except _Stopped:
            if outer.bounded and not outer.allows(MIN_SOLVER_SECONDS):
                raise
            if self.stop is not None and self.stop.is_set():
                raise
            self.notes.append("it took its share of the time limit")
        except _Infeasible as why:
            self.notes.append(str(why))  # at the values held, not for the instance
        finally:
            self.deadline = outer
        self.notes[before:] = [f"first plan (from the prices): {n}" for n in self.notes[before:]]
        return index

    def plan_from_prices(self, master: _MasterLP, y: np.ndarray) -> list[int]:
        """Round the master's mix down, propose each county's spending, choose (see above)."""
        col = np.asarray(master.h.getSolution().col_value)
        nG, nC = self.nG, self.nC
        weights = col[nG + 2 * nC : nG + 2 * nC + len(master.index)]
        x = np.zeros(self.cm.n_cols)
        for i, w in zip(master.index, weights, strict=True):
            if w > 0:
                x[self.blocks.columns[self.proposals.block[i]]] += w * self.proposals.x[i]
        whole = self.cm.integer
        low, up = self.cm.col_lower[whole], self.cm.col_upper[whole]
        x[whole] = np.clip(np.floor(x[whole] + 1e-6), low, up)
        if repair_integers(self.cm, x, fallback=minimal_point(self.cm)) is None:
            self.notes.append("its units could not be brought within the caps")
            return []
        request = Request(FIXED, y, self.pi, integers=self.integers_of(x))
        index = [self.proposals.add(a) for a in self.round(request) if a.ok and a.x is not None]
        # A county whose own rules the rounded units cannot keep (a coverage floor, say)
        # decides its units afresh: its MIP at the same prices.
        missing = frozenset(range(self.nK)) - {self.proposals.block[i] for i in index}
        if missing:
            logger.info("first plan: %d counties decide their units by MIP", len(missing))
            request = Request(
                MIP, y, self.pi, mip_gap=self.mip_gap, time_limit=MAX_BLOCK_SECONDS, only=missing
            )
            answers = self.round(request)
            index += [self.proposals.add(a) for a in answers if a.ok and a.x is not None]
            if len({self.proposals.block[i] for i in index}) < self.nK:
                self.notes.append("a county found no plan at the rounded units nor by its MIP")
                return index
        self.choose(index, y, settle_share=FIRST_SETTLE_SHARE)
        return index

    def keep(self, x: np.ndarray) -> None:
        """Check a plan against every row of the model; keep it when it is the best."""
        self.repair(x)
        worst, where = worst_violation(self.cm, x)
        if worst > FEASIBILITY_TOLERANCE:
            self.notes.append(f"an assembled plan broke {where} by {worst:.3g}; it was not kept")
            return
        value = float(self.cost @ x)
        if value < self.best_objective:
            self.best_objective, self.best_values = value, x
        self.trace.append((self.deadline.elapsed(), self.model_value(), self.model_bound()))

    def settle(
        self, x: np.ndarray, index: list[int], y: np.ndarray, share: float, hold_linking: bool
    ) -> bool:
        """Re-balance the continuous columns of every county with its integers held.

        With each county's integers fixed at their values in ``x``, what is left is an
        LP in the same block structure, and column generation solves it exactly: the
        master over the proposals with these integers (each county's LP at ``y`` and
        those of ``index``, to begin with) prices the coupling rows, each county's LP
        with its integers fixed proposes its best continuous plan at those prices, until
        the master needs no slack and the counties propose nothing better (or
        ``share`` of the time left is spent). A county's proposals share its
        integers and see the linking columns at ``pi``; with ``hold_linking`` the master
        holds them there too, so its mix keeps every county's rows exactly; without, the
        pool is free in the master and :meth:`keep` re-solves the counties it moved.
        ``x`` takes it; False when the master still needs a slack (the integers
        break a row that no continuous column can mend).
        """
        integers = self.integers_of(x)
        # The first columns: the proposals of ``index`` with these integers, and each
        # county's LP at the prices ``y`` with its integers held where it has none.
        first = []
        for i in index:
            k = self.proposals.block[i]
            own_int = self.proposals.x[i][self.data[k].integer[: self.data[k].n_own]]
            if np.array_equal(np.round(own_int), integers[k]):
                first.append(i)
        missing = frozenset(range(self.nK)) - {self.proposals.block[i] for i in first}
        if missing:
            request = Request(FIXED, y, self.pi, integers=integers, only=missing)
            answers = self.round(request)
            first += [self.proposals.add(a) for a in answers if a.ok and a.x is not None]
        if len({self.proposals.block[i] for i in first}) < self.nK:
            self.notes.append("a county has no continuous plan at the units chosen for it")
            return False
        master = _MasterLP(self, hold_linking=hold_linking)
        master.add(first)
        budget = self.deadline.budget(0.0, share)
        start = time.perf_counter()
        nG, nC = self.nG, self.nC
        while True:
            h = master.run(self.deadline.remaining() if self.deadline.bounded else None)
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return False
            col = np.asarray(h.getSolution().col_value)
            duals = np.asarray(h.getSolution().row_dual)
            slack = col[nG : nG + nC] + col[nG + nC : nG + 2 * nC]
            feasible = bool(np.all(slack <= 1e-7 * (1.0 + self.row_scale)))
            z = float(h.getInfo().objective_function_value)
            if budget is not None and time.perf_counter() - start > budget:
                break
            if not self.deadline.allows(
                self.round_seconds.get((FIXED, False), 0.0) + MIN_SOLVER_SECONDS
            ):
                break
            y, sigma = self.sane(duals[:nC]), duals[nC + self.nR :]
            answers = self.round(Request(FIXED, y, self.pi, integers=integers))
            new = self.propose(answers, y, sigma, tolerance=self.price_tolerance)
            lagrangian = sum(a.value for a in answers if a.ok)
            lagrangian += self.global_term(y, integer=False) + self.constant(y)
            converged = z - lagrangian <= self.price_tolerance * (1 + abs(z))
            if not new or (feasible and converged):
                break
            master.add(new)
        if not feasible:
            self.notes.append("the counties' continuous columns could not mend the coupling rows")
            return False
        weights = col[nG + 2 * nC : nG + 2 * nC + len(master.index)]
        x[self.blocks.owners != GLOBAL] = 0.0
        for i, w in zip(master.index, weights, strict=True):
            if w > 0:
                x[self.blocks.columns[self.proposals.block[i]]] += w * self.proposals.x[i]
        G = self.blocks.global_columns
        x[G] = col[:nG]
        x[G[self.int_G]] = np.round(x[G[self.int_G]])
        logger.info("settled the counties' continuous columns (%d proposals)", len(master.index))
        return True

    def hold_linking_at(self, x: np.ndarray, y: np.ndarray, share: float) -> None:
        """Settle ``x`` again with the continuous linking columns held at its own values.

        A plan settled with the pool free in the master mixes county plans made at the
        old pool; held at the new one, every county re-proposes and the master's mix is
        exact (no county has to be repaired for a pool that moved). ``pi`` keeps the new
        values when that works; else ``x`` and ``pi`` stay as they were.
        """
        G = self.blocks.global_columns[self.linked & ~self.int_G]
        if G.size == 0 or np.allclose(x[G], self.pi[G]):
            return
        before, notes = self.pi.copy(), len(self.notes)
        self.pi[G] = x[G]
        trial = x.copy()
        if self.settle(trial, [], y, share, hold_linking=True):
            x[:] = trial
        else:
            self.pi = before
            del self.notes[notes:]  # the plan stands as the free master left it

    def restricted(
        self, x: np.ndarray, order: np.ndarray, whole: bool, start: bool = False
    ) -> bool:
        """Re-solve the first counties of ``order`` and the global columns together.

        Every other county is held at its values in ``x``; the problem has the freed
        counties' rows, the coupling rows and the global rows, with the held counties'
        part of each row moved to its bounds. Without ``whole`` the freed counties keep
        their integer decisions and only their continuous columns move (an LP, so many
        counties can be freed: ``FREE_LP_COLUMNS``); with it they are re-decided too (a
        MIP over ``FREE_MIP_COLUMNS``, started from ``x`` when ``start``: ``x`` is then
        feasible). ``x`` takes the solution; False when there was none in time.
        """
        sizes = np.array([c.size for c in self.blocks.columns])
        most = FREE_MIP_COLUMNS if whole else FREE_LP_COLUMNS
        free = order[np.cumsum(sizes[order]) <= max(most, sizes[order[0]])]
        cols = np.concatenate([*(self.blocks.columns[k] for k in free), self.blocks.global_columns])
        rows = np.concatenate(
            [
                *(self.blocks.rows[k] for k in free),
                self.blocks.coupling_rows,
                self.blocks.global_rows,
            ]
        )
        held = np.ones(self.cm.n_cols, dtype=bool)
        held[cols] = False
        A = sp.csr_array(self.cm.A)[rows]
        activity = A[:, held] @ x[held] if held.any() else np.zeros(rows.size)
        freed = set(int(k) for k in free)
        held_response = np.zeros(self.cm.n_cols)
        for k, d in self.d.items():
            if k not in freed:
                held_response[self.blocks.linking[k]] += d
        lower, upper = self.cm.col_lower[cols].copy(), self.cm.col_upper[cols].copy()
        integer = self.cm.integer[cols]
        if not whole:
            lower[integer] = upper[integer] = np.round(x[cols[integer]])
        sub = CompiledModel(
            A=sp.csc_array(A[:, cols]),
            cost=self.cost[cols] + held_response[cols],
            offset=0.0,
            maximize=False,
            col_lower=lower,
            col_upper=upper,
            integer=integer,
            row_lower=self.cm.row_lower[rows] - activity,
            row_upper=self.cm.row_upper[rows] - activity,
            columns=[],
            rows=[],
        )
        h = to_highs(sub, integer=whole)
        if start:
            begin = highspy.HighsSolution()
            begin.col_value = x[cols].tolist()
            h.setSolution(begin)
        budget = self.deadline.budget(0.0, RESTRICTED_SHARE) if self.deadline.bounded else None
        h.setOptionValue("mip_rel_gap", self.mip_gap / 4)
        if budget is not None:
            h.setOptionValue("time_limit", float(budget))
        h.run()
        kind = "re-decided" if whole else "re-balanced"
        if h.getInfo().primal_solution_status != FEASIBLE or (
            not whole and h.getModelStatus() != highspy.HighsModelStatus.kOptimal
        ):
            self.notes.append(
                f"{free.size} counties could not be {kind} to fit the coupling rows"
                f" ({h.modelStatusToString(h.getModelStatus())})"
            )
            return False
        logger.info("%d counties %s to fit the coupling rows", free.size, kind)
        x[cols] = np.asarray(h.getSolution().col_value)
        x[cols[integer]] = np.round(x[cols[integer]])
        return True

    def repair(self, x: np.ndarray) -> None:
        """Re-solve the blocks whose linking columns moved, at the plan's own values."""
        moved = [
            k
            for k in range(self.nK)
            if self.blocks.linking[k].size
            and np.any(np.abs(x[self.blocks.linking[k]] - self.pi[self.blocks.linking[k]]) > 1e-9)
        ]
        if not moved:
            return
        integers, coupled = self.integers_of(x), {}
        for k in range(self.nK):
            own = x[self.blocks.columns[k]]
            coupled[k] = own[np.flatnonzero(np.diff(self.data[k].coupling.indptr))]
        answers = self.round(
            Request(FIXED, np.zeros(self.nC), x, integers=integers, fix_coupled=coupled)
        )
        for a in answers:
            if a.block in moved and a.ok and a.x is not None:
                x[self.blocks.columns[a.block]] = a.x[: self.data[a.block].n_own]

    def model_value(self) -> float:
        if self.best_values is None:
            return math.nan
        return self.sign * self.best_objective + self.cm.offset

    def model_bound(self) -> float:
        if not math.isfinite(self.best_bound):
            return self.sign * math.inf
        return self.sign * self.best_bound + self.cm.offset

    # -- the whole -------------------------------------------------------------------
    def run(self) -> str:
        y = np.zeros(self.nC)
        # One share of the time for every pass of price rounds together.
        ends = self.deadline.elapsed() + self.deadline.remaining() * PRICE_SHARE
        last_pass: tuple[Any, ...] | None = None
        for npass in range(MAX_PASSES):
            self.proposals = _Proposals(self.data)
            budget = ends - self.deadline.elapsed() if self.deadline.bounded else None
            dropped = None
            try:
                y = self.price_rounds(y, budget)
            except _Infeasible as why:
                if last_pass is None:
                    raise
                # The moved linking values broke a county's own rows: that proves only
                # that those values were a poor choice.
                dropped = f"another pass of prices was dropped: {why}"
            if last_pass is not None and dropped is None and self.price_master is last_pass[2]:
                # No master of this pass ended optimal (the time ran out).
                dropped = "another pass of prices ended without a master LP"
            if dropped is not None:
                # The last pass's master, prices, proposals and responses stand together.
                assert last_pass is not None
                self.pi, self.proposals, self.price_master, self.master_value, y, self.d = last_pass
                self.notes.append(dropped)
                break
            last_pass = (
                self.pi.copy(),
                self.proposals,
                self.price_master,
                self.master_value,
                y,
                dict(self.d),
            )
            # Another pass starts the proposals over: worth it only after one that
            # converged (on a large instance the time is better spent on this one).
            if not self.converged or self.move_linking() < 1e-3 or npass == MAX_PASSES - 1:
                break
            if self.deadline.bounded and self.deadline.elapsed() >= ends:
                break
        self.copy_costs(y)  # the county LPs' bound comes first: the first plan's gap
        whole = self.first_plan(y)
        self.tell("plan", self.model_value(), self.model_bound())
        while True:
            bound, integer_plans = self.bound(y)
            self.best_bound = max(self.best_bound, bound)
            new_whole = self.plans(y, integer_plans)
            whole += new_whole
            self.choose(whole, y)
            gap = relative_gap(self.model_value(), self.model_bound())
            self.tell("plan", self.model_value(), self.model_bound())
            if gap <= self.mip_gap:
                return "optimal"
            # Another round: the integer plans join the master LP, whose prices move.
            assert self.price_master is not None
            self.price_master.add(new_whole)
            h = self.price_master.run()
            y = self.sane(np.asarray(h.getSolution().row_dual)[: self.nC])


class _Infeasible(Exception):
    """A county's own rules, or the coupling rows, admit no plan."""


def solve_by_blocks(
    cm: CompiledModel,
    owners: np.ndarray,
    n_blocks: int,
    *,
    deadline: Deadline,
    mip_gap: float = 1e-4,
    workers: int = 1,
    progress: Callable[[str, float, float, float], None] | None = None,
    stop: threading.Event | None = None,
) -> DecompositionRun:
    """Solve ``cm`` by its county blocks; see the module's docstring for the method.

    Parameters
    ----------
    cm
        The compiled model.
    owners, n_blocks
        Block of each column (:func:`~talentplan.solver.blocks.county_owners`), and
        how many blocks there are.
    deadline
        The call's deadline: the rounds stop when it passes, with the best plan so far.
    mip_gap
        Stop when the certified gap is at most this.
    workers
        Processes that solve the blocks (1: in this process).
    progress
        Called after each round with the stage, elapsed seconds, the best plan's
        objective and the best bound (the model's sense; NaN before they exist).
    stop
        Set it to stop after the running round, with the best plan so far.
    """
    start = time.perf_counter()
    blocks = split_blocks(cm, owners, n_blocks)
    data = block_data(cm, blocks, blocks.coupling_rows)

    def tell(stage: str, objective: float, bound: float) -> None:
        if progress is not None:
            progress(stage, deadline.elapsed(), objective, bound)

    status = "error"
    with BlockPool(data, workers) as pool:
        solve = _Solve(cm, blocks, pool, data, deadline, mip_gap, tell, stop)
        try:
            status = solve.run()
        except _Stopped as why:
            status = str(why)
        except _Infeasible as why:
            solve.notes.append(str(why))
            status = "infeasible"
        except KeyboardInterrupt:
            status = "interrupted"
    objective, bound = solve.model_value(), solve.model_bound()
    return DecompositionRun(
        status=SolveStatus(status),
        values=solve.best_values,
        objective=objective,
        bound=bound,
        gap=relative_gap(objective, bound),
        rounds=solve.rounds,
        n_coupling_rows=blocks.coupling_rows.size,
        seconds=time.perf_counter() - start,
        trace=solve.trace,
        notes=solve.notes,
    )
