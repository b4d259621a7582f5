"""Which objects of two snapshots of one worker are the same object — the one rule every old/new, survived/freed
decision of heaplens uses (the diagnosis, `heaplens diff --ids`, the harness's id diff).

V8 keeps an object's snapshot id by its address, and forgets an address only when it writes a snapshot (or
when a moving GC puts an object there): an object that V8 allocates straight into old space (a script, its
functions and code, a module's source strings) where one died since the last snapshot gets the dead one's id.
So the same id in two snapshots is the same object only when

- it is the same kind of object: the same type and name (``Identities``), except that a concatenated or
  sliced string may have become a plain one in place, a native object's name may change (e.g. when it is
  detached), and an internal object (hidden, array, code, object shape) that V8 names by what refers to it
  (``(object elements)``, ``(constant elements)``, ``(shared function info)``, … or nothing: the first
  referrer V8 meets names it) is known by its type;
- and nothing it references immutably (IMMUTABLE_EDGES: a function's code and scope, a script's source, a
  context's parent and scope) is newer than it (``settle_births``): a script whose source is new is new.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..snapshot import read_snapshot
from ..snapshot.strings import StringTable, find_string, hash_text
from . import HeapGraph

# References an object never changes after it is made (a function's code and scope, a bound function's target,
# a script's source text, a context's scope and parent): an object that has one to an object newer than itself
# is itself that new — V8 gave it the id of a dead object whose memory it took.
IMMUTABLE_EDGES = {
    "closure": ("shared", "context", "bound_function", "bound_this"),
    "code": ("source",),  # a Script's source
    "object": ("previous", "scope_info"),  # a Context's parent and scope
}
_STRINGS = {"string": 1, "concatenated string": 2, "sliced string": 2}
# types whose objects V8 may name by their first referrer: known by the type alone when so named
TAGGED = ("hidden", "array", "code", "object shape")


@dataclass
class Identities:
    """What each object of a snapshot is, by id (sorted by id unless made with ``order=False``): a 64-bit key
    (its type and name; see the module docstring) and whether it is a string (1: flat, 2: concatenated or
    sliced)."""

    ids: np.ndarray
    keys: np.ndarray
    strs: np.ndarray

    @classmethod
    def of(cls, ids, types, names, node_types: list[str], strings: StringTable, *, order: bool = True) -> Identities:
        ids = np.asarray(ids)
        types = np.asarray(types)
        names = np.asarray(names)
        th = np.array([hash_text(t) for t in node_types], dtype=np.uint64)
        by_type = np.array([t == "native" for t in node_types], dtype=bool)[types]
        tagged = np.array([t in TAGGED for t in node_types], dtype=bool)[types]
        if tagged.any():
            used = np.unique(names[tagged])
            flag = np.zeros(len(strings), dtype=bool)
            flag[used[strings.bracketed(used)]] = True
            by_type[tagged] = flag[names[tagged]]
        keys = np.asarray(strings.hashes, dtype=np.uint64)[names] ^ th[types]
        keys[by_type] = th[types[by_type]]
        strs = np.array([_STRINGS.get(t, 0) for t in node_types], dtype=np.uint8)[types]
        if not order:
            return cls(ids, keys, strs)
        o = np.argsort(ids, kind="stable")
        return cls(ids[o], keys[o], strs[o])

    @classmethod
    def of_graph(cls, g: HeapGraph) -> Identities:
        """Per node of ``g``, in node order."""
        return cls.of(g.ids, g.ntype, g.nname, g.snap.layout.node_types, g.snap.strings, order=False)

    @classmethod
    def of_graph_columns(cls, snap) -> Identities:
        """:meth:`of_graph` of the graph that will be made of ``snap`` (read for a graph), before it is made."""
        return cls.of(snap.nodes["id"], snap.nodes["type"], snap.nodes["name"], snap.layout.node_types,
                      snap.strings, order=False)

    @classmethod
    def read(cls, path) -> Identities:
        """A snapshot's identities, sorted by id (its ids, types and names only are read)."""
        with read_snapshot(path, node_fields=("id", "type", "name")) as s:
            return cls.of(s.nodes["id"], s.nodes["type"], s.nodes["name"], list(s.layout.node_types), s.strings)

    @classmethod
    def none(cls) -> Identities:
        return cls(np.empty(0, dtype=np.uint32), np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.uint8))

    def sorted(self) -> Identities:
        o = np.argsort(self.ids, kind="stable")
        return Identities(self.ids[o], self.keys[o], self.strs[o])

    def in_earlier(self, earlier: Identities) -> np.ndarray:
        """Per object of ``self`` (any order): ``earlier`` (sorted by id), a snapshot before it, has it — the same
        id, the same kind (a concatenated or sliced string there may be a plain one here)."""
        return _same(self, earlier, later_is_self=True)

    def in_later(self, later: Identities) -> np.ndarray:
        """Per object of ``self`` (any order): ``later`` (sorted by id), a snapshot after it, has it."""
        return _same(self, later, later_is_self=False)


def _same(mine: Identities, other: Identities, later_is_self: bool) -> np.ndarray:
    b = other.ids
    if not len(b):
        return np.zeros(len(mine.ids), dtype=bool)
    pos = np.searchsorted(b, mine.ids)
    pos[pos == len(b)] = 0
    hit = b[pos] == mine.ids
    earlier, later = (other.strs[pos], mine.strs) if later_is_self else (mine.strs, other.strs[pos])
    return hit & ((other.keys[pos] == mine.keys) | ((earlier == 2) & (later == 1)))


def immutable_edges(g: HeapGraph) -> tuple[np.ndarray, np.ndarray]:
    """(sources, targets) of the references in IMMUTABLE_EDGES."""
    names = {tname: [k for k in (find_string(g.snap, e) for e in edges) if k >= 0]
             for tname, edges in IMMUTABLE_EDGES.items() if g.nt.get(tname) is not None}
    every = sorted({k for ks in names.values() for k in ks})  # (Python ints: no widening of the edge names)
    if not every:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    etype = np.asarray(g.etype)
    ename = np.asarray(g.ename)
    # the internal edges with one of the names (few; a comparison per name is faster than np.isin over all
    # the edges), then their sources (a search in the edge offsets)
    hit = ename == every[0]
    for k in every[1:]:
        hit |= ename == k
    cand = np.flatnonzero(hit)
    del hit
    cand = cand[etype[cand] == g.t["internal"]]
    src = np.searchsorted(np.asarray(g.first), cand, side="right").astype(np.int64) - 1
    ntype = np.asarray(g.ntype)[src]
    sel = np.zeros(len(cand), dtype=bool)
    for tname, ks in names.items():
        sel |= (ntype == g.nt[tname]) & np.isin(ename[cand], ks)
    return src[sel], np.asarray(g.to)[cand[sel]].astype(np.int64)


def settle_births(g: HeapGraph, birth: np.ndarray) -> np.ndarray:
    """An object is no older than what it references immutably (IMMUTABLE_EDGES): a script whose source is new
    is new, and so is a function whose code or scope is. ``birth`` (per node: the first snapshot from which on
    it is there, 0 the earliest) is raised in place and returned."""
    src, dst = immutable_edges(g)
    for _ in range(8):  # chains are short: a function → its context → the context's parent
        late = birth[dst] > birth[src]
        if not late.any():
            break
        np.maximum.at(birth, src[late], birth[dst[late]])
    return birth


def births(g: HeapGraph, there: list[np.ndarray]) -> np.ndarray:
    """Per node of ``g`` (the latest snapshot): the first snapshot from which on it is there — 0 .. len(there)
    - 1 for the earlier snapshots (``there[k]``: per node, snapshot k has the same object — ``in_earlier``),
    ``len(there)`` for only this one. An id names one object from the snapshot it first appears in until V8
    gives it to another one: the object is there from the earliest snapshot of an unbroken run of the same id
    and kind up to ``g``'s, and no earlier than what it references immutably (``settle_births``)."""
    levels = len(there)
    birth = np.full(g.n, levels, dtype=np.uint8)
    run = np.ones(g.n, dtype=bool)  # there at every snapshot after k so far
    for k in range(levels - 1, -1, -1):
        run &= there[k]
        birth[run] = k
    return settle_births(g, birth)


def old_mask(g: HeapGraph, earlier: Identities, mine: Identities | None = None) -> np.ndarray:
    """Per node of ``g``: the same object is in the earlier snapshot (``earlier``, sorted by id) — the same id,
    the same kind, and nothing it references immutably is new. ``mine``: ``Identities.of_graph(g)``, if made."""
    mine = Identities.of_graph(g) if mine is None else mine
    return births(g, [mine.in_earlier(earlier)]) == 0


def kept_mask(earlier: Identities, g: HeapGraph, old: np.ndarray) -> np.ndarray:
    """Per object of ``earlier`` (in its order): the later snapshot ``g`` still has it — the node of ``g`` with
    its id is ``old`` (``old_mask``: the same object). The rest were freed (their id may now name another)."""
    kept = np.sort(np.asarray(g.ids)[old])
    if not len(kept):
        return np.zeros(len(earlier.ids), dtype=bool)
    pos = np.searchsorted(kept, earlier.ids)
    pos[pos == len(kept)] = 0
    return kept[pos] == earlier.ids
