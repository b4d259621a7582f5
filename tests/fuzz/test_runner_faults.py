"""Faults while heaplens runs a real Vitest suite (issue 14 items 1, 2, 9 and 13; the fault part of Deliver).

The suites are made in a temporary directory from the installed fixtures' node_modules (tests/runner/fixtures/v3,
v4, v5, installed by ``npm ci``), with a package-lock.json so that the lane is ``npm exec vitest``: heaplens →
npm → sh -c → Vitest's Node → its workers (and Vitest 5's own watchdog) — the tree a kill must take down.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from fuzz_helpers import assert_clean, env_clean, hl

from helpers import npm_ci

FIXTURES = Path(__file__).parents[1] / "runner" / "fixtures"
pytestmark = pytest.mark.skipif(shutil.which("npm") is None and os.environ.get("CI") != "true",
                                reason="npm is not installed")

SLOW_TEST = """import {{ test }} from 'vitest';
test('slow {i}', async () => {{ await new Promise((r) => setTimeout(r, {ms})); }}, 600000);
"""


def make_suite(d: Path, version: str, files: dict[str, str], lockfile: str = "package-lock.json") -> Path:
    """A suite at ``d`` using fixtures/<version>'s installed Vitest, with ``files`` (name → text) under test/."""
    nm = npm_ci(FIXTURES / version) / "node_modules"
    (d / "test").mkdir(parents=True)
    os.symlink(nm, d / "node_modules")
    (d / "package.json").write_text(json.dumps({"name": f"faults-{version}", "private": True, "type": "module"}))
    if lockfile == "package-lock.json":
        (d / lockfile).write_text(json.dumps({"name": f"faults-{version}", "lockfileVersion": 3, "packages": {}}))
    else:
        (d / lockfile).write_text("lockfileVersion: '9.0'\n")
    for name, text in files.items():
        (d / "test" / name).write_text(text)
    return d


def start(args: list, cwd: Path, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "heaplens", *map(str, args)], cwd=cwd, env=env_clean(env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def tree(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.Error:
            pass
    return out


def trace_pids(root: Path) -> set[int]:
    """The workers that wrote a trace line (a test file started in them)."""
    pids = set()
    for trace in root.glob(".heaplens/runs/*/lanes/*/trace.jsonl"):
        for line in trace.read_text(errors="replace").splitlines():
            try:
                pids.add(int(json.loads(line)["pid"]))
            except (ValueError, KeyError, TypeError):
                pass
    return pids


def wait_for_workers(proc: subprocess.Popen, root: Path, count: int, timeout: float = 120) -> list[psutil.Process]:
    """The heaplens process tree once ``count`` Vitest workers run a test file."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if len(trace_pids(root)) >= count:
            time.sleep(0.5)
            return tree(proc.pid)
        time.sleep(0.2)
    raise AssertionError(f"{count} workers never started")


def _cmd(p: psutil.Process) -> str:
    try:
        return " ".join(p.cmdline())
    except psutil.Error:
        return ""


# ---- item 1: kill -9 of heaplens ------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v3", "v4", "v5"])
def test_kill_9_of_heaplens_takes_the_run_with_it(tmp_path, version):
    suite = make_suite(tmp_path / "suite", version, {f"s{i}.test.js": SLOW_TEST.format(i=i, ms=60_000) for i in range(4)})
    proc = start(["run", "--workers", "2"], suite)
    procs: list[psutil.Process] = []
    try:
        procs = wait_for_workers(proc, suite, 2)
        assert trace_pids(suite) <= {p.pid for p in procs}  # the workers are in heaplens's tree
        assert any("npm" in _cmd(p) for p in procs), [_cmd(p) for p in procs]
        config = list((suite / ".heaplens" / "config").iterdir())
        assert len(config) == 1 and any(config[0].iterdir())  # the lane's generated config is there
        t0 = time.monotonic()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        while alive(procs) and time.monotonic() - t0 < 10:
            time.sleep(0.05)
        took = time.monotonic() - t0
        left = [(p.pid, _cmd(p)[:120]) for p in alive(procs)]
    finally:  # never leave the suite running, whatever failed
        for p in alive(procs + tree(proc.pid)):
            p.kill()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    print(f"\n{version}: {len(procs)} processes of the run, all gone {took:.2f} s after kill -9 of heaplens")
    assert left == [], f"left running {took:.1f} s after kill -9: {left}"
    assert took <= 5.0
    assert not config[0].exists(), "the lane's generated config is left behind"
    # a later command sees the run as abandoned
    (run,) = (suite / ".heaplens" / "runs").iterdir()
    assert json.loads((run / "run.json").read_text())["status"] == "running"
    cp = hl("report", run.name, cwd=suite)
    assert cp.returncode == 0, cp.stderr
    assert_clean(cp)
    first = cp.stdout.splitlines()[0]
    assert "abandoned" in first and "running" not in first and "exit None" not in first, first
    assert json.loads((run / "run.json").read_text())["status"] == "abandoned"
    cp = hl("diagnose", run.name, cwd=suite)
    assert cp.returncode == 0 and "abandoned" in cp.stdout, cp.stdout + cp.stderr
    doc = json.loads(hl("diagnose", run.name, "--format", "json", cwd=suite).stdout)
    assert doc["status"] == "abandoned"
