"""Ctrl-C and SIGTERM during a long run: stop cleanly, keep the best plan.

While a solve runs, the first SIGINT or SIGTERM sets a stop event that the solver
watches (:func:`talentplan.solver.highs.solve_formulation`): HiGHS stops, and the
command writes the best plan so far with status ``interrupted``. Earlier results in
``--out`` stay untouched until the new set is complete. A second Ctrl-C exits at once
with code 130 and writes nothing.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from talentplan.cli.screen import ExitCode, note

__all__ = ["stop_on_signals"]


@contextmanager
def stop_on_signals(
    keeps: str = "the best plan found so far will be written",
) -> Iterator[threading.Event]:
    """Yield an event set by the first SIGINT or SIGTERM; a second SIGINT exits at once.

    Parameters
    ----------
    keeps
        What the command keeps when it stops, said when the first signal comes.
    """
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            if signum == signal.SIGINT:
                note("interrupted", f"{name} again: quitting now, nothing written", "bold red")
                os._exit(int(ExitCode.INTERRUPTED))
            return
        stop.set()
        note(
            "interrupted",
            f"{name}: stopping; {keeps} (Ctrl-C again to quit at once)",
        )

    previous = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for s, old in previous.items():
            signal.signal(s, old)
