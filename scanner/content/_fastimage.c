/* The connected-component labelling of scanner/content/frames.py in C: on a 300 dpi page it was
 * ~35 ms of the ~170 ms an image page costs (the rest is the PNG decode), run-based union-find
 * in pure Python. frames.py keeps the pure-Python reference (``components_py``) and falls back
 * to it when this module is not built; tests compare the two on random and generated masks.
 *
 * components(data, width, height, min_pixels) -> list of (runs, x0, y0, x1, y1, pixels)
 *   The 8-connected components of the non-zero bytes of an L mask (``data``: width * height
 *   bytes, row-major). ``runs`` is a list of (y, a, b), the half-open intervals [a, b) of ink of
 *   row y, in row order; (x0, y0, x1, y1) the bounding box, x1 and y1 exclusive; ``pixels`` the
 *   number of ink pixels. Only components with pixels >= min_pixels, in the order their first
 *   run is met scanning the rows top to bottom (the insertion order of the Python version).
 *   Two runs touch (8-connectivity) when one is on the row below the other and
 *   prev.a <= cur.b and prev.b >= cur.a, the test of the Python code.
 *
 * Memory: 12 bytes a run and 4 a label while labelling, then 32 bytes a component (the labels
 * freed first), so at most ~16 bytes a pixel of the mask (a run takes two pixels of a row, a
 * lone component four of the page); the worker's pixel limit and RLIMIT_AS bound the rest.
 * A failed allocation raises MemoryError; the labelling runs without the GIL.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef struct { int32_t a, b, lab; } Run;

typedef struct {
    int32_t x0, y0, x1, y1;
    int32_t nruns, slot;   /* slot: index in the result, -1 when filtered out */
    int64_t pixels;
} Stat;

typedef struct {
    const unsigned char *data;
    Py_ssize_t w, h;
    Run *runs;
    int32_t *row;          /* h + 1 offsets into runs */
    int32_t *parent;       /* union-find over labels; then label -> component */
    Stat *stats;
    int32_t nruns, cap, nlabels, ncomp;
    int error;             /* 1: out of memory, 2: more runs than int32 can count */
} Labels;

#define ONES ((uint64_t)0x0101010101010101ULL)
#define HIGHS ((uint64_t)0x8080808080808080ULL)

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline int32_t find(int32_t *parent, int32_t a)
{
    while (parent[a] != a) {
        parent[a] = parent[parent[a]];
        a = parent[a];
    }
    return a;
}

static int grow(Labels *L)
{
    if (L->cap == INT32_MAX) { L->error = 2; return -1; }
    int64_t cap = L->cap ? (int64_t)L->cap * 2 : 1024;
    if (cap > INT32_MAX) cap = INT32_MAX;
    if ((uint64_t)cap > SIZE_MAX / sizeof(Run)) { L->error = 1; return -1; }
    Run *runs = realloc(L->runs, (size_t)cap * sizeof(Run));
    if (!runs) { L->error = 1; return -1; }
    L->runs = runs;
    int32_t *parent = realloc(L->parent, (size_t)cap * sizeof(int32_t));
    if (!parent) { L->error = 1; return -1; }
    L->parent = parent;
    L->cap = (int32_t)cap;
    return 0;
}

/* Runs of each row, each joined to the runs it touches on the row above (the loop of the Python
 * version, index for index); then every run's label becomes its component's index, components
 * numbered as first met, and the boxes and counts are summed. */
static void label(Labels *L)
{
    const Py_ssize_t w = L->w, h = L->h;
    int32_t pstart = 0;
    for (Py_ssize_t y = 0; y < h; y++) {
        const unsigned char *p = L->data + y * w;
        const int32_t pend = L->nruns;
        L->row[y] = pend;
        int32_t j = pstart;
        Py_ssize_t x = 0;
        while (x < w) {
            while (x + 8 <= w && load64(p + x) == 0) x += 8;
            while (x < w && p[x] == 0) x++;
            if (x >= w) break;
            const int32_t a = (int32_t)x;
            while (x + 8 <= w) {
                uint64_t v = load64(p + x);
                if ((v - ONES) & ~v & HIGHS) break;   /* a zero byte in these 8 */
                x += 8;
            }
            while (x < w && p[x] != 0) x++;
            const int32_t b = (int32_t)x;
            while (j < pend && L->runs[j].b < a) j++;
            int32_t lab = -1;
            for (int32_t k = j; k < pend && L->runs[k].a <= b; k++) {
                int32_t other = find(L->parent, L->runs[k].lab);
                if (lab < 0)
                    lab = other;
                else if (other != lab)
                    L->parent[other] = lab;
            }
            if (L->nruns == L->cap && grow(L) < 0) return;
            if (lab < 0) {
                lab = L->nlabels++;
                L->parent[lab] = lab;
            }
            L->runs[L->nruns++] = (Run){a, b, lab};
        }
        pstart = pend;
    }
    L->row[h] = L->nruns;

    for (int32_t i = 0; i < L->nruns; i++)
        L->runs[i].lab = find(L->parent, L->runs[i].lab);
    int32_t *comp = L->parent;   /* the union-find is done: root label -> component */
    for (int32_t l = 0; l < L->nlabels; l++) comp[l] = -1;
    for (int32_t i = 0; i < L->nruns; i++) {
        int32_t r = L->runs[i].lab;
        if (comp[r] < 0) comp[r] = L->ncomp++;
        L->runs[i].lab = comp[r];
    }
    free(L->parent);
    L->parent = NULL;
    if (L->ncomp == 0) return;
    L->stats = malloc((size_t)L->ncomp * sizeof(Stat));
    if (!L->stats) { L->error = 1; return; }
    for (int32_t c = 0; c < L->ncomp; c++)
        L->stats[c] = (Stat){INT32_MAX, INT32_MAX, -1, -1, 0, -1, 0};
    for (Py_ssize_t y = 0; y < h; y++) {
        for (int32_t i = L->row[y]; i < L->row[y + 1]; i++) {
            const Run *r = &L->runs[i];
            Stat *s = &L->stats[r->lab];
            if (r->a < s->x0) s->x0 = r->a;
            if (r->b > s->x1) s->x1 = r->b;
            if (s->y0 == INT32_MAX) s->y0 = (int32_t)y;
            s->y1 = (int32_t)y + 1;
            s->pixels += r->b - r->a;
            s->nruns++;
        }
    }
}

static PyObject *triple(Py_ssize_t y, int32_t a, int32_t b)
{
    PyObject *t = PyTuple_New(3);
    if (!t) return NULL;
    PyObject *v;
    if (!(v = PyLong_FromSsize_t(y))) goto fail;
    PyTuple_SET_ITEM(t, 0, v);
    if (!(v = PyLong_FromLong(a))) goto fail;
    PyTuple_SET_ITEM(t, 1, v);
    if (!(v = PyLong_FromLong(b))) goto fail;
    PyTuple_SET_ITEM(t, 2, v);
    return t;
fail:
    Py_DECREF(t);
    return NULL;
}

/* The Python objects of the kept components (with the GIL). */
static PyObject *build(Labels *L, long long min_pixels, int all, int none)
{
    Py_ssize_t nkept = 0;
    for (int32_t c = 0; c < L->ncomp; c++) {
        Stat *s = &L->stats[c];
        if (!none && (all || s->pixels >= min_pixels)) s->slot = (int32_t)nkept++;
    }
    PyObject *out = PyList_New(nkept);
    if (!out) return NULL;
    PyObject **lists = NULL;
    int32_t *fill = NULL;
    if (nkept) {
        lists = PyMem_Calloc((size_t)nkept, sizeof(PyObject *));
        fill = PyMem_Calloc((size_t)nkept, sizeof(int32_t));
        if (!lists || !fill) { PyErr_NoMemory(); goto fail; }
    }
    for (int32_t c = 0; c < L->ncomp; c++) {
        Stat *s = &L->stats[c];
        if (s->slot >= 0 && !(lists[s->slot] = PyList_New(s->nruns))) goto fail;
    }
    for (Py_ssize_t y = 0; y < L->h && nkept; y++) {
        for (int32_t i = L->row[y]; i < L->row[y + 1]; i++) {
            const Run *r = &L->runs[i];
            int32_t slot = L->stats[r->lab].slot;
            if (slot < 0) continue;
            PyObject *t = triple(y, r->a, r->b);
            if (!t) goto fail;
            PyList_SET_ITEM(lists[slot], fill[slot]++, t);
        }
    }
    for (int32_t c = 0; c < L->ncomp; c++) {
        Stat *s = &L->stats[c];
        if (s->slot < 0) continue;
        PyObject *item = Py_BuildValue("(OiiiiL)", lists[s->slot], s->x0, s->y0, s->x1, s->y1,
                                       (long long)s->pixels);
        if (!item) goto fail;
        PyList_SET_ITEM(out, s->slot, item);
    }
    for (Py_ssize_t k = 0; k < nkept; k++) Py_XDECREF(lists[k]);
    PyMem_Free(lists);
    PyMem_Free(fill);
    return out;
fail:
    /* a list not yet filled holds NULL items: PyList's dealloc skips them */
    for (Py_ssize_t k = 0; lists && k < nkept; k++) Py_XDECREF(lists[k]);
    PyMem_Free(lists);
    PyMem_Free(fill);
    Py_DECREF(out);
    return NULL;
}

static Py_ssize_t dimension(PyObject *o, const char *name)
{
    PyObject *i = PyNumber_Index(o);
    if (!i) {
        PyErr_Format(PyExc_TypeError, "components(): %s must be an int, not %.100s", name, Py_TYPE(o)->tp_name);
        return -1;
    }
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(i, &overflow);
    Py_DECREF(i);
    if (v == -1 && PyErr_Occurred()) return -1;
    if (overflow < 0 || (!overflow && v < 0)) {
        PyErr_Format(PyExc_ValueError, "components(): %s must be >= 0", name);
        return -1;
    }
    if (overflow > 0 || v > INT32_MAX) {
        PyErr_Format(PyExc_ValueError, "components(): %s is too large (at most %d)", name, INT32_MAX);
        return -1;
    }
    return (Py_ssize_t)v;
}

static PyObject *components(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"data", "width", "height", "min_pixels", NULL};
    Py_buffer buf;
    PyObject *wo, *ho, *mo;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*OOO:components", kwlist, &buf, &wo, &ho, &mo))
        return NULL;
    PyObject *result = NULL;
    Labels L;
    memset(&L, 0, sizeof L);
    Py_ssize_t w = dimension(wo, "width"), h;
    if (w < 0 || (h = dimension(ho, "height")) < 0) goto done;
    PyObject *mi = PyNumber_Index(mo);
    if (!mi) {
        PyErr_Format(PyExc_TypeError, "components(): min_pixels must be an int, not %.100s", Py_TYPE(mo)->tp_name);
        goto done;
    }
    int overflow;
    long long min_pixels = PyLong_AsLongLongAndOverflow(mi, &overflow);
    Py_DECREF(mi);
    if (min_pixels == -1 && PyErr_Occurred()) goto done;
    /* width, height < 2**31: their product fits in 64 bits */
    if ((int64_t)w * (int64_t)h != (int64_t)buf.len) {
        PyErr_Format(PyExc_ValueError, "components(): data is %zd bytes, width * height is %lld",
                     buf.len, (long long)((int64_t)w * (int64_t)h));
        goto done;
    }
    if (w == 0 || h == 0) {
        result = PyList_New(0);
        goto done;
    }
    L.data = (const unsigned char *)buf.buf;
    L.w = w;
    L.h = h;
    L.row = PyMem_RawMalloc((size_t)(h + 1) * sizeof(int32_t));
    if (!L.row) { PyErr_NoMemory(); goto done; }
    Py_BEGIN_ALLOW_THREADS
    label(&L);
    Py_END_ALLOW_THREADS
    if (L.error == 1) { PyErr_NoMemory(); goto done; }
    if (L.error == 2) { PyErr_SetString(PyExc_ValueError, "components(): the mask has too many runs"); goto done; }
    result = build(&L, min_pixels, overflow < 0, overflow > 0);
done:
    free(L.runs);
    free(L.parent);
    free(L.stats);
    PyMem_RawFree(L.row);
    PyBuffer_Release(&buf);
    return result;
}

static PyMethodDef methods[] = {
    {"components", (PyCFunction)(void (*)(void))components, METH_VARARGS | METH_KEYWORDS,
     "components(data, width, height, min_pixels) -> [(runs, x0, y0, x1, y1, pixels)]: the 8-connected "
     "components of the non-zero bytes of an L mask, as frames.components_py computes them."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastimage", NULL, -1, methods};

PyMODINIT_FUNC PyInit__fastimage(void)
{
    return PyModule_Create(&module);
}
