"""Pseudonymous identifiers and the ``persons`` table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tiltak.synth.nationalities import NATIONALITIES
from tiltak.synth.population import HOUSEHOLDS, Population


def pseudonyms(n: int, rng: np.random.Generator) -> np.ndarray:
    """'P' + zero-padded numbers 1..n in a deterministic shuffled order (entry order hidden)."""
    width = max(6, len(str(n)))
    numbers = rng.permutation(n) + 1
    return np.array([f"P{k:0{width}d}" for k in numbers])


def persons_frame(person_id: np.ndarray, pop: Population, start: np.datetime64) -> pd.DataFrame:
    """The ``persons`` table, with the optional special-category columns."""
    first_month = start + np.maximum(pop.decision_month, 0)
    first_year = first_month.astype("datetime64[Y]").astype(int) + 1970
    return pd.DataFrame({
        "person_id": person_id,
        "birth_year": (first_year - pop.age).astype("int32"),
        "sex": np.where(pop.male, "male", "female"),
        "nationality": np.array([n.code for n in NATIONALITIES])[pop.nationality],
        "household": np.array(HOUSEHOLDS)[pop.household],
        "dublin": pop.dublin, "identity_documented": pop.identity,
        "prior_absconding": pop.absconding, "health_issue": pop.health,
        "special_circumstances": pop.special,
    })
