/* Shared pieces of the compiled loops (estimation/_core*.c): buffer access and the
 * functions each file contributes to the module's method table. */
#ifndef TILTAK_CORE_H
#define TILTAK_CORE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef int64_t i64;

/* A C-contiguous buffer of 8-byte items: format "d" (float64) or "q" (int64); n >= 0
 * asks for at least n items. Returns -1 with a Python error set. */
static inline int get(PyObject *obj, Py_buffer *view, int writable, const char *format,
                      Py_ssize_t n, const char *name) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT |
                                          (writable ? PyBUF_WRITABLE : 0)) < 0)
        return -1;
    if (view->itemsize != 8 || (format[0] == 'd' ? strcmp(view->format, "d") != 0
                                                 : (strcmp(view->format, "l") != 0 &&
                                                    strcmp(view->format, "q") != 0))) {
        PyErr_Format(PyExc_TypeError, "%s: expected %s", name,
                     format[0] == 'd' ? "float64" : "int64");
        PyBuffer_Release(view);
        return -1;
    }
    if (n >= 0 && view->len / 8 < n) {
        PyErr_Format(PyExc_ValueError, "%s: too short", name);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* Up to 8 buffers at once; release them all in one call. */
typedef struct {
    Py_buffer b[8];
    int count;
} buffers;

static inline int take(buffers *bs, PyObject *obj, int writable, const char *format,
                       Py_ssize_t n, const char *name) {
    if (get(obj, &bs->b[bs->count], writable, format, n, name) < 0) return -1;
    bs->count++;
    return 0;
}

static inline void release(buffers *bs) {
    for (int j = 0; j < bs->count; j++) PyBuffer_Release(&bs->b[j]);
    bs->count = 0;
}

/* _core_sums.c */
PyObject *core_sum_f64(PyObject *self, PyObject *args);
PyObject *core_sum_ld(PyObject *self, PyObject *args);
PyObject *core_cumsum_ld(PyObject *self, PyObject *args);
PyObject *core_value_kind(PyObject *self, PyObject *args);
PyObject *core_absdiff_sum(PyObject *self, PyObject *args);
PyObject *core_ecdf_walk(PyObject *self, PyObject *args);
PyObject *core_float_stats(PyObject *self, PyObject *args);
/* _core_design.c */
PyObject *core_design_eta(PyObject *self, PyObject *args);
PyObject *core_design_cross(PyObject *self, PyObject *args);
/* _core_sort.c */
PyObject *core_fix_ties(PyObject *self, PyObject *args);
PyObject *core_radix_argsort(PyObject *self, PyObject *args);
PyObject *core_first_codes(PyObject *self, PyObject *args);

#endif
