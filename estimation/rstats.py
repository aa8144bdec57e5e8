"""R's small numerical conventions that subclassification and CEM depend on, bit for bit.

Bin edges decide which stratum a unit falls in, so the edges are computed as R computes
them: ``quantile(type = 7)``, ``seq(from, to, length.out)``, ``seq(from, to, by)``,
``findInterval`` and the bin-count rules ``nclass.Sturges``, ``nclass.scott`` and
``nclass.FD`` (R 4.2).
"""

from __future__ import annotations

import math

import numpy as np


def quantile7(x: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """R's ``quantile(x, probs, type = 7)``."""
    xs = np.sort(np.asarray(x, dtype=np.float64))
    n = xs.shape[0]
    index = 1 + max(n - 1, 0) * np.asarray(probs, dtype=np.float64)
    lo = np.floor(index).astype(np.int64)
    hi = np.ceil(index).astype(np.int64)
    qs = xs[lo - 1]
    upper = xs[hi - 1]
    i = (index > lo) & (upper != qs)
    h = (index - lo)[i]
    qs = qs.copy()
    qs[i] = (1 - h) * qs[i] + h * upper[i]
    return qs


def seq_length(start: float, stop: float, length: int) -> np.ndarray:
    """R's ``seq(start, stop, length.out = length)`` for doubles."""
    if length <= 2:
        return np.array([start, stop][:length], dtype=np.float64)
    if start == stop:
        return np.full(length, start, dtype=np.float64)
    n1 = length - 1
    inner = start + np.arange(1, length - 1, dtype=np.float64) * ((stop - start) / n1)
    return np.concatenate([[start], inner, [stop]])


def seq_by(start: float, stop: float, by: float) -> np.ndarray:
    """R's ``seq(start, stop, by = by)`` for doubles and a positive step."""
    delta = stop - start
    if abs(delta) / max(abs(stop), abs(start)) < 100 * np.finfo(float).eps:
        return np.array([start])
    n = int(delta / by + 1e-10)
    return np.minimum(start + np.arange(n + 1, dtype=np.float64) * by, stop)


def find_interval(x: np.ndarray, breaks: np.ndarray, all_inside: bool = False) -> np.ndarray:
    """R's ``findInterval``: the number of breaks <= x (1-based bin), optionally clamped to
    1..len(breaks)-1."""
    index = np.searchsorted(breaks, x, side="right")
    if all_inside:
        index = np.clip(index, 1, breaks.shape[0] - 1)
    return index.astype(np.int64)


def nclass_sturges(x: np.ndarray) -> int:
    return int(math.ceil(math.log2(x.shape[0]) + 1))


def nclass_scott(x: np.ndarray) -> int:
    h = 3.5 * math.sqrt(float(np.var(x, ddof=1))) * x.shape[0] ** (-1 / 3)
    return max(1, int(math.ceil(float(np.ptp(x)) / h))) if h > 0 else 1


def signif(x: np.ndarray, digits: int) -> np.ndarray:
    """R's ``signif`` (round to significant digits, half to even at the last digit)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    nonzero = x != 0
    magnitude = np.floor(np.log10(np.abs(x[nonzero])))
    scale = 10.0 ** (digits - 1 - magnitude)
    out[nonzero] = np.round(x[nonzero] * scale) / scale
    return out


def nclass_fd(x: np.ndarray, digits: int = 5) -> int:
    rounded = signif(x, digits)
    q = quantile7(rounded, np.array([0.25, 0.75]))
    h = 2 * float(q[1] - q[0])
    if h == 0:
        al = 1 / 4
        while h == 0:
            al /= 2
            if al < 1 / 512:
                break
            q = quantile7(rounded, np.array([al, 1 - al]))
            h = float(q[1] - q[0]) / (1 - 2 * al)
    if h == 0:
        h = 3.5 * math.sqrt(float(np.var(x, ddof=1)))
    return int(math.ceil(float(np.ptp(x)) / h * x.shape[0] ** (1 / 3))) if h > 0 else 1
