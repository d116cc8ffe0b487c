"""Any text in a user's file reaches the screen verbatim, or is refused cleanly.

Property: a random string (brackets, backslashes, control characters, right-to-left
marks, rich markup) in a text cell of a plan never makes the command line crash; the
message either shows the string as Python would print it, or the plan is refused with
exit code 2 and an error that names the row.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from talentplan.cli import app

runner = CliRunner()

awkward = st.lists(
    st.one_of(
        st.sampled_from(list("[]\\/=#:;,\"' ")),
        st.sampled_from(["[bold]", "[/bold]", "[/]", "[link=x]", "\u200f", "\u202e", "\t"]),
        st.characters(min_codepoint=0, max_codepoint=0x1F),
        st.characters(min_codepoint=0x20, max_codepoint=0x2FFF),
    ),
    min_size=1,
    max_size=12,
).map("".join)


@pytest.mark.slow
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(county=awkward)
def test_any_text_in_a_plan_cell_is_shown_or_refused_cleanly(county: str, tmp_path: Path) -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(
        [
            ["county", "program", "industry", "year", "quantity"],
            [county, "one_stop_centre", "", "2025", "1"],
        ]
    )
    plan = tmp_path / "plan.csv"
    plan.write_text(buffer.getvalue(), encoding="utf-8")
    result = runner.invoke(app, ["simulate", "qingyuan", "--plan", str(plan)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    if "unknown county" in result.output and county.isprintable() and county.strip():
        assert repr(county) in result.output  # markup and brackets shown as they are
