"""Micro-benchmarks of the solver core's hot paths, with pytest-benchmark.

Not part of the test suite (``testpaths`` leaves ``benchmarks/`` out). Run, save and
compare as ``benchmarks/README.md`` shows::

    python -m pytest benchmarks/test_micro.py --benchmark-storage=benchmarks/results/micro
        --benchmark-compare=0001 --benchmark-compare-fail=min:50%

Each benchmark runs a fixed, small number of rounds (``pedantic``) so the whole file takes
about a minute; the paths are timed on ``qingyuan`` (8 counties) and ``northern_guangdong``
(37), and instance generation on ``synthetic:122``.
"""

from __future__ import annotations

import gc
from typing import Any

import pytest

import talentplan as tp
from talentplan.model.build import build_model
from talentplan.model.prepare import prepare
from talentplan.simulation import simulate
from talentplan.solver.matrix import compile_model

pytest.importorskip("pytest_benchmark")

SIZES = ["qingyuan", "northern_guangdong"]
ROUNDS = 10


def run(benchmark: Any, fn: Any, *args: Any, rounds: int = ROUNDS) -> Any:
    """Time ``fn(*args)`` over a fixed number of rounds, one call each, after one warm-up.

    The garbage of the previous round (a whole Pyomo model) is collected before each round,
    outside the timing, so a round does not pay for freeing the one before it.
    """

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        gc.collect()
        return args, {}

    return benchmark.pedantic(fn, setup=setup, rounds=rounds, iterations=1, warmup_rounds=1)


@pytest.fixture(scope="module", params=SIZES)
def instance(request: pytest.FixtureRequest) -> Any:
    """Load each bundled instance once per module."""
    return tp.load_instance(request.param)


@pytest.fixture(scope="module")
def qingyuan_plan() -> Any:
    """Solve qingyuan once, loosely, for a plan to simulate."""
    inst = tp.load_instance("qingyuan")
    return inst, tp.solve(inst, mip_gap=1e-2, time_limit=30, threads=1).allocation


@pytest.mark.parametrize("name", [*SIZES, "synthetic:122"])
def test_load_instance(benchmark: Any, name: str) -> None:
    """Load (or generate) and validate an instance."""
    inst = run(benchmark, tp.load_instance, name)
    assert len(inst.counties) > 0


def test_prepare(benchmark: Any, instance: Any) -> None:
    """Turn an instance into the index sets and coefficients of the model."""
    d = run(benchmark, prepare, instance)
    assert d.counties


def test_prepare_and_build(benchmark: Any, instance: Any) -> None:
    """Prepare the data and build the Pyomo model."""
    f = run(benchmark, build_model, instance)
    assert f.model.nconstraints() > 0


def test_compile(benchmark: Any, instance: Any) -> None:
    """Compile a built Pyomo model to the matrices passed to HiGHS."""
    model = build_model(instance).model
    cm = run(benchmark, compile_model, model)
    assert cm.n_rows > 0


def test_simulate(benchmark: Any, qingyuan_plan: Any) -> None:
    """Play a plan forward with the exact response curves."""
    inst, allocation = qingyuan_plan
    result = run(benchmark, simulate, inst, allocation)
    assert result.feasible
