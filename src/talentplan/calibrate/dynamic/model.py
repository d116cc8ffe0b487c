"""Dynamic panel GMM: Arellano-Bond difference and Blundell-Bond system estimators.

The model is

    y_it = a_1 y_i,t-1 + ... + a_p y_i,t-p + b'x_it + mu_i + e_it,

with unobserved entity effects ``mu_i``. Difference GMM (Arellano and Bond 1991)
removes ``mu_i`` by first differencing and instruments the differenced equation with
lagged levels; system GMM (Arellano and Bover 1995; Blundell and Bond 1998) adds the
level equations instrumented with lagged differences, which stays informative when
the series are persistent.

Instruments. A GMM-style specification ``gmm(v, lag(lo hi))`` (Roodman 2009) gives the
moment conditions

    E[v_i,t-s * (e_it - e_i,t-1)] = 0,   s = lo, ..., hi      (differenced equation)
    E[(v_i,t-lo+1 - v_i,t-lo) * (mu_i + e_it)] = 0             (level equation)

with one instrument column per period and lag, or per lag when collapsed; an
iv-style specification ``iv(x, eq())`` gives ``E[(x_it - x_i,t-1)(e_it - e_i,t-1)] = 0``
and/or ``E[x_it (mu_i + e_it)] = 0``, one column. ``gmm`` and ``iv`` name them per
variable, as ``xtabond2`` does; without them the defaults follow Stata's
``xtabond``/``xtdpdsys``:

* strictly exogenous regressors (``exog``) instrument themselves in first
  differences, one column each, in the differenced equation;
* the dependent variable and ``endogenous`` regressors get GMM-style instruments
  from lag 2 back, ``predetermined`` regressors from lag 1 back; in system GMM the
  level equation uses ``D.L1`` of the dependent and endogenous variables, ``D`` of
  the predetermined ones, and the constant;
* with ``method="difference"`` and ``constant=True`` a column of ones enters the
  *differenced* equation (equivalent to a linear trend in levels), as ``xtabond``
  does; in system GMM the constant enters the level equation.

Estimation. One-step GMM weights the moments by ``(Z'HZ)^-1``, ``H`` the covariance of
the stacked errors up to scale under i.i.d. errors (``fit(h=...)``, as ``xtabond2``'s
``h()``: ``h=3``, the default, as ``xtabond2``, includes the covariances between a
differenced and a level equation; ``h=2`` leaves them out, as ``xtdpdsys``; ``h=1`` is
the identity); two-step GMM by the inverse of ``sum_i Z_i'u_i u_i'Z_i`` from the
one-step residuals. ``fit(small=True)`` gives ``xtabond2``'s small-sample t and F
inference. The Sargan statistic divides by ``2 n`` as ``xtabond2``
(``sargan_test(dof_correction=True)``: ``2 (n - k)``, as ``xtabond``'s
``estat sargan``). Further conventions:

* lags are taken by actual time. The time index must be integer-like (years); one
  lag is one time step, the greatest common divisor of the gaps between observed
  periods (so biennial years lag by two years, as with Stata's ``xtset, delta(2)``); an
  observation whose lag falls in a gap has no lag, so it drops out of the equations
  that need that lag, and missing instrument values (lags or iv-style) are set to zero;
* GMM rests on many entities (groups). Fewer than two entities with equations, or, for
  the robust covariance and two-step weights (which sum moments over entities), no more
  entities than parameters, raise :class:`~talentplan.errors.TooFewEntitiesError`; more
  instruments than entities warn (:class:`~talentplan.errors.TooManyInstrumentsWarning`,
  as ``xtabond2`` does), and a singular weight matrix raises
  :class:`~talentplan.errors.SingularWeightMatrixError` instead of being silently
  replaced by a generalized inverse;
* rows with missing values are excluded from the equations that need them, while
  their observed values still serve as lags and instruments (as Stata does); a
  ``MissingValuesWarning`` counts them.

This module validates the data and builds the stacked equations
(:mod:`talentplan.calibrate.dynamic.instruments`); the results and specification tests
are in :mod:`talentplan.calibrate.dynamic.results` and the matrix algebra in
:mod:`talentplan.calibrate.dynamic.gmm`.

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
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd

from talentplan._options import check_choice
from talentplan.calibrate.dynamic.gmm import GMMCore
from talentplan.calibrate.dynamic.instruments import (
    Equation,
    GMMStyle,
    IVStyle,
    StackedSystem,
    WeightH,
    build_grid,
    build_system,
)
from talentplan.calibrate.dynamic.results import CovType, DynamicPanelGMMResults
from talentplan.calibrate.shared.validation import (
    check_duplicates,
    check_finite,
    check_numeric,
    set_panel_index,
)
from talentplan.errors import (
    CalibrationError,
    CollinearityError,
    MissingValuesWarning,
    PanelDataError,
    SingularWeightMatrixError,
    TooFewEntitiesError,
    TooManyInstrumentsWarning,
    UnbalancedPanelWarning,
)

__all__ = ["DynamicPanelGMM", "GMMArg", "IVArg", "Method", "Steps"]

Method = Literal["difference", "system"]
"""GMM estimators: Arellano-Bond difference or Blundell-Bond system."""
Steps = Literal[1, 2]
"""One-step or two-step (efficient) GMM."""
GMMArg: TypeAlias = (
    Mapping[str, "tuple[int, int | None] | tuple[int, int | None, str] | GMMStyle"]
    | Sequence[GMMStyle]
)
"""GMM-style instruments: ``{variable: (lo, hi)}``, ``(lo, hi, "collapse")``, or specs."""
IVArg: TypeAlias = Mapping[str, Equation] | Sequence["str | IVStyle"]
"""iv-style instruments: ``{variable: equation}``, or names (both equations) and specs."""
_OPTIONS = (
    "method",
    "lags",
    "collapse",
    "max_instrument_lag",
    "constant",
    "exog",
    "predetermined",
    "endogenous",
    "gmm",
    "iv",
)
"""The constructor options a fit records, each a read-only property of the model."""


def _as_list(value: str | list[str] | tuple[str, ...] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _gmm_spec(variable: object, value: object, collapse: bool) -> GMMStyle:
    """Validate one GMM-style entry and return it as a :class:`GMMStyle`."""
    if isinstance(value, GMMStyle):
        spec = value
        if spec.variable != variable:
            raise CalibrationError(
                f"gmm: the spec under key {variable!r} names variable {spec.variable!r}"
            )
    elif isinstance(value, (tuple, list)) and len(value) in (2, 3):
        flag = value[2] if len(value) == 3 else None
        if flag not in (None, "collapse"):
            raise CalibrationError(
                f"gmm[{variable!r}]: the third element may only be 'collapse', got {flag!r}"
            )
        spec = GMMStyle(str(variable), value[0], value[1], collapse=flag == "collapse")
    else:
        raise CalibrationError(
            f"gmm[{variable!r}] must be (lo, hi), (lo, hi, 'collapse') or a GMMStyle, got {value!r}"
        )
    if not isinstance(spec.variable, str) or not spec.variable:
        raise CalibrationError(f"gmm: variable names must be strings, got {spec.variable!r}")
    if not _is_int(spec.lo) or spec.lo < 1:
        raise CalibrationError(
            f"gmm[{spec.variable!r}]: lo must be an integer >= 1, got {spec.lo!r}"
        )
    if spec.hi is not None and (not _is_int(spec.hi) or spec.hi < spec.lo):
        raise CalibrationError(
            f"gmm[{spec.variable!r}]: hi must be None (all lags) or an integer >= lo = "
            f"{spec.lo}, got {spec.hi!r}"
        )
    check_choice(
        f"gmm[{spec.variable!r}].equation", spec.equation, Equation, error=CalibrationError
    )
    return GMMStyle(
        spec.variable,
        int(spec.lo),
        None if spec.hi is None else int(spec.hi),
        collapse=bool(spec.collapse) or collapse,
        equation=spec.equation,
    )


def _resolve_gmm(gmm: GMMArg | None, collapse: bool) -> tuple[GMMStyle, ...] | None:
    """Validate the ``gmm`` argument; None when the defaults apply."""
    if gmm is None:
        return None
    if isinstance(gmm, Mapping):
        specs = [_gmm_spec(k, val, collapse) for k, val in gmm.items()]
    elif isinstance(gmm, Sequence) and not isinstance(gmm, str):
        specs = []
        for item in gmm:
            if not isinstance(item, GMMStyle):
                raise CalibrationError(
                    f"gmm as a sequence must hold GMMStyle specs, got {item!r}; or pass a "
                    "mapping {variable: (lo, hi)}"
                )
            specs.append(_gmm_spec(item.variable, item, collapse))
    else:
        raise CalibrationError(
            f"gmm must be a mapping {{variable: (lo, hi)}} or a sequence of GMMStyle, got {gmm!r}"
        )
    if not specs:
        raise CalibrationError("gmm is empty; leave it None for the default instruments")
    return tuple(specs)


def _resolve_iv(iv: IVArg | None) -> tuple[IVStyle, ...] | None:
    """Validate the ``iv`` argument; None when the defaults apply."""
    if iv is None:
        return None
    items: list[tuple[object, object]]
    if isinstance(iv, Mapping):
        items = list(iv.items())
    elif isinstance(iv, Sequence) and not isinstance(iv, str):
        items = [
            (it.variable, it.equation) if isinstance(it, IVStyle) else (it, "both") for it in iv
        ]
    else:
        raise CalibrationError(
            f"iv must be a mapping {{variable: equation}} or a sequence of names or IVStyle "
            f"specs, got {iv!r}"
        )
    specs = []
    for name, eq in items:
        if not isinstance(name, str) or not name:
            raise CalibrationError(f"iv: variable names must be strings, got {name!r}")
        check_choice(f"iv[{name!r}]", eq, Equation, error=CalibrationError)
        specs.append(IVStyle(name, eq))  # type: ignore[arg-type]
    return tuple(specs)


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
        Collapse the GMM-style instruments to one column per lag (Roodman 2009); with
        ``gmm`` given, it collapses every entry.
    max_instrument_lag
        Deepest lag used for the default GMM-style instruments of the differenced
        equation (not with ``gmm``, whose entries carry their own lags).
    constant
        Include a constant (see the module notes for how it enters).
    gmm
        GMM-style instruments per variable, as ``xtabond2``'s ``gmm(var, lag(lo hi))``:
        a mapping ``{variable: (lo, hi)}`` or ``{variable: (lo, hi, "collapse")}``, or
        a sequence of :class:`~talentplan.calibrate.dynamic.instruments.GMMStyle` (which
        also chooses the equations). Lags ``lo`` to ``hi`` of the variable (``hi=None``:
        all available) instrument the differenced equation, one column per period and
        lag (per lag when collapsed); in system GMM the difference lagged ``lo - 1``
        instruments the level equation. ``gmm={"n": (2, 4), "w": (1, 3)}`` is
        ``gmm(n, lag(2 4)) gmm(w, lag(1 3))``. Given, it replaces the default GMM-style
        instruments of the dependent variable and the ``predetermined`` and
        ``endogenous`` regressors, which then only name regressors.
    iv
        iv-style instruments, as ``xtabond2``'s ``iv(var, eq())``: a mapping
        ``{variable: "diff" | "level" | "both"}``, or a sequence of names (both
        equations) and :class:`~talentplan.calibrate.dynamic.instruments.IVStyle`. The
        variable's first difference instruments the differenced equation, its level the
        level equation; with ``"both"`` the two share one column. Given, it replaces the
        default iv-style instruments (each ``exog`` regressor's difference in the
        differenced equation), and ``exog`` then only names regressors.

    Raises
    ------
    PanelDataError
        Duplicate (entity, time) pairs; non-numeric, infinite or absent columns;
        identifiers that mix kinds of values; a time index that is not integer-like.
    CalibrationError
        Inadmissible options, among them malformed ``gmm`` or ``iv`` entries, lags
        outside ``1 <= lo <= hi``, level-equation instruments in difference GMM, and
        ``max_instrument_lag`` together with ``gmm``.

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
        gmm: GMMArg | None = None,
        iv: IVArg | None = None,
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise PanelDataError("data must be a pandas DataFrame")
        check_choice("method", method, Method, error=CalibrationError)
        if isinstance(lags, bool) or not isinstance(lags, (int, np.integer)) or lags < 1:
            raise CalibrationError(f"lags must be an integer >= 1, got {lags!r}")
        if max_instrument_lag is not None:
            floor = 2 if not _as_list(predetermined) else 1
            if int(max_instrument_lag) < floor:
                raise CalibrationError(
                    f"max_instrument_lag must be at least {floor}, got {max_instrument_lag}"
                )
        self._dependent = dependent
        self._lags = int(lags)
        self._exog = tuple(_as_list(exog))
        self._predetermined = tuple(_as_list(predetermined))
        self._endogenous = tuple(_as_list(endogenous))
        self._method: Method = method
        self._collapse = bool(collapse)
        self._max_instrument_lag = None if max_instrument_lag is None else int(max_instrument_lag)
        self._constant = bool(constant)
        regs = [*self._exog, *self._predetermined, *self._endogenous]
        if len(set(regs)) != len(regs) or dependent in regs:
            raise CalibrationError(
                "each regressor may appear once, in exactly one of exog, predetermined and "
                "endogenous, and not be the dependent variable"
            )
        self._columns = [dependent, *regs]
        gmm_specs = _resolve_gmm(gmm, self._collapse)
        iv_specs = _resolve_iv(iv)
        if gmm_specs is not None and max_instrument_lag is not None:
            raise CalibrationError(
                "max_instrument_lag applies to the default instruments only; with gmm give "
                "each variable's deepest lag as its hi"
            )
        specs: list[GMMStyle | IVStyle] = [*(gmm_specs or ()), *(iv_specs or ())]
        if method == "difference":
            for spec in specs:
                if spec.equation == "level":
                    raise CalibrationError(
                        f"{spec.variable!r} instruments only the level equation, which "
                        "method='difference' does not have; use method='system' or "
                        "equation='diff'"
                    )
        self._gmm_given, self._iv_given = gmm_specs is not None, iv_specs is not None
        self._gmm = gmm_specs if gmm_specs is not None else self._default_gmm()
        self._iv = (
            iv_specs if iv_specs is not None else tuple(IVStyle(c, "diff") for c in self._exog)
        )
        in_force: list[GMMStyle | IVStyle] = [*self._gmm, *self._iv]
        extra = [spec.variable for spec in in_force if spec.variable not in self._columns]
        # instrument-only columns: checked like the others, but their gaps drop no equation
        self._inst_columns = list(dict.fromkeys(extra))
        self._frame, self._entity, self._time = self._long_frame(
            data, entity, time, [*self._columns, *self._inst_columns]
        )

    def _default_gmm(self) -> tuple[GMMStyle, ...]:
        """Return the default GMM-style instruments of the dependent and regressor roles."""
        deep = self._max_instrument_lag
        first = [(self._dependent, 2)]
        first += [(c, 1) for c in self._predetermined]
        first += [(c, 2) for c in self._endogenous]
        return tuple(
            GMMStyle(c, lo, None if deep is None else max(lo, deep), collapse=self._collapse)
            for c, lo in first
        )

    # --- read-only options (the stacked system is cached, so they cannot change) ------
    @property
    def dependent(self) -> str:
        """Name of the dependent variable."""
        return self._dependent

    @property
    def lags(self) -> int:
        """Number of lags of the dependent variable."""
        return self._lags

    @property
    def exog(self) -> list[str]:
        """Strictly exogenous regressors (a copy)."""
        return list(self._exog)

    @property
    def predetermined(self) -> list[str]:
        """Predetermined regressors (a copy)."""
        return list(self._predetermined)

    @property
    def endogenous(self) -> list[str]:
        """Endogenous regressors (a copy)."""
        return list(self._endogenous)

    @property
    def method(self) -> Method:
        """``"difference"`` or ``"system"``."""
        return self._method

    @property
    def collapse(self) -> bool:
        """Whether the GMM-style instruments are collapsed."""
        return self._collapse

    @property
    def max_instrument_lag(self) -> int | None:
        """Deepest lag of the GMM-style instruments (None: all available)."""
        return self._max_instrument_lag

    @property
    def constant(self) -> bool:
        """Whether a constant is included."""
        return self._constant

    @property
    def gmm(self) -> list[GMMStyle]:
        """The GMM-style instrument specifications in force (given or default)."""
        return list(self._gmm)

    @property
    def iv(self) -> list[IVStyle]:
        """The iv-style instrument specifications in force (given or default)."""
        return list(self._iv)

    @property
    def options(self) -> dict[str, object]:
        """The model options as a new dict (recorded by the results at fit time)."""
        return {name: getattr(self, name) for name in _OPTIONS}

    # --- data handling -----------------------------------------------------------------
    @staticmethod
    def _long_frame(
        data: pd.DataFrame, entity: str | None, time: str | None, columns: list[str]
    ) -> tuple[pd.DataFrame, str, str]:
        """Index and check the panel with the shared helpers; long float64 columns.

        Booleans are accepted as 0/1, as by the other estimators.
        """
        indexed = set_panel_index(data, entity, time)
        check_duplicates(indexed)
        ent, tim = (str(n) for n in indexed.index.names)
        if not pd.api.types.is_numeric_dtype(indexed.index.get_level_values(1).dtype):
            raise PanelDataError(f"time column '{tim}' must be integer-like periods (e.g. years)")
        # an identifier may also be a regressor (a linear trend in the year, say)
        for level, name in enumerate((ent, tim)):
            if name in columns and name not in indexed.columns:
                indexed[name] = indexed.index.get_level_values(level)
        numeric = check_numeric(indexed, columns)
        check_finite(numeric, columns)
        frame = numeric.reset_index(drop=True)
        for level, name in enumerate((ent, tim)):
            if name not in frame.columns:
                frame.insert(level, name, indexed.index.get_level_values(level))
        return frame, ent, tim

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
        grid = build_grid(frame, self._entity, self._time, [*self._columns, *self._inst_columns])
        sizes = frame.groupby(self._entity).size()
        bounds = frame.groupby(self._entity)[self._time].agg(["min", "max"])
        spans = (bounds["max"] - bounds["min"]).round().astype("int64") // grid.step + 1
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
            self._dependent,
            self._lags,
            [*self._exog, *self._predetermined, *self._endogenous],
            list(self._gmm),
            list(self._iv),
            self._method,
            self._constant,
        )
        self._check(system)
        return system

    def _check(self, s: StackedSystem) -> None:
        if s.x.shape[0] == 0:
            raise CalibrationError(
                "no usable observations: every equation lacks a lag or a value; check the "
                f"number of periods per entity and the number of lags (one lag is one time "
                f"step of {s.step} in '{self._time}')"
            )
        groups = np.unique(s.group)
        if groups.size < 2:
            raise TooFewEntitiesError(
                f"dynamic panel GMM needs at least 2 entities with usable equations; found "
                f"{groups.size} ('{self._entity}' = {s.entities[groups[:1]].tolist()[0]!r}). Its "
                "weights and standard errors rest on many entities; with one time series use a "
                "time-series estimator instead"
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
        n_z = s.z.shape[1]
        if n_z < k:
            raise CalibrationError(
                f"under-identified: {n_z} instruments for {k} parameters; add lags or instruments"
            )

    def fit(
        self,
        *,
        steps: Steps = 1,
        cov_type: CovType = "robust",
        h: WeightH = 3,
        small: bool = False,
    ) -> DynamicPanelGMMResults:
        """Estimate the model.

        Parameters
        ----------
        steps
            1 for one-step GMM (weights ``(Z'HZ)^-1`` from the structure ``H`` chosen by
            ``h``), 2 for two-step efficient GMM (weights from the one-step residuals).
        cov_type
            ``"robust"``: the Arellano-Bond robust covariance for one-step, the
            Windmeijer (2005) corrected covariance for two-step. ``"unadjusted"``:
            the conventional GMM covariance (homoskedastic for one-step).
        h
            The one-step weighting structure ``H``, as ``xtabond2``'s ``h()``: ``1`` the
            identity; ``2`` MA(1) in the differenced equations and the identity in the
            level equations, with no cross terms (Stata's ``xtabond``/``xtdpdsys`` and
            DPD for Ox); ``3`` (the default, as ``xtabond2``'s default ``h(3)``) adds the
            covariances i.i.d. errors imply between a differenced and a level equation
            (+1 at the same period, -1 with the period before). For difference GMM 2
            and 3 coincide. Two-step estimates depend on ``h`` only through the one-step
            residuals.
        small
            Small-sample inference, as ``xtabond2``'s ``small``: Student-t statistics
            and F instead of z and chi-square, with ``groups - 1`` degrees of freedom for
            the robust covariances and ``observations - parameters`` for the unadjusted
            ones (see :attr:`DynamicPanelGMMResults.df_resid`).

        Returns
        -------
        DynamicPanelGMMResults

        Raises
        ------
        TooFewEntitiesError
            Fewer than two entities with equations; or, for the robust covariance or
            two-step GMM, no more entities than parameters.
        SingularWeightMatrixError
            The one-step weight matrix is singular; or, for two-step GMM with no more
            instruments than entities, the two-step one is.
        CollinearityError
            The transformed regressors are rank deficient.

        Warns
        -----
        TooManyInstrumentsWarning
            More instruments than entities.
        """
        check_choice("steps", steps, Steps, error=CalibrationError)
        check_choice("cov_type", cov_type, CovType, error=CalibrationError)
        if not _is_int(h):
            raise CalibrationError(f"h must be 1, 2 or 3, got {h!r}")
        check_choice("h", h, WeightH, error=CalibrationError)
        if not isinstance(small, (bool, np.bool_)):
            raise CalibrationError(f"small must be True or False, got {small!r}")
        s = self._system
        n_groups = int(np.unique(s.group).size)
        k = s.x.shape[1]
        if (cov_type == "robust" or steps == 2) and n_groups <= k:
            need = "two-step weights sum" if steps == 2 else "robust covariance sums"
            raise TooFewEntitiesError(
                f"the {need} moments over entities, so this fit needs more entities than "
                f"parameters: {n_groups} entities for {k} parameters "
                f"({', '.join(s.regressors)}). Add entities, or use steps=1 with "
                "cov_type='unadjusted' knowingly"
            )
        n_z = s.z.shape[1]
        if n_z > n_groups:
            remedy = "collapse=True or a smaller max_instrument_lag"
            if self._collapse:
                remedy = "a smaller max_instrument_lag (the instruments are already collapsed)"
            if self._gmm_given:
                remedy = "collapsed or shorter lag ranges in gmm"
            warnings.warn(
                f"{n_z} instruments for {n_groups} groups (entities): the two-step "
                "weights use a generalized inverse and the Hansen test is weakened (a "
                "p-value near 1 is then no evidence that the instruments are valid). Use "
                f"{remedy} to bring the instruments below the number of groups",
                TooManyInstrumentsWarning,
                stacklevel=2,
            )
        core = GMMCore(s, int(h))
        rank = int(np.linalg.matrix_rank(core.zhz, hermitian=True))
        if rank < n_z:
            raise SingularWeightMatrixError(
                f"the one-step weight matrix Z'HZ ({n_z} x {n_z}, h={int(h)}) has rank "
                f"{rank}: some instruments are linear combinations of others in this "
                f"sample ({s.x.shape[0]} equations). Reduce them with collapse=True, "
                "max_instrument_lag or shorter gmm lag ranges, or drop a regressor whose "
                "instruments duplicate another's"
            )
        if steps == 2 and n_z <= n_groups:
            rank = int(np.linalg.matrix_rank(core.omega1, hermitian=True))
            if rank < n_z:
                raise SingularWeightMatrixError(
                    f"the two-step weight matrix (the entity sums of instrument times "
                    f"one-step residual, {n_z} x {n_z}) has rank {rank} with {n_groups} "
                    "entities: some instruments vary in too few entities. Drop or "
                    "collapse them, or use steps=1"
                )
        core.beta(int(steps))  # a singular system raises CollinearityError here, not later
        return DynamicPanelGMMResults(
            s,
            int(steps),
            cov_type,
            self.options,
            core=core,
            h=int(h),
            small=bool(small),
            dependent=self._dependent,
        )
