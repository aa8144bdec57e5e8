"""Exits on a continuous clock within each month.

The exit model gives monthly probabilities ``p_k`` of each exit type. Within a month the
hazards are taken as constant: the total hazard is ``L = -log(1 - sum p_k)`` per month and
type ``k`` takes the share ``p_k / sum p_k``, so a whole month at risk ends in an exit of
type ``k`` with probability exactly ``p_k``. The clock runs from 0 (start of day 2: moves
happen on the first) to 1 (end of the month's last day); clock ``x`` falls on day
``2 + floor(x (D - 1))`` of a month of ``D`` days.

A month can have two regimes: a participant who starts a measure on day ``s`` is at risk
under the untreated hazards until the start and under the treated ones from it (the start
day itself counts as treated). A person whose final decision falls in the month is at risk
only after the decision day. One exponential draw per person-month gives the time of exit
by inverting the cumulative hazard, one uniform draw its type; the paths with and without
treatment share both (common random numbers), so they agree up to the start.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tiltak.synth.hazards import EXIT_TYPES

START_DAYS = 27
"""Measures start on days 1-27 of the enrolment month."""


@dataclass(frozen=True)
class MonthExit:
    """The outcome of one month per person: ``kind`` (-1 none), ``day`` (-1 none), ``clock``."""

    kind: np.ndarray
    day: np.ndarray
    clock: np.ndarray


def start_day(uniform: np.ndarray) -> np.ndarray:
    """Start day 1..27 of a measure from a uniform draw."""
    return 1 + np.minimum(np.floor(uniform * START_DAYS).astype(np.int64), START_DAYS - 1)


def clock_of_day(day: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Clock at the start of ``day`` (days 1 and 2 both map to 0)."""
    return np.clip((np.asarray(day, dtype=float) - 2.0) / (days - 1.0), 0.0, 1.0)


def day_of_clock(clock: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Day of the month on which clock ``clock`` (in [0, 1)) falls.

    The small tolerance makes the start of a day (``clock_of_day``) fall on that day despite
    rounding, so that an exit at or after a start clock is never dated before it.
    """
    return np.minimum(2 + np.floor(clock * (days - 1) + 1e-9).astype(np.int64), days).astype(np.int64)


def _rate(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    total = p.sum(axis=1)
    return -np.log1p(-np.minimum(total, 1 - 1e-12)), total


def _kind(p: np.ndarray, total: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    share = np.cumsum(p, axis=1) / np.maximum(total, 1e-300)[:, None]
    return np.minimum((uniform[:, None] >= share).sum(axis=1), len(EXIT_TYPES) - 1)


def month_exit(p_before: np.ndarray, p_after: np.ndarray, switch: np.ndarray, begin: np.ndarray,
               exponential: np.ndarray, type_uniform: np.ndarray, days: np.ndarray) -> MonthExit:
    """Exit time and type of each person in one month.

    ``p_before``/``p_after`` (n, 6) are the monthly probabilities before and from the
    ``switch`` clock (1: no switch); ``begin`` is the clock from which the person is at risk;
    ``exponential`` standard exponential draws; ``type_uniform`` uniform draws for the type.
    """
    rate0, total0 = _rate(p_before)
    rate1, total1 = _rate(p_after)
    cut = np.maximum(switch, begin)
    before = rate0 * np.maximum(np.minimum(switch, 1.0) - begin, 0.0)
    after = rate1 * (1.0 - cut)
    leaves = exponential < before + after
    early = exponential < before
    with np.errstate(divide="ignore", invalid="ignore"):
        clock = np.where(early, begin + exponential / rate0, cut + (exponential - before) / rate1)
    clock = np.where(leaves, np.clip(clock, 0.0, np.nextafter(1.0, 0.0)), np.nan)
    kind = np.where(early, _kind(p_before, total0, type_uniform), _kind(p_after, total1, type_uniform))
    kind = np.where(leaves, kind, -1)
    day = np.where(leaves, day_of_clock(np.nan_to_num(clock), days), -1)
    return MonthExit(kind, day, clock)
