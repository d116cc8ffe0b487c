"""From estimated coefficients to model values: transforms and the delta method.

A :class:`ParameterMap` says which parameter of an estimation feeds which model key and
through which of the :data:`TRANSFORMS`; :func:`transform_estimates` applies the maps of
one estimation and carries the covariance through the transforms' derivatives (delta
method), and :func:`block_diagonal` joins estimations that were run separately.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from talentplan.data.parameters import result_estimates
from talentplan.errors import CalibrationError

__all__ = ["TRANSFORMS", "ParameterMap", "block_diagonal", "transform_estimates"]

TRANSFORMS: Mapping[str, str] = MappingProxyType(
    {
        "identity": "value = b",
        "negate": "value = -b",
        "one_minus_exp": (
            "value = 1 - exp(b): a coefficient on a log attrition (outflow) rate becomes the "
            "share of attrition avoided (effect 'retention')"
        ),
        "exp_minus_one": (
            "value = exp(b) - 1: a coefficient in a log-outcome equation becomes a "
            "proportional gain (effect 'platform')"
        ),
        "scale": (
            "value = factor * b; factor is a number or 'mean:COLUMN' (the mean of the "
            "numeric COLUMN over the estimation sample). A semi-elasticity "
            "d log(inflow)/d spend (spend in 10k yuan) times factor = 'mean:inflow' becomes "
            "persons per year per 10k yuan (effect 'inflow'). The factor is treated as "
            "known: its own sampling variance is not propagated into the covariance"
        ),
    }
)
"""Transforms from an estimated coefficient ``b`` to a model value (delta-method
covariance: the covariance is scaled by the transforms' derivatives)."""


@dataclass(frozen=True)
class ParameterMap:
    """How one estimated parameter becomes one model value.

    Attributes
    ----------
    name
        Parameter name in the estimation result.
    key
        Model key ``program:talent_type:effect``.
    transform
        One of :data:`TRANSFORMS`.
    factor
        For ``scale``: a number or ``"mean:COLUMN"``.
    lower, upper
        Admissible range of the model value (None: unbounded).
    """

    name: str
    key: str
    transform: str = "identity"
    factor: float | str | None = None
    lower: float | None = None
    upper: float | None = None

    def resolve_factor(self, panel: pd.DataFrame, where: str) -> float:
        """Resolve the numeric factor of a ``scale`` transform (1 for the others).

        Parameters
        ----------
        panel
            The rows to average ``mean:COLUMN`` over: the estimation sample (see
            :func:`transform_estimates`).
        where
            Location for messages.

        Raises
        ------
        CalibrationError
            When COLUMN is absent or not numeric (values are never coerced), or its mean
            is not finite.
        """
        if self.transform != "scale":
            return 1.0
        if isinstance(self.factor, str):
            col = self.factor[len("mean:") :]
            if col not in panel.columns:
                raise CalibrationError(
                    f"{where}: factor 'mean:{col}' names a column the panel lacks."
                )
            values = panel[col]
            if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
                raise CalibrationError(
                    f"{where}: factor 'mean:{col}': column '{col}' is not numeric "
                    f"(dtype {values.dtype}); convert it to numbers."
                )
            value = float(values.mean())
            if not math.isfinite(value):
                raise CalibrationError(f"{where}: the mean of column '{col}' is not finite.")
            return value
        return float(self.factor)  # type: ignore[arg-type]

    def apply(self, b: float, factor: float) -> tuple[float, float]:
        """Transform the estimate ``b``; return the value and its derivative in ``b``.

        Parameters
        ----------
        b
            The estimated coefficient.
        factor
            The resolved factor (:meth:`resolve_factor`); used by ``scale`` only.

        Returns
        -------
        (float, float)
            The model value and ``d value / d b``, the delta method's Jacobian entry.
        """
        t = self.transform
        if t == "identity":
            return b, 1.0
        if t == "negate":
            return -b, -1.0
        if t == "one_minus_exp":
            return 1.0 - math.exp(b), -math.exp(b)
        if t == "exp_minus_one":
            return math.exp(b) - 1.0, math.exp(b)
        return factor * b, factor


def transform_estimates(
    estimation: str, maps: Sequence[ParameterMap], result: Any, data: pd.DataFrame
) -> tuple[list[str], np.ndarray, np.ndarray, list[float]]:
    """Transform the mapped estimates of one estimation, with their delta-method covariance.

    Parameters
    ----------
    estimation
        Name of the estimation, for messages.
    maps
        Its parameter maps.
    result
        Its results (anything with ``params`` and ``cov``).
    data
        The estimation sample (``scale`` factors ``mean:COLUMN`` average over it).
        :func:`~talentplan.calibrate.bridge.run.run_calibration` passes the rows of the panel
        where the dependent variable and every column the estimation names are observed.

    Returns
    -------
    keys, values, cov, factors
        ``factors`` holds the resolved factor of each map (1 unless ``scale``). The
        factor is treated as known: its sampling variance is not in ``cov``.
    """
    params, cov = result_estimates(result)
    names = [p.name for p in maps]
    missing = [n for n in names if n not in params.index]
    if missing:
        raise CalibrationError(
            f"estimation '{estimation}': parameters.name {missing[0]!r} is not in the result; "
            f"its parameters are {list(params.index)}."
        )
    b = params[names].to_numpy(dtype="float64")
    c = cov.loc[names, names].to_numpy(dtype="float64")
    values, jac = [], []
    factors: list[float] = []
    for pm, bi in zip(maps, b, strict=True):
        factor = pm.resolve_factor(data, f"estimation '{estimation}', parameter '{pm.name}'")
        val, der = pm.apply(float(bi), factor)
        if not math.isfinite(val):
            raise CalibrationError(
                f"estimation '{estimation}': transform {pm.transform!r} of {pm.name!r} "
                f"({bi}) is not finite."
            )
        values.append(val)
        jac.append(der)
        factors.append(factor)
    j = np.diag(jac)
    return [p.key for p in maps], np.array(values), j @ c @ j, factors


def block_diagonal(blocks: Sequence[np.ndarray]) -> np.ndarray:
    """Place square blocks on the diagonal, zeros elsewhere (separately estimated blocks)."""
    n = sum(c.shape[0] for c in blocks)
    cov = np.zeros((n, n))
    at = 0
    for c in blocks:
        m = c.shape[0]
        cov[at : at + m, at : at + m] = c
        at += m
    return cov
