/*
 * A NumPy data-memory handler that keeps freed large blocks for reuse (estimation/block_cache.py).
 *
 * glibc maps every block above its mmap threshold (at most 32 MB) fresh and unmaps it on
 * free; on a virtual machine that reports free pages to its host each first touch of such
 * a page is a slow fault. Inside an active scope this handler keeps freed blocks of at least
 * `threshold` bytes (up to `cap` bytes in all, the oldest given back first) and hands the
 * best fitting one (at most `larger` per cent larger than asked) to the next allocation, so
 * its pages are already mapped. A request that no kept block fits first gives the oldest
 * kept blocks of at least its size back to the system, so the cache never raises the peak
 * of NumPy's large blocks above their peak without the cache. Every block is a glibc
 * malloc block: free() and realloc() of any of them are glibc's, so an array allocated inside the scope and freed outside it is freed
 * correctly (NumPy frees an array through the handler that allocated it), and the pointers
 * have malloc's alignment, as NumPy's default handler gives.
 *
 * NumPy's C API is taken from its `_ARRAY_API` capsule by slot number, without NumPy's
 * headers (no NumPy at build time): the slots and the handler's layout are NumPy's ABI,
 * fixed since 1.22 (feature version 0x0f; checked in bind()):
 *   211 PyArray_GetNDArrayCFeatureVersion, 304 PyDataMem_SetHandler, 305 PyDataMem_GetHandler.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define NAME "tiltak_block_cache"
#define SLOTS 64
#define HUGE_ADVICE_FROM ((size_t)1 << 22) /* NumPy's: madvise(MADV_HUGEPAGE) from 4 MB */
#define FEATURE_1_22 0x0000000fu

typedef struct {
    void *ctx;
    void *(*malloc)(void *ctx, size_t size);
    void *(*calloc)(void *ctx, size_t nelem, size_t elsize);
    void *(*realloc)(void *ctx, void *ptr, size_t new_size);
    void (*free)(void *ctx, void *ptr, size_t size);
} DataMemAllocator; /* NumPy's PyDataMemAllocator, version 1 */

typedef struct {
    char name[127];
    uint8_t version;
    DataMemAllocator allocator;
} DataMemHandler; /* NumPy's PyDataMem_Handler */

typedef struct {
    void *ptr;
    size_t usable;
} Block;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static Block cache[SLOTS]; /* oldest first */
static int count;
static size_t cached;
static int depth;
static size_t threshold = (size_t)4 << 20;
static size_t cap = (size_t)1 << 30;
static int advise = 1;
static size_t larger = 25; /* percent: a kept block at most this much larger than asked */
static unsigned long long hits, misses, evicted, reused_bytes, fresh_bytes;
static size_t most_cached;

static void **api;
static PyObject *handler_capsule;

/* --- the cache (called with the lock held) --------------------------------------- */

static void *take(size_t size)
{
    int best = -1;
    for (int i = 0; i < count; i++) {
        size_t u = cache[i].usable;
        if (u >= size && u - size <= size / 100 * larger && (best < 0 || u < cache[best].usable))
            best = i;
    }
    if (best < 0)
        return NULL;
    void *p = cache[best].ptr;
    cached -= cache[best].usable;
    memmove(cache + best, cache + best + 1, (size_t)(count - best - 1) * sizeof(Block));
    count--;
    return p;
}

/* Make room for `usable` bytes in one slot: the oldest blocks into `out` (freed by the
   caller outside the lock); returns how many. */
static int make_room(size_t usable, void **out)
{
    int n = 0;
    while (count > 0 && (count == SLOTS || cached + usable > cap)) {
        out[n++] = cache[0].ptr;
        cached -= cache[0].usable;
        memmove(cache, cache + 1, (size_t)(count - 1) * sizeof(Block));
        count--;
    }
    return n;
}

/* --- the handler ------------------------------------------------------------------ */

static void advise_huge(void *p, size_t size)
{
    if (advise && size >= HUGE_ADVICE_FROM) { /* as NumPy's default handler does */
        uintptr_t offset = 4096u - (uintptr_t)p % 4096u;
        madvise((char *)p + offset, size - offset, MADV_HUGEPAGE);
    }
}

/* Give back the oldest kept blocks, `size` bytes at least (or all): into `out`, freed by the
   caller outside the lock; returns how many. Called with the lock held. */
static int give_back(size_t size, void **out)
{
    int n = 0;
    size_t freed = 0;
    while (count > 0 && freed < size) {
        out[n++] = cache[0].ptr;
        freed += cache[0].usable;
        cached -= cache[0].usable;
        memmove(cache, cache + 1, (size_t)(count - 1) * sizeof(Block));
        count--;
    }
    return n;
}

/* A kept block for `size` bytes, or NULL. On a miss the oldest kept blocks of `size` bytes
   at least go back to the system first, so that the fresh block takes their place: the
   memory held (arrays and kept blocks) then never exceeds what the arrays alone would have
   held at their largest without the cache. */
static void *reuse(size_t size)
{
    void *p = NULL;
    void *out[SLOTS];
    int n = 0;
    if (size < threshold)
        return NULL;
    pthread_mutex_lock(&lock);
    if (depth > 0) {
        p = take(size);
        if (p) {
            hits++;
            reused_bytes += size;
        } else {
            misses++;
            fresh_bytes += size;
            n = give_back(size, out);
            evicted += (unsigned long long)n;
        }
    }
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < n; i++)
        free(out[i]);
    return p;
}

static void *block_malloc(void *ctx, size_t size)
{
    (void)ctx;
    void *p = reuse(size);
    if (p)
        return p;
    p = malloc(size);
    if (p)
        advise_huge(p, size);
    return p;
}

static void *block_calloc(void *ctx, size_t nelem, size_t elsize)
{
    (void)ctx;
    size_t size;
    if (__builtin_mul_overflow(nelem, elsize, &size))
        return NULL;
    void *p = reuse(size);
    if (p)
        return memset(p, 0, size); /* a reused block holds old data */
    p = calloc(nelem, elsize);
    if (p)
        advise_huge(p, size);
    return p;
}

static void *block_realloc(void *ctx, void *ptr, size_t new_size)
{
    (void)ctx;
    return realloc(ptr, new_size); /* every block is glibc's, cached ones are never out */
}

static void block_free(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    (void)size;
    if (ptr == NULL)
        return;
    size_t usable = malloc_usable_size(ptr);
    void *out[SLOTS + 1];
    int n = 0, kept = 0;
    if (usable >= threshold) {
        pthread_mutex_lock(&lock);
        if (depth > 0 && usable <= cap) {
            n = make_room(usable, out);
            cache[count].ptr = ptr;
            cache[count].usable = usable;
            count++;
            cached += usable;
            if (cached > most_cached)
                most_cached = cached;
            kept = 1;
        }
        evicted += (unsigned long long)n + (kept ? 0 : (depth > 0));
        pthread_mutex_unlock(&lock);
    }
    for (int i = 0; i < n; i++)
        free(out[i]);
    if (!kept)
        free(ptr);
}

static DataMemHandler handler = {
    NAME, 1, {NULL, block_malloc, block_calloc, block_realloc, block_free}};

/* --- the module ------------------------------------------------------------------- */

static PyObject *py_bind(PyObject *self, PyObject *capsule)
{
    (void)self;
    if (api != NULL)
        Py_RETURN_NONE;
    void **table = PyCapsule_GetPointer(capsule, NULL);
    if (table == NULL)
        return NULL;
    unsigned int (*feature)(void) = (unsigned int (*)(void))table[211];
    if (feature == NULL || feature() < FEATURE_1_22 || table[304] == NULL || table[305] == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "NumPy has no data memory handlers (1.22 or later)");
        return NULL;
    }
    PyObject *current = ((PyObject * (*)(void)) table[305])();
    if (current == NULL)
        return NULL;
    int ok = PyCapsule_IsValid(current, "mem_handler");
    Py_DECREF(current);
    if (!ok) {
        PyErr_SetString(PyExc_RuntimeError, "NumPy's handler is not a mem_handler capsule");
        return NULL;
    }
    handler_capsule = PyCapsule_New(&handler, "mem_handler", NULL);
    if (handler_capsule == NULL)
        return NULL;
    api = table;
    Py_RETURN_NONE;
}

static PyObject *set_handler(PyObject *capsule)
{
    if (api == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "bind() first");
        return NULL;
    }
    return ((PyObject * (*)(PyObject *)) api[304])(capsule);
}

/* Ours as the context's handler; returns the one it replaces (for restore). */
static PyObject *py_install(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    return set_handler(handler_capsule);
}

static PyObject *py_restore(PyObject *self, PyObject *previous)
{
    (void)self;
    PyObject *ours = set_handler(previous);
    if (ours == NULL)
        return NULL;
    Py_DECREF(ours);
    Py_RETURN_NONE;
}

/* One scope more; the first sets the threshold, the cap and the huge-page advice. */
static PyObject *py_enter(PyObject *self, PyObject *args)
{
    (void)self;
    Py_ssize_t from, most, percent = 25;
    int advice;
    if (!PyArg_ParseTuple(args, "nnp|n", &from, &most, &advice, &percent))
        return NULL;
    if (from < 1 || most < 0 || percent < 1 || percent > 10000) {
        PyErr_SetString(PyExc_ValueError, "threshold >= 1, cap >= 0 bytes, larger 1 to 10000 %");
        return NULL;
    }
    pthread_mutex_lock(&lock);
    if (depth++ == 0) {
        threshold = (size_t)from;
        cap = (size_t)most;
        advise = advice;
        larger = (size_t)percent;
        hits = misses = evicted = reused_bytes = fresh_bytes = 0;
        most_cached = 0;
    }
    pthread_mutex_unlock(&lock);
    Py_RETURN_NONE;
}

/* One scope less; the last empties the cache (the blocks back to the system). */
static PyObject *py_leave(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    Block out[SLOTS];
    int n = 0;
    pthread_mutex_lock(&lock);
    if (depth > 0 && --depth == 0) {
        n = count;
        memcpy(out, cache, (size_t)n * sizeof(Block));
        count = 0;
        cached = 0;
    }
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < n; i++)
        free(out[i].ptr);
    return PyLong_FromLong(n);
}

static PyObject *py_set_advice(PyObject *self, PyObject *value)
{
    (void)self;
    int on = PyObject_IsTrue(value);
    if (on < 0)
        return NULL;
    pthread_mutex_lock(&lock);
    advise = on;
    pthread_mutex_unlock(&lock);
    Py_RETURN_NONE;
}

static PyObject *py_stats(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    pthread_mutex_lock(&lock);
    PyObject *d = Py_BuildValue(
        "{s:i,s:n,s:n,s:i,s:K,s:K,s:K,s:K,s:K,s:n,s:n,s:i,s:n}", "depth", depth, "cached",
        (Py_ssize_t)cached, "blocks", (Py_ssize_t)count, "slots", SLOTS, "hits", hits, "misses",
        misses, "evicted", evicted, "reused_bytes", reused_bytes, "fresh_bytes", fresh_bytes,
        "most_cached", (Py_ssize_t)most_cached, "cap", (Py_ssize_t)cap, "advise", advise,
        "larger", (Py_ssize_t)larger);
    pthread_mutex_unlock(&lock);
    return d;
}

static PyMethodDef methods[] = {
    {"bind", py_bind, METH_O, "Take NumPy's C API from its _ARRAY_API capsule."},
    {"install", py_install, METH_NOARGS, "Make the cache this context's handler; the old one."},
    {"restore", py_restore, METH_O, "Make `previous` this context's handler again."},
    {"enter", py_enter, METH_VARARGS, "enter(threshold, cap, advice[, larger %]): one scope more."},
    {"leave", py_leave, METH_NOARGS, "One scope less; the last empties the cache."},
    {"set_advice", py_set_advice, METH_O, "Advise huge pages for fresh blocks (as NumPy)."},
    {"stats", py_stats, METH_NOARGS, "The cache's counters."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_alloc",
                                    "NumPy data memory that reuses large freed blocks.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__alloc(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddStringConstant(m, "NAME", NAME) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
