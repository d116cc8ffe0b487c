"""Machinery the estimator families share: panel validation and the results base class.

:mod:`~talentplan.calibrate.shared.validation` indexes, checks and cleans a panel once,
at the boundary (:func:`prepare_panel`, :func:`set_panel_index`, :func:`check_rank`,
:func:`transform_design`, ...), raising the named errors of :mod:`talentplan.errors`;
:mod:`~talentplan.calibrate.shared.results` holds :class:`EstimationResults`, from which
every family's results derive their inference, and :func:`compare`, which lays results
side by side. Names are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from talentplan.calibrate._lazy import lazy_attribute, lazy_dir

_EXPORTS = {
    "EstimationResults": "talentplan.calibrate.shared.results",
    "HasEstimates": "talentplan.calibrate.shared.results",
    "Layout": "talentplan.calibrate.shared.results",
    "check_level": "talentplan.calibrate.shared.results",
    "compare": "talentplan.calibrate.shared.results",
    "PanelInfo": "talentplan.calibrate.shared.validation",
    "Transform": "talentplan.calibrate.shared.validation",
    "check_duplicates": "talentplan.calibrate.shared.validation",
    "check_numeric": "talentplan.calibrate.shared.validation",
    "check_rank": "talentplan.calibrate.shared.validation",
    "drop_missing": "talentplan.calibrate.shared.validation",
    "panel_info": "talentplan.calibrate.shared.validation",
    "prepare_panel": "talentplan.calibrate.shared.validation",
    "set_panel_index": "talentplan.calibrate.shared.validation",
    "transform_design": "talentplan.calibrate.shared.validation",
}

__all__ = [
    "EstimationResults",
    "HasEstimates",
    "Layout",
    "PanelInfo",
    "Transform",
    "check_duplicates",
    "check_level",
    "check_numeric",
    "check_rank",
    "compare",
    "drop_missing",
    "panel_info",
    "prepare_panel",
    "set_panel_index",
    "transform_design",
]

if TYPE_CHECKING:
    from talentplan.calibrate.shared.results import (
        EstimationResults,
        HasEstimates,
        Layout,
        check_level,
        compare,
    )
    from talentplan.calibrate.shared.validation import (
        PanelInfo,
        Transform,
        check_duplicates,
        check_numeric,
        check_rank,
        drop_missing,
        panel_info,
        prepare_panel,
        set_panel_index,
        transform_design,
    )


def __getattr__(name: str) -> Any:
    """Import the module defining ``name`` on first use."""
    return lazy_attribute(globals(), _EXPORTS, name)


def __dir__() -> list[str]:
    """List the package's attributes, including the names not imported yet."""
    return lazy_dir(globals(), _EXPORTS)
