"""Spatial spillovers: distance weights, spatial lags, the siphon panel and Conley errors.

:mod:`~talentplan.calibrate.spatial.weights` builds distance matrices, spatial weights
and spatial lags (numpy and pandas only); :class:`SpilloverPanel`
(:mod:`~talentplan.calibrate.spatial.model`) regresses an outcome on own regressors,
their spatial lags and core-distance decay terms by fixed effects; and
:func:`conley_cov` with :class:`ConleyResults`
(:mod:`~talentplan.calibrate.spatial.covariance`) gives Conley (1999) spatial HAC
errors. Its main names are importable from here, bound on first use, so the weights
need neither linearmodels nor scipy.
"""

from talentplan.calibrate._exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "model": ("SpilloverPanel",),
        "covariance": ("ConleyResults", "conley_cov"),
        "weights": ("distance_matrix", "distance_weights", "spatial_lag"),
    },
)
