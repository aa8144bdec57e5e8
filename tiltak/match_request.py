"""What `tiltak match` is asked for: its methods, their estimands and the request from the flags.

Kept apart from :mod:`tiltak.filematch` (which reads, matches and writes, with pandas and
estimation) so that the command line builds its options without importing them.
"""

from __future__ import annotations

from dataclasses import dataclass

METHODS = ("nearest", "optimal", "full", "subclass", "cem", "weighting")
SCORES = ("glm", "logit")
COVARIATE_DISTANCES = ("mahalanobis", "robust_mahalanobis", "euclidean", "scaled_euclidean")
#: --k2k-method: a distance on the covariates, or none (MatchIt's ``k2k.method = NULL``: input order).
K2K_METHODS = (*COVARIATE_DISTANCES, "none")
#: The estimands each method offers.
METHOD_ESTIMANDS = {"nearest": ("ATT",), "optimal": ("ATT",), "full": ("ATT", "ATC", "ATE"),
                    "subclass": ("ATT", "ATC", "ATE"), "cem": ("ATT", "ATC", "ATE"),
                    "weighting": ("ATT", "ATC", "ATE", "ATO")}


@dataclass(frozen=True)
class MatchRequest:
    """What the user asked for, from the flags (checked further as the file is read)."""

    data: str
    treatment: str
    outcome: str | None = None
    covariates: str | None = None
    exact: str | None = None
    method: str = "nearest"
    estimand: str = "ATT"
    ratio: float = 1
    replace: bool = False
    caliper: float | None = None
    std_caliper: bool = True
    covariate_calipers: tuple[str, ...] = ()
    distance: str = "glm"
    mahvars: str | None = None
    antiexact: str | None = None
    reuse_max: int | None = None
    order: str | None = None
    discard: str = "none"
    seed: int = 0
    ties: str = "matchit"
    min_controls: float | None = None
    max_controls: float | None = None
    match_most: bool = False
    subclasses: int = 6
    min_n: int = 1
    cutpoints: str | None = None
    grouping: tuple[str, ...] = ()
    k2k: bool = False
    k2k_method: str = "mahalanobis"
    weights: str = "ipw"
    stabilize: bool = False
    trim: float | None = None
    moments: int = 1
    na_values: str | None = None
    drop_missing: bool = False
    max_memory: str | None = None
    out: str | None = None
    out_matches: str | None = None
    plots: str | None = None
