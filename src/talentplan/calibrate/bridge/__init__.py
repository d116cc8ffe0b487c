"""From estimates to the allocation model: calibration specs, transforms and simulation.

A TOML :class:`CalibrationSpec` (:mod:`~talentplan.calibrate.bridge.spec`) names the
estimations to run and maps their parameters to model keys; the estimators it may name
are listed in :mod:`~talentplan.calibrate.bridge.registry` and fitted by
:func:`fit_estimation` (:mod:`~talentplan.calibrate.bridge.dispatch`); the maps go
through the :data:`TRANSFORMS` with the delta method
(:mod:`~talentplan.calibrate.bridge.transforms`); and :func:`run_calibration` and
:func:`calibrate_command` (:mod:`~talentplan.calibrate.bridge.run`) turn a panel and a
spec into :class:`~talentplan.data.parameters.ResponseParameters`. The structural panel
simulator :func:`simulate_panel` (:mod:`~talentplan.calibrate.bridge.simulator`) draws
panels with known true parameters to test all of it. Names are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from talentplan.calibrate._lazy import lazy_attribute, lazy_dir

_EXPORTS = {
    "fit_estimation": "talentplan.calibrate.bridge.dispatch",
    "calibrate_command": "talentplan.calibrate.bridge.run",
    "run_calibration": "talentplan.calibrate.bridge.run",
    "DEFAULT_TRUTH": "talentplan.calibrate.bridge.simulator",
    "SimulatedPanel": "talentplan.calibrate.bridge.simulator",
    "simulate_panel": "talentplan.calibrate.bridge.simulator",
    "SIMULATED_PANEL_SPEC": "talentplan.calibrate.bridge.spec",
    "CalibrationSpec": "talentplan.calibrate.bridge.spec",
    "EstimationSpec": "talentplan.calibrate.bridge.spec",
    "simulated_panel_spec": "talentplan.calibrate.bridge.spec",
    "TRANSFORMS": "talentplan.calibrate.bridge.transforms",
    "ParameterMap": "talentplan.calibrate.bridge.transforms",
    "block_diagonal": "talentplan.calibrate.bridge.transforms",
    "transform_estimates": "talentplan.calibrate.bridge.transforms",
}

__all__ = [
    "DEFAULT_TRUTH",
    "SIMULATED_PANEL_SPEC",
    "TRANSFORMS",
    "CalibrationSpec",
    "EstimationSpec",
    "ParameterMap",
    "SimulatedPanel",
    "block_diagonal",
    "calibrate_command",
    "fit_estimation",
    "run_calibration",
    "simulate_panel",
    "simulated_panel_spec",
    "transform_estimates",
]

if TYPE_CHECKING:
    from talentplan.calibrate.bridge.dispatch import fit_estimation
    from talentplan.calibrate.bridge.run import calibrate_command, run_calibration
    from talentplan.calibrate.bridge.simulator import (
        DEFAULT_TRUTH,
        SimulatedPanel,
        simulate_panel,
    )
    from talentplan.calibrate.bridge.spec import (
        SIMULATED_PANEL_SPEC,
        CalibrationSpec,
        EstimationSpec,
        simulated_panel_spec,
    )
    from talentplan.calibrate.bridge.transforms import (
        TRANSFORMS,
        ParameterMap,
        block_diagonal,
        transform_estimates,
    )


def __getattr__(name: str) -> Any:
    """Import the module defining ``name`` on first use."""
    return lazy_attribute(globals(), _EXPORTS, name)


def __dir__() -> list[str]:
    """List the package's attributes, including the names not imported yet."""
    return lazy_dir(globals(), _EXPORTS)
