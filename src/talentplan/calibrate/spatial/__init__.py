"""Spatial spillovers: distance weights, spatial lags, the siphon panel and Conley errors.

:mod:`~talentplan.calibrate.spatial.weights` builds distance matrices, spatial weights
and spatial lags (numpy and pandas only); :class:`SpilloverPanel`
(:mod:`~talentplan.calibrate.spatial.model`) regresses an outcome on own regressors,
their spatial lags and core-distance decay terms by fixed effects; and
:func:`conley_cov` with :class:`ConleyResults`
(:mod:`~talentplan.calibrate.spatial.covariance`) gives Conley (1999) spatial HAC
errors. Names are imported on first use, so the weights need neither linearmodels nor
scipy.
"""
