"""talentplan: plan talent policy in underdeveloped regions.

Mixed-integer allocation of fiscal, land, platform and cadre budgets across counties,
talent programs and years (Pyomo + HiGHS), and panel-data calibration of the programs'
response parameters.

Examples
--------
>>> import talentplan as tp
>>> inst = tp.load_instance("qingyuan")
>>> len(inst.counties)
8
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "load_instance": "talentplan.data.io",
    "write_instance": "talentplan.data.io",
    "Instance": "talentplan.data.instance",
    "Scenario": "talentplan.data.instance",
    "PolicyFloor": "talentplan.data.instance",
    "solve": "talentplan.report.pipeline",
    "SolveStatus": "talentplan.solver.status",
    "AllocationResult": "talentplan.report.result",
    "simulate": "talentplan.simulation",
    "SimulationResult": "talentplan.simulation",
    "build_model": "talentplan.model.build",
    "pareto_frontier": "talentplan.scenarios.frontier",
    "alternatives": "talentplan.scenarios.alternatives",
    "AlternativesResult": "talentplan.scenarios.alternatives",
    "sensitivity": "talentplan.scenarios.sensitivity",
    "SensitivityResult": "talentplan.scenarios.sensitivity",
    "stochastic_plan": "talentplan.scenarios.stochastic",
    "StochasticResult": "talentplan.scenarios.stochastic",
    "sweep": "talentplan.scenarios.sweep",
    "SweepResult": "talentplan.scenarios.sweep",
}
_MODULES = {
    "datasets": "talentplan.datasets",
    "calibrate": "talentplan.calibrate",
    "scenarios": "talentplan.scenarios",
    "errors": "talentplan.errors",
}

__all__ = [
    "AllocationResult",
    "AlternativesResult",
    "Instance",
    "PolicyFloor",
    "Scenario",
    "SensitivityResult",
    "SimulationResult",
    "SolveStatus",
    "StochasticResult",
    "SweepResult",
    "__version__",
    "alternatives",
    "build_model",
    "calibrate",
    "datasets",
    "errors",
    "load_instance",
    "pareto_frontier",
    "scenarios",
    "sensitivity",
    "simulate",
    "solve",
    "stochastic_plan",
    "sweep",
    "write_instance",
]

if TYPE_CHECKING:
    from talentplan import calibrate, datasets, errors, scenarios
    from talentplan.data.instance import Instance, PolicyFloor, Scenario
    from talentplan.data.io import load_instance, write_instance
    from talentplan.model.build import build_model
    from talentplan.report.pipeline import solve
    from talentplan.report.result import AllocationResult
    from talentplan.scenarios.alternatives import AlternativesResult, alternatives
    from talentplan.scenarios.frontier import pareto_frontier
    from talentplan.scenarios.sensitivity import SensitivityResult, sensitivity
    from talentplan.scenarios.stochastic import StochasticResult, stochastic_plan
    from talentplan.scenarios.sweep import SweepResult, sweep
    from talentplan.simulation import SimulationResult, simulate
    from talentplan.solver.status import SolveStatus


def __getattr__(name: str) -> Any:
    """Import heavy parts (Pyomo, HiGHS, linearmodels) only when first used."""
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    if name in _MODULES:
        return import_module(_MODULES[name])
    raise AttributeError(f"module 'talentplan' has no attribute {name!r}")
