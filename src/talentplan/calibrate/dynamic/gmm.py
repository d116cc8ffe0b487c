"""Matrix algebra behind :mod:`talentplan.calibrate.dynamic.model`.

From a stacked system of transformed equations and instruments
(:class:`~talentplan.calibrate.dynamic.instruments.StackedSystem`) :class:`GMMCore`
computes the one- and two-step GMM estimates, their covariances (Arellano-Bond
robust, Windmeijer-corrected, unadjusted) and the statistics of the Sargan, Hansen
and Arellano-Bond autocorrelation tests. Nothing here validates input; the estimator
does that once, at the boundary.

The instruments ``Z`` are sparse (an uncollapsed GMM-style column is zero outside one
period), and every product with them is formed sparse or summed by entity: ``Z'HZ``,
``Z'X``, the entity sums ``Z_i'u_i`` and the Windmeijer correction's derivative
``sum_i Z_i'X_i c_i + (Z_i'u_i)(g'Z_i'X_i)``, which never builds the per-entity
``Z_i'X_i`` blocks. Memory grows with the rows times the non-zeros per row, not with the
rows times the number of instruments.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import scipy.sparse as sp

from talentplan.calibrate.dynamic.instruments import StackedSystem, h_matrix, z_h_z
from talentplan.errors import CollinearityError

__all__ = ["GMMCore", "by_entity", "lagged_diff_resid", "weighted_entity_sums"]


def by_entity(values: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """Sum rows of ``values`` within each entity."""
    out = np.zeros((n, *values.shape[1:]))
    np.add.at(out, group, values)
    return out


def weighted_entity_sums(
    z: sp.csr_matrix, weights: np.ndarray, group: np.ndarray, n: int
) -> np.ndarray:
    """Return the (n, columns) dense matrix of ``sum over rows of entity i of w_r z_r``."""
    rows = len(group)
    pick = sp.csr_matrix((weights, (group, np.arange(rows))), shape=(n, rows))
    return np.asarray((pick @ z).toarray())


class GMMCore:
    """Matrix algebra shared by the estimates, covariances and tests."""

    def __init__(self, s: StackedSystem, h: int = 3) -> None:
        self.s = s
        self.h_kind = h
        z = sp.csr_matrix(s.z)
        self.z = z
        self.zx = np.asarray(z.T @ s.x)
        self.zy = np.asarray(z.T @ s.y)
        self.zhz = z_h_z(z, s, h)
        self.w1 = np.linalg.pinv(self.zhz, hermitian=True)
        self.beta1 = self._solve(self.w1)
        self.u1 = s.y - s.x @ self.beta1
        self.zu1 = weighted_entity_sums(z, self.u1, s.group, s.n_entities)
        self.omega1 = self.zu1.T @ self.zu1
        d = s.is_diff
        self.n_diff = int(d.sum())
        k = s.x.shape[1]
        # sigma^2 of the idiosyncratic error from the differenced one-step residuals
        self.ssr1_diff = float(self.u1[d] @ self.u1[d])
        self.sigma2 = self.ssr1_diff / (2.0 * max(self.n_diff - k, 1))

    @cached_property
    def h(self) -> sp.csr_matrix:
        """The one-step weighting structure ``H`` (built only for the unadjusted AR test)."""
        return h_matrix(self.s, self.h_kind)

    @cached_property
    def w2(self) -> np.ndarray:
        """Two-step weight matrix, the (generalized) inverse of the one-step moment covariance."""
        return np.asarray(np.linalg.pinv(self.omega1, hermitian=True))

    @cached_property
    def beta2(self) -> np.ndarray:
        """Two-step estimates."""
        return self._solve(self.w2)

    @cached_property
    def u2(self) -> np.ndarray:
        """Two-step residuals."""
        return np.asarray(self.s.y - self.s.x @ self.beta2)

    def _solve(self, w: np.ndarray) -> np.ndarray:
        a = self.zx.T @ w @ self.zx
        try:
            beta = np.linalg.solve(a, self.zx.T @ w @ self.zy)
        except np.linalg.LinAlgError:
            beta = None
        if beta is None or not np.all(np.isfinite(beta)):
            raise _collinear(self.s.regressors)
        return np.asarray(beta)

    # --- estimates and covariances ------------------------------------------------------
    def beta(self, steps: int) -> np.ndarray:
        """Return the one-step (``steps=1``) or two-step estimates."""
        return self.beta1 if steps == 1 else self.beta2

    def resid(self, steps: int) -> np.ndarray:
        """Return the residuals of the one-step or two-step estimates."""
        return self.u1 if steps == 1 else self.u2

    def cov(self, steps: int, robust: bool) -> np.ndarray:
        """Return the covariance of the one- or two-step estimates, robust or unadjusted."""
        if steps == 1:
            return self.v1_robust if robust else self.v1_unadjusted
        return self.v2_windmeijer if robust else self.v2_unadjusted

    @cached_property
    def bread1(self) -> np.ndarray:
        """Inverse of ``X'Z W1 Z'X``, the bread of the one-step covariances."""
        return _inv(self.zx.T @ self.w1 @ self.zx, self.s.regressors)

    @cached_property
    def v1_robust(self) -> np.ndarray:
        """Arellano-Bond robust covariance of the one-step estimates."""
        m = self.zx.T @ self.w1
        return self.bread1 @ m @ self.omega1 @ m.T @ self.bread1

    @cached_property
    def v1_unadjusted(self) -> np.ndarray:
        """Conventional one-step covariance (homoskedastic idiosyncratic errors)."""
        return self.sigma2 * self.bread1

    @cached_property
    def v2_unadjusted(self) -> np.ndarray:
        """Conventional two-step covariance, ``(X'Z W2 Z'X)^-1``."""
        return _inv(self.zx.T @ self.w2 @ self.zx, self.s.regressors)

    @cached_property
    def v2_windmeijer(self) -> np.ndarray:
        """Windmeijer (2005) finite-sample corrected two-step covariance."""
        s, z = self.s, self.z
        v2 = self.v2_unadjusted
        g = self.w2 @ (z.T @ self.u2)  # W2 Z'u2
        c = self.zu1 @ g  # (N,) entity i's Z_i'u1_i times g
        # sum_i Z_i'X_i c_i + (Z_i'u1_i)(g'Z_i'X_i), without forming the Z_i'X_i
        zxg = by_entity((z @ g)[:, None] * s.x, s.group, s.n_entities)  # (N, k): g'Z_i'X_i
        dom_g = np.asarray(z.T @ (s.x * c[s.group][:, None])) + self.zu1.T @ zxg
        d = v2 @ self.zx.T @ self.w2 @ dom_g
        return v2 + d @ v2 + v2 @ d.T + d @ self.v1_robust @ d.T

    # --- specification test statistics --------------------------------------------------
    def sargan(self, dof_correction: bool = False) -> float:
        """Compute the Sargan statistic from the one-step residuals (homoskedastic errors).

        ``(Z'u)' (Z'HZ)^-1 (Z'u) / sigma^2`` with ``sigma^2 = u_d'u_d / (2 n_d)`` from the
        ``n_d`` differenced one-step residuals (``xtabond2``), or ``/ (2 (n_d - k))``
        with ``dof_correction`` (Stata's ``estat sargan`` after ``xtabond``).
        """
        zu = self.z.T @ self.u1
        sigma2 = self.sigma2 if dof_correction else self.ssr1_diff / (2.0 * max(self.n_diff, 1))
        return float(zu @ self.w1 @ zu) / sigma2

    def hansen(self) -> float:
        """Compute the Hansen J statistic from the two-step residuals."""
        zu = self.z.T @ self.u2
        return float(zu @ self.w2 @ zu)

    def ar(self, order: int, steps: int, robust: bool) -> float:
        """Compute the Arellano-Bond z statistic of autocorrelation ``order`` in differences.

        Uses the residuals and covariance of the estimates selected by ``steps`` and
        ``robust``; NaN when the variance of the statistic is not positive.
        """
        s = self.s
        u = self.resid(steps)
        w = lagged_diff_resid(s, u, order)
        num = float(w @ u)
        xw = s.x.T @ w
        if steps == 1:
            a, bread = self.w1, self.bread1
        else:
            a, bread = self.w2, self.v2_unadjusted
        if not robust and steps == 1:
            hw = self.h @ w
            ww = self.sigma2 * float(w @ hw)
            zw = self.sigma2 * (self.z.T @ hw)
        else:
            wu = by_entity(w * u, s.group, s.n_entities)
            zu = weighted_entity_sums(self.z, u, s.group, s.n_entities)
            ww = float(wu @ wu)
            zw = zu.T @ wu
        cov = self.cov(steps, robust)
        var = ww - 2.0 * float(xw @ bread @ self.zx.T @ a @ zw) + float(xw @ cov @ xw)
        return num / np.sqrt(var) if var > 0 else np.nan


def _inv(a: np.ndarray, names: list[str]) -> np.ndarray:
    """Invert ``X'Z W Z'X``, or raise :class:`CollinearityError` when it is singular."""
    try:
        out = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        out = None
    if out is None or not np.all(np.isfinite(out)):
        raise _collinear(names)
    return np.asarray(out)


def _collinear(names: list[str]) -> CollinearityError:
    return CollinearityError(
        "The instrumented regressors are collinear in this sample (X'Z W Z'X is "
        f"singular): the instruments do not identify all of {', '.join(names)}. Drop a "
        "regressor that is constant or duplicates another after differencing, or use "
        "more entities or periods."
    )


def lagged_diff_resid(s: StackedSystem, u: np.ndarray, order: int) -> np.ndarray:
    """Lag the differenced residuals ``order`` periods within entity, zero where absent.

    Only differenced rows carry a value; level rows are zero.
    """
    w = np.zeros_like(u)
    idx = np.flatnonzero(s.is_diff)
    if idx.size == 0:
        return w
    # positions on the panel's time grid: one lag is one time step
    tpos = (s.period - s.period.min()) // s.step
    span = int(tpos.max()) + order + 2
    key = s.group[idx].astype(np.int64) * span + tpos[idx]
    sorter = np.argsort(key)
    target = key - order
    pos = np.clip(np.searchsorted(key[sorter], target), 0, len(key) - 1)
    hit = (key[sorter][pos] == target) & (tpos[idx] >= order)
    w[idx[hit]] = u[idx[sorter[pos[hit]]]]
    return w
