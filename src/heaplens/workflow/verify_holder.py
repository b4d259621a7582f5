"""Verify a runtime-leak fix with the most direct proof: the holder no longer grows.

A runtime leak is new objects kept by a holder that already existed (a module-level Map, a listener list, a
global, a class static). Its fix is a change in the user's code (heaplens shows it, never applies it), and a peak
RSS compared before and after cannot prove it: one test file's leak is noise in a worker's RSS. The proof is the
one the diagnosis gave, taken again: for every runtime-leak finding of the investigated run (and any other
finding held by a named holder whose fix is a code change, e.g. external memory kept in a module-level array),

1. the test files that fed the holder (the finding's ``fix.files``) are rerun with the trace and snapshots, in
   **one worker configured like the finding's lane** — its pool and isolate overrides, the suite's own config
   (environment, setup files, projects) for the rest, through the runner layer's lanes
   (:func:`heaplens.runner.session.execute`) — one rerun lane per investigated lane, each file in the Vitest
   project(s) the finding's workers ran it in (``--project=NAME``: a file several projects include runs once, as
   the investigated lane's follow-up reran it, not once per project);
2. the snapshots are those the finding was measured with: a worker that runs several files writes its first
   after the collection of its first file (imports done, no test run) and its last at the end of its last file,
   so the pair spans every file rerun — a single file too; a worker per file (isolate with forks/threads) takes
   each file's pair (after its collection, at its end), as the investigated run's follow-up lane did. Each file
   runs once, as in the suite: copies run again rewrite the same keys (three runs of the demo's sessions test in
   one worker kept one run's 45 MiB, which the engine calls "replaced, not grown": a leak that looks bounded);
3. the rerun is diagnosed by the same engine (:func:`heaplens.workflow.report.report_document`): the id diff
   attributes every new object to its nearest pre-existing holder, and the holder is looked up by its name and
   file — among the findings, and among the causes the engine did not report (``growth.unreported``);
4. the verdict per finding: **no longer grows** when the holder's growth per file, projected over the investigated
   lane's files as the diagnosis projected it, falls below the diagnosis's own significance floor (0.1 % of the
   worker's heap limit, :data:`heaplens.diagnose.findings.FLOOR`; no other threshold); **still grows** (with its
   growth per file before → after) otherwise; **cannot be told** when its test files or its source file no longer
   exist, when its variable is no longer declared where it was (renamed or removed: the rerun's own runtime leaks
   are listed), or when the rerun gave no snapshot pair.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..diagnose.engine import RESOURCES
from ..diagnose.findings import FLOOR
from ..diagnose.naming import declaration_line, source_path
from ..diagnose.rules import load_rules
from ..errors import UsageError
from ..runner.merge import unmerged
from ..runner.plan import Lane, Plan, annotate
from ..runner.record import LaneRecord, RunRecord
from ..runner.seam import RUNNERS, Suite
from ..runner.session import execute
from ..runner.suite import SuiteConfig
from ..units import fmt_count, fmt_size
from .report import report_document

NO_LONGER = "no longer grows"
STILL = "still grows"
UNKNOWN = "cannot be told"


@dataclass
class HolderCheck:
    """One finding's holder, before and after the fix."""

    finding: dict  # the investigated run's finding (report model)
    files: list[str] = field(default_factory=list)  # its test files that still exist (relative to the root)
    missing: list[str] = field(default_factory=list)  # those that no longer exist
    rerun_lane: str | None = None
    per_file_worker: bool = False
    runs: int = 0  # test-file runs in the rerun
    verdict: str = UNKNOWN
    reason: str = ""
    after: dict | None = None  # the holder's figures in the rerun: per_file, projected, retained_growth, objects
    projected_after: float | None = None  # its growth per file projected as the investigated finding was
    floor: float | None = None
    others: list[str] = field(default_factory=list)  # the rerun's own findings when the holder is not found
    folded: list[dict] = field(default_factory=list)  # other workers' findings of the same holder in the lane
    window: bool = False  # the files are its worker's whole window (fresh module instances per file), not fix.files
    isolated_now: bool = False  # its files ran in shared workers and now run in a worker each (a config change)
    projects: list[str] = field(default_factory=list)  # the Vitest projects its workers ran in ("": the root one)

    @property
    def holder(self) -> dict:
        return self.finding.get("holder") or {}

    def name(self) -> str:
        h = self.holder
        what = h.get("access") or h.get("variable")
        where = f"{h['file']}:{h['line']}" if h.get("file") and h.get("line") else h.get("file")
        label = f"`{what}`" if what else (f"{h.get('kind')} {h.get('type') or ''}".strip())
        return label + (f" ({where})" if where else "")

    def to_json(self) -> dict:
        f = self.finding
        return {"title": f.get("title"), "kind": f.get("kind"), "lane": f.get("lane"), "pid": f.get("pid"),
                "holder": self.holder, "fix": (f.get("fix") or {}).get("kind"), "files": self.files,
                "missing": self.missing, "rerun_lane": self.rerun_lane, "runs": self.runs,
                "per_file_worker": self.per_file_worker, "window": self.window, "isolated_now": self.isolated_now,
                "workers": [{"pid": x.get("pid"), "tid": x.get("tid")} for x in (f, *self.folded)],
                "before": {k: f.get(k) for k in ("per_file", "projected", "retained_growth", "objects",
                                                  "files_between")},
                "after": self.after, "projected_after": self.projected_after, "floor": self.floor,
                "verdict": self.verdict, "reason": self.reason, "others": self.others}

    def line(self) -> str:
        """Each per-file figure is over its own snapshot pair's files (the investigated worker's, the rerun's)."""
        f = self.finding
        workers = f" ({1 + len(self.folded)} workers' findings)" if self.folded else ""
        head = f"holder {self.name()} in {f.get('lane')}{workers}: {self.verdict}"
        if self.after is None or self.verdict not in (NO_LONGER, STILL):
            return f"{head} — {self.reason}"
        a = self.after

        def fig(x: dict) -> str:
            n = x.get("files_between")
            if x.get("per_file") is None:
                return fmt_size(x.get("retained_growth") or 0, signed=True)
            return f"{fmt_size(x['per_file'], signed=True)}/file" + (f" over {n} file(s)" if n is not None else "")

        ids = (f"id diff: {fmt_count(a.get('objects') or 0)} new object(s) it keeps, "
               f"{fmt_size(a.get('retained_growth') or 0, signed=True)}")
        proj = (f"projected over the lane {fmt_size(self.projected_after or 0, signed=True)} "
                f"{'<' if self.verdict == NO_LONGER else '≥'} the floor {fmt_size(self.floor or 0)}")
        return f"{head} — {fig(f)} → {fig(a)} rerun ({ids}; {proj})" + (f"; {self.reason}" if self.reason else "")


@dataclass
class HolderVerification:
    checks: list[HolderCheck]
    after_run: str | None = None
    verdict: str = "not verified"
    lines: list[str] = field(default_factory=list)
    exit_code: int | None = None
    after_report: dict | None = field(default=None, repr=False)  # the rerun's report model, built once

    def to_json(self) -> dict:
        return {"method": "the files that fed each holder, rerun in one worker configured like its lane, with "
                          "snapshots; the same engine's id diff", "after_run": self.after_run,
                "verdict": self.verdict, "checks": [c.to_json() for c in self.checks], "lines": self.lines,
                "exit_code": self.exit_code}


def holder_findings(report: dict | None) -> list[dict]:
    """The findings whose fix is a code change at a named holder: every runtime leak, and external memory held
    by a holder of the suite's (not module-graph retention, whose fix is isolation)."""
    out = []
    for f in (report or {}).get("findings") or []:
        fix = (f.get("fix") or {}).get("kind")
        if f.get("kind") == "module-graph" or fix in (None, "none", "isolate", "recycle"):
            continue
        out.append(f)
    return out


def verify_holders(rec: RunRecord, report: dict, *, say=print) -> HolderVerification | None:
    """Rerun the files that fed each holder and say whether it still grows (see the module); None when the
    investigated run has no such finding."""
    found = holder_findings(report)
    if not found:
        return None
    root = Path(rec.root)
    fresh = load_rules().registry_per_file_pools
    # one check per holder and lane: the workers of a lane that each found it are folded into the largest
    same: dict[tuple, list[dict]] = {}
    for f in found:
        same.setdefault((f.get("lane"), _key(f.get("holder") or {})), []).append(f)
    checks = []
    for fs in same.values():
        fs.sort(key=lambda f: -(f.get("projected") or f.get("retained_growth") or 0))
        c = _check(fs, rec, root, fresh)
        checks.append(c)
    hv = HolderVerification(checks)
    todo = [c for c in checks if c.files and not c.reason]
    if todo:
        _rerun(hv, rec, root, todo, say)
    for c in checks:
        hv.lines.append(c.line())
    if hv.exit_code:
        hv.lines.append(f"note: the rerun of the holders' files exited {hv.exit_code} (failing tests?)")
    if all(c.verdict == NO_LONGER for c in checks):
        hv.verdict = "verified"
    elif any(c.verdict == STILL for c in checks):
        hv.verdict = "not verified (a holder still grows)"
    else:
        hv.verdict = "not verified (cannot be told)"
    return hv


def _check(fs: list[dict], rec: RunRecord, root: Path, fresh_pools: frozenset[str]) -> HolderCheck:
    """The check of the findings ``fs`` (one holder in one lane; the largest first)."""
    f = fs[0]
    c = HolderCheck(f, folded=fs[1:])
    lane = rec.lanes.get(f.get("lane") or "")
    files = [x for g in fs for x in (g.get("fix") or {}).get("files") or []]
    ran = [x for x in (lane.files if lane else [])
           if any(x.pid == g.get("pid") and (x.tid or 0) == (g.get("tid") or 0) for g in fs)]
    ran.sort(key=lambda x: (x.pid or 0, x.tid or 0, x.index or 0, x.end_ms or 0))
    c.projects = sorted({x.project or "" for x in ran})
    if any(x.pool in fresh_pools or (x.pool or "").startswith("vm") for x in ran):
        # a worker that gives each file fresh module instances (Jest's registry per file, Vitest's vm pools): what
        # a file leaves behind shows only once later files ran — the window the finding was measured in, its
        # worker's files, not a file alone (whose own module state is alive at its end)
        files = [x.file for x in ran]
        c.window = True
    if not files and lane is not None:  # the finding did not name them: the files its worker ran
        files = [x.file for x in ran] or list(lane.files_planned)
    for x in dict.fromkeys(files):
        (c.files if (root / x).is_file() else c.missing).append(x)
    h = c.holder
    if lane is None:
        c.reason = f"the lane {f.get('lane')} is not in the run record"
    elif not c.files:
        c.reason = ("the test files that fed it no longer exist: " + ", ".join(c.missing) if c.missing
                    else "the finding names no test file that fed it")
    elif h.get("file") and not (root / h["file"]).is_file():
        c.reason = f"{h['file']} no longer exists: the holder cannot be found again"
    elif not h.get("file") and not (h.get("access") or h.get("variable")) and h.get("kind") not in RESOURCES:
        c.reason = "the holder has no name or file heaplens can look up again (an unnamed object)"
    if lane is not None:
        runner = RUNNERS[rec.versions.runner or "vitest"]
        c.per_file_worker = any(runner.per_file_worker(x.pool, x.isolate) for x in lane.files)
    return c


def _rerun(hv: HolderVerification, rec: RunRecord, root: Path, todo: list[HolderCheck], say) -> None:
    groups: dict[str, list[HolderCheck]] = {}
    for c in todo:
        groups.setdefault(c.finding["lane"], []).append(c)
    lanes: list[tuple[str, LaneRecord, list[HolderCheck]]] = []  # (rerun lane, source lane, its checks)
    for src_name, cs in groups.items():
        base = unmerged(src_name).removesuffix("-pairs")
        name, i = f"{base}-verify", 2
        while name in {n for n, *_ in lanes}:
            name, i = f"{base}-verify-{i}", i + 1
        for c in cs:
            c.rerun_lane = name
        lanes.append((name, rec.lanes[src_name], cs))
    result = _execute(rec, lanes, say)
    hv.after_run, hv.exit_code = str(result.dir), result.exit_code
    if result.exit_code == 130:
        raise KeyboardInterrupt
    for c in todo:
        lane = result.record.lanes.get(c.rerun_lane or "")
        c.runs = len(lane.files) if lane is not None else 0
    try:
        doc = report_document(result.record)
    except UsageError as exc:
        for c in todo:
            c.reason = f"the rerun could not be diagnosed: {exc}"
        return
    hv.after_report = doc
    for c in todo:
        _judge(c, doc, root, rec)


def _setting(lane: LaneRecord, key: str) -> str:
    v = getattr(lane, key)
    if v is not None:
        return ("yes" if v else "no") if isinstance(v, bool) else str(v)
    return (lane.config or {}).get(key) or "as configured"


def run_options(rec: RunRecord) -> dict:
    """The options the run was given (command line, environment, heaplens.toml) as command-line values: a rerun
    runs with them, whatever the environment says now. Those it took by default are left to default again: a
    default passed as a value is a choice the plan reads differently (``batch_ms`` given splits a 200-file lane
    without timings into batches, and verify took that for files moved by a fix). Lane selection, shard and
    snapshots are the rerun's to decide."""
    sources = rec.option_sources or {}
    cli = {k: v for k, v in rec.options.items() if k not in ("lane", "shard", "snapshot_interval", "snapshot_dir")
           and sources.get(k) != "default"}
    cli["root"] = rec.root
    return cli


def _execute(rec: RunRecord, lanes: list[tuple[str, LaneRecord, list[HolderCheck]]], say):
    cli = run_options(rec)
    cli.update(snapshots=True, snapshot_interval=0.0, trace=True, parallel=1)
    files_of = {name: list(dict.fromkeys(x for c in cs for x in c.files)) for name, _src, cs in lanes}
    paths = [x for files in files_of.values() for x in files]

    runs: dict[str, int | None] = {}

    def shape(suite: Suite, plan: Plan) -> None:
        config = plan.suite_config
        listed = set(config.files) if config else set(paths)
        plan.lanes = []
        for name, src, cs in lanes:
            run = [x for x in files_of[name] if x in listed]
            dropped = [x for x in files_of[name] if x not in listed]
            if dropped:
                plan.notes.append(f"{name}: the suite's config does not list {', '.join(dropped)} (its include "
                                  "patterns): not run")
            # the files run in the projects the finding's workers ran them in (`vitest run FILE` alone runs a file
            # once per project that includes it: hono's jsx/dom files three times, each with its pair of snapshots)
            names = _projects(suite, config, cs)
            known = bool(config and config.known and run)
            projects = [p for x in run for p in config.projects_of(x) if not names or p.name in names] if known else []
            # a worker per file as the suite runs these files now (a config change may have isolated them), else
            # as the investigated lane's workers did
            if known:
                per_file = any(suite.runner.per_file_worker(src.pool or p.pool,
                                                            src.isolate if src.isolate is not None else p.isolate)
                               for p in projects)
            else:
                per_file = any(c.per_file_worker for c in cs)
            for c in cs:
                c.isolated_now = per_file and not c.per_file_worker
                c.per_file_worker = per_file
            if known:
                pool = src.pool or "|".join(dict.fromkeys(p.pool for p in projects))
                iso = src.isolate if src.isolate is not None else "|".join(
                    dict.fromkeys("yes" if p.isolate else "no" for p in projects))
            else:
                pool, iso = _setting(src, "pool"), _setting(src, "isolate")
            lane = Lane(name, "pairs" if per_file else "verify", run,
                        reasons={x: f"verify: fed the holder of a finding in {src.name}" for x in run})
            for key in ("pool", "isolate"):
                if getattr(src, key) is not None:
                    lane.set(key, getattr(src, key), (src.overrides.get(key) or {}).get("reason")
                             or f"as {src.name} ran")
            lane.set("workers", 1, f"verify: the files that fed the holder, in one worker like {src.name}")
            lane.runner_args = [f"--project={n}" for n in names]
            runs[name] = len(projects) if known else None
            plan.lanes.append(lane)
            what = (f"its worker's {len(run)} test file(s) (each file gets fresh module instances: the window the "
                    "finding was measured in)" if any(c.window for c in cs) else f"{len(run)} test file(s) that fed it")
            say(f"[heaplens] verify: {', '.join(c.name() for c in cs)}: rerun {what} in one worker like {src.name} "
                f"(pool {pool}, isolate {'yes' if iso is True else 'no' if iso is False else iso}), "
                + ("a worker per file as the suite runs them now, each file's snapshot pair" if per_file else
                   "snapshots after the first file's collection and at the last file's end"))
        if config:
            annotate(plan, config)
            for lane in plan.lanes:  # annotate counts a run per project that includes a file: not those left out
                lane.runs = runs[lane.name] if runs[lane.name] is not None else lane.runs

    argv = ["heaplens", "verify", "--holders", str(rec.dir)]
    return execute(cli, paths, list(rec.vitest_args), argv, shape=shape)


def _projects(suite: Suite, config: SuiteConfig | None, cs: list[HolderCheck]) -> list[str]:
    """The Vitest projects the checks' workers ran their files in, when each has a name the suite's config still
    has (else none: the files run in every project that includes them)."""
    names = sorted({p for c in cs for p in c.projects})
    if suite.runner.name != "vitest" or not names or not all(names):
        return []
    if config is not None and config.known and not set(names) <= {p.name for p in config.projects}:
        return []
    return names


def _key(h: dict) -> tuple:
    name = h.get("access") or h.get("variable")
    return (name, h.get("file")) if name else (h.get("kind"), h.get("type"), h.get("file"))


def _site(h: dict) -> tuple | None:
    """Where the holder is in the source — its kind and type at a file and line: the same holder when the retaining
    path the engine took named it differently (a server reached through the running file in one run, through a
    hook's closure variable in the other). A resource (a timer, listener, server, connection, mock) with no file is
    in no source the user wrote: its kind and type place it, and its name is the runtime's — hono's `vi.fn()`
    spies, in Vitest's mock registry, came out `Mock` (the mock library's default name) in one run and unnamed in
    the next. An object of no kind the engine knows, with no file, has no site."""
    if not h.get("file"):
        return (h.get("kind"), h.get("type")) if h.get("kind") in RESOURCES else None
    if not h.get("line"):
        return None
    return (h.get("kind"), h.get("type"), h.get("file"), h.get("line"))


def _judge(c: HolderCheck, doc: dict, root: Path, rec: RunRecord) -> None:
    workers = [w for w in doc.get("workers") or [] if w.get("lane") == c.rerun_lane]
    analysed = [w for w in workers if w.get("analysed")]
    if not analysed:
        why = next((n for w in workers for n in w.get("notes") or []), None)
        c.reason = ("the rerun gave no snapshot pair" + (f": {why}" if why else "")
                    if workers else "no worker of the rerun ran its files")
        return
    if all((w.get("growth") or {}).get("files_between") == 0 for w in analysed):
        c.reason = "the rerun's snapshot pair spans no test file"
        return
    want = _key(c.holder)
    matches, others = [], []
    for w in analysed:
        growth = w.get("growth") or {}
        for e in [*(w.get("findings") or []), *(growth.get("unreported") or [])]:
            if e.get("kind") != "module-graph":
                (matches if _key(e.get("holder") or {}) == want else others).append((e, growth))
    site = _site(c.holder)
    if site is not None:
        # the same site, named by one side only (two names that differ are a rename: another variable); with those
        # of its name, the largest decides (an unnamed fragment of a mock registry must not stand for all of it)
        def same(e: dict) -> bool:
            h = e.get("holder") or {}
            return _site(h) == site and not (h.get("variable") and c.holder.get("variable"))
        matches += [(e, g) for e, g in others if same(e)]
        others = [(e, g) for e, g in others if not same(e)]
    before = c.finding
    # projected as the investigated finding was (over its lane's files per worker; 1 for a worker per file): the
    # question is whether the code still feeds the holder, whatever a config change did to the lane since
    if before.get("per_file") and before.get("projected") is not None:
        factor = before["projected"] / before["per_file"]
    else:
        factor = 1.0 if c.per_file_worker else float(before.get("files_in_lane") or 1)

    def projected(e: dict) -> float:
        """Its growth per file projected over the investigated lane, as the investigated finding was."""
        per = e.get("per_file")
        return per * factor if per is not None else float(e.get("retained_growth") or 0)

    floor_b = _floor(doc) or _floor_of(rec, c)
    if matches:
        e, growth = max(matches, key=lambda m: projected(m[0]))
        c.after = {k: e.get(k) for k in ("title", "kind", "per_file", "projected", "retained_growth", "objects",
                                        "files_between")}
        c.after["reported"] = e.get("why") is None
        if e.get("why"):
            c.after["why"] = e["why"]
        c.projected_after = projected(e)
        c.floor = growth.get("floor") or floor_b
        c.verdict = NO_LONGER if c.projected_after < (c.floor or 0) else STILL
        notes = []
        if e.get("why") == "replaced, not grown":
            notes.append("the engine: replaced, not grown (a bounded cache)")
        if c.isolated_now:
            notes.append("its files now run in a worker each (the config change), where what a file adds no longer "
                         "adds up across files; projected as investigated, the code still "
                         + ("feeds it" if c.verdict == STILL else "feeds it too little to matter"))
        c.reason = "; ".join(notes)
        return
    # not found: the rerun's other holders that grow past the floor (projected the same way) may be this one
    # under another name — renamed, or named differently by a shorter window (a Jest file's own registry)
    c.others = [f"{e['title']} {fmt_size(e.get('per_file') or e.get('retained_growth') or 0, signed=True)}"
                + ("/file" if e.get("per_file") is not None else "") + f" (projected {fmt_size(projected(e), signed=True)})"
                for e, g in others if projected(e) >= (g.get("floor") or floor_b or 0)]
    shows = ("; the rerun of its files shows, past the floor: " + "; ".join(c.others) if c.others
             else "; no other holder of the rerun grows past the floor")
    h = c.holder
    name = h.get("variable") or h.get("access")
    if name and h.get("file"):
        parts = name.split(".")
        src = source_path(h["file"], str(root))
        if not any(declaration_line(src, p) for p in dict.fromkeys([parts[0], parts[-1]])):
            c.reason = (f"`{name}` is no longer declared in {h['file']} (renamed or removed): the holder cannot be "
                        "found again" + shows)
            return
    if c.others:
        c.reason = "the id diff attributes no new object to it, but it cannot be told apart from what grows" + shows
        return
    g = analysed[0].get("growth") or {}
    c.after = {"per_file": 0, "projected": 0, "retained_growth": 0, "objects": 0,
               "files_between": g.get("files_between"), "reported": False}
    c.projected_after = 0.0
    c.floor = g.get("floor") or floor_b
    c.verdict = NO_LONGER
    c.reason = "the id diff attributes no new object to it" + shows


def _floor(doc: dict) -> float | None:
    """The diagnosis's floor in the rerun (its first worker that has one)."""
    for w in doc.get("workers") or []:
        if (w.get("growth") or {}).get("floor"):
            return float(w["growth"]["floor"])
    return None


def _floor_of(rec: RunRecord, c: HolderCheck) -> float | None:
    lane = rec.lanes.get(c.finding.get("lane") or "")
    limits = [x.heap_limit for x in (lane.files if lane else []) if x.heap_limit]
    return FLOOR * max(limits) if limits else None


