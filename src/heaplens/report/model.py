"""The report model: one versioned JSON document per run that every renderer reads (terminal,
Markdown, JSON, HTML), built from the run record and the run's diagnosis.

For each investigated worker (``workers``) it holds the seed's six things: the reproduce command, the
lane + PID compared (with the snapshot files), the dominant families, its findings — one per cause,
biggest first, each with severity, confidence, holder and fix (``heaplens.diagnose``) — and what was
verified and what was not. ``findings`` lists every finding of the run with its lane and pid, biggest
first; ``counts`` counts them. Beside them, the data the
HTML report draws: RSS timelines per lane and worker with snapshot markers and faults, per-file RSS
growth, the top families across snapshots. Schema: docs/report.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import time
from pathlib import Path

from .. import __version__
from ..atomicfile import write_json_atomic
from ..diagnose.run import RunDiagnosis
from ..errors import UsageError
from ..inputfile import check_schema, read_document
from ..runner.options import OPTS
from ..runner.record import LaneRecord, RunRecord
from .findings import LABEL

SCHEMA = "heaplens.report"
SCHEMA_VERSION = 2
TIMELINE_POINTS = 600  # samples kept per lane (evenly thinned; the peak sample is always kept)
# options that decide where files go, not what the run measures
NOT_REPRODUCED = frozenset({"runs_dir", "snapshot_dir", "lane"})
DEFAULT_BEHAVIOR = "test/fixtures/test-parallel.behavior.json"


def _read_jsonl(path: str | None) -> list[dict]:
    out: list[dict] = []
    if not path or not Path(path).is_file():
        return out
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                item = json.loads(line)
            except (ValueError, RecursionError):
                continue  # a line cut by a crash
            if isinstance(item, dict) and isinstance(item.get("t"), (int, float)):
                out.append(item)
    return out


def _thin(samples: list[dict], n: int) -> list[dict]:
    if len(samples) <= n:
        return samples
    peak = max(range(len(samples)), key=lambda i: samples[i].get("tree_rss") or 0)
    step = len(samples) / n
    keep = sorted({int(i * step) for i in range(n)} | {peak, len(samples) - 1})
    return [samples[i] for i in keep]


def reproduce_command(rec: RunRecord, lane: str | None = None) -> str:
    """The command that reruns the run (or one lane of it) the same way."""
    argv = list(rec.argv or ["heaplens", "run"])
    if len(argv) >= 2 and argv[1] == "merge" and rec.shard_argv:
        # a merged run: a lane's own shard's command (its lane by its name there), else the first shard's
        i = 0
        src = rec.lanes.get(lane) if lane else None
        if src is not None and src.run_id in rec.shards and len(rec.shards) == len(rec.shard_argv):
            i = rec.shards.index(src.run_id)
            lane = src.name
        argv = list(rec.shard_argv[i])
    if len(argv) >= 2 and argv[1] in ("investigate", "verify"):
        argv = ["heaplens", "run", *[a for a in argv[2:] if a not in ("--apply", "--verify")]]
    if lane and "--lane" not in argv:
        argv = [*argv[:argv.index("--")], "--lane", lane, *argv[argv.index("--"):]] if "--" in argv else \
            [*argv, "--lane", lane]
    root = rec.root or rec.cwd
    # options that came from HEAPLENS_*/OPENCLAW_TEST_* variables: the recorded values, as flags
    if "--" in argv:
        i = argv.index("--")
        argv, tail = argv[:i], argv[i:]
    else:
        tail = []
    # every option that shaped the run and is not on its command line (from HEAPLENS_*/OPENCLAW_TEST_*,
    # heaplens.toml, or investigate's own defaults): the recorded value as a flag, so the command reruns it
    # alike wherever it is read
    defaults = {o.key: o.default for o in OPTS}
    for key, value in rec.options.items():
        src = rec.option_sources.get(key, "default")
        if src == "cli" or key in NOT_REPRODUCED or value is None or key not in defaults:
            continue
        if value != defaults[key] and not (key == "shard" and list(value) == list(defaults[key] or [])):
            argv += _flag(key, value)
    cmd = shlex.join([*argv, *tail])
    return f"cd {shlex.quote(root)} && {cmd}" if root else cmd


def _flag(key: str, value) -> list[str]:
    name = "--" + key.replace("_", "-")
    if isinstance(value, bool):
        return [name if value else "--no-" + key.replace("_", "-")]
    if isinstance(value, (list, tuple)):
        value = "/".join(map(str, value)) if key == "shard" else ",".join(map(str, value))
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    return [name, str(value)]


def _lane_model(name: str, lane: LaneRecord) -> dict:
    samples = _read_jsonl(lane.samples)
    t0 = lane.started_at or (samples[0]["t"] if samples else 0)
    pts = [{"t": round(s["t"] - t0, 3), "rss": s.get("tree_rss") or 0,
            "workers": {str(k): v for k, v in (s.get("workers") or {}).items()}} for s in _thin(samples, TIMELINE_POINTS)]
    snaps = lane.snapshots
    markers = [{"t": round(sig.t - t0, 3), "seq": sig.seq, "pids": sig.pids} for sig in snaps.signals if sig.signaled]
    # snapshots the workers wrote themselves at file boundaries (one marker each)
    markers += [{"t": round(w.t / 1000 - t0, 3), "seq": i, "pids": [w.pid]}
                for i, w in enumerate(snaps.written, 1) if w.t]
    markers.sort(key=lambda m: m["t"])
    # a worker is a process or a thread: its row is its key (PID, or PID.TID)
    spans = [{"file": f.file, "pid": f.worker or f.pid, "start": round(f.start_ms / 1000 - t0, 3),
              "end": round(f.end_ms / 1000 - t0, 3), "delta": f.delta, "rss_end": f.rss_end,
              "peak": f.peak, "heap_delta": f.heap_delta or 0}
             for f in lane.files if f.start_ms and f.end_ms]
    faults = []
    for fl in lane.faults:
        # when it died: the last sample that still saw the worker
        seen = [s["t"] for s in samples if str(fl.pid) in {str(k) for k in (s.get("workers") or {})}]
        faults.append({**fl.to_json(), "t": round(seen[-1] - t0, 3) if seen else None})
    busy = sum(len(sig.busy) for sig in snaps.signals)
    return {
        "name": name,
        "kind": lane.kind,
        "status": lane.status,
        "exit_code": lane.exit_code,
        "elapsed_s": lane.elapsed_s,
        "workers": lane.workers_option,
        "isolate": lane.isolate,
        "pool": lane.pool,
        # the suite's own settings for the lane's files, and every way the lane differed from them
        "config": lane.config,
        "deviations": [str(d.get("text") or "") for d in lane.deviations],
        "files_planned": len(lane.files_planned),
        "summary": lane.summary.to_json(),
        "faults": faults,
        "snapshots": {"dir": snaps.dir, "files": len(snaps.files), "signals": len(snaps.signals), "busy_skips": busy,
                      "dropped": snaps.dropped, "written": len(snaps.written), "stats": snaps.stats,
                      "notices": [n.text for n in snaps.notices], "after_last": snaps.after_last},
        "timeline": {"samples": pts, "snapshots": markers, "files": spans},
        "log": lane.log,
    }


def _behavior_path(rec: RunRecord) -> str | None:
    m = rec.plan.manifests.get("behavior")
    if m:
        return m
    return str(Path(rec.root) / DEFAULT_BEHAVIOR) if rec.root else None


def _isolation(f: dict, w: dict, rec: RunRecord) -> None:
    """An isolate fix also says which manifest it would touch (the concrete edit, ``manifest_diff``, is
    added by the workflow: heaplens.fix makes it) and which of its files have no timing."""
    fix = f["fix"]
    files = list(fix.get("files") or [])
    no_timing = set(rec.plan.no_timing)
    fix.update({"layer": "scheduling", "reason": f"heaplens: module-graph retention in {w['lane']} (pid {w['pid']})",
                "behavior_manifest": _behavior_path(rec), "missing_timings": [x for x in files if x in no_timing],
                "manifest_diff": None})


def _verification(w: dict, lane: LaneRecord | None) -> tuple[list[str], list[str]]:
    done, not_done = [], []
    snaps = w.get("snapshots") or []
    if len(snaps) >= 2:
        done.append(f"compared {len(snaps)} snapshot(s) of pid {w['pid']} by object id: every new object attributed "
                    "to the pre-existing object that keeps it")
    else:
        not_done.append("no snapshot pair for this worker: no verdict, only the RSS trace")
    if len(snaps) >= 2 and not w.get("analysed"):
        not_done.append("holders not analysed (--no-retainers)")
    for f in w.get("findings") or []:
        ev = [e for e in f.get("evidence") or [] if e.startswith("across ")]
        if ev:
            done.append(f"{f['title']}: {ev[0]}")
        elif len(snaps) == 2:
            not_done.append(f"{f['title']}: two snapshots only — growth in every interval not shown")
    if (w.get("coverage") or {}).get("uncovered"):
        not_done.append(w["coverage"]["uncovered"])
    if lane is None:
        return done, not_done
    busy = sum(1 for sig in lane.snapshots.signals if w.get("pid") in sig.busy)
    if busy:
        not_done.append(f"{busy} snapshot signal(s) of pid {w['pid']} skipped: the worker was still writing the "
                        "previous snapshot (snapshot overhead)")
    if lane.snapshots.dropped:
        not_done.append(f"{len(lane.snapshots.dropped)} snapshot(s) dropped (the budget, or a cut write: "
                        "lane.snapshots.dropped says which)")
    for fl in lane.faults:
        if fl.pid == w.get("pid") and not fl.snapshots:
            not_done.append(f"the worker died ({fl.kind}) without a near-limit snapshot")
    return done, not_done


def status_text(rec: RunRecord) -> str:
    """The run's status in words: ``passed (exit 0)``; a run without an exit code says why it has none."""
    if rec.exit_code is not None:
        return f"{rec.status} (exit {rec.exit_code})"
    who = f"heaplens pid {rec.owner.pid} on {rec.owner.host}" if rec.owner else "the heaplens that ran it"
    if rec.status == "abandoned":
        return f"abandoned ({who} died before the run finished: no exit code; lanes not recorded did not finish)"
    if rec.status == "running":
        return f"running ({who} has not finished it)"
    return rec.status


def build(rd: RunDiagnosis) -> dict:
    """The report model of a diagnosed run (:func:`heaplens.diagnose.run.diagnose_run`): ``workers`` (the
    seed's six things per worker, its findings one per cause) and ``findings`` (all of them, with their lane
    and pid, biggest first) — the same findings ``heaplens diagnose RUN`` prints."""
    rec = rd.record
    workers, findings = [], []
    for wd in rd.workers:
        w = wd.to_json()
        lane = rec.lanes.get(w["lane"])
        w["reproduce"] = reproduce_command(rec, w["lane"])
        w["significant"] = bool(w["findings"]) or bool((w.get("coverage") or {}).get("uncovered"))
        for f in w["findings"]:
            if f["fix"]["kind"] == "isolate":
                _isolation(f, w, rec)
            findings.append({**f, "lane": w["lane"], "pid": w["pid"], "tid": w.get("tid")})
        w["verified"], w["not_verified"] = _verification(w, lane)
        workers.append(w)
    # most important first: workers with findings, the biggest growth first
    workers.sort(key=lambda w: (not w["significant"], -sum(f["retained_growth"] for f in w["findings"]),
                                -((w.get("trace") or {}).get("rss_growth") or 0)))
    findings.sort(key=lambda f: -f["retained_growth"])
    fixes = {
        "isolate": sorted({p for f in findings if f["fix"]["kind"] == "isolate" for p in f["fix"].get("files") or []}),
        "missing_timings": sorted({p for f in findings if f["fix"]["kind"] == "isolate"
                                   for p in f["fix"].get("missing_timings") or []}),
        "cleanups": [f"{f['fix']['kind']}: {f['fix']['text']}" for f in findings
                     if f["fix"]["kind"] not in ("isolate", "none")],
    }
    counts: dict[str, int] = {}
    for f in findings:
        counts[LABEL[f["kind"]]] = counts.get(LABEL[f["kind"]], 0) + 1
    quiet = sum(1 for w in workers if not w["significant"])
    if quiet:
        counts["no significant growth"] = quiet
    run = {k: getattr(rec, k) for k in ("run_id", "status", "exit_code", "argv", "cwd", "root", "started_at",
                                         "finished_at", "options", "snapshot_dir")}
    run["status_text"] = status_text(rec)
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "generated_at": time.time(),
        "heaplens": __version__,
        "produced_by": None,  # what produced it (engine, options, rules): set by the workflow that caches it
        "diagnosis": rd.to_json() | {"workers": None},  # engine, rules digest, options (the workers are below)
        "run": run | {"versions": rec.versions.to_json(), "dir": str(rec.dir)},
        "reproduce": reproduce_command(rec),
        "rules": rd.rules.sources,
        "verdicts": counts,
        "counts": {"findings": len(findings), "workers": len(workers), **counts},
        "lanes": [_lane_model(n, l) for n, l in rec.lanes.items()],
        "workers": workers,
        "findings": findings,
        "skipped": rd.skipped,
        "fixes": fixes,
        "verification": None,  # filled by `heaplens verify`
    }


def digest(doc: dict) -> str:
    """A hash of the model's content (its ``digest`` key left out): a saved model is reused only when it is
    exactly what heaplens wrote (issue 14 item 6: a damaged or edited cache is rebuilt, not rendered)."""
    body = {k: v for k, v in doc.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=True).encode()).hexdigest()


def write(doc: dict, path: str | os.PathLike) -> Path:
    p = Path(path)
    doc["digest"] = digest(doc)
    write_json_atomic(p, doc)
    return p


def load(path: str | os.PathLike) -> dict:
    """A saved report model; :class:`UsageError` (one line) when it is not one this heaplens can read."""
    p = Path(path)
    doc = read_document(p, "report")
    check_schema(doc, SCHEMA, SCHEMA_VERSION, str(p), "report")
    for key, kind in (("run", dict), ("lanes", list), ("workers", list), ("findings", list), ("fixes", dict)):
        if not isinstance(doc.get(key), kind):
            raise UsageError(f"{p}: report key {key!r} is missing or of the wrong type")
    try:
        same = doc.get("digest") == digest(doc)
    except (TypeError, ValueError, RecursionError):
        same = False
    if not same:
        raise UsageError(f"{p}: the report is not what heaplens wrote (damaged or edited)")
    return doc
