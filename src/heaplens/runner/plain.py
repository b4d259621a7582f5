"""Run a suite's own command, unchanged, and measure what CI would see: wall time, exit code, and the RSS of
its process tree — the total and each Node worker's — sampled with psutil from outside. Nothing is injected
(no setup file, no wrapper config, no flag): the suite runs exactly as the command says.

Workers are the Node processes whose parent is a Node process (Vitest's and Jest's fork workers under their
main process), minus helpers that set a known process title (Vitest 5's watchdog). Thread workers live inside
their main process: their memory is in its RSS and in the total, not per worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from .watchdog import Guard

HELPER_TITLES = frozenset({"vitest-watchdog"})


@dataclass
class PlainRun:
    argv: list[str]
    cwd: str
    exit_code: int | None
    wall_s: float
    peak_total: int  # highest sum of RSS over the whole process tree (one sample)
    peak_workers: dict[int, int] = field(default_factory=dict)  # worker PID → its highest RSS
    samples: int = 0
    interrupted: bool = False
    timed_out: bool = False

    @property
    def peak_worker(self) -> int:
        """The highest RSS any one worker reached (0 when the workers are threads)."""
        return max(self.peak_workers.values(), default=0)

    def to_json(self) -> dict:
        return {"argv": self.argv, "cwd": self.cwd, "exit_code": self.exit_code, "wall_s": round(self.wall_s, 3),
                "peak_total": self.peak_total, "peak_worker": self.peak_worker,
                "peak_workers": {str(k): v for k, v in self.peak_workers.items()}, "samples": self.samples,
                "interrupted": self.interrupted, "timed_out": self.timed_out}


def _is_node(p: psutil.Process) -> bool:
    try:
        name = p.name()
        exe = os.path.basename(p.exe() or "")
    except psutil.Error:
        return False
    return name in ("node", "node.exe") or exe in ("node", "node.exe")


def _helper(p: psutil.Process) -> bool:
    try:
        cmd = p.cmdline()
        return p.name() in HELPER_TITLES or bool(cmd and cmd[0] in HELPER_TITLES)
    except psutil.Error:
        return True


def run_plain(argv: list[str], cwd: str | os.PathLike, *, env: dict | None = None, poll_s: float = 0.1,
              timeout: float | None = None, grace: float = 5.0, stop: threading.Event | None = None,
              log: Path | None = None) -> PlainRun:
    """Run ``argv`` in ``cwd`` in its own process group, sampling its tree every ``poll_s`` seconds. The
    command's output goes to ``log`` (or is discarded). On ``timeout`` or ``stop`` (and on Ctrl-C) the group
    gets SIGTERM, then SIGKILL after ``grace`` seconds: nothing of it is left running."""
    out = open(log, "wb") if log else subprocess.DEVNULL
    t0 = time.monotonic()
    guard = Guard()  # a killed heaplens takes the command with it (runner/watchdog.py, issue 14 item 1)
    guard.start()
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    except OSError:
        guard.release()
        if log:
            out.close()
        raise
    guard.watch(proc.pid)
    run = PlainRun(list(map(str, argv)), str(cwd), None, 0.0, 0)
    seen: dict[int, psutil.Process] = {}
    killed_at = None
    try:
        root = psutil.Process(proc.pid)
        seen[root.pid] = root
        while True:
            rc = proc.poll()
            if rc is not None:
                run.exit_code = rc
                break
            _sample(root, run, seen)
            now = time.monotonic()
            if killed_at is None and ((timeout is not None and now - t0 > timeout) or (stop and stop.is_set())):
                run.timed_out = not (stop and stop.is_set())
                run.interrupted = bool(stop and stop.is_set())
                _signal(proc.pid, signal.SIGTERM)
                killed_at = now
            elif killed_at is not None and now - killed_at > grace:
                _kill_all(proc.pid, seen)
                killed_at = float("inf")
            time.sleep(poll_s)
    except BaseException:
        run.interrupted = True
        _kill_all(proc.pid, seen)
        proc.wait()
        raise
    finally:
        run.wall_s = time.monotonic() - t0
        if log:
            out.close()
        _kill_all(proc.pid, seen)  # anything the command left behind (an orphaned worker) goes too
        guard.release()
    return run


def _sample(root: psutil.Process, run: PlainRun, seen: dict[int, psutil.Process]) -> None:
    try:
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return
    total = 0
    node = {}
    for p in tree:
        try:
            rss = p.memory_info().rss
        except psutil.Error:
            continue
        seen.setdefault(p.pid, p)
        total += rss
        node[p.pid] = (p, rss)
    run.samples += 1
    run.peak_total = max(run.peak_total, total)
    for pid, (p, rss) in node.items():
        try:
            parent = p.ppid()
        except psutil.Error:
            continue
        if parent in node and _is_node(node[parent][0]) and _is_node(p) and not _helper(p):
            run.peak_workers[pid] = max(run.peak_workers.get(pid, 0), rss)


def _signal(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_all(pgid: int, seen: dict[int, psutil.Process]) -> None:
    """SIGKILL the group and every process of the tree seen that still runs (psutil checks each one's start
    time, so a PID reused by another process is left alone)."""
    _signal(pgid, signal.SIGKILL)
    for p in seen.values():
        try:
            if p.is_running():
                p.kill()
        except psutil.Error:
            pass
