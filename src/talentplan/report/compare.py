"""What a plan buys: its figures beside doing nothing and beside cash subsidies only.

The report's headline compares three plans of one instance on the same objective:

* the plan itself;
* doing nothing: the instance played by the simulator with no program at all
  (:func:`do_nothing`); policy floors and pins that ask for a program are broken by
  such a plan, and :func:`do_nothing` lists them as ignored;
* subsidies only: the best plan of the same budget restricted to cash subsidies
  (:func:`talentplan.data.restrict.subsidies_only`, solved by
  :func:`talentplan.report.pipeline.solve`), with the rules it had to drop.

Each plan is summarised by :func:`plan_figures` into plain numbers (objective,
final-year useful talent, spend, and both per county), which go into
``summary["comparisons"]`` so that a result read back from its folder still has them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from talentplan.data.instance import Instance
from talentplan.model.prepare import prepare
from talentplan.simulation import play

__all__ = ["do_nothing", "ignored_rules", "plan_figures"]


def plan_figures(objective: float, talent: pd.DataFrame, cost: pd.DataFrame) -> dict[str, Any]:
    """Summarise a plan in the numbers of the headline.

    Parameters
    ----------
    objective
        The plan's value with the exact curves.
    talent
        Its talent table (county, talent_type, year, useful, ...).
    cost
        Its cost rows (county, ``""`` for city-wide programs, and cost in 10k yuan): an
        allocation table or a simulation's cost table.

    Returns
    -------
    dict
        ``objective``; ``useful``: final-year useful talent (persons); ``spend``: cost over
        the horizon (10k yuan); ``by_county``: county -> ``{"useful", "spend"}``.

    Examples
    --------
    >>> talent = pd.DataFrame({"county": ["A", "A", "B"], "talent_type": ["t"] * 3,
    ...     "year": [1, 2, 2], "useful": [5.0, 6.0, 2.0]})
    >>> cost = pd.DataFrame({"county": ["A", ""], "cost": [10.0, 4.0]})
    >>> f = plan_figures(3.0, talent, cost)
    >>> f["useful"], f["spend"], f["by_county"]["B"]
    (8.0, 14.0, {'useful': 2.0, 'spend': 0.0})
    """
    final = talent[talent["year"] == talent["year"].max()] if len(talent) else talent
    useful = final.groupby("county")["useful"].sum() if len(final) else pd.Series(dtype=float)
    spend = cost.groupby("county")["cost"].sum() if len(cost) else pd.Series(dtype=float)
    counties = list(dict.fromkeys([*useful.index, *spend.index]))
    return {
        "objective": float(objective),
        "useful": float(useful.sum()),
        "spend": float(spend.sum()),
        "by_county": {
            str(c): {"useful": float(useful.get(c, 0.0)), "spend": float(spend.get(c, 0.0))}
            for c in counties
        },
    }


def do_nothing(instance: Instance, objective: str) -> dict[str, Any]:
    """Play ``instance`` with no program and summarise it (see :func:`plan_figures`).

    Parameters
    ----------
    instance
        The instance of the plan.
    objective
        The objective the plan was solved for.

    Returns
    -------
    dict
        :func:`plan_figures` of the empty plan, with ``notes``: the rules it breaks,
        ignored for this comparison (:func:`ignored_rules`).
    """
    played = play(prepare(instance), {}, objective=objective)
    figures = plan_figures(played.objective, played.talent, played.cost)
    figures["notes"] = ignored_rules(instance, played.violations)
    return figures


def ignored_rules(instance: Instance, violations: tuple[str, ...]) -> list[str]:
    """Say in plain words which rules a plan without any program breaks.

    One sentence per policy floor and per pin asking for some of a program; a breach
    of any other kind the simulator found is quoted as it is.
    """
    notes = [
        f"Policy floor '{f.name}' ({f.program} from {f.by_year}) is ignored: doing nothing "
        "funds no program."
        for f in instance.scenario.floors
        if f.min_units > 0
    ]
    pins = instance.tables.get("pins")
    for row in [] if pins is None else pins.to_dict("records"):
        if row["action"] in ("fix", "min") and float(row["value"] or 0.0) > 0:
            where = " ".join(str(row[k]) for k in ("county", "industry") if str(row[k] or ""))
            notes.append(
                f"Pin '{row['action']} {row['program']}"
                + (f" in {where}" if where else "")
                + f" at {float(row['value']):g} in {row['year']}' is ignored."
            )
    known = ("floor '", " is broken: level ")
    notes += [v for v in violations if not any(k in v for k in known)]
    return notes
