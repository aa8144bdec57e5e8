"""Independent, named random streams derived from one seed.

Each concept (population, exits, surveys, ...) draws from its own stream, so that changing
how one concept is simulated does not shift the random numbers of the others, and the
treated and untreated paths of a participant can share their random numbers.
"""

from __future__ import annotations

import numpy as np

_NAMES: tuple[str, ...] = (
    "centres", "population", "rollout", "moves", "participation", "exits", "exit_days",
    "sessions", "applications", "surveys", "control", "costs", "ids", "start_days",
)


def stream(seed: int, name: str) -> np.random.Generator:
    """The random generator of concept ``name`` for ``seed``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, _NAMES.index(name)])))
