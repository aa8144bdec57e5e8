"""The evidence an evaluation reads: one matched estimate, summarised.

``EffectEvidence`` is the small frozen value the verdict rules, the contribution analysis
and the cost-effectiveness work on. It holds aggregate numbers only (never a person-level
row), so it can be written to ``evaluation.json`` and the ``estimates`` table as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EffectEvidence:
    """A matched estimate of one person-level outcome for one measure.

    ``att`` and the interval are in the outcome's unit (a share 0-1 for binary outcomes,
    a score for survey changes); ``mde`` is the minimum detectable effect of the matched
    design at 80 % power, in the same unit and as a positive magnitude. ``gamma`` is the
    Rosenbaum Gamma at which the conclusion would change (``None`` when not computed);
    ``e_value`` the E-value of the point estimate on the risk-ratio scale. ``estimand`` is
    ``enrol_vs_not`` or ``enrol_now_vs_later``. ``p_value`` and the interval are unadjusted;
    ``p_value_holm`` is the Holm-adjusted p-value within the model's ``n_tests`` tested
    changes (set by :func:`tiltak.evaluation.multiplicity.holm_adjust`), and ``mde`` is
    computed at the level ``alpha_adjusted`` = 0.05 / ``n_tests``. ``adjusted`` says the
    estimate is covariate-adjusted (calibrated weights for curves, regression for means).
    """

    outcome: str
    att: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    se: float | None = None
    p_value: float | None = None
    mde: float | None = None
    n_treated: int = 0
    n_control: int = 0
    n_treated_matched: int = 0
    n_control_matched: int = 0
    max_abs_smd: float | None = None
    max_abs_smd_before: float | None = None
    gamma: float | None = None
    e_value: float | None = None
    period_start: str | None = None
    period_end: str | None = None
    overlap_ok: bool = True
    outcome_kind: str = "exit_within"
    treated_mean: float | None = None
    control_mean: float | None = None
    estimand: str = "enrol_vs_not"
    p_value_holm: float | None = None
    alpha_adjusted: float = 0.05
    n_tests: int = 1
    adjusted: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def period(self) -> str | None:
        """The data period as ``YYYY-MM–YYYY-MM`` (index months of the matched sample)."""
        if self.period_start is None:
            return None
        return f"{self.period_start}–{self.period_end}"
