"""``AllocationResult``: the immutable answer of a solve, and its files."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from talentplan import _plot
from talentplan._display import DisplayMixin
from talentplan._files import json_ready, write_file_set
from talentplan.report.county_view import county_table, format_county_table
from talentplan.report.html_report import headline, render_report
from talentplan.report.workbook import plan_workbook
from talentplan.solver.status import SolveStatus

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["RESULT_FILES", "AllocationResult"]

RESULT_FILES = (
    "allocation.csv",
    "talent.csv",
    "shadow_prices.csv",
    "budget_use.csv",
    "plan.xlsx",
    "report.html",
    "summary.json",
)
"""The files :meth:`AllocationResult.to_dir` writes, in the order they are moved in:
``summary.json`` last, so that it stands only beside a complete set."""


@dataclass(frozen=True)
class AllocationResult(DisplayMixin):
    """Which programs to fund where and when, what that buys, and the solver's account.

    Attributes
    ----------
    status
        :class:`~talentplan.solver.status.SolveStatus`.
    objective
        The plan's value with the exact response curves (the plan played by
        :func:`talentplan.simulate`; also ``summary["simulated_objective"]``).
    bound, gap
        A bound on the best value any plan can reach and the relative gap
        ``(bound - objective) / |objective|``; ``summary["gap_basis"]`` says what they
        certify. ``"exact"`` (``talent_index``, ``equity``): the chords understate each
        plan's value by at most ``summary["approximation_error"]`` (for ``equity`` in
        coverage-share units), so ``bound = mip_bound + approximation_error`` bounds the
        optimum with the exact curves. ``"model"`` (``min_cost``, and ``talent_index``
        under an equity floor): the model measures targets or the floor on its
        understated talent, so the exact problem may admit plans the model does not and
        no exact bound is known; ``bound`` and ``gap`` are the model's ``mip_bound`` and
        ``mip_gap``. Infinite gap: no finite bound.
    mip_objective
        The model's objective of the plan (response curves as chords), at most
        ``objective`` for the maximised objectives and equal to it for ``min_cost``.
        ``summary["mip_bound"]`` and ``summary["mip_gap"]`` are HiGHS's bound and relative
        gap on the model.
    allocation
        County, program, industry, year, quantity, cost (10k yuan), land (mu), cadre_hours.
    talent
        County, talent_type, year, stock, fte, useful (end-of-year persons): the plan
        played year by year with the exact response curves (:func:`talentplan.simulate`).
    shadow_prices
        Resource, year, name, unit, price, used, limit: model objective per extra unit of
        each budget, land quota and cadre capacity (LP with integer decisions fixed).
    budget_use
        Year, source, used, available (10k yuan).
    summary
        The fields of ``summary.json``; ``names`` maps county, program and talent-type
        ids to display names, ``final_demand`` and ``talent_weights`` give the coverage
        of :attr:`by_county`.
    """

    status: SolveStatus
    objective: float
    bound: float
    gap: float
    mip_objective: float
    allocation: pd.DataFrame = field(repr=False)
    talent: pd.DataFrame = field(repr=False)
    shadow_prices: pd.DataFrame = field(repr=False)
    budget_use: pd.DataFrame = field(repr=False)
    summary: dict[str, Any] = field(repr=False)

    def to_dir(self, path: str | Path, *, report: bool = True) -> Path:
        """Write the result files of the plan into the folder ``path``.

        The files are allocation.csv, talent.csv, shadow_prices.csv, budget_use.csv,
        plan.xlsx (the plan as one workbook, :mod:`talentplan.report.workbook`),
        summary.json and (with ``report``) report.html.

        Every file is first written into a temporary folder beside ``path`` and then moved
        in by atomic renames in the order of :data:`RESULT_FILES`, summary.json last: an
        interrupted write leaves no half-written file, and summary.json is present only
        with a complete set.
        """
        produce: dict[str, Callable[[], str | bytes]] = {
            "allocation.csv": lambda: self.allocation.to_csv(index=False),
            "talent.csv": lambda: self.talent.to_csv(index=False),
            "shadow_prices.csv": lambda: self.shadow_prices.to_csv(index=False),
            "budget_use.csv": lambda: self.budget_use.to_csv(index=False),
            "plan.xlsx": lambda: plan_workbook(self),
            "report.html": lambda: render_report(self),
            "summary.json": lambda: json.dumps(json_ready(self.summary), indent=2),
        }
        names = [n for n in RESULT_FILES if report or n != "report.html"]
        files = {name: produce[name]() for name in names}
        return write_file_set(path, files)

    @classmethod
    def from_dir(cls, path: str | Path) -> AllocationResult:
        """Read back a result that :meth:`to_dir` wrote into the folder ``path``.

        Numbers that JSON cannot hold were written as null: a null ``gap`` reads back
        as infinite (no finite bound), a null ``objective`` or ``bound`` as NaN.

        Raises
        ------
        FileNotFoundError
            When ``path`` holds no complete set (``summary.json`` is written last).
        """
        folder = Path(path)
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        text = {"county": str, "program": str, "industry": str, "talent_type": str}

        def table(name: str) -> pd.DataFrame:
            frame = pd.read_csv(folder / name, keep_default_na=False, na_values=[""])
            for column in frame.columns.intersection(list(text)):
                frame[column] = frame[column].fillna("").astype(str)
            return frame

        def number(value: Any, missing: float) -> float:
            return missing if value is None else float(value)

        return cls(
            status=SolveStatus(summary["status"]),
            objective=number(summary.get("objective"), math.nan),
            bound=number(summary.get("bound"), math.nan),
            gap=number(summary.get("gap"), math.inf),
            mip_objective=number(summary.get("mip_objective"), math.nan),
            allocation=table("allocation.csv"),
            talent=table("talent.csv"),
            shadow_prices=table("shadow_prices.csv"),
            budget_use=table("budget_use.csv"),
            summary=summary,
        )

    @property
    def by_county(self) -> pd.DataFrame:
        """The plan per county: spend, programs funded, final useful talent and coverage.

        Indexed by county id (``""``: city-wide programs); columns ``name`` (display
        name), ``spend`` (10k yuan over the horizon), ``programs_funded``, ``useful``
        (final-year useful talent, whole persons) and ``coverage`` (final-year weighted
        coverage of demand, ``sum_k w U / sum_k w D``; NaN without demand). See
        :mod:`talentplan.report.county_view`.
        """
        return county_table(self.allocation, self.talent, self.summary)

    def _summary_tables(self) -> tuple[str, list[tuple[str, str]], list[pd.DataFrame]]:
        header = headline(self)
        names = self.summary.get("names", {})
        by_county = format_county_table(self.by_county)
        by_program = decisions_by_program(self.allocation).rename(index=names.get("program", {}))
        by_program["cost"] = by_program["cost"].map("{:,.2f}".format)
        by_program = by_program.rename(columns={"cost": "cost (10k yuan)"})
        final_year = self.talent["year"].max() if len(self.talent) else None
        final = self.talent[self.talent["year"] == final_year]
        by_type = (
            final.groupby("talent_type")[["stock", "fte", "useful"]]
            .sum()
            .rename(index=names.get("talent_type", {}))
            .map(lambda v: f"{v:,.0f}")
            .add_suffix(" (persons)")
        )
        tables = [by_county, by_program, by_type]
        priced = self.shadow_prices[self.shadow_prices["step"].notna()]
        if len(priced):
            tables.append(
                priced.set_index(["resource", "year", "name"])[
                    ["unit", "step", "step_value", "step_value_low", "step_value_high"]
                ]
            )
        return "talentplan allocation", header, tables

    # --- plots (see talentplan._plot) ------------------------------------------------------

    def plot_allocation(
        self, *, names: dict[str, str] | None = None, ax: Axes | None = None
    ) -> Axes:
        """Draw the spend (10k yuan) of each program per county as a heatmap; return the Axes."""
        return _plot.allocation_heatmap(self.allocation, names=names, ax=ax)

    def plot_spend(
        self,
        by: Literal["county", "program"] = "county",
        *,
        names: dict[str, str] | None = None,
        ax: Axes | None = None,
    ) -> Axes:
        """Draw bars of the spend over the horizon by county or by program; return the Axes."""
        return _plot.spend_bars(self.allocation, by=by, names=names, ax=ax)

    def plot_talent(
        self,
        by: Literal["county", "talent_type"] = "county",
        *,
        value: str = "useful",
        demand: pd.DataFrame | None = None,
        names: dict[str, str] | None = None,
        ax: Axes | None = None,
    ) -> Axes:
        """Draw lines of talent per year by county or by talent type; return the Axes.

        ``demand`` (an instance's ``demand`` table) adds the demand dashed.
        """
        return _plot.talent_lines(
            self.talent, by=by, value=value, demand=demand, names=names, ax=ax
        )

    def plot_budgets(self, *, ax: Axes | None = None) -> Axes:
        """Draw the budget used by year and source, slack on top; return the Axes."""
        return _plot.budget_bars(self.budget_use, ax=ax)

    def plot_shadow_prices(self, resource: str = "budget", *, ax: Axes | None = None) -> Axes:
        """Draw grouped bars of one resource's shadow prices per year; return the Axes."""
        return _plot.shadow_price_bars(self.shadow_prices, resource=resource, ax=ax)


DECISION_WORDS = {
    "site": "sites opened",
    "chain": "alliances formed",
    "city": "adopted plan-wide",
    "count": "units added",
    "amount": "county-years funded",
}
"""What one decision of each program kind is, in a planner's words."""


def decisions_by_program(allocation: pd.DataFrame) -> pd.DataFrame:
    """Count the decisions of a plan per program, and what they cost (10k yuan).

    A decision is a site, alliance or plan-wide program opened, a unit added, or a
    county-year of spending funded: rows of ``allocation`` for sites that stay open, or
    units already in place, are not counted again.

    Examples
    --------
    >>> plan = pd.DataFrame({"county": ["A", "A", "B"], "program": ["centre"] * 3,
    ...     "kind": ["site"] * 3, "industry": [""] * 3, "year": [2025, 2026, 2026],
    ...     "quantity": [1.0, 1.0, 1.0], "cost": [10.0, 2.0, 10.0]})
    >>> decisions_by_program(plan).to_dict("index")
    {'centre': {'decisions': 2, 'decision': 'sites opened', 'cost': 22.0}}
    """
    columns = ["decisions", "decision", "cost"]
    if allocation.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="program"))
    keys = ["county", "program", "industry"]
    plan = allocation.sort_values("year")
    steps = plan.groupby(keys, dropna=False)["quantity"].diff().fillna(plan["quantity"])
    added = steps.clip(lower=0.0).where(plan["kind"] != "amount", 1.0)
    out = (
        plan.assign(added=added)
        .groupby("program")
        .agg(decisions=("added", "sum"), kind=("kind", "first"), cost=("cost", "sum"))
    )
    out["decisions"] = out["decisions"].round().astype(int)
    out["decision"] = out["kind"].map(DECISION_WORDS)
    return out[columns].sort_values("cost", ascending=False)
