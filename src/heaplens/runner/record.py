"""The run record — ``<runs-dir>/<run-id>/run.json`` — and its one owner.

Everything that reads or writes a run record goes through :class:`RunRecord`: :meth:`RunRecord.load`
finds it (a run directory, its ``run.json`` or a run id), checks it against the schema below (wrong types,
missing keys, a newer schema version: one line naming the file and the key, exit 2 — never a traceback),
and recognises a run whose owner died (``running`` with no live heaplens behind it → ``abandoned``);
:meth:`RunRecord.save` writes it atomically (a temporary file in the same directory, fsync, ``os.replace``),
so a killed run still leaves the lanes that finished. The lane runner builds one :class:`LaneRecord` per
lane; what it writes is checked by the same schema the readers use. Schema: ``docs/runner.md``.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
import types
import typing
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Union

import psutil

from ..atomicfile import write_json_atomic
from ..errors import UsageError
from ..inputfile import check_schema, json_kind, read_document

SCHEMA = "heaplens.run"
# 2: ``owner`` (who writes the record, to tell an abandoned run), merged runs keep each shard's argv in
# ``shard_argv`` (``argv`` is always one command line). Version 1 records are read as they are.
SCHEMA_VERSION = 2
STATUSES = ("running", "passed", "failed", "interrupted", "abandoned")
RUNS_ENV = "HEAPLENS_RUNS_DIR"


class RecordError(UsageError):
    """A run record that cannot be used: one line naming the file (and the key), exit 2."""


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


# ---------------------------------------------------------------------------------------------------
# Checking JSON against the dataclasses below: every field's annotation is its schema.


def _type_name(tp) -> str:
    if tp is type(None):
        return "null"
    if isinstance(tp, type) and hasattr(tp, "__dataclass_fields__"):
        return "an object"
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is list:
        return "a list"
    if origin is dict:
        return "an object"
    return {int: "an integer", float: "a number", str: "a string", bool: "true/false"}.get(tp, str(tp))


def _decode(tp, value, where: str):
    """``value`` (parsed JSON) as type ``tp``; :class:`ValueError` naming ``where`` when it is not one."""
    if tp is Any:
        return value
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for a in args:
            if a is type(None):
                continue
            try:
                return _decode(a, value, where)
            except ValueError:
                continue
        raise ValueError(f"{where}: expected {_type_name(tp)}, got {json_kind(value)}")
    if origin is list:
        if not isinstance(value, list):
            raise ValueError(f"{where}: expected a list, got {json_kind(value)}")
        (item,) = typing.get_args(tp)
        return [_decode(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected an object, got {json_kind(value)}")
        _k, item = typing.get_args(tp)
        return {str(k): _decode(item, v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(tp, type) and hasattr(tp, "__dataclass_fields__"):
        return tp.from_json(value, where)
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    else:  # pragma: no cover - a schema annotation this decoder does not know
        raise TypeError(f"run record schema: unsupported type {tp!r} at {where}")
    raise ValueError(f"{where}: expected {_type_name(tp)}, got {json_kind(value)}")


def _encode(value):
    if hasattr(value, "__dataclass_fields__"):
        return value.to_json()
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


class _Part:
    """A part of the record: built from JSON with every field checked, written back as JSON."""

    __dataclass_fields__: ClassVar[dict]

    @classmethod
    def from_json(cls, data, where: str = ""):
        if not isinstance(data, dict):
            raise ValueError(f"{where or 'the record'}: expected an object, got {json_kind(data)}")
        hints = cls.__dict__.get("_hints_cache")
        if hints is None:
            hints = typing.get_type_hints(cls)
            cls._hints_cache = hints
        kwargs = {}
        for f in fields(cls):
            if not f.init:
                continue
            sub = f"{where}.{f.name}" if where else f.name
            if f.name in data:
                kwargs[f.name] = _decode(hints[f.name], data[f.name], sub)
            elif f.default is MISSING and f.default_factory is MISSING:
                raise ValueError(f"{sub}: missing")
        return cls(**kwargs)

    def to_json(self) -> dict:
        return {f.name: _encode(getattr(self, f.name)) for f in fields(self) if f.init}


# ---------------------------------------------------------------------------------------------------
# The schema (docs/runner.md). Sizes in bytes, times in Unix seconds unless the name says ms.


@dataclass
class Settled(_Part):
    """A worker's memory right after a forced full GC (a GC-settled trace line): what it really keeps."""

    heap_used: int | None = None
    external: int | None = None  # includes array_buffers
    array_buffers: int | None = None
    rss: int | None = None


@dataclass
class FileRecord(_Part):
    """One test file as one worker ran it (from the trace setup file's start/collected/end lines)."""

    file: str
    pid: int | None = None
    tid: int = 0  # the worker thread (threads, vmThreads); 0 for a worker process
    worker: str | None = None  # the worker's key in ``LaneRecord.workers`` (PID, or PID.TID)
    project: str = ""  # the Vitest project that ran it ("" for the root project)
    pool: str | None = None  # as the worker saw its config
    isolate: bool | None = None
    start_ms: float | None = None
    end_ms: float | None = None
    duration_ms: float | None = None
    rss_start: int | None = None
    rss_end: int | None = None
    delta: int | None = None  # RSS growth of the worker while the file ran
    peak: int | None = None
    heap_used_start: int | None = None
    heap_used_end: int | None = None
    external_start: int | None = None
    external_end: int | None = None
    array_buffers_start: int | None = None
    array_buffers_end: int | None = None
    heap_limit: int | None = None
    pool_id: str | None = None
    worker_id: str | None = None
    # RSS: of the worker process, or of the whole process for a worker thread ("process")
    rss_scope: str = "worker"
    rss_inflated: bool = False  # a snapshot was written between rss_start and rss_end (or just before)
    # GC-settled growth: from ``settled_start`` (after the file's collection, else the worker's previous
    # file end, else the worker's settled start: ``settled_base`` says which) to ``settled_end``
    settled_base: str | None = None  # collected | previous-end | worker-start
    settled_start: Settled | None = None
    settled_end: Settled | None = None
    heap_growth: int | None = None  # None when the file's end was not GC-settled (the GC budget)
    external_growth: int | None = None
    settled_files: int | None = None  # the files that growth spans (this one and unsettled ones before it)
    # those files, in the order the worker ran them, ending with this one (a span of files GC-settled together:
    # its growth is theirs together, never one file's); empty when this end has no settled growth
    settled_span: list[str] = field(default_factory=list)
    gc_ms: float | None = None  # the forced GC at the file's end (None: none, by the GC budget)
    index: int | None = None  # 1 for the worker's first file, …
    snapshots: list[str] = field(default_factory=list)  # written at this file's boundaries

    @property
    def heap_delta(self) -> int | None:
        if self.heap_used_start is None or self.heap_used_end is None:
            return None
        return self.heap_used_end - self.heap_used_start


@dataclass
class WorkerRecord(_Part):
    files: list[str] = field(default_factory=list)
    peak_rss: int = 0
    last_rss: int = 0
    unfinished: list[str] = field(default_factory=list)  # started, never ended
    pid: int | None = None
    tid: int = 0
    pool: str | None = None
    isolate: bool | None = None
    project: str | None = None
    snapshots: list[str] = field(default_factory=list)  # its boundary snapshots, in order
    files_after_last_snapshot: list[str] = field(default_factory=list)


@dataclass
class TopEntry(_Part):
    file: str
    delta: int
    pid: int | None = None


@dataclass
class LaneSummary(_Part):
    files: int = 0
    peak: int = 0  # the highest RSS one worker reached (docs/workflow.md: what "peak" means)
    peak_at: str = "n/a"
    total_peak: int = 0  # the highest RSS of the lane's whole process tree at one sample (main process + workers)
    total_delta: int = 0
    top: list[TopEntry] = field(default_factory=list)


@dataclass
class Fault(_Part):
    kind: str  # oom, crash, interrupted, heaplens-error
    pid: int | None = None
    tid: int = 0
    files: list[str] = field(default_factory=list)
    last_rss: int | None = None
    peak_rss: int | None = None
    heap_limit: int | None = None
    snapshots: list[str] = field(default_factory=list)
    vitest_exit: str | None = None  # how Vitest saw the worker end (SIGABRT, SIGKILL, …)
    source: str | None = None  # "vitest output" when no trace line said which file
    error: str | None = None  # heaplens-error: the exception


@dataclass
class SnapshotSignal(_Part):
    seq: int
    t: float
    signaled: int = 0
    targets: int = 0
    pids: list[int] = field(default_factory=list)
    busy: list[int] = field(default_factory=list)


@dataclass
class WrittenSnapshot(_Part):
    """A heap snapshot a worker wrote itself at a test-file boundary, after a forced full GC."""

    path: str
    worker: str  # PID, or PID.TID
    pid: int
    tid: int = 0
    file: str | None = None  # the test file at whose boundary it was written
    reason: str | None = None  # first | last | budget | pair
    at: str | None = None  # collected (after the file's collection) | end | idle / stop (its last file's end)
    bytes: int = 0
    seconds: float = 0.0  # write time
    t: float | None = None  # ms
    heap_used: int | None = None  # GC-settled, just before
    rss_before: int | None = None
    rss_after: int | None = None
    index: int | None = None  # files the worker had started
    pool_id: str | None = None


@dataclass
class SnapshotNotice(_Part):
    """Said once per lane: snapshots spaced out by the overhead budget, the disk budget reached, a write failed,
    V8's flags set after a worker's first snapshot."""

    kind: str  # snapshot-deferred | snapshot-skipped | gc-flags
    reason: str  # budget | disk-budget | disk-free | unchanged | pair-budget | error:<code> | tracking
    text: str
    event: dict[str, Any] = field(default_factory=dict)


@dataclass
class LaneSnapshots(_Part):
    dir: str | None = None
    signals: list[SnapshotSignal] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    mode: str | None = None  # boundary | off, +interval
    overhead: float | None = None  # the share of the lane's time snapshot writing may take
    disk_left: int | None = None  # of the run's disk budget when the lane started (None: no budget)
    written: list[WrittenSnapshot] = field(default_factory=list)
    notices: list[SnapshotNotice] = field(default_factory=list)
    stopped: str | None = None  # why snapshots stopped (disk-budget, disk-free, ENOSPC, …)
    stats: dict[str, Any] = field(default_factory=dict)
    # worker → the files that ended after its last snapshot (workers that run several files)
    after_last: dict[str, list[str]] = field(default_factory=dict)
    # files with a worker of their own and no pair, largest GC-settled growth inside the file first:
    # {file, worker, growth (heap + external, bytes)}
    unpaired: list[dict[str, Any]] = field(default_factory=list)
    # files rerun in the follow-up pairs lane: {file, growth, duration_s, heap, cost_s}
    pairs_planned: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class LaneRecord(_Part):
    name: str
    kind: str | None = None
    status: str = "pending"
    exit_code: int | None = None
    signal: str | None = None
    started_at: float | None = None
    elapsed_s: float | None = None
    argv: list[str] = field(default_factory=list)
    workers_option: int | None = None  # the lane's override of the worker count (None: the suite's)
    isolate: bool | None = None  # the lane's override (None: the suite's config, per project)
    pool: str | None = None  # the lane's override (None: the suite's config, per project)
    config: dict[str, str] = field(default_factory=dict)  # the suite's own pool/isolate/workers ("a|b" per project)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # setting → {value, reason}
    deviations: list[dict[str, Any]] = field(default_factory=list)  # as PlanRecord.deviations
    env: dict[str, str] = field(default_factory=dict)  # what heaplens added to the lane's environment
    follow_up_of: str | None = None  # a pairs lane: the lane whose files it reruns for their snapshot pairs
    vitest_main_pid: int | None = None
    files_planned: list[str] = field(default_factory=list)
    runs_planned: int | None = None  # test-file runs (a file in two projects runs twice)
    files: list[FileRecord] = field(default_factory=list)
    workers: dict[str, WorkerRecord] = field(default_factory=dict)
    summary: LaneSummary = field(default_factory=LaneSummary)
    faults: list[Fault] = field(default_factory=list)
    snapshots: LaneSnapshots = field(default_factory=LaneSnapshots)
    trace: str | None = None
    samples: str | None = None
    log: str | None = None
    run_id: str | None = None  # merged records: the run this lane came from
    shard: str | None = None

    def files_by_pid(self) -> dict[int | None, list[FileRecord]]:
        out: dict[int | None, list[FileRecord]] = {}
        for f in self.files:
            out.setdefault(f.pid, []).append(f)
        return out

    def files_by_worker(self) -> dict[str, list[FileRecord]]:
        """Worker key (PID, or PID.TID for a worker thread) → its files, in order."""
        out: dict[str, list[FileRecord]] = {}
        for f in self.files:
            key = f.worker or (str(f.pid) if not f.tid else f"{f.pid}.{f.tid}")
            out.setdefault(key, []).append(f)
        return out

    def peak_rss(self) -> int:
        """The highest RSS any worker of the lane reached."""
        return max((w.peak_rss for w in self.workers.values()), default=0)


@dataclass
class PlanLane(_Part):
    name: str
    kind: str
    files: list[str] = field(default_factory=list)
    # overrides (None: the suite's own config, per project); records before issue 12 always had values
    workers: int | None = None
    isolate: bool | None = None
    pool: str | None = None
    reasons: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # setting → {value, reason}
    config: dict[str, str] = field(default_factory=dict)  # the suite's own values for the lane's files
    deviations: list[dict[str, Any]] = field(default_factory=list)
    all_files: bool = False  # every listed file: run with the run's PATHS (``filters``), not a file list
    filters: list[str] = field(default_factory=list)
    runner_args: list[str] = field(default_factory=list)  # with all_files: the runner's own --shard=i/n
    runs: int = 0


@dataclass
class PlanRecord(_Part):
    lanes: list[PlanLane] = field(default_factory=list)
    files: int = 0
    no_timing: list[str] = field(default_factory=list)
    shard: str | None = None
    manifests: dict[str, str | None] = field(default_factory=dict)
    ignored_entries: list[str] = field(default_factory=list)
    merged_shards: list[str | None] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # the suite's config as Vitest resolved it: {source, known, projects: [{name, pool, isolate, …}]}
    suite_config: dict[str, Any] | None = None
    # every deviation of a lane from the suite's config: {lane, setting, value, config, projects, reason, text}
    deviations: list[dict[str, Any]] = field(default_factory=list)

    def lane_of(self) -> dict[str, str]:
        """file → the lane it was planned into."""
        return {f: lane.name for lane in self.lanes for f in lane.files}


@dataclass
class Versions(_Part):
    vitest: str | None = None
    jest: str | None = None  # the suite's runner's version is under its name (runner/seam.py)
    node: str | None = None
    package_manager: str | None = None
    heaplens: str | None = None
    all: dict[str, list[str]] = field(default_factory=dict)  # merged records: every version seen

    @property
    def runner(self) -> str | None:
        """The suite's runner, by the version the record holds: "jest", "vitest", or None (neither)."""
        return "jest" if self.jest else "vitest" if self.vitest else None


@dataclass
class Owner(_Part):
    """The heaplens process that writes the record while it runs."""

    pid: int
    host: str
    started: float  # the process's start time (Unix seconds), so a reused PID is not mistaken for it

    @classmethod
    def current(cls) -> Owner:
        me = psutil.Process()
        return cls(pid=me.pid, host=socket.gethostname(), started=me.create_time())

    def alive(self) -> bool | None:
        """True/False on this host; None when the run was made on another host (cannot tell)."""
        if self.host != socket.gethostname():
            return None
        try:
            p = psutil.Process(self.pid)
            return abs(p.create_time() - self.started) < 1.0 and p.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False


@dataclass
class RunRecord(_Part):
    run_id: str
    status: str = "running"
    schema: str = SCHEMA
    schema_version: int = SCHEMA_VERSION
    exit_code: int | None = None
    argv: list[str] = field(default_factory=list)
    cwd: str | None = None
    root: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    versions: Versions = field(default_factory=Versions)
    options: dict[str, Any] = field(default_factory=dict)
    option_sources: dict[str, str] = field(default_factory=dict)
    vitest_args: list[str] = field(default_factory=list)
    snapshot_dir: str | None = None
    snapshot_disk_budget: int | None = None  # bytes of snapshots per run (None: none)
    plan: PlanRecord = field(default_factory=PlanRecord)
    lanes: dict[str, LaneRecord] = field(default_factory=dict)
    not_run: list[str] = field(default_factory=list)
    shards: list[str] = field(default_factory=list)
    owner: Owner | None = None
    # merged records (``heaplens merge``)
    shard_argv: list[list[str]] = field(default_factory=list)
    merged_from: list[str] = field(default_factory=list)
    merge_conflicts: list[str] = field(default_factory=list)
    # where it was read from / is written to (not part of the document)
    path: Path | None = field(default=None, init=False, repr=False, compare=False)

    # -- finding and loading ----------------------------------------------------------------------
    @staticmethod
    def locate(given: str | os.PathLike, root: Path | None = None) -> Path:
        """The run.json of a run directory, a run.json, or a run id (looked up in ``$HEAPLENS_RUNS_DIR``,
        then ``<root>/.heaplens/runs``, then ``./.heaplens/runs``: where ``heaplens run`` puts them)."""
        p = Path(given)
        if not p.exists():
            dirs = [Path(os.environ[RUNS_ENV])] if os.environ.get(RUNS_ENV) else []
            dirs += [root / ".heaplens" / "runs"] if root is not None else []
            dirs += [Path.cwd() / ".heaplens" / "runs"]
            p = next((d / str(given) for d in dirs if (d / str(given) / "run.json").is_file()), p)
        if p.is_dir():
            if not (p / "run.json").exists():
                raise RecordError(f"{p} holds no run.json (not a heaplens run directory)")
            p = p / "run.json"
        if not p.exists():
            raise RecordError(f"no run record at {given} (a run directory, its run.json, or a run id)")
        if not p.is_file():
            raise RecordError(f"{p}: not a regular file")
        return p

    @classmethod
    def load(cls, given: str | os.PathLike, root: Path | None = None, *, mark_abandoned: bool = True) -> RunRecord:
        """Read and check a record (see :meth:`locate` for ``given``). A ``running`` record whose owner
        process is gone is marked ``abandoned`` (and saved so), unless ``mark_abandoned`` is false."""
        p = cls.locate(given, root)
        data = read_document(p, "run record", RecordError)
        rec = cls.from_document(data, p)
        rec.relocate()
        if mark_abandoned and rec.status == "running" and rec.owner is not None and rec.owner.alive() is False:
            rec.status = "abandoned"
            rec.finished_at = rec.finished_at or p.stat().st_mtime
            try:
                rec.save()
            except OSError:
                pass  # a read-only copy (a CI artefact): the reader still sees it as abandoned
        return rec

    @classmethod
    def from_document(cls, data, path: Path | None = None) -> RunRecord:
        label = str(path) if path else "run record"
        version = check_schema(data, SCHEMA, SCHEMA_VERSION, label, "run record", RecordError)
        if version == 1 and isinstance(data.get("argv"), list) and data["argv"] and isinstance(data["argv"][0], list):
            # version-1 merged records held a list of command lines in ``argv``
            data = dict(data, shard_argv=data["argv"], argv=["heaplens", "merge"])
        try:
            rec = cls.from_json(data)
        except RecursionError:
            raise RecordError(f"{label}: not a heaplens run record (nested too deeply)") from None
        except ValueError as exc:
            raise RecordError(f"{label}: {exc}") from None
        if rec.status not in STATUSES:
            raise RecordError(f"{label}: status: expected one of {', '.join(STATUSES)}, got {rec.status!r}")
        for name, lane in rec.lanes.items():
            if lane.name != name and not name.startswith(lane.name + "@"):
                raise RecordError(f"{label}: lanes.{name}: its name says {lane.name!r}")
        rec.path = path
        return rec

    def relocate(self) -> None:
        """A run directory that was moved or copied (a CI shard's artifact downloaded into another job) keeps
        its files: paths under the directory the record was written in are read under the one it is in now.
        Where it was written shows in its lanes' files (``<run dir>/lanes/<lane>/trace.jsonl``, the run dir
        named by the run id); a merged record's lanes stay where their shards are."""
        if self.path is None:
            return
        here = self.path.parent
        old = None
        for lane in self.lanes.values():
            for p in (lane.trace, lane.log, lane.samples):
                if p and len(Path(p).parents) > 2 and Path(p).parents[2].name == self.run_id:
                    old = Path(p).parents[2]
                    break
            if old is not None:
                break
        if old is None or str(old) == str(here) or str(old) == str(here.resolve()):
            return
        prefix = str(old).rstrip("/") + "/"
        new = str(here.resolve()).rstrip("/") + "/"

        def move(v):
            if isinstance(v, str):
                if v.startswith(prefix):
                    return new + v[len(prefix):]
                return new[:-1] if v == prefix[:-1] else v
            if isinstance(v, list):
                return [move(x) for x in v]
            if isinstance(v, dict):
                return {k: move(x) for k, x in v.items()}
            if hasattr(v, "__dataclass_fields__"):
                for f in fields(v):
                    if f.init:
                        setattr(v, f.name, move(getattr(v, f.name)))
                return v
            return v

        for name in ("snapshot_dir", "lanes"):
            setattr(self, name, move(getattr(self, name)))

    # -- writing ------------------------------------------------------------------------------------
    @classmethod
    def create(cls, run_dir: Path, **kw) -> RunRecord:
        rec = cls(run_id=run_dir.name, owner=Owner.current(), **kw)
        rec.path = run_dir / "run.json"
        return rec

    def save(self, path: Path | None = None) -> Path:
        p = Path(path or self.path)
        if self.path is None:
            self.path = p
        write_json_atomic(p, self.to_json())
        return p

    def to_json(self) -> dict:
        doc = super().to_json()
        # the identification keys first, as readers (and people) look for them
        return {"schema": doc.pop("schema"), "schema_version": doc.pop("schema_version"), **doc}

    # -- reading --------------------------------------------------------------------------------------
    @property
    def dir(self) -> Path:
        if self.path is None:
            raise ValueError("this run record has no path yet")
        return self.path.parent

    def lane(self, name: str) -> LaneRecord:
        try:
            return self.lanes[name]
        except KeyError:
            raise RecordError(f"no lane {name} in {self.path} (lanes: {', '.join(self.lanes) or 'none'})") from None

    @property
    def finished(self) -> bool:
        return self.status not in ("running",)
