"""Peak memory and time of two-step system GMM on a large panel, each run in its own process.

The panel is built with the package's own simulator, ``simulate_panel``, in blocks of
210 counties (each block its own seed; the simulator's spatial weights are dense, so one
block of 14,700 counties would not fit) and written once to a CSV file that every run
reads. Each estimator then runs in a fresh Python process, so its peak resident memory
(``ru_maxrss``) is its own: reading the data, building the instruments, the one- and
two-step estimates, the Windmeijer-corrected standard errors, the Hansen and AR(2)
tests.

The model: ``log_stock`` on its first lag, ``centre`` and ``wage``, with GMM-style
instruments lags 2-6 of ``log_stock`` (and its lagged difference in the level
equations) and ``centre`` and ``wage`` as iv-style instruments in both equations;
pydynpd's ``'log_stock L1.log_stock centre wage | gmm(log_stock, 2:6) iv(centre
wage)'``, which is system GMM with xtabond2's ``h(3)`` one-step weighting.

Usage::

    python benchmarks/gmm_memory.py                        # this checkout only
    python benchmarks/gmm_memory.py --before <git rev> --pydynpd-python /tmp/pdv/bin/python

``--before`` runs the package as it was at a git revision (extracted with ``git
archive``) beside this checkout; ``--pydynpd-python`` names a Python with pydynpd
installed (it needs numpy < 2 and pandas < 2.3, so usually a separate virtualenv).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = 210  # counties per simulated block
FORMULA = "log_stock L1.log_stock centre wage | gmm(log_stock, 2:6) iv(centre wage)"


def _rss_mb() -> float:
    """Return the current resident memory of this process (MiB), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mb() -> float:
    """Return the peak resident memory of this process (MiB); ``ru_maxrss`` is in KiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_panel(rows: int, years: int, path: Path) -> int:
    """Simulate ``rows // years`` counties over ``years`` years; write them to ``path``."""
    import pandas as pd

    from talentplan.calibrate import simulate_panel

    counties = rows // years
    blocks, rest = divmod(counties, BLOCK)
    sizes = [BLOCK] * blocks + ([rest] if rest else [])
    if sizes and sizes[-1] < 10:  # the simulator needs at least 10 counties
        sizes[-2] -= 10 - sizes[-1]
        sizes[-1] = 10
    parts = []
    offset = 0
    for seed, size in enumerate(sizes):
        block = simulate_panel(size, years, seed=seed).data
        codes = block["county"].astype("category").cat.codes.to_numpy()
        parts.append(
            pd.DataFrame(
                {
                    "county": codes + offset,
                    "year": block["year"].to_numpy(),
                    "log_stock": block["log_stock"].to_numpy(),
                    "centre": block["centre"].to_numpy(),
                    "wage": block["wage"].to_numpy(),
                }
            )
        )
        offset += size
    panel = pd.concat(parts, ignore_index=True)
    panel.to_csv(path, index=False)
    return len(panel)


def worker(kind: str, data: Path) -> dict[str, object]:
    """Fit the model once in this process; return peak memory, time and estimates."""
    import numpy as np
    import pandas as pd

    df = pd.read_csv(data)
    rss_data = _rss_mb()
    start = time.perf_counter()
    if kind == "talentplan":
        from talentplan.calibrate import DynamicPanelGMM

        res = DynamicPanelGMM(
            df,
            "log_stock",
            1,
            exog=["centre", "wage"],
            entity="county",
            time="year",
            method="system",
            gmm={"log_stock": (2, 6)},
            iv={"centre": "both", "wage": "both"},
        ).fit(steps=2)
        coef = res.params.to_numpy()
        se = res.std_errors.to_numpy()
        hansen, ar2, n_z = res.hansen.stat, res.ar2.stat, res.n_instruments
    else:
        from pydynpd import regression

        with contextlib.redirect_stdout(io.StringIO()):
            out = regression.abond(FORMULA, df, ["county", "year"])
        model = out.models[0]
        table = model.regression_table
        coef = table["coefficient"].to_numpy()
        se = table["std_err"].to_numpy()
        hansen = float(model.hansen.test_value)
        ar2 = float(model.AR_list[1].AR)
        n_z = int(model.z_information.num_instr)
    seconds = time.perf_counter() - start
    return {
        "peak_mb": _peak_mb(),
        "data_mb": rss_data,
        "seconds": seconds,
        "coef": np.asarray(coef, dtype=float).tolist(),
        "se": np.asarray(se, dtype=float).tolist(),
        "hansen": float(hansen),
        "ar2": float(ar2),
        "instruments": int(n_z),
        "rows": len(df),
    }


def _extract(rev: str, into: Path) -> Path:
    """Extract ``src/`` of the git revision ``rev`` into ``into``; return its src path."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev, "src"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def _run(label: str, python: str, kind: str, data: Path, src: Path | None) -> dict[str, object]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    proc = subprocess.run(
        [python, __file__, "--worker", kind, "--data", str(data)],
        capture_output=True,
        text=True,
        env=env,
    )
    if proc.returncode != 0:
        return {"label": label, "error": proc.stderr.strip().splitlines()[-1:]}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["label"] = label
    return result


def main() -> None:
    """Build the panel, run every estimator in its own process and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=147_000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--before", action="append", default=[], help="git revision(s)")
    parser.add_argument("--pydynpd-python", default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the results")
    parser.add_argument("--worker", choices=["talentplan", "pydynpd"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.data)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "panel.csv"
        n = build_panel(args.rows, args.years, data)
        print(f"panel: {n} rows, {n // args.years} counties x {args.years} years")
        runs = []
        for rev in args.before:
            src = _extract(rev, Path(tmp) / f"rev-{rev}")
            runs.append(_run(f"talentplan @ {rev}", sys.executable, "talentplan", data, src))
        here = ROOT / "src"
        runs.append(_run("talentplan (this checkout)", sys.executable, "talentplan", data, here))
        if args.pydynpd_python:
            runs.append(_run("pydynpd", args.pydynpd_python, "pydynpd", data, None))
    ref = next((r for r in runs if "coef" in r), None)
    print(f"{'run':34} {'peak MiB':>9} {'data MiB':>9} {'fit s':>7} {'instr':>6} "
          f"{'max |dcoef|':>11} {'max |dse|':>10}")  # fmt: skip
    for r in runs:
        if "error" in r:
            print(f"{r['label']:34} failed: {r['error']}")
            continue
        dcoef = max(abs(a - b) for a, b in zip(r["coef"], ref["coef"], strict=True))
        dse = max(abs(a - b) for a, b in zip(r["se"], ref["se"], strict=True))
        print(
            f"{r['label']:34} {r['peak_mb']:9.0f} {r['data_mb']:9.0f} {r['seconds']:7.1f} "
            f"{r['instruments']:6d} {dcoef:11.2e} {dse:10.2e}"
        )
    print(f"(differences against '{ref['label']}'; peak is the whole process)" if ref else "")
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
