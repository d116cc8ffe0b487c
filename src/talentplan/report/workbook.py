"""``plan.xlsx``: the answer of a solve as one workbook for a planning bureau.

Sheets, in order (:data:`PLAN_SHEETS`): ``summary`` (the headline: instance, status,
objective, bound, gap and what it certifies, approximation error, budget spent,
timings, versions), ``allocation`` (the rows of allocation.csv with display names),
``by_county`` (:attr:`AllocationResult.by_county`), ``talent`` (talent.csv),
``budgets`` (budget_use.csv with the slack), ``assumptions`` (the objective, the solve
options, what the response curves and their approximation mean, the instance hash) and
``README`` (what each sheet holds, the units).

Headers carry display names and units; the header row is frozen. Numbers are stored
unrounded and only displayed rounded: money in 10k yuan with thousands separators and
two decimals, persons as whole numbers, shares as percentages. NaN and infinities are
written as blank cells that keep their column's number format; control characters are
dropped from text.

The workbook is written by XlsxWriter in memory (its ``constant_memory`` mode is off in
memory; spooling rows to temporary files with it was slower when measured). XlsxWriter
writes some 80,000 cells a second on a shared two-core machine: 0.13 s for ``qingyuan``
(579 allocation rows), 2.3 s for 200 synthetic counties (12,093 allocation rows, 5,000
talent rows) and about 15 s for 100,000 allocation rows.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from talentplan._plot import CITY_WIDE
from talentplan.report.county_view import COUNTY_COLUMNS

if TYPE_CHECKING:
    from xlsxwriter.format import Format
    from xlsxwriter.workbook import Workbook

    from talentplan.report.html_report import SolvedPlan

__all__ = ["PLAN_SHEETS", "plan_workbook"]

PLAN_SHEETS = (
    "summary",
    "allocation",
    "by_county",
    "talent",
    "budgets",
    "assumptions",
    "README",
)
"""The sheets of ``plan.xlsx``, in order."""

MONEY = "#,##0.00"
"""10k yuan: thousands separators, two decimals."""
PERSONS = "#,##0"
"""Persons (and hours): whole numbers with thousands separators."""
SHARE = "0.0%"
"""Shares of demand or of a budget."""
GAP = "0.000%"
"""Relative gaps, which are often well below a percent."""
DECIMAL = "#,##0.00"
TENTHS = "#,##0.0"
"""Full-time equivalents, which are often fractions of a person."""
PLAIN = "General"

OBJECTIVE_WORDS = {
    "talent_index": "maximise the talent index: discounted, type-weighted useful talent "
    "summed over counties and years",
    "min_cost": "minimise total spending such that final-year useful talent reaches the "
    "targets (or the target coverage of demand in every county)",
    "equity": "maximise the smallest final-year weighted coverage of demand across counties",
}


@dataclass(frozen=True)
class Column:
    """One column of a table sheet: its header, number format and width (characters)."""

    header: str
    number_format: str = PLAIN
    width: float = 14.0


def plan_workbook(result: SolvedPlan) -> bytes:
    """Return ``plan.xlsx`` of ``result`` as bytes (see the module docstring)."""
    from xlsxwriter import Workbook

    buffer = io.BytesIO()
    with Workbook(buffer, {"in_memory": True}) as wb:
        names = result.summary.get("names", {})
        _field_sheet(wb, "summary", _summary_rows(result))
        _allocation_sheet(wb, result.allocation, names)
        _by_county_sheet(wb, result)
        _talent_sheet(wb, result.talent, names)
        _budget_sheet(wb, result.budget_use)
        _field_sheet(wb, "assumptions", _assumption_rows(result))
        _readme_sheet(wb)
    return buffer.getvalue()


# --- sheets ------------------------------------------------------------------------------


def _allocation_sheet(wb: Workbook, allocation: pd.DataFrame, names: dict[str, Any]) -> None:
    columns = [
        (Column("County", width=18), _named(allocation["county"], names.get("county", {}))),
        (Column("County id", width=14), _ids(allocation["county"])),
        (Column("Program", width=30), _named(allocation["program"], names.get("program", {}))),
        (Column("Program id", width=22), _ids(allocation["program"])),
        (Column("Kind", width=9), allocation["kind"].tolist()),
        (Column("Industry", width=14), _ids(allocation["industry"])),
        (Column("Year", width=7), allocation["year"]),
        (Column("Quantity (sites, units or 10k yuan)", DECIMAL, 16), allocation["quantity"]),
        (Column("Spend (10k yuan)", MONEY, 16), allocation["cost"]),
        (Column("Land newly taken (mu)", DECIMAL, 14), allocation["land"]),
        (Column("Land in use (mu)", DECIMAL, 14), allocation["land_in_use"]),
        (Column("Cadre time (hours/year)", PERSONS, 14), allocation["cadre_hours"]),
    ]
    _table_sheet(wb, "allocation", columns)


def _by_county_sheet(wb: Workbook, result: SolvedPlan) -> None:
    table = result.by_county
    ids = table.index.tolist()
    useful = [None if c == "" else v for c, v in zip(ids, table["useful"].tolist(), strict=True)]
    columns = [
        (Column("County", width=18), table["name"].tolist()),
        (Column("County id", width=14), ids),
        (Column(_title(COUNTY_COLUMNS["spend"]), MONEY, 16), table["spend"]),
        (Column(_title(COUNTY_COLUMNS["programs_funded"]), PERSONS, 10), table["programs_funded"]),
        (Column(_title(COUNTY_COLUMNS["useful"]), PERSONS, 18), useful),
        (Column(_title(COUNTY_COLUMNS["coverage"]), SHARE, 16), table["coverage"]),
    ]
    _table_sheet(wb, "by_county", columns)


def _talent_sheet(wb: Workbook, talent: pd.DataFrame, names: dict[str, Any]) -> None:
    types = names.get("talent_type", {})
    columns = [
        (Column("County", width=18), _named(talent["county"], names.get("county", {}))),
        (Column("County id", width=14), _ids(talent["county"])),
        (Column("Talent type", width=22), _named(talent["talent_type"], types)),
        (Column("Talent type id", width=14), _ids(talent["talent_type"])),
        (Column("Year", width=7), talent["year"]),
        (Column("Stock, end of year (persons)", PERSONS, 14), talent["stock"]),
        (Column("Part-time experts (full-time equivalents)", TENTHS, 16), talent["fte"]),
        (Column("Useful talent (persons)", PERSONS, 14), talent["useful"]),
    ]
    _table_sheet(wb, "talent", columns)


def _budget_sheet(wb: Workbook, budget_use: pd.DataFrame) -> None:
    used = budget_use["used"].astype(float)
    available = budget_use["available"].astype(float)
    share = used / available.where(available > 0)
    columns = [
        (Column("Year", width=7), budget_use["year"]),
        (Column("Source", width=26), _ids(budget_use["source"])),
        (Column("Used (10k yuan)", MONEY, 16), used),
        (Column("Available (10k yuan)", MONEY, 16), available),
        (Column("Slack (10k yuan)", MONEY, 16), available - used),
        (Column("Share used", SHARE, 11), share),
    ]
    _table_sheet(wb, "budgets", columns)


def _readme_sheet(wb: Workbook) -> None:
    rows: list[tuple[str, str]] = [
        (
            "summary",
            "The headline of the solve: instance, status, objective with the exact "
            "response curves, bound and gap and what they certify, approximation error, budget "
            "spent, size, timings and software versions.",
        ),
        (
            "allocation",
            "Every active decision per county, program, industry and year "
            "(allocation.csv): quantity (1 for an open site, alliance or city-wide program; units "
            "in place for count programs; spend in 10k yuan for amount programs), spend in 10k "
            "yuan, land newly taken and in use in mu, cadre time in hours a year. County "
            f"'{CITY_WIDE}': programs adopted for the whole plan area.",
        ),
        (
            "by_county",
            "The plan per county: spend over the horizon (10k yuan), programs "
            "funded, useful talent in the final year (persons) and its weighted coverage of "
            "demand (share).",
        ),
        (
            "talent",
            "The plan played year by year with the exact response curves "
            "(talent.csv): end-of-year stock, part-time experts (full-time equivalents, present "
            "that year but not settling) and useful talent, persons, per county, type and year.",
        ),
        (
            "budgets",
            "Budget per year and source (budget_use.csv): used, available and the "
            "slack left, in 10k yuan, and the share used.",
        ),
        (
            "assumptions",
            "The objective, the solve options, what the response curves and "
            "their approximation mean for the bound, and the hash of the instance solved.",
        ),
        (
            "Units",
            "Money in 10k yuan (wan yuan); land in mu; cadre time in hours a year; "
            "talent in persons or full-time equivalents; shares as percentages.",
        ),
        (
            "Rounding",
            "Cells hold unrounded values; the number formats only round what is "
            "shown. The CSV files beside this workbook hold the same tables with ids only.",
        ),
    ]
    columns = [
        (Column("Sheet", width=14), [r[0] for r in rows]),
        (Column("What it holds", width=110), [r[1] for r in rows]),
    ]
    _table_sheet(wb, "README", columns, wrap=True)


# --- summary and assumptions rows -------------------------------------------------------

Row = tuple[str, Any, str, str]
"""A row of a field sheet: label, value, number format, note."""


def _summary_rows(result: SolvedPlan) -> list[Row]:
    s = result.summary
    basis = s.get("gap_basis", "model")
    gap = result.gap
    used = float(result.budget_use["used"].sum()) if len(result.budget_use) else 0.0
    available = float(result.budget_use["available"].sum()) if len(result.budget_use) else 0.0
    rows: list[Row] = [
        ("Instance", s.get("instance", ""), PLAIN, ""),
        ("Status", s.get("status", ""), PLAIN, s.get("gap_warning") or ""),
        ("Objective", s.get("objective_name", ""), PLAIN, ""),
        (
            "Objective value (exact curves)",
            result.objective,
            DECIMAL,
            "the plan played with the exact response curves",
        ),
        (
            "Bound",
            result.bound,
            DECIMAL,
            "with the exact curves" if basis == "exact" else "of the model only",
        ),
        ("Gap", gap if math.isfinite(gap) else "n/a (no finite bound)", GAP, _gap_note(basis)),
        ("Gap basis", basis, PLAIN, ""),
        (
            "Model objective (chords)",
            result.mip_objective,
            DECIMAL,
            "the plan's value with the response curves as chords, as HiGHS solved it",
        ),
        ("Model bound", s.get("mip_bound"), DECIMAL, ""),
        ("Model gap", s.get("mip_gap"), GAP, ""),
        (
            "Approximation error",
            s.get("approximation_error"),
            DECIMAL,
            "at most this much of each plan's value is lost to the chords",
        ),
        ("Budget spent (10k yuan)", used, MONEY, ""),
        ("Budget available (10k yuan)", available, MONEY, ""),
        ("Share of the budget spent", used / available if available > 0 else None, SHARE, ""),
        (
            "Plan spend (10k yuan)",
            float(result.allocation["cost"].sum()),
            MONEY,
            "the allocation sheet's spend total",
        ),
        (
            "Variables",
            s.get("n_variables"),
            PERSONS,
            f"{s.get('n_binaries')} binary, {s.get('n_integers')} integer",
        ),
        ("Constraints", s.get("n_constraints"), PERSONS, ""),
        ("Method", s.get("method", ""), PLAIN, s.get("method_reason", "")),
        ("Build seconds", s.get("build_seconds"), DECIMAL, ""),
        ("Solve seconds", s.get("solve_seconds"), DECIMAL, ""),
        ("Elapsed seconds", s.get("elapsed_seconds"), DECIMAL, "the whole call"),
    ]
    for package, version in (s.get("versions") or {}).items():
        rows.append((f"Version: {package}", str(version), PLAIN, ""))
    return rows


def _gap_note(basis: str) -> str:
    if basis == "exact":
        return "(bound - objective) / |objective|: certified with the exact response curves"
    return "the model's own gap: no bound with the exact curves is known for this objective"


def _assumption_rows(result: SolvedPlan) -> list[Row]:
    s = result.summary
    objective = s.get("objective_name", "")
    warm = s.get("warm_start") or {}
    rows: list[Row] = [
        ("Objective", objective, PLAIN, OBJECTIVE_WORDS.get(objective, "")),
        (
            "Response curves",
            "exact in the objective value and the talent sheet",
            PLAIN,
            "the model approximates concave response curves by chords, which understate each "
            "plan's value; the plan is then played with the exact curves",
        ),
        (
            "Approximation error",
            s.get("approximation_error"),
            DECIMAL,
            "the most the chords understate a plan's value (equity: in coverage-share units)",
        ),
        ("Gap basis", s.get("gap_basis", ""), PLAIN, _gap_note(s.get("gap_basis", "model"))),
        ("Time limit (seconds)", s.get("time_limit"), DECIMAL, "blank: none"),
        ("Requested MIP gap", s.get("requested_mip_gap"), GAP, ""),
        ("Threads", s.get("threads"), PLAIN, "blank: the solver's default"),
        ("Step values", s.get("step_values"), PLAIN, "shadow prices re-solved per step"),
        ("Build", s.get("build", ""), PLAIN, "how the model was compiled"),
        ("Method", s.get("method", ""), PLAIN, s.get("method_reason", "")),
        (
            "Warm start",
            warm.get("requested"),
            PLAIN,
            f"found: {warm.get('found')}; {warm.get('method', '')}".strip("; "),
        ),
        ("Plan source", s.get("plan_source", ""), PLAIN, ""),
        ("Seed", s.get("seed"), PLAIN, "the instance's random seed"),
        (
            "Instance hash",
            s.get("instance_hash", ""),
            PLAIN,
            "SHA-256 of the instance solved: the same hash, the same instance",
        ),
    ]
    for note in s.get("method_notes") or []:
        rows.append(("Method note", str(note), PLAIN, ""))
    for note in s.get("skipped") or []:
        rows.append(("Skipped", str(note), PLAIN, ""))
    for talent_type, weight in (s.get("talent_weights") or {}).items():
        label = s.get("names", {}).get("talent_type", {}).get(talent_type, talent_type)
        rows.append((f"Weight: {label}", weight, DECIMAL, "objective weight per useful person"))
    return rows


# --- writing -----------------------------------------------------------------------------

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""Control characters that XML 1.0 cannot hold (tab, newline and return it can)."""


def _format(
    wb: Workbook, number_format: str, *, bold: bool = False, wrap: bool = False
) -> Format | None:
    """Return a cell format with these properties, or None for the default one."""
    properties: dict[str, Any] = {"num_format": number_format} if number_format != PLAIN else {}
    if bold:
        properties["bold"] = True
    if wrap:
        properties.update(text_wrap=True, valign="top")
    return wb.add_format(properties) if properties else None


def _field_sheet(wb: Workbook, title: str, rows: Iterable[Row]) -> None:
    """Write ``Field``, ``Value``, ``Note`` rows, each value with its own number format."""
    ws = wb.add_worksheet(title)
    ws.freeze_panes(1, 0)
    for i, width in enumerate((32, 24, 80)):
        ws.set_column(i, i, width)
    ws.write_row(0, 0, ("Field", "Value", "Note"), _format(wb, PLAIN, bold=True))
    formats: dict[str, Format | None] = {}
    for r, (label, value, number_format, note) in enumerate(rows, 1):
        ws.write_string(r, 0, _text(str(label)))
        value = _cell(value)
        if isinstance(value, bool):
            ws.write_boolean(r, 1, value)
        elif isinstance(value, int | float):
            if number_format not in formats:
                formats[number_format] = _format(wb, number_format)
            ws.write_number(r, 1, value, formats[number_format])
        elif value is not None:
            ws.write_string(r, 1, _text(value))
        ws.write_string(r, 2, _text(str(note)))


def _table_sheet(
    wb: Workbook,
    title: str,
    columns: Sequence[tuple[Column, Sequence[Any] | pd.Series]],
    *,
    wrap: bool = False,
) -> None:
    """Write a table sheet: a bold, frozen header row, then the values column by column."""
    ws = wb.add_worksheet(title)
    ws.freeze_panes(1, 0)
    header = _format(wb, PLAIN, bold=True, wrap=True)
    for c, (column, values) in enumerate(columns):
        ws.set_column(c, c, column.width)
        ws.write_string(0, c, column.header, header)
        style = _format(wb, column.number_format, wrap=wrap)
        items, numeric = _values(values)
        if numeric:
            for r, value in enumerate(items, 1):
                if value is None:
                    ws.write_blank(r, c, None, style)
                else:
                    ws.write_number(r, c, value, style)
            continue
        texts = {v: _text(v) for v in set(items) if isinstance(v, str)}
        for r, value in enumerate(items, 1):
            if value is None or value == "":
                ws.write_blank(r, c, None, style)
            elif isinstance(value, str):
                ws.write_string(r, c, texts[value], style)
            elif isinstance(value, bool):
                ws.write_boolean(r, c, value, style)
            elif isinstance(value, int | float):
                ws.write_number(r, c, value, style)
            else:
                ws.write_string(r, c, _text(str(value)), style)


def _text(value: str) -> str:
    return CONTROL.sub("", value)


def _values(column: Sequence[Any] | pd.Series) -> tuple[list[Any], bool]:
    """Return plain Python values (NaN and infinities blank) and whether all are numbers."""
    if isinstance(column, pd.Series) and pd.api.types.is_numeric_dtype(column):
        if not pd.api.types.is_bool_dtype(column):
            numbers = column.to_numpy(dtype=float)
            finite = np.isfinite(numbers)
            items = column.tolist()
            if finite.all():
                return items, True
            return [v if ok else None for v, ok in zip(items, finite, strict=True)], True
    items = column.tolist() if isinstance(column, pd.Series) else list(column)
    return [v if not isinstance(v, float) or math.isfinite(v) else None for v in items], False


def _cell(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is not None and not isinstance(value, str | int | float | bool):
        return str(value)
    return value


def _ids(column: pd.Series) -> list[str]:
    return column.fillna("").astype(str).tolist()


def _named(column: pd.Series, names: dict[str, str]) -> list[str]:
    """Display names of the ids in ``column`` (the id where none is known)."""
    ids = column.fillna("").astype(str)
    lookup = {**{i: names.get(i, i) for i in ids.unique()}, "": CITY_WIDE}
    return [lookup[i] for i in ids.tolist()]


def _title(header: str) -> str:
    return header[:1].upper() + header[1:]
