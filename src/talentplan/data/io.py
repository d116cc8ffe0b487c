"""Read and write planning instances: folders (TOML + CSV), Excel workbooks, bundled names.

- A folder holds ``scenario.toml`` and one CSV per table, named ``<table>.csv``; optional
  tables (``pins``, ``targets``) may be absent.
- A workbook (``.xlsx``) holds a ``scenario`` sheet (``key``/``value`` rows), an optional
  ``floors`` sheet (one policy floor per row) and one sheet per table.
- A bundled dataset is named (``qingyuan``, ``northern_guangdong``); ``synthetic:N[:SEED]``
  generates one.

Files, sheets and columns whose name starts with ``#`` or ``_`` are comments and ignored;
any other unknown one is an error (a misspelt optional table would otherwise be dropped
silently). Writing is atomic: everything goes into a temporary sibling first, which then
replaces the target in one rename.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from talentplan.data.instance import Instance
from talentplan.data.scenario_toml import (
    FLOOR_KEYS,
    SCENARIO_FILE,
    ScenarioSource,
    floor_rows,
    read_scenario_toml,
    scenario_rows,
    scenario_to_toml,
)
from talentplan.data.schema import TABLE_BY_NAME, TABLES
from talentplan.data.validate import COMMENT_PREFIXES, RawTable, build_instance
from talentplan.errors import InstanceError, InstanceValidationError

__all__ = ["load_instance", "read_folder", "read_workbook", "write_instance"]

SCENARIO_SHEET = "scenario"
FLOORS_SHEET = "floors"


def load_instance(source: str | os.PathLike[str]) -> Instance:
    """Load and validate a planning instance.

    Parameters
    ----------
    source
        A folder (``scenario.toml`` + CSV files), the path of its ``scenario.toml``, an
        ``.xlsx`` workbook, the name of a bundled dataset (``qingyuan``,
        ``northern_guangdong``; an existing path of the same name wins), or
        ``synthetic:N[:SEED]`` for a generated instance of ``N`` counties.

    Returns
    -------
    Instance
        The validated instance.

    Raises
    ------
    InstanceValidationError
        Listing every problem found (file, row, column, value, what was expected).
    InstanceError
        When ``source`` names nothing that can be read.

    Examples
    --------
    >>> from talentplan.data import load_instance
    >>> inst = load_instance("qingyuan")
    >>> len(inst.counties), inst.years[0], inst.years[-1]
    (8, 2025, 2029)
    """
    from talentplan import datasets

    text = os.fspath(source)
    if isinstance(source, str) and text.startswith("synthetic:"):
        return datasets.from_spec(text)
    path = Path(text)
    if path.is_dir():
        return read_folder(path)
    if path.is_file():
        if path.suffix.lower() == ".xlsx":
            return read_workbook(path)
        if path.name == SCENARIO_FILE:
            return read_folder(path.parent)
        raise InstanceError(
            f"cannot read '{path}': expected a folder with {SCENARIO_FILE}, its "
            f"{SCENARIO_FILE}, or an .xlsx workbook",
            file=str(path),
        )
    if text in datasets.available():
        return datasets.load(text)
    raise InstanceError(
        f"'{text}' is neither an existing folder or workbook nor a bundled dataset; "
        f"bundled datasets: {', '.join(datasets.available())}; or use synthetic:N[:SEED]"
    )


def with_response_parameters(instance: Instance, folder: Path, label: str) -> Instance:
    """Apply the calibrated parameters the scenario references, if any.

    The estimates replace the matching response values (their ``source`` column names the
    file, estimator and data hash) and the reference is cleared, so the instance is
    self-contained when written elsewhere.
    """
    ref = instance.scenario.response_parameters
    if not ref:
        return instance
    from talentplan.calibrate.parameters import ResponseParameters
    from talentplan.calibrate.regret import apply_parameters
    from talentplan.errors import CalibrationError

    path = (folder / ref).resolve()
    try:
        params = ResponseParameters.from_json(path)
        applied = apply_parameters(instance, params, source=f"calibrated: {ref}")
    except FileNotFoundError:
        raise InstanceError(
            f"response parameters file '{path}' not found",
            file=label,
            column="response_parameters",
            value=ref,
        ) from None
    except (CalibrationError, ValueError) as exc:
        raise InstanceError(
            f"cannot apply response parameters from '{ref}': {exc}",
            file=label,
            column="response_parameters",
            value=ref,
        ) from None
    return applied.replace_scenario(response_parameters="")


# --- folders ------------------------------------------------------------------------------


def read_folder(path: str | os.PathLike[str], *, origin: str | None = None) -> Instance:
    """Read and validate an instance folder (``scenario.toml`` + ``<table>.csv``)."""
    folder = Path(path)
    errors: list[InstanceError] = []
    scenario: ScenarioSource | None = None
    toml = folder / SCENARIO_FILE
    if not toml.is_file():
        errors.append(
            InstanceError(
                f"the folder has no {SCENARIO_FILE} (the scenario: name, start_year, n_years, ...)",
                file=SCENARIO_FILE,
            )
        )
    else:
        try:
            scenario = read_scenario_toml(toml)
        except InstanceError as exc:
            errors.append(exc)
    raw: dict[str, RawTable | None] = {}
    for csv_path in sorted(folder.glob("*.csv")):
        name = csv_path.stem
        if name.startswith(COMMENT_PREFIXES):
            continue
        if name not in TABLE_BY_NAME:
            errors.append(_unknown_table(csv_path.name, name, "file"))
            continue
        try:
            raw[name] = _read_csv(csv_path)
        except InstanceError as exc:
            errors.append(exc)
    if scenario is None:
        scenario = ScenarioSource({}, [], SCENARIO_FILE, SCENARIO_FILE)
        if errors:
            raise InstanceValidationError(errors)
    instance = build_instance(
        raw, scenario, origin=origin or str(folder), label=lambda t: f"{t}.csv", errors=errors
    )
    return with_response_parameters(instance, folder, SCENARIO_FILE)


def _unknown_table(label: str, name: str, what: str) -> InstanceError:
    import difflib

    close = difflib.get_close_matches(name, list(TABLE_BY_NAME), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return InstanceError(
        f"unknown table {what} '{label}'{hint}; expected tables: "
        + ", ".join(TABLE_BY_NAME)
        + " (prefix the name with '_' to keep other data beside the instance)",
        file=label,
    )


def _read_csv(path: Path) -> RawTable:
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
    return _records_to_raw(records, label)


def _records_to_raw(records: list[list[Any]], label: str, first_row: int = 1) -> RawTable:
    """Header + data records -> :class:`RawTable`, skipping blank records, keeping rows."""
    header_at = next((n for n, r in enumerate(records) if not _blank_record(r)), None)
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
        if _blank_record(record):
            continue
        cells = list(record)
        if len(cells) > width:
            extra = [c for c in cells[width:] if not _blank_cell(c)]
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


def _blank_cell(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _blank_record(record: Iterable[Any]) -> bool:
    return all(_blank_cell(v) for v in record)


# --- workbooks ----------------------------------------------------------------------------


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
            if title.startswith(COMMENT_PREFIXES):
                continue
            sheets[title] = [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    for title, records in sheets.items():
        label = f"{name}[{title}]"
        if title in (SCENARIO_SHEET, FLOORS_SHEET):
            continue
        if title not in TABLE_BY_NAME:
            errors.append(_unknown_table(label, title, "sheet"))
            continue
        try:
            raw[title] = _records_to_raw(records, label)
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
            table = _records_to_raw(sheets[SCENARIO_SHEET], label)
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
    if FLOORS_SHEET in sheets and any(not _blank_record(r) for r in sheets[FLOORS_SHEET]):
        try:
            table = _records_to_raw(sheets[FLOORS_SHEET], floors_label)
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
                        and not (k in FLOOR_KEYS and _blank_cell(v))
                    }
                )
                floor_rows_.append(int(row))
    return ScenarioSource(values, floors, label, floors_label, rows, floor_rows_, strict=False)


# --- writing ------------------------------------------------------------------------------


def write_instance(
    instance: Instance, path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write ``instance`` to a folder, or to a workbook when ``path`` ends in ``.xlsx``.

    The write is atomic: files go to a temporary sibling of ``path`` that replaces the
    target in one rename, so a failure leaves nothing half-written (and an existing
    target untouched). When a folder is overwritten, files in it that are not part of an
    instance (a README, notes) are kept.

    Parameters
    ----------
    instance
        The instance to write (every table, optional ones with their header only when
        empty).
    path
        Target folder, or ``.xlsx`` file.
    overwrite
        Replace an existing target (otherwise :class:`FileExistsError`).

    Returns
    -------
    Path
        The path written.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"'{target}' exists; pass overwrite=True to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix.lower() == ".xlsx":
        _write_workbook_atomic(instance, target)
    else:
        if target.exists() and not target.is_dir():
            raise FileExistsError(f"'{target}' is a file, not an instance folder")
        _write_folder_atomic(instance, target)
    return target


def _write_folder_atomic(instance: Instance, target: Path) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        write_folder_files(instance, tmp)
        if target.exists():
            ours = {SCENARIO_FILE, *(t.filename for t in TABLES)}
            for item in target.iterdir():
                if item.name not in ours:
                    dest = tmp / item.name
                    if item.is_dir():
                        shutil.copytree(item, dest)
                    else:
                        shutil.copy2(item, dest)
            backup = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
            os.replace(target, backup)
            try:
                os.replace(tmp, target)
            except BaseException:
                os.replace(backup, target)
                raise
            shutil.rmtree(backup, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_folder_files(instance: Instance, folder: Path) -> None:
    """Write ``scenario.toml`` and every table's CSV into an existing ``folder``."""
    (folder / SCENARIO_FILE).write_text(scenario_to_toml(instance.scenario), encoding="utf-8")
    for table in TABLES:
        frame = _frame_for(instance, table.name)
        with (folder / table.filename).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(list(frame.columns))
            writer.writerows(_text_rows(frame))


def _frame_for(instance: Instance, name: str) -> pd.DataFrame:
    table = TABLE_BY_NAME[name]
    frame = instance.tables.get(name)
    columns = [c.name for c in table.columns]
    if frame is None:
        return pd.DataFrame({c: [] for c in columns})
    return frame[columns]


def _cell_text(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if math.isnan(number):
            return ""
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    return "" if value is None else str(value)


def _text_rows(frame: pd.DataFrame) -> Iterable[list[str]]:
    for record in frame.itertuples(index=False):
        yield [_cell_text(v) for v in record]


def _cell_value(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(float(value)) else float(value)
    return value


def _write_workbook_atomic(instance: Instance, target: Path) -> None:
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".tmp.xlsx", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write_workbook_file(instance, tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_workbook_file(instance: Instance, path: Path) -> None:
    """Write ``instance`` as a workbook at ``path`` (not atomic; see write_instance)."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(SCENARIO_SHEET)
    ws.append(["key", "value"])
    for key, value in scenario_rows(instance.scenario):
        ws.append([key, _cell_value(value)])
    ws = wb.create_sheet(FLOORS_SHEET)
    ws.append(list(FLOOR_KEYS))
    for row in floor_rows(instance.scenario):
        ws.append([_cell_value(v) for v in row])
    for table in TABLES:
        frame = _frame_for(instance, table.name)
        ws = wb.create_sheet(table.name)
        ws.append(list(frame.columns))
        for record in frame.itertuples(index=False):
            ws.append([_cell_value(v) for v in record])
    wb.save(path)
