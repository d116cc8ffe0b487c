"""Dynamic panel GMM: Arellano-Bond difference and Blundell-Bond system estimators.

:class:`DynamicPanelGMM` (:mod:`~talentplan.calibrate.dynamic.model`) validates the
panel and stacks the transformed equations with their instruments
(:mod:`~talentplan.calibrate.dynamic.instruments`); the one- and two-step estimates,
their covariances and the Sargan, Hansen and Arellano-Bond statistics are computed in
:mod:`~talentplan.calibrate.dynamic.gmm` and reported by :class:`DynamicPanelGMMResults`
with :class:`SpecificationTest` records (:mod:`~talentplan.calibrate.dynamic.results`).
Conventions follow Stata's ``xtabond`` and ``xtdpdsys``. Names are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from talentplan.calibrate._lazy import lazy_attribute, lazy_dir

_EXPORTS = {
    "DynamicPanelGMM": "talentplan.calibrate.dynamic.model",
    "Method": "talentplan.calibrate.dynamic.model",
    "Steps": "talentplan.calibrate.dynamic.model",
    "CovType": "talentplan.calibrate.dynamic.results",
    "DynamicPanelGMMResults": "talentplan.calibrate.dynamic.results",
    "SpecificationTest": "talentplan.calibrate.dynamic.results",
}

__all__ = [
    "CovType",
    "DynamicPanelGMM",
    "DynamicPanelGMMResults",
    "Method",
    "SpecificationTest",
    "Steps",
]

if TYPE_CHECKING:
    from talentplan.calibrate.dynamic.model import DynamicPanelGMM, Method, Steps
    from talentplan.calibrate.dynamic.results import (
        CovType,
        DynamicPanelGMMResults,
        SpecificationTest,
    )


def __getattr__(name: str) -> Any:
    """Import the module defining ``name`` on first use."""
    return lazy_attribute(globals(), _EXPORTS, name)


def __dir__() -> list[str]:
    """List the package's attributes, including the names not imported yet."""
    return lazy_dir(globals(), _EXPORTS)
