"""Per-snapshot summaries: count and self-size sum per family.

A *family* is a (V8 node type, node name) pair — exactly the grouping of OpenClaw's
``heapsnapshot-delta.mjs``. The same totals per DevTools class name come from :meth:`Summary.by_class`.

Rows carry a 64-bit key built from the type name and a hash of the name's bytes, so two snapshots
(whose string tables differ) are joined without decoding every name; only displayed rows are decoded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .. import kernels as K
from ..snapshot.classes import NAMED_TYPES, normalize_object_name, type_class_label
from ..snapshot.reader import HeapSnapshot, read_snapshot
from ..snapshot.strings import StringTable, hash_text

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def unique_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(keys, return_index=True, return_inverse=True)`` by sorting.

    numpy 2's hash-based unique takes seconds on millions of random 64-bit keys; a sort does not.
    """
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    start = np.ones(len(sk), dtype=bool)
    if len(sk):
        start[1:] = sk[1:] != sk[:-1]
    group = np.cumsum(start) - 1
    inverse = np.empty(len(keys), dtype=np.int64)
    inverse[order] = group
    return sk[start], order[start], inverse


def union_keys(*arrays: np.ndarray) -> np.ndarray:
    """Sorted union of key arrays (each may hold repeats)."""
    k = np.sort(np.concatenate(arrays))
    if len(k) == 0:
        return k
    keep = np.ones(len(k), dtype=bool)
    keep[1:] = k[1:] != k[:-1]
    return k[keep]


def family_key(name_hash: np.ndarray, type_hash: np.ndarray | np.uint64) -> np.ndarray:
    """Combine a name hash and a type-name hash into one row key."""
    with np.errstate(over="ignore"):
        return name_hash ^ (np.asarray(type_hash, dtype=np.uint64) * _GOLDEN + np.uint64(0x632BE59BD9B4E019))


@dataclass
class FamilyTable:
    """Rows of a summary, one per family (``by == "family"``) or per class (``by == "class"``)."""

    by: str
    key: np.ndarray  # uint64, unique
    count: np.ndarray  # int64
    size: np.ndarray  # int64
    type_index: np.ndarray  # index into ``type_labels`` (uint8); int16 -1 in the class view
    name_ref: np.ndarray  # string index (uint32); in the class view int64, < 0 → extra[-ref - 1]
    type_labels: list[str]
    strings: StringTable
    extra: list[str] = field(default_factory=list)
    _order: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.key.shape[0])

    def type_of(self, row: int) -> str | None:
        t = int(self.type_index[row])
        return self.type_labels[t] if t >= 0 else None

    def name_of(self, row: int) -> str:
        ref = int(self.name_ref[row])
        return self.strings[ref] if ref >= 0 else self.extra[-ref - 1]

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Row index of each key, -1 where this table has no such row."""
        if self._order is None:
            self._order = np.argsort(self.key, kind="stable")
        sk = self.key[self._order]
        pos = np.searchsorted(sk, keys)
        out = np.full(len(keys), -1, dtype=np.int64)
        if len(sk):
            np.minimum(pos, len(sk) - 1, out=pos)
            hit = sk[pos] == keys
            out[hit] = self._order[pos[hit]]
        return out

    def as_dict(self) -> dict[tuple[str | None, str], tuple[int, int]]:
        """All rows decoded: {(type, name): (count, size)}. For tests and small snapshots."""
        out: dict[tuple[str | None, str], tuple[int, int]] = {}
        for r in range(len(self)):
            k = (self.type_of(r), self.name_of(r))
            c, s = out.get(k, (0, 0))
            out[k] = (c + int(self.count[r]), s + int(self.size[r]))
        return out


@dataclass
class Summary:
    """Totals of one snapshot file."""

    path: str
    file_size: int
    node_count: int
    edge_count: int
    total_size: int
    extra_native_bytes: int
    families: FamilyTable
    snapshot: HeapSnapshot
    _classes: FamilyTable | None = None

    def table(self, by: str) -> FamilyTable:
        return self.by_class() if by == "class" else self.families

    def by_class(self) -> FamilyTable:
        if self._classes is None:
            self._classes = _class_table(self.families)
        return self._classes

    def close(self) -> None:
        self.snapshot.close()


def summarize(path: str | os.PathLike, progress: Callable[[int], None] | None = None) -> Summary:
    """Read only what a summary needs (three node columns and the string index) and group it."""
    def group(cols):
        # runs on a worker thread while the edges and strings are read
        names = cols["name"]
        bound = int(names.max()) + 1 if names.size else 0
        total = int(cols["self_size"].sum(dtype=np.uint64))
        return total, K.group_pairs(cols["type"], names, cols["self_size"], bound)

    snap = read_snapshot(path, node_fields=("type", "name", "self_size"), progress=progress, nodes_task=group,
                         keep_nodes=False)
    total, (ptype, pname, pcount, psize) = snap.nodes_task_result
    snap.nodes_task_result = None
    type_hash = np.array([hash_text(t) for t in snap.layout.node_types], dtype=np.uint64)
    key = family_key(snap.strings.hashes[pname], type_hash[ptype])
    fam = FamilyTable(
        by="family",
        key=key,
        count=pcount,
        size=psize,
        type_index=ptype,
        name_ref=pname,
        type_labels=list(snap.layout.node_types),
        strings=snap.strings,
    )
    return Summary(
        path=snap.path,
        file_size=snap.file_size,
        node_count=snap.node_count,
        edge_count=snap.edge_count,
        total_size=total,
        extra_native_bytes=snap.extra_native_bytes,
        families=fam,
        snapshot=snap,
    )


def _class_table(fam: FamilyTable) -> FamilyTable:
    """Fold family rows into DevTools classes (see :mod:`heaplens.snapshot.classes`)."""
    n = len(fam)
    name_ref = fam.name_ref.astype(np.int64)
    key = fam.strings.hashes[np.maximum(fam.name_ref, 0)].copy()
    extra: list[str] = []
    extra_ref: dict[str, int] = {}

    def ref_of(label: str) -> int:
        if label not in extra_ref:
            extra.append(label)
            extra_ref[label] = -len(extra)
        return extra_ref[label]

    named_rows = np.zeros(n, dtype=bool)
    for t, tname in enumerate(fam.type_labels):
        rows = fam.type_index == t
        if not rows.any():
            continue
        label = type_class_label(tname)
        if label is None:
            named_rows |= rows
            continue
        name_ref[rows] = ref_of(label)
        key[rows] = hash_text(label)
    # "<div id=…>" style names are cut to "<div>"; find them by their first raw byte.
    for r in np.flatnonzero(named_rows):
        raw = fam.strings.raw(int(fam.name_ref[r]))[:10]
        if raw[:1] == b"<" or raw == b"Detached <":
            full = fam.name_of(int(r))
            cut = normalize_object_name(full)
            if cut != full:
                name_ref[r] = ref_of(cut)
                key[r] = hash_text(cut)
    uniq, first, inv = unique_keys(key)
    count = np.bincount(inv, weights=fam.count, minlength=len(uniq)).round().astype(np.int64)
    size = np.bincount(inv, weights=fam.size, minlength=len(uniq)).round().astype(np.int64)
    return FamilyTable(
        by="class",
        key=uniq,
        count=count,
        size=size,
        type_index=np.full(len(uniq), -1, dtype=np.int16),
        name_ref=name_ref[first],
        type_labels=fam.type_labels,
        strings=fam.strings,
        extra=extra,
    )


__all__ = ["FamilyTable", "Summary", "summarize", "NAMED_TYPES"]
