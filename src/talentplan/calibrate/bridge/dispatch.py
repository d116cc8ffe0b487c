"""Fit the estimation of a calibration spec with the estimator it names.

:func:`fit_estimation` builds the estimator of one
:class:`~talentplan.calibrate.bridge.spec.EstimationSpec` on a panel (adding year
dummies for ``dynamic``, spatial weights from coordinates for ``spillover``), fits it
with the spec's ``fit`` options and returns the results
(:mod:`talentplan.calibrate.bridge.registry` says which estimators exist).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from talentplan.calibrate.bridge.registry import estimator_classes
from talentplan.calibrate.bridge.spec import EstimationSpec
from talentplan.calibrate.spatial.weights import distance_matrix, distance_weights
from talentplan.errors import CalibrationError

__all__ = ["fit_estimation"]


def fit_estimation(e: EstimationSpec, entity: str, time: str, data: pd.DataFrame) -> Any:
    """Build and fit the estimator of ``e`` on ``data``.

    Returns its results; for ``staggered``, the aggregation the spec names.
    """
    cls = estimator_classes()[e.estimator]
    v = dict(e.variables)
    ent, tim = entity, time
    for col in (ent, tim):
        if col not in data.columns:
            which = "entity" if col == ent else "time"
            raise CalibrationError(f"the panel has no column '{col}' (panel.{which}).")
    if e.estimator == "panel":
        model = cls(data, e.dependent, v["exog"], entity=ent, time=tim, **e.options)
    elif e.estimator == "iv":
        model = cls(
            data,
            e.dependent,
            v.get("exog", []),
            v["endog"],
            v["instruments"],
            entity=ent,
            time=tim,
            **e.options,
        )
    elif e.estimator == "dynamic":
        exog = list(v.get("exog", []))
        if e.extra.get("time_dummies"):
            data = data.copy()
            periods = sorted(data[tim].dropna().unique())
            lags = int(e.options.get("lags", 1))
            # the differenced equations start at period index lags + 1, the level
            # equations of system GMM at index lags; the last period is the base
            first = lags if e.options.get("method", "difference") == "system" else lags + 1
            for per in periods[first:-1]:
                col = f"year_{per}"
                data[col] = (data[tim] == per).astype(float)
                exog.append(col)
        model = cls(
            data,
            e.dependent,
            exog=exog or None,
            predetermined=v.get("predetermined"),
            endogenous=v.get("endogenous"),
            entity=ent,
            time=tim,
            **e.options,
        )
    elif e.estimator == "staggered":
        model = cls(
            data,
            e.dependent,
            ent,
            tim,
            v["group"],
            covariates=v.get("covariates"),
            weights=v.get("weights"),
            **e.options,
        )
        return model.fit(**e.fit).aggregate(e.extra["aggregate"])
    else:
        model = _spillover(cls, e, v, ent, tim, data)
    return model.fit(**e.fit)


def _spillover(
    cls: Any, e: EstimationSpec, v: Mapping[str, Any], ent: str, tim: str, data: pd.DataFrame
) -> Any:
    cx, cy = v["coords"]
    for name in (cx, cy, v.get("core_distance")):
        if name is not None and name not in data.columns:
            raise CalibrationError(f"the panel has no column '{name}'.")
    first = data.drop_duplicates(ent).set_index(ent)
    coords = first[[cx, cy]].astype(float)
    varies = data.groupby(ent)[[cx, cy]].nunique().max().max()
    if varies > 1:
        raise CalibrationError(f"coordinates {cx!r}, {cy!r} must be constant within entity.")
    w_opts = dict(e.extra.get("weights", {}))
    metric = w_opts.get("metric", "euclidean")
    weights = distance_weights(coords, **w_opts)
    core = first[v["core_distance"]].astype(float) if "core_distance" in v else None
    distances = (
        distance_matrix(coords, metric=metric) if e.fit.get("cov_type") == "conley" else None
    )
    return cls(
        data,
        e.dependent,
        v["exog"],
        weights,
        lags=v.get("lags"),
        core_distance=core,
        core_terms=v.get("core_terms", ()),
        distances=distances,
        entity=ent,
        time=tim,
        **e.options,
    )
