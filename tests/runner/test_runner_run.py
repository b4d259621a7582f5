"""Real `vitest run` lanes: trace lines, per-worker deltas, heap limits, snapshots, OOM, Ctrl-C, env aliases."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from runner_helpers import MIB, hl, interrupt_and_check, parse_kv, size_of, wait_for_trace

from heaplens.snapshot.files import parse_name

BASIC = ("alloc50", "f1", "f2", "f3", "small")


def mem_lines(r, lane="unit-fast"):
    out = {}
    for line in r.lines(f"[heaplens][mem] {lane} file="):
        kv = parse_kv(line)
        out[kv["file"]] = kv
    return out


def check_basic_run(r, root: Path, workers: int, max_old_mb: int, isolate: bool = True):
    assert r.code == 0, r.out[-3000:] + r.err
    assert r.lines("[heaplens] start unit-fast") == [
        f"[heaplens] start unit-fast workers={workers} files=5 pool=forks isolate={'yes' if isolate else 'no'}"]
    done = r.lines("[heaplens] done unit-fast")
    assert len(done) == 1 and parse_kv(done[0])["code"] == "0"
    files = mem_lines(r)
    assert sorted(files) == sorted(f"suite/basic/{n}.test.js" for n in BASIC)
    rec = r.record
    lane = rec["lanes"]["unit-fast"]
    by_file = {f["file"]: f for f in lane["files"]}
    # the 50 MB file grows the worker that ran it by >= 40 MiB; the trivial files do not
    big = files["suite/basic/alloc50.test.js"]
    assert size_of(big["delta"]) >= 40 * MIB
    assert by_file["suite/basic/alloc50.test.js"]["delta"] >= 40 * MIB
    assert int(big["pid"]) == by_file["suite/basic/alloc50.test.js"]["pid"]
    for n in ("f1", "f2", "f3", "small"):
        assert abs(by_file[f"suite/basic/{n}.test.js"]["delta"]) < 10 * MIB, n
    # plausible figures: a Node worker's RSS is tens of MiB, the peak at least the end RSS
    for f in by_file.values():
        assert 20 * MIB < f["rss_end"] < 2048 * MIB
        assert f["peak"] >= f["rss_end"]
        # --max-old-space-mb reached the worker: V8's limit = old space + young generation
        assert max_old_mb * MIB <= f["heap_limit"] <= (max_old_mb + 128) * MIB, f["heap_limit"]
    # workers are the children of Vitest's main process
    pids = {f["pid"] for f in by_file.values()}
    assert lane["vitest_main_pid"] and lane["vitest_main_pid"] not in pids
    if isolate:
        # the suite's own setting (Vitest's default): every file in a new worker process
        assert len(pids) == 5
    else:
        # isolate=false: a worker runs several files, its PID stays; at most --workers of them
        assert 1 <= len(pids) <= workers and len(pids) < 5
    # summary
    summ = r.lines("[heaplens][mem] summary unit-fast")
    assert len(summ) == 1
    kv = parse_kv(summ[0])
    assert kv["files"] == "5" and size_of(kv["totalDelta"]) >= 40 * MIB and size_of(kv["peak"]) > 50 * MIB
    assert summ[0].split("top=")[1].startswith("suite/basic/alloc50.test.js:+")
    # record: versioned, complete, written atomically (no temp file left)
    assert rec["schema"] == "heaplens.run" and rec["schema_version"] == 2 and rec["status"] == "passed"
    assert rec["root"] == str(root) and rec["plan"]["lanes"][0]["name"] == "unit-fast"
    assert lane["exit_code"] == 0 and lane["elapsed_s"] > 0
    run_dir = next(r.runs.iterdir())
    assert not list(run_dir.glob(".run-*"))
    trace = [json.loads(l) for l in Path(lane["trace"]).read_text().splitlines()]
    if isolate:  # a worker per file: the GC-settled line after the file's collection too
        assert {e["ev"] for e in trace} == {"start", "collected", "end"} and len(trace) == 15
    else:  # (+ a `settle` line for a worker's last file end when it ended without a forced GC)
        assert {e["ev"] for e in trace} - {"settle"} == {"start", "end"}
        assert len([e for e in trace if e["ev"] != "settle"]) == 10
    assert all(e["ppid"] == lane["vitest_main_pid"] == e["main"] and e["tid"] == 0 for e in trace)
    if isolate:
        # a worker per file: both its lines are GC-settled, the file's growth is from its collection to its end
        assert all(e["settled"] and e["gcMs"] >= 0 for e in trace if e["ev"] in ("end", "collected"))
        for f in by_file.values():
            assert f["settled_base"] == "collected" and f["settled_files"] == 1
            assert f["settled_end"]["heap_used"] > 0 and f["heap_growth"] is not None
    else:
        # a worker that runs several files: its first file end is settled, later ones as the GC budget allows;
        # the settled growths span every file of the worker once
        for pid in pids:
            mine = [f for f in lane["files"] if f["pid"] == pid]
            assert mine[0]["settled_end"] is not None and mine[0]["settled_base"] == "worker-start"
            assert sum(f["settled_files"] or 0 for f in mine) == len(mine) and mine[-1]["settled_end"] is not None
    # --workers is a deviation from the config's worker count (unless the config says the same)
    wdev = [d for d in lane["deviations"] if d["setting"] == "workers"]
    assert (wdev and wdev[0]["reason"] == f"workers={workers} (cli)") or lane["config"]["workers"] == str(workers)
    samples = [json.loads(l) for l in Path(lane["samples"]).read_text().splitlines()]
    assert samples and all(s["tree_rss"] > 0 for s in samples)
    assert not (root / ".heaplens" / "config" / rec["run_id"]).exists()  # the generated config is removed


def test_run_vitest5(v5, tmp_path):
    r = hl("run", "suite/basic", "--workers", "2", "--max-old-space-mb", "256", "--poll-ms", "100", cwd=v5,
           runs=tmp_path / "runs")
    assert "vitest=5." in r.out
    check_basic_run(r, v5, 2, 256)


def test_run_vitest3(v3, tmp_path):
    r = hl("run", "suite/basic", "--workers", "2", "--max-old-space-mb", "300", cwd=v3, runs=tmp_path / "runs")
    assert "vitest=3." in r.out
    check_basic_run(r, v3, 2, 300)


def test_run_vitest4(v4, tmp_path):
    r = hl("run", "suite/basic", "--workers", "2", "--max-old-space-mb", "256", "--no-isolate", cwd=v4,
           runs=tmp_path / "runs")
    assert "vitest=4." in r.out
    check_basic_run(r, v4, 2, 256, isolate=False)
    assert any("ran with isolate=no although the config says yes, because isolate=false (cli)" in l
               for l in r.lines("[heaplens] deviation unit-fast"))
    r = hl("run", "suite/oom", "--max-old-space-mb", "48", "--workers", "1", cwd=v4, runs=tmp_path / "oom")
    assert r.code == 1
    kv = parse_kv(r.lines("[heaplens][fault] unit-fast")[0])
    assert kv["kind"] == "oom" and kv["file"] == "suite/oom/grow.test.js"


def test_oom_is_reported_with_its_file(v5, tmp_path):
    snaps = tmp_path / "snaps"
    beh = tmp_path / "beh.json"  # the growing file in a lane of its own, so that another lane runs after it
    beh.write_text(json.dumps({"unit": {"singletonIsolated": ["suite/oom/grow.test.js"]}}))
    r = hl("run", "suite/oom", "suite/basic", "--max-old-space-mb", "48", "--snapshot-dir", snaps,
           "--behavior", beh, cwd=v5, runs=tmp_path / "runs")
    assert r.code == 1, r.out[-2000:]
    done = {l.split()[2]: parse_kv(l)["code"] for l in r.lines("[heaplens] done ")}
    assert done["unit-fast"] == "0" and done["unit-singleton"] != "0"  # the other lane went on
    assert len(mem_lines(r)) == 6  # basic's 5 and oom/fine
    faults = r.lines("[heaplens][fault] ")
    assert len(faults) == 1 and faults[0].startswith("[heaplens][fault] unit-singleton "), r.out[-3000:]
    kv = parse_kv(faults[0])
    assert kv["kind"] == "oom" and kv["file"] == "suite/oom/grow.test.js"
    assert size_of(kv["lastRss"]) > 20 * MIB
    rec = r.record
    assert rec["lanes"]["unit-fast"]["exit_code"] == 0 and not rec["lanes"]["unit-fast"]["faults"]
    lane = rec["lanes"]["unit-singleton"]
    assert lane["exit_code"] != 0 and rec["exit_code"] == 1 and rec["status"] == "failed"
    (fault,) = lane["faults"]
    assert fault["files"] == ["suite/oom/grow.test.js"] and fault["pid"] == int(kv["pid"])
    assert fault["vitest_exit"] == "SIGABRT" and kv["exit"] == "SIGABRT"  # V8's fatal OOM aborts the process
    # --heapsnapshot-near-heap-limit=1 left a snapshot of the dying worker, under Node's own name
    assert fault["snapshots"], "no near-limit snapshot"
    name = parse_name(Path(fault["snapshots"][0]))
    assert name is not None and name.pid == fault["pid"]
    assert Path(fault["snapshots"][0]).parent == snaps / "unit-singleton"


def test_interval_snapshots_through_openclaw_variables(v5, tmp_path):
    """The seed's reproduce command, with heaplens run in place of pnpm test: the interval signal still works
    (worker processes), each snapshot Node writes is printed once, and no line is printed per signal round."""
    snaps = tmp_path / "heapsnap"
    env = {"OPENCLAW_TEST_MEMORY_TRACE": "1", "OPENCLAW_TEST_HEAPSNAPSHOT_INTERVAL_MS": "1000",
           "OPENCLAW_TEST_HEAPSNAPSHOT_DIR": str(snaps), "OPENCLAW_TEST_WORKERS": "2",
           "OPENCLAW_TEST_MAX_OLD_SPACE_SIZE_MB": "512", "OPENCLAW_TEST_MEMORY_TRACE_TOP_COUNT": "1"}
    r = hl("run", "suite/heap", "suite/basic", cwd=v5, runs=tmp_path / "runs", env=env)
    assert r.code == 0, r.out[-3000:] + r.err
    assert r.lines("[heaplens] start unit-fast") == ["[heaplens] start unit-fast workers=2 files=6 pool=forks isolate=yes"]
    assert any("timeouts raised" in l for l in r.lines("[heaplens][heap]"))
    assert not [l for l in r.lines("[heaplens][heap]") if " seq=" in l or "busy=" in l]
    wrote = [l for l in r.lines("[heaplens][heap] unit-fast wrote ") if "after the signal" in l]
    assert wrote, r.out[-2000:]
    top = r.lines("[heaplens][mem] summary")[0].split("top=")[1]
    assert top.count(":+") == 1  # TOP_COUNT=1
    rec = r.record
    assert rec["option_sources"]["workers"] == "env OPENCLAW_TEST_WORKERS"
    lane = rec["lanes"]["unit-fast"]
    assert lane["snapshots"]["signals"] and lane["snapshots"]["mode"] == "off+interval"
    assert all(512 * MIB <= f["heap_limit"] <= 640 * MIB for f in lane["files"])
    files = sorted((snaps / "unit-fast").iterdir())
    names = [parse_name(f) for f in files]
    assert names and all(n is not None for n in names), files
    assert len(wrote) == len(files), (wrote, files)  # one line per snapshot written
    worker_pids = {w["pid"] for w in lane["workers"].values()}
    assert {n.pid for n in names} <= worker_pids
    # a PID with two or more snapshots can be compared with heaplens diff --lane-dir as it is
    counts = {}
    for n in names:
        counts[n.pid] = counts.get(n.pid, 0) + 1
    assert max(counts.values()) >= 2, counts
    d = hl("diff", "--lane-dir", snaps / "unit-fast", "--top", "5", "--no-progress", cwd=v5)
    assert d.code == 0, d.err
    assert "RetainedByTest" in d.out


def test_snapshot_disk_budget_stops_snapshots_with_one_line(v5, tmp_path):
    r = hl("run", "suite/basic", "--snapshots", "--no-isolate", "--snapshot-budget-gb", "0.00001", cwd=v5,
           runs=tmp_path / "runs")
    assert r.code == 0, r.out[-3000:]  # the tests go on
    said = [l for l in r.lines("[heaplens][heap] unit-fast ") if "disk budget" in l]
    assert len(said) == 1 and "no more snapshots" in said[0], r.out[-2000:]
    lane = r.record["lanes"]["unit-fast"]
    assert lane["snapshots"]["written"] == [] and lane["snapshots"]["stopped"] == "disk-budget"
    assert [n["reason"] for n in lane["snapshots"]["notices"]] == ["disk-budget"]
    assert r.record["snapshot_disk_budget"] == int(0.00001 * 1024**3)


@pytest.mark.parametrize("sig,suite", [(signal.SIGINT, "suite/slow"), (signal.SIGTERM, "suite/slow"),
                                       (signal.SIGINT, "suite/stubborn")])
def test_interrupt_leaves_no_process(v5, tmp_path, sig, suite):
    runs = tmp_path / "runs"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCLAW_TEST_", "HEAPLENS_"))}
    env["HEAPLENS_RUNS_DIR"] = str(runs)
    proc = subprocess.Popen([sys.executable, "-m", "heaplens", "run", suite, "--grace", "2"], cwd=v5,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        trace = wait_for_trace(runs)  # the worker has started the test file (its trace line is on disk)
        ev = json.loads(trace.read_text().splitlines()[0])
        worker, main = ev["pid"], ev["ppid"]
        tree = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
        assert worker in tree and main in tree
    except BaseException:
        proc.kill()
        raise
    interrupt_and_check(proc, sig, tree, runs)
    rec = json.loads(next(runs.glob("*/run.json")).read_text())
    assert rec["lanes"]["unit-fast"]["status"] == "interrupted"
    (unfinished,) = rec["lanes"]["unit-fast"]["workers"][str(worker)]["unfinished"]
    assert unfinished.startswith(suite + "/")


def test_shards_and_merge(v5, tmp_path):
    runs = tmp_path / "runs"
    recs = []
    for i in (1, 2):
        r = hl("run", "suite/basic", "--shard", f"{i}/2", "--workers", "1", cwd=v5, runs=runs / str(i))
        assert r.code == 0, r.out[-2000:]
        recs.append(next((runs / str(i)).glob("*/run.json")))
    one = json.loads(recs[0].read_text())
    two = json.loads(recs[1].read_text())
    f1 = {f["file"] for f in one["lanes"]["unit-fast"]["files"]}
    f2 = {f["file"] for f in two["lanes"]["unit-fast"]["files"]}
    assert f1 and f2 and not (f1 & f2) and len(f1 | f2) == 5
    out = tmp_path / "merged.json"
    m = hl("merge", recs[0].parent, recs[1], "-o", out, cwd=v5)
    assert m.code == 0, m.err
    merged = json.loads(out.read_text())
    assert merged["schema_version"] == 2 and len(merged["shards"]) == 2
    files = {f["file"] for lane in merged["lanes"].values() for f in lane["files"]}
    assert len(files) == 5
    assert merged["plan"]["merged_shards"] == ["1/2", "2/2"]
    # every command that reads a run reads the merged one (heaplens report crashed on it: issue 14.11)
    for fmt in ("text", "json", "markdown"):
        rep = hl("report", out, "--format", fmt, "--no-retainers", cwd=v5)
        assert rep.code == 0 and "Traceback" not in rep.err, rep.err[-2000:]
    doc = json.loads(hl("report", out, "--format", "json", "--no-retainers", cwd=v5).out)
    assert {lane["name"] for lane in doc["lanes"]} == set(merged["lanes"])
    assert doc["reproduce"].endswith("heaplens run suite/basic --shard 1/2 --workers 1")  # a shard's command
    bad = hl("merge", tmp_path / "nope", cwd=v5)
    assert bad.code == 2 and "Traceback" not in bad.err


def test_worker_killed_by_a_signal(v5, tmp_path):
    r = hl("run", "suite/crash", "suite/basic/f1.test.js", "--workers", "1", "--poll-ms", "200", cwd=v5,
           runs=tmp_path / "runs")
    assert r.code == 1, r.out[-2000:]
    faults = r.lines("[heaplens][fault] unit-fast")
    assert len(faults) == 1, r.out[-3000:]
    kv = parse_kv(faults[0])
    assert kv["kind"] == "crash" and kv["file"] == "suite/crash/die.test.js" and kv["exit"] == "SIGKILL"
    assert size_of(kv["lastRss"]) >= 30 * MIB  # the last sample saw the 30 MB ballast
    assert r.record["lanes"]["unit-fast"]["faults"][0]["vitest_exit"] == "SIGKILL"


def test_oom_vitest3_and_without_trace(v3, tmp_path):
    """Vitest 3 words its worker deaths differently; with --no-trace the fault still names the file."""
    r = hl("run", "suite/oom", "--max-old-space-mb", "48", "--workers", "1", cwd=v3, runs=tmp_path / "a")
    assert r.code == 1, r.out[-2000:]
    kv = parse_kv(r.lines("[heaplens][fault] unit-fast")[0])
    assert kv["kind"] == "oom" and kv["file"] == "suite/oom/grow.test.js"
    r = hl("run", "suite/oom", "--max-old-space-mb", "48", "--workers", "1", "--no-trace", cwd=v3, runs=tmp_path / "b")
    assert r.code == 1, r.out[-2000:]
    assert not r.lines("[heaplens][mem]")
    faults = r.lines("[heaplens][fault] unit-fast")
    assert len(faults) == 1 and "kind=oom" in faults[0]
    assert r.record["lanes"]["unit-fast"]["faults"][0]["kind"] == "oom"


def test_several_lanes_in_parallel_isolation_and_lane_filter(v5, tmp_path):
    beh = tmp_path / "beh.json"
    beh.write_text(json.dumps({"unit": {"isolated": ["suite/basic/f1.test.js"],
                                        "singletonIsolated": ["suite/basic/f2.test.js", "suite/basic/f3.test.js"]}}))
    r = hl("run", "suite/basic", "--behavior", beh, "--parallel", "2", cwd=v5, runs=tmp_path / "runs")
    assert r.code == 0, r.out[-3000:]
    starts = {l.split()[2]: parse_kv(l) for l in r.lines("[heaplens] start ")}
    assert set(starts) == {"unit-fast", "unit-f1-isolated", "unit-singleton"}
    assert starts["unit-singleton"]["workers"] == "1" and starts["unit-singleton"]["files"] == "2"
    assert {l.split()[2] for l in r.lines("[heaplens] done ")} == set(starts)
    rec = r.record
    assert set(rec["lanes"]) == set(starts)
    single = {f["file"]: f["pid"] for f in rec["lanes"]["unit-singleton"]["files"]}
    # isolate=true with forks: every file in a new worker process
    assert len(set(single.values())) == 2, single
    fast = {f["file"]: f["pid"] for f in rec["lanes"]["unit-fast"]["files"]}
    assert set(fast) == {"suite/basic/alloc50.test.js", "suite/basic/small.test.js"}
    assert not set(fast.values()) & set(single.values())
    # --lane runs only the named lanes
    r = hl("run", "suite/basic", "--behavior", beh, "--lane", "unit-singleton", cwd=v5, runs=tmp_path / "runs2")
    assert r.code == 0
    assert [l.split()[2] for l in r.lines("[heaplens] start ")] == ["unit-singleton"]


def test_package_manager_from_lockfile(tmp_path):
    from heaplens.runner.vitest import detect_package_manager

    for lock, pm in (("pnpm-lock.yaml", "pnpm"), ("yarn.lock", "yarn"), ("package-lock.json", "npm")):
        d = tmp_path / pm
        d.mkdir()
        (d / "package.json").write_text("{}")
        (d / lock).write_text("")
        assert detect_package_manager(d) == pm
    d = tmp_path / "none"
    d.mkdir()
    (d / ".git").mkdir()
    (d / "package.json").write_text('{"packageManager": "pnpm@9.1.0"}')
    assert detect_package_manager(d) == "pnpm"


def test_vitest_args_after_double_dash(v5, tmp_path):
    r = hl("run", "suite/basic", "--workers", "1", "--", "--reporter=dot", "--bail=1", cwd=v5, runs=tmp_path / "runs")
    assert r.code == 0, r.out[-2000:] + r.err
    rec = r.record
    assert rec["vitest_args"] == ["--reporter=dot", "--bail=1"]
    argv = rec["lanes"]["unit-fast"]["argv"]
    assert "--reporter=dot" in argv and "--bail=1" in argv
    assert len(mem_lines(r)) == 5  # the args went to Vitest, not into the file filters


def test_suite_typescript_config_is_kept(v5, tmp_path):
    """The generated config imports the suite's own (TypeScript, function-form) config: its test.env reaches
    the test; without it the same test fails."""
    cfg = "suite/userconfig/vitest.user.config.ts"
    r = hl("run", "suite/userconfig", "--config", cfg, cwd=v5, runs=tmp_path / "a")
    assert r.code == 0, r.out[-2000:]
    assert list(mem_lines(r)) == ["suite/userconfig/uses-config.test.ts"]
    r = hl("run", "suite/userconfig", cwd=v5, runs=tmp_path / "b")
    assert r.code == 1


def test_file_lines_are_printed_as_files_finish(v5, tmp_path):
    """A finished file's [mem] line is on stdout while another file of the same lane still runs."""
    import queue
    import threading

    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCLAW_TEST_", "HEAPLENS_"))}
    env["HEAPLENS_RUNS_DIR"] = str(tmp_path / "runs")
    proc = subprocess.Popen([sys.executable, "-m", "heaplens", "run", "suite/slow", "suite/basic/f1.test.js",
                             "--workers", "2", "--grace", "2"], cwd=v5, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in proc.stdout], daemon=True).start()
    try:
        deadline = time.time() + 60
        seen = None
        while time.time() < deadline and seen is None:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            if line.startswith("[heaplens][mem] unit-fast file=suite/basic/f1.test.js "):
                seen = line
        assert seen is not None, "no per-file line while the lane ran"
        assert proc.poll() is None  # the slow file (120 s) is still running
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
