"""Id-based diff of two snapshots of one process (DevTools' Comparison view, plus retained sizes).

V8 keeps an object's id for its whole life within one isolate, so for two snapshots of the same
process: objects only in the later one were allocated in between and survived ("new"), objects only
in the earlier one were freed. An id in both is the same object only by ``graph.identity``'s rule: V8
gives an object allocated into old space where one died since the last snapshot the dead one's id (a
script, its code, a module's strings), so such an id is a freed object and a new one. Per DevTools
class name: new count/size, freed count/size, net, and the retained size of the new survivors (no
double counting, DevTools' class filter semantics). As in DevTools' Comparison view, an object is
matched within its class (one whose class changed counts as freed from the old class and new in the
new one: a class's net count is its change in count), and sizes are DevTools' shallow sizes
(hidden/array parts moved onto their owner); nodes of size 0 are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UsageError
from ..graph import HeapGraph, read_for_graph
from ..graph.identity import Identities, kept_mask, old_mask
from ..graph.paths import aggregate
from ..snapshot.files import find_series, parse_name


@dataclass
class IdRow:
    name: str
    new_count: int
    new_size: int
    freed_count: int
    freed_size: int
    new_retained: int
    retainers: object | None = None  # heaplens.graph.paths.Aggregation

    @property
    def net_count(self) -> int:
        return self.new_count - self.freed_count

    @property
    def net_size(self) -> int:
        return self.new_size - self.freed_size


@dataclass
class IdDiffResult:
    before: str
    after: str
    pid: int | None
    node_count_before: int
    node_count_after: int
    new_total: int
    freed_total: int
    carried: int  # objects in both (the same id, the same object, the same class)
    new_size_total: int
    freed_size_total: int
    top: int
    min_kb: float
    rows: list[IdRow]
    matching: int
    warnings: list[str] = field(default_factory=list)
    graph: HeapGraph | None = None  # the later snapshot (open while retainers are rendered)

    def close(self) -> None:
        if self.graph is not None:
            self.graph.snap.close()
            self.graph = None


def same_pid(before, after) -> tuple[bool | None, int | None]:
    """(True/False, pid) when both names carry a PID, (None, None) when one does not."""
    bn, an = parse_name(before), parse_name(after)
    if bn is None or an is None:
        return None, None
    return (bn.pid == an.pid and bn.tid == an.tid), an.pid


def lane_pair(lane_dir, pid=None, tid=None) -> tuple[str, str, int]:
    s = find_series(lane_dir, pid, tid)
    return str(s.first.path), str(s.last.path), s.pid


def _class_names(g: HeapGraph) -> tuple[np.ndarray, list[str]]:
    """Per node a dense index into a list of DevTools class names (by text, not string index)."""
    cids = g.node_class_ids()
    uniq, inv = np.unique(cids, return_inverse=True)
    names = [g.classes.name(int(c)) for c in uniq]
    return inv.reshape(-1).astype(np.int64), names


def _unmatched(keys: np.ndarray, live: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Per node: live and not paired with an equal key of ``other`` (multiset difference; of equal
    keys, the first ones in node order are paired)."""
    other = np.sort(other)
    idx = np.flatnonzero(live)
    k = keys[idx]
    order = np.argsort(k, kind="stable")
    ks = k[order]
    run_start = np.searchsorted(ks, ks, side="left")
    rank = np.arange(len(ks)) - run_start
    have = np.searchsorted(other, ks, side="right") - np.searchsorted(other, ks, side="left")
    out = np.zeros(len(keys), dtype=bool)
    out[idx[order[rank >= have]]] = True
    return out


def id_diff(before, after, *, top: int = 30, min_kb: float = 64.0, progress=None,
            keep_graph: bool = False) -> IdDiffResult:
    for p in (before, after):
        if Path(p).is_dir():
            raise UsageError(f"{p}: is a directory (use --lane-dir {p} to pick snapshots from it)")
    warnings: list[str] = []
    same, pid = same_pid(before, after)
    # the earlier snapshot: ids, DevTools shallow sizes and class names, then closed
    with read_for_graph(before, locations=False, progress=progress(before) if progress else None) as sb:
        gb = HeapGraph(sb, consume=True, dominators=False)
        ids_b = gb.ids.copy()
        size_b = gb.sizes.astype(np.uint64)
        cls_b, names_b = _class_names(gb)
        ident_b = Identities.of_graph(gb)
        count_b = sb.node_count
        del gb
    sa = read_for_graph(after, progress=progress(after) if progress else None)
    try:
        g = HeapGraph(sa, consume=True)
        cls_a, names_a = _class_names(g)
        # one name table for both snapshots
        names = list(dict.fromkeys(names_a + names_b))
        index = {n: i for i, n in enumerate(names)}
        map_a = np.array([index[n] for n in names_a], dtype=np.int64)
        map_b = np.array([index[n] for n in names_b], dtype=np.int64)
        ka, kb = map_a[cls_a], map_b[cls_b]
        nk = len(names)
        # the same object in both (graph.identity), then, as DevTools does, matched per class among nodes
        # with a size, one to one (duplicates too)
        old = old_mask(g, ident_b.sorted())
        kept = kept_mask(ident_b, g, old)
        del ident_b
        live_a, live_b = g.sizes > 0, size_b > 0
        both_a, both_b = live_a & old, live_b & kept
        key_a = (ka.astype(np.uint64) << np.uint64(32)) | g.ids.astype(np.uint64)
        key_b = (kb.astype(np.uint64) << np.uint64(32)) | ids_b.astype(np.uint64)
        new = (live_a & ~old) | _unmatched(key_a, both_a, key_b[both_b])
        freed = (live_b & ~kept) | _unmatched(key_b, both_b, key_a[both_a])
        del key_a, key_b, old, kept, both_a, both_b
        overlap = int(live_a.sum() - new.sum())
        if same is None and count_b and overlap < 0.2 * min(int(live_b.sum()), int(live_a.sum())):
            warnings.append(f"only {overlap:,} objects are in both snapshots: they probably come from "
                            "different processes, so 'new' and 'freed' mean little")
        new_cnt = np.bincount(ka[new], minlength=nk)
        new_sz = np.bincount(ka[new], weights=g.sizes[new].astype(np.float64), minlength=nk)
        fr_cnt = np.bincount(kb[freed], minlength=nk)
        fr_sz = np.bincount(kb[freed], weights=size_b[freed].astype(np.float64), minlength=nk)
        new_ret = g.retained_by(ka.astype(np.uint32), nk, new)
        g.new_mask = new
        g.id_class = ka
        g.id_class_names = names
        floor = min_kb * 1024
        net = new_sz - fr_sz
        cand = np.flatnonzero((new_cnt > 0) | (fr_cnt > 0))
        keep = cand[(net[cand] >= floor) | (new_ret[cand] >= floor)]
        order = keep[np.lexsort((-new_ret[keep], -net[keep]))]
        rows = [IdRow(names[k], int(new_cnt[k]), int(new_sz[k]), int(fr_cnt[k]), int(fr_sz[k]), int(new_ret[k]))
                for k in order[:top]]
        result = IdDiffResult(
            before=str(before), after=str(after), pid=pid, node_count_before=count_b, node_count_after=g.n,
            new_total=int(new.sum()), freed_total=int(freed.sum()), carried=overlap,
            new_size_total=int(new_sz.sum()), freed_size_total=int(fr_sz.sum()), top=top, min_kb=min_kb,
            rows=rows, matching=len(keep), warnings=warnings, graph=g if keep_graph else None)
    finally:
        if not keep_graph:
            sa.close()
    return result


def add_retainers(result: IdDiffResult, rows: int = 5, chains: int = 3) -> None:
    """Aggregate the retaining paths of the new instances of the top ``rows`` classes."""
    g = result.graph
    if g is None:
        raise ValueError("id_diff(..., keep_graph=True) is needed for retainers")
    names = g.id_class_names
    index = {n: i for i, n in enumerate(names)}
    for row in result.rows[:rows]:
        k = index[row.name]
        targets = np.flatnonzero(g.new_mask & (g.id_class == k))
        row.retainers = aggregate(g, targets, row.name, top=chains)
