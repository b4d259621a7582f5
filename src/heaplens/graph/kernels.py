"""Graph kernels: CSR, essential edges, dominators, retained sizes, distances, retaining paths.

The loops are C (``heaplens._kernels``, the ``g_*`` functions, reached through :mod:`heaplens.kernels`:
without them every function here raises ``KernelsMissing``); this module checks the dtypes,
allocates the outputs with numpy and keeps the signatures the rest of heaplens uses. No numba:
the C extension loads in a millisecond and adds no memory (numba's import and first calls cost
~0.3–0.7 s and 115–150 MB per process).

All node references are ordinals (0 = the synthetic root). Edges are in file order, grouped by
source node; ``first[k]:first[k+1]`` are the edges of node ``k``.

The dominator kernel is a line-by-line port of DevTools' ``calculateDominatorsAndRetainedSizes``
(Lengauer–Tarjan, simple eval/link, iterative DFS and compress) so that the result — including
the treatment of nodes only reachable over weak edges and of unreachable cliques — is the same.
"""

from __future__ import annotations

import numpy as np

from ..kernels import compiled

C = compiled()  # heaplens._kernels, or a stand-in whose every use is a one-line error (no numpy path here)

NO_DISTANCE = -5
BASE_SYSTEM_DISTANCE = 100_000_000

# bits of the per-node flag byte
PAGE_OWNED = 1

_EMPTY_U8 = np.empty(0, dtype=np.uint8)


def _as(a, dtype) -> np.ndarray:
    """``a`` as a C-contiguous array of ``dtype`` (no copy when it already is one). Index arrays
    that were read as uint64 (a value did not fit 32 bits) must still fit uint32 here."""
    a = np.asarray(a)
    if a.dtype == dtype and a.flags.c_contiguous:
        return a
    if np.dtype(dtype) == np.uint32 and a.dtype.kind in "ui" and a.size and (
            int(a.max()) > 0xFFFFFFFF or int(a.min()) < 0):
        raise ValueError("heaplens graph kernels: an index does not fit 32 bits")
    return np.ascontiguousarray(a, dtype=dtype)


def _u32(a):
    return _as(a, np.uint32)


def _u8(a):
    return _as(a, np.uint8)


def _sizes(a) -> tuple[np.ndarray, int]:
    """Size arrays are uint32 or uint64 (the C loops take the width)."""
    a = np.asarray(a)
    if a.dtype not in (np.uint32, np.uint64) or not a.flags.c_contiguous:
        a = np.ascontiguousarray(a, dtype=np.uint64)
    return a, a.itemsize


def first_edges(edge_count, out):
    """Prefix sums of ``edge_count`` into ``out`` (uint32, length n+1): ``out[k]`` = node k's first
    edge. Returns the total (the caller checks it against the edge count and the dtype)."""
    ec = np.asarray(edge_count)
    if ec.dtype != np.uint32 or not ec.flags.c_contiguous:
        total = int(ec.sum(dtype=np.uint64))
        if total >= 2**32:
            return total
        ec = _u32(ec)
    return C.g_first_edges(ec, out)


def mark_page_owned(first, etype, to, starts, weak_t):
    """Nodes reachable over non-weak edges from ``starts`` (DevTools ``markPageOwnedNodes``)."""
    flags = np.zeros(len(first) - 1, dtype=np.uint8)
    C.g_mark_page_owned(first, _u8(etype), _u32(to), _u32(starts), int(weak_t), flags)
    return flags


def _ess(first, etype, ename, to, ids, page, eph_table, internal_t, weak_t, shortcut_t, root, rfirst):
    out = np.zeros(len(to), dtype=np.uint8)
    n_ess = C.g_essential(first, _u8(etype), _u32(ename), _u32(to), _u32(ids), _u8(page),
                          _as(eph_table, np.int64), int(internal_t), int(weak_t), int(shortcut_t), int(root),
                          out, rfirst)
    return out, n_ess


def essential_mask(first, etype, ename, to, ids, page, eph_table, internal_t, weak_t, shortcut_t, root):
    """One byte per edge: 1 if the edge counts for dominators (DevTools ``isEssentialEdge``):
    not weak, not the WeakMap table→value ephemeron edge, not a self edge, and outside the root
    not a shortcut and not an edge from a non-page-owned node into a page-owned one."""
    return _ess(first, etype, ename, to, ids, page, eph_table, internal_t, weak_t, shortcut_t, root,
                np.empty(0, np.uint32))[0]


def essential_reverse_count(first, etype, ename, to, ids, page, eph_table, internal_t, weak_t, shortcut_t,
                            root, rfirst):
    """:func:`essential_mask` and :func:`reverse_count` in one pass over the edges. Returns
    ``(mask, number of essential edges)``; ``rfirst`` (uint32, n+1, zeroed) gets the retainer offsets."""
    return _ess(first, etype, ename, to, ids, page, eph_table, internal_t, weak_t, shortcut_t, root, rfirst)


def reverse_count(to, ess, rfirst):
    """Fill ``rfirst`` (uint32, n+1, zeroed) with the start of each node's retainer list, counting
    the edges with ``ess[e] != 0`` (all edges if ``ess`` has length 0). Returns the total."""
    return C.g_reverse_count(_u32(to), _u8(ess), rfirst)


def reverse_fill(first, to, ess, rfirst, out, store_edge, vnum=None):
    """Second pass of the reverse CSR: ``out`` (uint32) gets, per target in edge order, the source
    ordinal (or the edge index with ``store_edge``; the source's DFS number ``vnum[ordinal + 1]``
    when ``vnum``, :func:`dominators_dfs`'s ``semi``, is given). ``rfirst`` is the fill cursor and
    is restored."""
    C.g_reverse_fill(first, _u32(to), _u8(ess), rfirst, out, bool(store_edge),
                     np.empty(0, np.uint32) if vnum is None else vnum)


def adjusted_self_sizes(first, ntype, nname, etype, to, sizes, owned_type_mask, native_t, ext_string_s,
                        weak_t, synthetic_t, root):
    """DevTools ``calculateShallowSizes``, in place on ``sizes`` (a uint32/uint64 copy of the self
    sizes): hidden/array nodes (and ``system / ExternalStringData`` natives) reachable from exactly
    one other owner have their size moved onto that owner. ``owned_type_mask[t]`` is 1 for the
    owned node types; ``ext_string_s`` is the string index of ``system / ExternalStringData``
    (-1 if absent). Returns False if a sum did not fit the dtype of ``sizes`` (then redo wider).

    DevTools pushes every self-owned node first; the result does not depend on the order, so the
    self-owned nodes are walked in node order and the stack holds only owned nodes."""
    if sizes.dtype not in (np.uint32, np.uint64) or not sizes.flags.c_contiguous:
        raise ValueError("adjusted_self_sizes: sizes must be a contiguous uint32 or uint64 array")
    return C.g_adjusted_sizes(first, _u8(ntype), _u32(nname), _u8(etype), _u32(to), sizes, sizes.itemsize,
                              _u8(owned_type_mask), int(native_t), int(ext_string_s), int(weak_t),
                              int(synthetic_t), int(root))


def dominators_dfs(first, to, ess, root, rfirst):
    """First half of :func:`dominators`: the DFS numbering (from the root, then from orphans with
    only weak retainers, then the still unvisited nodes directly under the root).
    Returns ``(parent, vertex, None, semi, scratch, n, n_weak_only, n_unreachable)`` (the third
    slot, DevTools' ``label``, is allocated by :func:`dominators_main`: the DFS does not need it)."""
    L = len(first)
    parent = np.zeros(L, dtype=np.uint32)
    vertex = np.zeros(L, dtype=np.uint32)
    semi = np.zeros(L, dtype=np.uint32)
    scratch = np.empty(L, dtype=np.uint32)  # DFS next-edge cursor, later the DFS parents / ancestors
    n, n_weak_only, n_unreachable = C.g_dominators_dfs(first, _u32(to), _u8(ess), int(root), rfirst, parent,
                                                       vertex, semi, scratch)
    return parent, vertex, None, semi, scratch, n, n_weak_only, n_unreachable


def dominators_main(root, rfirst, rsrc, parent, vertex, label, semi, scratch, n, numbered=False):
    """Second half of :func:`dominators`: semidominators, buckets, immediate dominators.

    The same steps as DevTools, but on DFS numbers instead of vertex ids (a relabelling: every
    array is indexed by the DFS number), which keeps the random accesses of eval/compress close
    together in memory; the forest ancestors share the DFS-parent array and the bucket heads
    reuse ``parent``. ``rsrc`` holds source ordinals, or DFS numbers with ``numbered`` (filled by
    :func:`reverse_fill` with ``vnum=semi``). ``rsrc``, ``parent``, ``semi`` and ``scratch`` are
    overwritten. Returns
    ``(dom, order)`` as node ordinals (views of ``label`` and ``vertex``)."""
    L = len(parent)
    if label is None:
        label = np.empty(L, dtype=np.uint32)
    bucket_next = np.zeros(L, dtype=np.uint32)
    C.g_dominators_main(rfirst, rsrc, parent, vertex, label, semi, scratch, bucket_next, int(n), bool(numbered))
    return label[:L - 1], vertex[:L - 1]


def dominators(first, to, ess, root, rfirst, rsrc):
    """Immediate dominators, exactly as DevTools computes them (Lengauer–Tarjan).

    Returns ``(dom, order, n_weak_only, n_unreachable)``: ``dom[k]`` is the ordinal of node k's
    immediate dominator (the root dominates itself), ``order`` the nodes in DFS order (root first;
    :func:`retained_sizes` sums sizes up the tree in reverse of it), and the counts of nodes
    reached only through weak-only retainers and of nodes still unreachable (attached directly
    under the root). ``rsrc`` is overwritten. Callers that want ``ess`` freed before the second
    half call the two halves themselves."""
    parent, vertex, label, semi, scratch, n, n_weak_only, n_unreachable = dominators_dfs(first, to, ess, root, rfirst)
    dom, order = dominators_main(root, rfirst, rsrc, parent, vertex, label, semi, scratch, n)
    return dom, order, n_weak_only, n_unreachable


def retained_sizes(dom, order, sizes):
    """Self sizes summed up the dominator tree in reverse DFS order (float64, like DevTools)."""
    sizes, w = _sizes(sizes)
    out = np.empty(len(dom), dtype=np.float64)
    C.g_retained_sizes(_u32(dom), _u32(order), sizes, w, out)
    return out


def dominated_csr(dom, root):
    """Children of every node in the dominator tree (DevTools ``buildDominatedNodes``)."""
    n = len(dom)
    cfirst = np.zeros(n + 1, dtype=np.uint32)
    kids = np.empty(max(n - 1, 0), dtype=np.uint32)
    C.g_dominated_csr(_u32(dom), int(root), cfirst, kids)
    return cfirst, kids


def class_retained(cfirst, kids, keys, nkeys, sizes, retained, root, mask):
    """Retained size per class key without double counting (DevTools
    ``calculateClassesRetainedSize``): a node counts unless a dominator ancestor with the same key
    (and a non-zero size) already counted. Nodes with size 0 are skipped; with a non-empty
    ``mask`` only nodes with ``mask[k] != 0`` count (DevTools' node filter)."""
    sizes, w = _sizes(sizes)
    out = np.zeros(int(nkeys), dtype=np.float64)
    C.g_class_retained(cfirst, kids, _u32(keys), sizes, w, _as(retained, np.float64), int(root), _u8(mask), out)
    return out


def class_aggregates(keys, nkeys, sizes, dist, with_distance):
    """Per class key: count, shallow size and min distance of the nodes with size > 0."""
    sizes, w = _sizes(sizes)
    cnt = np.zeros(int(nkeys), dtype=np.int64)
    tot = np.zeros(int(nkeys), dtype=np.float64)
    dmin = np.full(int(nkeys), 2**62, dtype=np.int64)
    C.g_class_aggregates(_u32(keys), sizes, w, _as(dist, np.int32), bool(with_distance), cnt, tot, dmin)
    return cnt, tot, dmin


def distances(first, etype, ename, to, ntype, nname, root, user_roots, weak_t, element_t, hidden_t,
              internal_t, hidden_node_t, array_node_t, native_context_s, sloppy_s, map_desc_s,
              eph_pair, n_pairs, want_via):
    """DevTools ``calculateDistances`` for JS snapshots.

    BFS over non-weak edges from the user roots (distance 1), then from the root (at
    ``BASE_SYSTEM_DISTANCE`` if there were user roots, else 0). The JS filter skips
    ``sloppy_function_map`` of ``system / NativeContext``, descriptor links of ``(map
    descriptors)`` and the first edge of each WeakMap ephemeron pair. Also returns the BFS parent
    edge of every node (-1 for none) when ``want_via`` is set."""
    n = len(first) - 1
    dist = np.full(n, NO_DISTANCE, dtype=np.int32)
    via = np.full(n if want_via else 0, -1, dtype=np.int64)
    C.g_distances(first, _u8(etype), _u32(ename), _u32(to), _u8(ntype), _u32(nname), int(root),
                  _u32(user_roots), int(weak_t), int(element_t), int(hidden_t), int(internal_t),
                  int(hidden_node_t), int(array_node_t), int(native_context_s), int(sloppy_s), int(map_desc_s),
                  _as(eph_pair, np.int64), int(n_pairs), dist, via)
    return dist, via


def edge_sources(first):
    """Source ordinal of every edge."""
    out = np.empty(int(first[-1]), dtype=np.uint32)
    C.g_edge_sources(first, out)
    return out


def mark_edge_names(etype, ename, t, nstrings):
    """1 for every string used as the name of an edge of type ``t``."""
    out = np.zeros(int(nstrings), dtype=np.uint8)
    C.g_mark_edge_names(_u8(etype), _u32(ename), int(t), out)
    return out


def best_paths(targets, first, rfirst, redge, etype, dist, weak_t, root, max_len, memo):
    """For every target, follow the retainer with the smallest distance (DevTools' retaining path:
    weak edges and edges from the root hidden) until a node without such retainer. Returns
    ``(offsets, edges)``: the path of target i is ``edges[offsets[i]:offsets[i+1]]``, listed from
    the target outwards (edge index of each hop). ``memo`` (int64, n, filled with -2) caches each
    node's chosen retaining edge across calls, so shared hops (a prototype with a million
    retainers) are scanned once."""
    targets = _as(targets, np.int64)
    nt = len(targets)
    max_len = int(max_len)
    offsets = np.zeros(nt + 1, dtype=np.int64)
    out = np.empty(nt * 8 + 16 + max_len, dtype=np.int64)
    i, used = 0, 0
    args = (first, rfirst, _u32(redge), _u8(etype), _as(dist, np.int32), int(weak_t), int(root), max_len, memo)
    while True:
        i, used = C.g_best_paths(targets, i, *args, offsets, out, used)
        if i >= nt:
            return offsets, out[:used]
        bigger = np.empty(len(out) * 2, dtype=np.int64)
        bigger[:used] = out[:used]
        out = bigger


def path_signatures(offsets, pedges, first, etype, ename, cls, element_t, hidden_t, numeric, depth):
    """A 64-bit hash per path (of its ``depth`` hops nearest the target; all with ``depth`` 0),
    over (edge type, edge name with element/hidden indices and numeric names dropped, class of the
    source). ``numeric[s]`` is 1 for strings that are plain numbers (hash-table slots)."""
    offsets = _as(offsets, np.int64)
    out = np.empty(max(len(offsets) - 1, 0), dtype=np.uint64)
    C.g_path_signatures(offsets, _as(pedges, np.int64), first, _u8(etype), _u32(ename), _u32(cls),
                        int(element_t), int(hidden_t), _u8(numeric), int(depth), out)
    return out


def dom_state(first, etype, to, ntype, detachedness, native_t, hidden_t, weak_t):
    """DevTools ``propagateDOMState``: embedder (native) nodes inherit attached/detached state from
    native parents (over non-hidden, non-weak edges; attached wins). Returns 1 for the nodes
    DevTools renames to ``Detached <name>``."""
    renamed = np.zeros(len(ntype), dtype=np.uint8)
    C.g_dom_state(first, _u8(etype), _u32(to), _u8(ntype), _u8(detachedness), int(native_t), int(hidden_t),
                  int(weak_t), renamed)
    return renamed


def top_k(values, k, ntype, skip_type, root):
    """Indices of the ``k`` largest ``values`` (ties: lower index first), skipping nodes of type
    ``skip_type`` and the root; no n-sized temporaries."""
    k = max(int(k), 0)
    idx = np.full(k, -1, dtype=np.int64)
    val = np.full(k, -1.0, dtype=np.float64)
    cnt = C.g_top_k(_as(values, np.float64), _u8(ntype), int(skip_type), int(root), idx, val)
    return idx[:cnt]


def pack_offsets(first):
    """CSR offsets as one byte per node (edge counts; 255 = look in the overflow list):
    ``(counts, big_nodes, big_counts)``. :func:`unpack_offsets` rebuilds ``first``."""
    small = np.empty(len(first) - 1, dtype=np.uint8)
    C.g_pack_counts(first, small)
    big = np.flatnonzero(small == 255)
    return small, big, first[big + 1] - first[big]


def unpack_offsets(packed):
    small, big, big_counts = packed
    counts = small.astype(np.uint32)
    counts[big] = big_counts
    first = np.empty(len(small) + 1, dtype=np.uint32)
    first[0] = 0
    np.cumsum(counts, dtype=np.uint32, out=first[1:])
    return first


def release_free_memory() -> None:
    """Give free memory inside the allocator's arenas back to the system (glibc ``malloc_trim``)."""
    C.malloc_trim()


_THRESHOLD_SET = False


def fixed_mmap_threshold(nbytes: int = 1 << 20) -> None:
    """Allocations of ``nbytes`` or more get an mmap of their own (glibc), once per process."""
    global _THRESHOLD_SET
    if not _THRESHOLD_SET:
        C.malloc_mmap_threshold(int(nbytes))
        _THRESHOLD_SET = True



def nearest_marked(dom, mark, root):
    """For every node, its nearest strict dominator-tree ancestor ``a`` with ``mark[a] != 0`` (the
    root when there is none; the root maps to itself). uint32, one O(n) pass."""
    dom = _u32(dom)
    out = np.empty(len(dom), dtype=np.uint32)
    C.g_nearest_marked(dom, _u8(mark), int(root), out)
    return out


def csr_slots(lo: np.ndarray, cnt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions ``lo[i] … lo[i] + cnt[i] - 1`` of every range ``i``, one after the other, and the range each
    belongs to: a set of nodes' edges (``first``) or retainers (``reverse``) gathered in one array pass."""
    cnt = np.asarray(cnt, dtype=np.int64)
    starts = np.asarray(lo, dtype=np.int64) - (np.cumsum(cnt) - cnt)
    slots = np.arange(int(cnt.sum()), dtype=np.int64) + np.repeat(starts, cnt)
    return slots, np.repeat(np.arange(len(cnt)), cnt)


def csr_rows(offsets: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`csr_slots` of whole rows: the slots of rows ``rows`` of a CSR ``offsets`` array (a node's edges in
    ``first``, its retainers in ``reverse``) and the position in ``rows`` each belongs to."""
    offsets = np.asarray(offsets)
    rows = np.asarray(rows, dtype=np.int64)
    lo = offsets[rows].astype(np.int64)
    return csr_slots(lo, offsets[rows + 1].astype(np.int64) - lo)
