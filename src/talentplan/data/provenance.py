"""What a calibrated parameter is called and where it came from.

Keys have the format ``program:talent_type:effect`` (:func:`parse_key`); a
:class:`Provenance` records the estimation panel's hash (:func:`panel_hash`), the
estimator and its options, package versions and the time.
"""

from __future__ import annotations

import copy
import hashlib
import json
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from types import MappingProxyType
from typing import Any

import pandas as pd

from talentplan.errors import CalibrationError

__all__ = ["Provenance", "panel_hash", "parse_key"]


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
    r"""Return the SHA-256 of a panel's canonical CSV bytes.

    Canonical form: the index is written as columns, columns are sorted by name, rows
    are sorted by every column in that order, floats are written with 17 significant
    digits, UTF-8, ``\n`` line endings. Row and column order therefore do not change
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
    for pkg in ("talentplan", "linearmodels", "numpy", "pandas", "scipy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:  # pragma: no cover - always installed
            out[pkg] = "unknown"
    out["python"] = platform.python_version()
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
        Estimation options (covariance type, clusters, ...); JSON-serialisable. Stored
        as a read-only deep copy (mappings become ``MappingProxyType``, lists tuples);
        :meth:`to_dict` gives plain dicts and lists.
    versions
        Versions of talentplan, linearmodels, numpy, pandas, scipy and python.
    timestamp
        ISO 8601 time (UTC) of the estimation.
    """

    data_hash: str | None
    estimator: str
    options: Mapping[str, Any] = field(default_factory=dict)
    versions: Mapping[str, str] = field(default_factory=_versions)
    timestamp: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def __post_init__(self) -> None:
        """Replace ``options`` and ``versions`` by read-only deep copies."""
        # private deep copies, read-only all the way down: a frozen record stays frozen
        object.__setattr__(self, "options", _freeze(copy.deepcopy(dict(self.options))))
        object.__setattr__(self, "versions", _freeze(copy.deepcopy(dict(self.versions))))

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
            "options": _thaw(self.options),
            "versions": _thaw(self.versions),
            "timestamp": self.timestamp,
        }


def _freeze(value: Any) -> Any:
    """Turn mappings into read-only ``MappingProxyType`` and lists into tuples, recursively."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    """Undo :func:`_freeze`: return plain dicts and lists, ready for JSON."""
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value
