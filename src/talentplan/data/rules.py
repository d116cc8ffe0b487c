"""Checks across tables and the scenario: references, completeness, programs, responses.

:func:`cross_check` runs every check that needs more than one table on the
:class:`~talentplan.data.cells.Parsed` tables: ids referenced between tables, at least one
county and talent type, the graduate flag, program caps and prerequisites, effects allowed
for each program kind, complete stock and demand grids, source lists, plan years and
budgets; pins and policy floors are checked by :mod:`talentplan.data.pins`. Problems go to
the :class:`~talentplan.data.cells.Collector`; records whose cell already failed to parse
are not reported again.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from talentplan.data.cells import Collector, Parsed, as_number, suggest
from talentplan.data.instance import Scenario
from talentplan.data.pins import check_floors, check_pins
from talentplan.data.scenario_toml import ScenarioSource
from talentplan.data.schema import COUNTY_CAPS, EFFECT_KINDS


def cross_check(
    parsed: dict[str, Parsed], sc: Scenario | None, src: ScenarioSource | None, out: Collector
) -> None:
    """Run the checks that involve several tables or the scenario; collect errors in ``out``."""
    ids = {
        name: [str(v) for v in parsed[name].frame[parsed[name].table.key[0]]]
        for name in ("counties", "talent_types", "industries", "programs", "sources")
        if name in parsed
    }
    for t in parsed.values():
        for column, ref in t.table.references.items():
            if ref in ids:
                _check_reference(
                    t,
                    column,
                    ids[ref],
                    column.replace("_", " "),
                    parsed[ref].file,
                    out,
                    allow_blank=not t.table.column(column).required,
                )
    for name in ("counties", "talent_types"):
        if name in parsed and parsed[name].frame.empty:
            out.add(f"table '{name}' has no rows; at least one is needed", file=parsed[name].file)
    years = sc.years if sc is not None else None
    _check_types(parsed, out)
    _check_programs(parsed, out)
    _check_responses(parsed, out)
    _check_grids(parsed, years, out)
    _check_sources(parsed, out)
    if years is not None:
        _check_years(parsed, years, out)
    check_pins(parsed, out)
    if sc is not None:
        check_floors(parsed, sc, src, out)


def _check_reference(
    t: Parsed,
    column: str,
    ids: list[str],
    what: str,
    target: str,
    out: Collector,
    allow_blank: bool = False,
) -> None:
    known = set(ids)
    values = t.frame[column].to_numpy(dtype=object)
    mask = t.ok(column) & ~np.isin(values.astype(str), list(known))
    if allow_blank:
        mask &= values != ""
    for i in np.flatnonzero(mask):
        out.at(
            t,
            i,
            column,
            f"unknown {what} '{values[i]}'{suggest(values[i], ids)}; "
            f"expected an id listed in {target}",
        )


def _check_types(parsed: dict[str, Parsed], out: Collector) -> None:
    tt = parsed.get("talent_types")
    if tt is None:
        return
    flagged = np.flatnonzero(tt.frame["graduate"].to_numpy(dtype=bool))
    if len(flagged) > 1:
        first = int(tt.rows[flagged[0]])
        for i in flagged[1:]:
            out.at(
                tt,
                i,
                "graduate",
                f"more than one talent type is flagged graduate (also row {first}); "
                "vocational graduates join exactly one type",
            )
    counties = parsed.get("counties")
    if counties is not None and len(flagged) == 0:
        has = np.flatnonzero(counties.frame["graduates"].to_numpy() > 0)
        if len(has):
            out.at(
                counties,
                int(has[0]),
                "graduates",
                "counties have vocational graduates but no talent type is flagged "
                f"graduate in {tt.file}; flag the type they join",
            )


def _check_programs(parsed: dict[str, Parsed], out: Collector) -> None:
    pr = parsed.get("programs")
    if pr is None:
        return
    f = pr.frame
    names = list(f["program"])
    for i, (p, kind, cap, total, req) in enumerate(
        f[["program", "kind", "cap_per_county", "cap_total", "requires"]].itertuples(index=False)
    ):
        if cap:
            if cap in COUNTY_CAPS:
                if kind != "count":
                    out.at(
                        pr,
                        i,
                        "cap_per_county",
                        f"'{cap}' caps count programs only (one unit per {cap[:-1]})",
                    )
            elif math.isnan(as_number(cap)) or as_number(cap) < 0:
                out.at(
                    pr,
                    i,
                    "cap_per_county",
                    f"expected a number >= 0, 'townships' or 'colleges', got {cap!r}",
                )
            elif kind not in ("count", "amount"):
                out.at(
                    pr,
                    i,
                    "cap_per_county",
                    f"cap_per_county applies to count and amount programs, not {kind} "
                    "(a site is open or not; use cap_total to limit sites)",
                )
            elif kind == "count" and not float(as_number(cap)).is_integer():
                out.at(
                    pr,
                    i,
                    "cap_per_county",
                    f"a count program's cap must be a whole number of units, got {cap!r}",
                )
        if not math.isnan(total) and kind in ("amount", "city"):
            out.at(
                pr,
                i,
                "cap_total",
                f"cap_total limits sites, units or alliances; it does not apply to {kind} "
                "programs (leave it blank)",
            )
        if req:
            if req == p:
                out.at(pr, i, "requires", "a program cannot require itself")
            elif req not in names:
                out.at(
                    pr,
                    i,
                    "requires",
                    f"unknown program '{req}'{suggest(req, names)}; expected a program id "
                    f"listed in {pr.file}",
                )


def _check_responses(parsed: dict[str, Parsed], out: Collector) -> None:
    rs, pr, tt = parsed.get("responses"), parsed.get("programs"), parsed.get("talent_types")
    if rs is None or pr is None:
        return
    kind_of = dict(zip(pr.frame["program"], pr.frame["kind"], strict=True))
    has_graduate = tt is not None and bool(tt.frame["graduate"].any())
    for i, (p, k, effect, value, scale) in enumerate(
        rs.frame[["program", "talent_type", "effect", "value", "scale"]].itertuples(index=False)
    ):
        if not rs.ok("effect")[i]:
            continue
        kind = kind_of.get(p)
        if kind is not None and kind not in EFFECT_KINDS[effect]:
            out.at(
                rs,
                i,
                "effect",
                f"effect '{effect}' does not apply to program '{p}' of kind {kind}; "
                f"'{effect}' applies to kinds: {', '.join(EFFECT_KINDS[effect])}",
            )
        if effect == "cadre_capacity":
            if k:
                out.at(
                    rs,
                    i,
                    "talent_type",
                    "cadre_capacity adds cadre hours to the county: leave talent_type blank",
                )
        elif effect in ("graduate_retention", "placement"):
            if k:
                out.at(
                    rs,
                    i,
                    "talent_type",
                    f"{effect} acts on the graduates: leave talent_type blank",
                )
            if not has_graduate:
                out.at(rs, i, "effect", f"{effect} needs a talent type flagged graduate")
        elif not k and rs.ok("talent_type")[i]:
            out.at(rs, i, "talent_type", f"effect '{effect}' needs a talent type")
        if effect in ("retention", "graduate_retention") and value > 1:
            out.at(
                rs,
                i,
                "value",
                f"{effect} is a share of attrition or graduates: "
                f"expected a value in 0..1, got {value:g}",
            )
        if effect == "inflow_log":
            if math.isnan(scale) or scale <= 0:
                out.at(
                    rs,
                    i,
                    "scale",
                    "inflow_log needs a positive scale (10k yuan): value * log(1 + spend / scale)",
                )
        elif effect not in ("fte", "placement") and not math.isnan(scale):
            out.at(
                rs,
                i,
                "scale",
                f"scale is used by inflow_log, fte and placement only; leave it blank for {effect}",
            )


def _check_grids(parsed: dict[str, Parsed], years: list[int] | None, out: Collector) -> None:
    counties, types = parsed.get("counties"), parsed.get("talent_types")
    if counties is None or types is None:
        return
    c_ids = list(counties.frame["county"])
    k_ids = list(types.frame["talent_type"])
    st = parsed.get("stocks")
    if st is not None:
        _missing_grid(
            st, ["county", "talent_type"], [c_ids, k_ids], out, "no initial stock and attrition for"
        )
    de = parsed.get("demand")
    if de is not None and years is not None:
        _missing_grid(
            de, ["county", "talent_type", "year"], [c_ids, k_ids, years], out, "no demand for"
        )


def _missing_grid(
    t: Parsed, keys: list[str], levels: list[list[Any]], out: Collector, what: str
) -> None:
    full = pd.MultiIndex.from_product(levels, names=keys)
    have = pd.MultiIndex.from_frame(t.frame[keys])
    missing = full.difference(have)
    for key in missing[:200]:
        desc = ", ".join(f"{k}={v!r}" for k, v in zip(keys, key, strict=True))
        out.add(
            f"{what} ({desc}); every combination needs a row",
            file=t.file,
            column=keys[-1],
            value=key[-1],
        )
    if len(missing) > 200:
        out.add(f"... and {len(missing) - 200} more missing combinations", file=t.file)


def _check_sources(parsed: dict[str, Parsed], out: Collector) -> None:
    so = parsed.get("sources")
    if so is None:
        return
    lists = {"programs": parsed.get("programs"), "counties": parsed.get("counties")}
    key = {"programs": "program", "counties": "county"}
    for column, ref in lists.items():
        if ref is None:
            continue
        known = list(ref.frame[key[column]])
        for i, text in enumerate(so.frame[column]):
            if text in ("*", ""):
                continue
            for item in (s.strip() for s in text.split(";")):
                if item and item not in known:
                    out.at(
                        so,
                        i,
                        column,
                        f"unknown {key[column]} '{item}'{suggest(item, known)} in the "
                        f"list; expected '*' or ids from {ref.file} separated by ';'",
                    )


def _check_years(parsed: dict[str, Parsed], years: list[int], out: Collector) -> None:
    span = f"{years[0]}-{years[-1]}"
    for name in ("demand", "budgets", "pins"):
        t = parsed.get(name)
        if t is None:
            continue
        y = t.frame["year"].to_numpy()
        for i in np.flatnonzero(t.ok("year") & ~np.isin(y, years)):
            out.at(
                t,
                i,
                "year",
                f"year {y[i]} is outside the plan years {span} (scenario start_year and n_years)",
            )
    bu = parsed.get("budgets")
    if bu is not None:
        have = set(bu.frame["year"])
        for year in years:
            if year not in have:
                out.add(
                    f"no budget row for plan year {year}: every plan year needs at least "
                    "one row (use amount 0 for a year without money)",
                    file=bu.file,
                    column="year",
                    value=year,
                )
