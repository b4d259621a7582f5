"""Diagnose a whole run (``heaplens diagnose RUN_DIR``): every lane, every worker PID.

For each worker with at least two heap snapshots, the earliest and the latest are compared and the
growth classified by the rules (``heaplens.diagnose``); the snapshots between give the interval
trend (is the growth monotonic?). The run record adds what snapshots cannot: the per-file RSS
deltas of that worker (which files account for the growth) and the JS heap vs. RSS vs. external
memory of each file (external memory grows RSS without the heap). A worker without a snapshot pair
is classified from its trace alone, with low confidence, and says so.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..compare.delta import diff_files
from ..compare.summary import summarize
from ..errors import UsageError
from ..runner.record import LaneRecord, RunRecord
from ..snapshot.files import parse_name
from ..units import fmt_size
from . import (
    _NAMED_HOP,
    GENERIC_NAMES,
    USER_HOLDER_HINTS,
    Diagnosis,
    RuleSet,
    _below_loader,
    classify_growth,
    confirm_with_retainers,
    held_by_loader,
    load_rules,
)

MIB = 1024 * 1024
# A worker whose RSS grew less than this over its files is not worth a verdict from the trace alone.
TRACE_MIN_GROWTH = 32 * MIB
# At most this many snapshots of one worker are read for the interval trend (first and last always).
TREND_MAX_SNAPSHOTS = 8

# How the object is held, from the retaining chain below the module loader → the cleanup it misses.
# A server first: an http.Server is an emitter (its request listener) and holds its connections-checking
# interval (a timer); closing the server is what releases both.
HOLDER_KINDS = (
    ("server", re.compile(r"\bServer\b|TCPSERVERWRAP|\bTCP\b|Socket|_connections|HTTPParser")),
    ("listener", re.compile(r"_events|listeners|EventEmitter|AbortSignal|EventTarget")),
    ("timer", re.compile(r"\bTimeout\b|_onTimeout|TimersList|_idlePrev|_idleNext|\bImmediate\b")),
    ("db", re.compile(r"\bDatabase\b|Statement|\bConnection\b|\bPool\b|sqlite", re.I)),
    ("mock", re.compile(r"\bmock\b|\bspy\b|tinyspy|\bcalls\b \(property\)|mockState|__vitest_spy", re.I)),
    ("global", re.compile(r"^global\b|globalThis")),
)
CLEANUP = {
    "timer": "clearInterval/clearTimeout the timer in afterEach/afterAll (or `.unref()` and drop its data)",
    "listener": "remove the listener (`removeListener`/`off`) in afterEach/afterAll",
    "server": "`close()` the server (and its sockets) in afterAll",
    "db": "`close()` the database handle in afterAll",
    "mock": "`vi.restoreAllMocks()` / `mockReset()` in afterEach (or `restoreMocks: true` in the config)",
    "global": "delete the global (or reset it) in afterEach/afterAll",
    "variable": "clear the module-level collection in afterEach/afterAll (e.g. `.clear()`), or bound it",
    "external": "drop the references to the Buffers/ArrayBuffers (and close streams) in afterEach/afterAll",
    "module-loader": "nothing to clean up in the test: the module loader keeps it — isolate the files that load it",
}
# The rule label of the leading runtime family → holder kind, when the chain does not say.
LABEL_KINDS = (("timer", "timer"), ("listener", "listener"), ("server", "server"), ("socket", "server"),
               ("database", "db"), ("mock", "mock"))


@dataclass
class Holder:
    """Who keeps the new objects of one class: the variable, the source file, the kind of holder."""

    class_name: str
    count: int
    total: int
    variable: str | None
    source: str | None
    kind: str
    via_loader: bool
    chain: str
    sentence: str

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Investigation:
    lane: str
    pid: int | None
    snapshots: list[str]  # this worker's snapshots, in order (empty: trace only)
    diagnosis: Diagnosis
    rows: list = field(default_factory=list)  # top DeltaRows of the earliest → latest comparison
    totals: list[int] = field(default_factory=list)  # self size of each snapshot read for the trend
    trend_snapshots: list[str] = field(default_factory=list)
    trend: list[dict] = field(default_factory=list)  # {type, name, sizes[]} of the top families
    monotonic: bool | None = None
    files: list[dict] = field(default_factory=list)  # the trace entries of this worker
    holders: list[Holder] = field(default_factory=list)
    trace: dict = field(default_factory=dict)  # rss / heap / external growth over the worker's files
    signals_ms: list[float] = field(default_factory=list)  # when this worker was signalled for a snapshot

    def snapshot_during(self, f: dict) -> bool:
        """A snapshot was written while the file ran: its RSS delta includes the writer's memory."""
        s, e = f.get("start_ms"), f.get("end_ms")
        return s is not None and e is not None and any(s <= t <= e for t in self.signals_ms)

    @property
    def before(self) -> str | None:
        return self.snapshots[0] if len(self.snapshots) >= 2 else None

    @property
    def after(self) -> str | None:
        return self.snapshots[-1] if len(self.snapshots) >= 2 else None

    def growth_files(self, share: float = 0.8, limit: int = 5, by: str = "rss") -> list[dict]:
        """The files with the largest growth of this worker that together make ``share`` of it: by RSS,
        or (``by="heap"``) by JS heap — which a snapshot written during a file does not inflate."""

        def grew(f: dict) -> int:
            if by == "heap":
                if f.get("heap_used_end") is None or f.get("heap_used_start") is None:
                    return f.get("delta") or 0
                return f["heap_used_end"] - f["heap_used_start"]
            return f.get("delta") or 0

        pos = sorted((f for f in self.files if grew(f) > 0), key=lambda f: -grew(f))
        total = sum(grew(f) for f in pos)
        out, acc = [], 0
        for f in pos:
            if len(out) >= limit or (total and acc >= share * total):
                break
            out.append(f)
            acc += grew(f)
        return out

    def to_json(self) -> dict:
        d = self.diagnosis.to_json()
        return {
            "lane": self.lane,
            "pid": self.pid,
            "before": self.before,
            "after": self.after,
            "snapshots": self.snapshots,
            **d,
            "families": [{"type": r.type, "name": _cut(r.name), "size_before": r.size_before, "size_after": r.size_after,
                          "size_delta": r.size_delta, "count_before": r.count_before, "count_after": r.count_after,
                          "count_delta": r.count_delta} for r in self.rows],
            "trend": {"snapshots": self.trend_snapshots, "totals": self.totals, "monotonic": self.monotonic,
                      "families": self.trend},
            "trace": self.trace,
            "growth_files": [{"file": f["file"], "delta": f["delta"], "snapshot_during": self.snapshot_during(f)}
                             for f in self.growth_files()],
            "heap_growth_files": [{"file": f["file"], "heap_delta": (f.get("heap_used_end") or 0) -
                                   (f.get("heap_used_start") or 0)} for f in self.growth_files(by="heap")],
            "holders": [h.to_json() for h in self.holders],
        }


@dataclass
class RunDiagnosis:
    run_dir: str
    record: RunRecord
    rules: RuleSet
    investigations: list[Investigation]
    skipped: list[str]  # lanes with nothing to say, and why


# --------------------------------------------------------------------------------------------------


def complete(path: str) -> bool:
    """A snapshot Node finished writing: not empty and ending with the closing brace (a worker that
    exits mid-write leaves an empty or cut file). Compressed files are taken as complete."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            if size == 0:
                return False
            if path.endswith(".gz"):
                return True
            fh.seek(max(0, size - 64))
            return fh.read().rstrip().endswith(b"}")
    except OSError:
        return False


def _worker_snapshots(lane: LaneRecord, incomplete: list[str] | None = None,
                      run_dir: Path | None = None) -> dict[int, list[str]]:
    """PID → its complete snapshot files that still exist, in Node's sequence order (cut ones go to
    ``incomplete``)."""
    files = list(lane.snapshots.files)
    d = lane.snapshots.dir
    if run_dir is not None and d and not Path(d).is_dir():
        # a run directory that was moved or downloaded (a CI artefact): its own heapsnap/<lane>
        moved = Path(run_dir) / "heapsnap" / Path(d).name
        if moved.is_dir():
            files = [str(moved / Path(f).name) for f in files]
            d = str(moved)
    if d and Path(d).is_dir():  # files written after the record (e.g. near-limit snapshots)
        files += [str(q) for q in Path(d).glob("*.heapsnapshot")]
    by_pid: dict[int, list] = {}
    for f in dict.fromkeys(os.path.abspath(f) for f in files):
        n = parse_name(f)
        if n is None or not Path(f).is_file():
            continue
        if not complete(f):
            if incomplete is not None:
                incomplete.append(f)
            continue
        by_pid.setdefault(n.pid, []).append(n)
    return {pid: [str(n.path) for n in sorted(ns, key=lambda n: n.sort_key)] for pid, ns in by_pid.items()}


def _trace_growth(files: list[dict]) -> dict:
    def total(a: str, b: str) -> int:
        return sum((f.get(b) or 0) - (f.get(a) or 0) for f in files if f.get(a) is not None and f.get(b) is not None)

    if not files:
        return {}
    first, last = files[0], files[-1]
    return {
        "files": len(files),
        "rss_start": first.get("rss_start"),
        "rss_end": last.get("rss_end"),
        "rss_growth": total("rss_start", "rss_end"),
        "heap_growth": total("heap_used_start", "heap_used_end"),
        "external_growth": total("external_start", "external_end") + total("array_buffers_start", "array_buffers_end"),
        "peak": max((f.get("peak") or 0) for f in files),
    }


NAME_LIMIT = 500  # family names (string families are the string itself: a module's source can be megabytes)


def _cut(name: str) -> str:
    return name if len(name) <= NAME_LIMIT else name[: NAME_LIMIT - 1] + "…"


def _fmt(n: int) -> str:
    return fmt_size(n, signed=True)


def _trace_evidence(inv: Investigation) -> list[str]:
    t = inv.trace
    if not t:
        return []
    out = [f"trace (pid {inv.pid}, {t['files']} file(s)): RSS {_fmt(t['rss_growth'])}, JS heap {_fmt(t['heap_growth'])}, "
           f"external+ArrayBuffers {_fmt(t['external_growth'])} summed over the files"]
    top = inv.growth_files()
    pos = sum(f["delta"] for f in inv.files if (f.get("delta") or 0) > 0)
    if top and pos > 0:
        share = sum(f["delta"] for f in top) / pos
        out.append(f"per-file RSS: {len(top)} of {len(inv.files)} file(s) account for {share:.0%} of the worker's growth — "
                   + ", ".join(f"{f['file']} {_fmt(f['delta'])}" + (" (a snapshot was written during it)"
                                                                    if inv.snapshot_during(f) else "") for f in top))
    heap = inv.growth_files(by="heap")
    if heap and any(inv.snapshot_during(f) for f in inv.files):
        out.append("per-file JS heap (not inflated by snapshot writing): "
                   + ", ".join(f"{f['file']} {_fmt(f['heap_used_end'] - f['heap_used_start'])}" for f in heap
                               if f.get("heap_used_end") is not None and f.get("heap_used_start") is not None))
    return out


def _classify_trace(inv: Investigation) -> Diagnosis:
    """No snapshot pair: what the trace alone says (low confidence)."""
    t = inv.trace
    ev = _trace_evidence(inv)
    rss, heap, ext = t.get("rss_growth", 0), t.get("heap_growth", 0), t.get("external_growth", 0)
    if rss < TRACE_MIN_GROWTH:
        return Diagnosis("no significant growth", None, 0.6, f"the worker's RSS grew {_fmt(rss)} over its files "
                         f"(threshold {_fmt(TRACE_MIN_GROWTH)}); no snapshot pair to look inside", ev, {}, 0, 0)
    if ext >= 0.5 * rss and heap < 0.25 * rss:
        return Diagnosis("external memory", "external", 0.55, f"RSS {_fmt(rss)} with external/ArrayBuffer memory "
                         f"{_fmt(ext)} and the JS heap only {_fmt(heap)} (trace only, no snapshot pair)", ev, {}, 0, 0)
    return Diagnosis("ambiguous", None, 0.2, f"RSS grew {_fmt(rss)} (JS heap {_fmt(heap)}) but this worker has no "
                     "snapshot pair: rerun the lane with --snapshot-interval to see what grew", ev, {}, 0, 0)


def _apply_trace(inv: Investigation) -> None:
    """Snapshot verdicts see only the JS heap: RSS that grew through external memory while the
    heap families did not is external memory."""
    d, t = inv.diagnosis, inv.trace
    d.evidence.extend(_trace_evidence(inv))
    if not t or d.verdict not in ("no significant growth", "ambiguous"):
        return
    rss, heap, ext = t["rss_growth"], t["heap_growth"], t["external_growth"]
    if rss >= TRACE_MIN_GROWTH and ext >= 0.5 * rss and heap < 0.25 * rss:
        d.verdict, d.bucket, d.confidence = "external memory", "external", 0.7
        d.summary = (f"external memory: RSS {_fmt(rss)} and external/ArrayBuffer memory {_fmt(ext)} grew while the JS "
                     f"heap families did not ({_fmt(heap)} of heap)")


def _trend(inv: Investigation, rows, progress) -> None:
    """Totals and the top families' sizes in (up to TREND_MAX_SNAPSHOTS) snapshots of the worker,
    looked up by family key in each snapshot's summary."""
    snaps = inv.snapshots
    if len(snaps) > TREND_MAX_SNAPSHOTS:
        step = (len(snaps) - 1) / (TREND_MAX_SNAPSHOTS - 1)
        snaps = [snaps[round(i * step)] for i in range(TREND_MAX_SNAPSHOTS)]
    top = rows[:8]
    keys = np.array([r.key for r in top], dtype=np.uint64)
    sizes: list[list[int]] = [[] for _ in top]
    for p in snaps:
        if progress:
            progress(f"trend {Path(p).name}")
        s = summarize(p)
        try:
            inv.totals.append(s.total_size)
            t = s.table("family")
            hit = t.lookup(keys)
            for i, r in enumerate(hit):
                sizes[i].append(int(t.size[r]) if r >= 0 else 0)
        finally:
            s.close()
    inv.trend_snapshots = snaps
    inv.trend = [{"type": r.type, "name": _cut(r.name), "sizes": v} for r, v in zip(top, sizes)]
    if len(inv.totals) >= 3:
        inv.monotonic = all(b > a for a, b in zip(inv.totals, inv.totals[1:]))
        steps = len(inv.totals) - 1
        grew = sum(b > a for a, b in zip(inv.totals, inv.totals[1:]))
        inv.diagnosis.evidence.append(
            f"intervals: the heap grew in {grew} of {steps} interval(s) across {len(inv.totals)} snapshots"
            + (" — monotonic growth" if inv.monotonic else " — not monotonic (growth and release)"))


def holder_of(chain, agg, root: str | None) -> Holder:
    """The variable, source file and kind of holder of one aggregated retaining chain."""
    text = chain.example.text()
    below = _below_loader(text)
    near = " → ".join(below)
    kind = next((k for k, pat in HOLDER_KINDS if pat.search(near)), None)
    if kind is None:
        kind = next((k for k, pat in USER_HOLDER_HINTS if pat.search(near)), "variable")
    slot = getattr(chain, "variable", None)  # (name, held class) of a recovered context slot (diagnose.slots)
    variable = slot[0] if slot else None
    if variable is None and chain.holder:
        m = re.search(r"`(?:get |set )?([^`]+)`", chain.holder)
        variable = m.group(1) if m else None
    if variable is None:
        for hop in reversed(below):
            m = _NAMED_HOP.match(hop)
            if m and m.group("name") not in GENERIC_NAMES and not m.group("name").startswith("<"):
                variable = m.group("name")
                break
    source = chain.script
    if source:
        source = source.removeprefix("file://")
        if root and source.startswith(root.rstrip("/") + "/"):
            source = source[len(root.rstrip("/")) + 1:]
    via_loader = held_by_loader(text, chain.script, agg.class_name)
    if via_loader:
        kind = "module-loader"
    return Holder(class_name=agg.class_name, count=chain.count, total=agg.total, variable=variable, source=source,
                  kind=kind, via_loader=via_loader, chain=chain.pattern, sentence=agg.sentence(chain))


def _holders(inv: Investigation, root: str | None) -> None:
    d = inv.diagnosis
    for r in d.retainers:
        agg = r.retainers
        if not agg:
            continue
        for c in agg.chains[:2]:
            inv.holders.append(holder_of(c, agg, root))
    # The leading runtime family says what kind of resource leaks when the chain is a plain variable.
    lead = None
    if d.bucket == "runtime" and "runtime" in d.buckets:
        labels = d.buckets["runtime"].labels
        lead = max(labels.items(), key=lambda kv: kv[1][0])[0] if labels else None
    for h in inv.holders:
        if h.kind == "variable" and lead:
            h.kind = next((k for word, k in LABEL_KINDS if word in lead.lower()), h.kind)


def cleanup_for(kind: str) -> str:
    return CLEANUP.get(kind, CLEANUP["variable"])


# --------------------------------------------------------------------------------------------------


def diagnose_run(run: RunRecord | str | os.PathLike, *, rules: RuleSet | None = None, retainers: bool = True,
                 lanes: list[str] | None = None, progress=None) -> RunDiagnosis:
    """Every lane of the run (a record, or a run directory / run.json / run id): one Investigation per
    worker that grew or has a snapshot pair."""
    rec = run if isinstance(run, RunRecord) else RunRecord.load(run)
    path = rec.dir
    rules = rules or load_rules()
    root = rec.root
    invs: list[Investigation] = []
    skipped: list[str] = []
    lane_items = list(rec.lanes.items())
    if lanes:
        unknown = [n for n in lanes if n not in dict(lane_items)]
        if unknown:
            raise UsageError(f"no lane {', '.join(unknown)} in {path} (lanes: {', '.join(n for n, _ in lane_items)})")
        lane_items = [(n, l) for n, l in lane_items if n in lanes]
    for name, lane in lane_items:
        files_by_pid: dict[int, list[dict]] = {}
        for f in lane.files:
            files_by_pid.setdefault(f.pid, []).append(f.to_json())
        cut_files: list[str] = []
        snaps = _worker_snapshots(lane, cut_files, path)
        signals: dict[int, list[float]] = {}
        for sig in lane.snapshots.signals:
            for p in sig.pids:
                signals.setdefault(p, []).append(sig.t * 1000)
        pids = list(dict.fromkeys([*snaps, *files_by_pid]))
        found = False
        for pid in pids:
            files = files_by_pid.get(pid, [])
            worker_snaps = snaps.get(pid, [])
            if len(worker_snaps) >= 2:
                if progress:
                    progress(f"{name} pid {pid}: diff {len(worker_snaps)} snapshots")
                res = diff_files(worker_snaps[0], worker_snaps[-1], by="family", top=20000, min_kb=1 / 1024)
                d = classify_growth(res.rows, res.before.self_size_total, rules)
                inv = Investigation(name, pid, worker_snaps, d, rows=[r for r in res.rows if r.size_delta > 0][:12],
                                    files=files, trace=_trace_growth(files), signals_ms=signals.get(pid, []))
                if len(worker_snaps) >= 3:
                    _trend(inv, inv.rows, progress)
                else:
                    inv.totals = [res.before.self_size_total, res.after.self_size_total]
                    inv.trend_snapshots = list(worker_snaps)
                    inv.trend = [{"type": r.type, "name": _cut(r.name), "sizes": [r.size_before, r.size_after]}
                                 for r in inv.rows[:8]]
                if retainers and d.verdict != "no significant growth":
                    if progress:
                        progress(f"{name} pid {pid}: retainers")
                    confirm_with_retainers(d, worker_snaps[0], worker_snaps[-1])
                    _holders(inv, root)
                _apply_trace(inv)
            elif files:
                inv = Investigation(name, pid, worker_snaps, Diagnosis("ambiguous", None, 0, "", [], {}, 0, 0),
                                    files=files, trace=_trace_growth(files), signals_ms=signals.get(pid, []))
                inv.diagnosis = _classify_trace(inv)
                if worker_snaps:
                    inv.diagnosis.evidence.append(f"only one snapshot of this worker: {worker_snaps[0]}")
            else:
                continue
            found = True
            for f in cut_files:
                if (n := parse_name(f)) and n.pid == pid:
                    inv.diagnosis.evidence.append(f"skipped {Path(f).name}: incomplete (the worker exited while "
                                                  "writing it)")
            invs.append(inv)
        if not found:
            skipped.append(f"{name}: no worker ran a file (status {lane.status})")
    return RunDiagnosis(str(path), rec, rules, invs, skipped)
