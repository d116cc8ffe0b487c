"""Solve an instance with and without talent mobility between counties and compare the plans.

Usage: python scripts/compare_mobility.py [INSTANCE]

Mobility has two parts: competition (programs' ``poach_share``: what one county attracts
is partly drawn from the others) and graduate placement (programs with a ``placement``
effect: graduates leaving their own county fill jobs elsewhere in the plan area). Four
plans: the instance as given; without placement (its placing programs removed); without
competition (every ``poach_share`` 0); and islands (neither). Prints spend (10k yuan) by
program and by county side by side, the subsidies' share of the spend and the exact
objectives. Each plan is scored under its own instance's rules; the islands plan is also
scored under the rules as given (``tp.simulate``): what it would achieve if counties do
poach and graduates can be placed.
"""

from __future__ import annotations

import sys

import pandas as pd

import talentplan as tp
from talentplan.data.instance import Instance


def without_placement(inst: Instance) -> Instance:
    """``inst`` without the programs that place graduates."""
    placing = set(inst.responses.loc[inst.responses["effect"] == "placement", "program"])
    return inst.replace_tables(
        programs=inst.programs[~inst.programs["program"].isin(placing)].reset_index(drop=True),
        responses=inst.responses[~inst.responses["program"].isin(placing)].reset_index(drop=True),
    )


def without_competition(inst: Instance) -> Instance:
    """``inst`` with every program's ``poach_share`` 0."""
    return inst.replace_tables(programs=inst.programs.assign(poach_share=0.0))


def main(name: str = "qingyuan") -> None:
    """Print the side-by-side comparison for instance ``name``.

    Parameters
    ----------
    name
        A bundled dataset, a folder or ``synthetic:N[:SEED]``, as for ``tp.load_instance``.
    """
    inst = tp.load_instance(name)
    instances = {
        "as given": inst,
        "no placement": without_placement(inst),
        "no competition": without_competition(inst),
        "islands": without_competition(without_placement(inst)),
    }
    plans = {label: tp.solve(i, mip_gap=1e-4) for label, i in instances.items()}
    for by in ("program", "county"):
        table = pd.DataFrame(
            {
                label: result.allocation.groupby(by, dropna=False)["cost"].sum()
                for label, result in plans.items()
            }
        ).fillna(0.0)
        print(f"\nspend by {by} (10k yuan)")
        print(table.round(0).astype(int).to_string())
    print()
    for label, result in plans.items():
        alloc = result.allocation
        share = alloc.loc[alloc["program"] == "cash_subsidy", "cost"].sum() / alloc["cost"].sum()
        print(
            f"{label}: objective {result.objective:,.0f} (gap {result.gap:.2%}); "
            f"subsidies {share:.1%} of the spend"
        )
    scored = tp.simulate(inst, plans["islands"].allocation).objective
    print(
        f"the islands plan, played with mobility: {scored:,.0f} "
        f"({scored - plans['as given'].objective:+,.0f} against the plan made with it)"
    )


if __name__ == "__main__":
    main(*sys.argv[1:2])
