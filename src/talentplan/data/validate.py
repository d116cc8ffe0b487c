"""Validate raw tables and a scenario against the schema and build an :class:`Instance`.

Readers (:mod:`talentplan.data.io`) hand over every table as read (cells as text, numbers
or blanks) together with the spreadsheet row of each record. :func:`build_instance` checks

1. each cell: type, blank required cells, bounds and allowed values (blank optional cells
   take the schema default);
2. each table: required and unknown columns, duplicate keys;
3. the instance as a whole: references between tables, complete stock and demand grids,
   budgets for every plan year, effects allowed for each program kind, caps, pins,
   prerequisites and policy floors.

Every problem is collected; :func:`build_instance` raises one
:class:`~talentplan.errors.InstanceValidationError` listing them all, so nothing runs on
partial data. Validated frames have the schema's columns in schema order, proper dtypes
(``str``, ``int64``, ``float64``, ``bool``) and are sorted by key.

The work is split by responsibility: :mod:`talentplan.data.cells` (steps 1 and 2),
:mod:`talentplan.data.rules` (step 3) and :mod:`talentplan.data.pins` (pins and policy
floors within step 3). The names they share are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd

from talentplan.data.cells import (
    COMMENT_PREFIXES,
    Collector,
    Parsed,
    RawTable,
    expected_text,
    parse_table,
)
from talentplan.data.instance import Instance, Scenario
from talentplan.data.rules import cross_check
from talentplan.data.scenario_toml import ScenarioSource, parse_scenario
from talentplan.data.schema import TABLES
from talentplan.errors import InstanceError, InstanceValidationError

__all__ = [
    "COMMENT_PREFIXES",
    "Collector",
    "Parsed",
    "RawTable",
    "build_instance",
    "cross_check",
    "expected_text",
    "parse_table",
]


def build_instance(
    raw: Mapping[str, RawTable | None],
    scenario: ScenarioSource | Scenario,
    *,
    origin: str,
    label: Callable[[str], str],
    errors: list[InstanceError] | None = None,
) -> Instance:
    """Validate everything and return the :class:`Instance`, or raise all problems.

    Parameters
    ----------
    raw
        Table name -> raw table, or ``None`` when absent.
    scenario
        The scenario as read (or an already-built :class:`Scenario`).
    origin
        Where the instance came from (recorded on the instance).
    label
        Table name -> file label, for errors about absent tables.
    errors
        Problems the reader already found (unknown files, unreadable sheets, ...).
    """
    col = Collector()
    col.errors.extend(errors or [])
    if isinstance(scenario, Scenario):
        sc: Scenario | None = scenario
        src = None
    else:
        sc, scenario_errors = parse_scenario(scenario)
        col.errors.extend(scenario_errors)
        src = scenario
    parsed: dict[str, Parsed] = {}
    for table in TABLES:
        raw_table = raw.get(table.name)
        if raw_table is None:
            if table.required:
                col.add(
                    f"required table '{table.name}' is missing (expected columns: "
                    + ", ".join(c.name for c in table.columns)
                    + ")",
                    file=label(table.name),
                )
                continue
            raw_table = RawTable(
                pd.DataFrame({c.name: [] for c in table.columns}), label(table.name)
            )
        result = parse_table(table, raw_table, col)
        if result is not None:
            parsed[table.name] = result
    cross_check(parsed, sc, src, col)
    if col.errors:
        raise InstanceValidationError(col.errors)
    assert sc is not None
    tables = {name: p.frame for name, p in parsed.items()}
    return Instance(scenario=sc, tables=tables, origin=origin)
