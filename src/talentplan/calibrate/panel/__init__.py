"""Static panel regression and panel IV, their results, and specification tests.

:class:`PanelRegression` gives one constructor for pooled OLS, entity, time and two-way
fixed effects, random effects, between and first-difference estimators, and
:class:`PanelIV` estimates by 2SLS or GMM with absorbed effects; both are typed
wrappers over linearmodels (:mod:`~talentplan.calibrate.panel.model`) whose fits are
read through :class:`PanelResults` and :class:`PanelIVResults`
(:mod:`~talentplan.calibrate.panel.results`). The Hausman and Mundlak tests of fixed
against random effects are in :mod:`~talentplan.calibrate.panel.specification_tests`.
Names are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from talentplan.calibrate._lazy import lazy_attribute, lazy_dir

_EXPORTS = {
    "MIN_CLUSTERS": "talentplan.calibrate.panel.model",
    "BasicCovType": "talentplan.calibrate.panel.model",
    "CovType": "talentplan.calibrate.panel.model",
    "IVEstimator": "talentplan.calibrate.panel.model",
    "Kernel": "talentplan.calibrate.panel.model",
    "PanelIV": "talentplan.calibrate.panel.model",
    "PanelRegression": "talentplan.calibrate.panel.model",
    "driscoll_kraay_bandwidth": "talentplan.calibrate.panel.model",
    "ESTIMATORS": "talentplan.calibrate.panel.results",
    "Estimator": "talentplan.calibrate.panel.results",
    "PanelIVResults": "talentplan.calibrate.panel.results",
    "PanelResults": "talentplan.calibrate.panel.results",
    "HausmanResult": "talentplan.calibrate.panel.specification_tests",
    "MundlakResult": "talentplan.calibrate.panel.specification_tests",
    "WaldTest": "talentplan.calibrate.panel.specification_tests",
    "hausman": "talentplan.calibrate.panel.specification_tests",
    "mundlak": "talentplan.calibrate.panel.specification_tests",
}

__all__ = [
    "ESTIMATORS",
    "MIN_CLUSTERS",
    "BasicCovType",
    "CovType",
    "Estimator",
    "HausmanResult",
    "IVEstimator",
    "Kernel",
    "MundlakResult",
    "PanelIV",
    "PanelIVResults",
    "PanelRegression",
    "PanelResults",
    "WaldTest",
    "driscoll_kraay_bandwidth",
    "hausman",
    "mundlak",
]

if TYPE_CHECKING:
    from talentplan.calibrate.panel.model import (
        MIN_CLUSTERS,
        BasicCovType,
        CovType,
        IVEstimator,
        Kernel,
        PanelIV,
        PanelRegression,
        driscoll_kraay_bandwidth,
    )
    from talentplan.calibrate.panel.results import (
        ESTIMATORS,
        Estimator,
        PanelIVResults,
        PanelResults,
    )
    from talentplan.calibrate.panel.specification_tests import (
        HausmanResult,
        MundlakResult,
        WaldTest,
        hausman,
        mundlak,
    )


def __getattr__(name: str) -> Any:
    """Import the module defining ``name`` on first use."""
    return lazy_attribute(globals(), _EXPORTS, name)


def __dir__() -> list[str]:
    """List the package's attributes, including the names not imported yet."""
    return lazy_dir(globals(), _EXPORTS)
