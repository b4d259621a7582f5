"""The report model: one versioned JSON document per run that every renderer reads (terminal,
Markdown, JSON, HTML), built from the run record and the run's diagnosis.

For each investigated worker (``workers``) it holds the seed's six things: the reproduce command, the
lane + PID compared (with the snapshot files), the dominant families, its findings — one per cause,
biggest first, each with severity, confidence, holder and fix (``heaplens.diagnose``, the same answer
``heaplens diagnose RUN`` gives) — and what was verified and what was not. ``findings`` lists every
finding of the run (with its lane and pid), ``counts`` counts them. Beside them, the data the
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
SCHEMA = "heaplens.report"
SCHEMA_VERSION = 2
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


def _isolation(f: dict, w: dict, rec: dict) -> None:
    """An isolate fix also says which manifest it would touch, with the dry-run diff."""
    fix = f["fix"]
    files = list(fix.get("files") or [])
    no_timing = set((rec.get("plan") or {}).get("no_timing") or [])
    fix.update({"reason": f"heaplens: module-graph retention in {w['lane']} (pid {w['pid']})",
                "behavior_manifest": _behavior_path(rec), "missing_timings": [x for x in files if x in no_timing],
                "manifest_diff": None})
    if files and rec.get("root"):
        try:
            from ..fix.behavior import isolate

            res = isolate(rec["root"], files, reason=fix["reason"], kind="isolated",
                          behavior_path=fix["behavior_manifest"], dry_run=True)
            fix["manifest_diff"] = res.diff
        except Exception as exc:  # the proposal stays useful without the diff
            fix["manifest_diff_error"] = str(exc)


def _verification(w: dict, lane: dict) -> tuple[list[str], list[str]]:
    done, not_done = [], []
    snaps = w.get("snapshots") or []
    if len(snaps) >= 2:
        done.append(f"compared {len(snaps)} snapshot(s) of pid {w['pid']} by object id: every new object attributed to "
                    "the pre-existing object that keeps it")
    else:
        not_done.append("no snapshot pair for this worker: no verdict, only the RSS trace")
    for f in w.get("findings") or []:
        ev = [e for e in f.get("evidence") or [] if e.startswith("across ")]
        if ev:
            done.append(f"{f['title']}: {ev[0]}")
        elif len(snaps) == 2:
            not_done.append(f"{f['title']}: two snapshots only — growth in every interval not shown")
    if (w.get("coverage") or {}).get("uncovered"):
        not_done.append(w["coverage"]["uncovered"])
    sig = lane.get("snapshots") or {}
    busy = sum(1 for s in sig.get("signals") or [] if w.get("pid") in (s.get("busy") or []))
    if busy:
        not_done.append(f"{busy} snapshot signal(s) of pid {w['pid']} skipped: the worker was still writing the "
                        "previous snapshot (snapshot overhead)")
    if sig.get("dropped"):
        not_done.append(f"{len(sig['dropped'])} snapshot(s) dropped by the budget")
    for fl in lane.get("faults") or []:
        if fl.get("pid") == w.get("pid") and not fl.get("snapshots"):
            not_done.append(f"the worker died ({fl.get('kind')}) without a near-limit snapshot")
    return done, not_done


COUNT_LABELS = {"module-graph": "module-graph retention", "runtime-leak": "runtime leak",
                "external-memory": "external memory"}


def build(run_dir: str | os.PathLike, *, rules=None, retainers: bool = True, lanes: list[str] | None = None,
          progress=None, diagnosis: dict | None = None, rebuild: bool = False) -> dict:
    """The report model; ``diagnosis`` (the run's diagnosis JSON) is made — or read from the run's
    cache — when not given, so the findings are the ones ``heaplens diagnose RUN`` prints."""
    from ..diagnose.run import cached_diagnosis, load_run

    path, rec = load_run(run_dir)
    diag = diagnosis or cached_diagnosis(path, rules=rules, retainers=retainers, lanes=lanes, rebuild=rebuild,
                                         progress=progress)
    lane_recs = rec.get("lanes") or {}
    workers, findings = [], []
    for w in diag["workers"]:
        w = dict(w)
        lane = lane_recs.get(w["lane"]) or {}
        w["reproduce"] = reproduce_command(rec, w["lane"])
        w["significant"] = bool(w.get("findings")) or bool((w.get("coverage") or {}).get("uncovered"))
        for f in w.get("findings") or []:
            if f["fix"]["kind"] == "isolate":
                _isolation(f, w, rec)
            findings.append({**f, "lane": w["lane"], "pid": w["pid"], "tid": w.get("tid")})
        w["verified"], w["not_verified"] = _verification(w, lane)
        workers.append(w)
    # most important first: workers with findings, the biggest growth first
    workers.sort(key=lambda w: (not w["significant"],
                                -sum(f["retained_growth"] for f in w.get("findings") or []),
                                -((w.get("trace") or {}).get("rss_growth") or 0)))
    findings.sort(key=lambda f: -f["retained_growth"])
    counts: dict[str, int] = {}
    for f in findings:
        counts[COUNT_LABELS[f["kind"]]] = counts.get(COUNT_LABELS[f["kind"]], 0) + 1
    quiet = sum(1 for w in workers if not w["significant"])
    if quiet:
        counts["no significant growth"] = quiet
    isolate = sorted({p for f in findings if f["fix"]["kind"] == "isolate" for p in f["fix"].get("files") or []})
    fixes = {
        "isolate": isolate,
        "missing_timings": sorted({p for f in findings if f["fix"]["kind"] == "isolate"
                                   for p in f["fix"].get("missing_timings") or []}),
        "cleanups": [f"{f['fix']['kind']}: {f['fix']['text']}" for f in findings
                     if f["fix"]["kind"] not in ("isolate", "none")],
    }
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "generated_at": time.time(),
        "heaplens": __version__,
        "diagnosis": {k: diag.get(k) for k in ("engine", "rules", "rules_digest", "options")},
        "run": {k: rec.get(k) for k in ("run_id", "status", "exit_code", "argv", "cwd", "root", "started_at",
                                          "finished_at", "versions", "options", "snapshot_dir")} | {"dir": str(path)},
        "reproduce": reproduce_command(rec),
        "rules": diag.get("rules"),
        "verdicts": counts,
        "counts": {"findings": len(findings), "workers": len(workers), **{k: v for k, v in counts.items()}},
        "lanes": [_lane_model(n, l) for n, l in lane_recs.items()],
        "workers": workers,
        "findings": findings,
        "skipped": diag.get("skipped") or [],
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
