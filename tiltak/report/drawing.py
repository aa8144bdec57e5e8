"""Who draws the report's figures: this process, or worker processes; the same SVG either way.

A figure is a :class:`FigureJob`, the name of a drawing function of
:mod:`tiltak.report.figures` and its arguments (plain data that pickles). A drawer has two
calls: ``ask(job)`` hands the job over and returns a handle, ``take(handle)`` returns the SVG.

* :class:`HereDrawer` draws in ``take``, in this process, in the order asked.
* :class:`FigurePool` draws in worker processes. They start when the pool is made and
  import matplotlib there while the caller works; each job is drawn once, kept by its
  pickled bytes, so a figure asked for early (the indicator charts, while the estimates
  run) is taken when the report asks for the same job again. A job whose data changed
  meanwhile pickles differently and is drawn anew.

The figures are deterministic (fixed hash salt, no date, ``figures.STYLE`` set inside each
call), so the process that draws one changes no byte of it.
"""

from __future__ import annotations

import os
import pickle
import queue
import subprocess
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from tiltak import worker_process
from tiltak.report import figures


@dataclass(frozen=True)
class FigureJob:
    """One figure: ``function`` of :mod:`tiltak.report.figures` called with ``args``."""

    function: str
    args: tuple[Any, ...]


def draw(job: FigureJob) -> str:
    """The SVG text of one figure, drawn in this process."""
    return getattr(figures, job.function)(*job.args)


class HereDrawer:
    """Draws each figure in this process when it is taken."""

    def ask(self, job: FigureJob) -> FigureJob:
        return job

    def take(self, handle: FigureJob) -> str:
        return draw(handle)

    def __enter__(self) -> "HereDrawer":
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def worker_count() -> int:
    """Worker processes worth starting: the CPUs this process may use, at most 2; 0 on one CPU."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return 0 if cpus < 2 else 2


class WorkerFailed(Exception):
    """A worker could not draw a job (it died, or the drawing raised there)."""


class FigurePool:
    """Draws figures in worker processes (``python -m tiltak.report.draw_worker``, each fed
    by a thread of this process from one queue); a context manager that stops them on leaving.

    A job a worker fails to draw is drawn here when taken, so an error is raised here, with
    its own traceback, and a lost worker costs time, not the report.
    """

    def __init__(self, workers: int) -> None:
        self._queue: queue.SimpleQueue[tuple[FigureJob, Future[str]] | None] = queue.SimpleQueue()
        self._drawn: dict[bytes, tuple[FigureJob, Future[str]]] = {}
        self._workers = [worker_process.start("tiltak.report.draw_worker") for _ in range(workers)]
        self._feeders = [threading.Thread(target=self._feed, args=(w,), daemon=True) for w in self._workers]
        for feeder in self._feeders:
            feeder.start()

    def ask(self, job: FigureJob) -> tuple[FigureJob, Future[str]]:
        key = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        if key not in self._drawn:
            self._drawn[key] = (job, Future())
            self._queue.put(self._drawn[key])
        return self._drawn[key]

    def take(self, handle: tuple[FigureJob, Future[str]]) -> str:
        job, future = handle
        try:
            return future.result()
        except WorkerFailed:
            return draw(job)

    def _feed(self, worker: subprocess.Popen[bytes]) -> None:
        while (item := self._queue.get()) is not None:
            job, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                pickle.dump(job, worker.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                worker.stdin.flush()
                drawn, svg = pickle.load(worker.stdout)
            except (OSError, EOFError, pickle.PickleError) as exc:  # the worker is gone: the rest is drawn here
                future.set_exception(WorkerFailed(str(exc)))
                break
            if drawn:
                future.set_result(svg)
            else:
                future.set_exception(WorkerFailed(svg))

    def __enter__(self) -> "FigurePool":
        return self

    def __exit__(self, *exc: object) -> None:
        for _, future in self._drawn.values():
            future.cancel()  # not started yet: no worker takes it
        for _ in self._feeders:
            self._queue.put(None)
        for feeder in self._feeders:
            feeder.join()
        for worker in self._workers:
            _stop_worker(worker)


def _stop_worker(worker: subprocess.Popen[bytes]) -> None:
    for stream in (worker.stdin, worker.stdout):
        try:
            stream.close()
        except OSError:
            pass
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def drawer_for_this_machine() -> FigurePool | HereDrawer:
    """A :class:`FigurePool` when there are CPUs to spare, else a :class:`HereDrawer`."""
    workers = worker_count()
    if not workers:
        return HereDrawer()
    try:
        return FigurePool(workers)
    except OSError:  # no process can be started here: draw in this one
        return HereDrawer()
