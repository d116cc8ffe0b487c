"""Plots of plans and estimates: each one checked by the data it draws, not its pixels."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import talentplan as tp
from talentplan import _plot
from talentplan.errors import OptionError
from talentplan.report.result import AllocationResult


@pytest.fixture(scope="module")
def result() -> AllocationResult:
    """The bundled qingyuan plan, solved once for the module."""
    return tp.solve(tp.load_instance("qingyuan"), time_limit=60)


@pytest.fixture(autouse=True)
def _close_figures() -> None:
    yield
    plt.close("all")


def test_allocation_heatmap_holds_the_spend_pivot(result: AllocationResult) -> None:
    ax = result.plot_allocation()
    image = ax.get_images()[0].get_array()
    plan = result.allocation
    # the pivot by hand: a dictionary of sums, not pandas' pivot_table
    counties = sorted(set(plan["county"]))
    programs = sorted(set(plan["program"]))
    expected = np.zeros((len(counties), len(programs)))
    for row in plan.itertuples():
        expected[counties.index(row.county), programs.index(row.program)] += row.cost
    np.testing.assert_allclose(np.asarray(image), expected)
    assert [t.get_text() for t in ax.get_xticklabels()] == programs
    shown = [t.get_text() for t in ax.get_yticklabels()]
    assert shown == [_plot.CITY_WIDE if c == "" else c for c in counties]


@pytest.mark.parametrize("by", ["county", "program"])
def test_spend_bars_are_the_sums_of_cost(result: AllocationResult, by: str) -> None:
    names = {"Qingxin": "Qingxin District"}
    ax = result.plot_spend(by, names=names)
    heights = {
        t.get_text(): p.get_width() for t, p in zip(ax.get_yticklabels(), ax.patches, strict=True)
    }
    totals: dict[str, float] = {}
    for key, cost in zip(result.allocation[by], result.allocation["cost"], strict=True):
        label = names.get(key, _plot.CITY_WIDE if key == "" else key)
        totals[label] = totals.get(label, 0.0) + cost
    assert heights.keys() == totals.keys()
    for label, total in totals.items():
        assert heights[label] == pytest.approx(total)
    assert list(heights.values()) == sorted(heights.values())
    assert "10k yuan" in ax.get_xlabel()
    assert ax.xaxis.get_major_formatter()(12345.0, 0) == "12,345"


@pytest.mark.parametrize(("by", "other"), [("county", "talent_type"), ("talent_type", "county")])
def test_talent_lines_sum_the_other_key(result: AllocationResult, by: str, other: str) -> None:
    ax = result.plot_talent(by, value="stock")
    lines = {line.get_label(): line for line in ax.get_lines()}
    for key, rows in result.talent.groupby(by):
        years = sorted(set(rows["year"]))
        sums = [rows.loc[rows["year"] == year, "stock"].sum() for year in years]
        np.testing.assert_allclose(lines[str(key)].get_xdata(), years)
        np.testing.assert_allclose(lines[str(key)].get_ydata(), sums)
    assert len(lines) == result.talent[by].nunique()
    assert "people" in ax.get_ylabel()


def test_budget_bars_stack_use_and_slack() -> None:
    table = pd.DataFrame(
        {
            "year": [2025, 2025, 2026, 2026],
            "source": ["city", "province", "city", "province"],
            "used": [80.0, 50.0, 100.0, 20.0],
            "available": [100.0, 50.0, 100.0, 60.0],
        }
    )
    ax = _plot.budget_bars(table)
    containers = {c.get_label(): c for c in ax.containers}
    assert list(containers) == ["city", "province", "slack"]
    assert [p.get_height() for p in containers["city"]] == [80.0, 100.0]
    assert [p.get_y() for p in containers["province"]] == [80.0, 100.0]
    # slack by hand: (100 + 50) - (80 + 50) = 20 and (100 + 60) - (100 + 20) = 40
    assert [p.get_height() for p in containers["slack"]] == [20.0, 40.0]
    assert [p.get_y() for p in containers["slack"]] == [130.0, 120.0]


def test_plan_budget_bars_reach_what_is_available(result: AllocationResult) -> None:
    ax = result.plot_budgets()
    tops = np.zeros(result.budget_use["year"].nunique())
    for container in ax.containers:
        tops = np.maximum(tops, [p.get_y() + p.get_height() for p in container])
    available = result.budget_use.groupby("year")["available"].sum().to_numpy()
    np.testing.assert_allclose(tops, available)


def test_shadow_price_bars_are_the_prices(result: AllocationResult) -> None:
    ax = result.plot_shadow_prices("budget")
    rows = result.shadow_prices[result.shadow_prices["resource"] == "budget"]
    for container in ax.containers:
        mine = rows[rows["name"] == container.get_label()].sort_values("year")
        np.testing.assert_allclose([p.get_height() for p in container], mine["price"])
    assert len(ax.containers) == rows["name"].nunique()
    with pytest.raises(OptionError, match="resource"):
        result.plot_shadow_prices("water")


def test_coefficient_intervals_are_estimate_plus_minus_z_se() -> None:
    params = pd.Series({"x1": 1.0, "x2": -0.5})
    se = pd.Series({"x2": 0.1, "x1": 0.25})
    ax = _plot.coefficient_plot(params, se)
    segments = ax.collections[0].get_segments()
    ends = sorted((s[0][0], s[1][0]) for s in segments)
    # 1.959964 is the 97.5% point of the standard normal (tables)
    expected = sorted([(1.0 - 1.959964 * 0.25, 1.0 + 1.959964 * 0.25),
                       (-0.5 - 1.959964 * 0.1, -0.5 + 1.959964 * 0.1)])  # fmt: skip
    np.testing.assert_allclose(ends, expected, atol=1e-6)
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), [1.0, -0.5])
    with pytest.raises(OptionError, match="level"):
        _plot.coefficient_plot(params, se, level=1.0)


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_plots_save_as_png_and_svg(result: AllocationResult, tmp_path: Path, suffix: str) -> None:
    for name in ["allocation", "spend", "talent", "budgets", "shadow_prices"]:
        ax = getattr(result, f"plot_{name}")()
        assert ax.__class__.__name__ == "Axes"
        path = _plot.save_plot(ax, tmp_path / f"{name}.{suffix}")
        assert path.stat().st_size > 1000
    with pytest.raises(OptionError, match="suffix"):
        _plot.save_plot(ax, tmp_path / "plot.jpg")


def test_import_talentplan_does_not_load_matplotlib() -> None:
    script = (
        "import sys, talentplan, talentplan._plot, talentplan.report.result;"
        " print('matplotlib' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=os.environ, check=True
    )
    assert out.stdout.strip() == "False"
