"""Helpers for the runner tests (imported by the test modules: pytest puts this directory on sys.path)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


class Result:
    def __init__(self, cp: subprocess.CompletedProcess, runs: Path):
        self.cp = cp
        self.code = cp.returncode
        self.out = cp.stdout
        self.err = cp.stderr
        self.runs = runs

    def lines(self, prefix: str) -> list[str]:
        return [l for l in self.out.splitlines() if l.startswith(prefix)]

    @property
    def record(self) -> dict:
        recs = sorted(self.runs.glob("*/run.json"))
        assert len(recs) == 1, f"expected one run record in {self.runs}: {recs}\n{self.out}\n{self.err}"
        return json.loads(recs[0].read_text())


def hl(*args, cwd: Path, runs: Path | None = None, env: dict | None = None, timeout: float = 300) -> Result:
    """``heaplens ARGS`` as a separate process; run records go to ``runs`` (kept out of the fixture dir)."""
    e = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCLAW_TEST_", "HEAPLENS_"))}
    e["HEAPLENS_PROGRESS"] = "0"
    if runs is not None:
        e["HEAPLENS_RUNS_DIR"] = str(runs)
    if env:
        e.update(env)
    cp = subprocess.run([sys.executable, "-m", "heaplens", *map(str, args)], cwd=cwd, capture_output=True,
                        text=True, env=e, timeout=timeout)
    return Result(cp, runs or cwd / ".heaplens" / "runs")


def parse_kv(line: str) -> dict:
    out = {}
    for tok in line.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            out[k] = v
    return out


MIB = 1024 * 1024


def size_of(text: str) -> float:
    """'+51.8MiB' → bytes (signed)."""
    sign = -1 if text.startswith("-") else 1
    t = text.lstrip("+-±")
    for unit, mult in (("GiB", 1024**3), ("MiB", MIB), ("KiB", 1024)):
        if t.endswith(unit):
            return sign * float(t[: -len(unit)]) * mult
    raise ValueError(text)


def wait_for_trace(runs: Path, lane: str = "unit-fast", timeout: float = 60) -> Path:
    """The lane's trace file once its worker has written a line (the test file started), then a short
    pause for the file's own top-level code (signal handlers) to run."""
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        hits = list(runs.glob(f"*/lanes/{lane}/trace.jsonl"))
        if hits and hits[0].read_text().strip():
            time.sleep(0.3)
            return hits[0]
        time.sleep(0.1)
    raise AssertionError("the lane never started")


def alive(pids) -> list[int]:
    """The PIDs that still run (zombies count as gone)."""
    import psutil

    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.Error:
            pass
    return out


def interrupt_and_check(proc: subprocess.Popen, sig, tree: list[int], runs: Path) -> None:
    """Send ``sig`` to a running ``heaplens run``: it exits 130 within 20 s, leaves none of ``tree``
    behind, and its record says it was interrupted."""
    import time

    try:
        t0 = time.time()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
        took = time.time() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (out[-2000:], err)
    time.sleep(0.3)
    assert alive(tree) == [], "processes left behind"
    assert took < 20  # (a worker ignoring SIGINT/SIGTERM is still gone: Vitest or the grace-period kill ends it)
    rec = json.loads(next(runs.glob("*/run.json")).read_text())
    assert rec["status"] == "interrupted" and rec["exit_code"] == 130

