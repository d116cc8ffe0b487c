"""What the solving commands do with the package's named errors: one exit code each.

``solve``, ``alternatives`` and ``sensitivity`` run one or more solves under
:func:`~talentplan.cli.interrupts.stop_on_signals` with a status line; every named error
they can meet maps to the same exit code (:class:`~talentplan.cli.screen.ExitCode`).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.status import Status

from talentplan.cli.screen import ExitCode, fail, flag_message, note, out
from talentplan.errors import (
    InfeasiblePlanError,
    InstanceError,
    NoSolutionError,
    OptionError,
    SolverError,
)


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
    """Write ``result`` with its ``to_dir``; a folder that cannot be written exits 4."""
    try:
        result.to_dir(out_dir)
    except OSError as exc:
        fail("cannot write", f"--out {out_dir}: {exc}", ExitCode.OUTPUT)


def status_updater(status: Status | None, name: str) -> Callable[[Any], None]:
    """Return a progress callback for runs of many solves: stage, time, best and bound."""

    def show(p: Any) -> None:
        if status is not None:
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
    n = sum(k for s, k in result.summary["statuses"].items() if s in ("error", "infeasible"))
    if n:
        note("warning", f"{n} {failed}")
    if result.status.value == "interrupted":
        fail(
            "interrupted",
            f"{done} so far are written to {out_dir}/ with status 'interrupted'",
            ExitCode.INTERRUPTED,
        )
