"""The verdict for one pair of snapshots of one worker: every surviving new object attributed to its
nearest pre-existing holder, holders named, grouped into causes (docs/diagnose.md).

:func:`analyse_pair` reads the two snapshots and returns a :class:`PairAnalysis` — the causes, biggest
first, each with its bytes, objects, classes, holder, what the growth is made of and how much of it
the holder alone keeps (the confidence). Severity and fixes need the run's context (files, heap limit)
and are made by :mod:`heaplens.diagnose.findings`.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil

from ..errors import UsageError
from ..graph import HeapGraph, read_for_graph
from ..graph import kernels as GK
from ..graph.holders import attribute, generic_mask
from ..graph.identity import Identities, births
from .naming import (
    MODULE_RECORD,
    STORAGE,
    HolderName,
    global_declaration,
    graph_memo,
    location,
    name_holder,
    name_spies,
    node_flags,
    registration_line,
    source_path,
    string_ids,
    string_value,
)
from .rules import Rules

# Causes are named (retaining paths, source lookups) from the largest group down, while a group holds
# at least this share of the new bytes, and at most MAX_NAMED of them; the rest is summed in a note.
NAME_SHARE = 0.002
MAX_NAMED = 60
RESOURCES = ("timer", "listener", "server", "db", "mock")
CATEGORIES = ("data", "string", "closure", "engine", "module", "external")
IDENT = re.compile(r"[A-Za-z_$][\w$]*")
MAX_CLASSES = 40
TEST_FILE = re.compile(r"(^|/)[^/]*\.(test|spec)\.[cm]?[jt]sx?$|(^|/)__tests__/")


@dataclass
class ModuleInfo:
    url: str
    instances: int
    retained: int
    importers: list[str]


@dataclass
class Cause:
    """One cause: the new objects of one or more holder groups that are the same variable/resource."""

    key: tuple
    kind: str  # module-graph | runtime-leak | external-memory | tool | engine | system
    holder: HolderName | None
    groups: list[int] = field(default_factory=list)  # holder ordinals
    bytes: int = 0
    count: int = 0
    categories: dict[str, int] = field(default_factory=dict)
    classes: list[dict] = field(default_factory=list)
    exclusive: float | None = None  # share of the bytes released when the holders let go (confidence)
    by_path: int = 0  # bytes attributed along a retaining path (shared objects)
    freed: int = 0  # bytes the same holders lost: objects of the earlier snapshot the later one no longer has
    holder_ids: np.ndarray | None = None
    retained_after: float = 0.0  # the holders' retained size (DevTools) in the later snapshot
    last_net: float | None = None  # … minus in the snapshot before it
    scripts: list[str] = field(default_factory=list)  # scripts of the new functions (who added them)
    modules: list[ModuleInfo] = field(default_factory=list)
    module_records: int = 0
    callback: tuple[str | None, int | None, str] | None = None  # timers/listeners: (url, line, name)
    events: list[str] = field(default_factory=list)  # listeners: the event names
    global_site: tuple[str | None, int | None] | None = None  # a global's assignment in the user's source
    nodes: np.ndarray | None = None  # positions of its new nodes in the attribution (while the graph is open)
    first: int = 0  # the first snapshot that has its holder (0: the earlier one; k: the k-th in between)
    trend: list[int] = field(default_factory=list)  # bytes of its new objects present at each snapshot
    inner: tuple[HolderName, int] | None = None  # module-graph: a new variable keeping most of it, its bytes
    importers: list[str] = field(default_factory=list)  # a late holder: the importers of its declaring module

    @property
    def initial(self) -> int:
        """Bytes its holder already had at its first snapshot (new in the pair, not growth after it)."""
        return self.trend[self.first] if self.first else 0

    @property
    def retained(self) -> int:
        """The retained growth: what the holder gained from its first snapshot on, minus what it lost."""
        return max(self.bytes - self.initial - self.freed, 0)


@dataclass
class PairAnalysis:
    before: str
    after: str
    pid: int | None
    new_count: int
    new_bytes: int
    old_count: int
    nodes_before: int
    nodes_after: int
    causes: list[Cause]
    other: dict[str, int]  # bytes: tool, engine, system, unnamed (small holders), garbage (no program root)
    module_records_before: int
    module_records_after: int
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    new_modules: list[str] = field(default_factory=list)  # URLs of the module instances evaluated in between
    middles: list[str] = field(default_factory=list)  # the snapshots in between that were read (ids)


@dataclass
class BeforeSide:
    """What the earlier snapshot says: its ids (sorted), node count, module records, and the bytes of the
    objects that were freed by the later one, per the id of their nearest surviving holder."""

    ids: Identities
    nodes: int
    records: int
    freed_holders: np.ndarray  # sorted ids of surviving holders of freed objects
    freed_bytes: np.ndarray  # bytes freed under each

    def freed_under(self, ids: np.ndarray) -> int:
        if not len(self.freed_holders) or not len(ids):
            return 0
        pos = np.searchsorted(self.freed_holders, ids)
        pos[pos == len(self.freed_holders)] = 0
        hit = self.freed_holders[pos] == ids
        return int(self.freed_bytes[pos[hit]].sum())


@dataclass
class BeforeGraph:
    """What the earlier snapshot's graph gives before the later snapshot exists: per node its identity, its
    dominator, whether it is generic (:func:`generic_mask`) and its own size; the node count and the module
    records. :meth:`side` finishes it against the later snapshot's ids. Plain arrays: the snapshot is closed."""

    mine: Identities  # per node, in node order
    dom: np.ndarray
    root: int
    generic: np.ndarray
    raw: np.ndarray
    records: int

    @classmethod
    def read(cls, path: str, rules: Rules) -> BeforeGraph:
        snap = read_for_graph(path, locations=False)
        try:
            gb = HeapGraph(snap, program_roots=True)
            m = Identities.of_graph(gb)
            return cls(Identities(np.array(m.ids), m.keys, m.strs), np.array(gb.dom), int(gb.root),
                       generic_mask(gb),
                       np.array(gb.raw_self if gb.raw_self is not None else gb.sizes, dtype=np.int64),
                       _count_records(snap, gb.ntype, gb.nname, rules))
        finally:
            snap.close()

    def side(self, after: Identities) -> BeforeSide:
        """The objects it has that the later one lost (freed), attributed, like the new ones, to their nearest
        dominator that survives — so a holder's growth is what it gained minus what it lost (a bounded cache
        that replaces its entries does not grow)."""
        n = len(self.dom)
        survive = self.mine.in_later(after)  # (the same test, the other way round)
        stop = survive.astype(np.uint8)
        stop[self.root] = 1
        holder = GK.nearest_marked(self.dom, stop, self.root)
        freed = np.flatnonzero(~survive)
        freed = freed[freed != self.root]
        h = holder[freed].astype(np.int64)
        raw = self.raw[freed]
        keep = ~self.generic[h]
        per = np.bincount(h[keep], weights=raw[keep], minlength=n)
        hs = np.flatnonzero(per > 0)
        hid = self.mine.ids[hs].astype(np.int64)
        order = np.argsort(hid)
        return BeforeSide(self.mine.sorted(), n, self.records, hid[order], per[hs][order].astype(np.int64))


def _count_records(snap, types, names, rules: Rules) -> int:
    L = snap.layout
    obj = [L.node_type_index(t) for t in ("object", "native") if t in L.node_types]
    sel = np.isin(np.asarray(types), obj)
    counts = np.bincount(np.asarray(names)[sel])
    uniq = np.flatnonzero(counts)
    total = 0
    for s, c in zip(uniq.tolist(), counts[uniq].tolist()):
        if rules.module_classes.search(snap.strings[int(s)]):
            total += c
    return total


def _dense(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the distinct values, each value's index among them) — by counting, not sorting (the values are
    small non-negative integers: class ids, node ordinals)."""
    if not len(values):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    present = np.bincount(values) > 0
    uniq = np.flatnonzero(present)
    index = np.cumsum(present) - 1
    return uniq, index[values]


def _categories(g: HeapGraph, nodes: np.ndarray, rules: Rules) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per node: its category index (CATEGORIES) and class index into the returned name list."""
    uniq, inv = _dense(g.class_ids_of(nodes))
    names = [g.classes.name(int(c)) for c in uniq]
    ntypes = g.snap.layout.node_types
    cat_of_class = np.zeros(len(uniq), dtype=np.int8)
    for i, n in enumerate(names):
        if rules.external.search(n):
            cat_of_class[i] = CATEGORIES.index("external")
        elif rules.module_record(n):
            cat_of_class[i] = CATEGORIES.index("module")
        elif rules.engine_classes.search(n):
            cat_of_class[i] = CATEGORIES.index("engine")
        elif n in ("Function", "system / Context"):
            cat_of_class[i] = CATEGORIES.index("closure")
        elif n in ("(string)", "(concatenated string)", "(sliced string)"):
            cat_of_class[i] = CATEGORIES.index("string")
    cat = cat_of_class[inv]
    engine_types = np.zeros(max(len(ntypes), 1), dtype=bool)
    for x in rules.engine_types:
        if x in ntypes:
            engine_types[ntypes.index(x)] = True
    cat[engine_types[np.asarray(g.ntype)[nodes]]] = CATEGORIES.index("engine")
    return cat, inv, names


def analyse_pair(before: str, after: str, rules: Rules, *, root: str | None = None, pid: int | None = None,
                 previous: str | None = None, middles: list[str] | None = None, progress=None,
                 reads: Reads | None = None) -> PairAnalysis:
    """The causes of the growth from ``before`` to ``after`` (docs/diagnose.md). ``previous``: the snapshot
    just before ``after`` (of three or more): each holder's retained size there tells a holder whose
    content was replaced in the last interval (a bounded cache) from one that grew. ``middles``: snapshots
    of the same worker in between (in order; their ids only are read): each new object is attributed to
    the nearest holder that existed at the snapshot before the one it first appears in, and each cause
    gets its growth per interval. ``reads``: what was read of these snapshots ahead (:class:`Reads`), taken
    instead of reading them again."""
    t0 = time.perf_counter()
    for p in (before, after):
        if Path(p).is_dir():
            raise UsageError(f"{p}: is a directory, not a snapshot")
    middles = list(middles or [])
    # What does not need the later snapshot's graph is read on a second thread beside it when the graphs fit in
    # memory together (side_by_side): the earlier snapshot's side, the ids of those in between, and the holders'
    # sizes in the snapshot before the last (wanted only for a runtime cause: read ahead, as it costs no wall time).
    beside = side_by_side([before, after] + ([previous] if previous is not None else []))
    mine = None
    if beside:
        # the later snapshot is read once: its ids (what the earlier one's side needs) are taken from the read
        # for its graph (one after the other, the earlier snapshot's graph is made before the later one is read)
        if progress:
            progress(f"read {Path(after).name} (graph)")
        snap = _read_after(after)
        try:
            mine = Identities.of_graph_columns(snap)
            after_ids = mine.sorted()
        except BaseException:
            snap.close()
            raise
    else:
        if progress:
            progress(f"read {Path(after).name} (ids)")
        after_ids = Identities.read(after)
    if progress:
        progress(f"read {Path(before).name} (graph: what was freed, and under what)")
    reads = reads if reads is not None else Reads()  # (none ahead: each read is made now)
    bs_task = Beside(_side_of, reads, before, rules, after_ids, run_now=not beside)
    del after_ids
    ahead = Beside(lambda: [reads.ids(m) for m in middles]) if beside and middles else None
    prev_task = Beside(reads.retained, previous) if beside and previous is not None else None
    if not beside:
        if progress:
            progress(f"read {Path(after).name} (graph)")
        snap = read_for_graph(after)
    try:
        g = HeapGraph(snap, program_roots=True)
        bs = bs_task.result()
        if progress:
            progress("attribute the new objects to their holders")
        mine = Identities.of_graph(g) if mine is None else mine
        old = mine.in_earlier(bs.ids)
        if old.sum() < 0.2 * min(bs.nodes, g.n):
            raise UsageError(f"{before} and {after}: only {int(old.sum()):,} objects are in both snapshots — they are "
                             "not of the same worker (process and thread), so there is no old and new to tell apart")
        bs.ids = Identities.none()
        birth = _births(g, mine, old, middles, progress,
                        (lambda i, _p: ahead.result()[i]) if ahead is not None else (lambda _i, p: reads.ids(p)))
        old = birth == 0
        if not middles:
            birth = None
        pa = _analyse(g, old, rules, root, progress, birth, len(middles or []) + 1)
        pa.middles = list(middles or [])
        for c in pa.causes:
            holders = np.array(c.groups, dtype=np.int64)
            c.holder_ids = np.asarray(g.ids)[holders].astype(np.int64)
            c.retained_after = float(np.asarray(g.retained)[holders].sum())
            c.freed = bs.freed_under(c.holder_ids)
        pa.before, pa.after, pa.pid = str(before), str(after), pid
        pa.nodes_before = bs.nodes
        pa.module_records_before = bs.records
        pa.module_records_after = _count_records(g.snap, g.ntype, g.nname, rules)
        for c in pa.causes:
            c.nodes = None
    finally:
        snap.close()
    if previous is not None and any(c.kind in ("runtime-leak", "external-memory") for c in pa.causes):
        if progress:
            progress(f"read {Path(previous).name} (the holders' size before the last interval)")
        _last_interval(pa, prev_task.result() if prev_task is not None else reads.retained(previous))
    pa.seconds = time.perf_counter() - t0
    return pa


def _read_after(after: str):
    """``read_for_graph(after)``; when it fails, the error the read of its ids alone would have raised first
    (what analyse_pair reported when it read the ids before the graph), if that read fails too."""
    try:
        return read_for_graph(after)
    except Exception:
        Identities.read(after)
        raise


# How much memory a snapshot's graph takes, per byte of the file (38 MB for date-fns' 25 MB snapshot: the
# columns, the dominator tree and the file's pages), with room to spare.
GRAPH_BYTES_PER_FILE_BYTE = 2.5


def side_by_side(paths: list[str]) -> bool:
    """Whether the graphs of these snapshots fit in half the memory available now, all at once: the reads that
    can go beside the later snapshot's graph then run on a second thread; else one after the other, as before."""
    if (os.cpu_count() or 1) < 2:
        return False
    try:
        need = sum(os.path.getsize(p) for p in paths) * GRAPH_BYTES_PER_FILE_BYTE
        return need < 0.5 * psutil.virtual_memory().available
    except (OSError, psutil.Error):
        return False


class Beside:
    """``fn(*args)`` on a daemon thread (an interrupted heaplens does not wait for it), or right away with
    ``run_now``; :meth:`result` returns its value or raises its exception in the caller."""

    def __init__(self, fn, *args, run_now: bool = False, **kwargs):
        self._value = None
        self._error: BaseException | None = None
        self._thread = None
        if run_now:
            self._run(fn, args, kwargs)
        else:
            self._thread = threading.Thread(target=self._run, args=(fn, args, kwargs), daemon=True,
                                            name="heaplens-beside")
            self._thread.start()

    def _run(self, fn, args, kwargs) -> None:
        try:
            self._value = fn(*args, **kwargs)
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def result(self):
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _side_of(reads: Reads, before: str, rules: Rules, after: Identities) -> BeforeSide:
    return reads.before(before, rules).side(after)


class Reads:
    """Reads of a worker's snapshots started ahead, each on a daemon thread (:class:`Beside`), while the run
    goes on: the earlier snapshot's graph (:class:`BeforeGraph`), and the ids and retained sizes of one in
    between. :func:`analyse_pair` takes each (and so lets it go); a read not started ahead is made when it is
    asked for. A read is known by the file's path, size and modification time (and the rules, for the graph):
    a file written again is read again."""

    def __init__(self) -> None:
        self._tasks: dict[tuple, Beside] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(kind: str, path: str, rules: Rules | None = None) -> tuple | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return kind, os.path.abspath(path), st.st_size, st.st_mtime_ns, rules.digest if rules is not None else None

    def _start(self, key: tuple | None, fn, *args) -> None:
        if key is None:
            return
        with self._lock:
            if key not in self._tasks:
                self._tasks[key] = Beside(fn, *args)

    def _take(self, key: tuple | None):
        with self._lock:
            task = self._tasks.pop(key, None) if key is not None else None
        try:
            return None if task is None else task.result()
        except Exception:  # noqa: BLE001 — read again by the caller, who then says the error
            return None

    def held(self) -> list[str]:
        with self._lock:
            return [k[1] for k in self._tasks]

    def start_before(self, path: str, rules: Rules) -> None:
        self._start(self._key("before", path, rules), BeforeGraph.read, path, rules)

    def start_between(self, path: str, *, ids: bool = True, retained: bool = True) -> None:
        if ids:
            self._start(self._key("ids", path), Identities.read, path)
        if retained:
            self._start(self._key("retained", path), _retained_by_id, path)

    def drop(self, paths: list[str], kinds: tuple[str, ...] = ("before", "ids", "retained")) -> None:
        """Forget these reads of these files (not wanted after all, or the worker's pair is analysed)."""
        gone = {os.path.abspath(p) for p in paths}
        with self._lock:
            for k in [k for k in self._tasks if k[1] in gone and k[0] in kinds]:
                del self._tasks[k]

    def before(self, path: str, rules: Rules) -> BeforeGraph:
        got = self._take(self._key("before", path, rules))
        return got if got is not None else BeforeGraph.read(path, rules)

    def ids(self, path: str) -> Identities:
        got = self._take(self._key("ids", path))
        return got if got is not None else Identities.read(path)

    def retained(self, path: str) -> tuple[np.ndarray, np.ndarray]:
        got = self._take(self._key("retained", path))
        return got if got is not None else _retained_by_id(path)


def _births(g: HeapGraph, mine: Identities, old: np.ndarray, middles: list[str], progress,
            ids_of: Callable[[int, str], Identities]) -> np.ndarray:
    """Per node of the later snapshot: the first snapshot from which on it is there — 0 (the earlier one:
    ``old``), k (the k-th of ``middles``), or ``len(middles) + 1`` (only the later one) — ``graph.identity``'s
    births from the ids and kinds of each (an id names one object only until V8 gives it to another).
    ``ids_of(i, path)``: the ids of the i-th of ``middles`` (read on a second thread, or ahead: :class:`Reads`)."""
    there = [old]
    for i, p in enumerate(middles):
        if progress:
            progress(f"read {Path(p).name} (ids: which objects existed then)")
        there.append(mine.in_earlier(ids_of(i, p)))
    return births(g, there)


def _retained_by_id(path: str) -> tuple[np.ndarray, np.ndarray]:
    """A snapshot's ids (sorted) and each one's retained size (DevTools'), from its graph."""
    snap = read_for_graph(path, locations=False)
    try:
        gp = HeapGraph(snap, program_roots=True)
        ids = np.asarray(gp.ids).astype(np.int64)
        order = np.argsort(ids)
        return ids[order], np.asarray(gp.retained)[order]
    finally:
        snap.close()


def _last_interval(pa: PairAnalysis, previous: tuple[np.ndarray, np.ndarray]) -> None:
    """Each cause's holders' retained size in the snapshot before the last one (``previous``: its sorted ids and
    their retained sizes): ``last_net`` is how much they grew in the last interval."""
    sids, retained = previous
    for c in pa.causes:
        if c.kind not in ("runtime-leak", "external-memory") or c.holder_ids is None or not len(c.holder_ids):
            continue
        pos = np.searchsorted(sids, c.holder_ids)
        pos[pos == len(sids)] = 0
        hit = sids[pos] == c.holder_ids
        if not hit.all():
            continue  # a holder that did not exist yet: no comparison
        c.last_net = c.retained_after - float(retained[pos].sum())


def _analyse(g: HeapGraph, old: np.ndarray, rules: Rules, root: str | None, progress,
             birth: np.ndarray | None = None, levels: int = 1) -> PairAnalysis:
    generic = generic_mask(g)
    att = attribute(g, old, generic, birth)
    raw = np.asarray(g.raw_self if g.raw_self is not None else g.sizes).astype(np.int64)
    new = att.new
    size = raw[new]
    # garbage V8 has not collected yet: no program root reaches it (the graph's ``program_roots`` view — a dead
    # test file's vm context awaiting Node's finalizer, what only a weak reference keeps); no holder keeps it
    unreached = np.asarray(g.distance)[new] == GK.NO_DISTANCE
    garbage = int(size[unreached].sum())
    if garbage:
        size = np.where(unreached, 0, size)
    del unreached
    total = int(size.sum())
    cat, cls, class_names = _categories(g, new, rules)
    if birth is not None and levels > 1:
        _late_holders(g, att, birth, cat, generic)
    # groups by holder, biggest first (by counting: holders are node ordinals)
    holder = att.holder
    gb = np.bincount(holder, weights=size, minlength=g.n)
    hs = np.flatnonzero(np.bincount(holder, minlength=g.n))
    gbytes = gb[hs].astype(np.int64)
    del gb
    order = np.argsort(-gbytes, kind="stable")
    other = {"tool": 0, "engine": 0, "system": 0, "unnamed": 0, "garbage": garbage}
    engine_only = _engine_only(holder, cat, g.n)
    # the groups that get a name: the largest, while they hold a visible share (decided up front, so their
    # members are found in one pass)
    plan = []
    for gi in order.tolist():
        b, h = int(gbytes[gi]), int(hs[gi])
        if b <= 0:
            break
        if generic[h]:
            other["system"] += b
        elif engine_only[h]:
            other["engine"] += b
        elif len(plan) >= MAX_NAMED or (b < NAME_SHARE * total and plan):
            other["unnamed"] += b
        else:
            plan.append((h, b))
    del engine_only
    slot = np.full(g.n, -1, dtype=np.int16)
    for i, (h, _b) in enumerate(plan):
        slot[h] = i
    gslot = slot[holder]
    del slot
    member = np.flatnonzero(gslot >= 0)
    member = member[np.argsort(gslot[member], kind="stable")]
    bounds = np.searchsorted(gslot[member], np.arange(len(plan) + 1))
    del gslot
    causes: dict[tuple, Cause] = {}
    for i, (h, b) in enumerate(plan):
        idx = member[bounds[i]:bounds[i + 1]]  # positions in `new`
        if progress and i % 10 == 0:
            progress(f"name holders ({i + 1}/{len(plan)})")
        # the representative: the top node that carries most of the group's bytes
        tops, tinv = _dense(att.top[idx]) if len(idx) > g.n // 64 else np.unique(att.top[idx], return_inverse=True)
        tb = np.bincount(tinv.reshape(-1), weights=size[idx])
        rep = int(tops[int(np.argmax(tb))])
        gclasses = {class_names[c] for c in np.flatnonzero(np.bincount(cls[idx], minlength=len(class_names)))}
        hn = name_holder(g, h, rep, rules, gclasses)
        gcat = cat[idx]
        records = int((gcat == CATEGORIES.index("module")).sum())
        fns = _functions(g, new[idx])
        if hn.kind == "mock" and hn.variable is None:
            name_spies(g, hn, fns)
        callback = (_callback(g, hn, fns, rules, root) if hn.kind in ("timer", "listener") else
                    _site(g, new[idx], rules, hn.kind, hn.owner, root) if hn.kind in ("server", "db") else None)
        kind, key = _decide(g, hn, records, callback, rules)
        if kind == "tool":
            other["tool"] += b
            # still kept as a cause: the report says what the runner's own state is
        c = causes.get(key)
        if c is None:
            c = causes[key] = Cause(key=key, kind=kind, holder=hn, callback=callback)
        c.groups.append(h)
        c.bytes += b
        c.count += int(len(idx))
        c.by_path += int(size[idx][att.by_path[idx]].sum())
        c.nodes = idx if c.nodes is None else np.concatenate([c.nodes, idx])
    del member
    out = sorted(causes.values(), key=lambda c: -c.bytes)
    for c in out:
        _describe(g, c, new, size, cat, cls, class_names, rules, root)
        if birth is not None and levels > 1:
            per = np.bincount(birth[new[c.nodes]], weights=size[c.nodes], minlength=levels + 1)
            c.trend = [int(x) for x in np.cumsum(per)]
            _first_snapshot(g, c, birth)
            if c.first:
                c.importers = _declaring_module_importers(g, c.holder, rules)
    # runtime causes whose bytes are mostly backing stores are external memory
    for c in out:
        if c.kind == "runtime-leak" and c.categories.get("external", 0) * 2 >= c.bytes:
            c.kind = "external-memory"
    reportable = [c for c in out if c.kind in ("module-graph", "runtime-leak", "external-memory")]
    if reportable:
        if progress:
            progress("confidence: what each holder alone keeps")
        _exclusive(g, old, att, new, size, reportable, rules)
    for c in out:
        if c.kind == "module-graph":
            _modules(g, c, new, rules, root)
            _inner_holder(g, c, new, cat, rules)
        elif c.module_records and c.holder is not None and c.holder.kind in ("listener", "timer"):
            _modules(g, c, new, rules, root)  # a listener's or timer's: the module instances it keeps alive
    pa = PairAnalysis(before="", after="", pid=None, new_count=int(len(new)), new_bytes=total,
                      old_count=int(old.sum()), nodes_before=0, nodes_after=g.n, causes=out, other=other,
                      module_records_before=0, module_records_after=0)
    recs = new[cat == CATEGORIES.index("module")]
    urls = _string_props(g, recs[:20000], rules.url_properties)
    pa.new_modules = list(dict.fromkeys(u for u in urls if u))
    return pa


def _decide(g: HeapGraph, hn: HolderName, records: int, callback, rules: Rules) -> tuple[str, tuple]:
    """The kind of cause and the key that merges groups of the same cause: one variable, one emitter,
    one timer callback, one spy, one server or database variable."""
    a = hn.anchor
    user = a is not None and not a.tool
    if records and not user and not (hn.kind in ("listener", "timer") and _runs_user_code(g, hn.node, rules)):
        # module instances held by the registry, or by the runner's own listeners and timers. A user's listener or
        # timer that already existed is a runtime leak even when what it keeps is module instances (Jest: an old
        # test file's registry, Runtime and environment kept by a listener on the worker's process.stdout)
        return "module-graph", ("module-graph",)
    if hn.kind in ("timer", "listener", "server", "db", "mock"):
        owner = hn.owner if hn.owner is not None else hn.node
        if hn.kind == "timer":
            return "runtime-leak", ("timer", callback[:2] if callback else owner)
        if hn.kind == "listener":
            return "runtime-leak", ("listener", owner)
        if user:
            return "runtime-leak", (hn.kind, (a.kind, a.holder, a.name))
        if hn.kind == "mock":  # every file's `vi.mock` spy of the same name is one cause
            return "runtime-leak", ("mock", hn.variable or owner)
        return "runtime-leak", (hn.kind, callback[:2] if callback else hn.type)
    if hn.tool:
        return "tool", ("tool", a.name if a else g.class_label(hn.node))
    if hn.type in ("WeakMap", "WeakSet") and hn.container is not None and hn.container == hn.node:
        # a weak collection keeps nothing by itself (a value lives as long as its key, and is attributed to
        # whatever holds the key): what grew under it is its table's capacity
        return "capacity", ("capacity", a.kind if a else None, a.holder if a else hn.node, a.name if a else None)
    if a is None:  # held by user data that no variable names (the stack, an unnamed closure)
        return "runtime-leak", ("node", hn.container if hn.container is not None else hn.node)
    return "runtime-leak", ("var", a.kind, a.holder, a.name)


def _runs_user_code(g: HeapGraph, holder: int, rules: Rules) -> bool:
    return _held_user_function(g, holder, rules) is not None


def _held_user_function(g: HeapGraph, holder: int, rules: Rules, depth: int = 2, limit: int = 4000) -> int | None:
    """The function of the user's code a listener list / timer list calls: among what it holds directly, or
    through one object (a listener array's elements, a ``Timeout``'s ``_onTimeout``); None when it runs none."""
    closure = g.nt.get("closure", -1)
    frontier, seen = [holder], {holder}
    for _ in range(depth):
        nxt = []
        for k in frontier:
            for e in range(int(g.first[k]), min(int(g.first[k + 1]), int(g.first[k]) + limit)):
                if g.edge_type(e) in ("weak", "shortcut", "hidden"):
                    continue
                v = int(g.to[e])
                if v in seen:
                    continue
                seen.add(v)
                if int(g.ntype[v]) == closure:
                    url = g.scripts.of_closure(v)
                    if url and not rules.tool_script(url):
                        return v
                else:
                    nxt.append(v)
        frontier = nxt[:limit]
    return None


def _engine_only(holder: np.ndarray, cat: np.ndarray, n: int) -> np.ndarray:
    """Per holder: all of its new objects are V8's own code and feedback (warm-up)."""
    not_engine = np.bincount(holder[cat != CATEGORIES.index("engine")], minlength=n) == 0
    return not_engine


def _late_holders(g: HeapGraph, att, birth: np.ndarray, cat: np.ndarray, generic: np.ndarray) -> None:
    """Holders that did not exist at the earlier snapshot but did at one in between, and grew after it
    (their later content is not only V8's code): what they already held when first seen (themselves
    included) is theirs too, not their creator's — a module-level collection of a module first loaded
    between the snapshots is one cause, held by that collection, whatever the module instance is."""
    holder = att.holder
    hs = np.unique(holder)
    eng = _engine_only(holder, cat, g.n)
    cand = hs[(birth[hs] > 0) & ~generic[hs] & ~eng[hs]]
    if not len(cand):
        return
    mark = np.zeros(g.n, dtype=np.uint8)
    mark[cand] = 1
    dom = np.asarray(g.dom)
    anc = GK.nearest_marked(dom, mark, g.root)[att.new].astype(np.int64)
    new = att.new
    own = mark[new] == 1
    content = ~own & (anc != g.root) & (birth[new] <= birth[anc])
    below = mark[dom]
    below[g.root] = 0
    top = GK.nearest_marked(dom, below, g.root)[new].astype(np.int64)
    sel = np.flatnonzero(content)
    holder[sel] = anc[sel]
    att.top[sel] = np.where(below[new[sel]] != 0, new[sel], top[sel])
    att.by_path[sel] = False
    sel = np.flatnonzero(own)
    holder[sel] = new[sel]
    att.top[sel] = new[sel]
    att.by_path[sel] = False


def _first_snapshot(g: HeapGraph, c: Cause, birth: np.ndarray) -> None:
    """The first snapshot that has the cause's holder: the object its variable names (a rehashed table
    under an old Map is still the old Map's growth), else its oldest holder."""
    hn = c.holder
    if hn is not None and hn.anchor is not None and not hn.anchor.tool and c.kind != "module-graph":
        c.first = int(birth[hn.anchor.value])
    else:
        c.first = int(birth[np.asarray(c.groups, dtype=np.int64)].min()) if c.groups else 0
    if c.first >= len(c.trend) - 1:
        c.first = 0  # (a holder only the later snapshot has: nothing to compare from)


def _functions(g: HeapGraph, nodes: np.ndarray) -> np.ndarray:
    return nodes[np.asarray(g.ntype)[nodes] == g.nt.get("closure", -1)]


def _describe(g: HeapGraph, c: Cause, new, size, cat, cls, class_names, rules: Rules, root: str | None) -> None:
    idx = c.nodes
    cb = np.bincount(cat[idx], weights=size[idx], minlength=len(CATEGORIES))
    c.categories = {CATEGORIES[i]: int(cb[i]) for i in range(len(CATEGORIES)) if cb[i] > 0}
    csz = np.bincount(cls[idx], weights=size[idx], minlength=len(class_names))
    ccnt = np.bincount(cls[idx], minlength=len(class_names))
    by_size = [int(i) for i in np.argsort(-csz).tolist() if ccnt[i] > 0]
    # the largest classes, then every class named by a constructor (a `JobQueue` of 15 objects still says
    # what leaks), at most MAX_CLASSES
    keep = by_size[:10] + [i for i in by_size[10:] if IDENT.fullmatch(class_names[i])]
    c.classes = [{"name": class_names[i], "count": int(ccnt[i]), "size": int(csz[i])} for i in keep[:MAX_CLASSES]]
    c.module_records = int((cat[idx] == CATEGORIES.index("module")).sum())
    # who added them: the scripts of the new functions (a sample of them)
    fns = _functions(g, new[idx])
    c.scripts = _scripts_by_count(g, fns[:4000])
    hn = c.holder
    if hn is not None and hn.kind == "listener":
        c.events = _events(g, hn)
    if hn is not None and hn.anchor is not None and hn.anchor.kind == "global" and c.kind != "tool":
        c.global_site = global_declaration(g, hn.anchor.name, root, rules, c.scripts)


def _scripts_by_count(g: HeapGraph, fns: np.ndarray) -> list[str]:
    """The script URLs of functions, the most common first (ties: in the order the functions first name them)."""
    sc = g.scripts.script_nodes(fns)
    uniq, first, counts = np.unique(sc[sc >= 0], return_index=True, return_counts=True)
    urls: dict[str, int] = {}
    for i in np.argsort(first, kind="stable").tolist():  # (scripts of one URL: counted together)
        u = g.scripts.url_of_script(int(uniq[i]))
        if u:
            urls[u] = urls.get(u, 0) + int(counts[i])
    return [u for u, _ in sorted(urls.items(), key=lambda kv: -kv[1])]


def _callback(g: HeapGraph, hn: HolderName, fns: np.ndarray, rules: Rules, root: str | None):
    """The user function a timer calls / a listener runs — named on the chain (``_onTimeout``), else the
    most common new function of the user's code among the group's — as (url, line, name); the line is
    the one that registers it when the source says so (``process.on('exit', onExit)``)."""
    found = None
    for s in reversed(hn.steps):
        if s.name in ("_onTimeout", "_onImmediate", "callback", "listener") and \
                int(g.ntype[s.dst]) == g.nt.get("closure"):
            url, line = location(g, s.dst, root)
            if url and not rules.tool_script(url):
                found = (url, line, g.node_name(s.dst))
                break
    if found is None:
        # the listener / timer callback the holder itself calls (a listener array's element, `_onTimeout`)
        f = _held_user_function(g, hn.node, rules)
        if f is not None:
            url, line = location(g, f, root)
            found = (url, line, g.node_name(f))
    if found is None:
        found = _common_user_function(g, fns[:2000], rules, root)
    if found is None:
        return None
    url, line, name = found
    reg = registration_line(source_path(url, root), name, line, hn.kind)
    return url, reg or line, name


def _common_user_function(g: HeapGraph, fns: np.ndarray, rules: Rules, root: str | None):
    """The (url, line, name) most of the functions ``fns`` of the user's code have (ties: the first named) — as
    counting ``(*location(g, f, root), g.node_name(f))`` of each function of the user's code, but asked once per
    distinct position and name (the first function of each: :func:`location` keeps what it finds per position)."""
    fns = np.asarray(fns, dtype=np.int64)
    if not len(fns):
        return None
    has, where = g.locations_of(fns)
    key = np.empty((len(fns), 4), dtype=np.int64)
    key[:, :3] = where
    key[~has, :2] = -1
    key[~has, 2] = -1 - np.flatnonzero(~has)  # a function without a position: its own group (its script's URL)
    key[:, 3] = np.asarray(g.nname)[fns]
    _, first, counts = np.unique(key, axis=0, return_index=True, return_counts=True)
    order = np.argsort(first, kind="stable")
    seen: dict[tuple, int] = {}
    for f, n in zip(fns[first[order]].tolist(), counts[order].tolist()):
        url, line = location(g, f, root)
        if url and not rules.tool_script(url):
            k = (url, line, g.node_name(f))
            seen[k] = seen.get(k, 0) + n
    if seen:
        return max(seen.items(), key=lambda kv: kv[1])[0]
    return None


def _site(g: HeapGraph, nodes: np.ndarray, rules: Rules, kind: str, owner: int | None, root: str | None):
    """Where the new servers (databases) come from: the request listener of a new ``Server`` (its
    ``_events.request``), else the constructor's class — (url, line, name) of the most common."""
    kr = next((k for k in rules.kinds if k.kind == kind), None)
    if kr is None or kr.new_classes is None:
        return None
    cids = g.class_ids_of(nodes)
    hit = [int(x) for x in _dense(cids)[0].tolist() if kr.new_classes.search(g.classes.name(int(x)))]
    seen: dict[tuple, int] = {}
    cands = nodes[np.isin(cids, hit)][:200].tolist() or ([owner] if owner is not None else [])
    for k in cands:
        fn = _listener_of(g, k, "request") or _listener_of(g, k, "connection")
        if fn is not None:
            url, line = location(g, fn, root)
            if url and not rules.tool_script(url):
                key = (url, line, g.node_name(fn))
                seen[key] = seen.get(key, 0) + 1
    if seen:
        return max(seen.items(), key=lambda kv: kv[1])[0]
    return None


def _listener_of(g: HeapGraph, emitter: int, event: str) -> int | None:
    """The (first) listener function of ``emitter._events[event]``."""
    closure = g.nt.get("closure", -1)
    for e in range(int(g.first[emitter]), int(g.first[emitter + 1])):
        if g.edge_name(e) == "_events":
            ev = int(g.to[e])
            for f in range(int(g.first[ev]), int(g.first[ev + 1])):
                if g.edge_name(f) == event:
                    v = int(g.to[f])
                    if int(g.ntype[v]) == closure:
                        return v
                    for h in range(int(g.first[v]), int(g.first[v + 1])):
                        if int(g.ntype[int(g.to[h])]) == closure:
                            return int(g.to[h])
    return None


def _events(g: HeapGraph, hn: HolderName) -> list[str]:
    """Event names of an emitter's listener lists on the holder's chain (``_events → exit``)."""
    out = []
    for i, s in enumerate(hn.steps):
        if s.name == "_events" and i + 1 < len(hn.steps) and hn.steps[i + 1].etype == "property":
            out.append(hn.steps[i + 1].name)
    return out


def _resource_classes(rules: Rules, kind: str):
    """The classes of the objects a cleanup of ``kind`` removes (a server's close also ends its timer)."""
    pats = []
    for kr in rules.kinds:
        if kr.kind == kind or (kind == "server" and kr.kind == "timer"):
            pats += [p.pattern for p in (kr.classes, kr.new_classes) if p is not None]
    return _AnyOf(pats) if pats else None


class _AnyOf:
    def __init__(self, patterns):
        self.patterns = [re.compile(p) for p in patterns]

    def search(self, text: str):
        return next((m for m in (p.search(text) for p in self.patterns) if m), None)


def _exclusive(g: HeapGraph, old, att, new, size, causes: list[Cause], rules: Rules) -> None:
    """Confidence: for each cause, the share of its bytes that is no longer reachable from the program's
    roots once its holders — with the old objects only they keep (their tables, element stores) — drop
    their references to new objects (docs/diagnose.md)."""
    # every edge's source: wanted for a resource's cause only
    src = GK.edge_sources(g.first) if any(c.holder is not None and c.holder.kind in RESOURCES for c in causes) \
        else None
    to = np.asarray(g.to)
    first = np.asarray(g.first).astype(np.int64)
    out_degree = np.diff(first)
    etype = np.asarray(g.etype)
    weak = g.t["weak"]
    is_new = ~old
    to_new = is_new[to]  # the edges to a new object
    starts = np.asarray(g.user_roots, dtype=np.uint32)
    dom = np.asarray(g.dom)

    def one(c: Cause) -> None:
        mark = np.zeros(g.n, dtype=np.uint8)
        mark[np.array(c.groups, dtype=np.int64)] = 1
        under = GK.nearest_marked(dom, mark, g.root)
        hold = (mark == 1) | ((under != g.root) & old)
        if mark[g.root]:
            hold = mark == 1
        del under
        et = etype.copy()
        et[_edges_from_to(first, out_degree, hold, to_new)] = weak
        kind = c.holder.kind if c.holder is not None else None
        if kind in RESOURCES:
            # the cleanup (clearInterval, removeListener, close, mockRestore) takes the resource out of
            # every list of the runtime: whatever old object refers to it lets go. The resource: the new
            # objects of its classes (timers, servers and their handles), else what sits right below
            # the holder (a listener function, the spy's state)
            res = np.zeros(g.n, dtype=bool)
            pat = _resource_classes(rules, kind)
            if pat is not None:
                nodes_c = new[c.nodes]
                cids = g.class_ids_of(nodes_c)
                hit = [int(x) for x in _dense(cids)[0].tolist() if pat.search(g.classes.name(int(x)))]
                res[nodes_c[np.isin(cids, hit)]] = True
            if res.any():
                et[res[to] & ~res[src]] = weak  # out of every list (old or new) that is not the resource itself
            else:  # no resource class among them: what sits right below the holder
                res[att.top[c.nodes]] = True
                et[res[to] & old[src]] = weak
            del res
        reach = GK.mark_page_owned(g.first, et, to, starts, weak)
        nodes = new[c.nodes]
        freed = size[c.nodes][reach[nodes] == 0].sum()
        c.exclusive = float(freed / c.bytes) if c.bytes else 0.0
        del et, hold, reach, mark

    # each cause's on its own (its kernels release the GIL): two at a time, beside each other
    if len(causes) > 1 and (os.cpu_count() or 1) >= 2:
        with ThreadPoolExecutor(2, thread_name_prefix="heaplens-confidence") as pool:
            list(pool.map(one, causes))
    else:
        for c in causes:
            one(c)


def _edges_from_to(first: np.ndarray, out_degree: np.ndarray, src_mask: np.ndarray, to_mask: np.ndarray) -> np.ndarray:
    """The edges from a node of ``src_mask`` to one of ``to_mask`` (``to_mask``: per edge, whether its target is
    one), ascending — ``np.flatnonzero(src_mask[sources] & to_mask)`` gathered from those nodes' own edges (the
    holders and what only they keep are few; the edges, millions). ``first``: int64 offsets."""
    held = np.flatnonzero(src_mask)
    edges, _ = GK.csr_slots(first[held], out_degree[held])
    return edges[to_mask[edges]]


def _modules(g: HeapGraph, c: Cause, new, rules: Rules, root: str | None) -> None:
    """The module instances of a module-graph cause: URL, instances, retained size, importers."""
    nodes = new[c.nodes]
    ids = g.class_ids_of(nodes)
    record_classes = [int(x) for x in _dense(ids)[0].tolist() if rules.module_record(g.classes.name(int(x)))]
    recs = nodes[np.isin(ids, record_classes)]
    # each record's URL (its property, else its registry's key), then the importers of those with one: a few array
    # passes over all the records' edges, the rest read one by one
    urls = _string_props(g, recs, rules.url_properties)
    keyed = [i for i, u in enumerate(urls) if not u]
    for i, key in zip(keyed, _registry_keys(g, recs[keyed], rules)):
        urls[i] = key
    named = [i for i, u in enumerate(urls) if u]
    importers = _importers_of(g, recs[named], rules)
    retained = np.asarray(g.retained)[recs[named]].tolist()
    by_url: dict[str, ModuleInfo] = {}
    for i, r, imps in zip(named, retained, importers):
        url = urls[i]
        m = by_url.get(url)
        if m is None:
            m = by_url[url] = ModuleInfo(url, 0, 0, [])
        m.instances += 1
        m.retained += int(r)
        for imp in imps:
            if imp not in m.importers:
                m.importers.append(imp)
    c.modules = sorted(by_url.values(), key=lambda m: -m.retained)


def _declaring_module_importers(g: HeapGraph, hn: HolderName | None, rules: Rules) -> list[str]:
    """The importers of the module whose variable names the holder: the last module record on its chain
    above the variable (``… → EvaluatedModuleNode → exports → … → context → entries``)."""
    if hn is None or hn.anchor is None or hn.anchor.tool:
        return []
    for s in reversed(hn.steps[:hn.anchor.index + 1]):
        if rules.module_record(g.class_label(s.dst)):
            found = _importers(g, s.dst, rules)  # (a namespace `Module` has none: its record above has them)
            if found:
                return found
    return []


def _inner_holder(g: HeapGraph, c: Cause, new, cat, rules: Rules) -> None:
    """Module-graph growth most of which one new data object keeps (a module-level collection of a module
    loaded between the snapshots): named, so the finding can say what the pair cannot tell — whether that
    collection grew after its module was loaded (a runtime leak) or came with it."""
    if c.nodes is None or not c.bytes:
        return
    data = new[c.nodes][cat[c.nodes] == CATEGORIES.index("data")]
    if not len(data):
        return
    ret = np.asarray(g.retained)[data]
    i = int(np.argmax(ret))
    if ret[i] < 0.5 * c.bytes:
        return
    k = int(data[i])
    hn = name_holder(g, int(g.dom[k]), k, rules, set())
    if hn.variable and hn.anchor is not None and not hn.anchor.tool:
        c.inner = (hn, int(min(ret[i], c.bytes)))


def _name_ids(g: HeapGraph, names: list[str]) -> dict[int, str]:
    """Each string of the snapshot that is one of ``names``, by its index (an edge's name is that index: edges are
    told apart by integers, not by decoding their names)."""
    cache = g.__dict__.setdefault("_heaplens_name_ids", {})
    key = tuple(names)
    if key not in cache:
        cache[key] = {i: n for n in names for i in string_ids(g.snap, n)}
    return cache[key]


def _string_prop(g: HeapGraph, k: int, props: list[str]) -> str | None:
    ids = _name_ids(g, props)
    prop = g.t["property"]
    lo, hi = int(g.first[k]), int(g.first[k + 1])
    found = {}
    for e, t, s in zip(range(lo, hi), g.etype[lo:hi].tolist(), g.ename[lo:hi].tolist()):
        n = ids.get(s) if t == prop else None
        if n is not None:
            v = string_value(g, int(g.to[e]))
            if v:
                found[n] = v
    for p in props:
        if found.get(p):
            return found[p]
    return None


def _string_props(g: HeapGraph, ks: np.ndarray, props: list[str]) -> list[str | None]:
    """``[_string_prop(g, k, props) for k in ks]``: the nodes' edges gathered and told apart by their names' string
    indices in one array pass; only the edges named one of ``props`` are read one by one."""
    ids = _name_ids(g, props)
    ks = np.asarray(ks, dtype=np.int64)
    first = np.asarray(g.first)
    edges, owner = GK.csr_rows(first, ks)
    names = np.asarray(g.ename)[edges]
    hit = (np.asarray(g.etype)[edges] == g.t["property"]) & np.isin(names, _id_array(ids))
    found: list[dict[str, str] | None] = [None] * len(ks)
    to = np.asarray(g.to)
    for o, s, v in zip(owner[hit].tolist(), names[hit].tolist(), to[edges[hit]].tolist()):
        text = string_value(g, v)
        if text:
            if found[o] is None:
                found[o] = {}
            found[o][ids[s]] = text
    out: list[str | None] = []
    for f in found:
        out.append(None if f is None else next((f[p] for p in props if f.get(p)), None))
    return out


def _registry_key(g: HeapGraph, k: int, rules: Rules) -> str | None:
    """The key a runner's registry (a Map: ``ModuleCacheMap`` of Vitest 3) files a module record under when the
    record itself has no URL property: V8 keeps a Map's entries as key, value pairs in its table, so the key is
    the table slot just before the record's."""
    return _registry_keys(g, np.array([k], dtype=np.int64), rules)[0]


def _registry_keys(g: HeapGraph, ks: np.ndarray, rules: Rules) -> list[str | None]:
    """:func:`_registry_key` of each node of ``ks``: their retaining edges and those edges' sources (the tables) in
    one array pass; each node's internal edges from a table (but a table's first) are tried in order, the first
    that a registry's table has and whose key is a string giving the key."""
    rfirst, redge = g.reverse
    ks = np.asarray(ks, dtype=np.int64)
    slots, owner = GK.csr_rows(rfirst, ks)
    es = np.asarray(redge)[slots].astype(np.int64)
    tables = g.sources_of_edges(es)
    cand = (es != np.asarray(g.first)[tables]) & (np.asarray(g.etype)[es] == g.t["internal"])
    registry_table = graph_memo(g, "registry_table", rules)  # a table → whether a registry holds it
    to = np.asarray(g.to)
    out: list[str | None] = [None] * len(ks)
    for o, e, table in zip(owner[cand].tolist(), es[cand].tolist(), tables[cand].tolist()):
        if out[o] is not None:
            continue  # (its key is found)
        held = registry_table.get(table)
        if held is None:
            owners = (g.source_of_edge(int(redge[q])) for q in range(int(rfirst[table]), int(rfirst[table + 1])))
            held = registry_table[table] = any(rules.registry(g.class_label(o)) for o in owners)
        if held:
            key = string_value(g, int(to[e - 1]))
            if key:
                out[o] = key
    return out


def _importers(g: HeapGraph, k: int, rules: Rules, limit: int = 50) -> list[str]:
    """Importer ids of a module record: strings in its ``importers`` Set/array (or a parent record)."""
    return _importers_of(g, np.array([k], dtype=np.int64), rules, limit)[0]


def _importers_of(g: HeapGraph, ks: np.ndarray, rules: Rules, limit: int = 50) -> list[list[str]]:
    """:func:`_importers` of each module record of ``ks``: their edges named an importer property found in one array
    pass; from each, the walk (depth first) through the collection's storage — strings, and ``(array)``/``(system)``/
    hash-table nodes (naming.node_flags' STORAGE) — to the importers' strings and the URLs of the module records it
    meets (MODULE_RECORD). What the walk follows of a node is read for the nodes of a level at once
    (:class:`_ImporterSteps`)."""
    ks = np.asarray(ks, dtype=np.int64)
    steps = _ImporterSteps(g, rules)
    first, to = np.asarray(g.first), np.asarray(g.to)
    edges, owner = GK.csr_rows(first, ks)
    hit = (np.asarray(g.etype)[edges] == g.t["property"]) & np.isin(np.asarray(g.ename)[edges],
                                                                    _id_array(_name_ids(g, rules.importer_properties)))
    owner, colls = owner[hit].tolist(), to[edges[hit]].astype(np.int64)
    steps.read_ahead(colls)
    found: list[list[str]] = [[] for _ in range(len(ks))]
    for o, coll, coll_is_string in zip(owner, colls.tolist(), steps.is_string(colls).tolist()):
        out = found[o]
        stack, seen = [(coll, coll_is_string)], {coll}
        while stack and len(out) < limit:
            v, is_string = stack.pop()
            if is_string:
                text = string_value(g, v)
                if text:
                    out.append(text)
                continue
            if len(seen) > 200:
                break
            for w, code in steps.of(v):
                if w in seen:
                    continue
                if code == _IMPORTER_RECORD:
                    u = _string_prop(g, w, rules.url_properties)
                    if u:
                        out.append(u)
                else:
                    seen.add(w)
                    stack.append((w, code == _IMPORTER_STRING))
    return found


def _id_array(ids: dict[int, str]) -> np.ndarray:
    return np.fromiter(ids, dtype=np.int64, count=len(ids))


# What the importers' walk does with an edge's target (:class:`_ImporterSteps`)
_IMPORTER_STRING, _IMPORTER_STORAGE, _IMPORTER_RECORD = 1, 2, 3


class _ImporterSteps:
    """Per node, the edges the importers' walk follows, in edge order, as (target, what the target is:
    _IMPORTER_STRING, _IMPORTER_STORAGE — walked into; _IMPORTER_RECORD — a module record, its URL taken): an element,
    internal or hidden edge, or a property named a URL property, to a string, a storage node or a module record
    (naming.node_flags), never a weak or shortcut edge. Read in array passes for many nodes at once: the
    collections, then the storage below them, level by level (:meth:`read_ahead`); a node not read ahead is read
    alone (:meth:`of`). A pure function of the node: where it was read does not change it."""

    AHEAD_LEVELS = 4
    AHEAD_EDGES = 200_000

    def __init__(self, g: HeapGraph, rules: Rules):
        self.first, self.etype, self.ename = np.asarray(g.first), np.asarray(g.etype), np.asarray(g.ename)
        self.to, self.ntype = np.asarray(g.to), np.asarray(g.ntype)
        self.flags = node_flags(g, rules)
        nt = g.snap.layout.node_types
        self.string_type = np.zeros(max(len(nt), 1), dtype=bool)
        for t in ("string", "concatenated string", "sliced string"):
            if t in nt:
                self.string_type[nt.index(t)] = True
        self.followed = np.zeros(max(len(g.snap.layout.edge_types), 1), dtype=bool)  # edge types walked
        for t in ("element", "internal", "hidden"):
            if g.t[t] >= 0:
                self.followed[g.t[t]] = True
        self.prop = g.t["property"]
        self.url_ids = _id_array(_name_ids(g, rules.url_properties))
        self.read: dict[int, list[tuple[int, int]]] = {}

    def is_string(self, vs: np.ndarray) -> np.ndarray:
        return self.string_type[self.ntype[np.asarray(vs, dtype=np.int64)]]

    def of(self, v: int) -> list[tuple[int, int]]:
        got = self.read.get(v)
        if got is None:
            self._read(np.array([v], dtype=np.int64))
            got = self.read[v]
        return got

    def read_ahead(self, vs: np.ndarray) -> None:
        budget = self.AHEAD_EDGES
        vs = np.unique(vs[~self.is_string(vs)])
        for _ in range(self.AHEAD_LEVELS):
            vs = vs[[v not in self.read for v in vs.tolist()]]
            nedges = int((self.first[vs + 1] - self.first[vs]).sum()) if len(vs) else 0
            if not len(vs) or nedges > budget:
                return
            budget -= nedges
            storage = self._read(vs)
            vs = np.unique(storage)

    def _read(self, vs: np.ndarray) -> np.ndarray:
        """Reads the nodes ``vs`` (distinct, none of them a string); returns the storage nodes their edges lead to."""
        slots, owner = GK.csr_rows(self.first, vs)
        t = self.etype[slots]
        w = self.to[slots].astype(np.int64)
        keep = self.followed[t] | ((t == self.prop) & np.isin(self.ename[slots], self.url_ids))
        f = self.flags[w]
        code = np.where(self.string_type[self.ntype[w]], _IMPORTER_STRING,
                        np.where((f & STORAGE) != 0, _IMPORTER_STORAGE,
                                 np.where((f & MODULE_RECORD) != 0, _IMPORTER_RECORD, 0)))
        keep &= code != 0
        owner, w, code = owner[keep], w[keep], code[keep]
        bounds = np.searchsorted(owner, np.arange(len(vs) + 1)).tolist()
        pairs = list(zip(w.tolist(), code.tolist()))
        for i, v in enumerate(vs.tolist()):
            self.read[v] = pairs[bounds[i]:bounds[i + 1]]
        return w[code == _IMPORTER_STORAGE]
