"""Combine the run records of several CI shards (or reruns) into one record of the same schema."""

from __future__ import annotations

import time
from pathlib import Path

from . import record as R


def merge_records(records: list[dict]) -> dict:
    if not records:
        raise ValueError("nothing to merge")
    first = records[0]
    lanes: dict = {}
    conflicts = []
    for rec in records:
        for name, lane in rec.get("lanes", {}).items():
            key = name
            shard = (rec.get("plan") or {}).get("shard")
            if key in lanes:
                # the same lane name in two shards: keep both, the later one suffixed with its shard / run id
                key = f"{name}@{shard or rec.get('run_id')}"
                conflicts.append(key)
            lanes[key] = dict(lane, run_id=rec.get("run_id"), shard=shard)
    files = sum(len(l.get("files", [])) for l in lanes.values())
    statuses = [r.get("status") for r in records]
    status = "interrupted" if "interrupted" in statuses else ("failed" if "failed" in statuses else
                                                              ("running" if "running" in statuses else "passed"))
    versions = {k: sorted({str((r.get("versions") or {}).get(k)) for r in records}) for k in ("vitest", "node")}
    plan_lanes = []
    for r in records:
        plan_lanes += (r.get("plan") or {}).get("lanes", [])
    return {
        "schema": R.SCHEMA,
        "schema_version": R.SCHEMA_VERSION,
        "run_id": "merged-" + R.new_run_id(),
        "status": status,
        "exit_code": max((int(r.get("exit_code") or 0) for r in records), default=0),
        "argv": [r.get("argv") for r in records],
        "root": first.get("root"),
        "started_at": min((r.get("started_at") or time.time()) for r in records),
        "finished_at": max((r.get("finished_at") or 0) for r in records) or None,
        "versions": dict(first.get("versions") or {}, all=versions),
        "options": first.get("options"),
        "plan": {"lanes": plan_lanes, "files": sum((r.get("plan") or {}).get("files", 0) for r in records),
                 "shard": None, "merged_shards": [(r.get("plan") or {}).get("shard") for r in records]},
        "lanes": lanes,
        "shards": [r.get("run_id") for r in records],
        "merged_from": [r.get("_path") for r in records],
        "merge_conflicts": conflicts,
        "files_traced": files,
    }


def load_all(paths: list[str]) -> list[dict]:
    out = []
    for p in paths:
        rec = R.load(Path(p))
        rec["_path"] = str(Path(p))
        out.append(rec)
    return out
