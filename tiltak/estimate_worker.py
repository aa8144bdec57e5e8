"""The estimation worker: ``python -m tiltak.estimate_worker``.

Reads one pickled request from stdin, ``(store, models, seed, rules, read_only)`` (``models``:
the loaded models as :class:`tiltak.estimating.ModelToEstimate`), estimates every model's
design on that store as :func:`tiltak.pipeline.run_estimates` does (Holm-adjusted, in that
order) and writes the results, pickled, to stdout. It imports what estimation needs, not the
pipeline, and does so before it reads the request: a worker started early (:func:`prestart`)
has its imports done when the request comes. ``read_only``: the store is opened read-only,
beside the other processes reading it (:func:`tiltak.estimating.estimate_store`); else it is a
copy of the worker's own whose schema it brings up to date
(:class:`tiltak.estimates_aside.EstimatesAside`).

Started by :class:`tiltak.estimating.EstimateWorker`. A failure ends the worker with exit code
1 and nothing printed: the process that asked estimates those models itself and raises the
error with its own message. An empty request (standard input closed at once) ends it too.

This module imports nothing heavy at its top, so that a command can call :func:`prestart`
before its own imports.
"""

from __future__ import annotations

import os
import pickle
import sys

MODULE = "tiltak.estimate_worker"


def prestart() -> None:
    """Start an estimate worker now when :func:`tiltak.estimating.estimate_store` will likely
    share the models out (a CPU not wholly busy: :func:`tiltak.worker_process.processes`): its
    Python and imports run beside this process's, and the first
    :class:`tiltak.estimating.EstimateWorker` takes it; one not taken is killed when the models
    have been shared out. Results do not depend on it."""
    from tiltak import worker_process

    if worker_process.processes() > 1:
        worker_process.prestart(MODULE)


def main() -> None:
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # anything printed stays out of the answer
    try:
        from tiltak.estimating import estimate_all

        _imports()
        db, models, seed, rules, read_only = pickle.load(sys.stdin.buffer)
        results = estimate_all(db, models, seed, rules, read_only=read_only)
    except BaseException:  # noqa: BLE001 - the asking process estimates these models again and says why
        os._exit(1)
    pickle.dump(results, answers, protocol=pickle.HIGHEST_PROTOCOL)
    answers.close()


def _imports() -> None:
    """The libraries the estimation imports on first use (DuckDB, pyarrow), imported now."""
    import importlib

    for name in ("duckdb", "pyarrow"):
        importlib.import_module(name)


if __name__ == "__main__":
    main()
