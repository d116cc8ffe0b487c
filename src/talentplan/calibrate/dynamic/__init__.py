"""Dynamic panel GMM: Arellano-Bond difference and Blundell-Bond system estimators.

:class:`DynamicPanelGMM` (:mod:`~talentplan.calibrate.dynamic.model`) validates the
panel and stacks the transformed equations with their instruments
(:mod:`~talentplan.calibrate.dynamic.instruments`, whose :class:`GMMStyle` and
:class:`IVStyle` are the per-variable instrument specifications); the one- and
two-step estimates, their covariances and the Sargan, Hansen and Arellano-Bond
statistics are computed in
:mod:`~talentplan.calibrate.dynamic.gmm` and reported by :class:`DynamicPanelGMMResults`
with :class:`SpecificationTest` records (:mod:`~talentplan.calibrate.dynamic.results`).
Defaults follow Stata's ``xtabond`` and ``xtdpdsys``; the instrument specifications,
the one-step weighting ``h``, ``small`` and the Sargan statistic follow ``xtabond2``
(Roodman 2009).
Its main names are importable from here, bound on first use.
"""

from talentplan.calibrate._exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "instruments": ("GMMStyle", "IVStyle"),
        "model": ("DynamicPanelGMM",),
        "results": ("DynamicPanelGMMResults", "SpecificationTest"),
    },
)
