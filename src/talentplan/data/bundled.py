"""The bundled planning instances and the program catalogue they share.

Bundled datasets (each a folder with ``scenario.toml``, the CSV tables and a README that
lists sources and labels every assumption):

- ``qingyuan``: the 8 county-level units of Qingyuan, 2025-2029;
- ``northern_guangdong``: the 37 county-level units of the Northern Guangdong Ecological
  Development Area (Shaoguan, Heyuan, Meizhou, Qingyuan, Yunfu).

All datasets and :func:`talentplan.data.synthetic.synthetic` share one program catalogue,
defined once as the catalogue tables of the bundled ``qingyuan`` folder (``programs``,
``responses``, ``talent_types``, ``industries``, ``sources``).

Examples
--------
>>> from talentplan.data import bundled
>>> bundled.available()
['qingyuan', 'northern_guangdong']
>>> len(bundled.load("qingyuan").counties)
8
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from talentplan.data.folder import read_folder
from talentplan.data.instance import Instance
from talentplan.data.records import read_csv
from talentplan.data.schema import TABLE_BY_NAME
from talentplan.data.validate import Collector, parse_table
from talentplan.errors import InstanceError, InstanceValidationError

__all__ = ["Catalogue", "available", "catalogue", "describe", "load", "path"]

BUNDLED = ("qingyuan", "northern_guangdong")
ROOT = Path(__file__).resolve().parent / "bundled"
CATALOGUE_TABLES = ("programs", "responses", "talent_types", "industries", "sources")
CATALOGUE_COUNTIES = 8
"""Number of counties the catalogue's ``cap_total`` values are set for (Qingyuan)."""


def available() -> list[str]:
    """Names of the bundled datasets."""
    return list(BUNDLED)


def path(name: str) -> Path:
    """Folder of a bundled dataset."""
    if name not in BUNDLED:
        raise InstanceError(f"unknown bundled dataset '{name}'; available: {', '.join(BUNDLED)}")
    return ROOT / name


def load(name: str) -> Instance:
    """Load a bundled dataset, validated.

    Examples
    --------
    >>> from talentplan.data import bundled
    >>> bundled.load("northern_guangdong").counties.shape[0]
    37
    """
    return read_folder(path(name), origin=f"bundled:{name}")


def describe(name: str) -> str:
    """Return the README of a bundled dataset: description, sources and assumptions."""
    return (path(name) / "README.md").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Catalogue:
    """The program catalogue and the talent types, industries and sources it refers to."""

    programs: pd.DataFrame
    responses: pd.DataFrame
    talent_types: pd.DataFrame
    industries: pd.DataFrame
    sources: pd.DataFrame


@functools.lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """Read the catalogue tables of the bundled ``qingyuan`` folder, each validated alone."""
    out = Collector()
    frames = {}
    for name in CATALOGUE_TABLES:
        parsed = parse_table(TABLE_BY_NAME[name], read_csv(ROOT / "qingyuan" / f"{name}.csv"), out)
        if parsed is not None:
            frames[name] = parsed.frame
    if out.errors:
        raise InstanceValidationError(out.errors)
    return Catalogue(**frames)
