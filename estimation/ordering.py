"""The stable order of float64 values, fast.

Matching and the balance table order units by a value with ties kept in position order (R's
``order()``). NumPy's stable argsort of doubles is a merge sort, several times slower than
its vectorised default argsort; :func:`stable_argsort` takes the default argsort and puts
the positions within each run of equal values back in increasing order (compiled,
``estimation/_core_sort.c``), which is exactly ``numpy.argsort(values, kind="stable")``.
From 65,536 values (below, its fixed cost does not pay) to 2^32 - 1 a compiled radix sort
of the values' bits gives the same order directly (stable by construction; 2 to 3 x faster
than the argsort and tie fix on CPUs without AVX-512, whose NumPy argsort is not
vectorised). Its pairs of key and 32-bit position take 24 bytes a value while it runs.
"""

from __future__ import annotations

import numpy as np

try:  # the compiled loops (estimation/_core*.c); NumPy's stable sort is the same order
    from estimation import _core
except ImportError:  # pragma: no cover - built without a C compiler
    _core = None

_SMALL = 2048  # below this NumPy's stable sort is as fast
_RADIX = (1 << 16, (1 << 32) - 1)  # sizes sorted by radix_argsort (fixed cost below, positions above)


def _radix(values: np.ndarray) -> bool:
    return _RADIX[0] <= values.shape[0] <= _RADIX[1] and hasattr(_core, "radix_argsort")


def stable_argsort(values: np.ndarray) -> np.ndarray:
    """``numpy.argsort(values, kind="stable")`` of a 1-d array."""
    values = np.asarray(values)
    if _core is None or values.dtype != np.float64 or values.ndim != 1 or values.size < _SMALL:
        return np.argsort(values, kind="stable")
    values = np.ascontiguousarray(values)
    if _radix(values):
        order = np.empty(values.shape[0], dtype=np.int64)
        _core.radix_argsort(values, order, None)
        return order
    order = np.argsort(values)
    _core.fix_ties(values, order, None)
    return order


def stable_sort(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(order, values[order])`` with ``order = stable_argsort(values)``."""
    values = np.asarray(values)
    if _core is None or values.dtype != np.float64 or values.ndim != 1 or values.size < _SMALL:
        order = np.argsort(values, kind="stable")
        return order, values[order]
    values = np.ascontiguousarray(values)
    ordered = np.empty(values.shape[0])
    if _radix(values):
        order = np.empty(values.shape[0], dtype=np.int64)
        _core.radix_argsort(values, order, ordered)
        return order, ordered
    order = np.argsort(values)
    _core.fix_ties(values, order, ordered)
    return order, ordered


def _numpy_sort_is_vectorised() -> bool:
    """NumPy sorts float64 with its AVX-512 quicksort (x86-simd-sort) on this CPU: then
    ``ndarray.sort`` is 2.5 to 3 x faster than the radix sort (0.8 against 2.4 ms for
    150,000 values, 131 against 372 ms for 8 million) and needs no buffer; without
    AVX-512 it is about 3 x slower (round 6, docs/performance.md)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # pragma: no cover - NumPy's private module moved
        return False
    return bool(__cpu_features__.get("AVX512_SKX"))


_NUMPY_SORT_FAST = _numpy_sort_is_vectorised()


def sort_in_place(values: np.ndarray) -> None:
    """``values.sort()`` of a writable 1-d array: the same values in the same order (NaNs
    last); the arrangement of equal ones is left open (-0.0 and +0.0, NaNs of different
    bits), so callers may only compare the sorted values. Where NumPy's sort of doubles is
    vectorised (AVX-512) it is that sort; elsewhere float64 arrays of 2,048 values or more
    are sorted by a compiled radix sort of their bits (about 3 x NumPy's sort there;
    16 bytes a value), which puts -0.0 before +0.0 and keeps NaNs in input order."""
    if (not _NUMPY_SORT_FAST and _core is not None and values.dtype == np.float64
            and values.ndim == 1 and values.size >= _SMALL and values.flags.c_contiguous
            and values.flags.writeable and hasattr(_core, "radix_sort")):
        _core.radix_sort(values)
    else:
        values.sort()


def factorize_ints(ids: np.ndarray) -> tuple[np.ndarray, int]:
    """``pandas.factorize(ids, sort=False)`` of integer ids: codes numbered by first
    appearance, and their number. Compiled in linear time for ids in [0, 4n + 1024)
    (cluster and subclass numbers); pandas' hash table otherwise."""
    ids = np.asarray(ids)
    if _core is not None and ids.ndim == 1 and ids.dtype.kind in "iu" and ids.size:
        ids64 = np.ascontiguousarray(ids, dtype=np.int64)
        codes = np.empty(ids64.shape[0], dtype=np.int64)
        count = _core.first_codes(ids64, codes, 4 * ids64.shape[0] + 1024)
        if count >= 0:
            return codes, int(count)
    import pandas as pd

    codes = pd.factorize(ids, sort=False)[0].astype(np.int64)
    return codes, int(codes.max()) + 1 if codes.size else 0


def distinct_count(ids: np.ndarray) -> int:
    """``numpy.unique(ids).size`` of integer ids."""
    return factorize_ints(ids)[1]
