"""Results of :class:`~talentplan.calibrate.dynamic.model.DynamicPanelGMM`.

:class:`DynamicPanelGMMResults` exposes the one- or two-step estimates with their
covariance (inference from :class:`~talentplan.calibrate.shared.results.EstimationResults`,
normal, or Student-t with ``xtabond2``'s small-sample scaling when fitted with
``small=True``), the sample counts Stata's ``xtabond``/``xtdpdsys``/``xtabond2``
report, the Wald (or F) test of the slopes, and the Arellano-Bond, Sargan and Hansen
specification tests as :class:`SpecificationTest` records; the summary prints a
warning line for each of these tests that rejects the model at 5% and when
instruments outnumber groups. The matrix algebra lives in
:mod:`talentplan.calibrate.dynamic.gmm`.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

# scipy.stats is imported where p-values and critical values are computed: importing it
# takes seconds on a cold start, and constructing an estimator should not pay for it.
import numpy as np
import pandas as pd

from talentplan.calibrate.dynamic.gmm import GMMCore
from talentplan.calibrate.dynamic.instruments import StackedSystem
from talentplan.calibrate.shared.results import EstimationResults
from talentplan.errors import CalibrationError

__all__ = ["CovType", "DynamicPanelGMMResults", "SpecificationTest"]

CovType = Literal["robust", "unadjusted"]
"""Covariances of dynamic panel GMM: robust (Windmeijer for two-step) or unadjusted."""


@dataclass(frozen=True)
class SpecificationTest:
    """A specification test: statistic, p-value and (for chi-square tests) df."""

    name: str
    stat: float
    pvalue: float
    df: int | None = None

    @property
    def reason(self) -> str:
        """Why the statistic or p-value is NaN (empty when both are finite)."""
        if np.isfinite(self.stat) and np.isfinite(self.pvalue):
            return ""
        wald = self.name.startswith(("Wald", "F("))
        if self.df == 0:
            if wald:
                return "no coefficient besides the constant to test"
            return "exactly identified (no overidentifying restrictions)"
        if wald:
            return "the covariance of the coefficients tested is singular"
        if self.name.startswith("AR("):
            order = self.name[3:-1]
            return (
                "the statistic's variance is not positive (too few periods for "
                f"residuals {order} apart)"
            )
        return "the statistic is not finite"

    def describe(self, stat_name: str = "stat", digits: int = 4) -> str:
        """Return ``stat = ..., p = ...`` (with df for chi-square tests), or the reason."""
        if self.reason:
            return f"not computed: {self.reason}"
        label = f"chi2({self.df})" if self.df is not None and stat_name == "chi2" else stat_name
        return f"{label} = {self.stat:.{digits}f}, p = {self.pvalue:.4f}"

    def __str__(self) -> str:
        """Show the test's name, statistic, degrees of freedom and p-value on one line."""
        if self.reason:
            return f"{self.name}: not computed: {self.reason}"
        df = f", df={self.df}" if self.df is not None else ""
        return f"{self.name}: stat={self.stat:.4f}{df}, p={self.pvalue:.4f}"


class DynamicPanelGMMResults(EstimationResults):
    """Results of :class:`DynamicPanelGMM`; immutable, statistics computed lazily."""

    title = "Dynamic panel GMM results"

    @property
    def name(self) -> str:
        """Estimator label for :func:`compare`."""
        return f"{self.method.capitalize()} GMM"

    @property
    def fixed_effects(self) -> dict[str, bool]:
        """The entity effect is differenced out; year effects only as regressors."""
        return {"Entity": True, "Time": False}

    def __init__(
        self,
        system: StackedSystem,
        steps: int,
        cov_type: CovType,
        options: Mapping[str, object],
        core: GMMCore | None = None,
        h: int = 3,
        small: bool = False,
        dependent: str = "",
    ) -> None:
        self._dependent = dependent
        self._s = system
        self._steps = steps
        self._cov_type: CovType = cov_type
        self._h = h
        self._small = small
        self._core = GMMCore(system, h) if core is None else core
        # a private copy: the results describe the model as it was fitted
        self._options = copy.deepcopy(dict(options))
        self._method: str = str(self._options["method"])

    # --- basic attributes -------------------------------------------------------------
    @property
    def dependent(self) -> str:
        """The dependent variable's column (empty when not recorded)."""
        return self._dependent

    @property
    def method(self) -> str:
        """``"difference"`` or ``"system"``, as fitted."""
        return self._method

    @property
    def options(self) -> dict[str, object]:
        """The model options as fitted (a copy)."""
        return copy.deepcopy(self._options)

    @property
    def provenance_options(self) -> dict[str, object]:
        """Estimator options to record in calibration provenance (JSON-ready).

        The instrument specifications ``gmm`` and ``iv`` appear as lists of dicts.
        """
        opts = self.options
        for key in ("gmm", "iv"):
            specs = opts.get(key)
            if isinstance(specs, list):
                opts[key] = [dataclasses.asdict(spec) for spec in specs]
        return {
            **opts,
            "steps": self._steps,
            "cov_type": self._cov_type,
            "h": self._h,
            "small": self._small,
        }

    @property
    def steps(self) -> int:
        """1 for one-step, 2 for two-step GMM, as fitted."""
        return self._steps

    @property
    def cov_type(self) -> str:
        """``"robust"`` or ``"unadjusted"``, as fitted."""
        return self._cov_type

    @property
    def h(self) -> int:
        """The one-step weighting structure (1, 2 or 3, as ``xtabond2``'s ``h()``)."""
        return self._h

    @property
    def small(self) -> bool:
        """Whether small-sample (t and F) inference was requested."""
        return self._small

    @property
    def df_resid(self) -> int | None:
        """Degrees of freedom of the t statistics; None (normal inference) unless ``small``.

        With ``small``, ``groups - 1`` for the robust covariances (they sum over
        entities, as a clustered covariance) and ``observations - parameters`` for the
        unadjusted ones, as ``xtabond2``.
        """
        if not self._small:
            return None
        if self._cov_type == "robust":
            return self.n_groups - 1
        return self.nobs - len(self._beta)

    @cached_property
    def _beta(self) -> np.ndarray:
        return self._core.beta(self._steps)

    @cached_property
    def _resid(self) -> np.ndarray:
        return self._core.resid(self._steps)

    @cached_property
    def _cov(self) -> np.ndarray:
        cov = self._core.cov(self._steps, self._cov_type == "robust")
        return cov * self.small_sample_factor

    @property
    def small_sample_factor(self) -> float:
        """The factor ``small`` scales the covariance by (1.0 without ``small``).

        As ``xtabond2``'s ``small``: ``(N - 1) / (N - k) * G / (G - 1)`` for the robust
        covariances, the finite-sample factor of a covariance clustered by entity, and
        ``N / (N - k)`` for the unadjusted ones, with ``N`` = :attr:`nobs`, ``k``
        parameters and ``G`` = :attr:`n_groups`.
        """
        if not self._small:
            return 1.0
        n, k, g = self.nobs, len(self._beta), self.n_groups
        if n <= k:
            return float("nan")
        if self._cov_type == "robust":
            return (n - 1) / (n - k) * g / (g - 1)
        return n / (n - k)

    @property
    def params(self) -> pd.Series:
        """Estimates: ``L1.<dependent>``, ..., the regressors, then ``const``."""
        return pd.Series(self._beta, index=self._s.regressors, name="params")

    @property
    def cov(self) -> pd.DataFrame:
        """Covariance of the estimates (robust or unadjusted, see :attr:`cov_type`)."""
        names = self._s.regressors
        return pd.DataFrame(self._cov, index=names, columns=names)

    @property
    def tstats(self) -> pd.Series:
        """Estimates divided by their standard errors (z statistics; t with ``small``)."""
        return super().tstats.rename("t_stat" if self._small else "z_stat")

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Return confidence intervals at ``level`` (strictly between 0 and 1).

        Normal-based, or Student-t with :attr:`df_resid` degrees of freedom with ``small``.
        """
        return super().conf_int(level)

    @property
    def resids(self) -> pd.Series:
        """Residuals of the stacked equations (differenced first, then levels)."""
        s = self._s
        idx = pd.MultiIndex.from_arrays(
            [
                np.asarray(s.entities)[s.group],
                s.period,
                np.where(s.is_diff, "difference", "level"),
            ],
            names=["entity", "time", "equation"],
        )
        return pd.Series(self._resid, index=idx, name="resid")

    @property
    def nobs(self) -> int:
        """Observations: differenced equations (difference GMM) or level equations (system)."""
        s = self._s
        return int(s.is_diff.sum()) if self.method == "difference" else int((~s.is_diff).sum())

    @property
    def nobs_difference(self) -> int:
        """Number of differenced equations."""
        return int(self._s.is_diff.sum())

    @property
    def nobs_level(self) -> int:
        """Number of level equations (0 for difference GMM)."""
        return int((~self._s.is_diff).sum())

    @property
    def n_groups(self) -> int:
        """Number of entities with at least one equation."""
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
        """Number of instrument columns (those not identically zero in the sample)."""
        return int(self._s.z.shape[1])

    @property
    def instruments(self) -> list[str]:
        """Names of the instrument columns.

        ``y:L2@2003`` is lag 2 of ``y`` in the 2003 equations (``y:L2`` when collapsed),
        ``D.y:L1@2003`` a lagged difference for the level equations, ``D.x`` an
        iv-style difference in the differenced equations, ``x`` an iv-style level in the
        level equations, ``x[both]`` the two in one column, ``const`` the constant.
        """
        return list(self._s.instruments)

    # --- specification tests -----------------------------------------------------------
    @cached_property
    def sargan(self) -> SpecificationTest:
        """Sargan test from the one-step residuals, valid under homoskedasticity.

        As ``xtabond2`` reports it: the error variance is the differenced one-step
        residuals' sum of squares over ``2 n`` (see :meth:`sargan_test`).
        """
        return self.sargan_test()

    def sargan_test(self, dof_correction: bool = False) -> SpecificationTest:
        """Sargan test of the overidentifying restrictions from the one-step residuals.

        Parameters
        ----------
        dof_correction
            False (the default): the error variance divides the differenced one-step
            residuals' sum of squares by ``2 n``, as ``xtabond2``; True: by
            ``2 (n - k)``, as Stata's ``estat sargan`` after ``xtabond``. ``n`` counts
            the differenced equations, ``k`` the parameters.

        Returns
        -------
        SpecificationTest
            The statistic, chi-square with ``instruments - parameters`` degrees of
            freedom under homoskedastic errors.
        """
        from scipy import stats

        stat = self._core.sargan(bool(dof_correction))
        df = self.n_instruments - len(self._beta)
        return SpecificationTest("Sargan", stat, float(stats.chi2.sf(stat, df)), df)

    @cached_property
    def hansen(self) -> SpecificationTest:
        """Hansen J test from the two-step estimates (robust to heteroskedasticity)."""
        from scipy import stats

        stat = self._core.hansen()
        df = self.n_instruments - len(self._beta)
        return SpecificationTest("Hansen J", stat, float(stats.chi2.sf(stat, df)), df)

    @cached_property
    def wald(self) -> SpecificationTest:
        """Joint test that every coefficient but the constant is zero.

        Wald chi-square with as many degrees of freedom as coefficients tested; with
        ``small`` the F statistic (chi-square over its degrees of freedom) with
        (coefficients, :attr:`df_resid`) degrees of freedom, as ``xtabond2``. Uses the
        covariance of :attr:`cov`.
        """
        from scipy import stats

        keep = [i for i, name in enumerate(self._s.regressors) if name != "const"]
        b = self._beta[keep]
        v = self._cov[np.ix_(keep, keep)]
        q = len(keep)
        try:
            chi2 = float(b @ np.linalg.solve(v, b))
        except np.linalg.LinAlgError:
            chi2 = float("nan")
        df_r = self.df_resid
        if df_r is None:
            return SpecificationTest("Wald chi2", chi2, float(stats.chi2.sf(chi2, q)), q)
        f = chi2 / q
        return SpecificationTest(f"F({q}, {df_r})", f, float(stats.f.sf(f, q, df_r)), q)

    @property
    def warnings(self) -> list[str]:
        """Plain statements of the specification problems these results show.

        One line each when the Hansen test rejects the overidentifying restrictions at 5%,
        when the Arellano-Bond AR(2) test rejects no second-order autocorrelation in
        differences at 5%, or when there are more instruments than groups; the summary
        prints them. Empty when none applies.
        """
        out: list[str] = []
        hansen, ar2 = self.hansen, self.ar2
        if np.isfinite(hansen.pvalue) and hansen.pvalue < 0.05:
            out.append(f"Hansen test rejects the instruments at 5% (p = {hansen.pvalue:.4f})")
        if np.isfinite(ar2.pvalue) and ar2.pvalue < 0.05:
            out.append(
                f"AR(2) in differences rejects at 5% (p = {ar2.pvalue:.4f}): "
                "lag-2 instruments are invalid"
            )
        if self.n_instruments > self.n_groups:
            out.append(
                f"{self.n_instruments} instruments exceed {self.n_groups} groups: "
                "the Hansen test is weakened"
            )
        return out

    def ar_test(self, order: int) -> SpecificationTest:
        """Test for autocorrelation of ``order`` in the differenced residuals (Arellano-Bond).

        Parameters
        ----------
        order
            The lag tested, a positive integer; under the model's assumptions AR(1) is
            expected and AR(2) is not.

        Returns
        -------
        SpecificationTest
            The z statistic and its two-sided normal p-value.
        """
        from scipy import stats

        if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
            raise CalibrationError(f"order must be a positive integer, got {order!r}")
        order = int(order)
        stat = self._core.ar(order, self._steps, self._cov_type == "robust")
        return SpecificationTest(f"AR({order})", stat, float(2 * stats.norm.sf(abs(stat))))

    @cached_property
    def ar1(self) -> SpecificationTest:
        """Arellano-Bond test of first-order autocorrelation (expected to reject)."""
        return self.ar_test(1)

    @cached_property
    def ar2(self) -> SpecificationTest:
        """Arellano-Bond test of second-order autocorrelation (should not reject)."""
        return self.ar_test(2)

    # --- presentation -------------------------------------------------------------------
    def _summary_tables(self) -> tuple[str, list[tuple[str, str]], list[pd.DataFrame]]:
        name = {"difference": "Arellano-Bond difference", "system": "Blundell-Bond system"}[
            self.method
        ]
        step = "one-step" if self._steps == 1 else "two-step"
        if self._cov_type == "robust":
            cov = "robust" if self._steps == 1 else "Windmeijer-corrected robust"
        else:
            cov = "unadjusted"
        if self._small:
            cov += f", small-sample (t with {self.df_resid} df)"
        lo, avg, hi = self.obs_per_group
        wald = self.wald
        wald_text = (
            f"not computed: {wald.reason}"
            if wald.reason
            else f"{wald.name} = {wald.stat:.2f}, p = {wald.pvalue:.4f}"
            if self._small
            else f"chi2({wald.df}) = {wald.stat:.2f}, p = {wald.pvalue:.4f}"
        )
        header = [
            ("Estimator", f"{name} GMM, {step}, h = {self._h}"),
            ("Covariance", cov),
            ("Observations", str(self.nobs)),
            ("Groups", str(self.n_groups)),
            ("Obs per group (min/avg/max)", f"{lo} / {avg:.3f} / {hi}"),
            ("Instruments", str(self.n_instruments)),
            ("Wald" if not self._small else "F test", wald_text),
            ("AR(1)", self.ar1.describe("z")),
            ("AR(2)", self.ar2.describe("z")),
            ("Sargan", self.sargan.describe("chi2", 3)),
            ("Hansen J", self.hansen.describe("chi2", 3)),
        ]
        header += [("Warning", text) for text in self.warnings]
        ci = self.conf_int()
        table = pd.DataFrame(
            {
                "estimate": self.params,
                "std_error": self.std_errors,
                "statistic": self.tstats,
                "p_value": self.pvalues,
                "ci_lower": ci["lower"],
                "ci_upper": ci["upper"],
            }
        )
        return self.title, header, [table]
