"""`heaplens investigate` on each labelled Jest scenario (examples/jest-scenarios/labels.json) finds the labelled
cause: the finding's kind, its holder (kind, variable, file, line) and the fix's kind — and on the clean suite,
none. Real Jest 29, real snapshots written from inside the Jest worker; each file leaves ~1 MB, so the runs use a
512 MB heap limit (the reporting floor is a share of it) to stay short."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from heaplens.workflow.report import render
from helpers import npm_ci

SCENARIOS = Path(__file__).parents[2] / "examples" / "jest-scenarios"

LABELS = json.loads((SCENARIOS / "labels.json").read_text())["scenarios"]


def _investigate(root, runs, extra=()):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCLAW_TEST_", "HEAPLENS_"))}
    env.update({"HEAPLENS_PROGRESS": "0", "HEAPLENS_RUNS_DIR": str(runs)})
    cp = subprocess.run([sys.executable, "-m", "heaplens", "investigate", "--root", str(root), "--max-old-space-mb",
                         "512", *extra, "--format", "json"], cwd=root, capture_output=True, text=True, env=env,
                        timeout=600)
    assert cp.returncode == 0, cp.stderr[-3000:]
    return json.loads(cp.stdout)


@pytest.mark.parametrize("gc", ["default", "0"], ids=["gc-default", "gc-0"])
@pytest.mark.parametrize("label", LABELS, ids=[s["dir"] for s in LABELS])
def test_jest_scenario_gives_the_labelled_finding(jest_scenarios, label, gc, tmp_path):
    """The same finding whatever the GC budget: with `--gc-overhead 0` only a worker's first and last file ends
    get a forced GC, so the files in between leave their vm contexts for the last snapshot to find not yet
    finalized (tests/scenarios_jest/test_dead_contexts.py) — garbage, which must not read as a leak."""
    doc = _investigate(jest_scenarios / label["dir"], tmp_path / "runs", () if gc == "default" else ("--gc-overhead", gc))
    assert doc["run"]["versions"]["jest"] == "29.7.0"
    got = doc["findings"]
    if not label["findings"]:
        assert got == [], [f["title"] for f in got]
        assert "jest_config" not in doc["fixes"]
        return
    # Jest's own fix: a worker recycled by workerIdleMemoryLimit, shown as a diff of the scenario's jest.config.js
    jest_fix = doc["fixes"]["jest_config"]
    assert re.fullmatch(r"\d+MB", jest_fix["settings"]["workerIdleMemoryLimit"]) and jest_fix["every"] >= 1
    assert "+module.exports = { testEnvironment: " in jest_fix["diff"]
    assert f"workerIdleMemoryLimit: '{jest_fix['settings']['workerIdleMemoryLimit']}' }};" in jest_fix["diff"]
    _jest_fix_is_rendered(doc)
    want = label["findings"][0]
    top = got[0]  # the biggest cause first
    assert top["kind"] == want["kind"], top["title"]
    for key, value in want["holder"].items():
        assert top["holder"].get(key) == value, (key, top["holder"], top["title"])
    assert top["fix"]["kind"] == want["fix"], top["fix"]


def _jest_fix_is_rendered(doc):
    """The Jest config fix is in the text, Markdown and HTML reports too: its setting and why, and its diff line by
    line (each line of the diff its own line, never one line with literal \\n)."""
    jc = doc["fixes"]["jest_config"]
    # the run's saved report (what `heaplens report RUN` renders later) has it too
    saved = json.loads((Path(doc["run"]["dir"]) / "report.json").read_text())
    assert saved["fixes"]["jest_config"]["diff"] == jc["diff"]
    added = next(line for line in jc["diff"].splitlines() if line.startswith("+module.exports"))
    setting = f"workerIdleMemoryLimit: {jc['settings']['workerIdleMemoryLimit']}"
    # Vitest's settings (vmMemoryLimit, test.execArgv, vitest --shard) are never proposed for a Jest suite
    assert [o for o in doc["fixes"].get("other") or [] if o["kind"] != "code"] == []
    for fmt in ("text", "markdown", "html"):
        out = render(doc, fmt, color=False)
        assert "vmMemoryLimit" not in out and "isolate: true" not in out, fmt
        assert f"Jest config: {setting}" in out and "jest --logHeapUsage" in out, fmt
        want = html.escape(added) if fmt == "html" else added
        # the added line is a line of its own: not joined to the diff's header or hunk line
        hits = [line for line in out.splitlines() if want in line]
        assert hits and not any("+++" in line or "@@" in line for line in hits), (fmt, hits)


def test_jest30_listener_keeping_each_files_registry(tmp_path):
    """Jest 30 (tests/runner/fixtures/jest30, ESM config): each file of suite/leak adds a 'resize' listener on the
    worker's process.stdout closing over its data; the finding names that listener, and Jest's own fix goes into
    jest.config.mjs."""
    root = npm_ci(Path(__file__).parents[1] / "runner" / "fixtures" / "jest30", "jest")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCLAW_TEST_", "HEAPLENS_"))}
    env.update({"HEAPLENS_PROGRESS": "0", "HEAPLENS_RUNS_DIR": str(tmp_path / "runs")})
    cp = subprocess.run([sys.executable, "-m", "heaplens", "investigate", "suite/leak", "--max-old-space-mb", "512",
                         "--format", "json"], cwd=root, capture_output=True, text=True, env=env, timeout=600)
    assert cp.returncode == 0, cp.stderr[-3000:]
    doc = json.loads(cp.stdout)
    assert doc["run"]["versions"]["jest"].startswith("30.")
    top = doc["findings"][0]
    assert (top["kind"], top["holder"]["kind"], top["holder"]["variable"], top["fix"]["kind"]) == \
        ("runtime-leak", "listener", "process.stdout", "remove-listener"), top["title"]
    assert re.fullmatch(r"suite/leak/l\d\.test\.js", top["holder"]["file"]) and top["holder"]["line"] == 4
    assert any("module instance(s) of ended test files alive" in e for e in top["evidence"])
    assert "+  workerIdleMemoryLimit: '" in doc["fixes"]["jest_config"]["diff"]
    assert doc["fixes"]["jest_config"]["path"].endswith("jest.config.mjs")
