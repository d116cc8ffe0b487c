"""Results of the static panel estimators: read-only views of linearmodels results.

:class:`PanelResults` wraps a :class:`~talentplan.calibrate.panel.model.PanelRegression` fit
and reports linearmodels' own standard errors, t statistics, p-values and intervals;
:class:`PanelIVResults` wraps a :class:`~talentplan.calibrate.panel.model.PanelIV` fit and
derives its inference (Student-t) from a covariance rescaled for absorbed effects.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from types import MappingProxyType
from typing import Any, Literal

import pandas as pd

from talentplan.calibrate.shared.results import EstimationResults, check_level
from talentplan.calibrate.shared.validation import PanelInfo, Transform

__all__ = ["ESTIMATORS", "Estimator", "PanelIVResults", "PanelResults"]

Estimator = Literal["pooled", "fe", "te", "twfe", "re", "between", "fd"]
"""Static panel estimators of :class:`~talentplan.calibrate.panel.model.PanelRegression`."""

#: Short estimator name -> (label, transformation of the design).
ESTIMATORS: Mapping[Estimator, tuple[str, Transform]] = MappingProxyType(
    {
        "pooled": ("Pooled OLS", "none"),
        "fe": ("Within (entity effects)", "entity"),
        "te": ("Within (time effects)", "time"),
        "twfe": ("Within (entity and time effects)", "twoway"),
        "re": ("Random effects (Swamy-Arora)", "none"),
        "between": ("Between", "between"),
        "fd": ("First difference", "fd"),
    }
)


class _WrappedResults(EstimationResults):
    """What the two linearmodels wrappers share: the result, estimator, covariance, sample."""

    _res: Any
    _estimator: str
    _cov_type: str
    _info: PanelInfo

    @property
    def model_result(self) -> Any:
        """The wrapped linearmodels results object (for IV, fitted on the transformed data)."""
        return self._res

    @property
    def estimator(self) -> str:
        """Short estimator name (``"fe"``, ``"re"``, ..., or ``"2sls"``, ``"gmm"``)."""
        return self._estimator

    @property
    def cov_type(self) -> str:
        """The covariance estimator requested."""
        return self._cov_type

    @property
    def info(self) -> PanelInfo:
        """Shape of the estimation sample."""
        return self._info

    @property
    def nobs(self) -> int:
        """Observations used (after first differencing, for ``fd``)."""
        return int(self._res.nobs)


class PanelResults(_WrappedResults):
    """Results of :class:`PanelRegression`: a read-only view of a linearmodels result.

    Attributes
    ----------
    model_result
        The linearmodels results object itself (for anything not exposed here).
    estimator
        The short estimator name (``"fe"``, ``"re"``, ...).
    cov_type
        The covariance requested.
    info
        Shape of the panel used (entities, periods, balance).
    n_dropped
        Rows dropped because of missing values.
    """

    def __init__(
        self,
        model_result: Any,
        *,
        estimator: Estimator,
        dependent: str,
        cov_type: str,
        cov_options: dict[str, Any],
        info: PanelInfo,
        n_dropped: int,
        debiased: bool = True,
        bandwidth_used: float | None = None,
    ) -> None:
        self._res = model_result
        self._estimator: Estimator = estimator
        self._bandwidth_used = None if bandwidth_used is None else float(bandwidth_used)
        self._dependent = dependent
        self._cov_type = cov_type
        self._cov_options = dict(cov_options)
        self._info = info
        self._n_dropped = n_dropped
        self._debiased = bool(debiased)
        self.title = f"{ESTIMATORS[estimator][0]} estimation of {dependent}"

    @property
    def name(self) -> str:
        """Long estimator name, used as a column label by :func:`compare`."""
        return ESTIMATORS[self._estimator][0]

    @property
    def fixed_effects(self) -> dict[str, bool]:
        """Entity and time effects removed (first differences remove the entity's)."""
        transform = ESTIMATORS[self._estimator][1]
        return {
            "Entity": transform in ("entity", "twoway", "fd"),
            "Time": transform in ("time", "twoway"),
        }

    @property
    def dependent(self) -> str:
        """The dependent variable."""
        return self._dependent

    @property
    def cov_options(self) -> dict[str, Any]:
        """Options of the covariance estimator (clusters, bandwidth, kernel)."""
        return dict(self._cov_options)

    @property
    def n_dropped(self) -> int:
        """Rows dropped because of missing values."""
        return self._n_dropped

    @property
    def debiased(self) -> bool:
        """Whether linearmodels' small-sample correction was applied."""
        return self._debiased

    @property
    def bandwidth_used(self) -> float | None:
        """The Driscoll-Kraay bandwidth passed to linearmodels; None for other covariances.

        The one given to :meth:`~talentplan.calibrate.panel.model.PanelRegression.fit`,
        or else the rule of thumb of
        :func:`~talentplan.calibrate.panel.model.driscoll_kraay_bandwidth`.
        """
        return self._bandwidth_used

    @property
    def provenance_options(self) -> dict[str, Any]:
        """Estimator and covariance options to record in calibration provenance."""
        out: dict[str, Any] = {
            "estimator": self._estimator,
            "cov_type": self._cov_type,
            **{k: list(v) if isinstance(v, tuple) else v for k, v in self._cov_options.items()},
            "debiased": self._debiased,
        }
        if self._cov_type == "driscoll-kraay":
            out["bandwidth_used"] = self.bandwidth_used
        return out

    @property
    def params(self) -> pd.Series:
        """Point estimates."""
        return self._res.params.copy()

    @property
    def std_errors(self) -> pd.Series:
        """Standard errors as linearmodels reports them."""
        return self._res.std_errors.copy()

    @property
    def cov(self) -> pd.DataFrame:
        """Covariance of the estimates."""
        return self._res.cov.copy()

    @property
    def tstats(self) -> pd.Series:
        """Estimates divided by their standard errors, as linearmodels reports them."""
        return self._res.tstats.copy()

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values."""
        return self._res.pvalues.copy()

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Return linearmodels' confidence intervals (columns ``lower``, ``upper``)."""
        check_level(level)
        return self._res.conf_int(level).copy()

    @property
    def df_resid(self) -> int | None:
        """Residual degrees of freedom."""
        return int(self._res.df_resid)

    @property
    def rsquared(self) -> float:
        """The R-squared linearmodels reports for this estimator."""
        return float(self._res.rsquared)

    @property
    def resids(self) -> pd.Series:
        """Residuals (idiosyncratic, for the effects estimators)."""
        return self._res.resids.copy()

    @cached_property
    def _variance_decomposition(self) -> pd.Series | None:
        vd = getattr(self._res, "variance_decomposition", None)
        return None if vd is None else vd.copy()

    @property
    def variance_decomposition(self) -> pd.Series | None:
        """Variance of the effects and of the idiosyncratic error (random effects only).

        A new copy on every access; None for the other estimators.
        """
        vd = self._variance_decomposition
        return None if vd is None else vd.copy()

    @property
    def cov_description(self) -> str:
        """The covariance estimator in words (type, clusters, kernel, bandwidth)."""
        label = self._cov_type
        if "cluster" in self._cov_options:
            label += " by " + " and ".join(self._cov_options["cluster"])
        if "kernel" in self._cov_options:
            bw = "automatic" if self._bandwidth_used is None else f"{self._bandwidth_used:g}"
            if self._bandwidth_used is not None and "bandwidth" not in self._cov_options:
                bw += ", rule of thumb"
            label += f" ({self._cov_options['kernel']} kernel, bandwidth {bw})"
        return label

    def _header(self) -> list[tuple[str, str]]:
        head = [
            ("Estimator", ESTIMATORS[self._estimator][0]),
            ("Dependent variable", self._dependent),
            ("Covariance", self.cov_description),
            ("Observations", str(self.nobs)),
            ("Panel", self._info.describe()),
            ("Rows dropped (missing)", str(self._n_dropped)),
            ("R-squared", f"{self.rsquared:.4f}"),
        ]
        vd = self.variance_decomposition
        if vd is not None:
            head.append(
                ("Effects / idiosyncratic variance", f"{vd.iloc[0]:.6g} / {vd.iloc[1]:.6g}")
            )
        return head


class PanelIVResults(_WrappedResults):
    """Results of :class:`PanelIV`, wrapping a linearmodels IV result.

    With absorbed effects the linearmodels covariance (computed on demeaned data) is
    rescaled for the degrees of freedom the effects use, as a dummy-variable IV
    regression would; with clustered errors, effects nested in the clusters are not
    counted (see :class:`~talentplan.calibrate.panel.model.PanelIV`).
    """

    def __init__(
        self,
        model_result: Any,
        *,
        estimator: str,
        dependent: str,
        cov_type: str,
        scale: float,
        df_resid: int,
        info: PanelInfo,
        n_dropped: int,
        effects: str,
    ) -> None:
        self._res = model_result
        self._estimator = estimator
        self._dependent = dependent
        self._cov_type = cov_type
        self._scale = scale
        self._df = df_resid
        self._info = info
        self._n_dropped = n_dropped
        self._effects = effects
        self.title = f"Panel IV ({estimator.upper()}) estimation of {dependent}"

    @property
    def name(self) -> str:
        """Estimator label for :func:`compare`."""
        return f"Panel IV {self._estimator.upper()}"

    @property
    def fixed_effects(self) -> dict[str, bool]:
        """Entity and time effects absorbed."""
        e = self._effects
        return {"Entity": "entity" in e, "Time": "time" in e}

    @property
    def params(self) -> pd.Series:
        """Point estimates."""
        return self._res.params.rename("parameter")

    @property
    def cov(self) -> pd.DataFrame:
        """Covariance, corrected for the degrees of freedom of absorbed effects."""
        return self._res.cov * self._scale

    @property
    def df_resid(self) -> int | None:
        """Residual degrees of freedom net of absorbed effects."""
        return self._df

    @property
    def scale(self) -> float:
        """Factor applied to linearmodels' covariance for the absorbed effects."""
        return self._scale

    @property
    def provenance_options(self) -> dict[str, Any]:
        """Estimator and covariance options to record in calibration provenance."""
        return {
            "estimator": self._estimator,
            "cov_type": self._cov_type,
            "effects": self._effects,
            "debiased": True,
            "dof_scale": self._scale,
            "df_resid": self._df,
        }

    @property
    def first_stage(self) -> Any:
        """First-stage diagnostics from linearmodels (partial R-squared, F statistics)."""
        return self._res.first_stage

    def _header(self) -> list[tuple[str, str]]:
        return [
            ("Estimator", self._estimator.upper()),
            ("Dependent variable", self._dependent),
            ("Effects absorbed", self._effects),
            ("Covariance", self._cov_type),
            ("Observations", str(self.nobs)),
            ("Panel", self._info.describe()),
            ("Rows dropped (missing)", str(self._n_dropped)),
        ]
