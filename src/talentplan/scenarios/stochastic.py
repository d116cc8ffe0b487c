r"""Plans under parameter uncertainty: a two-stage stochastic plan, its value, a robust plan.

The response parameters are estimates with a covariance
(:class:`~talentplan.data.parameters.ResponseParameters`); :meth:`draw` gives
:math:`S` draws :math:`\theta_1..\theta_S` from their sampling distribution, each
applied to the instance (:func:`~talentplan.data.responses.apply_parameters`, clipped
to the admissible ranges) and built into its own model with objective :math:`f_s`.

**Two stages.** The first stage :math:`y` (sites, alliances, city programs and unit
counts: the integer program decisions) is decided once, before the parameters are
known; the second stage :math:`z_s` (the spend of the amount programs and everything
that follows from it) adapts to each draw. The sample average approximation (SAA) is

.. math::

    v^{SP} = \max_y \frac1S \sum_{s=1}^S Q_s(y), \qquad
    Q_s(y) = \max_{z_s} \{ f_s(y, z_s) : (y, z_s) \text{ feasible under } \theta_s \},

solved as one deterministic equivalent (:mod:`~talentplan.scenarios.equivalent`: the
draws' matrices stacked block-diagonally, their first-stage columns merged into one
shared copy, the objective the draws' mean); ``min`` for ``min_cost``. For many
draws (``method="decomposition"``, or ``auto`` beyond :data:`EQUIVALENT_UP_TO`) the
non-anticipativity rows are dualised instead and each draw solved on its own
(:mod:`~talentplan.scenarios.lagrangian`), which gives a plan and a certified bound.

**Value of the stochastic solution.** The point-estimate plan :math:`\bar y` is the
first stage of the plan solved on the estimates :math:`\bar\theta`; held fixed, its
second stage re-optimised in each draw, it is worth :math:`v^{EV} = \frac1S \sum_s
Q_s(\bar y)` (:math:`-\infty` when it is infeasible under some draw). Then

.. math::

    \mathrm{VSS} = \sigma\,(v^{SP} - v^{EV}) \ge 0,

:math:`\sigma = 1` for a maximised objective and :math:`-1` for ``min_cost``. The
equivalent starts from the point plan's re-optimised solutions, so its plan is never
worse than :math:`\bar y` on the draws; it is certified up to its own gap.

**Robust plan.** The 10% CVaR of the objective across draws (the mean of the worst
tenth) is maximised instead of the mean (Rockafellar-Uryasev):

.. math::

    \max_{y, z, \eta, u}\ \eta - \frac{1}{\alpha S} \sum_s u_s
    \quad\text{s.t.}\quad u_s \ge \eta - f_s(y, z_s),\ u_s \ge 0,

:math:`\alpha = 0.1` by default; at :math:`\alpha = 1` it is the SAA plan's mean.

**Out of sample.** Each plan is scored on :math:`N` fresh draws (the same for every
plan): under each draw its first stage is held, its spend re-optimised (``recourse``;
or the plan table played as it is), and the plan played forward with the exact response
curves (:func:`talentplan.simulate`). Reported per plan: mean, 5th percentile, standard
deviation and worst objective; the share of draws in which the plan is feasible; and
per target the probability of meeting it: each county's final-year weighted coverage
:math:`\sum_k w_k U_{ck} / \sum_k w_k D_{ck} \ge` ``target_coverage`` (or, when the
instance has a targets table, each county and type's final useful talent at least its
target). A draw in which the plan cannot be played (no feasible spend) meets no target.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from talentplan import _plot
from talentplan._display import DisplayMixin
from talentplan._files import json_ready, write_file_set
from talentplan._options import check_choice, check_number
from talentplan.data.instance import Instance
from talentplan.data.parameters import ResponseParameters
from talentplan.data.responses import apply_parameters
from talentplan.errors import InfeasiblePlanError, NoSolutionError
from talentplan.model.build import build_model
from talentplan.model.objectives import final_demand
from talentplan.model.prepare import ModelData, prepare
from talentplan.scenarios.alternatives import _frozen
from talentplan.scenarios.equivalent import (
    DrawModel,
    draw_model,
    first_stage_bounds,
    plan_levels_of,
    solve_arrays,
    stack,
)
from talentplan.scenarios.lagrangian import decompose
from talentplan.simulation import Levels, plan_levels, simulate
from talentplan.solver.api import versions
from talentplan.solver.highs import Progress, load_values, relative_gap
from talentplan.solver.matrix import compile_model

if TYPE_CHECKING:
    from matplotlib.axes import Axes
from talentplan.solver.readback import allocation_table
from talentplan.solver.status import SolveStatus

__all__ = [
    "STOCHASTIC_FILES",
    "StochasticResult",
    "check_method",
    "check_options",
    "cvar",
    "evaluate_plans",
    "stochastic_plan",
]

logger = logging.getLogger(__name__)

STOCHASTIC_FILES = (
    "stochastic.csv",
    "draws.csv",
    "out_of_sample.csv",
    "targets.csv",
    "plans.csv",
    "spend.csv",
    "summary.json",
)
"""The files :meth:`StochasticResult.to_dir` writes, summary last."""

METHODS = ("auto", "equivalent", "decomposition")
"""How the stochastic plan is solved: one equivalent MIP, or by scenario decomposition."""

RECOURSE_GAP = 1e-6
"""The most relative gap of a solve with the first stage held (scoring a plan)."""

EQUIVALENT_UP_TO = 20
"""``method="auto"`` solves the equivalent up to this many draws, else decomposes."""

PLANS = ("stochastic", "robust", "point")
"""The plans compared: the SAA plan, the CVaR plan and the point-estimate plan."""

_ORDER = [s.value for s in SolveStatus]


def _worst(statuses: list[SolveStatus]) -> SolveStatus:
    """Return the status of a run from its solves': the most severe of them."""
    severity = [
        SolveStatus.OPTIMAL,
        SolveStatus.TIME_LIMIT,
        SolveStatus.LIMIT,
        SolveStatus.INTERRUPTED,
        SolveStatus.INFEASIBLE,
        SolveStatus.UNBOUNDED,
        SolveStatus.ERROR,
    ]
    return max(statuses, key=severity.index, default=SolveStatus.OPTIMAL)


@dataclass(frozen=True)
class StochasticResult(DisplayMixin):
    """A two-stage stochastic plan, its value against the point plan, and a robust plan.

    Immutable: the attributes cannot be reassigned, ``summary`` is a read-only mapping,
    and the tables are handed out as copies.

    Attributes
    ----------
    status
        ``optimal`` when every solve finished within the gap; else the worst status of
        them (``time_limit``, ``interrupted``: the plans so far; ``infeasible``: no
        first stage is feasible under every draw).
    summary
        The fields of ``summary.json``: instance, objective, draws, seeds, the SAA
        values (``stochastic_value`` with its ``bound`` and ``gap``, ``point_value``,
        ``vss``, ``robust_cvar``), ``alpha``, statuses, seconds, options, versions.
    """

    status: SolveStatus
    summary: Mapping[str, Any] = field(repr=False)
    _comparison: pd.DataFrame = field(repr=False)
    _draws: pd.DataFrame = field(repr=False)
    _out_of_sample: pd.DataFrame = field(repr=False)
    _targets: pd.DataFrame = field(repr=False)
    _plans: pd.DataFrame = field(repr=False)
    _spend: pd.DataFrame = field(repr=False)

    @property
    def vss(self) -> float:
        """Value of the stochastic solution, in objective units.

        ``inf`` when the point plan is infeasible under some draw, NaN when not computed.
        """
        return float(self.summary["vss"])

    @property
    def comparison(self) -> pd.DataFrame:
        """One row per plan, as written to ``stochastic.csv`` (a copy).

        Columns: ``plan`` (``stochastic``, ``robust``, ``point``), ``saa_mean`` (its
        mean model objective over the in-sample draws, its first stage held and its
        second stage re-optimised in each at a gap of at most :data:`RECOURSE_GAP`),
        ``saa_p5`` and ``saa_cvar`` (5th percentile and CVaR at ``alpha`` of the same),
        ``infeasible_draws`` (in-sample draws without feasible spend), and out of sample
        ``oos_mean``, ``oos_p5``, ``oos_std``, ``oos_worst`` (exact simulated
        objective), ``oos_diff_point`` and ``oos_diff_se`` (the mean difference to the
        point plan draw by draw, and its standard error), ``oos_feasible`` (share of
        fresh draws the plan can be played in, breaking no rule) and
        ``oos_all_targets`` (share meeting every target).
        """
        return self._comparison.copy()

    @property
    def draws(self) -> pd.DataFrame:
        """The in-sample draws (a copy).

        Columns ``draw``, one per parameter, and each plan's model objective under the
        draw, second stage re-optimised (``objective_<plan>``).
        """
        return self._draws.copy()

    @property
    def out_of_sample(self) -> pd.DataFrame:
        """Each plan on each fresh draw (a copy).

        Columns ``plan``, ``draw``, ``status`` (of the second-stage solve),
        ``objective`` (exact, simulated), ``feasible``, ``min_coverage`` (smallest
        county coverage) and ``all_targets``.
        """
        return self._out_of_sample.copy()

    def plot_out_of_sample(self, *, ax: Axes | None = None) -> Axes:
        """Draw each plan's objective over the fresh draws; return the Axes.

        See :func:`talentplan._plot.out_of_sample_plot`.

        Raises
        ------
        ValueError
            When the plans were not compared out of sample (``fresh_draws=0``).
        """
        if self._out_of_sample.empty:
            raise ValueError("no out-of-sample comparison: the plans were made with fresh_draws=0")
        return _plot.out_of_sample_plot(self._out_of_sample, ax=ax)

    @property
    def targets(self) -> pd.DataFrame:
        """Probability of meeting each target, per plan (a copy).

        Columns ``plan``, ``target`` (a county, or ``county:type`` for a targets-table
        row) and ``probability``.
        """
        return self._targets.copy()

    @property
    def plans(self) -> pd.DataFrame:
        """The plans as plan tables (a copy).

        Columns ``plan`` and those of
        :attr:`~talentplan.report.result.AllocationResult.allocation`: the first stage,
        and the spend of amount programs averaged over the in-sample draws.
        """
        return self._plans.copy()

    def plan(self, name: str = "stochastic") -> pd.DataFrame:
        """Return the plan table of ``name`` (``stochastic``, ``robust`` or ``point``).

        Ready for :func:`talentplan.simulate`.
        """
        if name not in PLANS:
            raise KeyError(f"plan {name!r}: expected one of {list(PLANS)}")
        return self._plans[self._plans["plan"] == name].drop(columns="plan").reset_index(drop=True)

    @property
    def spend(self) -> pd.DataFrame:
        """The second stage of each plan in each in-sample draw (a copy).

        Columns ``plan``, ``draw``, ``county``, ``program``, ``year``, ``spend`` (10k
        yuan).
        """
        return self._spend.copy()

    def to_dir(self, path: str | os.PathLike[str]) -> Path:
        """Write the tables (``stochastic.csv`` first) and ``summary.json`` last into ``path``.

        Returns
        -------
        pathlib.Path
            The folder.
        """
        produce = {
            "stochastic.csv": self._comparison,
            "draws.csv": self._draws,
            "out_of_sample.csv": self._out_of_sample,
            "targets.csv": self._targets,
            "plans.csv": self._plans,
            "spend.csv": self._spend,
        }
        files = {name: frame.to_csv(index=False) for name, frame in produce.items()}
        files["summary.json"] = json.dumps(json_ready(self.summary), indent=2)
        return write_file_set(path, {name: files[name] for name in STOCHASTIC_FILES})

    def _summary_tables(self) -> tuple[str, list[tuple[str, str]], list[pd.DataFrame]]:
        s = self.summary
        vss = s["vss"]
        header = [
            ("instance", str(s["instance"])),
            ("status", self.status.value),
            ("draws", f"{s['draws']} in sample, {s['fresh_draws']} out of sample"),
            (
                f"SAA {s['objective_name']}",
                f"{s['stochastic_value']:.6g} (bound {s['bound']:.6g}, gap {s['gap']:.3g})",
            ),
            ("point-estimate plan", f"{s['point_value']:.6g}"),
            ("VSS", f"{vss:.6g}" if math.isfinite(vss) else str(vss)),
            (f"robust CVaR {s['alpha']:g}", f"{s['robust_cvar']:.6g}"),
            ("seconds", f"{s['seconds']:.1f}"),
        ]
        shown = self._comparison.set_index("plan")
        return "Stochastic plan over parameter draws", header, [shown]


def check_options(
    *, draws: int, fresh_draws: int, alpha: float, method: str = "auto", rounds: int = 20
) -> None:
    """Raise :class:`~talentplan.errors.OptionError` for an inadmissible option.

    ``draws`` a whole number >= 1, ``fresh_draws`` >= 0, ``alpha`` in (0, 1],
    ``method`` one of :data:`METHODS`, ``rounds`` >= 1.
    """
    check_number("draws", draws, low=1, integer=True)
    check_number("fresh_draws", fresh_draws, low=0, integer=True)
    check_number("alpha", alpha, low=0, high=1, low_open=True)
    check_number("rounds", rounds, low=1, integer=True)
    check_method(method, draws)


def check_method(method: str, draws: int) -> str:
    """Return the method that runs for ``method`` and ``draws`` draws (see :data:`METHODS`).

    Examples
    --------
    >>> check_method("auto", 5), check_method("auto", 100)
    ('equivalent', 'decomposition')
    """
    check_choice("method", method, METHODS)
    if method == "auto":
        return "equivalent" if draws <= EQUIVALENT_UP_TO else "decomposition"
    return method


def stochastic_plan(
    instance: Instance,
    params: ResponseParameters,
    *,
    draws: int = 10,
    fresh_draws: int = 50,
    seed: int = 0,
    alpha: float = 0.1,
    robust: bool = True,
    recourse: bool = True,
    method: str = "auto",
    rounds: int = 20,
    objective: str | None = None,
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    threads: int | None = None,
    progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> StochasticResult:
    """Plan the first stage once for ``draws`` parameter draws; compare with the point plan.

    See the module docstring for the equations.

    Parameters
    ----------
    instance
        The planning instance.
    params
        Estimates with their covariance; the draws come from :meth:`ResponseParameters.draw`.
    draws
        Number of in-sample draws of the deterministic equivalent.
    fresh_draws
        Number of fresh draws for the out-of-sample comparison (0: none).
    seed
        Seed of the draws (in-sample first, then the fresh ones from the same stream).
    alpha
        Level of the robust plan's CVaR, in (0, 1].
    robust
        Also solve the CVaR plan.
    recourse
        Out of sample, re-optimise each plan's spend under each fresh draw; else play
        the plan tables (first stage and mean spend) as they are.
    method
        ``equivalent`` (one MIP over all draws), ``decomposition`` (the Lagrangian
        decomposition, :mod:`~talentplan.scenarios.lagrangian`: one MIP per draw and
        round) or ``auto``: the equivalent up to :data:`EQUIVALENT_UP_TO` draws. The
        robust plan is always solved as an equivalent.
    rounds
        Most rounds of the decomposition.
    objective
        ``talent_index``, ``min_cost`` or ``equity``; default the scenario's.
    time_limit
        Seconds for each solve (the point plan, each equivalent, each second stage).
    mip_gap, threads
        Of each solve.
    progress
        Called with a :class:`~talentplan.solver.highs.Progress` as the work goes on.
    stop
        Set it to stop: the plans found so far are kept and the rest is skipped.

    Raises
    ------
    OptionError
        For a non-positive number of draws or an ``alpha`` outside (0, 1].
    CalibrationError
        When a parameter names no response row of the instance.
    """
    check_options(draws=draws, fresh_draws=fresh_draws, alpha=alpha, method=method, rounds=rounds)
    started = time.perf_counter()
    tell = progress if progress is not None else (lambda _: None)
    solve: dict[str, Any] = {
        "time_limit": time_limit,
        "mip_gap": mip_gap,
        "threads": threads,
        "stop": stop,
    }

    # every plan is scored with its first stage held at a tight gap, so that plans are
    # compared on their first stages and not on where each solve stopped
    held = {**solve, "mip_gap": min(mip_gap, RECOURSE_GAP)}

    def phase(name: str) -> None:
        tell(Progress(time.perf_counter() - started, math.nan, math.nan, math.inf, phase=name))

    def halted() -> bool:
        return stop is not None and stop.is_set()

    rng = np.random.default_rng(seed)
    sample = params.draw(draws, rng)
    fresh = params.draw(fresh_draws, rng) if fresh_draws else sample.iloc[:0]
    phase("building")
    point_model = _build(instance, params.estimates.to_dict(), objective)
    models = [_build(instance, row, objective) for row in sample.to_dict("records")]
    statuses: list[SolveStatus] = []

    point_run = solve_arrays(
        point_model.compiled, progress=tell, stage="point-estimate plan", **solve
    )
    statuses.append(point_run.status)
    if point_run.values is None:
        raise _no_plan("the plan on the point estimates", point_run.status)
    point_levels = plan_levels_of(point_model, point_run.values)
    point_eval = [
        _recourse(dm, point_levels, tell, f"point plan, draw {s + 1}", held)
        for s, dm in enumerate(models)
        if not halted()
    ]
    statuses += [r.status for r in point_eval if r.status != SolveStatus.INFEASIBLE]
    use = check_method(method, draws)
    sign = 1.0 if point_model.compiled.maximize else -1.0
    point_ok = len(point_eval) == len(models) and all(r.values is not None for r in point_eval)
    sizes: dict[str, int] = {}
    if use == "decomposition":
        dec = decompose(
            models,
            rounds=rounds,
            start=point_levels if point_ok else None,
            solve=solve,
            progress=tell,
        )
        statuses.append(dec.status)
        if not dec.runs or any(r.values is None for r in dec.runs):
            raise _no_plan(f"the stochastic plan over {draws} draws", dec.status)
        sp_objective, sp_bound, sp_gap = dec.value, dec.bound, dec.gap
        sp_levels = dec.levels
        sizes["rounds"] = dec.rounds
    else:
        eq = stack(models)
        start = eq.start([r.values for r in point_eval]) if point_ok else None
        sp_run = solve_arrays(
            eq.compiled,
            start=start,
            progress=tell,
            stage=f"stochastic plan ({draws} draws)",
            **solve,
        )
        statuses.append(sp_run.status)
        if sp_run.values is None:
            raise _no_plan(f"the stochastic plan over {draws} draws", sp_run.status)
        sp_objective, sp_bound, sp_gap = sp_run.objective, sp_run.bound, sp_run.gap
        sp_levels = plan_levels_of(models[0], eq.local(0, sp_run.values))
        sizes.update(equivalent_columns=eq.compiled.n_cols, shared_columns=eq.shared)
    sp_runs = [
        _recourse(dm, sp_levels, tell, f"stochastic plan, draw {s + 1}", held)
        for s, dm in enumerate(models)
    ]
    statuses += [r.status for r in sp_runs]
    stochastic_values = [r.values for r in sp_runs]
    if use == "decomposition" and all(r.values is not None for r in sp_runs):
        # the decomposition scored its plan at its own gap: take the tighter score
        sp_objective = float(np.mean([r.objective for r in sp_runs]))
        sp_gap = relative_gap(sp_objective, sp_bound)
    per_draw: dict[str, np.ndarray] = {
        "stochastic": np.array([r.objective for r in sp_runs]),
        "point": np.array(
            [r.objective if r.values is not None else -sign * math.inf for r in point_eval]
            + [math.nan] * (len(models) - len(point_eval))
        ),
    }
    local_values: dict[str, list[np.ndarray | None]] = {
        "stochastic": list(stochastic_values),
        "point": [r.values for r in point_eval],
    }
    robust_cvar = math.nan
    if robust and not halted():
        req = stack(models, cvar_alpha=alpha)
        known = [v for v in local_values["stochastic"] if v is not None]
        r_run = solve_arrays(
            req.compiled,
            start=req.start(known) if len(known) == len(models) else None,
            progress=tell,
            stage=f"robust plan (CVaR {alpha:g})",
            **solve,
        )
        statuses.append(r_run.status)
        if r_run.values is not None:
            # Only the worst draws' spend counts in the CVaR: re-optimise every draw's
            # spend under the robust first stage, as the point plan's
            robust_cvar = r_run.objective
            levels = plan_levels_of(models[0], req.local(0, r_run.values))
            runs = [
                _recourse(dm, levels, tell, f"robust plan, draw {s + 1}", held)
                for s, dm in enumerate(models)
            ]
            statuses += [r.status for r in runs]
            per_draw["robust"] = np.array([r.objective for r in runs])
            local_values["robust"] = [r.values for r in runs]
    tables = {name: _plan_table(models, local_values[name]) for name in local_values}
    plans = pd.concat(
        [t[0].assign(plan=name) for name, t in tables.items()], ignore_index=True
    ).pipe(lambda f: f[["plan", *[c for c in f.columns if c != "plan"]]])
    spend = pd.concat([t[1].assign(plan=name) for name, t in tables.items()], ignore_index=True)
    spend = spend[["plan", *[c for c in spend.columns if c != "plan"]]]

    oos = pd.DataFrame(columns=["plan", "draw", "status", "objective", "feasible"])
    targets = pd.DataFrame(columns=["plan", "target", "probability"])
    if len(fresh) and not halted():
        phase("simulating")
        plan_frames = {name: tables[name][0] for name in tables}
        oos, targets = evaluate_plans(
            instance,
            plan_frames,
            fresh,
            recourse=recourse,
            objective=objective,
            progress=tell,
            time_limit=time_limit,
            mip_gap=held["mip_gap"],
            threads=threads,
            stop=stop,
        )
    if halted():
        statuses.append(SolveStatus.INTERRUPTED)
    status = _worst(statuses)

    draws_table = sample.reset_index(drop=True).copy()
    draws_table.insert(0, "draw", np.arange(1, len(sample) + 1))
    for name, values in per_draw.items():
        draws_table[f"objective_{name}"] = values
    comparison = _comparison(per_draw, oos, sign, alpha)
    sp_value = float(np.mean(per_draw["stochastic"]))
    point_value = float(np.mean(per_draw["point"])) if len(point_eval) == len(models) else math.nan
    summary = {
        "command": "stochastic",
        "instance": instance.scenario.name,
        "objective_name": point_model.formulation.objective,
        "status": status.value,
        "draws": int(draws),
        "fresh_draws": len(fresh),
        "seed": int(seed),
        "parameters": list(params.keys),
        "method": use,
        "stochastic_value": sp_objective,
        "bound": sp_bound,
        "gap": sp_gap,
        "point_value": point_value,
        "point_plan_objective": point_run.objective,
        "vss": sign * (sp_value - point_value),
        "vss_bound": sign * (sp_bound - point_value),
        "robust_cvar": robust_cvar,
        "alpha": float(alpha),
        "recourse": bool(recourse),
        "statuses": {
            s: statuses.count(SolveStatus(s)) for s in _ORDER if SolveStatus(s) in statuses
        },
        "sizes": sizes,
        "seconds": time.perf_counter() - started,
        "options": {"time_limit": time_limit, "mip_gap": mip_gap, "threads": threads},
        "versions": versions(),
    }
    return StochasticResult(
        status=status,
        summary=_frozen(summary),
        _comparison=comparison,
        _draws=draws_table,
        _out_of_sample=oos,
        _targets=targets,
        _plans=plans,
        _spend=spend,
    )


def evaluate_plans(
    instance: Instance,
    plans: Mapping[str, pd.DataFrame],
    draws: pd.DataFrame,
    *,
    recourse: bool = True,
    objective: str | None = None,
    progress: Callable[[Progress], None] | None = None,
    time_limit: float | None = None,
    mip_gap: float = 1e-6,
    threads: int | None = None,
    stop: threading.Event | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score plans on parameter draws with the exact response curves.

    Parameters
    ----------
    instance
        The planning instance.
    plans
        Plan tables by name (county, program, industry, year, quantity; as
        :attr:`~talentplan.report.result.AllocationResult.allocation`).
    draws
        One row per draw, one column per parameter key (as :meth:`ResponseParameters.draw`).
    recourse
        Hold each plan's first stage (sites, alliances, city programs, units) and
        re-optimise its spend under each draw before playing it; else play the plan as
        it is.
    objective
        Objective to score with; default the scenario's.
    progress, time_limit, mip_gap, threads, stop
        Of the second-stage solves (with ``recourse``).

    Returns
    -------
    tuple of pandas.DataFrame
        Per plan and draw: ``plan``, ``draw``, ``status``, ``objective``, ``feasible``,
        ``min_coverage``, ``all_targets``; and per plan and target: ``plan``,
        ``target``, ``probability`` (see the module docstring).
    """
    tell = progress if progress is not None else (lambda _: None)
    solve: dict[str, Any] = {
        "time_limit": time_limit,
        "mip_gap": mip_gap,
        "threads": threads,
        "stop": stop,
    }
    rows, met = [], []
    for j, values in enumerate(draws.to_dict("records")):
        if stop is not None and stop.is_set():
            break
        inst = apply_parameters(instance, values, clip=True, source="draw")
        dm = _compile(inst, objective) if recourse else None
        d = dm.formulation.data if dm is not None else prepare(inst)
        for name, table in plans.items():
            status = SolveStatus.OPTIMAL
            allocation: pd.DataFrame | None = table
            if dm is not None:
                levels = plan_levels(dm.formulation.data, table, file=f"plan '{name}'")
                run = _recourse(dm, levels, tell, f"plan '{name}', fresh draw {j + 1}", solve)
                status = run.status
                allocation = None
                if run.values is not None:
                    load_values(dm.compiled, run.values)
                    allocation = allocation_table(dm.formulation)
            if allocation is None:
                rows.append((name, j + 1, status.value, math.nan, False, math.nan))
                met += [(name, j + 1, t, False) for t in _target_names(inst)]
                continue
            sim = simulate(inst, allocation, objective=objective, file=f"plan '{name}'")
            hits = _targets_met(d, sim.talent)
            cover = _coverage(d, sim.talent)
            rows.append(
                (
                    name,
                    j + 1,
                    status.value,
                    sim.objective,
                    sim.feasible,
                    min(cover.values()) if cover else math.nan,
                )
            )
            met += [(name, j + 1, t, ok) for t, ok in hits.items()]
    out = pd.DataFrame(
        rows, columns=["plan", "draw", "status", "objective", "feasible", "min_coverage"]
    )
    hit = pd.DataFrame(met, columns=["plan", "draw", "target", "met"])
    every = hit.groupby(["plan", "draw"], sort=False)["met"].all()
    out["all_targets"] = [
        bool(every.get((p, d), True)) for p, d in zip(out["plan"], out["draw"], strict=True)
    ]
    targets = (
        hit.groupby(["plan", "target"], sort=False)["met"]
        .mean()
        .rename("probability")
        .reset_index()
    )
    return out, targets


# --- helpers ------------------------------------------------------------------------------


def _build(instance: Instance, values: Mapping[str, float], objective: str | None) -> DrawModel:
    """Build and compile ``instance`` with the parameter ``values`` applied."""
    return _compile(apply_parameters(instance, values, clip=True, source="draw"), objective)


def _compile(instance: Instance, objective: str | None) -> DrawModel:
    f = build_model(instance, objective)
    return draw_model(f, compile_model(f.model))


def _recourse(
    dm: DrawModel,
    levels: Levels,
    tell: Callable[[Progress], None],
    stage: str,
    solve: Mapping[str, Any],
) -> Any:
    """Solve ``dm`` with its first stage held at ``levels``."""
    lower, upper = first_stage_bounds(dm, levels)
    return solve_arrays(
        dm.compiled, col_lower=lower, col_upper=upper, progress=tell, stage=stage, **solve
    )


def _plan_table(
    models: list[DrawModel], values: list[np.ndarray | None]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the plan table (first stage, mean spend) and the spend per draw."""
    firsts: list[pd.DataFrame] = []
    spends: list[pd.DataFrame] = []
    for s, (dm, v) in enumerate(zip(models, values, strict=False)):
        if v is None:
            continue
        load_values(dm.compiled, v)
        table = allocation_table(dm.formulation)
        amount = table["kind"] == "amount"
        if not firsts:
            firsts.append(table[~amount])
        spends.append(table[amount].assign(draw=s + 1))
    first = firsts[0] if firsts else pd.DataFrame()
    every = pd.concat(spends, ignore_index=True) if spends else pd.DataFrame()
    spend = pd.DataFrame(columns=["draw", "county", "program", "year", "spend"])
    if len(every):
        spend = every[["draw", "county", "program", "year", "quantity"]].rename(
            columns={"quantity": "spend"}
        )
        # the mean spend over the draws: a draw without spend on a decision counts as 0
        keys = ["county", "program", "kind", "industry", "year"]
        mean = every.groupby(keys, sort=False)[["quantity", "cost"]].sum() / len(values)
        mean = mean.reset_index()
        first = pd.concat([first, mean], ignore_index=True)
        first[["land", "land_in_use", "cadre_hours"]] = first[
            ["land", "land_in_use", "cadre_hours"]
        ].fillna(0.0)
    return first.reset_index(drop=True), spend.reset_index(drop=True)


def _coverage(d: ModelData, talent: pd.DataFrame) -> dict[str, float]:
    """Final-year weighted coverage of each county with demand."""
    final = talent[talent["year"] == d.years[-1]]
    covered = (final["useful"] * final["talent_type"].map(d.weight)).groupby(final["county"]).sum()
    return {
        c: float(covered.get(c, 0.0)) / final_demand(d, c)
        for c in d.counties
        if final_demand(d, c) > 0
    }


def _target_table(inst: Instance) -> pd.DataFrame | None:
    targets = inst.tables.get("targets")
    return targets if targets is not None and len(targets) else None


def _target_names(inst: Instance) -> list[str]:
    targets = _target_table(inst)
    if targets is not None:
        return [f"{c}:{k}" for c, k in targets[["county", "talent_type"]].itertuples(index=False)]
    return [str(c) for c in inst.tables["counties"]["county"]]


def _targets_met(d: ModelData, talent: pd.DataFrame) -> dict[str, bool]:
    """Whether each target is met by a simulated plan's final-year talent."""
    inst = d.instance
    targets = _target_table(inst)
    tol = 1e-6
    if targets is not None:
        last = talent["year"].max()
        final = talent[talent["year"] == last].set_index(["county", "talent_type"])["useful"]
        return {
            f"{c}:{k}": float(final.get((c, k), 0.0)) >= float(v) - tol * max(1.0, abs(float(v)))
            for c, k, v in targets[["county", "talent_type", "target"]].itertuples(index=False)
        }
    share = float(inst.scenario.target_coverage)
    cover = _coverage(d, talent)
    return {
        str(c): cover.get(str(c), math.inf) >= share - tol
        for c in inst.tables["counties"]["county"]
    }


def _comparison(
    per_draw: Mapping[str, np.ndarray], oos: pd.DataFrame, sign: float, alpha: float
) -> pd.DataFrame:
    rows = []
    for name in PLANS:
        if name not in per_draw:
            continue
        f = np.asarray(per_draw[name], dtype=float)
        mine = oos[oos["plan"] == name]
        diff, diff_se = _paired(oos, name)
        obj = mine["objective"].to_numpy(dtype=float)
        played = obj[np.isfinite(obj)]
        rows.append(
            {
                "plan": name,
                "saa_mean": float(f.mean()) if len(f) else math.nan,
                "saa_p5": float(np.percentile(f, 5)) if np.isfinite(f).all() else math.nan,
                "saa_cvar": cvar(f, alpha, maximize=sign > 0),
                "infeasible_draws": int((~np.isfinite(f)).sum()),
                "oos_mean": float(played.mean()) if len(played) else math.nan,
                "oos_p5": float(np.percentile(played, 5)) if len(played) else math.nan,
                "oos_std": float(played.std(ddof=1)) if len(played) > 1 else math.nan,
                "oos_worst": float(sign * (sign * played).min()) if len(played) else math.nan,
                "oos_diff_point": diff,
                "oos_diff_se": diff_se,
                "oos_feasible": float(mine["feasible"].mean()) if len(mine) else math.nan,
                "oos_all_targets": float(mine["all_targets"].mean())
                if len(mine) and "all_targets" in mine
                else math.nan,
            }
        )
    return pd.DataFrame(rows)


def _paired(oos: pd.DataFrame, name: str) -> tuple[float, float]:
    """Mean and standard error of ``name``'s objective minus the point plan's, draw by draw."""
    if not len(oos):
        return math.nan, math.nan
    wide = oos.pivot_table(index="draw", columns="plan", values="objective", aggfunc="first")
    if name not in wide or "point" not in wide:
        return math.nan, math.nan
    d = (wide[name] - wide["point"]).dropna().to_numpy(dtype=float)
    d = d[np.isfinite(d)]
    if not len(d):
        return math.nan, math.nan
    se = float(d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else math.nan
    return float(d.mean()), se


def cvar(values: np.ndarray, alpha: float, *, maximize: bool = True) -> float:
    """Conditional value at risk of equally likely ``values`` at level ``alpha``.

    ``max_eta eta - sum_s max(0, eta - v_s) / (alpha S)`` for a maximised objective (the
    mean of the worst ``alpha`` share, a draw split at the boundary);
    ``min_eta eta + sum_s max(0, v_s - eta) / (alpha S)`` for a minimised one. NaN when
    a value is not finite (an infeasible draw).

    Examples
    --------
    >>> cvar(np.array([1.0, 2.0, 3.0, 4.0]), 0.5)
    1.5
    >>> cvar(np.array([1.0, 2.0, 3.0, 4.0]), 1.0)
    2.5
    >>> cvar(np.array([1.0, 2.0, 3.0, 4.0]), 0.5, maximize=False)
    3.5
    """
    v = np.asarray(values, dtype=float)
    if not len(v) or not np.isfinite(v).all():
        return math.nan
    v = v if maximize else -v
    scale = alpha * len(v)
    best = max(float(eta - np.maximum(0.0, eta - v).sum() / scale) for eta in v)
    return best if maximize else -best


def _no_plan(what: str, status: SolveStatus) -> Exception:
    if status == SolveStatus.INFEASIBLE:
        return InfeasiblePlanError(
            f"{what} is infeasible",
            "no first stage satisfies every rule under every draw"
            if "stochastic" in what
            else "the instance has no plan on the point estimates",
        )
    return NoSolutionError(
        f"{what}: no plan found (status {status.value}); try a longer time limit or fewer draws"
    )
