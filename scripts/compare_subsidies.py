"""Compare the optimised qingyuan plan with the best subsidies-only plan at the same budget.

Usage: python scripts/compare_subsidies.py [INSTANCE]

The subsidies-only instance keeps every table but the program menu: only ``cash_subsidy``
(and no policy floor, which would need a service centre); a third case also lifts the
subsidy's cap per county and year, so the whole budget could go to subsidies. Every plan
is scored with the exact response curves by ``tp.simulate``.
"""

from __future__ import annotations

import sys

import talentplan as tp


def main(name: str = "qingyuan") -> None:
    """Solve the full and the subsidies-only plans of instance ``name`` and print their scores.

    Parameters
    ----------
    name
        A bundled dataset, a folder or ``synthetic:N[:SEED]``, as for ``tp.load_instance``.
    """
    inst = tp.load_instance(name)
    full = tp.solve(inst, mip_gap=1e-4)
    programs = inst.programs[inst.programs["program"] == "cash_subsidy"].reset_index(drop=True)
    responses = inst.responses[inst.responses["program"] == "cash_subsidy"].reset_index(drop=True)
    pins = inst.pins[inst.pins["program"] == "cash_subsidy"].reset_index(drop=True)
    subsidies = inst.replace_tables(programs=programs, responses=responses, pins=pins)
    subsidies = subsidies.replace_scenario(floors=())
    only = tp.solve(subsidies, mip_gap=1e-4)
    uncapped_programs = programs.assign(cap_per_county="")
    uncapped = subsidies.replace_tables(programs=uncapped_programs)
    only_uncapped = tp.solve(uncapped, mip_gap=1e-4)
    nothing = tp.simulate(inst, full.allocation.iloc[0:0])
    cases = (
        ("optimised plan", full, inst),
        ("subsidies only", only, subsidies),
        ("subsidies, no cap", only_uncapped, uncapped),
    )
    for label, result, scored_on in cases:
        sim = tp.simulate(scored_on, result.allocation)
        final = sim.talent[sim.talent["year"] == inst.years[-1]]
        spent = result.allocation["cost"].sum()
        print(
            f"{label:16s} talent index {sim.objective:12,.1f} "
            f"(+{sim.objective - nothing.objective:10,.1f} over no programs)  "
            f"spent {spent:10,.1f}  final-year useful {final['useful'].sum():10,.1f}"
        )
        print(final.groupby("talent_type")["useful"].sum().round(1).to_dict())
    print(f"{'no programs':16s} talent index {nothing.objective:12,.1f}")


if __name__ == "__main__":
    main(*sys.argv[1:])
