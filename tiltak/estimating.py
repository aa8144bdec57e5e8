"""Estimate every model's evaluation design on a store, nothing written.

Kept apart from :mod:`tiltak.pipeline` so that the estimation worker
(:mod:`tiltak.estimate_worker`) imports only what estimation needs.

The models are independent of each other (each reads its own measure's trials, Holm's
adjustment is within a model), so :func:`estimate_store` shares them out over the machine's
cores: this process estimates one share and ``python -m tiltak.estimate_worker`` each other,
every process on a read-only connection to the same store (DuckDB lets several processes read
a file no process writes). The results are put back in the order of the models; they are the
objects the one-process path makes (the same bytes pickled, the same rows in the store).
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitoring.store import Store
from tiltak import worker_process
from tiltak.worker_process import ESTIMATE_WORKER, processes
from tiltak.evaluation.estimate import estimate_model, tested_changes
from tiltak.evaluation.multiplicity import holm_adjust
from tiltak.evaluation.verdicts import VerdictRules

WORKER_START = 0.1
"""A worker's start (Python and the estimation imports, about 1.2 CPU s) as a share of the
whole work, when the models are shared out: this process has imported them already."""


@dataclass(frozen=True)
class ModelToEstimate:
    """What the estimation reads of a loaded model (``tiltak.pipeline.EvaluationInput`` has
    the same attributes, and more): its file, the frozen model, the catalogue's outcomes."""

    path: Path
    model: Any  # logicmodel.LogicModel
    outcomes: dict[str, Any]  # id -> tiltak.evaluation.outcomes.OutcomeSpec


def estimate_models(con: Any, inputs: Sequence[Any], seed: int = 0, rules: VerdictRules | None = None,
                    progress: Callable[[str], None] | None = None,
                    estimated: Callable[[Any, list[Any]], None] | None = None) -> dict[str, list[Any]]:
    """Every model's design estimated (Holm-adjusted) on the store's analysis connection ``con``,
    by model id in the order of ``inputs`` (``estimated(item, results)``: called after each)."""
    results: dict[str, list[Any]] = {}
    for item in inputs:
        if progress is not None:
            progress(f"estimating {item.model.id}")
        results[item.model.id] = holm_adjust(estimate_model(con, item.model, item.outcomes, seed, rules,
                                                            source=str(item.path)))
        if estimated is not None:
            estimated(item, results[item.model.id])
    return results


def estimate_all(db: str | Path, inputs: Sequence[Any], seed: int = 0,
                 rules: VerdictRules | None = None, read_only: bool = False) -> dict[str, list[Any]]:
    """:func:`estimate_models` on the store file ``db`` (``read_only``: its schema is up to date)."""
    with Store.open(Path(db), analysis=True, read_only=read_only, migrate=not read_only) as store:
        return estimate_models(store.connect(), inputs, seed, rules)


def estimate_store(db: Path, inputs: Sequence[Any], seed: int = 0, rules: VerdictRules | None = None,
                   progress: Callable[[str], None] | None = None,
                   estimated: Callable[[Any, list[Any]], None] | None = None) -> dict[str, list[Any]]:
    """:func:`estimate_models` on the store file ``db`` (its schema brought up to date first),
    the models shared out over :func:`processes` (one, or one model: all in this process).
    Results by model id in the order of ``inputs``; ``estimated`` is called for each in that
    order once all are made."""
    try:
        with Store.open(db, analysis=True) as store:
            shares = model_shares(store.connect(), inputs, processes())
            if len(shares) < 2:
                worker_process.drop_spares()
                return estimate_models(store.connect(), inputs, seed, rules, progress, estimated)
        with Store.open(db, analysis=True, read_only=True, migrate=False) as store:
            results = _estimate_shares(store.connect(), db, inputs, shares, seed, rules, progress)
    finally:
        worker_process.drop_spares()  # a spare worker (worker_process.prestart_when_idle) not taken
    if estimated is not None:
        for item in inputs:
            estimated(item, results[item.model.id])
    return results


def model_shares(con: Any, inputs: Sequence[Any], processes: int) -> list[list[int]]:
    """The models (indexes into ``inputs``) each process estimates, this process's share first:
    the largest first, each to the process with the least work so far (a worker starts with
    :data:`WORKER_START` of the whole). The work of a model: its measure's participants times
    the changes it tests. Empty shares are left out; one share when there is nothing to share."""
    ids = [item.model.id for item in inputs]
    if processes < 2 or len(inputs) < 2 or len(set(ids)) < len(ids):
        return [list(range(len(inputs)))]
    participants = _participants(con)
    work = [(participants.get(_measure(item), 0) + 1) * max(1, len(tested_changes(item.model))) for item in inputs]
    loads = [0.0] + [WORKER_START * sum(work)] * (min(processes, len(inputs)) - 1)
    shares: list[list[int]] = [[] for _ in loads]
    for index in sorted(range(len(inputs)), key=lambda i: -work[i]):  # stable: ties in the models' order
        least = min(range(len(loads)), key=lambda p: loads[p])
        shares[least].append(index)
        loads[least] += work[index]
    return [sorted(share) for share in shares if share]  # the first (the largest model's) is never empty


def _measure(item: Any) -> Any:
    design = item.model.evaluation
    return design.treatment.measure if design is not None else None


def _participants(con: Any) -> dict[Any, int]:
    """People who started each measure (the trials' participants, roughly); {} without the table."""
    import duckdb

    try:
        return dict(con.execute("SELECT measure, count(DISTINCT person_id) FROM participation GROUP BY measure").fetchall())
    except duckdb.Error:
        return {}


def _estimate_shares(con: Any, db: Path, inputs: Sequence[Any], shares: list[list[int]], seed: int,
                     rules: VerdictRules | None, progress: Callable[[str], None] | None) -> dict[str, list[Any]]:
    """The first share estimated here on ``con``, each other in a worker on ``db`` (read-only).
    A share whose worker fails is estimated here after the others; should this process's own
    share fail, everything is estimated here in order: an error is the one, with the same
    message, that the one-process path raises."""
    here, elsewhere = shares[0], shares[1:]
    workers = [EstimateWorker(db, [inputs[i] for i in share], seed, rules) for share in elsewhere]
    try:
        try:
            results = estimate_models(con, [inputs[i] for i in here], seed, rules, progress)
        except Exception:
            for worker in workers:
                worker.stop()
            return estimate_models(con, inputs, seed, rules, progress)
        failed: list[int] = []
        for worker, share in zip(workers, elsewhere):
            answer = worker.results()
            if answer is None:
                failed.extend(share)
                continue
            results.update(answer)
            for index in share:
                if progress is not None:
                    progress(f"estimated {inputs[index].model.id}")
        results.update(estimate_models(con, [inputs[i] for i in sorted(failed)], seed, rules, progress))
    finally:
        for worker in workers:
            worker.stop()
    return {item.model.id: results[item.model.id] for item in inputs}


class EstimateWorker:
    """``python -m tiltak.estimate_worker`` estimating ``inputs`` on the store ``db``: read-only
    beside other processes reading it, or (``read_only=False``) on a copy of its own, whose schema
    it brings up to date. The request is sent on a thread: one larger than a pipe's buffer waits
    for the worker's imports, not this process. A failed worker prints nothing; :meth:`results`
    says None and the asking process estimates those models itself (raising any error with its
    own message)."""

    def __init__(self, db: Path, inputs: Sequence[Any], seed: int, rules: VerdictRules | None,
                 read_only: bool = True) -> None:
        self._ids = [item.model.id for item in inputs]
        models = [ModelToEstimate(item.path, item.model, item.outcomes) for item in inputs]
        request = pickle.dumps((str(db), models, seed, rules or VerdictRules(), read_only), protocol=pickle.HIGHEST_PROTOCOL)
        self._process = worker_process.start(ESTIMATE_WORKER)
        self._sending = threading.Thread(target=self._send, args=(request,), daemon=True)
        self._sending.start()

    def _send(self, request: bytes) -> None:
        try:
            self._process.stdin.write(request)
            self._process.stdin.close()
        except OSError:
            pass  # the worker is gone: results() says so

    def results(self) -> dict[str, list[Any]] | None:
        """The worker's results; None when it failed or answered for other models."""
        try:
            answer = pickle.load(self._process.stdout)
        except (OSError, EOFError, pickle.PickleError, AttributeError, ImportError):
            answer = None
        if self._process.wait() != 0 or not isinstance(answer, dict) or list(answer) != self._ids:
            return None
        return answer

    def stop(self) -> None:
        """Kill the worker if it still runs, and close its pipes."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._sending.join()
        for pipe in (self._process.stdin, self._process.stdout):
            try:
                pipe.close()
            except OSError:  # the request not all sent: the worker was stopped before it read it
                pass
