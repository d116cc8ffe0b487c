"""The scenario of an instance: parsing from a mapping (TOML or a workbook sheet) and back.

A scenario is a flat set of keys (``name``, ``start_year``, ``n_years``, ...) plus a list of
policy floors. In a folder it is ``scenario.toml`` with ``[[floors]]`` tables; in a
workbook it is a ``scenario`` sheet of ``key``/``value`` rows plus a ``floors`` sheet.
Every problem is collected as an :class:`~talentplan.errors.InstanceError` naming the key.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import tomli_w

from talentplan.data.cells import is_blank, suggest
from talentplan.data.instance import PolicyFloor, Scenario
from talentplan.data.schema import OBJECTIVES
from talentplan.errors import InstanceError

SCENARIO_FILE = "scenario.toml"

_TYPES: dict[str, str] = {
    "name": "str",
    "description": "str",
    "start_year": "int",
    "n_years": "int",
    "objective": "str",
    "discount_rate": "float",
    "attrition_floor": "float",
    "pwl_segments": "int",
    "carry_over": "bool",
    "target_coverage": "float",
    "min_coverage": "float",
    "demand_feedback": "float",
    "seed": "int",
    "sources": "str",
    "response_parameters": "str",
}
"""Scalar scenario keys and their types (``floors`` is the list of policy floors)."""

REQUIRED_KEYS = ("name", "start_year", "n_years")

FLOOR_KEYS: dict[str, str] = {
    "name": "str",
    "program": "str",
    "by_year": "int",
    "min_units": "float",
    "counties": "list",
}
FLOOR_REQUIRED = ("name", "program", "by_year")

_RANGES: dict[str, tuple[float, float, str]] = {
    "start_year": (1900, 2200, "a calendar year between 1900 and 2200"),
    "n_years": (1, 100, "a whole number of years between 1 and 100"),
    "discount_rate": (0.0, 0.999, "a yearly rate in [0, 1)"),
    "attrition_floor": (0.0, 0.999, "a yearly share in [0, 1)"),
    "pwl_segments": (1, 1000, "a whole number of segments between 1 and 1000"),
    "target_coverage": (1e-9, 1.0, "a share in (0, 1]"),
    "min_coverage": (0.0, 1.0, "a share in [0, 1]"),
    "demand_feedback": (0.0, 100.0, "persons of demand per person, between 0 and 100"),
    "seed": (0, 2**63 - 1, "a non-negative whole number"),
}


@dataclass(frozen=True)
class ScenarioSource:
    """A scenario as read, before parsing.

    Parameters
    ----------
    values
        Scalar keys to raw values (TOML values, or workbook cells).
    floors
        One mapping per policy floor.
    file
        Label used in error messages (``scenario.toml`` or ``book.xlsx[scenario]``).
    floors_file
        Label of the floors' location (the same file for TOML).
    rows
        Spreadsheet row of each scalar key (workbooks only).
    floor_rows
        Spreadsheet row of each floor (workbooks only).
    strict
        ``True`` for TOML (values must already have the right type); ``False`` for
        workbooks, whose cells may hold numbers as text.
    """

    values: dict[str, Any]
    floors: list[dict[str, Any]]
    file: str
    floors_file: str
    rows: dict[str, int] | None = None
    floor_rows: list[int] | None = None
    strict: bool = True


def read_scenario_toml(path: Path, label: str = SCENARIO_FILE) -> ScenarioSource:
    """Read ``scenario.toml``; a syntax error becomes an :class:`InstanceError`."""
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise InstanceError(
            f"the file is not UTF-8 text ({exc.reason}); save it as UTF-8", file=label
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InstanceError(f"invalid TOML: {exc}", file=label) from exc
    floors = data.pop("floors", [])
    if not isinstance(floors, list) or not all(isinstance(f, dict) for f in floors):
        raise InstanceError(
            "'floors' must be an array of tables ([[floors]] sections)",
            file=label,
            column="floors",
            value=floors,
        )
    return ScenarioSource(values=data, floors=floors, file=label, floors_file=label)


def parse_scenario(src: ScenarioSource) -> tuple[Scenario | None, list[InstanceError]]:
    """Parse a :class:`ScenarioSource`; return the scenario (``None`` on error) and errors."""
    errors: list[InstanceError] = []
    rows = src.rows or {}
    parsed: dict[str, Any] = {}
    for key, raw in src.values.items():
        if key not in _TYPES:
            hint = suggest(key, [*_TYPES, "floors"])
            errors.append(
                InstanceError(
                    f"unknown scenario key '{key}'{hint}; known keys: "
                    + ", ".join([*_TYPES, "floors"]),
                    file=src.file,
                    row=rows.get(key),
                    column=key,
                    value=raw,
                )
            )
            continue
        if is_blank(raw):
            continue
        value, problem = _convert(raw, _TYPES[key], src.strict)
        if problem is None:
            problem = _check_range(key, value)
        if problem is not None:
            errors.append(
                InstanceError(problem, file=src.file, row=rows.get(key), column=key, value=raw)
            )
            continue
        parsed[key] = value
    for key in REQUIRED_KEYS:
        if key not in parsed and not any(e.column == key for e in errors):
            errors.append(
                InstanceError(
                    f"required scenario key '{key}' is missing (expected {_TYPES[key]})",
                    file=src.file,
                    column=key,
                )
            )
    if "objective" in parsed and parsed["objective"] not in OBJECTIVES:
        errors.append(
            InstanceError(
                f"unknown objective '{parsed['objective']}'; expected one of "
                + ", ".join(OBJECTIVES),
                file=src.file,
                row=rows.get("objective"),
                column="objective",
                value=parsed["objective"],
            )
        )
    floors = _parse_floors(src, errors)
    if errors:
        return None, errors
    return Scenario(**parsed, floors=tuple(floors)), errors


def _parse_floors(src: ScenarioSource, errors: list[InstanceError]) -> list[PolicyFloor]:
    out: list[PolicyFloor] = []
    for n, raw in enumerate(src.floors):
        row = src.floor_rows[n] if src.floor_rows else None
        where = f"floors[{n}]" if row is None else ""
        ok = True
        values: dict[str, Any] = {}
        failed: set[str] = set()
        for key, cell in raw.items():
            column = f"{where}.{key}" if where else key
            if key not in FLOOR_KEYS:
                errors.append(
                    InstanceError(
                        f"unknown policy-floor key '{key}'{suggest(key, list(FLOOR_KEYS))}; "
                        "known keys: " + ", ".join(FLOOR_KEYS),
                        file=src.floors_file,
                        row=row,
                        column=column,
                        value=cell,
                    )
                )
                ok = False
                continue
            if is_blank(cell):
                continue
            value, problem = _convert(cell, FLOOR_KEYS[key], src.strict)
            if problem is None and key == "min_units" and not value > 0:
                problem = f"expected a positive number of units, got {value!r}"
            if problem is not None:
                errors.append(
                    InstanceError(problem, file=src.floors_file, row=row, column=column, value=cell)
                )
                failed.add(key)
                ok = False
                continue
            values[key] = value
        for key in FLOOR_REQUIRED:
            if key not in values and key not in failed:
                errors.append(
                    InstanceError(
                        f"policy floor needs '{key}'",
                        file=src.floors_file,
                        row=row,
                        column=f"{where}.{key}" if where else key,
                    )
                )
                ok = False
        if ok and all(k in values for k in FLOOR_REQUIRED):
            values["counties"] = tuple(values.get("counties", ()))
            out.append(PolicyFloor(**values))
    return out


def scenario_to_toml(scenario: Scenario) -> str:
    """Return the TOML text of ``scenario`` (all keys, floors as ``[[floors]]`` tables)."""
    data: dict[str, Any] = {}
    for f in fields(Scenario):
        if f.name != "floors":
            data[f.name] = getattr(scenario, f.name)
    data["floors"] = [
        {
            "name": fl.name,
            "program": fl.program,
            "by_year": fl.by_year,
            "min_units": fl.min_units,
            "counties": list(fl.counties),
        }
        for fl in scenario.floors
    ]
    return tomli_w.dumps(data, multiline_strings=True)


def scenario_rows(scenario: Scenario) -> list[tuple[str, Any]]:
    """``(key, value)`` rows of the scalar keys, for the workbook's ``scenario`` sheet."""
    return [(f.name, getattr(scenario, f.name)) for f in fields(Scenario) if f.name != "floors"]


def floor_rows(scenario: Scenario) -> list[tuple[Any, ...]]:
    """Rows of the workbook's ``floors`` sheet (counties joined by ';')."""
    return [
        (fl.name, fl.program, fl.by_year, fl.min_units, ";".join(fl.counties))
        for fl in scenario.floors
    ]


# --- helpers ------------------------------------------------------------------------------


def _convert(raw: Any, kind: str, strict: bool) -> tuple[Any, str | None]:
    """Convert one value; return ``(value, None)`` or ``(None, problem)``."""
    expected = {
        "str": "text",
        "int": "a whole number",
        "float": "a number",
        "bool": "true or false",
        "list": "a list of county ids",
    }[kind]
    bad = (None, f"expected {expected}, got {raw!r} ({type(raw).__name__})")
    if kind == "str":
        if isinstance(raw, str):
            return raw.strip(), None
        if not strict and isinstance(raw, (int, float)) and not isinstance(raw, bool):
            return _number_text(raw), None
        return bad
    if kind == "int":
        if isinstance(raw, bool):
            return bad
        if isinstance(raw, int):
            return raw, None
        if not strict:
            number = _to_float(raw)
            if number is not None and number.is_integer():
                return int(number), None
        return bad
    if kind == "float":
        if isinstance(raw, bool):
            return bad
        if isinstance(raw, (int, float)):
            return (float(raw), None) if math.isfinite(raw) else bad
        if not strict:
            number = _to_float(raw)
            if number is not None:
                return number, None
        return bad
    if kind == "bool":
        if isinstance(raw, bool):
            return raw, None
        if not strict:
            text = str(raw).strip().lower()
            if text in ("true", "1", "yes", "1.0"):
                return True, None
            if text in ("false", "0", "no", "0.0"):
                return False, None
        return bad
    # list of county ids
    if isinstance(raw, list) and all(isinstance(v, str) for v in raw):
        return [v.strip() for v in raw if v.strip()], None
    if not strict and isinstance(raw, str):
        return [v.strip() for v in raw.split(";") if v.strip()], None
    return bad


def _to_float(raw: Any) -> float | None:
    try:
        number = float(str(raw).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _check_range(key: str, value: Any) -> str | None:
    if key not in _RANGES:
        if key == "name" and not value:
            return "the scenario name must not be empty"
        return None
    low, high, what = _RANGES[key]
    if not low <= value <= high:
        return f"expected {what}, got {value!r}"
    return None
