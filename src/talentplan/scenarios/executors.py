"""Where the scenarios of a sweep run: a small interface and a local process pool.

An :class:`Executor` runs one function over many independent tasks and yields an
:class:`Outcome` for each as soon as it finishes, in any order. The contract a sweep
relies on, and any further executor (a Dask cluster) must keep:

- every task yields exactly one outcome, unless the run is stopped; then tasks not
  finished yield nothing (they are not done, and a later run does them);
- a task whose worker process dies is run once more; if it dies again its outcome is
  a failure with the reason; an exception raised by the function is a failure at once
  (running it again would raise again);
- ``stop`` set: no task starts any more, and the run returns promptly.

:class:`LocalPool` runs the tasks on a :class:`concurrent.futures.ProcessPoolExecutor`
whose processes are started with ``spawn`` (no state forked from the caller, safe with
threads). Workers ignore SIGINT: Ctrl-C in a terminal reaches every process of the
group, and it is the caller, not the workers, that decides to stop. When a worker dies
with several tasks in flight, the pool cannot tell which task killed it; the tasks lost
are then run one at a time, so each death is charged to the task that caused it.

:class:`DaskExecutor` runs them on a Dask cluster given by its scheduler's address
(the optional extra ``dask``: ``pip install talentplan[dask]``), or on a
``LocalCluster`` it starts on loopback (:meth:`DaskExecutor.local`). There the scheduler
decides how often a task whose worker died is run again: its
``distributed.scheduler.allowed-failures`` (Dask's default 3; set it to 1 on the
scheduler for this module's "once more"); a task past it is a failure with the reason.
Start the workers with one thread each (``dask worker ADDRESS --nthreads 1``), since a
solve is not meant to share its process, and give them the sweep's folder on a shared
file system: the workers write the plans.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from talentplan._options import check_number

__all__ = ["DaskExecutor", "Executor", "LocalPool", "Outcome", "default_workers"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

POLL_SECONDS = 0.2
"""How often a waiting run looks at its stop event."""


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """What became of one task.

    Attributes
    ----------
    index
        Position of the task in the sequence given to :meth:`Executor.run`.
    value
        The function's return value; None when it failed.
    error
        Why the task failed (a worker died twice, or the function raised); None when
        it succeeded.
    attempts
        Times the task was started: 1, or more when a worker died under it (a task
        lost beside others is started again without being charged for it).
    """

    index: int
    value: R | None
    error: str | None = None
    attempts: int = 1


class Executor(Protocol):
    """Runs one function over independent tasks (see the module for the contract)."""

    workers: int

    def run(
        self,
        fn: Callable[[Any], R],
        tasks: Sequence[Any],
        *,
        stop: threading.Event | None = None,
    ) -> Iterator[Outcome[R]]:
        """Yield an :class:`Outcome` per task as each finishes."""
        ...


def default_workers(n_tasks: int | None = None) -> int:
    """Return the default number of worker processes.

    The cores this process may run on (its CPU affinity where the system reports it,
    else :func:`os.cpu_count`), at most ``n_tasks``. Each worker runs one solver thread,
    so this keeps every core busy without oversubscribing them.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, n_tasks if n_tasks else cores))


def _ignore_interrupts() -> None:
    """Initialise a worker: the caller decides about Ctrl-C, not the worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalPool:
    """Run tasks on a local pool of ``workers`` processes (started with ``spawn``).

    Parameters
    ----------
    workers
        Number of processes (>= 1); default :func:`default_workers`.
    """

    def __init__(self, workers: int | None = None) -> None:
        if workers is not None:
            check_number("workers", workers, low=1, integer=True)
        self.workers = workers if workers is not None else default_workers()

    def _pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_ignore_interrupts,
        )

    def run(
        self,
        fn: Callable[[Any], R],
        tasks: Sequence[Any],
        *,
        stop: threading.Event | None = None,
    ) -> Iterator[Outcome[R]]:
        """Yield an :class:`Outcome` per task as each finishes (see the module's contract).

        Parameters
        ----------
        fn
            A function importable by name (it is sent to the worker processes).
        tasks
            Its arguments, one per task; each must pickle.
        stop
            Once set, no task starts; running tasks are abandoned (their worker
            processes ended) and the run returns without their outcomes.
        """
        queue: deque[int] = deque(range(len(tasks)))
        alone: deque[int] = deque()  # tasks lost beside others: rerun one at a time
        charged = [0] * len(tasks)  # deaths known to be the task's own
        started = [0] * len(tasks)
        pool = self._pool()
        running: dict[Future[R], int] = {}
        try:
            while queue or alone or running:
                if stop is not None and stop.is_set():
                    return
                limit = 1 if alone else self.workers
                while len(running) < limit and (alone or queue) and not (alone and running):
                    n = alone.popleft() if alone else queue.popleft()
                    running[pool.submit(fn, tasks[n])] = n
                    started[n] += 1
                done, _ = wait(running, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
                broken = False
                lost = []
                for future in done:
                    n = running.pop(future)
                    try:
                        value = future.result()
                    except BrokenProcessPool:
                        broken = True
                        lost.append(n)
                        continue
                    except Exception as exc:  # the function raised: no point running it again
                        reason = f"{type(exc).__name__}: {exc}"
                        logger.warning("task %d failed: %s", n, reason)
                        yield Outcome(n, None, reason, started[n])
                        continue
                    yield Outcome(n, value, None, started[n])
                if not broken:
                    continue
                # Every task in flight is lost with the pool; start a new one.
                lost += list(running.values())
                running.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = self._pool()
                if len(lost) > 1:
                    alone.extend(sorted(lost))
                    continue
                n = lost[0]
                charged[n] += 1
                if charged[n] >= 2:
                    reason = "its worker process died twice (killed, out of memory, or crashed)"
                    logger.warning("task %d failed: %s", n, reason)
                    yield Outcome(n, None, reason, started[n])
                else:
                    logger.warning("task %d: its worker process died; running it again", n)
                    alone.appendleft(n)
        finally:
            _end(pool, abandon=bool(running))


def _end(pool: ProcessPoolExecutor, *, abandon: bool) -> None:
    """Shut ``pool`` down; with tasks still running, end its processes first."""
    if abandon:
        for process in list(getattr(pool, "_processes", {}).values()):
            if process.is_alive():
                process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def _without_dask(option: str, value: Any) -> Exception:
    """Return the error of an option that needs the extra ``dask`` when it is missing."""
    from talentplan.errors import OptionError

    return OptionError(
        f"{option}: running on a Dask cluster needs dask and distributed; "
        "install them with pip install 'talentplan[dask]'.",
        option=option,
        value=value,
        expected="dask and distributed installed",
    )


class DaskExecutor:
    """Run tasks on a Dask cluster (see the module for what the scheduler decides).

    Parameters
    ----------
    scheduler
        The scheduler's address (``tcp://host:8786``), or a ``distributed.Client``
        (then left open by :meth:`close`).

    Raises
    ------
    OptionError
        When Dask's ``distributed`` is not installed (the extra ``dask``).
    """

    def __init__(self, scheduler: Any) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise _without_dask("scheduler", scheduler) from None
        self._own = not isinstance(scheduler, Client)
        self._cluster: Any = None
        self.client = Client(scheduler) if self._own else scheduler
        threads = self.client.nthreads()
        if any(n > 1 for n in threads.values()):
            logger.warning(
                "Dask workers with more than one thread run solves side by side in one "
                "process; start them with --nthreads 1"
            )
        self.workers = max(1, sum(threads.values()))

    def run(
        self,
        fn: Callable[[Any], R],
        tasks: Sequence[Any],
        *,
        stop: threading.Event | None = None,
    ) -> Iterator[Outcome[R]]:
        """Yield an :class:`Outcome` per task as each finishes (see the module's contract).

        At most as many tasks are in flight as the cluster has worker threads. Once
        ``stop`` is set the tasks not finished are cancelled and the run returns; a task
        already running on a worker may still finish and write its result. The
        ``attempts`` of an outcome are 1, or 2 for a task the scheduler gave up on.
        """
        from distributed.scheduler import KilledWorker

        queue = deque(range(len(tasks)))
        pending: dict[Any, int] = {}
        try:
            while queue or pending:
                if stop is not None and stop.is_set():
                    return
                # As many tasks in flight as the cluster has threads: a worker that dies
                # takes only its own task with it, and nothing waits in a worker's queue.
                slots = max(1, sum(self.client.nthreads().values()))
                while queue and len(pending) < slots:
                    n = queue.popleft()
                    pending[self.client.submit(fn, tasks[n], pure=False, retries=0)] = n
                done = [f for f in pending if f.done()]
                if not done:
                    time.sleep(POLL_SECONDS)
                    continue
                for future in done:
                    n = pending.pop(future)
                    try:
                        value = future.result()
                    except KilledWorker as exc:
                        reason = f"its worker process died too often ({exc})"
                        yield Outcome(n, None, reason, 2)
                        continue
                    except Exception as exc:
                        yield Outcome(n, None, f"{type(exc).__name__}: {exc}", 1)
                        continue
                    yield Outcome(n, value, None, 1)
        finally:
            if pending:
                self.client.cancel(list(pending))

    @classmethod
    def local(cls, workers: int, log_level: int | None = None) -> DaskExecutor:
        """Start a Dask ``LocalCluster`` on loopback and run on it (closed by :meth:`close`).

        ``workers`` worker processes with one thread each, bound to 127.0.0.1, without a
        dashboard; each worker is watched by a nanny that starts a new one if it dies.
        ``log_level`` sets the level of Dask's ``distributed`` log in this process (its
        scheduler and nannies run here); None leaves Dask's own (INFO).

        Raises
        ------
        OptionError
            When Dask's ``distributed`` is not installed (the extra ``dask``).
        """
        try:
            from distributed import LocalCluster
        except ImportError:
            raise _without_dask("dask_workers", workers) from None
        if log_level is not None:
            logging.getLogger("distributed").setLevel(log_level)
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        try:
            executor = cls(cluster.scheduler_address)
        except BaseException:
            cluster.close()
            raise
        executor._cluster = cluster
        return executor

    def close(self) -> None:
        """Close the client this executor opened (not one it was given), and its cluster."""
        if self._own:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
