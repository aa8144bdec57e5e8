"""The checked parameters of nearest-neighbour matching, as one typed, frozen object.

:class:`NearestNeighborMatching` stores its constructor arguments unchanged (scikit-learn's
rule) and turns them into a :class:`NearestSettings` in ``fit`` with
:func:`check_nearest`; everything below ``fit`` reads the typed fields, never a dict. The
settings a report shows (``MatchedSample.settings``) come from :meth:`NearestSettings.report`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from estimation.covdistance import COVARIATE_DISTANCES
from estimation.nearest import TIES
from estimation.parameters import (
    InvalidParameterError,
    check_bool,
    check_choice,
    check_positive_int,
    check_seed,
)
from estimation.support import DISCARDS, ORDERS

NAME = "NearestNeighborMatching"
SCORE_DISTANCES = ("glm", "logit")
DISTANCES = SCORE_DISTANCES + COVARIATE_DISTANCES
ALL_ORDERS = ORDERS + ("closest", "farthest")
#: Orders available without a propensity score (MatchIt: data, random, closest, farthest).
UNSCORED_ORDERS = ("data", "random", "closest", "farthest")
#: The key of a caliper mapping that stands for the distance (the score) itself.
SCORE_KEY = "distance"
#: Default ceiling on the treated-control distances computed on the covariate path.
MAX_PAIRS = 4_000_000_000


@dataclass(frozen=True)
class NearestSettings:
    """Validated parameters of :class:`NearestNeighborMatching`.

    ``distance`` is the kind ("glm", "logit", "user" for given scores, "matrix" for a given
    distance matrix, or one of the covariate distances); ``caliper`` is the caliper on the
    score (None: none) and ``covariate_calipers`` the calipers on covariates, each with its
    ``std`` flag; ``reuse_max`` is how often a control may be used (1 without replacement,
    None for unlimited); ``min_controls``/``max_controls`` are set for variable-ratio
    matching, where ``ratio`` is the average.
    """

    ratio: float = 1
    replace: bool = False
    caliper: float | None = None
    std_caliper: bool = True
    distance: str = "glm"
    exact: tuple[str, ...] = ()
    order: str = "largest"
    discard: str = "none"
    random_state: int | None = None
    ties: str = "matchit"
    mahvars: tuple[str, ...] = ()
    antiexact: tuple[str, ...] = ()
    covariate_calipers: tuple[tuple[str, float, bool], ...] = ()
    reuse_max: int | None = 1
    min_controls: int | None = None
    max_controls: int | None = None
    max_pairs: int = MAX_PAIRS
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def scored(self) -> bool:
        """Whether the distance is a propensity score (fitted or given)."""
        return self.distance in ("glm", "logit", "user")

    @property
    def variable_ratio(self) -> bool:
        return self.max_controls is not None

    @property
    def max_ratio(self) -> int:
        return int(self.max_controls) if self.variable_ratio else int(self.ratio)

    @property
    def on_covariates(self) -> bool:
        """Whether the matching distance is computed on covariates (or given as a matrix)."""
        return bool(self.mahvars) or not self.scored

    def report(self, **figures: Any) -> dict[str, Any]:
        """The settings as plain values for ``MatchedSample.settings`` and reports."""
        out = {
            "ratio": int(self.ratio) if float(self.ratio).is_integer() else float(self.ratio),
            "replace": self.replace, "caliper": self.caliper, "std_caliper": self.std_caliper,
            "distance": self.distance, "exact": list(self.exact), "order": self.order,
            "discard": self.discard, "random_state": self.random_state, "ties": self.ties,
            "mahvars": list(self.mahvars), "antiexact": list(self.antiexact),
            "covariate_calipers": {name: {"caliper": width, "std": std}
                                   for name, width, std in self.covariate_calipers},
            "reuse_max": self.reuse_max, "min_controls": self.min_controls,
            "max_controls": self.max_controls,
        }
        return {**out, **dict(self.extra), **figures}


def _columns(name: str, value: Any) -> tuple[str, ...]:
    names = [value] if isinstance(value, str) else list(value or [])
    if not all(isinstance(c, str) for c in names):
        raise InvalidParameterError(NAME, name, "None or a list of column names", value)
    return tuple(names)


def _width(name: str, value: Any, expected: str = "a float > 0") -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not float(value) > 0 or not math.isfinite(float(value)):
        raise InvalidParameterError(NAME, name, expected, value)
    return float(value)


def _calipers(caliper: Any, std_caliper: Any):
    """The score caliper and the covariate calipers from ``caliper``/``std_caliper``."""
    if caliper is None:
        if isinstance(std_caliper, Mapping):
            return None, True, ()
        return None, check_bool(NAME, "std_caliper", std_caliper), ()
    if not isinstance(caliper, Mapping):
        flag = True if isinstance(std_caliper, Mapping) else check_bool(NAME, "std_caliper",
                                                                          std_caliper)
        return _width("caliper", caliper, "a float > 0 or None"), flag, ()
    widths = dict(caliper)
    if isinstance(std_caliper, Mapping):
        unknown = [k for k in std_caliper if k not in widths]
        if unknown:
            raise InvalidParameterError(NAME, "std_caliper", "flags for the names in caliper "
                                        f"({', '.join(map(repr, widths))})", unknown[0])
        std = {k: check_bool(NAME, f"std_caliper[{k!r}]", std_caliper.get(k, True)) for k in widths}
    else:
        flag = check_bool(NAME, "std_caliper", std_caliper)
        std = {k: flag for k in widths}
    for key in widths:
        if not isinstance(key, str):
            raise InvalidParameterError(NAME, "caliper", "a float > 0, or a mapping from "
                                        f"'{SCORE_KEY}' and column names to floats > 0", caliper)
    score = _width("caliper", widths[SCORE_KEY]) if SCORE_KEY in widths else None
    covs = tuple((k, _width(f"caliper[{k!r}]", v), std[k]) for k, v in widths.items()
                 if k != SCORE_KEY)
    return score, std.get(SCORE_KEY, True), covs


def _ratios(ratio: Any, min_controls: Any, max_controls: Any):
    """MatchIt's ``process.ratio`` for nearest neighbour: a whole ratio, or an average
    between whole ``min_controls`` (default 1) and ``max_controls``."""
    if max_controls is None:
        if min_controls is not None:
            raise InvalidParameterError(NAME, "min_controls", "None unless max_controls is given",
                                        min_controls)
        return check_positive_int(NAME, "ratio", ratio), None, None
    top = check_positive_int(NAME, "max_controls", max_controls)
    low = 1 if min_controls is None else check_positive_int(NAME, "min_controls", min_controls)
    ok = isinstance(ratio, numbers.Real) and not isinstance(ratio, bool) and math.isfinite(ratio)
    if not ok or not low < float(ratio) < top:
        raise InvalidParameterError(NAME, "ratio", f"a number between min_controls ({low}) and "
                                    f"max_controls ({top}), exclusive, for variable-ratio "
                                    "matching", ratio)
    return float(ratio), low, top


def check_nearest(params: Mapping[str, Any], distance_kind: str) -> NearestSettings:
    """Validate the constructor arguments (``get_params()``); ``distance_kind`` is what
    ``distance`` turned out to be ("glm", "logit", "user", "matrix" or a covariate one)."""
    scored = distance_kind in ("glm", "logit", "user")
    ratio, low, top = _ratios(params["ratio"], params["min_controls"], params["max_controls"])
    score_caliper, std, covs = _calipers(params["caliper"], params["std_caliper"])
    replace = check_bool(NAME, "replace", params["replace"])
    reuse = params["reuse_max"]
    if reuse is not None:
        reuse = check_positive_int(NAME, "reuse_max", reuse)
        replace = reuse > 1
    else:
        reuse = None if replace else 1
    mahvars = _columns("mahvars", params["mahvars"])
    order = params["order"]
    if order is None:
        order = "largest" if scored else "data"
    order = check_choice(NAME, "order", order, ALL_ORDERS if scored else UNSCORED_ORDERS)
    settings = NearestSettings(
        ratio=ratio, replace=replace, caliper=score_caliper, std_caliper=std,
        distance=distance_kind, exact=_columns("exact", params["exact"]), order=order,
        discard=check_choice(NAME, "discard", params["discard"], DISCARDS),
        random_state=check_seed(NAME, params["random_state"]),
        ties=check_choice(NAME, "ties", params["ties"], TIES), mahvars=mahvars,
        antiexact=_columns("antiexact", params["antiexact"]), covariate_calipers=covs,
        reuse_max=reuse, min_controls=low, max_controls=top,
        max_pairs=check_positive_int(NAME, "max_pairs", params["max_pairs"]))
    _check_combinations(settings)
    return settings


def _check_combinations(s: NearestSettings) -> None:
    """Combinations MatchIt refuses, with the reason."""
    if s.distance == "matrix" and s.caliper is not None and s.std_caliper:
        raise InvalidParameterError(NAME, "std_caliper", "False for the caliper on a distance "
                                    "matrix (it is in the matrix's units)", True)
    if not s.scored:
        what = "a distance on the covariates" if s.distance != "matrix" else "a distance matrix"
        if s.caliper is not None and s.distance != "matrix":
            raise InvalidParameterError(NAME, "caliper", f"calipers on named covariates only with "
                                        f"{what} (there is no propensity score to put a caliper "
                                        "on)", s.caliper)
        if s.discard != "none":
            raise InvalidParameterError(NAME, "discard", f"'none' with {what} (common support is "
                                        "defined on a propensity score)", s.discard)
        if s.mahvars and s.distance == "matrix":
            raise InvalidParameterError(NAME, "mahvars", f"None with {what}", list(s.mahvars))
        if s.variable_ratio:
            raise InvalidParameterError(NAME, "max_controls", f"None with {what} (variable-ratio "
                                        "matching orders the treated units by the score)",
                                        s.max_controls)
    if s.mahvars and s.variable_ratio:
        raise InvalidParameterError(NAME, "max_controls", "None with mahvars (MatchIt's "
                                    "variable-ratio matching is on the score)", s.max_controls)
    overlap = set(s.exact) & set(s.antiexact)
    if overlap:
        raise InvalidParameterError(NAME, "antiexact", "columns not also in exact",
                                    sorted(overlap)[0])


def variable_ratios(distance: np.ndarray, treat: np.ndarray, ratio: float, low: int,
                    top: int) -> np.ndarray:
    """Each treated unit's number of controls in variable-ratio matching (Ming and Rosenbaum
    2000), as MatchIt 4.6+ assigns them: ``round(ratio * n1)`` controls in all, the treated
    units farthest into the treated side of the score (the hardest to match) getting
    ``min_controls``, those nearest the controls ``max_controls``. Treated input order."""
    d1 = distance[treat]
    n1 = d1.size
    m = _r_round(ratio * n1)
    kmax = math.floor((m - low * (n1 - 1)) / (top - low))
    kmin = n1 - kmax - 1
    kmed = m - (low * kmin + top * kmax)
    shares = [low] * kmin + [kmed] + [top] * kmax
    while 0 in shares:
        at = shares.index(0)
        shares[at] = 1
        if at == len(shares) - 1:
            break
        shares[at + 1] -= 1
    decreasing = float(d1.mean()) > float(distance[~treat].mean())
    order = np.argsort(-d1 if decreasing else d1, kind="stable")
    out = np.empty(n1, dtype=np.int64)
    out[order] = shares
    return out


def _r_round(value: float) -> int:
    """R's ``round`` (half to even at .5)."""
    return int(round(value))
