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

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from talentplan.calibrate._lazy import lazy_attribute, lazy_dir

_EXPORTS = {
    "Effects": "talentplan.calibrate.spatial.model",
    "SpilloverCovType": "talentplan.calibrate.spatial.model",
    "SpilloverPanel": "talentplan.calibrate.spatial.model",
    "ConleyKernel": "talentplan.calibrate.spatial.covariance",
    "ConleyResults": "talentplan.calibrate.spatial.covariance",
    "conley_cov": "talentplan.calibrate.spatial.covariance",
    "EARTH_RADIUS_KM": "talentplan.calibrate.spatial.weights",
    "Metric": "talentplan.calibrate.spatial.weights",
    "WeightKind": "talentplan.calibrate.spatial.weights",
    "distance_matrix": "talentplan.calibrate.spatial.weights",
    "distance_weights": "talentplan.calibrate.spatial.weights",
    "spatial_lag": "talentplan.calibrate.spatial.weights",
}

__all__ = [
    "EARTH_RADIUS_KM",
    "ConleyKernel",
    "ConleyResults",
    "Effects",
    "Metric",
    "SpilloverCovType",
    "SpilloverPanel",
    "WeightKind",
    "conley_cov",
    "distance_matrix",
    "distance_weights",
    "spatial_lag",
]

if TYPE_CHECKING:
    from talentplan.calibrate.spatial.covariance import ConleyKernel, ConleyResults, conley_cov
    from talentplan.calibrate.spatial.model import Effects, SpilloverCovType, SpilloverPanel
    from talentplan.calibrate.spatial.weights import (
        EARTH_RADIUS_KM,
        Metric,
        WeightKind,
        distance_matrix,
        distance_weights,
        spatial_lag,
    )


def __getattr__(name: str) -> Any:
    """Import the module defining ``name`` on first use."""
    return lazy_attribute(globals(), _EXPORTS, name)


def __dir__() -> list[str]:
    """List the package's attributes, including the names not imported yet."""
    return lazy_dir(globals(), _EXPORTS)
