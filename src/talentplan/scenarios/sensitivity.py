r"""Sensitivity of the plan, not just of its value, to each response parameter.

Every response row (program, talent type, effect) of an instance holds one value
:math:`\theta_r`. For each row and each scale :math:`\lambda` (by default
:math:`1 - f` and :math:`1 + f` for the factor :math:`f = 0.5`), the instance is solved
again with :math:`\theta_r` replaced by :math:`\lambda \theta_r` (a share, ``retention``
or ``graduate_retention``, is capped at 1; the row is then marked ``capped``), every
other value unchanged. Against the base plan :math:`x_0` (the instance as given) each
re-solve reports

- the objective change :math:`v_\lambda - v_0` (exact values of the two plans, each
  under its own parameters);
- the spend :math:`s_g` of each group :math:`g` (a program, or a program in one county;
  10k yuan over all years, the ``cost`` column of the allocation) and the
  *plan shift*

  .. math::

      \mathrm{shift} = \frac{\tfrac12 \sum_g |s_g(x_\lambda) - s_g(x_0)|}
                            {\max\bigl(\sum_g s_g(x_0), \sum_g s_g(x_\lambda)\bigr)},

  the share of the spend that moves between groups (0: the same spending, 1: none of it
  in common; when both plans spend the same total, exactly the share of that total that
  changes hands);
- whether the shift is *significant*: whether the parameter, not the solver's
  tolerance, moved the plan.

Significance. Keeping the base plan under the changed value costs

.. math::

    \mathrm{keep\_loss} = \sigma\,(v_\lambda - v_\lambda(x_0)),

where :math:`v_\lambda(x_0)` is the base plan played with the changed value
(:func:`talentplan.simulate`, exact curves) and :math:`\sigma = 1` for a maximised
objective, :math:`-1` for ``min_cost``. The two solves are each certified only to
their own open gaps :math:`\gamma_0 = |b_0 - v_0|` and :math:`\gamma_\lambda =
|b_\lambda - v_\lambda|` (objective units; the exact bound of
:attr:`~talentplan.report.result.AllocationResult.bound`, so they include the chords'
error), and at least to the requested ``mip_gap`` times the objective. The plan is
*forced* to change when

.. math::

    \mathrm{keep\_loss} > \mathrm{noise} = \gamma_0 + \gamma_\lambda,

or when the base plan breaks a rule under the changed value (a target, a floor, a cadre
capacity the parameter supplies): then it cannot be kept at all (``keep_loss`` is
infinite; also when the changed instance has no plan). A shift is *significant* when the
plan is forced to change and the spend by group moves (``plan_shift`` above
:data:`SHIFT_TOLERANCE`): with ``by="program"`` a plan forced to move money between
counties of one program is forced but shows no shift. The threshold is not arbitrary: if
the parameter changed nothing, the re-solve's plan is worth at most the base bound, so
``keep_loss`` :math:`\le \gamma_0` and no shift is ever called significant; a shift that
is not significant is one the solver could have produced by stopping at a different
near-optimal plan. A significant shift says that the plan must move; how much of the
reported ``shift`` is forced, rather than one choice among near-optimal plans, is what
:func:`talentplan.alternatives` on the changed instance answers. Under ``min_cost`` the
gaps are the model's (``gap_basis`` ``model``), and the base plan is kept if it meets
the targets with the exact curves, which it may do where the model, on its understated
talent, would not accept it.

Computation: a response value enters the model's response curves and coefficients, so
each re-solve builds and solves the model anew (:func:`talentplan.solve`); with ``R``
response rows and two scales that is ``2 R`` solves besides the base one.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from talentplan._display import DisplayMixin
from talentplan._files import json_ready, write_file_set
from talentplan._options import check_number
from talentplan.data.instance import Instance
from talentplan.data.responses import apply_parameters
from talentplan.errors import InfeasiblePlanError, NoSolutionError, OptionError, SolverError
from talentplan.report.pipeline import solve
from talentplan.report.result import AllocationResult
from talentplan.scenarios.alternatives import _frozen, _overall, check_by
from talentplan.simulation import simulate
from talentplan.solver.api import SolveOptions, versions
from talentplan.solver.highs import Progress
from talentplan.solver.status import SolveStatus

__all__ = [
    "SENSITIVITY_FILES",
    "SensitivityResult",
    "check_factor",
    "check_parameters",
    "plan_shift",
    "response_keys",
    "sensitivity",
]

logger = logging.getLogger(__name__)

SENSITIVITY_FILES = ("sensitivity.csv", "spend.csv", "summary.json")
"""The files :meth:`SensitivityResult.to_dir` writes, in the order they are moved in."""

SHARES = ("retention", "graduate_retention")
"""Effects whose value is a share, capped at 1 when scaled up."""

UNCHANGED = "unchanged"
"""Status of a row whose scaled value equals its value (0, or a share at 1): no solve."""
SKIPPED = "skipped"
"""Status of a row whose solve never started (the run was stopped first)."""

_COLUMNS = [
    "key",
    "program",
    "talent_type",
    "effect",
    "scale",
    "base_value",
    "value",
    "capped",
    "status",
    "objective",
    "objective_change",
    "relative_change",
    "bound",
    "gap",
    "plan_shift",
    "keep_loss",
    "noise",
    "forced",
    "significant",
    "seconds",
]

SHIFT_TOLERANCE = 1e-6
"""A plan shift at most this is no shift (tolerances of the continuous spend)."""


@dataclass(frozen=True)
class SensitivityResult(DisplayMixin):
    """How the plan and its value move when each response value is scaled.

    Immutable: the attributes cannot be reassigned, ``summary`` is a read-only mapping,
    and ``table`` and ``spend`` hand out copies.

    Attributes
    ----------
    status
        ``optimal`` when the base solve and every re-solve finished within the gap;
        else ``interrupted`` (the run was stopped; rows not solved have status
        ``skipped``), ``error`` (a re-solve was infeasible or failed), ``time_limit`` or
        ``limit``.
    summary
        The fields of ``summary.json``: instance, objective name and value of the base
        plan with its bound and gap, scales, grouping, counts of rows, solves and
        significant shifts, ``statuses`` (re-solves per status), ``seconds``, the
        options and versions.
    base
        The base plan, as :func:`talentplan.solve` returns it.
    """

    status: SolveStatus
    _table: pd.DataFrame = field(repr=False)
    _spend: pd.DataFrame = field(repr=False)
    summary: Mapping[str, Any] = field(repr=False)
    base: AllocationResult = field(repr=False)

    @property
    def table(self) -> pd.DataFrame:
        """One row per response row and scale, as written to ``sensitivity.csv`` (a copy).

        Columns: ``key`` (``program:talent_type:effect``, ``-`` for a blank talent
        type), ``program``, ``talent_type``, ``effect``, ``scale``, ``base_value``,
        ``value`` (the value solved with), ``capped`` (a share held at 1), ``status`` (a
        :class:`~talentplan.solver.status.SolveStatus` value, ``unchanged`` when the
        value did not change and no solve was needed, ``skipped`` when the run stopped
        first), ``objective`` (exact value of the re-solved plan under its parameters),
        ``objective_change`` and ``relative_change`` (against the base plan's value),
        ``bound`` and ``gap`` (of the re-solve, as
        :class:`~talentplan.report.result.AllocationResult` has them), ``plan_shift``
        (share of the spend that moves, see the module's docstring), ``keep_loss``
        (what keeping the base plan costs under the changed value; ``inf`` when the
        base plan breaks a rule then), ``noise`` (the two solves' open gaps together),
        ``forced`` (``keep_loss > noise``: the base plan is no longer an answer the
        solver could give), ``significant`` (forced, and ``plan_shift`` above 1e-6) and
        ``seconds``.
        """
        return self._table.copy()

    @property
    def spend(self) -> pd.DataFrame:
        """Spend per group in the base plan and in each re-solved plan (a copy).

        Long format, as written to ``spend.csv``: ``key``, ``scale``, the group keys
        (``program``, and ``county``, blank for a city program), ``base`` and ``spend``
        (10k yuan over all years) and ``change``. Rows of re-solves that found no plan
        are left out.
        """
        return self._spend.copy()

    def ranking(self) -> pd.DataFrame:
        """Return the response rows ranked by their largest plan shift over the scales.

        Columns: ``key``, ``max_shift``, ``significant`` (at either scale),
        ``max_abs_relative_change`` (of the objective). Rows without any plan are left
        out.
        """
        t = self._table.dropna(subset=["plan_shift"])
        out = t.groupby("key", sort=False).agg(
            max_shift=("plan_shift", "max"),
            significant=("significant", "any"),
            max_abs_relative_change=("relative_change", lambda s: s.abs().max()),
        )
        return out.sort_values("max_shift", ascending=False, kind="stable").reset_index()

    def to_dir(self, path: str | os.PathLike[str]) -> Path:
        """Write ``sensitivity.csv``, ``spend.csv`` and ``summary.json`` into ``path``.

        The files go in as a set (:func:`talentplan._files.write_file_set`),
        ``summary.json`` last, so it stands only beside complete tables.

        Returns
        -------
        pathlib.Path
            The folder.
        """
        produce = {
            "sensitivity.csv": lambda: self._table.to_csv(index=False),
            "spend.csv": lambda: self._spend.to_csv(index=False),
            "summary.json": lambda: json.dumps(json_ready(self.summary), indent=2),
        }
        return write_file_set(path, {name: produce[name]() for name in SENSITIVITY_FILES})

    def _summary_tables(self) -> tuple[str, list[tuple[str, str]], list[pd.DataFrame]]:
        s = self.summary
        header = [
            ("instance", str(s["instance"])),
            ("status", self.status.value),
            (s["objective_name"], f"{s['objective']:.6g} (gap {s['gap']:.3g})"),
            ("scales", ", ".join(f"{x:g}" for x in s["scales"])),
            ("significant shifts", f"{s['significant']} of {s['rows']}"),
            ("solves", f"{s['solves']} in {s['seconds']:.1f}s"),
        ]
        shown = self._table.set_index(["key", "scale"])[
            ["value", "status", "objective_change", "plan_shift", "keep_loss", "noise", "forced"]
        ].assign(significant=self._table["significant"].to_numpy())
        return "Sensitivity of the plan to the response parameters", header, [shown]


def check_factor(factor: float | Sequence[float]) -> tuple[float, ...]:
    """Return the scales a ``factor`` stands for.

    Parameters
    ----------
    factor
        A number ``f`` in (0, 1): the scales ``1 - f`` and ``1 + f``; or a sequence of
        scales, each a finite number >= 0 other than 1, without repeats.

    Raises
    ------
    OptionError
        For any other value.

    Examples
    --------
    >>> check_factor(0.5)
    (0.5, 1.5)
    >>> check_factor([0.8, 1.2, 2])
    (0.8, 1.2, 2.0)
    """
    if isinstance(factor, Sequence) and not isinstance(factor, str):
        if not factor:
            raise OptionError(
                "factor=[] is not admissible; expected at least one scale.",
                option="factor",
                value=factor,
                expected="at least one scale",
            )
        scales = tuple(float(check_number("factor", s, low=0)) for s in factor)
        if any(s == 1.0 for s in scales) or len(set(scales)) != len(scales):
            raise OptionError(
                f"factor={list(factor)!r} is not admissible; expected distinct scales other "
                "than 1.",
                option="factor",
                value=factor,
                expected="distinct scales other than 1",
            )
        return scales
    check_number("factor", factor, low=0, high=1, low_open=True, high_open=True)
    return (1.0 - float(factor), 1.0 + float(factor))


def response_keys(instance: Instance) -> list[str]:
    """Return the key ``program:talent_type:effect`` of every response row, in order.

    A blank talent type is written ``-``, as :func:`talentplan.data.responses.apply_parameters`
    reads it.
    """
    r = instance.tables["responses"]
    talent = r["talent_type"].fillna("").astype(str).replace("", "-")
    return [f"{p}:{t}:{e}" for p, t, e in zip(r["program"], talent, r["effect"], strict=True)]


def check_parameters(instance: Instance, parameters: str | Sequence[str] | None) -> list[str]:
    """Return the response keys to vary: ``parameters`` without repeats, or every row.

    Raises
    ------
    OptionError
        When a key names no response row of ``instance``; the error's ``expected``
        lists the rows there are.
    """
    every = response_keys(instance)
    if parameters is None:
        return every
    if isinstance(parameters, str):
        parameters = [parameters]
    unknown = [k for k in parameters if k not in every]
    if unknown:
        raise OptionError(
            f"parameters: the instance '{instance.scenario.name}' has no response row "
            f"{unknown[0]!r}.",
            option="parameters",
            value=unknown[0],
            expected="a row of the instance's responses table: " + ", ".join(every),
        )
    return list(dict.fromkeys(parameters))


def _spend(allocation: pd.DataFrame, keys: tuple[str, ...]) -> pd.Series:
    """Spend per group (10k yuan over all years) of a plan's allocation table."""
    plan = allocation.assign(county=allocation["county"].fillna("").astype(str))
    if "county" in keys:
        plan = plan.assign(county=plan["county"].where(plan["kind"] != "city", ""))
    return plan.groupby(list(keys))["cost"].sum()


def plan_shift(base: pd.Series, new: pd.Series) -> float:
    """Return the share of the spend that moves: half the L1 distance over the larger total.

    Parameters
    ----------
    base, new
        Spend per group (a missing group spends nothing).

    Examples
    --------
    >>> plan_shift(pd.Series({"a": 10.0, "b": 0.0}), pd.Series({"a": 4.0, "b": 6.0}))
    0.6
    >>> plan_shift(pd.Series({"a": 10.0}), pd.Series({"a": 10.0, "b": 0.0}))
    0.0
    """
    a, b = base.align(new, fill_value=0.0)
    total = max(float(a.sum()), float(b.sum()))
    if total <= 0:
        return 0.0
    shift = float(0.5 * (a - b).abs().sum() / total)
    return 0.0 if shift <= SHIFT_TOLERANCE else shift


def _absolute_gap(result: AllocationResult) -> float:
    """Return the open gap of a solve in objective units (inf without a finite bound)."""
    if not (math.isfinite(result.bound) and math.isfinite(result.objective)):
        return math.inf
    return abs(result.bound - result.objective)


def _staged(
    progress: Callable[[Progress], None] | None, stage: str
) -> Callable[[Progress], None] | None:
    """Return ``progress`` with every report's ``stage`` set to ``stage``."""
    if progress is None:
        return None
    report = progress

    def staged(p: Progress) -> None:
        report(replace(p, stage=stage))

    return staged


def sensitivity(
    instance: Instance,
    *,
    factor: float | Sequence[float] = 0.5,
    parameters: Sequence[str] | None = None,
    by: str | Sequence[str] = ("program",),
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    threads: int | None = None,
    progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> SensitivityResult:
    """Re-solve with each response value scaled down and up; report how the plan moves.

    See the module's docstring for the plan shift and how significance is decided.

    Parameters
    ----------
    instance
        A planning instance; its scenario's objective is used.
    factor
        ``f`` in (0, 1) for the scales ``1 - f`` and ``1 + f`` (default 0.5: half and
        one and a half times each value), or a sequence of scales (each >= 0, not 1).
    parameters
        Keys ``program:talent_type:effect`` of the rows to vary (``-`` for a blank
        talent type); default every response row.
    by
        Group spending by ``"program"`` (default) or ``"program,county"``.
    time_limit, mip_gap, threads
        For the base solve and each re-solve alike (``time_limit`` is per solve).
    progress
        Called about once a second during each solve; ``Progress.stage`` names the row
        and scale being solved (blank for the base plan).
    stop
        Once set, the running solve stops and no further one starts: the result holds
        what was computed, with status ``interrupted``. Ctrl-C does the same.

    Returns
    -------
    SensitivityResult

    Raises
    ------
    OptionError
        An option is not admissible, or ``parameters`` names a row the instance lacks.
    InfeasiblePlanError, NoSolutionError, SolverError
        As :func:`talentplan.solve` raises them for the base plan. A re-solve that fails
        is recorded in its row instead.

    Examples
    --------
    >>> import talentplan as tp
    >>> inst = tp.datasets.synthetic(2, seed=1, n_years=2)
    >>> res = tp.sensitivity(inst, factor=0.5, parameters=["cash_subsidy:engineer:inflow_log"])
    >>> list(res.table["scale"])
    [0.5, 1.5]
    """
    began = time.perf_counter()
    scales = check_factor(factor)
    keys = check_by(by)
    SolveOptions(time_limit, mip_gap, threads)  # checks the solver's options
    every = response_keys(instance)
    chosen = check_parameters(instance, parameters)
    solve_options: dict[str, Any] = dict(
        time_limit=time_limit, mip_gap=mip_gap, threads=threads, compare=False
    )
    base = solve(instance, **solve_options, progress=progress, stop=stop)
    sign = -1.0 if instance.scenario.objective == "min_cost" else 1.0
    base_spend = _spend(base.allocation, keys)
    base_noise = max(_absolute_gap(base), mip_gap * abs(base.objective))
    responses = instance.tables["responses"]
    position = {k: n for n, k in enumerate(every)}
    rows: list[dict[str, Any]] = []
    spends: list[pd.DataFrame] = []
    interrupted = base.status == SolveStatus.INTERRUPTED or (stop is not None and stop.is_set())
    todo = [(k, s) for k in chosen for s in scales]
    for n, (key, scale) in enumerate(todo, start=1):
        program, talent_type, effect = key.split(":")
        base_value = float(responses["value"].iloc[position[key]])
        value = scale * base_value
        capped = effect in SHARES and value > 1.0
        value = min(value, 1.0) if effect in SHARES else value
        row: dict[str, Any] = {
            "key": key,
            "program": program,
            "talent_type": "" if talent_type == "-" else talent_type,
            "effect": effect,
            "scale": scale,
            "base_value": base_value,
            "value": value,
            "capped": capped,
            "status": SKIPPED,
            "objective": math.nan,
            "objective_change": math.nan,
            "relative_change": math.nan,
            "bound": math.nan,
            "gap": math.nan,
            "plan_shift": math.nan,
            "keep_loss": math.nan,
            "noise": math.nan,
            "forced": False,
            "significant": False,
            "seconds": 0.0,
        }
        rows.append(row)
        if interrupted or (stop is not None and stop.is_set()):
            interrupted = True
            continue
        if value == base_value:
            row.update(
                status=UNCHANGED,
                objective=base.objective,
                objective_change=0.0,
                relative_change=0.0,
                bound=base.bound,
                gap=base.gap,
                plan_shift=0.0,
                keep_loss=0.0,
                noise=2 * base_noise,
            )
            continue
        stage = f"{key} x{scale:g} ({n} of {len(todo)})"
        logger.info("solving with %s", stage)
        staged = _staged(progress, stage)
        if staged is not None:
            staged(Progress(0.0, math.nan, math.nan, math.inf, stage))
        changed = apply_parameters(instance, {key: value}, source=f"sensitivity x{scale:g}")
        started = time.perf_counter()
        try:
            result = solve(changed, **solve_options, progress=staged, stop=stop)
        except InfeasiblePlanError:
            row.update(status=SolveStatus.INFEASIBLE.value, keep_loss=math.inf, forced=True)
            row.update(seconds=time.perf_counter() - started)
            continue
        except NoSolutionError:
            status = SolveStatus.INTERRUPTED if stop is not None and stop.is_set() else None
            row.update(status=(status or SolveStatus.TIME_LIMIT).value)
            row.update(seconds=time.perf_counter() - started)
            interrupted = interrupted or status is not None
            continue
        except SolverError as exc:
            logger.warning("%s: %s", stage, exc)
            row.update(status=SolveStatus.ERROR.value, seconds=time.perf_counter() - started)
            continue
        seconds = time.perf_counter() - started
        if result.status == SolveStatus.INTERRUPTED:
            interrupted = True
        kept = simulate(changed, base.allocation)
        keep_loss = math.inf if kept.violations else sign * (result.objective - kept.objective)
        noise = base_noise + max(_absolute_gap(result), mip_gap * abs(result.objective))
        spend = _spend(result.allocation, keys)
        change = result.objective - base.objective
        shift = plan_shift(base_spend, spend)
        forced = bool(keep_loss > noise)
        row.update(
            status=result.status.value,
            objective=result.objective,
            objective_change=change,
            relative_change=change / abs(base.objective) if base.objective else math.nan,
            bound=result.bound,
            gap=result.gap,
            plan_shift=shift,
            keep_loss=keep_loss,
            noise=noise,
            forced=forced,
            significant=forced and shift > SHIFT_TOLERANCE,
            seconds=seconds,
        )
        a, b = base_spend.align(spend, fill_value=0.0)
        spends.append(
            pd.DataFrame({"base": a, "spend": b})
            .reset_index()
            .assign(key=key, scale=scale, change=lambda d: d["spend"] - d["base"])
        )
    table = pd.DataFrame(rows, columns=_COLUMNS)
    spend_columns = ["key", "scale", *keys, "base", "spend", "change"]
    spend_table = (
        pd.concat(spends, ignore_index=True)[spend_columns]
        if spends
        else pd.DataFrame(columns=spend_columns)
    )
    solved = table[~table["status"].isin([UNCHANGED, SKIPPED])]
    counts = Counter(str(s) for s in solved["status"])
    status = _overall(base.status, counts, interrupted)
    summary = {
        "command": "sensitivity",
        "instance": instance.scenario.name,
        "status": status.value,
        "objective_name": instance.scenario.objective,
        "objective": base.objective,
        "bound": base.bound,
        "gap": base.gap,
        "gap_basis": base.summary.get("gap_basis"),
        "base_status": base.status.value,
        "base_spend": float(base_spend.sum()),
        "scales": list(scales),
        "by": list(keys),
        "parameters": len(chosen),
        "rows": len(table),
        "solves": len(solved),
        "significant": int(table["significant"].sum()),
        "forced": int(table["forced"].sum()),
        "significance": "keep_loss > noise (the open gaps of the base solve and the re-solve "
        "together) and plan_shift > 0",
        "statuses": dict(sorted(counts.items())),
        "base_seconds": float(base.summary.get("solve_seconds", math.nan)),
        "seconds": time.perf_counter() - began,
        "time_limit": time_limit,
        "mip_gap": mip_gap,
        "threads": threads,
        "instance_hash": instance.hash(),
        "versions": versions(),
    }
    return SensitivityResult(
        status=status,
        _table=table,
        _spend=spend_table,
        summary=_frozen(summary),
        base=base,
    )
