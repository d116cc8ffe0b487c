"""The base helpers every layer uses: atomic writes and validated options."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Literal

import pytest

from talentplan._files import atomic_write, atomic_write_text, replace_folder, write_file_set
from talentplan._options import check_choice, check_number, choices
from talentplan.errors import CalibrationError, OptionError


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_written_files_and_folders_get_ordinary_permissions(tmp_path: Path, umask_022) -> None:
    text = atomic_write_text(tmp_path / "a.txt", "x")
    folder = write_file_set(tmp_path / "set", {"b.csv": "1", "summary.json": "{}"})
    built = replace_folder(tmp_path / "inst", lambda p: (p / "c.csv").write_text("2"))
    assert _mode(text) == 0o644
    assert _mode(folder / "b.csv") == _mode(folder / "summary.json") == 0o644
    assert _mode(built) == 0o755 and _mode(built / "c.csv") == 0o644


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = atomic_write_text(tmp_path / "plan.csv", "old")

    def half(path: Path) -> None:
        path.write_text("new, half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, half)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.csv"]


def test_a_file_set_drops_a_stale_marker_and_moves_it_in_last(tmp_path: Path) -> None:
    out = write_file_set(tmp_path / "run", {"a.csv": "1", "summary.json": "first"})
    (out / "summary.json").write_text("stale")
    write_file_set(out, {"a.csv": "2", "summary.json": "second"})
    assert (out / "a.csv").read_text() == "2"
    assert (out / "summary.json").read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_replacing_a_folder_keeps_foreign_files_and_survives_a_failure(tmp_path: Path) -> None:
    target = replace_folder(tmp_path / "inst", lambda p: (p / "t.csv").write_text("1"))
    (target / "README.md").write_text("notes")
    replace_folder(target, lambda p: (p / "t.csv").write_text("2"), keep_except={"t.csv"})
    assert (target / "t.csv").read_text() == "2"
    assert (target / "README.md").read_text() == "notes"

    def boom(p: Path) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError):
        replace_folder(target, boom)
    assert sorted(p.name for p in target.iterdir()) == ["README.md", "t.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inst"]


Kind = Literal["site", "count"]


def test_choices_come_from_the_literal_type() -> None:
    assert choices(Kind) == ("site", "count")
    assert check_choice("kind", "count", Kind) == "count"
    with pytest.raises(OptionError, match=r"kind='city' is not supported; .*'site', 'count'"):
        check_choice("kind", "city", Kind)
    with pytest.raises(CalibrationError, match="kind="):
        check_choice("kind", "city", Kind, error=CalibrationError)


@pytest.mark.parametrize(
    ("value", "ok"),
    [(0.0, False), (1e-9, True), (1.0, True), (float("nan"), False), (float("inf"), False),
     (True, False), ("1", False)],
)  # fmt: skip
def test_numbers_are_checked_for_range_and_type(value: object, ok: bool) -> None:
    if ok:
        assert check_number("time_limit", value, low=0, low_open=True) == value
    else:
        with pytest.raises(OptionError, match="time_limit="):
            check_number("time_limit", value, low=0, low_open=True)
