"""Dynamic panel GMM: Arellano-Bond difference and Blundell-Bond system estimators.

:class:`DynamicPanelGMM` (:mod:`~talentplan.calibrate.dynamic.model`) validates the
panel and stacks the transformed equations with their instruments
(:mod:`~talentplan.calibrate.dynamic.instruments`); the one- and two-step estimates,
their covariances and the Sargan, Hansen and Arellano-Bond statistics are computed in
:mod:`~talentplan.calibrate.dynamic.gmm` and reported by :class:`DynamicPanelGMMResults`
with :class:`SpecificationTest` records (:mod:`~talentplan.calibrate.dynamic.results`).
Conventions follow Stata's ``xtabond`` and ``xtdpdsys``.
"""
