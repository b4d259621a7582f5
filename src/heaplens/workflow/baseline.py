"""A memory baseline of a suite and the gate that holds a change to it (``heaplens baseline save``,
``heaplens check``; docs/ci.md).

A baseline is a small JSON file, meant to be committed (or cached from the main branch), made from one or
more finished runs of the same suite: per lane and per test file the GC-settled heap (and external memory)
the file leaves behind (:attr:`FileRecord.heap_growth` / ``external_growth``: from the settled line before
its tests — or the worker's previous file end — to the settled line after them), per lane the peak RSS of
its largest worker and its faults, and the findings (kind, holder variable and file, severity), with what
produced them: the runner and its version, Node, the suite's resolved config (and its digest) and heaplens.
Each figure keeps its value in every run, so its spread is known.

A worker that runs several files forces a full GC at a file end only as its GC budget allows (``--gc-overhead``):
the growth of files that ended without one is measured together with the next settled end, as one figure for
the span of files (:attr:`FileRecord.settled_span`). Which of them left it is not known, so a span is kept and
compared as a span, never as one file's growth: the gate compares the smallest groups of files that are whole
spans in this run and in every baseline run (files settled together in any of them are one group), summing
each run's figures over the group, exact in every run. A file never in a span is compared on its own.

The gate compares one run with it. A figure fails when it exceeds the baseline's median by more than

    allowed = max(floor, noise × spread, max-growth)

— ``spread`` the figure's range over the baseline's runs, ``floor`` an absolute size under which growth is
never a regression (1 MiB of heap per file or lane, 64 MiB of peak RSS), ``max-growth`` the user's own
allowance (a share of the baseline figure and/or a size). A file the baseline does not know is compared
with zero; a lane is compared over the files it ran in both; a new finding (a kind and holder no baseline
run had), a finding that became more severe, and a worker that died where none had are regressions too.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import printable
from ..atomicfile import write_text_atomic
from ..diagnose.naming import relative
from ..errors import UsageError
from ..inputfile import check_schema, read_document
from ..runner.record import LaneRecord, RunRecord
from ..units import fmt_size, parse_size
from .report import render, report_document

SCHEMA = "heaplens.baseline"
SCHEMA_VERSION = 2  # 2: spans of files GC-settled together (``spans``); 1 is read as a baseline without spans
DEFAULT_FILE = "heaplens-baseline.json"
MiB = 1024 * 1024
HEAP_FLOOR = 1 * MiB
RSS_FLOOR = 64 * MiB
NOISE = 3.0
MAX_GROWTH_PCT = 10.0
SEVERITY = {"mild": 1, "moderate": 2, "severe": 3}
# the figures kept per test file and per lane (GC-settled growth), and per lane only
GROWTH = ("heap", "external")
FIRST_BASES = ("collected", "worker-start")  # a file measured from its worker's start (FileFigure.first)
PEAK_DEFINITION = ("peak_rss: the highest RSS one worker of the lane reached (a worker process; for worker "
                   "threads their process), from the trace's file boundaries and the samples every --poll-ms")


# ---------------------------------------------------------------------------------------------------
# sizes and thresholds as the command line gives them

def parse_growth(text: str) -> tuple[float | None, int | None]:
    """``--max-growth``: ``PCT%`` (of the baseline figure), a size, or both (``10%,2MiB``: the larger)."""
    pct, size = None, None
    for part in str(text).split(","):
        part = part.strip()
        if part.endswith("%"):
            try:
                pct = float(part[:-1])
            except ValueError:
                raise ValueError(f"not a percentage: {part!r}") from None
            if pct < 0:
                raise ValueError(f"a negative percentage: {part!r}")
        elif part:
            size = parse_size(part)
    if pct is None and size is None:
        raise ValueError(f"--max-growth {text!r}: give PCT% and/or a size (e.g. 10%, 2MiB, 10%,2MiB)")
    return pct, size


@dataclass(frozen=True)
class Thresholds:
    """The gate's rule (module docstring): allowed = max(floor, noise × spread, max-growth)."""

    growth_pct: float | None = MAX_GROWTH_PCT
    growth_bytes: int | None = None
    floor: int = HEAP_FLOOR  # heap and external growth (per file, per lane)
    rss_floor: int = RSS_FLOOR  # peak RSS
    noise: float = NOISE

    def allowed(self, metric: str, ref: float, spread: float) -> float:
        floor = self.rss_floor if metric == "peak_rss" else self.floor
        growth = max((self.growth_pct or 0) / 100.0 * abs(ref), self.growth_bytes or 0)
        return max(floor, self.noise * spread, growth)

    def rule(self) -> str:
        parts = []
        if self.growth_pct is not None:
            parts.append(f"{self.growth_pct:g} % of it")
        if self.growth_bytes is not None:
            parts.append(fmt_size(self.growth_bytes))
        return (f"a figure fails when it exceeds the baseline's median by more than the largest of: the floor "
                f"({fmt_size(self.floor)} of heap, {fmt_size(self.rss_floor)} of peak RSS), {self.noise:g} × its "
                f"spread over the baseline's runs" + (f", {' / '.join(parts)}" if parts else ""))

    def to_json(self) -> dict:
        return {"max_growth_pct": self.growth_pct, "max_growth_bytes": self.growth_bytes, "floor": self.floor,
                "rss_floor": self.rss_floor, "noise": self.noise}


# ---------------------------------------------------------------------------------------------------
# what one run measured


@dataclass
class FileFigure:
    file: str
    project: str
    lane: str
    heap: int | None  # GC-settled heap the file left (bytes); None without settled trace lines, or in a span
    external: int | None
    span: int | None = None  # in a span of files settled together: its index in RunFigures.spans
    # measured from its worker's start (the worker's first file: settled_base collected/worker-start), so its
    # figure also holds what the worker's first test run leaves once — code compiled on first use, the runner's
    # own first-run state (~1 MiB on Vitest) — and is compared only with figures measured the same way
    first: bool = False


@dataclass
class SpanFigure:
    """Files one worker ran in a row whose growth is known only together (GC-settled at the last one's end)."""

    files: list[str]  # file keys, in the order the worker ran them
    lane: str
    heap: int | None
    external: int | None

    def to_json(self, run: int) -> dict:
        return {"run": run, "lane": self.lane, "files": list(self.files), "heap": self.heap,
                "external": self.external}


@dataclass(frozen=True)
class Unit:
    """What one run measured as one figure: a file, or a span of files settled together."""

    keys: tuple[str, ...]
    lane: str
    heap: int | None
    external: int | None
    first: bool = False  # a worker's first file, measured from the worker's start (FileFigure.first)


@dataclass
class LaneFigure:
    name: str
    files: int
    peak_rss: int
    faults: list[str]  # "oom test/a.test.js", one per dead worker



@dataclass
class FindingFigure:
    kind: str
    variable: str | None
    file: str | None  # the holder's source file, relative to the suite root
    severity: str
    title: str
    line: int | None = None
    lane: str | None = None
    pid: int | None = None
    fix: str | None = None
    test_files: list[str] = field(default_factory=list)
    retained_growth: int = 0

    @property
    def key(self) -> tuple:
        """What makes two findings the same cause: the kind and the holder (not its line: edits move it)."""
        return (self.kind, self.variable or "", self.file or "")


@dataclass
class RunFigures:
    """What one run measured, as a baseline keeps it."""

    run_id: str
    path: str
    status: str
    shards: list[str]
    runner: str
    runner_version: str | None
    node: str | None
    heaplens: str | None
    config: dict
    snapshots: bool
    files: dict[str, FileFigure]
    lanes: dict[str, LaneFigure]
    findings: list[FindingFigure] | None  # None: not measured (no snapshots, or --no-retainers)
    root: str | None = None
    report: dict | None = field(default=None, repr=False)
    notes: list[str] = field(default_factory=list)
    spans: list[SpanFigure] = field(default_factory=list)

    @property
    def digest(self) -> str:
        return config_digest(self.config)

    def units(self) -> list[Unit]:
        out = [Unit((k,), f.lane, f.heap, f.external, f.first) for k, f in self.files.items()
               if f.span is None and (f.heap is not None or f.external is not None)]
        return out + [Unit(tuple(s.files), s.lane, s.heap, s.external) for s in self.spans]


def file_key(file: str, project: str) -> str:
    return f"{file} [{project}]" if project else file


def suite_config(rec: RunRecord) -> dict:
    """What decides how the suite's files run and what they measure: every project's resolved settings (paths
    relative to the suite root), the lanes' overrides, the heap limit, the arguments given to the runner and
    whether snapshots were written. Shards and lane selection are not in it (they decide which files run)."""
    sc = rec.plan.suite_config or {}
    projects = []
    for p in sc.get("projects") or []:
        if not isinstance(p, dict):
            continue
        projects.append({
            "name": p.get("name") or "", "pool": p.get("pool"), "isolate": p.get("isolate"),
            "max_workers": p.get("max_workers"), "file_parallelism": p.get("file_parallelism"),
            "environment": p.get("environment"),
            "setup_files": [relative(str(x), rec.root) or "" for x in p.get("setup_files") or []],
            "exec_argv": [str(x) for x in p.get("exec_argv") or []],
        })
    overrides = set()
    for lane in rec.plan.lanes:
        for setting, o in sorted(lane.overrides.items()):
            overrides.add(f"{lane.kind}:{setting}={json.dumps((o or {}).get('value'))}")
    vargs = list(rec.vitest_args)
    for i, a in enumerate(list(vargs)):  # the runner's own shard option decides files, not memory
        if a == "--shard" and i + 1 < len(vargs):
            vargs[i:i + 2] = [None, None]
        elif a.startswith("--shard="):
            vargs[i] = None
    return {
        "projects": projects,
        "known": bool(sc.get("known", bool(projects))),
        "overrides": sorted(overrides),
        "max_old_space_mb": rec.options.get("max_old_space_mb"),
        "runner_args": [a for a in vargs if a is not None],
        "snapshots": bool(rec.options.get("snapshots")),
    }


def config_digest(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def _spans(lane: LaneRecord) -> dict[int, list]:
    """A lane's spans of files GC-settled together: ``id(the file that closes it)`` → its files (FileRecords,
    in the order the worker ran them), for the spans of two files or more: the closing file's ``settled_span``
    (or, in a record written before it, ``settled_files``) long tail of its worker's files since the previous
    figure."""
    out: dict[int, list] = {}
    for mine in lane.files_by_worker().values():
        pending: list = []
        for f in sorted(mine, key=lambda f: (f.index or 0, f.end_ms or 0)):
            if f.heap_growth is None and f.external_growth is None:
                pending.append(f)
                continue
            # the span is the tail of the worker's files since its previous figure (the runner keeps it so:
            # a settled end restarts it), so its length says which they are
            members = [*pending, f][-max(1, len(f.settled_span) or int(f.settled_files or 1)):]
            if len(members) > 1:
                out[id(f)] = members
            pending = []
    return out


def _has_snapshots(rec: RunRecord) -> bool:
    return any(lane.snapshots.written or lane.snapshots.files for lane in rec.lanes.values())


def measure(run: RunRecord | str | os.PathLike, *, retainers: bool = True, rules: list[str] | None = None) -> RunFigures:
    """The figures of one finished run (a merged run of shards too)."""
    rec = run if isinstance(run, RunRecord) else RunRecord.load(run)
    if rec.status == "running":
        raise UsageError(f"{rec.path}: the run has not finished")
    notes: list[str] = []
    files: dict[str, FileFigure] = {}
    lanes: dict[str, LaneFigure] = {}
    spans: list[SpanFigure] = []
    unsettled = 0
    for name, lane in rec.lanes.items():
        faults = [f"{fl.kind} " + (", ".join(fl.files) if fl.files else f"pid {fl.pid}") for fl in lane.faults
                  if fl.kind != "interrupted"]
        lanes[name] = LaneFigure(name=name, files=len(lane.files), peak_rss=lane.peak_rss(), faults=faults)
        closes = _spans(lane)
        member: dict[int, int] = {}  # id(FileRecord) → its span
        for f in lane.files:
            if id(f) in closes:
                ms = closes[id(f)]
                spans.append(SpanFigure(files=[file_key(m.file, m.project) for m in ms], lane=name,
                                        heap=f.heap_growth, external=f.external_growth))
                member.update({id(m): len(spans) - 1 for m in ms})
        for f in lane.files:
            key = file_key(f.file, f.project)
            prev = files.get(key)
            if id(f) in member:
                # in a span: its growth is the span's (a file run twice in one record is counted in its span)
                files[key] = FileFigure(file=f.file, project=f.project, lane=name, heap=None, external=None,
                                        span=member[id(f)])
                continue
            if f.heap_growth is None:
                unsettled += 1
            fig = FileFigure(file=f.file, project=f.project, lane=name, heap=f.heap_growth, external=f.external_growth,
                             first=f.settled_base in FIRST_BASES)
            if prev is not None and (prev.span is not None or (prev.heap or 0) >= (fig.heap or 0)):
                continue  # a file run twice in one record (a rerun lane): its larger figure
            files[key] = fig
    if not files:
        raise UsageError(f"{rec.path}: the run has no per-file trace (run it with the trace on: heaplens run --trace)")
    if unsettled:
        notes.append(f"{unsettled} file(s) without GC-settled trace lines (a heaplens before 0.2, or a worker "
                     "that died): their heap figures are missing")
    snapshots = _has_snapshots(rec)
    doc = None
    findings: list[FindingFigure] | None = None
    if snapshots and retainers:
        doc = report_document(rec, rules=rules, retainers=True)
        findings = findings_of(doc)
    elif snapshots:
        notes.append("findings not measured: --no-retainers")
    else:
        notes.append("findings not measured: the run wrote no heap snapshots (heaplens run --snapshots, or "
                     "investigate)")
    runner = rec.versions.runner or "vitest"
    version = rec.versions.jest if runner == "jest" else rec.versions.vitest
    seen = rec.versions.all or {}
    for k, vs in seen.items():
        if len(vs) > 1:
            notes.append(f"the merged shards ran different {k} versions: {', '.join(vs)}")
    return RunFigures(run_id=rec.run_id, path=str(rec.dir.resolve()), status=rec.status, shards=list(rec.shards or [rec.run_id]),
                      runner=runner, runner_version=version, node=rec.versions.node, heaplens=rec.versions.heaplens,
                      config=suite_config(rec), snapshots=snapshots, files=files, lanes=lanes, findings=findings,
                      root=rec.root, report=doc, notes=notes, spans=spans)


def findings_of(doc: dict) -> list[FindingFigure]:
    out = []
    for f in doc.get("findings") or []:
        h = f.get("holder") or {}
        fix = f.get("fix") or {}
        out.append(FindingFigure(
            kind=str(f.get("kind")), variable=h.get("variable"), file=h.get("file"), line=h.get("line"),
            severity=str(f.get("severity") or "mild"), title=str(f.get("title") or f.get("kind")),
            lane=f.get("lane"), pid=f.get("pid"), fix=fix.get("text"),
            test_files=[str(x) for x in fix.get("files") or []], retained_growth=int(f.get("retained_growth") or 0)))
    return out


# ---------------------------------------------------------------------------------------------------
# the baseline file


@dataclass
class Baseline:
    runner: str
    runner_version: str | None
    node: str | None
    heaplens: str | None
    config: dict
    config_digest: str
    snapshots: bool
    runs: list[dict]  # [{run_id, status, shards}]
    # per file: {"lane": [per run], "heap": [per run], "external": [per run]} (None where a run lacks it, or
    # where the file is in one of that run's spans)
    files: dict[str, dict]
    # per lane: {"files": [...], "peak_rss": [...], "heap": [...], "external": [...], "faults": [...]}
    lanes: dict[str, dict]
    findings: list[dict] | None
    created: str = ""
    path: Path | None = None
    # spans of files GC-settled together: {"run": i, "lane", "files": [keys], "heap", "external"}
    spans: list[dict] = field(default_factory=list)

    def units(self, i: int) -> list[Unit]:
        """What baseline run ``i`` measured as one figure each: its files outside spans, and its spans."""
        spans = [s for s in self.spans if s["run"] == i]
        in_span = {k for s in spans for k in s["files"]}
        out = []
        for key, e in self.files.items():
            if key in in_span:
                continue
            h, x = e["heap"][i], e["external"][i]
            if h is not None or x is not None:
                out.append(Unit((key,), self.file_lane(key, i) or "", h, x, _first(e, i)))
        return out + [Unit(tuple(s["files"]), s["lane"], s.get("heap"), s.get("external")) for s in spans]

    @property
    def n(self) -> int:
        return len(self.runs)

    def file_lane(self, key: str, i: int) -> str | None:
        return (self.files[key].get("lane") or [None] * self.n)[i]

    def finding_keys(self) -> dict[tuple, dict]:
        return {(f["kind"], f.get("variable") or "", f.get("file") or ""): f for f in self.findings or []}

    # -- building ----------------------------------------------------------------------------------
    @classmethod
    def from_runs(cls, runs: list[RunFigures]) -> Baseline:
        if not runs:
            raise UsageError("baseline save needs at least one run")
        first = runs[0]
        for r in runs[1:]:
            differ = _differences(first.runner, first.runner_version, first.node, first.heaplens, first.digest,
                                  first.config, r)
            if differ:
                raise UsageError(f"the runs differ ({'; '.join(differ)}): a baseline's runs must be runs of the same "
                                 f"suite config with the same versions (baseline save {first.run_id} … {r.run_id})")
        files: dict[str, dict] = {}
        for key in sorted({k for r in runs for k in r.files}):
            per = [r.files.get(key) for r in runs]
            lanes_ = [p.lane if p else None for p in per]
            entry: dict = {"lane": lanes_}
            for m in GROWTH:
                entry[m] = [getattr(p, m) if p else None for p in per]
            if any(p and p.first for p in per):
                entry["first"] = [bool(p.first) if p else None for p in per]
            proj = next((p.project for p in per if p and p.project), "")
            if proj:
                entry["project"] = proj
            files[key] = entry
        lanes: dict[str, dict] = {}
        for name in sorted({k for r in runs for k in r.lanes}):
            per_l = [r.lanes.get(name) for r in runs]
            lanes[name] = {
                "files": [lf.files if lf else None for lf in per_l],
                "peak_rss": [lf.peak_rss if lf else None for lf in per_l],
                "heap": [lane_growth(r.units(), name, "heap") if lf else None for lf, r in zip(per_l, runs)],
                "external": [lane_growth(r.units(), name, "external") if lf else None for lf, r in zip(per_l, runs)],
                "faults": sorted({x for lf in per_l if lf for x in lf.faults}),
            }
        measured = [r for r in runs if r.findings is not None]
        findings = None
        if measured:
            merged: dict[tuple, dict] = {}
            for r in measured:
                for f in r.findings or []:
                    e = merged.setdefault(f.key, {"kind": f.kind, "variable": f.variable, "file": f.file,
                                                  "severity": f.severity, "title": f.title, "lanes": [], "runs": 0,
                                                  "_runs": set()})
                    if SEVERITY.get(f.severity, 0) > SEVERITY.get(e["severity"], 0):
                        e["severity"], e["title"] = f.severity, f.title
                    if f.lane and f.lane not in e["lanes"]:
                        e["lanes"].append(f.lane)
                    e["_runs"].add(r.run_id)
            findings = []
            for e in merged.values():
                e["runs"] = len(e.pop("_runs"))
                e["lanes"] = sorted(e["lanes"])
                findings.append(e)
            findings.sort(key=lambda e: (e["kind"], e["file"] or "", e["variable"] or ""))
        return cls(runner=first.runner, runner_version=first.runner_version, node=first.node, heaplens=first.heaplens,
                   config=first.config, config_digest=first.digest, snapshots=all(r.snapshots for r in runs),
                   runs=[{"run_id": r.run_id, "status": r.status, "shards": r.shards,
                          "findings": r.findings is not None} for r in runs],
                   files=files, lanes=lanes, findings=findings,
                   created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   spans=[s.to_json(i) for i, r in enumerate(runs) for s in r.spans])

    # -- the file --------------------------------------------------------------------------------------
    def to_json(self) -> dict:
        # a file's lane once when every run put it in the same lane (the usual case), else one per run
        files = {k: {**e, "lane": e["lane"][0] if len(set(e["lane"])) == 1 else e["lane"]}
                 for k, e in self.files.items()}
        return {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "created": self.created,
                "heaplens": self.heaplens, "runner": self.runner, "runner_version": self.runner_version,
                "node": self.node, "config": self.config, "config_digest": self.config_digest,
                "snapshots": self.snapshots, "peak": PEAK_DEFINITION, "runs": self.runs, "lanes": self.lanes,
                "files": files, "findings": self.findings, "spans": self.spans}

    def dumps(self) -> str:
        """Sorted keys, one line per run, lane, file and finding: a change reads as a one-line diff."""
        doc = self.to_json()
        one = lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False)
        out = ["{"]
        keys = sorted(doc)
        for i, k in enumerate(keys):
            v = doc[k]
            comma = "," if i < len(keys) - 1 else ""
            if k in ("files", "lanes") and v:
                items = sorted(v.items())
                body = ",\n".join(f"    {one(name)}: {one(e)}" for name, e in items)
                out.append(f"  {one(k)}: {{\n{body}\n  }}{comma}")
            elif k in ("findings", "runs", "spans") and v:
                body = ",\n".join(f"    {one(e)}" for e in v)
                out.append(f"  {one(k)}: [\n{body}\n  ]{comma}")
            else:
                out.append(f"  {one(k)}: {one(v)}{comma}")
        out.append("}")
        return "\n".join(out) + "\n"

    def save(self, path: str | os.PathLike) -> Path:
        p = Path(path)
        if p.is_dir():
            p = p / DEFAULT_FILE
        write_text_atomic(p, self.dumps())
        self.path = p
        return p

    @classmethod
    def load(cls, path: str | os.PathLike) -> Baseline:
        p = Path(path)
        if p.is_dir():
            p = p / DEFAULT_FILE
        if not p.is_file():
            raise UsageError(f"no baseline at {path} (heaplens baseline save RUN writes one)")
        doc = read_document(p, "baseline")
        check_schema(doc, SCHEMA, SCHEMA_VERSION, str(p), "baseline")
        try:
            b = cls._from_doc(doc)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UsageError(f"{p}: a malformed baseline ({type(exc).__name__}: {printable.line(exc)})") from None
        b.path = p
        return b

    @classmethod
    def _from_doc(cls, doc: dict) -> Baseline:
        runs = doc["runs"]
        if not isinstance(runs, list) or not runs or not all(isinstance(r, dict) for r in runs):
            raise ValueError("runs: expected a non-empty list of objects")
        n = len(runs)

        def series(v, what: str, kind=int) -> list:
            if not isinstance(v, list) or len(v) != n:
                raise ValueError(f"{what}: expected a list of {n} value(s), one per run")
            for x in v:
                if x is not None and (not isinstance(x, kind) or (isinstance(x, bool) and kind is not bool)):
                    raise ValueError(f"{what}: expected {kind.__name__} or null values")
            return v

        files = {}
        for key, e in (doc.get("files") or {}).items():
            if not isinstance(e, dict):
                raise ValueError(f"files.{key}: expected an object")
            lane = e.get("lane")
            lanes_ = [lane] * n if isinstance(lane, str) or lane is None else series(lane, f"files.{key}.lane", str)
            entry = {"lane": lanes_, **{m: series(e.get(m, [None] * n), f"files.{key}.{m}") for m in GROWTH}}
            if e.get("project"):
                entry["project"] = str(e["project"])
            if e.get("first") is not None:
                entry["first"] = series(e["first"], f"files.{key}.first", bool)
            files[str(key)] = entry
        lanes = {}
        for name, e in (doc.get("lanes") or {}).items():
            if not isinstance(e, dict):
                raise ValueError(f"lanes.{name}: expected an object")
            lanes[str(name)] = {m: series(e.get(m, [None] * n), f"lanes.{name}.{m}")
                                for m in ("files", "peak_rss", *GROWTH)}
            lanes[str(name)]["faults"] = [str(x) for x in e.get("faults") or []]
        findings = doc.get("findings")
        if findings is not None:
            if not isinstance(findings, list) or not all(isinstance(f, dict) and "kind" in f for f in findings):
                raise ValueError("findings: expected a list of objects with a kind, or null")
        config = doc.get("config") or {}
        if not isinstance(config, dict):
            raise ValueError("config: expected an object")
        spans = []
        for j, sp in enumerate(doc.get("spans") or []):
            if not isinstance(sp, dict):
                raise ValueError(f"spans[{j}]: expected an object")
            run = sp.get("run")
            if not isinstance(run, int) or isinstance(run, bool) or not 0 <= run < n:
                raise ValueError(f"spans[{j}].run: expected a run index from 0 to {n - 1}")
            members = sp.get("files")
            if not isinstance(members, list) or len(members) < 2 or not all(isinstance(k, str) for k in members):
                raise ValueError(f"spans[{j}].files: expected a list of two or more file keys")
            entry = {"run": run, "lane": str(sp.get("lane") or ""), "files": list(members)}
            for m in GROWTH:
                v = sp.get(m)
                if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
                    raise ValueError(f"spans[{j}].{m}: expected an integer or null")
                entry[m] = v
            spans.append(entry)
        return cls(runner=str(doc.get("runner") or "vitest"), runner_version=doc.get("runner_version"),
                   node=doc.get("node"), heaplens=doc.get("heaplens"), config=config,
                   config_digest=str(doc.get("config_digest") or config_digest(config)),
                   snapshots=bool(doc.get("snapshots")), runs=runs, files=files, lanes=lanes, findings=findings,
                   created=str(doc.get("created") or ""), spans=spans)

    def summary(self) -> str:
        nf = "not measured" if self.findings is None else str(len(self.findings))
        return (f"{self.n} run(s), {len(self.lanes)} lane(s), {len(self.files)} file(s), findings {nf}; "
                f"{self.runner} {self.runner_version}, node {self.node}, config {self.config_digest}")


def save_baseline(runs: list[str], output: str | os.PathLike | None = None, *, retainers: bool = True,
                  rules: list[str] | None = None, say=None) -> tuple[Baseline, Path]:
    """``heaplens baseline save RUN…``: measure each run and write the baseline (``./heaplens-baseline.json``)."""
    figures = []
    for r in runs:
        fig = measure(r, retainers=retainers, rules=rules)
        for note in fig.notes:
            if say:
                say(f"[heaplens] baseline: {fig.run_id}: {note}")
        figures.append(fig)
    b = Baseline.from_runs(figures)
    out = b.save(Path(output) if output else Path.cwd() / DEFAULT_FILE)
    return b, out


# ---------------------------------------------------------------------------------------------------
# the gate


def _differences(runner, version, node, heaplens, digest, config, r: RunFigures) -> list[str]:
    out = []
    if runner != r.runner or version != r.runner_version:
        out.append(f"{runner} {version} vs {r.runner} {r.runner_version}")
    if node != r.node:
        out.append(f"node {node} vs {r.node}")
    if heaplens != r.heaplens:
        out.append(f"heaplens {heaplens} vs {r.heaplens}")
    if digest != r.digest:
        out.append(f"config {digest} vs {r.digest} ({config_change(config, r.config)})")
    return out


def config_change(old: dict, new: dict) -> str:
    """What differs between two suite configs, in a few words."""
    diffs = []
    for k in sorted(set(old) | set(new)):
        if k == "projects":
            po = {p.get("name") or "(root)": p for p in old.get(k) or []}
            pn = {p.get("name") or "(root)": p for p in new.get(k) or []}
            for name in sorted(set(po) | set(pn)):
                a, b = po.get(name), pn.get(name)
                if a is None or b is None:
                    diffs.append(f"project {name} {'added' if a is None else 'removed'}")
                    continue
                for s in sorted(set(a) | set(b)):
                    if a.get(s) != b.get(s):
                        diffs.append(f"project {name} {s} {json.dumps(a.get(s))} → {json.dumps(b.get(s))}")
        elif old.get(k) != new.get(k):
            diffs.append(f"{k} {json.dumps(old.get(k))} → {json.dumps(new.get(k))}")
    text = "; ".join(diffs[:4]) + (f"; +{len(diffs) - 4} more" if len(diffs) > 4 else "")
    return text or "same settings"


@dataclass
class Regression:
    what: str  # file | lane | finding | fault
    name: str  # the file key, the lane, the finding's title
    text: str  # one line saying which and by how much
    metric: str | None = None  # heap | external | peak_rss | severity
    lane: str | None = None
    current: float | None = None
    baseline: float | None = None  # the median of the baseline's runs (0 for a file it does not know)
    low: float | None = None
    high: float | None = None
    allowed: float | None = None
    file: str | None = None  # where an annotation goes (relative to the suite root)
    line: int | None = None
    test_files: list[str] = field(default_factory=list)  # a finding's test files (annotated too)
    files: list[str] = field(default_factory=list)  # what="files": the files measured together (annotated)

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class CheckResult:
    run_id: str
    run_dir: str
    root: str | None
    baseline: str
    baseline_runs: int
    thresholds: Thresholds
    regressions: list[Regression] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # the baseline was made differently
    notes: list[str] = field(default_factory=list)
    compared: dict = field(default_factory=dict)
    improved: list[str] = field(default_factory=list)
    report: str | None = None  # the run's HTML report
    report_url: str | None = None  # where a CI run keeps it (the workflow run's page, artifacts)

    @property
    def passed(self) -> bool:
        return not self.regressions

    def to_json(self) -> dict:
        return {"schema": "heaplens.check", "schema_version": 1, "passed": self.passed, "run_id": self.run_id,
                "run_dir": self.run_dir, "root": self.root, "baseline": self.baseline,
                "baseline_runs": self.baseline_runs, "rule": self.thresholds.rule(),
                "thresholds": self.thresholds.to_json(), "regressions": [r.to_json() for r in self.regressions],
                "flags": self.flags, "notes": self.notes, "compared": self.compared, "improved": self.improved,
                "report": self.report, "report_url": self.report_url}


def _stats(values: list) -> tuple[float, float, float, float] | None:
    vs = [v for v in values if v is not None]
    if not vs:
        return None
    return float(statistics.median(vs)), float(min(vs)), float(max(vs)), float(max(vs) - min(vs))


def _range(lo: float, hi: float) -> str:
    if lo == hi:
        return f"{fmt_size(lo, signed=True)} in every run"
    return f"runs {fmt_size(lo, signed=True)}…{fmt_size(hi, signed=True)}"


def _judge(th: Thresholds, metric: str, values: list, current: float) -> tuple[bool, float, float, float, float]:
    st = _stats(values)
    ref, lo, hi, spread = st if st else (0.0, 0.0, 0.0, 0.0)
    allowed = th.allowed(metric, ref, spread)
    return current - ref > allowed, ref, lo, hi, allowed


WORDS = {"heap": "heap", "external": "external memory", "peak_rss": "peak RSS"}


def lane_growth(units: list[Unit], lane: str, metric: str, keys: set[str] | None = None) -> int:
    """A lane's growth: the sum of its units' figures (only the units whose files are all in ``keys``)."""
    return sum(getattr(u, metric) or 0 for u in units
               if u.lane == lane and (keys is None or all(k in keys for k in u.keys)))


def settled_groups(unit_lists: list[list[Unit]]) -> dict[str, frozenset[str]]:
    """Each file key → the smallest group of files that is a union of whole units in every run given (files
    settled together in any run are in one group): a file never in a span is a group of its own."""
    parent: dict[str, str] = {}

    def find(k: str) -> str:
        while parent.get(k, k) != k:
            parent[k] = parent.get(parent[k], parent[k])
            k = parent[k]
        return k

    for units in unit_lists:
        for u in units:
            for k in u.keys:
                parent.setdefault(k, k)
            for k in u.keys[1:]:
                a, b = find(u.keys[0]), find(k)
                if a != b:
                    parent[b] = a
    groups: dict[str, set[str]] = {}
    for k in parent:
        groups.setdefault(find(k), set()).add(k)
    return {k: frozenset(groups[find(k)]) for k in parent}


def _group_sum(units: list[Unit], group: frozenset[str], metric: str) -> int | None:
    """A run's figure for a group: the sum over its units inside the group (None: none of them ran, or none was
    measured)."""
    vals = [getattr(u, metric) for u in units if u.keys[0] in group]
    vals = [v for v in vals if v is not None]
    return sum(vals) if vals else None


def group_name(keys: list[str]) -> str:
    """Files measured together, as a name: all of them up to five, else the first four, … and the last."""
    return ", ".join(keys) if len(keys) <= 5 else ", ".join(keys[:4]) + f", … {keys[-1]}"


def check(run: str | os.PathLike, baseline_path: str | os.PathLike, *, thresholds: Thresholds | None = None,
          strict: bool = False, retainers: bool = True, rules: list[str] | None = None,
          write_report: bool = True) -> CheckResult:
    """``heaplens check RUN --baseline FILE``: every regression of the run against the baseline."""
    th = thresholds or Thresholds()
    base = Baseline.load(baseline_path)
    fig = measure(run, retainers=retainers, rules=rules)
    res = CheckResult(run_id=fig.run_id, run_dir=fig.path, root=fig.root, baseline=str(base.path),
                      baseline_runs=base.n, thresholds=th)
    differ = _differences(base.runner, base.runner_version, base.node, base.heaplens, base.config_digest,
                          base.config, fig)
    if differ:
        if strict:
            raise UsageError(f"the baseline {base.path} was made differently ({'; '.join(differ)}): --strict "
                             "refuses to compare (heaplens baseline save a run of this setup)")
        res.flags.append(f"the baseline was made differently ({'; '.join(differ)}): compared anyway, its figures "
                         "may differ for that reason alone (--strict refuses)")
    if base.snapshots != fig.snapshots:
        res.flags.append(f"the baseline's runs were made {'with' if base.snapshots else 'without'} heap snapshots, "
                         f"this run {'with' if fig.snapshots else 'without'}: writing snapshots raises peak RSS")
    res.notes.extend(fig.notes)
    if fig.status in ("interrupted", "abandoned"):
        res.notes.append(f"the run was {fig.status}: the lanes that did not finish have partial figures")
    elif fig.status == "failed":
        res.notes.append("the run failed (a test failed or a worker died): its figures are compared as they are")

    # files (a file measured only with others, in a span here or in a baseline run: its group, below)
    missing = [k for k in base.files if k not in fig.files]
    new_files = []
    units_now = fig.units()
    units_base = [base.units(i) for i in range(base.n)]
    groups = settled_groups([units_now, *units_base])
    starts = _Starts(base, fig, units_now, units_base)
    spanned: dict[frozenset[str], list[str]] = {}
    moved_first: dict[str, bool] = {}  # files measured here otherwise than in every baseline run (_alike)
    for key, f in sorted(fig.files.items()):
        b = base.files.get(key)
        if b is None:
            new_files.append(key)
        if len(groups.get(key, ())) > 1:
            spanned.setdefault(groups[key], []).append(key)
            continue
        for m in GROWTH:
            cur = getattr(f, m)
            if cur is None:
                continue
            values, alike = _alike(base, key, f, m, starts)
            if alike:
                moved_first.setdefault(key, f.first)
            bad, ref, lo, hi, allowed = _judge(th, m, values, cur)
            if bad:
                was = (f"baseline {fmt_size(ref, signed=True)} ({_range(lo, hi)})" if b is not None and _stats(values)
                       else "not in the baseline (compared with 0)")
                if alike:
                    was = f"{alike}: {was}"
                res.regressions.append(Regression(
                    what="file", name=key, metric=m, lane=f.lane, current=cur, baseline=ref, low=lo, high=hi,
                    allowed=allowed, file=f.file,
                    text=(f"{printable.line(key)} (lane {printable.line(f.lane)}) leaves {fmt_size(cur, signed=True)} of "
                          f"{WORDS[m]} after a full GC, {was}; allowed {fmt_size(allowed, signed=True)} over it")))
            elif b is not None and _stats(values) and cur < ref - allowed and m == "heap":
                res.improved.append(key)
    _check_groups(res, th, fig, base, spanned, units_now, units_base, starts)
    for was_first, words in ((True, "ran first in their worker here, not in every baseline run: a worker's first "
                              "file also holds the worker's start, so it is added to those runs' figures"),
                             (False, "ran first in their worker in a baseline run, not here: that run's start cost "
                              "is taken off their figure there")):
        keys = [k for k, v in moved_first.items() if v is was_first]
        if keys:
            res.notes.append(f"{len(keys)} file(s) {words}: " + ", ".join(printable.line(k) for k in keys[:5])
                             + (" …" if len(keys) > 5 else ""))
    if new_files:
        res.notes.append(f"{len(new_files)} file(s) not in the baseline (compared with 0): "
                         + ", ".join(printable.line(k) for k in new_files[:5]) + (" …" if len(new_files) > 5 else ""))
    if missing:
        res.notes.append(f"{len(missing)} file(s) of the baseline did not run: "
                         + ", ".join(printable.line(k) for k in missing[:5]) + (" …" if len(missing) > 5 else ""))

    # lanes: heap over the files both ran in the lane; peak RSS; faults
    for name, lane in sorted(fig.lanes.items()):
        b = base.lanes.get(name)
        if b is None:
            res.notes.append(f"lane {printable.line(name)} is not in the baseline: only its files are compared")
            continue
        common = [k for k, f in fig.files.items() if f.lane == name and k in base.files]
        moved = lane.files != len(common) or any(v is not None and v != len(common) for v in b["files"])
        keys = set(common)
        for m in GROWTH:
            cur = lane_growth(units_now, name, m, keys)
            values = [None if b["files"][i] is None else lane_growth(units_base[i], name, m, keys)
                      for i in range(base.n)]
            values, _ = starts.shift(values, keys, m, [name] * base.n)
            bad, ref, lo, hi, allowed = _judge(th, m, values, cur)
            if bad:
                res.regressions.append(Regression(
                    what="lane", name=name, metric=m, lane=name, current=cur, baseline=ref, low=lo, high=hi,
                    allowed=allowed,
                    text=(f"lane {printable.line(name)} leaves {fmt_size(cur, signed=True)} of {WORDS[m]} over its "
                          f"{len(common)} file(s) in the baseline, baseline {fmt_size(ref, signed=True)} "
                          f"({_range(lo, hi)}); allowed {fmt_size(allowed, signed=True)} over it")))
        bad, ref, lo, hi, allowed = _judge(th, "peak_rss", b["peak_rss"], lane.peak_rss)
        if bad and _stats(b["peak_rss"]):
            res.regressions.append(Regression(
                what="lane", name=name, metric="peak_rss", lane=name, current=lane.peak_rss, baseline=ref, low=lo,
                high=hi, allowed=allowed,
                text=(f"lane {printable.line(name)} peak RSS {fmt_size(lane.peak_rss)} (its largest worker), baseline "
                      f"{fmt_size(ref)} (" + (f"runs {fmt_size(lo)}…{fmt_size(hi)}" if lo != hi else "every run")
                      + f"); allowed +{fmt_size(allowed)} over it"
                      + (" — the lane's files differ from the baseline's" if moved else ""))))
        new_faults = [x for x in lane.faults if not b["faults"]]
        for x in new_faults:
            kind, _, what = x.partition(" ")
            res.regressions.append(Regression(
                what="fault", name=name, metric=kind, lane=name, file=what.split(", ")[0] if "/" in what else None,
                text=f"lane {printable.line(name)}: a worker died ({printable.line(kind)}) running {printable.line(what)}; "
                     "no baseline run had a fault there"))
    for name in sorted(set(base.lanes) - set(fig.lanes)):
        res.notes.append(f"lane {printable.line(name)} of the baseline did not run")
    for name, i in sorted(starts.unsure):
        res.notes.append(f"baseline run {printable.line(base.runs[i].get('run_id') or i + 1)} tells the start cost of "
                         f"lane {printable.line(name)}'s workers only within bounds (one figure besides its first "
                         "files: the GC budget settled the rest together): a figure holding more first files here "
                         "is compared with the most a start can be (the smallest first file), one holding fewer with "
                         "the least (give the baseline more runs, or make it with --gc-overhead off)")

    # findings
    if base.findings is None or fig.findings is None:
        why = ("the baseline's runs" if base.findings is None else "this run") + " measured no findings"
        res.notes.append(f"findings not compared: {why} (heap snapshots and retainers are needed)")
    else:
        known = base.finding_keys()
        seen: set[tuple] = set()
        for f in sorted(fig.findings, key=lambda f: -f.retained_growth):
            if f.key in seen:
                continue
            seen.add(f.key)
            b = known.get(f.key)
            where = f" (lane {printable.line(f.lane)}, pid {f.pid})" if f.lane else ""
            fix = f"; fix: {printable.line(f.fix)}" if f.fix else ""
            if b is None:
                res.regressions.append(Regression(
                    what="finding", name=f.title, metric="new", lane=f.lane, current=f.retained_growth,
                    file=f.file, line=f.line, test_files=f.test_files,
                    text=f"new finding: {printable.line(f.title)}, {f.severity}{where}{fix}"))
            elif SEVERITY.get(f.severity, 0) > SEVERITY.get(str(b.get("severity")), 0):
                res.regressions.append(Regression(
                    what="finding", name=f.title, metric="severity", lane=f.lane, current=f.retained_growth,
                    file=f.file, line=f.line, test_files=f.test_files,
                    text=f"finding got worse: {printable.line(f.title)}, {b.get('severity')} → {f.severity}{where}{fix}"))
        gone = [b for k, b in known.items() if k not in seen]  # (seen: every key of this run's findings)
        if gone:
            res.notes.append(f"{len(gone)} finding(s) of the baseline not found in this run: "
                             + "; ".join(printable.line(g.get("title")) for g in gone[:3]))
    res.compared = {"files": len(fig.files), "lanes": len(fig.lanes),
                    "findings": None if fig.findings is None else len({f.key for f in fig.findings}),
                    "new_files": len(new_files), "missing_files": len(missing)}
    if write_report:
        res.report = _write_report(fig)
    res.report_url = ci_run_url()
    return res


def _first(e: dict, i: int) -> bool:
    return bool((e.get("first") or ())[i]) if e.get("first") else False


def _start(units: list[Unit], lane: str, metric: str) -> tuple[float, float] | None:
    """The start cost one run's figures give (:func:`start_bounds`), or None without a first file and another."""
    units = [u for u in units if u.lane == lane and getattr(u, metric) is not None]
    firsts = [getattr(u, metric) for u in units if u.first]
    # every other figure as growth per file: a file measured alone, or a span's growth over its files (the GC
    # budget settled them together)
    others = [getattr(u, metric) / len(u.keys) for u in units if not u.first]
    if not firsts or not others:
        return None
    # the smallest first file: a first file's figure is the start plus its own growth, and one that leaks itself
    # (a suite's known leak that happens to run first) must not make every start look large. The lower median of
    # the others, for the same reason the other way: a leak only adds, so a file or span that holds the suite's
    # known leak must not make every start look small — with two figures (a budgeted run's two workers' spans,
    # one of them holding the leak) the mean would be half the leak, and the start cost 0
    first = float(min(firsts))
    est = max(0.0, first - float(statistics.median_low(others)))
    if len(others) > 1:
        return est, est
    # one other figure (a budgeted run whose workers settled every file but their first in one span): nothing
    # outvotes a leak in it, so the start is known only between what it gives (a leak there makes it smaller,
    # never larger) and the smallest first file (a start with no growth of the file's own)
    return est, max(est, first)


def start_bounds(base: Baseline, lane: str, metric: str, i: int,
                 now: RunFigures | None = None) -> tuple[float, float] | None:
    """What a worker's start adds to its first file's figure, as the least and the most it can be: the lane's
    smallest first file less the lower median of the growth per file of its other figures — its files measured
    one by one and, where the GC budget settled files only together, its spans' growth per file — in baseline run
    ``i``; with a single other figure, up to the smallest first file. The baseline's own figures, since the run
    checked may hold the regression in its first files, and a start cost taken from them would move the bar by
    the regression itself (a clean file that ran first in the baseline run flagged, or a leaking first file let
    through). Only when run ``i`` has no first file or no other figure, from the run checked (``now``). None when
    neither has both kinds."""
    w = _start(base.units(i), lane, metric)
    if w is None and now is not None:
        w = _start(now.units(), lane, metric)
    return w


def start_cost(base: Baseline, lane: str, metric: str, i: int, now: RunFigures | None = None) -> float | None:
    """The start cost (:func:`start_bounds`) where it is known; the least it can be where it is not."""
    w = start_bounds(base, lane, metric, i, now)
    return None if w is None else w[0]


class _Starts:
    """A worker's first file is measured from the worker's start, so its figure also holds what the worker's
    first test run leaves once (code compiled on first use, the runner's first-run state). A figure of the run
    checked — a file's, a group's, a lane's sum — is compared with baseline figures that hold as many starts:
    a baseline run with fewer (more) first files among the same keys gets its start cost (:func:`start_bounds`,
    once per lane, metric and run) added (taken off) per start. One mechanism for files, groups and lanes. Where
    a baseline run tells the start cost only within bounds, the figure gets the benefit of the doubt: the most a
    start can be is added, the least taken off (and ``unsure`` says which lanes and runs)."""

    def __init__(self, base: Baseline, now: RunFigures, units_now: list[Unit], units_base: list[list[Unit]]):
        self.base, self.now = base, now
        self.here = {u.keys[0] for u in units_now if u.first}  # a first file is always a unit of its own
        self.there = [{u.keys[0] for u in units if u.first} for units in units_base]
        self.costs: dict[tuple[str, str, int], tuple[float, float] | None] = {}
        self.unsure: set[tuple[str, int]] = set()  # (lane, baseline run) shifted by a bound

    def cost(self, lane: str, metric: str, i: int) -> tuple[float, float] | None:
        k = (lane, metric, i)
        if k not in self.costs:
            self.costs[k] = start_bounds(self.base, lane, metric, i, self.now)
        return self.costs[k]

    def shift(self, values: list, keys, metric: str, lanes: list) -> tuple[list, bool]:
        """Each baseline run's figure over ``keys`` (None: not measured) with as many starts as this run's, the
        start cost taken from run ``i``'s lane ``lanes[i]``; and whether any figure was changed (a start cost of 0
        changes none)."""
        keys = set(keys)
        here = len(self.here & keys)
        out, shifted = [], False
        for i, v in enumerate(values):
            n = here - len(self.there[i] & keys)
            w = self.cost(lanes[i], metric, i) if n and v is not None else None
            if w is None:
                out.append(v)
                continue
            lo, hi = w
            step = n * (hi if n > 0 else lo)
            out.append(v + step)
            shifted = shifted or step != 0  # a start that costs nothing changes no figure: nothing to say
            if lo != hi:
                self.unsure.add((lanes[i], i))
        return out, shifted


def _alike(base: Baseline, key: str, f: FileFigure, metric: str, starts: _Starts) -> tuple[list, str | None]:
    """The baseline's figures to compare a file's figure with, measured the same way: from its worker's start
    (a worker's first file) or from the file before it (:class:`_Starts`), and a phrase when a baseline run
    measured it the other way."""
    b = base.files.get(key)
    if b is None:
        return [], None
    out, shifted = starts.shift(b[metric], (key,), metric, b["lane"])
    if not shifted:
        return out, None
    how = ("ran first in its worker here, not in every baseline run: the worker's start it holds is added to "
           "those runs' figures") if f.first else ("ran first in its worker in a baseline run, not here: that "
                                                    "run's start cost is taken off its figure")
    return out, how


def _check_groups(res: CheckResult, th: Thresholds, fig: RunFigures, base: Baseline,
                  spanned: dict[frozenset[str], list[str]], units_now: list[Unit], units_base: list[list[Unit]],
                  starts: _Starts) -> None:
    """The files measured only together (a span here or in a baseline run), compared group by group: each run's
    sum over the group is exact. Never reported as one file's growth."""
    for group, ran in sorted(spanned.items(), key=lambda x: sorted(x[0])):
        order = [k for u in units_now for k in u.keys if k in group]
        order += sorted(k for k in group if k not in order)
        unmeasured = [k for k in ran if fig.files[k].span is None and fig.files[k].heap is None
                      and fig.files[k].external is None]
        if unmeasured:
            res.notes.append(f"{len(group)} file(s) measured together ({printable.line(group_name(order))}) not "
                             f"compared: {printable.line(unmeasured[0])} has no GC-settled figure in this run")
            continue
        lane = fig.files[ran[0]].lane
        lane_keys = {k for k, f in fig.files.items() if f.lane == lane}
        if lane_keys <= group and all(k in base.files for k in lane_keys):
            continue  # the group is the whole lane: its line below compares the same sums
        known = any(k in base.files for k in group)
        for m in GROWTH:
            cur = _group_sum(units_now, group, m)
            if cur is None:
                continue
            values, _ = starts.shift([_group_sum(units_base[i], group, m) for i in range(base.n)], group, m,
                                     [lane] * base.n)
            bad, ref, lo, hi, allowed = _judge(th, m, values, cur)
            name = group_name(order)
            if bad:
                was = (f"baseline {fmt_size(ref, signed=True)} ({_range(lo, hi)})" if known and _stats(values)
                       else "not in the baseline (compared with 0)")
                res.regressions.append(Regression(
                    what="files", name=name, metric=m, lane=lane, current=cur, baseline=ref, low=lo, high=hi,
                    allowed=allowed, files=[fig.files[k].file for k in order if k in fig.files],
                    text=(f"{len(order)} files measured together ({printable.line(name)}; lane {printable.line(lane)}) leave "
                          f"{fmt_size(cur, signed=True)} of {WORDS[m]} after a full GC, {was}; allowed "
                          f"{fmt_size(allowed, signed=True)} over it — their file ends were GC-settled together "
                          "(the GC budget), so which of them grew is not known: rerun them with --gc-overhead off "
                          "for a figure per file")))
            elif known and _stats(values) and cur < ref - allowed and m == "heap":
                res.improved.append(name)


def _write_report(fig: RunFigures) -> str | None:
    """The run's HTML report beside its record (for the link), from the model the check read."""
    try:
        doc = fig.report or report_document(fig.path, retainers=False)
        html = Path(fig.path) / "report.html"
        write_text_atomic(html, render(doc, "html"))
        return str(html)
    except (UsageError, OSError):
        return None


def ci_run_url() -> str | None:
    """The page of the CI run (GitHub Actions: its artifacts hold the uploaded report)."""
    server, repo, run_id = (os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    if server and repo and run_id:
        return f"{server}/{repo}/actions/runs/{run_id}"
    return None
