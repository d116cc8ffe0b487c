"""Fixtures: editable copies of the bundled qingyuan instance."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from talentplan import datasets
from talentplan.errors import InstanceError, InstanceValidationError


@pytest.fixture
def qy_dir(tmp_path: Path) -> Path:
    """A fresh copy of the bundled qingyuan folder."""
    target = tmp_path / "qingyuan"
    shutil.copytree(datasets.path("qingyuan"), target)
    return target


def read_table(folder: Path, name: str) -> pd.DataFrame:
    """A table as text, exactly as in the file (blank cells are '')."""
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)


def write_table(folder: Path, name: str, frame: pd.DataFrame) -> None:
    frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")


def edit_table(folder: Path, name: str, change: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    """Read a table as text, apply ``change`` and write it back."""
    write_table(folder, name, change(read_table(folder, name)))


def find_error(exc: InstanceValidationError, **where: object) -> InstanceError:
    """The first collected error whose attributes match ``where``; fail if none does."""
    for err in exc.errors:
        if all(getattr(err, k) == v for k, v in where.items()):
            return err
    listing = "\n".join(str(e) for e in exc.errors)
    raise AssertionError(f"no error matching {where}; errors were:\n{listing}")
