/* Compiled loops of the estimation package (a small CPython extension, no numpy headers).
 *
 * Each function is a line-by-line translation of a Python function that stays in the
 * package as the reference and the fallback when the extension is not built:
 *
 *   matchit_pass      <- estimation.nearest._matchit_pass
 *   collect_472       <- estimation.nearest._collect_472 and _keep_nearest (per treated unit)
 *   count_le          <- numpy.searchsorted(values, grid, side="right") for sorted grid
 *   ladder_walk       <- the one-stratum branch of estimation.nearest.ControlLadder.of
 *
 * Arrays arrive through the buffer protocol as C-contiguous int64 or float64 memory. The
 * floating-point operations are those of the Python code in the same order; the file is
 * compiled with -ffp-contract=off so that no multiply-add is fused, and the results are
 * the same bits (tests/estimation/test_core.py compares the two on random problems).
 */
#include "_core.h"

#include <math.h>
#include <stdlib.h>

static i64 find_root(i64 *parent, i64 i) {
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

/* matchit_pass(values, rows, gpos, dist, lo, hi, split, index, iil, iir, next_r, next_l,
 *              taken, caliper, first) */
static PyObject *matchit_pass(PyObject *self, PyObject *args) {
    PyObject *o[13];
    double cal;
    int first;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOOOOdp", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5],
                          &o[6], &o[7], &o[8], &o[9], &o[10], &o[11], &o[12], &cal, &first))
        return NULL;
    static const char *const names[13] = {"values", "rows", "gpos", "dist", "lo", "hi", "split",
                                          "index", "iil", "iir", "next_r", "next_l", "taken"};
    buffers bs = {.count = 0};
    if (take_all(&bs, o, "dqqdqqqqQQQQQ", names) < 0) return NULL;
    const Py_buffer *b = bs.b;
    const double *values = b[0].buf, *dist = b[3].buf;
    const i64 *rows = b[1].buf, *gpos = b[2].buf, *lo = b[4].buf, *hi = b[5].buf,
              *split = b[6].buf, *index = b[7].buf;
    i64 *iil = b[8].buf, *iir = b[9].buf, *next_r = b[10].buf, *next_l = b[11].buf,
        *taken = b[12].buf;
    Py_ssize_t k = b[3].len / 8;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < k; i++) {
        double d = dist[i];
        i64 start = split[i], low = lo[i], high = hi[i], t = index[i];
        i64 r = find_root(next_r, start);
        i64 left = find_root(next_l, start) - 1;
        double dr = r < high ? fabs(d - values[r]) : INFINITY;
        double dl = left >= low ? fabs(d - values[left]) : INFINITY;
        i64 pick;
        if (dl < dr) {
            pick = left;
        } else if (dr < dl) {
            pick = r;
        } else if (dl == INFINITY) {
            taken[i] = -1;
            continue;
        } else if (first) {
            pick = (iil[t] - gpos[left] <= gpos[r] - iir[t]) ? left : r;
        } else {
            pick = left;
        }
        if ((dl < dr ? dl : dr) > cal) {
            taken[i] = -1;
            continue;
        }
        next_r[pick] = pick + 1;
        next_l[pick + 1] = pick;
        i64 g = gpos[pick];
        if (g < iil[t]) iil[t] = g;
        else if (g > iir[t]) iir[t] = g;
        taken[i] = rows[pick];
    }
    Py_END_ALLOW_THREADS
    release(&bs);
    Py_RETURN_NONE;
}

/* libstdc++'s std::__adjust_heap followed by std::__push_heap, comparison key[x] < key[y] */
static void sift(i64 *a, i64 hole, i64 length, i64 value, const double *key) {
    i64 top = hole, second = hole;
    while (second < (length - 1) / 2) {
        second = 2 * (second + 1);
        if (key[a[second]] < key[a[second - 1]]) second--;
        a[hole] = a[second];
        hole = second;
    }
    if ((length & 1) == 0 && second == (length - 2) / 2) {
        second = 2 * (second + 1);
        a[hole] = a[second - 1];
        hole = second - 1;
    }
    i64 parent = (hole - 1) / 2;
    while (hole > top && key[a[parent]] < key[value]) {
        a[hole] = a[parent];
        hole = parent;
        parent = (hole - 1) / 2;
    }
    a[hole] = value;
}

static void partial_sort(i64 *a, i64 n, i64 middle, const double *key) {
    if (middle >= 2)
        for (i64 parent = (middle - 2) / 2; parent >= 0; parent--) sift(a, parent, middle, a[parent], key);
    for (i64 i = middle; i < n; i++) {
        if (key[a[i]] < key[a[0]]) {
            i64 value = a[i];
            a[i] = a[0];
            sift(a, 0, middle, value, key);
        }
    }
    for (i64 last = middle - 1; last > 0; last--) {
        i64 value = a[last];
        a[last] = a[0];
        sift(a, 0, last, value, key);
    }
}

/* collect_472(values, rows, gpos, dist, lo, hi, split, gpos_treated, out, k, caliper):
 * out is (len(dist), k), filled with -1 beforehand. */
static PyObject *collect_472(PyObject *self, PyObject *args) {
    PyObject *o[9];
    Py_ssize_t kk;
    double cal;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOnd", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6],
                          &o[7], &o[8], &kk, &cal))
        return NULL;
    static const char *const names[9] = {"values", "rows", "gpos", "dist", "lo", "hi", "split",
                                         "gpos_treated", "out"};
    buffers bs = {.count = 0};
    if (take_all(&bs, o, "dqqdqqqqQ", names) < 0) return NULL;
    const Py_buffer *b = bs.b;
    const double *values = b[0].buf, *dist = b[3].buf;
    const i64 *rows = b[1].buf, *gpos = b[2].buf, *lo_ = b[4].buf, *hi_ = b[5].buf,
              *split = b[6].buf, *gt = b[7].buf;
    i64 *out = b[8].buf, k = kk;
    Py_ssize_t nt = b[3].len / 8;
    i64 *found = malloc(sizeof(i64) * 2 * k), *ind = malloc(sizeof(i64) * 2 * k);
    double *dists = malloc(sizeof(double) * 2 * k);
    if (!found || !ind || !dists) {
        free(found); free(ind); free(dists);
        release(&bs);
        return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < nt; i++) {
        i64 lo = lo_[i], hi = hi_[i], tg = gt[i], left = split[i] - 1, right = split[i];
        double d = dist[i];
        i64 n = 0, n_l = 0, n_r = 0;
        int l_on = left >= lo, r_on = right < hi;
        while (l_on || r_on) {
            int go_left = l_on && (!r_on || 2 * (tg - gpos[left]) - 1 < 2 * (gpos[right] - tg));
            i64 p = go_left ? left : right;
            double dist_c = fabs(d - values[p]);
            int stop = dist_c > cal;
            if (!stop && n >= k) {
                i64 closer = 0;
                for (i64 j = 0; j < n; j++) closer += dists[j] < dist_c;
                stop = closer >= k;
            }
            if (!stop) {
                found[n] = rows[p];
                dists[n] = dist_c;
                n++;
            }
            if (go_left) {
                n_l += !stop;
                left--;
                l_on = !stop && n_l < k && left >= lo;
            } else {
                n_r += !stop;
                right++;
                r_on = !stop && n_r < k && right < hi;
            }
        }
        i64 *row = out + i * k;
        int sorted = 1;
        for (i64 j = 1; j < n; j++) sorted &= dists[j - 1] <= dists[j];
        if (n <= 1 || (n <= k && sorted)) {
            for (i64 j = 0; j < n; j++) row[j] = found[j];
            continue;
        }
        for (i64 j = 0; j < n; j++) ind[j] = j;
        if (n > k) {
            partial_sort(ind, n, k, dists);
            for (i64 j = 0; j < k; j++) row[j] = found[ind[j]];
        } else {  /* stable insertion sort by distance */
            for (i64 j = 1; j < n; j++) {
                i64 v = ind[j], h = j;
                while (h > 0 && dists[v] < dists[ind[h - 1]]) {
                    ind[h] = ind[h - 1];
                    h--;
                }
                ind[h] = v;
            }
            for (i64 j = 0; j < n; j++) row[j] = found[ind[j]];
        }
    }
    Py_END_ALLOW_THREADS
    free(found); free(ind); free(dists);
    release(&bs);
    Py_RETURN_NONE;
}

/* count_le(values, grid, out): out[i] = number of values <= grid[i]; both sorted
 * ascending (a merge, linear time, instead of one binary search per grid value). */
static PyObject *count_le(PyObject *self, PyObject *args) {
    PyObject *ov, *og, *oo;
    if (!PyArg_ParseTuple(args, "OOO", &ov, &og, &oo)) return NULL;
    buffers bs = {.count = 0};
    if (take(&bs, ov, 0, "d", -1, "values") < 0 || take(&bs, og, 0, "d", -1, "grid") < 0 ||
        take(&bs, oo, 1, "q", bs.b[1].len / 8, "out") < 0)
        return NULL;
    const double *v = bs.b[0].buf, *g = bs.b[1].buf;
    i64 *out = bs.b[2].buf, nv = bs.b[0].len / 8, ng = bs.b[1].len / 8;
    Py_BEGIN_ALLOW_THREADS
    i64 j = 0;
    for (i64 i = 0; i < ng; i++) {
        while (j < nv && v[j] <= g[i]) j++;
        out[i] = j;
    }
    Py_END_ALLOW_THREADS
    release(&bs);
    Py_RETURN_NONE;
}

/* ladder_walk(by_distance, eligible, slot, cg, rows, tg, before) -> controls found
 *
 * One pass over the units in (distance, row) order (estimation.nearest.ControlLadder, one
 * stratum): each eligible control's global position (cg) and row (rows) in that order; each
 * treated unit's global position (tg[j], j = slot[row]) and the number of controls before
 * it (before[j]). eligible is a bool or uint8 array of n; slot int64 (-1: not treated).
 * A treated row that is also eligible is not given a position: the caller checks that every
 * treated unit got one. */
static PyObject *ladder_walk(PyObject *self, PyObject *args) {
    PyObject *o[7];
    if (!PyArg_ParseTuple(args, "OOOOOOO", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6]))
        return NULL;
    Py_buffer be;
    if (PyObject_GetBuffer(o[1], &be, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return NULL;
    if (be.itemsize != 1 || (strcmp(be.format, "?") != 0 && strcmp(be.format, "B") != 0)) {
        PyBuffer_Release(&be);
        PyErr_SetString(PyExc_TypeError, "ladder_walk: eligible must be bool or uint8");
        return NULL;
    }
    buffers bs = {.count = 0};
    i64 n = be.len;
    if (take(&bs, o[0], 0, "q", n, "by_distance") < 0 || take(&bs, o[2], 0, "q", n, "slot") < 0 ||
        take(&bs, o[3], 1, "q", -1, "cg") < 0 || take(&bs, o[4], 1, "q", -1, "rows") < 0 ||
        take(&bs, o[5], 1, "q", -1, "tg") < 0 || take(&bs, o[6], 1, "q", -1, "before") < 0) {
        PyBuffer_Release(&be);
        return NULL;
    }
    const i64 *order = bs.b[0].buf, *slot = bs.b[1].buf;
    const unsigned char *eligible = be.buf;
    i64 *cg = bs.b[2].buf, *rows = bs.b[3].buf, *tg = bs.b[4].buf, *before = bs.b[5].buf;
    i64 m = bs.b[2].len / 8, k = bs.b[4].len / 8, c = 0, bad = bs.b[3].len / 8 < m ||
        bs.b[5].len / 8 < k;
    for (i64 i = 0; i < n && !bad; i++) bad = order[i] < 0 || order[i] >= n || slot[i] >= k;
    if (bad) {
        PyBuffer_Release(&be);
        return fail(&bs, PyExc_ValueError, "ladder_walk: positions or slots out of range");
    }
    Py_BEGIN_ALLOW_THREADS
    for (i64 i = 0; i < n; i++) {
        i64 r = order[i];
        if (eligible[r]) {
            if (c < m) {
                cg[c] = i;
                rows[c] = r;
            }
            c++;
        } else if (slot[r] >= 0) {
            tg[slot[r]] = i;
            before[slot[r]] = c;
        }
    }
    Py_END_ALLOW_THREADS
    release(&bs);
    PyBuffer_Release(&be);
    return PyLong_FromLongLong((long long)c);
}

static PyMethodDef methods[] = {
    {"count_le", count_le, METH_VARARGS, "Counts of sorted values <= each value of a sorted grid."},
    {"matchit_pass", matchit_pass, METH_VARARGS, "One greedy pass of MatchIt's nearest-neighbour search."},
    {"ladder_walk", ladder_walk, METH_VARARGS, "Controls and treated units along the distance order (one stratum)."},
    {"collect_472", collect_472, METH_VARARGS, "MatchIt 4.6+'s k nearest with replacement."},
    {"sum_f64", core_sum_f64, METH_VARARGS, "numpy.sum of an expression of float64 arrays, in NumPy's order."},
    {"sum_ld", core_sum_ld, METH_VARARGS, "numpy.sum(expression, dtype=longdouble), in NumPy's order, rounded."},
    {"cumsum_ld", core_cumsum_ld, METH_VARARGS, "numpy.cumsum(a, dtype=longdouble) rounded to float64."},
    {"value_kind", core_value_kind, METH_VARARGS, "(all values 0 or 1, max |x| if whole numbers else inf)."},
    {"absdiff_sum", core_absdiff_sum, METH_VARARGS, "numpy.sum(numpy.abs(x[p] - x[q]))."},
    {"ecdf_walk", core_ecdf_walk, METH_VARARGS, "eCDF differences before and after matching."},
    {"logit_mu", core_logit_mu, METH_VARARGS, "The logistic and the deviance's probabilities of one block."},
    {"logit_step", core_logit_step, METH_VARARGS, "The logistic model's Fisher weights and working score."},
    {"fix_ties", core_fix_ties, METH_VARARGS, "Positions within runs of equal values in increasing order (a stable argsort)."},
    {"radix_argsort", core_radix_argsort, METH_VARARGS, "The stable argsort of float64 values by a radix sort of their bits."},
    {"radix_sort", core_radix_sort, METH_VARARGS, "float64 values sorted in place by a radix sort of their bits."},
    {"design_eta", core_design_eta, METH_VARARGS, "The linear predictor of a design in parts."},
    {"design_cross", core_design_cross, METH_VARARGS, "Weighted cross products of a design in parts."},
    {"first_codes", core_first_codes, METH_VARARGS, "Integer ids as codes by first appearance."},
    {"float_stats", core_float_stats, METH_VARARGS, "(NaN count, inf count, max |finite|) of floats."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_core", NULL, -1, methods};

PyMODINIT_FUNC PyInit__core(void) { return PyModule_Create(&module); }
