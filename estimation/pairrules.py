"""Which treated-control pairs nearest-neighbour matching may form (MatchIt's checks).

A pair is admissible when the two units are in the same exact stratum, differ on every
``antiexact`` column, lie within every covariate caliper and, on the covariate-distance
path, within the caliper on the propensity score (``mahvars``). These are MatchIt's
``exact_okay``, ``antiexact_okay``, ``caliper_covs_okay`` and ``caliper_dist_okay``; the
caliper comparisons are ``|a - b| <= width``, as in MatchIt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class PairRules:
    """The admissibility checks of one matching problem (arrays indexed by input row).

    ``stratum``: exact-matching stratum codes; ``antiexact``: (n, a) integer codes or None;
    ``caliper_values``: (n, c) covariate values with ``caliper_widths`` (c,) or None;
    ``score`` and ``score_width``: a caliper on the score checked pair by pair (the
    covariate-distance path; the score path applies its caliper itself).
    """

    stratum: np.ndarray
    antiexact: np.ndarray | None = None
    caliper_values: np.ndarray | None = None
    caliper_widths: np.ndarray | None = None
    score: np.ndarray | None = None
    score_width: float | None = None

    @property
    def constrains(self) -> bool:
        """Whether any check beyond the exact strata applies."""
        return self.antiexact is not None or self.caliper_values is not None or (
            self.score is not None and self.score_width is not None)

    def ok(self, t: int, c: int) -> bool:
        """Whether treated row ``t`` and control row ``c`` may be paired (strata aside)."""
        if self.antiexact is not None and np.any(self.antiexact[t] == self.antiexact[c]):
            return False
        if self.caliper_values is not None and np.any(
                np.abs(self.caliper_values[t] - self.caliper_values[c]) > self.caliper_widths):
            return False
        if self.score_width is not None and abs(self.score[t] - self.score[c]) > self.score_width:
            return False
        return True

    def mask(self, t: int, controls: np.ndarray) -> np.ndarray:
        """``ok`` for treated row ``t`` against many control rows at once."""
        keep = np.ones(controls.size, dtype=bool)
        if self.antiexact is not None:
            keep &= (self.antiexact[controls] != self.antiexact[t]).all(axis=1)
        if self.caliper_values is not None:
            gap = np.abs(self.caliper_values[controls] - self.caliper_values[t])
            keep &= (gap <= self.caliper_widths).all(axis=1)
        if self.score_width is not None:
            keep &= np.abs(self.score[controls] - self.score[t]) <= self.score_width
        return keep
