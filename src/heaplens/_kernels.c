/*
 * heaplens._kernels — the compiled loops of the snapshot reader and of the graph analysis.
 *
 * Every function takes buffers (numpy arrays, a memory-mapped file) and plain integers, works with
 * the GIL released, never raises on malformed input and never reads or writes out of bounds: it
 * returns a status code and the byte offset where it stopped, and the Python caller
 * (heaplens.snapshot.reader) turns a bad status into a one-line error naming the file and offset.
 *
 * A C extension rather than numba: it loads in a millisecond and adds no memory, where numba's
 * runtime costs ~0.7 s and ~115 MB per process before the first byte is parsed.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

enum { OK_CHUNK = 0, OK_END = 1, ERR_BYTE = 2, ERR_TOO_MANY = 3, ERR_EOF = 4, ERR_NUMBER = 5, ERR_CONTROL = 6,
       ERR_SPACE = 7 };

/* The longest run of whitespace accepted inside a section (V8 writes one newline at a time): a longer
 * run would be walked in one call, its pages resident until the call returns. ERR_SPACE at its start. */
#define MAX_WS_RUN (1 << 20)
#define IS_WS(c) ((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')
#define FNV_OFFSET 0xCBF29CE484222325ULL
#define FNV_PRIME 0x100000001B3ULL

/* Skip whitespace from i, but never more than MAX_WS_RUN + 1 bytes (so the caller can tell a run too long). */
static inline Py_ssize_t skip_ws_bounded(const unsigned char *p, Py_ssize_t i, Py_ssize_t end) {
    Py_ssize_t lim = end - i > MAX_WS_RUN + 1 ? i + MAX_WS_RUN + 1 : end;
    while (i < lim && IS_WS(p[i])) i++;
    return i;
}

/* Skip a run of whitespace that is longer than V8 writes (out of the parsing loop, so the loop stays tight). */
static Py_ssize_t __attribute__((noinline, cold)) skip_ws_cold(const unsigned char *p, Py_ssize_t i, Py_ssize_t end) {
    return skip_ws_bounded(p, i, end);
}

static int clamp_range(Py_ssize_t len, Py_ssize_t *a, Py_ssize_t *b) {
    if (*a < 0) *a = 0;
    if (*b > len) *b = len;
    if (*a > *b) *a = *b;
    return 0;
}

/* parse_uint_array(buf, pos, end, stop_hint, count, expected, nfields, slots, columns, sum_field)
 *   -> (status, pos, count, overflow_mask, field_sum)
 * Value number `count` goes to columns[slots[count % nfields]][count / nfields] (slot -1: dropped).
 * `columns` is a tuple of writable 1-D arrays of 1-, 4- or 8-byte unsigned integers; bit k of
 * overflow_mask says a value did not fit column k (it was stored truncated). */
enum { MAXF = 64 };

static PyObject *parse_uint_array(PyObject *self, PyObject *args) {
    Py_buffer buf, slots_b;
    Py_ssize_t pos, end, stop_hint, count, expected, nfields, sum_field;
    PyObject *columns;
    if (!PyArg_ParseTuple(args, "y*nnnnnny*O!n", &buf, &pos, &end, &stop_hint, &count, &expected, &nfields,
                          &slots_b, &PyTuple_Type, &columns, &sum_field))
        return NULL;
    int status = ERR_EOF;
    unsigned long long field_sum = 0, overflow = 0;
    const unsigned char *p = (const unsigned char *)buf.buf;
    const int64_t *slots = (const int64_t *)slots_b.buf;
    Py_ssize_t nslots = slots_b.len / (Py_ssize_t)sizeof(int64_t);
    Py_ssize_t ncols = PyTuple_GET_SIZE(columns);
    Py_buffer cols[MAXF];
    Py_ssize_t got = 0;
    if (nfields <= 0 || nfields > MAXF || nslots < nfields || ncols > MAXF) {
        PyErr_SetString(PyExc_ValueError, "parse_uint_array: bad field layout");
        goto fail;
    }
    for (; got < ncols; got++) {
        if (PyObject_GetBuffer(PyTuple_GET_ITEM(columns, got), &cols[got],
                               PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
            goto fail;
        Py_ssize_t isz = cols[got].itemsize;
        if (isz != 1 && isz != 4 && isz != 8) {
            got++;
            PyErr_SetString(PyExc_ValueError, "parse_uint_array: columns must hold 1, 4 or 8 byte integers");
            goto fail;
        }
    }
    clamp_range(buf.len, &pos, &end);
    /* Per field: where it goes (NULL: dropped), its width, its length, and its column number. */
    unsigned char *dst[MAXF];
    int width[MAXF], colno[MAXF];
    Py_ssize_t len[MAXF];
    for (Py_ssize_t f = 0; f < nfields; f++) {
        int64_t sl = slots[f];
        dst[f] = NULL; width[f] = 0; len[f] = 0; colno[f] = 0;
        if (sl >= 0 && sl < ncols) {
            dst[f] = (unsigned char *)cols[sl].buf;
            width[f] = (int)cols[sl].itemsize;
            len[f] = cols[sl].len / cols[sl].itemsize;
            colno[f] = (int)sl;
        }
    }
    Py_ssize_t i = pos;
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t field = count % nfields, row = count / nfields;
    i = skip_ws_bounded(p, i, end);
    if (i - pos > MAX_WS_RUN) { status = ERR_SPACE; i = pos; goto done; }
    if (i < end && p[i] == ']' && count == 0) { status = OK_END; i++; goto done; }
    for (;;) {
    top:
        if (i >= end) { status = ERR_EOF; goto done; }
        unsigned char c = p[i];
        unsigned d = (unsigned)c - '0';
        if (d >= 10) {
            if (IS_WS(c)) {
                if (__builtin_expect(i + 1 < end && IS_WS(p[i + 1]), 0)) goto ws_run;
                i++;
                continue;
            }
            status = ERR_BYTE; goto done;
        }
        Py_ssize_t start = i;
        unsigned long long v = d;
        i++;
        while (i < end) {
            d = (unsigned)p[i] - '0';
            if (d >= 10) break;
            v = v * 10 + d;
            i++;
        }
        if (i - start > 19) { status = ERR_NUMBER; i = start; goto done; }
        if (count >= expected) { status = ERR_TOO_MANY; i = start; goto done; }
        if (dst[field] && row < len[field]) {
            switch (width[field]) {
            case 1:
                ((uint8_t *)dst[field])[row] = (uint8_t)v;
                if (v > 0xFFu) overflow |= 1ULL << colno[field];
                break;
            case 4:
                ((uint32_t *)dst[field])[row] = (uint32_t)v;
                if (v > 0xFFFFFFFFu) overflow |= 1ULL << colno[field];
                break;
            default:
                ((uint64_t *)dst[field])[row] = v;
            }
        }
        if (field == sum_field) field_sum += v;
        count++;
        if (++field == nfields) { field = 0; row++; }
        if (i >= end) { status = ERR_EOF; goto done; }
        c = p[i];
        if (c == ',') {
            i++;
            if (i >= stop_hint) { status = OK_CHUNK; goto done; }
            continue;
        }
        while (IS_WS(c)) {
            if (++i >= end) { status = ERR_EOF; goto done; }
            c = p[i];
            if (c == ',') break;
            if (__builtin_expect(IS_WS(c), 0)) { i--; goto ws_value; }  /* the run starts a byte back */
        }
        if (c == ',') {
            i++;
            if (i >= stop_hint) { status = OK_CHUNK; goto done; }
        } else if (c == ']') {
            status = OK_END; i++; goto done;
        } else {
            status = ERR_BYTE; goto done;
        }
    }
ws_run:
    {   /* two or more whitespace bytes in a row (V8 writes one): at most MAX_WS_RUN of them */
        Py_ssize_t s = i;
        i = skip_ws_cold(p, i, end);
        if (i - s > MAX_WS_RUN) { status = ERR_SPACE; i = s; goto done; }
        goto top;
    }
ws_value:
    {   /* the same after a value: then a comma or the closing bracket */
        Py_ssize_t s = i;
        i = skip_ws_cold(p, i, end);
        if (i - s > MAX_WS_RUN) { status = ERR_SPACE; i = s; goto done; }
        if (i >= end) { status = ERR_EOF; goto done; }
        if (p[i] == ',') {
            i++;
            if (i >= stop_hint) { status = OK_CHUNK; goto done; }
            goto top;
        }
        if (p[i] == ']') { status = OK_END; i++; goto done; }
        status = ERR_BYTE; goto done;
    }
done:;
    Py_END_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < got; k++) PyBuffer_Release(&cols[k]);
    PyBuffer_Release(&buf); PyBuffer_Release(&slots_b);
    return Py_BuildValue("innKK", status, i, count, overflow, field_sum);
fail:
    for (Py_ssize_t k = 0; k < got; k++) PyBuffer_Release(&cols[k]);
    PyBuffer_Release(&buf); PyBuffer_Release(&slots_b);
    return NULL;
}

/* count_byte(buf, start, end, byte) -> int */
static PyObject *count_byte(PyObject *self, PyObject *args) {
    Py_buffer buf;
    Py_ssize_t a, b;
    int byte;
    if (!PyArg_ParseTuple(args, "y*nni", &buf, &a, &b, &byte)) return NULL;
    clamp_range(buf.len, &a, &b);
    const unsigned char *p = (const unsigned char *)buf.buf;
    Py_ssize_t n = 0;
    Py_BEGIN_ALLOW_THREADS
    const unsigned char x = (unsigned char)byte;
    for (Py_ssize_t i = a; i < b; i++) n += p[i] == x;
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&buf);
    return PyLong_FromSsize_t(n);
}

/* count_until_close(buf, start, end) -> (commas before the first ']', offset of that ']' or -1) */
static PyObject *count_until_close(PyObject *self, PyObject *args) {
    Py_buffer buf;
    Py_ssize_t a, b;
    if (!PyArg_ParseTuple(args, "y*nn", &buf, &a, &b)) return NULL;
    clamp_range(buf.len, &a, &b);
    const unsigned char *p = (const unsigned char *)buf.buf;
    Py_ssize_t commas = 0, close = -1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t blk = a; blk < b; blk += 4096) {
        Py_ssize_t e = blk + 4096 < b ? blk + 4096 : b;
        const unsigned char *q = memchr(p + blk, ']', (size_t)(e - blk));
        Py_ssize_t stop = q ? (Py_ssize_t)(q - p) : e;
        Py_ssize_t n = 0;
        for (Py_ssize_t i = blk; i < stop; i++) n += p[i] == ',';
        commas += n;
        if (q) { close = stop; break; }
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&buf);
    return Py_BuildValue("nn", commas, close);
}

/* skip_ws(buf, pos, end) -> first offset >= pos that is not JSON whitespace (end if none) */
static PyObject *skip_ws(PyObject *self, PyObject *args) {
    Py_buffer buf;
    Py_ssize_t a, b;
    if (!PyArg_ParseTuple(args, "y*nn", &buf, &a, &b)) return NULL;
    clamp_range(buf.len, &a, &b);
    const unsigned char *p = (const unsigned char *)buf.buf;
    Py_ssize_t i = a;
    Py_BEGIN_ALLOW_THREADS
    while (i < b && IS_WS(p[i])) i++;
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&buf);
    return PyLong_FromSsize_t(i);
}

/* skip_ws_back(buf, start, end) -> one past the last offset in [start, end) that is not JSON whitespace
 * (start if there is none) */
static PyObject *skip_ws_back(PyObject *self, PyObject *args) {
    Py_buffer buf;
    Py_ssize_t a, b;
    if (!PyArg_ParseTuple(args, "y*nn", &buf, &a, &b)) return NULL;
    clamp_range(buf.len, &a, &b);
    const unsigned char *p = (const unsigned char *)buf.buf;
    Py_ssize_t i = b;
    Py_BEGIN_ALLOW_THREADS
    while (i > a && IS_WS(p[i - 1])) i--;
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&buf);
    return PyLong_FromSsize_t(i);
}

/* find_byte(buf, start, end, byte) -> offset or -1 */
static PyObject *find_byte(PyObject *self, PyObject *args) {
    Py_buffer buf;
    Py_ssize_t a, b;
    int byte;
    if (!PyArg_ParseTuple(args, "y*nni", &buf, &a, &b, &byte)) return NULL;
    clamp_range(buf.len, &a, &b);
    Py_ssize_t r = -1;
    Py_BEGIN_ALLOW_THREADS
    const unsigned char *q = memchr((const unsigned char *)buf.buf + a, byte, (size_t)(b - a));
    if (q) r = (Py_ssize_t)(q - (const unsigned char *)buf.buf);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&buf);
    return PyLong_FromSsize_t(r);
}

/* scan_strings(buf, pos, end, stop_hint, count, starts:int64, lengths:uint32, flags:uint8, hashes:uint64)
 *   -> (status, pos, count). Indexes a JSON array of strings ('[' consumed): raw (escaped) offset and
 *   length of each, flags (1 = has escapes, 2 = non-ASCII) and the FNV-1a hash of the raw bytes. */
static PyObject *scan_strings(PyObject *self, PyObject *args) {
    Py_buffer buf, st_b, len_b, fl_b, h_b;
    Py_ssize_t pos, end, stop_hint, count;
    if (!PyArg_ParseTuple(args, "y*nnnnw*w*w*w*", &buf, &pos, &end, &stop_hint, &count, &st_b, &len_b, &fl_b, &h_b))
        return NULL;
    clamp_range(buf.len, &pos, &end);
    const unsigned char *p = (const unsigned char *)buf.buf;
    int64_t *starts = (int64_t *)st_b.buf;
    uint32_t *lengths = (uint32_t *)len_b.buf;
    uint8_t *flags = (uint8_t *)fl_b.buf;
    uint64_t *hashes = (uint64_t *)h_b.buf;
    Py_ssize_t cap = st_b.len / 8;
    if (len_b.len / 4 < cap) cap = len_b.len / 4;
    if (fl_b.len < cap) cap = fl_b.len;
    if (h_b.len / 8 < cap) cap = h_b.len / 8;
    int status = ERR_EOF;
    Py_ssize_t i = pos;
    Py_BEGIN_ALLOW_THREADS
    int first = count == 0;
    for (;;) {
        if (i < end && IS_WS(p[i]) && ++i < end && __builtin_expect(IS_WS(p[i]), 0)) {
            Py_ssize_t ws0 = i - 1;  /* more than the one newline V8 writes */
            i = skip_ws_cold(p, i, end);
            if (i - ws0 > MAX_WS_RUN) { status = ERR_SPACE; i = ws0; break; }
        }
        if (i >= end) { status = ERR_EOF; break; }
        unsigned char c = p[i];
        if (c == ']' && first) { status = OK_END; i++; break; }
        first = 0;
        if (c != '"') { status = ERR_BYTE; break; }
        i++;
        Py_ssize_t start = i;
        uint64_t h = FNV_OFFSET;
        uint8_t fl = 0;
        int closed = 0, ctl = 0;
        while (i < end) {
            c = p[i];
            if (c == '"') { closed = 1; break; }
            if (c < 32) { ctl = 1; break; }
            if (c == '\\') {
                fl |= 1;
                h = (h ^ c) * FNV_PRIME;
                if (++i >= end) break;
                c = p[i];
            } else if (c >= 128) {
                fl |= 2;
            }
            h = (h ^ c) * FNV_PRIME;
            i++;
        }
        if (ctl) { status = ERR_CONTROL; break; }
        if (!closed) { status = ERR_EOF; break; }
        if (count >= cap) { status = ERR_TOO_MANY; i = start - 1; break; }
        if (i - start > 0xFFFFFFFFLL) { status = ERR_BYTE; i = start; break; }
        starts[count] = start;
        lengths[count] = (uint32_t)(i - start);
        flags[count] = fl;
        hashes[count] = h;
        count++;
        i++;
        if (i < end && IS_WS(p[i]) && ++i < end && __builtin_expect(IS_WS(p[i]), 0)) {
            Py_ssize_t ws0 = i - 1;  /* more than the one newline V8 writes */
            i = skip_ws_cold(p, i, end);
            if (i - ws0 > MAX_WS_RUN) { status = ERR_SPACE; i = ws0; break; }
        }
        if (i >= end) { status = ERR_EOF; break; }
        c = p[i];
        if (c == ',') {
            i++;
            if (i >= stop_hint) { status = OK_CHUNK; break; }
        } else if (c == ']') {
            status = OK_END; i++; break;
        } else {
            status = ERR_BYTE; break;
        }
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&buf); PyBuffer_Release(&st_b); PyBuffer_Release(&len_b); PyBuffer_Release(&fl_b);
    PyBuffer_Release(&h_b);
    return Py_BuildValue("inn", status, i, count);
}

/* skip_value(buf, pos, end) -> (status, pos after one JSON value: any nesting, strings with escapes) */
static PyObject *skip_value(PyObject *self, PyObject *args) {
    Py_buffer buf;
    Py_ssize_t pos, end;
    if (!PyArg_ParseTuple(args, "y*nn", &buf, &pos, &end)) return NULL;
    clamp_range(buf.len, &pos, &end);
    const unsigned char *p = (const unsigned char *)buf.buf;
    int status = ERR_EOF;
    Py_ssize_t i = pos;
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t depth = 0;
    while (i < end) {
        unsigned char c = p[i];
        if (c == '"') {
            i++;
            while (i < end) {
                c = p[i];
                if (c == '\\') { i += 2; continue; }
                if (c == '"') break;
                i++;
            }
            if (i >= end) { status = ERR_EOF; break; }
            i++;
            if (depth == 0) { status = OK_END; break; }
            continue;
        }
        if (c == '[' || c == '{') {
            depth++;
        } else if (c == ']' || c == '}') {
            if (--depth < 0) { status = ERR_BYTE; break; }
            if (depth == 0) { status = OK_END; i++; break; }
        } else if (IS_WS(c)) {
            if (depth == 0 && i > pos) { status = OK_END; break; }
            Py_ssize_t s = i;
            i = skip_ws_bounded(p, i, end);
            if (i - s > MAX_WS_RUN) { status = ERR_SPACE; i = s; break; }
            continue;
        } else if (depth == 0 && c == ',') {
            if (i > pos) { status = OK_END; break; }
        }
        i++;
    }
    if (i > end) i = end;
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&buf);
    return Py_BuildValue("in", status, i);
}

/* fnv1a(bytes) -> the hash scan_strings computes */
static PyObject *fnv1a(PyObject *self, PyObject *args) {
    Py_buffer buf;
    if (!PyArg_ParseTuple(args, "y*", &buf)) return NULL;
    const unsigned char *p = (const unsigned char *)buf.buf;
    uint64_t h = FNV_OFFSET;
    for (Py_ssize_t i = 0; i < buf.len; i++) h = (h ^ p[i]) * FNV_PRIME;
    PyBuffer_Release(&buf);
    return PyLong_FromUnsignedLongLong(h);
}

/* Grouping nodes by (type, name) without hashing or sorting, in three passes over name-indexed
 * arrays: the set of types each name occurs with (a bit mask), a dense slot per (name, type) from
 * prefix sums of the mask popcounts, then the sums. */

/* group_masks(types:uint8, names:uint32, masks:uint32[nstrings]) -> 0, or -1 if a name or type is out of range */
static PyObject *group_masks(PyObject *self, PyObject *args) {
    Py_buffer t_b, n_b, m_b;
    if (!PyArg_ParseTuple(args, "y*y*w*", &t_b, &n_b, &m_b)) return NULL;
    const uint8_t *t = (const uint8_t *)t_b.buf;
    const uint32_t *n = (const uint32_t *)n_b.buf;
    uint32_t *m = (uint32_t *)m_b.buf;
    Py_ssize_t count = t_b.len < n_b.len / 4 ? t_b.len : n_b.len / 4;
    Py_ssize_t ns = m_b.len / 4;
    int bad = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < count; k++) {
        uint32_t s = n[k];
        uint8_t ty = t[k];
        if ((Py_ssize_t)s >= ns || ty >= 32) { bad = 1; break; }
        m[s] |= 1u << ty;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&t_b); PyBuffer_Release(&n_b); PyBuffer_Release(&m_b);
    return PyLong_FromLong(bad ? -1 : 0);
}

/* group_fill(masks:uint32, base:int64[nstrings+1], pair_type:uint8, pair_name:uint32) */
static PyObject *group_fill(PyObject *self, PyObject *args) {
    Py_buffer m_b, b_b, pt_b, pn_b;
    if (!PyArg_ParseTuple(args, "y*y*w*w*", &m_b, &b_b, &pt_b, &pn_b)) return NULL;
    const uint32_t *m = (const uint32_t *)m_b.buf;
    const int64_t *base = (const int64_t *)b_b.buf;
    uint8_t *pt = (uint8_t *)pt_b.buf;
    uint32_t *pn = (uint32_t *)pn_b.buf;
    Py_ssize_t ns = m_b.len / 4;
    Py_ssize_t total = pt_b.len < pn_b.len / 4 ? pt_b.len : pn_b.len / 4;
    if (b_b.len / 8 < ns + 1) ns = b_b.len / 8 - 1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t s = 0; s < ns; s++) {
        int64_t j = base[s];
        uint32_t mm = m[s];
        for (int ty = 0; mm && ty < 32; ty++) {
            if (mm & (1u << ty)) {
                if (j >= 0 && j < total) { pt[j] = (uint8_t)ty; pn[j] = (uint32_t)s; }
                j++;
                mm &= ~(1u << ty);
            }
        }
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&m_b); PyBuffer_Release(&b_b); PyBuffer_Release(&pt_b); PyBuffer_Release(&pn_b);
    Py_RETURN_NONE;
}

/* group_sums(types, names, sizes, size_itemsize, masks, base, pair_count:int64, pair_size:int64) */
static PyObject *group_sums(PyObject *self, PyObject *args) {
    Py_buffer t_b, n_b, z_b, m_b, b_b, c_b, s_b;
    Py_ssize_t zsize;
    if (!PyArg_ParseTuple(args, "y*y*y*ny*y*w*w*", &t_b, &n_b, &z_b, &zsize, &m_b, &b_b, &c_b, &s_b)) return NULL;
    const uint8_t *t = (const uint8_t *)t_b.buf;
    const uint32_t *n = (const uint32_t *)n_b.buf;
    const uint32_t *z32 = (const uint32_t *)z_b.buf;
    const uint64_t *z64 = (const uint64_t *)z_b.buf;
    const uint32_t *m = (const uint32_t *)m_b.buf;
    const int64_t *base = (const int64_t *)b_b.buf;
    int64_t *pc = (int64_t *)c_b.buf;
    int64_t *ps = (int64_t *)s_b.buf;
    Py_ssize_t count = t_b.len;
    if (n_b.len / 4 < count) count = n_b.len / 4;
    if (zsize != 4 && zsize != 8) zsize = 4;
    if (z_b.len / zsize < count) count = z_b.len / zsize;
    Py_ssize_t ns = m_b.len / 4;
    Py_ssize_t total = c_b.len / 8 < s_b.len / 8 ? c_b.len / 8 : s_b.len / 8;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < count; k++) {
        uint32_t s = n[k];
        uint8_t ty = t[k];
        if ((Py_ssize_t)s >= ns || ty >= 32) continue;
        int64_t j = base[s] + __builtin_popcount(m[s] & ((1u << ty) - 1u));
        if (j < 0 || j >= total) continue;
        pc[j] += 1;
        ps[j] += (int64_t)(zsize == 4 ? z32[k] : z64[k]);
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&t_b); PyBuffer_Release(&n_b); PyBuffer_Release(&z_b); PyBuffer_Release(&m_b);
    PyBuffer_Release(&b_b); PyBuffer_Release(&c_b); PyBuffer_Release(&s_b);
    Py_RETURN_NONE;
}

/* first_at_least(col, limit) -> index of the first value >= limit, or -1 (1/4/8-byte columns) */
static PyObject *first_at_least(PyObject *self, PyObject *args) {
    PyObject *obj;
    unsigned long long limit;
    if (!PyArg_ParseTuple(args, "OK", &obj, &limit)) return NULL;
    Py_buffer b;
    if (PyObject_GetBuffer(obj, &b, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return NULL;
    Py_ssize_t isz = b.itemsize, n = isz > 0 ? b.len / isz : 0, r = -1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < n; k++) {
        unsigned long long v = isz == 1 ? ((const uint8_t *)b.buf)[k]
                             : isz == 4 ? ((const uint32_t *)b.buf)[k] : ((const uint64_t *)b.buf)[k];
        if (v >= limit) { r = k; break; }
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&b);
    return PyLong_FromSsize_t(r);
}

/* edge_targets(to, nfields, node_count) -> (index of the first bad edge or -1, reason)
 * Turns node-array offsets into ordinals in place; reason 1 = not a multiple of nfields, 2 = past
 * the last node. 4- or 8-byte column. */
static PyObject *edge_targets(PyObject *self, PyObject *args) {
    PyObject *obj;
    Py_ssize_t nf, count;
    if (!PyArg_ParseTuple(args, "Onn", &obj, &nf, &count)) return NULL;
    if (nf <= 0) { PyErr_SetString(PyExc_ValueError, "edge_targets: nfields must be positive"); return NULL; }
    Py_buffer b;
    if (PyObject_GetBuffer(obj, &b, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return NULL;
    Py_ssize_t isz = b.itemsize, n = isz > 0 ? b.len / isz : 0, bad = -1;
    int reason = 0;
    Py_BEGIN_ALLOW_THREADS
    unsigned long long f = (unsigned long long)nf, c = (unsigned long long)count;
    for (Py_ssize_t k = 0; k < n; k++) {
        unsigned long long v = isz == 4 ? ((uint32_t *)b.buf)[k] : ((uint64_t *)b.buf)[k];
        unsigned long long q = v / f;
        if (q * f != v) { bad = k; reason = 1; break; }
        if (q >= c) { bad = k; reason = 2; break; }
        if (isz == 4) ((uint32_t *)b.buf)[k] = (uint32_t)q; else ((uint64_t *)b.buf)[k] = q;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&b);
    return Py_BuildValue("ni", bad, reason);
}

/* named_edges_in_range(types:uint8, names, named:uint8[ntypes], nstrings) -> first edge whose type
 * names a string (named[type] != 0) and whose name index is >= nstrings, or -1 */
static PyObject *named_edges_in_range(PyObject *self, PyObject *args) {
    PyObject *tobj, *nobj;
    Py_buffer mk;
    unsigned long long nstrings;
    if (!PyArg_ParseTuple(args, "OOy*K", &tobj, &nobj, &mk, &nstrings)) return NULL;
    Py_buffer tb, nb;
    if (PyObject_GetBuffer(tobj, &tb, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) { PyBuffer_Release(&mk); return NULL; }
    if (PyObject_GetBuffer(nobj, &nb, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyBuffer_Release(&mk); PyBuffer_Release(&tb); return NULL;
    }
    Py_ssize_t n = tb.len, nsz = nb.itemsize, r = -1;
    if (nsz > 0 && nb.len / nsz < n) n = nb.len / nsz;
    Py_BEGIN_ALLOW_THREADS
    const uint8_t *t = (const uint8_t *)tb.buf;
    const uint8_t *named = (const uint8_t *)mk.buf;
    for (Py_ssize_t k = 0; k < n; k++) {
        if (t[k] >= mk.len || !named[t[k]]) continue;
        unsigned long long v = nsz == 4 ? ((const uint32_t *)nb.buf)[k] : ((const uint64_t *)nb.buf)[k];
        if (v >= nstrings) { r = k; break; }
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&mk); PyBuffer_Release(&tb); PyBuffer_Release(&nb);
    return PyLong_FromSsize_t(r);
}

/* node_class_ids(ntype:uint8, nname:uint32, per_type:int64[ntypes], out:uint32, used:uint8[nstrings]) -> 0 or -1
 * DevTools class id per node: per_type[t] for types with a fixed label, else the name's string index
 * (and the name is marked used). -1: a type or name index is out of range. */
static PyObject *node_class_ids(PyObject *self, PyObject *args) {
    Py_buffer tb, nb, pb, ob, ub;
    if (!PyArg_ParseTuple(args, "y*y*y*w*w*", &tb, &nb, &pb, &ob, &ub)) return NULL;
    const uint8_t *t = (const uint8_t *)tb.buf;
    const uint32_t *nm = (const uint32_t *)nb.buf;
    const int64_t *per = (const int64_t *)pb.buf;
    uint32_t *out = (uint32_t *)ob.buf;
    uint8_t *used = (uint8_t *)ub.buf;
    Py_ssize_t n = tb.len, ntypes = pb.len / 8, nstr = ub.len;
    if (nb.len / 4 < n) n = nb.len / 4;
    if (ob.len / 4 < n) n = ob.len / 4;
    int bad = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < n; k++) {
        if (t[k] >= ntypes) { bad = 1; break; }
        int64_t c = per[t[k]];
        if (c < 0) {
            uint32_t s = nm[k];
            if ((Py_ssize_t)s >= nstr) { bad = 1; break; }
            out[k] = s;
            used[s] = 1;
        } else {
            out[k] = (uint32_t)c;
        }
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&tb); PyBuffer_Release(&nb); PyBuffer_Release(&pb); PyBuffer_Release(&ob); PyBuffer_Release(&ub);
    return PyLong_FromLong(bad ? -1 : 0);
}

/* remap_ids(ids:uint32, ntype:uint8, per_type:int64, remap:int64[nstrings]): ids[k] = remap[ids[k]]
 * for named nodes whose name has a remap entry (>= 0) */
static PyObject *remap_ids(PyObject *self, PyObject *args) {
    Py_buffer ib, tb, pb, rb;
    if (!PyArg_ParseTuple(args, "w*y*y*y*", &ib, &tb, &pb, &rb)) return NULL;
    uint32_t *ids = (uint32_t *)ib.buf;
    const uint8_t *t = (const uint8_t *)tb.buf;
    const int64_t *per = (const int64_t *)pb.buf;
    const int64_t *remap = (const int64_t *)rb.buf;
    Py_ssize_t n = ib.len / 4, ntypes = pb.len / 8, nr = rb.len / 8;
    if (tb.len < n) n = tb.len;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < n; k++) {
        if (t[k] < ntypes && per[t[k]] < 0 && (Py_ssize_t)ids[k] < nr) {
            int64_t r = remap[ids[k]];
            if (r >= 0) ids[k] = (uint32_t)r;
        }
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&ib); PyBuffer_Release(&tb); PyBuffer_Release(&pb); PyBuffer_Release(&rb);
    Py_RETURN_NONE;
}


/* ============================================================================================
 * Graph kernels (heaplens.graph): CSR, DevTools' essential edges, Lengauer–Tarjan dominators,
 * retained sizes, distances, retaining paths. Node references are ordinals (0 = the synthetic
 * root); first[k]:first[k+1] are node k's edges. Arrays come from heaplens.graph.kernels, which
 * checks their dtypes and lengths; outputs are allocated there too (numpy), scratch here (malloc).
 * "sizes" arrays are uint32 or uint64 (the width is passed along).
 * ============================================================================================ */

#define NBUF 24
typedef struct { Py_buffer b[NBUF]; int n; } Bufs;
static void bufs_release(Bufs *B) { for (int i = 0; i < B->n; i++) PyBuffer_Release(&B->b[i]); B->n = 0; }
#define U32(i) ((uint32_t *)B.b[i].buf)
#define U8(i) ((uint8_t *)B.b[i].buf)
#define I64(i) ((int64_t *)B.b[i].buf)
#define I32(i) ((int32_t *)B.b[i].buf)
#define U64(i) ((uint64_t *)B.b[i].buf)
#define F64(i) ((double *)B.b[i].buf)
#define LEN(i, sz) ((Py_ssize_t)(B.b[i].len / (sz)))
#define SIZE_AT(p, w, i) ((w) == 4 ? (uint64_t)((const uint32_t *)(p))[i] : ((const uint64_t *)(p))[i])

static PyObject *no_memory(Bufs *B) { bufs_release(B); return PyErr_NoMemory(); }

/* g_first_edges(edge_count:u32, out:u32[n+1]) -> total */
static PyObject *g_first_edges(PyObject *self, PyObject *args) {
    Bufs B = {.n = 2};
    if (!PyArg_ParseTuple(args, "y*w*", &B.b[0], &B.b[1])) return NULL;
    const uint32_t *ec = U32(0);
    uint32_t *out = U32(1);
    Py_ssize_t n = LEN(0, 4);
    unsigned long long s = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < n; k++) { out[k] = (uint32_t)s; s += ec[k]; }
    out[n] = (uint32_t)s;
    Py_END_ALLOW_THREADS
    bufs_release(&B);
    return PyLong_FromUnsignedLongLong(s);
}

/* g_mark_page_owned(first, etype, to, starts:u32, weak_t, flags:u8[n] zeroed) */
static PyObject *g_mark_page_owned(PyObject *self, PyObject *args) {
    Bufs B = {.n = 5};
    int weak_t;
    if (!PyArg_ParseTuple(args, "y*y*y*y*iw*", &B.b[0], &B.b[1], &B.b[2], &B.b[3], &weak_t, &B.b[4])) return NULL;
    const uint32_t *first = U32(0), *to = U32(2), *starts = U32(3);
    const uint8_t *et = U8(1);
    uint8_t *flags = U8(4);
    Py_ssize_t n = LEN(0, 4) - 1, ns = LEN(3, 4);
    uint32_t *stack = malloc(sizeof(uint32_t) * (size_t)(n + 1));
    if (!stack) return no_memory(&B);
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t sp = 0;
    for (Py_ssize_t i = 0; i < ns; i++) {
        uint32_t s = starts[i];
        if (!flags[s]) { flags[s] = 1; stack[sp++] = s; }
    }
    while (sp > 0) {
        uint32_t v = stack[--sp];
        for (uint64_t e = first[v], end = first[v + 1]; e < end; e++) {
            uint32_t w = to[e];
            if (flags[w] || et[e] == weak_t) continue;
            flags[w] = 1;
            stack[sp++] = w;
        }
    }
    Py_END_ALLOW_THREADS
    free(stack);
    bufs_release(&B);
    Py_RETURN_NONE;
}

/* g_essential(first, etype, ename:u32, to, ids:u32, page:u8, eph_table:i64, internal_t, weak_t, shortcut_t,
 *             root, out:u8[m] zeroed, rfirst:u32[n+1] zeroed or empty) -> number of essential edges
 * DevTools isEssentialEdge as a byte mask; with rfirst, also the retainer offsets (prefix sums). */
static PyObject *g_essential(PyObject *self, PyObject *args) {
    Bufs B = {.n = 9};
    int internal_t, weak_t, shortcut_t;
    Py_ssize_t root;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*iiinw*w*", &B.b[0], &B.b[1], &B.b[2], &B.b[3], &B.b[4], &B.b[5],
                          &B.b[6], &internal_t, &weak_t, &shortcut_t, &root, &B.b[7], &B.b[8]))
        return NULL;
    const uint32_t *first = U32(0), *ename = U32(2), *to = U32(3), *ids = U32(4);
    const uint8_t *et = U8(1), *page = U8(5);
    const int64_t *eph = I64(6);
    uint8_t *out = U8(7);
    uint32_t *rfirst = U32(8);
    Py_ssize_t n = LEN(0, 4) - 1;
    int has_eph = LEN(6, 8) > 1, count = LEN(8, 4) > 0;
    uint64_t total = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t v = 0; v < n; v++) {
        uint8_t pv = page[v];
        for (uint64_t e = first[v], end = first[v + 1]; e < end; e++) {
            int t = et[e];
            if (t == weak_t) continue;
            if (t == internal_t && has_eph) {
                int64_t tid = eph[ename[e]];
                if (tid >= 0 && tid == (int64_t)ids[v]) continue;
            }
            uint32_t w = to[e];
            if ((Py_ssize_t)w == v) continue;
            if (v != root) {
                if (t == shortcut_t) continue;
                if (page[w] && !pv) continue;
            }
            out[e] = 1;
            total++;
            if (count) rfirst[w + 1]++;
        }
    }
    if (count)
        for (Py_ssize_t k = 0; k < n; k++) rfirst[k + 1] += rfirst[k];
    Py_END_ALLOW_THREADS
    bufs_release(&B);
    return PyLong_FromUnsignedLongLong(total);
}

/* g_reverse_count(to, ess:u8 (empty = all edges), rfirst:u32[n+1] zeroed) -> total */
static PyObject *g_reverse_count(PyObject *self, PyObject *args) {
    Bufs B = {.n = 3};
    if (!PyArg_ParseTuple(args, "y*y*w*", &B.b[0], &B.b[1], &B.b[2])) return NULL;
    const uint32_t *to = U32(0);
    const uint8_t *ess = U8(1);
    uint32_t *rfirst = U32(2);
    Py_ssize_t m = LEN(0, 4), n = LEN(2, 4) - 1;
    int every = LEN(1, 1) == 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t e = 0; e < m; e++)
        if (every || ess[e]) rfirst[to[e] + 1]++;
    for (Py_ssize_t k = 0; k < n; k++) rfirst[k + 1] += rfirst[k];
    Py_END_ALLOW_THREADS
    uint64_t total = rfirst[n];
    bufs_release(&B);
    return PyLong_FromUnsignedLongLong(total);
}

/* g_reverse_fill(first, to, ess (empty = all), rfirst, out:u32, store_edge, vnum:u32[n+1] or empty)
 * out gets, per target in edge order, the source ordinal (its DFS number vnum[ordinal + 1] when vnum
 * is given; the edge index with store_edge); rfirst is the fill cursor and is restored. */
static PyObject *g_reverse_fill(PyObject *self, PyObject *args) {
    Bufs B = {.n = 6};
    int store_edge;
    if (!PyArg_ParseTuple(args, "y*y*y*w*w*py*", &B.b[0], &B.b[1], &B.b[2], &B.b[3], &B.b[4], &store_edge,
                          &B.b[5]))
        return NULL;
    const uint32_t *first = U32(0), *to = U32(1), *vnum = U32(5);
    const uint8_t *ess = U8(2);
    uint32_t *rfirst = U32(3), *out = U32(4);
    Py_ssize_t n = LEN(0, 4) - 1;
    int every = LEN(2, 1) == 0, numbered = LEN(5, 4) > n;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t v = 0; v < n; v++) {
        /* the source as stored: edge index, DFS number (vnum[ordinal + 1]) or ordinal */
        uint32_t src = numbered ? vnum[v + 1] : (uint32_t)v;
        for (uint64_t e = first[v], end = first[v + 1]; e < end; e++) {
            if (every || ess[e]) {
                uint32_t w = to[e];
                out[rfirst[w]++] = store_edge ? (uint32_t)e : src;
            }
        }
    }
    for (Py_ssize_t k = n; k > 0; k--) rfirst[k] = rfirst[k - 1];
    rfirst[0] = 0;
    Py_END_ALLOW_THREADS
    bufs_release(&B);
    Py_RETURN_NONE;
}

/* g_adjusted_sizes(first, ntype, nname, etype, to, sizes:u32|u64 (in place), width, owned_mask:u8[ntypes],
 *                  native_t, ext_string_s, weak_t, synthetic_t, root) -> 1, or 0 if a sum overflowed
 * DevTools calculateShallowSizes (see heaplens.graph.kernels.adjusted_self_sizes). */
static PyObject *g_adjusted_sizes(PyObject *self, PyObject *args) {
    Bufs B = {.n = 7};
    int width, native_t, weak_t, synthetic_t;
    long long ext_s;
    Py_ssize_t root;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*w*iy*iLiin", &B.b[0], &B.b[1], &B.b[2], &B.b[3], &B.b[4], &B.b[5],
                          &width, &B.b[6], &native_t, &ext_s, &weak_t, &synthetic_t, &root))
        return NULL;
    const uint32_t *first = U32(0), *nname = U32(2), *to = U32(4);
    const uint8_t *ntype = U8(1), *et = U8(3), *owned = U8(6);
    void *sizes = B.b[5].buf;
    Py_ssize_t n = LEN(0, 4) - 1, ntypes = LEN(6, 1);
    const uint32_t UNVISITED = 0xFFFFFFFFu, MULTI = 0xFFFFFFFEu;
    uint32_t *owners = malloc(sizeof(uint32_t) * (size_t)(n + 1));
    size_t cap = (size_t)n / 4 + 1024;
    uint32_t *work = malloc(sizeof(uint32_t) * cap);
    if (!owners || !work) { free(owners); free(work); return no_memory(&B); }
    int ok = 1;
    Py_BEGIN_ALLOW_THREADS
    size_t sp = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int t = ntype[i];
        int is_owned = (t < ntypes && owned[t]) || (t == native_t && (long long)nname[i] == ext_s);
        owners[i] = is_owned ? UNVISITED : (uint32_t)i;
    }
    for (Py_ssize_t start = 0; start < n && ok; start++) {
        if (owners[start] != (uint32_t)start) continue;
        uint32_t v0 = (uint32_t)start;
        for (;;) {
            uint32_t owner = owners[v0];
            for (uint64_t e = first[v0], end = first[v0 + 1]; e < end; e++) {
                if (et[e] == weak_t) continue;
                uint32_t w = to[e], o = owners[w];
                int push = 0;
                if (o == UNVISITED) { owners[w] = owner; push = 1; }
                else if (o == w || o == owner || o == MULTI) {}
                else { owners[w] = MULTI; push = 1; }
                if (push) {
                    if (sp == cap) {
                        uint32_t *bigger = realloc(work, sizeof(uint32_t) * cap * 2);
                        if (!bigger) { ok = -1; break; }
                        work = bigger;
                        cap *= 2;
                    }
                    work[sp++] = w;
                }
            }
            if (ok < 0 || sp == 0) break;
            v0 = work[--sp];
        }
    }
    if (ok > 0) {
        uint64_t limit = width == 4 ? 0xFFFFFFFFull : 0xFFFFFFFFFFFFFFFFull;
        for (Py_ssize_t i = 0; i < n; i++) {
            uint32_t o = owners[i];
            if (o == UNVISITED || o == MULTI || o == (uint32_t)i) continue;
            if (ntype[o] == synthetic_t || (Py_ssize_t)o == root) continue;
            uint64_t so = SIZE_AT(sizes, width, o), si = SIZE_AT(sizes, width, i);
            if (so + si < so || so + si > limit) { ok = 0; break; }
            if (width == 4) { ((uint32_t *)sizes)[o] = (uint32_t)(so + si); ((uint32_t *)sizes)[i] = 0; }
            else { ((uint64_t *)sizes)[o] = so + si; ((uint64_t *)sizes)[i] = 0; }
        }
    }
    Py_END_ALLOW_THREADS
    free(owners);
    free(work);
    if (ok < 0) return no_memory(&B);
    bufs_release(&B);
    return PyBool_FromLong(ok);
}

/* Iterative DFS over essential edges from r; vertices are ordinal + 1 (0 = none). */
static uint32_t lt_dfs(uint32_t r, const uint32_t *first, const uint32_t *to, const uint8_t *ess, uint32_t *semi,
                       uint32_t *vertex, uint32_t *parent, uint32_t *next_edge, uint32_t n) {
    next_edge[r - 1] = first[r - 1];
    uint32_t v = r;
    while (v != 0) {
        if (semi[v] == 0) { n++; semi[v] = n; vertex[n] = v; }
        uint32_t v_next = parent[v], vo = v - 1;
        uint64_t end = first[vo + 1], e = next_edge[vo];
        for (; e < end; e++) {
            if (ess[e]) {
                uint32_t w = to[e] + 1;
                if (semi[w] == 0) {
                    parent[w] = v;
                    next_edge[w - 1] = first[w - 1];
                    v_next = w;
                    break;
                }
            }
        }
        next_edge[vo] = (uint32_t)e;
        v = v_next;
    }
    return n;
}

/* g_dominators_dfs(first, to, ess, root, rfirst, parent, vertex, semi, scratch (all u32[n+1], the first
 *                  three zeroed)) -> (n, n_weak_only, n_unreachable)
 * DFS numbering from the root, then from nodes with only non-essential retainers, then the rest
 * directly under the root (DevTools). */
static PyObject *g_dominators_dfs(PyObject *self, PyObject *args) {
    Bufs B = {.n = 8};
    Py_ssize_t root;
    if (!PyArg_ParseTuple(args, "y*y*y*ny*w*w*w*w*", &B.b[0], &B.b[1], &B.b[2], &root, &B.b[3], &B.b[4],
                          &B.b[5], &B.b[6], &B.b[7]))
        return NULL;
    const uint32_t *first = U32(0), *to = U32(1), *rfirst = U32(3);
    const uint8_t *ess = U8(2);
    uint32_t *parent = U32(4), *vertex = U32(5), *semi = U32(6), *scratch = U32(7);
    uint32_t N = (uint32_t)(LEN(0, 4) - 1), r = (uint32_t)root + 1, n, n_weak_only = 0, n_unreachable = 0;
    Py_BEGIN_ALLOW_THREADS
    n = lt_dfs(r, first, to, ess, semi, vertex, parent, scratch, 0);
    if (n < N) {
        uint32_t before = n;
        for (uint32_t v = 1; v <= N; v++) {
            if (semi[v] != 0) continue;
            if (rfirst[v - 1] == rfirst[v]) {
                parent[v] = r;
                n = lt_dfs(v, first, to, ess, semi, vertex, parent, scratch, n);
            }
        }
        n_weak_only = n - before;
    }
    if (n < N) {
        for (uint32_t v = 1; v <= N; v++) {
            if (semi[v] == 0) {
                parent[v] = r;
                n++;
                semi[v] = n; vertex[n] = v;
                n_unreachable++;
            }
        }
    }
    Py_END_ALLOW_THREADS
    bufs_release(&B);
    return Py_BuildValue("III", n, n_weak_only, n_unreachable);
}

/* eval with path compression (DevTools' eval/compress), on DFS numbers. DevTools keeps a separate
 * ancestor array (0 = not linked yet); here the vertices linked so far are exactly the numbers
 * >= lo (they are linked in decreasing order), so one array `anc` serves as the DFS parent of the
 * unlinked vertices and as the forest ancestor of the linked ones. */
static inline uint32_t lt_eval(uint32_t v, uint32_t lo, uint32_t *anc, uint32_t *label, const uint32_t *semi,
                               uint32_t **stackp, size_t *capp, int *oom) {
    if (v < lo) return v;
    if (anc[v] >= lo) {
        uint32_t *stack = *stackp;
        size_t sp = 0;
        uint32_t x = v;
        while (anc[x] >= lo) { /* DevTools: ancestor[ancestor[x]] != 0 */
            sp++;
            if (sp == *capp) {
                uint32_t *bigger = realloc(stack, sizeof(uint32_t) * *capp * 2);
                if (!bigger) { *oom = 1; return v; }
                stack = bigger;
                *stackp = bigger;
                *capp *= 2;
            }
            stack[sp] = x;
            x = anc[x];
        }
        while (sp > 0) {
            uint32_t y = stack[sp--], ay = anc[y];
            if (semi[label[ay]] < semi[label[y]]) label[y] = label[ay];
            anc[y] = anc[ay];
        }
    }
    return label[v];
}

/* g_dominators_main(rfirst, rsrc (overwritten), parent, vertex, label, semi, scratch, bucket_next (zeroed), n,
 *                   numbered: rsrc already holds DFS numbers)
 * Semidominators, buckets, immediate dominators, on DFS numbers (the same steps as DevTools).
 * Afterwards label[:N] holds the immediate dominator of every node and vertex[:N] the nodes in
 * DFS order (ordinals); parent, semi and scratch are garbage. */
static PyObject *g_dominators_main(PyObject *self, PyObject *args) {
    Bufs B = {.n = 8};
    unsigned int n_arg;
    int numbered;
    if (!PyArg_ParseTuple(args, "y*w*w*w*w*w*w*w*Ip", &B.b[0], &B.b[1], &B.b[2], &B.b[3], &B.b[4], &B.b[5],
                          &B.b[6], &B.b[7], &n_arg, &numbered))
        return NULL;
    const uint32_t *rfirst = U32(0);
    uint32_t *rsrc = U32(1), *parent = U32(2), *vertex = U32(3), *label = U32(4), *semi = U32(5);
    uint32_t *scratch = U32(6), *bucket_next = U32(7);
    Py_ssize_t L = LEN(2, 4), N = L - 1, nr = LEN(1, 4);
    uint32_t n = n_arg;
    size_t cap = 4096;
    uint32_t *stack = malloc(sizeof(uint32_t) * cap);
    if (!stack) return no_memory(&B);
    int oom = 0;
    Py_BEGIN_ALLOW_THREADS
    uint32_t *vnum = semi; /* vertex -> DFS number */
    if (!numbered) /* sources to DFS numbers (done by g_reverse_fill when it got vnum) */
        for (Py_ssize_t j = 0; j < nr; j++) rsrc[j] = vnum[rsrc[j] + 1];
    uint32_t *anc = scratch; /* the DFS parent by number; the forest ancestor once linked */
    anc[0] = 0;
    for (uint32_t i = 1; i <= n; i++) anc[i] = vnum[parent[vertex[i]]];
    for (Py_ssize_t i = n + 1; i < L; i++) anc[i] = 0;
    uint32_t *bucket_head = parent; /* parent is no longer needed */
    uint32_t *semi_n = semi, *label_n = label, *dom = bucket_next;
    for (Py_ssize_t i = 0; i < L; i++) { semi_n[i] = (uint32_t)i; label_n[i] = (uint32_t)i; bucket_head[i] = 0; }
    for (uint32_t w = n; w > 1 && !oom; w--) {
        uint32_t wo = vertex[w] - 1;
        int orphan = 1;
        uint32_t sw = semi_n[w];
        for (uint64_t j = rfirst[wo], end = rfirst[wo + 1]; j < end; j++) {
            orphan = 0;
            uint32_t u = lt_eval(rsrc[j], w + 1, anc, label_n, semi_n, &stack, &cap, &oom);
            if (semi_n[u] < sw) sw = semi_n[u];
        }
        semi_n[w] = orphan ? 1 : sw;
        uint32_t b = semi_n[w];
        bucket_next[w] = bucket_head[b];
        bucket_head[b] = w;
        uint32_t pw = anc[w]; /* w is not linked yet: its DFS parent */
        /* link(pw, w): anc[w] already is pw; w is linked from now on (lo = w) */
        uint32_t v = bucket_head[pw];
        bucket_head[pw] = 0;
        while (v != 0) {
            uint32_t nxt = bucket_next[v];
            uint32_t u = lt_eval(v, w, anc, label_n, semi_n, &stack, &cap, &oom);
            dom[v] = semi_n[u] < semi_n[v] ? u : pw;
            v = nxt;
        }
    }
    if (!oom) {
        /* numbers never taken out of a bucket keep dom = 0 (DevTools: undefined -> the root) */
        for (Py_ssize_t x = 0; x < L; x++) {
            uint32_t v = bucket_head[x];
            while (v != 0) { uint32_t nxt = bucket_next[v]; dom[v] = 0; v = nxt; }
        }
        dom[0] = 1;
        dom[1] = 1;
        for (uint32_t i = 2; i <= n; i++)
            if (dom[i] != semi_n[i]) dom[i] = dom[dom[i]];
        uint32_t *out = label_n;
        for (uint32_t i = 1; i <= n; i++) out[vertex[i] - 1] = vertex[dom[i]] - 1;
        for (Py_ssize_t i = 0; i < N; i++) vertex[i] = vertex[i + 1] - 1;
    }
    Py_END_ALLOW_THREADS
    free(stack);
    if (oom) return no_memory(&B);
    bufs_release(&B);
    Py_RETURN_NONE;
}

/* g_retained_sizes(dom, order, sizes, width, out:f64[n]) — sizes summed up the tree, reverse DFS order */
static PyObject *g_retained_sizes(PyObject *self, PyObject *args) {
    Bufs B = {.n = 4};
    int width;
    if (!PyArg_ParseTuple(args, "y*y*y*iw*", &B.b[0], &B.b[1], &B.b[2], &width, &B.b[3])) return NULL;
    const uint32_t *dom = U32(0), *order = U32(1);
    const void *sizes = B.b[2].buf;
    double *ret = F64(3);
    Py_ssize_t N = LEN(0, 4);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < N; k++) ret[k] = (double)SIZE_AT(sizes, width, k);
    for (Py_ssize_t i = N - 1; i > 0; i--) { uint32_t k = order[i]; ret[dom[k]] += ret[k]; }
    Py_END_ALLOW_THREADS
    bufs_release(&B);
    Py_RETURN_NONE;
}

/* g_dominated_csr(dom, root, cfirst:u32[n+1] zeroed, kids:u32[n-1]) — children in the dominator tree */
static PyObject *g_dominated_csr(PyObject *self, PyObject *args) {
    Bufs B = {.n = 3};
    Py_ssize_t root;
    if (!PyArg_ParseTuple(args, "y*nw*w*", &B.b[0], &root, &B.b[1], &B.b[2])) return NULL;
    const uint32_t *dom = U32(0);
    uint32_t *cf = U32(1), *kids = U32(2);
    Py_ssize_t n = LEN(0, 4);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < n; k++) if (k != root) cf[dom[k] + 1]++;
    for (Py_ssize_t k = 0; k < n; k++) cf[k + 1] += cf[k];
    for (Py_ssize_t k = 0; k < n; k++) if (k != root) kids[cf[dom[k]]++] = (uint32_t)k;
    for (Py_ssize_t k = n; k > 0; k--) cf[k] = cf[k - 1];
    cf[0] = 0;
    Py_END_ALLOW_THREADS
    bufs_release(&B);
    Py_RETURN_NONE;
}

/* g_class_retained(cfirst, kids, keys:u32, sizes, width, retained:f64, root, mask:u8 (empty = all), out:f64[nkeys])
 * DevTools calculateClassesRetainedSize: a node counts unless a dominator ancestor of its key counted. */
static PyObject *g_class_retained(PyObject *self, PyObject *args) {
    Bufs B = {.n = 7};
    int width;
    Py_ssize_t root;
    if (!PyArg_ParseTuple(args, "y*y*y*y*iy*ny*w*", &B.b[0], &B.b[1], &B.b[2], &B.b[3], &width, &B.b[4], &root,
                          &B.b[5], &B.b[6]))
        return NULL;
    const uint32_t *cf = U32(0), *kids = U32(1), *keys = U32(2);
    const void *sizes = B.b[3].buf;
    const double *ret = F64(4);
    const uint8_t *mask = U8(5);
    double *out = F64(6);
    Py_ssize_t nkeys = LEN(6, 8);
    int every = LEN(5, 1) == 0;
    int32_t *active = calloc((size_t)nkeys + 1, sizeof(int32_t));
    size_t cap = 1024;
    uint32_t *snode = malloc(cap * 4), *scur = malloc(cap * 4);
    uint8_t *scnt = malloc(cap);
    if (!active || !snode || !scur || !scnt) { free(active); free(snode); free(scur); free(scnt); return no_memory(&B); }
    int oom = 0;
    Py_BEGIN_ALLOW_THREADS
#define COUNTS(x) (SIZE_AT(sizes, width, x) > 0 && active[keys[x]] == 0 && (every || mask[x]))
    size_t sp = 0;
    snode[0] = (uint32_t)root;
    scur[0] = cf[root];
    scnt[0] = 0;
    if (COUNTS(root)) { out[keys[root]] += ret[root]; active[keys[root]]++; scnt[0] = 1; }
    for (;;) {
        uint32_t v = snode[sp], c = scur[sp];
        if (c < cf[v + 1]) {
            scur[sp] = c + 1;
            uint32_t w = kids[c];
            sp++;
            if (sp == cap) {
                uint32_t *a = realloc(snode, cap * 8), *b;
                if (!a) { oom = 1; break; }
                snode = a;
                b = realloc(scur, cap * 8);
                if (!b) { oom = 1; break; }
                scur = b;
                uint8_t *cc = realloc(scnt, cap * 2);
                if (!cc) { oom = 1; break; }
                scnt = cc;
                cap *= 2;
            }
            snode[sp] = w;
            scur[sp] = cf[w];
            scnt[sp] = 0;
            if (COUNTS(w)) { out[keys[w]] += ret[w]; active[keys[w]]++; scnt[sp] = 1; }
        } else {
            if (scnt[sp]) active[keys[v]]--;
            if (sp == 0) break;
            sp--;
        }
    }
#undef COUNTS
    Py_END_ALLOW_THREADS
    free(active); free(snode); free(scur); free(scnt);
    if (oom) return no_memory(&B);
    bufs_release(&B);
    Py_RETURN_NONE;
}

/* g_class_aggregates(keys, sizes, width, dist:i32, with_distance, cnt:i64, tot:f64, dmin:i64 (preset)) */
static PyObject *g_class_aggregates(PyObject *self, PyObject *args) {
    Bufs B = {.n = 6};
    int width, with_distance;
    if (!PyArg_ParseTuple(args, "y*y*iy*pw*w*w*", &B.b[0], &B.b[1], &width, &B.b[2], &with_distance, &B.b[3],
                          &B.b[4], &B.b[5]))
        return NULL;
    const uint32_t *keys = U32(0);
    const void *sizes = B.b[1].buf;
    const int32_t *dist = I32(2);
    int64_t *cnt = I64(3), *dmin = I64(5);
    double *tot = F64(4);
    Py_ssize_t n = LEN(0, 4);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < n; k++) {
        uint64_t sz = SIZE_AT(sizes, width, k);
        if (sz == 0) continue;
        uint32_t c = keys[k];
        cnt[c]++;
        tot[c] += (double)sz;
        if (with_distance && dist[k] < dmin[c]) dmin[c] = dist[k];
    }
    Py_END_ALLOW_THREADS
    bufs_release(&B);
    Py_RETURN_NONE;
}

/* g_distances(first, etype, ename, to, ntype, nname, root, user_roots:u32, weak_t, element_t, hidden_t,
 *             internal_t, hidden_node_t, array_node_t, native_context_s, sloppy_s, map_desc_s,
 *             eph_pair:i64, n_pairs, dist:i32[n] (filled with NO_DISTANCE), via:i64[n] (-1) or empty)
 * DevTools calculateDistances with the JS filter (see heaplens.graph.kernels.distances). */
#define NO_DISTANCE (-5)
#define BASE_SYSTEM_DISTANCE 100000000
static PyObject *g_distances(PyObject *self, PyObject *args) {
    Bufs B = {.n = 10};
    Py_ssize_t root, n_pairs;
    int weak_t, element_t, hidden_t, internal_t, hidden_node_t, array_node_t;
    long long nc_s, sloppy_s, md_s;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*ny*iiiiiiLLLy*nw*w*", &B.b[0], &B.b[1], &B.b[2], &B.b[3], &B.b[4],
                          &B.b[5], &root, &B.b[6], &weak_t, &element_t, &hidden_t, &internal_t, &hidden_node_t,
                          &array_node_t, &nc_s, &sloppy_s, &md_s, &B.b[7], &n_pairs, &B.b[8], &B.b[9]))
        return NULL;
    const uint32_t *first = U32(0), *ename = U32(2), *to = U32(3), *nname = U32(5), *uroots = U32(6);
    const uint8_t *et = U8(1), *ntype = U8(4);
    const int64_t *eph_pair = I64(7);
    int32_t *dist = I32(8);
    int64_t *via = I64(9);
    int want_via = LEN(9, 8) > 0;
    Py_ssize_t n = LEN(0, 4) - 1, nu = LEN(6, 4);
    uint32_t *queue = malloc(sizeof(uint32_t) * (size_t)(n + 1));
    uint8_t *pending = calloc((size_t)(n_pairs > 0 ? n_pairs : 1), 1);
    if (!queue || !pending) { free(queue); free(pending); return no_memory(&B); }
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t qlen = 0;
    for (Py_ssize_t i = 0; i < nu; i++) {
        uint32_t u = uroots[i];
        if (dist[u] == NO_DISTANCE) { dist[u] = 1; queue[qlen++] = u; }
    }
    int has_user = qlen > 0;
    for (int phase = 0; phase < 2; phase++) {
        if (phase == 1) {
            dist[root] = has_user ? BASE_SYSTEM_DISTANCE : 0;
            queue[0] = (uint32_t)root;
            qlen = 1;
        }
        Py_ssize_t head = 0;
        while (head < qlen) {
            uint32_t v = queue[head++];
            int32_t d = dist[v] + 1;
            int vt = ntype[v];
            for (uint64_t e = first[v], end = first[v + 1]; e < end; e++) {
                int t = et[e];
                if (t == weak_t) continue;
                uint32_t w = to[e];
                if (dist[w] != NO_DISTANCE) continue;
                if (vt == hidden_node_t && (long long)nname[v] == nc_s && (long long)ename[e] == sloppy_s &&
                    t != element_t && t != hidden_t)
                    continue;
                if (vt == array_node_t && (long long)nname[v] == md_s && (t == element_t || t == hidden_t)) {
                    uint32_t idx = ename[e];
                    if (!(idx < 2 || idx % 3 != 1)) continue;
                }
                if (t == internal_t && n_pairs > 0) {
                    int64_t p = eph_pair[ename[e]];
                    if (p >= 0) {
                        if (!pending[p]) { pending[p] = 1; continue; }
                        pending[p] = 0;
                    }
                }
                dist[w] = d;
                if (want_via) via[w] = (int64_t)e;
                queue[qlen++] = w;
            }
        }
    }
    Py_END_ALLOW_THREADS
    free(queue);
    free(pending);
    bufs_release(&B);
    Py_RETURN_NONE;
}

/* g_edge_sources(first, out:u32[m]) */
static PyObject *g_edge_sources(PyObject *self, PyObject *args) {
    Bufs B = {.n = 2};
    if (!PyArg_ParseTuple(args, "y*w*", &B.b[0], &B.b[1])) return NULL;
    const uint32_t *first = U32(0);
    uint32_t *out = U32(1);
    Py_ssize_t n = LEN(0, 4) - 1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t v = 0; v < n; v++)
        for (uint64_t e = first[v], end = first[v + 1]; e < end; e++) out[e] = (uint32_t)v;
    Py_END_ALLOW_THREADS
    bufs_release(&B);
    Py_RETURN_NONE;
}

/* g_mark_edge_names(etype, ename, t, out:u8[nstrings] zeroed): 1 for every name of an edge of type t */
static PyObject *g_mark_edge_names(PyObject *self, PyObject *args) {
    Bufs B = {.n = 3};
    int t;
    if (!PyArg_ParseTuple(args, "y*y*iw*", &B.b[0], &B.b[1], &t, &B.b[2])) return NULL;
    const uint8_t *et = U8(0);
    const uint32_t *en = U32(1);
    uint8_t *out = U8(2);
    Py_ssize_t m = LEN(0, 1), ns = LEN(2, 1);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t e = 0; e < m; e++)
        if (et[e] == t && (Py_ssize_t)en[e] < ns) out[en[e]] = 1;
    Py_END_ALLOW_THREADS
    bufs_release(&B);
    Py_RETURN_NONE;
}

static inline uint32_t source_of(const uint32_t *first, Py_ssize_t nfirst, uint64_t e) {
    Py_ssize_t lo = 0, hi = nfirst - 1;
    while (hi - lo > 1) {
        Py_ssize_t mid = (lo + hi) / 2;
        if ((uint64_t)first[mid] <= e) lo = mid; else hi = mid;
    }
    return (uint32_t)lo;
}

static inline int64_t view_distance(int32_t d) { return d < 0 ? 200000000 : (int64_t)d; }

/* g_best_paths(targets:i64, start, first, rfirst, redge:u32, etype, dist:i32, weak_t, root, max_len,
 *              memo:i64 (-2 = unknown), offsets:i64[nt+1], out:i64, used) -> (next target, used)
 * Follows, from each target, the retainer with the smallest distance (see
 * heaplens.graph.kernels.best_paths). Stops before a target whose path might not fit ``out``. */
static PyObject *g_best_paths(PyObject *self, PyObject *args) {
    Bufs B = {.n = 9};
    Py_ssize_t start, root, max_len, used;
    int weak_t;
    if (!PyArg_ParseTuple(args, "y*ny*y*y*y*y*inny*w*w*n", &B.b[0], &start, &B.b[1], &B.b[2], &B.b[3], &B.b[4],
                          &B.b[5], &weak_t, &root, &max_len, &B.b[6], &B.b[7], &B.b[8], &used))
        return NULL;
    /* memo is written: it was parsed with y*, so check it is writable */
    if (B.b[6].readonly) { bufs_release(&B); PyErr_SetString(PyExc_ValueError, "memo must be writable"); return NULL; }
    const int64_t *targets = I64(0);
    const uint32_t *first = U32(1), *rfirst = U32(2), *redge = U32(3);
    const uint8_t *et = U8(4);
    const int32_t *dist = I32(5);
    int64_t *memo = I64(6), *offsets = I64(7), *out = I64(8);
    Py_ssize_t nt = LEN(0, 8), nfirst = LEN(1, 4), cap = LEN(8, 8), i = start;
    Py_BEGIN_ALLOW_THREADS
    for (; i < nt; i++) {
        if (used + max_len > cap) break;
        uint32_t v = (uint32_t)targets[i];
        Py_ssize_t steps = 0;
        while (steps < max_len) {
            int64_t best_e = memo[v];
            if (best_e == -2) {
                best_e = -1;
                int64_t best_d = (int64_t)1 << 62;
                int rooted = 0;
                for (uint64_t j = rfirst[v], end = rfirst[v + 1]; j < end; j++) {
                    uint64_t e = redge[j];
                    if (et[e] == weak_t) continue;
                    uint32_t s = source_of(first, nfirst, e);
                    if ((Py_ssize_t)s == root) { rooted = 1; break; }
                    if (s == v) continue;
                    int64_t d = view_distance(dist[s]);
                    if (d < best_d) { best_d = d; best_e = (int64_t)e; }
                }
                if (rooted) best_e = -1;
                memo[v] = best_e;
            }
            if (best_e < 0) break;
            uint32_t s = source_of(first, nfirst, (uint64_t)best_e);
            if (view_distance(dist[v]) <= view_distance(dist[s]) && steps > 0) break;
            out[used++] = best_e;
            steps++;
            v = s;
        }
        offsets[i + 1] = used;
    }
    Py_END_ALLOW_THREADS
    bufs_release(&B);
    return Py_BuildValue("nn", i, used);
}

/* g_path_signatures(offsets:i64, pedges:i64, first, etype, ename, cls:u32, element_t, hidden_t, numeric:u8,
 *                   depth, out:u64[npaths]) — FNV-style hash per path (see heaplens.graph.kernels) */
static PyObject *g_path_signatures(PyObject *self, PyObject *args) {
    Bufs B = {.n = 8};
    int element_t, hidden_t;
    Py_ssize_t depth;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*iiy*nw*", &B.b[0], &B.b[1], &B.b[2], &B.b[3], &B.b[4], &B.b[5],
                          &element_t, &hidden_t, &B.b[6], &depth, &B.b[7]))
        return NULL;
    const int64_t *offsets = I64(0), *pedges = I64(1);
    const uint32_t *first = U32(2), *ename = U32(4), *cls = U32(5);
    const uint8_t *et = U8(3), *numeric = U8(6);
    uint64_t *out = U64(7);
    Py_ssize_t np_ = LEN(0, 8) - 1, nfirst = LEN(2, 4), nnum = LEN(6, 1);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < np_; i++) {
        uint64_t h = FNV_OFFSET;
        int64_t lo = offsets[i], hi = offsets[i + 1];
        if (depth > 0 && lo + depth < hi) hi = lo + depth;
        for (int64_t j = lo; j < hi; j++) {
            int64_t e = pedges[j];
            int t = et[e];
            uint64_t nm;
            if (t == element_t || t == hidden_t || ((Py_ssize_t)ename[e] < nnum && numeric[ename[e]]))
                nm = 0xFFFFFFFFull;
            else
                nm = ename[e];
            uint32_t s = source_of(first, nfirst, (uint64_t)e);
            h = (h ^ (uint64_t)t) * FNV_PRIME;
            h = (h ^ nm) * FNV_PRIME;
            h = (h ^ (uint64_t)cls[s]) * FNV_PRIME;
        }
        h = (h ^ (uint64_t)(hi - lo)) * FNV_PRIME;
        out[i] = h;
    }
    Py_END_ALLOW_THREADS
    bufs_release(&B);
    Py_RETURN_NONE;
}

/* g_dom_state(first, etype, to, ntype, detachedness:u8, native_t, hidden_t, weak_t, renamed:u8[n] zeroed)
 * DevTools propagateDOMState: 1 for the nodes DevTools renames "Detached <name>". */
static PyObject *g_dom_state(PyObject *self, PyObject *args) {
    Bufs B = {.n = 6};
    int native_t, hidden_t, weak_t;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*iiiw*", &B.b[0], &B.b[1], &B.b[2], &B.b[3], &B.b[4], &native_t,
                          &hidden_t, &weak_t, &B.b[5]))
        return NULL;
    const uint32_t *first = U32(0), *to = U32(2);
    const uint8_t *et = U8(1), *ntype = U8(3), *det = U8(4);
    uint8_t *renamed = U8(5);
    Py_ssize_t n = LEN(3, 1);
    uint8_t *state = malloc((size_t)n + 1), *visited = calloc((size_t)n + 1, 1);
    uint32_t *att = malloc(sizeof(uint32_t) * ((size_t)n + 1)), *dq = malloc(sizeof(uint32_t) * ((size_t)n + 1));
    if (!state || !visited || !att || !dq) {
        free(state); free(visited); free(att); free(dq);
        return no_memory(&B);
    }
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t na = 0, nd = 0;
    memcpy(state, det, (size_t)n);
    for (Py_ssize_t k = 0; k < n; k++) {
        uint8_t s = det[k];
        if (s == 0 || visited[k]) continue;
        if (ntype[k] != native_t) { visited[k] = 1; continue; }
        state[k] = s;
        if (s == 1) att[na++] = (uint32_t)k;
        else if (s == 2) { renamed[k] = 1; dq[nd++] = (uint32_t)k; }
        visited[k] = 1;
    }
    for (int phase = 0; phase < 2; phase++) {
        while ((phase == 0 ? na : nd) > 0) {
            uint32_t v;
            uint8_t nw;
            if (phase == 0) { v = att[--na]; nw = 1; }
            else { v = dq[--nd]; if (state[v] == 1) continue; nw = 2; }
            for (uint64_t e = first[v], end = first[v + 1]; e < end; e++) {
                int t = et[e];
                if (t == hidden_t || t == weak_t) continue;
                uint32_t w = to[e];
                if (visited[w]) continue;
                visited[w] = 1;
                if (ntype[w] != native_t) continue;
                state[w] = nw;
                if (nw == 1) att[na++] = w;
                else { renamed[w] = 1; dq[nd++] = w; }
            }
        }
    }
    Py_END_ALLOW_THREADS
    free(state); free(visited); free(att); free(dq);
    bufs_release(&B);
    Py_RETURN_NONE;
}

/* g_top_k(values:f64, ntype, skip_type, root, idx:i64[k], val:f64[k]) -> count
 * Indices of the k largest values (ties: lower index first), skipping skip_type nodes and the root. */
static PyObject *g_top_k(PyObject *self, PyObject *args) {
    Bufs B = {.n = 4};
    int skip_type;
    Py_ssize_t root;
    if (!PyArg_ParseTuple(args, "y*y*inw*w*", &B.b[0], &B.b[1], &skip_type, &root, &B.b[2], &B.b[3])) return NULL;
    const double *values = F64(0);
    const uint8_t *ntype = U8(1);
    int64_t *idx = I64(2);
    double *val = F64(3);
    Py_ssize_t n = LEN(0, 8), k = LEN(2, 8), cnt = 0;
    if (k > 0) {
        Py_BEGIN_ALLOW_THREADS
        double lo = -1.0;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (i == root || ntype[i] == skip_type) continue;
            double v = values[i];
            if (cnt == k && v <= lo) continue;
            Py_ssize_t j = cnt < k ? cnt : k - 1;
            while (j > 0 && val[j - 1] < v) {
                if (j < k) { val[j] = val[j - 1]; idx[j] = idx[j - 1]; }
                j--;
            }
            val[j] = v;
            idx[j] = i;
            if (cnt < k) cnt++;
            lo = cnt == k ? val[cnt - 1] : -1.0;
        }
        Py_END_ALLOW_THREADS
    }
    bufs_release(&B);
    return PyLong_FromSsize_t(cnt);
}


/* ---- DevTools' interface names of plain objects ({a, b, c}) ------------------------------------
 * A plain object is an `object` node named "Object". inferInterfaceDefinitions names each one by its
 * property edges (in edge order, without __proto__, until the name would pass 120 UTF-16 units);
 * applyInterfaceDefinitions gives every plain object the best definition whose property set it
 * contains (most properties first, then the most popular), via a trie of sorted property names. */

#define IS_PLAIN(k) (ntype[k] == object_t && (int64_t)nname[k] == object_s)

/* g_plain_props(first, etype, ename, ntype, nname, object_t, object_s, property_t, mark:u8[nstrings])
 *   -> number of plain objects; marks the names of their property edges */
static PyObject *g_plain_props(PyObject *self, PyObject *args) {
    Bufs B = {.n = 6};
    int object_t, property_t;
    long long object_s;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*iLiw*", &B.b[0], &B.b[1], &B.b[2], &B.b[3], &B.b[4], &object_t,
                          &object_s, &property_t, &B.b[5]))
        return NULL;
    const uint32_t *first = U32(0), *ename = U32(2), *nname = U32(4);
    const uint8_t *et = U8(1), *ntype = U8(3);
    uint8_t *mark = U8(5);
    Py_ssize_t n = LEN(3, 1), ns = LEN(5, 1), count = 0;
    if (LEN(0, 4) - 1 < n) n = LEN(0, 4) - 1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < n; k++) {
        if (!IS_PLAIN(k)) continue;
        count++;
        for (uint64_t e = first[k], end = first[k + 1]; e < end; e++)
            if (et[e] == property_t && (Py_ssize_t)ename[e] < ns) mark[ename[e]] = 1;
    }
    Py_END_ALLOW_THREADS
    bufs_release(&B);
    return PyLong_FromSsize_t(count);
}

/* g_interface_keys(first, etype, ename, ntype, nname, object_t, object_s, property_t, proto_s, flen:u32[nstrings],
 *                  max_len, nodes:u32[nplain], hashes:u64[nplain], counts:u32[nplain]) -> nplain
 * Per plain object (node order): the ordinal, a hash of the property names its inferred interface
 * name lists, and how many (0: no name). flen[s] = UTF-16 length of the formatted name s. */
static PyObject *g_interface_keys(PyObject *self, PyObject *args) {
    Bufs B = {.n = 9};
    int object_t, property_t;
    long long object_s, proto_s;
    Py_ssize_t max_len;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*iLiLy*nw*w*w*", &B.b[0], &B.b[1], &B.b[2], &B.b[3], &B.b[4], &object_t,
                          &object_s, &property_t, &proto_s, &B.b[5], &max_len, &B.b[6], &B.b[7], &B.b[8]))
        return NULL;
    const uint32_t *first = U32(0), *ename = U32(2), *nname = U32(4), *flen = U32(5);
    const uint8_t *et = U8(1), *ntype = U8(3);
    uint32_t *nodes = U32(6), *counts = U32(8);
    uint64_t *hashes = U64(7);
    Py_ssize_t n = LEN(3, 1), ns = LEN(5, 4), cap = LEN(6, 4), j = 0;
    if (LEN(0, 4) - 1 < n) n = LEN(0, 4) - 1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < n && j < cap; k++) {
        if (!IS_PLAIN(k)) continue;
        uint64_t h = FNV_OFFSET, cur = 1;
        uint32_t cnt = 0;
        for (uint64_t e = first[k], end = first[k + 1]; e < end; e++) {
            if (et[e] != property_t) continue;
            uint32_t s = ename[e];
            if ((long long)s == proto_s || (Py_ssize_t)s >= ns) continue;
            uint64_t fl = flen[s];
            if (cur > 1 && cur + fl > (uint64_t)max_len) break; /* the name is getting too long */
            if (cur != 1) cur += 2;
            cur += fl;
            cnt++;
            for (int b = 0; b < 4; b++) h = (h ^ ((s >> (8 * b)) & 0xFF)) * FNV_PRIME;
        }
        nodes[j] = (uint32_t)k;
        hashes[j] = cnt ? h : 0;
        counts[j] = cnt;
        j++;
    }
    Py_END_ALLOW_THREADS
    bufs_release(&B);
    return PyLong_FromSsize_t(j);
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* g_apply_interfaces(first, etype, ename, nodes:u32 (plain objects), property_t, rank:u32[nstrings],
 *                    tfirst:u32[T+1], tkey:u32, tchild:u32, tgreatest:i64[T], tmatch:i32[T], tcount:u32[T],
 *                    out:i32[len(nodes)])
 * Trie node 0 is the root; the children of t are tkey/tchild[tfirst[t]:tfirst[t+1]], sorted by key
 * (a rank in JavaScript's string order); tgreatest[t] = largest child key (-1: none); tmatch[t] = the
 * definition ending there (-1: none) with tcount[t] properties. out[i] = best definition or -1. */
static PyObject *g_apply_interfaces(PyObject *self, PyObject *args) {
    Bufs B = {.n = 12};
    int property_t;
    if (!PyArg_ParseTuple(args, "y*y*y*y*iy*y*y*y*y*y*y*w*", &B.b[0], &B.b[1], &B.b[2], &B.b[3], &property_t,
                          &B.b[4], &B.b[5], &B.b[6], &B.b[7], &B.b[8], &B.b[9], &B.b[10], &B.b[11]))
        return NULL;
    const uint32_t *first = U32(0), *ename = U32(2), *nodes = U32(3), *rank = U32(4);
    const uint32_t *tfirst = U32(5), *tkey = U32(6), *tchild = U32(7), *tcount = U32(10);
    const uint8_t *et = U8(1);
    const int64_t *tgreatest = I64(8);
    const int32_t *tmatch = I32(9);
    int32_t *out = I32(11);
    Py_ssize_t np_ = LEN(3, 4), ns = LEN(4, 4), T = LEN(8, 8);
    if (LEN(11, 4) < np_) np_ = LEN(11, 4);
    size_t pcap = 64;
    uint32_t *props = malloc(pcap * 4);
    uint32_t *st = malloc(sizeof(uint32_t) * (size_t)(2 * T + 2));
    int64_t *pos = malloc(sizeof(int64_t) * (size_t)(T + 1));
    if (!props || !st || !pos) { free(props); free(st); free(pos); return no_memory(&B); }
    int oom = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t t = 0; t < T; t++) pos[t] = -1;
    for (Py_ssize_t i = 0; i < np_ && !oom; i++) {
        uint32_t k = nodes[i];
        size_t np2 = 0;
        for (uint64_t e = first[k], end = first[k + 1]; e < end; e++) {
            if (et[e] != property_t || (Py_ssize_t)ename[e] >= ns) continue;
            if (np2 == pcap) {
                uint32_t *bigger = realloc(props, pcap * 8);
                if (!bigger) { oom = 1; break; }
                props = bigger;
                pcap *= 2;
            }
            props[np2++] = rank[ename[e]];
        }
        if (oom) break;
        qsort(props, np2, 4, cmp_u32);
        /* the live states, in insertion order: st[0:len]; pos[t] = index of t's live entry, or -1 */
        size_t len = 1;
        st[0] = 0;
        pos[0] = 0;
        int32_t best = -1;
        uint32_t best_count = 0;
        for (size_t a = 0; a < np2 && len > 0; a++) {
            uint32_t p = props[a];
            size_t snap = len;
            for (size_t b = 0; b < snap; b++) {
                uint32_t s = st[b];
                if (pos[s] != (int64_t)b) continue; /* not live (cannot happen: only s deletes itself) */
                if (tgreatest[s] < 0 || (int64_t)p >= tgreatest[s]) pos[s] = -1;
                /* child of s under key p (binary search) */
                uint32_t lo = tfirst[s], hi = tfirst[s + 1];
                while (lo < hi) {
                    uint32_t mid = lo + (hi - lo) / 2;
                    if (tkey[mid] < p) lo = mid + 1; else hi = mid;
                }
                if (lo < tfirst[s + 1] && tkey[lo] == p) {
                    uint32_t c = tchild[lo];
                    if (pos[c] < 0) { pos[c] = (int64_t)len; st[len++] = c; }
                    int32_t m = tmatch[c];
                    if (m >= 0 && (best < 0 || tcount[c] > best_count || (tcount[c] == best_count && m < best))) {
                        best = m;
                        best_count = tcount[c];
                    }
                }
            }
            /* drop the dead entries, keeping the order */
            size_t w = 0;
            for (size_t b = 0; b < len; b++) {
                uint32_t s = st[b];
                if (pos[s] == (int64_t)b) { st[w] = s; pos[s] = (int64_t)w; w++; }
            }
            len = w;
        }
        for (size_t b = 0; b < len; b++) pos[st[b]] = -1;
        out[i] = best;
    }
    Py_END_ALLOW_THREADS
    free(props); free(st); free(pos);
    if (oom) return no_memory(&B);
    bufs_release(&B);
    Py_RETURN_NONE;
}
#undef IS_PLAIN

/* malloc_mmap_threshold(bytes) -> True if set. glibc raises its mmap threshold (up to 32 MiB) each
 * time a large block is freed; after that, node-sized arrays (10-100 MB) come from the heap and
 * freeing them returns nothing to the system. A fixed threshold keeps every large array an mmap
 * of its own, unmapped when freed. */
static PyObject *malloc_mmap_threshold(PyObject *self, PyObject *args) {
    int bytes;
    if (!PyArg_ParseTuple(args, "i", &bytes)) return NULL;
#ifdef __GLIBC__
    return PyBool_FromLong(mallopt(M_MMAP_THRESHOLD, bytes) == 1);
#else
    (void)bytes;
    Py_RETURN_FALSE;
#endif
}

/* g_pack_counts(first:u32[n+1], out:u8[n]) -> number of nodes with 255 edges or more (out = 255) */
static PyObject *g_pack_counts(PyObject *self, PyObject *args) {
    Bufs B = {.n = 2};
    if (!PyArg_ParseTuple(args, "y*w*", &B.b[0], &B.b[1])) return NULL;
    const uint32_t *first = U32(0);
    uint8_t *out = U8(1);
    Py_ssize_t n = LEN(1, 1), big = 0;
    if (LEN(0, 4) - 1 < n) n = LEN(0, 4) - 1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < n; k++) {
        uint32_t c = first[k + 1] - first[k];
        if (c >= 255) { out[k] = 255; big++; } else out[k] = (uint8_t)c;
    }
    Py_END_ALLOW_THREADS
    bufs_release(&B);
    return PyLong_FromSsize_t(big);
}

/* malloc_trim() -> True if memory was released: free memory inside glibc's arenas (the worker
 * threads' arenas keep what their small allocations freed) goes back to the system. */
static PyObject *malloc_trim_(PyObject *self, PyObject *args) {
#ifdef __GLIBC__
    return PyBool_FromLong(malloc_trim(0));
#else
    Py_RETURN_FALSE;
#endif
}


/* g_nearest_marked(dom:u32[n], mark:u8[n], root, out:u32[n]) — for every node its nearest strict
 * dominator-tree ancestor a with mark[a] != 0 (the root when none; the root maps to itself).
 * One pass with memoisation: each node's chain is walked once up to a resolved or marked node, then
 * every node on it gets the answer (all of them share it: none of their dominators up to there is
 * marked). Used for "the nearest pre-existing holder" of every new object (heaplens.graph.holders). */
static PyObject *g_nearest_marked(PyObject *self, PyObject *args) {
    Bufs B = {.n = 3};
    Py_ssize_t root;
    if (!PyArg_ParseTuple(args, "y*y*nw*", &B.b[0], &B.b[1], &root, &B.b[2])) return NULL;
    const uint32_t *dom = U32(0);
    const uint8_t *mark = U8(1);
    uint32_t *out = U32(2);
    Py_ssize_t n = LEN(0, 4);
    if (LEN(1, 1) < n || LEN(2, 4) < n || root < 0 || root >= n) {
        bufs_release(&B);
        PyErr_SetString(PyExc_ValueError, "g_nearest_marked: array lengths or root out of range");
        return NULL;
    }
    int bad = 0;
    Py_BEGIN_ALLOW_THREADS
    const uint32_t UNSET = 0xFFFFFFFFu;
    for (Py_ssize_t k = 0; k < n; k++) out[k] = UNSET;
    out[root] = (uint32_t)root;
    for (Py_ssize_t k = 0; k < n && !bad; k++) {
        if (out[k] != UNSET) continue;
        uint32_t v = (uint32_t)k, a = (uint32_t)root;
        Py_ssize_t steps = 0;
        for (;;) {
            uint32_t d = dom[v];
            if (d >= n || ++steps > n) { bad = 1; break; }     /* not a tree: refuse */
            if (mark[d] || d == (uint32_t)root) { a = d; break; }
            if (out[d] != UNSET) { a = out[d]; break; }
            v = d;
        }
        if (bad) break;
        for (uint32_t w = (uint32_t)k;; w = dom[w]) {          /* k .. v inclusive */
            out[w] = a;
            if (w == v) break;
        }
    }
    Py_END_ALLOW_THREADS
    bufs_release(&B);
    if (bad) { PyErr_SetString(PyExc_ValueError, "g_nearest_marked: the dominator array is not a tree"); return NULL; }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"g_pack_counts", g_pack_counts, METH_VARARGS, "Edge counts as bytes (255 = large)."},
    {"malloc_trim", malloc_trim_, METH_NOARGS, "Return free arena memory to the system (glibc)."},
    {"g_plain_props", g_plain_props, METH_VARARGS, "Plain objects: count, names of their property edges."},
    {"g_interface_keys", g_interface_keys, METH_VARARGS, "DevTools interface name key per plain object."},
    {"g_apply_interfaces", g_apply_interfaces, METH_VARARGS, "Best interface definition per plain object."},
    {"malloc_mmap_threshold", malloc_mmap_threshold, METH_VARARGS, "Fix glibc's mmap threshold."},
    {"g_first_edges", g_first_edges, METH_VARARGS, "graph kernel (see heaplens.graph.kernels)."},
    {"g_mark_page_owned", g_mark_page_owned, METH_VARARGS, "graph kernel (see heaplens.graph.kernels)."},
    {"g_essential", g_essential, METH_VARARGS, "graph kernel (see heaplens.graph.kernels)."},
    {"g_reverse_count", g_reverse_count, METH_VARARGS, "graph kernel (see heaplens.graph.kernels)."},
    {"g_reverse_fill", g_reverse_fill, METH_VARARGS, "graph kernel (see heaplens.graph.kernels)."},
    {"g_adjusted_sizes", g_adjusted_sizes, METH_VARARGS, "graph kernel (see heaplens.graph.kernels)."},
    {"g_dominators_dfs", g_dominators_dfs, METH_VARARGS, "graph kernel (see heaplens.graph.kernels)."},
    {"g_dominators_main", g_dominators_main, METH_VARARGS, "graph kernel (see heaplens.graph.kernels)."},
    {"g_retained_sizes", g_retained_sizes, METH_VARARGS, "graph kernel (see heaplens.graph.kernels)."},
    {"g_dominated_csr", g_dominated_csr, METH_VARARGS, "graph kernel (see heaplens.graph.kernels)."},
    {"g_class_retained", g_class_retained, METH_VARARGS, "graph kernel (see heaplens.graph.kernels)."},
    {"g_class_aggregates", g_class_aggregates, METH_VARARGS, "graph kernel (see heaplens.graph.kernels)."},
    {"g_distances", g_distances, METH_VARARGS, "graph kernel (see heaplens.graph.kernels)."},
    {"g_edge_sources", g_edge_sources, METH_VARARGS, "graph kernel (see heaplens.graph.kernels)."},
    {"g_mark_edge_names", g_mark_edge_names, METH_VARARGS, "graph kernel (see heaplens.graph.kernels)."},
    {"g_best_paths", g_best_paths, METH_VARARGS, "graph kernel (see heaplens.graph.kernels)."},
    {"g_path_signatures", g_path_signatures, METH_VARARGS, "graph kernel (see heaplens.graph.kernels)."},
    {"g_dom_state", g_dom_state, METH_VARARGS, "graph kernel (see heaplens.graph.kernels)."},
    {"g_top_k", g_top_k, METH_VARARGS, "graph kernel (see heaplens.graph.kernels)."},
    {"g_nearest_marked", g_nearest_marked, METH_VARARGS, "graph kernel (see heaplens.graph.kernels)."},
    {"node_class_ids", node_class_ids, METH_VARARGS, "DevTools class id per node."},
    {"remap_ids", remap_ids, METH_VARARGS, "Remap the class ids of named nodes."},
    {"first_at_least", first_at_least, METH_VARARGS, "Index of the first value >= limit, or -1."},
    {"edge_targets", edge_targets, METH_VARARGS, "Edge to_node offsets to ordinals, in place, with checks."},
    {"named_edges_in_range", named_edges_in_range, METH_VARARGS, "First edge naming a missing string."},
    {"parse_uint_array", parse_uint_array, METH_VARARGS, "Parse a JSON array of unsigned integers into columns."},
    {"count_byte", count_byte, METH_VARARGS, "Count one byte value in a range."},
    {"count_until_close", count_until_close, METH_VARARGS, "Commas up to the first ']', and where it is."},
    {"skip_ws", skip_ws, METH_VARARGS, "Skip JSON whitespace."},
    {"skip_ws_back", skip_ws_back, METH_VARARGS, "Skip JSON whitespace backwards."},
    {"find_byte", find_byte, METH_VARARGS, "memchr over a range."},
    {"scan_strings", scan_strings, METH_VARARGS, "Index a JSON array of strings."},
    {"skip_value", skip_value, METH_VARARGS, "Skip one JSON value."},
    {"fnv1a", fnv1a, METH_VARARGS, "64-bit FNV-1a of bytes."},
    {"group_masks", group_masks, METH_VARARGS, "Per name, the bit set of node types."},
    {"group_fill", group_fill, METH_VARARGS, "Type and name of each (name, type) slot."},
    {"group_sums", group_sums, METH_VARARGS, "Count and self size per (name, type) slot."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "heaplens._kernels", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__kernels(void) {
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    PyModule_AddIntConstant(m, "OK_CHUNK", OK_CHUNK);
    PyModule_AddIntConstant(m, "OK_END", OK_END);
    PyModule_AddIntConstant(m, "ERR_BYTE", ERR_BYTE);
    PyModule_AddIntConstant(m, "ERR_TOO_MANY", ERR_TOO_MANY);
    PyModule_AddIntConstant(m, "ERR_EOF", ERR_EOF);
    PyModule_AddIntConstant(m, "ERR_NUMBER", ERR_NUMBER);
    PyModule_AddIntConstant(m, "ERR_CONTROL", ERR_CONTROL);
    PyModule_AddIntConstant(m, "ERR_SPACE", ERR_SPACE);
    PyModule_AddIntConstant(m, "MAX_WS_RUN", MAX_WS_RUN);
    return m;
}
