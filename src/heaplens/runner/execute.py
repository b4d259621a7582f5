"""Run the lanes: one ``vitest run`` process per lane, in its own process group, watched by one thread.

The watcher reads the lane's JSONL trace as the workers write it (one line per file start/end, from the
injected setup file), samples the lane's process tree with psutil every ``poll_ms`` (workers = the child
processes of Vitest's main process, whose PID the generated config writes), signals the workers for
heap snapshots every interval, and at the end works out which workers died and what they were running.
"""

from __future__ import annotations

import collections
import json
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from ..console import say
from ..console import write as _write
from ..snapshot.files import parse_name
from ..units import fmt_elapsed, fmt_size
from .plan import Lane
from .vitest import Suite, projects_hook_path, run_argv, write_wrapper_config

OOM_PATTERNS = (
    "JavaScript heap out of memory",
    "FATAL ERROR: Reached heap limit",
    "FATAL ERROR: Ineffective mark-compacts near heap limit",
    "node::OOMErrorHandler",
)
CRASH_PATTERNS = ("Worker exited unexpectedly", "Worker terminated due to", "Channel closed", "worker exited")
GC_LINE_PID = re.compile(r"\[(\d+):0x[0-9a-fA-F]+\]")
# Vitest ≥ 4: "Worker exited unexpectedly with signal SIGABRT during started state while running test files A, B"
VITEST_EXIT = re.compile(r"exited unexpectedly with (?:signal|code) (\S+) .*?while running test files? (.+)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Children of Vitest's main process that are not workers, by the process title they set. Vitest 5 forks a
# "vitest-watchdog" (same Node binary, started with the first worker) that kills the workers if the main process
# dies: it has no snapshot signal handler (SIGUSR2 would kill it) and ignores SIGINT/SIGTERM.
HELPER_TITLES = frozenset({"vitest-watchdog"})
TAIL_CHARS = 200_000
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
    snapshot_budget_gb: float
    grace: float
    vitest_args: list[str]


@dataclass
class Worker:
    pid: int
    first_seen: float
    last_rss: int = 0
    peak_rss: int = 0
    alive: bool = True
    started: bool = False  # has written a trace line: its Node is booted, signal handlers in place
    open: dict = field(default_factory=dict)  # file -> start event
    window_peak: int = 0
    files: list = field(default_factory=list)


class LaneRunner:
    def __init__(self, lane: Lane, suite: Suite, settings: RunSettings, run_dir: Path, stop: threading.Event,
                 stop_signal: list):
        self.lane = lane
        self.suite = suite
        self.s = settings
        self.run_dir = run_dir
        self.stop = stop
        self.stop_signal = stop_signal
        self.lane_dir = run_dir / "lanes" / lane.name
        self.trace_path = self.lane_dir / "trace.jsonl"
        self.samples_path = self.lane_dir / "samples.jsonl"
        self.log_path = self.lane_dir / "vitest.log"
        self.pid_path = self.lane_dir / "vitest-main.pid"
        self.snap_dir = (settings.snapshot_base / lane.name) if settings.snapshot_base else None
        self.workers: dict[int, Worker] = {}
        self.main_pid: int | None = None
        self.main_exe: str | None = None
        self.seen_pids: set[int] = set()
        self.helpers: set[int] = set()  # children of Vitest's main that are not workers (HELPER_TITLES)
        self.files: list[dict] = []
        self.tree_peak = 0
        self.tree_peak_at = "n/a"
        self.tree_peak_t = 0.0
        self.tail = collections.deque()
        self.tail_len = 0
        self.snap_seq = 0
        self.snap_events: list[dict] = []
        self.snap_sent: dict[int, int] = {}
        self._rel_cache: dict[str, str] = {}
        self._root_resolved = suite.root.resolve()
        self.dropped: list[str] = []
        self.faults: list[dict] = []
        self.exit_code: int | None = None
        self.signal_name: str | None = None
        self.status = "pending"
        self.elapsed = 0.0
        self.started_at: float | None = None
        self.argv: list[str] = []
        self._trace_pos = 0
        self._trace_buf = b""
        self._samples_fh = None
        self.proc: subprocess.Popen | None = None

    # ---------------------------------------------------------------- setup
    def exec_argv(self) -> list[str]:
        a = []
        if self.s.max_old_space_mb:
            a.append(f"--max-old-space-size={self.s.max_old_space_mb}")
        if self.snap_dir is not None:
            a += [
                f"--heapsnapshot-signal={self.s.snapshot_signal}",
                f"--diagnostic-dir={self.snap_dir}",
                "--heapsnapshot-near-heap-limit=1",
            ]
        return a

    def prepare(self) -> None:
        self.lane_dir.mkdir(parents=True, exist_ok=True)
        if self.snap_dir is not None:
            self.snap_dir.mkdir(parents=True, exist_ok=True)
        # Under the suite root, so that the config's `import 'vitest/config'` resolves to the suite's Vitest.
        cfg_dir = self.suite.root / ".heaplens" / "config" / self.run_dir.name
        cfg_dir.mkdir(parents=True, exist_ok=True)
        self.config_path = cfg_dir / f"{self.lane.name}.vitest.config.mjs"
        cfg = write_wrapper_config(
            self.config_path,
            self.suite,
            exec_argv=self.exec_argv(),
            isolate=self.lane.isolate,
            trace=self.s.trace,
            test_timeout_ms=SNAPSHOT_TIMEOUT_MS if self.s.snapshot_interval > 0 else None,
        )
        self.argv = run_argv(self.suite, cfg, self.lane.files, self.lane.workers, self.lane.isolate, self.s.vitest_args)
        self.trace_path.write_bytes(b"")

    # ---------------------------------------------------------------- run
    def run(self) -> None:
        self.prepare()
        env = dict(os.environ)
        env["HEAPLENS_TRACE_FILE"] = str(self.trace_path)
        env["HEAPLENS_MAIN_PID_FILE"] = str(self.pid_path)
        env["HEAPLENS_LANE"] = self.lane.name
        env["VITEST_GROUP"] = self.lane.name
        say(f"[heaplens] start {self.lane.name} workers={self.lane.workers or 'default'} files={len(self.lane.files)}")
        if self.s.snapshot_interval > 0:
            say(f"[heaplens][heap] {self.lane.name} snapshots every {self.s.snapshot_interval:g}s: test, hook and "
                f"teardown timeouts raised to {SNAPSHOT_TIMEOUT_MS // 1000}s")
        self.started_at = time.time()
        t0 = time.monotonic()
        self.status = "running"
        self._samples_fh = open(self.samples_path, "w", buffering=1)
        log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(
                self.argv, cwd=self.suite.root, env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
            )
        except OSError as exc:
            say(f"[heaplens] done {self.lane.name} code=127 elapsed=0ms ({exc})")
            self.exit_code, self.status = 127, "failed"
            log.close()
            return
        self.seen_pids.add(self.proc.pid)
        pump = threading.Thread(target=self._pump, args=(log,), daemon=True)
        pump.start()
        try:
            self._watch(t0)
        except BaseException:
            self._kill_all()  # never leave a lane running behind a failed watcher
            raise
        finally:
            pump.join(timeout=10)
            log.close()
            self._samples_fh.close()
        self.elapsed = time.monotonic() - t0
        self._finish()
        for generated in (self.config_path, projects_hook_path(self.config_path)):
            try:
                generated.unlink()
            except OSError:
                pass
        try:
            self.config_path.parent.rmdir()
        except OSError:
            pass

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
        tick = min(poll, 0.1)
        next_poll = time.monotonic()
        interval = self.s.snapshot_interval
        next_snap = time.monotonic() + interval if interval > 0 else None
        killed_at = None
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
            time.sleep(tick)
        # Vitest's main is gone; anything left in its group (an orphaned worker) goes too.
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
        """After the lane's Vitest exits: kill what remains of its process group and of the processes seen."""
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
            self._on_event(ev)

    def _worker(self, pid: int) -> Worker:
        w = self.workers.get(pid)
        if w is None:
            w = self.workers[pid] = Worker(pid, time.time())
            self.seen_pids.add(pid)
        return w

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

    def _on_event(self, ev: dict) -> None:
        pid = int(ev.get("pid", 0))
        if self.main_pid is None and ev.get("ppid"):
            self._set_main(int(ev["ppid"]))
        w = self._worker(pid)
        w.started = True
        file = self._rel(ev.get("file"))
        rss = int(ev.get("rss", 0))
        w.last_rss = rss
        w.peak_rss = max(w.peak_rss, rss)
        if ev.get("ev") == "start":
            w.open[file] = ev
            w.window_peak = rss
            return
        if ev.get("ev") != "end":
            return
        start = w.open.pop(file, None)
        if start is None:
            return
        peak = max(w.window_peak, rss, int(start.get("rss", 0)))
        delta = rss - int(start.get("rss", 0))
        rec = {
            "file": file,
            "pid": pid,
            "start_ms": start.get("t"),
            "end_ms": ev.get("t"),
            "duration_ms": (ev.get("t") or 0) - (start.get("t") or 0),
            "rss_start": int(start.get("rss", 0)),
            "rss_end": rss,
            "delta": delta,
            "peak": peak,
            "heap_used_start": start.get("heapUsed"),
            "heap_used_end": ev.get("heapUsed"),
            "external_start": start.get("external"),
            "external_end": ev.get("external"),
            "array_buffers_start": start.get("arrayBuffers"),
            "array_buffers_end": ev.get("arrayBuffers"),
            "heap_limit": start.get("heapLimit"),
            "pool_id": start.get("poolId"),
            "worker_id": start.get("workerId"),
        }
        self.files.append(rec)
        w.files.append(file)
        say(f"[heaplens][mem] {self.lane.name} file={file} rss={fmt_size(rss)} delta={fmt_size(delta, signed=True)} "
            f"peak={fmt_size(peak)} pid={pid}")

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
        """The workers: the child processes of Vitest's main process that run the same Node binary."""
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
        if p.name() in HELPER_TITLES or (cmd and cmd[0] in HELPER_TITLES):
            self.helpers.add(p.pid)
            w = self.workers.get(p.pid)
            if w is not None and not w.started:
                del self.workers[p.pid]
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
        for pid, w in self.workers.items():
            if pid not in rss_of and w.alive and pid not in worker_pids:
                if not psutil.pid_exists(pid):
                    w.alive = False
        if total > self.tree_peak:
            # peakAt: the file the largest worker was running at the peak sample, else "poll"
            self.tree_peak = total
            self.tree_peak_t = t
            at = reason
            busiest = sorted(((rss_of.get(pid, 0), pid) for pid in worker_pids), reverse=True)
            for _, pid in busiest[:1]:
                w = self.workers.get(pid)
                if w is not None and w.open:
                    at = next(iter(w.open))
            self.tree_peak_at = at
        if self._samples_fh is not None and total > 0:
            self._samples_fh.write(json.dumps({"t": round(t, 3), "reason": reason if reason == "poll" else "file",
                                               "tree_rss": total, "procs": len(tree), "workers": wrec}) + "\n")

    # ---------------------------------------------------------------- snapshots
    def _snapshot_round(self) -> None:
        sig = getattr(signal, self.s.snapshot_signal)
        targets = []
        for p in self.worker_procs():
            w = self.workers.get(p.pid)
            # A Node that has not finished booting has no handler yet: the signal would kill it.
            booted = (w is not None and w.started)
            if not booted:
                try:
                    booted = time.time() - p.create_time() > 3.0
                except psutil.Error:
                    booted = False
            if booted:
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
        extra = f" busy={len(busy)}" if busy else ""
        say(f"[heaplens][heap] {self.lane.name} seq={self.snap_seq} signaled={ok}/{len(targets)}{extra} dir={self.snap_dir}")
        self._apply_budget()

    def _snapshot_busy(self, pid: int) -> bool:
        """A worker still writing its last snapshot is not signalled again, nor one whose last snapshot was
        written less than one interval ago: otherwise, when a write takes longer than the interval (a few
        hundred MB of heap), the worker would do nothing but write snapshots (seen: a 7 s lane took 117 s)."""
        sent = self.snap_sent.get(pid, 0)
        if not sent:
            return False
        mine = [p for p in self.snapshot_files() if parse_name(p).pid == pid]
        if len(mine) < sent:
            return True
        try:
            return time.time() - max(p.stat().st_mtime for p in mine) < max(1.0, self.s.snapshot_interval * 0.9)
        except (OSError, ValueError):
            return False

    def snapshot_files(self) -> list[Path]:
        if self.snap_dir is None or not self.snap_dir.is_dir():
            return []
        return sorted(p for p in self.snap_dir.iterdir() if parse_name(p) is not None)

    def _apply_budget(self) -> None:
        budget = self.s.snapshot_budget_gb
        if budget <= 0 or self.snap_dir is None:
            return
        files = self.snapshot_files()
        sizes = {}
        for p in files:
            try:
                sizes[p] = p.stat().st_size
            except OSError:
                pass
        if sum(sizes.values()) <= budget * 1024**3:
            return
        by_pid: dict[int, list] = {}
        for p in sizes:
            n = parse_name(p)
            by_pid.setdefault(n.pid, []).append((n.sort_key, p))
        dropped = []
        for pid, items in by_pid.items():
            items.sort()
            for _, p in items[1:-1]:
                try:
                    p.unlink()
                    dropped.append(p)
                except OSError:
                    pass
        if dropped:
            self.dropped += [str(p) for p in dropped]
            left = sum(s for p, s in sizes.items() if p not in dropped)
            say(f"[heaplens][heap] {self.lane.name} budget={budget:g}GiB exceeded: kept each PID's first and newest, "
                f"dropped {len(dropped)}: " + ", ".join(p.name for p in dropped) + f" (now {fmt_size(left)})")

    # ---------------------------------------------------------------- end
    def _finish(self) -> None:
        self._apply_budget()
        out = "".join(self.tail)
        oom_seen = any(p in out for p in OOM_PATTERNS)
        crash_seen = any(p in out for p in CRASH_PATTERNS)
        oom_pids = set()
        if oom_seen:
            for m in GC_LINE_PID.finditer(out):
                oom_pids.add(int(m.group(1)))
        open_workers = {pid: w for pid, w in self.workers.items() if w.open}
        exits = [(m.group(1), [self._rel(f.strip()) for f in m.group(2).split(",") if f.strip()])
                 for m in VITEST_EXIT.finditer(ANSI.sub("", out))]
        snaps = self.snapshot_files()
        for pid, w in sorted(open_workers.items()):
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
            near = [str(p) for p in snaps if parse_name(p).pid == pid]
            fault_files = sorted(w.open)
            fault = {
                "kind": kind,
                "pid": pid,
                "files": sorted(w.open),
                "last_rss": w.last_rss,
                "peak_rss": w.peak_rss,
                "heap_limit": max((int(e.get("heapLimit") or 0) for e in w.open.values()), default=0) or None,
                "snapshots": near,
                # how Vitest saw the worker end (e.g. SIGABRT for V8's OOM abort, SIGKILL for the kernel's OOM killer)
                "vitest_exit": next((how for how, fs in exits if set(fault_files) & set(fs)), None),
            }
            self.faults.append(fault)
            if kind != "interrupted":
                how = f" exit={fault['vitest_exit']}" if fault["vitest_exit"] else ""
                say(f"[heaplens][fault] {self.lane.name} kind={kind} pid={pid} file={','.join(fault['files'])} "
                    f"lastRss={fmt_size(w.last_rss)}{how} snapshot={near[-1] if near else 'none'}")
        if (oom_seen or crash_seen) and not any(f["kind"] in ("oom", "crash") for f in self.faults) \
                and not self.stop.is_set():
            # No trace line tells which file (trace off, or the main process died): Vitest's own words, if any.
            files: list[str] = []
            how = None
            for m in VITEST_EXIT.finditer(ANSI.sub("", out)):
                how = m.group(1)
                files = [self._rel(f.strip()) for f in m.group(2).split(",") if f.strip()]
            pid = next(iter(sorted(oom_pids)), None)
            kind = "oom" if oom_seen else "crash"
            near = [str(p) for p in snaps if pid is not None and parse_name(p).pid == pid]
            self.faults.append({"kind": kind, "pid": pid, "files": files, "last_rss": None, "peak_rss": None,
                                "heap_limit": None, "snapshots": near, "vitest_exit": how,
                                "source": "vitest output"})
            say(f"[heaplens][fault] {self.lane.name} kind={kind} pid={pid or '?'} file={','.join(files) or '?'} "
                f"lastRss=? snapshot={near[-1] if near else 'none'} (from Vitest's output: no trace line)")
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
        say(f"[heaplens] done {self.lane.name} code={self.exit_code} elapsed={fmt_elapsed(self.elapsed)}")

    def totals(self) -> dict:
        total_delta = sum(f["delta"] for f in self.files)
        top = sorted((f for f in self.files if f["delta"] > 0), key=lambda f: -f["delta"])[: self.s.top]
        return {"files": len(self.files), "peak": self.tree_peak, "peak_at": self.tree_peak_at,
                "total_delta": total_delta, "top": [{"file": f["file"], "delta": f["delta"], "pid": f["pid"]} for f in top]}

    def _summary(self) -> None:
        t = self.totals()
        top = ", ".join(f"{x['file']}:{fmt_size(x['delta'], signed=True)}" for x in t["top"]) or "none"
        say(f"[heaplens][mem] summary {self.lane.name} files={t['files']} peak={fmt_size(t['peak'])} "
            f"totalDelta={fmt_size(t['total_delta'], signed=True)} peakAt={t['peak_at']} top={top}")

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
            "vitest_main_pid": self.main_pid,
            "files_planned": self.lane.files,
            "files": self.files,
            "workers": {str(pid): {"files": w.files, "peak_rss": w.peak_rss, "last_rss": w.last_rss,
                                   "unfinished": sorted(w.open)} for pid, w in self.workers.items()},
            "summary": self.totals(),
            "faults": self.faults,
            "snapshots": {
                "dir": str(self.snap_dir) if self.snap_dir else None,
                "signals": self.snap_events,
                "files": [str(p) for p in self.snapshot_files()],
                "dropped": self.dropped,
            },
            "trace": str(self.trace_path),
            "samples": str(self.samples_path),
            "log": str(self.log_path),
        }
