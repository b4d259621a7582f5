"""What the snapshot sub-commands compute (``diff``, ``top``, ``retainers``, ``diagnose BEFORE AFTER``): each
function checks its arguments (one-line :class:`UsageError`), reads the snapshots with progress bars on
stderr, and returns a result that the renderers in :mod:`heaplens.report` print; no graph stays open."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from ..compare import delta as D
from ..compare import ids as I
from ..compare.summary import summarize
from ..diagnose import Rules, RunDiagnosis, diagnose_files
from ..errors import UsageError
from ..graph import HeapGraph, read_for_graph
from ..graph import kernels as GK
from ..graph import paths as P
from ..kernels import RETAINERS_HINT, require_compiled
from ..progress import byte_progress, enabled, status
from ..snapshot.files import find_series


def _size(path) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _label(path) -> str:
    return f"reading {os.path.basename(str(path))}"


def _check_pair_args(snapshots: list[str], lane_dir: str | None, pid: int | None, tid: int | None,
                     trend: bool = False) -> None:
    if lane_dir:
        if snapshots:
            raise UsageError("give either --lane-dir or snapshot files, not both")
        return
    if pid is not None or tid is not None:
        raise UsageError("--pid and --tid select snapshots in a --lane-dir")
    if trend and len(snapshots) < 2:
        raise UsageError("--trend needs --lane-dir DIR or at least two snapshot files")
    if not trend and len(snapshots) != 2:
        raise UsageError(f"this needs BEFORE and AFTER (got {len(snapshots)} files), or --lane-dir DIR")


def diff(snapshots: list[str], *, lane_dir: str | None = None, pid: int | None = None, tid: int | None = None,
         trend: bool = False, by: str = "family", top: int = 30, min_kb: float = 64.0,
         progress: bool | None = None) -> D.DiffResult | D.TrendResult:
    """The family (or class) delta of two snapshots, or the families that grew in every interval."""
    _check_pair_args(snapshots, lane_dir, pid, tid, trend)
    with byte_progress(enabled(progress)) as task:

        def opener(path: str):
            return summarize(path, progress=task(_label(path), _size(path)))

        common = dict(by=by, top=top, min_kb=min_kb, opener=opener)
        if trend:
            if lane_dir:
                return D.trend_lane_dir(lane_dir, pid=pid, tid=tid, **common)
            return D.trend_files(snapshots, **common)
        if lane_dir:
            return D.diff_lane_dir(lane_dir, pid=pid, tid=tid, **common)
        return D.diff_files(snapshots[0], snapshots[1], **common)


def id_diff(snapshots: list[str], *, lane_dir: str | None = None, pid: int | None = None, tid: int | None = None,
            top: int = 30, min_kb: float = 64.0, retainers: bool = False,
            progress: bool | None = None) -> I.IdDiffResult | None:
    """The id-based diff of two snapshots of one process (with the retaining chains of the new objects of the
    top rows); None when the file names say the processes differ (ids do not carry over)."""
    _check_pair_args(snapshots, lane_dir, pid, tid)
    if lane_dir:
        before, after, _ = I.lane_pair(lane_dir, pid, tid)
    else:
        before, after = snapshots
    same, _ = I.same_pid(before, after)
    if same is False:
        return None
    with byte_progress(enabled(progress)) as task:
        result = I.id_diff(before, after, top=top, min_kb=min_kb, keep_graph=retainers,
                           progress=lambda path: task(_label(path), _size(path)))
    try:
        if retainers:
            I.add_retainers(result)
    finally:
        result.close()
    return result


def open_graph(path: str, progress: bool | None = None) -> HeapGraph:
    """Read a snapshot with edges and locations and build its graph (one-line errors, exit 2)."""
    if os.path.isdir(path):
        raise UsageError(f"{path}: is a directory, not a snapshot file")
    with byte_progress(enabled(progress)) as task:
        snap = read_for_graph(path, progress=task(_label(path), _size(path)))
    try:
        return HeapGraph(snap, consume=True)
    except BaseException:
        snap.close()
        raise


@dataclass
class ClassEntry:
    name: str
    count: int
    shallow: int
    retained: int
    distance: int
    location: tuple[int, int, int] | None  # script id, line, column (0-based)
    url: str | None


@dataclass
class ObjectEntry:
    label: str
    id: int
    class_name: str
    shallow: int
    retained: int
    distance: int


@dataclass
class TopResult:
    snapshot: str
    node_count: int
    edge_count: int
    total: int
    unreachable: int
    weak_only: int
    seconds: float
    classes: list[ClassEntry]
    objects: list[ObjectEntry]


def top(snapshot: str, *, classes: int = 25, objects: int = 10, progress: bool | None = None) -> TopResult:
    """DevTools' Summary: the classes by retained size (no double counting) and the largest objects."""
    if objects < 0:
        raise UsageError("--objects must be 0 or more")
    t0 = time.perf_counter()
    g = open_graph(snapshot, progress)
    try:
        rows = g.class_summary(classes)
        objs = GK.top_k(g.retained, objects, g.ntype, g.nt.get("synthetic", -1), g.root) if objects else []
        return TopResult(
            snapshot=snapshot, node_count=g.n, edge_count=int(len(g.to)), total=int(g.retained[g.root]),
            unreachable=int(g.n_unreachable), weak_only=int(g.n_weak_only), seconds=time.perf_counter() - t0,
            classes=[ClassEntry(r.name, r.count, r.self_size, r.retained, r.distance, r.location,
                                g.scripts.by_script_id.get(r.location[0]) if r.location else None) for r in rows],
            objects=[ObjectEntry(g.node_label(k), int(g.ids[k]), g.class_name(k), int(g.sizes[k]),
                                 int(g.retained[k]), int(g.distance[k])) for k in np.asarray(objs).tolist()])
    finally:
        g.snap.close()


@dataclass
class ObjectRetainers:
    snapshot: str
    label: str
    id: int
    class_name: str
    shallow: int
    retained: int
    distance: int
    dominator: str
    paths: list[P.RetainingPath] = field(default_factory=list)


@dataclass
class ClassRetainers:
    snapshot: str
    name: str
    count: int
    retained: int
    aggregation: P.Aggregation


def retainers(snapshot: str, *, node_id: int | None = None, class_name: str | None = None, paths: int = 3,
              progress: bool | None = None) -> ObjectRetainers | ClassRetainers:
    """Why is it alive: the shortest retaining paths of one object, or of every instance of a class
    aggregated by chain."""
    if (node_id is None) == (class_name is None):
        raise UsageError("give either --id N or --class NAME")
    g = open_graph(snapshot, progress)
    try:
        if node_id is not None:
            k = g.ordinal_of_id(node_id)
            if k < 0:
                raise UsageError(f"no object with id {node_id} in {snapshot}")
            return ObjectRetainers(snapshot, g.node_label(k), int(g.ids[k]), g.class_name(k), int(g.sizes[k]),
                                   int(g.retained[k]), int(g.distance[k]), g.node_label(int(g.dom[k])),
                                   P.k_paths(g, k, paths))
        keys = g.class_keys_named(class_name)
        if not len(keys):
            raise UsageError(f"no class named {class_name!r} in {snapshot}")
        nodes = np.flatnonzero(np.isin(g.class_keys[0], keys))
        agg = P.aggregate(g, nodes, class_name, top=paths)
        retained = sum(g.class_row(int(k)).retained for k in keys)
        return ClassRetainers(snapshot, class_name, int(len(nodes)), retained, agg)
    finally:
        g.snap.close()


def diagnose_pair(snapshots: list[str], *, rules: Rules, lane_dir: str | None = None, pid: int | None = None,
                  tid: int | None = None, retainers: bool = True) -> RunDiagnosis:
    """Why the heap grew between two snapshots of one worker (BEFORE AFTER, or the earliest and latest of a
    PID in a lane directory — with the snapshots in between for each cause's growth per interval): the
    same findings as for a run, without the run's per-file figures."""
    _check_pair_args(snapshots, lane_dir, pid, tid)
    if retainers:
        require_compiled(RETAINERS_HINT)
    with status(enabled()) as say:
        if lane_dir:
            series = find_series(lane_dir, pid, tid)
            files = [str(f.path) for f in series.files]
            return diagnose_files(files[0], files[-1], rules=rules, retainers=retainers, snapshots=files,
                                  progress=say)
        return diagnose_files(snapshots[0], snapshots[1], rules=rules, retainers=retainers, progress=say)
