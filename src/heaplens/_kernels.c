/*
 * heaplens._kernels — the compiled loops of the snapshot reader.
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

enum { OK_CHUNK = 0, OK_END = 1, ERR_BYTE = 2, ERR_TOO_MANY = 3, ERR_EOF = 4, ERR_NUMBER = 5, ERR_CONTROL = 6 };

#define IS_WS(c) ((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')
#define FNV_OFFSET 0xCBF29CE484222325ULL
#define FNV_PRIME 0x100000001B3ULL

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
    while (i < end && IS_WS(p[i])) i++;
    if (i < end && p[i] == ']' && count == 0) { status = OK_END; i++; goto done; }
    for (;;) {
        if (i >= end) { status = ERR_EOF; goto done; }
        unsigned char c = p[i];
        unsigned d = (unsigned)c - '0';
        if (d >= 10) {
            if (IS_WS(c)) { i++; continue; }
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
        while (i < end && IS_WS(p[i])) i++;
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
        while (i < end && IS_WS(p[i])) i++;
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
        } else if (depth == 0 && (c == ',' || IS_WS(c))) {
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

static PyMethodDef methods[] = {
    {"node_class_ids", node_class_ids, METH_VARARGS, "DevTools class id per node."},
    {"remap_ids", remap_ids, METH_VARARGS, "Remap the class ids of named nodes."},
    {"first_at_least", first_at_least, METH_VARARGS, "Index of the first value >= limit, or -1."},
    {"edge_targets", edge_targets, METH_VARARGS, "Edge to_node offsets to ordinals, in place, with checks."},
    {"named_edges_in_range", named_edges_in_range, METH_VARARGS, "First edge naming a missing string."},
    {"parse_uint_array", parse_uint_array, METH_VARARGS, "Parse a JSON array of unsigned integers into columns."},
    {"count_byte", count_byte, METH_VARARGS, "Count one byte value in a range."},
    {"count_until_close", count_until_close, METH_VARARGS, "Commas up to the first ']', and where it is."},
    {"skip_ws", skip_ws, METH_VARARGS, "Skip JSON whitespace."},
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
    return m;
}
