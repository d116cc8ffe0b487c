"""The estimators a calibration spec can name, and what each of them accepts.

:data:`VARIABLES` lists the column arguments of each estimator and :data:`EXTRA_KEYS`
its spec-only keys (checked by :func:`extra_keys`); the allowed ``options`` and ``fit``
keys are read from the estimators' signatures (:func:`option_names`), so a spec accepts
exactly what the estimator does. :mod:`talentplan.calibrate.bridge.spec` validates a
spec against this registry and :mod:`talentplan.calibrate.bridge.dispatch` fits it.

The estimator classes are imported on first use (:func:`estimator_classes`), so reading
this module does not load linearmodels or scipy.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from talentplan._options import choices
from talentplan.errors import CalibrationError

__all__ = [
    "ESTIMATORS",
    "EXTRA_KEYS",
    "VARIABLES",
    "Fail",
    "estimator_classes",
    "extra_keys",
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
        "staggered": {
            "group": (True, False),
            "covariates": (False, True),
            "weights": (False, False),
        },
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


def estimator_classes() -> dict[str, Any]:
    """Map each estimator name to its class, importing the classes on first use."""
    from talentplan.calibrate.dynamic.model import DynamicPanelGMM
    from talentplan.calibrate.panel.model import PanelIV, PanelRegression
    from talentplan.calibrate.spatial.model import SpilloverPanel
    from talentplan.calibrate.staggered.model import StaggeredDiD

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
    """Return the keys allowed in an estimation's ``options`` and ``fit`` tables.

    Parameters
    ----------
    estimator
        One of :data:`ESTIMATORS`.

    Returns
    -------
    (list of str, list of str)
        The estimator's constructor arguments that a spec may set (its data, identifier
        and variable arguments excluded) and the arguments of its ``fit``.
    """
    cls = estimator_classes()[estimator]
    ctor = _signature_names(cls.__init__, _RESERVED | set(VARIABLES[estimator]))
    return ctor, _signature_names(cls.fit, set())


def extra_keys(
    est: str, e: Mapping[str, Any], variables: Mapping[str, Any], label: str, fail: Fail
) -> dict[str, Any]:
    """Check the estimator-specific keys of an estimation table; return its spec-only keys.

    Parameters
    ----------
    est
        The estimator's name.
    e
        The estimation table as parsed.
    variables
        Its validated variables.
    label
        The estimation's location, for messages.
    fail
        Builds the error for a location and a problem.

    Returns
    -------
    dict
        ``time_dummies`` (dynamic), ``aggregate`` (staggered) or ``weights``
        (spillover), when they apply.
    """
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
        # imported here, as the estimator classes are, to keep this module light
        from talentplan.calibrate.staggered.estimators import AggKind

        agg = e.get("aggregate", "simple")
        if agg not in choices(AggKind):
            raise fail(
                f"{label}.aggregate", f"got {agg!r}; expected one of {list(choices(AggKind))}."
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
