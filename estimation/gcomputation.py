"""The ATT by regression with treatment-covariate interactions (g-computation) on a weighted sample.

MatchIt's guidance for subclassification and CEM ("Estimating effects after matching"):
when matching leaves imbalance within the subclasses, adjust for the covariates with an
outcome model that lets the covariates' slopes differ by treatment (a model of the control
outcome fitted on the comparison units) rather than one common slope. With a common slope
the treatment coefficient is biased by (b_common - b_control) x the residual imbalance
whenever the effect varies with a covariate; with separate slopes the ATT is

    ATT = sum_T w_i (y_i - x_i b0) / sum_T w_i,  b0 = the weighted least-squares fit on the controls,

unbiased when the control outcome is linear in the covariates (whatever the imbalance).
The standard error is the sandwich of the two estimating equations (the treated mean and
the control regression), with clusters when given: the influence of treated unit i is
w_i (y_i - x_i b0 - ATT) / W_T, that of control j is -xbar_T' (X0'W X0)^-1 x_j w_j e_j.

"""

from __future__ import annotations

from typing import Any

import numpy as np

from estimation.design import as_frame, design_matrix
from estimation.effect_estimate import ASSUMPTIONS, EffectEstimate, normal_inference
from estimation.errors import EstimationError
from estimation.parameters import InvalidParameterError


def att_interactions(sample: Any, outcome: Any, covariates: Any, cluster: Any = None) -> tuple[float, float]:
    """(ATT, standard error) by the control-outcome regression within the weighted sample.

    ``covariates``: a frame (or mapping) of the covariates, one row per unit of the sample;
    ``cluster``: None (each unit its own cluster: HC0) or one cluster id per unit.

    >>> import numpy as np
    >>> from estimation import Subclassification, att_interactions, example_data
    >>> X, treat, y = example_data()
    >>> sample = Subclassification().fit(X, treat).result_
    >>> est, se = att_interactions(sample, y, X)
    >>> bool(np.isfinite(est) and se > 0)
    True
    """
    y = np.asarray(outcome, dtype=float)
    treat = np.asarray(sample.treat, bool)
    w = np.asarray(sample.weights, dtype=float)
    used = w > 0
    frame = as_frame(covariates)
    X = np.zeros((len(y), 0))
    if frame.shape[1]:
        rows = np.flatnonzero(used)  # the covariates of the matched units only (others may be missing)
        inside = design_matrix(frame.iloc[rows].reset_index(drop=True)).matrix
        X = np.zeros((len(y), inside.shape[1]))
        X[rows] = inside
    Z = np.column_stack([np.ones(len(y)), X])
    t, c = used & treat, used & ~treat
    if t.sum() < 1 or c.sum() <= Z.shape[1]:
        raise EstimationError(f"Too few matched units for the regression of the control outcome on "
                              f"{Z.shape[1] - 1} covariate columns: {int(c.sum())} comparison units.")
    Zc, wc = Z[c], w[c]
    bread = Zc.T @ (Zc * wc[:, None])
    try:
        inv = np.linalg.pinv(bread)
    except np.linalg.LinAlgError as exc:  # pragma: no cover - pinv converges for finite input
        raise EstimationError(f"The control-outcome regression cannot be solved: {exc}") from None
    b0 = inv @ (Zc.T @ (wc * y[c]))
    W_T = w[t].sum()
    residual_t = y[t] - Z[t] @ b0
    att = float(np.sum(w[t] * residual_t) / W_T)
    zbar = (w[t][:, None] * Z[t]).sum(axis=0) / W_T
    influence = np.zeros(len(y))
    influence[t] = w[t] * (residual_t - att) / W_T
    influence[c] = -(Zc @ (inv @ zbar)) * wc * (y[c] - Zc @ b0)
    ids = np.arange(len(y)) if cluster is None else np.asarray(cluster)
    sums = np.bincount(np.unique(ids[used], return_inverse=True)[1], weights=influence[used])
    n_clusters = sums.size
    correction = n_clusters / (n_clusters - 1) if cluster is not None and n_clusters > 1 else 1.0
    return att, float(np.sqrt(correction * np.sum(sums ** 2)))


def estimate_att_interactions(sample: Any, outcome: Any, covariates: Any, *, cluster: Any = None,
                              alpha: float = 0.05, name: str = "outcome") -> EffectEstimate:
    """``att_interactions`` as an ``EffectEstimate`` (interval, p-value, sample sizes).

    The adjusted estimate to report after subclassification or CEM (see the module docstring);
    ``method`` is ``"control_outcome_regression"``, ``se_type`` ``"sandwich"``.

    >>> from estimation import Subclassification, estimate_att_interactions, example_data
    >>> X, treat, y = example_data()
    >>> sample = Subclassification().fit(X, treat).result_
    >>> effect = estimate_att_interactions(sample, y, X, name="y")
    >>> effect.method, effect.n_treated == int(treat.sum()), effect.ci_low < effect.estimate
    ('control_outcome_regression', True, True)
    """
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise InvalidParameterError("estimate_att_interactions", "alpha", "a float in (0, 1)", alpha)
    estimate, se = att_interactions(sample, outcome, covariates, cluster=cluster)
    low, high, p = normal_inference(estimate, se, float(alpha))
    treat = np.asarray(sample.treat, bool)
    w = np.asarray(sample.weights, dtype=float)
    used = w > 0
    wc = w[used & ~treat]
    clusters = None if cluster is None else int(np.unique(np.asarray(cluster)[used]).size)
    return EffectEstimate(
        float(estimate), float(se), low, high, p, int((used & treat).sum()), int((used & ~treat).sum()),
        "control_outcome_regression", "sandwich", sample.estimand, "difference", name, float(alpha),
        clusters, float(wc.sum() ** 2 / np.sum(wc ** 2)) if wc.size else float("nan"), ASSUMPTIONS,
    )
