"""The estimators a calibration spec can run, and how each is fitted on a panel.

:data:`VARIABLES` lists the column arguments of each estimator, :data:`EXTRA_KEYS` its
spec-only keys (checked by :func:`extra_keys`); the allowed ``options`` and ``fit``
keys are read from the estimator's signatures (:func:`option_names`).
:func:`fit_estimation` builds and fits the estimator of one
:class:`~talentplan.calibrate.spec.EstimationSpec`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pandas as pd

from talentplan.errors import CalibrationError

if TYPE_CHECKING:
    from talentplan.calibrate.spec import EstimationSpec

__all__ = [
    "ESTIMATORS",
    "EXTRA_KEYS",
    "VARIABLES",
    "estimator_classes",
    "extra_keys",
    "fit_estimation",
    "option_names",
]

Fail = Callable[[str, str], CalibrationError]
"""Builds the error for a spec location and a problem."""

#: Variables each estimator takes: name -> (required, is a list).
VARIABLES: Mapping[str, Mapping[str, tuple[bool, bool]]] = MappingProxyType(
    {
        "panel": {"exog": (True, True)},
        "iv": {"exog": (False, True), "endog": (True, True), "instruments": (True, True)},
        "dynamic": {
            "exog": (False, True),
            "predetermined": (False, True),
            "endogenous": (False, True),
        },
        "staggered": {"group": (True, False), "covariates": (False, True)},
        "spillover": {
            "exog": (True, True),
            "lags": (False, True),
            "core_terms": (False, True),
            "coords": (False, True),
            "core_distance": (False, False),
        },
    }
)
ESTIMATORS = tuple(VARIABLES)
#: Estimation keys that are neither variables nor the common ones, per estimator.
EXTRA_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"dynamic": ("time_dummies",), "staggered": ("aggregate",), "spillover": ("weights",)}
)
# constructor arguments supplied by the spec itself (plus each estimator's variables),
# never through `options`
_RESERVED = {"data", "dependent", "outcome", "entity", "time", "weights", "distances"}
_WEIGHT_KEYS = ("kind", "bandwidth", "power", "row_standardize", "metric")
_AGGREGATES = ("simple", "group", "dynamic", "calendar")


def estimator_classes() -> dict[str, Any]:
    """Estimator name -> class (imported on first use)."""
    from talentplan.calibrate.dynamic import DynamicPanelGMM
    from talentplan.calibrate.panel import PanelIV, PanelRegression
    from talentplan.calibrate.spatial import SpilloverPanel
    from talentplan.calibrate.staggered import StaggeredDiD

    return {
        "panel": PanelRegression,
        "iv": PanelIV,
        "dynamic": DynamicPanelGMM,
        "staggered": StaggeredDiD,
        "spillover": SpilloverPanel,
    }


def _signature_names(fn: Callable[..., Any], skip: set[str]) -> list[str]:
    sig = inspect.signature(fn)
    return [n for n in sig.parameters if n not in skip and n != "self"]


def option_names(estimator: str) -> tuple[list[str], list[str]]:
    """Keys allowed in an estimation's ``options`` (constructor) and ``fit`` tables."""
    cls = estimator_classes()[estimator]
    ctor = _signature_names(cls.__init__, _RESERVED | set(VARIABLES[estimator]))
    return ctor, _signature_names(cls.fit, set())


def extra_keys(
    est: str, e: Mapping[str, Any], variables: Mapping[str, Any], label: str, fail: Fail
) -> dict[str, Any]:
    """Check the estimator-specific parts of an estimation table; its spec-only keys."""
    if est == "spillover":
        if "coords" in variables and len(variables["coords"]) != 2:
            raise fail(f"{label}.coords", "must name exactly two columns (x, y).")
        if "coords" not in variables:
            raise fail(f"{label}.coords", "missing; spillover weights need coordinates.")
        if variables.get("core_terms") and "core_distance" not in variables:
            raise fail(f"{label}.core_distance", "missing; core_terms need it.")
    extra: dict[str, Any] = {}
    if est == "dynamic" and "time_dummies" in e:
        if not isinstance(e["time_dummies"], bool):
            raise fail(f"{label}.time_dummies", "must be true or false.")
        extra["time_dummies"] = e["time_dummies"]
    if est == "staggered":
        agg = e.get("aggregate", "simple")
        if agg not in _AGGREGATES:
            raise fail(
                f"{label}.aggregate",
                f"got {agg!r}; expected 'simple', 'group', 'dynamic' or 'calendar'.",
            )
        extra["aggregate"] = agg
    if est == "spillover":
        w = e.get("weights", {})
        if not isinstance(w, Mapping):
            raise fail(f"{label}.weights", "must be a table of distance_weights options.")
        for k in w:
            if k not in _WEIGHT_KEYS:
                raise fail(f"{label}.weights.{k}", f"unknown option; allowed {list(_WEIGHT_KEYS)}.")
        extra["weights"] = dict(w)
    return extra


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
            data, e.dependent, ent, tim, v["group"], covariates=v.get("covariates"), **e.options
        )
        return model.fit(**e.fit).aggregate(e.extra["aggregate"])
    else:
        model = _spillover(cls, e, v, ent, tim, data)
    return model.fit(**e.fit)


def _spillover(
    cls: Any, e: EstimationSpec, v: Mapping[str, Any], ent: str, tim: str, data: pd.DataFrame
) -> Any:
    from talentplan.calibrate.spatial import distance_matrix, distance_weights

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
