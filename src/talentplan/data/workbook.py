"""Instance workbooks (``.xlsx``): one sheet per table plus the scenario.

A workbook holds a ``scenario`` sheet (``key``/``value`` rows), an optional ``floors``
sheet (one policy floor per row) and one sheet per table. Sheets and columns whose
name starts with ``#`` or ``_`` are comments and ignored, and so is a ``units`` sheet
(the column dictionary :func:`write_workbook` adds); any other unknown sheet is an
error.

A written workbook also helps whoever edits it: the header row of every sheet is frozen,
the ``units`` sheet lists each table's columns with type, unit, whether required, the
default and the allowed values, and the enumerated columns of the schema (program
``mechanism`` and ``kind``, response ``effect``, pin ``action``) get a drop-down list
that refuses other values.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from talentplan._files import atomic_write
from talentplan.data.cells import is_blank
from talentplan.data.folder import table_frame
from talentplan.data.instance import Instance
from talentplan.data.records import blank_record, records_to_raw, unknown_table
from talentplan.data.responses import with_response_parameters
from talentplan.data.scenario_toml import FLOOR_KEYS, ScenarioSource, floor_rows, scenario_rows
from talentplan.data.schema import TABLE_BY_NAME, TABLES, Table
from talentplan.data.validate import COMMENT_PREFIXES, RawTable, build_instance
from talentplan.errors import InstanceError, InstanceValidationError

__all__ = ["read_workbook", "write_workbook"]

SCENARIO_SHEET = "scenario"
FLOORS_SHEET = "floors"
UNITS_SHEET = "units"
"""The column dictionary of a written workbook; read back, it is ignored."""
UNITS_HEADER = ("table", "column", "type", "unit", "required", "default", "allowed", "meaning")
VALIDATED_ROWS = 1_048_576
"""Drop-downs cover a column down to Excel's last row, so added rows get them too."""


def read_workbook(path: str | os.PathLike[str], *, origin: str | None = None) -> Instance:
    """Read and validate an ``.xlsx`` workbook (see the module docstring for its layout)."""
    import openpyxl

    book_path = Path(path)
    name = book_path.name
    try:
        wb = openpyxl.load_workbook(book_path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise InstanceError(f"cannot open the workbook: {exc}", file=name) from exc
    errors: list[InstanceError] = []
    raw: dict[str, RawTable | None] = {}
    sheets: dict[str, list[list[Any]]] = {}
    try:
        for ws in wb.worksheets:
            title = ws.title.strip()
            if title.startswith(COMMENT_PREFIXES) or title == UNITS_SHEET:
                continue
            sheets[title] = [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    for title, records in sheets.items():
        label = f"{name}[{title}]"
        if title in (SCENARIO_SHEET, FLOORS_SHEET):
            continue
        if title not in TABLE_BY_NAME:
            errors.append(unknown_table(label, title, "sheet"))
            continue
        try:
            raw[title] = records_to_raw(records, label)
        except InstanceValidationError as exc:
            errors.extend(exc.errors)
        except InstanceError as exc:
            errors.append(exc)
    scenario = _scenario_from_sheets(sheets, name, errors)
    instance = build_instance(
        raw,
        scenario,
        origin=origin or str(book_path),
        label=lambda t: f"{name}[{t}]",
        errors=errors,
    )
    return with_response_parameters(instance, book_path.parent, f"{name}[{SCENARIO_SHEET}]")


def _scenario_from_sheets(
    sheets: dict[str, list[list[Any]]], name: str, errors: list[InstanceError]
) -> ScenarioSource:
    label = f"{name}[{SCENARIO_SHEET}]"
    floors_label = f"{name}[{FLOORS_SHEET}]"
    values: dict[str, Any] = {}
    rows: dict[str, int] = {}
    if SCENARIO_SHEET not in sheets:
        errors.append(
            InstanceError(
                f"the workbook has no '{SCENARIO_SHEET}' sheet (columns key and value: name, "
                "start_year, n_years, ...)",
                file=label,
            )
        )
    else:
        try:
            table = records_to_raw(sheets[SCENARIO_SHEET], label)
        except InstanceError as exc:
            errors.append(exc)
        else:
            cols = list(table.frame.columns)
            if cols[:2] != ["key", "value"]:
                errors.append(
                    InstanceError(
                        f"expected the header 'key', 'value', got {cols!r}", file=label, row=1
                    )
                )
            else:
                assert table.rows is not None
                for (key, value), row in zip(
                    table.frame.iloc[:, :2].itertuples(index=False), table.rows, strict=True
                ):
                    key = "" if key is None else str(key).strip()
                    if not key:
                        errors.append(
                            InstanceError(
                                "a value without a key", file=label, row=int(row), value=value
                            )
                        )
                    elif key in values:
                        errors.append(
                            InstanceError(
                                f"key '{key}' appears twice (also row {rows[key]})",
                                file=label,
                                row=int(row),
                                column=key,
                                value=value,
                            )
                        )
                    else:
                        values[key] = value
                        rows[key] = int(row)
    floors: list[dict[str, Any]] = []
    floor_rows_: list[int] = []
    if FLOORS_SHEET in sheets and any(not blank_record(r) for r in sheets[FLOORS_SHEET]):
        try:
            table = records_to_raw(sheets[FLOORS_SHEET], floors_label)
        except InstanceError as exc:
            errors.append(exc)
        else:
            assert table.rows is not None
            for record, row in zip(table.frame.to_dict("records"), table.rows, strict=True):
                floors.append(
                    {
                        k: v
                        for k, v in record.items()
                        if not str(k).startswith(COMMENT_PREFIXES)
                        and not (k in FLOOR_KEYS and is_blank(v))
                    }
                )
                floor_rows_.append(int(row))
    return ScenarioSource(values, floors, label, floors_label, rows, floor_rows_, strict=False)


def write_workbook(instance: Instance, target: Path) -> None:
    """Write ``instance`` as the workbook ``target``, atomically."""
    atomic_write(target, lambda tmp: write_workbook_file(instance, tmp))


def _cell_value(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(float(value)) else float(value)
    return value


def write_workbook_file(instance: Instance, path: Path) -> None:
    """Write ``instance`` as a workbook at ``path`` (not atomic; see write_instance)."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = _sheet(wb, SCENARIO_SHEET)
    ws.append(["key", "value"])
    for key, value in scenario_rows(instance.scenario):
        ws.append([key, _cell_value(value)])
    ws = _sheet(wb, FLOORS_SHEET)
    ws.append(list(FLOOR_KEYS))
    for row in floor_rows(instance.scenario):
        ws.append([_cell_value(v) for v in row])
    for table in TABLES:
        frame = table_frame(instance, table.name)
        ws = _sheet(wb, table.name)
        _add_choices(ws, table, list(frame.columns))
        ws.append(list(frame.columns))
        for record in frame.itertuples(index=False):
            ws.append([_cell_value(v) for v in record])
    ws = _sheet(wb, UNITS_SHEET)
    for width, letter in zip((14, 20, 7, 12, 9, 9, 40, 80), "ABCDEFGH", strict=True):
        ws.column_dimensions[letter].width = width
    ws.append(list(UNITS_HEADER))
    for entry in units_rows():
        ws.append(entry)
    wb.save(path)


def units_rows() -> list[list[str]]:
    """Return the rows of the ``units`` sheet: one per column of every table (UNITS_HEADER)."""
    rows = []
    for table in TABLES:
        for col in table.columns:
            default = "" if col.required or col.default is None else str(col.default)
            rows.append(
                [
                    table.name,
                    col.name,
                    col.type,
                    col.unit,
                    "yes" if col.required else "no",
                    default,
                    ", ".join(col.choices or ()),
                    col.doc,
                ]
            )
    return rows


def _sheet(wb: Any, title: str) -> Any:
    """Add a write-only sheet called ``title`` with its header row frozen."""
    ws = wb.create_sheet(title)
    ws.freeze_panes = "A2"
    return ws


def _add_choices(ws: Any, table: Table, columns: list[str]) -> None:
    """Give each enumerated column of ``table`` a drop-down of its allowed values."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    for col in table.columns:
        if not col.choices or col.name not in columns:
            continue
        listed = ",".join(col.choices)  # Excel takes up to 255 characters here (tested)
        letter = get_column_letter(columns.index(col.name) + 1)
        rule = DataValidation(
            type="list",
            formula1=f'"{listed}"',
            allow_blank=True,  # a missing required value is reported when the book is read
            showErrorMessage=True,
            errorTitle=f"{table.name}.{col.name}",
            error=f"{col.name} must be one of: {', '.join(col.choices)}",
        )
        rule.add(f"{letter}2:{letter}{VALIDATED_ROWS}")
        ws.data_validations.append(rule)
