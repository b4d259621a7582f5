"""`heaplens harness` on real scenarios: a closure leak fails, its fix passes, the planted leak of the
sensitivity run is caught, and a scenario that throws is an error (exit 2)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from helpers import heaplens, requires_node

SC = Path(__file__).parent / "scenarios"
pytestmark = requires_node


def run(tmp_path, *args):
    return heaplens("harness", *args, "--dir", tmp_path / "runs", "--iterations", "20", "--batches", "3")


def test_closure_leak_fails_and_names_what_holds_it(tmp_path):
    cp = run(tmp_path, SC / "abort-closure.mjs", "--mode", "pre-fix")
    assert cp.returncode == 1, cp.stderr
    out = cp.stdout
    assert "FAIL  60 of 60 tracked objects are still alive (limit 16)" in out
    assert "still alive by label: RunScope=60" in out
    assert "60 of 60 `RunScope` are retained" in out
    assert "abort-closure.mjs" in out  # the script that holds the reference
    assert "listeners (context)" in out  # the module-level array on the retaining path
    assert "baseline → last batch by object id (same process): " in out
    assert re.search(r"\+60 +[\d.]+ +\+0 .*  RunScope", out)  # 60 new RunScope, none freed
    # one snapshot after the baseline and after each batch, in the run directory
    snaps = sorted(p.name for p in (tmp_path / "runs").glob("*/*.heapsnapshot"))
    assert snaps == ["baseline.heapsnapshot", "batch-001.heapsnapshot", "batch-002.heapsnapshot", "batch-003.heapsnapshot"]


def test_fixed_variant_passes(tmp_path):
    cp = run(tmp_path, SC / "abort-closure.mjs", "--mode", "fixed")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert "PASS  0 of 60 tracked objects still alive" in cp.stdout
    assert "trackedFinalized=60/60" in cp.stdout


def test_sensitivity_run_must_fail(tmp_path):
    cp = run(tmp_path, SC / "abort-closure.mjs", "--mode", "fixed", "--sensitivity", "--format", "json")
    assert cp.returncode == 0, cp.stderr
    doc = json.loads(cp.stdout)
    assert doc["schema_version"] == 1 and doc["verdict"] == "PASS"
    assert doc["sensitivity"]["planted_leak_caught"] is True
    assert doc["sensitivity"]["run"]["samples"][-1]["alive"] == 60
    assert "(sensitivity: planted leak)" in cp.stderr  # progress lines go to stderr with --format json


def test_sensitivity_without_tracking_cannot_detect_leaks(tmp_path):
    cp = run(tmp_path, SC / "tracks-nothing.mjs", "--sensitivity")
    assert cp.returncode == 2, cp.stdout + cp.stderr
    assert "cannot detect leaks" in cp.stdout


def test_rss_limit(tmp_path):
    # the pre-fix shape keeps 64 KiB per run: 60 runs ≈ 3.8 MiB, over a 1 MiB limit
    cp = run(tmp_path, SC / "abort-closure.mjs", "--mode", "pre-fix", "--rss-limit-mb", "1", "--survivors-limit", "1000")
    assert cp.returncode == 1
    assert "RSS grew by" in cp.stdout and "limit 1 MiB" in cp.stdout


def test_scenario_that_throws_is_an_error(tmp_path):
    cp = run(tmp_path, SC / "throws.mjs")
    assert cp.returncode == 2
    line = cp.stderr.strip().splitlines()[-1]
    assert line.startswith("heaplens: error: ")
    assert "failed in iteration: Error: scenario exploded on purpose" in line
    assert "Traceback" not in cp.stderr


def test_mode_errors(tmp_path):
    cp = run(tmp_path, SC / "abort-closure.mjs")
    assert cp.returncode == 2 and "choose one with --mode" in cp.stderr
    cp = run(tmp_path, SC / "abort-closure.mjs", "--mode", "nope")
    assert cp.returncode == 2 and 'no mode "nope" (modes: pre-fix, fixed)' in cp.stderr
    cp = run(tmp_path, SC / "missing.mjs")
    assert cp.returncode == 2 and "no such scenario file" in cp.stderr
