"""Common support, caliper width and matching order, with MatchIt's definitions."""

from __future__ import annotations

import numpy as np

from estimation.ordering import stable_argsort
from estimation.parameters import InvalidInputError

DISCARDS = ("none", "treated", "control", "both")
ORDERS = ("largest", "smallest", "data", "random")


def discard_mask(distance: np.ndarray, treat: np.ndarray, rule: str) -> np.ndarray:
    """Units outside the common support of the distance (MatchIt's ``discard``).

    ``control``: controls outside the range of the treated units' distances;
    ``treated``: treated units outside the controls' range; ``both``: every unit outside
    the overlap ``[max(min0, min1), min(max0, max1)]``; ``none``: nothing.
    """
    if rule == "none":
        return np.zeros(distance.shape[0], dtype=bool)
    d1, d0 = distance[treat], distance[~treat]
    if rule == "control":
        return ~treat & ((distance < d1.min()) | (distance > d1.max()))
    if rule == "treated":
        return treat & ((distance < d0.min()) | (distance > d0.max()))
    low, high = max(d0.min(), d1.min()), min(d0.max(), d1.max())
    return (distance < low) | (distance > high)


def caliper_width(caliper: float | None, std_caliper: bool, distance: np.ndarray,
                  discarded: np.ndarray) -> float | None:
    """The caliper in distance units: in SDs, times the sample SD of the distance over
    all units not discarded (treated and control together; MatchIt's ``std.caliper``).

    As in MatchIt, a caliper on a distance with a single value is ignored, and one on a
    distance with two values (a binary score) is an error.
    """
    if caliper is None:
        return None
    # (the full count is only needed when the first values already show at most two)
    distinct = np.unique(distance).size if np.unique(distance[:1000]).size <= 2 else 3
    if distinct <= 1:
        return None
    if distinct == 2:
        raise InvalidInputError(
            "A caliper cannot be used when the distance takes only two values (the "
            "propensity model has a single binary covariate); drop the caliper or add "
            "covariates.")
    if not std_caliper:
        return float(caliper)
    kept = distance[~discarded]
    sd = float(np.std(kept, ddof=1)) if kept.size > 1 else 0.0
    return float(caliper) * sd


def treated_order(distance: np.ndarray, treated: np.ndarray, order: str,
                  seed: int | None) -> np.ndarray:
    """Treated rows in the order they choose controls (ties keep data order, as R's ``order``)."""
    d = distance[treated]
    if order == "largest":
        return treated[stable_argsort(-d)]
    if order == "smallest":
        return treated[stable_argsort(d)]
    if order == "random":
        return treated[np.random.default_rng(seed).permutation(treated.size)]
    return treated
