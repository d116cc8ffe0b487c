r"""Near-optimal alternatives: which spending decisions are firm and which are open.

The optimal plan is one of many plans that are almost as good. Modelling to generate
alternatives asks how far each decision can move while the plan stays within a small
slack of the optimum. Let :math:`X` be the plans the model admits, :math:`f` the model's
objective (the talent index or the smallest coverage, maximised), :math:`x^*` the
optimal plan, :math:`f^* = f(x^*)` and :math:`\varepsilon` the slack. The near-optimal
set is

.. math::

    X_\varepsilon = \{ x \in X : f(x) \ge f^* - \varepsilon |f^*| \}
    \qquad (= \{ x \in X : f(x) \ge (1 - \varepsilon) f^* \} \text{ for } f^* > 0),

and for ``min_cost``, minimised, :math:`f(x) \le f^* + \varepsilon |f^*|`. For each
group :math:`g` (a program, or a program in one county) with spending
:math:`s_g(x) = \sum_t \mathrm{cost}_{g,t}(x)` over all years (10k yuan; fixed and
operating costs of sites, alliances and city programs, unit and operating costs of
units, the spend itself of amounts; :func:`talentplan.model.decisions.program_cost`),

.. math::

    \underline{s}_g = \min_{x \in X_\varepsilon} s_g(x), \qquad
    \overline{s}_g = \max_{x \in X_\varepsilon} s_g(x).

A group whose range :math:`[\underline{s}_g, \overline{s}_g]` is narrow is *firm*: every
near-optimal plan spends about what the optimal plan spends on it. A wide range means
the optimum's choice there is a coin toss between plans almost equally good.

The set is defined on the model's objective, the one HiGHS optimises (response curves
drawn as chords), not on the plan's exact value: :math:`f^*` is the model's value of
the optimal plan, computed from the plan itself. Where the optimum is reported, it is
the plan's exact value (:attr:`AllocationResult.objective
<talentplan.report.result.AllocationResult.objective>`). When the first solve stops
with a gap (``mip_gap`` > 0, a time limit), :math:`f^*` is its incumbent's value, below
the true optimum by at most that gap, so the set is slightly larger than the one the
true optimum defines.

Computation: the model is compiled to matrices once and solved for :math:`x^*`; each
group's spending becomes a cost vector over the compiled columns, and each minimum and
maximum is a re-solve of the same matrices with that cost vector and one extra row
(the objective's condition above), warm-started from the best known plan for that
direction (the optimal plan at first; every plan found by a re-solve lies in
:math:`X_\varepsilon` too). Each re-solve is a MIP: its incumbent is an achieved value
and HiGHS's dual bound bounds the true extreme, so when a time limit stops it
:math:`\underline{s}_g` lies between ``low_bound`` and ``low`` (and
:math:`\overline{s}_g` between ``high`` and ``high_bound``). ``low`` and ``high`` are
the extremes over every plan found, so they never stray beyond ``optimal``.
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
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp
from pyomo.repn import generate_standard_repn

from talentplan._display import DisplayMixin
from talentplan._files import json_ready, write_file_set
from talentplan._options import check_choice, check_number
from talentplan.data.instance import Instance
from talentplan.errors import SolverError
from talentplan.model.build import Formulation
from talentplan.model.decisions import program_cost
from talentplan.report.pipeline import allocation_result
from talentplan.report.result import AllocationResult
from talentplan.solver.api import SolveOptions, solve_instance, versions
from talentplan.solver.highs import Progress, configure, run_interruptibly, subscribe_progress
from talentplan.solver.matrix import FEASIBLE, CompiledModel, to_highs
from talentplan.solver.status import SolveStatus, map_status

__all__ = ["ALTERNATIVES_FILES", "AlternativesResult", "alternatives", "check_by"]

logger = logging.getLogger(__name__)

By = Literal["program", "program,county"]
"""How spending is grouped: per program, or per program and county."""

FIRM_RELATIVE = 0.01
"""A group is firm when its proven range is at most this share of its optimal spend ..."""
FIRM_ABSOLUTE = 1.0
"""... or at most this many 10k yuan, whichever is larger."""

ALTERNATIVES_FILES = ("alternatives.csv", "summary.json")
"""The files :meth:`AlternativesResult.to_dir` writes, in the order they are moved in."""

CONSTANT = "constant"
"""Status of a side that needs no solve: no decision of the model changes the spend."""
SKIPPED = "skipped"
"""Status of a side whose solve never started (the run was stopped first)."""


@dataclass(frozen=True)
class AlternativesResult(DisplayMixin):
    """How far each group's spending can move among near-optimal plans.

    Immutable: the attributes cannot be reassigned, ``summary`` is a read-only mapping,
    and ``table`` and ``solves`` hand out copies.

    Attributes
    ----------
    status
        ``optimal`` when every solve finished within its gap; else the most serious
        outcome among them: ``interrupted`` (the run was stopped: sides not solved have
        status ``skipped``), ``error``, ``time_limit``, ``limit``.
    summary
        The fields of ``summary.json``: instance, objective name, ``objective`` (the
        optimal plan's exact value), ``mip_objective`` (its model value :math:`f^*`),
        ``threshold`` (the model objective's limit of the near-optimal set), slack,
        grouping, counts of groups, firm groups and solves, ``statuses`` (solves per
        status), ``seconds`` (the whole run), the options and versions.
    optimum
        The optimal plan, as :func:`talentplan.solve` returns it.
    """

    status: SolveStatus
    _table: pd.DataFrame = field(repr=False)
    _solves: pd.DataFrame = field(repr=False)
    summary: Mapping[str, Any] = field(repr=False)
    optimum: AllocationResult = field(repr=False)

    @property
    def table(self) -> pd.DataFrame:
        """One row per group, as written to ``alternatives.csv`` (a copy).

        Columns: the group keys (``program``, and ``county``, blank for a city program,
        whose cost belongs to the plan area), ``optimal`` (the spend of the optimal
        plan, 10k yuan, over all years), ``low`` and ``high`` (the least and most spent
        by any near-optimal plan found), ``low_bound`` and ``high_bound`` (bounds on
        the true extremes: no near-optimal plan spends less than ``low_bound`` or more
        than ``high_bound``), ``firm`` and the status of the two solves
        (``low_status``, ``high_status``: a :class:`~talentplan.solver.status.SolveStatus`
        value, ``constant`` when no decision changes the spend, ``skipped`` when the run
        was stopped first).

        ``firm`` is proven, not guessed: ``high_bound - low_bound <= max(0.01 *
        |optimal|, 1.0)`` (:data:`FIRM_RELATIVE`, :data:`FIRM_ABSOLUTE`), so any two
        near-optimal plans spend amounts on the group that differ by at most 1% of the
        optimal plan's spend, or by 10,000 yuan where that is more. A solve stopped
        early leaves its bound loose: a group can be narrow from ``low`` to ``high``
        and still not be shown firm.
        """
        return self._table.copy()

    @property
    def solves(self) -> pd.DataFrame:
        """One row per re-solve, in the order they ran (a copy).

        Columns: the group keys, ``side`` (``low`` or ``high``), ``status``, ``value``
        (the spend of its incumbent), ``bound`` (HiGHS's dual bound), ``seconds`` and
        ``nodes``.
        """
        return self._solves.copy()

    def to_dir(self, path: str | os.PathLike[str]) -> Path:
        """Write ``alternatives.csv`` and ``summary.json`` into the folder ``path``.

        The two files go in as a set (:func:`talentplan._files.write_file_set`),
        ``summary.json`` last, so it stands only beside a complete table.

        Returns
        -------
        pathlib.Path
            The folder.
        """
        produce = {
            "alternatives.csv": lambda: self._table.to_csv(index=False),
            "summary.json": lambda: json.dumps(json_ready(self.summary), indent=2),
        }
        return write_file_set(path, {name: produce[name]() for name in ALTERNATIVES_FILES})

    def _summary_tables(self) -> tuple[str, list[tuple[str, str]], list[pd.DataFrame]]:
        s = self.summary
        header = [
            ("instance", str(s["instance"])),
            ("status", self.status.value),
            (s["objective_name"], f"{s['objective']:.6g} (model {s['mip_objective']:.6g})"),
            ("near-optimal", f"model objective {s['sense']} {s['threshold']:.6g}"),
            ("slack", f"{s['slack']:g}"),
            ("firm groups", f"{s['firm']} of {s['groups']}"),
            ("solves", f"{s['solves']} in {s['seconds']:.1f}s"),
        ]
        keys = [k for k in ("program", "county") if k in self._table.columns]
        shown = self._table.set_index(keys)[
            ["optimal", "low", "high", "low_bound", "high_bound", "firm"]
        ]
        return "Near-optimal alternatives", header, [shown]


@dataclass(frozen=True)
class _Groups:
    """Spending of each group as ``matrix @ x + constant`` over the compiled columns."""

    keys: pd.DataFrame
    matrix: sp.csr_array
    constant: np.ndarray
    lowest: np.ndarray
    """Least spend the column bounds allow (a bound on the minimum that needs no solve)."""
    highest: np.ndarray
    """Most spend the column bounds allow."""

    def spend(self, x: np.ndarray) -> np.ndarray:
        """Return every group's spend in the plan ``x`` (a vector over the columns)."""
        return np.asarray(self.matrix @ x, dtype=float) + self.constant


def group_spending(f: Formulation, cm: CompiledModel, by: tuple[str, ...]) -> _Groups:
    """Express each group's spending over all years as a vector over ``cm``'s columns.

    Groups in which no decision exists (a chain program in a county without its
    industries) are left out.

    Raises
    ------
    SolverError
        When a cost refers to a variable the compiled model does not have.
    """
    m, d = f.model, f.data
    position = {id(var): j for j, var in enumerate(cm.columns)}
    keys: list[dict[str, str]] = []
    rows: list[int] = []
    cols: list[int] = []
    values: list[float] = []
    constants: list[float] = []
    for p in d.programs:
        places: list[tuple[str, list[str] | None]] = [("", None)]
        if "county" in by and d.kind[p] != "city":
            places = [(c, [c]) for c in d.counties]
        for county, counties in places:
            expr = sum(program_cost(m, d, p, t, counties) for t in range(d.n_years))
            repn = generate_standard_repn(expr, quadratic=False, compute_values=True)
            constant = float(repn.constant)
            if not repn.linear_vars and constant == 0.0:
                continue
            for var, coef in zip(repn.linear_vars, repn.linear_coefs, strict=True):
                if id(var) not in position:
                    raise SolverError(
                        f"the cost of {p} refers to {var.name}, which the compiled model "
                        "does not have"
                    )
                rows.append(len(keys))
                cols.append(position[id(var)])
                values.append(float(coef))
            keys.append({"program": p, "county": county} if "county" in by else {"program": p})
            constants.append(constant)
    matrix = sp.csr_array(
        (values, (rows, cols)), shape=(len(keys), cm.n_cols), dtype=float
    )  # duplicate entries are summed
    matrix.sum_duplicates()
    positive = matrix.maximum(0.0)
    negative = matrix.minimum(0.0)
    lower, upper = _finite(cm.col_lower), _finite(cm.col_upper)
    constant_array = np.asarray(constants, dtype=float)
    return _Groups(
        keys=pd.DataFrame(keys, columns=["program", "county"] if "county" in by else ["program"]),
        matrix=matrix,
        constant=constant_array,
        lowest=constant_array + positive @ lower + negative @ upper,
        highest=constant_array + positive @ upper + negative @ lower,
    )


def _finite(bounds: np.ndarray) -> np.ndarray:
    """Column bounds with HiGHS's infinity as numpy's, so a bound through them is inf."""
    out = np.asarray(bounds, dtype=float).copy()
    out[out >= highspy.kHighsInf] = math.inf
    out[out <= -highspy.kHighsInf] = -math.inf
    return out


@dataclass
class _Extreme:
    """What one re-solve returned."""

    status: str
    plan: np.ndarray | None
    bound: float
    seconds: float
    nodes: int


def _near_optimal_row(cm: CompiledModel, threshold: float) -> tuple[float, float, np.ndarray]:
    """Return the bounds and columns of the row ``cost @ x + offset`` (<= or >=) threshold."""
    columns = np.flatnonzero(cm.cost).astype(np.int32)
    limit = threshold - cm.offset
    lower, upper = (limit, highspy.kHighsInf) if cm.maximize else (-highspy.kHighsInf, limit)
    return lower, upper, columns


def _extreme(
    cm: CompiledModel,
    groups: _Groups,
    g: int,
    maximize: bool,
    row: tuple[float, float, np.ndarray],
    warm: np.ndarray,
    options: SolveOptions,
    progress: Callable[[Progress], None] | None,
    stage: str,
    stop: threading.Event | None,
) -> _Extreme:
    """Minimise or maximise group ``g``'s spend over the near-optimal set."""
    cost = np.zeros(cm.n_cols)
    start, end = groups.matrix.indptr[g], groups.matrix.indptr[g + 1]
    cost[groups.matrix.indices[start:end]] = groups.matrix.data[start:end]
    h = to_highs(cm, cost=cost, maximize=maximize)
    h.changeObjectiveOffset(float(groups.constant[g]))
    lower, upper, columns = row
    h.addRow(lower, upper, len(columns), columns, cm.cost[columns].astype(float))
    configure(h, time_limit=options.time_limit, mip_gap=options.mip_gap, threads=options.threads)
    if progress is not None:
        progress(Progress(0.0, math.nan, math.nan, math.inf, stage))
        subscribe_progress(h, progress, stage)
    solution = highspy.HighsSolution()
    solution.col_value = np.asarray(warm, dtype=float).tolist()
    h.setSolution(solution)
    began = time.perf_counter()
    run_interruptibly(h, stop)
    seconds = time.perf_counter() - began
    status = map_status(h.getModelStatus())
    info = h.getInfo()
    plan = None
    if status.may_have_plan and info.primal_solution_status == FEASIBLE:
        plan = np.asarray(h.getSolution().col_value, dtype=float)
    bound = float(info.mip_dual_bound)
    if status in (SolveStatus.INFEASIBLE, SolveStatus.UNBOUNDED, SolveStatus.ERROR):
        # The warm start is a plan of the set, so neither can be true: a numerical failure.
        logger.warning("%s: HiGHS says %s; the range falls back on the plans found", stage, status)
        bound = math.nan
    return _Extreme(status.value, plan, bound, seconds, int(info.mip_node_count))


def _whole(cm: CompiledModel, x: np.ndarray) -> np.ndarray:
    """``x`` with its integer columns rounded, as the allocation table reads a plan."""
    out = np.asarray(x, dtype=float).copy()
    out[cm.integer] = np.round(out[cm.integer])
    return out


def check_by(by: str | Sequence[str]) -> tuple[str, ...]:
    """Return the grouping ``by`` as a tuple of keys.

    Parameters
    ----------
    by
        ``"program"`` or ``"program,county"``, or the same as a sequence of keys.

    Raises
    ------
    OptionError
        For any other grouping.

    Examples
    --------
    >>> check_by("program,county")
    ('program', 'county')
    """
    if isinstance(by, str):
        parts = [part.strip() for part in by.split(",")]
    else:
        parts = [str(part) for part in by]
    check_choice("by", ",".join(parts), By)
    return tuple(parts)


def alternatives(
    instance: Instance,
    *,
    slack: float = 0.01,
    by: str | Sequence[str] = ("program", "county"),
    time_limit: float | None = None,
    mip_gap: float = 1e-4,
    threads: int | None = None,
    progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> AlternativesResult:
    """Find the least and the most each group can spend among near-optimal plans.

    A group is a program, or a program in one county. The near-optimal set is defined
    on the model's objective (see the module's docstring for the equations): the plans
    whose model objective is within ``slack * |f*|`` of the model value ``f*`` of the
    optimal plan. The optimum is solved once; then every group's spending over all
    years is minimised and maximised over that set, two re-solves of the same compiled
    model per group.

    Parameters
    ----------
    instance
        A planning instance; its scenario's objective is used.
    slack
        Relative slack in [0, 1): 0.01 admits plans within 1% of the optimum.
    by
        ``("program",)`` or ``("program", "county")`` (also ``"program"`` or
        ``"program,county"``). A city program's cost belongs to the plan area: it is one
        group with a blank county.
    time_limit, mip_gap, threads
        For the optimum and for each re-solve alike (``time_limit`` is per solve). A
        re-solve stopped by its time limit keeps its incumbent and bound.
    progress
        Called about once a second during each solve, and once as each re-solve
        starts; ``Progress.stage`` names the group and side being solved (blank for the
        optimum).
    stop
        Once set (from a signal handler or another thread), the running solve stops and
        no further one starts: the result holds what was computed, with status
        ``interrupted``. Ctrl-C (``KeyboardInterrupt``) does the same.

    Returns
    -------
    AlternativesResult

    Raises
    ------
    OptionError
        An option is not admissible.
    InfeasiblePlanError, NoSolutionError, SolverError
        As :func:`talentplan.solve` raises them for the optimum.

    Examples
    --------
    >>> import talentplan as tp
    >>> inst = tp.datasets.synthetic(2, seed=1, n_years=2)
    >>> alt = tp.alternatives(inst, slack=0.05, by="program", mip_gap=0.0)
    >>> bool(((alt.table.low <= alt.table.optimal) & (alt.table.optimal <= alt.table.high)).all())
    True
    """
    began = time.perf_counter()
    check_number("slack", slack, low=0, high=1, high_open=True)
    keys = check_by(by)
    options = SolveOptions(time_limit, mip_gap, threads)
    solution = solve_instance(instance, options, progress, stop)
    optimum = allocation_result(instance, options, solution)
    formulation, run = solution.formulation, solution.run
    assert run.values is not None  # solve_instance raises when there is no plan
    cm = run.compiled
    groups = group_spending(formulation, cm, keys)
    best = np.asarray(run.values, dtype=float)
    model_optimum = float(cm.cost @ best + cm.offset)
    margin = slack * abs(model_optimum)
    threshold = model_optimum - margin if cm.maximize else model_optimum + margin
    row = _near_optimal_row(cm, threshold)

    n_groups = len(groups.keys)
    optimal = groups.spend(_whole(cm, best))
    low, high = optimal.copy(), optimal.copy()
    low_plan = np.zeros(n_groups, dtype=int)
    high_plan = np.zeros(n_groups, dtype=int)
    plans = [best]
    constant = groups.highest - groups.lowest <= 1e-9 * np.maximum(1.0, np.abs(optimal))
    low_bound = np.where(constant, optimal, groups.lowest)
    high_bound = np.where(constant, optimal, groups.highest)
    statuses = {
        side: np.where(constant, CONSTANT, SKIPPED).astype(object) for side in ("low", "high")
    }
    interrupted = run.status == SolveStatus.INTERRUPTED or (stop is not None and stop.is_set())
    todo = [(int(g), side) for g in np.flatnonzero(~constant) for side in ("low", "high")]
    records = []
    for n, (g, side) in enumerate(todo, start=1):
        if interrupted or (stop is not None and stop.is_set()):
            interrupted = True
            break
        key = groups.keys.iloc[g]
        where = f" in {key['county']}" if key.get("county") else ""
        word = "least" if side == "low" else "most"
        stage = f"{word} spent on {key['program']}{where} ({n} of {len(todo)})"
        logger.info("solving for the %s", stage)
        warm = plans[low_plan[g] if side == "low" else high_plan[g]]
        extreme = _extreme(cm, groups, g, side == "high", row, warm, options, progress, stage, stop)
        statuses[side][g] = extreme.status
        if extreme.status == SolveStatus.INTERRUPTED:
            interrupted = True
        value = math.nan
        if extreme.plan is not None:
            spend = groups.spend(_whole(cm, extreme.plan))
            value = float(spend[g])
            plans.append(extreme.plan)
            lower, higher = spend < low, spend > high
            low, low_plan = np.where(lower, spend, low), np.where(lower, len(plans) - 1, low_plan)
            high = np.where(higher, spend, high)
            high_plan = np.where(higher, len(plans) - 1, high_plan)
        if math.isfinite(extreme.bound):
            if side == "low":
                low_bound[g] = max(low_bound[g], extreme.bound)
            else:
                high_bound[g] = min(high_bound[g], extreme.bound)
        records.append(
            {
                **key.to_dict(),
                "side": side,
                "status": extreme.status,
                "value": value,
                "bound": extreme.bound,
                "seconds": extreme.seconds,
                "nodes": extreme.nodes,
            }
        )
    # An achieved value is a bound's limit: a bound a hair past it is a tolerance.
    low_bound = np.minimum(low_bound, low)
    high_bound = np.maximum(high_bound, high)
    tolerance = np.maximum(FIRM_RELATIVE * np.abs(optimal), FIRM_ABSOLUTE)
    table = groups.keys.assign(
        optimal=optimal,
        low=low,
        high=high,
        low_bound=low_bound,
        high_bound=high_bound,
        firm=high_bound - low_bound <= tolerance,
        low_status=statuses["low"],
        high_status=statuses["high"],
    )
    solves = pd.DataFrame(
        records,
        columns=[*groups.keys.columns, "side", "status", "value", "bound", "seconds", "nodes"],
    )
    counts = Counter(str(s) for s in solves["status"])
    status = _overall(run.status, counts, interrupted)
    summary = {
        "command": "alternatives",
        "instance": instance.scenario.name,
        "status": status.value,
        "objective_name": formulation.objective,
        "objective": optimum.objective,
        "mip_objective": model_optimum,
        "sense": ">=" if cm.maximize else "<=",
        "threshold": threshold,
        "optimum_status": run.status.value,
        "optimum_mip_bound": run.bound,
        "optimum_mip_gap": run.gap,
        "slack": slack,
        "by": list(keys),
        "groups": n_groups,
        "firm": int(table["firm"].sum()),
        "firm_relative": FIRM_RELATIVE,
        "firm_absolute": FIRM_ABSOLUTE,
        "solves": len(solves),
        "statuses": dict(sorted(counts.items())),
        "optimum_seconds": run.solve_seconds,
        "resolve_seconds": float(solves["seconds"].sum()),
        "seconds": time.perf_counter() - began,
        "time_limit": time_limit,
        "mip_gap": mip_gap,
        "threads": threads,
        "instance_hash": instance.hash(),
        "versions": versions(),
    }
    return AlternativesResult(
        status=status,
        _table=table,
        _solves=solves,
        summary=_frozen(summary),
        optimum=optimum,
    )


_SERIOUS = (SolveStatus.ERROR, SolveStatus.TIME_LIMIT, SolveStatus.LIMIT)


def _overall(optimum: SolveStatus, counts: Counter[str], interrupted: bool) -> SolveStatus:
    """Return the status of the whole run: interrupted, else the worst of its solves."""
    if interrupted:
        return SolveStatus.INTERRUPTED
    seen = {optimum.value, *counts}
    failed = {SolveStatus.INFEASIBLE.value, SolveStatus.UNBOUNDED.value}
    if seen & failed:
        return SolveStatus.ERROR
    return next((s for s in _SERIOUS if s.value in seen), SolveStatus.OPTIMAL)


def _frozen(value: Any) -> Any:
    """Return a read-only copy of a summary: mappings become proxies, lists tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value
