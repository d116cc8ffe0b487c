"""A deadline for the whole of one call: what is left of the time limit, at any moment.

``tp.solve(..., time_limit=60)`` promises a plan within 60 seconds of the call, not
60 seconds of branch and bound after a build of unknown length. A :class:`Deadline` is
made when the call starts and passed down the pipeline; every stage asks it how much
time is left (:meth:`Deadline.remaining`) and gives HiGHS only that, less what the
stages after it need (:meth:`Deadline.budget`). Optional stages (shadow prices, step
values) are skipped when there is not enough left, and the skips are recorded
(:attr:`Deadline.skipped`) so the summary can say what was left out.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

__all__ = ["MIN_SOLVER_SECONDS", "Deadline"]

MIN_SOLVER_SECONDS = 0.5
"""The least time any HiGHS run is given, even past the deadline: HiGHS needs a
moment to read the model and return the plan it was seeded with."""


@dataclass
class Deadline:
    """The end of the time allowed to one call, measured on a monotonic clock.

    Attributes
    ----------
    limit
        Seconds allowed from ``start``; None: no limit.
    start
        :func:`time.perf_counter` when the call began.
    skipped
        Notes on the optional work left out for lack of time, in order.
    """

    limit: float | None = None
    start: float = field(default_factory=time.perf_counter)
    skipped: list[str] = field(default_factory=list)

    @property
    def bounded(self) -> bool:
        """Whether there is a limit at all."""
        return self.limit is not None

    def elapsed(self) -> float:
        """Seconds since the call began."""
        return time.perf_counter() - self.start

    def remaining(self) -> float:
        """Seconds left before the deadline (``inf`` without a limit, never below 0)."""
        if self.limit is None:
            return math.inf
        return max(self.limit - self.elapsed(), 0.0)

    def budget(self, reserve: float = 0.0, share: float = 1.0) -> float | None:
        """Seconds a stage may use: ``share`` of what is left after ``reserve``.

        Parameters
        ----------
        reserve
            Seconds kept back for the stages that follow.
        share
            The part (in (0, 1]) of the rest this stage may take.

        Returns
        -------
        float or None
            None without a limit; else at least :data:`MIN_SOLVER_SECONDS`.
        """
        if self.limit is None:
            return None
        return max(share * (self.remaining() - reserve), MIN_SOLVER_SECONDS)

    def allows(self, seconds: float) -> bool:
        """Whether ``seconds`` of work still fits before the deadline."""
        return self.remaining() >= seconds

    def skip(self, note: str) -> None:
        """Record that optional work was left out for lack of time."""
        self.skipped.append(note)
