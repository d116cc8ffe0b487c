"""The allocation MIP as sparse arrays, assembled with numpy from the prepared data.

The Pyomo model (:func:`talentplan.model.build.build_model`) is the readable reference
formulation; this module writes the same rows and columns straight into
``row_lower <= A x <= row_upper``, ``col_lower <= x <= col_upper``, with index arithmetic
over whole families instead of one Python expression per row. The two are proven equal,
matrix and optimum, by ``tests/model/test_arrays.py``. Notation: county ``c``, talent type
``k``, program ``p``, year position ``t``, ``z`` an activation (site, alliance or city
program), ``lev[c, p, t]`` a program's level (:func:`talentplan.model.decisions.level`)
and ``lev_L`` the same lagged by ``L[p]`` (zero before the lag).

Columns (bounds as in the reference):

- ``open[c, p, t]``, ``alliance[c, i, p, t]``, ``citywide[p, t]`` binary; ``units[c, p, t]``
  integer in ``[0, ub]``; ``spend[c, p, t]`` in ``[0, ub]``;
- ``stock[c, k, t]`` in ``[S_min, S_max]``; ``useful[c, k, t]`` in ``[0, D_max]``;
- ``retained[c, k, t]``, ``saved_stock[c, k, p, i, t]`` (retention), ``response[c, p, k, t]``,
  ``boosted[c, q, k, t]`` (inflow), ``hold_piece``/``hold_full``/``pool`` (competition),
  ``local[c, t]``, ``leaving[c, t]``, ``all_kept[c, t]`` (graduates), ``fund[g, p, t, s]``,
  ``carry[t, s]`` (budgets), ``uses[c, p, t]`` (prerequisites), ``min_coverage`` (equity).

Rows, by family (each a block of the reference model of the same name):

- stays: ``x[t-1] - x[t] <= 0`` for every binary or count decision;
- retention: ``retained - sum a0 eff rho w - sum eff r lev_L <= 0``,
  ``retained - (a0 - a_min) S[t-1] <= 0``, ``w - S_max z_L <= 0``,
  ``w - S[t-1] - S_min z_L <= -S_min``;
- inflow: ``response - eff s_j spend_L <= eff (y_j - s_j x_j)`` per chord ``j``; with the
  base inflow ``B = sum eff inflow lev_L + response``, the platform boosts
  ``v - R_max z_L <= 0``, ``v - B + o z_L <= 0``, ``B - v - (o - R_max) z_L <= R_max``;
- competition: ``L_j full_j - piece_j <= 0``, ``piece_{j+1} - L_{j+1} full_j <= 0``,
  ``spend - sum_j piece_j = 0``, ``response - eff sum_j s_j piece_j = 0`` and
  ``pool[k, t] - sum_c P[c, k, t] / O[c, k] = 0``;
- graduates: ``local - G eff g_p z_L <= G s0``, ``leaving + G eff g_p z_L - G over
  all_kept <= G (1 - s0)``, ``leaving + G all_kept <= G``, ``sum placed - sum leaving <= 0``;
- balance: ``S[t] - (1 - a0) S[t-1] - inflow + drain - retained - local - placed = m0``
  (plus ``(1 - a0) S0`` in the first year), ``U - S - fte <= 0`` and, with demand
  feedback, ``U[t] - eta share sum_j U[j, t-1] <= D0 - eta share I0[t-1]``;
- resources: ``sum_s fund - cost = 0``, ``sum fund (+ carry[t] - carry[t-1]) <= budget``
  (``=`` with carry-over), land, cadre and energy quotas, caps, prerequisites, floors,
  pins, the equity floor and the objective's own rows (targets, coverage floor).

Each row is written as Pyomo's compiler writes it (``a >= b`` with variables on both
sides as ``b - a <= 0``, a constant side as a bound), so row duals mean the same on both
paths. A row with no variable is left out, as the reference leaves out a rule that compares
numbers; a column that appears in no row and not in the objective is left out too, as
Pyomo's compiler does. Each column and row carries the key ``(component name, index)``
of the reference model, so the two can be aligned.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from talentplan._options import check_choice
from talentplan.data.instance import Instance
from talentplan.data.schema import ACTIVE_SPEND, Objective
from talentplan.model.prepare import ModelData, funders, prepare

INF = float("inf")

Key = tuple[str, tuple]
"""A column or row: the reference model's component name and index tuple."""


@dataclass(frozen=True)
class _Block:
    """A family of columns or rows: a name and the index components of its members."""

    name: str
    start: int
    size: int
    index: tuple[np.ndarray, ...]

    def indices(self) -> list[tuple]:
        """Index tuple of each member (``()`` for a single unindexed member)."""
        if not self.index:
            return [()] * self.size
        # object arrays hold Python str and int, so the keys compare with Pyomo's indices
        parts = [
            np.broadcast_to(np.asarray(a, dtype=object), (self.size,)).tolist() for a in self.index
        ]
        return list(zip(*parts, strict=True))

    def keys(self) -> list[Key]:
        """``(name, index)`` of each member."""
        name = self.name
        return [(name, k) for k in self.indices()]


@dataclass
class ArrayModel:
    """The allocation MIP as arrays: ``row_lower <= A x <= row_upper``.

    Attributes
    ----------
    A
        Constraint matrix (rows x columns), compressed by column.
    cost, offset, maximize
        Objective ``cost @ x + offset`` and its sense.
    col_lower, col_upper, integer
        Column bounds and integrality.
    row_lower, row_upper
        Row bounds (``-inf``/``inf`` where open).
    data, objective, build_seconds
        As in :class:`~talentplan.model.build.Formulation` (the build from prepared data).
    """

    A: sp.csc_array
    cost: np.ndarray
    offset: float
    maximize: bool
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    data: ModelData
    objective: str
    build_seconds: float
    _col_blocks: list[_Block] = field(repr=False, default_factory=list)
    _row_blocks: list[_Block] = field(repr=False, default_factory=list)
    _col_keep: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=np.int64))
    _row_keep: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n_cols(self) -> int:
        """Number of columns."""
        return int(self.A.shape[1])

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.A.shape[0])

    def column_keys(self) -> list[Key]:
        """``(variable name, index)`` of each column, as in the Pyomo model."""
        return _select(self._col_blocks, self._col_keep)

    def row_keys(self) -> list[Key]:
        """``(constraint name, index)`` of each row, as in the Pyomo model."""
        return _select(self._row_blocks, self._row_keep)

    def index_blocks(self, rows: bool = False) -> tuple[list[tuple[str, list[tuple]]], np.ndarray]:
        """Columns (or rows) by family: ``(name, indices)`` of every member built, in order.

        The second value selects the members kept in the matrix (those with an entry).
        """
        blocks = self._row_blocks if rows else self._col_blocks
        keep = self._row_keep if rows else self._col_keep
        return [(b.name, b.indices()) for b in blocks], keep

    def row_families(self) -> np.ndarray:
        """Name of the constraint family of each row."""
        return _names(self._row_blocks)[self._row_keep]

    def column_families(self) -> np.ndarray:
        """Name of the variable family of each column."""
        return _names(self._col_blocks)[self._col_keep]


def _names(blocks: list[_Block]) -> np.ndarray:
    return np.repeat(np.array([b.name for b in blocks], dtype=object), [b.size for b in blocks])


def _select(blocks: list[_Block], keep: np.ndarray) -> list[Key]:
    keys = [k for b in blocks for k in b.keys()]
    return [keys[i] for i in keep]


class _Builder:
    """Collects column blocks, row blocks and coefficient triples."""

    def __init__(self) -> None:
        self.cols: list[_Block] = []
        self.rows: list[_Block] = []
        self.n_cols = 0
        self.n_rows = 0
        self.lb: list[np.ndarray] = []
        self.ub: list[np.ndarray] = []
        self.intg: list[np.ndarray] = []
        self.rlo: list[np.ndarray] = []
        self.rup: list[np.ndarray] = []
        self.ri: list[np.ndarray] = []
        self.ci: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []

    def var(
        self,
        name: str,
        index: tuple,
        lower: object,
        upper: object,
        integer: bool = False,
        size: int | None = None,
    ) -> np.ndarray:
        n = size if size is not None else _length(index)
        ids = np.arange(self.n_cols, self.n_cols + n)
        self.cols.append(_Block(name, self.n_cols, n, index))
        self.lb.append(np.broadcast_to(np.asarray(lower, dtype=float), (n,)))
        self.ub.append(np.broadcast_to(np.asarray(upper, dtype=float), (n,)))
        self.intg.append(np.full(n, integer))
        self.n_cols += n
        return ids

    def row(self, name: str, index: tuple, lower: object, upper: object) -> np.ndarray:
        n = _length(index)
        ids = np.arange(self.n_rows, self.n_rows + n)
        self.rows.append(_Block(name, self.n_rows, n, index))
        self.rlo.append(np.broadcast_to(np.asarray(lower, dtype=float), (n,)).copy())
        self.rup.append(np.broadcast_to(np.asarray(upper, dtype=float), (n,)).copy())
        self.n_rows += n
        return ids

    def add(self, rows: object, cols: object, vals: object) -> None:
        r, c, v = np.broadcast_arrays(
            np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64), np.asarray(vals)
        )
        r, c, v = r.ravel(), c.ravel(), v.ravel().astype(float)
        keep = (r >= 0) & (c >= 0) & (v != 0)
        self.ri.append(r[keep])
        self.ci.append(c[keep])
        self.vals.append(v[keep])

    def add_expr(self, row_of: np.ndarray, expr: _Expr, scale: object = 1.0) -> None:
        """Add ``scale[c] * expr[c, t]`` to the rows ``row_of[c, t]`` (``-1``: none)."""
        c, t, col, val = expr
        if not len(c):
            return
        s = np.broadcast_to(np.asarray(scale, dtype=float), (row_of.shape[0],))[c]
        self.add(row_of[c, t], col, val * s)


def _length(index: tuple) -> int:
    """Return the number of members of a family: its first array component's length."""
    return next(len(a) for a in index if isinstance(a, np.ndarray))


_Expr = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""A family of linear expressions over (county, year position): entries (c, t, col, value)."""

_EMPTY: _Expr = (
    np.zeros(0, dtype=np.int64),
    np.zeros(0, dtype=np.int64),
    np.zeros(0, dtype=np.int64),
    np.zeros(0),
)


def _cat(*exprs: _Expr) -> _Expr:
    exprs = tuple(e for e in exprs if len(e[0]))
    if not exprs:
        return _EMPTY
    return tuple(np.concatenate(parts) for parts in zip(*exprs, strict=True))  # type: ignore[return-value]


def _grid(*sizes: int) -> list[np.ndarray]:
    """Flattened index arrays of a dense grid (C order)."""
    return [g.ravel() for g in np.meshgrid(*[np.arange(n) for n in sizes], indexing="ij")]


class _Assembler:
    """Builds one instance's arrays, family by family (mirrors the Pyomo blocks)."""

    def __init__(self, d: ModelData, objective: str, min_coverage: float) -> None:
        self.d = d
        self.b = _Builder()
        self.objective = objective
        self.min_coverage = min_coverage
        self.C, self.K, self.T = len(d.counties), len(d.types), d.n_years
        self.cn = np.array(d.counties, dtype=object)
        self.tt = np.arange(self.T)
        cs, ks = d.counties, d.types
        self.eff = np.array([d.efficiency[c] for c in cs], dtype=float)
        self.travel = np.array([d.travel[c] for c in cs], dtype=float)
        self.G = np.array([d.graduates[c] for c in cs], dtype=float)
        self.gshare = np.array([d.graduate_share[c] for c in cs], dtype=float)
        self.a0 = np.array([[d.a0[c, k] for k in ks] for c in cs], dtype=float).reshape(self.C, -1)
        self.s0 = np.array([[d.s0[c, k] for k in ks] for c in cs], dtype=float).reshape(self.C, -1)
        self.m0 = np.array([[d.m0[c, k] for k in ks] for c in cs], dtype=float).reshape(self.C, -1)
        years = d.years
        self.demand = np.array(
            [[[d.demand.get((c, k, y), 0.0) for y in years] for k in ks] for c in cs], dtype=float
        ).reshape(self.C, self.K, self.T)
        span = range(-1, self.T)
        self.s_ub = np.array(
            [[[d.stock_ub[c, k, t] for t in span] for k in ks] for c in cs], dtype=float
        ).reshape(self.C, self.K, self.T + 1)
        self.s_lb = np.array(
            [[[d.stock_lb[c, k, t] for t in span] for k in ks] for c in cs], dtype=float
        ).reshape(self.C, self.K, self.T + 1)
        self.level_ub = {
            p: np.array([d.level_ub[c, p] for c in cs], dtype=float) for p in d.programs
        }
        self.inflow_ub = np.array([[d.inflow_ub[c, k] for k in ks] for c in cs], dtype=float)
        self.inflow_ub = self.inflow_ub.reshape(self.C, self.K)
        self.lev: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        """program -> (county of each entry, column ids (entries, T), industry label)."""
        self.response: dict[tuple[str, str], np.ndarray] = {}

    # --- small helpers ------------------------------------------------------------------

    def level(self, p: str, coef: np.ndarray | float = 1.0, lag: int = 0) -> _Expr:
        """``coef[c] * lev[c, p, t - lag]`` as entries over (c, t) (nothing before the lag)."""
        cidx, ids, _ind = self.lev[p]
        T = self.T
        if lag >= T or not len(cidx):
            return _EMPTY
        src = np.arange(T - lag)
        n = len(cidx)
        c = np.repeat(cidx, len(src))
        t = np.tile(src + lag, n)
        col = ids[:, src].ravel()
        s = np.broadcast_to(np.asarray(coef, dtype=float), (self.C,))
        return c, t, col, s[c]

    def effect(self, p: str, k: str, e: str) -> float:
        return self.d.effect(p, k, e)

    def decayed(self, p: str, k: str, e: str) -> np.ndarray:
        value, scale = self.d.effects.get((p, k, e), (0.0, 0.0))
        return self.eff * value * np.exp(-scale * self.travel)

    # --- decisions ----------------------------------------------------------------------

    def decisions(self) -> None:
        """Columns of the five decision kinds; each program's level structure."""
        d, b, C, T, tt = self.d, self.b, self.C, self.T, self.tt
        stays: list[tuple[str, tuple, np.ndarray]] = []
        ci, ti = _grid(C, T)
        for p in d.by_kind["site"]:
            ids = b.var("open", (self.cn[ci], p, ti), 0.0, 1.0, True, size=C * T).reshape(C, T)
            self.lev[p] = (np.arange(C), ids, np.full(C, "", dtype=object))
            stays.append(("site_stays_open", (self.cn, p), ids))
        pair_c = np.array(
            [n for n, c in enumerate(d.counties) for _i in d.present[c]], dtype=np.int64
        )
        pair_i = np.array([i for c in d.counties for i in d.present[c]], dtype=object)
        npairs = len(pair_c)
        pi_, pt = _grid(npairs, T)
        for p in d.by_kind["chain"]:
            ids = b.var(
                "alliance",
                (self.cn[pair_c][pi_], pair_i[pi_], p, pt),
                0.0,
                1.0,
                True,
                size=npairs * T,
            ).reshape(npairs, T)
            self.lev[p] = (pair_c, ids, pair_i)
            stays.append(("alliance_stays", (self.cn[pair_c], pair_i, p), ids))
        for p in d.by_kind["city"]:
            ids = b.var("citywide", (np.full(T, p, dtype=object), tt), 0.0, 1.0, True)
            self.lev[p] = (np.arange(C), np.broadcast_to(ids, (C, T)), np.full(C, "", dtype=object))
            stays.append(("citywide_stays", (np.array([p], dtype=object),), ids[None, :]))
        for p in d.by_kind["count"]:
            ub = np.repeat(self.level_ub[p], T)
            ids = b.var("units", (self.cn[ci], p, ti), 0.0, ub, True, size=C * T).reshape(C, T)
            self.lev[p] = (np.arange(C), ids, np.full(C, "", dtype=object))
            stays.append(("units_stay", (self.cn, p), ids))
        for p in d.by_kind["amount"]:
            ub = np.repeat(self.level_ub[p], T)
            ids = b.var("spend", (self.cn[ci], p, ti), 0.0, ub, False, size=C * T).reshape(C, T)
            self.lev[p] = (np.arange(C), ids, np.full(C, "", dtype=object))
        self._stays = stays

    def add_stays(self) -> None:
        """``x[t] - x[t-1] >= 0`` (declared in the reference right after the decisions)."""
        b, T = self.b, self.T
        if T < 2:
            return
        for name, base, ids in self._stays:
            n = ids.shape[0]
            e, s = _grid(n, T - 1)
            index = tuple(np.broadcast_to(np.asarray(a, dtype=object), (n,))[e] for a in base)
            rows = b.row(name, (*index, s + 1), -INF, 0.0).reshape(n, T - 1)
            b.add(rows, ids[:, :-1], 1.0)
            b.add(rows, ids[:, 1:], -1.0)

    # --- talent stocks ------------------------------------------------------------------

    def stock_variables(self) -> None:
        """``stock`` and ``useful`` columns over (c, k, t)."""
        d, b, C, K, T = self.d, self.b, self.C, self.K, self.T
        c, k, t = _grid(C, K, T)
        index = (self.cn[c], np.array(d.types, dtype=object)[k], t)
        self.stock = b.var(
            "stock", index, self.s_lb[:, :, 1:].ravel(), self.s_ub[:, :, 1:].ravel()
        ).reshape(C, K, T)
        self.useful = b.var("useful", index, 0.0, self.demand_ub().ravel()).reshape(C, K, T)

    def fte_programs(self, k: str) -> list[str]:
        d = self.d
        return [p for p in d.by_kind["site"] + d.by_kind["count"] if (p, k, "fte") in d.effects]

    def demand_ub(self) -> np.ndarray:
        d = self.d
        out = self.demand.copy()
        if not d.base_drivers:
            return out
        fte_ub = np.zeros((self.C, self.K))
        for n, k in enumerate(d.types):
            for p in self.fte_programs(k):
                fte_ub[:, n] += self.decayed(p, k, "fte") * self.level_ub[p]
        drivers = [d.types.index(j) for j in d.drivers]
        most = (self.s_ub[:, drivers, :-1] + fte_ub[:, drivers, None]).sum(axis=1)[:, 1:]
        extra = np.maximum(most - self.base_drivers()[:, :-1], 0.0)
        out[:, :, 1:] += d.feedback * self.demand_share()[:, :, 1:] * extra[:, None, :]
        return out

    def base_drivers(self) -> np.ndarray:
        d = self.d
        return np.array(
            [[d.base_drivers[c, t] for t in range(self.T)] for c in d.counties], dtype=float
        ).reshape(self.C, self.T)

    def demand_share(self) -> np.ndarray:
        d = self.d
        return np.array(
            [
                [[d.demand_share[c, k, t] for t in range(self.T)] for k in d.types]
                for c in d.counties
            ],
            dtype=float,
        ).reshape(self.C, self.K, self.T)

    # --- retention ----------------------------------------------------------------------

    def block_rows(
        self, name: str, mc: np.ndarray, mk: np.ndarray, lower: object, upper: object
    ) -> np.ndarray:
        """Rows over (c, k, t) for the (c, k) pairs given; returns the (C, K, T) lookup.

        Array bounds are in the order of ``_grid(len(mc), T)``.
        """
        T = self.T
        e, t = _grid(len(mc), T)
        kn = np.array(self.d.types, dtype=object)
        ids = self.b.row(name, (self.cn[mc[e]], kn[mk[e]], t), lower, upper)
        out = np.full((self.C, self.K, T), -1, dtype=np.int64)
        out[mc[e], mk[e], t] = ids
        return out

    def retention(self) -> None:
        """``retained`` and ``saved_stock`` with their four row families."""
        d, b, C, K, T = self.d, self.b, self.C, self.K, self.T
        acts = d.by_kind["site"] + d.by_kind["chain"] + d.by_kind["city"]
        npresent = np.array([len(d.present[c]) for c in d.counties])
        room = np.maximum(self.a0 - d.attrition_floor, 0.0)
        mask = np.zeros((C, K), dtype=bool)
        for n, k in enumerate(d.types):
            has = np.zeros(C, dtype=bool)
            for p in acts:
                if self.effect(p, k, "retention") > 0:
                    has |= (npresent > 0) if d.kind[p] == "chain" else True
            units = any(self.effect(p, k, "retained_per_unit") > 0 for p in d.by_kind["count"])
            mask[:, n] = (room[:, n] > 0) & (has | units)
        mc, mk = np.nonzero(mask)
        e, t = _grid(len(mc), T)
        kn = np.array(d.types, dtype=object)
        self.retained = np.full((C, K, T), -1, dtype=np.int64)
        self.retained[mc[e], mk[e], t] = b.var("retained", (self.cn[mc[e]], kn[mk[e]], t), 0.0, INF)
        saved = []
        for n, k in enumerate(d.types):
            for p in acts:
                if self.effect(p, k, "retention") <= 0:
                    continue
                cidx, zids, ind = self.lev[p]
                sel = mask[cidx, n]
                c_e, i_e, z_e = cidx[sel], ind[sel], zids[sel]
                ts = np.arange(max(1, d.lag[p]), T)
                ec, et = _grid(len(c_e), len(ts))
                w = b.var(
                    "saved_stock",
                    (self.cn[c_e[ec]], k, p, i_e[ec], ts[et]),
                    0.0,
                    self.s_ub[c_e[ec], n, ts[et]],  # stock_ub at t - 1 (stored one later)
                    size=len(ec),
                ).reshape(len(c_e), len(ts))
                saved.append((n, p, c_e, i_e, z_e, w, ts))
        rows_p = self.block_rows("retained_by_programs", mc, mk, -INF, 0.0)
        first_up = np.where(t == 0, room[mc[e], mk[e]] * self.s0[mc[e], mk[e]], 0.0)
        rows_f = self.block_rows("retained_above_floor", mc, mk, -INF, first_up)
        on = self.retained >= 0
        b.add(rows_p[on], self.retained[on], 1.0)
        b.add(rows_f[on], self.retained[on], 1.0)
        later = on.copy()
        later[:, :, 0] = False
        c3, k3, t3 = np.nonzero(later)
        b.add(rows_f[c3, k3, t3], self.stock[c3, k3, t3 - 1], -room[c3, k3])
        for n, p, c_e, _i_e, z_e, w, ts in saved:
            coef = self.a0[:, n] * self.eff * self.effect(p, d.types[n], "retention")
            b.add(rows_p[c_e[:, None], n, ts[None, :]], w, -coef[c_e][:, None])
            if d.lag[p] == 0 and len(c_e):  # first year: the stock is data
                b.add(rows_p[c_e, n, 0], z_e[:, 0], -coef[c_e] * self.s0[c_e, n])
        for n, k in enumerate(d.types):
            for p in d.by_kind["count"]:
                r = self.effect(p, k, "retained_per_unit")
                if r > 0:
                    b.add_expr(rows_p[:, n, :], self.level(p, self.eff * r, d.lag[p]), -1.0)
        # upper McCormick envelope of w = S[t-1] z
        for n, p, c_e, i_e, z_e, w, ts in saved:
            if not w.size:
                continue
            ec, et = _grid(len(c_e), len(ts))
            index = (self.cn[c_e[ec]], d.types[n], p, i_e[ec], ts[et])
            z = z_e[:, ts - d.lag[p]]
            smax = self.s_ub[c_e[:, None], n, ts[None, :]]
            smin = self.s_lb[c_e[:, None], n, ts[None, :]]
            ra = b.row("saved_le_active", index, -INF, 0.0).reshape(w.shape)
            b.add(ra, w, 1.0)
            b.add(ra, z, -smax)
            rs = b.row("saved_le_stock", index, -INF, -smin.ravel()).reshape(w.shape)
            b.add(rs, w, 1.0)
            b.add(rs, self.stock[c_e[:, None], n, ts[None, :] - 1], -1.0)
            b.add(rs, z, -smin)

    # --- inflow -------------------------------------------------------------------------

    def responses(self, p: str, k: str) -> _Expr:
        full = self.response.get((p, k))
        if full is None:
            return _EMPTY
        c, t = np.nonzero(full >= 0)
        return c, t, full[c, t], np.ones(len(c))

    def program_inflow(self, p: str, k: str) -> _Expr:
        """``eff * inflow[p, k] * lev_L`` (where positive) plus the response to spend."""
        coef = self.eff * self.effect(p, k, "inflow")
        return _cat(
            self.level(p, np.where(coef > 0, coef, 0.0), self.d.lag[p]), self.responses(p, k)
        )

    def inflow(self) -> None:
        """Responses and chords; the base and total inflow of each type as entries."""
        d, b, C, T = self.d, self.b, self.C, self.T
        for p, k, _e in d.pwl:
            ts = np.arange(d.lag[p], T)
            ci, ei = _grid(C, len(ts))
            ids = b.var("response", (self.cn[ci], p, k, ts[ei]), 0.0, INF, size=len(ci))
            full = np.full((C, T), -1, dtype=np.int64)
            full[ci, ts[ei]] = ids
            self.response[p, k] = full
        poachers = d.poachers
        for p, k, _e in d.pwl:
            if p in poachers:
                continue
            curve = d.pwl[p, k, "inflow_log"]
            lag = d.lag[p]
            ts = np.arange(lag, T)
            J = len(curve.slopes)
            ci, ei, ji = _grid(C, len(ts), J)
            slope = np.asarray(curve.slopes, dtype=float)[ji]
            x0 = np.asarray(curve.breakpoints, dtype=float)[ji]
            y0 = np.asarray(curve.values, dtype=float)[ji]
            upper = self.eff[ci] * (y0 - slope * x0)
            rows = b.row("response_chords", (self.cn[ci], p, k, ts[ei], ji), -INF, upper)
            b.add(rows, self.response[p, k][ci, ts[ei]], 1.0)
            b.add(rows, self.lev[p][1][ci, ts[ei] - lag], -self.eff[ci] * slope)
        self.base: dict[int, _Expr] = {}
        for n, k in enumerate(d.types):
            programs = d.inflow_programs(k)
            if programs:
                self.base[n] = _cat(*[self.program_inflow(p, k) for p in programs])
        self.total: dict[int, _Expr] = {}
        for n, k in enumerate(d.types):
            if n not in self.base:
                continue
            parts = [self.base[n]]
            for q in d.by_kind["site"]:
                gamma = self.effect(q, k, "platform")
                if not gamma:
                    continue
                parts += self.platform(n, k, q, gamma)
            self.total[n] = _cat(*parts)

    def platform(self, n: int, k: str, q: str, gamma: float) -> list[_Expr]:
        """Rows of the exact boost ``v = R open`` and the boost's share of the inflow."""
        d, b, C, T = self.d, self.b, self.C, self.T
        value = self.effect(q, k, "inflow")
        own = self.eff * value if value > 0 else np.zeros(C)
        rest = self.inflow_ub[:, n] - own
        lag = d.lag[q]
        ts = np.arange(lag, T)
        cs = np.nonzero((self.inflow_ub[:, n] > 0) & (rest > 1e-9))[0]
        ec, et = _grid(len(cs), len(ts))
        c_r, t_r = cs[ec], ts[et]
        index = (self.cn[c_r], q, k, t_r)
        v = b.var("boosted", index, 0.0, rest[c_r], size=len(c_r))
        z = self.lev[q][1][c_r, t_r - lag]
        r_open = b.row("boost_le_open", index, -INF, 0.0)
        b.add(r_open, v, 1.0)
        b.add(r_open, z, -rest[c_r])
        r_base = b.row("boost_le_base", index, -INF, 0.0)
        r_ge = b.row("boost_ge_product", index, -INF, rest[c_r])
        for rows, sign, extra in ((r_base, 1.0, 0.0), (r_ge, -1.0, -rest[c_r])):
            b.add(rows, v, sign)
            b.add(rows, z, sign * (own[c_r] + extra))
            row_of = np.full((C, T), -1, dtype=np.int64)
            row_of[c_r, t_r] = rows
            b.add_expr(row_of, self.base[n], -sign)
        boost = (c_r, t_r, v, np.full(len(v), gamma))
        kept = (self.inflow_ub[:, n] > 0) & (own > 0)
        return [boost, self.level(q, np.where(kept, gamma * own, 0.0), lag)]

    # --- competition --------------------------------------------------------------------

    def competition(self) -> None:
        """Curves held on their chords, the pool rows and each type's drain."""
        d, b, C, T = self.d, self.b, self.C, self.T
        self.drain: dict[int, tuple[np.ndarray, _Expr]] = {}
        poachers = d.poachers
        if not poachers:
            return
        curves = {p: [k for (q, k, _e) in d.pwl if q == p] for p in poachers}
        held = [p for p in poachers if d.kind[p] == "amount" and curves[p]]
        pieces = {}
        for p in held:
            lengths = np.diff(d.pwl[p, curves[p][0], "inflow_log"].breakpoints).astype(float)
            J = len(lengths)
            ci, ti, ji = _grid(C, T, J)
            pieces[p] = b.var(
                "hold_piece", (self.cn[ci], p, ti, ji), 0.0, lengths[ji], size=len(ci)
            ).reshape(C, T, J)
        for p in held:
            lengths = np.diff(d.pwl[p, curves[p][0], "inflow_log"].breakpoints).astype(float)
            J = len(lengths)
            piece = pieces[p]
            ci, ti, ji = _grid(C, T, J - 1)
            index = (self.cn[ci], p, ti, ji)
            full = b.var("hold_full", index, 0.0, 1.0, True, size=len(ci))
            r1 = b.row("hold_fill_this", index, -INF, 0.0)
            b.add(r1, full, lengths[ji])
            b.add(r1, piece[ci, ti, ji], -1.0)
            r2 = b.row("hold_then_next", index, -INF, 0.0)
            b.add(r2, piece[ci, ti, ji + 1], 1.0)
            b.add(r2, full, -lengths[ji + 1])
            ci, ti = _grid(C, T)
            r3 = b.row("hold_spend", (self.cn[ci], p, ti), 0.0, 0.0).reshape(C, T)
            b.add(r3, self.lev[p][1], 1.0)
            b.add(r3[:, :, None], piece, -1.0)
            lag = d.lag[p]
            for k in curves[p]:
                slopes = np.asarray(d.pwl[p, k, "inflow_log"].slopes, dtype=float)
                ss = np.arange(T - lag)
                ci, si = _grid(C, len(ss))
                r4 = b.row("hold_response", (self.cn[ci], p, k, ss[si]), 0.0, 0.0)
                r4 = r4.reshape(C, len(ss))
                b.add(r4, self.response[p, k][:, ss + lag], 1.0)
                b.add(
                    r4[:, :, None],
                    piece[:, ss, :],
                    -(self.eff[:, None] * slopes[None, :])[:, None, :],
                )
        types = [k for k in d.types if any(p in d.inflow_programs(k) for p in poachers)]
        for k in types:
            n = d.types.index(k)
            pool = b.var("pool", (np.full(T, k, dtype=object), self.tt), 0.0, d.pool_ub[k])
            others = d.type_total[k] - self.s0[:, n]
            safe = np.where(others > 0, others, 1.0)
            parts = []
            for p in poachers:
                c, t, col, val = self.program_inflow(p, k)
                parts.append((c, t, col, np.where(others[c] > 0, val * d.poach[p] / safe[c], 0.0)))
            per_stock = _cat(*parts)
            rows = b.row("pool_def", (np.full(T, k, dtype=object), self.tt), 0.0, 0.0)
            b.add(rows, pool, 1.0)
            b.add_expr(np.broadcast_to(rows, (C, T)), per_stock, -1.0)
            self.drain[n] = (pool, per_stock)

    # --- graduates ----------------------------------------------------------------------

    def share_terms(self, scale: np.ndarray) -> _Expr:
        """``scale[c] * eff * g_p * z_L`` over the activations that keep graduates."""
        d = self.d
        parts = []
        for p in d.by_kind["site"] + d.by_kind["chain"] + d.by_kind["city"]:
            g = self.effect(p, "", "graduate_retention")
            if g > 0:
                parts.append(self.level(p, scale * (self.eff * g), d.lag[p]))
        return _cat(*parts)

    def local_cultivation(self) -> None:
        """``local`` graduates kept and their row."""
        d, b, C, T = self.d, self.b, self.C, self.T
        self.local = np.full((C, T), -1, dtype=np.int64)
        if d.graduate_type is None:
            return
        cs = np.nonzero(self.G > 0)[0]
        ec, t = _grid(len(cs), T)
        c = cs[ec]
        self.local[c, t] = b.var("local", (self.cn[c], t), 0.0, self.G[c])
        rows = b.row("local_retention", (self.cn[c], t), -INF, self.G[c] * self.gshare[c])
        b.add(rows, self.local[c, t], 1.0)
        row_of = np.full((C, T), -1, dtype=np.int64)
        row_of[c, t] = rows
        b.add_expr(row_of, self.share_terms(self.G), -1.0)

    def placement(self) -> None:
        """Leaving graduates, ``all_kept`` and the pool row of each year."""
        d, b, C, T = self.d, self.b, self.C, self.T
        self.placed = _EMPTY
        placers = d.placers
        if not placers:
            return
        self.placed = _cat(
            *[self.level(p, self.decayed(p, "", "placement"), d.lag[p]) for p in placers]
        )
        src = (self.G > 0) & (self.gshare < 1)
        most = self.gshare.copy()
        for p in d.by_kind["site"] + d.by_kind["chain"] + d.by_kind["city"]:
            g = self.effect(p, "", "graduate_retention")
            cidx = self.lev[p][0]
            most += np.bincount(cidx, minlength=C) * self.eff * g
        over = np.where(src & (most > 1), most - 1, 0.0)
        cs = np.nonzero(src)[0]
        ec, t = _grid(len(cs), T)
        c = cs[ec]
        leaving = b.var("leaving", (self.cn[c], t), 0.0, self.G[c] * (1 - self.gshare[c]))
        os_ = np.nonzero(over > 0)[0]
        eo, to = _grid(len(os_), T)
        co = os_[eo]
        kept = b.var("all_kept", (self.cn[co], to), 0.0, 1.0, True)
        kept_of = np.full((C, T), -1, dtype=np.int64)
        kept_of[co, to] = kept
        rows = b.row("leaving_le_rest", (self.cn[c], t), -INF, self.G[c] * (1 - self.gshare[c]))
        b.add(rows, leaving, 1.0)
        b.add(rows, kept_of[c, t], -self.G[c] * over[c])
        row_of = np.full((C, T), -1, dtype=np.int64)
        row_of[c, t] = rows
        b.add_expr(row_of, self.share_terms(self.G), 1.0)
        leaving_of = np.full((C, T), -1, dtype=np.int64)
        leaving_of[c, t] = leaving
        rows = b.row("leaving_le_none", (self.cn[co], to), -INF, self.G[co])
        b.add(rows, leaving_of[co, to], 1.0)
        b.add(rows, kept, self.G[co])
        rows = b.row("graduate_pool", (self.tt,), -INF, 0.0)
        b.add_expr(np.broadcast_to(rows, (C, T)), self.placed, 1.0)
        b.add(rows[t], leaving, -1.0)

    # --- balance ------------------------------------------------------------------------

    def balance(self) -> None:
        """Stock balance, useful talent by stock and experts, and by demand."""
        d, b, C, K, T = self.d, self.b, self.C, self.K, self.T
        c, k, t = _grid(C, K, T)
        kn = np.array(d.types, dtype=object)
        index = (self.cn[c], kn[k], t)
        keep = 1 - self.a0
        rhs = np.where(t == 0, keep[c, k] * self.s0[c, k] + self.m0[c, k], self.m0[c, k])
        rows = b.row("stock_balance", index, rhs, rhs).reshape(C, K, T)
        b.add(rows, self.stock, 1.0)
        b.add(rows[:, :, 1:], self.stock[:, :, :-1], -keep[:, :, None])
        on = self.retained >= 0
        b.add(rows[on], self.retained[on], -1.0)
        for n in range(K):
            if n in self.total:
                b.add_expr(rows[:, n, :], self.total[n], -1.0)
            if n in self.drain:
                pool, per_stock = self.drain[n]
                s0 = self.s0[:, n]
                b.add(rows[:, n, :], pool[None, :], np.where(s0 > 0, s0, 0.0)[:, None])
                b.add_expr(rows[:, n, :], per_stock, -np.where(s0 > 0, s0, 0.0))
            if kn[n] == d.graduate_type:
                b.add(rows[:, n, :], self.local, -1.0)
                b.add_expr(rows[:, n, :], self.placed, -1.0)
        rows = b.row("useful_le_available", index, -INF, 0.0).reshape(C, K, T)
        b.add(rows, self.useful, 1.0)
        b.add(rows, self.stock, -1.0)
        for n, kk in enumerate(d.types):
            for p in self.fte_programs(kk):
                b.add_expr(rows[:, n, :], self.level(p, self.decayed(p, kk, "fte"), d.lag[p]), -1.0)
        if d.base_drivers and T > 1:
            c, k, t = _grid(C, K, T - 1)
            t = t + 1
            share = self.demand_share()
            fs = d.feedback * share[c, k, t]
            upper = self.demand[c, k, t] - fs * self.base_drivers()[c, t - 1]
            rows = b.row("useful_le_demand", (self.cn[c], kn[k], t), -INF, upper)
            b.add(rows, self.useful[c, k, t], 1.0)
            for j in d.drivers:
                b.add(rows, self.useful[c, d.types.index(j), t - 1], -fs)

    # --- resources ----------------------------------------------------------------------

    def cost(self, p: str) -> _Expr:
        """Money spent on ``p`` over (c, t); city programs give county 0 (one decision)."""
        d = self.d
        kind = d.kind[p]
        cidx, ids, _ind = self.lev[p]
        T = self.T
        if kind == "amount":
            return self.level(p)
        if kind == "city":
            cidx, ids = cidx[:1], ids[:1]
        opening = d.unit_cost[p] if kind == "count" else d.fixed_cost[p]
        op = d.operating_cost[p]
        n = len(cidx)
        now = (np.repeat(cidx, T), np.tile(self.tt, n), ids.ravel(), np.full(n * T, opening + op))
        if T < 2:
            return now
        e, s = _grid(n, T - 1)
        before = (cidx[e], s + 1, ids[e, s], np.full(len(e), -opening))
        if opening == 0:
            now = (now[0], now[1], now[2], np.full(n * T, op))
            return now
        return _cat(now, before)

    def budgets(self) -> None:
        """Funding channels, the program-funded rows and the budget rows."""
        d, b, C, T = self.d, self.b, self.C, self.T
        group_no = {g: n for n, g in enumerate(d.groups)}
        gid = np.zeros(C, dtype=np.int64)
        pos = {c: n for n, c in enumerate(d.counties)}
        for g, (cs, _srcs) in d.groups.items():
            gid[[pos[c] for c in cs]] = group_no[g]
        channels: list[tuple[str, str, str]] = []
        for p in d.programs:
            if d.kind[p] == "city":
                channels += [("*", p, s) for s in funders(d, p, d.plan_sources)]
            else:
                channels += [
                    (g, p, s) for g, (_cs, srcs) in d.groups.items() for s in funders(d, p, srcs)
                ]
        fund: dict[tuple[str, str, str], np.ndarray] = {}
        for g, p, s in channels:
            fund[g, p, s] = b.var(
                "fund", (np.full(T, g, dtype=object), p, self.tt, s), 0.0, INF, size=T
            )
        for p in d.programs:
            gs = ["*"] if d.kind[p] == "city" else list(d.groups)
            ng = len(gs)
            gi, ti = _grid(ng, T)
            g_names = np.array(gs, dtype=object)
            rows = b.row("program_funded", (g_names[gi], p, ti), 0.0, 0.0).reshape(ng, T)
            for n, g in enumerate(gs):
                for s in d.sources:
                    if (g, p, s) in fund:
                        b.add(rows[n], fund[g, p, s], 1.0)
            row_of = rows[np.zeros(C, dtype=np.int64)] if d.kind[p] == "city" else rows[gid]
            b.add_expr(row_of, self.cost(p), -1.0)
        carry = d.instance.scenario.carry_over
        if carry:
            cv = {
                s: b.var("carry", (self.tt, np.full(T, s, dtype=object)), 0.0, INF)
                for s in d.sources
            }
        ti, si = _grid(T, len(d.sources))
        src = np.array(d.sources, dtype=object)
        avail = np.array(
            [d.budget.get((d.years[t], s), 0.0) for t in range(T) for s in d.sources], dtype=float
        )
        rows = b.row("budget", (ti, src[si]), avail if carry else -INF, avail)
        rows = rows.reshape(T, len(d.sources))
        for (_g, _p, s), ids in fund.items():
            b.add(rows[:, d.sources.index(s)], ids, 1.0)
        if carry:
            for n, s in enumerate(d.sources):
                b.add(rows[:, n], cv[s], 1.0)
                b.add(rows[1:, n], cv[s][:-1], -1.0)

    def placed_programs(self, attr: dict[str, float]) -> list[str]:
        d = self.d
        return [p for p in d.programs if attr[p] and d.kind[p] in ("site", "chain", "count")]

    def land_and_cadres(self) -> None:
        """Land quota (final year), cadre capacity and energy quota rows."""
        d, b, C, T = self.d, self.b, self.C, self.T
        quota = np.array([d.land_quota[c] for c in d.counties], dtype=float)
        rows = b.row("land_quota", (self.cn,), -INF, quota)
        row_of = np.full((C, T), -1, dtype=np.int64)
        row_of[:, T - 1] = rows
        for p in self.placed_programs(d.land):
            b.add_expr(row_of, self.level(p, d.land[p]))
        ci, ti = _grid(C, T)
        capacity = np.array([d.cadre_capacity[c] for c in d.counties], dtype=float)
        rows = b.row("cadre_capacity", (self.cn[ci], ti), -INF, capacity[ci]).reshape(C, T)
        for p in self.placed_programs(d.cadre):
            b.add_expr(rows, self.level(p, d.cadre[p]))
        for p in d.programs:
            add = d.effect(p, "", "cadre_capacity")
            if add > 0:
                b.add_expr(rows, self.level(p, add, d.lag[p]), -1.0)
        pos = {c: n for n, c in enumerate(d.counties)}
        cs = np.array([pos[c] for c in d.energy_quota], dtype=np.int64)
        ec, ti = _grid(len(cs), T)
        quota = np.array(list(d.energy_quota.values()), dtype=float)
        rows = b.row("energy_quota", (self.cn[cs[ec]], ti), -INF, quota[ec])
        row_of = np.full((C, T), -1, dtype=np.int64)
        row_of[cs[ec], ti] = rows
        for p in self.placed_programs(d.energy):
            b.add_expr(row_of, self.level(p, d.energy[p]))

    def level_at(self, p: str, c: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Entries ``(position in c, column)`` of ``lev[c[n], p, t[n]]`` for each n."""
        cidx, ids, _ind = self.lev[p]
        i, j = _join(c, cidx, self.C)
        return i, ids[j, t[i]]

    def caps_and_prerequisites(self) -> None:
        """Plan-wide and per-city caps, ``uses`` indicators and prerequisites."""
        d, b, C, T = self.d, self.b, self.C, self.T
        for p, cap in d.cap_total.items():
            rows = b.row("cap_total", (np.full(T, p, dtype=object), self.tt), -INF, cap)
            if d.kind[p] == "city":
                b.add(rows, self.lev[p][1][0], 1.0)
            else:
                b.add_expr(np.broadcast_to(rows, (C, T)), self.level(p))
        city_no = {city: n for n, city in enumerate(d.cities)}
        pos = {c: n for n, c in enumerate(d.counties)}
        city_of = np.zeros(C, dtype=np.int64)
        for city, cs in d.cities.items():
            city_of[[pos[c] for c in cs]] = city_no[city]
        names = np.array(list(d.cities), dtype=object)
        for p, cap in d.cap_per_city.items():
            if d.kind[p] == "city":
                continue
            ni, ti = _grid(len(names), T)
            rows = b.row("cap_per_city", (p, names[ni], ti), -INF, cap).reshape(len(names), T)
            b.add_expr(rows[city_of], self.level(p))
        on_spend = [p for p in d.requires if d.kind[d.requires[p]] == "amount"]
        ci, ti = _grid(C, T)
        indicator: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for p in on_spend:
            if d.kind[p] in ("site", "city"):
                continue
            uses = b.var("uses", (self.cn[ci], p, ti), 0.0, 1.0, True).reshape(C, T)
            indicator[p] = (np.arange(C * T), uses.ravel())
        for p in on_spend:
            if p not in indicator:
                continue
            rows = b.row("uses_bound", (self.cn[ci], p, ti), -INF, 0.0)
            i, col = self.level_at(p, ci, ti)
            b.add(rows[i], col, 1.0)
            b.add(rows, indicator[p][1], -self.level_ub[p][ci])
        for p in on_spend:
            q = d.requires[p]
            rows = b.row("prerequisite_spend", (self.cn[ci], p, ti), -INF, 0.0)
            i, col = indicator[p] if p in indicator else self.level_at(p, ci, ti)
            b.add(rows[i], col, ACTIVE_SPEND)
            i, col = self.level_at(q, ci, ti)
            b.add(rows[i], col, -1.0)
        on_levels = [p for p in d.requires if p not in on_spend]
        for p in on_levels:
            q = d.requires[p]
            if d.kind[p] == "chain":
                continue
            rows = b.row("prerequisite", (self.cn[ci], p, ti), -INF, 0.0)
            i, col = self.level_at(p, ci, ti)
            b.add(rows[i], col, 1.0)
            i, col = self.level_at(q, ci, ti)
            b.add(rows[i], col, -self.level_ub[p][ci[i]])
        for p in on_levels:
            q = d.requires[p]
            if d.kind[p] != "chain":
                continue
            cidx, ids, ind = self.lev[p]
            e, ti2 = _grid(len(cidx), T)
            rows = b.row("prerequisite_each", (self.cn[cidx[e]], ind[e], p, ti2), -INF, 0.0)
            b.add(rows, ids[e, ti2], 1.0)
            i, col = self.level_at(q, cidx[e], ti2)
            b.add(rows[i], col, -1.0)

    def floors_and_pins(self) -> None:
        """Policy floors and pinned decisions."""
        d, b = self.d, self.b
        sc = d.instance.scenario
        pos = {c: n for n, c in enumerate(d.counties)}
        for n, floor in enumerate(sc.floors):
            p = floor.program
            ts = np.array([t for t, y in enumerate(d.years) if y >= floor.by_year], dtype=np.int64)
            if d.kind[p] == "city":
                rows = b.row("policy_floor", (np.full(len(ts), n), "", ts), floor.min_units, INF)
                b.add(rows, self.lev[p][1][0, ts], 1.0)
                continue
            names = list(floor.counties) or d.counties
            cs = np.array([pos[c] for c in names], dtype=np.int64)
            ec, et = _grid(len(cs), len(ts))
            c, t = cs[ec], ts[et]
            rows = b.row("policy_floor", (np.full(len(c), n), self.cn[c], t), floor.min_units, INF)
            i, col = self.level_at(p, c, t)
            b.add(rows[i], col, 1.0)
        pins = d.instance.tables.get("pins")
        year_pos = {y: t for t, y in enumerate(d.years)}
        for n, row in enumerate([] if pins is None else pins.itertuples(index=False)):
            if int(row.year) not in year_pos:
                continue
            t = year_pos[int(row.year)]
            p, action = str(row.program), str(row.action)
            value = 0.0 if action == "forbid" else float(row.value)
            lower, upper = {
                "fix": (value, value),
                "forbid": (value, value),
                "min": (value, INF),
            }.get(action, (-INF, value))
            r = b.row("pin", (np.array([n]),), lower, upper)
            cidx, ids, ind = self.lev[p]
            if d.kind[p] == "city":
                b.add(r, ids[0, t], 1.0)
                continue
            sel = cidx == pos[str(row.county)]
            if d.kind[p] == "chain" and str(row.industry):
                sel &= ind == str(row.industry)
            b.add(np.repeat(r, int(sel.sum())), ids[sel, t], 1.0)

    # --- objectives ---------------------------------------------------------------------

    def weighted_final(self, rows: np.ndarray, cs: np.ndarray, sign: float) -> None:
        d, last = self.d, self.T - 1
        for n, k in enumerate(d.types):
            if d.weight[k]:
                self.b.add(rows, self.useful[cs, n, last], sign * d.weight[k])

    def final_demand(self) -> np.ndarray:
        d, last = self.d, self.T - 1
        out = np.zeros(self.C)
        for n, k in enumerate(d.types):
            out = out + d.weight[k] * self.demand[:, n, last]
        return out

    def equity_floor(self) -> None:
        """Every county's final-year weighted coverage at least the floor."""
        if self.min_coverage <= 0:
            return
        fd = self.final_demand()
        cs = np.nonzero(fd > 0)[0]
        rows = self.b.row("equity_floor", (self.cn[cs],), self.min_coverage * fd[cs], INF)
        self.weighted_final(rows, cs, 1.0)

    def objective_rows(self) -> np.ndarray:
        """Add the objective's own rows and columns; return the cost of every column."""
        d, b, C, T = self.d, self.b, self.C, self.T
        if self.objective == "talent_index":
            cost = np.zeros(b.n_cols)
            disc = np.asarray(d.discount, dtype=float)
            for n, k in enumerate(d.types):
                if d.weight[k]:
                    cost[self.useful[:, n, :]] = disc[None, :] * d.weight[k]
        elif self.objective == "min_cost":
            targets = d.instance.tables.get("targets")
            last = T - 1
            if targets is not None and len(targets):
                pos = {c: n for n, c in enumerate(d.counties)}
                goal = {
                    (str(c), str(k)): float(v)
                    for c, k, v in targets[["county", "talent_type", "target"]].itertuples(
                        index=False
                    )
                }
                keys = list(goal)
                cs = np.array([pos[c] for c, _k in keys], dtype=np.int64)
                ks = np.array([d.types.index(k) for _c, k in keys], dtype=np.int64)
                rows = b.row(
                    "target",
                    (
                        np.array([c for c, _k in keys], dtype=object),
                        np.array([k for _c, k in keys], dtype=object),
                    ),
                    np.array(list(goal.values())),
                    INF,
                )
                b.add(rows, self.useful[cs, ks, last], 1.0)
            else:
                share = d.instance.scenario.target_coverage
                rows = b.row("target", (self.cn,), share * self.final_demand(), INF)
                self.weighted_final(rows, np.arange(C), 1.0)
            cost = np.zeros(b.n_cols)
            for p in d.programs:
                _c, _t, col, val = self.cost(p)
                np.add.at(cost, col, val)
        else:
            mc = self.b.var("min_coverage", (), 0.0, 1.0, size=1)
            fd = self.final_demand()
            cs = np.nonzero(fd > 0)[0]
            rows = b.row("coverage_floor", (self.cn[cs],), -INF, 0.0)
            b.add(rows, np.full(len(cs), mc[0]), fd[cs])
            self.weighted_final(rows, cs, -1.0)
            cost = np.zeros(b.n_cols)
            cost[mc[0]] = 1.0
        return cost


def _join(a: np.ndarray, b: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """All pairs ``(i, j)`` with ``a[i] == b[j]`` (values in ``0..n-1``)."""
    a = np.asarray(a, dtype=np.int64)
    order = np.argsort(b, kind="stable")
    counts = np.bincount(b, minlength=n)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    per = counts[a]
    i = np.repeat(np.arange(len(a)), per)
    offsets = np.arange(int(per.sum())) - np.repeat(np.cumsum(per) - per, per)
    j = order[starts[a[i]] + offsets]
    return i, j


def build_arrays(
    data: ModelData | Instance,
    objective: str | None = None,
    min_coverage: float | None = None,
) -> ArrayModel:
    """Assemble the allocation MIP of :func:`~talentplan.model.build.build_model` as arrays.

    Parameters
    ----------
    data
        Prepared data (:func:`~talentplan.model.prepare.prepare`), or an instance to
        prepare first.
    objective
        ``talent_index``, ``min_cost`` or ``equity``; default: the scenario's.
    min_coverage
        Equity floor on every county's final-year weighted coverage; default: the
        scenario's.

    Returns
    -------
    ArrayModel
        The same columns, rows, bounds and objective as the compiled Pyomo model, up to
        their order, with the reference keys of each column and row.
    """
    start = time.perf_counter()
    d = prepare(data) if isinstance(data, Instance) else data
    sc = d.instance.scenario
    objective = check_choice("objective", objective or sc.objective, Objective)
    floor = sc.min_coverage if min_coverage is None else float(min_coverage)
    a = _Assembler(d, objective, floor)
    a.decisions()
    a.add_stays()
    a.stock_variables()
    a.retention()
    a.inflow()
    a.competition()
    a.local_cultivation()
    a.placement()
    a.balance()
    a.budgets()
    a.land_and_cadres()
    a.caps_and_prerequisites()
    a.floors_and_pins()
    a.equity_floor()
    cost = a.objective_rows()
    b = a.b
    n_rows, n_cols = b.n_rows, b.n_cols
    # One conversion (duplicates summed); rows and columns without an entry hold none,
    # so leaving them out only renumbers the row indices and drops empty column slots.
    A = sp.csc_array(
        sp.coo_array(
            (np.concatenate(b.vals), (np.concatenate(b.ri), np.concatenate(b.ci))),
            shape=(n_rows, n_cols),
        )
    )
    A.eliminate_zeros()
    used = np.zeros(n_rows, dtype=bool)
    used[A.indices] = True
    row_keep = np.nonzero(used)[0]
    new_row = np.cumsum(used) - 1
    col_keep = np.nonzero((np.diff(A.indptr) > 0) | (cost != 0))[0]
    indptr = np.concatenate([[0], A.indptr[col_keep + 1]])
    A = sp.csc_array((A.data, new_row[A.indices], indptr), shape=(len(row_keep), len(col_keep)))
    return ArrayModel(
        A=A,
        cost=cost[col_keep],
        offset=0.0,
        maximize=objective != "min_cost",
        col_lower=np.concatenate(b.lb)[col_keep],
        col_upper=np.concatenate(b.ub)[col_keep],
        integer=np.concatenate(b.intg)[col_keep],
        row_lower=np.concatenate(b.rlo)[row_keep],
        row_upper=np.concatenate(b.rup)[row_keep],
        data=d,
        objective=objective,
        build_seconds=time.perf_counter() - start,
        _col_blocks=b.cols,
        _row_blocks=b.rows,
        _col_keep=col_keep,
        _row_keep=row_keep,
    )
