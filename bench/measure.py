"""Running one benchmark child process: wall time and its own peak RSS (``ru_maxrss`` from wait4)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time


def run_measured(cmd: list[str], env: dict | None = None, timeout: float = 1800) -> tuple[float, int, int, str, str]:
    """(seconds, peak RSS bytes, exit code, stdout, stderr) of one child process."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
    deadline = t0 + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.01)
    secs = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    return secs, usage.ru_maxrss * 1024, proc.returncode, out.read().decode(errors="replace"), \
        err.read().decode(errors="replace")
