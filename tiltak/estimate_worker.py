"""The estimation worker: ``python -m tiltak.estimate_worker``.

Reads one pickled request from stdin, ``(store, models, seed, rules)`` (``models``: the
loaded models as :class:`tiltak.estimating.ModelToEstimate`), estimates every model's design
on that store as :func:`tiltak.pipeline.run_estimates` does (Holm-adjusted, in that order)
and writes the results, pickled, to stdout. It imports what estimation needs, not the pipeline.

Used by :class:`tiltak.estimates_aside.EstimatesAside` (on a copy of the store) and by
:func:`tiltak.estimating.estimate_store` (a share of the models on the store itself), which
adds a fifth item, True: the store is opened read-only, beside the other processes reading
it, and a failure ends the worker with exit code 1 and nothing printed, since the process that
asked estimates those models itself and raises the error with its own message.
"""

from __future__ import annotations

import os
import pickle
import sys

from tiltak.estimating import estimate_all


def main() -> None:
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # anything printed stays out of the answer
    db, models, seed, rules, *shared = pickle.load(sys.stdin.buffer)
    if not shared:
        results = estimate_all(db, models, seed, rules)
    else:
        try:
            results = estimate_all(db, models, seed, rules, read_only=True)
        except BaseException:  # noqa: BLE001 - the asking process estimates these models again and says why
            os._exit(1)
    pickle.dump(results, answers, protocol=pickle.HIGHEST_PROTOCOL)
    answers.close()


if __name__ == "__main__":
    main()
