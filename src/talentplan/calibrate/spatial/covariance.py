"""Conley (1999) spatial HAC errors for panel fixed-effects regressions.

No maintained Python package offers Conley errors for panel fixed-effects regressions,
so :func:`conley_cov` implements the estimator directly (uniform or Bartlett distance
kernel, plus optional Bartlett serial correlation within a unit), and
:class:`ConleyResults` pairs a fixed-effects fit of
:class:`~talentplan.calibrate.spatial.model.SpilloverPanel` with that covariance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from talentplan._options import check_choice
from talentplan.calibrate.panel.results import PanelResults
from talentplan.calibrate.shared.results import EstimationResults
from talentplan.errors import CalibrationError

__all__ = ["ConleyKernel", "ConleyResults", "conley_cov"]

ConleyKernel = Literal["uniform", "bartlett"]
"""Distance kernels of the Conley covariance: uniform up to the cutoff, or Bartlett."""


def conley_cov(
    x: np.ndarray,
    resid: np.ndarray,
    entity: np.ndarray,
    time: np.ndarray,
    distances: np.ndarray,
    *,
    cutoff: float,
    kernel: ConleyKernel = "bartlett",
    serial_lags: int = 0,
) -> np.ndarray:
    """Compute the Conley (1999) spatial HAC covariance of least-squares estimates in a panel.

    ``V = (X'X)^{-1} M (X'X)^{-1}`` with ::

        M = sum_t sum_ij K(d_ij) s_it s_jt'
            + sum_i sum_{l=1..L} (1 - l/(L+1)) (s_it s_i,t-l' + s_i,t-l s_it')

    and scores ``s_it = x_it e_it``: cross-sectional correlation within each period
    decaying with distance, and (optionally) serial correlation within each unit. No
    small-sample scaling is applied.

    Parameters
    ----------
    x, resid
        Regressors (after any fixed-effects transformation) and residuals.
    entity, time
        Integer codes of each row's unit and period.
    distances
        Distances between units, indexed by the entity codes.
    cutoff
        Distance beyond which scores are uncorrelated (the kernel is zero).
    kernel
        ``"uniform"`` (weight 1 up to the cutoff) or ``"bartlett"`` (``1 - d/cutoff``).
    serial_lags
        Lags of within-unit serial correlation (Bartlett weights); 0 for none.

    Returns
    -------
    numpy.ndarray
        The ``k x k`` covariance, symmetrised.
    """
    check_choice("kernel", kernel, ConleyKernel, error=CalibrationError)
    if cutoff < 0:
        raise CalibrationError(f"cutoff must be non-negative, got {cutoff}.")
    if serial_lags < 0 or int(serial_lags) != serial_lags:
        raise CalibrationError(f"serial_lags must be a non-negative integer, got {serial_lags}.")
    scores = x * resid[:, None]
    k = x.shape[1]
    meat = np.zeros((k, k))
    if kernel == "uniform":
        kmat = (distances <= cutoff).astype(float)
    else:
        kmat = (
            np.clip(1.0 - distances / cutoff, 0.0, None) if cutoff > 0 else np.zeros_like(distances)
        )
    np.fill_diagonal(kmat, 1.0)
    for t in np.unique(time):
        rows = np.flatnonzero(time == t)
        s = scores[rows]
        e = entity[rows]
        meat += s.T @ kmat[np.ix_(e, e)] @ s
    if serial_lags:
        order = np.lexsort((time, entity))
        ent_s, tim_s, sc_s = entity[order], time[order], scores[order]
        for lag in range(1, int(serial_lags) + 1):
            weight = 1.0 - lag / (serial_lags + 1.0)
            same = ent_s[lag:] == ent_s[:-lag]
            gap = tim_s[lag:] - tim_s[:-lag]
            # pair rows exactly `lag` periods apart within a unit (works when unbalanced
            # only where periods are consecutive; gaps are skipped)
            ok = same & (gap == lag)
            a, b = sc_s[lag:][ok], sc_s[:-lag][ok]
            cross = a.T @ b
            meat += weight * (cross + cross.T)
    bread = np.linalg.inv(x.T @ x)
    v = bread @ meat @ bread
    return (v + v.T) / 2


class ConleyResults(EstimationResults):
    """Two-way fixed-effects estimates with Conley spatial HAC covariance.

    The point estimates are linearmodels' (``fit`` holds the full linearmodels-based
    result); only the covariance is computed here.
    """

    title = "Spillover panel (two-way fixed effects), Conley spatial HAC errors"

    def __init__(self, fit: PanelResults, cov: np.ndarray, options: Mapping[str, Any]) -> None:
        self._fit = fit
        self._cov = cov
        self._options = dict(options)

    @property
    def fit(self) -> PanelResults:
        """The fixed-effects fit whose covariance was replaced."""
        return self._fit

    @property
    def name(self) -> str:
        """Label for :func:`compare`."""
        return "TWFE, Conley errors"

    @property
    def fixed_effects(self) -> dict[str, bool]:
        """Entity and time effects (the spillover panel is two-way fixed effects)."""
        return {"Entity": True, "Time": True}

    @property
    def cov_type(self) -> str:
        """Always ``"conley"``."""
        return "conley"

    @property
    def cov_options(self) -> dict[str, Any]:
        """Cutoff, kernel and serial lags."""
        return dict(self._options)

    @property
    def estimator(self) -> str:
        """The fixed-effects estimator used."""
        return self._fit.estimator

    @property
    def params(self) -> pd.Series:
        """Point estimates."""
        return self._fit.params

    @property
    def cov(self) -> pd.DataFrame:
        """Conley covariance."""
        names = self._fit.params.index
        return pd.DataFrame(self._cov.copy(), index=names, columns=names)

    @property
    def nobs(self) -> int:
        """Observations used."""
        return self._fit.nobs

    def _header(self) -> list[tuple[str, str]]:
        o = self._options
        return [
            ("Dependent variable", self._fit.dependent),
            (
                "Covariance",
                f"Conley: {o['kernel']} kernel, cutoff {o['cutoff']}, "
                f"serial lags {o['serial_lags']}",
            ),
            ("Observations", str(self.nobs)),
            ("Panel", self._fit.info.describe()),
        ]
