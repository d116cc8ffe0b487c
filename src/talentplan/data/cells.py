"""Tables as read, and the checks that need only one table: cells, columns and keys.

Readers (:mod:`talentplan.data.io`) hand over every table as a :class:`RawTable`: cells as
text, numbers or blanks, together with the spreadsheet row of each record.
:func:`parse_table` checks

1. each cell: type, blank required cells, bounds and allowed values (blank optional cells
   take the schema default);
2. each table: required and unknown columns, duplicate keys;

and returns a :class:`Parsed` table whose frame has the schema's columns in schema order,
proper dtypes (``str``, ``int64``, ``float64``, ``bool``) and is sorted by key. Problems go
to a :class:`Collector`; checks across tables live in :mod:`talentplan.data.rules`.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack

import numpy as np
import pandas as pd

from talentplan.data.schema import Column, Table
from talentplan.errors import InstanceError

COMMENT_PREFIXES = ("#", "_")
"""Columns, CSV files and sheets whose name starts with these are comments and ignored."""


@dataclass
class RawTable:
    """One table as read, before validation.

    Parameters
    ----------
    frame
        Cells as read: headers as given, cells as text, numbers, booleans or blanks.
    file
        Label for error messages, e.g. ``programs.csv`` or ``book.xlsx[programs]``.
    rows
        Spreadsheet row of each record (header = row 1); defaults to ``2, 3, ...``.
    """

    frame: pd.DataFrame
    file: str
    rows: np.ndarray | None = None

    def __post_init__(self) -> None:
        """Fill in spreadsheet rows 2, 3, ... for the records when no rows are given."""
        if self.rows is None:
            self.rows = np.arange(2, len(self.frame) + 2)


@dataclass
class Parsed:
    """A table after cell validation, with the bookkeeping cross-table checks need."""

    table: Table
    frame: pd.DataFrame
    rows: np.ndarray
    file: str
    bad: dict[str, np.ndarray] = field(default_factory=dict)

    def ok(self, column: str) -> np.ndarray:
        """Mask of records whose ``column`` parsed cleanly."""
        return ~self.bad.get(column, np.zeros(len(self.frame), dtype=bool))


class Where(TypedDict, total=False):
    """Where an instance error is: the keyword arguments of :class:`InstanceError`."""

    file: str | None
    row: int | None
    column: str | None
    value: object


class Collector:
    """Collects :class:`InstanceError` objects."""

    def __init__(self) -> None:
        self.errors: list[InstanceError] = []

    def add(self, message: str, **where: Unpack[Where]) -> None:
        """Record an error, located by file, spreadsheet row, column and value where known."""
        self.errors.append(InstanceError(message, **where))

    def at(self, t: Parsed, i: int | np.integer, column: str, message: str) -> None:
        """Error at record ``i`` (position) of a parsed table."""
        i = int(i)
        value = t.frame[column].iloc[i] if column in t.frame else None
        self.add(message, file=t.file, row=int(t.rows[i]), column=column, value=value)


def is_blank(value: Any) -> bool:
    """Whether a cell is empty: None, NaN or NA, or text of only whitespace.

    The one rule for blank cells in every table, sheet, scenario key and plan file.

    Examples
    --------
    >>> [is_blank(v) for v in (None, float("nan"), "  ", "0", 0, False)]
    [True, True, True, False, False, False]
    """
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (bool, int, np.bool_)) or not pd.api.types.is_scalar(value):
        return False
    return bool(pd.isna(value))


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def as_number(value: Any) -> float:
    """Return a finite float from a cell (text may use thousands commas), or NaN."""
    if isinstance(value, (bool, np.bool_)):
        return math.nan
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
    else:
        try:
            number = float(str(value).strip().replace(",", ""))
        except ValueError:
            return math.nan
    return number if math.isfinite(number) else math.nan


_TRUE = {"true", "1", "yes", "y", "t", "1.0"}
_FALSE = {"false", "0", "no", "n", "f", "0.0"}


def _boolean(value: Any) -> bool | None:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def suggest(word: str, options: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the option closest to ``word``, or ``""``."""
    close = difflib.get_close_matches(str(word), options, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def expected_text(col: Column) -> str:
    """Describe in words what a cell of ``col`` must hold (for error messages and docs)."""
    if col.choices:
        return "one of " + ", ".join(col.choices)
    what = {"str": "text", "int": "a whole number", "float": "a number", "bool": "true or false"}[
        col.type
    ]
    bounds = []
    if col.minimum is not None:
        bounds.append(f"{'>' if col.exclusive_minimum else '>='} {col.minimum:g}")
    if col.maximum is not None:
        bounds.append(f"<= {col.maximum:g}")
    if bounds:
        what += " " + " and ".join(bounds)
    if col.unit:
        what += f" ({col.unit})"
    return what


def _parse_column(
    raw: pd.Series, col: Column, file: str, rows: np.ndarray, out: Collector
) -> tuple[pd.Series, np.ndarray]:
    """Parse one column; return typed values and a mask of bad cells."""
    n = len(raw)
    numeric = pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype)
    values = raw.to_numpy(dtype=object)
    if numeric:
        blank = raw.isna().to_numpy()
    else:
        blank = np.fromiter((is_blank(v) for v in values), bool, n)
    bad = np.zeros(n, dtype=bool)
    result: np.ndarray
    if col.type == "str":
        result = np.array(
            [_text(v) if not b else "" for v, b in zip(values, blank, strict=True)], dtype=object
        )
        if col.choices is not None:
            wrong = ~blank & ~np.isin(result.astype(str), list(col.choices))
            bad |= wrong
        num = None
    elif col.type == "bool":
        parsed = [None if b else _boolean(v) for v, b in zip(values, blank, strict=True)]
        bad |= np.array([p is None for p in parsed], dtype=bool) & ~blank
        result = np.array([bool(p) if p is not None else False for p in parsed], dtype=bool)
        num = None
    else:
        if numeric:
            num = raw.to_numpy(dtype=float)
            num = np.where(np.isfinite(num), num, np.nan)
        else:
            num = np.fromiter(
                (np.nan if b else as_number(v) for v, b in zip(values, blank, strict=True)),
                float,
                n,
            )
        bad |= ~blank & np.isnan(num)
        if col.type == "int":
            with np.errstate(invalid="ignore"):
                bad |= ~blank & ~np.isnan(num) & (np.floor(num) != num)
                # Whole numbers beyond what a 64-bit integer holds cannot be stored.
                bad |= ~blank & (np.abs(num) > 2**53)
        with np.errstate(invalid="ignore"):
            if col.minimum is not None:
                low = num <= col.minimum if col.exclusive_minimum else num < col.minimum
                bad |= ~blank & low
            if col.maximum is not None:
                bad |= ~blank & (num > col.maximum)
        result = num
    missing = blank & col.required
    for i in np.flatnonzero(bad | missing):
        value = values[i]
        if missing[i]:
            message = f"a value is required here (expected {expected_text(col)})"
            value = None
        else:
            message = f"expected {expected_text(col)}, got {_text(value)!r}"
        out.add(message, file=file, row=int(rows[i]), column=col.name, value=value)
    bad |= missing
    default = col.default
    if col.type == "str":
        fill = "" if default is None else str(default)
        result = np.where(blank | bad, fill, result)
        series = pd.Series(result, dtype=object).astype(str)
    elif col.type == "bool":
        result = np.where(blank, bool(default), result)
        series = pd.Series(result, dtype=bool)
    elif col.type == "int":
        fill_i = 0 if default is None else int(default)  # type: ignore[call-overload]
        result = np.where(blank | bad, fill_i, result)
        series = pd.Series(result.astype(np.int64), dtype="int64")
    else:
        fill_f = math.nan if default is None else float(default)  # type: ignore[arg-type]
        result = np.where(blank, fill_f, np.where(bad, math.nan, result))
        series = pd.Series(result, dtype="float64")
    return series, bad


def parse_table(table: Table, t: RawTable, out: Collector) -> Parsed | None:
    """Check the columns and cells of one table; ``None`` if it cannot be used at all."""
    frame = t.frame
    headers = [str(h).strip() for h in frame.columns]
    known = [c.name for c in table.columns]
    seen: dict[str, int] = {}
    keep: list[int] = []
    for pos, name in enumerate(headers):
        if name.startswith(COMMENT_PREFIXES):
            continue
        if name in seen:
            out.add(f"column '{name}' appears twice in the header", file=t.file, row=1, column=name)
            continue
        seen[name] = pos
        if name not in known:
            out.add(
                f"unknown column '{name}'{suggest(name, known)}; expected columns: "
                f"{', '.join(known)} "
                "(prefix a column name with '#' to keep it as a comment)",
                file=t.file,
                row=1,
                column=name,
            )
            continue
        keep.append(pos)
    absent = [c for c in table.columns if c.name not in seen]
    for c in absent:
        if c.required:
            out.add(
                f"required column '{c.name}' is missing (expected {expected_text(c)})",
                file=t.file,
                row=1,
                column=c.name,
            )
    if any(c.required for c in absent):
        return None
    columns: dict[str, pd.Series] = {}
    bad: dict[str, np.ndarray] = {}
    n = len(frame)
    rows = np.asarray(t.rows, dtype=np.int64)
    for c in table.columns:
        if c.name in seen:
            raw = frame.iloc[:, seen[c.name]].reset_index(drop=True)
        else:
            raw = pd.Series([None] * n, dtype=object)
        columns[c.name], bad[c.name] = _parse_column(raw, c, t.file, rows, out)
    typed = pd.DataFrame(columns)
    dup = typed.duplicated(list(table.key), keep=False).to_numpy()
    if dup.any():
        first: dict[tuple, int] = {}
        for i in np.flatnonzero(dup):
            key = tuple(typed.iloc[i][k] for k in table.key)
            if key in first:
                what = ", ".join(f"{k}={v!r}" for k, v in zip(table.key, key, strict=True))
                out.add(
                    f"duplicate key ({what}): the same key is already in row {first[key]}",
                    file=t.file,
                    row=int(rows[i]),
                    column=table.key[-1],
                    value=key[-1],
                )
            else:
                first[key] = int(rows[i])
    order = typed.sort_values(list(table.key), kind="mergesort").index.to_numpy()
    typed = typed.iloc[order].reset_index(drop=True)
    return Parsed(table, typed, rows[order], t.file, {k: v[order] for k, v in bad.items()})
