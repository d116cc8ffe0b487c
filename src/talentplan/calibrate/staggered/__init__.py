"""Staggered difference-in-differences: Callaway and Sant'Anna group-time effects.

:class:`StaggeredDiD` (:mod:`~talentplan.calibrate.staggered.model`) estimates one
ATT(g,t) per treatment group and period, as R's ``did`` package does, with the
two-period estimators, influence functions, aggregations and multiplier bootstrap of
:mod:`~talentplan.calibrate.staggered.estimators`. :class:`StaggeredDiDResults`,
:class:`AggregatedEffects` and :class:`PreTrendTest`
(:mod:`~talentplan.calibrate.staggered.results`) report them. Its main names are
importable from here, bound on first use.
"""

from talentplan.calibrate._exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "model": ("StaggeredDiD",),
        "results": ("AggregatedEffects", "PreTrendTest", "StaggeredDiDResults"),
    },
)
