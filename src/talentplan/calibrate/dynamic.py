"""Dynamic panel GMM: Arellano-Bond difference and Blundell-Bond system estimators.

The model is

    y_it = a_1 y_i,t-1 + ... + a_p y_i,t-p + b'x_it + mu_i + e_it,

with unobserved entity effects ``mu_i``. Difference GMM (Arellano and Bond 1991)
removes ``mu_i`` by first differencing and instruments the differenced equation with
lagged levels; system GMM (Arellano and Bover 1995; Blundell and Bond 1998) adds the
level equations instrumented with lagged differences, which stays informative when
the series are persistent.

Conventions follow Stata's ``xtabond``/``xtdpdsys``:

* strictly exogenous regressors (``exog``) instrument themselves in first
  differences, one column each, in the differenced equation;
* the dependent variable and ``endogenous`` regressors get GMM-style instruments
  from lag 2 back, ``predetermined`` regressors from lag 1 back; in system GMM the
  level equation uses ``D.L1`` of the dependent and endogenous variables, ``D`` of
  the predetermined ones, and the constant;
* with ``method="difference"`` and ``constant=True`` a column of ones enters the
  *differenced* equation (equivalent to a linear trend in levels), as ``xtabond``
  does; in system GMM the constant enters the level equation;
* lags are taken by actual time. The time index must be integer-like (years); an
  observation whose lag falls in a gap has no lag, so it drops out of the equations
  that need that lag, and missing instrument lags are set to zero;
* rows with missing values are excluded from the equations that need them, while
  their observed values still serve as lags and instruments (as Stata does); a
  ``MissingValuesWarning`` counts them.

References
----------
Arellano, M. and Bond, S. (1991). Some tests of specification for panel data. Review
of Economic Studies 58(2), 277-297.
Blundell, R. and Bond, S. (1998). Initial conditions and moment restrictions in
dynamic panel data models. Journal of Econometrics 87(1), 115-143.
Windmeijer, F. (2005). A finite sample correction for the variance of linear
efficient two-step GMM estimators. Journal of Econometrics 126(1), 25-51.
Roodman, D. (2009). How to do xtabond2. Stata Journal 9(1), 86-136.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from talentplan._display import DisplayMixin
from talentplan.calibrate._gmm_instruments import StackedSystem, build_grid, build_system
from talentplan.errors import (
    CalibrationError,
    CollinearityError,
    MissingValuesWarning,
    PanelDataError,
    UnbalancedPanelWarning,
)

__all__ = ["DynamicPanelGMM", "DynamicPanelGMMResults", "SpecificationTest"]

Method = Literal["difference", "system"]
CovType = Literal["robust", "unadjusted"]


@dataclass(frozen=True)
class SpecificationTest:
    """A specification test: statistic, p-value and (for chi-square tests) df."""

    name: str
    stat: float
    pvalue: float
    df: int | None = None

    def __str__(self) -> str:
        df = f", df={self.df}" if self.df is not None else ""
        return f"{self.name}: stat={self.stat:.4f}{df}, p={self.pvalue:.4f}"


def _as_list(value: str | list[str] | tuple[str, ...] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


class DynamicPanelGMM:
    """Arellano-Bond difference GMM and Blundell-Bond system GMM.

    Parameters
    ----------
    data
        Long panel: either indexed by an (entity, time) MultiIndex, or with the
        ``entity`` and ``time`` columns named below. Time must be integer-like
        (for example years); lags are taken by actual time.
    dependent
        Name of the dependent variable.
    lags
        Number of lags of the dependent variable on the right-hand side (>= 1);
        the parameters are named ``L1.<dependent>``, ``L2.<dependent>``, ...
    exog
        Strictly exogenous regressors; each instruments the differenced equation
        by its own first difference (one column).
    predetermined
        Predetermined regressors; GMM-style instruments from lag 1 back.
    endogenous
        Endogenous regressors; GMM-style instruments from lag 2 back.
    entity, time
        Column names of the entity and period when ``data`` has no MultiIndex.
    method
        ``"difference"`` (Arellano-Bond) or ``"system"`` (Blundell-Bond).
    collapse
        Collapse the GMM-style instruments to one column per lag (Roodman 2009).
    max_instrument_lag
        Deepest lag used for GMM-style instruments of the differenced equation.
    constant
        Include a constant (see the module notes for how it enters).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> rows = []
    >>> for i in range(200):
    ...     mu, y = rng.normal(), 0.0
    ...     for t in range(8):
    ...         x = rng.normal()
    ...         y = 0.5 * y + x + mu + rng.normal()
    ...         rows.append((i, 2000 + t, y, x))
    >>> df = pd.DataFrame(rows, columns=["firm", "year", "y", "x"])
    >>> res = DynamicPanelGMM(df, "y", 1, exog=["x"], entity="firm", time="year").fit()
    >>> list(res.params.index)
    ['L1.y', 'x', 'const']
    >>> bool(abs(res.params["L1.y"] - 0.5) < 0.15)
    True
    """

    def __init__(
        self,
        data: pd.DataFrame,
        dependent: str,
        lags: int = 1,
        exog: str | list[str] | None = None,
        predetermined: str | list[str] | None = None,
        endogenous: str | list[str] | None = None,
        entity: str | None = None,
        time: str | None = None,
        method: Method = "difference",
        collapse: bool = False,
        max_instrument_lag: int | None = None,
        constant: bool = True,
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise PanelDataError("data must be a pandas DataFrame")
        if method not in ("difference", "system"):
            raise CalibrationError(f"method must be 'difference' or 'system', got {method!r}")
        if isinstance(lags, bool) or not isinstance(lags, (int, np.integer)) or lags < 1:
            raise CalibrationError(f"lags must be an integer >= 1, got {lags!r}")
        if max_instrument_lag is not None:
            floor = 2 if not _as_list(predetermined) else 1
            if int(max_instrument_lag) < floor:
                raise CalibrationError(
                    f"max_instrument_lag must be at least {floor}, got {max_instrument_lag}"
                )
        self.dependent = dependent
        self.lags = int(lags)
        self.exog = _as_list(exog)
        self.predetermined = _as_list(predetermined)
        self.endogenous = _as_list(endogenous)
        self.method: Method = method
        self.collapse = bool(collapse)
        self.max_instrument_lag = None if max_instrument_lag is None else int(max_instrument_lag)
        self.constant = bool(constant)
        regs = self.exog + self.predetermined + self.endogenous
        if len(set(regs)) != len(regs) or dependent in regs:
            raise CalibrationError(
                "each regressor may appear once, in exactly one of exog, predetermined and "
                "endogenous, and not be the dependent variable"
            )
        frame, self._entity, self._time = self._long_frame(data, entity, time)
        self._columns = [dependent, *regs]
        self._validate(frame)
        self._frame = frame

    # --- data handling -----------------------------------------------------------------
    @staticmethod
    def _long_frame(
        data: pd.DataFrame, entity: str | None, time: str | None
    ) -> tuple[pd.DataFrame, str, str]:
        if entity is None and time is None:
            if not isinstance(data.index, pd.MultiIndex) or data.index.nlevels != 2:
                raise PanelDataError(
                    "data needs an (entity, time) MultiIndex, or pass entity= and time= "
                    "column names"
                )
            ent = str(data.index.names[0] or "entity")
            tim = str(data.index.names[1] or "time")
            frame = data.copy()
            frame.index = frame.index.set_names([ent, tim])
            return frame.reset_index(), ent, tim
        if entity is None or time is None:
            raise PanelDataError("pass both entity= and time=, or neither (MultiIndex data)")
        for col in (entity, time):
            if col not in data.columns:
                raise PanelDataError(f"column '{col}' not found in data")
        return data.reset_index(drop=True), entity, time

    def _validate(self, frame: pd.DataFrame) -> None:
        for col in self._columns:
            if col not in frame.columns:
                raise PanelDataError(f"column '{col}' not found in data")
            dtype = frame[col].dtype
            if not (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)):
                raise PanelDataError(
                    f"column '{col}' is not numeric (dtype {dtype}); convert it to numbers"
                )
        if not pd.api.types.is_numeric_dtype(frame[self._time].dtype):
            raise PanelDataError(
                f"time column '{self._time}' must be integer-like periods (e.g. years)"
            )
        if frame[self._entity].isna().any() or frame[self._time].isna().any():
            raise PanelDataError("entity and time identifiers must not be missing")
        dup = frame.duplicated([self._entity, self._time])
        if dup.any():
            first = frame.loc[dup, [self._entity, self._time]].iloc[0].tolist()
            raise PanelDataError(
                f"{int(dup.sum())} duplicate (entity, time) pair(s), for example {first}; "
                "each entity may have one row per period"
            )

    # --- fitting -------------------------------------------------------------------------
    @cached_property
    def _system(self) -> StackedSystem:
        frame = self._frame
        missing = frame[self._columns].isna().any(axis=1)
        if missing.any():
            counts = frame[self._columns].isna().sum()
            detail = ", ".join(f"{c}: {int(n)}" for c, n in counts.items() if n)
            warnings.warn(
                f"{int(missing.sum())} row(s) have missing values ({detail}); they are left "
                "out of the equations that need them, their observed values still serve "
                "as lags and instruments",
                MissingValuesWarning,
                stacklevel=3,
            )
        grid = build_grid(frame, self._entity, self._time, self._columns)
        sizes = frame.groupby(self._entity).size()
        spans = frame.groupby(self._entity)[self._time].agg(lambda s: s.max() - s.min() + 1)
        if sizes.nunique() > 1 or (spans != sizes).any() or spans.nunique() > 1:
            gaps = int((spans != sizes).sum())
            warnings.warn(
                f"unbalanced panel: {sizes.min()} to {sizes.max()} periods per entity, "
                f"{gaps} entit(y/ies) with gaps in time; lags are taken by actual time",
                UnbalancedPanelWarning,
                stacklevel=3,
            )
        system = build_system(
            grid,
            self.dependent,
            self.lags,
            self.exog,
            self.predetermined,
            self.endogenous,
            self.method,
            self.collapse,
            self.max_instrument_lag,
            self.constant,
        )
        self._check(system)
        return system

    @staticmethod
    def _check(s: StackedSystem) -> None:
        if s.x.shape[0] == 0:
            raise CalibrationError(
                "no usable observations: every equation lacks a lag or a value; check the "
                "number of periods per entity and the number of lags"
            )
        k = s.x.shape[1]
        if np.linalg.matrix_rank(s.x) < k:
            dropped: list[str] = []
            kept: list[int] = []
            for j in range(k):
                trial = [*kept, j]
                if np.linalg.matrix_rank(s.x[:, trial]) == len(trial):
                    kept = trial
                else:
                    dropped.append(s.regressors[j])
            raise CollinearityError(
                "the transformed regressors are rank deficient; these columns are linear "
                f"combinations of earlier ones: {dropped}. Drop them (for example a constant "
                "together with a linear trend in difference GMM)"
            )
        if s.z.shape[1] < k:
            raise CalibrationError(
                f"under-identified: {s.z.shape[1]} instruments for {k} parameters; add lags "
                "or instruments"
            )

    def fit(
        self, *, steps: Literal[1, 2] = 1, cov_type: CovType = "robust"
    ) -> DynamicPanelGMMResults:
        """Estimate the model.

        Parameters
        ----------
        steps
            1 for one-step GMM (weights from the MA(1) structure of differenced
            errors), 2 for two-step efficient GMM.
        cov_type
            ``"robust"``: the Arellano-Bond robust covariance for one-step, the
            Windmeijer (2005) corrected covariance for two-step. ``"unadjusted"``:
            the conventional GMM covariance (homoskedastic for one-step).

        Returns
        -------
        DynamicPanelGMMResults
        """
        if steps not in (1, 2):
            raise CalibrationError(f"steps must be 1 or 2, got {steps!r}")
        if cov_type not in ("robust", "unadjusted"):
            raise CalibrationError(f"cov_type must be 'robust' or 'unadjusted', got {cov_type!r}")
        return DynamicPanelGMMResults(self, self._system, int(steps), cov_type)


# --- estimation core ---------------------------------------------------------------------


def _by_entity(values: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """Sum rows of ``values`` within each entity."""
    out = np.zeros((n, *values.shape[1:]))
    np.add.at(out, group, values)
    return out


class _Core:
    """Matrix algebra shared by the estimates, covariances and tests."""

    def __init__(self, s: StackedSystem) -> None:
        self.s = s
        self.zx = s.z.T @ s.x
        self.zy = s.z.T @ s.y
        self.zhz = s.z.T @ (s.h @ s.z)
        self.w1 = np.linalg.pinv(self.zhz, hermitian=True)
        self.beta1 = self._solve(self.w1)
        self.u1 = s.y - s.x @ self.beta1
        self.zu1 = _by_entity(s.z * self.u1[:, None], s.group, s.n_entities)
        self.omega1 = self.zu1.T @ self.zu1
        self.w2 = np.linalg.pinv(self.omega1, hermitian=True)
        self.beta2 = self._solve(self.w2)
        self.u2 = s.y - s.x @ self.beta2
        d = s.is_diff
        n_d = int(d.sum())
        k = s.x.shape[1]
        # sigma^2 of the idiosyncratic error from the differenced one-step residuals
        self.sigma2 = float(self.u1[d] @ self.u1[d]) / (2.0 * max(n_d - k, 1))

    def _solve(self, w: np.ndarray) -> np.ndarray:
        a = self.zx.T @ w @ self.zx
        return np.linalg.solve(a, self.zx.T @ w @ self.zy)

    @cached_property
    def bread1(self) -> np.ndarray:
        return np.linalg.inv(self.zx.T @ self.w1 @ self.zx)

    @cached_property
    def v1_robust(self) -> np.ndarray:
        m = self.zx.T @ self.w1
        return self.bread1 @ m @ self.omega1 @ m.T @ self.bread1

    @cached_property
    def v1_unadjusted(self) -> np.ndarray:
        return self.sigma2 * self.bread1

    @cached_property
    def v2_unadjusted(self) -> np.ndarray:
        return np.linalg.inv(self.zx.T @ self.w2 @ self.zx)

    @cached_property
    def v2_windmeijer(self) -> np.ndarray:
        """Windmeijer (2005) finite-sample corrected two-step covariance."""
        s = self.s
        v2 = self.v2_unadjusted
        zx_ent = _by_entity(s.z[:, :, None] * s.x[:, None, :], s.group, s.n_entities)
        g = self.w2 @ (s.z.T @ self.u2)  # W2 Z'u2
        c = self.zu1 @ g  # (N,)
        zxg = np.einsum("nlk,l->nk", zx_ent, g)
        dom_g = np.einsum("nlk,n->lk", zx_ent, c) + np.einsum("nl,nk->lk", self.zu1, zxg)
        d = v2 @ self.zx.T @ self.w2 @ dom_g
        return v2 + d @ v2 + v2 @ d.T + d @ self.v1_robust @ d.T


class DynamicPanelGMMResults(DisplayMixin):
    """Results of :class:`DynamicPanelGMM`; immutable, statistics computed lazily."""

    def __init__(
        self, model: DynamicPanelGMM, system: StackedSystem, steps: int, cov_type: CovType
    ) -> None:
        self._model = model
        self._s = system
        self._steps = steps
        self._cov_type: CovType = cov_type
        self._core = _Core(system)

    # --- basic attributes -------------------------------------------------------------
    @property
    def method(self) -> str:
        return self._model.method

    @property
    def steps(self) -> int:
        return self._steps

    @property
    def cov_type(self) -> str:
        return self._cov_type

    @cached_property
    def _beta(self) -> np.ndarray:
        return self._core.beta1 if self._steps == 1 else self._core.beta2

    @cached_property
    def _resid(self) -> np.ndarray:
        return self._core.u1 if self._steps == 1 else self._core.u2

    @cached_property
    def _cov(self) -> np.ndarray:
        c = self._core
        if self._steps == 1:
            return c.v1_robust if self._cov_type == "robust" else c.v1_unadjusted
        return c.v2_windmeijer if self._cov_type == "robust" else c.v2_unadjusted

    @property
    def params(self) -> pd.Series:
        return pd.Series(self._beta, index=self._s.regressors, name="params")

    @property
    def cov(self) -> pd.DataFrame:
        names = self._s.regressors
        return pd.DataFrame(self._cov, index=names, columns=names)

    @property
    def std_errors(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self._cov)), index=self._s.regressors, name="std_error")

    @property
    def tstats(self) -> pd.Series:
        return (self.params / self.std_errors).rename("z_stat")

    @property
    def pvalues(self) -> pd.Series:
        return pd.Series(
            2 * stats.norm.sf(np.abs(self.tstats.to_numpy())),
            index=self._s.regressors,
            name="pvalue",
        )

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Normal-based confidence intervals at ``level``."""
        if not 0 < level < 1:
            raise CalibrationError(f"level must be in (0, 1), got {level}")
        q = stats.norm.ppf(0.5 + level / 2)
        p, se = self.params, self.std_errors
        return pd.DataFrame({"lower": p - q * se, "upper": p + q * se})

    @property
    def resids(self) -> pd.Series:
        """Residuals of the stacked equations (differenced first, then levels)."""
        s = self._s
        idx = pd.MultiIndex.from_arrays(
            [
                self._model_entities[s.group],
                s.period,
                np.where(s.is_diff, "difference", "level"),
            ],
            names=["entity", "time", "equation"],
        )
        return pd.Series(self._resid, index=idx, name="resid")

    @cached_property
    def _model_entities(self) -> np.ndarray:
        frame = self._model._frame
        return np.asarray(pd.Index(pd.unique(frame[self._model._entity])).sort_values())

    @property
    def nobs(self) -> int:
        """Observations: differenced equations (difference GMM) or level equations (system)."""
        s = self._s
        return int(s.is_diff.sum()) if self.method == "difference" else int((~s.is_diff).sum())

    @property
    def nobs_difference(self) -> int:
        return int(self._s.is_diff.sum())

    @property
    def nobs_level(self) -> int:
        return int((~self._s.is_diff).sum())

    @property
    def n_groups(self) -> int:
        return len(np.unique(self._s.group))

    @property
    def obs_per_group(self) -> tuple[int, float, int]:
        """(min, mean, max) observations per group, counted as for :attr:`nobs`."""
        s = self._s
        mask = s.is_diff if self.method == "difference" else ~s.is_diff
        counts = np.bincount(s.group[mask], minlength=s.n_entities)
        counts = counts[counts > 0]
        return int(counts.min()), float(counts.mean()), int(counts.max())

    @property
    def n_instruments(self) -> int:
        return int(self._s.z.shape[1])

    @property
    def instruments(self) -> list[str]:
        return list(self._s.instruments)

    # --- specification tests -----------------------------------------------------------
    @cached_property
    def sargan(self) -> SpecificationTest:
        """Sargan test from the one-step residuals, valid under homoskedasticity."""
        c = self._core
        zu = self._s.z.T @ c.u1
        stat = float(zu @ c.w1 @ zu) / c.sigma2
        df = self.n_instruments - len(self._beta)
        return SpecificationTest("Sargan", stat, float(stats.chi2.sf(stat, df)), df)

    @cached_property
    def hansen(self) -> SpecificationTest:
        """Hansen J test from the two-step estimates (robust to heteroskedasticity)."""
        c = self._core
        zu = self._s.z.T @ c.u2
        stat = float(zu @ c.w2 @ zu)
        df = self.n_instruments - len(self._beta)
        return SpecificationTest("Hansen J", stat, float(stats.chi2.sf(stat, df)), df)

    def ar_test(self, order: int) -> SpecificationTest:
        """Arellano-Bond test for autocorrelation of ``order`` in differenced residuals."""
        if order < 1:
            raise CalibrationError(f"order must be >= 1, got {order}")
        s, c = self._s, self._core
        u = self._resid
        w = _lagged_diff_resid(s, u, order)
        num = float(w @ u)
        xw = s.x.T @ w
        if self._steps == 1:
            a, bread = c.w1, c.bread1
        else:
            a, bread = c.w2, c.v2_unadjusted
        if self._cov_type == "unadjusted" and self._steps == 1:
            hw = s.h @ w
            ww = c.sigma2 * float(w @ hw)
            zw = c.sigma2 * (s.z.T @ hw)
        else:
            wu = _by_entity(w * u, s.group, s.n_entities)
            zu = _by_entity(s.z * u[:, None], s.group, s.n_entities)
            ww = float(wu @ wu)
            zw = zu.T @ wu
        var = ww - 2.0 * float(xw @ bread @ c.zx.T @ a @ zw) + float(xw @ self._cov @ xw)
        stat = num / np.sqrt(var) if var > 0 else np.nan
        return SpecificationTest(f"AR({order})", stat, float(2 * stats.norm.sf(abs(stat))))

    @cached_property
    def ar1(self) -> SpecificationTest:
        return self.ar_test(1)

    @cached_property
    def ar2(self) -> SpecificationTest:
        return self.ar_test(2)

    # --- presentation -------------------------------------------------------------------
    @property
    def summary(self) -> str:
        return str(self)

    def _summary_tables(self) -> tuple[str, list[tuple[str, str]], list[pd.DataFrame]]:
        name = {"difference": "Arellano-Bond difference", "system": "Blundell-Bond system"}[
            self.method
        ]
        step = "one-step" if self._steps == 1 else "two-step"
        if self._cov_type == "robust":
            cov = "robust" if self._steps == 1 else "Windmeijer-corrected robust"
        else:
            cov = "unadjusted"
        lo, avg, hi = self.obs_per_group
        header = [
            ("Estimator", f"{name} GMM, {step}"),
            ("Covariance", cov),
            ("Observations", str(self.nobs)),
            ("Groups", str(self.n_groups)),
            ("Obs per group (min/avg/max)", f"{lo} / {avg:.3f} / {hi}"),
            ("Instruments", str(self.n_instruments)),
            ("AR(1)", f"z = {self.ar1.stat:.4f}, p = {self.ar1.pvalue:.4f}"),
            ("AR(2)", f"z = {self.ar2.stat:.4f}, p = {self.ar2.pvalue:.4f}"),
            (
                "Sargan",
                f"chi2({self.sargan.df}) = {self.sargan.stat:.3f}, p = {self.sargan.pvalue:.4f}",
            ),
            (
                "Hansen J",
                f"chi2({self.hansen.df}) = {self.hansen.stat:.3f}, p = {self.hansen.pvalue:.4f}",
            ),
        ]
        ci = self.conf_int()
        table = pd.DataFrame(
            {
                "coef": self.params,
                "std_err": self.std_errors,
                "z": self.tstats,
                "p>|z|": self.pvalues,
                "ci_lower": ci["lower"],
                "ci_upper": ci["upper"],
            }
        )
        return "Dynamic panel GMM results", header, [table]


def _lagged_diff_resid(s: StackedSystem, u: np.ndarray, order: int) -> np.ndarray:
    """Differenced residual lagged ``order`` periods (same entity), zero where absent.

    Only differenced rows carry a value; level rows are zero.
    """
    w = np.zeros_like(u)
    idx = np.flatnonzero(s.is_diff)
    if idx.size == 0:
        return w
    span = int(s.period.max() - s.period.min()) + order + 2
    t0 = s.period.min()
    key = s.group[idx].astype(np.int64) * span + (s.period[idx] - t0)
    sorter = np.argsort(key)
    target = key - order
    pos = np.clip(np.searchsorted(key[sorter], target), 0, len(key) - 1)
    hit = (key[sorter][pos] == target) & (s.period[idx] - t0 >= order)
    w[idx[hit]] = u[idx[sorter[pos[hit]]]]
    return w
