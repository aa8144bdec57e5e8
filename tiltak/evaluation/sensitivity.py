"""Sensitivity and power of one matched design: Rosenbaum Gamma, E-value, MDE.

All three come from ``estimation``; this module only chooses the right function for the
outcome and the design:

* Rosenbaum's critical Gamma: ``rosenbaum_bounds`` picks McNemar-type bounds (rbounds
  ``binarysens``) for a binary outcome with 1:1 pairs, Wilcoxon's signed rank test for other
  1:1 pairs, and Rosenbaum's M-statistic (sensitivitymv ``senmv``) for k:1 and
  variable-ratio matched sets. The one-sided
  alternative follows the observed difference. Gamma is reported only when the estimate
  is significant at Gamma = 1 (otherwise there is nothing for hidden bias to explain).
* The E-value of the point estimate (``e_value``; VanderWeele and Ding 2017): binary
  outcomes on the risk-ratio scale, continuous ones through the SMD (the ATT over the SD of
  the matched comparison outcomes, RR = exp(0.91 d)).
* The minimum detectable effect at 80 % power and 5 % two-sided level in the direction
  the model expects (``minimum_detectable_effect`` from the design's effective sample
  sizes and the comparison group's risk or SD); when that cannot be computed, from the
  estimate's standard error: (z_0.975 + z_0.80) x SE.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DesignSensitivity:
    gamma: float | None
    e_value: float | None
    mde: float | None
    method: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def _finite(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _gamma(sample: Any, y: Any, binary: bool) -> tuple[float | None, str | None]:
    from estimation.sensitivity import rosenbaum_bounds

    result = rosenbaum_bounds(sample, y, binary=binary)
    if not result.significant_without_bias:
        return None, result.method
    return _finite(result.gamma_critical), result.method


def _e_value(effect: Any, sample: Any, y: Any, binary: bool) -> float | None:
    import numpy as np
    from estimation.sensitivity import e_value

    if binary:
        rr = next((r.estimate for r in effect.ratios if r.scale == "risk_ratio"), None)
        return None if _finite(rr) is None or rr <= 0 else _finite(e_value(rr, scale="risk_ratio").point)
    controls = (~np.asarray(sample.treat, bool)) & (np.asarray(sample.weights) > 0)
    sd = float(np.std(y[controls], ddof=1)) if controls.sum() > 1 else float("nan")
    if not (math.isfinite(sd) and sd > 0):
        return None
    return _finite(e_value(float(effect.estimate), scale="difference", sd=sd).point)


def _mde(sample: Any, y: Any, effect: Any, sign: int) -> float | None:
    from estimation.power import minimum_detectable_effect

    try:
        result = minimum_detectable_effect(sample, outcome=y)
        return _finite(result.increase if sign > 0 else result.decrease)
    except _estimation_errors():
        se = _finite(effect.std_error)
        return None if se is None or se <= 0 else _finite(minimum_detectable_effect(se=se).increase)


def _estimation_errors() -> tuple[type[BaseException], ...]:
    from estimation.errors import EstimationError

    return (EstimationError,)


def design_sensitivity(sample: Any, y: Any, effect: Any, binary: bool, sign: int = 1) -> DesignSensitivity:
    """Critical Gamma, E-value and MDE (in the expected direction ``sign``) of one estimate."""
    notes: list[str] = []
    try:
        gamma, method = _gamma(sample, y, binary)
    except _estimation_errors() as exc:
        gamma, method = None, None
        notes.append(f"sensitivity analysis not available: {str(exc).splitlines()[0]}")
    try:
        e_value = _e_value(effect, sample, y, binary)
    except _estimation_errors():
        e_value = None
    return DesignSensitivity(gamma, e_value, _mde(sample, y, effect, sign), method, tuple(notes))
