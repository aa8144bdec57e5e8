"""How many threads the compiled loops of the estimators use, and the pools that run them."""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


def threads() -> int:
    """Threads for the compiled loops: the CPUs this process may use (TILTAK_THREADS caps it)."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        available = os.cpu_count() or 1
    cap = os.environ.get("TILTAK_THREADS", "")
    return max(1, min(available, int(cap))) if cap.isdigit() and int(cap) > 0 else available


class ContextPool(ThreadPoolExecutor):
    """A thread pool whose every call (``submit``, and ``map`` through it) runs in a copy of
    the submitting thread's context variables, as a call in that thread would: NumPy's data
    memory handler is one (:mod:`estimation.block_cache`), and plain pools run their calls
    in the worker thread's own context."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


def context_pool(workers: int) -> ContextPool:
    """A pool of ``workers`` threads running each call in a copy of the caller's context."""
    return ContextPool(max_workers=workers)


SIDE_FROM = 50_000
"""Units from which :func:`side_thread` gives a worker thread (below, the hand-over costs
more than the work it moves)."""


@contextmanager
def side_thread(n: int) -> Iterator[ContextPool | None]:
    """One worker thread beside this one for work on ``n`` units (None below
    :data:`SIDE_FROM` units or on one CPU), shut down when the block ends."""
    pool = context_pool(1) if n >= SIDE_FROM and threads() >= 2 else None
    try:
        yield pool
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def soon(pool: ThreadPoolExecutor | None, function: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    """``function(*args)`` on the pool, or here and now without one; returns a callable that
    gives its result (or raises its error) when asked."""
    if pool is not None:
        return pool.submit(function, *args).result
    try:
        value = function(*args)
    except Exception as error:  # raised when asked, as from the pool
        failure = error

        def fail():
            raise failure
        return fail
    return lambda: value
