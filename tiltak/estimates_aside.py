"""Estimate on a copy of the store in a worker process while this process monitors.

The estimates read the registers and the person-month panel, never what monitoring writes,
so they can be made before monitoring as well as after it (the same objects, pickled byte
for byte). :class:`EstimatesAside` copies the store as loaded, starts a
:class:`tiltak.estimating.EstimateWorker` on the copy (the loaded models handed over pickled)
and, when asked for the results, writes them into the store itself (``merge_estimates``, as
:func:`tiltak.pipeline.run_estimates` does). Should the worker fail for any reason, the
estimates are made here instead, so an error is raised here with its own message.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monitoring.store import Store
from tiltak.estimating import EstimateWorker
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
        self._worker = EstimateWorker(copy, inputs, seed, rules, read_only=False)  # the copy is its own

    def results(self, db: Path, inputs: Sequence[Any]) -> dict[str, list[Any]] | None:
        """The worker's estimates, written into ``db``; None (nothing written) when the worker
        failed or estimated other models than ``inputs``."""
        results = self._worker.results()
        if results is None or list(results) != [i.model.id for i in inputs]:
            return None
        with Store.open(db, analysis=True) as store:
            merge_estimates(store, results, {i.model.id: i.model.measure for i in inputs})
        return results

    def __enter__(self) -> "EstimatesAside":
        return self

    def __exit__(self, *exc: object) -> None:
        self._worker.stop()
        shutil.rmtree(self._folder, ignore_errors=True)
