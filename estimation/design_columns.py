"""The design matrix in parts: dense columns and factors, never the n x p matrix.

A design of covariates (``estimation.design``) is mostly numeric columns, which enter as
they are, and factors, whose 0/1 dummy columns are mostly zeros. :class:`DesignColumns`
keeps the numeric columns as they came (any numeric dtype, no copy) and each factor as its
integer codes and a table from code to dummy. The propensity model needs only two things
of the design per Newton step, and both are computed from the parts in one pass
(compiled: ``estimation/_core_design.c``; the NumPy functions below give the same bits):

* :meth:`DesignColumns.linear_predictor`: ``beta[0] + X @ beta[1:]``, term by term in
  column order, so that identical covariates give bit-identical scores;
* :meth:`DesignColumns.cross`: the weighted cross products of ``[1, X]`` (``X'WX``), the
  score sums (``X's``) and the centred Gram matrix of the rank check, with a factor's
  dummies handled as the counts they are (no products with zeros).

Sums run over fixed chunks of rows, the chunks added in order: the same bits for any number
of threads. Within a chunk the sums of products of dense columns go to eight lanes (row r to
lane r mod 8, each lane in row order; lanes added as ((0+1)+(2+3))+((4+5)+(6+7))), the sums
over a dummy's rows in row order. The matrix itself is built only when asked for
(:attr:`estimation.design.DesignMatrix.matrix`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from estimation.threads import context_pool, threads

try:  # the compiled loops; the NumPy functions below give the same bits
    from estimation import _core
except ImportError:  # pragma: no cover - built without a C compiler
    _core = None

_THREADED_FROM = 50_000  # rows from which the columns' checks and means run on threads
_CHUNK = 1 << 15  # rows summed together; the chunk sums are added in order
_CHUNK_MEMORY = 32 << 20  # bytes for all chunk sums at once (larger designs: larger chunks)


@dataclass(frozen=True, eq=False)
class CrossParts:
    """The sums of :meth:`DesignColumns.cross` (Q = dense columns + 1 for the intercept):
    ``A`` (Q x Q, upper triangle) of ``w z z'`` with ``z = [1, dense - centre]``, ``D``
    (dummies x Q) of ``w z`` over each dummy's rows, ``F`` (dummies x dummies, upper) of
    ``w`` over the rows of two dummies of different factors, ``g`` (Q) of ``s z`` and ``h``
    (dummies) of ``s`` over each dummy's rows."""

    A: np.ndarray
    D: np.ndarray
    F: np.ndarray
    g: np.ndarray
    h: np.ndarray


@dataclass(frozen=True, eq=False)
class DesignColumns:
    """A design of ``p`` columns over ``n`` rows, in parts.

    ``dense`` are 1-d numeric arrays (any dtype, read as float64), ``dense_column[k]`` the
    design column of ``dense[k]``; ``codes[f]`` are factor f's integer codes and
    ``tables[f][code]`` the dummy of each code (-1: the reference level, or a level whose
    dummy is not in the design); ``dummy_column[d]`` is the design column of dummy d.
    ``sequence`` lists the terms in column order: ``k >= 0`` dense k, ``-(f + 1)`` factor f
    (at the column of its first dummy).
    """

    n: int
    p: int
    dense: tuple[np.ndarray, ...]
    dense_column: tuple[int, ...]
    codes: tuple[np.ndarray, ...]
    tables: tuple[np.ndarray, ...]
    dummy_column: np.ndarray
    sequence: np.ndarray

    @classmethod
    def of(cls, n: int, terms: list) -> "DesignColumns":
        """From terms in column order: ``("dense", values)`` or ``("factor", codes, k)``
        with codes 0..k (0 the reference level: k dummies)."""
        dense, dense_column, codes, tables, dummy_column, sequence = [], [], [], [], [], []
        column = 0
        for term in terms:
            if term[0] == "dense":
                sequence.append(len(dense))
                dense.append(term[1])
                dense_column.append(column)
                column += 1
                continue
            _, values, k = term
            if k == 0:
                continue
            table = np.full(k + 1, -1, dtype=np.int64)
            table[1:] = np.arange(len(dummy_column), len(dummy_column) + k)
            sequence.append(-(len(codes) + 1))
            codes.append(values)
            tables.append(table)
            dummy_column.extend(range(column, column + k))
            column += k
        return cls(n, column, tuple(dense), tuple(dense_column), tuple(codes), tuple(tables),
                   np.asarray(dummy_column, dtype=np.int64), np.asarray(sequence, dtype=np.int64))

    @classmethod
    def of_matrix(cls, X: np.ndarray) -> "DesignColumns":
        """Every column of a 2-d array as a dense part."""
        X = np.asarray(X, dtype=np.float64)
        return cls.of(X.shape[0], [("dense", np.ascontiguousarray(X[:, j])) for j in range(X.shape[1])])

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n, self.p)

    @property
    def dummies(self) -> int:
        return int(self.dummy_column.shape[0])

    def matrix(self, out: np.ndarray | None = None) -> np.ndarray:
        """The n x p float64 matrix (Fortran order: one column at a time), or written into
        ``out`` (an n x p float64 array or view, such as the columns of a larger design)."""
        matrix = np.empty((self.n, self.p), order="F") if out is None else out
        for values, j in zip(self.dense, self.dense_column):
            matrix[:, j] = values
        for codes, table in zip(self.codes, self.tables):
            for code in np.flatnonzero(table >= 0):
                np.equal(codes, code, out=matrix[:, self.dummy_column[table[code]]],
                         casting="unsafe")
        return matrix

    def select(self, columns: list[int]) -> "DesignColumns":
        """The design of the given columns (in increasing order), renumbered."""
        new_of = {int(c): i for i, c in enumerate(columns)}
        keep = [k for k, j in enumerate(self.dense_column) if j in new_of]
        dummy_new = np.full(self.dummies, -1, dtype=np.int64)
        kept_dummies = [d for d in range(self.dummies) if int(self.dummy_column[d]) in new_of]
        dummy_new[kept_dummies] = np.arange(len(kept_dummies))
        codes, tables, sequence, dense_index = [], [], [], {k: i for i, k in enumerate(keep)}
        for s in self.sequence.tolist():
            if s >= 0:
                if s in dense_index:
                    sequence.append(dense_index[s])
                continue
            table = self.tables[-s - 1]
            new = np.where(table >= 0, dummy_new[np.maximum(table, 0)], -1)
            if (new >= 0).any():
                sequence.append(-(len(codes) + 1))
                codes.append(self.codes[-s - 1])
                tables.append(new.astype(np.int64))
        return DesignColumns(
            self.n, len(columns), tuple(self.dense[k] for k in keep),
            tuple(new_of[self.dense_column[k]] for k in keep), tuple(codes), tuple(tables),
            np.asarray([new_of[int(self.dummy_column[d])] for d in kept_dummies], dtype=np.int64),
            np.asarray(sequence, dtype=np.int64))

    # --- the two passes -----------------------------------------------------------------

    def _beta_index(self) -> tuple[np.ndarray, np.ndarray]:
        return (np.asarray(self.dense_column, dtype=np.int64) + 1, self.dummy_column + 1)

    def linear_predictor(self, beta: np.ndarray, threads: int = 1,
                         out: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        """``beta[0] + X @ beta[1:]`` (terms added in column order, row by row) and its
        largest absolute value; ``out`` (float64, n) receives it if given."""
        beta = np.ascontiguousarray(beta, dtype=np.float64)
        of_dense, of_dummy = self._beta_index()
        if _core is not None:
            eta = np.empty(self.n) if out is None else out
            largest = _core.design_eta(self.n, self.dense, self.codes, self.tables, self.dummies,
                                       self.sequence, of_dense, of_dummy, beta, eta, threads)
            return eta, largest
        eta = np.empty(self.n) if out is None else out
        eta[:] = beta[0]
        for s in self.sequence.tolist():
            if s >= 0:
                eta += np.asarray(self.dense[s], dtype=np.float64) * beta[of_dense[s]]
            else:
                dummy = self.tables[-s - 1][self.codes[-s - 1]]
                coefficient = beta[of_dummy[np.maximum(dummy, 0)]] if self.dummies else eta
                np.add(eta, coefficient, out=eta, where=dummy >= 0)
        return eta, float(np.abs(eta).max(initial=0.0))

    def chunk_rows(self) -> int:
        """Rows per chunk (a multiple of 8): fixed, larger only when the chunk sums would not
        fit in memory."""
        Q, d = len(self.dense) + 1, self.dummies
        size = 8 * (Q * Q + d * Q + d * d + Q + d)
        chunks_allowed = max(1, _CHUNK_MEMORY // size)
        rows = max(_CHUNK, -(-self.n // chunks_allowed))
        return -(-rows // 8) * 8

    def cross(self, w: np.ndarray | None = None, s: np.ndarray | None = None,
              centre: np.ndarray | None = None, threads: int = 1,
              scores_only: bool = False) -> CrossParts:
        """The sums of :class:`CrossParts` (``w`` None: weights 1; ``s`` None: no scores;
        ``centre``: subtracted from the dense columns; ``scores_only``: ``g`` and ``h``
        only, the other sums left 0)."""
        Q, d = len(self.dense) + 1, self.dummies
        chunk = self.chunk_rows()
        w = None if w is None else np.ascontiguousarray(w, dtype=np.float64)
        s = None if s is None else np.ascontiguousarray(s, dtype=np.float64)
        centre = None if centre is None else np.ascontiguousarray(centre, dtype=np.float64)
        if _core is not None:
            out = np.empty(Q * Q + d * Q + d * d + Q + d)
            _core.design_cross(self.n, self.dense, self.codes, self.tables, d, w, s, centre,
                               chunk, out, threads, scores_only)
        else:
            out = self._cross_numpy(w, s, centre, chunk, scores_only)
        A, rest = out[: Q * Q].reshape(Q, Q), out[Q * Q:]
        D, rest = rest[: d * Q].reshape(d, Q), rest[d * Q:]
        F, rest = rest[: d * d].reshape(d, d), rest[d * d:]
        return CrossParts(A, D, F, rest[:Q], rest[Q:])

    def _cross_numpy(self, w, s, centre, chunk: int, scores_only: bool = False) -> np.ndarray:
        """The compiled ``design_cross`` in NumPy: each sum row by row within a chunk (a
        cumulative sum from 0), the chunk sums added in order."""
        Q, d = len(self.dense) + 1, self.dummies
        total = np.zeros(Q * Q + d * Q + d * d + Q + d)
        for start in range(0, self.n, chunk):
            rows = slice(start, min(start + chunk, self.n))
            part = self._chunk_numpy(rows, w, s, centre)
            if scores_only:  # only g and h
                part[: Q * Q + d * Q + d * d] = 0.0
            total = total + part
        return total

    def _chunk_numpy(self, rows: slice, w, s, centre) -> np.ndarray:
        Q, d = len(self.dense) + 1, self.dummies
        m = rows.stop - rows.start
        padded = -(-m // 8) * 8  # zero rows up to a multiple of 8, as the compiled blocks
        z = np.zeros((padded, Q))
        z[:m, 0] = 1.0
        for j, values in enumerate(self.dense):
            z[:m, j + 1] = values[rows]
            if centre is not None:
                z[:m, j + 1] -= centre[j]
        wi = np.ones(m) if w is None else w[rows]
        u = z if w is None else np.concatenate([wi, np.zeros(padded - m)])[:, None] * z
        si = None if s is None else np.concatenate([s[rows], np.zeros(padded - m)])

        def sequential(values: np.ndarray) -> np.ndarray:  # ((0 + v0) + v1) + ..., per column
            return np.cumsum(np.concatenate([np.zeros((1,) + values.shape[1:]), values]),
                             axis=0)[-1]

        def in_lanes(values: np.ndarray) -> np.ndarray:  # row r to lane r mod 8, then lanes
            lane = sequential(values.reshape(padded // 8, 8, -1))
            return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]))

        A = np.zeros((Q, Q))
        for a in range(Q):
            A[a, a:] = in_lanes(u[:, a:a + 1] * z[:, a:])
        D, F, h = np.zeros((d, Q)), np.zeros((d, d)), np.zeros(d)
        dummies = [table[codes[rows]] for codes, table in zip(self.codes, self.tables)]
        for f, df in enumerate(dummies):
            for e in np.unique(df[df >= 0]):
                at = df == e
                D[e] = sequential(u[:m][at])
                if s is not None:
                    h[e] = sequential(s[rows][at])
                for df2 in dummies[f + 1:]:
                    for e2 in np.unique(df2[at & (df2 >= 0)]):
                        lo, hi = min(e, e2), max(e, e2)
                        F[lo, hi] = sequential(wi[at & (df2 == e2)])
        g = np.zeros(Q) if s is None else in_lanes(si[:, None] * z)
        return np.concatenate([A.ravel(), D.ravel(), F.ravel(), g, h])

    # --- what the model needs, in column order -------------------------------------------

    def _positions(self) -> np.ndarray:
        """Position in ``[1, X]`` of each of the Q dense sums (0: the intercept)."""
        return np.concatenate([[0], np.asarray(self.dense_column, dtype=np.int64) + 1])

    def hessian_and_score(self, w: np.ndarray, s: np.ndarray, threads: int = 1
                          ) -> tuple[np.ndarray, np.ndarray]:
        """``[1, X]' W [1, X]`` and ``[1, X]' s``."""
        parts = self.cross(w, s, None, threads)
        pos, dpos = self._positions(), self.dummy_column + 1
        H = np.zeros((self.p + 1, self.p + 1))
        upper = np.triu(parts.A)
        H[np.ix_(pos, pos)] = upper + np.triu(upper, 1).T
        H[np.ix_(dpos, pos)] = parts.D
        H[np.ix_(pos, dpos)] = parts.D.T
        H[dpos, dpos] = parts.D[:, 0]
        F = np.triu(parts.F, 1)
        H[np.ix_(dpos, dpos)] += F + F.T
        score = np.zeros(self.p + 1)
        score[pos], score[dpos] = parts.g, parts.h
        return H, score

    def dense_means(self) -> np.ndarray:
        """Each dense column's mean (NumPy's pairwise sum over n; the columns spread over
        the threads, each mean computed whole, as alone)."""
        if not self.n:
            return np.zeros(len(self.dense))
        means = over_columns(lambda values: np.mean(values, dtype=np.float64), self.dense, self.n)
        return np.asarray(means, dtype=np.float64)

    def centred_cross(self, threads: int = 1) -> np.ndarray:
        """``(X - mean)' (X - mean)`` (p x p), the dummies' parts from counts."""
        dense_cols = np.asarray(self.dense_column, dtype=np.int64)
        parts = self.cross(None, None, self.dense_means() if len(self.dense) else None, threads)
        n, dcol = float(max(self.n, 1)), self.dummy_column
        C = np.zeros((self.p, self.p))
        upper = np.triu(parts.A[1:, 1:])
        C[np.ix_(dense_cols, dense_cols)] = upper + np.triu(upper, 1).T
        counts = parts.D[:, 0]  # rows of each dummy
        share = counts / n
        cross_dense = parts.D[:, 1:] - share[:, None] * parts.A[0, 1:][None, :]
        C[np.ix_(dcol, dense_cols)] = cross_dense
        C[np.ix_(dense_cols, dcol)] = cross_dense.T
        if self.dummies:
            both = np.triu(parts.F, 1)
            both = both + both.T + np.diag(counts)  # rows with both dummies (a dummy: its own)
            C[np.ix_(dcol, dcol)] = both - np.outer(counts, counts) / n
        return C


def over_columns(function, columns, n: int) -> list:
    """``[function(c) for c in columns]``, the columns spread over the threads from
    ``_THREADED_FROM`` rows (NumPy's reductions and the compiled checks release the
    interpreter lock). Each call is the same as alone, the results come in order and the
    first column in order that fails raises, as in the loop."""
    columns = list(columns)
    workers = min(threads(), len(columns))
    if workers < 2 or n < _THREADED_FROM:
        return [function(c) for c in columns]
    with context_pool(workers) as pool:
        return list(pool.map(function, columns))


# --- products of a dense matrix, in the same fixed order --------------------------------


def _dense(X: np.ndarray) -> DesignColumns:
    """The columns of a 2-d array as parts (views when it is in Fortran order)."""
    X = np.asarray(X, dtype=np.float64)
    return DesignColumns.of(X.shape[0], [("dense", np.ascontiguousarray(X[:, j]))
                                         for j in range(X.shape[1])])


def weighted_gram(X: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """``X' diag(w) X`` (symmetric; ``w`` None: ``X'X``), summed in the fixed order of
    :meth:`DesignColumns.cross` (the same bits for any number of threads, unlike a BLAS
    product)."""
    parts = _dense(X).cross(w, None, None, threads())
    upper = np.triu(parts.A[1:, 1:])
    return upper + np.triu(upper, 1).T


def transposed_product(X: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``X' s`` in the fixed order of :meth:`DesignColumns.cross`."""
    return _dense(X).cross(None, s, None, threads(), scores_only=True).g[1:]


def product(X: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """``X @ coef`` row by row, the columns added in order (from 0)."""
    design = _dense(X)
    return design.linear_predictor(np.concatenate([[0.0], np.asarray(coef, dtype=np.float64)]),
                                   threads())[0]
