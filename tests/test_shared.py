"""The base helpers every layer uses: atomic writes and validated options."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Literal

import numpy as np
import pytest

from talentplan import _files
from talentplan._files import atomic_write, atomic_write_text, replace_folder, write_file_set
from talentplan._options import check_choice, check_number, choices
from talentplan.errors import CalibrationError, OptionError


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022(monkeypatch: pytest.MonkeyPatch):
    old = os.umask(0o022)
    monkeypatch.setattr(_files, "_UMASK", 0o022)
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


def test_a_file_set_drops_a_stale_marker_first_and_moves_it_in_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = write_file_set(tmp_path / "run", {"a.csv": "1", "summary.json": "first"})
    real_replace = os.replace

    def fail_before_the_marker(src: str, dst: str) -> None:
        if Path(dst).name == "summary.json":
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", fail_before_the_marker)
    with pytest.raises(OSError, match="disk full"):
        write_file_set(out, {"a.csv": "2", "summary.json": "second"})
    assert (out / "a.csv").read_text() == "2"
    assert not (out / "summary.json").exists()  # no stale marker beside the new file
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


def test_what_a_killed_replace_left_is_mended_by_the_next(tmp_path: Path) -> None:
    # killed while building: a partial hidden folder beside the target
    target = replace_folder(tmp_path / "inst", lambda p: (p / "t.csv").write_text("1"))
    (tmp_path / ".inst.abc123.tmp").mkdir()
    (tmp_path / ".inst.abc123.tmp" / "t.csv").write_text("half")
    replace_folder(target, lambda p: (p / "t.csv").write_text("2"), keep_except={"t.csv"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inst"]
    assert (target / "t.csv").read_text() == "2"
    # killed between the two renames: the old folder moved aside, the new one not yet in
    os.replace(target, tmp_path / ".inst.old-0000aaaa")
    (tmp_path / ".inst.def456.tmp").mkdir()

    def look(p: Path) -> None:
        # the old folder is back in place before the new one is built
        assert (target / "t.csv").read_text() == "2"
        (p / "t.csv").write_text("3")

    replace_folder(target, look, keep_except={"t.csv"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inst"]
    assert (target / "t.csv").read_text() == "3"


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
     (True, False), ("1", False), (np.int64(30), True), (np.float32(1.5), True),
     (np.bool_(True), False)],
)  # fmt: skip
def test_numbers_are_checked_for_range_and_type(value: object, ok: bool) -> None:
    if ok:
        assert check_number("time_limit", value, low=0, low_open=True) == value
    else:
        with pytest.raises(OptionError, match="time_limit="):
            check_number("time_limit", value, low=0, low_open=True)


def test_whole_numbers_accept_numpy_integers_only() -> None:
    assert check_number("threads", np.int64(2), low=1, integer=True) == 2
    for bad in (2.0, np.float64(2.0), True):
        with pytest.raises(OptionError, match="whole number"):
            check_number("threads", bad, low=1, integer=True)


def test_a_skip_without_the_extra_marker_fails_the_run(pytester: pytest.Pytester) -> None:
    pytester.makeconftest((Path(__file__).parent / "conftest.py").read_text(encoding="utf-8"))
    pytester.makeini("[pytest]\nmarkers =\n    extra(name): optional extra\n")
    pytester.makepyfile(
        """
        import pytest

        def test_runs():
            pass

        @pytest.mark.xfail(strict=True)
        def test_expected_failure():
            assert False

        @pytest.mark.extra("plots")
        def test_needs_an_extra():
            pytest.skip("matplotlib is not installed")
        """
    )
    assert pytester.runpytest().ret == pytest.ExitCode.OK
    pytester.makepyfile(
        test_silent="""
        import pytest

        def test_hides():
            pytest.skip("data not found")
        """
    )
    run = pytester.runpytest()
    assert run.ret == pytest.ExitCode.TESTS_FAILED
    run.stdout.fnmatch_lines(["*1 test(s) skipped without the 'extra' marker*test_hides*"])
