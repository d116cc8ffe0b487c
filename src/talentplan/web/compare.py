"""Two or three saved scenarios side by side: the account, spend and talent by county."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from talentplan.report.result import AllocationResult

__all__ = ["CITY_WIDE_LABEL", "compare_tables", "number_text"]

CITY_WIDE_LABEL = "(city-wide)"
"""Row label of the spend of plan-wide programs."""


def _names(results: Sequence[tuple[str, AllocationResult]]) -> list[str]:
    """Column labels: the scenarios' names, made unique."""
    seen: dict[str, int] = {}
    labels = []
    for name, _ in results:
        seen[name] = seen.get(name, 0) + 1
        labels.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return labels


def compare_tables(results: Sequence[tuple[str, AllocationResult]]) -> dict[str, pd.DataFrame]:
    """Return the tables that compare plans, one column per plan.

    Parameters
    ----------
    results
        (name, plan) pairs, in the order of the columns.

    Returns
    -------
    dict
        ``account``: objective (with its name), status, gap, spend and final-year useful
        talent; ``spend_by_county``, ``spend_by_program`` (10k yuan over the plan's years)
        and ``talent_by_county`` (final-year useful talent, persons).
    """
    labels = _names(results)
    account, county_spend, program_spend, talent = {}, {}, {}, {}
    for label, (_, result) in zip(labels, results, strict=True):
        s = result.summary
        alloc = result.allocation
        county = alloc["county"].fillna("").astype(str).replace("", CITY_WIDE_LABEL)
        by_county = result.by_county
        account[label] = {
            "objective": result.objective,
            "objective name": s.get("objective_name", ""),
            "status": result.status.value,
            "gap": result.gap,
            "spend (10k yuan)": float(alloc["cost"].sum()),
            "useful talent, final year": float(by_county["useful"].sum()),
        }
        county_spend[label] = alloc["cost"].groupby(county).sum()
        program_spend[label] = alloc.groupby("program")["cost"].sum()
        talent[label] = by_county.loc[by_county.index != "", "useful"].astype(float)
    return {
        "account": pd.DataFrame(account),
        "spend_by_county": pd.DataFrame(county_spend).fillna(0.0).sort_index(),
        "spend_by_program": pd.DataFrame(program_spend).fillna(0.0).sort_index(),
        "talent_by_county": pd.DataFrame(talent).fillna(0.0).sort_index(),
    }


def number_text(value: float) -> str:
    """Format a table's number: whole units from 100 up, four digits below.

    Examples
    --------
    >>> number_text(14759.51), number_text(0.01234)
    ('14,760', '0.01234')
    """
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.4g}"
