"""Aggregates of a matched sample for the report: balance terms, overlap, weighted means."""

from __future__ import annotations

import math
from typing import Any

OVERLAP_BINS = 24


def _f(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def weighted_mean(y, weights, mask) -> float | None:
    import numpy as np

    w = np.asarray(weights, dtype=float)[mask]
    if w.sum() <= 0:
        return None
    return float(np.sum(w * np.asarray(y, dtype=float)[mask]) / w.sum())


def balance_terms(balance: Any) -> tuple[dict[str, Any], ...]:
    """Per covariate term: SMD before and after matching and weighting, variance ratio after."""
    frame = balance.frame.iloc[1:] if balance.has_distance else balance.frame
    return tuple(
        {"term": str(r.term), "smd_before": _f(r.smd_before), "smd_after": _f(r.smd_after),
         "var_ratio_after": _f(r.var_ratio_after)}
        for r in frame.itertuples(index=False)
    )


def overlap(sample: Any, min_count: int = 5) -> dict[str, Any]:
    """Shares per bin of the logit propensity score: all participants vs all candidates.

    Bins holding fewer than ``min_count`` people of a group are shown as 0 (suppressed).
    """
    import numpy as np

    p = np.clip(np.asarray(sample.distance, dtype=float), 1e-9, 1 - 1e-9)
    score = np.log(p / (1 - p)) if sample.settings.get("distance") == "glm" else np.asarray(sample.distance, float)
    treat = np.asarray(sample.treat, bool)
    lo = float(np.min(score[treat])) - 1.0  # comparison persons far below all participants
    hi = float(np.max(score))               # are counted in the first bin
    score = np.maximum(score, lo)
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, OVERLAP_BINS + 1)
    shares, suppressed = {}, 0
    for name, group in (("treated", treat), ("control", ~treat)):
        counts = np.histogram(score[group], bins=edges)[0]
        small = (counts > 0) & (counts < min_count)
        suppressed += int(small.sum())
        shares[name] = [round(float(v), 6) for v in np.where(small, 0, counts) / max(int(group.sum()), 1)]
    return {"scale": "logit", "edges": [round(float(e), 6) for e in edges], **shares, "suppressed_bins": suppressed}
