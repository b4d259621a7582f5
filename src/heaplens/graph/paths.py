"""Retaining paths from the GC roots, and their aggregation over many objects of one class.

A retaining path follows, from the object outwards, the retainer with the smallest DevTools
distance (weak edges and edges from the synthetic root hidden, as in DevTools' Retainers view), so
it is a shortest path from a user root (``global``) or, for objects only the system holds, from a
``(GC roots)`` sub-root.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np

from . import HeapGraph
from . import kernels as GK

MAX_LEN = 100
NAMED_EDGE_TYPES = ("context", "property", "shortcut")


@dataclass
class Hop:
    edge_type: str
    edge_name: str
    node: int  # ordinal of the retainer (the source of the edge)
    node_label: str  # "Class @id"


@dataclass
class RetainingPath:
    target: int
    target_label: str
    hops: list[Hop]  # from the root side to the target
    system: bool  # only the system (GC roots) holds it
    unreachable: bool

    def text(self) -> str:
        parts = []
        if self.unreachable:
            parts.append("(unreachable)")
        elif not self.hops:
            parts.append("(root)")
        for h in self.hops:
            parts.append(h.node_label)
            parts.append(f"{h.edge_name} ({h.edge_type})")
        parts.append(self.target_label)
        return " → ".join(parts)

    def to_json(self) -> dict:
        return {
            "target": self.target_label,
            "system": self.system,
            "unreachable": self.unreachable,
            "text": self.text(),
            "hops": [{"from": h.node_label, "edge": h.edge_name, "edge_type": h.edge_type} for h in self.hops],
        }


@dataclass
class Chain:
    """One group of objects retained along the same chain (element indices and ids ignored)."""

    count: int
    example: RetainingPath
    holder: str | None  # e.g. "Map `sessionCache`"
    script: str | None  # script URL of the code that holds the reference
    pattern: str  # the chain with [] for element indices and no ids

    def to_json(self) -> dict:
        return {"count": self.count, "holder": self.holder, "script": self.script, "pattern": self.pattern,
                "example": self.example.to_json()}


@dataclass
class Aggregation:
    class_name: str
    total: int
    chains: list[Chain] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"class": self.class_name, "total": self.total, "chains": [c.to_json() for c in self.chains]}

    def sentence(self, c: Chain, noun: str = "") -> str:
        what = f"{noun} `{self.class_name}`" if noun else f"`{self.class_name}`"
        via = f"through {c.holder}" if c.holder else "along"
        src = f" ({c.script})" if c.script else ""
        return f"{c.count:,} of {self.total:,} {what} are retained {via}{src}"


def _distances(g: HeapGraph) -> np.ndarray:
    return g.distance


def best_path_edges(g: HeapGraph, targets: np.ndarray):
    rfirst, redge = g.reverse
    memo = g.__dict__.get("_best_edge_memo")
    if memo is None:
        memo = g.__dict__["_best_edge_memo"] = np.full(g.n, -2, dtype=np.int64)
    return GK.best_paths(np.asarray(targets, dtype=np.int64), g.first, rfirst, redge, g.etype, _distances(g),
                         g.t["weak"], g.root, MAX_LEN, memo)


def _path_from_edges(g: HeapGraph, target: int, edges) -> RetainingPath:
    hops = []
    for e in edges:  # target outwards
        e = int(e)
        src = g.source_of_edge(e)
        hops.append(Hop(g.edge_type(e), g.edge_name(e), src, g.node_label(src)))
    hops.reverse()
    top = hops[0].node if hops else target
    d = int(g.distance[top])
    return RetainingPath(target, g.node_label(target), hops, system=d >= GK.BASE_SYSTEM_DISTANCE,
                         unreachable=d < 0)


def retaining_path(g: HeapGraph, k: int) -> RetainingPath:
    off, pe = best_path_edges(g, np.array([k]))
    return _path_from_edges(g, k, pe[off[0]:off[1]])


def k_paths(g: HeapGraph, k: int, count: int, max_len: int = 40, budget: int = 50000,
            fanout: int = 50) -> list[RetainingPath]:
    """Up to ``count`` distinct retaining paths of node ``k`` from the roots, shortest first.

    A best-first (A*) search over retainers (weak edges and self/root edges hidden) with the
    DevTools distance as the remaining-hops estimate, never revisiting a node on a path; a path is
    complete at a node the synthetic root holds directly (``global``, ``(GC roots)``, embedder
    roots). The first path is DevTools' (always the closest retainer); ``budget`` (nodes expanded)
    and ``fanout`` (closest retainers tried per node) bound the work on huge graphs."""
    rfirst, redge = g.reverse
    dist = _distances(g)
    weak = g.t["weak"]

    def vd(x):
        d = int(dist[x])
        return 200_000_000 if d < 0 else d

    cache: dict[int, tuple[bool, list]] = {}

    def retainers(v):
        """(held by the root?, the closest ``fanout`` retainers as (distance, edge, source))."""
        if v in cache:
            return cache[v]
        es = redge[int(rfirst[v]):int(rfirst[v + 1])].astype(np.int64)
        es = es[g.etype[es] != weak]
        srcs = g.sources_of_edges(es)
        rooted = bool((srcs == g.root).any())
        keep = (srcs != g.root) & (srcs != v)
        es, srcs = es[keep], srcs[keep]
        d = dist[srcs].astype(np.int64)
        d[d < 0] = 200_000_000
        order = np.lexsort((es, d))[:fanout]
        cache[v] = (rooted, [(int(d[i]), int(es[i]), int(srcs[i])) for i in order])
        return cache[v]

    def h(x):  # hops still needed at least (BFS distances are exact hop counts from the roots)
        d = int(dist[x])
        if d < 0:
            return 0
        return d - 1 if d < GK.BASE_SYSTEM_DISTANCE else d - GK.BASE_SYSTEM_DISTANCE - 1

    found: list[list[int]] = []
    first = retaining_path(g, k)
    steps = 0
    tie = 0
    heap = [(h(k), 0, k, (), frozenset((k,)))]
    # best-first (A*) over simple paths: complete paths come out shortest first
    while heap and len(found) < 4 * count and steps < budget:
        _, _, v, path, seen = heapq.heappop(heap)
        steps += 1
        rooted, rs = retainers(v)
        if rooted and path:
            found.append(list(path))
            continue
        if len(path) >= max_len:
            continue
        for d, e, s in rs:
            if s not in seen:
                tie += 1
                heapq.heappush(heap, (len(path) + 1 + h(s), tie, s, path + (e,), seen | {s}))
    found.sort(key=len)
    paths = [first] if first.hops or not first.unreachable else []
    have = {tuple(h.node for h in first.hops)}
    for p in found:
        rp = _path_from_edges(g, k, p)
        key = tuple(h.node for h in rp.hops)
        if key not in have:
            have.add(key)
            paths.append(rp)
        if len(paths) >= count:
            break
    return paths[:count]


def _holder(g: HeapGraph, edges) -> tuple[str | None, str | None]:
    """The nearest named reference (context variable, property, shortcut) on the path, from the
    target outwards: "<Class of what it points at> `name`", and the script of its owner."""
    for e in edges:
        e = int(e)
        if g.edge_type(e) in NAMED_EDGE_TYPES:
            holder_node = int(g.to[e])
            src = g.source_of_edge(e)
            name = g.edge_name(e)
            url = g.scripts.of_node(src) or g.scripts.of_node(holder_node)
            if e == int(edges[0]):  # the reference to the object itself
                return f"`{name}` of {g.class_label(src)}", url
            return f"{g.class_label(holder_node)} `{name}`", url
    return None, None


def _pattern(g: HeapGraph, path: RetainingPath) -> str:
    parts = []
    for h in path.hops:
        parts.append(g.class_label(h.node))
        indexed = h.edge_type in ("element", "hidden") or h.edge_name.isdigit()
        parts.append("[]" if indexed else f"{h.edge_name} ({h.edge_type})")
    parts.append(g.class_label(path.target))
    return " → ".join(parts)


def aggregate(g: HeapGraph, targets: np.ndarray, class_name: str, top: int = 3) -> Aggregation:
    """Group the retaining paths of ``targets`` by chain (element indices and ids ignored)."""
    targets = np.asarray(targets, dtype=np.int64)
    agg = Aggregation(class_name, int(len(targets)))
    if not len(targets):
        return agg
    off, pe = best_path_edges(g, targets)
    sig = GK.path_signatures(off, pe, g.first, g.etype, g.ename, g.class_keys[0], g.t["element"], g.t["hidden"],
                             g.numeric_names, 0)
    uniq, first_idx, counts = np.unique(sig, return_index=True, return_counts=True)
    order = np.argsort(-counts, kind="stable")[:top]
    for o in order:
        i = int(first_idx[o])
        edges = pe[off[i]:off[i + 1]]
        path = _path_from_edges(g, int(targets[i]), edges)
        holder, url = _holder(g, edges)
        agg.chains.append(Chain(int(counts[o]), path, holder, url, _pattern(g, path)))
    return agg
