"""Raw records of a CSV file or a worksheet as a table with spreadsheet row numbers.

Blank records are skipped (the row numbers stay those a planner sees in a spreadsheet),
a cell is blank by :func:`talentplan.data.cells.is_blank`, and a header must name every
column. Files, sheets and columns whose name starts with ``#`` or ``_`` are comments.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from talentplan.data.cells import is_blank, suggest
from talentplan.data.schema import TABLE_BY_NAME
from talentplan.data.validate import RawTable
from talentplan.errors import InstanceError, InstanceValidationError

__all__ = ["blank_record", "read_csv", "records_to_raw", "unknown_table"]


def unknown_table(label: str, name: str, what: str) -> InstanceError:
    """Build the error for a file or sheet that names no table of the schema."""
    return InstanceError(
        f"unknown table {what} '{label}'{suggest(name, list(TABLE_BY_NAME))}; expected tables: "
        + ", ".join(TABLE_BY_NAME)
        + " (prefix the name with '_' to keep other data beside the instance)",
        file=label,
    )


def read_csv(path: Path) -> RawTable:
    """Read a UTF-8 CSV file (with or without a byte-order mark) into a :class:`RawTable`."""
    label = path.name
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            records = list(csv.reader(fh))
    except UnicodeDecodeError as exc:
        raise InstanceError(
            f"the file is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as "
            "'CSV UTF-8'",
            file=label,
        ) from exc
    except csv.Error as exc:
        raise InstanceError(f"malformed CSV: {exc}", file=label) from exc
    return records_to_raw(records, label)


def records_to_raw(records: list[list[Any]], label: str, first_row: int = 1) -> RawTable:
    """Header + data records -> :class:`RawTable`, skipping blank records, keeping rows."""
    header_at = next((n for n, r in enumerate(records) if not blank_record(r)), None)
    if header_at is None:
        raise InstanceError("the table is empty: expected a header row", file=label, row=first_row)
    header = ["" if h is None else str(h).strip() for h in records[header_at]]
    while header and not header[-1]:
        header.pop()
    if any(not h for h in header):
        raise InstanceError(
            "the header has an empty column name", file=label, row=first_row + header_at
        )
    width = len(header)
    data: list[list[Any]] = []
    rows: list[int] = []
    problems: list[InstanceError] = []
    for n, record in enumerate(records[header_at + 1 :], start=first_row + header_at + 1):
        if blank_record(record):
            continue
        cells = list(record)
        if len(cells) > width:
            extra = [c for c in cells[width:] if not is_blank(c)]
            if extra:
                problems.append(
                    InstanceError(
                        f"the row has {len(cells)} cells but the header has {width} columns",
                        file=label,
                        row=n,
                        value=extra[0],
                    )
                )
            cells = cells[:width]
        cells += [None] * (width - len(cells))
        data.append(cells)
        rows.append(n)
    if problems:
        raise InstanceValidationError(problems)
    frame = (
        pd.DataFrame(data, columns=header, dtype=object)
        if data
        else pd.DataFrame({h: pd.Series([], dtype=object) for h in header})
    )
    return RawTable(frame, label, np.asarray(rows, dtype=np.int64))


def blank_record(record: Iterable[Any]) -> bool:
    """Whether every cell of a record is blank."""
    return all(is_blank(v) for v in record)
