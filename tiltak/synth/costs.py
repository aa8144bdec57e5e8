"""Costs per measure, centre and month.

A local measure costs a fixed amount a month in each centre that runs it plus an amount per
participant-month; the national course is run centrally (``centre_id`` null) with a
large fixed cost and a high cost per participant-month (a residential course). Amounts
vary by +-5 % from month to month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tiltak.synth.centres import Centres
from tiltak.synth.config import MEASURES
from tiltak.synth.months import period_labels
from tiltak.synth.participation import Participation


@dataclass(frozen=True)
class CostModel:
    """NOK a month: ``fixed`` per running unit, ``per_participant`` per participant-month."""

    fixed: float
    per_participant: float
    central: bool


COST_MODELS: dict[str, CostModel] = {
    "VV": CostModel(6_000, 3_500, central=False),
    "KVL": CostModel(12_000, 9_000, central=False),
    "KVN": CostModel(140_000, 55_000, central=True),
}


def participant_months(part: Participation, start: np.datetime64, months: int,
                       n_centres: int) -> np.ndarray:
    """Array (measures, centres, months) of participants active in each month."""
    counts = np.zeros((len(MEASURES), n_centres, months))
    first = (part.start.astype("datetime64[M]") - start).astype(int)
    end = np.where(np.isnat(part.end), start + (months - 1), part.end.astype("datetime64[M]"))
    last = (end - start).astype(int)
    for offset in range(int((last - first).max(initial=0)) + 1):
        month = first + offset
        live = month <= last
        np.add.at(counts, (part.measure[live], part.centre[live], month[live]), 1)
    return counts


def costs_frame(active: np.ndarray, part: Participation, centres: Centres, start: np.datetime64,
                rng: np.random.Generator) -> pd.DataFrame:
    """The ``costs`` table: one row per measure, running unit and month with activity."""
    months = active.shape[2]
    counts = participant_months(part, start, months, centres.count)
    frames = []
    for m, code in enumerate(MEASURES):
        model = COST_MODELS[code]
        if model.central:
            running = active[m].any(axis=0)[None, :]
            load = counts[m].sum(axis=0)[None, :]
            ids = np.array([None], dtype=object)
        else:
            running, load, ids = active[m] | (counts[m] > 0), counts[m], centres.ids.astype(object)
        unit, month = np.nonzero(running)
        amount = (model.fixed + model.per_participant * load[unit, month])
        amount = np.round(amount * rng.uniform(0.95, 1.05, len(unit)))
        frames.append(pd.DataFrame({"measure": code, "centre_id": ids[unit],
                                    "period": period_labels(start, month), "amount_nok": amount}))
    return pd.concat(frames, ignore_index=True)
