"""Many solves of one instance: the efficiency-equity frontier."""

from talentplan.scenarios.frontier import Frontier, pareto_frontier

__all__ = ["Frontier", "pareto_frontier"]
