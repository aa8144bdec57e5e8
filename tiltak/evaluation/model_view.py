"""What the evaluation needs from a logic model, as small frozen values.

``ModelView.from_mapping`` reads the model format of ``docs/architecture.md`` (the
mapping a validated ``logicmodel`` model dumps to), so the evaluation layer depends on the
documented format and not on the internals of the model classes. Many-to-many links are
expanded into one ``LinkView`` per (from, to) pair.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tiltak.evaluation.verdicts import ChangeSpec


Title = dict[str, str] | str
"""A model's text as the model gives it: a mapping of its languages, or one plain string.
The report picks the language (:func:`tiltak_base.catalogue.pick`), so the evaluation
document never holds a language the model did not write."""


def model_text(value: Any, fallback: str) -> Title:
    """A model's text as a :data:`Title` (``fallback`` when it has none)."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items() if v} or fallback
    return str(value) if value else fallback


def _titles(value: Any, fallback: str) -> Title:
    return model_text(value, fallback)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


@dataclass(frozen=True)
class NodeView:
    id: str
    level: str
    title: Title
    indicators: tuple[str, ...] = ()
    horizon: str | None = None


@dataclass(frozen=True)
class AssumptionView:
    statement: Title
    indicator: str | None = None


@dataclass(frozen=True)
class LinkView:
    source: str
    target: str
    mechanism: Title = ""
    assumptions: tuple[AssumptionView, ...] = ()
    lag_months: int | None = None


@dataclass(frozen=True)
class TrajectoryPoint:
    period: str
    value: float


@dataclass(frozen=True)
class ExpectedChangeView:
    spec: ChangeSpec
    trajectory: tuple[TrajectoryPoint, ...] = ()
    subgroup: str | None = None


@dataclass(frozen=True)
class TargetView:
    indicator: str
    baseline_period: str | None
    baseline_value: float | None
    values: tuple[TrajectoryPoint, ...]
    tolerance: float | None = None


@dataclass(frozen=True)
class DesignView:
    measure: str
    covariates: tuple[str, ...]
    matching: dict[str, Any]
    tests: tuple[str, ...]
    index_date: str = "enrolment"
    estimand: str = "enrol_vs_not"


@dataclass(frozen=True)
class CostTotal:
    period: str
    amount_nok: float
    centre_id: str | None = None


@dataclass(frozen=True)
class ModelView:
    id: str
    title: Title
    measure: str | None
    nodes: tuple[NodeView, ...]
    links: tuple[LinkView, ...]
    expected_changes: tuple[ExpectedChangeView, ...]
    design: DesignView | None
    monitored: tuple[str, ...] = ()
    targets: tuple[TargetView, ...] = ()
    min_count: int = 5
    min_denominator: int = 10
    dominance: tuple[int, float] = (2, 0.85)
    per_participant_nok: float | None = None
    cost_totals: tuple[CostTotal, ...] = ()
    period_start: str | None = None
    period_end: str | None = None
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def estimand(self) -> str:
        """The estimand of the model's verdicts (``evaluation.estimand``; default enrol_vs_not)."""
        return self.design.estimand if self.design is not None else "enrol_vs_not"

    def node(self, node_id: str) -> NodeView | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    def change(self, change_id: str) -> ExpectedChangeView | None:
        return next((c for c in self.expected_changes if c.spec.id == change_id), None)

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: str | None = None) -> ModelView:
        """Build the view from a model mapping in the documented YAML format."""
        design = _design(data.get("evaluation"), data.get("measure"))
        monitoring = data.get("monitoring") or {}
        disclosure = monitoring.get("disclosure") or {}
        costs = data.get("costs") or {}
        period = data.get("period") or {}
        return cls(
            id=str(data["id"]),
            title=_titles(data.get("title"), str(data["id"])),
            measure=data.get("measure"),
            nodes=tuple(_node(n) for n in data.get("nodes") or []),
            links=tuple(link for raw in data.get("links") or [] for link in _links(raw)),
            expected_changes=tuple(_change(c) for c in data.get("expected_changes") or []),
            design=design,
            monitored=tuple(str(i) for i in monitoring.get("indicators") or []),
            targets=tuple(_target(t) for t in monitoring.get("targets") or []),
            min_count=int(disclosure.get("min_count") or 5),
            min_denominator=int(disclosure.get("min_denominator") or 10),
            dominance=(int(disclosure.get("dominance_contributors") or 2), float(disclosure.get("dominance_share") or 0.85)),
            per_participant_nok=_float(costs.get("per_participant_nok")),
            cost_totals=tuple(_cost(t) for t in costs.get("totals") or []),
            period_start=_period(period.get("start")),
            period_end=_period(period.get("end")),
            source=source,
        )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _period(value: Any) -> str | None:
    return None if value is None else str(value)[:7]


def _node(raw: dict[str, Any]) -> NodeView:
    horizon = raw.get("horizon")
    return NodeView(
        id=str(raw["id"]),
        level=str(raw.get("level")),
        title=_titles(raw.get("title"), str(raw["id"])),
        indicators=tuple(str(i) for i in _as_list(raw.get("indicators"))),
        horizon=None if horizon is None else str(horizon),
    )


def _links(raw: dict[str, Any]) -> list[LinkView]:
    assumptions = tuple(
        AssumptionView(statement=model_text(a.get("statement"), ""), indicator=a.get("indicator"))
        if isinstance(a, dict)
        else AssumptionView(statement=str(a))
        for a in _as_list(raw.get("assumptions"))
    )
    lag = raw.get("lag_months")
    return [
        LinkView(str(s), str(t), model_text(raw.get("mechanism"), ""), assumptions, None if lag is None else int(lag))
        for s in _as_list(raw.get("from"))
        for t in _as_list(raw.get("to"))
    ]


def _change(raw: dict[str, Any]) -> ExpectedChangeView:
    spec = ChangeSpec(
        id=str(raw["id"]),
        direction=str(raw.get("direction")),
        min_change=float(raw.get("min_change") or 0.0),
        node=raw.get("node"),
        outcome=raw.get("outcome"),
        indicator=raw.get("indicator"),
        horizon_months=raw.get("horizon_months"),
        balance_threshold=None if raw.get("balance_threshold") is None else float(raw["balance_threshold"]),
    )
    trajectory = tuple(
        TrajectoryPoint(str(p["period"]), float(p["value"])) for p in raw.get("trajectory") or []
    )
    return ExpectedChangeView(spec, trajectory, raw.get("subgroup"))


def _design(raw: dict[str, Any] | None, measure: Any) -> DesignView | None:
    if not raw:
        return None
    treatment = raw.get("treatment") or {}
    return DesignView(
        measure=str(treatment.get("measure") or measure),
        covariates=tuple(str(c) for c in raw.get("covariates") or []),
        matching=dict(raw.get("matching") or {}),
        tests=tuple(str(t) for t in raw.get("tests") or []),
        index_date=str(raw.get("index_date") or "enrolment"),
        estimand=str(raw.get("estimand") or "enrol_vs_not"),
    )


def _target(raw: dict[str, Any]) -> TargetView:
    baseline = raw.get("baseline") or {}
    return TargetView(
        indicator=str(raw["indicator"]),
        baseline_period=_period(baseline.get("period")),
        baseline_value=_float(baseline.get("value")),
        values=tuple(TrajectoryPoint(str(v["period"]), float(v["value"])) for v in raw.get("values") or []),
        tolerance=_float(raw.get("tolerance")),
    )


def _cost(raw: dict[str, Any]) -> CostTotal:
    return CostTotal(str(raw["period"]), float(raw["amount_nok"]), raw.get("centre_id"))
