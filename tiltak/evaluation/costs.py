"""Cost-effectiveness: unit costs by measure and centre, and cost per additional outcome.

* Cost per participant = cost / distinct participants, by measure and by centre (costs
  with no centre are central costs and count only at the measure level). Its spread over
  centres is shown as minimum, quartiles and maximum.
* Cost per additional outcome = total cost of the matched participants / (ATT x matched
  participants), which equals cost per participant / ATT. The interval comes from the
  effect's 95 % interval (costs are taken as known). When that interval includes zero or
  lies on the unfavourable side the ratio is *not defined*: a number would be meaningless.
  Only binary outcomes (unit ``share``) have "additional outcomes".
* Disclosure: participant counts below ``min_count`` and unit costs whose participant
  count is below ``min_denominator`` are suppressed; a measure's cost total (contributors:
  the centres, central costs counting as one) is suppressed when its two largest
  contributors exceed 85 % of it (monitoring's dominance rule), and so is the unit cost
  derived from it. The contributors are the centres; central costs (no centre) are the
  agency's own spending, count in the total but are not a contributor to protect, so a
  measure run only centrally (the national courses) keeps its cost figures. A centre's own NOK total is always dominated (one contributor) and is
  withheld; its unit cost is published, because comparing unit costs between centres is
  what the evaluation asked for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from monitoring.disclosure import Thresholds
from tiltak.evaluation.evidence import EffectEvidence

DOMINANCE_CONTRIBUTORS = 2
DOMINANCE_SHARE = 0.85


def dominated(contributions: Sequence[float], n: int = DOMINANCE_CONTRIBUTORS, share: float = DOMINANCE_SHARE) -> bool:
    """True when the ``n`` largest contributions exceed ``share`` of the total.

    The rule is monitoring's (``monitoring.disclosure.Thresholds.is_dominated``), so cost
    figures in the report and in monitoring tables are protected alike.
    """

    values = tuple(abs(float(v)) for v in contributions)
    rule = Thresholds(dominance_contributors=n, dominance_share=share)
    return rule.is_dominated(sum(values), values)


@dataclass(frozen=True)
class UnitCost:
    """The cost per participant in one cell (a measure, or a measure at a centre)."""

    measure: str
    centre_id: str | None
    participants: int | None  # None when suppressed
    total_nok: float | None  # None when suppressed
    per_participant_nok: float | None  # None when suppressed or undefined
    suppressed: str | None = None  # small_count | small_denominator | dominance | no_participants | no_costs
    total_suppressed: str | None = None  # dominance: the total of a single contributor


@dataclass(frozen=True)
class CostSpread:
    """Spread of the published centre unit costs of one measure."""

    n_centres: int
    minimum: float | None
    q1: float | None
    median: float | None
    q3: float | None
    maximum: float | None

    @property
    def ratio_max_min(self) -> float | None:
        if not self.minimum or self.maximum is None:
            return None
        return self.maximum / self.minimum


@dataclass(frozen=True)
class CostPerOutcome:
    """Cost per additional outcome of one measure on one outcome."""

    measure: str
    outcome: str
    defined: bool
    reason: str  # defined | includes_zero | unfavourable | not_binary | no_cost | no_estimate | not_testable
    value: float | None = None
    low: float | None = None
    high: float | None = None
    additional_outcomes: float | None = None
    matched_participants: int | None = None
    total_cost_nok: float | None = None


def unit_cost(
    measure: str, centre_id: str | None, amount: float, contributions: Sequence[float],
    participants: int, min_count: int = 5, min_denominator: int = 10, check_dominance: bool = False,
    dominance: tuple[int, float] = (DOMINANCE_CONTRIBUTORS, DOMINANCE_SHARE),
) -> UnitCost:
    """One cell of the unit-cost table, with disclosure control applied.

    With ``check_dominance`` a dominated total suppresses the cell; without it (a centre's
    own row) the unit cost is published but the NOK total is withheld when dominated.
    """
    if participants == 0:
        return UnitCost(measure, centre_id, 0, amount, None, "no_participants")
    if participants < min_count:
        return UnitCost(measure, centre_id, None, None, None, "small_count")
    is_dominated = dominated(contributions, *dominance)
    if check_dominance and is_dominated:
        return UnitCost(measure, centre_id, participants, None, None, "dominance")
    total, hidden = (None, "dominance") if is_dominated else (amount, None)
    if participants < min_denominator:
        return UnitCost(measure, centre_id, participants, total, None, "small_denominator", hidden)
    return UnitCost(measure, centre_id, participants, total, amount / participants, None, hidden)


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile (numpy's default, R type 7)."""
    pos = (len(sorted_values) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


def spread(cells: Sequence[UnitCost]) -> CostSpread:
    """Minimum, quartiles and maximum of the published centre unit costs."""
    values = sorted(c.per_participant_nok for c in cells if c.per_participant_nok is not None)
    if not values:
        return CostSpread(0, None, None, None, None, None)
    return CostSpread(
        len(values), values[0], _quantile(values, 0.25), _quantile(values, 0.5), _quantile(values, 0.75), values[-1]
    )


def favourable_sign(direction: str) -> int:
    """+1 when a higher outcome is better, -1 when lower is better (neutral counts as higher)."""
    return -1 if direction == "lower_is_better" else 1


def cost_per_outcome(
    measure: str, evidence: EffectEvidence | None, cost_per_participant: float | None,
    unit: str, direction: str, testable: bool = True,
) -> CostPerOutcome:
    """Cost per additional outcome with its interval, or the reason it is not defined.

    ``testable`` false (the verdict found the estimate not testable, e.g. balance not
    reached) makes it undefined too: a ratio built on such an estimate would mislead.
    """
    outcome = evidence.outcome if evidence else ""
    if evidence is None or evidence.att is None or evidence.ci_low is None or evidence.ci_high is None:
        return CostPerOutcome(measure, outcome, False, "no_estimate")
    if not testable:
        return CostPerOutcome(measure, outcome, False, "not_testable")
    if unit != "share":
        return CostPerOutcome(measure, outcome, False, "not_binary")
    if cost_per_participant is None:
        return CostPerOutcome(measure, outcome, False, "no_cost")
    s = favourable_sign(direction)
    low, high = sorted((s * evidence.ci_low, s * evidence.ci_high))
    n = evidence.n_treated_matched
    total = cost_per_participant * n
    extra = s * evidence.att * n
    base = dict(additional_outcomes=extra, matched_participants=n, total_cost_nok=total)
    if high < 0:
        return CostPerOutcome(measure, outcome, False, "unfavourable", **base)
    if low <= 0:
        return CostPerOutcome(measure, outcome, False, "includes_zero", **base)
    return CostPerOutcome(
        measure, outcome, True, "defined", cost_per_participant / (s * evidence.att),
        cost_per_participant / high, cost_per_participant / low, **base,
    )


def measure_unit_costs(
    measure: str, cost_by_centre: Mapping[str | None, float], participants_by_centre: Mapping[str | None, int],
    participants_total: int, min_count: int = 5, min_denominator: int = 10,
    dominance: tuple[int, float] = (DOMINANCE_CONTRIBUTORS, DOMINANCE_SHARE),
) -> tuple[UnitCost, list[UnitCost], CostSpread]:
    """The measure-level unit cost, the centre cells, and their spread.

    ``cost_by_centre`` maps centre id (``None`` for central costs) to the total NOK;
    ``participants_by_centre`` maps centre id to distinct participants who started there.
    """
    if not cost_by_centre:
        participants = participants_total if participants_total == 0 or participants_total >= min_count else None
        reason = "no_participants" if participants_total == 0 else "no_costs"
        return UnitCost(measure, None, participants, None, None, reason), [], spread([])
    total = float(sum(cost_by_centre.values()))
    by_centres = [v for c, v in cost_by_centre.items() if c is not None]
    overall = unit_cost(measure, None, total, by_centres, participants_total,
                        min_count, min_denominator, check_dominance=True, dominance=dominance)
    centres = sorted(c for c in set(cost_by_centre) | set(participants_by_centre) if c is not None)
    cells = [
        unit_cost(measure, c, float(cost_by_centre.get(c, 0.0)), [cost_by_centre.get(c, 0.0)],
                  int(participants_by_centre.get(c, 0)), min_count, min_denominator, dominance=dominance)
        for c in centres
        if cost_by_centre.get(c, 0.0) > 0
    ]
    return overall, cells, spread(cells)
