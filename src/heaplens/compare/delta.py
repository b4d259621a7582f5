"""The two-snapshot delta and the multi-interval trend, as plain result models for the renderers."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..errors import UsageError
from ..snapshot.files import Series, SnapshotName, find_series, parse_name
from .summary import FamilyTable, Summary, summarize, union_keys

BY_CHOICES = ("family", "class")


@dataclass
class SnapshotInfo:
    path: str
    pid: int | None
    tid: int | None
    seq: int | None
    stamp: str | None
    node_count: int
    edge_count: int
    self_size_total: int
    file_size: int

    @classmethod
    def of(cls, summary: Summary, name: SnapshotName | None) -> "SnapshotInfo":
        return cls(
            path=summary.path,
            pid=name.pid if name else None,
            tid=name.tid if name else None,
            seq=name.seq if name else None,
            stamp=name.stamp if name else None,
            node_count=summary.node_count,
            edge_count=summary.edge_count,
            self_size_total=summary.total_size,
            file_size=summary.file_size,
        )


@dataclass
class SeriesInfo:
    lane_dir: str
    pid: int
    tid: int
    snapshots: int
    files: list[str]
    other_pids: dict[int, int]

    @classmethod
    def of(cls, s: Series) -> "SeriesInfo":
        return cls(
            lane_dir=str(s.lane_dir),
            pid=s.pid,
            tid=s.tid,
            snapshots=len(s.files),
            files=[str(f.path) for f in s.files],
            other_pids=dict(s.other_pids),
        )


@dataclass
class DeltaRow:
    type: str | None  # V8 node type; None in the class view
    name: str
    count_before: int
    count_after: int
    size_before: int
    size_after: int
    key: int | None = None  # the family key (FamilyTable.key): finds the same row in other snapshots

    @property
    def count_delta(self) -> int:
        return self.count_after - self.count_before

    @property
    def size_delta(self) -> int:
        return self.size_after - self.size_before


@dataclass
class DiffResult:
    by: str
    before: SnapshotInfo
    after: SnapshotInfo
    top: int
    min_kb: float
    rows: list[DeltaRow]
    matching: int  # rows that passed the filter before the top-N cut
    size_delta_total: int
    count_delta_total: int
    series: SeriesInfo | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class TrendRow:
    type: str | None
    name: str
    sizes: list[int]  # per snapshot
    counts: list[int]

    @property
    def size_deltas(self) -> list[int]:
        return [b - a for a, b in zip(self.sizes, self.sizes[1:])]

    @property
    def count_deltas(self) -> list[int]:
        return [b - a for a, b in zip(self.counts, self.counts[1:])]

    @property
    def size_delta(self) -> int:
        return self.sizes[-1] - self.sizes[0]

    @property
    def count_delta(self) -> int:
        return self.counts[-1] - self.counts[0]


@dataclass
class TrendResult:
    by: str
    snapshots: list[SnapshotInfo]
    top: int
    min_kb: float
    rows: list[TrendRow]
    matching: int
    series: SeriesInfo | None = None
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------


def _join(tables: Sequence[FamilyTable], keys: np.ndarray):
    """Per table: row index of each key (-1 when absent), count and size (0 when absent)."""
    idx, counts, sizes = [], [], []
    for t in tables:
        r = t.lookup(keys)
        hit = r >= 0
        c = np.zeros(len(keys), dtype=np.int64)
        s = np.zeros(len(keys), dtype=np.int64)
        c[hit] = t.count[r[hit]]
        s[hit] = t.size[r[hit]]
        idx.append(r)
        counts.append(c)
        sizes.append(s)
    return idx, counts, sizes


def _label(tables: Sequence[FamilyTable], idx: list[np.ndarray], k: int) -> tuple[str | None, str]:
    """Type and name of joined row ``k``, from the latest table that has it."""
    for t, r in zip(reversed(tables), reversed(idx)):
        if r[k] >= 0:
            return t.type_of(int(r[k])), t.name_of(int(r[k]))
    raise AssertionError("row in no table")


def _rank(size_delta: np.ndarray, count_delta: np.ndarray, selected: np.ndarray) -> np.ndarray:
    """Indices of ``selected`` rows, largest size growth first, ties by count growth."""
    sel = np.flatnonzero(selected)
    order = np.lexsort((-count_delta[sel], -size_delta[sel]))
    return sel[order]


def delta(before: Summary, after: Summary, *, by: str = "family", top: int = 30, min_kb: float = 64,
          before_name: SnapshotName | None = None, after_name: SnapshotName | None = None) -> DiffResult:
    tb, ta = before.table(by), after.table(by)
    min_bytes = min_kb * 1024
    if min_bytes > 0:
        # growth >= min_bytes > 0 needs at least that much in the later snapshot: join only those
        # rows (a few thousand, not millions) — less time and memory than the full union
        keys = np.sort(ta.key[ta.size >= min_bytes])
    else:
        keys = union_keys(tb.key, ta.key)
    idx, counts, sizes = _join((tb, ta), keys)
    sd = sizes[1] - sizes[0]
    cd = counts[1] - counts[0]
    order = _rank(sd, cd, sd >= min_bytes)
    rows = []
    for k in order[:top]:
        typ, name = _label((tb, ta), idx, int(k))
        rows.append(DeltaRow(typ, name, int(counts[0][k]), int(counts[1][k]), int(sizes[0][k]), int(sizes[1][k]),
                             key=int(keys[k])))
    return DiffResult(
        by=by,
        before=SnapshotInfo.of(before, before_name),
        after=SnapshotInfo.of(after, after_name),
        top=top,
        min_kb=min_kb,
        rows=rows,
        matching=int(len(order)),
        size_delta_total=after.total_size - before.total_size,
        count_delta_total=after.node_count - before.node_count,
    )


def trend(summaries: Sequence[Summary], *, by: str = "family", top: int = 30, min_kb: float = 64) -> TrendResult:
    """Families whose self size grew in every interval, with the growth per interval."""
    if len(summaries) < 2:
        raise UsageError("a trend needs at least two snapshots")
    tables = [s.table(by) for s in summaries]
    # Candidates must grow in the first interval: start from those keys, then narrow.
    first, second = tables[0], tables[1]
    keys = union_keys(first.key, second.key)
    _, _, sizes = _join((first, second), keys)
    keys = keys[sizes[1] > sizes[0]]
    idx, counts, sizes = _join(tables, keys)
    grew = np.ones(len(keys), dtype=bool)
    for a, b in zip(sizes, sizes[1:]):
        grew &= b > a
    total = sizes[-1] - sizes[0]
    order = _rank(total, counts[-1] - counts[0], grew & (total >= min_kb * 1024))
    rows = []
    for k in order[:top]:
        typ, name = _label(tables, idx, int(k))
        rows.append(TrendRow(typ, name, [int(s[k]) for s in sizes], [int(c[k]) for c in counts]))
    return TrendResult(by=by, snapshots=[], top=top, min_kb=min_kb, rows=rows, matching=int(len(order)))


# --------------------------------------------------------------------------------------------------


Opener = Callable[[str], Summary]


def _open_all(paths: Sequence[str], opener: Opener | None) -> list[Summary]:
    opener = opener or summarize
    out: list[Summary] = []
    try:
        for p in paths:
            out.append(opener(p))
    except BaseException:
        for s in out:
            s.close()
        raise
    return out


def diff_files(before: str | os.PathLike, after: str | os.PathLike, *, by="family", top=30, min_kb=64.0,
               opener: Opener | None = None) -> DiffResult:
    """Compare two snapshot files. Warns when their names say they come from different processes."""
    bn, an = parse_name(before), parse_name(after)
    for p in (before, after):
        if Path(p).is_dir():
            raise UsageError(f"{p}: is a directory (use --lane-dir {p} to pick snapshots from it)")
    sb, sa = _open_all([str(before), str(after)], opener)
    try:
        result = delta(sb, sa, by=by, top=top, min_kb=min_kb, before_name=bn, after_name=an)
    finally:
        sb.close()
        sa.close()
    if bn and an and bn.pid != an.pid:
        result.warnings.append(
            f"the snapshots come from different processes (PID {bn.pid} and {an.pid}): object ids are "
            "unrelated, only family totals are comparable"
        )
    return result


def diff_lane_dir(lane_dir, *, pid=None, tid=None, by="family", top=30, min_kb=64.0,
                  opener: Opener | None = None) -> DiffResult:
    series = find_series(lane_dir, pid, tid)
    sb, sa = _open_all([str(series.first.path), str(series.last.path)], opener)
    try:
        result = delta(sb, sa, by=by, top=top, min_kb=min_kb, before_name=series.first, after_name=series.last)
    finally:
        sb.close()
        sa.close()
    result.series = SeriesInfo.of(series)
    return result


def trend_lane_dir(lane_dir, *, pid=None, tid=None, by="family", top=30, min_kb=64.0,
                   opener: Opener | None = None) -> TrendResult:
    series = find_series(lane_dir, pid, tid)
    return trend_files([str(f.path) for f in series.files], by=by, top=top, min_kb=min_kb, opener=opener,
                       series=series)


def trend_files(paths: Sequence[str], *, by="family", top=30, min_kb=64.0, opener: Opener | None = None,
                series: Series | None = None) -> TrendResult:
    """Summaries are read one at a time and keep only their tables (and the mapped strings)."""
    summaries = _open_all(paths, opener)
    try:
        result = trend(summaries, by=by, top=top, min_kb=min_kb)
        names = series.files if series else [parse_name(p) for p in paths]
        result.snapshots = [SnapshotInfo.of(s, n) for s, n in zip(summaries, names)]
    finally:
        for s in summaries:
            s.close()
    if series is not None:
        result.series = SeriesInfo.of(series)
    pids = {n.pid for n in (series.files if series else [parse_name(p) for p in paths]) if n}
    if len(pids) > 1:
        result.warnings.append(
            f"the snapshots come from {len(pids)} different processes: only family totals are comparable"
        )
    return result
