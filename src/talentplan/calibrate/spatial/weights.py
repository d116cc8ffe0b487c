"""Spatial weights from geography: distance matrices, weights and spatial lags.

:func:`distance_matrix` (Euclidean or great-circle), :func:`distance_weights`
(inverse-distance or exponential decay, optionally row-standardised) and
:func:`spatial_lag` (``W x`` period by period) build the regressors of
:class:`~talentplan.calibrate.spatial.model.SpilloverPanel`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from talentplan._options import check_choice
from talentplan.errors import CalibrationError, TalentPlanWarning

__all__ = [
    "EARTH_RADIUS_KM",
    "Metric",
    "WeightKind",
    "distance_matrix",
    "distance_weights",
    "spatial_lag",
]

Metric = Literal["euclidean", "haversine"]
"""Distances: Euclidean, or great-circle (km) from longitude and latitude in degrees."""
WeightKind = Literal["inverse", "exponential"]
"""Spatial weights: inverse distance, or exponential decay."""

#: Mean Earth radius in km, for great-circle distances.
EARTH_RADIUS_KM = 6371.0088


def distance_matrix(
    coords: pd.DataFrame | np.ndarray,
    *,
    metric: Metric = "euclidean",
    ids: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Compute the pairwise distances between points.

    Parameters
    ----------
    coords
        ``n x 2`` coordinates: (x, y) for ``"euclidean"``, (longitude, latitude) in
        degrees for ``"haversine"`` (great-circle distance in km).
    metric
        ``"euclidean"`` or ``"haversine"``.
    ids
        Labels; default the DataFrame's index or 0..n-1.

    Returns
    -------
    pandas.DataFrame
        The ``n x n`` distances, labelled on both axes.
    """
    check_choice("metric", metric, Metric, error=CalibrationError)
    labels = (
        list(ids)
        if ids is not None
        else (list(coords.index) if isinstance(coords, pd.DataFrame) else None)
    )
    xy = np.asarray(coords, dtype="float64")
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise CalibrationError(f"coords must be n x 2, got shape {xy.shape}.")
    if not np.isfinite(xy).all():
        raise CalibrationError("coords must be finite.")
    if metric == "euclidean":
        d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
    else:
        lon, lat = np.radians(xy[:, 0]), np.radians(xy[:, 1])
        dlat = lat[:, None] - lat[None, :]
        dlon = lon[:, None] - lon[None, :]
        a = (
            np.sin(dlat / 2) ** 2
            + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
        )
        d = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    labels = labels if labels is not None else list(range(len(xy)))
    if len(labels) != len(xy):
        raise CalibrationError(f"{len(labels)} ids for {len(xy)} points.")
    return pd.DataFrame(d, index=labels, columns=labels)


def _as_distances(obj: pd.DataFrame | np.ndarray, metric: Metric) -> pd.DataFrame:
    arr = np.asarray(obj, dtype="float64")
    if arr.ndim == 2 and arr.shape[0] == arr.shape[1] and arr.shape[0] != 2:
        labels = list(obj.index) if isinstance(obj, pd.DataFrame) else list(range(len(arr)))
        if isinstance(obj, pd.DataFrame) and list(obj.columns) != labels:
            raise CalibrationError("A distance matrix needs the same labels on rows and columns.")
        if not np.isfinite(arr).all() or (arr < 0).any():
            raise CalibrationError("Distances must be finite and non-negative.")
        if not np.allclose(arr, arr.T) or not np.allclose(np.diag(arr), 0.0):
            raise CalibrationError("A distance matrix must be symmetric with a zero diagonal.")
        return pd.DataFrame(arr, index=labels, columns=labels)
    return distance_matrix(obj, metric=metric)


def distance_weights(
    coords_or_distance_matrix: pd.DataFrame | np.ndarray,
    *,
    kind: WeightKind = "inverse",
    bandwidth: float | None = None,
    power: float = 1.0,
    row_standardize: bool = True,
    metric: Metric = "euclidean",
) -> pd.DataFrame:
    """Build a spatial weights matrix from coordinates or a distance matrix.

    Parameters
    ----------
    coords_or_distance_matrix
        ``n x 2`` coordinates (see :func:`distance_matrix`) or an ``n x n`` symmetric
        distance matrix with zero diagonal (a labelled DataFrame keeps its labels).
    kind
        ``"inverse"``: ``w_ij = d_ij ** -power`` for ``0 < d_ij <= bandwidth`` (no cutoff
        when ``bandwidth`` is None). ``"exponential"``: ``w_ij = exp(-d_ij / bandwidth)``
        (``bandwidth`` required).
    bandwidth
        Cutoff distance (inverse) or decay distance (exponential), in distance units.
    power
        Exponent of inverse-distance weights.
    row_standardize
        Scale rows to sum to one; a row without neighbours stays zero (with a warning).
    metric
        Used only when coordinates are given.

    Returns
    -------
    pandas.DataFrame
        ``n x n`` weights with a zero diagonal, labelled like the input.

    Examples
    --------
    >>> w = distance_weights([[0, 0], [1, 0], [3, 0]], kind="inverse")
    >>> w.round(3).to_numpy().tolist()
    [[0.0, 0.75, 0.25], [0.667, 0.0, 0.333], [0.4, 0.6, 0.0]]
    """
    check_choice("kind", kind, WeightKind, error=CalibrationError)
    dist = _as_distances(coords_or_distance_matrix, metric)
    d = dist.to_numpy()
    if bandwidth is not None and not bandwidth > 0:
        raise CalibrationError(f"bandwidth must be positive, got {bandwidth}.")
    off = ~np.eye(len(d), dtype=bool)
    if kind == "inverse":
        if power <= 0:
            raise CalibrationError(f"power must be positive, got {power}.")
        if (d[off] == 0).any():
            raise CalibrationError(
                "Two distinct points coincide; inverse-distance weights are infinite."
            )
        with np.errstate(divide="ignore"):
            w = np.where(off, d**-power, 0.0)
        if bandwidth is not None:
            w = np.where(d <= bandwidth, w, 0.0)
    else:
        if bandwidth is None:
            raise CalibrationError("kind='exponential' needs a bandwidth (decay distance).")
        w = np.where(off, np.exp(-d / bandwidth), 0.0)
    if row_standardize:
        sums = w.sum(axis=1)
        empty = sums == 0
        if empty.any():
            names = [str(dist.index[i]) for i in np.flatnonzero(empty)[:5]]
            warnings.warn(
                f"{int(empty.sum())} unit(s) have no neighbour within the bandwidth "
                f"({', '.join(names)}); their rows stay zero.",
                TalentPlanWarning,
                stacklevel=2,
            )
        w = w / np.where(empty, 1.0, sums)[:, None]
    return pd.DataFrame(w, index=dist.index, columns=dist.columns)


def spatial_lag(panel: pd.DataFrame, weights: pd.DataFrame, *, prefix: str = "W*") -> pd.DataFrame:
    """Compute the spatial lags ``W x`` of every column, period by period.

    Parameters
    ----------
    panel
        Numeric columns indexed by (entity, time).
    weights
        ``n x n`` weights labelled by entity (rows: the unit whose lag is computed).
    prefix
        Prefix of the lag columns' names.

    Returns
    -------
    pandas.DataFrame
        One column ``<prefix><column>`` per column of ``panel``, on its index.

    Notes
    -----
    In a period where a neighbour has no row, it contributes zero (weights are not
    re-standardised), so an unbalanced panel gives lags that shrink where data are absent.
    """
    ents = pd.Index(panel.index.get_level_values(0).unique())
    missing = ents.difference(pd.Index(weights.index))
    if len(missing):
        raise CalibrationError(
            f"{len(missing)} entities have no row in the weights matrix, e.g. {list(missing[:5])}."
        )
    if list(weights.index) != list(weights.columns):
        raise CalibrationError("The weights matrix needs the same labels on rows and columns.")
    labels = list(weights.index)
    w = weights.to_numpy(dtype="float64")
    out = {}
    for col in panel.columns:
        wide = panel[col].unstack(level=0).reindex(columns=labels)
        lag = wide.fillna(0.0).to_numpy() @ w.T
        long = pd.DataFrame(lag, index=wide.index, columns=labels).T.stack()
        out[f"{prefix}{col}"] = long.reindex(panel.index)
    return pd.DataFrame(out, index=panel.index)
