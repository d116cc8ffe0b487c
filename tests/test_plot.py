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
from talentplan.errors import CalibrationError, OptionError
from talentplan.report.result import AllocationResult


@pytest.fixture(scope="module")
def result() -> AllocationResult:
    """The bundled qingyuan plan, solved once for the module (to 1%: only its tables matter)."""
    return tp.solve(tp.load_instance("qingyuan"), time_limit=60, mip_gap=1e-2)


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


# --- estimates, frontier and sweep -------------------------------------------------------


def test_estimator_coefficients_use_its_conf_int(grunfeld: pd.DataFrame) -> None:
    from talentplan.calibrate.panel.model import PanelRegression

    model = PanelRegression(
        grunfeld, "invest", ["value", "capital"], entity="firm", time="year", estimator="fe"
    )
    fitted = model.fit()
    ax = fitted.plot_coefficients(level=0.9)
    bounds = fitted.conf_int(0.9)
    ends = np.array([[s[0][0], s[1][0]] for s in ax.collections[0].get_segments()])
    np.testing.assert_allclose(ends, bounds[["lower", "upper"]].to_numpy())
    marks = ax.get_lines()[0].get_xdata()
    # Baltagi (2013), Table 2.1, within estimator: value 0.110, capital 0.310
    np.testing.assert_allclose(marks, [0.110, 0.310], atol=5e-4)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["value", "capital"]


def test_event_study_draws_the_dynamic_aggregation(reference_dir: Path) -> None:
    from talentplan.calibrate import StaggeredDiD

    data = pd.read_csv(reference_dir / "mpdta.csv")
    fitted = StaggeredDiD(data, "lemp", "countyreal", "year", "first.treat").fit()
    ax = fitted.plot_event_study()
    table = fitted.aggregate("dynamic").table
    before, after = ax.collections[0], ax.collections[1]
    events = np.concatenate([[s[0][0] for s in c.get_segments()] for c in (before, after)])
    np.testing.assert_allclose(events, table.index.to_numpy(dtype=float))
    assert all(s[0][0] < 0 for s in before.get_segments())
    lows = np.concatenate([[s[0][1] for s in c.get_segments()] for c in (before, after)])
    np.testing.assert_allclose(lows, table["ci_lower"])
    # R did::aggte(type = "dynamic") on mpdta: event time 2 has ATT -0.1373 (se 0.0364)
    marks = np.concatenate([line.get_ydata() for line in ax.get_lines()[:2]])
    assert marks[list(table.index).index(2)] == pytest.approx(-0.1373, abs=5e-4)


def test_response_parameter_bands_are_estimate_plus_minus_1_96_se() -> None:
    from talentplan.data.parameters import ResponseParameters
    from talentplan.data.provenance import Provenance

    cov = pd.DataFrame(
        [[0.04, 0.01], [0.01, 0.09]],
        index=["a:b:retention", "a:b:inflow"],
        columns=["a:b:retention", "a:b:inflow"],
    )
    params = ResponseParameters(
        pd.Series({"a:b:retention": 0.5, "a:b:inflow": 2.0}),
        cov,
        Provenance(data_hash=None, estimator="fe"),
    )
    ax = params.plot_estimates()
    ends = sorted((s[0][0], s[1][0]) for s in ax.collections[0].get_segments())
    # sqrt(0.04) = 0.2 and sqrt(0.09) = 0.3; 1.959964 from normal tables
    expected = sorted([(0.5 - 1.959964 * 0.2, 0.5 + 1.959964 * 0.2),
                       (2.0 - 1.959964 * 0.3, 2.0 + 1.959964 * 0.3)])  # fmt: skip
    np.testing.assert_allclose(ends, expected, atol=1e-6)


def test_frontier_plot_sorts_points_by_coverage() -> None:
    from talentplan.scenarios.frontier import Frontier

    points = pd.DataFrame(
        {"min_coverage": [0.6, 0.2, 0.4], "talent_index": [900.0, 1500.0, 1200.0]}
    )
    ax = Frontier(points, ()).plot()
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_xdata(), [0.2, 0.4, 0.6])
    np.testing.assert_allclose(line.get_ydata(), [1500.0, 1200.0, 900.0])


def _sweep_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "scenario": [0, 1, 2, 3],
            "budget_scale": [1.0, 0.5, 1.5, 2.0],
            "objective_name": ["talent_index"] * 4,
            "objective": [150.0, 100.0, 180.0, np.nan],
            "spend_total": [200.0, 100.0, 300.0, 0.0],
            "spend_program:x": [50.0, 50.0, 60.0, 0.0],
            "spend_program:y": [150.0, 50.0, 240.0, 0.0],
        }
    )


def test_sweep_objective_and_marginal_value_of_money(tmp_path: Path) -> None:
    from talentplan.scenarios.sweep import SweepResult
    from talentplan.solver.status import SolveStatus

    result = SweepResult(SolveStatus.OPTIMAL, _sweep_table(), {}, tmp_path)
    ax = result.plot_objective()
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_xdata(), [100.0, 200.0, 300.0])
    np.testing.assert_allclose(line.get_ydata(), [100.0, 150.0, 180.0])
    twin = next(other for other in ax.figure.axes if other is not ax)
    marginal = twin.get_lines()[0]
    # by hand: (150 - 100) / (200 - 100) = 0.5 and (180 - 150) / (300 - 200) = 0.3
    np.testing.assert_allclose(marginal.get_xdata(), [150.0, 250.0])
    np.testing.assert_allclose(marginal.get_ydata(), [0.5, 0.3])
    shares = result.plot_shares("program")
    lines = {line.get_label(): line for line in shares.get_lines()}
    np.testing.assert_allclose(lines["x"].get_xdata(), [0.5, 1.0, 1.5])
    np.testing.assert_allclose(lines["x"].get_ydata(), [0.5, 0.25, 0.2])
    np.testing.assert_allclose(lines["y"].get_ydata(), [0.5, 0.75, 0.8])


def test_talent_against_demand_sums_the_demand_table(result: AllocationResult) -> None:
    demand = tp.load_instance("qingyuan").demand
    ax = result.plot_talent("talent_type", demand=demand)
    lines = {line.get_label(): line for line in ax.get_lines()}
    for kind, rows in demand.groupby("talent_type"):
        years = sorted(set(rows["year"]))
        need = [rows.loc[rows["year"] == year, "demand"].sum() for year in years]
        dashed = lines[f"{kind} demand"]
        np.testing.assert_allclose(dashed.get_ydata(), need)
        assert dashed.get_color() == lines[str(kind)].get_color()


def test_response_curve_band_is_the_estimate_plus_minus_z_se() -> None:
    from talentplan.data.parameters import ResponseParameters
    from talentplan.data.provenance import Provenance

    key = "cash_subsidy:craftsman:inflow_log"
    params = ResponseParameters(
        pd.Series({key: 15.0}),
        pd.DataFrame([[4.0]], index=[key], columns=[key]),
        Provenance(data_hash=None, estimator="fe"),
    )
    ax = params.plot_response(key, scale=120.0, spend_max=600.0)
    spend = ax.get_lines()[0].get_xdata()
    curve = ax.get_lines()[0].get_ydata()
    # by hand at spend 120 (the scale): 15 * ln 2; the band 1.959964 * 2 * ln 2 either side
    at = int(np.flatnonzero(np.isclose(spend, 120.0))[0])
    assert curve[at] == pytest.approx(15.0 * np.log(2.0))
    band = ax.collections[0].get_paths()[0].vertices
    ys = band[np.isclose(band[:, 0], 120.0), 1]
    np.testing.assert_allclose(
        sorted(ys),
        [(15.0 - 1.959964 * 2.0) * np.log(2.0), (15.0 + 1.959964 * 2.0) * np.log(2.0)],
        rtol=1e-6,
    )
    with pytest.raises(CalibrationError, match="inflow_log"):
        params.plot_response("other:craftsman:retention", scale=1.0, spend_max=1.0)


def test_out_of_sample_lines_are_each_plans_sorted_feasible_objectives() -> None:
    table = pd.DataFrame(
        {
            "plan": ["a", "a", "a", "b", "b", "b"],
            "draw": [0, 1, 2, 0, 1, 2],
            "objective": [3.0, 1.0, 2.0, 5.0, 4.0, 9.0],
            "feasible": [True, True, True, True, False, True],
        }
    )
    ax = _plot.out_of_sample_plot(table)
    lines = [ln for ln in ax.get_lines() if ln.get_label() and not ln.get_label().startswith("_")]
    assert [ln.get_xdata().tolist() for ln in lines] == [[1.0, 2.0, 3.0], [5.0, 9.0]]
    assert [ln.get_ydata().tolist()[-1] for ln in lines] == [1.0, 1.0]
    assert lines[0].get_ydata().tolist() == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert "1 draw(s) infeasible" in lines[1].get_label()
    assert lines[0].get_label() == "a: mean 2, 5th pct 1"


def test_the_same_figure_gives_the_same_svg_text_every_time() -> None:
    def draw() -> str:
        _fig, ax = plt.subplots()
        ax.imshow(np.arange(6.0).reshape(2, 3))
        ax.plot([0, 1], [1, 0], marker="o")
        return _plot.svg_text(ax)

    first, second = draw(), draw()
    assert first.startswith("<svg") and first == second
