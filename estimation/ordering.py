"""The stable order of float64 values, fast.

Matching and the balance table order units by a value with ties kept in position order (R's
``order()``). NumPy's stable argsort of doubles is a merge sort, several times slower than
its vectorised default argsort; :func:`stable_argsort` takes the default argsort and puts
the positions within each run of equal values back in increasing order (compiled,
``estimation/_core_sort.c``), which is exactly ``numpy.argsort(values, kind="stable")``.
"""

from __future__ import annotations

import numpy as np

try:  # the compiled loops (estimation/_core*.c); NumPy's stable sort is the same order
    from estimation import _core
except ImportError:  # pragma: no cover - built without a C compiler
    _core = None

_SMALL = 2048  # below this NumPy's stable sort is as fast


def stable_argsort(values: np.ndarray) -> np.ndarray:
    """``numpy.argsort(values, kind="stable")`` of a 1-d array."""
    values = np.asarray(values)
    if _core is None or values.dtype != np.float64 or values.ndim != 1 or values.size < _SMALL:
        return np.argsort(values, kind="stable")
    values = np.ascontiguousarray(values)
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
    order = np.argsort(values)
    ordered = np.empty(values.shape[0])
    _core.fix_ties(values, order, ordered)
    return order, ordered
