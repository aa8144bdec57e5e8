/* The design of the propensity model without its n x p matrix.
 *
 * A design (estimation.design.DesignColumns) is a list of dense columns (any numeric
 * dtype, read as double) and factors (integer codes and a table from code to dummy, -1 for
 * the reference level). The model needs two things from it per Newton step, both computed
 * here in one pass over the columns, a block of rows at a time:
 *
 *   design_eta(...)    the linear predictor beta[0] + sum_j x_ij beta[j], the terms added in
 *                      the design's column order (a factor's dummy adds beta of its level, or
 *                      nothing: the other dummies add 0), row by row: rows with the same
 *                      covariates get the same bits. Returns max |eta|.
 *   design_cross(...)  the weighted cross products of [1, x] and the score sums, in parts:
 *                        A[a][b] = sum w z_a z_b   (z = [1, dense - centre], a <= b)
 *                        D[d][b] = sum_{dummy d} w z_b
 *                        F[d][e] = sum_{dummies d and e} w   (d < e, of different factors)
 *                        g[b] = sum s z_b, h[d] = sum_{dummy d} s
 *                      from which estimation.design assembles X'WX, X's and the centred
 *                      Gram matrix of the rank check (a factor's dummies never meet).
 *
 * Rows are taken in chunks of a fixed size, each chunk summed row by row in order and the
 * chunks added in order, so that the sums have the same bits whatever the number of
 * threads. The file is compiled with -ffp-contract=off (no fused multiply-add), and the
 * clones for wider vectors do the same operations in the same order: the same bits on
 * every x86-64 CPU. tests/estimation/test_design_kernels.py checks both against NumPy.
 */
#pragma GCC optimize("O3") /* the loops over columns vectorise (same operations, same order) */
#include "_core.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>

enum { BLOCK = 256, MAX_THREADS = 16 };

typedef enum { T_F64, T_F32, T_I8, T_U8, T_I16, T_U16, T_I32, T_U32, T_I64, T_U64, T_BOOL } dtype;

typedef struct {
    const void *data;
    dtype type;
} column;

/* A numeric column of any width, C-contiguous, n items. */
static int get_column(PyObject *obj, Py_buffer *view, i64 n, column *out, int integer_only) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return -1;
    const char *f = view->format;
    if (f[0] == '=' || f[0] == '<' || f[0] == '@') f++;
    dtype t;
    switch (f[0]) {
    case 'd': t = T_F64; break;
    case 'f': t = T_F32; break;
    case 'b': t = T_I8; break;
    case 'B': t = T_U8; break;
    case 'h': t = T_I16; break;
    case 'H': t = T_U16; break;
    case 'i': t = T_I32; break;
    case 'I': t = T_U32; break;
    case 'l': case 'q': t = view->itemsize == 8 ? T_I64 : T_I32; break;
    case 'L': case 'Q': t = view->itemsize == 8 ? T_U64 : T_U32; break;
    case '?': t = T_BOOL; break;
    default: t = -1;
    }
    if ((int)t < 0 || f[1] != 0 || (integer_only && (t == T_F64 || t == T_F32 || t == T_BOOL))) {
        PyErr_Format(PyExc_TypeError, "design column of format '%s' not supported", view->format);
        PyBuffer_Release(view);
        return -1;
    }
    if (view->len / view->itemsize != n) {
        PyErr_SetString(PyExc_ValueError, "design columns must have one value per row");
        PyBuffer_Release(view);
        return -1;
    }
    out->data = view->buf;
    out->type = t;
    return 0;
}

#define CONVERT(T)                                                                          \
    do {                                                                                    \
        const T *x = (const T *)c->data + start;                                            \
        for (i64 i = 0; i < m; i++) out[i * stride] = (double)x[i];                         \
    } while (0)

/* out[i * stride] = column[start + i] as double, for i < m */
static void load(const column *c, i64 start, i64 m, double *out, i64 stride) {
    switch (c->type) {
    case T_F64: CONVERT(double); break;
    case T_F32: CONVERT(float); break;
    case T_I8: CONVERT(int8_t); break;
    case T_U8: CONVERT(uint8_t); break;
    case T_I16: CONVERT(int16_t); break;
    case T_U16: CONVERT(uint16_t); break;
    case T_I32: CONVERT(int32_t); break;
    case T_U32: CONVERT(uint32_t); break;
    case T_I64: CONVERT(int64_t); break;
    case T_U64: CONVERT(uint64_t); break;
    case T_BOOL: CONVERT(uint8_t); break;
    }
}

#define CODES(T)                                                                            \
    do {                                                                                    \
        const T *x = (const T *)c->data + start;                                            \
        for (i64 i = 0; i < m; i++) out[i] = (i64)x[i];                                     \
    } while (0)

/* out[i] = code[start + i] as int64, for i < m */
static void load_codes(const column *c, i64 start, i64 m, i64 *out) {
    switch (c->type) {
    case T_I8: CODES(int8_t); break;
    case T_U8: CODES(uint8_t); break;
    case T_I16: CODES(int16_t); break;
    case T_U16: CODES(uint16_t); break;
    case T_I32: CODES(int32_t); break;
    case T_U32: CODES(uint32_t); break;
    case T_U64: CODES(uint64_t); break;
    default: CODES(int64_t); break;
    }
}

/* every code in [0, limit) */
static int codes_in_range(const column *c, i64 n, i64 limit) {
    i64 buffer[1024];
    for (i64 start = 0; start < n; start += 1024) {
        i64 m = n - start < 1024 ? n - start : 1024, bad = 0;
        load_codes(c, start, m, buffer);
        for (i64 i = 0; i < m; i++) bad |= (buffer[i] < 0) | (buffer[i] >= limit);
        if (bad) return 0;
    }
    return 1;
}

/* The design's parts as parsed from Python. */
typedef struct {
    i64 n;
    int q, f;                 /* dense columns, factors */
    column *dense, *codes;
    const i64 **table;        /* per factor: code -> dummy (-1: none); table_len[k] entries */
    i64 *table_len;
    i64 nd;                   /* dummies */
    Py_buffer *views;
    int nviews;
} parts;

static void parts_release(parts *d) {
    for (int j = 0; j < d->nviews; j++) PyBuffer_Release(&d->views[j]);
    free(d->views);
    free(d->dense);
    free(d->codes);
    free(d->table);
    free(d->table_len);
    memset(d, 0, sizeof(*d));
}

/* (n, dense tuple, codes tuple, tables tuple, dummies) */
static int parts_parse(PyObject *o_dense, PyObject *o_codes, PyObject *o_tables, i64 n, i64 nd,
                       parts *d) {
    memset(d, 0, sizeof(*d));
    if (!PyTuple_Check(o_dense) || !PyTuple_Check(o_codes) || !PyTuple_Check(o_tables) ||
        PyTuple_GET_SIZE(o_codes) != PyTuple_GET_SIZE(o_tables)) {
        PyErr_SetString(PyExc_TypeError, "design: tuples of dense columns, codes and tables");
        return -1;
    }
    d->n = n;
    d->nd = nd;
    d->q = (int)PyTuple_GET_SIZE(o_dense);
    d->f = (int)PyTuple_GET_SIZE(o_codes);
    int total = d->q + 2 * d->f;
    d->views = calloc((size_t)total + 1, sizeof(Py_buffer));
    d->dense = calloc((size_t)d->q + 1, sizeof(column));
    d->codes = calloc((size_t)d->f + 1, sizeof(column));
    d->table = calloc((size_t)d->f + 1, sizeof(i64 *));
    d->table_len = calloc((size_t)d->f + 1, sizeof(i64));
    if (!d->views || !d->dense || !d->codes || !d->table || !d->table_len) {
        parts_release(d);
        PyErr_NoMemory();
        return -1;
    }
    for (int j = 0; j < d->q; j++) {
        if (get_column(PyTuple_GET_ITEM(o_dense, j), &d->views[d->nviews], n, &d->dense[j], 0) < 0)
            goto fail;
        d->nviews++;
    }
    for (int k = 0; k < d->f; k++) {
        if (get_column(PyTuple_GET_ITEM(o_codes, k), &d->views[d->nviews], n, &d->codes[k], 1) < 0)
            goto fail;
        d->nviews++;
        if (get(PyTuple_GET_ITEM(o_tables, k), &d->views[d->nviews], 0, "q", -1, "table") < 0)
            goto fail;
        d->table[k] = d->views[d->nviews].buf;
        d->table_len[k] = d->views[d->nviews].len / 8;
        d->nviews++;
        for (i64 c = 0; c < d->table_len[k]; c++) {
            if (d->table[k][c] < -1 || d->table[k][c] >= nd) {
                PyErr_SetString(PyExc_ValueError, "design: dummy out of range");
                goto fail;
            }
        }
    }
    for (int k = 0; k < d->f; k++) {  /* every code must have a table entry */
        if (!codes_in_range(&d->codes[k], n, d->table_len[k])) {
            PyErr_SetString(PyExc_ValueError, "design: factor code out of range");
            goto fail;
        }
    }
    return 0;
fail:
    parts_release(d);
    return -1;
}

/* --- the linear predictor ----------------------------------------------------------- */

typedef struct {
    const parts *d;
    const i64 *sequence, *beta_of_dense, *beta_of_dummy;
    i64 nseq;
    const double *beta;
    double *out;
    i64 start, stop;
    double largest;
} eta_job;

static void *eta_run(void *arg) {
    eta_job *job = arg;
    const parts *d = job->d;
    double largest = 0.0;
    for (i64 a = job->start; a < job->stop; a += BLOCK * 8) {
        i64 m = job->stop - a < BLOCK * 8 ? job->stop - a : BLOCK * 8;
        double *out = job->out + a;
        for (i64 i = 0; i < m; i++) out[i] = job->beta[0];
        for (i64 t = 0; t < job->nseq; t++) {
            i64 s = job->sequence[t];
            if (s >= 0) {  /* dense column s: out = out + x * b (each rounded) */
                double b = job->beta[job->beta_of_dense[s]], buffer[BLOCK * 8];
                const double *x = buffer;
                if (d->dense[s].type == T_F64) x = (const double *)d->dense[s].data + a;
                else load(&d->dense[s], a, m, buffer, 1);
                for (i64 i = 0; i < m; i++) {
                    double term = x[i] * b;
                    out[i] = out[i] + term;
                }
            } else {  /* factor -s-1: its level's coefficient, if the level has a dummy */
                i64 k = -s - 1, codes[BLOCK * 8];
                const i64 *table = d->table[k];
                load_codes(&d->codes[k], a, m, codes);
                for (i64 i = 0; i < m; i++) {
                    i64 dummy = table[codes[i]];
                    if (dummy >= 0) out[i] = out[i] + job->beta[job->beta_of_dummy[dummy]];
                }
            }
        }
        for (i64 i = 0; i < m; i++) largest = fabs(out[i]) > largest ? fabs(out[i]) : largest;
    }
    job->largest = largest;
    return NULL;
}

static int clamp_threads(int threads, i64 n) {
    if (threads < 1) threads = 1;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    if (n < 65536) threads = 1;
    return threads;
}

/* design_eta(n, dense, codes, tables, dummies, sequence, beta_of_dense, beta_of_dummy, beta,
 *            out, threads) -> max |eta| */
PyObject *core_design_eta(PyObject *self, PyObject *args) {
    Py_ssize_t n, nd;
    PyObject *o_dense, *o_codes, *o_tables, *o_seq, *o_bd, *o_bf, *o_beta, *o_out;
    int threads;
    if (!PyArg_ParseTuple(args, "nOOOnOOOOOi", &n, &o_dense, &o_codes, &o_tables, &nd, &o_seq,
                          &o_bd, &o_bf, &o_beta, &o_out, &threads))
        return NULL;
    parts d;
    if (parts_parse(o_dense, o_codes, o_tables, n, nd, &d) < 0) return NULL;
    buffers bs = {.count = 0};
    if (take(&bs, o_seq, 0, "q", -1, "sequence") < 0 || take(&bs, o_bd, 0, "q", d.q, "beta_of_dense") < 0 ||
        take(&bs, o_bf, 0, "q", nd, "beta_of_dummy") < 0 || take(&bs, o_beta, 0, "d", 1, "beta") < 0 ||
        take(&bs, o_out, 1, "d", n, "out") < 0) {
        parts_release(&d);
        return NULL;
    }
    const i64 *seq = bs.b[0].buf, *bd = bs.b[1].buf, *bf = bs.b[2].buf;
    i64 nseq = bs.b[0].len / 8, nbeta = bs.b[3].len / 8;
    int bad = 0;
    for (i64 t = 0; t < nseq; t++) bad |= seq[t] >= d.q || -seq[t] - 1 >= d.f;
    for (int j = 0; j < d.q; j++) bad |= bd[j] < 0 || bd[j] >= nbeta;
    for (i64 j = 0; j < nd; j++) bad |= bf[j] < 0 || bf[j] >= nbeta;
    if (bad) {
        parts_release(&d);
        return fail(&bs, PyExc_ValueError, "design_eta: terms out of range");
    }
    threads = clamp_threads(threads, n);
    eta_job jobs[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    Py_BEGIN_ALLOW_THREADS
    for (int t = 0; t < threads; t++)
        jobs[t] = (eta_job){&d, seq, bd, bf, nseq, bs.b[3].buf, bs.b[4].buf, n * t / threads,
                            n * (t + 1) / threads, 0.0};
    for (int t = 1; t < threads; t++) started[t] = pthread_create(&ids[t], NULL, eta_run, &jobs[t]) == 0;
    for (int t = 1; t < threads; t++) if (!started[t]) eta_run(&jobs[t]);
    eta_run(&jobs[0]);
    for (int t = 1; t < threads; t++) if (started[t]) pthread_join(ids[t], NULL);
    Py_END_ALLOW_THREADS
    double largest = 0.0;
    for (int t = 0; t < threads; t++) largest = jobs[t].largest > largest ? jobs[t].largest : largest;
    release(&bs);
    parts_release(&d);
    return PyFloat_FromDouble(largest);
}

/* --- cross products ----------------------------------------------------------------- */

/* Eight doubles as one vector (GCC lowers it to what the CPU has: one AVX-512 register,
 * two AVX ones, four SSE2 ones: the same operations, so the same bits everywhere). */
typedef double v8 __attribute__((vector_size(64)));

static inline v8 load8(const double *p) {
    v8 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void store8(double *p, v8 v) { memcpy(p, &v, sizeof v); }

/* The order of the sums over the rows of a chunk: row r goes to lane r mod 8, each lane
 * adds its rows in order, and the lanes are added as ((0+1)+(2+3))+((4+5)+(6+7)). */
static inline double lanes(const double *l) {
    return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

/* Tiles of 4 x 4 entries on and above the diagonal: A8[a][b] (8 lanes each) +=
 * u[a] * z[b] over the block's rows, eight rows per step. z and u are column-major
 * (column c at c * B), P columns (a multiple of 4; columns past the design are 0). */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void cross_tiles(double *A8, i64 P, const double *z, const double *u, i64 B, i64 steps) {
    for (i64 a = 0; a < P; a += 4) {
        for (i64 b = a; b < P; b += 4) {
            v8 acc[4][4];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) acc[i][j] = load8(A8 + ((a + i) * P + b + j) * 8);
            for (i64 r = 0; r < steps * 8; r += 8) {
                v8 u0 = load8(u + a * B + r), u1 = load8(u + (a + 1) * B + r),
                   u2 = load8(u + (a + 2) * B + r), u3 = load8(u + (a + 3) * B + r);
                v8 z0 = load8(z + b * B + r), z1 = load8(z + (b + 1) * B + r),
                   z2 = load8(z + (b + 2) * B + r), z3 = load8(z + (b + 3) * B + r);
                acc[0][0] = acc[0][0] + u0 * z0; acc[0][1] = acc[0][1] + u0 * z1;
                acc[0][2] = acc[0][2] + u0 * z2; acc[0][3] = acc[0][3] + u0 * z3;
                acc[1][0] = acc[1][0] + u1 * z0; acc[1][1] = acc[1][1] + u1 * z1;
                acc[1][2] = acc[1][2] + u1 * z2; acc[1][3] = acc[1][3] + u1 * z3;
                acc[2][0] = acc[2][0] + u2 * z0; acc[2][1] = acc[2][1] + u2 * z1;
                acc[2][2] = acc[2][2] + u2 * z2; acc[2][3] = acc[2][3] + u2 * z3;
                acc[3][0] = acc[3][0] + u3 * z0; acc[3][1] = acc[3][1] + u3 * z1;
                acc[3][2] = acc[3][2] + u3 * z2; acc[3][3] = acc[3][3] + u3 * z3;
            }
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) store8(A8 + ((a + i) * P + b + j) * 8, acc[i][j]);
        }
    }
}

/* cross_tiles for CPUs with AVX2 but not AVX-512 (16 ymm registers, where the 4 x 4 tile
 * of eight-lane vectors above needs 32 for its accumulators and spills them to memory:
 * 8 x slower). Lanes 0-3 and lanes 4-7 are taken one half at a time, in tiles of 4 x 2
 * entries (8 accumulators, 4 + 1 loads): each lane still adds u[a][r] * z[b][r] over its
 * rows in row order, so A8 gets the same bits as from cross_tiles. */
typedef double v4 __attribute__((vector_size(32)));

__attribute__((target("avx2")))
static void cross_tiles_avx2(double *A8, i64 P, const double *z, const double *u, i64 B, i64 steps) {
    for (i64 a = 0; a < P; a += 4) {
        for (i64 b = a; b < P; b += 2) {
            for (int half = 0; half < 8; half += 4) {
                v4 acc[4][2];
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 2; j++)
                        memcpy(&acc[i][j], A8 + ((a + i) * P + b + j) * 8 + half, sizeof(v4));
                for (i64 r = half; r < steps * 8; r += 8) {
                    v4 u0, u1, u2, u3, z0, z1;
                    memcpy(&u0, u + a * B + r, sizeof u0);
                    memcpy(&u1, u + (a + 1) * B + r, sizeof u1);
                    memcpy(&u2, u + (a + 2) * B + r, sizeof u2);
                    memcpy(&u3, u + (a + 3) * B + r, sizeof u3);
                    memcpy(&z0, z + b * B + r, sizeof z0);
                    memcpy(&z1, z + (b + 1) * B + r, sizeof z1);
                    acc[0][0] = acc[0][0] + u0 * z0; acc[0][1] = acc[0][1] + u0 * z1;
                    acc[1][0] = acc[1][0] + u1 * z0; acc[1][1] = acc[1][1] + u1 * z1;
                    acc[2][0] = acc[2][0] + u2 * z0; acc[2][1] = acc[2][1] + u2 * z1;
                    acc[3][0] = acc[3][0] + u3 * z0; acc[3][1] = acc[3][1] + u3 * z1;
                }
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 2; j++)
                        memcpy(A8 + ((a + i) * P + b + j) * 8 + half, &acc[i][j], sizeof(v4));
            }
        }
    }
}

/* The tiles for this CPU: AVX-512's 32 registers hold the 4 x 4 tile, AVX2's 16 do not. */
static void tiles(double *A8, i64 P, const double *z, const double *u, i64 B, i64 steps) {
    static int kind = -1;  /* 0: cross_tiles, 1: cross_tiles_avx2 */
    if (kind < 0) kind = !__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2");
    if (kind) cross_tiles_avx2(A8, P, z, u, B, steps);
    else cross_tiles(A8, P, z, u, B, steps);
}

/* g8[b] += s * z[b], u = w z, eight rows per step (the same lanes). Written over eight
 * scalar lanes, which GCC vectorises for each clone (the generic 64-byte vectors compiled
 * to slow code on AVX2). */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void block_products(double *g8, double *u, const double *z, const double *w,
                           const double *s, i64 Q, i64 B, i64 steps) {
    i64 rows = steps * 8;
    for (i64 c = 0; c < Q; c++) {
        const double *zc = z + c * B;
        if (w) {
            double *uc = u + c * B;
            for (i64 r = 0; r < rows; r++) uc[r] = w[r] * zc[r];
        }
        if (s) {
            double g[8];
            memcpy(g, g8 + c * 8, sizeof g);
            for (i64 r = 0; r < rows; r += 8)
                for (int l = 0; l < 8; l++) g[l] = g[l] + s[r + l] * zc[r + l];
            memcpy(g8 + c * 8, g, sizeof g);
        }
    }
}

typedef struct {
    const parts *d;
    const double *w, *s, *centre;  /* NULL: weights 1, no score, no centring */
    double *sums;                  /* chunks x size: each chunk's A, D, F, g, h */
    i64 Q, P, nd, size, chunk, chunks;
    int thread, threads;
    int scores_only;  /* g and h only: no products of columns */
    int failed;
} cross_job;

typedef struct {  /* one thread's scratch */
    double *z, *u, *w, *s, *A8, *g8;
    i64 *dummies;
} scratch;

enum { CROSS_BLOCK = 256 };  /* rows in z, u (a multiple of 8) */

/* One block of rows into z (and u, w, s), padded with zero rows to a multiple of 8. */
static i64 block_in(const cross_job *job, const scratch *t, i64 a, i64 m) {
    const parts *d = job->d;
    i64 B = CROSS_BLOCK, steps = (m + 7) / 8, padded = steps * 8;
    for (i64 i = 0; i < padded; i++) t->z[i] = i < m ? 1.0 : 0.0;
    for (int j = 0; j < d->q; j++) {
        double *col = t->z + (j + 1) * B;
        load(&d->dense[j], a, m, col, 1);
        if (job->centre) {
            double c = job->centre[j];
            for (i64 i = 0; i < m; i++) col[i] = col[i] - c;
        }
        for (i64 i = m; i < padded; i++) col[i] = 0.0;
    }
    for (i64 i = 0; i < padded; i++) {
        t->w[i] = i < m ? (job->w ? job->w[a + i] : 1.0) : 0.0;
        t->s[i] = i < m && job->s ? job->s[a + i] : 0.0;
    }
    for (int f = 0; f < d->f; f++) {
        i64 codes[CROSS_BLOCK];
        load_codes(&d->codes[f], a, m, codes);
        for (i64 i = 0; i < m; i++) t->dummies[i * d->f + f] = d->table[f][codes[i]];
    }
    return steps;
}

/* D[e][b] += u[b] over the rows of dummy e, h[e] += s, F[e][e2] += w: row by row. */
static void dummy_sums_rows(const cross_job *job, const scratch *t, i64 m, double *D, double *F,
                            double *h) {
    const parts *d = job->d;
    i64 Q = job->Q, B = CROSS_BLOCK, nd = job->nd;
    const double *u = job->w ? t->u : t->z;
    for (i64 i = 0; i < m; i++) {
        const i64 *di = t->dummies + i * d->f;
        for (int f = 0; f < d->f; f++) {
            i64 e = di[f];
            if (e < 0) continue;
            if (job->s) h[e] = h[e] + t->s[i];
            if (job->scores_only) continue;
            double *De = D + e * Q;
            for (i64 b = 0; b < Q; b++) De[b] = De[b] + u[b * B + i];
            for (int f2 = f + 1; f2 < d->f; f2++) {
                i64 e2 = di[f2];
                if (e2 < 0) continue;
                i64 lo = e < e2 ? e : e2, hi = e < e2 ? e2 : e;
                F[lo * nd + hi] = F[lo * nd + hi] + t->w[i];
            }
        }
    }
}

enum { FEW_DUMMIES = 64 };

/* De[b0 + k] += u[(b0 + k) B + i] over the rows i of one dummy (in increasing order), k < 8:
 * eight sums in registers instead of eight loads and stores of De per row. */
static inline void dummy_columns(double *De, const double *u, i64 B, const i64 *rows, i64 count,
                                 i64 b0, i64 k) {
    double acc[8];
    for (i64 j = 0; j < 8; j++) acc[j] = j < k ? De[b0 + j] : 0.0;
    if (k == 8) {
        for (i64 r = 0; r < count; r++) {
            i64 i = rows[r];
            for (int j = 0; j < 8; j++) acc[j] = acc[j] + u[(b0 + j) * B + i];
        }
    } else {
        for (i64 r = 0; r < count; r++) {
            i64 i = rows[r];
            for (i64 j = 0; j < k; j++) acc[j] = acc[j] + u[(b0 + j) * B + i];
        }
    }
    for (i64 j = 0; j < k; j++) De[b0 + j] = acc[j];
}

/* The same sums with each dummy's rows gathered first (a counting sort of the block's rows
 * by dummy, stable): every D[e][b] and h[e] still adds its rows in row order, so the bits
 * are those of dummy_sums_rows. Up to FEW_DUMMIES dummies; F (two or more factors) row by
 * row as there. */
static void dummy_sums(const cross_job *job, const scratch *t, i64 m, double *D, double *F,
                       double *h) {
    const parts *d = job->d;
    i64 Q = job->Q, B = CROSS_BLOCK, nd = job->nd;
    if (nd > FEW_DUMMIES || (d->f > 1 && !job->scores_only)) {
        dummy_sums_rows(job, t, m, D, F, h);
        return;
    }
    const double *u = job->w ? t->u : t->z;
    i64 start[FEW_DUMMIES + 1], rows[CROSS_BLOCK];
    for (int f = 0; f < d->f; f++) {
        memset(start, 0, sizeof start);
        for (i64 i = 0; i < m; i++) {
            i64 e = t->dummies[i * d->f + f];
            if (e >= 0) start[e + 1]++;
        }
        for (i64 e = 0; e < nd; e++) start[e + 1] += start[e];
        i64 at[FEW_DUMMIES];
        memcpy(at, start, sizeof at);
        for (i64 i = 0; i < m; i++) {
            i64 e = t->dummies[i * d->f + f];
            if (e >= 0) rows[at[e]++] = i;
        }
        for (i64 e = 0; e < nd; e++) {
            const i64 *re = rows + start[e];
            i64 count = start[e + 1] - start[e];
            if (!count) continue;
            if (job->s) {
                double he = h[e];
                for (i64 r = 0; r < count; r++) he = he + t->s[re[r]];
                h[e] = he;
            }
            if (job->scores_only) continue;
            for (i64 b0 = 0; b0 < Q; b0 += 8)
                dummy_columns(D + e * Q, u, B, re, count, b0, Q - b0 < 8 ? Q - b0 : 8);
        }
    }
}

static void chunk_sums(cross_job *job, i64 k, scratch *t) {
    const parts *d = job->d;
    i64 Q = job->Q, P = job->P, nd = job->nd, B = CROSS_BLOCK;
    i64 start = k * job->chunk, stop = start + job->chunk < d->n ? start + job->chunk : d->n;
    double *S = job->sums + k * job->size;
    memset(S, 0, (size_t)job->size * sizeof(double));
    double *A = S, *D = A + Q * Q, *F = D + nd * Q, *g = F + nd * nd, *h = g + Q;
    memset(t->A8, 0, sizeof(double) * (size_t)(P * P * 8));
    memset(t->g8, 0, sizeof(double) * (size_t)(P * 8));
    for (i64 a = start; a < stop; a += B) {
        i64 m = stop - a < B ? stop - a : B;
        i64 steps = block_in(job, t, a, m);
        block_products(t->g8, t->u, t->z, job->w && !job->scores_only ? t->w : NULL,
                       job->s ? t->s : NULL, Q, B, steps);
        if (!job->scores_only) tiles(t->A8, P, t->z, job->w ? t->u : t->z, B, steps);
        dummy_sums(job, t, m, D, F, h);
    }
    for (i64 a = 0; a < Q; a++)
        for (i64 b = a; b < Q; b++) A[a * Q + b] = lanes(t->A8 + (a * P + b) * 8);
    for (i64 b = 0; b < Q; b++) g[b] = lanes(t->g8 + b * 8);
}

static void *cross_run(void *arg) {
    cross_job *job = arg;
    i64 B = CROSS_BLOCK, P = job->P;
    scratch t = {calloc((size_t)(P * B), sizeof(double)), calloc((size_t)(P * B), sizeof(double)),
                 calloc(B, sizeof(double)), calloc(B, sizeof(double)),
                 malloc(sizeof(double) * (size_t)(P * P * 8)), malloc(sizeof(double) * (size_t)(P * 8)),
                 malloc(sizeof(i64) * (size_t)(B * (job->d->f + 1)))};
    if (!t.z || !t.u || !t.w || !t.s || !t.A8 || !t.g8 || !t.dummies) job->failed = 1;
    else
        for (i64 k = job->thread; k < job->chunks; k += job->threads) chunk_sums(job, k, &t);
    free(t.z); free(t.u); free(t.w); free(t.s); free(t.A8); free(t.g8); free(t.dummies);
    return NULL;
}

/* design_cross(n, dense, codes, tables, dummies, w, s, centre, chunk, out, threads,
 *              scores_only):
 * w, s, centre float64 or None; out float64 of layout size (A, D, F, g, h as above). */
PyObject *core_design_cross(PyObject *self, PyObject *args) {
    Py_ssize_t n, nd, chunk;
    PyObject *o_dense, *o_codes, *o_tables, *o_w, *o_s, *o_c, *o_out;
    int threads, scores_only = 0;
    if (!PyArg_ParseTuple(args, "nOOOnOOOnOi|p", &n, &o_dense, &o_codes, &o_tables, &nd, &o_w,
                          &o_s, &o_c, &chunk, &o_out, &threads, &scores_only))
        return NULL;
    if (chunk < 1) {
        PyErr_SetString(PyExc_ValueError, "design_cross: chunk must be positive");
        return NULL;
    }
    parts d;
    if (parts_parse(o_dense, o_codes, o_tables, n, nd, &d) < 0) return NULL;
    i64 Q = d.q + 1, P = (Q + 3) / 4 * 4;
    i64 size = Q * Q + nd * Q + nd * nd + Q + nd;  /* A, D, F, g, h */
    buffers bs = {.count = 0};
    const double *w = NULL, *s = NULL, *centre = NULL;
    PyObject *given[3] = {o_w, o_s, o_c};
    const double **into[3] = {&w, &s, &centre};
    i64 lengths[3] = {n, n, d.q};
    for (int j = 0; j < 3; j++) {
        if (given[j] == Py_None) continue;
        if (take(&bs, given[j], 0, "d", lengths[j], "design_cross") < 0) {
            parts_release(&d);
            return NULL;
        }
        *into[j] = bs.b[bs.count - 1].buf;
    }
    if (take(&bs, o_out, 1, "d", size, "out") < 0) {
        parts_release(&d);
        return NULL;
    }
    double *out = bs.b[bs.count - 1].buf;
    if (chunk % 8) chunk += 8 - chunk % 8;  /* lanes: rows r mod 8 from each chunk's start */
    i64 chunks = n ? (n + chunk - 1) / chunk : 0;
    double *sums = calloc((size_t)(chunks ? chunks : 1) * (size_t)size, sizeof(double));
    if (!sums) {
        release(&bs);
        parts_release(&d);
        return PyErr_NoMemory();
    }
    threads = clamp_threads(threads, n);
    if (threads > chunks) threads = chunks ? (int)chunks : 1;
    cross_job jobs[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    int started[MAX_THREADS] = {0}, failed = 0;
    Py_BEGIN_ALLOW_THREADS
    for (int t = 0; t < threads; t++)
        jobs[t] = (cross_job){&d, w, s, centre, sums, Q, P, nd, size, chunk, chunks, t, threads,
                              scores_only, 0};
    for (int t = 1; t < threads; t++) started[t] = pthread_create(&ids[t], NULL, cross_run, &jobs[t]) == 0;
    for (int t = 1; t < threads; t++) if (!started[t]) cross_run(&jobs[t]);
    cross_run(&jobs[0]);
    for (int t = 1; t < threads; t++) if (started[t]) pthread_join(ids[t], NULL);
    for (int t = 0; t < threads; t++) failed |= jobs[t].failed;
    memset(out, 0, sizeof(double) * (size_t)size);
    if (!failed)  /* chunk sums added in order */
        for (i64 k = 0; k < chunks; k++)
            for (i64 j = 0; j < size; j++) out[j] = out[j] + sums[k * size + j];
    Py_END_ALLOW_THREADS
    free(sums);
    release(&bs);
    parts_release(&d);
    if (failed) return PyErr_NoMemory();
    Py_RETURN_NONE;
}
