"""A small base class for estimation results, and a side-by-side comparison table.

:class:`EstimationResults` derives standard errors, t statistics, p-values and
confidence intervals from ``params``, ``cov`` and ``df_resid``; subclasses supply those
three (and may override any derived statistic, as the wrappers of linearmodels results
do to report linearmodels' own numbers). :func:`compare` lays any number of results side
by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, Protocol

# scipy.stats is imported where p-values and critical values are computed: importing it
# takes seconds on a cold start, and constructing an estimator should not pay for it.
import numpy as np
import pandas as pd

from talentplan._display import DisplayMixin
from talentplan._options import check_choice
from talentplan.errors import CalibrationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["EstimationResults", "HasEstimates", "Layout", "check_level", "compare"]

Layout = Literal["text", "columns"]
"""Layouts of :func:`compare`: text cells or numeric columns."""


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
                "tstat": self.tstats,
                "pvalue": self.pvalues,
                "lower 95%": ci["lower"],
                "upper 95%": ci["upper"],
            }
        )

    def _header(self) -> list[tuple[str, str]]:
        return [("Observations", str(self.nobs))]

    def _summary_tables(self) -> tuple[str, list[tuple[str, str]], list[pd.DataFrame]]:
        return self.title, self._header(), [self._table.round(6)]

    @property
    def summary(self) -> str:
        """The results as text."""
        return str(self)

    def plot_coefficients(self, level: float = 0.95, *, ax: Axes | None = None) -> Axes:
        """Draw each estimate with its :meth:`conf_int` at ``level``; return the Axes."""
        from talentplan import _plot

        bounds = self.conf_int(level)
        label = f"estimate with {level:.0%} interval"
        return _plot.interval_plot(
            self.params, bounds["lower"], bounds["upper"], label=label, ax=ax
        )


def _name_of(result: Any, i: int) -> str:
    for attr in ("name", "estimator", "model_name"):
        value = getattr(result, attr, None)
        if isinstance(value, str) and value:
            return value
    model = getattr(result, "model", None)
    if model is not None:
        return type(model).__name__
    return f"model {i + 1}"


def compare(
    *results: HasEstimates,
    names: Sequence[str] | None = None,
    layout: Layout = "text",
    digits: int = 4,
) -> pd.DataFrame:
    """Lay estimates of several models side by side.

    Parameters
    ----------
    *results
        Any results exposing ``params``, ``std_errors`` and ``nobs`` (this package's
        results or linearmodels' own).
    names
        Column labels, one per result; default from each result's estimator name.
    layout
        ``"text"``: one column per model, cells ``"estimate (std. error)"`` and a final
        ``nobs`` row. ``"columns"``: numeric, with column MultiIndex (model,
        ``estimate``/``std_error``) and a ``nobs`` row (nobs in the estimate column).
    digits
        Decimals in the text layout.

    Returns
    -------
    pandas.DataFrame
        Rows are the union of parameter names in order of first appearance, then nobs.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> a = SimpleNamespace(params=pd.Series({"x": 1.0}), std_errors=pd.Series({"x": 0.5}),
    ...                     nobs=10)
    >>> compare(a, names=["A"])
                        A
    x     1.0000 (0.5000)
    nobs               10
    """
    if not results:
        raise CalibrationError("compare() needs at least one result.")
    for i, r in enumerate(results):
        for attr in ("params", "std_errors", "nobs"):
            if not hasattr(r, attr):
                raise CalibrationError(
                    f"Result {i + 1} ({type(r).__name__}) has no '{attr}'; compare() needs "
                    "params, std_errors and nobs."
                )
    if names is None:
        labels = [_name_of(r, i) for i, r in enumerate(results)]
        seen: dict[str, int] = {}
        for i, lab in enumerate(labels):
            seen[lab] = seen.get(lab, 0) + 1
            if seen[lab] > 1 or labels.count(lab) > 1:
                labels[i] = f"{lab} ({i + 1})"
    else:
        labels = list(names)
        if len(labels) != len(results):
            raise CalibrationError(f"{len(labels)} names given for {len(results)} results.")
        if len(set(labels)) != len(labels):
            raise CalibrationError(f"names must be distinct, got {labels}.")
    check_choice("layout", layout, Layout, error=CalibrationError)
    order: list[str] = []
    for r in results:
        order += [str(p) for p in r.params.index if str(p) not in order]
    if layout == "columns":
        cols = {}
        for lab, r in zip(labels, results, strict=True):
            est = pd.Series(np.asarray(r.params, dtype=float), index=r.params.index.map(str))
            se = pd.Series(np.asarray(r.std_errors, dtype=float), index=r.std_errors.index.map(str))
            cols[(lab, "estimate")] = pd.concat(
                [est.reindex(order), pd.Series({"nobs": float(r.nobs)})]
            )
            cols[(lab, "std_error")] = pd.concat([se.reindex(order), pd.Series({"nobs": np.nan})])
        out = pd.DataFrame(cols)
        out.columns = pd.MultiIndex.from_tuples(list(cols), names=["model", "statistic"])
        return out
    text: dict[str, list[str]] = {}
    for lab, r in zip(labels, results, strict=True):
        est_map = dict(
            zip(map(str, r.params.index), np.asarray(r.params, dtype=float), strict=True)
        )
        se_map = dict(
            zip(map(str, r.std_errors.index), np.asarray(r.std_errors, dtype=float), strict=True)
        )
        cells = [
            f"{est_map[p]:.{digits}f} ({se_map[p]:.{digits}f})" if p in est_map else ""
            for p in order
        ]
        text[lab] = [*cells, str(int(r.nobs))]
    return pd.DataFrame(text, index=[*order, "nobs"])
