"""The logic model of one measure: its theory of change, expected changes, evaluation
design, monitoring targets and costs. The YAML shape is documented in
``docs/logic-models.md``; this module is its schema."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag

from logicmodel.fields import Bool, Code, Frozen, Id, Int, Month, Number, PeriodLabel, SnakeId, Str, Text

Level = Literal["input", "activity", "output", "outcome", "impact"]
Horizon = Literal["short", "medium", "long"]
ChangeDirection = Literal["increase", "decrease"]
LEVELS: tuple[str, ...] = Level.__args__
HORIZONS: tuple[str, ...] = Horizon.__args__



def _ref_kind(value: object) -> str | None:
    if isinstance(value, str):
        return "one"
    return "many" if isinstance(value, (list, tuple)) else None


#: One node id or a list of node ids.
NodeRef = Annotated[
    Annotated[Id, Tag("one")] | Annotated[tuple[Id, ...], Field(min_length=1), Tag("many")],
    Discriminator(_ref_kind, custom_error_type="node_ref_type", custom_error_message="expected a node id or a list of node ids"),
]


class Period(Frozen):
    """The months in which the measure operates; ``end`` null while it is running."""

    start: Month
    end: Month | None = None


class Node(Frozen):
    """A box of the logic model: an input, activity, output, outcome or impact."""

    id: Id
    level: Level
    horizon: Horizon | None = None
    title: Text
    description: Text | None = None
    indicators: tuple[SnakeId, ...] = ()


class Assumption(Frozen):
    """A condition the causal link relies on, optionally monitored by an indicator."""

    statement: Text
    indicator: SnakeId | None = None


class Link(Frozen):
    """A causal link from one or more nodes to one or more nodes."""

    source: NodeRef = Field(alias="from")
    to: NodeRef
    mechanism: Text | None = None
    assumptions: tuple[Assumption, ...] = ()
    risks: tuple[Text, ...] = ()
    external_factors: tuple[Text, ...] = ()
    lag_months: Annotated[Int, Field(ge=0, le=240)] | None = None

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.source,) if isinstance(self.source, str) else self.source

    @property
    def targets(self) -> tuple[str, ...]:
        return (self.to,) if isinstance(self.to, str) else self.to


class TrajectoryPoint(Frozen):
    """An expected value of the indicator in a period."""

    period: PeriodLabel
    value: Number


class ExpectedChange(Frozen):
    """A change the measure should cause, on a person-level outcome and/or an indicator."""

    id: Id
    node: Id
    description: Text | None = None
    outcome: SnakeId | None = None
    indicator: SnakeId | None = None
    direction: ChangeDirection
    min_change: Annotated[Number, Field(gt=0)]
    horizon_months: Annotated[Int, Field(ge=1, le=240)]
    subgroup: Str | None = None
    trajectory: tuple[TrajectoryPoint, ...] = ()
    # Largest |SMD| after matching at which this change is still testable; the
    # evaluation's default (0.1) applies when it is not given.
    balance_threshold: Annotated[Number, Field(gt=0, le=0.5)] | None = None


class Treatment(Frozen):
    """Who is treated: participants in the measure with this register code."""

    measure: Code


MatchingMethod = Literal["nearest", "optimal", "full", "subclass", "cem", "weighting"]
MatchingDistance = Literal["glm", "logit", "mahalanobis", "robust_mahalanobis", "euclidean", "scaled_euclidean"]
#: Distances on the covariates rather than the propensity score (method nearest only).
COVARIATE_DISTANCES: tuple[str, ...] = ("mahalanobis", "robust_mahalanobis", "euclidean", "scaled_euclidean")
MATCHING_METHODS: tuple[str, ...] = MatchingMethod.__args__
#: The ``evaluation.matching`` keys each method uses (rule LM046 refuses the others).
METHOD_KEYS: dict[str, tuple[str, ...]] = {
    "nearest": ("ratio", "replace", "caliper", "std_caliper", "distance", "exact", "order", "mahvars",
                "antiexact", "reuse_max", "covariate_calipers", "min_controls", "max_controls"),
    "optimal": ("ratio", "min_controls", "max_controls", "caliper", "std_caliper", "distance", "exact"),
    "full": ("min_controls", "max_controls", "caliper", "std_caliper", "distance", "exact"),
    "subclass": ("subclasses", "min_n", "distance"),
    "cem": ("cutpoints", "k2k", "k2k_method"),
    "weighting": ("weights", "trim", "moments"),
}
CUT_RULE_PATTERN = r"^(sturges|scott|fd|q[0-9]+)$"


def _cut_kind(value: object) -> str | None:
    if isinstance(value, str):
        return "rule" if re.match(CUT_RULE_PATTERN, value) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return "bins" if value >= 0 else None
    if isinstance(value, (list, tuple)) and value:
        return "cuts"
    return None


#: How CEM bins one numeric covariate: a rule, a number of bins (0 exact, 1 leave out) or
#: the cut points.
CutValue = Annotated[
    Annotated[Str, Tag("rule")] | Annotated[Int, Tag("bins")] | Annotated[tuple[Number, ...], Tag("cuts")],
    Discriminator(_cut_kind, custom_error_type="cut_type",
                  custom_error_message="expected sturges, scott, fd, qK (K quantile bins), a number of bins (0: exact, 1: leave out) or a list of cut points"),
]


class Matching(Frozen):
    """Settings of the matching (or weighting) design, with R MatchIt's names.

    ``method`` chooses nearest-neighbour matching (the default), optimal pair or full
    matching, subclassification, coarsened exact matching or weighting; each method uses
    the keys in ``METHOD_KEYS`` (the others are refused by rule LM046).
    """

    method: MatchingMethod = "nearest"
    # the register evaluation estimates the ATT; other values are refused by rule LM047
    estimand: Literal["ATT", "ATC", "ATE", "ATO"] = "ATT"
    ratio: Annotated[Int, Field(ge=1, le=20)] = 1
    replace: Bool = False
    caliper: Annotated[Number, Field(gt=0)] | None = 0.2
    std_caliper: Bool = True
    distance: MatchingDistance = "glm"
    exact: tuple[SnakeId, ...] = ()
    # None: "largest" on the propensity score, "data" for a covariate distance (MatchIt's m.order)
    order: Literal["largest", "smallest", "random", "data", "closest", "farthest"] | None = None
    mahvars: tuple[SnakeId, ...] = ()
    antiexact: tuple[SnakeId, ...] = ()
    reuse_max: Annotated[Int, Field(ge=1)] | None = None
    covariate_calipers: dict[SnakeId, Annotated[Number, Field(gt=0)]] = {}
    min_controls: Annotated[Number, Field(ge=0)] | None = None
    max_controls: Annotated[Number, Field(gt=0)] | None = None
    subclasses: Annotated[Int, Field(ge=2, le=100)] = 6
    min_n: Annotated[Int, Field(ge=0)] = 1
    cutpoints: dict[SnakeId, CutValue] = {}
    # CEM: one-to-one matching within the strata (MatchIt's k2k), on this distance (none: input order)
    k2k: Bool = False
    k2k_method: Literal["mahalanobis", "robust_mahalanobis", "euclidean", "scaled_euclidean"] | None = "mahalanobis"
    weights: Literal["ipw", "ebal"] = "ipw"
    trim: Annotated[Number, Field(gt=0, lt=0.5)] | None = None
    moments: Literal[1, 2] = 1


Estimand = Literal["enrol_vs_not", "enrol_now_vs_later"]
ESTIMANDS: tuple[str, ...] = Estimand.__args__
#: What the comparison persons stand for when a model does not say (docs/evaluation.md).
DEFAULT_ESTIMAND = "enrol_vs_not"


class Evaluation(Frozen):
    """The effect evaluation design: matched comparison of participants and non-participants."""

    treatment: Treatment
    index_date: Literal["enrolment"] = "enrolment"
    # What the comparison persons stand for (docs/evaluation.md): "enrol_vs_not" (default)
    # censors a comparison person who starts the measure later, corrected with censoring
    # weights; "enrol_now_vs_later" keeps them (starting now against not yet).
    estimand: Estimand = DEFAULT_ESTIMAND
    covariates: Annotated[tuple[SnakeId, ...], Field(min_length=1)]
    matching: Matching = Matching()
    tests: tuple[Id, ...] = ()


class TargetValue(Frozen):
    """A value of an indicator in a period."""

    period: PeriodLabel
    value: Number


class Target(Frozen):
    """Baseline and target values of an indicator; ``tolerance`` is the relative band for 'on track'."""

    indicator: SnakeId
    baseline: TargetValue | None = None
    values: tuple[TargetValue, ...] = ()
    tolerance: Annotated[Number, Field(ge=0, le=1)] = 0.15


class Disclosure(Frozen):
    """Disclosure control thresholds (never below 3)."""

    min_count: Annotated[Int, Field(ge=3)] = 5
    min_denominator: Annotated[Int, Field(ge=3)] = 10
    dominance_contributors: Annotated[Int, Field(ge=1, le=10)] = 2
    dominance_share: Annotated[Number, Field(gt=0, le=1)] = 0.85


class Monitoring(Frozen):
    """Which indicators are monitored for this measure, with targets and disclosure control."""

    indicators: tuple[SnakeId, ...] = ()
    targets: tuple[Target, ...] = ()
    disclosure: Disclosure = Disclosure()


class CostTotal(Frozen):
    """Total cost in a period (YYYY, YYYY-Qn or YYYY-MM), for one centre or (null) centrally."""

    period: PeriodLabel
    amount_nok: Annotated[Number, Field(ge=0)]
    centre_id: Str | None = None


class Costs(Frozen):
    """What the measure costs: per participant and/or totals by period, in NOK."""

    per_participant_nok: Annotated[Number, Field(ge=0)] | None = None
    totals: tuple[CostTotal, ...] = ()


class LogicModel(Frozen):
    """The logic model of one measure."""

    id: Id
    title: Text
    version: Str
    owner: Str | None = None
    target_group: Text | None = None
    description: Text | None = None
    measure: Code
    period: Period
    catalogue: Str = "indicators.yaml"
    nodes: Annotated[tuple[Node, ...], Field(min_length=1)]
    links: tuple[Link, ...] = ()
    expected_changes: tuple[ExpectedChange, ...] = ()
    evaluation: Evaluation | None = None
    monitoring: Monitoring = Monitoring()
    costs: Costs | None = None

    def node(self, node_id: str) -> Node | None:
        """The node with this id, or None."""
        return next((n for n in self.nodes if n.id == node_id), None)

    def change(self, change_id: str) -> ExpectedChange | None:
        """The expected change with this id, or None."""
        return next((c for c in self.expected_changes if c.id == change_id), None)

    def to_data(self) -> dict:
        """Plain data in the YAML shape (keys as written in files), without unset defaults."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)
