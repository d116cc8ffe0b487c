"""Calibrated response parameters applied to an instance.

An instance's responses table holds one value per (program, talent type, effect);
:func:`apply_parameters` replaces them with calibrated estimates (a
:class:`~talentplan.data.parameters.ResponseParameters` or a plain mapping), and
:func:`with_response_parameters` does so for the parameter file a scenario references
(``response_parameters = "params.json"`` in ``scenario.toml``).

The same estimates may carry the market's own inflow, the talent who arrive each year
without any program (``market_inflow`` of ``stocks.csv``, persons a year), under keys
``market:<county>:<talent_type>`` (:data:`MARKET`): what a county-type panel estimates as
the yearly arrivals of the type in the county absent programs (the intercept of its
inflow, or of its stock change plus the attrition). Such a value replaces the
``market_inflow`` of that county and type.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from talentplan.data.instance import Instance
from talentplan.data.parameters import ResponseParameters
from talentplan.data.provenance import parse_key
from talentplan.errors import CalibrationError, InstanceError, TalentPlanWarning

__all__ = ["MARKET", "apply_parameters", "with_response_parameters"]

_SHARES = ("retention", "graduate_retention")

MARKET = "market"
"""First part of the keys ``market:<county>:<talent_type>`` that set the market inflow."""


def apply_parameters(
    instance: Instance,
    params: ResponseParameters | Mapping[str, float],
    *,
    clip: bool = False,
    source: str | None = None,
) -> Instance:
    """Return a copy of ``instance`` whose responses take the values of ``params``.

    Each key ``program:talent_type:effect`` replaces the ``value`` of the matching row of
    the responses table (its ``scale`` is kept); the ``source`` column records where the
    value came from. A response with a blank talent type (``graduate_retention``) is
    keyed with ``-`` in its place, e.g. ``alliance:-:graduate_retention``. A key
    ``market:<county>:<talent_type>`` replaces the ``market_inflow`` (persons a year,
    ``>= 0``) of that county and type in the stocks table.

    Parameters
    ----------
    instance
        The planning instance.
    params
        Calibrated parameters, or a plain ``{key: value}`` mapping (for example one row
        of :meth:`ResponseParameters.draw`).
    clip
        Clip values outside the admissible range of the effect (``>= 0``; shares
        ``retention`` and ``graduate_retention`` at most 1) with a warning, instead of
        raising.
    source
        Text for the ``source`` column; default names the estimator and data hash.

    Raises
    ------
    CalibrationError
        A key the instance has no response row for (the message lists the rows it has
        for that program), a market key naming a county or talent type the instance
        lacks (the message lists those it has), a market key in an instance with a
        program named ``market`` (ambiguous), or an inadmissible value without ``clip``.

    Examples
    --------
    >>> import talentplan as tp
    >>> inst = apply_parameters(tp.load_instance("qingyuan"), {"honours:engineer:retention": 0.2})
    >>> r = inst.tables["responses"]
    >>> float(r.loc[(r.program == "honours") & (r.talent_type == "engineer"), "value"].iloc[0])
    0.2
    >>> inst = apply_parameters(tp.load_instance("qingyuan"), {"market:Fogang:engineer": 80.0})
    >>> s = inst.tables["stocks"].set_index(["county", "talent_type"])
    >>> float(s.loc[("Fogang", "engineer"), "market_inflow"])
    80.0
    """
    if isinstance(params, ResponseParameters):
        values = params.estimates.to_dict()
        if source is None:
            prov = params.provenance
            tag = f", data {prov.data_hash[:12]}" if prov.data_hash else ""
            source = f"calibrated ({prov.estimator}{tag})"
    else:
        values = {str(k): float(v) for k, v in params.items()}
        source = source or "calibrated"
    responses = instance.tables["responses"].copy()
    market = {k: v for k, v in values.items() if parse_key(k)[0] == MARKET}
    clipped: list[str] = []
    stocks = _with_market_inflow(instance, market, clip, clipped) if market else None
    for key, value in values.items():
        if key in market:
            continue
        program, talent_type, effect = parse_key(key)
        tt = "" if talent_type == "-" else talent_type
        rows = (
            (responses["program"] == program)
            & (responses["talent_type"].fillna("") == tt)
            & (responses["effect"] == effect)
        )
        if not rows.any():
            have = responses.loc[responses["program"] == program]
            listed = [
                f"{p}:{t}:{e}" for p, t, e in have[["program", "talent_type", "effect"]].values
            ]
            hint = (
                f"its rows for program '{program}' are {listed}"
                if listed
                else (f"it has no response rows for program '{program}'")
            )
            raise CalibrationError(
                f"parameter {key!r}: the instance '{instance.scenario.name}' has no response "
                f"row (program={program!r}, talent_type={tt!r}, effect={effect!r}); {hint}."
            )
        v = float(value)
        hi = 1.0 if effect in _SHARES else np.inf
        if not (0.0 <= v <= hi):
            if not clip:
                raise CalibrationError(
                    f"parameter {key!r} = {v:.6g} is outside the admissible range "
                    f"[0, {hi:g}] of effect '{effect}'; pass clip=True to clip it."
                )
            clipped.append(f"{key} = {v:.6g}")
            v = float(np.clip(v, 0.0, hi))
        responses.loc[rows, "value"] = v
        responses.loc[rows, "source"] = source
    if clipped:
        warnings.warn(
            f"{len(clipped)} parameter(s) clipped to their admissible range: " + "; ".join(clipped),
            TalentPlanWarning,
            stacklevel=2,
        )
    if stocks is not None:
        return instance.replace_tables(responses=responses, stocks=stocks)
    return instance.replace_tables(responses=responses)


def _with_market_inflow(
    instance: Instance, values: Mapping[str, float], clip: bool, clipped: list[str]
) -> pd.DataFrame:
    """Return the stocks table with the ``market:<county>:<talent_type>`` values applied."""
    name = instance.scenario.name
    programs = instance.tables["programs"]["program"].astype(str)
    if (programs == MARKET).any():
        raise CalibrationError(
            f"the instance '{name}' has a program named '{MARKET}', so the keys "
            f"'{MARKET}:...' are ambiguous; rename the program to calibrate it or its "
            "market inflow."
        )
    stocks = instance.tables["stocks"].copy()
    counties = [str(c) for c in instance.tables["counties"]["county"]]
    types = [str(t) for t in instance.tables["talent_types"]["talent_type"]]
    for key, value in values.items():
        _, county, talent_type = parse_key(key)
        if county not in counties:
            raise CalibrationError(
                f"parameter {key!r}: the instance '{name}' has no county {county!r}; a "
                f"market inflow is keyed '{MARKET}:<county>:<talent_type>' with a county "
                f"of {counties}."
            )
        if talent_type not in types:
            raise CalibrationError(
                f"parameter {key!r}: the instance '{name}' has no talent type "
                f"{talent_type!r}; a market inflow is keyed "
                f"'{MARKET}:<county>:<talent_type>' with a type of {types}."
            )
        rows = (stocks["county"] == county) & (stocks["talent_type"] == talent_type)
        if not rows.any():
            raise CalibrationError(
                f"parameter {key!r}: the instance '{name}' has no stocks row for county "
                f"{county!r} and type {talent_type!r} to take its market inflow."
            )
        v = float(value)
        if not (0.0 <= v < np.inf):
            if not clip:
                raise CalibrationError(
                    f"parameter {key!r} = {v:.6g} is outside the admissible range [0, inf) "
                    "of a market inflow (persons a year); pass clip=True to clip it."
                )
            clipped.append(f"{key} = {v:.6g}")
            v = max(v, 0.0)
        stocks.loc[rows, "market_inflow"] = v
    return stocks


def with_response_parameters(instance: Instance, folder: Path, label: str) -> Instance:
    """Apply the calibrated parameters the scenario references, if any.

    The estimates replace the matching response values (their ``source`` column names the
    file, estimator and data hash) and the reference is cleared, so the instance is
    self-contained when written elsewhere.
    """
    ref = instance.scenario.response_parameters
    if not ref:
        return instance
    path = (folder / ref).resolve()
    try:
        params = ResponseParameters.from_json(path)
        applied = apply_parameters(instance, params, source=f"calibrated: {ref}")
    except FileNotFoundError:
        raise InstanceError(
            f"response parameters file '{path}' not found",
            file=label,
            column="response_parameters",
            value=ref,
        ) from None
    except (CalibrationError, ValueError) as exc:
        raise InstanceError(
            f"cannot apply response parameters from '{ref}': {exc}",
            file=label,
            column="response_parameters",
            value=ref,
        ) from None
    return applied.replace_scenario(response_parameters="")
