"""Estimate every model's evaluation design on a store, nothing written.

Kept apart from :mod:`tiltak.pipeline` so that the estimation worker
(:mod:`tiltak.estimate_worker`) imports only what estimation needs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitoring.store import Store
from tiltak.evaluation.estimate import estimate_model
from tiltak.evaluation.multiplicity import holm_adjust
from tiltak.evaluation.verdicts import VerdictRules


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
                 rules: VerdictRules | None = None) -> dict[str, list[Any]]:
    """:func:`estimate_models` on the store file ``db``."""
    with Store.open(Path(db), analysis=True) as store:
        return estimate_models(store.connect(), inputs, seed, rules)
