"""Staggered difference-in-differences: group-time average treatment effects.

Callaway and Sant'Anna (2021), "Difference-in-Differences with Multiple Time Periods",
Journal of Econometrics 225(2), 200-230, as implemented by R's ``did`` package
(``att_gt`` and ``aggte``) for balanced panels: one ATT(g,t) per group ``g`` (the period
a unit is first treated) and period ``t``, each a two-period DiD against never-treated or
not-yet-treated units, with influence-function standard errors clustered by entity, a
Wald pre-trend test, simple/group/dynamic/calendar aggregations and a multiplier
bootstrap.

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
    estimate_cells,
)
from talentplan.calibrate.staggered.results import (
    _TINY,
    StaggeredDiDResults,
    _Boot,
)
from talentplan.errors import (
    CalibrationError,
    EstimationWarning,
    PanelDataError,
    UnbalancedPanelWarning,
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

    Notes
    -----
    Data handling: duplicate (entity, time) rows raise :class:`PanelDataError`, and so do
    a group value that is not a whole number when the periods are (2005.5, say) and
    identifiers that mix kinds of values; covariates collinear with each other or with
    the constant in some period raise :class:`CollinearityError` naming them; rows with
    a missing outcome, group or covariate are dropped with a ``MissingValuesWarning``;
    the panel must then be balanced, so entities missing any period are dropped with an
    ``UnbalancedPanelWarning`` naming them (R ``did``'s default ``panel=TRUE``,
    ``allow_unbalanced_panel=FALSE``). Units already treated in the first period (plus
    anticipation) are dropped with an ``EstimationWarning``.
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
    ) -> None:
        self.control = check_choice("control", control, Control, error=CalibrationError)
        self.method = check_choice("method", method, Method, error=CalibrationError)
        if isinstance(covariates, str):
            covariates = [covariates]
        self.covariates = list(covariates or [])
        self.outcome, self.entity, self.time, self.group = outcome, entity, time, group
        self._long = self._clean(data)

    def _clean(self, data: pd.DataFrame) -> pd.DataFrame:
        indexed = set_panel_index(data, self.entity, self.time)
        check_duplicates(indexed)
        if not pd.api.types.is_numeric_dtype(indexed.index.get_level_values(1)):
            raise PanelDataError(f"The time column '{self.time}' must be numeric (e.g. years).")
        cols = [self.outcome, self.group, *self.covariates]
        numeric = check_numeric(indexed, cols)
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
            warnings.warn(
                f"The panel is unbalanced: {len(short)} of {len(counts)} entities miss some of "
                f"the {len(periods)} periods and are dropped (e.g. {list(short[:5])}); "
                "ATT(g,t) needs every entity in every period.",
                UnbalancedPanelWarning,
                stacklevel=3,
            )
            clean = clean.drop(index=short, level=0)
        if clean.empty:
            raise PanelDataError("No entity is observed in every period.")
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
        return WidePanel(
            entities,
            periods,
            wide_y.to_numpy(dtype=float),
            x,
            grp[keep],
            tuple(self.covariates),
        )

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
        if np.all(panel.periods == np.round(panel.periods)):
            cells = cells.astype({"group": "int64", "time": "int64", "event_time": "int64"})
        n = len(panel.entities)
        se = np.sqrt(np.sum(psi**2, axis=0)) / n
        se[~np.isfinite(cells["att"].to_numpy()) | (se <= _TINY)] = np.nan
        boot = None
        crit = float(stats.norm.ppf(1 - alpha / 2))
        if bootstrap:
            if seed is None:
                seed = int(np.random.SeedSequence().generate_state(1)[0])
            boot = _Boot(int(n_boot), int(seed), boot_weights, uniform_band)
            bse, bcrit = bootstrap_se(np.nan_to_num(psi), boot.draws(n), alpha)
            se = np.where(np.isnan(se), np.nan, bse)
            crit = bcrit if uniform_band else crit
        cells["se"] = se
        cells["ci_lower"] = cells["att"] - crit * se
        cells["ci_upper"] = cells["att"] + crit * se
        return StaggeredDiDResults(
            _att_gt=cells,
            _influence=psi,
            _unit_group=panel.unit_group,
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
        )
