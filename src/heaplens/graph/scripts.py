"""Script URLs: closure → ``shared`` (SharedFunctionInfo) → ``script_or_debug_info`` / ``script``
(the Script node, named by its URL); contexts through the closures that hold them; objects
through the ``script_id`` of their location."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ..snapshot.strings import find_string
from .kernels import csr_slots

SCRIPT_EDGES = ("script_or_debug_info", "script")  # V8 11.3 / later versions
CHUNK_EDGES = 1 << 22  # edges looked at per step of the closure table (bounds its scratch memory)


class ScriptIndex:
    def __init__(self, g):
        self.g = g
        s = g.snap
        self.s_shared = find_string(s, "shared")
        self.s_context = find_string(s, "context")
        self.s_script = [i for i in (find_string(s, n) for n in SCRIPT_EDGES) if i >= 0]
        self.closure_t = g.nt.get("closure", -1)
        self.code_t = g.nt.get("code", -1)
        self._cache: dict[int, str | None] = {}
        self._ctx_cache: dict[int, str | None] = {}

    # -- one node at a time: the reference (and the way for nodes that are not closures) ------------------
    def _edge_to(self, k: int, name_index: int) -> int:
        g = self.g
        lo, hi = int(g.first[k]), int(g.first[k + 1])
        hit = np.flatnonzero(g.ename[lo:hi] == name_index) if name_index >= 0 else []
        for h in hit:
            e = lo + int(h)
            if g.etype[e] != g.t["element"] and g.etype[e] != g.t["hidden"]:
                return int(g.to[e])
        return -1

    def script_node_of(self, k: int) -> int:
        """The Script node (type ``code``) of node ``k``'s ``shared`` function info, or -1 — node by node, by
        its edges: the first ``shared`` edge, then the first ``script_or_debug_info`` (else ``script``) edge of
        that which leads to a Script node."""
        sfi = self._edge_to(k, self.s_shared)
        if sfi >= 0:
            for sname in self.s_script:
                sc = self._edge_to(sfi, sname)
                if sc >= 0 and self.g.ntype[sc] == self.code_t:
                    return sc
        return -1

    # -- every closure at once -----------------------------------------------------------------------------
    def _first_edges_to(self, nodes: np.ndarray, name_index: int) -> np.ndarray:
        """Per node of ``nodes``: the target of its first edge named ``name_index`` that is not an element or
        hidden edge (those are numbered, not named), or -1 — :meth:`_edge_to` of each, in a few array passes."""
        g = self.g
        out = np.full(len(nodes), -1, dtype=np.int64)
        if name_index < 0 or not len(nodes):
            return out
        lo = np.asarray(g.first)[nodes].astype(np.int64)
        cnt = np.asarray(g.first)[nodes + 1].astype(np.int64) - lo
        ends = np.cumsum(cnt)
        numbered = (g.t["element"], g.t["hidden"])
        a = 0
        while a < len(nodes):  # in steps of at most CHUNK_EDGES edges (one node at least)
            b = max(int(np.searchsorted(ends, (ends[a - 1] if a else 0) + CHUNK_EDGES, side="right")), a + 1)
            c = cnt[a:b]
            edges, owner = csr_slots(lo[a:b], c)
            owner += a
            et = np.asarray(g.etype)[edges]
            hit = (np.asarray(g.ename)[edges] == name_index) & (et != numbered[0]) & (et != numbered[1])
            own, edges = owner[hit], edges[hit]
            first = np.ones(len(own), dtype=bool)
            first[1:] = own[1:] != own[:-1]  # (the owners ascend): each node's first such edge
            out[own[first]] = np.asarray(g.to)[edges[first]]
            a = b
        return out

    @cached_property
    def _closure_table(self) -> tuple[np.ndarray, np.ndarray]:
        """(the closures, ascending; the Script node of each or -1): :meth:`script_node_of` of every closure."""
        g = self.g
        closures = np.flatnonzero(np.asarray(g.ntype) == self.closure_t)
        script = np.full(len(closures), -1, dtype=np.int64)
        sfi = self._first_edges_to(closures, self.s_shared)
        has = np.flatnonzero(sfi >= 0)
        if not len(has):
            return closures, script
        infos, inv = np.unique(sfi[has], return_inverse=True)  # closures of one function share its info
        found = np.full(len(infos), -1, dtype=np.int64)
        for sname in self.s_script:
            todo = np.flatnonzero(found < 0)
            sc = self._first_edges_to(infos[todo], sname)
            ok = sc >= 0
            ok[ok] = np.asarray(g.ntype)[sc[ok]] == self.code_t
            found[todo[ok]] = sc[ok]
        script[has] = found[inv.reshape(-1)]
        return closures, script

    def script_nodes(self, nodes) -> np.ndarray:
        """:meth:`script_node_of` of each of ``nodes`` (closures from the table, other nodes one by one)."""
        nodes = np.asarray(nodes, dtype=np.int64).reshape(-1)
        closures, script = self._closure_table
        out = np.full(len(nodes), -1, dtype=np.int64)
        if not len(nodes):
            return out
        pos = np.searchsorted(closures, nodes)
        pos[pos == len(closures)] = 0
        hit = (closures[pos] == nodes) if len(closures) else np.zeros(len(nodes), dtype=bool)
        out[hit] = script[pos[hit]]
        for i in np.flatnonzero(~hit).tolist():
            out[i] = self.script_node_of(int(nodes[i]))
        return out

    def url_of_script(self, sc: int) -> str | None:
        return (self.g.node_name(sc) or None) if sc >= 0 else None

    def of_closure(self, k: int) -> str | None:
        """URL of the script a closure (JS function) comes from."""
        if k in self._cache:
            return self._cache[k]
        closures, script = self._closure_table
        i = int(np.searchsorted(closures, k))
        sc = int(script[i]) if i < len(closures) and closures[i] == k else self.script_node_of(int(k))
        url = self.url_of_script(sc)
        self._cache[k] = url
        return url

    def of_context(self, k: int) -> str | None:
        """URL of the script of a function/module context: via a closure whose ``context`` is it."""
        k = int(k)
        if k in self._ctx_cache:
            return self._ctx_cache[k]
        g = self.g
        rfirst, redge = g.reverse
        lo, hi = int(rfirst[k]), int(rfirst[k + 1])
        url = None
        if self.s_context < 0:  # no edge is named `context`
            self._ctx_cache[k] = url
            return url
        hi = min(hi, lo + 10_000)  # a module context can have 10^5 closures
        if hi - lo <= 32:  # most have a few retainers: one by one
            for j in range(lo, hi):
                e = int(redge[j])
                if g.ename[e] != self.s_context or g.etype[e] == g.t["element"]:
                    continue
                src = g.source_of_edge(e)
                if g.ntype[src] == self.closure_t:
                    url = self.of_closure(src)
                    if url:
                        break
        else:  # the same, in array passes
            es = np.asarray(redge[lo:hi], dtype=np.int64)
            es = es[(np.asarray(g.ename)[es] == self.s_context) & (np.asarray(g.etype)[es] != g.t["element"])]
            srcs = g.sources_of_edges(es)
            srcs = srcs[np.asarray(g.ntype)[srcs] == self.closure_t]
            for sc in self.script_nodes(srcs).tolist():  # the first whose script has a name
                url = self.url_of_script(sc)
                if url:
                    break
        self._ctx_cache[k] = url
        return url

    @cached_property
    def _context_table(self) -> np.ndarray:
        """Per node: the Script node :meth:`of_context` takes its URL from (-1: none; -2: a node of more than
        10,000 retainers, asked one by one) — every edge named ``context`` at once: of each node's retaining edges
        so named (but element edges) from a closure whose script has a name, the first (the reverse edges of a
        node are in edge order)."""
        g = self.g
        out = np.full(g.n, -1, dtype=np.int64)
        if self.s_context < 0:
            return out
        es = np.flatnonzero(np.asarray(g.ename) == self.s_context)
        es = es[np.asarray(g.etype)[es] != g.t["element"]]
        srcs = g.sources_of_edges(es)
        closure = np.asarray(g.ntype)[srcs] == self.closure_t
        es, srcs = es[closure], srcs[closure]
        sc = self.script_nodes(srcs)
        has = sc >= 0
        scripts = np.unique(sc[has])
        named = np.array([bool(self.url_of_script(int(k))) for k in scripts.tolist()], dtype=bool)
        has[has] = named[np.searchsorted(scripts, sc[has])]
        es, sc = es[has], sc[has]
        # (the edges ascend, and np.unique's index is each target's first occurrence: its first edge)
        uniq, at = np.unique(np.asarray(g.to)[es], return_index=True)
        out[uniq] = sc[at]
        out[np.flatnonzero(np.diff(np.asarray(g.reverse[0])) > 10_000)] = -2  # (the offsets do not descend)
        return out

    def context_urls(self, nodes) -> tuple[np.ndarray, list[str]]:
        """:meth:`of_context` of each of ``nodes`` as (per node an index into the URLs or -1 for None, the URLs,
        each once), from the table of every node's (:attr:`_context_table`)."""
        nodes = np.asarray(nodes, dtype=np.int64).reshape(-1)
        sc = self._context_table[nodes]
        scripts, inv = np.unique(sc, return_inverse=True)
        inv = inv.reshape(-1)
        urls: list[str] = []
        at: dict[str, int] = {}

        def index(url: str | None) -> int:
            return -1 if url is None else at.setdefault(url, len(at))

        of_script = np.array([-2 if k == -2 else index(self.url_of_script(k)) for k in scripts.tolist()],
                             dtype=np.int64)
        out = of_script[inv]
        for i in np.flatnonzero(out == -2).tolist():  # a node of many retainers: one by one
            out[i] = index(self.of_context(int(nodes[i])))
        urls[:] = list(at)
        return out, urls

    @cached_property
    def by_script_id(self) -> dict[int, str]:
        """script_id → URL, learned from closures that have a location."""
        g = self.g
        locs = g.snap.locations
        out: dict[int, str] = {}
        if locs is None or not len(locs):
            return out
        lf = g.snap.layout.location_fields
        nf = g.snap.layout.node_field_count
        oi = locs[:, lf.index("object_index")] // nf
        ok = oi < g.n
        oi = oi[ok]
        clos = np.flatnonzero(ok)[g.ntype[oi] == self.closure_t]
        oi, sid = oi[g.ntype[oi] == self.closure_t], locs[clos, lf.index("script_id")]
        order = np.argsort(sid, kind="stable")
        sid, oi = sid[order], oi[order]
        uniq, starts = np.unique(sid, return_index=True)
        ends = np.append(starts[1:], len(sid))
        for s, a, b in zip(uniq.tolist(), starts.tolist(), ends.tolist()):
            # several closures per script: try a few until one resolves
            for k in oi[a:min(b, a + 8)]:
                url = self.of_closure(int(k))
                if url:
                    out[s] = url
                    break
        return out

    def of_node(self, k: int) -> str | None:
        """Best-effort script URL for any node: closures, contexts, located objects."""
        g = self.g
        t = int(g.ntype[k])
        if t == self.closure_t:
            return self.of_closure(k)
        if g.node_name(k) == "system / Context":
            return self.of_context(k)
        loc = g.location_of(k)
        if loc is not None:
            return self.by_script_id.get(loc[0])
        return None
