"""Dynamic panel GMM: Arellano-Bond difference and Blundell-Bond system estimators.

:class:`DynamicPanelGMM` (:mod:`~talentplan.calibrate.dynamic.model`) validates the
panel and stacks the transformed equations with their instruments
(:mod:`~talentplan.calibrate.dynamic.instruments`); the one- and two-step estimates,
their covariances and the Sargan, Hansen and Arellano-Bond statistics are computed in
:mod:`~talentplan.calibrate.dynamic.gmm` and reported by :class:`DynamicPanelGMMResults`
with :class:`SpecificationTest` records (:mod:`~talentplan.calibrate.dynamic.results`).
Conventions follow Stata's ``xtabond`` and ``xtdpdsys``.
Its main names are importable from here, bound on first use.
"""

from talentplan.calibrate._exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "model": ("DynamicPanelGMM",),
        "results": ("DynamicPanelGMMResults", "SpecificationTest"),
    },
)
