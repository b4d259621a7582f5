"""heaplens top / retainers / diff --ids --retainers as a user runs them (subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def heaplens(*args):
    env = dict(os.environ, HEAPLENS_PROGRESS="0")
    return subprocess.run([sys.executable, "-m", "heaplens", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=600)


def test_top_json(planted_pair):
    cp = heaplens("top", planted_pair[1], "--format", "json", "--top", "40", "--objects", "5")
    assert cp.returncode == 0, cp.stderr
    doc = json.loads(cp.stdout)
    assert doc["kind"] == "heaplens.top"
    classes = {c["class"]: c for c in doc["classes"]}
    leak = classes["PlantedLeak"]
    assert leak["count"] == 5000 and leak["location"]["url"].endswith("plant.mjs")
    assert leak["retained_size"] > leak["shallow_size"] > 0
    rets = [c["retained_size"] for c in doc["classes"]]
    assert rets == sorted(rets, reverse=True)
    assert len(doc["objects"]) == 5
    objs = [o["retained_size"] for o in doc["objects"]]
    assert objs == sorted(objs, reverse=True)


def test_top_table(planted_pair):
    cp = heaplens("top", planted_pair[1], "--top", "50")
    assert cp.returncode == 0, cp.stderr
    line = next(ln for ln in cp.stdout.splitlines() if ln.rstrip().endswith(")") and "PlantedLeak" in ln)
    assert "5,000" in line and "plant.mjs" in line


def test_retainers_class_json(planted_pair):
    cp = heaplens("retainers", planted_pair[1], "--class", "PlantedLeak", "--format", "json")
    assert cp.returncode == 0, cp.stderr
    doc = json.loads(cp.stdout)
    agg = doc["aggregation"]
    assert doc["count"] == agg["total"] == 5000
    assert agg["chains"][0]["count"] >= 4990 and "plantedBucket`" in agg["chains"][0]["holder"]


def test_retainers_id_paths(planted_pair):
    cp = heaplens("retainers", planted_pair[1], "--class", "PlantedLeak", "--format", "json")
    oid = int(json.loads(cp.stdout)["aggregation"]["chains"][0]["example"]["target"].split("@")[1])
    cp = heaplens("retainers", planted_pair[1], "--id", oid, "--paths", "2", "--format", "json")
    assert cp.returncode == 0, cp.stderr
    doc = json.loads(cp.stdout)
    assert doc["object"]["id"] == oid and doc["object"]["class"] == "PlantedLeak"
    assert 1 <= len(doc["paths"]) <= 2
    assert doc["paths"][0]["text"].endswith(f"PlantedLeak @{oid}")
    assert "plantedBucket" in doc["paths"][0]["text"]
    cp = heaplens("retainers", planted_pair[1], "--id", oid)
    assert cp.returncode == 0 and "path 1: " in cp.stdout


@pytest.mark.parametrize("args, message", [
    (["--class", "NoSuchClass"], "no class named 'NoSuchClass'"),
    (["--id", "4294967294"], "no object with id 4294967294"),
])
def test_retainers_missing(planted_pair, args, message):
    cp = heaplens("retainers", planted_pair[1], *args)
    assert cp.returncode == 2
    assert message in cp.stderr and len(cp.stderr.strip().splitlines()) == 1 and "Traceback" not in cp.stderr


def test_bad_input_one_line(tmp_path):
    bad = tmp_path / "bad.heapsnapshot"
    bad.write_text('{"snapshot": {"meta": {}}')
    for cmd in (["top", bad], ["retainers", bad, "--class", "X"], ["top", tmp_path]):
        cp = heaplens(*cmd)
        assert cp.returncode == 2, (cmd, cp.stderr)
        assert len(cp.stderr.strip().splitlines()) == 1 and "Traceback" not in cp.stderr


def test_diff_ids_and_retainers(planted_pair):
    cp = heaplens("diff", *planted_pair, "--ids", "--retainers", "--format", "json", "--min-kb", "100")
    assert cp.returncode == 0, cp.stderr
    doc = json.loads(cp.stdout)
    assert doc["kind"] == "heaplens.id_diff"
    rows = {r["class"]: r for r in doc["rows"]}
    leak = rows["PlantedLeak"]
    assert (leak["new_count"], leak["freed_count"], leak["net_count"]) == (5000, 0, 5000)
    assert leak["new_retained_size"] > leak["new_size"]
    chain = leak["retainers"]["chains"][0]
    assert chain["count"] >= 4990 and "plantedBucket`" in chain["holder"]
    cp = heaplens("diff", *planted_pair, "--ids", "--retainers", "--min-kb", "100")
    assert cp.returncode == 0
    assert "of 5,000 new `PlantedLeak` are retained through Array `" in cp.stdout
    cp = heaplens("diff", *planted_pair, "--ids", "--format", "markdown")
    assert cp.returncode == 0 and "| net size | # new |" in cp.stdout


def test_diff_without_flags_is_unchanged(planted_pair):
    cp = heaplens("diff", *planted_pair, "--format", "json")
    assert json.loads(cp.stdout)["kind"] == "heaplens.diff"


def test_diff_ids_falls_back_for_different_pids(planted_lane):
    a = planted_lane["main"]["files"][0]
    b = planted_lane["other"]["files"][-1]
    cp = heaplens("diff", a, b, "--ids", "--format", "json")
    assert cp.returncode == 0, cp.stderr
    assert "different processes" in cp.stderr
    assert json.loads(cp.stdout)["kind"] == "heaplens.diff"


def test_retainers_non_ascii_class(scenario):
    cp = heaplens("retainers", scenario["files"][1], "--class", "Café", "--format", "json")
    assert cp.returncode == 0, cp.stderr
    doc = json.loads(cp.stdout)
    assert doc["count"] == 7 and doc["aggregation"]["chains"][0]["holder"] == "Array `__cafes`"


def test_retainers_of_a_root_child(scenario):
    cp = heaplens("retainers", scenario["files"][1], "--class", "global", "--format", "json")
    chains = json.loads(cp.stdout)["aggregation"]["chains"]
    seen_root_child = False
    for c in chains:
        oid = int(c["example"]["target"].split("@")[1])
        cp = heaplens("retainers", scenario["files"][1], "--id", oid, "--paths", "2", "--format", "json")
        doc = json.loads(cp.stdout)
        for p in doc["paths"]:
            assert p["text"].count(f"@{oid}") == 1  # never a cycle back to the object
        if doc["object"]["distance"] == 1:
            # held by the synthetic root itself: the first path says just that
            assert doc["paths"][0]["text"] == f"(root) → global @{oid}"
            seen_root_child = True
    assert seen_root_child
