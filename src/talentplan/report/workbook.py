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
two decimals, persons as whole numbers, shares as percentages. The workbook is written
by openpyxl in write-only mode (styles, views, widths, headers, the small sheets); the
data rows of the table sheets are then streamed into the saved file as SpreadsheetML
text in the form openpyxl writes them, since openpyxl without lxml writes only some 20,000
cells a second and a plan of 100,000 allocation rows would take over a minute.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from talentplan._plot import CITY_WIDE
from talentplan.report.county_view import COUNTY_COLUMNS

if TYPE_CHECKING:
    from openpyxl import Workbook

    from talentplan.report.result import AllocationResult

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


def plan_workbook(result: AllocationResult) -> bytes:
    """Return ``plan.xlsx`` of ``result`` as bytes (see the module docstring)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    names = result.summary.get("names", {})
    _field_sheet(wb, "summary", _summary_rows(result))
    tables = [
        _allocation_sheet(wb, result.allocation, names),
        _by_county_sheet(wb, result),
        _talent_sheet(wb, result.talent, names),
        _budget_sheet(wb, result.budget_use),
    ]
    _field_sheet(wb, "assumptions", _assumption_rows(result))
    tables.append(_readme_sheet(wb))
    buffer = io.BytesIO()
    wb.save(buffer)
    return _stream_rows(buffer.getvalue(), tables)


# --- sheets ------------------------------------------------------------------------------


def _allocation_sheet(wb: Workbook, allocation: pd.DataFrame, names: dict[str, Any]) -> _Rows:
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
    return _table_sheet(wb, "allocation", columns)


def _by_county_sheet(wb: Workbook, result: AllocationResult) -> _Rows:
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
    return _table_sheet(wb, "by_county", columns)


def _talent_sheet(wb: Workbook, talent: pd.DataFrame, names: dict[str, Any]) -> _Rows:
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
    return _table_sheet(wb, "talent", columns)


def _budget_sheet(wb: Workbook, budget_use: pd.DataFrame) -> _Rows:
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
    return _table_sheet(wb, "budgets", columns)


def _readme_sheet(wb: Workbook) -> _Rows:
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
    return _table_sheet(wb, "README", columns, wrap=True)


# --- summary and assumptions rows -------------------------------------------------------

Row = tuple[str, Any, str, str]
"""A row of a field sheet: label, value, number format, note."""


def _summary_rows(result: AllocationResult) -> list[Row]:
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


def _assumption_rows(result: AllocationResult) -> list[Row]:
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


def _field_sheet(wb: Workbook, title: str, rows: Iterable[Row]) -> None:
    """Write ``Field``, ``Value``, ``Note`` rows, each value with its own number format."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    ws = wb.create_sheet(title)
    ws.freeze_panes = "A2"
    for letter, width in zip("ABC", (32, 24, 80), strict=True):
        ws.column_dimensions[letter].width = width
    bold = Font(bold=True)
    header = []
    for text in ("Field", "Value", "Note"):
        cell = WriteOnlyCell(ws, value=text)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    for label, value, number_format, note in rows:
        cell = WriteOnlyCell(ws, value=_cell(value))
        if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
            cell.number_format = number_format
        ws.append([label, cell, note])


@dataclass
class _Rows:
    """Data rows of a table sheet still to be written: its sheet, cell styles and values."""

    sheet: Any
    styles: list[int]
    values: list[list[Any]]
    numeric: list[bool]


def _table_sheet(
    wb: Workbook,
    title: str,
    columns: Sequence[tuple[Column, Sequence[Any] | pd.Series]],
    *,
    wrap: bool = False,
) -> _Rows:
    """Add a table sheet with its bold, frozen header; return its data rows to stream in.

    openpyxl writes the sheet (view, widths, header) and registers each column's cell
    style; the rows are added to the saved file by :func:`_stream_rows`.
    """
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    ws.freeze_panes = "A2"
    for i, (column, _) in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = column.width
    bold = Font(bold=True)
    header = []
    for column, _ in columns:
        cell = WriteOnlyCell(ws, value=column.header)
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header.append(cell)
    ws.append(header)
    styles = []
    for column, _ in columns:
        cell = WriteOnlyCell(ws)
        if column.number_format != PLAIN:
            cell.number_format = column.number_format
        if wrap:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        styles.append(cell.style_id if cell.has_style else 0)
    values, numeric = zip(*(_values(v) for _, v in columns), strict=True)
    return _Rows(ws, styles, list(values), list(numeric))


def _stream_rows(book: bytes, tables: Sequence[_Rows]) -> bytes:
    """Return ``book`` with the data rows of ``tables`` written after their header rows.

    openpyxl writes about 20,000 cells a second without lxml, which would make a plan of
    100,000 allocation rows take over a minute; the rows are written here as
    SpreadsheetML text in the form openpyxl itself writes (inline strings, numbers, the
    cell style ids openpyxl registered) at a fraction of that cost.
    """
    import zipfile

    parts = {t.sheet.path.lstrip("/"): t for t in tables}
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(book)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target,
    ):
        for info in source.infolist():
            body = source.read(info.filename)
            table = parts.get(info.filename)
            if table is None:
                target.writestr(info, body)
                continue
            head, tail = body.split(b"</sheetData>", 1)
            with target.open(info.filename, "w") as handle:
                handle.write(head)
                for chunk in _row_chunks(table):
                    handle.write(chunk.encode("utf-8"))
                handle.write(b"</sheetData>" + tail)
    return out.getvalue()


def _row_chunks(table: _Rows, size: int = 5000) -> Iterable[str]:
    """SpreadsheetML ``<row>`` elements of ``table`` from row 2, ``size`` rows a chunk."""
    from openpyxl.utils import get_column_letter

    columns = [
        _column_cells(get_column_letter(i), style, values, numeric)
        for i, (style, values, numeric) in enumerate(
            zip(table.styles, table.values, table.numeric, strict=True), 1
        )
    ]
    chunk: list[str] = []
    for r, cells in enumerate(zip(*columns, strict=True), 2):
        chunk.append(f'<row r="{r}">{"".join(cells)}</row>')
        if len(chunk) == size:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk)


def _column_cells(letter: str, style: int, values: list[Any], numeric: bool) -> list[str]:
    """Return the ``<c>`` elements of one column from row 2 (blanks: empty or no cell).

    ``numeric``: every value is a number or None (the column came from a numeric table
    column), so the values need no look-up of their type.
    """
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    s = f' s="{style}"' if style else ""
    rows = range(2, len(values) + 2)
    if numeric:
        return [
            f'<c r="{letter}{r}"{s} t="n"><v>{v!r}</v></c>'
            if v is not None
            else (f'<c r="{letter}{r}"{s}/>' if s else "")
            for r, v in zip(rows, values, strict=True)
        ]
    texts: dict[Any, str] = {None: "", "": ""}
    for value in set(values) - {None, ""}:
        if isinstance(value, bool):
            texts[value] = f' t="b"><v>{int(value)}</v></c>'
        elif isinstance(value, int | float):
            texts[value] = f' t="n"><v>{value!r}</v></c>'
        else:
            clean = escape(ILLEGAL_CHARACTERS_RE.sub("", str(value)))
            space = ' xml:space="preserve"' if clean != clean.strip() else ""
            texts[value] = f' t="inlineStr"><is><t{space}>{clean}</t></is></c>'
    return [
        f'<c r="{letter}{r}"{s}{texts[v]}'
        if texts[v]
        else (f'<c r="{letter}{r}"{s}/>' if s else "")
        for r, v in zip(rows, values, strict=True)
    ]


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
