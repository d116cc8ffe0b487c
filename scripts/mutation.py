"""Mutation testing of the allocation model and the simulator, with a kill rate.

Runs mutmut (``pip install -e ".[dev]"`` installs it) over ``src/talentplan/model/`` and
``src/talentplan/simulation.py`` against a chosen set of tests, and reports the share of
mutants the tests kill with its exact binomial (Clopper-Pearson) confidence interval, and
every surviving mutant with its file, line and change. Too slow for CI (a mutant that
survives runs every test that reaches it); run it by hand:

.. code-block:: bash

    # a seeded sample of 300 mutants against the model tests alone, then with the oracle
    python scripts/mutation.py --tests tests/model --sample 300 --seed 1
    python scripts/mutation.py --tests tests/model tests/oracle --sample 300 --seed 1
    # every mutant (about 3,500: hours on two cores), results kept as JSON
    python scripts/mutation.py --tests tests/model tests/oracle --json mutation.json
    # after adding tests: only the survivors of that run again
    python scripts/mutation.py --survivors-of mutation.json

Nothing in the work tree changes: sources, tests and ``pyproject.toml`` are copied to a
scratch folder (``--workdir``; a temporary one by default), which gets the mutmut
settings. Tests marked ``slow`` are left out. A time budget (``--budget``, minutes) stops
the run; mutants not reached by then are reported as not run and left out of the rate.

Mutants count as killed when a test fails, the tests time out or the type checker
rejects them; as surviving when the tests pass or no selected test reaches the mutated
function. The sample is drawn from the sorted list of every mutant, so the same seed and
size give the same mutants for different test sets (as long as the sources are the same).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from scipy.stats import beta

ROOT = Path(__file__).resolve().parents[1]
MUTATED = ["src/talentplan/model/*", "src/talentplan/simulation.py"]
KILLED = {"killed", "timeout", "caught by type check", "segfault"}
SURVIVED = {"survived", "no tests", "suspicious"}


CONFTEST = """

# --- added by scripts/mutation.py in its scratch copy ---
from hypothesis import Phase as _Phase
from hypothesis import settings as _settings

_settings.register_profile(
    "mutation", phases=[_Phase.explicit, _Phase.reuse, _Phase.generate], deadline=None
)
_settings.load_profile("mutation")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.nodeid)
"""


@dataclass(frozen=True)
class Survivor:
    """A mutant the tests did not kill."""

    name: str
    status: str
    file: str
    line: int
    before: str
    after: str


def mutmut(workdir: Path, *args: str, timeout: float | None = None) -> str:
    """Run a mutmut command in ``workdir`` and return what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "mutmut", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return done.stdout + done.stderr


def prepare(workdir: Path, tests: list[str], timeout_multiplier: float) -> None:
    """Copy the sources and tests to ``workdir`` and write the mutmut settings there."""
    for name in ("src", "tests"):
        shutil.copytree(
            ROOT / name,
            workdir / name,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
        )
    settings = {
        "source_paths": ["src/"],
        "only_mutate": MUTATED,
        "pytest_add_cli_args_test_selection": tests,
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-m", "not slow"],
        # forked from a process that has not run HiGHS: its threads do not survive a fork
        "process_isolation": "forkserver",
        "timeout_multiplier": timeout_multiplier,
        "use_git_change_detection": False,
    }
    # in the copy only: tests run in a fixed order (mutmut passes them as a set), and a
    # property test that fails reports its example without shrinking it, which could
    # take minutes of solves for a mutant already caught
    with (workdir / "tests" / "conftest.py").open("a", encoding="utf-8") as conftest:
        conftest.write(CONFTEST)
    lines = ["", "[tool.mutmut]"] + [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    (workdir / "pyproject.toml").write_text(text + "\n".join(lines) + "\n", "utf-8")


def statuses(workdir: Path) -> dict[str, str]:
    """Return every mutant's status (``not checked`` before it runs)."""
    out = {}
    for line in mutmut(workdir, "results", "--all", "true").splitlines():
        name, sep, status = line.strip().partition(": ")
        if sep and name.startswith("talentplan."):
            out[name] = status.strip()
    return out


def run_mutants(workdir: Path, names: list[str], children: int, budget_s: float) -> bool:
    """Run the named mutants; stop them when the budget is spent. Return whether all ran."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mutmut", "run", "--max-children", str(children), *names],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        process.wait(timeout=budget_s)
        return True
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        return False


def locate(workdir: Path, name: str, status: str) -> Survivor:
    """Find the file, line and change of a mutant from ``mutmut show``.

    mutmut shows the mutated function as a diff numbered from the function's first line;
    the line in the file is found from the function's ``def`` and checked against the
    text of the changed line.
    """
    diff = mutmut(workdir, "show", name).splitlines()
    file = next((ln[4:].strip() for ln in diff if ln.startswith("--- ")), "")
    removed = [ln[1:].strip() for ln in diff if ln.startswith("-") and not ln.startswith("---")]
    added = [ln[1:].strip() for ln in diff if ln.startswith("+") and not ln.startswith("+++")]
    path = ROOT / file
    line = 0
    if removed and path.exists():
        source = [text.strip() for text in path.read_text("utf-8").splitlines()]
        hunk = next((n for n, ln in enumerate(diff) if ln.startswith("@@")), 0)
        numbered = re.match(r"@@ -(\d+)", diff[hunk]) if diff[hunk:] else None
        first = int(numbered.group(1)) if numbered else 1
        offset = next((n for n, ln in enumerate(diff[hunk + 1 :]) if ln.startswith("-")), 0)
        function = name.rsplit("__mutmut_", 1)[0].rsplit(".", 1)[-1].split("ǁ")[-1]
        function = function.removeprefix("x_") if "ǁ" not in name else function
        for start, text in enumerate(source, 1):
            guess = start + first - 1 + offset
            if text.startswith(f"def {function}(") and source[guess - 1 : guess] == removed[:1]:
                line = guess
                break
        else:
            line = source.index(removed[0]) + 1 if removed[0] in source else 0
    return Survivor(name, status, file, line, "\n".join(removed), "\n".join(added))


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial confidence interval of a proportion ``k / n``."""
    if n == 0:
        return (0.0, 1.0)
    a = (1 - level) / 2
    low = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k))
    return (low, high)


def main(argv: list[str] | None = None) -> int:
    """Run the mutation test and print the kill rate and the surviving mutants."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tests", nargs="+", default=["tests/model", "tests/oracle"])
    ap.add_argument("--sample", type=int, default=0, help="random sample size (0: every mutant)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--budget", type=float, default=60.0, help="minutes for the mutants")
    ap.add_argument("--children", type=int, default=2, help="mutants run at once")
    ap.add_argument("--timeout-multiplier", type=float, default=3.0)
    ap.add_argument("--workdir", type=Path, help="scratch folder (kept); default a temporary one")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument(
        "--survivors-of",
        type=Path,
        help="run only the survivors listed in the JSON of an earlier run (after new tests)",
    )
    args = ap.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="talentplan-mutation-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        prepare(workdir, args.tests, args.timeout_multiplier)
        # generates every mutant and records which tests reach which function
        mutmut(workdir, "run", "--max-children", str(args.children), "no-such-mutant*")
        every = sorted(statuses(workdir))
        if not every:
            print("mutmut produced no mutants; run it by hand in", workdir, file=sys.stderr)
            return 1
        chosen = every
        if args.survivors_of:
            earlier = json.loads(args.survivors_of.read_text("utf-8"))
            chosen = sorted(s["name"] for s in earlier["survivors"])
        elif args.sample and args.sample < len(every):
            chosen = sorted(random.Random(args.seed).sample(every, args.sample))
        complete = run_mutants(workdir, chosen, args.children, args.budget * 60)
        status = statuses(workdir)
        result = report(workdir, args, every, chosen, status, complete)
        result["minutes"] = round((time.monotonic() - started) / 60, 1)
        print(f"time: {result['minutes']} min, scratch folder {workdir}")
        if args.json:
            args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", "utf-8")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


def report(
    workdir: Path,
    args: argparse.Namespace,
    every: list[str],
    chosen: list[str],
    status: dict[str, str],
    complete: bool,
) -> dict:
    """Print the kill rate, its interval and the survivors; return them as a dict."""
    counts = Counter(status.get(name, "not checked") for name in chosen)
    killed = sum(counts[s] for s in KILLED)
    decided = killed + sum(counts[s] for s in SURVIVED)
    low, high = clopper_pearson(killed, decided)
    rate = killed / decided if decided else float("nan")
    survivors = [locate(workdir, n, status[n]) for n in chosen if status.get(n) in SURVIVED]
    print(f"tests: {' '.join(args.tests)} (not slow)")
    print(f"mutants: {len(every)} in all, {len(chosen)} chosen (seed {args.seed})")
    if not complete:
        print(
            f"budget of {args.budget:g} min spent: {counts['not checked']} chosen mutants not run"
        )
    print("outcomes: " + ", ".join(f"{s} {n}" for s, n in sorted(counts.items())))
    print(f"kill rate: {killed}/{decided} = {rate:.1%} (95% CI {low:.1%} - {high:.1%})")
    print(f"survivors ({len(survivors)}):")
    for s in survivors:
        print(f"  {s.file}:{s.line} [{s.status}] {s.name}")
        print(f"      - {s.before}\n      + {s.after}")
    return {
        "tests": args.tests,
        "seed": args.seed,
        "n_mutants": len(every),
        "n_chosen": len(chosen),
        "outcomes": dict(counts),
        "killed": killed,
        "decided": decided,
        "kill_rate": rate,
        "ci95": [low, high],
        "survivors": [asdict(s) for s in survivors],
    }


if __name__ == "__main__":
    raise SystemExit(main())
