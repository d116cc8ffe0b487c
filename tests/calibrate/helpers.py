"""Helpers shared by the calibration tests."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def quiet(fn: Callable[[], T]) -> T:
    """Call ``fn`` with every warning silenced (unbalanced panels, dropped rows, ...)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()
