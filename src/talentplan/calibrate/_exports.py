"""Names a calibration subpackage re-exports from its modules, imported on first use.

``talentplan.calibrate.panel``, ``.dynamic``, ``.staggered`` and ``.spatial`` were
modules before the package was split by model family; their main names stay importable
from there (``from talentplan.calibrate.panel import PanelRegression``), like
linearmodels' ``linearmodels.panel``. They are bound lazily (PEP 562), so that importing
a light module of a family (``spatial.weights``) loads neither linearmodels nor scipy.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from importlib import import_module
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, modules: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """Return ``__getattr__``, ``__dir__`` and ``__all__`` for ``package``.

    Parameters
    ----------
    package
        The package's ``__name__``.
    modules
        Module name within the package -> the names it defines that the package exports.

    Examples
    --------
    >>> get, _, names = lazy_exports("talentplan.calibrate.spatial", {"weights": ["spatial_lag"]})
    >>> names, get("spatial_lag").__name__
    (['spatial_lag'], 'spatial_lag')
    """
    where = {name: f"{package}.{module}" for module, names in modules.items() for name in names}
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(where[name]), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(where))

    return __getattr__, __dir__, sorted(where)
