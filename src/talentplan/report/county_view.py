r"""The county view of a plan: spend, programs funded, useful talent and coverage per county.

For county :math:`c` of a plan over years :math:`t = 1..T`:

.. math::

    \text{spend}_c = \sum_{p,t} \text{cost}_{c,p,t} \quad (10\text{k yuan}),\qquad
    \text{programs}_c = |\{p : \text{quantity}_{c,p,t} > 0 \text{ for some } t\}|,

    U_c = \sum_k U_{c,k,T} \quad (\text{persons}),\qquad
    \text{coverage}_c = \frac{\sum_k w_k U_{c,k,T}}{\sum_k w_k D_{c,k,T}},

the coverage of the equity objective (:func:`talentplan.simulation.min_final_coverage`
is its minimum over counties with demand). City-wide programs (county ``""``) get a row
of their own with spend and programs only.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from talentplan._plot import CITY_WIDE

__all__ = [
    "COUNTY_COLUMNS",
    "county_table",
    "display_names",
    "format_county_table",
]

COUNTY_COLUMNS = {
    "spend": "spend (10k yuan)",
    "programs_funded": "programs funded",
    "useful": "useful talent, final year (persons)",
    "coverage": "coverage of demand, final year",
}
"""The columns of :func:`county_table` and their headers with units for a reader."""


def display_names(frame: pd.DataFrame, key: str) -> dict[str, str]:
    """Map the ids in column ``key`` of ``frame`` to its ``name`` column (blank: the id).

    Examples
    --------
    >>> display_names(pd.DataFrame({"county": ["A", "B"], "name": ["Alpha", ""]}), "county")
    {'A': 'Alpha', 'B': 'B'}
    """
    if key not in frame or "name" not in frame:
        return {}
    out: dict[str, str] = {}
    for ident, name in zip(frame[key].astype(str), frame["name"], strict=True):
        text = "" if name is None or (isinstance(name, float) and math.isnan(name)) else str(name)
        out[ident] = text.strip() or ident
    return out


def county_table(
    allocation: pd.DataFrame, talent: pd.DataFrame, summary: dict[str, Any]
) -> pd.DataFrame:
    """Summarise a plan per county (see the module docstring for the definitions).

    Parameters
    ----------
    allocation, talent
        The tables of an :class:`~talentplan.report.result.AllocationResult`.
    summary
        Its summary: ``names["county"]`` gives display names, ``final_demand`` the
        weighted final-year demand per county and ``talent_weights`` the weights ``w_k``
        (without them the name is the id and the coverage NaN).

    Returns
    -------
    pandas.DataFrame
        Indexed by county id; columns ``name``, ``spend`` (10k yuan), ``programs_funded``,
        ``useful`` (persons, whole numbers) and ``coverage`` (share, NaN without demand).
    """
    names = dict(summary.get("names", {}).get("county", {}))
    demand = {str(k): float(v) for k, v in (summary.get("final_demand") or {}).items()}
    weights = {str(k): float(v) for k, v in (summary.get("talent_weights") or {}).items()}
    spend = allocation.groupby("county")["cost"].sum()
    funded = allocation[allocation["quantity"] > 0].groupby("county")["program"].nunique()
    if len(talent):
        final = talent[talent["year"] == talent["year"].max()]
        useful = final.groupby("county")["useful"].sum()
        weighted = (
            (final["useful"] * final["talent_type"].map(weights))
            .groupby(final["county"])
            .sum(min_count=1)
        )
    else:
        useful = weighted = pd.Series(dtype=float)
    counties = list(dict.fromkeys([*names, *useful.index, *spend.index]))
    if "" in counties:  # the plan-wide row last
        counties = [c for c in counties if c != ""] + [""]
    rows = []
    for c in counties:
        d = demand.get(c, 0.0)
        covered = weighted.get(c, math.nan) if weights else math.nan
        rows.append(
            {
                "county": c,
                "name": CITY_WIDE if c == "" else names.get(c, c),
                "spend": float(spend.get(c, 0.0)),
                "programs_funded": int(funded.get(c, 0)),
                "useful": round(float(useful.get(c, 0.0))),
                "coverage": covered / d if d > 0 else math.nan,
            }
        )
    columns = ["county", "name", *COUNTY_COLUMNS]
    return pd.DataFrame(rows, columns=columns).set_index("county")


def format_county_table(table: pd.DataFrame) -> pd.DataFrame:
    """Return :func:`county_table` for a reader: display names, units, separators.

    Money with thousands separators and two decimals, persons whole with separators,
    coverage as a percentage; blank where a county has no talent or demand.
    """
    out = pd.DataFrame(index=pd.Index(table["name"].tolist(), name="county"))
    out[COUNTY_COLUMNS["spend"]] = [f"{v:,.2f}" for v in table["spend"]]
    out[COUNTY_COLUMNS["programs_funded"]] = [f"{v:,d}" for v in table["programs_funded"]]
    city = (table.index == "").tolist()
    out[COUNTY_COLUMNS["useful"]] = [
        "" if plan_wide else f"{v:,d}" for v, plan_wide in zip(table["useful"], city, strict=True)
    ]
    out[COUNTY_COLUMNS["coverage"]] = [
        "" if math.isnan(v) else f"{v:.1%}" for v in table["coverage"]
    ]
    return out
