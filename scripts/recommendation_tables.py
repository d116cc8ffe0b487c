"""Print the numbers of a dataset README's "What the model recommends" tables.

Usage: python scripts/recommendation_tables.py [INSTANCE] [--time-limit S] [--feedback ETA]
[--out DIR]

Solves the instance at the default gap (or within the time limit) and prints two Markdown
tables: spend (10k yuan) and share of the spend by program, with the counties it is spent
in; and spend by county with its four largest programs and the coverage of leading talent
and engineers in the last year (useful / demand). The "why" columns of the READMEs are
written by hand from these numbers and the data; ``--feedback`` overrides the scenario's
``demand_feedback`` (the northern_guangdong table is solved with 0, as its README says);
``--out`` also writes the result files (allocation, talent, shadow prices) for the details.
"""

from __future__ import annotations

import argparse

import talentplan as tp


def main() -> None:
    """Solve and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instance", nargs="?", default="qingyuan")
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--feedback", type=float, default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    inst = tp.load_instance(args.instance)
    if args.feedback is not None:
        inst = inst.replace_scenario(demand_feedback=args.feedback)
    result = tp.solve(inst, time_limit=args.time_limit)
    if args.out:
        result.to_dir(args.out)
    print(
        f"objective {result.objective:,.0f}, bound {result.bound:,.0f}, gap {result.gap:.3%}, "
        f"status {result.status}"
    )
    alloc = result.allocation
    total = alloc["cost"].sum()
    by_program = alloc.groupby("program")["cost"].sum().reindex(inst.programs["program"])
    print(f"\ntotal spend {total:,.0f}\n")
    print("| program | spend | share | counties |\n|---|---|---|---|")
    for program, spend in by_program.fillna(0.0).sort_values(ascending=False).items():
        rows = alloc[(alloc["program"] == program) & (alloc["cost"] > 1e-6)]
        where = rows.groupby("county", dropna=False)["cost"].sum().sort_values(ascending=False)
        names = ", ".join(str(c) if isinstance(c, str) and c else "(city)" for c in where.index)
        print(f"| {program} | {spend:,.0f} | {spend / total:.1%} | {names or '-'} |")
    talent = result.talent
    final = talent[talent["year"] == talent["year"].max()].set_index(["county", "talent_type"])
    demand = inst.demand[inst.demand["year"] == talent["year"].max()].set_index(
        ["county", "talent_type"]
    )["demand"]
    print("\n| county | spend | main programs | coverage 2029: leading / engineer |")
    print("|---|---|---|---|")
    by_county = alloc.groupby("county", dropna=False)["cost"].sum().sort_values(ascending=False)
    for county, spend in by_county.items():
        if not isinstance(county, str) or not county:
            continue
        rows = alloc[alloc["county"] == county].groupby("program")["cost"].sum()
        top = ", ".join(rows.sort_values(ascending=False).index[:4])
        cover = [
            final.loc[(county, k), "useful"] / demand[county, k]
            if demand.get((county, k), 0) > 0
            else float("nan")
            for k in ("leading", "engineer")
        ]
        print(f"| {county} | {spend:,.0f} | {top} | {cover[0]:.2f} / {cover[1]:.2f} |")
    city = alloc[alloc["county"].isna() | (alloc["county"] == "")]["cost"].sum()
    if city:
        print(f"| (city) | {city:,.0f} | city-wide programs | |")


if __name__ == "__main__":
    main()
