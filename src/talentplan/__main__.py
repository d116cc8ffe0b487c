"""``python -m talentplan``: the command line, as the ``talentplan`` script runs it."""

from talentplan.cli import run

run()
