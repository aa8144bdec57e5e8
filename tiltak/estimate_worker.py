"""The worker of :class:`tiltak.estimates_aside.EstimatesAside`: ``python -m tiltak.estimate_worker``.

Reads one pickled request from stdin, ``(store, models, seed, rules)`` (``models``: the
loaded models as :class:`tiltak.estimating.ModelToEstimate`), estimates every model's design
on that store as :func:`tiltak.pipeline.run_estimates` does (Holm-adjusted, in that order)
and writes the results, pickled, to stdout. It imports what estimation needs, not the pipeline.
"""

from __future__ import annotations

import os
import pickle
import sys

from tiltak.estimating import estimate_all


def main() -> None:
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # anything printed stays out of the answer
    db, models, seed, rules = pickle.load(sys.stdin.buffer)
    results = estimate_all(db, models, seed, rules)
    pickle.dump(results, answers, protocol=pickle.HIGHEST_PROTOCOL)
    answers.close()


if __name__ == "__main__":
    main()
