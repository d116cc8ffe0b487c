"""Time the array build against Pyomo's expression build plus compile, in one run.

Usage::

    python benchmarks/build_path.py [--only NAME ...] [--repeat N] [--out FILE]

For each instance (default ``synthetic:122``, ``synthetic:1609``, ``synthetic:2850``) it
loads the instance, then times, in this process and one after the other:

- ``prepare``: the data preparation both paths share (:func:`talentplan.model.prepare.prepare`);
- ``arrays``: :func:`talentplan.model.arrays.build_arrays` from the prepared data, the
  best of ``--repeat`` runs (the first run is printed too);
- ``pyomo``: :func:`talentplan.model.build.build_model` minus its own ``prepare`` (the
  expression build alone), and ``compile``: :func:`talentplan.solver.matrix.compile_model`.

``attached`` is what a solve with ``SolveOptions(build="arrays")`` pays in place of
``compile``: the array build plus attaching the Pyomo variables and constraints of its
keys (:func:`talentplan.solver.matrix.compile_arrays`). It prints one line per instance
with the sizes of both matrices (they must agree) and the ratio ``(pyomo + compile) /
arrays``; with prepare on both sides the ratio is
``(prepare + pyomo + compile) / (prepare + arrays)``. ``--out`` also writes the table
to a file.
"""

from __future__ import annotations

import argparse
import gc
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

DEFAULT = ("synthetic:122", "synthetic:1609", "synthetic:2850")


def measure(name: str, repeat: int) -> dict[str, float | int | str]:
    """Time both build paths on instance ``name``."""
    import talentplan as tp
    from talentplan.model.arrays import build_arrays
    from talentplan.model.build import build_model
    from talentplan.model.prepare import prepare
    from talentplan.solver.matrix import compile_arrays, compile_model

    instance = tp.load_instance(name)
    start = time.perf_counter()
    data = prepare(instance)
    prepare_s = time.perf_counter() - start
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        am = build_arrays(data)
        times.append(time.perf_counter() - start)
    sizes = (am.n_rows, am.n_cols, int(am.A.nnz))
    del am
    gc.collect()
    start = time.perf_counter()
    formulation = build_model(instance)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    cm = compile_model(formulation.model)
    compile_s = time.perf_counter() - start
    A = cm.A.copy()
    A.eliminate_zeros()
    ref_sizes = (cm.n_rows, cm.n_cols, int(A.nnz))
    del cm, A
    gc.collect()
    start = time.perf_counter()
    compile_arrays(formulation)
    attached_s = time.perf_counter() - start
    pyomo_s = build_s - prepare_s
    arrays_s = min(times)
    return {
        "instance": name,
        "rows": sizes[0],
        "cols": sizes[1],
        "nnz": sizes[2],
        "same_size": str(sizes == ref_sizes),
        "prepare": prepare_s,
        "arrays": arrays_s,
        "arrays_first": times[0],
        "pyomo": pyomo_s,
        "compile": compile_s,
        "attached": attached_s,
        "ratio": (pyomo_s + compile_s) / arrays_s,
        "ratio_with_prepare": (build_s + compile_s) / (prepare_s + arrays_s),
    }


COLUMNS = (
    ("instance", "{:<15}"),
    ("rows", "{:>9}"),
    ("cols", "{:>9}"),
    ("nnz", "{:>9}"),
    ("same_size", "{:>9}"),
    ("prepare", "{:>8.2f}"),
    ("arrays", "{:>8.2f}"),
    ("arrays_first", "{:>12.2f}"),
    ("pyomo", "{:>8.2f}"),
    ("compile", "{:>8.2f}"),
    ("attached", "{:>8.2f}"),
    ("ratio", "{:>7.1f}"),
    ("ratio_with_prepare", "{:>18.1f}"),
)


def header() -> str:
    """Column titles, aligned with :func:`line`."""
    widths = [len(fmt.format(0 if "f" in fmt else "")) for _n, fmt in COLUMNS]
    return " ".join(
        n.rjust(w) if i else n.ljust(w)
        for i, ((n, _f), w) in enumerate(zip(COLUMNS, widths, strict=True))
    )


def line(row: dict) -> str:
    """One instance's measurements (seconds) as a table row."""
    return " ".join(fmt.format(row[name]) for name, fmt in COLUMNS)


def main(argv: list[str] | None = None) -> None:
    """Run the comparison and print (and optionally write) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=list(DEFAULT))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    lines = [
        f"# build_path.py, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.platform()}, "
        f"python {platform.python_version()}; seconds",
        header(),
    ]
    print("\n".join(lines), flush=True)
    for name in args.only:
        row = measure(name, args.repeat)
        lines.append(line(row))
        print(lines[-1], flush=True)
        gc.collect()
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
