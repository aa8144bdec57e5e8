"""How many threads the compiled loops of the estimators use."""

from __future__ import annotations

import os


def threads() -> int:
    """Threads for the compiled loops: the CPUs this process may use (TILTAK_THREADS caps it)."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        available = os.cpu_count() or 1
    cap = os.environ.get("TILTAK_THREADS", "")
    return max(1, min(available, int(cap))) if cap.isdigit() and int(cap) > 0 else available
