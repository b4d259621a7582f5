"""Jest behind the runner seam: detection, plan (Jest's own files and --shard), runs in band and in jest-worker
child processes with the per-file trace and in-worker snapshots at file boundaries, a worker's OOM.

Real Jest 29 and 30 from npm (fixtures/jest29: CommonJS config with a setup file of its own; fixtures/jest30: an
ESM config file), kept to a few short runs."""

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
from runner_helpers import hl, interrupt_and_check, parse_kv, wait_for_trace

from heaplens.errors import UsageError
from heaplens.runner import seam
from heaplens.snapshot.files import parse_name


def _project(tmp: Path, name: str, pkg: dict, files: dict[str, str] | None = None) -> Path:
    d = tmp / name
    d.mkdir()
    (d / "package.json").write_text(json.dumps(pkg))
    for rel, text in (files or {}).items():
        (d / rel).write_text(text)
    return d


def test_the_runner_is_detected_from_the_project(tmp_path):
    jest_cfg = _project(tmp_path, "a", {"devDependencies": {"vitest": "4"}}, {"jest.config.js": "module.exports = {}"})
    assert seam.detect(jest_cfg).runner.name == "jest"  # a config file outweighs a dependency
    pkg_key = _project(tmp_path, "b", {"jest": {"testEnvironment": "node"}})
    assert seam.detect(pkg_key).runner.name == "jest"
    script = _project(tmp_path, "c", {"scripts": {"test": "vitest run"}, "devDependencies": {"jest": "29"}})
    assert seam.detect(script).runner.name == "vitest"  # the test script outweighs a dependency
    vitest_cfg = _project(tmp_path, "d", {}, {"vitest.config.mjs": "export default {}"})
    assert seam.detect(vitest_cfg).runner.name == "vitest"
    both = _project(tmp_path, "e", {}, {"vitest.config.ts": "", "jest.config.json": "{}"})
    with pytest.raises(UsageError, match="--runner vitest\\|jest"):
        seam.detect(both)
    assert seam.detect(both, "jest").runner.name == "jest"  # --runner decides
    assert seam.detect(_project(tmp_path, "f", {})).runner.name == "vitest"  # nothing shown: the default


def _jest_list(root: Path, *args: str) -> list[str]:
    """The slow, obvious reference: the suite's own `jest --listTests`."""
    cp = subprocess.run([shutil.which("node"), str(root / "node_modules/jest/bin/jest.js"), "--listTests", *args],
                        cwd=root, capture_output=True, text=True, timeout=300)
    return sorted(str(Path(l).relative_to(root)) for l in cp.stdout.split())


def test_jest29_in_band_trace_and_snapshots(jest29, tmp_path):
    order = tmp_path / "own-afterall.txt"
    r = hl("run", "suite/basic", "--snapshots", cwd=jest29, runs=tmp_path / "runs",
           env={"FIXTURE_ORDER_FILE": str(order)})
    assert r.code == 0, r.out[-3000:] + r.err
    assert "jest=29.7.0" in r.out and "note runner jest (jest.config.js" in r.out
    rec = r.record
    assert rec["versions"]["jest"] == "29.7.0"
    lane = rec["lanes"]["unit-fast"]
    assert "--runTestsByPath" not in lane["argv"] and lane["argv"][-1].endswith("suite/basic")  # the suite's own `jest PATHS`
    assert sorted(f["file"] for f in lane["files"]) == [f"suite/basic/b{i}.test.js" for i in (1, 2, 3)]
    # two cores: Jest's default maxWorkers is 1, so it runs the files in band — the Jest process is the worker
    (worker,) = lane["workers"].values()
    assert worker["pool"] == "inBand" and worker["pid"] == lane["vitest_main_pid"]
    assert len(worker["files"]) == 3
    # in-worker snapshots at file boundaries: after the first file's collection, the last file's end, and the
    # middle when the overhead budget allows; not the first file's end: its tests left nothing (its data is
    # module state, made at its collection) — under the diagnosis's floor, the collection snapshot stands for it
    snaps = [Path(p) for p in worker["snapshots"]]
    assert 2 <= len(snaps) <= 3 and all(p.is_file() for p in snaps)
    written = [(s["reason"], s["at"]) for s in lane["snapshots"]["written"]]
    assert written[0] == ("first", "collected") and written[-1][0] == "last" and ("first", "end") not in written
    names = [parse_name(p) for p in snaps]
    assert all(n is not None and n.pid == worker["pid"] and n.tid == 0 for n in names)
    trace = [json.loads(l) for l in Path(lane["trace"]).read_text().splitlines()]
    ends = [e for e in trace if e["ev"] == "end"]
    assert [e["ev"] for e in trace if e["ev"] in ("start", "collected", "end")][:3] == ["start", "collected", "end"]
    assert len(ends) == 3 and all(e["pool"] == "inBand" for e in ends)
    # heaplens's file end runs after the suite's own root afterAll (its setup file registered it first)
    own = dict(l.rsplit(" ", 1) for l in order.read_text().splitlines())
    # (the trace's `t` is Date.now() at the worker's start plus a monotonic clock's ms since, rounded: it can read
    # up to a millisecond behind a Date.now() taken just before — seen once at load 5-8: …946 against …947)
    for e in ends:
        assert e["t"] >= int(own[e["file"]]) - 1, (e["file"], e["t"], own[e["file"]])


def test_jest30_workers_shard_and_oom(jest30, tmp_path):
    # --shard: Jest's own sharding, the same files as `jest --listTests --shard=1/2`
    r = hl("plan", "--shard", "1/2", "--format", "json", cwd=jest30)
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["runner"] == "jest" and doc["jest"] == "30.5.2"
    planned = sorted(f for lane in doc["lanes"] for f in lane["files"])
    assert planned == _jest_list(jest30, "--shard=1/2") and 0 < len(planned) < len(_jest_list(jest30))
    assert all(lane["runner_args"] == ["--shard=1/2"] for lane in doc["lanes"])

    # two jest-worker child processes of the Jest process, each snapshotted from inside at file boundaries
    r = hl("run", "suite/basic", "--workers", "2", "--snapshots", cwd=jest30, runs=tmp_path / "runs")
    assert r.code == 0, r.out[-3000:] + r.err
    lane = r.record["lanes"]["unit-fast"]
    assert "--maxWorkers=2" in lane["argv"]
    main = lane["vitest_main_pid"]
    workers = list(lane["workers"].values())
    assert workers and all(w["pool"] == "workers" and w["pid"] != main for w in workers)
    assert sum(len(w["files"]) for w in workers) == 3
    for w in workers:
        assert len(w["snapshots"]) >= 2, w  # after its first file's collection, and its last file's end
        assert {parse_name(Path(p)).pid for p in w["snapshots"]} == {w["pid"]}

    # a worker that runs out of heap: the fault names it and its file; Node's near-limit snapshot is kept
    r = hl("run", "suite/oom", "--workers", "2", "--max-old-space-mb", "64", "--snapshot-dir", tmp_path / "snaps",
           cwd=jest30, runs=tmp_path / "oom")
    assert r.code == 1, r.out[-3000:]
    faults = r.lines("[heaplens][fault] unit-fast")
    assert len(faults) == 1, r.out[-3000:]
    kv = parse_kv(faults[0])
    assert kv["kind"] == "oom" and kv["file"] == "suite/oom/grow.test.js"
    (fault,) = r.record["lanes"]["unit-fast"]["faults"]
    assert fault["pid"] == int(kv["pid"]) and fault["pid"] != r.record["lanes"]["unit-fast"]["vitest_main_pid"]
    assert fault["snapshots"] and parse_name(Path(fault["snapshots"][0])).pid == fault["pid"]


def test_jest_refuses_vitest_only_overrides(jest29):
    r = hl("plan", "--pool", "threads", cwd=jest29)
    assert r.code == 2 and r.err.count("\n") == 1 and "Jest has no pools" in r.err


def test_jest_interrupt_leaves_no_process(jest29, tmp_path):
    """Ctrl-C during a Jest lane (in band: the Jest process runs the file): heaplens exits 130, nothing is left."""
    runs = tmp_path / "runs"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCLAW_TEST_", "HEAPLENS_"))}
    env["HEAPLENS_RUNS_DIR"] = str(runs)
    proc = subprocess.Popen([sys.executable, "-m", "heaplens", "run", "suite/slow", "--grace", "2"], cwd=jest29,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        trace = wait_for_trace(runs)
        ev = json.loads(trace.read_text().splitlines()[0])
        tree = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
        assert ev["pid"] in tree and ev["pool"] == "inBand"
    except BaseException:
        proc.kill()
        raise
    interrupt_and_check(proc, signal.SIGINT, tree, runs)
    rec = json.loads(next(runs.glob("*/run.json")).read_text())
    assert rec["lanes"]["unit-fast"]["workers"][str(ev["pid"])]["unfinished"] == ["suite/slow/wait.test.js"]


def test_jest_projects_and_esm(jest29, tmp_path):
    """Projects (an inline ESM project, a project given by its directory): Jest's files per project, and every
    file of both traced by the hook heaplens put in each project's setupFilesAfterEnv."""
    root = jest29 / "projects"
    r = hl("plan", "--root", root, "--format", "json", cwd=root)
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert [p["name"] for p in doc["suite_config"]["projects"]] == ["esm", "cjs"]
    r = hl("run", "--root", root, cwd=root, runs=tmp_path / "runs", env={"NODE_OPTIONS": "--experimental-vm-modules"})
    assert r.code == 0, r.out[-3000:] + r.err
    files = sorted(f["file"] for f in r.record["lanes"]["unit-fast"]["files"])
    assert files == ["cjs/c1.test.js", "cjs/c2.test.js", "esm/e1.test.mjs", "esm/e2.test.mjs"]
