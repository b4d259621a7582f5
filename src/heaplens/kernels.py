"""The compiled loops of the snapshot reader (C, in ``_kernels.c``) and their Python glue.

Every loop that touches every byte or every node is here. The C functions take buffers and plain
integers, release the GIL (so two threads parse two chunks at once), never raise on malformed
input and never leave their buffers: they return a status code and the byte offset where they
stopped, and :mod:`heaplens.snapshot.reader` turns a bad status into a one-line error.
"""

from __future__ import annotations

import numpy as np

from ._kernels import (  # noqa: F401  (re-exported)
    ERR_BYTE,
    ERR_CONTROL,
    ERR_EOF,
    ERR_NUMBER,
    ERR_SPACE,
    ERR_TOO_MANY,
    MAX_WS_RUN,
    OK_CHUNK,
    OK_END,
    count_byte,
    count_until_close,
    edge_targets,
    first_at_least,
    find_byte,
    fnv1a,
    group_fill,
    group_masks,
    group_sums,
    named_edges_in_range,
    node_class_ids,
    parse_uint_array,
    remap_ids,
    scan_strings,
    skip_value,
    skip_ws,
    skip_ws_back,
)


def group_pairs(types: np.ndarray, names: np.ndarray, sizes: np.ndarray, nstrings: int):
    """Count and self-size sum per distinct (type, name index) pair of nodes.

    No hashing, no sort: per name the bit set of its types, a dense slot per (name, type) from prefix
    sums of the popcounts, then one pass adding up. Returns ``(pair_type, pair_name, pair_count,
    pair_size)`` in name-then-type order. ``types`` must be < 32 and ``names`` < ``nstrings``.
    """
    types = np.ascontiguousarray(types, dtype=np.uint8)
    names = np.ascontiguousarray(names, dtype=np.uint32)
    sizes = np.ascontiguousarray(sizes)
    if sizes.dtype not in (np.uint32, np.uint64):
        sizes = sizes.astype(np.uint64)
    masks = np.zeros(nstrings, dtype=np.uint32)
    if group_masks(types, names, masks) != 0:
        raise ValueError("group_pairs: a type or name index is out of range")
    per_name = np.bitwise_count(masks) if hasattr(np, "bitwise_count") else _popcount(masks)
    base = np.zeros(nstrings + 1, dtype=np.int64)
    np.cumsum(per_name, out=base[1:])
    total = int(base[-1])
    pair_type = np.empty(total, dtype=np.uint8)
    pair_name = np.empty(total, dtype=np.uint32)
    group_fill(masks, base, pair_type, pair_name)
    pair_count = np.zeros(total, dtype=np.int64)
    pair_size = np.zeros(total, dtype=np.int64)
    group_sums(types, names, sizes, sizes.itemsize, masks, base, pair_count, pair_size)
    return pair_type, pair_name, pair_count, pair_size


def _popcount(a: np.ndarray) -> np.ndarray:  # numpy < 2.0
    a = a.astype(np.uint32)
    a = a - ((a >> 1) & 0x55555555)
    a = (a & 0x33333333) + ((a >> 2) & 0x33333333)
    return (((a + (a >> 4)) & 0x0F0F0F0F) * 0x01010101 & 0xFFFFFFFF) >> 24
