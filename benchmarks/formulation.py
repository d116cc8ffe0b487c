"""What the bounds from data buy: the same MIP with its big-M values loosened, in one run.

Usage::

    python benchmarks/formulation.py [--only NAME ...] [--factors 1,10,100]
        [--time-limit S] [--gap G] [--out FILE]

The model's big-M values come from the data (:func:`talentplan.model.prepare.prepare`):
the stock bounds ``stock_ub`` bound each county's talent stock by what every program at
its cap could bring, and multiply the open/closed indicator in the linearised retention
rows (``saved_stock <= stock_ub * z``, :mod:`talentplan.model.retention`) and the demand
rows (:mod:`talentplan.model.talent`). Each variant multiplies every year's stock bound
by a factor (1: the model as built), which keeps every feasible plan (the bounds are
implied by the data) and so the optimum, and weakens the relaxation. Per instance and
factor, in this process one after the other (matrices by :mod:`talentplan.model.arrays`):

- ``lp_bound``: the LP relaxation's optimum (integrality dropped), and ``root_gap`` its
  distance from the best plan found, relative to that plan;
- the MIP to ``--gap`` within ``--time-limit`` (HiGHS's default threads): ``seconds``,
  ``nodes`` (branch-and-bound nodes), ``objective``, ``bound``, ``gap``, ``status``.

The two other devices the literature uses on such models have nothing to act on here,
and the output says so: identical units are never separate 0/1 columns (a county's
units of a program in a year are one integer column, so no symmetry among them exists),
and HiGHS takes no branching priorities (no option or API sets them).
"""

from __future__ import annotations

import argparse
import copy
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

DEFAULT = ("qingyuan", "northern_guangdong")


def loosened(data, factor: float):  # type: ignore[no-untyped-def]
    """Return a copy of prepared ``data`` with every year's stock bound times ``factor``."""
    out = copy.copy(data)
    out.stock_ub = {
        key: value * factor if key[2] >= 0 else value for key, value in data.stock_ub.items()
    }
    return out


def measure(name: str, factor: float, time_limit: float, gap: float) -> dict[str, object]:
    """Relax and solve instance ``name`` with its stock bounds times ``factor``."""
    import highspy

    import talentplan as tp
    from talentplan.model.arrays import build_arrays
    from talentplan.model.prepare import prepare
    from talentplan.solver.matrix import to_highs

    data = loosened(prepare(tp.load_instance(name)), factor)
    am = build_arrays(data)
    relaxation = to_highs(am, integer=False)
    relaxation.run()
    lp_bound = float(relaxation.getInfo().objective_function_value)
    h = to_highs(am)
    h.setOptionValue("mip_rel_gap", gap)
    h.setOptionValue("time_limit", time_limit)
    start = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - start
    info = h.getInfo()
    objective = float(info.objective_function_value)
    bound = float(info.mip_dual_bound)
    return {
        "instance": name,
        "factor": factor,
        "rows": am.n_rows,
        "columns": am.n_cols,
        "lp_bound": lp_bound,
        "root_gap": abs(lp_bound - objective) / max(abs(objective), 1e-9),
        "seconds": seconds,
        "nodes": int(info.mip_node_count),
        "objective": objective,
        "bound": bound,
        "gap": float(info.mip_gap),
        "status": h.modelStatusToString(h.getModelStatus()),
        "optimal": h.getModelStatus() == highspy.HighsModelStatus.kOptimal,
    }


def table(rows: list[dict[str, object]]) -> str:
    """Format the rows as a Markdown table, with the time and nodes against factor 1."""
    head = (
        "| instance | factor | LP bound | root gap | MIP s | nodes | objective | gap | status "
        "| time vs x1 |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |"
    )
    lines = [head]
    base = {r["instance"]: r for r in rows if r["factor"] == 1}
    for r in rows:
        ref = base.get(r["instance"])
        ratio = f"{r['seconds'] / ref['seconds']:.2f}" if ref else ""  # type: ignore[operator]
        lines.append(
            f"| {r['instance']} | {r['factor']:g} | {r['lp_bound']:,.1f} | {r['root_gap']:.2%} "
            f"| {r['seconds']:.1f} | {r['nodes']:,} | {r['objective']:,.1f} | {r['gap']:.1e} "
            f"| {r['status']} | {ratio} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Run every instance and factor and print (and optionally write) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=list(DEFAULT))
    parser.add_argument("--factors", default="1,10,100")
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--gap", type=float, default=1e-3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    factors = [float(f) for f in args.factors.split(",")]
    rows = []
    for name in args.only:
        for factor in factors:
            rows.append(measure(name, factor, args.time_limit, args.gap))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"# Formulation strength: stock bounds from data against loosened ones\n"
        f"{stamp}, {platform.processor() or platform.machine()}, Python "
        f"{platform.python_version()}, gap {args.gap}, time limit {args.time_limit:g} s\n\n"
        f"{table(rows)}\n\n"
        "Symmetry among identical units: none to remove (a county's units of a program in a "
        "year are one integer column).\nBranching priorities: HiGHS has no option or API "
        "for them.\n"
    )
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
