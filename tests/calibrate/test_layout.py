"""The package's layout: allowed imports, no cycles, the public API and light imports."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import talentplan.calibrate as cal

ROOT = Path(cal.__file__).resolve().parent
SRC = ROOT.parents[1]
ALLOWED = (
    "talentplan.calibrate",
    "talentplan.data",
    "talentplan.errors",
    "talentplan._display",
    "talentplan._options",
    "talentplan._files",
)
SUBPACKAGES = ("shared", "panel", "dynamic", "staggered", "spatial", "bridge")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _imports(name: str) -> set[str]:
    """Every talentplan module ``name`` imports, wherever the import statement is."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in MODULES else base)
    return {m for m in found if m == "talentplan" or m.startswith("talentplan.")}


def test_calibrate_imports_only_the_layers_below() -> None:
    bad = {name: sorted(m for m in _imports(name) if not m.startswith(ALLOWED)) for name in MODULES}
    assert {k: v for k, v in bad.items() if v} == {}


def test_no_import_cycles_inside_calibrate() -> None:
    graph = {name: {m for m in _imports(name) if m in MODULES} for name in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert cycles == []


def test_public_names_resolve_to_the_subpackages_objects() -> None:
    for name in cal.__all__:
        value = getattr(cal, name)
        module = cal._LAZY[name]
        assert getattr(importlib.import_module(module), name) is value
    assert cal.simulate_panel.__name__ == "simulate_panel"  # the function, not a module


@pytest.mark.parametrize("sub", SUBPACKAGES)
def test_subpackage_reexports(sub: str) -> None:
    package = importlib.import_module(f"talentplan.calibrate.{sub}")
    assert sorted(package.__all__) == sorted(package._EXPORTS)
    for name in package.__all__:
        assert getattr(package, name) is getattr(
            importlib.import_module(package._EXPORTS[name]), name
        )
    # no module may be shadowed by, or shadow, a name its package exports
    modules = {p.stem for p in (ROOT / sub).glob("*.py")}
    assert modules.isdisjoint(package.__all__)
    assert package.__doc__ and package.__doc__.strip()


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


def test_moved_regret_names_warn_and_resolve() -> None:
    from talentplan.scenarios import regret

    with pytest.warns(DeprecationWarning, match="moved to talentplan.scenarios"):
        assert cal.plan_regret is regret.plan_regret
