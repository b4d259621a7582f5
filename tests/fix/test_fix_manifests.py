"""`heaplens hotspots update` / `heaplens timings update` from a real run record, OpenClaw-style logs and
Vitest's JSON reporter: exact values, merging, blind spots, atomic writes, one-line errors."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess

import pytest
from fix_helpers import hl, one_line_error, suite

from heaplens.fix import hotspots as H
from heaplens.fix import timings as T
from heaplens.fix.sources import log_growth, size_kb
from heaplens.units import fmt_size

ALLOC = "suite/basic/alloc50.test.js"
SMALL = [f"suite/basic/{n}.test.js" for n in ("f1", "f2", "f3", "small")]
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def by_file(rec):
    return {f["file"]: f for lane in rec["lanes"].values() for f in lane["files"]}


def test_hotspots_from_a_real_run(v4, basic_run, tmp_path):
    rec = basic_run["record"]
    files = by_file(rec)
    assert sorted(files) == sorted([ALLOC, *SMALL])
    delta = files[ALLOC]["delta"]
    assert delta >= 40 * 1024 * 1024  # the fixture allocates ~50 MB
    out = tmp_path / "hot.json"
    cp = hl("hotspots", "update", "--from", basic_run["dir"], "--min-delta-kb", "10240", "--out", out, cwd=v4)
    assert cp.returncode == 0, cp.stderr
    kb = math.floor(delta / 1024 + 0.5)
    source = f"{rec['run_id']}:unit-fast"
    doc = json.loads(out.read_text())
    assert list(doc) == ["generatedAt", "defaultMinDeltaKb", "lane", "files"]
    assert ISO.match(doc["generatedAt"])
    assert (doc["defaultMinDeltaKb"], doc["lane"]) == (10240, "*")
    assert doc["files"] == {ALLOC: {"deltaKb": kb, "sources": [source]}}
    assert out.read_text() == json.dumps(doc, indent=2) + "\n"
    size = fmt_size(kb * 1024, signed=True)
    assert cp.stdout.splitlines() == [
        f"hotspot {ALLOC} {size} (new; {source})",
        f"wrote 1 hotspots to {out}",
        # the fixture has no timings manifest: the file that grew is a blind spot
        f"no timing: {ALLOC} ({size}) — a scheduling blind spot",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["hot.json"]  # no temporary file left

    # the planner now gives the file a memory-isolated lane of its own
    cp = hl("plan", "suite/basic", "--format", "json", "--hotspots", out, cwd=v4)
    lanes = {l["name"]: l["files"] for l in json.loads(cp.stdout)["lanes"]}
    assert lanes == {"unit-alloc50-memory-isolated": [ALLOC], "unit-fast": SMALL}

    # the default threshold (256 MiB) keeps nothing new, and the existing entry stays; a run given by its id
    cp = hl("hotspots", "update", "--from", rec["run_id"], "--out", out, cwd=v4,
            env={"HEAPLENS_RUNS_DIR": str(basic_run["dir"].parent)})
    doc2 = json.loads(out.read_text())
    assert cp.stdout.splitlines()[0] == f"wrote 1 hotspots to {out}"
    assert (doc2["defaultMinDeltaKb"], doc2["files"]) == (262144, doc["files"])


def test_a_file_inflated_by_a_snapshot_is_not_stored(v4, basic_run, tmp_path):
    # the same record, as if a snapshot had been written while alloc50 ran (the runner marks rss_inflated)
    rec = json.loads(basic_run["path"].read_text())
    for lane in rec["lanes"].values():
        for f in lane["files"]:
            f["rss_inflated"] = f["file"] == ALLOC
    run = tmp_path / "run"
    shutil.copytree(basic_run["dir"], run)
    (run / "run.json").write_text(json.dumps(rec))
    out = tmp_path / "hot.json"
    cp = hl("hotspots", "update", "--from", run, "--min-delta-kb", "1", "--out", out, cwd=v4)
    assert cp.returncode == 0, cp.stderr
    files = json.loads(out.read_text())["files"]
    assert ALLOC not in files
    # the others are stored as measured (those that grew at all)
    assert set(files) <= set(SMALL)


def test_hotspots_merge_with_existing(v4, basic_run, tmp_path):
    rec = basic_run["record"]
    kb = math.floor(by_file(rec)[ALLOC]["delta"] / 1024 + 0.5)
    out = tmp_path / "hot.json"
    existing = {
        "config": "vitest.unit.config.ts",
        "generatedAt": "2026-03-20T10:00:00.000Z",
        "defaultMinDeltaKb": 262144,
        "lane": "unit-fast",
        "files": {
            "src/big.test.ts": {"deltaKb": 1111491, "sources": ["gha-1:unit-fast"]},
            ALLOC: {"deltaKb": kb - 100, "sources": ["old-log:unit-fast"]},
            "src/low.test.ts": {"deltaKb": 20000, "sources": ["gha-2:unit-fast"]},
        },
    }
    out.write_text(json.dumps(existing, indent=2) + "\n")
    cp = hl("hotspots", "update", "--from", basic_run["dir"], "--min-delta-kb", "10240", "--out", out,
            "--lane", "unit-fast*", cwd=v4)
    assert cp.returncode == 0, cp.stderr
    doc = json.loads(out.read_text())
    assert list(doc) == ["config", "generatedAt", "defaultMinDeltaKb", "lane", "files"]
    assert (doc["config"], doc["lane"]) == ("vitest.unit.config.ts", "unit-fast*")
    assert doc["generatedAt"] != existing["generatedAt"]
    # max delta, union of sources (sorted), delta descending
    assert list(doc["files"].items()) == [
        ("src/big.test.ts", {"deltaKb": 1111491, "sources": ["gha-1:unit-fast"]}),
        (ALLOC, {"deltaKb": kb, "sources": sorted([f"{rec['run_id']}:unit-fast", "old-log:unit-fast"])}),
        ("src/low.test.ts", {"deltaKb": 20000, "sources": ["gha-2:unit-fast"]}),
    ]
    assert cp.stdout.splitlines()[:2] == [
        f"hotspot {ALLOC} {fmt_size(kb * 1024, signed=True)} (raised; {', '.join(doc['files'][ALLOC]['sources'])})",
        f"wrote 3 hotspots to {out}",
    ]
    # --limit cuts the smallest; a lane glob that matches nothing adds nothing
    cp = hl("hotspots", "update", "--from", basic_run["dir"], "--out", out, "--limit", "2", "--lane", "channels*",
            cwd=v4)
    assert list(json.loads(out.read_text())["files"]) == ["src/big.test.ts", ALLOC]
    assert "dropped src/low.test.ts (beyond --limit 2)" in cp.stdout.splitlines()


LOG = """\
2026-03-20T10:11:12.1234567Z [test-parallel] start unit-fast workers=2 filters=all
2026-03-20T10:12:00.0000000Z [test-parallel][mem] summary unit-fast files=812 peak=6.21GiB totalDelta=+3.40GiB \
peakAt=src/secrets/runtime.test.ts top=src/secrets/runtime.test.ts:+412.3MiB, src/memory/index.test.ts:+260.0MiB, \
src/small.test.ts:+900.0KiB
\x1b[2m[test-parallel][mem] summary unit-fast-batch-2 files=40 peak=2.00GiB totalDelta=-1.0MiB peakAt=poll \
top=src/config/schema.help.quality.test.ts:+1.06GiB\x1b[22m
unit\tRun tests\t2026-03-20T10:13:00Z [test-parallel][mem] summary channels files=3 peak=1.0GiB totalDelta=+1.0GiB \
peakAt=spawn top=extensions/telegram/src/bot.test.ts:+819.9MiB
[test-parallel][mem] summary unit-heavy-1 files=2 peak=1.0GiB totalDelta=±0.0KiB peakAt=n/a top=none
[heaplens][mem] summary unit-fast files=5 peak=277.9MiB totalDelta=+51.6MiB peakAt=suite/basic/alloc50.test.js \
top=suite/basic/alloc50.test.js:+300.0MiB
"""


def test_sizes_and_log_lines():
    assert [size_kb(s) for s in ("+412.3MiB", "+1.06GiB", "-2.0MiB", "+900.0KiB", "±0.0KiB", "12MB", "+2.5KiB")] == [
        422195, 1111491, -2048, 900, 0, None, 3]  # halves round up, as Math.round does
    got = [(g.file, g.delta_kb, g.source) for g in log_growth(LOG, "ci-unit", ["unit-fast*"])]
    assert got == [
        ("src/secrets/runtime.test.ts", 422195, "ci-unit:unit-fast"),
        ("src/memory/index.test.ts", 266240, "ci-unit:unit-fast"),
        ("src/small.test.ts", 900, "ci-unit:unit-fast"),
        ("src/config/schema.help.quality.test.ts", 1111491, "ci-unit:unit-fast-batch-2"),
        ("suite/basic/alloc50.test.js", 307200, "ci-unit:unit-fast"),
    ]
    assert [g.source for g in log_growth(LOG, "x", None)][-2:] == ["x:channels", "x:unit-fast"]


def test_hotspots_from_logs(tmp_path):
    root = suite(tmp_path / "s", [])
    log = tmp_path / "ci-unit.log"
    log.write_text(LOG)
    # a timings manifest that knows one of the files: it is not called out
    timings = root / "test/fixtures/test-timings.unit.json"
    timings.parent.mkdir(parents=True)
    timings.write_text(json.dumps({"files": {"src/memory/index.test.ts": {"durationMs": 1500, "testCount": 3}}}))
    cp = hl("hotspots", "update", "--log", log, "--lane", "unit-fast", "--lane", "unit-fast-batch-*", cwd=root)
    assert cp.returncode == 0, cp.stderr
    out = root / "test/fixtures/test-memory-hotspots.unit.json"
    doc = json.loads(out.read_text())
    assert (doc["defaultMinDeltaKb"], doc["lane"]) == (262144, "unit-fast, unit-fast-batch-*")
    assert doc["files"] == {
        "src/config/schema.help.quality.test.ts": {"deltaKb": 1111491, "sources": ["ci-unit:unit-fast-batch-2"]},
        "src/secrets/runtime.test.ts": {"deltaKb": 422195, "sources": ["ci-unit:unit-fast"]},
        "suite/basic/alloc50.test.js": {"deltaKb": 307200, "sources": ["ci-unit:unit-fast"]},
        "src/memory/index.test.ts": {"deltaKb": 266240, "sources": ["ci-unit:unit-fast"]},
    }
    lines = cp.stdout.splitlines()
    assert "wrote 4 hotspots to test/fixtures/test-memory-hotspots.unit.json" in lines
    assert [l for l in lines if l.startswith("no timing:")] == [
        "no timing: src/config/schema.help.quality.test.ts (+1.06GiB) — a scheduling blind spot",
        "no timing: src/secrets/runtime.test.ts (+412.3MiB) — a scheduling blind spot",
        "no timing: suite/basic/alloc50.test.js (+300.0MiB) — a scheduling blind spot",
    ]  # src/small.test.ts grew by 900 KiB only: noise, not called out
    # dry run: the diff, nothing written
    before = out.read_text()
    r = H.update(root, logs=[log], lanes=["channels"], dry_run=True)
    assert not r.written and out.read_text() == before
    assert '+    "extensions/telegram/src/bot.test.ts": {\n+      "deltaKb": 839578,' in r.diff


def test_timings_from_a_real_run(v4, basic_run, tmp_path):
    rec = basic_run["record"]
    files = by_file(rec)
    hot = tmp_path / "hot.json"
    hot.write_text(json.dumps({"defaultMinDeltaKb": 262144, "files": {
        "suite/oom/grow.test.js": {"deltaKb": 400000, "sources": ["x:unit-fast"]}}}))
    out = tmp_path / "tim.json"
    cp = hl("timings", "update", "--from", basic_run["dir"], "--out", out, "--hotspots", hot, cwd=v4)
    assert cp.returncode == 0, cp.stderr
    doc = json.loads(out.read_text())
    assert list(doc) == ["generatedAt", "defaultDurationMs", "files"] and doc["defaultDurationMs"] == 250
    want = {f: {"durationMs": math.floor(v["duration_ms"] * 100 + 0.5) / 100, "testCount": 1} for f, v in files.items()}
    assert doc["files"] == want
    assert list(doc["files"]) == sorted(want, key=lambda f: -want[f]["durationMs"])
    lines = cp.stdout.splitlines()
    assert lines[-2:] == [f"wrote 5 timings to {out}",
                          "no timing: suite/oom/grow.test.js (+390.6MiB) — a scheduling blind spot"]
    assert f"timing {ALLOC} {want[ALLOC]['durationMs']:.2f}ms tests=1 (new)" in lines


def test_timings_from_vitest_json_report(v4, tmp_path):
    report = tmp_path / "report.json"
    cp = subprocess.run([str(v4 / "node_modules/.bin/vitest"), "run", "suite/basic", "--reporter=json",
                         f"--outputFile={report}"], cwd=v4, capture_output=True, text=True, timeout=300)
    assert cp.returncode == 0, cp.stderr
    data = json.loads(report.read_text())
    want = {}
    for t in data["testResults"]:
        rel = t["name"][len(str(v4)) + 1:]
        want[rel] = {"durationMs": math.floor((t["endTime"] - t["startTime"]) * 100 + 0.5) / 100,
                     "testCount": len(t["assertionResults"])}
    assert sorted(want) == sorted([ALLOC, *SMALL]) and all(v["testCount"] == 1 for v in want.values())
    out = tmp_path / "tim.json"
    out.write_text(json.dumps({"config": "vitest.unit.config.ts", "generatedAt": "x", "defaultDurationMs": 300,
                               "files": {"src/old.test.ts": {"durationMs": 99999.5, "testCount": 7},
                                         "src/zero.test.ts": {"durationMs": 0}}}, indent=2) + "\n")
    r = T.update(v4, reports=[report], out=out)
    doc = json.loads(out.read_text())
    assert (doc["config"], doc["defaultDurationMs"]) == ("vitest.unit.config.ts", 300)
    assert doc["files"] == {"src/old.test.ts": {"durationMs": 99999.5, "testCount": 7}, **want}
    assert list(doc["files"])[0] == "src/old.test.ts"
    assert sorted(r.added) == sorted(want) and r.written and r.diff.startswith(f"--- {out}\n+++ {out}\n")


def test_timings_keep_counts_and_later_inputs_win(tmp_path):
    root = suite(tmp_path / "s", [])
    rep1, rep2 = tmp_path / "r1.json", tmp_path / "r2.json"
    rep1.write_text(json.dumps({"testResults": [
        {"name": str(root / "src/a.test.ts"), "startTime": 1000, "endTime": 2769.29, "assertionResults": [{}] * 27},
        {"name": "src/b.test.ts", "startTime": 5, "endTime": 5, "assertionResults": []}]}))
    rep2.write_text(json.dumps({"testResults": [
        {"name": str(root / "src/a.test.ts"), "startTime": 0, "endTime": 1322.38, "assertionResults": [{}]}]}))
    cp = hl("timings", "update", "--report", rep1, rep2, cwd=root)
    assert cp.returncode == 0, cp.stderr
    doc = json.loads((root / "test/fixtures/test-timings.unit.json").read_text())
    assert doc["files"] == {"src/a.test.ts": {"durationMs": 1322.38, "testCount": 1}}  # b: zero duration, dropped
    assert cp.stdout.splitlines() == ["timing src/a.test.ts 1322.38ms tests=1 (new)",
                                      "wrote 1 timings to test/fixtures/test-timings.unit.json"]


@pytest.mark.parametrize("cmd", ["hotspots", "timings"])
def test_bad_input_is_one_line_exit_2(cmd, tmp_path):
    root = suite(tmp_path / "s", [])
    out = root / "out.json"
    empty = tmp_path / "empty-run"
    empty.mkdir()
    notjson = tmp_path / "bad" / "run.json"
    notjson.parent.mkdir()
    notjson.write_text("{ nope")
    other = tmp_path / "other.json"
    other.write_text('{"schema": "something.else"}')
    cases = {
        ("--from", tmp_path / "missing"): "no run record at",
        ("--from", empty): "holds no run.json (not a heaplens run directory)",
        ("--from", notjson): "not valid JSON",
        ("--from", other): "not a heaplens run record",
        (): "needs",
    }
    for args, msg in cases.items():
        err = one_line_error(hl(cmd, "update", "--out", out, *args, cwd=root))
        assert msg in err, (args, err)
    assert not out.exists()
    # an existing manifest of the wrong shape is not overwritten
    out.write_text('{"files": []}\n')
    run = tmp_path / "r"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"schema": "heaplens.run", "schema_version": 1, "run_id": "r",
                                              "lanes": {}}))
    err = one_line_error(hl(cmd, "update", "--out", out, "--from", run, cwd=root))
    assert "has the wrong schema" in err and out.read_text() == '{"files": []}\n'
    if cmd == "timings":
        (tmp_path / "rep.json").write_text('{"numTotalTests": 1}')
        err = one_line_error(hl(cmd, "update", "--report", tmp_path / "rep.json", cwd=root))
        assert "is not a Vitest JSON report" in err
    else:
        err = one_line_error(hl(cmd, "update", "--log", tmp_path / "nolog.txt", cwd=root))
        assert "cannot read the log" in err
