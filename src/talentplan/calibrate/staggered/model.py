"""Staggered difference-in-differences: group-time average treatment effects.

Callaway and Sant'Anna (2021), "Difference-in-Differences with Multiple Time Periods",
Journal of Econometrics 225(2), 200-230, as implemented by R's ``did`` package
(``att_gt`` and ``aggte``) for balanced panels: one ATT(g,t) per group ``g`` (the period
a unit is first treated) and period ``t``, each a two-period DiD against never-treated or
not-yet-treated units, with influence-function standard errors clustered by entity (or
by a coarser, time-invariant variable: R's ``clustervars``), optional time-invariant
sampling weights (R's ``weightsname``), a Wald pre-trend test,
simple/group/dynamic/calendar aggregations and a multiplier bootstrap.

This module validates the data and estimates the cells with the numerics of
:mod:`talentplan.calibrate.staggered.estimators`; the results objects
(:class:`~talentplan.calibrate.staggered.results.StaggeredDiDResults`,
:class:`~talentplan.calibrate.staggered.results.AggregatedEffects`,
:class:`~talentplan.calibrate.staggered.results.PreTrendTest`) are in
:mod:`talentplan.calibrate.staggered.results`.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> g = np.repeat([0, 3, 4], 40)
>>> rows = [(i, t, g[i], 0.3 * t + 1.0 * (g[i] > 0 and t >= g[i]) + rng.normal(0, 0.1))
...         for i in range(120) for t in range(1, 6)]
>>> df = pd.DataFrame(rows, columns=["id", "year", "first", "y"])
>>> res = StaggeredDiD(df, "y", "id", "year", "first").fit()
>>> round(res.aggregate("simple").att, 1)
1.0
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from talentplan._options import check_choice
from talentplan.calibrate.shared.validation import (
    check_duplicates,
    check_integer_like,
    check_numeric,
    check_rank,
    drop_missing,
    set_panel_index,
)
from talentplan.calibrate.staggered.estimators import (
    BootWeights,
    WidePanel,
    bootstrap_se,
    cluster_sums,
    estimate_cells,
    se_from_sums,
)
from talentplan.calibrate.staggered.results import (
    _TINY,
    StaggeredDiDResults,
    _Boot,
)
from talentplan.errors import (
    CalibrationError,
    EstimationWarning,
    NotEstimableError,
    PanelDataError,
    TooFewClustersError,
    UnbalancedPanelError,
)

__all__ = ["BasePeriod", "Control", "Method", "StaggeredDiD"]

Control = Literal["never_treated", "not_yet_treated"]
"""Comparison units: never treated, or also those not yet treated."""
Method = Literal["dr", "ipw", "reg"]
"""Two-period estimators: doubly robust, inverse probability weighting, regression."""
BasePeriod = Literal["varying", "universal"]
"""Base period of the pre-treatment cells: the period before, or ``g - 1``."""


class StaggeredDiD:
    """Group-time average treatment effects under staggered adoption.

    Parameters
    ----------
    data
        Long panel: one row per entity and period.
    outcome, entity, time
        Column names of the outcome, the entity identifier and the (numeric) period.
    group
        Column with the first period an entity is treated; 0 for never treated (R
        ``did``'s ``gname``). It must be constant within entity. A group after the last
        observed period is treated as never treated (as in R ``did``), with a warning.
    control
        ``"never_treated"`` or ``"not_yet_treated"`` comparison units.
    method
        ``"dr"`` (doubly robust, ``DRDID::drdid_panel``, the default of R ``did``),
        ``"ipw"`` (normalised inverse probability weighting) or ``"reg"`` (outcome
        regression). Without covariates the three coincide.
    covariates
        Column names of covariates; each ATT(g,t) uses their values in the earlier of
        its two periods (the base period for post-treatment cells).
    weights
        Column of sampling weights (R ``did``'s ``weightsname``): non-negative, with a
        positive mean, and constant within entity. They weight the units in every
        ATT(g,t) (normalised to mean one among the cell's units, as ``DRDID`` does) and
        the group shares of the aggregations. As in R, the influence function of the
        estimated shares is ``w_i 1{G_i = g} - p_g`` (the mean weight taken as known),
        so with unequal weights an aggregate's standard error differs slightly from
        that of duplicating each unit ``w_i`` times; the ATT(g,t), their standard errors
        and all point estimates agree with duplication.
    clustervars
        A column to cluster the standard errors on besides the entity (R ``did``'s
        ``clustervars``): one name, or a list of at most two of which one is the
        entity column. It must be constant within entity. Analytic standard errors
        then use the cluster sums of the influence functions, ``sqrt(sum_c S_c**2) /
        n`` (no small-sample factor, as R), and the multiplier bootstrap draws one
        multiplier per cluster; ``cov``, the pre-trend test and the aggregations are
        clustered too.

    Notes
    -----
    Data handling: duplicate (entity, time) rows raise :class:`PanelDataError`, and so do
    a group value that is not a whole number when the periods are (2005.5, say),
    identifiers that mix kinds of values, and weights or a cluster variable that vary
    within an entity (the message names the entity); covariates collinear with each
    other or with the constant in some period raise :class:`CollinearityError` naming
    them; rows with a missing outcome, group, covariate, weight or cluster are dropped
    with a ``MissingValuesWarning``. The panel must then be balanced: entities missing
    some period raise :class:`~talentplan.errors.UnbalancedPanelError`, which counts
    them and says how to keep the entities observed in every period (there is no
    repeated-cross-section or unbalanced-panel estimator here). Units already treated
    in the first period (plus anticipation) are dropped with an ``EstimationWarning``.
    """

    def __init__(
        self,
        data: pd.DataFrame,
        outcome: str,
        entity: str,
        time: str,
        group: str,
        control: Control = "never_treated",
        method: Method = "dr",
        covariates: Sequence[str] | None = None,
        weights: str | None = None,
        clustervars: str | Sequence[str] | None = None,
    ) -> None:
        self.control = check_choice("control", control, Control, error=CalibrationError)
        self.method = check_choice("method", method, Method, error=CalibrationError)
        if isinstance(covariates, str):
            covariates = [covariates]
        self.covariates = list(covariates or [])
        self.outcome, self.entity, self.time, self.group = outcome, entity, time, group
        self.weights = weights
        self.clustervar = self._check_clustervars(clustervars)
        # the cluster codes' column, named so that messages name the user's column
        self._cluster_col = f"{self.clustervar} (cluster)"
        self._long = self._clean(data)

    def _check_clustervars(self, clustervars: str | Sequence[str] | None) -> str | None:
        """Return the one cluster variable besides the entity, or None (as R ``did``)."""
        if clustervars is None:
            return None
        names = [clustervars] if isinstance(clustervars, str) else list(clustervars)
        if not all(isinstance(c, str) for c in names):
            raise CalibrationError(f"clustervars={clustervars!r} must be column names (strings).")
        extra = list(dict.fromkeys(c for c in names if c != self.entity))
        if len(names) > 2 or len(extra) > 1:
            raise CalibrationError(
                f"clustervars={clustervars!r}: at most one cluster variable besides the "
                f"entity column '{self.entity}' is supported (as in R did)."
            )
        return extra[0] if extra else None

    def _constant_within_entity(self, frame: pd.DataFrame, column: str, what: str) -> None:
        varies = frame[column].groupby(level=0).nunique(dropna=False) > 1
        if varies.any():
            bad = list(varies.index[varies])
            name = column.removesuffix(" (cluster)")
            raise PanelDataError(
                f"The {what} column '{name}' must be constant within entity; it varies "
                f"over time for {len(bad)} entities, e.g. entity {bad[0]!r}"
                + (f" (and {bad[1:5]})" if len(bad) > 1 else "")
                + f". Give each entity one {what} value in every period.",
                column=column,
                value=bad[0],
            )

    def _clean(self, data: pd.DataFrame) -> pd.DataFrame:
        indexed = set_panel_index(data, self.entity, self.time)
        check_duplicates(indexed)
        if not pd.api.types.is_numeric_dtype(indexed.index.get_level_values(1)):
            raise PanelDataError(f"The time column '{self.time}' must be numeric (e.g. years).")
        cols = [self.outcome, self.group, *self.covariates]
        if self.weights is not None:
            cols.append(self.weights)
        numeric = check_numeric(indexed, cols)
        if self.clustervar is not None:
            if self.clustervar not in indexed.columns:
                raise PanelDataError(
                    f"Cluster column '{self.clustervar}' not found; the data have "
                    f"{list(indexed.columns)}.",
                    column=self.clustervar,
                )
            codes, _ = pd.factorize(indexed[self.clustervar], use_na_sentinel=True)
            numeric[self._cluster_col] = np.where(codes < 0, np.nan, codes.astype(float))
        clean, _ = drop_missing(numeric, context="staggered DiD")
        if clean.empty:
            raise PanelDataError("No complete rows remain for the staggered DiD.")
        varies = clean[self.group].groupby(level=0).nunique() > 1
        if varies.any():
            bad = list(varies.index[varies])
            raise PanelDataError(
                f"The group column '{self.group}' must be constant within entity; it varies for "
                f"{len(bad)} entities, e.g. {bad[:5]}. Give each entity its first treatment "
                "period (0 if never treated)."
            )
        if self.weights is not None:
            w = clean[self.weights]
            if (w < 0).any() or w.mean() <= 0:
                raise PanelDataError(
                    f"The weights column '{self.weights}' must be non-negative with a "
                    f"positive mean; its smallest value is {w.min():g}.",
                    column=self.weights,
                    value=float(w.min()),
                )
            self._constant_within_entity(clean, self.weights, "weights")
        if self.clustervar is not None:
            self._constant_within_entity(clean, self._cluster_col, "cluster")
        periods = clean.index.get_level_values(1).unique()
        if np.all(np.asarray(periods, dtype=float) % 1 == 0):
            check_integer_like(
                clean[self.group], self.group, what="first-treatment periods, 0 if never"
            )
        if self.covariates:
            for t, rows in clean[self.covariates].groupby(level=1):
                check_rank(
                    rows.assign(const=1.0),
                    context=f"the covariates in period {t:g} (with the constant)",
                )
        counts = clean.groupby(level=0).size()
        short = counts.index[counts < len(periods)]
        if len(short):
            raise UnbalancedPanelError(
                f"The panel is unbalanced: {len(short)} of {len(counts)} entities miss some "
                f"of the {len(periods)} periods (e.g. {list(short[:5])}), after dropping rows "
                "with missing values. StaggeredDiD needs every entity in every period (it has "
                "no unbalanced-panel or repeated-cross-section estimator). To keep the "
                f"{len(counts) - len(short)} entities observed in every period, drop the "
                "rows with missing values and then the entities with fewer rows than "
                f"periods, e.g. `df = df.dropna(subset=[...]); n = df['{self.time}']"
                f".nunique(); df = df[df.groupby('{self.entity}')['{self.time}']"
                ".transform('size') == n]`; this drops "
                f"{len(short)} entities.",
                value=short[0],
            )
        return clean

    def _panel(self, anticipation: int) -> WidePanel:
        long = self._long
        periods = np.sort(long.index.get_level_values(1).unique().to_numpy(dtype=float))
        first = long[self.group].groupby(level=0).first()
        grp = first.to_numpy(dtype=float).copy()
        late = grp > periods[-1]
        if late.any():
            warnings.warn(
                f"{int(late.sum())} units are first treated after the last period "
                f"({periods[-1]:g}) and are used as never treated.",
                EstimationWarning,
                stacklevel=3,
            )
            grp[late] = 0.0
        always = (grp > 0) & (grp <= periods[0] + anticipation)
        keep = ~always
        if always.any():
            warnings.warn(
                f"{int(always.sum())} units treated by the first period ({periods[0]:g}) plus "
                f"anticipation ({anticipation}) have no pre-treatment period and are dropped.",
                EstimationWarning,
                stacklevel=3,
            )
        entities = first.index[keep]
        if not (grp[keep] > 0).any():
            raise CalibrationError("No unit is ever treated within the observed periods.")
        if self.control == "never_treated" and not (grp[keep] == 0).any():
            raise CalibrationError(
                "No never-treated units to compare with; use control='not_yet_treated'."
            )
        if self.control == "not_yet_treated" and not (grp[keep] == 0).any():
            gmax = grp[keep].max()
            periods = periods[periods < gmax - anticipation]
            grp = np.where(grp == gmax, 0.0, grp)
            warnings.warn(
                f"No never-treated units: periods from {gmax - anticipation:g} on are dropped "
                f"and the last group ({gmax:g}) serves as never treated.",
                EstimationWarning,
                stacklevel=3,
            )
        sub = long.loc[long.index.get_level_values(1).isin(periods)]
        wide_y = sub[self.outcome].unstack(level=1).reindex(index=entities, columns=periods)
        x = (
            np.stack(
                [
                    sub[c].unstack(level=1).reindex(index=entities, columns=periods).to_numpy()
                    for c in self.covariates
                ],
                axis=2,
            )
            if self.covariates
            else np.zeros((len(entities), len(periods), 0))
        )
        weights = None
        if self.weights is not None:
            raw = long[self.weights].groupby(level=0).first().reindex(entities).to_numpy(float)
            if raw.sum() <= 0:
                raise CalibrationError(
                    f"The weights ('{self.weights}') of the units used are all zero."
                )
            weights = raw / raw.mean()
        return WidePanel(
            entities,
            periods,
            wide_y.to_numpy(dtype=float),
            x,
            grp[keep],
            tuple(self.covariates),
            weights,
        )

    def _clusters(self, entities: pd.Index) -> np.ndarray | None:
        """Code the cluster of each entity used as ``0..G-1``, or None (entity clusters)."""
        if self.clustervar is None:
            return None
        per_entity = self._long[self._cluster_col].groupby(level=0).first().reindex(entities)
        codes, uniques = pd.factorize(per_entity)
        if len(uniques) < 2:
            raise TooFewClustersError(
                f"Clustering by '{self.clustervar}' leaves {len(uniques)} cluster among the "
                "units used; cluster-robust standard errors need at least two (and are "
                "unreliable with few)."
            )
        return np.asarray(codes, dtype=np.intp)

    def fit(
        self,
        *,
        bootstrap: bool = False,
        n_boot: int = 999,
        seed: int | None = None,
        alpha: float = 0.05,
        anticipation: int = 0,
        base_period: BasePeriod = "varying",
        boot_weights: BootWeights = "mammen",
        uniform_band: bool = False,
    ) -> StaggeredDiDResults:
        """Estimate every ATT(g,t).

        Parameters
        ----------
        bootstrap
            Report multiplier-bootstrap standard errors (R ``did``'s ``bstrap=TRUE``)
            instead of analytic influence-function ones. ``cov`` stays analytic.
        n_boot, seed, boot_weights
            Bootstrap draws, seed (drawn and recorded when None) and multiplier weights
            (``"mammen"`` or ``"rademacher"``).
        alpha
            Significance level of the reported confidence intervals.
        anticipation
            Periods before treatment in which units may already react.
        base_period
            ``"varying"`` (pre-treatment cells compare consecutive periods) or
            ``"universal"`` (every cell compares with period ``g - anticipation - 1``).
        uniform_band
            With ``bootstrap``, widen intervals to a simultaneous (sup-t) band.

        Returns
        -------
        StaggeredDiDResults

        Raises
        ------
        NotEstimableError
            No group-time cell can be formed (no treated group with periods before and
            after treatment).
        TooFewClustersError
            ``clustervars`` leaves fewer than two clusters.

        Warns
        -----
        EstimationWarning
            For cells that cannot be estimated (NaN, with the reason) and for estimated
            cells whose standard error is NaN (a numerically zero influence function).
        """
        check_choice("base_period", base_period, BasePeriod, error=CalibrationError)
        check_choice("boot_weights", boot_weights, BootWeights, error=CalibrationError)
        if not 0 < alpha < 1:
            raise CalibrationError(f"alpha={alpha} must lie strictly between 0 and 1.")
        if int(anticipation) != anticipation or anticipation < 0:
            raise CalibrationError(f"anticipation={anticipation} must be a non-negative integer.")
        if bootstrap and (int(n_boot) != n_boot or n_boot < 50):
            raise CalibrationError(f"n_boot={n_boot} must be an integer of at least 50.")
        if uniform_band and not bootstrap:
            raise CalibrationError("uniform_band=True needs bootstrap=True.")
        panel = self._panel(int(anticipation))
        cells, psi = estimate_cells(
            panel, self.control, self.method, int(anticipation), base_period
        )
        if cells.empty:
            raise NotEstimableError(
                "No group-time cell can be formed: no treated group has a period before "
                f"and a period after its treatment among the {len(panel.periods)} periods "
                "used."
            )
        if np.all(panel.periods == np.round(panel.periods)):
            cells = cells.astype({"group": "int64", "time": "int64", "event_time": "int64"})
        n = len(panel.entities)
        cluster = self._clusters(panel.entities)
        sums = cluster_sums(psi, cluster)
        se = se_from_sums(sums, n)
        se[~np.isfinite(cells["att"].to_numpy()) | (se <= _TINY)] = np.nan
        boot = None
        crit = float(stats.norm.ppf(1 - alpha / 2))
        if bootstrap:
            if seed is None:
                seed = int(np.random.SeedSequence().generate_state(1)[0])
            boot = _Boot(int(n_boot), int(seed), boot_weights, uniform_band)
            bse, bcrit = bootstrap_se(np.nan_to_num(sums), boot.draws(sums.shape[0]), alpha, n)
            se = np.where(np.isnan(se), np.nan, bse)
            crit = bcrit if uniform_band else crit
        _warn_zero_se(cells, se, panel, int(anticipation), base_period)
        cells["se"] = se
        cells["ci_lower"] = cells["att"] - crit * se
        cells["ci_upper"] = cells["att"] + crit * se
        return StaggeredDiDResults(
            _att_gt=cells,
            _influence=psi,
            _unit_group=panel.unit_group,
            _unit_weights=panel.weights,
            _cluster=cluster,
            entities=panel.entities,
            periods=panel.periods,
            method=self.method,
            control=self.control,
            covariates=tuple(self.covariates),
            outcome=self.outcome,
            anticipation=int(anticipation),
            base_period=base_period,
            alpha=alpha,
            critical_value=crit,
            boot=boot,
            weights=self.weights,
            clustervar=self.clustervar,
        )


def _warn_zero_se(
    cells: pd.DataFrame,
    se: np.ndarray,
    panel: WidePanel,
    anticipation: int,
    base_period: str,
) -> None:
    """Warn about estimated ATT(g,t) whose standard error is NaN (a vanishing influence function).

    The reference cells of a universal base period (zero by construction) are left out.
    """
    grp = cells["group"].to_numpy(dtype=float)
    tim = cells["time"].to_numpy(dtype=float)
    att = cells["att"].to_numpy(dtype=float)
    bad = np.isfinite(att) & ~np.isfinite(se)
    if base_period == "universal":
        for g in np.unique(grp):
            base = panel.periods[panel.periods + anticipation < g][-1]
            bad &= ~((grp == g) & (tim == base))
    if not bad.any():
        return
    shown = ", ".join(f"(group {g:g}, time {t:g})" for g, t in zip(grp[bad], tim[bad], strict=True))
    warnings.warn(
        f"{int(bad.sum())} ATT(g,t) have no usable standard error (NaN): their influence "
        "function is numerically zero, as with a single unit or identical units in the "
        f"treated and comparison groups, or too few clusters: {shown}. Their confidence "
        "intervals are NaN; do not read the estimates as exact.",
        EstimationWarning,
        stacklevel=3,
    )
