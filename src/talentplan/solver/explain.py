"""Explain infeasibility in planner terms, from elastic relaxations of the rules.

Every planner rule (budgets, land quotas, cadre capacity, caps, prerequisites, policy
floors, pins, targets) gets a slack column on its row. Two relaxations are solved with
the integer decisions kept integer:

1. only the *limits* (budgets, land, cadres, caps) may stretch: the least total stretch,
   in units relative to each limit, says which limits are too tight and by how much;
2. only the *demands* (floors, pins, targets, prerequisites) may give: the least total
   give says which of them cannot all hold.

Together they name both sides of the conflict, e.g. "budget 2027/city_fiscal short by
120.0 (10k yuan)" against "floor 'one-stop centre in every county by 2027'".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from talentplan.model.build import Formulation
from talentplan.model.prepare import ModelData
from talentplan.model.resources import pin_label
from talentplan.solver.matrix import FEASIBLE, INF, CompiledModel, to_highs

LIMITS = (
    "budget",
    "land_quota",
    "cadre_capacity",
    "energy_quota",
    "cap_total",
    "cap_per_city",
    "graduate_pool",
)
DEMANDS = (
    "policy_floor",
    "pin",
    "target",
    "prerequisite",
    "prerequisite_each",
    "prerequisite_spend",
    "equity_floor",
)


@dataclass(frozen=True)
class Conflict:
    """One rule that had to give, with how much."""

    rule: str
    amount: float
    unit: str

    def __str__(self) -> str:
        """Describe the conflict as ``<rule>: short by <amount> <unit>``."""
        return f"{self.rule}: short by {self.amount:,.4g} {self.unit}".rstrip()


def describe_row(f: Formulation, con: object) -> tuple[str, str]:
    """Planner words and unit for the constraint behind a row."""
    d = f.data
    name = con.parent_component().name  # type: ignore[attr-defined]
    idx = con.index()  # type: ignore[attr-defined]
    if name == "budget":
        t, s = idx
        return f"budget {d.years[t]}/{s}", "10k yuan"
    if name == "land_quota":
        return f"land quota of {idx}", "mu"
    if name == "cadre_capacity":
        c, t = idx
        return f"cadre hours of {c} in {d.years[t]}", "hours"
    if name == "energy_quota":
        c, t = idx
        return f"energy quota of {c} in {d.years[t]}", "tce"
    if name == "graduate_pool":
        return f"graduates leaving their counties in {d.years[idx]} (placements)", "persons"
    if name == "cap_total":
        p, t = idx
        return f"plan-wide cap on {p} in {d.years[t]}", "units"
    if name == "cap_per_city":
        p, city, t = idx
        return f"cap per city on {p} in {city or 'the plan area'} in {d.years[t]}", "units"
    if name == "policy_floor":
        n, c, t = idx
        floor = d.instance.scenario.floors[n]
        return (
            f"floor '{floor.name}' ({floor.program} in {c or 'the plan area'}, {d.years[t]})",
            "units",
        )
    if name == "pin":
        return pin_label(d.instance.tables["pins"].iloc[idx]), "units"
    if name == "target":
        label = "/".join(map(str, idx)) if isinstance(idx, tuple) else str(idx)
        if not _has_targets_table(d):
            share = d.instance.scenario.target_coverage
            return (
                f"target for {label} in {d.years[-1]} (target_coverage = {share:g} of its "
                "final-year demand, scenario.toml)",
                "persons",
            )
        return f"target for {label} in {d.years[-1]} (targets.csv)", "persons"
    if name == "equity_floor":
        share = d.instance.scenario.min_coverage
        return f"equity floor (coverage of {idx} >= {share:.1%} in {d.years[-1]})", "persons"
    if name == "prerequisite_each":
        c, i, p, t = idx
        return f"prerequisite of {p} ({d.requires[p]}) in {c}/{i}, {d.years[t]}", "units"
    if name == "prerequisite":
        c, p, t = idx
        return f"prerequisite of {p} ({d.requires[p]}) in {c}, {d.years[t]}", "units"
    if name == "prerequisite_spend":
        c, p, t = idx
        return f"prerequisite of {p} (spend on {d.requires[p]}) in {c}, {d.years[t]}", "10k yuan"
    return f"{name}[{idx}]", ""


def _relax(
    f: Formulation, cm: CompiledModel, families: tuple[str, ...], time_limit: float
) -> list[Conflict] | None:
    rows = [n for n, con in enumerate(cm.rows) if con.parent_component().name in families]
    if not rows:
        return None
    # One slack column per side that can bind: +s relaxes a lower bound, -s an upper bound.
    cols_data, cols_rows, scale, owner = [], [], [], []
    for n in rows:
        size = max(1.0, abs(cm.row_upper[n]) if cm.row_upper[n] < INF else abs(cm.row_lower[n]))
        if cm.row_upper[n] < INF:
            cols_data.append(-1.0)
            cols_rows.append(n)
            scale.append(size)
            owner.append(n)
        if cm.row_lower[n] > -INF:
            cols_data.append(1.0)
            cols_rows.append(n)
            scale.append(size)
            owner.append(n)
    k = len(cols_data)
    slack = sp.csc_array(
        (np.array(cols_data), (np.array(cols_rows), np.arange(k))), shape=(cm.n_rows, k)
    )
    relaxed = CompiledModel(
        A=sp.csc_array(sp.hstack([cm.A, slack])),
        cost=np.concatenate([np.zeros(cm.n_cols), 1.0 / np.array(scale)]),
        offset=0.0,
        maximize=False,
        col_lower=np.concatenate([cm.col_lower, np.zeros(k)]),
        col_upper=np.concatenate([cm.col_upper, np.full(k, INF)]),
        integer=np.concatenate([cm.integer, np.zeros(k, dtype=bool)]),
        row_lower=cm.row_lower,
        row_upper=cm.row_upper,
        columns=cm.columns,
        rows=cm.rows,
    )
    h = to_highs(relaxed)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", 1e-6)
    h.run()
    if h.getInfo().primal_solution_status != FEASIBLE:
        return None
    values = np.asarray(h.getSolution().col_value)[cm.n_cols :]
    out: dict[int, float] = {}
    for j, n in enumerate(owner):
        if values[j] > 1e-6:
            out[n] = out.get(n, 0.0) + float(values[j])
    conflicts = []
    for n, amount in sorted(out.items(), key=lambda kv: -kv[1]):
        rule, unit = describe_row(f, cm.rows[n])
        conflicts.append(Conflict(rule, amount, unit))
    return conflicts


def explain_infeasibility(f: Formulation, cm: CompiledModel, *, time_limit: float = 60.0) -> str:
    """Explain an infeasible formulation: the conflicting rules, one per line.

    ``time_limit`` bounds the whole explanation: each relaxation gets half of it.
    """
    limits = _relax(f, cm, LIMITS, time_limit / 2)
    demands = _relax(f, cm, DEMANDS, time_limit / 2)
    lines = ["No plan satisfies every rule of this instance."]
    if limits:
        lines.append("Limits too tight (the least stretch that would make a plan possible):")
        lines += [f"  - {c}" for c in limits]
    if demands:
        lines.append("Rules that cannot all hold with these limits (the least give):")
        lines += [f"  - {str(c).replace('short by', 'missed by')}" for c in demands]
    if limits and demands:
        lines.append(f"Conflict: {limits[0].rule} vs {demands[0].rule}.")
    if not limits and not demands:
        lines.append(
            "Neither relaxing the limits nor the floors/pins/targets alone gives a plan: "
            "check stocks, demand and program data for contradictions."
        )
    targets = "targets.csv" if _has_targets_table(f.data) else "target_coverage in scenario.toml"
    lines.append(
        "To fix: raise the named limits (budgets.csv; land_quota_mu, cadre_hours or "
        "energy_quota_tce in counties.csv; cap_total or cap_per_city in programs.csv) or "
        "relax the named rules "
        f"(floors in scenario.toml, pins.csv, {targets})."
    )
    return "\n".join(lines)


def _has_targets_table(d: ModelData) -> bool:
    """Whether ``min_cost`` targets come from a targets table (else ``target_coverage``)."""
    targets = d.instance.tables.get("targets")
    return targets is not None and len(targets) > 0
