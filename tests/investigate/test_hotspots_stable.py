"""Hotspots by retained growth (issue 13 item 4): the files an isolate fix lists come from the GC-settled heap
each file left in its worker, so the generated fan-out suite (examples/scenarios/module-fanout: 20 files, each
loading its own feature of 11 modules in one shared worker) gets the same list in three runs — every file, as
every file adds the same — and no file that left nothing (the demo's util files) is in it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from heaplens.diagnose.findings import retained_by_file, retained_hotspots
from heaplens.runner.record import RunRecord
from helpers import heaplens, npm_ci

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "examples" / "scenarios"


def fanout_copy(dest: Path) -> Path:
    npm_ci(CORPUS)  # also writes the generated modules (its prepare script)
    shutil.copytree(CORPUS / "module-fanout", dest, ignore=shutil.ignore_patterns(".heaplens", "node_modules"))
    os.symlink(CORPUS / "node_modules", dest / "node_modules")
    return dest


def test_fanout_isolate_list_is_the_same_in_three_runs(tmp_path):
    suite = fanout_copy(tmp_path / "fanout")
    lists = []
    for _ in range(3):
        cp = heaplens("investigate", "--root", suite, "--format", "json", cwd=suite, timeout=600)
        assert cp.returncode == 0, cp.stdout[-2000:] + cp.stderr[-3000:]
        doc = json.loads(cp.stdout)
        [mg] = [f for f in doc["findings"] if f["kind"] == "module-graph"]
        lists.append(mg["fix"]["files"])
        # the list is what the run's per-file GC-settled growth says (the record the report was built from)
        rec = RunRecord.load(doc["run"]["dir"])
        growth = retained_by_file([f.to_json() for f in rec.lanes["unit-fast"].files])
        assert len(growth) == 20 and all(g > 0 for g in growth.values()), growth
        assert mg["fix"]["files"] == retained_hotspots(growth)
        # every file adds a share of the same order: splitting the lane is a fix the diagnosis supports
        assert [o["kind"] for o in doc["fixes"]["other"]] == ["split-lane"]
    assert lists[0] == lists[1] == lists[2], lists
    assert lists[0] == [f"test/feature-{i:02d}.test.js" for i in range(20)]


def test_hotspots_are_the_files_that_hold_the_growth():
    # the demo suite's shared worker, as measured (bytes): four catalog files keep ~26 MiB each, the util files
    # nothing (their settled growth is noise, some of it negative)
    mib = 2**20
    growth = {"test/catalog-3.test.js": 28.2 * mib, "test/catalog-0.test.js": 25.9 * mib,
              "test/catalog-1.test.js": 25.1 * mib, "test/catalog-2.test.js": 25.2 * mib,
              "test/util-1.test.js": -0.06 * mib, "test/util-2.test.js": 0.04 * mib,
              "test/util-4.test.js": 0.22 * mib, "test/util-6.test.js": -0.14 * mib}
    assert retained_hotspots(growth) == [f"test/catalog-{i}.test.js" for i in range(4)]
    # one file holding most of it: that file alone
    assert retained_hotspots({"a": 90 * mib, "b": 5 * mib, "c": 4 * mib}) == ["a"]
    assert retained_hotspots({"a": -1.0, "b": 0.0}) == []


def test_growth_spanning_unsettled_files_is_shared_between_them():
    files = [{"file": "a", "index": 1, "heap_growth": 300, "settled_files": 1},
             {"file": "b", "index": 2, "heap_growth": None},
             {"file": "c", "index": 3, "heap_growth": 600, "settled_files": 2},
             {"file": "d", "index": 4, "heap_growth": None}]  # the worker's last file, never settled
    assert retained_by_file(files) == {"a": 300, "b": 300, "c": 300}


def test_a_shared_workers_first_file_counts_its_imports():
    # with snapshots, a shared worker's first file is measured from the line after its collection (its first
    # snapshot); its start line is GC-settled too: the imports it made are what it left behind
    files = [{"file": "first", "index": 1, "settled_base": "collected", "heap_growth": 40, "settled_files": 1,
              "heap_used_start": 1000, "settled_end": {"heap_used": 1500}},
             {"file": "second", "index": 2, "settled_base": "previous-end", "heap_growth": 450, "settled_files": 1,
              "heap_used_start": 1600, "settled_end": {"heap_used": 1950}}]
    assert retained_by_file(files) == {"first": 500, "second": 450}
    assert retained_by_file(files[:1]) == {"first": 40}  # a worker of its own: from its collection
