"""The county blocks of a compiled model, and the few rows and columns that join them.

Each column belongs to a county when its first index is one (``spend[c, p, t]``,
``stock[c, k, t]``, ...) and to the plan area otherwise (``fund``, ``carry``,
``citywide``, ``pool``, ``min_coverage``): the *global* columns. Each row then falls in
one of three classes:

- a **block row** of county ``k``: its columns are ``k``'s, and perhaps some global ones
  (a county's stock balance holds the plan-wide competition pool, its retention the
  city-wide programs); the global columns that appear in county ``k``'s rows are its
  *linking* columns;
- a **global row**: global columns only (the yearly budgets, the stay-open rows of the
  city-wide programs);
- a **coupling row**: columns of two or more counties (what a funding group pays,
  plan-wide caps and floors, the competition pool's definition, the graduate pool).

Any assignment of columns to counties gives a correct split; this one gives blocks of a
few hundred columns and, for an instance of ``n`` counties, a number of coupling rows
that does not grow with ``n`` (programs x years, plus the plan-wide rules).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from talentplan.solver.matrix import CompiledModel

__all__ = ["Blocks", "county_owners", "split_blocks"]

GLOBAL = -1
"""Owner of a column that belongs to no county."""


def county_owners(columns: Sequence[object], counties: Sequence[str]) -> np.ndarray:
    """Position in ``counties`` of each column's county (first index), else ``GLOBAL``.

    Parameters
    ----------
    columns
        Pyomo variable data of the compiled model's columns.
    counties
        The instance's counties, in order.
    """
    position = {c: k for k, c in enumerate(counties)}
    owners = np.full(len(columns), GLOBAL, dtype=np.int64)
    for j, var in enumerate(columns):
        index = var.index()  # type: ignore[attr-defined]
        first = index[0] if isinstance(index, tuple) and index else index
        owners[j] = position.get(first, GLOBAL) if isinstance(first, str) else GLOBAL
    return owners


@dataclass(frozen=True)
class Blocks:
    """How a compiled model splits into county blocks.

    Attributes
    ----------
    owners
        Block of each column (``GLOBAL``: none).
    columns
        Per block, its own columns (sorted).
    rows
        Per block, its block rows (sorted).
    linking
        Per block, the global columns in its rows (sorted).
    coupling_rows
        Rows with columns of two or more blocks.
    global_rows
        Rows with global columns only.
    global_columns
        Columns of no block.
    """

    owners: np.ndarray
    columns: list[np.ndarray]
    rows: list[np.ndarray]
    linking: list[np.ndarray]
    coupling_rows: np.ndarray
    global_rows: np.ndarray
    global_columns: np.ndarray

    @property
    def n_blocks(self) -> int:
        """Number of blocks."""
        return len(self.columns)


def split_blocks(cm: CompiledModel, owners: np.ndarray, n_blocks: int) -> Blocks:
    """Classify the rows of ``cm`` by the owners of their columns.

    Parameters
    ----------
    cm
        The compiled model.
    owners
        Block of each column, ``GLOBAL`` for none (see :func:`county_owners`).
    n_blocks
        Number of blocks (owners run from 0 to ``n_blocks - 1``).
    """
    A = sp.csr_array(cm.A)
    entry_owner = owners[A.indices]
    counts = np.diff(A.indptr)
    starts = A.indptr[:-1]
    nonempty = counts > 0
    big = np.iinfo(np.int64).max
    low = np.full(cm.n_rows, big, dtype=np.int64)
    high = np.full(cm.n_rows, GLOBAL, dtype=np.int64)
    if entry_owner.size:
        as_low = np.where(entry_owner == GLOBAL, big, entry_owner)
        low[nonempty] = np.minimum.reduceat(as_low, starts[nonempty])
        high[nonempty] = np.maximum.reduceat(entry_owner, starts[nonempty])
    is_global = high == GLOBAL
    is_block = ~is_global & (low == high)
    row_block = np.where(is_block, high, GLOBAL)
    order = np.argsort(row_block, kind="stable")
    sorted_blocks = row_block[order]
    edges = np.searchsorted(sorted_blocks, np.arange(n_blocks + 1))
    rows = [order[edges[k] : edges[k + 1]] for k in range(n_blocks)]
    col_order = np.argsort(owners, kind="stable")
    col_edges = np.searchsorted(owners[col_order], np.arange(n_blocks + 1))
    columns = [np.sort(col_order[col_edges[k] : col_edges[k + 1]]) for k in range(n_blocks)]
    linking = []
    for k in range(n_blocks):
        used = np.unique(A[rows[k]].indices) if rows[k].size else np.empty(0, dtype=np.int64)
        linking.append(used[owners[used] == GLOBAL])
    return Blocks(
        owners=owners,
        columns=columns,
        rows=rows,
        linking=linking,
        coupling_rows=np.flatnonzero(~is_global & ~is_block),
        global_rows=np.flatnonzero(is_global & nonempty),
        global_columns=np.flatnonzero(owners == GLOBAL),
    )
