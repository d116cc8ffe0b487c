"""Running a calibration spec: estimate, transform, and write the response parameters.

:func:`run_calibration` fits every estimation of a
:class:`~talentplan.calibrate.bridge.spec.CalibrationSpec` on a panel and maps the results to
:class:`~talentplan.data.parameters.ResponseParameters`; :func:`calibrate_command`
is the ``talentplan calibrate`` command around it.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from talentplan.calibrate.bridge.dispatch import fit_estimation
from talentplan.calibrate.bridge.spec import CalibrationSpec, EstimationSpec
from talentplan.calibrate.bridge.transforms import block_diagonal, transform_estimates
from talentplan.data.parameters import ResponseParameters
from talentplan.data.provenance import Provenance
from talentplan.errors import CalibrationError

__all__ = ["calibrate_command", "run_calibration"]


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


def _sample_columns(e: EstimationSpec, data: pd.DataFrame) -> list[str]:
    """List the dependent and every column an estimation names that the panel has."""
    cols = [e.dependent]
    for v in e.variables.values():
        cols += [v] if isinstance(v, str) else list(v)
    return [c for c in dict.fromkeys(cols) if c in data.columns]


def _estimation_sample(e: EstimationSpec, data: pd.DataFrame) -> pd.DataFrame:
    """Select the rows where the dependent and every column the estimation names are observed."""
    return data.loc[data[_sample_columns(e, data)].notna().all(axis=1)]


def _provenance(
    spec: CalibrationSpec,
    data: pd.DataFrame,
    origin: str,
    factors: dict[str, list[float]],
    results: dict[str, Any],
) -> Provenance:
    def record(e: EstimationSpec) -> dict[str, Any]:
        res = results.get(e.name)
        return {
            "estimator": e.estimator,
            "dependent": e.dependent,
            "variables": {k: v if isinstance(v, str) else list(v) for k, v in e.variables.items()},
            "extra": copy.deepcopy(dict(e.extra)),
            "options": dict(e.options),
            "fit": dict(e.fit),
            "result_options": dict(getattr(res, "provenance_options", {}) or {}),
            "parameters": {
                p.name: {
                    "key": p.key,
                    "transform": p.transform,
                    "factor": p.factor,
                    "factor_resolved": f,
                    "lower": p.lower,
                    "upper": p.upper,
                }
                for p, f in zip(e.parameters, factors.get(e.name, []), strict=False)
            },
        }

    options = {
        "spec": spec.source,
        "spec_name": spec.name,
        "spec_sha256": spec.sha256,
        "panel": origin,
        "entity": spec.entity,
        "time": spec.time,
        "estimations": {e.name: record(e) for e in spec.estimations},
    }
    return Provenance.capture(
        data=data,
        estimator="+".join(f"{e.estimator}:{e.name}" for e in spec.estimations),
        options=options,
    )


def run_calibration(
    panel_csv: str | os.PathLike[str] | pd.DataFrame,
    spec_toml: str | os.PathLike[str] | CalibrationSpec,
    *,
    clip: bool = False,
) -> tuple[dict[str, Any], ResponseParameters]:
    """Run every estimation of a spec on a panel.

    Parameters
    ----------
    panel_csv
        Path of the panel CSV (one row per entity and period), or a DataFrame.
    spec_toml
        Path of the spec, or a :class:`CalibrationSpec`.
    clip
        A transformed estimate outside the bounds its parameter map gives raises
        :class:`~talentplan.errors.CalibrationError`; ``clip=True`` clips it instead
        (with a warning).

    Returns
    -------
    results : dict
        Estimation name -> its results object (for ``staggered``, the aggregation).
    params : ResponseParameters
        The mapped, transformed parameters with a block-diagonal covariance (delta
        method within an estimation, zero across estimations), bounds from the spec and
        provenance: panel hash, spec hash, panel entity/time, and per estimation its
        variables, spec-only keys, options, fit options, the options its results report
        (``provenance_options``) and each parameter map (transform, factor as written
        and as resolved, bounds); versions of the numerical packages.
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
    factors: dict[str, list[float]] = {}
    for e in spec.estimations:
        try:
            res = fit_estimation(e, spec.entity, spec.time, data)
        except CalibrationError as exc:
            raise type(exc)(f"{spec.source}: estimation '{e.name}': {exc}") from exc
        except TypeError as exc:  # a wrongly typed option reaches the estimator
            raise CalibrationError(
                f"{spec.source}: estimation '{e.name}': invalid option ({exc})."
            ) from exc
        results[e.name] = res
        k, v, c, f = transform_estimates(e.name, e.parameters, res, _estimation_sample(e, data))
        factors[e.name] = f
        keys += k
        values.append(v)
        covs.append(c)
    bounds = {
        p.key: (p.lower, p.upper)
        for e in spec.estimations
        for p in e.parameters
        if p.lower is not None or p.upper is not None
    }
    params = ResponseParameters(
        pd.Series(np.concatenate(values), index=keys),
        pd.DataFrame(block_diagonal(covs), index=keys, columns=keys),
        _provenance(spec, data, origin, factors, results),
        bounds=bounds,
        clip=clip,
    )
    return results, params


def calibrate_command(
    panel_csv: str | os.PathLike[str],
    spec_toml: str | os.PathLike[str],
    out_json: str | os.PathLike[str],
) -> ResponseParameters:
    """Calibrate a panel with a spec and write the parameters as JSON.

    The ``talentplan calibrate PANEL.csv --spec SPEC.toml --out params.json`` command.

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
