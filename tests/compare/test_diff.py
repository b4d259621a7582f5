"""Summaries and the delta on real snapshots with planted objects, checked against a slow reference."""

from __future__ import annotations

import json

import pytest

import reference as ref
from heaplens.compare.delta import diff_files, diff_lane_dir, trend_lane_dir
from heaplens.compare.summary import summarize
from helpers import heaplens, plant


@pytest.fixture(scope="module")
def instance_sizes(planted_pair):
    """Self size of one PlantedLeak / PlantedPayload, from the reference parse."""
    fam = ref.families(ref.load(planted_pair[1]))
    c, s = fam[("object", "PlantedLeak")]
    pc, ps = fam[("object", "PlantedPayload")]
    assert c == pc == 5000 and s % c == 0 and ps % pc == 0
    return s // c, ps // pc


@pytest.mark.parametrize("which", [0, 1])
def test_summary_equals_reference_for_every_row(planted_pair, which):
    doc = ref.load(planted_pair[which])
    s = summarize(planted_pair[which])
    try:
        assert s.families.as_dict() == ref.families(doc)
        got_classes = {name: v for (_t, name), v in s.by_class().as_dict().items()}
        assert got_classes == ref.classes(doc)
        assert s.node_count == doc["snapshot"]["node_count"]
        assert s.total_size == sum(r["self_size"] for r in ref.node_rows(doc))
    finally:
        s.close()


def test_planted_objects_show_up_exactly(planted_pair, instance_sizes):
    leak_size, payload_size = instance_sizes
    r = diff_files(*planted_pair, top=1000, min_kb=0)
    rows = {(row.type, row.name): row for row in r.rows}
    leak = rows[("object", "PlantedLeak")]
    assert (leak.count_before, leak.count_after, leak.count_delta) == (0, 5000, 5000)
    assert leak.size_delta == 5000 * leak_size
    payload = rows[("object", "PlantedPayload")]
    assert payload.count_delta == 5000 and payload.size_delta == 5000 * payload_size
    # sorted by size growth, then count growth
    keys = [(-row.size_delta, -row.count_delta) for row in r.rows]
    assert keys == sorted(keys)
    assert r.warnings == []


def test_min_kb_and_top_filter(planted_pair, instance_sizes):
    leak_size, _ = instance_sizes
    kb = 5000 * leak_size / 1024
    r = diff_files(*planted_pair, min_kb=kb)  # exactly at the threshold: kept
    assert ("object", "PlantedLeak") in {(x.type, x.name) for x in r.rows}
    assert all(x.size_delta >= kb * 1024 for x in r.rows)
    r2 = diff_files(*planted_pair, min_kb=kb + 0.01)
    assert ("object", "PlantedLeak") not in {(x.type, x.name) for x in r2.rows}
    r3 = diff_files(*planted_pair, min_kb=0, top=3)
    assert len(r3.rows) == 3 and r3.matching > 3


def test_class_view_counts_planted_class(planted_pair):
    r = diff_files(*planted_pair, by="class", top=100, min_kb=0)
    rows = {row.name: row for row in r.rows}
    assert rows["PlantedLeak"].count_delta == 5000
    assert all(row.type is None for row in r.rows)
    # closures are "Function" in DevTools; 5,000 planted arrow functions among them
    assert rows["Function"].count_delta >= 5000


def test_lane_dir_picks_the_pid_with_most_snapshots(planted_lane):
    r = diff_lane_dir(planted_lane["dir"], min_kb=0, top=500)
    assert r.series.pid == planted_lane["main"]["pid"]
    assert r.series.snapshots == 4
    assert r.before.path == str(planted_lane["main"]["files"][0])
    assert r.after.path == str(planted_lane["main"]["files"][-1])
    leak = {(x.type, x.name): x for x in r.rows}[("object", "PlantedLeak")]
    assert leak.count_delta == 3 * 2000
    assert r.series.other_pids == {planted_lane["other"]["pid"]: 2}


def test_lane_dir_with_pid(planted_lane):
    other = planted_lane["other"]["pid"]
    r = diff_lane_dir(planted_lane["dir"], pid=other, min_kb=0, top=500)
    assert r.series.pid == other and r.series.snapshots == 2
    assert ("object", "PlantedLeak") not in {(x.type, x.name) for x in r.rows}


def test_trend_lists_families_that_grew_in_every_interval(planted_lane):
    t = trend_lane_dir(planted_lane["dir"], min_kb=0, top=1000)
    assert len(t.snapshots) == 4
    rows = {(x.type, x.name): x for x in t.rows}
    leak = rows[("object", "PlantedLeak")]
    assert leak.counts == [0, 2000, 4000, 6000]
    assert leak.count_deltas == [2000, 2000, 2000]
    assert all(d > 0 for d in leak.size_deltas)
    for row in t.rows:
        assert all(d > 0 for d in row.size_deltas)


def test_different_pids_warn(tmp_path, planted_lane):
    a = planted_lane["main"]["files"][0]
    b = planted_lane["other"]["files"][-1]
    r = diff_files(a, b)
    assert len(r.warnings) == 1 and "different processes" in r.warnings[0]
    cp = heaplens("diff", a, b, "--format", "json")
    assert cp.returncode == 0
    assert "only family totals are comparable" in cp.stderr
    assert json.loads(cp.stdout)["warnings"] == r.warnings


def test_cli_table_json_markdown(planted_pair):
    cp = heaplens("diff", *planted_pair)
    assert cp.returncode == 0, cp.stderr
    out = cp.stdout
    assert out.startswith(f"before: {planted_pair[0]}\nafter:  {planted_pair[1]}\n")
    assert "filter: top=30 min=64 KiB by=family" in out
    line = next(l for l in out.splitlines() if l.endswith("PlantedLeak"))
    assert "+5,000" in line and "object" in line
    assert cp.stderr == ""

    js = json.loads(heaplens("diff", *planted_pair, "--format", "json", check=True).stdout)
    assert js["schema_version"] == 1 and js["kind"] == "heaplens.diff"
    row = next(r for r in js["rows"] if r["name"] == "PlantedLeak")
    assert row["count_delta"] == 5000 and row["type"] == "object"
    assert js["before"]["node_count"] < js["after"]["node_count"]

    md = heaplens("diff", *planted_pair, "--format", "markdown", check=True).stdout
    assert "| size Δ | count Δ | type | name |" in md
    assert any(l.startswith("| ") and "PlantedLeak" in l and "+5,000" in l for l in md.splitlines())


def test_cli_lane_dir_and_trend(planted_lane):
    cp = heaplens("diff", "--lane-dir", planted_lane["dir"], "--min-kb", "1")
    assert cp.returncode == 0, cp.stderr
    assert f"pid: {planted_lane['main']['pid']} (4 snapshots found)" in cp.stdout
    cp = heaplens("diff", "--lane-dir", planted_lane["dir"], "--trend", "--min-kb", "1", "--format", "json")
    doc = json.loads(cp.stdout)
    assert doc["kind"] == "heaplens.trend" and len(doc["snapshots"]) == 4
    leak = next(r for r in doc["rows"] if r["name"] == "PlantedLeak")
    assert leak["count_deltas"] == [2000, 2000, 2000]


def test_long_names_are_cut_with_an_ellipsis(tmp_path):
    d = tmp_path / "long"
    info = plant(d, 10)
    doc = ref.load(info["files"][1])
    # rename the planted class to a 300-character name in the "after" snapshot
    long_name = "VeryLongConstructorName" * 13
    idx = doc["strings"].index("PlantedLeak")
    doc["strings"][idx] = long_name
    after = ref.dump(doc, d / "after.heapsnapshot")
    cp = heaplens("diff", info["files"][0], after, "--min-kb", "0", "--top", "200")
    line = next(l for l in cp.stdout.splitlines() if "VeryLongConstructorName" in l)
    assert line.endswith("…") and long_name not in line
    js = json.loads(heaplens("diff", info["files"][0], after, "--min-kb", "0", "--top", "200", "--format", "json").stdout)
    assert any(r["name"] == long_name for r in js["rows"])  # JSON keeps the full name
