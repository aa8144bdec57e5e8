"""Sensitivity and power of one matched design: Rosenbaum Gamma, E-value, MDE.

* Rosenbaum's critical Gamma comes from ``estimation.sensitivity``: McNemar-type bounds on
  the discordant pairs for a binary outcome with 1:1 matching (rbounds ``binarysens``),
  otherwise Wilcoxon signed-rank bounds on the pair differences (treated outcome minus the
  mean of its matched controls). The one-sided alternative follows the sign of the
  estimate. It is reported only when the estimate is significant at Gamma = 1.
* The E-value (VanderWeele and Ding 2017) of the point estimate: binary outcomes on the
  risk-ratio scale; continuous ones via RR = exp(0.91 d), d the ATT over the SD of the
  matched comparison outcomes.
* The minimum detectable effect at 80 % power and 5 % two-sided level is
  (z_0.975 + z_0.80) x SE of the matched estimate (Bloom 1995), in the outcome's unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

Z_ALPHA = 1.959963984540054  # two-sided 5 %
Z_POWER = 0.8416212335729143  # 80 % power
MDE_MULTIPLIER = Z_ALPHA + Z_POWER


@dataclass(frozen=True)
class DesignSensitivity:
    gamma: float | None
    e_value: float | None
    mde: float | None
    method: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def e_value_rr(rr: float) -> float | None:
    """E-value of a risk ratio: RR + sqrt(RR (RR - 1)) after inverting RR < 1."""
    if rr is None or not math.isfinite(rr) or rr <= 0:
        return None
    rr = 1 / rr if rr < 1 else rr
    return rr + math.sqrt(rr * (rr - 1))


def minimum_detectable_effect(se: float | None) -> float | None:
    """MDE at 80 % power, 5 % two-sided, from the standard error of the estimate."""
    if se is None or not math.isfinite(se) or se <= 0:
        return None
    return MDE_MULTIPLIER * se


def pair_differences(sample: Any, y: Any):
    """Treated outcome minus the mean outcome of its matched controls, per matched pair."""
    import numpy as np

    mm = np.asarray(sample.match_matrix)
    treated_rows = np.flatnonzero(np.asarray(sample.treat, bool))
    has = (mm >= 0).any(axis=1)
    safe = np.where(mm >= 0, mm, 0)
    values = np.where(mm >= 0, y[safe], np.nan)
    control_mean = np.nanmean(values[has], axis=1)
    return y[treated_rows[has]] - control_mean, mm[has]


def _gamma(sample: Any, y: Any, att: float, binary: bool) -> tuple[float | None, str | None, tuple[str, ...]]:
    import numpy as np
    from estimation.sensitivity import rosenbaum_binary_counts, rosenbaum_wilcoxon_differences

    diffs, mm = pair_differences(sample, y)
    if diffs.size == 0:
        return None, None, ()
    alternative = "greater" if att >= 0 else "less"
    if binary and mm.shape[1] == 1:
        result = rosenbaum_binary_counts(int(np.sum(diffs > 0)), int(np.sum(diffs < 0)), alternative=alternative)
    else:
        result = rosenbaum_wilcoxon_differences(diffs, alternative=alternative)
    if not result.significant_without_bias:
        return None, result.method, ()
    gamma = float(result.gamma_critical)
    return (gamma if math.isfinite(gamma) else None), result.method, ()


def design_sensitivity(sample: Any, y: Any, effect: Any, binary: bool) -> DesignSensitivity:
    """Critical Gamma, E-value and MDE of one matched estimate."""
    import numpy as np

    att = float(effect.estimate)
    gamma, method, notes = _gamma(sample, y, att, binary)
    if binary:
        rr = next((r.estimate for r in effect.ratios if r.scale == "risk_ratio"), None)
        e_value = e_value_rr(float(rr)) if rr is not None else None
    else:
        matched_controls = (~np.asarray(sample.treat, bool)) & (np.asarray(sample.weights) > 0)
        sd = float(np.std(y[matched_controls], ddof=1)) if matched_controls.sum() > 1 else float("nan")
        e_value = e_value_rr(math.exp(0.91 * att / sd)) if sd and math.isfinite(sd) and sd > 0 else None
    return DesignSensitivity(gamma, e_value, minimum_detectable_effect(float(effect.std_error)), method, notes)
