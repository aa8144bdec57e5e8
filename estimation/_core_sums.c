/* Sums in NumPy's order, and the eCDF statistics of the balance table in one pass.
 *
 * The balance table follows R to the last bit (estimation/balance.py): its sums are
 * NumPy's, in extended precision where R's are. These functions give the same bits as
 * the NumPy expressions they replace, without the temporary arrays:
 *
 *   sum_f64(kind, a, b, c, m)   numpy.sum(expr) of a float64 array: pairwise summation
 *                               (8 accumulators, blocks of 128, halves rounded down to a
 *                               multiple of 8; numpy/_core/src/umath/loops_utils.h.src)
 *   sum_ld(kind, a, b, c, m)    numpy.sum(expr, dtype=numpy.longdouble), rounded to double:
 *                               the input is cast in buffers of 8192 items, each buffer
 *                               summed pairwise in long double, the buffer sums added in
 *                               turn to an accumulator that starts at 0
 *   cumsum_ld(a, out)           numpy.cumsum(a, dtype=numpy.longdouble).astype(float64)
 *   value_kind(x)               (all values 0 or 1, max |x| if all are whole numbers else inf)
 *   absdiff_sum(x, p, q)        numpy.sum(numpy.abs(x[p] - x[q]))
 *   ecdf_walk(...)              the eCDF differences of estimation.balance.group_ecdf_stats
 *                               before and after matching, over the grid of distinct values
 *                               (NaN-free: finite values, positive totals)
 *
 * The expressions ("kind") are evaluated in double as NumPy evaluates them, element by
 * element (the file is compiled with -ffp-contract=off: no fused multiply-add):
 *   0: a   1: a*b   2: c*a   3: c*((a-m)*(a-m))   4: b*((a-m)*(a-m))   5: a*a
 * tests/estimation/test_core.py compares every function with its NumPy expression.
 */
#include "_core.h"

#include <math.h>
#include <stdlib.h>

enum { PW_BLOCK = 128, CAST_BUFFER = 8192 };

typedef struct {
    int kind;
    const double *a, *b;
    double c, m;
} expr;

static void fill(const expr *e, i64 lo, i64 n, double *out) {
    const double *a = e->a + lo, *b = e->b ? e->b + lo : NULL;
    double c = e->c, m = e->m;
    switch (e->kind) {
    case 0: memcpy(out, a, (size_t)n * sizeof(double)); break;
    case 1: for (i64 i = 0; i < n; i++) out[i] = a[i] * b[i]; break;
    case 2: for (i64 i = 0; i < n; i++) out[i] = c * a[i]; break;
    case 3:
        for (i64 i = 0; i < n; i++) {
            double d = a[i] - m;
            out[i] = c * (d * d);
        }
        break;
    case 4:
        for (i64 i = 0; i < n; i++) {
            double d = a[i] - m;
            out[i] = b[i] * (d * d);
        }
        break;
    default: for (i64 i = 0; i < n; i++) out[i] = a[i] * a[i]; break;
    }
}

/* NumPy's pairwise summation of v[0..n), in double and in long double. The eight
 * accumulators are named variables, not an array: in long double that keeps them on the
 * x87 register stack instead of storing and reloading 80-bit values (5x faster). */
#define PAIRWISE(NAME, T)                                                                 \
    static T NAME(const double *v, i64 n) {                                              \
        if (n < 8) {                                                                      \
            T res = 0.;                                                                   \
            for (i64 i = 0; i < n; i++) res += (T)v[i];                                   \
            return res;                                                                   \
        }                                                                                 \
        if (n <= PW_BLOCK) {                                                              \
            T r0 = v[0], r1 = v[1], r2 = v[2], r3 = v[3], r4 = v[4], r5 = v[5], r6 = v[6], \
              r7 = v[7];                                                                  \
            i64 i;                                                                        \
            for (i = 8; i < n - (n % 8); i += 8) {                                        \
                r0 += (T)v[i];                                                            \
                r1 += (T)v[i + 1];                                                        \
                r2 += (T)v[i + 2];                                                        \
                r3 += (T)v[i + 3];                                                        \
                r4 += (T)v[i + 4];                                                        \
                r5 += (T)v[i + 5];                                                        \
                r6 += (T)v[i + 6];                                                        \
                r7 += (T)v[i + 7];                                                        \
            }                                                                             \
            T res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));                    \
            for (; i < n; i++) res += (T)v[i];                                            \
            return res;                                                                   \
        }                                                                                 \
        i64 n2 = n / 2;                                                                   \
        n2 -= n2 % 8;                                                                     \
        return NAME(v, n2) + NAME(v + n2, n - n2);                                        \
    }

PAIRWISE(pairwise_d, double)
PAIRWISE(pairwise_ld, long double)

/* pairwise_d over the values of an expression, computed block by block */
static double pairwise_expr(const expr *e, i64 lo, i64 n) {
    if (n <= PW_BLOCK) {
        double tmp[PW_BLOCK];
        fill(e, lo, n, tmp);
        return pairwise_d(tmp, n);
    }
    i64 n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_expr(e, lo, n2) + pairwise_expr(e, lo + n2, n - n2);
}

/* The long double accumulator of numpy.sum(..., dtype=longdouble), fed buffer by buffer. */
typedef struct {
    long double total;
    double *buffer;
    i64 used;
} ld_sum;

static inline void ld_push(ld_sum *s, double v) {
    s->buffer[s->used++] = v;
    if (s->used == CAST_BUFFER) {
        s->total += pairwise_ld(s->buffer, CAST_BUFFER);
        s->used = 0;
    }
}

static inline double ld_finish(ld_sum *s) {
    if (s->used) s->total += pairwise_ld(s->buffer, s->used);
    s->used = 0;
    return (double)s->total;
}

static double sum_ld_expr(const expr *e, i64 n, double *buffer) {
    long double total = 0;
    for (i64 s = 0; s < n; s += CAST_BUFFER) {
        i64 k = n - s < CAST_BUFFER ? n - s : CAST_BUFFER;
        fill(e, s, k, buffer);
        total += pairwise_ld(buffer, k);
    }
    return (double)total;
}

/* Parse (kind, a, b or None, c, m); b is needed by kinds 1 and 4. */
static int parse_expr(PyObject *args, expr *e, buffers *bs, i64 *n) {
    PyObject *oa, *ob;
    if (!PyArg_ParseTuple(args, "iOOdd", &e->kind, &oa, &ob, &e->c, &e->m)) return -1;
    if (e->kind < 0 || e->kind > 5) {
        PyErr_SetString(PyExc_ValueError, "unknown kind");
        return -1;
    }
    if (take(bs, oa, 0, "d", -1, "a") < 0) return -1;
    e->a = bs->b[0].buf;
    *n = bs->b[0].len / 8;
    e->b = NULL;
    if (e->kind == 1 || e->kind == 4) {
        if (ob == Py_None) {
            PyErr_SetString(PyExc_ValueError, "b is needed");
            release(bs);
            return -1;
        }
        if (take(bs, ob, 0, "d", *n, "b") < 0) return -1;
        e->b = bs->b[1].buf;
    }
    return 0;
}

PyObject *core_sum_f64(PyObject *self, PyObject *args) {
    expr e;
    buffers bs = {.count = 0};
    i64 n;
    if (parse_expr(args, &e, &bs, &n) < 0) return NULL;
    double out;
    Py_BEGIN_ALLOW_THREADS
    out = e.kind == 0 ? pairwise_d(e.a, n) : pairwise_expr(&e, 0, n);
    Py_END_ALLOW_THREADS
    release(&bs);
    return PyFloat_FromDouble(out);
}

PyObject *core_sum_ld(PyObject *self, PyObject *args) {
    expr e;
    buffers bs = {.count = 0};
    i64 n;
    if (parse_expr(args, &e, &bs, &n) < 0) return NULL;
    double *buffer = malloc(CAST_BUFFER * sizeof(double));
    if (!buffer) {
        release(&bs);
        return PyErr_NoMemory();
    }
    double out;
    Py_BEGIN_ALLOW_THREADS
    out = sum_ld_expr(&e, n, buffer);
    Py_END_ALLOW_THREADS
    free(buffer);
    release(&bs);
    return PyFloat_FromDouble(out);
}

PyObject *core_cumsum_ld(PyObject *self, PyObject *args) {
    PyObject *oa, *oo;
    if (!PyArg_ParseTuple(args, "OO", &oa, &oo)) return NULL;
    buffers bs = {.count = 0};
    if (take(&bs, oa, 0, "d", -1, "a") < 0) return NULL;
    i64 n = bs.b[0].len / 8;
    if (take(&bs, oo, 1, "d", n, "out") < 0) return NULL;
    const double *a = bs.b[0].buf;
    double *out = bs.b[1].buf;
    Py_BEGIN_ALLOW_THREADS
    long double acc = 0;
    for (i64 i = 0; i < n; i++) {
        acc = i ? acc + (long double)a[i] : (long double)a[i];
        out[i] = (double)acc;
    }
    Py_END_ALLOW_THREADS
    release(&bs);
    Py_RETURN_NONE;
}

/* Branch-free and vectorised (floor() would be a call per value): a + 2^52 - 2^52 rounds
 * a (0 <= a < 2^52) to a whole number, so it equals a exactly when a is whole; every
 * double of 2^52 or more is whole; NaN is not. Eight independent lanes of plain scalars,
 * which GCC vectorises into compares and blends (GCC's generic 64-byte vectors of the
 * same loop compiled to code twenty times slower: 3 ms a million values against 0.15). */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void kind_of(const double *x, i64 n, int *binary, int *whole, double *largest) {
    const double big = 4503599627370496.0;
    i64 b[8] = {0}, w[8] = {0};  /* 0 where every value so far passes */
    double top[8] = {0};
    i64 i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int k = 0; k < 8; k++) {
            double v = x[i + k], a = fabs(v);
            b[k] |= !((v == 0.0) | (v == 1.0));
            w[k] |= !((a >= big) | ((a + big) - big == a));
            top[k] = a > top[k] ? a : top[k];
        }
    }
    int bb = 1, ww = 1;
    double t = 0.0;
    for (int k = 0; k < 8; k++) {
        bb &= b[k] == 0;
        ww &= w[k] == 0;
        t = top[k] > t ? top[k] : t;
    }
    for (; i < n; i++) {
        double v = x[i], a = fabs(v);
        bb &= (v == 0.0) | (v == 1.0);
        ww &= (a >= big) | ((a + big) - big == a);
        t = a > t ? a : t;
    }
    *binary = bb;
    *whole = ww;
    *largest = t;
}

PyObject *core_value_kind(PyObject *self, PyObject *args) {
    PyObject *ox;
    if (!PyArg_ParseTuple(args, "O", &ox)) return NULL;
    buffers bs = {.count = 0};
    if (take(&bs, ox, 0, "d", -1, "x") < 0) return NULL;
    const double *x = bs.b[0].buf;
    i64 n = bs.b[0].len / 8;
    int binary = 1, whole = 1;
    double largest = 0.0;
    Py_BEGIN_ALLOW_THREADS
    kind_of(x, n, &binary, &whole, &largest);
    Py_END_ALLOW_THREADS
    release(&bs);
    return Py_BuildValue("Nd", PyBool_FromLong(binary), (n && whole) ? largest : INFINITY);
}

PyObject *core_absdiff_sum(PyObject *self, PyObject *args) {
    PyObject *ox, *op, *oq;
    if (!PyArg_ParseTuple(args, "OOO", &ox, &op, &oq)) return NULL;
    buffers bs = {.count = 0};
    if (take(&bs, ox, 0, "d", -1, "x") < 0) return NULL;
    if (take(&bs, op, 0, "q", -1, "p") < 0) return NULL;
    i64 n = bs.b[1].len / 8;
    if (take(&bs, oq, 0, "q", n, "q") < 0) return NULL;
    const double *x = bs.b[0].buf;
    const i64 *p = bs.b[1].buf, *q = bs.b[2].buf;
    i64 nx = bs.b[0].len / 8;
    for (i64 i = 0; i < n; i++) {
        if (p[i] < 0 || p[i] >= nx || q[i] < 0 || q[i] >= nx)
            return fail(&bs, PyExc_IndexError, "absdiff_sum: position out of range");
    }
    double *values = malloc((size_t)(n ? n : 1) * sizeof(double));
    if (!values) { release(&bs); return PyErr_NoMemory(); }
    double out;
    Py_BEGIN_ALLOW_THREADS
    for (i64 i = 0; i < n; i++) values[i] = fabs(x[p[i]] - x[q[i]]);
    out = pairwise_d(values, n);
    Py_END_ALLOW_THREADS
    free(values);
    release(&bs);
    return PyFloat_FromDouble(out);
}

/* Move past the values <= g of one sorted group: one step without a branch (the step is
 * taken about as often as not, in no pattern), then the rare ties one by one. */
static inline i64 advance(const double *values, i64 at, i64 last, double g) {
    at += (at <= last) & (values[at < last ? at : last] <= g);
    while (at <= last && values[at] <= g) at++;
    return at;
}

/* The walk itself; the eCDF of a group at the grid value is table[count of values <= it]
 * (prepared once, so that nothing is divided here). */
__attribute__((optimize("O3"))) static i64 walk(
    const double *s1, i64 n1, const double *s0, i64 n0, const double *t1, const double *t0,
    const double *a1, i64 m1, const double *u1, const double *a0, i64 m0, const double *u0,
    ld_sum *sum_b, double *max_b, ld_sum *sum_a, double *max_a) {
    i64 i1 = 0, i0 = 0, k1 = 0, k0 = 0, grid = 0;
    double top_b = 0.0, top_a = 0.0;
    while (i1 < n1 || i0 < n0) {
        double v1 = i1 < n1 ? s1[i1] : INFINITY, v0 = i0 < n0 ? s0[i0] : INFINITY;
        double g = v1 <= v0 ? v1 : v0;  /* values are finite: INFINITY marks an end */
        i1 = advance(s1, i1, n1 - 1, g);
        i0 = advance(s0, i0, n0 - 1, g);
        k1 = advance(a1, k1, m1 - 1, g);
        k0 = advance(a0, k0, m0 - 1, g);
        double db = fabs(t1[i1] - t0[i0]), da = fabs(u1[k1] - u0[k0]);
        ld_push(sum_b, db);
        ld_push(sum_a, da);
        top_b = db > top_b ? db : top_b;
        top_a = da > top_a ? da : top_a;
        grid++;
    }
    *max_b = top_b;
    *max_a = top_a;
    return grid;
}

/* ecdf_walk(s1, s0, t1, t0, a1, u1, a0, u0) -> (sum_before, max_before, sum_after,
 *                                               max_after, grid)
 *
 * s1, s0: the treated and control values sorted (non-empty; the grid is their distinct
 * values); t1, t0: the eCDFs before matching by count (k / n for k = 0..n). a1, a0: each
 * group's values with positive weight after matching, sorted (non-empty); u1, u0: their
 * eCDF by count (the cumulative weight of the first k over the total, 0 first). Sums are
 * numpy.sum(diffs, dtype=longdouble) rounded, diffs over the grid in increasing order. */
PyObject *core_ecdf_walk(PyObject *self, PyObject *args) {
    PyObject *o[8];
    if (!PyArg_ParseTuple(args, "OOOOOOOO", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6],
                          &o[7]))
        return NULL;
    buffers bs = {.count = 0};
    const double *p[8];
    i64 len[8];
    for (int j = 0; j < 8; j++) {
        if (take(&bs, o[j], 0, "d", -1, "ecdf_walk") < 0) return NULL;
        p[j] = bs.b[j].buf;
        len[j] = bs.b[j].len / 8;
    }
    /* values: 0, 1, 4, 6; tables: 2 (of 0), 3 (of 1), 5 (of 4), 7 (of 6) */
    if (len[0] < 1 || len[1] < 1 || len[4] < 1 || len[6] < 1 || len[2] != len[0] + 1 ||
        len[3] != len[1] + 1 || len[5] != len[4] + 1 || len[7] != len[6] + 1)
        return fail(&bs, PyExc_ValueError, "ecdf_walk: non-empty groups, one table entry per count");
    double *space = malloc(2 * CAST_BUFFER * sizeof(double));
    if (!space) { release(&bs); return PyErr_NoMemory(); }
    ld_sum before = {0, space, 0}, after = {0, space + CAST_BUFFER, 0};
    double max_b, max_a;
    i64 grid;
    Py_BEGIN_ALLOW_THREADS
    grid = walk(p[0], len[0], p[1], len[1], p[2], p[3], p[4], len[4], p[5], p[6], len[6], p[7],
                &before, &max_b, &after, &max_a);
    Py_END_ALLOW_THREADS
    double sb = ld_finish(&before), sa = ld_finish(&after);
    free(space);
    release(&bs);
    return Py_BuildValue("ddddn", sb, max_b, sa, max_a, (Py_ssize_t)grid);
}

/* float_stats(x) -> (NaN count, infinity count, max |x| over the finite values) of a
 * float64 or float32 array, in one pass. */
/* Eight independent lanes (vectorised by GCC; the single-accumulator loop was not, at
 * 0.8 ms a million values against 0.15); counts and a maximum do not depend on order. */
#define FLOAT_STATS(T)                                                                      \
    __attribute__((target_clones("avx512f", "avx2", "default"))) static void               \
    float_stats_##T(const T *x, i64 n, i64 *nan, i64 *inf, double *top) {                   \
        i64 a[8] = {0}, b[8] = {0}, i = 0;                                                  \
        double t[8] = {0};                                                                  \
        for (; i + 8 <= n; i += 8) {                                                        \
            for (int k = 0; k < 8; k++) {                                                   \
                double v = (double)x[i + k], m = fabs(v);                                   \
                a[k] += v != v;                                                             \
                b[k] += m == INFINITY;                                                      \
                t[k] = (m < INFINITY) & (m > t[k]) ? m : t[k];                                 \
            }                                                                               \
        }                                                                                   \
        for (; i < n; i++) {                                                                \
            double v = (double)x[i], m = fabs(v);                                           \
            a[0] += v != v;                                                                 \
            b[0] += m == INFINITY;                                                          \
            t[0] = m < INFINITY && m > t[0] ? m : t[0];                                     \
        }                                                                                   \
        for (int k = 1; k < 8; k++) {                                                       \
            a[0] += a[k];                                                                   \
            b[0] += b[k];                                                                   \
            t[0] = t[k] > t[0] ? t[k] : t[0];                                               \
        }                                                                                   \
        *nan = a[0];                                                                        \
        *inf = b[0];                                                                        \
        *top = t[0];                                                                        \
    }
FLOAT_STATS(double)
FLOAT_STATS(float)

PyObject *core_float_stats(PyObject *self, PyObject *args) {
    PyObject *ox;
    if (!PyArg_ParseTuple(args, "O", &ox)) return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(ox, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return NULL;
    int f64 = strcmp(view.format, "d") == 0, f32 = strcmp(view.format, "f") == 0;
    if (!f64 && !f32) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_TypeError, "float_stats: expected float64 or float32");
        return NULL;
    }
    i64 nan, inf;
    double top;
    Py_BEGIN_ALLOW_THREADS
    if (f64) float_stats_double(view.buf, view.len / 8, &nan, &inf, &top);
    else float_stats_float(view.buf, view.len / 4, &nan, &inf, &top);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return Py_BuildValue("LLd", (long long)nan, (long long)inf, top);
}

/* The logistic model's Newton step, element by element (estimation/glm.py, one block of
 * rows a call). Only IEEE additions, subtractions, multiplications, divisions and
 * comparisons, each rounded once (the build has -ffp-contract=off), so every value is the
 * bits of the NumPy expression it replaces; exp and log stay NumPy's.
 *
 * logit_mu(y, mu, p, clamp): mu holds exp(-eta) on entry and 1 / (1 + exp(-eta)) on exit
 * (with clamp, R's clamping as np.where(eta < -30, eps, np.where(eta > 30, 1 - eps, mu)):
 * eta is then passed as the fifth argument); p = mu where y > 0.5, else 1 - mu. */
PyObject *core_logit_mu(PyObject *self, PyObject *args) {
    PyObject *objs[4], *oeta = Py_None;
    int clamp;
    if (!PyArg_ParseTuple(args, "OOOp|O", &objs[0], &objs[1], &objs[2], &clamp, &oeta))
        return NULL;
    objs[3] = oeta;
    static const char *const names[] = {"y", "mu", "p", "eta"};
    buffers bs = {.count = 0};
    if (take_all(&bs, objs, clamp ? "dDDd" : "dDD", names) < 0) return NULL;
    Py_ssize_t n = bs.b[0].len / 8;
    for (int j = 1; j < bs.count; j++)
        if (bs.b[j].len / 8 != n) return fail(&bs, PyExc_ValueError, "logit_mu: lengths differ");
    const double *y = bs.b[0].buf, *eta = clamp ? bs.b[3].buf : NULL;
    double *mu = bs.b[1].buf, *p = bs.b[2].buf;
    const double eps = 2.220446049250313e-16;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        double m = 1.0 / (1.0 + mu[i]);
        if (clamp) m = eta[i] < -30 ? eps : (eta[i] > 30 ? 1.0 - eps : m);
        mu[i] = m;
        p[i] = y[i] > 0.5 ? m : 1.0 - m;
    }
    Py_END_ALLOW_THREADS
    release(&bs);
    Py_RETURN_NONE;
}

/* logit_step(y, mu, w, s): w = mu * (1 - mu) (the Fisher weights and d mu / d eta) and
 * s = (w * (y - mu)) / w, the working score. */
PyObject *core_logit_step(PyObject *self, PyObject *args) {
    PyObject *objs[4];
    if (!PyArg_ParseTuple(args, "OOOO", &objs[0], &objs[1], &objs[2], &objs[3])) return NULL;
    static const char *const names[] = {"y", "mu", "w", "s"};
    buffers bs = {.count = 0};
    if (take_all(&bs, objs, "ddDD", names) < 0) return NULL;
    Py_ssize_t n = bs.b[0].len / 8;
    for (int j = 1; j < bs.count; j++)
        if (bs.b[j].len / 8 != n) return fail(&bs, PyExc_ValueError, "logit_step: lengths differ");
    const double *y = bs.b[0].buf, *mu = bs.b[1].buf;
    double *w = bs.b[2].buf, *s = bs.b[3].buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        double m = mu[i];
        double wi = m * (1.0 - m);
        w[i] = wi;
        s[i] = (wi * (y[i] - m)) / wi;
    }
    Py_END_ALLOW_THREADS
    release(&bs);
    Py_RETURN_NONE;
}
