"""Script URLs: closure → ``shared`` (SharedFunctionInfo) → ``script_or_debug_info`` / ``script``
(the Script node, named by its URL); contexts through the closures that hold them; objects
through the ``script_id`` of their location."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ..snapshot.strings import find_string

SCRIPT_EDGES = ("script_or_debug_info", "script")  # V8 11.3 / later versions


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

    def _edge_to(self, k: int, name_index: int) -> int:
        g = self.g
        lo, hi = int(g.first[k]), int(g.first[k + 1])
        hit = np.flatnonzero(g.ename[lo:hi] == name_index) if name_index >= 0 else []
        for h in hit:
            e = lo + int(h)
            if g.etype[e] != g.t["element"] and g.etype[e] != g.t["hidden"]:
                return int(g.to[e])
        return -1

    def of_closure(self, k: int) -> str | None:
        """URL of the script a closure (JS function) comes from."""
        if k in self._cache:
            return self._cache[k]
        url = None
        sfi = self._edge_to(k, self.s_shared)
        if sfi >= 0:
            for sname in self.s_script:
                sc = self._edge_to(sfi, sname)
                if sc >= 0 and self.g.ntype[sc] == self.code_t:
                    url = self.g.node_name(sc) or None
                    break
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
        for j in range(lo, min(hi, lo + 10_000)):  # a module context can have 10^5 closures
            e = int(redge[j])
            if g.ename[e] != self.s_context or g.etype[e] == g.t["element"]:
                continue
            src = g.source_of_edge(e)
            if g.ntype[src] == self.closure_t:
                url = self.of_closure(src)
                if url:
                    break
        self._ctx_cache[k] = url
        return url

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
