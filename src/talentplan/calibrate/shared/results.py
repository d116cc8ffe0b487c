"""A small base class for estimation results.

:class:`EstimationResults` derives standard errors, t statistics, p-values and
confidence intervals from ``params``, ``cov`` and ``df_resid``; subclasses supply those
three (and may override any derived statistic, as the wrappers of linearmodels results
do to report linearmodels' own numbers). Its :meth:`~EstimationResults.tidy` frame and
summary table use the column vocabulary of :mod:`talentplan.calibrate.shared.tables`
(``estimate``, ``std_error``, ``statistic``, ``p_value``, ``ci_lower``, ``ci_upper``),
where :func:`compare` lays any number of results side by side.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Protocol

# scipy.stats is imported where p-values and critical values are computed: importing it
# takes seconds on a cold start, and constructing an estimator should not pay for it.
import numpy as np
import pandas as pd

from talentplan._display import DisplayMixin
from talentplan.calibrate.shared.tables import Comparison, Summary, compare, tidy_frame
from talentplan.errors import CalibrationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["Comparison", "EstimationResults", "HasEstimates", "Summary", "check_level", "compare"]


def check_level(level: float) -> None:
    """Raise :class:`CalibrationError` unless the coverage ``level`` is in (0, 1)."""
    if not 0.0 < level < 1.0:
        raise CalibrationError(f"level must be strictly between 0 and 1, got {level}.")


class HasEstimates(Protocol):
    """Anything with ``params``, ``std_errors`` and ``nobs`` (ours or linearmodels')."""

    @property
    def params(self) -> pd.Series:
        """Point estimates, indexed by parameter name."""
        ...

    @property
    def std_errors(self) -> pd.Series:
        """Standard errors, indexed like :attr:`params`."""
        ...

    @property
    def nobs(self) -> int:
        """Number of observations used."""
        ...


class EstimationResults(DisplayMixin):
    """Base class of the calibration results: point estimates with their covariance.

    Subclasses implement :attr:`params`, :attr:`cov` and :attr:`nobs`, and may set
    :attr:`df_resid` to use Student-t rather than normal inference. Results are
    immutable: a different covariance is a new fit, never an in-place change.
    """

    #: Title printed above the summary.
    title: str = "Estimation results"

    @property
    def params(self) -> pd.Series:
        """Point estimates, indexed by parameter name."""
        raise NotImplementedError

    @property
    def cov(self) -> pd.DataFrame:
        """Covariance of the estimates."""
        raise NotImplementedError

    @property
    def nobs(self) -> int:
        """Number of observations used."""
        raise NotImplementedError

    @property
    def df_resid(self) -> int | None:
        """Residual degrees of freedom for t inference; None means normal inference."""
        return None

    @property
    def std_errors(self) -> pd.Series:
        """Standard errors: square roots of the covariance's diagonal."""
        return pd.Series(
            np.sqrt(np.diag(self.cov.to_numpy())), index=self.params.index, name="std_error"
        )

    @property
    def tstats(self) -> pd.Series:
        """Estimates divided by their standard errors."""
        return (self.params / self.std_errors).rename("tstat")

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values of zero coefficients."""
        from scipy import stats

        t = np.abs(self.tstats.to_numpy())
        df = self.df_resid
        p = 2 * (stats.t.sf(t, df) if df is not None else stats.norm.sf(t))
        return pd.Series(p, index=self.params.index, name="pvalue")

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Return confidence intervals with columns ``lower`` and ``upper``.

        Parameters
        ----------
        level
            Coverage, strictly between 0 and 1.
        """
        from scipy import stats

        check_level(level)
        q = 0.5 + level / 2
        df = self.df_resid
        crit = stats.t.ppf(q, df) if df is not None else stats.norm.ppf(q)
        se = self.std_errors
        return pd.DataFrame({"lower": self.params - crit * se, "upper": self.params + crit * se})

    @cached_property
    def _table(self) -> pd.DataFrame:
        ci = self.conf_int()
        return pd.DataFrame(
            {
                "estimate": self.params,
                "std_error": self.std_errors,
                "statistic": self.tstats,
                "p_value": self.pvalues,
                "ci_lower": ci["lower"],
                "ci_upper": ci["upper"],
            }
        )

    def _header(self) -> list[tuple[str, str]]:
        return [("Observations", str(self.nobs))]

    def _summary_tables(self) -> tuple[str, list[tuple[str, str]], list[pd.DataFrame]]:
        return self.title, self._header(), [self._table.round(6)]

    @property
    def summary(self) -> Summary:
        """The summary: prints as text, with ``as_text()``, ``as_html()``, ``as_latex()``."""
        title, header, tables = self._summary_tables()
        return Summary(title, tuple(header), tuple(tables))

    def plot_coefficients(self, level: float = 0.95, *, ax: Axes | None = None) -> Axes:
        """Draw each estimate with its :meth:`conf_int` at ``level``; return the Axes."""
        from talentplan import _plot

        bounds = self.conf_int(level)
        label = f"estimate with {level:.0%} interval"
        return _plot.interval_plot(
            self.params, bounds["lower"], bounds["upper"], label=label, ax=ax
        )

    @property
    def fixed_effects(self) -> dict[str, bool]:
        """Which fixed effects the estimator removes, ``{"Entity": ..., "Time": ...}``.

        Empty when the estimator has no such notion; :func:`compare` prints the rows.
        """
        return {}

    def tidy(self, level: float = 0.95) -> pd.DataFrame:
        """Return one row per coefficient in the shared column vocabulary.

        Columns ``term``, ``estimate``, ``std_error``, ``statistic``, ``p_value``,
        ``ci_lower`` and ``ci_upper`` (the interval at coverage ``level``).
        """
        return tidy_frame(self, level)
