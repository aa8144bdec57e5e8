"""The distance a matching method works on: a fitted propensity score or given scores.

Shared by the methods beyond nearest neighbour (optimal, full, subclassification,
weighting), with the same rules as ``NearestNeighborMatching``: ``"glm"`` is the fitted
probability (R's ``glm``), ``"logit"`` its linear predictor (MatchIt's
``"linear.logit"``), and an array gives one score per unit computed elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from estimation.design import as_frame
from estimation.parameters import InvalidInputError, InvalidParameterError, check_choice
from estimation.propensity import PropensityScore, check_two_groups, treatment_vector


@dataclass(frozen=True, eq=False)
class ScoredData:
    """The inputs of a method after validation: covariates, treatment, distance."""

    frame: pd.DataFrame
    treat: np.ndarray
    distance: np.ndarray
    kind: str
    propensity: PropensityScore | None

    @property
    def n(self) -> int:
        return int(self.treat.shape[0])


def _given_scores(owner: str, distance: Any, n: int) -> np.ndarray:
    try:
        values = np.asarray(distance, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidParameterError(owner, "distance", f"'glm', 'logit' or an array of {n} "
                                    "scores", distance) from None
    if values.ndim != 1 or values.shape[0] != n:
        raise InvalidParameterError(owner, "distance", f"'glm', 'logit' or an array of {n} "
                                    "scores", f"array of shape {values.shape}")
    if not np.isfinite(values).all():
        raise InvalidParameterError(owner, "distance", "finite scores",
                                    "an array with missing or infinite values")
    return values


def scored_data(owner: str, X: Any, treatment: Any, distance: Any, estimator: Any = None,
                required: bool = True) -> ScoredData:
    """Validate X and the treatment and compute the distance.

    ``distance=None`` (allowed when ``required`` is False) means no distance at all; the
    sample then carries NaN distances.
    """
    frame = None if X is None else as_frame(X)
    n = len(frame) if frame is not None else np.asarray(treatment).shape[0]
    treat = treatment_vector(treatment, n)
    check_two_groups(treat)
    if frame is None:
        frame = pd.DataFrame(index=pd.RangeIndex(n))
    if distance is None and not required:
        return ScoredData(frame, treat, np.full(n, np.nan), "none", None)
    if isinstance(distance, str):
        kind = check_choice(owner, "distance", distance, ("glm", "logit"))
        if frame.shape[1] == 0:
            raise InvalidInputError("Covariates X are needed to fit the propensity score.")
        model = PropensityScore(estimator=estimator).fit(frame, treat)
        return ScoredData(frame, treat, model.distance(kind), kind, model)
    return ScoredData(frame, treat, _given_scores(owner, distance, n), "user", None)


def check_columns(owner: str, name: str, frame: pd.DataFrame, columns: Any) -> list[str]:
    """Column names given as one name or a list, each a column of ``frame``."""
    names = [columns] if isinstance(columns, str) else list(columns or [])
    if not all(isinstance(c, str) for c in names):
        raise InvalidParameterError(owner, name, "None or a list of column names", columns)
    have = ", ".join(repr(str(c)) for c in frame.columns)
    for column in names:
        if column not in frame.columns:
            raise InvalidParameterError(owner, name, f"columns of X (one of {have})", column)
    return names


def check_estimand(owner: str, estimand: Any, allowed: tuple[str, ...]) -> str:
    """The estimand in upper case, one of ``allowed``."""
    value = estimand.upper() if isinstance(estimand, str) else estimand
    return check_choice(owner, "estimand", value, allowed)
