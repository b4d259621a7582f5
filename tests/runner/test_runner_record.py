"""The run record's one owner (heaplens.runner.record): atomic writes, the schema check on load (one line
naming the file and the key), abandoned runs, and merging — without running Vitest."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from heaplens.atomicfile import write_json_atomic
from heaplens.runner import record as R
from heaplens.runner.merge import merge_records


def make(tmp_path, run_id, shard, lanes, status="passed", code=0) -> R.RunRecord:
    rec = R.RunRecord.create(tmp_path / run_id, status=status, exit_code=code, argv=["heaplens", "run"],
                             started_at=10.0, finished_at=20.0,
                             versions=R.Versions(vitest="5.1.2", node="v20.20.2"),
                             plan=R.PlanRecord(lanes=[R.PlanLane(name=n, kind="fast", files=[f"{n}.test.ts"])
                                                      for n in lanes], files=len(lanes), shard=shard))
    for n in lanes:
        rec.lanes[n] = R.LaneRecord(name=n, exit_code=code, files=[R.FileRecord(file=f"{n}.test.ts", delta=1)],
                                    summary=R.LaneSummary(files=1, peak=1, total_delta=1))
    rec.save()
    return rec


def test_write_atomic_replaces_and_leaves_no_temp(tmp_path):
    p = tmp_path / "r" / "run.json"
    write_json_atomic(p, {"a": 1})
    write_json_atomic(p, {"a": 2})
    assert json.loads(p.read_text())["a"] == 2
    assert os.listdir(p.parent) == ["run.json"]

    class Boom:
        pass

    with pytest.raises(TypeError):
        write_json_atomic(p, {"x": Boom()})  # not JSON: the old record stays whole, no temp file left
    assert json.loads(p.read_text())["a"] == 2
    assert os.listdir(p.parent) == ["run.json"]


def test_round_trip(tmp_path):
    rec = make(tmp_path, "r1", None, ["unit-fast"])
    back = R.RunRecord.load(tmp_path / "r1")  # a run directory works
    assert back.to_json() == rec.to_json()
    assert back.lane("unit-fast").files[0].file == "unit-fast.test.ts"
    assert back.dir == tmp_path / "r1"
    assert json.loads((tmp_path / "r1" / "run.json").read_text())["schema_version"] == R.SCHEMA_VERSION
    os.environ[R.RUNS_ENV] = str(tmp_path)
    try:
        assert R.RunRecord.load("r1").run_id == "r1"  # a run id, looked up in $HEAPLENS_RUNS_DIR
    finally:
        del os.environ[R.RUNS_ENV]


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update(schema="other"), "not a heaplens run record"),
    (lambda d: d.update(schema_version=99), "schema_version 99 is newer"),
    (lambda d: d.update(schema_version="2"), "schema_version: expected a positive integer, got a string"),
    (lambda d: d.pop("run_id"), "run_id: missing"),
    (lambda d: d.update(options=3), "options: expected an object, got the number 3"),
    (lambda d: d["lanes"]["unit-fast"].update(files=[{"file": "a", "rss_start": "x"}]),
     r"lanes.unit-fast.files\[0\].rss_start: expected an integer or null, got a string"),
    (lambda d: d["lanes"]["unit-fast"].update(workers={"1": 5}), r"lanes.unit-fast.workers.1: expected an object"),
    (lambda d: d["plan"].update(lanes=[{"name": "x"}]), r"plan.lanes\[0\].kind: missing"),
    (lambda d: d.update(status="done"), "status: expected one of"),
    (lambda d: d["lanes"].update(other=d["lanes"]["unit-fast"]), "lanes.other: its name says 'unit-fast'"),
])
def test_load_checks_the_schema(tmp_path, edit, message):
    rec = make(tmp_path, "r1", None, ["unit-fast"])
    doc = rec.to_json()
    edit(doc)
    p = tmp_path / "r1" / "run.json"
    p.write_text(json.dumps(doc))
    with pytest.raises(R.RecordError, match=message) as exc:
        R.RunRecord.load(p)
    assert str(p) in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize("text", ["", "{", "[" * 100_000, "null", '{"schema": "heaplens.run"}'])
def test_load_bad_documents(tmp_path, text):
    p = tmp_path / "run.json"
    p.write_text(text)
    with pytest.raises(R.RecordError):
        R.RunRecord.load(p)


def test_missing_and_special_paths(tmp_path):
    with pytest.raises(R.RecordError, match="no run record at"):
        R.RunRecord.load(tmp_path / "nope")
    with pytest.raises(R.RecordError, match="holds no run.json"):
        R.RunRecord.load(tmp_path)
    (tmp_path / "d").mkdir()
    os.mkfifo(tmp_path / "d" / "run.json")  # read, it would block forever
    with pytest.raises(R.RecordError, match="not a regular file"):
        R.RunRecord.load(tmp_path / "d")


def test_version_1_merged_record_reads(tmp_path):
    rec = make(tmp_path, "r1", None, ["unit-fast"])
    doc = rec.to_json()
    doc.update(schema_version=1, argv=[["heaplens", "run", "--shard", "1/2"], ["heaplens", "run", "--shard", "2/2"]])
    doc.pop("owner")
    p = tmp_path / "r1" / "run.json"
    p.write_text(json.dumps(doc))
    back = R.RunRecord.load(p)
    assert back.shard_argv[1][-1] == "2/2" and back.argv[:2] == ["heaplens", "merge"]


def test_a_running_record_whose_owner_died_is_abandoned(tmp_path):
    """A record left `running` by a process that is gone (e.g. kill -9) reads as `abandoned`, and is saved so."""
    code = ("import sys; from pathlib import Path; from heaplens.runner import record as R; "
            "R.RunRecord.create(Path(sys.argv[1])).save()")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "r9")], check=True)
    raw = json.loads((tmp_path / "r9" / "run.json").read_text())
    assert raw["status"] == "running" and raw["owner"]["pid"] > 0
    rec = R.RunRecord.load(tmp_path / "r9")
    assert rec.status == "abandoned"
    assert json.loads((tmp_path / "r9" / "run.json").read_text())["status"] == "abandoned"
    mine = R.RunRecord.create(tmp_path / "r10")  # this process is alive: still running
    mine.save()
    assert R.RunRecord.load(tmp_path / "r10").status == "running"


def test_merge_shards(tmp_path):
    a = make(tmp_path, "r1", "1/2", ["unit-fast", "unit-heavy-1"])
    b = make(tmp_path, "r2", "2/2", ["unit-fast", "unit-x-isolated"], status="failed", code=1)
    m = merge_records([b, a])  # in any order: shards are merged in their order, every lane named by its shard
    assert list(m.lanes) == ["unit-fast@1of2", "unit-heavy-1@1of2", "unit-fast@2of2", "unit-x-isolated@2of2"]
    assert m.lanes["unit-fast@1of2"].shard == "1/2" and m.lanes["unit-fast@2of2"].run_id == "r2"
    assert [pl.name for pl in m.plan.lanes] == list(m.lanes)  # the plan's lanes carry the same names
    assert m.plan.notes == [] and m.options.get("shard") is None
    assert merge_records([a]).plan.notes == ["shard(s) 2/2 missing from the merge: their files are not in this run"]
    assert m.status == "failed" and m.exit_code == 1
    assert m.shards == ["r1", "r2"] and m.plan.merged_shards == ["1/2", "2/2"]
    assert m.shard_argv == [["heaplens", "run"], ["heaplens", "run"]] and m.argv[:2] == ["heaplens", "merge"]
    out = m.save(tmp_path / "merged" / "run.json")
    assert R.RunRecord.load(out).to_json() == m.to_json()  # a merged record is a valid record
    with pytest.raises(ValueError):
        merge_records([])
