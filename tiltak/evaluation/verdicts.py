"""Verdicts: what a matched estimate says about one expected change.

Each expected change in a logic model states a direction (increase or decrease) and the
smallest change that would matter. A model tests several changes at once, so significance
is judged on Holm-adjusted p-values within the model's tested changes
(:mod:`tiltak.evaluation.multiplicity`) against 0.05; the intervals shown stay the
unadjusted 95 % intervals. With the estimate turned so that positive means "in the
expected direction":

* ``not_testable``  -- no estimate, no common support, too few matched participants, or
  balance not reached: largest absolute SMD after matching and censoring weights above
  0.1, or above 0.25 for a covariate-adjusted estimate (calibrated weights for curves,
  regression for differences in means), which removes the residual imbalance;
* ``contradicted``  -- significant after adjustment, on the opposite side of zero;
* ``confirmed``     -- significant after adjustment, on the expected side, and the point
  estimate reaches the smallest meaningful change;
* ``not_confirmed`` -- significant after adjustment on the expected side but smaller than the
  change that matters; or not significant while the design could have seen the change
  (MDE at the adjusted level no larger than the smallest meaningful change);
* ``inconclusive``  -- not significant after adjustment and the design could not have seen
  the change (MDE larger, or unknown); and every result significant only before the
  adjustment, which is reported as such (reason ``significant_before_adjustment``), never
  as a verdict.

The checks are small rule functions; every failing "not testable" rule is reported, not
only the first. Boundaries: a p-value of exactly 0.05 is not significant (an interval
touching zero includes it); an estimate exactly equal to the smallest change reaches it; an
MDE exactly equal to it could have seen it; a max |SMD| exactly equal to the threshold is
balanced. Without a p-value (a hand-made estimate) significance is read from the interval,
unadjusted.
"""

from __future__ import annotations

import dataclasses

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tiltak.errors import TiltakError
from tiltak.evaluation.evidence import EffectEvidence


class VerdictKind(StrEnum):
    """The five verdicts, ordered from best to worst news for the model."""

    CONFIRMED = "confirmed"
    NOT_CONFIRMED = "not_confirmed"
    INCONCLUSIVE = "inconclusive"
    CONTRADICTED = "contradicted"
    NOT_TESTABLE = "not_testable"


@dataclass(frozen=True)
class Reason:
    """Why a verdict was given: a stable code and the numbers behind it."""

    code: str
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def values(self) -> dict[str, Any]:
        return dict(self.params)


def reason(code: str, **params: Any) -> Reason:
    """Build a :class:`Reason` with its parameters in a stable order."""
    return Reason(code, tuple(sorted(params.items())))


@dataclass(frozen=True)
class ChangeSpec:
    """What an expected change asks for, as the verdict rules need it."""

    id: str
    direction: str  # "increase" | "decrease"
    min_change: float
    node: str | None = None
    outcome: str | None = None
    indicator: str | None = None
    horizon_months: int | None = None
    balance_threshold: float | None = None  # overrides the rules' threshold for this change

    def __post_init__(self) -> None:
        if self.direction not in ("increase", "decrease"):
            raise TiltakError(
                f"expected change {self.id!r}: direction must be 'increase' or 'decrease'; "
                f"got {self.direction!r}"
            )
        if not self.min_change >= 0:
            raise TiltakError(
                f"expected change {self.id!r}: min_change must be a number >= 0; got {self.min_change!r}"
            )

    @property
    def sign(self) -> int:
        return 1 if self.direction == "increase" else -1


@dataclass(frozen=True)
class VerdictRules:
    """Thresholds of the verdict rules (configurable, with the documented defaults)."""

    balance_threshold: float = 0.1
    adjusted_balance_threshold: float = 0.25
    min_matched: int = 10
    min_gamma_robust: float = 2.0


@dataclass(frozen=True)
class Verdict:
    """The verdict on one expected change, with its reasons and sensitivity."""

    change: ChangeSpec
    kind: VerdictKind
    reasons: tuple[Reason, ...]
    evidence: EffectEvidence | None = None
    sensitivity: tuple[Reason, ...] = field(default_factory=tuple)

    @property
    def gamma(self) -> float | None:
        return None if self.evidence is None else self.evidence.gamma

    @property
    def e_value(self) -> float | None:
        return None if self.evidence is None else self.evidence.e_value

    @property
    def period(self) -> str | None:
        return None if self.evidence is None else self.evidence.period


ALPHA = 0.05
"""Family-wise level of the verdicts (Holm within a model's tested changes)."""

TestabilityRule = Callable[[EffectEvidence, VerdictRules], "Reason | None"]


def rule_overlap(ev: EffectEvidence, rules: VerdictRules) -> Reason | None:
    """No common support between participants and controls."""
    return None if ev.overlap_ok else reason("no_overlap")


def rule_enough_matched(ev: EffectEvidence, rules: VerdictRules) -> Reason | None:
    """Too few matched participants for an estimate worth reporting."""
    if ev.n_treated_matched < rules.min_matched:
        return reason("too_few_matched", n=ev.n_treated_matched, minimum=rules.min_matched)
    return None


def balance_limit(ev: EffectEvidence, rules: VerdictRules) -> float:
    """The largest |SMD| accepted: ``balance_threshold``, or for a covariate-adjusted estimate
    the larger ``adjusted_balance_threshold`` (adjustment removes the rest; Rubin 2001, Stuart 2010)."""
    if ev.adjusted:
        return max(rules.balance_threshold, rules.adjusted_balance_threshold)
    return rules.balance_threshold


def rule_balance(ev: EffectEvidence, rules: VerdictRules) -> Reason | None:
    """Balance not reached: the largest absolute SMD after matching and weighting above the threshold."""
    if ev.max_abs_smd is None:
        return reason("balance_unknown")
    limit = balance_limit(ev, rules)
    if ev.max_abs_smd > limit:
        return reason("imbalance", max_abs_smd=ev.max_abs_smd, threshold=limit)
    return None


def rule_interval(ev: EffectEvidence, rules: VerdictRules) -> Reason | None:
    """An estimate without a usable interval cannot be judged."""
    values = (ev.att, ev.ci_low, ev.ci_high)
    if any(v is None or v != v for v in values):
        return reason("no_interval")
    return None


TESTABILITY_RULES: tuple[TestabilityRule, ...] = (
    rule_overlap,
    rule_enough_matched,
    rule_balance,
    rule_interval,
)


def _signed(change: ChangeSpec, ev: EffectEvidence) -> tuple[float, float, float]:
    """Effect and interval turned so that positive means 'in the expected direction'."""
    s = change.sign
    low, high = sorted((s * float(ev.ci_low), s * float(ev.ci_high)))
    return s * float(ev.att), low, high


def _significance(ev: EffectEvidence, effect: float, low: float, high: float) -> tuple[bool, bool]:
    """(significant after Holm's adjustment, significant before it), at 0.05 two-sided."""
    raw = (ev.p_value < ALPHA) if ev.p_value is not None and ev.p_value == ev.p_value else (low > 0 or high < 0)
    if ev.p_value_holm is None:
        return raw, raw
    return ev.p_value_holm < ALPHA, raw


def _directional(change: ChangeSpec, ev: EffectEvidence) -> tuple[VerdictKind, list[Reason]]:
    effect, low, high = _signed(change, ev)
    common = {"att": ev.att, "ci_low": ev.ci_low, "ci_high": ev.ci_high}
    adjusted, raw = _significance(ev, effect, low, high)
    multiplicity = [] if ev.p_value_holm is None else [
        reason("holm", p_value=ev.p_value, p_value_holm=ev.p_value_holm, n_tests=ev.n_tests)]
    if adjusted and effect < 0:
        return VerdictKind.CONTRADICTED, [reason("opposite_side", **common), *multiplicity]
    if adjusted and effect >= change.min_change:
        return VerdictKind.CONFIRMED, [
            reason("expected_side", **common), *multiplicity,
            reason("reaches_min_change", effect=effect, min_change=change.min_change),
        ]
    if adjusted:
        return VerdictKind.NOT_CONFIRMED, [
            reason("expected_side", **common), *multiplicity,
            reason("below_min_change", effect=effect, min_change=change.min_change),
        ]
    if raw:
        side = "expected" if effect > 0 else "opposite"
        return VerdictKind.INCONCLUSIVE, [
            reason("significant_before_adjustment", side=side, **common, p_value=ev.p_value,
                   p_value_holm=ev.p_value_holm, n_tests=ev.n_tests)]
    zero = [reason("includes_zero", **common), *multiplicity]
    if ev.mde is None or ev.mde != ev.mde:
        return VerdictKind.INCONCLUSIVE, [*zero, reason("mde_unknown")]
    if ev.mde > change.min_change:
        return VerdictKind.INCONCLUSIVE, [*zero, reason("underpowered", mde=ev.mde, min_change=change.min_change)]
    return VerdictKind.NOT_CONFIRMED, [*zero, reason("powered", mde=ev.mde, min_change=change.min_change)]


def sensitivity_notes(ev: EffectEvidence, kind: VerdictKind, rules: VerdictRules,
                      reasons: tuple[Reason, ...] | list[Reason] = ()) -> tuple[Reason, ...]:
    """How robust a significant result is to hidden bias (Rosenbaum Gamma, E-value)."""
    notes: list[Reason] = []
    significant = any(r.code in ("expected_side", "opposite_side", "significant_before_adjustment")
                      for r in reasons)
    if significant:
        if ev.gamma is not None:
            code = "robust" if ev.gamma >= rules.min_gamma_robust else "fragile"
            notes.append(reason(code, gamma=ev.gamma, threshold=rules.min_gamma_robust))
    if ev.e_value is not None:
        notes.append(reason("e_value", e_value=ev.e_value))
    return tuple(notes)


def judge(change: ChangeSpec, evidence: EffectEvidence | None, rules: VerdictRules | None = None) -> Verdict:
    """The verdict on one expected change given its matched estimate (or ``None``)."""
    rules = rules or VerdictRules()
    if change.outcome is None:
        return Verdict(change, VerdictKind.NOT_TESTABLE, (reason("no_outcome", indicator=change.indicator),))
    if evidence is None:
        return Verdict(change, VerdictKind.NOT_TESTABLE, (reason("no_estimate", outcome=change.outcome),))
    if change.balance_threshold is not None:  # the model's own threshold rules, adjusted or not
        rules = dataclasses.replace(rules, balance_threshold=change.balance_threshold,
                                    adjusted_balance_threshold=change.balance_threshold)
    failing = [r for r in (rule(evidence, rules) for rule in TESTABILITY_RULES) if r is not None]
    if failing:
        return Verdict(change, VerdictKind.NOT_TESTABLE, tuple(failing), evidence)
    kind, reasons = _directional(change, evidence)
    return Verdict(change, kind, tuple(reasons), evidence, sensitivity_notes(evidence, kind, rules, reasons))
