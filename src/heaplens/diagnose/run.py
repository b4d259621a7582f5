"""Diagnose a run, a lane directory or a pair of snapshots: one answer, whoever asks.

For every worker with two or more snapshots, the earliest and the latest are compared by the holder
engine (:mod:`heaplens.diagnose.engine`); the run record adds what snapshots cannot: which files ran
between the two snapshots (the per-file growth and its projection over the lane), the heap limit
(severity), and the files that ran after the last snapshot (growth the pair does not cover). The
snapshots in between give each cause's growth per interval. A worker without a pair gets the trace's
figures and no verdict.

``diagnose RUN``, ``report RUN`` and ``investigate`` all get it through the report model
(``heaplens.workflow.report``), cached with what produced it.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..compare.delta import diff_files
from ..errors import UsageError
from ..runner.record import LaneRecord, RunRecord
from ..snapshot.files import in_order, parse_name
from .engine import Beside, PairAnalysis, Reads, analyse_pair, side_by_side
from .findings import DEFAULT_HEAP_LIMIT, FLOOR, Context, findings, fmt, heap_growth, settled
from .rules import Rules, load_rules

ENGINE_VERSION = "holders-3"  # 2: holders judged per snapshot in between (late holders); 3: only the program's
# references retain (garbage: new objects no program root reaches, docs/diagnose.md)
SCHEMA = "heaplens.diagnosis"
SCHEMA_VERSION = 2
TREND_MAX_SNAPSHOTS = 6  # snapshots in between read (ids only) for each cause's growth per interval
FAMILY_ROWS = 12


@dataclass
class WorkerDiagnosis:
    lane: str | None
    pid: int | None
    tid: int | None
    snapshots: list[str]
    findings: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    trace: dict = field(default_factory=dict)
    growth: dict = field(default_factory=dict)
    coverage: dict = field(default_factory=dict)
    families: list[dict] = field(default_factory=list)
    verdict: str = "no significant growth"
    analysed: bool = False
    seconds: float = 0.0
    files: list[dict] = field(default_factory=list)  # the worker's trace entries (not in the JSON)

    @property
    def before(self) -> str | None:
        return self.snapshots[0] if len(self.snapshots) >= 2 else None

    @property
    def after(self) -> str | None:
        return self.snapshots[-1] if len(self.snapshots) >= 2 else None

    def to_json(self) -> dict:
        return {"lane": self.lane, "pid": self.pid, "tid": self.tid, "snapshots": self.snapshots,
                "before": self.before, "after": self.after, "verdict": self.verdict, "analysed": self.analysed,
                "findings": self.findings, "growth": self.growth, "coverage": self.coverage, "trace": self.trace,
                "families": self.families, "notes": self.notes, "seconds": round(self.seconds, 2)}


@dataclass
class RunDiagnosis:
    run_dir: str | None
    record: RunRecord | None
    rules: Rules
    workers: list[WorkerDiagnosis]
    skipped: list[str]
    options: dict

    def to_json(self) -> dict:
        return {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "engine": ENGINE_VERSION,
                "rules": self.rules.sources, "rules_digest": self.rules.digest, "options": self.options,
                "run": self.run_dir, "run_id": self.record.run_id if self.record else None,
                "workers": [w.to_json() for w in self.workers], "skipped": self.skipped}


def cache_key(rules: Rules, retainers: bool, lanes: list[str] | None) -> dict:
    """What produced a diagnosis: a cached one is reused only when all of it is the same."""
    return {"engine": ENGINE_VERSION, "rules_digest": rules.digest, "rules": rules.sources,
            "retainers": bool(retainers), "lanes": sorted(lanes) if lanes else None}


# -- the run record --------------------------------------------------------------------------------

def complete(path: str) -> bool:
    """A snapshot Node finished writing: not empty and ending with the closing brace (a worker that
    exits mid-write leaves an empty or cut file). Compressed files are taken as complete."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            if size == 0:
                return False
            if path.endswith(".gz"):
                return True
            fh.seek(max(0, size - 64))
            return fh.read().rstrip().endswith(b"}")
    except OSError:
        return False


def _snapshot_entries(lane: LaneRecord) -> tuple[list[str], dict[str, float]]:
    """The lane's snapshot files and, for those the workers wrote at file boundaries, when (epoch seconds)."""
    files = [str(f) for f in lane.snapshots.files]
    times = {}
    for w in lane.snapshots.written:
        files.append(str(w.path))
        if w.t:
            times[os.path.abspath(str(w.path))] = float(w.t) / 1000
    return files, times


def _late_files(lane: LaneRecord, d: Path) -> list[str]:
    """Snapshots in the lane's directory that its record does not list, written by one of its worker processes
    (the PID in Node's file name) since the lane started."""
    pids = {int(k.split(".")[0]) for k in lane.workers if k.split(".")[0].isdigit()}
    since = (lane.started_at or 0) - 1
    out = []
    for q in d.glob("*.heapsnapshot"):
        n = parse_name(q)
        try:
            if n is not None and n.pid in pids and q.stat().st_mtime >= since:
                out.append(str(q))
        except OSError:
            pass
    return out


def worker_snapshots(lane: LaneRecord, incomplete: list[str] | None = None,
                     run_dir: Path | None = None) -> dict[tuple[int, int], list[str]]:
    """(PID, TID) → its complete snapshot files that still exist, oldest first (``in_order``; cut ones go to
    ``incomplete``)."""
    files, _times = _snapshot_entries(lane)
    d = lane.snapshots.dir
    if run_dir is not None and d and not Path(d).is_dir():
        # a run directory that was moved or downloaded (a CI artefact): its own heapsnap/<lane>
        moved = Path(run_dir) / "heapsnap" / Path(d).name
        if moved.is_dir():
            files = [str(moved / Path(f).name) for f in files]
            d = str(moved)
    if d and Path(d).is_dir():  # files written after the record (e.g. near-limit snapshots) by this lane's workers:
        files += _late_files(lane, Path(d))  # a shared --snapshot-dir holds other runs' files (issue 14 item 9)
    by: dict[tuple[int, int], list] = {}
    for f in dict.fromkeys(os.path.abspath(f) for f in files):
        n = parse_name(f)
        if n is None or not Path(f).is_file():
            continue
        if not complete(f):
            if incomplete is not None:
                incomplete.append(f)
            continue
        by.setdefault((n.pid, n.tid), []).append(n)
    return {k: [str(n.path) for n in in_order(ns)] for k, ns in by.items()}


def _snapshot_time(path: str, times: dict[str, float]) -> float | None:
    t = times.get(os.path.abspath(path))
    if t is not None:
        return t
    try:
        return Path(path).stat().st_mtime  # written at the end of the snapshot
    except OSError:
        return None


def trace_growth(files: list[dict]) -> dict:
    def total(a: str, b: str) -> int:
        return sum((f.get(b) or 0) - (f.get(a) or 0) for f in files if f.get(a) is not None and f.get(b) is not None)

    if not files:
        return {}
    first, last = files[0], files[-1]
    return {
        "files": len(files),
        "rss_start": first.get("rss_start"),
        "rss_end": last.get("rss_end"),
        "rss_growth": total("rss_start", "rss_end"),
        "heap_growth": sum(heap_growth(f) or 0 for f in files),
        "external_growth": total("external_start", "external_end") + total("array_buffers_start", "array_buffers_end"),
        "peak": max((f.get("peak") or 0) for f in files),
        "heap_limit": next((f.get("heap_limit") for f in reversed(files) if f.get("heap_limit")), None),
    }


# -- one worker ------------------------------------------------------------------------------------

def _families(before: str, after: str) -> list[dict]:
    """The dominant families of the earliest → latest delta (the seed's third item)."""
    res = diff_files(before, after, by="family", top=FAMILY_ROWS * 4, min_kb=1 / 1024)
    rows = [r for r in res.rows if r.size_delta > 0][:FAMILY_ROWS]
    return [{"type": r.type, "name": r.name[:200] + ("…" if len(r.name) > 200 else ""), "size_delta": r.size_delta,
             "count_delta": r.count_delta, "size_after": r.size_after} for r in rows]


def _middles(snaps: list[str]) -> list[str]:
    """The snapshots in between that are read (ids only): all of them, or TREND_MAX_SNAPSHOTS spread evenly."""
    middle = snaps[1:-1]
    if len(middle) > TREND_MAX_SNAPSHOTS:
        step = (len(middle) - 1) / (TREND_MAX_SNAPSHOTS - 1)
        middle = [middle[round(i * step)] for i in range(TREND_MAX_SNAPSHOTS)]
    return middle


def _trend(pa: PairAnalysis) -> dict:
    """For each cause: the bytes of its new objects that already existed at each snapshot (0 at the
    first, all of it at the last) — its growth per interval, from ids alone (the engine's births)."""
    return {c.key: c.trend for c in pa.causes if c.trend and c.kind in ("module-graph", "runtime-leak",
                                                                        "external-memory")}


def _pair_args(snaps: list[str]) -> dict:
    """``analyse_pair``'s snapshots for a worker's series: the first and the last, the one before the last (of
    three or more) and those in between that are read."""
    return {"before": snaps[0], "after": snaps[-1], "previous": snaps[-2] if len(snaps) >= 3 else None,
            "middles": _middles(snaps)}


class Ahead:
    """Pair analyses started ahead, on a daemon thread each: a worker's, as soon as its last snapshot is written
    (``investigate`` reads them while the runner is still finishing). :func:`diagnose_worker` takes the one of the
    same snapshots, rules and root — the same call it would make — and else analyses as usual.

    Before that, each earlier snapshot of a worker is read as soon as it is written (:meth:`written`): the first
    one's graph, and the ids and retained sizes of one in between (:class:`Reads`). At the end only the last
    snapshot is left to read."""

    def __init__(self) -> None:
        self._tasks: dict[tuple, Beside] = {}
        self._lock = threading.Lock()
        self.reads = Reads()

    def written(self, snaps: list[str], rules: Rules) -> None:
        """A worker's snapshots so far, the newest not its last: start reading the newest, when its graph fits in
        memory beside those read ahead already."""
        if not snaps or parse_name(snaps[0]) is None:
            return
        path = snaps[-1]
        if len(snaps) > 2:
            # the one before it is no longer the one before the last: its retained sizes are not wanted
            self.reads.drop([snaps[-2]], kinds=("retained",))
        if not side_by_side([*set(self.reads.held()), path]):
            return
        if len(snaps) == 1:
            self.reads.start_before(path, rules)
        else:
            self.reads.start_between(path)

    @staticmethod
    def _key(snaps: list[str], rules: Rules, root: str | None) -> tuple:
        return tuple(os.path.abspath(s) for s in snaps), rules.digest, root

    def start(self, snaps: list[str], rules: Rules, root: str | None) -> None:
        name = parse_name(snaps[0]) if snaps else None
        if len(snaps) < 2 or name is None:
            return
        key = self._key(snaps, rules, root)
        with self._lock:
            if key in self._tasks:
                return
            self._tasks[key] = Beside(analyse_pair, rules=rules, root=root, pid=name.pid, reads=self.reads,
                                      **_pair_args(snaps))

    def take(self, snaps: list[str], rules: Rules, root: str | None) -> PairAnalysis | None:
        with self._lock:
            task = self._tasks.pop(self._key(snaps, rules, root), None)
        return None if task is None else task.result()


def diagnose_worker(snaps: list[str], rules: Rules, *, lane: str | None = None, files: list[dict] | None = None,
                    lane_rec: LaneRecord | None = None, root: str | None = None, retainers: bool = True,
                    times: dict[str, float] | None = None, workers_in_lane: int = 1, progress=None,
                    runner: str | None = None, ahead: Ahead | None = None) -> WorkerDiagnosis:
    t0 = time.perf_counter()
    files = files or []
    name = parse_name(snaps[0]) if snaps else None
    w = WorkerDiagnosis(lane, name.pid if name else (files[0].get("pid") if files else None),
                        name.tid if name else None, list(snaps), files=files)
    w.trace = trace_growth(files)
    heap_limit = w.trace.get("heap_limit") or DEFAULT_HEAP_LIMIT
    if len(snaps) < 2:
        w.verdict = "no snapshot pair"
        w.notes += _trace_only(w, heap_limit)
        if snaps:
            w.notes.append(f"only one snapshot of this worker: {Path(snaps[0]).name}")
        w.seconds = time.perf_counter() - t0
        return w
    before, after = snaps[0], snaps[-1]
    t_before, t_after = _snapshot_time(before, times or {}), _snapshot_time(after, times or {})
    earlier, between, later = [], [], []
    for f in files:
        start, end = (f.get("start_ms") or 0) / 1000, (f.get("end_ms") or 0) / 1000
        if t_before is not None and end and end <= t_before:
            earlier.append(f)  # done before the earlier snapshot: its objects are old
            continue
        if t_after is not None and start and start >= t_after:
            later.append(f)  # ran entirely after the later snapshot: nothing of it is in the pair
        elif t_after is None or not end or end <= t_after:
            between.append(f)
        # a file the later snapshot was taken during is partly covered: in neither count
    lane_files = sorted({f.file for f in lane_rec.files} | set(lane_rec.files_planned)) if lane_rec else []
    ctx = Context(root=root, files_between=between if files else [], files_after=later, files_before=earlier,
                  files_all=files,
                  files_in_lane=len(lane_files) or None, workers_in_lane=workers_in_lane,
                  heap_limit=w.trace.get("heap_limit"), isolate=lane_rec.isolate if lane_rec else None,
                  lane_files=lane_files, traced=bool(files),
                  registry_per_file=any(f.get("pool") in rules.registry_per_file_pools for f in files),
                  runner=runner)
    try:
        w.families = _families(before, after)
    except UsageError:
        raise
    if not retainers:
        w.verdict = "not analysed"
        w.notes.append("holders not analysed (--no-retainers): no verdict; the families above are the delta only")
        w.seconds = time.perf_counter() - t0
        return w
    args = _pair_args(snaps)
    middle = args["middles"]
    pa = ahead.take(snaps, rules, root) if ahead is not None else None
    if pa is None:
        pa = analyse_pair(rules=rules, root=root, pid=w.pid, progress=progress,
                          reads=ahead.reads if ahead is not None else None, **args)
    if ahead is not None:
        ahead.reads.drop(snaps)  # what was read ahead of this worker and not taken (middles not chosen)
    w.analysed = True
    ctx.trend = _trend(pa)
    if files and ctx.trend:
        # the files completed in each interval: a cause that stopped growing must have had files to grow in
        marks = [t_before, *(_snapshot_time(m, times or {}) for m in middle), t_after]
        if all(t is not None for t in marks):
            # a file counts for an interval only when it ran entirely inside it (a snapshot taken during a
            # file says nothing of which side its growth fell on)
            spans = [((f.get("start_ms") or 0) / 1000, (f.get("end_ms") or 0) / 1000) for f in files]
            ctx.trend_files = [sum(1 for s0, e in spans if a <= s0 and e <= b) for a, b in zip(marks, marks[1:])]
            ctx.trend_marks = marks
    w.findings, notes, w.growth = findings(pa, ctx, rules)
    w.growth["analysis_seconds"] = round(pa.seconds, 2)
    w.notes += notes
    w.coverage = _coverage(ctx, heap_limit) if files else {}
    if w.coverage.get("uncovered"):
        w.notes.insert(0, w.coverage["uncovered"])
    w.verdict = _verdict(w)
    w.seconds = time.perf_counter() - t0
    return w


def _coverage(ctx: Context, heap_limit: int) -> dict:
    """How much of the worker's per-file heap growth the snapshot pair spans."""
    between = sum(max(heap_growth(f) or 0, 0) for f in ctx.files_between)
    after = sum(heap_growth(f) or 0 for f in ctx.files_after)
    out = {"files_between": len(ctx.files_between), "files_after": len(ctx.files_after),
           "heap_between": between, "heap_after": after, "uncovered": None}
    if ctx.files_after and after >= FLOOR * heap_limit:
        gc = any(settled(f) for f in ctx.files_after)
        out["uncovered"] = (f"not covered: {len(ctx.files_after)} file(s) ran after the last snapshot and the "
                            f"{'GC-settled ' if gc else ''}JS heap grew {fmt(after)} over them (trace) — this "
                            "diagnosis cannot say what that growth is")
    return out


def _verdict(w: WorkerDiagnosis) -> str:
    if w.findings:
        parts = [f"{f['title']} — {fmt(f['retained_growth'])}, {f['severity']}" for f in w.findings]
        return "; ".join(parts)
    if w.coverage.get("uncovered"):
        return "growth after the last snapshot not covered"
    return "no significant growth"


def _trace_only(w: WorkerDiagnosis, heap_limit: int) -> list[str]:
    t = w.trace
    if not t:
        return ["no snapshots and no trace for this worker"]
    return [f"no snapshot pair: the trace alone says RSS {fmt(t['rss_growth'])}, JS heap {fmt(t['heap_growth'])}, "
            f"external+ArrayBuffers {fmt(t['external_growth'])} over {t['files']} file(s); rerun with snapshots "
            "to see what grew"]


# -- a run -----------------------------------------------------------------------------------------

def diagnose_run(run: RunRecord | str | os.PathLike, *, rules: Rules | None = None, retainers: bool = True,
                 lanes: list[str] | None = None, progress=None, ahead: Ahead | None = None) -> RunDiagnosis:
    """Every lane of the run (a record, or a run directory / run.json / run id): one WorkerDiagnosis per
    worker that ran a file or was snapshotted (``ahead``: pair analyses already started)."""
    rec = run if isinstance(run, RunRecord) else RunRecord.load(run)
    path = rec.dir
    rules = rules or load_rules()
    root = rec.root
    workers: list[WorkerDiagnosis] = []
    skipped: list[str] = []
    lane_items = list(rec.lanes.items())
    if lanes:
        unknown = [n for n in lanes if n not in dict(lane_items)]
        if unknown:
            raise UsageError(f"no lane {', '.join(unknown)} in {path} (lanes: {', '.join(n for n, _ in lane_items)})")
        lane_items = [(n, l) for n, l in lane_items if n in lanes]
    for name, lane in lane_items:
        files_by_worker: dict[tuple, list[dict]] = {}
        for f in lane.files:
            files_by_worker.setdefault((f.pid, f.tid or 0), []).append(f.to_json())
        for fs in files_by_worker.values():
            fs.sort(key=lambda f: f.get("end_ms") or 0)
        cut: list[str] = []
        snaps = worker_snapshots(lane, cut, path)
        _files, times = _snapshot_entries(lane)
        keys = list(dict.fromkeys([*snaps, *files_by_worker]))
        found = False
        n_workers = max(len(files_by_worker), 1)
        for key in keys:
            pid = key[0]
            fs = files_by_worker.get(key, [])
            ws = snaps.get(key, [])
            if not ws and not fs:
                continue
            if progress:
                progress(f"{name} pid {pid}: {len(ws)} snapshot(s)")
            w = diagnose_worker(ws, rules, lane=name, files=fs, lane_rec=lane, root=root, retainers=retainers,
                                times=times, workers_in_lane=n_workers, progress=progress, runner=rec.versions.runner,
                                ahead=ahead)
            for f in cut:
                n = parse_name(f)
                if n and n.pid == pid:
                    w.notes.append(f"skipped {Path(f).name}: incomplete (the worker exited while writing it)")
            workers.append(w)
            found = True
        if not found:
            skipped.append(f"{name}: no worker ran a file (status {lane.status})")
    opts = cache_key(rules, retainers, lanes)
    return RunDiagnosis(str(path), rec, rules, workers, skipped, opts)


def diagnose_files(before: str, after: str, *, rules: Rules | None = None, retainers: bool = True,
                   snapshots: list[str] | None = None, progress=None) -> RunDiagnosis:
    """Two snapshots of one worker (or a worker's series, ``snapshots``), without a run record."""
    rules = rules or load_rules()
    bn, an = parse_name(before), parse_name(after)
    if bn and an and (bn.pid, bn.tid) != (an.pid, an.tid):
        raise UsageError(f"{before} and {after} come from different workers (pid {bn.pid}/{an.pid}); compare "
                         "snapshots of one worker")
    snaps = snapshots or [str(before), str(after)]
    w = diagnose_worker(snaps, rules, retainers=retainers, root=os.getcwd(), progress=progress)
    return RunDiagnosis(None, None, rules, [w], [], cache_key(rules, retainers, None))
