"""Rules on a chain program where it can have no alliance hold without a row.

B has no present industry in the tiny instance, so the alliance's level there is the
number 0: a pin, a cap per city or a floor of 0 on it compares numbers. They must neither
crash the build nor change the optimum.
"""

from __future__ import annotations

import pytest

from talentplan.report.pipeline import solve

from .tiny import tiny_instance


def _city_cap(inst):
    programs = inst.programs.copy()
    programs.loc[programs["program"] == "alliance", "cap_per_city"] = 1.0
    return inst.replace_tables(programs=programs, counties=inst.counties.assign(city=["X", "Y"]))


@pytest.mark.parametrize(
    "make",
    [
        lambda: tiny_instance(
            pins=[dict(county="B", program="alliance", year=2025, action="forbid")]
        ),
        lambda: tiny_instance(
            pins=[dict(county="B", program="alliance", year=2025, action="max", value=0.0)]
        ),
        lambda: _city_cap(tiny_instance()),
    ],
    ids=["forbid", "max-0", "cap-per-city"],
)
def test_a_rule_on_no_alliance_builds_and_keeps_the_optimum(make):
    plain = solve(tiny_instance(), mip_gap=0.0)
    assert solve(make(), mip_gap=0.0).objective == pytest.approx(plain.objective, rel=1e-9)
