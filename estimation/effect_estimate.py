"""The result of an effect estimate (:class:`EffectEstimate`) and its normal-theory
interval and p-value (:func:`normal_inference`); shared by the matched-sample estimator
(:mod:`estimation.effects`, which re-exports them) and the M-estimation of weighted samples
(:mod:`estimation.mestimation`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np
import pandas as pd

from estimation.estimands import estimand_words
from estimation.summary import Summary, SummaryMethods, short_number

SE_LABELS = {
    "cluster": "cluster-robust CR1 on matched pairs/subclasses",
    "multiway": "multi-way cluster-robust CR1 (Cameron, Gelbach and Miller 2011)",
    "robust": "heteroskedasticity-robust HC1 (each unit independent)",
    "abadie_imbens": "Abadie-Imbens (2006) for matching estimators",
    "m_estimation": "M-estimation sandwich stacking the weight model (HC0)",
    "sandwich": "sandwich of the treated mean and the control regression (HC0)",
}
METHOD_WORDS = {
    "difference_in_means": "difference in means",
    "regression": "regression-adjusted",
    "control_outcome_regression": "control-outcome regression (the comparison units' own covariate slopes)",
}
ASSUMPTIONS = (
    "No unmeasured confounding: given the covariates, participation is independent of the "
    "potential outcomes (conditional ignorability).",
    "Overlap: every treated unit has comparable controls (common support).",
    "No interference: one person's participation does not change another's outcome (SUTVA).",
    "The matched controls' outcomes stand in for what the treated would have had without "
    "the measure; uncertainty of the propensity score estimate is not propagated.",
)


@dataclass(frozen=True, eq=False, repr=False)
class EffectEstimate(SummaryMethods):
    """An effect estimate with its uncertainty; immutable.

    ``estimate``, ``ci_low`` and ``ci_high`` are on the scale named by ``scale``
    (difference, risk_difference, risk_ratio, odds_ratio); for the ratio scales
    ``std_error`` is the standard error of the log ratio. ``ratios`` holds the risk ratio
    and the odds ratio of a binary outcome when they are defined.
    """

    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    n_treated: int
    n_control: int
    method: str
    se_type: str
    estimand: str = "ATT"
    scale: str = "difference"
    outcome: str = "outcome"
    alpha: float = 0.05
    n_clusters: int | None = None
    ess_control: float = float("nan")
    assumptions: tuple[str, ...] = ASSUMPTIONS
    notes: tuple[str, ...] = ()
    ratios: tuple["EffectEstimate", ...] = field(default_factory=tuple)
    cluster_counts: tuple[int, ...] = ()

    def to_dict(self) -> dict:
        """Plain values for JSON (ratios nested as a list of dicts)."""
        keys = ("estimate", "std_error", "ci_low", "ci_high", "p_value", "n_treated",
                "n_control", "method", "se_type", "estimand", "scale", "outcome", "alpha",
                "n_clusters", "ess_control")
        out = {k: _json_value(getattr(self, k)) for k in keys}
        out["cluster_counts"] = list(self.cluster_counts)
        out["assumptions"] = list(self.assumptions)
        out["notes"] = list(self.notes)
        out["ratios"] = [r.to_dict() for r in self.ratios]
        return out

    def frame(self) -> pd.DataFrame:
        """One row per scale: estimate, standard error, interval and p-value."""
        rows = [self, *self.ratios]
        level = f"{100 * (1 - self.alpha):g}%"
        return pd.DataFrame(
            {
                "estimate": [r.estimate for r in rows],
                "std_error": [r.std_error for r in rows],
                f"ci_low ({level})": [r.ci_low for r in rows],
                f"ci_high ({level})": [r.ci_high for r in rows],
                "p_value": [r.p_value for r in rows],
            },
            index=[r.scale for r in rows],
        )

    def _headline(self) -> str:
        level = f"{100 * (1 - self.alpha):g}%"
        what = METHOD_WORDS.get(self.method, self.method)
        return (f"{self.estimand} on '{self.outcome}' = {short_number(self.estimate)} "
                f"(SE {short_number(self.std_error)}; {level} CI {short_number(self.ci_low)} to "
                f"{short_number(self.ci_high)}), {what}"
                + ("" if self.scale == "difference" else f", {self.scale.replace('_', ' ')}"))

    def summary(self) -> Summary:
        """Text/HTML/frame rendering that states the estimand and the assumptions."""
        sizes = pd.DataFrame(
            {"n": [self.n_treated, self.n_control],
             "effective n": [float(self.n_treated), self.ess_control]},
            index=["treated (matched)", "control (matched)"],
        )
        what = METHOD_WORDS.get(self.method, self.method)
        notes = (
            f"Estimand: {self.estimand}, {estimand_words(self.estimand)}, for outcome "
            f"'{self.outcome}'; {what}.",
            f"Standard error: {self._se_label()}; normal-based intervals and two-sided "
            "p-values.",
            *(f"Assumption: {a}" for a in self.assumptions),
            *self.notes,
        )
        return Summary(f"Effect on '{self.outcome}' ({self.estimand})",
                       (("Estimates", self.frame()), ("Matched sample", sizes)), notes)

    def _se_label(self) -> str:
        if self.se_type == "cluster" and len(self.cluster_counts) > 1:
            sizes = " x ".join(str(g) for g in self.cluster_counts)
            return f"{SE_LABELS['multiway']} ({sizes} clusters)"
        label = SE_LABELS.get(self.se_type, self.se_type)
        return label + (f" ({self.n_clusters} clusters)" if self.se_type == "cluster" else "")


def _json_value(value):
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, np.integer):
        return int(value)
    return value


def normal_inference(estimate: float, se: float, alpha: float) -> tuple[float, float, float]:
    """(ci_low, ci_high, p_value) from the normal distribution; p is NaN when se is 0."""
    z = NormalDist().inv_cdf(1 - alpha / 2)
    if not np.isfinite(se):
        return float("nan"), float("nan"), float("nan")
    if se <= 0:
        return estimate, estimate, float("nan")
    p = math.erfc(abs(estimate / se) / math.sqrt(2.0))
    return estimate - z * se, estimate + z * se, p


RATIO_NOTE = "std_error is that of the log ratio; the interval is exp(log ratio +- z se)."


def ratio_inference(p1: float, p0: float, vcov: np.ndarray, alpha: float):
    """Risk and odds ratio of two proportions by the delta method on the log scale.

    ``vcov`` is the 2 x 2 covariance of (p1, p0). Yields (scale, ratio, se of the log
    ratio, ci_low, ci_high, p_value), the interval exp(log ratio +- z se).
    """
    for scale, log_ratio, grad in (
        ("risk_ratio", math.log(p1 / p0), np.array([1 / p1, -1 / p0])),
        ("odds_ratio", math.log(p1 / (1 - p1)) - math.log(p0 / (1 - p0)),
         np.array([1 / (p1 * (1 - p1)), -1 / (p0 * (1 - p0))])),
    ):
        se = float(np.sqrt(grad @ vcov @ grad))
        low, high, p = normal_inference(log_ratio, se, alpha)
        yield scale, math.exp(log_ratio), se, math.exp(low), math.exp(high), p
