"""Snapshot file names and lane directories.

Node names snapshots ``Heap.YYYYMMDD.HHMMSS.PID.TID.SEQ.heapsnapshot`` (``--heapsnapshot-signal``,
``v8.writeHeapSnapshot()``). A lane directory holds the snapshots of the workers of one lane; a
*series* is the snapshots of one process (PID) and thread (TID), oldest first.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError

SNAPSHOT_NAME = re.compile(r"^Heap\.(\d{8})\.(\d{6})\.(\d+)\.(\d+)\.(\d+)\.heapsnapshot(?:\.gz)?$")


@dataclass(frozen=True)
class SnapshotName:
    path: Path
    stamp: str  # YYYYMMDDHHMMSS
    pid: int
    tid: int
    seq: int

    @property
    def mtime(self) -> int:
        try:
            return self.path.stat().st_mtime_ns
        except OSError:
            return 0

    @property
    def sort_key(self):
        # The signal path and writeHeapSnapshot() keep separate counters, so seq alone can tie (in_order).
        return (self.stamp, self.seq, self.mtime, self.path.name)


def in_order(names) -> list[SnapshotName]:
    """Snapshots oldest first: by the second in their names, then by their sequence number — except a worker's
    (PID and TID) whose files two counters numbered, ordered by when each was written instead.

    Node numbers its own snapshots (``--heapsnapshot-signal``, near the heap limit) with a counter of its own, and
    heaplens's boundary snapshots continue from the highest number in the directory, so in interval mode one
    worker can have two files numbered alike, and a later file a lower number than an earlier one in the same
    second. A new number is always one past every number there, so such a misordering always comes with a number
    used twice; a thread writes one snapshot at a time, so the files' modification times are then its order
    (while a series numbered by one counter keeps its numbers' order, also when copied without its times)."""
    names = list(names)
    seen: set[tuple[int, int, int]] = set()
    mixed: set[tuple[int, int]] = set()
    for n in names:
        key = (n.pid, n.tid, n.seq)
        if key in seen:
            mixed.add((n.pid, n.tid))
        seen.add(key)
    return sorted(names, key=lambda n: (n.stamp, n.mtime, n.seq, n.path.name) if (n.pid, n.tid) in mixed
                  else n.sort_key)


def parse_name(path: str | os.PathLike) -> SnapshotName | None:
    p = Path(path)
    m = SNAPSHOT_NAME.match(p.name)
    if not m:
        return None
    date, time_, pid, tid, seq = m.groups()
    return SnapshotName(path=p, stamp=date + time_, pid=int(pid), tid=int(tid), seq=int(seq))


@dataclass
class Series:
    """The snapshots of one PID/TID in a lane directory, oldest first."""

    lane_dir: Path
    pid: int
    tid: int
    files: list[SnapshotName]
    other_pids: dict[int, int]  # pid → snapshot count, for the other processes in the directory

    @property
    def first(self) -> SnapshotName:
        return self.files[0]

    @property
    def last(self) -> SnapshotName:
        return self.files[-1]


def scan_dir(lane_dir: Path) -> list[SnapshotName]:
    try:
        entries = list(os.scandir(lane_dir))
    except FileNotFoundError:
        raise UsageError(f"{lane_dir}: no such directory") from None
    except NotADirectoryError:
        raise UsageError(f"{lane_dir}: not a directory") from None
    except PermissionError:
        raise UsageError(f"{lane_dir}: permission denied") from None
    except OSError as exc:  # a symlink loop, an I/O error
        raise UsageError(f"{lane_dir}: cannot list it: {exc.strerror or exc}") from None
    out = []
    for e in entries:
        if e.is_file():
            n = parse_name(e.path)
            if n is not None:
                out.append(n)
    return out


def find_series(lane_dir: str | os.PathLike, pid: int | None = None, tid: int | None = None) -> Series:
    """Pick the series to compare: ``pid`` (and ``tid``) if given, else the PID with the most
    snapshots (ties: lowest PID, then lowest TID)."""
    d = Path(lane_dir)
    names = scan_dir(d)
    if not names:
        hint = _subdir_hint(d)
        raise UsageError(f"{d}: no Heap.*.heapsnapshot files in this directory{hint}")
    groups: dict[tuple[int, int], list[SnapshotName]] = {}
    for n in names:
        groups.setdefault((n.pid, n.tid), []).append(n)
    candidates = [k for k in groups if (pid is None or k[0] == pid) and (tid is None or k[1] == tid)]
    if not candidates:
        have = ", ".join(f"{p} ({c})" for p, c in sorted(_pid_counts(groups).items()))
        what = f"PID {pid}" if pid is not None else "any PID"
        if tid is not None:
            what += f" thread {tid}"
        raise UsageError(f"{d}: no snapshots of {what}; PIDs here (snapshots): {have}")
    key = min(candidates, key=lambda k: (-len(groups[k]), k[0], k[1]))
    files = in_order(groups[key])
    if len(files) < 2:
        only = files[0].path.name
        raise UsageError(
            f"{d}: PID {key[0]} has only one snapshot ({only}); a comparison needs two of the same PID"
        )
    others = {p: c for p, c in _pid_counts(groups).items() if p != key[0]}
    return Series(lane_dir=d, pid=key[0], tid=key[1], files=files, other_pids=others)


def _pid_counts(groups) -> dict[int, int]:
    counts: dict[int, int] = {}
    for (p, _t), files in groups.items():
        counts[p] = counts.get(p, 0) + len(files)
    return counts


def _subdir_hint(d: Path) -> str:
    """When pointed at the parent of lane directories, name the lanes that do hold snapshots."""
    lanes = []
    try:
        for e in sorted(os.scandir(d), key=lambda e: e.name):
            if e.is_dir():
                n = sum(1 for f in os.scandir(e.path) if SNAPSHOT_NAME.match(f.name))
                if n:
                    lanes.append(f"{e.name} ({n})")
    except OSError:
        return ""
    if not lanes:
        return ""
    return f"; lane directories below it hold some: {', '.join(lanes[:8])} — pass one of them"
