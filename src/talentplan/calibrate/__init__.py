"""Calibration: panel estimators, their results, and the bridge to the allocation model.

The package is organised by model family, as linearmodels is:

- :mod:`~talentplan.calibrate.panel`: :class:`PanelRegression` (pooled, fixed/time/two-way
  effects, random effects, between, first difference), :class:`PanelIV` (2SLS/GMM with
  absorbed effects), and the specification tests :func:`hausman` and :func:`mundlak`;
- :mod:`~talentplan.calibrate.dynamic`: :class:`DynamicPanelGMM` (Arellano-Bond
  difference and Blundell-Bond system GMM, with ``xtabond2``'s instrument
  specifications :class:`GMMStyle` and :class:`IVStyle`);
- :mod:`~talentplan.calibrate.staggered`: :class:`StaggeredDiD` (Callaway-Sant'Anna
  group-time effects);
- :mod:`~talentplan.calibrate.spatial`: :class:`SpilloverPanel` (spatial lags and
  core-city decay, Conley errors), with :func:`distance_weights`,
  :func:`distance_matrix` and :func:`spatial_lag`;
- :mod:`~talentplan.calibrate.shared`: panel validation, the :class:`EstimationResults`
  base class, and :func:`compare` (a multi-model table exported to text, Markdown,
  HTML and LaTeX) with the :class:`Summary` of one result;
- :mod:`~talentplan.calibrate.bridge`: from estimates to the model. TOML specs
  (:class:`CalibrationSpec`, :func:`run_calibration`, :func:`calibrate_command`), the
  transforms and delta method (:data:`TRANSFORMS`, :class:`ParameterMap`), and the
  structural panel simulator (:func:`simulate_panel`).

Estimators take the data in their constructor and the options in ``fit(*, ...)``;
results are immutable. :class:`ResponseParameters` is defined in the data layer, which
reads it into instances (:func:`apply_parameters`). This package depends on
:mod:`talentplan.data` alone and never solves a plan: the end-to-end regret of planning
with estimates is :func:`talentplan.scenarios.end_to_end_regret`.

Names are imported on first use, so ``import talentplan.calibrate`` does not load
linearmodels or scipy (only numpy and pandas).
"""

from __future__ import annotations

import warnings
from importlib import import_module
from typing import TYPE_CHECKING, Any

_LAZY = {
    # panel/
    "PanelRegression": "talentplan.calibrate.panel.model",
    "PanelIV": "talentplan.calibrate.panel.model",
    "PanelResults": "talentplan.calibrate.panel.results",
    "PanelIVResults": "talentplan.calibrate.panel.results",
    "hausman": "talentplan.calibrate.panel.specification_tests",
    "mundlak": "talentplan.calibrate.panel.specification_tests",
    "HausmanResult": "talentplan.calibrate.panel.specification_tests",
    "MundlakResult": "talentplan.calibrate.panel.specification_tests",
    "WaldTest": "talentplan.calibrate.panel.specification_tests",
    # dynamic/
    "DynamicPanelGMM": "talentplan.calibrate.dynamic.model",
    "DynamicPanelGMMResults": "talentplan.calibrate.dynamic.results",
    "SpecificationTest": "talentplan.calibrate.dynamic.results",
    "GMMStyle": "talentplan.calibrate.dynamic.instruments",
    "IVStyle": "talentplan.calibrate.dynamic.instruments",
    # staggered/
    "StaggeredDiD": "talentplan.calibrate.staggered.model",
    "StaggeredDiDResults": "talentplan.calibrate.staggered.results",
    "AggregatedEffects": "talentplan.calibrate.staggered.results",
    "PreTrendTest": "talentplan.calibrate.staggered.results",
    # spatial/
    "SpilloverPanel": "talentplan.calibrate.spatial.model",
    "ConleyResults": "talentplan.calibrate.spatial.covariance",
    "conley_cov": "talentplan.calibrate.spatial.covariance",
    "distance_matrix": "talentplan.calibrate.spatial.weights",
    "distance_weights": "talentplan.calibrate.spatial.weights",
    "spatial_lag": "talentplan.calibrate.spatial.weights",
    # shared/
    "EstimationResults": "talentplan.calibrate.shared.results",
    "compare": "talentplan.calibrate.shared.tables",
    "Comparison": "talentplan.calibrate.shared.tables",
    "Summary": "talentplan.calibrate.shared.tables",
    # the data layer: parameters.py, provenance.py, responses.py
    "ResponseParameters": "talentplan.data.parameters",
    "Provenance": "talentplan.data.provenance",
    "panel_hash": "talentplan.data.provenance",
    "parse_key": "talentplan.data.provenance",
    "apply_parameters": "talentplan.data.responses",
    # bridge/
    "CalibrationSpec": "talentplan.calibrate.bridge.spec",
    "EstimationSpec": "talentplan.calibrate.bridge.spec",
    "simulated_panel_spec": "talentplan.calibrate.bridge.spec",
    "ParameterMap": "talentplan.calibrate.bridge.transforms",
    "TRANSFORMS": "talentplan.calibrate.bridge.transforms",
    "run_calibration": "talentplan.calibrate.bridge.run",
    "calibrate_command": "talentplan.calibrate.bridge.run",
    "simulate_panel": "talentplan.calibrate.bridge.simulator",
    "SimulatedPanel": "talentplan.calibrate.bridge.simulator",
    "DEFAULT_TRUTH": "talentplan.calibrate.bridge.simulator",
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
    "Comparison",
    "ConleyResults",
    "DynamicPanelGMM",
    "DynamicPanelGMMResults",
    "EstimationResults",
    "EstimationSpec",
    "GMMStyle",
    "HausmanResult",
    "IVStyle",
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
    "Summary",
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
    from talentplan.calibrate.bridge.run import calibrate_command, run_calibration
    from talentplan.calibrate.bridge.simulator import (
        DEFAULT_TRUTH,
        SimulatedPanel,
        simulate_panel,
    )
    from talentplan.calibrate.bridge.spec import (
        CalibrationSpec,
        EstimationSpec,
        simulated_panel_spec,
    )
    from talentplan.calibrate.bridge.transforms import TRANSFORMS, ParameterMap
    from talentplan.calibrate.dynamic.instruments import GMMStyle, IVStyle
    from talentplan.calibrate.dynamic.model import DynamicPanelGMM
    from talentplan.calibrate.dynamic.results import DynamicPanelGMMResults, SpecificationTest
    from talentplan.calibrate.panel.model import PanelIV, PanelRegression
    from talentplan.calibrate.panel.results import PanelIVResults, PanelResults
    from talentplan.calibrate.panel.specification_tests import (
        HausmanResult,
        MundlakResult,
        WaldTest,
        hausman,
        mundlak,
    )
    from talentplan.calibrate.shared.results import EstimationResults
    from talentplan.calibrate.shared.tables import Comparison, Summary, compare
    from talentplan.calibrate.spatial.covariance import ConleyResults, conley_cov
    from talentplan.calibrate.spatial.model import SpilloverPanel
    from talentplan.calibrate.spatial.weights import (
        distance_matrix,
        distance_weights,
        spatial_lag,
    )
    from talentplan.calibrate.staggered.model import StaggeredDiD
    from talentplan.calibrate.staggered.results import (
        AggregatedEffects,
        PreTrendTest,
        StaggeredDiDResults,
    )
    from talentplan.data.parameters import ResponseParameters
    from talentplan.data.provenance import Provenance, panel_hash, parse_key
    from talentplan.data.responses import apply_parameters


def __getattr__(name: str) -> Any:
    """Import the module defining ``name`` on first use; warn for a moved name."""
    if name in _MOVED:
        warnings.warn(
            f"talentplan.calibrate.{name} moved to talentplan.scenarios.{name}; "
            "the old name will be removed in 0.3.",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(import_module(_MOVED[name]), name)
    if name not in _LAZY:
        raise AttributeError(f"module 'talentplan.calibrate' has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the package's attributes, including the names not imported yet."""
    return sorted(set(globals()) | set(_LAZY))
