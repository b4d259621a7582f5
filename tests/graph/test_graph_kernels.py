"""The C graph kernels on small synthetic graphs: buffer growth, offset packing, dtype checks."""

from __future__ import annotations

import numpy as np
import pytest

from heaplens.graph import kernels as GK


def _chain(n: int):
    """0 → 1 → … → n-1, one property edge each (type 2)."""
    first = np.minimum(np.arange(n + 1, dtype=np.uint32), n - 1).astype(np.uint32)
    to = np.arange(1, n, dtype=np.uint32)
    etype = np.full(n - 1, 2, dtype=np.uint8)
    return first, to, etype


def test_best_paths_grow_their_buffer():
    n = 200
    first, to, etype = _chain(n)
    rfirst = np.zeros(n + 1, dtype=np.uint32)
    redge = np.empty(GK.reverse_count(to, np.empty(0, np.uint8), rfirst), dtype=np.uint32)
    GK.reverse_fill(first, to, np.empty(0, np.uint8), rfirst, redge, True)
    dist = np.arange(n, dtype=np.int32)
    targets = np.arange(1, n)
    memo = np.full(n, -2, dtype=np.int64)
    off, edges = GK.best_paths(targets, first, rfirst, redge, etype, dist, 6, 0, 1000, memo)
    # the path of t climbs to node 1 (held by the root itself): t - 1 hops, edge e enters node e + 1
    assert np.array_equal(np.diff(off), targets - 1)
    assert len(edges) == (n - 1) * (n - 2) // 2 > len(targets) * 8 + 16 + 1000
    t = 150
    assert edges[off[t - 1]:off[t]].tolist() == list(range(t - 1, 0, -1))


def test_offsets_packed_and_restored():
    counts = np.array([0, 3, 254, 255, 256, 70_000, 1, 0], dtype=np.uint32)
    first = np.zeros(len(counts) + 1, dtype=np.uint32)
    first[1:] = np.cumsum(counts)
    packed = GK.pack_offsets(first)
    assert packed[0].dtype == np.uint8 and packed[1].tolist() == [3, 4, 5]
    assert np.array_equal(GK.unpack_offsets(packed), first)


def test_dominators_of_a_diamond():
    # 0 → 1, 0 → 2, 1 → 3, 2 → 3, 3 → 4: idom(3) = 0, idom(4) = 3
    first = np.array([0, 2, 3, 4, 5, 5], dtype=np.uint32)
    to = np.array([1, 2, 3, 3, 4], dtype=np.uint32)
    ess = np.ones(5, dtype=np.uint8)
    rfirst = np.zeros(6, dtype=np.uint32)
    rsrc = np.empty(GK.reverse_count(to, ess, rfirst), dtype=np.uint32)
    GK.reverse_fill(first, to, ess, rfirst, rsrc, False)
    dom, order, weak_only, unreachable = GK.dominators(first, to, ess, 0, rfirst, rsrc)
    assert dom.tolist() == [0, 0, 0, 0, 3]
    assert order[0] == 0 and sorted(order.tolist()) == [0, 1, 2, 3, 4]
    assert (weak_only, unreachable) == (0, 0)
    sizes = np.array([0, 10, 20, 30, 40], dtype=np.uint32)
    assert GK.retained_sizes(dom, order, sizes).tolist() == [100, 10, 20, 70, 40]


def test_index_arrays_must_fit_32_bits():
    with pytest.raises(ValueError, match="32 bits"):
        GK.mark_edge_names(np.zeros(1, np.uint8), np.array([2**33], dtype=np.uint64), 0, 4)
    # uint64 columns whose values fit are accepted (converted)
    out = GK.mark_edge_names(np.zeros(2, np.uint8), np.array([1, 3], dtype=np.uint64), 0, 4)
    assert out.tolist() == [0, 1, 0, 1]
