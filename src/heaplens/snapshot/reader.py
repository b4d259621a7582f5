"""Read V8 ``.heapsnapshot`` files into compact numpy arrays.

The file is memory-mapped (a ``.gz`` file is first inflated into a temporary file) and walked once,
section by section, by the compiled (C) kernels in :mod:`heaplens.kernels`. Only what the caller asks for
is kept: the summary needs three node columns and the string index, the graph needs the edges too.
Pages behind the parser are released as it goes (``MADV_DONTNEED``), so the resident size stays near
the size of the arrays rather than the size of the file.

The layout (node and edge fields, type enums) always comes from ``snapshot.meta``.
"""

from __future__ import annotations

import errno
import gzip
import json
import mmap
import os
import re
import sys
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .. import kernels as K
from ..errors import SnapshotError, UsageError
from ..inputfile import NotRegular, open_regular
from ..units import parse_size
from .strings import StringTable

CHUNK = 8 << 20  # bytes per parsing task; pages are released after each round
_COMMA_WINDOW = 2 << 20  # how far past a chunk's planned end its closing comma is looked for
_THREADS = 2  # number-parsing tasks per round (the machines have 2 cores)
_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        # one more worker than parsing tasks: the strings index runs beside them
        _POOL = ThreadPoolExecutor(_THREADS + 1, thread_name_prefix="heaplens-parse")
    return _POOL
_PAGE = mmap.PAGESIZE
_U32_MAX = 0xFFFFFFFF
_U64_MAX = 0xFFFFFFFFFFFFFFFF

REQUIRED_NODE_FIELDS = ("type", "name", "id", "self_size", "edge_count")
REQUIRED_EDGE_FIELDS = ("type", "name_or_index", "to_node")
REQUIRED_LOCATION_FIELDS = ("object_index", "script_id", "line", "column")  # when there are locations
STRING_EDGE_TYPES = ("context", "property", "internal", "shortcut", "weak")
FLAT_SECTIONS = ("trace_function_infos", "samples", "locations")  # flat number arrays

_HEAD_RE = re.compile(rb'\A\s*\{\s*"snapshot"\s*:\s*')
_HEAD_BYTES = 4096  # the header check looks at this many first bytes

# Gzip input is inflated to a temporary file, at most GZIP_MAX_RATIO times the compressed size (never
# less than GZIP_FLOOR) and at most GZIP_MAX_BYTES; both can be raised through the environment.
# V8 snapshots compress about 5x (gzip -1 to -9), a gzip bomb of whitespace about 1000x.
GZIP_STEP = 4 << 20
GZIP_FLOOR = 64 << 20
GZIP_MAX_RATIO = 100
GZIP_MAX_BYTES = 16 << 30
ENV_GZIP_MAX_RATIO = "HEAPLENS_GZIP_MAX_RATIO"
ENV_GZIP_MAX_BYTES = "HEAPLENS_GZIP_MAX_BYTES"


def _env_size(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        return parse_size(text)
    except ValueError:
        raise UsageError(f"{name}={text!r}: expected a size such as 32G, 500M or a number of bytes") from None


def _env_ratio(name: str, default: int) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        v = float(text)
    except ValueError:
        v = -1.0
    if not v > 0 or v != v:
        raise UsageError(f"{name}={text!r}: expected a positive number (inflated size / compressed size)")
    return v


def gzip_limit(compressed: int) -> int:
    """How many bytes a ``.gz`` file of ``compressed`` bytes may inflate to."""
    ratio = _env_ratio(ENV_GZIP_MAX_RATIO, GZIP_MAX_RATIO)
    cap = _env_size(ENV_GZIP_MAX_BYTES, GZIP_MAX_BYTES)
    return int(min(cap, max(GZIP_FLOOR, ratio * compressed)))


def _too_big(limit: int) -> str:
    """Why inflating stopped at ``limit`` (:func:`gzip_limit`): the absolute cap, or the ratio."""
    cap = _env_size(ENV_GZIP_MAX_BYTES, GZIP_MAX_BYTES)
    if limit >= cap:
        return (f"inflates to more than {limit:,} bytes, the limit for gzip input; stopped there "
                f"({ENV_GZIP_MAX_BYTES}=SIZE raises it)")
    ratio = _env_ratio(ENV_GZIP_MAX_RATIO, GZIP_MAX_RATIO)
    return (f"inflates to more than {ratio:g}x its compressed size ({limit:,} bytes; heap snapshots compress "
            f"about 5x): stopped there as a likely gzip bomb ({ENV_GZIP_MAX_RATIO}=N raises the limit)")


def check_head(head: bytes, display: str) -> int:
    """The offset just past ``{"snapshot":`` at the start of ``head`` (the first bytes of a file);
    :class:`SnapshotError` when they cannot start a V8 heap snapshot."""
    m = _HEAD_RE.match(head)
    if m:
        return m.end()
    stripped = head.lstrip()
    if not stripped:
        raise SnapshotError(display, "not JSON: only whitespace" if len(head) < _HEAD_BYTES else
                            f"not a V8 heap snapshot: only whitespace in the first {len(head):,} bytes")
    if stripped[:1] not in (b"{", b"["):
        raise SnapshotError(display, "not JSON: does not start with '{'", len(head) - len(stripped))
    raise SnapshotError(display, 'not a V8 heap snapshot: no "snapshot" header at the start')

Progress = Callable[[int], None]  # called with the number of bytes consumed since the last call


@dataclass
class Layout:
    """What ``snapshot.meta`` says about the arrays."""

    node_fields: list[str]
    node_types: list[str]
    edge_fields: list[str]
    edge_types: list[str]
    location_fields: list[str] = field(default_factory=list)

    @property
    def node_field_count(self) -> int:
        return len(self.node_fields)

    @property
    def edge_field_count(self) -> int:
        return len(self.edge_fields)

    def node_type_index(self, name: str) -> int:
        """Index of a node type in the enum, -1 if this snapshot has no such type."""
        return self.node_types.index(name) if name in self.node_types else -1

    def edge_type_index(self, name: str) -> int:
        return self.edge_types.index(name) if name in self.edge_types else -1


@dataclass
class Edges:
    """Edges in file order (grouped by source node). ``to_node`` is a node ordinal, not an offset."""

    type: np.ndarray  # uint8
    name_or_index: np.ndarray  # uint32 (uint64 if a value did not fit)
    to_node: np.ndarray  # uint32 ordinal


@dataclass
class HeapSnapshot:
    """One parsed snapshot. Arrays are numpy; strings are decoded lazily from the mapped file.

    Keep it open while strings are needed (``close()`` or use it as a context manager).
    """

    path: str
    file_size: int
    layout: Layout
    node_count: int
    edge_count: int
    extra_native_bytes: int
    nodes: dict[str, np.ndarray]  # requested node columns by field name
    strings: StringTable
    edges: Edges | None = None
    locations: np.ndarray | None = None  # (n, len(location_fields)) uint32
    nodes_task_result: object = None
    _source: "_Source | None" = None

    def close(self) -> None:
        self.strings.release()
        if self._source is not None:
            self._source.close()
            self._source = None

    def __enter__(self) -> "HeapSnapshot":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def type_names(self) -> list[str]:
        return self.layout.node_types


class _Source:
    """A memory-mapped snapshot file. A gzip file is inflated into an unnamed temporary file first
    (nothing is left behind if heaplens is killed), checked while it streams: its first bytes must
    open a snapshot, and it may not inflate past :func:`gzip_limit` (a bomb stops there).

    Only regular files are read: a FIFO would block the open forever and a device never ends."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None
        self.mm = None
        try:
            fd, st = open_regular(path)
        except NotRegular as exc:
            raise SnapshotError(path, str(exc)) from None
        except FileNotFoundError:
            raise SnapshotError(path, "no such file") from None
        except IsADirectoryError:
            raise SnapshotError(path, "is a directory, not a snapshot file") from None
        except PermissionError:
            raise SnapshotError(path, "permission denied") from None
        except OSError as exc:
            raise SnapshotError(path, f"cannot read: {exc.strerror or exc}") from None
        self._fd = fd
        try:
            magic = os.pread(fd, 2, 0)
            if magic == b"\x1f\x8b":
                self._fd = self._inflate(path, fd, st.st_size)
                os.close(fd)
            self.size = os.fstat(self._fd).st_size
            if self.size == 0:
                raise SnapshotError(path, "empty file")
            self.mm = mmap.mmap(self._fd, 0, access=mmap.ACCESS_READ)
        except BaseException:
            if self._fd != fd:
                os.close(fd)
            self.close()
            raise
        if hasattr(mmap, "MADV_SEQUENTIAL"):
            self.mm.madvise(mmap.MADV_SEQUENTIAL)
        self.buf = np.frombuffer(self.mm, dtype=np.uint8)

    def _inflate(self, path: Path, fd: int, compressed: int) -> int:
        """Inflate into an unnamed temporary file; returns its descriptor."""
        limit = gzip_limit(compressed)
        try:
            out = tempfile.TemporaryFile(prefix="heaplens-gz-", buffering=0)
        except OSError as exc:
            raise SnapshotError(path, f"cannot create a temporary file in {tempfile.gettempdir()} to inflate it: "
                                      f"{exc.strerror or exc}") from None
        written = 0
        pending = b""  # the first bytes, held until there are enough to check
        checked = False
        try:
            with os.fdopen(os.dup(fd), "rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as src:
                while True:
                    try:
                        chunk = src.read(GZIP_STEP)
                    except (OSError, EOFError, zlib.error) as exc:
                        done = written + len(pending)
                        after = f" after {done:,} inflated bytes" if done else ""
                        raise SnapshotError(path, f"bad gzip data{after}: {exc}") from None
                    if not checked:
                        pending += chunk
                        if chunk and len(pending) < _HEAD_BYTES:
                            continue
                        if not pending:
                            raise SnapshotError(path, "empty file (inflated)")
                        check_head(pending, str(path))
                        checked = True
                        chunk, pending = pending, b""
                    if not chunk:
                        break
                    if written + len(chunk) > limit:
                        raise SnapshotError(path, _too_big(limit))
                    try:
                        view = memoryview(chunk)
                        while view:
                            view = view[out.write(view):]
                    except OSError as exc:
                        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                            raise SnapshotError(
                                path, f"no space left in {tempfile.gettempdir()} to inflate it ({written:,} bytes "
                                      f"written); point TMPDIR at a larger disk or gunzip it first") from None
                        raise SnapshotError(path, f"cannot write the inflated copy: {exc.strerror or exc}") from None
                    written += len(chunk)
            keep = os.dup(out.fileno())
        finally:
            out.close()
        return keep

    def release(self, start: int, end: int) -> None:
        """Drop the pages of ``[start, end)`` from this process's resident set."""
        a = (start // _PAGE) * _PAGE
        b = (end // _PAGE) * _PAGE
        if b > a and hasattr(mmap, "MADV_DONTNEED") and self.mm is not None:
            self.mm.madvise(mmap.MADV_DONTNEED, a, b - a)

    def close(self) -> None:
        buf = getattr(self, "buf", None)
        if buf is not None:
            del self.buf
        mm = getattr(self, "mm", None)
        if mm is not None:
            try:
                mm.close()
            except BufferError:
                pass  # a view is still alive; the mapping goes with it
            self.mm = None
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None


def _parse_layout(path, meta) -> Layout:
    if not isinstance(meta, dict):
        raise SnapshotError(path, "snapshot.meta is missing or not an object")

    def str_list(key, required=True):
        v = meta.get(key)
        if v is None and not required:
            return []
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise SnapshotError(path, f"snapshot.meta.{key} is missing or not a list of names")
        return v

    def enum(key):
        v = meta.get(key)
        if not isinstance(v, list) or not v or not isinstance(v[0], list) or not all(isinstance(x, str) for x in v[0]):
            raise SnapshotError(path, f"snapshot.meta.{key} is missing or has no type list")
        return v[0]

    node_fields = str_list("node_fields")
    for f in REQUIRED_NODE_FIELDS:
        if f not in node_fields:
            raise SnapshotError(path, f"snapshot.meta.node_fields lacks {f!r}")
    if len(set(node_fields)) != len(node_fields):
        raise SnapshotError(path, "snapshot.meta.node_fields repeats a field")
    edge_fields = str_list("edge_fields")
    for f in REQUIRED_EDGE_FIELDS:
        if f not in edge_fields:
            raise SnapshotError(path, f"snapshot.meta.edge_fields lacks {f!r}")
    location_fields = str_list("location_fields", required=False)
    for f in REQUIRED_LOCATION_FIELDS if location_fields else ():
        if f not in location_fields:
            raise SnapshotError(path, f"snapshot.meta.location_fields lacks {f!r}")
    node_types = enum("node_types")
    if len(node_types) > 32:
        raise SnapshotError(path, f"snapshot.meta.node_types lists {len(node_types)} types (at most 32 supported)")
    return Layout(
        node_fields=node_fields,
        node_types=node_types,
        edge_fields=edge_fields,
        edge_types=enum("edge_types"),
        location_fields=location_fields,
    )


def _count(path, header, key) -> int:
    v = header.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise SnapshotError(path, f"snapshot.{key} is missing or not a non-negative integer")
    return v


class _Walker:
    """Walks the top-level object of one snapshot file, section by section."""

    def __init__(self, src: _Source, display: str, progress: Progress | None):
        self.src = src
        self.buf = src.buf
        self.path = display
        self.progress = progress
        self._reported = 0
        self.end = self._content_end(src.size)

    def _content_end(self, size: int) -> int:
        """One past the last byte that is not whitespace. Trailing whitespace (V8 writes none; a
        padded file may have gigabytes) is walked backwards a chunk at a time, pages released, so
        nothing after this needs to touch it."""
        end = size
        while end > 0:
            lo = max(0, end - CHUNK)
            stop = int(K.skip_ws_back(self.buf, lo, end))
            if stop < end:
                self.src.release(stop, size)
            if stop > lo:
                return stop
            end = lo
        return 0

    # -- small token helpers -------------------------------------------------------------------
    def err(self, message: str, offset: int | None = None) -> SnapshotError:
        return SnapshotError(self.path, message, offset)

    def ws(self, pos: int) -> int:
        """The first offset at or after ``pos`` that is not whitespace. A long run (V8 writes none)
        is walked a chunk at a time with the pages behind released."""
        stop = int(K.skip_ws(self.buf, pos, min(self.end, pos + CHUNK)))
        while stop == pos + CHUNK and stop < self.end:
            self.src.release(pos, stop)
            pos = stop
            stop = int(K.skip_ws(self.buf, pos, min(self.end, pos + CHUNK)))
        return stop

    def expect(self, pos: int, byte: bytes, what: str) -> int:
        pos = self.ws(pos)
        if pos >= self.end:
            raise self.err(f"truncated: ended where {what} was expected", pos)
        if self.buf[pos] != byte[0]:
            raise self.err(f"expected {what}, found {chr(self.buf[pos])!r}", pos)
        return pos + 1

    def key(self, pos: int) -> tuple[str, int]:
        pos = self.expect(pos, b'"', "a section name")
        close = int(K.find_byte(self.buf, pos, min(self.end, pos + 256), ord('"')))
        if close < 0:
            raise self.err("truncated or malformed section name", pos)
        name = bytes(self.buf[pos:close]).decode("ascii", "replace")
        pos = self.expect(close + 1, b":", f"':' after \"{name}\"")
        return name, pos

    def report(self, pos: int) -> None:
        if self.progress is not None and pos > self._reported:
            self.progress(pos - self._reported)
            self._reported = pos

    def finish(self) -> None:
        self.report(self.src.size)

    # -- header ---------------------------------------------------------------------------------
    def header(self) -> tuple[dict, int]:
        start = check_head(bytes(self.buf[: min(self.end, _HEAD_BYTES)]), self.path)
        window = 1 << 16
        decoder = json.JSONDecoder()
        while True:
            chunk = bytes(self.buf[: min(self.end, window)])
            text = chunk.decode("utf-8", "replace")
            try:
                header, stop = decoder.raw_decode(text, start)
                break
            except RecursionError:
                raise self.err("snapshot header nests too deeply to be a V8 snapshot header") from None
            except json.JSONDecodeError as exc:
                if window >= self.end or window >= 64 << 20:
                    if window >= self.end:
                        raise self.err(f"snapshot header is not valid JSON: {exc.msg}", exc.pos) from None
                    raise self.err("snapshot header is larger than 64 MiB") from None
                window *= 4
        if not isinstance(header, dict):
            raise self.err('"snapshot" is not an object', start)
        return header, len(text[:stop].encode("utf-8"))

    # -- sections -------------------------------------------------------------------------------
    def uint_array(self, pos: int, what: str, n_values: int, nfields: int, keep: list[int],
                   sum_field: int = -1, narrow: frozenset[int] = frozenset(),
                   fit32: dict[int, str] | None = None) -> tuple[list[np.ndarray], int, int]:
        """Parse a flat array of ``n_values`` unsigned ints; keep the fields listed in ``keep``.

        Returns ``(columns, pos_after, field_sum)``: one array per kept field, ``n_values // nfields``
        long, uint8 for fields in ``narrow`` (enums), uint32 otherwise — uint64 for a field whose
        values do not fit 32 bits (that array is parsed again), except the fields in ``fit32``
        (index → what the error calls it), which V8 always writes as 32-bit values: a larger one is
        a :class:`SnapshotError` naming the row (found on that second parse, which only a crafted
        file needs).
        """
        pos = self.expect(pos, b"[", f"'[' opening {what}")
        rows = n_values // nfields
        slots = np.full(nfields, -1, dtype=np.int64)
        for s, f in enumerate(keep):
            slots[f] = s
        dtypes = [np.uint8 if f in narrow else np.uint32 for f in keep]
        while True:
            cols = [np.empty(rows, dtype=d) for d in dtypes]
            end, total, overflow = self._numbers(pos, what, n_values, nfields, slots, tuple(cols), sum_field)
            if not overflow:
                for s, f in enumerate(keep):
                    if fit32 and f in fit32 and dtypes[s] == np.uint64:
                        bad = _first_at_least(cols[s], _U32_MAX + 1)
                        if bad is not None:
                            raise self.err(f"{what.rstrip('s')} {bad:,} has {fit32[f]} {int(cols[s][bad]):,}, "
                                           f"which does not fit 32 bits (V8 writes it as a 32-bit value)")
                return cols, end, total
            for s, f in enumerate(keep):
                if overflow >> s & 1:
                    if dtypes[s] == np.uint8:
                        raise self.err(f"{what} has a value above 255 in field {f}, an enumeration")
                    dtypes[s] = np.uint64

    def _numbers(self, pos, what, n_values, nfields, slots, cols, sum_field):
        """Parse in rounds of two chunks, one per thread; each chunk knows its first value's index
        from a count of the commas before it. Stops early when a value overflows its column."""
        mm = self.src.mm
        count, total = 0, 0
        while True:
            chunks = []
            p, c0 = pos, count
            for _ in range(_THREADS):
                hint = p + CHUNK
                stop = self.end
                if hint < self.end:
                    # V8 puts a comma every few bytes; none within the window means the array ends
                    # (or is not V8's): the rest goes to one kernel call, which stops at its "]" or
                    # at the first bad byte, without this search walking the file first
                    comma = mm.find(b",", hint, hint + _COMMA_WINDOW)
                    stop = comma + 1 if comma >= 0 else self.end
                chunks.append((p, stop, c0))
                if stop >= self.end:
                    break
                # values in this chunk = its commas; past a "]" the next chunk's count is too high
                # and its kernel stops at once (more values than announced), writing nothing
                c0 += int(K.count_byte(self.buf, p, stop, ord(",")))
                p = stop

            def run(chunk):
                a, b, c = chunk
                return K.parse_uint_array(self.buf, a, self.end, b, c, n_values, nfields, slots, cols, sum_field)

            results = list(_pool().map(run, chunks)) if len(chunks) > 1 else [run(chunks[0])]
            overflow = 0
            ended = False
            for (a, b, c), (status, npos, ncount, ovf, fsum) in zip(chunks, results):
                if status not in (K.OK_CHUNK, K.OK_END):
                    self._raise_status(status, int(npos), what)
                overflow |= int(ovf)
                total += int(fsum)
                count = int(ncount)
                if status == K.OK_END:  # the array ended in this chunk: later chunks were past it
                    ended = True
                    last = int(npos)
                    break
                if int(npos) != b:
                    raise self.err(f"malformed {what}", int(npos))
                last = b
            if overflow:
                return pos, total, overflow
            self.src.release(pos, last)
            pos = last
            self.report(pos)
            if ended:
                break
        if count != n_values:
            raise self.err(f"{what} has {count:,} values but the header announces {n_values:,}", pos - 1)
        return pos, total, 0

    def jump_array(self, pos: int, what: str, strings_at: int | None) -> int | None:
        """Skip the edges without reading them: V8 always writes "trace_function_infos" right after
        them, so their end is found backwards from the strings (a key cannot occur inside a number
        array). None when that key is not within 256 MiB before the strings."""
        if strings_at is None:
            return None
        start = self.expect(pos, b"[", f"'[' opening {what}")
        key = self.rfind(b'"trace_function_infos"', max(start, strings_at - (256 << 20)), strings_at)
        if key < 0:
            return None
        close = self.rfind(b"]", start - 1, key)
        if close < start - 1 or bytes(self.buf[close + 1 : key]).strip() != b",":
            return None
        self.report(close + 1)
        return close + 1

    def spot_edges(self, pos: int, end: int, n_values: int, ef: int):
        """What can be checked of a jumped-over edges array without reading it: it has room for
        ``n_values`` numbers (each takes a digit and a comma), and its first and last ``ef`` values
        are numbers. Returns ``[(offset, values of the first edge), (offset, values of the last)]``
        for :func:`_check_spot_edges` (fewer when a row is not within 64 bytes a value of the ends)."""
        start = self.expect(pos, b"[", "'[' opening edges")
        close = end - 1
        if n_values == 0:
            if self.ws(start) != close:
                raise self.err("edges has values but the header announces none", start)
            return []
        if close - start < 2 * n_values - 1:
            raise self.err(f"edges has {close - start:,} bytes, too few for the {n_values:,} values the header "
                           f"announces", start)
        width = 24 * ef
        head = bytes(self.buf[start:min(close, start + width)])
        tail_at = max(start, close - width)
        tail = bytes(self.buf[tail_at:close])
        heads = head.split(b",")
        if start + width < close:
            heads = heads[:-1]  # the last piece may be cut in the middle of a number
        tails = tail.split(b",")
        if tail_at > start:
            tails = tails[1:]
        rows = []
        for at, parts in ((start, heads[:ef]), (tail_at, tails[-ef:])):
            if len(parts) < ef:
                continue
            values = []
            for part in parts:
                s = part.strip()
                if not s.isdigit() or len(s) > 20:
                    raise self.err(f"edges: {s[:24]!r} is not a number", at)
                values.append(int(s))
            rows.append((at, values))
        return rows

    def count_array(self, pos: int, what: str, n_values: int) -> int:
        """Skip a flat array of numbers, checking only how many there are (commas + 1).

        Two threads count two chunks at a time; the pages are released behind them."""
        pos = self.expect(pos, b"[", f"'[' opening {what}")
        first = self.ws(pos)
        if first >= self.end:
            raise self.err(f"truncated inside {what}", first)
        empty = self.buf[first] == ord("]")
        commas = 0
        while True:
            chunks = []
            p = pos
            for _ in range(_THREADS):
                if p >= self.end:
                    break
                stop = min(self.end, p + CHUNK)
                chunks.append((p, stop))
                p = stop

            def run(chunk):
                return K.count_until_close(self.buf, chunk[0], chunk[1])

            results = list(_pool().map(run, chunks)) if len(chunks) > 1 else [run(chunks[0])]
            close = -1
            for (a, b), (n, c) in zip(chunks, results):
                commas += int(n)
                if c >= 0:
                    close = int(c)
                    break
            stop = close if close >= 0 else chunks[-1][1]
            self.src.release(pos, stop)
            pos = stop
            self.report(pos)
            if close >= 0:
                break
            if pos >= self.end:
                raise self.err(f"truncated inside {what}", self.end)
        n = 0 if empty else commas + 1
        if n != n_values:
            raise self.err(f"{what} has {n:,} values but the header announces {n_values:,}", pos)
        return pos + 1

    def rfind(self, needle: bytes, lo: int, hi: int) -> int:
        """``mm.rfind(needle, lo, hi)`` a chunk at a time from ``hi`` down. A chunk searched in vain
        that is only whitespace (padding: the search may cross gigabytes of it) is released; one with
        content is kept, as the parser reads it next (releasing it would only fault it in again)."""
        mm = self.src.mm
        n = len(needle)
        b = hi
        while b > lo:
            a = max(lo, b - CHUNK)
            at = mm.rfind(needle, a, min(hi, b + n - 1))
            if at >= 0:
                return at
            if int(K.skip_ws(self.buf, a, b)) == b:
                self.src.release(a, b)
            b = a
        return -1

    def strings_start(self, pos: int) -> int | None:
        """Where the strings array opens, found from the end of the file (it is the last section
        and its key cannot occur escaped inside a string), so it can be indexed while the edges are
        read. None when the tail does not look like V8's."""
        hi = self.end
        while True:
            at = self.rfind(b'"strings"', pos, hi)
            if at < 0:
                return None
            q = self.ws(at + 9)
            if q < self.end and self.buf[q] == ord(":"):
                break
            hi = at  # the string "strings" in the array itself: the key is further back
        q = self.ws(q + 1)
        if q >= self.end or self.buf[q] != ord("["):
            return None
        return q + 1

    def scan_strings(self, pos: int):
        """Index the strings array whose '[' ends just before ``pos``. Thread-safe (no progress)."""
        # Each string takes at least 3 bytes ("",), which bounds their number; untouched capacity
        # costs address space, not memory.
        cap = (self.end - pos) // 3 + 1
        starts = np.empty(cap, dtype=np.int64)
        lengths = np.empty(cap, dtype=np.uint32)
        flags = np.empty(cap, dtype=np.uint8)
        hashes = np.empty(cap, dtype=np.uint64)
        count = 0
        while True:
            status, npos, count = K.scan_strings(self.buf, pos, self.end, pos + CHUNK, count,
                                                 starts, lengths, flags, hashes)
            self.src.release(pos, npos)
            pos = int(npos)
            if status != K.OK_CHUNK:
                break
        # views: the capacity beyond ``count`` was never touched, so it costs no memory
        arrays = (starts[:count], lengths[:count], flags[:count], hashes[:count])
        return status, pos, arrays

    def strings(self, pos: int, scanned=None) -> tuple[StringTable, int]:
        if scanned is None:
            pos = self.expect(pos, b"[", "'[' opening strings")
            scanned = self.scan_strings(pos)
        status, pos, arrays = scanned
        if status != K.OK_END:
            self._raise_status(status, pos, "strings")
        self.report(pos)
        return StringTable(self.src.mm, *arrays), pos

    def skip_flat(self, pos: int, name: str) -> int:
        """Skip an array of numbers (no nesting, no strings): to its "]"."""
        start = self.expect(pos, b"[", f"'[' opening \"{name}\"")
        p = start
        while True:  # a chunk at a time, the pages behind released
            stop = min(self.end, p + CHUNK)
            close = int(K.find_byte(self.buf, p, stop, ord("]")))
            if close >= 0:
                break
            if stop >= self.end:
                raise self.err(f'truncated inside "{name}"', self.end)
            self.src.release(p, stop)
            p = stop
        self.src.release(p, close)
        self.report(close + 1)
        return close + 1

    def skip(self, pos: int, name: str) -> int:
        pos = self.ws(pos)
        status, npos = K.skip_value(self.buf, pos, self.end)
        if status != K.OK_END:
            self._raise_status(status, int(npos), f'"{name}"')
        self.src.release(pos, npos)
        self.report(int(npos))
        return int(npos)

    def _raise_status(self, status: int, pos: int, what: str):
        if status == K.ERR_EOF:
            raise self.err(f"truncated inside {what}", pos)
        if status == K.ERR_TOO_MANY:
            raise self.err(f"{what} has more values than the header announces", pos)
        if status == K.ERR_NUMBER:
            raise self.err(f"number too large in {what}", pos)
        if status == K.ERR_CONTROL:
            raise self.err(f"raw control character inside a string in {what}", pos)
        if status == K.ERR_SPACE:
            raise self.err(f"more than {K.MAX_WS_RUN >> 20} MiB of whitespace in one run in {what} "
                           f"(V8 writes single newlines)", pos)
        byte = chr(self.buf[pos]) if pos < self.end else "end of file"
        raise self.err(f"unexpected {byte!r} in {what}", pos)


def read_snapshot(
    path: str | os.PathLike,
    *,
    node_fields: Iterable[str] = ("type", "name", "id", "self_size", "edge_count"),
    edges: bool = False,
    locations: bool = False,
    progress: Progress | None = None,
    nodes_task: Callable[[dict[str, np.ndarray]], object] | None = None,
    keep_nodes: bool = True,
) -> HeapSnapshot:
    """Parse ``path`` and keep the given node columns (and edges/locations when asked).

    ``nodes_task(columns)``, if given, runs on a worker thread as soon as the node columns are parsed
    and checked (types within the enum, names below ``max(name) + 1``), overlapping the rest of the
    file; its result is ``snapshot.nodes_task_result``. With ``keep_nodes=False`` the columns are
    dropped as soon as that task is done with them (``snapshot.nodes`` is then empty).

    Raises :class:`SnapshotError` for anything that is not a well-formed snapshot.
    """
    p = Path(path)
    display = str(path)
    src = _Source(p)
    try:
        return _read(src, display, tuple(node_fields), edges, locations, progress, nodes_task, keep_nodes)
    except SnapshotError:
        src.close()
        raise
    except (ValueError, OverflowError, MemoryError) as exc:
        src.close()
        raise SnapshotError(display, f"cannot be read: {exc}") from None


def _read(src: _Source, display: str, want_nodes, want_edges, want_locations, progress,
          nodes_task=None, keep_nodes=True) -> HeapSnapshot:
    w = _Walker(src, display, progress)
    lap = _Laps(display)
    w.lap = lap
    header, pos = w.header()
    layout = _parse_layout(display, header.get("meta"))
    node_count = _count(display, header, "node_count")
    edge_count = _count(display, header, "edge_count")
    extra = header.get("extra_native_bytes", 0)
    extra = extra if isinstance(extra, int) and not isinstance(extra, bool) else 0

    nf = layout.node_field_count
    for f in want_nodes:
        if f not in layout.node_fields:
            raise SnapshotError(display, f"snapshot has no node field {f!r}")
    keep_fields = list(dict.fromkeys(want_nodes))
    keep_idx = [layout.node_fields.index(f) for f in keep_fields]

    # Index the strings (the file's tail) on another thread while the nodes and edges are read.
    strings_at = w.strings_start(pos)
    prescan = _pool().submit(w.scan_strings, strings_at) if strings_at is not None else None
    try:
        return _read_body(w, src, display, layout, node_count, edge_count, extra, nf, keep_fields, keep_idx,
                          want_edges, want_locations, pos, strings_at, prescan, nodes_task, keep_nodes, lap)
    finally:
        if prescan is not None:
            prescan.exception()  # never unmap the file under a running kernel


def _read_body(w, src, display, layout, node_count, edge_count, extra, nf, keep_fields, keep_idx,
               want_edges, want_locations, pos, strings_at, prescan, nodes_task, keep_nodes, lap):
    pos = w.expect(pos, b",", "',' after the header")
    name, pos = w.key(pos)
    if name != "nodes":
        raise w.err(f'expected the "nodes" section, found "{name}"', pos)
    # ids are 32-bit in V8 (the graph and the id diff index by them); self sizes may be larger
    fit32 = {layout.node_fields.index(f): f for f in ("id", "trace_node_id", "detachedness") if f in layout.node_fields}
    cols, pos, edge_sum = w.uint_array(pos, "nodes", node_count * nf, nf, keep_idx,
                                       sum_field=layout.node_fields.index("edge_count"),
                                       narrow=frozenset({layout.node_fields.index("type")}), fit32=fit32)
    lap("nodes")
    if edge_sum != edge_count:
        raise w.err(f"node edge counts add up to {edge_sum:,} but the header announces {edge_count:,} edges")
    columns: dict[str, np.ndarray] = {}
    for s, fname in enumerate(keep_fields):
        col = cols[s]
        if fname == "type":
            bad = _first_at_least(col, len(layout.node_types))
            if bad is not None:
                raise w.err(f"node {bad:,} has type {int(col[bad])}, outside the {len(layout.node_types)} node types")
        columns[fname] = col
    del cols
    task = None
    if nodes_task is not None:
        # The task sizes its tables by the largest name index, before the strings are counted: a file
        # cannot hold more strings than its tail has room for (3 bytes each), so a larger index (a
        # crafted file) skips the task (no 4-billion-entry table) and fails the name check below.
        names = columns.get("name")
        room = (w.end - (strings_at if strings_at is not None else pos)) // 3 + 1
        if names is not None and names.size and int(names.max()) >= room:
            task = _pool().submit(lambda _columns: None, columns)
        else:
            task = _pool().submit(nodes_task, columns)
    if task is not None and not keep_nodes:
        names = columns.get("name")  # still needed to check the string indices below
        columns = {"name": names} if names is not None else {}

    pos = w.expect(pos, b",", "',' after nodes")
    name, pos = w.key(pos)
    if name != "edges":
        raise w.err(f'expected the "edges" section, found "{name}"', pos)
    try:
        snap = _read_rest(w, src, display, layout, node_count, edge_count, extra, nf, columns,
                          want_edges, want_locations, pos, strings_at, prescan)
    finally:
        if task is not None:
            task.exception()
    if task is not None:
        snap.nodes_task_result = task.result()
    if not keep_nodes:
        snap.nodes = {}
    return snap


def _read_rest(w, src, display, layout, node_count, edge_count, extra, nf, nodes,
               want_edges, want_locations, pos, strings_at, prescan) -> HeapSnapshot:
    ef = layout.edge_field_count
    edge_cols = None
    spot = None
    if want_edges:
        eidx = [layout.edge_fields.index(f) for f in REQUIRED_EDGE_FIELDS]
        # element and hidden-edge indexes are 32-bit in V8; to_node is an offset that may be larger
        edge_cols, pos, _ = w.uint_array(pos, "edges", edge_count * ef, ef, eidx, narrow=frozenset({eidx[0]}),
                                         fit32={eidx[1]: "name_or_index"})
    else:
        # A summary needs only the nodes and the strings: jump over the edges (62 % of a typical
        # file) when the sections after them are where V8 puts them. Counting them would cost
        # ~14 % of a summary, so only what costs nothing is checked here: the array has room for
        # the announced number of values, and its first and last edges are well-formed and in range
        # (below, once the strings are counted). The commands that read the edges check them all.
        end = w.jump_array(pos, "edges", strings_at - 1 if strings_at is not None else None)
        if end is not None:
            spot = w.spot_edges(pos, end, edge_count * ef, ef)
            pos = end
        else:
            pos = w.count_array(pos, "edges", edge_count * ef)

    w.lap("edges")
    loc_arr = None
    table = None
    while True:
        pos = w.ws(pos)
        if pos >= w.end:
            raise w.err("truncated: the file ends before the strings section", pos)
        if w.buf[pos] == ord("}"):
            break
        pos = w.expect(pos, b",", "',' between sections")
        name, pos = w.key(pos)
        if name == "strings":
            opening = w.ws(pos)
            if prescan is not None and opening + 1 == strings_at:
                table, pos = w.strings(pos, prescan.result())
            else:
                table, pos = w.strings(pos)
        elif name == "locations" and want_locations and layout.location_fields:
            lf = len(layout.location_fields)
            n_loc = _count_locations(w, pos)
            arr, pos, _ = w.uint_array(pos, "locations", n_loc, lf, list(range(lf)))
            loc_arr = np.stack(arr, axis=1) if arr else np.empty((0, lf), np.uint32)
        elif name in FLAT_SECTIONS:
            pos = w.skip_flat(pos, name)
        else:
            pos = w.skip(pos, name)
    w.lap("rest+strings")
    if table is None:
        raise w.err("no strings section", pos)
    tail = w.ws(pos + 1)
    if tail != w.end:
        raise w.err("unexpected data after the end of the snapshot", tail)
    w.finish()

    nstrings = len(table)
    if not want_edges and spot:
        _check_spot_edges(w, layout, spot, node_count, nstrings)
    if "name" in nodes:
        col = nodes["name"]
        bad = _first_at_least(col, nstrings)
        if bad is not None:
            raise w.err(f"node {bad:,} names string {int(col[bad]):,}, but there are only {nstrings:,} strings")
    edges = None
    if edge_cols is not None:
        et, en, to = edge_cols[0], edge_cols[1], edge_cols[2]
        bad = _first_at_least(et, len(layout.edge_types))
        if bad is not None:
            raise w.err(f"edge {bad:,} has type {int(et[bad])}, outside the {len(layout.edge_types)} edge types")
        bad, reason = K.edge_targets(to, nf, node_count)  # offsets → ordinals, in place
        if bad >= 0:
            if reason == 1:
                raise w.err(f"edge {bad:,} points at offset {int(to[bad]):,}, not a multiple of {nf} node fields")
            raise w.err(f"edge {bad:,} points at node {int(to[bad]) // nf:,}, but there are only {node_count:,} nodes")
        if to.dtype == np.uint64 and node_count < 2**32:
            to = to.astype(np.uint32)  # the offsets needed 64 bits, the ordinals do not
        stringy = np.zeros(len(layout.edge_types), dtype=np.uint8)
        for t in STRING_EDGE_TYPES:
            i = layout.edge_type_index(t)
            if i >= 0:
                stringy[i] = 1
        bad = K.named_edges_in_range(et, en, stringy.tobytes(), nstrings)
        if bad >= 0:
            raise w.err(f"edge {bad:,} names string {int(en[bad]):,}, but there are only {nstrings:,} strings")
        edges = Edges(type=et, name_or_index=en, to_node=to)
    return HeapSnapshot(
        path=display,
        file_size=src.size,
        layout=layout,
        node_count=node_count,
        edge_count=edge_count,
        extra_native_bytes=extra,
        nodes=nodes,
        strings=table,
        edges=edges,
        locations=loc_arr,
        _source=src,
    )


class _Laps:
    """Phase timings on stderr when HEAPLENS_TIMING=1 (for bench/ and profiling)."""

    def __init__(self, label: str):
        self.on = os.environ.get("HEAPLENS_TIMING") == "1"
        self.label = label
        self.t = time.perf_counter()

    def __call__(self, phase: str) -> None:
        if self.on:
            now = time.perf_counter()
            print(f"[heaplens-timing] {self.label} {phase} {now - self.t:.3f}s", file=sys.stderr)
            self.t = now


def _check_spot_edges(w: _Walker, layout: Layout, rows, node_count: int, nstrings: int) -> None:
    """The first and last edge (see :meth:`_Walker.spot_edges`): type, target and name in range."""
    nf = layout.node_field_count
    t_i, n_i, to_i = (layout.edge_fields.index(f) for f in REQUIRED_EDGE_FIELDS)
    named = {layout.edge_type_index(t) for t in STRING_EDGE_TYPES} - {-1}
    for (at, v), which in zip(rows, ("first", "last")):
        if v[t_i] >= len(layout.edge_types):
            raise w.err(f"the {which} edge has type {v[t_i]}, outside the {len(layout.edge_types)} edge types", at)
        if v[to_i] % nf:
            raise w.err(f"the {which} edge points at offset {v[to_i]:,}, not a multiple of {nf} node fields", at)
        if v[to_i] // nf >= node_count:
            raise w.err(f"the {which} edge points at node {v[to_i] // nf:,}, but there are only {node_count:,} nodes",
                        at)
        if v[t_i] in named and v[n_i] >= nstrings:
            raise w.err(f"the {which} edge names string {v[n_i]:,}, but there are only {nstrings:,} strings", at)
        if v[n_i] > _U32_MAX:
            raise w.err(f"the {which} edge has name_or_index {v[n_i]:,}, which does not fit 32 bits", at)


def _count_locations(w: _Walker, pos: int) -> int:
    """Locations have no count in the header: count the values first (commas + 1)."""
    start = w.expect(pos, b"[", "'[' opening locations")
    close = int(K.find_byte(w.buf, start, w.end, ord("]")))
    if close < 0:
        raise w.err("truncated inside locations", w.end)
    first = w.ws(start)
    if first == close:
        return 0
    return int(K.count_byte(w.buf, start, close, ord(","))) + 1


def _first_at_least(col: np.ndarray, limit: int) -> int | None:
    """Index of the first value >= ``limit`` (one pass, no temporaries), None if there is none."""
    i = K.first_at_least(col, limit)
    return None if i < 0 else i
