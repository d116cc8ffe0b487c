"""Results of :class:`~talentplan.calibrate.staggered.model.StaggeredDiD`.

:class:`StaggeredDiDResults` holds every ATT(g,t) with its influence functions
(inference from :class:`~talentplan.calibrate.shared.results.EstimationResults`, normal), the
Wald pre-trend test (:class:`PreTrendTest`) and the aggregations of R ``did``'s
``aggte`` (:class:`AggregatedEffects`), bootstrapped again when the fit was.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from talentplan._display import DisplayMixin
from talentplan._options import check_choice
from talentplan.calibrate.shared.results import EstimationResults
from talentplan.calibrate.shared.tables import Summary
from talentplan.calibrate.staggered.estimators import (
    AggKind,
    BootWeights,
    aggregate_cells,
    bootstrap_draws,
    bootstrap_se,
    cluster_sums,
    se_from_sums,
)
from talentplan.errors import CalibrationError, EstimationWarning, NotEstimableError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["AggregatedEffects", "PreTrendTest", "StaggeredDiDResults"]

#: Standard errors at or below this are numerically zero and reported as NaN.
_TINY = np.sqrt(np.finfo(float).eps) * 10


@dataclass(frozen=True)
class PreTrendTest:
    """Wald test that every pre-treatment ATT(g,t) is zero (joint influence-function covariance).

    Attributes
    ----------
    stat, df, pvalue
        Chi-squared statistic, degrees of freedom (number of pre-treatment cells) and
        p-value. NaN when there is no pre-treatment cell or their covariance is singular.
    reason
        Why the statistic is NaN (empty when it is computed).
    """

    stat: float
    df: int
    pvalue: float
    reason: str = ""

    def describe(self) -> str:
        """Return the statistic and p-value, or why there is none."""
        if not np.isfinite(self.stat):
            return f"not computed: {self.reason or 'no statistic'}"
        return f"chi2({self.df}) = {self.stat:.4f}, p = {self.pvalue:.5f}"

    def __str__(self) -> str:
        """Show the statistic, degrees of freedom and p-value (or the reason) on one line."""
        if not np.isfinite(self.stat):
            return f"Pre-trend Wald test: {self.describe()}"
        return (
            f"Pre-trend Wald test: chi2({self.df}) = {self.stat:.4f}, p-value = {self.pvalue:.5f}"
        )


def _frozen(a: np.ndarray) -> np.ndarray:
    out = np.array(a, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True)
class AggregatedEffects(DisplayMixin):
    """An aggregation of ATT(g,t) (R ``did::aggte``), immutable.

    Attributes
    ----------
    kind
        ``"simple"``, ``"group"``, ``"dynamic"`` or ``"calendar"``.
    att, se
        The overall effect and its standard error.
    table
        Per group, event time or period: ``att``, ``se`` and the confidence interval
        (a uniform band when fitted with ``bootstrap=True, uniform_band=True``). For
        ``"simple"`` one row, the overall effect.
    influence, table_influence
        Per-entity influence functions of ``att`` and of the table's effects.
    clustervar
        The variable the standard errors are clustered on besides the entity, or None.
    """

    kind: str
    att: float
    se: float
    _table: pd.DataFrame
    _influence: np.ndarray = field(repr=False)
    _table_influence: np.ndarray = field(repr=False)
    alpha: float = 0.05
    critical_value: float = float(stats.norm.ppf(0.975))
    bootstrap: bool = False
    clustervar: str | None = None
    _cluster: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        """Keep private, read-only copies of the table and the influence functions."""
        # changing what a caller passed or got back changes nothing here
        object.__setattr__(self, "_table", self._table.copy())
        object.__setattr__(self, "_influence", _frozen(self._influence))
        object.__setattr__(self, "_table_influence", _frozen(self._table_influence))
        if self._cluster is not None:
            object.__setattr__(self, "_cluster", _frozen(self._cluster))

    @property
    def table(self) -> pd.DataFrame:
        """Per group, event time or period: ``att``, ``se``, interval (a copy)."""
        return self._table.copy()

    @property
    def influence(self) -> np.ndarray:
        """Per-entity influence function of the overall effect (a copy)."""
        return self._influence.copy()

    @property
    def table_influence(self) -> np.ndarray:
        """Per-entity influence functions of the table's effects (a copy)."""
        return self._table_influence.copy()

    @property
    def tstat(self) -> float:
        """t-statistic of the overall effect."""
        return self.att / self.se

    @property
    def pvalue(self) -> float:
        """Two-sided normal p-value of the overall effect."""
        return float(2 * stats.norm.sf(abs(self.tstat)))

    def conf_int(self, level: float = 0.95) -> tuple[float, float]:
        """Return the normal confidence interval of the overall effect."""
        z = float(stats.norm.ppf(0.5 + level / 2))
        return self.att - z * self.se, self.att + z * self.se

    @property
    def params(self) -> pd.Series:
        """The table's effects."""
        return self._table["att"].rename("params").copy()

    @property
    def std_errors(self) -> pd.Series:
        """The table's standard errors."""
        return self._table["se"].rename("std_error").copy()

    @property
    def cov(self) -> pd.DataFrame:
        """Influence-function covariance of the table's effects (clustered as the fit)."""
        psi = self._table_influence
        n = psi.shape[0]
        sums = cluster_sums(psi, self._cluster)
        idx = self._table.index
        return pd.DataFrame(sums.T @ sums / n**2, index=idx, columns=idx)

    @property
    def nobs(self) -> int:
        """Number of entities."""
        return int(self._influence.shape[0])

    def _summary_tables(self) -> tuple[str, list[tuple[str, str]], list[pd.DataFrame]]:
        lo, hi = self.conf_int(1 - self.alpha)
        if not np.isfinite(self.se):
            why = "not computed: the influence function of the overall effect is numerically zero"
            return (
                f"Aggregated treatment effects ({self.kind})",
                [("Overall ATT", f"{self.att:.6g}"), ("Std. error", why)],
                [] if self.kind == "simple" else [self.table],
            )
        header = [
            ("Overall ATT", f"{self.att:.6g}"),
            ("Std. error", f"{self.se:.6g}" + (" (bootstrap)" if self.bootstrap else "")),
            (f"{100 * (1 - self.alpha):g}% CI", f"[{lo:.6g}, {hi:.6g}]"),
            ("p-value", f"{self.pvalue:.4g}"),
        ]
        tables = [] if self.kind == "simple" else [self.table]
        return f"Aggregated treatment effects ({self.kind})", header, tables

    @property
    def summary(self) -> Summary:
        """The summary: prints as text, with ``as_text()``, ``as_html()``, ``as_latex()``."""
        title, header, tables = self._summary_tables()
        return Summary(title, tuple(header), tuple(tables))

    def tidy(self) -> pd.DataFrame:
        """Return one row per effect of the table (the overall effect for ``"simple"``).

        Columns ``term``, ``estimate``, ``std_error``, ``statistic``, ``p_value``,
        ``ci_lower`` and ``ci_upper`` (the table's interval, at level ``1 - alpha``).
        """
        if self.kind == "simple":
            lo, hi = self.conf_int(1 - self.alpha)
            att, se, low, high = [self.att], [self.se], [lo], [hi]
            terms = ["ATT"]
        else:
            t = self._table
            att, se = t["att"].to_numpy(), t["se"].to_numpy()
            low, high = t["ci_lower"].to_numpy(), t["ci_upper"].to_numpy()
            terms = [
                f"{t.index.name}={v:g}" if isinstance(v, int | float | np.number) else str(v)
                for v in t.index
            ]
        est, err = np.asarray(att, dtype=float), np.asarray(se, dtype=float)
        z = est / err
        return pd.DataFrame(
            {
                "term": terms,
                "estimate": est,
                "std_error": err,
                "statistic": z,
                "p_value": 2 * stats.norm.sf(np.abs(z)),
                "ci_lower": np.asarray(low, dtype=float),
                "ci_upper": np.asarray(high, dtype=float),
            }
        )


@dataclass(frozen=True)
class _Boot:
    """Multiplier-bootstrap settings, kept to redraw the same weights when aggregating."""

    n_boot: int
    seed: int
    weights: BootWeights
    uniform_band: bool

    def draws(self, n: int) -> np.ndarray:
        return bootstrap_draws(n, self.n_boot, self.seed, self.weights)


@dataclass(frozen=True)
class StaggeredDiDResults(EstimationResults):
    """Group-time ATTs with influence-function inference (immutable).

    Attributes
    ----------
    att_gt
        One row per (group, time): ``event_time``, ``post``, ``att``, ``se`` and the
        confidence interval at level ``1 - alpha``.
    influence
        Per-entity influence functions, (n entities, number of ATT(g,t)).
    weights
        The sampling-weights column, or None.
    clustervar
        The variable the standard errors are clustered on besides the entity, or None
        (clustered by entity).
    """

    _att_gt: pd.DataFrame
    _influence: np.ndarray = field(repr=False)
    _unit_group: np.ndarray = field(repr=False)
    entities: pd.Index = field(repr=False)
    periods: np.ndarray
    method: str
    control: str
    covariates: tuple[str, ...]
    outcome: str
    anticipation: int
    base_period: str
    alpha: float
    critical_value: float
    boot: _Boot | None = None
    weights: str | None = None
    clustervar: str | None = None
    _unit_weights: np.ndarray | None = field(default=None, repr=False)
    _cluster: np.ndarray | None = field(default=None, repr=False)

    title = "Group-time average treatment effects"
    name = "Staggered DiD"

    @property
    def fixed_effects(self) -> dict[str, bool]:
        """Group-time comparisons difference out entity and period effects."""
        return {"Entity": True, "Time": True}

    def __post_init__(self) -> None:
        """Keep private, read-only copies of the cells, influence functions and groups."""
        # mutating what a caller passed or got back changes nothing here
        object.__setattr__(self, "_att_gt", self._att_gt.copy())
        object.__setattr__(self, "_influence", _frozen(self._influence))
        object.__setattr__(self, "_unit_group", _frozen(self._unit_group))
        for name in ("_unit_weights", "_cluster"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _frozen(value))

    @property
    def att_gt(self) -> pd.DataFrame:
        """One row per (group, time): ``event_time``, ``post``, ``att``, ``se``, interval.

        A copy: changing it changes nothing in the results.
        """
        return self._att_gt.copy()

    @property
    def influence(self) -> np.ndarray:
        """Per-entity influence functions, (n entities, number of ATT(g,t)) (a copy)."""
        return self._influence.copy()

    @property
    def unit_group(self) -> np.ndarray:
        """Each entity's group (first treated period, 0 = never) (a copy)."""
        return self._unit_group.copy()

    @property
    def nobs(self) -> int:
        """Number of entities used."""
        return len(self.entities)

    @property
    def unit_weights(self) -> np.ndarray | None:
        """Each entity's sampling weight, normalised to mean one, or None (a copy)."""
        return None if self._unit_weights is None else self._unit_weights.copy()

    @property
    def clusters(self) -> np.ndarray | None:
        """Each entity's cluster code ``0..G-1``, or None when clustered by entity (a copy)."""
        return None if self._cluster is None else self._cluster.copy()

    @property
    def n_clusters(self) -> int:
        """Number of clusters of the standard errors (the entities when not clustered)."""
        return self.nobs if self._cluster is None else int(self._cluster.max()) + 1

    @property
    def params(self) -> pd.Series:
        """ATT(g,t) named like ``ATT(g=2004,t=2005)`` (a new Series on every access)."""
        names = [
            f"ATT(g={g:g},t={t:g})"
            for g, t in zip(self._att_gt["group"], self._att_gt["time"], strict=True)
        ]
        return pd.Series(self._att_gt["att"].to_numpy(copy=True), index=names, name="params")

    @property
    def std_errors(self) -> pd.Series:
        """Standard errors (analytic, or multiplier bootstrap when fitted with it)."""
        return pd.Series(
            self._att_gt["se"].to_numpy(copy=True), index=self.params.index, name="std_error"
        )

    @property
    def cov(self) -> pd.DataFrame:
        """Influence-function covariance of the ATT(g,t), clustered by entity or ``clustervar``."""
        sums = cluster_sums(self._influence, self._cluster)
        cov = sums.T @ sums / self.nobs**2
        return pd.DataFrame(cov, index=self.params.index, columns=self.params.index)

    @cached_property
    def pretrend_test(self) -> PreTrendTest:
        """Wald test that all pre-treatment ATT(g,t) are zero (as R ``did``'s ``W``)."""
        cells = self._att_gt
        pre = ((cells["group"] > cells["time"]) & cells["se"].notna()).to_numpy()
        k = int(pre.sum())
        if k == 0:
            n_pre = int((cells["group"] > cells["time"]).sum())
            why = (
                f"no pre-treatment cell has a standard error (of {n_pre})"
                if n_pre
                else "no pre-treatment cell"
            )
            return PreTrendTest(np.nan, 0, np.nan, why)
        att = self._att_gt["att"].to_numpy()[pre]
        v = self.cov.to_numpy()[np.ix_(pre, pre)]
        if 1 / np.linalg.cond(v) <= np.finfo(float).eps:
            rank = int(np.linalg.matrix_rank(v))
            return PreTrendTest(
                np.nan,
                k,
                np.nan,
                f"the covariance of the {k} pre-treatment effects is singular (rank {rank} "
                f"of {k}, from {self.n_clusters} clusters): the groups have too few entities "
                "to test every pre-treatment cell jointly; see the event-time aggregate",
            )
        w = float(att @ np.linalg.solve(v, att))
        return PreTrendTest(w, k, float(stats.chi2.sf(w, k)))

    def aggregate(
        self,
        kind: AggKind = "group",
        *,
        min_e: float = -np.inf,
        max_e: float = np.inf,
        balance_e: int | None = None,
    ) -> AggregatedEffects:
        """Aggregate the ATT(g,t) as R's ``aggte``.

        Parameters
        ----------
        kind
            ``"simple"`` (post-treatment cells weighted by group size), ``"group"`` (per
            group, then across groups), ``"dynamic"`` (per event time; the overall effect
            averages non-negative event times) or ``"calendar"`` (per period, then across
            periods).
        min_e, max_e, balance_e
            For ``"dynamic"``: the event-time window, and balancing on groups observed at
            least ``balance_e`` periods after treatment.

        Returns
        -------
        AggregatedEffects

        Raises
        ------
        NotEstimableError
            When no ATT(g,t) entering the overall effect could be estimated.

        Warns
        -----
        EstimationWarning
            When some ATT(g,t) entering the aggregation could not be estimated (NaN):
            it names them, and the weights are recomputed over the estimable cells. A
            group, event time or period with no estimable cell is NaN in the table and
            left out of the overall effect.
        """
        check_choice("kind", kind, AggKind, error=CalibrationError)
        try:
            agg = aggregate_cells(
                self._att_gt,
                self._influence,
                self._unit_group,
                kind,
                min_e=min_e,
                max_e=max_e,
                balance_e=balance_e,
                unit_weights=self._unit_weights,
            )
        except NotEstimableError:
            raise
        except ValueError as err:
            raise CalibrationError(f"Cannot aggregate: {err}.") from err
        n = self.nobs
        sums = cluster_sums(agg.inf, self._cluster)
        table_sums = cluster_sums(agg.table_inf, self._cluster)
        se = float(se_from_sums(sums, n))
        table_se = se_from_sums(table_sums, n)
        crit = float(stats.norm.ppf(1 - self.alpha / 2))
        if self.boot is not None:
            draws = self.boot.draws(self.n_clusters)
            se = bootstrap_se(np.nan_to_num(sums[:, None]), draws, self.alpha, n)[0][0]
            table_se, bcrit = bootstrap_se(np.nan_to_num(table_sums), draws, self.alpha, n)
            crit = bcrit if self.boot.uniform_band and kind != "simple" else crit
        se = np.nan if not np.isfinite(se) or se <= _TINY else float(se)
        table_se = np.where(table_se <= _TINY, np.nan, table_se)
        if np.isfinite(agg.att) and not np.isfinite(se):
            warnings.warn(
                f"The {kind} aggregate has no usable standard error (NaN): its influence "
                "function is numerically zero (for example a single unit, or identical "
                "units, in the treated and comparison groups). Do not read it as exact.",
                EstimationWarning,
                stacklevel=2,
            )
        label = {"simple": "kind", "group": "group", "dynamic": "event_time", "calendar": "time"}[
            kind
        ]
        table = pd.DataFrame(
            {
                "att": agg.table_att,
                "se": table_se,
                "ci_lower": agg.table_att - crit * table_se,
                "ci_upper": agg.table_att + crit * table_se,
            },
            index=pd.Index(agg.labels, name=label),
        )
        return AggregatedEffects(
            kind=kind,
            att=agg.att,
            se=se,
            _table=table,
            _influence=agg.inf,
            _table_influence=agg.table_inf,
            alpha=self.alpha,
            critical_value=crit,
            bootstrap=self.boot is not None,
            clustervar=self.clustervar,
            _cluster=self._cluster,
        )

    def _summary_tables(self) -> tuple[str, list[tuple[str, str]], list[pd.DataFrame]]:
        names = {
            "dr": "doubly robust",
            "ipw": "inverse probability weighting",
            "reg": "outcome regression",
        }
        by = (
            "entity"
            if self.clustervar is None
            else f"{self.clustervar} ({self.n_clusters} clusters)"
        )
        inference = f"analytic (influence function, clustered by {by})"
        if self.boot is not None:
            band = ", uniform band" if self.boot.uniform_band else ""
            inference = (
                f"multiplier bootstrap ({self.boot.n_boot} {self.boot.weights} draws, "
                f"seed {self.boot.seed}{band}, clustered by {by})"
            )
        pt = self.pretrend_test
        header = [
            ("Outcome", self.outcome),
            ("Method", names[self.method]),
            ("Comparison group", self.control.replace("_", " ")),
            ("Covariates", ", ".join(self.covariates) or "none"),
            ("Sampling weights", self.weights or "none"),
            ("Entities", str(self.nobs)),
            ("Periods", f"{self.periods[0]:g}-{self.periods[-1]:g} ({len(self.periods)})"),
            ("Base period", self.base_period),
            ("Anticipation", str(self.anticipation)),
            ("Standard errors", inference),
            ("Pre-trend test", pt.describe()),
        ]
        table = self._att_gt.set_index(["group", "time"]).drop(columns="post")
        return self.title, header, [table]

    def plot_event_study(
        self,
        *,
        min_e: float = -np.inf,
        max_e: float = np.inf,
        balance_e: int | None = None,
        ax: Axes | None = None,
    ) -> Axes:
        """Draw the ``"dynamic"`` :meth:`aggregate` by event time with its intervals.

        Returns the Axes; the window options are those of :meth:`aggregate`.
        """
        from talentplan import _plot

        effects = self.aggregate("dynamic", min_e=min_e, max_e=max_e, balance_e=balance_e)
        return _plot.event_study_plot(effects.table, ax=ax)
