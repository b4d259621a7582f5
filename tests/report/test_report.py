"""`heaplens diagnose RUN_DIR` and `heaplens report RUN_DIR` on a real run of a leaking Vitest suite."""

from __future__ import annotations

import json

from helpers import heaplens as hl


def _diagnosis(run) -> dict:
    cp = hl("diagnose", run, "--format", "json", cwd=run)
    assert cp.returncode == 0, cp.stderr
    return json.loads(cp.stdout)


def test_diagnose_run_dir_names_the_leak_and_its_holder(leak_run):
    doc = _diagnosis(leak_run["run"])
    assert doc["schema"] == "heaplens.diagnosis"
    [w] = doc["workers"]  # one lane, one worker
    assert w["lane"] == "unit-fast"
    assert len(w["snapshots"]) >= 2 and w["before"] != w["after"]
    [f] = w["findings"]  # one cause
    assert f["kind"] == "runtime-leak"
    assert {k: f["holder"][k] for k in ("kind", "variable", "file", "line", "type")} == {
        "kind": "variable", "variable": "sessionCache", "file": "src/cache.js", "line": 1, "type": "Map"}
    # every SessionRecord created between the two snapshots is held there (4,000 per file)
    rec = next(c for c in f["classes"] if c["name"] == "SessionRecord")
    assert rec["count"] % 4000 == 0 and rec["count"] >= 4000
    assert f["fix"]["kind"] == "map-clear" and "sessionCache.clear()" in f["fix"]["text"]
    assert f["fix"]["files"] and all(x.startswith("test/leak") for x in f["fix"]["files"])
    # per file, projected over the lane's 7 files, against the worker's heap limit
    assert f["files_in_lane"] == 7 and f["per_file"] > 0 and f["projected"] >= f["per_file"]
    assert f["severity"] == "mild" and "over the 7 files of the lane: mild" in f["severity_text"]
    assert f["confidence"] >= 0.95
    assert w["trace"]["files"] == 7


def test_report_markdown_has_the_six_items(leak_run, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    cp = hl("report", leak_run["run"], "--format", "markdown", cwd=leak_run["suite"],
            env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert cp.returncode == 0, cp.stderr
    md = cp.stdout
    for item in ("1. **Reproduce:**", "2. **Compared:** lane `unit-fast`", "3. **Dominant families**",
                 "4. **Findings**", "runtime leak held by \\`sessionCache\\` (src/cache.js:1)",
                 "fix (`map-clear`)", "6. **Verified:**"):
        assert item in md, item
    assert "heaplens run --workers 1 --snapshots --lane unit-fast" in md
    assert "SessionRecord" in md
    # appended to the job summary, after what was there
    assert summary.read_text() == "earlier step\n" + md
    assert (leak_run["run"] / "report.json").is_file()


def test_report_json_terminal_and_reuse(leak_run):
    cp = hl("report", leak_run["run"], "--format", "json", cwd=leak_run["suite"])
    assert cp.returncode == 0, cp.stderr
    doc = json.loads(cp.stdout)
    assert doc["schema"] == "heaplens.report" and doc["schema_version"] == 2
    assert doc["verdicts"] == {"runtime leak": 1} and doc["counts"]["findings"] == 1
    [lane] = doc["lanes"]
    assert lane["name"] == "unit-fast" and lane["summary"]["files"] == 7
    tl = lane["timeline"]
    assert len(tl["files"]) == 7 and tl["samples"] and tl["snapshots"]
    [f] = doc["findings"]
    assert f["lane"] == "unit-fast" and f["fix"]["kind"] == "map-clear" and f["holder"]["variable"] == "sessionCache"
    [w] = doc["workers"]
    assert w["findings"] == [{k: v for k, v in f.items() if k not in ("lane", "pid", "tid")}]
    assert w["verified"] and w["reproduce"].endswith("--lane unit-fast")
    # diagnose RUN gives the same findings (one answer per run)
    assert _diagnosis(leak_run["run"])["workers"][0]["findings"] == w["findings"]
    # the saved model is reused: the same document comes back
    again = json.loads(hl("report", leak_run["run"], "--format", "json", cwd=leak_run["suite"]).stdout)
    assert again["generated_at"] == doc["generated_at"]
    term = hl("report", leak_run["run"], cwd=leak_run["suite"])
    assert term.returncode == 0
    assert "unit-fast pid" in term.stdout and "runtime leak held by `sessionCache`" in term.stdout


def test_trace_only_run_says_what_it_could_not_verify(trace_only_run):
    cp = hl("report", trace_only_run["run"], "--format", "json", cwd=trace_only_run["suite"])
    assert cp.returncode == 0, cp.stderr
    doc = json.loads(cp.stdout)
    assert doc["findings"] == []
    [w] = doc["workers"]
    assert w["snapshots"] == [] and w["before"] is None and w["findings"] == []
    # 6 files x 4,000 records of ~2 KiB: the RSS grows, but without snapshots there is no verdict
    assert w["trace"]["rss_growth"] > 32 * 2**20
    assert w["verdict"] == "no snapshot pair"
    assert any("rerun with snapshots" in n for n in w["notes"])
    assert any("no snapshot pair" in n for n in w["not_verified"])


def test_bad_run_dir_is_one_line_exit_2(tmp_path):
    for cmd in (("report", tmp_path), ("diagnose", tmp_path)):
        cp = hl(*cmd, cwd=tmp_path)
        assert cp.returncode == 2
        assert cp.stderr.strip().count("\n") == 0 and "not a heaplens run directory" in cp.stderr
    (tmp_path / "run.json").write_text('{"schema": "heaplens.run", "schema_version": 99}')
    cp = hl("report", tmp_path, cwd=tmp_path)
    assert cp.returncode == 2 and "newer" in cp.stderr
    cp = hl("diagnose", tmp_path, "--lane", "nope", cwd=tmp_path)
    assert cp.returncode == 2


def test_reproduce_command_turns_env_options_into_flags():
    """Options that came from HEAPLENS_*/OPENCLAW_TEST_* variables are written as the flags with the
    recorded values (the variables may be gone where the report is read); investigate becomes run."""
    from heaplens.report.model import reproduce_command
    from heaplens.runner.record import RunRecord

    rec = RunRecord(run_id="r", argv=["heaplens", "investigate", "--workers", "1", "--apply", "--", "--reporter", "dot"],
                    root="/suite dir",
                    options={"snapshot_interval": 60.0, "max_old_space_mb": 6144, "trace": False, "workers": 1,
                             "shard": [2, 3], "poll_ms": 1000, "runs_dir": "/tmp/runs", "grace": 9.0},
                    option_sources={"snapshot_interval": "env OPENCLAW_TEST_HEAPSNAPSHOT_INTERVAL_MS",
                                    "max_old_space_mb": "env OPENCLAW_TEST_MAX_OLD_SPACE_SIZE_MB",
                                    "trace": "env HEAPLENS_TRACE", "workers": "cli", "shard": "env HEAPLENS_SHARD",
                                    "poll_ms": "default", "runs_dir": "env HEAPLENS_RUNS_DIR",
                                    "grace": "heaplens.toml"})
    # env and heaplens.toml values become flags; defaults and where-files-go options do not
    assert reproduce_command(rec) == ("cd '/suite dir' && heaplens run --workers 1 --snapshot-interval 60 "
                                      "--max-old-space-mb 6144 --no-trace --shard 2/3 --grace 9 -- --reporter dot")
    assert reproduce_command(rec, "unit-fast").startswith(
        "cd '/suite dir' && heaplens run --workers 1 --lane unit-fast --snapshot-interval 60")
    # investigate's own snapshot interval (5 s, source "cli" after investigate set it) stays on the command
    rec.options["snapshot_interval"], rec.option_sources["snapshot_interval"] = 5.0, "cli"
    rec.argv = ["heaplens", "investigate", "--snapshot-interval", "5"]
    assert "--snapshot-interval 5" in reproduce_command(rec)


def test_growth_after_the_last_snapshot_is_said(leak_run):
    """The trace cross-check: without the worker's last snapshot, the files after the one left grew the heap
    (GC-settled, per file) — the diagnosis says the pair does not cover them."""
    from heaplens.diagnose import load_rules
    from heaplens.diagnose.run import _snapshot_entries, diagnose_worker, worker_snapshots
    from heaplens.runner.record import RunRecord

    rec = RunRecord.load(leak_run["run"])
    [(name, lane)] = rec.lanes.items()
    [(key, snaps)] = worker_snapshots(lane).items()
    # by design, not by timing: the first file's collection and end, the last file's end (never budgeted)
    written = [(w.reason, w.at) for w in lane.snapshots.written]
    assert written[:2] == [("first", "collected"), ("first", "end")] and written[-1][0] == "last", written
    assert len(snaps) >= 3, snaps
    files = sorted((f.to_json() for f in lane.files), key=lambda f: f["end_ms"])
    _paths, times = _snapshot_entries(lane)
    w = diagnose_worker(snaps[:2], load_rules(), lane=name, files=files, lane_rec=lane, root=rec.root, times=times)
    cov = w.coverage
    assert cov["files_after"] >= 1 and cov["heap_after"] >= 4000 * 2000  # 4,000 records of ~2 KiB per file
    assert cov["uncovered"].startswith(f"not covered: {cov['files_after']} file(s) ran after the last snapshot")
    assert w.notes[0] == cov["uncovered"]
    assert w.verdict != "no significant growth"


def test_multi_line_fix_text_and_manifest_diff_are_rendered_line_by_line(leak_run):
    """A manifest diff (the fix layer's real dry-run edit) and a fix text in several lines are printed one
    line each — never as one line of literal `\\n` — and every line is still escaped."""
    from heaplens.fix.behavior import isolate
    from heaplens.report import RENDERERS

    cp = hl("report", leak_run["run"], "--format", "json", cwd=leak_run["suite"])
    doc = json.loads(cp.stdout)
    diff = isolate(leak_run["suite"], ["test/leak1.test.js", "test/leak2.test.js"], dry_run=True).diff
    assert diff.count("\n") >= 3 and not (leak_run["suite"] / "test" / "behavior.json").exists()
    [w] = doc["workers"]
    fix = w["findings"][0]["fix"]
    fix["kind"] = "isolate"  # (Markdown shows the diff of an isolation fix)
    fix["manifest_diff"] = diff.replace("leak2", "leak2\x1b[31m")  # a control character inside one line
    fix["text"] = "first line\nsecond line\x07"
    text = RENDERERS["text"](doc, color=False)
    assert "\\n" not in text and "\x1b" not in text and "\x07" not in text
    lines = text.splitlines()
    for line in diff.rstrip("\n").split("\n"):
        want = line.replace("leak2", "leak2\\u001b[31m")
        assert any(x.strip() == want.strip() for x in lines), want
    assert any(x.strip().endswith("first line") for x in lines)
    assert any(x.strip() == "second line\\u0007" for x in lines)
    md = RENDERERS["markdown"](doc, color=False)
    assert "\x1b" not in md
    md_lines = [x.strip() for x in md.splitlines()]
    for line in diff.rstrip("\n").split("\n"):
        assert line.replace("leak2", "leak2\\u001b[31m").strip() in md_lines, line
    # the report's own text form (diagnose RUN): the fix text too
    from heaplens.report.terminal import render_diagnosis
    dg = render_diagnosis({"run": doc["run"], "workers": doc["workers"]})
    assert "second line\\u0007" in dg and "\\n" not in dg


def test_one_answer_per_run_cached_and_rebuilt(leak_run):
    """issue 11.4: `diagnose RUN`, `report RUN` (the cached report.json) and `report RUN --rebuild` (the
    diagnosis made again from the snapshots) give the same findings."""
    def findings(doc):
        return [(w["lane"], w["pid"], w["findings"]) for w in doc["workers"]]

    cached = json.loads(hl("report", leak_run["run"], "--format", "json", cwd=leak_run["suite"]).stdout)
    diagnosed = _diagnosis(leak_run["run"])
    cp = hl("report", leak_run["run"], "--format", "json", "--rebuild", cwd=leak_run["suite"])
    assert cp.returncode == 0, cp.stderr
    rebuilt = json.loads(cp.stdout)
    assert rebuilt["generated_at"] != cached["generated_at"]  # really made again
    assert findings(rebuilt)[0][2], "the leak is found"
    assert findings(cached) == findings(diagnosed) == findings(rebuilt)
    assert [w["verdict"] for w in rebuilt["workers"]] == [w["verdict"] for w in diagnosed["workers"]]
