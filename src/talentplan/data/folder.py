"""Instance folders: ``scenario.toml`` and one CSV per table, named ``<table>.csv``.

Optional tables (``pins``, ``targets``) may be absent. Files whose name starts with
``#`` or ``_`` are comments and ignored; any other unknown CSV is an error (a misspelt
optional table would otherwise be dropped silently).
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from talentplan._files import replace_folder
from talentplan.data.instance import Instance
from talentplan.data.records import read_csv, unknown_table
from talentplan.data.responses import with_response_parameters
from talentplan.data.scenario_toml import (
    SCENARIO_FILE,
    ScenarioSource,
    read_scenario_toml,
    scenario_to_toml,
)
from talentplan.data.schema import TABLE_BY_NAME, TABLES
from talentplan.data.validate import COMMENT_PREFIXES, RawTable, build_instance
from talentplan.errors import InstanceError, InstanceValidationError

__all__ = ["read_folder", "table_frame", "write_folder", "write_folder_files"]


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
            errors.append(unknown_table(csv_path.name, name, "file"))
            continue
        try:
            raw[name] = read_csv(csv_path)
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


def write_folder(instance: Instance, target: Path) -> None:
    """Write ``instance`` as the folder ``target``, atomically.

    When ``target`` exists, files in it that are not part of an instance (a README,
    notes) are kept.
    """
    ours = {SCENARIO_FILE, *(t.filename for t in TABLES)}
    replace_folder(target, lambda tmp: write_folder_files(instance, tmp), keep_except=ours)


def write_folder_files(instance: Instance, folder: Path) -> None:
    """Write ``scenario.toml`` and every table's CSV into an existing ``folder``."""
    (folder / SCENARIO_FILE).write_text(scenario_to_toml(instance.scenario), encoding="utf-8")
    for table in TABLES:
        frame = table_frame(instance, table.name)
        with (folder / table.filename).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(list(frame.columns))
            writer.writerows(_text_rows(frame))


def table_frame(instance: Instance, name: str) -> pd.DataFrame:
    """Return the columns of table ``name`` in schema order (header only when absent)."""
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
