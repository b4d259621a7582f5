"""`heaplens baseline save` and `heaplens check` on real runs of a real Vitest suite (tests/workflow/fixtures/ci-suite):
the baseline's figures are the runs' GC-settled per-file lines, an unchanged rerun passes, a planted leak fails
naming its file, its lane and the new finding, and a baseline made differently is flagged (or refused)."""

from __future__ import annotations

import dataclasses
import json
import statistics
import subprocess
from pathlib import Path

import pytest

from conftest import EVERY, PLANTED, run_suite
from heaplens.runner.record import RunRecord
from heaplens.units import fmt_size
from heaplens.workflow.baseline import (
    Baseline,
    Thresholds,
    Unit,
    _differences,
    _first,
    _Starts,
    file_key,
    measure,
    parse_growth,
    parse_size,
    settled_groups,
    start_bounds,
    start_cost,
)
from helpers import heaplens

FILES = 10
MiB = 1024 * 1024


def _raw(run: Path) -> dict:
    return json.loads((run / "run.json").read_text())


def _settled_growth(run: Path) -> dict[str, tuple[int, int]]:
    """The reference: each file's GC-settled heap and external growth, straight from the record's settled lines."""
    out = {}
    for lane in _raw(run)["lanes"].values():
        for f in lane["files"]:
            s, e = f["settled_start"], f["settled_end"]
            out[f["file"]] = (e["heap_used"] - s["heap_used"], e["external"] - s["external"])
    return out


def test_baseline_file_holds_each_runs_settled_figures(unchanged, baseline):
    text = baseline.read_text()
    doc = json.loads(text)
    assert doc["schema"] == "heaplens.baseline" and doc["schema_version"] == 2 and doc["spans"] == []
    assert list(doc) == sorted(doc)  # sorted keys
    # one line per file, lane, run and finding: a change reads as a one-line diff in review
    lines = text.splitlines()
    for key in doc["files"]:
        assert sum(1 for line in lines if line.startswith(f'    "{key}": {{')) == 1
    entries = [line for line in lines if line.startswith("    ")]
    assert len(entries) == len(doc["files"]) + len(doc["lanes"]) + len(doc["runs"]) + len(doc["findings"])
    assert all(json.loads("{" + e.strip().rstrip(",") + "}") if e.strip().startswith('"') else json.loads(
        e.strip().rstrip(",")) for e in entries)
    assert len(text) < 6000  # small
    # what made it
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    assert (doc["runner"], doc["runner_version"], doc["node"]) == ("vitest", "5.1.2", node)
    assert doc["heaplens"] and len(doc["config_digest"]) == 16
    assert doc["config"]["projects"][0]["isolate"] is False and doc["config"]["projects"][0]["max_workers"] == 2
    assert "peak_rss" in doc["peak"]
    # the figures: every file, each run's value, exactly the record's settled lines
    assert len(doc["files"]) == FILES and [r["run_id"] for r in doc["runs"]] == [r.name for r in unchanged["runs"][:2]]
    for i, run in enumerate(unchanged["runs"][:2]):
        ref = _settled_growth(run)
        assert {k: (v["heap"][i], v["external"][i]) for k, v in doc["files"].items()} == ref
        lane = doc["lanes"]["unit-fast"]
        assert lane["heap"][i] == sum(h for h, _ in ref.values())
        workers = _raw(run)["lanes"]["unit-fast"]["workers"].values()
        assert lane["peak_rss"][i] == max(w["peak_rss"] for w in workers) and lane["files"][i] == FILES
    assert all(v["lane"] == "unit-fast" for v in doc["files"].values())
    # the suite's known leak, found in both runs
    leak = [f for f in doc["findings"] if f["variable"] == "sessionCache"]
    assert leak and leak[0]["file"] == "src/sessions.js" and leak[0]["kind"] == "runtime-leak" and leak[0]["runs"] == 2
    # the one-line form is the same document
    assert Baseline.load(baseline).to_json() == {k: v for k, v in doc.items()}


def test_check_passes_on_an_unchanged_rerun(unchanged, baseline):
    cp = heaplens("check", unchanged["runs"][2], "--baseline", baseline, cwd=unchanged["suite"])
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert cp.stdout.startswith(f"heaplens check {unchanged['runs'][2].name}: passed")
    assert "compared 10 file(s), 1 lane(s), 1 finding(s)" in cp.stdout
    js = heaplens("check", unchanged["runs"][2], "--baseline", baseline, "--format", "json", cwd=unchanged["suite"])
    doc = json.loads(js.stdout)
    assert js.returncode == 0 and doc["passed"] is True and doc["regressions"] == [] and doc["flags"] == []
    assert Path(doc["report"]).is_file()  # the link is to the run's report


def test_a_file_that_ran_first_in_its_worker_is_compared_with_first_files(unchanged, baseline, tmp_path):
    """A worker's first file is measured from the worker's start: its figure also holds what the worker's first
    test run leaves once (code compiled on first use, the runner's first-run state: ~1 MiB on Vitest 5). A rerun
    without the two files that ran first in the baseline's runs makes two others first — one of them may be
    sessions.test.js, with its known leak: their baseline figures get the worker's start added (the lane's first
    files less its others), the lane's sum as many starts as this run's, and an unchanged suite passes."""
    doc = json.loads(baseline.read_text())
    first = {k for k, e in doc["files"].items() if any(e.get("first") or [])}
    assert first  # the files that ran first in a worker of a baseline run
    rest = sorted(k for k in doc["files"] if k not in first)
    run = run_suite(unchanged["suite"], tmp_path / "runs", "--snapshots", *EVERY, *rest)
    js = heaplens("check", run, "--baseline", baseline, "--format", "json", cwd=unchanged["suite"])
    out = json.loads(js.stdout)
    assert js.returncode == 0 and out["passed"], out["regressions"]
    note = next(n for n in out["notes"] if "ran first in their worker here, not in every baseline run" in n)
    now_first = {f["file"] for lane in _raw(run)["lanes"].values() for f in lane["files"]
                 if f["settled_base"] == "collected"}
    assert now_first and note.startswith(f"{len(now_first)} file(s) ") and all(k in note for k in now_first)


def test_check_fails_on_a_planted_leak_naming_the_file(unchanged, baseline, planted):
    cp = heaplens("check", planted["run"], "--baseline", baseline, cwd=planted["suite"])
    assert cp.returncode == 1, cp.stdout + cp.stderr
    out = cp.stdout
    assert out.startswith(f"heaplens check {planted['run'].name}: FAILED")
    fails = [line for line in out.splitlines() if line.startswith("  FAIL  ")]
    assert fails[0].startswith("  FAIL  test/orders.test.js (lane unit-fast) leaves +")
    assert any("new finding: runtime leak held by `auditLog` (src/audit.js:2)" in line for line in fails)
    assert any(line.startswith("  FAIL  lane unit-fast leaves +") for line in fails)
    assert f"report: {planted['run'].resolve()}/report.html" in out
    doc = json.loads(heaplens("check", planted["run"], "--baseline", baseline, "--format", "json").stdout)
    regs = {(r["what"], r["name"], r["metric"]) for r in doc["regressions"]}
    assert ("file", "test/orders.test.js", "heap") in regs
    # only the leaking file among the files: the nine others stay within the rule
    assert [r["name"] for r in doc["regressions"] if r["what"] == "file"] == ["test/orders.test.js"]
    orders = next(r for r in doc["regressions"] if r["name"] == "test/orders.test.js")
    ref = _settled_growth(planted["run"])["test/orders.test.js"][0]
    assert orders["current"] == ref and ref > 10 * MiB  # 50,000 audit entries
    bdoc = json.loads(baseline.read_text())
    base = list(bdoc["files"]["test/orders.test.js"]["heap"])
    # a baseline run that measured orders otherwise (first in its worker there and not here, or the reverse):
    # its figure with that run's worker start (its smallest first file less its others' lower median) off or added
    first_now = any(f["file"] == "test/orders.test.js" and f["settled_base"] == "collected"
                    for lane in _raw(planted["run"])["lanes"].values() for f in lane["files"])
    for i in range(len(base)):
        was_first = bool((bdoc["files"]["test/orders.test.js"].get("first") or [False] * 2)[i])
        if was_first != first_now:
            ff = [e["heap"][i] for e in bdoc["files"].values() if (e.get("first") or [False] * 2)[i]]
            oo = [e["heap"][i] for e in bdoc["files"].values() if not (e.get("first") or [False] * 2)[i]]
            w = max(0.0, (float(min(ff)) - float(statistics.median_low([o for o in oo if o is not None]))))
            base[i] = base[i] + (w if first_now else -w)
    assert orders["baseline"] == pytest.approx(sorted(base)[0] + (sorted(base)[1] - sorted(base)[0]) / 2)
    assert orders["allowed"] == pytest.approx(max(MiB, 3 * (max(base) - min(base)), 0.1 * abs(orders["baseline"])))
    finding = next(r for r in doc["regressions"] if r["what"] == "finding")
    assert (finding["file"], finding["line"], finding["metric"]) == ("src/audit.js", 2, "new")
    assert "test/orders.test.js" in finding["test_files"]
    # Markdown: a table row for the file (and nothing else on stdout)
    md = heaplens("check", planted["run"], "--baseline", baseline, "--format", "markdown")
    assert md.returncode == 1 and md.stdout.startswith("### heaplens check ❌")
    assert any(line.startswith("| `test/orders.test.js` | unit-fast | heap | +") for line in md.stdout.splitlines())


def test_annotations_on_the_flagged_files(planted, baseline, tmp_path):
    summary = tmp_path / "summary.md"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(planted["suite"].parent),
           "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_SERVER_URL": "https://github.com",
           "GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "42"}
    cp = heaplens("check", planted["run"], "--baseline", baseline, "--format", "markdown", env=env, cwd=tmp_path)
    assert cp.returncode == 1
    # beside a machine-readable document the workflow commands go to stderr; stdout is the document only
    assert "::" not in cp.stdout.replace("heaplens check", "")
    ann = [line for line in cp.stderr.splitlines() if line.startswith("::")]
    # paths relative to the repository ($GITHUB_WORKSPACE), properties escaped
    assert ann[0].startswith("::error file=suite/test/orders.test.js,title=heaplens check%3A memory regression::")
    assert any(a.startswith("::error file=suite/src/audit.js,line=2,title=") for a in ann)
    assert any(a.startswith("::warning file=suite/test/orders.test.js,title=") and "adds to the new finding" in a
               for a in ann)
    assert all("\n" not in a for a in ann)
    assert "[CI run and its artifacts](https://github.com/acme/shop/actions/runs/42)" in cp.stdout
    assert summary.read_text() == cp.stdout  # the step summary
    # not in GitHub Actions: no workflow command unless asked for
    plain = heaplens("check", planted["run"], "--baseline", baseline)
    assert "::error" not in plain.stdout + plain.stderr


def test_a_baseline_made_differently_is_flagged_or_refused(unchanged, baseline, tmp_path):
    # a real run made differently: no heap snapshots (the config's `snapshots` and the findings differ)
    run = run_suite(unchanged["suite"], tmp_path / "runs")
    cp = heaplens("check", run, "--baseline", baseline, cwd=unchanged["suite"])
    flags = [line for line in cp.stdout.splitlines() if line.startswith("  flag  ")]
    assert flags[0].startswith("  flag  the baseline was made differently (config ")
    assert "snapshots true → false" in flags[0] and "compared anyway" in flags[0]
    assert "findings not compared: this run measured no findings" in cp.stdout
    assert cp.returncode == 0, cp.stdout  # still compared: peak RSS without snapshots is lower, heap the same
    strict = heaplens("check", run, "--baseline", baseline, "--strict", cwd=unchanged["suite"])
    assert strict.returncode == 2 and strict.stdout == ""
    assert strict.stderr.startswith("heaplens: error: the baseline ") and strict.stderr.count("\n") == 1
    assert "--strict refuses to compare" in strict.stderr
    # a baseline's runs must have been made alike
    mixed = heaplens("baseline", "save", unchanged["runs"][0], run, "-o", tmp_path / "b.json")
    assert mixed.returncode == 2 and "the runs differ" in mixed.stderr and not (tmp_path / "b.json").exists()


def test_versions_are_compared(unchanged):
    fig = measure(unchanged["runs"][0])
    same = _differences(fig.runner, fig.runner_version, fig.node, fig.heaplens, fig.digest, fig.config, fig)
    assert same == []
    other = dataclasses.replace(fig, runner_version="5.2.0", node="v22.1.0")
    diff = _differences(fig.runner, fig.runner_version, fig.node, fig.heaplens, fig.digest, fig.config, other)
    assert diff == ["vitest 5.1.2 vs vitest 5.2.0", f"node {fig.node} vs v22.1.0"]


def test_the_rule():
    th = Thresholds()
    # the floor, the spread and the share of the baseline figure: the largest wins
    assert th.allowed("heap", 100 * 1024, 0) == MiB
    assert th.allowed("heap", 100 * 1024, MiB) == 3 * MiB
    assert th.allowed("heap", 50 * MiB, 0) == 5 * MiB
    assert th.allowed("peak_rss", 200 * MiB, 0) == 64 * MiB
    assert Thresholds(growth_pct=None, growth_bytes=4 * MiB).allowed("heap", 50 * MiB, 0) == 4 * MiB
    assert parse_growth("10%,2MiB") == (10.0, 2 * MiB) and parse_growth("25%") == (25.0, None)
    assert parse_size("512KiB") == 512 * 1024 and parse_size("1.5G") == int(1.5 * 1024**3) and parse_size("77") == 77
    for bad in ("", "abc", "-5%", "5 parsecs"):
        with pytest.raises(ValueError):
            parse_growth(bad)


def test_options_change_the_verdict(planted, baseline):
    # the leak is ~24 MiB: a 64 MiB floor lets the file pass, the new finding still fails the check
    cp = heaplens("check", planted["run"], "--baseline", baseline, "--floor", "64MiB", "--format", "json")
    doc = json.loads(cp.stdout)
    assert cp.returncode == 1 and not [r for r in doc["regressions"] if r["what"] == "file"]
    assert doc["thresholds"]["floor"] == 64 * MiB
    assert fmt_size(64 * MiB) in doc["rule"]
    cp = heaplens("check", planted["run"], "--baseline", baseline, "--floor", "64MiB", "--rss-floor", "1GiB",
                  "--no-retainers", "--format", "json")
    assert cp.returncode == 0, cp.stdout
    bad = heaplens("check", planted["run"], "--baseline", baseline, "--max-growth", "lots")
    assert bad.returncode == 2 and "--max-growth" in bad.stderr


@pytest.mark.parametrize("text, message", [
    ("not json", "is not valid JSON"),
    ('{"schema": "heaplens.run"}', "not a heaplens baseline (schema"),
    ('{"schema": "heaplens.baseline", "schema_version": 99, "runs": []}', "newer than this heaplens"),
    ('{"schema": "heaplens.baseline", "schema_version": 1, "runs": [{}], "files": {"a": {"heap": [1, 2]}}}',
     "files.a.heap: expected a list of 1 value(s)"),
    ('{"schema": "heaplens.baseline", "schema_version": 1, "runs": [{}], "lanes": {"x": {"heap": ["\\u001b[2J"]}}}',
     "lanes.x.heap: expected int"),
    ('{"schema": "heaplens.baseline", "schema_version": 2, "runs": [{}], "spans": [{"run": 1, "files": ["a", "b"]}]}',
     "spans[0].run: expected a run index from 0 to 0"),
    ('{"schema": "heaplens.baseline", "schema_version": 2, "runs": [{}], "spans": [{"run": 0, "files": ["a"]}]}',
     "spans[0].files: expected a list of two or more file keys"),
    ('{"schema": "heaplens.baseline", "schema_version": 2, "runs": [{}], "spans": [{"run": 0, "files": ["a", "b"], '
     '"heap": "1"}]}', "spans[0].heap: expected an integer or null"),
])
def test_a_malformed_baseline_is_one_line(unchanged, tmp_path, text, message):
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    cp = heaplens("check", unchanged["runs"][2], "--baseline", bad)
    assert cp.returncode == 2 and cp.stdout == "" and cp.stderr.count("\n") == 1, cp.stderr
    assert cp.stderr.startswith("heaplens: error: ") and message in cp.stderr and "\x1b" not in cp.stderr
    missing = heaplens("check", unchanged["runs"][2], "--baseline", tmp_path / "nope.json")
    assert missing.returncode == 2 and "heaplens baseline save RUN writes one" in missing.stderr


def test_show_formats(baseline):
    cp = heaplens("baseline", "show", baseline)
    assert cp.returncode == 0 and cp.stdout.startswith(f"[heaplens] baseline {baseline}: 2 run(s), 1 lane(s), 10 file(s)")
    js = heaplens("baseline", "show", baseline, "--format", "json")
    assert js.stdout == baseline.read_text()


# --- the GC budget: files measured together (spans) ------------------------------------------------------------


def _spans_of(run: Path) -> list[tuple[list[str], int]]:
    """The reference: each span straight from the record — the files a worker ran from the one after its previous
    settled end to a settled end, with the heap between those two settled lines."""
    out = []
    for lane in RunRecord.load(run).lanes.values():
        for files in lane.files_by_worker().values():
            files = sorted(files, key=lambda f: f.index)
            start = 0
            for i, f in enumerate(files):
                if f.settled_end is None:
                    continue
                members = [file_key(x.file, x.project) for x in files[start:i + 1]]
                out.append((members, f.settled_end.heap_used - f.settled_start.heap_used))
                start = i + 1
    return out


def test_the_spans_are_measured_as_spans(budgeted):
    fig = measure(budgeted["run"], retainers=False)
    ref = _spans_of(budgeted["run"])
    assert sorted((s.files, s.heap) for s in fig.spans) == sorted(x for x in ref if len(x[0]) > 1)
    assert fig.spans  # a budget of 0 leaves each worker's files between its first and its last as one span
    for s in fig.spans:  # a file in a span has no figure of its own
        assert all(fig.files[k].heap is None and fig.files[k].span is not None for k in s.files)
    singles = {x[0][0]: x[1] for x in ref if len(x[0]) == 1}
    assert {k: f.heap for k, f in fig.files.items() if f.span is None} == singles
    # a baseline of it keeps the spans, one line each, and reads back the same
    out = budgeted["run"].parent / "spans-baseline.json"
    cp = heaplens("baseline", "save", budgeted["run"], "-o", out, "--no-retainers")
    assert cp.returncode == 0, cp.stderr
    doc = json.loads(out.read_text())
    assert sorted((sp["files"], sp["heap"]) for sp in doc["spans"]) == sorted((s.files, s.heap) for s in fig.spans)
    assert all(doc["files"][k]["heap"] == [None] for sp in doc["spans"] for k in sp["files"])
    assert doc["lanes"]["unit-fast"]["heap"] == [sum(h for _, h in ref)]
    assert sum(1 for line in out.read_text().splitlines() if line.startswith('    {"external": ')) == len(fig.spans)
    assert Baseline.load(out).to_json() == doc


def test_groups_are_the_smallest_unions_of_whole_spans(budgeted, unchanged):
    now, base = measure(budgeted["run"], retainers=False), measure(unchanged["runs"][0], retainers=False)
    groups = settled_groups([now.units(), base.units()])
    for s in now.spans:  # a span is inside one group
        assert len({groups[k] for k in s.files}) == 1
    # the slow, obvious reference: grow each file's group until no span of either run crosses it
    spans = [set(s.files) for s in now.spans + base.spans]
    for k in now.files:
        g = {k}
        while True:
            more = set().union(g, *[sp for sp in spans if sp & g])
            if more == g:
                break
            g = more
        assert groups.get(k, frozenset([k])) == g


def test_check_of_a_budgeted_run_passes_when_nothing_changed(budgeted, baseline):
    """The regression this replaced: a span's growth compared with its last file's — a false failure."""
    cp = heaplens("check", budgeted["run"], "--baseline", baseline, "--format", "json")
    doc = json.loads(cp.stdout)
    assert cp.returncode == 0 and doc["passed"] and doc["regressions"] == [], cp.stdout


def test_check_of_a_budgeted_run_names_the_files_measured_together(budgeted, baseline):
    cp = heaplens("check", budgeted["planted"], "--baseline", baseline, "--format", "json")
    doc = json.loads(cp.stdout)
    assert cp.returncode == 1
    fig = measure(budgeted["planted"], retainers=False)
    singles = [r for r in doc["regressions"] if r["what"] == "file"]
    groups = [r for r in doc["regressions"] if r["what"] == "files"]
    # three files leak; two workers settle only their first file alone: at least one is in a group
    assert groups, doc["regressions"]
    for r in singles:  # a file flagged on its own had a figure of its own, and leaks
        assert r["name"] in PLANTED and fig.files[r["name"]].span is None
    for r in groups:  # a group holds a leaking file, is said to be measured together, and is its spans' sum
        assert set(r["files"]) & set(PLANTED) and len(r["files"]) >= 2
        assert "measured together" in r["text"] and "--gc-overhead off" in r["text"]
        assert r["text"].startswith(f"{len(r['files'])} files measured together (")
        members = set(r["files"])
        assert r["current"] == sum(s.heap for s in fig.spans if set(s.files) <= members) + sum(
            fig.files[k].heap for k in members if fig.files[k].span is None)
    assert {p for r in singles for p in [r["name"]]} | {p for r in groups for p in r["files"] if p in PLANTED} \
        == set(PLANTED)
    # the text never says that one file grew by what a group grew
    text = heaplens("check", budgeted["planted"], "--baseline", baseline).stdout
    for line in text.splitlines():
        if line.startswith("  FAIL  test/"):
            name = line[len("  FAIL  "):].split(" (lane")[0]
            assert name in {r["name"] for r in singles}, line
    md = heaplens("check", budgeted["planted"], "--baseline", baseline, "--format", "markdown").stdout
    assert any(", measured together |" in line for line in md.splitlines())


def test_a_budgeted_baselines_start_cost_is_its_own(budgeted, planted):
    """A baseline run under a GC budget of 0 measures alone only its workers' first files (and a last one that
    closes no span). The start cost it takes off (or adds to) a file that ran first in one run and not in the other
    comes from its own spans' growth per file — never from the run checked, whose first files may be the regression
    itself: a clean file that ran first in the baseline run was flagged when every first file of the checked run
    leaked (session 7)."""
    base = Baseline.from_runs([measure(budgeted["run"], retainers=False)])
    now = measure(planted["run"], retainers=False)
    firsts = [e["heap"][0] for e in base.files.values() if _first(e, 0)]
    alone = [e["heap"][0] for e in base.files.values() if not _first(e, 0) and e["heap"][0] is not None]
    per_file = [sp["heap"] / len(sp["files"]) for sp in base.spans if sp["heap"] is not None]
    assert firsts and per_file, (firsts, base.spans)
    own = start_cost(base, "unit-fast", "heap", 0)
    assert own is not None
    assert start_cost(base, "unit-fast", "heap", 0, now) == own
    # the smallest first file less the lower median of every other figure's growth per file (alone or a span's)
    assert own == pytest.approx(max(0.0, min(firsts) - statistics.median_low(alone + per_file)))


def test_a_span_holding_a_known_leak_does_not_hide_the_start_cost():
    """A budgeted run of two workers: each settles its first file alone (start + own growth) and the rest as one
    span; one span holds the suite's known leak. The start cost is the first file less a clean file's growth —
    not the mean of the two spans' growth per file, which put half the leak in it and made the start cost 0: a
    group that held a first file in the run checked then read as a regression of one start (~1 MiB) plus noise."""
    K = 1024
    doc = {"schema": "heaplens.baseline", "schema_version": 2, "runs": [{"run_id": "r"}],
           "files": {"a": {"lane": "l", "heap": [900 * K], "first": [True]},
                     "b": {"lane": "l", "heap": [950 * K], "first": [True]},
                     **{k: {"lane": "l", "heap": [None]} for k in "cdefghij"}},
           "spans": [{"run": 0, "lane": "l", "files": list("cdef"), "heap": 4 * 150 * K},
                     {"run": 0, "lane": "l", "files": list("ghij"), "heap": 4 * 150 * K + 7 * MiB}]}
    base = Baseline._from_doc(doc)
    assert start_cost(base, "l", "heap", 0) == 750 * K
    # with files measured one by one as well (a leaking one among them): every figure's growth per file counts
    # once — 100, 150, 200 KiB, the leaking span's ~1.9 MiB, 7 MiB — and the lower median is a clean file's
    doc["files"].update({"k": {"lane": "l", "heap": [7 * MiB]}, "m": {"lane": "l", "heap": [100 * K]},
                         "n": {"lane": "l", "heap": [200 * K]}})
    assert start_cost(Baseline._from_doc(doc), "l", "heap", 0) == 700 * K
    assert start_bounds(Baseline._from_doc(doc), "l", "heap", 0) == (700 * K, 700 * K)


def test_a_start_cost_from_one_figure_is_known_only_within_bounds():
    """A budgeted run whose one worker ran a single file and the other its first file alone and the eight others
    in one span, with the suite's known leak: nothing outvotes the leak in that span, which makes the start look
    small (here 0), never large. The start is between that and the smallest first file (a start with no growth of
    the file's own); check adds the most a start can be to a figure holding more first files than the baseline's,
    and takes off the least from one holding fewer — an unchanged group that held two first files in the run
    checked failed by two starts."""
    K = 1024
    doc = {"schema": "heaplens.baseline", "schema_version": 2, "runs": [{"run_id": "r"}],
           "files": {"a": {"lane": "l", "heap": [900 * K], "first": [True]},
                     "b": {"lane": "l", "heap": [950 * K], "first": [True]},
                     **{k: {"lane": "l", "heap": [None]} for k in "cdefghij"}},
           "spans": [{"run": 0, "lane": "l", "files": list("cdefghij"), "heap": 8 * 150 * K + 7 * MiB}]}
    base = Baseline._from_doc(doc)
    assert start_bounds(base, "l", "heap", 0) == (0.0, 900 * K) and start_cost(base, "l", "heap", 0) == 0.0
    doc["spans"][0]["heap"] = 8 * 150 * K  # a clean span: what it gives is the least, the first file the most
    assert start_bounds(Baseline._from_doc(doc), "l", "heap", 0) == (750 * K, 900 * K)
    # the run checked ran c and d first (in the baseline run's span) and a, b elsewhere
    now = [Unit((k,), "l", 100 * K, None, k in "cd") for k in "abcdefghij"]
    starts = _Starts(base, None, now, [base.units(0)])
    assert starts.shift([8 * 150 * K + 7 * MiB], "cdefghij", "heap", ["l"]) == ([8 * 150 * K + 7 * MiB + 2 * 900 * K],
                                                                                True)
    # the least start taken off is none: the figure is unchanged, and no note says a start was taken off
    assert starts.shift([900 * K], "a", "heap", ["l"]) == ([900 * K], False)
    assert starts.unsure == {("l", 0)}


def test_a_budgeted_baseline_gates_per_file_runs(budgeted, unchanged, planted, tmp_path):
    out = tmp_path / "b.json"
    assert heaplens("baseline", "save", budgeted["run"], "-o", out).returncode == 0
    ok = heaplens("check", unchanged["runs"][2], "--baseline", out, "--format", "json")
    assert ok.returncode == 0, ok.stdout
    bad = json.loads(heaplens("check", planted["run"], "--baseline", out, "--format", "json").stdout)
    figs = [r for r in bad["regressions"] if r["what"] in ("file", "files")]
    assert figs and all(r["name"] == "test/orders.test.js" if r["what"] == "file" else "test/orders.test.js" in r["files"]
                        for r in figs)
    assert any("test/orders.test.js" in (r["files"] or [r["name"]]) for r in figs)
