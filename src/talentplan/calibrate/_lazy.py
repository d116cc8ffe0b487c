"""Names a package re-exports from its modules, imported on first use.

The calibration packages expose their public names at package level without importing
the modules that define them, so that ``import talentplan.calibrate`` (or one of its
subpackages) loads neither linearmodels nor scipy. A package lists its names in a
mapping ``name -> defining module`` and delegates its module ``__getattr__`` to
:func:`lazy_attribute` (PEP 562).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_attribute", "lazy_dir"]


def lazy_attribute(
    namespace: MutableMapping[str, Any], exports: Mapping[str, str], name: str
) -> Any:
    """Import the module that defines ``name`` and bind the name in ``namespace``.

    Parameters
    ----------
    namespace
        The package's ``globals()``; the value is stored there, so the module's
        ``__getattr__`` runs once per name.
    exports
        Re-exported name -> full name of the module that defines it.
    name
        The attribute asked for.

    Returns
    -------
    Any
        The object ``name`` refers to in its defining module.

    Raises
    ------
    AttributeError
        When ``name`` is not one of ``exports``.
    """
    if name not in exports:
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
    value = getattr(import_module(exports[name]), name)
    namespace[name] = value
    return value


def lazy_dir(namespace: Mapping[str, Any], exports: Mapping[str, str]) -> list[str]:
    """List a package's attributes, including the re-exports not imported yet.

    Parameters
    ----------
    namespace
        The package's ``globals()``.
    exports
        Re-exported name -> full name of the module that defines it.

    Returns
    -------
    list of str
        Sorted attribute names.
    """
    return sorted(set(namespace) | set(exports))
