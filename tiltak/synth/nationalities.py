"""Nationalities of the synthetic population: returnability and return agreements."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Nationality:
    """One origin country.

    ``agreement_month`` is the month index (0 = first simulated month) from which a return
    agreement is in force; negative means in force before the window, ``None`` no agreement.
    ``share`` is the share of the population with this nationality.
    """

    code: str
    name: str
    returnability: str
    agreement_month: int | None
    share: float


NATIONALITIES: tuple[Nationality, ...] = (
    Nationality("AFG", "Afghanistan", "medium", -10, 0.20),
    Nationality("IRQ", "Iraq", "medium", -30, 0.14),
    Nationality("SOM", "Somalia", "low", None, 0.12),
    Nationality("ERI", "Eritrea", "low", None, 0.07),
    Nationality("ETH", "Ethiopia", "low", 1, 0.10),
    Nationality("IRN", "Iran", "low", None, 0.10),
    Nationality("RUS", "Russian Federation", "high", -60, 0.09),
    Nationality("NGA", "Nigeria", "medium", 18, 0.07),
    Nationality("SRB", "Serbia", "high", -40, 0.11),
)

RETURNABILITY_LEVELS: tuple[str, ...] = ("high", "medium", "low")


def nationality_frame(start: np.datetime64) -> pd.DataFrame:
    """The ``nationalities`` contract table."""
    rows = []
    for nat in NATIONALITIES:
        agreement = None
        if nat.agreement_month is not None:
            agreement = (start + nat.agreement_month).astype("datetime64[D]")
        rows.append((nat.code, nat.name, nat.returnability, agreement))
    frame = pd.DataFrame(rows, columns=["nationality", "name", "returnability", "return_agreement_from"])
    frame["return_agreement_from"] = pd.to_datetime(frame["return_agreement_from"]).astype("datetime64[s]")
    return frame.sort_values("nationality", ignore_index=True)


def agreement_in_force(nationality: np.ndarray, month: np.ndarray | int) -> np.ndarray:
    """Whether each person's nationality (index into NATIONALITIES) has an agreement in ``month``."""
    table = np.array([n.agreement_month if n.agreement_month is not None else 10**6
                      for n in NATIONALITIES])
    return np.asarray(month) >= table[nationality]


def returnability_codes(nationality: np.ndarray) -> np.ndarray:
    """Returnability level index (0 high, 1 medium, 2 low) of each person's nationality."""
    table = np.array([RETURNABILITY_LEVELS.index(n.returnability) for n in NATIONALITIES])
    return table[nationality]
