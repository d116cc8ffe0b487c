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
panels with known true parameters to test all of it.
"""
