"""County subproblems of the decomposition: kept in HiGHS between rounds, solved in parallel.

A block's subproblem holds the block's own columns and a private *copy* of each linking
column (see :mod:`talentplan.solver.blocks`), and the block rows; everything is in
minimisation form (``sign * cost``). Each round changes only costs, bounds and
integrality of the kept HiGHS objects:

- the cost of the block's columns is its own cost less the coupling rows' prices,
  ``c_k - A_Ck' y``;
- the copies are either *fixed* at the plan-wide values ``pi`` (the block as it would be
  with those values) or *free* within the global column's bounds at cost ``m_k`` (the
  Lagrangian relaxation of ``copy = global column``);
- the solve is the LP relaxation, the MIP, or the LP with the integers fixed.

A :class:`BlockPool` spreads the blocks over worker processes (``spawn``, one HiGHS
thread each), each keeping its own blocks for the whole solve; with one worker it runs
them in the calling process.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import signal
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp

from talentplan.solver.matrix import CompiledModel, to_highs

__all__ = ["BlockAnswer", "BlockData", "BlockPool", "Request", "block_data"]

LP, MIP, FIXED = "lp", "mip", "fixed"
"""The three kinds of solve: LP relaxation, MIP, LP with the integers fixed."""

_OPTIMAL = highspy.HighsModelStatus.kOptimal
_INTEGER, _CONTINUOUS = highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
_FEASIBLE = int(highspy.SolutionStatus.kSolutionStatusFeasible)


@dataclass(frozen=True)
class BlockData:
    """One block's matrices, in minimisation form; columns are own columns then copies."""

    block: int
    A: sp.csc_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    cost: np.ndarray
    """Own cost on the own columns, 0 on the copies."""
    n_own: int
    coupling: sp.csc_array
    """Coupling rows x own columns: the block's part of every coupling row."""
    linking: np.ndarray
    """Global column of each copy."""


def block_data(cm: CompiledModel, blocks: Any, coupling_rows: np.ndarray) -> list[BlockData]:
    """Return the :class:`BlockData` of every block of ``blocks`` (a :class:`~.blocks.Blocks`)."""
    sign = -1.0 if cm.maximize else 1.0
    A = sp.csr_array(cm.A)
    coupling = sp.csc_array(A[coupling_rows])
    out = []
    for k in range(blocks.n_blocks):
        own, link, rows = blocks.columns[k], blocks.linking[k], blocks.rows[k]
        cols = np.concatenate([own, link])
        cost = np.zeros(cols.size)
        cost[: own.size] = sign * cm.cost[own]
        out.append(
            BlockData(
                block=k,
                A=sp.csc_array(A[rows][:, cols]),
                row_lower=cm.row_lower[rows],
                row_upper=cm.row_upper[rows],
                col_lower=cm.col_lower[cols],
                col_upper=cm.col_upper[cols],
                integer=cm.integer[cols],
                cost=cost,
                n_own=own.size,
                coupling=sp.csc_array(coupling[:, own]),
                linking=link,
            )
        )
    return out


@dataclass(frozen=True)
class Request:
    """One round: the same prices and plan-wide values for every block.

    Attributes
    ----------
    kind
        ``lp``, ``mip`` or ``fixed`` (LP with the integers at ``integers``).
    prices
        ``y``, one per coupling row (minimisation sign).
    pi
        Value of every global column that the copies are fixed at (when ``free`` is off).
    free
        Copies free within their bounds at cost ``copy_costs`` instead of fixed at ``pi``.
    copy_costs
        Per block, the cost of its copies (used when ``free``).
    integers
        Per block, the values its integer columns are fixed at (kind ``fixed``).
    fix_coupled
        Per block, values its own columns that enter coupling rows are fixed at (kind
        ``fixed``; None: they stay free).
    mip_gap, mip_abs_gap, time_limit
        For each block's MIP: it stops at either gap (the absolute one in the units of
        the objective; None: HiGHS's default) or at the time limit.
    only
        The blocks to answer (None: every block).
    """

    kind: str
    prices: np.ndarray
    pi: np.ndarray
    free: bool = False
    copy_costs: dict[int, np.ndarray] | None = None
    integers: dict[int, np.ndarray] | None = None
    fix_coupled: dict[int, np.ndarray] | None = None
    mip_gap: float = 1e-4
    mip_abs_gap: float | None = None
    time_limit: float | None = None
    only: frozenset[int] | None = None


@dataclass(frozen=True)
class BlockAnswer:
    """One block's answer to a :class:`Request`.

    ``value`` is the priced objective of ``x`` (own and copy columns), ``bound`` a lower
    bound on the priced optimum (the MIP's dual bound; ``value`` for an optimal LP), both
    in minimisation form; ``x`` is None when no feasible point was found.
    ``copy_reduced_costs`` is the LP's reduced cost of each fixed copy (kinds ``lp`` and
    ``fixed`` with the copies fixed): how the block's optimum moves per unit of the
    linking column.
    """

    block: int
    ok: bool
    infeasible: bool
    value: float
    bound: float
    x: np.ndarray | None
    copy_reduced_costs: np.ndarray | None


class BlockSolver:
    """Keeps one HiGHS object per block and answers requests for all of them."""

    def __init__(self, blocks: list[BlockData]) -> None:
        self.blocks = blocks
        self.highs = [self._load(b) for b in blocks]

    @staticmethod
    def _load(b: BlockData) -> highspy.Highs:
        model = CompiledModel(
            A=b.A,
            cost=b.cost,
            offset=0.0,
            maximize=False,
            col_lower=b.col_lower,
            col_upper=b.col_upper,
            integer=b.integer,
            row_lower=b.row_lower,
            row_upper=b.row_upper,
            columns=[],
            rows=[],
        )
        return to_highs(model, integer=False)

    def solve(self, request: Request) -> list[BlockAnswer]:
        """Answer ``request`` for every block held here (those of ``request.only``)."""
        return [
            self._solve(b, h, request)
            for b, h in zip(self.blocks, self.highs, strict=True)
            if request.only is None or b.block in request.only
        ]

    def _solve(self, b: BlockData, h: highspy.Highs, r: Request) -> BlockAnswer:
        n = b.A.shape[1]
        everything = np.arange(n, dtype=np.int32)
        cost = b.cost.copy()
        cost[: b.n_own] -= b.coupling.T @ r.prices
        lower, upper = b.col_lower.copy(), b.col_upper.copy()
        copies = slice(b.n_own, n)
        if r.free:
            if r.copy_costs is not None:
                cost[copies] = r.copy_costs[b.block]
        else:
            lower[copies] = upper[copies] = r.pi[b.linking]
        integer = b.integer.copy()
        if r.kind == FIXED:
            assert r.integers is not None
            own_int = np.flatnonzero(b.integer[: b.n_own])
            lower[own_int] = upper[own_int] = r.integers[b.block]
            if r.fix_coupled is not None:
                coupled = np.flatnonzero(np.diff(b.coupling.indptr))
                lower[coupled] = upper[coupled] = r.fix_coupled[b.block]
        if r.kind != MIP:
            integer[:] = False
        h.changeColsCost(n, everything, cost)
        h.changeColsBounds(n, everything, lower, upper)
        kinds = np.where(integer, int(_INTEGER), int(_CONTINUOUS)).astype(np.uint8)
        h.changeColsIntegrality(n, everything, kinds)
        h.setOptionValue("mip_rel_gap", float(r.mip_gap))
        h.setOptionValue("mip_abs_gap", 1e-6 if r.mip_abs_gap is None else float(r.mip_abs_gap))
        h.setOptionValue("time_limit", math.inf if r.time_limit is None else float(r.time_limit))
        h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        infeasible = status == highspy.HighsModelStatus.kInfeasible
        has_x = info.primal_solution_status == _FEASIBLE and not infeasible
        x = np.asarray(h.getSolution().col_value, dtype=float) if has_x else None
        value = float(info.objective_function_value) if has_x else math.inf
        if r.kind == MIP:
            bound = float(info.mip_dual_bound) if not infeasible else math.inf
            ok = has_x
        else:
            ok = status == _OPTIMAL and has_x and math.isfinite(value)
            bound = value if ok else -math.inf
        reduced = None
        if ok and r.kind != MIP and not r.free and n > b.n_own:
            reduced = np.asarray(h.getSolution().col_dual, dtype=float)[copies]
        return BlockAnswer(b.block, ok, infeasible, value, bound, x, reduced)


def _serve(blocks: list[BlockData], conn: Connection) -> None:
    """Run a worker process: build its subproblems, answer requests until told to stop.

    Ctrl-C reaches the whole process group; the main process decides what it means (stop
    after this round), so a worker ignores it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    solver = BlockSolver(blocks)
    conn.send("ready")
    while True:
        request = conn.recv()
        if request is None:
            break
        conn.send(solver.solve(request))
    conn.close()


class BlockPool:
    """The subproblems of all blocks, spread over ``workers`` processes.

    Use as a context manager, so that the worker processes end with the solve.
    """

    def __init__(self, blocks: list[BlockData], workers: int = 1) -> None:
        self.n_blocks = len(blocks)
        self.workers = max(1, min(workers, len(blocks)))
        self._local: BlockSolver | None = None
        self._procs: list[tuple[Any, Connection]] = []
        if self.workers == 1:
            self._local = BlockSolver(blocks)
            return
        context = mp.get_context("spawn")
        for w in range(self.workers):
            parent, child = context.Pipe()
            proc = context.Process(
                target=_serve, args=(blocks[w :: self.workers], child), daemon=True
            )
            proc.start()
            child.close()
            self._procs.append((proc, parent))
        for _, conn in self._procs:
            if conn.recv() != "ready":  # pragma: no cover - a worker that failed to start
                raise RuntimeError("a subproblem worker failed to start")

    def solve(self, request: Request) -> list[BlockAnswer]:
        """Answers of every block asked for, in block order."""
        if self._local is not None:
            return self._local.solve(request)
        for _, conn in self._procs:
            conn.send(request)
        answers: list[BlockAnswer] = []
        for _, conn in self._procs:
            answers.extend(conn.recv())
        return sorted(answers, key=lambda a: a.block)

    def close(self) -> None:
        """Stop the worker processes."""
        for proc, conn in self._procs:
            try:
                conn.send(None)
            except (BrokenPipeError, OSError):
                pass
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
        self._procs = []

    def __enter__(self) -> BlockPool:
        """Return the pool itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop the worker processes."""
        self.close()
