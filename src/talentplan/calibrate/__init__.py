"""Calibration: panel estimators, their results, and the bridge to the allocation model.

Estimators (constructor takes the data, ``fit(*, ...)`` the options, results are
immutable):

- :class:`PanelRegression` (pooled, fixed/time/two-way effects, random effects, between,
  first difference) and :class:`PanelIV` (2SLS/GMM with absorbed effects);
- :class:`DynamicPanelGMM` (Arellano-Bond difference and Blundell-Bond system GMM);
- :class:`StaggeredDiD` (Callaway-Sant'Anna group-time effects);
- :class:`SpilloverPanel` (spatial lags and core-city decay, Conley errors), with
  :func:`distance_weights`, :func:`distance_matrix`, :func:`spatial_lag`;
- :func:`hausman`, :func:`mundlak` and :func:`compare`.

Bridge to the model: :class:`ResponseParameters`; TOML specs (:class:`CalibrationSpec`,
:func:`run_calibration`, :func:`calibrate_command`); the structural panel simulator
(:func:`simulate_panel`); and the end-to-end regret (:func:`apply_parameters`,
:func:`plan_regret`, :func:`end_to_end_regret`).

Names are imported on first use, so ``import talentplan.calibrate`` does not load
linearmodels or scipy (only numpy and pandas).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Bound eagerly: the function shares its name with its module, and a lazy binding would
# be shadowed by the submodule once anything imports ``talentplan.calibrate.simulate_panel``.
from talentplan.calibrate.simulate_panel import DEFAULT_TRUTH, SimulatedPanel, simulate_panel

_LAZY = {
    # panel.py, panel_results.py
    "PanelRegression": "panel",
    "PanelResults": "panel_results",
    "PanelIV": "panel",
    "PanelIVResults": "panel_results",
    # specification.py
    "hausman": "specification",
    "mundlak": "specification",
    "HausmanResult": "specification",
    "MundlakResult": "specification",
    "WaldTest": "specification",
    # dynamic.py, dynamic_results.py
    "DynamicPanelGMM": "dynamic",
    "DynamicPanelGMMResults": "dynamic_results",
    "SpecificationTest": "dynamic_results",
    # staggered.py, staggered_results.py
    "StaggeredDiD": "staggered",
    "StaggeredDiDResults": "staggered_results",
    "AggregatedEffects": "staggered_results",
    "PreTrendTest": "staggered_results",
    # spatial.py, spatial_weights.py
    "SpilloverPanel": "spatial",
    "ConleyResults": "spatial",
    "conley_cov": "spatial",
    "distance_matrix": "spatial_weights",
    "distance_weights": "spatial_weights",
    "spatial_lag": "spatial_weights",
    # results.py
    "EstimationResults": "results",
    "compare": "results",
    # parameters.py, provenance.py
    "ResponseParameters": "parameters",
    "Provenance": "provenance",
    "panel_hash": "provenance",
    "parse_key": "provenance",
    # spec.py, transforms.py, run.py
    "CalibrationSpec": "spec",
    "EstimationSpec": "spec",
    "ParameterMap": "transforms",
    "TRANSFORMS": "transforms",
    "run_calibration": "run",
    "calibrate_command": "run",
    "simulated_panel_spec": "spec",
    # regret.py
    "RegretReport": "regret",
    "apply_parameters": "regret",
    "plan_regret": "regret",
    "end_to_end_regret": "regret",
}

__all__ = [
    "DEFAULT_TRUTH",
    "TRANSFORMS",
    "AggregatedEffects",
    "CalibrationSpec",
    "ConleyResults",
    "DynamicPanelGMM",
    "DynamicPanelGMMResults",
    "EstimationResults",
    "EstimationSpec",
    "HausmanResult",
    "MundlakResult",
    "PanelIV",
    "PanelIVResults",
    "PanelRegression",
    "PanelResults",
    "ParameterMap",
    "PreTrendTest",
    "Provenance",
    "RegretReport",
    "ResponseParameters",
    "SimulatedPanel",
    "SpecificationTest",
    "SpilloverPanel",
    "StaggeredDiD",
    "StaggeredDiDResults",
    "WaldTest",
    "apply_parameters",
    "calibrate_command",
    "compare",
    "conley_cov",
    "distance_matrix",
    "distance_weights",
    "end_to_end_regret",
    "hausman",
    "mundlak",
    "panel_hash",
    "parse_key",
    "plan_regret",
    "run_calibration",
    "simulate_panel",
    "simulated_panel_spec",
    "spatial_lag",
]

if TYPE_CHECKING:
    from talentplan.calibrate.dynamic import DynamicPanelGMM
    from talentplan.calibrate.dynamic_results import DynamicPanelGMMResults, SpecificationTest
    from talentplan.calibrate.panel import PanelIV, PanelRegression
    from talentplan.calibrate.panel_results import PanelIVResults, PanelResults
    from talentplan.calibrate.parameters import ResponseParameters
    from talentplan.calibrate.provenance import Provenance, panel_hash, parse_key
    from talentplan.calibrate.regret import (
        RegretReport,
        apply_parameters,
        end_to_end_regret,
        plan_regret,
    )
    from talentplan.calibrate.results import EstimationResults, compare
    from talentplan.calibrate.run import calibrate_command, run_calibration
    from talentplan.calibrate.spatial import ConleyResults, SpilloverPanel, conley_cov
    from talentplan.calibrate.spatial_weights import (
        distance_matrix,
        distance_weights,
        spatial_lag,
    )
    from talentplan.calibrate.spec import CalibrationSpec, EstimationSpec, simulated_panel_spec
    from talentplan.calibrate.specification import (
        HausmanResult,
        MundlakResult,
        WaldTest,
        hausman,
        mundlak,
    )
    from talentplan.calibrate.staggered import StaggeredDiD
    from talentplan.calibrate.staggered_results import (
        AggregatedEffects,
        PreTrendTest,
        StaggeredDiDResults,
    )
    from talentplan.calibrate.transforms import TRANSFORMS, ParameterMap


def __getattr__(name: str) -> Any:
    """Import the module defining ``name`` on first use."""
    if name in _LAZY:
        value = getattr(import_module(f"talentplan.calibrate.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'talentplan.calibrate' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
