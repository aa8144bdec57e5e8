"""Staggered roll-out of the measures to centres (with project periods that may end)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tiltak.synth.config import MEASURES


@dataclass(frozen=True)
class RolloutPlan:
    """How one measure reaches centres.

    ``share``: share of centres that get it; start months are uniform in
    ``first_start..last_start`` (as shares of the window); a project then runs for
    ``min_duration..max_duration`` months (``None``: until the end of the window).
    ``weight``: relative pull of the measure when a centre offers several.
    """

    share: float
    first_start: float
    last_start: float
    min_duration: int | None
    max_duration: int | None
    weight: float


PLANS: dict[str, RolloutPlan] = {
    "VV": RolloutPlan(0.40, 0.00, 0.50, None, None, 0.55),
    "KVL": RolloutPlan(0.30, 0.08, 0.66, 9, 18, 0.30),
    "KVN": RolloutPlan(0.35, 0.15, 0.35, None, None, 0.15),
}


def make_rollout(n_centres: int, months: int, rng: np.random.Generator) -> np.ndarray:
    """Boolean array ``active[measure, centre, month]`` in the order of MEASURES."""
    active = np.zeros((len(MEASURES), n_centres, months), dtype=bool)
    for m, code in enumerate(MEASURES):
        plan = PLANS[code]
        k = max(1, round(plan.share * n_centres))
        chosen = rng.choice(n_centres, size=k, replace=False)
        low, high = int(plan.first_start * months), int(plan.last_start * months)
        starts = rng.integers(low, max(low, high) + 1, size=k)
        if plan.min_duration is None:
            ends = np.full(k, months)
        else:
            ends = starts + rng.integers(plan.min_duration, plan.max_duration + 1, size=k)
        for centre, first, stop in zip(chosen, starts, ends):
            active[m, centre, first:min(stop, months)] = True
    return active
