"""Bundled planning instances and a generator of synthetic ones (``tp.datasets``).

The public face of :mod:`talentplan.data.bundled` (the bundled datasets and their
shared catalogue), :mod:`talentplan.data.derive` (the documented rules that turn county
facts into tables) and :mod:`talentplan.data.synthetic` (instances of any size).

Examples
--------
>>> from talentplan import datasets
>>> datasets.available()
['qingyuan', 'northern_guangdong']
>>> inst = datasets.synthetic(20, seed=1)
>>> len(inst.counties)
20
"""

from __future__ import annotations

from talentplan.data.bundled import (
    BUNDLED,
    CATALOGUE_COUNTIES,
    CATALOGUE_TABLES,
    ROOT,
    Catalogue,
    available,
    catalogue,
    describe,
    path,
)
from talentplan.data.bundled import load as load_bundled
from talentplan.data.derive import (
    BASE_GROWTH,
    BASE_INTENSITY,
    BUDGET_SHARE,
    INDUSTRY_RULES,
    SOURCE_SHARES,
    TYPE_RULES,
    budgets_table,
    derive_tables,
    floor_one_stop,
    full_cost,
    scale_caps,
    siphon,
    travel_time,
)
from talentplan.data.instance import Instance
from talentplan.data.synthetic import SPEC_PREFIX, from_spec, synthetic

__all__ = [
    "BASE_GROWTH",
    "BASE_INTENSITY",
    "BUDGET_SHARE",
    "BUNDLED",
    "CATALOGUE_COUNTIES",
    "CATALOGUE_TABLES",
    "INDUSTRY_RULES",
    "ROOT",
    "SOURCE_SHARES",
    "TYPE_RULES",
    "Catalogue",
    "available",
    "budgets_table",
    "catalogue",
    "derive_tables",
    "describe",
    "floor_one_stop",
    "from_spec",
    "full_cost",
    "load",
    "path",
    "scale_caps",
    "siphon",
    "synthetic",
    "travel_time",
]


def load(name: str) -> Instance:
    """Load a bundled dataset by name, or generate ``synthetic:N[:SEED]``, validated.

    Examples
    --------
    >>> from talentplan import datasets
    >>> datasets.load("northern_guangdong").counties.shape[0]
    37
    """
    if name.startswith(SPEC_PREFIX):
        return from_spec(name)
    return load_bundled(name)
