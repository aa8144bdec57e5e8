"""The result every matching method returns: MatchIt's match matrix, weights and subclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True, eq=False)
class MatchedSample:
    """A matched sample, with MatchIt's definitions.

    Attributes
    ----------
    treat : bool array (n,)
        Treatment indicator of each unit, in input order.
    distance : float array (n,)
        The distance measure (propensity score, or its logit) of each unit.
    weights : float array (n,)
        Matching weights for the ATT: 1 for matched treated units, the sum over the treated
        units a control is matched to of 1/(number of controls matched to that treated unit),
        rescaled so that the control weights sum to the number of matched controls
        (MatchIt's ``get_weights``); 0 for unmatched or discarded units.
    subclass : int array (n,)
        Pair or subclass number (0-based) of each unit; -1 when unmatched. With
        replacement a control can belong to several pairs; it then carries -1 here and
        the pair structure is in ``match_matrix``.
    match_matrix : int array (n_treated, ratio)
        Row index (into the input) of each treated unit's matched controls, -1 where empty;
        rows follow the treated units in input order.
    discarded : bool array (n,)
        Units dropped by the common-support rule.
    covariates : DataFrame
        The covariates as given (before dummy expansion), in input order.
    settings : dict
        The settings used (ratio, replace, caliper, ...), for reports.
    structure : str
        What the subclasses are: ``"pairs"`` (matched sets indexed by the treated units,
        with a match matrix: nearest-neighbour and optimal pair matching), ``"sets"``
        (matched sets without a match matrix: full matching), ``"strata"`` (subclasses
        holding many treated and many control units: subclassification, coarsened exact
        matching) or ``"weights"`` (no subclasses: weighting).
    weight_model : object or None
        For weighting: the fitted model of the weights (``estimation.weighting``), whose
        estimating equations the effect's standard error stacks with the outcome's.
    """

    treat: np.ndarray
    distance: np.ndarray
    weights: np.ndarray
    subclass: np.ndarray
    match_matrix: np.ndarray
    discarded: np.ndarray
    covariates: pd.DataFrame
    estimand: str = "ATT"
    settings: dict[str, Any] = field(default_factory=dict)
    structure: str = "pairs"
    weight_model: Any = None

    @property
    def n(self) -> int:
        return int(self.treat.shape[0])

    @property
    def matched(self) -> np.ndarray:
        """Boolean mask of units with positive weight."""
        return self.weights > 0
