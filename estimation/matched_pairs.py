"""The matched sets of a sample as a Rosenbaum sensitivity analysis needs them: the outcome
of each matched treated unit and those of its controls (:func:`matched_pairs`), with the
refusals of samples that have no disjoint matched sets. Used by :mod:`estimation.sensitivity`
(which re-exports it) and :mod:`estimation.mstatistic`."""

from __future__ import annotations

import numpy as np

from estimation.matched import MatchedSample
from estimation.outcome import _outcome
from estimation.parameters import InvalidInputError

#: Samples without matched pairs, and why Rosenbaum bounds are not available for them.
NOT_MATCHED_SETS = {
    "weights": "Rosenbaum bounds are not available for weighting: they are defined for "
               "matched sets, and a weighted sample has none. Use the E-value.",
    "strata": "Rosenbaum bounds are not available for subclassification or coarsened exact "
              "matching: their strata hold many treated and many control units, not matched "
              "sets. Use the E-value.",
}
#: Full matching: the bounds are those of matched sets when every set has one treated unit.
SEVERAL_TREATED = ("This test needs matched sets of one treated unit each, but {count} of the full "
                   "matching's {sets} matched sets hold several treated units and one control. "
                   "Use rosenbaum_bounds or rosenbaum_mstatistic (the M-statistic of "
                   "sensitivityfull::senfm handles such sets).")


def matched_pairs(sample: MatchedSample, outcome) -> tuple[np.ndarray, list[np.ndarray]]:
    """Outcome of each matched treated unit and the outcomes of its controls (match matrix)."""
    if not isinstance(sample, MatchedSample):
        raise InvalidInputError(
            f"Rosenbaum bounds expect an estimation.MatchedSample; got {type(sample).__name__}."
        )
    if sample.structure in NOT_MATCHED_SETS:
        raise InvalidInputError(NOT_MATCHED_SETS[sample.structure])
    y, name = _outcome(sample, outcome)
    mm = (_sets_as_matches(sample) if sample.structure == "sets"
          else np.asarray(sample.match_matrix, dtype=np.int64))
    treated = np.flatnonzero(np.asarray(sample.treat).astype(bool))
    if mm.ndim != 2 or mm.shape[0] != treated.size:
        raise InvalidInputError(
            f"The sample's match matrix has shape {mm.shape}; expected one row per treated unit "
            f"({treated.size}). Rosenbaum bounds need matched pairs (nearest-neighbour matching)."
        )
    rows = np.flatnonzero((mm >= 0).any(axis=1))
    if rows.size == 0:
        raise InvalidInputError("Rosenbaum bounds need matched pairs; no treated unit is matched.")
    controls = [mm[r][mm[r] >= 0] for r in rows]
    used_controls = np.concatenate(controls)
    if np.unique(used_controls).size < used_controls.size:
        raise InvalidInputError(
            "Rosenbaum bounds need disjoint matched sets, but some controls are matched to "
            "several treated units (matching with replacement): the sets are not independent "
            "and the randomisation distribution does not hold. Match without replacement for "
            "a sensitivity analysis.")
    used = np.concatenate([treated[rows], *controls])
    if not np.isfinite(y[used]).all():
        raise InvalidInputError(
            f"Outcome '{name}' is missing or not finite for "
            f"{int((~np.isfinite(y[used])).sum())} matched unit(s)."
        )
    return y[treated[rows]], [y[c] for c in controls]


def _sets_as_matches(sample: MatchedSample) -> np.ndarray:
    """Full matching's sets as a match matrix (treated unit -> its controls), when every set
    has exactly one treated unit; otherwise Rosenbaum bounds are refused (senfm's case)."""
    treat = np.asarray(sample.treat, dtype=bool)
    subclass = np.asarray(sample.subclass, dtype=np.int64)
    inside = subclass >= 0
    n_sets = int(subclass.max()) + 1 if inside.any() else 0
    treated_per_set = np.bincount(subclass[inside & treat], minlength=n_sets)
    several = int(np.sum(treated_per_set > 1))
    if several:
        raise InvalidInputError(SEVERAL_TREATED.format(count=several, sets=n_sets))
    treated = np.flatnonzero(treat)
    owner = np.full(n_sets, -1, dtype=np.int64)
    matched_treated = treated[subclass[treated] >= 0]
    owner[subclass[matched_treated]] = np.searchsorted(treated, matched_treated)
    controls = np.flatnonzero(~treat & inside)
    rows = owner[subclass[controls]]
    order = np.argsort(rows, kind="stable")
    rows, controls = rows[order], controls[order]
    counts = np.bincount(rows, minlength=treated.size)
    mm = np.full((treated.size, max(int(counts.max(initial=0)), 1)), -1, dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    mm[rows, np.arange(rows.size) - start[rows]] = controls
    return mm
