"""The estimation worker: ``python -m tiltak.estimate_worker``.

Reads one pickled request from stdin, ``(store, models, seed, rules, read_only)`` (``models``:
the loaded models as :class:`tiltak.estimating.ModelToEstimate`), estimates every model's
design on that store as :func:`tiltak.pipeline.run_estimates` does (Holm-adjusted, in that
order) and writes the results, pickled, to stdout. It imports what estimation needs, not the
pipeline, and does so before it reads the request (DuckDB and pyarrow too, which estimation
imports on first use): a worker started early (:func:`tiltak.worker_process.prestart_when_idle`)
has its imports done when the request comes. ``read_only``: the store is opened read-only,
beside the other processes reading it (:func:`tiltak.estimating.estimate_store`); else it is a
copy of the worker's own whose schema it brings up to date
(:class:`tiltak.estimates_aside.EstimatesAside`).

Started by :class:`tiltak.estimating.EstimateWorker`. A failure ends the worker with exit code
1 and nothing printed: the process that asked estimates those models itself and raises the
error with its own message. An empty request (standard input closed at once) ends it too.
"""

from __future__ import annotations

import os
import pickle
import sys

from tiltak.estimating import estimate_all


def main() -> None:
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # anything printed stays out of the answer
    try:
        _imports()
        db, models, seed, rules, read_only = pickle.load(sys.stdin.buffer)
        results = estimate_all(db, models, seed, rules, read_only=read_only)
    except BaseException:  # noqa: BLE001 - the asking process estimates these models again and says why
        os._exit(1)
    pickle.dump(results, answers, protocol=pickle.HIGHEST_PROTOCOL)
    answers.close()


def _imports() -> tuple[object, ...]:
    """The libraries the estimation imports on first use, imported before the request."""
    import duckdb
    import pyarrow

    return duckdb, pyarrow


if __name__ == "__main__":
    main()
