"""Load and write planning instances: folders, workbooks, bundled and synthetic names.

- A folder holds ``scenario.toml`` and one CSV per table (:mod:`talentplan.data.folder`).
- A workbook (``.xlsx``) holds one sheet per table (:mod:`talentplan.data.workbook`).
- A bundled dataset is named (``qingyuan``, ``northern_guangdong``;
  :mod:`talentplan.data.bundled`); ``synthetic:N[:SEED]`` generates one
  (:mod:`talentplan.data.synthetic`).

Writing is atomic: everything goes into a temporary sibling first, which then replaces
the target in one rename.
"""

from __future__ import annotations

import os
from pathlib import Path

from talentplan.data import bundled
from talentplan.data.folder import read_folder, write_folder
from talentplan.data.instance import Instance
from talentplan.data.scenario_toml import SCENARIO_FILE
from talentplan.data.synthetic import SPEC_PREFIX, from_spec
from talentplan.data.workbook import read_workbook, write_workbook
from talentplan.errors import InstanceError

__all__ = ["load_instance", "read_folder", "read_workbook", "write_instance"]


def load_instance(source: str | os.PathLike[str]) -> Instance:
    """Load and validate a planning instance.

    Parameters
    ----------
    source
        A folder (``scenario.toml`` + CSV files), the path of its ``scenario.toml``, an
        ``.xlsx`` workbook, the name of a bundled dataset (``qingyuan``,
        ``northern_guangdong``; an existing path of the same name wins), or
        ``synthetic:N[:SEED]`` for a generated instance of ``N`` counties.

    Returns
    -------
    Instance
        The validated instance.

    Raises
    ------
    InstanceValidationError
        Listing every problem found (file, row, column, value, what was expected).
    InstanceError
        When ``source`` names nothing that can be read.

    Examples
    --------
    >>> from talentplan.data import load_instance
    >>> inst = load_instance("qingyuan")
    >>> len(inst.counties), inst.years[0], inst.years[-1]
    (8, 2025, 2029)
    """
    text = os.fspath(source)
    if isinstance(source, str) and text.startswith(SPEC_PREFIX):
        return from_spec(text)
    path = Path(text)
    if path.is_dir():
        return read_folder(path)
    if path.is_file():
        if path.suffix.lower() == ".xlsx":
            return read_workbook(path)
        if path.name == SCENARIO_FILE:
            return read_folder(path.parent)
        raise InstanceError(
            f"cannot read '{path}': expected a folder with {SCENARIO_FILE}, its "
            f"{SCENARIO_FILE}, or an .xlsx workbook",
            file=str(path),
        )
    if text in bundled.available():
        return bundled.load(text)
    raise InstanceError(
        f"'{text}' is neither an existing folder or workbook nor a bundled dataset; "
        f"bundled datasets: {', '.join(bundled.available())}; or use synthetic:N[:SEED]"
    )


def write_instance(
    instance: Instance, path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write ``instance`` to a folder, or to a workbook when ``path`` ends in ``.xlsx``.

    The write is atomic: files go to a temporary sibling of ``path`` that replaces the
    target in one rename, so a failure leaves nothing half-written (and an existing
    target untouched). When a folder is overwritten, files in it that are not part of an
    instance (a README, notes) are kept.

    Parameters
    ----------
    instance
        The instance to write (every table, optional ones with their header only when
        empty).
    path
        Target folder, or ``.xlsx`` file.
    overwrite
        Replace an existing target (otherwise :class:`FileExistsError`).

    Returns
    -------
    Path
        The path written.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"'{target}' exists; pass overwrite=True to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix.lower() == ".xlsx":
        write_workbook(instance, target)
    else:
        if target.exists() and not target.is_dir():
            raise FileExistsError(f"'{target}' is a file, not an instance folder")
        write_folder(instance, target)
    return target
