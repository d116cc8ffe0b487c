"""Calibration specifications in TOML: what to estimate and which model keys it feeds.

A spec names the panel's entity and time columns and one or more estimations. Each
estimation says which estimator to run on which columns, with which options, and maps
some of its estimated parameters to allocation-model keys ``program:talent_type:effect``,
optionally through a transform::

    [panel]
    entity = "county"
    time = "year"

    [[estimation]]
    name = "retention"                 # a label, unique in the spec
    estimator = "panel"                # panel | iv | dynamic | staggered | spillover
    dependent = "log_outflow_rate"
    exog = ["centre", "wage"]
    options = { estimator = "twfe" }   # constructor options of the estimator
    fit = { cov_type = "clustered" }   # options of its fit()

    [[estimation.parameters]]
    name = "centre"                    # parameter name in the estimation result
    key = "centre:eng:retention"       # allocation-model key
    transform = "one_minus_exp"        # see TRANSFORMS
    lower = 0.0                        # optional admissible range (draws are clipped)
    upper = 1.0

Variables per estimator (lists of column names unless noted):

- ``panel`` (:class:`~talentplan.calibrate.panel.PanelRegression`): ``exog``.
- ``iv`` (:class:`~talentplan.calibrate.panel.PanelIV`): ``exog`` (may be empty),
  ``endog``, ``instruments``.
- ``dynamic`` (:class:`~talentplan.calibrate.dynamic.DynamicPanelGMM`): ``exog``,
  ``predetermined``, ``endogenous`` (all optional). The spec-only option
  ``time_dummies = true`` adds year dummies for the periods from ``lags + 2`` to the
  next-to-last (the others are not identified next to the constant) as exogenous
  regressors named ``year_<period>``; common shocks otherwise bias the estimator.
- ``staggered`` (:class:`~talentplan.calibrate.staggered.StaggeredDiD`): ``group`` (a
  column name, first treated period, 0 = never) and optional ``covariates``; the
  spec-only ``aggregate`` (``"simple"`` by default, or ``"group"``, ``"dynamic"``,
  ``"calendar"``) picks the aggregation whose effects are mapped; ``"simple"`` names its
  one effect ``overall``.
- ``spillover`` (:class:`~talentplan.calibrate.spatial.SpilloverPanel`): ``exog``,
  optional ``lags`` (spatially lagged regressors) and ``core_terms``; ``coords`` (two
  columns with each entity's coordinates) and a ``weights`` table (options of
  :func:`~talentplan.calibrate.spatial.distance_weights`: ``kind``, ``bandwidth``,
  ``power``, ``row_standardize``, ``metric``) build the weights; ``core_distance`` names
  the column with the distance to the core city (needed with ``core_terms``, together
  with ``options.decay_bandwidth``). Distances for Conley errors come from ``coords``.

Estimations are run separately; the covariance of parameters from different estimations
is set to zero (they are not estimated jointly).
"""

from __future__ import annotations

import inspect
import math
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from talentplan.calibrate.parameters import (
    Provenance,
    ResponseParameters,
    parse_key,
)
from talentplan.errors import CalibrationError

__all__ = [
    "TRANSFORMS",
    "CalibrationSpec",
    "EstimationSpec",
    "ParameterMap",
    "calibrate_command",
    "run_calibration",
    "simulated_panel_spec",
]

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
            "value = factor * b; factor is a number or 'mean:COLUMN' (the panel mean of "
            "COLUMN). A semi-elasticity d log(inflow)/d spend (spend in 10k yuan) times "
            "factor = 'mean:inflow' becomes persons per year per 10k yuan (effect 'inflow')"
        ),
    }
)
"""Transforms from an estimated coefficient ``b`` to a model value (delta-method
covariance: the covariance is scaled by the transforms' derivatives)."""

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
COMMON_KEYS = ("name", "estimator", "dependent", "options", "fit", "parameters")
PARAMETER_KEYS = ("name", "key", "transform", "factor", "lower", "upper")
# constructor arguments supplied by the spec itself (plus each estimator's variables),
# never through `options`
_RESERVED = {"data", "dependent", "outcome", "entity", "time", "weights", "distances"}
_WEIGHT_KEYS = ("kind", "bandwidth", "power", "row_standardize", "metric")


def _classes() -> dict[str, Any]:
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


def _option_names(fn: Callable[..., Any], skip: set[str]) -> list[str]:
    sig = inspect.signature(fn)
    return [n for n in sig.parameters if n not in skip and n != "self"]


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
        """The numeric factor of a ``scale`` transform (1 otherwise)."""
        if self.transform != "scale":
            return 1.0
        if isinstance(self.factor, str):
            col = self.factor[len("mean:") :]
            if col not in panel.columns:
                raise CalibrationError(
                    f"{where}: factor 'mean:{col}' names a column the panel lacks."
                )
            value = float(pd.to_numeric(panel[col], errors="coerce").mean())
            if not math.isfinite(value):
                raise CalibrationError(f"{where}: the mean of column '{col}' is not finite.")
            return value
        return float(self.factor)  # type: ignore[arg-type]

    def apply(self, b: float, factor: float) -> tuple[float, float]:
        """Transformed value and its derivative with respect to ``b``."""
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


@dataclass(frozen=True)
class EstimationSpec:
    """One estimation of a :class:`CalibrationSpec` (see the module docstring)."""

    name: str
    estimator: str
    dependent: str
    variables: Mapping[str, Any]
    options: Mapping[str, Any]
    fit: Mapping[str, Any]
    parameters: tuple[ParameterMap, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CalibrationSpec:
    """A validated calibration spec.

    Build one with :meth:`from_toml` (a file), :meth:`from_string` or :meth:`from_dict`;
    every problem raises :class:`~talentplan.errors.CalibrationError` naming the source
    and the key.

    Examples
    --------
    >>> spec = CalibrationSpec.from_string('''
    ... [panel]
    ... entity = "county"
    ... time = "year"
    ... [[estimation]]
    ... name = "subsidy"
    ... estimator = "iv"
    ... dependent = "inflow"
    ... endog = ["log_subsidy"]
    ... instruments = ["pairing"]
    ... [[estimation.parameters]]
    ... name = "log_subsidy"
    ... key = "subsidy:eng:inflow_log"
    ... ''')
    >>> [p.key for p in spec.estimations[0].parameters]
    ['subsidy:eng:inflow_log']
    """

    entity: str
    time: str
    estimations: tuple[EstimationSpec, ...]
    name: str = ""
    source: str = "<spec>"

    @property
    def keys(self) -> list[str]:
        """Every model key the spec produces, in order."""
        return [p.key for e in self.estimations for p in e.parameters]

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> CalibrationSpec:
        """Read and validate a spec file."""
        p = Path(path)
        if not p.is_file():
            raise CalibrationError(f"{p}: calibration spec not found.")
        try:
            doc = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise CalibrationError(f"{p}: not valid TOML ({exc}).") from None
        return cls.from_dict(doc, source=str(p))

    @classmethod
    def from_string(cls, text: str, *, source: str = "<string>") -> CalibrationSpec:
        """Parse and validate a spec given as TOML text."""
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CalibrationError(f"{source}: not valid TOML ({exc}).") from None
        return cls.from_dict(doc, source=source)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, source: str = "<spec>") -> CalibrationSpec:
        """Validate a parsed spec."""

        def fail(where: str, what: str) -> CalibrationError:
            return CalibrationError(f"{source}: {where}: {what}")

        unknown = set(doc) - {"panel", "estimation", "name", "description"}
        if unknown:
            raise fail(
                f"key '{sorted(unknown)[0]}'",
                "unknown top-level key; expected [panel], [[estimation]], name, description.",
            )
        panel = doc.get("panel")
        if not isinstance(panel, Mapping):
            raise fail("[panel]", "missing; give entity = '...' and time = '...' columns.")
        for k in panel:
            if k not in ("entity", "time"):
                raise fail(f"panel.{k}", "unknown key; expected 'entity' and 'time'.")
        for k in ("entity", "time"):
            if not isinstance(panel.get(k), str) or not panel[k]:
                raise fail(f"panel.{k}", "missing or not a column name (a string).")
        ests = doc.get("estimation")
        if not isinstance(ests, list) or not ests:
            raise fail("[[estimation]]", "missing; give at least one estimation.")
        built = tuple(_estimation(e, i, fail) for i, e in enumerate(ests))
        names = [e.name for e in built]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise fail("estimation.name", f"names must be unique; {dup[0]!r} repeats.")
        keys = [p.key for e in built for p in e.parameters]
        dupk = sorted({k for k in keys if keys.count(k) > 1})
        if dupk:
            raise fail("parameters.key", f"model key {dupk[0]!r} is mapped more than once.")
        name = doc.get("name", "")
        if not isinstance(name, str):
            raise fail("name", "must be a string.")
        return cls(
            entity=panel["entity"],
            time=panel["time"],
            estimations=built,
            name=name,
            source=source,
        )


def _str_list(value: Any, where: str, fail: Callable[[str, str], CalibrationError]) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or any(not isinstance(v, str) or not v for v in value):
        raise fail(where, "must be a list of column names (strings).")
    return list(value)


def _estimation(e: Any, i: int, fail: Callable[[str, str], CalibrationError]) -> EstimationSpec:
    if not isinstance(e, Mapping):
        raise fail(f"estimation[{i}]", "must be a table.")
    label = f"estimation[{i}]" + (f" ('{e['name']}')" if isinstance(e.get("name"), str) else "")
    name = e.get("name")
    if not isinstance(name, str) or not name:
        raise fail(f"{label}.name", "missing; give each estimation a name.")
    est = e.get("estimator")
    if est not in ESTIMATORS:
        raise fail(f"{label}.estimator", f"got {est!r}; expected one of {list(ESTIMATORS)}.")
    dep = e.get("dependent")
    if not isinstance(dep, str) or not dep:
        raise fail(f"{label}.dependent", "missing or not a column name.")
    allowed = set(COMMON_KEYS) | set(VARIABLES[est]) | set(EXTRA_KEYS.get(est, ()))
    for k in e:
        if k not in allowed:
            raise fail(
                f"{label}.{k}",
                f"unknown key for estimator '{est}'; allowed keys: {sorted(allowed)}.",
            )
    variables: dict[str, Any] = {}
    for var, (required, is_list) in VARIABLES[est].items():
        if var not in e:
            if required:
                raise fail(f"{label}.{var}", f"missing; estimator '{est}' needs it.")
            continue
        if is_list:
            variables[var] = _str_list(e[var], f"{label}.{var}", fail)
        else:
            if not isinstance(e[var], str) or not e[var]:
                raise fail(f"{label}.{var}", "must be a column name (a string).")
            variables[var] = e[var]
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
        if agg not in ("simple", "group", "dynamic", "calendar"):
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
    cls = _classes()[est]
    ctor_names = _option_names(cls.__init__, _RESERVED | set(VARIABLES[est]))
    fit_names = _option_names(cls.fit, set())
    options = _options(e.get("options", {}), ctor_names, f"{label}.options", fail)
    fit = _options(e.get("fit", {}), fit_names, f"{label}.fit", fail)
    params = e.get("parameters")
    if not isinstance(params, list) or not params:
        raise fail(
            f"{label}.parameters",
            "missing; map at least one estimated parameter to a model key "
            "([[estimation.parameters]] with name and key).",
        )
    maps = tuple(_parameter(p, j, label, fail) for j, p in enumerate(params))
    return EstimationSpec(
        name=name,
        estimator=est,
        dependent=dep,
        variables=variables,
        options=options,
        fit=fit,
        parameters=maps,
        extra=extra,
    )


def _options(
    value: Any, names: Sequence[str], where: str, fail: Callable[[str, str], CalibrationError]
) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise fail(where, "must be a table of options.")
    for k in value:
        if k not in names:
            raise fail(f"{where}.{k}", f"unknown option; allowed: {list(names)}.")
    return dict(value)


def _parameter(
    p: Any, j: int, label: str, fail: Callable[[str, str], CalibrationError]
) -> ParameterMap:
    where = f"{label}.parameters[{j}]"
    if not isinstance(p, Mapping):
        raise fail(where, "must be a table with name and key.")
    for k in p:
        if k not in PARAMETER_KEYS:
            raise fail(f"{where}.{k}", f"unknown key; allowed: {list(PARAMETER_KEYS)}.")
    name = p.get("name")
    if not isinstance(name, str) or not name:
        raise fail(f"{where}.name", "missing; the parameter's name in the estimation result.")
    key = p.get("key")
    if not isinstance(key, str):
        raise fail(f"{where}.key", "missing; a model key 'program:talent_type:effect'.")
    try:
        parse_key(key)
    except CalibrationError as exc:
        raise fail(f"{where}.key", str(exc)) from None
    transform = p.get("transform", "identity")
    if transform not in TRANSFORMS:
        raise fail(f"{where}.transform", f"got {transform!r}; expected one of {list(TRANSFORMS)}.")
    factor = p.get("factor")
    if transform == "scale":
        ok_num = isinstance(factor, int | float) and not isinstance(factor, bool)
        ok_str = isinstance(factor, str) and factor.startswith("mean:") and len(factor) > 5
        if not (ok_num and math.isfinite(float(factor))) and not ok_str:  # type: ignore[arg-type]
            raise fail(f"{where}.factor", "transform 'scale' needs a number or 'mean:COLUMN'.")
    elif factor is not None:
        raise fail(f"{where}.factor", "only the 'scale' transform takes a factor.")
    bounds: list[float | None] = []
    for b in ("lower", "upper"):
        v = p.get(b)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
            raise fail(f"{where}.{b}", "must be a number.")
        bounds.append(None if v is None else float(v))
    lo, hi = bounds
    if lo is not None and hi is not None and lo > hi:
        raise fail(f"{where}.lower", f"lower {lo} exceeds upper {hi}.")
    return ParameterMap(
        name=name,
        key=key,
        transform=transform,
        factor=None if factor is None else (factor if isinstance(factor, str) else float(factor)),
        lower=lo,
        upper=hi,
    )


# --- running a spec ----------------------------------------------------------------------


def _read_panel(panel: str | os.PathLike[str] | pd.DataFrame) -> tuple[pd.DataFrame, str]:
    if isinstance(panel, pd.DataFrame):
        return panel.copy(), "<DataFrame>"
    p = Path(panel)
    if not p.is_file():
        raise CalibrationError(f"{p}: panel CSV not found.")
    try:
        return pd.read_csv(p), str(p)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise CalibrationError(f"{p}: cannot read the panel CSV ({exc}).") from None


def _fit_one(e: EstimationSpec, spec: CalibrationSpec, data: pd.DataFrame) -> Any:
    cls = _classes()[e.estimator]
    v = dict(e.variables)
    ent, tim = spec.entity, spec.time
    for col in (ent, tim):
        if col not in data.columns:
            which = "entity" if col == ent else "time"
            raise CalibrationError(f"the panel has no column '{col}' (panel.{which}).")
    if e.estimator == "panel":
        model = cls(data, e.dependent, v["exog"], entity=ent, time=tim, **e.options)
        return model.fit(**e.fit)
    if e.estimator == "iv":
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
        return model.fit(**e.fit)
    if e.estimator == "dynamic":
        exog = list(v.get("exog", []))
        if e.extra.get("time_dummies"):
            data = data.copy()
            periods = sorted(data[tim].dropna().unique())
            lags = int(e.options.get("lags", 1))
            for per in periods[lags + 1 : -1]:
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
        return model.fit(**e.fit)
    if e.estimator == "staggered":
        model = cls(
            data, e.dependent, ent, tim, v["group"], covariates=v.get("covariates"), **e.options
        )
        return model.fit(**e.fit).aggregate(e.extra["aggregate"])
    # spillover
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
    model = cls(
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
    return model.fit(**e.fit)


def _pick(
    e: EstimationSpec, result: Any, data: pd.DataFrame
) -> tuple[list[str], np.ndarray, np.ndarray]:
    params = pd.Series(result.params)
    cov = pd.DataFrame(result.cov)
    params.index = params.index.map(str)
    cov.index, cov.columns = cov.index.map(str), cov.columns.map(str)
    names = [p.name for p in e.parameters]
    missing = [n for n in names if n not in params.index]
    if missing:
        raise CalibrationError(
            f"estimation '{e.name}': parameters.name {missing[0]!r} is not in the result; "
            f"its parameters are {list(params.index)}."
        )
    b = params[names].to_numpy(dtype="float64")
    c = cov.loc[names, names].to_numpy(dtype="float64")
    values, jac = [], []
    for pm, bi in zip(e.parameters, b, strict=True):
        factor = pm.resolve_factor(data, f"estimation '{e.name}', parameter '{pm.name}'")
        val, der = pm.apply(float(bi), factor)
        if not math.isfinite(val):
            raise CalibrationError(
                f"estimation '{e.name}': transform {pm.transform!r} of {pm.name!r} "
                f"({bi}) is not finite."
            )
        values.append(val)
        jac.append(der)
    j = np.diag(jac)
    return [p.key for p in e.parameters], np.array(values), j @ c @ j


def run_calibration(
    panel_csv: str | os.PathLike[str] | pd.DataFrame,
    spec_toml: str | os.PathLike[str] | CalibrationSpec,
) -> tuple[dict[str, Any], ResponseParameters]:
    """Run every estimation of a spec on a panel.

    Parameters
    ----------
    panel_csv
        Path of the panel CSV (one row per entity and period), or a DataFrame.
    spec_toml
        Path of the spec, or a :class:`CalibrationSpec`.

    Returns
    -------
    results : dict
        Estimation name -> its results object (for ``staggered``, the aggregation).
    params : ResponseParameters
        The mapped, transformed parameters with a block-diagonal covariance (delta
        method within an estimation, zero across estimations), bounds from the spec and
        provenance (panel hash, estimators and options).
    """
    spec = (
        spec_toml
        if isinstance(spec_toml, CalibrationSpec)
        else CalibrationSpec.from_toml(spec_toml)
    )
    data, origin = _read_panel(panel_csv)
    results: dict[str, Any] = {}
    keys: list[str] = []
    values: list[np.ndarray] = []
    covs: list[np.ndarray] = []
    for e in spec.estimations:
        try:
            res = _fit_one(e, spec, data)
        except CalibrationError as exc:
            raise type(exc)(f"{spec.source}: estimation '{e.name}': {exc}") from exc
        except TypeError as exc:  # a wrongly typed option reaches the estimator
            raise CalibrationError(
                f"{spec.source}: estimation '{e.name}': invalid option ({exc})."
            ) from exc
        results[e.name] = res
        k, v, c = _pick(e, res, data)
        keys += k
        values.append(v)
        covs.append(c)
    n = len(keys)
    cov = np.zeros((n, n))
    at = 0
    for c in covs:
        m = c.shape[0]
        cov[at : at + m, at : at + m] = c
        at += m
    bounds = {
        p.key: (p.lower, p.upper)
        for e in spec.estimations
        for p in e.parameters
        if p.lower is not None or p.upper is not None
    }
    options = {
        "spec": spec.source,
        "spec_name": spec.name,
        "panel": origin,
        "estimations": {
            e.name: {
                "estimator": e.estimator,
                "dependent": e.dependent,
                "options": dict(e.options),
                "fit": dict(e.fit),
                "parameters": {p.name: f"{p.key} ({p.transform})" for p in e.parameters},
            }
            for e in spec.estimations
        },
    }
    provenance = Provenance.capture(
        data=data,
        estimator="+".join(f"{e.estimator}:{e.name}" for e in spec.estimations),
        options=options,
    )
    params = ResponseParameters(
        pd.Series(np.concatenate(values), index=keys),
        pd.DataFrame(cov, index=keys, columns=keys),
        provenance,
        bounds=bounds,
    )
    return results, params


def calibrate_command(
    panel_csv: str | os.PathLike[str],
    spec_toml: str | os.PathLike[str],
    out_json: str | os.PathLike[str],
) -> ResponseParameters:
    """``talentplan calibrate PANEL.csv --spec SPEC.toml --out params.json``.

    Runs :func:`run_calibration` and writes the parameters to ``out_json`` atomically
    (:meth:`ResponseParameters.to_json`); nothing is written if any step fails.

    Returns
    -------
    ResponseParameters
        What was written.
    """
    out = Path(out_json)
    if not out.parent.exists():
        raise CalibrationError(f"{out}: the output folder {out.parent} does not exist.")
    _, params = run_calibration(panel_csv, spec_toml)
    params.to_json(out)
    return params


def simulated_panel_spec(
    *,
    service_key: str = "centre:eng:retention",
    subsidy_key: str = "subsidy:eng:inflow_log",
) -> CalibrationSpec:
    """The spec that calibrates the model keys from a :func:`simulate_panel` panel.

    Retention: two-way fixed effects of ``log_outflow_rate`` on ``centre`` and the siphon
    covariates, clustered by county, ``rho = 1 - exp(b)``. Subsidy: panel IV of
    ``inflow`` on ``log_subsidy`` instrumented by ``pairing``, county and year effects.
    The same spec ships as ``examples/calibration/spec.toml``.
    """
    text = SIMULATED_PANEL_SPEC.replace("centre:eng:retention", service_key).replace(
        "subsidy:eng:inflow_log", subsidy_key
    )
    return CalibrationSpec.from_string(text, source="simulated_panel_spec")


SIMULATED_PANEL_SPEC = """\
name = "talent panel: service retention and subsidy inflow"

[panel]
entity = "county"
time = "year"

# Service centres lower the outflow (attrition) rate: log r = ... + log(1 - rho) * centre.
[[estimation]]
name = "retention"
estimator = "panel"
dependent = "log_outflow_rate"
exog = ["centre", "wage", "W_wage", "core_pull"]
options = { estimator = "twfe" }
fit = { cov_type = "clustered" }

[[estimation.parameters]]
name = "centre"
key = "centre:eng:retention"
transform = "one_minus_exp"
lower = 0.0
upper = 1.0

# Subsidies raise inflow concavely: inflow = ... + beta * log(1 + spend / 10);
# spend is endogenous, counterpart-assistance pairing instruments it.
[[estimation]]
name = "subsidy"
estimator = "iv"
dependent = "inflow"
endog = ["log_subsidy"]
instruments = ["pairing"]
options = { entity_effects = true, time_effects = true }
fit = { cov_type = "clustered" }

[[estimation.parameters]]
name = "log_subsidy"
key = "subsidy:eng:inflow_log"
lower = 0.0
"""
