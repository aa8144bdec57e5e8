/* The stable order of float64 values from NumPy's fast unstable argsort.
 *
 * NumPy's stable sort of doubles is a merge sort (timsort), several times slower than its
 * vectorised default argsort; matching and the balance table need the stable order (ties
 * broken by position, as R's order() does). The stable order is the unstable one with
 * the positions within each run of equal values put in increasing order:
 *
 *   fix_ties(values, perm, sorted)   perm from numpy.argsort(values) becomes, in place,
 *                                    numpy.argsort(values, kind="stable"); sorted (None or
 *                                    float64 of the same length) receives values[perm]
 *
 *   radix_argsort(values, perm, sorted)   perm (int64, n) receives
 *                                    numpy.argsort(values, kind="stable") directly, by a
 *                                    radix sort of the values' bits (stable by construction:
 *                                    ties keep their positions' order); sorted (None or
 *                                    float64) receives values[perm]
 *
 *   radix_sort(values)               values sorted in place (values.sort(), equal values
 *                                    aside: -0.0 before +0.0, NaNs in input order)
 *
 * Equal means what NumPy's sort compares: -0.0 equals +0.0, and every NaN equals every
 * other (NaNs sort last). Short runs are put in order by insertion; long ones (heavily
 * tied data) by an LSD radix sort of the positions. tests/estimation/test_core.py
 * compares it with NumPy.
 */
#include "_core.h"

#include <stdlib.h>

enum { BITS = 11, BUCKETS = 1 << BITS, SHORT_RUN = 48 };

static inline int same(double a, double b) { return a == b || (a != a && b != b); }

static void insertion(i64 *a, i64 m) {
    for (i64 i = 1; i < m; i++) {
        i64 v = a[i], h = i;
        while (h > 0 && a[h - 1] > v) {
            a[h] = a[h - 1];
            h--;
        }
        a[h] = v;
    }
}

/* Sort m distinct positions, all below 2^bits, by LSD radix; tmp holds m items. */
static void radix_positions(i64 *a, i64 m, int bits, i64 *tmp) {
    i64 count[BUCKETS];
    i64 *src = a, *dst = tmp;
    for (int shift = 0; shift < bits; shift += BITS) {
        memset(count, 0, sizeof(count));
        for (i64 i = 0; i < m; i++) count[(src[i] >> shift) & (BUCKETS - 1)]++;
        i64 offset = 0;
        for (int b = 0; b < BUCKETS; b++) {
            i64 k = count[b];
            count[b] = offset;
            offset += k;
        }
        for (i64 i = 0; i < m; i++) dst[count[(src[i] >> shift) & (BUCKETS - 1)]++] = src[i];
        i64 *t = src; src = dst; dst = t;
    }
    if (src != a) memcpy(a, src, (size_t)m * sizeof(i64));
}

PyObject *core_fix_ties(PyObject *self, PyObject *args) {
    PyObject *ov, *op, *os;
    if (!PyArg_ParseTuple(args, "OOO", &ov, &op, &os)) return NULL;
    buffers bs = {.count = 0};
    if (take(&bs, ov, 0, "d", -1, "values") < 0) return NULL;
    i64 n = bs.b[0].len / 8;
    if (take(&bs, op, 1, "q", -1, "perm") < 0) return NULL;
    if (bs.b[1].len / 8 != n)
        return fail(&bs, PyExc_ValueError, "fix_ties: perm must have one position per value");
    double *sorted = NULL;
    if (os != Py_None) {
        if (take(&bs, os, 1, "d", n, "sorted") < 0) return NULL;
        sorted = bs.b[2].buf;
    }
    const double *v = bs.b[0].buf;
    i64 *perm = bs.b[1].buf;
    for (i64 i = 0; i < n; i++) {
        if (perm[i] < 0 || perm[i] >= n)
            return fail(&bs, PyExc_IndexError, "fix_ties: position out of range");
    }
    int bits = 1;
    while (bits < 63 && ((i64)1 << bits) < n) bits++;
    i64 *tmp = NULL;
    int status = 0;
    Py_BEGIN_ALLOW_THREADS
    for (i64 start = 0; start < n;) {
        double first = v[perm[start]];
        i64 stop = start + 1;
        while (stop < n && same(v[perm[stop]], first)) stop++;
        i64 m = stop - start;
        if (m > SHORT_RUN) {
            if (!tmp && !(tmp = malloc((size_t)n * sizeof(i64)))) {
                status = -1;
                break;
            }
            radix_positions(perm + start, m, bits, tmp);
        } else if (m > 1) {
            insertion(perm + start, m);
        }
        if (sorted) {
            if (m == 1) sorted[start] = first;
            else for (i64 i = start; i < stop; i++) sorted[i] = v[perm[i]];
        }
        start = stop;
    }
    Py_END_ALLOW_THREADS
    free(tmp);
    release(&bs);
    if (status < 0) return PyErr_NoMemory();
    Py_RETURN_NONE;
}

/* The bits of x as an unsigned key in NumPy's order: -0.0 as +0.0 (equal), every NaN
 * as one key above +inf (NaNs equal, last). */
static inline uint64_t order_key(double x) {
    uint64_t u;
    if (x == 0.0) x = 0.0;
    memcpy(&u, &x, sizeof u);
    if (x != x) return UINT64_MAX;
    return (u >> 63) ? ~u : (u | ((uint64_t)1 << 63));
}

/* The double of key k = order_key(x), the bits of x, for every x but zeros and NaNs
 * (their keys are shared: *exact = 0 then, and x must be read). */
static inline double key_value(uint64_t k, int *exact) {
    *exact = k != ((uint64_t)1 << 63) && k != UINT64_MAX;
    uint64_t u = (k >> 63) ? (k & ~((uint64_t)1 << 63)) : ~k;
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

enum { RADIX_BITS = 11, RADIX = 1 << RADIX_BITS, RADIX_PASSES = (64 + RADIX_BITS - 1) / RADIX_BITS };

/* The order key of a double's bits u (not NaN): as order_key, but -0.0 keeps its own key,
 * just below +0.0's (the two are equal to NumPy, so either arrangement is its order). */
static inline uint64_t bits_key(uint64_t u) {
    return (u >> 63) ? ~u : (u | ((uint64_t)1 << 63));
}

static inline uint64_t key_bits(uint64_t k) {
    return (k >> 63) ? (k & ~((uint64_t)1 << 63)) : ~k;
}

static inline int is_nan_bits(uint64_t u) {
    return (u & ~((uint64_t)1 << 63)) > ((uint64_t)0x7FF << 52);
}

/* The radix sorts of keys (uint64_t) and of (key, position) items, one template each:
 *
 *   NAME_lsd(a, b, m, top, to_b, hist)   a[0..m) sorted by the digits below bit `top`
 *       (LSD, b holds m; stable), ending in a, or in b when to_b; hist: room for the counts
 *   NAME_sort(a, b, m, top, to_b, hist)   the same; items that do not fit in the caches
 *       (over CACHED) are first split by their top digit (MSD: the sign and exponent first,
 *       then as many bits as leave buckets of about LEAF items) and each bucket sorted in
 *       turn, the buffers alternating */
enum { CACHED = 1 << 18, LEAF = 1 << 15 };

#define RADIX_LSD(NAME, T, KEY)                                                             \
    static void NAME##_lsd(T *a, T *b, i64 m, int top, int to_b, i64 (*hist)[RADIX]) {      \
        if (m <= SHORT_RUN) { /* insertion: the bucket's items are few */                   \
            for (i64 i = 1; i < m; i++) {                                                   \
                T v = a[i];                                                                 \
                i64 h = i;                                                                  \
                while (h > 0 && KEY(a[h - 1]) > KEY(v)) {                                   \
                    a[h] = a[h - 1];                                                        \
                    h--;                                                                    \
                }                                                                           \
                a[h] = v;                                                                   \
            }                                                                               \
            if (to_b) memcpy(b, a, (size_t)m * sizeof(T));                                  \
            return;                                                                         \
        }                                                                                   \
        int passes = (top + RADIX_BITS - 1) / RADIX_BITS;                                   \
        memset(hist, 0, (size_t)passes * sizeof(*hist));                                    \
        for (i64 i = 0; i < m; i++)                                                         \
            for (int d = 0; d < passes; d++)                                                \
                hist[d][(KEY(a[i]) >> (d * RADIX_BITS)) & (RADIX - 1)]++;                   \
        T *src = a, *dst = b;                                                               \
        for (int d = 0; d < passes; d++) {                                                  \
            int shift = d * RADIX_BITS;                                                     \
            if (hist[d][(KEY(src[0]) >> shift) & (RADIX - 1)] == m) continue; /* one digit */ \
            i64 offset = 0;                                                                 \
            for (int c = 0; c < RADIX; c++) {                                               \
                i64 k = hist[d][c];                                                         \
                hist[d][c] = offset;                                                        \
                offset += k;                                                                \
            }                                                                               \
            for (i64 i = 0; i < m; i++)                                                     \
                dst[hist[d][(KEY(src[i]) >> shift) & (RADIX - 1)]++] = src[i];              \
            T *t = src;                                                                     \
            src = dst;                                                                      \
            dst = t;                                                                        \
        }                                                                                   \
        T *into = to_b ? b : a;                                                             \
        if (src != into) memcpy(into, src, (size_t)m * sizeof(T));                          \
    }

#define RADIX_MSD(NAME, T, KEY)                                                             \
    static void NAME##_sort(T *a, T *b, i64 m, int top, int to_b, i64 (*hist)[RADIX]) {     \
        if (m <= CACHED || top <= 2 * RADIX_BITS) {                                         \
            NAME##_lsd(a, b, m, top, to_b, hist);                                           \
            return;                                                                         \
        }                                                                                   \
        int bits = RADIX_BITS;                                                              \
        if (top < 64) {                                                                     \
            bits = 1;                                                                       \
            while (bits < RADIX_BITS && (m >> bits) > LEAF) bits++;                         \
        }                                                                                   \
        int shift = top - bits;                                                             \
        i64 buckets = (i64)1 << bits, start[RADIX + 1], at[RADIX];                          \
        memset(at, 0, sizeof(at));                                                          \
        for (i64 i = 0; i < m; i++) at[(KEY(a[i]) >> shift) & (buckets - 1)]++;             \
        i64 offset = 0;                                                                     \
        for (i64 c = 0; c < buckets; c++) {                                                 \
            start[c] = offset;                                                              \
            offset += at[c];                                                                \
            at[c] = start[c];                                                               \
        }                                                                                   \
        start[buckets] = m;                                                                 \
        for (i64 i = 0; i < m; i++) b[at[(KEY(a[i]) >> shift) & (buckets - 1)]++] = a[i];   \
        for (i64 c = 0; c < buckets; c++) /* each bucket from b, ending in a unless to_b */ \
            NAME##_sort(b + start[c], a + start[c], start[c + 1] - start[c], shift, !to_b,  \
                        hist);                                                              \
    }

#define KEY_ITSELF(x) (x)
#define KEY_OF_ITEM(x) ((x).key)

/* (key, position) pairs of 12 bytes: one write stream per bucket instead of two. */
typedef struct __attribute__((packed)) {
    uint64_t key;
    uint32_t at;
} item;

RADIX_LSD(keys, uint64_t, KEY_ITSELF)
RADIX_MSD(keys, uint64_t, KEY_ITSELF)
RADIX_LSD(items, item, KEY_OF_ITEM)
RADIX_MSD(items, item, KEY_OF_ITEM)  /* MSD and LSD both stable: so is the sort */

/* perm receives the stable order of v[0..n), n < 2^32, and sorted (unless NULL) v[perm],
 * from the sorted keys where they give the value's bits (no gather); items holds 2 n
 * (24 bytes a value in all); -1: no memory. */
static int radix_order(const double *v, i64 n, i64 *perm, double *sorted, item *items) {
    i64 (*hist)[RADIX] = calloc(RADIX_PASSES, sizeof(*hist));
    if (!hist) return -1;
    item *a = items, *b = items + n;
    for (i64 i = 0; i < n; i++) {
        uint64_t k = order_key(v[i]);
        a[i] = (item){k, (uint32_t)i};
    }
    items_sort(a, b, n, 64, 0, hist);
    for (i64 i = 0; i < n; i++) perm[i] = (i64)a[i].at;
    if (sorted) {
        for (i64 i = 0; i < n; i++) {
            int exact;
            double x = key_value(a[i].key, &exact);
            sorted[i] = exact ? x : v[a[i].at];
        }
    }
    free(hist);
    return 0;
}

PyObject *core_radix_argsort(PyObject *self, PyObject *args) {
    PyObject *ov, *op, *os;
    if (!PyArg_ParseTuple(args, "OOO", &ov, &op, &os)) return NULL;
    buffers bs = {.count = 0};
    if (take(&bs, ov, 0, "d", -1, "values") < 0) return NULL;
    i64 n = bs.b[0].len / 8;
    if (take(&bs, op, 1, "q", n, "perm") < 0) return NULL;
    double *sorted = NULL;
    if (os != Py_None) {
        if (take(&bs, os, 1, "d", n, "sorted") < 0) return NULL;
        sorted = bs.b[2].buf;
    }
    if (n > (i64)UINT32_MAX)
        return fail(&bs, PyExc_ValueError, "radix_argsort: at most 2^32 - 1 values");
    const double *v = bs.b[0].buf;
    i64 *perm = bs.b[1].buf;
    item *items = malloc((size_t)(2 * n + 1) * sizeof(item));
    if (!items) {
        release(&bs);
        return PyErr_NoMemory();
    }
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = radix_order(v, n, perm, sorted, items);
    Py_END_ALLOW_THREADS
    free(items);
    release(&bs);
    if (status < 0) return PyErr_NoMemory();
    Py_RETURN_NONE;
}

/* x[0..n) (a double's bits each) sorted in place in NumPy's order, NaNs last in their input
 * order; tmp holds n. A radix sort of the keys without positions. */
static void radix_values(uint64_t *x, i64 n, uint64_t *tmp, i64 (*hist)[RADIX]) {
    i64 m = 0, nans = 0;
    for (i64 i = 0; i < n; i++) {
        uint64_t u = x[i];
        if (is_nan_bits(u)) {
            tmp[n - 1 - nans++] = u;  /* kept at the end of tmp, which the sort never reaches */
            continue;
        }
        x[m++] = bits_key(u);
    }
    keys_sort(x, tmp, m, 64, 0, hist);
    for (i64 i = 0; i < m; i++) x[i] = key_bits(x[i]);
    for (i64 j = 0; j < nans; j++) x[m + j] = tmp[n - 1 - j];
}

/* radix_sort(values): values (float64, writable) sorted in place, as values.sort() orders
 * them (NaNs last; -0.0 before +0.0, which NumPy holds equal). 16 bytes a value. */
PyObject *core_radix_sort(PyObject *self, PyObject *args) {
    PyObject *ov;
    if (!PyArg_ParseTuple(args, "O", &ov)) return NULL;
    buffers bs = {.count = 0};
    if (take(&bs, ov, 1, "d", -1, "values") < 0) return NULL;
    i64 n = bs.b[0].len / 8;
    uint64_t *tmp = malloc((size_t)(n ? n : 1) * sizeof(uint64_t));
    i64 (*hist)[RADIX] = calloc(RADIX_PASSES, sizeof(*hist));
    if (!tmp || !hist) {
        free(tmp);
        free(hist);
        release(&bs);
        return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS
    radix_values(bs.b[0].buf, n, tmp, hist);
    Py_END_ALLOW_THREADS
    free(tmp);
    free(hist);
    release(&bs);
    Py_RETURN_NONE;
}

/* first_codes(ids, out, limit) -> number of codes: out[i] = the code of ids[i], codes
 * numbered by first appearance (pandas.factorize(ids, sort=False) of integers), for ids
 * in [0, limit); -1 when some id is outside (nothing written then). */
PyObject *core_first_codes(PyObject *self, PyObject *args) {
    PyObject *oi, *oo;
    Py_ssize_t limit;
    if (!PyArg_ParseTuple(args, "OOn", &oi, &oo, &limit)) return NULL;
    buffers bs = {.count = 0};
    if (take(&bs, oi, 0, "q", -1, "ids") < 0) return NULL;
    i64 n = bs.b[0].len / 8;
    if (take(&bs, oo, 1, "q", n, "out") < 0) return NULL;
    const i64 *ids = bs.b[0].buf;
    i64 *out = bs.b[1].buf, next = 0;
    for (i64 i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= limit) {
            release(&bs);
            return PyLong_FromLong(-1);
        }
    }
    i64 *code = malloc((size_t)(limit ? limit : 1) * sizeof(i64));
    if (!code) { release(&bs); return PyErr_NoMemory(); }
    Py_BEGIN_ALLOW_THREADS
    for (i64 j = 0; j < limit; j++) code[j] = -1;
    for (i64 i = 0; i < n; i++) {
        i64 c = code[ids[i]];
        if (c < 0) c = code[ids[i]] = next++;
        out[i] = c;
    }
    Py_END_ALLOW_THREADS
    free(code);
    release(&bs);
    return PyLong_FromLongLong(next);
}
