"""`heaplens diagnose` on real snapshots of known causes: the verdict, its evidence and retainers."""

from __future__ import annotations

import json

from helpers import JS, heaplens, requires_node, run_node

pytestmark = requires_node


def pair(tmp_path, script, *args):
    d = tmp_path / "lane"
    d.mkdir()
    info = json.loads(run_node(JS / script, d, *args).stdout.strip().splitlines()[-1])
    return d, info


def diagnose(*args):
    cp = heaplens("diagnose", *map(str, args), "--format", "json")
    assert cp.returncode == 0, cp.stderr
    return json.loads(cp.stdout)


def test_runtime_leak_is_confirmed_by_retainers(planted_lane):
    doc = diagnose("--lane-dir", planted_lane["dir"], "--retainers")
    assert doc["schema_version"] == 1 and doc["kind"] == "heaplens.diagnosis"
    assert doc["verdict"] == "runtime leak" and doc["bucket"] == "runtime"
    assert doc["confirmed_by_retainers"] is True
    families = {f["label"] for f in doc["buckets"]["runtime"]["families"]}
    assert "application objects (by constructor)" in families
    leak = next(r for r in doc["retainers"] if r["class"] == "PlantedLeak")
    assert leak["new_count"] == 6000
    # plant.mjs also publishes the array as globalThis.__plantedBucket: the shortest path is the global
    assert any("Array `__plantedBucket`" in e and "through a user global" in e for e in doc["evidence"])


def test_module_graph_retention(tmp_path):
    d, _ = pair(tmp_path, "module_graph.mjs", "300", "2")
    doc = diagnose("--lane-dir", d, "--retainers")
    assert doc["verdict"] == "module-graph retention", doc["summary"]
    labels = {f["label"] for f in doc["buckets"]["module-graph"]["families"]}
    assert "transformed module source (Vite/Vitest)" in labels
    assert "bytecode and compiled functions" in labels
    assert doc["confirmed_by_retainers"] is True
    assert any("through module-loader machinery" in e for e in doc["evidence"])


def test_external_memory(tmp_path):
    d, _ = pair(tmp_path, "buffers.mjs", "200")
    doc = diagnose("--lane-dir", d)
    assert doc["verdict"] == "external memory", doc["summary"]
    assert doc["buckets"]["external"]["size_delta"] >= 200 * 64 * 1024


def test_no_significant_growth(planted_lane):
    doc = diagnose("--lane-dir", planted_lane["dir"], "--pid", planted_lane["other"]["pid"])
    assert doc["verdict"] == "no significant growth"


def test_rules_are_data_and_can_be_extended(planted_lane, tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"rules": [{"id": "ours", "bucket": "module-graph", "label": "planted (as module graph)",
                                           "types": ["object"], "name": "^Planted"}]}))
    doc = diagnose("--lane-dir", planted_lane["dir"], "--rules", rules)
    assert doc["verdict"] == "module-graph retention"
    assert doc["rules"] == [str(rules), "built-in"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"rules": [{"bucket": "runtime", "name": "(unclosed"}]}))
    cp = heaplens("diagnose", "--lane-dir", planted_lane["dir"], "--rules", bad)
    assert cp.returncode == 2 and "bad regular expression" in cp.stderr and "Traceback" not in cp.stderr


def test_table_output(planted_lane):
    cp = heaplens("diagnose", "--lane-dir", planted_lane["dir"])
    assert cp.returncode == 0
    assert "verdict: runtime leak (confidence" in cp.stdout
    assert "[runtime]" in cp.stdout and "PlantedLeak" in cp.stdout
