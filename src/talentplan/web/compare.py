"""Two or three saved scenarios side by side: the account, spend and talent by county.

Beside the tables (:func:`compare_tables`), what changed and why: each later plan's
difference from the first, absolute and in percent (:func:`with_differences`); what was
set on the page for each scenario, in plain words (:func:`change_lines`); and the
largest moves against the first plan in a few sentences (:func:`largest_moves`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from talentplan.report.result import AllocationResult
from talentplan.web.forms import (
    EVERY_COUNTY,
    FormLayout,
    counties_text,
    floor_text,
    new_floor_fields,
)

__all__ = [
    "CITY_WIDE_LABEL",
    "NOT_FROM_THE_PAGE",
    "change_lines",
    "change_text",
    "column_labels",
    "compare_tables",
    "largest_moves",
    "number_text",
    "with_differences",
]

NOT_FROM_THE_PAGE = "(a sweep scenario)"
"""What was changed, for a scenario without ``web.json`` (solved by a sweep)."""

NO_PERCENT = frozenset({"gap"})
"""Rows of the account whose difference is shown without a percentage."""

CITY_WIDE_LABEL = "(city-wide)"
"""Row label of the spend of plan-wide programs."""


def column_labels(names: Sequence[str]) -> list[str]:
    """Column labels: the scenarios' names, made unique (and unlike a difference column's).

    Examples
    --------
    >>> column_labels(["a", "b", "a"])
    ['a', 'b', 'a (2)']
    >>> column_labels(["a", "a (2)", "a"])
    ['a', 'a (2)', 'a (3)']
    >>> column_labels(["b vs a", "a"])  # " vs " is kept for the difference columns
    ['b v. a', 'a']
    """
    labels: list[str] = []
    for name in names:
        name = name.replace(" vs ", " v. ")
        label, n = name, 1
        while label in labels:
            n += 1
            label = f"{name} ({n})"
        labels.append(label)
    return labels


def compare_tables(results: Sequence[tuple[str, AllocationResult]]) -> dict[str, pd.DataFrame]:
    """Return the tables that compare plans, one column per plan.

    Parameters
    ----------
    results
        (name, plan) pairs, in the order of the columns.

    Returns
    -------
    dict
        ``account``: objective (with its name), status, gap, spend and final-year useful
        talent; ``spend_by_county``, ``spend_by_program`` (10k yuan over the plan's years)
        and ``talent_by_county`` (final-year useful talent, persons).
    """
    labels = column_labels([name for name, _ in results])
    account, county_spend, program_spend, talent = {}, {}, {}, {}
    for label, (_, result) in zip(labels, results, strict=True):
        s = result.summary
        alloc = result.allocation
        county = alloc["county"].fillna("").astype(str).replace("", CITY_WIDE_LABEL)
        by_county = result.by_county
        account[label] = {
            "objective": result.objective,
            "objective name": s.get("objective_name", ""),
            "status": result.status.value,
            "gap": result.gap,
            "spend (10k yuan)": float(alloc["cost"].sum()),
            "useful talent, final year": float(by_county["useful"].sum()),
        }
        county_spend[label] = alloc["cost"].groupby(county).sum()
        program_spend[label] = alloc.groupby("program")["cost"].sum()
        talent[label] = by_county.loc[by_county.index != "", "useful"].astype(float)
    return {
        "account": pd.DataFrame(account),
        "spend_by_county": pd.DataFrame(county_spend).fillna(0.0).sort_index(),
        "spend_by_program": pd.DataFrame(program_spend).fillna(0.0).sort_index(),
        "talent_by_county": pd.DataFrame(talent).fillna(0.0).sort_index(),
    }


def number_text(value: float) -> str:
    """Format a table's number: whole units from 100 up, four digits below.

    Examples
    --------
    >>> number_text(14759.51), number_text(0.01234)
    ('14,760', '0.01234')
    """
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.4g}"


def _close(before: float, after: float) -> bool:
    return math.isclose(before, after, rel_tol=1e-9, abs_tol=1e-9)


def _signed(value: float) -> str:
    return f"{value:+,.0f}" if abs(value) >= 100 else f"{value:+.4g}"


def change_text(before: Any, after: Any, *, percent: bool = True) -> str:
    """Say how ``after`` differs from ``before``: signed, and in percent where meaningful.

    Text (a status, an objective's name) and equal numbers give ``""``; no percentage
    of a zero.

    Examples
    --------
    >>> change_text(12405.0, 0.0), change_text(0.0, 250.0), change_text(0.5, 0.52)
    ('-12,405 (-100%)', '+250', '+0.02 (+4%)')
    >>> change_text(3.0, 3.0), change_text("optimal", "time_limit")
    ('', '')
    """
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (before, after)):
        return ""
    a, b = float(before), float(after)
    if not (math.isfinite(a) and math.isfinite(b)) or _close(a, b):
        return ""
    text = _signed(b - a)
    if percent and abs(a) > 1e-9:
        text += f" ({(b - a) / abs(a):+.0%})"
    return text


def with_differences(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Return the tables with, after the plans, a column per later plan: its change.

    The column ``LATER vs FIRST`` holds :func:`change_text` of each row (the account's
    ``gap`` without a percentage).
    """
    shown = {}
    for name, frame in tables.items():
        frame = frame.copy()
        first = frame.columns[0]
        for later in list(frame.columns[1:]):
            frame[f"{later} vs {first}"] = [
                change_text(
                    frame.at[row, first], frame.at[row, later], percent=row not in NO_PERCENT
                )
                for row in frame.index
            ]
        shown[name] = frame
    return shown


def change_lines(web: Mapping[str, Any], layout: FormLayout | None = None) -> list[str]:
    """Say in plain words what was set on the page for a scenario (its ``web.json``).

    Parameters
    ----------
    web
        The scenario's ``web.json`` (empty for a scenario a sweep solved).
    layout
        The form of the page's instance: the values the edits started from.

    Examples
    --------
    >>> change_lines({"changes": {"budget:2027:provincial_transfer": "0.8",
    ...     "program:Liannan:cash_subsidy": "off", "budget_scale": "0.6"}})
    ['budget provincial_transfer 2027 × 0.8', 'Liannan: cash_subsidy off', 'every budget × 0.6']
    >>> change_lines({"changes": {"newfloor:0:program": "talent_housing",
    ...     "newfloor:0:by_year": "2027", "newfloor:0:min_units": "1",
    ...     "newfloor:0:county": "", "floor:0:remove": "on"}})
    ['floor: talent_housing ≥ 1 in every county by 2027', 'floor 1 removed']
    >>> change_lines({})
    ['(a sweep scenario)']
    """
    if not web:
        return [NOT_FROM_THE_PAGE]
    changes: Mapping[str, Any] = web.get("changes") or {}
    added = new_floor_fields(changes)
    lines = []
    for field, value in changes.items():
        kind, _, rest = str(field).partition(":")
        if kind == "newfloor":
            row = str(field).rsplit(":", 1)[0]
            if row in added:
                lines.append(_new_floor_line(added.pop(row)))
        elif kind == "floor":
            lines.append(_floor_line(rest, value, layout))
        elif kind == "budget":
            year, _, source = rest.partition(":")
            amount = str(value)[1:].strip() if str(value).startswith("=") else ""
            lines.append(
                f"budget {source} {year} = {amount} (10k yuan)"
                if amount
                else f"budget {source} {year} × {value}"
            )
        elif kind in ("land", "cadre"):
            what = "land quota (mu)" if kind == "land" else "cadre hours"
            base = None
            if layout is not None:
                base = (layout.land if kind == "land" else layout.cadre).get(rest)
            was = "" if base is None else f"{base:g} → "
            lines.append(f"{what} {rest} {was}{value}")
        elif kind == "program":
            county, _, program = rest.partition(":")
            lines.append(f"{county}: {program} {value}")
        elif field == "min_coverage":
            was = "" if layout is None else f"{layout.min_coverage:g} → "
            lines.append(f"equity floor (min_coverage) {was}{value}")
        elif field == "budget_scale":
            lines.append(f"every budget × {value}")
        elif field == "objective":
            lines.append(f"objective {value}")
        else:
            lines.append(f"{field} {value}")
    return lines or ["nothing: the instance as given"]


def _new_floor_line(fields: Mapping[str, str]) -> str:
    county = fields.get("county", EVERY_COUNTY)
    text = floor_text(
        fields.get("program", ""),
        fields.get("min_units", ""),
        [county] if county != EVERY_COUNTY else [],
        fields.get("by_year", ""),
    )
    name = fields.get("name", "")
    return f"floor '{name}': {text}" if name else f"floor: {text}"


def _floor_line(rest: str, value: Any, layout: FormLayout | None) -> str:
    """Say a change of one of the instance's floors (``rest``: ``I:min_units`` ...)."""
    index, _, key = rest.partition(":")
    floor = None
    if layout is not None and index.isdigit() and int(index) < len(layout.floors):
        floor = layout.floors[int(index)]
    number = int(index) + 1 if index.isdigit() else index
    name = f"floor '{floor.name}'" if floor is not None else f"floor {number}"
    if key == "remove":
        return f"{name} removed"
    was = ""
    if floor is not None and key == "min_units":
        was = f"{floor.min_units:g} → "
    elif floor is not None and key == "by_year":
        was = f"{floor.by_year} → "
    elif floor is not None and key == "program":
        was = f"{floor.program} → "
    if key == "counties":
        before = counties_text(floor.counties) if floor is not None else ""
        was = f"{before or 'every county'} → " if floor is not None else ""
        value = str(value).strip() or "every county"
    return f"{name} {key.replace('_', ' ')} {was}{value}"


def _move(what: str, before: float, after: float) -> str:
    verb = "rises" if after > before else "falls"
    text = change_text(before, after)
    size, _, percent = text[1:].partition(" ")
    return f"{what} {verb} by {size}{' ' + percent if percent else ''}"


def _largest(frame: pd.DataFrame, first: str, later: str) -> tuple[str, float, float] | None:
    """Return the row that moves most from ``first`` to ``later`` (None: nothing moves)."""
    diff = (frame[later].astype(float) - frame[first].astype(float)).abs()
    if diff.empty or not diff.max() > 1e-9:
        return None
    row = str(diff.idxmax())
    return row, float(frame.at[row, first]), float(frame.at[row, later])


def largest_moves(tables: Mapping[str, pd.DataFrame]) -> dict[str, list[str]]:
    """Say, for each later plan, its largest moves against the first (2-4 sentences).

    The objective's change; the program, the county's spend and the county's useful
    talent that move most. ``tables`` are :func:`compare_tables`' (without differences).
    """
    account = tables["account"]
    first = str(account.columns[0])
    moves = {}
    for later in map(str, account.columns[1:]):
        said = []
        name = account.at["objective name", later] or "objective"
        a, b = account.at["objective", first], account.at["objective", later]
        if change_text(a, b):
            said.append(_move(f"The objective ({name})", a, b) + f" against {first}.")
        else:
            said.append(f"The objective ({name}) is the same as {first}'s.")
        for table, what in (
            ("spend_by_program", "{} spend"),
            ("spend_by_county", "{}'s spend"),
            ("talent_by_county", "{}'s useful talent in the final year"),
        ):
            found = _largest(tables[table], first, later)
            if found is not None and change_text(found[1], found[2]):
                row, x, y = found
                said.append(_move(what.format(row), x, y) + ".")
        if len(said) == 1:
            said.append("Spend and talent are the same, program by program and county by county.")
        moves[later] = said
    return moves
