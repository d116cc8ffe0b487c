"""The calibrate package's layout: the public API, subpackage exports and light imports.

Which modules it may import, and that it has no cycles, is checked with the other import
contracts in tests/test_architecture.py.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import talentplan.calibrate as cal

ROOT = Path(cal.__file__).resolve().parent
SUBPACKAGES = ("shared", "panel", "dynamic", "staggered", "spatial", "bridge")


def test_public_names_resolve_to_the_subpackages_objects() -> None:
    for name in cal.__all__:
        value = getattr(cal, name)
        module = cal._LAZY[name]
        assert getattr(importlib.import_module(module), name) is value
    assert cal.simulate_panel.__name__ == "simulate_panel"  # the function, not a module


@pytest.mark.parametrize("sub", SUBPACKAGES)
def test_subpackages_say_what_they_hold_and_shadow_no_public_name(sub: str) -> None:
    package = importlib.import_module(f"talentplan.calibrate.{sub}")
    assert package.__doc__ and package.__doc__.strip()
    modules = {p.stem for p in (ROOT / sub).glob("*.py")}
    assert modules.isdisjoint(cal.__all__)


@pytest.mark.parametrize(
    ("family", "names"),
    [
        ("panel", ["PanelRegression", "PanelIV", "hausman", "mundlak", "PanelResults"]),
        ("dynamic", ["DynamicPanelGMM", "DynamicPanelGMMResults"]),
        ("staggered", ["StaggeredDiD", "StaggeredDiDResults"]),
        ("spatial", ["SpilloverPanel", "conley_cov", "distance_weights", "spatial_lag"]),
    ],
)
def test_the_families_old_module_paths_still_give_their_main_names(
    family: str, names: list[str]
) -> None:
    package = importlib.import_module(f"talentplan.calibrate.{family}")
    for name in names:
        assert getattr(package, name) is getattr(cal, name)
        assert name in package.__all__ and name in dir(package)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        package.nope  # noqa: B018


def test_top_level_names_do_not_shadow_modules() -> None:
    modules = {p.stem for p in ROOT.glob("*.py")} | set(SUBPACKAGES)
    assert modules.isdisjoint(cal.__all__)


def test_import_loads_neither_linearmodels_nor_scipy() -> None:
    code = (
        "import sys, talentplan.calibrate as c\n"
        "c.simulate_panel, c.CalibrationSpec, c.run_calibration, c.TRANSFORMS\n"
        "c.distance_weights, c.ResponseParameters\n"
        "print('linearmodels' in sys.modules, 'scipy' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]


def test_constructing_dynamic_gmm_does_not_import_scipy_stats() -> None:
    # scipy.stats takes seconds to import cold; only p-values and critical values need it
    code = (
        "import sys, numpy as np, pandas as pd\n"
        "import talentplan.calibrate as c\n"
        "df = pd.DataFrame({'id': np.repeat(np.arange(30), 6), 't': np.tile(np.arange(6), 30),\n"
        "                   'y': np.random.default_rng(0).normal(size=180)})\n"
        "model = c.DynamicPanelGMM(df, 'y', entity='id', time='t', method='system')\n"
        "print('constructed', 'scipy.stats' in sys.modules)\n"
        "print('--- constructed', file=sys.stderr, flush=True)\n"
        "model.fit(steps=2).pvalues\n"
        "print('p-values', 'scipy.stats' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split("\n")[:2] == ["constructed False", "p-values True"]
    # -X importtime lists the modules as they are imported: scipy.stats comes only after
    # the estimator was constructed, when the fit asked for p-values
    phases = run.stderr.split("--- constructed")
    before, after = ({ln.rsplit("|", 1)[-1].strip() for ln in p.splitlines()} for p in phases)
    assert "talentplan.calibrate.dynamic.gmm" in before
    assert not [m for m in before if m.split(".")[:2] == ["scipy", "stats"]]
    assert [m for m in after if m.split(".")[:2] == ["scipy", "stats"]]


def test_moved_regret_names_warn_and_resolve() -> None:
    from talentplan.scenarios import regret

    with pytest.warns(DeprecationWarning, match="moved to talentplan.scenarios"):
        assert cal.plan_regret is regret.plan_regret
