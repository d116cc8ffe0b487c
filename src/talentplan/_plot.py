r"""Plots of plans and estimates, drawn with matplotlib from plain tables.

Every function takes the table a result object carries (or a few plain series), draws on
the matplotlib ``Axes`` given as ``ax`` (a new figure when it is ``None``) and returns that
``Axes``; the result classes wrap them as ``plot_*`` methods. The numbers drawn are sums of
the table and nothing else:

* allocation heatmap: cell ``(c, p)`` is :math:`\sum_t \mathrm{cost}_{c,p,t}`, the spend
  of program ``p`` in county ``c`` over the horizon (10k yuan);
* spend bars: :math:`\sum_{p,t} \mathrm{cost}_{c,p,t}` per county, or
  :math:`\sum_{c,t} \mathrm{cost}_{c,p,t}` per program;
* talent lines: :math:`\sum_k v_{c,k,t}` per county ``c`` (or :math:`\sum_c v_{c,k,t}`
  per talent type ``k``) against the year ``t``, where ``v`` is a column of the talent
  table (``useful`` by default), and the demand :math:`D` summed alike, dashed;
* budget bars: per year, ``used`` stacked by source, and the slack
  :math:`\sum_s (\mathrm{available}_{s,t} - \mathrm{used}_{s,t})` on top;
* shadow prices: the dual price of each resource row per year;
* coefficients: the estimate :math:`\hat\beta_j` with the interval
  :math:`\hat\beta_j \pm z_{1-\alpha/2}\, \mathrm{se}_j` (1.96 at 95%), or the
  interval an estimator reports (its ``conf_int``);
* response curve: :math:`\beta \log(1 + s/\theta)` over spend ``s`` with the band
  :math:`(\beta \pm z\, \mathrm{se}_\beta) \log(1 + s/\theta)`;
* event study: the effect by event time :math:`e` with its interval, before
  (:math:`e < 0`) and after treatment;
* frontier: talent index against the smallest final-year coverage of the points;
* sweep: objective against spend, and the marginal value of money
  :math:`\Delta f / \Delta s` between neighbouring scenarios;
* out of sample: per plan, the empirical distribution of its exact objective over the
  fresh draws (the share of draws at or below each value), with its mean and 5th
  percentile marked.

matplotlib is imported inside the functions, so importing talentplan does not load it.
:func:`save_plot` writes the figure of an ``Axes`` as PNG or SVG by the file's suffix.
"""

from __future__ import annotations

from pathlib import Path
from statistics import NormalDist
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from talentplan._options import check_choice, check_number

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.ticker import FuncFormatter

MONEY = "10k yuan"
"""The unit of every money column of the result tables."""

CITY_WIDE = "(city-wide)"
"""How the empty county key of a program adopted plan-wide is shown."""


def _axes(ax: Axes | None, size: tuple[float, float] = (8.0, 5.0)) -> Axes:
    """Return ``ax``, or the Axes of a new figure of ``size`` inches."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=size, layout="constrained")
    return new


def _thousands(ax: Axes, axis: Literal["x", "y"]) -> None:
    """Label the ticks of one axis with thousands separators."""
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(_tick_formatter())


def _labels(index: pd.Index, names: dict[str, str] | None) -> list[str]:
    """Display names of the keys in ``index`` (the key itself where none is given)."""
    names = {"": CITY_WIDE, **(names or {})}
    return [names.get(str(key), str(key)) for key in index]


def _distinct_colours(ax: Axes, n: int) -> None:
    """Give the next ``n`` lines of ``ax`` distinct colours (20 before any repeats)."""
    if n > 10:
        import matplotlib as mpl
        from cycler import cycler

        ax.set_prop_cycle(cycler(color=[mpl.colormaps["tab20"](i % 20) for i in range(n)]))


def _legend_outside(ax: Axes, columns: int = 1) -> None:
    """Place the legend to the right of the plot, clear of the data."""
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), ncols=columns)


def spend_pivot(allocation: pd.DataFrame) -> pd.DataFrame:
    """Spend (10k yuan) of each program in each county over the horizon.

    Parameters
    ----------
    allocation
        An allocation table with ``county``, ``program`` and ``cost`` columns.

    Returns
    -------
    pandas.DataFrame
        Counties as rows, programs as columns (both sorted), zero where nothing is spent.
    """
    return allocation.pivot_table(
        index="county", columns="program", values="cost", aggfunc="sum", fill_value=0.0
    ).astype(float)


def allocation_heatmap(
    allocation: pd.DataFrame,
    *,
    names: dict[str, str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Draw the spend of each program in each county as a heatmap.

    Parameters
    ----------
    allocation
        An allocation table (``county``, ``program``, ``cost``).
    names
        Display names of counties and programs by key; keys are shown where missing.
    ax
        The Axes to draw on; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes, its image holding :func:`spend_pivot` of ``allocation``.
    """
    pivot = spend_pivot(allocation)
    ax = _axes(ax, (1.2 + 0.55 * max(len(pivot.columns), 4), 1.5 + 0.45 * max(len(pivot), 4)))
    image = ax.imshow(pivot.to_numpy(), aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(pivot.columns)), _labels(pivot.columns, names))
    ax.set_yticks(range(len(pivot.index)), _labels(pivot.index, names))
    ax.tick_params(axis="x", labelrotation=45)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
        label.set_rotation_mode("anchor")
    bar = ax.figure.colorbar(image, ax=ax)
    bar.set_label(f"spend ({MONEY})")
    bar.formatter = _tick_formatter()
    bar.update_ticks()
    ax.set_xlabel("program")
    ax.set_ylabel("county")
    ax.set_title("Spend by county and program over the horizon")
    return ax


def _tick_formatter() -> FuncFormatter:
    """Tick labels of whole numbers with thousands separators."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _pos: f"{value:,.0f}")


def spend_bars(
    allocation: pd.DataFrame,
    *,
    by: Literal["county", "program"] = "county",
    names: dict[str, str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Draw the spend over the horizon of each county or each program as bars.

    Parameters
    ----------
    allocation
        An allocation table (``county``, ``program``, ``cost``).
    by
        ``"county"`` or ``"program"``: what each bar is.
    names
        Display names by key.
    ax
        The Axes to draw on; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes; its horizontal bars, largest on top, are the sums of ``cost``.
    """
    check_choice("by", by, ("county", "program"))
    spend = allocation.groupby(by)["cost"].sum().astype(float).sort_values()
    ax = _axes(ax, (8.0, 1.2 + 0.35 * max(len(spend), 4)))
    ax.barh(_labels(spend.index, names), spend.to_numpy(), color="tab:blue")
    _thousands(ax, "x")
    ax.set_xlabel(f"spend over the horizon ({MONEY})")
    ax.set_ylabel(by)
    ax.set_title(f"Spend by {by}")
    return ax


def talent_lines(
    talent: pd.DataFrame,
    *,
    by: Literal["county", "talent_type"] = "county",
    value: str = "useful",
    demand: pd.DataFrame | None = None,
    names: dict[str, str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Draw the talent of each county or each talent type against the year.

    Parameters
    ----------
    talent
        A talent table (``county``, ``talent_type``, ``year`` and the ``value`` column).
    by
        ``"county"`` or ``"talent_type"``: what each line is; the other key is summed.
    value
        The column drawn: ``"useful"``, ``"stock"`` or ``"fte"``.
    demand
        A demand table (``county``, ``talent_type``, ``year``, ``demand``; an instance's
        ``demand``), summed the same way and drawn dashed in each line's colour (label
        ``"<name> demand"``); none when ``None``.
    names
        Display names by key.
    ax
        The Axes to draw on; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes, one line per key in sorted order, labelled with its display name.
    """
    check_choice("by", by, ("county", "talent_type"))
    check_choice("value", value, ("useful", "stock", "fte"))
    table = talent.pivot_table(index="year", columns=by, values=value, aggfunc="sum")
    ax = _axes(ax)
    _distinct_colours(ax, len(table.columns))
    for key, label in zip(table.columns, _labels(table.columns, names), strict=True):
        (line,) = ax.plot(table.index.to_numpy(), table[key].to_numpy(), marker="o", label=label)
        if demand is not None:
            rows = demand[demand[by].astype(str) == str(key)]
            need = rows.groupby("year")["demand"].sum()
            ax.plot(
                need.index.to_numpy(), need.to_numpy(), linestyle="--",
                color=line.get_color(), label=f"{label} demand",
            )  # fmt: skip
    _thousands(ax, "y")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("year")
    ax.set_ylabel(f"{value} talent (people)")
    ax.set_title(
        f"Talent by {by.replace('_', ' ')}" + (" against demand" if demand is not None else "")
    )
    _legend_outside(ax, 2 if len(table.columns) > 16 else 1)
    return ax


def budget_bars(budget_use: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Draw the budget used per year, stacked by source, with the slack on top.

    Parameters
    ----------
    budget_use
        A budget-use table (``year``, ``source``, ``used``, ``available``).
    ax
        The Axes to draw on; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes; one bar container per source (label = source) and one labelled
        ``"slack"``, in that order.
    """
    used = budget_use.pivot_table(index="year", columns="source", values="used", aggfunc="sum")
    used = used.fillna(0.0)
    available = budget_use.groupby("year")["available"].sum()
    slack = (available - used.sum(axis=1)).clip(lower=0.0)
    ax = _axes(ax)
    years = [str(year) for year in used.index]
    bottom = np.zeros(len(used))
    for source in used.columns:
        heights = used[source].to_numpy(dtype=float)
        ax.bar(years, heights, bottom=bottom, label=str(source))
        bottom += heights
    ax.bar(
        years, slack.to_numpy(), bottom=bottom, label="slack", color="none",
        edgecolor="grey", hatch="//",
    )  # fmt: skip
    _thousands(ax, "y")
    ax.set_xlabel("year")
    ax.set_ylabel(f"budget ({MONEY})")
    ax.set_title("Budget used by year and source")
    _legend_outside(ax)
    return ax


def shadow_price_bars(
    shadow_prices: pd.DataFrame,
    *,
    resource: str = "budget",
    ax: Axes | None = None,
) -> Axes:
    """Draw the shadow price of each row of one resource per year as grouped bars.

    Parameters
    ----------
    shadow_prices
        A shadow-price table (``resource``, ``year``, ``name``, ``unit``, ``price``).
    resource
        Which resource to draw (``"budget"``, ``"land"``, ``"cadre"``, ...).
    ax
        The Axes to draw on; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes; one bar container per row name (label = name), one bar per year.
    """
    check_choice("resource", resource, tuple(sorted(set(shadow_prices["resource"]))))
    rows = shadow_prices[shadow_prices["resource"] == resource]
    price = rows.pivot_table(index="year", columns="name", values="price", aggfunc="sum")
    unit = str(rows["unit"].iloc[0]) if len(rows) else ""
    ax = _axes(ax)
    width = 0.8 / max(len(price.columns), 1)
    x = np.arange(len(price.index), dtype=float)
    for i, name in enumerate(price.columns):
        ax.bar(x + (i - (len(price.columns) - 1) / 2) * width, price[name], width, label=name)
    ax.set_xticks(x, [str(year) for year in price.index])
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel("year")
    ax.set_ylabel(f"objective per {unit}" if unit else "shadow price")
    ax.set_title(f"Shadow prices of {resource}")
    if len(price.columns) <= 12:
        _legend_outside(ax)
    return ax


def interval_plot(
    estimates: pd.Series,
    lower: pd.Series,
    upper: pd.Series,
    *,
    label: str = "estimate with 95% interval",
    ax: Axes | None = None,
) -> Axes:
    """Draw estimates with their intervals, one row per name, the first on top.

    Parameters
    ----------
    estimates, lower, upper
        The estimates and the ends of their intervals, indexed by name.
    label
        The label of the x axis.
    ax
        The Axes to draw on; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes; its first line holds the estimates (x) against the row (y), and the
        interval ends are the ``segments`` of its first line collection.
    """
    names = estimates.index
    ax = _axes(ax, (7.0, 1.2 + 0.4 * max(len(names), 3)))
    rows = np.arange(len(names))[::-1].astype(float)
    low = lower.reindex(names).to_numpy(dtype=float)
    high = upper.reindex(names).to_numpy(dtype=float)
    ax.hlines(rows, low, high, color="tab:blue")
    ax.plot(estimates.to_numpy(dtype=float), rows, "o", color="tab:blue")
    ax.axvline(0.0, color="grey", linestyle="--", linewidth=0.8)
    ax.set_yticks(rows, [str(name) for name in names])
    ax.set_xlabel(label)
    ax.set_title("Estimates")
    return ax


def coefficient_plot(
    params: pd.Series,
    std_errors: pd.Series,
    *,
    level: float = 0.95,
    ax: Axes | None = None,
) -> Axes:
    """Draw estimates with normal confidence intervals, one row per coefficient.

    Parameters
    ----------
    params, std_errors
        Estimates and their standard errors, indexed by coefficient name.
    level
        Coverage of the intervals, in (0, 1).
    ax
        The Axes to draw on; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        As :func:`interval_plot`, with the ends ``params -+ z * std_errors``.
    """
    check_number("level", level, low=0.0, high=1.0, low_open=True, high_open=True)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    se = std_errors.reindex(params.index).astype(float)
    label = f"estimate with {level:.0%} interval"
    return interval_plot(params, params - z * se, params + z * se, label=label, ax=ax)


def event_study_plot(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Draw effects by event time with their intervals, before and after treatment.

    Parameters
    ----------
    table
        Indexed by event time, with ``att``, ``ci_lower`` and ``ci_upper`` columns (the
        table of a ``"dynamic"`` aggregation of a staggered difference in differences).
    ax
        The Axes to draw on; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes; its line collections hold the intervals of the event times before
        treatment (label ``"before"``) and from it on (``"after"``), in that order, each
        with a line of its effects of the same label.
    """
    ax = _axes(ax)
    event = table.index.to_numpy(dtype=float)
    for label, mask, colour in [
        ("before", event < 0, "tab:grey"),
        ("after", event >= 0, "tab:red"),
    ]:
        rows = table[mask]
        ax.vlines(event[mask], rows["ci_lower"], rows["ci_upper"], color=colour, label=label)
        ax.plot(event[mask], rows["att"].to_numpy(), "o", color=colour, label=label)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.axvline(-0.5, color="grey", linestyle="--", linewidth=0.8)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("periods since treatment")
    ax.set_ylabel("effect with interval")
    ax.set_title("Event study")
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[1::2], labels[1::2], fontsize="small")
    return ax


def frontier_plot(points: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Draw the efficiency-equity frontier: talent index against the smallest coverage.

    Parameters
    ----------
    points
        One row per solve with ``min_coverage`` and ``talent_index`` columns.
    ax
        The Axes to draw on; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes; its first line holds the points sorted by coverage.
    """
    ordered = points.sort_values("min_coverage")
    ax = _axes(ax, (7.0, 5.0))
    ax.plot(
        ordered["min_coverage"].to_numpy(dtype=float),
        ordered["talent_index"].to_numpy(dtype=float),
        marker="o",
    )
    from matplotlib.ticker import PercentFormatter

    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    if ordered["talent_index"].abs().max() >= 1000:
        _thousands(ax, "y")
    ax.set_xlabel("smallest final-year coverage of any county (equity)")
    ax.set_ylabel("talent index (efficiency)")
    ax.set_title("Efficiency-equity frontier")
    return ax


def response_curve_plot(
    value: float,
    std_error: float,
    *,
    scale: float,
    spend_max: float,
    level: float = 0.95,
    label: str = "",
    ax: Axes | None = None,
) -> Axes:
    r"""Draw a saturating inflow curve with the band its estimate's uncertainty gives.

    The curve is :math:`f(s) = \beta \log(1 + s / \theta)` (the ``inflow_log`` effect:
    ``value`` is :math:`\beta`, ``scale`` is :math:`\theta`); it is linear in
    :math:`\beta`, so the band :math:`(\beta \pm z\, \mathrm{se}) \log(1 + s/\theta)`
    is the exact pointwise interval.

    Parameters
    ----------
    value, std_error
        The estimate of :math:`\beta` and its standard error.
    scale
        :math:`\theta` (10k yuan), positive.
    spend_max
        The right end of the spend axis (10k yuan), positive.
    level
        Coverage of the band, in (0, 1).
    label
        What the curve is (its parameter key), for the title.
    ax
        The Axes to draw on; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes; its first line is the curve on 201 spend points from 0, its first
        collection the band.
    """
    check_number("scale", scale, low=0.0, low_open=True)
    check_number("spend_max", spend_max, low=0.0, low_open=True)
    check_number("level", level, low=0.0, high=1.0, low_open=True, high_open=True)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    spend = np.linspace(0.0, spend_max, 201)
    shape = np.log1p(spend / scale)
    ax = _axes(ax, (7.0, 4.5))
    ax.plot(spend, value * shape, color="tab:blue", label="estimate")
    ax.fill_between(
        spend, (value - z * std_error) * shape, (value + z * std_error) * shape,
        color="tab:blue", alpha=0.25, label=f"{level:.0%} band",
    )  # fmt: skip
    _thousands(ax, "x")
    ax.set_xlabel(f"spend per county-year ({MONEY})")
    ax.set_ylabel("inflow (people a year)")
    ax.set_title(f"Response {label}".strip())
    ax.legend(fontsize="small", loc="upper left")
    return ax


def sweep_objective_plot(
    table: pd.DataFrame, *, x: str = "spend_total", ax: Axes | None = None
) -> Axes:
    """Draw each sweep objective against the money spent, with the marginal value of money.

    For consecutive scenarios ``i`` and ``i + 1`` by ``x`` (per objective), the marginal
    value is :math:`(f_{i+1} - f_i) / (s_{i+1} - s_i)` where ``s`` is the spend
    (``spend_total``, 10k yuan), drawn at the midpoint of ``x`` on a second y axis.

    Parameters
    ----------
    table
        A sweep table with ``objective_name``, ``objective``, ``spend_total`` and the
        column ``x``; rows without an objective are left out.
    x
        The column on the x axis: ``"spend_total"`` or ``"budget_scale"``.
    ax
        The Axes to draw on; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes of the objective, one line per objective name; the marginal values are
        the lines of the twin Axes (labels ``"<name> marginal value"``).
    """
    check_choice("x", x, ("spend_total", "budget_scale"))
    rows = table[table["objective"].notna()]
    ax = _axes(ax)
    twin = ax.twinx()
    for name, group in rows.groupby("objective_name", sort=True):
        group = group.sort_values(x)
        xs = group[x].to_numpy(dtype=float)
        value = group["objective"].to_numpy(dtype=float)
        spend = group["spend_total"].to_numpy(dtype=float)
        ax.plot(xs, value, marker="o", label=str(name))
        with np.errstate(divide="ignore", invalid="ignore"):
            marginal = np.diff(value) / np.diff(spend)
        twin.plot(
            (xs[1:] + xs[:-1]) / 2, marginal, linestyle="--", marker="x",
            label=f"{name} marginal value",
        )  # fmt: skip
    if x == "spend_total":
        _thousands(ax, "x")
        ax.set_xlabel(f"spend ({MONEY})")
    else:
        ax.set_xlabel("budget scale")
    if rows["objective"].abs().max() >= 1000:
        _thousands(ax, "y")
    ax.set_ylabel("objective")
    twin.set_ylabel(f"marginal value (objective per {MONEY}, dashed)")
    ax.set_title("Objective against budget")
    handles, labels = ax.get_legend_handles_labels()
    more, more_labels = twin.get_legend_handles_labels()
    ax.legend(handles + more, labels + more_labels, fontsize="small", loc="best")
    return ax


def sweep_shares_plot(
    table: pd.DataFrame,
    *,
    by: Literal["program", "county"] = "program",
    x: str = "budget_scale",
    names: dict[str, str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Draw the share of the spend of each program (or county) across sweep scenarios.

    The share of key ``p`` in scenario ``i`` is ``spend_<by>:p / spend_total``.

    Parameters
    ----------
    table
        A sweep table with ``spend_total``, the ``spend_<by>:KEY`` columns and ``x``;
        rows without spend are left out.
    by
        ``"program"`` or ``"county"``.
    x
        The column on the x axis (``"budget_scale"``, ``"min_coverage"``, a dotted path).
    names
        Display names by key.
    ax
        The Axes to draw on; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes, one line per key (label = its display name), in the order of the columns.
    """
    check_choice("by", by, ("program", "county"))
    prefix = f"spend_{by}:"
    columns = [c for c in table.columns if str(c).startswith(prefix)]
    rows = table[table["spend_total"] > 0].sort_values(x)
    ax = _axes(ax)
    _distinct_colours(ax, len(columns))
    keys = pd.Index([str(c)[len(prefix) :] for c in columns])
    for column, label in zip(columns, _labels(keys, names), strict=True):
        share = (rows[column] / rows["spend_total"]).to_numpy(dtype=float)
        ax.plot(rows[x].to_numpy(dtype=float), share, marker="o", label=label)
    from matplotlib.ticker import PercentFormatter

    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel("share of spend")
    ax.set_title(f"Share of spend by {by}")
    _legend_outside(ax, 2 if len(columns) > 16 else 1)
    return ax


def out_of_sample_plot(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Draw each plan's objective over the fresh draws as an empirical distribution.

    Parameters
    ----------
    table
        One row per plan and draw with ``plan``, ``objective`` and ``feasible`` columns
        (:attr:`StochasticResult.out_of_sample
        <talentplan.scenarios.stochastic.StochasticResult.out_of_sample>`); draws in which
        a plan cannot be played are left out of its curve and counted in its label.
    ax
        The Axes to draw on; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes; line ``i`` is the ``i``-th plan in order of appearance, its x the
        sorted objectives and its y the share of draws at or below each.
    """
    ax = _axes(ax, (8.0, 5.0))
    for plan, rows in table.groupby("plan", sort=False):
        played = rows[rows["feasible"].astype(bool)]
        values = np.sort(played["objective"].to_numpy(dtype=float))
        if values.size == 0:
            continue
        share = np.arange(1, values.size + 1) / values.size
        dropped = len(rows) - len(played)
        label = f"{plan}: mean {values.mean():,.0f}, 5th pct {np.quantile(values, 0.05):,.0f}"
        if dropped:
            label += f" ({dropped} draw(s) infeasible)"
        ax.step(values, share, where="post", label=label)
    if table["objective"].abs().max() >= 1000:
        _thousands(ax, "x")
    from matplotlib.ticker import PercentFormatter

    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.axhline(0.05, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel("objective with the exact curves, on each fresh draw")
    ax.set_ylabel("share of draws at or below")
    ax.set_title("Plans out of sample")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def save_plot(ax: Axes, path: str | Path, *, dpi: int = 150) -> Path:
    """Write the figure of ``ax`` to ``path`` as PNG or SVG (by the suffix).

    Parameters
    ----------
    ax
        An Axes of the figure to save.
    path
        The file to write; its suffix, ``.png`` or ``.svg``, picks the format.
    dpi
        Resolution of a PNG.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    out = Path(path)
    fmt = check_choice("suffix of path", out.suffix.lower().lstrip("."), ("png", "svg"))
    out.parent.mkdir(parents=True, exist_ok=True)
    from matplotlib.figure import SubFigure

    figure = ax.figure
    if isinstance(figure, SubFigure):
        figure = figure.figure
    figure.savefig(out, format=fmt, dpi=dpi)
    return out


def svg_text(ax: Axes) -> str:
    """Return the figure of ``ax`` as SVG text to inline in a page, and close the figure.

    Text is kept as text (``svg.fonttype`` ``none``), so the browser draws it with its
    own fonts, Chinese names included; the XML prologue is left out. The text is the
    same on every run for the same figure (no date, fixed element ids).

    Parameters
    ----------
    ax
        An Axes of the figure.

    Returns
    -------
    str
        The ``<svg>`` element.
    """
    import io
    import warnings

    import matplotlib as mpl
    import matplotlib.pyplot as plt
    from matplotlib.figure import SubFigure

    figure = ax.figure
    if isinstance(figure, SubFigure):
        figure = figure.figure
    buffer = io.StringIO()
    # A fixed hash salt and no date make the same figure the same text on every run, so
    # a page can be compared byte for byte with a rerun's (talentplan replicate).
    with (
        mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "talentplan"}),
        warnings.catch_warnings(),
    ):
        # Glyphs the plot's own font lacks (CJK names) are measured roughly; the
        # browser draws them with its fonts, so the warning says nothing useful here.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]
