"""The minimum detectable effect (MDE) of a matched design.

The MDE is the smallest true effect that a two-sided test at level ``alpha`` would detect
with probability ``power``. It tells "no effect found" (an MDE smaller than the effect that
matters) from "could not have seen one" (an MDE larger than it).

Continuous outcome with standard deviation sd, effective sample sizes n1 and n0
(Kish's (sum w)^2 / sum w^2 of the matching weights, so reused controls count less):

    MDE = (z_{1-alpha/2} + z_{power}) * sd * sqrt(1/n1 + 1/n0)

Binary outcome with control risk p0 (risk-difference scale): the smallest d > 0 with

    d = (z_{1-alpha/2} + z_{power}) * sqrt(p0 (1-p0) / n0 + (p0+d)(1-p0-d) / n1),

and likewise for a decrease (p0 - d). The calculation ignores the precision gained from
pairing (a conservative choice) and the probability of rejecting in the wrong direction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from estimation.matched import MatchedSample
from estimation.outcome import _outcome
from estimation.parameters import InvalidInputError, InvalidParameterError
from estimation.summary import Summary, SummaryMethods, short_number


@dataclass(frozen=True, repr=False)
class MinimumDetectableEffect(SummaryMethods):
    """The MDE of a design; ``increase`` and ``decrease`` differ only for binary outcomes."""

    increase: float
    decrease: float
    n_treated: float
    n_control: float
    alpha: float
    power: float
    scale: str
    sd: float | None = None
    p0: float | None = None

    @property
    def mde(self) -> float:
        """The larger of the two (the conservative single number)."""
        return max(self.increase, self.decrease)

    def detectable(self, effect: float) -> bool:
        """Whether a true effect of this size (either sign) would be detected with ``power``."""
        return bool(effect >= self.increase if effect >= 0 else -effect >= self.decrease)

    def _headline(self) -> str:
        return (f"MDE {short_number(self.mde)} ({self.scale}; alpha {self.alpha:g}, power "
                f"{self.power:g}; effective n {short_number(self.n_treated)} treated, "
                f"{short_number(self.n_control)} control)")

    def summary(self) -> Summary:
        frame = pd.DataFrame(
            {"value": [self.increase, self.decrease, self.n_treated, self.n_control]},
            index=["MDE (increase)", "MDE (decrease)", "effective n treated",
                   "effective n control"],
        )
        if self.scale == "risk_difference":
            basis = f"control risk {self.p0:.4f}"
        elif self.sd is not None:
            basis = f"outcome SD {self.sd:.4g}"
        else:
            basis = "from the standard error of the estimate"
        notes = (
            f"Two-sided test at alpha = {self.alpha:g} with power {self.power:g}; {basis}; "
            f"scale: {self.scale}.",
            "An estimate that is not significant is evidence of no effect only for effects "
            "at least this large; smaller effects could not have been seen.",
        )
        return Summary("Minimum detectable effect", (("MDE", frame),), notes)


def _sizes(design) -> tuple[float, float]:
    if isinstance(design, MatchedSample):
        treat = np.asarray(design.treat).astype(bool)
        w = np.asarray(design.weights, dtype=float)
        n = []
        for group in (treat, ~treat):
            g = w[group & (w > 0)]
            n.append(float(g.sum() ** 2 / np.sum(g**2)) if g.size else 0.0)
        return n[0], n[1]
    try:
        n1, n0 = (float(v) for v in design)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            "minimum_detectable_effect", "design",
            "a MatchedSample or a pair (n_treated, n_control)", design
        ) from None
    return n1, n0


def _check(n1: float, n0: float, alpha: float, power: float) -> None:
    if not (n1 > 0 and n0 > 0 and math.isfinite(n1) and math.isfinite(n0)):
        raise InvalidInputError(
            "minimum_detectable_effect needs matched treated and control units; got effective "
            f"sizes {n1:g} treated and {n0:g} control."
        )
    for name, value in (("alpha", alpha), ("power", power)):
        if not (isinstance(value, (int, float)) and 0 < value < 1):
            raise InvalidParameterError("minimum_detectable_effect", name, "a float in (0, 1)",
                                        value)


def _binary_mde(p0: float, n1: float, n0: float, z: float, sign: int) -> float:
    """Smallest d > 0 such that p0 + sign*d is detected; inf when no such risk exists."""
    from scipy.optimize import brentq

    room = (1 - p0) if sign > 0 else p0
    def gap(d: float) -> float:
        p1 = p0 + sign * d
        return d - z * math.sqrt(p0 * (1 - p0) / n0 + p1 * (1 - p1) / n1)
    if room <= 0 or gap(room) < 0:
        return float("inf")
    return float(brentq(gap, 0.0, room, xtol=1e-14, rtol=1e-12))


def _mde_from_se(se, alpha: float, power: float) -> MinimumDetectableEffect:
    if not (isinstance(se, (int, float)) and math.isfinite(se) and se > 0):
        raise InvalidParameterError("minimum_detectable_effect", "se",
                                    "a float > 0 (or give a design)", se)
    _check(1.0, 1.0, alpha, power)
    z = NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)
    return MinimumDetectableEffect(z * se, z * se, float("nan"), float("nan"), float(alpha),
                                   float(power), "difference")


def _outcome_moments(sample: MatchedSample, outcome) -> tuple[float, float, bool]:
    """Weighted mean and SD of the outcome among matched controls, and whether it is 0/1."""

    y, name = _outcome(sample, outcome)
    treat = np.asarray(sample.treat).astype(bool)
    w = np.asarray(sample.weights, dtype=float)
    use = ~treat & (w > 0)
    if not use.any() or not np.isfinite(y[use]).all():
        raise InvalidInputError(
            f"minimum_detectable_effect: outcome '{name}' needs finite values for the matched "
            "controls."
        )
    mean = float(np.average(y[use], weights=w[use]))
    var = float(np.average((y[use] - mean) ** 2, weights=w[use]))
    binary = bool(np.all((y[use] == 0) | (y[use] == 1)))
    return mean, math.sqrt(var), binary


def minimum_detectable_effect(
    design=None,
    *,
    se: float | None = None,
    sd: float | None = None,
    p0: float | None = None,
    outcome=None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> MinimumDetectableEffect:
    """The MDE of a matched design, for a continuous (``sd``) or binary (``p0``) outcome.

    ``design`` is a MatchedSample (effective sample sizes of its weights) or a pair
    (n_treated, n_control). Give ``sd`` or ``p0``, or ``outcome`` (values per unit, with a
    MatchedSample) to take them from the matched controls. Or give only ``se``, the
    standard error of an estimate of the design: MDE = (z_{1-alpha/2} + z_power) * se.

    >>> from estimation import minimum_detectable_effect
    >>> mde = minimum_detectable_effect(se=0.05)
    >>> round(mde.mde, 4), mde.power
    (0.1401, 0.8)
    """
    if design is None:
        return _mde_from_se(se, alpha, power)
    n1, n0 = _sizes(design)
    _check(n1, n0, alpha, power)
    if sd is None and p0 is None:
        if outcome is None or not isinstance(design, MatchedSample):
            raise InvalidInputError(
                "minimum_detectable_effect needs the outcome's 'sd' (continuous) or the control "
                "risk 'p0' (binary), or a MatchedSample with 'outcome' to estimate them."
            )
        mean, spread, binary = _outcome_moments(design, outcome)
        sd, p0 = (None, mean) if binary else (spread, None)
    z = NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)
    if p0 is not None:
        if not (isinstance(p0, (int, float)) and 0 < p0 < 1):
            raise InvalidParameterError("minimum_detectable_effect", "p0", "a float in (0, 1)",
                                        p0)
        return MinimumDetectableEffect(
            _binary_mde(p0, n1, n0, z, +1), _binary_mde(p0, n1, n0, z, -1), n1, n0,
            float(alpha), float(power), "risk_difference", None, float(p0),
        )
    if not (isinstance(sd, (int, float)) and math.isfinite(sd) and sd > 0):
        raise InvalidParameterError("minimum_detectable_effect", "sd", "a float > 0", sd)
    mde = z * sd * math.sqrt(1 / n1 + 1 / n0)
    return MinimumDetectableEffect(mde, mde, n1, n0, float(alpha), float(power), "difference",
                                   float(sd), None)
