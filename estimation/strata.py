"""Subclasses: MatchIt's weights from subclass membership, and their bookkeeping.

Full matching, subclassification and coarsened exact matching all end in a partition of
the kept units into subclasses. MatchIt turns that partition into weights the same way for
each of them (``get_weights_from_subclass``; the rescaling is that of MatchIt 4.5.1's
``weights.subclass``, which the current release's ``normalize = TRUE`` reproduces): with
``n1_s`` treated and ``n0_s`` control units in subclass ``s``,

* ATT: treated 1, controls ``n1_s / n0_s``, then the control weights are scaled to sum to
  the number of controls in a subclass;
* ATC: controls 1, treated ``n0_s / n1_s``, then the treated weights scaled likewise;
* ATE: treated ``(n1_s + n0_s) / n1_s``, controls ``(n1_s + n0_s) / n0_s``, each group
  scaled to sum to its number of units in a subclass.

Units outside every subclass (code -1) weigh 0.
"""

from __future__ import annotations

import numpy as np

from estimation.parameters import InvalidInputError

ESTIMANDS = ("ATT", "ATC", "ATE")


def subclass_counts(subclass: np.ndarray, treat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Treated and control counts per subclass code (codes 0..S-1; -1 ignored)."""
    kept = subclass >= 0
    size = int(subclass.max()) + 1 if kept.any() else 0
    n1 = np.bincount(subclass[kept & treat], minlength=size)
    n0 = np.bincount(subclass[kept & ~treat], minlength=size)
    return n1, n0


def _rescaled(weights: np.ndarray, group: np.ndarray) -> np.ndarray:
    total = weights[group].sum()
    if total > 0:
        weights[group] *= group.sum() / total
    return weights


def subclass_weights(subclass: np.ndarray, treat: np.ndarray, estimand: str = "ATT") -> np.ndarray:
    """MatchIt's weights from subclass membership (see the module docstring).

    >>> import numpy as np
    >>> from estimation import subclass_weights
    >>> subclass_weights(np.array([0, 0, 0, 1, 1]), np.array([True, False, False, True, False])).tolist()
    [1.0, 0.75, 0.75, 1.0, 1.5]
    """
    subclass = np.asarray(subclass, dtype=np.int64)
    treat = np.asarray(treat, dtype=bool)
    n1, n0 = subclass_counts(subclass, treat)
    i1, i0 = treat & (subclass >= 0), ~treat & (subclass >= 0)
    if not i1.any() or not i0.any():
        group = "treated" if not i1.any() else "control"
        raise InvalidInputError(f"No {group} units were matched (no subclass holds one).")
    weights = np.zeros(treat.shape[0])
    s1, s0 = subclass[i1], subclass[i0]
    with np.errstate(divide="ignore", invalid="ignore"):
        if estimand == "ATT":
            weights[i1] = 1.0
            weights[i0] = n1[s0] / n0[s0]
            return _rescaled(weights, i0)
        if estimand == "ATC":
            weights[i0] = 1.0
            weights[i1] = n0[s1] / n1[s1]
            return _rescaled(weights, i1)
        total = n1 + n0
        weights[i1] = total[s1] / n1[s1]
        weights[i0] = total[s0] / n0[s0]
    return _rescaled(_rescaled(weights, i1), i0)


def renumber(codes: np.ndarray) -> np.ndarray:
    """Subclass codes 0, 1, ... in order of first appearance in input order; -1 kept."""
    codes = np.asarray(codes, dtype=np.int64)
    out = np.full(codes.shape[0], -1, dtype=np.int64)
    kept = codes >= 0
    if kept.any():
        _, first, inverse = np.unique(codes[kept], return_index=True, return_inverse=True)
        rank = np.empty(first.size, dtype=np.int64)
        rank[np.argsort(first, kind="stable")] = np.arange(first.size)
        out[kept] = rank[inverse]
    return out


def mixed_subclasses(subclass: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """The codes with -1 for units whose subclass lacks treated or control units."""
    n1, n0 = subclass_counts(subclass, treat)
    keep = subclass >= 0
    both = np.zeros(subclass.shape[0], dtype=bool)
    both[keep] = (n1[subclass[keep]] > 0) & (n0[subclass[keep]] > 0)
    return renumber(np.where(both, subclass, -1))


def subclass_pair_distance(x: np.ndarray, treat: np.ndarray, subclass: np.ndarray) -> float:
    """Mean |x_t - x_c| over every treated-control pair within a subclass (MatchIt's
    ``pairdistsubC``; NaN when there are no pairs).

    Computed from sorted values and prefix sums in O(n log n), not pair by pair.
    """
    x = np.asarray(x, dtype=np.float64)
    kept = subclass >= 0
    if not kept.any():
        return float("nan")
    xs, ts, ss = x[kept], treat[kept], subclass[kept]
    order = np.lexsort((xs, ss))
    xs, ts, ss = xs[order], ts[order], ss[order]
    control = (~ts).astype(np.float64)
    count = np.cumsum(control)
    total = np.cumsum(np.where(ts, 0.0, xs))
    start = np.flatnonzero(np.r_[True, ss[1:] != ss[:-1]])
    stop = np.r_[start[1:], ss.shape[0]] - 1
    segment = np.cumsum(np.r_[True, ss[1:] != ss[:-1]]) - 1
    base_n = np.where(start > 0, count[start - 1], 0.0)
    base_s = np.where(start > 0, total[start - 1], 0.0)
    seg_n, seg_s = count[stop] - base_n, total[stop] - base_s
    t = np.flatnonzero(ts)
    left_n = count[t] - base_n[segment[t]]
    left_s = total[t] - base_s[segment[t]]
    right_n, right_s = seg_n[segment[t]] - left_n, seg_s[segment[t]] - left_s
    sums = left_n * xs[t] - left_s + right_s - right_n * xs[t]
    pairs = float(np.sum(seg_n[segment[t]]))
    return float(np.sum(sums) / pairs) if pairs > 0 else float("nan")
