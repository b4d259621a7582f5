"""Lanes started through pnpm and yarn, end to end: `pnpm exec vitest` / `yarn vitest` put their own processes
between heaplens and Vitest's main process (pnpm: its executable; yarn 1: node running yarn, then `sh -c`).
Worker discovery, snapshot signalling, the lane's exit code and Ctrl-C cleanup must not care.

The package managers are installed with npm into ``<repo>/.heaplens/cache/pm`` (pinned versions), the fixture
suites' node_modules from their committed lockfiles with ``--frozen-lockfile``, each once (kept between runs)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from runner_helpers import MIB, hl, interrupt_and_check, parse_kv, wait_for_trace

from heaplens.snapshot.files import parse_name

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
PM_DIR = REPO / ".heaplens" / "cache" / "pm"
PINNED = {"pnpm": "12.4.2", "yarn": "1.22.22"}
INSTALL = {
    "pnpm": ["install", "--frozen-lockfile", "--reporter=silent"],
    "yarn": ["install", "--frozen-lockfile", "--non-interactive", "--no-progress", "--silent"],
}


def _installed(name: str) -> str | None:
    try:
        return json.loads((PM_DIR / "node_modules" / name / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def _pm_env() -> dict:
    env = dict(os.environ)
    env["PATH"] = str(PM_DIR / "node_modules" / ".bin") + os.pathsep + env.get("PATH", "")
    env["npm_config_update_notifier"] = "false"  # pnpm's "update available" banner
    return env


@pytest.fixture(scope="session")
def pm_env() -> dict:
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node/npm are not on PATH; the runner tests need them")
        pytest.skip("node/npm are not installed")
    if any(_installed(name) != version for name, version in PINNED.items()):
        PM_DIR.mkdir(parents=True, exist_ok=True)
        cp = subprocess.run([npm, "install", "--prefix", str(PM_DIR), "--no-audit", "--no-fund", "--loglevel=error",
                             "--save-exact", *(f"{n}@{v}" for n, v in PINNED.items())],
                            capture_output=True, text=True, timeout=600)
        if cp.returncode != 0:
            pytest.fail(f"npm install of {PINNED} failed:\n{cp.stdout}\n{cp.stderr}")
    return _pm_env()


def _suite(pm: str, env: dict) -> Path:
    d = FIXTURES / pm
    if not (d / "node_modules" / "vitest" / "package.json").is_file():
        cp = subprocess.run([shutil.which(pm, path=env["PATH"]), *INSTALL[pm]], cwd=d, env=env, capture_output=True,
                            text=True, timeout=600)
        if cp.returncode != 0:
            pytest.fail(f"{pm} install in {d} failed:\n{cp.stdout}\n{cp.stderr}")
    return d


@pytest.fixture(params=["pnpm", "yarn"])
def pm_suite(request, pm_env) -> tuple[str, Path, dict]:
    pm = request.param
    return pm, _suite(pm, pm_env), pm_env


def test_lane_through_package_manager(pm_suite, tmp_path):
    pm, root, env = pm_suite
    snaps = tmp_path / "snaps"
    r = hl("run", "suite/basic", "suite/failing", "--workers", "2", "--max-old-space-mb", "200", "--poll-ms", "200",
           "--snapshot-interval", "1", "--snapshot-dir", snaps, cwd=root, runs=tmp_path / "runs", env=env)
    # the failing file's exit code came back through the package manager
    assert r.code == 1, r.out[-3000:] + r.err
    assert f"pm={pm}" in r.out
    done = r.lines("[heaplens] done unit-fast")
    assert len(done) == 1 and parse_kv(done[0])["code"] == "1"
    assert not r.lines("[heaplens][fault]")  # a failing test is not a worker fault
    rec = r.record
    assert rec["versions"]["package_manager"] == pm and rec["status"] == "failed"
    lane = rec["lanes"]["unit-fast"]
    assert lane["exit_code"] == 1 and lane["status"] == "failed"
    assert Path(lane["argv"][0]).name == pm
    files = {f["file"]: f for f in lane["files"]}
    assert set(files) == {"suite/basic/alloc50.test.js", "suite/basic/f1.test.js", "suite/basic/wait.test.js",
                          "suite/failing/fails.test.js"}
    assert files["suite/basic/alloc50.test.js"]["rss_end"] >= 70 * MIB  # holds 50 MB (deltas blur under snapshots)
    for f in files.values():
        assert 200 * MIB <= f["heap_limit"] <= 328 * MIB, f
    # Vitest's main process is found through the PID its config wrote, not as the lane's process (the package
    # manager); the workers are its children and nothing else
    main = lane["vitest_main_pid"]
    trace = [json.loads(l) for l in Path(lane["trace"]).read_text().splitlines()]
    worker_pids = {e["pid"] for e in trace}
    assert main and main not in worker_pids and all(e["ppid"] == main for e in trace)
    assert {int(p) for p in lane["workers"]} == worker_pids
    # snapshot rounds signalled workers only (never a package-manager process or Vitest's own helpers) and
    # Node wrote their snapshots
    rounds = lane["snapshots"]["signals"]
    assert rounds and any(s["signaled"] for s in rounds), r.out[-3000:]
    assert {pid for s in rounds for pid in s["pids"]} <= worker_pids
    names = [parse_name(p) for p in (snaps / "unit-fast").iterdir()]
    assert names and {n.pid for n in names} <= worker_pids


def _tree(pid: int) -> list[int]:
    try:
        return [pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))]
    except psutil.Error:
        return [pid]


def test_interrupt_through_package_manager(pm_suite, tmp_path):
    pm, root, env = pm_suite
    runs = tmp_path / "runs"
    env = {k: v for k, v in env.items() if not k.startswith(("OPENCLAW_TEST_", "HEAPLENS_"))}
    env["HEAPLENS_RUNS_DIR"] = str(runs)
    proc = subprocess.Popen([sys.executable, "-m", "heaplens", "run", "suite/slow", "--grace", "2"], cwd=root,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        trace = wait_for_trace(runs)
        ev = json.loads(trace.read_text().splitlines()[0])
        tree = _tree(proc.pid)[1:]
        # heaplens's children: the lane's command and the lane's watchdog (a python process: runner/watchdog.py)
        lane_proc = next(c for c in psutil.Process(proc.pid).children() if c.cmdline()[0] != sys.executable)
        assert Path(lane_proc.cmdline()[0]).name in (pm, "node")  # the package manager (yarn 1 runs on node)
        assert ev["pid"] in tree and ev["ppid"] in tree and ev["ppid"] != lane_proc.pid
    except BaseException:
        proc.kill()
        raise
    interrupt_and_check(proc, signal.SIGINT, tree, runs)
    rec = json.loads(next(runs.glob("*/run.json")).read_text())
    lane = rec["lanes"]["unit-fast"]
    assert lane["status"] == "interrupted" and lane["exit_code"] == 130
    assert lane["workers"][str(ev["pid"])]["unfinished"] == ["suite/slow/sleep.test.js"]
