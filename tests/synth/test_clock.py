"""The continuous clock of exits within a month (tiltak.synth.clock)."""

from __future__ import annotations

import numpy as np
import pytest

from tiltak.synth.clock import clock_of_day, day_of_clock, month_exit, start_day

N = 400_000
P = np.array([0.03, 0.002, 0.02, 0.015, 0.002, 0.001])


def _draws(seed: int = 3):
    rng = np.random.default_rng(seed)
    return -np.log1p(-rng.random(N)), rng.random(N)


def _month(p_before, p_after=None, switch=1.0, begin=0.0, days=31, seed=3):
    e, q = _draws(seed)
    pb = np.broadcast_to(p_before, (N, 6))
    pa = pb if p_after is None else np.broadcast_to(p_after, (N, 6))
    return month_exit(pb, pa, np.full(N, switch), np.full(N, begin), e, q, np.full(N, float(days)))


def test_a_whole_month_gives_the_monthly_probabilities():
    out = _month(P)
    shares = np.bincount(out.kind[out.kind >= 0], minlength=6) / N
    assert (np.abs(shares - P) < 4 * np.sqrt(P / N)).all()
    days = out.day[out.kind >= 0]
    assert days.min() == 2 and days.max() == 31  # moves happen on the first: no exit that day
    # constant hazard on a low monthly risk: nearly uniform over days 2-31
    counts = np.bincount(days, minlength=32)[2:]
    assert np.abs(counts / counts.mean() - 1).max() < 0.15
    first, second = counts[:15].sum(), counts[15:].sum()
    assert 1.0 < first / second < 1.08  # the risk set thins: slightly more early in the month


def test_days_and_clock_agree():
    days = np.full(30, 31.0)
    for day in range(2, 32):
        clock = clock_of_day(np.full(30, day), days)
        assert (day_of_clock(clock, days) == day).all()
        assert (day_of_clock(clock - 1e-6, days)[0] == day - 1) or day == 2
    assert (start_day(np.linspace(0, 0.999999, 1000)) >= 1).all()
    assert (start_day(np.linspace(0, 0.999999, 1000)) <= 27).all()


def test_paths_agree_until_the_switch():
    """Common random numbers: with and without treatment the month is the same until the start."""
    treated = P * np.array([3, 1, 1, 1, 1, 1])
    switch = clock_of_day(np.array([16.0]), np.array([31.0]))[0]
    untreated = _month(P)
    both = _month(P, treated, switch=switch)
    early = (untreated.kind >= 0) & (untreated.clock < switch)
    assert early.sum() > 1000
    assert (both.kind[early] == untreated.kind[early]).all()
    assert (both.day[early] == untreated.day[early]).all()
    assert not ((both.kind >= 0) & (both.clock < switch) & ~early).any()
    # after the switch the treated hazards apply: more assisted returns, on days >= 16
    late = (both.kind == 0) & (both.clock >= switch)
    assert (both.day[late] >= 16).all()
    assert late.sum() > 2.5 * ((untreated.kind == 0) & (untreated.clock >= switch)).sum()


def test_at_risk_only_after_the_decision_day():
    begin = clock_of_day(np.array([21.0]), np.array([30.0]))[0]  # decision on day 20
    out = _month(P, begin=begin, days=30)
    assert out.day[out.kind >= 0].min() == 21
    # the hazard is not compressed into the rest of the month: fewer exits than a whole month
    whole = _month(P, days=30)
    ratio = (out.kind >= 0).mean() / (whole.kind >= 0).mean()
    assert ratio == pytest.approx(10 / 29, abs=0.02)
