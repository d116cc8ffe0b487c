"""Options validated once, at the boundary, from their ``Literal`` types.

A function that takes a choice declares its type once (``Objective = Literal[...]``)
and checks a value with :func:`check_choice`, which reads the admissible values from
the type itself (:func:`typing.get_args`), so the annotation, the check and the
message can never disagree. Numeric options use :func:`check_number`.
"""

from __future__ import annotations

import math
import numbers
import typing
from collections.abc import Sequence
from typing import Any, NoReturn, TypeVar

import numpy as np

from talentplan.errors import OptionError, TalentPlanError

__all__ = ["check_choice", "check_number", "choices"]

T = TypeVar("T")


def choices(allowed: Any) -> tuple[Any, ...]:
    """Return the admissible values of a ``Literal`` type (or of a sequence) as a tuple.

    Examples
    --------
    >>> from typing import Literal
    >>> choices(Literal["dr", "ipw", "reg"])
    ('dr', 'ipw', 'reg')
    """
    if typing.get_origin(allowed) is typing.Literal:
        return typing.get_args(allowed)
    if isinstance(allowed, Sequence) and not isinstance(allowed, str):
        return tuple(allowed)
    raise TypeError(f"expected a Literal type or a sequence of values, got {allowed!r}")


def check_choice(
    name: str,
    value: T,
    allowed: Any,
    *,
    error: type[TalentPlanError] = OptionError,
) -> T:
    """Return ``value`` if it is one of ``allowed``, else raise ``error`` naming both.

    Parameters
    ----------
    name
        The option's name, as the caller wrote it.
    value
        The value given.
    allowed
        A ``Literal`` type, or a sequence of admissible values.
    error
        The named error to raise (a subclass of
        :class:`~talentplan.errors.TalentPlanError`); default
        :class:`~talentplan.errors.OptionError`.

    Examples
    --------
    >>> from typing import Literal
    >>> check_choice("method", "dr", Literal["dr", "ipw", "reg"])
    'dr'
    >>> check_choice("method", "ols", Literal["dr", "reg"])
    Traceback (most recent call last):
    ...
    talentplan.errors.OptionError: method='ols' is not supported; expected one of 'dr', 'reg'.
    """
    admissible = choices(allowed)
    if value not in admissible:
        expected = "one of " + ", ".join(repr(a) for a in admissible)
        _raise(
            error, f"{name}={value!r} is not supported; expected {expected}.", name, value, expected
        )
    return value


def check_number(
    name: str,
    value: Any,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
    error: type[TalentPlanError] = OptionError,
) -> Any:
    """Return ``value`` if it is a finite number in the range, else raise ``error``.

    Any real number passes (Python's or numpy's), booleans do not; with ``integer`` only
    whole-number types (``int``, ``numpy.int64`` ...) do.

    Examples
    --------
    >>> check_number("mip_gap", 1e-4, low=0, high=1, high_open=True)
    0.0001
    >>> check_number("threads", 0, low=1, integer=True)
    Traceback (most recent call last):
    ...
    talentplan.errors.OptionError: threads=0 is not admissible; expected a whole number >= 1.
    """
    kind = numbers.Integral if integer else numbers.Real
    is_number = isinstance(value, kind) and not isinstance(value, bool | np.bool_)
    ok = is_number and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (
            value < high if high_open else value <= high
        )
    if not ok:
        parts = []
        if math.isfinite(low):
            parts.append(f"{'>' if low_open else '>='} {low:g}")
        if math.isfinite(high):
            parts.append(f"{'<' if high_open else '<='} {high:g}")
        what = "a whole number" if integer else "a finite number"
        expected = f"{what} {' and '.join(parts)}".strip()
        _raise(
            error,
            f"{name}={value!r} is not admissible; expected {expected}.",
            name,
            value,
            expected,
        )
    return value


def _raise(
    error: type[TalentPlanError], message: str, option: str, value: Any, expected: str
) -> NoReturn:
    """Raise ``error``; an :class:`OptionError` also carries the option, value and range."""
    if issubclass(error, OptionError):
        raise error(message, option=option, value=value, expected=expected)
    raise error(message)
