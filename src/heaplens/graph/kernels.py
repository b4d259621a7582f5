"""Compiled graph kernels (numba): CSR, essential edges, dominators, retained sizes, distances.

All node references are ordinals (0 = the synthetic root). Edges are in file order, grouped by
source node; ``first[k]:first[k+1]`` are the edges of node ``k``.

The dominator kernel is a line-by-line port of DevTools' ``calculateDominatorsAndRetainedSizes``
(Lengauer–Tarjan, simple eval/link, iterative DFS and compress) so that the result — including
the treatment of nodes only reachable over weak edges and of unreachable cliques — is the same.
"""

from __future__ import annotations

import numpy as np
from numba import njit

NO_DISTANCE = -5
BASE_SYSTEM_DISTANCE = 100_000_000

# bits of the per-node flag byte
PAGE_OWNED = 1


@njit(cache=True, nogil=True, boundscheck=False)
def first_edges(edge_count):
    """Prefix sums of ``edge_count``: ``first[k]`` = index of node k's first edge (length n+1)."""
    n = edge_count.shape[0]
    out = np.empty(n + 1, dtype=np.int64)
    s = 0
    for k in range(n):
        out[k] = s
        s += edge_count[k]
    out[n] = s
    return out


@njit(cache=True, nogil=True, boundscheck=False)
def mark_page_owned(first, etype, to, starts, weak_t):
    """Nodes reachable over non-weak edges from ``starts`` (DevTools ``markPageOwnedNodes``)."""
    n = first.shape[0] - 1
    flags = np.zeros(n, dtype=np.uint8)
    stack = np.empty(n, dtype=np.uint32)
    sp = 0
    for i in range(starts.shape[0]):
        s = starts[i]
        if flags[s] == 0:
            flags[s] = PAGE_OWNED
            stack[sp] = s
            sp += 1
    while sp > 0:
        sp -= 1
        v = stack[sp]
        for e in range(first[v], first[v + 1]):
            w = to[e]
            if flags[w] != 0:
                continue
            if etype[e] == weak_t:
                continue
            flags[w] = PAGE_OWNED
            stack[sp] = w
            sp += 1
    return flags


@njit(cache=True, nogil=True, boundscheck=False, inline="always")
def _essential(v, e, etype, ename, to, ids, page, eph_table, internal_t, weak_t, shortcut_t, root):
    t = etype[e]
    if t == internal_t and eph_table.shape[0] > 1:
        tid = eph_table[ename[e]]
        if tid >= 0 and tid == ids[v]:
            return False
    if t == weak_t:
        return False
    w = to[e]
    if w == v:
        return False
    if v != root:
        if t == shortcut_t:
            return False
        if page[w] != 0 and page[v] == 0:
            return False
    return True


@njit(cache=True, nogil=True, boundscheck=False)
def essential_mask(first, etype, ename, to, ids, page, eph_table, internal_t, weak_t, shortcut_t, root):
    """One byte per edge: 1 if the edge counts for dominators (DevTools ``isEssentialEdge``)."""
    n = first.shape[0] - 1
    out = np.zeros(to.shape[0], dtype=np.uint8)
    for v in range(n):
        for e in range(first[v], first[v + 1]):
            if _essential(v, e, etype, ename, to, ids, page, eph_table, internal_t, weak_t, shortcut_t, root):
                out[e] = 1
    return out


@njit(cache=True, nogil=True, boundscheck=False)
def reverse_essential(first, etype, ename, to, ids, page, eph_table, internal_t, weak_t, shortcut_t, root):
    """Reverse CSR over essential edges: ``rfirst`` (n+1) and ``rsrc`` (source ordinal per entry).

    Within a target, sources appear in edge order (like DevTools' retainer lists)."""
    n = first.shape[0] - 1
    rfirst = np.zeros(n + 1, dtype=np.int64)
    for v in range(n):
        for e in range(first[v], first[v + 1]):
            if _essential(v, e, etype, ename, to, ids, page, eph_table, internal_t, weak_t, shortcut_t, root):
                rfirst[to[e] + 1] += 1
    for k in range(n):
        rfirst[k + 1] += rfirst[k]
    m = rfirst[n]
    rsrc = np.empty(m, dtype=np.uint32)
    fill = rfirst[:n].copy()
    for v in range(n):
        for e in range(first[v], first[v + 1]):
            if _essential(v, e, etype, ename, to, ids, page, eph_table, internal_t, weak_t, shortcut_t, root):
                w = to[e]
                rsrc[fill[w]] = v
                fill[w] += 1
    return rfirst, rsrc


@njit(cache=True, nogil=True, boundscheck=False)
def reverse_all(first, to):
    """Reverse CSR over all edges: ``rfirst`` (n+1) and ``redge`` (edge index per entry)."""
    n = first.shape[0] - 1
    m = to.shape[0]
    rfirst = np.zeros(n + 1, dtype=np.int64)
    for e in range(m):
        rfirst[to[e] + 1] += 1
    for k in range(n):
        rfirst[k + 1] += rfirst[k]
    redge = np.empty(m, dtype=np.uint32 if m < 4294967295 else np.int64)
    fill = rfirst[:n].copy()
    for e in range(m):
        w = to[e]
        redge[fill[w]] = e
        fill[w] += 1
    return rfirst, redge


@njit(cache=True, nogil=True, boundscheck=False)
def adjusted_self_sizes(first, ntype, nname, etype, to, self_size, owned_type_mask, native_t, ext_string_s,
                        weak_t, synthetic_t, root):
    """DevTools ``calculateShallowSizes``: hidden/array nodes (and ``system / ExternalStringData``
    natives) reachable from exactly one other owner have their size moved onto that owner.

    ``owned_type_mask[t]`` is 1 for node types that can be owned (hidden, array); ``ext_string_s``
    is the string index of ``system / ExternalStringData`` (-1 if absent)."""
    n = first.shape[0] - 1
    UNVISITED = np.uint32(0xFFFFFFFF)
    MULTI = np.uint32(0xFFFFFFFE)
    owners = np.empty(n, dtype=np.uint32)
    work = np.empty(2 * n + 1, dtype=np.uint32)
    sp = 0
    for i in range(n):
        if owned_type_mask[ntype[i]] != 0 or (ntype[i] == native_t and nname[i] == ext_string_s):
            owners[i] = UNVISITED
        else:
            owners[i] = i
            work[sp] = i
            sp += 1
    # DevTools pops from the end of the worklist; the result does not depend on the order.
    while sp > 0:
        sp -= 1
        v = work[sp]
        owner = owners[v]
        for e in range(first[v], first[v + 1]):
            if etype[e] == weak_t:
                continue
            w = to[e]
            o = owners[w]
            if o == UNVISITED:
                owners[w] = owner
                work[sp] = w
                sp += 1
            elif o == w or o == owner or o == MULTI:
                pass
            else:
                owners[w] = MULTI
                work[sp] = w
                sp += 1
    sizes = self_size.astype(np.uint64)
    for i in range(n):
        o = owners[i]
        if o == UNVISITED or o == MULTI or o == i:
            continue
        if ntype[o] == synthetic_t or o == root:
            continue
        sizes[o] += sizes[i]
        sizes[i] = 0
    return sizes


@njit(cache=True, nogil=True, boundscheck=False)
def _dfs(r, first, etype, ename, to, ids, page, eph_table, internal_t, weak_t, shortcut_t, root,
         semi, vertex, label, parent, next_edge, n):
    # vertices are ordinal + 1; 0 means "none"
    next_edge[r - 1] = first[r - 1]
    v = r
    while v != 0:
        if semi[v] == 0:
            n += 1
            semi[v] = n
            vertex[n] = v
            label[v] = v
        v_next = parent[v]
        vo = v - 1
        end = first[vo + 1]
        while next_edge[vo] < end:
            e = next_edge[vo]
            if _essential(vo, e, etype, ename, to, ids, page, eph_table, internal_t, weak_t, shortcut_t, root):
                w = to[e] + 1
                if semi[w] == 0:
                    parent[w] = v
                    next_edge[w - 1] = first[w - 1]
                    v_next = w
                    break
            next_edge[vo] = e + 1
        v = v_next
    return n


@njit(cache=True, nogil=True, boundscheck=False)
def dominators(first, etype, ename, to, ids, page, eph_table, internal_t, weak_t, shortcut_t, root,
               rfirst, rsrc, sizes):
    """Immediate dominators and retained sizes, exactly as DevTools computes them.

    Returns ``(dom, retained, order, n_weak_only, n_unreachable)``: ``dom[k]`` is the ordinal of
    node k's immediate dominator (the root dominates itself), ``retained`` (float64, like DevTools)
    the retained sizes from ``sizes``, ``order`` the nodes in DFS order (root first), and the
    counts of nodes reached only through weak-only retainers and of nodes still unreachable
    (attached directly under the root)."""
    N = first.shape[0] - 1
    L = N + 1
    parent = np.zeros(L, dtype=np.uint32)
    ancestor = np.zeros(L, dtype=np.uint32)
    vertex = np.zeros(L, dtype=np.uint32)
    label = np.zeros(L, dtype=np.uint32)
    semi = np.zeros(L, dtype=np.uint32)
    scratch = np.empty(L, dtype=np.int64)  # DFS next-edge cursor, later the compress stack
    r = root + 1
    n = _dfs(r, first, etype, ename, to, ids, page, eph_table, internal_t, weak_t, shortcut_t, root,
             semi, vertex, label, parent, scratch, 0)
    n_weak_only = 0
    if n < N:
        before = n
        for v in range(1, N + 1):
            if semi[v] != 0:
                continue
            vo = v - 1
            only_weak = True
            for i in range(rfirst[vo], rfirst[vo + 1]):
                only_weak = False
                break
            if only_weak:
                parent[v] = r
                n = _dfs(v, first, etype, ename, to, ids, page, eph_table, internal_t, weak_t, shortcut_t,
                         root, semi, vertex, label, parent, scratch, n)
        n_weak_only = n - before
    n_unreachable = 0
    if n < N:
        for v in range(1, N + 1):
            if semi[v] == 0:
                parent[v] = r
                n += 1
                semi[v] = n
                vertex[n] = v
                label[v] = v
                n_unreachable += 1
    # buckets as singly linked lists (a vertex is put into one bucket once)
    bucket_head = np.zeros(L, dtype=np.uint32)
    bucket_next = np.zeros(L, dtype=np.uint32)
    dom = np.zeros(L, dtype=np.uint32)
    stack = scratch
    for i in range(n, 1, -1):
        w = vertex[i]
        wo = w - 1
        orphan = True
        for j in range(rfirst[wo], rfirst[wo + 1]):
            orphan = False
            v = np.uint32(rsrc[j] + 1)
            # u = evaluate(v)
            if ancestor[v] == 0:
                u = v
            else:
                sp = 0
                x = v
                while ancestor[ancestor[x]] != 0:
                    sp += 1
                    stack[sp] = x
                    x = ancestor[x]
                while sp > 0:
                    y = stack[sp]
                    sp -= 1
                    ay = ancestor[y]
                    if semi[label[ay]] < semi[label[y]]:
                        label[y] = label[ay]
                    ancestor[y] = ancestor[ay]
                u = label[v]
            if semi[u] < semi[w]:
                semi[w] = semi[u]
        if orphan:
            semi[w] = semi[r]
        b = vertex[semi[w]]
        bucket_next[w] = bucket_head[b]
        bucket_head[b] = w
        pw = parent[w]
        ancestor[w] = pw
        v = bucket_head[pw]
        while v != 0:
            if ancestor[v] == 0:
                u = v
            else:
                sp = 0
                x = v
                while ancestor[ancestor[x]] != 0:
                    sp += 1
                    stack[sp] = x
                    x = ancestor[x]
                while sp > 0:
                    y = stack[sp]
                    sp -= 1
                    ay = ancestor[y]
                    if semi[label[ay]] < semi[label[y]]:
                        label[y] = label[ay]
                    ancestor[y] = ancestor[ay]
                u = label[v]
            dom[v] = u if semi[u] < semi[v] else pw
            v = bucket_next[v]
        bucket_head[pw] = 0
    dom[0] = r
    dom[r] = r
    for i in range(2, n + 1):
        w = vertex[i]
        if dom[w] != vertex[semi[w]]:
            dom[w] = dom[dom[w]]
    out_dom = np.empty(N, dtype=np.uint32)
    retained = np.empty(N, dtype=np.float64)
    for k in range(N):
        out_dom[k] = dom[k + 1] - 1
        retained[k] = sizes[k]
    for i in range(n, 1, -1):
        k = vertex[i] - 1
        retained[out_dom[k]] += retained[k]
    order = np.empty(N, dtype=np.uint32)
    for i in range(1, n + 1):
        order[i - 1] = vertex[i] - 1
    return out_dom, retained, order, n_weak_only, n_unreachable


@njit(cache=True, nogil=True, boundscheck=False)
def dominated_csr(dom, root):
    """Children of every node in the dominator tree (DevTools ``buildDominatedNodes``)."""
    n = dom.shape[0]
    cfirst = np.zeros(n + 1, dtype=np.int64)
    for k in range(n):
        if k != root:
            cfirst[dom[k] + 1] += 1
    for k in range(n):
        cfirst[k + 1] += cfirst[k]
    kids = np.empty(cfirst[n], dtype=np.uint32)
    fill = cfirst[:n].copy()
    for k in range(n):
        if k != root:
            d = dom[k]
            kids[fill[d]] = k
            fill[d] += 1
    return cfirst, kids


@njit(cache=True, nogil=True, boundscheck=False)
def class_retained(cfirst, kids, keys, nkeys, sizes, retained, root):
    """Retained size per class key without double counting (DevTools
    ``calculateClassesRetainedSize``): a node counts unless a dominator ancestor with the same key
    (and a non-zero size) already counted. Nodes with size 0 are skipped."""
    out = np.zeros(nkeys, dtype=np.float64)
    active = np.zeros(nkeys, dtype=np.int32)
    n = keys.shape[0]
    # explicit DFS stack of (node, next child cursor); post-order release of the key
    stack_node = np.empty(n + 1, dtype=np.uint32)
    stack_cur = np.empty(n + 1, dtype=np.int64)
    counted = np.zeros(n, dtype=np.uint8)
    sp = 0
    stack_node[0] = root
    stack_cur[0] = cfirst[root]
    k0 = keys[root]
    if sizes[root] > 0 and active[k0] == 0:
        out[k0] += retained[root]
        active[k0] += 1
        counted[root] = 1
    while sp >= 0:
        v = stack_node[sp]
        c = stack_cur[sp]
        if c < cfirst[v + 1]:
            stack_cur[sp] = c + 1
            w = kids[c]
            kw = keys[w]
            if sizes[w] > 0 and active[kw] == 0:
                out[kw] += retained[w]
                active[kw] += 1
                counted[w] = 1
            sp += 1
            stack_node[sp] = w
            stack_cur[sp] = cfirst[w]
        else:
            if counted[v] != 0:
                active[keys[v]] -= 1
            sp -= 1
    return out


@njit(cache=True, nogil=True, boundscheck=False)
def distances(first, etype, ename, to, ntype, nname, root, user_roots, weak_t, element_t, hidden_t,
              internal_t, hidden_node_t, array_node_t, native_context_s, sloppy_s, map_desc_s,
              eph_pair, n_pairs):
    """DevTools ``calculateDistances`` for JS snapshots.

    BFS over non-weak edges from the user roots (distance 1), then from the root (at
    ``BASE_SYSTEM_DISTANCE`` if there were user roots, else 0). The JS filter skips
    ``sloppy_function_map`` of ``system / NativeContext``, descriptor links of ``(map
    descriptors)`` and the first edge of each WeakMap ephemeron pair. Also returns the BFS parent
    edge of every node (-1 for none), which gives one shortest retaining path per node."""
    n = first.shape[0] - 1
    dist = np.full(n, NO_DISTANCE, dtype=np.int32)
    via = np.full(n, -1, dtype=np.int64)
    queue = np.empty(n, dtype=np.uint32)
    pending = np.zeros(max(n_pairs, 1), dtype=np.uint8)
    qlen = 0
    for i in range(user_roots.shape[0]):
        u = user_roots[i]
        if dist[u] == NO_DISTANCE:
            dist[u] = 1
            queue[qlen] = u
            qlen += 1
    has_user = qlen > 0
    for phase in range(2):
        if phase == 1:
            dist[root] = BASE_SYSTEM_DISTANCE if has_user else 0
            queue[0] = root
            qlen = 1
        head = 0
        while head < qlen:
            v = queue[head]
            head += 1
            d = dist[v] + 1
            vt = ntype[v]
            for e in range(first[v], first[v + 1]):
                t = etype[e]
                if t == weak_t:
                    continue
                w = to[e]
                if dist[w] != NO_DISTANCE:
                    continue
                # the JS filter
                if vt == hidden_node_t and nname[v] == native_context_s and ename[e] == sloppy_s and (
                        t != element_t and t != hidden_t):
                    continue
                if vt == array_node_t and nname[v] == map_desc_s and (t == element_t or t == hidden_t):
                    idx = ename[e]
                    if not (idx < 2 or idx % 3 != 1):
                        continue
                if t == internal_t and n_pairs > 0:
                    p = eph_pair[ename[e]]
                    if p >= 0:
                        if pending[p] == 0:
                            pending[p] = 1
                            continue
                        pending[p] = 0
                dist[w] = d
                via[w] = e
                queue[qlen] = w
                qlen += 1
    return dist, via


@njit(cache=True, nogil=True, boundscheck=False)
def edge_sources(first):
    """Source ordinal of every edge."""
    n = first.shape[0] - 1
    src = np.empty(first[n], dtype=np.uint32)
    for v in range(n):
        for e in range(first[v], first[v + 1]):
            src[e] = v
    return src


@njit(cache=True, nogil=True, boundscheck=False)
def group_sum(keys, values, nkeys, mask):
    """Count and sum of ``values`` per key over the nodes where ``mask`` is set."""
    cnt = np.zeros(nkeys, dtype=np.int64)
    tot = np.zeros(nkeys, dtype=np.float64)
    for k in range(keys.shape[0]):
        if mask[k]:
            cnt[keys[k]] += 1
            tot[keys[k]] += values[k]
    return cnt, tot


@njit(cache=True, nogil=True, boundscheck=False)
def mark_edge_names(etype, ename, t, nstrings):
    """1 for every string used as the name of an edge of type ``t``."""
    out = np.zeros(nstrings, dtype=np.uint8)
    for e in range(etype.shape[0]):
        if etype[e] == t:
            out[ename[e]] = 1
    return out
