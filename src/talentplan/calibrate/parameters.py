"""Calibrated response parameters: the bridge from estimation to the allocation model.

A :class:`ResponseParameters` holds named estimates, their covariance and their
provenance. Names use the key format ``program:talent_type:effect``, for example
``"skill_studio:craftsman:retention"``: the program, the talent type and the effect it
has, separated by colons (no part may be empty or contain a colon). :meth:`to_frame`
splits the keys into the ``program``, ``talent_type`` and ``effect`` columns the
allocation model's responses table is keyed by, with the numeric ``value``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from talentplan._display import DisplayMixin
from talentplan.errors import CalibrationError

__all__ = ["Provenance", "ResponseParameters", "panel_hash", "parse_key"]

FORMAT = "talentplan.response_parameters"
FORMAT_VERSION = 1


def parse_key(key: str) -> tuple[str, str, str]:
    """Split ``"program:talent_type:effect"`` into its three parts.

    Raises
    ------
    CalibrationError
        When the key does not have exactly three non-empty parts.

    Examples
    --------
    >>> parse_key("head_goose:rural_talent:inflow")
    ('head_goose', 'rural_talent', 'inflow')
    """
    if not isinstance(key, str):
        raise CalibrationError(f"Parameter key {key!r} must be a string.")
    parts = key.split(":")
    if len(parts) != 3 or any(not p.strip() or p != p.strip() for p in parts):
        raise CalibrationError(
            f"Parameter key {key!r} is not of the form 'program:talent_type:effect' (three "
            "non-empty parts without surrounding spaces, separated by colons)."
        )
    return parts[0], parts[1], parts[2]


def panel_hash(data: pd.DataFrame) -> str:
    """SHA-256 of a panel's canonical CSV bytes.

    Canonical form: the index is written as columns, columns are sorted by name, rows
    are sorted by every column in that order, floats are written with 17 significant
    digits, UTF-8, ``\\n`` line endings. Row and column order therefore do not change
    the hash; any value does.
    """
    frame = data.reset_index() if _has_named_index(data) else data.reset_index(drop=True)
    frame = frame[sorted(frame.columns, key=str)]
    frame = frame.sort_values(list(frame.columns), kind="mergesort").reset_index(drop=True)
    text = frame.to_csv(index=False, float_format="%.17g", lineterminator="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _has_named_index(data: pd.DataFrame) -> bool:
    return any(n is not None for n in data.index.names)


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("talentplan", "linearmodels", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:  # pragma: no cover - always installed
            out[pkg] = "unknown"
    return out


@dataclass(frozen=True)
class Provenance:
    """Where a set of parameters came from.

    Attributes
    ----------
    data_hash
        :func:`panel_hash` of the estimation panel, or None when unknown.
    estimator
        Estimator name (for example ``"twfe"``).
    options
        Estimation options (covariance type, clusters, ...); JSON-serialisable.
    versions
        Versions of talentplan, linearmodels and numpy.
    timestamp
        ISO 8601 time (UTC) of the estimation.
    """

    data_hash: str | None
    estimator: str
    options: Mapping[str, Any] = field(default_factory=dict)
    versions: Mapping[str, str] = field(default_factory=_versions)
    timestamp: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @classmethod
    def capture(
        cls,
        *,
        data: pd.DataFrame | None = None,
        estimator: str,
        options: Mapping[str, Any] | None = None,
    ) -> Provenance:
        """Record provenance now: hash ``data``, note versions and the time."""
        opts = json.loads(json.dumps(dict(options or {}), default=str))
        return cls(
            data_hash=None if data is None else panel_hash(data), estimator=estimator, options=opts
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "data_hash": self.data_hash,
            "estimator": self.estimator,
            "options": dict(self.options),
            "versions": dict(self.versions),
            "timestamp": self.timestamp,
        }


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype="float64", copy=True)
    a.flags.writeable = False
    return a


class ResponseParameters(DisplayMixin):
    """Immutable calibrated response parameters with covariance and provenance.

    Keys have the form ``program:talent_type:effect`` (see :func:`parse_key`).

    Parameters
    ----------
    estimates
        Point estimates indexed by key.
    cov
        Their covariance (keys on both axes, symmetric, positive semi-definite).
    provenance
        Where they came from.
    bounds
        Optional admissible range per key, ``(lower, upper)`` with None for unbounded;
        :meth:`draw` clips to it.

    Examples
    --------
    >>> import pandas as pd
    >>> est = pd.Series({"studio:craftsman:retention": 0.2})
    >>> rp = ResponseParameters(est, pd.DataFrame([[0.01]], index=est.index, columns=est.index),
    ...                         Provenance(data_hash=None, estimator="fe"))
    >>> rp.to_frame()[["program", "talent_type", "effect", "value"]]
      program talent_type     effect  value
    0  studio   craftsman  retention    0.2
    """

    __slots__ = ("_bounds", "_cov", "_keys", "_provenance", "_values")
    _keys: tuple[str, ...]
    _values: np.ndarray
    _cov: np.ndarray
    _provenance: Provenance
    _bounds: dict[str, tuple[float | None, float | None]]

    def __init__(
        self,
        estimates: pd.Series,
        cov: pd.DataFrame,
        provenance: Provenance,
        *,
        bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
    ) -> None:
        keys = tuple(str(k) for k in estimates.index)
        for k in keys:
            parse_key(k)
        if len(set(keys)) != len(keys):
            raise CalibrationError("estimates: parameter keys must be unique.")
        values = np.asarray(estimates, dtype="float64")
        if not np.isfinite(values).all():
            raise CalibrationError("estimates: every value must be finite.")
        cov = pd.DataFrame(cov)
        cov.index, cov.columns = cov.index.map(str), cov.columns.map(str)
        if set(cov.index) != set(keys) or set(cov.columns) != set(keys):
            raise CalibrationError("cov: rows and columns must be exactly the estimate keys.")
        c = cov.loc[list(keys), list(keys)].to_numpy(dtype="float64")
        if not np.isfinite(c).all():
            raise CalibrationError("cov: every entry must be finite.")
        scale = max(float(np.abs(c).max()), 1e-300)
        if not np.allclose(c, c.T, rtol=1e-8, atol=1e-12 * scale):
            raise CalibrationError("cov: the covariance must be symmetric.")
        c = (c + c.T) / 2
        if c.size and float(np.linalg.eigvalsh(c).min()) < -1e-8 * scale:
            raise CalibrationError("cov: the covariance must be positive semi-definite.")
        checked: dict[str, tuple[float | None, float | None]] = {}
        for k, b in (bounds or {}).items():
            if k not in keys:
                raise CalibrationError(f"bounds: key {k!r} is not an estimated parameter.")
            try:
                lo, hi = b
            except (TypeError, ValueError):
                raise CalibrationError(f"bounds[{k!r}] must be a (lower, upper) pair.") from None
            lo = None if lo is None else float(lo)
            hi = None if hi is None else float(hi)
            if lo is not None and hi is not None and lo > hi:
                raise CalibrationError(f"bounds[{k!r}]: lower {lo} exceeds upper {hi}.")
            checked[k] = (lo, hi)
        if not isinstance(provenance, Provenance):
            raise CalibrationError("provenance must be a Provenance.")
        object.__setattr__(self, "_keys", keys)
        object.__setattr__(self, "_values", _readonly(values))
        object.__setattr__(self, "_cov", _readonly(c))
        object.__setattr__(self, "_provenance", provenance)
        object.__setattr__(self, "_bounds", dict(checked))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ResponseParameters is immutable; build a new one instead.")

    # --- views --------------------------------------------------------------------------

    @property
    def keys(self) -> tuple[str, ...]:
        """Parameter keys, ``program:talent_type:effect``."""
        return self._keys

    @property
    def estimates(self) -> pd.Series:
        """Point estimates (a copy)."""
        return pd.Series(self._values.copy(), index=list(self._keys), name="value")

    params = estimates

    @property
    def cov(self) -> pd.DataFrame:
        """Covariance of the estimates (a copy)."""
        return pd.DataFrame(self._cov.copy(), index=list(self._keys), columns=list(self._keys))

    @property
    def std_errors(self) -> pd.Series:
        """Standard errors."""
        return pd.Series(np.sqrt(np.diag(self._cov)), index=list(self._keys), name="std_error")

    @property
    def provenance(self) -> Provenance:
        """Where the parameters came from."""
        return self._provenance

    @property
    def bounds(self) -> dict[str, tuple[float | None, float | None]]:
        """Admissible ranges per key."""
        return dict(self._bounds)

    def to_frame(self) -> pd.DataFrame:
        """Columns ``program, talent_type, effect, value, std_error``, one row per key.

        Ready to merge into an allocation instance's responses table, which is keyed by
        (program, talent_type, effect) with a numeric ``value``.
        """
        parts = [parse_key(k) for k in self._keys]
        return pd.DataFrame(
            {
                "program": [p[0] for p in parts],
                "talent_type": [p[1] for p in parts],
                "effect": [p[2] for p in parts],
                "value": self._values.copy(),
                "std_error": np.sqrt(np.diag(self._cov)),
            }
        )

    def draw(
        self, n: int, seed: int | np.random.Generator | None = None, *, clip: bool = True
    ) -> pd.DataFrame:
        """Draw ``n`` parameter sets from the estimates' normal sampling distribution.

        Parameters
        ----------
        n
            Number of draws.
        seed
            Seed or generator, for reproducible draws.
        clip
            Clip every draw to the admissible ``bounds``.

        Returns
        -------
        pandas.DataFrame
            ``n`` rows, one column per key.
        """
        if int(n) != n or n < 1:
            raise CalibrationError(f"n must be a positive integer, got {n!r}.")
        rng = np.random.default_rng(seed)
        draws = rng.multivariate_normal(self._values, self._cov, size=int(n), method="eigh")
        out = pd.DataFrame(draws, columns=list(self._keys))
        if clip:
            for k, (lo, hi) in self._bounds.items():
                out[k] = out[k].clip(lower=lo, upper=hi)
        return out

    # --- construction -------------------------------------------------------------------

    @classmethod
    def from_results(
        cls,
        result: Any,
        mapping: Mapping[str, str],
        *,
        provenance: Provenance | None = None,
        bounds: Mapping[str, tuple[float | None, float | None]] | None = None,
    ) -> ResponseParameters:
        """Pick and rename parameters of an estimation result.

        Parameters
        ----------
        result
            Anything with ``params`` and ``cov`` (this package's results or
            linearmodels').
        mapping
            ``{"name in result": "program:talent_type:effect"}``.
        provenance
            Default: the estimator name and covariance options read from ``result``.
        bounds
            Admissible range per key (new names).
        """
        if not mapping:
            raise CalibrationError("mapping must name at least one parameter.")
        params = pd.Series(result.params)
        cov = pd.DataFrame(result.cov)
        params.index = params.index.map(str)
        cov.index, cov.columns = cov.index.map(str), cov.columns.map(str)
        missing = [m for m in mapping if str(m) not in params.index]
        if missing:
            raise CalibrationError(
                f"mapping names {missing}, not in the result's parameters {list(params.index)}."
            )
        names = [str(m) for m in mapping]
        keys = [mapping[m] for m in mapping]
        est = pd.Series(params[names].to_numpy(), index=keys)
        c = pd.DataFrame(cov.loc[names, names].to_numpy(), index=keys, columns=keys)
        if provenance is None:
            opts = dict(getattr(result, "cov_options", {}) or {})
            opts["cov_type"] = getattr(result, "cov_type", None)
            provenance = Provenance.capture(
                estimator=str(getattr(result, "estimator", type(result).__name__)), options=opts
            )
        return cls(est, c, provenance, bounds=bounds)

    # --- files --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (the format :meth:`to_json` writes)."""
        se = np.sqrt(np.diag(self._cov))
        params = []
        for k, v, s in zip(self._keys, self._values, se, strict=True):
            p, t, e = parse_key(k)
            params.append(
                {
                    "key": k,
                    "program": p,
                    "talent_type": t,
                    "effect": e,
                    "value": float(v),
                    "std_error": float(s),
                }
            )
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "parameters": params,
            "cov": self._cov.tolist(),
            "bounds": {k: list(b) for k, b in self._bounds.items()},
            "provenance": self._provenance.to_dict(),
        }

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Write to ``path`` atomically (a temporary file in the same folder, then rename)."""
        target = Path(path)
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.",
            suffix=".tmp",
            dir=target.parent if str(target.parent) else ".",
        )
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return target

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, source: str = "document") -> ResponseParameters:
        """Build from :meth:`to_dict` output, naming the field of any problem."""

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
        bounds: dict[str, tuple[float | None, float | None]] = {}
        for key, b in bounds_doc.items():
            if not isinstance(b, Sequence) or isinstance(b, str) or len(b) != 2:
                raise fail(f"bounds.{key}", "expected [lower, upper] (null for unbounded).")
            bounds[key] = (b[0], b[1])
        try:
            return cls(
                pd.Series(values, index=keys),
                pd.DataFrame(c, index=keys, columns=keys),
                provenance,
                bounds=bounds,
            )
        except CalibrationError as exc:
            raise CalibrationError(f"{source}: {exc}") from None

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> ResponseParameters:
        """Read a file written by :meth:`to_json`, validating every field."""
        p = Path(path)
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CalibrationError(f"{p}: not valid JSON ({exc}).") from None
        return cls.from_dict(doc, source=str(p))

    # --- display ------------------------------------------------------------------------

    def __repr__(self) -> str:
        est = self._provenance.estimator
        return f"ResponseParameters({len(self._keys)} parameters, estimator={est!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResponseParameters):
            return NotImplemented
        return (
            self._keys == other._keys
            and np.array_equal(self._values, other._values)
            and np.array_equal(self._cov, other._cov)
            and self._bounds == other._bounds
            and self._provenance == other._provenance
        )

    __hash__ = None  # type: ignore[assignment]

    def _summary_tables(self) -> tuple[str, list[tuple[str, str]], list[pd.DataFrame]]:
        prov = self._provenance
        head = [
            ("Parameters", str(len(self._keys))),
            ("Estimator", prov.estimator),
            ("Data hash", prov.data_hash or "unknown"),
            ("Timestamp", prov.timestamp),
            ("Versions", ", ".join(f"{k} {v}" for k, v in prov.versions.items())),
        ]
        return "Response parameters", head, [self.to_frame()]
