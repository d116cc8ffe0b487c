"""How a rerun's output file is compared with the original: one rule per kind of file.

- Every file first by its sha256: equal bytes are ``identical``.
- A plan (``allocation.csv``) whose ``summary.json`` beside it says ``optimal`` must be
  identical: the solve is deterministic, so any difference is a mismatch.
- Other CSV files, and Parquet tables (``sweep.parquet``): the same columns and rows,
  text equal and numbers within :data:`RTOL` and :data:`ATOL`, timing columns
  (:func:`is_timing`) left out.
- JSON files (``summary.json``, a sweep's ``row.json``): field by field, numbers within
  the same tolerances, timings, timestamps and ``versions`` left out (differing
  versions are warned about separately).
- HTML reports: equal once the timings they show (a table row whose heading names
  seconds) are removed.
- Files listed in :data:`VOLATILE` (by suffix: workbooks, images) are regenerated and
  not compared, for the reason given there; any other file must be identical.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ATOL", "RTOL", "VOLATILE", "Comparison", "compare_files", "is_timing"]

RTOL = 1e-6
"""Relative tolerance of numbers in CSV and JSON files that need not be identical."""
ATOL = 1e-9
"""Absolute tolerance beside :data:`RTOL` (for values near zero)."""

VOLATILE = {
    ".xlsx": "a workbook embeds the time it was written",
    ".png": "an image embeds the time it was drawn",
    ".svg": "an image embeds the time it was drawn",
    ".pdf": "a document embeds the time it was written",
}
"""Suffix -> why files of that kind are regenerated but not compared."""

_TIMING = re.compile(r"(^|_)(seconds|elapsed|timestamp|created)(_|$)|^seconds_left$")
_IGNORED_KEYS = {"versions"}
_HTML_TIMINGS = re.compile(r"(<th>[^<]*seconds[^<]*</th>\s*<td>)[^<]*(</td>)", re.IGNORECASE)


def is_timing(name: str) -> bool:
    """Whether a column or field named ``name`` holds a timing or a timestamp.

    Examples
    --------
    >>> [is_timing(n) for n in ("solve_seconds", "seconds", "elapsed_seconds", "time_limit")]
    [True, True, True, False]
    """
    return bool(_TIMING.search(name))


@dataclass(frozen=True)
class Comparison:
    """The outcome for one file: whether it matches, and how that was judged."""

    match: bool
    how: str


def _numbers_close(a: Any, b: Any) -> bool:
    return math.isclose(float(a), float(b), rel_tol=RTOL, abs_tol=ATOL)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            if key in _IGNORED_KEYS or is_timing(str(key)):
                continue
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(value, list):
        flat = {}
        for i, item in enumerate(value):
            flat.update(_flatten(item, f"{prefix}[{i}]"))
        return flat or {prefix: []}
    return {prefix: value}


def _same_value(a: Any, b: Any) -> bool:
    numeric = (int, float)
    if isinstance(a, numeric) and isinstance(b, numeric) and not isinstance(a, bool | str):
        if isinstance(b, bool):
            return False
        return _numbers_close(a, b)
    return bool(a == b)


def _json(original: Path, rerun: Path) -> Comparison:
    try:
        a = _flatten(json.loads(original.read_text(encoding="utf-8")))
        b = _flatten(json.loads(rerun.read_text(encoding="utf-8")))
    except ValueError as exc:
        return Comparison(False, f"not JSON ({exc})")
    differ = sorted(k for k in a.keys() & b.keys() if not _same_value(a[k], b[k]))
    differ += sorted(f"{k} (only in the original)" for k in a.keys() - b.keys())
    differ += sorted(f"{k} (only in the rerun)" for k in b.keys() - a.keys())
    if differ:
        more = f" and {len(differ) - 3} more" if len(differ) > 3 else ""
        return Comparison(False, "fields differ: " + ", ".join(differ[:3]) + more)
    return Comparison(True, "equal field by field (timings and versions left out)")


def _csv(original: Path, rerun: Path) -> Comparison:
    import pandas as pd

    try:
        a = pd.read_csv(original)
        b = pd.read_csv(rerun)
    except (ValueError, pd.errors.ParserError) as exc:
        return Comparison(False, f"cannot read as CSV ({exc})")
    return _tables(a, b)


def _parquet(original: Path, rerun: Path) -> Comparison:
    import pandas as pd

    try:
        a = pd.read_parquet(original)
        b = pd.read_parquet(rerun)
    except (ValueError, OSError) as exc:
        return Comparison(False, f"cannot read as Parquet ({exc})")
    return _tables(a, b)


def _tables(a: pd.DataFrame, b: pd.DataFrame) -> Comparison:
    """Compare two tables column by column, timing columns left out."""
    import numpy as np
    import pandas as pd

    if list(a.columns) != list(b.columns):
        return Comparison(False, "the columns differ")
    if a.shape != b.shape:
        return Comparison(False, f"{len(a)} rows in the original, {len(b)} in the rerun")
    differ, exact = [], True
    for column in a.columns:
        if is_timing(str(column)):
            continue
        x, y = a[column], b[column]
        exact = exact and bool(x.equals(y))
        numeric = pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y)
        if numeric and not (pd.api.types.is_bool_dtype(x) or pd.api.types.is_bool_dtype(y)):
            same = np.isclose(
                x.to_numpy(float), y.to_numpy(float), rtol=RTOL, atol=ATOL, equal_nan=True
            )
        else:
            same = (x.fillna("").astype(str) == y.fillna("").astype(str)).to_numpy()
        if not same.all():
            differ.append(f"{column} ({int((~same).sum())} rows)")
    if differ:
        return Comparison(False, "values differ: " + ", ".join(differ[:3]))
    if exact:
        return Comparison(True, "equal once the timing columns are left out")
    return Comparison(True, f"within tolerance (rtol {RTOL:g}), not bit-for-bit")


def _html(original: Path, rerun: Path) -> Comparison:
    a = _HTML_TIMINGS.sub(r"\1\2", original.read_text(encoding="utf-8"))
    b = _HTML_TIMINGS.sub(r"\1\2", rerun.read_text(encoding="utf-8"))
    if a == b:
        return Comparison(True, "equal once the timings are removed")
    return Comparison(False, "differs beyond the timings it shows")


RULES: dict[str, Callable[[Path, Path], Comparison]] = {
    ".json": _json,
    ".csv": _csv,
    ".parquet": _parquet,
    ".html": _html,
}
"""Suffix -> the comparison of two files that are not identical."""


def _optimal_plan(original: Path) -> bool:
    """Whether ``original`` is a plan whose summary beside it says ``optimal``."""
    if original.name != "allocation.csv":
        return False
    try:
        summary = json.loads((original.parent / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(summary, dict) and summary.get("status") == "optimal"


def compare_files(original: Path, rerun: Path, *, identical: bool) -> Comparison:
    """Compare the original output file with the rerun's, by the rules of the module.

    Parameters
    ----------
    original, rerun
        The two files; ``original`` is read only when the bytes differ.
    identical
        Whether their sha256 digests are equal (computed by the caller).
    """
    if identical:
        return Comparison(True, "identical")
    suffix = rerun.suffix.lower()
    if suffix in VOLATILE:
        return Comparison(True, f"regenerated, not compared ({VOLATILE[suffix]})")
    if _optimal_plan(original):
        return Comparison(False, "differs; a plan solved to optimality must be bit-for-bit")
    rule = RULES.get(suffix)
    if rule is None:
        return Comparison(False, "differs (compared by sha256)")
    return rule(original, rerun)
