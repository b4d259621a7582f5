"""The run's only lane, started while heaplens reads the suite, behind its gate (runner/early_lane.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import psutil
import pytest
from runner_helpers import alive, hl

BASIC = [f"suite/basic/{n}.test.js" for n in ("alloc50", "f1", "f2", "f3", "small")]


def _trace(runs: Path, lane: str = "unit-fast") -> list[dict]:
    (path,) = runs.glob(f"*/lanes/{lane}/trace.jsonl")
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()]


def _gated(runs: Path) -> list[psutil.Process]:
    """Processes started with a gate under ``runs`` (a lane waiting for heaplens's word)."""
    out = []
    for p in psutil.process_iter():
        try:
            gate = p.environ().get("HEAPLENS_GATE", "")
        except psutil.Error:
            continue
        if gate.startswith(str(runs)):
            out.append(p)
    return out


@pytest.mark.parametrize("major", ["v3", "v4", "v5"])
def test_a_suite_without_manifests_has_its_lane_started_while_it_is_read(major, request, tmp_path):
    suite = request.getfixturevalue(major)
    runs = tmp_path / "runs"
    r = hl("run", "suite/basic", "--snapshots", "--workers", "1", "--no-isolate", cwd=suite, runs=runs)
    assert r.code == 0, r.out[-3000:] + r.err[-3000:]
    rec = r.record
    lane = rec["lanes"]["unit-fast"]
    # started before the plan was made and the record written, and taken as the plan's lane
    assert lane["started_at"] < rec["started_at"]
    assert lane["status"] == "passed" and sorted(f["file"] for f in lane["files"]) == BASIC
    # the gate gave the workers the planned runs: the worker's last snapshot is at its fifth file's end, not at
    # its first (the lane was started with one planned run, before the files were known)
    trace = _trace(runs)
    ends = [e for e in trace if e["ev"] == "end"]
    last = [e for e in trace if e["ev"] == "snapshot" and e.get("reason") == "last"]
    assert len(ends) == 5 and len(last) == 1
    assert last[0]["file"] == ends[-1]["file"] and last[0]["n"] == 5
    # the start lines come after the plan's, as for a lane started then
    lines = r.out.splitlines()
    assert lines.index(next(l for l in lines if l.startswith("[heaplens] lane unit-fast"))) < \
        lines.index(next(l for l in lines if l.startswith("[heaplens] start unit-fast")))
    assert not list(runs.glob("*/lanes/unit-fast/gate.json*"))


def test_a_jest_suite_has_its_lane_started_while_it_is_read(jest29, tmp_path):
    # Jest's generated config is an async function: it waits for the gate before it reads the suite's config
    runs = tmp_path / "runs"
    r = hl("run", "suite/basic", "--snapshots", cwd=jest29, runs=runs)
    assert r.code == 0, r.out[-3000:] + r.err[-3000:]
    rec = r.record
    lane = rec["lanes"]["unit-fast"]
    assert lane["started_at"] < rec["started_at"]
    assert lane["status"] == "passed"
    assert sorted(f["file"] for f in lane["files"]) == [f"suite/basic/b{i}.test.js" for i in (1, 2, 3)]
    # the gate gave the worker (Jest in band) the planned runs: its last snapshot is at its third file's end
    trace = _trace(runs)
    ends = [e for e in trace if e["ev"] == "end"]
    last = [e for e in trace if e["ev"] == "snapshot" and e.get("reason") == "last"]
    assert len(ends) == 3 and len(last) == 1
    assert last[0]["file"] == ends[-1]["file"] and last[0]["n"] == 3
    assert not list(runs.glob("*/lanes/unit-fast/gate.json*"))


@pytest.mark.parametrize("runner", ["v5", "jest29"])
def test_a_run_whose_path_has_no_tests_leaves_no_lane_and_no_run_behind(runner, request, tmp_path):
    suite = request.getfixturevalue(runner)
    runs = tmp_path / "runs"
    # the lane starts ahead (no manifest), then the runner lists no file for the path: exit 2, one line
    r = hl("run", "suite/no-such-dir", cwd=suite, runs=runs)
    assert r.code == 2, r.out[-2000:] + r.err[-2000:]
    assert "lists no test files" in r.err and "Traceback" not in r.err
    assert len(r.err.strip().splitlines()) == 1, r.err
    time.sleep(0.3)
    assert _gated(runs) == []
    assert not runs.exists() or list(runs.iterdir()) == []


def test_a_plan_made_from_a_manifest_starts_its_lanes_after_it(v5, tmp_path):
    timings = tmp_path / "timings.json"
    timings.write_text(json.dumps({"files": {"suite/basic/f1.test.js": {"durationMs": 10}}}))
    runs = tmp_path / "runs"
    r = hl("run", "suite/basic", "--timings", timings, cwd=v5, runs=runs)
    assert r.code == 0, r.out[-3000:] + r.err[-3000:]
    rec = r.record
    assert all(l["started_at"] >= rec["started_at"] for l in rec["lanes"].values())


def test_a_lane_started_ahead_that_the_plan_does_not_want_is_abandoned(v5, tmp_path, monkeypatch):
    from heaplens.runner import early_lane, session
    from heaplens.runner.inspection import filters_for
    from heaplens.runner.plan import Lane

    monkeypatch.chdir(v5)
    monkeypatch.setenv("HEAPLENS_RUNS_DIR", str(tmp_path / "runs"))
    cli = {"snapshots": True}
    suite, plan, values, sources, _, _ = session.prepare(cli, ["suite/basic"])
    ahead = early_lane.start(suite, values, sources, filters_for(["suite/basic"], v5), [])
    assert ahead is not None
    pid = ahead.runner.proc.pid
    tree = [pid] + [c.pid for c in psutil.Process(pid).children(recursive=True)]
    assert _gated(tmp_path / "runs")  # waiting at its gate
    # the plan's lane as made: the same command, so it fits
    assert ahead.fits(suite, plan.lanes, values, [])
    # another lane (isolated: its command line says so), other options, two lanes: it does not
    other = Lane("unit-fast", "fast", list(plan.files), isolate=True, all_files=True)
    assert not ahead.fits(suite, [other], values, [])
    assert not ahead.fits(suite, [plan.lanes[0], other], values, [])
    changed = dict(values, gc_overhead=5)
    assert not ahead.fits(suite, plan.lanes, changed, [])
    ahead.abandon()
    ahead.abandon()  # once
    time.sleep(0.3)
    assert alive(tree) == []
    assert not ahead.run_dir.exists()
    assert not (v5 / ".heaplens" / "config" / ahead.run_id).exists()


def _start(suite: Path, runs: Path, *args) -> tuple[object, list[psutil.Process]]:
    """``heaplens run`` as a process, once its lane is waiting at its gate (the processes of the lane)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCLAW_TEST_", "HEAPLENS_"))}
    env.update(HEAPLENS_PROGRESS="0", HEAPLENS_RUNS_DIR=str(runs))
    # a slow inspection: the lane waits at its gate meanwhile
    env["NODE_OPTIONS"] = "--require " + str(Path(__file__).parent / "fixtures" / "slow-inspect.cjs")
    proc = subprocess.Popen([sys.executable, "-m", "heaplens", "run", *args], cwd=suite, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        gated = _gated(runs)
        if gated:
            return proc, gated
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("no lane waited at its gate")


def test_ctrl_c_while_the_lane_waits_at_its_gate_leaves_nothing_behind(v5, tmp_path):
    import signal

    runs = tmp_path / "runs"
    proc, gated = _start(v5, runs, "suite/basic")
    tree = [p.pid for p in gated] + [c.pid for p in gated for c in p.children(recursive=True)]
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out[-2000:], err[-2000:])
    assert "Traceback" not in err
    time.sleep(0.3)
    assert alive(tree) == [] and _gated(runs) == []
    assert not runs.exists() or list(runs.iterdir()) == []  # the run had not begun: nothing of it is left


def test_a_killed_heaplens_takes_its_waiting_lane_along(v5, tmp_path):
    runs = tmp_path / "runs"
    proc, gated = _start(v5, runs, "suite/basic")
    tree = [p.pid for p in gated] + [c.pid for p in gated for c in p.children(recursive=True)]
    proc.kill()  # SIGKILL: no handler runs; the lane's watchdog ends it
    proc.communicate(timeout=30)
    deadline = time.time() + 10
    while alive(tree) and time.time() < deadline:
        time.sleep(0.1)
    assert alive(tree) == []
