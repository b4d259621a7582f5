"""Planning: lanes from each manifest shape, packing, sharding, --explain, options; and the real `vitest list`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from runner_helpers import hl, parse_kv

from heaplens.errors import HeaplensError, UsageError
from heaplens.runner import manifests as M
from heaplens.runner import options as O
from heaplens.runner.plan import PlanOptions, build_plan, explain, pack_lpt, safe_name, split_by_budget

FILES = [f"src/m{i}/f{i}.test.ts" for i in range(12)]


def write(root: Path, rel: str, data) -> str:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(data))
    return str(p)


def test_old_behavior_schema(tmp_path):
    write(tmp_path, M.DEFAULT_BEHAVIOR, {"unit": {
        "isolated": [{"file": "src/m0/f0.test.ts", "reason": "Mutates process.cwd()"}],
        "singletonIsolated": ["src/m1/f1.test.ts", {"file": "./src/m2/f2.test.ts", "reason": "retained 1 GiB"},
                              "src/gone.test.ts"],
        "threadSingleton": ["src/m3/f3.test.ts"],
        "vmForkSingleton": ["src/m4/f4.test.ts"],
    }})
    b = M.load_behavior(tmp_path)  # OpenClaw's default path, found without a flag
    plan = build_plan(FILES, b, M.Timings(), M.Hotspots(), PlanOptions())
    lanes = {l.name: l for l in plan.lanes}
    assert lanes["unit-f0-isolated"].files == ["src/m0/f0.test.ts"]
    # one file in a lane of its own runs alone whatever the settings: nothing is overridden
    iso = lanes["unit-f0-isolated"]
    assert (iso.workers, iso.isolate, iso.pool) == (None, None, None)
    assert lanes["unit-singleton"].files == ["src/m1/f1.test.ts", "src/m2/f2.test.ts"]
    assert lanes["unit-singleton"].workers == 1 and lanes["unit-singleton"].isolate is True
    assert "singletonIsolated" in lanes["unit-singleton"].why["isolate"]
    # OpenClaw v1: threadSingleton ran in threads, vmForkSingleton in vmForks, one worker each
    assert lanes["unit-threads"].files == ["src/m3/f3.test.ts"]
    assert (lanes["unit-threads"].pool, lanes["unit-threads"].workers) == ("threads", 1)
    assert lanes["unit-vmforks"].files == ["src/m4/f4.test.ts"]
    assert (lanes["unit-vmforks"].pool, lanes["unit-vmforks"].workers) == ("vmForks", 1)
    # the shared lane runs as the suite's config says
    fast = lanes["unit-fast"]
    assert (fast.isolate, fast.workers, fast.pool, fast.why) == (None, None, None, {})
    assert len(lanes["unit-fast"].files) == 7
    assert 'reason="Mutates process.cwd()"' in lanes["unit-f0-isolated"].reasons["src/m0/f0.test.ts"]
    assert any("src/gone.test.ts" in e for e in plan.ignored_entries)
    assert sorted(f for l in plan.lanes for f in l.files) == sorted(FILES)


def test_new_behavior_schema_with_prefixes(tmp_path):
    files = ["extensions/discord/src/monitor/a.test.ts", "extensions/discord/src/monitor/b.test.ts",
             "extensions/telegram/src/bot.test.ts", "src/x.test.ts", "src/y.test.ts", "src/pin.test.ts"]
    path = write(tmp_path, "beh.json", {
        "channels": {"isolatedPrefixes": ["extensions/discord/src/monitor/"],
                     "isolated": [{"file": "extensions/telegram/src/bot.test.ts", "reason": "~819.9 MiB RSS growth"}]},
        "base": {"threadPinned": ["src/pin.test.ts"]},
        "unit": {"isolated": ["src/x.test.ts"]},
    })
    plan = build_plan(files, M.load_behavior(tmp_path, path), M.Timings(), M.Hotspots())
    names = {l.name: l.files for l in plan.lanes}
    assert names["channels-a-isolated"] == ["extensions/discord/src/monitor/a.test.ts"]
    assert names["channels-b-isolated"] == ["extensions/discord/src/monitor/b.test.ts"]
    assert names["channels-bot-isolated"] == ["extensions/telegram/src/bot.test.ts"]
    assert names["unit-x-isolated"] == ["src/x.test.ts"]
    assert names["base-pinned"] == ["src/pin.test.ts"]
    pinned = plan.lane_of("src/pin.test.ts")
    assert (pinned.workers, pinned.pool) == (1, None)  # the planner's threadPinned: one worker, the suite's pool
    assert names["unit-fast"] == ["src/y.test.ts"]
    lane = plan.lane_of("extensions/discord/src/monitor/a.test.ts")
    assert "isolatedPrefixes" in lane.reasons["extensions/discord/src/monitor/a.test.ts"]


def test_timings_heavy_lpt_batches_and_no_timing(tmp_path):
    durations = {FILES[0]: 5000, FILES[1]: 4000, FILES[2]: 3000, FILES[3]: 2000, FILES[4]: 1300,
                 FILES[5]: 600, FILES[6]: 500, FILES[7]: 0}
    write(tmp_path, M.DEFAULT_TIMINGS, {"config": "vitest.unit.config.ts", "defaultDurationMs": 400,
                                        "files": {f: {"durationMs": d, "testCount": 3} for f, d in durations.items()}})
    t = M.load_timings(tmp_path)
    assert FILES[7] not in t.files  # durationMs <= 0 dropped
    plan = build_plan(FILES, M.Behavior(), t, M.Hotspots(),
                      PlanOptions(heavy_min_ms=1200, heavy_lanes=2, batch_ms=1000))
    lanes = {l.name: l for l in plan.lanes}
    # LPT: 5000 → h1, 4000 → h2, 3000 → h2 (7000 vs 5000? no: lightest is h2=4000) …
    assert lanes["unit-heavy-1"].files == [FILES[0], FILES[3], FILES[4]]  # 5000+2000+1300 = 8300
    assert lanes["unit-heavy-2"].files == [FILES[1], FILES[2]]  # 4000+3000 = 7000
    # unit-fast batches in Vitest's order by the 1000 ms budget: 600 | 500+400 | 400+400 | 400+400
    fast = [l for l in plan.lanes if l.kind == "fast"]
    assert [l.name for l in fast] == [f"unit-fast-batch-{i}" for i in range(1, len(fast) + 1)]
    assert [l.files for l in fast][0] == [FILES[5]]
    assert [l.files for l in fast][1] == [FILES[6], FILES[7]]
    assert all(l.isolate is None for l in fast)
    assert plan.no_timing == [FILES[7], *FILES[8:]]
    assert "no timing" in explain(plan, FILES[9], t, M.Hotspots())[3]


def test_memory_hotspots(tmp_path):
    write(tmp_path, M.DEFAULT_HOTSPOTS, {"config": "vitest.unit.config.ts", "defaultMinDeltaKb": 262144,
                                         "lane": "unit-fast", "files": {
        FILES[0]: {"deltaKb": 1111491, "sources": ["gha-23328306205-compat-node22:unit-fast"]},
        FILES[1]: {"deltaKb": 300000}, FILES[2]: {"deltaKb": 1000}}})
    h = M.load_hotspots(tmp_path)
    plan = build_plan(FILES, M.Behavior(), M.Timings(), h)
    mem = [l for l in plan.lanes if l.kind == "memory-isolated"]
    assert [l.name for l in mem] == ["unit-f0-memory-isolated", "unit-f1-memory-isolated"]  # by delta, descending
    assert FILES[2] in plan.lane_of(FILES[2]).files and plan.lane_of(FILES[2]).name == "unit-fast"
    why = explain(plan, FILES[0], M.Timings(), h)
    assert "lane=unit-f0-memory-isolated" in why
    assert any("deltaKb=1111491 >= minDeltaKb=262144" in w for w in why)
    # a lower threshold (OPENCLAW_TEST_MEMORY_HEAVY_UNIT_MIN_KB) peels off the small one too
    plan2 = build_plan(FILES, M.Behavior(), M.Timings(), h, PlanOptions(memory_min_kb=500))
    assert plan2.lane_of(FILES[2]).kind == "memory-isolated"


def test_names_are_safe_and_unique():
    files = ["a/we ird$name.test.ts", "b/we ird$name.test.ts", "c/../..x.test.ts"]
    b = M.Behavior(entries=[M.Entry(f, None, "unit", "isolated", "x: unit.isolated") for f in files])
    plan = build_plan(files, b, M.Timings(), M.Hotspots())
    names = [l.name for l in plan.lanes]
    assert len(set(names)) == 3
    for n in names:
        assert "/" not in n and " " not in n and "$" not in n and not n.startswith((".", "-"))
    assert safe_name("../..") == "lane"


def test_packing_helpers():
    d = {"a": 10, "b": 9, "c": 1, "d": 1}
    assert pack_lpt(list(d), d, 2) == [["a", "d"], ["b", "c"]]  # c joins the lighter b, d ties → first
    assert pack_lpt(["a"], d, 4) == [["a"]]  # empty buckets dropped
    assert split_by_budget(list(d), d, 10) == [["a"], ["b", "c"], ["d"]]
    assert split_by_budget(list(d), d, 0) == [list(d)]


def test_a_shard_is_the_runners():
    # the files given are the shard's (Vitest picked them); heaplens does not split them again. A lane with all
    # of them runs as CI's own `vitest run --shard=i/n`; lanes with some of them name their files.
    t = M.Timings(files={f: 100.0 for f in FILES})
    plan = build_plan(FILES[:3], M.Behavior(), t, M.Hotspots(),
                      PlanOptions(shard=(2, 3), sharded_out=len(FILES) - 3, heavy_min_ms=1e9, filters=["src"]))
    assert plan.files == FILES[:3] and plan.sharded_out == len(FILES) - 3
    (lane,) = plan.lanes
    assert lane.all_files and lane.filters == ["src"] and lane.runner_args == ["--shard=2/3"]
    assert plan.to_json()["shard"] == "2/3" and plan.to_json()["lanes"][0]["runner_args"] == ["--shard=2/3"]
    heavy = M.Timings(files={FILES[0]: 5000.0})
    split = build_plan(FILES[:3], M.Behavior(), heavy, M.Hotspots(), PlanOptions(shard=(2, 3)))
    assert [len(l.files) for l in split.lanes] == [2, 1]
    assert all(not l.all_files and not l.runner_args for l in split.lanes)


def test_workers_override_reaches_singletons():
    b = M.Behavior(entries=[M.Entry(FILES[0], None, "unit", "singletonIsolated", "x")])
    plan = build_plan(FILES, b, M.Timings(), M.Hotspots(), PlanOptions(workers=3))
    assert {l.workers for l in plan.lanes} == {3}


def test_options_precedence_env_aliases_and_toml(tmp_path):
    (tmp_path / "heaplens.toml").write_text('workers = 3\n[run]\npoll-ms = 500\nmax_old_space_mb = 2048\n')
    env = {"OPENCLAW_TEST_WORKERS": "2", "OPENCLAW_TEST_HEAPSNAPSHOT_INTERVAL_MS": "60000",
           "OPENCLAW_TEST_MEMORY_TRACE": "0", "OPENCLAW_TEST_HEAPSNAPSHOT_DIR": ".tmp/heapsnap",
           "HEAPLENS_MAX_OLD_SPACE_MB": "6144", "OPENCLAW_TEST_MAX_OLD_SPACE_SIZE_MB": "1000"}
    v, src = O.resolve({"poll_ms": 250}, tmp_path, env)
    assert (v["workers"], src["workers"]) == (2, "env OPENCLAW_TEST_WORKERS")
    assert (v["snapshot_interval"], src["snapshot_interval"]) == (60.0, "env OPENCLAW_TEST_HEAPSNAPSHOT_INTERVAL_MS")
    assert v["trace"] is False and v["snapshot_dir"] == ".tmp/heapsnap"
    assert (v["max_old_space_mb"], src["max_old_space_mb"]) == (6144, "env HEAPLENS_MAX_OLD_SPACE_MB")
    assert (v["poll_ms"], src["poll_ms"]) == (250, "cli")
    v, src = O.resolve({}, tmp_path, {})
    assert (v["workers"], src["workers"]) == (3, "heaplens.toml")
    assert (v["poll_ms"], v["max_old_space_mb"], v["trace"]) == (500, 2048, True)
    with pytest.raises(UsageError, match="OPENCLAW_TEST_WORKERS"):
        O.resolve({}, tmp_path, {"OPENCLAW_TEST_WORKERS": "zero"})
    (tmp_path / "heaplens.toml").write_text("wokers = 3\n")
    with pytest.raises(UsageError, match="unknown key"):
        O.resolve({}, tmp_path, {})


def test_the_gc_budget_option(tmp_path):
    """--gc-overhead PCT|off: a percentage from 0 to 100 or off (every file end GC-settled), from the command
    line, HEAPLENS_GC_OVERHEAD (a percentage, as --snapshot-overhead) or heaplens.toml; 10 by default."""
    v, src = O.resolve({}, tmp_path, {})
    assert (v["gc_overhead"], src["gc_overhead"]) == (10.0, "default")
    assert O.resolve({}, tmp_path, {"HEAPLENS_GC_OVERHEAD": "off"})[0]["gc_overhead"] == O.GC_EVERY
    assert O.resolve({}, tmp_path, {"HEAPLENS_GC_OVERHEAD": "2.5%"})[0]["gc_overhead"] == 2.5
    (tmp_path / "heaplens.toml").write_text('gc_overhead = 0\n')
    assert O.resolve({}, tmp_path, {})[0]["gc_overhead"] == 0.0
    (tmp_path / "heaplens.toml").write_text('[run]\ngc-overhead = "off"\n')
    assert O.resolve({}, tmp_path, {})[0]["gc_overhead"] == O.GC_EVERY
    assert O.resolve({"gc_overhead": 5.0}, tmp_path, {})[0]["gc_overhead"] == 5.0
    for bad in ("-1", "101", "lots"):
        with pytest.raises(ValueError):
            O.parse_gc_overhead(bad)
    with pytest.raises(UsageError, match="HEAPLENS_GC_OVERHEAD"):
        O.resolve({}, tmp_path, {"HEAPLENS_GC_OVERHEAD": "lots"})


# ---------------------------------------------------------------- the real `vitest list`

def test_plan_cli_uses_vitest_list(v5, tmp_path):
    beh = write(tmp_path, "beh.json", {"unit": {"isolated": [{"file": "suite/basic/f1.test.js", "reason": "why not"}]}})
    tim = write(tmp_path, "tim.json", {"defaultDurationMs": 250, "files": {"suite/basic/alloc50.test.js": {"durationMs": 2500, "testCount": 1}}})
    r = hl("plan", "suite/basic", "--behavior", beh, "--timings", tim, cwd=v5)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].startswith(f"root={v5} vitest=5.") and "files=5" in lines[0]
    assert lines[1].startswith("gc-overhead 10% (default): a worker that runs several files forces a full GC")
    lanes = {l.split()[0]: parse_kv(l) for l in lines if " pool=" in l}
    # the fixture's config sets nothing: Vitest's defaults (forks, isolate), read from Vitest itself
    for kv in lanes.values():
        del kv["workers"]  # Vitest's default count depends on the machine (Vitest 5 resolves it to a number)
    assert lanes == {
        "unit-fast": {"files": "3", "pool": "forks", "isolate": "yes"},
        "unit-heavy-1": {"files": "1", "pool": "forks", "isolate": "yes"},
        "unit-f1-isolated": {"files": "1", "pool": "forks", "isolate": "yes"},
    }
    assert "deviation" not in r.out
    assert "no timing: 4 file(s) (default 250 ms)" in r.out
    assert "  no timing suite/basic/small.test.js" in r.out
    assert "suite/oom" not in r.out  # the path filter went to Vitest

    r = hl("plan", "--explain", "suite/basic/f1.test.js", "--behavior", beh, "--timings", tim, cwd=v5)
    assert r.code == 0, r.err
    assert "lane=unit-f1-isolated" in r.out and 'reason="why not"' in r.out and "beh.json" in r.out
    r = hl("plan", "--explain", "suite/basic/alloc50.test.js", "--timings", tim, cwd=v5)
    assert "lane=unit-heavy-1" in r.out and "durationMs=2500.0 >= heavy threshold 1200 ms" in r.out
    r = hl("plan", "--explain", "nope.test.js", cwd=v5)
    assert r.code == 2 and r.err.startswith("heaplens: error:") and "Traceback" not in r.err


def test_plan_cli_json_lane_filter_and_errors(v5, tmp_path):
    r = hl("plan", "suite/basic", "--format", "json", "--lane", "unit-*", cwd=v5)
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert [l["name"] for l in doc["lanes"]] == ["unit-fast"]
    assert sorted(doc["lanes"][0]["files"]) == sorted(f"suite/basic/{n}.test.js" for n in ("alloc50", "f1", "f2", "f3", "small"))
    r = hl("plan", "suite/basic", "--lane", "nosuch", cwd=v5)
    assert r.code == 2 and "no lane named nosuch" in r.err
    r = hl("plan", "--root", str(tmp_path), cwd=v5)
    assert r.code == 2 and "vitest is not installed" in r.err


# ---------------------------------------------------------------- fidelity: the suite's own config, deviations

def _config(files, projects, owner):
    """A SuiteConfig as inspect_suite builds it: ``owner`` maps each file to its project indexes."""
    from heaplens.runner.vitest import SuiteConfig

    return SuiteConfig(list(files), projects, {f: owner(f) for f in files}, "vitest")


def test_no_manifest_runs_the_suite_as_configured():
    from heaplens.runner.plan import annotate
    from heaplens.runner.vitest import Project

    cfg = _config(FILES, [Project("", pool="threads", isolate=True)], lambda f: [0])
    plan = build_plan(FILES, M.Behavior(), M.Timings(), M.Hotspots(), PlanOptions())
    annotate(plan, cfg)
    (lane,) = plan.lanes  # no timings manifest: no batches, one lane with every file, run without filters
    assert lane.name == "unit-fast" and lane.all_files and lane.runs == len(FILES)
    assert (lane.pool, lane.isolate, lane.workers) == (None, None, None)
    assert lane.deviations == []
    assert lane.line() == f"unit-fast files={len(FILES)} workers=default pool=threads isolate=yes"


def test_deviations_name_the_setting_the_config_and_the_reason():
    from heaplens.runner.plan import annotate
    from heaplens.runner.vitest import Project

    projects = [Project("unit", pool="forks", isolate=True), Project("dom", pool="threads", isolate=False)]
    cfg = _config(FILES, projects, lambda f: [0] if f < FILES[6] else [1])
    b = M.Behavior(entries=[M.Entry(FILES[0], None, "unit", "singletonIsolated", "beh.json: unit.singletonIsolated"),
                            M.Entry(FILES[1], None, "unit", "singletonIsolated", "beh.json: unit.singletonIsolated")])
    opts = PlanOptions(isolate=False, sources={"isolate": "env OPENCLAW_TEST_NO_ISOLATE"})
    plan = build_plan(FILES, b, M.Timings(), M.Hotspots(), opts)
    annotate(plan, cfg)
    lanes = {l.name: l for l in plan.lanes}
    fast = lanes["unit-fast"]
    # isolate=false differs from project unit only; dom already says false
    (dev,) = fast.deviations
    assert dev["setting"] == "isolate" and dev["value"] is False and dev["projects"] == ["unit"]
    assert dev["text"] == ("ran with isolate=no although the config says yes (project unit), "
                           "because isolate=false (env OPENCLAW_TEST_NO_ISOLATE)")
    assert fast.effective("pool") == "forks|threads"
    single = lanes["unit-singleton"]
    assert {d["setting"] for d in single.deviations} == {"workers"}  # isolate=true is what project unit says
    assert "one file at a time" in single.deviations[0]["reason"]
    js = plan.to_json()
    assert {(d["lane"], d["setting"]) for d in js["deviations"]} == {("unit-fast", "isolate"), ("unit-singleton", "workers")}
    # a config that could not be read: every override is a deviation from an unknown value
    from heaplens.runner.vitest import SuiteConfig

    plan = build_plan(FILES, b, M.Timings(), M.Hotspots(), opts)
    annotate(plan, SuiteConfig(FILES, [], {f: [] for f in FILES}, "reading failed", known=False))
    assert all("unknown" in d["text"] for l in plan.lanes for d in l.deviations)


def test_heaplens_toml_lane_tables_and_openclaw_isolation_variables(tmp_path):
    (tmp_path / "heaplens.toml").write_text(
        '[lanes."unit-fast*"]\nisolate = false\npool = "vmforks"\nreason = "as OpenClaw CI runs it"\n')
    v, src = O.resolve({}, tmp_path, {"OPENCLAW_TEST_NO_ISOLATE": "1"})
    assert v["isolate"] is False and src["isolate"] == "env OPENCLAW_TEST_NO_ISOLATE"
    v2, _ = O.resolve({}, tmp_path, {"OPENCLAW_TEST_ISOLATE": "1"})
    assert v2["isolate"] is True
    assert v["lane_overrides"] == [("unit-fast*", {"isolate": False, "pool": "vmForks", "reason": "as OpenClaw CI runs it"})]
    plan = build_plan(FILES, M.Behavior(), M.Timings(), M.Hotspots(),
                      PlanOptions(lane_overrides=v["lane_overrides"]))
    (lane,) = plan.lanes
    assert (lane.pool, lane.isolate) == ("vmForks", False)
    assert lane.why["pool"] == 'heaplens.toml [lanes."unit-fast*"] pool=vmforks: as OpenClaw CI runs it'
    (tmp_path / "heaplens.toml").write_text('[lanes."x"]\nisolation = true\n')
    with pytest.raises(UsageError, match="unknown key 'isolation'"):
        O.resolve({}, tmp_path, {})
    (tmp_path / "heaplens.toml").write_text('[lanes."x"]\npool = "fibers"\n')
    with pytest.raises(UsageError, match="not a Vitest pool"):
        O.resolve({}, tmp_path, {})


def test_batches_only_with_a_timings_manifest():
    many = [f"src/f{i}.test.ts" for i in range(400)]  # 400 × 250 ms default = 100 s > the 45 s batch budget
    plan = build_plan(many, M.Behavior(), M.Timings(), M.Hotspots(), PlanOptions())
    assert [l.name for l in plan.lanes] == ["unit-fast"]
    t = M.Timings(path="t.json", files={many[0]: 100.0})
    plan = build_plan(many, M.Behavior(), t, M.Hotspots(), PlanOptions())
    assert len(plan.lanes) > 1 and not any(l.all_files for l in plan.lanes)
    plan = build_plan(many, M.Behavior(), M.Timings(), M.Hotspots(),
                      PlanOptions(batch_ms=20000, sources={"batch_ms": "cli"}))
    assert len(plan.lanes) == 5


def test_a_lane_with_every_file_runs_the_suites_own_command(tmp_path):
    """The lane that holds every listed file passes the run's PATHS (or nothing), not a list of files; a lane
    that holds some of them names its files."""
    from heaplens.runner.vitest import Suite, run_argv

    plan = build_plan(FILES, M.Behavior(), M.Timings(), M.Hotspots(), PlanOptions(filters=["/abs/src"]))
    (lane,) = plan.lanes
    assert lane.all_files and lane.filters == ["/abs/src"]
    b = M.Behavior(entries=[M.Entry(FILES[0], None, "unit", "isolated", "x: unit.isolated")])
    plan = build_plan(FILES, b, M.Timings(), M.Hotspots(), PlanOptions(filters=["/abs/src"]))
    assert not any(l.all_files or l.filters for l in plan.lanes)
    suite = Suite(root=tmp_path, package_manager="npm", vitest_version="4.1.12", node_version="v20", config=None)
    argv = run_argv(suite, tmp_path / "c.mjs", None, extra=["--reporter=dot"])
    assert argv[argv.index("run") + 1:] == ["--root", str(tmp_path), "--config", str(tmp_path / "c.mjs"), "--reporter=dot"]
    assert not any(a.startswith(("--pool", "--maxWorkers", "--isolate", "--no-isolate")) for a in argv)
    argv = run_argv(suite, tmp_path / "c.mjs", ["a.test.ts"], workers=2, pool="threads", isolate=False)
    assert argv[argv.index("run") + 5:] == ["--pool=threads", "--maxWorkers=2", "--no-isolate", str(tmp_path / "a.test.ts")]


def test_disk_budget_default_and_lane_worker_ceiling(tmp_path):
    import os
    import shutil as sh
    import threading

    from heaplens.runner.execute import DEFAULT_DISK_BUDGET, LaneRunner, RunSettings, disk_budget_bytes
    from heaplens.runner.plan import Lane

    assert disk_budget_bytes(0, tmp_path) is None  # 0 = no budget
    assert disk_budget_bytes(1.5, tmp_path) == int(1.5 * 1024**3)
    free = sh.disk_usage(tmp_path).free
    assert disk_budget_bytes(None, tmp_path / "not" / "yet") == min(DEFAULT_DISK_BUDGET, free // 2)
    assert disk_budget_bytes(None, None) is None  # no snapshots, no budget
    settings = RunSettings(workers=None, max_old_space_mb=None, trace=True, poll_ms=100, top=6, snapshot_interval=0,
                           snapshot_base=None, snapshot_signal="SIGUSR2", grace=1.0, vitest_args=[])
    cpus = os.cpu_count() or 1

    from heaplens.runner.vitest import Suite

    suite = Suite(root=tmp_path, package_manager="npm", vitest_version="4.1.12", node_version="v20", config=None)

    def ceiling(lane):
        return LaneRunner(lane, suite, settings, tmp_path, threading.Event(), []).max_workers()

    assert ceiling(Lane("a", "fast", ["x"], workers=3)) == 3
    assert ceiling(Lane("a", "fast", ["x"], config={"workers": "default"})) == cpus
    assert ceiling(Lane("a", "fast", ["x"], config={"workers": f"{cpus + 5}|default"})) == cpus + 5
    assert ceiling(Lane("a", "fast", ["x"], config={"workers": "50%"})) == max(1, cpus // 2)


# ---------------------------------------------------------------- the inspection started early (runner/inspection.py)

def _cli(*argv: str) -> dict:
    from heaplens.cli import build_parser
    from heaplens.commands.plan import cli_values

    return cli_values(build_parser().parse_args(["run", *argv]))


def test_the_inspection_started_early_is_taken_once_and_only_for_the_same_suite(v5, tmp_path, monkeypatch):
    from heaplens.runner import inspection, session
    from heaplens.runner.vitest import VitestRunner

    calls = []
    real = VitestRunner.inspect

    def counted(self, suite, filters, shard=None):
        calls.append((suite.root, tuple(filters)))
        return real(self, suite, filters, shard=shard)

    monkeypatch.setattr(VitestRunner, "inspect", counted)
    monkeypatch.chdir(v5)
    cli = _cli("suite/basic")
    want = session.prepare(cli, ["suite/basic"])[1]
    assert len(calls) == 1
    early = inspection.start(cli, ["suite/basic"])
    got = session.prepare(cli, ["suite/basic"], early)[1]
    early.close()
    assert len(calls) == 2  # the early one; prepare took it instead of inspecting again
    assert got.to_json() == want.to_json()
    assert sorted(got.suite_config.files) == sorted(f"suite/basic/{n}.test.js" for n in ("alloc50", "f1", "f2", "f3", "small"))
    # asked of other paths (other filters): prepare inspects for itself, with its own filters
    early = inspection.start(cli, ["suite/basic"])
    other = session.prepare(cli, ["suite/basic/f1.test.js"], early)[1]
    early.close()
    assert len(calls) == 4 and calls[-1][1] == (str(v5 / "suite/basic/f1.test.js"),)
    assert other.suite_config.files == ["suite/basic/f1.test.js"]


def test_an_error_of_the_early_inspection_is_raised_where_prepare_would_raise_it(v5, tmp_path, monkeypatch):
    from heaplens.runner import inspection, session

    # no runner installed under the root: loading the suite fails, early or not, with the same words
    monkeypatch.chdir(v5)
    cli = _cli("--root", str(tmp_path))
    with pytest.raises(HeaplensError) as plain:
        session.prepare(cli, [])
    early = inspection.start(cli, [])
    with pytest.raises(HeaplensError) as ahead:
        session.prepare(cli, [], early)
    early.close()
    assert type(ahead.value) is type(plain.value) and str(ahead.value) == str(plain.value)
    assert "vitest is not installed" in str(plain.value)
    # a bad manifest is said before the inspection's result is looked at, as without it
    bad = tmp_path / "beh.json"
    bad.write_text("{not json")
    cli = _cli("suite/basic", "--behavior", str(bad))
    with pytest.raises(UsageError) as plain:
        session.prepare(cli, ["suite/basic"])
    early = inspection.start(cli, ["suite/basic"])
    with pytest.raises(UsageError) as ahead:
        session.prepare(cli, ["suite/basic"], early)
    early.close()
    assert str(ahead.value) == str(plain.value)
