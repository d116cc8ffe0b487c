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

__all__ = ["MIN_SOLVER_SECONDS", "WRITE_SECONDS", "WRITE_SECONDS_PER_COUNTY", "Deadline"]

MIN_SOLVER_SECONDS = 0.5
"""The least time any HiGHS run is given, even past the deadline: HiGHS needs a
moment to read the model and return the plan it was seeded with."""

WRITE_SECONDS = 3.0
"""Seconds of a solve's time limit kept back for writing its result files (the report
draws its plots), when the limit counts up to the files (``talentplan solve
--time-limit``, a solve on the what-if page)."""

WRITE_SECONDS_PER_COUNTY = 0.012
"""More seconds kept back per county: the tables, the workbook and the report grow with
the plan (a 200-county plan's ``plan.xlsx`` alone takes about 2.3 s to write)."""


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

    @classmethod
    def up_to_files(cls, time_limit: float | None) -> Deadline:
        """Return the deadline of a solve whose ``time_limit`` counts up to its files.

        :data:`WRITE_SECONDS` are kept back; :meth:`keep_for_files` keeps back more once
        the instance's size is known. ``talentplan solve`` and the what-if page's solves
        both use it, so a scenario of the page rerun by ``talentplan solve`` is the same
        solve.

        Examples
        --------
        >>> d = Deadline.up_to_files(20.0)
        >>> d.keep_for_files(100)
        >>> round(d.limit, 3)
        15.8
        >>> Deadline.up_to_files(None).limit is None
        True
        """
        return cls(None if time_limit is None else time_limit - WRITE_SECONDS)

    def keep_for_files(self, counties: int) -> None:
        """Keep back :data:`WRITE_SECONDS_PER_COUNTY` per county for writing the files."""
        if self.limit is not None:
            self.limit -= WRITE_SECONDS_PER_COUNTY * counties
