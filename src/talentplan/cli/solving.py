"""What the solving commands do with the package's named errors: one exit code each.

``solve``, ``alternatives``, ``sensitivity`` and ``sweep`` run one or more solves under
:func:`~talentplan.cli.interrupts.stop_on_signals` with a status line; every named error
they can meet maps to the same exit code (:class:`~talentplan.cli.screen.ExitCode`).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.status import Status

from talentplan.cli.manifest import forget_manifest
from talentplan.cli.screen import ExitCode, fail, flag_message, note, out
from talentplan.errors import (
    InfeasiblePlanError,
    InstanceError,
    NoSolutionError,
    OptionError,
    SolverError,
)

if TYPE_CHECKING:
    from talentplan.solver.highs import Progress


@contextmanager
def exit_on_named_errors(
    stop: threading.Event,
    status: Status | None,
    *,
    explain: Callable[[InfeasiblePlanError], str] | None = None,
    clear: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Run the body with the status line shown; end the command on a named error.

    Parameters
    ----------
    stop
        The event the signal handler sets; a solve that stops before any plan exits as
        interrupted.
    status
        The status line, started and stopped around the body (None with ``--quiet``).
    explain
        Turns an infeasibility into the message shown (and may write it to a file);
        default: the error's own explanation.
    clear
        Removes stale result files before a failure exit (no plan, solver error).
    """
    try:
        if status is not None:
            status.start()
        yield
    except OptionError as exc:
        fail("error", flag_message(exc), ExitCode.BAD_INPUT)
    except InstanceError as exc:
        fail("error", str(exc), ExitCode.BAD_INPUT)
    except InfeasiblePlanError as exc:
        fail("infeasible", explain(exc) if explain else exc.explanation, ExitCode.NO_PLAN)
    except NoSolutionError as exc:
        if stop.is_set():
            fail(
                "interrupted",
                "stopped before any plan was found; nothing written",
                ExitCode.INTERRUPTED,
            )
        if clear is not None:
            clear()
        fail("no plan", str(exc), ExitCode.NO_PLAN)
    except SolverError as exc:
        if clear is not None:
            clear()
        fail("solver error", str(exc), ExitCode.SOLVER)
    finally:
        if status is not None:
            status.stop()


def write_result(result: Any, out_dir: Path) -> None:
    """Write ``result`` with its ``to_dir``; a folder that cannot be written exits 4.

    An earlier run's ``manifest.json`` is removed first: it no longer describes the
    folder, and the command writes its own after the result files.
    """
    try:
        forget_manifest(out_dir)
        result.to_dir(out_dir)
    except OSError as exc:
        fail("cannot write", f"--out {out_dir}: {exc}", ExitCode.OUTPUT)


def progress_line(p: Progress, name: str) -> str:
    """Say what a solve is doing, for the status line: its phase, or its best and bound.

    Examples
    --------
    >>> from talentplan.solver.highs import Progress
    >>> nan = float("nan")
    >>> progress_line(Progress(3.2, nan, nan, float("inf"), phase="presolve"), "x")
    'solving x: presolve ... 3.2s'
    >>> progress_line(Progress(9.0, 99.0, 100.0, 0.0101), "x")
    'solving x:    9.0s  model best 99  bound 100  gap 1.010%'
    """
    if p.phase != "search":
        what = {
            "building": "building the model",
            "compiling": "compiling the matrices",
            "first plan": "finding a first plan",
            "prices": "shadow prices",
            "county prices": "pricing the rows that join the counties",
            "simulating": "simulating the plan",
        }
        doing = f"pricing {p.stage}" if p.stage else f"solving {name}"
        return f"{doing}: {what.get(p.phase, p.phase)} ... {p.seconds:.1f}s"
    doing = f"pricing {p.stage}" if p.stage else f"solving {name}"
    best = f"{p.objective:.6g}" if math.isfinite(p.objective) else "none yet"
    bound = f"{p.bound:.6g}" if math.isfinite(p.bound) else "-"
    gap = f"{p.gap:.3%}" if math.isfinite(p.gap) else "-"
    return f"{doing}: {p.seconds:6.1f}s  model best {best}  bound {bound}  gap {gap}"


def sweep_line(p: Any, name: str) -> str:
    """Say where a sweep stands, for the status line: done, failed, remaining, time left.

    Examples
    --------
    >>> from talentplan.scenarios.sweep import SweepProgress
    >>> sweep_line(SweepProgress(6, 3, 1, 2, 3, 12.5, 30.2), "x")
    'sweeping x: 3 of 6 done (2 reused), 1 failed, 3 remaining, about 30s left (12s so far)'
    """
    left = f"about {p.seconds_left:.0f}s left" if math.isfinite(p.seconds_left) else "time left -"
    reused = f" ({p.reused} reused)" if p.reused else ""
    return (
        f"sweeping {name}: {p.done} of {p.total} done{reused}, {p.failed} failed, "
        f"{p.remaining} remaining, {left} ({p.elapsed:.0f}s so far)"
    )


def status_updater(status: Status | None, name: str) -> Callable[[Any], None]:
    """Return a progress callback for runs of many solves: phase, or stage, best and bound."""

    def show(p: Any) -> None:
        if status is not None and p.phase != "search":
            status.update(progress_line(p, name))
        elif status is not None:
            doing = p.stage or f"solving {name}"
            best = f"{p.objective:.6g}" if math.isfinite(p.objective) else "-"
            bound = f"{p.bound:.6g}" if math.isfinite(p.bound) else "-"
            status.update(f"{doing}: {p.seconds:6.1f}s  best {best}  bound {bound}")

    return show


def finish_run(
    result: Any,
    out_dir: Path,
    files: tuple[str, ...],
    *,
    quiet: bool,
    failed: str,
    done: str,
) -> None:
    """Print a many-solve result, warn of failed solves, exit 130 if it was interrupted.

    ``failed`` follows the number of solves that found no plan (infeasible or error) in
    the warning; ``done`` names what was written before an interruption.
    """
    if not quiet:
        out.print(str(result))
        out.print(f"\nwritten to {out_dir}/: " + ", ".join(files))
    failures = ("error", "infeasible", "failed")
    n = sum(k for s, k in result.summary["statuses"].items() if s in failures)
    if n:
        note("warning", f"{n} {failed}")
    if result.status.value == "interrupted":
        fail(
            "interrupted",
            f"{done} so far are written to {out_dir}/ with status 'interrupted'",
            ExitCode.INTERRUPTED,
        )
