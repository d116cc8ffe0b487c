"""Panel preparation and instrument matrices for dynamic panel GMM.

The panel is laid out on a dense (entity x time) grid of integer periods, so that
lags are taken by *actual* time: the lag of period ``t`` is period ``t - step`` of the
same entity, and it is missing when that period is absent (a gap) or holds missing
values. The step is the panel's time step, the greatest common divisor of the gaps
between its observed periods (1 for annual data, 2 for biennial years), as Stata's
``xtset ..., delta()``. Rows of the stacked system are the first-differenced equations and, for
system GMM, the level equations, ordered by entity.

GMM-style instruments follow Arellano and Bond (1991) and Blundell and Bond (1998),
one :class:`GMMStyle` specification per variable as ``xtabond2``'s ``gmm()``
(Roodman 2009): lags ``lo`` to ``hi`` of the variable in levels instrument the
differenced equation, one column per (period, lag) pair, or one column per lag when
collapsed; the difference lagged ``lo - 1`` instruments the level equation, one column
per period (one in all when collapsed). Missing lags are replaced by zeros.
:class:`IVStyle` specifications are ``xtabond2``'s ``iv()``: one column holding the
first difference of the variable in the differenced equation and/or its level in the
level equation. The instrument matrix is sparse (CSR): an uncollapsed column is zero
outside its period. The one-step weighting structure ``H`` is :func:`h_matrix`
(:func:`h_structure` gives its entries and :func:`z_h_z` forms ``Z'HZ`` from them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd
import scipy.sparse as sp

from talentplan.calibrate.shared.validation import period_step
from talentplan.errors import PanelDataError

__all__ = [
    "Equation",
    "GMMStyle",
    "IVStyle",
    "PanelGrid",
    "StackedSystem",
    "WeightH",
    "build_grid",
    "build_system",
    "h_matrix",
    "h_structure",
    "z_h_z",
]

Equation = Literal["diff", "level", "both"]
"""The equations an instrument enters: differenced, level, or both (system GMM)."""
WeightH = Literal[1, 2, 3]
"""One-step weighting structures, as ``xtabond2``'s ``h()`` (see :func:`h_matrix`)."""


@dataclass(frozen=True)
class GMMStyle:
    """A GMM-style instrument specification, as ``xtabond2``'s ``gmm(var, lag(lo hi))``.

    Parameters
    ----------
    variable
        The column whose lags instrument.
    lo, hi
        The lags of ``variable`` in levels that instrument the differenced equation,
        ``1 <= lo <= hi``; ``hi=None`` takes every available lag. The level equation
        (system GMM) is instrumented by the first difference lagged ``lo - 1``.
    collapse
        One column per lag instead of one per (period, lag) pair (Roodman 2009).
    equation
        ``"both"`` (the default), ``"diff"`` or ``"level"``: which equations get these
        instruments; in difference GMM only the differenced one exists.
    """

    variable: str
    lo: int
    hi: int | None = None
    collapse: bool = False
    equation: Equation = "both"


@dataclass(frozen=True)
class IVStyle:
    """An iv-style instrument specification, as ``xtabond2``'s ``iv(var, eq())``.

    Parameters
    ----------
    variable
        The column that instruments itself: its first difference in the differenced
        equation, its level in the level equation.
    equation
        ``"diff"``, ``"level"`` or ``"both"``; with ``"both"`` the two share one column.
    """

    variable: str
    equation: Equation = "both"


@dataclass(frozen=True)
class PanelGrid:
    """Variables on a dense (entity, period) grid; absent cells are NaN."""

    entities: pd.Index
    periods: np.ndarray  # integer periods, from min to max by the time step
    values: dict[str, np.ndarray]  # name -> (n_entities, n_periods)
    step: int = 1  # the time step: one lag is this many time units


@dataclass(frozen=True)
class StackedSystem:
    """The stacked estimating equations of one model."""

    y: np.ndarray  # (n_rows,)
    x: np.ndarray  # (n_rows, k)
    z: sp.csr_matrix  # (n_rows, n_instruments), sparse: GMM-style columns are mostly zero
    group: np.ndarray  # (n_rows,) entity position
    period: np.ndarray  # (n_rows,) integer period
    is_diff: np.ndarray  # (n_rows,) True for differenced equations
    regressors: list[str]
    instruments: list[str]
    entities: pd.Index  # entity labels, by position (the values of ``group``)
    step: int = 1  # the time step of ``period``: one lag is this many time units

    @property
    def tpos(self) -> np.ndarray:
        """Positions of the rows on the panel's time grid (one lag is one position)."""
        return (self.period - self.period.min()) // self.step

    @property
    def n_entities(self) -> int:
        """Number of entities in the panel (with or without equations)."""
        return len(self.entities)


def build_grid(frame: pd.DataFrame, entity: str, time: str, columns: list[str]) -> PanelGrid:
    """Lay ``columns`` of a long (entity, time) frame out on a dense grid.

    Parameters
    ----------
    frame
        Long data with columns ``entity``, ``time`` and ``columns``.
    entity, time
        Column names of the entity identifier and the integer-like period.
    columns
        Numeric columns to place on the grid.
    """
    tvals = frame[time].to_numpy(dtype=float)
    if not np.all(np.isfinite(tvals)) or not np.allclose(tvals, np.round(tvals)):
        raise PanelDataError(
            f"time index '{time}' must hold integer-like periods (for example years) "
            "so that lags can be taken by actual time"
        )
    periods_int = np.round(tvals).astype(np.int64)
    ent_codes, entities = pd.factorize(frame[entity], sort=True)
    pmin, pmax = int(periods_int.min()), int(periods_int.max())
    step = period_step(periods_int)
    periods = np.arange(pmin, pmax + 1, step)
    n_e, n_t = len(entities), len(periods)
    tpos = (periods_int - pmin) // step
    values: dict[str, np.ndarray] = {}
    for col in columns:
        grid = np.full((n_e, n_t), np.nan)
        grid[ent_codes, tpos] = frame[col].to_numpy(dtype=float)
        values[col] = grid
    return PanelGrid(entities=pd.Index(entities), periods=periods, values=values, step=step)


def _lag(a: np.ndarray, s: int) -> np.ndarray:
    """Lag a grid by ``s`` periods along the time axis (NaN where unavailable)."""
    if s == 0:
        return a
    out = np.full_like(a, np.nan)
    if s < a.shape[1]:
        out[:, s:] = a[:, :-s]
    return out


def _diff(a: np.ndarray) -> np.ndarray:
    return a - _lag(a, 1)


#: Sparse instrument columns as coordinates: (rows, columns, values), each an array.
Triplets: TypeAlias = tuple[np.ndarray, np.ndarray, np.ndarray]


def _gmm_block(
    source: np.ndarray,
    rows_e: np.ndarray,
    rows_t: np.ndarray,
    lags: list[int],
    collapse: bool,
    label: str,
    periods: np.ndarray,
) -> tuple[Triplets, list[str]]:
    """Build GMM-style columns from ``source`` lagged by each of ``lags`` at the given rows.

    Returns the non-zero entries as coordinates (row among the given rows, column of
    the block, value) and the column names: an uncollapsed column is non-zero only in
    the rows of its period.
    """
    n = len(rows_e)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    names: list[str] = []
    for s in lags:
        lagged = _lag(source, s)[rows_e, rows_t]
        lagged = np.where(np.isfinite(lagged), lagged, 0.0)
        first = len(names)
        if collapse:  # one column per lag
            col_of_row = np.zeros(n, dtype=np.int32)
            names.append(f"{label}L{s}")
        else:  # one column per lag and period
            present, inverse = np.unique(rows_t, return_inverse=True)
            col_of_row = inverse.astype(np.int32)
            names.extend(f"{label}L{s}@{periods[t]}" for t in present)
        nz = np.flatnonzero(lagged).astype(np.int32)
        rows.append(nz)
        cols.append(first + col_of_row[nz])
        vals.append(lagged[nz])
    return _cat(rows, cols, vals), names


def _cat(rows: list[np.ndarray], cols: list[np.ndarray], vals: list[np.ndarray]) -> Triplets:
    if not rows:
        empty = np.zeros(0, dtype=np.int32)
        return empty, empty, np.zeros(0)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


def _column(values: np.ndarray) -> Triplets:
    """One instrument column as coordinates, missing values as zeros."""
    values = np.where(np.isfinite(values), values, 0.0)
    nz = np.flatnonzero(values).astype(np.int32)
    return nz, np.zeros(nz.size, dtype=np.int32), values[nz]


def build_system(
    grid: PanelGrid,
    dependent: str,
    lags: int,
    regressors: list[str],
    gmm: list[GMMStyle],
    iv: list[IVStyle],
    method: str,
    constant: bool,
) -> StackedSystem:
    """Stack the differenced (and, for system GMM, level) equations with instruments.

    ``gmm`` and ``iv`` are the instrument specifications, already validated; the
    constant instruments the level equation in system GMM and the differenced one in
    difference GMM (where it is a regressor of the differenced equation).
    """
    v = grid.values
    n_t = len(grid.periods)
    ylev = v[dependent]
    # regressors in levels, on the grid
    xlev = [_lag(ylev, lag) for lag in range(1, lags + 1)] + [v[c] for c in regressors]
    names = [f"L{lag}.{dependent}" for lag in range(1, lags + 1)] + regressors

    # --- differenced equations -----------------------------------------------------------
    dy = _diff(ylev)
    dx = [_diff(a) for a in xlev]
    ok_d = np.isfinite(dy)
    for a in dx:
        ok_d &= np.isfinite(a)
    de, dt = np.nonzero(ok_d)
    # --- level equations ------------------------------------------------------------------
    system = method == "system"
    if system:
        ok_l = np.isfinite(ylev)
        for a in xlev:
            ok_l &= np.isfinite(a)
        le, lt = np.nonzero(ok_l)
    else:
        le = lt = np.zeros(0, dtype=np.int64)
    nd, nl = len(de), len(le)

    y = np.concatenate([dy[de, dt], ylev[le, lt]])
    x = np.column_stack(
        [np.concatenate([d[de, dt], a[le, lt]]) for d, a in zip(dx, xlev, strict=True)]
    )
    if constant:
        const = np.concatenate([np.full(nd, 0.0 if system else 1.0), np.ones(nl)])
        x = np.column_stack([x, const])
        names = [*names, "const"]

    # --- instruments (sparse: most GMM-style columns are zero outside one period) -------
    # Rows are ordered by entity, differenced equations first, then by period; the
    # instruments are gathered as coordinates and assembled once, in that order.
    group = np.concatenate([de, le])
    period_pos = np.concatenate([dt, lt])
    is_diff = np.concatenate([np.ones(nd, bool), np.zeros(nl, bool)])
    order = np.lexsort((period_pos, ~is_diff, group))
    position = np.empty(nd + nl, dtype=np.int32)  # 32-bit indices: half the memory
    position[order] = np.arange(nd + nl, dtype=np.int32)
    z_rows: list[np.ndarray] = []
    z_cols: list[np.ndarray] = []
    z_vals: list[np.ndarray] = []
    znames: list[str] = []

    def add(block: Triplets, labels: list[str], *, level: bool, first: int | None = None) -> None:
        rows, cols, vals = block
        z_rows.append(position[rows + nd] if level else position[rows])
        z_cols.append(cols + np.int32(len(znames) if first is None else first))
        z_vals.append(vals)
        znames.extend(labels)

    for g in gmm:
        if g.equation in ("diff", "both"):
            hi = n_t - 1 if g.hi is None else min(g.hi, n_t - 1)
            lag_list = list(range(g.lo, hi + 1))
            block, labels = _gmm_block(
                v[g.variable], de, dt, lag_list, g.collapse, f"{g.variable}:", grid.periods
            )
            add(block, labels, level=False)
    if system:
        for g in gmm:
            if g.equation in ("level", "both"):
                # the difference dated one period after the first usable level lag
                block, labels = _gmm_block(
                    _diff(v[g.variable]),
                    le,
                    lt,
                    [g.lo - 1],
                    g.collapse,
                    f"D.{g.variable}:",
                    grid.periods,
                )
                add(block, labels, level=True)
    for spec in iv:
        src = v[spec.variable]
        in_diff = spec.equation in ("diff", "both")
        in_level = system and spec.equation in ("level", "both")
        label = {"diff": f"D.{spec.variable}", "level": spec.variable}.get(
            spec.equation, f"{spec.variable}[both]"
        )
        d_part = _column(_diff(src)[de, dt]) if in_diff else _column(np.zeros(nd))
        l_part = _column(src[le, lt]) if in_level else _column(np.zeros(nl))
        column = len(znames)
        add(d_part, [label], level=False)
        add(l_part, [], level=True, first=column)  # the same column in the level rows
    if constant:
        const_part = _column(np.ones(nl if system else nd))
        add(const_part, ["const"], level=system)
    rows, cols, vals = _cat(z_rows, z_cols, z_vals)
    for parts in (z_rows, z_cols, z_vals):
        parts.clear()  # free the pieces now that they are concatenated
    # keep instrument columns that are not identically zero in the sample
    live = np.bincount(cols, minlength=len(znames)) > 0
    new_col = (np.cumsum(live) - 1).astype(np.int32)
    z = sp.csr_matrix((vals, (rows, new_col[cols])), shape=(nd + nl, int(live.sum())))
    del rows, cols, vals
    z.sort_indices()
    znames = [n for n, keep in zip(znames, live, strict=True) if keep]
    y, x = y[order], x[order]
    group, period_pos, is_diff = group[order], period_pos[order], is_diff[order]
    return StackedSystem(
        y=y,
        x=x,
        z=z,
        group=group,
        period=grid.periods[period_pos],
        is_diff=is_diff,
        regressors=names,
        instruments=znames,
        entities=grid.entities,
        step=grid.step,
    )


def h_structure(
    s: StackedSystem, h: int
) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray, float]]]:
    """Return the diagonal of ``H`` and its off-diagonal pairs ``(rows_a, rows_b, value)``.

    Each pair stands for the two symmetric entries ``H[a, b] = H[b, a] = value``; see
    :func:`h_matrix` for the structures.
    """
    n = len(s.group)
    if h == 1:
        return np.ones(n), []
    is_diff = s.is_diff
    tpos = s.tpos
    diag = np.where(is_diff, 2.0, 1.0)
    span = int(tpos.max()) + 2 if n else 1
    key = s.group.astype(np.int64) * span + tpos
    d_idx = np.flatnonzero(is_diff)
    l_idx = np.flatnonzero(~is_diff)
    pairs = [(d_idx, d_idx, 1, -1.0)]  # differenced rows one period apart
    if h == 3:
        pairs += [(d_idx, l_idx, 0, 1.0), (d_idx, l_idx, 1, -1.0)]
    out: list[tuple[np.ndarray, np.ndarray, float]] = []
    for a_idx, b_idx, shift, value in pairs:
        if a_idx.size == 0 or b_idx.size == 0:
            continue
        a, b = _match(key[a_idx] - shift, key[b_idx])
        out.append((a_idx[a], b_idx[b], value))
    return diag, out


def h_matrix(s: StackedSystem, h: int) -> sp.csr_matrix:
    """Build the one-step weighting structure ``H`` (block diagonal by entity).

    ``H`` is the covariance of the transformed errors up to scale, as ``xtabond2``'s
    ``h()`` (Roodman 2009):

    * ``h=1``: the identity;
    * ``h=2``: for the differenced rows of an entity 2 on the diagonal and -1 between
      rows one period apart (by actual time), the identity for its level rows, and no
      cross terms (DPD for Ox, Stata's ``xtabond`` and ``xtdpdsys``);
    * ``h=3``: ``h=2`` plus the cross terms that i.i.d. errors imply between the two
      equations, ``cov(e_t - e_t-1, e_t) = 1`` and ``cov(e_t - e_t-1, e_t-1) = -1``
      (``xtabond2``'s default). In difference GMM ``h=2`` and ``h=3`` coincide.

    The estimator itself forms ``Z'HZ`` from :func:`h_structure` without building ``H``.
    """
    n = len(s.group)
    if h == 1:
        return sp.identity(n, format="csr")
    diag, pairs = h_structure(s, h)
    rows = [np.arange(n)]
    cols = [np.arange(n)]
    vals = [diag]
    for ra, rb, value in pairs:
        rows += [ra, rb]
        cols += [rb, ra]
        vals += [np.full(ra.size, value), np.full(ra.size, value)]
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )


def z_h_z(z: sp.csr_matrix, s: StackedSystem, h: int) -> np.ndarray:
    """Compute ``Z'HZ`` (dense) from the sparse instruments without building ``H``.

    ``Z' diag(H) Z`` plus, for each off-diagonal pair structure, ``value (Z_a'Z_b +
    Z_b'Z_a)`` with ``Z_a``, ``Z_b`` the matched rows.
    """
    diag, pairs = h_structure(s, h)
    out = np.asarray((z.T @ sp.csr_matrix(z.multiply(diag[:, None]))).toarray())
    for ra, rb, value in pairs:
        cross = np.asarray((z[ra].T @ z[rb]).toarray())
        out += value * (cross + cross.T)
    return out


def _match(targets: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return positions ``(i, j)`` with ``targets[i] == keys[j]`` (``keys`` unique)."""
    sorter = np.argsort(keys)
    pos = np.clip(np.searchsorted(keys[sorter], targets), 0, len(keys) - 1)
    hit = keys[sorter][pos] == targets
    return np.flatnonzero(hit), sorter[pos[hit]]
