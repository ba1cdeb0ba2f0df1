/* The plain-text pre-filter of scanner/content/plain.py in one pass over the bytes, without
 * the GIL: strict UTF-8 validation (as Python's "utf-8" codec: no overlongs, no surrogates,
 * nothing past U+10FFFF) and, for every line short enough to be a mark, a search for the byte
 * forms of the letter Ậ (decode.NEEDLES_UTF8, passed in by the caller).
 *
 * candidate(data, needles, max_line, max_ink) -> bool
 *   False: valid UTF-8 in which no line of at most max_line bytes and at most max_ink bytes that
 *          are not spaces holds a needle (nothing there can be a mark: the file is clean).
 *   True:  anything else (the file goes to the full reader).
 * The pure-Python plain.proven_clean is the reference; tests compare the two.
 */
#define _GNU_SOURCE
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MAX_NEEDLES 32

static int valid_utf8(const unsigned char *s, Py_ssize_t n)
{
    Py_ssize_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            while (i + 8 <= n) {  /* ASCII runs, eight bytes at a time */
                uint64_t w;
                memcpy(&w, s + i, 8);
                if (w & 0x8080808080808080ULL) break;
                i += 8;
            }
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            if (i + 1 >= n || (s[i + 1] & 0xC0) != 0x80) return 0;
            i += 2; continue;
        }
        if (c >= 0xE0 && c <= 0xEF) {
            if (i + 2 >= n) return 0;
            unsigned char c1 = s[i + 1], c2 = s[i + 2];
            if ((c1 & 0xC0) != 0x80 || (c2 & 0xC0) != 0x80) return 0;
            if (c == 0xE0 && c1 < 0xA0) return 0;   /* overlong */
            if (c == 0xED && c1 > 0x9F) return 0;   /* surrogate */
            i += 3; continue;
        }
        if (c >= 0xF0 && c <= 0xF4) {
            if (i + 3 >= n) return 0;
            unsigned char c1 = s[i + 1], c2 = s[i + 2], c3 = s[i + 3];
            if ((c1 & 0xC0) != 0x80 || (c2 & 0xC0) != 0x80 || (c3 & 0xC0) != 0x80) return 0;
            if (c == 0xF0 && c1 < 0x90) return 0;   /* overlong */
            if (c == 0xF4 && c1 > 0x8F) return 0;   /* past U+10FFFF */
            i += 4; continue;
        }
        return 0;
    }
    return 1;
}

static PyObject *candidate(PyObject *self, PyObject *args)
{
    Py_buffer buf;
    PyObject *needles;
    Py_ssize_t max_line, max_ink;
    if (!PyArg_ParseTuple(args, "y*O!nn", &buf, &PyTuple_Type, &needles, &max_line, &max_ink)) return NULL;
    Py_ssize_t count = PyTuple_GET_SIZE(needles);
    if (count > MAX_NEEDLES) {
        PyBuffer_Release(&buf);
        PyErr_SetString(PyExc_ValueError, "too many needles");
        return NULL;
    }
    const char *nd[MAX_NEEDLES];
    Py_ssize_t nl[MAX_NEEDLES], anchor[MAX_NEEDLES];
    unsigned char is_anchor[256] = {0};
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *o = PyTuple_GET_ITEM(needles, k);
        if (!PyBytes_Check(o) || PyBytes_GET_SIZE(o) == 0) {
            PyBuffer_Release(&buf);
            PyErr_SetString(PyExc_TypeError, "needles must be non-empty bytes");
            return NULL;
        }
        nd[k] = PyBytes_AS_STRING(o);
        nl[k] = PyBytes_GET_SIZE(o);
        anchor[k] = -1;
        for (Py_ssize_t j = 0; j < nl[k]; j++) {
            unsigned char b = (unsigned char)nd[k][j];
            if (b >= 0x80 || b == '^') { anchor[k] = j; break; }
        }
        if (anchor[k] >= 0) is_anchor[(unsigned char)nd[k][anchor[k]]] = 1;
        if (anchor[k] < 0) {
            PyBuffer_Release(&buf);
            PyErr_SetString(PyExc_ValueError, "every needle needs a byte >= 0x80 or '^'");
            return NULL;
        }
    }
    const char *s = (const char *)buf.buf;
    Py_ssize_t n = buf.len;
    int found = 0;
    Py_BEGIN_ALLOW_THREADS
    if (!valid_utf8((const unsigned char *)s, n)) {
        found = 1;
    } else {
        /* One pass: skip eight bytes at a time while they hold no byte >= 0x80 and no '^' (every
         * needle has one: its anchor); at an anchor byte try the needles anchored there, and for
         * a hit check its line, then go on past that line. */
        Py_ssize_t i = 0;
        while (i < n && !found) {
            if (i + 8 <= n) {
                uint64_t w;
                memcpy(&w, s + i, 8);
                uint64_t x = w ^ 0x5E5E5E5E5E5E5E5EULL;
                if (!(w & 0x8080808080808080ULL) && !((x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL)) {
                    i += 8;
                    continue;
                }
            }
            unsigned char c = (unsigned char)s[i];
            Py_ssize_t next = i + 1;
            if (is_anchor[c]) {
                for (Py_ssize_t k = 0; k < count; k++) {
                    Py_ssize_t at = i - anchor[k];
                    if ((unsigned char)nd[k][anchor[k]] != c || at < 0 || at + nl[k] > n
                        || memcmp(s + at, nd[k], (size_t)nl[k]) != 0) continue;
                    const char *ls = at > 0 ? memrchr(s, '\n', (size_t)at) : NULL;
                    Py_ssize_t start = ls ? (ls - s) + 1 : 0;
                    const char *le = memchr(s + at, '\n', (size_t)(n - at));
                    Py_ssize_t end = le ? le - s : n;
                    if (end - start <= max_line) {
                        Py_ssize_t ink = 0;
                        for (Py_ssize_t j = start; j < end && ink <= max_ink; j++) ink += (s[j] != ' ');
                        if (ink <= max_ink) { found = 1; break; }
                    }
                    next = end + 1;  /* this line cannot be a mark: on to the next one */
                    break;
                }
            }
            i = next;
        }
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&buf);
    return PyBool_FromLong(found);
}

static PyObject *valid(PyObject *self, PyObject *args)
{
    Py_buffer buf;
    if (!PyArg_ParseTuple(args, "y*", &buf)) return NULL;
    int ok;
    Py_BEGIN_ALLOW_THREADS
    ok = valid_utf8((const unsigned char *)buf.buf, buf.len);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&buf);
    return PyBool_FromLong(ok);
}

static PyMethodDef methods[] = {
    {"valid", valid, METH_VARARGS, "True when the bytes are strict UTF-8 (as Python's codec)."},
    {"candidate", candidate, METH_VARARGS, "True unless the bytes are UTF-8 with no short line holding a needle."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastplain", NULL, -1, methods};

PyMODINIT_FUNC PyInit__fastplain(void) { return PyModule_Create(&module); }
