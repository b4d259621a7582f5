"""Capture that reflects the suite (issue 12): the suite's own pool/isolate/projects, snapshots written from
inside the worker (processes and threads) at test-file boundaries after a full GC, the overhead budget, and
the GC-settled per-file line. Each suite under ``fixtures/capture/`` is copied to a temporary directory with one
version fixture's ``node_modules`` linked into it, so the same suite runs on Vitest 3.2, 4 and 5; the snapshots
are real V8 snapshots, read back with the slow reference reader and counted by class."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from runner_helpers import hl, parse_kv

import heaplens
from heaplens.cli import build_parser
from heaplens.commands.plan import cli_values
from heaplens.diagnose.run import worker_snapshots
from heaplens.runner import session
from heaplens.snapshot.files import parse_name
from reference import classes, load

CAPTURE = Path(__file__).parent / "fixtures" / "capture"
VERSIONS = ["v3", "v4", "v5"]


def suite(name: str, fixture: Path, tmp_path: Path) -> Path:
    root = tmp_path / name
    shutil.copytree(CAPTURE / name, root, ignore=shutil.ignore_patterns("node_modules", ".heaplens"))
    os.symlink(fixture / "node_modules", root / "node_modules")
    return root


@functools.lru_cache(maxsize=64)
def count(path: str, cls: str) -> int:
    """How many objects of class ``cls`` the snapshot at ``path`` holds (the reference reader; a snapshot file
    is never rewritten, so a file read once is not read again by the next assertion on it)."""
    return classes(load(Path(path))).get(cls, (0, 0))[0]


def lane_of(r) -> dict:
    return r.record["lanes"]["unit-fast"]


def snapshots_by_worker(lane: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for s in lane["snapshots"]["written"]:
        out.setdefault(s["worker"], []).append(s)
    return out


@pytest.mark.parametrize("version", VERSIONS)
def test_threads_pool_suite_with_a_leak(version, request, tmp_path):
    """pool: 'threads' is kept (it used to run as forks); each worker thread writes its own snapshots, named
    by PID and thread id, after its first file's collection and at its last file end, and the later one holds
    the objects its files kept. Its first file end is not written: that file's tests left ~0.1 MiB, under the
    diagnosis's floor (0.1 % of the heap limit), and the collection snapshot stands for it."""
    root = suite("threads-leak", request.getfixturevalue(version), tmp_path)
    r = hl("run", "--snapshots", cwd=root, runs=tmp_path / "runs")
    assert r.code == 0, r.out[-3000:] + r.err  # the test files assert that they run in a worker thread
    assert "deviation" not in r.out
    start = parse_kv(r.lines("[heaplens] start unit-fast")[0])
    assert (start["pool"], start["isolate"]) == ("threads", "no")
    lane = lane_of(r)
    assert "--pool=threads" not in lane["argv"] and not any(a.startswith("--pool") for a in lane["argv"])
    assert all(f["tid"] >= 1 and f["pool"] == "threads" and f["rss_scope"] == "process" for f in lane["files"])
    workers = {k: w for k, w in lane["workers"].items() if w["files"]}
    assert workers and all(w["tid"] >= 1 for w in workers.values())
    by_worker = snapshots_by_worker(lane)
    for key, w in workers.items():
        snaps = by_worker.get(key, [])
        # after its first file's collection, ..., the end of its last file; not the end of its first file
        assert (snaps[0]["reason"], snaps[0]["at"]) == ("first", "collected"), snaps
        assert ("first", "end") not in [(s["reason"], s["at"]) for s in snaps], snaps
        assert snaps[-1]["reason"] == "last"
        assert w["files_after_last_snapshot"] == []
        names = [parse_name(s["path"]) for s in snaps]
        assert all(n is not None and n.pid == w["pid"] and n.tid == w["tid"] for n in names)
        assert len({n.seq for n in names}) == len(names)
        # exact counts: 1500 objects per file the thread had ended when each snapshot was written
        assert count(snaps[0]["path"], "ThreadLeak") == 0
        for s in snaps[1:]:
            assert count(s["path"], "ThreadLeak") == 1500 * s["index"], s
        assert snaps[-1]["index"] == len(w["files"])
    assert any(len(w["files"]) >= 2 for w in workers.values()), "no thread ran two files"
    # why each worker that ran several files has no first-end snapshot: said in its trace, once in the log
    trace = [json.loads(l) for l in Path(lane["trace"]).read_text().splitlines()]
    skipped = [e for e in trace if e["ev"] == "snapshot-skipped" and e["reason"] == "unchanged"]
    assert {(e["pid"], e["tid"]) for e in skipped} == {(w["pid"], w["tid"]) for w in workers.values()
                                                      if len(w["files"]) >= 2}
    limit = lane["files"][0]["heap_limit"]
    assert all(e["grew"] < e["floor"] and e["floor"] == pytest.approx(0.001 * limit) for e in skipped), skipped
    assert len([l for l in r.lines("[heaplens][heap] unit-fast a worker's first file end ")
                if "under the diagnosis's floor" in l]) == 1
    # each worker's first snapshot, and only that one, is followed by single-threaded scavenges (V8's id tracking
    # starts there): said in its trace line, once in the log and in the lane's notices
    wrote = [e for e in trace if e["ev"] == "snapshot"]
    for w in workers.values():
        mine = [e for e in wrote if (e["pid"], e["tid"]) == (w["pid"], w["tid"])]
        assert [e.get("v8Flags") for e in mine] == [["--no-parallel-scavenge"]] + [None] * (len(mine) - 1), mine
    said = [l for l in r.lines("[heaplens][heap] unit-fast from a worker's first snapshot on, V8 scavenges on one")]
    assert len(said) == 1 and "(--no-parallel-scavenge)" in said[0]
    lines = r.out.splitlines()
    assert lines.index(said[0]) > min(i for i, l in enumerate(lines) if l.startswith("[heaplens][heap] unit-fast wrote "))
    assert [n["reason"] for n in lane["snapshots"]["notices"] if n["kind"] == "gc-flags"] == ["tracking"]


@pytest.mark.parametrize(("version", "pool"), [("v3", "vmThreads"), ("v4", "vmForks")])
def test_vm_pools_one_worker_many_contexts(version, pool, request, tmp_path):
    """The vm pools keep one worker (a thread for vmThreads, a process for vmForks) and give each file a new vm
    context: its snapshots are written from inside it after its first file's collection and at its last file's
    end (its first file's end is stood for by the collection one: its tests left under the floor), and the last
    holds what every file handed to the worker's `process`. (Vitest 5's vm pools need
    Node >= 22: on Node 20 they fail without heaplens too.)"""
    root = suite("vm-pools", request.getfixturevalue(version), tmp_path)
    r = hl("run", "--snapshots", cwd=root, runs=tmp_path / "runs", env={"FIXTURE_POOL": pool})
    assert r.code == 0, r.out[-3000:] + r.err
    assert "deviation" not in r.out and f"pool={pool}" in r.lines("[heaplens] start unit-fast")[0]
    lane = lane_of(r)
    assert all(f["pool"] == pool and (f["tid"] >= 1) == (pool == "vmThreads") for f in lane["files"])
    [(key, w)] = [(k, w) for k, w in lane["workers"].items() if w["files"]]
    assert len(w["files"]) == 4 and w["files_after_last_snapshot"] == []
    snaps = snapshots_by_worker(lane)[key]
    assert (snaps[0]["reason"], snaps[0]["at"]) == ("first", "collected") and ("first", "end") not in [
        (s["reason"], s["at"]) for s in snaps], snaps
    assert snaps[-1]["reason"] == "last" and snaps[-1]["index"] == 4
    names = [parse_name(s["path"]) for s in snaps]
    assert all(n.pid == w["pid"] and n.tid == w["tid"] for n in names)
    assert [count(s["path"], "VmLeak") for s in snaps] == [0] + [1000 * s["index"] for s in snaps[1:]]
    assert count(snaps[-1]["path"], "VmLeak") == 4000


@pytest.mark.parametrize("version", VERSIONS)
def test_isolate_true_leak_inside_one_file(version, request, tmp_path):
    """Vitest's default isolate:true (a worker per file): the lane measures each file's GC-settled growth (after its
    collection → its end); the file that grew most is rerun in a follow-up lane for its pair, after its collection
    (its module state exists, empty) and at its end — the growth inside the file is in the second snapshot only."""
    root = suite("isolated-leak", request.getfixturevalue(version), tmp_path)
    r = hl("run", "--snapshots", cwd=root, runs=tmp_path / "runs")
    assert r.code == 0, r.out[-3000:] + r.err
    assert "deviation" not in r.out and "isolate=yes" in r.lines("[heaplens] start unit-fast")[0]
    lane = lane_of(r)
    leaky = next(f for f in lane["files"] if f["file"] == "leaky.test.js")
    assert leaky["settled_base"] == "collected"
    assert lane["snapshots"]["written"] == []  # the lane itself only measures
    assert lane["snapshots"]["pairs_planned"][0]["file"] == "leaky.test.js"
    pairs = r.record["lanes"]["unit-fast-pairs"]
    assert pairs["follow_up_of"] == "unit-fast" and pairs["files_planned"][0] == "leaky.test.js"
    assert pairs["deviations"] == [] and not any(a.startswith(("--pool", "--isolate", "--no-isolate", "--maxWorkers"))
                                                 for a in pairs["argv"])
    pair = [s for s in pairs["snapshots"]["written"] if s["file"] == "leaky.test.js"]
    assert [s["at"] for s in pair] == ["collected", "end"], pair
    rerun = next(f for f in pairs["files"] if f["file"] == "leaky.test.js")
    assert pair[0]["pid"] == pair[1]["pid"] == rerun["pid"]
    assert count(pair[0]["path"], "InFileLeak") == 0
    assert count(pair[1]["path"], "InFileLeak") == 20000
    # the cheap GC-settled line saw the growth too: more than the clean file's
    clean = next(f for f in lane["files"] if f["file"] == "clean.test.js")
    assert leaky["heap_growth"] > clean["heap_growth"] + 100_000
    assert rerun["rss_inflated"] and not leaky["rss_inflated"]  # a snapshot was written between its RSS start and end
    assert "rerun for a snapshot pair in unit-fast-pairs" in r.out
    # the clean file is below the diagnosis's floor (0.1 % of the heap limit): no pair, and the record says why
    assert all(x["below_floor"] for x in lane["snapshots"]["unpaired"] if x["file"] == "clean.test.js")


def test_a_file_in_two_projects_is_rerun_for_its_pair_in_one(request, tmp_path):
    """Two projects include the leaky file (a worker per file each): the lane runs it twice; the follow-up lane
    reruns it once, in the project where it grew most (`--project=NAME`), for one pair — not once per project."""
    root = suite("two-projects-leak", request.getfixturevalue("v4"), tmp_path)
    r = hl("run", "--snapshots", cwd=root, runs=tmp_path / "runs")
    assert r.code == 0, r.out[-3000:] + r.err
    lane = lane_of(r)
    runs = [f for f in lane["files"] if f["file"] == "leaky.test.js"]
    assert sorted(f["project"] for f in runs) == ["node-a", "node-b"]
    planned = lane["snapshots"]["pairs_planned"]
    assert [x["file"] for x in planned] == ["leaky.test.js"]
    grew_most = max(runs, key=lambda f: (f["heap_growth"] or 0) + (f["external_growth"] or 0))["project"]
    assert planned[0]["project"] == grew_most
    pairs = r.record["lanes"]["unit-fast-pairs"]
    assert f"--project={grew_most}" in pairs["argv"]
    rerun = [f for f in pairs["files"] if f["file"] == "leaky.test.js"]
    assert [f["project"] for f in rerun] == [grew_most]
    pair = [s for s in pairs["snapshots"]["written"] if s["file"] == "leaky.test.js"]
    assert [s["at"] for s in pair] == ["collected", "end"]
    assert count(pair[1]["path"], "InFileLeak") == 20000


def test_pairs_lane_keeps_to_its_budget(request, tmp_path):
    """The setup file in a follow-up pairs lane, run by Vitest itself with the lane's variables: the largest file
    ($HEAPLENS_PAIRS_FIRST) gets its pair whatever the budget, another file only while the budget
    ($HEAPLENS_PAIRS_BUDGET, seconds of snapshot writing) holds it — said once as `pair-budget`."""
    root = suite("isolated-leak", request.getfixturevalue("v4"), tmp_path)
    setup = Path(heaplens.__file__).parent / "js" / "trace-setup.mjs"
    (root / "pairs.config.mjs").write_text(
        f"export default {{ test: {{ include: ['*.test.js'], setupFiles: [{json.dumps(str(setup))}] }} }}\n")

    def pairs_lane(budget: str) -> list[dict]:
        d = tmp_path / f"budget-{budget}"
        (d / "snaps").mkdir(parents=True)
        env = {**os.environ, "HEAPLENS_TRACE_FILE": str(d / "trace.jsonl"), "HEAPLENS_SNAPSHOTS": "1",
               "HEAPLENS_SNAPSHOT_DIR": str(d / "snaps"), "HEAPLENS_LEDGER": str(d / "ledger.jsonl"),
               "HEAPLENS_PAIRS": "1", "HEAPLENS_PAIRS_BUDGET": budget, "HEAPLENS_PAIRS_FIRST": "leaky.test.js"}
        cp = subprocess.run(["node", "node_modules/vitest/vitest.mjs", "run", "--config", "pairs.config.mjs"],
                            cwd=root, env=env, capture_output=True, text=True, timeout=300)
        assert cp.returncode == 0, cp.stdout[-2000:] + cp.stderr[-2000:]
        return [json.loads(l) for l in (d / "trace.jsonl").read_text().splitlines()]

    # no budget left: the largest file's pair only, and the other file is skipped with a reason
    trace = pairs_lane("0")
    snaps = [e for e in trace if e["ev"] == "snapshot"]
    assert [(Path(e["file"]).name, e["at"]) for e in snaps] == [("leaky.test.js", "collected"), ("leaky.test.js", "end")]
    assert [Path(e["file"]).name for e in trace if e["ev"] == "snapshot-skipped" and e["reason"] == "pair-budget"] \
        == ["clean.test.js"]
    # room for both: each file has its pair
    trace = pairs_lane("1000")
    assert sorted(Path(e["file"]).name for e in trace if e["ev"] == "snapshot") == ["clean.test.js"] * 2 + ["leaky.test.js"] * 2
    assert not [e for e in trace if e["ev"] == "snapshot-skipped"]


@pytest.mark.parametrize("version", VERSIONS)
def test_many_sub_second_files_leaking_a_little_each(version, request, tmp_path):
    """20 files of ~0.1 s without isolation, each keeping 1200 objects: with default settings every worker that
    ran two or more files has at least two GC-settled snapshots (after its first file's collection, and at its
    last file end), and the last one holds every object its files kept. Snapshots in between are spaced out by
    the budget, said once."""
    root = suite("spread", request.getfixturevalue(version), tmp_path)
    r = hl("run", "--snapshots", cwd=root, runs=tmp_path / "runs")
    assert r.code == 0, r.out[-3000:] + r.err
    lane = lane_of(r)
    by_worker = snapshots_by_worker(lane)
    several = {k: w for k, w in lane["workers"].items() if len(w["files"]) >= 2}
    assert several
    for key, w in several.items():
        snaps = by_worker[key]
        assert len(snaps) >= 2 and snaps[0]["at"] == "collected" and snaps[-1]["reason"] == "last"
        assert snaps[-1]["index"] == len(w["files"])
        assert count(snaps[-1]["path"], "SpreadLeak") == 1200 * len(w["files"])
        assert [count(s["path"], "SpreadLeak") for s in snaps] == [0] + [1200 * s["index"] for s in snaps[1:]]
    # one line per snapshot, no signal-round lines, at most one "spacing out" line
    wrote = r.lines("[heaplens][heap] unit-fast wrote ")
    assert len(wrote) == len(lane["snapshots"]["written"])
    assert all(" in " in l and "MiB" in l or "KiB" in l for l in wrote)
    assert len([l for l in r.lines("[heaplens][heap] unit-fast ") if "spacing snapshots out" in l]) <= 1
    assert not [l for l in r.out.splitlines() if " seq=" in l]
    summary = r.lines("[heaplens][heap] summary unit-fast")
    assert len(summary) == 1 and "files after a worker's last snapshot: none" in summary[0]
    # the GC budget (default 10 % of a worker's time): a file end is GC-settled as it allows — a worker's first
    # and last file end and every snapshot boundary always; the settled growths span every file of a worker once,
    # each naming the files it spans (in the order the worker ran them)
    trace = [json.loads(l) for l in Path(lane["trace"]).read_text().splitlines()]
    ends = [e for e in trace if e["ev"] == "end"]
    assert len(ends) == 20 and all(e["heapUsed"] > 0 and "arrayBuffers" in e for e in ends)
    assert all(e["settled"] for e in trace if e["ev"] == "settle")
    for key in {f["worker"] for f in lane["files"]}:  # (Vitest 3 may start a worker that gets no file)
        mine = sorted((f for f in lane["files"] if f["worker"] == key), key=lambda f: f["index"])
        assert mine[0]["settled_files"] == 1 and mine[-1]["settled_end"] is not None
        assert all(f["settled_end"] is not None for f in mine if f["snapshots"])
        assert sum(f["settled_files"] or 0 for f in mine) == len(mine)
        spans = [f["settled_span"] for f in mine if f["settled_end"] is not None]
        assert [x for sp in spans for x in sp] == [f["file"] for f in mine]
    # --gc-overhead off: every file end has a GC-settled line (heap used, external, ArrayBuffers after the GC)
    r = hl("run", "--snapshots", "--gc-overhead", "off", cwd=root, runs=tmp_path / "every")
    assert r.code == 0
    every = lane_of(r)
    ends = [json.loads(l) for l in Path(every["trace"]).read_text().splitlines()]
    assert len([e for e in ends if e["ev"] == "end" and e["settled"] and e["gcMs"] is not None]) == 20
    assert all(f["settled_files"] == 1 and f["settled_span"] == [f["file"]] and f["heap_growth"] is not None
               for f in every["files"])
    assert len(r.lines("[heaplens] gc-overhead off (cli): every file end")) == 1
    # a budget of 0: only the ends that must be settled are (a worker's first and last, snapshot boundaries),
    # the others are in the span the next settled end closes, said as such on its line (never as one file's)
    r = hl("run", "--gc-overhead", "0", cwd=root, runs=tmp_path / "gc")
    assert r.code == 0
    budgeted = lane_of(r)
    assert len(r.lines("[heaplens] gc-overhead 0% (cli): ")) == 1
    for key in {f["worker"] for f in budgeted["files"]}:
        mine = sorted((f for f in budgeted["files"] if f["worker"] == key), key=lambda f: f["index"])
        assert [f["settled_files"] for f in mine if f["settled_end"]] == ([1, len(mine) - 1] if len(mine) > 1 else [1])
        assert mine[-1]["settled_span"] == [f["file"] for f in mine[1:]] or len(mine) == 1
        if len(mine) > 2:
            line = [l for l in r.out.splitlines() if f"file={mine[-1]['file']} " in l and "heapDelta=" in l]
            assert line and f"over its last {len(mine) - 1} files (GC-settled together)" in line[0]
    # a lane of one file (a worker that gets a single file): also a snapshot after the file's collection
    r = hl("run", "s01.test.js", "--snapshots", cwd=root, runs=tmp_path / "one")
    assert r.code == 0, r.out[-3000:]
    written = lane_of(r)["snapshots"]["written"]
    assert [(s["reason"], s["at"]) for s in written] == [("first", "collected"), ("last", "end")]
    assert [count(s["path"], "SpreadLeak") for s in written] == [0, 1200]


@pytest.mark.parametrize("version", VERSIONS)
def test_isolate_true_is_kept(version, request, tmp_path):
    """A suite whose files pass only with isolation: it passes under heaplens run (no manifest, no option), and
    fails when isolation is turned off — which heaplens then states as a deviation with its reason."""
    root = suite("isolate-kept", request.getfixturevalue(version), tmp_path)
    r = hl("plan", cwd=root)
    assert r.code == 0 and "isolate=yes" in r.out and "deviation" not in r.out, r.out
    r = hl("run", cwd=root, runs=tmp_path / "a")
    assert r.code == 0, r.out[-3000:]
    lane = lane_of(r)
    assert lane["deviations"] == [] and not any(a in lane["argv"] for a in ("--isolate", "--no-isolate"))
    assert len({f["pid"] for f in lane["files"]}) == 3  # a worker per file
    r = hl("run", "--no-isolate", cwd=root, runs=tmp_path / "b")
    assert r.code == 1  # the check can fail: without isolation the second file sees the first one's state
    dev = r.lines("[heaplens] deviation unit-fast")
    assert dev == ["[heaplens] deviation unit-fast: ran with isolate=no although the config says yes, "
                   "because isolate=false (cli)"]
    assert r.record["plan"]["deviations"][0]["setting"] == "isolate"


def test_a_first_file_that_leaves_more_than_the_floor_gets_its_end_snapshot(request, tmp_path):
    """A worker's first file end is written when the file's tests left the diagnosis's floor or more since its
    collection snapshot: three files each keep ~8 MiB (60,000 objects; the floor of a default heap limit is
    ~4 MiB). Exact counts at each snapshot: none after the first file's collection, 60,000 per file ended."""
    root = suite("first-leak", request.getfixturevalue("v4"), tmp_path)
    r = hl("run", "--snapshots", cwd=root, runs=tmp_path / "runs")
    assert r.code == 0, r.out[-3000:] + r.err
    lane = lane_of(r)
    several = {k: w for k, w in lane["workers"].items() if len(w["files"]) >= 2}
    assert several, lane["workers"]
    for key, w in several.items():
        snaps = snapshots_by_worker(lane)[key]
        assert [(s["reason"], s["at"]) for s in snaps[:2]] == [("first", "collected"), ("first", "end")], snaps
        assert snaps[-1]["reason"] == "last" and snaps[-1]["index"] == len(w["files"])
        assert [count(s["path"], "FirstLeak") for s in snaps] == [0] + [60000 * s["index"] for s in snaps[1:]]
    trace = [json.loads(l) for l in Path(lane["trace"]).read_text().splitlines()]
    assert not [e for e in trace if e["ev"] == "snapshot-skipped"]
    assert not [l for l in r.out.splitlines() if "first file end" in l and "not written" in l]


@pytest.mark.parametrize("version", VERSIONS)
def test_pool_and_isolate_per_project(version, request, tmp_path):
    """Projects with their own pool/isolate run as configured, side by side in one lane: forks without isolation
    (snapshots at its worker's first and last file) and threads with isolation (a worker thread per file); the
    heap limit reaches both (execArgv for the processes, the Vitest process's flags for the threads)."""
    root = suite("per-project", request.getfixturevalue(version), tmp_path)
    r = hl("plan", cwd=root)
    assert r.code == 0, r.err
    line = next(l for l in r.out.splitlines() if l.startswith("unit-fast "))
    assert parse_kv(line)["pool"] == "forks|threads" and parse_kv(line)["isolate"] == "no|yes"
    r = hl("run", "--snapshots", "--max-old-space-mb", "200", cwd=root, runs=tmp_path / "runs",
           env={"HEAPLENS_FIXTURE_HEAP_MB": "200"})
    assert r.code == 0, r.out[-3000:] + r.err  # the files check their runtime and their heap limit
    lane = lane_of(r)
    files = {f["file"]: f for f in lane["files"]}
    assert set(files) == {"procs/p1.test.js", "procs/p2.test.js", "threads/t1.test.js", "threads/t2.test.js"}
    for name, f in files.items():
        if name.startswith("procs/"):
            assert (f["pool"], f["isolate"], f["tid"], f["project"]) == ("forks", False, 0, "procs")
        else:
            assert (f["pool"], f["isolate"], f["project"]) == ("threads", True, "threads") and f["tid"] >= 1
            assert f["settled_base"] == "collected"
        assert 200 * 2**20 <= f["heap_limit"] <= 330 * 2**20
    written = lane["snapshots"]["written"]
    procs = [s for s in written if s["tid"] == 0]
    assert (procs[0]["reason"], procs[0]["at"]) == ("first", "collected") and procs[-1]["reason"] == "last"
    assert not [s for s in written if s["tid"] >= 1]  # a worker per file: measured in the lane, ...
    # ... its pair taken in the follow-up lane, named by the thread that wrote it
    pairs = r.record["lanes"]["unit-fast-pairs"]
    assert all(f.startswith("threads/") for f in pairs["files_planned"])
    threads = pairs["snapshots"]["written"]
    assert [s["at"] for s in threads[:2]] == ["collected", "end"] and threads[0]["tid"] == threads[1]["tid"] >= 1
    assert lane["env"].get("NODE_OPTIONS") == "--max-old-space-size=200"


def test_a_lone_workers_last_snapshot_is_handed_on_while_the_runner_finishes(request, tmp_path, monkeypatch):
    """`execute(on_last=…)` (investigate reads the pair from then on): called once, when the worker's last
    snapshot is written, with that worker's snapshots — the list the diagnosis reads from the record.
    `on_written` (investigate reads each earlier one as it comes): called for each other snapshot, as it is
    written, with the worker's snapshots so far, before the last one's call."""
    root = suite("vm-pools", request.getfixturevalue("v4"), tmp_path)
    for k in [k for k in os.environ if k.startswith(("HEAPLENS_", "OPENCLAW_TEST_"))]:
        monkeypatch.delenv(k)
    monkeypatch.setenv("HEAPLENS_PROGRESS", "0")
    monkeypatch.setenv("HEAPLENS_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("FIXTURE_POOL", "vmForks")
    monkeypatch.chdir(root)
    argv = ["run", "--snapshots"]
    calls: list[tuple[str, list[str], bool]] = []

    def on_last(lane: str, snaps: list[str]) -> None:
        calls.append((lane, snaps, all(Path(s).is_file() for s in snaps)))

    def on_written(lane: str, snaps: list[str]) -> None:
        calls.append((lane, snaps, "written"))

    result = session.execute(cli_values(build_parser().parse_args(argv)), [], [], argv, on_last=on_last,
                             on_written=on_written)
    assert result.exit_code == 0
    lane = result.record.lanes["unit-fast"]
    [(key, snaps)] = worker_snapshots(lane).items()
    assert len(snaps) >= 2
    assert calls == [*(("unit-fast", snaps[:i], "written") for i in range(1, len(snaps))), ("unit-fast", snaps, True)]


def test_a_pairs_first_snapshot_is_handed_on_and_its_end_is_not(request, tmp_path, monkeypatch):
    """`execute(on_written=…)` in a follow-up pairs lane (isolate: true): a file's pair is its worker's whole
    series, so only its first snapshot (after the collection) is told as written; its end is the pair's last, read
    by the diagnosis itself (`on_last` is for a worker's last snapshot of a lane's series)."""
    root = suite("isolated-leak", request.getfixturevalue("v4"), tmp_path)
    for k in [k for k in os.environ if k.startswith(("HEAPLENS_", "OPENCLAW_TEST_"))]:
        monkeypatch.delenv(k)
    monkeypatch.setenv("HEAPLENS_PROGRESS", "0")
    monkeypatch.setenv("HEAPLENS_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.chdir(root)
    argv = ["run", "--snapshots"]
    calls: list[tuple[str, list[str]]] = []
    result = session.execute(cli_values(build_parser().parse_args(argv)), [], [], argv,
                             on_last=lambda lane, snaps: calls.append(("last", lane, snaps)),
                             on_written=lambda lane, snaps: calls.append(("written", lane, snaps)))
    assert result.exit_code == 0
    pairs = result.record.lanes["unit-fast-pairs"]
    written = pairs.snapshots.written
    firsts = [s.path for s in written if s.at == "collected"]
    assert firsts and len(written) == 2 * len(firsts)
    assert calls == [("written", "unit-fast-pairs", [p]) for p in firsts]
