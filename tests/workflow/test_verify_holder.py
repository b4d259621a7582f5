"""`heaplens verify RUN` after a runtime leak's fix in the code (issue 13 item 5): the files that fed the holder
are rerun in one worker like the finding's lane, with snapshots, and the same engine's id diff says whether the
holder still grows. Real Vitest 4 from npm (the scenario corpus's install), real snapshots, copies of two corpus
scenarios: a shared worker (module-cache: `sessionCache`, fed by all five files), a worker per file
(isolate-one-file: `staged`, fed by test/importer.test.js, its pair from the follow-up lane) and two thread
workers that both found the same holder (threads-leak: `subscriptions`); and Jest 29 (the Jest corpus's
interval-timer: a timer that keeps each file's registry, measured in its worker's window of files); after an
isolation written by `investigate --apply` (mixed-causes); Vitest 3 (v3-net-server: a holder the rerun names
differently, found at its site)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers import heaplens, npm_ci

CORPUS = Path(__file__).resolve().parents[2] / "examples" / "scenarios"
JEST_CORPUS = CORPUS.parent / "jest-scenarios"
CAPTURE = Path(__file__).resolve().parents[1] / "runner" / "fixtures" / "capture"


def scenario(name: str, tmp_path: Path, corpus: Path = CORPUS, runner: str = "vitest") -> Path:
    """A copy of a corpus scenario, the corpus's package.json and node_modules beside it (its files resolve the
    runner upwards, as in the corpus)."""
    npm_ci(corpus, runner)
    (tmp_path / "node_modules").symlink_to(corpus / "node_modules", target_is_directory=True)
    shutil.copy2(corpus / "package.json", tmp_path / "package.json")
    return Path(shutil.copytree(corpus / name, tmp_path / name))


def run_dirs(root: Path) -> list[Path]:
    return sorted(p.parent for p in (root / ".heaplens" / "runs").glob("*/run.json"))


def suite_files(root: Path) -> dict[str, bytes]:
    """The suite's own files (not heaplens's runs, not Vitest's results cache in node_modules/.vite)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not {".heaplens", "node_modules"} & set(p.parts)}


def investigate(root: Path) -> tuple[Path, dict]:
    cp = heaplens("run", "--root", root, "--snapshots", cwd=root, timeout=600)
    assert cp.returncode == 0, cp.stdout[-3000:] + cp.stderr[-3000:]
    [run] = run_dirs(root)
    cp = heaplens("report", run, "--format", "json", cwd=root, timeout=600)
    assert cp.returncode == 0, cp.stderr[-3000:]
    return run, json.loads(cp.stdout)


def verify(root: Path, run: Path, *args: str) -> tuple[int, dict, str]:
    cp = heaplens("verify", run, "--format", "json", *args, cwd=root, timeout=600)
    assert cp.returncode in (0, 1), cp.stdout[-3000:] + cp.stderr[-3000:]
    return cp.returncode, json.loads(cp.stdout), cp.stderr


def test_a_shared_workers_holder_still_grows_until_the_cleanup_then_cannot_be_told_once_renamed(tmp_path):
    root = scenario("module-cache", tmp_path)
    run, report = investigate(root)
    [leak] = [f for f in report["findings"] if f["kind"] == "runtime-leak"]
    assert leak["holder"]["variable"] == "sessionCache" and leak["holder"]["file"] == "src/cache.js"
    tests = sorted(str(p.relative_to(root)) for p in root.glob("*.test.js"))
    assert sorted(leak["fix"]["files"]) == tests  # every file fed it

    # unchanged: the rerun shows the same holder growing as much (the same objects, by id diff)
    sources = suite_files(root)
    code, v, err = verify(root, run)
    assert code == 1 and v["verdict"] == "not verified (a holder still grows)", v["lines"]
    [c] = v["holders"]["checks"]
    assert c["verdict"] == "still grows" and c["after"]["reported"] is True
    assert c["after"]["title"] == leak["title"]
    assert c["projected_after"] >= c["floor"] > 0
    assert abs(c["after"]["objects"] - leak["objects"]) <= 0.01 * leak["objects"]  # 45,000 Sessions and theirs
    assert c["runs"] == 5 and c["per_file_worker"] is False
    after = Path(v["holders"]["after_run"])
    lane = json.loads((after / "run.json").read_text())["lanes"][c["rerun_lane"]]
    assert lane["workers_option"] == 1 and len(lane["workers"]) == 1  # one worker
    assert "rerun 5 test file(s) that fed it in one worker like unit-fast" in err  # progress on stderr
    assert suite_files(root) == sources  # the suite is left as it was
    assert json.loads((run / "report.json").read_text())["verification"]["holders"]["checks"][0]["verdict"] == \
        "still grows"

    # the cleanup the fix names, in every file that fed it: the holder no longer grows
    for t in tests:
        p = root / t
        p.write_text("import { afterEach } from 'vitest'\nimport { clearSessions } from './src/cache.js'\n"
                     "afterEach(clearSessions)\n" + p.read_text())
    code, v, _ = verify(root, run)
    assert code == 0 and v["verdict"] == "verified", v["lines"]
    [c] = v["holders"]["checks"]
    assert c["verdict"] == "no longer grows"
    assert c["projected_after"] < c["floor"]
    assert c["after"]["objects"] < 0.01 * leak["objects"]
    assert any(line.startswith("holder `sessionCache` (src/cache.js:17) in unit-fast: no longer grows — ")
               and "/file over 5 file(s) → " in line for line in v["lines"]), v["lines"]

    # the holder renamed (and the cleanup gone): it cannot be found again; the rerun's own leak is named
    for t in tests:
        (root / t).write_bytes(sources[t])
    src = root / "src" / "cache.js"
    src.write_text(src.read_text().replace("sessionCache", "liveSessions"))
    code, v, _ = verify(root, run)
    assert code == 1 and v["verdict"] == "not verified (cannot be told)", v["lines"]
    [c] = v["holders"]["checks"]
    assert c["verdict"] == "cannot be told"
    assert "`sessionCache` is no longer declared in src/cache.js" in c["reason"]
    assert any("`liveSessions` (src/cache.js:17)" in o for o in c["others"]), c

    # its test files gone: cannot be told, and nothing is rerun
    for t in tests:
        (root / t).unlink()
    runs = run_dirs(root)
    code, v, _ = verify(root, run)
    assert code == 1 and v["holders"]["checks"][0]["verdict"] == "cannot be told"
    assert v["holders"]["checks"][0]["reason"].startswith("the test files that fed it no longer exist: ")
    assert v["holders"]["after_run"] is None and run_dirs(root) == runs


def test_a_worker_per_file_holder_no_longer_grows_after_the_cleanup(tmp_path):
    root = scenario("isolate-one-file", tmp_path)
    run, report = investigate(root)
    [leak] = [f for f in report["findings"] if f["kind"] == "runtime-leak"]
    assert leak["holder"]["variable"] == "staged" and leak["fix"]["files"] == ["test/importer.test.js"]
    t = root / "test" / "importer.test.js"
    t.write_text("import { afterEach } from 'vitest'\nimport { commit } from '../src/importer.js'\n"
                 "afterEach(commit)\n" + t.read_text())
    code, v, _ = verify(root, run)
    assert code == 0 and v["verdict"] == "verified", v["lines"]
    [c] = v["holders"]["checks"]
    assert c["verdict"] == "no longer grows" and c["per_file_worker"] is True
    assert c["files"] == ["test/importer.test.js"] and c["runs"] == 1
    assert c["projected_after"] < c["floor"]
    # the file took its own pair (after its collection, at its end) in the rerun: the id diff had a pair to read
    lane = json.loads((Path(v["holders"]["after_run"]) / "run.json").read_text())["lanes"][c["rerun_lane"]]
    assert [w["at"] for w in lane["snapshots"]["written"]] == ["collected", "end"]


def test_one_check_per_holder_when_several_thread_workers_found_it(tmp_path):
    root = scenario("threads-leak", tmp_path)  # pool threads, two workers, both fill `subscriptions`
    run, report = investigate(root)
    leaks = [f for f in report["findings"] if f["kind"] == "runtime-leak"]
    assert len(leaks) == 2 and {f["holder"]["variable"] for f in leaks} == {"subscriptions"}
    code, v, _ = verify(root, run)
    assert code == 1 and v["verdict"] == "not verified (a holder still grows)", v["lines"]
    [c] = v["holders"]["checks"]
    assert len({(w["pid"], w["tid"]) for w in c["workers"]}) == 2
    assert sorted(c["files"]) == sorted({x for f in leaks for x in f["fix"]["files"]})  # both workers' files
    assert c["verdict"] == "still grows" and c["runs"] == len(c["files"])
    lane = json.loads((Path(v["holders"]["after_run"]) / "run.json").read_text())["lanes"][c["rerun_lane"]]
    assert len(lane["workers"]) == 1 and lane["workers_option"] == 1


def test_a_jest_workers_holder_is_measured_in_the_window_of_its_worker(tmp_path):
    # Jest gives each file a fresh module registry: what a file leaves behind (its poller's interval keeps its
    # samples and registry) shows only once later files ran, so the rerun is the worker's files, not a file alone
    root = scenario("interval-timer", tmp_path, JEST_CORPUS, "jest")
    run, report = investigate(root)
    [leak] = [f for f in report["findings"] if f["kind"] == "runtime-leak"]
    assert leak["holder"]["kind"] == "timer" and leak["holder"]["file"] == "src/poller.js"
    code, v, err = verify(root, run)
    assert code == 1 and v["verdict"] == "not verified (a holder still grows)", v["lines"]
    [c] = v["holders"]["checks"]
    assert c["window"] is True and c["runs"] == 4 == len(c["files"]) and c["verdict"] == "still grows"
    assert "rerun its worker's 4 test file(s)" in err
    for t in (root / "test").glob("*.test.js"):  # the cleanup the fix names: clear the interval
        t.write_text("const { poll } = require('../src/poller');\nafterAll(() => clearInterval(poll));\n"
                     + t.read_text())
    code, v, _ = verify(root, run)
    assert code == 0 and v["verdict"] == "verified", v["lines"]
    assert v["holders"]["checks"][0]["verdict"] == "no longer grows"


def test_a_file_several_projects_include_is_rerun_in_the_project_its_finding_came_from(tmp_path):
    # two projects include leaky.test.js (as hono's three include its jsx/dom files), each a worker per file: the
    # finding's pair came from one project's worker; the rerun runs the file there (`--project=NAME`), once, with
    # one pair — `vitest run FILE` alone ran it once per project, each run with its own pair of snapshots
    npm_ci(CORPUS)
    root = Path(shutil.copytree(CAPTURE / "two-projects-leak", tmp_path / "two-projects-leak"))
    (root / "node_modules").symlink_to(CORPUS / "node_modules", target_is_directory=True)
    run, report = investigate(root)
    [leak] = [f for f in report["findings"] if f["kind"] == "runtime-leak"]
    assert leak["holder"]["variable"] == "held" and leak["fix"]["files"] == ["leaky.test.js"]
    lanes = json.loads((run / "run.json").read_text())["lanes"]
    [project] = {f["project"] for f in lanes[leak["lane"]]["files"] if f["pid"] == leak["pid"]}
    code, v, err = verify(root, run)
    assert code == 1 and v["verdict"] == "not verified (a holder still grows)", v["lines"]
    [c] = v["holders"]["checks"]
    assert c["verdict"] == "still grows" and c["per_file_worker"] is True and c["runs"] == 1
    lane = json.loads((Path(v["holders"]["after_run"]) / "run.json").read_text())["lanes"][c["rerun_lane"]]
    assert f"--project={project}" in lane["argv"]
    assert [f["project"] for f in lane["files"]] == [project] and lane["runs_planned"] == 1
    assert [s["at"] for s in lane["snapshots"]["written"]] == ["collected", "end"]


def test_after_an_applied_isolation_the_holder_is_still_checked_in_the_lane_as_configured_now(tmp_path):
    # mixed-causes: module-graph retention and a runtime leak (`orders`) in one shared worker; investigate --apply
    # isolates every file in the Vitest config; the leak's cleanup is not made: the config change is verified, the
    # holder (its files now in a worker each, each with its pair) still grows as the lane was investigated
    root = scenario("mixed-causes", tmp_path)
    cp = heaplens("investigate", "--root", root, "--apply", cwd=root, timeout=600)
    assert cp.returncode == 0, cp.stdout[-3000:] + cp.stderr[-3000:]
    [run] = run_dirs(root)
    code, v, err = verify(root, run)
    # not verified whatever the config change's own verdict (RSS, run before: its first line)
    assert code == 1 and v["verdict"].startswith("not verified"), v["lines"]
    assert "peak RSS of one worker" in v["lines"][0]
    assert v["holders"]["verdict"] == "not verified (a holder still grows)"
    [c] = v["holders"]["checks"]
    assert c["holder"]["variable"] == "orders" and c["verdict"] == "still grows"
    assert c["per_file_worker"] is True and c["isolated_now"] is True and c["runs"] == 12
    assert c["after"]["files_between"] == 1 and c["projected_after"] >= c["floor"]
    assert "a worker per file as the suite runs them now" in err


def test_a_holder_named_differently_by_the_rerun_is_found_at_its_site(tmp_path):
    # Vitest 3 (v3-net-server, its own install): an http server per file never closed. In the run the engine reaches
    # it through the running file and names no variable; rerun from the one file that fed it, through a hook's
    # closure: `presence`. The same kind, type, file and line: the same holder, still growing.
    npm_ci(CORPUS / "v3-net-server")
    root = Path(shutil.copytree(CORPUS / "v3-net-server", tmp_path / "v3-net-server", symlinks=True,
                                ignore=shutil.ignore_patterns("node_modules", ".heaplens")))
    (root / "node_modules").symlink_to(CORPUS / "v3-net-server" / "node_modules", target_is_directory=True)
    run, report = investigate(root)
    [leak] = [f for f in report["findings"] if f["kind"] == "runtime-leak"]
    assert leak["holder"]["kind"] == "server"
    code, v, _ = verify(root, run)
    assert code == 1 and v["holders"]["checks"][0]["verdict"] == "still grows", v["lines"]
    after = v["holders"]["checks"][0]["after"]
    assert after["title"].startswith("runtime leak held by") and after["objects"] > 0


SPIES = """import { test, expect, vi } from 'vitest'
// each test makes 5,000 spies and calls each with a ~1 KB object: Vitest's mock registry keeps every spy and its calls
for (let t = 0; t < 4; t++) {
  test(`test ${t}`, () => {
    for (let i = 0; i < 5000; i++) vi.fn()({ i, payload: `call-${t}-${i}:` + 'x'.repeat(1000) })
    expect(true).toBe(true)
  })
}
"""
OLD_SPIES = """import { test, expect, vi } from 'vitest'
// 4 spies made at the file's collection, each called with 5,000 ~1 KB objects by one test: the registry keeps them
const spies = Array.from({ length: 4 }, () => vi.fn())
for (let t = 0; t < 4; t++) {
  test(`test ${t}`, () => {
    for (let i = 0; i < 5000; i++) spies[t]({ i, payload: `call-${t}-${i}:` + 'x'.repeat(1000) })
    expect(true).toBe(true)
  })
}
"""


def test_a_mock_holder_named_in_one_run_only_is_found_by_its_kind_and_type(tmp_path):
    # vi.fn() spies have no source site: the engine names their holder (Vitest's mock registry) after the new spies
    # it finds — `Mock`, the mock library's default name, when it finds one among them (most runs, not all: which
    # new functions it reads varies); none when the spies existed before the pair's first snapshot and only their
    # calls are new (hono's jsx/dom spies: `Mock` in one run, unnamed in the next). The same kind and type, named by
    # one side only: the same holder, still growing — not "cannot be told". (The old code failed whenever the run
    # named it `Mock`.)
    npm_ci(CORPUS)
    root = tmp_path / "spies"
    root.mkdir()
    (root / "node_modules").symlink_to(CORPUS / "node_modules", target_is_directory=True)
    (root / "package.json").write_text('{"name": "spies", "private": true, "type": "module"}')
    t = root / "spies.test.js"
    t.write_text(SPIES)
    run, report = investigate(root)
    [leak] = [f for f in report["findings"] if f["kind"] == "runtime-leak"]
    assert leak["holder"]["kind"] == "mock" and leak["holder"]["variable"] in ("Mock", None)
    assert not leak["holder"]["file"]
    t.write_text(OLD_SPIES)  # as many calls kept, by spies the registry had before the snapshot pair
    code, v, _ = verify(root, run)
    assert code == 1 and v["verdict"] == "not verified (a holder still grows)", v["lines"]
    [c] = v["holders"]["checks"]
    assert c["verdict"] == "still grows" and c["projected_after"] >= c["floor"]
    assert c["after"]["title"] == "runtime leak held by the call history of the mock `vi.fn()`"

    # the other way round: investigated unnamed (the spies made at collection), rerun with new spies (`Mock` in most
    # runs, beside a small unnamed remainder below the floor): the largest of the holder's names decides
    shutil.rmtree(root / ".heaplens")
    run, report = investigate(root)
    [leak] = [f for f in report["findings"] if f["kind"] == "runtime-leak"]
    assert leak["holder"]["kind"] == "mock" and leak["holder"]["variable"] is None
    t.write_text(SPIES)
    code, v, _ = verify(root, run)
    assert code == 1 and v["verdict"] == "not verified (a holder still grows)", v["lines"]
    [c] = v["holders"]["checks"]
    assert c["verdict"] == "still grows" and c["projected_after"] >= c["floor"]


def test_nothing_to_verify_on_a_clean_run(tmp_path):
    root = scenario("clean", tmp_path)
    cp = heaplens("run", "--root", root, "--snapshots", cwd=root, timeout=600)
    assert cp.returncode == 0, cp.stderr[-3000:]
    [run] = run_dirs(root)
    cp = heaplens("verify", run, "--holders", cwd=root, timeout=600)
    assert cp.returncode == 2 and "no runtime-leak finding" in cp.stderr and cp.stderr.count("\n") == 1, cp.stderr
    # an option the run took by default is not passed back as a choice when verify replans the run: a batch budget
    # "given" splits the shared lane by the files' default durations (5 x 250 ms), as if the files had moved
    rec = json.loads((run / "run.json").read_text())
    assert rec["option_sources"]["batch_ms"] == "default"
    rec["options"]["batch_ms"] = 1000.0
    (run / "run.json").write_text(json.dumps(rec))
    cp = heaplens("verify", run, cwd=root, timeout=600)
    assert cp.returncode == 2 and "no file changed lanes and no lane had a finding" in cp.stderr, \
        cp.stdout[-2000:] + cp.stderr
