"""The search for the user's variable that keeps a holder (naming.nearest_user_anchor: every node's tests from
naming.node_flags, the retainers of the queued nodes read together, a variable's edge judged once per graph) against
the search as first written — breadth-first, every node and edge asked one by one — on real snapshots of known
shapes: the same path and anchor from every start node."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from heaplens.diagnose import engine, load_rules
from heaplens.diagnose import naming as N
from heaplens.graph import HeapGraph, read_for_graph
from heaplens.graph import kernels as GK
from helpers import requires_node

pytestmark = requires_node


def reference_search(g, x: int, rules, max_nodes: int = 4000):
    """nearest_user_anchor as it was before the node flags and the batches (heaplens 90eb219)."""
    rfirst, redge = g.reverse
    weak = g.t["weak"]
    ctx_types = {g.t["context"], g.t["hidden"]}
    prop_types = {g.t["property"], g.t["shortcut"]}
    closure = g.nt.get("closure", -1)
    gv = N.global_values(g, rules)
    parent: dict[int, tuple[int, int] | None] = {x: None}

    def down_from(v: int) -> list:
        out = []
        while parent[v] is not None:
            e, w = parent[v]
            out.append(N.Step(v, g.edge_type(e), g.edge_name(e), w))
            v = w
        return out

    dependency = None
    q = deque([x])
    while q and len(parent) < max_nodes:
        v = q.popleft()
        if v in gv:
            gl = N._global_node(g)
            down = [N.Step(gl, "property", gv[v], v), *down_from(v)]
            up = N.path_steps(g, gl)
            return up + down, len(up)
        lo, hi = int(rfirst[v]), int(rfirst[v + 1])
        es = np.asarray(redge[lo:min(hi, lo + 2000)], dtype=np.int64)
        et = np.asarray(g.etype)[es]
        keep = et != weak
        es, et = es[keep], et[keep]
        srcs = np.searchsorted(g.first, es.astype(g.first.dtype), side="right").astype(np.int64) - 1
        for e, t, src in zip(es.tolist(), et.tolist(), srcs.tolist()):
            if src == g.root or src in parent:
                continue
            if (t in ctx_types and N._is_context(g, src)) or (t in prop_types and (
                    N.is_global(g, src) or int(g.ntype[src]) == closure)):
                st = N.Step(src, g.edge_type(e), g.edge_name(e), v)
                a = N._anchor_of(g, st, 0, rules)
                if a is not None:
                    r = N._rank(g, a)
                    if r == 0:
                        down = [st, *down_from(v)]
                        up = N.path_steps(g, src)
                        if N._in_dependency(a):
                            if dependency is None:
                                dependency = (up + down, len(up))
                            continue
                        return up + down, len(up)
                    if r == 2:
                        continue
                if N.is_global(g, src):
                    continue
            if N._tool_node(g, src, rules):
                continue
            parent[src] = (e, v)
            q.append(src)
    return dependency


def _plain(found):
    return None if found is None else ([(s.src, s.etype, s.name, s.dst) for s in found[0]], found[1])


def _graph(path):
    return HeapGraph(read_for_graph(path), program_roots=True)


@pytest.mark.parametrize("name", ["mixed", "emitter", "alias"])
def test_node_flags_are_the_per_node_tests(shapes, name):
    g = _graph(shapes[name])
    rules = load_rules()
    try:
        flags = N.node_flags(g, rules)
        ctx = np.array([N._is_context(g, k) for k in range(g.n)])
        glob = np.array([N.is_global(g, k) for k in range(g.n)])
        assert np.array_equal((flags & N.CONTEXT) != 0, ctx) and ctx.sum() > 100
        assert np.array_equal((flags & N.GLOBAL) != 0, glob) and glob.sum() >= 1
        other = np.flatnonzero(~ctx)
        tool = np.array([N._tool_node(g, int(k), rules) for k in other])
        assert np.array_equal((flags[other] & N.TOOL_CLASS) != 0, tool) and tool.sum() > 10
    finally:
        g.snap.close()


@pytest.mark.parametrize("name", ["mixed", "emitter", "alias"])
def test_the_search_finds_what_the_one_by_one_search_finds(shapes, name):
    rules = load_rules()
    g, ref = _graph(shapes[name]), _graph(shapes[name])  # (no memo shared)
    try:
        rng = np.random.default_rng(11)
        # every node a holder can be: a sample of all, and the nodes that hold most (the dominators of many)
        dom = np.asarray(g.dom)
        busy = np.flatnonzero(np.bincount(dom, minlength=g.n) >= 3)
        named = {int(k) for c in ("ModuleCacheMap", "EventEmitter", "Map", "Array", "EvaluatedModuleNode", "Order")
                 for k in np.flatnonzero(np.isin(g.class_keys[0], g.class_keys_named(c)))[:40]}
        starts = sorted(({int(k) for k in rng.choice(g.n, 250)} | {int(k) for k in rng.choice(busy, 250)} | named)
                        - {g.root})
        got = [_plain(N.nearest_user_anchor(g, k, rules)) for k in starts]
        want = [_plain(reference_search(ref, k, rules)) for k in starts]
        assert got == want
        found = [w for w in want if w is not None]
        assert len(found) > 20 and len(found) < len(want)  # (both outcomes are checked)
        if name == "alias":  # a dependency's variable is found only when the suite's code has none
            assert any(N._in_dependency(N._anchor_of(ref, _step(w), w[1], rules)) for w in found)
    finally:
        g.snap.close()
        ref.snap.close()


@pytest.mark.parametrize("name", ["mixed", "alias"])
def test_a_search_is_made_once_per_start(shapes, name, monkeypatch):
    """nearest_user_anchor's results kept per graph: asked again (in another order, after its first answers' lists
    were changed by their callers), the same as the search made afresh on a graph of its own; the search itself
    made once per start node and max_nodes."""
    rules = load_rules()
    g, ref = _graph(shapes[name]), _graph(shapes[name])
    try:
        rng = np.random.default_rng(13)
        starts = sorted({int(k) for k in rng.choice(g.n, 150)} - {g.root})
        first = [N.nearest_user_anchor(g, k, rules) for k in starts]
        for f in first:
            if f is not None:
                f[0].append(f[0][0])  # (a caller's list: not the kept one)
        searched = []
        search = N._nearest_user_anchor
        monkeypatch.setattr(N, "_nearest_user_anchor", lambda *a: searched.append(a[1]) or search(*a))
        again = {k: _plain(N.nearest_user_anchor(g, k, rules)) for k in reversed(starts)}
        fewer = {k: _plain(N.nearest_user_anchor(g, k, rules, max_nodes=50)) for k in starts}
        assert searched == starts  # (only the new max_nodes searched)
        assert [again[k] for k in starts] == [_plain(reference_search(ref, k, rules)) for k in starts]
        assert [fewer[k] for k in starts] == [_plain(reference_search(ref, k, rules, 50)) for k in starts]
        assert sum(v is not None for v in again.values()) > 10 and again != fewer
    finally:
        g.snap.close()
        ref.snap.close()


@pytest.mark.parametrize("name", ["mixed", "emitter", "alias"])
def test_context_variables_are_judged_as_one_by_one(shapes, name):
    """The codes _retainers gives a context variable's edge and another edge of a context at once (the context
    table: its script, module_level, whether it is the runner's) against _variable_edge and _tool_node of each,
    asked one by one on a graph of their own; and module_level of every context against the one-by-one walk."""
    rules = load_rules()
    g, ref = _graph(shapes[name]), _graph(shapes[name])  # (no memo shared)
    try:
        flags = N.node_flags(g, rules)
        ctx = np.flatnonzero((flags & N.CONTEXT) != 0)
        table = N._context_bits(g, ctx, rules)
        level = [N.module_level(ref, int(k)) for k in ctx]
        assert np.array_equal((table & N._CTX_MODULE_LEVEL) != 0, level) and 0 < sum(level) < len(level)
        edges, owner = N.csr_slots(np.asarray(g.first)[ctx].astype(np.int64),
                                   np.diff(np.asarray(g.first))[ctx].astype(np.int64))
        src = ctx[owner]
        et = np.asarray(g.etype)[edges]
        named = et == g.t["context"]
        codes = N._context_variable_codes(g, table[owner[named]], np.asarray(g.ename)[edges[named]],
                                          (flags[src[named]] & N.GLOBAL) != 0, rules)
        ref_flags = N.node_flags(ref, rules)
        want = [N._variable_edge(ref, e, s, int(ref.to[e]), rules, ref_flags)
                for e, s in zip(edges[named].tolist(), src[named].tolist())]
        assert codes.tolist() == want
        assert {N._FOUND, N._SKIP} <= set(want)  # (both outcomes are checked)
        tool = (table & N._CTX_TOOL) != 0
        assert tool.tolist() == [N._tool_node(ref, int(k), rules) for k in ctx] and 0 < tool.sum() < len(ctx)
    finally:
        g.snap.close()
        ref.snap.close()


def _step(found):
    src, etype, name, dst = found[0][found[1]]
    return N.Step(src, etype, name, dst)


def test_string_ids_are_every_string_with_that_text(shapes):
    """string_ids (by hash, and by text among the strings with escapes or other than ASCII) against decoding every
    string of the table: for a sample of its texts — plain, escaped (a source text), not ASCII."""
    snap = read_for_graph(shapes["mixed"])
    try:
        st = snap.strings
        texts = [st[i] for i in range(len(st))]
        by_text: dict[str, list[int]] = {}
        for i, t in enumerate(texts):
            by_text.setdefault(t, []).append(i)
        rng = np.random.default_rng(3)
        escaped = np.flatnonzero(st.flags != 0)
        sample = {texts[i] for i in rng.choice(len(st), 300)} | {texts[i] for i in rng.choice(escaped, 100)}
        sample |= {"system / Context", "importers", "url", "no such string \u00e9"}
        assert len(escaped) > 50 and any(not t.isascii() for t in sample)
        for t in sorted(sample):
            assert N.string_ids(snap, t) == by_text.get(t, []), t
    finally:
        snap.close()


@pytest.mark.parametrize("name", ["mixed", "alias"])
def test_the_cut_edges_are_those_of_the_edge_mask(shapes, name):
    """engine._exclusive's edges from the holding nodes to new objects (gathered from those nodes' edges) against
    the mask of every edge (its source holds, its target is new): for holders few and many, the root among them."""
    g = _graph(shapes[name])
    try:
        first = np.asarray(g.first).astype(np.int64)
        src = GK.edge_sources(g.first)
        rng = np.random.default_rng(5)
        for share in (0.001, 0.05, 0.5, 1.0):
            hold = rng.random(g.n) < share
            hold[g.root] = share > 0.01
            to_new = (rng.random(g.n) < 0.3)[np.asarray(g.to)]
            got = engine._edges_from_to(first, np.diff(first), hold, to_new)
            want = np.flatnonzero(hold[src] & to_new)
            assert np.array_equal(got, want) and (len(want) > 0)
    finally:
        g.snap.close()
