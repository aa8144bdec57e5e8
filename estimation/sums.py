"""Sums with R's accuracy in NumPy's order, without temporary arrays.

The balance table agrees with MatchIt to the last bits (docs/effects.md): its sums are
accumulated in extended precision (``long double``) as R's ``sum()`` is, in the order NumPy
sums (pairwise). Each function here is the NumPy expression in its docstring, to the bit;
where the compiled loops are built (``estimation/_core_sums.c``) it runs them, which add in
the same order without the temporary arrays the expressions would allocate (several times
faster at a million units). ``tests/estimation/test_core.py`` compares the two.

Expressions (``kind``) of float64 arrays ``a``, ``b`` and scalars ``c``, ``m``:
``0: a``, ``1: a * b``, ``2: c * a``, ``3: c * (a - m) ** 2``, ``4: b * (a - m) ** 2``,
``5: a * a``.
"""

from __future__ import annotations

import numpy as np

try:  # the compiled loops; the NumPy expressions below give the same bits
    from estimation import _core
except ImportError:  # pragma: no cover - built without a C compiler
    _core = None

EXPRESSIONS = {
    0: lambda a, b, c, m: a,
    1: lambda a, b, c, m: a * b,
    2: lambda a, b, c, m: c * a,
    3: lambda a, b, c, m: c * (a - m) ** 2,
    4: lambda a, b, c, m: b * (a - m) ** 2,
    5: lambda a, b, c, m: a * a,
}


def _compiled(a: np.ndarray, b: np.ndarray | None) -> bool:
    return (_core is not None and a.dtype == np.float64 and a.ndim == 1
            and (b is None or (b.dtype == np.float64 and b.shape == a.shape)))


def r_sum(values: np.ndarray) -> np.float64:
    """``np.float64(np.sum(values, dtype=np.longdouble))``: R's ``sum()`` (a long double
    accumulator, then rounded), in NumPy's pairwise order."""
    return r_sum_of(0, np.asarray(values))


def r_sum_of(kind: int, a: np.ndarray, b: np.ndarray | None = None, c: float = 0.0,
              m: float = 0.0) -> np.float64:
    """``np.float64(np.sum(EXPRESSIONS[kind](a, b, c, m), dtype=np.longdouble))``."""
    if a.shape[0] == 0:
        return np.float64(0.0)
    if _compiled(a, b):
        return np.float64(_core.sum_ld(kind, np.ascontiguousarray(a),
                                       None if b is None else np.ascontiguousarray(b),
                                       float(c), float(m)))
    values = EXPRESSIONS[kind](a, b, np.float64(c), np.float64(m))
    return np.float64(np.sum(values, dtype=np.longdouble))


def plain_sum_of(kind: int, a: np.ndarray, b: np.ndarray | None = None) -> np.float64:
    """``np.sum(EXPRESSIONS[kind](a, b))`` in float64 (kinds 0 and 1)."""
    if _compiled(a, b) and kind in (0, 1):
        return np.float64(_core.sum_f64(kind, np.ascontiguousarray(a),
                                        None if b is None else np.ascontiguousarray(b), 0.0, 0.0))
    return np.float64(np.sum(EXPRESSIONS[kind](a, b, 0.0, 0.0)))


def r_cumsum(values: np.ndarray) -> np.ndarray:
    """``np.cumsum(values, dtype=np.longdouble).astype(np.float64)``: R's ``cumsum()``."""
    values = np.asarray(values)
    if _compiled(values, None):
        out = np.empty(values.shape[0])
        _core.cumsum_ld(np.ascontiguousarray(values), out)
        return out
    return np.cumsum(values, dtype=np.longdouble).astype(np.float64)


def absdiff_mean(x: np.ndarray, p: np.ndarray, q: np.ndarray) -> float:
    """``float(np.mean(np.abs(x[p] - x[q])))`` for float64 ``x`` and int64 positions."""
    if _compiled(x, None) and p.dtype == np.int64 and q.dtype == np.int64 and p.size:
        return float(np.float64(_core.absdiff_sum(np.ascontiguousarray(x), np.ascontiguousarray(p),
                                                  np.ascontiguousarray(q))) / p.shape[0])
    return float(np.mean(np.abs(x[p] - x[q])))


def value_kind(x: np.ndarray) -> tuple[bool, float]:
    """(every value 0 or 1, ``max |x|`` when every value is a whole number else infinity)."""
    if _compiled(x, None):
        return _core.value_kind(np.ascontiguousarray(x))
    binary = bool(np.all((x == 0) | (x == 1)))
    if x.shape[0] == 0 or not np.array_equal(np.floor(x), x):
        return binary, float("inf")
    return binary, float(np.abs(x).max())
