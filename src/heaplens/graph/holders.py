"""The nearest pre-existing holder of every new object (the verdict principle, docs/diagnose.md).

Given the later snapshot's graph and which of its nodes already existed in the earlier snapshot of
the same worker (``old``: the same object is in both, ``graph.identity.old_mask``), every new node is attributed to the first old node
above it in the dominator tree — the object that, by itself, keeps it alive. Where that first old
dominator is not a real holder (``generic``: the synthetic root and GC-root categories, the native
context), the node is shared by several old objects; it is then attributed along its retaining path
(DevTools' shortest path from the user roots), to the first old, non-generic node on it.

Also per new node: ``top``, the new node directly below its holder (on the dominator chain, or on the
retaining path) — the reference the holder has to drop to let it go.

With snapshots in between (``birth``: per node, the first of the snapshots that has it — 0 for the
earlier one, k for the k-th in between, one more than their number for the later one), "pre-existing"
is judged per object: a node first seen at snapshot k is attributed to the nearest node above it that
existed at snapshot k-1 — the holder that already existed *while it grew* (a module loaded between the
first two snapshots whose module-level collection keeps growing afterwards holds what it gained after).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..snapshot.strings import find_string
from . import HeapGraph
from . import kernels as GK
from .paths import best_path_edges


@dataclass
class Attribution:
    new: np.ndarray  # int64 ordinals of the new nodes (ascending)
    holder: np.ndarray  # int64, per new node: its holder (an old node; a generic one if no path found)
    top: np.ndarray  # int64, per new node: the new node right below the holder
    by_path: np.ndarray  # bool, per new node: attributed along the retaining path (shared), not the dominator tree


def generic_mask(g: HeapGraph) -> np.ndarray:
    """Nodes that hold things only as part of the runtime's plumbing: the root, the synthetic GC-root
    categories, native contexts. A new object whose nearest old dominator is one of these is shared."""
    out = np.zeros(g.n, dtype=bool)
    out[g.root] = True
    syn = g.nt.get("synthetic", -1)
    if syn >= 0:
        out[np.asarray(g.ntype) == syn] = True
    s = find_string(g.snap, "system / NativeContext")
    if s >= 0:
        out[np.asarray(g.nname) == s] = True
    return out


def attribute(g: HeapGraph, old: np.ndarray, generic: np.ndarray | None = None,
              birth: np.ndarray | None = None) -> Attribution:
    """Holder and top node of every new node of ``g`` (see the module docstring). ``birth`` (uint8 per
    node, 0 where ``old``): with snapshots in between, each level of new nodes is attributed against
    the nodes that existed before it."""
    if generic is None:
        generic = generic_mask(g)
    if birth is None or int(birth.max(initial=0)) <= 1:
        return _attribute(g, old, generic)
    new = np.flatnonzero(~old).astype(np.int64)
    new = new[new != g.root]
    holder = np.empty(len(new), dtype=np.int64)
    top = np.empty(len(new), dtype=np.int64)
    by_path = np.zeros(len(new), dtype=bool)
    level = birth[new]
    for k in range(1, int(level.max()) + 1):
        sel = np.flatnonzero(level == k)
        if not len(sel):
            continue
        # against the nodes that existed at the snapshot before the k-th
        a = _attribute(g, birth < k, generic, new[sel])
        holder[sel], top[sel], by_path[sel] = a.holder, a.top, a.by_path
        del a
    return Attribution(new, holder, top, by_path)


def _attribute(g: HeapGraph, old: np.ndarray, generic: np.ndarray, new: np.ndarray | None = None) -> Attribution:
    """``new``: the nodes to attribute (ascending; all those not ``old`` when None)."""
    stop = old.astype(np.uint8)
    stop[g.root] = 1
    dom = np.asarray(g.dom)
    if new is None:
        new = np.flatnonzero(~old).astype(np.int64)
        new = new[new != g.root]
    holder_all = GK.nearest_marked(dom, stop, g.root)
    below = stop[dom]  # the node sits right below an old node (or the root)
    below[g.root] = 0
    top_all = GK.nearest_marked(dom, below, g.root)
    holder = holder_all[new].astype(np.int64)
    top = np.where(below[new] != 0, new, top_all[new].astype(np.int64))
    del holder_all, top_all, below
    by_path = np.zeros(len(new), dtype=bool)
    shared = generic[holder]
    if shared.any():
        tops = np.unique(top[shared])
        h2, t2 = path_holders(g, tops, old, generic)
        found = h2 >= 0
        idx = np.searchsorted(tops, top[shared])
        sel = np.flatnonzero(shared)
        ok = found[idx]
        holder[sel[ok]] = h2[idx[ok]]
        top[sel[ok]] = t2[idx[ok]]
        by_path[sel[ok]] = True
    return Attribution(new, holder, top, by_path)


def path_holders(g: HeapGraph, targets: np.ndarray, old: np.ndarray, generic: np.ndarray):
    """For each target: the first old, non-generic node on its retaining path (from the target
    outwards) and the node right below it on the path; (-1, -1) when the path has none."""
    targets = np.asarray(targets, dtype=np.int64)
    h = np.full(len(targets), -1, dtype=np.int64)
    t = np.full(len(targets), -1, dtype=np.int64)
    if not len(targets):
        return h, t
    off, pe = best_path_edges(g, targets)
    if not len(pe):
        return h, t
    src = g.sources_of_edges(pe)
    good = np.flatnonzero(old[src] & ~generic[src])
    starts, ends = off[:-1], off[1:]
    j = np.searchsorted(good, starts)
    j = np.minimum(j, max(len(good) - 1, 0))
    hit = (len(good) > 0) & (good[j] >= starts) & (good[j] < ends) if len(good) else np.zeros(len(starts), bool)
    pos = good[j[hit]]
    h[hit] = src[pos]
    t[hit] = np.asarray(g.to)[pe[pos]].astype(np.int64)
    return h, t
