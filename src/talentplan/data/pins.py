"""Pins and policy floors, checked against what the programs and counties allow.

A pin fixes or bounds one decision (a program in a county, for a chain program also an
industry, in a year); a policy floor asks for at least some units of a program in the
listed counties by a year. Both must name known programs, counties and industries, stay
within the largest level a decision can take (open-or-not for sites, present industries
for chains, ``cap_per_county`` and ``cap_total``); no pin may contradict another pin or a
floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from talentplan.data.cells import Collector, Parsed, as_number, suggest
from talentplan.data.instance import Scenario
from talentplan.data.scenario_toml import ScenarioSource

_TOL = 1e-9
"""Slack when comparing levels, so that values equal up to rounding do not clash."""

_MONOTONE = ("site", "chain", "city", "count")
"""Kinds whose level never falls: sites stay open, units are never removed."""


@dataclass(frozen=True)
class _Bounds:
    kind: dict[str, str]
    cap: dict[str, str]
    total: dict[str, float]
    townships: dict[str, int]
    present: dict[str, set[str]]

    def level_cap(self, program: str, county: str, industry: str) -> tuple[float, str] | None:
        """Largest level of ``program`` in ``county`` and why, or ``None`` if unbounded."""
        kind = self.kind[program]
        if kind in ("site", "city") or (kind == "chain" and industry):
            return 1.0, f"a {kind} program is open (1) or not (0)"
        if kind == "chain":
            n = len(self.present.get(county, ()))
            return float(n), f"county '{county}' has {n} present industries (one alliance each)"
        cap = self.cap[program]
        if cap == "townships" and county in self.townships:
            n = self.townships[county]
            return float(n), f"cap_per_county is 'townships' and county '{county}' has {n}"
        number = as_number(cap) if cap else math.nan
        if not math.isnan(number):
            return number, f"cap_per_county of '{program}' is {number:g}"
        return None


def _bounds(parsed: dict[str, Parsed]) -> _Bounds | None:
    pr, co, pe = parsed.get("programs"), parsed.get("counties"), parsed.get("presence")
    if pr is None or co is None:
        return None
    present: dict[str, set[str]] = {c: set() for c in co.frame["county"]}
    if pe is not None:
        for c, i in pe.frame[["county", "industry"]].itertuples(index=False):
            present.setdefault(c, set()).add(i)
    f = pr.frame
    return _Bounds(
        kind=dict(zip(f["program"], f["kind"], strict=True)),
        cap=dict(zip(f["program"], f["cap_per_county"], strict=True)),
        total={
            p: v for p, v in zip(f["program"], f["cap_total"], strict=True) if not math.isnan(v)
        },
        townships=dict(zip(co.frame["county"], co.frame["townships"].astype(int), strict=True)),
        present=present,
    )


def check_pins(parsed: dict[str, Parsed], out: Collector) -> None:
    """Pins name known decisions, stay within their caps and do not contradict one another."""
    pi, b = parsed.get("pins"), _bounds(parsed)
    if pi is None or b is None or pi.frame.empty:
        return
    industries = set(parsed["industries"].frame["industry"]) if "industries" in parsed else set()
    usable = np.ones(len(pi.frame), dtype=bool)
    for i, (county, p, industry, _year, action, value) in enumerate(
        pi.frame[["county", "program", "industry", "year", "action", "value"]].itertuples(
            index=False
        )
    ):
        kind = b.kind.get(p)
        if kind is None or not pi.ok("action")[i]:
            usable[i] = False
            continue
        if kind == "city":
            if county:
                out.at(
                    pi,
                    i,
                    "county",
                    f"'{p}' is a city program (one decision for the "
                    "whole plan area): leave county blank",
                )
        elif not county:
            out.at(pi, i, "county", f"'{p}' is a {kind} program: name the county")
            usable[i] = False
        elif county not in b.townships:
            out.at(
                pi, i, "county", f"unknown county '{county}'{suggest(county, list(b.townships))}"
            )
            usable[i] = False
        if kind == "chain" and industry:
            if industry not in industries:
                out.at(
                    pi,
                    i,
                    "industry",
                    f"unknown industry '{industry}'{suggest(industry, sorted(industries))}",
                )
                usable[i] = False
            elif county in b.present and industry not in b.present[county]:
                out.at(
                    pi,
                    i,
                    "industry",
                    f"industry '{industry}' is not present in county '{county}' (no row "
                    "in presence): a chain program exists only where its industry is",
                )
                usable[i] = False
        elif industry and kind != "chain":
            out.at(pi, i, "industry", f"industry is for chain programs only; '{p}' is {kind}")
        if action == "forbid":
            if not math.isnan(value) and value != 0:
                out.at(pi, i, "value", "forbid takes no value (leave it blank)")
            continue
        if math.isnan(value):
            if pi.ok("value")[i]:
                out.at(
                    pi,
                    i,
                    "value",
                    f"action '{action}' needs a value (1 = open for site, chain and city programs)",
                )
            usable[i] = False
            continue
        cap = b.level_cap(p, county, industry) if usable[i] else None
        if cap is not None and value > cap[0] + _TOL:
            out.at(
                pi,
                i,
                "value",
                f"{action} {value:g} exceeds the largest possible level {cap[0]:g}: {cap[1]}",
            )
            usable[i] = False
        elif kind == "count" and not float(value).is_integer():
            out.at(pi, i, "value", f"'{p}' counts whole units; got {value:g}")
        elif p in b.total and value > b.total[p] + _TOL:
            out.at(pi, i, "value", f"{action} {value:g} exceeds cap_total {b.total[p]:g} of '{p}'")
            usable[i] = False
    _check_pin_conflicts(pi, b, usable, out)


def _check_pin_conflicts(pi: Parsed, b: _Bounds, usable: np.ndarray, out: Collector) -> None:
    """Report each lower bound (fix/min) above an upper bound (fix/max/forbid) of a decision."""
    rec: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in pi.frame.to_dict("records")
    ]
    groups: dict[tuple[str, str, str], list[int]] = {}
    for pos in np.flatnonzero(usable).tolist():
        r = rec[pos]
        groups.setdefault((r["county"], r["program"], r["industry"]), []).append(pos)
    for (_county, p, _industry), members in groups.items():
        monotone = b.kind[p] in _MONOTONE
        for i in members:
            ai, yi, vi = rec[i]["action"], int(rec[i]["year"]), float(rec[i]["value"])
            if ai not in ("fix", "min"):
                continue
            for j in members:
                aj, yj, vj = rec[j]["action"], int(rec[j]["year"]), rec[j]["value"]
                if j == i or aj not in ("fix", "max", "forbid"):
                    continue
                upper = 0.0 if aj == "forbid" else float(vj)
                same = yj == yi
                if not (same or (monotone and yi < yj)) or not vi > upper + _TOL:
                    continue
                if same and ai == "fix" and aj == "fix" and j < i:
                    continue  # report a pair of fixes once
                why = (
                    ""
                    if same
                    else (
                        f" ({b.kind[p]} programs never shrink: what is in place in {yi} is still "
                        f"there in {yj})"
                    )
                )
                out.at(
                    pi,
                    j,
                    "action",
                    f"{aj} {upper:g} in {yj} contradicts {ai} {vi:g} in {yi} "
                    f"(row {int(pi.rows[i])}){why}",
                )


def check_floors(
    parsed: dict[str, Parsed], sc: Scenario, src: ScenarioSource | None, out: Collector
) -> None:
    """Policy floors name known programs, counties and plan years and are reachable."""
    b = _bounds(parsed)
    if b is None or not sc.floors:
        return
    file = src.floors_file if src is not None else "scenario"
    years = sc.years
    for n, fl in enumerate(sc.floors):
        row = src.floor_rows[n] if src is not None and src.floor_rows else None

        def err(
            key: str,
            message: str,
            value: object,
            row: int | None = row,
            n: int = n,
            floor: str = fl.name,
        ) -> None:
            column = key if row is not None else f"floors[{n}].{key}"
            out.add(
                f"policy floor '{floor}': {message}", file=file, row=row, column=column, value=value
            )

        if fl.program not in b.kind:
            err(
                "program",
                f"unknown program '{fl.program}'{suggest(fl.program, list(b.kind))}",
                fl.program,
            )
            continue
        kind = b.kind[fl.program]
        unknown = [c for c in fl.counties if c not in b.townships]
        for c in unknown:
            err("counties", f"unknown county '{c}'{suggest(c, list(b.townships))}", c)
        if kind == "city" and fl.counties:
            err(
                "counties",
                f"'{fl.program}' is a city program: leave counties empty",
                list(fl.counties),
            )
        if fl.by_year not in years:
            err(
                "by_year",
                f"year {fl.by_year} is outside the plan years {years[0]}-{years[-1]}",
                fl.by_year,
            )
        counties = [c for c in (fl.counties or tuple(b.townships)) if c in b.townships]
        for c in counties if kind != "city" else counties[:1]:
            cap = b.level_cap(fl.program, c, "")
            if cap is not None and fl.min_units > cap[0] + _TOL:
                err(
                    "min_units",
                    f"{fl.min_units:g} units exceed the largest possible level "
                    f"{cap[0]:g} in '{c}': {cap[1]}",
                    fl.min_units,
                )
        if fl.program in b.total and kind != "city":
            need = fl.min_units * len(counties)
            if need > b.total[fl.program] + _TOL:
                err(
                    "min_units",
                    f"needs {need:g} units across {len(counties)} counties but "
                    f"cap_total of '{fl.program}' is {b.total[fl.program]:g}",
                    fl.min_units,
                )
        _floor_vs_pins(
            parsed.get("pins"), fl.program, counties, kind, fl.by_year, fl.min_units, fl.name, out
        )


def _floor_vs_pins(
    pi: Parsed | None,
    program: str,
    counties: list[str],
    kind: str,
    by_year: int,
    min_units: float,
    name: str,
    out: Collector,
) -> None:
    if pi is None or pi.frame.empty:
        return
    f = pi.frame
    where = set(counties) if kind != "city" else {""}
    mask = (
        (f["program"] == program)
        & f["county"].isin(where)
        & (f["industry"] == "")
        & f["action"].isin(["fix", "max", "forbid"])
        & (f["year"] >= by_year)
    ).to_numpy()
    actions, values = f["action"].tolist(), f["value"].tolist()
    for i in np.flatnonzero(mask):
        action = str(actions[int(i)])
        upper = 0.0 if action == "forbid" else float(values[int(i)])
        if upper < min_units - _TOL:
            out.at(
                pi,
                i,
                "action",
                f"{action} {upper:g} contradicts policy floor '{name}' "
                f"({program} at least {min_units:g} from {by_year})",
            )
