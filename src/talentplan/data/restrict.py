"""Restrict an instance to cash subsidies: the comparison plan of the report.

:func:`subsidies_only` keeps the programs whose mechanism is ``market`` (cash subsidies)
and the same budgets (an earmark for other programs only is opened to the subsidies),
and says in plain words every rule it had to drop or change on the way: a plan of the
restricted instance is scored on rules it can meet, never on rules it silently breaks.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from talentplan.data.instance import Instance
from talentplan.data.validate import RawTable, build_instance
from talentplan.errors import InstanceError

__all__ = ["SUBSIDY_MECHANISM", "subsidies_only"]

SUBSIDY_MECHANISM = "market"
"""The mechanism of the programs that pay cash subsidies (``programs.csv``)."""


def subsidies_only(instance: Instance) -> tuple[Instance, list[str]]:
    """Return ``instance`` restricted to its cash subsidies, and what that changed.

    The restricted instance keeps the counties, talent, demand, budgets and scenario of
    ``instance`` and only the programs whose mechanism is :data:`SUBSIDY_MECHANISM`
    (less any that requires a dropped program). With them go:

    * the responses and pins of the dropped programs;
    * the policy floors on dropped programs (rules only other programs can meet);
    * the earmark of a source that may pay only for dropped programs: it is opened to
      the cash subsidies, so that the comparison plan has the same money to spend (a
      source whose list names a kept program keeps its list, trimmed to the kept ones).

    Parameters
    ----------
    instance
        A validated instance.

    Returns
    -------
    tuple
        ``(restricted, notes)``: the restricted instance, validated as a whole, and one
        sentence per rule dropped or budget set aside (empty when nothing was).

    Raises
    ------
    InstanceError
        The instance has no cash-subsidy program.

    Examples
    --------
    >>> import talentplan as tp
    >>> restricted, notes = subsidies_only(tp.load_instance("qingyuan"))
    >>> restricted.programs["program"].tolist()
    ['cash_subsidy']
    >>> notes[0].startswith("Policy floor 'one-stop centre everywhere'")
    True
    """
    programs = instance.programs
    kept = _kept_programs(programs)
    if not kept:
        raise InstanceError(
            f"instance '{instance.scenario.name}' has no program whose mechanism is "
            f"'{SUBSIDY_MECHANISM}', so there is no subsidies-only plan to compare with",
            file="programs.csv",
            column="mechanism",
        )
    notes = [
        f"{p} is dropped: it requires {programs.set_index('program').at[p, 'requires']}, "
        "which is not a cash subsidy."
        for p in programs.loc[programs["mechanism"] == SUBSIDY_MECHANISM, "program"]
        if p not in kept
    ]
    floors = []
    for floor in instance.scenario.floors:
        if floor.program in kept:
            floors.append(floor)
        else:
            notes.append(
                f"Policy floor '{floor.name}' ({floor.program} from {floor.by_year}) is "
                f"dropped: only {floor.program} can meet it."
            )
    tables = dict(instance.tables)
    tables["programs"] = programs[programs["program"].isin(kept)]
    tables["responses"] = instance.responses[instance.responses["program"].isin(kept)]
    pins = tables.get("pins")
    if pins is not None and len(pins):
        notes += _pin_notes(pins[~pins["program"].isin(kept)])
        tables["pins"] = pins[pins["program"].isin(kept)]
    tables["sources"], tables["budgets"], money_notes = _earmarks(instance, kept)
    notes += money_notes
    raw = {
        name: RawTable(frame.reset_index(drop=True).astype(object), f"{name}.csv")
        for name, frame in tables.items()
    }
    scenario = replace(instance.scenario, floors=tuple(floors))
    restricted = build_instance(
        raw, scenario, origin=instance.origin, label=lambda name: f"{name}.csv"
    )
    return restricted, notes


def _kept_programs(programs: pd.DataFrame) -> list[str]:
    """Return the cash-subsidy programs whose prerequisite, if any, is a cash subsidy too."""
    market = programs[programs["mechanism"] == SUBSIDY_MECHANISM]
    ids = set(market["program"].astype(str))
    requires = market["requires"].fillna("").astype(str).str.strip()
    return [p for p, r in zip(market["program"], requires, strict=True) if not r or r in ids]


def _pin_notes(dropped: pd.DataFrame) -> list[str]:
    """Say which pins on dropped programs go, and whether they asked for anything."""
    notes = []
    for row in dropped.to_dict("records"):
        where = " ".join(str(row[k]) for k in ("county", "industry") if str(row[k] or ""))
        what = f"{row['action']} {row['program']}" + (f" in {where}" if where else "")
        value = row.get("value")
        amount = "" if value is None or pd.isna(value) else f" at {float(value):g}"
        binding = row["action"] in ("fix", "min") and amount and float(value) > 0
        why = "only that program can meet it" if binding else "it holds without the program"
        notes.append(f"Pin '{what}{amount} in {row['year']}' is dropped: {why}.")
    return notes


def _earmarks(instance: Instance, kept: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Trim each source's list of programs to the kept ones; open a list left empty.

    Returns the sources and budgets tables (the budgets unchanged) and a note per source
    whose earmark was opened to the cash subsidies.
    """
    sources = instance.sources.copy()
    budgets = instance.budgets
    notes = []
    for i, row in sources.iterrows():
        text = str(row["programs"]).strip()
        if text in ("", "*"):
            continue
        listed = [p.strip() for p in text.split(";") if p.strip()]
        allowed = [p for p in listed if p in kept]
        if allowed:
            sources.at[i, "programs"] = ";".join(allowed)
            continue
        source = str(row["source"])
        sources.at[i, "programs"] = ";".join(kept)
        total = float(budgets.loc[budgets["source"] == source, "amount"].sum())
        label = str(row.get("name") or "").strip() or source
        notes.append(
            f"{label} ({source}) may pay only for programs that are not cash subsidies; "
            f"here its {total:,.0f} (10k yuan) may pay for cash subsidies, so that this "
            "plan has the same money."
        )
    return sources, budgets, notes
