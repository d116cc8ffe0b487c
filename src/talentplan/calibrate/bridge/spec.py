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
    lower = 0.0                        # optional admissible range: an estimate outside
                                       # it is an error, draws are clipped to it
    upper = 1.0

Variables per estimator (lists of column names unless noted):

- ``panel`` (:class:`~talentplan.calibrate.panel.model.PanelRegression`): ``exog``.
- ``iv`` (:class:`~talentplan.calibrate.panel.model.PanelIV`): ``exog`` (may be empty),
  ``endog``, ``instruments``.
- ``dynamic`` (:class:`~talentplan.calibrate.dynamic.model.DynamicPanelGMM`): ``exog``,
  ``predetermined``, ``endogenous`` (all optional). The spec-only option
  ``time_dummies = true`` adds year dummies as exogenous regressors named
  ``year_<period>``, for the periods from the first one with an equation to the
  next-to-last (the last is the base next to the constant): from period ``lags + 2``
  (counting from 1) for ``method = "difference"``, whose differenced equations start
  there, and from period ``lags + 1`` for ``method = "system"``, whose level equations
  start there. Common shocks otherwise bias the estimator.
- ``staggered`` (:class:`~talentplan.calibrate.staggered.model.StaggeredDiD`): ``group`` (a
  column name, first treated period, 0 = never), optional ``covariates`` and optional
  ``weights`` (a column of sampling weights); the
  spec-only ``aggregate`` (``"simple"`` by default, or ``"group"``, ``"dynamic"``,
  ``"calendar"``) picks the aggregation whose effects are mapped; ``"simple"`` names its
  one effect ``overall``. ``options`` takes the constructor's ``control``, ``method``
  and ``clustervars`` (a column to cluster on besides the entity).
- ``spillover`` (:class:`~talentplan.calibrate.spatial.model.SpilloverPanel`): ``exog``,
  optional ``lags`` (spatially lagged regressors) and ``core_terms``; ``coords`` (two
  columns with each entity's coordinates) and a ``weights`` table (options of
  :func:`~talentplan.calibrate.spatial.weights.distance_weights`: ``kind``, ``bandwidth``,
  ``power``, ``row_standardize``, ``metric``) build the weights; ``core_distance`` names
  the column with the distance to the core city (needed with ``core_terms``, together
  with ``options.decay_bandwidth``). Distances for Conley errors come from ``coords``.

Estimations are run separately; the covariance of parameters from different estimations
is set to zero (they are not estimated jointly).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from talentplan.calibrate.bridge.registry import (
    ESTIMATORS,
    EXTRA_KEYS,
    VARIABLES,
    Fail,
    extra_keys,
    option_names,
)
from talentplan.calibrate.bridge.transforms import TRANSFORMS, ParameterMap
from talentplan.data.provenance import parse_key
from talentplan.errors import CalibrationError

# The transforms live in transforms.py, the estimators' variables and options in
# registry.py, fitting in dispatch.py, and running a spec in run.py (run_calibration,
# calibrate_command).

__all__ = [
    "SIMULATED_PANEL_SPEC",
    "CalibrationSpec",
    "EstimationSpec",
    "simulated_panel_spec",
]

COMMON_KEYS = ("name", "estimator", "dependent", "options", "fit", "parameters")
PARAMETER_KEYS = ("name", "key", "transform", "factor", "lower", "upper")


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
    #: SHA-256 of the spec text (:meth:`from_toml`, :meth:`from_string`), or of the
    #: canonical JSON of the parsed document (:meth:`from_dict`).
    sha256: str = ""

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
        text = p.read_text(encoding="utf-8")
        spec = cls.from_dict(_loads(text, str(p)), source=str(p))
        return replace(spec, sha256=_sha256(text))

    @classmethod
    def from_string(cls, text: str, *, source: str = "<string>") -> CalibrationSpec:
        """Parse and validate a spec given as TOML text."""
        return replace(cls.from_dict(_loads(text, source), source=source), sha256=_sha256(text))

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
            sha256=_sha256(json.dumps(doc, sort_keys=True, default=str)),
        )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _loads(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CalibrationError(f"{source}: not valid TOML ({exc}).") from None


def _str_list(value: Any, where: str, fail: Fail) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or any(not isinstance(v, str) or not v for v in value):
        raise fail(where, "must be a list of column names (strings).")
    return list(value)


def _estimation(e: Any, i: int, fail: Fail) -> EstimationSpec:
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
    extra = extra_keys(est, e, variables, label, fail)
    ctor_names, fit_names = option_names(est)
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


def _options(value: Any, names: Sequence[str], where: str, fail: Fail) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise fail(where, "must be a table of options.")
    for k in value:
        if k not in names:
            raise fail(f"{where}.{k}", f"unknown option; allowed: {list(names)}.")
    return dict(value)


def _parameter(p: Any, j: int, label: str, fail: Fail) -> ParameterMap:
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


def simulated_panel_spec(
    *,
    service_key: str = "centre:eng:retention",
    subsidy_key: str = "subsidy:eng:inflow_log",
) -> CalibrationSpec:
    """Build the spec that calibrates the model keys from a :func:`simulate_panel` panel.

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
