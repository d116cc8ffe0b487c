"""Time the solver core across instance sizes, against the plain Pyomo + HiGHS path.

Usage::

    python benchmarks/bench_solver.py [--time-limit 120] [--gap 1e-4] [INSTANCE ...]

INSTANCE defaults to ``qingyuan northern_guangdong synthetic:500``. For each instance it
reports the model size, the time to build the Pyomo model, to compile it to matrices, and
to solve it through our matrix path to HiGHS (one thread), and the same model solved the
straightforward way, through Pyomo's own HiGHS interface (``appsi_highs``), in the same run.
Speed is reported as a ratio between the two paths measured in this run, never as absolute
thresholds: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

import talentplan as tp
from talentplan.model.build import build_model
from talentplan.solver.highs import solve_formulation
from talentplan.solver.matrix import compile_model

if TYPE_CHECKING:
    from talentplan.data.instance import Instance


def pyomo_path(instance: Instance, time_limit: float, gap: float) -> tuple[float, float, float]:
    """Build and solve ``instance`` the plain way, through Pyomo's own HiGHS interface.

    Parameters
    ----------
    instance
        The planning instance to build and solve.
    time_limit
        Time limit of the solve, in seconds.
    gap
        Relative MIP gap at which HiGHS stops.

    Returns
    -------
    tuple of float
        Build plus solve time in seconds, the best feasible objective (NaN when none was
        found) and the best objective bound.
    """
    from pyomo.contrib.appsi.solvers import Highs

    start = time.perf_counter()
    f = build_model(instance)
    opt = Highs()
    opt.config.time_limit = time_limit
    opt.config.mip_gap = gap
    opt.config.load_solution = False
    opt.highs_options = {"threads": 1}
    res = opt.solve(f.model)
    seconds = time.perf_counter() - start
    return seconds, float(res.best_feasible_objective or "nan"), float(res.best_objective_bound)


def main() -> None:
    """Time every instance named on the command line and print one row per instance."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "instances", nargs="*", default=["qingyuan", "northern_guangdong", "synthetic:500"]
    )
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--gap", type=float, default=1e-4)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    header = (
        f"{'instance':22s} {'vars':>7s} {'bin':>6s} {'int':>5s} {'rows':>7s} "
        f"{'build':>7s} {'compile':>7s} {'solve':>7s} {'gap':>8s} {'status':>10s} "
        f"{'pyomo':>7s} {'ratio':>6s}"
    )
    print(header)
    for name in args.instances:
        inst = tp.load_instance(name)
        f = build_model(inst)
        start = time.perf_counter()
        cm = compile_model(f.model)
        compile_s = time.perf_counter() - start
        run = solve_formulation(
            f, time_limit=args.time_limit, mip_gap=args.gap, threads=1, shadow_prices=False
        )
        binary = int(((cm.col_upper <= 1) & cm.integer).sum())
        ours = f.build_seconds + compile_s + run.solve_seconds
        if args.no_baseline:
            base_s, ratio = float("nan"), float("nan")
        else:
            base_s, _obj, _bound = pyomo_path(inst, args.time_limit, args.gap)
            ratio = base_s / ours
        print(
            f"{name:22s} {cm.n_cols:7d} {binary:6d} {int(cm.integer.sum()) - binary:5d} "
            f"{cm.n_rows:7d} {f.build_seconds:7.2f} {compile_s:7.2f} {run.solve_seconds:7.2f} "
            f"{run.gap:8.2e} {run.status.value:>10s} {base_s:7.2f} {ratio:6.2f}",
            flush=True,
        )
    print("ratio = (Pyomo appsi_highs build+solve) / (our build+compile+solve), same run")


if __name__ == "__main__":
    main()
