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

/* Up to 16 buffers at once; release them all in one call. */
typedef struct {
    Py_buffer b[16];
    int count;
} buffers;

static inline void release(buffers *bs) {
    for (int j = 0; j < bs->count; j++) PyBuffer_Release(&bs->b[j]);
    bs->count = 0;
}

/* The next buffer (see get); on failure every buffer taken so far is released, so that the
 * caller only returns NULL. */
static inline int take(buffers *bs, PyObject *obj, int writable, const char *format,
                       Py_ssize_t n, const char *name) {
    if (bs->count == (int)(sizeof(bs->b) / sizeof(bs->b[0]))) {
        PyErr_SetString(PyExc_RuntimeError, "too many buffers");
    } else if (get(obj, &bs->b[bs->count], writable, format, n, name) == 0) {
        bs->count++;
        return 0;
    }
    release(bs);
    return -1;
}

/* One buffer per character of spec from objs[0..]: 'd' float64, 'q' int64, read only;
 * 'D', 'Q' the same, writable. names[j] names objs[j] in the error. */
static inline int take_all(buffers *bs, PyObject *const *objs, const char *spec,
                           const char *const *names) {
    for (int j = 0; spec[j]; j++) {
        int writable = spec[j] == 'D' || spec[j] == 'Q';
        const char *format = (spec[j] == 'd' || spec[j] == 'D') ? "d" : "q";
        if (take(bs, objs[j], writable, format, -1, names[j]) < 0) return -1;
    }
    return 0;
}

/* Release every buffer and raise type(message): return fail(...) from a function. */
static inline PyObject *fail(buffers *bs, PyObject *type, const char *message) {
    release(bs);
    PyErr_SetString(type, message);
    return NULL;
}

/* _core_sums.c */
PyObject *core_sum_f64(PyObject *self, PyObject *args);
PyObject *core_sum_ld(PyObject *self, PyObject *args);
PyObject *core_cumsum_ld(PyObject *self, PyObject *args);
PyObject *core_value_kind(PyObject *self, PyObject *args);
PyObject *core_absdiff_sum(PyObject *self, PyObject *args);
PyObject *core_ecdf_walk(PyObject *self, PyObject *args);
PyObject *core_float_stats(PyObject *self, PyObject *args);
PyObject *core_logit_mu(PyObject *self, PyObject *args);
PyObject *core_logit_step(PyObject *self, PyObject *args);
/* _core_design.c */
PyObject *core_design_eta(PyObject *self, PyObject *args);
PyObject *core_design_cross(PyObject *self, PyObject *args);
/* _core_sort.c */
PyObject *core_fix_ties(PyObject *self, PyObject *args);
PyObject *core_radix_argsort(PyObject *self, PyObject *args);
PyObject *core_radix_sort(PyObject *self, PyObject *args);
PyObject *core_first_codes(PyObject *self, PyObject *args);

#endif
