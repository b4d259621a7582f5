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
