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
def first_edges(edge_count, out):
    """Prefix sums of ``edge_count`` into ``out`` (length n+1): ``out[k]`` = node k's first edge.
    Returns the total (the caller checks it against the edge count and the dtype)."""
    n = edge_count.shape[0]
    s = np.int64(0)
    for k in range(n):
        out[k] = s
        s += np.int64(edge_count[k])
    out[n] = s
    return s


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
        for e in range(np.int64(first[v]), np.int64(first[v + 1])):
            w = to[e]
            if flags[w] != 0:
                continue
            if etype[e] == weak_t:
                continue
            flags[w] = PAGE_OWNED
            stack[sp] = w
            sp += 1
    return flags


@njit(cache=True, nogil=True, boundscheck=False)
def essential_mask(first, etype, ename, to, ids, page, eph_table, internal_t, weak_t, shortcut_t, root):
    """One byte per edge: 1 if the edge counts for dominators (DevTools ``isEssentialEdge``):
    not weak, not the WeakMap table→value ephemeron edge, not a self edge, and outside the root
    not a shortcut and not an edge from a non-page-owned node into a page-owned one."""
    n = first.shape[0] - 1
    out = np.zeros(to.shape[0], dtype=np.uint8)
    has_eph = eph_table.shape[0] > 1
    for v in range(n):
        pv = page[v]
        for e in range(np.int64(first[v]), np.int64(first[v + 1])):
            t = etype[e]
            if t == weak_t:
                continue
            if t == internal_t and has_eph:
                tid = eph_table[ename[e]]
                if tid >= 0 and tid == ids[v]:
                    continue
            w = to[e]
            if w == v:
                continue
            if v != root:
                if t == shortcut_t:
                    continue
                if page[w] != 0 and pv == 0:
                    continue
            out[e] = 1
    return out


@njit(cache=True, nogil=True, boundscheck=False)
def essential_reverse_count(first, etype, ename, to, ids, page, eph_table, internal_t, weak_t, shortcut_t,
                            root, rfirst):
    """:func:`essential_mask` and :func:`reverse_count` in one pass over the edges. Returns
    ``(mask, number of essential edges)``; ``rfirst`` (n+1, zeroed) gets the retainer offsets."""
    n = first.shape[0] - 1
    out = np.zeros(to.shape[0], dtype=np.uint8)
    has_eph = eph_table.shape[0] > 1
    for v in range(n):
        pv = page[v]
        for e in range(np.int64(first[v]), np.int64(first[v + 1])):
            t = etype[e]
            if t == weak_t:
                continue
            if t == internal_t and has_eph:
                tid = eph_table[ename[e]]
                if tid >= 0 and tid == ids[v]:
                    continue
            w = to[e]
            if w == v:
                continue
            if v != root:
                if t == shortcut_t:
                    continue
                if page[w] != 0 and pv == 0:
                    continue
            out[e] = 1
            rfirst[w + 1] += 1
    for k in range(n):
        rfirst[k + 1] += rfirst[k]
    return out, np.int64(rfirst[n])


@njit(cache=True, nogil=True, boundscheck=False)
def reverse_count(to, ess, rfirst):
    """Fill ``rfirst`` (n+1, zeroed) with the start of each node's retainer list, counting the
    edges with ``ess[e] != 0`` (all edges if ``ess`` has length 0). Returns the total."""
    n = rfirst.shape[0] - 1
    m = to.shape[0]
    every = ess.shape[0] == 0
    for e in range(m):
        if every or ess[e] != 0:
            rfirst[to[e] + 1] += 1
    for k in range(n):
        rfirst[k + 1] += rfirst[k]
    return np.int64(rfirst[n])


@njit(cache=True, nogil=True, boundscheck=False)
def reverse_fill(first, to, ess, rfirst, out, store_edge):
    """Second pass of the reverse CSR: ``out`` gets, per target in edge order, the source ordinal
    (or the edge index with ``store_edge``). ``rfirst`` is used as the fill cursor and restored."""
    n = first.shape[0] - 1
    every = ess.shape[0] == 0
    for v in range(n):
        for e in range(np.int64(first[v]), np.int64(first[v + 1])):
            if every or ess[e] != 0:
                w = to[e]
                p = rfirst[w]
                out[p] = e if store_edge else v
                rfirst[w] = p + 1
    # rfirst[w] now holds the end of w's list = the start of w+1's list: shift back
    for k in range(n, 0, -1):
        rfirst[k] = rfirst[k - 1]
    rfirst[0] = 0


@njit(cache=True, nogil=True, boundscheck=False)
def adjusted_self_sizes(first, ntype, nname, etype, to, sizes, owned_type_mask, native_t, ext_string_s,
                        weak_t, synthetic_t, root):
    """DevTools ``calculateShallowSizes``, in place on ``sizes`` (a copy of the self sizes):
    hidden/array nodes (and ``system / ExternalStringData`` natives) reachable from exactly one
    other owner have their size moved onto that owner. ``owned_type_mask[t]`` is 1 for the
    owned node types; ``ext_string_s`` is the string index of ``system / ExternalStringData``
    (-1 if absent). Returns False if a sum did not fit the dtype of ``sizes`` (then redo wider)."""
    n = first.shape[0] - 1
    UNVISITED = np.uint32(0xFFFFFFFF)
    MULTI = np.uint32(0xFFFFFFFE)
    owners = np.empty(n, dtype=np.uint32)
    cap = n // 4 + 1024
    work = np.empty(cap, dtype=np.uint32)
    sp = 0
    for i in range(n):
        if owned_type_mask[ntype[i]] != 0 or (ntype[i] == native_t and nname[i] == ext_string_s):
            owners[i] = UNVISITED
        else:
            owners[i] = i
    # DevTools pushes every self-owned node first; the result does not depend on the order, so
    # the self-owned nodes are walked in node order and the stack holds only owned nodes.
    for start in range(n):
        if owners[start] != start:
            continue
        v0 = start
        while True:
            owner = owners[v0]
            for e in range(np.int64(first[v0]), np.int64(first[v0 + 1])):
                if etype[e] == weak_t:
                    continue
                w = to[e]
                o = owners[w]
                push = False
                if o == UNVISITED:
                    owners[w] = owner
                    push = True
                elif o == w or o == owner or o == MULTI:
                    pass
                else:
                    owners[w] = MULTI
                    push = True
                if push:
                    if sp == cap:
                        cap *= 2
                        bigger = np.empty(cap, dtype=np.uint32)
                        bigger[:sp] = work[:sp]
                        work = bigger
                    work[sp] = w
                    sp += 1
            if sp == 0:
                break
            sp -= 1
            v0 = work[sp]
    limit = np.iinfo(sizes.dtype).max
    for i in range(n):
        o = owners[i]
        if o == UNVISITED or o == MULTI or o == i:
            continue
        if ntype[o] == synthetic_t or o == root:
            continue
        if np.uint64(sizes[o]) + np.uint64(sizes[i]) > np.uint64(limit):
            return False
        sizes[o] += sizes[i]
        sizes[i] = 0
    return True


@njit(cache=True, nogil=True, boundscheck=False)
def _dfs(r, first, to, ess, semi, vertex, label, parent, next_edge, n):
    # vertices are ordinal + 1; 0 means "none"
    next_edge[r - 1] = first[r - 1]
    v = np.int64(r)
    while v != 0:
        if semi[v] == 0:
            n += 1
            semi[v] = n
            vertex[n] = v
            label[v] = v
        v_next = np.int64(parent[v])
        vo = v - 1
        end = np.int64(first[vo + 1])
        e = np.int64(next_edge[vo])
        while e < end:
            if ess[e] != 0:
                w = np.int64(to[e]) + 1
                if semi[w] == 0:
                    parent[w] = v
                    next_edge[w - 1] = first[w - 1]
                    v_next = w
                    break
            e += 1
        next_edge[vo] = e
        v = v_next
    return n


@njit(cache=True, nogil=True, boundscheck=False)
def dominators_dfs(first, to, ess, root, rfirst):
    """First half of :func:`dominators`: the DFS numbering (from the root, then from orphans with
    only weak retainers, then the still unvisited nodes directly under the root).
    Returns ``(parent, vertex, label, semi, scratch, n, n_weak_only, n_unreachable)``."""
    N = first.shape[0] - 1
    L = N + 1
    parent = np.zeros(L, dtype=np.uint32)
    vertex = np.zeros(L, dtype=np.uint32)
    label = np.zeros(L, dtype=np.uint32)
    semi = np.zeros(L, dtype=np.uint32)
    scratch = np.empty(L, dtype=np.uint32)  # DFS next-edge cursor, later the ancestors
    r = root + 1
    n = _dfs(r, first, to, ess, semi, vertex, label, parent, scratch, 0)
    n_weak_only = 0
    if n < N:
        before = n
        for v in range(1, N + 1):
            if semi[v] != 0:
                continue
            vo = v - 1
            if rfirst[vo] == rfirst[vo + 1]:  # only weak (non-essential) retainers
                parent[v] = r
                n = _dfs(v, first, to, ess, semi, vertex, label, parent, scratch, n)
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
    return parent, vertex, label, semi, scratch, n, n_weak_only, n_unreachable


@njit(cache=True, nogil=True, boundscheck=False)
def dominators_main(root, rfirst, rsrc, parent, vertex, label, semi, scratch, n):
    """Second half of :func:`dominators`: semidominators, buckets, immediate dominators.

    The same steps as DevTools, but on DFS numbers instead of vertex ids (a relabelling: every
    array is indexed by the DFS number), which keeps the random accesses of eval/compress close
    together in memory. ``rsrc`` is overwritten (sources become DFS numbers).
    Returns ``(dom, order)`` as node ordinals."""
    L = parent.shape[0]
    N = L - 1
    vnum = semi  # vertex -> DFS number
    for j in range(rsrc.shape[0]):
        rsrc[j] = vnum[rsrc[j] + 1]
    parent_n = scratch
    parent_n[0] = 0
    for i in range(1, n + 1):
        parent_n[i] = vnum[parent[vertex[i]]]
    for i in range(n + 1, L):
        parent_n[i] = 0
    semi_n = semi  # vnum is no longer needed
    for i in range(L):
        semi_n[i] = i
    label_n = label
    for i in range(L):
        label_n[i] = i
    ancestor = parent
    ancestor[:] = 0
    bucket_head = np.zeros(L, dtype=np.uint32)
    bucket_next = np.zeros(L, dtype=np.uint32)
    dom = bucket_next  # dom[v] is written only after v left its bucket for good
    stack = np.empty(4096, dtype=np.uint32)
    for w in range(n, 1, -1):
        wo = np.int64(vertex[w]) - 1
        orphan = True
        sw = semi_n[w]
        for j in range(np.int64(rfirst[wo]), np.int64(rfirst[wo + 1])):
            orphan = False
            v = rsrc[j]
            # u = eval(v), inline (no call, no array refcounting in the hot loop)
            if ancestor[v] == 0:
                u = v
            else:
                if ancestor[ancestor[v]] != 0:
                    sp = 0
                    x = v
                    while ancestor[ancestor[x]] != 0:
                        sp += 1
                        if sp == stack.shape[0]:
                            bigger = np.empty(stack.shape[0] * 2, dtype=np.uint32)
                            bigger[:sp] = stack[:sp]
                            stack = bigger
                        stack[sp] = x
                        x = ancestor[x]
                    while sp > 0:
                        y = stack[sp]
                        sp -= 1
                        ay = ancestor[y]
                        if semi_n[label_n[ay]] < semi_n[label_n[y]]:
                            label_n[y] = label_n[ay]
                        ancestor[y] = ancestor[ay]
                u = label_n[v]
            su = semi_n[u]
            if su < sw:
                sw = su
        semi_n[w] = sw
        if orphan:
            semi_n[w] = 1  # the root's number
        b = semi_n[w]
        bucket_next[w] = bucket_head[b]
        bucket_head[b] = w
        pw = parent_n[w]
        ancestor[w] = pw
        v = bucket_head[pw]
        bucket_head[pw] = 0
        while v != 0:
            nxt = bucket_next[v]
            if ancestor[v] == 0:
                u = v
            else:
                if ancestor[ancestor[v]] != 0:
                    sp = 0
                    x = v
                    while ancestor[ancestor[x]] != 0:
                        sp += 1
                        if sp == stack.shape[0]:
                            bigger = np.empty(stack.shape[0] * 2, dtype=np.uint32)
                            bigger[:sp] = stack[:sp]
                            stack = bigger
                        stack[sp] = x
                        x = ancestor[x]
                    while sp > 0:
                        y = stack[sp]
                        sp -= 1
                        ay = ancestor[y]
                        if semi_n[label_n[ay]] < semi_n[label_n[y]]:
                            label_n[y] = label_n[ay]
                        ancestor[y] = ancestor[ay]
                u = label_n[v]
            dom[v] = u if semi_n[u] < semi_n[v] else pw
            v = nxt
    # numbers never taken out of a bucket keep dom = 0 (DevTools: undefined -> dom[0] = root)
    for x in range(L):
        v = bucket_head[x]
        while v != 0:
            nxt = bucket_next[v]
            dom[v] = 0
            v = nxt
    dom[0] = 1
    dom[1] = 1
    for i in range(2, n + 1):
        if dom[i] != semi_n[i]:
            dom[i] = dom[dom[i]]
    # back to node ordinals: out[vertex[i] - 1] = vertex[dom[i]] - 1
    out = label_n
    for i in range(1, n + 1):
        out[vertex[i] - 1] = vertex[dom[i]] - 1
    for i in range(N):
        vertex[i] = vertex[i + 1] - 1
    return out[:N], vertex[:N]


def dominators(first, to, ess, root, rfirst, rsrc):
    """Immediate dominators, exactly as DevTools computes them (Lengauer–Tarjan).

    Returns ``(dom, order, n_weak_only, n_unreachable)``: ``dom[k]`` is the ordinal of node k's
    immediate dominator (the root dominates itself), ``order`` the nodes in DFS order (root first;
    :func:`retained_sizes` sums sizes up the tree in reverse of it), and the counts of nodes
    reached only through weak-only retainers and of nodes still unreachable (attached directly
    under the root). Callers that want ``ess`` freed before the second half call the two
    halves themselves."""
    parent, vertex, label, semi, scratch, n, n_weak_only, n_unreachable = dominators_dfs(first, to, ess, root, rfirst)
    dom, order = dominators_main(root, rfirst, rsrc, parent, vertex, label, semi, scratch, n)
    return dom, order, n_weak_only, n_unreachable


@njit(cache=True, nogil=True, boundscheck=False)
def retained_sizes(dom, order, sizes):
    """Self sizes summed up the dominator tree in reverse DFS order (float64, like DevTools)."""
    N = dom.shape[0]
    retained = np.empty(N, dtype=np.float64)
    for k in range(N):
        retained[k] = sizes[k]
    for i in range(N - 1, 0, -1):
        k = order[i]
        retained[dom[k]] += retained[k]
    return retained


@njit(cache=True, nogil=True, boundscheck=False)
def dominated_csr(dom, root):
    """Children of every node in the dominator tree (DevTools ``buildDominatedNodes``)."""
    n = dom.shape[0]
    cfirst = np.zeros(n + 1, dtype=np.uint32)
    for k in range(n):
        if k != root:
            cfirst[dom[k] + 1] += 1
    for k in range(n):
        cfirst[k + 1] += cfirst[k]
    kids = np.empty(cfirst[n], dtype=np.uint32)
    for k in range(n):
        if k != root:
            d = dom[k]
            kids[cfirst[d]] = k
            cfirst[d] += 1
    for k in range(n, 0, -1):
        cfirst[k] = cfirst[k - 1]
    cfirst[0] = 0
    return cfirst, kids


@njit(cache=True, nogil=True, boundscheck=False)
def class_retained(cfirst, kids, keys, nkeys, sizes, retained, root, mask):
    """Retained size per class key without double counting (DevTools
    ``calculateClassesRetainedSize``): a node counts unless a dominator ancestor with the same key
    (and a non-zero size) already counted. Nodes with size 0 are skipped; with a non-empty
    ``mask`` only nodes with ``mask[k] != 0`` count (DevTools' node filter)."""
    every = mask.shape[0] == 0
    out = np.zeros(nkeys, dtype=np.float64)
    active = np.zeros(nkeys, dtype=np.int32)
    n = keys.shape[0]
    # explicit DFS stack of (node, next child cursor); post-order release of the key
    stack_node = np.empty(1024, dtype=np.uint32)
    stack_cur = np.empty(1024, dtype=np.uint32)
    stack_counted = np.empty(1024, dtype=np.uint8)
    sp = 0
    stack_node[0] = root
    stack_cur[0] = cfirst[root]
    k0 = keys[root]
    stack_counted[0] = 0
    if sizes[root] > 0 and active[k0] == 0 and (every or mask[root] != 0):
        out[k0] += retained[root]
        active[k0] += 1
        stack_counted[0] = 1
    while sp >= 0:
        v = stack_node[sp]
        c = stack_cur[sp]
        if c < cfirst[v + 1]:
            stack_cur[sp] = c + 1
            w = kids[c]
            kw = keys[w]
            sp += 1
            if sp == stack_node.shape[0]:
                cap = sp * 2
                a = np.empty(cap, dtype=np.uint32)
                a[:sp] = stack_node[:sp]
                stack_node = a
                b = np.empty(cap, dtype=np.uint32)
                b[:sp] = stack_cur[:sp]
                stack_cur = b
                cc = np.empty(cap, dtype=np.uint8)
                cc[:sp] = stack_counted[:sp]
                stack_counted = cc
            stack_node[sp] = w
            stack_cur[sp] = cfirst[w]
            stack_counted[sp] = 0
            if sizes[w] > 0 and active[kw] == 0 and (every or mask[w] != 0):
                out[kw] += retained[w]
                active[kw] += 1
                stack_counted[sp] = 1
        else:
            if stack_counted[sp] != 0:
                active[keys[v]] -= 1
            sp -= 1
    return out


@njit(cache=True, nogil=True, boundscheck=False)
def distances(first, etype, ename, to, ntype, nname, root, user_roots, weak_t, element_t, hidden_t,
              internal_t, hidden_node_t, array_node_t, native_context_s, sloppy_s, map_desc_s,
              eph_pair, n_pairs, want_via):
    """DevTools ``calculateDistances`` for JS snapshots.

    BFS over non-weak edges from the user roots (distance 1), then from the root (at
    ``BASE_SYSTEM_DISTANCE`` if there were user roots, else 0). The JS filter skips
    ``sloppy_function_map`` of ``system / NativeContext``, descriptor links of ``(map
    descriptors)`` and the first edge of each WeakMap ephemeron pair. Also returns the BFS parent
    edge of every node (-1 for none) when ``want_via`` is set."""
    n = first.shape[0] - 1
    dist = np.full(n, NO_DISTANCE, dtype=np.int32)
    via = np.full(n if want_via else 0, -1, dtype=np.int64)
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
            for e in range(np.int64(first[v]), np.int64(first[v + 1])):
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
                if want_via:
                    via[w] = e
                queue[qlen] = w
                qlen += 1
    return dist, via


@njit(cache=True, nogil=True, boundscheck=False)
def edge_sources(first):
    """Source ordinal of every edge."""
    n = first.shape[0] - 1
    src = np.empty(np.int64(first[n]), dtype=np.uint32)
    for v in range(n):
        for e in range(np.int64(first[v]), np.int64(first[v + 1])):
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


@njit(cache=True, nogil=True, boundscheck=False)
def class_aggregates(keys, nkeys, sizes, dist, with_distance):
    """Per class key: count, shallow size and min distance of the nodes with size > 0."""
    cnt = np.zeros(nkeys, dtype=np.int64)
    tot = np.zeros(nkeys, dtype=np.float64)
    dmin = np.full(nkeys, 2**62, dtype=np.int64)
    for k in range(keys.shape[0]):
        sz = sizes[k]
        if sz == 0:
            continue
        c = keys[k]
        cnt[c] += 1
        tot[c] += sz
        if with_distance and dist[k] < dmin[c]:
            dmin[c] = dist[k]
    return cnt, tot, dmin


@njit(cache=True, nogil=True, boundscheck=False)
def _source_of(first, e):
    # the node whose edge range holds e (first is non-decreasing)
    lo = 0
    hi = first.shape[0] - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if np.int64(first[mid]) <= e:
            lo = mid
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True, boundscheck=False)
def _view_distance(d):
    # DevTools getDistanceForRetainersView: unreachable retainers go last
    if d < 0:
        return np.int64(200_000_000)
    return np.int64(d)


@njit(cache=True, nogil=True, boundscheck=False)
def best_paths(targets, first, rfirst, redge, etype, dist, weak_t, root, max_len, memo):
    """For every target, follow the retainer with the smallest distance (DevTools' retaining path:
    weak edges and edges from the root hidden) until a node without such retainer. Returns
    ``(offsets, edges)``: the path of target i is ``edges[offsets[i]:offsets[i+1]]``, listed from
    the target outwards (edge index of each hop). ``memo`` (n, filled with -2) caches each node's
    chosen retaining edge across calls, so shared hops (a prototype with a million retainers) are
    scanned once."""
    nt = targets.shape[0]
    offsets = np.zeros(nt + 1, dtype=np.int64)
    out = np.empty(nt * 8 + 16, dtype=np.int64)
    used = 0
    for i in range(nt):
        v = np.int64(targets[i])
        steps = 0
        while steps < max_len:
            best_e = memo[v]
            if best_e == -2:  # not known yet: scan v's retainers once, remember the winner
                best_e = np.int64(-1)
                best_d = np.int64(2**62)
                rooted = False
                for j in range(np.int64(rfirst[v]), np.int64(rfirst[v + 1])):
                    e = np.int64(redge[j])
                    if etype[e] == weak_t:
                        continue
                    s = _source_of(first, e)
                    if s == root:
                        rooted = True
                        break
                    if s == v:
                        continue
                    d = _view_distance(dist[s])
                    if d < best_d:
                        best_d = d
                        best_e = e
                if rooted:  # held by the synthetic root itself (global, (GC roots), …): the path ends
                    best_e = np.int64(-1)
                memo[v] = best_e
            if best_e < 0:
                break
            s = _source_of(first, best_e)
            best_d = _view_distance(dist[s])
            # only walk towards the roots (a retainer at the same or a larger distance could cycle)
            if _view_distance(dist[v]) <= best_d and steps > 0:
                break
            if used == out.shape[0]:
                bigger = np.empty(out.shape[0] * 2, dtype=np.int64)
                bigger[:used] = out[:used]
                out = bigger
            out[used] = best_e
            used += 1
            steps += 1
            v = s
        offsets[i + 1] = used
    return offsets, out[:used]


@njit(cache=True, nogil=True, boundscheck=False)
def path_signatures(offsets, pedges, first, etype, ename, cls, element_t, hidden_t, numeric, depth):
    """A 64-bit hash per path (of its ``depth`` hops nearest the target; all with ``depth`` 0),
    over (edge type, edge name with element/hidden indices and numeric names dropped, class of the
    source). ``numeric[s]`` is 1 for strings that are plain numbers (hash-table slots)."""
    n = offsets.shape[0] - 1
    out = np.empty(n, dtype=np.uint64)
    P = np.uint64(0x100000001B3)
    for i in range(n):
        h = np.uint64(0xCBF29CE484222325)
        lo = offsets[i]
        hi = min(offsets[i + 1], lo + depth) if depth > 0 else offsets[i + 1]
        for j in range(lo, hi):
            e = pedges[j]
            t = etype[e]
            if t == element_t or t == hidden_t or numeric[ename[e]] != 0:
                nm = np.uint64(0xFFFFFFFF)
            else:
                nm = np.uint64(ename[e])
            s = _source_of(first, e)
            h = (h ^ np.uint64(t)) * P
            h = (h ^ nm) * P
            h = (h ^ np.uint64(cls[s])) * P
        h = (h ^ np.uint64(hi - lo)) * P
        out[i] = h
    return out


@njit(cache=True, nogil=True, boundscheck=False)
def dom_state(first, etype, to, ntype, detachedness, native_t, hidden_t, weak_t):
    """DevTools ``propagateDOMState``: embedder (native) nodes inherit attached/detached state from
    native parents (over non-hidden, non-weak edges; attached wins). Returns 1 for the nodes
    DevTools renames to ``Detached <name>``."""
    n = ntype.shape[0]
    state = detachedness.astype(np.uint8)
    visited = np.zeros(n, dtype=np.uint8)
    renamed = np.zeros(n, dtype=np.uint8)
    att = np.empty(n, dtype=np.uint32)
    det = np.empty(n, dtype=np.uint32)
    na = 0
    nd = 0
    for k in range(n):
        s = detachedness[k]
        if s == 0 or visited[k]:
            continue
        if ntype[k] != native_t:
            visited[k] = 1
            continue
        state[k] = s
        if s == 1:
            att[na] = k
            na += 1
        elif s == 2:
            renamed[k] = 1
            det[nd] = k
            nd += 1
        visited[k] = 1
    for phase in range(2):
        while (na if phase == 0 else nd) > 0:
            if phase == 0:
                na -= 1
                v = att[na]
                new = 1
            else:
                nd -= 1
                v = det[nd]
                if state[v] == 1:
                    continue
                new = 2
            for e in range(np.int64(first[v]), np.int64(first[v + 1])):
                t = etype[e]
                if t == hidden_t or t == weak_t:
                    continue
                w = to[e]
                if visited[w]:
                    continue
                visited[w] = 1
                if ntype[w] != native_t:
                    continue
                state[w] = new
                if new == 1:
                    att[na] = w
                    na += 1
                else:
                    renamed[w] = 1
                    det[nd] = w
                    nd += 1
    return renamed


@njit(cache=True, nogil=True, boundscheck=False)
def top_k(values, k, ntype, skip_type, root):
    """Indices of the ``k`` largest ``values`` (ties: lower index first), skipping nodes of type
    ``skip_type`` and the root; no n-sized temporaries."""
    n = values.shape[0]
    idx = np.full(k, -1, dtype=np.int64)
    val = np.full(k, -1.0, dtype=np.float64)
    cnt = 0
    lo = -1.0  # smallest value kept once full
    for i in range(n):
        if i == root or ntype[i] == skip_type:
            continue
        v = values[i]
        if cnt == k and v <= lo:
            continue
        # insert keeping val sorted descending
        j = cnt if cnt < k else k - 1
        while j > 0 and val[j - 1] < v:
            if j < k:
                val[j] = val[j - 1]
                idx[j] = idx[j - 1]
            j -= 1
        val[j] = v
        idx[j] = i
        if cnt < k:
            cnt += 1
        lo = val[cnt - 1] if cnt == k else -1.0
    return idx[:cnt]


def warm_up() -> None:
    """Compile (or load from numba's cache) every kernel on a tiny graph: run on a thread while a
    snapshot is read, and once by the benchmark so that compilation is never measured."""
    u32 = np.uint32
    first = np.array([0, 1, 1], dtype=u32)
    to = np.array([1], dtype=u32)
    et = np.array([0], dtype=np.uint8)
    en = np.array([0], dtype=u32)
    nt = np.array([0, 0], dtype=np.uint8)
    nn = np.array([0, 0], dtype=u32)
    ids = np.array([1, 3], dtype=u32)
    eph = np.full(1, -1, dtype=np.int64)
    out = np.empty(3, dtype=u32)
    first_edges(np.array([1, 0], dtype=u32), out)
    page = mark_page_owned(first, et, to, np.array([0], dtype=u32), 6)
    dom_state(first, et, to, nt, np.array([0, 0], dtype=u32), 8, 4, 6)
    ess = essential_mask(first, et, en, to, ids, page, eph, 3, 6, 5, 0)
    rf = np.zeros(3, dtype=u32)
    ess, total = essential_reverse_count(first, et, en, to, ids, page, eph, 3, 6, 5, 0, rf)
    rs = np.empty(total, dtype=u32)
    reverse_fill(first, to, ess, rf, rs, False)
    reverse_count(to, np.empty(0, np.uint8), np.zeros(3, dtype=u32))
    sizes = np.array([0, 8], dtype=u32)
    adjusted_self_sizes(first, nt, nn, et, to, sizes.copy(), np.zeros(16, np.uint8), 8, -1, 6, 9, 0)
    dom, order, _, _ = dominators(first, to, ess, 0, rf, rs)
    ret = retained_sizes(dom, order, sizes)
    cf, kids = dominated_csr(dom, 0)
    keys = np.array([0, 1], dtype=u32)
    class_retained(cf, kids, keys, 2, sizes, ret, 0, np.empty(0, np.uint8))
    dist, _ = distances(first, et, en, to, nt, nn, 0, np.array([1], dtype=u32), 6, 1, 4, 3, 0, 1, -1, -1, -1,
                        eph, 0, False)
    class_aggregates(keys, 2, sizes, dist, True)
    top_k(ret, 1, nt, 9, 0)
    mark_edge_names(et, en, 3, 1)


