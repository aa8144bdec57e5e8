"""How many threads the compiled loops of the estimators use, and the pools that run them."""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable
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
