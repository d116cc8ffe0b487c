"""Calibrated response parameters applied to an instance.

An instance's responses table holds one value per (program, talent type, effect);
:func:`apply_parameters` replaces them with calibrated estimates (a
:class:`~talentplan.data.parameters.ResponseParameters` or a plain mapping), and
:func:`with_response_parameters` does so for the parameter file a scenario references
(``response_parameters = "params.json"`` in ``scenario.toml``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from talentplan.data.instance import Instance
from talentplan.data.parameters import ResponseParameters
from talentplan.data.provenance import parse_key
from talentplan.errors import CalibrationError, InstanceError, TalentPlanWarning

__all__ = ["apply_parameters", "with_response_parameters"]

_SHARES = ("retention", "graduate_retention")


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
    keyed with ``-`` in its place, e.g. ``alliance:-:graduate_retention``.

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
        for that program), or an inadmissible value without ``clip``.

    Examples
    --------
    >>> import talentplan as tp
    >>> inst = apply_parameters(tp.load_instance("qingyuan"), {"honours:engineer:retention": 0.2})
    >>> r = inst.tables["responses"]
    >>> float(r.loc[(r.program == "honours") & (r.talent_type == "engineer"), "value"].iloc[0])
    0.2
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
    clipped = []
    for key, value in values.items():
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
    return instance.replace_tables(responses=responses)


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
