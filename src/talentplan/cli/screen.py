"""What the command line prints: plain text, one line per message, and its exit codes.

Messages carry text from the user's own files (sheet names like ``[budgets]``, cell
values), so nothing is read as rich markup: both consoles print text verbatim
(``markup=False``), colour comes only from :class:`rich.text.Text` styles, and lines
are not wrapped (``soft_wrap``), so an identifier is never split.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text

from talentplan.errors import OptionError, ParameterPathError

__all__ = ["ExitCode", "err", "fail", "flag_message", "note", "out"]

err = Console(stderr=True, soft_wrap=True, highlight=False, markup=False, emoji=False)
out = Console(soft_wrap=True, highlight=False, markup=False, emoji=False)


class ExitCode(IntEnum):
    """Exit codes of every command (documented in README.md)."""

    PLAN = 0
    """A plan was found: optimal within the gap, or the best at the time limit."""
    NO_PLAN = 1
    """No plan exists (infeasible), or none was found before a limit."""
    BAD_INPUT = 2
    """The instance, a plan, a spec or an option is wrong: the message says where."""
    SOLVER = 3
    """The solver failed."""
    OUTPUT = 4
    """The output folder or file cannot be written; checked before any work."""
    MISMATCH = 5
    """``replicate``: an input changed since the run, or an output of the rerun differs."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C or SIGTERM; the best plan so far is written, marked interrupted."""


FLAGS = {
    "factor": "--budget-scale",
    "n_points": "--points",
    "parameters": "--parameter",
    "params": "--param",
}
"""Options whose command-line flag is not their Python name with dashes."""


def flag_message(exc: OptionError) -> str:
    """Restate an option error with the command line's flag name.

    Examples
    --------
    >>> from talentplan._options import check_number
    >>> try:
    ...     check_number("mip_gap", 2.0, low=0, high=1, high_open=True)
    ... except OptionError as exc:
    ...     print(flag_message(exc))
    --mip-gap 2.0: expected a finite number >= 0 and < 1
    """
    if exc.option is None:
        return str(exc)
    flag = FLAGS.get(exc.option, "--" + exc.option.replace("_", "-"))
    if isinstance(exc, ParameterPathError):  # its message says which part is wrong
        return f"{flag} {exc}"
    return f"{flag} {exc.value}: expected {exc.expected}"


def note(kind: str, message: str, style: str = "yellow") -> None:
    """Print ``kind: message`` on stderr, the message verbatim."""
    err.print(Text.assemble((f"{kind}: ", style), message))


def fail(kind: str, message: str, code: ExitCode) -> NoReturn:
    """Print ``kind: message`` on stderr, verbatim, and exit with ``code``."""
    note(kind, message, "bold red")
    raise typer.Exit(int(code))
