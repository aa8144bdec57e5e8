"""Moves between centres while obliged to leave."""

from __future__ import annotations

import numpy as np

from tiltak.synth.centres import Centres

MOVE_PROBABILITY = 0.012
"""Monthly probability of moving to another centre (on the first of the month)."""
SAME_TYPE_SHARE = 0.8


def centre_schedule(first_centre: np.ndarray, decision_month: np.ndarray, months: int,
                    centres: Centres, rng: np.random.Generator) -> np.ndarray:
    """Array (n, months) of the centre each person lives in on each month's first day.

    A person stays in the first centre until the month after the final decision; from then
    on moves happen with MOVE_PROBABILITY a month, mostly to a centre of the same type.
    Moves after an exit are ignored by the residence spells.
    """
    n = len(first_centre)
    schedule = np.empty((n, months), dtype=np.int64)
    schedule[:, 0] = first_centre
    types = centres.centre_type
    for t in range(1, months):
        previous = schedule[:, t - 1]
        moving = (rng.random(n) < MOVE_PROBABILITY) & (decision_month < t)
        target = rng.integers(0, centres.count, n)
        same = rng.random(n) < SAME_TYPE_SHARE
        target = np.where(same & (types[target] != types[previous]), previous, target)
        schedule[:, t] = np.where(moving & (target != previous), target, previous)
    return schedule
