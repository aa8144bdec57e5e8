"""Worker processes of tiltak: ``python -m MODULE`` with this Python and the folder that holds
this ``tiltak`` first on its path, spoken to through its standard input and output.

A command that will likely want a worker may :func:`prestart` it as it begins: the worker's
Python and imports (about 1.2 CPU s for the estimate worker) then run on another CPU while this
process imports and reads its own inputs, and the next :func:`start` of that module takes it.
A spare never taken is killed by :func:`drop_spares` (and at this process's exit). Workers read
their request from standard input only when it comes, so a spare and a fresh start do the same.
"""

from __future__ import annotations

import atexit
import math
import os
import subprocess
import sys
from pathlib import Path

from estimation.threads import threads

ESTIMATE_WORKER = "tiltak.estimate_worker"
"""The estimate worker's module (:class:`tiltak.estimating.EstimateWorker`)."""

_spares: dict[str, list[subprocess.Popen[bytes]]] = {}


def start(module: str) -> subprocess.Popen[bytes]:
    """``python -m module`` (pipes on stdin and stdout; stderr is this process's): a spare of it
    started by :func:`prestart` if one is left, else a new process."""
    spares = _spares.get(module)
    while spares:
        process = spares.pop(0)
        if process.poll() is None:
            return process
        _close(process)  # a spare that died (killed from outside): not handed out
    return _popen(module)


def prestart(module: str) -> None:
    """Start ``python -m module`` now, to be taken by this process's next :func:`start` of it."""
    if not _spares:
        atexit.register(drop_spares)
    _spares.setdefault(module, []).append(_popen(module))


def prestart_when_idle(module: str) -> None:
    """:func:`prestart` ``module`` when work will likely be shared out: :func:`processes` says a
    CPU is not wholly busy (``tiltak estimate`` calls it for :data:`ESTIMATE_WORKER` before its
    own imports)."""
    if processes() > 1:
        prestart(module)


def drop_spares() -> None:
    """Kill every spare not taken and close its pipes."""
    for spares in _spares.values():
        while spares:
            process = spares.pop()
            if process.poll() is None:
                process.kill()
            _close(process)


def processes() -> int:
    """Processes to share work out over: this process and one more per CPU not wholly busy,
    of the CPUs this process may use (``TILTAK_THREADS`` caps them); busy: the load average of the
    last minute (which counts a run that just ended). A worker costs 1 to 2.5 CPU s (its start,
    its imports, its own reading of the store); when every CPU is busy it cannot shorten the
    wait, it only lengthens the other work's."""
    cpus = threads()
    try:
        idle = cpus - os.getloadavg()[0]
    except OSError:  # pragma: no cover - no load average: the CPUs counted alone
        idle = cpus - 1
    return max(1, min(cpus, 1 + math.ceil(max(idle, 0.0))))


def _popen(module: str) -> subprocess.Popen[bytes]:
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, "-m", module], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)


def _close(process: subprocess.Popen[bytes]) -> None:
    process.wait()
    for pipe in (process.stdin, process.stdout):
        try:
            if pipe is not None:
                pipe.close()
        except OSError:  # pragma: no cover - a pipe already broken
            pass
