"""Reception centres: type, region and municipality."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

CENTRE_TYPES: tuple[str, ...] = ("ordinary", "family", "health")
CENTRE_TYPE_SHARES: tuple[float, ...] = (0.74, 0.16, 0.10)

# (region, municipality) pairs that host centres, cycled when more centres are needed.
LOCATIONS: tuple[tuple[str, str], ...] = (
    ("ost", "Asker"), ("ost", "Fredrikstad"), ("ost", "Moss"), ("ost", "Drammen"),
    ("indre_ost", "Lillehammer"), ("indre_ost", "Hamar"), ("indre_ost", "Gjøvik"),
    ("indre_ost", "Elverum"), ("sor", "Kristiansand"), ("sor", "Arendal"),
    ("sor", "Skien"), ("sor", "Tønsberg"), ("vest", "Bergen"), ("vest", "Stavanger"),
    ("vest", "Haugesund"), ("vest", "Førde"), ("vest", "Voss"), ("midt", "Trondheim"),
    ("midt", "Steinkjer"), ("midt", "Molde"), ("midt", "Ålesund"), ("midt", "Levanger"),
    ("nord", "Tromsø"), ("nord", "Bodø"), ("nord", "Narvik"), ("nord", "Alta"),
    ("nord", "Harstad"), ("nord", "Mo i Rana"), ("ost", "Halden"), ("sor", "Grimstad"),
    ("vest", "Sogndal"), ("midt", "Namsos"),
)


@dataclass(frozen=True)
class Centres:
    """The centres as arrays: ``centre_type`` is an index into CENTRE_TYPES."""

    ids: np.ndarray
    centre_type: np.ndarray
    frame: pd.DataFrame

    @property
    def count(self) -> int:
        return len(self.ids)


def make_centres(n: int, rng: np.random.Generator) -> Centres:
    """``n`` centres with types in fixed proportions (at least one of each type)."""
    counts = np.maximum(1, np.round(np.array(CENTRE_TYPE_SHARES) * n).astype(int))
    counts[0] = n - counts[1:].sum()
    types = rng.permutation(np.repeat(np.arange(3), counts))
    ids = np.array([f"C{i + 1:03d}" for i in range(n)])
    rows = []
    for i in range(n):
        region, municipality = LOCATIONS[i % len(LOCATIONS)]
        round_ = i // len(LOCATIONS)
        name = f"{municipality} mottak" + (f" {round_ + 1}" if round_ else "")
        rows.append((ids[i], name, CENTRE_TYPES[types[i]], region, municipality))
    frame = pd.DataFrame(rows, columns=["centre_id", "name", "centre_type", "region", "municipality"])
    return Centres(ids=ids, centre_type=types, frame=frame)
