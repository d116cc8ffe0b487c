"""The report's findings in plain sentences: what the plan buys, what limits bind it.

Each function turns numbers of a result (its summary or its shadow-price table) into
sentences a planner reads without the model at hand; the HTML report places them.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

__all__ = [
    "OBJECTIVE_WORDS",
    "approximation_sentence",
    "comparison_sentences",
    "limit_sentence",
    "limit_sentences",
]

OBJECTIVE_WORDS = {
    "talent_index": "talent index (useful talent weighted by type and discounted)",
    "min_cost": "cost (10k yuan)",
    "equity": "lowest county coverage of demand",
}
"""What each objective measures, for a reader."""

_LIMIT_WHAT = {
    "budget": "the {year} {budget} of {name}",
    "land": "the construction land quota of {name} (up to {year})",
    "cadre": "the cadre time of {name} in {year}",
    "energy": "the energy quota of {name} in {year}",
    "graduates": "the pool of leaving graduates in {year}",
}
"""How each kind of limit of the shadow-price table is named in a sentence."""

_WHOLE_UNITS = ("land", "cadre", "energy")
"""Limits taken only by whole sites, alliances and units: a unit more of them alone buys
nothing until it allows one more whole site or unit."""


def _figure(value: float, sign: bool = False) -> str:
    """Format a figure: whole with separators from 100 on, else four significant digits.

    Examples
    --------
    >>> _figure(57690.4, sign=True), _figure(0.81234), _figure(-3.0, sign=True)
    ('+57,690', '0.8123', '-3')
    """
    plus = "+" if sign else ""
    return f"{value:{plus},.0f}" if abs(value) >= 100 else f"{value:{plus},.4g}"


def _change(value: float, base: float) -> str:
    """Say ``value`` against ``base`` with the relative change, e.g. ``"+23.1%"``."""
    if not (base and math.isfinite(base)):
        return "n/a"
    return f"{(value - base) / abs(base):+.1%}"


def comparison_sentences(comparisons: dict[str, Any], objective: str, year: Any) -> list[str]:
    """Say what the plan buys against doing nothing and against cash subsidies only.

    Parameters
    ----------
    comparisons
        ``summary["comparisons"]`` with ``plan``, ``do_nothing`` and ``subsidies_only``
        (see :func:`talentplan.report.pipeline.comparisons`).
    objective
        The objective's name (``talent_index``, ``min_cost``, ``equity``).
    year
        The final plan year.

    Returns
    -------
    list of str
        One sentence per comparison made.

    Examples
    --------
    >>> plan = {"objective": 120.0, "useful": 1100.0, "spend": 50.0}
    >>> none = {"objective": 100.0, "useful": 1000.0, "spend": 0.0}
    >>> print(comparison_sentences({"plan": plan, "do_nothing": none}, "talent_index", 2029)[0])
    Against doing nothing: +100 useful talents in 2029 (1,100 against 1,000, +10.0%); \
talent index 120 against 100 (+20.0%); spend 50 against 0 (10k yuan).
    """
    plan = comparisons["plan"]
    words = OBJECTIVE_WORDS.get(objective, objective).split(" (")[0]
    out = []
    for key, what in (
        ("do_nothing", "doing nothing"),
        ("subsidies_only", "the same budget on cash subsidies only"),
    ):
        other = comparisons.get(key) or {}
        if "objective" not in other:
            continue
        gain = plan["useful"] - other["useful"]
        out.append(
            f"Against {what}: {_figure(gain, sign=True)} useful talents in {year} "
            f"({_figure(plan['useful'])} against {_figure(other['useful'])}, "
            f"{_change(plan['useful'], other['useful'])}); {words} "
            f"{_figure(plan['objective'])} against {_figure(other['objective'])} "
            f"({_change(plan['objective'], other['objective'])}); spend "
            f"{_figure(plan['spend'])} against {_figure(other['spend'])} (10k yuan)."
        )
    return out


def limit_sentence(row: dict[str, Any], names: dict[str, dict[str, str]], objective: str) -> str:
    """Say what one limit of the shadow-price table does to the plan.

    Parameters
    ----------
    row
        A row of ``shadow_prices`` (resource, year, name, unit, price, used, limit,
        fully_used); for budgets ``name`` may be a list of sources that share the price
        (``used`` and ``limit`` their sums).
    names
        ``summary["names"]``: display names of counties and budget sources.
    objective
        The objective's name, which gives the price its meaning.

    Returns
    -------
    str
        E.g. ``"The 2027 budget of Provincial transfer is fully used (6,504 of 6,504
        10k yuan); one more 10k yuan would add 0.09 to the talent index ..."``.

    Examples
    --------
    >>> row = {"resource": "budget", "year": 2027, "name": "prov", "unit": "10k yuan",
    ...     "price": 0.8, "used": 10.0, "limit": 10.0, "fully_used": True}
    >>> text = limit_sentence(row, {"source": {"prov": "the provincial transfer"}}, "talent_index")
    >>> state, worth = text.split("; ")
    >>> print(state)
    The 2027 budget of the provincial transfer is fully used (10 of 10 10k yuan)
    >>> print(worth[:51])
    one more 10k yuan would add 0.8 to the talent index
    """
    resource, unit = str(row["resource"]), str(row["unit"])
    key = "source" if resource == "budget" else "county"
    ids = row["name"] if isinstance(row["name"], list) else [row["name"]]
    shown = [names.get(key, {}).get(str(i), str(i)) for i in ids]
    name = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    what = _LIMIT_WHAT.get(resource, resource + " {name} in {year}").format(
        year=row["year"], name=name, budget="budget" if len(ids) == 1 else "budgets"
    )
    verb = "is" if len(ids) == 1 else "are"
    state = f"{verb} fully used" if bool(row["fully_used"]) else f"{verb} not used up but binding"
    units = {"hour": "hours", "person": "persons"}.get(unit, unit)
    used = f"({_figure(float(row['used']))} of {_figure(float(row['limit']))} {units})"
    worth = _price_words(resource, unit, float(row["price"]), objective)
    return f"{what[0].upper()}{what[1:]} {state} {used}; {worth}."


def _price_words(resource: str, unit: str, price: float, objective: str) -> str:
    """Say what one more unit of a limit is worth, in the objective's terms."""
    if price == 0.0:
        if resource in _WHOLE_UNITS:
            return (
                f"one more {unit} alone is worth nothing until it allows one more whole "
                "site or unit"
            )
        return f"one more {unit} would change nothing"
    if objective == "min_cost":
        verb = "save" if price > 0 else "add"
        return f"one more {unit} would {verb} {abs(price):.3g} (10k yuan) of cost"
    if objective == "equity":
        verb = "raise" if price > 0 else "lower"
        return (
            f"one more {unit} would {verb} the lowest coverage by "
            f"{abs(price) * 100:.3g} percentage points"
        )
    verb = "add" if price > 0 else "take"
    words = OBJECTIVE_WORDS.get(objective, objective).split(" (")[0]
    return (
        f"one more {unit} would {verb} {abs(price):.3g} {'to' if price > 0 else 'from'} the {words}"
    )


def limit_sentences(
    prices: pd.DataFrame, names: dict[str, dict[str, str]], objective: str, most: int = 20
) -> tuple[list[str], int]:
    """Sentences for the limits that bind the plan, the highest prices first.

    A limit binds when the plan uses it up or its price is not zero. The budgets of one
    year that share a price (money any of them may pay) are said in one sentence.

    Returns
    -------
    tuple
        ``(sentences, more)``: at most ``most`` sentences, and how many binding limits
        were left out.
    """
    binding = prices[prices["fully_used"].astype(bool) | (prices["price"].abs() > 0)]
    order = binding["price"].abs().sort_values(ascending=False, kind="stable").index
    rows = _group_budgets(binding.loc[order].to_dict("records"))
    return [limit_sentence(r, names, objective) for r in rows[:most]], max(len(rows) - most, 0)


def _group_budgets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Merge the budget rows of one year with equal prices and use, in their order."""
    out: list[dict[str, Any]] = []
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = (row["year"], round(float(row["price"]), 9), bool(row["fully_used"]))
        if row["resource"] != "budget":
            out.append(row)
        elif key in groups:
            group = groups[key]
            group["name"].append(row["name"])
            group["used"] += float(row["used"])
            group["limit"] += float(row["limit"])
        else:
            groups[key] = {**row, "name": [row["name"]]}
            out.append(groups[key])
    return out


def approximation_sentence(approximation_error: float, objective: float) -> str:
    """Say how much the model's chords may understate the plan, against its objective.

    Examples
    --------
    >>> approximation_sentence(463.8, 546593.6).split(": ")[1][:23]
    '0.085% of the objective'
    """
    if not (math.isfinite(objective) and objective):
        share = "n/a"
    else:
        share = f"{approximation_error / abs(objective):.3%}"
    return (
        "The model reads each response curve as chords, which understate a plan's value "
        f"by at most {approximation_error:,.4g}: {share} of the objective. The figures of "
        "this report are the plan played with the exact curves."
    )
