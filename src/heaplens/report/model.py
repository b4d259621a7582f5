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
from ..diagnose.run import Investigation, RunDiagnosis, cleanup_for, diagnose_run

SCHEMA = "heaplens.report"
SCHEMA_VERSION = 1
TIMELINE_POINTS = 600  # samples kept per lane (evenly thinned; the peak sample is always kept)
DEFAULT_BEHAVIOR = "test/fixtures/test-parallel.behavior.json"


def _read_jsonl(path: str | None) -> list[dict]:
    out: list[dict] = []
    if not path or not Path(path).is_file():
        return out
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # a line cut by a crash
    return out


def _thin(samples: list[dict], n: int) -> list[dict]:
    if len(samples) <= n:
        return samples
    peak = max(range(len(samples)), key=lambda i: samples[i].get("tree_rss") or 0)
    step = len(samples) / n
    keep = sorted({int(i * step) for i in range(n)} | {peak, len(samples) - 1})
    return [samples[i] for i in keep]


def reproduce_command(rec: dict, lane: str | None = None) -> str:
    """The command that reruns the run (or one lane of it) the same way."""
    argv = list(rec.get("argv") or ["heaplens", "run"])
    if len(argv) >= 2 and argv[1] in ("investigate", "verify"):
        argv = ["heaplens", "run", *[a for a in argv[2:] if a not in ("--apply", "--verify")]]
    if lane and "--lane" not in argv:
        argv = [*argv[:argv.index("--")], "--lane", lane, *argv[argv.index("--"):]] if "--" in argv else \
            [*argv, "--lane", lane]
    root = rec.get("root") or rec.get("cwd")
    # options that came from HEAPLENS_*/OPENCLAW_TEST_* variables: the recorded values, as flags
    if "--" in argv:
        i = argv.index("--")
        argv, tail = argv[:i], argv[i:]
    else:
        tail = []
    opts = rec.get("options") or {}
    for key, src in (rec.get("option_sources") or {}).items():
        if isinstance(src, str) and src.startswith("env ") and opts.get(key) is not None:
            argv += _flag(key, opts[key])
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


def _lane_model(name: str, lane: dict) -> dict:
    samples = _read_jsonl(lane.get("samples"))
    t0 = lane.get("started_at") or (samples[0]["t"] if samples else 0)
    pts = [{"t": round(s["t"] - t0, 3), "rss": s.get("tree_rss") or 0,
            "workers": {str(k): v for k, v in (s.get("workers") or {}).items()}} for s in _thin(samples, TIMELINE_POINTS)]
    snaps = lane.get("snapshots") or {}
    markers = []
    for sig in snaps.get("signals") or []:
        if sig.get("signaled"):
            markers.append({"t": round(sig["t"] - t0, 3), "seq": sig.get("seq"), "pids": sig.get("pids") or []})
    spans = [{"file": f["file"], "pid": f.get("pid"), "start": round(f["start_ms"] / 1000 - t0, 3),
              "end": round(f["end_ms"] / 1000 - t0, 3), "delta": f.get("delta"), "rss_end": f.get("rss_end"),
              "peak": f.get("peak"), "heap_delta": (f.get("heap_used_end") or 0) - (f.get("heap_used_start") or 0)}
             for f in lane.get("files") or [] if f.get("start_ms") and f.get("end_ms")]
    faults = []
    for fl in lane.get("faults") or []:
        # when it died: the last sample that still saw the worker
        seen = [s["t"] for s in samples if str(fl.get("pid")) in {str(k) for k in (s.get("workers") or {})}]
        faults.append({**fl, "t": round(seen[-1] - t0, 3) if seen else None})
    busy = sum(len(sig.get("busy") or []) for sig in snaps.get("signals") or [])
    return {
        "name": name,
        "kind": lane.get("kind"),
        "status": lane.get("status"),
        "exit_code": lane.get("exit_code"),
        "elapsed_s": lane.get("elapsed_s"),
        "workers": lane.get("workers_option"),
        "isolate": lane.get("isolate"),
        "files_planned": len(lane.get("files_planned") or []),
        "summary": lane.get("summary") or {},
        "faults": faults,
        "snapshots": {"dir": snaps.get("dir"), "files": len(snaps.get("files") or []),
                      "signals": len(snaps.get("signals") or []), "busy_skips": busy,
                      "dropped": snaps.get("dropped") or []},
        "timeline": {"samples": pts, "snapshots": markers, "files": spans},
        "log": lane.get("log"),
    }


def _behavior_path(rec: dict) -> str | None:
    m = ((rec.get("plan") or {}).get("manifests") or {}).get("behavior")
    if m:
        return m
    root = rec.get("root")
    return str(Path(root) / DEFAULT_BEHAVIOR) if root else None


def _isolation_fix(inv: Investigation, rec: dict) -> dict:
    # by JS heap: transformed modules live there, and a snapshot written during a file inflates its RSS
    files = [f["file"] for f in inv.growth_files(by="heap")]
    no_timing = set((rec.get("plan") or {}).get("no_timing") or [])
    fix = {
        "kind": "isolate",
        "layer": "scheduling",
        "files": files,
        "reason": f"heaplens: module-graph retention in {inv.lane} (pid {inv.pid})",
        "behavior_manifest": _behavior_path(rec),
        "missing_timings": [f for f in files if f in no_timing],
        "manifest_diff": None,
        "text": (f"isolate {len(files)} file(s) that account for most of the worker's growth "
                 f"({', '.join(files)}) so they no longer share a long-lived worker" if files else
                 "isolate the files that grow the worker (no per-file RSS to pick them: rerun with --trace)"),
    }
    if files and rec.get("root"):
        try:
            from ..fix.behavior import isolate

            res = isolate(rec["root"], files, reason=fix["reason"], kind="isolated",
                          behavior_path=fix["behavior_manifest"], dry_run=True)
            fix["manifest_diff"] = res.diff
        except Exception as exc:  # the proposal stays useful without the diff
            fix["manifest_diff_error"] = str(exc)
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


def fix_for(inv: Investigation, rec: dict) -> dict:
    v = inv.diagnosis.verdict
    if v == "module-graph retention":
        return _isolation_fix(inv, rec)
    if v in ("runtime leak", "external memory"):
        return _cleanup_fix(inv)
    if v == "ambiguous":
        return {"kind": "none", "text": "no fix proposed: the cause is unclear — read the retainer chains below "
                "(`heaplens retainers SNAPSHOT --class NAME`) before changing anything"}
    return {"kind": "none", "text": "nothing to fix"}


def _verification(inv: Investigation, lane: dict) -> tuple[list[str], list[str]]:
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
    snaps = lane.get("snapshots") or {}
    busy = sum(1 for sig in snaps.get("signals") or [] if inv.pid in (sig.get("busy") or []))
    if busy:
        not_done.append(f"{busy} snapshot signal(s) of pid {inv.pid} skipped: the worker was still writing the "
                        "previous snapshot (snapshot overhead)")
    inflated = [f["file"] for f in inv.growth_files() if inv.snapshot_during(f)]
    if inflated:
        not_done.append("per-file RSS of " + ", ".join(inflated) + " includes snapshot writing (RSS overhead)")
    if snaps.get("dropped"):
        not_done.append(f"{len(snaps['dropped'])} snapshot(s) dropped by the budget")
    for fl in lane.get("faults") or []:
        if fl.get("pid") == inv.pid and not fl.get("snapshots"):
            not_done.append(f"the worker died ({fl.get('kind')}) without a near-limit snapshot")
    return done, not_done


def _significant(inv: Investigation) -> bool:
    return inv.diagnosis.verdict != "no significant growth"


def build(run_dir: str | os.PathLike, *, rules=None, retainers: bool = True, lanes: list[str] | None = None,
          progress=None, diagnosis: RunDiagnosis | None = None) -> dict:
    rd = diagnosis or diagnose_run(run_dir, rules=rules, retainers=retainers, lanes=lanes, progress=progress)
    rec = rd.record
    lane_recs = rec.get("lanes") or {}
    findings = []
    for inv in rd.investigations:
        lane = lane_recs.get(inv.lane) or {}
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
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "generated_at": time.time(),
        "heaplens": __version__,
        "run": {k: rec.get(k) for k in ("run_id", "status", "exit_code", "argv", "cwd", "root", "started_at",
                                          "finished_at", "versions", "options", "snapshot_dir")} | {"dir": rd.run_dir},
        "reproduce": reproduce_command(rec),
        "rules": rd.rules.sources,
        "verdicts": counts,
        "lanes": [_lane_model(n, l) for n, l in lane_recs.items()],
        "findings": findings,
        "skipped": rd.skipped,
        "fixes": fixes,
        "verification": None,  # filled by `heaplens verify`
    }


def write(doc: dict, path: str | os.PathLike) -> Path:
    from ..runner.record import write_atomic

    p = Path(path)
    write_atomic(p, doc)
    return p


def load(path: str | os.PathLike) -> dict:
    from ..errors import UsageError

    p = Path(path)
    try:
        doc = json.loads(p.read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"{p}: cannot read the report: {exc}") from None
    if doc.get("schema") != SCHEMA:
        raise UsageError(f"{p}: not a heaplens report")
    if int(doc.get("schema_version", 0)) > SCHEMA_VERSION:
        raise UsageError(f"{p}: report schema_version {doc.get('schema_version')} is newer than this heaplens")
    return doc
