"""Specification tests for static panels: Hausman (1978) and Mundlak (1978).

Both ask whether the entity effects are correlated with the regressors, i.e. whether
random effects are consistent or fixed effects are needed.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from talentplan._display import DisplayMixin
from talentplan.calibrate.panel.model import MIN_CLUSTERS, BasicCovType, PanelRegression
from talentplan.calibrate.panel.results import PanelResults
from talentplan.calibrate.shared.validation import prepare_panel, set_panel_index, transform_design
from talentplan.data.parameters import result_estimates
from talentplan.errors import CalibrationError, SpecificationWarning

__all__ = ["HausmanResult", "MundlakResult", "WaldTest", "hausman", "mundlak"]

_INTERCEPTS = {"const", "Intercept", "intercept", "(Intercept)", "_cons"}


@dataclass(frozen=True)
class WaldTest(DisplayMixin):
    """A chi-squared test of restrictions.

    Attributes
    ----------
    statistic
        The chi-squared statistic.
    df
        Degrees of freedom (the rank of the covariance used).
    pvalue
        Upper-tail probability of the statistic under the null.
    names
        The coefficients compared or restricted.
    null
        The null hypothesis in words.
    note
        Anything the reader must know (for example a generalized inverse was used).
    """

    statistic: float
    df: int
    names: tuple[str, ...]
    null: str
    note: str = ""

    title = "Wald test"

    @property
    def pvalue(self) -> float:
        """Upper-tail probability of the statistic under the null (chi-squared, ``df``)."""
        return float(stats.chi2.sf(self.statistic, self.df))

    def _summary_tables(self) -> tuple[str, list[tuple[str, str]], list[pd.DataFrame]]:
        head = [
            ("Null hypothesis", self.null),
            ("Statistic (chi-squared)", f"{self.statistic:.6g}"),
            ("Degrees of freedom", str(self.df)),
            ("P-value", f"{self.pvalue:.6g}"),
            ("Coefficients", ", ".join(self.names)),
        ]
        if self.note:
            head.append(("Note", self.note))
        return self.title, head, []


@dataclass(frozen=True)
class HausmanResult(WaldTest):
    """Result of :func:`hausman`; ``generalized_inverse`` tells whether one was needed."""

    generalized_inverse: bool = False
    title = "Hausman test: fixed versus random effects"


@dataclass(frozen=True)
class MundlakResult(WaldTest):
    """Result of :func:`mundlak`; ``fit`` is the augmented random-effects regression."""

    fit: PanelResults | None = None
    title = "Mundlak test: entity means in a random-effects regression"


def _params_cov(result: Any, which: str) -> tuple[pd.Series, pd.DataFrame]:
    if getattr(result, "params", None) is None or getattr(result, "cov", None) is None:
        raise CalibrationError(
            f"The {which} result ({type(result).__name__}) has no params/cov; pass a "
            "PanelResults or a linearmodels results object."
        )
    return result_estimates(result)


def hausman(
    fe_result: Any, re_result: Any, *, names: Sequence[str] | None = None, rtol: float = 1e-10
) -> HausmanResult:
    """Test random against fixed effects (Hausman 1978).

    ``H = (b_FE - b_RE)' (V_FE - V_RE)^{-1} (b_FE - b_RE)`` over the coefficients the
    two models share (intercepts excluded, so the time-varying regressors), chi-squared
    with as many degrees of freedom as the rank of ``V_FE - V_RE``.

    Parameters
    ----------
    fe_result, re_result
        Fixed- and random-effects results: :class:`PanelResults` or linearmodels results
        (anything with ``params`` and ``cov``).
    names
        Coefficients to compare; default all shared non-intercept coefficients.
    rtol
        Eigenvalues of ``V_FE - V_RE`` below ``rtol`` times the largest count as zero.

    Returns
    -------
    HausmanResult
        Statistic, degrees of freedom and p-value.

    Warns
    -----
    SpecificationWarning
        When ``V_FE - V_RE`` is not positive definite (common in finite samples, or with
        robust covariances). The Moore-Penrose generalized inverse is then used on the
        positive part and the degrees of freedom equal its rank; ``generalized_inverse``
        is True and ``note`` says so.
    """
    b1, v1 = _params_cov(fe_result, "fixed-effects")
    b0, v0 = _params_cov(re_result, "random-effects")
    if names is None:
        common = [n for n in b1.index if n in b0.index and n not in _INTERCEPTS]
    else:
        common = [str(n) for n in names]
        absent = [n for n in common if n not in b1.index or n not in b0.index]
        if absent:
            raise CalibrationError(f"Coefficient(s) {absent} are not in both results.")
    if not common:
        raise CalibrationError("The two results share no coefficient to compare.")
    diff = (b1[common] - b0[common]).to_numpy()
    vdiff = (v1.loc[common, common] - v0.loc[common, common]).to_numpy()
    vdiff = (vdiff + vdiff.T) / 2
    eigval, eigvec = np.linalg.eigh(vdiff)
    top = float(np.abs(eigval).max()) if eigval.size else 0.0
    if top == 0.0:
        raise CalibrationError("V_FE - V_RE is zero; the test is undefined.")
    positive = eigval > rtol * top
    generalized = not bool(positive.all())
    note = ""
    if generalized:
        note = (
            "V_FE - V_RE is not positive definite (eigenvalues "
            f"{', '.join(f'{e:.3g}' for e in eigval)}); a generalized inverse of its "
            f"positive part was used and df is its rank ({int(positive.sum())})."
        )
        warnings.warn(note, SpecificationWarning, stacklevel=2)
        if not positive.any():
            raise CalibrationError(
                "V_FE - V_RE has no positive eigenvalue; the Hausman test cannot be "
                "computed (use mundlak() with robust errors instead)."
            )
    proj = eigvec[:, positive].T @ diff
    stat = float(np.sum(proj**2 / eigval[positive]))
    df = int(positive.sum())
    return HausmanResult(
        statistic=stat,
        df=df,
        names=tuple(common),
        null="random effects are consistent (effects uncorrelated with the regressors)",
        note=note,
        generalized_inverse=generalized,
    )


def mundlak(
    data: pd.DataFrame,
    dependent: str,
    exog: Sequence[str],
    *,
    entity: str | None = None,
    time: str | None = None,
    cov_type: BasicCovType = "clustered",
    cluster: Sequence[str] = ("entity",),
    min_clusters: int = MIN_CLUSTERS,
) -> MundlakResult:
    """Test random effects by adding the entity means of the regressors (Mundlak 1978).

    Fits ``y_it = a + x_it b + xbar_i g + u_i + e_it`` by random effects (Swamy-Arora)
    and tests ``g = 0`` with a Wald test using the requested covariance. Unlike the
    classical Hausman test it stays valid with heteroskedastic or serially correlated
    errors when ``cov_type`` is ``"robust"`` or ``"clustered"``. Time-invariant
    regressors get no mean term (it would duplicate them).

    Parameters
    ----------
    data, dependent, exog, entity, time
        As for :class:`~talentplan.calibrate.panel.model.PanelRegression`.
    cov_type, cluster, min_clusters
        Covariance of the augmented regression (default clustered by entity).

    Returns
    -------
    MundlakResult
        The Wald statistic, df, p-value, and the augmented fit.
    """
    exog = [exog] if isinstance(exog, str) else list(exog)
    frame, _, _ = prepare_panel(
        data,
        [dependent, *exog],
        entity=entity,
        time=time,
        context="Mundlak test",
        warn_unbalanced=False,
    )
    within = transform_design(frame[exog], "entity")
    varying = [
        c
        for c in exog
        if float(np.abs(within[c].to_numpy()).max())
        > 1e-12 * max(float(np.abs(frame[c].to_numpy()).max()), 1.0)
    ]
    if not varying:
        raise CalibrationError("No regressor varies within entity; the Mundlak test is undefined.")
    means = frame[varying].groupby(level=0).transform("mean")
    means.columns = [f"mean({c})" for c in varying]
    taken = set(frame.columns) & set(means.columns)
    if taken:
        raise CalibrationError(f"Column name(s) {sorted(taken)} are reserved for the means.")
    augmented = set_panel_index(pd.concat([frame, means], axis=1))
    model = PanelRegression(augmented, dependent, [*exog, *means.columns], estimator="re")
    fit = model.fit(cov_type=cov_type, cluster=cluster, min_clusters=min_clusters)
    names = list(means.columns)
    g = fit.params[names].to_numpy()
    v = fit.cov.loc[names, names].to_numpy()
    stat = float(g @ np.linalg.solve(v, g))
    df = len(names)
    return MundlakResult(
        statistic=stat,
        df=df,
        names=tuple(names),
        null="the entity means have zero coefficients (random effects are consistent)",
        note=f"covariance: {fit.cov_description}",
        fit=fit,
    )
