"""Validate raw tables and a scenario against the schema and build an :class:`Instance`.

Readers (:mod:`talentplan.data.io`) hand over every table as read (cells as text, numbers
or blanks) together with the spreadsheet row of each record. This module checks

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
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from talentplan.data.instance import Instance, Scenario
from talentplan.data.scenario_toml import ScenarioSource, parse_scenario
from talentplan.data.schema import EFFECT_KINDS, TABLES, Column, Table
from talentplan.errors import InstanceError, InstanceValidationError

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


class Collector:
    """Collects :class:`InstanceError` objects."""

    def __init__(self) -> None:
        self.errors: list[InstanceError] = []

    def add(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
    ) -> None:
        self.errors.append(InstanceError(message, file=file, row=row, column=column, value=value))

    def at(self, t: Parsed, i: int | np.integer, column: str, message: str) -> None:
        """Error at record ``i`` (position) of a parsed table."""
        i = int(i)
        value = t.frame[column].iloc[i] if column in t.frame else None
        self.add(message, file=t.file, row=int(t.rows[i]), column=column, value=value)


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


# --- cells and tables ---------------------------------------------------------------------


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str):
        return not value.strip()
    return bool(pd.isna(value)) if not isinstance(value, (bool, int, np.bool_)) else False


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


def _number(value: Any) -> float:
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


def expected_text(col: Column) -> str:
    """What a cell of ``col`` must hold, in words (used in error messages and docs)."""
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
    raw: pd.Series, col: Column, t: RawTable, out: Collector
) -> tuple[pd.Series, np.ndarray]:
    """Parse one column; return typed values and a mask of bad cells."""
    n = len(raw)
    rows = t.rows if t.rows is not None else np.arange(2, n + 2)
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        blank = raw.isna().to_numpy()
    else:
        blank = np.fromiter((_is_blank(v) for v in raw.to_numpy(dtype=object)), bool, n)
    bad = np.zeros(n, dtype=bool)
    values = raw.to_numpy(dtype=object)
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
        if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
            num = raw.to_numpy(dtype=float)
            num = np.where(np.isfinite(num), num, np.nan)
        else:
            num = np.fromiter(
                (np.nan if b else _number(v) for v, b in zip(values, blank, strict=True)), float, n
            )
        bad |= ~blank & np.isnan(num)
        if col.type == "int":
            with np.errstate(invalid="ignore"):
                bad |= ~blank & ~np.isnan(num) & (np.floor(num) != num)
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
        out.add(message, file=t.file, row=int(rows[i]), column=col.name, value=value)
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
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            out.add(
                f"unknown column '{name}'{hint}; expected columns: {', '.join(known)} "
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
    for c in table.columns:
        if c.name in seen:
            raw = frame.iloc[:, seen[c.name]].reset_index(drop=True)
        else:
            raw = pd.Series([None] * n, dtype=object)
        columns[c.name], bad[c.name] = _parse_column(raw, c, t, out)
    typed = pd.DataFrame(columns)
    rows = np.asarray(t.rows, dtype=np.int64)
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


# --- the instance as a whole --------------------------------------------------------------


def _suggest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(str(word), options, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _check_reference(
    t: Parsed,
    column: str,
    ids: list[str],
    what: str,
    target: str,
    out: Collector,
    allow_blank: bool = False,
) -> None:
    known = set(ids)
    values = t.frame[column].to_numpy(dtype=object)
    mask = t.ok(column) & ~np.isin(values.astype(str), list(known))
    if allow_blank:
        mask &= values != ""
    for i in np.flatnonzero(mask):
        out.at(
            t,
            i,
            column,
            f"unknown {what} '{values[i]}'{_suggest(values[i], ids)}; "
            f"expected an id listed in {target}",
        )


def cross_check(
    parsed: dict[str, Parsed], sc: Scenario | None, src: ScenarioSource | None, out: Collector
) -> None:
    """Checks that involve several tables or the scenario."""
    ids = {
        name: [str(v) for v in parsed[name].frame[parsed[name].table.key[0]]]
        for name in ("counties", "talent_types", "industries", "programs", "sources")
        if name in parsed
    }
    for t in parsed.values():
        for column, ref in t.table.references.items():
            if ref in ids:
                _check_reference(
                    t,
                    column,
                    ids[ref],
                    column.replace("_", " "),
                    parsed[ref].file,
                    out,
                    allow_blank=not t.table.column(column).required,
                )
    for name in ("counties", "talent_types"):
        if name in parsed and parsed[name].frame.empty:
            out.add(f"table '{name}' has no rows; at least one is needed", file=parsed[name].file)
    years = sc.years if sc is not None else None
    _check_types(parsed, out)
    _check_programs(parsed, out)
    _check_responses(parsed, out)
    _check_grids(parsed, years, out)
    _check_sources(parsed, out)
    if years is not None:
        _check_years(parsed, years, out)
    _check_pins(parsed, years, out)
    if sc is not None:
        _check_floors(parsed, sc, src, out)


def _check_types(parsed: dict[str, Parsed], out: Collector) -> None:
    tt = parsed.get("talent_types")
    if tt is None:
        return
    flagged = np.flatnonzero(tt.frame["graduate"].to_numpy(dtype=bool))
    if len(flagged) > 1:
        first = int(tt.rows[flagged[0]])
        for i in flagged[1:]:
            out.at(
                tt,
                i,
                "graduate",
                f"more than one talent type is flagged graduate (also row {first}); "
                "vocational graduates join exactly one type",
            )
    counties = parsed.get("counties")
    if counties is not None and len(flagged) == 0:
        has = np.flatnonzero(counties.frame["graduates"].to_numpy() > 0)
        if len(has):
            out.at(
                counties,
                int(has[0]),
                "graduates",
                "counties have vocational graduates but no talent type is flagged "
                f"graduate in {tt.file}; flag the type they join",
            )


def _check_programs(parsed: dict[str, Parsed], out: Collector) -> None:
    pr = parsed.get("programs")
    if pr is None:
        return
    f = pr.frame
    names = list(f["program"])
    for i, (p, kind, cap, total, req) in enumerate(
        f[["program", "kind", "cap_per_county", "cap_total", "requires"]].itertuples(index=False)
    ):
        if cap:
            if cap == "townships":
                if kind != "count":
                    out.at(
                        pr,
                        i,
                        "cap_per_county",
                        "'townships' caps count programs only (stations per township)",
                    )
            elif math.isnan(_number(cap)) or _number(cap) < 0:
                out.at(
                    pr, i, "cap_per_county", f"expected a number >= 0 or 'townships', got {cap!r}"
                )
            elif kind not in ("count", "amount"):
                out.at(
                    pr,
                    i,
                    "cap_per_county",
                    f"cap_per_county applies to count and amount programs, not {kind} "
                    "(a site is open or not; use cap_total to limit sites)",
                )
            elif kind == "count" and not float(_number(cap)).is_integer():
                out.at(
                    pr,
                    i,
                    "cap_per_county",
                    f"a count program's cap must be a whole number of units, got {cap!r}",
                )
        if not math.isnan(total) and kind in ("amount", "city"):
            out.at(
                pr,
                i,
                "cap_total",
                f"cap_total limits sites, units or alliances; it does not apply to {kind} "
                "programs (leave it blank)",
            )
        if req:
            if req == p:
                out.at(pr, i, "requires", "a program cannot require itself")
            elif req not in names:
                out.at(
                    pr,
                    i,
                    "requires",
                    f"unknown program '{req}'{_suggest(req, names)}; expected a program id "
                    f"listed in {pr.file}",
                )


def _check_responses(parsed: dict[str, Parsed], out: Collector) -> None:
    rs, pr, tt = parsed.get("responses"), parsed.get("programs"), parsed.get("talent_types")
    if rs is None or pr is None:
        return
    kind_of = dict(zip(pr.frame["program"], pr.frame["kind"], strict=True))
    has_graduate = tt is not None and bool(tt.frame["graduate"].any())
    for i, (p, k, effect, value, scale) in enumerate(
        rs.frame[["program", "talent_type", "effect", "value", "scale"]].itertuples(index=False)
    ):
        if not rs.ok("effect")[i]:
            continue
        kind = kind_of.get(p)
        if kind is not None and kind not in EFFECT_KINDS[effect]:
            out.at(
                rs,
                i,
                "effect",
                f"effect '{effect}' does not apply to program '{p}' of kind {kind}; "
                f"'{effect}' applies to kinds: {', '.join(EFFECT_KINDS[effect])}",
            )
        if effect == "graduate_retention":
            if k:
                out.at(
                    rs,
                    i,
                    "talent_type",
                    "graduate_retention acts on the county's graduates: leave talent_type blank",
                )
            if not has_graduate:
                out.at(rs, i, "effect", "graduate_retention needs a talent type flagged graduate")
        elif not k and rs.ok("talent_type")[i]:
            out.at(rs, i, "talent_type", f"effect '{effect}' needs a talent type")
        if effect in ("retention", "graduate_retention") and value > 1:
            out.at(
                rs,
                i,
                "value",
                f"{effect} is a share of attrition or graduates: "
                f"expected a value in 0..1, got {value:g}",
            )
        if effect == "inflow_log":
            if math.isnan(scale) or scale <= 0:
                out.at(
                    rs,
                    i,
                    "scale",
                    "inflow_log needs a positive scale (10k yuan): value * log(1 + spend / scale)",
                )
        elif effect != "fte" and not math.isnan(scale):
            out.at(
                rs,
                i,
                "scale",
                f"scale is used by inflow_log and fte only; leave it blank for {effect}",
            )


def _check_grids(parsed: dict[str, Parsed], years: list[int] | None, out: Collector) -> None:
    counties, types = parsed.get("counties"), parsed.get("talent_types")
    if counties is None or types is None:
        return
    c_ids = list(counties.frame["county"])
    k_ids = list(types.frame["talent_type"])
    st = parsed.get("stocks")
    if st is not None:
        _missing_grid(
            st, ["county", "talent_type"], [c_ids, k_ids], out, "no initial stock and attrition for"
        )
    de = parsed.get("demand")
    if de is not None and years is not None:
        _missing_grid(
            de, ["county", "talent_type", "year"], [c_ids, k_ids, years], out, "no demand for"
        )


def _missing_grid(
    t: Parsed, keys: list[str], levels: list[list[Any]], out: Collector, what: str
) -> None:
    full = pd.MultiIndex.from_product(levels, names=keys)
    have = pd.MultiIndex.from_frame(t.frame[keys])
    missing = full.difference(have)
    for key in missing[:200]:
        desc = ", ".join(f"{k}={v!r}" for k, v in zip(keys, key, strict=True))
        out.add(
            f"{what} ({desc}); every combination needs a row",
            file=t.file,
            column=keys[-1],
            value=key[-1],
        )
    if len(missing) > 200:
        out.add(f"... and {len(missing) - 200} more missing combinations", file=t.file)


def _check_sources(parsed: dict[str, Parsed], out: Collector) -> None:
    so = parsed.get("sources")
    if so is None:
        return
    lists = {"programs": parsed.get("programs"), "counties": parsed.get("counties")}
    key = {"programs": "program", "counties": "county"}
    for column, ref in lists.items():
        if ref is None:
            continue
        known = list(ref.frame[key[column]])
        for i, text in enumerate(so.frame[column]):
            if text in ("*", ""):
                continue
            for item in (s.strip() for s in text.split(";")):
                if item and item not in known:
                    out.at(
                        so,
                        i,
                        column,
                        f"unknown {key[column]} '{item}'{_suggest(item, known)} in the "
                        f"list; expected '*' or ids from {ref.file} separated by ';'",
                    )


def _check_years(parsed: dict[str, Parsed], years: list[int], out: Collector) -> None:
    span = f"{years[0]}-{years[-1]}"
    for name in ("demand", "budgets", "pins"):
        t = parsed.get(name)
        if t is None:
            continue
        y = t.frame["year"].to_numpy()
        for i in np.flatnonzero(t.ok("year") & ~np.isin(y, years)):
            out.at(
                t,
                i,
                "year",
                f"year {y[i]} is outside the plan years {span} (scenario start_year and n_years)",
            )
    bu = parsed.get("budgets")
    if bu is not None:
        have = set(bu.frame["year"])
        for year in years:
            if year not in have:
                out.add(
                    f"no budget row for plan year {year}: every plan year needs at least "
                    "one row (use amount 0 for a year without money)",
                    file=bu.file,
                    column="year",
                    value=year,
                )


# --- pins and policy floors ---------------------------------------------------------------

_MONOTONE = ("site", "chain", "city", "count")
"""Kinds whose level never falls: sites stay open, units are never removed."""


@dataclass(frozen=True)
class _Bounds:
    kind: dict[str, str]
    cap: dict[str, str]
    total: dict[str, float]
    townships: dict[str, int]
    present: dict[str, set[str]]

    def level_cap(self, program: str, county: str, industry: str) -> tuple[float, str] | None:
        """Largest level of ``program`` in ``county`` and why, or ``None`` if unbounded."""
        kind = self.kind[program]
        if kind in ("site", "city") or (kind == "chain" and industry):
            return 1.0, f"a {kind} program is open (1) or not (0)"
        if kind == "chain":
            n = len(self.present.get(county, ()))
            return float(n), f"county '{county}' has {n} present industries (one alliance each)"
        cap = self.cap[program]
        if cap == "townships" and county in self.townships:
            n = self.townships[county]
            return float(n), f"cap_per_county is 'townships' and county '{county}' has {n}"
        number = _number(cap) if cap else math.nan
        if not math.isnan(number):
            return number, f"cap_per_county of '{program}' is {number:g}"
        return None


def _bounds(parsed: dict[str, Parsed]) -> _Bounds | None:
    pr, co, pe = parsed.get("programs"), parsed.get("counties"), parsed.get("presence")
    if pr is None or co is None:
        return None
    present: dict[str, set[str]] = {c: set() for c in co.frame["county"]}
    if pe is not None:
        for c, i in pe.frame[["county", "industry"]].itertuples(index=False):
            present.setdefault(c, set()).add(i)
    f = pr.frame
    return _Bounds(
        kind=dict(zip(f["program"], f["kind"], strict=True)),
        cap=dict(zip(f["program"], f["cap_per_county"], strict=True)),
        total={
            p: v for p, v in zip(f["program"], f["cap_total"], strict=True) if not math.isnan(v)
        },
        townships=dict(zip(co.frame["county"], co.frame["townships"].astype(int), strict=True)),
        present=present,
    )


def _check_pins(parsed: dict[str, Parsed], years: list[int] | None, out: Collector) -> None:
    pi, b = parsed.get("pins"), _bounds(parsed)
    if pi is None or b is None or pi.frame.empty:
        return
    industries = set(parsed["industries"].frame["industry"]) if "industries" in parsed else set()
    usable = np.ones(len(pi.frame), dtype=bool)
    for i, (county, p, industry, _year, action, value) in enumerate(
        pi.frame[["county", "program", "industry", "year", "action", "value"]].itertuples(
            index=False
        )
    ):
        kind = b.kind.get(p)
        if kind is None or not pi.ok("action")[i]:
            usable[i] = False
            continue
        if kind == "city":
            if county:
                out.at(
                    pi,
                    i,
                    "county",
                    f"'{p}' is a city program (one decision for the "
                    "whole plan area): leave county blank",
                )
        elif not county:
            out.at(pi, i, "county", f"'{p}' is a {kind} program: name the county")
            usable[i] = False
        elif county not in b.townships:
            out.at(
                pi, i, "county", f"unknown county '{county}'{_suggest(county, list(b.townships))}"
            )
            usable[i] = False
        if kind == "chain" and industry:
            if industry not in industries:
                out.at(
                    pi,
                    i,
                    "industry",
                    f"unknown industry '{industry}'{_suggest(industry, sorted(industries))}",
                )
                usable[i] = False
            elif county in b.present and industry not in b.present[county]:
                out.at(
                    pi,
                    i,
                    "industry",
                    f"industry '{industry}' is not present in county '{county}' (no row "
                    "in presence): a chain program exists only where its industry is",
                )
                usable[i] = False
        elif industry and kind != "chain":
            out.at(pi, i, "industry", f"industry is for chain programs only; '{p}' is {kind}")
        if action == "forbid":
            if not math.isnan(value) and value != 0:
                out.at(pi, i, "value", "forbid takes no value (leave it blank)")
            continue
        if math.isnan(value):
            if pi.ok("value")[i]:
                out.at(
                    pi,
                    i,
                    "value",
                    f"action '{action}' needs a value (1 = open for site, chain and city programs)",
                )
            usable[i] = False
            continue
        cap = b.level_cap(p, county, industry) if usable[i] else None
        if cap is not None and value > cap[0] + 1e-9:
            out.at(
                pi,
                i,
                "value",
                f"{action} {value:g} exceeds the largest possible level {cap[0]:g}: {cap[1]}",
            )
            usable[i] = False
        elif kind == "count" and not float(value).is_integer():
            out.at(pi, i, "value", f"'{p}' counts whole units; got {value:g}")
        elif p in b.total and value > b.total[p] + 1e-9:
            out.at(pi, i, "value", f"{action} {value:g} exceeds cap_total {b.total[p]:g} of '{p}'")
            usable[i] = False
    _check_pin_conflicts(pi, b, usable, out)


def _check_pin_conflicts(pi: Parsed, b: _Bounds, usable: np.ndarray, out: Collector) -> None:
    """A lower bound (fix/min) above an upper bound (fix/max/forbid) on the same decision."""
    rec: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in pi.frame.to_dict("records")
    ]
    groups: dict[tuple[str, str, str], list[int]] = {}
    for pos in np.flatnonzero(usable).tolist():
        r = rec[pos]
        groups.setdefault((r["county"], r["program"], r["industry"]), []).append(pos)
    for (_county, p, _industry), members in groups.items():
        monotone = b.kind[p] in _MONOTONE
        for i in members:
            ai, yi, vi = rec[i]["action"], int(rec[i]["year"]), float(rec[i]["value"])
            if ai not in ("fix", "min"):
                continue
            for j in members:
                aj, yj, vj = rec[j]["action"], int(rec[j]["year"]), rec[j]["value"]
                if j == i or aj not in ("fix", "max", "forbid"):
                    continue
                upper = 0.0 if aj == "forbid" else float(vj)
                same = yj == yi
                if not (same or (monotone and yi < yj)) or not vi > upper + 1e-9:
                    continue
                if same and ai == "fix" and aj == "fix" and j < i:
                    continue  # report a pair of fixes once
                why = (
                    ""
                    if same
                    else (
                        f" ({b.kind[p]} programs never shrink: what is in place in {yi} is still "
                        f"there in {yj})"
                    )
                )
                out.at(
                    pi,
                    j,
                    "action",
                    f"{aj} {upper:g} in {yj} contradicts {ai} {vi:g} in {yi} "
                    f"(row {int(pi.rows[i])}){why}",
                )


def _check_floors(
    parsed: dict[str, Parsed], sc: Scenario, src: ScenarioSource | None, out: Collector
) -> None:
    b = _bounds(parsed)
    if b is None or not sc.floors:
        return
    file = src.floors_file if src is not None else "scenario"
    years = sc.years
    for n, fl in enumerate(sc.floors):
        row = src.floor_rows[n] if src is not None and src.floor_rows else None

        def err(
            key: str,
            message: str,
            value: object,
            row: int | None = row,
            n: int = n,
            floor: str = fl.name,
        ) -> None:
            column = key if row is not None else f"floors[{n}].{key}"
            out.add(
                f"policy floor '{floor}': {message}", file=file, row=row, column=column, value=value
            )

        if fl.program not in b.kind:
            err(
                "program",
                f"unknown program '{fl.program}'{_suggest(fl.program, list(b.kind))}",
                fl.program,
            )
            continue
        kind = b.kind[fl.program]
        unknown = [c for c in fl.counties if c not in b.townships]
        for c in unknown:
            err("counties", f"unknown county '{c}'{_suggest(c, list(b.townships))}", c)
        if kind == "city" and fl.counties:
            err(
                "counties",
                f"'{fl.program}' is a city program: leave counties empty",
                list(fl.counties),
            )
        if fl.by_year not in years:
            err(
                "by_year",
                f"year {fl.by_year} is outside the plan years {years[0]}-{years[-1]}",
                fl.by_year,
            )
        counties = [c for c in (fl.counties or tuple(b.townships)) if c in b.townships]
        for c in counties if kind != "city" else counties[:1]:
            cap = b.level_cap(fl.program, c, "")
            if cap is not None and fl.min_units > cap[0] + 1e-9:
                err(
                    "min_units",
                    f"{fl.min_units:g} units exceed the largest possible level "
                    f"{cap[0]:g} in '{c}': {cap[1]}",
                    fl.min_units,
                )
        if fl.program in b.total and kind != "city":
            need = fl.min_units * len(counties)
            if need > b.total[fl.program] + 1e-9:
                err(
                    "min_units",
                    f"needs {need:g} units across {len(counties)} counties but "
                    f"cap_total of '{fl.program}' is {b.total[fl.program]:g}",
                    fl.min_units,
                )
        _floor_vs_pins(
            parsed.get("pins"), fl.program, counties, kind, fl.by_year, fl.min_units, fl.name, out
        )


def _floor_vs_pins(
    pi: Parsed | None,
    program: str,
    counties: list[str],
    kind: str,
    by_year: int,
    min_units: float,
    name: str,
    out: Collector,
) -> None:
    if pi is None or pi.frame.empty:
        return
    f = pi.frame
    where = set(counties) if kind != "city" else {""}
    mask = (
        (f["program"] == program)
        & f["county"].isin(where)
        & (f["industry"] == "")
        & f["action"].isin(["fix", "max", "forbid"])
        & (f["year"] >= by_year)
    ).to_numpy()
    actions, values = f["action"].tolist(), f["value"].tolist()
    for i in np.flatnonzero(mask):
        action = str(actions[int(i)])
        upper = 0.0 if action == "forbid" else float(values[int(i)])
        if upper < min_units - 1e-9:
            out.at(
                pi,
                i,
                "action",
                f"{action} {upper:g} contradicts policy floor '{name}' "
                f"({program} at least {min_units:g} from {by_year})",
            )
