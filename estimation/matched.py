"""The result every matching method returns: MatchIt's match matrix, weights and subclasses."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from estimation.estimands import describe_estimand, describe_method
from estimation.parameters import InvalidInputError
from estimation.strata import subclass_weights
from estimation.summary import Summary, SummaryMethods


@dataclass(frozen=True, eq=False, repr=False)
class MatchedSample(SummaryMethods):
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

    def _counts(self) -> dict[str, tuple[int, int]]:
        treat, w = np.asarray(self.treat, bool), np.asarray(self.weights, float)
        out = {}
        for label, mask in (("All", np.ones_like(treat)), ("Matched", w > 0),
                            ("Unmatched", (w == 0) & ~self.discarded), ("Discarded", self.discarded)):
            out[label] = (int((mask & ~treat).sum()), int((mask & treat).sum()))
        return out

    def _headline(self) -> str:
        counts = self._counts()
        (c_all, t_all), (c_m, t_m) = counts["All"], counts["Matched"]
        method = describe_method(self).split(":")[0]
        return (f"{method}, {self.estimand}; {t_m} of {t_all} treated and {c_m} of {c_all} "
                f"control units matched ({self.structure})")

    def summary(self) -> Summary:
        """Sample sizes (with effective sizes) and the settings, with the estimand in words."""
        treat, w = np.asarray(self.treat, bool), np.asarray(self.weights, float)
        sizes = pd.DataFrame(self._counts(), index=["Control", "Treated"]).T.astype(object)
        sizes.loc["Matched (ESS)"] = [_ess(w[~treat]), _ess(w[treat])]
        settings = pd.DataFrame({"value": [_setting(v) for v in self.settings.values()]},
                                index=[str(k) for k in self.settings])
        notes = (f"Estimand {describe_estimand(self)}", describe_method(self) + ".")
        return Summary("Matched sample", (("Sample sizes", sizes), ("Settings", settings)), notes)

    def restrict(self, keep: Any) -> MatchedSample:
        """The sample restricted to the units where ``keep`` is true (the others removed,
        rows renumbered), with weights and subclasses recomputed by MatchIt's definitions.

        Matched pairs (``structure="pairs"``): a treated unit that is removed takes its
        matches with it; a control that is removed leaves its treated unit with the other
        controls (or unmatched). Matched sets and strata: a set or stratum left without
        treated or without control units is dropped. A weighted sample cannot be
        restricted: its weights come from a model fitted to all units; refit instead.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from estimation import MatchedSample
        >>> s = MatchedSample(treat=np.array([True, True, False, False, False]),
        ...     distance=np.zeros(5), weights=np.array([1, 1, 1, 1, 0.0]),
        ...     subclass=np.array([0, 1, 0, 1, -1]), match_matrix=np.array([[2], [3]]),
        ...     discarded=np.zeros(5, bool), covariates=pd.DataFrame(index=range(5)))
        >>> s.restrict([True, True, True, False, True]).weights.tolist()
        [1.0, 0.0, 1.0, 0.0]
        """
        keep = np.asarray(keep)
        if keep.dtype != bool or keep.shape != (self.n,):
            raise InvalidInputError(f"restrict(keep) needs {self.n} true/false values, one per "
                                    f"unit; got an array of shape {keep.shape} and type {keep.dtype}.")
        if self.structure == "weights":
            raise InvalidInputError("A weighted sample cannot be restricted: its weights come from "
                                    "a model fitted to all units. Fit the weighting again on the "
                                    "units to keep.")
        treat = np.asarray(self.treat, bool)[keep]
        common = dict(treat=treat, distance=np.asarray(self.distance)[keep],
                      discarded=np.asarray(self.discarded)[keep],
                      covariates=self.covariates.loc[keep].reset_index(drop=True),
                      settings={**self.settings, "restricted_from": self.n})
        if self.structure == "pairs":
            mm = _restricted_matches(np.asarray(self.match_matrix), np.asarray(self.treat, bool), keep)
            rows, n = np.flatnonzero(treat), int(keep.sum())
            return dataclasses.replace(self, weights=matching_weights(mm, rows, n),
                                       subclass=pair_subclass(mm, rows, n), match_matrix=mm,
                                       **common)
        subclass = _complete_subclasses(np.asarray(self.subclass)[keep], treat)
        mm = np.empty((int(treat.sum()), 0), dtype=np.int64)
        return dataclasses.replace(self, weights=subclass_weights(subclass, treat, self.estimand),
                                   subclass=subclass, match_matrix=mm, **common)


def _restricted_matches(mm: np.ndarray, treat: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The match matrix of the kept treated units, with removed controls taken out (the
    remaining ones moved left) and rows renumbered."""
    new_index = np.cumsum(keep) - 1
    mm = mm[keep[np.flatnonzero(treat)]]
    valid = (mm >= 0) & keep[np.where(mm >= 0, mm, 0)]
    renumbered = np.where(valid, new_index[np.where(mm >= 0, mm, 0)], -1)
    order = np.argsort(~valid, axis=1, kind="stable")  # kept entries first, in their order
    return np.take_along_axis(renumbered, order, axis=1)


def _complete_subclasses(subclass: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """Subclass codes renumbered 0..S-1 over the subclasses that still hold both groups."""
    kept = subclass >= 0
    both = np.intersect1d(subclass[kept & treat], subclass[kept & ~treat])
    out = np.full(subclass.shape, -1, dtype=np.int64)
    inside = np.isin(subclass, both) & kept
    out[inside] = np.searchsorted(both, subclass[inside])
    return out


def _ess(w: np.ndarray) -> float:
    total = float(w.sum())
    return total * total / float((w * w).sum()) if total > 0 else 0.0


def _setting(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_setting(v)}" for k, v in value.items()) or "none"
    return "none" if value is None else str(value)


def matching_weights(match_matrix: np.ndarray, treated_rows: np.ndarray, n: int) -> np.ndarray:
    """MatchIt's ATT weights from a match matrix.

    A treated unit with at least one match weighs 1; each of its k matched controls gets
    1/k, summed over the treated units it serves; control weights are then scaled to sum
    to the number of matched controls.

    >>> import numpy as np
    >>> from estimation import matching_weights
    >>> matching_weights(np.array([[2, 3], [3, -1]]), np.array([0, 1]), 5).tolist()
    [1.0, 1.0, 0.5, 1.5, 0.0]
    """
    weights = np.zeros(n)
    filled = match_matrix >= 0
    k = filled.sum(axis=1)
    has = k > 0
    weights[treated_rows[has]] = 1.0
    rows = match_matrix[filled]
    share = np.repeat(1.0 / np.maximum(k, 1), k)
    np.add.at(weights, rows, share)
    used = np.zeros(n, dtype=bool)
    used[rows] = True
    controls = np.flatnonzero(used)  # np.unique(rows), in linear time
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
