"""The heap graph: CSR edges, DevTools' essential edges, dominators, retained sizes, distances.

Usage::

    snap = read_snapshot(path, node_fields=GRAPH_NODE_FIELDS, edges=True, locations=True)
    g = HeapGraph(snap)          # dominators + retained sizes (DevTools' rules)
    g.retained[k], g.dom[k], g.distances()[k], g.class_summary()

Everything follows DevTools' ``HeapSnapshot.ts`` / ``JSHeapSnapshot`` (see docs/graph.md).
"""

from __future__ import annotations

import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import SnapshotError
from ..snapshot import read_snapshot
from ..snapshot.classes import NodeClasses
from ..snapshot.strings import find_string
from . import kernels as GK
from .scripts import ScriptIndex

GRAPH_NODE_FIELDS = ("type", "name", "id", "self_size", "edge_count")


class _Laps:
    """Phase timings and memory (VmRSS / VmHWM) on stderr when HEAPLENS_TIMING=1."""

    def __init__(self):
        self.on = os.environ.get("HEAPLENS_TIMING") == "1"
        self._clock = time.perf_counter
        self.t = self._clock()

    def __call__(self, phase: str) -> None:
        if not self.on:
            return
        mem = {}
        try:
            with open("/proc/self/status") as fh:
                for line in fh:
                    if line.startswith(("VmRSS", "VmHWM")):
                        k, v = line.split(":")
                        mem[k] = int(v.split()[0]) / 1024
        except OSError:
            pass
        now = self._clock()
        print(f"[heaplens-timing] graph {phase} {now - self.t:.3f}s rss {mem.get('VmRSS', 0):.0f} MB "
              f"hwm {mem.get('VmHWM', 0):.0f} MB", file=sys.stderr)
        self.t = now

_EPHEMERON = re.compile(
    r"^\d+(?P<dup> / part of key \(.*? @\d+\) -> value \(.*? @\d+\) pair in WeakMap \(table @(?P<table>\d+)\))$",
    re.S,
)


def read_for_graph(path, *, locations: bool = True, progress=None):
    """``read_snapshot`` with the columns :class:`HeapGraph` uses (``detachedness`` when the
    snapshot has it: DevTools names detached embedder objects ``Detached <name>``)."""
    # Large arrays stay separate mmaps, returned to the system when freed (see
    # _kernels.malloc_mmap_threshold): -25 MB peak on the 189 MB file.
    GK.fixed_mmap_threshold()
    try:
        return read_snapshot(path, node_fields=GRAPH_NODE_FIELDS + ("detachedness",), edges=True,
                             locations=locations, progress=progress)
    except SnapshotError as exc:
        if "detachedness" not in str(exc):
            raise
    return read_snapshot(path, node_fields=GRAPH_NODE_FIELDS, edges=True, locations=locations,
                         progress=progress)


@dataclass
class ClassRow:
    key: int
    name: str
    count: int
    self_size: int
    retained: int
    distance: int
    location: tuple[int, int, int] | None  # script_id, line, column (0-based) of object classes


def first_node_with_id(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Per id of ``wanted``: the first node, in node order, whose id (``ids``, int64) it is, or -1. The distinct
    wanted ids (a few: WeakMap tables') are looked up among all nodes' in one pass, not all nodes' sorted."""
    tables = np.unique(wanted)
    if not len(tables):
        return np.full(len(wanted), -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(tables, ids), len(tables) - 1)
    hits = np.flatnonzero(tables[at] == ids)
    found, first = np.unique(at[hits], return_index=True)
    node_of = np.full(len(tables), -1, dtype=np.int64)
    node_of[found] = hits[first]
    return node_of[np.searchsorted(tables, wanted)]


class HeapGraph:
    """Dominator tree and retained sizes of one snapshot, with DevTools' semantics.

    ``snap`` must have been read with ``edges=True`` and the node columns in
    :data:`GRAPH_NODE_FIELDS` (``locations=True`` for DevTools' class keys and script URLs).
    With ``consume=True`` the ``edge_count`` column is dropped from ``snap.nodes`` once the CSR
    offsets are built and the other columns get compact buffers (much less memory on multi-GB
    snapshots). ``dominators=False`` computes only the CSR offsets and DevTools' shallow sizes.
    ``interfaces``: plain-object interface definitions to apply instead of this snapshot's own
    (another graph's ``classes.interfaces``; DevTools' Comparison view names the earlier snapshot's
    plain objects with the later one's definitions).
    """

    def __init__(self, snap, *, consume: bool = False, dominators: bool = True, interfaces: list | None = None,
                 program_roots: bool = False):
        for f in GRAPH_NODE_FIELDS:
            if f not in snap.nodes:
                raise ValueError(f"HeapGraph needs the node column {f!r}")
        if snap.edges is None:
            raise ValueError("HeapGraph needs the edges (read_snapshot(..., edges=True))")
        self.snap = snap
        self._consume = consume
        self._interfaces = interfaces
        lap = _Laps()
        lap("start")
        L = snap.layout
        self.n = snap.node_count
        if self.n == 0:
            raise SnapshotError(snap.path, "has no nodes")
        self.root = 0
        nodes = snap.nodes
        self.ntype = nodes["type"]
        self.nname = nodes["name"]
        self.ids = nodes["id"]
        self.raw_self = nodes["self_size"]
        e = snap.edges
        self.etype, self.ename, self.to = e.type, e.name_or_index, e.to_node
        self.t = {name: L.edge_type_index(name) for name in ("context", "element", "property", "internal",
                                                            "hidden", "shortcut", "weak")}
        self.nt = {name: L.node_type_index(name) for name in L.node_types}
        m = self.to.shape[0]
        if m >= 2**32 - 1 or self.n >= 2**32 - 2:
            raise SnapshotError(snap.path, f"has {self.n:,} nodes and {m:,} edges; heaplens' graph "
                                           "analysis handles fewer than 2**32 of each")
        self.first = np.empty(self.n + 1, dtype=np.uint32)
        total = GK.first_edges(nodes["edge_count"], self.first)
        if total != m:
            raise SnapshotError(snap.path, f"edge counts add up to {total:,} but there are {m:,} edges")
        if consume:
            self._compact(snap)
            nodes = snap.nodes
            self.nname, self.ids, self.raw_self = nodes["name"], nodes["id"], nodes["self_size"]
            self.ename = snap.edges.name_or_index
        lap("first+compact")
        self.retyped: dict[int, int] = {}  # edge → its type in the file, where program_roots made it weak
        if program_roots:
            self._transient_as_weak()
        self.detached = None
        det = snap.nodes.get("detachedness")
        if det is not None and det.any():
            self.detached = GK.dom_state(self.first, self.etype, self.to, self.ntype, det,
                                         self.nt.get("native", -1), self.t["hidden"], self.t["weak"])
        del det
        if consume:
            snap.nodes.pop("detachedness", None)
        self._ephemerons()
        self._roots()
        if program_roots:
            self._dead_tables_as_weak()
        lap("detached+ephemerons+roots")
        self.page = None
        if not dominators:  # shallow sizes only (the older snapshot of an id diff)
            self.sizes = self._adjusted_sizes()
            return
        self.page = GK.mark_page_owned(self.first, self.etype, self.to, self.page_roots, self.t["weak"])
        # The essential-edge mask, the DFS and the reverse CSR run on this thread (C, GIL released)
        # while the other core computes DevTools' shallow sizes; then Lengauer–Tarjan runs alone
        # (it is the memory peak); the class keys are computed while the retained sizes are
        # summed and the distances found.
        with ThreadPoolExecutor(1) as pool:
            side = pool.submit(self._adjusted_sizes)
            rfirst = np.zeros(self.n + 1, dtype=np.uint32)
            ess, n_ess = GK.essential_reverse_count(*self._ess_args(), rfirst)
            self.page = None  # only the mask needs it (recomputed on demand)
            parent, vertex, label, semi, scratch, nv, self.n_weak_only, self.n_unreachable = GK.dominators_dfs(
                self.first, self.to, ess, self.root, rfirst)
            # (the shallow sizes' scratch arrays are gone before the retainers are stored)
            self.sizes = side.result()
            # the retainers, stored as DFS numbers straight away (semi holds them now)
            rsrc = np.empty(n_ess, dtype=np.uint32)
            GK.reverse_fill(self.first, self.to, ess, rfirst, rsrc, False, vnum=semi)
            del ess
        lap("essential+dfs+reverse | sizes")
        # Lengauer–Tarjan is the memory peak and needs no forward edges: meanwhile the edge offsets
        # are held as one byte per node (and the few larger counts), and free arena memory goes back
        # to the system (-9 MB peak on the 189 MB file, -80 MB on the 2 GB one).
        packed = GK.pack_offsets(self.first)
        self.first = None
        GK.release_free_memory()
        self.dom, order = GK.dominators_main(self.root, rfirst, rsrc, parent, vertex, label, semi, scratch, nv,
                                             numbered=True)
        del rfirst, rsrc, parent, label, semi, scratch
        self.first = GK.unpack_offsets(packed)
        del packed
        lap("lengauer-tarjan")
        # (computing the class keys beside Lengauer–Tarjan was tried: +0.3 GB peak on the 2 GB file)
        with ThreadPoolExecutor(1) as pool:
            side = pool.submit(lambda: self.classes)
            self.retained = GK.retained_sizes(self.dom, order, self.sizes)
            del order, vertex  # the DFS order is only needed for the sums
            self.distance  # noqa: B018 - computes and caches
            self._located  # noqa: B018 - the located objects, for the class keys
            side.result()
        self.class_keys  # noqa: B018
        self.__dict__.pop("_located", None)
        lap("retained+distances+locations | class names; class keys")

    # -- set-up ---------------------------------------------------------------------------------
    @staticmethod
    def _compact(snap) -> None:
        """Drop ``edge_count`` (``first`` replaces it) and give the node columns and the edge names
        their own buffers: the reader hands out views into its 2-D parse buffers, which keep the
        dropped columns (the raw edge types and offsets, the raw node types) alive."""
        snap.nodes.pop("edge_count", None)
        for k, col in list(snap.nodes.items()):
            if col.base is not None:
                snap.nodes[k] = col.copy()
                del col
        en = snap.edges.name_or_index
        if en.base is not None:
            snap.edges.name_or_index = en.copy()
        del en

    def _ess_args(self):
        if self.page is None:
            self.page = GK.mark_page_owned(self.first, self.etype, self.to, self.page_roots, self.t["weak"])
        return (self.first, self.etype, self.ename, self.to, self.ids, self.page, self.eph_table,
                self.t["internal"], self.t["weak"], self.t["shortcut"], self.root)

    def _transient_as_weak(self) -> None:
        """Only the program's own references retain (the diagnosis's view; DevTools' counts them all): the
        references a snapshot written from inside the worker holds at that instant are made weak — the C++
        handle scope (the snapshot call's arguments, and the handles V8's snapshot generator makes for every
        global object it finds, a vm context that died and awaits Node's finalizer included), identity maps
        registered as strong roots (the generator's and compile jobs' handles), and Node's cleanup queue
        (a hook per native object for the process's exit, not an owner). A vm context that a test file left
        and no GC has finalized yet is then garbage here, as it is to the program."""
        snap = self.snap
        syn, nat = self.nt.get("synthetic", -1), self.nt.get("native", -1)
        edges = []
        for text, typ in (("(Handle scope)", syn), ("Node / CleanupQueue", nat)):
            name = find_string(snap, text)
            if name < 0 or typ < 0:
                continue
            for v in np.flatnonzero((self.nname == name) & (self.ntype == typ)).tolist():
                edges.extend(range(int(self.first[v]), int(self.first[v + 1])))
        strong = find_string(snap, "(Strong roots)")
        named = {self.t[k] for k in ("context", "property", "internal", "shortcut", "weak")}
        if strong >= 0 and syn >= 0:
            for v in np.flatnonzero((self.nname == strong) & (self.ntype == syn)).tolist():
                for e in range(int(self.first[v]), int(self.first[v + 1])):
                    if int(self.etype[e]) in named and snap.strings[int(self.ename[e])].endswith("IdentityMapBase"):
                        edges.append(e)
        self._weaken(np.asarray(edges, dtype=np.int64))

    def _weaken(self, edges: np.ndarray) -> None:
        """Make ``edges`` weak in this graph's own copy of the edge types, remembering each one's type in the
        file (``retyped``: edge names are still read by it)."""
        edges = edges[np.asarray(self.etype)[edges] != self.t["weak"]]
        if not len(edges):
            return
        if not self.retyped:  # still the snapshot's own column
            self.etype = np.array(self.etype, copy=True)
        self.retyped.update(zip(edges.tolist(), self.etype[edges].tolist()))
        self.etype[edges] = self.t["weak"]

    def _dead_tables_as_weak(self) -> None:
        """With ``program_roots``: a WeakMap's value lives only while its table does, yet DevTools takes the
        key for its retainer (the table's edge is not essential). The key's edge of a pair whose table no
        program root reaches — a dead test file's WeakMap keyed by a long-lived object, such as Node's
        ``path`` module — is made weak, so what the value keeps is garbage here, as it is to V8."""
        if not self.n_pairs:
            return
        cand = np.flatnonzero(np.asarray(self.etype) == self.t["internal"])
        names = np.asarray(self.ename)[cand]
        pair = (self.eph_table >= 0)[names]  # (a byte per edge looked up, not its table id)
        cand = cand[pair]
        tid = self.eph_table[names[pair]]
        del names, pair
        if not len(cand):
            return
        src = self.sources_of_edges(cand)
        ids = np.asarray(self.ids).astype(np.int64)
        key = tid != ids[src]
        cand, tid = cand[key], tid[key]
        table = first_node_with_id(ids, tid)
        dist = np.asarray(self.distance)
        dead = (table >= 0) & (dist[np.maximum(table, 0)] == GK.NO_DISTANCE)
        self._weaken(cand[dead])

    def _ephemerons(self) -> None:
        """WeakMap ephemeron edge names: the table id they name, and a pair id per name text."""
        snap = self.snap
        nstr = len(snap.strings)
        names = np.flatnonzero(GK.mark_edge_names(self.etype, self.ename, self.t["internal"], nstr))
        tables: dict[int, int] = {}
        pairs: dict[int, int] = {}
        dup_ids: dict[str, int] = {}
        # ephemeron names are long: "<n> / part of key (K @1) -> value (V @2) pair in WeakMap (table @3)"
        names = names[snap.strings.lengths[names] >= 60]
        for s in names:
            s = int(s)
            raw = snap.strings.raw(s)
            if not raw[:1].isdigit() or b"pair in WeakMap" not in raw:
                continue
            m = _EPHEMERON.match(snap.strings[s])
            if not m:
                continue
            tables[s] = int(m.group("table"))
            pairs[s] = dup_ids.setdefault(m.group("dup"), len(dup_ids))
        self.n_pairs = len(dup_ids)
        if tables:
            self.eph_table = np.full(nstr, -1, dtype=np.int64)
            self.eph_pair = np.full(nstr, -1, dtype=np.int64)
            k = np.fromiter(tables.keys(), dtype=np.int64)
            self.eph_table[k] = np.fromiter(tables.values(), dtype=np.int64)
            self.eph_pair[k] = np.fromiter((pairs[int(x)] for x in k), dtype=np.int64)
        else:
            self.eph_table = np.full(1, -1, dtype=np.int64)
            self.eph_pair = np.full(1, -1, dtype=np.int64)

    def _roots(self) -> None:
        """Root children: user roots (non-synthetic, e.g. ``global``; DevTools ``isUserRoot``) and
        page-owned entry points (root shortcut targets and ``(Document DOM trees)``)."""
        snap = self.snap
        r = self.root
        lo, hi = int(self.first[r]), int(self.first[r + 1])
        kids = self.to[lo:hi]
        ktypes = self.etype[lo:hi]
        syn = self.nt.get("synthetic", -1)
        docdom = find_string(snap, "(Document DOM trees)")
        is_doc = (self.ntype[kids] == syn) & (self.nname[kids] == docdom) if docdom >= 0 else np.zeros(len(kids), bool)
        self.user_roots = kids[(self.ntype[kids] != syn) | is_doc].astype(np.uint32)
        page = (ktypes == self.t["shortcut"]) | ((ktypes == self.t["element"]) & is_doc)
        self.page_roots = kids[page].astype(np.uint32)

    def _adjusted_sizes(self) -> np.ndarray:
        """DevTools' shallow sizes (``calculateShallowSizes``; only when there are user roots).

        With ``consume=True`` they are computed over the ``self_size`` column itself when no sum
        can overflow it (the column leaves ``snap.nodes``: one node-sized array less)."""
        raw = self.raw_self
        if self._consume:
            self.snap.nodes.pop("self_size", None)
            self.raw_self = None
            in_place = raw.flags.writeable and raw.flags.c_contiguous and (
                raw.dtype == np.uint64 or int(raw.sum(dtype=np.uint64)) <= 0xFFFFFFFF)
            if len(self.user_roots) == 0:
                return raw
        else:
            in_place = False
        if len(self.user_roots) == 0:
            return raw.copy()
        mask = np.zeros(len(self.snap.layout.node_types), dtype=np.uint8)
        for name in ("hidden", "array"):
            if self.nt.get(name, -1) >= 0:
                mask[self.nt[name]] = 1
        for dtype in (np.uint32, np.uint64):
            if in_place:
                sizes = raw  # the total fits its dtype, so no sum can overflow
            elif raw.dtype == np.uint64 and dtype == np.uint32:
                continue
            else:
                sizes = raw.astype(dtype)
            if GK.adjusted_self_sizes(self.first, self.ntype, self.nname, self.etype, self.to, sizes,
                                      mask, self.nt.get("native", -1),
                                      find_string(self.snap, "system / ExternalStringData"),
                                      self.t["weak"], self.nt.get("synthetic", -1), self.root):
                return sizes
        raise AssertionError("unreachable")

    # -- derived --------------------------------------------------------------------------------
    def essential_mask(self) -> np.ndarray:
        return GK.essential_mask(*self._ess_args())

    @cached_property
    def _dist_via(self):
        snap = self.snap
        return GK.distances(
            self.first, self.etype, self.ename, self.to, self.ntype, self.nname, self.root, self.user_roots,
            self.t["weak"], self.t["element"], self.t["hidden"], self.t["internal"], self.nt.get("hidden", -1),
            self.nt.get("array", -1), find_string(snap, "system / NativeContext"),
            find_string(snap, "sloppy_function_map"), find_string(snap, "(map descriptors)"),
            self.eph_pair, self.n_pairs, False)

    @property
    def distance(self) -> np.ndarray:
        """DevTools distances: 1 = user root, ≥ 100,000,000 = system only, -5 = unreachable."""
        return self._dist_via[0]

    @cached_property
    def reverse(self):
        """(rfirst, redge): all retaining edges of node k are ``redge[rfirst[k]:rfirst[k+1]]``."""
        rfirst = np.zeros(self.n + 1, dtype=np.uint32)
        redge = np.empty(GK.reverse_count(self.to, np.empty(0, np.uint8), rfirst), dtype=np.uint32)
        GK.reverse_fill(self.first, self.to, np.empty(0, np.uint8), rfirst, redge, True)
        return rfirst, redge

    def source_of_edge(self, e: int) -> int:
        # the needle in the offsets' own dtype: a Python int would make numpy convert the whole array
        return int(np.searchsorted(self.first, np.asarray(e, dtype=self.first.dtype), side="right") - 1)

    def sources_of_edges(self, es: np.ndarray) -> np.ndarray:
        """:meth:`source_of_edge` of each edge of ``es`` (int64)."""
        return np.searchsorted(self.first, np.asarray(es).astype(self.first.dtype), side="right").astype(np.int64) - 1

    @cached_property
    def dominated(self):
        return GK.dominated_csr(self.dom, self.root)

    @cached_property
    def classes(self):
        """DevTools class ids per node; detached embedder nodes get ``Detached <name>`` classes and
        plain objects their interface names (``{a, b, c}``, :meth:`NodeClasses.name_plain_objects`)."""
        nc = NodeClasses(self.snap, self.ntype, self.nname)
        nc.name_plain_objects(self.first, self.etype, self.ename, self._interfaces)
        if self.detached is not None and self.detached.any():
            det = np.flatnonzero(self.detached)
            for cid in np.unique(nc.ids[det]).tolist():
                new = nc.extra_id("Detached " + nc.name(cid))
                sel = det[nc.ids[det] == cid]
                nc.ids[sel] = new
        return nc

    @cached_property
    def _located(self):
        """``object`` nodes with a location: ``(ordinals, location index, packed locations, None)``,
        or ``(ordinals, None, None, (script_ids, lines, columns))`` when the numbers are too large to
        pack; None without any. Independent of the class names (computed beside them)."""
        locs = self.snap.locations
        if locs is None or not len(locs):
            return None
        nf = self.snap.layout.node_field_count
        lf = self.snap.layout.location_fields
        oi = locs[:, lf.index("object_index")] // nf
        rows = np.flatnonzero(oi < self.n)
        rows = rows[self.ntype[oi[rows]] == self.nt.get("object", -1)]
        if not len(rows):
            return None
        oi = oi[rows]
        # DevTools keeps the last location per node; nodes have at most one in practice
        sid = locs[rows, lf.index("script_id")].astype(np.int64)
        line = locs[rows, lf.index("line")].astype(np.int64)
        col = locs[rows, lf.index("column")].astype(np.int64)
        del rows
        if sid.max() < 2**20 and line.max() < 2**22 and col.max() < 2**21:
            sid <<= 43
            sid |= line << 21
            sid |= col
            del line, col
            ploc, pinv = np.unique(sid, return_inverse=True)
            return oi, pinv.reshape(-1).astype(np.uint32), ploc, None
        return oi, None, None, (sid, line, col)

    @cached_property
    def class_keys(self):
        """DevTools' ``classKeyInternal``: class id, split by location for ``object`` nodes.

        Returns (keys per node, key → class id, key → (script_id, line, column) or None).
        The keys are written over ``classes.ids`` (one n-sized array less); ``classes.of_node``,
        :meth:`class_name` and :meth:`class_label` still give a node's class name."""
        cids = self.classes.ids
        ncid = int(cids.max()) + 1 if len(cids) else 1
        keys = cids  # key == class id except for located objects, updated in place below
        key_cid = np.arange(ncid, dtype=np.int64)
        key_loc: list = [None] * ncid
        located = self._located
        if located is not None:
            oi, pinv, ploc, raw = located
            if raw is None:
                combo = pinv.astype(np.int64) * ncid + cids[oi]
                ucombo, inv = np.unique(combo, return_inverse=True)
                uloc = ploc[ucombo // ncid]
                ucid = ucombo % ncid
                uniq = np.stack([uloc >> 43, (uloc >> 21) & (2**22 - 1), uloc & (2**21 - 1), ucid], axis=1)
            else:
                rows = np.stack([*raw, cids[oi].astype(np.int64)], axis=1)
                uniq, inv = np.unique(rows, axis=0, return_inverse=True)
            keys[oi] = ncid + inv.reshape(-1)
            key_cid = np.concatenate([key_cid, uniq[:, 3]])
            key_loc += [(int(a), int(b), int(c)) for a, b, c, _ in uniq.tolist()]
        # classes.ids now holds the keys: of_node() translates them back through key_cid
        self.classes.key_cid = key_cid
        return keys, key_cid, key_loc

    @cached_property
    def _class_table(self):
        keys, key_cid, key_loc = self.class_keys
        nkeys = len(key_cid)
        # the dominator-tree children (two node-sized arrays) are kept only if already cached
        cfirst, kids = self.__dict__["dominated"] if "dominated" in self.__dict__ else GK.dominated_csr(
            self.dom, self.root)
        ret = GK.class_retained(cfirst, kids, keys, nkeys, self.sizes, self.retained, self.root,
                                np.empty(0, np.uint8))
        del cfirst, kids  # before the per-key arrays below
        cnt, selfs, dmin = GK.class_aggregates(keys, nkeys, self.sizes, self.distance, True)
        return cnt, selfs, ret, dmin

    def retained_by(self, keys: np.ndarray, nkeys: int, mask: np.ndarray) -> np.ndarray:
        """Retained size per key of the nodes in ``mask``, without double counting."""
        cfirst, kids = self.dominated
        return GK.class_retained(cfirst, kids, keys, nkeys, self.sizes, self.retained, self.root,
                                 mask.astype(np.uint8))

    def class_row(self, k: int) -> ClassRow:
        keys, key_cid, key_loc = self.class_keys
        cnt, selfs, ret, dmin = self._class_table
        return ClassRow(int(k), self.classes.name(int(key_cid[k])), int(cnt[k]), int(selfs[k]), int(ret[k]),
                        int(dmin[k]), key_loc[k])

    def class_summary(self, top: int | None = None) -> list[ClassRow]:
        """DevTools' Summary: per class key count, shallow size, retained size (no double counting),
        min distance; largest retained first. Nodes with (adjusted) shallow size 0 are left out,
        as in DevTools. ``top`` limits the rows (names are decoded only for those)."""
        cnt, selfs, ret, dmin = self._class_table
        present = np.flatnonzero(cnt)
        if top is not None and top < len(present):
            part = np.argpartition(-ret[present], top)[:top]
            present = present[part]
        rows = [self.class_row(int(k)) for k in present]
        rows.sort(key=lambda r: (-r.retained, r.name))
        return rows

    def class_keys_named(self, name: str) -> np.ndarray:
        """Class keys whose class name is ``name`` (several when constructors share a name)."""
        keys, key_cid, key_loc = self.class_keys
        nstr = len(self.snap.strings)
        cids = [nstr + i for i, label in enumerate(self.classes.extra) if label == name]
        s = find_string(self.snap, name)
        if s >= 0:
            cids.append(s)
        elif not cids:
            # the hash lookup is exact only for names V8 writes without escapes: decode them all
            cids = [int(c) for c in np.unique(key_cid).tolist() if self.classes.name(int(c)) == name]
        if not cids:
            return np.empty(0, dtype=np.int64)
        hit = np.flatnonzero(np.isin(key_cid, np.array(cids, dtype=np.int64)))
        if not len(hit):
            return hit
        present = np.bincount(keys, minlength=len(key_cid))[hit] > 0
        return hit[present]

    def class_label(self, k: int) -> str:
        """The class name, or the node's own name for synthetic nodes (``(GC roots)``, …)."""
        k = int(k)
        if self.ntype[k] == self.nt.get("synthetic", -1):
            return self.node_name(k) or "(root)"
        return self.class_name(k)

    def class_name(self, k: int) -> str:
        """DevTools class name of node ``k``."""
        keys, key_cid, _ = self.class_keys
        return self.classes.name(int(key_cid[keys[int(k)]]))

    def node_class_ids(self) -> np.ndarray:
        """Class id (not key) of every node (an n-sized int64 array)."""
        keys, key_cid, _ = self.class_keys
        return key_cid[keys]

    def class_ids_of(self, nodes: np.ndarray) -> np.ndarray:
        """``node_class_ids()[nodes]``, without the array of every node's."""
        keys, key_cid, _ = self.class_keys
        return key_cid[keys[np.asarray(nodes)]]

    def node_label(self, k: int) -> str:
        """``Name @id`` like DevTools."""
        return f"{self.class_label(k)} @{int(self.ids[k])}"

    def node_name(self, k: int) -> str:
        return self.snap.strings[int(self.nname[k])]

    def edge_name(self, e: int) -> str:
        t = self.snap.layout.edge_types[self.retyped.get(e, int(self.etype[e]))]
        v = int(self.ename[e])
        if t in ("element", "hidden"):
            return f"[{v}]"
        return self.snap.strings[v]

    def edge_type(self, e: int) -> str:
        return self.snap.layout.edge_types[int(self.etype[e])]

    @cached_property
    def _locations(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(the nodes with a location, ascending; their script_id, line, column): a node's last location row (a
        node has one in practice)."""
        locs = self.snap.locations
        if locs is None or not len(locs):
            return None
        lf = self.snap.layout.location_fields
        nf = self.snap.layout.node_field_count
        oi = locs[:, lf.index("object_index")].astype(np.int64) // nf
        order = np.argsort(oi, kind="stable")
        oi = oi[order]
        last = np.ones(len(oi), dtype=bool)
        last[:-1] = oi[1:] != oi[:-1]
        rows = order[last]
        return oi[last], locs[rows][:, [lf.index("script_id"), lf.index("line"), lf.index("column")]]

    def location_of(self, k: int) -> tuple[int, int, int] | None:
        """(script_id, line, column), 0-based, of a node with a location."""
        index = self._locations
        if index is None:
            return None
        nodes, where = index
        k = int(k)
        i = int(np.searchsorted(nodes, k))
        if i == len(nodes) or nodes[i] != k:
            return None
        sid, line, col = where[i].tolist()
        return sid, line, col

    def locations_of(self, ks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`location_of` of each node of ``ks`` at once: (whether it has a location, per node its (script_id,
        line, column) as an int64 row — zeros where it has none)."""
        ks = np.asarray(ks, dtype=np.int64)
        where = np.zeros((len(ks), 3), dtype=np.int64)
        index = self._locations
        if index is None or not len(ks):
            return np.zeros(len(ks), dtype=bool), where
        nodes, rows = index
        i = np.searchsorted(nodes, ks)
        has = i < len(nodes)
        has[has] = nodes[i[has]] == ks[has]
        where[has] = rows[i[has]]
        return has, where

    @cached_property
    def numeric_names(self) -> np.ndarray:
        """1 for every string that names an internal/property/context edge and is a plain number."""
        nstr = len(self.snap.strings)
        out = np.zeros(nstr, dtype=np.uint8)
        for t in ("internal", "property", "context"):
            if self.t[t] < 0:
                continue
            used = np.flatnonzero(GK.mark_edge_names(self.etype, self.ename, self.t[t], nstr))
            used = used[self.snap.strings.lengths[used] <= 10]
            for s in used.tolist():
                if self.snap.strings.raw(s).isdigit():
                    out[s] = 1
        return out

    @cached_property
    def scripts(self):
        return ScriptIndex(self)

    def ordinal_of_id(self, node_id: int) -> int:
        hits = np.flatnonzero(self.ids == np.uint32(node_id)) if 0 <= node_id < 2**32 else []
        return int(hits[0]) if len(hits) else -1
