"""Combine the run records of several CI shards (or reruns) into one record of the same schema."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from . import record as R


def merge_records(records: list[R.RunRecord]) -> R.RunRecord:
    """One record with every lane of ``records`` (a lane name present in two records keeps both, the later
    one as ``<name>@<shard or run id>``), the worst status and the highest exit code."""
    if not records:
        raise ValueError("nothing to merge")
    first = records[0]
    lanes: dict[str, R.LaneRecord] = {}
    conflicts = []
    for rec in records:
        shard = rec.plan.shard
        for name, lane in rec.lanes.items():
            key = name
            if key in lanes:
                key = f"{name}@{shard or rec.run_id}"
                conflicts.append(key)
            lanes[key] = dataclasses.replace(lane, run_id=rec.run_id, shard=shard)
    statuses = [r.status for r in records]
    status = next((s for s in ("interrupted", "abandoned", "failed", "running") if s in statuses), "passed")
    versions = {k: sorted({str(getattr(r.versions, k)) for r in records}) for k in ("vitest", "node")}
    plan = R.PlanRecord(lanes=[l for r in records for l in r.plan.lanes], files=sum(r.plan.files for r in records),
                        shard=None, merged_shards=[r.plan.shard for r in records])
    return R.RunRecord(
        run_id="merged-" + R.new_run_id(),
        status=status,
        exit_code=max((r.exit_code or 0 for r in records), default=0),
        argv=["heaplens", "merge", *[str(r.path.parent) if r.path else r.run_id for r in records]],
        shard_argv=[list(r.argv) for r in records],
        cwd=first.cwd,
        root=first.root,
        started_at=min((r.started_at or time.time()) for r in records),
        finished_at=max((r.finished_at or 0) for r in records) or None,
        versions=dataclasses.replace(first.versions, all=versions),
        options=dict(first.options),
        option_sources=dict(first.option_sources),
        vitest_args=list(first.vitest_args),
        snapshot_dir=first.snapshot_dir,
        plan=plan,
        lanes=lanes,
        shards=[s for r in records for s in (r.shards or [r.run_id])],
        merged_from=[str(r.path) for r in records if r.path],
        merge_conflicts=conflicts,
    )


def load_all(paths: list[str]) -> list[R.RunRecord]:
    return [R.RunRecord.load(Path(p)) for p in paths]
