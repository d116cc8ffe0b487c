"""Static panel estimators: thin, typed wrappers over linearmodels.

:class:`PanelRegression` gives one constructor for pooled OLS, entity, time and two-way
fixed effects, random effects (Swamy-Arora), between and first-difference estimators;
:class:`PanelIV` estimates by two-stage least squares or GMM when a program's placement
is endogenous. Inputs are validated once, here: duplicate (entity, time) pairs,
non-numeric columns, rank-deficient designs (naming the columns), too few clusters,
unbalanced panels (reported) and missing values (dropped with a counted warning).

The numbers come from linearmodels; the results objects
(:mod:`talentplan.calibrate.panel.results`) only wrap them. Choices that linearmodels
would otherwise make silently are made here and recorded: the Driscoll-Kraay
bandwidth is :func:`driscoll_kraay_bandwidth` unless one is given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from linearmodels import (
    BetweenOLS,
    FirstDifferenceOLS,
    PanelOLS,
    PooledOLS,
    RandomEffects,
)
from linearmodels.iv import IV2SLS, IVGMM

from talentplan._options import check_choice
from talentplan.calibrate.panel.results import (
    ESTIMATORS,
    Estimator,
    PanelIVResults,
    PanelResults,
)
from talentplan.calibrate.shared.validation import (
    PanelInfo,
    Transform,
    check_rank,
    check_time_kind,
    prepare_panel,
    transform_design,
)
from talentplan.errors import (
    CalibrationError,
    NotEstimableError,
    TooFewClustersError,
    TooFewEntitiesError,
)

__all__ = [
    "MIN_CLUSTERS",
    "BasicCovType",
    "CovType",
    "IVEstimator",
    "Kernel",
    "PanelIV",
    "PanelRegression",
    "driscoll_kraay_bandwidth",
]

BasicCovType = Literal["unadjusted", "robust", "clustered"]
"""Covariances that need no ordering in time: homoskedastic, robust, clustered."""
CovType = Literal[BasicCovType, "driscoll-kraay"]
"""Covariances of :meth:`PanelRegression.fit`."""
Kernel = Literal["bartlett", "parzen", "qs"]
"""Kernels of the Driscoll-Kraay covariance."""
IVEstimator = Literal["2sls", "gmm"]
"""Estimators of :class:`PanelIV`."""

CLUSTERS = (("entity",), ("time",), ("entity", "time"))

#: Default minimum number of clusters for clustered errors. Cluster-robust Wald tests
#: over-reject badly with few clusters (Cameron and Miller, 2015, "A Practitioner's
#: Guide to Cluster-Robust Inference", Journal of Human Resources 50(2), section VI);
#: below ten clusters the covariance estimate itself is too noisy to use.
MIN_CLUSTERS = 10


def driscoll_kraay_bandwidth(n_periods: int) -> float:
    """Return the rule-of-thumb Driscoll-Kraay bandwidth for ``n_periods`` periods.

    ``floor(4 (T / 100) ** (2 / 9))``, the common choice for the Bartlett kernel and the
    default of linearmodels' ``DriscollKraay`` covariance, where ``T`` is the number of
    periods whose summed scores enter the covariance.

    Parameters
    ----------
    n_periods
        Number of time periods ``T`` (for first differences, the periods with a
        difference).

    Returns
    -------
    float
        The bandwidth (a whole number).

    Examples
    --------
    >>> driscoll_kraay_bandwidth(8), driscoll_kraay_bandwidth(20), driscoll_kraay_bandwidth(100)
    (2.0, 2.0, 4.0)
    """
    return float(math.floor(4 * (n_periods / 100) ** (2 / 9)))


def _difference_periods(index: pd.MultiIndex) -> int:
    """Count the periods that hold a first difference of a sorted (entity, time) index.

    As linearmodels' ``FirstDifferenceOLS``: a row has a difference when its entity also
    has a row in the previous period of the panel's (sorted) periods.
    """
    times = pd.Index(index.get_level_values(1)).unique().sort_values()
    pos = times.get_indexer(index.get_level_values(1))
    ent = pd.factorize(index.get_level_values(0))[0]
    has_previous = (ent[1:] == ent[:-1]) & (pos[1:] - pos[:-1] == 1)
    return int(np.unique(pos[1:][has_previous]).size)


def _fit_or_explain(fit: Callable[[], Any], name: str) -> Any:
    """Run a linearmodels fit, turning its data errors into :class:`NotEstimableError`.

    The checks before the fit catch the usual problems with their own messages; what
    is left (no residual degrees of freedom on a tiny panel, a singular matrix from
    degenerate data) is reported with linearmodels' reason and the estimator's name.
    """
    try:
        return fit()
    except (ValueError, np.linalg.LinAlgError, ZeroDivisionError) as err:
        raise NotEstimableError(
            f"The {name} estimator cannot be fitted on these data: {err} Use more "
            "entities or periods, or fewer regressors and effects."
        ) from err


def _check_cluster(cluster: Sequence[str]) -> tuple[str, ...]:
    key = tuple(cluster)
    if key == ("time", "entity"):
        key = ("entity", "time")
    if key not in CLUSTERS:
        raise CalibrationError(
            f"cluster={cluster!r} is not supported; use ('entity',), ('time',) or "
            "('entity', 'time')."
        )
    return key


def _check_clusters_count(cluster: tuple[str, ...], info: PanelInfo, min_clusters: int) -> None:
    counts = {"entity": info.n_entities, "time": info.n_periods}
    for dim in cluster:
        if counts[dim] < min_clusters:
            raise TooFewClustersError(
                f"Clustering by {dim} gives {counts[dim]} clusters, fewer than the "
                f"{min_clusters} needed for a usable cluster-robust covariance; use "
                "cov_type='robust' or 'driscoll-kraay', cluster on a dimension with more "
                "groups, or lower min_clusters= knowingly."
            )


def _cluster_frame(index: pd.MultiIndex, key: tuple[str, ...]) -> pd.DataFrame:
    """Code the clusters as integers, one column per clustering dimension in ``key``."""
    codes = {k: pd.factorize(index.get_level_values(0 if k == "entity" else 1))[0] for k in key}
    return pd.DataFrame(codes, index=index)


def _check_fit_options(
    cluster: Sequence[str],
    min_clusters: int,
    bandwidth: float | None = None,
    kernel: Kernel | None = None,
) -> tuple[str, ...]:
    """Validate the covariance options whatever the ``cov_type``; return the cluster key."""
    key = _check_cluster(cluster)
    if (
        isinstance(min_clusters, bool)
        or not isinstance(min_clusters, int | np.integer)
        or min_clusters < 1
    ):
        raise CalibrationError(f"min_clusters must be an integer >= 1, got {min_clusters!r}.")
    if bandwidth is not None:
        if isinstance(bandwidth, bool) or not isinstance(bandwidth, int | float | np.number):
            raise CalibrationError(f"bandwidth must be a number, got {bandwidth!r}.")
        if not np.isfinite(bandwidth) or bandwidth < 0:
            raise CalibrationError(f"bandwidth must be finite and >= 0, got {bandwidth}.")
    if kernel is not None:
        check_choice("kernel", kernel, Kernel, error=CalibrationError)
    return key


def _check_flags(**flags: object) -> None:
    """Raise unless every flag is a bool (``group_debias``, ``auto_df``, ...)."""
    for name, value in flags.items():
        if not isinstance(value, bool | np.bool_):
            raise CalibrationError(f"{name} must be True or False, got {value!r}.")


class PanelRegression:
    """Static linear panel regression with one constructor for every estimator.

    Parameters
    ----------
    data
        Long panel: one row per (entity, period). Either indexed by a two-level
        (entity, time) MultiIndex or with identifier columns named by ``entity`` and
        ``time``.
    dependent
        Column of the dependent variable.
    exog
        Columns of the regressors.
    entity, time
        Identifier columns, when ``data`` is not already indexed.
    estimator
        ``"pooled"`` (pooled OLS), ``"fe"`` (entity fixed effects, the within
        estimator), ``"te"`` (time effects), ``"twfe"`` (entity and time effects),
        ``"re"`` (random effects, Swamy-Arora variance components), ``"between"``
        (OLS on entity means), ``"fd"`` (first differences).
    constant
        Include an intercept. Default: yes for pooled, random effects and between;
        no for the fixed-effects and first-difference estimators (where linearmodels
        would report the average effect as the intercept).

    Raises
    ------
    PanelDataError
        Duplicate (entity, time) pairs, non-numeric or absent columns, identifiers
        that mix kinds of values, a time identifier that holds neither numbers nor
        dates.
    CollinearityError
        The transformed design is rank deficient; the message names the columns.
    TooFewEntitiesError
        Random effects with no more entities than regressors (the variance of the
        effects cannot be estimated).

    Warns
    -----
    MissingValuesWarning
        Rows with missing values were dropped (counted).
    UnbalancedPanelWarning
        The panel is unbalanced.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> idx = pd.MultiIndex.from_product([range(20), range(5)], names=["county", "year"])
    >>> df = pd.DataFrame({"x": rng.normal(size=100)}, index=idx)
    >>> df["y"] = 2 * df["x"] + np.repeat(rng.normal(size=20), 5) + rng.normal(0, .1, 100)
    >>> res = PanelRegression(df, "y", ["x"], estimator="fe").fit(cov_type="clustered")
    >>> round(float(res.params["x"]), 1)
    2.0
    """

    def __init__(
        self,
        data: pd.DataFrame,
        dependent: str,
        exog: Sequence[str],
        *,
        entity: str | None = None,
        time: str | None = None,
        estimator: Estimator = "fe",
        constant: bool | None = None,
    ) -> None:
        check_choice("estimator", estimator, Estimator, error=CalibrationError)
        if isinstance(exog, str):
            exog = [exog]
        exog = list(exog)
        if not exog:
            raise CalibrationError("exog must name at least one regressor.")
        if dependent in exog:
            raise CalibrationError(f"The dependent variable {dependent!r} is also in exog.")
        if constant is None:
            constant = estimator in ("pooled", "re", "between")
        if constant and estimator == "fd":
            raise CalibrationError("First differences remove the intercept; use constant=False.")
        self._estimator = estimator
        self._dependent = dependent
        self._exog = exog
        self._constant = bool(constant)
        frame, self._info, self._n_dropped = prepare_panel(
            data, [dependent, *exog], entity=entity, time=time, context=f"{estimator} estimation"
        )
        if self._constant and "const" in exog:
            raise CalibrationError("A regressor is named 'const'; rename it or use constant=False.")
        # linearmodels refuses text periods with its own words; say which column
        check_time_kind(frame.index.get_level_values(1), str(frame.index.names[1]))
        n_regressors = len(exog) + int(self._constant)
        n_ent = self._info.n_entities
        if estimator == "re" and n_ent <= n_regressors:
            raise TooFewEntitiesError(
                "Random effects estimate the variance of the entity effects from the "
                "between regression, which needs more entities than regressors: the panel "
                f"has {n_ent} {'entity' if n_ent == 1 else 'entities'} for {n_regressors} "
                "regressor(s) (with the constant). Add entities or use pooled OLS."
            )
        self._frame = frame
        x = frame[exog]
        transform = ESTIMATORS[estimator][1]
        tx = transform_design(x, transform)
        if self._constant and estimator in ("pooled", "re", "between"):
            tx = tx.assign(const=1.0)
        check_rank(tx, original=x, context=f"the {ESTIMATORS[estimator][0]} design")
        if estimator == "fd" and self._info.max_periods < 2:
            raise CalibrationError("First differences need at least two periods per entity.")

    @property
    def info(self) -> PanelInfo:
        """Shape of the estimation sample."""
        return self._info

    @property
    def data(self) -> pd.DataFrame:
        """The validated estimation sample (dependent and regressors, float64)."""
        return self._frame.copy()

    def _model(self) -> Any:
        y = self._frame[self._dependent]
        x = self._frame[self._exog]
        if self._constant:
            x = pd.concat([pd.Series(1.0, index=x.index, name="const"), x], axis=1)
        est = self._estimator
        if est == "pooled":
            return PooledOLS(y, x)
        if est in ("fe", "te", "twfe"):
            return PanelOLS(
                y, x, entity_effects=est in ("fe", "twfe"), time_effects=est in ("te", "twfe")
            )
        if est == "re":
            return RandomEffects(y, x)
        if est == "between":
            return BetweenOLS(y, x)
        return FirstDifferenceOLS(y, x)

    def fit(
        self,
        *,
        cov_type: CovType = "unadjusted",
        cluster: Sequence[str] = ("entity",),
        bandwidth: float | None = None,
        kernel: Kernel = "bartlett",
        min_clusters: int = MIN_CLUSTERS,
        debiased: bool = True,
        group_debias: bool = False,
        auto_df: bool = True,
        count_effects: bool = True,
    ) -> PanelResults:
        """Estimate and return an immutable :class:`PanelResults`.

        Parameters
        ----------
        cov_type
            ``"unadjusted"`` (homoskedastic), ``"robust"`` (heteroskedasticity-robust),
            ``"clustered"`` (by ``cluster``), ``"driscoll-kraay"`` (robust to
            heteroskedasticity, serial and cross-sectional correlation; linearmodels'
            ``cov_type="kernel"``).
        cluster
            ``("entity",)``, ``("time",)`` or ``("entity", "time")`` (two-way).
        bandwidth
            Driscoll-Kraay lag truncation; default :func:`driscoll_kraay_bandwidth` of the
            number of periods (of differences, for ``"fd"``), which is linearmodels'
            default. The bandwidth used is recorded in the results
            (:attr:`PanelResults.bandwidth_used`).
        kernel
            Driscoll-Kraay kernel: ``"bartlett"``, ``"parzen"`` or ``"qs"``.
        min_clusters
            Fewest clusters accepted per clustering dimension.
        debiased
            Small-sample degrees-of-freedom correction (linearmodels' ``debiased``).
        group_debias
            With ``cov_type="clustered"``, also scale the covariance by
            ``G / (G - 1) * (n - 1) / n`` for ``G`` clusters (linearmodels'
            ``group_debias``; with two-way clustering, each of the three one-way
            covariances). With ``debiased=True`` it gives the clustered errors of Stata's
            ``regress, vce(cluster)`` and ``xtreg, fe vce(cluster)``.
        auto_df, count_effects
            For the effects estimators (``"fe"``, ``"te"``, ``"twfe"``): whether the
            absorbed effects count in the degrees of freedom of the covariance.
            linearmodels' ``auto_df`` (default) leaves out a single effect nested in
            the clusters; ``auto_df=False`` counts them as ``count_effects`` says.

        Raises
        ------
        TooFewClustersError
            Fewer than ``min_clusters`` clusters in a clustering dimension.
        CalibrationError
            Inadmissible options: for example ``group_debias=True`` without clustered
            errors, or ``auto_df``/``count_effects`` with an estimator without
            absorbed effects.
        NotEstimableError
            linearmodels cannot fit the model on these data (no residual degrees of
            freedom, a singular matrix); the message gives its reason.
        """
        check_choice("cov_type", cov_type, CovType, error=CalibrationError)
        key = _check_fit_options(cluster, min_clusters, bandwidth, kernel)
        _check_flags(
            debiased=debiased,
            group_debias=group_debias,
            auto_df=auto_df,
            count_effects=count_effects,
        )
        est = self._estimator
        if group_debias and cov_type != "clustered":
            raise CalibrationError(
                f"group_debias=True adjusts clustered errors only; cov_type is {cov_type!r}. "
                "Use cov_type='clustered' or leave group_debias False."
            )
        effects = est in ("fe", "te", "twfe")
        if not effects and not (auto_df and count_effects):
            raise CalibrationError(
                f"auto_df and count_effects count absorbed effects; the "
                f"{ESTIMATORS[est][0].lower()} estimator has none. Leave them at True."
            )
        options: dict[str, Any] = {}
        if cov_type == "clustered":
            if est in ("between", "fd") and key != ("entity",):
                raise CalibrationError(
                    f"The {ESTIMATORS[est][0].lower()} estimator can only cluster by entity "
                    "(linearmodels needs clusters constant across the rows it combines)."
                )
            _check_clusters_count(key, self._info, min_clusters)
            options["cluster"] = key
            options["group_debias"] = bool(group_debias)
        if effects:
            options["auto_df"], options["count_effects"] = bool(auto_df), bool(count_effects)
        if cov_type == "driscoll-kraay":
            if est == "between":
                raise CalibrationError(
                    "The between estimator has one row per entity; Driscoll-Kraay errors "
                    "need a time dimension. Use 'robust' or 'clustered'."
                )
            if self._info.n_periods < 4:
                raise CalibrationError(
                    f"Driscoll-Kraay errors need at least 4 periods; the panel has "
                    f"{self._info.n_periods}."
                )
            options["kernel"] = kernel
            if bandwidth is not None:
                if bandwidth < 0 or bandwidth >= self._info.n_periods:
                    raise CalibrationError(
                        f"bandwidth must be in [0, {self._info.n_periods}), got {bandwidth}."
                    )
                options["bandwidth"] = float(bandwidth)
                bandwidth_used = float(bandwidth)
            else:
                bandwidth_used = driscoll_kraay_bandwidth(self._kernel_periods())
        else:
            bandwidth_used = None
        model = self._model()
        fit_kw: dict[str, Any] = {"debiased": bool(debiased)}
        if effects:
            fit_kw.update(auto_df=bool(auto_df), count_effects=bool(count_effects))
        if cov_type == "unadjusted" or cov_type == "robust":
            fit_kw["cov_type"] = cov_type
        elif cov_type == "driscoll-kraay":
            fit_kw.update(cov_type="kernel", kernel=kernel, bandwidth=bandwidth_used)
        else:
            fit_kw["cov_type"] = "clustered"
            fit_kw.update(self._cluster_kw(options["cluster"]))
            fit_kw["group_debias"] = bool(group_debias)
        result = _fit_or_explain(lambda: model.fit(**fit_kw), ESTIMATORS[est][0])
        return PanelResults(
            result,
            estimator=est,
            dependent=self._dependent,
            cov_type=cov_type,
            cov_options=options,
            info=self._info,
            n_dropped=self._n_dropped,
            debiased=bool(debiased),
            bandwidth_used=bandwidth_used,
        )

    def _kernel_periods(self) -> int:
        """Count the periods whose summed scores enter the Driscoll-Kraay covariance."""
        if self._estimator == "fd":
            return _difference_periods(self._frame.index)
        return self._info.n_periods

    def _cluster_kw(self, key: tuple[str, ...]) -> dict[str, Any]:
        est = self._estimator
        if est in ("pooled", "fe", "te", "twfe", "re"):
            return {"cluster_entity": "entity" in key, "cluster_time": "time" in key}
        if est == "fd" and key == ("entity",):
            return {"cluster_entity": True}
        return {"clusters": _cluster_frame(self._frame.index, key)}


# --- instrumental variables ---------------------------------------------------------------


class PanelIV:
    """Linear panel IV: 2SLS or GMM, optionally with entity and/or time effects.

    linearmodels has no panel IV estimator, so effects are absorbed by demeaning the
    dependent variable, the regressors and the instruments within entity (and period)
    before calling :class:`linearmodels.iv.IV2SLS` or :class:`linearmodels.iv.IVGMM`;
    the covariance is then rescaled for the absorbed degrees of freedom.

    Parameters
    ----------
    data
        Long panel, indexed by (entity, time) or with ``entity`` and ``time`` columns.
    dependent
        Dependent variable.
    exog
        Exogenous regressors (may be empty).
    endog
        Endogenous regressors (for example program placement).
    instruments
        Excluded instruments (for example counterpart-assistance pairing); at least as
        many as ``endog``.
    entity, time
        Identifier columns when ``data`` is not indexed.
    estimator
        ``"2sls"`` or ``"gmm"`` (two-step efficient GMM).
    entity_effects, time_effects
        Absorb entity / period effects.

    Notes
    -----
    Degrees of freedom of the absorbed effects follow the Stata ``xtivreg2`` /
    ``reghdfe`` convention: the covariance (and the residual degrees of freedom for t
    inference) is scaled by ``(n - k) / (n - k - a)``, where ``a`` counts the absorbed
    effects that are *not* nested in the clusters: with entity effects, ``N`` entity
    effects (0 when clustering by entity); with time effects, ``T`` period effects, one
    fewer next to entity effects (0 when clustering by time). With clustered errors
    linearmodels' own small-sample factor ``G/(G-1) (n-1)/(n-k)`` thus becomes
    ``G/(G-1) (n-1)/(n-k-a)``; effects nested in the clusters are left out because
    the cluster-robust covariance already allows for them (Cameron and Miller 2015,
    section IV). linearmodels' ``PanelOLS`` (used by
    :class:`PanelRegression`) differs: it counts every absorbed effect, nested in the
    clusters or not, so its clustered errors are somewhat larger than ``reghdfe``'s
    for the same model.
    """

    def __init__(
        self,
        data: pd.DataFrame,
        dependent: str,
        exog: Sequence[str],
        endog: Sequence[str],
        instruments: Sequence[str],
        *,
        entity: str | None = None,
        time: str | None = None,
        estimator: IVEstimator = "2sls",
        entity_effects: bool = True,
        time_effects: bool = False,
    ) -> None:
        check_choice("estimator", estimator, IVEstimator, error=CalibrationError)
        exog, endog, instruments = list(exog), list(endog), list(instruments)
        if not endog:
            raise CalibrationError("endog must name at least one endogenous regressor.")
        if len(instruments) < len(endog):
            raise CalibrationError(
                f"{len(instruments)} instrument(s) for {len(endog)} endogenous regressor(s); "
                "the model is not identified."
            )
        cols = [dependent, *exog, *endog, *instruments]
        frame, self._info, self._n_dropped = prepare_panel(
            data, cols, entity=entity, time=time, context="IV estimation"
        )
        table: dict[tuple[bool, bool], Transform] = {
            (True, True): "twoway",
            (True, False): "entity",
            (False, True): "time",
            (False, False): "none",
        }
        transform = table[(entity_effects, time_effects)]
        self._transform = transform
        tf = transform_design(frame, transform)
        if transform == "none":
            tf = tf.assign(const=1.0)
            exog = ["const", *exog]
        check_rank(
            tf[exog + endog],
            original=frame.assign(const=1.0)[exog + endog],
            context="the IV regressors",
        )
        check_rank(
            tf[exog + instruments],
            original=frame.assign(const=1.0)[exog + instruments],
            context="the IV instruments",
        )
        self._frame = tf
        self._dependent, self._exog, self._endog, self._instr = dependent, exog, endog, instruments
        self._estimator = estimator
        self._entity_effects, self._time_effects = entity_effects, time_effects

    def fit(
        self,
        *,
        cov_type: BasicCovType = "robust",
        cluster: Sequence[str] = ("entity",),
        min_clusters: int = MIN_CLUSTERS,
    ) -> PanelIVResults:
        """Estimate and return an immutable :class:`PanelIVResults`.

        Parameters
        ----------
        cov_type
            ``"unadjusted"``, ``"robust"`` or ``"clustered"``, as in
            :meth:`PanelRegression.fit` (no Driscoll-Kraay). For GMM the same choice sets
            the weighting matrix.
        cluster, min_clusters
            As in :meth:`PanelRegression.fit`.

        Raises
        ------
        TooFewClustersError
            Fewer than ``min_clusters`` clusters in a clustering dimension.
        NotEstimableError
            linearmodels cannot fit the model on these data; the message gives its reason.
        """
        check_choice("cov_type", cov_type, BasicCovType, error=CalibrationError)
        key = _check_fit_options(cluster, min_clusters)
        f = self._frame
        y = f[self._dependent]
        exog = f[self._exog] if self._exog else None
        endog, instr = f[self._endog], f[self._instr]
        kw: dict[str, Any] = {}
        if cov_type == "clustered":
            _check_clusters_count(key, self._info, min_clusters)
            clusters = _cluster_frame(f.index, key)
            kw["clusters"] = clusters.iloc[:, 0] if len(key) == 1 else clusters
        else:
            key = ()
        if self._estimator == "2sls":
            model: Any = IV2SLS(y, exog, endog, instr)
        else:
            model = IVGMM(y, exog, endog, instr, weight_type=cov_type, **kw)
        res = _fit_or_explain(
            lambda: model.fit(cov_type=cov_type, debiased=True, **kw),
            f"panel IV ({self._estimator})",
        )
        n, k = int(res.nobs), len(res.params)
        extra = 0
        if self._entity_effects and "entity" not in key:
            extra += self._info.n_entities
        if self._time_effects and "time" not in key:
            extra += self._info.n_periods - (0 if extra == 0 and not self._entity_effects else 1)
        if n - k - extra <= 0:
            raise CalibrationError("No residual degrees of freedom remain after the effects.")
        # linearmodels' debiased covariance uses n - k; the absorbed effects not nested
        # in the clusters use `extra` more degrees of freedom (see the class notes)
        scale = (n - k) / (n - k - extra)
        effects: str = {
            "twoway": "entity and time",
            "entity": "entity",
            "time": "time",
            "none": "none",
        }[self._transform]
        return PanelIVResults(
            res,
            estimator=self._estimator,
            dependent=self._dependent,
            cov_type=cov_type,
            scale=scale,
            df_resid=n - k - extra,
            info=self._info,
            n_dropped=self._n_dropped,
            effects=effects,
        )
