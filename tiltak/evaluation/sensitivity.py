"""Sensitivity to hidden bias of one matched estimate: Rosenbaum's Gamma and the E-value.

* Rosenbaum's critical Gamma comes from ``estimation.rosenbaum_bounds``: McNemar-type bounds
  (rbounds ``binarysens``) for a binary outcome in 1:1 pairs, Wilcoxon's signed ranks for 1:1
  pairs otherwise, Rosenbaum's M-statistics for k:1 and variable-ratio matched sets
  (``sensitivitymv::senmv``) and for full matching, whose sets hold one participant and
  several comparison persons or several participants and one comparison person
  (``sensitivityfull::senfm``). For a register outcome the outcome is the event by the
  horizon (:func:`register_set_outcomes`): each person of a set has one outcome, a comparison
  person shared by several participants that of one of their start dates drawn at random
  (seeded), and a comparison person whose outcome is unknown there (censored before it) is
  left out of the set. The one-sided alternative follows the estimate; Gamma is reported
  only when the test is significant at Gamma = 1 (otherwise there is nothing for hidden bias
  to explain).
* The E-value of the point estimate (``estimation.e_value``; VanderWeele and Ding 2017):
  binary outcomes on the risk-ratio scale (the two curves at the horizon), continuous ones
  through the SMD (the ATT over the SD of the matched comparison outcomes, RR = exp(0.91 d)).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from estimation.errors import EstimationError
from estimation.sensitivity import e_value, rosenbaum_bounds
from estimation.sensitivity_result import SensitivityResult
from tiltak.evaluation.trials import MatchedTrials, matched_sample_of, one_unit_per_comparison


def _finite(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def register_set_outcomes(trials: MatchedTrials, y_unit: np.ndarray, usable: np.ndarray,
                          seed: int) -> tuple[Any, np.ndarray]:
    """The matched sets with one outcome per person-period, for Rosenbaum's bounds.

    ``y_unit``: the outcome of each unit of ``trials.units``; ``usable``: the units whose
    outcome is known (the participants always are). Every participant keeps its unit; each
    comparison person-period keeps one unit (:func:`one_unit_per_comparison`, seeded) if
    that unit is usable, and is left out otherwise. Returns the matched sample of those units
    (its subclasses are the matched sets) and the outcome of each of its rows.
    """
    units = trials.units
    treated = units["treated"].to_numpy(dtype=bool)
    keep = one_unit_per_comparison(units, seed) & (np.asarray(usable, dtype=bool) | treated)
    kept = units.loc[keep]
    sample = matched_sample_of(trials.sample, kept)
    y = np.zeros(len(np.asarray(sample.treat)))
    y[kept["row"].to_numpy()] = np.asarray(y_unit, dtype=float)[keep]
    return sample, y


def bounds_for(sample: Any, y: Any, binary: bool, estimate: float) -> SensitivityResult:
    """Rosenbaum's bounds of the matched sets, one-sided in the direction of ``estimate``."""
    return rosenbaum_bounds(sample, y, alternative="greater" if estimate >= 0 else "less", binary=binary)


def gamma_for(sample: Any, y: Any, binary: bool, estimate: float) -> tuple[float | None, list[str]]:
    """Critical Gamma of the matched sets (one-sided in the direction of ``estimate``), with notes."""
    try:
        result = bounds_for(sample, y, binary, estimate)
    except EstimationError as exc:
        return None, [f"sensitivity analysis not available: {str(exc).splitlines()[0]}"]
    if not result.significant_without_bias:
        return None, []
    return _finite(result.gamma_critical), []


def e_value_ratio(rr: float | None) -> float | None:
    """E-value of a risk ratio (None when it cannot be computed)."""

    if _finite(rr) is None or rr <= 0:
        return None
    try:
        return _finite(e_value(float(rr), scale="risk_ratio").point)
    except (EstimationError, OverflowError, ValueError):
        return None


def e_value_difference(estimate: float, sd: float) -> float | None:
    """E-value of a mean difference through the SMD (RR = exp(0.91 d))."""

    if not (math.isfinite(sd) and sd > 0 and math.isfinite(estimate)):
        return None
    try:
        return _finite(e_value(float(estimate), scale="difference", sd=sd).point)
    except (EstimationError, OverflowError, ValueError):  # an SMD too large for exp(0.91 d)
        return None
