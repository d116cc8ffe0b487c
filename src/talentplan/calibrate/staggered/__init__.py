"""Staggered difference-in-differences: Callaway and Sant'Anna group-time effects.

:class:`StaggeredDiD` (:mod:`~talentplan.calibrate.staggered.model`) estimates one
ATT(g,t) per treatment group and period, as R's ``did`` package does, with the
two-period estimators, influence functions, aggregations and multiplier bootstrap of
:mod:`~talentplan.calibrate.staggered.estimators`. :class:`StaggeredDiDResults`,
:class:`AggregatedEffects` and :class:`PreTrendTest`
(:mod:`~talentplan.calibrate.staggered.results`) report them. Names are imported on
first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from talentplan.calibrate._lazy import lazy_attribute, lazy_dir

_EXPORTS = {
    "BasePeriod": "talentplan.calibrate.staggered.model",
    "Control": "talentplan.calibrate.staggered.model",
    "Method": "talentplan.calibrate.staggered.model",
    "StaggeredDiD": "talentplan.calibrate.staggered.model",
    "AggregatedEffects": "talentplan.calibrate.staggered.results",
    "PreTrendTest": "talentplan.calibrate.staggered.results",
    "StaggeredDiDResults": "talentplan.calibrate.staggered.results",
    "AggKind": "talentplan.calibrate.staggered.estimators",
    "BootWeights": "talentplan.calibrate.staggered.estimators",
}

__all__ = [
    "AggKind",
    "AggregatedEffects",
    "BasePeriod",
    "BootWeights",
    "Control",
    "Method",
    "PreTrendTest",
    "StaggeredDiD",
    "StaggeredDiDResults",
]

if TYPE_CHECKING:
    from talentplan.calibrate.staggered.estimators import AggKind, BootWeights
    from talentplan.calibrate.staggered.model import (
        BasePeriod,
        Control,
        Method,
        StaggeredDiD,
    )
    from talentplan.calibrate.staggered.results import (
        AggregatedEffects,
        PreTrendTest,
        StaggeredDiDResults,
    )


def __getattr__(name: str) -> Any:
    """Import the module defining ``name`` on first use."""
    return lazy_attribute(globals(), _EXPORTS, name)


def __dir__() -> list[str]:
    """List the package's attributes, including the names not imported yet."""
    return lazy_dir(globals(), _EXPORTS)
