"""The estimate of one expected change under one estimand (:class:`DesignEstimate`) and the
estimands a design can ask for. Made by :mod:`tiltak.evaluation.design_run`, returned by
:func:`tiltak.evaluation.estimate.estimate_model` (which re-exports them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from logicmodel.model import DEFAULT_ESTIMAND, ESTIMANDS  # noqa: F401 (re-exported)
from tiltak.evaluation.evidence import EffectEvidence
from tiltak.evaluation.outcomes import OutcomeSpec


@dataclass(frozen=True)
class DesignEstimate:
    """The estimate of one expected change under one estimand, with the aggregates the report shows."""

    model_id: str
    change_id: str
    outcome: OutcomeSpec
    evidence: EffectEvidence | None
    design: dict[str, Any]
    estimand: str = DEFAULT_ESTIMAND
    balance_terms: tuple[dict[str, Any], ...] = ()
    overlap: dict[str, Any] | None = None
    ess_control: float | None = None
    risk_ratio: float | None = None
    odds_ratio: float | None = None
    trials: dict[str, Any] | None = None
    curve: dict[str, Any] | None = None
    error: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
