"""Subclassification on the propensity score, as MatchIt's ``method = "subclass"`` (4.5).

The units not discarded are cut into subclasses at quantiles of the distance: of the
treated units for the ATT, of the controls for the ATC, of all units for the ATE
(``subclass=6`` gives six subclasses of equal treated size for the ATT). A subclass left
without a treated or a control unit gets units moved in from its neighbours (MatchIt's
``subclass_scoot``, ``min_n`` units of each group at least) or, with ``min_n=0``, is dropped.
The weights are MatchIt's subclass weights (``estimation.strata``): marginal mean weighting
through stratification.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np

from estimation.matched import MatchedSample
from estimation.parameters import (
    InvalidInputError,
    InvalidParameterError,
    NotFittedError,
    Parameters,
    check_choice,
)
from estimation.rstats import find_interval, quantile7, seq_length
from estimation.score import check_estimand, scored_data
from estimation.strata import mixed_subclasses, subclass_weights
from estimation.support import DISCARDS, discard_mask

NAME = "Subclassification"


class SubclassificationWarning(UserWarning):
    """Fewer subclasses than requested (ties in the distance)."""


def _breakpoints(owner: str, subclass: Any) -> np.ndarray:
    """Quantile probabilities 0 ... 1 from a number of subclasses or a list of quantiles."""
    if isinstance(subclass, numbers.Real) and not isinstance(subclass, bool):
        if round(float(subclass)) <= 1:
            raise InvalidParameterError(owner, "subclasses", "a number > 1 or a list of "
                                        "quantiles in [0, 1]", subclass)
        return seq_length(0.0, 1.0, int(round(float(subclass))) + 1)
    try:
        probs = np.sort(np.asarray(subclass, dtype=np.float64).ravel())
    except (TypeError, ValueError):
        probs = np.array([np.nan])
    if probs.size == 0 or not np.all((probs >= 0) & (probs <= 1)):
        raise InvalidParameterError(owner, "subclasses", "a number > 1 or a list of quantiles "
                                    "in [0, 1]", subclass)
    if probs[0] != 0:
        probs = np.r_[0.0, probs]
    if probs[-1] != 1:
        probs = np.r_[probs, 1.0]
    return probs


def _soft(values: np.ndarray) -> np.ndarray:
    return np.maximum(values - 1, 0)


def _take_from_left(counts: np.ndarray, first: int) -> bool:
    """MatchIt's choice of the side to move a unit from into the empty subclass ``first``
    (0-based): the left unless it is empty-handed or the right side is weightier."""
    k = counts.shape[0]
    if first == k - 1:
        return True
    if first == 0:
        return False
    left = np.sum(_soft(counts[:first]) / np.abs(first - np.arange(first)))
    right = np.sum(_soft(counts[first + 1:]) / np.abs(first - np.arange(first + 1, k)))
    return bool(left >= right)


def _move_one(sub: np.ndarray, x: np.ndarray, in_group: np.ndarray, counts: np.ndarray,
              first: int) -> None:
    """Move the nearest unit of the group from the chosen side into subclass ``first``."""
    left = _take_from_left(counts, first)
    if left and not (counts[:first] > 0).any() or not left and not (counts[first + 1:] > 0).any():
        left = not left  # (MatchIt would fail here; take the side that has units)
    if left:
        source = int(np.max(np.flatnonzero(counts[:first] > 0)))
        candidates = np.flatnonzero(in_group & (sub == source))
        chosen = candidates[np.flatnonzero(x[candidates] == x[candidates].max())[0]]
    else:
        source = first + 1 + int(np.min(np.flatnonzero(counts[first + 1:] > 0)))
        candidates = np.flatnonzero(in_group & (sub == source))
        chosen = candidates[np.flatnonzero(x[candidates] == x[candidates].min())[0]]
    sub[chosen] = first
    counts[first] = 1
    counts[source] -= 1


def subclass_scoot(sub: np.ndarray, treat: np.ndarray, x: np.ndarray, min_n: int = 1) -> np.ndarray:
    """MatchIt 4.5.1's ``subclass_scoot``: fill subclasses lacking units of a group by moving
    the nearest units from neighbouring subclasses. ``sub`` holds 0-based codes."""
    _, sub = np.unique(sub, return_inverse=True)
    sub = sub.astype(np.int64)
    k = int(sub.max()) + 1
    for group in (True, False):
        if int(np.sum(treat == group)) < k * min_n:
            raise InvalidInputError(
                f"Not enough units to fit {min_n} treated and {min_n} control unit(s) in each "
                f"of the {k} subclasses; use fewer subclasses.")
    for group in _groups_in_order(treat):
        if int(np.sum(treat == group)) == k:
            sub[treat == group] = np.arange(k)
    table = {g: np.bincount(sub[treat == g], minlength=k) for g in (True, False)}
    if all((table[g] >= min_n).all() for g in (True, False)):
        return sub
    for group in _groups_in_order(treat):
        counts, in_group = table[group], treat == group
        for _ in range(min_n):
            while (counts == 0).any():
                _move_one(sub, x, in_group, counts, int(np.flatnonzero(counts == 0)[0]))
            counts -= 1
    return sub


def _groups_in_order(treat: np.ndarray) -> list[bool]:
    """The two groups in order of first appearance (R's ``unique(treat)``)."""
    return [bool(treat[0]), not bool(treat[0])]


class Subclassification(Parameters):
    """Propensity score subclassification with MatchIt's weights.

    Parameters
    ----------
    subclasses : int > 1 or list of quantiles in [0, 1]
        Number of subclasses (6, MatchIt's default) or the quantiles that bound them.
    estimand : "ATT", "ATC" or "ATE" (whose distance quantiles cut the subclasses, and the
        weights).
    min_n : int >= 0
        Fewest units of each group in a subclass (units are moved in from neighbours); 0
        drops subclasses without both groups.
    distance : "glm", "logit" or an array of scores.
    discard : common-support rule ("none", "treated", "control", "both").
    estimator : propensity classifier passed to PropensityScore.

    >>> from estimation import Subclassification, example_data
    >>> X, treat, y = example_data()
    >>> sample = Subclassification(subclasses=4).fit(X, treat).result_
    >>> sorted(set(sample.subclass.tolist())), round(float(sample.weights[~sample.treat].sum()), 6)
    ([0, 1, 2, 3], 138.0)
    """

    def __init__(self, subclasses: Any = 6, estimand: str = "ATT", min_n: int = 1,
                 distance: Any = "glm", discard: str = "none", estimator: Any = None):
        self.subclasses = subclasses
        self.estimand = estimand
        self.min_n = min_n
        self.distance = distance
        self.discard = discard
        self.estimator = estimator

    def _checked(self) -> dict[str, Any]:
        if isinstance(self.min_n, bool) or not isinstance(self.min_n, numbers.Integral) \
                or self.min_n < 0:
            raise InvalidParameterError(NAME, "min_n", "an int >= 0", self.min_n)
        return {"probs": _breakpoints(NAME, self.subclasses),
                "estimand": check_estimand(NAME, self.estimand, ("ATT", "ATC", "ATE")),
                "min_n": int(self.min_n),
                "discard": check_choice(NAME, "discard", self.discard, DISCARDS)}

    def fit(self, X: Any, treatment: Any) -> Subclassification:
        """Estimate the distance, cut it into subclasses, weight."""
        p = self._checked()
        data = scored_data(NAME, X, treatment, self.distance, self.estimator)
        self.propensity_ = data.propensity
        discarded = discard_mask(data.distance, data.treat, p["discard"])
        kept = ~discarded
        d, t = data.distance, data.treat
        # the quantiles are those of all units of the group, discarded ones included (MatchIt)
        basis = {"ATT": d[t], "ATC": d[~t]}.get(p["estimand"], d)
        cuts = quantile7(basis, p["probs"])
        codes = np.full(data.n, -1, dtype=np.int64)
        codes[kept] = find_interval(d[kept], cuts, all_inside=True) - 1
        requested = p["probs"].shape[0] - 1
        if np.unique(codes[kept]).size != requested:
            warnings.warn("Due to discreteness in the distance measure, fewer subclasses were "
                          "generated than were requested.", SubclassificationWarning, stacklevel=2)
        codes = self._fill(codes, t, d, kept, p["min_n"])
        settings = {"method": "subclass", "subclasses": requested, "estimand": p["estimand"],
                    "min_n": p["min_n"], "discard": p["discard"], "distance": data.kind,
                    "cuts": [float(c) for c in cuts]}
        self.result_ = MatchedSample(
            treat=t, distance=d, weights=subclass_weights(codes, t, p["estimand"]),
            subclass=codes, match_matrix=np.empty((int(t.sum()), 0), dtype=np.int64),
            discarded=discarded, covariates=data.frame, estimand=p["estimand"],
            settings=settings, structure="strata")
        return self

    @staticmethod
    def _fill(codes, t, d, kept, min_n) -> np.ndarray:
        """Subclasses lacking a group: dropped (min_n = 0) or filled from neighbours."""
        if min_n == 0:
            return renumber_sorted(np.where(mixed_subclasses(codes, t) >= 0, codes, -1))
        sub = np.unique(codes[kept], return_inverse=True)[1]
        short = any((np.bincount(sub[t[kept] == g], minlength=int(sub.max()) + 1) < min_n).any()
                    for g in (True, False))
        if short:
            sub = subclass_scoot(sub, t[kept], d[kept], min_n)
        codes = codes.copy()
        codes[kept] = sub
        return renumber_sorted(codes)

    @property
    def matched_sample(self) -> MatchedSample:
        if not hasattr(self, "result_"):
            raise NotFittedError(NAME)
        return self.result_


def renumber_sorted(codes: np.ndarray) -> np.ndarray:
    """Codes 0, 1, ... in increasing order of the original codes (-1 kept)."""
    out = np.full(codes.shape[0], -1, dtype=np.int64)
    kept = codes >= 0
    out[kept] = np.unique(codes[kept], return_inverse=True)[1]
    return out


__all__ = ["Subclassification", "SubclassificationWarning", "subclass_scoot"]
