"""Compiled hot loops (numba). Everything that touches every byte or every node lives here.

The kernels never raise: they return a status code and the byte offset where they stopped, and the
Python caller turns a bad status into a :class:`heaplens.errors.SnapshotError` that names the file
and the offset. That keeps error handling in one place and the loops free of Python objects.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Status codes shared by the kernels.
OK_CHUNK = 0  # stopped at the chunk boundary; call again
OK_END = 1  # reached the closing bracket / quote of the section
ERR_BYTE = 2  # unexpected byte
ERR_TOO_MANY = 3  # more values than the header announced
ERR_EOF = 4  # the input ended inside the section (truncated file)
ERR_NUMBER = 5  # a number with too many digits for 64 bits
ERR_CONTROL = 6  # raw control character inside a string

_SPACE, _TAB, _LF, _CR = 32, 9, 10, 13
_COMMA, _RBRACKET, _QUOTE, _BACKSLASH = 44, 93, 34, 92

FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)


@njit(cache=True, nogil=True, boundscheck=False)
def parse_uint_array(buf, pos, end, stop_hint, count, expected, nfields, slots, out, limit, sum_field):
    """Parse a JSON array of unsigned integers (``[`` already consumed) from ``buf[pos:end]``.

    Values are stored column-wise: value number ``count`` goes to ``out[slots[count % nfields],
    count // nfields]`` when that slot is ``>= 0`` and is dropped otherwise. Parsing pauses after the
    first comma at or beyond ``stop_hint`` so the caller can release the pages behind it or hand
    the next chunk to another thread; ``count`` carries the position across calls. ``sum_field``
    (or -1) names a column whose values are summed even when not stored (the edge counts).

    Returns ``(status, pos, count, overflow, field_sum)``; ``overflow`` is true when a stored value
    exceeded ``limit`` (the caller re-parses into a wider array).
    """
    i = pos
    overflow = False
    field_sum = np.uint64(0)
    field = count % nfields
    row = count // nfields
    while i < end and (buf[i] == _SPACE or buf[i] == _LF or buf[i] == _CR or buf[i] == _TAB):
        i += 1
    if i < end and buf[i] == _RBRACKET and count == 0:
        return OK_END, i + 1, count, overflow, field_sum
    while True:
        # Expecting a value.
        if i >= end:
            return ERR_EOF, i, count, overflow, field_sum
        c = buf[i]
        d = np.uint64(c) - np.uint64(48)
        if d >= np.uint64(10):
            if c == _SPACE or c == _LF or c == _CR or c == _TAB:
                i += 1
                continue
            return ERR_BYTE, i, count, overflow, field_sum
        start = i
        v = d
        i += 1
        while i < end:
            d = np.uint64(buf[i]) - np.uint64(48)
            if d >= np.uint64(10):
                break
            v = v * np.uint64(10) + d
            i += 1
        if i - start > 19:
            return ERR_NUMBER, start, count, overflow, field_sum
        if count >= expected:
            return ERR_TOO_MANY, start, count, overflow, field_sum
        s = slots[field]
        if s >= 0:
            out[s, row] = v
            overflow |= v > limit
        if field == sum_field:
            field_sum += v
        count += 1
        field += 1
        if field == nfields:
            field = 0
            row += 1
        # Expecting "," or "]".
        if i >= end:
            return ERR_EOF, i, count, overflow, field_sum
        c = buf[i]
        if c == _COMMA:
            i += 1
            if i >= stop_hint:
                return OK_CHUNK, i, count, overflow, field_sum
            continue
        while c == _SPACE or c == _LF or c == _CR or c == _TAB:
            i += 1
            if i >= end:
                return ERR_EOF, i, count, overflow, field_sum
            c = buf[i]
        if c == _COMMA:
            i += 1
            if i >= stop_hint:
                return OK_CHUNK, i, count, overflow, field_sum
        elif c == _RBRACKET:
            return OK_END, i + 1, count, overflow, field_sum
        else:
            return ERR_BYTE, i, count, overflow, field_sum


@njit(cache=True, nogil=True, boundscheck=False)
def count_byte(buf, start, end, byte):
    """How many times ``byte`` occurs in ``buf[start:end]`` (a zero-based view lets LLVM vectorise)."""
    v = buf[start:end]
    x = np.uint8(byte)
    n = np.int64(0)
    for i in range(v.shape[0]):
        n += np.int64(v[i] == x)
    return n


@njit(cache=True, nogil=True, boundscheck=False)
def count_until_close(buf, start, end):
    """Commas in ``buf[start:end]`` up to the first ``]``; returns ``(commas, close)`` with
    ``close`` the offset of that ``]`` or -1. Counts in 4 KiB blocks (vectorised) and only scans a
    block byte by byte when it holds the bracket."""
    v = buf[start:end]
    n = v.shape[0]
    commas = np.int64(0)
    b = 0
    while b < n:
        e = min(b + 4096, n)
        cc = np.int64(0)
        cb = np.int64(0)
        for i in range(b, e):
            x = v[i]
            cc += np.int64(x == 44)
            cb += np.int64(x == 93)
        if cb:
            for i in range(b, e):
                if v[i] == 93:
                    return commas, start + i
                commas += np.int64(v[i] == 44)
        commas += cc
        b = e
    return commas, -1


@njit(cache=True, nogil=True, boundscheck=False)
def skip_ws(buf, pos, end):
    """First offset at or after ``pos`` that is not JSON whitespace (``end`` if none)."""
    i = pos
    while i < end:
        c = buf[i]
        if c == _SPACE or c == _LF or c == _CR or c == _TAB:
            i += 1
        else:
            return i
    return end


@njit(cache=True, nogil=True, boundscheck=False)
def find_byte(buf, start, end, byte):
    for i in range(start, end):
        if buf[i] == byte:
            return i
    return -1


@njit(cache=True, nogil=True, boundscheck=False)
def scan_strings(buf, pos, end, stop_hint, count, starts, lengths, flags, hashes):
    """Index a JSON array of strings (``[`` already consumed): the byte offset and length of each
    string's raw (still escaped) content, whether it holds escapes (bit 0) or non-ASCII bytes
    (bit 1), and a 64-bit FNV-1a hash of the raw bytes. Pauses like :func:`parse_uint_array`.

    Returns ``(status, pos, count)``.
    """
    i = pos
    cap = starts.shape[0]
    first = count == 0
    while True:
        while i < end:
            c = buf[i]
            if c == _SPACE or c == _LF or c == _CR or c == _TAB:
                i += 1
            else:
                break
        if i >= end:
            return ERR_EOF, i, count
        c = buf[i]
        if c == _RBRACKET and first:
            return OK_END, i + 1, count
        first = False
        if c != _QUOTE:
            return ERR_BYTE, i, count
        i += 1
        start = i
        h = FNV_OFFSET
        fl = 0
        closed = False
        while i < end:
            c = buf[i]
            if c == _QUOTE:
                closed = True
                break
            if c < 32:
                return ERR_CONTROL, i, count
            if c == _BACKSLASH:
                fl |= 1
                h = (h ^ np.uint64(c)) * FNV_PRIME
                i += 1
                if i >= end:
                    break
                c = buf[i]
            elif c >= 128:
                fl |= 2
            h = (h ^ np.uint64(c)) * FNV_PRIME
            i += 1
        if not closed:
            return ERR_EOF, i, count
        if count >= cap:
            return ERR_TOO_MANY, start - 1, count
        starts[count] = start
        lengths[count] = i - start
        flags[count] = fl
        hashes[count] = h
        count += 1
        i += 1
        while i < end:
            c = buf[i]
            if c == _SPACE or c == _LF or c == _CR or c == _TAB:
                i += 1
            else:
                break
        if i >= end:
            return ERR_EOF, i, count
        c = buf[i]
        if c == _COMMA:
            i += 1
            if i >= stop_hint:
                return OK_CHUNK, i, count
        elif c == _RBRACKET:
            return OK_END, i + 1, count
        else:
            return ERR_BYTE, i, count


@njit(cache=True, nogil=True, boundscheck=False)
def skip_value(buf, pos, end):
    """Skip one JSON value starting at ``pos`` (any nesting, strings with escapes).

    Returns ``(status, pos)`` with ``pos`` just after the value. Does not validate numbers or
    literals beyond their extent; enough for the sections heaplens does not read.
    """
    i = pos
    depth = 0
    while i < end:
        c = buf[i]
        if c == _QUOTE:
            i += 1
            while i < end:
                c = buf[i]
                if c == _BACKSLASH:
                    i += 2
                    continue
                if c == _QUOTE:
                    break
                i += 1
            if i >= end:
                return ERR_EOF, i
            i += 1
            if depth == 0:
                return OK_END, i
            continue
        if c == 91 or c == 123:  # [ {
            depth += 1
        elif c == 93 or c == 125:  # ] }
            depth -= 1
            if depth < 0:
                return ERR_BYTE, i
            if depth == 0:
                return OK_END, i + 1
        elif depth == 0 and (c == _COMMA or c == _SPACE or c == _LF or c == _CR or c == _TAB):
            if i > pos:
                return OK_END, i
        i += 1
    return ERR_EOF, i


@njit(cache=True, nogil=True)
def fnv1a(data):
    """The same hash :func:`scan_strings` computes, for bytes built in Python (one string)."""
    h = FNV_OFFSET
    for k in range(data.shape[0]):
        h = (h ^ np.uint64(data[k])) * FNV_PRIME
    return h


@njit(cache=True, nogil=True, boundscheck=False)
def group_pairs(types, names, sizes, ntypes, nstrings):
    """Group nodes by (type, name index): count and self-size sum per distinct pair.

    Two passes over the nodes with name-indexed arrays (no hashing, no sort): first the set of types
    each name occurs with (a bit mask), then a dense slot per (name, type) by prefix sums.
    Returns ``(pair_type, pair_name, pair_count, pair_size)`` in name-then-type order.
    """
    n = types.shape[0]
    masks = np.zeros(nstrings, dtype=np.uint32)
    for k in range(n):
        masks[names[k]] |= np.uint32(1) << np.uint32(types[k])
    base = np.empty(nstrings + 1, dtype=np.int64)
    total = 0
    for s in range(nstrings):
        base[s] = total
        m = masks[s]
        while m:
            m &= m - np.uint32(1)
            total += 1
    base[nstrings] = total
    pair_type = np.empty(total, dtype=np.uint8)
    pair_name = np.empty(total, dtype=np.uint32)
    for s in range(nstrings):
        m = masks[s]
        j = base[s]
        for t in range(ntypes):
            if m & (np.uint32(1) << np.uint32(t)):
                pair_type[j] = t
                pair_name[j] = s
                j += 1
    pair_count = np.zeros(total, dtype=np.int64)
    pair_size = np.zeros(total, dtype=np.int64)
    for k in range(n):
        s = names[k]
        t = np.uint32(types[k])
        below = masks[s] & ((np.uint32(1) << t) - np.uint32(1))
        r = 0
        while below:
            below &= below - np.uint32(1)
            r += 1
        j = base[s] + r
        pair_count[j] += 1
        pair_size[j] += sizes[k]
    return pair_type, pair_name, pair_count, pair_size


@njit(cache=True, nogil=True, boundscheck=False)
def max_value(a):
    m = 0
    for k in range(a.shape[0]):
        if a[k] > m:
            m = a[k]
    return m

