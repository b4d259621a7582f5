"""The verdict from the holder, on real snapshots of known shapes (tests/js/verdict/plant_verdict.mjs).

The fixture's modules are evaluated the way Vitest evaluates them (block contexts, an
``EvaluatedModuleNode`` registry that is never cleared), so every module-level variable is reached
through the module registry — the case that made runtime leaks come out as module-graph retention.
Each test plants one shape between two snapshots of one process and checks the exact findings."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from heaplens.diagnose import engine, load_rules
from heaplens.diagnose import run as run_module
from heaplens.diagnose.run import diagnose_worker
from heaplens.errors import HeaplensError
from heaplens.graph import HeapGraph, read_for_graph
from helpers import JS, heaplens, requires_node, run_node

pytestmark = requires_node

PLANT = JS / "verdict" / "plant_verdict.mjs"
FIXTURE = JS / "verdict" / "fixture"


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    cache: dict = {}

    def get(scenario: str, *args) -> dict:
        key = (scenario, *args)
        if key not in cache:
            d = tmp_path_factory.mktemp(scenario)
            info = json.loads(run_node(PLANT, scenario, d, *map(str, args)).stdout.strip().splitlines()[-1])
            cp = heaplens("diagnose", *info["files"], "--format", "json", cwd=FIXTURE)
            assert cp.returncode == 0, cp.stderr
            doc = json.loads(cp.stdout)
            assert doc["schema"] == "heaplens.diagnosis" and len(doc["workers"]) == 1
            info["worker"] = doc["workers"][0]
            info["doc"] = doc
            cache[key] = info
        return cache[key]

    return get


def cls(finding: dict, name: str) -> dict:
    return next((c for c in finding["classes"] if c["name"] == name), {"count": 0, "size": 0})


def test_emitter_listeners_are_a_runtime_leak_through_the_registry(planted):
    info = planted("emitter", 4, 100, 200)
    w = info["worker"]
    assert [f["kind"] for f in w["findings"]] == ["runtime-leak"], w["verdict"]
    f = w["findings"][0]
    h = f["holder"]
    assert (h["kind"], h["variable"], h["file"], h["line"], h["type"]) == (
        "listener", "bus", "src/bus.js", 4, "EventEmitter")
    # the chain goes through the module registry, and that does not make it module-graph growth
    assert "EvaluatedModuleNode" in h["path"] and "__vitest_worker__" in h["path"]
    assert cls(f, "{payload}")["count"] == info["expect"]["objects"]
    assert f["fix"]["kind"] == "remove-listener" and "'order'" in f["fix"]["text"]
    assert sorted(f["fix"]["files"]) == [f"test/orders-{t}.test.js" for t in range(4)]
    assert f["confidence"] >= 0.99 and f["share"] >= 0.9
    assert f["severity"] == "mild" and f["title"].startswith("runtime leak held by 'order' listeners on `bus`")


def test_singleton_memo_map(planted):
    info = planted("memo", 30000)
    w = info["worker"]
    assert [f["kind"] for f in w["findings"]] == ["runtime-leak"], w["verdict"]
    f = w["findings"][0]
    h = f["holder"]
    assert (h["kind"], h["variable"], h["access"], h["type"], h["file"], h["line"]) == (
        "property", "resolver", "resolver.memo", "Map", "src/resolver.js", 20)
    assert cls(f, "{route, parts, params}")["count"] == info["expect"]["entries"]
    assert f["fix"]["kind"] == "map-clear" and "resolver.memo.clear()" in f["fix"]["text"]
    assert f["fix"]["files"] == ["test/routes.test.js"]


def test_mixed_array_leak_and_module_graph_are_two_findings(planted):
    info = planted("mixed", 40000, 40)
    w = info["worker"]
    kinds = [f["kind"] for f in w["findings"]]
    assert sorted(kinds) == ["module-graph", "runtime-leak"], w["verdict"]
    sizes = [f["retained_growth"] for f in w["findings"]]
    assert sizes == sorted(sizes, reverse=True)  # biggest first
    leak = next(f for f in w["findings"] if f["kind"] == "runtime-leak")
    assert (leak["holder"]["variable"], leak["holder"]["type"], leak["holder"]["file"], leak["holder"]["line"]) == (
        "orders", "Array", "src/orders.js", 10)
    assert cls(leak, "Order")["count"] == info["expect"]["orders"]
    assert leak["fix"]["kind"] == "array-clear" and "orders.length = 0" in leak["fix"]["text"]
    assert ".clear()" not in leak["fix"]["text"]  # an Array has none
    mg = next(f for f in w["findings"] if f["kind"] == "module-graph")
    assert mg["holder"]["kind"] == "module-registry" and mg["fix"]["kind"] == "isolate"
    generated = [m for m in mg["modules"] if m["url"].startswith("src/generated/")]
    assert mg["module_count"] == info["expect"]["modules"] + 1  # + the test file's own instance
    assert len(generated) == 20 and all(m["instances"] == 1 for m in generated)  # the report keeps 20
    assert mg["fix"]["files"] == ["test/checkout.test.js"]
    assert abs(sum(f["share"] for f in w["findings"]) - 1) < 0.05


def test_new_module_instances_only(planted):
    info = planted("modules", 40)
    w = info["worker"]
    assert [f["kind"] for f in w["findings"]] == ["module-graph"], w["verdict"]
    f = w["findings"][0]
    assert f["module_count"] == info["expect"]["modules"]
    b, a = w["growth"]["module_records"]
    assert a - b >= 2 * info["expect"]["modules"]  # an EvaluatedModuleNode and its namespace each
    assert f["fix"]["kind"] == "isolate"
    assert "isolate: true" in f["fix"]["text"] and f["fix"]["where"].startswith("the Vitest config")


def test_module_graph_fix_of_a_jest_run_is_the_jest_config(planted):
    """The same snapshots diagnosed as a Jest run's (the run record's runner): the fix is Jest's own — recycle the
    worker with workerIdleMemoryLimit — never Vitest's isolate (and so no Vitest manifest diff)."""
    info = planted("modules", 40)
    w = diagnose_worker(info["files"], load_rules(), root=str(FIXTURE), runner="jest").to_json()
    fix = w["findings"][0]["fix"]
    assert [f["kind"] for f in w["findings"]] == ["module-graph"] and fix["kind"] == "recycle", fix
    assert "`workerIdleMemoryLimit` in the Jest config" in fix["text"] and "isolate" not in fix["text"], fix["text"]
    assert fix["where"] == "the Jest config (workerIdleMemoryLimit)"
    assert "Nothing of the tests is named" in fix["text"]  # the registry holding them is the runner's own


def test_an_object_used_as_a_map_is_emptied_by_deleting_its_keys(planted):
    """The fix fits the holder's type: a plain object has no `clear()`."""
    info = planted("objectmap", 30000)
    w = info["worker"]
    assert [f["kind"] for f in w["findings"]] == ["runtime-leak"], w["verdict"]
    f = w["findings"][0]
    h = f["holder"]
    assert (h["variable"], h["type"], h["file"], h["line"]) == ("handlersById", "Object", "src/registry.js", 9)
    assert cls(f, "Handler")["count"] == info["expect"]["handlers"]
    assert f["fix"]["kind"] == "map-clear" and ".clear()" not in f["fix"]["text"]
    assert "delete handlersById[k]" in f["fix"]["text"] and f["fix"]["where"] == "src/registry.js:9"


def test_buffers_held_by_an_old_array_are_external_memory(planted):
    info = planted("buffers", 100, 65536)
    w = info["worker"]
    assert [f["kind"] for f in w["findings"]] == ["external-memory"], w["verdict"]
    f = w["findings"][0]
    assert (f["holder"]["variable"], f["holder"]["type"], f["holder"]["file"]) == ("uploads", "Array", "src/blobs.js")
    assert cls(f, "Buffer")["count"] == info["expect"]["buffers"]
    assert f["made_of"]["external"] >= info["expect"]["bytes"]
    assert f["fix"]["kind"] == "array-clear"


def test_data_of_a_new_module_instance_is_held_by_its_variable(planted):
    """A module first evaluated between the snapshots keeps data in a module-level array: the data is not
    module code — its holder is the variable (the module's own instance is a separate, small cause)."""
    info = planted("newmodule", 80, 65536)
    w = info["worker"]
    assert [f["kind"] for f in w["findings"]] == ["external-memory"], w["verdict"]
    f = w["findings"][0]
    assert f["holder"]["type"] == "Array" and f["holder"]["variable"] in ("keep", "__keptUploads"), f["holder"]
    assert cls(f, "Buffer")["count"] == info["expect"]["buffers"]
    assert f["fix"]["kind"] in ("array-clear", "delete-global")


def test_formats_name_the_findings(planted):
    info = planted("mixed", 40000, 40)
    cp = heaplens("diagnose", *info["files"], cwd=FIXTURE)
    assert cp.returncode == 0, cp.stderr
    assert "1. runtime leak held by `orders` (src/orders.js:10)" in cp.stdout
    assert "2. module-graph retention held by the module registry" in cp.stdout
    assert "fix [array-clear]" in cp.stdout and "fix [isolate]" in cp.stdout
    from heaplens.report.findings import html, markdown

    w = info["worker"]
    md = markdown(w)
    assert "runtime leak held by \\`orders\\`" in md and "| 2 | module-graph retention" in md
    page = html(w)
    assert page.count('class="finding') == 2 and "sev-mild" in page


def test_no_retainers_gives_no_verdict(planted):
    info = planted("memo", 30000)
    cp = heaplens("diagnose", *info["files"], "--no-retainers", "--format", "json", cwd=FIXTURE)
    assert cp.returncode == 0, cp.stderr
    w = json.loads(cp.stdout)["workers"][0]
    assert w["findings"] == [] and w["verdict"] == "not analysed" and w["families"]


def test_snapshots_of_different_workers_are_refused(planted):
    a = planted("memo", 30000)["files"][0]
    b = planted("buffers", 100, 65536)["files"][1]
    cp = heaplens("diagnose", a, b)
    assert cp.returncode == 2 and "different workers" in cp.stderr and "Traceback" not in cp.stderr


def test_rules_extend_and_bad_rules_are_one_line(planted, tmp_path):
    info = planted("memo", 30000)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"tool_scripts": "(unclosed"}))
    cp = heaplens("diagnose", *info["files"], "--rules", bad)
    assert cp.returncode == 2 and "bad regular expression" in cp.stderr and "Traceback" not in cp.stderr
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"rules": [{"bucket": "runtime"}]}))
    cp = heaplens("diagnose", *info["files"], "--rules", old)
    assert cp.returncode == 2 and "holder" in cp.stderr
    # the fixture's own module counted as the runner's: its variable no longer names a user holder
    tool = tmp_path / "tool.json"
    tool.write_text(json.dumps({"tool_scripts": "/fixture/src/"}))
    cp = heaplens("diagnose", *info["files"], "--rules", tool, "--format", "json", cwd=FIXTURE)
    doc = json.loads(cp.stdout)
    assert doc["rules"] == [str(tool), "built-in"] and doc["rules_digest"] != info["doc"]["rules_digest"]
    assert all(f["holder"]["variable"] != "resolver" for f in doc["workers"][0]["findings"])


def test_planted_lane_global_array(tmp_path):
    """plant.mjs: PlantedLeak objects in a module-level array that is also globalThis.__plantedBucket."""
    from helpers import plant

    info = plant(tmp_path, 20000, snapshots=4, names="default")
    cp = heaplens("diagnose", "--lane-dir", tmp_path, "--format", "json")
    assert cp.returncode == 0, cp.stderr
    w = json.loads(cp.stdout)["workers"][0]
    assert [f["kind"] for f in w["findings"]] == ["runtime-leak"], w["verdict"]
    f = w["findings"][0]
    assert f["holder"]["type"] == "Array" and f["holder"]["variable"] in ("plantedBucket", "__plantedBucket")
    assert cls(f, "PlantedLeak")["count"] == 60000  # 20,000 before each of the last three snapshots
    assert w["pid"] == info["pid"]
    assert f["fix"]["kind"] in ("array-clear", "delete-global")
    # four snapshots: the growth per interval is shown
    assert any("grew in 3 of 3 interval(s)" in e for e in f["evidence"])


def test_no_growth_worker(planted_lane):
    cp = heaplens("diagnose", "--lane-dir", planted_lane["dir"], "--pid", planted_lane["other"]["pid"],
                  "--format", "json")
    assert cp.returncode == 0, cp.stderr
    w = json.loads(cp.stdout)["workers"][0]
    assert w["findings"] == [] and w["verdict"] == "no significant growth"


def _pair(tmp_path, script, *args):
    d = tmp_path / "lane"
    d.mkdir()
    run_node(JS / script, d, *map(str, args))
    cp = heaplens("diagnose", "--lane-dir", d, "--format", "json")
    assert cp.returncode == 0, cp.stderr
    return json.loads(cp.stdout)["workers"][0]


def test_vite_node_style_module_cache_is_module_graph(tmp_path):
    """module_graph.mjs: vm-evaluated transformed modules kept in a vite-node style ModuleCacheMap of
    plain {exports, code, evaluated} records."""
    w = _pair(tmp_path, "module_graph.mjs", 600, 2)
    assert [f["kind"] for f in w["findings"]] == ["module-graph"], w["verdict"]
    assert w["findings"][0]["module_count"] == 600


def test_a_registry_reached_through_a_dependency_variable_is_still_the_registry(tmp_path):
    """The same module cache, also reached through a dependency's module-level variable (`root.state
    .moduleCache`, the shape of lodash's `root` reaching Vitest 3's ModuleCacheMap on date-fns): the growth is
    still module instances in the runner's registry — module-graph retention, not a runtime leak held by `root`.
    The modules are named by the registry's keys (its records have no URL of their own)."""
    w = _pair(tmp_path, "module_graph.mjs", 600, 2, "alias")
    assert [f["kind"] for f in w["findings"]] == ["module-graph"], w["verdict"]
    f = w["findings"][0]
    assert f["holder"]["kind"] == "module-registry" and "root" not in (f["holder"].get("variable") or "")
    assert f["module_count"] == 600 and "(/repo/src/generated/mod" in f["fix"]["text"]


def test_buffers_in_a_module_array(tmp_path):
    w = _pair(tmp_path, "buffers.mjs", 200)
    assert [f["kind"] for f in w["findings"]] == ["external-memory"], w["verdict"]
    f = w["findings"][0]
    # buffers.mjs is a plain ESM entry still running its top level: the array is on the stack, not in a
    # context, so no variable names it — it is still the holder (not the runner's state)
    assert f["holder"]["type"] == "Array" and cls(f, "Buffer")["count"] == 200
    assert "unnamed Array (kept on the stack of running code)" in f["title"] and f["fix"]["kind"] == "array-clear"


@pytest.fixture(scope="module")
def late(tmp_path_factory) -> dict:
    """`late 5 20000`: src/ledger.js is first loaded after the first snapshot, by test file 0 (20,000
    postings), then the second snapshot, then test files 1-4 (80,000 postings), then the third."""
    d = tmp_path_factory.mktemp("late")
    info = json.loads(run_node(PLANT, "late", d, "5", "20000").stdout.strip().splitlines()[-1])
    info["dir"] = d
    return info


def _findings(*args) -> list[dict]:
    cp = heaplens("diagnose", *args, "--format", "json", cwd=FIXTURE)
    assert cp.returncode == 0, cp.stderr
    [w] = json.loads(cp.stdout)["workers"]
    return w["findings"]


def test_a_module_loaded_after_the_first_snapshot_leaks_through_its_variable(late):
    """The verdict does not depend on where the first snapshot falls: the ledger's module is new at the
    first snapshot, but `entries` exists at the second and keeps growing after it — a runtime leak held by
    `entries`, its growth counted from the second snapshot, exactly as the pair (second, third) says."""
    s0, s1, s2 = late["files"]
    [f] = _findings("--lane-dir", late["dir"])  # all three snapshots of the worker
    h = f["holder"]
    assert (f["kind"], h["kind"], h["variable"], h["file"], h["line"], h["type"]) == (
        "runtime-leak", "variable", "entries", "src/ledger.js", 11, "Array")
    assert f["fix"]["kind"] == "array-clear" and "entries.length = 0" in f["fix"]["text"]
    assert ".clear()" not in f["fix"]["text"]
    # every posting is in the cause; the growth is what came after the second snapshot (80,000 of 100,000)
    assert cls(f, "LedgerEntry")["count"] == late["expect"]["first"] + late["expect"]["later"]
    entry = cls(f, "LedgerEntry")["size"] / cls(f, "LedgerEntry")["count"]
    assert f["retained_growth"] < f["new_bytes"]
    [since] = _findings(s1, s2)  # the pair that starts where the holder exists
    assert (since["kind"], since["holder"]["variable"], since["fix"]["kind"]) == ("runtime-leak", "entries",
                                                                                 "array-clear")
    assert cls(since, "LedgerEntry")["count"] == late["expect"]["later"]
    assert abs(f["retained_growth"] - since["retained_growth"]) <= 0.02 * since["retained_growth"]
    assert f["retained_growth"] >= late["expect"]["later"] * entry
    assert any("first seen at snapshot 2 of 3" in e for e in f["evidence"])


def _causes(pa) -> list[tuple]:
    return [(c.kind, c.key, c.bytes, c.count, c.freed, c.retained_after, c.last_net, c.trend, c.exclusive,
             c.holder.path if c.holder else None, [m.url for m in c.modules]) for c in pa.causes]


def test_reads_beside_the_later_graph_give_the_sequential_result(late, monkeypatch):
    """The earlier snapshot's side, the middle's ids and the holders' sizes before the last interval are read on
    a second thread when memory allows: cause for cause, the same numbers as one read after the other — the
    last interval included (a runtime cause, three snapshots)."""
    s0, s1, s2 = late["files"]
    rules = load_rules()
    runs = {}
    for beside in (False, True):
        monkeypatch.setattr(engine, "side_by_side", lambda paths, beside=beside: beside)
        runs[beside] = engine.analyse_pair(s0, s2, rules, root=str(FIXTURE), previous=s1, middles=[s1])
    seq, par = runs[False], runs[True]
    runtime = [c for c in seq.causes if c.kind == "runtime-leak" and c.last_net is not None]
    assert runtime
    # the last interval against the middle snapshot's own graph, holder by holder
    snap = read_for_graph(s1, locations=False)
    try:
        gp = HeapGraph(snap, program_roots=True)
        for c in runtime:
            before_last = sum(float(gp.retained[gp.ordinal_of_id(int(i))]) for i in c.holder_ids)
            assert c.last_net == pytest.approx(c.retained_after - before_last)
    finally:
        snap.close()
    assert _causes(par) == _causes(seq)
    assert (par.new_count, par.new_bytes, par.old_count, par.other) == (seq.new_count, seq.new_bytes,
                                                                        seq.old_count, seq.other)


def test_reads_started_ahead_give_the_result_of_reading_then(late, tmp_path, monkeypatch):
    """`Reads` (investigate reads a worker's earlier snapshots as they are written): the earlier graph, the middle's
    ids and its retained sizes taken from reads started ahead give, cause for cause, the result of reading them
    in the analysis — one thread or two — and each read ahead is taken once. A file written again after its read
    started is read again."""
    s0, s1, s2 = late["files"]
    rules = load_rules()
    for beside in (False, True):
        monkeypatch.setattr(engine, "side_by_side", lambda paths, beside=beside: beside)
        plain = engine.analyse_pair(s0, s2, rules, root=str(FIXTURE), previous=s1, middles=[s1])
        reads = engine.Reads()
        reads.start_before(s0, rules)
        reads.start_between(s1)
        assert sorted(set(reads.held())) == sorted({str(Path(s0).resolve()), str(Path(s1).resolve())})
        ahead = engine.analyse_pair(s0, s2, rules, root=str(FIXTURE), previous=s1, middles=[s1], reads=reads)
        assert reads.held() == []  # all three taken
        assert _causes(ahead) == _causes(plain) and any(c.last_net is not None for c in plain.causes)
        assert (ahead.new_count, ahead.new_bytes, ahead.old_count, ahead.other, ahead.nodes_before,
                ahead.module_records_before) == (plain.new_count, plain.new_bytes, plain.old_count, plain.other,
                                                 plain.nodes_before, plain.module_records_before)
    # the same path, another file: the read ahead is not the file's any more
    p = tmp_path / Path(s0).name
    p.write_bytes(Path(s0).read_bytes())
    reads = engine.Reads()
    reads.start_before(str(p), rules)
    # written again as a writer does it: a new file at the path (rewriting it in place under the read's mapping
    # would cut the pages the read is reading: SIGBUS)
    fresh = tmp_path / "fresh.heapsnapshot"
    fresh.write_bytes(Path(s2).read_bytes())
    os.replace(fresh, p)
    assert len(reads.before(str(p), rules).dom) == len(engine.BeforeGraph.read(s2, rules).dom) != len(
        engine.BeforeGraph.read(s0, rules).dom)


def test_ahead_reads_each_snapshot_as_it_is_written(late, tmp_path, monkeypatch):
    """`Ahead.written` (a worker's snapshots so far): the first one's graph, then the ids and retained sizes of one
    in between; a newer one in between leaves the older one's retained sizes out (it is no longer the one before
    the last). The diagnosis then takes them: the same findings as reading them at the end."""
    snaps = [str(p) for p in late["files"]]
    rules = load_rules()
    plain = diagnose_worker(snaps, rules, root=str(FIXTURE))
    older = tmp_path / Path(snaps[1]).name.replace(".002.", ".009.")  # another snapshot in between
    older.write_bytes(Path(snaps[1]).read_bytes())
    ahead = run_module.Ahead()
    ahead.written(snaps[:1], rules)
    ahead.written([snaps[0], str(older)], rules)
    ahead.written([snaps[0], str(older), snaps[1]], rules)
    held = sorted((k[0], Path(k[1]).name) for k in ahead.reads._tasks)
    assert held == sorted([("before", Path(snaps[0]).name), ("ids", older.name), ("ids", Path(snaps[1]).name),
                           ("retained", Path(snaps[1]).name)])
    ahead.start(snaps, rules, str(FIXTURE))
    taken = diagnose_worker(snaps, rules, root=str(FIXTURE), ahead=ahead)
    assert taken.findings == plain.findings and taken.verdict == plain.verdict and plain.findings
    assert ahead.reads.held() == [str(older)]  # not in this worker's series: left, not taken
    monkeypatch.setattr(run_module, "side_by_side", lambda paths: False)  # no room: nothing is read ahead
    ahead = run_module.Ahead()
    ahead.written(snaps[:1], rules)
    assert ahead.reads.held() == []


def test_a_bad_snapshot_is_one_error_whichever_thread_reads_it(late, tmp_path, monkeypatch):
    """Read on the second thread, a bad earlier snapshot is still its own one-line error in the caller; a bad later
    one is said first, as before (its ids are read before anything else)."""
    s0, s1, s2 = late["files"]
    bad = tmp_path / "Heap.20260101.000000.1.0.001.heapsnapshot"
    bad.write_bytes(Path(s0).read_bytes()[:100_000])
    data = Path(s2).read_bytes()
    cut = tmp_path / "Heap.20260101.000000.1.0.002.heapsnapshot"
    cut.write_bytes(data[:data.index(b'"edges":') + 50_000])
    monkeypatch.setattr(engine, "side_by_side", lambda paths: True)
    for before, after, said in ((bad, s2, bad), (bad, cut, cut), (s0, cut, cut)):
        with pytest.raises(HeaplensError) as exc:
            engine.analyse_pair(str(before), str(after), load_rules(), root=str(FIXTURE), previous=s1, middles=[s1])
        assert str(exc.value).startswith(f"{said}: "), exc.value


def test_an_analysis_started_ahead_is_taken_only_for_the_same_call(late, monkeypatch):
    """`Ahead`: the pair analysis investigate starts when a worker's last snapshot is written is the one the
    diagnosis takes — the same findings as analysing then — and only for the same snapshots, rules and root."""
    snaps = [str(p) for p in late["files"]]
    rules = load_rules()
    plain = diagnose_worker(snaps, rules, root=str(FIXTURE))
    calls = []
    real = engine.analyse_pair
    monkeypatch.setattr(run_module, "analyse_pair", lambda *a, **k: calls.append(a) or real(*a, **k))
    ahead = run_module.Ahead()
    ahead.start(snaps, rules, str(FIXTURE))
    ahead.start(snaps, rules, str(FIXTURE))  # once per worker
    taken = diagnose_worker(snaps, rules, root=str(FIXTURE), ahead=ahead)
    assert len(calls) == 1 and taken.findings == plain.findings and taken.verdict == plain.verdict
    assert plain.findings and plain.findings[0]["kind"] == "runtime-leak"
    for other in ((snaps[:2], rules, str(FIXTURE)), (snaps, rules, "/elsewhere"), (snaps, rules, None)):
        ahead.start(*other)
    diagnose_worker(snaps, rules, root=str(FIXTURE), ahead=ahead)
    assert len(calls) == 5  # three more started ahead, none of them this call's: it analysed the pair itself
