"""``python -m talentplan``: the command line, as the ``talentplan`` script runs it."""

from talentplan.cli import run

# The guard keeps the command from running again in the worker processes that
# ``multiprocessing``'s spawn context starts (they import this module under another name).
if __name__ == "__main__":
    run()
