"""The honest end-to-end test: what estimation error costs a plan.

Simulate a panel with known truth, calibrate, write the estimates into an instance,
solve with the estimates and with the truth, and score both plans under the *true*
parameters with the exact response curves (:func:`talentplan.simulation.simulate`). The
regret ``value(plan that knew the truth) - value(plan from the estimates)`` is what the
planner loses by not knowing the parameters; it is non-negative up to the tolerance
``gap * value + approximation error`` (the MIP gap of the true solve and the
piecewise-linear error bound of the true instance).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from talentplan._display import DisplayMixin
from talentplan.data.instance import Instance
from talentplan.data.parameters import ResponseParameters
from talentplan.data.provenance import Provenance, parse_key
from talentplan.data.responses import apply_parameters
from talentplan.errors import CalibrationError, TalentPlanWarning
from talentplan.report.pipeline import solve
from talentplan.simulation import simulate

__all__ = ["RegretReport", "end_to_end_regret", "plan_regret"]


@dataclass(frozen=True)
class RegretReport(DisplayMixin):
    """What planning with estimated parameters costs, scored under the truth.

    Attributes
    ----------
    value_true_plan
        Value (exact curves, true parameters) of the plan solved with the truth.
    value_estimated_plan
        Value (exact curves, true parameters) of the plan solved with the estimates.
    regret
        ``value_true_plan - value_estimated_plan``.
    relative_regret
        ``regret / |value_true_plan|``.
    tolerance
        How far below zero the regret may fall: the true solve's gap on the model
        (``summary["mip_gap"]``) times ``|value_true_plan|``, plus the piecewise error.
    promised_value
        Value the estimated plan was expected to reach under the estimates (exact curves):
        the difference with ``value_estimated_plan`` is the planner's optimism.
    objective_name
        The objective scored.
    true_parameters, estimated_parameters
        The two parameter sets.
    true_plan, estimated_plan
        The two allocations.
    robustness
        Optional: per draw from the estimates' sampling distribution, the value of both
        plans under the drawn parameters (columns ``draw``, ``value_estimated_plan``,
        ``value_true_plan``).
    """

    value_true_plan: float
    value_estimated_plan: float
    regret: float
    relative_regret: float
    tolerance: float
    promised_value: float
    objective_name: str
    true_parameters: ResponseParameters = field(repr=False)
    estimated_parameters: ResponseParameters = field(repr=False)
    true_plan: pd.DataFrame = field(repr=False)
    estimated_plan: pd.DataFrame = field(repr=False)
    robustness: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def same_plan(self) -> bool:
        """Whether both plans make the same decisions (quantities within 1e-6)."""
        cols = ["county", "program", "industry", "year"]

        def active(plan: pd.DataFrame) -> pd.Series:
            p = plan.assign(**{c: plan[c].fillna("").astype(str) for c in cols[:3]})
            q = p.set_index(cols)["quantity"].astype(float)
            return q[q.abs() > 1e-9].sort_index()

        a, b = active(self.true_plan), active(self.estimated_plan)
        if list(a.index) != list(b.index):
            return False
        return bool(np.allclose(a.to_numpy(), b.to_numpy(), atol=1e-6))

    def _summary_tables(self) -> tuple[str, list[tuple[str, str]], list[pd.DataFrame]]:
        head = [
            ("Objective", self.objective_name),
            ("Value of the plan that knew the truth", f"{self.value_true_plan:.6g}"),
            ("Value of the plan from the estimates", f"{self.value_estimated_plan:.6g}"),
            ("Regret", f"{self.regret:.6g} ({100 * self.relative_regret:.4g}%)"),
            ("Tolerance (gap + piecewise error)", f"{self.tolerance:.6g}"),
            ("Value the estimates promised", f"{self.promised_value:.6g}"),
            ("Same plan", str(self.same_plan)),
        ]
        t = self.true_parameters.estimates.rename("true")
        e = self.estimated_parameters.estimates.rename("estimated")
        se = self.estimated_parameters.std_errors.rename("std_error")
        tables = [pd.concat([t, e, se], axis=1)]
        if self.robustness is not None:
            tables.append(self.robustness.describe().loc[["mean", "std", "min", "max"]])
        return "Regret of planning with estimated parameters", head, tables


def plan_regret(
    instance: Instance,
    estimated: ResponseParameters,
    truth: ResponseParameters | Mapping[str, float],
    *,
    mip_gap: float = 1e-4,
    time_limit: float | None = None,
    clip: bool = True,
    draws: int = 0,
    seed: int = 0,
    solve_options: Mapping[str, Any] | None = None,
) -> RegretReport:
    """Solve with the estimates and with the truth; score both plans under the truth.

    Parameters
    ----------
    instance
        The planning instance; its responses must have a row for every key.
    estimated
        Calibrated parameters.
    truth
        The true parameters (same keys), e.g. :meth:`SimulatedPanel.true_parameters`.
    mip_gap, time_limit, solve_options
        Passed to :func:`talentplan.solve`.
    clip
        Clip inadmissible estimates (negative effects, shares above one) with a warning.
    draws, seed
        If ``draws > 0``, also score both plans under ``draws`` parameter sets drawn
        from the estimates' sampling distribution (clipped to their bounds).
    """
    if isinstance(truth, ResponseParameters):
        true_values = truth.estimates.to_dict()
        true_rp = truth
    else:
        true_values = {str(k): float(v) for k, v in truth.items()}
        keys = list(true_values)
        true_rp = ResponseParameters(
            pd.Series(true_values),
            pd.DataFrame(0.0, index=keys, columns=keys),
            Provenance(data_hash=None, estimator="truth"),
        )
    if set(true_values) != set(estimated.keys):
        raise CalibrationError(
            f"truth and estimates must have the same keys; truth {sorted(true_values)}, "
            f"estimates {sorted(estimated.keys)}."
        )
    opts = {"compare": False, **(solve_options or {})}
    inst_true = apply_parameters(instance, true_values, source="truth")
    inst_est = apply_parameters(instance, estimated, clip=clip)
    sol_true = solve(inst_true, mip_gap=mip_gap, time_limit=time_limit, **opts)
    sol_est = solve(inst_est, mip_gap=mip_gap, time_limit=time_limit, **opts)
    v_true = simulate(inst_true, sol_true.allocation).objective
    v_est = simulate(inst_true, sol_est.allocation).objective
    promised = simulate(inst_est, sol_est.allocation).objective
    regret = v_true - v_est
    # What the true solve may have left on the table: HiGHS's gap on the model, plus what
    # the chords may understate.
    model_gap = float(sol_true.summary["mip_gap"])
    gap = model_gap if np.isfinite(model_gap) else mip_gap
    tol = gap * abs(v_true) + float(sol_true.summary.get("approximation_error", 0.0)) + 1e-6
    robustness = None
    if draws:
        rows = []
        sample = estimated.draw(int(draws), seed=seed)
        for i, row in sample.iterrows():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TalentPlanWarning)
                inst_d = apply_parameters(instance, row.to_dict(), clip=True, source="draw")
            rows.append(
                {
                    "draw": int(i),
                    "value_estimated_plan": simulate(inst_d, sol_est.allocation).objective,
                    "value_true_plan": simulate(inst_d, sol_true.allocation).objective,
                }
            )
        robustness = pd.DataFrame(rows).set_index("draw")
    return RegretReport(
        value_true_plan=float(v_true),
        value_estimated_plan=float(v_est),
        regret=float(regret),
        relative_regret=float(regret / abs(v_true)) if v_true else float("nan"),
        tolerance=float(tol),
        promised_value=float(promised),
        objective_name=inst_true.scenario.objective,
        true_parameters=true_rp,
        estimated_parameters=estimated,
        true_plan=sol_true.allocation.copy(),
        estimated_plan=sol_est.allocation.copy(),
        robustness=robustness,
    )


def end_to_end_regret(
    instance: Instance,
    n_counties: int = 100,
    n_years: int = 12,
    *,
    seed: int = 0,
    truth: Mapping[str, float] | None = None,
    mip_gap: float = 1e-4,
    time_limit: float | None = None,
    draws: int = 0,
) -> RegretReport:
    """Simulate a panel, calibrate it, and report the regret of planning with the estimates.

    The panel comes from :func:`~talentplan.calibrate.bridge.simulator.simulate_panel`
    (``seed``, ``truth``), is calibrated with
    :func:`~talentplan.calibrate.bridge.spec.simulated_panel_spec` (retention of ``centre`` for
    ``eng`` by two-way fixed effects, the ``subsidy`` ``inflow_log`` value for ``eng`` by
    panel IV), and the two parameter sets go through :func:`plan_regret`.

    ``seed`` seeds a :class:`numpy.random.SeedSequence` whose two spawned children seed
    the panel and the parameter draws, so the two streams are independent.

    Warnings of the calibration (missing values, specification and estimation
    warnings) reach the caller unfiltered; a simulated panel is balanced and complete,
    so normally there are none.

    Raises
    ------
    CalibrationError
        When the instance's subsidy ``scale`` differs from the simulator's ``theta``:
        the estimated ``beta`` would then describe a different curve.
    """
    from talentplan.calibrate.bridge.run import run_calibration
    from talentplan.calibrate.bridge.simulator import simulate_panel
    from talentplan.calibrate.bridge.spec import simulated_panel_spec

    panel_ss, draws_ss = np.random.SeedSequence(seed).spawn(2)
    sim = simulate_panel(n_counties, n_years, seed=int(panel_ss.generate_state(1)[0]), truth=truth)
    keys = sim.response_keys
    _check_subsidy_scale(instance, keys["beta"], float(sim.truth["theta"]))
    spec = simulated_panel_spec(service_key=keys["rho"], subsidy_key=keys["beta"])
    _, estimated = run_calibration(sim.data, spec)
    return plan_regret(
        instance,
        estimated,
        sim.true_parameters(),
        mip_gap=mip_gap,
        time_limit=time_limit,
        draws=draws,
        seed=int(draws_ss.generate_state(1)[0]),
    )


def _check_subsidy_scale(instance: Instance, key: str, theta: float) -> None:
    """Raise unless the instance's response row for ``key`` has ``scale == theta``."""
    program, talent_type, effect = parse_key(key)
    r = instance.tables["responses"]
    rows = r[
        (r["program"] == program)
        & (r["talent_type"].fillna("") == talent_type)
        & (r["effect"] == effect)
    ]
    if rows.empty:
        return  # apply_parameters names the missing row
    scale = pd.to_numeric(rows["scale"], errors="coerce").iloc[0]
    if not (np.isfinite(scale) and np.isclose(scale, theta, rtol=1e-9, atol=0.0)):
        raise CalibrationError(
            f"the instance '{instance.scenario.name}' has scale {scale!r} for {key!r}, but the "
            f"simulator's theta is {theta:g}: the estimated inflow_log value would describe "
            f"a different curve. Set that response's scale to {theta:g}, or pass "
            f"truth={{'theta': {scale!r}}}."
        )
