"""The numpy path of the snapshot reader's kernels: what :mod:`heaplens.kernels` uses when the compiled
``heaplens._kernels`` is not installed (a build without a C compiler) or ``HEAPLENS_PURE=1`` is set.

Same functions, same arguments, same contract as the C in ``_kernels.c``: buffers in, a status code
and the byte offset where a function stopped out, never an exception on malformed input, the same
offsets for the same faults (tests/snapshot/test_pykernels.py holds the two side by side).

Each function is split in two:

* a **bulk** step that handles the well-formed case over a window of the buffer with whole-array
  numpy operations (token boundaries from byte classes, numbers from digit weights, string ends from
  quote parity and backslash runs), and stops *before* anything unusual;
* a **step** that is a line-by-line port of the C loop for one token, used where the bulk step
  stopped (the end of an array, a fault, a token longer than a window). It jumps over long runs
  (whitespace, digits, string bytes) with block searches, so no input makes it walk byte by byte
  in Python.

String hashes are the C's 64-bit FNV-1a of the raw bytes, computed for many strings at once (one
numpy pass per byte position), for every string up to :data:`FNV_MAX` bytes — V8 cuts the strings
it writes at 1,024 characters, at most ~6 KB of JSON. Longer strings (only a hand-made file has
them) are hashed with BLAKE2b instead: :func:`fnv1a` follows the same rule, so the hashes of this
path agree with each other, which is all the callers compare.

The graph kernels (``g_*``: dominators, retained sizes, paths) have no numpy path.
"""

from __future__ import annotations

import hashlib
import sys

import numpy as np

OK_CHUNK, OK_END, ERR_BYTE, ERR_TOO_MANY, ERR_EOF, ERR_NUMBER, ERR_CONTROL, ERR_SPACE = range(8)
MAX_WS_RUN = 1 << 20  # the longest whitespace run inside a section (ERR_SPACE at the start of a longer one)

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
FNV_MAX = 8192  # longest string hashed with FNV-1a (longer: BLAKE2b)
MAXF = 64
WINDOW = 1 << 20  # bytes per bulk step (bounds the temporaries: ~10 per byte)
ELEMS = 1 << 18  # array elements per step of the per-node and per-edge loops (bounds their temporaries)
PACK_MAX = 1 << 26  # group_masks: one flag byte per (name, type) up to this many, else a pass per type
_MASK64 = (1 << 64) - 1

_WS = np.zeros(256, dtype=bool)
_WS[[32, 10, 13, 9]] = True
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[48:58] = True
_POW10 = np.array([10**k for k in range(20)], dtype=np.uint64)
_P64 = np.uint64(FNV_PRIME)
_QUOTE, _BSLASH, _COMMA, _CLOSE = 34, 92, 44, 93
# skip_value: the bytes that matter outside strings, at depth 0 and deeper
_SV_TOP = np.zeros(256, dtype=bool)
_SV_TOP[[34, 91, 93, 123, 125, 44, 32, 10, 13, 9]] = True
_SV_DEEP = np.zeros(256, dtype=bool)
_SV_DEEP[[34, 91, 93, 123, 125]] = True


# -- small helpers ------------------------------------------------------------------------------

def _bytes(buf) -> np.ndarray:
    """Any buffer as a 1-D uint8 array (no copy)."""
    if isinstance(buf, np.ndarray) and buf.dtype == np.uint8 and buf.ndim == 1:
        return buf
    return np.frombuffer(buf, dtype=np.uint8)


def _clamp(n: int, a: int, b: int) -> tuple[int, int]:
    a, b = max(int(a), 0), min(int(b), n)
    return min(a, b), b


def _first(a: np.ndarray, start: int, end: int, table: np.ndarray | None = None, want: bool = True,
           byte: int | None = None) -> int:
    """First offset in ``[start, end)`` whose byte is ``byte`` (or is / is not in ``table``); ``end`` if
    none. Blocks grow from 64 bytes, so short hops stay cheap and long ones run at numpy speed."""
    i, n = start, 64
    while i < end:
        j = min(end, i + n)
        blk = a[i:j]
        m = (blk == byte) if byte is not None else (table[blk] if want else ~table[blk])
        k = int(m.argmax())
        if m[k]:
            return i + k
        i, n = j, min(n * 4, WINDOW)
    return end


def _skip_ws(a: np.ndarray, i: int, end: int) -> int:
    if i < end and not _WS[a[i]]:
        return i
    return _first(a, i, end, _WS, want=False)


def _skip_ws_run(a: np.ndarray, i: int, end: int) -> tuple[int, bool]:
    """:func:`_skip_ws` looking at most MAX_WS_RUN + 1 bytes: ``(offset, True)`` when the run from
    ``i`` is longer than MAX_WS_RUN (the C's ERR_SPACE, reported at ``i``)."""
    j = _skip_ws(a, i, min(end, i + MAX_WS_RUN + 1))
    return j, j - i > MAX_WS_RUN


def _escaped(blk: np.ndarray, carry: int) -> tuple[np.ndarray, int]:
    """Per byte of ``blk``: 1 if an odd run of backslashes ends right before it (inside a string:
    the byte is escaped). ``carry`` is the parity of the run that ended the previous block; returns
    the parity at the end of this one."""
    n = len(blk)
    bs = blk == _BSLASH
    idx = np.arange(n, dtype=np.int64)
    last_non = np.maximum.accumulate(np.where(bs, -1, idx))  # last non-backslash at or before k
    run = idx - last_non  # length of the backslash run ending at k (within the block)
    run += np.where(last_non < 0, carry, 0)
    esc = np.empty(n, dtype=bool)
    if n:
        esc[0] = bool(carry & 1)
        esc[1:] = (run[:-1] & 1).astype(bool)
        return esc, int(run[-1] & 1)
    return esc, carry


def _string_end(a: np.ndarray, start: int, end: int, controls: bool = True) -> tuple[int, int, int]:
    """Scan string bytes from ``start`` (just after the opening quote), as the C does: a backslash
    takes the next byte whatever it is. Returns ``(kind, offset, flags)``: kind 0 = closed at the
    quote at ``offset``, 1 = an unescaped control byte at ``offset`` (when ``controls``), 2 = the
    buffer ended (``offset`` = ``end``). ``flags``: 1 = has a backslash, 2 = non-ASCII bytes."""
    i, n, carry, flags = start, 256, 0, 0
    while i < end:
        j = min(end, i + n)
        blk = a[i:j]
        esc, carry_out = _escaped(blk, carry)
        stop = (blk == _QUOTE) & ~esc
        if controls:
            stop |= (blk < 32) & ~esc
        k = int(stop.argmax())
        hit = bool(stop[k])
        seen = blk[:k] if hit else blk
        if (seen == _BSLASH).any():
            flags |= 1
        if ((seen >= 128) & ~esc[: len(seen)]).any():
            flags |= 2
        if hit:
            return (0 if blk[k] == _QUOTE else 1), i + k, flags
        i, n, carry = j, min(n * 4, WINDOW), carry_out
    return 2, end, flags


def _hash_long(raw: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8, person=b"heaplens-str").digest(), "little")


def _hash_many(a: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The hash of each string ``a[starts[i]:starts[i] + lengths[i]]``: FNV-1a for all the strings at
    once, one numpy pass per byte position, longest strings first so the active ones are a prefix."""
    n = len(starts)
    out = np.full(n, FNV_OFFSET, dtype=np.uint64)
    if n == 0:
        return out
    lengths = lengths.astype(np.int64)
    long_ = np.flatnonzero(lengths > FNV_MAX)
    for k in long_.tolist():
        s = int(starts[k])
        out[k] = _hash_long(a[s:s + int(lengths[k])].tobytes())
    short = np.flatnonzero(lengths <= FNV_MAX) if len(long_) else np.arange(n)
    order = short[np.argsort(-lengths[short], kind="stable")]
    ln = lengths[order]
    st = starts[order].astype(np.int64)
    if not len(ln) or ln[0] == 0:
        return out
    h = out[order]
    # active[j] = how many strings are longer than j (ln is sorted longest first)
    active = np.searchsorted(-ln, -np.arange(int(ln[0]), dtype=np.int64), side="left")
    for j in range(int(ln[0])):
        m = int(active[j])
        x = a[st[:m] + j].astype(np.uint64)
        hm = h[:m]
        hm ^= x
        hm *= _P64
    out[order] = h
    return out


# -- counting and searching -------------------------------------------------------------------------

def count_byte(buf, start, end, byte) -> int:
    a = _bytes(buf)
    start, end = _clamp(len(a), start, end)
    x = int(byte) & 0xFF
    n = 0
    for i in range(start, end, WINDOW * 4):
        n += int(np.count_nonzero(a[i:min(end, i + WINDOW * 4)] == x))
    return n


def count_until_close(buf, start, end) -> tuple[int, int]:
    a = _bytes(buf)
    start, end = _clamp(len(a), start, end)
    commas = 0
    for i in range(start, end, WINDOW):
        blk = a[i:min(end, i + WINDOW)]
        m = blk == _CLOSE
        k = int(m.argmax())
        if m[k]:
            return commas + int(np.count_nonzero(blk[:k] == _COMMA)), i + k
        commas += int(np.count_nonzero(blk == _COMMA))
    return commas, -1


def skip_ws(buf, pos, end) -> int:
    a = _bytes(buf)
    pos, end = _clamp(len(a), pos, end)
    return _skip_ws(a, pos, end)


def skip_ws_back(buf, start, end) -> int:
    """One past the last offset in ``[start, end)`` that is not whitespace (``start`` if none)."""
    a = _bytes(buf)
    start, end = _clamp(len(a), start, end)
    i, n = end, 64
    while i > start:
        lo = max(start, i - n)
        nz = np.flatnonzero(~_WS[a[lo:i]])
        if len(nz):
            return lo + int(nz[-1]) + 1
        i, n = lo, min(n * 4, WINDOW)
    return start


def find_byte(buf, start, end, byte) -> int:
    a = _bytes(buf)
    start, end = _clamp(len(a), start, end)
    r = _first(a, start, end, byte=int(byte) & 0xFF)
    return r if r < end else -1


def fnv1a(buf) -> int:
    """The hash :func:`scan_strings` gives a string with these raw bytes."""
    raw = bytes(buf)
    if len(raw) > FNV_MAX:
        return _hash_long(raw)
    h = FNV_OFFSET
    for c in raw:
        h = ((h ^ c) * FNV_PRIME) & _MASK64
    return h


def first_at_least(col, limit) -> int:
    c = np.asarray(col).reshape(-1)
    limit = int(limit)
    if limit < 0 or limit > _MASK64:
        raise OverflowError("first_at_least: limit out of range")
    if c.dtype.itemsize not in (1, 4, 8):
        c = c.view(np.uint8)
    c = c.view({1: np.uint8, 4: np.uint32, 8: np.uint64}[c.dtype.itemsize])
    if limit > int(np.iinfo(c.dtype).max):
        return -1
    lim = c.dtype.type(limit)
    for i in range(0, len(c), ELEMS):
        m = c[i:i + ELEMS] >= lim
        k = int(m.argmax())
        if m[k]:
            return i + k
    return -1


# -- the numbers arrays -----------------------------------------------------------------------------

class _Columns:
    """Where parse_uint_array puts value number ``count``: column ``slots[count % nfields]``, row
    ``count // nfields``; bit k of ``overflow`` when a value did not fit column k."""

    def __init__(self, nfields, slots, columns, sum_field):
        slots = np.frombuffer(slots, dtype=np.int64) if not isinstance(slots, np.ndarray) else slots.view(np.int64)
        if not isinstance(columns, tuple):
            raise TypeError("parse_uint_array: columns must be a tuple")
        if nfields <= 0 or nfields > MAXF or len(slots) < nfields or len(columns) > MAXF:
            raise ValueError("parse_uint_array: bad field layout")
        cols = []
        for c in columns:
            arr = c if isinstance(c, np.ndarray) else np.frombuffer(c, dtype=np.uint8)
            if not arr.flags.writeable or not arr.flags.c_contiguous:
                raise BufferError("parse_uint_array: columns must be writable contiguous arrays")
            isz = arr.dtype.itemsize
            if isz not in (1, 4, 8):
                raise ValueError("parse_uint_array: columns must hold 1, 4 or 8 byte integers")
            cols.append(arr.reshape(-1).view({1: np.uint8, 4: np.uint32, 8: np.uint64}[isz]))
        self.nfields = int(nfields)
        self.dst = [int(s) if 0 <= int(s) < len(cols) else -1 for s in slots[:nfields].tolist()]
        self.cols = cols
        self.sum_field = int(sum_field)
        self.overflow = 0
        self.fsum = 0

    def store(self, vals: np.ndarray, count: int) -> None:
        """Values number ``count``, ``count + 1``, … (uint64)."""
        nf = self.nfields
        for f in range(nf):
            o = (f - count) % nf
            if o >= len(vals):
                continue
            if f == self.sum_field:
                self.fsum = (self.fsum + int(vals[o::nf].sum(dtype=np.uint64))) & _MASK64
            s = self.dst[f]
            if s < 0:
                continue
            col = self.cols[s]
            sub = vals[o::nf]
            row0 = (count + o) // nf
            nw = max(0, min(len(sub), len(col) - row0))
            if nw == 0:
                continue
            sub = sub[:nw]
            col[row0:row0 + nw] = sub  # truncated to the column's width, like the C
            if col.itemsize < 8 and int(sub.max()) > int(np.iinfo(col.dtype).max):
                self.overflow |= 1 << s


def _last_true(m: np.ndarray, stop: int) -> int:
    """Index of the last True in ``m[:stop]``, -1 if none (searching backwards in growing blocks)."""
    n = 4096
    while stop > 0:
        lo = max(0, stop - n)
        hit = np.flatnonzero(m[lo:stop])
        if len(hit):
            return lo + int(hit[-1])
        stop, n = lo, n * 4
    return -1


def _numbers_fast(a, i, end, stop_hint, count, expected, out: _Columns):
    """The common case of :func:`_numbers_bulk`, at numpy's own text-parsing speed: a window whose
    bytes up to a comma are digit runs, commas, and whitespace only between a digit and a comma
    (V8 writes a newline at the end of each node or edge), each value at most 19 digits. Those
    values are checked here and converted by ``numpy.fromstring``. Anything else — the end of
    the array, a fault, an unusual layout — returns ``(None, i, count)`` untouched, for the exact
    (slower) bulk step."""
    wend = min(end, i + WINDOW)
    b = a[i:wend]
    n = len(b)
    if n < 2:
        return None, i, count
    isd = (b - np.uint8(48)) < 10
    isc = b == _COMMA
    other = np.flatnonzero(~(isd | isc))
    lim = n
    if len(other):
        ob = b[other]
        ws = (ob == 10) | (ob == 32) | (ob == 13) | (ob == 9)
        if not ws.all():
            j = int((~ws).argmax())
            lim, other = int(other[j]), other[:j]
    lc = _last_true(isc, lim)
    status = None
    rel = stop_hint - i - 1
    if 0 <= lc and rel <= lc:  # the C stops after the first comma at or past stop_hint - 1
        k = int(isc[max(rel, 0):lc + 1].argmax()) + max(rel, 0)
        lc, status = k, OK_CHUNK
    if lc <= 0:
        return None, i, count
    other = other[: int(np.searchsorted(other, lc))]
    # whitespace only between a digit and a comma: then no value is empty or split
    if len(other) and (other[0] == 0 or not (isd[other - 1] & isc[other + 1]).all()):
        return None, i, count
    d = isd[:lc]
    T = int(np.count_nonzero(isc[:lc])) + 1
    if count + T > expected:
        return None, i, count
    runs = int(np.count_nonzero(d[1:] & ~d[:-1])) + int(d[0])
    if runs != T or not d[0] or isc[lc - 1] or np.count_nonzero(isc[1:lc] & isc[: lc - 1]):
        return None, i, count
    # no run of 20 digits (the C refuses them)
    r = d
    for w in (1, 2, 4, 8, 4):
        r = r[:-w] & r[w:]
        if not r.any():
            break
    else:
        return None, i, count
    vals = np.fromstring(b[:lc].tobytes(), dtype=np.uint64, sep=",")
    if len(vals) != T:
        return None, i, count
    out.store(vals, count)
    return status, i + lc + 1, count + T


def _numbers_bulk(a, i, end, stop_hint, count, expected, out: _Columns):
    """Whole (number, comma) pairs from ``i`` (the start of a value, whitespace allowed) on, in one
    window. Returns ``(status or None, i, count)``: None with ``i`` unchanged when there was no clean
    pair to take (the caller runs one C-like step)."""
    wend = min(end, i + WINDOW)
    b = a[i:wend]
    nz = np.flatnonzero(~_WS[b])
    if len(nz) < 2:
        return None, i, count
    t = b[nz]
    isd = _DIGIT[t]
    cont = np.zeros(len(nz), dtype=bool)  # a digit continuing the digit right before it
    cont[1:] = isd[1:] & isd[:-1] & (nz[1:] == nz[:-1] + 1)
    tok = np.flatnonzero(~cont)  # compressed index of each token (a digit run or one other byte)
    kind_d = isd[tok]
    kind_c = t[tok] == _COMMA
    ntok = len(tok)
    bad = np.empty(ntok, dtype=bool)
    bad[0::2] = ~kind_d[0::2]
    bad[1::2] = ~kind_c[1::2]
    jv = int(bad.argmax()) if bad.any() else ntok
    npairs = jv // 2
    if npairs == 0:
        return None, i, count
    num_tok = tok[0:2 * npairs:2]
    comma_tok = tok[1:2 * npairs:2]
    runlen = comma_tok - num_tok
    runpos = nz[num_tok]
    commapos = nz[comma_tok]
    lim = npairs
    p19 = np.flatnonzero(runlen > 19)
    p19 = int(p19[0]) if len(p19) else npairs
    pexp = max(int(expected) - count, 0)
    pexp = min(pexp, npairs)
    pst = np.flatnonzero(commapos >= stop_hint - i - 1)
    pst = int(pst[0]) if len(pst) else npairs
    m = min(p19, pexp, pst, lim)
    if m < npairs and m == p19:
        status, take, stop = ERR_NUMBER, p19, i + int(runpos[p19])
    elif m < npairs and m == pexp:
        status, take, stop = ERR_TOO_MANY, pexp, i + int(runpos[pexp])
    elif m < npairs and m == pst:
        status, take, stop = OK_CHUNK, pst + 1, i + int(commapos[pst]) + 1
    else:
        status, take, stop = None, npairs, i + int(commapos[npairs - 1]) + 1
    if take:
        L = runlen[:take]
        first = np.cumsum(L) - L
        last = int(comma_tok[take - 1])
        d = (t[:last][isd[:last]] - 48).astype(np.uint64)
        e = np.repeat(first + L - 1, L) - np.arange(len(d), dtype=np.int64)
        vals = np.add.reduceat(d * _POW10[e], first)
        out.store(vals, count)
        count += take
    return status, stop, count


def _numbers_step(a, i, end, stop_hint, count, expected, out: _Columns):
    """One iteration of the C loop (from its top: whitespace, then a number). Returns
    ``(status or None, i, count)``; None: a number and its comma were taken, go on at ``i``."""
    j, long_run = _skip_ws_run(a, i, end)
    if long_run:
        return ERR_SPACE, i, count
    i = j
    if i >= end:
        return ERR_EOF, i, count
    if not _DIGIT[a[i]]:
        return ERR_BYTE, i, count
    start = i
    i = _first(a, i, end, _DIGIT, want=False)
    if i - start > 19:
        return ERR_NUMBER, start, count
    if count >= expected:
        return ERR_TOO_MANY, start, count
    out.store(np.array([int(a[start:i].tobytes())], dtype=np.uint64), count)
    count += 1
    if i >= end:
        return ERR_EOF, i, count
    c = int(a[i])
    if c != _COMMA and _WS[c]:
        j, long_run = _skip_ws_run(a, i, end)
        if long_run:
            return ERR_SPACE, i, count
        i = j
        if i >= end:
            return ERR_EOF, i, count
        c = int(a[i])
    if c == _COMMA:
        i += 1
        return (OK_CHUNK if i >= stop_hint else None), i, count
    if c == _CLOSE:
        return OK_END, i + 1, count
    return ERR_BYTE, i, count


def parse_uint_array(buf, pos, end, stop_hint, count, expected, nfields, slots, columns, sum_field):
    """``(status, pos, count, overflow_mask, field_sum)``; see ``_kernels.c``."""
    out = _Columns(nfields, slots, columns, sum_field)
    a = _bytes(buf)
    pos, end = _clamp(len(a), pos, end)
    stop_hint, count, expected = int(stop_hint), int(count), int(expected)
    i, long_run = _skip_ws_run(a, pos, end)
    if long_run:
        return ERR_SPACE, pos, count, 0, 0
    if i < end and a[i] == _CLOSE and count == 0:
        return OK_END, i + 1, count, 0, 0
    unusual = False  # the fast step failed twice in a row: this array is not laid out like V8's
    while True:
        before = i
        status, i, count = _numbers_fast(a, i, end, stop_hint, count, expected, out)
        if status is None and i == before:
            if unusual:
                status, i, count = _numbers_bulk(a, i, end, stop_hint, count, expected, out)
            if status is None and i == before:  # the end of the array, a fault, or a long token
                status, i, count = _numbers_step(a, i, end, stop_hint, count, expected, out)
            unusual = True
        else:
            unusual = False
        if status is not None:
            return status, i, count, out.overflow, out.fsum


# -- the strings array ------------------------------------------------------------------------------

def _escapes(bsp: np.ndarray) -> np.ndarray:
    """Offsets escaped by a backslash, from the (sorted) offsets of the backslashes: the byte after
    each run of odd length (inside a string; pairs escape each other)."""
    if not len(bsp):
        return bsp
    new = np.ones(len(bsp), dtype=bool)
    new[1:] = bsp[1:] != bsp[:-1] + 1
    starts = np.flatnonzero(new)
    lens = np.diff(np.append(starts, len(bsp)))
    ends = bsp[starts + lens - 1]
    return ends[(lens & 1) == 1] + 1


def _strings_fast(a, i, end, stop_hint, count, cap, outs):
    """The common case of :func:`_strings_bulk`: strings separated by a comma and at most one
    whitespace byte (V8 writes ``",\n"``), no control byte inside a string, no backslash outside
    one. Strings are found from the quote offsets alone. Anything else returns ``(None, i, count)``
    for the exact bulk step."""
    wend = min(end, i + WINDOW)
    b = a[i:wend]
    n = len(b)
    qp = np.flatnonzero(b == _QUOTE)
    if len(qp) < 2:
        return None, i, count
    bsp = np.flatnonzero(b == _BSLASH)
    esc = _escapes(bsp)
    if len(esc):
        qp = qp[~np.isin(qp, esc, assume_unique=True)]
    lead = qp[0] if len(qp) else n
    if lead > 2 or (lead and not _WS[b[:lead]].all()):
        return None, i, count
    T = len(qp) // 2
    opens, closes = qp[0:2 * T:2], qp[1:2 * T:2]
    # each string but the last one complete in the window is followed by "," and maybe one whitespace
    after = closes + 1
    T = int(np.searchsorted(after, n))  # a comma after the close must be inside the window
    if T == 0:
        return None, i, count
    opens, closes, after = opens[:T], closes[:T], after[:T]
    if not (b[after] == _COMMA).all():
        T = int((b[after] != _COMMA).argmax())
        if T == 0:
            return None, i, count
        opens, closes, after = opens[:T], closes[:T], after[:T]
    gap = opens[1:] - after[:-1] - 1
    if len(gap) and (gap.max() > 1 or (gap.min() < 0)):
        return None, i, count
    if len(gap) and gap.max() == 1 and not _WS[b[after[:-1][gap == 1] + 1]].all():
        return None, i, count
    pst = np.flatnonzero(after >= stop_hint - i - 1)
    status = None
    if len(pst):
        T = int(pst[0]) + 1
        status = OK_CHUNK
    if count + T > cap:
        return None, i, count
    opens, closes, after = opens[:T], closes[:T], after[:T]
    rend = int(after[-1]) + 1  # just past the last comma taken
    # control bytes: only the whitespace before the first string and between the strings
    n_ws_ctl = int(np.count_nonzero(b[:lead] < 32))
    if T > 1:
        gap = opens[1:] - after[:-1] - 1
        g1 = after[:-1][gap == 1] + 1
        n_ws_ctl += int(np.count_nonzero(b[g1] < 32))
    if int(np.count_nonzero(b[:rend] < 32)) != n_ws_ctl:
        return None, i, count
    starts = opens + 1
    fl = np.zeros(T, dtype=np.uint8)
    if len(bsp):
        bsp = bsp[bsp < rend]
        sidx = np.searchsorted(opens, bsp, side="right") - 1
        if len(bsp) and ((sidx < 0).any() or (bsp >= closes[np.maximum(sidx, 0)]).any()):
            return None, i, count  # a backslash outside a string
        fl[sidx] |= 1
    hi = np.flatnonzero(b[:rend] >= 128)
    if len(hi):
        if len(esc):
            hi = hi[~np.isin(hi, esc, assume_unique=True)]
        fl[np.searchsorted(opens, hi, side="right") - 1] |= 2
    st, ln, flg, hs = outs
    g = starts + i
    lengths = closes - starts
    st[count:count + T] = g
    ln[count:count + T] = lengths
    flg[count:count + T] = fl
    hs[count:count + T] = _hash_many(a, g, lengths)
    return status, i + rend, count + T


def _strings_bulk(a, i, end, stop_hint, count, cap, outs):
    """Whole (string, comma) pairs in one window from ``i`` (before an opening quote)."""
    wend = min(end, i + WINDOW)
    b = a[i:wend]
    esc, _ = _escaped(b, 0)
    uq = (b == _QUOTE) & ~esc
    before = np.cumsum(uq, dtype=np.int64) - uq  # unescaped quotes before each byte
    inside = ((before & 1) == 1) & ~uq
    ctl = np.flatnonzero(inside & (b < 32) & ~esc)
    sp = np.flatnonzero(~inside & ~_WS[b])  # outside strings: quotes, commas, anything else
    if len(sp) < 3:
        return None, i, count
    kinds = b[sp]
    want = np.resize(np.array([_QUOTE, _QUOTE, _COMMA], dtype=np.uint8), len(sp))
    bad = kinds != want
    jv = int(bad.argmax()) if bad.any() else len(sp)
    T = jv // 3
    if len(ctl):
        T = min(T, int(np.searchsorted(sp[0::3], ctl[0])) - 1)  # strings before the one with the control byte
    if T <= 0:
        return None, i, count
    opens, closes, commas = sp[0:3 * T:3], sp[1:3 * T:3], sp[2:3 * T:3]
    pcap = min(max(cap - count, 0), T)
    pst = np.flatnonzero(commas >= stop_hint - i - 1)
    pst = int(pst[0]) if len(pst) else T
    if pcap < T and pcap <= pst:
        status, take, stop = ERR_TOO_MANY, pcap, i + int(opens[pcap])
    elif pst < T:
        status, take, stop = OK_CHUNK, pst + 1, i + int(commas[pst]) + 1
    else:
        status, take, stop = None, T, i + int(commas[T - 1]) + 1
    if take:
        o, c = opens[:take], closes[:take]
        starts = o + 1
        lengths = c - starts
        cb = np.concatenate(([0], np.cumsum(b == _BSLASH, dtype=np.int64)))
        cn = np.concatenate(([0], np.cumsum((b >= 128) & ~esc, dtype=np.int64)))
        fl = ((cb[c] - cb[starts]) > 0).astype(np.uint8) | (((cn[c] - cn[starts]) > 0).astype(np.uint8) << 1)
        g = starts + i
        st, ln, flg, hs = outs
        st[count:count + take] = g
        ln[count:count + take] = lengths
        flg[count:count + take] = fl
        hs[count:count + take] = _hash_many(a, g, lengths)
        count += take
    return status, stop, count


def _strings_step(a, i, end, stop_hint, count, cap, first, outs):
    j, long_run = _skip_ws_run(a, i, end)
    if long_run:
        return ERR_SPACE, i, count
    i = j
    if i >= end:
        return ERR_EOF, i, count
    c = int(a[i])
    if c == _CLOSE and first:
        return OK_END, i + 1, count
    if c != _QUOTE:
        return ERR_BYTE, i, count
    start = i + 1
    kind, j, fl = _string_end(a, start, end)
    if kind == 1:
        return ERR_CONTROL, j, count
    if kind == 2:
        return ERR_EOF, end, count
    if count >= cap:
        return ERR_TOO_MANY, start - 1, count
    if j - start > 0xFFFFFFFF:
        return ERR_BYTE, start, count
    st, ln, flg, hs = outs
    st[count], ln[count], flg[count] = start, j - start, fl
    hs[count] = _hash_many(a, np.array([start]), np.array([j - start]))[0]
    count += 1
    i, long_run = _skip_ws_run(a, j + 1, end)
    if long_run:
        return ERR_SPACE, j + 1, count
    if i >= end:
        return ERR_EOF, i, count
    c = int(a[i])
    if c == _COMMA:
        i += 1
        return (OK_CHUNK if i >= stop_hint else None), i, count
    if c == _CLOSE:
        return OK_END, i + 1, count
    return ERR_BYTE, i, count


def scan_strings(buf, pos, end, stop_hint, count, starts, lengths, flags, hashes):
    """``(status, pos, count)``; see ``_kernels.c``."""
    a = _bytes(buf)
    outs = (np.asarray(starts).view(np.int64), np.asarray(lengths).view(np.uint32), np.asarray(flags).view(np.uint8),
            np.asarray(hashes).view(np.uint64))
    for o in outs:
        if not o.flags.writeable:
            raise BufferError("scan_strings: output arrays must be writable")
    cap = min(len(o) for o in outs)
    pos, end = _clamp(len(a), pos, end)
    stop_hint, count = int(stop_hint), int(count)
    i, first = pos, count == 0  # only the first token may be the "]" of an empty array
    unusual = False
    while True:
        before = i
        status, i, count = _strings_fast(a, i, end, stop_hint, count, cap, outs)
        if status is None and i == before:
            if unusual:
                status, i, count = _strings_bulk(a, i, end, stop_hint, count, cap, outs)
            if status is None and i == before:
                status, i, count = _strings_step(a, i, end, stop_hint, count, cap, first, outs)
            unusual = True
        else:
            unusual = False
        first = False
        if status is not None:
            return status, i, count


# -- skipping any JSON value ------------------------------------------------------------------------

def skip_value(buf, pos, end) -> tuple[int, int]:
    """``(status, pos after one JSON value)``, with the C's leniency (it only tracks strings and
    nesting)."""
    a = _bytes(buf)
    pos, end = _clamp(len(a), pos, end)
    i, depth = pos, 0
    while i < end:
        if depth == 0:
            i = _first(a, i, end, _SV_TOP)
            if i >= end:
                break
        c = int(a[i])
        if c == _QUOTE:
            kind, j, _ = _string_end(a, i + 1, end, controls=False)
            if kind == 2:
                return ERR_EOF, end
            i = j + 1
            if depth == 0:
                return OK_END, i
            continue
        if c in (91, 123):
            depth += 1
        elif c in (93, 125):
            depth -= 1
            if depth < 0:
                return ERR_BYTE, i
            if depth == 0:
                return OK_END, i + 1
        elif depth == 0:  # a comma or whitespace ends a bare value
            if i > pos:
                return OK_END, i
            if _WS[c]:  # leading whitespace: a run longer than the C accepts is refused where it starts
                j, long_run = _skip_ws_run(a, i, end)
                if long_run:
                    return ERR_SPACE, i
                i = j
                continue
        i += 1
        if depth > 0:
            status, i, depth = _skip_nested(a, i, end, depth)
            if status is not None:
                return status, i
    return ERR_EOF, end


def _skip_nested(a, i, end, depth):
    """Inside brackets (``depth`` > 0), up to the next string: the depth after each bracket from a
    cumulative sum. Returns ``(OK_END, ERR_SPACE or None, i, depth)``: at the quote with the depth so
    far, just after the bracket that closed the value, or at the start of a whitespace run longer than
    MAX_WS_RUN (whichever comes first, as the C meets them)."""
    n = 256
    run = -1  # where the whitespace run reaching the end of the previous block started
    while i < end:
        j = min(end, i + n)
        blk = a[i:j]
        q = blk == _QUOTE
        k = int(q.argmax())
        seg = blk[:k] if q[k] else blk
        delta = ((seg == 91) | (seg == 123)).astype(np.int64) - ((seg == 93) | (seg == 125))
        d = depth + np.cumsum(delta)
        zero = np.flatnonzero(d <= 0)
        close = int(zero[0]) if len(zero) else len(seg)  # bytes before the closing bracket, if any
        long_at, run = _long_run(seg[:close], i, run)
        if long_at >= 0:
            return ERR_SPACE, long_at, depth
        if len(zero):
            return OK_END, i + close + 1, 0
        depth = int(d[-1]) if len(d) else depth
        if q[k]:
            return None, i + k, depth
        i, n = j, min(n * 4, WINDOW)
    return None, end, depth


def _long_run(seg: np.ndarray, at: int, run: int) -> tuple[int, int]:
    """The start of the first whitespace run longer than MAX_WS_RUN in ``seg`` (at offset ``at``; a run
    carried in from before started at ``run``), or -1; and where the run open at its end started (-1)."""
    n = len(seg)
    if n == 0:
        return -1, run
    nonws = np.flatnonzero(~_WS[seg])
    if not len(nonws):
        start = run if run >= 0 else at
        return (start if at + n - start > MAX_WS_RUN else -1), start
    first = int(nonws[0])
    if first:
        start = run if run >= 0 else at
        if at + first - start > MAX_WS_RUN:
            return start, -1
    elif run >= 0 and at - run > MAX_WS_RUN:
        return run, -1
    gaps = np.diff(nonws) - 1
    big = np.flatnonzero(gaps > MAX_WS_RUN)
    if len(big):
        return at + int(nonws[int(big[0])]) + 1, -1
    last = int(nonws[-1])
    if last + 1 < n:
        start = at + last + 1
        return (start if at + n - start > MAX_WS_RUN else -1), start
    return -1, -1


# -- grouping nodes by (type, name) -----------------------------------------------------------------

def _popcount(a: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(a).astype(np.int64)
    a = a.astype(np.uint32)
    a = a - ((a >> 1) & 0x55555555)
    a = (a & 0x33333333) + ((a >> 2) & 0x33333333)
    return ((((a + (a >> 4)) & 0x0F0F0F0F) * 0x01010101 & 0xFFFFFFFF) >> 24).astype(np.int64)


def group_masks(types, names, masks) -> int:
    t = np.frombuffer(types, dtype=np.uint8)
    n = np.frombuffer(names, dtype=np.uint32)
    m = np.asarray(masks).view(np.uint32)
    count = min(len(t), len(n))
    t, n = t[:count], n[:count]
    bad = np.flatnonzero((n >= len(m)) | (t >= 32))
    stop = int(bad[0]) if len(bad) else count
    t, n = t[:stop], n[:stop]
    ns = len(m)
    if ns * 32 <= PACK_MAX and sys.byteorder == "little":  # one flag per (name, type), packed into the masks
        flags = np.zeros(ns * 32, dtype=bool)
        flags[n.astype(np.int64) * 32 + t] = True
        m |= np.packbits(flags.reshape(ns, 32), axis=1, bitorder="little").view(np.uint32).reshape(ns)
    else:
        for ty in np.unique(t).tolist():
            m[n[t == ty]] |= np.uint32(1 << ty)
    return -1 if len(bad) else 0


def group_fill(masks, base, pair_type, pair_name) -> None:
    m = np.frombuffer(masks, dtype=np.uint32)
    b = np.frombuffer(base, dtype=np.int64)
    pt = np.asarray(pair_type).view(np.uint8)
    pn = np.asarray(pair_name).view(np.uint32)
    ns = min(len(m), len(b) - 1)
    total = min(len(pt), len(pn))
    m, b = m[:ns], b[:ns]
    seen = int(np.bitwise_or.reduce(m)) if ns else 0
    for ty in range(32):
        if not seen >> ty & 1:
            continue
        s = np.flatnonzero(m & np.uint32(1 << ty))
        if not len(s):
            continue
        j = b[s] + _popcount(m[s] & np.uint32((1 << ty) - 1))
        ok = (j >= 0) & (j < total)
        pt[j[ok]] = ty
        pn[j[ok]] = s[ok]


def group_sums(types, names, sizes, size_itemsize, masks, base, pair_count, pair_size) -> None:
    t = np.frombuffer(types, dtype=np.uint8)
    n = np.frombuffer(names, dtype=np.uint32)
    zsize = int(size_itemsize) if int(size_itemsize) in (4, 8) else 4
    z = np.frombuffer(sizes, dtype=np.uint32 if zsize == 4 else np.uint64)
    m = np.frombuffer(masks, dtype=np.uint32)
    b = np.frombuffer(base, dtype=np.int64)
    pc = np.asarray(pair_count).view(np.int64)
    ps = np.asarray(pair_size).view(np.int64)
    count = min(len(t), len(n), len(z))
    total = min(len(pc), len(ps))
    for a0 in range(0, count, ELEMS):
        sl = slice(a0, min(count, a0 + ELEMS))
        tt, nn, zz = t[sl], n[sl], z[sl]
        ok = (nn < len(m)) & (tt < 32)
        if not ok.all():
            tt, nn, zz = tt[ok], nn[ok], zz[ok]
        bit = np.left_shift(np.uint32(1), tt.astype(np.uint32))
        j = b[nn] + _popcount(m[nn] & (bit - np.uint32(1)))
        ok = (j >= 0) & (j < total)
        if not ok.all():
            j, zz = j[ok], zz[ok]
        np.add.at(pc, j, 1)
        np.add.at(ps, j, zz.astype(np.uint64).view(np.int64))


# -- node classes and edges -------------------------------------------------------------------------

def edge_targets(to, nfields, count) -> tuple[int, int]:
    nf, count = int(nfields), int(count)
    if nf <= 0:
        raise ValueError("edge_targets: nfields must be positive")
    arr = np.asarray(to)
    if not arr.flags.writeable:
        raise BufferError("edge_targets: the column must be writable")
    v = arr.reshape(-1).view(np.uint32 if arr.dtype.itemsize == 4 else np.uint64)
    f = v.dtype.type(nf)
    for i in range(0, len(v), ELEMS):
        blk = v[i:i + ELEMS]
        q = blk // f
        bad1 = q * f != blk
        bad2 = q >= count if count <= int(np.iinfo(v.dtype).max) else np.zeros(len(q), dtype=bool)
        bad = bad1 | bad2
        k = int(bad.argmax())
        if bad[k]:
            blk[:k] = q[:k]
            return i + k, (1 if bad1[k] else 2)
        blk[:] = q
    return -1, 0


def named_edges_in_range(types, names, named, nstrings) -> int:
    t = np.asarray(types).reshape(-1).view(np.uint8)
    nm = np.asarray(names).reshape(-1)
    nm = nm.view(np.uint32 if nm.dtype.itemsize == 4 else np.uint64)
    mk = np.frombuffer(named, dtype=np.uint8)[:256]
    n = min(len(t), len(nm))
    lim = int(nstrings)
    if lim > int(np.iinfo(nm.dtype).max):
        return -1
    table = np.zeros(256, dtype=bool)
    table[: len(mk)] = mk != 0
    for i in range(0, n, ELEMS):
        j = min(n, i + ELEMS)
        hit = table[t[i:j]] & (nm[i:j] >= nm.dtype.type(lim))
        k = int(hit.argmax())
        if hit[k]:
            return i + k
    return -1


def node_class_ids(ntype, nname, per_type, out, used) -> int:
    t = np.frombuffer(ntype, dtype=np.uint8)
    nm = np.frombuffer(nname, dtype=np.uint32)
    per = np.frombuffer(per_type, dtype=np.int64)
    o = np.asarray(out).view(np.uint32)
    u = np.asarray(used).view(np.uint8)
    n = min(len(t), len(nm), len(o))
    t, nm = t[:n], nm[:n]
    big = t >= len(per)
    c = per[np.where(big, 0, t)] if len(per) else np.full(n, -1, dtype=np.int64)
    named = c < 0
    bad = np.flatnonzero(big | (named & (nm >= len(u))))
    stop = int(bad[0]) if len(bad) else n
    o[:stop] = np.where(named[:stop], nm[:stop], c[:stop].astype(np.uint32))
    u[nm[:stop][named[:stop]]] = 1
    return -1 if len(bad) else 0


def remap_ids(ids, ntype, per_type, remap) -> None:
    ids_ = np.asarray(ids).view(np.uint32)
    t = np.frombuffer(ntype, dtype=np.uint8)
    per = np.frombuffer(per_type, dtype=np.int64)
    r = np.frombuffer(remap, dtype=np.int64)
    n = min(len(ids_), len(t))
    v, tt = ids_[:n], t[:n]
    ok = tt < len(per)
    ok[ok] = per[tt[ok]] < 0
    ok &= v < len(r)
    k = np.flatnonzero(ok)
    new = r[v[k]]
    hit = new >= 0
    v[k[hit]] = new[hit].astype(np.uint32)
