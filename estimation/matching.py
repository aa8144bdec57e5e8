"""Nearest-neighbour propensity score matching with MatchIt's semantics.

``NearestNeighborMatching(...).fit(X, treatment).result_`` is a frozen
:class:`estimation.MatchedSample` holding MatchIt's match matrix, weights and subclasses.
The propensity model (:class:`estimation.PropensityScore`) and the matching algorithm
(:mod:`estimation.nearest`) stay independent: ``distance`` may also be a vector of scores
computed elsewhere.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from estimation.design import as_frame
from estimation.matched import MatchedSample
from estimation.nearest import TIES, match_with_replacement, match_without_replacement
from estimation.parameters import (
    InvalidInputError,
    InvalidParameterError,
    NotFittedError,
    check_bool,
    check_caliper,
    check_choice,
    check_positive_int,
    check_seed,
)
from estimation.propensity import PropensityScore, check_two_groups, treatment_vector
from estimation.support import DISCARDS, ORDERS, caliper_width, discard_mask, treated_order

NAME = "NearestNeighborMatching"


class MatchingWarning(UserWarning):
    """Matching will leave some treated units without (enough) controls."""


class NoMatchesError(InvalidInputError):
    """No treated unit found a control (caliper too narrow, no overlap, empty strata)."""


def matching_weights(match_matrix: np.ndarray, treated_rows: np.ndarray, n: int) -> np.ndarray:
    """MatchIt's ATT weights from a match matrix.

    A treated unit with at least one match weighs 1; each of its k matched controls gets
    1/k, summed over the treated units it serves; control weights are then scaled to sum
    to the number of matched controls.
    """
    weights = np.zeros(n)
    filled = match_matrix >= 0
    k = filled.sum(axis=1)
    has = k > 0
    weights[treated_rows[has]] = 1.0
    rows = match_matrix[filled]
    share = np.repeat(1.0 / np.maximum(k, 1), k)
    np.add.at(weights, rows, share)
    controls = np.unique(rows)
    if controls.size:
        weights[controls] *= controls.size / weights[controls].sum()
    return weights


def pair_subclass(match_matrix: np.ndarray, treated_rows: np.ndarray, n: int) -> np.ndarray:
    """Subclass (pair) number of each unit, 0-based over matched treated units in input order.

    A control matched to several treated units (possible only with replacement) gets -1;
    its pairs are in the match matrix. Unmatched units get -1.
    """
    subclass = np.full(n, -1, dtype=np.int64)
    has = (match_matrix >= 0).any(axis=1)
    ids = np.cumsum(has) - 1
    subclass[treated_rows[has]] = ids[has]
    filled = match_matrix >= 0
    rows = match_matrix[filled]
    owner = np.broadcast_to(ids[:, None], match_matrix.shape)[filled]
    uses = np.bincount(rows, minlength=n)
    once = uses[rows] == 1
    subclass[rows[once]] = owner[once]
    return subclass


def exact_strata(frame: pd.DataFrame, exact: Sequence[str]) -> np.ndarray:
    """Integer stratum code per row from the exact-matching columns (0 when none)."""
    codes = np.zeros(len(frame), dtype=np.int64)
    for column in exact:
        values = frame[column]
        if values.isna().any():
            count = int(values.isna().sum())
            raise InvalidInputError(
                f"Missing values in exact-matching column '{column}' ({count} "
                f"row{'s' if count != 1 else ''}). Impute them or drop the rows explicitly.")
        col_codes, uniques = pd.factorize(values, sort=True)
        codes = pd.factorize(codes * max(len(uniques), 1) + col_codes, sort=True)[0]
    return codes.astype(np.int64)


class NearestNeighborMatching:
    """k:1 nearest-neighbour matching on the propensity score, as MatchIt's ``"nearest"``.

    Parameters
    ----------
    ratio : int >= 1
        Controls per treated unit (k:1), matched in passes as MatchIt does.
    replace : bool
        Whether a control may be matched to several treated units.
    caliper : float > 0 or None
        Maximum distance between matched units; in standard deviations of the distance
        (over all units not discarded) when ``std_caliper``, else in distance units.
    std_caliper : bool
        See ``caliper``.
    distance : "glm", "logit" or array of n scores
        Match on the propensity score ("glm"), on its logit ("logit", MatchIt's
        "linear.logit"), or on given scores.
    exact : list of column names or None
        Match only within equal values of these columns of ``X``.
    order : "largest", "smallest", "data" or "random"
        Order in which treated units choose their controls (by distance, or input order,
        or a seeded random order).
    discard : "none", "treated", "control" or "both"
        Drop units outside the common support of the distance before matching.
    random_state : int or None
        Seed for ``order="random"``.
    estimator : classifier or None
        Propensity model passed to :class:`PropensityScore` (None: R's glm logit).
    ties : "matchit", "matchit-4.5" or "row"
        Which of equally distant controls is taken: as MatchIt 4.6.0 and later do (the
        default; checked against 4.7.2), as MatchIt 4.5.4 and 4.5.5 do, or the one with the
        lowest input row (MatchIt's distance-matrix path). See :mod:`estimation.nearest`.
    """

    def __init__(self, ratio: int = 1, replace: bool = False, caliper: float | None = None,
                 std_caliper: bool = True, distance: Any = "glm", exact: Any = None,
                 order: str = "largest", discard: str = "none", random_state: int | None = None,
                 estimator: Any = None, ties: str = "matchit"):
        self.ratio = ratio
        self.replace = replace
        self.caliper = caliper
        self.std_caliper = std_caliper
        self.distance = distance
        self.exact = exact
        self.order = order
        self.discard = discard
        self.random_state = random_state
        self.estimator = estimator
        self.ties = ties

    def _checked(self) -> dict[str, Any]:
        """Validated parameters (the constructor never validates)."""
        exact = [self.exact] if isinstance(self.exact, str) else list(self.exact or [])
        if not all(isinstance(e, str) for e in exact):
            raise InvalidParameterError(NAME, "exact", "None or a list of column names",
                                        self.exact)
        return {
            "ratio": check_positive_int(NAME, "ratio", self.ratio),
            "replace": check_bool(NAME, "replace", self.replace),
            "caliper": check_caliper(NAME, self.caliper),
            "std_caliper": check_bool(NAME, "std_caliper", self.std_caliper),
            "exact": exact,
            "order": check_choice(NAME, "order", self.order, ORDERS),
            "discard": check_choice(NAME, "discard", self.discard, DISCARDS),
            "random_state": check_seed(NAME, self.random_state),
            "ties": check_choice(NAME, "ties", self.ties, TIES),
        }

    def _distance(self, frame: pd.DataFrame | None, treat: np.ndarray) -> tuple[np.ndarray, str]:
        if isinstance(self.distance, str):
            kind = check_choice(NAME, "distance", self.distance, ("glm", "logit"))
            if frame is None:
                raise InvalidInputError("Covariates X are needed to fit the propensity score.")
            model = PropensityScore(estimator=self.estimator).fit(frame, treat)
            self.propensity_ = model
            return model.distance(kind), kind
        try:
            values = np.asarray(self.distance, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidParameterError(NAME, "distance", "'glm', 'logit' or an array of "
                                        f"{treat.shape[0]} scores", self.distance) from None
        if values.ndim != 1 or values.shape[0] != treat.shape[0]:
            raise InvalidParameterError(NAME, "distance",
                                        f"'glm', 'logit' or an array of {treat.shape[0]} scores",
                                        f"array of shape {values.shape}")
        if not np.isfinite(values).all():
            raise InvalidParameterError(NAME, "distance", "finite scores",
                                        "an array with missing or infinite values")
        return values, "user"

    def fit(self, X: Any, treatment: Any) -> NearestNeighborMatching:
        """Estimate the distance, discard, match; the result is in ``result_``."""
        p = self._checked()
        frame = None if X is None else as_frame(X)
        n = len(frame) if frame is not None else np.asarray(treatment).shape[0]
        treat = treatment_vector(treatment, n)
        check_two_groups(treat)
        missing = [e for e in p["exact"] if frame is None or e not in frame.columns]
        if missing:
            have = ", ".join(repr(str(c)) for c in (frame.columns if frame is not None else []))
            raise InvalidParameterError(NAME, "exact", f"columns of X (one of {have})",
                                        missing[0])
        distance, kind = self._distance(frame, treat)
        stratum = exact_strata(frame, p["exact"]) if p["exact"] else np.zeros(n, dtype=np.int64)
        if frame is None:
            frame = pd.DataFrame(index=pd.RangeIndex(n))
        self.result_ = match_on_distance(distance, treat, stratum, frame, p, kind)
        return self

    def __repr__(self) -> str:
        return (f"{NAME}(ratio={self.ratio!r}, replace={self.replace!r}, caliper={self.caliper!r}, "
                f"distance={self.distance if isinstance(self.distance, str) else '<array>'!r}, "
                f"order={self.order!r}, discard={self.discard!r})")

    @property
    def matched_sample(self) -> MatchedSample:
        """The fitted result (raises NotFittedError before ``fit``)."""
        if not hasattr(self, "result_"):
            raise NotFittedError(NAME)
        return self.result_


def match_on_distance(distance: np.ndarray, treat: np.ndarray, stratum: np.ndarray,
                      frame: pd.DataFrame, p: dict[str, Any], kind: str,
                      unit: np.ndarray | None = None) -> MatchedSample:
    """Discard, set the caliper, match within strata and build the MatchedSample.

    ``p`` holds validated parameters (see ``NearestNeighborMatching._checked``); ``unit``
    optionally makes all rows of one unit a single control (without replacement).
    """
    n = treat.shape[0]
    discarded = discard_mask(distance, treat, p["discard"])
    width = caliper_width(p["caliper"], p["std_caliper"], distance, discarded)
    mm = _match(distance, treat, discarded, stratum, width, p, unit)
    treated_rows = np.flatnonzero(treat)
    if not (mm >= 0).any():
        raise NoMatchesError(
            "No units were matched: no treated unit has an available control"
            + (f" within the caliper ({width:.6g} in distance units)" if width else "")
            + (" in its exact-matching stratum" if p["exact"] else "") + ".")
    settings = {**p, "distance": kind, "caliper_width": width, "estimand": "ATT"}
    return MatchedSample(
        treat=treat, distance=distance, weights=matching_weights(mm, treated_rows, n),
        subclass=pair_subclass(mm, treated_rows, n), match_matrix=mm,
        discarded=discarded, covariates=frame, estimand="ATT", settings=settings)


def _match(distance, treat, discarded, stratum, width, p, unit) -> np.ndarray:
    """Run the nearest-neighbour core; rows of the result follow treated input order."""
    treated = np.flatnonzero(treat & ~discarded)
    controls = np.flatnonzero(~treat & ~discarded)
    if controls.size == 0:
        raise NoMatchesError("No control units are left to match with"
                             + (" after discarding" if discarded.any() else "") + ".")
    _warn_short(stratum, treated, controls, p)
    ordered = treated_order(distance, treated, p["order"], p["random_state"])
    ties = p.get("ties", "matchit")
    if p["replace"]:
        mm_ordered = match_with_replacement(distance, ordered, stratum, controls,
                                            p["ratio"], width, ties)
    else:
        mm_ordered = match_without_replacement(distance, ordered, stratum, controls,
                                               p["ratio"], width, unit, ties)
    mm = np.full((int(treat.sum()), p["ratio"]), -1, dtype=np.int64)
    index_of = np.cumsum(treat) - 1  # row -> index among treated
    mm[index_of[ordered]] = mm_ordered
    return mm


def _warn_short(stratum, treated, controls, p) -> None:
    """MatchIt's warnings when controls are too few for every treated unit."""
    if p["replace"]:
        return
    n1 = np.bincount(stratum[treated], minlength=stratum.max() + 1)
    n0 = np.bincount(stratum[controls], minlength=stratum.max() + 1)
    where = " in some 'exact' strata" if p["exact"] else ""
    if np.any(n0[n1 > 0] < n1[n1 > 0]):
        warnings.warn(f"Fewer control units than treated units{where}; not all treated "
                      "units will get a match.", MatchingWarning, stacklevel=5)
    elif p["ratio"] > 1 and np.any(n0[n1 > 0] < p["ratio"] * n1[n1 > 0]):
        warnings.warn(f"Not all treated units will get {p['ratio']} matches.",
                      MatchingWarning, stacklevel=5)
