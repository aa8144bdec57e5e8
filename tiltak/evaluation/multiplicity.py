"""Multiplicity: Holm's step-down adjustment within one model's tested changes.

A logic model tests several expected changes at once; the family is the model's tested
changes (``evaluation.tests`` that name a person-level outcome), per estimand. Holm's
adjusted p-value of the j-th smallest of m p-values is
``max over i <= j of min(1, (m - i + 1) p_(i))``; a change is significant when its adjusted
p-value is below 0.05, which keeps the chance of any false "confirmed" or "contradicted" in
the model at 5 % or less whatever the dependence between the tests. A change without a
p-value (not estimated) counts in m and can never be significant. The intervals shown stay
the unadjusted 95 % intervals; the minimum detectable effect uses the level 0.05 / m (the
level the first of Holm's steps demands).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tiltak.evaluation.estimate import replace_evidence

FAMILY_ALPHA = 0.05


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm-adjusted p-values (``None`` where no p-value was given; it still counts in m).

    >>> holm([0.01, 0.04, 0.03, None])
    [0.04, 0.09, 0.09, None]
    """
    m = len(p_values)
    known = sorted((p, i) for i, p in enumerate(p_values) if p is not None and p == p)
    out: list[float | None] = [None] * m
    running = 0.0
    for rank, (p, i) in enumerate(known):
        running = max(running, min(1.0, (m - rank) * float(p)))
        out[i] = round(running, 15)
    return out


def holm_adjust(estimates: Sequence[Any]) -> list[Any]:
    """The model's estimates with ``evidence.p_value_holm`` set, per estimand."""

    out = list(estimates)
    for estimand in sorted({e.estimand for e in estimates}):
        group = [i for i, e in enumerate(estimates) if e.estimand == estimand]
        p = [None if estimates[i].error or estimates[i].evidence is None else estimates[i].evidence.p_value
             for i in group]
        for i, adjusted in zip(group, holm(p)):
            out[i] = replace_evidence(estimates[i], p_value_holm=adjusted, n_tests=len(group))
    return out
