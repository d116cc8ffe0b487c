"""The scenarios layer: many solves of one instance.

The efficiency-equity frontier (:mod:`~talentplan.scenarios.frontier`), the
near-optimal alternatives (:mod:`~talentplan.scenarios.alternatives`: how far each
program's spending can move among plans almost as good as the optimum) and the
estimate-then-optimise regret (:mod:`~talentplan.scenarios.regret`: simulate a panel,
calibrate, plan with the estimates, score under the truth) and the sensitivity of the
plan to each response parameter (:mod:`~talentplan.scenarios.sensitivity`); sweeps
over a grid of budget scales, objectives, equity floors and instance parameters
(:mod:`~talentplan.scenarios.sweep`), run by an executor
(:mod:`~talentplan.scenarios.executors`: a local process pool) and cached on disk; a
two-stage plan over draws of the response parameters, its value against the
point-estimate plan, and a robust (CVaR) plan (:mod:`~talentplan.scenarios.stochastic`).
"""

from talentplan.scenarios.alternatives import AlternativesResult, alternatives
from talentplan.scenarios.frontier import Frontier, pareto_frontier
from talentplan.scenarios.regret import RegretReport, end_to_end_regret, plan_regret
from talentplan.scenarios.sensitivity import SensitivityResult, sensitivity
from talentplan.scenarios.stochastic import StochasticResult, evaluate_plans, stochastic_plan
from talentplan.scenarios.sweep import SweepResult, sweep

__all__ = [
    "AlternativesResult",
    "Frontier",
    "RegretReport",
    "SensitivityResult",
    "StochasticResult",
    "SweepResult",
    "alternatives",
    "end_to_end_regret",
    "evaluate_plans",
    "pareto_frontier",
    "plan_regret",
    "sensitivity",
    "stochastic_plan",
    "sweep",
]
