"""Spatial spillovers (the "siphon"): own regressors, spatial lags and core-distance decay.

The siphon specification regresses a county's outflow on its own regressors, their
spatial lag over neighbouring counties (``W x``, the SLX model) and terms whose effect
decays with distance to the core city, with county and year fixed effects::

    y_it = x_it b + (W x)_it theta + (z_it * exp(-d_i / h)) delta + a_i + g_t + e_it

estimated by two-way fixed effects (linearmodels' PanelOLS) with Driscoll-Kraay errors,
or with Conley (1999) spatial HAC errors
(:func:`~talentplan.calibrate.spatial.covariance.conley_cov`).

A spatial lag of the dependent variable (SAR / spatial Durbin) needs maximum likelihood
or GMM; PySAL's ``spreg.Panel_FE_Lag`` estimates it with entity effects only, on a
balanced panel, and pulls in geopandas, shapely and scikit-learn, so it is not wrapped
here; the SLX / distance-decay form above is estimated by least squares and recovers the
spillover coefficients consistently when the lag of ``y`` is absent.

The weights and lags (:func:`~talentplan.calibrate.spatial.weights.distance_matrix`,
:func:`~talentplan.calibrate.spatial.weights.distance_weights`,
:func:`~talentplan.calibrate.spatial.weights.spatial_lag`) are built in
:mod:`talentplan.calibrate.spatial.weights`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from talentplan._options import check_choice
from talentplan.calibrate.panel.model import MIN_CLUSTERS, CovType, PanelRegression
from talentplan.calibrate.panel.results import PanelResults
from talentplan.calibrate.shared.validation import (
    PanelInfo,
    Transform,
    check_duplicates,
    check_numeric,
    drop_missing,
    panel_info,
    set_panel_index,
    transform_design,
)
from talentplan.calibrate.spatial.covariance import ConleyKernel, ConleyResults, conley_cov
from talentplan.calibrate.spatial.weights import spatial_lag
from talentplan.errors import CalibrationError, MissingValuesWarning, PanelDataError

__all__ = ["Effects", "SpilloverCovType", "SpilloverPanel"]

Effects = Literal["twoway", "entity"]
"""Fixed effects of :class:`SpilloverPanel`: entity and year, or entity only."""
SpilloverCovType = Literal[CovType, "conley"]
"""Covariances of :meth:`SpilloverPanel.fit`: those of the panel regression, or Conley."""


def _spatial_lags(values: pd.DataFrame, weights: pd.DataFrame) -> pd.DataFrame:
    """Compute the spatial lags of ``values``, warning when missing values enter as zero."""
    bad = values.isna().sum()
    if bad.any():
        detail = ", ".join(f"{c}: {int(k)}" for c, k in bad.items() if k)
        warnings.warn(
            f"{int(bad.sum())} missing value(s) of spatially lagged regressors ({detail}) "
            "contribute 0 to their neighbours' spatial lags W*x (weights are not "
            "re-standardised); fill them to avoid shrinking those lags.",
            MissingValuesWarning,
            stacklevel=3,
        )
    return spatial_lag(values, weights)


class SpilloverPanel:
    """Siphon specification: own regressors, their spatial lags, and core-distance decay.

    Parameters
    ----------
    data
        Long panel, indexed by (entity, time) or with ``entity`` / ``time`` columns.
    dependent
        Outcome (for example net talent outflow per 10,000 residents).
    exog
        Own regressors.
    weights
        ``n x n`` spatial weights labelled by entity (see
        :func:`~talentplan.calibrate.spatial.weights.distance_weights`).
    lags
        Regressors whose spatial lag ``W*x`` enters; default all of ``exog``.
    core_distance
        Distance of each entity to the core city: a Series indexed by entity.
    core_terms
        Columns whose effect decays with distance to the core; each enters as
        ``z * decay(core)`` with ``decay = exp(-d / decay_bandwidth)``.
    decay_bandwidth
        Decay distance of the core terms (same units as ``core_distance``).
    distances
        ``n x n`` distances between entities, needed for Conley errors.
    effects
        ``"twoway"`` (entity and year effects, default) or ``"entity"``.
    entity, time
        Identifier columns when ``data`` is not indexed.

    Notes
    -----
    Missing values: the spatial lags ``W x`` are computed on the whole panel first, so a
    neighbour whose outcome is missing still contributes its regressors to others' lags.
    A missing value of a lagged regressor contributes 0 to its neighbours' lags (the
    weights are not re-standardised; a ``MissingValuesWarning`` counts such values).
    Rows with a missing outcome, own regressor or core term are then dropped from the
    regression (warning with a count); a row missing only a regressor that enters
    through its spatial lag is kept.
    """

    def __init__(
        self,
        data: pd.DataFrame,
        dependent: str,
        exog: Sequence[str],
        weights: pd.DataFrame,
        *,
        lags: Sequence[str] | None = None,
        core_distance: pd.Series | None = None,
        core_terms: Sequence[str] = (),
        decay_bandwidth: float | None = None,
        distances: pd.DataFrame | None = None,
        effects: Effects = "twoway",
        entity: str | None = None,
        time: str | None = None,
    ) -> None:
        check_choice("effects", effects, Effects, error=CalibrationError)
        exog = [exog] if isinstance(exog, str) else list(exog)
        lags = list(exog) if lags is None else list(lags)
        core_terms = list(core_terms)
        cols = list(dict.fromkeys([dependent, *exog, *lags, *core_terms]))
        indexed = set_panel_index(data, entity, time)
        check_duplicates(indexed)
        numeric = check_numeric(indexed, cols)
        # spatial lags come from every row of the panel, before rows are dropped for a
        # missing outcome: a neighbour whose outcome is missing still has regressors
        wx = _spatial_lags(numeric[lags], weights) if lags else numeric.iloc[:, :0]
        own = list(dict.fromkeys([dependent, *exog, *core_terms]))
        frame, n_dropped = drop_missing(
            pd.concat([numeric[own], wx], axis=1), context="spillover estimation"
        )
        if frame.empty:
            raise PanelDataError("No complete rows remain for the spillover estimation.")
        info = panel_info(frame)
        parts = [frame[[dependent, *exog]], frame[list(wx.columns)]]
        if core_terms:
            if core_distance is None or decay_bandwidth is None or not decay_bandwidth > 0:
                raise CalibrationError(
                    "core_terms need core_distance (a Series by entity) and a positive "
                    "decay_bandwidth."
                )
            ents = frame.index.get_level_values(0)
            absent = pd.Index(ents.unique()).difference(pd.Index(core_distance.index))
            if len(absent):
                raise CalibrationError(f"core_distance lacks entities {list(absent[:5])}.")
            decay = np.exp(-core_distance.reindex(ents).to_numpy(dtype="float64") / decay_bandwidth)
            parts.append(
                pd.DataFrame(
                    {f"{z}*decay(core)": frame[z].to_numpy() * decay for z in core_terms},
                    index=frame.index,
                )
            )
        self._frame = pd.concat(parts, axis=1)
        self._frame = self._frame.loc[:, ~self._frame.columns.duplicated()]
        self._dependent = dependent
        self._regressors = [c for c in self._frame.columns if c != dependent]
        self._effects = effects
        self._info: PanelInfo = info
        self._n_dropped = n_dropped
        if distances is not None:
            ents = pd.Index(self._frame.index.get_level_values(0).unique())
            absent = ents.difference(pd.Index(distances.index))
            if len(absent):
                raise CalibrationError(f"distances lack entities {list(absent[:5])}.")
        self._distances = distances
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # already reported by prepare_panel above
            self._model = PanelRegression(
                self._frame,
                dependent,
                self._regressors,
                estimator="twfe" if effects == "twoway" else "fe",
            )

    @property
    def design(self) -> pd.DataFrame:
        """The estimation frame: outcome, own regressors, spatial lags, core terms."""
        return self._frame.copy()

    def fit(
        self,
        *,
        cov_type: SpilloverCovType = "driscoll-kraay",
        bandwidth: float | None = None,
        cluster: Sequence[str] = ("entity",),
        min_clusters: int = MIN_CLUSTERS,
        cutoff: float | None = None,
        kernel: ConleyKernel | None = None,
        serial_lags: int | None = None,
    ) -> PanelResults | ConleyResults:
        """Estimate by fixed effects with the chosen covariance.

        Parameters
        ----------
        cov_type
            ``"driscoll-kraay"`` (default; ``bandwidth`` as in
            :meth:`~talentplan.calibrate.panel.model.PanelRegression.fit`), ``"conley"``
            (needs ``distances`` in the constructor and ``cutoff``), or ``"clustered"``,
            ``"robust"``, ``"unadjusted"``.
        bandwidth, cluster, min_clusters
            As for :meth:`~talentplan.calibrate.panel.model.PanelRegression.fit`.
        cutoff, kernel, serial_lags
            Conley options: see :func:`~talentplan.calibrate.spatial.covariance.conley_cov`
            (``kernel`` defaults to ``"bartlett"``, ``serial_lags`` to 0). Giving any of
            them with another ``cov_type`` raises
            :class:`~talentplan.errors.CalibrationError` rather than being silently ignored.

        Returns
        -------
        PanelResults or ConleyResults
            The fixed-effects fit; with Conley errors, the same estimates with the
            Conley covariance.
        """
        check_choice("cov_type", cov_type, SpilloverCovType, error=CalibrationError)
        if cov_type != "conley":
            given = [
                n
                for n, v in (("cutoff", cutoff), ("kernel", kernel), ("serial_lags", serial_lags))
                if v is not None
            ]
            if given:
                raise CalibrationError(
                    f"{', '.join(given)} only appl{'ies' if len(given) == 1 else 'y'} to "
                    f"cov_type='conley', not {cov_type!r}; remove them."
                )
            return self._model.fit(
                cov_type=cov_type, bandwidth=bandwidth, cluster=cluster, min_clusters=min_clusters
            )
        if self._distances is None:
            raise CalibrationError("Conley errors need distances= in the constructor.")
        if cutoff is None:
            raise CalibrationError("Conley errors need a cutoff distance (cutoff=...).")
        kernel = "bartlett" if kernel is None else kernel
        serial_lags = 0 if serial_lags is None else serial_lags
        base = self._model.fit(cov_type="unadjusted")
        transform: Transform = "twoway" if self._effects == "twoway" else "entity"
        tf = transform_design(self._frame, transform)
        x = tf[self._regressors].to_numpy()
        b = base.params[self._regressors].to_numpy()
        resid = tf[self._dependent].to_numpy() - x @ b
        labels = pd.Index(self._distances.index)
        ent = labels.get_indexer(tf.index.get_level_values(0))
        tim_codes, _ = pd.factorize(tf.index.get_level_values(1), sort=True)
        cov = conley_cov(
            x,
            resid,
            ent,
            tim_codes,
            self._distances.to_numpy(dtype="float64"),
            cutoff=float(cutoff),
            kernel=kernel,
            serial_lags=serial_lags,
        )
        return ConleyResults(
            base, cov, {"cutoff": cutoff, "kernel": kernel, "serial_lags": serial_lags}
        )
