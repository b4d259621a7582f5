"""Run the lanes: one test-runner process per lane (``vitest run``, ``jest``), in its own process group, watched by
one thread. What is runner-specific — the lane's command line and generated config, its pools, its words for a
dead worker — comes from the suite's runner (:mod:`heaplens.runner.seam`); this module knows none.

The watcher reads the lane's JSONL trace as the workers write it (file start / after collection / end / settle
lines, GC-settled heap figures, and the heap snapshots the workers write themselves at file boundaries, from the
runner's injected setup module), tells the workers when the lane has started every planned file (so that each can
tell its last file), samples the lane's process tree with psutil every ``poll_ms`` (worker processes = the child
processes of the runner's main process, whose PID the generated config writes; in-band, the main process
itself), optionally signals worker processes for heap snapshots every interval, and at the end works out which
workers died and what they were running. A worker is a process or a worker thread: it is identified by PID and
thread id.
"""

from __future__ import annotations

import collections
import json
import os
import re
import select
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from ..atomicfile import write_json_atomic
from ..console import say
from ..console import write as _write
from ..snapshot.files import in_order, parse_name
from ..units import fmt_elapsed, fmt_size
from .options import GC_EVERY
from .plan import Lane
from .seam import Suite
from .suite import LaneSetup
from .watchdog import Guard

OOM_PATTERNS = (
    "JavaScript heap out of memory",
    "FATAL ERROR: Reached heap limit",
    "FATAL ERROR: Ineffective mark-compacts near heap limit",
    "node::OOMErrorHandler",
)
GC_LINE_PID = re.compile(r"\[(\d+):0x[0-9a-fA-F]+\]")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
TAIL_CHARS = 200_000
# A file's GC-settled growth inside it is worth a snapshot pair from this share of its heap limit: the floor
# under which the diagnosis reports a cause as a note, not a finding (diagnose.findings.FLOOR). The workers get it
# too ($HEAPLENS_SNAPSHOT_FLOOR): a first file end that left less than it since the file's collection snapshot
# is not written.
PAIR_FLOOR = 0.001
DEFAULT_HEAP_LIMIT = 4 * 1024**3
SNAPSHOT_TIMEOUT_MS = 600_000

@dataclass
class RunSettings:
    workers: int | None
    max_old_space_mb: int | None
    trace: bool
    poll_ms: int
    top: int
    snapshot_interval: float
    snapshot_base: Path | None
    snapshot_signal: str
    grace: float
    vitest_args: list[str]  # the user's arguments after `--`, for the runner (the name is the record's)
    snapshots: bool = False  # in-worker snapshots at test-file boundaries
    overhead: float = 0.25  # share of a lane's wall time snapshot writing may take
    gc_overhead: float | None = 0.10  # share of a worker's time its per-file forced GCs may take (None: every end)
    disk_budget: int | None = None  # bytes of snapshots per run (None: no budget)


DEFAULT_DISK_BUDGET = 20 * 1024**3


def disk_budget_bytes(gb: float | None, snap_base: Path | None) -> int | None:
    """The run's snapshot disk budget: the option (0 = none), else the smaller of 20 GiB and half the free
    space of the snapshot directory's file system at the start."""
    if gb is not None:
        return None if gb <= 0 else int(gb * 1024**3)
    if snap_base is None:
        return None
    probe = snap_base
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        free = shutil.disk_usage(probe).free
    except OSError:
        return DEFAULT_DISK_BUDGET
    return min(DEFAULT_DISK_BUDGET, free // 2)


def run_dir_for(values: dict, root: Path, run_id: str) -> Path:
    """Where a run's record and files go (``--runs-dir``, else ``<root>/.heaplens/runs``), absolute."""
    runs = Path(values["runs_dir"]) if values["runs_dir"] else root / ".heaplens" / "runs"
    return (runs if runs.is_absolute() else Path.cwd() / runs).resolve() / run_id


def run_settings(values: dict, run_dir: Path, runner_args: list[str]) -> tuple[RunSettings, list[str]]:
    """The lanes' settings from the resolved options, and the lines to say about what was adjusted (an interval
    under 1 s, snapshots that need the trace: ``settings.trace`` is then on although ``values`` says off)."""
    notes = []
    interval = values["snapshot_interval"]
    if 0 < interval < 1:
        notes.append(f"[heaplens][heap] snapshot interval {interval:g}s raised to 1s")
        interval = 1.0
    snap_base = None
    if values["snapshot_dir"]:
        snap_base = Path(values["snapshot_dir"])
        snap_base = (snap_base if snap_base.is_absolute() else Path.cwd() / snap_base).resolve()
    elif interval > 0 or values["snapshots"]:
        snap_base = run_dir / "heapsnap"
    trace = values["trace"]
    if values["snapshots"] and not trace:
        notes.append("[heaplens] --snapshots needs the setup file of the trace: the trace is on")
        trace = True
    settings = RunSettings(
        workers=values["workers"],
        max_old_space_mb=values["max_old_space_mb"],
        trace=trace,
        poll_ms=max(100, values["poll_ms"]),
        top=values["top"],
        snapshot_interval=interval,
        snapshot_base=snap_base,
        snapshot_signal=values["snapshot_signal"],
        grace=values["grace"],
        vitest_args=list(runner_args),
        snapshots=bool(values["snapshots"]),
        overhead=values["snapshot_overhead"] / 100.0,
        gc_overhead=None if values["gc_overhead"] == GC_EVERY else values["gc_overhead"] / 100.0,
        disk_budget=disk_budget_bytes(values["snapshot_budget_gb"], snap_base),
    )
    return settings, notes


class DiskLedger:
    """The run's snapshot bytes, shared by its lanes (the disk budget is per run)."""

    def __init__(self, budget: int | None):
        self.budget = budget
        self.used = 0
        self.lock = threading.Lock()
        self.reached_said = False

    def left(self) -> int | None:
        with self.lock:
            return None if self.budget is None else max(0, self.budget - self.used)

    def add(self, n: int) -> None:
        with self.lock:
            self.used += n


@dataclass
class Worker:
    pid: int
    first_seen: float
    tid: int = 0  # worker thread id (threads, vmThreads); 0 for a worker process
    last_rss: int = 0
    peak_rss: int = 0
    alive: bool = True
    started: bool = False  # has written a trace line: its Node is booted, signal handlers in place
    open: dict = field(default_factory=dict)  # file -> start event
    collected: dict = field(default_factory=dict)  # file -> collected event
    window_peak: int = 0
    files: list = field(default_factory=list)
    pool: str | None = None
    isolate: bool | None = None
    project: str | None = None
    settled: dict | None = None  # the last GC-settled figures (start of its first file, or a file end)
    snapshots: list = field(default_factory=list)  # paths, in order
    snapshot_at_files: int = -1  # how many files had ended when its last snapshot was written
    snap_since_end: bool = False  # a snapshot was written after its last file end (RSS inflated)
    span: list = field(default_factory=list)  # the files ended without a forced GC since its last settled line
    last_rec: dict | None = None  # the record of its last file end

    @property
    def key(self) -> str:
        return worker_key(self.pid, self.tid)


def _whole_snapshot(path: str) -> bool:
    """A heap snapshot file that ends as V8 ends one (its JSON object closed); a cut write does not."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            end = fh.tell()
            fh.seek(max(0, end - 64))
            return fh.read().rstrip().endswith(b"}")
    except OSError:
        return False


def worker_key(pid: int, tid: int = 0) -> str:
    """A worker's key in the run record: its PID, or PID.TID for a worker thread (Node's snapshot names
    carry the same two numbers)."""
    return str(pid) if not tid else f"{pid}.{tid}"


TRACE_TICK = 0.025  # seconds between two reads of a lane's trace while it runs


class ExitWait:
    """Wait up to a timeout for a child process to exit, and return as soon as it does: a pidfd that becomes
    readable when it exits (Linux ≥ 5.3), else ``Popen.wait``, which polls with sleeps of up to 50 ms."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.fd = None
        self.poller = None
        try:
            self.fd = os.pidfd_open(proc.pid)
            self.poller = select.poll()
            self.poller.register(self.fd, select.POLLIN)
        except (AttributeError, OSError):
            self.close()

    def wait(self, timeout: float) -> None:
        if self.poller is not None:
            try:
                self.poller.poll(timeout * 1000)
                return
            except OSError:
                self.close()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass

    def close(self) -> None:
        if self.fd is not None:
            try:
                os.close(self.fd)
            except OSError:
                pass
        self.fd = None
        self.poller = None


class LaneRunner:
    def __init__(self, lane: Lane, suite: Suite, settings: RunSettings, run_dir: Path, stop: threading.Event,
                 stop_signal: list, disk: DiskLedger | None = None, follow_up_of: LaneRunner | None = None,
                 on_last: Callable[[str, list[str]], None] | None = None,
                 on_written: Callable[[str, list[str]], None] | None = None):
        self.lane = lane
        self.follow_up_of = follow_up_of  # the lane whose files this pairs lane reruns (verify's has none)
        # told (lane name, the worker's snapshots) when a worker's last snapshot is written and no other worker of
        # the lane runs a file: the caller may start reading them while the runner finishes
        self.on_last = on_last
        # told (lane name, the worker's snapshots so far) when a worker's snapshot other than its last is written
        self.on_written = on_written
        self.suite = suite
        self.runner = suite.runner
        self.s = settings
        self.run_dir = run_dir
        self.stop = stop
        self.stop_signal = stop_signal
        self.disk = disk or DiskLedger(settings.disk_budget)
        self.lane_dir = run_dir / "lanes" / lane.name
        self.trace_path = self.lane_dir / "trace.jsonl"
        self.samples_path = self.lane_dir / "samples.jsonl"
        self.log_path = self.lane_dir / self.runner.log_name
        self.pid_path = self.lane_dir / f"{self.runner.name}-main.pid"
        self.ledger_path = self.lane_dir / "snapshots.jsonl"
        self.started_path = self.lane_dir / "started"
        self.snap_dir = (settings.snapshot_base / lane.name) if settings.snapshot_base else None
        self.workers: dict[str, Worker] = {}
        self.main_pid: int | None = None
        self.main_exe: str | None = None
        self.seen_pids: set[int] = set()
        self.helpers: set[int] = set()  # children of the runner's main that are not workers (its helper_titles)
        self.files: list[dict] = []
        self.tree_peak = 0
        self.tree_peak_at = "n/a"
        self.tree_peak_t = 0.0
        self.tail = collections.deque()
        self.tail_len = 0
        self.snap_seq = 0
        self.snap_events: list[dict] = []
        self.snap_sent: dict[int, int] = {}
        self.written: list[dict] = []  # snapshots the workers wrote (trace `snapshot` lines)
        self.signal_files: dict[str, dict] = {}  # snapshots Node wrote on a signal: path → {size, reported}
        self.notices: list[dict] = []  # spacing out / disk budget / errors, once per lane and reason
        self.stopped: str | None = None  # why snapshots stopped in this lane
        self.dropped: list[dict] = []  # cut snapshot files removed (a failed write: ENOSPC), issue 14 item 2
        self.started_files = 0
        self._rel_cache: dict[str, str] = {}
        self._root_resolved = suite.root.resolve()
        self.faults: list[dict] = []
        self.exit_code: int | None = None
        self.signal_name: str | None = None
        self.status = "pending"
        self.elapsed = 0.0
        self.started_at: float | None = None
        self.argv: list[str] = []
        self.env_extra: dict[str, str] = {}
        self.env_internal: dict[str, str] = {}
        self.generated: list[Path] = []
        self._trace_pos = 0
        self._trace_buf = b""
        self._samples_fh = None
        self.proc: subprocess.Popen | None = None
        self.spawned_env: dict[str, str] = {}  # the environment the runner was started with (:meth:`spawn`)
        self._gate: Path | None = None  # the gate file of a lane started ahead (runner/early_lane.py)
        self.snapshots_on = bool(settings.snapshots and self.snap_dir is not None)
        self.pairs_planned: list[dict] = []  # files to rerun in a follow-up lane for their snapshot pair
        self.disk_left: int | None = None

    # ---------------------------------------------------------------- setup
    def pools(self) -> set[str]:
        """The pools this lane's workers run in: the lane's override, else its projects' (unknown: all)."""
        pools = self.runner.pools
        if self.lane.pool:
            return {self.lane.pool}
        got = {p for p in (self.lane.config.get("pool") or "").split("|") if p in pools}
        return got or set(pools)

    def max_workers(self) -> int:
        """The most workers the lane can run at once: its override, else the largest count its projects ask
        for (a number, or a percentage of the cores), else the runner's default (never more than the cores)."""
        if self.lane.workers:
            return int(self.lane.workers)
        cpus = os.cpu_count() or 1
        best = 0
        for v in (self.lane.config.get("workers") or "default").split("|"):
            v = v.strip()
            if v.endswith("%"):
                try:
                    best = max(best, max(1, int(cpus * float(v[:-1]) / 100)))
                except ValueError:
                    best = max(best, cpus)
            elif v.isdigit():
                best = max(best, int(v))
            else:
                best = max(best, cpus)
        return best or cpus

    def exec_argv(self) -> list[str]:
        """Node flags for the workers (the runner puts them where its workers read them: worker threads refuse V8
        flags in their execArgv)."""
        a = []
        if self.s.max_old_space_mb:
            a.append(f"--max-old-space-size={self.s.max_old_space_mb}")
        if self.snap_dir is not None:
            a += [f"--diagnostic-dir={self.snap_dir}", "--heapsnapshot-near-heap-limit=1"]
            if self.s.snapshot_interval > 0:
                a.append(f"--heapsnapshot-signal={self.s.snapshot_signal}")
        return a

    def lane_setup(self) -> LaneSetup:
        """What the runner is asked for this lane's command (:meth:`prepare`)."""
        return LaneSetup(
            lane=self.lane,
            config_dir=self.config_dir,
            exec_argv=self.exec_argv(),
            trace=self.s.trace or self.snapshots_on,
            test_timeout_ms=SNAPSHOT_TIMEOUT_MS if self.s.snapshot_interval > 0 else None,
            extra_args=list(self.s.vitest_args),
            pools=self.pools(),
        )

    def prepare(self) -> None:
        self.lane_dir.mkdir(parents=True, exist_ok=True)
        if self.snap_dir is not None:
            self.snap_dir.mkdir(parents=True, exist_ok=True)
        # Under the suite root, so that the generated config's imports (`vitest/config`, `jest-config`) resolve to
        # the suite's own packages.
        self.config_dir = self.suite.root / ".heaplens" / "config" / self.run_dir.name
        self.config_dir.mkdir(parents=True, exist_ok=True)
        cmd = self.runner.lane_command(self.suite, self.lane_setup())
        self.argv = cmd.argv
        self.env_extra = dict(cmd.env)
        self.env_internal = dict(cmd.internal_env)
        self.generated = list(cmd.generated)
        self.trace_path.write_bytes(b"")
        self.ledger_path.write_bytes(b"")
        self.started_path.write_bytes(b"")

    def lane_env(self, t0_ms: float) -> dict:
        env = dict(os.environ)
        env["HEAPLENS_TRACE_FILE"] = str(self.trace_path)
        env["HEAPLENS_MAIN_PID_FILE"] = str(self.pid_path)
        env["HEAPLENS_LANE"] = self.lane.name
        env["HEAPLENS_LANE_T0"] = str(int(t0_ms))
        env["HEAPLENS_STARTED"] = str(self.started_path)
        env["HEAPLENS_PLANNED"] = str(max(1, self.lane.runs or len(self.lane.files)))
        env["HEAPLENS_MAX_WORKERS"] = str(self.max_workers())
        env["HEAPLENS_LEDGER"] = str(self.ledger_path)
        env.update(self.env_internal)
        for k in ("HEAPLENS_SNAPSHOTS", "HEAPLENS_SNAPSHOT_DIR", "HEAPLENS_SNAPSHOT_OVERHEAD", "HEAPLENS_SNAPSHOT_DISK",
                  "HEAPLENS_SNAPSHOT_FLOOR"):
            env.pop(k, None)
        for k in ("HEAPLENS_PAIRS", "HEAPLENS_PAIRS_BUDGET", "HEAPLENS_PAIRS_FIRST", "HEAPLENS_GC_OVERHEAD"):
            env.pop(k, None)
        if self.s.gc_overhead is not None:
            env["HEAPLENS_GC_OVERHEAD"] = f"{self.s.gc_overhead:g}"
        if self.pairs:
            env["HEAPLENS_PAIRS"] = "1"
            parent = self.follow_up_of
            if parent is not None and parent.pairs_planned:
                # the pairs share what the overhead budget left of the lane they rerun; its largest always
                env["HEAPLENS_PAIRS_BUDGET"] = f"{parent.pair_budget():.3f}"
                env["HEAPLENS_PAIRS_FIRST"] = parent.pairs_planned[0]["file"]
        if self.snapshots_on:
            env["HEAPLENS_SNAPSHOTS"] = "1"
            env["HEAPLENS_SNAPSHOT_DIR"] = str(self.snap_dir)
            env["HEAPLENS_SNAPSHOT_OVERHEAD"] = f"{self.s.overhead:g}"
            env["HEAPLENS_SNAPSHOT_FLOOR"] = f"{PAIR_FLOOR:g}"
            if self.disk_left is not None:
                env["HEAPLENS_SNAPSHOT_DISK"] = str(self.disk_left)
        for k, v in self.env_extra.items():
            env[k] = (env.get(k, "") + " " + v).strip() if k == "NODE_OPTIONS" else v
        return env

    # ---------------------------------------------------------------- run
    def run(self) -> None:
        if self.proc is None:
            self.check_disk(quiet=False)
            self.prepare()
            self.announce()
            if not self.spawn():
                return
        else:  # started ahead, waiting at its gate (runner/early_lane.py)
            self.announce()
            self.open_gate()
        self.follow()

    def check_disk(self, quiet: bool) -> bool:
        """The run's disk budget left for this lane's snapshots; False when it is used up (``quiet``: without
        the notice, and snapshots stay on — the caller will not start the lane)."""
        if not self.snapshots_on:
            return True
        self.disk_left = self.disk.left()
        if self.disk_left is not None and self.disk_left <= 0:
            if quiet:
                return False
            self.snapshots_on = False
            self.stopped = "disk-budget"
            self._notice("snapshot-skipped", "disk-budget", f"the run's snapshot disk budget "
                         f"({fmt_size(self.disk.budget or 0)}) is used up: no snapshots in this lane")
            return False
        return True

    def announce(self) -> None:
        """The lane's start lines (its settings as planned, how its snapshots are taken)."""
        lane = self.lane
        say(f"[heaplens] start {lane.name} workers={lane.effective('workers')} files={len(lane.files)} "
            f"pool={lane.effective('pool')} isolate={lane.effective('isolate')}")
        for d in lane.deviations:
            say(f"[heaplens] deviation {lane.name}: {d['text']}")
        if self.snapshots_on:
            budget = "none" if self.disk_left is None else fmt_size(self.disk_left)
            if self.pairs:
                what = "a snapshot pair for each file, after its collection and at its end"
            else:
                what = (f"after the first file's collection, the first (unless its tests left less than the "
                        f"diagnosis's floor) and last file end of each worker that runs several files, one in "
                        f"between while writing takes at most {self.s.overhead:.0%} of the lane's time")
                if "yes" in (lane.effective("isolate") or "") and any(
                        self.runner.per_file_worker(p, True) for p in self.pools()):
                    what += ("; a worker per file gets GC-settled lines, and the files that grow most inside the "
                             "file are rerun for a snapshot pair")
            say(f"[heaplens][heap] {lane.name} snapshots at test-file boundaries after a full GC: {what}; "
                f"disk left {budget}; dir={self.snap_dir}")
        if self.s.snapshot_interval > 0:
            say(f"[heaplens][heap] {lane.name} snapshots every {self.s.snapshot_interval:g}s by signal (worker "
                f"processes only): test, hook and teardown timeouts raised to {SNAPSHOT_TIMEOUT_MS // 1000}s")
            if not self.pools() - set(self.runner.thread_pools):
                say(f"[heaplens][heap] {lane.name} runs in worker threads ({'/'.join(sorted(self.pools()))}): "
                    "a thread cannot be signalled, no interval snapshots")

    def spawn(self, gate: Path | None = None, quiet: bool = False) -> bool:
        """Start the lane's runner process (after :meth:`prepare`). With ``gate``, the runner waits at the top of
        its generated config until heaplens writes that file (:meth:`open_gate`, when the lane is run), or is
        killed (:meth:`abandon`). False when the process cannot be started (said unless ``quiet``; status
        failed)."""
        self.started_at = time.time()
        env = self.lane_env(self.started_at * 1000)
        self.spawned_env = dict(env)
        self._gate = gate
        if gate is not None:
            env["HEAPLENS_GATE"] = str(gate)
        self._t0 = time.monotonic()
        self.status = "running"
        self._samples_fh = open(self.samples_path, "w", buffering=1)
        self._log = open(self.log_path, "wb")
        self._guard = Guard(cleanup=[self.config_dir])  # a killed heaplens takes the lane with it (runner/watchdog.py)
        self._guard.start()
        try:
            self.proc = subprocess.Popen(
                self.argv, cwd=self.suite.root, env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
            )
        except OSError as exc:
            self._guard.release()
            if not quiet:
                say(f"[heaplens] done {self.lane.name} code=127 elapsed=0ms ({exc})")
            self.exit_code, self.status = 127, "failed"
            self._log.close()
            self._samples_fh.close()
            return False
        self._guard.watch(self.proc.pid)
        self.seen_pids.add(self.proc.pid)
        self._pump_thread = threading.Thread(target=self._pump, args=(self._log,), daemon=True)
        self._pump_thread.start()
        return True

    def follow(self) -> None:
        """Watch the started lane to its end, then read what it left and clean up."""
        try:
            self._watch(self._t0)
        except BaseException:
            self._kill_all()  # never leave a lane running behind a failed watcher
            raise
        finally:
            self._release()
        self.elapsed = time.monotonic() - self._t0
        self._finish()
        self._remove_generated()

    def gate_env(self) -> dict[str, str]:
        """What a gated lane is told when its gate opens: the settings that depend on the suite's files (the
        planned runs, the most workers its projects can have)."""
        env = self.lane_env(0)
        return {k: env[k] for k in ("HEAPLENS_PLANNED", "HEAPLENS_MAX_WORKERS")}

    def open_gate(self) -> None:
        """Let a lane started behind its gate go on, with :meth:`gate_env` (written whole: the lane polls it)."""
        if self._gate is not None:
            write_json_atomic(self._gate, {"env": self.gate_env()})

    def abandon(self) -> None:
        """A lane started behind its gate that is not wanted after all: killed (it has run nothing of the suite's
        but its config module), waited for, and what it was given removed."""
        if self.proc is not None:
            self._kill_all()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self._release()
            self.proc = None
        self._remove_generated()
        shutil.rmtree(self.lane_dir, ignore_errors=True)

    def _release(self) -> None:
        """What :meth:`spawn` holds for a started runner: its watchdog, output pump, log and samples files."""
        self._guard.release()
        self._pump_thread.join(timeout=10)
        self._log.close()
        self._samples_fh.close()

    def _remove_generated(self) -> None:
        gate = [self._gate] if self._gate is not None else []
        for generated in (*self.generated, self.started_path, *gate):
            try:
                generated.unlink()
            except OSError:
                pass
        # .heaplens/config/<run>, .heaplens/config, .heaplens: each only when nothing else is in it
        for empty in (self.config_dir, self.config_dir.parent, self.config_dir.parent.parent):
            try:
                empty.rmdir()
            except OSError:
                break  # not empty: another lane or run still uses it

    def _pump(self, log) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in iter(self.proc.stdout.readline, b""):
            log.write(raw)
            text = raw.decode("utf-8", "replace")
            self.tail.append(text)
            self.tail_len += len(text)
            while self.tail_len > TAIL_CHARS and len(self.tail) > 1:
                self.tail_len -= len(self.tail.popleft())
            _write(text)

    def _watch(self, t0: float) -> None:
        assert self.proc is not None
        poll = self.s.poll_ms / 1000.0
        # the trace is read every tick: a worker's last snapshot is seen (and read ahead) within one
        tick = min(poll, TRACE_TICK)
        exited = ExitWait(self.proc)
        next_poll = time.monotonic()
        interval = self.s.snapshot_interval
        next_snap = time.monotonic() + interval if interval > 0 else None
        killed_at = None
        try:
            while True:
                rc = self.proc.poll()
                self._read_trace()
                now = time.monotonic()
                if now >= next_poll:
                    self._sample("poll")
                    next_poll = now + poll
                if next_snap is not None and now >= next_snap and rc is None and not self.stop.is_set():
                    self._snapshot_round()
                    next_snap = now + interval
                if rc is not None:
                    break
                if self.stop.is_set():
                    if killed_at is None:
                        self._signal_group(self.stop_signal[0] if self.stop_signal else signal.SIGTERM)
                        killed_at = now
                    elif now - killed_at >= self.s.grace:
                        self._kill_all()
                        killed_at = float("inf")
                exited.wait(tick)  # returns as soon as the runner exits
        finally:
            exited.close()
        # the runner's main is gone; anything left in its group (an orphaned worker) goes too.
        self._read_trace()
        self._sweep()
        self.exit_code = rc

    # ---------------------------------------------------------------- signals
    def _signal_group(self, sig) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _kill_all(self) -> None:
        self._signal_group(signal.SIGKILL)
        for pid in list(self.seen_pids):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _sweep(self) -> None:
        """After the lane's runner exits: kill what remains of its process group and of the processes seen."""
        leftovers = []
        for pid in self.seen_pids:
            if self.proc is not None and pid == self.proc.pid:
                continue
            try:
                p = psutil.Process(pid)
                if p.status() != psutil.STATUS_ZOMBIE:
                    leftovers.append(p)
            except psutil.Error:
                pass
        if not leftovers:
            return
        for p in leftovers:
            try:
                p.terminate()
            except psutil.Error:
                pass
        _, alive = psutil.wait_procs(leftovers, timeout=min(self.s.grace, 5.0))
        for p in alive:
            try:
                p.kill()
            except psutil.Error:
                pass

    # ---------------------------------------------------------------- trace
    def _read_trace(self) -> None:
        try:
            with open(self.trace_path, "rb") as fh:
                fh.seek(self._trace_pos)
                chunk = fh.read()
        except OSError:
            return
        if not chunk:
            return
        self._trace_pos += len(chunk)
        data = self._trace_buf + chunk
        lines = data.split(b"\n")
        self._trace_buf = lines.pop()
        for line in lines:
            if not line.strip():
                continue
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if isinstance(ev, dict):
                self._on_event(ev)

    def _worker(self, pid: int, tid: int = 0) -> Worker:
        key = worker_key(pid, tid)
        w = self.workers.get(key)
        if w is None:
            w = self.workers[key] = Worker(pid, time.time(), tid=tid)
            self.seen_pids.add(pid)
        return w

    def _workers_of(self, pid: int) -> list[Worker]:
        return [w for w in self.workers.values() if w.pid == pid]

    def _rel(self, file: str | None) -> str:
        if not file:
            return "?"
        hit = self._rel_cache.get(file)
        if hit is None:
            try:
                hit = Path(file).resolve().relative_to(self._root_resolved).as_posix()
            except ValueError:
                hit = file
            self._rel_cache[file] = hit
        return hit

    @property
    def pairs(self) -> bool:
        """A pairs lane: each file its own snapshot pair (a follow-up lane's rerun of the files that grew, or
        verify's rerun of a holder's files); it plans no pairs of its own."""
        return self.lane.kind == "pairs"

    @staticmethod
    def _growth_words(rec: dict) -> str:
        """The GC-settled growth of a file end, or of the span of files it closes (never as one file's)."""
        n = rec.get("settled_files") or 1
        growth = fmt_size(rec["heap_growth"], signed=True)
        return f"heapDelta={growth}" if n <= 1 else f"heapDelta={growth} over its last {n} files (GC-settled together)"

    def _on_settle(self, w: Worker, ev: dict) -> None:
        """A worker's last file end, GC-settled after it ended without a forced GC (the GC budget): the growth
        of the span of files since its previous settled line."""
        rec = w.last_rec
        if rec is None or rec.get("settled_end") is not None or rec["file"] != self._rel(ev.get("file")):
            return
        end_fig, base_fig = self._figures(ev), rec.get("settled_start")
        if base_fig is not None and end_fig is not None:
            rec["settled_end"] = end_fig
            rec["settled_files"] = len(w.span)
            rec["settled_span"] = list(w.span)
            rec["heap_growth"] = end_fig["heap_used"] - base_fig["heap_used"]
            rec["external_growth"] = end_fig["external"] - base_fig["external"]
            rec["gc_ms"] = ev.get("gcMs")
            say(f"[heaplens][mem] {self.lane.name} file={rec['file']} settled after its end (the worker's last): "
                f"heap={fmt_size(end_fig['heap_used'])} {self._growth_words(rec)} pid={rec['pid']}"
                + (f" tid={rec['tid']}" if rec.get("tid") else ""))
        w.settled = ev
        w.span = []

    @staticmethod
    def _figures(ev: dict | None) -> dict | None:
        if not ev:
            return None
        return {"heap_used": ev.get("heapUsed"), "external": ev.get("external"),
                "array_buffers": ev.get("arrayBuffers"), "rss": ev.get("rss")}

    def _on_event(self, ev: dict) -> None:
        kind = ev.get("ev")
        try:
            pid = int(ev.get("pid", 0))
            tid = int(ev.get("tid") or 0)
        except (TypeError, ValueError):
            return
        if kind in ("snapshot-deferred", "snapshot-skipped"):
            self._on_notice(ev)
            return
        if self.main_pid is None and (ev.get("main") or ev.get("ppid")):
            self._set_main(int(ev.get("main") or ev["ppid"]))
        w = self._worker(pid, tid)
        w.started = True
        file = self._rel(ev.get("file"))
        if kind == "snapshot":
            self._on_snapshot(w, ev, file)
            return
        rss = int(ev.get("rss") or 0)
        w.last_rss = rss
        w.peak_rss = max(w.peak_rss, rss)
        if kind == "start":
            w.open[file] = ev
            w.window_peak = rss
            w.pool, w.isolate, w.project = ev.get("pool"), ev.get("isolate"), ev.get("project")
            if ev.get("settled"):
                w.settled = ev
            self.started_files += 1
            return
        if kind == "collected":
            w.collected[file] = ev
            return
        if kind == "settle":
            self._on_settle(w, ev)
            return
        if kind != "end":
            return
        start = w.open.pop(file, None)
        if start is None:
            return
        collected = w.collected.pop(file, None)
        # The GC-settled baseline of this file: after its collection (a worker per file), else the previous
        # file end of the same worker, else the settled start of the worker's first file.
        if collected is not None:
            base, base_kind = collected, "collected"
        elif w.settled is not None:
            base, base_kind = w.settled, ("worker-start" if w.settled.get("ev") == "start" else "previous-end")
        else:
            base, base_kind = None, None
        inflated = w.snap_since_end or any(
            x.get("at") == "collected" and x.get("file") == file and x.get("worker") == w.key for x in self.written)
        peak = max(w.window_peak, rss, int(start.get("rss", 0)))
        delta = rss - int(start.get("rss", 0))
        end_fig = self._figures(ev) if ev.get("settled") else None
        base_fig = self._figures(base)
        rec = {
            "file": file,
            "pid": pid,
            "tid": tid,
            "worker": w.key,
            "project": ev.get("project") or start.get("project") or "",
            "pool": ev.get("pool"),
            "isolate": ev.get("isolate"),
            "start_ms": start.get("t"),
            "end_ms": ev.get("t"),
            "duration_ms": (ev.get("t") or 0) - (start.get("t") or 0),
            "rss_start": int(start.get("rss", 0)),
            "rss_end": rss,
            "delta": delta,
            "peak": peak,
            "rss_inflated": bool(inflated),
            "rss_scope": "process" if tid else "worker",
            "heap_used_start": start.get("heapUsed"),
            "heap_used_end": ev.get("heapUsed"),
            "external_start": start.get("external"),
            "external_end": ev.get("external"),
            "array_buffers_start": start.get("arrayBuffers"),
            "array_buffers_end": ev.get("arrayBuffers"),
            "settled_base": base_kind,
            "settled_start": base_fig,
            "settled_end": end_fig,
            # the files the settled growth spans: this one, and those before it that ended without a GC
            "settled_files": len(w.span) + 1 if end_fig and base_fig else None,
            "settled_span": [*w.span, file] if end_fig and base_fig else [],
            "heap_growth": (end_fig["heap_used"] - base_fig["heap_used"]) if end_fig and base_fig else None,
            "external_growth": (end_fig["external"] - base_fig["external"]) if end_fig and base_fig else None,
            "gc_ms": ev.get("gcMs"),
            "heap_limit": start.get("heapLimit"),
            "pool_id": start.get("poolId"),
            "worker_id": start.get("workerId"),
            "index": ev.get("n"),
            "snapshots": [x["path"] for x in self.written if x.get("worker") == w.key and x.get("file") == file
                          and x.get("at") == "collected"],
        }
        self.files.append(rec)
        w.files.append(file)
        w.last_rec = rec
        if ev.get("settled"):
            w.settled = ev
            w.span = []
        else:
            w.span.append(file)
        w.snap_since_end = False
        heap = ""
        if rec["heap_growth"] is not None:
            heap = f" heap={fmt_size(end_fig['heap_used'])} {self._growth_words(rec)}"
        who = f"pid={pid}" + (f" tid={tid}" if tid else "")
        note = " rssNote=snapshot" if inflated else ""
        say(f"[heaplens][mem] {self.lane.name} file={file} rss={fmt_size(rss)} delta={fmt_size(delta, signed=True)} "
            f"peak={fmt_size(peak)}{heap} {who}{note}")

    def _on_snapshot(self, w: Worker, ev: dict, file: str) -> None:
        path = str(ev.get("path") or "")
        entry = {"path": path, "worker": w.key, "pid": w.pid, "tid": w.tid, "file": file,
                 "reason": ev.get("reason"), "at": ev.get("at"), "bytes": int(ev.get("bytes") or 0),
                 "seconds": float(ev.get("seconds") or 0.0), "t": ev.get("t"), "heap_used": ev.get("heapUsed"),
                 "rss_before": ev.get("rssBefore"), "rss_after": ev.get("rssAfter"), "index": ev.get("n"),
                 "pool_id": ev.get("poolId")}
        self.written.append(entry)
        self.disk.add(entry["bytes"])
        w.snapshots.append(path)
        w.snapshot_at_files = len(w.files)
        if ev.get("at") in ("end", "idle", "stop"):
            w.snap_since_end = True
            if self.files:
                for rec in reversed(self.files):
                    if rec["worker"] == w.key and rec["file"] == file:
                        rec["snapshots"].append(path)
                        break
        where = {"end": "end of", "collected": "after the collection of", "idle": "end (idle) of",
                 "stop": "end (stopping) of"}.get(ev.get("at"), "at")
        who = f"pid={w.pid}" + (f" tid={w.tid}" if w.tid else "")
        say(f"[heaplens][heap] {self.lane.name} wrote {Path(path).name} {fmt_size(entry['bytes'])} in "
            f"{entry['seconds']:.1f}s {who} {where} {file} reason={entry['reason']}")
        if ev.get("v8Flags"):
            self._notice("gc-flags", "tracking", f"from a worker's first snapshot on, V8 scavenges on one thread "
                         f"({' '.join(map(str, ev['v8Flags']))}): it then reports every object its GC moves to the "
                         "heap profiler under one lock (the snapshot ids stay stable), and parallel scavenger tasks "
                         "contend on it; what the GC frees and keeps is unchanged", ev)
        # a worker's last snapshot: of its series, or of its file's pair (a worker per file)
        last = entry["reason"] == "last" or (entry["reason"], entry["at"]) == ("pair", "end")
        if not last:
            if self.on_written is not None:
                self.on_written(self.lane.name, list(w.snapshots))
        elif (self.on_last is not None and entry["reason"] == "last"
                and not any(o.open for o in self.workers.values() if o is not w)):
            self.on_last(self.lane.name, list(w.snapshots))

    def _notice(self, kind: str, reason: str, text: str, ev: dict | None = None) -> None:
        if any(n["kind"] == kind and n["reason"] == reason for n in self.notices):
            return
        self.notices.append({"kind": kind, "reason": reason, "text": text, **({"event": ev} if ev else {})})
        say(f"[heaplens][heap] {self.lane.name} {text}")

    def _on_notice(self, ev: dict) -> None:
        kind, reason = ev.get("ev"), ev.get("reason")
        if kind == "snapshot-deferred":
            est = float(ev.get("estimate") or 0)
            frac = float(ev.get("overhead") or self.s.overhead)
            self._notice(kind, str(reason), f"spacing snapshots out: one takes ~{est:.1f}s and writing may take "
                         f"{frac:.0%} of the lane's time (worker slot {ev.get('slot')} has spent "
                         f"{float(ev.get('spent') or 0):.1f}s of {float(ev.get('elapsed') or 0):.1f}s); file ends "
                         "in between wait, each worker's first and last are still written", ev)
        elif reason == "unchanged":
            self._notice(kind, reason, f"a worker's first file end ({self._rel(ev.get('file'))}) is not written: its "
                         f"tests left {fmt_size(max(0, int(ev.get('grew') or 0)))} on the GC-settled heap since the snapshot "
                         f"after its collection, under the diagnosis's floor ({fmt_size(int(ev.get('floor') or 0))}) "
                         "— that snapshot stands for it", ev)
        elif reason == "pair-budget":
            parent = self.follow_up_of.lane.name if self.follow_up_of else "the lane"
            self._notice(kind, reason, f"the overhead budget {parent} left for pairs is spent "
                         f"({float(ev.get('spent') or 0):.1f}s of {float(ev.get('budget') or 0):.1f}s written, the next "
                         f"pair ~{float(ev.get('estimate') or 0):.1f}s): its other files run without a pair", ev)
        elif reason == "disk-budget":
            self.stopped = self.stopped or "disk-budget"
            self._notice(kind, reason, f"snapshot disk budget reached ({fmt_size(self.disk.budget or 0)} per run, "
                         f"{fmt_size(int(ev.get('spent') or 0))} written in this lane): no more snapshots", ev)
        elif reason == "disk-free":
            self.stopped = self.stopped or "disk-free"
            self._notice(kind, reason, f"too little free disk for another snapshot ({fmt_size(int(ev.get('free') or 0))}"
                         f" free, ~{fmt_size(int(ev.get('estimate') or 0))} needed): no more snapshots", ev)
        elif reason == "error":
            self.stopped = str(ev.get("error") or "error")
            self._notice(kind, f"error:{ev.get('error')}", f"writing a snapshot failed ({ev.get('error')}: "
                         f"{ev.get('message')}): snapshots stopped in this lane, the tests go on", ev)

    def _set_main(self, pid: int) -> None:
        self.main_pid = pid
        self.seen_pids.add(pid)
        try:
            self.main_exe = psutil.Process(pid).exe()
        except psutil.Error:
            self.main_exe = None

    # ---------------------------------------------------------------- sampling
    def _find_main(self) -> None:
        if self.main_pid is not None:
            return
        try:
            text = self.pid_path.read_text().strip()
        except OSError:
            return
        if text.isdigit():
            self._set_main(int(text))

    def worker_procs(self, procs: list[psutil.Process] | None = None) -> list[psutil.Process]:
        """The workers: the child processes of the runner's main process that run the same Node binary."""
        self._find_main()
        if self.main_pid is None:
            return []
        try:
            kids = psutil.Process(self.main_pid).children()
        except psutil.Error:
            return []
        out = []
        for k in kids:
            if k.pid in self.helpers:
                continue
            try:
                if self.main_exe is not None and k.exe() != self.main_exe:
                    continue
                if self._is_helper(k):
                    continue
                out.append(k)
            except psutil.Error:
                continue
        return out

    def _is_helper(self, p: psutil.Process) -> bool:
        """A child that set a helper's process title. Before its title is set (while its Node boots) a helper
        looks like a worker; once it is known, it is dropped from the workers if it never wrote a trace line."""
        cmd = p.cmdline()
        titles = self.runner.helper_titles
        if p.name() in titles or (cmd and cmd[0] in titles):
            self.helpers.add(p.pid)
            w = self.workers.get(worker_key(p.pid))
            if w is not None and not w.started:
                del self.workers[w.key]
            return True
        return False

    def _sample(self, reason: str) -> None:
        if self.proc is None:
            return
        t = time.time()
        try:
            root = psutil.Process(self.proc.pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            tree = []
        total = 0
        rss_of: dict[int, int] = {}
        for p in tree:
            try:
                r = p.memory_info().rss
            except psutil.Error:
                continue
            rss_of[p.pid] = r
            total += r
            self.seen_pids.add(p.pid)
        worker_pids = [p.pid for p in self.worker_procs()]
        wrec = {}
        for pid in worker_pids:
            r = rss_of.get(pid)
            if r is None:
                continue
            w = self._worker(pid)
            w.last_rss = r
            w.peak_rss = max(w.peak_rss, r)
            if w.open:
                w.window_peak = max(w.window_peak, r)
            wrec[str(pid)] = r
        for w in self.workers.values():
            if (w.tid or w.pid == self.main_pid) and w.pid in rss_of:
                # a worker thread: its process's RSS (shared with the main process and the other threads); a
                # runner's main process running the files itself (Jest in band): its own
                r = rss_of[w.pid]
                w.peak_rss = max(w.peak_rss, r)
                if w.open:
                    w.window_peak = max(w.window_peak, r)
            if w.pid not in rss_of and w.alive and w.pid not in worker_pids:
                if not psutil.pid_exists(w.pid):
                    w.alive = False
        if total > self.tree_peak:
            # peakAt: the file the largest worker was running at the peak sample, else "poll"
            self.tree_peak = total
            self.tree_peak_t = t
            at = reason
            busiest = sorted(((rss_of.get(pid, 0), pid) for pid in worker_pids), reverse=True)
            for _, pid in busiest[:1]:
                w = self.workers.get(worker_key(pid))
                if w is not None and w.open:
                    at = next(iter(w.open))
            if at == reason:
                running = [w for w in self.workers.values() if w.open]
                if running:
                    at = next(iter(running[0].open))
            self.tree_peak_at = at
        if self._samples_fh is not None and total > 0:
            self._samples_fh.write(json.dumps({"t": round(t, 3), "reason": reason if reason == "poll" else "file",
                                               "tree_rss": total, "procs": len(tree), "workers": wrec}) + "\n")

    # ---------------------------------------------------------------- snapshots
    def _snapshot_round(self) -> None:
        """The interval signal (``--snapshot-interval``, OpenClaw's ``…_HEAPSNAPSHOT_INTERVAL_MS``): Node writes a
        snapshot of each signalled worker *process*; threads cannot be signalled. Nothing is printed per round;
        each snapshot is printed once written (:meth:`_scan_signal_files`)."""
        self._scan_signal_files()
        if self.stopped or self._too_little_free():  # issue 14 item 2: no signal into a full disk
            return
        left = self.disk_left
        if left is not None and self._lane_bytes() >= left:
            self._notice("snapshot-skipped", "disk-budget", f"snapshot disk budget reached "
                         f"({fmt_size(self.disk.budget or 0)} per run): no more interval snapshots")
            return
        sig = getattr(signal, self.s.snapshot_signal)
        targets = []
        for p in self.worker_procs():
            w = self.workers.get(worker_key(p.pid))
            # Only a worker that is running a test file (its Node is booted, its signal handler in place; an idle
            # one would only write the same heap again).
            if w is not None and w.started and w.open:
                targets.append(p.pid)
        busy = [pid for pid in targets if self._snapshot_busy(pid)]
        targets = [pid for pid in targets if pid not in busy]
        ok = 0
        for pid in targets:
            try:
                os.kill(pid, sig)
                ok += 1
                self.snap_sent[pid] = self.snap_sent.get(pid, 0) + 1
            except (ProcessLookupError, PermissionError):
                pass
        self.snap_seq += 1
        self.snap_events.append({"seq": self.snap_seq, "t": time.time(), "signaled": ok, "targets": len(targets),
                                 "pids": targets, "busy": busy})

    def _snapshot_busy(self, pid: int) -> bool:
        """A worker still writing its last snapshot is not signalled again, nor one whose last snapshot was
        written less than one interval ago: otherwise, when a write takes longer than the interval (a few
        hundred MB of heap), the worker would do nothing but write snapshots (seen: a 7 s lane took 117 s)."""
        sent = self.snap_sent.get(pid, 0)
        if not sent:
            return False
        mine = [Path(f) for f, info in self.signal_files.items() if info["pid"] == pid]
        if len(mine) < sent:
            return True
        try:
            return time.time() - max(p.stat().st_mtime for p in mine) < max(1.0, self.s.snapshot_interval * 0.9)
        except (OSError, ValueError):
            return False

    def _worker_pids(self) -> set[int]:
        return {w.pid for w in self.workers.values()}

    def _scan_signal_files(self, final: bool = False) -> None:
        """Snapshots Node wrote itself (on the signal, or near the heap limit) for this lane's worker processes:
        printed once complete (size stable between two looks), counted against the disk budget."""
        if self.snap_dir is None or not self.snap_dir.is_dir():
            return
        mine = self._worker_pids()
        written = {x["path"] for x in self.written}
        try:
            entries = list(os.scandir(self.snap_dir))
        except OSError:
            return
        for e in entries:
            n = parse_name(e.path)
            if n is None or n.pid not in mine or e.path in written:
                continue
            try:
                size = e.stat().st_size
            except OSError:
                continue
            info = self.signal_files.setdefault(e.path, {"pid": n.pid, "tid": n.tid, "size": -1, "reported": False,
                                                         "first_seen": time.time()})
            if not info["reported"] and (size == info["size"] or final) and self._failed_write(e.path, n.pid, size, final):
                self.signal_files.pop(e.path, None)
                continue
            if not info["reported"] and size > 0 and (size == info["size"] or final):
                info["reported"] = True
                self.disk.add(size)
                try:
                    mtime = e.stat().st_mtime
                except OSError:
                    mtime = time.time()
                sent = [ev["t"] for ev in self.snap_events if n.pid in ev["pids"] and ev["t"] <= mtime]
                took = f"~{mtime - max(sent):.1f}s after the signal" if sent else "near the heap limit"
                say(f"[heaplens][heap] {self.lane.name} wrote {Path(e.path).name} {fmt_size(size)} pid={n.pid} "
                    f"(by Node: {took})")
            info["size"] = size

    # ---------------------------------------------------------------- a full disk (issue 14 item 2)
    FREE_FLOOR = 64 << 20  # as the workers' own check (js/trace-core.cjs): never start a snapshot below it

    def _too_little_free(self) -> bool:
        """Before an interval signal: the snapshot directory's free space is under 1.5x the largest snapshot of
        this lane plus 64 MiB (the workers' own rule for boundary snapshots). Said once, recorded, snapshots
        stop; the tests go on."""
        try:
            free = shutil.disk_usage(self.snap_dir).free
        except (OSError, TypeError):
            return False
        largest = max([x.get("bytes") or 0 for x in self.written] + [max(0, i["size"]) for i in self.signal_files.values()]
                      + [0])
        need = int(largest * 1.5) + self.FREE_FLOOR
        if free >= need:
            return False
        self.stopped = self.stopped or "disk-free"
        self._notice("snapshot-skipped", "disk-free", f"too little free disk for another snapshot in {self.snap_dir} "
                     f"({fmt_size(free)} free, ~{fmt_size(need)} needed): no more snapshots, the tests go on")
        return True

    def _failed_write(self, path: str, pid: int, size: int, final: bool) -> bool:
        """A snapshot Node wrote on the signal whose writer is done with it (its process no longer has it open,
        or the lane is over) but which is not a whole snapshot: the write failed. With the disk full that is
        ENOSPC — said once, recorded as why snapshots stopped, the other workers told through the ledger. The
        cut file is removed (a zero-byte or half file is not a snapshot)."""
        if not final and self._has_open(pid, path) is not False:
            return False
        if size > 0 and _whole_snapshot(path):
            return False
        if size == 0 and not final and time.time() - self.signal_files.get(path, {}).get("first_seen", 0) < 2:
            return False
        try:
            free = shutil.disk_usage(self.snap_dir).free
        except (OSError, TypeError):
            free = None
        full = free is not None and free < max(size, 1 << 20)
        try:
            os.unlink(path)
        except OSError:
            pass
        reason = "ENOSPC" if full else "cut"
        self.dropped.append({"path": path, "pid": pid, "bytes": size, "reason": reason})
        if full:
            self.stopped = "ENOSPC"
            try:
                with open(self.ledger_path, "a") as fh:  # the workers' own boundary snapshots stop too
                    fh.write(json.dumps({"ev": "stop", "reason": "ENOSPC", "pid": pid, "t": round(time.time() * 1000)})
                             + "\n")
            except OSError:
                pass
            self._notice("snapshot-skipped", "error:ENOSPC", f"no space left on the snapshot disk ({self.snap_dir}, "
                         f"ENOSPC) while pid {pid} wrote a snapshot: the cut file is removed, no more snapshots in "
                         "this lane, the tests go on")
        return True

    @staticmethod
    def _has_open(pid: int, path: str) -> bool | None:
        """Whether process ``pid`` has ``path`` open (Linux /proc); None when that cannot be known."""
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except FileNotFoundError:
            return False  # the process is gone
        except OSError:
            return None
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == path:
                    return True
            except OSError:
                pass
        return False

    def _lane_bytes(self) -> int:
        return sum(x["bytes"] for x in self.written) + sum(max(0, i["size"]) for i in self.signal_files.values())

    def snapshot_files(self) -> list[Path]:
        """This lane's snapshots: those its workers wrote (trace), and Node's own for its worker processes (a
        shared snapshot directory may hold other runs' files: they are not this lane's)."""
        paths = {x["path"] for x in self.written if Path(x["path"]).is_file()}
        paths |= {f for f in self.signal_files if Path(f).is_file()}
        names = {p: parse_name(p) for p in paths}
        named = in_order(n for n in names.values() if n is not None)
        return [n.path for n in named] + sorted(Path(p) for p, n in names.items() if n is None)

    # ---------------------------------------------------------------- end
    def _finish(self) -> None:
        self._scan_signal_files(final=True)
        out = "".join(self.tail)
        oom_seen = any(p in out for p in (*OOM_PATTERNS, *self.runner.oom_patterns))
        crash_seen = any(p in out for p in self.runner.crash_patterns)
        oom_pids = set()
        if oom_seen:
            for m in GC_LINE_PID.finditer(out):
                oom_pids.add(int(m.group(1)))
        open_workers = {w.pid: w for w in self.workers.values() if w.open and not w.tid}
        open_workers.update({w.key: w for w in self.workers.values() if w.open and w.tid})
        exits = self._exits(out)
        snaps = self.snapshot_files()
        for _, w in sorted(open_workers.items(), key=lambda kv: str(kv[0])):
            pid = w.pid
            if self.stop.is_set():
                kind = "interrupted"
            elif pid in oom_pids or (oom_seen and not oom_pids and len(open_workers) == 1):
                kind = "oom"
            elif crash_seen:
                kind = "crash"
            else:
                kind = None
            if kind is None:
                continue
            near = [str(p) for p in snaps if parse_name(p).pid == pid and parse_name(p).tid == w.tid]
            fault_files = sorted(w.open)
            fault = {
                "kind": kind,
                "pid": pid,
                "tid": w.tid,
                "files": sorted(w.open),
                "last_rss": w.last_rss,
                "peak_rss": w.peak_rss,
                "heap_limit": max((int(e.get("heapLimit") or 0) for e in w.open.values()), default=0) or None,
                "snapshots": near,
                # how the runner saw the worker end (e.g. SIGABRT for V8's OOM abort, SIGKILL for the kernel's OOM killer)
                "vitest_exit": next((how for how, fs in exits if set(fault_files) & set(fs)), None),
            }
            self.faults.append(fault)
            if kind != "interrupted":
                how = f" exit={fault['vitest_exit']}" if fault["vitest_exit"] else ""
                say(f"[heaplens][fault] {self.lane.name} kind={kind} pid={pid} file={','.join(fault['files'])} "
                    f"lastRss={fmt_size(w.last_rss)}{how} snapshot={near[-1] if near else 'none'}")
        if (oom_seen or crash_seen) and not any(f["kind"] in ("oom", "crash") for f in self.faults) \
                and not self.stop.is_set():
            # No trace line tells which file (trace off, or the main process died): the runner's own words, if any.
            how, files = (self._exits(out) or [(None, [])])[-1]
            pid = next(iter(sorted(oom_pids)), None)
            kind = "oom" if oom_seen else "crash"
            near = [str(p) for p in snaps if pid is not None and parse_name(p).pid == pid]
            self.faults.append({"kind": kind, "pid": pid, "files": files, "last_rss": None, "peak_rss": None,
                                "heap_limit": None, "snapshots": near, "vitest_exit": how,
                                "source": f"{self.runner.name} output"})
            say(f"[heaplens][fault] {self.lane.name} kind={kind} pid={pid or '?'} file={','.join(files) or '?'} "
                f"lastRss=? snapshot={near[-1] if near else 'none'} (from {self.runner.title}'s output: no trace line)")
        rc = self.exit_code if self.exit_code is not None else 1
        if rc < 0:
            self.signal_name = signal.Signals(-rc).name if -rc in signal.Signals._value2member_map_ else str(-rc)
        if self.stop.is_set():
            self.status = "interrupted"
            if rc == 0:
                rc = 130
        elif any(f["kind"] in ("oom", "crash") for f in self.faults) and rc == 0:
            rc = 1
        self.exit_code = rc if rc >= 0 else 128 - rc
        if self.status != "interrupted":
            self.status = "passed" if self.exit_code == 0 else "failed"
        if self.s.trace:
            self._summary()
        self.pairs_planned = self.pair_candidates()
        if self.snapshots_on:
            self._snapshot_summary()
        say(f"[heaplens] done {self.lane.name} code={self.exit_code} elapsed={fmt_elapsed(self.elapsed)}")

    def _exits(self, out: str) -> list[tuple[str, list[str]]]:
        """The runner's own words about workers that died: (how, files) per line."""
        pat = self.runner.exit_pattern
        if pat is None:
            return []
        return [(m.group(1), [self._rel(f.strip()) for f in m.group(2).split(",") if f.strip()])
                for m in pat.finditer(ANSI.sub("", out))]

    def _per_file_worker(self, w: Worker) -> bool:
        return self.runner.per_file_worker(w.pool, w.isolate)

    def after_last_snapshot(self) -> dict[str, list[str]]:
        """For each worker that runs several files: the files that ended after its last snapshot (all of
        them if it has none). Empty lists are left out."""
        out = {}
        for w in self.workers.values():
            if self._per_file_worker(w) or not w.files:
                continue
            rest = w.files[max(0, w.snapshot_at_files):] if w.snapshots else list(w.files)
            if rest:
                out[w.key] = rest
        return out

    def pair_budget(self) -> float:
        """Seconds of snapshot writing the overhead budget leaves of this lane for its follow-up pairs."""
        return max(0.0, self.s.overhead * self.elapsed - sum(x["seconds"] for x in self.written))

    def pair_candidates(self) -> list[dict]:
        """Files that had a worker of their own (isolate with forks/threads) and grew inside the file (after its
        collection → its end, GC-settled) by at least the diagnosis's floor, largest first: those to rerun for a
        snapshot pair. The largest always; more while their cost — the file's measured duration plus two
        snapshots of its end heap (at the lane's measured write rate, else 20 MB/s + 0.2 s) — fits what the
        overhead budget leaves of the lane's time."""
        if not self.snapshots_on or self.pairs or self.stop.is_set():
            return []
        first: dict[str, dict] = {}  # file → its first run that is worth a pair
        for f, g, floor in self._inside_growth():
            if g >= floor and (f["file"] not in first or g > first[f["file"]]["growth"]):  # its largest run
                first[f["file"]] = {"file": f["file"], "project": f.get("project") or "", "growth": g,
                                    "duration_s": (f.get("duration_ms") or 0) / 1000,
                                    "heap": ((f.get("settled_end") or {}).get("heap_used") or 0)}
        grown = sorted(first.values(), key=lambda x: -x["growth"])
        rated = [x for x in self.written if x.get("heap_used")]
        rate = (sum(x["seconds"] for x in rated) / sum(x["heap_used"] for x in rated)) if rated else 1 / 20e6
        left = self.pair_budget()
        out = []
        for x in grown:
            cost = x["duration_s"] + 2 * (0.2 + rate * x["heap"])
            if out and cost > left:
                break
            x["cost_s"] = round(cost, 2)
            out.append(x)
            left -= cost
        return out

    def unpaired(self, limit: int = 5) -> list[dict]:
        """Files that had a worker of their own but no snapshot pair, largest GC-settled growth inside the file
        first: where a rerun of that file alone (``heaplens run FILE --snapshots``: its slot's first) looks."""
        paired = {(x["worker"], x["file"]) for x in self.written if x.get("at") == "end"}
        out = [{"file": f["file"], "worker": f["worker"], "growth": g, "below_floor": g < floor}
               for f, g, floor in self._inside_growth() if g > 0 and (f["worker"], f["file"]) not in paired]
        return sorted(out, key=lambda x: -x["growth"])[:limit]

    def _inside_growth(self):
        """(file record, its GC-settled growth inside the file, the floor that growth is worth a pair from) for
        each file run by a worker of its own with a settled baseline after its collection. The floor is the
        diagnosis's, 0.1 % of the worker's heap limit (V8's heap_size_limit: 4 MiB of a 4 GiB heap) — below it a
        file's own warm-up (compiled code, the runner's per-file state) is all there is to see."""
        for f in self.files:
            w = self.workers.get(f["worker"])
            if w is None or f.get("settled_base") != "collected" or not self._per_file_worker(w):
                continue
            growth = (f.get("heap_growth") or 0) + (f.get("external_growth") or 0)
            yield f, growth, PAIR_FLOOR * (f.get("heap_limit") or DEFAULT_HEAP_LIMIT)

    def snapshot_stats(self) -> dict:
        shared = [w for w in self.workers.values() if w.files and not self._per_file_worker(w)]
        single = [w for w in self.workers.values() if w.files and self._per_file_worker(w)]
        seconds = sum(x["seconds"] for x in self.written)
        # the budget is per pool slot (workers run side by side): the busiest slot's share of the lane's time
        slots: dict[str, float] = {}
        for x in self.written:
            w = self.workers.get(x["worker"])
            key = f"{w.pool if w else '?'}:{x.get('pool_id') or x['worker']}"
            slots[key] = slots.get(key, 0.0) + x["seconds"]
        return {
            "written": len(self.written),
            "bytes": sum(x["bytes"] for x in self.written),
            "seconds": round(seconds, 3),
            "share": round(max(slots.values(), default=0.0) / self.elapsed, 4) if self.elapsed else None,
            "slots": {k: round(v, 3) for k, v in slots.items()},
            "workers": len(shared),
            "workers_with_two": sum(1 for w in shared if len(w.snapshots) >= 2),
            "per_file_workers": len(single),
            "pairs": sum(1 for w in single if len(w.snapshots) >= 2),
        }

    def _snapshot_summary(self) -> None:
        st = self.snapshot_stats()
        share = (f"; the busiest worker slot wrote for {st['share']:.0%} of the lane's {self.elapsed:.1f}s"
                 if st["share"] is not None else "")
        parts = [f"{st['written']} written ({fmt_size(st['bytes'])} in {st['seconds']:.1f}s{share})"]
        if st["workers"]:
            parts.append(f"{st['workers_with_two']} of {st['workers']} worker(s) running several files have >= 2")
        if st["per_file_workers"]:
            parts.append(f"{st['pairs']} of {st['per_file_workers']} file(s) in a worker of their own have a pair")
        after = self.after_last_snapshot()
        n_after = sum(len(v) for v in after.values())
        parts.append(f"files after a worker's last snapshot: {n_after or 'none'}")
        say(f"[heaplens][heap] summary {self.lane.name} snapshots: " + "; ".join(parts))
        for key, files in after.items():
            shown = ", ".join(files[:8]) + (f", … ({len(files) - 8} more)" if len(files) > 8 else "")
            say(f"[heaplens][heap] {self.lane.name} worker {key}: {len(files)} file(s) ran after its last snapshot: {shown}")
        if self.pairs_planned:
            say(f"[heaplens][heap] {self.lane.name} largest GC-settled growth inside a file (a worker per file): "
                + ", ".join(f"{x['file']} {fmt_size(x['growth'], signed=True)}" for x in self.pairs_planned)
                + f" — rerun for a snapshot pair in {self.lane.name}-pairs")
        top = [x for x in self.unpaired(3 + len(self.pairs_planned))
               if x["file"] not in {c["file"] for c in self.pairs_planned}][:3]
        if self.pairs:
            return
        spent = [x for x in top if not x["below_floor"]]
        if spent:
            say(f"[heaplens][heap] {self.lane.name} next largest, without a pair (the budget is spent): "
                + ", ".join(f"{x['file']} {fmt_size(x['growth'], signed=True)}" for x in spent)
                + f" (heaplens run {spent[0]['file']} --snapshots gives it one)")
        elif top and not self.pairs_planned:
            say(f"[heaplens][heap] {self.lane.name} no file grew inside itself by the diagnosis's floor "
                f"({PAIR_FLOOR:.1%} of its heap limit), so none is rerun for a snapshot pair; the largest: "
                + ", ".join(f"{x['file']} {fmt_size(x['growth'], signed=True)}" for x in top))

    def totals(self) -> dict:
        total_delta = sum(f["delta"] for f in self.files)
        top = sorted((f for f in self.files if f["delta"] > 0), key=lambda f: -f["delta"])[: self.s.top]
        # The lane's peak is the highest RSS one worker reached (docs/workflow.md, "What "peak" means": the run
        # table, the findings and verify mean the same); the whole tree's highest sum is `total_peak`. The polls
        # can miss a short suite entirely (a 0.5 s run between two polls), so both count what the workers
        # reported themselves at file boundaries.
        peak, peak_at = 0, "n/a"
        for f in self.files:
            if f["peak"] > peak:
                peak, peak_at = f["peak"], f["file"]
        for w in self.workers.values():
            if w.peak_rss > peak:
                peak, peak_at = w.peak_rss, "poll"
        return {"files": len(self.files), "peak": peak, "peak_at": peak_at, "total_peak": max(self.tree_peak, peak),
                "total_delta": total_delta, "top": [{"file": f["file"], "delta": f["delta"], "pid": f["pid"]} for f in top]}

    def _summary(self) -> None:
        t = self.totals()
        top = ", ".join(f"{x['file']}:{fmt_size(x['delta'], signed=True)}" for x in t["top"]) or "none"
        say(f"[heaplens][mem] summary {self.lane.name} files={t['files']} peak={fmt_size(t['peak'])} "
            f"total={fmt_size(t['total_peak'])} totalDelta={fmt_size(t['total_delta'], signed=True)} peakAt={t['peak_at']} top={top}")

    def to_json(self) -> dict:
        return {
            "name": self.lane.name,
            "kind": self.lane.kind,
            "status": self.status,
            "exit_code": self.exit_code,
            "signal": self.signal_name,
            "started_at": self.started_at,
            "elapsed_s": round(self.elapsed, 3),
            "argv": self.argv,
            "workers_option": self.lane.workers,
            "isolate": self.lane.isolate,
            "pool": self.lane.pool,
            "config": self.lane.config,
            "overrides": {k: {"value": getattr(self.lane, k), "reason": r} for k, r in self.lane.why.items()},
            "deviations": self.lane.deviations,
            "env": self.env_extra,
            "follow_up_of": self.follow_up_of.lane.name if self.follow_up_of else None,
            "vitest_main_pid": self.main_pid,
            "files_planned": self.lane.files,
            "runs_planned": self.lane.runs,
            "files": self.files,
            "workers": {w.key: {"pid": w.pid, "tid": w.tid, "pool": w.pool, "isolate": w.isolate,
                                "project": w.project, "files": w.files, "peak_rss": w.peak_rss,
                                "last_rss": w.last_rss, "unfinished": sorted(w.open), "snapshots": w.snapshots,
                                "files_after_last_snapshot": self.after_last_snapshot().get(w.key, [])
                                if self.snapshots_on else []}
                        for w in self.workers.values() if w.started or not self.runner.untraced_children_are_helpers},
            "summary": self.totals(),
            "faults": self.faults,
            "snapshots": {
                "dir": str(self.snap_dir) if self.snap_dir else None,
                "mode": ("boundary" if self.snapshots_on else "off") + ("+interval" if self.s.snapshot_interval > 0 else ""),
                "overhead": self.s.overhead,
                "disk_left": self.disk_left,
                "signals": self.snap_events,
                "files": [str(p) for p in self.snapshot_files()],
                "written": self.written,
                "notices": self.notices,
                "stopped": self.stopped,
                "stats": self.snapshot_stats(),
                "after_last": self.after_last_snapshot() if self.snapshots_on else {},
                "unpaired": self.unpaired() if self.snapshots_on else [],
                "pairs_planned": self.pairs_planned,
                "dropped": [f"{d['path']} ({d['reason']}: {d['bytes']} bytes written, removed)" for d in self.dropped],
            },
            "trace": str(self.trace_path),
            "samples": str(self.samples_path),
            "log": str(self.log_path),
        }
