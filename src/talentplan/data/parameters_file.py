"""The JSON file format of :class:`~talentplan.data.parameters.ResponseParameters`.

A document has ``format``, ``version``, ``parameters`` (one object per key with its
parts, ``value`` and ``std_error``), ``cov`` (a list of lists in key order), ``bounds``
and ``provenance``. :func:`parse_document` validates every field and names the one at
fault. :meth:`ResponseParameters.to_dict` writes the format.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from talentplan.data.provenance import Provenance, parse_key
from talentplan.errors import CalibrationError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "parse_document",
    "read_document",
]

FORMAT = "talentplan.response_parameters"
FORMAT_VERSION = 1

Bounds = dict[str, tuple[float | None, float | None]]


def read_document(path: str | os.PathLike[str]) -> tuple[Any, str]:
    """Read and parse the JSON file ``path``; return the document and its name for messages."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CalibrationError(f"{p}: not valid JSON ({exc}).") from None
    return doc, str(p)


def parse_document(
    doc: Mapping[str, Any], source: str
) -> tuple[list[str], list[float], np.ndarray, Provenance, Bounds]:
    """Keys, values, covariance, provenance and bounds of a document, field by field."""

    def fail(fieldname: str, what: str) -> CalibrationError:
        return CalibrationError(f"{source}: field '{fieldname}': {what}")

    if not isinstance(doc, Mapping):
        raise CalibrationError(f"{source}: expected a JSON object at the top level.")
    if doc.get("format") != FORMAT:
        raise fail("format", f"expected {FORMAT!r}, got {doc.get('format')!r}.")
    if doc.get("version") != FORMAT_VERSION:
        raise fail("version", f"expected {FORMAT_VERSION}, got {doc.get('version')!r}.")
    params = doc.get("parameters")
    if not isinstance(params, list) or not params:
        raise fail("parameters", "expected a non-empty list.")
    keys, values = [], []
    for i, p in enumerate(params):
        where = f"parameters[{i}]"
        if not isinstance(p, Mapping):
            raise fail(where, "expected an object.")
        for name in ("key", "value"):
            if name not in p:
                raise fail(f"{where}.{name}", "missing.")
        try:
            parts = parse_key(p["key"])
        except CalibrationError as exc:
            raise fail(f"{where}.key", str(exc)) from None
        for j, name in enumerate(("program", "talent_type", "effect")):
            if name in p and p[name] != parts[j]:
                raise fail(f"{where}.{name}", f"{p[name]!r} disagrees with key {p['key']!r}.")
        v = p["value"]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise fail(f"{where}.value", f"expected a finite number, got {v!r}.")
        keys.append(p["key"])
        values.append(float(v))
    cov = doc.get("cov")
    k = len(keys)
    if (
        not isinstance(cov, list)
        or len(cov) != k
        or any(not isinstance(r, list) or len(r) != k for r in cov)
    ):
        raise fail("cov", f"expected a {k} x {k} list of lists.")
    try:
        c = np.array(cov, dtype="float64")
    except (TypeError, ValueError):
        raise fail("cov", "entries must be numbers.") from None
    prov = doc.get("provenance")
    if not isinstance(prov, Mapping):
        raise fail("provenance", "expected an object.")
    for name in ("estimator", "timestamp"):
        if not isinstance(prov.get(name), str):
            raise fail(f"provenance.{name}", "expected a string.")
    dh = prov.get("data_hash")
    if dh is not None and (not isinstance(dh, str) or len(dh) != 64):
        raise fail("provenance.data_hash", "expected null or a 64-character sha256 hex.")
    for name in ("options", "versions"):
        if not isinstance(prov.get(name, {}), Mapping):
            raise fail(f"provenance.{name}", "expected an object.")
    provenance = Provenance(
        data_hash=dh,
        estimator=prov["estimator"],
        options=dict(prov.get("options", {})),
        versions=dict(prov.get("versions", {})),
        timestamp=prov["timestamp"],
    )
    bounds_doc = doc.get("bounds", {})
    if not isinstance(bounds_doc, Mapping):
        raise fail("bounds", "expected an object.")
    bounds: Bounds = {}
    for key, b in bounds_doc.items():
        if not isinstance(b, Sequence) or isinstance(b, str) or len(b) != 2:
            raise fail(f"bounds.{key}", "expected [lower, upper] (null for unbounded).")
        for side, v in zip(("lower", "upper"), b, strict=True):
            ok = v is None or (
                isinstance(v, int | float) and not isinstance(v, bool) and not math.isnan(v)
            )
            if not ok:
                raise fail(f"bounds.{key}.{side}", f"expected a number or null, got {v!r}.")
        bounds[key] = (b[0], b[1])
    return keys, values, c, provenance, bounds
