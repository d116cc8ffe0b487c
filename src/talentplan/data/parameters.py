"""Calibrated response parameters: what estimation hands to the allocation model.

They live in the data layer because an instance reads them (``response_parameters`` in
``scenario.toml``); :mod:`talentplan.calibrate` produces them.

A :class:`ResponseParameters` holds named estimates, their covariance and their
provenance. Names use the key format ``program:talent_type:effect``, for example
``"skill_studio:craftsman:retention"``: the program, the talent type and the effect it
has, separated by colons (no part may be empty or contain a colon). :meth:`to_frame`
splits the keys into the ``program``, ``talent_type`` and ``effect`` columns the
allocation model's responses table is keyed by, with the numeric ``value``.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from talentplan import _plot
from talentplan._display import DisplayMixin
from talentplan._files import atomic_write_text
from talentplan.data.parameters_file import FORMAT, FORMAT_VERSION, parse_document, read_document
from talentplan.data.provenance import Provenance, parse_key
from talentplan.errors import CalibrationError, TalentPlanWarning

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["ResponseParameters", "result_estimates"]


def result_estimates(result: Any) -> tuple[pd.Series, pd.DataFrame]:
    """``params`` and ``cov`` of an estimation result, labelled by parameter names as strings."""
    params = pd.Series(result.params)
    cov = pd.DataFrame(result.cov)
    params.index = params.index.map(str)
    cov.index, cov.columns = cov.index.map(str), cov.columns.map(str)
    return params, cov


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype="float64", copy=True)
    a.flags.writeable = False
    return a


def _check_within_bounds(
    values: np.ndarray,
    keys: tuple[str, ...],
    bounds: Mapping[str, tuple[float | None, float | None]],
    clip: bool,
) -> np.ndarray:
    """Raise on (or, with ``clip``, clip with a warning) estimates outside their bounds."""
    out = values.copy()
    outside = []
    for i, k in enumerate(keys):
        lo, hi = bounds.get(k, (None, None))
        v = out[i]
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            outside.append(f"{k} = {v:.6g} not in [{lo}, {hi}]")
            out[i] = np.clip(v, -np.inf if lo is None else lo, np.inf if hi is None else hi)
    if outside and not clip:
        raise CalibrationError(
            "estimates outside their own bounds: "
            + "; ".join(outside)
            + ". Check the estimation, or pass clip=True to clip them."
        )
    if outside:
        warnings.warn(
            f"{len(outside)} estimate(s) clipped to their bounds: " + "; ".join(outside),
            TalentPlanWarning,
            stacklevel=4,
        )
    return out


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
    clip
        An estimate outside its own bounds raises :class:`CalibrationError` unless
        ``clip=True``, which clips it to the bounds with a ``TalentPlanWarning`` (the
        covariance is kept as estimated).

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
        clip: bool = False,
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
        values = _check_within_bounds(values, keys, checked, clip)
        if not isinstance(provenance, Provenance):
            raise CalibrationError("provenance must be a Provenance.")
        object.__setattr__(self, "_keys", keys)
        object.__setattr__(self, "_values", _readonly(values))
        object.__setattr__(self, "_cov", _readonly(c))
        object.__setattr__(self, "_provenance", provenance)
        object.__setattr__(self, "_bounds", dict(checked))

    def __setattr__(self, name: str, value: Any) -> None:
        """Refuse every assignment: response parameters are immutable."""
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

    def plot_estimates(self, level: float = 0.95, *, ax: Axes | None = None) -> Axes:
        """Draw each estimate with its normal interval at ``level`` from the covariance.

        The ends are ``value -+ z * std_error``, ``z`` the normal quantile (1.96 at 95%).
        Returns the Axes.
        """
        return _plot.coefficient_plot(self.estimates, self.std_errors, level=level, ax=ax)

    def plot_response(
        self,
        key: str,
        *,
        scale: float,
        spend_max: float,
        level: float = 0.95,
        ax: Axes | None = None,
    ) -> Axes:
        """Draw the ``inflow_log`` curve of ``key`` with its band at ``level``; return the Axes.

        ``scale`` is the curve's scale (10k yuan; the ``scale`` of its row in the instance's
        responses table) and ``spend_max`` the end of the spend axis; see
        :func:`talentplan._plot.response_curve_plot`.
        """
        if key not in self._keys or not key.endswith(":inflow_log"):
            raise CalibrationError(
                f"plot_response: {key!r} is not an inflow_log estimate of these parameters "
                f"(inflow_log keys: {[k for k in self._keys if k.endswith(':inflow_log')]})."
            )
        i = self._keys.index(key)
        return _plot.response_curve_plot(
            float(self._values[i]), float(np.sqrt(self._cov[i, i])), scale=scale,
            spend_max=spend_max, level=level, label=key, ax=ax,
        )  # fmt: skip

    def draw(
        self, n: int, seed: int | np.random.Generator | None = None, *, clip: bool = True
    ) -> pd.DataFrame:
        """Draw ``n`` parameter sets from the estimates' normal sampling distribution.

        The draws are normal on the scale of the stored values, with the stored
        (delta-method) covariance. For parameters a spec maps through
        ``one_minus_exp`` or ``exp_minus_one``, that is the transformed scale: the
        coefficient-scale estimates are not kept here, so the draws are not
        ``transform(normal coefficient)`` and can leave the transform's range (for
        ``one_minus_exp``, values above 1); ``clip`` then clips them to the bounds.

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
        clip: bool = False,
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
            Default: the estimator name and covariance options read from ``result``,
            plus its ``provenance_options`` when it has them (for dynamic panel GMM the
            method, steps, lags, collapse and instrument options; for static panel
            regressions ``debiased`` and the Driscoll-Kraay bandwidth actually used).
        bounds
            Admissible range per key (new names).
        clip
            Clip estimates outside their bounds instead of raising.
        """
        if not mapping:
            raise CalibrationError("mapping must name at least one parameter.")
        params, cov = result_estimates(result)
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
            # method, steps, lags, instruments (GMM); debiased, bandwidth used (panel)
            opts.update(getattr(result, "provenance_options", {}) or {})
            provenance = Provenance.capture(
                estimator=str(getattr(result, "estimator", type(result).__name__)), options=opts
            )
        return cls(est, c, provenance, bounds=bounds, clip=clip)

    # --- files --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (the format :meth:`to_json` writes)."""
        frame = self.to_frame()
        rows = zip(
            self._keys,
            frame["program"],
            frame["talent_type"],
            frame["effect"],
            frame["value"],
            frame["std_error"],
            strict=True,
        )
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "parameters": [
                {
                    "key": k,
                    "program": p,
                    "talent_type": t,
                    "effect": e,
                    "value": float(v),
                    "std_error": float(s),
                }
                for k, p, t, e, v, s in rows
            ],
            "cov": self._cov.tolist(),
            "bounds": {k: list(b) for k, b in self._bounds.items()},
            "provenance": self._provenance.to_dict(),
        }

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Write to ``path`` atomically (a temporary file in the same folder, then rename)."""
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"
        return atomic_write_text(path, text)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, source: str = "document") -> ResponseParameters:
        """Build from :meth:`to_dict` output, naming the field of any problem."""
        keys, values, c, provenance, bounds = parse_document(doc, source)
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
        doc, source = read_document(path)
        return cls.from_dict(doc, source=source)

    # --- display ------------------------------------------------------------------------

    def __repr__(self) -> str:
        """Summarise the parameters: their number and the estimator that produced them."""
        est = self._provenance.estimator
        return f"ResponseParameters({len(self._keys)} parameters, estimator={est!r})"

    def __eq__(self, other: object) -> bool:
        """Compare keys, values, covariance, bounds and provenance exactly."""
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
