"""Validation of panel inputs, shared by the calibration estimators.

Every check raises a named error from :mod:`talentplan.errors` whose message says what
was expected and how to fix the input. Missing values are dropped only with a
:class:`~talentplan.errors.MissingValuesWarning` that counts them, and an unbalanced
panel is reported with an :class:`~talentplan.errors.UnbalancedPanelWarning`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from talentplan.errors import (
    CollinearityError,
    MissingValuesWarning,
    PanelDataError,
    UnbalancedPanelWarning,
)

__all__ = [
    "PanelInfo",
    "Transform",
    "check_duplicates",
    "check_finite",
    "check_identifier_types",
    "check_integer_like",
    "check_numeric",
    "check_rank",
    "check_time_kind",
    "drop_missing",
    "panel_info",
    "period_step",
    "prepare_panel",
    "set_panel_index",
    "transform_design",
]

Transform = Literal["none", "entity", "time", "twoway", "between", "fd"]
"""Transformations of a design: none, within (entity, time, two-way), between, first differences."""


def set_panel_index(
    data: pd.DataFrame, entity: str | None = None, time: str | None = None
) -> pd.DataFrame:
    """Return a copy of ``data`` indexed by (entity, time).

    Parameters
    ----------
    data
        The panel in long form: one row per entity and period.
    entity, time
        Column names of the entity and time identifiers. When both are None, ``data``
        must already carry a two-level (entity, time) MultiIndex.

    Returns
    -------
    pandas.DataFrame
        A copy with a two-level MultiIndex named (entity, time), sorted.

    Raises
    ------
    PanelDataError
        When the identifiers are missing or the index is not two-level.
    """
    if not isinstance(data, pd.DataFrame):
        raise PanelDataError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    if (entity is None) != (time is None):
        raise PanelDataError("Give both entity= and time= column names, or neither.")
    if entity is not None and time is not None:
        missing = [c for c in (entity, time) if c not in data.columns]
        if missing:
            raise PanelDataError(
                f"Identifier column(s) {missing} not found; the data have columns "
                f"{list(data.columns)}."
            )
        out = data.set_index([entity, time])
    else:
        if not isinstance(data.index, pd.MultiIndex) or data.index.nlevels != 2:
            raise PanelDataError(
                "data must have a two-level (entity, time) MultiIndex, or pass "
                "entity= and time= naming the identifier columns."
            )
        out = data.copy()
    if out.index.to_frame().isna().to_numpy().any():
        raise PanelDataError("The entity or time identifier has missing values; fill or drop them.")
    names = [
        n if n is not None else d for n, d in zip(out.index.names, ("entity", "time"), strict=True)
    ]
    out.index = out.index.set_names(names)
    for level, name in enumerate(names):
        check_identifier_types(out.index.get_level_values(level), str(name))
    return out.sort_index()


def _plain(value: object) -> object:
    """Return a numpy scalar (or a tuple of them) as plain Python, for messages."""
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value.item() if isinstance(value, np.generic) else value


def _kind(value: object) -> str:
    """Name the kind of an identifier: numbers (bool, int, float) count as one kind."""
    if isinstance(value, (bool, int, float, np.bool_, np.number)):
        return "number"
    return type(value).__name__


def check_identifier_types(values: pd.Index, column: str) -> None:
    """Raise when an identifier mixes kinds of values (numbers with text, say).

    Mixed identifiers (``1`` next to ``"1"``) are nearly always a data error, and they
    cannot be ordered, so lags and results indexed by them would fail later with a raw
    ``TypeError``.

    Parameters
    ----------
    values
        The identifier's values.
    column
        Its name, for the message.

    Raises
    ------
    PanelDataError
        Naming the column, the kinds found and an example value of each.
    """
    if values.dtype != object:
        return
    examples: dict[str, object] = {}
    for v in pd.unique(np.asarray(values, dtype=object)):
        examples.setdefault(_kind(v), _plain(v))
    if len(examples) > 1:
        shown = ", ".join(f"{k} (e.g. {v!r})" for k, v in examples.items())
        first = next(iter(examples.values()))
        raise PanelDataError(
            f"The identifier '{column}' mixes kinds of values: {shown}. Use one kind for "
            f"every row, for example data['{column}'].astype(str).",
            column=column,
            value=first,
        )


def check_time_kind(values: pd.Index, column: str) -> None:
    """Raise unless a time identifier holds numbers (years, say) or dates.

    Text periods (``"2001Q1"``, ``"a"``) have no order the estimators can trust.

    Raises
    ------
    PanelDataError
        Naming the column, its type and an example value.
    """
    dtype = values.dtype
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return
    example = _plain(values[0]) if len(values) else None
    raise PanelDataError(
        f"The time identifier '{column}' must hold numbers (for example years) or dates, "
        f"but it holds {dtype} values such as {example!r}; convert it, for example with "
        f"pd.to_numeric(data['{column}']) or pd.to_datetime(data['{column}']).",
        column=column,
        value=example,
    )


def check_integer_like(values: pd.Series, column: str, *, what: str) -> None:
    """Raise when a numeric column holds a value that is not a whole number.

    Parameters
    ----------
    values
        The column's values (missing values are ignored).
    column
        Its name, for the message.
    what
        What the values are, for the message (for example "first-treatment periods").

    Raises
    ------
    PanelDataError
        Naming the column, the first offending value and how many there are.
    """
    vals = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    finite = vals[np.isfinite(vals)]
    bad = finite[finite != np.round(finite)]
    if bad.size:
        raise PanelDataError(
            f"Column '{column}' must hold whole numbers ({what}), but {bad.size} value(s) "
            f"are not, e.g. {bad[0]:g}; round or recode them (a value is never truncated "
            "silently).",
            column=column,
            value=float(bad[0]),
        )


def check_finite(data: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise when a column holds an infinite value (missing values, NaN, are left alone).

    Raises
    ------
    PanelDataError
        Naming the column, the number of infinite values and the first of them with its
        row label.
    """
    for c in columns:
        vals = data[c].to_numpy(dtype="float64")
        inf = np.isinf(vals)
        if inf.any():
            pos = int(np.flatnonzero(inf)[0])
            raise PanelDataError(
                f"Column '{c}' has {int(inf.sum())} infinite value(s), e.g. {vals[pos]} at row "
                f"{_plain(data.index[pos])!r}; an infinite value is not a missing one: replace it "
                "(or set it to NaN to have the row treated as missing).",
                column=str(c),
                value=float(vals[pos]),
            )


def period_step(periods: np.ndarray) -> int:
    """Return the time step of integer periods: the greatest common divisor of their gaps.

    ``[2000, 2002, 2006]`` has step 2 (biennial data with a gap), ``[2000, 2001, 2003]``
    step 1; a single period has step 1. Stata's ``xtset ..., delta()`` plays this role.

    Examples
    --------
    >>> import numpy as np
    >>> period_step(np.array([2000, 2002, 2006])), period_step(np.array([2000, 2001, 2003]))
    (2, 1)
    """
    unique = np.unique(np.asarray(periods, dtype=np.int64))
    if unique.size < 2:
        return 1
    return int(np.gcd.reduce(np.diff(unique)))


def check_duplicates(data: pd.DataFrame) -> None:
    """Raise when an (entity, time) pair occurs more than once.

    Raises
    ------
    PanelDataError
        Naming up to five duplicated pairs and their count.
    """
    dup = data.index.duplicated(keep=False)
    if dup.any():
        pairs = list(dict.fromkeys(data.index[dup]))
        shown = ", ".join(str(p) for p in pairs[:5])
        more = f" and {len(pairs) - 5} more" if len(pairs) > 5 else ""
        raise PanelDataError(
            f"{len(pairs)} (entity, time) pair(s) occur more than once: {shown}{more}. "
            "Each entity must have at most one row per period; aggregate or remove duplicates."
        )


def check_numeric(data: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Return ``data[columns]`` as float64, raising on missing or non-numeric columns.

    Booleans are accepted and converted to 0/1.

    Raises
    ------
    PanelDataError
        Naming the missing or non-numeric columns and their dtypes.
    """
    columns = list(columns)
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise PanelDataError(f"Column(s) {missing} not found; the data have {list(data.columns)}.")
    if len(set(columns)) != len(columns):
        dups = sorted({c for c in columns if columns.count(c) > 1})
        raise PanelDataError(f"Column(s) {dups} are listed more than once.")
    bad = [
        f"'{c}' ({data[c].dtype})"
        for c in columns
        if not (pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c]))
    ]
    if bad:
        raise PanelDataError(
            f"Column(s) {', '.join(bad)} are not numeric; convert them (for example "
            "categories to dummy columns) before estimating."
        )
    return data[columns].astype("float64")


def drop_missing(data: pd.DataFrame, *, context: str = "estimation") -> tuple[pd.DataFrame, int]:
    """Drop rows with a missing value, warning with a count per column.

    Returns
    -------
    (pandas.DataFrame, int)
        The complete rows and the number of rows dropped.
    """
    values = data.to_numpy(dtype="float64")
    bad = ~np.isfinite(values)
    rows = bad.any(axis=1)
    n = int(rows.sum())
    if n:
        per_col = {c: int(k) for c, k in zip(data.columns, bad.sum(axis=0), strict=True) if k}
        detail = ", ".join(f"{c}: {k}" for c, k in per_col.items())
        warnings.warn(
            f"{n} of {len(data)} rows dropped from the {context} because of missing or "
            f"non-finite values ({detail}).",
            MissingValuesWarning,
            stacklevel=3,
        )
    return data.loc[~rows], n


@dataclass(frozen=True)
class PanelInfo:
    """Shape of a panel: entities, periods and balance."""

    n_entities: int
    n_periods: int
    nobs: int
    min_periods: int
    max_periods: int
    balanced: bool

    def describe(self) -> str:
        """Describe the panel's shape in one line."""
        kind = "balanced" if self.balanced else "unbalanced"
        return (
            f"{kind} panel: {self.n_entities} entities, {self.n_periods} periods, "
            f"{self.nobs} observations ({self.min_periods}-{self.max_periods} per entity)"
        )


def panel_info(data: pd.DataFrame, *, warn: bool = True) -> PanelInfo:
    """Describe a (entity, time)-indexed panel and warn when it is unbalanced."""
    entities = data.index.get_level_values(0)
    times = data.index.get_level_values(1)
    counts = pd.Series(1, index=entities).groupby(level=0, sort=False).size()
    n_periods = int(pd.Index(times).nunique())
    info = PanelInfo(
        n_entities=int(counts.size),
        n_periods=n_periods,
        nobs=len(data),
        min_periods=int(counts.min()) if counts.size else 0,
        max_periods=int(counts.max()) if counts.size else 0,
        balanced=bool(counts.size) and bool((counts == n_periods).all()),
    )
    if warn and not info.balanced:
        warnings.warn(
            f"The {info.describe()}; the estimators handle it, but check why rows are absent.",
            UnbalancedPanelWarning,
            stacklevel=3,
        )
    return info


def _demean(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    counts = np.bincount(codes, minlength=n_groups).astype(float)
    counts[counts == 0] = 1.0
    means = np.zeros((n_groups, values.shape[1]))
    for j in range(values.shape[1]):
        means[:, j] = np.bincount(codes, weights=values[:, j], minlength=n_groups) / counts
    return values - means[codes]


def transform_design(
    x: pd.DataFrame, transform: Transform, *, tol: float = 1e-10, max_iter: int = 1000
) -> pd.DataFrame:
    """Apply the transformation an estimator applies to its regressors.

    Parameters
    ----------
    x
        Regressors indexed by (entity, time).
    transform
        ``"none"``; ``"entity"``, ``"time"`` or ``"twoway"`` demeaning (two-way demeaning
        is exact on a balanced panel and uses alternating projections otherwise);
        ``"between"`` (entity means, one row per entity); ``"fd"`` (first differences
        between an entity's successive rows in time order, dropping each entity's
        first row). Across a gap in time the difference spans the gap; linearmodels'
        ``FirstDifferenceOLS`` instead drops the row after a gap. Here the transform
        only serves the rank check of the first-difference design.

    Returns
    -------
    pandas.DataFrame
        The transformed regressors.
    """
    if transform == "none":
        return x
    ent = pd.factorize(x.index.get_level_values(0))[0]
    tim = pd.factorize(x.index.get_level_values(1))[0]
    vals = x.to_numpy(dtype="float64")
    if transform == "between":
        return x.groupby(level=0, sort=False).mean()
    if transform == "fd":
        ordered = x.sort_index()
        diff = ordered.groupby(level=0, sort=False).diff()
        return diff.dropna()
    if transform == "entity":
        out = _demean(vals, ent, int(ent.max()) + 1)
    elif transform == "time":
        out = _demean(vals, tim, int(tim.max()) + 1)
    else:
        ne, nt = int(ent.max()) + 1, int(tim.max()) + 1
        out = vals - vals.mean(axis=0)
        scale = max(float(np.abs(vals).max()), 1.0)
        for _ in range(max_iter):
            new = _demean(_demean(out, ent, ne), tim, nt)
            done = float(np.abs(new - out).max()) <= tol * scale
            out = new
            if done:
                break
    return pd.DataFrame(out, index=x.index, columns=x.columns)


def check_rank(
    x: pd.DataFrame,
    *,
    original: pd.DataFrame | None = None,
    context: str = "the design",
    rtol: float = 1e-10,
) -> None:
    """Raise when the columns of ``x`` are linearly dependent, naming the culprits.

    Columns that are identically zero (for example a time-invariant regressor after
    within-demeaning) are named first; otherwise the columns that load on the null
    space of the (column-scaled) design are named.

    Parameters
    ----------
    x
        The (transformed) design.
    original
        The design before transformation; a column whose transformed norm is below
        ``1e-8`` times its original norm counts as having no variation left.
    context
        Words naming the design in the message.
    rtol
        Relative tolerance of the singular values.

    Raises
    ------
    CollinearityError
        Naming the collinear columns.
    """
    if x.shape[1] == 0:
        return
    vals = x.to_numpy(dtype="float64")
    if vals.shape[0] < vals.shape[1]:
        raise CollinearityError(
            f"{context} has {vals.shape[0]} usable rows for {vals.shape[1]} regressors "
            f"({', '.join(map(str, x.columns))}); more observations are needed."
        )
    norms = np.sqrt((vals**2).sum(axis=0))
    if original is not None:
        ref = np.array(
            [
                np.sqrt((original[c].to_numpy(dtype="float64") ** 2).sum())
                if c in original.columns
                else n
                for c, n in zip(x.columns, norms, strict=True)
            ]
        )
    else:
        ref = np.full_like(norms, max(float(norms.max()), 1.0))
    zero = [
        str(c) for c, n, r in zip(x.columns, norms, ref, strict=True) if n == 0.0 or n <= 1e-8 * r
    ]
    if zero:
        raise CollinearityError(
            f"In {context}, column(s) {zero} have no variation left after the "
            "transformation (for example a time-invariant regressor with entity effects or "
            "a period-only regressor with time effects); remove them."
        )
    scaled = vals / norms
    _, s, vt = np.linalg.svd(scaled, full_matrices=False)
    tol = rtol * max(scaled.shape) * s[0] * 1e3
    null = vt[s <= tol]
    if null.size:
        load = np.abs(null).max(axis=0)
        names = [str(c) for c, v in zip(x.columns, load, strict=True) if v > 1e-6]
        raise CollinearityError(
            f"In {context}, the columns {names} are linearly dependent (rank "
            f"{int((s > tol).sum())} of {x.shape[1]}); drop one of them."
        )


def prepare_panel(
    data: pd.DataFrame,
    columns: Sequence[str],
    *,
    entity: str | None = None,
    time: str | None = None,
    context: str = "estimation",
    warn_unbalanced: bool = True,
) -> tuple[pd.DataFrame, PanelInfo, int]:
    """Index, check and clean a panel for estimation.

    Sets the (entity, time) index, refuses duplicate pairs and non-numeric columns,
    drops rows with missing values in ``columns`` (warning with a count) and reports an
    unbalanced panel.

    Returns
    -------
    (pandas.DataFrame, PanelInfo, int)
        The float64 columns indexed by (entity, time), the panel's shape after
        dropping, and the number of rows dropped.
    """
    indexed = set_panel_index(data, entity, time)
    check_duplicates(indexed)
    numeric = check_numeric(indexed, columns)
    clean, n_dropped = drop_missing(numeric, context=context)
    if clean.empty:
        raise PanelDataError(f"No complete rows remain for the {context}.")
    info = panel_info(clean, warn=warn_unbalanced)
    return clean, info, n_dropped
