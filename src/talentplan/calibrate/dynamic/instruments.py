"""Panel preparation and instrument matrices for dynamic panel GMM.

The panel is laid out on a dense (entity x time) grid of integer periods, so that
lags are taken by *actual* time: the lag of period ``t`` is period ``t - step`` of the
same entity, and it is missing when that period is absent (a gap) or holds missing
values. The step is the panel's time step, the greatest common divisor of the gaps
between its observed periods (1 for annual data, 2 for biennial years), as Stata's
``xtset ..., delta()``. Rows of the stacked system are the first-differenced equations and, for
system GMM, the level equations, ordered by entity.

GMM-style instruments follow Arellano and Bond (1991) and Blundell and Bond (1998):
one column per (period, lag) pair, or one column per lag when collapsed
(Roodman 2009); missing lags are replaced by zeros. Strictly exogenous regressors
instrument the differenced equation with their own first difference ("iv-style"),
as in Stata's ``xtabond``/``xtdpdsys``; the level equation is instrumented by the
lagged differences and the constant only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from talentplan.calibrate.shared.validation import period_step
from talentplan.errors import PanelDataError

__all__ = ["PanelGrid", "StackedSystem", "build_grid", "build_system"]


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
    z: np.ndarray  # (n_rows, n_instruments)
    group: np.ndarray  # (n_rows,) entity position
    period: np.ndarray  # (n_rows,) integer period
    is_diff: np.ndarray  # (n_rows,) True for differenced equations
    h: sp.csr_matrix  # one-step weighting structure (block diagonal by entity)
    regressors: list[str]
    instruments: list[str]
    entities: pd.Index  # entity labels, by position (the values of ``group``)
    step: int = 1  # the time step of ``period``: one lag is this many time units

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


def _gmm_block(
    source: np.ndarray,
    rows_e: np.ndarray,
    rows_t: np.ndarray,
    lags: list[int],
    collapse: bool,
    label: str,
    periods: np.ndarray,
) -> tuple[np.ndarray, list[str]]:
    """Build GMM-style columns from ``source`` lagged by each of ``lags`` at the given rows."""
    n = len(rows_e)
    cols: list[np.ndarray] = []
    names: list[str] = []
    for s in lags:
        vals = _lag(source, s)[rows_e, rows_t]
        vals = np.where(np.isfinite(vals), vals, 0.0)
        if collapse:
            cols.append(vals)
            names.append(f"{label}L{s}")
            continue
        for t in np.unique(rows_t):
            col = np.zeros(n)
            mask = rows_t == t
            col[mask] = vals[mask]
            cols.append(col)
            names.append(f"{label}L{s}@{periods[t]}")
    if not cols:
        return np.zeros((n, 0)), []
    return np.column_stack(cols), names


def build_system(
    grid: PanelGrid,
    dependent: str,
    lags: int,
    exog: list[str],
    predetermined: list[str],
    endogenous: list[str],
    method: str,
    collapse: bool,
    max_instrument_lag: int | None,
    constant: bool,
) -> StackedSystem:
    """Stack the differenced (and, for system GMM, level) equations with instruments."""
    v = grid.values
    regs = exog + predetermined + endogenous
    n_t = len(grid.periods)
    ylev = v[dependent]
    # regressors in levels, on the grid
    xlev = [_lag(ylev, lag) for lag in range(1, lags + 1)] + [v[c] for c in regs]
    names = [f"L{lag}.{dependent}" for lag in range(1, lags + 1)] + regs

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

    # --- instruments ------------------------------------------------------------------
    deep = n_t if max_instrument_lag is None else max_instrument_lag
    zd_parts: list[np.ndarray] = []
    zl_parts: list[np.ndarray] = []
    znames: list[str] = []

    def add(d_block: np.ndarray, l_block: np.ndarray, labels: list[str]) -> None:
        zd_parts.append(d_block)
        zl_parts.append(l_block)
        znames.extend(labels)

    gmm_specs = [(dependent, ylev, 2)]
    gmm_specs += [(c, v[c], 1) for c in predetermined]
    gmm_specs += [(c, v[c], 2) for c in endogenous]
    for label, src, first in gmm_specs:
        lag_list = list(range(first, max(first, deep) + 1))
        lag_list = [s for s in lag_list if s < n_t]
        block, labels = _gmm_block(src, de, dt, lag_list, collapse, f"{label}:", grid.periods)
        add(block, np.zeros((nl, block.shape[1])), labels)
    if system:
        for label, src, first in gmm_specs:
            # level equations: the difference dated one period after the first
            # usable level lag (D.L1 for the dependent and endogenous, D for predetermined)
            block, labels = _gmm_block(
                _diff(src), le, lt, [first - 1], collapse, f"D.{label}:", grid.periods
            )
            add(np.zeros((nd, block.shape[1])), block, labels)
    for c in exog:
        add(_diff(v[c])[de, dt][:, None], np.zeros((nl, 1)), [f"D.{c}"])
    if constant:
        if system:
            add(np.zeros((nd, 1)), np.ones((nl, 1)), ["const"])
        else:
            add(np.ones((nd, 1)), np.zeros((0, 1)), ["const"])
    z = np.vstack([np.column_stack(zd_parts), np.column_stack(zl_parts)])

    group = np.concatenate([de, le])
    period_pos = np.concatenate([dt, lt])
    is_diff = np.concatenate([np.ones(nd, bool), np.zeros(nl, bool)])
    # keep instrument columns that are not identically zero in the sample
    live = np.any(z != 0.0, axis=0)
    z = z[:, live]
    znames = [n for n, keep in zip(znames, live, strict=True) if keep]
    # order rows by entity, differenced equations first, then by period
    order = np.lexsort((period_pos, ~is_diff, group))
    y, x, z = y[order], x[order], z[order]
    group, period_pos, is_diff = group[order], period_pos[order], is_diff[order]
    h = _h_matrix(group, period_pos, is_diff)
    return StackedSystem(
        y=y,
        x=x,
        z=z,
        group=group,
        period=grid.periods[period_pos],
        is_diff=is_diff,
        h=h,
        regressors=names,
        instruments=znames,
        entities=grid.entities,
        step=grid.step,
    )


def _h_matrix(group: np.ndarray, tpos: np.ndarray, is_diff: np.ndarray) -> sp.csr_matrix:
    """Build the one-step weighting structure: MA(1) in differences, identity in levels.

    For the differenced rows of an entity, 2 on the diagonal and -1 between rows one
    period apart (by actual time); for level rows the identity; no cross terms between
    the two blocks (as in DPD for Ox and Stata's ``xtdpdsys``).
    """
    n = len(group)
    rows = [np.arange(n)]
    cols = [np.arange(n)]
    vals = [np.where(is_diff, 2.0, 1.0)]
    idx = np.flatnonzero(is_diff)
    if idx.size:
        n_t = int(tpos.max()) + 2
        key = group[idx].astype(np.int64) * n_t + tpos[idx]
        sorter = np.argsort(key)
        prev = key - 1
        pos = np.searchsorted(key[sorter], prev)
        pos = np.clip(pos, 0, len(key) - 1)
        hit = key[sorter][pos] == prev
        a = idx[hit]
        b = idx[sorter[pos[hit]]]
        rows += [a, b]
        cols += [b, a]
        vals += [-np.ones(a.size), -np.ones(a.size)]
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
