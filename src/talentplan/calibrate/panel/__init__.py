"""Static panel regression and panel IV, their results, and specification tests.

:class:`PanelRegression` gives one constructor for pooled OLS, entity, time and two-way
fixed effects, random effects, between and first-difference estimators, and
:class:`PanelIV` estimates by 2SLS or GMM with absorbed effects; both are typed
wrappers over linearmodels (:mod:`~talentplan.calibrate.panel.model`) whose fits are
read through :class:`PanelResults` and :class:`PanelIVResults`
(:mod:`~talentplan.calibrate.panel.results`). The Hausman and Mundlak tests of fixed
against random effects are in :mod:`~talentplan.calibrate.panel.specification_tests`.
Its main names are importable from here, bound on first use.
"""

from talentplan.calibrate._exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "model": ("MIN_CLUSTERS", "PanelIV", "PanelRegression"),
        "results": ("PanelIVResults", "PanelResults"),
        "specification_tests": ("HausmanResult", "MundlakResult", "WaldTest", "hausman", "mundlak"),
    },
)
