"""heaplens on a scenario, the way a user runs it, and its findings compared with the scenario's labels.

``investigate`` runs ``heaplens investigate --root <scenario> --format json`` (the suite's own config: no
worker count, lane or snapshot option is given) and reads the findings of the same run with ``heaplens
diagnose RUN --format json`` (COORDINATION.md: ``workers[].findings[]``). ``compare`` says, per labelled
finding and per finding heaplens gave, what differs; an empty list is a match.

A finding is identified with a labelled one by its kind and its holder's variable (or, with no variable,
its holder kind; module-graph findings by kind alone); then its details are compared: holder kind, file,
line, type (and the labelled property on its path), the fix kind, the labelled classes among its classes,
the labelled severity, and the test files its fix names (non-empty, among the scenario's / the labelled
ones). Every required labelled finding must be found in some worker; no worker may have a finding the
labels do not have, or two findings of one cause. Optional labelled findings may be absent. And some
worker must have two snapshots: "no finding" without a comparison is not a clean verdict.

Before issue 11's engine, ``diagnose`` printed ``results[]`` (one verdict per worker); those are read as
one finding per worker (``legacy``) and compared on what that engine gives — kind, holder kind, variable
and file, classes — so that the docs table can show what it gets right; strict mode fails them anyway.

``one_answer_problems``: the findings ``investigate`` printed (its report's ``workers``) must be the ones
``diagnose RUN`` gives for the same run (issue 11.4)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from corpus_labels import scenario_dir

from helpers import NODE

LEGACY_KINDS = {"runtime leak": "runtime-leak", "module-graph retention": "module-graph",
                "external memory": "external-memory"}


@dataclass
class Outcome:
    label: dict
    run_dir: Path
    diagnosis: dict
    report: dict
    seconds: float
    load: str
    hogs: int
    legacy: bool = False
    workers: list[dict] = field(default_factory=list)  # [{lane, pid, tid, findings: [...]}]


def _heaplens(*args, cwd: Path, timeout: float = 1800) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCLAW_TEST_", "HEAPLENS_", "GITHUB_"))}
    env["HEAPLENS_PROGRESS"] = "0"
    return subprocess.run([sys.executable, "-m", "heaplens", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, env=env, timeout=timeout)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# A busy loop that also ends by itself when the test process is gone (killed before its `finally` ran) or
# after an hour: a hog must never outlive the tests.
HOG_JS = ("const parent = Number(process.argv[1]), end = Date.now() + 3600e3;"
          "for (let i = 0; ; i++) if ((i & 0xffffff) === 0 && (process.ppid !== parent || Date.now() > end)) process.exit(0)")


@contextlib.contextmanager
def cpu_hog(n: int):
    """n busy processes (a Node busy loop each) beside the block; killed, and reaped, when it ends."""
    procs = [subprocess.Popen([NODE, "-e", HOG_JS, str(os.getpid())], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True) for _ in range(n)]
    try:
        time.sleep(0.5)  # busy before the run starts
        yield procs
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
        for p in procs:
            p.wait(timeout=30)


def investigate(label: dict, runs_dir: Path, hogs: int = 0) -> Outcome:
    d = scenario_dir(label)
    runs_dir.mkdir(parents=True, exist_ok=True)
    load = _load()
    with cpu_hog(hogs) if hogs else contextlib.nullcontext():
        t0 = time.monotonic()
        cp = _heaplens("investigate", "--root", d, "--runs-dir", runs_dir, "--format", "json", cwd=d)
        seconds = time.monotonic() - t0
    assert cp.returncode == 0, f"heaplens investigate {d} failed ({cp.returncode}):\n{cp.stdout[-3000:]}\n{cp.stderr[-4000:]}"
    runs = [p.parent for p in runs_dir.glob("*/run.json")]
    assert len(runs) == 1, f"expected one run in {runs_dir}: {runs}"
    report = json.loads(cp.stdout)
    dg = _heaplens("diagnose", runs[0], "--format", "json", cwd=d)
    assert dg.returncode == 0, f"heaplens diagnose {runs[0]} failed:\n{dg.stderr[-4000:]}"
    (runs[0] / "corpus-diagnosis.json").write_text(dg.stdout)  # kept with the run, for a failing test
    doc = json.loads(dg.stdout)
    out = Outcome(label, runs[0], doc, report, seconds, load, hogs)
    if isinstance(doc.get("workers"), list):
        out.workers = [{"lane": w.get("lane"), "pid": w.get("pid"), "tid": w.get("tid"),
                        "snapshots": list(w.get("snapshots") or []), "findings": list(w.get("findings") or [])}
                       for w in doc["workers"]]
    else:
        out.legacy = True
        out.workers = [_legacy_worker(r) for r in doc.get("results", [])]
    return out


def _answer(workers: list[dict]) -> list[tuple]:
    """A run's findings as comparable keys: per worker, each finding's kind, holder, fix kind, severity."""
    out = []
    for w in workers:
        for f in w.get("findings") or []:
            h, fix = f.get("holder") or {}, f.get("fix") or {}
            out.append((w.get("lane"), w.get("pid"), w.get("tid"), f.get("kind"), h.get("kind"), h.get("variable"),
                        h.get("file"), h.get("line"), h.get("type"), fix.get("kind"), f.get("severity")))
    return sorted(out, key=repr)


def one_answer_problems(out: Outcome) -> list[str]:
    """issue 11.4: the findings `investigate` printed are the ones `diagnose RUN` gives for that run."""
    if out.legacy or not isinstance(out.report.get("workers"), list):
        return []
    printed, diagnosed = _answer(out.report["workers"]), _answer(out.diagnosis["workers"])
    if printed == diagnosed:
        return []
    return [f"investigate printed {len(printed)} finding(s), diagnose RUN gives {len(diagnosed)}, and they differ: "
            f"{sorted(set(printed) ^ set(diagnosed), key=repr)[:4]}"]


def _legacy_worker(r: dict) -> dict:
    kind = LEGACY_KINDS.get(r.get("verdict"))
    findings = []
    if kind:
        holders = r.get("holders") or []
        h = next((h for h in holders if not h.get("via_loader")), holders[0] if holders else {})
        findings.append({
            "kind": kind, "legacy_verdict": f"{r.get('verdict')} ({r.get('confidence')})",
            "holder": {"kind": "module-registry" if h.get("kind") == "module-loader" else h.get("kind"),
                       "variable": h.get("variable"), "file": h.get("source"), "line": None, "type": None},
            "classes": [{"name": h["class_name"]}] if h.get("class_name") else [], "fix": {"kind": None, "files": []},
        })
    return {"lane": r.get("lane"), "pid": r.get("pid"), "tid": None, "snapshots": list(r.get("snapshots") or []),
            "findings": findings,
            "legacy_verdict": f"{r.get('verdict')} ({r.get('confidence')})"}


def _rel(path: str | None, root: Path) -> str | None:
    if not path:
        return path
    path = path.removeprefix("file://")
    p = Path(path)
    if p.is_absolute():
        try:
            return str(p.resolve().relative_to(root.resolve()))
        except ValueError:
            return path
    return path


def _identity(f: dict) -> tuple:
    h = f.get("holder") or {}
    if f.get("kind") == "module-graph":
        return ("module-graph",)
    return (f.get("kind"), h.get("variable") if h.get("variable") is not None else h.get("kind"))


def detail_problems(want: dict, got: dict, label: dict) -> list[str]:
    root = scenario_dir(label)
    wh, gh = want["holder"], got.get("holder") or {}
    out = []
    if gh.get("kind") != wh["kind"]:
        out.append(f"holder kind {gh.get('kind')!r}, labelled {wh['kind']!r}")
    legacy = "legacy_verdict" in got  # that engine gives no line, type, path, fix kind, severity or fix files
    for key in ("variable",) if legacy else ("variable", "line", "type"):
        if wh.get(key) is not None and gh.get(key) != wh[key]:
            out.append(f"holder {key} {gh.get(key)!r}, labelled {wh[key]!r}")
    if wh.get("file") is not None and _rel(gh.get("file"), root) != wh["file"]:
        out.append(f"holder file {gh.get('file')!r}, labelled {wh['file']!r}")
    names = {c.get("name") for c in got.get("classes") or []}
    missing = [c for c in want["classes"] if c not in names]
    if missing:
        out.append(f"classes {sorted(n for n in names if n)[:8]} lack {missing}")
    if legacy:
        return out
    if wh.get("property") and wh["property"] not in (gh.get("path") or ""):
        out.append(f"holder path {gh.get('path')!r} does not name the property {wh['property']!r}")
    fix = got.get("fix") or {}
    if fix.get("kind") != want["fix"]:
        out.append(f"fix {fix.get('kind')!r}, labelled {want['fix']!r}")
    if want.get("severity") and got.get("severity") != want["severity"]:
        out.append(f"severity {got.get('severity')!r}, labelled {want['severity']!r}")
    allowed = set(want.get("fix_files") or label["files"])
    files = [_rel(f, root) for f in fix.get("files") or []]
    if not files:
        out.append("the fix names no test file")
    elif not set(files) <= allowed:
        out.append(f"the fix names files {sorted(set(files) - allowed)[:5]} outside {sorted(allowed)[:5]}")
    return out


def compare(label: dict, workers: list[dict]) -> list[str]:
    wanted = {_identity(f): f for f in label["findings"]}
    problems, found = [], set()
    # a verdict (a finding, or none) means something only when heaplens compared two snapshots of a worker
    if not any(len(w.get("snapshots") or []) >= 2 for w in workers):
        problems.append(f"no worker has two snapshots ({[len(w.get('snapshots') or []) for w in workers]}): "
                        "heaplens compared nothing")
    for w in workers:
        seen = set()
        where = f"{w.get('lane')} pid {w.get('pid')}" + (f" tid {w['tid']}" if w.get("tid") else "")
        for f in w["findings"]:
            ident = _identity(f)
            want = wanted.get(ident)
            if want is None:
                problems.append(f"{where}: unlabelled finding {short(f)}")
                continue
            if ident in seen:
                problems.append(f"{where}: two findings for one cause {ident}")
            seen.add(ident)
            found.add(ident)
            problems += [f"{where}: {short(f)}: {p}" for p in detail_problems(want, f, label)]
    for ident, want in wanted.items():
        if ident not in found and not want.get("optional"):
            problems.append(f"missing: {short(want)}")
    return problems


def short(f: dict) -> str:
    """One line for a finding (labelled or given): kind, holder, fix."""
    h = f.get("holder") or {}
    fix = f.get("fix")
    fix = fix.get("kind") if isinstance(fix, dict) else fix
    if f.get("kind") == "module-graph":
        text = "module-graph"
    else:
        name = h.get("variable") or h.get("kind")
        where = f" ({h['file']})" if h.get("file") else ""
        text = f"{f.get('kind')} `{name}`{where} [{h.get('kind')}, {h.get('type')}]"
    text += f" → {fix}"
    if f.get("severity"):
        text += f", {f['severity']}"
    if f.get("legacy_verdict"):
        text += f" (legacy verdict: {f['legacy_verdict']})"
    return text
