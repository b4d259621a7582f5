"""The runtime-fix harness: run a scenario in batches under forced GC and decide PASS or FAIL.

A scenario is an ES module that exports the work of one iteration (``export default``, ``export
function iteration``, or several variants in ``export const modes = {fixed, 'pre-fix', …}``) and
calls ``track(obj, label)`` (``import { track } from 'heaplens/track'``) on what must be released
once the iteration is over. The driver (``js/harness/runner.mjs``) runs under ``--expose-gc``, takes
a baseline snapshot, runs the batches, settles and collects after each, and snapshots again.

Verdict: FAIL when more tracked objects survive than ``survivors_limit`` or RSS grew by more than
``rss_limit_mb``; an error in the scenario is neither (exit code 2).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .compare.ids import id_diff
from .errors import HeaplensError, UsageError
from .graph import find_string
from .graph.paths import aggregate

JS_DIR = Path(__file__).parent / "js" / "harness"
MARK = "@@heaplens "


class ScenarioError(HeaplensError):
    """The scenario itself failed (threw, could not be imported, has no such mode)."""


@dataclass
class Sample:
    label: str  # "baseline" or "batch N"
    total_iterations: int
    rss: int
    heap_used: int
    external: int
    array_buffers: int
    tracked: int
    finalized: int
    snapshot: str
    by_label: dict[str, int] = field(default_factory=dict)
    finalized_by_label: dict[str, int] = field(default_factory=dict)

    @property
    def alive(self) -> int:
        return self.tracked - self.finalized

    @classmethod
    def of(cls, label: str, ev: dict) -> "Sample":
        return cls(
            label=label,
            total_iterations=int(ev.get("totalIterations", 0)),
            rss=int(ev["rss"]),
            heap_used=int(ev["heapUsed"]),
            external=int(ev.get("external", 0)),
            array_buffers=int(ev.get("arrayBuffers", 0)),
            tracked=int(ev["tracked"]),
            finalized=int(ev["finalized"]),
            snapshot=str(ev["snapshot"]),
            by_label=dict(ev.get("byLabel", {})),
            finalized_by_label=dict(ev.get("finalizedByLabel", {})),
        )


@dataclass
class HarnessRun:
    scenario: str
    mode: str
    synthetic: bool
    run_dir: str
    iterations: int
    batches: int
    pid: int | None = None
    node: str | None = None
    baseline: Sample | None = None
    samples: list[Sample] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def last(self) -> Sample:
        return self.samples[-1] if self.samples else self.baseline  # type: ignore[return-value]

    @property
    def survivors(self) -> int:
        return self.last.alive

    @property
    def rss_growth(self) -> int:
        return self.last.rss - self.baseline.rss  # type: ignore[union-attr]

    def survivors_by_label(self) -> dict[str, int]:
        last = self.last
        return {k: v - last.finalized_by_label.get(k, 0) for k, v in last.by_label.items()
                if v - last.finalized_by_label.get(k, 0) > 0}


@dataclass
class Verdict:
    passed: bool
    reasons: list[str]


def judge(run: HarnessRun, survivors_limit: int, rss_limit_mb: float) -> Verdict:
    reasons = []
    if run.survivors > survivors_limit:
        reasons.append(f"{run.survivors:,} of {run.last.tracked:,} tracked objects are still alive "
                       f"(limit {survivors_limit})")
    if run.rss_growth > rss_limit_mb * 1024 * 1024:
        reasons.append(f"RSS grew by {run.rss_growth / 2**20:.1f} MiB (limit {rss_limit_mb:g} MiB)")
    return Verdict(passed=not reasons, reasons=reasons)


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        raise UsageError("node is not on PATH (the harness needs Node >= 20.6)")
    out = subprocess.run([node, "-p", "process.versions.node"], capture_output=True, text=True).stdout.strip()
    try:
        major, minor = (int(x) for x in out.split(".")[:2])
    except ValueError:
        raise UsageError(f"cannot tell the version of {node}") from None
    if (major, minor) < (20, 6):
        raise UsageError(f"the harness needs Node >= 20.6 (module.register), found {out}")
    return node


def new_run_dir(base: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for k in range(1000):
        d = base / (f"{stamp}-{os.getpid()}" + (f"-{k}" if k else ""))
        try:
            d.mkdir(parents=True)
            return d
        except FileExistsError:
            continue
    raise UsageError(f"cannot create a run directory under {base}")


def run_scenario(
    scenario: str | os.PathLike,
    *,
    mode: str | None,
    iterations: int,
    batches: int,
    run_dir: Path,
    synthetic: bool = False,
    on_event: Callable[[dict], None] | None = None,
    timeout: float | None = None,
) -> HarnessRun:
    """Run the driver once; raise :class:`ScenarioError` when the scenario fails."""
    path = Path(scenario)
    if not path.is_file():
        raise UsageError(f"{scenario}: no such scenario file")
    node = node_binary()
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg = {"scenario": str(path.resolve()), "mode": mode, "iterations": iterations, "batches": batches,
           "outDir": str(run_dir.resolve()), "synthetic": synthetic}
    cmd = [node, "--expose-gc", "--import", (JS_DIR / "register.mjs").as_uri(), str(JS_DIR / "runner.mjs"),
           json.dumps(cfg)]
    run = HarnessRun(scenario=str(path), mode=mode or "", synthetic=synthetic, run_dir=str(run_dir),
                     iterations=iterations, batches=batches)
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=path.parent)
    error = None
    other_out: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        if not line.startswith(MARK):
            other_out.append(line)
            continue
        ev = json.loads(line[len(MARK):])
        kind = ev.get("event")
        if kind == "start":
            run.pid, run.node, run.mode = ev.get("pid"), ev.get("node"), ev.get("mode") or run.mode
        elif kind == "baseline":
            run.baseline = Sample.of("baseline", ev)
        elif kind == "batch":
            run.samples.append(Sample.of(f"batch {ev['batch']}", ev))
        elif kind == "error":
            error = ev
        if on_event is not None:
            on_event(ev)
    stderr = proc.stderr.read() if proc.stderr else ""
    code = proc.wait(timeout=timeout)
    run.elapsed = time.monotonic() - t0
    (run_dir / "scenario-output.log").write_text("".join(other_out) + stderr)
    if error is not None:
        first = error.get("message", "").strip().splitlines() or ["(no message)"]
        raise ScenarioError(f"{path}: the scenario failed in {error.get('phase')}: {first[0]}")
    if code != 0 or run.baseline is None or len(run.samples) != batches:
        tail = (stderr.strip().splitlines() or ["no output"])[-1]
        raise ScenarioError(f"{path}: node exited with code {code} before the harness finished: {tail}")
    (run_dir / "run.json").write_text(json.dumps(_run_doc(run), indent=2) + "\n")
    return run


def _run_doc(run: HarnessRun) -> dict:
    def sample(s: Sample) -> dict:
        return {"label": s.label, "total_iterations": s.total_iterations, "rss": s.rss, "heap_used": s.heap_used,
                "external": s.external, "array_buffers": s.array_buffers, "tracked": s.tracked,
                "finalized": s.finalized, "alive": s.alive, "snapshot": s.snapshot}

    return {"schema_version": 1, "kind": "heaplens.harness.run", "scenario": run.scenario, "mode": run.mode,
            "synthetic_leak": run.synthetic, "pid": run.pid, "node": run.node, "iterations": run.iterations,
            "batches": run.batches, "elapsed_s": round(run.elapsed, 3),
            "baseline": sample(run.baseline) if run.baseline else None,
            "samples": [sample(s) for s in run.samples]}


# ---- explaining a FAIL: what still holds the survivors ------------------------------------------

REFS_GLOBAL = "__heaplensTrackedRefs"


@dataclass
class FailureAnalysis:
    snapshot: str
    baseline: str
    survivors: int  # tracked objects found alive in the last snapshot
    survivor_classes: dict[str, int]
    chains: list  # heaplens.graph.paths.Aggregation, one per surviving class
    ids: object  # heaplens.compare.ids.IdDiffResult: baseline → last batch, by object id

    def lines(self) -> list[str]:
        out = [f"in {self.snapshot}: {self.survivors:,} tracked objects still reachable "
               f"({', '.join(f'{k} ×{v:,}' for k, v in self.survivor_classes.items())})"]
        for agg in self.chains:
            for c in agg.chains:
                out.append("  " + agg.sentence(c))
                out.append("    e.g. " + c.example.text())
        d = self.ids
        out.append(f"baseline → last batch by object id (same process): {d.new_total:,} new "
                   f"({d.new_size_total / 1024:,.1f} KiB), {d.freed_total:,} freed ({d.freed_size_total / 1024:,.1f} KiB)")
        if d.rows:
            out.append(f"  {'new':>9} {'new KiB':>10} {'freed':>9} {'net KiB':>10} {'retained KiB':>13}  class")
            for r in d.rows:
                out.append(f"  {r.new_count:>+9,} {r.new_size / 1024:>10.1f} {-r.freed_count:>+9,} "
                           f"{r.net_size / 1024:>+10.1f} {r.new_retained / 1024:>13.1f}  {r.name}")
        return out

    def to_json(self) -> dict:
        d = self.ids
        return {
            "snapshot": self.snapshot,
            "baseline": self.baseline,
            "survivors": self.survivors,
            "survivor_classes": self.survivor_classes,
            "retainers": [a.to_json() for a in self.chains],
            "id_diff": {
                "new_total": d.new_total, "new_size_total": d.new_size_total,
                "freed_total": d.freed_total, "freed_size_total": d.freed_size_total,
                "rows": [{"class": r.name, "new_count": r.new_count, "new_size": r.new_size,
                          "freed_count": r.freed_count, "freed_size": r.freed_size, "net_size": r.net_size,
                          "new_retained": r.new_retained} for r in d.rows],
            },
        }


def tracked_targets(g) -> np.ndarray:
    """Ordinals of the objects that the WeakRefs in ``globalThis.__heaplensTrackedRefs`` still point
    at (``g`` is a :class:`heaplens.graph.HeapGraph`)."""
    refs_name, target_name = find_string(g.snap, REFS_GLOBAL), find_string(g.snap, "target")
    if refs_name < 0 or target_name < 0:
        return np.empty(0, dtype=np.int64)
    L = g.snap.layout
    prop, elem, weak = L.edge_type_index("property"), L.edge_type_index("element"), L.edge_type_index("weak")
    etype, ename, to, first = g.etype, g.ename, g.to, g.first
    out = []
    for a in np.unique(to[(etype == prop) & (ename == refs_name)]):
        for e in range(int(first[a]), int(first[a + 1])):
            if etype[e] != elem:
                continue
            ref = int(to[e])
            for f in range(int(first[ref]), int(first[ref + 1])):
                if etype[f] == weak and ename[f] == target_name:
                    out.append(int(to[f]))
    return np.unique(np.array(out, dtype=np.int64))


def explain_failure(run: HarnessRun, top_classes: int = 3, top_growth: int = 8) -> FailureAnalysis:
    """Find the surviving tracked objects in the last snapshot and what retains them, and diff the
    baseline and the last batch by object id (both snapshots come from the same process)."""
    last = run.last.snapshot
    base = run.baseline.snapshot  # type: ignore[union-attr]
    ids = id_diff(base, last, top=top_growth, min_kb=0, keep_graph=True)
    try:
        g = ids.graph
        targets = tracked_targets(g)
        groups: dict[str, list[int]] = {}
        for t in targets:
            groups.setdefault(g.classes.of_node(int(t)), []).append(int(t))
        ranked = sorted(groups.items(), key=lambda kv: -len(kv[1]))
        chains = [aggregate(g, np.array(ts), name, top=3) for name, ts in ranked[:top_classes]]
        return FailureAnalysis(snapshot=last, baseline=base, survivors=int(len(targets)),
                               survivor_classes={k: len(v) for k, v in ranked}, chains=chains, ids=ids)
    finally:
        ids.close()


def result_document(run: HarnessRun, verdict: Verdict, analysis: FailureAnalysis | None, sensitivity, limits) -> dict:
    doc = {
        "schema_version": 1,
        "kind": "heaplens.harness",
        "verdict": "PASS" if verdict.passed else "FAIL",
        "reasons": verdict.reasons,
        "limits": limits,
        "survivors": run.survivors,
        "survivors_by_label": run.survivors_by_label(),
        "rss_growth": run.rss_growth,
        "run": _run_doc(run),
        "analysis": analysis.to_json() if analysis else None,
        "sensitivity": None,
    }
    if sensitivity is not None:
        srun, sverdict = sensitivity
        doc["sensitivity"] = {
            "planted_leak_caught": not sverdict.passed,
            "verdict": "PASS" if sverdict.passed else "FAIL",
            "reasons": sverdict.reasons,
            "run": _run_doc(srun),
        }
    return doc
