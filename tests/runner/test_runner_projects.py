"""Vitest projects (`test.projects`): heaplens's setup file and worker flags reach every project, also those that
do not extend the root config (inline without `extends: true`, `extends: false`, a directory with its own config).

The suite is ``fixtures/projects`` (no dependencies of its own): it is copied to a temporary directory with one
version fixture's ``node_modules`` linked into it, so the same suite runs on Vitest 3.2, 4 and 5."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from runner_helpers import MIB, hl, parse_kv

PROJECTS = Path(__file__).parent / "fixtures" / "projects"
FILES = {
    "suite/inherits/inherits.test.js",  # extends: true
    "suite/plain/plain.test.js",  # no extends (inherits only on Vitest 5)
    "suite/alone/alone.test.js",  # extends: false
    "packages/lib/lib.test.js",  # directory project with its own config file
}
HEAP_MB = 200


def projects_suite(fixture: Path, tmp_path: Path) -> Path:
    root = tmp_path / "suite"
    shutil.copytree(PROJECTS, root, ignore=shutil.ignore_patterns("node_modules", ".heaplens"))
    os.symlink(fixture / "node_modules", root / "node_modules")
    return root


@pytest.mark.parametrize("version", ["v3", "v4", "v5"])
def test_every_project_gets_the_trace_and_the_heap_limit(version, request, tmp_path):
    fixture = request.getfixturevalue(version)
    root = projects_suite(fixture, tmp_path)
    # the test files themselves check V8's heap limit inside their worker when this is set
    r = hl("run", "--workers", "2", "--max-old-space-mb", HEAP_MB, cwd=root, runs=tmp_path / "runs",
           env={"HEAPLENS_FIXTURE_HEAP_MB": str(HEAP_MB)})
    assert r.code == 0, r.out[-3000:] + r.err
    lines = {parse_kv(l)["file"] for l in r.lines("[heaplens][mem] unit-fast file=")}
    assert lines == FILES
    lane = r.record["lanes"]["unit-fast"]
    by_file = {f["file"]: f for f in lane["files"]}
    assert set(by_file) == FILES
    for f in by_file.values():
        assert HEAP_MB * MIB <= f["heap_limit"] <= (HEAP_MB + 128) * MIB, (f["file"], f["heap_limit"])
        assert f["pid"] != lane["vitest_main_pid"]
    # one start and one end line per file: a project that extends the root config gets the setup file once
    trace = [json.loads(l) for l in Path(lane["trace"]).read_text().splitlines()]
    assert sorted((e["ev"], e["file"]) for e in trace if e["ev"] in ("start", "end")) == sorted(
        (ev, str((root / f).resolve())) for f in FILES for ev in ("start", "end"))
    assert all(e["ppid"] == lane["vitest_main_pid"] for e in trace)
    assert not (root / ".heaplens" / "config" / r.record["run_id"]).exists()  # generated files removed


def test_snapshot_flags_reach_a_project_without_extends(v5, tmp_path):
    """--snapshot-dir gives every worker --heapsnapshot-near-heap-limit and --diagnostic-dir: a file of the
    `extends: false` project that runs out of heap leaves its snapshot in the lane's directory."""
    root = projects_suite(v5, tmp_path)
    (root / "suite" / "alone" / "grow.test.js").write_text(
        "import { test } from 'vitest'\n"
        "test('grows until the heap limit', () => {\n"
        "  const keep = []\n"
        "  for (;;) keep.push(new Array(100000).fill(keep.length))\n"
        "})\n")
    snaps = tmp_path / "snaps"
    r = hl("run", "suite/alone/grow.test.js", "--max-old-space-mb", "48", "--workers", "1", "--snapshot-dir", snaps,
           cwd=root, runs=tmp_path / "runs")
    assert r.code == 1, r.out[-3000:]
    kv = parse_kv(r.lines("[heaplens][fault] unit-fast")[0])
    assert kv["kind"] == "oom" and kv["file"] == "suite/alone/grow.test.js"
    assert kv["snapshot"] != "none" and Path(kv["snapshot"]).parent == snaps / "unit-fast"
