"""The scenarios folder of the what-if page: the layout of ``talentplan sweep`` results.

A solved scenario is a folder ``FOLDER/scenarios/KEY/`` (``KEY``: the first 16
hexadecimal digits of the sweep's :func:`~talentplan.scenarios.sweep.scenario_key`,
:func:`~talentplan.scenarios.sweep.scenario_folder`; its ``row.json`` holds the whole
key, so a sweep into the same folder reuses the page's scenario as its own; a plan
stopped before the end gets a key of its own, :func:`talentplan.web.jobs.interrupted_key`,
so the scenario's key stays for its full solve) holding what
:meth:`AllocationResult.to_dir` writes, and beside it the scenario's instance as a
workbook (``instance.xlsx``), what the page set (``web.json``: the name, the edited
fields, when), ``manifest.json``, and the sweep's ``row.json`` last. The manifest is a
run manifest (:mod:`talentplan.report.manifest`) of ``talentplan solve instance.xlsx``
in the scenario's folder, the solve the page ran, so ``talentplan replicate`` repeats
and checks it (:func:`talentplan.web.jobs.solve_args`). A sweep run into the same
folder and the page see each other's scenarios.

A folder is built whole in a hidden sibling and renamed into place in one step
(:meth:`ScenarioStore.save`): a scenario is either complete or absent, and two solves
(two browser tabs) never write into the same folder. Files are served only by
:meth:`ScenarioStore.file`, which accepts a key matching :data:`KEY_PATTERN` and a name
of :data:`DOWNLOADS`, so no request names a path outside the folder. A scenario a
sweep wrote has no ``report.html`` (``to_dir(report=False)``); the page draws it when
asked (:meth:`ScenarioStore.drawn_report`) and does not write it into the folder.

The files are read strictly: a ``row.json`` or ``web.json`` edited by hand that is not
JSON, not an object, or holds a word where the page reads a number
(:data:`_FIELDS`), raises :class:`~talentplan.errors.ScenarioFileError` naming the file
and what is wrong (``scenarios/KEY/row.json: not valid JSON (line 3, column 5): ...``),
as do a plan's files that cannot be read back or drawn. The list
(:meth:`ScenarioStore.scenarios`) still lists such a scenario, with that message; a
scenario without a plan (a sweep's infeasible one: its ``row.json`` alone, with the
status and the reason) is listed and read as any other.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from talentplan._files import atomic_write_text, json_ready
from talentplan.errors import ScenarioFileError
from talentplan.report.html_report import render_report
from talentplan.report.result import AllocationResult
from talentplan.scenarios.sweep import ROW_FILE, SCENARIOS

__all__ = [
    "DOWNLOADS",
    "INSTANCE_FILE",
    "KEY_PATTERN",
    "REPORT_FILE",
    "WEB_FILE",
    "SavedScenario",
    "ScenarioStore",
    "UnknownScenarioError",
]

T = TypeVar("T")

KEY_PATTERN = re.compile(r"[0-9a-f]{16}")
"""A scenario's folder name: 16 hexadecimal digits of its key (matched whole)."""

INSTANCE_FILE = "instance.xlsx"
"""The scenario's instance, every edit applied, as a workbook ``talentplan solve`` reads."""

WEB_FILE = "web.json"
"""What the page knows of a scenario: its name, the fields set, when and by which job
(:class:`~talentplan.web.jobs.Job` id) it was solved."""

REPORT_FILE = "report.html"
"""The plan's report; drawn when asked for where a sweep did not write it
(:meth:`ScenarioStore.drawn_report`)."""

DOWNLOADS = (INSTANCE_FILE, "plan.xlsx", REPORT_FILE, "manifest.json")
"""The only files of a scenario the page serves."""

_MEDIA = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
}


STALE_SECONDS = 2 * 3600.0
"""Age after which a hidden save folder is an abandoned one: longer than any solve the
page starts (:data:`talentplan.web.forms.MAX_TIME_LIMIT`) and the writing of its files."""


class UnknownScenarioError(LookupError):
    """No solved scenario has this key, or the key or file name is not admissible."""


@dataclass(frozen=True)
class SavedScenario:
    """A solved scenario as the page lists it.

    Attributes
    ----------
    key
        The folder's name.
    name
        The name given on the page (a sweep's scenario: ``sweep KEY[:8]``).
    row
        Its ``row.json``: status, objective, spend and talent totals.
    web
        Its ``web.json`` (empty for a sweep's scenario).
    problem
        Why its files cannot be read (:class:`~talentplan.errors.ScenarioFileError`'s
        message, naming the file), or ``""``; an unreadable scenario is listed with its
        key for a name and empty ``row`` and ``web``.
    """

    key: str
    name: str
    row: dict[str, Any] = field(repr=False)
    web: dict[str, Any] = field(repr=False)
    problem: str = ""

    @property
    def has_plan(self) -> bool:
        """Whether the folder holds a plan (infeasible and failed scenarios do not)."""
        return "objective" in self.row

    @property
    def edits_known(self) -> bool:
        """Whether its ``web.json`` records the fields set on the page (a sweep's does not).

        Only then can the form start from it (``edit as new``).
        """
        return "changes" in self.web


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _is_changes(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in value.values()
    )


_TEXT = ("text", lambda value: isinstance(value, str))
_NUMBER = ("a number or null", _is_number)
_FIELDS: dict[str, dict[str, tuple[str, Callable[[Any], bool]]]] = {
    ROW_FILE: {
        "key": _TEXT,
        "status": _TEXT,
        "reason": _TEXT,
        **{n: _NUMBER for n in ("objective", "bound", "gap", "spend_total", "useful_final")},
    },
    WEB_FILE: {
        "name": _TEXT,
        "job": _TEXT,
        "created": _TEXT,
        "changes": ("an object of field names and values", _is_changes),
    },
    "summary.json": {"status": _TEXT},
}
"""The fields of a scenario's JSON files the page reads, with what each must hold."""


def _read_json(path: Path, shown: str) -> dict[str, Any]:
    """Read a scenario's JSON file; :class:`ScenarioFileError` naming ``shown`` if it is bad.

    The fields of :data:`_FIELDS` the file has must hold what the page reads there (a
    ``row.json`` edited by hand may say ``"objective": "high"``).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioFileError(
            shown, f"not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    except OSError as exc:
        raise ScenarioFileError(shown, f"cannot be read ({exc.strerror or exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise ScenarioFileError(shown, f"not valid JSON ({where}): {exc.msg}") from None
    if not isinstance(data, dict):
        raise ScenarioFileError(shown, f"not a JSON object but {type(data).__name__} {data!r:.40}")
    for name, (expected, check) in _FIELDS.get(path.name, {}).items():
        if name in data and not check(data[name]):
            raise ScenarioFileError(shown, f"{name!r} should be {expected}, not {data[name]!r:.40}")
    return data


class ScenarioStore:
    """The scenarios under ``FOLDER/scenarios/``: list, read, name and save them.

    Parameters
    ----------
    folder
        The page's folder (``talentplan serve --folder``); created when missing.

    Examples
    --------
    >>> import tempfile
    >>> store = ScenarioStore(tempfile.mkdtemp())
    >>> store.scenarios()
    []
    >>> try:
    ...     store.file("../../etc", "passwd")
    ... except UnknownScenarioError as exc:
    ...     print(exc)
    no scenario '../../etc'
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.root = self.folder / SCENARIOS
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._remove_stale()

    def _remove_stale(self) -> None:
        """Remove hidden folders of saves that never finished (a worker killed mid-save).

        Only those older than :data:`STALE_SECONDS`: a younger one may be another
        server's save in progress.
        """
        now = time.time()
        for tmp in self.root.glob(".*.tmp"):
            try:
                old = now - tmp.stat().st_mtime > STALE_SECONDS
            except OSError:
                continue
            if old and tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)

    def _path(self, key: str) -> Path:
        if not isinstance(key, str) or KEY_PATTERN.fullmatch(key) is None:
            raise UnknownScenarioError(f"no scenario {key!r}")
        path = self.root / key
        if not (path / ROW_FILE).is_file():
            raise UnknownScenarioError(f"no scenario {key!r}")
        return path

    def _shown(self, key: str, name: str) -> str:
        """Name a scenario's file as messages do: ``scenarios/KEY/NAME`` (no name: its folder)."""
        return f"{SCENARIOS}/{key}/{name}".rstrip("/")

    def get(self, key: str) -> SavedScenario:
        """Return the scenario ``key``.

        Raises
        ------
        UnknownScenarioError
            There is no scenario ``key``.
        ScenarioFileError
            Its ``row.json`` or ``web.json`` cannot be read (edited by hand, say).
        """
        path = self._path(key)
        row = _read_json(path / ROW_FILE, self._shown(key, ROW_FILE))
        web = {}
        if (path / WEB_FILE).exists():  # a sweep's scenario has none
            web = _read_json(path / WEB_FILE, self._shown(key, WEB_FILE))
        name = str(web.get("name") or f"sweep {key[:8]}")
        return SavedScenario(key, name, row, web)

    def scenarios(self) -> list[SavedScenario]:
        """Return every complete scenario, the latest solved first.

        A scenario whose files cannot be read is listed too, with its ``problem``.
        """
        found = []
        for path in self.root.iterdir():
            if KEY_PATTERN.fullmatch(path.name) and (path / ROW_FILE).is_file():
                try:
                    found.append(self.get(path.name))
                except ScenarioFileError as exc:
                    found.append(SavedScenario(path.name, path.name, {}, {}, str(exc)))
        found.sort(key=lambda s: (str(s.web.get("created", "")), s.key), reverse=True)
        return found

    def saved_by(self, job_id: str) -> SavedScenario | None:
        """Return the scenario the page's job ``job_id`` saved (its ``web.json``'s ``job``).

        None when no readable scenario records that job: it saved none (an error, a
        scenario solved already), or never was.
        """
        found = [s for s in self.scenarios() if s.web.get("job") == job_id]
        return found[0] if found else None

    def exists(self, key: str) -> bool:
        """Whether a complete scenario ``key`` is saved."""
        try:
            self._path(key)
        except UnknownScenarioError:
            return False
        return True

    def file(self, key: str, name: str) -> tuple[Path, str]:
        """Return the path and media type of a downloadable file of scenario ``key``.

        Raises
        ------
        UnknownScenarioError
            The key is not a saved scenario's, the name not one of :data:`DOWNLOADS`, or
            the scenario has no such file (an infeasible scenario has no plan).
        """
        path = self._path(key)
        if name not in DOWNLOADS:
            raise UnknownScenarioError(f"no file {name!r}; files: {', '.join(DOWNLOADS)}")
        target = path / name
        if not target.is_file():
            raise UnknownScenarioError(f"scenario {key[:8]} has no file {name!r}")
        return target, _MEDIA[target.suffix]

    def downloads(self, key: str) -> list[str]:
        """Return the files of :data:`DOWNLOADS` scenario ``key`` can be sent.

        Those in its folder, and ``report.html`` wherever there is a plan: a sweep writes
        its scenarios without it (:meth:`drawn_report` draws it).
        """
        path = self._path(key)
        plan = (path / "summary.json").is_file()
        return [n for n in DOWNLOADS if (path / n).is_file() or (n == REPORT_FILE and plan)]

    def drawn_report(self, key: str) -> str:
        """Draw the ``report.html`` of scenario ``key`` from its files, writing nothing.

        For a scenario whose folder has no ``report.html`` (a sweep's: ``talentplan
        report DIR`` would write it); the folder is left as it is.

        Raises
        ------
        UnknownScenarioError
            No scenario ``key``, or it holds no plan (infeasible, failed).
        ScenarioFileError
            The plan's files cannot be read.
        """
        if not self.get(key).has_plan:
            raise UnknownScenarioError(f"scenario {key[:8]} has no plan")
        return self.draw([key], lambda results: render_report(results[0]))[1]

    def draw(
        self, keys: Sequence[str], draw: Callable[[list[AllocationResult]], T]
    ) -> tuple[list[AllocationResult], T]:
        """Read the plans of scenarios ``keys`` and draw them with ``draw``; return both.

        ``draw`` makes the report's page or sections, or the comparison's tables. A table
        edited by hand may read back and still lack what the drawing needs (a column, a
        number), which is said as a file that cannot be read.

        Raises
        ------
        ScenarioFileError
            A plan's files cannot be read (:meth:`result`), or the plans drawn.
        """
        results = [self.result(key) for key in keys]
        try:
            return results, draw(results)
        except (KeyError, ValueError, TypeError) as exc:
            where = ", ".join(self._shown(key, "") for key in keys)
            problem = f"its plan cannot be shown ({type(exc).__name__}: {exc})"
            if len(keys) > 1:
                problem = f"one of their plans cannot be shown ({type(exc).__name__}: {exc})"
            raise ScenarioFileError(where, problem) from None

    def result(self, key: str) -> AllocationResult:
        """Read the plan of scenario ``key`` back (:meth:`AllocationResult.from_dir`).

        Raises
        ------
        UnknownScenarioError
            There is no scenario ``key``.
        ScenarioFileError
            Its plan's files are missing or cannot be read: ``summary.json`` is named
            with what is wrong; a table that does not parse with the reader's message.
        """
        path = self._path(key)
        summary = self._shown(key, "summary.json")
        if not (path / "summary.json").is_file():
            raise ScenarioFileError(summary, f"missing, though {ROW_FILE} records a plan")
        _read_json(path / "summary.json", summary)
        try:
            return AllocationResult.from_dir(path)
        except FileNotFoundError as exc:
            missing = Path(str(exc.filename)).name if exc.filename else ""
            raise ScenarioFileError(self._shown(key, missing), f"missing ({exc})") from None
        except (ValueError, KeyError, TypeError) as exc:
            problem = f"a file of its plan cannot be read ({type(exc).__name__}: {exc})"
            raise ScenarioFileError(self._shown(key, ""), problem) from None

    def rename(self, key: str, name: str) -> None:
        """Give scenario ``key`` a new name (its ``web.json`` is rewritten atomically).

        Raises :class:`ScenarioFileError` when its ``web.json`` cannot be read: it is
        left as it is rather than replaced by one that forgets the scenario's changes.
        """
        path = self._path(key)
        with self._lock:
            web = self.get(key).web
            web["name"] = name.strip() or web.get("name") or key[:8]
            atomic_write_text(path / WEB_FILE, json.dumps(json_ready(web), indent=1))

    def save(self, key: str, fill: Callable[[Path], None]) -> bool:
        """Build scenario ``key`` with ``fill(tmp)`` in a hidden folder and move it in.

        ``fill`` writes every file, ``row.json`` last. The move is one rename, so the
        scenario appears complete or not at all. When the scenario's folder is there
        already (the same solve from another tab, or a sweep still writing it), that
        folder is kept and the new one dropped: a rename onto an empty folder would
        replace it, so the folder is looked for first (what is left is the moment between
        that look and the rename).

        Returns
        -------
        bool
            True when this call saved the scenario, False when it was there already.
        """
        if KEY_PATTERN.fullmatch(key) is None:
            raise UnknownScenarioError(f"no scenario {key!r}")
        tmp = Path(tempfile.mkdtemp(prefix=f".{key[:8]}.", suffix=".tmp", dir=self.root))
        try:
            fill(tmp)
            os.chmod(tmp, 0o755)
            if (self.root / key).exists():
                return False
            try:
                os.rename(tmp, self.root / key)
            except OSError:
                if self.exists(key):
                    return False
                raise
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return True
