"""Estimate on a copy of the store in a worker process while this process monitors.

The estimates read the registers and the person-month panel, never what monitoring writes,
so they can be made before monitoring as well as after it (the same objects, pickled byte
for byte). :class:`EstimatesAside` copies the store as loaded, starts
``python -m tiltak.estimate_worker`` on the copy (the loaded models handed over pickled) and, when asked for the results, writes
them into the store itself (``merge_estimates``, as :func:`tiltak.pipeline.run_estimates`
does). Should the worker fail for any reason, the estimates are made here instead, so an
error is raised here with its own message.
"""

from __future__ import annotations

import pickle
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monitoring.store import Store
from tiltak import worker_process
from tiltak.estimating import ModelToEstimate
from tiltak.evaluation.estimates_table import merge_estimates
from tiltak.evaluation.verdicts import VerdictRules


class EstimatesAside:
    """The estimates of the loaded models ``inputs`` (``tiltak.pipeline.EvaluationInput``), made
    in a worker on a copy of ``db``; a context manager that removes the copy and stops the
    worker on leaving."""

    def __init__(self, db: Path, inputs: Sequence[Any], seed: int, rules: VerdictRules) -> None:
        # beside the store (mode 0700), not in the system's temporary folder: a copy left by a
        # killed run stays where the store is, under the same protection, and is seen there
        self._folder = Path(tempfile.mkdtemp(prefix=".tiltak-estimates-", dir=db.parent))
        copy = self._folder / db.name
        for suffix in ("", ".wal"):  # a write-ahead log not yet checkpointed belongs to the store
            if Path(f"{db}{suffix}").exists():
                shutil.copyfile(f"{db}{suffix}", f"{copy}{suffix}")
        self._worker = worker_process.start("tiltak.estimate_worker")
        models = [ModelToEstimate(i.path, i.model, i.outcomes) for i in inputs]
        request = (str(copy), models, seed, rules)
        try:
            pickle.dump(request, self._worker.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self._worker.stdin.close()
        except OSError:
            pass  # the worker is gone: results() estimates here

    def results(self, db: Path, inputs: Sequence[Any]) -> dict[str, list[Any]] | None:
        """The worker's estimates, written into ``db``; None (nothing written) when the worker
        failed or estimated other models than ``inputs``."""
        try:
            results = pickle.load(self._worker.stdout)
        except (OSError, EOFError, pickle.PickleError, AttributeError, ImportError):
            results = None
        if self._worker.wait() != 0 or not isinstance(results, dict) or \
                list(results) != [i.model.id for i in inputs]:
            return None
        with Store.open(db, analysis=True) as store:
            merge_estimates(store, results, {i.model.id: i.model.measure for i in inputs})
        return results

    def __enter__(self) -> "EstimatesAside":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._worker.poll() is None:
            self._worker.kill()
        self._worker.wait()
        self._worker.stdout.close()
        shutil.rmtree(self._folder, ignore_errors=True)
