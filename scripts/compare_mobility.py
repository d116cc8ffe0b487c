"""Solve an instance with and without competition between counties and compare the plans.

Usage: python scripts/compare_competition.py [INSTANCE]

"With" is the instance as given (its programs' ``poach_share``); "without" sets every
``poach_share`` to 0, so each county keeps all it attracts and loses nothing to the
others' programs. Prints spend (10k yuan) by program and by county side by side, the
subsidies' share of the spend and both exact objectives. Each plan is scored under its
own instance's rules; the plan made without competition is also scored under the rules
with competition (``tp.simulate``), which is what it would achieve if counties do poach.
"""

from __future__ import annotations

import sys

import pandas as pd

import talentplan as tp


def main(name: str = "qingyuan") -> None:
    """Print the side-by-side comparison for instance ``name``.

    Parameters
    ----------
    name
        A bundled dataset, a folder or ``synthetic:N[:SEED]``, as for ``tp.load_instance``.
    """
    inst = tp.load_instance(name)
    islands = inst.replace_tables(programs=inst.programs.assign(poach_share=0.0))
    with_competition = tp.solve(inst, mip_gap=1e-4)
    without = tp.solve(islands, mip_gap=1e-4)
    plans = {"with competition": with_competition, "without": without}
    for by in ("program", "county"):
        table = pd.DataFrame(
            {
                label: result.allocation.groupby(by, dropna=False)["cost"].sum()
                for label, result in plans.items()
            }
        ).fillna(0.0)
        print(f"\nspend by {by} (10k yuan)")
        print(table.round(0).astype(int).to_string())
    for label, result in plans.items():
        alloc = result.allocation
        share = alloc.loc[alloc["program"] == "cash_subsidy", "cost"].sum() / alloc["cost"].sum()
        print(f"{label}: objective {result.objective:,.0f}; subsidies {share:.1%} of the spend")
    scored = tp.simulate(inst, without.allocation).objective
    print(
        f"the plan made without competition, played with it: {scored:,.0f} "
        f"({scored - with_competition.objective:+,.0f} against the plan made with it)"
    )


if __name__ == "__main__":
    main(*sys.argv[1:2])
