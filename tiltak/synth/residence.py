"""Residence spells: from arrival, split at moves between centres, ended by the exit."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tiltak.synth.centres import Centres
from tiltak.synth.exits import EventDates
from tiltak.synth.months import month_start
from tiltak.synth.simulation import Simulation


def residence_frame(person_id: np.ndarray, centres: Centres, sim: Simulation,
                    dates: EventDates, start: np.datetime64) -> pd.DataFrame:
    """The ``residence`` table; ``date_to`` is exclusive and null while ongoing."""
    n, months = sim.centre.shape
    last = np.where(sim.exit_month >= 0, sim.exit_month, months - 1)
    moved = np.zeros((n, months), dtype=bool)
    moved[:, 1:] = sim.centre[:, 1:] != sim.centre[:, :-1]
    moved &= np.arange(months)[None, :] <= last[:, None]
    who, when = np.nonzero(moved)
    person = np.concatenate([np.arange(n), who])
    spell_start = np.concatenate([dates.arrival, month_start(start, when)])
    centre = np.concatenate([sim.centre[:, 0], sim.centre[who, when]])
    order = np.lexsort((spell_start, person))
    person, spell_start, centre = person[order], spell_start[order], centre[order]
    same_next = np.append(person[1:] == person[:-1], False)
    spell_end = np.where(same_next, np.roll(spell_start, -1), dates.exit[person])
    return pd.DataFrame({
        "person_id": person_id[person], "centre_id": centres.ids[centre],
        "date_from": spell_start.astype("datetime64[s]"), "date_to": spell_end.astype("datetime64[s]"),
    })
