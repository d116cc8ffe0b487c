"""Solves of the what-if page, each in a worker process of its own.

:class:`JobManager.start` starts a process (``multiprocessing``'s *spawn* context: a
fresh interpreter, nothing shared with the web server but a queue and an event) that
solves the scenario with :func:`talentplan.solve` (``compare=True``, so its report
opens with doing nothing and subsidies only) and saves it in the scenarios folder
(:meth:`~talentplan.web.store.ScenarioStore.save`). The worker sends its progress on
the queue; a thread of the server reads it into the :class:`Job` the page polls.

The solve is the one ``talentplan solve instance.xlsx`` runs in the scenario's folder
(:func:`solve_args`), and the scenario's ``manifest.json`` records it as that run, so
``talentplan replicate`` accepts the folder: the worker writes the instance's workbook
and solves it as read back (a workbook keeps 15 significant digits), with the options
the arguments spell and the command's deadline
(:meth:`~talentplan.solver.deadline.Deadline.up_to_files`).

- **Cancel** sets the job's stop event, which the solver watches as it watches Ctrl-C in
  ``talentplan solve``: HiGHS stops, and the best plan so far is saved with status
  ``interrupted``.
- **A worker that dies** (killed, out of memory, a crash in the solver) leaves the job in
  state ``error`` with its exit code; the server goes on.
- **A worker that overruns** its time limit by :data:`GRACE_SECONDS` is stopped, then
  killed.
- **Ended jobs are forgotten** beyond the latest :data:`KEEP_ENDED` (a server runs for
  months); a running job never is. The scenario a job saved records the job's id in its
  ``web.json`` (``job``), so the page of a forgotten job (or of one from before a
  restart) still points to its plan
  (:meth:`~talentplan.web.store.ScenarioStore.saved_by`).
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import multiprocessing as mp
import queue as queue_module
import shutil
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from talentplan.data.instance import Instance
from talentplan.scenarios.sweep import scenario_folder
from talentplan.solver.api import SolveOptions

__all__ = ["GRACE_SECONDS", "KEEP_ENDED", "Job", "JobManager", "interrupted_key", "solve_args"]

GRACE_SECONDS = 30.0
"""Seconds a worker may run past its time limit (start-up, files) before it is stopped."""

FINAL = ("done", "error", "cancelled")
"""States of a job that has ended."""

KEEP_ENDED = 50
"""Ended jobs a :class:`JobManager` keeps, the latest to end; older ones are forgotten."""

_CONTEXT = mp.get_context("spawn")


@dataclass
class Job:
    """One solve started from the page.

    Attributes
    ----------
    id
        Random hex id (the job's address on the page).
    name
        The scenario's name.
    key
        The scenario's folder name (:func:`~talentplan.scenarios.sweep.scenario_folder`).
    state
        ``starting``, ``running``, ``done`` (saved, possibly ``interrupted``), ``error``
        (``message`` says why) or ``cancelled`` (stopped before any plan).
    progress
        The last progress of the solve: ``phase``, ``seconds``, ``objective``, ``bound``,
        ``gap`` (None where not known yet).
    message
        What the page says about the job (the reason of an error, a note when done).
    ended
        When its follower finished with it (``time.monotonic()``), or None while it runs.
    """

    id: str
    name: str
    key: str
    state: str = "starting"
    progress: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    started: float = field(default_factory=time.monotonic)
    time_limit: float | None = None
    plan_status: str = ""
    ended: float | None = None
    _process: Any = field(default=None, repr=False)
    _stop: Any = field(default=None, repr=False)

    def view(self) -> dict[str, Any]:
        """Return the job as the page's status request sends it (JSON)."""
        return {
            "id": self.id,
            "name": self.name,
            "key": self.key,
            "state": self.state,
            "progress": self.progress,
            "message": self.message,
            "plan_status": self.plan_status,
            "elapsed": round(time.monotonic() - self.started, 1),
        }


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def solve_args(options: SolveOptions, out_dir: Path) -> list[str]:
    """Return the arguments of ``talentplan solve`` that repeat a page's solve.

    The scenario's own ``instance.xlsx`` (every edit applied, the budget factor too, so
    ``--budget-scale`` stays 1) and each option of ``options``, spelt as the command
    records them (:func:`talentplan.cli.manifest.command_args`).

    Examples
    --------
    >>> from pathlib import Path
    >>> o = SolveOptions(20.0, 0.01, 1, "talent_index")
    >>> " ".join(solve_args(o, Path("/s/k")))  # doctest: +NORMALIZE_WHITESPACE
    'instance.xlsx --out /s/k --time-limit 20.0 --mip-gap 0.01 --threads 1
     --objective talent_index --budget-scale 1.0 --warm-start --method auto --build pyomo'
    """
    from talentplan.web.store import INSTANCE_FILE

    args = [INSTANCE_FILE, "--out", str(out_dir)]
    if options.time_limit is not None:
        args += ["--time-limit", str(float(options.time_limit))]
    args += ["--mip-gap", str(float(options.mip_gap))]
    if options.threads is not None:
        args += ["--threads", str(options.threads)]
    if options.objective is not None:
        args += ["--objective", str(options.objective)]
    args += ["--budget-scale", "1.0"]
    if options.step_values:
        args.append("--step-values")
    args.append("--warm-start" if options.warm_start else "--no-warm-start")
    if options.solver_log:
        args.append("--solver-log")
    return [*args, "--method", str(options.method), "--build", str(options.build)]


def _solve_options(options: SolveOptions, out_dir: Path) -> dict[str, Any]:
    """Return ``talentplan solve``'s parameters (Python names) of a page's solve."""
    from talentplan.web.store import INSTANCE_FILE

    return {
        "instance": INSTANCE_FILE,
        "out_dir": str(out_dir),
        "time_limit": options.time_limit,
        "mip_gap": options.mip_gap,
        "threads": options.threads,
        "objective": options.objective,
        "budget_scale": 1.0,
        "step_values": options.step_values,
        "warm_start": options.warm_start,
        "solver_log": options.solver_log,
        "method": options.method,
        "build": options.build,
        "quiet": False,
    }


def _manifest(tmp: Path, folder: Path, result: Any, options: SolveOptions) -> dict[str, Any]:
    """Return the run manifest of a scenario built in ``tmp`` that will stand at ``folder``.

    The run it records is ``talentplan solve instance.xlsx ...`` (:func:`solve_args`) in
    the scenario's folder: its input is the workbook, its outputs the files
    ``talentplan solve`` writes (not the page's ``instance.xlsx``, ``web.json``,
    ``row.json``), so ``talentplan replicate FOLDER`` reruns and checks it.
    """
    from dataclasses import replace

    from talentplan.report.manifest import input_files, manifest_record
    from talentplan.report.result import RESULT_FILES
    from talentplan.web.store import INSTANCE_FILE

    inputs = [
        replace(i, root=str(folder / INSTANCE_FILE)) if i.argument == "instance" else i
        for i in input_files(INSTANCE_FILE, tmp)
    ]
    record = manifest_record(
        "solve",
        solve_args(options, folder),
        _solve_options(options, folder),
        folder,
        tmp,
        RESULT_FILES,
        inputs,
        solver_options=asdict(options),
        seed=result.summary.get("seed"),
    )
    record["command"]["out"] = str(folder)
    return record


def _write_scenario(
    tmp: Path,
    folder: Path,
    result: Any,
    what: Mapping[str, Any],
    instance: Instance,
    workbook: Path,
    options: SolveOptions,
) -> None:
    """Write a solved scenario's files into ``tmp`` (renamed to ``folder``), ``row.json`` last.

    ``workbook`` is the instance's workbook the solve read (copied in as ``instance.xlsx``).
    """
    from talentplan._files import atomic_write_text, json_ready
    from talentplan.report.manifest import MANIFEST
    from talentplan.scenarios.sweep import ROW_FILE, plan_row
    from talentplan.web.store import INSTANCE_FILE, WEB_FILE

    result.to_dir(tmp)
    shutil.copyfile(workbook, tmp / INSTANCE_FILE)
    created = datetime.now(UTC).isoformat(timespec="seconds")
    web = {**what, "created": created, "options": asdict(options)}
    atomic_write_text(tmp / WEB_FILE, json.dumps(json_ready(web), indent=1))
    manifest = _manifest(tmp, folder, result, options)
    atomic_write_text(tmp / MANIFEST, json.dumps(json_ready(manifest), indent=2) + "\n")
    programs = tuple(str(p) for p in instance.tables["programs"]["program"])
    counties = tuple(str(c) for c in instance.tables["counties"]["county"])
    row = {"key": what["key"], "reason": "", **plan_row(result, programs, counties)}
    row["seconds"] = result.summary.get("elapsed_seconds")
    atomic_write_text(tmp / ROW_FILE, json.dumps(json_ready(row), indent=1))


def interrupted_key(key: str) -> str:
    """Return a new key for a plan of scenario ``key`` stopped before the end.

    Examples
    --------
    >>> a, b = interrupted_key("0" * 64), interrupted_key("0" * 64)
    >>> len(a) == 64 and a != b
    True
    """
    return hashlib.sha256(f"{key}:interrupted:{uuid.uuid4().hex}".encode()).hexdigest()


def _solve_in_worker(
    instance: Instance,
    options: SolveOptions,
    what: dict[str, Any],
    folder: str,
    messages: Any,
    stop: Any,
) -> None:
    """Solve a scenario and save it (the worker process's whole life)."""
    import signal

    # Ctrl-C in the server's terminal reaches the whole process group: the server stops
    # its jobs through the stop event, so the worker itself ignores SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stack = ExitStack()  # the solve's workbook, removed at the end
    try:
        from talentplan.data.io import load_instance, write_instance
        from talentplan.errors import InfeasiblePlanError, NoSolutionError, SolverError
        from talentplan.report.pipeline import solve
        from talentplan.solver.deadline import Deadline
        from talentplan.solver.highs import Progress
        from talentplan.web.store import INSTANCE_FILE, ScenarioStore

        last = [0.0]

        def show(p: Progress) -> None:
            now = time.monotonic()
            if now - last[0] < 0.25 and p.phase == "search":
                return
            last[0] = now
            messages.put(
                (
                    "progress",
                    {
                        "phase": p.phase,
                        "stage": p.stage,
                        "seconds": round(p.seconds, 1),
                        "objective": _finite(p.objective),
                        "bound": _finite(p.bound),
                        "gap": _finite(p.gap),
                    },
                )
            )

        # The deadline of ``talentplan solve --time-limit`` (the limit counts up to the
        # files), so that the manifest's command repeats this very solve.
        deadline = Deadline.up_to_files(options.time_limit)
        # The solve reads the scenario's workbook back, as ``talentplan solve
        # instance.xlsx`` does: a workbook keeps 15 significant digits, and an edited
        # amount (3717 x 0.8) may have more.
        workbook = Path(stack.enter_context(tempfile.TemporaryDirectory())) / INSTANCE_FILE
        write_instance(instance, workbook, overwrite=True)
        instance = load_instance(str(workbook))
        deadline.keep_for_files(len(instance.counties))
        try:
            result = solve(
                instance,
                **asdict(options),
                progress=show,
                stop=stop,
                deadline=deadline,
                compare=True,
            )
        except InfeasiblePlanError as exc:
            messages.put(("error", f"no plan satisfies every rule:\n{exc.explanation}"))
            return
        except NoSolutionError as exc:
            state = "cancelled" if stop.is_set() else "error"
            messages.put((state, f"no plan found: {exc}"))
            return
        except SolverError as exc:
            messages.put(("error", f"the solver failed: {exc}"))
            return
        messages.put(("progress", {"phase": "writing the files"}))
        if result.status.value == "interrupted":
            # Not the scenario's answer: saved under a key of its own, so that the
            # scenario solved to the end later (by the page or a sweep) has its key.
            what = {**what, "scenario_key": what["key"], "key": interrupted_key(what["key"])}
        store = ScenarioStore(folder)
        name = scenario_folder(what["key"])
        folder_path = store.root / name

        def fill(tmp: Path) -> None:
            _write_scenario(tmp, folder_path, result, what, instance, workbook, options)

        saved = store.save(name, fill)
        messages.put(("done", {"status": result.status.value, "saved": saved, "key": name}))
    except BaseException as exc:  # the page must hear of any failure
        tail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        messages.put(("error", f"the solve failed: {tail}"))
    finally:
        stack.close()


class JobManager:
    """The page's solves: start, follow, cancel.

    Parameters
    ----------
    folder
        The page's folder (its ``scenarios/`` is where the workers save).
    source
        How the page's instance was named (recorded in each scenario's files).
    """

    def __init__(self, folder: str | Path, source: str) -> None:
        self.folder = str(folder)
        self.source = source
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._followers: list[threading.Thread] = []

    def start(
        self,
        instance: Instance,
        options: SolveOptions,
        *,
        key: str,
        name: str,
        objective: str,
        changes: Mapping[str, str],
    ) -> Job:
        """Start solving ``instance`` in a new worker process; return its job.

        ``key`` is the scenario's whole key (:func:`~talentplan.scenarios.sweep.scenario_key`).
        """
        job = Job(uuid.uuid4().hex, name, scenario_folder(key), time_limit=options.time_limit)
        what = {
            "name": name,
            "job": job.id,
            "key": key,
            "objective": objective,
            "changes": dict(changes),
            "source": self.source,
        }
        messages = _CONTEXT.Queue()
        stop = _CONTEXT.Event()
        process = _CONTEXT.Process(
            target=_solve_in_worker,
            args=(instance, options, what, self.folder, messages, stop),
            name=f"talentplan-solve-{job.id[:8]}",
        )
        job._process, job._stop = process, stop
        process.start()  # registered once started: a job that never ran holds no slot
        with self._lock:
            self.jobs[job.id] = job
            self._followers = [t for t in self._followers if t.is_alive()]
        follower = threading.Thread(
            target=self._follow, args=(job, messages), name=f"follow-{job.id[:8]}", daemon=True
        )
        self._followers.append(follower)
        follower.start()
        return job

    def get(self, job_id: str) -> Job | None:
        """Return the job ``job_id``, or None (no such job, or forgotten: :data:`KEEP_ENDED`)."""
        with self._lock:
            return self.jobs.get(job_id)

    def cancel(self, job_id: str) -> Job | None:
        """Ask job ``job_id`` to stop: the best plan so far is saved, marked interrupted."""
        job = self.get(job_id)
        stop = None if job is None else job._stop  # None once the job has ended
        if job is not None and job.state not in FINAL and stop is not None:
            stop.set()
            job.message = "stopping: the best plan so far will be saved"
        return job

    def running(self) -> list[Job]:
        """Jobs that have not ended."""
        with self._lock:
            return [j for j in self.jobs.values() if j.state not in FINAL]

    def shutdown(self, wait: float = 10.0) -> None:
        """Stop every running job, wait up to ``wait`` seconds, then kill what is left."""
        jobs = self.running()
        for job in jobs:
            stop = job._stop
            if stop is not None:
                stop.set()
        deadline = time.monotonic() + wait
        for job in jobs:
            try:
                job._process.join(max(0.0, deadline - time.monotonic()))
                if job._process.is_alive():
                    job._process.kill()
                    job._process.join(5)
            except ValueError:  # closed by its follower meanwhile: it has ended
                continue
        for thread in list(self._followers):
            thread.join(max(1.0, deadline - time.monotonic()))
        gc.collect()  # release the jobs' semaphores before the process exits

    def _follow(self, job: Job, messages: Any) -> None:
        """Read the worker's messages into ``job`` until it ends (a thread).

        Whatever goes wrong here ends the job in state ``error`` (it never stays
        ``running``), and the worker's process and queue are closed, so that a server
        that runs for months does not run out of file descriptors.
        """
        process = job._process
        try:
            self._read(job, messages, process)
        except Exception as exc:  # the job must end, whatever the worker sent
            job.state = "error"
            job.message = f"the page lost the solver process: {exc!r}"
            if process.is_alive():
                process.kill()
        process.join(10)
        if not process.is_alive():
            process.close()
        # Drop the queue and the event now: their semaphores are released when they are
        # collected, not at the server's exit (which may skip finalisers).
        messages.close()
        job._stop = None
        job.ended = time.monotonic()
        self._forget_ended()

    def _forget_ended(self) -> None:
        """Forget the jobs that ended before the latest :data:`KEEP_ENDED` to end."""
        with self._lock:
            ended = sorted(
                (j for j in self.jobs.values() if j.ended is not None), key=lambda j: j.ended or 0
            )
            for job in ended[: max(0, len(ended) - KEEP_ENDED)]:
                del self.jobs[job.id]

    def _read(self, job: Job, messages: Any, process: Any) -> None:
        """Read progress into ``job`` until the worker says it is done or dies."""
        limit = math.inf if job.time_limit is None else job.time_limit + GRACE_SECONDS
        job.state = "running"
        while True:
            try:
                kind, body = messages.get(timeout=0.2)
            except queue_module.Empty:
                if not process.is_alive():
                    try:
                        kind, body = messages.get(timeout=0.5)
                    except queue_module.Empty:
                        job.state = "error"
                        job.message = (
                            f"the solver process stopped unexpectedly (exit code "
                            f"{process.exitcode}); no plan was saved"
                        )
                        break
                elif time.monotonic() - job.started > limit:
                    job._stop.set()
                    process.join(5)
                    if process.is_alive():
                        process.kill()
                    job.state = "error"
                    job.message = (
                        f"the solve overran its time limit by {GRACE_SECONDS:g} s and was stopped"
                    )
                    break
                else:
                    continue
            if kind == "progress":
                job.progress = {**job.progress, **cast(dict[str, Any], body)}
                continue
            if kind == "done":
                job.state = "done"
                job.plan_status = body["status"]
                job.key = body["key"]
                job.message = "" if body["saved"] else "solved already: the saved plan is shown"
            else:
                job.state = kind
                job.message = str(body)
            break
