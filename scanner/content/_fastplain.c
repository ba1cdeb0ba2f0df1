/* The plain-text pre-filter of scanner/content/plain.py in one pass over the bytes, without the
 * GIL. plain.py holds the pure-Python reference of both functions (``_count_text`` and
 * ``_count_legacy``); tests compare the two on the fixture corpus and on crafted cases.
 *
 * utf8_candidates(data, max_chars, max_ink, limit, allowed) -> int
 *   -1 when ``data`` is not strict UTF-8 (as Python's codec: no overlongs, no surrogates, nothing
 *   past U+10FFFF); else the number of lines (split as ``str.splitlines`` splits) that could be a
 *   mark: at most ``max_chars`` code points, holding a code point that can make the letter Ậ
 *   (plain.NEEDLE_CHARS, or VIQR's A^.), and whose "ink" (code points outside the not-ink set:
 *   spaces, punctuation, frame and box characters, combining marks, zero-width characters) is
 *   at most ``max_ink`` code points, all of them letters a mark can be written with (``allowed``:
 *   a bitmap of U+0000-U+1FFF; above it only U+FF1A). The count stops at ``limit + 1``.
 * legacy_candidates(data, max_bytes, max_ink, limit, classes) -> int
 *   The same over 8-bit bytes of a legacy encoding, ``classes`` giving each byte 0 (not ink),
 *   1 (a letter of a mark in some legacy decoding) or 2 (anything else): -1 when a control byte
 *   other than \t \n \v \f \r is present (UTF-16, or a table that maps control bytes to
 *   letters); lines end at \n \v \f \r; needles are the bytes that make Ậ in a legacy decoding.
 * valid(data) -> bool: strict UTF-8.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static int utf8_seq(const unsigned char *s, Py_ssize_t i, Py_ssize_t n, uint32_t *cp)
{
    /* length of the valid sequence at s[i] (a byte >= 0x80), 0 when invalid */
    unsigned char c = s[i];
    if (c >= 0xC2 && c <= 0xDF) {
        if (i + 1 >= n || (s[i + 1] & 0xC0) != 0x80) return 0;
        *cp = ((uint32_t)(c & 0x1F) << 6) | (s[i + 1] & 0x3F);
        return 2;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (i + 2 >= n) return 0;
        unsigned char c1 = s[i + 1], c2 = s[i + 2];
        if ((c1 & 0xC0) != 0x80 || (c2 & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && c1 < 0xA0) return 0;   /* overlong */
        if (c == 0xED && c1 > 0x9F) return 0;   /* surrogate */
        *cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(c1 & 0x3F) << 6) | (c2 & 0x3F);
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (i + 3 >= n) return 0;
        unsigned char c1 = s[i + 1], c2 = s[i + 2], c3 = s[i + 3];
        if ((c1 & 0xC0) != 0x80 || (c2 & 0xC0) != 0x80 || (c3 & 0xC0) != 0x80) return 0;
        if (c == 0xF0 && c1 < 0x90) return 0;   /* overlong */
        if (c == 0xF4 && c1 > 0x8F) return 0;   /* past U+10FFFF */
        *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(c1 & 0x3F) << 12) | ((uint32_t)(c2 & 0x3F) << 6) | (c3 & 0x3F);
        return 4;
    }
    return 0;
}

static int valid_utf8(const unsigned char *s, Py_ssize_t n)
{
    Py_ssize_t i = 0;
    uint32_t cp;
    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            while (i + 8 <= n) {  /* ASCII runs, eight bytes at a time */
                uint64_t w;
                memcpy(&w, s + i, 8);
                if (w & 0x8080808080808080ULL) break;
                i += 8;
            }
            continue;
        }
        int len = utf8_seq(s, i, n, &cp);
        if (!len) return 0;
        i += len;
    }
    return 1;
}

/* ASCII: 1 for bytes that are not ink (controls, space, punctuation) */
static unsigned char ascii_not_ink[128];
static unsigned char legacy_needle[256];

static void init_tables(void)
{
    for (int c = 0; c < 128; c++)
        ascii_not_ink[c] = c <= 0x20 || c == 0x7F || (c >= '!' && c <= '/') || (c >= ':' && c <= '@')
                           || (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
    static const unsigned char needles[] = {0xCB, 0xC4, 0xE4, 0xF2, 0x87, 0xA7, 0x86, 0xB4};
    for (size_t k = 0; k < sizeof needles; k++) legacy_needle[needles[k]] = 1;
}

static int cp_not_ink(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0xBF) || (cp >= 0x300 && cp <= 0x36F) || cp == 0x1680 || cp == 0x180E
        || (cp >= 0x1AB0 && cp <= 0x1AFF) || (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x2000 && cp <= 0x206F)
        || cp == 0x20AC || cp == 0x2122 || (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0x2500 && cp <= 0x25FF) || (cp >= 0x3000 && cp <= 0x303F)
        || (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xFE20 && cp <= 0xFE2F) || cp == 0xFEFF;
}

static int cp_needle(uint32_t cp)
{
    switch (cp) {
    case 0x1EAC: case 0x1EAD: case 0x0302: case 0x0323: case 0xCB: case 0xEB: case 0xC4: case 0xE4:
    case 0x2021: case 0x2020: case 0xA7: case 0x86: case 0x87: case 0xF2:
        return 1;
    }
    return 0;
}

#define HAS_LESS(w, b) (((w) - 0x0101010101010101ULL * (b)) & ~(w) & 0x8080808080808080ULL)

static inline int ascii_break(unsigned char c)
{
    return c == '\n' || c == '\r' || c == '\v' || c == '\f' || (c >= 0x1C && c <= 0x1E);
}

/* One pass that only validates and looks for line ends and needles; a line with a needle is then
 * measured (characters, ink) from its start to its end, and the pass goes on after it. */
static Py_ssize_t count_utf8(const unsigned char *s, Py_ssize_t n, Py_ssize_t max_chars, Py_ssize_t max_ink, Py_ssize_t limit,
                             const unsigned char *allowed)
{
    Py_ssize_t i = 0, line_start = 0, count = 0, dead = -1;
    uint32_t cp;
    while (i < n) {
        if (i + 8 <= n) {  /* eight ASCII bytes with no control byte and no '^': nothing to see */
            uint64_t w;
            memcpy(&w, s + i, 8);
            uint64_t x = w ^ 0x5E5E5E5E5E5E5E5EULL;
            if (!(w & 0x8080808080808080ULL) && !HAS_LESS(w, 0x20) && !HAS_LESS(x, 1)) {
                i += 8;
                continue;
            }
        }
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            if (ascii_break(c)) line_start = i;
            else if (c == '^' && i >= 2 && (s[i - 2] | 0x20) == 'a' && i < n && s[i] == '.') goto needle;  /* VIQR A^. */
            continue;
        }
        int len = utf8_seq(s, i, n, &cp);
        if (!len) return -1;
        i += len;
        if (cp == 0x85 || cp == 0x2028 || cp == 0x2029) line_start = i;
        else if (cp_needle(cp)) goto needle;
        continue;
    needle:
        if (line_start == dead) continue;  /* this line was measured: too long to be a mark */
        {
            Py_ssize_t j = line_start, chars = 0, ink = 0;
            int foreign = 0;
            while (j < n) {
                if (chars > max_chars || ink > max_ink || foreign) {  /* not a mark: the main pass goes on */
                    dead = line_start;
                    break;
                }
                c = s[j];
                if (c < 0x80) {
                    if (ascii_break(c)) break;
                    cp = c;
                    len = 1;
                } else {
                    len = utf8_seq(s, j, n, &cp);
                    if (!len) return -1;
                    if (cp == 0x85 || cp == 0x2028 || cp == 0x2029) break;
                }
                chars++;
                if (!(cp < 0x80 ? ascii_not_ink[cp] : cp_not_ink(cp))) {
                    ink++;
                    foreign = !(cp < 0x2000 ? (allowed[cp >> 3] >> (cp & 7)) & 1 : cp == 0xFF1A);
                }
                j += len;
            }
            if (chars > max_chars || ink > max_ink || foreign) dead = line_start;
            if (dead == line_start) {
                if (j > i) i = j;  /* what the measure validated */
                continue;
            }
            if (count <= limit) count++;
            i = line_start = j;  /* at the line's end: the main pass sees the break */
        }
    }
    return count;
}

static Py_ssize_t count_legacy(const unsigned char *s, Py_ssize_t n, Py_ssize_t max_bytes, Py_ssize_t max_ink, Py_ssize_t limit,
                               const unsigned char *classes)
{
    Py_ssize_t count = 0, chars = 0, ink = 0;
    int needle = 0, foreign = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c < 0x20) {
            if (c == '\n' || c == '\r' || c == '\v' || c == '\f') {
                if (needle && !foreign && chars <= max_bytes && ink <= max_ink && count <= limit) count++;
                chars = ink = 0;
                needle = foreign = 0;
                continue;
            }
            if (c != '\t') return -1;
        }
        chars++;
        ink += classes[c] != 0;
        foreign |= classes[c] == 2;
        needle |= legacy_needle[c] | (c == '^' && i >= 1 && (s[i - 1] | 0x20) == 'a' && i + 1 < n && s[i + 1] == '.');
    }
    if (needle && !foreign && chars <= max_bytes && ink <= max_ink && count <= limit) count++;
    return count;
}

typedef Py_ssize_t (*counter)(const unsigned char *, Py_ssize_t, Py_ssize_t, Py_ssize_t, Py_ssize_t, const unsigned char *);

static PyObject *run_counter(PyObject *args, counter fn, Py_ssize_t table_len)
{
    Py_buffer buf, table;
    Py_ssize_t max_chars, max_ink, limit, r;
    if (!PyArg_ParseTuple(args, "y*nnny*", &buf, &max_chars, &max_ink, &limit, &table)) return NULL;
    if (table.len != table_len) {
        PyBuffer_Release(&buf);
        PyBuffer_Release(&table);
        PyErr_SetString(PyExc_ValueError, "wrong table size");
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    r = fn((const unsigned char *)buf.buf, buf.len, max_chars, max_ink, limit, (const unsigned char *)table.buf);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&buf);
    PyBuffer_Release(&table);
    return PyLong_FromSsize_t(r);
}

static PyObject *utf8_candidates(PyObject *self, PyObject *args) { return run_counter(args, count_utf8, 0x2000 / 8); }
static PyObject *legacy_candidates(PyObject *self, PyObject *args) { return run_counter(args, count_legacy, 256); }

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
    {"utf8_candidates", utf8_candidates, METH_VARARGS, "Lines of UTF-8 text that could be a mark (-1: not UTF-8)."},
    {"legacy_candidates", legacy_candidates, METH_VARARGS, "Lines of legacy 8-bit text that could be a mark (-1: cannot tell)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastplain", NULL, -1, methods};

PyMODINIT_FUNC PyInit__fastplain(void)
{
    init_tables();
    return PyModule_Create(&module);
}
