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

Bridge to the model: :class:`ResponseParameters` (defined in the data layer, which
reads them into instances; :func:`apply_parameters`); TOML specs
(:class:`CalibrationSpec`, :func:`run_calibration`, :func:`calibrate_command`); and the
structural panel simulator (:func:`simulate_panel`). This package depends on
:mod:`talentplan.data` alone and never solves a plan: the end-to-end regret of planning
with estimates is :func:`talentplan.scenarios.end_to_end_regret`.

Names are imported on first use, so ``import talentplan.calibrate`` does not load
linearmodels or scipy (only numpy and pandas).
"""

from __future__ import annotations

import warnings
from importlib import import_module
from typing import TYPE_CHECKING, Any

# Bound eagerly: the function shares its name with its module, and a lazy binding would
# be shadowed by the submodule once anything imports ``talentplan.calibrate.simulate_panel``.
from talentplan.calibrate.simulate_panel import DEFAULT_TRUTH, SimulatedPanel, simulate_panel

_LAZY = {
    # panel.py, panel_results.py
    "PanelRegression": "talentplan.calibrate.panel",
    "PanelResults": "talentplan.calibrate.panel_results",
    "PanelIV": "talentplan.calibrate.panel",
    "PanelIVResults": "talentplan.calibrate.panel_results",
    # specification.py
    "hausman": "talentplan.calibrate.specification",
    "mundlak": "talentplan.calibrate.specification",
    "HausmanResult": "talentplan.calibrate.specification",
    "MundlakResult": "talentplan.calibrate.specification",
    "WaldTest": "talentplan.calibrate.specification",
    # dynamic.py, dynamic_results.py
    "DynamicPanelGMM": "talentplan.calibrate.dynamic",
    "DynamicPanelGMMResults": "talentplan.calibrate.dynamic_results",
    "SpecificationTest": "talentplan.calibrate.dynamic_results",
    # staggered.py, staggered_results.py
    "StaggeredDiD": "talentplan.calibrate.staggered",
    "StaggeredDiDResults": "talentplan.calibrate.staggered_results",
    "AggregatedEffects": "talentplan.calibrate.staggered_results",
    "PreTrendTest": "talentplan.calibrate.staggered_results",
    # spatial.py, spatial_weights.py
    "SpilloverPanel": "talentplan.calibrate.spatial",
    "ConleyResults": "talentplan.calibrate.spatial",
    "conley_cov": "talentplan.calibrate.spatial",
    "distance_matrix": "talentplan.calibrate.spatial_weights",
    "distance_weights": "talentplan.calibrate.spatial_weights",
    "spatial_lag": "talentplan.calibrate.spatial_weights",
    # results.py
    "EstimationResults": "talentplan.calibrate.results",
    "compare": "talentplan.calibrate.results",
    # parameters.py, provenance.py
    "ResponseParameters": "talentplan.data.parameters",
    "Provenance": "talentplan.data.provenance",
    "panel_hash": "talentplan.data.provenance",
    "parse_key": "talentplan.data.provenance",
    "apply_parameters": "talentplan.data.responses",
    # spec.py, transforms.py, run.py
    "CalibrationSpec": "talentplan.calibrate.spec",
    "EstimationSpec": "talentplan.calibrate.spec",
    "ParameterMap": "talentplan.calibrate.transforms",
    "TRANSFORMS": "talentplan.calibrate.transforms",
    "run_calibration": "talentplan.calibrate.run",
    "calibrate_command": "talentplan.calibrate.run",
    "simulated_panel_spec": "talentplan.calibrate.spec",
}

# Planning with estimates solves plans, so it lives in the scenarios layer above this
# package; the old names still resolve, with a DeprecationWarning, until 0.3.
_MOVED = {
    "RegretReport": "talentplan.scenarios.regret",
    "plan_regret": "talentplan.scenarios.regret",
    "end_to_end_regret": "talentplan.scenarios.regret",
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
    "hausman",
    "mundlak",
    "panel_hash",
    "parse_key",
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
    from talentplan.data.parameters import ResponseParameters
    from talentplan.data.provenance import Provenance, panel_hash, parse_key
    from talentplan.data.responses import apply_parameters


def __getattr__(name: str) -> Any:
    """Import the module defining ``name`` on first use."""
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _MOVED:
        warnings.warn(
            f"talentplan.calibrate.{name} moved to talentplan.scenarios.{name}; "
            "the old name will be removed in 0.3.",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(import_module(_MOVED[name]), name)
    raise AttributeError(f"module 'talentplan.calibrate' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
