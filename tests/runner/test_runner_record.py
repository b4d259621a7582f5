"""Run record writing/reading and merging, without running Vitest."""

from __future__ import annotations

import json
import os

import pytest

from heaplens.runner import record as R
from heaplens.runner.merge import merge_records


def rec(run_id, shard, lanes, status="passed", code=0):
    return {"schema": R.SCHEMA, "schema_version": 1, "run_id": run_id, "status": status, "exit_code": code,
            "plan": {"lanes": [{"name": n} for n in lanes], "files": len(lanes), "shard": shard},
            "lanes": {n: {"exit_code": code, "files": [{"file": f"{n}.test.ts", "delta": 1}],
                          "summary": {"files": 1, "peak": 1, "total_delta": 1}} for n in lanes},
            "versions": {"vitest": "5.1.2", "node": "v20.20.2"}, "started_at": 10.0, "finished_at": 20.0}


def test_write_atomic_replaces_and_leaves_no_temp(tmp_path):
    p = tmp_path / "r" / "run.json"
    R.write_atomic(p, {"schema": R.SCHEMA, "schema_version": 1, "a": 1})
    R.write_atomic(p, {"schema": R.SCHEMA, "schema_version": 1, "a": 2})
    assert json.loads(p.read_text())["a"] == 2
    assert os.listdir(p.parent) == ["run.json"]

    class Boom:
        pass

    with pytest.raises(TypeError):
        R.write_atomic(p, {"x": Boom()})  # not JSON: the old record stays whole, no temp file left
    assert json.loads(p.read_text())["a"] == 2
    assert os.listdir(p.parent) == ["run.json"]


def test_load_checks_schema_and_version(tmp_path):
    p = tmp_path / "run.json"
    p.write_text(json.dumps({"schema": "other"}))
    with pytest.raises(ValueError, match="not a heaplens run record"):
        R.load(p)
    p.write_text(json.dumps({"schema": R.SCHEMA, "schema_version": 99}))
    with pytest.raises(ValueError, match="newer"):
        R.load(tmp_path)  # a run directory works too


def test_merge_shards():
    a = rec("r1", "1/2", ["unit-fast", "unit-heavy-1"])
    b = rec("r2", "2/2", ["unit-fast", "unit-x-isolated"], status="failed", code=1)
    m = merge_records([a, b])
    assert set(m["lanes"]) == {"unit-fast", "unit-heavy-1", "unit-x-isolated", "unit-fast@2/2"}
    assert m["lanes"]["unit-fast"]["shard"] == "1/2" and m["lanes"]["unit-fast@2/2"]["run_id"] == "r2"
    assert m["status"] == "failed" and m["exit_code"] == 1
    assert m["shards"] == ["r1", "r2"] and m["plan"]["merged_shards"] == ["1/2", "2/2"]
    assert m["files_traced"] == 4 and m["schema_version"] == R.SCHEMA_VERSION
    with pytest.raises(ValueError):
        merge_records([])
