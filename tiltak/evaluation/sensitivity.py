"""Sensitivity to hidden bias of one matched estimate: Rosenbaum's Gamma and the E-value.

* Rosenbaum's critical Gamma comes from ``estimation``: McNemar-type bounds (rbounds
  ``binarysens``) for a binary outcome in 1:1 pairs, Wilcoxon's signed ranks for 1:1 pairs
  otherwise, Rosenbaum's M-statistics (``sensitivitymv::senmv``) for k:1 and
  variable-ratio matched sets (``estimation.rosenbaum_bounds`` chooses). For a register
  outcome the outcome is the event by the horizon; a comparison person censored before it
  (a later start under ``enrol_vs_not``) has no known outcome and is left out of the set.
  The one-sided alternative follows the estimate; Gamma is reported only when the test is
  significant at Gamma = 1 (otherwise there is nothing for hidden bias to explain).
* The E-value of the point estimate (``estimation.e_value``; VanderWeele and Ding 2017):
  binary outcomes on the risk-ratio scale (the two curves at the horizon), continuous ones
  through the SMD (the ATT over the SD of the matched comparison outcomes, RR = exp(0.91 d)).
"""

from __future__ import annotations

import math
from typing import Any

import estimation
from estimation.errors import EstimationError
from estimation.sensitivity import e_value


def _finite(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _estimation_errors() -> tuple[type[BaseException], ...]:

    return (EstimationError,)


def _bounds(sample: Any, y: Any, alternative: str) -> Any:

    if hasattr(estimation, "rosenbaum_bounds"):
        return estimation.rosenbaum_bounds(sample, y, alternative=alternative)
    import numpy as np

    one_to_one = np.asarray(sample.match_matrix).shape[1] == 1
    binary = set(np.unique(y)) <= {0.0, 1.0}
    if binary and one_to_one:
        return estimation.rosenbaum_binary(sample, y, alternative=alternative)
    return estimation.rosenbaum_wilcoxon(sample, y, alternative=alternative)


def gamma_for(sample: Any, y: Any, binary: bool, estimate: float) -> tuple[float | None, list[str]]:
    """Critical Gamma of the matched sets (one-sided in the direction of ``estimate``), with notes."""
    alternative = "greater" if estimate >= 0 else "less"
    try:
        result = _bounds(sample, y, alternative)
    except _estimation_errors() as exc:
        return None, [f"sensitivity analysis not available: {str(exc).splitlines()[0]}"]
    except TypeError:  # an estimation release without the 'alternative' keyword
        return None, ["sensitivity analysis not available in this release of estimation"]
    if not result.significant_without_bias:
        return None, []
    return _finite(result.gamma_critical), []


def e_value_ratio(rr: float | None) -> float | None:
    """E-value of a risk ratio (None when it cannot be computed)."""

    if _finite(rr) is None or rr <= 0:
        return None
    try:
        return _finite(e_value(float(rr), scale="risk_ratio").point)
    except (*_estimation_errors(), OverflowError, ValueError):
        return None


def e_value_difference(estimate: float, sd: float) -> float | None:
    """E-value of a mean difference through the SMD (RR = exp(0.91 d))."""

    if not (math.isfinite(sd) and sd > 0 and math.isfinite(estimate)):
        return None
    try:
        return _finite(e_value(float(estimate), scale="difference", sd=sd).point)
    except (*_estimation_errors(), OverflowError, ValueError):  # an SMD too large for exp(0.91 d)
        return None
