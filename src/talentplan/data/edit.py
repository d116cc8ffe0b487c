"""Change parameters of an instance named by dotted paths, and validate the result.

A path names one scalar of the scenario or a column of a table, optionally narrowed to
the rows of one key:

``scenario.KEY``
    A scalar key of ``scenario.toml`` (``scenario.discount_rate``,
    ``scenario.pwl_segments``, ``scenario.carry_over`` ...).
``TABLE.COLUMN``
    The column in every row of a table (``programs.poach_share``).
``TABLE.KEY.COLUMN``
    The column in the rows whose key starts with ``KEY``: the table's key columns
    (:mod:`talentplan.data.schema`) joined by ``:``, a blank written ``-``
    (``programs.cash_subsidy.unit_cost``, ``counties.Fogang.cadre_hours``,
    ``responses.cash_subsidy:engineer:inflow_log.value``, ``budgets.2025.amount`` for
    every source of 2025).

:func:`set_parameters` sets values (numbers, booleans, or text as a file would hold
it), and can replace the policy floors (``[[floors]]`` tables of ``scenario.toml``); it
validates the changed instance as if it had been read from files, so a value out of
range, or a floor no program, county, year or cap allows, gets the same
:class:`~talentplan.errors.InstanceValidationError` it would get in a file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from talentplan.data.cells import suggest
from talentplan.data.instance import Instance
from talentplan.data.scenario_toml import ScenarioSource, scenario_rows
from talentplan.data.schema import TABLES
from talentplan.data.validate import RawTable, build_instance
from talentplan.errors import ParameterPathError

__all__ = ["ParameterPath", "parse_path", "set_parameters"]

SCENARIO = "scenario"
"""First part of the paths that name a scalar of the scenario."""

_FORMS = "scenario.KEY, TABLE.COLUMN or TABLE.KEY.COLUMN"


@dataclass(frozen=True)
class ParameterPath:
    """A checked dotted path.

    Attributes
    ----------
    text
        The path as given.
    table
        ``"scenario"`` or a table name.
    column
        The scenario key or the table's column.
    key
        Leading key values that select the rows (empty: every row); unused for the
        scenario.
    """

    text: str
    table: str
    column: str
    key: tuple[str, ...] = ()

    def rows(self, frame: pd.DataFrame, key_columns: tuple[str, ...]) -> pd.Series:
        """Return the mask of the rows of ``frame`` the path selects."""
        mask = pd.Series(True, index=frame.index)
        for column, wanted in zip(key_columns, self.key, strict=False):
            cells = frame[column].astype(str).replace("", "-")
            mask &= cells == wanted
        return mask


def _fail(path: str, problem: str, expected: str) -> ParameterPathError:
    return ParameterPathError(
        f"parameter path {path!r}: {problem}", option="params", value=path, expected=expected
    )


def parse_path(instance: Instance, path: str) -> ParameterPath:
    """Check that ``path`` names a parameter of ``instance`` and return it parsed.

    Parameters
    ----------
    instance
        The instance the path refers to.
    path
        ``scenario.KEY``, ``TABLE.COLUMN`` or ``TABLE.KEY.COLUMN`` (see the module).

    Returns
    -------
    ParameterPath

    Raises
    ------
    ParameterPathError
        When a part of the path names nothing: the message says which and what exists.

    Examples
    --------
    >>> import talentplan as tp
    >>> inst = tp.load_instance("qingyuan")
    >>> parse_path(inst, "programs.cash_subsidy.unit_cost").key
    ('cash_subsidy',)
    >>> from talentplan.errors import ParameterPathError
    >>> try:
    ...     parse_path(inst, "scenario.discount_rat")
    ... except ParameterPathError as exc:
    ...     print(str(exc).split(": ", 1)[1])
    the scenario has no key 'discount_rat' (did you mean 'discount_rate'?)
    """
    if not isinstance(path, str) or path.count(".") < 1:
        raise _fail(str(path), "expected at least two parts joined by '.'", _FORMS)
    first, rest = path.split(".", 1)
    if first == SCENARIO:
        keys = [k for k, _ in scenario_rows(instance.scenario)]
        if rest not in keys:
            raise _fail(
                path,
                f"the scenario has no key {rest!r}{suggest(rest, keys)}",
                "scenario." + " or scenario.".join(keys),
            )
        return ParameterPath(path, SCENARIO, rest)
    specs = {t.name: t for t in TABLES}
    if first not in specs:
        names = [SCENARIO, *specs]
        raise _fail(
            path,
            f"no table {first!r}{suggest(first, names)}; the first part is one of "
            + ", ".join(names),
            _FORMS,
        )
    spec = specs[first]
    middle, _, column = rest.rpartition(".")
    columns = [c.name for c in spec.columns if c.name not in spec.key]
    if column not in columns:
        raise _fail(
            path,
            f"table {first!r} has no column {column!r} that can be set"
            f"{suggest(column, columns)}; its columns are " + ", ".join(columns),
            f"{first}.[KEY.]COLUMN with COLUMN one of " + ", ".join(columns),
        )
    key = tuple(middle.split(":")) if middle else ()
    if len(key) > len(spec.key):
        raise _fail(
            path,
            f"the key {middle!r} has {len(key)} parts; table {first!r} is keyed by "
            + ":".join(spec.key),
            f"{first}.{':'.join(spec.key)}.{column}",
        )
    parsed = ParameterPath(path, first, column, key)
    frame = instance.tables[first]
    if key and not parsed.rows(frame, spec.key).any():
        known = sorted(
            {":".join(str(v) or "-" for v in row) for row in frame[list(spec.key)].to_numpy()}
        )
        shown = ", ".join(known[:12]) + (" ..." if len(known) > 12 else "")
        raise _fail(
            path,
            f"no row of {first!r} has the key {middle!r}{suggest(middle, known)}; keys "
            f"({':'.join(spec.key)}): {shown}",
            f"a key of table {first!r}",
        )
    if not key and frame.empty:
        raise _fail(path, f"table {first!r} has no rows in this instance", "a table with rows")
    return parsed


def set_parameters(
    instance: Instance,
    values: Mapping[str, Any],
    *,
    origin: str = "",
    floors: Sequence[Mapping[str, Any]] | None = None,
) -> Instance:
    """Return a copy of ``instance`` with the parameters named by dotted paths set.

    Parameters
    ----------
    instance
        The instance to change (it is not modified).
    values
        Path -> value. A value is written as a file would hold it: a number, a boolean,
        or text (``"0.03"``, ``"true"``).
    origin
        Recorded on the new instance; default the instance's own.
    floors
        The policy floors of the new instance, each as a ``[[floors]]`` table of
        ``scenario.toml`` holds it (``name``, ``program``, ``by_year``, ``min_units``,
        ``counties``: a list, empty for every county; numbers may be text, as in a
        workbook's ``floors`` sheet); default the instance's own. A problem is named
        ``floors[N].KEY``, ``N`` the floor's place in this list.

    Returns
    -------
    Instance
        The changed instance, validated as a whole.

    Raises
    ------
    ParameterPathError
        A path names nothing.
    InstanceValidationError
        A value is not admissible where it is put (out of range, wrong type, ...).

    Examples
    --------
    >>> import talentplan as tp
    >>> inst = tp.load_instance("qingyuan")
    >>> set_parameters(inst, {"scenario.discount_rate": "0.03"}).scenario.discount_rate
    0.03
    >>> housing = {"name": "housing", "program": "talent_housing", "by_year": "2027",
    ...     "min_units": "1", "counties": []}
    >>> [f.name for f in set_parameters(inst, {}, floors=[housing]).scenario.floors]
    ['housing']
    """
    if not values and floors is None:
        return instance
    paths = [parse_path(instance, p) for p in values]
    scenario_values: dict[str, Any] = dict(scenario_rows(instance.scenario))
    frames = dict(instance.tables)
    specs = {t.name: t for t in TABLES}
    for parsed, value in zip(paths, values.values(), strict=True):
        if parsed.table == SCENARIO:
            scenario_values[parsed.column] = value
            continue
        frame = frames[parsed.table].copy()
        mask = parsed.rows(frame, specs[parsed.table].key)
        frame[parsed.column] = frame[parsed.column].astype(object)
        frame.loc[mask, parsed.column] = value
        frames[parsed.table] = frame
    if floors is None:
        floors = [
            {
                "name": f.name,
                "program": f.program,
                "by_year": f.by_year,
                "min_units": f.min_units,
                "counties": list(f.counties),
            }
            for f in instance.scenario.floors
        ]
    source = ScenarioSource(
        values=scenario_values,
        floors=[dict(f) for f in floors],
        file="scenario",
        floors_file="scenario",
        strict=False,
    )
    raw = {
        k: RawTable(v.reset_index(drop=True).astype(object), f"{k}.csv") for k, v in frames.items()
    }
    return build_instance(raw, source, origin=origin or instance.origin, label=lambda t: f"{t}.csv")
