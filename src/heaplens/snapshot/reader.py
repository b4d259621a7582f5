"""Read V8 ``.heapsnapshot`` files into compact numpy arrays.

The file is memory-mapped (a ``.gz`` file is first inflated into a temporary file) and walked once,
section by section, by the compiled (C) kernels in :mod:`heaplens.kernels`. Only what the caller asks for
is kept: the summary needs three node columns and the string index, the graph needs the edges too.
Pages behind the parser are released as it goes (``MADV_DONTNEED``), so the resident size stays near
the size of the arrays rather than the size of the file.

The layout (node and edge fields, type enums) always comes from ``snapshot.meta``.
"""

from __future__ import annotations

import gzip
import json
import mmap
import os
import re
import shutil
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
from ..errors import SnapshotError
from .strings import StringTable

CHUNK = 8 << 20  # bytes per parsing task; pages are released after each round
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
STRING_EDGE_TYPES = ("context", "property", "internal", "shortcut", "weak")
FLAT_SECTIONS = ("trace_function_infos", "samples", "locations")  # flat number arrays

_HEAD_RE = re.compile(rb'\A\s*\{\s*"snapshot"\s*:\s*')

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
    """A memory-mapped snapshot file; a gzip file is inflated to a private temporary file first."""

    def __init__(self, path: Path):
        self.path = path
        self._tmpdir: str | None = None
        real = path
        try:
            with open(path, "rb") as fh:
                magic = fh.read(2)
        except FileNotFoundError:
            raise SnapshotError(path, "no such file") from None
        except IsADirectoryError:
            raise SnapshotError(path, "is a directory, not a snapshot file") from None
        except PermissionError:
            raise SnapshotError(path, "permission denied") from None
        except OSError as exc:
            raise SnapshotError(path, f"cannot read: {exc.strerror or exc}") from None
        if magic == b"\x1f\x8b":
            real = self._inflate(path)
        self.size = os.path.getsize(real)
        if self.size == 0:
            self.close()
            raise SnapshotError(path, "empty file")
        self._fh = open(real, "rb")
        self.mm = mmap.mmap(self._fh.fileno(), 0, access=mmap.ACCESS_READ)
        if hasattr(mmap, "MADV_SEQUENTIAL"):
            self.mm.madvise(mmap.MADV_SEQUENTIAL)
        self.buf = np.frombuffer(self.mm, dtype=np.uint8)

    def _inflate(self, path: Path) -> Path:
        self._tmpdir = tempfile.mkdtemp(prefix="heaplens-gz-")
        out = Path(self._tmpdir) / "snapshot.heapsnapshot"
        try:
            with gzip.open(path, "rb") as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, 4 << 20)
        except (OSError, EOFError, zlib.error) as exc:
            self.close()
            raise SnapshotError(path, f"bad gzip data: {exc}") from None
        return out

    def release(self, start: int, end: int) -> None:
        """Drop the pages of ``[start, end)`` from this process's resident set."""
        a = (start // _PAGE) * _PAGE
        b = (end // _PAGE) * _PAGE
        if b > a and hasattr(mmap, "MADV_DONTNEED"):
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
        fh = getattr(self, "_fh", None)
        if fh is not None:
            fh.close()
            self._fh = None
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None


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
    node_types = enum("node_types")
    if len(node_types) > 32:
        raise SnapshotError(path, f"snapshot.meta.node_types lists {len(node_types)} types (at most 32 supported)")
    return Layout(
        node_fields=node_fields,
        node_types=node_types,
        edge_fields=edge_fields,
        edge_types=enum("edge_types"),
        location_fields=str_list("location_fields", required=False),
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
        self.end = src.size
        self.path = display
        self.progress = progress
        self._reported = 0

    # -- small token helpers -------------------------------------------------------------------
    def err(self, message: str, offset: int | None = None) -> SnapshotError:
        return SnapshotError(self.path, message, offset)

    def ws(self, pos: int) -> int:
        return int(K.skip_ws(self.buf, pos, self.end))

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
        self.report(self.end)

    # -- header ---------------------------------------------------------------------------------
    def header(self) -> tuple[dict, int]:
        head = bytes(self.buf[: min(self.end, 4096)])
        m = _HEAD_RE.match(head)
        if not m:
            stripped = head.lstrip()
            if not stripped:
                raise self.err("not JSON: only whitespace")
            if stripped[:1] not in (b"{", b"["):
                off = len(head) - len(stripped)
                raise self.err("not JSON: does not start with '{'", off)
            raise self.err('not a V8 heap snapshot: no "snapshot" header at the start')
        start = m.end()
        window = 1 << 16
        decoder = json.JSONDecoder()
        while True:
            chunk = bytes(self.buf[: min(self.end, window)])
            text = chunk.decode("utf-8", "replace")
            try:
                header, stop = decoder.raw_decode(text, start)
                break
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
                   sum_field: int = -1, narrow: frozenset[int] = frozenset()) -> tuple[list[np.ndarray], int, int]:
        """Parse a flat array of ``n_values`` unsigned ints; keep the fields listed in ``keep``.

        Returns ``(columns, pos_after, field_sum)``: one array per kept field, ``n_values // nfields``
        long, uint8 for fields in ``narrow`` (enums), uint32 otherwise — uint64 for a field whose
        values do not fit 32 bits (that array is parsed again).
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
                    comma = mm.find(b",", hint)
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
        mm = self.src.mm
        key = mm.rfind(b'"trace_function_infos"', max(start, strings_at - (256 << 20)), strings_at)
        if key < 0:
            return None
        close = mm.rfind(b"]", start - 1, key)
        if close < start - 1 or bytes(self.buf[close + 1 : key]).strip() != b",":
            return None
        self.report(close + 1)
        return close + 1

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

    def strings_start(self, pos: int) -> int | None:
        """Where the strings array opens, found from the end of the file (it is the last section
        and its key cannot occur escaped inside a string), so it can be indexed while the edges are
        read. None when the tail does not look like V8's."""
        at = self.src.mm.rfind(b'"strings"', pos)
        if at < 0:
            return None
        q = self.ws(at + 9)
        if q >= self.end or self.buf[q] != ord(":"):
            return None
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
        close = self.src.mm.find(b"]", start)
        if close < 0:
            raise self.err(f'truncated inside "{name}"', self.end)
        self.src.release(start, close)
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
    cols, pos, edge_sum = w.uint_array(pos, "nodes", node_count * nf, nf, keep_idx,
                                       sum_field=layout.node_fields.index("edge_count"),
                                       narrow=frozenset({layout.node_fields.index("type")}))
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
    task = _pool().submit(nodes_task, columns) if nodes_task is not None else None
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
    if want_edges:
        eidx = [layout.edge_fields.index(f) for f in REQUIRED_EDGE_FIELDS]
        edge_cols, pos, _ = w.uint_array(pos, "edges", edge_count * ef, ef, eidx, narrow=frozenset({eidx[0]}))
    else:
        # A summary needs only the nodes and the strings: jump over the edges (62 % of a typical
        # file) when the sections after them are where V8 puts them; their number is checked by
        # the commands that read them (the edge counts of the nodes are checked above).
        end = w.jump_array(pos, "edges", strings_at - 1 if strings_at is not None else None)
        pos = end if end is not None else w.count_array(pos, "edges", edge_count * ef)

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
