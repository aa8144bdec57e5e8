"""A drawing worker of :class:`tiltak.report.drawing.FigurePool`: ``python -m tiltak.report.draw_worker``.

Reads pickled :class:`~tiltak.report.drawing.FigureJob` objects from stdin until it closes and
answers each with a pickled ``(True, svg)``, or ``(False, reason)`` when the drawing raised.
Anything else written to stdout goes to stderr, so the answers stay whole.
"""

from __future__ import annotations

import os
import pickle
import sys

from tiltak.report.drawing import draw


def serve(jobs, answers) -> None:
    """Draw every job read from ``jobs`` and write its answer to ``answers`` (binary streams)."""
    import matplotlib.backends.backend_svg  # noqa: F401  imported while the parent still works

    while True:
        try:
            job = pickle.load(jobs)
        except EOFError:
            return
        try:
            answer = (True, draw(job))
        except Exception as exc:  # the parent draws it again itself and raises there
            answer = (False, f"{type(exc).__name__}: {exc}")
        pickle.dump(answer, answers, protocol=pickle.HIGHEST_PROTOCOL)
        answers.flush()


def main() -> None:
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
