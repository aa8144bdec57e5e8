"""The average treatment effect on the treated (ATT) in a matched sample, with its uncertainty.

``estimate_att`` gives the difference in weighted means (no covariates) or the
regression-adjusted estimate (the coefficient of the treatment in the weighted least
squares of the outcome on treatment and covariates, like ``lm(y ~ treat + x, weights =
weights)`` on MatchIt's matched data), with standard errors

* ``"cluster"``: CR1 clustered on the matched pair or subclass (sandwich::vcovCL, HC1 type);
* ``"robust"``: HC1 heteroskedasticity-robust, each unit its own cluster (after matching with
  replacement a reused control's rows form one cluster: the unit, not the row, is
  independent);
* ``"abadie_imbens"``: Abadie and Imbens (2006) for the matching estimator (difference in
  means only), the right choice when controls are reused (matching with replacement).

``cluster`` may also be a list of dimensions (per-unit id arrays or the string "subclass"
for the matched sets): multi-way clustering (Cameron, Gelbach and Miller 2011), for
instance ``cluster=[person_ids, "subclass"]`` after risk-set matching, where the same
person is a control in several trials.

``se_type="auto"`` picks the cluster SE for matching without replacement and the
Abadie-Imbens SE with replacement (two-way on matched sets and units for a regression with
replacement). Intervals
and p-values use the normal distribution. For binary outcomes the risk difference comes
with the risk ratio and the odds ratio (delta method on the log scale, from the cluster- or
heteroskedasticity-robust covariance of the two weighted proportions).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from estimation.design import design_matrix
from estimation.effect_estimate import (  # noqa: F401 (re-exported)
    ASSUMPTIONS,
    RATIO_NOTE,
    SE_LABELS,
    EffectEstimate,
    normal_inference,
    ratio_inference,
)
from estimation.matched import MatchedSample
from estimation.mestimation import estimate_weighted
from estimation.ordering import distinct_count
from estimation.outcome import _check_outcome, _outcome
from estimation.parameters import InvalidInputError, InvalidParameterError, check_choice
from estimation.threads import side_thread, soon
from estimation.variance import (
    abadie_imbens_variance,
    fit_wls,
    sandwich_vcov,
    stacked_pairs,
)

SE_TYPES = ("auto", "cluster", "robust", "abadie_imbens")
def uses_replacement(sample: MatchedSample) -> bool:
    """True when a control can serve several treated units (MatchIt's ``replace = TRUE``)."""
    if sample.settings.get("replace"):
        return True
    mm = np.asarray(sample.match_matrix)
    used = mm[mm >= 0]
    return bool(used.size and np.bincount(used, minlength=sample.n).max() > 1)


def _counts(treat: np.ndarray, matched: np.ndarray) -> tuple[int, int]:
    n_t, n_c = int((treat & matched).sum()), int((~treat & matched).sum())
    if n_t == 0 or n_c == 0:
        raise InvalidInputError(
            "estimate_att needs matched treated and matched control units; got "
            f"{n_t} matched treated and {n_c} matched control units. Loosen the caliper or "
            "check the matching."
        )
    return n_t, n_c


def _resolve_se_type(se_type: str, cluster, method: str, replace: bool) -> str:
    check_choice("estimate_att", "se_type", se_type, SE_TYPES)
    if se_type == "auto":
        if cluster is None:
            return "robust"
        if isinstance(cluster, str) and replace and method == "difference_in_means":
            return "abadie_imbens"
        return "cluster"
    if se_type == "abadie_imbens" and method != "difference_in_means":
        raise InvalidParameterError(
            "estimate_att", "se_type",
            "'cluster' or 'robust' for a regression-adjusted estimate (the Abadie-Imbens "
            "standard error is for the difference in means of the matching estimator)",
            se_type,
        )
    return se_type


CLUSTER_EXPECTED = ("'subclass', None, an array of cluster ids (one per unit) or a list of "
                    "such dimensions for multi-way clustering")


def _check_cluster_name(cluster: str) -> None:
    if cluster != "subclass":
        raise InvalidParameterError("estimate_att", "cluster", CLUSTER_EXPECTED, cluster)


def is_multiway(cluster) -> bool:
    """A list or tuple of dimensions: some item is "subclass" or a 1-d array of ids (a flat
    list of scalar ids is one dimension)."""
    if not isinstance(cluster, (list, tuple)) or not cluster:
        return False
    return any((isinstance(c, str) and c == "subclass") or
               (not isinstance(c, str) and np.ndim(c) == 1) for c in cluster)


def _unit_ids(sample: MatchedSample, ids, what: str = "'cluster'") -> np.ndarray:
    """Codes 0..G-1 of one cluster id per unit (validated)."""
    series = pd.Series(np.asarray(ids, dtype=object))
    if series.shape[0] != sample.n or series.isna().any():
        raise InvalidInputError(
            f"estimate_att: {what} must give one non-missing id per unit ({sample.n}); "
            f"got {series.shape[0]} values with {int(series.isna().sum())} missing."
        )
    return pd.factorize(series)[0]


def _subclass_rows(sample: MatchedSample, units: np.ndarray, pairs) -> np.ndarray:
    """The matched set of each regression row (the stacked pair with replacement)."""
    if pairs is not None:
        return pairs
    ids = np.asarray(sample.subclass)[units]
    if (ids < 0).any():
        raise InvalidInputError(
            "estimate_att: some matched units have no subclass and the match matrix does "
            "not show controls reused; pass cluster ids or use se_type='robust'."
        )
    return ids


def _dimension(sample: MatchedSample, item, units: np.ndarray, pairs) -> np.ndarray:
    if isinstance(item, str):
        _check_cluster_name(item)
        return _subclass_rows(sample, units, pairs)
    if np.ndim(item) != 1:
        raise InvalidParameterError("estimate_att", "cluster", CLUSTER_EXPECTED, item)
    return _unit_ids(sample, item)[units]


def cluster_dimensions(sample: MatchedSample, cluster, kind: str, units: np.ndarray,
                       pairs) -> list[np.ndarray] | None:
    """Cluster ids per regression row, one array per dimension (None: HC1 on rows).

    * ``robust``: every unit its own cluster. Without replacement the rows are the units
      (plain HC1); with replacement a reused control's rows are summed (one-way on units).
    * ``cluster="subclass"``: the matched sets; with replacement two-way on matched sets and
      units (MatchIt's advice for ``get_matches()``).
    * an array of ids per unit: one-way on those ids; a list of dimensions: multi-way.
    """
    if kind == "robust" or cluster is None:
        return None if pairs is None else [units]
    if is_multiway(cluster):
        return [_dimension(sample, item, units, pairs) for item in cluster]
    if isinstance(cluster, str):
        _check_cluster_name(cluster)
        rows = _subclass_rows(sample, units, pairs)
        return [rows] if pairs is None else [rows, units]
    if isinstance(cluster, (int, float, bool)) or np.ndim(cluster) != 1:
        raise InvalidParameterError("estimate_att", "cluster", CLUSTER_EXPECTED, cluster)
    return [_unit_ids(sample, cluster)[units]]


def _design(sample: MatchedSample, covariates, matched: np.ndarray):
    """(design rows of the matched units, map unit -> row or -1, method).

    The design is built on the matched units only (as R's ``lm`` on ``match.data``): an
    intercept, the treatment and the expanded covariates (treatment contrasts).
    """
    rows = np.flatnonzero(matched)
    position = np.full(sample.n, -1, dtype=np.int64)
    position[rows] = np.arange(rows.size)
    treat = np.asarray(sample.treat).astype(bool)[rows].astype(np.float64)
    if covariates is None:
        X = np.empty((rows.size, 2), order="F")
        X[:, 0], X[:, 1] = 1.0, treat
        return X, position, "difference_in_means"

    frame = covariates if isinstance(covariates, pd.DataFrame) else _named(sample, covariates)
    if len(frame) != sample.n:
        raise InvalidInputError(
            f"estimate_att: 'covariates' has {len(frame)} rows; expected {sample.n}."
        )
    design = design_matrix(frame.iloc[rows].reset_index(drop=True))
    X = np.empty((rows.size, 2 + design.shape[1]), order="F")  # columns contiguous
    X[:, 0], X[:, 1] = 1.0, treat
    design.columns.matrix(out=X[:, 2:])  # written in place: no second n x p copy
    return X, position, "regression"


def _named(sample: MatchedSample, names) -> pd.DataFrame:
    names = [names] if isinstance(names, str) else [str(n) for n in names]
    unknown = [n for n in names if n not in sample.covariates.columns]
    if unknown:
        listed = ", ".join(repr(str(c)) for c in sample.covariates.columns)
        raise InvalidInputError(
            f"estimate_att: unknown covariate(s) {', '.join(map(repr, unknown))}; expected "
            f"names among {listed}."
        )
    return sample.covariates[names]


def estimate_att(
    sample: MatchedSample,
    outcome,
    *,
    covariates: Sequence[str] | pd.DataFrame | None = None,
    binary: bool | None = None,
    se_type: str = "auto",
    cluster="subclass",
    alpha: float = 0.05,
    variance_matches: int = 1,
) -> EffectEstimate:
    """The ATT of a matched sample with a standard error, interval and p-value.

    Parameters
    ----------
    sample : MatchedSample
    outcome : values (one per unit, input order) or the name of a column of the sample's
        covariates.
    covariates : None for the difference in weighted means; names (or a frame) of covariates
        for the regression-adjusted estimate.
    binary : None detects a 0/1 outcome; True also reports the risk ratio and odds ratio.
    se_type : "auto", "cluster", "robust" or "abadie_imbens" (see the module docstring).
    cluster : "subclass" (pairs/subclasses of the matching), None, one cluster id per unit,
        or a list of such dimensions (arrays or "subclass") for multi-way clustering, e.g.
        ``[person_ids, "subclass"]``.
    alpha : 1 - confidence level of the interval.
    variance_matches : J, the number of same-group neighbours used by the Abadie-Imbens
        conditional-variance estimate.

    >>> from estimation import NearestNeighborMatching, estimate_att, example_data
    >>> X, treat, y = example_data()
    >>> sample = NearestNeighborMatching().fit(X, treat).result_
    >>> effect = estimate_att(sample, y)
    >>> round(effect.estimate, 2), round(effect.std_error, 2), effect.n_treated
    (2.15, 0.17, 62)
    """
    if not isinstance(sample, MatchedSample):
        raise InvalidInputError(
            f"estimate_att expects an estimation.MatchedSample; got {type(sample).__name__}."
        )
    if sample.structure == "weights" and se_type in ("auto", "m_estimation"):

        return estimate_weighted(sample, outcome, covariates=covariates, binary=binary,
                                 cluster=cluster, alpha=alpha)
    if sample.structure == "strata" and se_type == "auto" and isinstance(cluster, str):
        se_type = "robust"  # few, large subclasses are not clusters (MatchIt's advice)
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise InvalidParameterError("estimate_att", "alpha", "a float in (0, 1)", alpha)
    if not (isinstance(variance_matches, (int, np.integer)) and variance_matches >= 1):
        raise InvalidParameterError("estimate_att", "variance_matches", "an int >= 1",
                                    variance_matches)
    y, name = _outcome(sample, outcome)
    treat = np.asarray(sample.treat).astype(bool)
    w = np.asarray(sample.weights, dtype=np.float64)
    matched = w > 0
    is_binary = _check_outcome(y, matched, name, binary)
    n_t, n_c = _counts(treat, matched)
    with side_thread(sample.n) as pool:  # the outcome's spread and the controls' ESS beside the regression
        side = soon(pool, _side_figures, y, w, treat, matched)
        X, position, method = _design(sample, covariates, matched)
        replace = uses_replacement(sample)
        kind = _resolve_se_type(se_type, cluster, method, replace)
        estimate, se, counts = _difference(sample, (X, position), y, w, matched, kind,
                                           cluster, variance_matches, replace)
        constant, ess = side()
    low, high, p = normal_inference(estimate, se, alpha)
    notes = _notes(constant, kind, method, is_binary, replace, counts,
                   isinstance(cluster, str))
    ratios = (_ratio_estimates(sample, y, w, matched, cluster, kind, alpha, replace)
              if is_binary else ())
    if is_binary and not ratios:
        notes += ("Risk and odds ratios are undefined: a proportion is 0 or 1.",)
    return EffectEstimate(
        estimate, se, low, high, p, n_t, n_c, method, kind, sample.estimand,
        "risk_difference" if is_binary else "difference", name, float(alpha),
        counts[0] if counts else None, ess, ASSUMPTIONS, notes,
        tuple(ratios), counts,
    )


def _side_figures(y: np.ndarray, w: np.ndarray, treat: np.ndarray,
                  matched: np.ndarray) -> tuple[bool, float]:
    """Whether the outcome is constant on the matched units (a note) and the matched
    controls' effective sample size: neither raises, and nothing else needs them before
    the estimate's record is built."""
    values = y[matched]
    constant = bool(values.size and values.min() == values.max())
    return constant, _ess(w[~treat & matched])


def _ess(w: np.ndarray) -> float:
    return float(w.sum() ** 2 / np.sum(w**2)) if w.size else float("nan")


def _rows(sample: MatchedSample, w: np.ndarray, matched: np.ndarray, replace: bool):
    """Rows of the outcome regression: (unit index, weight, matched-set id or None).

    Without replacement: the matched units with the matching weights (MatchIt's
    ``match.data``). With replacement: one row per unit per matched set with weights 1 for
    the treated and 1/m for each of its m controls (MatchIt's ``get_matches``).
    """
    if not replace:
        units = np.flatnonzero(matched)
        return units, w[units], None
    treat = np.asarray(sample.treat).astype(bool)
    units, pairs, weights = stacked_pairs(np.asarray(sample.match_matrix), treat)
    return units, weights, pairs


def _difference(sample, X, y, w, matched, kind, cluster, J, replace: bool):
    """(estimate, standard error, clusters) of the treatment coefficient."""
    units, weights, pairs = _rows(sample, w, matched, replace)
    design, position = X
    at = position[units]
    if not (at.size == design.shape[0] and np.array_equal(at, np.arange(at.size))):
        design = np.asfortranarray(design[at])  # the stacked rows (with replacement)
    fit = fit_wls(design, y[units], weights)
    if 1 not in set(fit.kept.tolist()):
        raise InvalidInputError(
            "estimate_att: the covariates predict treatment perfectly in the matched sample; "
            "the treatment effect is not identified. Remove covariates used for exact matching."
        )
    position = int(np.flatnonzero(fit.kept == 1)[0])
    estimate = float(fit.coef[position])
    if kind == "abadie_imbens":
        treat = np.asarray(sample.treat).astype(bool)
        pool = np.flatnonzero(~np.asarray(sample.discarded).astype(bool))
        _, var, _ = abadie_imbens_variance(
            y, treat, np.asarray(sample.distance, float), np.asarray(sample.match_matrix),
            pool, J,
        )
        return estimate, float(np.sqrt(var)), ()
    dimensions = cluster_dimensions(sample, cluster, kind, units, pairs)
    vcov, _ = sandwich_vcov(fit, dimensions)
    variance = float(vcov[position, position])
    if variance < 0:  # multi-way inclusion-exclusion can go negative: the largest one-way
        variance = max(float(sandwich_vcov(fit, [d])[0][position, position])
                       for d in dimensions)
    # a residual that is zero up to rounding can leave -1e-20: no variation, SE 0
    return estimate, float(np.sqrt(max(variance, 0.0))), _cluster_counts(dimensions, kind)


def _cluster_counts(dimensions, kind: str) -> tuple[int, ...]:
    if kind != "cluster" or dimensions is None:
        return ()
    return tuple(distinct_count(d) for d in dimensions)


def _notes(constant: bool, kind, method, is_binary, replace, counts,
           multiway_default: bool) -> tuple[str, ...]:
    notes: list[str] = []
    if constant:
        notes.append("The outcome takes a single value in the matched sample: no variation, "
                     "so the standard error is 0 and no p-value is given.")
    if replace and kind != "abadie_imbens":
        notes.append("Controls are reused (matching with replacement): the estimate is fitted on "
                     "one row per unit per matched set (MatchIt's get_matches)"
                     + (("; standard errors clustered two-way on matched sets and units."
                         if len(counts) == 2 and multiway_default else
                         f"; standard errors clustered on {len(counts)} dimension(s).")
                        if kind == "cluster" else
                        "; the HC1 standard error is clustered on the unit, so the rows of a "
                        "reused control count as one independent unit."))
    if is_binary and method == "regression":
        notes.append("Risk and odds ratios come from the weighted proportions (not adjusted "
                     "for covariates).")
    return tuple(notes)


def _ratio_estimates(sample, y, w, matched, cluster, kind, alpha,
                     replace: bool) -> list[EffectEstimate]:
    """Risk ratio and odds ratio with delta-method intervals on the log scale.

    The covariance of the two weighted proportions is cluster-robust on the same rows and
    clusters as the risk difference (HC1 when that is robust or no clusters are given).
    """
    treat = np.asarray(sample.treat).astype(bool)
    units, weights, pairs = _rows(sample, w, matched, replace)
    X = np.column_stack([treat[units], ~treat[units]]).astype(np.float64)
    fit = fit_wls(X, y[units], weights)
    if fit.kept.size < 2:
        return []
    p1, p0 = float(fit.coef[0]), float(fit.coef[1])
    if not (0 < p1 < 1 and 0 < p0 < 1):
        return []
    ratio_kind = "robust" if kind == "robust" or cluster is None else "cluster"
    dimensions = cluster_dimensions(sample, cluster, ratio_kind, units, pairs)
    vcov, _ = sandwich_vcov(fit, dimensions)
    counts = _cluster_counts(dimensions, ratio_kind)
    out = []
    for scale, ratio, se, low, high, p in ratio_inference(p1, p0, vcov, alpha):
        out.append(EffectEstimate(
            ratio, se, low, high, p,
            int((treat & matched).sum()), int((~treat & matched).sum()),
            "difference_in_means", ratio_kind, sample.estimand, scale, "", float(alpha),
            counts[0] if counts else None, float("nan"), ASSUMPTIONS, (RATIO_NOTE,), (), counts,
        ))
    return out


estimate_effect = estimate_att
"""Alias of :func:`estimate_att` (the name used in docs/architecture.md)."""
