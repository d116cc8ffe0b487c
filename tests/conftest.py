"""Shared test fixtures, and the rule that no test skips without saying why."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

pytest_plugins = ["pytester"]

os.environ.setdefault("MPLBACKEND", "Agg")  # plots draw off screen, whatever the machine

REPO = Path(__file__).resolve().parents[1]
REFERENCE = Path(__file__).resolve().parent / "data" / "reference"
"""Public reference data sets committed with the tests (see the README there)."""


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The folder of the published reference data sets (abdata, mpdta, grunfeld)."""
    return REFERENCE


@pytest.fixture(scope="session")
def grunfeld() -> pd.DataFrame:
    """Grunfeld's investment data, the 10-firm panel of Baltagi's Table 2.1."""
    return pd.read_csv(REFERENCE / "grunfeld.csv")


# --- a suite that never skips silently --------------------------------------------------

_UNEXPLAINED: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Record every skip of a test that is not marked as needing an optional extra."""
    expected_failure = hasattr(report, "wasxfail")
    if report.skipped and not expected_failure and "extra" not in report.keywords:
        _UNEXPLAINED.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a test skipped without the ``extra`` marker.

    A skip hides a test that did not run; only a test marked
    ``@pytest.mark.extra("name")`` (it needs an optional extra that is not installed)
    may skip. Anything else that cannot run is a failure of the suite.
    """
    if _UNEXPLAINED and exitstatus == pytest.ExitCode.OK:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"FAILED: {len(_UNEXPLAINED)} test(s) skipped without the 'extra' marker: "
                + ", ".join(_UNEXPLAINED[:10]),
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def tiny_result():
    """The tiny two-county instance solved to optimality (two years, budget 60)."""
    from talentplan.report.pipeline import solve
    from tests.model.tiny import tiny_instance

    return solve(tiny_instance(n_years=2, budget=60.0), mip_gap=0.0)
