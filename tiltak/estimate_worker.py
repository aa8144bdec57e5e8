"""The worker of :class:`tiltak.estimates_aside.EstimatesAside`: ``python -m tiltak.estimate_worker``.

Reads one pickled request from stdin, ``(store, model paths, seed, rules)``, estimates every
model's design on that store as :func:`tiltak.pipeline.run_estimates` does (Holm-adjusted, in
the order the models load) and writes the results, pickled, to stdout.
"""

from __future__ import annotations

import os
import pickle
import sys


def main() -> None:
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # anything printed stays out of the answer
    db, model_paths, seed, rules = pickle.load(sys.stdin.buffer)

    from tiltak.pipeline import estimate_all, load_inputs

    results = estimate_all(db, load_inputs(model_paths), seed, rules)
    pickle.dump(results, answers, protocol=pickle.HIGHEST_PROTOCOL)
    answers.close()


if __name__ == "__main__":
    main()
