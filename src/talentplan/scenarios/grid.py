"""The grid of a sweep: its axes, checked once, and the scenarios they span.

A sweep varies the budget scale, the objective, the equity floor (``min_coverage``) and
any instance parameter named by a dotted path (:mod:`talentplan.data.edit`), and draws
of the response parameters (rows of :meth:`ResponseParameters.draw
<talentplan.data.parameters.ResponseParameters.draw>`, applied to the instance with
:func:`~talentplan.data.responses.apply_parameters`, clipped to their admissible range);
every combination of the axes' values is one scenario. Ranges are written ``START:STOP:N``
(``N`` evenly spaced values from ``START`` to ``STOP``, both included) and lists
``V1,V2,...``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from talentplan._options import check_choice, check_number
from talentplan.data.edit import parse_path, set_parameters
from talentplan.data.instance import Instance
from talentplan.data.responses import apply_parameters
from talentplan.data.schema import Objective
from talentplan.errors import OptionError

__all__ = ["DRAW_PREFIX", "Grid", "make_grid", "parse_list", "parse_range"]

DRAW_PREFIX = "param:"
"""Columns ``param:KEY`` of a sweep's table hold the drawn value of each response parameter."""

RANGE_FORM = "START:STOP:N (N >= 1 evenly spaced numbers, e.g. 0.5:1.5:5) or V1,V2,..."


def _bad(option: str, value: Any, expected: str, problem: str = "") -> OptionError:
    what = f" ({problem})" if problem else ""
    return OptionError(
        f"{option}={value!r} is not admissible{what}; expected {expected}.",
        option=option,
        value=value,
        expected=expected,
    )


def parse_range(option: str, text: str) -> tuple[float, ...]:
    """Return the numbers of ``START:STOP:N`` or ``V1,V2,...``.

    Parameters
    ----------
    option
        The option's name, for the error.
    text
        The range as written.

    Raises
    ------
    OptionError
        Naming the option and the expected form.

    Examples
    --------
    >>> parse_range("budget_scale", "0.5:1.5:3")
    (0.5, 1.0, 1.5)
    >>> parse_range("budget_scale", "0.8,1")
    (0.8, 1.0)
    >>> from talentplan.errors import OptionError
    >>> try:
    ...     parse_range("budget_scale", "1:2")
    ... except OptionError as exc:
    ...     print(exc.option, "|", exc.expected)
    budget_scale | START:STOP:N (N >= 1 evenly spaced numbers, e.g. 0.5:1.5:5) or V1,V2,...
    """
    text = str(text).strip()
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise _bad(option, text, RANGE_FORM, f"{len(parts)} parts, not 3")
        try:
            start, stop = float(parts[0]), float(parts[1])
            n = int(parts[2])
        except ValueError:
            raise _bad(option, text, RANGE_FORM, "not numbers") from None
        if not (math.isfinite(start) and math.isfinite(stop)) or n < 1:
            raise _bad(option, text, RANGE_FORM, "N must be at least 1")
        if n == 1 and start != stop:
            raise _bad(option, text, RANGE_FORM, "one value needs START = STOP")
        return tuple(float(v) for v in np.linspace(start, stop, n))
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise _bad(option, text, RANGE_FORM, "not numbers") from None
    if not all(math.isfinite(v) for v in values):
        raise _bad(option, text, RANGE_FORM, "not finite")
    return values


def parse_list(text: str) -> tuple[str, ...]:
    """Split ``V1,V2,...`` into its values, stripped (the values of a ``--param``)."""
    return tuple(v.strip() for v in str(text).split(","))


def _distinct(option: str, values: Sequence[Any]) -> tuple[Any, ...]:
    values = tuple(values)
    if not values:
        raise _bad(option, list(values), "at least one value")
    if len(set(values)) != len(values):
        raise _bad(option, list(values), "distinct values", "a value repeats")
    return values


@dataclass(frozen=True)
class Grid:
    """The axes of a sweep, checked.

    Attributes
    ----------
    budget_scale
        Factors every budget is multiplied by (>= 0).
    objective
        Objective names; ``None`` stands for the scenario's own.
    min_coverage
        Equity floors (shares in [0, 1]); ``None`` stands for the scenario's own.
    params
        Dotted path -> its values, in the order given.
    draws
        Response-parameter draws, each a tuple of ``(key, value)``; empty: no draw axis
        (the instance's own responses).
    """

    budget_scale: tuple[float, ...] = (1.0,)
    objective: tuple[str | None, ...] = (None,)
    min_coverage: tuple[float | None, ...] = (None,)
    params: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    draws: tuple[tuple[tuple[str, float], ...], ...] = ()

    @property
    def columns(self) -> list[str]:
        """Names of the varied columns of the result table, in order (``draw``: its number)."""
        drawn = ["draw"] if self.draws else []
        return [
            "budget_scale",
            "objective_name",
            "min_coverage",
            *drawn,
            *(p for p, _ in self.params),
        ]

    @property
    def draw_columns(self) -> list[str]:
        """The columns ``param:KEY`` holding each scenario's drawn values (none without draws)."""
        return [f"{DRAW_PREFIX}{key}" for key, _ in self.draws[0]] if self.draws else []

    def points(self, instance: Instance) -> list[dict[str, Any]]:
        """Return every scenario as ``{column: value}``, the scenario's defaults filled in.

        With draws, a point also holds the drawn values (:attr:`draw_columns`).
        """
        axes: list[Sequence[Any]] = [
            self.budget_scale,
            [instance.scenario.objective if o is None else o for o in self.objective],
            [instance.scenario.min_coverage if m is None else m for m in self.min_coverage],
            *([range(len(self.draws))] if self.draws else []),
            *(values for _, values in self.params),
        ]
        points = [dict(zip(self.columns, combo, strict=True)) for combo in itertools.product(*axes)]
        if self.draws:
            for point in points:
                point.update({f"{DRAW_PREFIX}{k}": v for k, v in self.draws[point["draw"]]})
        return points

    def apply(self, instance: Instance, point: Mapping[str, Any]) -> Instance:
        """Return the instance of one scenario (the objective is a solve option, not set).

        Raises
        ------
        CalibrationError
            A drawn key names no response of the instance.
        """
        changed = {p: point[p] for p, _ in self.params}
        changed["scenario.min_coverage"] = point["min_coverage"]
        inst = set_parameters(instance, changed)
        if self.draws:
            drawn = dict(self.draws[point["draw"]])
            inst = apply_parameters(inst, drawn, clip=True, source=f"draw {point['draw']}")
        return inst.scale_budget(point["budget_scale"])


def make_grid(
    instance: Instance,
    *,
    budget_scale: Sequence[float] | float = (1.0,),
    objective: Sequence[str] | str | None = None,
    min_coverage: Sequence[float] | float | None = None,
    params: Mapping[str, Sequence[Any]] | None = None,
    draws: pd.DataFrame | None = None,
) -> Grid:
    """Check the axes of a sweep over ``instance`` and return its :class:`Grid`.

    ``draws`` is a table of response-parameter draws, one row per draw and one column per
    key (as :meth:`ResponseParameters.draw
    <talentplan.data.parameters.ResponseParameters.draw>` returns it).

    Raises
    ------
    OptionError
        A value is not admissible or repeats (the option is named).
    ParameterPathError
        A path of ``params`` names no parameter of the instance.
    """
    scales = (budget_scale,) if isinstance(budget_scale, int | float) else budget_scale
    scales = _distinct(
        "budget_scale", [float(check_number("budget_scale", s, low=0)) for s in scales]
    )
    objectives: tuple[str | None, ...] = (None,)
    if objective is not None:
        names = (objective,) if isinstance(objective, str) else objective
        objectives = _distinct(
            "objective", [check_choice("objective", o, Objective) for o in names]
        )
    floors: tuple[float | None, ...] = (None,)
    if min_coverage is not None:
        given = (min_coverage,) if isinstance(min_coverage, int | float) else min_coverage
        floors = _distinct(
            "min_coverage", [float(check_number("min_coverage", m, low=0, high=1)) for m in given]
        )
    axes = []
    for path, values in (params or {}).items():
        parse_path(instance, path)
        if path == "scenario.min_coverage":
            raise _bad("params", path, "--min-coverage (the min_coverage axis) for the floor")
        vals = (values,) if isinstance(values, str | int | float) else tuple(values)
        axes.append((path, _distinct("params", vals)))
    drawn: tuple[tuple[tuple[str, float], ...], ...] = ()
    if draws is not None:
        if len(draws) == 0:
            raise _bad("draws", "an empty table", "at least one draw")
        keys = [str(k) for k in draws.columns]
        drawn = tuple(
            tuple(zip(keys, (float(v) for v in row), strict=True))
            for row in draws.itertuples(index=False)
        )
    return Grid(scales, objectives, floors, tuple(axes), drawn)
