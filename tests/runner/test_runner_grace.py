"""The kill after the grace period, with a lane whose processes ignore SIGINT and SIGTERM (Vitest itself always
stopped on the signal in the real-suite tests, so this path needs a stand-in for the lane command)."""

from __future__ import annotations

import signal
import sys
import threading
import time

import psutil

from heaplens.runner.execute import LaneRunner, RunSettings
from heaplens.runner.plan import Lane
from heaplens.runner.vitest import Suite

STUBBORN = r"""
import os, signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
code = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)"
kid = subprocess.Popen([sys.executable, "-c", code])
with open(os.environ["HEAPLENS_MAIN_PID_FILE"], "w") as fh:  # as the generated Vitest config does
    fh.write(str(os.getpid()))
time.sleep(120)
"""


class StandIn(Suite):
    def exec_prefix(self):
        return [sys.executable, str(self.root / "stubborn.py")]


def test_lane_ignoring_signals_is_killed_after_grace(tmp_path):
    (tmp_path / "stubborn.py").write_text(STUBBORN)
    suite = StandIn(root=tmp_path, package_manager="npm", vitest_version="5.1.2", node_version="v20.20.2", config=None)
    settings = RunSettings(workers=None, max_old_space_mb=None, trace=False, poll_ms=100, top=6, snapshot_interval=0,
                           snapshot_base=None, snapshot_signal="SIGUSR2", grace=1.0,
                           vitest_args=[])
    stop = threading.Event()
    lane = Lane("unit-fast", "fast", ["a.test.js"])
    r = LaneRunner(lane, suite, settings, tmp_path / "run", stop, [signal.SIGINT])
    t = threading.Thread(target=r.run)
    t.start()
    deadline = time.time() + 20
    while time.time() < deadline and not (r.main_pid and r.worker_procs()):
        time.sleep(0.1)
    workers = [p.pid for p in r.worker_procs()]
    assert r.main_pid and workers, "the stand-in lane did not start"
    pids = [r.proc.pid, r.main_pid, *workers]
    t0 = time.time()
    stop.set()
    t.join(timeout=30)
    took = time.time() - t0
    assert not t.is_alive()
    assert took >= 1.0  # SIGINT was ignored: only the SIGKILL after --grace ended it
    assert took < 10
    time.sleep(0.1)
    alive = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert alive == []
    assert r.status == "interrupted" and r.exit_code != 0
