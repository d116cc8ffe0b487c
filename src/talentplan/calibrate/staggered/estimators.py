"""Numerics behind :mod:`talentplan.calibrate.staggered.model`.

* Two-period, two-group difference-in-differences estimators for panel data with their
  influence functions: outcome regression (Heckman, Ichimura and Todd 1997, as in
  Sant'Anna and Zhao 2020), normalised (Hajek) inverse probability weighting (Abadie
  2005) and the doubly robust estimator of Sant'Anna and Zhao (2020) with a logit
  propensity score and a linear outcome regression for the comparison group. They
  follow ``DRDID::reg_did_panel``, ``DRDID::std_ipw_did_panel`` and
  ``DRDID::drdid_panel`` (the estimators R's ``did::att_gt`` calls), with optional
  sampling weights normalised to mean one among the units of each cell, as there.
* The influence function of an aggregation of group-time effects, including the term
  for estimated (sampling-weighted) group shares (``wif`` in R's ``did::aggte``).
* The multiplier bootstrap of R's ``did::mboot`` (Mammen or Rademacher weights, robust
  interquartile-range standard errors, sup-t critical values), drawing one multiplier
  per cluster and applying it to the cluster sums of the influence function when the
  units are clustered (Callaway and Sant'Anna 2021, Remark 10).

Influence functions are per unit and scaled so that ``sqrt(mean(psi**2) / n)`` is the
standard error; clustered, it is ``sqrt(sum_c S_c**2) / n`` with ``S_c`` the sum of the
influence function over the units of cluster ``c`` (:func:`cluster_sums`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from talentplan.calibrate.shared.validation import check_rank
from talentplan.errors import CollinearityError, EstimationWarning, NotEstimableError

__all__ = [
    "ESTIMATORS",
    "AggKind",
    "Aggregation",
    "BootWeights",
    "OverlapError",
    "TwoByTwo",
    "WidePanel",
    "aggregate_cells",
    "aggregate_if",
    "bootstrap_draws",
    "bootstrap_se",
    "cluster_sums",
    "dr_did_panel",
    "estimate_cells",
    "ipw_did_panel",
    "logit",
    "reg_did_panel",
    "se_from_sums",
    "weights_if",
]

BootWeights = Literal["mammen", "rademacher"]
"""Multiplier-bootstrap weights: Mammen's two-point or Rademacher."""
AggKind = Literal["simple", "group", "dynamic", "calendar"]
"""Aggregations of ATT(g,t), as R's ``did::aggte``."""

# The propensity score is capped below one, as in DRDID, so no weight divides by zero.
_PS_CAP = 1.0 - 1e-6
# R's did::att_gt gives up on a cell whose largest propensity score reaches this.
_PS_OVERLAP = 0.999


class OverlapError(ValueError):
    """A propensity score reached 0.999: treated units have no comparable controls."""


@dataclass(frozen=True)
class TwoByTwo:
    """One 2x2 estimate: the ATT and its influence function over the units used."""

    att: float
    inf: np.ndarray


def logit(
    x: np.ndarray,
    d: np.ndarray,
    w: np.ndarray | None = None,
    *,
    tol: float = 1e-12,
    max_iter: int = 100,
) -> np.ndarray:
    """Fit a (weighted) logit of ``d`` on ``x`` by Newton-Raphson; return the coefficients.

    Raises
    ------
    numpy.linalg.LinAlgError
        When the information matrix is singular.
    """
    w = np.ones(len(d)) if w is None else w
    beta = np.zeros(x.shape[1])
    p_bar = min(max(float(np.average(d, weights=w)), 1e-6), 1 - 1e-6)
    beta[0] = np.log(p_bar / (1 - p_bar)) if np.allclose(x[:, 0], 1.0) else 0.0
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-(x @ beta)))
        info = (x * (w * p * (1 - p))[:, None]).T @ x
        step = np.linalg.solve(info, x.T @ (w * (d - p)))
        beta = beta + step
        if float(np.max(np.abs(step))) <= tol * (1.0 + float(np.max(np.abs(beta)))):
            break
    return beta


def _ols(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    root = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(x * root[:, None], y * root, rcond=None)
    return np.asarray(coef)


def _unit(d: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    return np.ones(len(d)) if w is None else np.asarray(w, dtype=float)


def _pscore(x: np.ndarray, d: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fit the propensity score; return the capped scores and the logit's linear representation."""
    n = len(d)
    beta = logit(x, d, w)
    p_raw = 1.0 / (1.0 + np.exp(-(x @ beta)))
    info = (x * (w * p_raw * (1 - p_raw))[:, None]).T @ x
    hessian = n * np.linalg.inv(info)
    if x.shape[1] > 1 and p_raw.max() >= _PS_OVERLAP:
        raise OverlapError(f"largest propensity score {p_raw.max():.4f}")
    score = (w * (d - p_raw))[:, None] * x
    return np.minimum(p_raw, _PS_CAP), score @ hessian


def _ols_rep(
    x: np.ndarray, dy: np.ndarray, d: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted OLS of ``dy`` on ``x`` among comparison units: fits and linear representation."""
    n = len(d)
    ctrl = d == 0
    coef = _ols(x[ctrl], dy[ctrl], w[ctrl])
    fitted = x @ coef
    wc = w * (1 - d)
    xpx = ((x * wc[:, None]).T @ x) / n
    rep = ((wc * (dy - fitted))[:, None] * x) @ np.linalg.inv(xpx)
    return fitted, rep


def reg_did_panel(
    dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray | None = None
) -> TwoByTwo:
    """Estimate the outcome-regression DiD: treated change minus the comparison prediction.

    ``w`` are sampling weights of the cell's units, normalised to mean one (None: all one).
    """
    w = _unit(d, w)
    fitted, rep = _ols_rep(x, dy, d, w)
    w_t = w * d
    m_t = w_t.mean()
    eta_t = np.mean(w_t * dy) / m_t
    eta_c = np.mean(w_t * fitted) / m_t
    inf_treat = (w_t * dy - w_t * eta_t) / m_t
    inf_cont = (w_t * fitted - w_t * eta_c + rep @ np.mean(w_t[:, None] * x, axis=0)) / m_t
    return TwoByTwo(float(eta_t - eta_c), inf_treat - inf_cont)


def ipw_did_panel(
    dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray | None = None
) -> TwoByTwo:
    """Estimate the normalised (Hajek) inverse-probability-weighted DiD with a logit score.

    ``w`` are sampling weights of the cell's units, normalised to mean one (None: all one).
    """
    w = _unit(d, w)
    ps, rep_ps = _pscore(x, d, w)
    w_t = w * d
    w_c = w * ps * (1 - d) / (1 - ps)
    m_t, m_c = w_t.mean(), w_c.mean()
    eta_t = np.mean(w_t * dy) / m_t
    eta_c = np.mean(w_c * dy) / m_c
    inf_treat = (w_t * dy - w_t * eta_t) / m_t
    m2 = np.mean((w_c * (dy - eta_c))[:, None] * x, axis=0)
    inf_cont = (w_c * dy - w_c * eta_c + rep_ps @ m2) / m_c
    return TwoByTwo(float(eta_t - eta_c), inf_treat - inf_cont)


def dr_did_panel(
    dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray | None = None
) -> TwoByTwo:
    """Estimate the locally efficient doubly robust DiD (Sant'Anna and Zhao 2020).

    ``w`` are sampling weights of the cell's units, normalised to mean one (None: all one).
    """
    w = _unit(d, w)
    ps, rep_ps = _pscore(x, d, w)
    fitted, rep_ols = _ols_rep(x, dy, d, w)
    w_t = w * d
    w_c = w * ps * (1 - d) / (1 - ps)
    resid = dy - fitted
    m_t, m_c = w_t.mean(), w_c.mean()
    eta_t = np.mean(w_t * resid) / m_t
    eta_c = np.mean(w_c * resid) / m_c
    m1 = np.mean(w_t[:, None] * x, axis=0)
    inf_treat = (w_t * resid - w_t * eta_t - rep_ols @ m1) / m_t
    m2 = np.mean((w_c * (resid - eta_c))[:, None] * x, axis=0)
    m3 = np.mean(w_c[:, None] * x, axis=0)
    inf_cont = (w_c * resid - w_c * eta_c + rep_ps @ m2 - rep_ols @ m3) / m_c
    return TwoByTwo(float(eta_t - eta_c), inf_treat - inf_cont)


ESTIMATORS: dict[
    str, Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None], TwoByTwo]
] = {
    "reg": reg_did_panel,
    "ipw": ipw_did_panel,
    "dr": dr_did_panel,
}


def weights_if(
    groups: np.ndarray,
    pg: np.ndarray,
    unit_group: np.ndarray,
    unit_weights: np.ndarray | None = None,
) -> np.ndarray:
    """Compute the influence function of the weights ``pg / sum(pg)`` from group shares.

    Parameters
    ----------
    groups
        The group of each aggregated effect (length k).
    pg
        The estimated (sampling-weighted) share of units in each of those groups
        (length k).
    unit_group
        The group of every unit (length n).
    unit_weights
        Sampling weights of the units, mean one (None: all one).

    Returns
    -------
    numpy.ndarray
        An (n, k) matrix; times the effects it gives the weights' contribution to the
        aggregate's influence function.
    """
    member = (unit_group[:, None] == groups[None, :]).astype(float)
    if unit_weights is not None:
        member = member * unit_weights[:, None]
    indicator = member - pg[None, :]
    total = pg.sum()
    return indicator / total - np.outer(indicator.sum(axis=1), pg / total**2)


def cluster_sums(psi: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    """Sum the rows of the influence functions within clusters.

    Parameters
    ----------
    psi
        Per-unit influence functions, (n,) or (n, k).
    cluster
        Integer cluster codes ``0..G-1`` of the units (length n), or None for clusters
        of one unit each (then ``psi`` is returned as it is).

    Returns
    -------
    numpy.ndarray
        (G, k) cluster sums (or (G,) for a vector ``psi``).
    """
    if cluster is None:
        return psi
    n_clusters = int(cluster.max()) + 1 if cluster.size else 0
    if psi.ndim == 1:
        return np.bincount(cluster, weights=psi, minlength=n_clusters)
    out = np.zeros((n_clusters, psi.shape[1]))
    np.add.at(out, cluster, psi)
    return out


def se_from_sums(sums: np.ndarray, n: int) -> np.ndarray:
    """Return the (cluster-robust) standard errors ``sqrt(sum_c S_c**2) / n``.

    With clusters of one unit each this is ``sqrt(mean(psi**2) / n)``, the i.i.d. form;
    as R's ``did``, no small-sample factor is applied.
    """
    return np.asarray(np.sqrt(np.sum(sums**2, axis=0)) / n)


def aggregate_if(
    psi: np.ndarray,
    weights: np.ndarray,
    att: np.ndarray | None = None,
    wif: np.ndarray | None = None,
) -> np.ndarray:
    """Compute the influence function of ``sum(weights * att)``, with the weights' own term."""
    out = psi @ weights
    if wif is not None and att is not None:
        out = out + wif @ att
    return np.asarray(out)


def bootstrap_draws(n: int, n_boot: int, seed: int, kind: BootWeights) -> np.ndarray:
    """Draw multiplier weights, one row per bootstrap draw (mean zero, variance one)."""
    rng = np.random.default_rng(seed)
    if kind == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=(n_boot, n))
    kappa = (np.sqrt(5.0) + 1.0) / 2.0
    p_low = kappa / np.sqrt(5.0)
    low = rng.random((n_boot, n)) < p_low
    return np.where(low, 1.0 - kappa, kappa)


def bootstrap_se(
    psi: np.ndarray, draws: np.ndarray, alpha: float, n: int | None = None
) -> tuple[np.ndarray, float]:
    """Compute multiplier-bootstrap standard errors and the sup-t critical value.

    As R's ``did::mboot``: the bootstrap distribution of ``sqrt(G) * mean(v * S)``
    over the G rows of ``psi`` (units, or cluster sums of the influence function, with
    one multiplier ``v`` per row) is summarised by its interquartile range over that of
    a standard normal and scaled to ``sigma * sqrt(G) / n``; the critical value is the
    ``1 - alpha`` quantile of the largest absolute t-statistic across columns.
    Degenerate columns (zero influence function) get NaN.

    Parameters
    ----------
    psi
        (G, k) influence functions of the units, or their cluster sums.
    draws
        (n_boot, G) multipliers.
    alpha
        Level of the uniform band.
    n
        Number of units (default G: no clustering).

    Returns
    -------
    (numpy.ndarray, float)
        The standard errors (length k) and the critical value for a uniform band.
    """
    psi = np.atleast_2d(psi.T).T
    rows = psi.shape[0]
    n = rows if n is None else n
    bres = (draws @ psi) / np.sqrt(rows)
    ok = np.isfinite(bres).all(axis=0) & ((bres**2).sum(axis=0) > np.sqrt(np.finfo(float).eps) * 10)
    q75 = np.quantile(bres[:, ok], 0.75, axis=0, method="inverted_cdf")
    q25 = np.quantile(bres[:, ok], 0.25, axis=0, method="inverted_cdf")
    sigma = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    sigma = np.where(sigma <= np.sqrt(np.finfo(float).eps) * 10, np.nan, sigma)
    se = np.full(psi.shape[1], np.nan)
    se[ok] = sigma * np.sqrt(rows) / n
    if not ok.any():
        return se, float("nan")
    with np.errstate(invalid="ignore", divide="ignore"):
        tmax = np.nanmax(np.abs(bres[:, ok] / sigma), axis=1)
    tmax = tmax[np.isfinite(tmax)]
    crit = float(np.quantile(tmax, 1 - alpha, method="inverted_cdf")) if tmax.size else np.nan
    return se, crit


@dataclass(frozen=True)
class WidePanel:
    """A balanced panel in wide form: outcome (n, T), covariates (n, T, k), unit groups (n).

    ``weights`` are the units' sampling weights, mean one (all one without weights).
    """

    entities: pd.Index
    periods: np.ndarray
    y: np.ndarray
    x: np.ndarray
    unit_group: np.ndarray  # 0 = never treated
    covariates: tuple[str, ...] = ()  # names of the covariates, the last axis of x
    weights: np.ndarray | None = None


def _collinear_reason(x: np.ndarray, names: tuple[str, ...]) -> str:
    """Say which columns of a cell's comparison-group design are collinear."""
    frame = pd.DataFrame(x, columns=["const", *names])
    try:
        check_rank(frame, context="the comparison units' covariates")
    except CollinearityError as err:
        return f"the covariates are collinear: {str(err).rstrip('.')}"
    return (
        "the covariates are nearly collinear among the comparison units (the regression "
        "on them is numerically singular)"
    )


def _cell(
    method: str,
    dy: np.ndarray,
    d: np.ndarray,
    x: np.ndarray,
    where: str,
    names: tuple[str, ...] = (),
    w: np.ndarray | None = None,
) -> TwoByTwo | None:
    """Estimate one 2x2 cell, or return None (with a warning, as R's NA) when it cannot."""
    ctrl = d == 0
    w = np.ones(len(d)) if w is None else w
    if d.sum() == 0 or d.sum() == len(d):
        reason = "no treated or no comparison units"
    elif not (w[~ctrl] > 0).any() or not (w[ctrl] > 0).any():
        reason = "the treated or the comparison units all have zero weight"
    elif method in ("dr", "reg") and int((ctrl & (w > 0)).sum()) < x.shape[1]:
        reason = (
            f"too few comparison units ({int((ctrl & (w > 0)).sum())}) to regress on the "
            f"{x.shape[1] - 1} covariate(s) and a constant"
        )
    elif method in ("dr", "reg") and (
        np.linalg.cond((x[ctrl] * w[ctrl, None]).T @ x[ctrl]) > 1 / np.finfo(float).eps
    ):
        if len(names) != x.shape[1] - 1:
            names = tuple(f"covariate {j}" for j in range(1, x.shape[1]))
        reason = _collinear_reason(x[ctrl], names)
    else:
        try:
            return ESTIMATORS[method](dy, d, x, w / w.mean())
        except OverlapError as err:
            reason = f"overlap fails ({err})"
        except np.linalg.LinAlgError:
            reason = "the propensity-score fit is singular"
    warnings.warn(f"ATT for {where} set to NaN: {reason}.", EstimationWarning, stacklevel=4)
    return None


def estimate_cells(
    panel: WidePanel, control: str, method: str, anticipation: int, base_period: str
) -> tuple[pd.DataFrame, np.ndarray]:
    """Estimate every ATT(g,t) as R's ``did::compute.att_gt`` does for balanced panels.

    Post-treatment cells compare period ``t`` with ``g - anticipation - 1``; with a
    varying base period, pre-treatment cells compare ``t`` with the period before it.
    The comparison group is the never treated, or also the units not yet treated by
    ``max(t, base) + anticipation``. Each cell's influence function is rescaled by
    ``n / n_cell`` so that all cells share the n entities. Sampling weights
    (``panel.weights``) are normalised to mean one among each cell's units, as in R.

    Returns
    -------
    (pandas.DataFrame, numpy.ndarray)
        Columns group, time, event_time, post, att; and the (n, cells) influence functions.
    """
    periods, ug = panel.periods, panel.unit_group
    n, n_t = panel.y.shape
    rows: list[tuple[float, float, float]] = []
    cols: list[np.ndarray] = []
    for g in np.sort(np.unique(ug[ug > 0])):
        base_post = int(np.flatnonzero(periods + anticipation < g)[-1])
        for ti in range(1 if base_period == "varying" else 0, n_t):
            tt = periods[ti]
            bi = base_post if (g <= tt or base_period == "universal") else ti - 1
            psi = np.zeros(n)
            if bi == ti:  # the universal base period itself: zero by construction
                rows.append((g, tt, 0.0))
                cols.append(psi)
                continue
            treated = ug == g
            ctrl = ug == 0
            if control == "not_yet_treated":
                ctrl = ctrl | ((ug > periods[max(ti, bi)] + anticipation) & (ug != g))
            use = treated | ctrl
            x = np.column_stack([np.ones(int(use.sum())), panel.x[use, min(ti, bi), :]])
            dy = panel.y[use, ti] - panel.y[use, bi]
            est = _cell(
                method,
                dy,
                treated[use].astype(float),
                x,
                f"group {g:g}, period {tt:g}",
                panel.covariates,
                None if panel.weights is None else panel.weights[use],
            )
            if est is None:
                rows.append((g, tt, np.nan))
                cols.append(np.full(n, np.nan))
                continue
            psi[use] = est.inf * n / use.sum()
            rows.append((g, tt, est.att))
            cols.append(psi)
    table = pd.DataFrame(rows, columns=["group", "time", "att"])
    table.insert(2, "event_time", table["time"] - table["group"])
    table.insert(3, "post", table["group"] <= table["time"])
    return table, (np.column_stack(cols) if cols else np.zeros((n, 0)))


@dataclass(frozen=True)
class Aggregation:
    """An aggregated effect: overall value and IF, and per-label values and IFs."""

    att: float
    inf: np.ndarray  # (n,)
    labels: np.ndarray  # (k,)
    table_att: np.ndarray  # (k,)
    table_inf: np.ndarray  # (n, k)


def _weighted(
    idx: np.ndarray,
    att: np.ndarray,
    psi: np.ndarray,
    grp: np.ndarray,
    pg: np.ndarray,
    unit_group: np.ndarray,
    unit_weights: np.ndarray | None = None,
) -> tuple[float, np.ndarray]:
    w = pg[idx] / pg[idx].sum()
    wif = weights_if(grp[idx], pg[idx], unit_group, unit_weights)
    return float(w @ att[idx]), aggregate_if(psi[:, idx], w, att[idx], wif)


def _cells_text(grp: np.ndarray, tim: np.ndarray, idx: np.ndarray, limit: int = 10) -> str:
    shown = ", ".join(f"(group {grp[i]:g}, time {tim[i]:g})" for i in idx[:limit])
    return shown + (f" and {idx.size - limit} more" if idx.size > limit else "")


def aggregate_cells(
    table: pd.DataFrame,
    psi: np.ndarray,
    unit_group: np.ndarray,
    kind: AggKind,
    *,
    min_e: float = -np.inf,
    max_e: float = np.inf,
    balance_e: int | None = None,
    unit_weights: np.ndarray | None = None,
) -> Aggregation:
    """Aggregate ATT(g,t) with weights proportional to group size, as R's ``did::aggte``.

    The influence functions include the term for the estimated group shares (``wif``)
    in the simple, dynamic and calendar aggregations and in the across-group average.
    With sampling weights (``unit_weights``, mean one) the group shares are weighted.

    Cells whose ATT is NaN (not estimable) are never dropped silently: which cells enter
    each effect is decided on the full design, the weights are then recomputed over the
    estimable ones, and an :class:`~talentplan.errors.EstimationWarning` names the cells
    left out. An effect of the table none of whose cells is estimable is NaN and is left
    out of the overall average.

    Raises
    ------
    NotEstimableError
        When no cell entering the overall effect is estimable.
    ValueError
        When the event-time window leaves no event time.
    """
    grp = table["group"].to_numpy()
    tim = table["time"].to_numpy()
    att = table["att"].to_numpy(dtype=float)
    ok = np.isfinite(att)
    n = psi.shape[0]
    glist = np.sort(np.unique(grp))
    uw = np.ones(n) if unit_weights is None else unit_weights
    pgg = np.array([np.mean(uw * (unit_group == g)) for g in glist])
    pg = pgg[np.searchsorted(glist, grp)]
    post = grp <= tim
    wanted = np.zeros(len(att), dtype=bool)

    def weighted(sel: np.ndarray) -> tuple[float, np.ndarray]:
        wanted[sel] = True
        idx = np.flatnonzero(sel & ok)
        if idx.size == 0:
            return np.nan, np.full(n, np.nan)
        return _weighted(idx, att, psi, grp, pg, unit_group, unit_weights)

    if kind == "simple":
        value, inf = weighted(post)
        _report_dropped(kind, grp, tim, wanted, ok)
        return Aggregation(value, inf, np.array(["overall"]), np.array([value]), inf[:, None])
    if kind == "group":
        labels = glist
        vals = np.full(len(glist), np.nan)
        infs = np.full((n, len(glist)), np.nan)
        for j, g in enumerate(glist):
            sel = (grp == g) & post
            wanted[sel] = True
            idx = np.flatnonzero(sel & ok)
            if idx.size:
                vals[j] = att[idx].mean()
                infs[:, j] = psi[:, idx].mean(axis=1)
        est = np.isfinite(vals)
        _report_dropped(kind, grp, tim, wanted, ok)
        w = pgg[est] / pgg[est].sum()
        wif = weights_if(glist[est], pgg[est], unit_group, unit_weights)
        inf = aggregate_if(infs[:, est], w, vals[est], wif)
        return Aggregation(float(w @ vals[est]), inf, labels, vals, infs)
    if kind == "dynamic":
        event = tim - grp
        include = np.ones(len(att), dtype=bool)
        eseq = np.unique(event)
        if balance_e is not None:
            include = tim.max() - grp >= balance_e
            eseq = np.unique(event[include])
            eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - tim.max() + tim.min())]
        eseq = eseq[(eseq >= min_e) & (eseq <= max_e)]
        if eseq.size == 0:
            raise ValueError("no event time is left in the requested window")
        parts = [weighted((event == e) & include) for e in eseq]
        labels = eseq
        keep = labels >= 0
    else:  # calendar
        labels = np.unique(tim[tim >= grp.min()])
        parts = [weighted((tim == t) & post) for t in labels]
        keep = np.ones(len(labels), dtype=bool)
    vals = np.array([p[0] for p in parts])
    infs = np.column_stack([p[1] for p in parts])
    _report_dropped(kind, grp, tim, wanted, ok, overall=bool(keep.any()))
    if not keep.any():
        return Aggregation(np.nan, np.full(n, np.nan), labels, vals, infs)
    keep &= np.isfinite(vals)
    w = np.full(int(keep.sum()), 1.0 / keep.sum())
    return Aggregation(float(w @ vals[keep]), infs[:, keep] @ w, labels, vals, infs)


def _report_dropped(
    kind: str,
    grp: np.ndarray,
    tim: np.ndarray,
    wanted: np.ndarray,
    ok: np.ndarray,
    *,
    overall: bool = True,
) -> None:
    """Warn about the non-estimable cells an aggregation leaves out; raise if all are."""
    dropped = np.flatnonzero(wanted & ~ok)
    if dropped.size == 0:
        return
    used = int((wanted & ok).sum())
    if used == 0 and overall:
        raise NotEstimableError(
            f"None of the {dropped.size} group-time cells of the {kind} aggregation could "
            f"be estimated (their ATT is NaN): {_cells_text(grp, tim, dropped)}. The fit's "
            "EstimationWarnings say why (for example collinear covariates, too few "
            "comparison units or no overlap); fix that before aggregating."
        )
    warnings.warn(
        f"{dropped.size} group-time cell(s) of the {kind} aggregation could not be "
        f"estimated (ATT is NaN) and are left out: {_cells_text(grp, tim, dropped)}. The "
        f"weights were recomputed over the {used} estimable cell(s), so they differ from "
        "those of the full design.",
        EstimationWarning,
        stacklevel=4,
    )
