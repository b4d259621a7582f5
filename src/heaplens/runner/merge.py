"""Combine the run records of several CI shards (or reruns) into one record of the same schema."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from . import record as R


def _shard(rec: R.RunRecord) -> tuple[int, int] | None:
    try:
        i, n = (int(x) for x in str(rec.plan.shard).split("/"))
        return i, n
    except ValueError:
        return None


def shard_suffix(shard: str) -> str:
    """``2/3`` → ``2of3``: a lane of shard 2 of 3 is ``<lane>@2of3`` in a merged record."""
    return str(shard).replace("/", "of")


def unmerged(key: str) -> str:
    """A merged record's lane key (``unit-fast@2of3``, ``unit-fast@<run id>``) → the lane's own name (``unit-fast``),
    as a rerun's plan names it."""
    return key.split("@", 1)[0]


def merge_records(records: list[R.RunRecord]) -> R.RunRecord:
    """One record with every lane of ``records``: a lane of a shard is ``<name>@<i>of<n>`` (its plan lane too,
    so every reader sees the same name), a lane name present in two unsharded records keeps both, the later
    one as ``<name>@<run id>``; shards in their order, the worst status and the highest exit code."""
    if not records:
        raise ValueError("nothing to merge")
    shards = [_shard(r) for r in records]
    if all(shards):
        records = [r for _, r in sorted(zip(shards, records), key=lambda sr: sr[0])]
        shards = sorted(shards)
    first = records[0]
    notes: list[str] = []
    if all(shards):
        counts = sorted({n for _, n in shards})
        seen = [i for i, _ in shards]
        if len(counts) > 1:
            notes.append(f"the merged shards split the suite differently: {', '.join(f'{i}/{n}' for i, n in shards)}")
        else:
            n = counts[0]
            missing = [i for i in range(1, n + 1) if i not in seen]
            if missing:
                notes.append(f"shard(s) {', '.join(f'{i}/{n}' for i in missing)} missing from the merge: their files "
                             "are not in this run")
            dup = sorted({i for i in seen if seen.count(i) > 1})
            if dup:
                notes.append(f"shard(s) {', '.join(f'{i}/{n}' for i in dup)} merged more than once")
    lanes: dict[str, R.LaneRecord] = {}
    plan_lanes: list[R.PlanLane] = []
    conflicts = []
    deviations = []
    for rec in records:
        shard = rec.plan.shard
        rename: dict[str, str] = {}
        for name, lane in rec.lanes.items():
            key = f"{name}@{shard_suffix(shard)}" if shard else name
            if key in lanes:
                key = f"{key}@{rec.run_id}" if shard else f"{name}@{rec.run_id}"
                conflicts.append(key)
            rename[name] = key
            lanes[key] = dataclasses.replace(lane, run_id=rec.run_id, shard=shard)
        for pl in rec.plan.lanes:
            plan_lanes.append(dataclasses.replace(pl, name=rename.get(pl.name, pl.name)))
        deviations += [dict(d, lane=rename.get(d.get("lane"), d.get("lane"))) for d in rec.plan.deviations]
    statuses = [r.status for r in records]
    status = next((s for s in ("interrupted", "abandoned", "failed", "running") if s in statuses), "passed")
    versions = {k: sorted({str(getattr(r.versions, k)) for r in records}) for k in ("vitest", "jest", "node")
                if k != "jest" or any(r.versions.jest for r in records)}
    plan = R.PlanRecord(lanes=plan_lanes, files=sum(r.plan.files for r in records),
                        no_timing=sorted({f for r in records for f in r.plan.no_timing}),
                        shard=None, merged_shards=[r.plan.shard for r in records],
                        manifests=dict(first.plan.manifests), notes=notes + list(first.plan.notes),
                        suite_config=first.plan.suite_config, deviations=deviations)
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
        options=dict(first.options, shard=None),
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
