"""Our solver status, and the explicit map from every HiGHS model status to it."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

import highspy

logger = logging.getLogger(__name__)


class SolveStatus(StrEnum):
    """Outcome of a solve, in planner terms.

    - ``optimal``: a plan within the requested gap.
    - ``time_limit``: stopped at the time limit; the best plan so far and its gap.
    - ``limit``: stopped at another limit (iterations, solutions, memory); the best plan
      so far when there is one.
    - ``interrupted``: stopped on request (Ctrl-C, SIGTERM, a stop event); the best plan
      so far when there is one, with its bound and gap.
    - ``infeasible``: no plan satisfies every rule.
    - ``unbounded``: the objective can grow without limit (a modelling error).
    - ``error``: the solver failed.
    """

    OPTIMAL = "optimal"
    TIME_LIMIT = "time_limit"
    LIMIT = "limit"
    INTERRUPTED = "interrupted"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    ERROR = "error"

    @property
    def may_have_plan(self) -> bool:
        """Whether a plan can come with this status: optimal, stopped at a limit or on request."""
        return self in (
            SolveStatus.OPTIMAL,
            SolveStatus.TIME_LIMIT,
            SolveStatus.LIMIT,
            SolveStatus.INTERRUPTED,
        )


_MS: Any = highspy.HighsModelStatus
HIGHS_STATUS: dict[object, SolveStatus] = {
    _MS.kOptimal: SolveStatus.OPTIMAL,
    _MS.kTimeLimit: SolveStatus.TIME_LIMIT,
    _MS.kIterationLimit: SolveStatus.LIMIT,
    _MS.kSolutionLimit: SolveStatus.LIMIT,
    _MS.kInterrupt: SolveStatus.INTERRUPTED,
    _MS.kHighsInterrupt: SolveStatus.LIMIT,
    _MS.kMemoryLimit: SolveStatus.LIMIT,
    _MS.kObjectiveBound: SolveStatus.LIMIT,
    _MS.kObjectiveTarget: SolveStatus.LIMIT,
    _MS.kInfeasible: SolveStatus.INFEASIBLE,
    _MS.kUnbounded: SolveStatus.UNBOUNDED,
    _MS.kUnboundedOrInfeasible: SolveStatus.INFEASIBLE,
    _MS.kModelEmpty: SolveStatus.OPTIMAL,
    _MS.kNotset: SolveStatus.ERROR,
    _MS.kLoadError: SolveStatus.ERROR,
    _MS.kModelError: SolveStatus.ERROR,
    _MS.kPresolveError: SolveStatus.ERROR,
    _MS.kSolveError: SolveStatus.ERROR,
    _MS.kPostsolveError: SolveStatus.ERROR,
    _MS.kUnknown: SolveStatus.ERROR,
}
"""Every HiGHS model status, mapped. ``kUnboundedOrInfeasible`` arises for a MIP only
when presolve proves the feasible set empty or unbounded; the objectives here are
bounded by data (demand caps useful talent, money is non-negative), so it is treated
as infeasible and explained as such."""


def map_status(model_status: object) -> SolveStatus:
    """Our status for a HiGHS model status; an unknown one is logged and mapped to error."""
    status = HIGHS_STATUS.get(model_status)
    if status is None:
        logger.warning("unknown HiGHS model status %r: treated as a solver error", model_status)
        return SolveStatus.ERROR
    return status
