"""The report model: one versioned JSON document per run that every renderer reads (terminal,
Markdown, JSON, HTML), built from the run record and the run's diagnosis.

For each investigated worker it holds the seed's six things: the reproduce command, the lane + PID
compared (with the snapshot files), the dominant families, the verdict with its retainer
confirmation, the concrete fix, and what was verified and what was not. Beside them, the data the
HTML report draws: RSS timelines per lane and worker with snapshot markers and faults, per-file RSS
growth, the top families across snapshots. Schema: docs/report.md.
"""

from __future__ import annotations

import json
import os
import shlex
import time
from pathlib import Path

from .. import __version__
from ..atomicfile import write_json_atomic
from ..diagnose.run import Investigation, RunDiagnosis, cleanup_for
from ..errors import UsageError
from ..runner.options import OPTS
from ..runner.record import LaneRecord, RunRecord

SCHEMA = "heaplens.report"
SCHEMA_VERSION = 1
TIMELINE_POINTS = 600  # samples kept per lane (evenly thinned; the peak sample is always kept)
# what the retaining chains said of a verdict (``confirmed_by_retainers``), in words: every renderer uses these
CONFIRMATION = {True: "confirmed by retainers", False: "retainers disagree", None: "retainers not checked"}
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
        argv = list(rec.shard_argv[0])  # a merged run: the shards ran alike
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


def _isolation_fix(inv: Investigation, rec: RunRecord) -> dict:
    # by JS heap: transformed modules live there, and a snapshot written during a file inflates its RSS
    files = [f["file"] for f in inv.growth_files(by="heap")]
    no_timing = set(rec.plan.no_timing)
    fix = {
        "kind": "isolate",
        "layer": "scheduling",
        "files": files,
        "reason": f"heaplens: module-graph retention in {inv.lane} (pid {inv.pid})",
        "behavior_manifest": _behavior_path(rec),
        "missing_timings": [f for f in files if f in no_timing],
        "manifest_diff": None,  # the concrete edit, added by the workflow (heaplens.fix makes it)
        "text": (f"isolate {len(files)} file(s) that account for most of the worker's growth "
                 f"({', '.join(files)}) so they no longer share a long-lived worker" if files else
                 "isolate the files that grow the worker (no per-file RSS to pick them: rerun with --trace)"),
    }
    return fix


def _cleanup_fix(inv: Investigation) -> dict:
    d = inv.diagnosis
    if d.bucket == "external":
        files = [f["file"] for f in inv.growth_files()]
        return {"kind": "cleanup", "layer": "test code", "cleanup": cleanup_for("external"), "holder": None,
                "files": files,
                "text": "release the Buffers/ArrayBuffers the tests keep" + (f" (largest growth: {', '.join(files)})"
                                                                           if files else "")}
    user = [h for h in inv.holders if not h.via_loader] or inv.holders
    if not user:
        return {"kind": "cleanup", "layer": "test code", "holder": None, "cleanup": cleanup_for("variable"),
                "text": "find the holder with `heaplens retainers` on the latest snapshot (no retainer chain was "
                        "recovered)"}
    h = user[0]
    where = f"`{h.variable}`" if h.variable else "the holder"
    src = f" in {h.source}" if h.source else ""
    return {"kind": "cleanup", "layer": "test code", "holder": h.to_json(), "cleanup": cleanup_for(h.kind),
            "text": f"{h.count:,} new `{h.class_name}` are kept by {where}{src} ({h.kind}); {cleanup_for(h.kind)}",
            "chain": h.chain}


def fix_for(inv: Investigation, rec: RunRecord) -> dict:
    v = inv.diagnosis.verdict
    if v == "module-graph retention":
        return _isolation_fix(inv, rec)
    if v in ("runtime leak", "external memory"):
        return _cleanup_fix(inv)
    if v == "ambiguous":
        return {"kind": "none", "text": "no fix proposed: the cause is unclear — read the retainer chains below "
                "(`heaplens retainers SNAPSHOT --class NAME`) before changing anything"}
    return {"kind": "none", "text": "nothing to fix"}


def _verification(inv: Investigation, lane: LaneRecord | None) -> tuple[list[str], list[str]]:
    d = inv.diagnosis
    done, not_done = [], []
    if inv.before:
        done.append(f"compared {len(inv.snapshots)} snapshot(s) of pid {inv.pid} (earliest vs latest)")
    else:
        not_done.append("no snapshot pair for this worker: the verdict rests on the RSS trace only")
    if d.confirmed is True:
        done.append("the retaining chains of the new objects agree with the verdict (id-based diff, same process)")
    elif d.confirmed is False:
        not_done.append("the retaining chains do not agree with the verdict")
    elif inv.before and d.verdict != "no significant growth":
        not_done.append("retainers not checked")
    if inv.monotonic is True:
        done.append(f"growth monotonic across {len(inv.totals)} snapshots")
    elif inv.monotonic is False:
        not_done.append("growth is not monotonic across the intervals")
    elif inv.before:
        not_done.append("only two snapshots: monotonic growth across intervals not shown")
    if lane is None:
        return done, not_done
    busy = sum(1 for sig in lane.snapshots.signals if inv.pid in sig.busy)
    if busy:
        not_done.append(f"{busy} snapshot signal(s) of pid {inv.pid} skipped: the worker was still writing the "
                        "previous snapshot (snapshot overhead)")
    inflated = [f["file"] for f in inv.growth_files() if inv.snapshot_during(f)]
    if inflated:
        not_done.append("per-file RSS of " + ", ".join(inflated) + " includes snapshot writing (RSS overhead)")
    if lane.snapshots.dropped:
        not_done.append(f"{len(lane.snapshots.dropped)} snapshot(s) dropped by the budget")
    for fl in lane.faults:
        if fl.pid == inv.pid and not fl.snapshots:
            not_done.append(f"the worker died ({fl.kind}) without a near-limit snapshot")
    return done, not_done


def _significant(inv: Investigation) -> bool:
    return inv.diagnosis.verdict != "no significant growth"


def build(rd: RunDiagnosis) -> dict:
    """The report model of a diagnosed run (:func:`heaplens.diagnose.run.diagnose_run`)."""
    rec = rd.record
    findings = []
    for inv in rd.investigations:
        lane = rec.lanes.get(inv.lane)
        done, not_done = _verification(inv, lane)
        findings.append({
            **inv.to_json(),
            "reproduce": reproduce_command(rec, inv.lane),
            "significant": _significant(inv),
            "fix": fix_for(inv, rec),
            "verified": done,
            "not_verified": not_done,
        })
    # most important first: significant verdicts with the most growth
    findings.sort(key=lambda f: (not f["significant"], -(f.get("growth") or 0), -(f["trace"].get("rss_growth") or 0)
                                 if f.get("trace") else 0))
    isolate = sorted({p for f in findings if f["fix"]["kind"] == "isolate" for p in f["fix"]["files"]})
    fixes = {
        "isolate": isolate,
        "missing_timings": sorted({p for f in findings if f["fix"]["kind"] == "isolate"
                                   for p in f["fix"]["missing_timings"]}),
        "cleanups": [f["fix"]["text"] for f in findings if f["fix"]["kind"] == "cleanup"],
    }
    counts: dict[str, int] = {}
    for f in findings:
        counts[f["verdict"]] = counts.get(f["verdict"], 0) + 1
    run = {k: getattr(rec, k) for k in ("run_id", "status", "exit_code", "argv", "cwd", "root", "started_at",
                                         "finished_at", "options", "snapshot_dir")}
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "generated_at": time.time(),
        "heaplens": __version__,
        "produced_by": None,  # what produced it (engine, options, rules): set by the workflow that caches it
        "run": run | {"versions": rec.versions.to_json(), "dir": str(rec.dir)},
        "reproduce": reproduce_command(rec),
        "rules": rd.rules.sources,
        "verdicts": counts,
        "lanes": [_lane_model(n, l) for n, l in rec.lanes.items()],
        "findings": findings,
        "skipped": rd.skipped,
        "fixes": fixes,
        "verification": None,  # filled by `heaplens verify`
    }


def write(doc: dict, path: str | os.PathLike) -> Path:
    p = Path(path)
    write_json_atomic(p, doc)
    return p


def load(path: str | os.PathLike) -> dict:
    """A saved report model; :class:`UsageError` (one line) when it is not one this heaplens can read."""
    p = Path(path)
    try:
        doc = json.loads(p.read_bytes())
    except RecursionError:
        raise UsageError(f"{p}: not a heaplens report (nested too deeply)") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{p}: cannot read the report: {exc}") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise UsageError(f"{p}: not a heaplens report")
    version = doc.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise UsageError(f"{p}: report schema_version: expected an integer")
    if version > SCHEMA_VERSION:
        raise UsageError(f"{p}: report schema_version {version} is newer than this heaplens")
    for key, kind in (("run", dict), ("lanes", list), ("findings", list), ("fixes", dict)):
        if not isinstance(doc.get(key), kind):
            raise UsageError(f"{p}: report key {key!r} is missing or of the wrong type")
    return doc
