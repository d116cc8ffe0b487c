"""The fields of the what-if form, and the scenario they make.

The form holds, for an instance: a budget factor for every source and year and one for
all budgets; each county's land quota (mu) and cadre hours; a switch for every program
in every county; the equity floor (``min_coverage``); the policy floors (each one's
program, counties, minimum units and year can be changed, or the floor removed, and up
to :data:`NEW_FLOORS` added); the objective, the time limit and the gap of the solve; and
the scenario's name. :func:`scenario_from_form` turns the
fields into the scenario's instance through the project's own checks, so a value the
page refuses is refused with the message the command line gives for it:

- counties' limits, the floor and each budget (its amount times its factor) become
  dotted parameter values for :func:`talentplan.data.edit.set_parameters`, which
  validates the instance as if read from files
  (:class:`~talentplan.errors.InstanceValidationError`);
- a program switched off in a county becomes a ``forbid`` pin of it in every plan year
  (validated with the rest, so a switch that breaks a policy floor is named);
- the policy floors, kept, changed and added, become the instance's list of floors,
  read as ``scenario.toml``'s ``[[floors]]`` are read and checked against the programs,
  counties, plan years and caps (:mod:`talentplan.data.pins`);
- the factor of all budgets goes through :meth:`Instance.scale_budget`, the mechanism of
  ``talentplan solve --budget-scale``;
- the solve's options through :class:`~talentplan.solver.api.SolveOptions`
  (:class:`~talentplan.errors.OptionError`).

A refused value is put beside its field: each changed field is checked alone, and what
fails alone is named (a policy floor beside its row); a problem only the fields together
make goes above the form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

import pandas as pd

from talentplan._options import check_number
from talentplan.data.edit import set_parameters
from talentplan.data.instance import Instance, PolicyFloor
from talentplan.data.schema import Objective
from talentplan.errors import InstanceError, InstanceValidationError, OptionError
from talentplan.solver.api import SolveOptions

__all__ = [
    "DEFAULT_MIP_GAP",
    "DEFAULT_TIME_LIMIT",
    "FORM_ERROR",
    "NEW_FLOORS",
    "OBJECTIVES",
    "FormErrors",
    "FormLayout",
    "WhatIf",
    "counties_text",
    "county_list",
    "floor_text",
    "form_layout",
    "new_floor_fields",
    "scenario_from_form",
]

OBJECTIVES: tuple[str, ...] = get_args(Objective)
"""The objectives the form offers (those of ``talentplan solve --objective``)."""

DEFAULT_TIME_LIMIT = 20.0
"""Seconds of a solve from the page unless the form says otherwise."""

DEFAULT_MIP_GAP = 1e-2
"""Gap of a solve from the page unless the form says otherwise: what-if questions need
the direction and the size of a change, quickly."""

FORM_ERROR = "_form"
"""Field name of the messages that belong to the whole form."""

NEW_FLOORS = 2
"""Rows of the form that add a policy floor."""

EVERY_COUNTY = ""
"""Value of a new floor's county field that means every county."""

COUNTY_SEPARATOR = ";"
"""Between the counties of a floor's counties field, as in a workbook's ``floors`` sheet
(where a ``[[floors]]`` table's list is one cell); blank: every county."""


def county_list(text: str) -> list[str]:
    """Read a floor's counties field: the ids between :data:`COUNTY_SEPARATOR`.

    Examples
    --------
    >>> county_list(" Fogang; Yingde ;")
    ['Fogang', 'Yingde']
    >>> county_list("")
    []
    """
    return [c.strip() for c in text.split(COUNTY_SEPARATOR) if c.strip()]


def counties_text(counties: Sequence[str]) -> str:
    """Write a floor's counties as its field shows them (empty: every county).

    Examples
    --------
    >>> counties_text(("Fogang", "Yingde"))
    'Fogang; Yingde'
    """
    return f"{COUNTY_SEPARATOR} ".join(counties)


class FormErrors(ValueError):
    """Fields refused, with the message of each (``FORM_ERROR``: the whole form)."""

    def __init__(self, messages: Mapping[str, str]) -> None:
        self.messages = dict(messages)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.messages.items()))


@dataclass(frozen=True)
class FormLayout:
    """What the form shows for an instance: its years, sources, counties and programs."""

    years: tuple[int, ...]
    sources: tuple[str, ...]
    counties: tuple[str, ...]
    county_names: dict[str, str]
    programs: tuple[str, ...]
    """Programs that can be switched off by county (all but plan-wide ones)."""
    amounts: dict[tuple[int, str], float]
    land: dict[str, float]
    cadre: dict[str, float]
    min_coverage: float
    objective: str
    floors: tuple[PolicyFloor, ...] = ()
    """The instance's policy floors, in the order of ``scenario.toml``."""
    floor_programs: tuple[str, ...] = ()
    """Programs a new floor may name (every program)."""
    plan_years: tuple[int, ...] = ()
    """The plan's years (those a floor's ``by_year`` may take)."""


def form_layout(instance: Instance) -> FormLayout:
    """Return the fields of the form for ``instance`` with its current values."""
    counties = instance.tables["counties"]
    programs = instance.tables["programs"]
    budgets = instance.tables["budgets"]
    amounts = {
        (int(y), str(s)): float(a)
        for y, s, a in budgets[["year", "source"]].assign(a=budgets["amount"]).to_numpy()
    }
    return FormLayout(
        years=tuple(sorted({y for y, _ in amounts})),
        sources=tuple(sorted({s for _, s in amounts})),
        counties=tuple(str(c) for c in counties["county"]),
        county_names=dict(zip(counties["county"].astype(str), counties["name"], strict=True)),
        programs=tuple(str(p) for p, k in programs[["program", "kind"]].to_numpy() if k != "city"),
        amounts=amounts,
        land=dict(zip(counties["county"].astype(str), counties["land_quota_mu"], strict=True)),
        cadre=dict(zip(counties["county"].astype(str), counties["cadre_hours"], strict=True)),
        min_coverage=float(instance.scenario.min_coverage),
        objective=str(instance.scenario.objective),
        floors=tuple(instance.scenario.floors),
        floor_programs=tuple(str(p) for p in programs["program"]),
        plan_years=tuple(instance.scenario.years),
    )


def floor_text(
    program: str, min_units: float | str, counties: Sequence[str], by_year: object
) -> str:
    """Say a policy floor in a few words.

    Examples
    --------
    >>> floor_text("talent_housing", 1.0, [], 2027)
    'talent_housing ≥ 1 in every county by 2027'
    >>> floor_text("one_stop_centre", "2", ["Fogang"], "2026")
    'one_stop_centre ≥ 2 in Fogang by 2026'
    """
    units = _number_text(min_units) if isinstance(min_units, int | float) else min_units
    where = ", ".join(counties) if counties else "every county"
    return f"{program} ≥ {units} in {where} by {by_year}"


def new_floor_fields(changes: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Group the fields of the new floors among ``changes``: row -> key -> value.

    Examples
    --------
    >>> new_floor_fields({"newfloor:0:program": "talent_housing", "newfloor:0:county": "",
    ...     "min_coverage": "0.2"})
    {'newfloor:0': {'program': 'talent_housing', 'county': ''}}
    """
    rows: dict[str, dict[str, str]] = {}
    for name, value in changes.items():
        kind, _, rest = str(name).partition(":")
        index, _, key = rest.partition(":")
        if kind == "newfloor" and key:
            rows.setdefault(f"newfloor:{index}", {})[key] = str(value)
    return rows


@dataclass(frozen=True)
class WhatIf:
    """A scenario read from the form: its instance, solve options and what was changed.

    Attributes
    ----------
    name
        The name given (default: the changes in a few words).
    instance
        The instance with every change applied, validated.
    options
        The solve's options (objective, time limit, gap; one HiGHS thread).
    objective
        The objective solved (the scenario's own when the form keeps it).
    changes
        Field -> value of every field that differs from the instance.
    """

    name: str
    instance: Instance = field(repr=False)
    options: SolveOptions
    objective: str
    changes: dict[str, str]


def _number_text(value: float) -> str:
    return f"{value:g}"


MAX_FACTOR = 1000.0
"""Largest budget factor the page takes: beyond it the amounts leave what a budget
could be (and a factor of 1e308 makes them infinite)."""

MAX_TIME_LIMIT = 3600.0
"""Longest solve the page starts (seconds): a solve holds one of the page's slots, and
a longer study is a job for ``talentplan solve`` or ``talentplan sweep``."""


def _number(text: str, name: str, **bounds: Any) -> float:
    """Read a number as the option ``name`` reads it (``check_number``'s message if not)."""
    try:
        value: Any = float(text)
    except ValueError:
        value = text
    return float(check_number(name, value, **bounds))


def _factor(text: str, name: str) -> float:
    """Read a budget factor: a number in [0, :data:`MAX_FACTOR`]."""
    return _number(text, name, low=0, high=MAX_FACTOR)


def _option_message(exc: OptionError) -> str:
    if exc.option is None or exc.expected is None:
        return str(exc)
    return f"{exc.option} {exc.value}: expected {exc.expected}"


def _edits(
    layout: FormLayout, form: Mapping[str, str], errors: dict[str, str]
) -> tuple[dict[str, tuple[str, Any]], dict[str, tuple[str, str]], dict[str, str]]:
    """Return field -> (dotted path, value), field -> (county, program) switched off, changes."""
    values: dict[str, tuple[str, Any]] = {}
    off: dict[str, tuple[str, str]] = {}
    changes: dict[str, str] = {}
    for (year, source), amount in layout.amounts.items():
        name = f"budget:{year}:{source}"
        text = str(form.get(name, "1")).strip()
        path = f"budgets.{year}:{source}.amount"
        if text.startswith("="):  # an amount (10k yuan), checked as budgets.csv checks it
            if text[1:].strip() != _number_text(amount):
                values[name] = (path, text[1:].strip())
                changes[name] = text
            continue
        try:
            factor = _factor(text, "factor")
        except OptionError as exc:
            errors[name] = _option_message(exc)
            continue
        if factor != 1.0:
            values[name] = (path, amount * factor)
            changes[name] = text
    for county in layout.counties:
        for kind, column, base in (
            ("land", "land_quota_mu", layout.land[county]),
            ("cadre", "cadre_hours", layout.cadre[county]),
        ):
            name = f"{kind}:{county}"
            text = str(form.get(name, _number_text(base))).strip()
            if text != _number_text(base):
                values[name] = (f"counties.{county}.{column}", text)
                changes[name] = text
        for program in layout.programs:
            name = f"program:{county}:{program}"
            if name not in form:
                off[name] = (county, program)
                changes[name] = "off"
    text = str(form.get("min_coverage", _number_text(layout.min_coverage))).strip()
    values["min_coverage"] = ("scenario.min_coverage", text)
    if text != _number_text(layout.min_coverage):
        changes["min_coverage"] = text
    return values, off, changes


@dataclass(frozen=True)
class _Floors:
    """The policy floors the form asks for: each as ``[[floors]]`` holds it, with its row."""

    tables: list[dict[str, Any]]
    rows: list[str]
    """Form row of each floor (``floor:I`` for the instance's, ``newfloor:J`` for a new one)."""


def _floor_edits(layout: FormLayout, form: Mapping[str, str], changes: dict[str, str]) -> _Floors:
    """Return the floors the form asks for, and add their changes to ``changes``.

    Values stay text: they are read as a workbook's ``floors`` sheet is read. Every way
    the floors can differ from the instance's (a floor removed, its units or year
    changed, a floor added) is recorded in ``changes`` under a ``floor:`` or
    ``newfloor:`` field, so those fields tell whether the floors changed.
    """
    tables: list[dict[str, Any]] = []
    rows: list[str] = []
    for i, floor in enumerate(layout.floors):
        row = f"floor:{i}"
        if f"{row}:remove" in form:
            changes[f"{row}:remove"] = "on"
            continue
        units = str(form.get(f"{row}:min_units", _number_text(floor.min_units))).strip()
        year = str(form.get(f"{row}:by_year", floor.by_year)).strip()
        program = str(form.get(f"{row}:program", floor.program)).strip()
        where = str(form.get(f"{row}:counties", counties_text(floor.counties))).strip()
        if units != _number_text(floor.min_units):
            changes[f"{row}:min_units"] = units
        if year != str(floor.by_year):
            changes[f"{row}:by_year"] = year
        if program != floor.program:
            changes[f"{row}:program"] = program
        if county_list(where) != list(floor.counties):
            changes[f"{row}:counties"] = where
        tables.append(
            {
                "name": floor.name,
                "program": program,
                "by_year": year,
                "min_units": units,
                # text, as a workbook's floors sheet holds it: the file's rules read it
                "counties": where,
            }
        )
        rows.append(row)
    for j in range(NEW_FLOORS):
        row = f"newfloor:{j}"
        program = str(form.get(f"{row}:program", "")).strip()
        if not program:
            continue
        fields = {
            key: str(form.get(f"{row}:{key}", default)).strip()
            for key, default in (("by_year", ""), ("min_units", ""), ("county", EVERY_COUNTY))
        }
        counties = [fields["county"]] if fields["county"] != EVERY_COUNTY else []
        name = str(form.get(f"{row}:name", "")).strip()
        changes[f"{row}:program"] = program
        changes |= {f"{row}:{key}": value for key, value in fields.items()}
        if name:
            changes[f"{row}:name"] = name
        tables.append(
            {
                "name": name
                or floor_text(program, fields["min_units"], counties, fields["by_year"]),
                "program": program,
                "by_year": fields["by_year"],
                "min_units": fields["min_units"],
                "counties": counties,
            }
        )
        rows.append(row)
    return _Floors(tables, rows)


_FLOOR_COLUMN = re.compile(r"floors\[(\d+)\]")


def _floor_rows(floors: _Floors, exc: InstanceError) -> dict[str, str]:
    """Put each problem of a floor beside its row (as the files' message of its own)."""
    problems = exc.errors if isinstance(exc, InstanceValidationError) else [exc]
    by_row: dict[str, list[InstanceError]] = {}
    for problem in problems:
        found = _FLOOR_COLUMN.match(problem.column or "")
        if found is not None and int(found.group(1)) < len(floors.rows):
            by_row.setdefault(floors.rows[int(found.group(1))], []).append(problem)
    return {row: str(InstanceValidationError(found)) for row, found in by_row.items()}


def _forbid(instance: Instance, pairs: list[tuple[str, str]]) -> Instance:
    """Return ``instance`` with a forbid pin for each (county, program) in every year."""
    if not pairs:
        return instance
    pins = instance.tables["pins"]
    rows = [
        {"county": c, "program": p, "industry": "", "year": y, "action": "forbid", "value": None}
        for c, p in pairs
        for y in instance.scenario.years
    ]
    added = pd.DataFrame(rows, columns=pins.columns)
    key = ["county", "program", "industry", "year", "action"]
    have = set(map(tuple, pins[key].astype(str).to_numpy()))
    added = added[[tuple(map(str, r)) not in have for r in added[key].to_numpy()]]
    return instance.replace_tables(pins=pd.concat([pins, added], ignore_index=True))


def _apply(
    base: Instance,
    values: Mapping[str, tuple[str, Any]],
    off: Mapping[str, tuple[str, str]],
    floors: _Floors | None = None,
) -> Instance:
    """Apply the edits and validate the instance.

    ``set_parameters`` validates whenever it is given a value, and the floor is always
    among the values. ``floors`` None: the instance's own.
    """
    pinned = _forbid(base, list(off.values()))
    tables = None if floors is None else floors.tables
    return set_parameters(pinned, dict(values.values()), floors=tables)


def _blame(
    base: Instance,
    values: Mapping[str, tuple[str, Any]],
    off: Mapping[str, tuple[str, str]],
    floors: _Floors | None,
    problem: str,
) -> dict[str, str]:
    """Name the fields (and the floors' rows) that fail alone; else put ``problem`` above."""
    floor = {"min_coverage": values["min_coverage"]}
    blamed: dict[str, str] = {}
    for name, edit in values.items():
        try:
            set_parameters(base, {**dict(floor.values()), edit[0]: edit[1]})
        except InstanceError as exc:
            blamed[name] = str(exc)
    if floors is not None:
        try:
            _apply(base, floor, {}, floors)
        except InstanceError as exc:
            blamed |= _floor_rows(floors, exc) or {FORM_ERROR: f"policy floors: {exc}"}
    if off and not blamed:
        try:
            _apply(base, floor, off, floors)
        except InstanceError as exc:
            blamed[FORM_ERROR] = f"programs switched off: {exc}"
    return blamed or {FORM_ERROR: problem}


def scenario_from_form(base: Instance, form: Mapping[str, str]) -> WhatIf:
    """Read the form's fields into a validated scenario of ``base``.

    Parameters
    ----------
    base
        The instance the page serves.
    form
        Field -> text, as the browser sends it (a switched-off program is absent).

    Returns
    -------
    WhatIf

    Raises
    ------
    FormErrors
        Field -> message for every field refused.

    Examples
    --------
    >>> import talentplan as tp
    >>> inst = tp.load_instance("qingyuan")
    >>> try:
    ...     scenario_from_form(inst, {"land:Fogang": "-5"})
    ... except FormErrors as exc:
    ...     print(exc.messages["land:Fogang"].splitlines()[1].strip())
    file counties.csv, row 2, column 'land_quota_mu': expected a number >= 0 (mu), got '-5'
    """
    layout = form_layout(base)
    errors: dict[str, str] = {}
    values, off, changes = _edits(layout, form, errors)
    asked = _floor_edits(layout, form, changes)
    floors = asked if any(k.startswith(("floor:", "newfloor:")) for k in changes) else None
    scale_text = str(form.get("budget_scale", "1")).strip()
    scale = 1.0
    try:
        scale = _factor(scale_text, "factor")
    except OptionError as exc:
        errors["budget_scale"] = _option_message(exc)
    if scale != 1.0:
        changes["budget_scale"] = scale_text
    objective = str(form.get("objective") or layout.objective)
    limit, gap = DEFAULT_TIME_LIMIT, DEFAULT_MIP_GAP
    try:
        text = str(form.get("time_limit", DEFAULT_TIME_LIMIT)).strip()
        limit = _number(text, "time_limit", low=0, low_open=True, high=MAX_TIME_LIMIT)
    except OptionError as exc:
        errors["time_limit"] = _option_message(exc)
    try:
        gap = _number(str(form.get("mip_gap", DEFAULT_MIP_GAP)).strip(), "mip_gap", low=0, high=1)
    except OptionError as exc:
        errors["mip_gap"] = _option_message(exc)
    try:
        options = SolveOptions(limit, gap, 1, objective, warm_start=True)
    except OptionError as exc:
        field_name = exc.option if exc.option in ("time_limit", "mip_gap", "objective") else None
        errors[field_name or FORM_ERROR] = _option_message(exc)
        options = SolveOptions(DEFAULT_TIME_LIMIT, DEFAULT_MIP_GAP, 1)
    if objective != layout.objective:
        changes["objective"] = objective
    if errors:
        raise FormErrors(errors)
    try:
        instance = _apply(base, values, off, floors)
    except InstanceError as exc:
        raise FormErrors(_blame(base, values, off, floors, str(exc))) from exc
    if scale != 1.0:
        instance = instance.scale_budget(scale)
    name = str(form.get("name", "")).strip() or _default_name(changes)
    return WhatIf(name, instance, options, objective, changes)


def _default_name(changes: Mapping[str, str]) -> str:
    """Name a scenario by its first changes (a new floor in its few words).

    Examples
    --------
    >>> _default_name({"newfloor:0:program": "talent_housing", "newfloor:0:by_year": "2027",
    ...     "newfloor:0:min_units": "1", "newfloor:0:county": "", "budget_scale": "0.8"})
    'floor talent_housing ≥ 1 in every county by 2027, budget_scale=0.8'
    """
    if not changes:
        return "as given"
    added = new_floor_fields(changes)
    shown: dict[str, str] = {}
    for name, value in changes.items():
        row = str(name).rsplit(":", 1)[0]
        if row in added:
            fields = added[row]
            county = fields.get("county", EVERY_COUNTY)
            counties = [county] if county != EVERY_COUNTY else []
            text = floor_text(
                fields.get("program", ""),
                fields.get("min_units", ""),
                counties,
                fields.get("by_year", ""),
            )
            shown.setdefault(row, f"floor {text}")
        else:
            shown[name] = f"{name}={value}"
    said = list(shown.values())
    more = len(said) - 3
    return ", ".join(said[:3]) + (f" (+{more})" if more > 0 else "")
