"""Every planted cause is really there — independently of heaplens's verdict.

Each scenario runs as a user runs it (its own Vitest and config) with the plant probe beside it: GC-settled
snapshots of each worker at file boundaries, and after the last one the scenario's labelled fix applied in
the worker and one more snapshot. A slow reference reader (corpus_heapref) counts the planted objects in
them: the label's counts must be exact — the planted class grows by what the suite plants, from the first
file's end to the last's (or from a file's start to its end under isolate=true), and the labelled fix (the
FIX_KIND's cleanup, applied to the labelled holder) releases them. The run's shape (files, pool, isolation,
workers) must be the labelled one, and the retained heap / external memory per file within the labelled
range. ``test_id_diff_agrees`` then checks heaplens's id diff (the fast path) against the same counts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from corpus_heapref import RefSnapshot, count_spec
from corpus_labels import LABELS

pytestmark = pytest.mark.scenarios

MiB = 1 << 20


def read(run, snapshot: str) -> dict:
    """The label's counts and the JS heap size of one snapshot (each snapshot read once)."""
    if snapshot not in run.counts:
        snap = RefSnapshot(snapshot)
        run.counts[snapshot] = {"counts": [count_spec(snap, spec) for spec in run.label["plant"]["counts"]],
                                "heap": snap.js_heap_size()}
    return run.counts[snapshot]


def counts_of(run, snapshot: str) -> list[int]:
    return read(run, snapshot)["counts"]


def heap_of(run, record: dict) -> int:
    return read(run, record["snapshot"])["heap"]


def _cmp(problems: list, what: str, got: int, want: int, at_least: bool = False) -> None:
    if (got < want) if at_least else (got != want):
        problems.append(f"{what}: {got}, labelled {'at least ' if at_least else ''}{want}")


def shape_problems(run) -> list[str]:
    label, cfg = run.label, run.label["config"]
    problems = []
    if run.files_run() != label["files"]:
        problems.append(f"files run {run.files_run()} != labelled {label['files']}")
    workers = run.workers()
    tids = {tid for _, tid in workers}
    if cfg["pool"] in ("threads", "vmThreads") and 0 in tids:
        problems.append(f"pool={cfg['pool']} but a file ran on a main thread (tids {sorted(tids)})")
    if cfg["pool"] in ("forks", "vmForks") and tids != {0}:
        problems.append(f"pool={cfg['pool']} but files ran on worker threads (tids {sorted(tids)})")
    per_worker = {w: [r["file"] for r in recs if r["phase"] == "file"] for w, recs in workers.items()}
    if cfg["isolate"]:
        shared = {w: f for w, f in per_worker.items() if len(f) > 1}
        if shared:
            problems.append(f"isolate=true but workers ran several files: {shared}")
    else:
        if len(workers) > cfg["workers"]:
            problems.append(f"{len(workers)} workers, labelled at most {cfg['workers']}")
        if cfg["workers"] == 1 and len(workers) != 1:
            problems.append(f"workers=1 but {len(workers)} workers ran files")
    return problems


def count_problems(run) -> list[str]:
    plant, problems = run.label["plant"], []
    specs = plant["counts"]
    for (pid, tid), recs in run.workers().items():
        snaps = {(r["phase"], r["ordinal"], r["file"]): r for r in recs if r["snapshot"]}
        files = [r for r in recs if r["phase"] == "file"]
        for k, spec in enumerate(specs):
            name = spec["class"] + (f" {spec['props']}" if spec.get("props") else "") + \
                (f" {spec['where']}" if spec.get("where") else "") + (f" size={spec['size']}" if spec.get("size") else "")
            at_least = bool(spec.get("at_least"))
            if plant["probe"] == "first-last":
                last = len(files)
                for phase, ordinal, key in (("end", 1, "first"), ("end", last, "last"), ("fixed", last, "fixed")):
                    if key not in spec:
                        continue
                    want = spec[key]
                    rec = next((r for (p, o, _), r in snaps.items() if p == phase and o == ordinal), None)
                    if rec is None:
                        problems.append(f"no {phase} snapshot of file #{ordinal} (pid {pid} tid {tid})")
                        continue
                    _cmp(problems, f"{name} at {key} ({rec['file']})", counts_of(run, rec["snapshot"])[k], want,
                         at_least and key != "fixed")
            elif plant["probe"] == "every":
                for rec in (r for r in recs if r["phase"] == "end"):
                    _cmp(problems, f"{name} after file #{rec['ordinal']} of pid {pid} tid {tid} ({rec['file']})",
                         counts_of(run, rec["snapshot"])[k], spec["per_file"] * rec["ordinal"], at_least)
            else:  # per-file: the start, end and fixed snapshots of each file (a fresh worker each)
                own = {s["file"] for s in specs if s.get("file") and s["class"] == spec["class"]}
                for (phase, _, file), rec in snaps.items():
                    applies = file == spec["file"] if spec.get("file") else file not in own
                    if applies and phase in spec:
                        _cmp(problems, f"{name} at {phase} of {file}", counts_of(run, rec["snapshot"])[k], spec[phase],
                             at_least and phase != "fixed")
    return problems


def growth_per_file(run, field: str) -> list[tuple[str, float]]:
    """Retained growth per file in MiB — of the JS heap (``heap``: the snapshot's self sizes but the native
    ones, RefSnapshot.js_heap_size) or of ArrayBuffer memory (``arrayBuffers``: process.memoryUsage() right
    after the snapshot's GC):
    first-last and every: (last end − first end) / (files − 1) per worker; per-file: end − start of the
    file the label's counts name (the leaking file), or of every file."""
    plant, out = run.label["plant"], []

    def value(r):
        return heap_of(run, r) if field == "heap" else r[field]

    for (pid, tid), recs in run.workers().items():
        ends = [r for r in recs if r["phase"] == "end"]
        if plant["probe"] == "per-file":
            named = {s.get("file") for s in plant["counts"]} - {None}
            starts = {r["file"]: r for r in recs if r["phase"] == "start"}
            for e in ends:
                if (not named or e["file"] in named) and e["file"] in starts:
                    out.append((e["file"], (value(e) - value(starts[e["file"]])) / MiB))
        elif len(ends) >= 2 and ends[-1]["ordinal"] > ends[0]["ordinal"]:
            out.append((f"pid {pid} tid {tid}", (value(ends[-1]) - value(ends[0])) / MiB /
                        (ends[-1]["ordinal"] - ends[0]["ordinal"])))
    return out


def range_problems(run) -> list[str]:
    problems = []
    for key, field in (("heap_per_file_mb", "heap"), ("external_per_file_mb", "arrayBuffers")):
        if key not in run.label["plant"]:
            continue
        lo, hi = run.label["plant"][key]
        got = growth_per_file(run, field)
        if not got:
            problems.append(f"{key}: no snapshot pair to measure")
        for where, mb in got:
            if not lo <= mb <= hi:
                problems.append(f"{key} ({where}): {mb:.3f} MiB/file, labelled {lo}..{hi}")
    return problems


@pytest.mark.corpus_audit
@pytest.mark.parametrize("scenario", sorted(LABELS))
def test_plant(scenario, probed):
    run = probed(LABELS[scenario])
    problems = shape_problems(run) + count_problems(run) + range_problems(run)
    assert not problems, f"{scenario} (probe run {run.seconds:.1f}s, {run.out}):\n  " + "\n  ".join(problems)


def _heaplens_id_diff(before: str, after: str) -> dict:
    cp = subprocess.run([sys.executable, "-m", "heaplens", "diff", "--ids", before, after, "--format", "json",
                         "--top", "1000000", "--min-kb", "0", "--no-progress"], capture_output=True, text=True,
                        timeout=600)
    assert cp.returncode == 0, cp.stderr[-3000:]
    return {row["class"]: row for row in json.loads(cp.stdout)["rows"]}


ID_DIFF_CASES = [(name, k) for name, label in sorted(LABELS.items()) if label["plant"]["probe"] == "first-last"
                 for k, spec in enumerate(label["plant"]["counts"])
                 if spec.get("type", "object") == "object" and not spec.get("props") and not spec.get("where")
                 and not spec.get("at_least") and "first" in spec and "last" in spec]


@pytest.mark.corpus_audit
@pytest.mark.parametrize("scenario", sorted({name for name, _ in ID_DIFF_CASES}))
def test_id_diff_agrees(scenario, probed):
    """heaplens's id diff of the first and last snapshot (its fast path: ids, DevTools classes) gives each
    planted class the net count the reference reader counted."""
    run = probed(LABELS[scenario])
    (worker, recs), = run.workers().items()
    ends = [r for r in recs if r["phase"] == "end"]
    rows = _heaplens_id_diff(ends[0]["snapshot"], ends[-1]["snapshot"])
    for name, k in ID_DIFF_CASES:
        if name != scenario:
            continue
        spec = run.label["plant"]["counts"][k]
        want = counts_of(run, ends[-1]["snapshot"])[k] - counts_of(run, ends[0]["snapshot"])[k]
        row = rows.get(spec["class"])
        got = row["net_count"] if row else 0
        assert got == want, f"{scenario}: heaplens diff --ids {spec['class']} net {got}, reference {want} ({row})"


def test_reference_reader_on_a_known_plant(planted_pair):
    """The reference reader's counts on snapshots with a known plant (tests/js/plant.mjs: 5,000 PlantedLeak,
    each with a PlantedPayload and a closure, kept between the two)."""
    before, after = (RefSnapshot(p) for p in planted_pair)
    assert (before.count("PlantedLeak"), after.count("PlantedLeak")) == (0, 5000)
    assert after.count("PlantedPayload") == 5000
    assert after.count("PlantedLeak", props=["payload", "touch"]) == 5000  # `id` is a small integer: no edge
    assert after.count("PlantedLeak", props=["payload"]) == 0  # the exact set of property edges
    assert after.count("PlantedLeak", type="closure") == 1  # the class itself: objects are counted by type
    assert after.js_heap_size() - before.js_heap_size() > 5000 * 3 * 16
